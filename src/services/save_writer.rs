//! Group commit for answer saves. Requests hand their save to one writer thread, which stores
//! everything that arrived meanwhile in a single transaction and acknowledges each save only
//! after that transaction has committed. On exam day thousands of candidates save every few
//! seconds: one commit per batch instead of per save is what keeps latency flat.

use std::sync::mpsc;
use std::time::Duration;

use rocket::tokio::sync::oneshot;

use crate::db::models::exam::{self as exam_db, SaveGate};
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn, LogRestarts, Pool};
use crate::error::{AppError, AppResult};

/// One answer to store.
pub struct Save {
    pub attempt_id: i64,
    pub version_id: i64,
    /// Normalised option ids.
    pub choices: String,
    pub flagged: Option<bool>,
    /// When the request arrived: the deadline is judged against this.
    pub at: Ts,
}

struct Job {
    save: Save,
    reply: oneshot::Sender<AppResult<Ts>>,
}

/// How often the writer restarts the SQLite log between batches (see `LogRestarts`).
const LOG_RESTART_EVERY: Duration = Duration::from_millis(500);

/// Most saves one transaction takes.
const MAX_BATCH: usize = 512;

/// Stores a batch in the current transaction; per save, its acknowledgement or refusal.
/// Each save is stored only if its attempt is unsubmitted and the save arrived before the
/// deadline, checked inside the transaction (on PostgreSQL the check takes the attempt's row
/// lock, so a concurrent submission waits and grades this save).
pub fn store(conn: &mut DbConn, saves: &[Save]) -> diesel::QueryResult<Vec<AppResult<Ts>>> {
    let mut out = Vec::with_capacity(saves.len());
    for s in saves {
        let refusal = match exam_db::save_gate(conn, s.attempt_id, s.at)? {
            SaveGate::Open => None,
            SaveGate::Submitted => Some(AppError::conflict("submitted", "this attempt has been submitted; answers can no longer change")),
            SaveGate::DeadlinePassed => {
                Some(AppError::conflict("deadline_passed", "time is up: the deadline has passed and answers can no longer be saved"))
            }
            SaveGate::NoSuchAttempt => Some(AppError::not_found(format!("no attempt {}", s.attempt_id))),
        };
        if let Some(e) = refusal {
            out.push(Err(e));
            continue;
        }
        exam_db::upsert_response(conn, s.attempt_id, s.version_id, &s.choices, s.flagged, s.at)?;
        out.push(Ok(s.at));
    }
    Ok(out)
}

/// Handle to the writer thread.
pub struct SaveWriter {
    tx: mpsc::Sender<Job>,
}

impl SaveWriter {
    /// Starts the writers: one on SQLite (it has one write lock anyway), several on
    /// PostgreSQL, where concurrent transactions each wait on their own commit.
    pub fn start(pool: Pool, writers: usize) -> SaveWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..writers.max(1) {
            let (pool, rx) = (pool.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("lawcert-save-writer-{i}"))
                .spawn(move || run(pool, rx))
                .expect("start the save writer");
        }
        SaveWriter { tx }
    }

    /// Queues a save and waits for its commit.
    pub async fn save(&self, save: Save) -> AppResult<Ts> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Job { save, reply }).map_err(|_| AppError::internal("the save writer has stopped"))?;
        rx.await.map_err(|_| AppError::internal("the save writer dropped a save"))?
    }
}

fn next_batch(rx: &std::sync::Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
    let first = rx.recv().ok()?;
    let mut jobs = vec![first];
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    Some(jobs)
}

fn run(pool: Pool, rx: std::sync::Arc<std::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut restarts = LogRestarts::every(LOG_RESTART_EVERY);
    while let Some(mut jobs) = next_batch(&rx) {
        // every writer locks attempts in ascending order, so two batches never deadlock; the
        // sort is stable, so two saves of one answer keep their order
        jobs.sort_by_key(|j| j.save.attempt_id);
        let (saves, replies): (Vec<Save>, Vec<_>) = jobs.into_iter().map(|j| (j.save, j.reply)).unzip();
        let result =
            pool.get().map_err(AppError::from).and_then(|mut conn| write_tx(&mut conn, |c| store(c, &saves)).map_err(AppError::from));
        match result {
            Ok(results) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
                restarts.after_batch(&pool);
            }
            Err(e) => {
                // nothing of this batch was stored: every request is told so
                eprintln!("save writer: batch of {} failed: {}", replies.len(), e.message);
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
