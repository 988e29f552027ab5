//! The hash-chained audit log (`domain::audit`) and in-site notifications.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{audit_log, notifications};
use crate::db::DbConn;
use crate::domain::audit::{entry_hash, EntryFields, StoredEntry, GENESIS};
use crate::domain::ids::{AuditId, NotificationId, UserId};

fn at_text(t: Ts) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Appends an entry. Call inside `db::write_tx`: entries are numbered and chained one at a time
/// (SQLite's writer lock; on PostgreSQL `db::lock_appends`), so two writers can
/// never chain from the same predecessor.
pub fn append(
    conn: &mut DbConn,
    actor: Option<UserId>,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
    now: Ts,
) -> QueryResult<AuditId> {
    crate::db::lock_appends(conn)?;
    let last: Option<(AuditId, String)> =
        audit_log::table.order(audit_log::id.desc()).select((audit_log::id, audit_log::hash)).first(conn).optional()?;
    let (id, prev) = last.map(|(id, h)| (AuditId(id.0 + 1), h)).unwrap_or((AuditId(1), GENESIS.to_string()));
    // stored at microsecond precision on both backends, so the text hashed is the text read back
    let now = chrono::DateTime::from_timestamp_micros(now.and_utc().timestamp_micros()).expect("valid time").naive_utc();
    let detail = detail.to_string();
    let at = at_text(now);
    let hash = entry_hash(&prev, &EntryFields { id, at: &at, actor_id: actor, action, subject, detail: &detail });
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(id),
            audit_log::at.eq(now),
            audit_log::actor_id.eq(actor),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::detail.eq(&detail),
            audit_log::prev_hash.eq(&prev),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    Ok(id)
}

/// An entry as stored: its time as the database keeps it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct Row {
    id: AuditId,
    at: Ts,
    actor_id: Option<UserId>,
    action: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

fn stored(r: Row) -> StoredEntry {
    StoredEntry {
        id: r.id,
        at: at_text(r.at),
        actor_id: r.actor_id,
        action: r.action,
        subject: r.subject,
        detail: r.detail,
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

/// Entries with id > `after`, in order, at most `limit`.
pub fn page(conn: &mut DbConn, after: AuditId, limit: i64) -> QueryResult<Vec<StoredEntry>> {
    let rows: Vec<Row> =
        audit_log::table.filter(audit_log::id.gt(after)).order(audit_log::id).limit(limit).select(Row::as_select()).load(conn)?;
    Ok(rows.into_iter().map(stored).collect())
}

/// The newest entry: (number, hash, time); None for an empty log.
pub fn head(conn: &mut DbConn) -> QueryResult<Option<(AuditId, String, Ts)>> {
    audit_log::table.order(audit_log::id.desc()).select((audit_log::id, audit_log::hash, audit_log::at)).first(conn).optional()
}

/// Entries about one subject (e.g. "attempt:12"), oldest first.
pub fn for_subject(conn: &mut DbConn, subject: &str) -> QueryResult<Vec<StoredEntry>> {
    let rows: Vec<Row> =
        audit_log::table.filter(audit_log::subject.eq(subject)).order(audit_log::id).select(Row::as_select()).load(conn)?;
    Ok(rows.into_iter().map(stored).collect())
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: Ts,
    pub read_at: Option<Ts>,
}

pub fn notify(conn: &mut DbConn, user_id: UserId, kind: &str, subject: &str, body: &str, now: Ts) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::subject.eq(subject),
            notifications::body.eq(body),
            notifications::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn notifications_of(conn: &mut DbConn, user_id: UserId, limit: i64) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .limit(limit)
        .select(Notification::as_select())
        .load(conn)
}
