//! Stored Rasch calibration of the bank, one row per question version (computed by
//! `services::calibration`), and the graded responses it is computed from.

use diesel::prelude::*;

use crate::db::schema::{attempts, item_calibrations, responses};
use crate::db::DbConn;
use crate::domain::ids::{AttemptId, QuestionId, UnitId, UserId, VersionId};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = item_calibrations)]
pub struct CalibrationRow {
    #[schema(value_type = i64)]
    pub question_version_id: VersionId,
    #[schema(value_type = i64)]
    pub question_id: QuestionId,
    /// Logits; higher is harder. Anchored rows keep the previous run's value.
    pub difficulty: f64,
    /// Standard error of the difficulty (logits).
    pub se: f64,
    /// Graded responses behind the estimate.
    pub n: i32,
    /// Infit mean square (None for an item everyone got right or wrong).
    pub infit: Option<f64>,
    /// Outfit mean square.
    pub outfit: Option<f64>,
    /// Comma-separated flags: misfit, overfit, all_correct, all_wrong, drift, key_suspected.
    pub flags: String,
    pub anchored: bool,
    #[serde(with = "crate::timefmt")]
    pub calibrated_at: chrono::NaiveDateTime,
}

/// Every stored calibration row, by question version.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<CalibrationRow>> {
    item_calibrations::table.order(item_calibrations::question_version_id).select(CalibrationRow::as_select()).load(conn)
}

/// Whether any calibration row is stored.
pub fn any(conn: &mut DbConn) -> QueryResult<bool> {
    Ok(item_calibrations::table.select(item_calibrations::question_version_id).first::<i64>(conn).optional()?.is_some())
}

/// Replaces the whole stored calibration (callers run this inside `write_tx`).
pub fn replace_all(conn: &mut DbConn, rows: &[CalibrationRow]) -> QueryResult<()> {
    diesel::delete(item_calibrations::table).execute(conn)?;
    for chunk in rows.chunks(200) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(item_calibrations::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// A graded attempt: (attempt id, frozen paper JSON, per-item scores in hundredths).
pub fn graded_attempts(conn: &mut DbConn) -> QueryResult<Vec<(AttemptId, String, String)>> {
    attempts::table
        .filter(attempts::submitted_at.is_not_null())
        .filter(attempts::item_scores.is_not_null())
        .order(attempts::id)
        .select((attempts::id, attempts::paper, attempts::item_scores.assume_not_null()))
        .load(conn)
}

/// The options every graded attempt chose: (attempt id, question version id, choices).
pub fn graded_choices(conn: &mut DbConn) -> QueryResult<Vec<(AttemptId, VersionId, String)>> {
    responses::table
        .inner_join(attempts::table)
        .filter(attempts::submitted_at.is_not_null())
        .filter(attempts::item_scores.is_not_null())
        .select((responses::attempt_id, responses::question_version_id, responses::choices))
        .load(conn)
}

/// Answer keys and question ids of the given versions: version id → (question id, key).
pub fn keys_of(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<std::collections::HashMap<VersionId, (QuestionId, String)>> {
    use crate::db::schema::{answer_keys, question_versions};
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(VersionId, QuestionId, String)> = question_versions::table
            .inner_join(answer_keys::table.on(answer_keys::question_version_id.eq(question_versions::id)))
            .filter(question_versions::id.eq_any(chunk))
            .select((question_versions::id, question_versions::question_id, answer_keys::answer))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(v, q, k)| (v, (q, k))));
    }
    Ok(out)
}

/// Stored difficulties (logits) of the given versions that have been calibrated.
pub fn difficulties_of(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<std::collections::HashMap<VersionId, f64>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(VersionId, f64)> = item_calibrations::table
            .filter(item_calibrations::question_version_id.eq_any(chunk))
            .select((item_calibrations::question_version_id, item_calibrations::difficulty))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Stored calibration rows of the given versions, by version.
pub fn rows_of(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<std::collections::HashMap<VersionId, CalibrationRow>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<CalibrationRow> = item_calibrations::table
            .filter(item_calibrations::question_version_id.eq_any(chunk))
            .select(CalibrationRow::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.question_version_id, r)));
    }
    Ok(out)
}

/// Stored calibration rows of the given questions (every version), by question.
pub fn rows_of_questions(conn: &mut DbConn, ids: &[QuestionId]) -> QueryResult<std::collections::HashMap<QuestionId, Vec<CalibrationRow>>> {
    let mut out: std::collections::HashMap<QuestionId, Vec<CalibrationRow>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<CalibrationRow> = item_calibrations::table
            .filter(item_calibrations::question_id.eq_any(chunk))
            .order(item_calibrations::question_version_id)
            .select(CalibrationRow::as_select())
            .load(conn)?;
        for r in rows {
            out.entry(r.question_id).or_default().push(r);
        }
    }
    Ok(out)
}

/// Who sat each graded attempt: (attempt id, user id, the user's 警种, the user's unit id).
pub fn graded_attempt_people(conn: &mut DbConn) -> QueryResult<Vec<(AttemptId, UserId, String, UnitId)>> {
    use crate::db::schema::users;
    attempts::table
        .inner_join(users::table.on(users::id.eq(attempts::user_id)))
        .filter(attempts::submitted_at.is_not_null())
        .filter(attempts::item_scores.is_not_null())
        .select((attempts::id, users::id, users::police_type, users::unit_id))
        .load(conn)
}
