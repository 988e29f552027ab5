//! What happens in the exam room: attempt events (focus loss, full screen left, extra time,
//! re-opening) and absences.

use crate::domain::exam_room::EventKind;
use crate::domain::ids::{AttemptId, EventId, ExceptionId, SittingId, UserId};
use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{absences, access_code_failures, attempt_events, attempts, sitting_exceptions};
use crate::db::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = attempt_events)]
pub struct AttemptEvent {
    pub id: EventId,
    pub attempt_id: AttemptId,
    pub at: Ts,
    #[diesel(deserialize_as = String)]
    pub kind: EventKind,
    pub detail: String,
    pub actor_id: Option<UserId>,
}

pub fn insert_event(
    conn: &mut DbConn,
    attempt_id: AttemptId,
    kind: EventKind,
    detail: &str,
    actor: Option<UserId>,
    now: Ts,
) -> QueryResult<()> {
    diesel::insert_into(attempt_events::table)
        .values((
            attempt_events::attempt_id.eq(attempt_id),
            attempt_events::at.eq(now),
            attempt_events::kind.eq(kind.as_str()),
            attempt_events::detail.eq(detail),
            attempt_events::actor_id.eq(actor),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Focus-loss and leave-full-screen events of an attempt that count (not dismissed).
pub fn count_focus_events(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<i64> {
    let reported = attempt_events::table
        .filter(attempt_events::attempt_id.eq(attempt_id))
        .filter(attempt_events::kind.eq_any(EventKind::REPORTED.map(EventKind::as_str)))
        .count()
        .get_result(conn)?;
    let dismissed = attempt_events::table
        .filter(attempt_events::attempt_id.eq(attempt_id))
        .filter(attempt_events::kind.eq(EventKind::Dismissed.as_str()))
        .count()
        .get_result(conn)?;
    Ok(crate::domain::exam_room::counted_events(reported, dismissed))
}

pub fn events_of_attempt(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<Vec<AttemptEvent>> {
    attempt_events::table
        .filter(attempt_events::attempt_id.eq(attempt_id))
        .order(attempt_events::id)
        .select(AttemptEvent::as_select())
        .load(conn)
}

pub fn find_event(conn: &mut DbConn, id: EventId) -> QueryResult<Option<AttemptEvent>> {
    attempt_events::table.find(id).select(AttemptEvent::as_select()).get_result(conn).optional()
}

/// Every event of a sitting's attempts, oldest first.
pub fn events_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<AttemptEvent>> {
    attempt_events::table
        .inner_join(attempts::table)
        .filter(attempts::sitting_id.eq(sitting_id))
        .order(attempt_events::id)
        .select(AttemptEvent::as_select())
        .load(conn)
}

pub fn set_flagged(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<()> {
    diesel::update(attempts::table.find(attempt_id)).set(attempts::flagged.eq(true)).execute(conn).map(|_| ())
}

pub fn set_client_ip(conn: &mut DbConn, attempt_id: AttemptId, ip: Option<&str>) -> QueryResult<()> {
    diesel::update(attempts::table.find(attempt_id)).set(attempts::client_ip.eq(ip)).execute(conn).map(|_| ())
}

/// Moves an open attempt's deadline; false if it was submitted meanwhile.
pub fn set_deadline(conn: &mut DbConn, attempt_id: AttemptId, deadline: Ts) -> QueryResult<bool> {
    let n = diesel::update(attempts::table.find(attempt_id).filter(attempts::submitted_at.is_null()))
        .set(attempts::deadline.eq(deadline))
        .execute(conn)?;
    Ok(n == 1)
}

/// Re-opens a submitted attempt: its answers stay, its grade is cleared until it is submitted again.
pub fn reopen(conn: &mut DbConn, attempt_id: AttemptId, deadline: Ts) -> QueryResult<bool> {
    let n = diesel::update(attempts::table.find(attempt_id).filter(attempts::submitted_at.is_not_null()))
        .set((
            attempts::submitted_at.eq(None::<Ts>),
            attempts::submit_kind.eq(None::<String>),
            attempts::score_centi.eq(None::<i64>),
            attempts::passed.eq(None::<bool>),
            attempts::item_scores.eq(None::<String>),
            attempts::deadline.eq(deadline),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_absence(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId, now: Ts) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::insert_into(absences::table)
        .values((absences::sitting_id.eq(sitting_id), absences::user_id.eq(user_id), absences::recorded_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c))
    .map(|_| ())
}

pub fn absentees(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<UserId>> {
    absences::table.filter(absences::sitting_id.eq(sitting_id)).select(absences::user_id).order(absences::user_id).load(conn)
}

/// An admin's exception letting a user who can read keys sit one graded sitting.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = sitting_exceptions)]
pub struct SittingException {
    pub id: ExceptionId,
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub reason: String,
    pub granted_by: UserId,
    pub granted_at: Ts,
}

pub fn find_exception(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<Option<SittingException>> {
    sitting_exceptions::table
        .filter(sitting_exceptions::sitting_id.eq(sitting_id))
        .filter(sitting_exceptions::user_id.eq(user_id))
        .select(SittingException::as_select())
        .first(conn)
        .optional()
}

pub fn exceptions_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<SittingException>> {
    sitting_exceptions::table
        .filter(sitting_exceptions::sitting_id.eq(sitting_id))
        .order(sitting_exceptions::id)
        .select(SittingException::as_select())
        .load(conn)
}

/// Records an exception; false when the user already has one for that sitting.
pub fn insert_exception(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId, reason: &str, by: UserId, now: Ts) -> QueryResult<bool> {
    let values = (
        sitting_exceptions::sitting_id.eq(sitting_id),
        sitting_exceptions::user_id.eq(user_id),
        sitting_exceptions::reason.eq(reason),
        sitting_exceptions::granted_by.eq(by),
        sitting_exceptions::granted_at.eq(now),
    );
    let n = crate::per_backend!(conn, |c| diesel::insert_into(sitting_exceptions::table)
        .values(values)
        .on_conflict((sitting_exceptions::sitting_id, sitting_exceptions::user_id))
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Wrong access codes a candidate has typed for a sitting since the proctor last let them in.
pub fn code_failures(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<i32> {
    Ok(access_code_failures::table
        .filter(access_code_failures::sitting_id.eq(sitting_id))
        .filter(access_code_failures::user_id.eq(user_id))
        .select(access_code_failures::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Counts one more wrong code; returns the new count.
pub fn add_code_failure(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId, now: Ts) -> QueryResult<i32> {
    let values = (
        access_code_failures::sitting_id.eq(sitting_id),
        access_code_failures::user_id.eq(user_id),
        access_code_failures::failures.eq(1),
        access_code_failures::last_at.eq(now),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(access_code_failures::table)
        .values(values)
        .on_conflict((access_code_failures::sitting_id, access_code_failures::user_id))
        .do_update()
        .set((access_code_failures::failures.eq(access_code_failures::failures + 1), access_code_failures::last_at.eq(now)))
        .execute(c))?;
    code_failures(conn, sitting_id, user_id)
}

pub fn clear_code_failures(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(
        access_code_failures::table
            .filter(access_code_failures::sitting_id.eq(sitting_id))
            .filter(access_code_failures::user_id.eq(user_id)),
    )
    .execute(conn)
}

/// (user id, wrong codes) of every candidate of a sitting with at least one wrong code.
pub fn code_failures_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<(UserId, i32)>> {
    access_code_failures::table
        .filter(access_code_failures::sitting_id.eq(sitting_id))
        .select((access_code_failures::user_id, access_code_failures::failures))
        .load(conn)
}
