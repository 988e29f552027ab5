//! What operators and load balancers ask of the server: is it ready to take candidates, and
//! the state behind the metrics that are read from the database when scraped.

use diesel::connection::SimpleConnection;

use crate::db::models::{exam as exam_db, mail as mail_db, Ts};
use crate::db::DbConn;
use crate::error::AppResult;

/// The database's part of a scrape.
pub struct DbFigures {
    pub open_attempts: i64,
    /// Seconds the oldest attempt past its deadline has waited to be submitted (0 when none).
    pub sweeper_lag_seconds: f64,
    pub mail_queued: i64,
    pub mail_failed: i64,
}

/// Reads the figures (four small indexed queries).
pub fn db_figures(conn: &mut DbConn, now: Ts) -> AppResult<DbFigures> {
    let open_attempts = exam_db::count_open_attempts(conn, now)?;
    let sweeper_lag_seconds =
        exam_db::oldest_overdue_deadline(conn, now)?.map(|d| (now - d).num_milliseconds().max(0) as f64 / 1000.0).unwrap_or(0.0);
    let (mail_queued, _, mail_failed) = mail_db::counts(conn)?;
    Ok(DbFigures { open_attempts, sweeper_lag_seconds, mail_queued, mail_failed })
}

/// Whether the database answers and carries every migration this build knows; the reason
/// when not.
pub fn database_ready(conn: &mut DbConn) -> Result<(), String> {
    conn.batch_execute("SELECT 1").map_err(|e| format!("the database does not answer: {e}"))?;
    match crate::db::has_pending_migrations(conn) {
        Ok(false) => Ok(()),
        Ok(true) => Err("the database lacks migrations this version needs (restart the server to apply them)".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The lease of the dated sweep (exam plans, absences, reminders, filing results, remedial and
/// certificate sweeps, item analysis and calibration, exposure, prepared papers, the audit
/// digest): one app server at a time does that work, so several servers on one database never
/// do it twice at once.
pub const DATED_SWEEP: &str = "dated_sweep";

/// How long a lease lasts unless renewed: a server that dies hands its work on within this.
pub const LEASE_SECONDS: i64 = 300;

/// Whether `holder` (this server's worker name) leads the work `name` now: takes the lease if
/// it is free or has run out, renews it if held already; false while another server holds it.
pub fn lead(conn: &mut DbConn, name: &str, holder: &str, now: crate::db::models::Ts) -> AppResult<bool> {
    let until = now + chrono::Duration::seconds(LEASE_SECONDS);
    Ok(crate::db::write_tx(conn, |c| crate::db::models::leases::acquire(c, name, holder, now, until))?)
}
