//! A trainer builds a blueprint and schedules sittings through the API; eligibility, windows
//! and the multiple-choice scoring rule take effect.

use chrono::{Duration, Utc};
use lawcert::domain::ids::{AttemptId, SittingId};
use rocket::http::Status;
use serde_json::{json, Value};

use crate::common::{key_of, TestApp};

fn iso(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn blueprint(app: &TestApp, tok: &str, spec: Value) -> (Status, Value) {
    app.api("POST", "/api/v1/blueprints", tok, Some(json!({"name": "测试方案", "spec": spec})))
}

fn sitting(app: &TestApp, tok: &str, bp: i64, extra: Value) -> (Status, Value) {
    let now = Utc::now();
    let mut body = json!({
        "title": "双月考（测试）", "kind": "bimonthly", "blueprint_id": bp,
        "opens_at": iso(now - Duration::minutes(5)), "closes_at": iso(now + Duration::hours(2)),
        "duration_minutes": 60, "pass_percent": 60, "multi_rule": "partial",
        "score_release": "on_submit", "answer_release": "after_close",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.api("POST", "/api/v1/sittings", tok, Some(body))
}

#[test]
fn blueprints_are_validated_against_the_bank() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (s, body) = blueprint(
        &app,
        &t,
        json!({"rules": [{"kind": "truefalse", "statute": "people-police-law", "difficulty": 3, "count": 400, "points_centi": 100}]}),
    );
    assert_eq!(s, Status::UnprocessableEntity);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("rule 1: wants 400 truefalse from people-police-law at difficulty 3 but the bank has only"), "{msg}");
    let (s, body) = blueprint(&app, &t, json!({"rules": [{"kind": "single", "statute": "no-such-law", "count": 1, "points_centi": 100}]}));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown statute"));
    let (s, body) = blueprint(&app, &t, json!({"rules": [{"kind": "single", "count": 0, "points_centi": 100}]}));
    assert_eq!(s, Status::UnprocessableEntity, "{body}");
    let (s, body) = blueprint(&app, &t, json!({"rules": "lots"}));
    assert_eq!(s, Status::BadRequest, "{body}");
}

#[test]
fn a_sitting_admits_only_its_candidates_and_only_in_its_window() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (s, bp) = blueprint(&app, &t, json!({"rules": [{"kind": "single", "statute": "criminal-law", "count": 5, "points_centi": 200}]}));
    assert_eq!(s, Status::Created, "{bp}");
    let bp = bp["id"].as_i64().unwrap();
    // only 交警 (demo officers 100004, 100012, … are 交警; 100001 is 派出所)
    let (s, created) = sitting(&app, &t, bp, json!({"eligibility": {"police_types": ["交警"]}}));
    assert_eq!(s, Status::Created, "{created}");
    let sid = created["id"].as_i64().unwrap();
    let traffic = app.token("100004");
    let station = app.token("100001");
    let listed = |tok: &str| app.api("GET", "/api/v1/me/sittings", tok, None).1.as_array().unwrap().iter().any(|x| x["id"] == sid);
    assert!(listed(&traffic));
    assert!(!listed(&station));
    let (s, _) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &station, None);
    assert_eq!(s, Status::Forbidden);
    let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &traffic, None);
    assert_eq!(s, Status::Created);
    assert_eq!(att["questions"].as_array().unwrap().len(), 5);

    // a sitting that opens tomorrow refuses a start today
    let now = Utc::now();
    let (_, later) = sitting(
        &app,
        &t,
        bp,
        json!({"opens_at": iso(now + Duration::days(1)), "closes_at": iso(now + Duration::days(1) + Duration::hours(2))}),
    );
    let (s, body) = app.api("POST", &format!("/api/v1/sittings/{}/attempts", later["id"]), &station, None);
    assert_eq!(s, Status::Conflict);
    assert_eq!(body["error"]["code"], "not_open");

    // bad input names the fields
    let (s, body) = sitting(
        &app,
        &t,
        bp,
        json!({"duration_minutes": 0, "closes_at": iso(now - Duration::days(1)), "eligibility": {"badges": ["X9999"]}}),
    );
    assert_eq!(s, Status::UnprocessableEntity);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("duration_minutes") && msg.contains("closes_at") && msg.contains("X9999"), "{msg}");
}

#[test]
fn the_deadline_never_runs_past_the_sittings_close() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (_, bp) = blueprint(&app, &t, json!({"rules": [{"kind": "truefalse", "count": 3, "points_centi": 100}]}));
    let now = Utc::now();
    let (_, s) =
        sitting(&app, &t, bp["id"].as_i64().unwrap(), json!({"closes_at": iso(now + Duration::minutes(10)), "duration_minutes": 60}));
    let tok = app.token("100010");
    let (_, att) = app.api("POST", &format!("/api/v1/sittings/{}/attempts", s["id"]), &tok, None);
    let deadline = chrono::DateTime::parse_from_rfc3339(att["deadline"].as_str().unwrap()).unwrap();
    assert!(deadline.with_timezone(&Utc) <= now + Duration::minutes(10) + Duration::seconds(1));
}

fn multi_sitting_score(rule: &str, pick_one_of_the_keys: bool) -> f64 {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (_, bp) = blueprint(&app, &t, json!({"rules": [{"kind": "multiple", "count": 1, "points_centi": 400}]}));
    let (_, s) = sitting(&app, &t, bp["id"].as_i64().unwrap(), json!({"multi_rule": rule}));
    let tok = app.token("100011");
    let (_, att) = app.api("POST", &format!("/api/v1/sittings/{}/attempts", s["id"]), &tok, None);
    let aid = att["attempt_id"].as_i64().unwrap();
    let qid = att["questions"][0]["id"].as_i64().unwrap();
    let key = key_of(&mut app.conn(), qid);
    let choices: Vec<String> = if pick_one_of_the_keys { vec![key[..1].to_string()] } else { key.chars().map(|c| c.to_string()).collect() };
    app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": choices})));
    let (_, r) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    let expected_share = if pick_one_of_the_keys { 1.0 / key.len() as f64 } else { 1.0 };
    let got: f64 = r["score"].as_str().unwrap().parse().unwrap();
    assert!((got - (4.0 * expected_share * 100.0).floor() / 100.0).abs() < 0.011 || rule == "all_or_nothing", "{rule}: {got}");
    got
}

#[test]
fn the_sittings_multiple_choice_rule_decides_partial_credit() {
    assert!(multi_sitting_score("partial", true) > 0.0);
    assert_eq!(multi_sitting_score("all_or_nothing", true), 0.0);
    assert_eq!(multi_sitting_score("all_or_nothing", false), 4.0);
}

#[test]
fn papers_are_shuffled_per_candidate_and_redraw_from_the_stored_seed() {
    let app = TestApp::new();
    let mut papers = Vec::new();
    for badge in ["100013", "100014", "100015"] {
        let tok = app.token(badge);
        let (_, att) = app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
        let ids: Vec<i64> = att["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
        papers.push((att["attempt_id"].as_i64().unwrap(), ids));
    }
    assert!(papers[0].1 != papers[1].1 || papers[1].1 != papers[2].1, "three identical papers");
    // audit: re-draw each paper from the sitting's frozen pool and the attempt's seed
    let mut conn = app.conn();
    let s = lawcert::db::models::exam::find_sitting(&mut conn, SittingId(1)).unwrap().unwrap();
    let pool: lawcert::domain::paper::Pool = serde_json::from_str(&s.pool).unwrap();
    for (aid, ids) in &papers {
        let a = lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(*aid)).unwrap().unwrap();
        let redrawn = lawcert::domain::paper::draw(&pool, a.seed as u64);
        assert_eq!(&redrawn.items.iter().map(|i| i.v.0).collect::<Vec<_>>(), ids);
    }
}
