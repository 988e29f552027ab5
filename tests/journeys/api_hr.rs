//! The personnel system and the people around the exam use the API on the demo bureau: HR asks
//! which officers may be promoted and why not (in its language), keeps the promotion rules;
//! leaders, HR and trainers read remedial plans (a leader only their units'); trainers and admins
//! read exam plans and their occurrences; officers are refused. HR's eligibility page takes an
//! uploaded .xlsx or .csv of badges.

use chrono::Duration;
use lawcert::domain::ids::{ExamPlanId, SittingId, UnitId};
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::common::{wait_for, TestApp};
use lawcert::db::models::{org, training as tr_db};

/// The demo's closed bimonthly exam is filed by the first sweeps (and opens plans for those who
/// failed); wait for it so the assertions see a settled database.
fn settled(app: &TestApp) {
    wait_for(|| {
        lawcert::db::models::exam::list_sittings(&mut app.conn())
            .unwrap()
            .iter()
            .all(|s| s.closes_at > app.clock.now() || s.filed)
            .then_some(())
    });
}

fn unit_id(app: &TestApp, name: &str) -> UnitId {
    org::all_units(&mut app.conn()).unwrap().into_iter().find(|u| u.name == name).unwrap().id
}

fn user(app: &TestApp, badge: &str) -> org::User {
    org::find_by_badge(&mut app.conn(), badge).unwrap().unwrap()
}

/// A call with extra headers: (status, JSON body).
fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>, headers: &[(&str, &str)]) -> (Status, Value) {
    let mut req = match method {
        "GET" => app.client.get(path.to_string()),
        "POST" => app.client.post(path.to_string()),
        "PUT" => app.client.put(path.to_string()),
        _ => panic!("method"),
    }
    .header(Header::new("Authorization", format!("Bearer {token}")))
    .header(ContentType::JSON);
    for (k, v) in headers {
        req = req.header(Header::new(k.to_string(), v.to_string()));
    }
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.dispatch();
    let s = r.status();
    let text = r.into_string().unwrap_or_default();
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message in {body}")).to_string()
}

fn verdict<'a>(body: &'a Value, badge: &str) -> &'a Value {
    body["results"].as_array().unwrap().iter().find(|r| r["badge"] == badge).unwrap_or_else(|| panic!("no verdict for {badge}: {body}"))
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

fn principal_rule() -> Value {
    json!({"name": "所长任职", "target": "派出所所长", "min_level": "intermediate", "cert_valid_on_date": true,
           "no_open_remedial": true, "no_failed_bimonthly_months": 12})
}

#[test]
fn hr_keeps_promotion_rules_and_asks_who_is_eligible_in_its_language() {
    let app = TestApp::new();
    settled(&app);
    let hr = app.token("H0001");

    // rules: every field in error is named, nothing is stored
    let (s, body) = app.api(
        "POST",
        "/api/v1/promotion-rules",
        &hr,
        Some(json!({"name": "", "target": "x", "min_level": "expert", "no_open_remedial": false, "cert_valid_on_date": false, "no_failed_bimonthly_months": 0})),
    );
    assert_eq!(s, Status::UnprocessableEntity, "{body}");
    let m = message(&body);
    for field in ["name: required", "min_level: unknown level \"expert\"", "no_failed_bimonthly_months: must be 1–120"] {
        assert!(m.contains(field), "{field} not named in {m}");
    }
    assert!(lawcert::db::models::hr::rules(&mut app.conn()).unwrap().is_empty(), "a refused rule is not stored");
    let (s, body) = app.api("POST", "/api/v1/promotion-rules", &hr, Some(json!({"name": "x"})));
    assert_eq!(s, Status::BadRequest, "a body without the required fields: {body}");

    let (s, rule) = app.api("POST", "/api/v1/promotion-rules", &hr, Some(principal_rule()));
    assert_eq!(s, Status::Created, "{rule}");
    let rule_id = rule["id"].as_i64().unwrap();
    assert_eq!((rule["min_level"].as_str(), rule["active"].as_bool()), (Some("intermediate"), Some(true)), "{rule}");
    let mut changed = principal_rule();
    changed["no_failed_bimonthly_months"] = json!(6);
    let (s, body) = app.api("PUT", &format!("/api/v1/promotion-rules/{rule_id}"), &hr, Some(changed));
    assert_eq!(s, Status::Ok, "{body}");
    assert_eq!(body["no_failed_bimonthly_months"], json!(6));
    assert_eq!(app.api("PUT", "/api/v1/promotion-rules/99999", &hr, Some(principal_rule())).0, Status::NotFound);
    // audited like the page: one entry per change, with before and after
    let audit = lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("promotion_rule:{rule_id}")).unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    // a second rule any basic holder meets
    let (s, basic) = app.api(
        "POST",
        "/api/v1/promotion-rules",
        &hr,
        Some(json!({"name": "晋升一级警长", "target": "一级警长", "min_level": "basic", "cert_valid_on_date": true, "no_open_remedial": false})),
    );
    assert_eq!(s, Status::Created, "{basic}");

    // reading rules: leaders and admins too; officers and trainers are refused; writing is HR's and admins'
    let leader = app.token("L0001");
    let (s, list) = app.api("GET", "/api/v1/promotion-rules", &leader, None);
    assert_eq!(s, Status::Ok);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(app.api("GET", &format!("/api/v1/promotion-rules/{rule_id}"), &leader, None).1["target"], json!("派出所所长"));
    assert_eq!(app.api("POST", "/api/v1/promotion-rules", &leader, Some(principal_rule())).0, Status::Forbidden);
    let officer = app.token("100003");
    assert_eq!(app.api("GET", "/api/v1/promotion-rules", &officer, None).0, Status::Forbidden);
    assert_eq!(app.api("GET", "/api/v1/promotion-rules", &app.token("T0001"), None).0, Status::Forbidden);

    // the question: by target, in English; unknown badges answered per badge, repeats once
    let date = lawcert::timefmt::bureau_date(app.clock.now()) + Duration::days(30);
    let ask = json!({"target": "派出所所长", "date": date.to_string(), "badges": ["100002", "100001", "100022", "999999", "100001"]});
    let (s, body) = call(&app, "POST", "/api/v1/eligibility", &hr, Some(ask.clone()), &[("Accept-Language", "en-GB,en;q=0.9,zh;q=0.5")]);
    assert_eq!(s, Status::Ok, "{body}");
    assert_eq!((body["lang"].as_str(), body["checked"].as_u64(), body["rule"]["id"].as_i64()), (Some("en"), Some(4), Some(rule_id)));
    let v = verdict(&body, "100001");
    assert_eq!((v["found"].as_bool(), v["eligible"].as_bool()), (Some(true), Some(false)));
    let reason = v["reasons"].as_array().unwrap().iter().find(|r| r["code"] == "level_too_low").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(reason["message"], json!("Holds Basic; Intermediate or higher is needed"));
    let v = verdict(&body, "100022");
    assert!(codes(v).contains(&"no_certificate".to_string()), "{v}");
    let v = verdict(&body, "999999");
    assert_eq!((v["found"].as_bool(), v["eligible"].as_bool(), v["name"].as_str()), (Some(false), Some(false), None));
    assert_eq!(v["reasons"], json!([{"code": "unknown_badge", "message": "No officer with this badge"}]));
    let v = verdict(&body, "100002");
    assert!(!codes(v).iter().any(|c| c == "level_too_low" || c == "no_certificate"), "100002 holds 高级: {v}");
    assert_eq!(
        body["eligible"].as_u64().unwrap() as usize,
        body["results"].as_array().unwrap().iter().filter(|r| r["eligible"] == true).count()
    );
    // without a language preference: Chinese, the pages' sentences
    let (_, zh) = app.api("POST", "/api/v1/eligibility", &hr, Some(ask));
    assert_eq!(zh["lang"], json!("zh"));
    assert!(verdict(&zh, "100001")["reasons"].to_string().contains("现有有效资格为基本级，需中级及以上"), "{zh}");
    assert_eq!(verdict(&zh, "999999")["reasons"][0]["message"], json!("警号不存在"));
    // by rule id: a basic holder without other conditions is eligible
    let (s, body) = app.api(
        "POST",
        "/api/v1/eligibility",
        &hr,
        Some(json!({"target": basic["id"], "date": date.to_string(), "badges": ["100001", "100022"]})),
    );
    assert_eq!(s, Status::Ok, "{body}");
    assert_eq!(verdict(&body, "100001")["eligible"], json!(true), "{body}");
    assert_eq!(verdict(&body, "100001")["reasons"], json!([]));
    assert_eq!(verdict(&body, "100022")["eligible"], json!(false));

    // questions that cannot be answered: 422 naming each problem
    let (s, body) = app.api("POST", "/api/v1/eligibility", &hr, Some(json!({"target": "总局局长", "date": "2027-02-30", "badges": [""]})));
    assert_eq!(s, Status::UnprocessableEntity);
    let m = message(&body);
    for part in ["date: \"2027-02-30\" is not a date", "badges[0]: empty", "target: no promotion rule in use promotes to \"总局局长\""]
    {
        assert!(m.contains(part), "{part} not in {m}");
    }
    let many: Vec<String> = (0..5001).map(|i| format!("{}", 200000 + i)).collect();
    let (s, body) = app.api("POST", "/api/v1/eligibility", &hr, Some(json!({"target": rule_id, "date": date.to_string(), "badges": many})));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(message(&body).contains("badges: 5001 given; at most 5000 per check"), "{body}");
    let (s, body) = app.api("POST", "/api/v1/eligibility", &hr, Some(json!({"target": rule_id, "date": date.to_string(), "badges": []})));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(message(&body).contains("badges: list at least one"), "{body}");

    // who may ask: HR and admins; leaders, trainers and officers are refused
    assert_eq!(
        app.api(
            "POST",
            "/api/v1/eligibility",
            &app.token("admin"),
            Some(json!({"target": rule_id, "date": date.to_string(), "badges": ["100001"]}))
        )
        .0,
        Status::Ok
    );
    for badge in ["L0001", "T0001", "100003"] {
        let (s, body) = app.api(
            "POST",
            "/api/v1/eligibility",
            &app.token(badge),
            Some(json!({"target": rule_id, "date": date.to_string(), "badges": ["100001"]})),
        );
        assert_eq!(s, Status::Forbidden, "{badge}: {body}");
        assert_eq!(body["error"]["code"], json!("forbidden"));
    }

    // the personnel system's HR token (issued by an admin) asks and reads, and cannot write
    let admin = user(&app, "admin");
    let (_, system) =
        lawcert::services::hr::create_token(&mut app.conn(), "人事系统", lawcert::domain::org::Role::Hr, 30, admin.id, app.clock.now())
            .unwrap();
    let (s, body) = app.api(
        "POST",
        "/api/v1/eligibility",
        &system,
        Some(json!({"target": "一级警长", "date": date.to_string(), "badges": ["100001"]})),
    );
    assert_eq!(s, Status::Ok, "{body}");
    assert_eq!(app.api("GET", "/api/v1/promotion-rules", &system, None).0, Status::Ok);
    assert_eq!(app.api("POST", "/api/v1/promotion-rules", &system, Some(principal_rule())).0, Status::Forbidden);
    assert_eq!(app.api("GET", "/api/v1/promotion-rules", "lct_not-a-token", None).0, Status::Unauthorized);

    // our own pages call the API with the session cookie: writes need the CSRF header
    let csrf = app.login_page("H0001");
    let r = app.client.post("/api/v1/promotion-rules").header(ContentType::JSON).body(principal_rule().to_string()).dispatch();
    assert_eq!(r.status(), Status::Forbidden, "no CSRF header");
    let r = app
        .client
        .post("/api/v1/promotion-rules")
        .header(ContentType::JSON)
        .header(Header::new("X-CSRF-Token", csrf.clone()))
        .body(principal_rule().to_string())
        .dispatch();
    assert_eq!(r.status(), Status::Created);
    // …and the site's language choice wins over Accept-Language
    app.client.get("/lang/en").dispatch();
    let r = app
        .client
        .post("/api/v1/eligibility")
        .header(ContentType::JSON)
        .header(Header::new("Accept-Language", "zh-CN"))
        .header(Header::new("X-CSRF-Token", csrf))
        .body(json!({"target": "一级警长", "date": date.to_string(), "badges": ["999999"]}).to_string())
        .dispatch();
    assert_eq!(r.status(), Status::Ok);
    let body: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(
        (body["lang"].as_str(), body["results"][0]["reasons"][0]["message"].as_str()),
        (Some("en"), Some("No officer with this badge"))
    );
}

/// Opens a referral plan for `badge` unless one is open; returns the open plan's id.
fn open_plan(app: &TestApp, badge: &str) -> i64 {
    let u = user(app, badge);
    if let Some(p) = tr_db::open_plan_of(&mut app.conn(), u.id).unwrap() {
        return p.id.0;
    }
    let trainer = user(app, "T0001");
    (lawcert::services::remedial::refer(&mut app.conn(), badge, "案件卷宗多次退补，需加强学习", trainer.id, app.clock.now()).unwrap()).0
}

#[test]
fn remedial_plans_are_read_with_filters_and_a_leader_sees_only_their_units() {
    let app = TestApp::new();
    settled(&app);
    // 100001 serves at 城东派出所 (the demo leader's station); 100003 at 城西分局治安大队
    let east_plan = open_plan(&app, "100001");
    let west_plan = open_plan(&app, "100003");
    let east = unit_id(&app, "城东派出所");
    let west = unit_id(&app, "城西分局治安大队");
    let hr = app.token("H0001");

    let (s, all) = app.api("GET", "/api/v1/remedial-plans?per_page=200", &hr, None);
    assert_eq!(s, Status::Ok, "{all}");
    let plans = all["plans"].as_array().unwrap();
    let stored = tr_db::all_plans(&mut app.conn(), false).unwrap();
    assert_eq!(all["total"].as_u64().unwrap() as usize, stored.len(), "HR reads every plan");
    assert_eq!(plans.len(), stored.len());
    assert!(plans.iter().any(|p| p["id"] == east_plan) && plans.iter().any(|p| p["id"] == west_plan));
    let ids: Vec<i64> = plans.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // filters
    let (_, one) = app.api("GET", "/api/v1/remedial-plans?badge=100003", &hr, None);
    assert!(one["plans"].as_array().unwrap().iter().all(|p| p["badge"] == "100003") && one["total"].as_u64() >= Some(1), "{one}");
    let (_, here) = app.api("GET", &format!("/api/v1/remedial-plans?unit={east}&status=open&per_page=200"), &hr, None);
    let here = here["plans"].as_array().unwrap().clone();
    assert!(here.iter().any(|p| p["id"] == east_plan), "{here:?}");
    assert!(here.iter().all(|p| p["unit_id"] == east.0 && p["status"] == "open"), "{here:?}");
    let (_, branch) = app.api("GET", &format!("/api/v1/remedial-plans?unit={}", unit_id(&app, "城西分局")), &hr, None);
    assert!(branch["plans"].as_array().unwrap().iter().any(|p| p["id"] == west_plan), "a branch includes its brigades: {branch}");
    let today = lawcert::timefmt::bureau_date(app.clock.now());
    let (_, future) = app.api("GET", &format!("/api/v1/remedial-plans?opened_from={}", today + Duration::days(1)), &hr, None);
    assert_eq!(future["total"], json!(0));
    let (_, upto) = app.api("GET", &format!("/api/v1/remedial-plans?opened_from={today}&opened_to={today}&badge=100001"), &hr, None);
    assert_eq!(upto["plans"][0]["id"], json!(east_plan), "{upto}");
    let (_, late) = app.api("GET", "/api/v1/remedial-plans?overdue=true", &hr, None);
    assert_eq!(late["total"], json!(0), "nothing is past its deadline yet: {late}");
    // paging
    let (_, p2) = app.api("GET", "/api/v1/remedial-plans?per_page=1&page=2", &hr, None);
    assert_eq!((p2["plans"].as_array().unwrap().len(), p2["total"].clone(), p2["page"].clone()), (1, all["total"].clone(), json!(2)));
    assert_eq!(p2["plans"][0]["id"], plans[1]["id"]);
    // bad filters: 422 naming each
    let (s, body) = app.api("GET", "/api/v1/remedial-plans?status=lost&page=0&opened_to=2026-13-01&overdue=maybe", &hr, None);
    assert_eq!(s, Status::UnprocessableEntity);
    let m = message(&body);
    for part in ["status: \"lost\"", "page: \"0\"", "opened_to: \"2026-13-01\"", "overdue: \"maybe\""] {
        assert!(m.contains(part), "{part} not in {m}");
    }

    // a month later the open plans are overdue
    app.clock.advance(Duration::days(31));
    let hr = app.token("H0001"); // the earlier token has expired by now
    let (_, late) = app.api("GET", "/api/v1/remedial-plans?overdue=true&per_page=200", &hr, None);
    let late = late["plans"].as_array().unwrap().clone();
    assert!(late.iter().any(|p| p["id"] == east_plan) && late.iter().all(|p| p["overdue"] == true && p["status"] == "open"), "{late:?}");

    // one plan with its steps, labels in the caller's language
    let (s, plan) = call(&app, "GET", &format!("/api/v1/remedial-plans/{east_plan}"), &hr, None, &[("Accept-Language", "en")]);
    assert_eq!(s, Status::Ok, "{plan}");
    assert_eq!(plan["plan"]["badge"], json!("100001"));
    let steps: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, vec!["review", "practice", "exam"]);
    let stage = plan["plan"]["stage"].as_str().unwrap();
    let current: Vec<&Value> = plan["steps"].as_array().unwrap().iter().filter(|s| s["state"] == "current").collect();
    assert_eq!(current.len(), 1, "{plan}");
    assert_eq!(current[0]["step"], json!(stage));
    assert_eq!(plan["steps"][1]["label"], json!("Targeted practice"));
    assert!(plan["practice"]["needed_answers"].as_u64() > Some(0) && !plan["statutes"].as_array().unwrap().is_empty(), "{plan}");
    assert!(plan.to_string().find("\"key\"").is_none(), "no question content in the API's plan: {plan}");
    assert_eq!(app.api("GET", "/api/v1/remedial-plans/99999", &hr, None).0, Status::NotFound);

    // the unit leader: their station's plans only, the west brigade's are not there
    let leader = app.token("L0001");
    let (s, mine) = app.api("GET", "/api/v1/remedial-plans?per_page=200", &leader, None);
    assert_eq!(s, Status::Ok);
    let mine = mine["plans"].as_array().unwrap().clone();
    assert!(mine.iter().any(|p| p["id"] == east_plan), "{mine:?}");
    assert!(mine.iter().all(|p| p["unit_id"] == east.0), "a leader sees only officers under their unit: {mine:?}");
    assert!(!mine.iter().any(|p| p["id"] == west_plan));
    let (_, other) = app.api("GET", &format!("/api/v1/remedial-plans?unit={west}"), &leader, None);
    assert_eq!(other["total"], json!(0), "filtering on another unit shows nothing: {other}");
    assert_eq!(app.api("GET", &format!("/api/v1/remedial-plans/{east_plan}"), &leader, None).0, Status::Ok);
    let (s, body) = app.api("GET", &format!("/api/v1/remedial-plans/{west_plan}"), &leader, None);
    assert_eq!(s, Status::NotFound, "another unit's plan is as good as absent: {body}");
    // trainers read every plan (as on the remedial pages); an officer is refused, even their own plan
    let (_, t) = app.api("GET", "/api/v1/remedial-plans?per_page=200", &app.token("T0001"), None);
    assert_eq!(t["total"], all["total"]);
    let officer = app.token("100003");
    assert_eq!(app.api("GET", "/api/v1/remedial-plans", &officer, None).0, Status::Forbidden);
    assert_eq!(app.api("GET", &format!("/api/v1/remedial-plans/{west_plan}"), &officer, None).0, Status::Forbidden);
}

#[test]
fn trainers_and_admins_read_exam_plans_and_their_occurrences() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let bp = lawcert::db::models::exam::list_blueprints(&mut app.conn()).unwrap()[0].id;
    let today = lawcert::timefmt::bureau_date(app.clock.now());
    let plan = |first: chrono::NaiveDate, every: u32, minutes: i32, blueprint: i64| {
        json!({"name": "执法知识双月考", "blueprint_id": blueprint, "eligibility": {"units": [unit_id(&app, "城东派出所")]},
               "schedule": {"first_date": first.to_string(), "every_months": every, "opens_at": "09:00:00", "window_minutes": 180, "lead_days": 14},
               "duration_minutes": minutes, "pass_percent": 60, "multi_rule": "partial", "score_release": "on_submit", "answer_release": "after_close"})
    };
    // the page's checks, each field named
    let (s, body) = app.api("POST", "/api/v1/exam-plans", &t, Some(plan(today, 0, 0, 99999)));
    assert_eq!(s, Status::UnprocessableEntity);
    let m = message(&body);
    for part in ["every_months: 1–12", "duration_minutes: 1–600", "blueprint_id: no blueprint 99999"] {
        assert!(m.contains(part), "{part} not in {m}");
    }
    assert!(lawcert::db::models::plans::list(&mut app.conn()).unwrap().is_empty());
    // admins read plans but do not write them (as on the plans page, trainers do)
    assert_eq!(app.api("POST", "/api/v1/exam-plans", &app.token("admin"), Some(plan(today, 2, 60, bp.0))).0, Status::Forbidden);

    let first = today + Duration::days(3);
    let (s, created) = app.api("POST", "/api/v1/exam-plans", &t, Some(plan(first, 2, 60, bp.0)));
    assert_eq!(s, Status::Created, "{created}");
    let id = created["id"].as_i64().unwrap();
    let admin = app.token("admin");
    let (s, list) = app.api("GET", "/api/v1/exam-plans", &admin, None);
    assert_eq!(s, Status::Ok);
    let p = list.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("{list}"));
    assert_eq!((p["next_date"].as_str(), p["schedule"]["every_months"].as_u64()), (Some(first.to_string().as_str()), Some(2)), "{p}");
    assert!(p["blueprint"].is_string() && p["active"] == true, "{p}");

    // the server creates the first occurrence's sitting (14 days ahead) on its own
    let detail = wait_for(|| {
        let (_, d) = app.api("GET", &format!("/api/v1/exam-plans/{id}"), &t, None);
        d["occurrences"][0]["sitting_id"].is_i64().then_some(d)
    });
    let occ = detail["occurrences"].as_array().unwrap();
    assert_eq!((occ[0]["date"].as_str(), occ[0]["state"].as_str()), (Some(first.to_string().as_str()), Some("scheduled")), "{detail}");
    let sitting =
        lawcert::db::models::exam::find_sitting(&mut app.conn(), SittingId(occ[0]["sitting_id"].as_i64().unwrap())).unwrap().unwrap();
    assert_eq!(sitting.plan_id, Some(ExamPlanId(id)));
    let upcoming: Vec<&str> = occ[1..].iter().map(|o| o["date"].as_str().unwrap()).collect();
    let expect: Vec<String> = (1..=6).map(|n| first.checked_add_months(chrono::Months::new(2 * n)).unwrap().to_string()).collect();
    assert_eq!(upcoming, expect, "the next six dates, every two months");
    assert!(occ[1..].iter().all(|o| o["state"] == "upcoming" && o["sitting_id"].is_null()));
    assert_eq!(app.api("GET", "/api/v1/exam-plans/99999", &t, None).0, Status::NotFound);

    // HR, leaders and officers are refused
    for badge in ["H0001", "L0001", "100001"] {
        let tok = app.token(badge);
        assert_eq!(app.api("GET", "/api/v1/exam-plans", &tok, None).0, Status::Forbidden, "{badge}");
        assert_eq!(app.api("GET", &format!("/api/v1/exam-plans/{id}"), &tok, None).0, Status::Forbidden, "{badge}");
    }
}

/// A multipart body for the eligibility page: fields, then one file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (ContentType, Vec<u8>) {
    let boundary = "----lawcert-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some((name, bytes)) = file {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (ContentType::new("multipart", "form-data").with_params(("boundary", boundary)), body)
}

fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                // badges typed into Excel are numbers
                Ok(n) => sheet.write_number(r as u32, c as u16, n).unwrap(),
                Err(_) => sheet.write_string(r as u32, c as u16, *cell).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn hr_uploads_a_spreadsheet_of_badges_to_the_eligibility_page() {
    let app = TestApp::new();
    settled(&app);
    let hr = app.token("H0001");
    let (s, rule) = app.api("POST", "/api/v1/promotion-rules", &hr, Some(principal_rule()));
    assert_eq!(s, Status::Created);
    let rule_id = rule["id"].to_string();
    let date = (lawcert::timefmt::bureau_date(app.clock.now()) + Duration::days(30)).to_string();
    let csrf = app.login_page("H0001");
    let post = |file: Option<(&str, &[u8])>, badges: &str, format: &str| {
        let (ct, body) =
            multipart(&[("_csrf", &csrf), ("rule_id", &rule_id), ("date", &date), ("badges", badges), ("format", format)], file);
        let r = app.client.post("/hr/eligibility").header(ct).body(body).dispatch();
        (r.status(), r.into_string().unwrap_or_default())
    };
    let row = |html: &str, badge: &str| -> String {
        html.split(&format!("<td>{badge}</td>"))
            .nth(1)
            .unwrap_or_else(|| panic!("no row for {badge}"))
            .split("</tr>")
            .next()
            .unwrap()
            .to_string()
    };

    // .xlsx from the personnel system: 警号 in the second column, numbers as Excel stores them
    let book = xlsx(&[&["姓名", "警号"], &["王伟", "100001"], &["", ""], &["查无此人", "999999"]]);
    let (s, html) = post(Some(("候选人.xlsx", &book)), "100022", "page");
    assert_eq!(s, Status::Ok);
    assert!(row(&html, "100001").contains("现有有效资格为基本级，需中级及以上"), "{html}");
    assert!(row(&html, "999999").contains("警号不存在"));
    assert!(row(&html, "100022").contains("无有效执法资格证书"), "the typed badges are checked too");
    assert!(
        html.contains("100001\n100022\n999999") || html.contains("100022\n100001\n999999"),
        "the checked list stays in the form for the CSV export"
    );

    // .csv, exported as CSV
    let (s, csv) = post(Some(("list.csv", "警号,姓名\n100001,王伟\n100022,x\n".as_bytes())), "", "csv");
    assert_eq!(s, Status::Ok);
    assert!(csv.contains("是否符合") && csv.contains("100001") && csv.contains("100022") && csv.contains("不符合"), "{csv}");

    // a bad file is refused naming the row, in the reader's language (Chinese by default), and
    // nothing is checked
    let bad = "警号\n100001\n10 02\n\n,姓名\n".as_bytes();
    let (s, html) = post(Some(("list.csv", bad)), "", "page");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("第 3 行 A 列（警号）：&quot;10 02&quot; 不是警号（应为 1–32 位字母或数字）"), "{html}");
    assert!(html.contains("第 5 行 A 列（警号）：为空"), "{html}");
    assert!(!html.contains("is not a 警号") && !html.contains(": empty"), "no English left: {html}");
    assert!(!html.contains("<td>100001</td>"), "no results for a bad file");
    let (_, html) = post(Some(("list.xlsx", b"PK\x03\x04 not really a workbook")), "", "page");
    // the workbook reader's own reason stays as it says it, inside the sentence
    assert!(html.contains("无法读取文件（not an .xlsx file"), "{html}");
    let gbk: &[u8] = &[0xbe, 0xaf, 0xba, 0xc5, b'\n', b'1', b'\n'];
    let (_, html) = post(Some(("gbk.csv", gbk)), "", "page");
    assert!(html.contains("文件第 1 行不是 UTF-8 文本"), "{html}");
    // a bad question too: the date and the rule
    let (ct, body) =
        multipart(&[("_csrf", &csrf), ("rule_id", "99999"), ("date", "2026-13-01"), ("badges", "100001"), ("format", "page")], None);
    let html = app.client.post("/hr/eligibility").header(ct).body(body).dispatch().into_string().unwrap();
    assert!(html.contains("晋升日期 &quot;2026-13-01&quot; 不是日期") && html.contains("没有编号为 99999 的晋升规则"), "{html}");
    // in English for an English reader
    app.client.get("/lang/en").dispatch();
    let (_, html) = post(Some(("list.csv", bad)), "", "page");
    assert!(html.contains("row 3, column A (badge number): &quot;10 02&quot; is not a badge number"), "{html}");
    assert!(html.contains("row 5, column A (badge number): empty") && !html.contains("为空"), "{html}");
    app.client.get("/lang/zh").dispatch();
    // the typed list alone still works as before (an empty file field is no file)
    let (s, html) = post(Some(("", b"")), "100001", "page");
    assert_eq!(s, Status::Ok);
    assert!(row(&html, "100001").contains("需中级及以上"), "{html}");
}
