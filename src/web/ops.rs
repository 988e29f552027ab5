//! For load balancers and operators: `/health` (the process answers), `/ready` (it can take
//! candidates), `/metrics` (Prometheus, behind `LAWCERT_METRICS_TOKEN`), and the fairing that
//! counts, times and logs every request.

use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::Json;
use rocket::{get, Data, Request, Response, State};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::state::AppState;
use crate::telemetry::Snapshot;

/// Liveness: the process runs and answers. Touches nothing else (no database).
#[get("/health")]
pub fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers within 2 s and carries every migration, and the save
/// writer runs. 503 with the reason otherwise, so a load balancer sends candidates elsewhere.
#[get("/ready")]
pub async fn ready(state: &State<AppState>) -> (Status, Json<Value>) {
    let not_ready = |reason: String| (Status::ServiceUnavailable, Json(json!({"status": "unavailable", "reason": reason})));
    if state.saves.stats().writers_running.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        return not_ready("the save writer has stopped".into());
    }
    let pool = state.pool.clone();
    let db = rocket::tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut conn = pool.get_timeout(Duration::from_secs(2)).map_err(|e| format!("no database connection within 2 s: {e}"))?;
        crate::services::operations::database_ready(&mut conn)
    })
    .await
    .unwrap_or_else(|e| Err(format!("the readiness check failed: {e}")));
    match db {
        Ok(()) => (Status::Ok, Json(json!({"status": "ready"}))),
        Err(reason) => not_ready(reason),
    }
}

/// The `Authorization: Bearer …` header, if any.
pub struct Bearer(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Bearer {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let token = req.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer ")).map(|t| t.trim().to_string());
        Outcome::Success(Bearer(token))
    }
}

/// What `/metrics` answers: the metrics, or a refusal in plain text.
pub enum MetricsReply {
    Metrics(String),
    Refused(Status, &'static str),
}

impl<'r> rocket::response::Responder<'r, 'static> for MetricsReply {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut res = Response::build();
        let body = match self {
            MetricsReply::Metrics(text) => {
                res.status(Status::Ok).raw_header("Content-Type", crate::telemetry::CONTENT_TYPE);
                text
            }
            MetricsReply::Refused(status, why) => {
                res.status(status).header(ContentType::Plain);
                if status == Status::Unauthorized {
                    res.header(Header::new("WWW-Authenticate", "Bearer realm=\"lawcert metrics\""));
                }
                why.to_string()
            }
        };
        res.sized_body(body.len(), std::io::Cursor::new(body)).ok()
    }
}

/// Prometheus metrics. Off (404) unless `LAWCERT_METRICS_TOKEN` is set; then the scraper
/// sends it as `Authorization: Bearer <token>` (no user session or role opens it).
#[get("/metrics")]
pub async fn metrics(state: &State<AppState>, bearer: Bearer) -> MetricsReply {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return MetricsReply::Refused(Status::NotFound, "metrics are off: set LAWCERT_METRICS_TOKEN to serve them\n");
    };
    // compared as digests, so the time taken says nothing about the token
    let given = bearer.0.unwrap_or_default();
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return MetricsReply::Refused(Status::Unauthorized, "metrics need Authorization: Bearer <LAWCERT_METRICS_TOKEN>\n");
    }
    let (pool, now) = (state.pool.clone(), state.clock.now());
    let figures = rocket::tokio::task::spawn_blocking(move || {
        let mut conn = pool.get_timeout(Duration::from_secs(5)).ok()?;
        crate::services::operations::db_figures(&mut conn, now).ok()
    })
    .await
    .ok()
    .flatten();
    let Some(db) = figures else {
        return MetricsReply::Refused(Status::ServiceUnavailable, "the database did not answer within 5 s\n");
    };
    let saves = &state.saves;
    let stats = saves.stats();
    let pool = state.pool.state();
    let snapshot = Snapshot {
        save_queue_depth: saves.depth(),
        save_queue_max: saves.limits().max_depth,
        saves_accepted: stats.accepted.load(std::sync::atomic::Ordering::Relaxed),
        saves_refused: stats.refused.load(std::sync::atomic::Ordering::Relaxed),
        save_writers: stats.writers_running.load(std::sync::atomic::Ordering::Relaxed),
        open_attempts: db.open_attempts,
        sweeper_lag_seconds: db.sweeper_lag_seconds,
        runtime_lag_seconds: state.load.lag().as_secs_f64(),
        save_max_lag_seconds: state.load.limit().as_secs_f64(),
        save_refuse_share: state.load.share_to_refuse(),
        mail_queued: db.mail_queued,
        mail_failed: db.mail_failed,
        pool_connections: pool.connections,
        pool_idle: pool.idle_connections,
        pool_max: state.pool.max_size(),
    };
    MetricsReply::Metrics(state.metrics.render(&snapshot))
}

/// Counts and times every request by its route template and logs one line for it.
pub struct RequestTelemetry;

/// When the request arrived (in the request's local cache).
struct Arrived(Instant);

/// When Rocket had this request's head (the start of its `http_request_duration_seconds`).
pub fn arrived(req: &Request<'_>) -> Instant {
    req.local_cache(|| Arrived(Instant::now())).0
}

#[rocket::async_trait]
impl Fairing for RequestTelemetry {
    fn info(&self) -> Info {
        Info { name: "request metrics and log", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let seconds = arrived(req).elapsed().as_secs_f64();
        // the route's template (`/api/v1/attempts/<id>`), never the raw path: one series per route
        let route = req.route().map(|r| r.uri.path()).unwrap_or("unmatched");
        let method = req.method().as_str();
        let status = res.status().code;
        if let Some(state) = req.rocket().state::<AppState>() {
            state.metrics.observe_request(method, route, status, seconds);
        }
        tracing::info!(target: "lawcert::http", method, route, path = req.uri().path().as_str(), status, latency_ms = seconds * 1000.0);
    }
}
