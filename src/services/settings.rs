//! The bureau's settings an admin owns (compliance targets, remedial rules, how long exports
//! are kept): each kept as JSON under one key of the settings table, read with its default when
//! never saved, saved whole and audited (`settings.<key>` on subject `settings:<key>`).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::models::{audit, cert as cert_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::ids::UserId;
use crate::error::{AppError, AppResult};

/// The setting under `key`, or its default when it was never saved.
pub fn read<T: DeserializeOwned + Default>(conn: &mut DbConn, key: &str) -> AppResult<T> {
    match cert_db::setting(conn, key)? {
        Some(v) => serde_json::from_str(&v).map_err(|e| AppError::internal(format!("stored {key}: {e}"))),
        None => Ok(T::default()),
    }
}

/// Saves `value` under `key` and audits it, unless `problems` (its validator's `field: problem`
/// lines) is not empty: then 422 naming each field, nothing stored.
pub fn save<T: Serialize>(conn: &mut DbConn, key: &str, value: &T, problems: Vec<String>, by: UserId, now: Ts) -> AppResult<()> {
    if !problems.is_empty() {
        return Err(AppError::invalid_lines(&problems));
    }
    let (text, json) = (serde_json::to_string(value).expect("json"), serde_json::to_value(value).expect("json"));
    write_tx(conn, |c| {
        cert_db::put_setting(c, key, &text, Some(by), now)?;
        audit::append(c, Some(by), &format!("settings.{key}"), &format!("settings:{key}"), &json, now)?;
        Ok(())
    })
}
