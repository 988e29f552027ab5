//! Admins run accounts: an account's page (reset the password, disable or re-enable, let its
//! badge in again), the sign-in waits running now, and the same under
//! `/api/v1/admin/users/{id}`.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::api::ErrorBody;
use super::pages::{CsrfForm, Empty, PageCtx};
use super::with_db;
use crate::auth::Admin;
use crate::domain::accounts::AdminRefusal;
use crate::domain::ids::UserId;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, AccountDetail, Row, ANY_BADGE};
use crate::state::AppState;

/// What the account page shows besides the account: a one-time password just made, a notice,
/// or why an action was refused.
#[derive(Default)]
struct Outcome {
    one_time_password: Option<String>,
    notice: Option<&'static str>,
    refused: Option<AdminRefusal>,
}

fn count_json(r: &Row, now: chrono::NaiveDateTime) -> Value {
    json!({
        "source": r.source, "failures": r.failures, "last": super::local(r.last_failure_at),
        "until": r.locked_until.filter(|u| *u > now).map(super::local),
    })
}

async fn account_page(ctx: &PageCtx<'_>, id: UserId, out: Outcome) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let d = with_db(ctx.state, move |c| accounts::account_detail(c, id, now)).await?;
    let u = &d.user;
    ctx.render(
        "admin/account",
        json!({
            "id": u.id, "badge": u.badge, "name": u.name, "active": u.active, "must_change": u.must_change_password,
            "password_changed": u.password_changed_at.map(super::local),
            "roles": d.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "tokens": d.live_tokens, "sessions": d.live_sessions,
            "counts": d.counts.iter().map(|r| count_json(r, now)).collect::<Vec<_>>(),
            "history": d.history.iter().map(|e| json!({"at": super::local(chrono::DateTime::parse_from_rfc3339(&e.at).map(|t| t.naive_utc()).unwrap_or_default()), "action": action_name(ctx, &e.action), "actor": e.actor_id, "detail": e.detail})).collect::<Vec<_>>(),
            "one_time_password": out.one_time_password,
            "notice": out.notice,
            "refused": out.refused.map(|r| r.key()),
            "cache_seconds": crate::auth::SESSION_CACHE_TTL.num_seconds(),
        }),
    )
}

/// An audit action in the reader's language (the code itself for actions without a name).
fn action_name(ctx: &PageCtx<'_>, action: &str) -> String {
    let key = format!("account_action.{action}");
    let text = ctx.state.renderer.text(ctx.lang, &key, &json!({}));
    if text == key {
        action.to_string()
    } else {
        text
    }
}

#[get("/admin/users/<id>")]
pub async fn account(ctx: PageCtx<'_>, _a: Admin<'_>, id: UserId) -> AppResult<RawHtml<String>> {
    account_page(&ctx, id, Outcome::default()).await
}

#[post("/admin/users/<id>/reset-password", data = "<_f>")]
pub async fn reset_password(ctx: PageCtx<'_>, a: Admin<'_>, id: UserId, _f: CsrfForm<Empty>) -> AppResult<RawHtml<String>> {
    let out = match reset(ctx.state, a.id(), id).await? {
        Ok(p) => Outcome { one_time_password: Some(p), ..Default::default() },
        Err(r) => Outcome { refused: Some(r), ..Default::default() },
    };
    account_page(&ctx, id, out).await
}

#[post("/admin/users/<id>/disable", data = "<_f>")]
pub async fn disable(ctx: PageCtx<'_>, a: Admin<'_>, id: UserId, _f: CsrfForm<Empty>) -> AppResult<RawHtml<String>> {
    let out = match set_active(ctx.state, a.id(), id, false).await? {
        Ok(_) => Outcome { notice: Some("account.disabled_now"), ..Default::default() },
        Err(r) => Outcome { refused: Some(r), ..Default::default() },
    };
    account_page(&ctx, id, out).await
}

#[post("/admin/users/<id>/enable", data = "<_f>")]
pub async fn enable(ctx: PageCtx<'_>, a: Admin<'_>, id: UserId, _f: CsrfForm<Empty>) -> AppResult<RawHtml<String>> {
    let out = match set_active(ctx.state, a.id(), id, true).await? {
        Ok(_) => Outcome { notice: Some("account.enabled_now"), ..Default::default() },
        Err(r) => Outcome { refused: Some(r), ..Default::default() },
    };
    account_page(&ctx, id, out).await
}

#[post("/admin/users/<id>/unlock", data = "<_f>")]
pub async fn unlock(ctx: PageCtx<'_>, a: Admin<'_>, id: UserId, _f: CsrfForm<Empty>) -> AppResult<RawHtml<String>> {
    let (by, now) = (a.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| accounts::unlock_user(c, id, by, now)).await?;
    account_page(&ctx, id, Outcome { notice: Some("account.unlocked_now"), ..Default::default() }).await
}

async fn reset(state: &AppState, by: UserId, id: UserId) -> AppResult<Result<String, AdminRefusal>> {
    let now = state.clock.now();
    let r = with_db(state, move |c| accounts::reset_password(c, id, by, now)).await?;
    state.sessions.forget_user(id);
    Ok(r)
}

async fn set_active(state: &AppState, by: UserId, id: UserId, active: bool) -> AppResult<Result<usize, AdminRefusal>> {
    let now = state.clock.now();
    let r = with_db(state, move |c| accounts::set_active(c, id, active, by, now)).await?;
    state.sessions.forget_user(id);
    Ok(r)
}

// ---- the waits running now ----

async fn locks_page(ctx: &PageCtx<'_>, notice: Option<&'static str>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let rows = with_db(ctx.state, move |c| accounts::current_locks_with_accounts(c, now)).await?;
    ctx.render(
        "admin/locks",
        json!({
            "notice": notice,
            "locks": rows.iter().map(|(r, u)| {
                let mut v = count_json(r, now);
                v["badge"] = json!(r.badge);
                v["any_badge"] = json!(r.badge == ANY_BADGE);
                v["account"] = u.as_ref().map(|u| json!({"id": u.id, "badge": u.badge, "name": u.name})).unwrap_or(Value::Null);
                v
            }).collect::<Vec<_>>(),
        }),
    )
}

#[get("/admin/users/locks")]
pub async fn locks(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    locks_page(&ctx, None).await
}

#[derive(FromForm)]
pub struct UnlockForm {
    /// A badge (every address), or empty with `source` for an address's count across badges.
    badge: Option<String>,
    source: Option<String>,
}

#[post("/admin/users/locks/unlock", data = "<form>")]
pub async fn unlock_lock(ctx: PageCtx<'_>, a: Admin<'_>, form: CsrfForm<UnlockForm>) -> AppResult<RawHtml<String>> {
    let (by, now) = (a.id(), ctx.state.clock.now());
    let badge = form.0.badge.unwrap_or_default();
    let source = form.0.source.unwrap_or_default();
    with_db(ctx.state, move |c| {
        if badge.trim().is_empty() {
            accounts::unlock_source(c, &source, by, now).map(|_| ())
        } else {
            accounts::unlock_badge(c, &badge, by, now).map(|_| ())
        }
    })
    .await?;
    locks_page(&ctx, Some("account.unlocked_now")).await
}

// ---- API ----

/// A badge's sign-in count from one address.
#[derive(Serialize, ToSchema)]
pub struct SignInCount {
    /// The client address (an IPv6 address's /64).
    pub source: String,
    pub failures: i32,
    /// Set while sign-ins for this badge from this address wait.
    #[serde(serialize_with = "crate::timefmt::option::serialize")]
    pub locked_until: Option<chrono::NaiveDateTime>,
}

/// An account as an admin runs it.
#[derive(Serialize, ToSchema)]
pub struct AccountStatus {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub badge: String,
    pub name: String,
    /// False once disabled: no sign-in, no session, no token.
    pub active: bool,
    /// Set by a reset until the account chooses its own password.
    pub must_change_password: bool,
    #[serde(serialize_with = "crate::timefmt::option::serialize")]
    pub password_changed_at: Option<chrono::NaiveDateTime>,
    pub live_sessions: usize,
    pub live_tokens: usize,
    pub sign_in_counts: Vec<SignInCount>,
}

fn status(d: AccountDetail, now: chrono::NaiveDateTime) -> AccountStatus {
    AccountStatus {
        id: d.user.id,
        badge: d.user.badge,
        name: d.user.name,
        active: d.user.active,
        must_change_password: d.user.must_change_password,
        password_changed_at: d.user.password_changed_at,
        live_sessions: d.live_sessions,
        live_tokens: d.live_tokens,
        sign_in_counts: d
            .counts
            .into_iter()
            .map(|r| SignInCount { source: r.source, failures: r.failures, locked_until: r.locked_until.filter(|u| *u > now) })
            .collect(),
    }
}

async fn status_of(state: &AppState, id: UserId) -> AppResult<Json<AccountStatus>> {
    let now = state.clock.now();
    let d = with_db(state, move |c| accounts::account_detail(c, id, now)).await?;
    Ok(Json(status(d, now)))
}

fn refused(r: AdminRefusal) -> AppError {
    AppError::new(crate::error::ErrorCode::Refused, r.message())
}

/// An account's status and sign-in counts (admins).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountStatus), (status = 404, body = ErrorBody)))]
#[get("/api/v1/admin/users/<id>")]
pub async fn api_account(state: &State<AppState>, _a: Admin<'_>, id: UserId) -> AppResult<Json<AccountStatus>> {
    status_of(state, id).await
}

/// A one-time password, shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct PasswordReset {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub badge: String,
    /// To hand to the account's holder; it must be changed at the next sign-in.
    pub one_time_password: String,
}

/// Resets an account's password (admins): a one-time password that must be changed at the next
/// sign-in (until then every other call answers 403 `password_change_required`). The account's
/// sessions and tokens end and its sign-in counts are cleared. 409 on the caller's own account.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password-reset", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PasswordReset), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/v1/admin/users/<id>/password-reset")]
pub async fn api_reset(state: &State<AppState>, a: Admin<'_>, id: UserId) -> AppResult<Json<PasswordReset>> {
    let password = reset(state, a.id(), id).await?.map_err(refused)?;
    let badge = status_of(state, id).await?.into_inner().badge;
    Ok(Json(PasswordReset { id, badge, one_time_password: password }))
}

/// Disables an account (admins): sign-in is refused and its sessions and tokens stop at once
/// (on other app servers within the 30-second session cache). 409 on the caller's own account
/// or the last active admin.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountStatus), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/v1/admin/users/<id>/disable")]
pub async fn api_disable(state: &State<AppState>, a: Admin<'_>, id: UserId) -> AppResult<Json<AccountStatus>> {
    set_active(state, a.id(), id, false).await?.map_err(refused)?;
    status_of(state, id).await
}

/// Re-enables a disabled account (admins); it signs in again with its password.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountStatus), (status = 404, body = ErrorBody)))]
#[post("/api/v1/admin/users/<id>/enable")]
pub async fn api_enable(state: &State<AppState>, a: Admin<'_>, id: UserId) -> AppResult<Json<AccountStatus>> {
    set_active(state, a.id(), id, true).await?.map_err(refused)?;
    status_of(state, id).await
}

/// Lets an account's badge sign in again from every address (admins): its sign-in counts are
/// cleared. In the audit log.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unlock", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountStatus), (status = 404, body = ErrorBody)))]
#[post("/api/v1/admin/users/<id>/unlock")]
pub async fn api_unlock(state: &State<AppState>, a: Admin<'_>, id: UserId) -> AppResult<Json<AccountStatus>> {
    let (by, now) = (a.id(), state.clock.now());
    with_db(state, move |c| accounts::unlock_user(c, id, by, now)).await?;
    status_of(state, id).await
}
