//! Trainers import their files (Excel, Moodle XML, GIFT, Aiken, lawcert TOML): a preview lists
//! every entry and error, the commit is all or nothing, re-importing changes nothing; exports
//! round-trip; the command line does the same.

use lawcert::domain::ids::AuditId;
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
    let r = app
        .client
        .post("/bank/import")
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary)))
        .body(body)
        .dispatch();
    let loc = r.headers().get_one("Location").map(str::to_string);
    (r.status(), r.into_string().unwrap_or_default(), loc)
}

fn get(app: &TestApp, path: &str) -> String {
    let r = app.client.get(path.to_string()).dispatch();
    assert_eq!(r.status(), Status::Ok, "{path}");
    r.into_string().unwrap()
}

/// Commits a previewed upload: the commit is queued as a background job and the page moves to
/// it; this waits until the worker has run it and checks it is done.
fn commit(app: &TestApp, csrf: &str, preview: &str) -> Status {
    let r = app.client.post(format!("{preview}/commit")).header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    let status = r.status();
    if let Some(job) = r.headers().get_one("Location").and_then(|l| l.strip_prefix("/jobs/")) {
        let j = crate::common::wait_job(&mut app.conn(), job.parse().unwrap());
        assert_eq!(j.state, lawcert::domain::jobs::JobState::Done, "{preview}: {:?}", j.errors);
    }
    status
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
    assert_eq!(q.status, lawcert::domain::lifecycle::Status::Draft, "imported questions wait for review");
    assert_eq!(q.kind, lawcert::domain::bank::QuestionKind::Multiple, "ANSWER: A,C reads as multiple choice");
    let v = lawcert::db::models::bank::version(&mut c, q.id, q.latest_version).unwrap().unwrap();
    assert_eq!(v.created_by, Some(lawcert::db::models::org::find_by_badge(&mut c, "T0001").unwrap().unwrap().id));
    // the Moodle essay is listed as unsupported, not dropped silently
    let (_, _, loc) = upload(&app, &csrf, "moodle-sample.xml", &sample("moodle-sample.xml"), &[]);
    let html = get(&app, &loc.unwrap());
    assert!(html.contains("不支持的题型") && html.contains("essay") && html.contains("论述：行政处罚的原则"), "{html}");
    // and the import is in the audit log
    let log = lawcert::db::models::audit::page(&mut c, AuditId(0), 1000).unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "bank.import").count(), 8);
}

#[test]
fn broken_files_are_refused_with_their_line_and_change_nothing() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let before = counts(&app);
    let gift = "// lawcert: statute=criminal-law; articles=20; difficulty=1; levels=basic\n::G-OK::正当防卫不负刑事责任。{T####刑法第二十条。}\n\n// lawcert: statute=no-such-law; articles=1; difficulty=1; levels=basic\n::G-BAD::未知法律的题。{=甲 ~乙 ####解析}\n";
    let aiken = "题干一\nA. 甲\nB. 乙\nANSWER: C\nSTATUTE: criminal-law\nARTICLES: 20\nEXPLANATION: 解析\n";
    let moodle = "<quiz><question type=\"multichoice\"><name><text>M-1</text></name><questiontext><text>题</text></questiontext>\n<answer fraction=\"100\"><text>甲</text></quiz>";
    for (name, bytes, expect) in [
        ("bad.gift", gift.as_bytes(), "第 5 行"),
        ("bad.txt", aiken.as_bytes(), "第 1 行"),
        ("bad.xml", moodle.as_bytes(), "第 2 行"),
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
    // the GIFT error is the unknown statute, and the good question in the same file was not kept
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
    assert!(html.contains("无法判断“questions.pdf”的格式"), "{html}");
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

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/journeys/fixtures").join(name)).unwrap()
}

/// The questions an import of `file_name` created, oldest first.
fn imported(app: &TestApp, file_name: &str) -> Vec<lawcert::db::models::bank::Question> {
    use diesel::prelude::*;
    use lawcert::db::schema::questions;
    let mut c = app.conn();
    questions::table
        .filter(questions::origin.eq(format!("import:{file_name}")))
        .order(questions::id)
        .select(lawcert::db::models::bank::Question::as_select())
        .load(&mut c)
        .unwrap()
}

#[test]
fn plain_trainer_files_import_as_incomplete_drafts_that_wait_for_citation_and_explanation() {
    use crate::common::enc;
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let moodle = fixture("moodle-plain.xml");
    // Moodle's own kind of file, no lawcert tags, and no statute chosen: a clear error on each
    // entry, nothing can be imported
    let (_, _, loc) = upload(&app, &csrf, "moodle-plain.xml", &moodle, &[]);
    let html = get(&app, &loc.unwrap());
    assert!(html.contains("缺少法律：文件中没有写明，导入时也没有选择默认法律"), "{html}");
    assert!(!html.contains("确认导入"), "{html}");
    // with the form's statute, difficulty and levels, they import as incomplete drafts
    let form = [("statute", "administrative-penalty-law"), ("difficulty", "2"), ("levels", "basic")];
    let (_, _, loc) = upload(&app, &csrf, "moodle-plain.xml", &moodle, &form);
    let preview = loc.unwrap();
    let html = get(&app, &preview);
    assert!(html.contains("新题 3 道") && html.contains("待补全 3 道"), "{html}");
    assert!(
        html.contains("不支持的题型") && html.contains("shortanswer") && html.contains("essay") && html.contains("description"),
        "{html}"
    );
    assert!(html.contains("待补全：条文、解析") && html.contains("待补全：条文"), "{html}");
    assert!(html.contains("题目写法检查") && html.contains("只凭措辞答题的得分"), "the item-writing report: {html}");
    assert!(html.contains("确认导入"), "{html}");
    assert_eq!(commit(&app, &csrf, &preview), Status::SeeOther);
    let qs = imported(&app, "moodle-plain.xml");
    assert_eq!(qs.len(), 3);
    let mut c = app.conn();
    for q in &qs {
        assert_eq!(q.status, lawcert::domain::lifecycle::Status::Draft);
        let v = lawcert::db::models::bank::version(&mut c, q.id, q.latest_version).unwrap().unwrap();
        assert_eq!(v.statute_code, "administrative-penalty-law");
        assert!(v.missing_for_review().contains(&"articles"), "{v:?}");
    }
    let single = &qs[0];
    let v = lawcert::db::models::bank::version(&mut c, single.id, 1).unwrap().unwrap();
    assert_eq!(v.missing_for_review(), vec!["articles", "explanation"]);
    assert_eq!(v.options_vec(), vec!["通报批评", "拘役", "管制", "剥夺政治权利"]);

    // a second trainer cannot review it
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    let csrf2 = app.login_page("T0002");
    let page = get(&app, &format!("/bank/{}", single.id));
    assert!(page.contains("待补全") && page.contains("条文") && page.contains("解析"), "{page}");
    assert!(!page.contains(&format!("/bank/{}/approve", single.id)), "no approve button: {page}");
    let r = app
        .client
        .post(format!("/bank/{}/approve", single.id))
        .header(ContentType::Form)
        .body(format!("_csrf={csrf2}&revision={}", single.revision))
        .dispatch();
    assert_eq!(r.status(), Status::Conflict);
    // the refusal says why, in the reader's language
    let html = r.into_string().unwrap();
    assert!(html.contains("该题尚无法条依据或解析") && !html.contains("no citation"), "{html}");
    let r = app
        .client
        .post(format!("/bank/{}/approve", single.id))
        .header(ContentType::Form)
        .cookie(rocket::http::Cookie::new("lang", "en"))
        .body(format!("_csrf={csrf2}&revision={}", single.revision))
        .dispatch();
    assert_eq!(r.status(), Status::Conflict);
    let html = r.into_string().unwrap();
    assert!(html.contains("The question has no citation or no explanation yet"), "{html}");
    let list = get(&app, "/bank?status=draft&statute=administrative-penalty-law");
    assert!(list.contains("待补全"), "{list}");
    // the exports leave it out until it is complete
    let r = app.client.get("/bank/export?format=lawcert&statute=administrative-penalty-law").dispatch();
    assert!(!r.into_string().unwrap().contains(&single.code));

    // its author fills in the citation and explanation; then it is reviewed and put into use
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf2}")).dispatch();
    let csrf = app.login_page("T0001");
    let half = format!(
        "_csrf={csrf}&kind=single&statute=administrative-penalty-law&edition={}&articles=9&difficulty=2&levels=basic&stem={}&options={}&answer=A&explanation=&tags=&action=save&revision={}",
        v.edition_code,
        enc(&v.stem),
        enc(&v.options_vec().join("\n")),
        single.revision
    );
    let r = app.client.post(format!("/bank/{}/edit", single.id)).header(ContentType::Form).body(half.clone()).dispatch();
    assert_eq!(r.status(), Status::Ok, "an explanation is still needed");
    assert!(r.into_string().unwrap().contains("解析不能为空"));
    let full = half.replace(
        "&explanation=&",
        &format!("&explanation={}&", enc("《行政处罚法》第九条列举的处罚种类包括通报批评；拘役、管制、剥夺政治权利是刑罚。")),
    );
    let r = app.client.post(format!("/bank/{}/edit", single.id)).header(ContentType::Form).body(full).dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    let csrf2 = app.login_page("T0002");
    let page = get(&app, &format!("/bank/{}", single.id));
    assert!(page.contains(&format!("/bank/{}/approve", single.id)), "now it can be reviewed: {page}");
    let q = lawcert::db::models::bank::find(&mut c, single.id).unwrap().unwrap();
    let r = app
        .client
        .post(format!("/bank/{}/approve", single.id))
        .header(ContentType::Form)
        .body(format!("_csrf={csrf2}&revision={}", q.revision))
        .dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let q = lawcert::db::models::bank::find(&mut c, single.id).unwrap().unwrap();
    let r = app
        .client
        .post(format!("/bank/{}/activate", single.id))
        .header(ContentType::Form)
        .body(format!("_csrf={csrf2}&revision={}", q.revision))
        .dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let live = lawcert::db::models::bank::find(&mut c, single.id).unwrap().unwrap();
    assert_eq!(live.status, lawcert::domain::lifecycle::Status::Active);
    let pool = lawcert::services::exams::pool_candidates(&mut c, app.clock.now()).unwrap();
    let vid = lawcert::db::models::bank::version(&mut c, single.id, live.live_version.unwrap()).unwrap().unwrap().id;
    assert!(pool.iter().any(|p| p.version_id == vid), "in use");
    // the others are still drafts waiting for their citation
    assert!(imported(&app, "moodle-plain.xml")[1..].iter().all(|q| q.status == lawcert::domain::lifecycle::Status::Draft));
}

#[test]
fn plain_gift_and_aiken_files_import_as_incomplete_drafts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| crate::common::run_cli(&db, args);
    let path = |name: &str| repo_root().join("tests/journeys/fixtures").join(name).display().to_string();
    let (gift, aiken, moodle) = (path("gift-plain.gift"), path("aiken-plain.txt"), path("moodle-plain.xml"));
    // no statute: every entry is refused, with the reason
    let (code, out) = run(&["bank", "import", &gift, "--dry-run"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 4") && out.contains("missing statute"), "{out}");
    // a bad flag value is named
    let (code, out) = run(&["bank", "import", &gift, "--difficulty", "9"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("difficulty \"9\""), "{out}");
    let (code, out) = run(&["bank", "import", &gift, "--statute", "行政处罚法", "--difficulty", "易", "--levels", "basic,中级"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 new") && out.contains("2 incomplete"), "{out}");
    assert!(out.contains("line 4: incomplete: no articles and no explanation"), "{out}");
    assert!(out.contains("item-writing check over the 2 questions in the file"), "{out}");
    assert!(out.contains("2 of them are incomplete drafts"), "{out}");
    let (code, out) = run(&[
        "bank",
        "import",
        &aiken,
        "--statute",
        "administrative-penalty-law",
        "--edition",
        "2021-01-22",
        "--difficulty",
        "1",
        "--levels",
        "basic",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 new") && out.contains("1 incomplete"), "{out}");
    let (code, out) =
        run(&["bank", "import", &moodle, "--statute", "administrative-penalty-law", "--difficulty", "2", "--levels", "basic"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 new") && out.contains("3 unsupported") && out.contains("3 incomplete"), "{out}");
    // importing again changes nothing
    let (code, out) = run(&["bank", "import", &gift, "--statute", "行政处罚法", "--difficulty", "1", "--levels", "basic,intermediate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 new, 0 new versions, 2 unchanged"), "{out}");
}

/// Issue 17: a broken upload's problems are said in the reader's language, each with its place
/// in the file (line, row, column), on the preview; nothing is stored.
#[test]
fn a_broken_file_is_refused_in_the_reader_s_language_with_each_problem_s_place() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let before = counts(&app);
    let aiken = "题干一\nA. 甲\nC. 乙\nANSWER: E\nSTATUTE: criminal-law\nARTICLES: 20\nDIFFICULTY: 很难\nEXPLANATION: 解析\n";
    let gift = "// lawcert: difficulty=1\n\n::G-1::题干 {=甲 ~乙 ####解析}\n";
    let xlsx = {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let rows: [[&str; 8]; 3] = [
            ["题型", "题干", "选项A", "选项B", "答案", "条文", "解析", "难度"],
            ["问答", "题干", "甲", "乙", "A", "20", "解析", "1"],
            ["单选", "题干二", "甲", "乙", "E", "20", "解析", "很难"],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    };
    let mut previews = Vec::new();
    for (name, bytes) in [("bad.txt", aiken.as_bytes()), ("bad.gift", gift.as_bytes()), ("bad.xlsx", xlsx.as_slice())] {
        let (s, body, loc) = upload(&app, &csrf, name, bytes, &[("statute", "criminal-law"), ("difficulty", "2"), ("levels", "basic")]);
        assert_eq!(s, Status::SeeOther, "{name}: {body}");
        previews.push(loc.unwrap());
    }
    // Chinese, the default: each problem from the catalogue, at its place
    let zh: Vec<String> = previews.iter().map(|p| get(&app, p)).collect();
    let expect_zh: [&[&str]; 3] = [
        &[
            "<td>第 1 行</td>",
            "<li>第 3 行：选项 C 顺序不对（此处应为 B）</li>",
            "<li>第 4 行：答案字母 E 不是已有选项（应在 A–B 之间）</li>",
            "<li>第 7 行：难度“很难”无效，应为 1、2、3 或 易、中、难</li>",
        ],
        &["<li>第 1 行：“// lawcert:”注释须紧挨在所属试题的上一行（中间不能有空行）</li>"],
        &[
            "<td>第 2 行</td>",
            "<li>A 列（题型）：无法识别的题型“问答”（应为 单选、多选 或 判断）</li>",
            "<td>第 3 行</td>",
            "<li>H 列（难度）：难度“很难”无效，应为 1、2、3 或 易、中、难</li>",
            "<li>答案 E 不在选项之中（现有选项：AB）</li>",
        ],
    ];
    for (html, expect) in zh.iter().zip(expect_zh) {
        for e in expect {
            assert!(html.contains(e), "{e}: {html}");
        }
        for english in
            ["<li>line ", "<td>line ", "<li>column ", "<td>row ", "must be", "unknown type", "out of order", "not among", "comment must"]
        {
            assert!(!html.contains(english), "no English left ({english}): {html}");
        }
        assert!(!html.contains("确认导入"), "no commit button");
    }
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let en: Vec<String> = previews.iter().map(|p| get(&app, p)).collect();
    let expect_en: [&[&str]; 3] = [
        &[
            "<td>line 1</td>",
            "<li>line 3: option C is out of order (expected B)</li>",
            "<li>line 4: answer letter E is not an option (A–B)</li>",
            "<li>line 7: difficulty &quot;很难&quot; must be 1, 2, 3 or 易, 中, 难</li>",
        ],
        &["<li>line 1: a &#x60;// lawcert:&#x60; comment must be directly above its question (no blank line between)</li>"],
        &[
            "<td>row 2</td>",
            "<li>column A (题型): unknown type &quot;问答&quot; (use 单选, 多选 or 判断)</li>",
            "<td>row 3</td>",
            "<li>column H (难度): difficulty &quot;很难&quot; must be 1, 2, 3 or 易, 中, 难</li>",
            "<li>answer key E is not among the options (AB)</li>",
        ],
    ];
    for (html, expect) in en.iter().zip(expect_en) {
        for e in expect {
            assert!(html.contains(e), "{e}: {html}");
        }
        assert!(!html.contains("第 ") && !html.contains("无效"), "no Chinese message left: {html}");
    }
    assert_eq!(counts(&app), before, "nothing was written");
}
