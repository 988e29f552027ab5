//! Accounts a bureau can run (issue 15, item 3): sign-in throttling that a stranger cannot
//! turn against an officer (per badge and address, back-off, a per-address cap against
//! spraying, counts every app server shares).

use chrono::Duration;
use rocket::http::{ContentType, Status};
use rocket::local::blocking::Client;
use serde_json::{json, Value};

use crate::common::{form_csrf, TestApp, PASSWORD};

/// `POST /api/v1/auth/token` from a client address: (status, body).
fn token_from(client: &Client, badge: &str, password: &str, from: &str) -> (Status, Value) {
    let r = client
        .post("/api/v1/auth/token")
        .remote(format!("{from}:40000").parse().unwrap())
        .header(ContentType::JSON)
        .body(json!({"badge": badge, "password": password}).to_string())
        .dispatch();
    let s = r.status();
    (s, serde_json::from_str(&r.into_string().unwrap_or_default()).unwrap_or(Value::Null))
}

/// Signs in through the page from a client address: (status, page, Location).
fn login_from(client: &Client, badge: &str, password: &str, from: &str) -> (Status, String, Option<String>) {
    let page = client.get("/login").dispatch().into_string().unwrap();
    let csrf = form_csrf(&page);
    let r = client
        .post("/login")
        .remote(format!("{from}:40000").parse().unwrap())
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&badge={badge}&password={}&next=/exams", crate::common::enc(password)))
        .dispatch();
    let loc = r.headers().get_one("Location").map(str::to_string);
    (r.status(), r.into_string().unwrap_or_default(), loc)
}

fn user_id(app: &TestApp, badge: &str) -> i64 {
    lawcert::db::models::org::find_by_badge(&mut app.conn(), badge).unwrap().unwrap().id
}

/// Audit entries about `subject`: (action, actor).
fn audit(app: &TestApp, subject: &str) -> Vec<(String, Option<i64>, Value)> {
    lawcert::db::models::audit::for_subject(&mut app.conn(), subject)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor_id, serde_json::from_str(&e.detail).unwrap()))
        .collect()
}

/// The time a 429 says to come back at (bureau time, as `lawcert::web::local` writes it).
fn until_in(body: &Value) -> String {
    let m = body["error"]["message"].as_str().unwrap();
    let start = m.find("after ").expect("says until when") + 6;
    m[start..start + 16].to_string()
}

#[test]
fn a_strangers_wrong_passwords_do_not_stop_the_officer_signing_in_from_another_address() {
    let app = TestApp::new();
    // a stranger tries ten passwords for 100001 from one address
    let mut refused = 0;
    for i in 0..10 {
        let (s, body) = token_from(&app.client, "100001", &format!("guess{i}"), "10.66.0.1");
        assert!(s == Status::Unauthorized || s == Status::TooManyRequests, "{s} {body}");
        if s == Status::TooManyRequests {
            assert_eq!(body["error"]["code"], "too_many_attempts");
            refused += 1;
        }
    }
    assert!(refused >= 5, "the stranger's address is slowed: {refused}");
    // even the right password waits from the stranger's address…
    assert_eq!(token_from(&app.client, "100001", PASSWORD, "10.66.0.1").0, Status::TooManyRequests);
    // …but the officer signs in from the station, by the API and by the page
    let (s, body) = token_from(&app.client, "100001", PASSWORD, "10.20.30.40");
    assert_eq!(s, Status::Ok, "the officer is not locked out: {body}");
    let (s, _, loc) = login_from(&app.client, "100001", PASSWORD, "10.20.30.40");
    assert_eq!((s, loc.as_deref()), (Status::SeeOther, Some("/exams")));
    // the counts are in the database: another app server refuses the stranger too, and lets
    // the officer in
    let other = app.another_server();
    assert_eq!(token_from(&other, "100001", PASSWORD, "10.66.0.1").0, Status::TooManyRequests, "every app server sees the same counts");
    assert_eq!(token_from(&other, "100001", PASSWORD, "10.20.30.41").0, Status::Ok);
    // the wait is in the audit log, with the stranger's address
    let id = user_id(&app, "100001");
    let locks: Vec<_> = audit(&app, &format!("user:{id}")).into_iter().filter(|(a, ..)| a == "sign_in.lock").collect();
    assert!(!locks.is_empty());
    assert_eq!(locks[0].2["source"], "10.66.0.1");
}

#[test]
fn each_further_wrong_password_doubles_the_wait() {
    let app = TestApp::new();
    let from = "10.66.0.2";
    for _ in 0..4 {
        assert_eq!(token_from(&app.client, "100002", "wrong", from).0, Status::Unauthorized);
    }
    let mut waits = vec![];
    for _ in 0..4 {
        let now = app.clock.now();
        let (s, body) = token_from(&app.client, "100002", "wrong", from);
        assert_eq!(s, Status::TooManyRequests, "{body}");
        let until = until_in(&body);
        // (a request takes a few milliseconds: allow it to cross a minute boundary)
        let minutes = (1..=120)
            .find(|m| [0, 2].iter().any(|s| lawcert::web::local(now + Duration::minutes(*m) + Duration::seconds(*s)) == until))
            .unwrap_or_else(|| panic!("{until} is not a whole number of minutes away"));
        waits.push(minutes);
        // while waiting, nothing is checked (the right password included)
        assert_eq!(token_from(&app.client, "100002", PASSWORD, from).0, Status::TooManyRequests);
        app.clock.advance(Duration::minutes(minutes));
    }
    assert_eq!(waits, vec![1, 2, 4, 8], "the wait starts at a minute and doubles");
    // after the wait the right password works and clears the count
    assert_eq!(token_from(&app.client, "100002", PASSWORD, from).0, Status::Ok);
    for _ in 0..4 {
        assert_eq!(token_from(&app.client, "100002", "wrong", from).0, Status::Unauthorized, "the count starts again");
    }
}

#[test]
fn spraying_a_password_over_many_badges_from_one_address_slows_that_address() {
    let app = TestApp::new();
    let from = "10.66.0.3";
    let mut statuses = vec![];
    for i in 0..25 {
        let badge = format!("{}", 100001 + i);
        statuses.push(token_from(&app.client, &badge, "Spring2026!", from).0);
    }
    assert!(statuses[..20].iter().all(|s| *s == Status::Unauthorized), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == Status::TooManyRequests), "from the 21st failure the address waits: {statuses:?}");
    // any badge waits from that address, with a message saying so and until when
    let (s, body) = token_from(&app.client, "100030", PASSWORD, from);
    assert_eq!(s, Status::TooManyRequests);
    assert!(body["error"]["message"].as_str().unwrap().contains("from your address"), "{body}");
    let (s, page, _) = login_from(&app.client, "100030", PASSWORD, from);
    assert_eq!(s, Status::Ok);
    assert!(page.contains("该地址已暂时锁定"), "the page says so");
    // other addresses are not affected
    assert_eq!(token_from(&app.client, "100030", PASSWORD, "10.20.30.40").0, Status::Ok);
    let entries = audit(&app, &format!("source:{from}"));
    assert!(entries.iter().any(|(a, actor, d)| a == "sign_in.source_lock" && actor.is_none() && d["failures"] == 21), "{entries:?}");
    // a correct password for an account of the sprayer's own does not reset the address's count
    app.clock.advance(Duration::minutes(1));
    assert_eq!(token_from(&app.client, "100029", PASSWORD, from).0, Status::Ok);
    let (s, body) = token_from(&app.client, "100028", "Spring2026!", from);
    assert_eq!(s, Status::TooManyRequests, "the next failure waits longer: {body}");
}
