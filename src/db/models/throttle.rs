//! Sign-in throttling counters (`domain::throttle`), shared by every app server. A row is a
//! (badge, address) pair's count, or with `badge = ''` an address's count across badges.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::sign_in_throttle as t;
use crate::db::DbConn;
use crate::domain::throttle::Counter;

/// The badge column of an address's count across badges.
pub const ANY_BADGE: &str = "";

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = t)]
pub struct Row {
    pub badge: String,
    pub source: String,
    pub failures: i32,
    pub last_failure_at: Ts,
    pub locked_until: Option<Ts>,
    pub forget_at: Ts,
}

impl Row {
    pub fn counter(&self) -> Counter {
        Counter { failures: self.failures.max(0) as u32, last_failure_at: self.last_failure_at, locked_until: self.locked_until }
    }
}

fn split(rows: Vec<Row>, badge: &str) -> (Option<Row>, Option<Row>) {
    let mut pair = None;
    let mut source = None;
    for r in rows {
        if r.badge == ANY_BADGE {
            source = Some(r);
        } else if r.badge == badge {
            pair = Some(r);
        }
    }
    (pair, source)
}

/// The pair's and the address's rows (one indexed read).
pub fn load(conn: &mut DbConn, badge: &str, source: &str) -> QueryResult<(Option<Row>, Option<Row>)> {
    let rows: Vec<Row> =
        t::table.filter(t::source.eq(source)).filter(t::badge.eq_any([badge, ANY_BADGE])).select(Row::as_select()).load(conn)?;
    Ok(split(rows, badge))
}

/// Inside a write transaction: the two rows, made if missing and locked until commit (on
/// PostgreSQL, `FOR UPDATE`, so two servers counting the same failure do not lose one; SQLite
/// has one writer at a time). Made rows have no failures, which the rule treats as none.
pub fn load_for_update(conn: &mut DbConn, badge: &str, source: &str, now: Ts) -> QueryResult<(Option<Row>, Option<Row>)> {
    for b in [badge, ANY_BADGE] {
        let blank = (t::badge.eq(b), t::source.eq(source), t::failures.eq(0), t::last_failure_at.eq(now), t::forget_at.eq(now));
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(t::table)
            .values(blank)
            .on_conflict((t::badge, t::source))
            .do_nothing()
            .execute(c))?;
    }
    let mine = t::source.eq(source).and(t::badge.eq_any([badge, ANY_BADGE]));
    let rows: Vec<Row> = match conn {
        DbConn::Pg(c) => t::table.filter(mine).order(t::badge).select(Row::as_select()).for_update().load(c)?,
        DbConn::Sqlite(c) => t::table.filter(mine).order(t::badge).select(Row::as_select()).load(c)?,
    };
    Ok(split(rows, badge))
}

/// Writes a counter back.
pub fn store(conn: &mut DbConn, badge: &str, source: &str, c: &Counter, forget_at: Ts) -> QueryResult<usize> {
    diesel::update(t::table.filter(t::badge.eq(badge)).filter(t::source.eq(source)))
        .set((
            t::failures.eq(c.failures.min(i32::MAX as u32) as i32),
            t::last_failure_at.eq(c.last_failure_at),
            t::locked_until.eq(c.locked_until),
            t::forget_at.eq(forget_at),
        ))
        .execute(conn)
}

/// Forgets a pair's count (a correct password).
pub fn clear_pair(conn: &mut DbConn, badge: &str, source: &str) -> QueryResult<usize> {
    diesel::delete(t::table.filter(t::badge.eq(badge)).filter(t::source.eq(source))).execute(conn)
}

/// Forgets a badge's counts from every address; returns the rows removed.
pub fn clear_badge(conn: &mut DbConn, badge: &str) -> QueryResult<Vec<Row>> {
    let rows = for_badge(conn, badge)?;
    diesel::delete(t::table.filter(t::badge.eq(badge))).execute(conn)?;
    Ok(rows)
}

/// Forgets an address's count across badges; returns the row removed.
pub fn clear_source(conn: &mut DbConn, source: &str) -> QueryResult<Option<Row>> {
    let row = t::table.filter(t::badge.eq(ANY_BADGE)).filter(t::source.eq(source)).select(Row::as_select()).first(conn).optional()?;
    diesel::delete(t::table.filter(t::badge.eq(ANY_BADGE)).filter(t::source.eq(source))).execute(conn)?;
    Ok(row)
}

/// A badge's counts, from every address (badge as normalised by `domain::throttle::badge_key`).
pub fn for_badge(conn: &mut DbConn, badge: &str) -> QueryResult<Vec<Row>> {
    t::table.filter(t::badge.eq(badge)).filter(t::failures.gt(0)).order(t::source).select(Row::as_select()).load(conn)
}

/// Every wait still running, latest first (the admin's list).
pub fn locked(conn: &mut DbConn, now: Ts, limit: i64) -> QueryResult<Vec<Row>> {
    t::table.filter(t::locked_until.gt(now)).order(t::locked_until.desc()).limit(limit).select(Row::as_select()).load(conn)
}

/// Deletes rows that no longer matter.
pub fn prune(conn: &mut DbConn, now: Ts) -> QueryResult<usize> {
    diesel::delete(t::table.filter(t::forget_at.le(now))).execute(conn)
}
