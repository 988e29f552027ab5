//! Signing in and out, the language switch, and the home page.

use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, State};
use serde_json::json;

use super::pages::{CsrfForm, Empty, PageCtx, LANG_COOKIE};
use super::with_db;
use crate::auth::{random_token, set_session_cookie, token_hash, CurrentUser, SESSION_COOKIE};
use crate::error::AppResult;
use crate::services::accounts;
use crate::services::exams::{self, Candidate};
use crate::state::AppState;

// Rocket's Responder for a two-way choice.
pub use rocket::Either;

#[get("/")]
pub async fn home(ctx: PageCtx<'_>, pending: crate::auth::PasswordChangePending) -> AppResult<Either<RawHtml<String>, Redirect>> {
    if pending.0 {
        return Ok(Either::Right(Redirect::to("/account/password")));
    }
    let Some(user) = ctx.user else { return Ok(Either::Right(Redirect::to("/login"))) };
    let mut sittings = json!([]);
    if user.has(crate::domain::org::Role::Officer) {
        let u = user.user.clone();
        let now = ctx.state.clock.now();
        let list = with_db(ctx.state, move |c| {
            exams::sittings_for(c, &Candidate { id: u.id, badge: &u.badge, unit_id: u.unit_id, police_type: &u.police_type }, now)
        })
        .await?;
        sittings = json!(list.iter().map(super::exams::sitting_json).collect::<Vec<_>>());
    }
    let uid = user.user.id;
    let notes = with_db(ctx.state, move |c| accounts::notifications_of(c, uid, 10)).await?;
    let notes: Vec<serde_json::Value> =
        notes.iter().map(|n| json!({"subject": n.subject, "body": n.body, "at": super::local(n.created_at)})).collect();
    ctx.render("home", json!({ "sittings": sittings, "notifications": notes })).map(Either::Left)
}

#[get("/login?<next>")]
pub fn login_page(ctx: PageCtx<'_>, next: Option<&str>) -> AppResult<RawHtml<String>> {
    ctx.render("login", json!({ "next": safe_next(next), "badge": "" }))
}

#[derive(FromForm)]
pub struct LoginForm {
    badge: String,
    password: String,
    next: Option<String>,
}

/// Only same-site paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // a local path that is a valid URI (no spaces or control characters): anything else
        // would be an open redirect or a redirect Rocket cannot send
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_whitespace() || c.is_control())
                && rocket::http::uri::Origin::parse(n).is_ok() =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[post("/login", data = "<form>")]
pub async fn login(
    ctx: PageCtx<'_>,
    state: &State<AppState>,
    jar: &CookieJar<'_>,
    form: CsrfForm<LoginForm>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let f = form.0;
    let badge = f.badge.trim().to_string();
    let password = f.password;
    let hours = state.config.session_hours;
    let found = with_db(state, move |c| accounts::account_by_badge(c, &badge)).await?;
    // unknown or disabled accounts cost the same time as a wrong password
    let hash = found.as_ref().filter(|u| u.active).map(|u| u.password_hash.clone());
    let ok = match crate::auth::check_sign_in(state, &f.badge, ip, password, hash, found.as_ref().map(|u| u.id)).await? {
        Ok(ok) => ok,
        Err(blocked) => {
            let error = match blocked.scope {
                crate::domain::throttle::Scope::Pair => "login.locked",
                crate::domain::throttle::Scope::Source => "login.source_locked",
            };
            let data = json!({ "next": safe_next(f.next.as_deref()), "badge": f.badge.trim(), "error": error, "until": super::local(blocked.until) });
            return ctx.render("login", data).map(Either::Left);
        }
    };
    let Some(user) = found.filter(|_| ok) else {
        let data = json!({ "next": safe_next(f.next.as_deref()), "badge": f.badge.trim(), "error": "login.failed" });
        return ctx.render("login", data).map(Either::Left);
    };
    let token = random_token();
    let hash = token_hash(&token);
    let csrf = random_token();
    let uid = user.id;
    let now = state.clock.now();
    with_db(state, move |c| accounts::open_web_session(c, &hash, uid, &csrf, now, now + chrono::Duration::hours(hours))).await?;
    set_session_cookie(jar, token, state.config.secure_cookies, hours);
    jar.remove_private(crate::auth::ANON_CSRF_COOKIE);
    // a reset password is changed before anything else
    let next = if user.must_change_password { "/account/password".to_string() } else { safe_next(f.next.as_deref()) };
    Ok(Either::Right(Redirect::to(next)))
}

#[post("/logout", data = "<_form>")]
pub async fn logout(user: &CurrentUser, state: &State<AppState>, jar: &CookieJar<'_>, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let hash = user.token_hash.clone();
    let now = state.clock.now();
    state.sessions.remove(&hash);
    with_db(state, move |c| accounts::sign_out(c, &hash, now)).await?;
    jar.remove_private(SESSION_COOKIE);
    Ok(Redirect::to("/login"))
}

/// Switches the language of the pages in this browser and goes back where the reader was.
/// Only the browser's cookie changes: a GET can be triggered by any site's link, so the language
/// kept with the account (the one mails are written in) is changed only by the account page's
/// form (`account::set_language`, POST with the CSRF token).
#[get("/lang/<code>?<next>")]
pub fn set_lang(code: &str, next: Option<&str>, jar: &CookieJar<'_>) -> Redirect {
    if crate::render::LANGS.contains(&code) {
        set_lang_cookie(jar, code);
    }
    Redirect::to(safe_next(next))
}

/// Remembers the reader's language in this browser for a year.
pub fn set_lang_cookie(jar: &CookieJar<'_>, code: &str) {
    let mut c = Cookie::new(LANG_COOKIE, code.to_string());
    c.set_path("/");
    c.set_same_site(SameSite::Lax);
    c.set_max_age(rocket::time::Duration::days(365));
    jar.add(c);
}
