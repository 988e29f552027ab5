//! Background jobs (issue 17): the queue every app server's worker claims from.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::jobs;
use crate::db::DbConn;
use crate::domain::ids::{JobId, UserId};
use crate::domain::jobs::{JobKind, JobState};

/// A job without its payload (the uploaded file), which only the worker reads.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: JobId,
    #[diesel(deserialize_as = String)]
    pub kind: JobKind,
    #[diesel(deserialize_as = String)]
    pub state: JobState,
    pub rows_done: i32,
    pub rows_total: i32,
    pub result: Option<String>,
    pub errors: Option<String>,
    pub created_by: UserId,
    pub claimed_by: Option<String>,
    pub heartbeat_at: Option<Ts>,
    pub runs: i32,
    pub created_at: Ts,
    pub started_at: Option<Ts>,
    pub finished_at: Option<Ts>,
    /// The record the job works on (a question import: the staged file in `bank_imports`).
    pub subject_id: Option<i64>,
    /// An export's file name, once it is produced (the bytes are read by [`file`]).
    pub file_name: Option<String>,
}

/// Queues a job with its upload as the payload.
pub fn insert(conn: &mut DbConn, kind: JobKind, payload: &[u8], rows_total: i32, by: UserId, now: Ts) -> QueryResult<JobId> {
    queue(conn, kind, payload, None, rows_total, by, now)
}

/// Queues a job that works on a stored record (`subject`) rather than an upload of its own.
pub fn insert_for(conn: &mut DbConn, kind: JobKind, subject: i64, rows_total: i32, by: UserId, now: Ts) -> QueryResult<JobId> {
    queue(conn, kind, &[], Some(subject), rows_total, by, now)
}

/// The one insert of a queued job behind `insert` and `insert_for`.
fn queue(
    conn: &mut DbConn,
    kind: JobKind,
    payload: &[u8],
    subject: Option<i64>,
    rows_total: i32,
    by: UserId,
    now: Ts,
) -> QueryResult<JobId> {
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind.as_str()),
            jobs::payload.eq(payload),
            jobs::subject_id.eq(subject),
            jobs::state.eq(JobState::Queued.as_str()),
            jobs::rows_total.eq(rows_total),
            jobs::created_by.eq(by),
            jobs::created_at.eq(now),
        ))
        .returning(jobs::id)
        .get_result(conn)
}

/// The job of a kind working on `subject` that is queued, running or done (not failed), if any.
pub fn live_for(conn: &mut DbConn, kind: JobKind, subject: i64) -> QueryResult<Option<Job>> {
    jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::subject_id.eq(subject))
        .filter(jobs::state.ne(JobState::Failed.as_str()))
        .order(jobs::id.desc())
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// The newest job of a kind working on `subject`, whatever its state.
pub fn latest_for(conn: &mut DbConn, kind: JobKind, subject: i64) -> QueryResult<Option<Job>> {
    jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::subject_id.eq(subject))
        .order(jobs::id.desc())
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// An export job's file: (name, bytes), once done.
pub fn file(conn: &mut DbConn, id: JobId) -> QueryResult<Option<(String, Vec<u8>)>> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> =
        jobs::table.find(id).select((jobs::file_name, jobs::file)).first(conn).optional()?;
    Ok(row.and_then(|(name, bytes)| Some((name?, bytes?))))
}

/// Whether a job still holds a file (an export whose file was deleted at the end of its
/// keeping keeps its `file_name` and not its bytes).
pub fn has_file(conn: &mut DbConn, id: JobId) -> QueryResult<bool> {
    jobs::table.find(id).select(jobs::file.is_not_null()).get_result(conn)
}

/// Deletes the files of finished jobs of a kind that finished before `finished_before` (the
/// job, its result and its file name stay); how many were deleted.
pub fn delete_files(conn: &mut DbConn, kind: JobKind, finished_before: Ts) -> QueryResult<usize> {
    diesel::update(
        jobs::table
            .filter(jobs::kind.eq(kind.as_str()))
            .filter(jobs::state.eq(JobState::Done.as_str()))
            .filter(jobs::file.is_not_null())
            .filter(jobs::finished_at.lt(finished_before)),
    )
    .set(jobs::file.eq(None::<Vec<u8>>))
    .execute(conn)
}

/// The newest jobs of a kind one user started, newest first.
pub fn recent_by(conn: &mut DbConn, kind: JobKind, by: UserId, limit: i64) -> QueryResult<Vec<Job>> {
    jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::created_by.eq(by))
        .order(jobs::id.desc())
        .limit(limit)
        .select(Job::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: JobId) -> QueryResult<Option<Job>> {
    jobs::table.find(id).select(Job::as_select()).get_result(conn).optional()
}

pub fn payload(conn: &mut DbConn, id: JobId) -> QueryResult<Vec<u8>> {
    jobs::table.find(id).select(jobs::payload).get_result(conn)
}

/// The newest jobs of a kind, newest first.
pub fn recent(conn: &mut DbConn, kind: JobKind, limit: i64) -> QueryResult<Vec<Job>> {
    jobs::table.filter(jobs::kind.eq(kind.as_str())).order(jobs::id.desc()).limit(limit).select(Job::as_select()).load(conn)
}

pub fn count_kind(conn: &mut DbConn, kind: JobKind) -> QueryResult<i64> {
    jobs::table.filter(jobs::kind.eq(kind.as_str())).count().get_result(conn)
}

/// Puts running jobs whose heartbeat is older than `stale_before` back in the queue (their
/// server died: what they wrote was one uncommitted transaction, so nothing of it is stored).
/// Call inside the claiming transaction.
pub fn requeue_stale(conn: &mut DbConn, stale_before: Ts) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::state.eq(JobState::Running.as_str())).filter(jobs::heartbeat_at.lt(stale_before)))
        .set((jobs::state.eq(JobState::Queued.as_str()), jobs::claimed_by.eq(None::<String>), jobs::rows_done.eq(0)))
        .execute(conn)
}

/// Claims the oldest queued job for `worker`. Call inside `db::write_tx`: on SQLite that is
/// `BEGIN IMMEDIATE`, so one server at a time looks and claims; on PostgreSQL the row is locked
/// with `FOR UPDATE SKIP LOCKED`, so two servers claiming at once take different jobs. The
/// update checks the state again, so a job is never claimed twice.
pub fn claim_next(conn: &mut DbConn, worker: &str, now: Ts) -> QueryResult<Option<JobId>> {
    let queued = jobs::table.filter(jobs::state.eq(JobState::Queued.as_str())).order(jobs::id).select(jobs::id).limit(1);
    let id: Option<JobId> = match conn {
        DbConn::Sqlite(c) => queued.first(c).optional()?,
        DbConn::Pg(c) => queued.for_update().skip_locked().first(c).optional()?,
    };
    let Some(id) = id else { return Ok(None) };
    let n = diesel::update(jobs::table.find(id).filter(jobs::state.eq(JobState::Queued.as_str())))
        .set((
            jobs::state.eq(JobState::Running.as_str()),
            jobs::claimed_by.eq(Some(worker)),
            jobs::heartbeat_at.eq(Some(now)),
            jobs::started_at.eq(Some(now)),
            jobs::runs.eq(jobs::runs + 1),
        ))
        .execute(conn)?;
    Ok((n == 1).then_some(id))
}

/// The job, while `worker` still holds it running.
macro_rules! held_by {
    ($id:expr, $worker:expr) => {
        jobs::table.find($id).filter(jobs::claimed_by.eq($worker)).filter(jobs::state.eq(JobState::Running.as_str()))
    };
}

/// Writes progress and the heartbeat; false when the job is no longer this worker's.
pub fn progress(conn: &mut DbConn, id: JobId, worker: &str, rows_done: i32, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(held_by!(id, worker)).set((jobs::rows_done.eq(rows_done), jobs::heartbeat_at.eq(Some(now)))).execute(conn)?;
    Ok(n == 1)
}

/// Marks the job done with its result and drops its payload, if this worker still holds it (false otherwise: call
/// inside the transaction that writes the job's work, and roll it back on false).
pub fn finish(conn: &mut DbConn, id: JobId, worker: &str, rows_done: i32, result: &str, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(held_by!(id, worker))
        .set((
            jobs::state.eq(JobState::Done.as_str()),
            jobs::rows_done.eq(rows_done),
            jobs::result.eq(Some(result)),
            // the upload may carry passwords in its `password` column: not kept once used
            jobs::payload.eq(Vec::<u8>::new()),
            jobs::heartbeat_at.eq(Some(now)),
            jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the job failed with its reasons (one a line, in English) and drops its payload, if this
/// worker still holds it; `result` keeps the reasons to be said in the reader's language, when
/// the job has them so (`{"problems": [...]}`).
pub fn fail(conn: &mut DbConn, id: JobId, worker: &str, errors: &str, result: Option<&str>, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(held_by!(id, worker))
        .set((
            jobs::state.eq(JobState::Failed.as_str()),
            jobs::errors.eq(Some(errors)),
            jobs::result.eq(result),
            jobs::finished_at.eq(Some(now)),
            jobs::payload.eq(Vec::<u8>::new()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a finished job's result when it still is `old` (the passwords shown once are
/// erased this way: two views at once cannot both take them). False if it changed meanwhile.
pub fn replace_result(conn: &mut DbConn, id: JobId, old: &str, new: &str) -> QueryResult<bool> {
    let n = diesel::update(jobs::table.find(id).filter(jobs::result.eq(Some(old)))).set(jobs::result.eq(Some(new))).execute(conn)?;
    Ok(n == 1)
}

/// Sets how many rows (or items) the job has, once the worker has read its input.
pub fn set_total(conn: &mut DbConn, id: JobId, worker: &str, rows_total: i32, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(held_by!(id, worker)).set((jobs::rows_total.eq(rows_total), jobs::heartbeat_at.eq(Some(now)))).execute(conn)?;
    Ok(n == 1)
}

/// Marks an export job done with the file it produced, if this worker still holds it.
pub fn finish_with_file(
    conn: &mut DbConn,
    id: JobId,
    worker: &str,
    rows_done: i32,
    result: &str,
    file_name: &str,
    bytes: &[u8],
    now: Ts,
) -> QueryResult<bool> {
    let n = diesel::update(held_by!(id, worker))
        .set((
            jobs::state.eq(JobState::Done.as_str()),
            jobs::rows_done.eq(rows_done),
            jobs::result.eq(Some(result)),
            jobs::file_name.eq(Some(file_name)),
            jobs::file.eq(Some(bytes)),
            jobs::heartbeat_at.eq(Some(now)),
            jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
