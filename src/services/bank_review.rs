//! The question lifecycle (draft → reviewed → active → retired) and statute editions: the
//! amendment worklist of questions a new edition suspended.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::db::models::{audit, bank as bank_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::editions::{self, NewEdition, Suspension};
use crate::domain::ids::{CaseId, EditionId, QuestionId, UserId};
use crate::domain::lifecycle::{self, Action, Facts, Status};
use crate::error::{AppError, AppResult};

const STALE: &str = "the question changed since you opened it; look at it again";

/// Applies a lifecycle action to a question, refusing it with the rule's reason. `revision`
/// is the revision the trainer saw, so a decision is never taken on a version they did not see.
pub fn transition(conn: &mut DbConn, action: Action, question_id: QuestionId, revision: i32, actor: UserId, now: Ts) -> AppResult<Status> {
    write_tx(conn, |c| {
        let q = bank_db::find(c, question_id)?.ok_or_else(|| AppError::not_found("no such question"))?;
        if q.revision != revision {
            return Err(AppError::new(crate::error::ErrorCode::Stale, STALE));
        }
        let latest = bank_db::version(c, q.id, q.latest_version)?.ok_or_else(|| AppError::internal("version missing"))?;
        let facts = Facts {
            status: q.status,
            latest_unreviewed: latest.reviewed_at.is_none(),
            has_reviewed_version: q.live_version.is_some(),
            actor_is_author: latest.created_by == Some(actor),
            latest_incomplete: !latest.missing_for_review().is_empty(),
        };
        let next = lifecycle::apply(action, facts).map_err(|r| {
            match r {
                lifecycle::Refusal::OwnVersion => AppError::forbidden(r.message()),
                lifecycle::Refusal::Incomplete => AppError::new(crate::error::ErrorCode::Incomplete, r.message()),
                _ => AppError::new(crate::error::ErrorCode::NotAllowed, r.message()),
            }
            .localized(r.key(), serde_json::json!({}))
        })?;
        let ok = match action {
            Action::Review => bank_db::approve_latest(c, &q, actor, next.as_str(), now)?,
            _ => bank_db::set_status(c, &q, next, now)?,
        };
        if !ok {
            return Err(AppError::new(crate::error::ErrorCode::Stale, STALE));
        }
        let name = match action {
            Action::Review => "question.review",
            Action::Activate => "question.activate",
            Action::Retire => "question.retire",
            Action::Reinstate => "question.reinstate",
        };
        audit::append(
            c,
            Some(actor),
            name,
            &format!("question:{}", q.code),
            &json!({"from": q.status, "to": next.as_str(), "version": q.latest_version}),
            now,
        )?;
        Ok(next)
    })
}

/// Registers a new edition of a statute; questions it touches go to the worklist.
pub fn register_edition(conn: &mut DbConn, statute: &str, e: &NewEdition, by: UserId, now: Ts) -> AppResult<EditionId> {
    write_tx(conn, |c| {
        let reg = bank_db::registry(c)?;
        let errs = editions::validate_new(&reg, statute, e);
        if !errs.is_empty() {
            return Err(AppError::invalid_lines(&errs));
        }
        let id = bank_db::insert_edition(c, statute, e, by, now)?;
        audit::append(
            c,
            Some(by),
            "edition.register",
            &format!("statute:{statute}"),
            &json!({"edition": e.code, "title": e.title, "in_force": e.in_force, "replaces": e.replaces,
                    "changed_articles": e.changed_articles, "changed_all": e.changed_all}),
            now,
        )?;
        Ok(id)
    })
}

/// Why a case item keeps its group out of new papers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldBecause {
    /// A newer edition in force changed the articles its live version cites.
    Suspended,
    Retired,
    /// A draft, or reviewed but not put into use.
    NotInUse,
}

/// A case-analysis group kept out of new papers because an item of it cannot be drawn: a case is
/// drawn whole or not at all. It is whole again when every item is in use and not suspended.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CaseHold {
    pub case_id: CaseId,
    pub code: String,
    pub title: String,
    /// The items that keep it out, and why.
    pub missing: Vec<(String, HeldBecause)>,
}

/// Every case group that is not whole, by code. A group whose items are all retired is retired,
/// not held, and is not listed.
pub fn case_holds(conn: &mut DbConn, today: NaiveDate) -> AppResult<Vec<CaseHold>> {
    let reg = bank_db::registry(conn)?;
    let mut by_case: std::collections::BTreeMap<CaseId, Vec<(String, Option<HeldBecause>)>> = Default::default();
    for (q, live) in bank_db::case_items_live(conn)? {
        let Some(case_id) = q.case_id else { continue };
        let why = if q.status == crate::domain::lifecycle::Status::Retired {
            Some(HeldBecause::Retired)
        } else if q.status != crate::domain::lifecycle::Status::Active {
            Some(HeldBecause::NotInUse)
        } else {
            match &live {
                None => Some(HeldBecause::NotInUse),
                Some(v) => editions::suspension(&reg, &v.statute_code, &v.edition_code, &v.articles_vec(), today)
                    .filter(|s| s.effective)
                    .map(|_| HeldBecause::Suspended),
            }
        };
        by_case.entry(case_id).or_default().push((q.code, why));
    }
    let mut holds = Vec::new();
    for (case_id, items) in by_case {
        let total = items.len();
        let missing: Vec<(String, HeldBecause)> = items.into_iter().filter_map(|(code, why)| why.map(|w| (code, w))).collect();
        let all_retired = missing.len() == total && missing.iter().all(|(_, w)| *w == HeldBecause::Retired);
        if missing.is_empty() || all_retired {
            continue;
        }
        let case = bank_db::find_case(conn, case_id)?.ok_or_else(|| AppError::internal("case missing"))?;
        holds.push(CaseHold { case_id, code: case.code, title: case.title, missing });
    }
    holds.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(holds)
}

/// One question a newer edition touches, or that its case group keeps out of papers.
#[derive(Clone, Debug, Serialize)]
pub struct WorkItem {
    pub question_id: QuestionId,
    pub code: String,
    pub status: crate::domain::lifecycle::Status,
    pub statute: String,
    pub edition: String,
    pub articles: Vec<String>,
    pub stem: String,
    /// The newer edition that touches it, if one does.
    pub suspension: Option<Suspension>,
    /// Its case group is not whole, so none of its items is drawn.
    pub case_hold: Option<CaseHold>,
    /// A rewritten version waits for a second trainer's review.
    pub rewrite_pending: bool,
}

impl WorkItem {
    /// Not drawn into new papers now (rather than from an edition's coming into force).
    pub fn out_of_papers(&self) -> bool {
        self.case_hold.is_some() || self.suspension.as_ref().is_some_and(|s| s.effective)
    }
}

/// The amendment worklist: every question in use or in review that a newer edition touches,
/// in force or announced, and every item of a case group that is not whole, by statute and code.
pub fn worklist(conn: &mut DbConn, today: NaiveDate) -> AppResult<Vec<WorkItem>> {
    let reg = bank_db::registry(conn)?;
    let holds: std::collections::HashMap<CaseId, CaseHold> = case_holds(conn, today)?.into_iter().map(|h| (h.case_id, h)).collect();
    let mut items: Vec<WorkItem> = bank_db::current_versions(conn)?
        .into_iter()
        .filter_map(|(q, v)| {
            let suspension = editions::suspension(&reg, &v.statute_code, &v.edition_code, &v.articles_vec(), today);
            let case_hold = q.case_id.and_then(|c| holds.get(&c)).cloned();
            if suspension.is_none() && case_hold.is_none() {
                return None;
            }
            Some(WorkItem {
                question_id: q.id,
                code: q.code.clone(),
                status: q.status,
                statute: reg.short_name(&v.statute_code).to_string(),
                edition: v.edition_code.clone(),
                articles: v.articles_vec(),
                stem: v.stem.chars().take(80).collect(),
                suspension,
                case_hold,
                rewrite_pending: q.live_version.is_some_and(|l| l != q.latest_version),
            })
        })
        .collect();
    items.sort_by(|a, b| (&a.statute, &a.code).cmp(&(&b.statute, &b.code)));
    Ok(items)
}
