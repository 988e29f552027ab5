//! Running the server on exam day: an overloaded save queue refuses at once (503, Retry-After)
//! and stores nothing it refused; /health, /ready and /metrics for load balancers and
//! operators; one log line per request.

use lawcert::domain::ids::{AttemptId, VersionId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use lawcert::db::models::exam as exam_db;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::{fresh_database, json as body_json, start, start_binary, start_binary_logging, TestApp, PASSWORD};

const MOCK: i64 = 1;

#[test]
fn a_full_save_queue_refuses_at_once_with_503_and_retry_after_and_stores_nothing() {
    // a queue bound of 0 is a queue that is always full
    let app = TestApp::with_env(&[("LAWCERT_SAVE_QUEUE_MAX", "0"), ("LAWCERT_SAVE_RETRY_AFTER", "2")]);
    let tok = app.token("100006");
    let (s, att) = start(&app, MOCK, "100006");
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
    assert!(exam_db::responses_of(&mut app.conn(), AttemptId(aid)).unwrap().is_empty());
    let (s, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(s, Status::Ok);
    assert!(view["questions"].as_array().unwrap().iter().all(|q| q["answer"].as_array().is_none_or(|a| a.is_empty())), "{view}");
    assert_eq!(app.state().saves.stats().refused.load(std::sync::atomic::Ordering::Relaxed), 1);

    // the queue is looked at before anything else: an overloaded server spends nothing more
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": ["Z"]})));
    assert_eq!(s, Status::ServiceUnavailable, "{body}");
    let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/999999"), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::ServiceUnavailable);
    // refused at the door: before the session is looked up or the body parsed, so refusing
    // costs no session read, no JSON and no cache fill
    let r = app.client.put(format!("/api/v1/attempts/{aid}/answers/{qid}")).header(ContentType::JSON).body("not json").dispatch();
    assert_eq!(r.status(), Status::ServiceUnavailable, "no token and a broken body still get the overload answer first");
    assert_eq!(r.headers().get_one("Retry-After"), Some("2"));
    assert_eq!(body_json(r)["error"]["code"], "overloaded");
    assert_eq!(app.state().saves.stats().refused.load(std::sync::atomic::Ordering::Relaxed), 4, "every refusal is counted");
    // other routes are not refused: the page that shows the saved answers still opens
    let (s, _) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(s, Status::Ok);
}

#[test]
fn a_late_runtime_refuses_saves_at_the_door_and_the_metrics_show_the_lag() {
    let app = TestApp::with_env(&[("LAWCERT_SAVE_MAX_LAG_MS", "0"), ("LAWCERT_METRICS_TOKEN", "metrics-token-0123456789")]);
    let tok = app.token("100006");
    let (_, att) = start(&app, MOCK, "100006");
    let aid = att["attempt_id"].as_i64().unwrap();
    let q = &att["questions"][0];
    let first = q["options"][0]["id"].as_str().unwrap();
    // a zero limit is off: the save goes through however late the runtime is
    app.state().load.record(Duration::from_secs(5));
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{}", q["id"]), &tok, Some(json!({"choices": [first]})));
    assert_eq!(s, Status::Ok, "{body}");
    drop(app);

    let app = TestApp::with_env(&[("LAWCERT_SAVE_MAX_LAG_MS", "50"), ("LAWCERT_METRICS_TOKEN", "metrics-token-0123456789")]);
    let tok = app.token("100006");
    let (_, att) = start(&app, MOCK, "100006");
    let aid = att["attempt_id"].as_i64().unwrap();
    let q = &att["questions"][0];
    let first = q["options"][0]["id"].as_str().unwrap();
    // the runtime runs 10 s late (two hundred times the limit), as a sampler would see it on a
    // saturated machine; a thread keeps saying so, so the real sampler's on-time ticks in this
    // idle test cannot decay it below the limit meanwhile
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (gauge, flag) = (app.state().load.clone(), stop.clone());
    let (said, heard) = std::sync::mpsc::channel();
    let late = std::thread::spawn(move || {
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            gauge.record(Duration::from_secs(10));
            let _ = said.send(());
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    heard.recv().unwrap();
    let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{}", q["id"]), &tok, Some(json!({"choices": [first]})));
    assert_eq!(s, Status::ServiceUnavailable, "{body}");
    assert_eq!(body["error"]["code"], "overloaded");
    assert!(exam_db::responses_of(&mut app.conn(), AttemptId(aid)).unwrap().is_empty(), "a refused save is not stored");
    let r = app.client.get("/metrics").header(Header::new("Authorization", "Bearer metrics-token-0123456789")).dispatch();
    let text = r.into_string().unwrap();
    let lag = text.lines().find_map(|l| l.strip_prefix("lawcert_runtime_lag_seconds ")).expect("runtime lag exported");
    assert!(lag.parse::<f64>().unwrap() > 0.05, "{lag}");
    assert!(text.contains("lawcert_save_max_lag_seconds 0.05"), "{text}");
    let share = text.lines().find_map(|l| l.strip_prefix("lawcert_save_refuse_share ")).expect("refuse share exported");
    assert!(share.parse::<f64>().unwrap() > 0.0, "late past the limit: a share is refused ({share})");
    // other requests are not refused for lateness: the candidate's page still opens
    let (s, _) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(s, Status::Ok);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    late.join().unwrap();
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
            exam_db::responses_of(&mut conn, AttemptId(aid)).unwrap().into_iter().map(|r| (r.question_version_id.0, r.choices)).collect();
        assert_eq!(in_db, stored, "round {round}");
        if refused > 0 && round >= 4 {
            break;
        }
    }
    assert!(acked > 0, "some saves get through");
    assert!(refused > 0, "a burst of {} saves against a queue of one is refused in part", questions.len());
}

const TOKEN: &str = "metrics-token-for-the-journeys";

/// A metric's value in the Prometheus text, by its series (name and labels as printed).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(|v| v.trim().parse().unwrap()))
}

fn scrape(app: &TestApp) -> String {
    let r = app.client.get("/metrics").header(Header::new("Authorization", format!("Bearer {TOKEN}"))).dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.headers().get_one("Content-Type"), Some("text/plain; version=0.0.4"));
    r.into_string().unwrap()
}

#[test]
fn health_and_ready_answer_for_load_balancers_and_ready_names_what_is_wrong() {
    let app = TestApp::new();
    let r = app.client.get("/health").dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(body_json(r)["status"], "ok");
    let r = app.client.get("/ready").dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(body_json(r)["status"], "ready");

    // a database that lacks a migration this build needs is not ready, and says why
    {
        use diesel::RunQueryDsl;
        let mut c = app.conn();
        let newest: String = {
            #[derive(diesel::QueryableByName)]
            struct V {
                #[diesel(sql_type = diesel::sql_types::Text)]
                version: String,
            }
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version DESC LIMIT 1")
                .get_result::<V>(&mut *c)
                .unwrap()
                .version
        };
        diesel::sql_query(format!("DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'")).execute(&mut *c).unwrap();
    }
    let r = app.client.get("/ready").dispatch();
    assert_eq!(r.status(), Status::ServiceUnavailable);
    let body = body_json(r);
    assert_eq!(body["status"], "unavailable");
    assert!(body["reason"].as_str().unwrap().contains("migrations"), "{body}");
    // liveness does not look at the database
    assert_eq!(app.client.get("/health").dispatch().status(), Status::Ok);
}

#[test]
fn metrics_are_off_without_a_token_and_need_the_token_not_a_role() {
    let off = TestApp::new();
    assert_eq!(off.client.get("/metrics").dispatch().status(), Status::NotFound, "off by default");
    drop(off);

    let app = TestApp::with_env(&[("LAWCERT_METRICS_TOKEN", TOKEN)]);
    let r = app.client.get("/metrics").dispatch();
    assert_eq!(r.status(), Status::Unauthorized);
    assert!(r.headers().get_one("WWW-Authenticate").is_some_and(|h| h.starts_with("Bearer")));
    let r = app.client.get("/metrics").header(Header::new("Authorization", "Bearer metrics-token-for-the-journeyZ")).dispatch();
    assert_eq!(r.status(), Status::Unauthorized, "a wrong token");
    // an admin's session is not the token
    app.login_page("admin");
    assert_eq!(app.client.get("/metrics").dispatch().status(), Status::Unauthorized);
    let admin = app.token("admin");
    let r = app.client.get("/metrics").header(Header::new("Authorization", format!("Bearer {admin}"))).dispatch();
    assert_eq!(r.status(), Status::Unauthorized, "an API token is not the metrics token");

    let text = scrape(&app);
    for name in [
        "lawcert_http_requests_total",
        "lawcert_http_request_duration_seconds_bucket",
        "lawcert_save_queue_depth",
        "lawcert_save_queue_max",
        "lawcert_save_batch_size_count",
        "lawcert_save_batch_seconds_bucket",
        "lawcert_save_queue_wait_seconds_bucket",
        "lawcert_saves_accepted_total",
        "lawcert_saves_refused_total",
        "lawcert_save_writers_running",
        "lawcert_open_attempts",
        "lawcert_sweeper_lag_seconds",
        "lawcert_sweeper_last_run_timestamp_seconds",
        "lawcert_mail_queue_length",
        "lawcert_mail_failed",
        "lawcert_db_pool_connections",
        "lawcert_db_pool_max",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing from\n{text}");
    }
    assert_eq!(metric(&text, "lawcert_save_queue_max"), Some(4096.0));
    // one writer on SQLite, half the pool (4 in tests) on PostgreSQL
    let writers = if crate::common::postgres_server().is_some() { 2.0 } else { 1.0 };
    assert_eq!(metric(&text, "lawcert_save_writers_running"), Some(writers));
    assert_eq!(metric(&text, "lawcert_db_pool_max"), Some(4.0));
    // routes are labelled by their template, not by the path asked for
    assert!(text.contains(r#"route="/metrics",status="401""#), "{text}");
    assert!(!text.contains(r#"route="/api/v1/attempts/1"#), "raw paths never become labels");
}

#[test]
fn a_save_moves_the_counters_and_a_refusal_moves_the_refused_ones() {
    let app = TestApp::with_env(&[("LAWCERT_METRICS_TOKEN", TOKEN)]);
    let save_ok = r#"lawcert_http_requests_total{method="PUT",route="/api/v1/attempts/<id>/answers/<version_id>",status="200"}"#;
    let before = scrape(&app);
    assert_eq!(metric(&before, save_ok), None, "no save yet");
    assert_eq!(metric(&before, "lawcert_open_attempts"), Some(0.0));
    let tok = app.token("100006");
    let (s, att) = start(&app, MOCK, "100006");
    assert_eq!(s, Status::Created);
    let aid = att["attempt_id"].as_i64().unwrap();
    for q in att["questions"].as_array().unwrap().iter().take(3) {
        let first = q["options"][0]["id"].as_str().unwrap();
        let (s, _) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{}", q["id"]), &tok, Some(json!({"choices": [first]})));
        assert_eq!(s, Status::Ok);
    }
    let after = scrape(&app);
    assert_eq!(metric(&after, save_ok), Some(3.0), "{after}");
    assert_eq!(metric(&after, "lawcert_saves_accepted_total"), Some(3.0));
    assert_eq!(metric(&after, "lawcert_saves_refused_total"), Some(0.0));
    assert!(metric(&after, "lawcert_save_batch_size_count").unwrap() >= 1.0);
    assert_eq!(metric(&after, "lawcert_save_batch_size_sum"), Some(3.0), "three saves went through the writer");
    // each committed batch is timed once, and its queue wait once
    let batches = metric(&after, "lawcert_save_batch_size_count");
    assert_eq!(metric(&after, "lawcert_save_batch_seconds_count"), batches);
    assert_eq!(metric(&after, "lawcert_save_queue_wait_seconds_count"), batches);
    assert!(metric(&after, "lawcert_save_batch_seconds_sum").unwrap() > 0.0, "a commit takes some time");
    assert_eq!(metric(&after, "lawcert_open_attempts"), Some(1.0));
    let latency_count = r#"lawcert_http_request_duration_seconds_count{method="PUT",route="/api/v1/attempts/<id>/answers/<version_id>"}"#;
    assert_eq!(metric(&after, latency_count), Some(3.0));
    // each save that went through the writer is timed stage by stage; the stages run from the
    // request's arrival to its acknowledgement, so together they are within its own time
    let stages = ["door", "session_and_body", "prepare", "queue", "store", "wake"];
    let stage = |text: &str, part: &str, st: &str| metric(text, &format!(r#"lawcert_save_stage_seconds_{part}{{stage="{st}"}}"#));
    for st in stages {
        assert_eq!(stage(&after, "count", st), Some(3.0), "stage {st} in\n{after}");
    }
    let staged: f64 = stages.iter().map(|st| stage(&after, "sum", st).unwrap()).sum();
    let whole = metric(&after, &latency_count.replace("_count", "_sum")).unwrap();
    assert!(staged > 0.0 && staged <= whole, "stages {staged} s against the requests' {whole} s");
    assert!(stage(&after, "sum", "store").unwrap() > 0.0, "a commit takes some time");
    // the start is timed stage by stage too, within its own time; a resume takes no write
    // lock and is not counted as a start
    let starts = ["session", "connection", "checks", "write_lock", "write", "view"];
    let start_stage = |text: &str, part: &str, st: &str| metric(text, &format!(r#"lawcert_start_stage_seconds_{part}{{stage="{st}"}}"#));
    for st in starts {
        assert_eq!(start_stage(&before, "count", st), Some(0.0), "start stage {st} before any start");
        assert_eq!(start_stage(&after, "count", st), Some(1.0), "start stage {st} in\n{after}");
    }
    let start_route = r#"lawcert_http_request_duration_seconds_sum{method="POST",route="/api/v1/sittings/<id>/attempts"}"#;
    let start_whole = metric(&after, start_route).unwrap_or_else(|| panic!("{start_route} in\n{after}"));
    let start_staged: f64 = starts.iter().map(|st| start_stage(&after, "sum", st).unwrap()).sum();
    assert!(start_staged > 0.0 && start_staged <= start_whole, "start stages {start_staged} s against the request's {start_whole} s");
    let (s, _) = start(&app, MOCK, "100006");
    assert_eq!(s, Status::Ok, "a resume");
    assert_eq!(start_stage(&scrape(&app), "count", "write"), Some(1.0), "a resume is not timed as a start");

    // the same on a server whose queue is always full: refusals are counted as such
    drop(app);
    let full = TestApp::with_env(&[("LAWCERT_METRICS_TOKEN", TOKEN), ("LAWCERT_SAVE_QUEUE_MAX", "0")]);
    let tok = full.token("100006");
    let (_, att) = start(&full, MOCK, "100006");
    let aid = att["attempt_id"].as_i64().unwrap();
    let q = &att["questions"][0];
    let (s, _) = full.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{}", q["id"]), &tok, Some(json!({"choices": ["A"]})));
    assert_eq!(s, Status::ServiceUnavailable);
    let text = scrape(&full);
    assert_eq!(metric(&text, "lawcert_saves_refused_total"), Some(1.0));
    assert_eq!(metric(&text, "lawcert_saves_accepted_total"), Some(0.0));
    assert_eq!(metric(&text, &save_ok.replace("200", "503")), Some(1.0));
    assert_eq!(stage(&text, "count", "door"), Some(0.0), "a save refused at the door is not timed as one that went through");
}

#[test]
fn a_start_from_the_exam_page_is_timed_by_stage_like_one_through_the_api() {
    let app = TestApp::with_env(&[("LAWCERT_METRICS_TOKEN", TOKEN)]);
    let csrf = app.login_page("100020");
    let (s, body, _) = crate::common::post(&app, &format!("/exams/{MOCK}/start"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::SeeOther, "{body}");
    let text = scrape(&app);
    let start_stage = |part: &str, st: &str| metric(&text, &format!(r#"lawcert_start_stage_seconds_{part}{{stage="{st}"}}"#)).unwrap();
    for st in ["session", "connection", "checks", "write_lock", "write", "view"] {
        assert_eq!(start_stage("count", st), 1.0, "start stage {st} in\n{text}");
    }
    assert!(start_stage("sum", "write") > 0.0, "the attempt's transaction takes some time");
    // the page answers with a redirect: the paper is built by the next request, not this one
    assert_eq!(start_stage("sum", "view"), 0.0);
}

#[test]
fn the_binary_logs_one_structured_line_per_request_and_rocket_keeps_quiet() {
    let db = fresh_database();
    let log = std::env::temp_dir().join(format!("lawcert-log-{}.txt", std::process::id()));
    let stderr = std::fs::File::create(&log).unwrap().into();
    let (server, base) = start_binary_logging(&db.url, &[("ROCKET_LOG_LEVEL", ""), ("RUST_LOG", "info")], stderr);
    let _ = ureq::get(&format!("{base}/api/v1/attempts/12345")).call();
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let line = text.lines().find(|l| l.contains("/api/v1/attempts/12345")).unwrap_or_else(|| panic!("no line for the request in\n{text}"));
    for part in ["INFO", "lawcert::http", r#"method="GET""#, r#"route="/api/v1/attempts/<id>""#, "status=401", "latency_ms="] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    assert_eq!(text.lines().filter(|l| l.contains("/api/v1/attempts/12345")).count(), 1, "one line per request:\n{text}");
    // Rocket's own chatter (its route table, a line per request) is off unless asked for
    assert!(!text.contains("Matched:") && !text.contains("Routes:"), "{text}");
}

#[test]
fn a_save_without_a_flag_keeps_the_mark_for_review_and_one_with_it_sets_it() {
    // the answer upsert is written out by hand (kept prepared); its two forms must keep the
    // flag's meaning: absent keeps it, present sets it, a new row starts unmarked
    let app = TestApp::new();
    let tok = app.token("100006");
    let (_, att) = start(&app, MOCK, "100006");
    let aid = att["attempt_id"].as_i64().unwrap();
    let q = &att["questions"][0];
    let (qid, a, b) = (q["id"].as_i64().unwrap(), q["options"][0]["id"].clone(), q["options"][1]["id"].clone());
    let stored = |app: &TestApp| {
        let r = exam_db::responses_of(&mut app.conn(), AttemptId(aid))
            .unwrap()
            .into_iter()
            .find(|r| r.question_version_id == VersionId(qid))
            .unwrap();
        (r.choices, r.flagged)
    };
    let put = |body: Value| {
        let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(body));
        assert_eq!(s, Status::Ok, "{body}");
    };
    put(json!({"choices": [a]}));
    assert_eq!(stored(&app), (a.as_str().unwrap().to_string(), false), "a new answer starts unmarked");
    put(json!({"choices": [a], "flagged": true}));
    assert!(stored(&app).1);
    put(json!({"choices": [b]}));
    assert_eq!(stored(&app), (b.as_str().unwrap().to_string(), true), "no flag in the save keeps the mark");
    put(json!({"choices": [b], "flagged": false}));
    assert!(!stored(&app).1);
    let (_, view) = app.api("GET", &format!("/api/v1/attempts/{aid}"), &tok, None);
    assert_eq!(view["questions"][0]["answer"], json!([b]));
    assert_eq!(view["questions"][0]["flagged"], false);
}

#[test]
fn the_writer_s_log_restart_skips_a_log_a_reader_still_reads_instead_of_waiting_for_it() {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    let db = fresh_database();
    let pool = crate::common::bare_pool(&db, &Default::default());
    let mut writer = pool.get().unwrap();
    if crate::common::postgres_server().is_some() {
        assert!(!lawcert::db::restart_log(&mut writer, false).unwrap(), "PostgreSQL has no such log to restart");
        return;
    }
    writer.batch_execute("CREATE TABLE restart_probe (x INTEGER); INSERT INTO restart_probe VALUES (1), (2);").unwrap();
    // a reader in the middle of a read transaction on the log's frames
    let mut reader = pool.get().unwrap();
    reader.batch_execute("BEGIN; SELECT count(*) FROM restart_probe;").unwrap();
    let began = Instant::now();
    assert!(!lawcert::db::restart_log(&mut writer, false).unwrap(), "skipped while the reader reads the log");
    // it did not sit in the busy handler (10 s) with the write lock held
    assert!(began.elapsed() < Duration::from_secs(5), "waited {:?} for the reader", began.elapsed());
    #[derive(diesel::QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        timeout: i32,
    }
    let t: Timeout = diesel::sql_query("PRAGMA busy_timeout").get_result(&mut *writer).unwrap();
    assert_eq!(t.timeout, 10_000, "the connection's busy timeout is back for everything else");
    // once the reader is done, the restart goes through (a background checkpoint of another
    // test in this process may hold the checkpoint lock for a moment: then it is tried again)
    reader.batch_execute("COMMIT").unwrap();
    let restarted = (0..200).any(|_| {
        let done = lawcert::db::restart_log(&mut writer, false).unwrap();
        if !done {
            std::thread::sleep(Duration::from_millis(10));
        }
        done
    });
    assert!(restarted, "the log restarts once no reader reads it");
}
