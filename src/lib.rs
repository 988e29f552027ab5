//! lawcert: training and certification exams for a public-security bureau.
//!
//! Map: `domain/` holds the rules (no HTTP, no SQL); `db/` the schema and models; `services/`
//! the use cases that combine them; `web/` the routes, pages and JSON API; `cli.rs` the
//! commands. `rocket()` builds the whole application for `main` and for the tests.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod render;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod timefmt;
pub mod web;

use std::sync::Arc;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::{catch, catchers, Build, Request, Response, Rocket};

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// Prepares the database: migrations, shipped banks, and the demo bureau when it is wanted
/// and the database is one this start created (never an existing one). Returns the pool.
pub fn prepare(config: &Config, clock: &Clock) -> anyhow::Result<db::Pool> {
    timefmt::set_bureau_offset_minutes(config.utc_offset_minutes);
    services::people::set_job_threads(config.job_threads);
    let (pool, created) = db::connect_noting_new(&config.database, config.pool_size)?;
    let mut conn = pool.get()?;
    if let Some(base) = &config.public_url {
        // before the demo's notices are written (rocket_with records the listening address otherwise)
        services::mail::set_link_base(&mut conn, base, clock.now()).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    }
    let bank = domain::bank::load_dir(&config.questions_dir).map_err(|errs| {
        anyhow::anyhow!(
            "the question banks in {} have errors; nothing was loaded:\n{}",
            config.questions_dir.display(),
            errs.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
        )
    })?;
    let report = services::bank_sync::sync(&mut conn, &bank, clock.now())?;
    if report.added + report.updated > 0 {
        // stderr, like the logs: stdout carries only what a caller reads (the benchmark's --json)
        eprintln!("question banks: {} added, {} updated, {} unchanged", report.added, report.updated, report.unchanged);
    }
    if domain::setup::seeds_demo(config.demo, created) {
        services::demo::seed(&mut conn, clock.now()).map_err(|e| anyhow::anyhow!("seeding the demo bureau: {}", e.message))?;
        println!("DEMO bureau seeded into the new database (江州市公安局): accounts admin, T0001, T0002, H0001, L0001, 100001–100030, all with the PUBLIC password {}", services::demo::DEMO_PASSWORD);
    } else if config.demo && std::env::var_os("LAWCERT_DEMO").is_some() && db::models::org::count_users(&mut conn)? == 0 {
        println!("LAWCERT_DEMO: the database existed before this start, so no demo bureau was put into it (the demo goes only into a database a start creates)");
    }
    Ok(pool)
}

/// The statute texts beside the question banks (`questions/texts`). A bank folder without them
/// still runs: practice then shows "text not available".
pub fn load_texts(config: &Config) -> domain::statute_text::StatuteTexts {
    let dir = config.questions_dir.join("texts");
    if !dir.is_dir() {
        return Default::default();
    }
    domain::statute_text::StatuteTexts::load(&dir).unwrap_or_else(|errs| {
        eprintln!("statute texts in {} not loaded:\n  {}", dir.display(), errs.join("\n  "));
        Default::default()
    })
}

/// `http://ADDRESS:PORT` as Rocket will listen (an unspecified address reads as this machine).
fn listening_url(figment: &rocket::figment::Figment) -> String {
    let ip: std::net::IpAddr = figment.extract_inner("address").unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    let host = match ip {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    format!("http://{host}:{port}")
}

/// Builds the application on a prepared pool.
pub fn rocket_with(figment: rocket::figment::Figment, config: Config, pool: db::Pool, clock: Arc<Clock>) -> Rocket<Build> {
    let writers = if config.database.backend == db::Backend::Sqlite { 1 } else { (config.pool_size as usize / 2).max(1) };
    let metrics = Arc::new(telemetry::Metrics::new());
    let batches = metrics.clone();
    let saves =
        services::save_writer::SaveWriter::start(pool.clone(), writers, config.save_queue, Box::new(move |b| batches.observe_batch(b)));
    let texts = Arc::new(load_texts(&config));
    // the settings row, so every app server on the database shows the demo banner
    let demo = pool.get().map_err(AppError::from).and_then(|mut c| services::setup::demo_seeded(&mut c)).unwrap_or_else(|e| {
        eprintln!("reading the demo flag: {}", e.message);
        false
    });
    // the base of every link in e-mails: the public address, else the one this server listens on
    let link_base = config.public_url.clone().unwrap_or_else(|| listening_url(&figment));
    if let Err(e) = pool.get().map_err(AppError::from).and_then(|mut c| services::mail::set_link_base(&mut c, &link_base, clock.now())) {
        eprintln!("recording the address for e-mail links: {}", e.message);
    }
    // signs audit checkpoints; derived from the server's secret key, like the CLI's
    let audit_key = cli::configured_secret(&figment).map(|k| domain::audit::checkpoint_key(&k));
    let load = Arc::new(services::admission::LoadGauge::new(config.save_max_lag));
    let state = AppState {
        saves,
        load,
        pool,
        clock,
        config,
        renderer: render::Renderer::new(),
        versions: Arc::new(Default::default()),
        sessions: Default::default(),
        attempts: Arc::new(Default::default()),
        texts,
        demo,
        audit_key,
        metrics,
    };
    rocket::custom(figment)
        .manage(state)
        .attach(SecurityHeaders)
        .attach(web::ops::RequestTelemetry)
        .attach(AdHoc::on_liftoff("load sampler", |rocket| {
            Box::pin(async move {
                let load = rocket.state::<AppState>().expect("state").load.clone();
                // how late a short timer fires is how long a newly arrived request waits to run
                rocket::tokio::spawn(async move {
                    let tick = services::admission::TICK;
                    loop {
                        let asked = std::time::Instant::now();
                        rocket::tokio::time::sleep(tick).await;
                        load.record(asked.elapsed().saturating_sub(tick));
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("deadline sweeper", |rocket| {
            Box::pin(async move {
                let app: &AppState = rocket.state().expect("state");
                let pool = app.pool.clone();
                let clock = app.clock.clone();
                let metrics = app.metrics.clone();
                let every = std::time::Duration::from_secs(app.config.sweep_seconds);
                let dated_every = std::time::Duration::from_secs(app.config.dated_sweep_seconds);
                // The sweeper only needs the pool and clock; grading loads versions through a cache of its own.
                rocket::tokio::spawn(async move {
                    let cache = Arc::new(state::VersionCache::default());
                    let worker = Arc::new(services::jobs::worker_name());
                    let mut dated_last: Option<std::time::Instant> = None;
                    loop {
                        rocket::tokio::time::sleep(every).await;
                        let (pool, clock, cache, worker) = (pool.clone(), clock.clone(), cache.clone(), worker.clone());
                        let dated = dated_last.is_none_or(|t| t.elapsed() >= dated_every);
                        if dated {
                            dated_last = Some(std::time::Instant::now());
                        }
                        let r = rocket::tokio::task::spawn_blocking(move || -> Result<usize, AppError> {
                            let mut conn = pool.get()?;
                            let now = clock.now();
                            let n = services::exams::submit_overdue(&mut conn, &cache, now)?;
                            // the dated work: one app server at a time (services::operations::lead)
                            if !dated || !services::operations::lead(&mut conn, services::operations::DATED_SWEEP, &worker, now)? {
                                return Ok(n);
                            }
                            // exports' files past their keeping (the admin's setting) are deleted
                            match services::jobs::expire_exports(&mut conn, now) {
                                Ok(0) => {}
                                Ok(k) => println!("exports: deleted the file of {k} export(s) past their keeping"),
                                Err(e) => eprintln!("deleting expired exports: {}", e.message),
                            }
                            // once a sitting is over and every attempt is in, analyse its items
                            // ... and recalibrate the bank on the new responses (issue 16), or
                            // for the first time; a calibration that fails is reported and
                            // leaves the stored one
                            let analysed = services::item_analysis::analyse_closed(&mut conn, &cache, now)?;
                            if analysed > 0 || !services::calibration::has_run(&mut conn)? {
                                if let Err(e) = services::calibration::calibrate_bank(&mut conn, now) {
                                    eprintln!("bank calibration failed: {}", e.message);
                                }
                            }
                            // closed sittings' item exposure, counted once from their papers
                            services::exposure::record_closed(&mut conn, now)?;
                            // date-driven work: plans' sittings, absences, expiry and 离岗失效
                            let created = services::plans::run_due(&mut conn, now)?;
                            // papers for candidates added since a sitting was scheduled (a
                            // failure leaves them to be drawn at the start, not the rest undone)
                            if let Err(e) = services::prepared::prepare_due(&mut conn, now) {
                                eprintln!("preparing papers: {}", e.message);
                            }
                            if !created.is_empty() {
                                println!("exam plans: created sitting(s) {created:?}");
                            }
                            services::plans::record_absences(&mut conn, now)?;
                            services::plans::send_reminders(&mut conn, now)?;
                            // results into training files; bimonthly results run the remedial triggers
                            services::training::file_closed_sittings(&mut conn, now)?;
                            services::remedial::sweep(&mut conn, now)?;
                            let r = services::certification::sweep(&mut conn, now)?;
                            if r.expired + r.lapsed > 0 {
                                println!("certificates: {} expired, {} lapsed", r.expired, r.lapsed);
                            }
                            // once a bureau day, after the day's work: the audit log's head to admins
                            let digests = services::audit::daily_digest(&mut conn, now)?;
                            if digests > 0 {
                                println!("audit digest: the log's head e-mailed to {digests} admin(s)");
                            }
                            Ok(n)
                        })
                        .await;
                        if matches!(r, Ok(Ok(_))) {
                            metrics.sweeper_last_run.set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
                        }
                        match r {
                            Ok(Ok(n)) if n > 0 => println!("deadline sweeper: submitted {n} attempt(s) whose time was up"),
                            Ok(Err(e)) => eprintln!("deadline sweeper: {}", e.message),
                            Err(e) => eprintln!("deadline sweeper: {e}"),
                            _ => {}
                        }
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("job worker", |rocket| {
            Box::pin(async move {
                // every app server runs one: a queued job (an officer import) is claimed by one
                // of them (services::jobs), and one whose server died is queued again
                let app: &AppState = rocket.state().expect("state");
                let (pool, clock) = (app.pool.clone(), app.clock.clone());
                let worker = services::jobs::worker_name();
                rocket::tokio::spawn(async move {
                    loop {
                        let (pool, clock, worker) = (pool.clone(), clock.clone(), worker.clone());
                        let r = rocket::tokio::task::spawn_blocking(move || services::jobs::run_next(&pool, &worker, &clock)).await;
                        match r {
                            // one ran: look for the next at once
                            Ok(Ok(Some(_))) => continue,
                            Ok(Ok(None)) => {}
                            Ok(Err(e)) => eprintln!("job worker: {}", e.message),
                            Err(e) => eprintln!("job worker: {e}"),
                        }
                        rocket::tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("SQLite checkpointer", |rocket| {
            Box::pin(async move {
                let app: &AppState = rocket.state().expect("state");
                if app.config.database.backend != db::Backend::Sqlite {
                    return;
                }
                let pool = app.pool.clone();
                let every = std::time::Duration::from_millis(app.config.checkpoint_ms);
                // a task of the server's runtime, so it ends with the server; the checkpoint itself
                // (a blocking copy and fsync) runs on the blocking pool
                rocket::tokio::spawn(async move {
                    loop {
                        rocket::tokio::time::sleep(every).await;
                        let pool = pool.clone();
                        let r =
                            rocket::tokio::task::spawn_blocking(move || -> anyhow::Result<()> { Ok(db::checkpoint(&mut *pool.get()?)?) })
                                .await;
                        if let Ok(Err(e)) = r {
                            eprintln!("checkpoint: {e}");
                        }
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("mailer", |rocket| {
            Box::pin(async move {
                let app: &AppState = rocket.state().expect("state");
                let (pool, clock) = (app.pool.clone(), app.clock.clone());
                let (transport, from) = (app.config.mail_transport.clone(), app.config.mail_from.clone());
                let every = std::time::Duration::from_millis(app.config.mail_poll_ms);
                rocket::tokio::spawn(async move {
                    loop {
                        rocket::tokio::time::sleep(every).await;
                        match services::mail::send_due(&pool, &clock, &transport, &from).await {
                            Ok((_, failed)) if failed > 0 => eprintln!("mailer: {failed} message(s) not sent; see 管理 → 邮件"),
                            Err(e) => eprintln!("mailer: {e}"),
                            _ => {}
                        }
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("start message", |rocket| {
            Box::pin(async move {
                let c = rocket.config();
                let app: &AppState = rocket.state().expect("state");
                let host = if c.address.is_unspecified() { "127.0.0.1".to_string() } else { c.address.to_string() };
                let pool = app.pool.clone();
                let accounts = rocket::tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
                    Ok(db::models::org::count_users(&mut *pool.get()?)?)
                })
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(-1);
                let program = std::env::args().next().filter(|p| p.contains('/')).unwrap_or_else(|| "lawcert".into());
                let facts = domain::setup::StartFacts {
                    address: format!("http://{host}:{}/", c.port),
                    demo: app.demo,
                    accounts,
                    program,
                    database_from_env: std::env::var_os("DATABASE_URL").is_some(),
                };
                println!("{}", domain::setup::start_message(&facts));
            })
        }))
        .mount("/", web::routes())
        .register("/", catchers![unauthorized, forbidden, not_found, unprocessable, bad_request, too_large, overloaded, server_error])
}

/// Builds the application from the process environment and Rocket.toml.
pub fn rocket() -> anyhow::Result<Rocket<Build>> {
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let clock = Arc::new(Clock::default());
    let pool = prepare(&config, &clock)?;
    let mut figment = cli::figment_with_secret(&config)?;
    // Rocket's own log (a line per request and route table at start) gives way to the one
    // structured line per request (`telemetry`); ROCKET_LOG_LEVEL brings it back
    if std::env::var_os("ROCKET_LOG_LEVEL").is_none() {
        figment = figment.merge(("log_level", "critical"));
    }
    Ok(rocket_with(figment, config, pool, clock))
}

/// Headers on every response: no framing, no sniffing, scripts only from this site.
struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "security headers", kind: Kind::Response }
    }
    async fn on_response<'r>(&self, _req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        if res.headers().get_one("Cache-Control").is_none() {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}

fn caught(req: &Request<'_>, status: Status, fallback: &str) -> AppError {
    // a guard that failed left its reason in the request's cache
    let reason = req.local_cache(|| None::<AppError>).clone();
    let from_user = req.local_cache(|| Err::<Arc<auth::CurrentUser>, AppError>(AppError::unauthorized(fallback))).clone();
    match (reason, from_user) {
        (Some(e), _) if e.status() == status => e,
        (_, Err(e)) if e.status() == status => e,
        _ if status == Status::Forbidden => AppError::role_refused(),
        _ if matches!(status.code, 400 | 422) => {
            AppError::new(if status.code == 400 { ErrorCode::BadRequest } else { ErrorCode::Invalid }, fallback)
                .localized("request_refusal.form_unreadable", serde_json::json!({}))
        }
        _ => AppError::new(
            match status.code {
                401 => ErrorCode::Unauthorized,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                413 => ErrorCode::TooLarge,
                503 => ErrorCode::Overloaded,
                422 => ErrorCode::Invalid,
                400 => ErrorCode::BadRequest,
                _ => ErrorCode::Internal,
            },
            fallback,
        ),
    }
}

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> rocket::Either<AppError, rocket::response::Redirect> {
    if req.uri().path().starts_with("/api") {
        return rocket::Either::Left(caught(req, Status::Unauthorized, "sign in first: send a bearer token"));
    }
    if auth::password_change_pending(req) {
        return rocket::Either::Right(rocket::response::Redirect::to("/account/password"));
    }
    let next = req.uri().path().to_string();
    rocket::Either::Right(rocket::response::Redirect::to(format!("/login?next={}", next)))
}

#[catch(403)]
fn forbidden(req: &Request<'_>) -> rocket::Either<AppError, rocket::response::Redirect> {
    // an account whose password was reset sees the change-password page, whatever it asked for
    if auth::password_change_pending(req) && !req.uri().path().starts_with("/api") {
        return rocket::Either::Right(rocket::response::Redirect::to("/account/password"));
    }
    rocket::Either::Left(caught(req, Status::Forbidden, "your role does not allow this"))
}

#[catch(404)]
fn not_found(req: &Request<'_>) -> AppError {
    caught(req, Status::NotFound, "there is nothing at this address")
}

#[catch(422)]
fn unprocessable(req: &Request<'_>) -> AppError {
    caught(req, Status::UnprocessableEntity, "the request could not be understood: check the fields")
}

#[catch(400)]
fn bad_request(req: &Request<'_>) -> AppError {
    caught(req, Status::BadRequest, "the request is malformed")
}

#[catch(413)]
fn too_large(req: &Request<'_>) -> AppError {
    caught(req, Status::PayloadTooLarge, "the upload is too large")
}

/// A save refused at the door (`web::guards::SaveAdmission`) carries its reason and
/// `Retry-After` in the request's cache.
#[catch(503)]
fn overloaded(req: &Request<'_>) -> AppError {
    caught(req, Status::ServiceUnavailable, "the server is at capacity; try again shortly")
}

#[catch(500)]
fn server_error(req: &Request<'_>) -> AppError {
    caught(req, Status::InternalServerError, "something went wrong on the server; try again, and tell the administrator if it persists")
}
