//! Closed-book integrity (issue 15): each attack a candidate tried against the platform, as a
//! test that the attack now fails while honest use still works.

use lawcert::domain::ids::{AttemptId, PracticeId, SittingId, UserId, VersionId};
use std::collections::HashSet;

use chrono::{Duration, Utc};
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::{form_csrf, get, post, wait_for, TestApp};
use lawcert::db::models::{bank as bank_db, exam as exam_db, training as tr_db};

/// A graded sitting open now: `count` true/false questions on criminal law.
pub fn graded_sitting(app: &TestApp, kind: &str, answer_release: &str, score_release: &str, controls: Value) -> i64 {
    let t = app.token("T0001");
    let (_, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(
            json!({"name": "闭卷", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 5, "points_centi": 200}]}}),
        ),
    );
    let now = Utc::now();
    let (s, body) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "闭卷考试", "kind": kind, "blueprint_id": bp["id"],
                     "opens_at": (now - Duration::minutes(5)).to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(),
                     "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial", "score_release": score_release,
                     "answer_release": answer_release, "controls": controls})),
    );
    assert_eq!(s, Status::Created, "{body}");
    body["id"].as_i64().unwrap()
}

/// Every version of every question in a sitting's frozen pool.
fn pool_versions(app: &TestApp, sid: i64) -> HashSet<i64> {
    let s = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap();
    let pool: lawcert::domain::paper::Pool = serde_json::from_str(&s.pool).unwrap();
    let ids: Vec<VersionId> = pool.rules.iter().flat_map(|r| r.entries.iter()).flat_map(|e| e.v.iter().copied()).collect();
    bank_db::sibling_versions(&mut app.conn(), &ids).unwrap().into_iter().map(|v| v.0).collect()
}

fn bearer_get(app: &TestApp, path: &str, tok: &str) -> (Status, String) {
    let r = app.client.get(path.to_string()).header(Header::new("Authorization", format!("Bearer {tok}"))).dispatch();
    (r.status(), r.into_string().unwrap_or_default())
}

/// Attack 1: during an open bimonthly attempt, practice handed out the paper's keys (page and
/// bearer token alike), and so did remedial self-review and other results.
#[test]
fn practice_and_every_other_key_stay_closed_while_a_graded_exam_is_open() {
    let app = TestApp::new();
    // the demo's closed bimonthly exam is filed (and its remedial plans opened) by the first sweeps
    wait_for(|| exam_db::list_sittings(&mut app.conn()).unwrap().iter().all(|s| s.closes_at > app.clock.now() || s.filed).then_some(()));
    let sid = graded_sitting(&app, "bimonthly", "after_close", "after_close", json!({}));
    let in_pool = pool_versions(&app, sid);
    assert!(!in_pool.is_empty());

    // 100026 failed last round's 双月考: an open remedial plan and a released result to review
    let tok = app.token("100026");
    let (s, a) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
    assert_eq!(s, Status::Created, "{a}");
    let attempt = a["attempt_id"].as_i64().unwrap();
    let uid = exam_db::find_attempt(&mut app.conn(), AttemptId(attempt)).unwrap().unwrap().user_id;
    let plan = tr_db::open_plan_of(&mut app.conn(), uid).unwrap().expect("the demo gives 100026 an open plan");
    let old = exam_db::attempts_of_user(&mut app.conn(), uid)
        .unwrap()
        .into_iter()
        .find(|(x, _)| x.id != AttemptId(attempt) && x.submitted_at.is_some())
        .expect("an earlier result")
        .0;

    // the bearer token alone: practice, remedial review, an earlier result's answers
    for path in ["/practice".to_string(), format!("/remedial/{}", plan.id), format!("/attempts/{}/result", old.id)] {
        let (s, body) = bearer_get(&app, &path, &tok);
        assert_eq!(s, Status::Forbidden, "{path} during the exam");
        assert!(body.contains("考试进行中"), "{path}: the page says why");
    }
    // the pages, signed in: starting a set or remedial practice is refused too
    app.login_page("100026");
    let (_, home) = get(&app, "/exams");
    let csrf = form_csrf(&home);
    let (s, _, _) = post(&app, "/practice", format!("_csrf={csrf}&mode=statute&filter=criminal-law"));
    assert_eq!(s, Status::Forbidden);
    let (s, _, _) = post(&app, "/practice/1/answer", format!("_csrf={csrf}&version_id=1&choices=A"));
    assert_eq!(s, Status::Forbidden);
    let (s, _, _) = post(&app, &format!("/remedial/{}/practice", plan.id), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Forbidden);
    // the exam itself goes on
    let (s, _) = bearer_get(&app, &format!("/attempts/{attempt}"), &tok);
    assert_eq!(s, Status::Ok);

    // a colleague with no exam open practises freely, but never meets the open sitting's questions
    app.login_page("100002");
    let (_, home) = get(&app, "/practice");
    let csrf = form_csrf(&home);
    let mut seen = 0;
    for _ in 0..30 {
        let (s, _, loc) = post(&app, "/practice", format!("_csrf={csrf}&mode=statute&filter=criminal-law"));
        assert_eq!(s, Status::SeeOther);
        let set_id: PracticeId = loc.unwrap().rsplit('/').next().unwrap().parse().unwrap();
        let set = tr_db::find_practice(&mut app.conn(), set_id).unwrap().unwrap();
        for v in set.items_vec() {
            seen += 1;
            assert!(!in_pool.contains(&v.0), "practice drew question version {v} of the open sitting's pool");
        }
    }
    assert!(seen >= 200, "practice still works for an officer with no exam open ({seen} items)");

    // once submitted the officer may practise again; the pool stays out until the sitting closes
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{attempt}/submit"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert_eq!(bearer_get(&app, "/practice", &tok).0, Status::Ok);
    app.clock.advance(Duration::hours(3));
    let drawn: HashSet<VersionId> = (0..40)
        .flat_map(|_| {
            let (_, _, loc) = post(&app, "/practice", format!("_csrf={csrf}&mode=statute&filter=criminal-law"));
            let set_id: PracticeId = loc.unwrap().rsplit('/').next().unwrap().parse().unwrap();
            tr_db::find_practice(&mut app.conn(), set_id).unwrap().unwrap().items_vec()
        })
        .collect();
    assert!(drawn.iter().any(|v| in_pool.contains(&v.0)), "after the sitting closes its questions return to practice");
}

/// Attack 2: the allow-list stopped only the start; the JSON API let another network read the
/// paper, save, post events and submit.
#[test]
fn the_room_network_is_checked_on_every_call_of_an_attempt() {
    let app = TestApp::new();
    let sid = graded_sitting(&app, "bimonthly", "after_close", "on_submit", json!({"allow_cidrs": ["10.20.30.0/24"]}));
    let tok = app.token("100001");
    let call = |method: &str, path: &str, from: &str, body: Option<Value>| -> (Status, Value) {
        let req = match method {
            "GET" => app.client.get(path.to_string()),
            "PUT" => app.client.put(path.to_string()),
            _ => app.client.post(path.to_string()),
        }
        .remote(format!("{from}:40000").parse().unwrap())
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .header(ContentType::JSON);
        let r = match body {
            Some(b) => req.body(b.to_string()),
            None => req,
        }
        .dispatch();
        let s = r.status();
        (s, serde_json::from_str(&r.into_string().unwrap_or_default()).unwrap_or(Value::Null))
    };
    let (s, view) = call("POST", &format!("/api/v1/sittings/{sid}/attempts"), "10.20.30.7", None);
    assert_eq!(s, Status::Created, "{view}");
    let aid = view["attempt_id"].as_i64().unwrap();
    let q = view["questions"][0]["id"].as_i64().unwrap();
    let outside = "192.168.5.5";
    let tries = [
        ("GET", format!("/api/v1/attempts/{aid}"), None),
        ("PUT", format!("/api/v1/attempts/{aid}/answers/{q}"), Some(json!({"choices": ["T"]}))),
        ("POST", format!("/api/v1/attempts/{aid}/events"), Some(json!({"kind": "focus_loss"}))),
        ("POST", format!("/api/v1/attempts/{aid}/submit"), None),
    ];
    for (m, path, body) in &tries {
        let (s, b) = call(m, path, outside, body.clone());
        assert_eq!(s, Status::Forbidden, "{m} {path} from outside the room: {b}");
        assert_eq!(b["error"]["code"], "outside_exam_room", "{m} {path}");
    }
    // nothing outside got through: no answer saved, no event, not submitted
    let a = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert!(a.submitted_at.is_none());
    assert!(exam_db::responses_of(&mut app.conn(), AttemptId(aid)).unwrap().is_empty());
    // the page from outside is refused as well
    let r = app
        .client
        .get(format!("/attempts/{aid}"))
        .remote(format!("{outside}:40000").parse().unwrap())
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .dispatch();
    assert_eq!(r.status(), Status::Forbidden);
    // inside the room every call works
    for (m, path, body) in &tries {
        let (s, b) = call(m, path, "10.20.30.8", body.clone());
        assert_eq!(s, Status::Ok, "{m} {path} from the room: {b}");
    }
}

fn user_id(app: &TestApp, badge: &str) -> UserId {
    lawcert::db::models::org::find_by_badge(&mut app.conn(), badge).unwrap().unwrap().id
}

/// Attack 4: a 4-digit access code fell to guessing. Codes are now at least 6 characters (or
/// generated), and 5 wrong codes stop the candidate until the proctor lets them in.
#[test]
fn access_codes_cannot_be_guessed() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (_, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "x", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 3, "points_centi": 100}]}})),
    );
    let now = Utc::now();
    let spec = |code: &str| {
        json!({"title": "闭卷", "kind": "bimonthly", "blueprint_id": bp["id"], "opens_at": (now - Duration::minutes(5)).to_rfc3339(),
        "closes_at": (now + Duration::hours(2)).to_rfc3339(), "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial",
        "score_release": "on_submit", "answer_release": "after_close", "controls": {"access_code": code}})
    };
    let (s, body) = app.api("POST", "/api/v1/sittings", &t, Some(spec("4821")));
    assert_eq!(s, Status::UnprocessableEntity, "a 4-digit code is refused: {body}");
    let (s, body) = app.api("POST", "/api/v1/sittings", &t, Some(spec("auto")));
    assert_eq!(s, Status::Created, "{body}");
    let sid = body["id"].as_i64().unwrap();
    let code = lawcert::services::exams::controls_of(&exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap())
        .access_code
        .unwrap();
    assert_eq!(code.len(), 6, "a generated code: {code}");
    assert!(code.chars().all(|c| !"0O1IL".contains(c)), "{code}");

    let tok = app.token("100001");
    for i in 1..=5 {
        let (s, b) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts?access_code=GUESS{i}"), &tok, None);
        assert_eq!(s, Status::Forbidden);
        assert_eq!(b["error"]["code"], if i < 5 { "access_code" } else { "access_code_locked" }, "try {i}: {b}");
    }
    // now even the right code waits for the proctor
    let (s, b) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts?access_code={code}"), &tok, None);
    assert_eq!(s, Status::Forbidden);
    assert_eq!(b["error"]["code"], "access_code_locked");
    // another candidate is not affected
    let (s, _) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts?access_code={code}"), &app.token("100002"), None);
    assert_eq!(s, Status::Created);
    // the proctor sees it, and lets the candidate in (audited)
    let csrf = app.login_page("T0001");
    let (_, html) = get(&app, &format!("/sittings/{sid}/proctor"));
    assert!(html.contains("100001") && html.contains("已锁定"), "the proctor page lists the locked candidate");
    let (s, _, _) = post(&app, &format!("/sittings/{sid}/let-in"), format!("_csrf={csrf}&badge=100001"));
    assert_eq!(s, Status::SeeOther);
    assert!(!lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("sitting:{sid}"))
        .unwrap()
        .iter()
        .all(|e| e.action != "sitting.let_in"));
    let (s, b) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts?access_code={code}"), &tok, None);
    assert_eq!(s, Status::Created, "{b}");
}

/// Attack 5: a sitting set never to release scores or answers opened a remedial plan whose
/// self-review showed the keys and whose notice stated the score.
#[test]
fn never_released_answers_and_scores_stay_hidden_in_remedial_work() {
    let app = TestApp::new();
    wait_for(|| exam_db::list_sittings(&mut app.conn()).unwrap().iter().all(|s| s.closes_at > app.clock.now() || s.filed).then_some(()));
    let sid = graded_sitting(&app, "bimonthly", "never", "never", json!({}));
    // an officer with no open plan answers every question wrong
    let badge = (1..=30)
        .map(|n| format!("1000{n:02}"))
        .find(|b| tr_db::open_plan_of(&mut app.conn(), user_id(&app, b)).unwrap().is_none())
        .expect("an officer without a plan");
    let tok = app.token(&badge);
    let (s, view) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
    assert_eq!(s, Status::Created, "{view}");
    let aid = view["attempt_id"].as_i64().unwrap();
    let mut stems = Vec::new();
    for q in view["questions"].as_array().unwrap() {
        let v = q["id"].as_i64().unwrap();
        let wrong = if crate::common::key_of(&mut app.conn(), v) == "T" { "F" } else { "T" };
        let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{v}"), &tok, Some(json!({"choices": [wrong]})));
        assert_eq!(s, Status::Ok);
        stems.push(q["stem"].as_str().unwrap().to_string());
    }
    let (s, r) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert!(r["score"].is_null(), "{r}");
    app.clock.advance(Duration::hours(3));
    let uid = user_id(&app, &badge);
    let plan = wait_for(|| tr_db::open_plan_of(&mut app.conn(), uid).unwrap());
    assert!(!plan.reason.contains("/ "), "the plan does not state the score: {}", plan.reason);
    let notes = lawcert::db::models::audit::notifications_of(&mut app.conn(), uid, 50).unwrap();
    assert!(notes.iter().all(|n| !n.body.contains("0 / ") && !n.body.contains("0.00")), "no notice states the score: {notes:?}");
    app.login_page(&badge);
    let (s, html) = get(&app, &format!("/remedial/{}", plan.id));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("本场考试不公布答案"), "the self-review says why only articles are shown");
    for stem in &stems {
        assert!(!html.contains(stem.as_str()), "the self-review does not show the question: {stem}");
    }
    assert!(!html.contains("正确答案"), "no key on the page");
}

/// Attack 6: trainers (who hold the keyed bank) could sit graded exams, and sittings could
/// release answers on submit to early finishers.
#[test]
fn key_readers_sit_graded_exams_only_under_an_admins_exception() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (_, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "x", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 3, "points_centi": 100}]}})),
    );
    let now = Utc::now();
    let (s, body) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "x", "kind": "bimonthly", "blueprint_id": bp["id"],
        "opens_at": now.to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(), "duration_minutes": 30, "pass_percent": 60,
        "multi_rule": "partial", "score_release": "on_submit", "answer_release": "on_submit"})),
    );
    assert_eq!(s, Status::UnprocessableEntity, "answers on submit in a bimonthly exam: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("answer_release"));

    let sid = graded_sitting(&app, "bimonthly", "after_close", "on_submit", json!({}));
    // T0001 also holds the officer role in the demo
    let (s, b) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &t, None);
    assert_eq!(s, Status::Forbidden, "{b}");
    assert_eq!(b["error"]["code"], "duty_separation");
    // a trainer cannot grant it; an admin can, with a reason
    app.login_page("T0001");
    let (s, _) = get(&app, &format!("/sittings/{sid}/exceptions"));
    assert_eq!(s, Status::Forbidden);
    let csrf = app.login_page("admin");
    let (s, html, _) = post(&app, &format!("/sittings/{sid}/exceptions"), format!("_csrf={csrf}&badge=T0001&reason="));
    assert_eq!(s, Status::Ok, "a reason is required: {html}");
    let (s, _, _) = post(
        &app,
        &format!("/sittings/{sid}/exceptions"),
        format!("_csrf={csrf}&badge=T0001&reason={}", crate::common::enc("兼任民警，须参加本季度考核")),
    );
    assert_eq!(s, Status::SeeOther);
    assert!(lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("sitting:{sid}"))
        .unwrap()
        .iter()
        .any(|e| e.action == "sitting.exception"));
    let (s, b) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &t, None);
    assert_eq!(s, Status::Created, "{b}");
    // and then the bank is closed to them while the exam is open
    let (s, _) = bearer_get(&app, "/bank", &t);
    assert_eq!(s, Status::Forbidden);
}

/// Attack 8 (server side): a sitting that submits at its event limit can wait a grace period,
/// and a proctor can dismiss a false event, which calls the automatic submission off.
#[test]
fn a_false_focus_event_can_be_dismissed_before_the_automatic_submission() {
    let app = TestApp::new();
    let sid = graded_sitting(
        &app,
        "bimonthly",
        "after_close",
        "on_submit",
        json!({"fullscreen": true, "max_events": 1, "on_limit": "submit", "grace_seconds": 300}),
    );
    let tok = app.token("100003");
    let (_, view) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
    let aid = view["attempt_id"].as_i64().unwrap();
    let before = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap().deadline;
    let (s, out) = app.api("POST", &format!("/api/v1/attempts/{aid}/events"), &tok, Some(json!({"kind": "focus_loss"})));
    assert_eq!(s, Status::Ok);
    assert_eq!(out["submitted"], false, "the grace period runs first: {out}");
    let pending = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert!(pending.submitted_at.is_none() && pending.deadline < before, "the deadline moved up to the grace period's end");
    let event = lawcert::db::models::room::events_of_attempt(&mut app.conn(), AttemptId(aid))
        .unwrap()
        .into_iter()
        .find(|e| e.kind.as_str() == "focus_loss")
        .unwrap();
    let csrf = app.login_page("T0002");
    let (_, html) = get(&app, &format!("/sittings/{sid}/proctor"));
    assert!(html.contains("宽限期结束后自动交卷"), "the proctor sees the pending submission");
    let (s, _, _) = post(
        &app,
        &format!("/sittings/{sid}/events/{}/dismiss", event.id),
        format!("_csrf={csrf}&reason={}", crate::common::enc("考生点击了交卷确认框")),
    );
    assert_eq!(s, Status::SeeOther);
    let after = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert!(after.submitted_at.is_none());
    assert!((after.deadline - before).num_milliseconds().abs() < 1000, "the deadline is back: {} vs {before}", after.deadline);
    assert!(lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("attempt:{aid}"))
        .unwrap()
        .iter()
        .any(|e| e.action == "attempt.event_dismissed"));
    // dismissing twice is refused
    let (s, _, _) = post(&app, &format!("/sittings/{sid}/events/{}/dismiss", event.id), format!("_csrf={csrf}&reason=again"));
    assert_eq!(s, Status::Ok, "shown as an error on the page");
    // the attempt goes on and saves
    let q = view["questions"][0]["id"].as_i64().unwrap();
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{q}"), &tok, Some(json!({"choices": ["T"]})));
    assert_eq!(s, Status::Ok);
}

/// Attack 11: the proctor page did not list who on the sitting's list had not started.
#[test]
fn the_proctor_page_lists_everyone_on_the_list() {
    let app = TestApp::new();
    let sid = graded_sitting(&app, "bimonthly", "after_close", "on_submit", json!({}));
    let (s, _) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &app.token("100001"), None);
    assert_eq!(s, Status::Created);
    app.login_page("T0001");
    let (_, html) = get(&app, &format!("/sittings/{sid}/proctor"));
    let waiting = &html[html.find("data-live=\"waiting\"").expect("the list of those not started")..];
    assert!(waiting.contains("100002") && waiting.contains("100030"), "officers who have not started are listed");
    assert!(!waiting[..waiting.find("</section>").unwrap()].contains(">100001<"), "one who started is not in that list");
    assert!(html.contains("data-live=\"rows\""), "the live parts refresh themselves");
}

/// Attack 12: three inputs answered 500.
#[test]
fn dangling_references_and_control_characters_answer_4xx() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let now = Utc::now();
    for (field, value) in [("plan_id", 999_999), ("makeup_of", 999_999)] {
        let mut spec = json!({"title": "x", "kind": "mock", "blueprint_id": 1, "opens_at": now.to_rfc3339(),
            "closes_at": (now + Duration::hours(1)).to_rfc3339(), "duration_minutes": 10, "pass_percent": 60, "multi_rule": "partial",
            "score_release": "on_submit", "answer_release": "never"});
        spec[field] = json!(value);
        let (s, b) = app.api("POST", "/api/v1/sittings", &t, Some(spec));
        assert_eq!(s, Status::UnprocessableEntity, "{field}: {b}");
        assert!(b["error"]["message"].as_str().unwrap().contains(field), "{b}");
    }
    for next in ["/a%20b", "/a%09b", "/a%0Ab"] {
        let r = app.client.get(format!("/lang/en?next={next}")).dispatch();
        assert_eq!(r.status(), Status::SeeOther, "/lang next={next}");
        assert_eq!(r.headers().get_one("Location"), Some("/"));
        let page = app.client.get("/login").dispatch().into_string().unwrap();
        let csrf = form_csrf(&page);
        let r = app
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(format!("_csrf={csrf}&badge=100001&password=lawcert-demo&next={next}"))
            .dispatch();
        assert_eq!(r.status(), Status::SeeOther, "/login next={next}");
        assert_eq!(r.headers().get_one("Location"), Some("/"));
    }
}

/// Every route, called by an admin with malformed ids, huge numbers and control characters in
/// its path and query, answers something other than a server error.
#[test]
fn no_route_answers_500_to_malformed_input() {
    let app = TestApp::new();
    let tok = app.token("admin");
    let routes: Vec<(String, String)> =
        app.client.rocket().routes().map(|r| (r.method.as_str().to_string(), r.uri.path().to_string())).collect();
    let values = ["x", "-1", "99999999999999999999", "0", "%00", "%20%09%0A", "..%2F..", "%E4%B8%AD"];
    let mut calls = 0;
    for (method, path) in &routes {
        for v in values {
            let concrete: String =
                path.split('/').map(|seg| if seg.starts_with('<') { v.to_string() } else { seg.to_string() }).collect::<Vec<_>>().join("/");
            let uri = format!("{concrete}?next={v}&id={v}&format={v}&since={v}&page={v}");
            let req = match method.as_str() {
                "GET" => app.client.get(uri.clone()),
                "POST" => app.client.post(uri.clone()),
                "PUT" => app.client.put(uri.clone()),
                "DELETE" => app.client.delete(uri.clone()),
                _ => continue,
            };
            let r = req
                .header(Header::new("Authorization", format!("Bearer {tok}")))
                .header(ContentType::JSON)
                .body("{\"x\":\"\\u0000\"}")
                .dispatch();
            calls += 1;
            assert!(r.status().code < 500, "{method} {uri} answered {}", r.status());
        }
    }
    assert!(calls > 500, "{calls} calls");
}
