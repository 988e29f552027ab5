//! Closed-book integrity (issue 15): each attack a candidate tried against the platform, as a
//! test that the attack now fails while honest use still works.

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
        Some(json!({"name": "闭卷", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 5, "points_centi": 200}]}})),
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
    let s = exam_db::find_sitting(&mut app.conn(), sid).unwrap().unwrap();
    let pool: lawcert::domain::paper::Pool = serde_json::from_str(&s.pool).unwrap();
    let ids: Vec<i64> = pool.rules.iter().flat_map(|r| r.entries.iter()).flat_map(|e| e.v.iter().copied()).collect();
    bank_db::sibling_versions(&mut app.conn(), &ids).unwrap().into_iter().collect()
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
    let uid = exam_db::find_attempt(&mut app.conn(), attempt).unwrap().unwrap().user_id;
    let plan = tr_db::open_plan_of(&mut app.conn(), uid).unwrap().expect("the demo gives 100026 an open plan");
    let old = exam_db::attempts_of_user(&mut app.conn(), uid).unwrap().into_iter().find(|(x, _)| x.id != attempt && x.submitted_at.is_some()).expect("an earlier result").0;

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
    let (s, _, _) = post(&app, &format!("/practice/1/answer"), format!("_csrf={csrf}&version_id=1&choices=A"));
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
        let set_id: i64 = loc.unwrap().rsplit('/').next().unwrap().parse().unwrap();
        let set = tr_db::find_practice(&mut app.conn(), set_id).unwrap().unwrap();
        for v in set.items_vec() {
            seen += 1;
            assert!(!in_pool.contains(&v), "practice drew question version {v} of the open sitting's pool");
        }
    }
    assert!(seen >= 200, "practice still works for an officer with no exam open ({seen} items)");

    // once submitted the officer may practise again; the pool stays out until the sitting closes
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{attempt}/submit"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert_eq!(bearer_get(&app, "/practice", &tok).0, Status::Ok);
    app.clock.advance(Duration::hours(3));
    let drawn: HashSet<i64> = (0..40)
        .flat_map(|_| {
            let (_, _, loc) = post(&app, "/practice", format!("_csrf={csrf}&mode=statute&filter=criminal-law"));
            let set_id: i64 = loc.unwrap().rsplit('/').next().unwrap().parse().unwrap();
            tr_db::find_practice(&mut app.conn(), set_id).unwrap().unwrap().items_vec()
        })
        .collect();
    assert!(drawn.iter().any(|v| in_pool.contains(v)), "after the sitting closes its questions return to practice");
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
    let a = exam_db::find_attempt(&mut app.conn(), aid).unwrap().unwrap();
    assert!(a.submitted_at.is_none());
    assert!(exam_db::responses_of(&mut app.conn(), aid).unwrap().is_empty());
    // the page from outside is refused as well
    let r = app.client.get(format!("/attempts/{aid}")).remote(format!("{outside}:40000").parse().unwrap()).header(Header::new("Authorization", format!("Bearer {tok}"))).dispatch();
    assert_eq!(r.status(), Status::Forbidden);
    // inside the room every call works
    for (m, path, body) in &tries {
        let (s, b) = call(m, path, "10.20.30.8", body.clone());
        assert_eq!(s, Status::Ok, "{m} {path} from the room: {b}");
    }
}
