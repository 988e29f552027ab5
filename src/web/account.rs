//! A user's own account: changing the password (page and `PUT /api/v1/me/password`) and the
//! API tokens they have taken (page, `GET /api/v1/me/tokens`, `DELETE /api/v1/me/tokens/{id}`).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{delete, get, post, put, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::api::ErrorBody;
use super::pages::{CsrfForm, Empty, PageCtx};
use super::with_db;
use crate::auth::CurrentUser;
use crate::domain::ids::SessionId;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, ChangeRefused, Session};
use crate::state::AppState;

async fn password_page(ctx: &PageCtx<'_>, me: &CurrentUser, errors: Vec<Value>, changed: bool) -> AppResult<RawHtml<String>> {
    // read now, not from the session cache: it may have just changed
    let id = me.id();
    let lang = with_db(ctx.state, move |c| accounts::stored_language(c, id)).await?.unwrap_or_default();
    let langs: Vec<Value> =
        crate::render::LANGS.iter().map(|l| json!({"code": l, "sel": *l == crate::render::known_lang(&lang)})).collect();
    ctx.render(
        "account/password",
        json!({
            "must_change": me.user.must_change_password && !changed,
            "changed": changed,
            "errors": errors,
            "min": crate::domain::accounts::MIN_PASSWORD_CHARS,
            "langs": langs,
        }),
    )
}

#[derive(FromForm)]
pub struct LanguageForm {
    lang: String,
}

/// The language the account reads: the site's pages in this browser, and every mail to them.
#[post("/account/language", data = "<form>")]
pub async fn set_language(
    ctx: PageCtx<'_>,
    me: &CurrentUser,
    form: CsrfForm<LanguageForm>,
    jar: &rocket::http::CookieJar<'_>,
) -> AppResult<Redirect> {
    let (id, lang) = (me.id(), form.0.lang);
    let chosen = lang.clone();
    with_db(ctx.state, move |c| accounts::set_language(c, id, &chosen)).await?;
    super::session::set_lang_cookie(jar, &lang);
    Ok(Redirect::to("/account/password"))
}

#[get("/account/password")]
pub async fn password_form(ctx: PageCtx<'_>, me: &CurrentUser) -> AppResult<RawHtml<String>> {
    password_page(&ctx, me, vec![], false).await
}

#[derive(FromForm)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_again: String,
}

#[post("/account/password", data = "<form>")]
pub async fn change_password(
    ctx: PageCtx<'_>,
    me: &CurrentUser,
    form: CsrfForm<PasswordForm>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<RawHtml<String>> {
    let f = form.0;
    let text = |key: &str, params: Value| json!(ctx.state.renderer.text(ctx.lang, key, &params));
    if f.new_password != f.new_password_again {
        return password_page(&ctx, me, vec![text("account.problem_mismatch", json!({}))], false).await;
    }
    match crate::auth::change_own_password(ctx.state, me, ip, f.current_password, f.new_password, "page").await? {
        Ok(()) => password_page(&ctx, me, vec![], true).await,
        Err(ChangeRefused::WrongCurrent) => password_page(&ctx, me, vec![text("account.wrong_current", json!({}))], false).await,
        Err(ChangeRefused::Blocked(b)) => {
            password_page(&ctx, me, vec![text("login.locked", json!({"until": super::local(b.until)}))], false).await
        }
        Err(ChangeRefused::Weak(problems)) => {
            let min = crate::domain::accounts::MIN_PASSWORD_CHARS;
            password_page(&ctx, me, problems.iter().map(|p| text(p.key(), json!({"min": min}))).collect(), false).await
        }
    }
}

fn token_row(s: &Session, current: &str) -> Value {
    json!({
        "id": s.id,
        "prefix": if s.token_prefix.is_empty() { "—".to_string() } else { format!("{}…", s.token_prefix) },
        "created": super::local(s.created_at),
        "expires": super::local(s.expires_at),
        "used": s.last_used_at.map(super::local),
        "current": s.token_hash == current,
    })
}

#[get("/account/tokens")]
pub async fn tokens_page(ctx: PageCtx<'_>, me: &CurrentUser) -> AppResult<RawHtml<String>> {
    let (uid, now) = (me.id(), ctx.state.clock.now());
    let list = with_db(ctx.state, move |c| accounts::my_tokens(c, uid, now)).await?;
    ctx.render("account/tokens", json!({ "tokens": list.iter().map(|s| token_row(s, &me.token_hash)).collect::<Vec<_>>() }))
}

#[post("/account/tokens/<id>/revoke", data = "<_f>")]
pub async fn revoke_token_page(state: &State<AppState>, me: &CurrentUser, id: SessionId, _f: CsrfForm<Empty>) -> AppResult<Redirect> {
    revoke(state, me, id).await?;
    Ok(Redirect::to("/account/tokens"))
}

async fn revoke(state: &AppState, me: &CurrentUser, id: SessionId) -> AppResult<()> {
    let (uid, now) = (me.id(), state.clock.now());
    let s = with_db(state, move |c| accounts::revoke_my_token(c, uid, id, now)).await?;
    state.sessions.remove(&s.token_hash);
    Ok(())
}

// ---- API ----

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters; not the demo password, not the badge, not the current password.
    pub new_password: String,
}

/// Changes the caller's password. The current password is checked and throttled like a
/// sign-in (429 while it must wait); a refused new password is 422 `weak_password`, a wrong
/// current one 422 `wrong_password`. Every other session and token of the caller ends. This is
/// the one call an account whose password was reset may make before changing it.
#[utoipa::path(put, path = "/api/v1/me/password", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204, description = "changed"), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[put("/api/v1/me/password", data = "<body>")]
pub async fn put_password(
    state: &State<AppState>,
    me: &CurrentUser,
    body: Result<Json<PasswordChange>, rocket::serde::json::Error<'_>>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Status> {
    let req = body.map(|j| j.into_inner()).map_err(|e| AppError::bad_request(format!("request body: {e}")))?;
    crate::auth::change_own_password(state, me, ip, req.current_password, req.new_password, "api")
        .await?
        .map_err(ChangeRefused::into_error)?;
    Ok(Status::NoContent)
}

/// One of the caller's API tokens, by its first characters (the token itself is never shown
/// again).
#[derive(Serialize, ToSchema)]
pub struct TokenInfo {
    #[schema(value_type = i64)]
    pub id: SessionId,
    /// The token's first 8 characters (empty for tokens issued before they were kept).
    pub prefix: String,
    #[serde(with = "crate::timefmt")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub expires_at: chrono::NaiveDateTime,
    /// To within 5 minutes; null when never used.
    #[serde(serialize_with = "crate::timefmt::option::serialize")]
    pub last_used_at: Option<chrono::NaiveDateTime>,
    /// The token this request was made with.
    pub current: bool,
}

/// The caller's live API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/me/tokens", security(("bearer" = [])), responses((status = 200, body = [TokenInfo])))]
#[get("/api/v1/me/tokens")]
pub async fn list_tokens(state: &State<AppState>, me: &CurrentUser) -> AppResult<Json<Vec<TokenInfo>>> {
    let (uid, now) = (me.id(), state.clock.now());
    let list = with_db(state, move |c| accounts::my_tokens(c, uid, now)).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| TokenInfo {
                current: s.token_hash == me.token_hash,
                id: s.id,
                prefix: s.token_prefix,
                created_at: s.created_at,
                expires_at: s.expires_at,
                last_used_at: s.last_used_at,
            })
            .collect(),
    ))
}

/// Revokes one of the caller's API tokens (it stops at once; the one in use may be revoked
/// too, which signs it out). 404 for any id that is not a live token of the caller's.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)))]
#[delete("/api/v1/me/tokens/<id>")]
pub async fn delete_token(state: &State<AppState>, me: &CurrentUser, id: SessionId) -> AppResult<Status> {
    revoke(state, me, id).await?;
    Ok(Status::NoContent)
}
