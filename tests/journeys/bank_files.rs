//! The shipped banks load idempotently; a broken file is refused with its line and changes
//! nothing.

use lawcert::clock::Clock;
use lawcert::db::models::bank as bank_db;
use lawcert::domain::ids::AuditId;
use lawcert::services::bank_sync;

use crate::common::{repo_root, TestApp};

#[test]
fn shipped_banks_pass_the_checker_with_enough_questions() {
    let bank = lawcert::domain::bank::load_dir(&repo_root().join("questions")).expect("shipped banks are valid");
    let summary = bank.summary();
    assert!(summary.questions >= 60);
    let statutes: Vec<&str> = summary.statutes.iter().filter(|s| s.questions >= 20).map(|s| s.statute.as_str()).collect();
    assert!(statutes.len() >= 3, "{statutes:?}");
    for kind in ["single", "multiple", "truefalse"] {
        assert!(summary.statutes.iter().any(|s| s.by_type.get(kind).copied().unwrap_or(0) > 0), "no {kind}");
    }
    // the 治安管理处罚法 bank was rewritten against the 2025 edition: nothing on a superseded one
    let za = summary.statutes.iter().find(|s| s.statute == "public-security-penalties").unwrap();
    assert_eq!(za.superseded, 0);
    assert!(za.questions >= 150, "{}", za.questions);
    let cl = summary.statutes.iter().find(|s| s.statute == "criminal-law").unwrap();
    assert_eq!(cl.superseded, 0);
}

#[test]
fn loading_again_changes_nothing_and_an_edit_makes_a_new_version() {
    let app = TestApp::new();
    let mut conn = app.conn();
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(repo_root().join("questions")).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        }
    }
    let bank = lawcert::domain::bank::load_dir(dir.path()).unwrap();
    let report = bank_sync::sync(&mut conn, &bank, Clock::default().now()).unwrap();
    assert_eq!((report.added, report.updated), (0, 0), "already loaded at start");

    let path = dir.path().join("criminal-law.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let q = bank_db::find_by_code(&mut conn, "XF-0001").unwrap().unwrap();
    let v1 = bank_db::version(&mut conn, q.id, q.live_version.unwrap()).unwrap().unwrap();
    let edited = text.replacen(&format!("stem = \"{}\"", v1.stem), &format!("stem = \"{}（修订）\"", v1.stem), 1);
    assert_ne!(edited, text, "test must change XF-0001's stem");
    std::fs::write(&path, edited).unwrap();
    let bank = lawcert::domain::bank::load_dir(dir.path()).unwrap();
    let report = bank_sync::sync(&mut conn, &bank, Clock::default().now()).unwrap();
    assert_eq!(report.updated, 1);
    let q2 = bank_db::find_by_code(&mut conn, "XF-0001").unwrap().unwrap();
    assert_eq!(q2.live_version, Some(q.live_version.unwrap() + 1));
    assert!(bank_db::version(&mut conn, q.id, 1).unwrap().is_some(), "old version kept");
}

#[test]
fn a_broken_file_is_refused_with_file_and_line_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo_root().join("questions/statutes.toml"), dir.path().join("statutes.toml")).unwrap();
    let good = r#"statute = "criminal-law"
edition = "2023-12-29"

[[question]]
id = "T-1"
type = "single"
articles = ["20"]
difficulty = 1
levels = ["basic"]
stem = "新题"
options = ["甲", "乙"]
answer = "A"
explanation = "因为"
"#;
    std::fs::write(dir.path().join("a.toml"), good).unwrap();
    std::fs::write(dir.path().join("b.toml"), good.replace("T-1", "T-2").replace("answer = \"A\"", "answer = \"C\"")).unwrap();
    let errs = lawcert::domain::bank::load_dir(dir.path()).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].to_string().ends_with("b.toml:4: T-2: answer key C is not among the options (AB)"), "{}", errs[0]);
    // the server refuses to start on it, and the database keeps what it had
    let app = TestApp::new();
    let before = bank_db::count_by_status(&mut app.conn()).unwrap();
    let url = app.db_url.clone();
    let d = dir.path().display().to_string();
    let cfg = lawcert::config::Config::from_lookup(move |k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "LAWCERT_QUESTIONS" => Some(d.clone()),
        _ => None,
    })
    .unwrap();
    let err = lawcert::prepare(&cfg, &Clock::default()).expect_err("refused").to_string();
    assert!(err.contains("b.toml:4"), "{err}");
    assert_eq!(bank_db::count_by_status(&mut app.conn()).unwrap(), before);
}

/// The version ids of `code` that a new sitting's pool could draw.
fn in_pool(conn: &mut lawcert::db::DbConn, code: &str, now: lawcert::db::models::Ts) -> bool {
    let q = bank_db::find_by_code(conn, code).unwrap().unwrap();
    let versions: Vec<i64> = bank_db::versions_of(conn, q.id).unwrap().iter().map(|v| v.id.0).collect();
    lawcert::services::exams::pool_candidates(conn, now).unwrap().iter().any(|c| versions.contains(&c.version_id.0))
}

#[test]
fn a_question_the_file_retires_is_retired_once_and_a_trainers_decision_is_kept() {
    let app = TestApp::new();
    let mut conn = app.conn();
    let now = app.clock.now();
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(repo_root().join("questions")).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.path().join("criminal-law.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let retired = text.replacen("id = \"XF-0001\"\n", "id = \"XF-0001\"\nstatus = \"retired\"\n", 1);
    assert_ne!(retired, text);
    std::fs::write(&path, &retired).unwrap();
    assert!(in_pool(&mut conn, "XF-0001", now));
    let before = bank_db::find_by_code(&mut conn, "XF-0001").unwrap().unwrap();

    let bank = lawcert::domain::bank::load_dir(dir.path()).unwrap();
    let summary = bank.summary();
    assert_eq!(summary.statutes.iter().find(|s| s.statute == "criminal-law").unwrap().retired, 1);
    let report = bank_sync::sync(&mut conn, &bank, now).unwrap();
    assert_eq!(report.updated, 1);
    let q = bank_db::find_by_code(&mut conn, "XF-0001").unwrap().unwrap();
    assert_eq!(q.status, lawcert::domain::lifecycle::Status::Retired);
    assert_eq!(q.latest_version, before.latest_version, "the text did not change: no new version");
    assert!(!in_pool(&mut conn, "XF-0001", now), "not drawn, not practised");
    let log = lawcert::db::models::audit::page(&mut conn, AuditId(0), 10_000).unwrap();
    assert!(log.iter().any(|e| e.action == "question.retire" && e.subject == "question:XF-0001"));
    // the next start changes nothing
    let report = bank_sync::sync(&mut conn, &bank, now).unwrap();
    assert_eq!((report.added, report.updated), (0, 0));

    // a trainer reinstates it in the site: the unchanged file does not retire it again
    let t = lawcert::db::models::org::find_by_badge(&mut conn, "T0001").unwrap().unwrap().id;
    lawcert::services::bank_review::transition(&mut conn, lawcert::domain::lifecycle::Action::Reinstate, q.id, q.revision, t, now).unwrap();
    bank_sync::sync(&mut conn, &bank, now).unwrap();
    assert_eq!(bank_db::find_by_code(&mut conn, "XF-0001").unwrap().unwrap().status, lawcert::domain::lifecycle::Status::Reviewed);

    // a question new to the database arrives retired; a file that withdraws its retirement
    // brings it back into use
    let fresh = retired.replacen("id = \"XF-0002\"\n", "id = \"XF-NEW-1\"\nstatus = \"retired\"\n", 1);
    std::fs::write(&path, &fresh).unwrap();
    let bank = lawcert::domain::bank::load_dir(dir.path()).unwrap();
    let report = bank_sync::sync(&mut conn, &bank, now).unwrap();
    assert_eq!(report.added, 1);
    assert_eq!(bank_db::find_by_code(&mut conn, "XF-NEW-1").unwrap().unwrap().status, lawcert::domain::lifecycle::Status::Retired);
    std::fs::write(&path, fresh.replacen("id = \"XF-NEW-1\"\nstatus = \"retired\"\n", "id = \"XF-NEW-1\"\n", 1)).unwrap();
    let bank = lawcert::domain::bank::load_dir(dir.path()).unwrap();
    bank_sync::sync(&mut conn, &bank, now).unwrap();
    assert_eq!(bank_db::find_by_code(&mut conn, "XF-NEW-1").unwrap().unwrap().status, lawcert::domain::lifecycle::Status::Active);
    assert!(in_pool(&mut conn, "XF-NEW-1", now));
}

#[test]
fn bank_check_reports_the_cues_and_fails_on_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo_root().join("questions/statutes.toml"), dir.path().join("statutes.toml")).unwrap();
    let question = |id: &str, stem: &str, options: &str, answer: &str| {
        format!("[[question]]\nid = \"{id}\"\ntype = \"single\"\narticles = [\"20\"]\ndifficulty = 1\nlevels = [\"basic\"]\nstem = \"{stem}\"\noptions = [{options}]\nanswer = \"{answer}\"\nexplanation = \"因为\"\n\n")
    };
    let head = "statute = \"criminal-law\"\nedition = \"2023-12-29\"\n\n";
    let a = format!(
        "{head}{}{}{}",
        question("T-1", "甲为制止正在进行的抢劫而致劫匪轻伤，甲的行为属于", "\"正当防卫\", \"防卫过当\", \"紧急避险\", \"故意伤害\"", "A"),
        question(
            "T-2",
            "正当防卫明显超过必要限度造成重大损害的，应当",
            "\"负刑事责任，但应当减轻或者免除处罚\", \"不负刑事责任\", \"从重处罚\", \"一律免除处罚\"",
            "A"
        ),
        question("T-3", "下列“不属于”紧急避险成立条件的是", "\"危险正在发生\", \"不得已\", \"不超过必要限度\", \"行为人是成年人\"", "D")
    );
    std::fs::write(dir.path().join("a.toml"), &a).unwrap();
    let db = dir.path().join("unused.db");
    let d = dir.path().display().to_string();
    let (code, out) = crate::common::run_cli(&db, &["bank", "check", &d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("item-writing check over the 3 questions in use") && out.contains("duplicates: none"), "{out}");
    assert!(out.contains("a.toml") && out.contains("cue-only vs chance"), "{out}");
    assert!(out.contains("no figure past its limit"), "too few questions to judge a rate: {out}");
    // the same question in another file, options reordered
    let b = format!(
        "{head}{}",
        question(
            "T-9",
            "甲为制止正在进行的抢劫而致劫匪轻伤，甲的行为属于：",
            "\"防卫过当\", \"正当防卫\", \"紧急避险\", \"故意伤害\"",
            "B"
        )
    );
    std::fs::write(dir.path().join("b.toml"), b).unwrap();
    let (code, out) = crate::common::run_cli(&db, &["bank", "check", &d]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("T-1 (a.toml) ~ T-9 (b.toml): reordered") && out.contains("item-writing check FAILED"), "{out}");
    let (code, out) = crate::common::run_cli(&db, &["bank", "check", &d, "--json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["lint"]["duplicates"][0]["kind"], "reordered");
    assert_eq!(json["lint"]["overall"]["questions"], 4);
    assert_eq!(json["lint"]["cues"]["T-2"], serde_json::json!(["longest_key", "absolute_distractor"]));
}
