use diesel::prelude::*;

use super::Ts;
use crate::db::schema::sessions;
use crate::db::DbConn;
use crate::domain::accounts::SessionKind;
use crate::domain::ids::{SessionId, UserId};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: String,
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub kind: SessionKind,
    pub csrf_token: String,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub revoked_at: Option<Ts>,
    /// The token's first characters, to tell a user's API tokens apart (never the token).
    pub token_prefix: String,
    /// When the token was last seen (API tokens; updated at most every `TOUCH_EVERY`).
    pub last_used_at: Option<Ts>,
}

/// `last_used_at` is written at most this often per token, so a busy token does not write on
/// every request.
pub const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(5);

pub fn create(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: UserId,
    kind: SessionKind,
    csrf: &str,
    now: Ts,
    expires_at: Ts,
) -> QueryResult<()> {
    create_with_prefix(conn, token_hash, "", user_id, kind, csrf, now, expires_at)
}

/// A session that keeps the token's first characters (API tokens, listed to their owner).
#[allow(clippy::too_many_arguments)]
pub fn create_with_prefix(
    conn: &mut DbConn,
    token_hash: &str,
    prefix: &str,
    user_id: UserId,
    kind: SessionKind,
    csrf: &str,
    now: Ts,
    expires_at: Ts,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::token_prefix.eq(prefix),
            sessions::user_id.eq(user_id),
            sessions::kind.eq(kind.as_str()),
            sessions::csrf_token.eq(csrf),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The session for a token hash, if it exists, is not revoked and has not expired.
pub fn find_live(conn: &mut DbConn, token_hash: &str, now: Ts) -> QueryResult<Option<Session>> {
    sessions::table
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        // the token hash is unique: no LIMIT, which SQLite would re-prepare on every run
        .get_result(conn)
        .optional()
}

pub fn revoke(conn: &mut DbConn, token_hash: &str, now: Ts) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::token_hash.eq(token_hash))).set(sessions::revoked_at.eq(now)).execute(conn)
}

/// Records that a session was used (see `TOUCH_EVERY`).
pub fn touch(conn: &mut DbConn, id: SessionId, now: Ts) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id)).set(sessions::last_used_at.eq(now)).execute(conn)
}

/// A user's live sessions of one kind (`web` or `api`), newest first.
pub fn live_of(conn: &mut DbConn, user_id: UserId, kind: SessionKind, now: Ts) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::kind.eq(kind.as_str()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::id.desc())
        .select(Session::as_select())
        .load(conn)
}

/// Revokes one live session of a user's, by id and kind; `None` when there is none.
pub fn revoke_own(conn: &mut DbConn, id: SessionId, user_id: UserId, kind: SessionKind, now: Ts) -> QueryResult<Option<Session>> {
    let found = sessions::table
        .filter(sessions::id.eq(id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::kind.eq(kind.as_str()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional()?;
    if let Some(s) = &found {
        diesel::update(sessions::table.find(s.id)).set(sessions::revoked_at.eq(now)).execute(conn)?;
    }
    Ok(found)
}

/// Ends every live session and token of a user except the one with `keep` (a token hash);
/// returns how many ended.
pub fn revoke_all_of(conn: &mut DbConn, user_id: UserId, keep: Option<&str>, now: Ts) -> QueryResult<usize> {
    let live =
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()).filter(sessions::expires_at.gt(now));
    match keep {
        Some(k) => diesel::update(live.filter(sessions::token_hash.ne(k))).set(sessions::revoked_at.eq(now)).execute(conn),
        None => diesel::update(live).set(sessions::revoked_at.eq(now)).execute(conn),
    }
}
