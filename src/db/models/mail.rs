//! The mail outbox: messages are written in the transaction that causes them and sent later.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::mail_outbox;
use crate::db::DbConn;
use crate::domain::ids::{MailId, UserId};

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = mail_outbox)]
pub struct Mail {
    pub id: MailId,
    pub user_id: Option<UserId>,
    pub to_addr: String,
    pub kind: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: Ts,
    pub tries: i32,
    pub next_try_at: Ts,
    pub sent_at: Option<Ts>,
    pub failed_at: Option<Ts>,
    pub last_error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub fn enqueue(
    conn: &mut DbConn,
    user_id: Option<UserId>,
    to: &str,
    kind: &str,
    subject: &str,
    text: &str,
    html: &str,
    now: Ts,
) -> QueryResult<MailId> {
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::user_id.eq(user_id),
            mail_outbox::to_addr.eq(to),
            mail_outbox::kind.eq(kind),
            mail_outbox::subject.eq(subject),
            mail_outbox::text_body.eq(text),
            mail_outbox::html_body.eq(html),
            mail_outbox::created_at.eq(now),
            mail_outbox::tries.eq(0),
            mail_outbox::next_try_at.eq(now),
        ))
        .returning(mail_outbox::id)
        .get_result(conn)
}

/// Claims up to `limit` due messages for one sender until `lease_until`: each is moved out of
/// the due set (its next try set to the lease's end) in the caller's transaction, so a message
/// is sent by one app server only. Call inside `db::write_tx`: on SQLite that is `BEGIN
/// IMMEDIATE`; on PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so two servers
/// claiming at once take different messages, and the update checks the message is still due.
/// A sender that dies before marking a message leaves it to be tried again when the lease ends.
pub fn claim_due(conn: &mut DbConn, now: Ts, limit: i64, lease_until: Ts) -> QueryResult<Vec<Mail>> {
    let q = mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .filter(mail_outbox::next_try_at.le(now))
        .order(mail_outbox::id)
        .limit(limit)
        .select(mail_outbox::id);
    let ids: Vec<MailId> = match conn {
        DbConn::Sqlite(c) => q.load(c)?,
        DbConn::Pg(c) => q.for_update().skip_locked().load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq_any(&ids))
            .filter(mail_outbox::sent_at.is_null())
            .filter(mail_outbox::failed_at.is_null())
            .filter(mail_outbox::next_try_at.le(now)),
    )
    .set(mail_outbox::next_try_at.eq(lease_until))
    .execute(conn)?;
    mail_outbox::table
        .filter(mail_outbox::id.eq_any(&ids))
        .filter(mail_outbox::next_try_at.eq(lease_until))
        .filter(mail_outbox::sent_at.is_null())
        .order(mail_outbox::id)
        .select(Mail::as_select())
        .load(conn)
}

pub fn mark_sent(conn: &mut DbConn, id: MailId, now: Ts) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((mail_outbox::sent_at.eq(now), mail_outbox::tries.eq(mail_outbox::tries + 1)))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed try: retried at `next`, or given up (`next` None).
pub fn mark_failed(conn: &mut DbConn, id: MailId, error: &str, next: Option<Ts>, now: Ts) -> QueryResult<()> {
    let q = diesel::update(mail_outbox::table.find(id));
    match next {
        Some(t) => q
            .set((mail_outbox::tries.eq(mail_outbox::tries + 1), mail_outbox::last_error.eq(error), mail_outbox::next_try_at.eq(t)))
            .execute(conn),
        None => q
            .set((mail_outbox::tries.eq(mail_outbox::tries + 1), mail_outbox::last_error.eq(error), mail_outbox::failed_at.eq(now)))
            .execute(conn),
    }
    .map(|_| ())
}

/// Puts a given-up message back in the queue (an admin after fixing the mail settings).
pub fn retry(conn: &mut DbConn, id: MailId, now: Ts) -> QueryResult<bool> {
    diesel::update(mail_outbox::table.find(id).filter(mail_outbox::sent_at.is_null()))
        .set((mail_outbox::failed_at.eq(None::<Ts>), mail_outbox::next_try_at.eq(now)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Mail>> {
    mail_outbox::table.order(mail_outbox::id.desc()).limit(limit).select(Mail::as_select()).load(conn)
}

/// (queued, sent, failed) counts.
pub fn counts(conn: &mut DbConn) -> QueryResult<(i64, i64, i64)> {
    let sent = mail_outbox::table.filter(mail_outbox::sent_at.is_not_null()).count().get_result(conn)?;
    let failed = mail_outbox::table.filter(mail_outbox::failed_at.is_not_null()).count().get_result(conn)?;
    let all: i64 = mail_outbox::table.count().get_result(conn)?;
    Ok((all - sent - failed, sent, failed))
}
