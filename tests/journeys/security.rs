//! Cookies, headers, expiry, and hostile text: a name with markup is shown as text on pages,
//! in exports and in e-mails.

use chrono::Duration;
use rocket::http::{ContentType, Status};

use crate::common::{enc, get, post, TestApp, PASSWORD};

fn login_cookie(app: &TestApp, badge: &str) -> String {
    let page = app.client.get("/login").dispatch().into_string().unwrap();
    let csrf = crate::common::form_csrf(&page);
    let r = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&badge={badge}&password={PASSWORD}&next=/"))
        .dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let cookie = r.headers().get("Set-Cookie").find(|c| c.starts_with("lawcert_session=")).expect("a session cookie").to_string();
    cookie
}

#[test]
fn cookies_headers_and_expiry() {
    let app = TestApp::new();
    let cookie = login_cookie(&app, "100001");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP in tests: {cookie}");
    let r = app.client.get("/exams").dispatch();
    let h = |n: &str| r.headers().get_one(n).map(str::to_string);
    assert_eq!(h("X-Content-Type-Options").as_deref(), Some("nosniff"));
    assert_eq!(h("X-Frame-Options").as_deref(), Some("DENY"));
    let csp = h("Content-Security-Policy").unwrap();
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_else(|| panic!("no script-src: {csp}"));
    assert!(!script_src.contains("unsafe-inline") && !script_src.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // over TLS the cookie is Secure
    let tls = TestApp::with_env(&[("LAWCERT_SECURE_COOKIES", "1")]);
    assert!(login_cookie(&tls, "100001").contains("Secure"));
    // sessions and API tokens expire (12 hours by default)
    let token = app.token("100001");
    let (s, _) = app.api("GET", "/api/v1/me/sittings", &token, None);
    assert_eq!(s, Status::Ok);
    app.clock.advance(Duration::hours(13));
    let (s, body) = app.api("GET", "/api/v1/me/sittings", &token, None);
    assert_eq!(s, Status::Unauthorized, "{body}");
    assert!(body["error"]["message"].is_string());
    let r = app.client.get("/exams").dispatch();
    assert_eq!(r.status(), Status::SeeOther, "the page session has expired too");
    assert!(r.headers().get_one("Location").unwrap().starts_with("/login"));
}

#[test]
fn a_name_with_markup_is_text_on_pages_exports_and_mail() {
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let hostile = "<script>alert(1)</script>=HYPERLINK(\"x\")";
    let (s, html, _) = post(
        &app,
        "/admin/users/new",
        format!(
            "_csrf={csrf}&badge=300001&name={}&unit={}&police_type={}&post={}&rank={}&hire_date=2026-01-05&email=x%40example.invalid&enforcement_post=true&roles=officer&password=",
            enc(hostile),
            enc("城东派出所"),
            enc("派出所"),
            enc("社区民警"),
            enc("四级警长")
        ),
    );
    assert_eq!(s, Status::Ok, "{html}");
    let u = lawcert::db::models::org::find_by_badge(&mut app.conn(), "300001").unwrap().expect("created");
    assert_eq!(u.name, hostile, "stored as given");
    // pages: escaped
    for page in ["/admin/users", &format!("/files/{}", u.id)] {
        let (s, html) = get(&app, page);
        assert_eq!(s, Status::Ok, "{page}");
        assert!(!html.contains("<script>alert(1)"), "{page} shows raw markup");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page} should show the name as text");
    }
    // a reward in the file, then the exports: the CSV cell cannot become a formula
    lawcert::services::training::record_reward(&mut app.conn(), u.id, "=1+1 <b>表扬</b>", u.id, app.clock.now()).unwrap();
    let r = app.client.get(format!("/files/export?format=csv&user={}", u.id)).dispatch();
    assert_eq!(r.status(), Status::Ok);
    let csv = r.into_string().unwrap();
    assert!(csv.contains("'=1+1 <b>表扬</b>"), "a leading = is defused: {csv}");
    assert!(!csv.lines().any(|l| l.split(',').any(|c| c.starts_with('='))), "{csv}");
    let r = app.client.get(format!("/files/{}/pdf", u.id)).dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert!(r.into_bytes().unwrap().starts_with(b"%PDF-"));
    // mail: the HTML part escapes the name, the text part keeps it as written
    lawcert::services::mail::notify(
        &mut app.conn(),
        u.id,
        "exam_reminder",
        serde_json::json!({"title": "<i>模拟</i>", "opens": "2026-12-01 09:00", "minutes": 30}),
        app.clock.now(),
    )
    .unwrap();
    let m = lawcert::db::models::mail::recent(&mut app.conn(), 5).unwrap().into_iter().find(|m| m.user_id == Some(u.id)).unwrap();
    assert!(
        m.html_body.contains("&lt;script&gt;") && !m.html_body.contains("<script>") && !m.html_body.contains("<i>模拟"),
        "{}",
        m.html_body
    );
    assert!(m.text_body.contains(hostile));
}
