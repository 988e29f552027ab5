//! What the people running the server see: Prometheus metrics (served at `/metrics` when
//! `LAWCERT_METRICS_TOKEN` is set) and one structured log line per request (`tracing`).

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use crate::services::exams::{StartTrace, START_STAGES};
use crate::services::save_writer::{SaveTrace, SAVE_STAGES};

/// The server's metrics. Counters and histograms move as things happen; gauges of state held
/// elsewhere (queue depth, open attempts, pool use …) are read when scraped (`Snapshot`).
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route template (never the raw path: bounded label values) and status.
    pub requests: IntCounterVec,
    /// Time from the request's arrival to its response, by method and route template.
    pub latency: HistogramVec,
    /// Saves per committed writer transaction.
    pub save_batch: Histogram,
    /// Time from taking a batch to its commit, and how long its oldest save waited before.
    save_batch_seconds: Histogram,
    save_queue_wait: Histogram,
    /// Where accepted answer saves spend their time, one series per `save_writer::SAVE_STAGES`
    /// stage (held, not looked up, per save).
    save_stages: [Histogram; 6],
    /// Where new attempts' starts spend their time, one series per `exams::START_STAGES` stage.
    start_stages: [Histogram; 6],
    /// When the deadline sweeper last finished a pass (Unix seconds).
    pub sweeper_last_run: Gauge,
    save_queue_depth: IntGauge,
    save_queue_max: IntGauge,
    saves_accepted: IntCounter,
    saves_refused: IntCounter,
    save_writers: IntGauge,
    open_attempts: IntGauge,
    sweeper_lag: Gauge,
    runtime_lag: Gauge,
    save_max_lag: Gauge,
    save_refuse_share: Gauge,
    mail_queue: IntGauge,
    mail_failed: IntGauge,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    resident_memory: IntGauge,
}

/// State read at scrape time.
pub struct Snapshot {
    pub save_queue_depth: usize,
    pub save_queue_max: usize,
    pub saves_accepted: u64,
    pub saves_refused: u64,
    pub save_writers: usize,
    pub open_attempts: i64,
    /// Seconds the oldest attempt past its deadline has waited for the sweeper (0 when none).
    pub sweeper_lag_seconds: f64,
    /// How late the async runtime runs now, and the lateness at which saves are refused.
    pub runtime_lag_seconds: f64,
    pub save_max_lag_seconds: f64,
    /// The share of saves refused at the door now for lateness (`services::admission`).
    pub save_refuse_share: f64,
    pub mail_queued: i64,
    pub mail_failed: i64,
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
}

/// One request's stage times into their histograms (nothing when it did not go all the way).
fn observe_stages(histograms: &[Histogram; 6], stages: Option<[std::time::Duration; 6]>) {
    for (h, d) in histograms.iter().zip(stages.into_iter().flatten()) {
        h.observe(d.as_secs_f64());
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    registry.register(Box::new(c.clone())).expect("metric names are unique");
    c
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new_custom(Some("lawcert".into()), None).expect("registry");
        let latency_buckets = vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let batch_buckets = vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
        // a batch of saves takes about a millisecond; the tail that matters is tens to hundreds
        let writer_buckets = vec![0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];
        let stage_buckets = vec![0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
        let int = |name: &str, help: &str| register(&r, IntGauge::new(name, help).expect("gauge"));
        Metrics {
            requests: register(
                &r,
                IntCounterVec::new(
                    Opts::new("http_requests_total", "HTTP requests by method, route and status"),
                    &["method", "route", "status"],
                )
                .expect("counter"),
            ),
            latency: register(
                &r,
                HistogramVec::new(
                    HistogramOpts::new("http_request_duration_seconds", "time from request to response, by method and route")
                        .buckets(latency_buckets),
                    &["method", "route"],
                )
                .expect("histogram"),
            ),
            save_batch: register(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("save_batch_size", "answer saves per committed writer transaction").buckets(batch_buckets),
                )
                .expect("histogram"),
            ),
            save_batch_seconds: register(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("save_batch_seconds", "time from the writer taking a batch of saves to its commit")
                        .buckets(writer_buckets.clone()),
                )
                .expect("histogram"),
            ),
            save_queue_wait: register(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("save_queue_wait_seconds", "how long a batch's oldest save waited in the queue for the writer")
                        .buckets(writer_buckets),
                )
                .expect("histogram"),
            ),
            save_stages: {
                let v = register(
                    &r,
                    HistogramVec::new(
                        HistogramOpts::new(
                            "save_stage_seconds",
                            "time an answer save that reached the writer spent in each stage: door (arrival to the load check), \
                             session_and_body, prepare, queue (waiting for the writer), store (its batch's transaction), \
                             wake (commit to the request running again)",
                        )
                        .buckets(stage_buckets),
                        &["stage"],
                    )
                    .expect("histogram"),
                );
                SAVE_STAGES.map(|stage| v.with_label_values(&[stage]))
            },
            start_stages: {
                let v = register(
                    &r,
                    HistogramVec::new(
                        HistogramOpts::new(
                            "start_stage_seconds",
                            "time a start that created an attempt spent in each stage: session (arrival to the route's code), \
                             connection (waiting for a pool connection), checks (sitting, list, room, code, paper), \
                             write_lock (waiting to begin the write: SQLite's one writer), write (its transaction), \
                             view (the candidate's paper built)",
                        )
                        .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
                        &["stage"],
                    )
                    .expect("histogram"),
                );
                START_STAGES.map(|stage| v.with_label_values(&[stage]))
            },
            sweeper_last_run: register(
                &r,
                Gauge::new("sweeper_last_run_timestamp_seconds", "when the deadline sweeper last finished a pass").expect("gauge"),
            ),
            save_queue_depth: int("save_queue_depth", "answer saves waiting for the writer"),
            save_queue_max: int("save_queue_max", "the save queue's bound (LAWCERT_SAVE_QUEUE_MAX)"),
            saves_accepted: register(&r, IntCounter::new("saves_accepted_total", "answer saves taken into the queue").expect("counter")),
            saves_refused: register(
                &r,
                IntCounter::new("saves_refused_total", "answer saves refused with 503 overloaded").expect("counter"),
            ),
            save_writers: int("save_writers_running", "save writer threads running"),
            open_attempts: int("open_attempts", "attempts started, not submitted, before their deadline"),
            sweeper_lag: register(
                &r,
                Gauge::new("sweeper_lag_seconds", "how long the oldest attempt past its deadline has waited to be submitted")
                    .expect("gauge"),
            ),
            runtime_lag: register(
                &r,
                Gauge::new("runtime_lag_seconds", "how late the server's async runtime runs: a timer's lateness or committed saves' wait to be answered, whichever is larger")
                    .expect("gauge"),
            ),
            save_max_lag: register(
                &r,
                Gauge::new("save_max_lag_seconds", "runtime lateness above which saves are refused at the door (LAWCERT_SAVE_MAX_LAG_MS)")
                    .expect("gauge"),
            ),
            save_refuse_share: register(
                &r,
                Gauge::new("save_refuse_share", "share of answer saves refused at the door now because the runtime runs late (0 to 1)")
                    .expect("gauge"),
            ),
            mail_queue: int("mail_queue_length", "e-mails waiting to be sent"),
            mail_failed: int("mail_failed", "e-mails given up on"),
            pool: register(
                &r,
                IntGaugeVec::new(Opts::new("db_pool_connections", "database connections by state"), &["state"]).expect("gauge"),
            ),
            pool_max: int("db_pool_max", "the pool's size (LAWCERT_DB_POOL)"),
            resident_memory: int("process_resident_memory_bytes", "the server's resident memory"),
            registry: r,
        }
    }

    /// Records one committed batch of saves.
    pub fn observe_batch(&self, b: &crate::services::save_writer::BatchReport) {
        self.save_batch.observe(b.saves as f64);
        self.save_batch_seconds.observe(b.took.as_secs_f64());
        self.save_queue_wait.observe(b.waited.as_secs_f64());
    }

    /// Records where one start spent its time (nothing for a resume or a refusal).
    pub fn observe_start(&self, trace: &StartTrace) {
        observe_stages(&self.start_stages, trace.stages());
    }

    /// Records where one save that reached the writer spent its time (nothing for one refused
    /// before it).
    pub fn observe_save(&self, trace: &SaveTrace) {
        observe_stages(&self.save_stages, trace.stages());
    }

    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, status_label(status)]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// The Prometheus text format of every metric, with the scrape-time state filled in.
    pub fn render(&self, s: &Snapshot) -> String {
        self.save_queue_depth.set(s.save_queue_depth as i64);
        self.save_queue_max.set(s.save_queue_max as i64);
        catch_up(&self.saves_accepted, s.saves_accepted);
        catch_up(&self.saves_refused, s.saves_refused);
        self.save_writers.set(s.save_writers as i64);
        self.open_attempts.set(s.open_attempts);
        self.sweeper_lag.set(s.sweeper_lag_seconds);
        self.runtime_lag.set(s.runtime_lag_seconds);
        self.save_max_lag.set(s.save_max_lag_seconds);
        self.save_refuse_share.set(s.save_refuse_share);
        self.mail_queue.set(s.mail_queued);
        self.mail_failed.set(s.mail_failed);
        self.pool.with_label_values(&["idle"]).set(i64::from(s.pool_idle));
        self.pool.with_label_values(&["in_use"]).set(i64::from(s.pool_connections.saturating_sub(s.pool_idle)));
        self.pool_max.set(i64::from(s.pool_max));
        if let Some(rss) = resident_bytes() {
            self.resident_memory.set(rss);
        }
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Brings a counter up to a total counted elsewhere (counters only go up).
fn catch_up(c: &IntCounter, total: u64) {
    let now = c.get();
    if total > now {
        c.inc_by(total - now);
    }
}

/// Status codes as static label values (no allocation per request).
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// Resident memory from /proc (Linux); None elsewhere.
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: i64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts structured logging to stderr: one line per request (target `lawcert::http`) and
/// whatever else is logged through `tracing`. The filter is `RUST_LOG` (e.g. `info`,
/// `warn,lawcert::http=info`; default `info`). Called by the server binary, once.
pub fn init_logs() {
    use tracing_subscriber::prelude::*;
    let spec = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "info".into());
    let filter: tracing_subscriber::filter::Targets = spec.parse().unwrap_or_else(|e| {
        eprintln!("RUST_LOG={spec:?}: {e}; logging at info");
        tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO)
    });
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(true);
    let _ = tracing_subscriber::registry().with(fmt.with_filter(filter)).try_init();
}
