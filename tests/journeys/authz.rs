//! Authorisation matrix: every route × every role (and anonymous), allowed or refused. A route
//! added without an entry here fails the test, so no route ships without a decision.

use rocket::http::{ContentType, Header, Method, Status};

use crate::common::{form_csrf, TestApp};

// routes are named `handler@first path segment` (handler names repeat across modules)
const PUBLIC: &[&str] = &[
    "home@",
    "login_page@login",
    "login@login",
    "logout@logout",
    "set_lang@lang",
    "file@static",
    "verify@verify",
    "openapi@api",
    "create_token@api",
    "verify_certificate@api",
    // load balancers' probes
    "health@health",
    "ready@ready",
];
/// Prometheus metrics: their own bearer token (LAWCERT_METRICS_TOKEN), never a session or role.
const METRICS_TOKEN_ONLY: &[&str] = &["metrics@metrics"];
const OFFICER: &[&str] = &[
    "list@exams",
    "show@exams",
    "start@exams",
    "attempt_page@attempts",
    "submit@attempts",
    "result@attempts",
    "mine@certification",
    "register@certification",
    "file@attempts",
    "my_sittings@api",
    "start_attempt@api",
    "get_attempt@api",
    "save_answer@api",
    "submit_attempt@api",
    "attempt_event@api",
    "register_for_certification@api",
    "register_for_certification_old_path@api",
    "practice_home@practice",
    "practice_start@practice",
    "practice_set@practice",
    "practice_answer@practice",
    "remedial_review@remedial",
    "remedial_practice@remedial",
];
/// Any signed-in account; what each may see inside is checked per record (404 otherwise).
const SIGNED_IN: &[&str] = &[
    "remedial_list@remedial",
    "remedial_plan@remedial",
    "my_file@file",
    "file_page@files",
    "file_pdf@files",
    "file_export@files",
    // a background job's page and file: its starter only (an officer import: any admin)
    "job_show@jobs",
    "job_file@jobs",
    "certificate_pdf@certificates",
    // one's own account: password and API tokens
    "password_form@account",
    "change_password@account",
    "set_language@account",
    "tokens_page@account",
    "revoke_token_page@account",
    "put_password@api",
    "list_tokens@api",
    "delete_token@api",
];
/// Unit leaders (their own unit), HR and admins.
const OVERSIGHT: &[&str] = &["compliance@hr", "files_list@files"];
/// Escalated remedial plans: unit leaders (their units) and HR.
const ESCALATIONS: &[&str] = &["escalations_page@remedial", "escalation_act@remedial"];
/// Trainers, unit leaders (their units' records), HR and admins.
const RESULTS: &[&str] = &[
    "list@sittings",
    "show@sittings",
    "results_csv@sittings",
    "results_pdf@sittings",
    "sitting_results@api",
    "api_remedial_plans@api",
    "api_remedial_plan@api",
];
/// Promotion rules are read by unit leaders, HR and admins.
const RULES_READ: &[&str] = &["api_promotion_rules@api", "api_promotion_rule@api"];
/// Exam plans (双月考计划) are read by trainers and admins (trainers write them).
const PLANS_READ: &[&str] = &["api_exam_plans@api", "api_exam_plan@api"];
/// Standard-setting studies are read by trainers (the panel) and admins (who adopt a cut);
/// trainers open, rate, and close them (the rest of /standards), admins adopt.
const STANDARDS_READ: &[&str] = &["standards_list@standards", "study@standards"];
const ADMIN: &[&str] = &[
    "users@admin",
    "new_user@admin",
    "create_user@admin",
    "import_page@admin",
    "import@admin",
    "job_page@admin",
    "rules_form@admin",
    "save_rules@admin",
    "settings_page@admin",
    "save_targets@admin",
    "save_exports@admin",
    "api_targets@api",
    "api_put_targets@api",
    "api_rules@api",
    "api_put_rules@api",
    "tokens@admin",
    "create_token@admin",
    "revoke_token@admin",
    "mail@admin",
    "retry_mail@admin",
    "exceptions@sittings",
    "grant_exception@sittings",
    // running accounts: reset, disable, enable, unlock, the sign-in waits
    "account@admin",
    "reset_password@admin",
    "disable@admin",
    "enable@admin",
    "unlock@admin",
    "locks@admin",
    "unlock_lock@admin",
    "api_account@api",
    "api_reset@api",
    "api_disable@api",
    "api_enable@api",
    "api_unlock@api",
    "audit_page@admin",
    "checkpoint@admin",
    // adopting a standard-setting study's cut for a level
    "adopt@standards",
];
const PERSONNEL: &[&str] = &[
    "change_post@admin",
    "officer@officers",
    "officers@officers",
    "rules@hr",
    "save_rule@hr",
    "eligibility@hr",
    "run_check@hr",
    "file_correct@files",
    "file_reward@files",
    "records@api",
    "api_eligibility@api",
    "api_create_promotion_rule@api",
    "api_update_promotion_rule@api",
];

fn key(name: &str, path: &str) -> String {
    format!("{name}@{}", path.split('/').nth(1).unwrap_or(""))
}

/// Whether an account with `roles` may use route `k` (the trainer's routes are the rest).
fn allowed(k: &str, roles: &[&str]) -> bool {
    let has = |r: &str| roles.contains(&r);
    let officer = OFFICER.contains(&k);
    let results = RESULTS.contains(&k);
    let admin = ADMIN.contains(&k);
    let personnel = PERSONNEL.contains(&k);
    let signed_in = SIGNED_IN.contains(&k);
    let oversight = OVERSIGHT.contains(&k);
    let rules_read = RULES_READ.contains(&k);
    let plans_read = PLANS_READ.contains(&k);
    let standards_read = STANDARDS_READ.contains(&k);
    let by_token = METRICS_TOKEN_ONLY.contains(&k);
    let escalations = ESCALATIONS.contains(&k);
    PUBLIC.contains(&k)
        || (escalations && (has("leader") || has("hr")))
        || (rules_read && (has("leader") || has("hr") || has("admin")))
        || (plans_read && (has("trainer") || has("admin")))
        || (standards_read && (has("trainer") || has("admin")))
        || (signed_in && !roles.is_empty())
        || (oversight && (has("leader") || has("hr") || has("admin")))
        || (officer && has("officer"))
        || (results && (has("trainer") || has("leader") || has("hr") || has("admin")))
        || (admin && has("admin"))
        || (personnel && (has("hr") || has("admin")))
        || (!officer
            && !results
            && !admin
            && !personnel
            && !signed_in
            && !oversight
            && !rules_read
            && !plans_read
            && !standards_read
            && !by_token
            && !escalations
            && has("trainer"))
}

#[test]
fn every_route_is_allowed_or_refused_for_every_role() {
    let app = TestApp::new();
    let routes: Vec<(Method, String, String)> =
        app.client.rocket().routes().map(|r| (r.method, r.uri.path().to_string(), r.name.as_deref().unwrap_or("").to_string())).collect();
    // every route has a decision: a role list names it, or it is a trainer's route (the rest)
    let mut decided = 0;
    for (_, path, name) in &routes {
        let k = key(name, path);
        let listed = [
            PUBLIC,
            OFFICER,
            RESULTS,
            ADMIN,
            PERSONNEL,
            SIGNED_IN,
            OVERSIGHT,
            RULES_READ,
            PLANS_READ,
            STANDARDS_READ,
            METRICS_TOKEN_ONLY,
            ESCALATIONS,
        ]
        .iter()
        .any(|l| l.contains(&k.as_str()));
        let trainer_route = [
            "/bank",
            "/blueprints",
            "/challenges",
            "/plans",
            "/certification/registrations",
            "/api/v1/blueprints",
            "/api/v1/sittings",
            "/api/v1/exam-plans",
            "/api/v1/items/calibration",
            "/api/v1/items/exposure",
            "/remedial/refer",
            "/remedial/case-evaluations",
            "/measurement",
            "/standards",
        ]
        .iter()
        .any(|p| path.starts_with(p))
            || (path.starts_with("/sittings/")
                && ["stats", "proctor", "integrity", "extra-time", "reopen", "makeup", "downtime", "dismiss", "let-in", "audit"]
                    .iter()
                    .any(|s| path.ends_with(s)))
            || path == "/sittings/new";
        assert!(listed || trainer_route, "route {name} {path} has no authorisation decision in this test");
        decided += 1;
    }
    assert!(decided > 60, "{decided}");

    // the demo accounts and their roles (trainers and the leader also sit exams)
    let who: [(&str, &str, &[&str]); 5] = [
        ("officer", "100001", &["officer"]),
        ("trainer", "T0001", &["trainer", "officer"]),
        ("leader", "L0001", &["leader", "officer"]),
        ("hr", "H0001", &["hr"]),
        ("admin", "admin", &["admin"]),
    ];
    let concrete = |path: &str| -> String {
        path.split('/')
            .map(|seg| {
                if seg.starts_with('<') {
                    if seg.contains("code") {
                        "en"
                    } else if seg.contains("path") {
                        "app.css"
                    } else {
                        "1"
                    }
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    for role in ["anonymous", "officer", "trainer", "leader", "hr", "admin"] {
        // a fresh client per role: its own cookie jar (metrics on, so their refusal shows)
        let app = TestApp::with_env(&[("LAWCERT_METRICS_TOKEN", "metrics-token-for-the-journeys")]);
        let roles: &[&str] = who.iter().find(|(r, ..)| *r == role).map(|(_, _, roles)| *roles).unwrap_or(&[]);
        let csrf = match who.iter().find(|(r, ..)| *r == role) {
            Some((_, badge, _)) => app.login_page(badge),
            None => form_csrf(&app.client.get("/login").dispatch().into_string().unwrap()),
        };
        let token = who.iter().find(|(r, ..)| *r == role).map(|(_, badge, _)| app.token(badge));
        for (method, path, name) in &routes {
            let k = key(name, path);
            if k == "logout@logout" || k == "login@login" {
                continue; // sign-in and sign-out change the session this loop relies on
            }
            let p = concrete(path);
            let mut req = app.client.req(*method, p.clone());
            if path.starts_with("/api/") {
                if let Some(t) = &token {
                    req = req.header(Header::new("Authorization", format!("Bearer {t}")));
                }
                req = req.header(ContentType::JSON).body("{}");
            } else if *method != Method::Get {
                req = req.header(ContentType::Form).body(format!("_csrf={csrf}"));
            }
            let r = req.dispatch();
            let s = r.status();
            let to_login = s == Status::SeeOther && r.headers().get_one("Location").is_some_and(|l| l.starts_with("/login"));
            let refused = s == Status::Forbidden || s == Status::Unauthorized || to_login;
            if allowed(&k, roles) {
                assert!(!refused || (k == "home@" && role == "anonymous"), "{role} {method} {p} ({k}) should be allowed, got {s}");
            } else {
                assert!(refused, "{role} {method} {p} ({k}) should be refused, got {s}");
            }
        }
    }
}
