//! Item exposure: on how many papers each question version appeared, per sitting. Recorded once
//! per closed sitting (`services::exposure`); open sittings are counted from their papers.

use diesel::prelude::*;

use crate::db::models::Ts;
use crate::db::schema::{attempts, item_exposure, sitting_exposure, sittings};
use crate::db::DbConn;
use crate::domain::ids::{SittingId, VersionId};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = item_exposure)]
pub struct ExposureRow {
    pub sitting_id: SittingId,
    pub question_version_id: VersionId,
    pub papers: i32,
}

/// Sittings closed by `now` whose exposure is not recorded yet.
pub fn closed_unrecorded(conn: &mut DbConn, now: Ts) -> QueryResult<Vec<SittingId>> {
    sittings::table
        .filter(sittings::closes_at.le(now))
        .filter(diesel::dsl::not(diesel::dsl::exists(sitting_exposure::table.filter(sitting_exposure::sitting_id.eq(sittings::id)))))
        .order(sittings::id)
        .select(sittings::id)
        .load(conn)
}

/// Sittings whose exposure is not recorded (open or scheduled ones, and closed ones the sweep
/// has not reached yet).
pub fn unrecorded(conn: &mut DbConn) -> QueryResult<Vec<SittingId>> {
    sittings::table
        .filter(diesel::dsl::not(diesel::dsl::exists(sitting_exposure::table.filter(sitting_exposure::sitting_id.eq(sittings::id)))))
        .order(sittings::id)
        .select(sittings::id)
        .load(conn)
}

/// The stored papers of a sitting's attempts (JSON), in attempt order.
pub fn papers_of(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<String>> {
    attempts::table.filter(attempts::sitting_id.eq(sitting_id)).order(attempts::id).select(attempts::paper).load(conn)
}

/// Whether a sitting's exposure is recorded, and from how many papers.
pub fn recorded(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Option<i32>> {
    sitting_exposure::table.find(sitting_id).select(sitting_exposure::papers).get_result(conn).optional()
}

/// Records a sitting's exposure (callers run this inside `write_tx`); a sitting already
/// recorded is left as it is. Returns whether it wrote.
///
/// The sitting's row is the claim: of two sweeps recording the same sitting at once (the dated
/// sweep and a caller; on PostgreSQL they do not queue as SQLite's writers do) the second
/// inserts nothing, once the first has committed, and writes no item rows.
pub fn record(conn: &mut DbConn, sitting_id: SittingId, papers: i32, rows: &[ExposureRow], now: Ts) -> QueryResult<bool> {
    let claimed = crate::per_backend!(&mut *conn, |c| diesel::insert_into(sitting_exposure::table)
        .values((sitting_exposure::sitting_id.eq(sitting_id), sitting_exposure::papers.eq(papers), sitting_exposure::recorded_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c))?;
    if claimed == 0 {
        return Ok(false);
    }
    for chunk in rows.chunks(300) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(item_exposure::table).values(chunk).execute(c))?;
    }
    Ok(true)
}

/// Recorded papers per version over every recorded sitting: (version, papers, sittings).
pub fn totals(conn: &mut DbConn) -> QueryResult<Vec<(VersionId, i64, i64)>> {
    let rows: Vec<(VersionId, Option<i64>, i64)> = item_exposure::table
        .group_by(item_exposure::question_version_id)
        .select((item_exposure::question_version_id, diesel::dsl::sum(item_exposure::papers), diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(v, p, s)| (v, p.unwrap_or(0), s)).collect())
}

/// The recorded exposure of one sitting.
pub fn of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<ExposureRow>> {
    item_exposure::table
        .filter(item_exposure::sitting_id.eq(sitting_id))
        .order(item_exposure::question_version_id)
        .select(ExposureRow::as_select())
        .load(conn)
}

/// The recorded exposure of some versions, per sitting: (version, sitting, papers).
pub fn of_versions(conn: &mut DbConn, versions: &[VersionId]) -> QueryResult<Vec<ExposureRow>> {
    item_exposure::table
        .filter(item_exposure::question_version_id.eq_any(versions))
        .order((item_exposure::question_version_id, item_exposure::sitting_id))
        .select(ExposureRow::as_select())
        .load(conn)
}

/// Papers of the given sittings that hold version `v`, per sitting: (sitting, papers). Matches
/// the stored paper JSON (`{"v":ID,...}`, as `domain::paper::PaperItem` serialises) in SQL, so
/// no paper is parsed.
pub fn papers_holding(conn: &mut DbConn, sittings: &[SittingId], v: VersionId) -> QueryResult<Vec<(SittingId, i64)>> {
    attempts::table
        .filter(attempts::sitting_id.eq_any(sittings))
        .filter(attempts::paper.like(format!("%\"v\":{v},%")))
        .group_by(attempts::sitting_id)
        .select((attempts::sitting_id, diesel::dsl::count_star()))
        .load(conn)
}
