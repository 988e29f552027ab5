//! Training files, remedial plans, practice and case evaluations.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{
    case_evaluations, practice_answers, practice_sessions, remedial_escalations, remedial_plans, remedial_reviews, training_entries,
};
use crate::db::DbConn;
use crate::domain::ids::{AttemptId, EntryId, EscalationId, PracticeId, RemedialPlanId, SittingId, UnitId, UserId, VersionId};
use crate::domain::remedial::{Stage, Status as PlanStatus, Trigger};
use crate::domain::training_file::EntryKind;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = training_entries)]
pub struct Entry {
    pub id: EntryId,
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub kind: EntryKind,
    pub occurred_on: chrono::NaiveDate,
    pub source: String,
    pub corrects_id: Option<EntryId>,
    pub data: String,
    pub note: String,
    pub recorded_by: Option<UserId>,
    pub recorded_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = training_entries)]
pub struct NewEntry<'a> {
    pub user_id: UserId,
    pub kind: &'a str,
    pub occurred_on: chrono::NaiveDate,
    pub source: &'a str,
    pub corrects_id: Option<EntryId>,
    pub data: &'a str,
    pub note: &'a str,
    pub recorded_by: Option<UserId>,
    pub recorded_at: Ts,
}

/// Appends an entry. Call inside `db::write_tx`. Entry ids are the HR feed's cursor, so they
/// must become visible in id order: on PostgreSQL `db::lock_appends` makes
/// appends one at a time (an id drawn later can then never commit earlier); SQLite has one
/// writer anyway.
pub fn append(conn: &mut DbConn, e: &NewEntry<'_>) -> QueryResult<EntryId> {
    crate::db::lock_appends(conn)?;
    diesel::insert_into(training_entries::table).values(e).returning(training_entries::id).get_result(conn)
}

pub fn entries_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<Entry>> {
    training_entries::table.filter(training_entries::user_id.eq(user_id)).order(training_entries::id).select(Entry::as_select()).load(conn)
}

pub fn entries_of_users(conn: &mut DbConn, users: &[UserId]) -> QueryResult<Vec<Entry>> {
    let mut out = Vec::new();
    for chunk in users.chunks(500) {
        out.extend(training_entries::table.filter(training_entries::user_id.eq_any(chunk)).select(Entry::as_select()).load(conn)?);
    }
    out.sort_by_key(|e| e.id);
    Ok(out)
}

pub fn find_entry(conn: &mut DbConn, id: EntryId) -> QueryResult<Option<Entry>> {
    training_entries::table.find(id).select(Entry::as_select()).get_result(conn).optional()
}

/// Entries after `after`, in order.
pub fn entries_after(conn: &mut DbConn, after: EntryId, limit: i64) -> QueryResult<Vec<Entry>> {
    training_entries::table
        .filter(training_entries::id.gt(after))
        .order(training_entries::id)
        .limit(limit)
        .select(Entry::as_select())
        .load(conn)
}

/// The latest entry of a kind from a source (for idempotent filing and for corrections).
pub fn latest_from(conn: &mut DbConn, source: &str, kind: EntryKind) -> QueryResult<Option<Entry>> {
    training_entries::table
        .filter(training_entries::source.eq(source))
        .filter(training_entries::kind.eq(kind.as_str()))
        .order(training_entries::id.desc())
        .select(Entry::as_select())
        .first(conn)
        .optional()
}

pub fn mark_sitting_filed(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<()> {
    use crate::db::schema::sittings;
    diesel::update(sittings::table.find(sitting_id)).set(sittings::filed.eq(true)).execute(conn).map(|_| ())
}

pub fn unfiled_closed_sittings(conn: &mut DbConn, now: Ts) -> QueryResult<Vec<super::exam::Sitting>> {
    use crate::db::schema::sittings;
    sittings::table
        .filter(sittings::filed.eq(false))
        .filter(sittings::closes_at.le(now))
        .order(sittings::closes_at)
        .select(super::exam::Sitting::as_select())
        .load(conn)
}

// ---- remedial plans ----

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = remedial_plans)]
pub struct RemedialPlan {
    pub id: RemedialPlanId,
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub trigger_kind: Trigger,
    pub reason: String,
    pub source_attempt_id: Option<AttemptId>,
    pub referred_by: Option<UserId>,
    /// JSON list of statute codes the practice and exam draw from.
    pub statutes: String,
    /// JSON list of question version ids to review.
    pub review_items: String,
    #[diesel(deserialize_as = String)]
    pub stage: Stage,
    #[diesel(deserialize_as = String)]
    pub status: PlanStatus,
    pub mastery_percent: i32,
    pub opened_at: Ts,
    pub deadline: Ts,
    pub exam_sitting_id: Option<SittingId>,
    pub exam_tries: i32,
    pub reminded_at: Option<Ts>,
    pub overdue_at: Option<Ts>,
    pub closed_at: Option<Ts>,
    pub outcome: Option<String>,
}

impl RemedialPlan {
    pub fn statutes_vec(&self) -> Vec<String> {
        serde_json::from_str(&self.statutes).unwrap_or_default()
    }
    pub fn review_vec(&self) -> Vec<VersionId> {
        serde_json::from_str(&self.review_items).unwrap_or_default()
    }
}

#[derive(Insertable)]
#[diesel(table_name = remedial_plans)]
pub struct NewRemedialPlan {
    pub user_id: UserId,
    pub trigger_kind: String,
    pub reason: String,
    pub source_attempt_id: Option<AttemptId>,
    pub referred_by: Option<UserId>,
    pub statutes: String,
    pub review_items: String,
    pub stage: String,
    pub status: String,
    pub mastery_percent: i32,
    pub opened_at: Ts,
    pub deadline: Ts,
    pub exam_tries: i32,
}

pub fn insert_plan(conn: &mut DbConn, p: &NewRemedialPlan) -> QueryResult<RemedialPlanId> {
    diesel::insert_into(remedial_plans::table).values(p).returning(remedial_plans::id).get_result(conn)
}

pub fn find_plan(conn: &mut DbConn, id: RemedialPlanId) -> QueryResult<Option<RemedialPlan>> {
    remedial_plans::table.find(id).select(RemedialPlan::as_select()).get_result(conn).optional()
}

pub fn plans_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<RemedialPlan>> {
    remedial_plans::table
        .filter(remedial_plans::user_id.eq(user_id))
        .order(remedial_plans::id.desc())
        .select(RemedialPlan::as_select())
        .load(conn)
}

pub fn open_plan_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Option<RemedialPlan>> {
    remedial_plans::table
        .filter(remedial_plans::user_id.eq(user_id))
        .filter(remedial_plans::status.eq("open"))
        .select(RemedialPlan::as_select())
        .first(conn)
        .optional()
}

pub fn all_plans(conn: &mut DbConn, open_only: bool) -> QueryResult<Vec<RemedialPlan>> {
    let mut q = remedial_plans::table.order(remedial_plans::id.desc()).select(RemedialPlan::as_select()).into_boxed();
    if open_only {
        q = q.filter(remedial_plans::status.eq("open"));
    }
    q.load(conn)
}

pub fn plan_for_exam(conn: &mut DbConn, sitting_id: SittingId) -> QueryResult<Option<RemedialPlan>> {
    remedial_plans::table.filter(remedial_plans::exam_sitting_id.eq(sitting_id)).select(RemedialPlan::as_select()).first(conn).optional()
}

pub fn set_stage(conn: &mut DbConn, id: RemedialPlanId, stage: &str) -> QueryResult<()> {
    diesel::update(remedial_plans::table.find(id)).set(remedial_plans::stage.eq(stage)).execute(conn).map(|_| ())
}

pub fn set_exam(conn: &mut DbConn, id: RemedialPlanId, sitting_id: SittingId, tries: i32) -> QueryResult<()> {
    diesel::update(remedial_plans::table.find(id))
        .set((remedial_plans::stage.eq("exam"), remedial_plans::exam_sitting_id.eq(sitting_id), remedial_plans::exam_tries.eq(tries)))
        .execute(conn)
        .map(|_| ())
}

pub fn close_plan(conn: &mut DbConn, id: RemedialPlanId, status: &str, outcome: &str, now: Ts) -> QueryResult<()> {
    diesel::update(remedial_plans::table.find(id))
        .set((
            remedial_plans::status.eq(status),
            remedial_plans::stage.eq("closed"),
            remedial_plans::outcome.eq(outcome),
            remedial_plans::closed_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Marks the plan reminded now if its last reminder is still `last` (as read): true for the one
/// caller that does, so of several app servers only one sends the reminder.
pub fn mark_reminded(conn: &mut DbConn, id: RemedialPlanId, last: Option<Ts>, now: Ts) -> QueryResult<bool> {
    let plan = remedial_plans::table.find(id);
    let n = match last {
        Some(t) => diesel::update(plan.filter(remedial_plans::reminded_at.eq(t))).set(remedial_plans::reminded_at.eq(now)).execute(conn)?,
        None => {
            diesel::update(plan.filter(remedial_plans::reminded_at.is_null())).set(remedial_plans::reminded_at.eq(now)).execute(conn)?
        }
    };
    Ok(n == 1)
}

/// Marks the plan overdue unless it is already: true for the one caller that does.
pub fn mark_overdue(conn: &mut DbConn, id: RemedialPlanId, now: Ts) -> QueryResult<bool> {
    diesel::update(remedial_plans::table.find(id).filter(remedial_plans::overdue_at.is_null()))
        .set(remedial_plans::overdue_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives a plan more time: a new deadline, reminders and the overdue mark start again; an
/// escalated (closed) plan opens again at targeted practice with its exam tries counted anew.
pub fn extend_plan(conn: &mut DbConn, id: RemedialPlanId, deadline: Ts, reopen: bool) -> QueryResult<()> {
    diesel::update(remedial_plans::table.find(id))
        .set((remedial_plans::deadline.eq(deadline), remedial_plans::overdue_at.eq(None::<Ts>), remedial_plans::reminded_at.eq(None::<Ts>)))
        .execute(conn)?;
    if reopen {
        diesel::update(remedial_plans::table.find(id))
            .set((
                remedial_plans::status.eq("open"),
                remedial_plans::stage.eq("practice"),
                remedial_plans::exam_tries.eq(0),
                remedial_plans::closed_at.eq(None::<Ts>),
                remedial_plans::outcome.eq(None::<String>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---- escalations ----

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = remedial_escalations)]
pub struct Escalation {
    pub id: EscalationId,
    pub plan_id: RemedialPlanId,
    /// The unit whose leaders it reached; None: HR.
    pub unit_id: Option<UnitId>,
    /// `overdue`, `failed` or `referred`.
    pub why: String,
    pub opened_at: Ts,
    /// `acknowledged`, `extended` or `referred`; None while it waits.
    pub action: Option<String>,
    pub action_by: Option<UserId>,
    pub action_at: Option<Ts>,
    pub action_reason: Option<String>,
    pub new_deadline: Option<Ts>,
}

pub fn insert_escalation(
    conn: &mut DbConn,
    plan_id: RemedialPlanId,
    unit_id: Option<UnitId>,
    why: &str,
    now: Ts,
) -> QueryResult<EscalationId> {
    diesel::insert_into(remedial_escalations::table)
        .values((
            remedial_escalations::plan_id.eq(plan_id),
            remedial_escalations::unit_id.eq(unit_id),
            remedial_escalations::why.eq(why),
            remedial_escalations::opened_at.eq(now),
        ))
        .returning(remedial_escalations::id)
        .get_result(conn)
}

pub fn find_escalation(conn: &mut DbConn, id: EscalationId) -> QueryResult<Option<Escalation>> {
    remedial_escalations::table.find(id).select(Escalation::as_select()).get_result(conn).optional()
}

pub fn escalations_of(conn: &mut DbConn, plan_id: RemedialPlanId) -> QueryResult<Vec<Escalation>> {
    remedial_escalations::table
        .filter(remedial_escalations::plan_id.eq(plan_id))
        .order(remedial_escalations::id)
        .select(Escalation::as_select())
        .load(conn)
}

/// Every escalation, newest first (waiting ones and those acted on).
pub fn all_escalations(conn: &mut DbConn) -> QueryResult<Vec<Escalation>> {
    remedial_escalations::table.order(remedial_escalations::id.desc()).select(Escalation::as_select()).load(conn)
}

/// Records what was done with an escalation; false when someone acted on it first.
pub fn act_on_escalation(
    conn: &mut DbConn,
    id: EscalationId,
    action: &str,
    by: UserId,
    reason: Option<&str>,
    new_deadline: Option<Ts>,
    now: Ts,
) -> QueryResult<bool> {
    diesel::update(remedial_escalations::table.find(id).filter(remedial_escalations::action.is_null()))
        .set((
            remedial_escalations::action.eq(action),
            remedial_escalations::action_by.eq(by),
            remedial_escalations::action_at.eq(now),
            remedial_escalations::action_reason.eq(reason),
            remedial_escalations::new_deadline.eq(new_deadline),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn reviews_of(conn: &mut DbConn, plan_id: RemedialPlanId) -> QueryResult<Vec<(VersionId, String)>> {
    remedial_reviews::table
        .filter(remedial_reviews::plan_id.eq(plan_id))
        .select((remedial_reviews::question_version_id, remedial_reviews::note))
        .load(conn)
}

pub fn upsert_review(conn: &mut DbConn, plan_id: RemedialPlanId, version_id: VersionId, note: &str, now: Ts) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::insert_into(remedial_reviews::table)
        .values((
            remedial_reviews::plan_id.eq(plan_id),
            remedial_reviews::question_version_id.eq(version_id),
            remedial_reviews::note.eq(note),
            remedial_reviews::written_at.eq(now)
        ))
        .on_conflict((remedial_reviews::plan_id, remedial_reviews::question_version_id))
        .do_update()
        .set((remedial_reviews::note.eq(note), remedial_reviews::written_at.eq(now)))
        .execute(c))
    .map(|_| ())
}

// ---- practice ----

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = practice_sessions)]
pub struct PracticeSession {
    pub id: PracticeId,
    pub user_id: UserId,
    pub mode: String,
    pub filter: String,
    pub plan_id: Option<RemedialPlanId>,
    /// JSON list of question version ids, in order.
    pub items: String,
    pub started_at: Ts,
    pub last_active_at: Ts,
}

impl PracticeSession {
    pub fn items_vec(&self) -> Vec<VersionId> {
        serde_json::from_str(&self.items).unwrap_or_default()
    }
}

pub fn insert_practice(
    conn: &mut DbConn,
    user_id: UserId,
    mode: &str,
    filter: &str,
    plan_id: Option<RemedialPlanId>,
    items: &[VersionId],
    now: Ts,
) -> QueryResult<PracticeId> {
    diesel::insert_into(practice_sessions::table)
        .values((
            practice_sessions::user_id.eq(user_id),
            practice_sessions::mode.eq(mode),
            practice_sessions::filter.eq(filter),
            practice_sessions::plan_id.eq(plan_id),
            practice_sessions::items.eq(serde_json::to_string(items).expect("json")),
            practice_sessions::started_at.eq(now),
            practice_sessions::last_active_at.eq(now),
        ))
        .returning(practice_sessions::id)
        .get_result(conn)
}

pub fn find_practice(conn: &mut DbConn, id: PracticeId) -> QueryResult<Option<PracticeSession>> {
    practice_sessions::table.find(id).select(PracticeSession::as_select()).get_result(conn).optional()
}

pub fn practice_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<PracticeSession>> {
    practice_sessions::table
        .filter(practice_sessions::user_id.eq(user_id))
        .order(practice_sessions::id.desc())
        .select(PracticeSession::as_select())
        .load(conn)
}

#[derive(Clone, Debug, Queryable, serde::Serialize)]
pub struct PracticeAnswer {
    pub session_id: PracticeId,
    pub question_version_id: VersionId,
    pub choices: String,
    pub correct: bool,
    pub seconds: i32,
    pub answered_at: Ts,
}

/// Records an answer once: a second answer to the same question in a session is ignored.
pub fn insert_answer(conn: &mut DbConn, a: &PracticeAnswer) -> QueryResult<bool> {
    let n = crate::per_backend!(conn, |c| diesel::insert_into(practice_answers::table)
        .values((
            practice_answers::session_id.eq(a.session_id),
            practice_answers::question_version_id.eq(a.question_version_id),
            practice_answers::choices.eq(&a.choices),
            practice_answers::correct.eq(a.correct),
            practice_answers::seconds.eq(a.seconds),
            practice_answers::answered_at.eq(a.answered_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    diesel::update(practice_sessions::table.find(a.session_id)).set(practice_sessions::last_active_at.eq(a.answered_at)).execute(conn)?;
    Ok(n == 1)
}

pub fn answers_of_session(conn: &mut DbConn, session_id: PracticeId) -> QueryResult<Vec<PracticeAnswer>> {
    practice_answers::table.filter(practice_answers::session_id.eq(session_id)).order(practice_answers::answered_at).load(conn)
}

/// Every practice answer of a user (with the session's plan), oldest first.
pub fn answers_of_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<(PracticeAnswer, Option<RemedialPlanId>)>> {
    practice_answers::table
        .inner_join(practice_sessions::table)
        .filter(practice_sessions::user_id.eq(user_id))
        .order(practice_answers::answered_at)
        .select((
            (
                practice_answers::session_id,
                practice_answers::question_version_id,
                practice_answers::choices,
                practice_answers::correct,
                practice_answers::seconds,
                practice_answers::answered_at,
            ),
            practice_sessions::plan_id,
        ))
        .load(conn)
}

// ---- case evaluations ----

pub fn case_evaluation_exists(conn: &mut DbConn, user_id: UserId, month: &str, case_ref: &str) -> QueryResult<Option<i64>> {
    case_evaluations::table
        .filter(case_evaluations::user_id.eq(user_id))
        .filter(case_evaluations::month.eq(month))
        .filter(case_evaluations::case_ref.eq(case_ref))
        .select(case_evaluations::deduction_centi)
        .first(conn)
        .optional()
}

pub fn insert_case_evaluation(
    conn: &mut DbConn,
    user_id: UserId,
    month: &str,
    case_ref: &str,
    deduction_centi: i64,
    note: &str,
    by: UserId,
    now: Ts,
) -> QueryResult<()> {
    diesel::insert_into(case_evaluations::table)
        .values((
            case_evaluations::user_id.eq(user_id),
            case_evaluations::month.eq(month),
            case_evaluations::case_ref.eq(case_ref),
            case_evaluations::deduction_centi.eq(deduction_centi),
            case_evaluations::note.eq(note),
            case_evaluations::imported_by.eq(by),
            case_evaluations::imported_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// (user, month, deduction) of the given months.
pub fn case_deductions(conn: &mut DbConn, months: &[String]) -> QueryResult<Vec<(UserId, String, i64)>> {
    case_evaluations::table
        .filter(case_evaluations::month.eq_any(months))
        .select((case_evaluations::user_id, case_evaluations::month, case_evaluations::deduction_centi))
        .load(conn)
}

/// How many of these attempts have their result in the training files.
pub fn count_filed(conn: &mut DbConn, attempt_ids: &[AttemptId]) -> QueryResult<i64> {
    let mut n = 0;
    for chunk in attempt_ids.chunks(500) {
        let sources: Vec<String> = chunk.iter().map(|a| format!("attempt:{a}")).collect();
        n += training_entries::table
            .filter(training_entries::kind.eq(EntryKind::Sitting.as_str()))
            .filter(training_entries::source.eq_any(sources))
            .count()
            .get_result::<i64>(conn)?;
    }
    Ok(n)
}
