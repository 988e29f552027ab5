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
use crate::db::models::jobs::{self, Job};
use crate::db::models::{audit, Ts};
use crate::db::{write_tx, DbConn, Pool};
use crate::domain::jobs::{JobKind, JobState, HEARTBEAT_SECONDS, STALE_AFTER_SECONDS};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::people;

/// A name for this process's worker, unique across app servers sharing a database.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

/// Checks an officer CSV and queues its import. `Ok(Err(lines))` is the file's row-numbered
/// errors: nothing is stored and nothing queued.
pub fn queue_officer_import(conn: &mut DbConn, data: &[u8], lang: &str, by: i64, now: Ts) -> AppResult<Result<i64, Vec<String>>> {
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
        Ok::<i64, AppError>(id)
    })?;
    Ok(Ok(id))
}

/// Requeues stale jobs, claims the oldest queued one and runs it. `Ok(None)` when the queue
/// is empty. Safe to call from any number of workers on one database at once.
pub fn run_next(pool: &Pool, worker: &str, clock: &Clock) -> AppResult<Option<i64>> {
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
pub fn run_claimed(conn: &mut DbConn, id: i64, worker: &str, clock: &Clock) -> AppResult<()> {
    let job = jobs::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("job {id}")))?;
    let outcome = match job.kind {
        JobKind::OfficerImport => run_officer_import(conn, &job, worker, clock),
    };
    let lines = match outcome {
        Ok(()) => return Ok(()),
        Err(Failure::Lines(lines)) => lines,
        Err(Failure::Error(e)) => e.lines(),
    };
    let now = clock.now();
    write_tx(conn, |c| {
        if jobs::fail(c, id, worker, &lines.join("\n"), now)? {
            audit::append(c, None, "job.failed", &format!("job:{id}"), &json!({"kind": job.kind.as_str(), "errors": lines.len()}), now)?;
        }
        Ok::<(), AppError>(())
    })
}

enum Failure {
    Lines(Vec<String>),
    Error(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::Error(e)
    }
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
pub fn view_job(conn: &mut DbConn, id: i64, viewer: i64, now: Ts) -> AppResult<JobView> {
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

/// The newest officer imports, for the import page.
pub fn recent_imports(conn: &mut DbConn) -> AppResult<Vec<Job>> {
    Ok(jobs::recent(conn, JobKind::OfficerImport, 10)?)
}
