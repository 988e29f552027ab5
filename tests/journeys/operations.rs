//! Running the server on exam day: an overloaded save queue refuses at once (503, Retry-After)
//! and stores nothing it refused.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lawcert::db::models::exam as exam_db;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::{fresh_database, json as body_json, repo_root, TestApp, PASSWORD, TEST_SECRET};

const MOCK: i64 = 1;

#[test]
fn a_full_save_queue_refuses_at_once_with_503_and_retry_after_and_stores_nothing() {
    // a queue bound of 0 is a queue that is always full
    let app = TestApp::with_env(&[("LAWCERT_SAVE_QUEUE_MAX", "0"), ("LAWCERT_SAVE_RETRY_AFTER", "2")]);
    let tok = app.token("100006");
    let (s, att) = app.api("POST", &format!("/api/v1/sittings/{MOCK}/attempts"), &tok, None);
    assert_eq!(s, Status::Created, "{att}");
    let aid = att["attempt_id"].as_i64().unwrap();
    let qid = att["questions"][0]["id"].as_i64().unwrap();
    let first = att["questions"][0]["options"][0]["id"].as_str().unwrap().to_string();

    let started = Instant::now();
    let r = app
        .client
        .put(format!("/api/v1/attempts/{aid}/answers/{qid}"))
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .header(ContentType::JSON)
        .body(json!({"choices": [first]}).to_string())
        .dispatch();
    assert_eq!(r.status(), Status::ServiceUnavailable);
    assert_eq!(r.headers().get_one("Retry-After"), Some("2"), "the wait the setting names, in seconds");
    assert_eq!(r.content_type(), Some(ContentType::JSON));
    let body = body_json(r);
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not saved"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(2), "refused at once, not after queueing");

    // nothing stored, nothing shown as saved
    assert!(exam_db::responses_of(&mut app.conn(), aid).unwrap().is_empty());
    let (s, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert!(view["questions"].as_array().unwrap().iter().all(|q| q["answer"].as_array().is_none_or(|a| a.is_empty())), "{view}");
    assert_eq!(app.state().saves.stats().refused.load(std::sync::atomic::Ordering::Relaxed), 1);

    // the queue is looked at before anything else: an overloaded server spends nothing more
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": ["Z"]})));
    assert_eq!(s, Status::ServiceUnavailable, "{body}");
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/999999"), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::ServiceUnavailable);
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binary on a free port with extra settings; returns it and its base URL.
fn start_binary(db_url: &str, extra: &[(&str, &str)]) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lawcert"));
    cmd.current_dir(repo_root())
        .env("DATABASE_URL", db_url)
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_SECRET_KEY", TEST_SECRET)
        .env("ROCKET_LOG_LEVEL", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().expect("start lawcert"));
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while ureq::get(&format!("{base}/login")).call().is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, base)
}

#[test]
fn under_a_tiny_queue_bound_every_acknowledged_save_is_stored_and_no_refused_one() {
    let db = fresh_database();
    // one save may wait; the rest of a burst is refused
    let (_server, base) = start_binary(&db.url, &[("LAWCERT_SAVE_QUEUE_MAX", "1"), ("LAWCERT_SAVE_QUEUE_WAIT_MS", "60000")]);
    let tok: Value = ureq::post(&format!("{base}/api/v1/auth/token"))
        .send_json(json!({"badge": "100007", "password": PASSWORD}))
        .unwrap()
        .into_json()
        .unwrap();
    let auth = format!("Bearer {}", tok["token"].as_str().unwrap());
    let att: Value =
        ureq::post(&format!("{base}/api/v1/sittings/{MOCK}/attempts")).set("Authorization", &auth).call().unwrap().into_json().unwrap();
    let aid = att["attempt_id"].as_i64().unwrap();
    let questions: Vec<(i64, Vec<String>)> = att["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (q["id"].as_i64().unwrap(), q["options"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect())
        })
        .collect();
    assert!(questions.len() >= 10);
    let pool = lawcert::db::connect(&lawcert::db::DbUrl::parse(&db.url).unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();

    let (mut acked, mut refused) = (0, 0);
    let mut stored: HashMap<i64, String> = HashMap::new();
    for round in 0..40 {
        // every question at once, each from its own thread: a burst the queue cannot hold
        let results: Vec<(i64, String, u16, Option<String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = questions
                .iter()
                .map(|(qid, options)| {
                    let choice = options[round % options.len()].clone();
                    let (base, auth) = (&base, &auth);
                    s.spawn(move || {
                        let r = ureq::put(&format!("{base}/api/v1/attempts/{aid}/answers/{qid}"))
                            .set("Authorization", auth)
                            .send_json(json!({"choices": [choice]}));
                        match r {
                            Ok(r) => (*qid, choice, r.status(), None),
                            Err(ureq::Error::Status(code, r)) => {
                                let retry = r.header("Retry-After").map(str::to_string);
                                let body: Value = r.into_json().unwrap();
                                assert_eq!(body["error"]["code"], "overloaded", "{body}");
                                (*qid, choice, code, retry)
                            }
                            Err(e) => panic!("save failed: {e}"),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (qid, choice, code, retry) in results {
            match code {
                200 => {
                    acked += 1;
                    stored.insert(qid, choice);
                }
                503 => {
                    refused += 1;
                    assert_eq!(retry.as_deref(), Some("1"), "a refusal says when to come back");
                }
                other => panic!("unexpected status {other}"),
            }
        }
        // the database holds exactly the acknowledged answers: a refused save changed nothing
        let in_db: HashMap<i64, String> =
            exam_db::responses_of(&mut conn, aid).unwrap().into_iter().map(|r| (r.question_version_id, r.choices)).collect();
        assert_eq!(in_db, stored, "round {round}");
        if refused > 0 && round >= 4 {
            break;
        }
    }
    assert!(acked > 0, "some saves get through");
    assert!(refused > 0, "a burst of {} saves against a queue of one is refused in part", questions.len());
}
