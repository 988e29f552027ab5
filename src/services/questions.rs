//! Writing questions from the bank's pages: a new question, and an edit, which is always a new
//! draft version (the versions papers were drawn from never change). The one place a draft
//! version is written, for the pages and for file imports alike.

use crate::db::models::bank::{self as bank_db, Question};
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn};
use crate::domain::bank::QuestionContent;
use crate::error::{AppError, AppResult};

/// What became of an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// A new draft version was written.
    Saved,
    /// The content is what the latest version says already: nothing written.
    Unchanged,
    /// Someone else changed the question since it was read: nothing written.
    Stale,
}

/// A question a trainer writes on the page, as a draft for a second trainer to review. Its id
/// is random (`Q-…`), so two trainers writing at once never collide.
pub fn create(conn: &mut DbConn, content: &QuestionContent, author: i64, now: Ts) -> AppResult<i64> {
    write_tx(conn, |c| {
        let code = format!("Q-{}", super::credentials::random_token()[..10].to_uppercase());
        let new =
            bank_db::NewQuestion { code: &code, case: None, origin: "ui", file_hash: None, content, author: Some(author), reviewed: false };
        Ok(bank_db::insert_question(c, &new, now)?)
    })
}

/// An edit of question `id` as read at `revision`, in its own transaction.
pub fn save_edit(conn: &mut DbConn, id: i64, revision: i32, content: &QuestionContent, author: i64, now: Ts) -> AppResult<Edit> {
    write_tx(conn, |c| {
        let q = bank_db::find(c, id)?.ok_or_else(|| AppError::not_found("no such question"))?;
        if q.revision != revision {
            return Ok(Edit::Stale);
        }
        let latest = bank_db::version(c, q.id, q.latest_version)?.ok_or_else(|| AppError::internal("version missing"))?;
        if latest.content_hash == content.content_hash() {
            return Ok(Edit::Unchanged);
        }
        Ok(if write_draft_version(c, &q, content, Some(author), now)? { Edit::Saved } else { Edit::Stale })
    })
}

/// Writes `content` as the next draft version of `q` (as read), inside the caller's
/// transaction; false when the question changed since it was read (nothing written).
pub fn write_draft_version(c: &mut DbConn, q: &Question, content: &QuestionContent, author: Option<i64>, now: Ts) -> AppResult<bool> {
    let next = q.latest_version + 1;
    if !bank_db::bump_latest(c, q.id, next, q.revision, now)? {
        return Ok(false);
    }
    bank_db::insert_version(c, q.id, next, content, author, None, now)?;
    Ok(true)
}
