use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{attempts, blueprints, responses, sittings, users};
use crate::db::DbConn;
use crate::domain::bank::Level;
use crate::domain::exam::{Release, SittingKind, SubmitKind};
use crate::domain::grading::MultiRule;
use crate::domain::ids::{AttemptId, BlueprintId, ExamPlanId, SittingId, UnitId, UserId, VersionId};

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = blueprints)]
pub struct Blueprint {
    pub id: BlueprintId,
    pub name: String,
    pub spec: String,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
}

pub fn insert_blueprint(conn: &mut DbConn, name: &str, spec_json: &str, by: Option<UserId>, now: Ts) -> QueryResult<BlueprintId> {
    diesel::insert_into(blueprints::table)
        .values((blueprints::name.eq(name), blueprints::spec.eq(spec_json), blueprints::created_by.eq(by), blueprints::created_at.eq(now)))
        .returning(blueprints::id)
        .get_result(conn)
}

pub fn list_blueprints(conn: &mut DbConn) -> QueryResult<Vec<Blueprint>> {
    blueprints::table.order(blueprints::id.desc()).select(Blueprint::as_select()).load(conn)
}

pub fn find_blueprint(conn: &mut DbConn, id: BlueprintId) -> QueryResult<Option<Blueprint>> {
    blueprints::table.find(id).select(Blueprint::as_select()).get_result(conn).optional()
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = sittings)]
pub struct Sitting {
    pub id: SittingId,
    pub title: String,
    #[diesel(deserialize_as = String)]
    pub kind: SittingKind,
    pub blueprint_id: BlueprintId,
    pub opens_at: Ts,
    pub closes_at: Ts,
    pub duration_minutes: i32,
    pub pass_percent: i32,
    #[diesel(deserialize_as = String)]
    pub multi_rule: MultiRule,
    #[diesel(deserialize_as = String)]
    pub score_release: Release,
    #[diesel(deserialize_as = String)]
    pub answer_release: Release,
    pub eligibility: String,
    #[serde(skip)]
    pub pool: String,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
    /// Days after closing during which candidates may challenge a question.
    pub challenge_days: i32,
    /// The certification level this sitting examines, if any: passing issues a certificate.
    #[diesel(deserialize_as = super::MaybeWord)]
    pub cert_level: Option<Level>,
    /// `domain::exam_room::RoomControls` as JSON.
    pub controls: String,
    pub plan_id: Option<ExamPlanId>,
    pub makeup_of: Option<SittingId>,
    pub absences_recorded: bool,
    /// Results are in the training files (see `services::training`).
    pub filed: bool,
    /// Candidates were reminded before it opened.
    pub reminded: bool,
    /// SHA-256 of `pool` ('' = not known): prepared papers count only while theirs matches.
    pub pool_hash: String,
}

#[derive(Insertable)]
#[diesel(table_name = sittings)]
pub struct NewSitting {
    pub title: String,
    pub kind: String,
    pub blueprint_id: BlueprintId,
    pub opens_at: Ts,
    pub closes_at: Ts,
    pub duration_minutes: i32,
    pub pass_percent: i32,
    pub multi_rule: String,
    pub score_release: String,
    pub answer_release: String,
    pub eligibility: String,
    pub pool: String,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
    pub cert_level: Option<String>,
    pub controls: String,
    pub plan_id: Option<ExamPlanId>,
    pub makeup_of: Option<SittingId>,
    pub pool_hash: String,
}

pub fn insert_sitting(conn: &mut DbConn, s: &NewSitting) -> QueryResult<SittingId> {
    diesel::insert_into(sittings::table).values(s).returning(sittings::id).get_result(conn)
}

pub fn find_sitting(conn: &mut DbConn, id: SittingId) -> QueryResult<Option<Sitting>> {
    sittings::table.find(id).select(Sitting::as_select()).get_result(conn).optional()
}

/// Writes a sitting's pool (a re-freeze) with its hash; the database drops the papers prepared
/// from the old pool (trigger `sittings_pool_changed`).
pub fn set_pool(conn: &mut DbConn, id: SittingId, pool: &str, pool_hash: &str) -> QueryResult<bool> {
    diesel::update(sittings::table.find(id)).set((sittings::pool.eq(pool), sittings::pool_hash.eq(pool_hash))).execute(conn).map(|n| n == 1)
}

/// Records the hash of a pool frozen before hashes were kept, unless the pool changed meanwhile.
pub fn set_unknown_pool_hash(conn: &mut DbConn, id: SittingId, pool: &str, pool_hash: &str) -> QueryResult<bool> {
    diesel::update(sittings::table.find(id).filter(sittings::pool_hash.eq("")).filter(sittings::pool.eq(pool)))
        .set(sittings::pool_hash.eq(pool_hash))
        .execute(conn)
        .map(|n| n == 1)
}

/// Ids of the sittings opening after `from` and no later than `to`.
pub fn sittings_opening_between(conn: &mut DbConn, from: Ts, to: Ts) -> QueryResult<Vec<SittingId>> {
    sittings::table
        .filter(sittings::opens_at.gt(from))
        .filter(sittings::opens_at.le(to))
        .order(sittings::opens_at)
        .select(sittings::id)
        .load(conn)
}

/// The candidates who have started the sitting.
pub fn started_users(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<UserId>> {
    attempts::table.filter(attempts::sitting_id.eq(sitting_id)).select(attempts::user_id).load(conn)
}

/// Sittings whose window has not closed before `since`, newest first.
pub fn list_sittings(conn: &mut DbConn) -> QueryResult<Vec<Sitting>> {
    sittings::table.order(sittings::opens_at.desc()).select(Sitting::as_select()).load(conn)
}

pub fn sittings_closing_after(conn: &mut DbConn, t: Ts) -> QueryResult<Vec<Sitting>> {
    sittings::table.filter(sittings::closes_at.gt(t)).order(sittings::opens_at).select(Sitting::as_select()).load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = attempts)]
pub struct Attempt {
    pub id: AttemptId,
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub seed: i64,
    #[serde(skip)]
    pub paper: String,
    pub started_at: Ts,
    pub deadline: Ts,
    pub last_saved_at: Option<Ts>,
    pub submitted_at: Option<Ts>,
    #[diesel(deserialize_as = super::MaybeWord)]
    pub submit_kind: Option<SubmitKind>,
    pub score_centi: Option<i64>,
    pub max_centi: i64,
    pub passed: Option<bool>,
    #[serde(skip)]
    pub item_scores: Option<String>,
    /// Marked for the proctor (too many focus-loss events).
    pub flagged: bool,
    pub client_ip: Option<String>,
}

impl Attempt {
    /// The points (centi) of each item of the paper, in paper order; empty before grading.
    pub fn item_scores_vec(&self) -> Vec<i64> {
        self.item_scores.as_deref().unwrap_or("").split(',').filter_map(|x| x.parse().ok()).collect()
    }
}

#[derive(Insertable)]
#[diesel(table_name = attempts)]
pub struct NewAttempt {
    pub sitting_id: SittingId,
    pub user_id: UserId,
    pub seed: i64,
    pub paper: String,
    pub started_at: Ts,
    pub deadline: Ts,
    pub max_centi: i64,
}

/// Inserts the attempt unless one exists for this candidate and sitting (the unique constraint
/// decides under races); returns the attempt that is now stored and whether it is new.
pub fn insert_or_get_attempt(conn: &mut DbConn, a: &NewAttempt) -> QueryResult<(Attempt, bool)> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(attempts::table)
        .values(a)
        .on_conflict((attempts::sitting_id, attempts::user_id))
        .do_nothing()
        .execute(c))?;
    let stored = find_attempt_for(conn, a.sitting_id, a.user_id)?.ok_or(diesel::result::Error::NotFound)?;
    Ok((stored, inserted == 1))
}

pub fn find_attempt_for(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> QueryResult<Option<Attempt>> {
    attempts::table
        .filter(attempts::sitting_id.eq(sitting_id))
        .filter(attempts::user_id.eq(user_id))
        .select(Attempt::as_select())
        // one attempt per candidate and sitting: no LIMIT, which SQLite re-prepares every run
        .get_result(conn)
        .optional()
}

pub fn find_attempt(conn: &mut DbConn, id: AttemptId) -> QueryResult<Option<Attempt>> {
    attempts::table.find(id).select(Attempt::as_select()).get_result(conn).optional()
}

/// Whether an attempt takes a save that arrived at a given time, and if not, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveGate {
    Open,
    Submitted,
    DeadlinePassed,
    NoSuchAttempt,
}

/// Whether a save arriving at `now` may be stored, read in one statement with the reason when
/// it may not. On PostgreSQL the read takes the attempt's row lock (`FOR UPDATE`), so a
/// concurrent submission waits for this save; on SQLite the caller already holds the only
/// write lock, so a plain read suffices and saves write no page of `attempts`.
pub fn save_gate(conn: &mut DbConn, id: AttemptId, now: Ts) -> QueryResult<SaveGate> {
    let q = attempts::table.find(id).select((attempts::submitted_at, attempts::deadline));
    let row: Option<(Option<Ts>, Ts)> = match conn {
        // by primary key, so no LIMIT: SQLite re-prepares a statement whose LIMIT is a bound
        // parameter every time it runs
        DbConn::Sqlite(c) => q.get_result(c).optional()?,
        DbConn::Pg(c) => q.for_update().get_result(c).optional()?,
    };
    Ok(match row {
        None => SaveGate::NoSuchAttempt,
        Some((Some(_), _)) => SaveGate::Submitted,
        Some((None, deadline)) if deadline <= now => SaveGate::DeadlinePassed,
        Some(_) => SaveGate::Open,
    })
}

/// Stores an answer; `flagged: None` keeps the flag as it was (false for a new row).
pub fn upsert_response(
    conn: &mut DbConn,
    attempt_id: AttemptId,
    version_id: VersionId,
    choices: &str,
    flagged: Option<bool>,
    now: Ts,
) -> QueryResult<()> {
    let upsert =
        SaveUpsert { attempt_id, version_id, choices, flag: flagged.unwrap_or(false), set_flag: flagged.is_some(), at: now, gated: false };
    crate::per_backend!(conn, |c| upsert.execute(c)).map(|_| ())
}

/// Stores an answer if its attempt takes it (`save_gate`), in the writer's transaction; the gate
/// as found. On SQLite the check and the upsert are one statement (`INSERT … SELECT … WHERE
/// EXISTS`), the reason read only when it stored nothing: the writer holds the only write lock,
/// so nothing changes between the two. On PostgreSQL the gate takes the attempt's row lock first.
pub fn store_response_if_open(
    conn: &mut DbConn,
    attempt_id: AttemptId,
    version_id: VersionId,
    choices: &str,
    flagged: Option<bool>,
    now: Ts,
) -> QueryResult<SaveGate> {
    if let DbConn::Sqlite(c) = conn {
        let upsert = SaveUpsert {
            attempt_id,
            version_id,
            choices,
            flag: flagged.unwrap_or(false),
            set_flag: flagged.is_some(),
            at: now,
            gated: true,
        };
        if upsert.execute(c)? == 1 {
            return Ok(SaveGate::Open);
        }
    }
    let gate = save_gate(conn, attempt_id, now)?;
    if gate == SaveGate::Open {
        upsert_response(conn, attempt_id, version_id, choices, flagged, now)?;
    }
    Ok(gate)
}

/// The answer upsert as one fixed statement. Diesel never keeps an `ON CONFLICT … DO UPDATE`
/// prepared (its SET clause may vary with the values), so SQLite parsed and planned it on every
/// save, a sixth of the save path's CPU; written out here, its text depends only on whether the
/// flag is set, and the connection's statement cache keeps both forms.
#[derive(Debug, Clone, Copy)]
struct SaveUpsert<'a> {
    attempt_id: AttemptId,
    version_id: VersionId,
    choices: &'a str,
    /// The flag stored for a new row; an existing row's is overwritten only with `set_flag`.
    flag: bool,
    set_flag: bool,
    at: Ts,
    /// Stored only if the attempt is unsubmitted and its deadline after `at` (`save_gate`).
    gated: bool,
}

/// No static id: the cache keys the statement by its text, of which there are four.
impl diesel::query_builder::QueryId for SaveUpsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for SaveUpsert<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Bool>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    bool: diesel::serialize::ToSql<diesel::sql_types::Bool, DB>,
    Ts: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
        out.push_sql("INSERT INTO responses (attempt_id, question_version_id, choices, flagged, saved_at) ");
        out.push_sql(if self.gated { "SELECT " } else { "VALUES (" });
        out.push_bind_param::<BigInt, _>(&self.attempt_id.0)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.version_id.0)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.choices)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&self.flag)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        if self.gated {
            // (a WHERE is also what lets SQLite parse ON CONFLICT after a SELECT)
            out.push_sql(" WHERE EXISTS (SELECT 1 FROM attempts WHERE id = ");
            out.push_bind_param::<BigInt, _>(&self.attempt_id.0)?;
            out.push_sql(" AND submitted_at IS NULL AND deadline > ");
            out.push_bind_param::<Timestamp, _>(&self.at)?;
            out.push_sql(")");
        } else {
            out.push_sql(")");
        }
        out.push_sql(
            " ON CONFLICT (attempt_id, question_version_id) DO UPDATE SET choices = excluded.choices, saved_at = excluded.saved_at",
        );
        if self.set_flag {
            out.push_sql(", flagged = excluded.flagged");
        }
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for SaveUpsert<'_> {}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = responses)]
pub struct Response {
    pub attempt_id: AttemptId,
    pub question_version_id: VersionId,
    pub choices: String,
    pub flagged: bool,
    pub saved_at: Ts,
}

pub fn responses_of(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<Vec<Response>> {
    responses::table.filter(responses::attempt_id.eq(attempt_id)).select(Response::as_select()).load(conn)
}

pub fn find_response(conn: &mut DbConn, attempt_id: AttemptId, version_id: VersionId) -> QueryResult<Option<Response>> {
    responses::table.find((attempt_id, version_id)).select(Response::as_select()).get_result(conn).optional()
}

/// Marks the attempt submitted, once: returns false if it was already submitted.
pub fn claim_submission(conn: &mut DbConn, id: AttemptId, at: Ts, kind: SubmitKind) -> QueryResult<bool> {
    let n = diesel::update(attempts::table.find(id).filter(attempts::submitted_at.is_null()))
        .set((attempts::submitted_at.eq(at), attempts::submit_kind.eq(kind.as_str())))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn store_grade(conn: &mut DbConn, id: AttemptId, score: i64, max: i64, passed: bool, item_scores: &str) -> QueryResult<()> {
    diesel::update(attempts::table.find(id))
        .set((
            attempts::score_centi.eq(score),
            attempts::max_centi.eq(max),
            attempts::passed.eq(passed),
            attempts::item_scores.eq(item_scores),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Open attempts whose deadline has passed.
pub fn overdue_attempts(conn: &mut DbConn, now: Ts, limit: i64) -> QueryResult<Vec<AttemptId>> {
    attempts::table
        .filter(attempts::submitted_at.is_null())
        .filter(attempts::deadline.le(now))
        .order(attempts::deadline)
        .limit(limit)
        .select(attempts::id)
        .load(conn)
}

/// Attempts started and not submitted whose deadline is still ahead.
pub fn count_open_attempts(conn: &mut DbConn, now: Ts) -> QueryResult<i64> {
    attempts::table.filter(attempts::submitted_at.is_null()).filter(attempts::deadline.gt(now)).count().get_result(conn)
}

/// The earliest deadline among unsubmitted attempts whose deadline has passed: how far the
/// deadline sweeper is behind.
pub fn oldest_overdue_deadline(conn: &mut DbConn, now: Ts) -> QueryResult<Option<Ts>> {
    attempts::table
        .filter(attempts::submitted_at.is_null())
        .filter(attempts::deadline.le(now))
        .select(diesel::dsl::min(attempts::deadline))
        .first(conn)
}

/// A sitting's attempts with the candidate's badge, name and unit id.
pub fn attempts_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Vec<(Attempt, String, String, UnitId)>> {
    attempts::table
        .inner_join(users::table)
        .filter(attempts::sitting_id.eq(sitting_id))
        .order(users::badge)
        .select((Attempt::as_select(), users::badge, users::name, users::unit_id))
        .load(conn)
}

/// A candidate's attempts with their sittings, newest first.
pub fn attempts_of_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<(Attempt, Sitting)>> {
    attempts::table
        .inner_join(sittings::table)
        .filter(attempts::user_id.eq(user_id))
        .order(attempts::started_at.desc())
        .select((Attempt::as_select(), Sitting::as_select()))
        .load(conn)
}

/// The caller's unsubmitted attempts still inside their deadline in sittings that are not
/// mock exams (exam mode), with their sittings.
pub fn open_graded_attempts(conn: &mut DbConn, user_id: UserId, now: Ts) -> QueryResult<Vec<(Attempt, Sitting)>> {
    attempts::table
        .inner_join(sittings::table)
        .filter(attempts::user_id.eq(user_id))
        .filter(attempts::submitted_at.is_null())
        .filter(attempts::deadline.gt(now))
        .filter(sittings::kind.ne("mock"))
        .select((Attempt::as_select(), Sitting::as_select()))
        .load(conn)
}

/// Pools of bimonthly and certification sittings (many candidates) that open before `horizon`
/// and have not closed at `now`.
pub fn pools_in_use(conn: &mut DbConn, now: Ts, horizon: Ts) -> QueryResult<Vec<String>> {
    sittings::table
        .filter(sittings::kind.eq_any(["bimonthly", "certification"]))
        .filter(sittings::opens_at.le(horizon))
        .filter(sittings::closes_at.gt(now))
        .select(sittings::pool)
        .load(conn)
}

pub fn count_attempts(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<i64> {
    attempts::table.filter(attempts::sitting_id.eq(sitting_id)).count().get_result(conn)
}

/// How many attempts each sitting has (sittings without any are absent): one query for a list.
pub fn attempt_counts(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<SittingId, i64>> {
    let rows: Vec<(SittingId, i64)> =
        attempts::table.group_by(attempts::sitting_id).select((attempts::sitting_id, diesel::dsl::count_star())).load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Claims the sitting's reminder: true for the one caller that marks it (of several app
/// servers at once, the others find it marked and send nothing).
pub fn claim_reminder(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<bool> {
    diesel::update(sittings::table.find(sitting_id).filter(sittings::reminded.eq(false)))
        .set(sittings::reminded.eq(true))
        .execute(conn)
        .map(|n| n == 1)
}

/// Claims the recording of the sitting's absences (as [`claim_reminder`]).
pub fn claim_absences(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<bool> {
    diesel::update(sittings::table.find(sitting_id).filter(sittings::absences_recorded.eq(false)))
        .set(sittings::absences_recorded.eq(true))
        .execute(conn)
        .map(|n| n == 1)
}
