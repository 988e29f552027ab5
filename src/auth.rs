//! Passwords, sessions and tokens, and the request guards that say who is asking and whether
//! their role allows it.

use rocket::http::{Cookie, CookieJar, Method, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use std::sync::Arc;

use crate::db::models::{org, org::User, session};
use crate::domain::accounts::SessionKind;
use crate::domain::ids::UserId;
use crate::domain::org::Role;
use crate::domain::throttle::{badge_key, source_key, Blocked};
use crate::error::{AppError, AppResult};
use crate::services::accounts;
pub use crate::services::accounts::locked_out;
pub use crate::services::credentials::{
    argon2_permit, hash_password, hash_password_async, random_token, same_secret, token_hash, verify_blocking, verify_nobody,
    verify_password, verify_password_async,
};
use crate::state::AppState;
use serde_json::json;

pub const SESSION_COOKIE: &str = "lawcert_session";
pub const ANON_CSRF_COOKIE: &str = "lawcert_csrf";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The sign-in check shared by the login page, the token endpoint and the password change:
/// refuses a (badge, address) pair or an address that must wait (`domain::throttle`, counts in
/// the database) before spending an argon2 check on it, and counts wrong passwords. `user_id`
/// is the account the badge names, if any (for the audit log).
///
/// The throttle is read after taking the argon2 permit, so a burst of parallel guesses cannot
/// all pass the check before the first failures are counted: at most one per permit does.
pub async fn check_sign_in(
    state: &AppState,
    badge: &str,
    ip: Option<std::net::IpAddr>,
    password: String,
    hash: Option<String>,
    user_id: Option<UserId>,
) -> Result<Result<bool, Blocked>, AppError> {
    let key = badge_key(badge);
    if key.is_empty() {
        return Ok(Ok(false)); // no account has an empty badge: nothing to guess, nothing to count
    }
    let source = source_key(ip);
    let _permit = argon2_permit().await;
    let now = state.clock.now();
    let (k, s) = (key.clone(), source.clone());
    let counted = match crate::state::with_db(state, move |c| accounts::sign_in_allowed(c, &k, &s, now)).await? {
        Err(blocked) => return Ok(Err(blocked)),
        Ok(counted) => counted,
    };
    if verify_blocking(password, hash).await {
        if counted {
            crate::state::with_db(state, move |c| accounts::sign_in_succeeded(c, &key, &source)).await?;
        }
        return Ok(Ok(true));
    }
    let blocked = crate::state::with_db(state, move |c| accounts::sign_in_failed(c, &key, &source, user_id, now)).await?;
    Ok(blocked.map_or(Ok(false), Err))
}

/// What an account whose password was reset may still reach.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(path, "/account/password" | "/api/v1/me/password" | "/logout") || path.starts_with("/static/") || path.starts_with("/lang/")
}

/// Whether this request was refused because the account must change its password first.
pub fn password_change_pending(req: &Request<'_>) -> bool {
    matches!(req.local_cache(|| Err::<Arc<CurrentUser>, AppError>(AppError::unauthorized(""))), Err(e) if e.code == crate::error::ErrorCode::PasswordChangeRequired)
}

/// Request guard: whether the signed-in account must change its password before anything else
/// (for pages, such as the home page, that anyone may open).
pub struct PasswordChangePending(pub bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PasswordChangePending {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let _ = req.guard::<MaybeUser<'r>>().await;
        Outcome::Success(PasswordChangePending(password_change_pending(req)))
    }
}

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// The signed-in user of this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    pub roles: Vec<Role>,
    pub csrf: String,
    pub via: Via,
    pub token_hash: String,
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

/// Why a request has no usable user.
#[derive(Clone, Debug)]
pub struct AuthFailure(pub AppError);

async fn load_user(req: &Request<'_>) -> Result<Arc<CurrentUser>, AppError> {
    let state = req.rocket().state::<AppState>().expect("state");
    let bearer = req.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
    let (token, via) = match bearer {
        Some(t) => (t.to_string(), Via::Bearer),
        None => match req.cookies().get_private(SESSION_COOKIE) {
            Some(c) => (c.value().to_string(), Via::Cookie),
            None => return Err(AppError::unauthorized("please sign in")),
        },
    };
    let hash = token_hash(&token);
    let now = state.clock.now();
    let cu = match state.sessions.get(&hash, via, now) {
        Some(cu) => cu,
        None => {
            let pool = state.pool.clone();
            let h = hash.clone();
            let found = rocket::tokio::task::spawn_blocking(
                move || -> Result<Option<(User, Vec<Role>, String, chrono::NaiveDateTime)>, AppError> {
                    let mut conn = pool.get()?;
                    let Some(s) = session::find_live(&mut conn, &h, now)? else { return Ok(None) };
                    if (via == Via::Bearer) != (s.kind == SessionKind::Api) {
                        return Ok(None); // a cookie session is not an API token and vice versa
                    }
                    let Some(user) = org::find(&mut conn, s.user_id)? else { return Ok(None) };
                    if !user.active {
                        return Ok(None);
                    }
                    // an API token's "last used", to within session::TOUCH_EVERY (read on a cache miss only)
                    // (best effort: a busy database does not fail the request over it)
                    if s.kind == SessionKind::Api && s.last_used_at.is_none_or(|t| now - t >= session::TOUCH_EVERY) {
                        if let Err(e) = crate::db::write_tx(&mut conn, |c| session::touch(c, s.id, now)) {
                            eprintln!("token last-used time not recorded: {e}");
                        }
                    }
                    let roles = org::roles_of(&mut conn, user.id)?;
                    Ok(Some((user, roles, s.csrf_token, s.expires_at)))
                },
            )
            .await
            .map_err(|e| AppError::internal(e.to_string()))??;
            let Some((user, roles, csrf, expires_at)) = found else {
                return Err(AppError::unauthorized("your session has ended; please sign in again"));
            };
            let cu = Arc::new(CurrentUser { user, roles, csrf, via, token_hash: hash.clone() });
            // a pending password change is read from the database on every request, so that
            // changing it takes effect on every app server at once
            if !cu.user.must_change_password {
                state.sessions.put(hash, cu.clone(), expires_at, now);
            }
            cu
        }
    };
    if cu.user.must_change_password && !allowed_before_password_change(req.uri().path().as_str()) {
        return Err(AppError::new(
            crate::error::ErrorCode::PasswordChangeRequired,
            "your password was reset: choose a new one first (PUT /api/v1/me/password, or the page /account/password)",
        ));
    }
    // API calls made by our own pages with the session cookie must carry the CSRF header.
    let writes = !matches!(req.method(), Method::Get | Method::Head | Method::Options);
    if writes && via == Via::Cookie && req.uri().path().starts_with("/api") {
        let header = req.headers().get_one(CSRF_HEADER).unwrap_or("");
        if !same_secret(header, &cu.csrf) {
            return Err(AppError::forbidden("missing or wrong CSRF token").localized("request_refusal.form_expired", serde_json::json!({})));
        }
    }
    Ok(cu)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentUser {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let result = req.local_cache_async(async { load_user(req).await }).await;
        match result {
            Ok(u) => Outcome::Success(&**u),
            Err(e) => Outcome::Error((e.status(), e.clone())),
        }
    }
}

/// Optional user, for pages anyone may see.
pub struct MaybeUser<'r>(pub Option<&'r CurrentUser>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser<'r> {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let result = req.local_cache_async(async { load_user(req).await }).await;
        Outcome::Success(MaybeUser(result.as_ref().ok().map(|u| &**u)))
    }
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, [$($role:expr),+]) => {
        $(#[$doc])*
        pub struct $name<'r>(pub &'r CurrentUser);

        impl<'r> std::ops::Deref for $name<'r> {
            type Target = CurrentUser;
            fn deref(&self) -> &CurrentUser { self.0 }
        }

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name<'r> {
            type Error = AppError;
            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
                match <&CurrentUser as FromRequest>::from_request(req).await {
                    Outcome::Success(u) if [$($role),+].iter().any(|r| u.has(*r)) => Outcome::Success($name(u)),
                    Outcome::Success(_) => {
                        let e = AppError::role_refused();
                        req.local_cache(|| Some(e.clone()));
                        Outcome::Error((Status::Forbidden, e))
                    }
                    Outcome::Error(e) => Outcome::Error(e),
                    Outcome::Forward(s) => Outcome::Forward(s),
                }
            }
        }
    };
}

role_guard!(/// Sits exams.
    Officer, [Role::Officer]);
role_guard!(/// Authors questions, builds papers, schedules exams.
    Trainer, [Role::Trainer]);
role_guard!(/// Manages accounts and settings.
    Admin, [Role::Admin]);
role_guard!(/// Keeps officers' records (posts, certification): HR and admins.
    Personnel, [Role::Hr, Role::Admin]);
role_guard!(/// Reads standard-setting studies: trainers (the panel) and admins (who adopt a cut).
    StandardsReader, [Role::Trainer, Role::Admin]);
role_guard!(/// Deals with escalated remedial plans: unit leaders and HR.
    EscalationHandler, [Role::Leader, Role::Hr]);
role_guard!(/// Reads other officers' training files: unit leaders (their units), HR and admins.
    FileReader, [Role::Leader, Role::Hr, Role::Admin]);
role_guard!(/// Reads results: trainers, unit leaders, HR, admins.
    ResultsReader, [Role::Trainer, Role::Leader, Role::Hr, Role::Admin]);

/// Sets the session cookie.
pub fn set_session_cookie(jar: &CookieJar<'_>, token: String, secure: bool, hours: i64) {
    let mut c = Cookie::new(SESSION_COOKIE, token);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(secure);
    c.set_path("/");
    c.set_max_age(rocket::time::Duration::hours(hours));
    jar.add_private(c);
}

/// The CSRF token for a form shown to this visitor: the session's, or (before sign-in) one
/// kept in a private cookie.
pub fn form_csrf(jar: &CookieJar<'_>, user: Option<&CurrentUser>, secure: bool) -> String {
    if let Some(u) = user {
        return u.csrf.clone();
    }
    if let Some(c) = jar.get_private(ANON_CSRF_COOKIE) {
        return c.value().to_string();
    }
    let t = random_token();
    let mut c = Cookie::new(ANON_CSRF_COOKIE, t.clone());
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(secure);
    c.set_path("/");
    jar.add_private(c);
    t
}

/// Recently checked sessions, so the hot path (an answer save every few seconds per candidate)
/// does not read three tables per request. An entry lives at most `SESSION_CACHE_TTL` and never
/// past its session's expiry; signing out, revoking a token, a password change or reset, and
/// disabling an account remove it on this server at once. On other app servers a revoked
/// session or token, or a disabled account's, stays usable for at most the TTL (30 seconds).
/// Each entry lives a random share of the TTL (at least half): candidates who started in the
/// same minute would otherwise all miss in the same second, every TTL, and queue their saves
/// behind a burst of session reads.
#[derive(Default)]
pub struct SessionCache {
    // shared, not cloned, per request: a user's strings and roles are copied once per cache fill
    map: std::sync::RwLock<std::collections::HashMap<String, (Arc<CurrentUser>, chrono::NaiveDateTime)>>,
}

pub const SESSION_CACHE_TTL: chrono::Duration = chrono::Duration::seconds(30);

impl SessionCache {
    pub fn get(&self, hash: &str, via: Via, now: chrono::NaiveDateTime) -> Option<Arc<CurrentUser>> {
        let map = self.map.read().expect("session cache");
        match map.get(hash) {
            Some((cu, until)) if *until > now && cu.via == via => Some(cu.clone()),
            _ => None,
        }
    }

    pub fn put(&self, hash: String, cu: Arc<CurrentUser>, expires_at: chrono::NaiveDateTime, now: chrono::NaiveDateTime) {
        let until = expires_at.min(now + cache_lifetime(rand::random_range(0.0..1.0)));
        let mut map = self.map.write().expect("session cache");
        if map.len() > 200_000 {
            map.retain(|_, (_, u)| *u > now);
        }
        map.insert(hash, (cu, until));
    }

    pub fn remove(&self, hash: &str) {
        self.map.write().expect("session cache").remove(hash);
    }

    /// Forgets every cached session of a user (roles or account changed).
    pub fn forget_user(&self, user_id: UserId) {
        self.map.write().expect("session cache").retain(|_, (cu, _)| cu.user.id != user_id);
    }
}

/// How long a cache entry lives for a uniform `draw` in [0, 1): between half the TTL and the TTL.
fn cache_lifetime(draw: f64) -> chrono::Duration {
    let ttl = SESSION_CACHE_TTL.num_milliseconds() as f64;
    chrono::Duration::milliseconds((ttl * (0.5 + 0.5 * draw.clamp(0.0, 1.0))) as i64)
}

/// A user changes their own password: the current one is checked (and throttled like a
/// sign-in), the new one must pass `domain::accounts::check_new_password` and differ from the
/// current one. Every other session and token of the user ends; this one stays.
pub async fn change_own_password(
    state: &AppState,
    me: &CurrentUser,
    ip: Option<std::net::IpAddr>,
    current: String,
    new: String,
    via: &'static str,
) -> AppResult<Result<(), accounts::ChangeRefused>> {
    let id = me.id();
    // the hash as stored now (the signed-in user may be cached)
    let u = crate::state::with_db(state, move |c| org::find(c, id)?.ok_or_else(|| AppError::unauthorized("your account is gone"))).await?;
    match check_sign_in(state, &u.badge, ip, current, Some(u.password_hash.clone()), Some(id)).await? {
        Err(b) => return Ok(Err(accounts::ChangeRefused::Blocked(b))),
        Ok(false) => return Ok(Err(accounts::ChangeRefused::WrongCurrent)),
        Ok(true) => {}
    }
    let mut problems = crate::domain::accounts::check_new_password(&new, &u.badge, crate::services::demo::DEMO_PASSWORD);
    if problems.is_empty() && verify_password_async(new.clone(), Some(u.password_hash.clone())).await {
        problems.push(crate::domain::accounts::PasswordProblem::Unchanged);
    }
    if !problems.is_empty() {
        return Ok(Err(accounts::ChangeRefused::Weak(problems)));
    }
    let hash = hash_password_async(new).await;
    let (keep, now) = (me.token_hash.clone(), state.clock.now());
    crate::state::with_db(state, move |c| {
        crate::db::write_tx(c, |c| {
            org::set_password(c, id, &hash, false, now)?;
            let ended = session::revoke_all_of(c, id, Some(&keep), now)?;
            crate::db::models::audit::append(
                c,
                Some(id),
                "user.password_change",
                &format!("user:{id}"),
                &json!({"via": via, "sessions_ended": ended, "was_one_time": u.must_change_password}),
                now,
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    state.sessions.forget_user(id);
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_session_lives_between_half_the_ttl_and_the_ttl_never_longer() {
        assert_eq!(cache_lifetime(0.0), SESSION_CACHE_TTL / 2);
        assert_eq!(cache_lifetime(0.5), SESSION_CACHE_TTL * 3 / 4);
        assert!(cache_lifetime(0.999_999) <= SESSION_CACHE_TTL);
        assert_eq!(cache_lifetime(7.0), SESSION_CACHE_TTL, "a draw out of range is clamped");
    }
}
