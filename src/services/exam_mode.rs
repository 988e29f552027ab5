//! Exam mode: while an officer sits a graded exam nothing may show them a key, an explanation
//! or a statute text, and the questions of a graded sitting that is about to open or open stay
//! out of practice for everyone until it closes.

use std::collections::HashSet;

use crate::db::models::{bank as bank_db, exam as exam_db, Ts};
use crate::db::DbConn;
use crate::domain::ids::{AttemptId, UserId, VersionId};
use crate::domain::paper::Pool;
use crate::error::{AppError, AppResult};

/// The error code of everything refused in exam mode.
pub const CODE: &str = "exam_in_progress";

/// The officer's open graded attempt, if any: (attempt id, sitting title).
pub fn open_exam(conn: &mut DbConn, user_id: UserId, now: Ts) -> AppResult<Option<(AttemptId, String)>> {
    Ok(exam_db::open_graded_attempts(conn, user_id, now)?.into_iter().next().map(|(a, s)| (a.id, s.title)))
}

/// Refuses while the officer has an open graded attempt other than `except`.
pub fn ensure_free(conn: &mut DbConn, user_id: UserId, except: Option<AttemptId>, now: Ts) -> AppResult<()> {
    for (a, s) in exam_db::open_graded_attempts(conn, user_id, now)? {
        if Some(a.id) != except {
            return Err(refusal(a.id, &s.title));
        }
    }
    Ok(())
}

pub fn refusal(attempt_id: AttemptId, title: &str) -> AppError {
    AppError::new(crate::error::ErrorCode::ExamInProgress,
        format!("exam in progress: {title} (attempt {attempt_id}); practice, keys, explanations and statute texts are closed until it is submitted"),
    )
}

/// Every version of every question in the pool of a graded sitting that opens within `lead`
/// or is open now: none of them may be practised until that sitting closes.
pub fn withheld_from_practice(conn: &mut DbConn, now: Ts, lead: chrono::Duration) -> AppResult<HashSet<VersionId>> {
    let mut ids = Vec::new();
    for text in exam_db::pools_in_use(conn, now, now + lead)? {
        let pool: Pool = serde_json::from_str(&text).map_err(|e| AppError::internal(format!("stored pool: {e}")))?;
        ids.extend(pool.rules.iter().flat_map(|r| r.entries.iter()).flat_map(|e| e.v.iter().copied()));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(bank_db::sibling_versions(conn, &ids)?.into_iter().collect())
}
