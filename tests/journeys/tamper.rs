//! Tamper evidence without a blind end: deleting the newest audit rows leaves a chain that
//! still verifies, so the chain's head is published where the database cannot reach it (HR
//! feed pages, a daily digest e-mail, signed checkpoints) and `audit verify --against` finds the
//! missing tail.

use chrono::Duration;
use diesel::RunQueryDsl;
use lawcert::domain::ids::AuditId;
use rocket::http::Status;
use serde_json::Value;

use crate::common::{get, run_cli_url, wait_for, TestApp, TEST_SECRET};

fn newest_entry(app: &TestApp) -> (i64, String) {
    let (entry, hash, _) = lawcert::db::models::audit::head(&mut app.conn()).unwrap().expect("the demo is audited");
    (entry.0, hash)
}

/// Waits for the first dated sweep to finish (its last step queues the digest), so that the
/// sweeper appends nothing to the log while a test reads its head.
fn settle(app: &TestApp) {
    wait_for(|| lawcert::db::models::mail::recent(&mut app.conn(), 500).unwrap().into_iter().find(|m| m.kind == "audit_digest"));
}

fn delete_after(app: &TestApp, entry: i64) {
    diesel::sql_query(format!("DELETE FROM audit_log WHERE id > {entry}")).execute(&mut *app.conn()).unwrap();
}

#[test]
fn deleting_the_newest_rows_passes_plain_verify_but_not_verify_against_a_checkpoint() {
    let app = TestApp::new();
    settle(&app);
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| run_cli_url(&app.db_url, dir.path(), args, "");
    // a few audited changes, then a checkpoint from the command line …
    let csrf = app.login_page("admin");
    for (i, badge) in ["100001", "100002", "100003"].iter().enumerate() {
        let uid = lawcert::db::models::org::find_by_badge(&mut app.conn(), badge).unwrap().unwrap().id;
        let (s, body, _) = crate::common::post(
            &app,
            &format!("/admin/users/{uid}/post"),
            format!("_csrf={csrf}&post=%E5%86%85%E5%8B%A4{i}&enforcement_post=false&effective_on=2026-11-01"),
        );
        assert_eq!(s, Status::SeeOther, "{body}");
    }
    let (n, hash) = newest_entry(&app);
    let cp_file = dir.path().join("cp.json");
    let cp = cp_file.display().to_string();
    let (code, out) = cli(&["audit", "checkpoint", "--out", &cp]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("checkpoint of entry {n}")), "{out}");
    let (code, out) = cli(&["audit", "checkpoint", "--out", &cp]);
    assert_eq!(code, 2, "never overwrites: {out}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&cp_file).unwrap()).unwrap();
    assert_eq!((written["entry"].as_i64(), written["hash"].as_str()), (Some(n), Some(hash.as_str())));
    // … and one from the admin's download page, signed with the same server key
    let r = app.client.get("/admin/audit/checkpoint").dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert!(r.headers().get_one("Content-Disposition").unwrap().contains(&format!("lawcert-audit-checkpoint-{n}.json")));
    let downloaded = dir.path().join("downloaded.json");
    std::fs::write(&downloaded, r.into_string().unwrap()).unwrap();
    let (page_status, page) = get(&app, "/admin/audit");
    assert_eq!(page_status, Status::Ok);
    let (after_download, newest_hash) = newest_entry(&app);
    assert_eq!(after_download, n + 1, "the download is audited after the head it signed");
    assert!(page.contains(&newest_hash) && page.contains("下载签名检查点"), "{page}");
    let log = lawcert::db::models::audit::page(&mut app.conn(), AuditId(n), 10).unwrap();
    assert!(log.iter().any(|e| e.action == "audit.checkpoint"), "the download is audited");
    for against in [cp.as_str(), &downloaded.display().to_string(), &format!("{n}:{hash}")] {
        let (code, out) = cli(&["audit", "verify", "--against", against]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("audit log intact") && out.contains("still holds"), "{out}");
    }

    // someone deletes the newest entries (the post changes and the download)
    delete_after(&app, n - 3);
    let (code, out) = cli(&["audit", "verify"]);
    assert_eq!(code, 0, "the shortened chain alone still verifies (the blind end): {out}");
    for against in [cp.as_str(), &downloaded.display().to_string(), &format!("{n}:{hash}")] {
        let (code, out) = cli(&["audit", "verify", "--against", against]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(&format!("the log ends at entry {}", n - 3)) && out.contains("3 newest entries were deleted"), "{out}");
    }
    // a tail deleted and written again past the checkpoint's number: that entry's hash differs
    let now = app.clock.now();
    for _ in 0..5 {
        lawcert::db::write_tx(&mut app.conn(), |c| lawcert::db::models::audit::append(c, None, "other", "x", &serde_json::json!({}), now))
            .unwrap();
    }
    assert!(newest_entry(&app).0 > n);
    let (code, out) = cli(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli(&["audit", "verify", "--against", &cp]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("entry {n} has hash")) && out.contains("rewritten"), "{out}");
}

#[test]
fn a_forged_or_foreign_checkpoint_is_refused() {
    let app = TestApp::new();
    settle(&app);
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| run_cli_url(&app.db_url, dir.path(), args, "");
    let cp = dir.path().join("cp.json").display().to_string();
    let (code, out) = cli(&["audit", "checkpoint", "--out", &cp]);
    assert_eq!(code, 0, "{out}");
    let (n, _) = newest_entry(&app);
    delete_after(&app, n - 2);
    // the deleter edits the checkpoint to match the shortened log: the signature no longer fits
    let (m, short_hash) = newest_entry(&app);
    let mut forged: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    forged["entry"] = m.into();
    forged["hash"] = short_hash.into();
    let forged_file = dir.path().join("forged.json");
    std::fs::write(&forged_file, serde_json::to_string_pretty(&forged).unwrap()).unwrap();
    let (code, out) = cli(&["audit", "verify", "--against", &forged_file.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED") && out.contains("signature does not match"), "{out}");
    // a checkpoint signed by a server with another secret key is refused too
    let other = dir.path().join("other.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lawcert"))
        .args(["audit", "checkpoint", "--out", &other.display().to_string()])
        .env("DATABASE_URL", &app.db_url)
        .env("LAWCERT_QUESTIONS", crate::common::repo_root().join("questions"))
        .env("ROCKET_SECRET_KEY", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, out) = cli(&["audit", "verify", "--against", &other.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signed with another server secret key"), "{out}");
    // not a checkpoint at all
    std::fs::write(dir.path().join("junk.json"), "{\"entry\": 3}").unwrap();
    let (code, out) = cli(&["audit", "verify", "--against", &dir.path().join("junk.json").display().to_string()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not a lawcert audit checkpoint"), "{out}");
    assert_ne!(TEST_SECRET, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

#[test]
fn every_hr_feed_page_and_a_daily_digest_publish_the_head() {
    let app = TestApp::new();
    settle(&app);
    let token = app.token("H0001");
    let (s, page) = app.api("GET", "/api/v1/hr/records?limit=2", &token, None);
    assert_eq!(s, Status::Ok, "{page}");
    let (n, hash) = newest_entry(&app);
    assert_eq!(page["audit_head"]["entry"].as_i64(), Some(n), "{page}");
    assert_eq!(page["audit_head"]["hash"].as_str(), Some(hash.as_str()));
    // also on an empty page at the end of the feed
    let mut cursor = page["next_cursor"].as_str().unwrap().to_string();
    loop {
        let (_, p) = app.api("GET", &format!("/api/v1/hr/records?since={cursor}&limit=1000"), &token, None);
        cursor = p["next_cursor"].as_str().unwrap().to_string();
        if !p["has_more"].as_bool().unwrap() {
            let (_, last) = app.api("GET", &format!("/api/v1/hr/records?since={cursor}"), &token, None);
            assert_eq!(last["records"].as_array().unwrap().len(), 0);
            assert_eq!(last["audit_head"]["entry"].as_i64(), Some(newest_entry(&app).0));
            break;
        }
    }
    // and described in the OpenAPI document
    let (_, spec) = app.api("GET", "/api/openapi.json", &token, None);
    let schema = &spec["components"]["schemas"];
    assert!(schema["FeedPage"]["properties"]["audit_head"].is_object(), "{}", schema["FeedPage"]);
    assert!(schema["AuditHead"]["properties"]["entry"].is_object() && schema["AuditHead"]["properties"]["hash"].is_object());

    // the dated sweep (every second in tests) e-mails the head to admins once a bureau day
    let admin = lawcert::db::models::org::find_by_badge(&mut app.conn(), "admin").unwrap().unwrap();
    let digests = || {
        lawcert::db::models::mail::recent(&mut app.conn(), 500)
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == "audit_digest")
            .collect::<Vec<_>>()
    };
    let first = wait_for(|| digests().into_iter().next());
    assert_eq!(first.user_id, Some(admin.id));
    assert_eq!(Some(first.to_addr.as_str()), admin.email.as_deref());
    // the head it names is in the log, with that hash
    let head = first.text_body.lines().map(str::trim).find_map(lawcert::domain::audit::Head::parse).expect("N:HASH in the text");
    let at = lawcert::db::models::audit::page(&mut app.conn(), AuditId(head.entry.0 - 1), 1).unwrap();
    assert_eq!(at[0].hash, head.hash, "{}", first.text_body);
    assert!(first.subject.contains("审计日志每日摘要") && first.html_body.contains(&head.hash));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(digests().len(), 1, "once a day, however often the sweep runs");
    app.clock.advance(Duration::days(1));
    wait_for(|| (digests().len() == 2).then_some(()));
}
