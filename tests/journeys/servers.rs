//! Several app servers on one database (issue 18), as behind a load balancer: every server runs
//! the deadline sweeper, the dated sweep, the job worker and the mailer. Each message goes out
//! once, each reminder is sent once, each overdue attempt is submitted and graded once, and
//! each result is filed and told once.

use lawcert::domain::ids::{AttemptId, UserId};
use std::collections::HashMap;

use chrono::Duration;
use rocket::http::Status;

use lawcert::db::models::{audit, exam as exam_db, leases, mail as mail_db, org, training as tr_db};
use lawcert::services::operations;

use crate::common::*;
use crate::training::smtp_listener;

#[test]
fn a_lease_is_held_by_one_server_until_it_runs_out() {
    let app = TestApp::new();
    let mut c = app.conn();
    let t = app.clock.now();
    let m = Duration::minutes;
    assert!(leases::acquire(&mut c, "test", "a", t, t + m(5)).unwrap());
    assert!(!leases::acquire(&mut c, "test", "b", t, t + m(5)).unwrap(), "held by a");
    assert!(leases::acquire(&mut c, "test", "a", t + m(1), t + m(6)).unwrap(), "a renews");
    assert!(!leases::acquire(&mut c, "test", "b", t + m(5), t + m(10)).unwrap(), "renewed until +6");
    assert!(leases::acquire(&mut c, "test", "b", t + m(6), t + m(11)).unwrap(), "ran out: b takes it");
    assert!(!leases::acquire(&mut c, "test", "a", t + m(7), t + m(12)).unwrap());
    let (who, until) = leases::holder(&mut c, "test").unwrap().unwrap();
    // (PostgreSQL keeps microseconds)
    assert!(who == "b" && (until - (t + m(11))).num_milliseconds().abs() < 1, "{who} until {until}");
    // the servers' own dated sweep: one of them holds it, nobody else gets it meanwhile
    let _other = app.another_server();
    let (holder, _) = wait_for(|| leases::holder(&mut app.conn(), operations::DATED_SWEEP).unwrap());
    assert!(!operations::lead(&mut c, operations::DATED_SWEEP, "a third server", app.clock.now()).unwrap());
    assert_eq!(leases::holder(&mut c, operations::DATED_SWEEP).unwrap().unwrap().0, holder);
}

#[test]
fn two_servers_send_each_mail_once_and_submit_grade_and_file_each_attempt_once() {
    let smtp = smtp_listener();
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let env = [("LAWCERT_SMTP_URL", url.as_str()), ("LAWCERT_MAIL_POLL_MS", "50"), ("LAWCERT_PUBLIC_URL", "https://lawcert.test.invalid")];
    let app = TestApp::with_env(&env);
    let other = app.another_server_with(&env);
    let (unit, ids) = unit_with_officers(&app, 6);
    let addrs: Vec<String> = ids.iter().map(|id| org::find(&mut app.conn(), *id).unwrap().unwrap().email.unwrap()).collect();

    // scheduled 12 hours ahead: the candidates are told at once, and reminded (opening within a
    // day) by the dated sweep of whichever server does it
    let sid = schedule(&app, unit, Duration::hours(12));
    let kinds_of = |app: &TestApp, user: UserId| -> HashMap<String, usize> {
        let mut k = HashMap::new();
        for n in audit::notifications_of(&mut app.conn(), user, 100).unwrap() {
            *k.entry(n.kind).or_default() += 1;
        }
        k
    };
    wait_for(|| ids.iter().all(|u| kinds_of(&app, *u).contains_key("exam_reminder")).then_some(()));
    let outbox = |app: &TestApp| -> Vec<mail_db::Mail> {
        mail_db::recent(&mut app.conn(), 10_000).unwrap().into_iter().filter(|m| addrs.contains(&m.to_addr)).collect()
    };
    // (the clock jumps below would end the claim of a message still being sent: let them go first)
    wait_for(|| outbox(&app).iter().all(|m| m.sent_at.is_some()).then_some(()));

    // the exam: everyone starts on the first server, then the sitting ends with nothing
    // submitted; both servers' sweepers submit the overdue attempts, and the dated sweep files
    // each result and tells its candidate
    app.clock.advance(Duration::hours(12) + Duration::minutes(1));
    let mut attempts = Vec::new();
    for i in 0..ids.len() {
        let (s, att) = start(&app, sid, &format!("P{:04}", i + 1));
        assert_eq!(s, Status::Created, "{att}");
        attempts.push(att["attempt_id"].as_i64().unwrap());
    }
    // the second server serves the same candidates (sessions are in the database)
    let tok = app.token("P0001");
    let r = other
        .get(format!("/api/v1/attempts/{}", attempts[0]))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {tok}")))
        .dispatch();
    assert_eq!(r.status(), Status::Ok);
    wait_for(|| outbox(&app).iter().all(|m| m.sent_at.is_some()).then_some(()));
    app.clock.advance(Duration::hours(3));
    wait_for(|| ids.iter().all(|u| kinds_of(&app, *u).contains_key("result")).then_some(()));

    // every message to these candidates sent, each once: as many arrived as the outbox holds
    wait_for(|| outbox(&app).iter().all(|m| m.sent_at.is_some()).then_some(()));
    std::thread::sleep(std::time::Duration::from_millis(1500)); // a duplicate would arrive meanwhile
    let sent = outbox(&app);
    let received = smtp.received.lock().unwrap().clone();
    for addr in &addrs {
        let queued = sent.iter().filter(|m| &m.to_addr == addr).count();
        let got = received.iter().filter(|(to, _)| to == addr).count();
        let subjects: Vec<&str> =
            received.iter().filter(|(to, _)| to == addr).filter_map(|(_, d)| d.lines().find(|l| l.starts_with("Subject:"))).collect();
        assert_eq!(got, queued, "{addr}: {got} received for {queued} queued: {subjects:?}");
        assert!(queued >= 3, "{addr}: scheduled, reminder, result at least");
    }
    for (u, aid) in ids.iter().zip(&attempts) {
        let k = kinds_of(&app, *u);
        for kind in ["exam_scheduled", "exam_reminder", "result"] {
            assert_eq!(k.get(kind), Some(&1), "user {u}: {kind} in {k:?}");
        }
        let a = exam_db::find_attempt(&mut app.conn(), AttemptId(*aid)).unwrap().unwrap();
        assert_eq!(a.submit_kind.map(|k| k.as_str()), Some("auto"));
        assert!(a.score_centi.is_some(), "graded");
        let filed = tr_db::entries_of(&mut app.conn(), *u).unwrap().into_iter().filter(|e| e.source == format!("attempt:{aid}")).count();
        assert_eq!(filed, 1, "attempt {aid} filed once");
    }
}
