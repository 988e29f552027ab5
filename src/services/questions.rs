//! Writing questions from the bank's pages: a new question, and an edit, which is always a new
//! draft version (the versions papers were drawn from never change). The one place a draft
//! version is written, for the pages and for file imports alike.

use crate::db::models::bank::{self as bank_db, Question};
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn};
use crate::domain::bank::QuestionContent;
use crate::domain::ids::{CaseId, QuestionId, SittingId, UserId, VersionId};
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
pub fn create(conn: &mut DbConn, content: &QuestionContent, author: UserId, now: Ts) -> AppResult<QuestionId> {
    write_tx(conn, |c| {
        let code = format!("Q-{}", super::credentials::random_token()[..10].to_uppercase());
        let new =
            bank_db::NewQuestion { code: &code, case: None, origin: "ui", file_hash: None, content, author: Some(author), reviewed: false };
        Ok(bank_db::insert_question(c, &new, now)?)
    })
}

/// An edit of question `id` as read at `revision`, in its own transaction.
pub fn save_edit(conn: &mut DbConn, id: QuestionId, revision: i32, content: &QuestionContent, author: UserId, now: Ts) -> AppResult<Edit> {
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
pub fn write_draft_version(c: &mut DbConn, q: &Question, content: &QuestionContent, author: Option<UserId>, now: Ts) -> AppResult<bool> {
    let next = q.latest_version + 1;
    if !bank_db::bump_latest(c, q.id, next, q.revision, now)? {
        return Ok(false);
    }
    bank_db::insert_version(c, q.id, next, content, author, None, now)?;
    Ok(true)
}

// ---- reading the bank ----

/// The statutes' short names by code, in the registry's order: what pages show for a code.
pub struct StatuteNames {
    list: Vec<(String, String)>,
    by_code: std::collections::HashMap<String, String>,
}

impl StatuteNames {
    /// (code, short name) of every statute, in the registry's order.
    pub fn list(&self) -> &[(String, String)] {
        &self.list
    }

    /// The short name of `code`, else the code itself.
    pub fn name(&self, code: &str) -> String {
        self.by_code.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

pub fn statute_names(conn: &mut DbConn) -> AppResult<StatuteNames> {
    let list = bank_db::statute_names(conn)?;
    let by_code = list.iter().cloned().collect();
    Ok(StatuteNames { list, by_code })
}

/// The stems of question versions, by version id.
pub fn stems(conn: &mut DbConn, version_ids: &[VersionId]) -> AppResult<std::collections::HashMap<VersionId, String>> {
    Ok(bank_db::versions_by_ids(conn, version_ids)?.into_iter().map(|(v, _)| (v.id, v.stem)).collect())
}

/// The statutes, their editions and suspensions, as the forms and checks read them.
pub fn registry(conn: &mut DbConn) -> AppResult<crate::domain::bank::StatuteRegistry> {
    Ok(bank_db::registry(conn)?)
}

/// What the bank list filters on.
pub use crate::db::models::bank::Filter;

/// A question by id; 404 `no such question`.
pub fn question(conn: &mut DbConn, id: QuestionId) -> AppResult<Question> {
    bank_db::find(conn, id)?.ok_or_else(|| AppError::not_found("no such question"))
}

/// A question with its latest version and that version's key (what its edit form starts from).
pub fn latest_of(conn: &mut DbConn, id: QuestionId) -> AppResult<(Question, bank_db::Version, String)> {
    let q = question(conn, id)?;
    let v = bank_db::version(conn, id, q.latest_version)?.ok_or_else(|| AppError::internal("version missing"))?;
    let key = bank_db::key_of(conn, v.id)?;
    Ok((q, v, key))
}

/// One page of the bank list and what it shows beside the rows.
pub struct BankPage {
    /// Each question with the version the row shows.
    pub rows: Vec<(Question, bank_db::Version)>,
    pub total: i64,
    pub statutes: StatuteNames,
    pub counts: Vec<(String, i64)>,
    pub registry: crate::domain::bank::StatuteRegistry,
    /// Flags from the bank's calibration, of the version each row shows.
    pub flagged: std::collections::HashMap<VersionId, Vec<crate::domain::measurement::flags::Flag>>,
    /// Cases held back from drawing today.
    pub held: std::collections::HashSet<CaseId>,
}

pub fn bank_page(conn: &mut DbConn, filter: &Filter, limit: i64, offset: i64, today: chrono::NaiveDate) -> AppResult<BankPage> {
    let (rows, total) = bank_db::list(conn, filter, limit, offset)?;
    let shown: Vec<VersionId> = rows.iter().map(|(_, v)| v.id).collect();
    let flagged = crate::services::measurement::version_flags(conn, &shown)?.into_iter().map(|(v, m)| (v, m.flags)).collect();
    let held = crate::services::bank_review::case_holds(conn, today)?.into_iter().map(|h| h.case_id).collect();
    Ok(BankPage {
        rows,
        total,
        statutes: statute_names(conn)?,
        counts: bank_db::count_by_status(conn)?,
        registry: registry(conn)?,
        flagged,
        held,
    })
}

/// A question's page: its versions (newest first) with their keys, its case, the suspension of
/// the version in use, its item statistics per sitting, its calibration and exposure per
/// version, and whether its case is held back.
pub struct QuestionPage {
    pub question: Question,
    pub versions: Vec<bank_db::Version>,
    pub keys: std::collections::HashMap<VersionId, String>,
    pub case: Option<bank_db::Case>,
    pub statutes: StatuteNames,
    pub suspension: Option<crate::domain::editions::Suspension>,
    pub stats: Vec<crate::db::models::stats::ItemStatRow>,
    /// Every sitting's title, by id.
    pub sitting_titles: std::collections::HashMap<SittingId, String>,
    pub calibration: std::collections::HashMap<VersionId, crate::services::measurement::MapItem>,
    pub hold: Option<crate::services::bank_review::CaseHold>,
    /// Per version: (sitting, papers) it appeared on.
    pub exposure: std::collections::HashMap<VersionId, Vec<(SittingId, u32)>>,
}

pub fn question_page(conn: &mut DbConn, id: QuestionId, today: chrono::NaiveDate) -> AppResult<QuestionPage> {
    let question = question(conn, id)?;
    let versions = bank_db::versions_of(conn, id)?;
    let ids: Vec<VersionId> = versions.iter().map(|v| v.id).collect();
    let keys = bank_db::keys_by_ids(conn, &ids)?.into_iter().collect();
    let case = match question.case_id {
        Some(cid) => bank_db::find_case(conn, cid)?,
        None => None,
    };
    let reg = registry(conn)?;
    let current = versions.iter().find(|v| Some(v.version) == question.live_version).or(versions.first());
    let suspension =
        current.and_then(|v| crate::domain::editions::suspension(&reg, &v.statute_code, &v.edition_code, &v.articles_vec(), today));
    let stats = crate::db::models::stats::of_question(conn, id)?;
    let calibration = crate::services::measurement::version_flags(conn, &ids)?;
    let sitting_titles = crate::db::models::exam::list_sittings(conn)?.into_iter().map(|s| (s.id, s.title)).collect();
    let hold = match question.case_id {
        Some(cid) => crate::services::bank_review::case_holds(conn, today)?.into_iter().find(|h| h.case_id == cid),
        None => None,
    };
    let exposure = crate::services::exposure::by_sitting_of(conn, &ids)?;
    Ok(QuestionPage {
        question,
        versions,
        keys,
        case,
        statutes: statute_names(conn)?,
        suspension,
        stats,
        sitting_titles,
        calibration,
        hold,
        exposure,
    })
}
