//! Stored item analysis of closed sittings (computed by `services::item_analysis`).

use std::collections::HashMap;

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{item_stats, sitting_stats};
use crate::db::DbConn;
use crate::domain::ids::{QuestionId, SittingId, VersionId};

#[derive(Clone, Debug, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = item_stats)]
pub struct ItemStatRow {
    pub sitting_id: SittingId,
    pub question_version_id: VersionId,
    pub question_id: QuestionId,
    pub n: i32,
    pub facility: f64,
    pub discrimination: Option<f64>,
    pub flagged: bool,
    /// The full `domain::item_stats::ItemStats` as JSON.
    pub detail: String,
}

/// Replaces a sitting's stored analysis.
pub fn replace(conn: &mut DbConn, sitting_id: SittingId, rows: &[ItemStatRow], sitting_detail: &str, now: Ts) -> QueryResult<()> {
    diesel::delete(item_stats::table.filter(item_stats::sitting_id.eq(sitting_id))).execute(conn)?;
    diesel::delete(sitting_stats::table.find(sitting_id)).execute(conn)?;
    for chunk in rows.chunks(200) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(item_stats::table).values(chunk).execute(c))?;
    }
    diesel::insert_into(sitting_stats::table)
        .values((sitting_stats::sitting_id.eq(sitting_id), sitting_stats::detail.eq(sitting_detail), sitting_stats::computed_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

pub fn sitting_detail(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Option<(String, Ts)>> {
    sitting_stats::table.find(sitting_id).select((sitting_stats::detail, sitting_stats::computed_at)).get_result(conn).optional()
}

pub fn items_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<ItemStatRow>> {
    item_stats::table.filter(item_stats::sitting_id.eq(sitting_id)).order(item_stats::facility).select(ItemStatRow::as_select()).load(conn)
}

pub fn of_question(conn: &mut DbConn, question_id: QuestionId) -> QueryResult<Vec<ItemStatRow>> {
    item_stats::table
        .filter(item_stats::question_id.eq(question_id))
        .order(item_stats::sitting_id.desc())
        .select(ItemStatRow::as_select())
        .load(conn)
}

/// Sittings that have an analysis.
pub fn analysed_sittings(conn: &mut DbConn) -> QueryResult<Vec<SittingId>> {
    sitting_stats::table.select(sitting_stats::sitting_id).load(conn)
}

/// Per question version: facility pooled over every analysed sitting (weighted by responses),
/// what parallel papers match difficulty on.
pub fn pooled_facility(conn: &mut DbConn) -> QueryResult<HashMap<VersionId, f64>> {
    let rows: Vec<(VersionId, i32, f64)> =
        item_stats::table.select((item_stats::question_version_id, item_stats::n, item_stats::facility)).load(conn)?;
    let mut acc: HashMap<VersionId, (f64, f64)> = HashMap::new();
    for (v, n, f) in rows {
        let e = acc.entry(v).or_default();
        e.0 += f * n as f64;
        e.1 += n as f64;
    }
    Ok(acc.into_iter().filter(|(_, (_, n))| *n > 0.0).map(|(v, (s, n))| (v, s / n)).collect())
}
