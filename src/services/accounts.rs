//! Running accounts: sign-in throttling kept in the database (`domain::throttle`), changing
//! one's own password, an admin's reset, unlock, disable and re-enable, and a user's own API
//! tokens. Every change is in the audit log.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::models::throttle;
use crate::db::models::{audit, org, session, Ts};
/// Read by the pages that list sign-in counts and tokens.
pub use crate::db::models::{session::Session, throttle::Row, throttle::ANY_BADGE};
use crate::db::{write_tx, DbConn};
use crate::domain::accounts::{self as rules, AdminRefusal, PasswordProblem, SessionKind};
use crate::domain::ids::{SessionId, UserId};
use crate::domain::org::Role;
use crate::domain::throttle::{badge_key, Blocked, Policy, Scope};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};

fn at(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

// ---- sign-in throttling ----

/// Whether a password may be checked for `badge` from `source` now. `Ok(true)` when the pair
/// has a count (which a correct password then clears).
pub fn sign_in_allowed(conn: &mut DbConn, badge: &str, source: &str, now: Ts) -> AppResult<Result<bool, Blocked>> {
    let (pair, src) = throttle::load(conn, badge, source)?;
    let p = pair.as_ref().map(Row::counter);
    let s = src.as_ref().map(Row::counter);
    Ok(Policy::default().check(p.as_ref(), s.as_ref(), now).map(|_| pair.is_some()))
}

/// Counts a wrong password for `badge` (the account `user_id`, if it is one) from `source`.
/// Returns the wait it started, if any; each wait started is in the audit log.
pub fn sign_in_failed(conn: &mut DbConn, badge: &str, source: &str, user_id: Option<UserId>, now: Ts) -> AppResult<Option<Blocked>> {
    let policy = Policy::default();
    write_tx(conn, |c| {
        throttle::prune(c, now)?;
        let (pair, src) = throttle::load_for_update(c, badge, source, now)?;
        let p = pair.as_ref().map(Row::counter);
        let s = src.as_ref().map(Row::counter);
        let f = policy.failed(p.as_ref(), s.as_ref(), now);
        throttle::store(c, badge, source, &f.pair, policy.pair.forget_at(&f.pair))?;
        throttle::store(c, ANY_BADGE, source, &f.source, policy.source.forget_at(&f.source))?;
        if let Some(until) = f.pair_locked {
            let subject = user_id.map_or_else(|| format!("badge:{badge}"), |id| format!("user:{id}"));
            audit::append(
                c,
                None,
                "sign_in.lock",
                &subject,
                &json!({"badge": badge, "source": source, "failures": f.pair.failures, "until": at(until)}),
                now,
            )?;
        }
        if let Some(until) = f.source_locked {
            audit::append(
                c,
                None,
                "sign_in.source_lock",
                &format!("source:{source}"),
                &json!({"source": source, "failures": f.source.failures, "until": at(until)}),
                now,
            )?;
        }
        Ok::<_, AppError>(f.blocked())
    })
}

/// A correct password clears its pair's count (not the address's).
pub fn sign_in_succeeded(conn: &mut DbConn, badge: &str, source: &str) -> AppResult<()> {
    throttle::clear_pair(conn, badge, source)?;
    Ok(())
}

/// 404 for an account id that names no account.
fn no_account(id: UserId) -> AppError {
    AppError::problem(
        ErrorCode::NotFound,
        Problem::with("", "account.no_account", vec![("id", id.to_string())], format!("no account {id}")),
    )
}

/// An admin lets an account's badge in again from every address; returns the counts removed.
pub fn unlock_user(conn: &mut DbConn, user_id: UserId, by: UserId, now: Ts) -> AppResult<Vec<Row>> {
    let u = org::find(conn, user_id)?.ok_or_else(|| no_account(user_id))?;
    unlock(conn, &badge_key(&u.badge), Some(user_id), by, now)
}

/// An admin lets a badge (an account's or not) in again from every address.
pub fn unlock_badge(conn: &mut DbConn, badge: &str, by: UserId, now: Ts) -> AppResult<Vec<Row>> {
    let key = badge_key(badge);
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("badge", "account.unlock_badge", "a badge as listed on the page"),
        ));
    }
    let account = org::find_by_badge_key(conn, &key)?.map(|u| u.id);
    unlock(conn, &key, account, by, now)
}

fn unlock(conn: &mut DbConn, key: &str, user_id: Option<UserId>, by: UserId, now: Ts) -> AppResult<Vec<Row>> {
    write_tx(conn, |c| {
        let rows = throttle::clear_badge(c, key)?;
        let locked: Vec<&str> = rows.iter().filter(|r| r.locked_until.is_some_and(|t| t > now)).map(|r| r.source.as_str()).collect();
        let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
        let subject = user_id.map_or_else(|| format!("badge:{key}"), |id| format!("user:{id}"));
        audit::append(c, Some(by), "sign_in.unlock", &subject, &json!({"badge": key, "sources": sources, "were_locked": locked}), now)?;
        Ok::<_, AppError>(rows)
    })
}

/// An admin lets an address in again (its count across badges; the per-badge counts stay).
pub fn unlock_source(conn: &mut DbConn, source: &str, by: UserId, now: Ts) -> AppResult<bool> {
    let source = source.trim();
    if source.is_empty() || source.len() > 64 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("source", "account.unlock_source", "an address as listed on the page"),
        ));
    }
    write_tx(conn, |c| {
        let row = throttle::clear_source(c, source)?;
        audit::append(
            c,
            Some(by),
            "sign_in.source_unlock",
            &format!("source:{source}"),
            &json!({"source": source, "failures": row.as_ref().map(|r| r.failures), "was_locked": row.as_ref().is_some_and(|r| r.locked_until.is_some_and(|t| t > now))}),
            now,
        )?;
        Ok::<_, AppError>(row.is_some())
    })
}

/// Waits running now, latest first, at most 200.
pub fn current_locks(conn: &mut DbConn, now: Ts) -> AppResult<Vec<Row>> {
    Ok(throttle::locked(conn, now, 200)?)
}

// ---- passwords ----

/// Why a password change was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeRefused {
    /// Too many wrong passwords (the current-password check is throttled like a sign-in).
    Blocked(Blocked),
    WrongCurrent,
    Weak(Vec<PasswordProblem>),
}

impl ChangeRefused {
    /// As an API error.
    pub fn into_error(self) -> AppError {
        match self {
            ChangeRefused::Blocked(b) => locked_out(b),
            ChangeRefused::WrongCurrent => AppError::new(crate::error::ErrorCode::WrongPassword, "the current password is wrong"),
            ChangeRefused::Weak(p) => {
                AppError::new(crate::error::ErrorCode::WeakPassword, p.iter().map(|p| p.message()).collect::<Vec<_>>().join("; "))
            }
        }
    }
}

/// An admin resets an account's password: a one-time password (returned, to be shown once)
/// that must be changed at the next sign-in. The account's sessions and tokens end and its
/// sign-in counts are cleared. Call `SessionCache::forget_user` afterwards.
pub fn reset_password(conn: &mut DbConn, target: UserId, by: UserId, now: Ts) -> AppResult<Result<String, AdminRefusal>> {
    let u = org::find(conn, target)?.ok_or_else(|| no_account(target))?;
    if let Err(r) = rules::may_reset(by, target) {
        return Ok(Err(r));
    }
    let password = crate::services::people::initial_password();
    let hash = crate::services::credentials::hash_password(&password);
    write_tx(conn, |c| {
        org::set_password(c, target, &hash, true, now)?;
        let ended = session::revoke_all_of(c, target, None, now)?;
        let cleared = throttle::clear_badge(c, &badge_key(&u.badge))?.len();
        audit::append(
            c,
            Some(by),
            "user.password_reset",
            &format!("user:{target}"),
            &json!({"badge": u.badge, "sessions_ended": ended, "sign_in_counts_cleared": cleared}),
            now,
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(Ok(password))
}

/// An admin disables (`active` false) or re-enables an account. Disabling ends its sessions
/// and tokens; call `SessionCache::forget_user` afterwards. Returns the sessions ended.
pub fn set_active(conn: &mut DbConn, target: UserId, active: bool, by: UserId, now: Ts) -> AppResult<Result<usize, AdminRefusal>> {
    let u = org::find(conn, target)?.ok_or_else(|| no_account(target))?;
    if !active {
        let admin = u.active && org::roles_of(conn, target)?.contains(&Role::Admin);
        let admins = org::count_active_with_role(conn, Role::Admin)?;
        if let Err(r) = rules::may_disable(by, target, admin, admins) {
            return Ok(Err(r));
        }
    }
    let ended = write_tx(conn, |c| {
        org::set_active(c, target, active)?;
        let ended = if active { 0 } else { session::revoke_all_of(c, target, None, now)? };
        let action = if active { "user.enable" } else { "user.disable" };
        audit::append(
            c,
            Some(by),
            action,
            &format!("user:{target}"),
            &json!({"badge": u.badge, "was_active": u.active, "sessions_ended": ended}),
            now,
        )?;
        Ok::<_, AppError>(ended)
    })?;
    Ok(Ok(ended))
}

// ---- a user's own API tokens ----

/// The user's live API tokens, newest first.
pub fn my_tokens(conn: &mut DbConn, user_id: UserId, now: Ts) -> AppResult<Vec<session::Session>> {
    Ok(session::live_of(conn, user_id, SessionKind::Api, now)?)
}

/// Revokes one of the user's own live API tokens (404 for anything else). Call
/// `SessionCache::remove` with its hash afterwards.
pub fn revoke_my_token(conn: &mut DbConn, user_id: UserId, token_id: SessionId, now: Ts) -> AppResult<session::Session> {
    write_tx(conn, |c| {
        let s = session::revoke_own(c, token_id, user_id, SessionKind::Api, now)?.ok_or_else(|| {
            AppError::problem(
                ErrorCode::NotFound,
                Problem::with("", "account.no_token", vec![("id", token_id.to_string())], format!("no live API token {token_id} of yours")),
            )
        })?;
        audit::append(
            c,
            Some(user_id),
            "user.token_revoke",
            &format!("user:{user_id}"),
            &json!({"token": s.id, "prefix": s.token_prefix}),
            now,
        )?;
        Ok(s)
    })
}

/// What an admin sees of an account beyond the users list.
pub struct AccountDetail {
    pub user: org::User,
    pub roles: Vec<Role>,
    /// Sign-in counts for the badge, per address.
    pub counts: Vec<Row>,
    pub live_tokens: usize,
    pub live_sessions: usize,
    /// Account, password and sign-in entries of the audit log, newest first.
    pub history: Vec<crate::domain::audit::StoredEntry>,
}

pub fn account_detail(conn: &mut DbConn, user_id: UserId, now: Ts) -> AppResult<AccountDetail> {
    let user = org::find(conn, user_id)?.ok_or_else(|| no_account(user_id))?;
    let roles = org::roles_of(conn, user_id)?;
    let counts = throttle::for_badge(conn, &badge_key(&user.badge))?;
    let live_tokens = session::live_of(conn, user_id, SessionKind::Api, now)?.len();
    let live_sessions = session::live_of(conn, user_id, SessionKind::Web, now)?.len();
    let mut history: Vec<_> = audit::for_subject(conn, &format!("user:{user_id}"))?
        .into_iter()
        .filter(|e| e.action.starts_with("user.") || e.action.starts_with("sign_in."))
        .collect();
    history.reverse();
    history.truncate(50);
    Ok(AccountDetail { user, roles, counts, live_tokens, live_sessions, history })
}

/// The bureau's UTC offset as people write it ("UTC+8", "UTC+5:30").
fn offset_label() -> String {
    let m = crate::timefmt::bureau_offset().num_minutes();
    let sign = if m < 0 { '-' } else { '+' };
    match m.abs() % 60 {
        0 => format!("UTC{sign}{}", m.abs() / 60),
        r => format!("UTC{sign}{}:{r:02}", m.abs() / 60),
    }
}

/// The API's answer to a sign-in that must wait (429), saying until when.
pub fn locked_out(b: Blocked) -> AppError {
    let whose = match b.scope {
        Scope::Pair => "too many wrong passwords for this badge from your address",
        Scope::Source => "too many wrong passwords from your address",
    };
    AppError::new(
        crate::error::ErrorCode::TooManyAttempts,
        format!("{whose}: try again after {} ({})", crate::timefmt::local(b.until), offset_label()),
    )
}

/// Records the language a user reads, from the language switch or their account page: every
/// mail to them is written in it from now on. Only a language the site speaks is kept.
pub fn set_language(conn: &mut DbConn, user_id: UserId, lang: &str) -> AppResult<()> {
    if !crate::render::LANGS.contains(&lang) {
        return Err(AppError::invalid_problems(vec![Problem::with(
            "lang",
            "account.lang",
            vec![("lang", lang.to_string())],
            format!("{lang:?}: zh or en"),
        )]));
    }
    org::set_lang(conn, user_id, lang)?;
    Ok(())
}

/// The language stored with the account (mail is written in it); `None` for no such account.
pub fn stored_language(conn: &mut DbConn, user_id: UserId) -> AppResult<Option<String>> {
    Ok(org::find(conn, user_id)?.map(|u| u.lang))
}

// ---- signing in and out ----

/// The account a badge names (active or not: the sign-in check decides), for a sign-in.
pub fn account_by_badge(conn: &mut DbConn, badge: &str) -> AppResult<Option<org::User>> {
    Ok(org::find_by_badge(conn, badge)?)
}

/// Opens a signed-in browser session (its token kept as `token_hash`).
pub fn open_web_session(conn: &mut DbConn, token_hash: &str, user_id: UserId, csrf: &str, now: Ts, expires_at: Ts) -> AppResult<()> {
    Ok(session::create(conn, token_hash, user_id, SessionKind::Web, csrf, now, expires_at)?)
}

/// Issues an API token (kept as `token_hash`, its first characters as `prefix` for its owner's list).
pub fn issue_api_token(
    conn: &mut DbConn,
    token_hash: &str,
    prefix: &str,
    user_id: UserId,
    csrf: &str,
    now: Ts,
    expires_at: Ts,
) -> AppResult<()> {
    Ok(session::create_with_prefix(conn, token_hash, prefix, user_id, SessionKind::Api, csrf, now, expires_at)?)
}

/// Ends the session whose token hashes to `token_hash`.
pub fn sign_out(conn: &mut DbConn, token_hash: &str, now: Ts) -> AppResult<()> {
    session::revoke(conn, token_hash, now)?;
    Ok(())
}

/// The user's latest notifications, newest first.
pub fn notifications_of(conn: &mut DbConn, user_id: UserId, limit: i64) -> AppResult<Vec<audit::Notification>> {
    Ok(audit::notifications_of(conn, user_id, limit)?)
}

// ---- the admin's lists ----

/// A row of the admin's accounts list.
pub struct AccountRow {
    pub user: org::User,
    pub unit: String,
    pub roles: Vec<Role>,
    /// The badge waits to sign in from some address.
    pub locked: bool,
}

/// Every account with its unit, roles and whether its badge waits to sign in, by badge.
pub fn account_list(conn: &mut DbConn, now: Ts) -> AppResult<Vec<AccountRow>> {
    let mut roles = org::roles_by_user(conn)?;
    let locked: std::collections::HashSet<String> = current_locks(conn, now)?.into_iter().map(|r| r.badge).collect();
    Ok(org::list_with_units(conn)?
        .into_iter()
        .map(|(user, unit)| AccountRow {
            roles: roles.remove(&user.id).unwrap_or_default(),
            locked: locked.contains(&badge_key(&user.badge)),
            user,
            unit,
        })
        .collect())
}

/// The sign-in waits running now, each with the account its badge names (none for a count
/// across badges, or a badge no account has).
pub fn current_locks_with_accounts(conn: &mut DbConn, now: Ts) -> AppResult<Vec<(Row, Option<org::User>)>> {
    let rows = current_locks(conn, now)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let account = if r.badge == ANY_BADGE { None } else { org::find_by_badge_key(conn, &r.badge)? };
        out.push((r, account));
    }
    Ok(out)
}
