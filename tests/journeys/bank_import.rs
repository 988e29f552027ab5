//! Trainers import their files (Excel, Moodle XML, GIFT, Aiken, lawcert TOML): a preview lists
//! every entry and error, the commit is all or nothing, re-importing changes nothing; exports
//! round-trip; the command line does the same.

use rocket::http::{ContentType, Status};

use crate::common::{repo_root, TestApp};

fn upload(app: &TestApp, csrf: &str, name: &str, bytes: &[u8], extra: &[(&str, &str)]) -> (Status, String, Option<String>) {
    let boundary = "LAWCERTBOUNDARY7f3a";
    let mut body: Vec<u8> = Vec::new();
    let mut field = |k: &str, v: &str| {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    };
    field("_csrf", csrf);
    field("format", "auto");
    for (k, v) in extra {
        field(k, v);
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app.client.post("/bank/import").header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary))).body(body).dispatch();
    let loc = r.headers().get_one("Location").map(str::to_string);
    (r.status(), r.into_string().unwrap_or_default(), loc)
}

fn get(app: &TestApp, path: &str) -> String {
    let r = app.client.get(path.to_string()).dispatch();
    assert_eq!(r.status(), Status::Ok, "{path}");
    r.into_string().unwrap()
}

fn commit(app: &TestApp, csrf: &str, preview: &str) -> Status {
    app.client.post(format!("{preview}/commit")).header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch().status()
}

fn counts(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use lawcert::db::schema::{question_versions, questions};
    let mut c = app.conn();
    (questions::table.count().get_result(&mut c).unwrap(), question_versions::table.count().get_result(&mut c).unwrap())
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("questions/samples").join(name)).unwrap()
}

/// Imports `bytes` through the pages and checks: preview first, then commit; the same file again
/// changes nothing. Returns the codes of the imported questions' status.
fn import_twice(app: &TestApp, csrf: &str, name: &str, bytes: &[u8], expect_new: usize) {
    let before = counts(app);
    let (s, body, loc) = upload(app, csrf, name, bytes, &[]);
    assert_eq!(s, Status::SeeOther, "{name}: {body}");
    let preview = loc.unwrap();
    let html = get(app, &preview);
    assert!(html.contains(&format!("新题 {expect_new} 道")), "{name}: {html}");
    assert_eq!(counts(app), before, "{name}: a preview writes no question");
    assert_eq!(commit(app, csrf, &preview), Status::SeeOther);
    let after = counts(app);
    assert_eq!(after.0 - before.0, expect_new as i64, "{name}: committed");
    let html = get(app, &preview);
    assert!(html.contains("已于"), "{name}: the preview says it was imported");
    // the same file again: every entry unchanged, committing writes nothing
    let (_, _, loc) = upload(app, csrf, name, bytes, &[]);
    let again = loc.unwrap();
    let html = get(app, &again);
    assert!(html.contains(&format!("新题 0 道，新版本 0 道，无变化 {expect_new} 道")), "{name}: {html}");
    assert_eq!(commit(app, csrf, &again), Status::SeeOther);
    assert_eq!(counts(app), after, "{name}: re-importing changes nothing");
}

#[test]
fn each_format_imports_with_a_preview_and_again_changes_nothing() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let template = get(&app, "/bank/import");
    assert!(template.contains("/bank/import/template.xlsx"));
    import_twice(&app, &csrf, "gift-sample.gift", &sample("gift-sample.gift"), 3);
    import_twice(&app, &csrf, "aiken-sample.txt", &sample("aiken-sample.txt"), 2);
    import_twice(&app, &csrf, "moodle-sample.xml", &sample("moodle-sample.xml"), 2);
    // the shipped Excel template's example rows
    import_twice(&app, &csrf, "template.xlsx", &std::fs::read(repo_root().join("questions/import-template.xlsx")).unwrap(), 3);

    let mut c = app.conn();
    let q = lawcert::db::models::bank::find_by_code(&mut c, "SAMPLE-AIKEN-2").unwrap().expect("imported with its own id");
    assert_eq!(q.status, "draft", "imported questions wait for review");
    assert_eq!(q.kind, "multiple", "ANSWER: A,C reads as multiple choice");
    let v = lawcert::db::models::bank::version(&mut c, q.id, q.latest_version).unwrap().unwrap();
    assert_eq!(v.created_by, Some(lawcert::db::models::org::find_by_badge(&mut c, "T0001").unwrap().unwrap().id));
    // the Moodle essay is listed as unsupported, not dropped silently
    let (_, _, loc) = upload(&app, &csrf, "moodle-sample.xml", &sample("moodle-sample.xml"), &[]);
    let html = get(&app, &loc.unwrap());
    assert!(html.contains("不支持的题型") && html.contains("essay") && html.contains("论述：行政处罚的原则"), "{html}");
    // and the import is in the audit log
    let log = lawcert::db::models::audit::page(&mut c, 0, 1000).unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "bank.import").count(), 8);
}

#[test]
fn broken_files_are_refused_with_their_line_and_change_nothing() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let before = counts(&app);
    let gift = "// lawcert: statute=criminal-law; articles=20; difficulty=1; levels=basic\n::G-OK::正当防卫不负刑事责任。{T####刑法第二十条。}\n\n// lawcert: statute=criminal-law; difficulty=1; levels=basic\n::G-BAD::没有条文的题。{=甲 ~乙 ####解析}\n";
    let aiken = "题干一\nA. 甲\nB. 乙\nANSWER: C\nSTATUTE: criminal-law\nARTICLES: 20\nEXPLANATION: 解析\n";
    let moodle = "<quiz><question type=\"multichoice\"><name><text>M-1</text></name><questiontext><text>题</text></questiontext>\n<answer fraction=\"100\"><text>甲</text></quiz>";
    for (name, bytes, expect) in [
        ("bad.gift", gift.as_bytes(), "line 5"),
        ("bad.txt", aiken.as_bytes(), "line 1"),
        ("bad.xml", moodle.as_bytes(), "line 2"),
        ("bad.xlsx", b"PK\x03\x04 not really a zip".as_slice(), "xlsx"),
    ] {
        let (s, body, loc) = upload(&app, &csrf, name, bytes, &[]);
        assert_eq!(s, Status::SeeOther, "{name}: {body}");
        let preview = loc.unwrap();
        let html = get(&app, &preview);
        assert!(html.contains("处错误"), "{name}: errors reported: {html}");
        assert!(html.to_lowercase().contains(expect), "{name}: the place is named ({expect}): {html}");
        assert!(!html.contains("确认导入"), "{name}: no commit button");
        assert_eq!(commit(&app, &csrf, &preview), Status::UnprocessableEntity, "{name}: commit refused");
    }
    assert_eq!(counts(&app), before, "nothing was written");
    // the GIFT error is the missing citation, and the good question in the same file was not kept
    let mut c = app.conn();
    assert!(lawcert::db::models::bank::find_by_code(&mut c, "G-OK").unwrap().is_none(), "all or nothing");
}

#[test]
fn hostile_markup_never_reaches_a_page_and_uploads_are_checked() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let moodle = r#"<quiz><question type="truefalse"><name><text>XSS-1</text></name>
<questiontext format="html"><text><![CDATA[<p>正当防卫<script>alert(1)</script>不负刑事责任<img src=x onerror=alert(2)></p>]]></text></questiontext>
<generalfeedback format="html"><text><![CDATA[<a href="javascript:alert(3)">刑法第二十条</a>]]></text></generalfeedback>
<answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
<tags><tag><text>statute:criminal-law</text></tag><tag><text>article:20</text></tag><tag><text>difficulty:1</text></tag><tag><text>level:basic</text></tag></tags>
</question></quiz>"#;
    let (_, _, loc) = upload(&app, &csrf, "xss.xml", moodle.as_bytes(), &[]);
    let preview = loc.unwrap();
    assert_eq!(commit(&app, &csrf, &preview), Status::SeeOther);
    let mut c = app.conn();
    let q = lawcert::db::models::bank::find_by_code(&mut c, "XSS-1").unwrap().unwrap();
    let v = lawcert::db::models::bank::version(&mut c, q.id, 1).unwrap().unwrap();
    assert_eq!(v.stem, "正当防卫不负刑事责任");
    assert!(!v.explanation.contains("javascript") && v.explanation.contains("刑法第二十条"), "{}", v.explanation);
    let html = get(&app, &format!("/bank/{}", q.id));
    assert!(!html.contains("<script>alert") && !html.contains("onerror"));
    // the format comes from the extension; an unknown one is refused by name
    let (s, html, _) = upload(&app, &csrf, "questions.pdf", b"%PDF-1.4", &[]);
    assert_eq!(s, Status::Ok);
    assert!(html.contains("cannot tell the format of &quot;questions.pdf&quot;"), "{html}");
    // another trainer cannot see or commit someone else's upload
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    let csrf2 = app.login_page("T0002");
    assert_eq!(app.client.get(preview.clone()).dispatch().status(), Status::Forbidden);
    assert_eq!(commit(&app, &csrf2, &preview), Status::Forbidden);
}

#[test]
fn exports_import_back_unchanged() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    for format in ["xlsx", "moodle", "lawcert"] {
        let r = app.client.get(format!("/bank/export?format={format}&statute=criminal-procedure-law")).dispatch();
        assert_eq!(r.status(), Status::Ok, "{format}");
        let disposition = r.headers().get_one("Content-Disposition").unwrap().to_string();
        let name = disposition.split("filename=\"").nth(1).unwrap().trim_end_matches('"').to_string();
        let bytes = r.into_bytes().unwrap();
        let before = counts(&app);
        let (_, _, loc) = upload(&app, &csrf, &name, &bytes, &[]);
        let html = get(&app, &loc.unwrap());
        assert!(html.contains("新题 0 道，新版本 0 道"), "{format}: an export of the bank is the bank: {html}");
        assert!(!html.contains("处错误"), "{format}: {html}");
        assert_eq!(counts(&app), before);
    }
}

#[test]
fn the_command_line_imports_all_or_nothing_with_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| crate::common::run_cli(&db, args);
    let gift = repo_root().join("questions/samples/gift-sample.gift");
    let gift = gift.to_str().unwrap();
    let (code, out) = run(&["bank", "import", gift, "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 new") && out.contains("dry run: nothing imported"), "{out}");
    let (code, out) = run(&["bank", "import", gift]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported: 3 new"), "{out}");
    let (code, out) = run(&["bank", "import", gift]);
    assert_eq!(code, 0);
    assert!(out.contains("0 new, 0 new versions, 3 unchanged"), "{out}");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "题干\nA. 甲\nB. 乙\nANSWER: Z\n").unwrap();
    let (code, out) = run(&["bank", "import", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line") && out.contains("nothing imported"), "{out}");
    let (code, out) = run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit log intact: 2 entries verified"), "{out}");
}
