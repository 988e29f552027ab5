//! Challenges (复核) against questions of a sitting, and the key adjustments upheld ones make.

use std::collections::HashMap;

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{challenges, key_adjustments};
use crate::db::DbConn;
use crate::domain::challenge::{ChallengeStatus, Resolution};
use crate::domain::grading::Adjustment;
use crate::domain::ids::{AttemptId, ChallengeId, SittingId, UserId, VersionId};

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = challenges)]
pub struct Challenge {
    pub id: ChallengeId,
    pub attempt_id: AttemptId,
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub question_version_id: VersionId,
    pub article: String,
    pub reason: String,
    pub created_at: Ts,
    #[diesel(deserialize_as = String)]
    pub status: ChallengeStatus,
    #[diesel(deserialize_as = super::MaybeWord)]
    pub resolution: Option<Resolution>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<Ts>,
    pub decision_reason: Option<String>,
}

pub struct NewChallenge<'a> {
    pub attempt_id: AttemptId,
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub question_version_id: VersionId,
    pub article: &'a str,
    pub reason: &'a str,
}

/// Files a challenge; `None` when this candidate already challenged this question.
pub fn insert(conn: &mut DbConn, c: &NewChallenge<'_>, now: Ts) -> QueryResult<Option<ChallengeId>> {
    let values = (
        challenges::attempt_id.eq(c.attempt_id),
        challenges::sitting_id.eq(c.sitting_id),
        challenges::user_id.eq(c.user_id),
        challenges::question_version_id.eq(c.question_version_id),
        challenges::article.eq(c.article),
        challenges::reason.eq(c.reason),
        challenges::created_at.eq(now),
        challenges::status.eq(ChallengeStatus::Open.as_str()),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(challenges::table)
        .values(values)
        .on_conflict((challenges::attempt_id, challenges::question_version_id))
        .do_nothing()
        .returning(challenges::id)
        .get_result(c)
        .optional())
}

pub fn find(conn: &mut DbConn, id: ChallengeId) -> QueryResult<Option<Challenge>> {
    challenges::table.find(id).select(Challenge::as_select()).get_result(conn).optional()
}

pub fn of_attempt(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<Vec<Challenge>> {
    challenges::table.filter(challenges::attempt_id.eq(attempt_id)).order(challenges::id).select(Challenge::as_select()).load(conn)
}

/// Every challenge, newest first; only open ones when `open_only`.
pub fn list(conn: &mut DbConn, open_only: bool) -> QueryResult<Vec<Challenge>> {
    let mut q = challenges::table.select(Challenge::as_select()).order(challenges::id.desc()).into_boxed();
    if open_only {
        q = q.filter(challenges::status.eq(ChallengeStatus::Open.as_str()));
    }
    q.load(conn)
}

/// Other open challenges on the same question in the same sitting (decided together).
pub fn open_on(conn: &mut DbConn, sitting_id: SittingId, version_id: VersionId) -> QueryResult<Vec<Challenge>> {
    challenges::table
        .filter(challenges::sitting_id.eq(sitting_id))
        .filter(challenges::question_version_id.eq(version_id))
        .filter(challenges::status.eq(ChallengeStatus::Open.as_str()))
        .select(Challenge::as_select())
        .load(conn)
}

/// Records a decision on an open challenge; false if it was decided meanwhile.
pub fn decide(
    conn: &mut DbConn,
    id: ChallengeId,
    new_status: ChallengeStatus,
    resolution: Option<&Resolution>,
    by: UserId,
    reason: &str,
    now: Ts,
) -> QueryResult<bool> {
    let n = diesel::update(challenges::table.find(id).filter(challenges::status.eq(ChallengeStatus::Open.as_str())))
        .set((
            challenges::status.eq(new_status.as_str()),
            challenges::resolution.eq(resolution.map(Resolution::to_string)),
            challenges::decided_by.eq(Some(by)),
            challenges::decided_at.eq(Some(now)),
            challenges::decision_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The adjustments in force for a sitting, by question version.
pub fn adjustments_of(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<HashMap<VersionId, Adjustment>> {
    let rows: Vec<(VersionId, String, bool)> = key_adjustments::table
        .filter(key_adjustments::sitting_id.eq(sitting_id))
        .select((key_adjustments::question_version_id, key_adjustments::also_accepted, key_adjustments::voided))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(v, acc, voided)| (v, Adjustment { also_accepted: serde_json::from_str(&acc).unwrap_or_default(), voided }))
        .collect())
}

/// Stores the adjustment for one question of a sitting (replacing an earlier one).
pub fn set_adjustment(
    conn: &mut DbConn,
    sitting_id: SittingId,
    version_id: VersionId,
    a: &Adjustment,
    challenge_id: ChallengeId,
    now: Ts,
) -> QueryResult<()> {
    diesel::delete(
        key_adjustments::table
            .filter(key_adjustments::sitting_id.eq(sitting_id))
            .filter(key_adjustments::question_version_id.eq(version_id)),
    )
    .execute(conn)?;
    diesel::insert_into(key_adjustments::table)
        .values((
            key_adjustments::sitting_id.eq(sitting_id),
            key_adjustments::question_version_id.eq(version_id),
            key_adjustments::also_accepted.eq(serde_json::to_string(&a.also_accepted).expect("json")),
            key_adjustments::voided.eq(a.voided),
            key_adjustments::challenge_id.eq(Some(challenge_id)),
            key_adjustments::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
