//! Accounts a bureau can run (issue 15, items 3 and 7): sign-in throttling that a stranger
//! cannot turn against an officer (per badge and address, back-off, a per-address cap against
//! spraying, counts every app server shares, an audited admin unlock), changing one's own
//! password, an admin's reset that forces a change, disabling an account, and a user's own API
//! tokens.

use chrono::Duration;
use lawcert::domain::ids::UserId;
use rocket::http::{ContentType, Header, Status};
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

fn user_id(app: &TestApp, badge: &str) -> UserId {
    lawcert::db::models::org::find_by_badge(&mut app.conn(), badge).unwrap().unwrap().id
}

/// Audit entries about `subject`: (action, actor).
fn audit(app: &TestApp, subject: &str) -> Vec<(String, Option<UserId>, Value)> {
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
        let before = app.clock.now();
        let (s, body) = token_from(&app.client, "100002", "wrong", from);
        let after = app.clock.now();
        assert_eq!(s, Status::TooManyRequests, "{body}");
        let until = until_in(&body);
        // the server read its clock somewhere between `before` and `after` (seconds apart on a
        // busy machine): the wait is the whole number of minutes that fits that interval
        let minutes = (1..=120)
            .find(|m| {
                let (lo, hi) = (lawcert::web::local(before + Duration::minutes(*m)), lawcert::web::local(after + Duration::minutes(*m)));
                lo <= until && until <= hi
            })
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

#[test]
fn an_admin_unlocks_a_badge_and_an_address_and_both_are_audited() {
    let app = TestApp::new();
    let officer = user_id(&app, "100003");
    let admin_id = user_id(&app, "admin");
    for _ in 0..5 {
        token_from(&app.client, "100003", "wrong", "10.66.0.4");
    }
    assert_eq!(token_from(&app.client, "100003", PASSWORD, "10.66.0.4").0, Status::TooManyRequests);
    let admin = app.token("admin");
    let (s, st) = app.api("GET", &format!("/api/v1/admin/users/{officer}"), &admin, None);
    assert_eq!(s, Status::Ok, "{st}");
    assert_eq!(st["sign_in_counts"][0]["source"], "10.66.0.4");
    assert_eq!(st["sign_in_counts"][0]["failures"], 5);
    assert!(st["sign_in_counts"][0]["locked_until"].is_string());
    // officers may not unlock
    let tok = app.token("100004");
    let (s, body) = app.api("POST", &format!("/api/v1/admin/users/{officer}/unlock"), &tok, None);
    assert_eq!((s, body["error"]["code"].as_str()), (Status::Forbidden, Some("forbidden")));
    let (s, st) = app.api("POST", &format!("/api/v1/admin/users/{officer}/unlock"), &admin, None);
    assert_eq!(s, Status::Ok, "{st}");
    assert_eq!(st["sign_in_counts"], json!([]));
    assert_eq!(token_from(&app.client, "100003", PASSWORD, "10.66.0.4").0, Status::Ok, "unlocked");
    let log = audit(&app, &format!("user:{officer}"));
    let lock = log.iter().position(|(a, actor, _)| a == "sign_in.lock" && actor.is_none()).expect("the lock is audited");
    let unlock = log
        .iter()
        .position(|(a, actor, d)| a == "sign_in.unlock" && *actor == Some(admin_id) && d["were_locked"] == json!(["10.66.0.4"]))
        .expect("the unlock is audited");
    assert!(lock < unlock);
    // an address slowed for spraying is listed on the admin's page and let in again there
    for i in 0..21 {
        token_from(&app.client, &format!("{}", 100001 + i), "wrong", "10.66.0.5");
    }
    assert_eq!(token_from(&app.client, "100030", PASSWORD, "10.66.0.5").0, Status::TooManyRequests);
    let csrf = app.login_page("admin");
    let (s, page) = crate::common::get(&app, "/admin/users/locks");
    assert_eq!(s, Status::Ok);
    assert!(page.contains("10.66.0.5") && page.contains("全部警号"), "{page}");
    let (s, page, _) = crate::common::post(&app, "/admin/users/locks/unlock", format!("_csrf={csrf}&badge=&source=10.66.0.5"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("已解除锁定"));
    assert_eq!(token_from(&app.client, "100030", PASSWORD, "10.66.0.5").0, Status::Ok);
    assert!(audit(&app, "source:10.66.0.5").iter().any(|(a, actor, _)| a == "sign_in.source_unlock" && *actor == Some(admin_id)));
    // the page form needs its CSRF token
    let (s, _, _) = crate::common::post(&app, &format!("/admin/users/{officer}/unlock"), "_csrf=forged".into());
    assert_eq!(s, Status::Forbidden);
    // the account page unlocks too
    for _ in 0..5 {
        token_from(&app.client, "100003", "wrong", "10.66.0.6");
    }
    let (_, page) = crate::common::get(&app, &format!("/admin/users/{officer}"));
    assert!(page.contains("10.66.0.6"), "the account page lists the address");
    let (s, _, _) = crate::common::post(&app, &format!("/admin/users/{officer}/unlock"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Ok);
    assert_eq!(token_from(&app.client, "100003", PASSWORD, "10.66.0.6").0, Status::Ok);
}

#[test]
fn an_officer_changes_their_password() {
    let app = TestApp::new();
    // an account whose badge is long enough to be tried as a password
    let now = app.clock.now();
    let input = lawcert::services::people::AccountInput {
        badge: "A123456789".into(),
        name: "林长号".into(),
        unit: "城东派出所".into(),
        police_type: "派出所".into(),
        hire_date: "2020-07-01".into(),
        roles: "officer".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    let (id, _) = lawcert::services::people::create_account(&mut app.conn(), &input, None, now).unwrap();
    let tok = app.token("A123456789");
    let other = app.token("A123456789");
    let change = |current: &str, new: &str| {
        app.api("PUT", "/api/v1/me/password", &tok, Some(json!({"current_password": current, "new_password": new})))
    };
    let (s, body) = change("not-my-password", "a perfectly good one");
    assert_eq!((s, body["error"]["code"].as_str()), (Status::UnprocessableEntity, Some("wrong_password")), "{body}");
    for (new, says) in [("short", "at least 10"), ("lawcert-demo", "demo"), ("a123456789", "badge"), (PASSWORD, "demo")] {
        let (s, body) = change(PASSWORD, new);
        assert_eq!((s, body["error"]["code"].as_str()), (Status::UnprocessableEntity, Some("weak_password")), "{new}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(says), "{new}: {body}");
    }
    let (s, body) = change(PASSWORD, "correct horse battery");
    assert_eq!(s, Status::NoContent, "{body}");
    // this token goes on, the account's other tokens have ended, the new password signs in
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &tok, None).0, Status::Ok);
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &other, None).0, Status::Unauthorized, "other sessions end at a change");
    assert_eq!(token_from(&app.client, "A123456789", PASSWORD, "10.1.1.1").0, Status::Unauthorized);
    assert_eq!(token_from(&app.client, "A123456789", "correct horse battery", "10.1.1.1").0, Status::Ok);
    let log = audit(&app, &format!("user:{id}"));
    assert!(
        log.iter().any(|(a, actor, d)| a == "user.password_change" && *actor == Some(id) && d["via"] == "api" && d["sessions_ended"] == 1),
        "{log:?}"
    );
    // wrong current passwords are throttled like sign-ins
    let from_here = |current: &str| {
        app.client
            .put("/api/v1/me/password")
            .remote("10.66.0.7:40000".parse().unwrap())
            .header(Header::new("Authorization", format!("Bearer {tok}")))
            .header(ContentType::JSON)
            .body(json!({"current_password": current, "new_password": "another good password"}).to_string())
            .dispatch()
            .status()
    };
    let statuses: Vec<Status> = (0..6).map(|i| from_here(&format!("guess {i}"))).collect();
    assert_eq!(statuses[..4], [Status::UnprocessableEntity; 4]);
    assert_eq!(statuses[4..], [Status::TooManyRequests; 2]);

    // the page, for an officer of the demo bureau
    let csrf = app.login_page("100005");
    let (s, page) = crate::common::get(&app, "/account/password");
    assert_eq!(s, Status::Ok);
    assert!(page.contains("name=\"new_password_again\""));
    let form = |current: &str, new: &str, again: &str| {
        crate::common::post(
            &app,
            "/account/password",
            format!(
                "_csrf={csrf}&current_password={}&new_password={}&new_password_again={}",
                crate::common::enc(current),
                crate::common::enc(new),
                crate::common::enc(again)
            ),
        )
    };
    let (s, page, _) = form("wrong", "a good new password", "a good new password");
    assert_eq!(s, Status::Ok);
    assert!(page.contains("当前密码不正确"));
    let (_, page, _) = form(PASSWORD, "a good new password", "a good new passwort");
    assert!(page.contains("两次输入的新密码不一致"));
    let (_, page, _) = form(PASSWORD, "short", "short");
    assert!(page.contains("至少需要 10 个字符"));
    let (_, page, _) = form(PASSWORD, "a good new password", "a good new password");
    assert!(page.contains("密码已修改"), "{page}");
    assert_eq!(crate::common::get(&app, "/exams").0, Status::Ok, "the page session goes on");
    let (s, _, _) = crate::common::post(&app, "/account/password", "current_password=x&new_password=y&new_password_again=y".into());
    assert_eq!(s, Status::Forbidden, "no CSRF token, no change");
    assert_eq!(token_from(&app.client, "100005", "a good new password", "10.1.1.1").0, Status::Ok);
}

#[test]
fn an_admin_reset_gives_a_one_time_password_that_must_be_changed_first() {
    let app = TestApp::new();
    let officer = user_id(&app, "100006");
    let admin_id = user_id(&app, "admin");
    let old = app.token("100006");
    let admin = app.token("admin");
    // not by officers, not on one's own account
    assert_eq!(app.api("POST", &format!("/api/v1/admin/users/{officer}/password-reset"), &old, None).0, Status::Forbidden);
    let (s, body) = app.api("POST", &format!("/api/v1/admin/users/{admin_id}/password-reset"), &admin, None);
    assert_eq!((s, body["error"]["code"].as_str()), (Status::Conflict, Some("refused")));
    let (s, body) = app.api("POST", "/api/v1/admin/users/999999/password-reset", &admin, None);
    assert_eq!(s, Status::NotFound, "{body}");

    let (s, reset) = app.api("POST", &format!("/api/v1/admin/users/{officer}/password-reset"), &admin, None);
    assert_eq!(s, Status::Ok, "{reset}");
    assert_eq!(reset["badge"], "100006");
    let otp = reset["one_time_password"].as_str().unwrap().to_string();
    assert!(otp.len() >= 10);
    // the old token and password are gone
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &old, None).0, Status::Unauthorized);
    assert_eq!(token_from(&app.client, "100006", PASSWORD, "10.1.1.1").0, Status::Unauthorized);
    // the one-time password signs in, but nothing else works until it is changed
    let (s, body) = token_from(&app.client, "100006", &otp, "10.1.1.1");
    assert_eq!(s, Status::Ok);
    let tok = body["token"].as_str().unwrap().to_string();
    let (s, body) = app.api("GET", "/api/v1/me/sittings", &tok, None);
    assert_eq!((s, body["error"]["code"].as_str()), (Status::Forbidden, Some("password_change_required")), "{body}");
    assert_eq!(app.api("GET", "/api/v1/me/tokens", &tok, None).0, Status::Forbidden);
    // pages lead to the change-password page
    let (s, _, loc) = login_from(&app.client, "100006", &otp, "10.1.1.1");
    assert_eq!((s, loc.as_deref()), (Status::SeeOther, Some("/account/password")));
    for path in ["/", "/exams", "/practice", "/file", "/account/tokens"] {
        let r = app.client.get(path).dispatch();
        assert_eq!((r.status(), r.headers().get_one("Location")), (Status::SeeOther, Some("/account/password")), "{path}");
    }
    let (s, page) = crate::common::get(&app, "/account/password");
    assert_eq!(s, Status::Ok);
    assert!(page.contains("您的密码已由管理员重置"));
    // the one-time password itself is not a new password
    let (s, body) = app.api("PUT", "/api/v1/me/password", &tok, Some(json!({"current_password": otp, "new_password": otp})));
    assert_eq!((s, body["error"]["code"].as_str()), (Status::UnprocessableEntity, Some("weak_password")), "{body}");
    let (s, _) =
        app.api("PUT", "/api/v1/me/password", &tok, Some(json!({"current_password": otp, "new_password": "my very own password"})));
    assert_eq!(s, Status::NoContent);
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &tok, None).0, Status::Ok);
    // the page session was signed in before the change: it ended with it
    let r = app.client.get("/exams").dispatch();
    assert!(r.headers().get_one("Location").unwrap().starts_with("/login"));
    let log = audit(&app, &format!("user:{officer}"));
    assert!(log.iter().any(|(a, actor, d)| a == "user.password_reset" && *actor == Some(admin_id) && d["sessions_ended"] == 1), "{log:?}");
    assert!(log.iter().any(|(a, _, d)| a == "user.password_change" && d["was_one_time"] == true));

    // the admin's page shows the one-time password once
    app.login_page("admin");
    let csrf = form_csrf(&crate::common::get(&app, &format!("/admin/users/{officer}")).1);
    let (s, page, _) = crate::common::post(&app, &format!("/admin/users/{officer}/reset-password"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("一次性密码"));
    let (_, again) = crate::common::get(&app, &format!("/admin/users/{officer}"));
    assert!(!again.contains("只显示这一次") && again.contains("待修改密码"), "shown once");
    let (_, list) = crate::common::get(&app, "/admin/users");
    assert!(list.contains(&format!("/admin/users/{officer}")) && list.contains("待修改密码"));
}

#[test]
fn a_disabled_account_stops_at_once_and_cannot_sign_in() {
    let app = TestApp::new();
    let officer = user_id(&app, "100007");
    let admin_id = user_id(&app, "admin");
    app.login_page("100007");
    let tok = app.token("100007");
    let other_server = app.another_server();
    let on_other =
        || other_server.get("/api/v1/me/sittings").header(Header::new("Authorization", format!("Bearer {tok}"))).dispatch().status();
    assert_eq!(crate::common::get(&app, "/exams").0, Status::Ok);
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &tok, None).0, Status::Ok);
    assert_eq!(on_other(), Status::Ok, "the other server has the session in its cache now");

    let admin = app.token("admin");
    let (s, body) = app.api("POST", &format!("/api/v1/admin/users/{admin_id}/disable"), &admin, None);
    assert_eq!((s, body["error"]["code"].as_str()), (Status::Conflict, Some("refused")), "not one's own account");
    let (s, st) = app.api("POST", &format!("/api/v1/admin/users/{officer}/disable"), &admin, None);
    assert_eq!(s, Status::Ok, "{st}");
    assert_eq!((st["active"].as_bool(), st["live_tokens"].as_i64(), st["live_sessions"].as_i64()), (Some(false), Some(0), Some(0)));
    // at once on this server: the token and the page session
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &tok, None).0, Status::Unauthorized);
    let r = app.client.get("/exams").dispatch();
    assert!(r.headers().get_one("Location").unwrap().starts_with("/login"), "the page session has ended");
    // on another app server within the session cache's lifetime
    app.clock.advance(Duration::seconds(lawcert::auth::SESSION_CACHE_TTL.num_seconds() + 1));
    assert_eq!(on_other(), Status::Unauthorized, "another server stops it within the cache lifetime");
    // sign-in is refused like a wrong password
    assert_eq!(token_from(&app.client, "100007", PASSWORD, "10.1.1.1").0, Status::Unauthorized);
    let (s, page, _) = login_from(&app.client, "100007", PASSWORD, "10.1.1.1");
    assert_eq!(s, Status::Ok);
    assert!(page.contains("警号或密码不正确"));
    // re-enabled: the password signs in again, the old token stays ended
    let (s, st) = app.api("POST", &format!("/api/v1/admin/users/{officer}/enable"), &admin, None);
    assert_eq!((s, st["active"].as_bool()), (Status::Ok, Some(true)));
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &tok, None).0, Status::Unauthorized);
    assert_eq!(token_from(&app.client, "100007", PASSWORD, "10.1.1.2").0, Status::Ok);
    let log: Vec<String> =
        audit(&app, &format!("user:{officer}")).into_iter().filter(|(_, actor, _)| *actor == Some(admin_id)).map(|(a, ..)| a).collect();
    assert_eq!(log, vec!["user.disable", "user.enable"]);

    // the page: disable and enable with the admin's CSRF token
    let csrf = app.login_page("admin");
    let (s, page, _) = crate::common::post(&app, &format!("/admin/users/{officer}/disable"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("账号已停用"));
    let (_, list) = crate::common::get(&app, "/admin/users");
    assert!(list.contains("已停用"));
    let (_, page, _) = crate::common::post(&app, &format!("/admin/users/{admin_id}/disable"), format!("_csrf={csrf}"));
    assert!(page.contains("不能对自己的账号这样操作"));
    let (_, page, _) = crate::common::post(&app, &format!("/admin/users/{officer}/enable"), format!("_csrf={csrf}"));
    assert!(page.contains("账号已重新启用"));
}

#[test]
fn users_list_and_revoke_their_own_api_tokens() {
    let app = TestApp::new();
    let first = app.token("100008");
    let second = app.token("100008");
    let someone_else = app.token("100009");
    let (s, list) = app.api("GET", "/api/v1/me/tokens", &first, None);
    assert_eq!(s, Status::Ok, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(&first) && !text.contains(&second), "tokens are never shown again");
    let mine = list.iter().find(|t| t["current"] == true).unwrap();
    assert_eq!(mine["prefix"], &first[..8]);
    assert!(mine["last_used_at"].is_string(), "used just now");
    let theirs = list.iter().find(|t| t["current"] == false).unwrap();
    assert_eq!(theirs["prefix"], &second[..8]);
    assert!(theirs["created_at"].is_string() && theirs["expires_at"].is_string());
    // revoke the second: it stops at once
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &second, None).0, Status::Ok);
    let (s, body) = app.api("DELETE", &format!("/api/v1/me/tokens/{}", theirs["id"]), &first, None);
    assert_eq!(s, Status::NoContent, "{body}");
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &second, None).0, Status::Unauthorized);
    let (s, body) = app.api("DELETE", &format!("/api/v1/me/tokens/{}", theirs["id"]), &first, None);
    assert_eq!((s, body["error"]["code"].as_str()), (Status::NotFound, Some("not_found")));
    // someone else's token is not one's own to revoke
    let (_, other_list) = app.api("GET", "/api/v1/me/tokens", &someone_else, None);
    let (s, _) = app.api("DELETE", &format!("/api/v1/me/tokens/{}", other_list[0]["id"]), &first, None);
    assert_eq!(s, Status::NotFound);
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &someone_else, None).0, Status::Ok);
    let id = user_id(&app, "100008");
    assert!(audit(&app, &format!("user:{id}"))
        .iter()
        .any(|(a, actor, d)| a == "user.token_revoke" && *actor == Some(id) && d["prefix"] == second[..8]));

    // the page lists them by prefix and revokes with the CSRF token
    let csrf = app.login_page("100008");
    let (s, page) = crate::common::get(&app, "/account/tokens");
    assert_eq!(s, Status::Ok);
    assert!(page.contains(&first[..8]) && !page.contains(&first), "prefix only");
    let (s, _, loc) = crate::common::post(&app, &format!("/account/tokens/{}/revoke", mine["id"]), format!("_csrf={csrf}"));
    assert_eq!((s, loc.as_deref()), (Status::SeeOther, Some("/account/tokens")));
    assert_eq!(app.api("GET", "/api/v1/me/sittings", &first, None).0, Status::Unauthorized);
    let (_, page) = crate::common::get(&app, "/account/tokens");
    assert!(page.contains("没有有效的接口令牌"));
}

#[test]
fn the_new_operations_are_in_the_openapi_document_with_the_common_errors() {
    let app = TestApp::new();
    let doc: Value = serde_json::from_str(&app.client.get("/api/openapi.json").dispatch().into_string().unwrap()).unwrap();
    for (path, method) in [
        ("/api/v1/me/password", "put"),
        ("/api/v1/me/tokens", "get"),
        ("/api/v1/me/tokens/{id}", "delete"),
        ("/api/v1/admin/users/{id}", "get"),
        ("/api/v1/admin/users/{id}/password-reset", "post"),
        ("/api/v1/admin/users/{id}/disable", "post"),
        ("/api/v1/admin/users/{id}/enable", "post"),
        ("/api/v1/admin/users/{id}/unlock", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        for code in ["400", "401", "403", "404", "422", "429"] {
            assert_eq!(
                op["responses"][code]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{method} {path} {code}"
            );
        }
        assert_eq!(op["security"][0]["bearer"], json!([]), "{method} {path} needs a token");
    }
}

#[test]
fn a_bad_api_token_and_a_bad_unlock_are_refused_in_the_reader_s_language() {
    use crate::common::{beside, post};
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let no_name = format!("_csrf={csrf}&name=&days=365");
    let too_long = format!("_csrf={csrf}&name=HR&days=0");
    let odd_badge = format!("_csrf={csrf}&badge={}&source=", "9".repeat(300));
    // Chinese, the default: beside its field on the tokens page, and on the error page
    let (s, page, _) = post(&app, "/admin/tokens", no_name.clone());
    assert_eq!(s, Status::Ok);
    assert_eq!(beside(&page, "name"), Some("名称：必填，最多 100 个字"), "{page}");
    let (_, page, _) = post(&app, "/admin/tokens", too_long.clone());
    assert_eq!(beside(&page, "days"), Some("有效天数：应为 1–730"), "{page}");
    assert_eq!(beside(&page, "name"), None, "{page}");
    assert!(!page.contains("must be 1–730") && !page.contains("required, at most"), "{page}");
    let (s, page, _) = post(&app, "/admin/users/locks/unlock", odd_badge.clone());
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(page.contains("警号：请使用页面上列出的警号") && !page.contains("as listed on the page"), "{page}");
    let (s, page) = crate::common::get(&app, "/admin/users/999999");
    assert_eq!(s, Status::NotFound);
    assert!(page.contains("没有编号为 999999 的账号"), "{page}");
    // English for a browser that asks for it (no language cookie yet)
    let r =
        app.client.post("/admin/tokens").header(ContentType::Form).header(Header::new("Accept-Language", "en")).body(no_name).dispatch();
    let page = r.into_string().unwrap();
    assert_eq!(beside(&page, "name"), Some("Name: required, at most 100 characters"), "{page}");
    app.client.get("/lang/en").dispatch();
    let (_, page, _) = post(&app, "/admin/tokens", too_long);
    assert_eq!(beside(&page, "days"), Some("Valid for (days): 1–730"), "{page}");
    let (_, page, _) = post(&app, "/admin/users/locks/unlock", odd_badge);
    assert!(page.contains("Badge: a badge as listed on the page") && !page.contains("请使用页面"), "{page}");
    // nothing was issued
    assert!(lawcert::services::hr::tokens(&mut app.conn()).unwrap().is_empty());
}
