//! Running accounts: sign-in throttling kept in the database (`domain::throttle`). Every wait
//! started is in the audit log.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::models::throttle::{self, Row, ANY_BADGE};
use crate::db::models::{audit, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::throttle::{Blocked, Policy};
use crate::error::{AppError, AppResult};

fn at(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

// ---- sign-in throttling ----

/// Whether a password may be checked for `badge` from `source` now. `Ok(true)` when the pair
/// has a count (which a correct password then clears).
pub fn sign_in_allowed(conn: &mut DbConn, badge: &str, source: &str, now: Ts) -> AppResult<Result<bool, Blocked>> {
    let (pair, src) = throttle::load(conn, badge, source)?;
    let p = pair.as_ref().map(Row::counter);
    let s = src.as_ref().map(Row::counter);
    Ok(Policy::default().check(p.as_ref(), s.as_ref(), now).map(|_| pair.is_some()))
}

/// Counts a wrong password for `badge` (the account `user_id`, if it is one) from `source`.
/// Returns the wait it started, if any; each wait started is in the audit log.
pub fn sign_in_failed(conn: &mut DbConn, badge: &str, source: &str, user_id: Option<i64>, now: Ts) -> AppResult<Option<Blocked>> {
    let policy = Policy::default();
    write_tx(conn, |c| {
        throttle::prune(c, now)?;
        let (pair, src) = throttle::load_for_update(c, badge, source, now)?;
        let p = pair.as_ref().map(Row::counter);
        let s = src.as_ref().map(Row::counter);
        let f = policy.failed(p.as_ref(), s.as_ref(), now);
        throttle::store(c, badge, source, &f.pair, policy.pair.forget_at(&f.pair))?;
        throttle::store(c, ANY_BADGE, source, &f.source, policy.source.forget_at(&f.source))?;
        if let Some(until) = f.pair_locked {
            let subject = user_id.map_or_else(|| format!("badge:{badge}"), |id| format!("user:{id}"));
            audit::append(c, None, "sign_in.lock", &subject, &json!({"badge": badge, "source": source, "failures": f.pair.failures, "until": at(until)}), now)?;
        }
        if let Some(until) = f.source_locked {
            audit::append(c, None, "sign_in.source_lock", &format!("source:{source}"), &json!({"source": source, "failures": f.source.failures, "until": at(until)}), now)?;
        }
        Ok::<_, AppError>(f.blocked())
    })
}

/// A correct password clears its pair's count (not the address's).
pub fn sign_in_succeeded(conn: &mut DbConn, badge: &str, source: &str) -> AppResult<()> {
    throttle::clear_pair(conn, badge, source)?;
    Ok(())
}
