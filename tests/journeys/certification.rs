//! Certification levels: eligibility with reasons, certificates on passing, public verification,
//! expiry and 离岗失效 on their dates; recurring plans that create their own sittings.

use chrono::{Duration, Utc};
use lawcert::domain::ids::{AuditId, SittingId, UserId};
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use crate::common::{beside, get, key_of, post, TestApp};

/// A certification sitting for `level` over a small blueprint, open now.
fn cert_sitting(app: &TestApp, level: &str) -> i64 {
    let t = app.token("T0001");
    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "等级考试", "spec": {"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 5, "points_centi": 200}]}})),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let now = Utc::now();
    let (s, body) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": format!("{level} 等级考试"), "kind": "certification", "blueprint_id": bp["id"],
                     "opens_at": (now - Duration::minutes(5)).to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(),
                     "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial", "score_release": "on_submit",
                     "answer_release": "after_close", "cert_level": level})),
    );
    assert_eq!(s, Status::Created, "{body}");
    body["id"].as_i64().unwrap()
}

/// Sits a sitting answering every question with the key.
fn pass(app: &TestApp, tok: &str, sid: i64) -> Value {
    let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), tok, None);
    assert_eq!(s, Status::Created, "{att}");
    let aid = att["attempt_id"].as_i64().unwrap();
    let mut conn = app.conn();
    for q in att["questions"].as_array().unwrap() {
        let qid = q["id"].as_i64().unwrap();
        let key = key_of(&mut conn, qid);
        let (s, b) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), tok, Some(json!({"choices": [key]})));
        assert_eq!(s, Status::Ok, "{b}");
    }
    let (s, result) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), tok, None);
    assert_eq!(s, Status::Ok);
    result
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..60 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not get there");
}

#[test]
fn intermediate_needs_basic_and_a_pass_issues_a_certificate_the_public_page_confirms() {
    let app = TestApp::new();
    let tok = app.token("100025");
    // no 基本级 yet: 中级 is refused, and the officer is told why
    let (s, body) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "intermediate"})));
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(body["error"]["code"], "not_eligible");
    assert!(body["error"]["message"].as_str().unwrap().contains("requires a valid basic certificate"), "{body}");
    app.login_page("100025");
    let (_, html) = get(&app, "/certification");
    assert!(html.contains("须先取得有效的基本级执法资格"), "{html}");
    // applying anyway through the page: refused with the reason in the reader's language
    let csrf = crate::common::form_csrf(&html);
    let (s, html, _) = crate::common::post(&app, "/certification/register", format!("_csrf={csrf}&level=intermediate"));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(html.contains("报考此等级须先持有有效的基本级证书") && !html.contains("requires a valid"), "{html}");
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = crate::common::post(&app, "/certification/register", format!("_csrf={csrf}&level=intermediate"));
    assert!(html.contains("this level requires a valid Basic certificate first"), "{html}");
    app.client.get("/lang/zh").dispatch();

    // a certification sitting admits only registered officers
    let basic = cert_sitting(&app, "basic");
    let (s, body) = app.api("POST", &format!("/api/v1/sittings/{basic}/attempts"), &tok, None);
    assert_eq!(s, Status::Forbidden, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("register for the basic certification first"));
    assert_eq!(body["error"]["code"], "not_registered");
    // and is not offered, with a start button, to those who are not registered
    let listed = |app: &TestApp| {
        let (_, list) = app.api("GET", "/api/v1/me/sittings", &tok, None);
        list.as_array().unwrap().iter().any(|x| x["id"] == basic)
    };
    assert!(!listed(&app), "not registered: not in the list");
    let (s, _) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "basic"})));
    assert_eq!(s, Status::Created);
    assert!(listed(&app), "registered: in the list");
    let (s, _) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "basic"})));
    assert_eq!(s, Status::Conflict, "one open registration per level");
    // the path integrators first used is the same registration, and documented as deprecated
    let (s, body) = app.api("POST", "/api/v1/certification/applications", &tok, Some(json!({"level": "basic"})));
    assert_eq!(s, Status::Conflict, "the old path reaches the same registrations: {body}");
    let (_, spec) = app.api("GET", "/api/openapi.json", &tok, None);
    assert_eq!(spec["paths"]["/api/v1/certification/applications"]["post"]["deprecated"], true, "{}", spec["paths"]);
    assert!(spec["paths"]["/api/v1/certification/registrations"]["post"].get("deprecated").is_none_or(|d| d == false));
    let result = pass(&app, &tok, basic);
    assert_eq!(result["passed"], true);

    // the certificate is in the officer's record, numbered, with a verification code
    let mut conn = app.conn();
    let uid = lawcert::db::models::org::find_by_badge(&mut conn, "100025").unwrap().unwrap().id;
    let certs = lawcert::db::models::cert::certificates_of(&mut conn, uid).unwrap();
    assert_eq!(certs.len(), 1);
    let c = &certs[0];
    assert!(c.number.starts_with("JZ-") && c.number.contains("-B-"), "{}", c.number);
    assert_eq!(c.expires_on, lawcert::domain::certification::expiry(c.issued_on, 5));
    // the holder can print it: a PDF carrying the number and a QR code of the verification link
    app.login_page("100025");
    let r = app.client.get(format!("/certificates/{}/pdf", c.number)).dispatch();
    assert_eq!(r.status(), Status::Ok);
    let bytes = r.into_bytes().unwrap();
    let pdf = String::from_utf8_lossy(&bytes).to_string();
    assert!(pdf.starts_with("%PDF-") && pdf.matches(" re\n").count() > 200, "a QR code's modules are drawn");
    assert!(crate::pdf_text::text(&bytes).contains(&format!("证书编号：{}", c.number)), "the number is printed");
    // nobody else's certificate
    app.login_page("100024");
    assert_eq!(app.client.get(format!("/certificates/{}/pdf", c.number)).dispatch().status(), Status::NotFound);
    // the public page (no sign-in) confirms it and names the holder (name, masked badge), nothing else
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={}", lawcert_csrf(&app))).dispatch();
    let (s, html) = get(&app, &format!("/verify?number={}&code={}", c.number, c.verify_code.to_lowercase()));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("该证书有效"), "{html}");
    let holder = lawcert::db::models::org::find(&mut conn, uid).unwrap().unwrap();
    let name = holder.name.clone();
    assert!(html.contains(&name) && html.contains("1000**"), "the holder's name and masked badge: {html}");
    assert!(!html.contains("100025"), "never the whole badge");
    for private in [
        holder.id_number.clone().unwrap_or_default(),
        holder.email.clone().unwrap_or_default(),
        holder.police_type.clone(),
        holder.rank.clone(),
    ] {
        assert!(private.is_empty() || !html.contains(&private), "nothing else about the holder: {private}");
    }
    let (_, html) = get(&app, &format!("/verify?number={}&code=WRONG123", c.number));
    assert!(html.contains("没有与该编号和查验码相符的证书"));
    let r = app.client.get(format!("/api/v1/certificates/verify?number={}&code={}", c.number, c.verify_code)).dispatch();
    assert_eq!(r.status(), Status::Ok);
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(v["status"], "valid");
    assert_eq!(v["holder_name"], name.as_str());
    assert_eq!(v["holder_badge"], "1000**");
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["expires_on", "holder_badge", "holder_name", "issued_on", "level", "number", "status"],
        "nothing else about the holder"
    );

    // now 中级 is open to them
    let (s, body) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "intermediate"})));
    assert_eq!(s, Status::Created, "{body}");
    // the issue is in the audit log
    let log = lawcert::db::models::audit::page(&mut conn, AuditId(0), 10_000).unwrap();
    assert!(log.iter().any(|e| e.action == "certificate.issue" && e.subject.contains(&c.number)));
}

fn lawcert_csrf(app: &TestApp) -> String {
    crate::common::form_csrf(&get(app, "/").1)
}

#[test]
fn expiry_and_leaving_an_enforcement_post_end_certificates_on_their_dates() {
    let app = TestApp::new();
    let basic = cert_sitting(&app, "basic");
    let mut certs = Vec::new();
    for badge in ["100026", "100027"] {
        let tok = app.token(badge);
        let (s, _) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "basic"})));
        assert_eq!(s, Status::Created);
        pass(&app, &tok, basic);
        let mut conn = app.conn();
        let uid = lawcert::db::models::org::find_by_badge(&mut conn, badge).unwrap().unwrap().id;
        certs.push((uid, lawcert::db::models::cert::certificates_of(&mut conn, uid).unwrap().remove(0)));
    }
    // HR records that 100027 left enforcement duty today
    let csrf = app.login_page("H0001");
    let (uid13, c13) = certs[1].clone();
    let today = lawcert::timefmt::bureau_date(app.clock.now());
    let (s, body, _) =
        post(&app, &format!("/admin/users/{uid13}/post"), format!("_csrf={csrf}&post=%E5%90%8E%E5%8B%A4&effective_on={today}"));
    assert_eq!(s, Status::SeeOther, "{body}");
    let (_, html) = get(&app, &format!("/officers/{uid13}"));
    assert!(html.contains("非执法岗位"));

    let status = |id: UserId| {
        let mut conn = app.conn();
        lawcert::db::models::cert::certificates_of(&mut conn, id).unwrap().remove(0).status
    };
    // 364 days later nothing has changed; at one year the server lapses it by itself
    app.clock.advance(Duration::days(364));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(status(uid13), lawcert::domain::certification::CertStatus::Valid);
    app.clock.advance(Duration::days(1));
    wait_for(|| (status(uid13) == lawcert::domain::certification::CertStatus::Lapsed).then_some(()));
    assert_eq!(status(certs[0].0), lawcert::domain::certification::CertStatus::Valid, "the officer still on post keeps theirs");
    let (_, html) = get(&app, &format!("/verify?number={}&code={}", c13.number, c13.verify_code));
    assert!(html.contains("已失效"), "{html}");
    // a lapsed officer must pass again: basic is open to them, intermediate is not
    let mut conn = app.conn();
    let now = app.clock.now();
    let d = lawcert::timefmt::bureau_date(now);
    assert!(lawcert::services::certification::eligibility(&mut conn, uid13, lawcert::domain::bank::Level::Basic, d).unwrap().is_ok());
    assert!(lawcert::services::certification::eligibility(&mut conn, uid13, lawcert::domain::bank::Level::Intermediate, d)
        .unwrap()
        .is_err());

    // the holder is warned before expiry, and the certificate expires on its date
    let (uid12, c12) = certs[0].clone();
    let to_warning = (c12.expires_on - Duration::days(80)) - lawcert::timefmt::bureau_date(app.clock.now());
    app.clock.advance(to_warning);
    wait_for(|| {
        let mut conn = app.conn();
        lawcert::db::models::cert::certificates_of(&mut conn, uid12).unwrap()[0].warned_at.map(|_| ())
    });
    let notes = lawcert::db::models::audit::notifications_of(&mut conn, uid12, 20).unwrap();
    assert!(notes.iter().any(|n| n.kind == "certificate_expiring"));
    app.clock.advance(Duration::days(80));
    wait_for(|| (status(uid12) == lawcert::domain::certification::CertStatus::Expired).then_some(()));
    let log = lawcert::db::models::audit::page(&mut conn, AuditId(0), 10_000).unwrap();
    assert!(log.iter().any(|e| e.action == "certificate.lapsed") && log.iter().any(|e| e.action == "certificate.expired"));
}

#[test]
fn a_bimonthly_plan_creates_its_sittings_and_records_absentees_for_a_make_up() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let (_, html) = get(&app, "/plans");
    let bp = html
        .split("name=\"blueprint_id\">")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let today = lawcert::timefmt::bureau_date(app.clock.now());
    let first = today + Duration::days(10);
    // a bad plan is refused with the reason
    let (s, html, _) = post(&app, "/plans", format!("_csrf={csrf}&name=x&blueprint_id={bp}&first_date={first}&every_months=0&opens_at=09:00&window_minutes=180&lead_days=14&duration_minutes=60&pass_percent=60"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<li>间隔（月）：应为 1–12</li>"), "{html}");
    // and beside the field it concerns, not only in the list at the top
    let beside = html
        .find(r#"name="every_months""#)
        .and_then(|at| html[at..].find(r#"<span class="field-error" id="error-every_months">间隔（月）：应为 1–12</span>"#));
    assert!(beside.is_some_and(|gap| gap < 300), "{html}");
    assert!(!html.contains(r#"id="error-pass_percent""#), "only the fields with a problem: {html}");
    let (s, html, _) = post(
        &app,
        "/plans",
        format!("_csrf={csrf}&name=%E5%8F%8C%E6%9C%88%E8%80%83&blueprint_id={bp}&first_date={first}&every_months=2&opens_at=09:00&window_minutes=180&lead_days=14&duration_minutes=60&pass_percent=60&police_types=%E4%BA%A4%E8%AD%A6"),
    );
    assert_eq!(s, Status::SeeOther, "{html}");
    // a plan for one unit only is listed as for that unit, not for everyone
    let unit = lawcert::db::models::org::all_units(&mut app.conn()).unwrap().into_iter().find(|u| u.parent_id.is_some()).unwrap();
    let (s, html, _) = post(
        &app,
        "/plans",
        format!("_csrf={csrf}&name=unit-only&blueprint_id={bp}&first_date={}&every_months=2&opens_at=09:00&window_minutes=180&lead_days=0&duration_minutes=60&pass_percent=60&units={}", first + Duration::days(40), unit.id),
    );
    assert_eq!(s, Status::SeeOther, "{html}");
    let (_, list) = get(&app, "/plans");
    let row = list.split("<tr>").find(|r| r.contains("unit-only")).expect("the plan is listed");
    assert!(row.contains(&unit.name) && !row.contains("全体民警"), "{row}");
    // the server creates the first sitting by itself (it is within the 14-day lead)
    let mut conn = app.conn();
    let sitting = wait_for(|| lawcert::db::models::exam::list_sittings(&mut app.conn()).unwrap().into_iter().find(|s| s.plan_id.is_some()));
    assert!(sitting.title.contains(&first.to_string()), "{}", sitting.title);
    assert_eq!(lawcert::timefmt::bureau_date(sitting.opens_at + Duration::hours(1)), first);
    // its candidates (交警 only) were notified
    let traffic = lawcert::db::models::org::find_by_badge(&mut conn, "100004").unwrap().unwrap();
    let other = lawcert::db::models::org::find_by_badge(&mut conn, "100001").unwrap().unwrap();
    assert!(lawcert::db::models::audit::notifications_of(&mut conn, traffic.id, 10).unwrap().iter().any(|n| n.kind == "exam_scheduled"));
    assert!(!lawcert::db::models::audit::notifications_of(&mut conn, other.id, 10).unwrap().iter().any(|n| n.kind == "exam_scheduled"));
    // once is enough: the next sweep does not create it again
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let n = lawcert::db::models::exam::list_sittings(&mut conn).unwrap().into_iter().filter(|s| s.plan_id.is_some()).count();
    assert_eq!(n, 1);

    // nobody sits it; after it closes everyone on its list is recorded absent
    app.clock.advance(Duration::days(11));
    let absent = wait_for(|| {
        let a = lawcert::db::models::room::absentees(&mut app.conn(), sitting.id).unwrap();
        (!a.is_empty()).then_some(a)
    });
    assert!(absent.contains(&traffic.id) && !absent.contains(&other.id));
    // a trainer opens a make-up for exactly those officers (signing in again: days have passed)
    let csrf = app.login_page("T0001");
    let (_, html) = get(&app, &format!("/sittings/{}/proctor", sitting.id));
    assert!(html.contains("缺考人员") && html.contains("100004"), "{html}");
    let d = lawcert::timefmt::bureau_date(app.clock.now()) + Duration::days(3);
    let (s, html, loc) =
        post(&app, &format!("/sittings/{}/makeup", sitting.id), format!("_csrf={csrf}&opens_at={d}T09:00&closes_at={d}T12:00"));
    assert_eq!(s, Status::SeeOther, "{html}");
    let makeup_id: i64 = loc.unwrap().rsplit('/').next().unwrap().parse().unwrap();
    let m = lawcert::db::models::exam::find_sitting(&mut conn, SittingId(makeup_id)).unwrap().unwrap();
    assert_eq!(m.makeup_of, Some(sitting.id));
    let e = lawcert::services::exams::eligibility_of(&m);
    assert!(e.badges.contains(&"100004".to_string()) && !e.badges.contains(&"100001".to_string()));
}

#[test]
fn bad_certification_rules_and_a_bad_post_change_are_refused_in_the_reader_s_language() {
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let row = |i: usize, pass: i32, pre: &str| {
        format!("&levels[{i}].pass_percent={pass}&levels[{i}].validity_years=3&levels[{i}].prerequisite={pre}&levels[{i}].min_service_years=0&levels[{i}].min_prerequisite_years=0")
    };
    let rules = format!(
        "_csrf={csrf}{}{}{}&lapse_days_off_post=5&warn_days_before_expiry=30",
        row(0, 0, ""),
        row(1, 60, "intermediate"),
        row(2, 60, "intermediate")
    );
    let uid = lawcert::db::models::org::find_by_badge(&mut app.conn(), "100026").unwrap().unwrap().id;
    let long_post = "岗".repeat(61);
    let bad_post = format!("_csrf={csrf}&post={}&enforcement_post=true&effective_on=2026-01-01", crate::common::enc(&long_post));
    let bad_date = format!("_csrf={csrf}&post=%E5%90%8E%E5%8B%A4&effective_on=2026-13-01");
    // Chinese, the default
    let (s, html, _) = post(&app, "/admin/certification", rules.clone());
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<li>基本级：合格线应为 1–100（%）</li>"), "{html}");
    assert!(html.contains("<li>中级：前置等级不能是本等级</li>"), "{html}");
    assert_eq!(beside(&html, "lapse_days_off_post"), Some("离开执法岗位后失效的天数：应为 30–3650"), "{html}");
    assert_eq!(beside(&html, "warn_days_before_expiry"), None, "{html}");
    assert!(!html.contains("must be") && !html.contains("cannot require"), "{html}");
    let (s, html, _) = post(&app, &format!("/admin/users/{uid}/post"), bad_post.clone());
    assert_eq!(s, Status::Ok, "the officer's page again, not an error page");
    assert_eq!(beside(&html, "post"), Some("新岗位：必填，最多 60 个字"), "{html}");
    assert!(html.contains(&format!("value=\"{long_post}\"")), "what was typed is kept: {html}");
    let (_, html, _) = post(&app, &format!("/admin/users/{uid}/post"), bad_date.clone());
    assert_eq!(beside(&html, "effective_on"), Some("生效日期：请按 YYYY-MM-DD 填写岗位变动生效的日期"), "{html}");
    assert!(!html.contains("took effect"), "{html}");
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = post(&app, "/admin/certification", rules);
    assert!(html.contains("<li>Basic level: the pass mark must be 1–100 %</li>"), "{html}");
    assert_eq!(beside(&html, "lapse_days_off_post"), Some("Days off an enforcement post before a qualification lapses: 30–3650"), "{html}");
    assert!(!html.contains("合格线应为"), "{html}");
    let (_, html, _) = post(&app, &format!("/admin/users/{uid}/post"), bad_post);
    assert_eq!(beside(&html, "post"), Some("New post: required, at most 60 characters"), "{html}");
    let (_, html, _) = post(&app, &format!("/admin/users/{uid}/post"), bad_date);
    assert_eq!(beside(&html, "effective_on"), Some("Effective from: the date the change took effect, YYYY-MM-DD"), "{html}");
    // nothing was stored
    assert!(lawcert::db::models::cert::post_changes_of(&mut app.conn(), uid).unwrap().is_empty());
}
