//! Loads the shipped banks into the database, idempotently and all-or-nothing.

use crate::db::models::{bank as bank_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::{Bank, BankQuestion};

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

fn sync_one(conn: &mut DbConn, q: &BankQuestion, case: Option<(i64, i32)>, now: Ts, report: &mut SyncReport) -> diesel::QueryResult<()> {
    let hash = q.content.content_hash();
    match bank_db::find_by_code(conn, &q.code)? {
        None => {
            bank_db::insert_question(
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
            report.added += 1;
        }
        Some(existing) if existing.file_hash.as_deref() == Some(hash.as_str()) => report.unchanged += 1,
        Some(existing) => {
            let v = existing.latest_version + 1;
            bank_db::insert_version(conn, existing.id, v, &q.content, None, (!q.draft).then_some(now), now)?;
            if q.draft {
                bank_db::bump_latest(conn, existing.id, v, existing.revision, now)?;
            } else {
                bank_db::set_file_version(conn, existing.id, v, &hash, now)?;
            }
            report.updated += 1;
        }
    }
    Ok(())
}
