//! Rasch calibration of the bank from graded sittings: the service pools every graded
//! response per question version, stores difficulties with SE, counts, fit and flags, and
//! trainers read them at GET /api/v1/items/calibration (others are refused).

use chrono::{Duration, Utc};
use rocket::http::Status;
use serde_json::json;

use crate::common::{key_of, TestApp};

#[test]
fn graded_sittings_are_calibrated_and_trainers_read_the_result() {
    let app = TestApp::new();
    let t = app.token("T0001");
    // the server's sweeper calibrates the demo bureau's graded history once it has analysed
    // the closed sittings (papers drawn from the pool: 1–3 responses per version)
    // (the first dated sweep does all the date-driven work: allow a loaded machine a minute)
    let calibrated = (0..600)
        .find_map(|_| {
            let (_, rows) = app.api("GET", "/api/v1/items/calibration", &t, None);
            let n = rows.as_array().filter(|r| !r.is_empty()).map(|r| r.len());
            if n.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            n
        })
        .expect("the sweeper calibrated the bank within a minute");
    // the first run (no anchors): the measured versions' difficulties average 0, its origin
    let (_, first) = app.api("GET", "/api/v1/items/calibration", &t, None);
    let measured: Vec<f64> =
        first.as_array().unwrap().iter().filter(|r| !r["infit"].is_null()).map(|r| r["difficulty"].as_f64().unwrap()).collect();
    assert!(measured.len() >= 2);
    assert!((measured.iter().sum::<f64>() / measured.len() as f64).abs() < 1e-6);
    let base = lawcert::services::calibration::calibrate_bank(&mut app.conn(), Utc::now().naive_utc()).unwrap().expect("demo history");
    assert_eq!(base.items, calibrated, "the sweeper's run and this one agree: {base:?}");

    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(
            json!({"name": "标定", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 8, "points_centi": 100}]}}),
        ),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let now = Utc::now();
    let (s, sitting) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "标定考试", "kind": "bimonthly", "blueprint_id": bp["id"],
                    "opens_at": (now - Duration::minutes(5)).to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(),
                    "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial",
                    "score_release": "on_submit", "answer_release": "after_close"})),
    );
    assert_eq!(s, Status::Created, "{sitting}");
    let sid = sitting["id"].as_i64().unwrap();
    // 24 candidates of increasing ability: candidate k gets a question right when a fixed
    // pseudo-random draw falls under k + 3 of 27.
    let mut answered = std::collections::HashSet::new();
    for k in 0..24i64 {
        let tok = app.token(&format!("{}", 100001 + k));
        let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
        assert_eq!(s, Status::Created, "{att}");
        let aid = att["attempt_id"].as_i64().unwrap();
        for q in att["questions"].as_array().unwrap() {
            let v = q["id"].as_i64().unwrap();
            answered.insert(v);
            let key = key_of(&mut app.conn(), v);
            let right = (v * 31 + k * 17).rem_euclid(27) < k + 3;
            let choice = if right {
                key.clone()
            } else if key == "T" {
                "F".into()
            } else {
                "T".into()
            };
            let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{v}"), &tok, Some(json!({"choices": [choice]})));
            assert_eq!(s, Status::Ok, "{body}");
        }
        let (s, body) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
        assert_eq!(s, Status::Ok, "{body}");
    }

    // the versions the stored run measured well anchor the next one (the demo's mock tests give
    // many of them 30+ responses)
    let before: std::collections::HashMap<i64, lawcert::db::models::calibration::CalibrationRow> =
        lawcert::db::models::calibration::all(&mut app.conn()).unwrap().into_iter().map(|r| (r.question_version_id.0, r)).collect();
    let anchors: std::collections::HashSet<i64> = before
        .values()
        .filter(|r| {
            r.n >= lawcert::services::calibration::MIN_ANCHOR_RESPONSES
                && !r.flags.split(',').any(|f| matches!(f, "misfit" | "all_correct" | "all_wrong"))
        })
        .map(|r| r.question_version_id.0)
        .collect();
    assert!(!anchors.is_empty(), "the demo history gives anchors");
    let summary = lawcert::services::calibration::calibrate_bank(&mut app.conn(), Utc::now().naive_utc()).unwrap().expect("calibrated");
    // every graded attempt and response is in, linked to the demo history through shared versions
    assert_eq!((summary.persons, summary.responses, summary.left_out), (base.persons + 24, base.responses + 24 * 8, 0), "{summary:?}");
    assert_eq!(summary.anchored, anchors.len(), "{summary:?}");

    let (s, rows) = app.api("GET", "/api/v1/items/calibration", &t, None);
    assert_eq!(s, Status::Ok);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), summary.items);
    let total: i64 = rows.iter().map(|r| r["n"].as_i64().unwrap()).sum();
    assert_eq!(total as usize, summary.responses);
    let stored: std::collections::HashSet<i64> = rows.iter().map(|r| r["question_version_id"].as_i64().unwrap()).collect();
    assert!(answered.is_subset(&stored), "every version the 24 answered is calibrated");
    for r in rows {
        assert!(r["difficulty"].as_f64().unwrap().is_finite() && r["se"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["question_id"].as_i64().unwrap() > 0 && r["calibrated_at"].is_string() && r["flags"].is_string(), "{r}");
        let v = r["question_version_id"].as_i64().unwrap();
        assert_eq!(r["anchored"], anchors.contains(&v), "{r}");
        if anchors.contains(&v) {
            assert!((r["difficulty"].as_f64().unwrap() - before[&v].difficulty).abs() < 1e-12, "an anchor keeps its value: {r}");
        }
        // no fit for a version everyone got right or wrong
        let extreme = r["flags"].as_str().unwrap().split(',').any(|f| f == "all_correct" || f == "all_wrong");
        assert!(!extreme || r["infit"].is_null() && r["outfit"].is_null(), "{r}");
    }

    // officers may not read it
    let (s, body) = app.api("GET", "/api/v1/items/calibration", &app.token("100001"), None);
    assert_eq!(s, Status::Forbidden);
    assert!(body["error"]["code"].is_string(), "{body}");

    // a second run replaces the first (same data, same numbers)
    let again = lawcert::services::calibration::calibrate_bank(&mut app.conn(), Utc::now().naive_utc()).unwrap().unwrap();
    assert_eq!(again.items, summary.items);
    let (_, rows2) = app.api("GET", "/api/v1/items/calibration", &t, None);
    assert_eq!(rows2.as_array().unwrap().len(), rows.len());
}
