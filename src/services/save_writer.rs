//! Group commit for answer saves. Requests hand their save to one writer thread, which stores
//! everything that arrived meanwhile in a single transaction and acknowledges each save only
//! after that transaction has committed. On exam day thousands of candidates save every few
//! seconds: one commit per batch instead of per save is what keeps latency flat.
//!
//! The queue is bounded (`QueueLimits`): when it is full, or its oldest save has waited too
//! long, a save is refused at once with 503 `overloaded` and `Retry-After` instead of joining a
//! queue that only grows (seconds of latency, memory climbing). A refused save is not stored
//! and not acknowledged; the exam page keeps it and sends it again later.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rocket::tokio::sync::oneshot;

use crate::db::models::exam::{self as exam_db, SaveGate};
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn, LogRestarts, Pool};
use crate::domain::ids::{AttemptId, VersionId};
use crate::error::{AppError, AppResult};

/// One answer to store.
pub struct Save {
    pub attempt_id: AttemptId,
    pub version_id: VersionId,
    /// Normalised option ids.
    pub choices: String,
    pub flagged: Option<bool>,
    /// When the request arrived: the deadline is judged against this.
    pub at: Ts,
}

struct Job {
    save: Save,
    reply: oneshot::Sender<(AppResult<Ts>, Instant, Instant)>,
    queued: Instant,
}

/// Where one answer save spent its time on this server, stage by stage, for the
/// `save_stage_seconds` histogram: under load the request's total says that saves are slow,
/// this says where they wait (the door, the session and body, preparing, the writer's queue,
/// the commit, or the runtime waking the request after its commit).
#[derive(Clone, Copy, Debug)]
pub struct SaveTrace {
    /// Rocket had the request's head (the request metrics' start).
    pub arrived: Instant,
    /// The door's load check let it in.
    pub admitted: Instant,
    /// Session and body read: the route's own code begins.
    pub handled: Instant,
    pub queued: Option<Instant>,
    /// The writer took the batch holding it.
    pub taken: Option<Instant>,
    /// That batch's transaction committed.
    pub committed: Option<Instant>,
    /// The request ran again with its acknowledgement.
    pub resumed: Option<Instant>,
}

/// The stages of `SaveTrace`, in order, as the histogram labels them.
pub const SAVE_STAGES: [&str; 6] = ["door", "session_and_body", "prepare", "queue", "store", "wake"];

impl SaveTrace {
    pub fn new(arrived: Instant, admitted: Instant) -> SaveTrace {
        SaveTrace { arrived, admitted, handled: Instant::now(), queued: None, taken: None, committed: None, resumed: None }
    }

    /// From its batch's commit to the request running again; None unless it got that far.
    pub fn wake(&self) -> Option<Duration> {
        Some(self.resumed?.saturating_duration_since(self.committed?))
    }

    /// Each stage's time in `SAVE_STAGES` order; None unless the save went all the way through
    /// the writer.
    pub fn stages(&self) -> Option<[Duration; 6]> {
        let (q, t, c, r) = (self.queued?, self.taken?, self.committed?, self.resumed?);
        Some(stage_times([self.arrived, self.admitted, self.handled, q, t, c, r]))
    }
}

/// The times between consecutive points of a request's path (`N` points make `N - 1` stages;
/// `O` is that count), for the stage histograms of saves and starts.
pub fn stage_times<const N: usize, const O: usize>(points: [Instant; N]) -> [Duration; O] {
    const { assert!(N == O + 1, "N points make N - 1 stages") };
    std::array::from_fn(|i| points[i + 1].saturating_duration_since(points[i]))
}

/// How much the save queue may hold (set in `config`).
pub use crate::config::QueueLimits;

/// What the queue has done, for `/metrics` and `/ready`.
#[derive(Default)]
pub struct QueueStats {
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub batches: AtomicU64,
    /// Writer threads running (a panic in one lowers it; `/ready` wants it above 0).
    pub writers_running: AtomicUsize,
}

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
    closed: std::sync::atomic::AtomicBool,
    limits: QueueLimits,
    stats: QueueStats,
    /// Called after each batch's commit (the metrics' histograms).
    on_batch: Box<dyn Fn(&BatchReport) + Send + Sync>,
}

/// One committed batch, as the metrics see it.
pub struct BatchReport {
    pub saves: usize,
    /// How long the batch's oldest save waited in the queue before the writer took it.
    pub waited: Duration,
    /// From taking the batch to its commit: connection, statements, commit.
    pub took: Duration,
}

/// A batch slower than this is logged with its parts: on exam day a slow commit is what makes
/// every candidate's save slow at once, and the log says whether it was the connection, the
/// statements or the commit.
const SLOW_BATCH: Duration = Duration::from_millis(100);

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_full(&self, jobs: &VecDeque<Job>) -> bool {
        jobs.len() >= self.limits.max_depth || jobs.front().is_some_and(|j| j.queued.elapsed() > self.limits.max_wait)
    }

    fn overloaded(&self) -> AppError {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        AppError::overloaded(
            self.limits.retry_after_secs,
            "the server is taking more answers than it can store right now; this one was not saved, send it again shortly",
        )
    }
}

/// How often the writer restarts the SQLite log between batches (see `LogRestarts`). Each
/// restart syncs the database file with the writer's lock held, 10–38 ms on the benchmark's
/// disk, and every save queued meanwhile waits: every 500 ms that was the save p99 (44–61 ms over
/// 5 minutes at 15,000/s), every 5 s it is 6 ms. The price is a longer log: 5 s of saves at
/// about 7 KB each, so about 0.5 GB at 15,000 saves/s (BENCHMARKS.md, eighth round).
const LOG_RESTART_EVERY: Duration = Duration::from_secs(5);

/// Most saves one transaction takes.
const MAX_BATCH: usize = 512;

/// Stores a batch in the current transaction; per save, its acknowledgement or refusal.
/// Each save is stored only if its attempt is unsubmitted and the save arrived before the
/// deadline, checked inside the transaction (on PostgreSQL the check takes the attempt's row
/// lock, so a concurrent submission waits and grades this save).
pub fn store(conn: &mut DbConn, saves: &[Save]) -> diesel::QueryResult<Vec<AppResult<Ts>>> {
    let mut out = Vec::with_capacity(saves.len());
    for s in saves {
        let refusal = match exam_db::store_response_if_open(conn, s.attempt_id, s.version_id, &s.choices, s.flagged, s.at)? {
            SaveGate::Open => None,
            SaveGate::Submitted => {
                Some(AppError::new(crate::error::ErrorCode::Submitted, "this attempt has been submitted; answers can no longer change"))
            }
            SaveGate::DeadlinePassed => Some(AppError::new(
                crate::error::ErrorCode::DeadlinePassed,
                "time is up: the deadline has passed and answers can no longer be saved",
            )),
            SaveGate::NoSuchAttempt => Some(AppError::not_found(format!("no attempt {}", s.attempt_id))),
        };
        out.push(match refusal {
            Some(e) => Err(e),
            None => Ok(s.at),
        });
    }
    Ok(out)
}

/// Handle to the writer threads; dropping it lets them finish what is queued and stop.
pub struct SaveWriter {
    queue: Arc<Queue>,
}

impl SaveWriter {
    /// Starts the writers: one on SQLite (it has one write lock anyway), several on
    /// PostgreSQL, where concurrent transactions each wait on their own commit.
    pub fn start(pool: Pool, writers: usize, limits: QueueLimits, on_batch: Box<dyn Fn(&BatchReport) + Send + Sync>) -> SaveWriter {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            closed: Default::default(),
            limits,
            stats: QueueStats::default(),
            on_batch,
        });
        for i in 0..writers.max(1) {
            let (pool, queue) = (pool.clone(), queue.clone());
            queue.stats.writers_running.fetch_add(1, Ordering::SeqCst);
            std::thread::Builder::new()
                .name(format!("lawcert-save-writer-{i}"))
                .spawn(move || {
                    let _running = Running(&queue.stats.writers_running);
                    run(pool, &queue)
                })
                .expect("start the save writer");
        }
        SaveWriter { queue }
    }

    /// Refuses at once (503 `overloaded`) when the queue is full; a cheap look before a save
    /// is prepared, so an overloaded server spends nothing more on it.
    pub fn check_room(&self) -> AppResult<()> {
        let jobs = self.queue.lock();
        if self.queue.is_full(&jobs) {
            drop(jobs);
            return Err(self.queue.overloaded());
        }
        Ok(())
    }

    /// A refusal decided before the queue (the door's load check), counted with the others.
    pub fn refuse(&self) -> AppError {
        self.queue.overloaded()
    }

    /// Queues a save and waits for its commit; refused at once when the queue is full. The
    /// trace gets the times it was queued, taken, committed and resumed.
    pub async fn save(&self, save: Save, trace: &mut SaveTrace) -> AppResult<Ts> {
        if self.queue.stats.writers_running.load(Ordering::Relaxed) == 0 {
            return Err(AppError::internal("the save writer has stopped"));
        }
        let (reply, rx) = oneshot::channel();
        {
            let mut jobs = self.queue.lock();
            if self.queue.is_full(&jobs) {
                drop(jobs);
                return Err(self.queue.overloaded());
            }
            let queued = Instant::now();
            trace.queued = Some(queued);
            jobs.push_back(Job { save, reply, queued });
        }
        self.queue.stats.accepted.fetch_add(1, Ordering::Relaxed);
        self.queue.ready.notify_one();
        let (result, taken, committed) = rx.await.map_err(|_| AppError::internal("the save writer dropped a save"))?;
        (trace.taken, trace.committed, trace.resumed) = (Some(taken), Some(committed), Some(Instant::now()));
        result
    }

    /// Saves waiting for the writer now.
    pub fn depth(&self) -> usize {
        self.queue.lock().len()
    }

    pub fn stats(&self) -> &QueueStats {
        &self.queue.stats
    }

    pub fn limits(&self) -> QueueLimits {
        self.queue.limits
    }
}

impl Drop for SaveWriter {
    fn drop(&mut self) {
        self.queue.closed.store(true, Ordering::SeqCst);
        self.queue.ready.notify_all();
    }
}

/// Lowers the running-writers count when a writer thread ends, by return or by panic.
struct Running<'a>(&'a AtomicUsize);
impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits for saves and takes up to `MAX_BATCH` of them; None once the writer is closed and
/// nothing is left.
fn next_batch(queue: &Queue) -> Option<Vec<Job>> {
    let mut jobs = queue.lock();
    while jobs.is_empty() {
        if queue.closed.load(Ordering::SeqCst) {
            return None;
        }
        jobs = queue.ready.wait_timeout(jobs, Duration::from_millis(500)).unwrap_or_else(|p| p.into_inner()).0;
    }
    let n = jobs.len().min(MAX_BATCH);
    Some(jobs.drain(..n).collect())
}

fn run(pool: Pool, queue: &Queue) {
    let mut restarts = LogRestarts::every(LOG_RESTART_EVERY);
    while let Some(mut jobs) = next_batch(queue) {
        let taken = Instant::now();
        // the queue is first in, first out: the first job waited longest
        let waited = jobs.first().map(|j| taken.saturating_duration_since(j.queued)).unwrap_or_default();
        // every writer locks attempts in ascending order, so two batches never deadlock; the
        // sort is stable, so two saves of one answer keep their order
        jobs.sort_by_key(|j| j.save.attempt_id);
        let (saves, replies): (Vec<Save>, Vec<_>) = jobs.into_iter().map(|j| (j.save, j.reply)).unzip();
        let mut connected = taken;
        let result = pool.get().map_err(AppError::from).and_then(|mut conn| {
            connected = Instant::now();
            write_tx(&mut conn, |c| store(c, &saves)).map_err(AppError::from)
        });
        let committed = Instant::now();
        match result {
            Ok(results) => {
                let (took, stored) = (committed.duration_since(taken), committed.duration_since(connected));
                // counted before anyone is told, so a save's acknowledgement is never seen
                // ahead of its batch in `/metrics`
                queue.stats.batches.fetch_add(1, Ordering::Relaxed);
                (queue.on_batch)(&BatchReport { saves: saves.len(), waited, took });
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send((r, taken, committed));
                }
                if took > SLOW_BATCH {
                    tracing::warn!(
                        saves = saves.len(),
                        took_ms = took.as_millis() as u64,
                        connection_ms = connected.duration_since(taken).as_millis() as u64,
                        store_and_commit_ms = stored.as_millis() as u64,
                        waited_ms = waited.as_millis() as u64,
                        "slow save batch"
                    );
                }
                restarts.after_batch(&pool);
            }
            Err(e) => {
                // nothing of this batch was stored: every request is told so
                eprintln!("save writer: batch of {} failed: {}", replies.len(), e.message);
                for reply in replies {
                    let _ = reply.send((Err(e.clone()), taken, committed));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
