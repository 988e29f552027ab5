//! Importing trainers' files (`domain::formats`) into the bank: a preview that says what each
//! entry would do, then an all-or-nothing commit. Imported questions arrive as drafts (or as new
//! draft versions of existing questions) for a second trainer to review; re-importing the same
//! file changes nothing. A plain Aiken, GIFT or Moodle XML file without citations or explanations
//! arrives as incomplete drafts, which cannot be reviewed until a trainer fills those in.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::db::models::{audit, bank as bank_db, imports, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::case_hash;
use crate::domain::formats::{self, Defaults, Format, Parsed};
use crate::domain::ids::{ImportId, UserId};
use crate::domain::said::{Located, Said};
use crate::error::{AppError, AppResult};

/// What committing would do with one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    New,
    /// The id exists with different content: the entry becomes a new draft version.
    NewVersion,
    Unchanged,
    /// Not importable (see the entry's errors).
    Refused,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub new: usize,
    pub new_versions: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub unsupported: usize,
    /// New questions and versions that arrive as incomplete drafts (no citation or no
    /// explanation), to be filled in before review.
    pub incomplete: usize,
}

/// A parsed file with the change per entry; entry errors include conflicts with the bank.
#[derive(Clone, Debug, Serialize)]
pub struct Preview {
    pub parsed: Parsed,
    pub changes: Vec<Change>,
    pub counts: Counts,
}

impl Preview {
    pub fn committable(&self) -> bool {
        self.parsed.is_clean() && !self.parsed.entries.is_empty()
    }
}

pub fn file_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a file and compares it with the bank. Nothing is written.
pub fn preview(conn: &mut DbConn, format: Format, file_name: &str, bytes: &[u8], defaults: &Defaults) -> AppResult<Preview> {
    let parsed = parse(conn, format, file_name, bytes, defaults)?;
    check(conn, parsed, |_, _| Ok(()))
}

/// Reads a file against the bank's statutes (the file's own errors; nothing compared yet).
pub fn parse(conn: &mut DbConn, format: Format, file_name: &str, bytes: &[u8], defaults: &Defaults) -> AppResult<Parsed> {
    let registry = bank_db::registry(conn)?;
    Ok(formats::parse(format, file_name, bytes, defaults, &registry))
}

/// Compares parsed entries with the bank: what each would do, and its conflicts as entry errors.
/// `after_entry(conn, n)` is called after the n-th entry (a job writes its progress there).
pub fn check(
    conn: &mut DbConn,
    mut parsed: Parsed,
    mut after_entry: impl FnMut(&mut DbConn, usize) -> AppResult<()>,
) -> AppResult<Preview> {
    let mut changes = Vec::with_capacity(parsed.entries.len());
    let mut counts = Counts { unsupported: parsed.unsupported.len(), ..Counts::default() };
    for (n, e) in parsed.entries.iter_mut().enumerate() {
        let existing = bank_db::find_by_code(conn, &e.code)?;
        if let Some(q) = &existing {
            if q.kind != e.content.kind {
                let kind = Said::plain(&format!("bank_file.kind_{}", q.kind.as_str()), q.kind.to_string());
                e.errors.push(Located::whole(
                    Said::new(
                        "bank_file.kind_changed",
                        vec![("id", e.code.clone())],
                        format!("{} already exists as a {} question; a question's type cannot change", e.code, q.kind),
                    )
                    .with_part("kind", kind),
                ));
            }
            // Excel, Moodle, GIFT and Aiken cannot say a question belongs to a case group: an
            // existing case item keeps its group. A file that does name a group must name its own.
            if let Some(c) = &e.case {
                let stored_case = match q.case_id {
                    Some(id) => bank_db::find_case(conn, id)?.map(|c| c.code),
                    None => None,
                };
                if stored_case.as_deref() != Some(c.code.as_str()) {
                    e.errors.push(Located::whole(Said::new(
                        "bank_file.into_case",
                        vec![("id", e.code.clone()), ("case", c.code.clone())],
                        format!("{} already exists outside case group {}; a question cannot move into a case", e.code, c.code),
                    )));
                }
            }
        }
        if let Some(c) = &e.case {
            if let Some(stored) = bank_db::find_case_by_code(conn, &c.code)? {
                if stored.content_hash != case_hash(&c.title, &c.text) {
                    e.errors.push(Located::whole(Said::new(
                        "bank_file.case_changed",
                        vec![("case", c.code.clone())],
                        format!("case {} exists with a different title or text; papers already drawn show that text, so change it in the shipped bank files", c.code),
                    )));
                }
            }
        }
        let change = if !e.errors.is_empty() {
            Change::Refused
        } else {
            match &existing {
                None => Change::New,
                Some(q) => {
                    let latest = bank_db::version(conn, q.id, q.latest_version)?.ok_or_else(|| AppError::internal("version missing"))?;
                    if latest.content_hash == e.content.content_hash() {
                        Change::Unchanged
                    } else {
                        Change::NewVersion
                    }
                }
            }
        };
        if matches!(change, Change::New | Change::NewVersion) && !e.incomplete.is_empty() {
            counts.incomplete += 1;
        }
        match change {
            Change::New => counts.new += 1,
            Change::NewVersion => counts.new_versions += 1,
            Change::Unchanged => counts.unchanged += 1,
            Change::Refused => counts.refused += 1,
        }
        changes.push(change);
        after_entry(conn, n + 1)?;
    }
    Ok(Preview { parsed, changes, counts })
}

/// Imports a file all or nothing: any error anywhere and nothing is written.
pub fn commit(
    conn: &mut DbConn,
    format: Format,
    file_name: &str,
    bytes: &[u8],
    defaults: &Defaults,
    by: UserId,
    now: Ts,
) -> AppResult<Counts> {
    write_tx(conn, |c| commit_as(c, format, file_name, bytes, defaults, Some(by), now))
}

/// The commit itself, inside the caller's write transaction; `by` is None from the command
/// line without `--as`.
pub fn commit_as(
    c: &mut DbConn,
    format: Format,
    file_name: &str,
    bytes: &[u8],
    defaults: &Defaults,
    by: Option<UserId>,
    now: Ts,
) -> AppResult<Counts> {
    // re-read inside the transaction: checked against the bank as it is now
    let p = preview(c, format, file_name, bytes, defaults)?;
    write_checked(c, &p, format, file_name, &file_hash(bytes), by, now)
}

/// Why a checked file cannot be committed, if it cannot (the error a commit answers with).
pub fn refusal(p: &Preview) -> Option<AppError> {
    if p.committable() {
        return None;
    }
    let n = p.parsed.error_count();
    Some(if n == 0 {
        AppError::unprocessable("the file holds no question lawcert can import").localized("import_refusal.empty", serde_json::json!({}))
    } else {
        AppError::unprocessable(format!("the file has {n} error(s); nothing was imported"))
            .localized("import_refusal.errors", serde_json::json!({"n": n}))
    })
}

/// Each error of a checked file on one line, with the entry's place in the file and its id.
pub fn error_lines(p: &Preview) -> Vec<String> {
    let mut lines: Vec<String> = p.parsed.file_errors.iter().map(Located::to_string).collect();
    for e in &p.parsed.entries {
        for err in &e.errors {
            lines.push(format!("{} ({}): {err}", e.location, e.code));
        }
    }
    if lines.is_empty() && !p.committable() {
        lines.push("the file holds no question lawcert can import".into());
    }
    lines
}

/// Each error of a checked file with its place, to be said in the reader's language: the
/// entry's place in the file and its id come first ([`error_lines`] in English).
pub fn error_problems(p: &Preview) -> Vec<Located> {
    let mut out = p.parsed.file_errors.clone();
    for e in &p.parsed.entries {
        let entry = Said::new("bank_file.at_entry", vec![("id", e.code.clone())], format!("{} ({})", e.location, e.code))
            .with_part("at", e.location.clone());
        out.extend(e.errors.iter().map(|err| err.clone().within(entry.clone())));
    }
    if out.is_empty() && !p.committable() {
        out.push(Located::whole(Said::plain("bank_file.nothing_to_import", "the file holds no question lawcert can import")));
    }
    out
}

/// Writes a file checked against the bank inside the caller's write transaction (refused if it
/// is not clean), with its audit entry.
pub fn write_checked(
    c: &mut DbConn,
    p: &Preview,
    format: Format,
    file_name: &str,
    sha256: &str,
    by: Option<UserId>,
    now: Ts,
) -> AppResult<Counts> {
    if let Some(e) = refusal(p) {
        return Err(e);
    }
    let origin = format!("import:{file_name}");
    for (e, change) in p.parsed.entries.iter().zip(&p.changes) {
        let case = match &e.case {
            Some(cr) => {
                let hash = case_hash(&cr.title, &cr.text);
                Some((bank_db::upsert_case(c, &cr.code, &cr.title, &cr.text, &hash, now)?, cr.position))
            }
            None => None,
        };
        match change {
            Change::New => {
                bank_db::insert_question(
                    c,
                    &bank_db::NewQuestion {
                        code: &e.code,
                        case,
                        origin: &origin,
                        file_hash: None,
                        content: &e.content,
                        author: by,
                        reviewed: false,
                    },
                    now,
                )?;
            }
            Change::NewVersion => {
                let q = bank_db::find_by_code(c, &e.code)?.ok_or_else(|| AppError::internal("question vanished"))?;
                if !super::questions::write_draft_version(c, &q, &e.content, by, now)? {
                    return Err(AppError::new(crate::error::ErrorCode::Stale, format!("{} changed during the import; try again", e.code)));
                }
            }
            Change::Unchanged | Change::Refused => {}
        }
    }
    audit::append(
        c,
        by,
        "bank.import",
        &format!("file:{file_name}"),
        &json!({"format": format.as_str(), "sha256": sha256, "counts": p.counts}),
        now,
    )?;
    Ok(p.counts.clone())
}

/// A file a trainer uploaded, kept between its preview and its commit.
pub struct Staged {
    pub import: imports::BankImport,
    pub format: Format,
    pub defaults: Defaults,
}

/// Keeps an upload for preview and commit; nothing reaches the bank yet.
pub fn stage(
    conn: &mut DbConn,
    by: UserId,
    file_name: &str,
    format: Format,
    bytes: &[u8],
    defaults: &Defaults,
    now: Ts,
) -> AppResult<ImportId> {
    let defaults = serde_json::to_string(defaults).expect("defaults serialise");
    let new = imports::NewImport {
        user_id: by,
        file_name,
        format: format.as_str(),
        file_hash: &file_hash(bytes),
        data: bytes,
        defaults: &defaults,
    };
    Ok(imports::insert(conn, &new, now)?)
}

/// A staged upload, for the trainer who uploaded it only.
pub fn staged(conn: &mut DbConn, id: ImportId, by: UserId) -> AppResult<Staged> {
    let import = imports::find(conn, id)?.ok_or_else(|| AppError::not_found("no such import"))?;
    if import.user_id != by {
        return Err(
            AppError::forbidden("this import was uploaded by another trainer").localized("import_refusal.not_yours", serde_json::json!({}))
        );
    }
    let format =
        Format::parse_name(&import.format).ok_or_else(|| AppError::internal(format!("import {id}: stored format {}", import.format)))?;
    let defaults = serde_json::from_str(&import.defaults).map_err(|e| AppError::internal(format!("import {id}: stored defaults: {e}")))?;
    Ok(Staged { import, format, defaults })
}

/// What committing the staged upload would do, against the bank as it is now.
pub fn preview_staged(conn: &mut DbConn, s: &Staged) -> AppResult<Preview> {
    preview(conn, s.format, &s.import.file_name, &s.import.data, &s.defaults)
}

/// Commits a staged upload in one transaction: the import is marked committed in the same
/// transaction that writes its questions, so it is either both or neither, and a second commit
/// (a double click, another server) finds it done and writes nothing.
pub fn commit_staged(conn: &mut DbConn, id: ImportId, by: UserId, now: Ts) -> AppResult<()> {
    write_tx(conn, |c| {
        let s = staged(c, id, by)?;
        if !imports::claim_for_commit(c, id, now)? {
            return Ok(());
        }
        let counts = commit_as(c, s.format, &s.import.file_name, &s.import.data, &s.defaults, Some(by), now)?;
        imports::set_report(c, id, &serde_json::to_string(&counts).expect("counts serialise"))?;
        Ok(())
    })
}
