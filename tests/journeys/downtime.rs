//! A server outage during a sitting: the proctor compensates everyone at once, recorded.

use chrono::Duration;
use lawcert::domain::ids::{AttemptId, SittingId};
use rocket::http::Status;
use serde_json::json;

use crate::common::{enc, post, wait_for, TestApp};
use lawcert::db::models::exam as exam_db;

#[test]
fn a_proctor_compensates_a_whole_sitting_for_downtime() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "停机", "spec": {"rules": [{"kind": "truefalse", "count": 3, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let now = app.clock.now().and_utc();
    let (s, sitting) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "停机补偿测试", "kind": "mock", "blueprint_id": bp["id"], "opens_at": (now - Duration::minutes(1)).to_rfc3339(),
                     "closes_at": (now + Duration::hours(3)).to_rfc3339(), "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial",
                     "score_release": "on_submit", "answer_release": "after_close", "eligibility": {"badges": ["100001", "100002", "100003"]}})),
    );
    assert_eq!(s, Status::Created, "{sitting}");
    let sid = sitting["id"].as_i64().unwrap();
    let start = |badge: &str| -> (String, i64) {
        let tok = app.token(badge);
        let (s, a) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
        assert_eq!(s, Status::Created, "{a}");
        (tok, a["attempt_id"].as_i64().unwrap())
    };
    let (tok_a, a) = start("100001");
    let (_, c) = start("100003");
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{c}/submit"), &app.token("100003"), None);
    assert_eq!(s, Status::Ok, "a candidate who handed in before the outage");
    app.clock.advance(Duration::minutes(20));
    let (_, b) = start("100002");
    // the outage begins at +25; A's deadline (+30) passes during it and the server submits A
    let since = app.clock.now() + Duration::minutes(5);
    app.clock.advance(Duration::minutes(15));
    wait_for(|| exam_db::find_attempt(&mut app.conn(), AttemptId(a)).unwrap().filter(|x| x.submitted_at.is_some()));
    let b_deadline = exam_db::find_attempt(&mut app.conn(), AttemptId(b)).unwrap().unwrap().deadline;

    let csrf = app.login_page("T0001");
    let local = (since + Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string();
    let (s, html, _) = post(&app, &format!("/sittings/{sid}/downtime"), format!("_csrf={csrf}&since={local}&minutes=10&reason="));
    assert_eq!(s, Status::Ok, "a reason is required");
    assert!(html.contains("<li>原因：请说明原因（最多 500 个字），将记录在案</li>"), "{html}");
    let before = app.clock.now();
    let (s, html, _) = post(
        &app,
        &format!("/sittings/{sid}/downtime"),
        format!("_csrf={csrf}&since={local}&minutes=10&reason={}", enc("机房断电 14:05–14:12")),
    );
    assert_eq!(s, Status::SeeOther, "{html}");
    let after = app.clock.now();
    let a_now = exam_db::find_attempt(&mut app.conn(), AttemptId(a)).unwrap().unwrap();
    assert!(a_now.submitted_at.is_none(), "A, submitted by the server during the outage, is open again");
    assert!(a_now.deadline >= before + Duration::minutes(10) && a_now.deadline <= after + Duration::minutes(10), "{:?}", a_now.deadline);
    assert_eq!(
        exam_db::find_attempt(&mut app.conn(), AttemptId(b)).unwrap().unwrap().deadline,
        b_deadline + Duration::minutes(10),
        "B, still working, has 10 more minutes"
    );
    assert!(
        exam_db::find_attempt(&mut app.conn(), AttemptId(c)).unwrap().unwrap().submitted_at.is_some(),
        "C handed in before the outage: untouched"
    );
    // A can answer again, with the answers kept
    let (s, att) = app.api("GET", &format!("/api/v1/attempts/{a}"), &tok_a, None);
    assert_eq!(s, Status::Ok);
    let q = att["questions"][0]["id"].as_i64().unwrap();
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{a}/answers/{q}"), &tok_a, Some(json!({"choices": ["T"]})));
    assert_eq!(s, Status::Ok, "{body}");
    // the proctor page shows how far submission and grading have got
    let (_, page) = crate::common::get(&app, &format!("/sittings/{sid}/proctor"));
    assert!(page.contains("已交卷并评分 1 / 3") && page.contains("<progress id=\"graded\" max=\"3\" value=\"1\">"), "{page}");
    // recorded: events per attempt and one audit entry for the sitting
    let events = lawcert::db::models::room::events_of_sitting(&mut app.conn(), SittingId(sid)).unwrap();
    assert!(events.iter().any(|e| e.attempt_id == AttemptId(a) && e.kind.as_str() == "reopened" && e.detail.contains("机房断电")));
    assert!(events.iter().any(|e| e.attempt_id == AttemptId(b) && e.kind.as_str() == "extra_time"));
    let audit = lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("sitting:{sid}")).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "sitting.downtime" && e.detail.contains("\"extended\":1") && e.detail.contains("\"reopened\":1")),
        "{audit:?}"
    );
}
