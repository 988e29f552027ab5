//! An officer sits the demo mock exam through the API: start, resume, save, submit, and every
//! refusal the brief asks for.

use chrono::Duration;
use lawcert::domain::ids::{AttemptId, SittingId, VersionId};
use rocket::http::Status;
use serde_json::{json, Value};

use crate::common::{key_of, TestApp};

const MOCK: i64 = 1;

fn start(app: &TestApp, token: &str) -> (Status, Value) {
    app.api("POST", &format!("/api/v1/sittings/{MOCK}/attempts"), token, None)
}

#[test]
fn token_needs_the_right_password_and_errors_are_json() {
    let app = TestApp::new();
    let r = app
        .client
        .post("/api/v1/auth/token")
        .header(rocket::http::ContentType::JSON)
        .body(r#"{"badge":"100001","password":"nope"}"#)
        .dispatch();
    assert_eq!(r.status(), Status::Unauthorized);
    let body: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let (s, body) = app.api("GET", "/api/v1/me/sittings", "not-a-token", None);
    assert_eq!(s, Status::Unauthorized);
    assert!(body["error"]["message"].as_str().unwrap().len() > 5);
    let (s, body) = app.api("POST", "/api/v1/auth/token", "", Some(json!({"badge": 5})));
    assert_eq!(s, Status::BadRequest, "{body}");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[test]
fn repeated_wrong_passwords_make_the_badge_wait_from_that_address() {
    let app = TestApp::new();
    let try_token = |password: &str| {
        let r = app
            .client
            .post("/api/v1/auth/token")
            .header(rocket::http::ContentType::JSON)
            .body(format!(r#"{{"badge":"100006","password":"{password}"}}"#))
            .dispatch();
        let s = r.status();
        (s, serde_json::from_str::<Value>(&r.into_string().unwrap()).unwrap())
    };
    for _ in 0..4 {
        assert_eq!(try_token("guess").0, Status::Unauthorized);
    }
    let (s, body) = try_token("guess");
    assert_eq!(s, Status::TooManyRequests, "the fifth wrong password locks: {body}");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    let (s, _) = try_token(crate::common::PASSWORD);
    assert_eq!(s, Status::TooManyRequests, "even the right password waits while locked");
    // the sign-in page says so in words, and another badge is not affected
    let page = app.client.get("/login").dispatch().into_string().unwrap();
    let csrf = crate::common::form_csrf(&page);
    let r = app
        .client
        .post("/login")
        .header(rocket::http::ContentType::Form)
        .body(format!("_csrf={csrf}&badge=100006&password={}&next=/", crate::common::PASSWORD))
        .dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert!(r.into_string().unwrap().contains("已暂时锁定"));
    app.token("100007");
    // after the first wait (a minute) the right password works again
    app.clock.advance(Duration::minutes(1));
    let (s, body) = try_token(crate::common::PASSWORD);
    assert_eq!(s, Status::Ok, "{body}");
}

#[test]
fn officer_sits_the_mock_exam_and_gets_the_graded_result() {
    let app = TestApp::new();
    let tok = app.token("100001");
    let (s, list) = app.api("GET", "/api/v1/me/sittings", &tok, None);
    assert_eq!(s, Status::Ok);
    let mock = list.as_array().unwrap().iter().find(|x| x["id"] == MOCK).expect("mock exam listed");
    assert_eq!(mock["state"], "open");
    assert_eq!(mock["duration_minutes"], 30);

    let (s, att) = start(&app, &tok);
    assert_eq!(s, Status::Created);
    let aid = att["attempt_id"].as_i64().unwrap();
    let qs = att["questions"].as_array().unwrap().clone();
    assert_eq!(qs.len(), 25, "demo blueprint: 10 single, 5 multiple, 10 true/false");
    assert!(att["deadline"].as_str().unwrap().ends_with('Z'));

    // resume: same attempt, same paper
    let (s, again) = start(&app, &tok);
    assert_eq!(s, Status::Ok);
    assert_eq!(again["attempt_id"], aid);
    assert_eq!(again["questions"], att["questions"]);

    // answer every question correctly except the first two (one wrong, one left blank)
    let mut conn = app.conn();
    let mut expected_centi = 0i64;
    for (i, q) in qs.iter().enumerate() {
        let qid = q["id"].as_i64().unwrap();
        let key = key_of(&mut conn, qid);
        let points: f64 = q["points"].as_str().unwrap().parse().unwrap();
        let choices: Vec<String> = match i {
            0 => {
                let wrong = q["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_string())
                    .find(|id| !key.contains(id.as_str()))
                    .unwrap();
                vec![wrong]
            }
            1 => continue,
            _ => {
                expected_centi += (points * 100.0) as i64;
                key.chars().map(|c| c.to_string()).collect()
            }
        };
        let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": choices})));
        assert_eq!(s, Status::Ok, "{body}");
        assert!(body["saved_at"].is_string());
    }
    // the saved answers come back with the attempt
    let (s, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert_eq!(view["questions"][0]["answer"].as_array().unwrap().len(), 1);
    assert!(view["questions"][1]["answer"].is_null());

    let (s, result) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok, "{result}");
    let score: f64 = result["score"].as_str().unwrap().parse().unwrap();
    assert_eq!((score * 100.0).round() as i64, expected_centi);
    assert_eq!(result["max_score"], "100");
    assert_eq!(result["passed"], json!(expected_centi >= 6000));

    // submitting again returns the same result; saving now is refused
    let (s, again) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert_eq!(again, result);
    let qid = qs[1]["id"].as_i64().unwrap();
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::Conflict);
    assert_eq!(body["error"]["code"], "submitted");
}

#[test]
fn no_answer_key_or_explanation_reaches_the_candidate() {
    let app = TestApp::new();
    let tok = app.token("100002");
    let (_, att) = start(&app, &tok);
    let text = att.to_string();
    for banned in ["explanation", "\"key\"", "answer_key", "correct", "\"answer\":\"", "articles"] {
        assert!(!text.contains(banned), "candidate payload contains {banned}");
    }
    // and none of the explanations' text
    let mut conn = app.conn();
    for q in att["questions"].as_array().unwrap() {
        let vid = q["id"].as_i64().unwrap();
        let cache = app.state().versions.get_many(&mut conn, &[VersionId(vid)]).unwrap();
        let expl = &cache[&VersionId(vid)].explanation;
        assert!(!text.contains(expl.as_str()), "explanation of {vid} leaked");
    }
}

#[test]
fn saves_after_the_deadline_are_refused_and_the_server_submits_what_was_saved() {
    let app = TestApp::new();
    let tok = app.token("100003");
    let (_, att) = start(&app, &tok);
    let aid = att["attempt_id"].as_i64().unwrap();
    let q0 = &att["questions"][0];
    let qid0 = q0["id"].as_i64().unwrap();
    let key0 = key_of(&mut app.conn(), qid0);
    let (s, _) = app.api(
        "PUT",
        &format!("/api/v1/attempts/{aid}/answers/{qid0}"),
        &tok,
        Some(json!({"choices": key0.chars().map(|c| c.to_string()).collect::<Vec<_>>()})),
    );
    assert_eq!(s, Status::Ok);

    app.clock.advance(Duration::minutes(31));
    let qid1 = att["questions"][1]["id"].as_i64().unwrap();
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid1}"), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::Conflict, "{body}");
    assert_eq!(body["error"]["code"], "deadline_passed");

    // the sweeper (every second in tests) submits it without the candidate doing anything
    let trainer = app.token("T0001");
    let mut row = Value::Null;
    for _ in 0..50 {
        let (_, results) = app.api("GET", &format!("/api/v1/sittings/{}/results", 1), &trainer, None);
        row = results.as_array().unwrap().iter().find(|r| r["attempt_id"] == aid).cloned().unwrap();
        if !row["submitted_at"].is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(row["submit_kind"], "auto", "{row}");
    assert_eq!(row["submitted_at"].as_str().unwrap(), att["deadline"].as_str().unwrap(), "submitted at the deadline, not later");
    assert_eq!(row["score"], q0["points"], "exactly the one saved answer was graded");
}

#[test]
fn another_officers_attempt_is_not_theirs_to_see_or_change() {
    let app = TestApp::new();
    let (a, b) = (app.token("100004"), app.token("100005"));
    let (_, att) = start(&app, &a);
    let aid = att["attempt_id"].as_i64().unwrap();
    let qid = att["questions"][0]["id"].as_i64().unwrap();
    let (s, _) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &b, None);
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &b, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &b, None);
    assert_eq!(s, Status::NotFound);
    // and the owner's attempt is untouched
    let (_, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &a, None);
    assert!(view["questions"][0]["answer"].is_null());
    assert_eq!(view["submitted"], false);
}

#[test]
fn bad_answers_are_refused_with_the_reason() {
    let app = TestApp::new();
    let tok = app.token("100006");
    let (_, att) = start(&app, &tok);
    let aid = att["attempt_id"].as_i64().unwrap();
    let single = att["questions"].as_array().unwrap().iter().find(|q| q["kind"] == "single").unwrap();
    let qid = single["id"].as_i64().unwrap();
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": ["A", "B"]})));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(body["error"]["message"].as_str().unwrap().contains("one answer"));
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": ["Z"]})));
    assert_eq!(s, Status::UnprocessableEntity);
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/999999"), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::NotFound);
    let (_, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert!(view["questions"].as_array().unwrap().iter().all(|q| q["answer"].is_null()), "nothing was stored");
}

#[test]
fn double_start_and_double_submit_race_to_one_attempt_and_one_result() {
    use lawcert::services::exams::{self, Candidate};
    let app = TestApp::new();
    let state = app.state();
    let user = lawcert::db::models::org::find_by_badge(&mut app.conn(), "100007").unwrap().unwrap();
    let now = app.clock.now();
    // four requests at once, each on its own database connection
    let starts: Vec<(i64, bool)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = state.pool.get().unwrap();
                    let c = Candidate { id: user.id, badge: &user.badge, unit_id: user.unit_id, police_type: &user.police_type };
                    let (a, created) =
                        exams::start_attempt(&mut conn, &Default::default(), SittingId(MOCK), &c, &Default::default(), now, None).unwrap();
                    (a.id.0, created)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: std::collections::HashSet<i64> = starts.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 1, "one attempt per candidate and sitting");
    assert_eq!(starts.iter().filter(|(_, created)| *created).count(), 1, "exactly one start created it");
    let aid = *ids.iter().next().unwrap();
    let graded: Vec<(Option<chrono::NaiveDateTime>, Option<i64>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = state.pool.get().unwrap();
                    let a =
                        exams::submit(&mut conn, &state.versions, AttemptId(aid), lawcert::domain::exam::SubmitKind::Manual, now).unwrap();
                    (a.submitted_at, a.score_centi)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(graded.iter().all(|g| *g == graded[0] && g.0.is_some()), "{graded:?}");
    let tok = app.token("100007");
    let (_, a) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    let (_, b) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(a, b, "double submit returns the same result");
}

#[test]
fn roles_are_checked_on_every_call() {
    let app = TestApp::new();
    let hr = app.token("H0001");
    let (s, body) = app.api("GET", "/api/v1/me/sittings", &hr, None);
    assert_eq!(s, Status::Forbidden, "HR is not a candidate");
    assert_eq!(body["error"]["code"], "forbidden");
    let officer = app.token("100008");
    let (s, _) = app.api("POST", "/api/v1/sittings", &officer, Some(json!({})));
    assert_eq!(s, Status::Forbidden, "officers cannot schedule");
    let (s, _) = app.api("GET", "/api/v1/sittings/1/results", &officer, None);
    assert_eq!(s, Status::Forbidden, "officers cannot read everyone's results");
    let (s, _) = app.api("POST", "/api/v1/blueprints", &officer, Some(json!({})));
    assert_eq!(s, Status::Forbidden);
}

#[test]
fn a_started_attempt_is_in_memory_before_its_first_save() {
    // the first saves of an exam must not all read the database at once (issue 18): the start
    // leaves what a save checks (owner, paper, room) in the attempt cache
    let app = TestApp::new();
    let tok = app.token("100006");
    let (_, att) = start(&app, &tok);
    let aid = AttemptId(att["attempt_id"].as_i64().unwrap());
    let meta = app.state().attempts.get(aid).expect("the start cached the attempt");
    let on_paper: std::collections::HashSet<i64> = att["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
    assert_eq!(meta.questions.iter().map(|v| v.0).collect::<std::collections::HashSet<_>>(), on_paper, "the paper's questions");
    assert_eq!(meta.user_id, lawcert::db::models::org::find_by_badge(&mut app.conn(), "100006").unwrap().unwrap().id);
}
