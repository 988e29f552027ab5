//! What happens in the exam room: attempt events (focus loss, full screen left, extra time,
//! re-opening) and absences.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{absences, attempt_events, attempts};
use crate::db::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = attempt_events)]
pub struct AttemptEvent {
    pub id: i64,
    pub attempt_id: i64,
    pub at: Ts,
    pub kind: String,
    pub detail: String,
    pub actor_id: Option<i64>,
}

pub fn insert_event(conn: &mut DbConn, attempt_id: i64, kind: &str, detail: &str, actor: Option<i64>, now: Ts) -> QueryResult<()> {
    diesel::insert_into(attempt_events::table)
        .values((
            attempt_events::attempt_id.eq(attempt_id),
            attempt_events::at.eq(now),
            attempt_events::kind.eq(kind),
            attempt_events::detail.eq(detail),
            attempt_events::actor_id.eq(actor),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Focus-loss and leave-full-screen events of an attempt.
pub fn count_focus_events(conn: &mut DbConn, attempt_id: i64) -> QueryResult<i64> {
    attempt_events::table
        .filter(attempt_events::attempt_id.eq(attempt_id))
        .filter(attempt_events::kind.eq_any(crate::domain::exam_room::EVENT_KINDS))
        .count()
        .get_result(conn)
}

/// Every event of a sitting's attempts, oldest first.
pub fn events_of_sitting(conn: &mut DbConn, sitting_id: i64) -> QueryResult<Vec<AttemptEvent>> {
    attempt_events::table
        .inner_join(attempts::table)
        .filter(attempts::sitting_id.eq(sitting_id))
        .order(attempt_events::id)
        .select(AttemptEvent::as_select())
        .load(conn)
}

pub fn set_flagged(conn: &mut DbConn, attempt_id: i64) -> QueryResult<()> {
    diesel::update(attempts::table.find(attempt_id)).set(attempts::flagged.eq(true)).execute(conn).map(|_| ())
}

pub fn set_client_ip(conn: &mut DbConn, attempt_id: i64, ip: Option<&str>) -> QueryResult<()> {
    diesel::update(attempts::table.find(attempt_id)).set(attempts::client_ip.eq(ip)).execute(conn).map(|_| ())
}

/// Moves an open attempt's deadline; false if it was submitted meanwhile.
pub fn set_deadline(conn: &mut DbConn, attempt_id: i64, deadline: Ts) -> QueryResult<bool> {
    let n = diesel::update(attempts::table.find(attempt_id).filter(attempts::submitted_at.is_null())).set(attempts::deadline.eq(deadline)).execute(conn)?;
    Ok(n == 1)
}

/// Re-opens a submitted attempt: its answers stay, its grade is cleared until it is submitted again.
pub fn reopen(conn: &mut DbConn, attempt_id: i64, deadline: Ts) -> QueryResult<bool> {
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

pub fn insert_absence(conn: &mut DbConn, sitting_id: i64, user_id: i64, now: Ts) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::insert_into(absences::table)
        .values((absences::sitting_id.eq(sitting_id), absences::user_id.eq(user_id), absences::recorded_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c))
    .map(|_| ())
}

pub fn absentees(conn: &mut DbConn, sitting_id: i64) -> QueryResult<Vec<i64>> {
    absences::table.filter(absences::sitting_id.eq(sitting_id)).select(absences::user_id).order(absences::user_id).load(conn)
}
