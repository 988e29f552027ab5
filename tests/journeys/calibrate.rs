//! `lawcert calibrate`: the real binary calibrates the committed reference data set
//! (tests/fixtures/rasch) without a database, as a table and as JSON, and refuses bad files
//! with the line at fault and exit code 2.

use std::process::Command;

use crate::common::repo_root;

fn calibrate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lawcert"))
        .arg("calibrate")
        .args(args)
        .env("DATABASE_URL", "/nonexistent/not-used.db")
        .output()
        .expect("run lawcert");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn fixture(name: &str) -> String {
    repo_root().join("tests/fixtures/rasch").join(name).display().to_string()
}

#[test]
fn calibrate_prints_items_persons_and_fit_for_a_csv_file() {
    let (code, out, err) = calibrate(&[&fixture("responses.csv")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("500 persons, 30 items, 10000 responses"), "{out}");
    assert!(out.contains("(L-1)/L = 0.9500 with L = 20.0"), "{out}");
    // one line per item in label order, then one per person
    let item_lines: Vec<&str> = out.lines().filter(|l| l.starts_with('I')).collect();
    assert_eq!(item_lines.len(), 30);
    assert!(item_lines[0].starts_with("I01 ") && item_lines[29].starts_with("I30 "), "{item_lines:?}");
    assert_eq!(out.lines().filter(|l| l.starts_with('P')).count(), 500);
    // the three persons with full marks are reported as such
    assert_eq!(out.lines().filter(|l| l.starts_with('P') && l.ends_with("all correct")).count(), 3, "{out}");

    let (code, out, err) = calibrate(&[&fixture("responses.csv"), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let items = v["items"].as_array().unwrap();
    assert_eq!((items.len(), v["persons"].as_array().unwrap().len()), (30, 500));
    // the same difficulties as eRm's within the JML–CML difference (see the domain test)
    let mut erm = csv::Reader::from_path(fixture("erm_items.csv")).unwrap();
    for row in erm.records() {
        let row = row.unwrap();
        let ours = items.iter().find(|i| i["item"] == row[0]).unwrap();
        let d: f64 = row[1].trim().parse().unwrap();
        assert!((ours["difficulty"].as_f64().unwrap() - d).abs() < 0.05, "{ours} vs eRm {d}");
        assert!(ours["se"].as_f64().unwrap() > 0.1 && ours["fit"]["infit"].as_f64().unwrap() > 0.5, "{ours}");
        assert!(ours["count"].as_u64().unwrap() > 300, "{ours}");
    }
}

#[test]
fn calibrate_anchors_and_flags_levels() {
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors.csv");
    std::fs::write(&anchors, "item,difficulty\nI01,-1.5\nI30,2.5\n").unwrap();
    let (code, out, err) = calibrate(&[&fixture("responses.csv"), "--json", "--anchors", anchors.to_str().unwrap(), "--target", "1.5"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let item = |name: &str| v["items"].as_array().unwrap().iter().find(|i| i["item"] == name).unwrap().clone();
    assert_eq!(item("I01")["difficulty"], -1.5);
    assert_eq!(item("I01")["anchored"], true);
    assert_eq!(item("I30")["difficulty"], 2.5);
    assert!(item("I30")["displacement"].as_f64().is_some());
    // far below the target ability of 1.5: too easy
    assert!(item("I02")["flags"].as_array().unwrap().contains(&"too_easy".into()), "{}", item("I02"));
    // an anchor naming an item the data do not have is refused
    std::fs::write(&anchors, "item,difficulty\nI99,0\n").unwrap();
    let (code, _, err) = calibrate(&[&fixture("responses.csv"), "--anchors", anchors.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 2: item \"I99\" has no responses"), "{err}");
}

#[test]
fn calibrate_refuses_bad_files_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("person,item\np,i\n", "line 1: no \"score\" column"),
        ("person,item,score\np1,i1,1\np1,i2,1.5\n", "line 3: score \"1.5\" is not a number from 0 to 1"),
        ("person,item,score\np1,i1,1\np1,i2\n", "line 3: 2 field(s) where the header has 3"),
        ("person,item,score\np1,i1,1\np2,i1,yes\n", "line 3: score \"yes\""),
        ("person,item,score\np1,i1,1\np1,i1,0\n", "line 3: person \"p1\" already answered item \"i1\" on line 2"),
        ("person,item,score\na,x,1\na,y,0\nb,x,0\nb,y,1\nc,z,1\nc,w,0\nd,z,0\nd,w,1\n", "2 groups with no person in common"),
        ("person,item,score\np1,i1,1\np1,i2,1\np2,i1,1\n", "every person or every item has an extreme score"),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("bad{k}.csv"));
        std::fs::write(&f, text).unwrap();
        let (code, out, err) = calibrate(&[f.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}: {out}{err}");
        assert!(err.contains(want) && err.contains(&format!("bad{k}.csv")), "{text}: {err}");
        assert!(out.is_empty(), "nothing printed for a bad file: {out}");
    }
    let (code, _, err) = calibrate(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("<FILE|--simulate <PERSONS> <POOL> <PAPER>>"), "a file or a simulation is asked for: {err}");
    let (code, _, err) = calibrate(&[&dir.path().join("missing.csv").display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn calibrate_simulates_and_recovers() {
    let (code, out, err) = calibrate(&["--simulate", "300", "60", "30", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["responses"], 9000);
    assert!(v["item_rmse"].as_f64().unwrap() < 0.35, "{v}");
}
