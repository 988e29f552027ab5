//! Diesel models, one file per aggregate. Functions take the connection first and return
//! `QueryResult`; multi-row writes are done by callers inside `db::write_tx`.

pub mod audit;
pub mod bank;
pub mod calibration;
pub mod cert;
pub mod challenge;
pub mod exam;
pub mod exposure;
pub mod hr;
pub mod imports;
pub mod jobs;
pub mod leases;
pub mod mail;
pub mod org;
pub mod plans;
pub mod prepared;
pub mod room;
pub mod session;
pub mod standards;
pub mod stats;
pub mod throttle;
pub mod training;

use chrono::NaiveDateTime;

/// Timestamps are stored as UTC without zone.
pub type Ts = NaiveDateTime;
