//! Crash safety: the server binary is killed with SIGKILL while candidates are saving; after a
//! restart every acknowledged save is there, deadlines are unchanged, attempts resume, and
//! attempts whose deadline passed while the server was down are submitted with what they had.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{fresh_database, start_binary, Server};

fn start(url: &str) -> (Server, String) {
    // every save must be taken here, however loaded the test machine (operations.rs tests refusal)
    start_binary(url, &[("LAWCERT_DEMO", "1"), ("LAWCERT_SAVE_MAX_LAG_MS", "0"), ("LAWCERT_SWEEP_SECONDS", "1")])
}

/// SIGKILL: no shutdown, no flush.
fn kill(server: Server) {
    drop(server);
}

fn token(base: &str, badge: &str) -> String {
    let v: Value = ureq::post(&format!("{base}/api/v1/auth/token"))
        .send_json(json!({"badge": badge, "password": "lawcert-demo"}))
        .unwrap()
        .into_json()
        .unwrap();
    format!("Bearer {}", v["token"].as_str().unwrap())
}

/// What a candidate thread knows: the last acknowledged answer per question, and the one save
/// that may have been in flight when the server died.
#[derive(Default)]
struct Seen {
    acked: HashMap<i64, String>,
    in_flight: Option<(i64, String)>,
}

#[test]
fn a_killed_server_loses_no_acknowledged_save_and_submits_overdue_attempts_on_restart() {
    let db = fresh_database();
    let (server, base) = start(&db.url);
    let trainer = token(&base, "T0001");
    let bp: Value = ureq::post(&format!("{base}/api/v1/blueprints"))
        .set("Authorization", &trainer)
        .send_json(json!({"name": "crash", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 8, "points_centi": 100}]}}))
        .unwrap()
        .into_json()
        .unwrap();
    let now = chrono::Utc::now();
    let sitting: Value = ureq::post(&format!("{base}/api/v1/sittings"))
        .set("Authorization", &trainer)
        .send_json(json!({"title": "crash", "kind": "bimonthly", "blueprint_id": bp["id"], "opens_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                          "closes_at": (now + chrono::Duration::hours(1)).to_rfc3339(), "duration_minutes": 1, "pass_percent": 60,
                          "multi_rule": "partial", "score_release": "on_submit", "answer_release": "never"}))
        .unwrap()
        .into_json()
        .unwrap();
    let sid = sitting["id"].as_i64().unwrap();

    // eight candidates start and save as fast as they can
    let mut candidates = Vec::new();
    for n in 1..=8 {
        let auth = token(&base, &format!("1000{n:02}"));
        let att: Value =
            ureq::post(&format!("{base}/api/v1/sittings/{sid}/attempts")).set("Authorization", &auth).call().unwrap().into_json().unwrap();
        candidates.push((auth, att));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut threads = Vec::new();
    for (auth, att) in candidates.clone() {
        let (base, stop) = (base.clone(), stop.clone());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s2 = seen.clone();
        let att_for_check = att.clone();
        let handle = std::thread::spawn(move || {
            let aid = att["attempt_id"].as_i64().unwrap();
            let qs: Vec<i64> = att["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let q = qs[i % qs.len()];
                let choice = if (i / qs.len()).is_multiple_of(2) { "T" } else { "F" };
                s2.lock().unwrap().in_flight = Some((q, choice.to_string()));
                let r = ureq::put(&format!("{base}/api/v1/attempts/{aid}/answers/{q}"))
                    .set("Authorization", &auth)
                    .send_json(json!({"choices": [choice]}));
                let mut s = s2.lock().unwrap();
                match r {
                    Ok(_) => {
                        s.acked.insert(q, choice.to_string());
                        s.in_flight = None;
                    }
                    Err(_) => break, // the server is gone: this save may or may not have landed
                }
                i += 1;
            }
        });
        threads.push((handle, seen, att_for_check));
    }
    std::thread::sleep(Duration::from_millis(1500));
    kill(server);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked_total = 0;
    let results: Vec<(Value, Arc<Mutex<Seen>>)> = threads
        .into_iter()
        .map(|(h, seen, att)| {
            h.join().unwrap();
            acked_total += seen.lock().unwrap().acked.len();
            (att, seen)
        })
        .collect();
    assert!(acked_total >= 8, "saves were acknowledged before the kill ({acked_total})");

    // restart: every acknowledged save is there, deadlines unchanged, attempts resume
    let (server, base) = start(&db.url);
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    // `moved`: the deadlines as moved below, once the attempts' times have been moved
    let check = |base: &str, expect_submitted: bool, moved: &HashMap<i64, chrono::DateTime<chrono::Utc>>| {
        for ((auth, _), (att, seen)) in candidates.iter().zip(&results) {
            let aid = att["attempt_id"].as_i64().unwrap();
            let got: Value =
                ureq::get(&format!("{base}/api/v1/attempts/{aid}")).set("Authorization", auth).call().unwrap().into_json().unwrap();
            let deadline = moved.get(&aid).copied().unwrap_or_else(|| at(&att["deadline"]));
            assert_eq!(at(&got["deadline"]), deadline, "deadline unchanged");
            assert_eq!(got["submitted"], expect_submitted, "{got}");
            let seen = seen.lock().unwrap();
            for q in got["questions"].as_array().unwrap() {
                let id = q["id"].as_i64().unwrap();
                let stored = q["answer"].as_array().and_then(|a| a.first()).and_then(Value::as_str).map(str::to_string);
                if let Some(acked) = seen.acked.get(&id) {
                    let in_flight = seen.in_flight.as_ref().filter(|(fq, _)| *fq == id).map(|(_, c)| c.clone());
                    assert!(
                        stored.as_ref() == Some(acked) || (in_flight.is_some() && stored == in_flight),
                        "attempt {aid} question {id}: acknowledged {acked}, stored {stored:?}"
                    );
                }
            }
        }
    };
    check(&base, false, &HashMap::new());
    // down again while every deadline (one minute after start) passes: instead of waiting out
    // the minute, the attempts' stored times move back by what is left of it, which is all the
    // server can see of time passing while it was down
    kill(server);
    let latest = results.iter().map(|(a, _)| at(&a["deadline"])).max().unwrap();
    // whole milliseconds, as the API gives times
    let shift = chrono::Duration::milliseconds((latest - chrono::Utc::now()).num_milliseconds().max(0) + 1500);
    let mut deadlines = HashMap::new();
    {
        let pool = crate::common::bare_pool(&db, &Default::default());
        let mut c = pool.get().unwrap();
        for (att, _) in &results {
            let aid = att["attempt_id"].as_i64().unwrap();
            let sql_time = |t: chrono::DateTime<chrono::Utc>| (t - shift).naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
            // the sitting's duration is one minute, so each attempt started a minute before its deadline
            let deadline = at(&att["deadline"]);
            let (started, deadline) = (sql_time(deadline - chrono::Duration::minutes(1)), sql_time(deadline));
            let sql = format!("UPDATE attempts SET started_at = '{started}', deadline = '{deadline}' WHERE id = {aid}");
            assert_eq!(diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut *c).unwrap(), 1);
            deadlines.insert(aid, at(&att["deadline"]) - shift);
        }
    }
    let (server, base) = start(&db.url);
    // the sweeper submits them, at their deadlines, with the answers they had
    let t = Instant::now();
    loop {
        let results: Value = ureq::get(&format!("{base}/api/v1/sittings/{sid}/results"))
            .set("Authorization", &token(&base, "T0001"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        let rows = results.as_array().unwrap();
        if rows.iter().all(|r| !r["submitted_at"].is_null()) {
            for (_, att) in &candidates {
                let row = rows.iter().find(|r| r["attempt_id"] == att["attempt_id"]).unwrap();
                assert_eq!(row["submit_kind"], "auto");
                let deadline = deadlines[&att["attempt_id"].as_i64().unwrap()];
                assert_eq!(at(&row["submitted_at"]), deadline, "submitted at the deadline, not at restart");
            }
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "overdue attempts were not submitted after the restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    check(&base, true, &deadlines);
    kill(server);
}
