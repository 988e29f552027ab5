//! Papers prepared before a sitting opens (`services::prepared`). Only the start reads one, and
//! only for its own candidate; nothing that lists, counts or reports attempts reads this table.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{attempts, prepared_papers, sittings};
use crate::db::DbConn;
use crate::domain::ids::{SittingId, UserId};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = prepared_papers)]
pub struct PreparedPaper {
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub seed: i64,
    pub paper: String,
    pub max_centi: i64,
    pub pool_hash: String,
    pub prepared_at: Ts,
}

/// Stores prepared papers; a candidate who has one already keeps it (several servers may
/// prepare the same sitting at once).
pub fn insert_many(conn: &mut DbConn, rows: &[PreparedPaper]) -> QueryResult<usize> {
    let mut n = 0;
    match conn {
        // SQLite takes no multi-row insert with ON CONFLICT here; in one transaction a row at a
        // time costs little
        DbConn::Sqlite(c) => {
            for row in rows {
                n += diesel::insert_into(prepared_papers::table)
                    .values(row)
                    .on_conflict((prepared_papers::sitting_id, prepared_papers::user_id))
                    .do_nothing()
                    .execute(c)?;
            }
        }
        DbConn::Pg(c) => {
            for chunk in rows.chunks(200) {
                n += diesel::insert_into(prepared_papers::table)
                    .values(chunk)
                    .on_conflict((prepared_papers::sitting_id, prepared_papers::user_id))
                    .do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(n)
}

/// The candidate's prepared paper for the sitting, if any.
pub fn find(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<Option<PreparedPaper>> {
    prepared_papers::table.find((sitting_id, user_id)).select(PreparedPaper::as_select()).first(conn).optional()
}

/// Removes the candidate's prepared paper (taken by the start, or of no use any more).
pub fn delete(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(prepared_papers::table.find((sitting_id, user_id))).execute(conn)
}

/// (user, pool hash) of every paper prepared for the sitting.
pub fn of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<(UserId, String)>> {
    prepared_papers::table
        .filter(prepared_papers::sitting_id.eq(sitting_id))
        .select((prepared_papers::user_id, prepared_papers::pool_hash))
        .load(conn)
}

/// Removes the sitting's papers drawn from another pool than `pool_hash`.
pub fn delete_stale(conn: &mut DbConn, sitting_id: SittingId, pool_hash: &str) -> QueryResult<usize> {
    diesel::delete(
        prepared_papers::table.filter(prepared_papers::sitting_id.eq(sitting_id)).filter(prepared_papers::pool_hash.ne(pool_hash)),
    )
    .execute(conn)
}

/// Removes the sitting's papers of candidates who have started (a paper prepared while they
/// started is of no use).
pub fn delete_started(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<usize> {
    let started = attempts::table.filter(attempts::sitting_id.eq(sitting_id)).select(attempts::user_id);
    diesel::delete(
        prepared_papers::table.filter(prepared_papers::sitting_id.eq(sitting_id)).filter(prepared_papers::user_id.eq_any(started)),
    )
    .execute(conn)
}

/// Removes every paper prepared for a sitting that has closed (those of candidates who never
/// started).
pub fn delete_closed(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    let closed = sittings::table.filter(sittings::closes_at.le(now)).select(sittings::id);
    diesel::delete(prepared_papers::table.filter(prepared_papers::sitting_id.eq_any(closed))).execute(conn)
}

/// How many papers are prepared for the sitting (operators' figures; never shown to candidates).
pub fn count(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<i64> {
    prepared_papers::table.filter(prepared_papers::sitting_id.eq(sitting_id)).count().get_result(conn)
}
