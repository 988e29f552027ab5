//! Background jobs (issue 17): long work out of the request. A use case checks what it can at
//! once (an upload's row errors are shown at once, nothing queued) and queues the rest here;
//! a worker on every app server (`lib.rs`) claims queued jobs one at a time, writes progress
//! and a heartbeat while it runs, and stores the job's work and its result in one transaction.
//! A job whose worker stopped (no heartbeat for `domain::jobs::STALE_AFTER_SECONDS`) is queued
//! again: its transaction never committed, so it stored nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::clock::Clock;
use crate::db::models::jobs;
/// A job's row, as its pages read it.
pub use crate::db::models::jobs::Job;
use crate::db::models::{audit, imports, org, Ts};
use crate::db::{write_tx, DbConn, Pool};
use crate::domain::ids::{ImportId, JobId, UserId};
use crate::domain::jobs::{ExportRetention, JobKind, JobState, HEARTBEAT_SECONDS, STALE_AFTER_SECONDS};
use crate::domain::said::Located;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::{bank_import, file_export, people, remedial};

/// A name for this process's worker, unique across app servers sharing a database.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

/// Checks an officer CSV and queues its import. `Ok(Err(lines))` is the file's row-numbered
/// errors: nothing is stored and nothing queued.
pub fn queue_officer_import(conn: &mut DbConn, data: &[u8], lang: &str, by: UserId, now: Ts) -> AppResult<Result<JobId, Vec<String>>> {
    let rows = match people::check_csv(conn, data, lang, now)? {
        Ok(valid) => valid.len(),
        Err(errors) => return Ok(Err(errors)),
    };
    let rows = i32::try_from(rows).map_err(|_| AppError::new(ErrorCode::TooLarge, "too many rows"))?;
    let id = write_tx(conn, |c| {
        let id = jobs::insert(c, JobKind::OfficerImport, data, rows, by, now)?;
        audit::append(
            c,
            Some(by),
            "job.queue",
            &format!("job:{id}"),
            &json!({"kind": JobKind::OfficerImport.as_str(), "rows": rows}),
            now,
        )?;
        Ok::<JobId, AppError>(id)
    })?;
    Ok(Ok(id))
}

/// Requeues stale jobs, claims the oldest queued one and runs it. `Ok(None)` when the queue
/// is empty. Safe to call from any number of workers on one database at once.
pub fn run_next(pool: &Pool, worker: &str, clock: &Clock) -> AppResult<Option<JobId>> {
    let mut conn = pool.get()?;
    let now = clock.now();
    let stale_before = now - chrono::Duration::seconds(STALE_AFTER_SECONDS);
    let claimed = write_tx(&mut conn, |c| {
        let requeued = jobs::requeue_stale(c, stale_before)?;
        if requeued > 0 {
            eprintln!("job worker: {requeued} job(s) whose worker stopped queued again");
        }
        jobs::claim_next(c, worker, now)
    })?;
    let Some(id) = claimed else { return Ok(None) };
    run_claimed(&mut conn, id, worker, clock)?;
    Ok(Some(id))
}

/// Runs a job this worker has claimed; a job that fails is marked failed with its reasons.
pub fn run_claimed(conn: &mut DbConn, id: JobId, worker: &str, clock: &Clock) -> AppResult<()> {
    let job = jobs::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("job {id}")))?;
    let outcome = match job.kind {
        JobKind::OfficerImport => run_officer_import(conn, &job, worker, clock),
        JobKind::QuestionImport => run_question_import(conn, &job, worker, clock),
        JobKind::CaseImport => run_case_import(conn, &job, worker, clock),
        JobKind::FileExport => run_file_export(conn, &job, worker, clock),
    };
    let (lines, result) = match outcome {
        Ok(()) => return Ok(()),
        Err(Failure::Lines(lines)) => (lines, None),
        Err(Failure::Problems(problems)) => {
            let lines = problems.iter().map(ToString::to_string).collect();
            (lines, Some(json!({ "problems": problems }).to_string()))
        }
        Err(Failure::Error(e)) => (e.lines(), None),
    };
    let now = clock.now();
    write_tx(conn, |c| {
        if jobs::fail(c, id, worker, &lines.join("\n"), result.as_deref(), now)? {
            audit::append(c, None, "job.failed", &format!("job:{id}"), &json!({"kind": job.kind.as_str(), "errors": lines.len()}), now)?;
        }
        Ok::<(), AppError>(())
    })
}

enum Failure {
    Lines(Vec<String>),
    /// Problems to be said in the reader's language when the job's page is read (stored with
    /// their English lines).
    Problems(Vec<Located>),
    Error(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::Error(e)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Failure {
        Failure::Error(e.into())
    }
}

/// Writes a running job's progress and heartbeat, at most every [`HEARTBEAT_SECONDS`].
struct Progress<'a> {
    id: JobId,
    worker: &'a str,
    clock: &'a Clock,
    last: Instant,
    /// False once another worker took the job over (this one was taken for dead).
    ours: bool,
}

impl<'a> Progress<'a> {
    fn new(id: JobId, worker: &'a str, clock: &'a Clock) -> Progress<'a> {
        Progress { id, worker, clock, last: Instant::now(), ours: true }
    }

    /// Records `done` rows (or items) if a heartbeat is due; `force` writes it now.
    fn tick(&mut self, c: &mut DbConn, done: usize, force: bool) -> AppResult<()> {
        if !force && self.last.elapsed() < Duration::from_secs(HEARTBEAT_SECONDS) {
            return Ok(());
        }
        self.last = Instant::now();
        let done = i32::try_from(done).unwrap_or(i32::MAX);
        if !write_tx(c, |c| jobs::progress(c, self.id, self.worker, done, self.clock.now()))? {
            self.ours = false;
        }
        Ok(())
    }

    fn total(&mut self, c: &mut DbConn, total: usize) -> AppResult<()> {
        let total = i32::try_from(total).map_err(|_| AppError::new(ErrorCode::TooLarge, "too many rows"))?;
        if !write_tx(c, |c| jobs::set_total(c, self.id, self.worker, total, self.clock.now()))? {
            self.ours = false;
        }
        Ok(())
    }
}

/// The error a job's write transaction rolls back with when the job is no longer this worker's.
fn taken_over(id: JobId) -> AppError {
    AppError::new(ErrorCode::NotAllowed, format!("job {id} was taken over by another worker; nothing stored by this one"))
}

/// Queues the commit of a trainer's staged bank file (`bank_import::stage`) as a background job:
/// writing a whole bank's questions does not fit in a request. The file is checked against the
/// bank now, as its preview shows it: a file with errors is refused at once (nothing queued).
/// A second click while the commit is queued or running, or once it is done, finds the same
/// job. `Ok(None)`: the file was imported before jobs existed.
pub fn queue_question_import(conn: &mut DbConn, import_id: ImportId, by: UserId, now: Ts) -> AppResult<Option<JobId>> {
    let s = bank_import::staged(conn, import_id, by)?;
    if let Some(job) = jobs::live_for(conn, JobKind::QuestionImport, import_id.0)? {
        return Ok(Some(job.id));
    }
    if s.import.committed_at.is_some() {
        return Ok(None);
    }
    let p = bank_import::preview_staged(conn, &s)?;
    if let Some(e) = bank_import::refusal(&p) {
        return Err(e);
    }
    let items = i32::try_from(p.parsed.entries.len()).map_err(|_| AppError::new(ErrorCode::TooLarge, "too many questions"))?;
    write_tx(conn, |c| {
        if let Some(job) = jobs::live_for(c, JobKind::QuestionImport, import_id.0)? {
            return Ok(Some(job.id));
        }
        let id = jobs::insert_for(c, JobKind::QuestionImport, import_id.0, items, by, now)?;
        audit::append(
            c,
            Some(by),
            "job.queue",
            &format!("job:{id}"),
            &json!({"kind": JobKind::QuestionImport.as_str(), "rows": items, "import": import_id}),
            now,
        )?;
        Ok::<Option<JobId>, AppError>(Some(id))
    })
}

/// Commits a staged bank file: parsed once, each entry checked against the bank while the job's
/// progress counts them, then checked again and written in one transaction that also marks the
/// staged file imported and the job done; any error and nothing is written.
fn run_question_import(conn: &mut DbConn, job: &Job, worker: &str, clock: &Clock) -> Result<(), Failure> {
    let id = job.id;
    let import_id = job.subject_id.map(ImportId).ok_or_else(|| AppError::internal(format!("job {id}: no staged file")))?;
    let s = bank_import::staged(conn, import_id, job.created_by)?;
    if s.import.committed_at.is_some() {
        return Err(Failure::Lines(vec![format!("{}: already imported", s.import.file_name)]));
    }
    let started = Instant::now();
    let parsed = bank_import::parse(conn, s.format, &s.import.file_name, &s.import.data, &s.defaults)?;
    let mut progress = Progress::new(id, worker, clock);
    progress.total(conn, parsed.entries.len())?;
    let first = bank_import::check(conn, parsed.clone(), |c, n| progress.tick(c, n, false))?;
    if bank_import::refusal(&first).is_some() {
        return Err(Failure::Problems(bank_import::error_problems(&first)));
    }
    progress.tick(conn, first.parsed.entries.len(), true)?;
    if !progress.ours {
        return Ok(());
    }
    let checked = started.elapsed();
    let sha = bank_import::file_hash(&s.import.data);
    let now = clock.now();
    let items = parsed.entries.len() as i32;
    let counts = write_tx(conn, |c| {
        if !imports::claim_for_commit(c, import_id, now)? {
            return Err(Failure::Lines(vec![format!("{}: already imported", s.import.file_name)]));
        }
        // the bank as it is now: another import may have written some of these meanwhile
        let p = bank_import::check(c, parsed, |_, _| Ok(()))?;
        if bank_import::refusal(&p).is_some() {
            return Err(Failure::Problems(bank_import::error_problems(&p)));
        }
        let counts = bank_import::write_checked(c, &p, s.format, &s.import.file_name, &sha, Some(job.created_by), now)?;
        let report = serde_json::to_string(&counts).expect("counts serialise");
        imports::set_report(c, import_id, &report)?;
        let result = json!({"import": import_id, "file_name": s.import.file_name, "counts": counts}).to_string();
        if !jobs::finish(c, id, worker, items, &result, now)? {
            return Err(Failure::Error(taken_over(id)));
        }
        Ok(counts)
    })?;
    println!(
        "job worker: job {id} imported {} ({} new, {} new versions, {} unchanged): checked in {:.1} s, stored in {:.1} s",
        s.import.file_name,
        counts.new,
        counts.new_versions,
        counts.unchanged,
        checked.as_secs_f64(),
        (started.elapsed() - checked).as_secs_f64()
    );
    Ok(())
}

/// Checks a case-evaluation CSV (`remedial::parse_case_csv_in`, then each row against the
/// database) and queues its import. `Ok(Err(lines))`: the file's errors, each with its line, in
/// `lang`; nothing stored and nothing queued.
pub fn queue_case_import(conn: &mut DbConn, text: &str, lang: &str, by: UserId, now: Ts) -> AppResult<Result<JobId, Vec<String>>> {
    let rows = match remedial::parse_case_csv_in(text, lang) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Err(errors) = remedial::check_case_rows(conn, &rows, lang, |_, _| Ok(()))? {
        return Ok(Err(errors));
    }
    let n = i32::try_from(rows.len()).map_err(|_| AppError::new(ErrorCode::TooLarge, "too many rows"))?;
    let id = write_tx(conn, |c| {
        let id = jobs::insert(c, JobKind::CaseImport, text.as_bytes(), n, by, now)?;
        audit::append(c, Some(by), "job.queue", &format!("job:{id}"), &json!({"kind": JobKind::CaseImport.as_str(), "rows": n}), now)?;
        Ok::<JobId, AppError>(id)
    })?;
    Ok(Ok(id))
}

/// Imports a queued case-evaluation CSV: each row checked again (officers or evaluations may
/// have changed since the upload) while the progress counts them, then stored with the plans
/// they open and the job's result in one transaction.
fn run_case_import(conn: &mut DbConn, job: &Job, worker: &str, clock: &Clock) -> Result<(), Failure> {
    let id = job.id;
    let data = jobs::payload(conn, id)?;
    let text = String::from_utf8(data).map_err(|_| AppError::internal(format!("job {id}: the stored file is not UTF-8")))?;
    // said in the bureau's language, the job page's default (as the officer import's re-check)
    let rows = remedial::parse_case_csv_in(&text, "zh").map_err(Failure::Lines)?;
    let mut progress = Progress::new(id, worker, clock);
    remedial::check_case_rows(conn, &rows, "zh", |c, n| progress.tick(c, n, false))?.map_err(Failure::Lines)?;
    progress.tick(conn, rows.len(), true)?;
    if !progress.ours {
        return Ok(());
    }
    let now = clock.now();
    let n = rows.len() as i32;
    let outcome = remedial::store_case_evaluations(conn, &rows, "zh", job.created_by, now, |c, stored, plans| {
        let result = json!({"rows": stored, "plans": plans}).to_string();
        if jobs::finish(c, id, worker, n, &result, now)? {
            Ok(())
        } else {
            Err(taken_over(id))
        }
    });
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.is_invalid() => Err(Failure::Lines(e.lines())),
        Err(e) => Err(Failure::Error(e)),
    }
}

/// Queues the whole bureau's training files as CSV or XLSX (HR and admins; the route checks).
pub fn queue_file_export(conn: &mut DbConn, format: file_export::Format, by: UserId, now: Ts) -> AppResult<JobId> {
    let officers = i32::try_from(org::count_users(conn)?).unwrap_or(i32::MAX);
    let request = json!({"format": format.as_str()}).to_string();
    write_tx(conn, |c| {
        let id = jobs::insert(c, JobKind::FileExport, request.as_bytes(), officers, by, now)?;
        audit::append(
            c,
            Some(by),
            "job.queue",
            &format!("job:{id}"),
            &json!({"kind": JobKind::FileExport.as_str(), "format": format.as_str()}),
            now,
        )?;
        Ok::<JobId, AppError>(id)
    })
}

/// Reads every officer's file, a share of officers at a time while the progress counts them,
/// writes the CSV or XLSX and keeps it with the job for the one who asked.
fn run_file_export(conn: &mut DbConn, job: &Job, worker: &str, clock: &Clock) -> Result<(), Failure> {
    let id = job.id;
    let request: Value =
        serde_json::from_slice(&jobs::payload(conn, id)?).map_err(|e| AppError::internal(format!("job {id}: stored request: {e}")))?;
    let format = request["format"]
        .as_str()
        .and_then(file_export::Format::parse)
        .ok_or_else(|| AppError::internal(format!("job {id}: stored request {request}")))?;
    // the one who asked must still be allowed to read every file
    let roles = org::roles_of(conn, job.created_by)?;
    if !crate::domain::jobs::may_view(JobKind::FileExport, true, &roles) {
        return Err(Failure::Lines(vec![crate::render::say("zh", "jobs.export_not_allowed", &json!({}))]));
    }
    let started = Instant::now();
    let officers: Vec<UserId> = org::list_with_units(conn)?.into_iter().map(|(u, _)| u.id).collect();
    let mut progress = Progress::new(id, worker, clock);
    progress.total(conn, officers.len())?;
    let records = file_export::records_of(conn, &officers, |c, n| progress.tick(c, n, false))?;
    let bytes = file_export::render(format, &records)?;
    progress.tick(conn, officers.len(), true)?;
    if !progress.ours {
        return Ok(());
    }
    let now = clock.now();
    let name = format!("training-files-bureau-{}.{}", crate::timefmt::bureau_date(now), format.as_str());
    let result = json!({"officers": officers.len(), "records": records.len(), "bytes": bytes.len()}).to_string();
    let n = officers.len() as i32;
    write_tx(conn, |c| {
        if jobs::finish_with_file(c, id, worker, n, &result, &name, &bytes, now)? {
            audit::append(c, Some(job.created_by), "job.export", &format!("job:{id}"), &json!({"records": records.len()}), now)?;
            Ok(())
        } else {
            Err(taken_over(id))
        }
    })?;
    println!(
        "job worker: job {id} exported {} record(s) of {} officer(s) as {} in {:.1} s",
        records.len(),
        officers.len(),
        format.as_str(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_officer_import(conn: &mut DbConn, job: &Job, worker: &str, clock: &Clock) -> Result<(), Failure> {
    let id = job.id;
    let data = jobs::payload(conn, id).map_err(AppError::from)?;
    // checked again: accounts or units may have changed since the upload was queued
    // the file is checked again when it runs (accounts or units may have changed since the upload);
    // what is found now is said in the bureau's language, the job page's default
    let mut valid = people::check_csv(conn, &data, "zh", clock.now())?.map_err(Failure::Lines)?;
    let done = AtomicUsize::new(0);
    let mut still_ours = true;
    let started = Instant::now();
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| people::hash_all(&mut valid, &done));
        let mut last = Instant::now();
        while !hashing.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= Duration::from_secs(HEARTBEAT_SECONDS) {
                last = Instant::now();
                let rows = done.load(Ordering::Relaxed) as i32;
                match write_tx(conn, |c| jobs::progress(c, id, worker, rows, clock.now())) {
                    Ok(true) => {}
                    Ok(false) => still_ours = false,
                    Err(e) => eprintln!("job worker: progress of job {id}: {e}"),
                }
            }
        }
        hashing.join().expect("the hashing threads do not panic");
    });
    if !still_ours {
        // another worker took it over (this one was taken for dead): leave it to that one
        return Ok(());
    }
    let hashed = started.elapsed();
    let rows = valid.len() as i32;
    let now = clock.now();
    people::store_all(conn, valid, Some(job.created_by), now, |c, created| {
        let accounts: Vec<Value> =
            created.iter().map(|(badge, name, password)| json!({"badge": badge, "name": name, "password": password})).collect();
        let result = json!({"created": created.len(), "accounts": accounts, "passwords_shown_at": Value::Null}).to_string();
        if jobs::finish(c, id, worker, rows, &result, now)? {
            Ok(())
        } else {
            Err(AppError::new(ErrorCode::NotAllowed, format!("job {id} was taken over by another worker; nothing stored by this one")))
        }
    })?;
    // counts and times only (never a password)
    println!(
        "job worker: job {id} imported {rows} officer(s): hashed in {:.1} s, stored in {:.1} s",
        hashed.as_secs_f64(),
        (started.elapsed() - hashed).as_secs_f64()
    );
    Ok(())
}

/// One account of a finished import as its page shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AccountLine {
    pub badge: String,
    pub name: String,
    /// The initial password, only on the starter's first view of the finished job.
    pub password: Option<String>,
    /// Whether a password was generated for this account (shown once, or withheld).
    pub generated: bool,
}

/// A job as its page shows it.
#[derive(Clone, Debug)]
pub struct JobView {
    pub job: Job,
    pub accounts: Vec<AccountLine>,
    /// This view is the one that shows the initial passwords (then erased from the job).
    pub passwords_now: bool,
    /// When the starter saw them (erased since), if they did.
    pub passwords_shown_at: Option<String>,
    /// The viewer is not the starter: generated passwords are not shown to them.
    pub passwords_withheld: bool,
    pub errors: Vec<String>,
}

/// Reads a job for an admin. The admin who started a finished import sees its generated
/// passwords once: this call erases them from the job in the same transaction (audited), so a
/// second view, theirs or anyone's, shows none. Other admins see the job without them.
pub fn view_job(conn: &mut DbConn, id: JobId, viewer: UserId, now: Ts) -> AppResult<JobView> {
    let job = jobs::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("no job {id}")))?;
    let errors = job.errors.as_deref().map(|e| e.lines().map(str::to_string).collect()).unwrap_or_default();
    let mut view = JobView { job, accounts: Vec::new(), passwords_now: false, passwords_shown_at: None, passwords_withheld: false, errors };
    let Some(text) = view.job.result.clone() else { return Ok(view) };
    let mut result: Value = serde_json::from_str(&text).map_err(|e| AppError::internal(format!("job {id}: stored result: {e}")))?;
    let shown_at = result["passwords_shown_at"].as_str().map(str::to_string);
    let any_password = result["accounts"].as_array().is_some_and(|a| a.iter().any(|x| x["password"].is_string()));
    let is_starter = view.job.created_by == viewer;
    if is_starter && view.job.state == JobState::Done && shown_at.is_none() && any_password {
        let mut erased = result.clone();
        for account in erased["accounts"].as_array_mut().into_iter().flatten() {
            if account["password"].is_string() {
                account["password"] = json!(true);
            }
        }
        erased["passwords_shown_at"] = json!(now.format("%Y-%m-%d %H:%M:%S").to_string());
        let took = write_tx(conn, |c| {
            let took = jobs::replace_result(c, id, &text, &erased.to_string())?;
            if took {
                audit::append(
                    c,
                    Some(viewer),
                    "job.passwords_shown",
                    &format!("job:{id}"),
                    &json!({"accounts": view.job.rows_total}),
                    now,
                )?;
            }
            Ok::<bool, AppError>(took)
        })?;
        if took {
            view.passwords_now = true;
        } else {
            // another view took them at the same moment: show what is stored now
            return view_job(conn, id, viewer, now);
        }
    } else {
        view.passwords_shown_at = shown_at;
        view.passwords_withheld = !is_starter && any_password;
        for account in result["accounts"].as_array_mut().into_iter().flatten() {
            if account["password"].is_string() {
                account["password"] = json!(true);
            }
        }
    }
    view.accounts = result["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| AccountLine {
            badge: a["badge"].as_str().unwrap_or_default().to_string(),
            name: a["name"].as_str().unwrap_or_default().to_string(),
            password: a["password"].as_str().map(str::to_string),
            generated: !a["password"].is_null(),
        })
        .collect();
    Ok(view)
}

/// The problems a failed job stored to be said in the reader's language (a question import's),
/// if it stored them so; otherwise its English lines are all there is.
pub fn stored_problems(job: &Job) -> Option<Vec<Located>> {
    let result: Value = serde_json::from_str(job.result.as_deref()?).ok()?;
    serde_json::from_value(result.get("problems")?.clone()).ok()
}

/// A job for a viewer who may see it (`domain::jobs::may_view`: an officer import any admin,
/// any other job only its starter while they hold the role it needs); anyone else is told there
/// is no such job.
pub fn job_for(conn: &mut DbConn, id: JobId, viewer: UserId) -> AppResult<Job> {
    let job = jobs::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("no job {id}")))?;
    let roles = org::roles_of(conn, viewer)?;
    if !crate::domain::jobs::may_view(job.kind, job.created_by == viewer, &roles) {
        return Err(AppError::not_found(format!("no job {id}")));
    }
    Ok(job)
}

/// An export job's file, for the one who asked for it: (name, bytes); 410 `expired` once the
/// dated sweep has deleted it ([`expire_exports`]).
pub fn job_file(conn: &mut DbConn, id: JobId, viewer: UserId) -> AppResult<(String, Vec<u8>)> {
    let job = job_for(conn, id, viewer)?;
    if job.kind != JobKind::FileExport || job.state != JobState::Done {
        return Err(AppError::not_found(format!("job {id} has no file")));
    }
    match jobs::file(conn, id)? {
        Some(file) => Ok(file),
        None if job.file_name.is_some() => {
            let days = export_retention(conn)?.days;
            Err(AppError::new(
                ErrorCode::Expired,
                format!("the file of export job {id} was deleted: exports are kept {days} days after they finish; export again"),
            )
            .localized("jobs.file_expired", json!({"days": days})))
        }
        None => Err(AppError::not_found(format!("job {id} has no file"))),
    }
}

/// Whether a finished export's file is still kept (false once [`expire_exports`] deleted it).
pub fn file_kept(conn: &mut DbConn, id: JobId) -> AppResult<bool> {
    Ok(jobs::has_file(conn, id)?)
}

const EXPORT_RETENTION_KEY: &str = "export_retention";

/// How long finished exports' files are kept.
pub fn export_retention(conn: &mut DbConn) -> AppResult<ExportRetention> {
    crate::services::settings::read(conn, EXPORT_RETENTION_KEY)
}

/// Sets how long finished exports' files are kept (admins; audited; the next sweep applies it).
pub fn save_export_retention(conn: &mut DbConn, r: &ExportRetention, by: UserId, now: Ts) -> AppResult<()> {
    crate::services::settings::save(conn, EXPORT_RETENTION_KEY, r, r.problems().iter().map(Problem::line).collect(), by, now)
}

/// The dated sweep's part: deletes the files of exports finished longer ago than the setting
/// keeps them (their jobs stay, their pages say the file has expired); how many.
pub fn expire_exports(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let before = export_retention(conn)?.finished_before(now);
    Ok(write_tx(conn, |c| jobs::delete_files(c, JobKind::FileExport, before))?)
}

/// The jobs of a kind a user started, newest first (their own imports and exports).
pub fn recent_of(conn: &mut DbConn, kind: JobKind, by: UserId) -> AppResult<Vec<Job>> {
    Ok(jobs::recent_by(conn, kind, by, 10)?)
}

/// The newest officer imports, for the import page.
pub fn recent_imports(conn: &mut DbConn) -> AppResult<Vec<Job>> {
    Ok(jobs::recent(conn, JobKind::OfficerImport, 10)?)
}

/// The newest commit job of a staged bank file, whatever its state (its preview page shows it).
pub fn commit_of_import(conn: &mut DbConn, import_id: ImportId) -> AppResult<Option<Job>> {
    Ok(jobs::latest_for(conn, JobKind::QuestionImport, import_id.0)?)
}
