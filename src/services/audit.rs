//! Publishing the audit log's head where deleting rows cannot reach it: the HR feed, a daily
//! digest e-mail to admins, and signed checkpoints checked by `lawcert audit verify --against`.

use serde_json::json;

use crate::db::models::{audit as audit_db, cert as settings_db, mail as mail_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::audit::{check_against, ChainVerifier, Checkpoint, Head};
use crate::domain::ids::{AuditId, UserId};
use crate::domain::org::Role;
use crate::error::{AppError, AppResult};
use crate::render::render_mail;

/// The settings row holding the bureau day of the last digest.
pub const DIGEST_SETTING: &str = "audit_digest_date";

fn rfc3339(t: Ts) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The log's head, and the time of its newest entry (None for an empty log).
pub fn head(conn: &mut DbConn) -> AppResult<(Head, Option<Ts>)> {
    Ok(match audit_db::head(conn)? {
        Some((entry, hash, at)) => (Head { entry, hash }, Some(at)),
        None => (Head::empty(), None),
    })
}

/// A checkpoint of the log's head now, signed with `key` (`domain::audit::checkpoint_key`).
pub fn checkpoint(conn: &mut DbConn, key: &[u8; 32], now: Ts) -> AppResult<Checkpoint> {
    let (h, _) = head(conn)?;
    Ok(Checkpoint::sign(&h, &rfc3339(now), key))
}

/// Why a log does not pass `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The chain itself is broken at this entry.
    Broken { entry: AuditId, reason: String },
    /// The chain is whole but does not hold what was published (a deleted or rewritten tail).
    Published(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Broken { entry, reason } => write!(f, "broken at entry {entry}: {reason}"),
            Failure::Published(why) => f.write_str(why),
        }
    }
}

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: usize,
    pub head: Head,
}

/// Verifies the whole chain a page at a time and, given a head published earlier (from a
/// checkpoint whose signature the caller checked, the HR feed or a digest), that the log still
/// reaches that entry with that hash.
pub fn verify(conn: &mut DbConn, published: Option<&Head>) -> AppResult<Result<Verified, Failure>> {
    let mut verifier = ChainVerifier::default();
    let mut after = AuditId(0);
    let mut last = Head::empty();
    let mut at_published: Option<String> = None;
    loop {
        let page = audit_db::page(conn, after, 5000)?;
        let Some(end) = page.last() else { break };
        after = end.id;
        for e in &page {
            if let Err(b) = verifier.push(e) {
                return Ok(Err(Failure::Broken { entry: b.id, reason: b.reason }));
            }
            if published.is_some_and(|p| p.entry == e.id) {
                at_published = Some(e.hash.clone());
            }
            last = Head { entry: e.id, hash: e.hash.clone() };
        }
    }
    if let Some(p) = published {
        if let Err(why) = check_against(p, &last, at_published.as_deref()) {
            return Ok(Err(Failure::Published(why)));
        }
    }
    Ok(Ok(Verified { entries: verifier.checked, head: last }))
}

/// What the admin's audit page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub head: Head,
    pub newest: Option<Ts>,
    /// The bureau day of the last digest e-mail.
    pub last_digest: Option<String>,
    /// Active admins with an e-mail address: who receives the digest.
    pub digest_recipients: usize,
}

pub fn overview(conn: &mut DbConn) -> AppResult<Overview> {
    let (head, newest) = head(conn)?;
    let last_digest = settings_db::setting(conn, DIGEST_SETTING)?;
    let digest_recipients =
        org::active_with_role(conn, Role::Admin)?.iter().filter(|a| a.email.as_deref().is_some_and(|e| !e.trim().is_empty())).count();
    Ok(Overview { head, newest, last_digest, digest_recipients })
}

/// A signed checkpoint for an admin to download; the export itself is audited (after the
/// head it records, so the checkpoint is of the log as it was before).
pub fn export_checkpoint(conn: &mut DbConn, key: &[u8; 32], by: UserId, now: Ts) -> AppResult<Checkpoint> {
    write_tx(conn, |c| {
        let cp = checkpoint(c, key, now)?;
        audit_db::append(c, Some(by), "audit.checkpoint", "audit_log", &json!({"entry": cp.entry, "hash": cp.hash}), now)?;
        Ok(cp)
    })
}

/// Once per bureau day (the first dated sweep of the day, on whichever app server gets there
/// first): e-mails the log's head to every active admin with an address. Returns the number of
/// messages queued (0 when today's digest went out already).
pub fn daily_digest(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let today = crate::timefmt::bureau_date(now).to_string();
    write_tx(conn, |c| {
        if !settings_db::claim_setting(c, DIGEST_SETTING, &today, now)? {
            return Ok(0);
        }
        let (h, newest) = head(c)?;
        let admins = org::active_with_role(c, Role::Admin)?;
        let mut queued = 0;
        for a in admins {
            let Some(to) = a.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) else { continue };
            let mut params = json!({
                "name": a.name, "date": today, "entry": h.entry, "hash": h.hash,
                "newest": newest.map(crate::timefmt::local).unwrap_or_else(|| "—".into()), "head": h.to_string(), "url": "/admin/audit",
            });
            crate::services::mail::absolute_params(c, &mut params)?;
            let m = render_mail("audit_digest", crate::render::known_lang(&a.lang), &params).map_err(AppError::internal)?;
            mail_db::enqueue(c, Some(a.id), to, "audit_digest", &m.subject, &m.text, &m.html, now)?;
            queued += 1;
        }
        Ok(queued)
    })
}
