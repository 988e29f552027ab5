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
    let check = |base: &str, expect_submitted: bool| {
        for ((auth, _), (att, seen)) in candidates.iter().zip(&results) {
            let aid = att["attempt_id"].as_i64().unwrap();
            let got: Value =
                ureq::get(&format!("{base}/api/v1/attempts/{aid}")).set("Authorization", auth).call().unwrap().into_json().unwrap();
            assert_eq!(got["deadline"], att["deadline"], "deadline unchanged");
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
    check(&base, false);
    // down again until every deadline (one minute after start) has passed
    kill(server);
    let latest = results.iter().map(|(a, _)| chrono::DateTime::parse_from_rfc3339(a["deadline"].as_str().unwrap()).unwrap()).max().unwrap();
    let wait = (latest.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() + 1500;
    if wait > 0 {
        std::thread::sleep(Duration::from_millis(wait as u64));
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
                assert_eq!(row["submitted_at"], att["deadline"], "submitted at the deadline, not at restart");
            }
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "overdue attempts were not submitted after the restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    check(&base, true);
    kill(server);
}
