//! What every request can reach: the pool, the clock, settings, templates and caches.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Pool;
use crate::render::Renderer;
pub use crate::services::cache::{AttemptCache, AttemptMeta, CachedVersion, VersionCache};

pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<Clock>,
    pub config: Config,
    pub renderer: Renderer,
    pub versions: Arc<VersionCache>,
    pub sessions: crate::auth::SessionCache,
    pub attempts: Arc<AttemptCache>,
    pub saves: crate::services::save_writer::SaveWriter,
    /// How late the runtime runs: saves are refused at the door while it is too late.
    pub load: Arc<crate::services::admission::LoadGauge>,
    /// Article texts shown with explanations in practice and self-review.
    pub texts: Arc<crate::domain::statute_text::StatuteTexts>,
    /// The database holds the demo bureau (its settings row): every page shows the banner.
    pub demo: bool,
    /// Signs audit checkpoints (`domain::audit::checkpoint_key` of the server's secret key);
    /// None when no secret key was configured.
    pub audit_key: Option<[u8; 32]>,
    /// Prometheus metrics (`/metrics`, `telemetry`).
    pub metrics: Arc<crate::telemetry::Metrics>,
}

/// Runs blocking database work off the async executor, on a connection from the app's pool.
pub async fn with_db<T, F>(state: &AppState, f: F) -> crate::error::AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::PooledConn) -> crate::error::AppResult<T> + Send + 'static,
{
    crate::services::blocking(&state.pool, f).await
}

impl AppState {
    /// What an answer save goes through (`services::exams::save_answer_grouped`).
    pub fn save_path(&self) -> crate::services::exams::SavePath<'_> {
        crate::services::exams::SavePath { pool: &self.pool, versions: &self.versions, attempts: &self.attempts, saves: &self.saves }
    }
}
