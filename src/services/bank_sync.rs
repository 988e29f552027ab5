//! Loads the shipped banks into the database, idempotently and all-or-nothing.

use serde_json::json;

use crate::db::models::{audit, bank as bank_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::{Bank, BankQuestion};
use crate::domain::lifecycle::Status as QuestionStatus;

/// What a sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

fn origin_of(q: &BankQuestion) -> String {
    format!("file:{}", q.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

/// Writes the bank into the database in one transaction. A question whose file content is the
/// same as last time is left alone, so trainers' edits made since are kept; a changed one gets a
/// new live version.
pub fn sync(conn: &mut DbConn, bank: &Bank, now: Ts) -> diesel::QueryResult<SyncReport> {
    write_tx(conn, |conn| {
        bank_db::sync_statutes(conn, &bank.statutes)?;
        let mut report = SyncReport::default();
        for q in &bank.questions {
            sync_one(conn, q, None, now, &mut report)?;
        }
        for c in &bank.cases {
            let case_id = bank_db::upsert_case(conn, &c.code, &c.title, &c.text, &c.content_hash(), now)?;
            for (pos, q) in c.items.iter().enumerate() {
                sync_one(conn, q, Some((case_id, pos as i32)), now, &mut report)?;
            }
        }
        Ok(report)
    })
}

/// What the file says about a question, as kept in `questions.file_hash`: its content's hash,
/// marked when the file retires it. A retirement (or its withdrawal) in the file is thus a
/// change the next start applies once; a trainer's later decision in the site is kept.
fn file_hash(q: &BankQuestion) -> String {
    let h = q.content.content_hash();
    if q.retired {
        format!("{h}:retired")
    } else {
        h
    }
}

fn sync_one(
    conn: &mut DbConn,
    q: &BankQuestion,
    case: Option<(crate::domain::ids::CaseId, i32)>,
    now: Ts,
    report: &mut SyncReport,
) -> diesel::QueryResult<()> {
    let content_hash = q.content.content_hash();
    let hash = file_hash(q);
    match bank_db::find_by_code(conn, &q.code)? {
        None => {
            let id = bank_db::insert_question(
                conn,
                &bank_db::NewQuestion {
                    code: &q.code,
                    case,
                    origin: &origin_of(q),
                    file_hash: Some(&hash),
                    content: &q.content,
                    author: None,
                    reviewed: !q.draft,
                },
                now,
            )?;
            if q.retired {
                let stored = bank_db::find(conn, id)?.expect("just inserted");
                bank_db::set_status(conn, &stored, QuestionStatus::Retired, now)?;
            }
            report.added += 1;
        }
        Some(existing) if existing.file_hash.as_deref() == Some(hash.as_str()) => report.unchanged += 1,
        Some(existing) => {
            // the text the file shipped last time, whatever status it gave
            let same_text = existing.file_hash.as_deref().is_some_and(|h| h.split(':').next() == Some(content_hash.as_str()));
            let file_had_retired = was_retired_by_file(&existing);
            let mut stored = existing;
            if !same_text {
                let v = stored.latest_version + 1;
                bank_db::insert_version(conn, stored.id, v, &q.content, None, (!q.draft).then_some(now), now)?;
                if q.draft {
                    bank_db::bump_latest(conn, stored.id, v, stored.revision, now)?;
                } else {
                    bank_db::set_file_version(conn, stored.id, v, &hash, now)?;
                }
                stored = bank_db::find(conn, stored.id)?.expect("still there");
            }
            bank_db::set_file_hash(conn, stored.id, &hash)?;
            let retire = q.retired && stored.status != QuestionStatus::Retired;
            // the file withdrew its own retirement: back in use if a reviewed version exists
            let reinstate = !q.retired && stored.status == QuestionStatus::Retired && file_had_retired;
            if retire || reinstate {
                let to = if retire {
                    QuestionStatus::Retired
                } else if stored.live_version.is_some() {
                    QuestionStatus::Active
                } else {
                    QuestionStatus::Draft
                };
                bank_db::set_status(conn, &stored, to, now)?;
                audit::append(
                    conn,
                    None,
                    if retire { "question.retire" } else { "question.reinstate" },
                    &format!("question:{}", q.code),
                    &json!({"from": stored.status, "to": to, "by": origin_of(q)}),
                    now,
                )?;
            }
            report.updated += 1;
        }
    }
    Ok(())
}

fn was_retired_by_file(q: &bank_db::Question) -> bool {
    q.file_hash.as_deref().is_some_and(|h| h.ends_with(":retired"))
}
