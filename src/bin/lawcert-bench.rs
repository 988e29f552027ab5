//! Exam-day load benchmark (see BENCHMARKS.md).
//!
//! Starts a fresh lawcert server on a fresh database, seeds N candidates and one sitting, and
//! drives the public API like a bureau on exam day: candidates sign in, start within one
//! window, save answers at a set pace (changing some), most submit and the rest are submitted
//! by the server at the deadline. It then checks every acknowledged save against the database,
//! and measures this machine's ceiling (a minimal Rocket endpoint, raw SQLite upserts).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use diesel::prelude::*;
use http_body_util::{BodyExt, Full};
use lawcert::clock::Clock;
use lawcert::config::Config;
use lawcert::db::models::{org, session};
use lawcert::db::{write_tx, Backend, DbConn};
use lawcert::domain::exam::{Eligibility, Release, SittingKind};
use lawcert::domain::grading::MultiRule;
use lawcert::domain::org::Role;
use lawcert::domain::paper::{BlueprintRule, BlueprintSpec, RuleKind};
use lawcert::services::exams::{create_blueprint, create_sitting, SittingSpec};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rocket::tokio;
use serde_json::{json, Value};

/// The servers' `/metrics` token (the bench scrapes the first server once a second).
const METRICS_TOKEN: &str = "lawcert-bench-metrics-token";

struct Args {
    candidates: usize,
    start_window: f64,
    save_seconds: f64,
    save_interval: f64,
    login_sample: usize,
    submit_share: f64,
    questions: u32,
    database_url: Option<String>,
    json: bool,
    /// Offer this multiple of the capacity (`--capacity`, or measured first with a closed loop).
    overload: Option<f64>,
    capacity: Option<f64>,
    calibrate_seconds: f64,
    /// Every candidate signs in over HTTP (argon2) in a waiting room before the sitting opens.
    sign_in_all: bool,
    /// Sign-ins in flight at once.
    sign_in_concurrency: usize,
    /// App servers (`lawcert` processes) on the one PostgreSQL database, candidates spread over
    /// them round-robin.
    servers: usize,
    /// Leave the papers to be drawn at the start (no papers prepared before the open).
    no_prepare: bool,
    /// This share of the candidates starts late, during the save phase (within its first half),
    /// so starts are measured while the others save.
    late_share: f64,
}

impl Args {
    fn parse() -> Args {
        let mut a = Args {
            candidates: 10_000,
            start_window: 30.0,
            save_seconds: 300.0,
            save_interval: 2.0,
            login_sample: 300,
            submit_share: 0.9,
            questions: 100,
            database_url: std::env::var("DATABASE_URL").ok(),
            json: false,
            overload: None,
            capacity: None,
            calibrate_seconds: 20.0,
            sign_in_all: false,
            sign_in_concurrency: 16,
            servers: 1,
            no_prepare: false,
            late_share: 0.0,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let v = |i: usize| args.get(i + 1).unwrap_or_else(|| die(&format!("{} needs a value", args[i]))).clone();
            let num = |i: usize| v(i).parse::<f64>().unwrap_or_else(|_| die(&format!("{}: not a number", args[i])));
            match args[i].as_str() {
                "--candidates" => a.candidates = num(i) as usize,
                "--start-window" => a.start_window = num(i),
                "--save-seconds" => a.save_seconds = num(i),
                "--save-interval" => a.save_interval = num(i),
                "--login-sample" => a.login_sample = num(i) as usize,
                "--submit-share" => a.submit_share = num(i),
                "--questions" => a.questions = num(i) as u32,
                "--overload" => a.overload = Some(num(i)),
                "--capacity" => a.capacity = Some(num(i)),
                "--calibrate-seconds" => a.calibrate_seconds = num(i),
                "--sign-in-concurrency" => a.sign_in_concurrency = (num(i) as usize).max(1),
                "--servers" => a.servers = (num(i) as usize).max(1),
                "--late-starts" => a.late_share = num(i).clamp(0.0, 1.0),
                "--sign-in-all" | "--no-prepare" => {
                    if args[i] == "--sign-in-all" {
                        a.sign_in_all = true;
                    } else {
                        a.no_prepare = true;
                    }
                    i += 1;
                    continue;
                }
                // what `cargo bench` passes to every benchmark target
                "--bench" => {
                    i += 1;
                    continue;
                }
                "--json" => {
                    a.json = true;
                    i += 1;
                    continue;
                }
                "--smoke" => {
                    a.candidates = 40;
                    a.start_window = 2.0;
                    a.save_seconds = 4.0;
                    a.save_interval = 0.5;
                    a.login_sample = 10;
                    a.questions = 20;
                    i += 1;
                    continue;
                }
                "--help" | "-h" => {
                    println!("usage: lawcert-bench [--smoke] [--candidates N] [--start-window S] [--save-seconds S] [--save-interval S] [--login-sample N] [--submit-share F] [--questions N] [--overload F [--capacity N] [--calibrate-seconds S]] [--sign-in-all [--sign-in-concurrency N]] [--servers N] [--no-prepare] [--late-starts F] [--json]\n(DATABASE_URL=postgres://… benchmarks PostgreSQL: a fresh database is created on that server)\n--sign-in-all: every candidate signs in over HTTP with a real password (argon2) in a waiting room before the sitting opens (N in flight, default 16), then all start when it opens; reports the sign-in rate, latency, the window 10,000 sign-ins need and the argon2 parameters against OWASP's minimum.\n--servers N: N lawcert processes on the one PostgreSQL database, each candidate on one of them (round-robin).\n--no-prepare: no papers prepared before the open (each drawn at the start, as before issue 18).\n--late-starts F: that share of the candidates starts during the first half of the save phase, while the others save; their starts are reported apart.\n--overload F: offer F times the server's capacity in the save phase (the capacity is --capacity saves/s, or measured first by a closed loop of 256 clients for --calibrate-seconds, default 20); refused saves (503) are sent again after Retry-After plus a random, growing extra, as the exam page does, and reported as refused and retried. The server inherits LAWCERT_SAVE_QUEUE_* from this process's environment.");
                    std::process::exit(0);
                }
                other => die(&format!("unknown option {other} (see --help)")),
            }
            i += 2;
        }
        a
    }
}

fn die(msg: &str) -> ! {
    eprintln!("lawcert-bench: {msg}");
    std::process::exit(2);
}

/// Latencies in microseconds, in a fixed-size histogram (3 significant digits, up to 10 min):
/// recording is O(1) and never allocates, so a 5-minute run's millions of saves do not grow a
/// vector under a lock that every save task shares.
struct Lat(hdrhistogram::Histogram<u32>);
impl Default for Lat {
    fn default() -> Lat {
        Lat(hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds"))
    }
}
impl Lat {
    fn record(&mut self, us: u32) {
        self.0.saturating_record(u64::from(us.max(1)));
    }
    fn n(&self) -> u64 {
        self.0.len()
    }
    fn pct(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let us = if p >= 1.0 { self.0.max() } else { self.0.value_at_quantile(p) };
        us as f64 / 1000.0
    }
    fn summary(&self) -> Value {
        json!({"n": self.n(), "p50_ms": self.pct(0.50), "p95_ms": self.pct(0.95), "p99_ms": self.pct(0.99), "max_ms": self.pct(1.0)})
    }
}

#[derive(Default)]
struct Errors(Mutex<HashMap<String, u64>>);
impl Errors {
    fn add(&self, kind: String) {
        *self.0.lock().unwrap().entry(kind).or_default() += 1;
    }
    fn json(&self) -> Value {
        json!(self.0.lock().unwrap().clone())
    }
}

struct Server {
    child: Child,
}
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (peak RSS in MB, CPU seconds so far) of a process, from /proc.
fn proc_stats(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0) + f.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (hwm / 1024.0, ticks / 100.0)
}

struct Db {
    url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A temporary folder removed on drop (the bench avoids a dependency for this).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn fresh_db(url: &Option<String>) -> Db {
    match url {
        Some(u) if u.starts_with("postgres") => {
            let base = u.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(u.clone());
            let name = format!("lawcert_bench_{}", std::process::id());
            let mut admin =
                diesel::PgConnection::establish(&format!("{base}/postgres")).unwrap_or_else(|e| die(&format!("PostgreSQL at {base}: {e}")));
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
            Db { url: format!("{base}/{name}"), cleanup: Some((base, name)), _dir: None }
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("lawcert-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Db { url: dir.join("bench.db").display().to_string(), cleanup: None, _dir: Some(tempfile_dir::Dir(dir)) }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.cleanup {
            if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
            }
        }
    }
}

/// What seeding made: the sitting, every candidate's badge, the tokens minted for candidates
/// who do not sign in over HTTP, the papers prepared (and seconds taken), and the stored hash.
struct Seeded {
    sitting: lawcert::domain::ids::SittingId,
    badges: Vec<String>,
    minted: Vec<String>,
    prepared: usize,
    prepare_s: f64,
    password_hash: String,
}

fn seed(url: &str, a: &Args) -> Seeded {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let u = url.to_string();
    let q = repo.join("questions").display().to_string();
    let cfg = Config::from_lookup(move |k| match k {
        "DATABASE_URL" => Some(u.clone()),
        "LAWCERT_QUESTIONS" => Some(q.clone()),
        "LAWCERT_DEMO" => Some("0".into()),
        _ => None,
    })
    .unwrap();
    let clock = Clock::default();
    let pool = lawcert::prepare(&cfg, &clock).unwrap_or_else(|e| die(&format!("preparing the database: {e:#}")));
    let mut conn = pool.get().unwrap();
    let now = clock.now();
    let hash = lawcert::auth::hash_password("bench-password");
    let badges: Vec<String> = (0..a.candidates).map(|i| format!("B{:06}", i + 1)).collect();
    let mut tokens = Vec::with_capacity(a.candidates);
    write_tx(&mut conn, |c: &mut DbConn| {
        let unit = org::insert_unit(c, &org::NewUnit { parent_id: None, name: "压测市局", kind: "city", created_at: now })?;
        let mk = |badge: &str| org::NewUser {
            badge: badge.into(),
            name: format!("考生{badge}"),
            unit_id: unit,
            police_type: "派出所".into(),
            post: "执法勤务".into(),
            enforcement_post: true,
            rank: "四级警长".into(),
            hire_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            is_leader: false,
            is_legal_officer: false,
            email: None,
            password_hash: hash.clone(),
            active: true,
            created_at: now,
            id_number: None,
        };
        org::insert_user(c, &mk("BT0001"), &[Role::Trainer])?;
        for (i, b) in badges.iter().enumerate() {
            let id = org::insert_user(c, &mk(b), &[Role::Officer])?;
            // candidates past the login sample are "already signed in": their tokens are minted
            // here, as a bureau lets candidates in before the window opens (--sign-in-all signs
            // every one in over HTTP instead)
            if i >= a.login_sample && !a.sign_in_all {
                let t = lawcert::auth::random_token();
                session::create(
                    c,
                    &lawcert::auth::token_hash(&t),
                    id,
                    lawcert::domain::accounts::SessionKind::Api,
                    &lawcert::auth::random_token(),
                    now,
                    now + chrono::Duration::hours(12),
                )?;
                tokens.push(t);
            }
        }
        Ok::<(), diesel::result::Error>(())
    })
    .unwrap();
    let q = a.questions;
    let spec = BlueprintSpec {
        rules: vec![
            BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: q / 2, points_centi: 100 },
            BlueprintRule { kind: RuleKind::Multiple, statute: None, difficulty: None, level: None, count: q / 4, points_centi: 200 },
            BlueprintRule {
                kind: RuleKind::TrueFalse,
                statute: None,
                difficulty: None,
                level: None,
                count: q - q / 2 - q / 4,
                points_centi: 100,
            },
        ],
        ..BlueprintSpec::default()
    };
    let bp = create_blueprint(&mut conn, "压测蓝图", &spec, None, now).unwrap_or_else(|e| die(&e.message));
    // scheduled to open tomorrow, so its papers are prepared before the open (as scheduling
    // does); the bench opens it itself once the candidates are in, and ends the exam itself after
    // the save phase (see below)
    let sid = create_sitting(
        &mut conn,
        &SittingSpec {
            title: "压测考试".into(),
            kind: SittingKind::Bimonthly,
            blueprint_id: bp,
            opens_at: now + chrono::Duration::days(1),
            closes_at: now + chrono::Duration::days(2),
            duration_minutes: 600,
            pass_percent: 60,
            multi_rule: MultiRule::Partial,
            score_release: Release::OnSubmit,
            answer_release: Release::Never,
            eligibility: Eligibility::default(),
            cert_level: None,
            controls: Default::default(),
            plan_id: None,
            makeup_of: None,
        },
        None,
        now,
    )
    .unwrap_or_else(|e| die(&e.message));
    let t = Instant::now();
    let prepared = if a.no_prepare {
        0
    } else {
        lawcert::services::prepared::prepare_sitting(&mut conn, sid, now).unwrap_or_else(|e| die(&e.message))
    };
    Seeded { sitting: sid, badges, minted: tokens, prepared, prepare_s: t.elapsed().as_secs_f64(), password_hash: hash }
}

/// The argon2 parameters of a stored hash (`$argon2id$v=19$m=19456,t=2,p=1$…`) against OWASP's
/// Password Storage Cheat Sheet: argon2id with one of its configurations or stronger (m=47104
/// KiB t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5; all p=1).
fn argon2_params(hash: &str) -> Value {
    let parts: Vec<&str> = hash.split('$').collect();
    let alg = parts.get(1).copied().unwrap_or("");
    let mut m = 0u64;
    let mut t = 0u64;
    let mut p = 0u64;
    for kv in parts.get(3).copied().unwrap_or("").split(',') {
        match kv.split_once('=') {
            Some(("m", v)) => m = v.parse().unwrap_or(0),
            Some(("t", v)) => t = v.parse().unwrap_or(0),
            Some(("p", v)) => p = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    let owasp = [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)];
    let meets = alg == "argon2id" && p >= 1 && owasp.iter().any(|&(om, ot)| m >= om && t >= ot);
    json!({"algorithm": alg, "m_kib": m, "t": t, "p": p, "owasp_minimum": "argon2id m=19456 KiB (19 MiB), t=2, p=1 (or an equivalent pair)",
           "meets_owasp_minimum": meets})
}

/// A started candidate: attempt id, per question its id and option ids, and the app server
/// (index into the servers' addresses) the candidate uses.
struct Paper {
    attempt: i64,
    questions: Vec<(i64, bool, Vec<String>)>,
    server: usize,
    /// Per question, the last acknowledged answer as a mask of option letters (0: none yet);
    /// one candidate's saves never overlap, so a plain store is the last acknowledged.
    acked: Box<[AtomicU16]>,
}

/// The option letters the bank uses (`A`.. for choices, `T`/`F` for true/false), in the order a
/// stored answer lists them; an answer is recorded as a bit per letter.
const LETTERS: &[u8; 9] = b"ABCDEFGHT";

fn letters_mask(choices: &[String]) -> u16 {
    choices.iter().flat_map(|c| c.bytes()).fold(0, |m, b| m | 1 << LETTERS.iter().position(|&l| l == b).expect("checked at the start"))
}

/// The stored form of an answer: its letters in order.
fn mask_letters(mask: u16) -> String {
    LETTERS.iter().enumerate().filter(|(i, _)| mask & 1 << i != 0).map(|(_, &l)| char::from(l)).collect()
}

/// Save outcomes, counted: acknowledged, refused (503), retries sent, acknowledged after at
/// least one refusal, first tries sent, abandoned at the end of the phase while still refused.
#[derive(Default)]
struct SaveCounts([AtomicU64; 6]);
impl SaveCounts {
    fn add(&self, k: usize) {
        self.0[k].fetch_add(1, Ordering::Relaxed);
    }
    fn snapshot(&self) -> [u64; 6] {
        std::array::from_fn(|k| self.0[k].load(Ordering::Relaxed))
    }
}
const ACKED: usize = 0;
const REFUSED: usize = 1;
const RETRIES: usize = 2;
const ACKED_AFTER_REFUSAL: usize = 3;
const FIRST_TRIES: usize = 4;
const ABANDONED: usize = 5;

/// What the save phase shares: the client, the records and the counts. Everything recorded
/// per save is fixed-size (histograms; the acknowledged answers in each paper's own slots), so
/// recording costs the same in minute 5 as in second 1.
struct SaveCtx {
    client: Lean,
    rec: Mutex<SaveRecords>,
    counts: SaveCounts,
    errors: Arc<Errors>,
}

/// Latencies of acknowledged and refused saves, overall and per second since `t0` (for the
/// timeline that shows *when* the slow saves happened).
struct SaveRecords {
    acked: Lat,
    refused: Lat,
    /// Per second since `t0`: the acknowledged saves' latencies and the refusals.
    seconds: Vec<(Lat, u64)>,
    /// The start of the measured phase (`restart`), so a capacity calibration before it never
    /// lands in its timeline.
    t0: Instant,
}

impl Default for SaveRecords {
    fn default() -> SaveRecords {
        SaveRecords { acked: Lat::default(), refused: Lat::default(), seconds: Vec::new(), t0: Instant::now() }
    }
}

impl SaveRecords {
    fn second(&mut self, s: usize) -> &mut (Lat, u64) {
        if self.seconds.len() <= s {
            self.seconds.resize_with(s + 1, || (Lat::default(), 0));
        }
        &mut self.seconds[s]
    }
}

impl SaveCtx {
    fn note(&self, us: u32, refused: bool) {
        let mut rec = self.rec.lock().unwrap();
        let s = rec.t0.elapsed().as_secs() as usize;
        if refused {
            rec.refused.record(us);
            rec.second(s).1 += 1;
        } else {
            rec.acked.record(us);
            rec.second(s).0.record(us);
        }
    }

    /// Forgets everything recorded so far and starts the timeline now (the measured phase);
    /// returns the calibration's acknowledged latencies.
    fn restart(&self) -> (Lat, Instant) {
        let mut rec = self.rec.lock().unwrap();
        let before = std::mem::take(&mut *rec);
        (before.acked, rec.t0)
    }

    /// Per second of the measured phase: saves acknowledged, refused, and the acknowledged
    /// ones' p50/p99/max.
    fn timeline(&self) -> Value {
        let rec = self.rec.lock().unwrap();
        json!(rec
            .seconds
            .iter()
            .enumerate()
            .map(|(s, (l, refused))| json!({"s": s, "acked": l.n(), "refused": refused, "p50_ms": l.pct(0.5), "p99_ms": l.pct(0.99), "max_ms": l.pct(1.0)}))
            .collect::<Vec<_>>())
    }

    /// Sends one answer; on 503 waits Retry-After plus a random extra that doubles per refusal
    /// (as the exam page does) and sends it again, until acknowledged or `end`.
    async fn save_until_acked(&self, tok: &str, paper: &Paper, q: usize, choices: &[String], end: Instant, rng: &mut impl Rng) {
        let (attempt, qid) = (paper.attempt, paper.questions[q].0);
        let mut refusals = 0u32;
        loop {
            self.counts.add(if refusals == 0 { FIRST_TRIES } else { RETRIES });
            let t = Instant::now();
            let body = Bytes::from(serde_json::to_vec(&json!({"choices": choices})).unwrap());
            let r = self
                .client
                .send(paper.server, hyper::Method::PUT, &format!("/api/v1/attempts/{attempt}/answers/{qid}"), Some(tok), body)
                .await;
            let us = t.elapsed().as_micros() as u32;
            match r {
                Ok(r) if (200..300).contains(&r.status) => {
                    self.note(us, false);
                    self.counts.add(ACKED);
                    if refusals > 0 {
                        self.counts.add(ACKED_AFTER_REFUSAL);
                    }
                    paper.acked[q].store(letters_mask(choices), Ordering::Relaxed);
                    return;
                }
                Ok(r) if r.status == 503 => {
                    self.note(us, true);
                    self.counts.add(REFUSED);
                    let after = r.retry_after.unwrap_or(0.0);
                    let spread = (0.5 * 2f64.powi(refusals.min(10) as i32)).min(30.0);
                    refusals += 1;
                    let wait = Duration::from_secs_f64(after + rng.random_range(0.0..spread));
                    if Instant::now() + wait >= end {
                        self.counts.add(ABANDONED);
                        return;
                    }
                    tokio::time::sleep(wait).await;
                }
                Ok(r) => {
                    self.errors.add(format!("save {}", r.status));
                    return;
                }
                Err(e) => {
                    self.errors.add(format!("save {e}"));
                    return;
                }
            }
        }
    }
}

/// `workers` clients saving back to back for `length`, each for its own share of the
/// candidates (so one candidate's saves never overlap): the rate the server can take.
async fn closed_loop(ctx: &Arc<SaveCtx>, started: &Arc<Vec<(String, Paper)>>, workers: usize, length: Duration) {
    let end = Instant::now() + length;
    let mut hs = Vec::new();
    for w in 0..workers.min(started.len()) {
        let (ctx, started) = (ctx.clone(), started.clone());
        hs.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_os_rng();
            let mine: Vec<usize> = (w..started.len()).step_by(workers).collect();
            let mut k = 0;
            while Instant::now() < end {
                let (tok, paper) = &started[mine[k % mine.len()]];
                k += 1;
                let q = rng.random_range(0..paper.questions.len());
                let (_, multiple, options) = &paper.questions[q];
                let choices = random_choices(&mut rng, *multiple, options);
                ctx.save_until_acked(tok, paper, q, &choices, end, &mut rng).await;
            }
        }));
    }
    for h in hs {
        let _ = h.await;
    }
}

/// One candidate starts (`POST /api/v1/sittings/{id}/attempts`): their paper, the latency
/// recorded, or the error counted.
/// Once a second during the saves: the first server's writer and runtime as its `/metrics`
/// shows them, and how late this generator's own runtime runs. A slow second in the save
/// timeline then shows its cause: slow commits, a late server, or a late generator (whose
/// lateness is counted in every latency it measures).
async fn probe(client: reqwest::Client, base: String, token: String, server_pid: u32, end: Instant) -> Value {
    let counters = [
        "lawcert_http_request_duration_seconds_count{method=\"PUT\",route=\"/api/v1/attempts/<id>/answers/<version_id>\"}",
        "lawcert_http_request_duration_seconds_bucket{method=\"PUT\",route=\"/api/v1/attempts/<id>/answers/<version_id>\",le=\"0.05\"}",
        "lawcert_save_batch_seconds_count",
        "lawcert_save_batch_seconds_sum",
        "lawcert_save_batch_seconds_bucket{le=\"0.05\"}",
        "lawcert_save_queue_wait_seconds_sum",
        "lawcert_save_queue_wait_seconds_bucket{le=\"0.05\"}",
    ];
    // per stage of a save (`save_writer::SAVE_STAGES`): its count, its time, and how many took under 25 ms
    let stages = lawcert::services::save_writer::SAVE_STAGES;
    let stage_series: Vec<String> = stages
        .iter()
        .flat_map(|st| {
            [
                format!("lawcert_save_stage_seconds_count{{stage=\"{st}\"}}"),
                format!("lawcert_save_stage_seconds_sum{{stage=\"{st}\"}}"),
                format!("lawcert_save_stage_seconds_bucket{{stage=\"{st}\",le=\"0.025\"}}"),
            ]
        })
        .collect();
    let read = metric_value;
    let mut prev: Option<Vec<f64>> = None;
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut second = Instant::now();
    let mut gen_lag = Duration::ZERO;
    let mut expected = Instant::now();
    while Instant::now() < end {
        tick.tick().await;
        let now = Instant::now();
        gen_lag = gen_lag.max(now.saturating_duration_since(expected));
        expected = now + Duration::from_millis(5);
        if now.duration_since(second) < Duration::from_secs(1) {
            continue;
        }
        second = now;
        let text = match client.get(format!("{base}/metrics")).bearer_auth(&token).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let mut v: Vec<f64> = counters.iter().map(|c| read(&text, c)).collect();
        v.push(proc_stats(server_pid).1);
        v.push(proc_stats(std::process::id()).1);
        v.extend(stage_series.iter().map(|c| read(&text, c)));
        if let Some(p) = &prev {
            let d: Vec<f64> = v.iter().zip(p).map(|(a, b)| a - b).collect();
            let batches = d[2].max(1.0);
            out.push(json!({
                "s": out.len(),
                // the server's own view of the saves: arrival at Rocket to response
                "server_saves": d[0],
                "server_saves_over_50ms": d[0] - d[1],
                "batches": d[2],
                "commit_mean_ms": d[3] * 1000.0 / batches,
                "commits_over_50ms": d[2] - d[4],
                "queue_wait_mean_ms": d[5] * 1000.0 / batches,
                "queue_waits_over_50ms": d[2] - d[6],
                "server_cpu": d[7],
                "generator_cpu": d[8],
                "server_lag_ms": read(&text, "lawcert_runtime_lag_seconds") * 1000.0,
                "generator_lag_max_ms": gen_lag.as_secs_f64() * 1000.0,
                "stages": stages.iter().enumerate().map(|(i, st)| {
                    let (n, sum, fast) = (d[9 + 3 * i], d[10 + 3 * i], d[11 + 3 * i]);
                    (st.to_string(), json!({ "mean_ms": sum * 1000.0 / n.max(1.0), "over_25ms": n - fast }))
                }).collect::<serde_json::Map<_, _>>(),
            }));
        }
        prev = Some(v);
        gen_lag = Duration::ZERO;
        // the scrape's own wait is not lateness
        tick.reset();
        expected = Instant::now() + Duration::from_millis(5);
    }
    json!(out)
}

/// A series' value in Prometheus text (name and labels as printed); 0 when absent.
fn metric_value(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

/// A start's stages as one line: mean per stage, and how many took over 100 ms.
fn stage_line(stages: &Value) -> String {
    lawcert::services::exams::START_STAGES
        .iter()
        .map(|st| {
            let (mean, slow) = (stages[st]["mean_ms"].as_f64().unwrap_or(0.0), stages[st]["over_100ms"].as_f64().unwrap_or(0.0));
            format!("{st} {mean:.1} ms ({slow:.0} over 100 ms)")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every server's `start_stage_seconds` (`exams::START_STAGES`) summed: per stage its count,
/// its time, and how many took under 100 and under 500 ms. Two snapshots' difference is where
/// the starts between them spent their time.
async fn start_stage_totals(client: &reqwest::Client, bases: &[String]) -> Vec<[f64; 4]> {
    let mut out = vec![[0.0; 4]; lawcert::services::exams::START_STAGES.len()];
    for base in bases {
        let text = match client.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let read = |name: &str| metric_value(&text, name);
        for (i, st) in lawcert::services::exams::START_STAGES.iter().enumerate() {
            out[i][0] += read(&format!("lawcert_start_stage_seconds_count{{stage=\"{st}\"}}"));
            out[i][1] += read(&format!("lawcert_start_stage_seconds_sum{{stage=\"{st}\"}}"));
            out[i][2] += read(&format!("lawcert_start_stage_seconds_bucket{{stage=\"{st}\",le=\"0.1\"}}"));
            out[i][3] += read(&format!("lawcert_start_stage_seconds_bucket{{stage=\"{st}\",le=\"0.5\"}}"));
        }
    }
    out
}

/// Where the starts between two `start_stage_totals` snapshots spent their time, per stage.
fn start_stages_between(before: &[[f64; 4]], after: &[[f64; 4]]) -> Value {
    lawcert::services::exams::START_STAGES
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let d: Vec<f64> = (0..4).map(|k| after[i][k] - before[i][k]).collect();
            (
                st.to_string(),
                json!({"starts": d[0], "mean_ms": d[1] * 1000.0 / d[0].max(1.0), "over_100ms": d[0] - d[2], "over_500ms": d[0] - d[3]}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn start_one(
    c: &reqwest::Client,
    base: &str,
    sid: lawcert::domain::ids::SittingId,
    tok: &str,
    server: usize,
    lat: &Mutex<Lat>,
    errs: &Errors,
) -> Option<Paper> {
    let t = Instant::now();
    let r = c.post(format!("{base}/api/v1/sittings/{sid}/attempts")).bearer_auth(tok).send().await;
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            errs.add(format!("start {}", if e.is_timeout() { "timeout" } else { "connection" }));
            return None;
        }
    };
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    lat.lock().unwrap().record(t.elapsed().as_micros() as u32);
    if !status.is_success() {
        errs.add(format!("start {status}"));
        return None;
    }
    let questions: Vec<(i64, bool, Vec<String>)> = body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_i64().unwrap(),
                q["kind"] == "multiple",
                q["options"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect(),
            )
        })
        .collect();
    if let Some(bad) = questions.iter().flat_map(|q| &q.2).find(|o| !matches!(o.as_bytes(), [l] if LETTERS.contains(l))) {
        die(&format!("option id {bad:?}: the generator records answers as the letters A to H and T"));
    }
    let acked = questions.iter().map(|_| AtomicU16::new(0)).collect();
    Some(Paper { attempt: body["attempt_id"].as_i64().unwrap(), questions, server, acked })
}

/// One candidate saves an answer every `interval` (from a random first moment) until `end`.
async fn save_loop(ctx: &SaveCtx, tok: &str, paper: &Paper, interval: f64, end: Instant) {
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut next = Instant::now() + Duration::from_secs_f64(rng.random_range(0.0..interval));
    loop {
        tokio::time::sleep_until(next.into()).await;
        if Instant::now() >= end {
            break;
        }
        next += Duration::from_secs_f64(interval);
        let q = rng.random_range(0..paper.questions.len());
        let (_, multiple, options) = &paper.questions[q];
        let choices = random_choices(&mut rng, *multiple, options);
        ctx.save_until_acked(tok, paper, q, &choices, end, &mut rng).await;
        // a candidate whose answer waited through refusals sends the next one at once,
        // as the page does with what queued meanwhile, not every slot it missed
        next = next.max(Instant::now());
    }
}

fn random_choices(rng: &mut impl Rng, multiple: bool, options: &[String]) -> Vec<String> {
    if multiple {
        let mut v: Vec<String> = options.iter().filter(|_| rng.random_bool(0.5)).cloned().collect();
        if v.is_empty() {
            v.push(options[0].clone());
        }
        v
    } else {
        vec![options.choose(rng).unwrap().clone()]
    }
}

/// A minimal Rocket endpoint driven by the same client and clients as the saves: what this
/// machine's HTTP stack can do at most.
async fn ceiling_rocket(seconds: f64) -> f64 {
    #[rocket::get("/ping")]
    fn ping() -> &'static str {
        "pong"
    }
    let port = free_port();
    let fig =
        rocket::Config::figment().merge(("port", port)).merge(("log_level", "off")).merge(("secret_key", lawcert::auth::random_token()));
    let rocket = rocket::custom(fig).mount("/", rocket::routes![ping]).ignite().await.unwrap();
    let shutdown = rocket.shutdown();
    tokio::spawn(rocket.launch());
    let client = Arc::new(Lean::new(&[format!("http://127.0.0.1:{port}")]));
    while client.send(0, hyper::Method::GET, "/ping", None, Bytes::new()).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut hs = Vec::new();
    for _ in 0..64 {
        let (c, n) = (client.clone(), n.clone());
        hs.push(tokio::spawn(async move {
            while Instant::now() < end {
                if c.send(0, hyper::Method::GET, "/ping", None, Bytes::new()).await.is_ok() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in hs {
        let _ = h.await;
    }
    shutdown.notify();
    n.load(Ordering::Relaxed) as f64 / seconds
}

/// The load generator's HTTP client for saves: plain HTTP/1.1 connections (hyper's low-level
/// client), kept per app server and reused last in, first out. reqwest's general-purpose client
/// cost 64–87 µs of CPU per request on the two cores the server under test also needs (issue
/// 18); this one does only what a save needs: a kept-alive connection, one request, the status
/// and `Retry-After`.
struct Lean {
    servers: Vec<LeanServer>,
}

struct LeanServer {
    addr: std::net::SocketAddr,
    host: hyper::header::HeaderValue,
    idle: Mutex<Vec<hyper::client::conn::http1::SendRequest<Full<Bytes>>>>,
}

/// What came back: the status and, on a refusal, `Retry-After` in seconds.
struct LeanReply {
    status: u16,
    retry_after: Option<f64>,
}

impl Lean {
    fn new(bases: &[String]) -> Lean {
        let servers = bases
            .iter()
            .map(|b| {
                let authority = b.trim_start_matches("http://");
                LeanServer {
                    addr: authority.parse().unwrap_or_else(|_| die(&format!("{b}: not an http://IP:port address"))),
                    host: hyper::header::HeaderValue::from_str(authority).unwrap(),
                    idle: Mutex::new(Vec::new()),
                }
            })
            .collect();
        Lean { servers }
    }

    /// One request; a connection taken from the idle ones that turns out closed by the server
    /// (its keep-alive ran out) is replaced by a new one once.
    async fn send(
        &self,
        server: usize,
        method: hyper::Method,
        path: &str,
        token: Option<&str>,
        body: Bytes,
    ) -> Result<LeanReply, &'static str> {
        use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER};
        let s = &self.servers[server];
        let auth = token.map(|t| hyper::header::HeaderValue::from_str(&format!("Bearer {t}")).unwrap());
        for fresh in [false, true] {
            let pooled = if fresh { None } else { s.idle.lock().unwrap().pop() };
            let from_pool = pooled.is_some();
            let mut conn = match pooled {
                Some(c) => c,
                None => s.connect().await?,
            };
            if conn.ready().await.is_err() {
                if from_pool {
                    continue;
                }
                return Err("connection");
            }
            let mut req = hyper::Request::builder().method(method.clone()).uri(path).header(HOST, s.host.clone());
            if let Some(a) = &auth {
                req = req.header(AUTHORIZATION, a.clone());
            }
            if !body.is_empty() {
                req = req.header(CONTENT_TYPE, "application/json");
            }
            let req = req.body(Full::new(body.clone())).unwrap();
            match tokio::time::timeout(Duration::from_secs(60), conn.send_request(req)).await {
                Err(_) => return Err("timeout"),
                Ok(Err(_)) if from_pool => continue,
                Ok(Err(_)) => return Err("connection"),
                Ok(Ok(resp)) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<f64>().ok());
                    // the body must be read before the connection can carry the next request
                    if resp.into_body().collect().await.is_ok() {
                        s.idle.lock().unwrap().push(conn);
                    }
                    return Ok(LeanReply { status, retry_after });
                }
            }
        }
        Err("connection")
    }
}

impl LeanServer {
    async fn connect(&self) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, &'static str> {
        let stream = tokio::net::TcpStream::connect(self.addr).await.map_err(|_| "connection")?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|_| "connection")?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }
}

fn ceiling_sqlite(seconds: f64) -> f64 {
    let dir = std::env::temp_dir().join(format!("lawcert-ceiling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _d = tempfile_dir::Dir(dir.clone());
    let mut c = diesel::SqliteConnection::establish(dir.join("c.db").to_str().unwrap()).unwrap();
    use diesel::connection::SimpleConnection;
    c.batch_execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL);")
        .unwrap();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    let mut rng = rand::rng();
    while Instant::now() < end {
        let k: i64 = rng.random_range(0..100_000);
        diesel::sql_query("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
            .bind::<diesel::sql_types::BigInt, _>(k)
            .bind::<diesel::sql_types::Text, _>("AC")
            .execute(&mut c)
            .unwrap();
        n += 1;
    }
    n as f64 / seconds
}

/// (sum of peak RSS in MB, sum of CPU seconds) over the app servers.
fn servers_stats(pids: &[u32]) -> (f64, f64) {
    pids.iter().map(|p| proc_stats(*p)).fold((0.0, 0.0), |(r, c), (r1, c1)| (r + r1, c + c1))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn main() {
    let a = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run(a));
}

async fn run(a: Args) {
    let db = fresh_db(&a.database_url);
    let backend = if db.url.starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite };
    eprintln!("seeding {} candidates on {:?} …", a.candidates, backend);
    let t = Instant::now();
    if a.servers > 1 && backend != Backend::Postgres {
        die("--servers N needs PostgreSQL (DATABASE_URL=postgres://…): a SQLite database is one server's file");
    }
    let seeded = seed(&db.url, &a);
    let (sid, badges, minted) = (seeded.sitting, seeded.badges.clone(), seeded.minted.clone());
    let seed_s = t.elapsed().as_secs_f64();

    // cargo builds the server beside the benchmark, in the same profile
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_lawcert"));
    if !exe.exists() {
        die(&format!("{} not found: run the benchmark through cargo (cargo bench --bench lawcert-bench -- FLAGS)", exe.display()));
    }
    // N app servers on the one database, each on its own port
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..a.servers {
        let port = free_port();
        let child = Command::new(&exe)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", &db.url)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_SECRET_KEY", lawcert::auth::random_token())
            .env("ROCKET_LOG_LEVEL", "off")
            // a log line per request would flood this terminal: warnings only, unless RUST_LOG says
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .env("LAWCERT_DEMO", "0")
            .env("LAWCERT_SWEEP_SECONDS", "2")
            .env("LAWCERT_METRICS_TOKEN", METRICS_TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        servers.push(Server { child });
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).timeout(Duration::from_secs(60)).build().unwrap();
    for (base, server) in bases.iter().zip(servers.iter_mut()) {
        while client.get(format!("{base}/login")).send().await.is_err() {
            // a server that could not start (its reason is on stderr above) ends the run
            if let Ok(Some(status)) = server.child.try_wait() {
                die(&format!("the app server at {base} exited ({status}) before answering"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let bases = Arc::new(bases);
    let errors = Arc::new(Errors::default());

    // 1. sign-in over HTTP (argon2: this is the costly part of a login storm): a sample, or with
    //    --sign-in-all every candidate, in the waiting room before the sitting opens
    let sample = if a.sign_in_all { a.candidates } else { a.login_sample.min(a.candidates) };
    let (_, login_cpu_before) = servers_stats(&pids);
    let t = Instant::now();
    let login_lat = Arc::new(Mutex::new(Lat::default()));
    let mut tokens: Vec<String> = Vec::with_capacity(a.candidates);
    {
        let sem = Arc::new(tokio::sync::Semaphore::new(if a.sign_in_all { a.sign_in_concurrency } else { 8 }));
        let mut hs = Vec::new();
        for (i, b) in badges.iter().take(sample).enumerate() {
            let base = bases[i % bases.len()].clone();
            let (c, b, sem, lat, errs) = (client.clone(), b.clone(), sem.clone(), login_lat.clone(), errors.clone());
            hs.push(tokio::spawn(async move {
                let _p = sem.acquire().await.unwrap();
                let t = Instant::now();
                let r = c.post(format!("{base}/api/v1/auth/token")).json(&json!({"badge": b, "password": "bench-password"})).send().await;
                lat.lock().unwrap().record(t.elapsed().as_micros() as u32);
                match r {
                    Ok(r) if r.status().is_success() => Some(r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()),
                    Ok(r) => {
                        errs.add(format!("login {}", r.status()));
                        None
                    }
                    Err(e) => {
                        errs.add(format!("login {}", if e.is_timeout() { "timeout" } else { "connection" }));
                        None
                    }
                }
            }));
        }
        for h in hs {
            if let Some(t) = h.await.unwrap() {
                tokens.push(t);
            }
        }
    }
    let login_s = t.elapsed().as_secs_f64();
    let (_, login_cpu_after) = servers_stats(&pids);
    tokens.extend(minted);
    let logins_per_s = sample as f64 / login_s;

    // the sitting opens: everyone is in (signed in, waiting); its papers were prepared
    let pool = lawcert::db::connect(&lawcert::db::DbUrl::parse(&db.url).unwrap(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    {
        use lawcert::db::schema::sittings;
        let opens = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
        diesel::update(sittings::table.find(sid)).set(sittings::opens_at.eq(opens)).execute(&mut conn).unwrap();
    }

    // 2. everyone starts within the window
    let start_lat = Arc::new(Mutex::new(Lat::default()));
    let stages_before_open = start_stage_totals(&client, &bases).await;
    let (_, start_cpu_before) = servers_stats(&pids);
    let t0 = Instant::now();
    let mut hs = Vec::new();
    // the late starters (--late-starts) are the last ones; they start in the save phase
    let late = ((tokens.len() as f64 * a.late_share).round() as usize).min(tokens.len());
    let late_tokens: Vec<(usize, String)> = tokens.iter().cloned().enumerate().skip(tokens.len() - late).collect();
    let n = tokens.len() - late;
    for (i, tok) in tokens.iter().take(n).enumerate() {
        let server = i % bases.len();
        let base = bases[server].clone();
        let (c, tok, lat, errs) = (client.clone(), tok.clone(), start_lat.clone(), errors.clone());
        let at = t0 + Duration::from_secs_f64(a.start_window * i as f64 / n as f64);
        hs.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let paper = start_one(&c, &base, sid, &tok, server, &lat, &errs).await?;
            Some((tok, paper))
        }));
    }
    let mut started = Vec::new();
    for h in hs {
        if let Some(p) = h.await.unwrap() {
            started.push(p);
        }
    }
    let start_s = t0.elapsed().as_secs_f64();
    let (_, start_cpu_after) = servers_stats(&pids);
    let stages_after_open = start_stage_totals(&client, &bases).await;
    // papers prepared and not taken by a start (0 when every candidate started on theirs)
    let prepared_left = lawcert::db::models::prepared::count(&mut conn, sid).unwrap();

    // 3. saves at a steady pace per candidate (with --overload: first measure the capacity,
    //    then offer a multiple of it)
    let ctx = Arc::new(SaveCtx { client: Lean::new(&bases), rec: Default::default(), counts: Default::default(), errors: errors.clone() });
    let started = Arc::new(started);
    let mut calibration = Value::Null;
    let mut save_interval = a.save_interval;
    if let Some(factor) = a.overload {
        let capacity = match a.capacity {
            Some(c) => c,
            None => {
                eprintln!("measuring capacity: 256 clients saving back to back for {} s …", a.calibrate_seconds);
                let before = ctx.counts.snapshot();
                let t = Instant::now();
                closed_loop(&ctx, &started, 256, Duration::from_secs_f64(a.calibrate_seconds)).await;
                let secs = t.elapsed().as_secs_f64();
                let after = ctx.counts.snapshot();
                let c = (after[ACKED] - before[ACKED]) as f64 / secs;
                calibration = json!({"seconds": secs, "acknowledged_per_s": c, "refused": after[REFUSED] - before[REFUSED],
                                     "latency": ctx.restart().0.summary()});
                c
            }
        };
        save_interval = started.len() as f64 / (factor * capacity);
        eprintln!(
            "capacity {capacity:.0} saves/s: offering {factor} × = {:.0}/s (one save per candidate every {save_interval:.3} s)",
            factor * capacity
        );
        calibration["capacity_per_s"] = json!(capacity);
        calibration["factor"] = json!(factor);
        calibration["offered_per_s"] = json!(factor * capacity);
    }
    let (_, cpu_before_saves) = servers_stats(&pids);
    let (_, self_cpu_before) = proc_stats(std::process::id());
    let counts_before = ctx.counts.snapshot();
    let (_, t1) = ctx.restart();
    let end = t1 + Duration::from_secs_f64(a.save_seconds);
    let probing = tokio::spawn(probe(client.clone(), bases[0].clone(), METRICS_TOKEN.to_string(), pids[0], end));
    let mut hs = Vec::new();
    for i in 0..started.len() {
        let (ctx, started) = (ctx.clone(), started.clone());
        let interval = save_interval;
        hs.push(tokio::spawn(async move {
            let (tok, paper) = &started[i];
            save_loop(&ctx, tok, paper, interval, end).await;
            None
        }));
    }
    // late starters: each starts at a random moment in the first half of the phase, then saves
    let late_lat = Arc::new(Mutex::new(Lat::default()));
    for (i, tok) in late_tokens {
        let server = i % bases.len();
        let (ctx, c, base, lat, errs) = (ctx.clone(), client.clone(), bases[server].clone(), late_lat.clone(), errors.clone());
        let interval = save_interval;
        let at = t1 + Duration::from_secs_f64(rand::rng().random_range(0.0..a.save_seconds / 2.0));
        hs.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let paper = start_one(&c, &base, sid, &tok, server, &lat, &errs).await?;
            save_loop(&ctx, &tok, &paper, interval, end).await;
            Some(paper)
        }));
    }
    let mut late_papers = Vec::new();
    for h in hs {
        late_papers.extend(h.await.unwrap());
    }
    let late_started = late_papers.len();
    let save_s = t1.elapsed().as_secs_f64();
    let stages_after_saves = start_stage_totals(&client, &bases).await;
    let probed = probing.await.unwrap();
    let (_, cpu_after_saves) = servers_stats(&pids);
    let (_, self_cpu_after) = proc_stats(std::process::id());
    let counts = ctx.counts.snapshot();
    let phase = |k: usize| counts[k] - counts_before[k];
    let saves = phase(ACKED);

    // 4. most submit at once; the server submits the rest when the sitting closes
    let submitters = (started.len() as f64 * a.submit_share).round() as usize;
    let submit_lat = Arc::new(Mutex::new(Lat::default()));
    let t2 = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut hs = Vec::new();
    for i in 0..submitters {
        let (c, bases, started, lat, errs, sem) =
            (client.clone(), bases.clone(), started.clone(), submit_lat.clone(), errors.clone(), sem.clone());
        hs.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let (tok, paper) = &started[i];
            let t = Instant::now();
            match c.post(format!("{}/api/v1/attempts/{}/submit", bases[paper.server], paper.attempt)).bearer_auth(tok).send().await {
                Ok(r) if r.status().is_success() => lat.lock().unwrap().record(t.elapsed().as_micros() as u32),
                Ok(r) => errs.add(format!("submit {}", r.status())),
                Err(_) => errs.add("submit connection".into()),
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    let grade_s = t2.elapsed().as_secs_f64();

    // the exam ends: the remaining attempts reach their deadline in 3 s, and the server's
    // sweeper must submit them with what they saved
    use lawcert::db::schema::{attempts, responses};
    let end_at = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(3);
    diesel::update(attempts::table.filter(attempts::submitted_at.is_null())).set(attempts::deadline.eq(end_at)).execute(&mut conn).unwrap();
    let wait_start = Instant::now();
    loop {
        let open: i64 = attempts::table.filter(attempts::score_centi.is_null()).count().get_result(&mut conn).unwrap();
        if open == 0 || wait_start.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let straggler_wait_s = wait_start.elapsed().as_secs_f64();
    let (peak_rss_mb, cpu_total) = servers_stats(&pids);
    let per_server: Vec<Value> = pids
        .iter()
        .map(|p| {
            let (rss, cpu) = proc_stats(*p);
            json!({"peak_rss_mb": rss, "cpu_seconds": cpu})
        })
        .collect();

    // 5. every acknowledged save is in the database, exactly as acknowledged
    let stored: Vec<(i64, i64, String)> =
        responses::table.select((responses::attempt_id, responses::question_version_id, responses::choices)).load(&mut conn).unwrap();
    let stored: HashMap<(i64, i64), String> = stored.into_iter().map(|(a, q, c)| ((a, q), c)).collect();
    let acked: HashMap<(i64, i64), String> = started
        .iter()
        .map(|(_, p)| p)
        .chain(&late_papers)
        .flat_map(|p| {
            p.questions.iter().zip(&p.acked).filter_map(|(q, m)| {
                let m = m.load(Ordering::Relaxed);
                (m != 0).then(|| ((p.attempt, q.0), mask_letters(m)))
            })
        })
        .collect();
    let (lost, unacked_stored, acked_count) = (
        acked.iter().filter(|(k, v)| stored.get(k) != Some(v)).count(),
        stored.keys().filter(|k| !acked.contains_key(k)).count(),
        acked.len(),
    );
    let total_attempts: i64 = attempts::table.count().get_result(&mut conn).unwrap();
    let graded: i64 = attempts::table.filter(attempts::score_centi.is_not_null()).count().get_result(&mut conn).unwrap();
    let auto: i64 = attempts::table.filter(attempts::submit_kind.eq("auto")).count().get_result(&mut conn).unwrap();
    drop(conn);

    // 6. this machine's ceiling, measured the same way
    let rocket_ceiling = ceiling_rocket(5.0).await;
    let sqlite_ceiling = ceiling_sqlite(3.0);

    let save_rate = saves as f64 / save_s;
    let report = json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "memory_gb": mem_gb() },
        "backend": format!("{backend:?}"),
        "scenario": { "candidates": a.candidates, "questions_per_paper": a.questions, "start_window_s": a.start_window, "save_seconds": a.save_seconds,
                      "save_interval_s": a.save_interval, "login_sample": sample, "submit_share": a.submit_share },
        "seed_s": seed_s,
        "servers": a.servers,
        "login": { "mode": if a.sign_in_all { "every candidate, in the waiting room before the open" } else { "sample" },
                   "signed_in": sample, "seconds": login_s, "in_flight": if a.sign_in_all { a.sign_in_concurrency } else { 8 },
                   "per_s": logins_per_s, "latency": login_lat.lock().unwrap().summary(),
                   "window_for_10000_s": 10_000.0 / logins_per_s,
                   "server_cpu_ms_per_sign_in": (login_cpu_after - login_cpu_before) * 1000.0 / sample.max(1) as f64,
                   "argon2": argon2_params(&seeded.password_hash) },
        "prepared": { "papers": seeded.prepared, "seconds": seeded.prepare_s, "left_after_starts": prepared_left },
        "late_starts": { "share": a.late_share, "started": late_started, "of": late, "latency": late_lat.lock().unwrap().summary(),
                         "stages": start_stages_between(&stages_after_open, &stages_after_saves) },
        "start": { "attempts": started.len(), "seconds": start_s, "per_s": started.len() as f64 / start_s, "latency": start_lat.lock().unwrap().summary(),
                   "server_cpu_ms_per_start": (start_cpu_after - start_cpu_before) * 1000.0 / started.len().max(1) as f64,
                   "stages": start_stages_between(&stages_before_open, &stages_after_open) },
        "save": { "acknowledged": saves, "seconds": save_s, "per_s": save_rate, "latency": ctx.rec.lock().unwrap().acked.summary(),
                  "offered_per_s": (started.len() + late_started) as f64 / save_interval, "first_tries": phase(FIRST_TRIES),
                  "refused_503": phase(REFUSED), "retries": phase(RETRIES), "acknowledged_after_refusal": phase(ACKED_AFTER_REFUSAL),
                  "abandoned_at_end": phase(ABANDONED),
                  "refusal_latency": ctx.rec.lock().unwrap().refused.summary(),
                  "timeline": ctx.timeline(),
                  "server_timeline": probed,
                  "server_cpu_percent": (cpu_after_saves - cpu_before_saves) / save_s * 100.0,
                  "load_generator_cpu_percent": (self_cpu_after - self_cpu_before) / save_s * 100.0,
                  "server_cpu_us_per_save": (cpu_after_saves - cpu_before_saves) * 1e6 / saves.max(1) as f64,
                  "load_generator_cpu_us_per_request": (self_cpu_after - self_cpu_before) * 1e6 / (phase(FIRST_TRIES) + phase(RETRIES)).max(1) as f64 },
        "overload": calibration,
        "submit": { "submitted_by_candidates": submitters, "seconds_to_grade_all": grade_s, "latency": submit_lat.lock().unwrap().summary(),
                    "submitted_by_server": auto, "wait_for_server_submission_s": straggler_wait_s },
        "errors": errors.json(),
        "server": { "peak_rss_mb": peak_rss_mb, "cpu_seconds": cpu_total, "per_server": per_server },
        "integrity": { "acknowledged_saves_checked": acked_count, "lost_or_changed": lost, "stored_without_ack": unacked_stored,
                       "attempts": total_attempts, "graded": graded },
        "ceiling": { "minimal_rocket_rps": rocket_ceiling, "sqlite_upserts_per_s": sqlite_ceiling,
                     "save_rate_vs_rocket": save_rate / rocket_ceiling, "save_rate_vs_sqlite": save_rate / sqlite_ceiling },
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    } else {
        print_report(&report);
    }
    let ok = lost == 0 && graded == total_attempts && total_attempts as usize == started.len() + late_started;
    if !ok {
        eprintln!("INTEGRITY CHECK FAILED: {lost} acknowledged saves lost or changed; {graded}/{total_attempts} attempts graded");
        std::process::exit(1);
    }
}

fn mem_gb() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0)
}

fn print_report(r: &Value) {
    let f = |v: &Value| v.as_f64().map(|x| format!("{x:.1}")).unwrap_or_else(|| v.to_string());
    let lat = |v: &Value| {
        format!("p50 {} / p95 {} / p99 {} / max {} ms (n={})", f(&v["p50_ms"]), f(&v["p95_ms"]), f(&v["p99_ms"]), f(&v["max_ms"]), v["n"])
    };
    println!(
        "lawcert exam-day benchmark — {} on {} cores, {:.0} GB",
        r["backend"].as_str().unwrap(),
        r["machine"]["cores"],
        r["machine"]["memory_gb"].as_f64().unwrap()
    );
    println!("scenario: {}", r["scenario"]);
    println!("seeding:            {} s", f(&r["seed_s"]));
    let l = &r["login"];
    println!(
        "sign-in ({}):   {} in {} s = {} /s ({} in flight)   {}   server CPU {} ms per sign-in",
        l["mode"].as_str().unwrap_or(""),
        l["signed_in"],
        f(&l["seconds"]),
        f(&l["per_s"]),
        l["in_flight"],
        lat(&l["latency"]),
        f(&l["server_cpu_ms_per_sign_in"])
    );
    let g = &l["argon2"];
    println!(
        "  10,000 sign-ins need {} s at this rate; argon2: {} m={} KiB t={} p={} ({} OWASP's minimum, {})",
        f(&l["window_for_10000_s"]),
        g["algorithm"].as_str().unwrap_or(""),
        g["m_kib"],
        g["t"],
        g["p"],
        if g["meets_owasp_minimum"] == true { "meets" } else { "BELOW" },
        g["owasp_minimum"].as_str().unwrap_or("")
    );
    println!(
        "papers prepared:    {} in {} s before the open; {} left untaken after the starts; {} app server(s)",
        r["prepared"]["papers"],
        f(&r["prepared"]["seconds"]),
        r["prepared"]["left_after_starts"],
        r["servers"]
    );
    println!(
        "attempts started:   {} in {} s = {} /s   {}   server CPU {} ms per start",
        r["start"]["attempts"],
        f(&r["start"]["seconds"]),
        f(&r["start"]["per_s"]),
        lat(&r["start"]["latency"]),
        f(&r["start"]["server_cpu_ms_per_start"])
    );
    println!("  their stages:     {}", stage_line(&r["start"]["stages"]));
    if r["late_starts"]["of"].as_u64().unwrap_or(0) > 0 {
        let l = &r["late_starts"];
        println!("late starts:        {} of {} started during the save phase   {}", l["started"], l["of"], lat(&l["latency"]));
        println!("  their stages:     {}", stage_line(&l["stages"]));
    }
    println!(
        "answer saves:       {} in {} s = {} /s   {}   CPU: server {}%, load generator {}%",
        r["save"]["acknowledged"],
        f(&r["save"]["seconds"]),
        f(&r["save"]["per_s"]),
        lat(&r["save"]["latency"]),
        f(&r["save"]["server_cpu_percent"]),
        f(&r["save"]["load_generator_cpu_percent"])
    );
    let sv = &r["save"];
    println!(
        "  offered {} /s: {} first tries, {} refused with 503 (refusal {}), {} retries, {} acknowledged after a refusal, {} still refused at the end",
        f(&sv["offered_per_s"]),
        sv["first_tries"],
        sv["refused_503"],
        lat(&sv["refusal_latency"]),
        sv["retries"],
        sv["acknowledged_after_refusal"],
        sv["abandoned_at_end"]
    );
    println!(
        "  CPU per save: server {} µs; load generator {} µs per request",
        f(&sv["server_cpu_us_per_save"]),
        f(&sv["load_generator_cpu_us_per_request"])
    );
    if !r["overload"].is_null() {
        let o = &r["overload"];
        println!(
            "overload:           capacity {} saves/s{}; offered {} × = {} /s",
            f(&o["capacity_per_s"]),
            if o["acknowledged_per_s"].is_null() {
                " (given)".to_string()
            } else {
                format!(" (measured over {} s, {} refused)", f(&o["seconds"]), o["refused"])
            },
            o["factor"],
            f(&o["offered_per_s"])
        );
    }
    println!(
        "submissions:        {} graded in {} s   {}",
        r["submit"]["submitted_by_candidates"],
        f(&r["submit"]["seconds_to_grade_all"]),
        lat(&r["submit"]["latency"])
    );
    println!(
        "server-submitted:   {} at the close (waited {} s)",
        r["submit"]["submitted_by_server"],
        f(&r["submit"]["wait_for_server_submission_s"])
    );
    println!("errors:             {}", r["errors"]);
    println!("server:             peak RSS {} MB, CPU {} s", f(&r["server"]["peak_rss_mb"]), f(&r["server"]["cpu_seconds"]));
    println!(
        "integrity:          {} acknowledged saves checked, {} lost or changed, {} stored without ack; {}/{} attempts graded",
        r["integrity"]["acknowledged_saves_checked"],
        r["integrity"]["lost_or_changed"],
        r["integrity"]["stored_without_ack"],
        r["integrity"]["graded"],
        r["integrity"]["attempts"]
    );
    println!(
        "machine ceiling:    minimal Rocket endpoint {} req/s; raw SQLite WAL upserts {} /s",
        f(&r["ceiling"]["minimal_rocket_rps"]),
        f(&r["ceiling"]["sqlite_upserts_per_s"])
    );
    println!(
        "save rate as share: {:.3} of the Rocket ceiling, {:.3} of the SQLite ceiling",
        r["ceiling"]["save_rate_vs_rocket"].as_f64().unwrap(),
        r["ceiling"]["save_rate_vs_sqlite"].as_f64().unwrap()
    );
}
