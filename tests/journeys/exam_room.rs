//! Closed-book exam-room controls: access code and network allow-list at start, focus-loss
//! events flagged or submitting at the limit, the proctor's live page, extra time and re-opening.

use chrono::{Duration, Utc};
use lawcert::domain::ids::AttemptId;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::TestApp;

/// A bimonthly sitting open now (five true/false questions on 刑法) with these room controls.
fn sitting(app: &TestApp, controls: Value) -> i64 {
    crate::integrity::graded_sitting(app, "bimonthly", "after_close", "on_submit", controls)
}

/// Starts from a given address (the test client's remote address stands in for the room PC).
fn start(app: &TestApp, tok: &str, sid: i64, from: &str, code: Option<&str>) -> (Status, Value) {
    let path = match code {
        Some(c) => format!("/api/v1/sittings/{sid}/attempts?access_code={c}"),
        None => format!("/api/v1/sittings/{sid}/attempts"),
    };
    let r = app
        .client
        .post(path)
        .remote(format!("{from}:40000").parse().unwrap())
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .dispatch();
    let s = r.status();
    (s, serde_json::from_str(&r.into_string().unwrap_or_default()).unwrap_or(Value::Null))
}

#[test]
fn a_sitting_with_an_access_code_and_an_allow_list_refuses_starts_without_them() {
    let app = TestApp::new();
    // bad controls are refused with the reason
    let t = app.token("T0001");
    let (s, body) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "x", "kind": "mock", "blueprint_id": 1,
        "opens_at": Utc::now().to_rfc3339(), "closes_at": (Utc::now() + Duration::hours(1)).to_rfc3339(), "duration_minutes": 10,
        "pass_percent": 60, "multi_rule": "partial", "score_release": "on_submit", "answer_release": "never",
        "controls": {"allow_cidrs": ["10.20.30.0/33"]}})),
    );
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(body["error"]["message"].as_str().unwrap().contains("allow_cidrs"), "{body}");

    let sid = sitting(&app, json!({"access_code": "K7Q2XM", "allow_cidrs": ["10.20.30.0/24"]}));
    let tok = app.token("100001");
    let (s, body) = start(&app, &tok, sid, "192.168.5.5", Some("K7Q2XM"));
    assert_eq!(s, Status::Forbidden);
    assert_eq!(body["error"]["code"], "outside_exam_room", "{body}");
    let (s, body) = start(&app, &tok, sid, "10.20.30.7", None);
    assert_eq!(s, Status::Forbidden);
    assert_eq!(body["error"]["code"], "access_code");
    let (s, body) = start(&app, &tok, sid, "10.20.30.7", Some("WRONG1"));
    assert_eq!(s, Status::Forbidden, "{body}");
    // a forged client-IP header does not get anyone into the room
    let r = app
        .client
        .post(format!("/api/v1/sittings/{sid}/attempts?access_code=K7Q2XM"))
        .remote("192.168.5.5:40000".parse().unwrap())
        .header(Header::new("X-Real-IP", "10.20.30.7"))
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .dispatch();
    assert_eq!(r.status(), Status::Forbidden);
    let (s, body) = start(&app, &tok, sid, "10.20.30.7", Some("k7q2xm"));
    assert_eq!(s, Status::Created, "{body}");
    // the page asks for the code too
    let csrf = app.login_page("100002");
    let r = app.client.get(format!("/exams/{sid}")).remote("10.20.30.8:1".parse().unwrap()).dispatch();
    assert!(r.into_string().unwrap().contains("name=\"access_code\""));
    let r = app
        .client
        .post(format!("/exams/{sid}/start"))
        .remote("10.20.30.8:1".parse().unwrap())
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&access_code=nope"))
        .dispatch();
    assert_eq!(r.status(), Status::Forbidden);
    // each refusal names its real reason in the reader's language, not the role refusal
    let html = r.into_string().unwrap();
    assert!(html.contains("需要考试码") && html.contains("考试码不正确"), "{html}");
    assert!(!html.contains("您的角色不能进行此操作") && !html.contains("enter the access code"), "{html}");
    let r = app
        .client
        .post(format!("/exams/{sid}/start"))
        .remote("192.168.9.9:1".parse().unwrap())
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&access_code=K7Q2XM"))
        .dispatch();
    assert_eq!(r.status(), Status::Forbidden);
    let html = r.into_string().unwrap();
    assert!(html.contains("不在考场网络内") && html.contains("您当前的地址（192.168.9.9）"), "{html}");
    app.client.get("/lang/en").dispatch();
    let r = app
        .client
        .post(format!("/exams/{sid}/start"))
        .remote("10.20.30.8:1".parse().unwrap())
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}"))
        .dispatch();
    let html = r.into_string().unwrap();
    assert!(html.contains("Enter the access code the proctor announces before starting"), "{html}");
    app.client.get("/lang/zh").dispatch();
    // a sitting for a list the officer is not on
    let listed = sitting(&app, json!({}));
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE sittings SET eligibility = '{{\"units\":[999999],\"badges\":[\"100003\"]}}' WHERE id = {listed}"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let (s, html) = crate::common::get(&app, &format!("/exams/{listed}"));
    assert_eq!(s, Status::Forbidden);
    assert!(html.contains("不在本场考生名单内") && html.contains("您不在本场考试的考生名单内") && !html.contains("您的角色"), "{html}");
    let r = app
        .client
        .post(format!("/exams/{sid}/start"))
        .remote("10.20.30.8:1".parse().unwrap())
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&access_code=K7Q2XM"))
        .dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    // the exam page itself only opens in the room
    let page = r.headers().get_one("Location").unwrap().to_string();
    assert_eq!(app.client.get(page.clone()).remote("172.16.0.1:1".parse().unwrap()).dispatch().status(), Status::Forbidden);
    assert_eq!(app.client.get(page).remote("10.20.30.8:1".parse().unwrap()).dispatch().status(), Status::Ok);
}

/// A sitting that flags at three focus events, and 100003's attempt started in its room:
/// (sitting, 100003's token, attempt).
fn started_in_flagging_room(app: &TestApp) -> (i64, String, i64) {
    let sid = sitting(app, json!({"fullscreen": true, "max_events": 3, "on_limit": "flag"}));
    let tok = app.token("100003");
    let (s, att) = start(app, &tok, sid, "10.0.0.3", None);
    assert_eq!(s, Status::Created);
    (sid, tok, att["attempt_id"].as_i64().unwrap())
}

#[test]
fn the_proctor_sees_focus_loss_events_and_gives_extra_time_with_a_reason() {
    let app = TestApp::new();
    let (sid, tok, aid) = started_in_flagging_room(&app);
    let (s, body) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "peeking"})));
    assert_eq!(s, Status::UnprocessableEntity, "{body}");
    for (i, kind) in ["focus_loss", "fullscreen_exit", "focus_loss"].iter().enumerate() {
        let (s, out) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": kind})));
        assert_eq!(s, Status::Ok, "{out}");
        assert_eq!(out["events"], i as i64 + 1);
        assert_eq!(out["flagged"], i == 2, "flagged at the third event: {out}");
        assert_eq!(out["submitted"], false);
    }
    // another candidate cannot report events on this attempt
    let other = app.token("100004");
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &other, Some(json!({"kind": "focus_loss"})));
    assert_eq!(s, Status::NotFound);

    let csrf = app.login_page("T0001");
    let r = app.client.get(format!("/sittings/{sid}/proctor")).dispatch();
    let html = r.into_string().unwrap();
    assert!(html.contains("切出考试页面") && html.contains("退出全屏") && html.contains("已标记"), "{html}");
    let deadline_before = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap().deadline;
    let post = |path: &str, body: String| app.client.post(path.to_string()).header(ContentType::Form).body(body).dispatch();
    let r = post(&format!("/sittings/{sid}/extra-time"), format!("_csrf={csrf}&attempt_id={aid}&minutes=10&reason="));
    assert_eq!(r.status(), Status::Ok, "a reason is required");
    let r = post(
        &format!("/sittings/{sid}/extra-time"),
        format!("_csrf={csrf}&attempt_id={aid}&minutes=10&reason=%E7%94%B5%E8%84%91%E6%AD%BB%E6%9C%BA"),
    );
    assert_eq!(r.status(), Status::SeeOther);
    let a = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert_eq!(a.deadline, deadline_before + Duration::minutes(10));
    let html = app.client.get(format!("/sittings/{sid}/proctor")).dispatch().into_string().unwrap();
    assert!(html.contains("+10") && html.contains("电脑死机"), "extra time and its reason are shown");
    let html = app.client.get(format!("/sittings/{sid}/integrity")).dispatch().into_string().unwrap();
    assert!(html.contains("100003") && html.contains("10.0.0.3") && html.contains("电脑死机"), "{html}");
    // the candidate submits; the proctor re-opens it after an incident, recorded
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok);
    let r = post(&format!("/sittings/{sid}/reopen"), format!("_csrf={csrf}&attempt_id={aid}&minutes=15&reason=%E6%96%AD%E7%94%B5"));
    assert_eq!(r.status(), Status::SeeOther);
    let a = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert!(a.submitted_at.is_none() && a.score_centi.is_none());
    let log = lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("attempt:{aid}")).unwrap();
    assert!(log.iter().any(|e| e.action == "attempt.extra_time") && log.iter().any(|e| e.action == "attempt.reopen"));
}

#[test]
fn a_sitting_can_submit_at_the_event_limit() {
    let app = TestApp::new();
    let sid = sitting(&app, json!({"fullscreen": true, "max_events": 2, "on_limit": "submit"}));
    let tok = app.token("100005");
    let (_, att) = start(&app, &tok, sid, "10.0.0.5", None);
    let aid = att["attempt_id"].as_i64().unwrap();
    let (_, out) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "focus_loss"})));
    assert_eq!(out["submitted"], false);
    let (_, out) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "focus_loss"})));
    assert_eq!(out["submitted"], true, "{out}");
    let a = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert_eq!(a.submit_kind.map(|k| k.as_str()), Some("forced"));
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "focus_loss"})));
    assert_eq!(s, Status::Conflict, "no events on a submitted attempt");
}

#[test]
fn a_refused_proctor_action_says_why_in_the_reader_s_language() {
    let app = TestApp::new();
    let (sid, tok, aid) = started_in_flagging_room(&app);
    // the API's body stays in English, word for word
    let (s, body) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "peeking"})));
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(body["error"]["message"], "kind: one of focus_loss, fullscreen_exit", "{body}");
    assert_eq!(body["error"]["fields"], json!([]), "{body}");
    let deadline = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap().deadline;
    let csrf = app.login_page("T0001");
    let post = |path: &str, body: String| {
        let r = app.client.post(format!("/sittings/{sid}/{path}")).header(ContentType::Form).body(body).dispatch();
        (r.status(), r.into_string().unwrap())
    };
    let no_reason = format!("_csrf={csrf}&attempt_id={aid}&minutes=10&reason=");
    let too_long = format!("_csrf={csrf}&attempt_id={aid}&minutes=500&reason=%E6%96%AD%E7%94%B5");
    let still_open = format!("_csrf={csrf}&attempt_id={aid}&minutes=10&reason=%E6%96%AD%E7%94%B5");
    let bad_since = format!("_csrf={csrf}&since=yesterday&minutes=10&reason=%E6%96%AD%E7%94%B5");
    // Chinese, the default: the real reason from the catalogue, on the proctor page
    let (s, html) = post("extra-time", no_reason.clone());
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<li>原因：请说明原因（最多 500 个字），将记录在案</li>"), "{html}");
    let (_, html) = post("extra-time", too_long.clone());
    assert!(html.contains("<li>分钟数：应为 1–240</li>"), "{html}");
    let (s, html) = post("reopen", still_open.clone());
    assert_eq!(s, Status::Ok, "a conflict is said on the page too");
    assert!(html.contains("<li>该答卷仍在作答中：请改用“延长时间”</li>"), "{html}");
    let (_, html) = post("downtime", bad_since.clone());
    assert_eq!(
        crate::common::beside(&html, "since"),
        Some("故障开始时间：请填写故障开始的日期和时间（YYYY-MM-DD HH:MM）"),
        "beside its field: {html}"
    );
    assert!(!html.contains("say why") && !html.contains("give extra time instead") && !html.contains("when the outage began"), "{html}");
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let (_, html) = post("extra-time", no_reason);
    assert!(html.contains("<li>Reason: say why (at most 500 characters); it is recorded</li>"), "{html}");
    let (_, html) = post("extra-time", too_long);
    assert!(html.contains("<li>Minutes: 1–240</li>"), "{html}");
    let (_, html) = post("reopen", still_open);
    assert!(html.contains("<li>the attempt is still open: give extra time instead</li>"), "{html}");
    let (_, html) = post("downtime", bad_since);
    assert!(crate::common::beside(&html, "since").is_some_and(|m| m.starts_with("Outage began at:")), "{html}");
    assert!(!html.contains("请说明原因") && !html.contains("仍在作答中"), "{html}");
    // nothing changed
    let a = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert_eq!((a.deadline, a.submitted_at), (deadline, None));
}
