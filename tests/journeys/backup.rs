//! `lawcert backup` takes a consistent copy of a live SQLite database; `lawcert restore` brings
//! it back, checked, keeping what it replaces.

use crate::common::repo_root;

#[test]
fn a_backup_restores_the_data_it_was_taken_with() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let run = |args: &[&str]| crate::common::run_cli(&db, args);
    let sample = |name: &str| repo_root().join("questions/samples").join(name).display().to_string();
    let (code, out) = run(&["bank", "import", &sample("gift-sample.gift")]);
    assert_eq!(code, 0, "{out}");
    let backup = dir.path().join("b1.db");
    let b = backup.display().to_string();
    let (code, out) = run(&["backup", &b]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked") && out.contains("audit entries"), "{out}");
    let (code, out) = run(&["backup", &b]);
    assert_eq!(code, 2);
    assert!(out.contains("exists"), "never overwrites: {out}");

    // more work after the backup …
    let (code, _) = run(&["bank", "import", &sample("aiken-sample.txt")]);
    assert_eq!(code, 0);
    // … a bad file is refused and changes nothing
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let (code, out) = run(&["restore", &junk.display().to_string()]);
    assert_eq!(code, 2);
    assert!(out.contains("not a SQLite database") || out.contains("damaged") || out.contains("file is not a database"), "{out}");
    let (_, out) = run(&["bank", "import", &sample("aiken-sample.txt"), "--dry-run"]);
    assert!(out.contains("0 new, 0 new versions, 2 unchanged"), "still the live data: {out}");

    // restoring the backup brings back exactly its state, and keeps the replaced file
    let (code, out) = run(&["restore", &b]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("kept as"), "{out}");
    let (_, out) = run(&["bank", "import", &sample("aiken-sample.txt"), "--dry-run"]);
    assert!(out.contains("2 new"), "the import after the backup is gone: {out}");
    let (_, out) = run(&["bank", "import", &sample("gift-sample.gift"), "--dry-run"]);
    assert!(out.contains("0 new, 0 new versions, 3 unchanged"), "the import before it is there: {out}");
    let (code, out) = run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
}
