//! Standard setting (modified Angoff studies and their ratings), the cut each certification
//! sitting decides with, and graded attempts' scores on the calibrated scale.

use diesel::prelude::*;

use crate::db::models::Ts;
use crate::db::schema::{scaled_scores, sitting_pass_rules, standard_ratings, standard_studies};
use crate::db::DbConn;
use crate::domain::bank::Level;
use crate::domain::ids::{AttemptId, BlueprintId, SittingId, StudyId, UserId};
use crate::domain::measurement::angoff::StudyStatus;
use crate::domain::measurement::scale::PassRule;

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = standard_studies)]
pub struct Study {
    pub id: StudyId,
    #[diesel(deserialize_as = String)]
    pub level: Level,
    pub blueprint_id: BlueprintId,
    /// JSON: `services::standards::FormItem` per item.
    pub form: String,
    pub round: i32,
    #[diesel(deserialize_as = String)]
    pub status: StudyStatus,
    pub opened_by: UserId,
    pub opened_at: Ts,
    pub cut: Option<f64>,
    pub cut_se: Option<f64>,
    pub theta: Option<f64>,
    pub theta_low: Option<f64>,
    pub theta_high: Option<f64>,
    pub closed_at: Option<Ts>,
    pub adopted_by: Option<UserId>,
    pub adopted_at: Option<Ts>,
}

#[derive(Insertable)]
#[diesel(table_name = standard_studies)]
pub struct NewStudy<'a> {
    pub level: &'a str,
    pub blueprint_id: BlueprintId,
    pub form: &'a str,
    pub round: i32,
    pub status: &'a str,
    pub opened_by: UserId,
    pub opened_at: Ts,
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = standard_ratings)]
pub struct RatingRow {
    pub study_id: StudyId,
    pub round: i32,
    pub rater_id: UserId,
    pub item: i32,
    pub p: f64,
    pub rated_at: Ts,
}

pub fn insert_study(conn: &mut DbConn, s: &NewStudy<'_>) -> QueryResult<StudyId> {
    diesel::insert_into(standard_studies::table).values(s).returning(standard_studies::id).get_result(conn)
}

pub fn find_study(conn: &mut DbConn, id: StudyId) -> QueryResult<Option<Study>> {
    standard_studies::table.find(id).select(Study::as_select()).get_result(conn).optional()
}

/// Every study, newest first.
pub fn studies(conn: &mut DbConn) -> QueryResult<Vec<Study>> {
    standard_studies::table.order(standard_studies::id.desc()).select(Study::as_select()).load(conn)
}

pub fn set_round(conn: &mut DbConn, id: StudyId, round: i32) -> QueryResult<usize> {
    diesel::update(standard_studies::table.find(id).filter(standard_studies::status.eq(StudyStatus::Open.as_str())))
        .set(standard_studies::round.eq(round))
        .execute(conn)
}

/// Closes an open study with the panel's cut (points, SE) and its place on the scale.
pub fn close_study(
    conn: &mut DbConn,
    id: StudyId,
    cut: f64,
    se: f64,
    theta: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    now: Ts,
) -> QueryResult<usize> {
    diesel::update(standard_studies::table.find(id).filter(standard_studies::status.eq(StudyStatus::Open.as_str())))
        .set((
            standard_studies::status.eq(StudyStatus::Closed.as_str()),
            standard_studies::cut.eq(cut),
            standard_studies::cut_se.eq(se),
            standard_studies::theta.eq(theta),
            standard_studies::theta_low.eq(low),
            standard_studies::theta_high.eq(high),
            standard_studies::closed_at.eq(now),
        ))
        .execute(conn)
}

/// Marks a closed study adopted; false when it was not closed (already adopted, or still open).
pub fn adopt_study(conn: &mut DbConn, id: StudyId, by: UserId, now: Ts) -> QueryResult<bool> {
    Ok(diesel::update(standard_studies::table.find(id).filter(standard_studies::status.eq(StudyStatus::Closed.as_str())))
        .set((
            standard_studies::status.eq(StudyStatus::Adopted.as_str()),
            standard_studies::adopted_by.eq(by),
            standard_studies::adopted_at.eq(now),
        ))
        .execute(conn)?
        == 1)
}

/// The study adopted most recently for `level`, if any.
pub fn adopted_for_level(conn: &mut DbConn, level: Level) -> QueryResult<Option<Study>> {
    standard_studies::table
        .filter(standard_studies::level.eq(level.as_str()))
        .filter(standard_studies::status.eq(StudyStatus::Adopted.as_str()))
        .filter(standard_studies::theta.is_not_null())
        .order((standard_studies::adopted_at.desc(), standard_studies::id.desc()))
        .select(Study::as_select())
        .first(conn)
        .optional()
}

/// Replaces one rater's ratings of a round (callers run this inside `write_tx`).
pub fn replace_ratings(conn: &mut DbConn, study: StudyId, round: i32, rater: UserId, rows: &[RatingRow]) -> QueryResult<()> {
    diesel::delete(
        standard_ratings::table
            .filter(standard_ratings::study_id.eq(study))
            .filter(standard_ratings::round.eq(round))
            .filter(standard_ratings::rater_id.eq(rater)),
    )
    .execute(conn)?;
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(standard_ratings::table).values(rows).execute(c))?;
    Ok(())
}

/// Every rating of a study, by round, rater and item.
pub fn ratings(conn: &mut DbConn, study: StudyId) -> QueryResult<Vec<RatingRow>> {
    standard_ratings::table
        .filter(standard_ratings::study_id.eq(study))
        .order((standard_ratings::round, standard_ratings::rater_id, standard_ratings::item))
        .select(RatingRow::as_select())
        .load(conn)
}

/// Fixes the cut a sitting decides with.
pub fn set_sitting_rule(conn: &mut DbConn, sitting: SittingId, study: StudyId, theta: f64) -> QueryResult<()> {
    diesel::insert_into(sitting_pass_rules::table)
        .values((sitting_pass_rules::sitting_id.eq(sitting), sitting_pass_rules::study_id.eq(study), sitting_pass_rules::theta.eq(theta)))
        .execute(conn)?;
    Ok(())
}

/// The cut (logits) and study a sitting decides with, if it has one.
pub fn sitting_rule(conn: &mut DbConn, sitting: SittingId) -> QueryResult<Option<(StudyId, f64)>> {
    sitting_pass_rules::table.find(sitting).select((sitting_pass_rules::study_id, sitting_pass_rules::theta)).get_result(conn).optional()
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = scaled_scores)]
pub struct ScaledScore {
    pub attempt_id: AttemptId,
    pub ability: Option<f64>,
    pub ability_se: Option<f64>,
    pub calibrated_items: i32,
    pub paper_items: i32,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub rule: PassRule,
    pub cut_theta: Option<f64>,
    pub raw_cut: Option<f64>,
    /// JSON: version id → difficulty (logits) used.
    #[serde(skip)]
    pub difficulties: String,
    #[serde(with = "crate::timefmt")]
    pub graded_at: Ts,
}

/// Stores (or replaces, at a regrade) an attempt's scaled score.
pub fn store_scaled(conn: &mut DbConn, row: &ScaledScore) -> QueryResult<()> {
    diesel::delete(scaled_scores::table.find(row.attempt_id)).execute(conn)?;
    diesel::insert_into(scaled_scores::table).values(row.clone()).execute(conn)?;
    Ok(())
}

pub fn scaled_of(conn: &mut DbConn, attempt: AttemptId) -> QueryResult<Option<ScaledScore>> {
    scaled_scores::table.find(attempt).select(ScaledScore::as_select()).get_result(conn).optional()
}

/// Scaled scores of several attempts, by attempt id.
pub fn scaled_of_many(conn: &mut DbConn, attempts: &[AttemptId]) -> QueryResult<std::collections::HashMap<AttemptId, ScaledScore>> {
    let mut out = std::collections::HashMap::new();
    for chunk in attempts.chunks(500) {
        let rows: Vec<ScaledScore> =
            scaled_scores::table.filter(scaled_scores::attempt_id.eq_any(chunk)).select(ScaledScore::as_select()).load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.attempt_id, r)));
    }
    Ok(out)
}
