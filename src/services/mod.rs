//! Use cases that combine domain rules with several model calls, shared by pages, the API and
//! the command line.

pub mod accounts;
pub mod admission;
pub mod audit;
pub mod bank_export;
pub mod bank_import;
pub mod bank_review;
pub mod bank_sync;
pub mod cache;
pub mod calibration;
pub mod certification;
pub mod challenges;
pub mod credentials;
pub mod demo;
pub mod escalation;
pub mod exam_mode;
pub mod exams;
pub mod exposure;
pub mod file_export;
pub mod hr;
pub mod item_analysis;
pub mod jobs;
pub mod mail;
pub mod measurement;
pub mod operations;
pub mod papers;
pub mod people;
pub mod plans;
pub mod practice;
pub mod prepared;
pub mod proctor;
pub mod questions;
pub mod remedial;
pub mod save_writer;
pub mod scale;
pub mod settings;
pub mod setup;
pub mod standards;
pub mod training;

/// Runs blocking database work off the async executor, on a connection from `pool`.
pub async fn blocking<T, F>(pool: &crate::db::Pool, f: F) -> crate::error::AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::PooledConn) -> crate::error::AppResult<T> + Send + 'static,
{
    let pool = pool.clone();
    rocket::tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|e| crate::error::AppError::internal(format!("worker failed: {e}")))?
}
