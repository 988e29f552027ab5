//! Certification levels as the bureau runs them: rule settings, registrations (报名, by the
//! officer or by a trainer for them), certificates issued on passing, public verification, and
//! the daily sweep that applies expiry and 离岗失效 on their dates and warns holders before expiry.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use serde::Serialize;
use serde_json::json;

use crate::db::models::cert::{self as cert_db, Certificate};
use crate::db::models::{audit, exam as exam_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::Level;
use crate::domain::certification::{self as rules_mod, CertRules, CertStatus, HeldCert, Ineligible, RegistrationStatus};
use crate::domain::ids::{CertificateId, RegistrationId, UserId};
use crate::error::{AppError, AppResult};
use crate::timefmt::bureau_date;

const RULES_KEY: &str = "certification_rules";

/// The rules in force: the admin's settings, or the shipped defaults.
pub fn rules(conn: &mut DbConn) -> AppResult<CertRules> {
    Ok(match cert_db::setting(conn, RULES_KEY)? {
        Some(v) => serde_json::from_str(&v).map_err(|e| AppError::internal(format!("stored certification rules: {e}")))?,
        None => CertRules::default(),
    })
}

pub fn save_rules(conn: &mut DbConn, r: &CertRules, by: UserId, now: Ts) -> AppResult<()> {
    let errs = r.validate();
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    write_tx(conn, |c| {
        let json = serde_json::to_string(r).expect("json");
        cert_db::put_setting(c, RULES_KEY, &json, Some(by), now)?;
        audit::append(c, Some(by), "settings.certification", "settings:certification_rules", &serde_json::to_value(r).expect("json"), now)?;
        Ok(())
    })
}

/// The date the officer left an enforcement post and has not returned since, if off post.
pub fn off_post_since(conn: &mut DbConn, user_id: UserId) -> AppResult<Option<NaiveDate>> {
    let changes = cert_db::post_changes_of(conn, user_id)?;
    Ok(off_post_from(&changes))
}

fn off_post_from(changes: &[cert_db::PostChange]) -> Option<NaiveDate> {
    let last = changes.last()?;
    if last.enforcement_post {
        return None;
    }
    // the start of the current run of non-enforcement posts
    let mut since = last.effective_on;
    for c in changes.iter().rev() {
        if c.enforcement_post {
            break;
        }
        since = c.effective_on;
    }
    Some(since)
}

fn held(c: &Certificate) -> HeldCert {
    HeldCert { level: c.level, issued_on: c.issued_on, expires_on: c.expires_on, status: c.status }
}

/// An officer's certificates with their standing today (the sweep stores it; this never lags).
pub fn certificates_today(conn: &mut DbConn, user_id: UserId, today: NaiveDate) -> AppResult<Vec<(Certificate, CertStatus)>> {
    let r = rules(conn)?;
    let off = off_post_since(conn, user_id)?;
    Ok(cert_db::certificates_of(conn, user_id)?
        .into_iter()
        .map(|c| {
            let s = rules_mod::status_on(&held(&c), today, off, &r);
            (c, s)
        })
        .collect())
}

/// Whether the officer may sit `level` today, with every reason if not.
pub fn eligibility(conn: &mut DbConn, user_id: UserId, level: Level, today: NaiveDate) -> AppResult<Result<(), Vec<Ineligible>>> {
    let r = rules(conn)?;
    let u = org::find(conn, user_id)?.ok_or_else(|| AppError::not_found("no such officer"))?;
    let certs: Vec<HeldCert> =
        certificates_today(conn, user_id, today)?.into_iter().map(|(c, s)| HeldCert { status: s, ..held(&c) }).collect();
    Ok(rules_mod::eligibility(&r, level, u.hire_date, &certs, today))
}

/// Registers an officer for a level (the officer, or a trainer for them).
/// Refused with every reason when they are not eligible; a second open registration is refused.
pub fn register(conn: &mut DbConn, user_id: UserId, level: Level, by: UserId, now: Ts) -> AppResult<RegistrationId> {
    let today = bureau_date(now);
    if let Err(why) = eligibility(conn, user_id, level, today)? {
        return Err(refusal(crate::error::ErrorCode::NotEligible, &why));
    }
    write_tx(conn, |c| {
        if cert_db::open_registration(c, user_id, level)?.is_some() {
            return Err(AppError::new(crate::error::ErrorCode::AlreadyRegistered, "already registered for this level")
                .localized("cert_refusal.already_registered", json!({"level_name": format!("@level.{}", level.as_str())})));
        }
        let id = cert_db::insert_registration(c, user_id, level, Some(by), now)?;
        audit::append(c, Some(by), "certification.register", &format!("user:{user_id}"), &json!({"level": level.as_str()}), now)?;
        Ok(id)
    })
}

/// At the start of a certification sitting: the candidate must be registered for its level and
/// still eligible (a certificate may have lapsed since registering).
pub fn admit(conn: &mut DbConn, user_id: UserId, level: Level, now: Ts) -> AppResult<()> {
    if cert_db::open_registration(conn, user_id, level)?.is_none() {
        return Err(AppError::new(
            crate::error::ErrorCode::NotRegistered,
            format!("register for the {} certification first", level.as_str()),
        )
        .localized("cert_refusal.not_registered", json!({"level_name": format!("@level.{}", level.as_str())})));
    }
    if let Err(why) = eligibility(conn, user_id, level, bureau_date(now))? {
        return Err(refusal(crate::error::ErrorCode::EligibilityLapsed, &why));
    }
    Ok(())
}

/// A refusal with every reason: in English for the API, each reason a catalogue sentence for
/// pages (the reader's language).
fn refusal(code: crate::error::ErrorCode, why: &[Ineligible]) -> AppError {
    let mut e = AppError::new(code, why.iter().map(Ineligible::message).collect::<Vec<_>>().join("; "));
    for r in why {
        let (key, mut params) = r.key();
        if let Some(level) = params.get("level").and_then(|l| l.as_str()).map(str::to_string) {
            params["level_name"] = json!(format!("@level.{level}"));
        }
        e = e.localized(key, params);
    }
    e
}

fn verify_code() -> String {
    // no 0/O/1/I: read aloud and typed from paper
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Issues the certificate a graded certification attempt earned (once per attempt). Call inside
/// the write transaction that stored the grade.
pub fn issue_for_attempt(
    c: &mut DbConn,
    attempt: &exam_db::Attempt,
    sitting: &exam_db::Sitting,
    now: Ts,
) -> AppResult<Option<CertificateId>> {
    let Some(level) = sitting.cert_level else { return Ok(None) };
    if attempt.passed != Some(true) || cert_db::certificate_for_attempt(c, attempt.id)?.is_some() {
        return Ok(None);
    }
    let r = rules(c)?;
    let rule = r.level(level).ok_or_else(|| AppError::internal("level without rules"))?;
    let issued = bureau_date(attempt.submitted_at.unwrap_or(now));
    let u = org::find(c, attempt.user_id)?.ok_or_else(|| AppError::internal("candidate missing"))?;
    let prefix = rules_mod::certificate_number(level, issued.year(), 0);
    let prefix = &prefix[..prefix.len() - 6];
    let number = rules_mod::certificate_number(level, issued.year(), cert_db::count_numbered(c, prefix)? + 1);
    let code = verify_code();
    let expires = rules_mod::expiry(issued, rule.validity_years);
    let new = cert_db::NewCertificate {
        attempt_id: Some(attempt.id),
        score_centi: attempt.score_centi,
        ..cert_db::NewCertificate::valid(&number, &code, &u, level, issued, expires, now)
    };
    let id = cert_db::insert_certificate(c, &new)?;
    if let Some(reg) = cert_db::open_registration(c, u.id, level)? {
        cert_db::close_registration(c, reg.id, RegistrationStatus::Passed, sitting.id)?;
    }
    audit::append(
        c,
        None,
        "certificate.issue",
        &format!("certificate:{number}"),
        &json!({"user": u.id, "level": level.as_str(), "attempt": attempt.id}),
        now,
    )?;
    let cert = cert_db::certificate_by_number(c, &number)?.ok_or_else(|| AppError::internal("certificate vanished"))?;
    crate::services::training::file_certificate(c, &cert, now)?;
    crate::services::mail::notify(
        c,
        u.id,
        "certificate_issued",
        json!({"number": number, "level": format!("level.{}", level.as_str()), "issued": issued.to_string(), "expires": cert.expires_on.to_string(), "url": "/certification"}),
        now,
    )?;
    Ok(Some(id))
}

/// What the public verification page may say: the certificate, and of its holder only the name
/// and the masked badge, so a copied number and code cannot vouch for someone else's name.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Verification {
    pub number: String,
    pub holder_name: String,
    /// e.g. `1000**` (`domain::certification::mask_badge`).
    pub holder_badge: String,
    pub level: Level,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: CertStatus,
}

/// Looks a certificate up by number and code; `None` unless both match.
pub fn verify(conn: &mut DbConn, number: &str, code: &str, today: NaiveDate) -> AppResult<Option<Verification>> {
    let Some(c) = cert_db::certificate_by_number(conn, number.trim())? else { return Ok(None) };
    let given = code.trim().to_uppercase();
    if given.len() != c.verify_code.len() || given.bytes().zip(c.verify_code.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0 {
        return Ok(None);
    }
    let r = rules(conn)?;
    let off = off_post_since(conn, c.user_id)?;
    let status = rules_mod::status_on(&held(&c), today, off, &r);
    let holder = org::find(conn, c.user_id)?.ok_or_else(|| AppError::internal("certificate without a holder"))?;
    let holder_badge = crate::domain::certification::mask_badge(&holder.badge);
    Ok(Some(Verification {
        number: c.number,
        holder_name: holder.name,
        holder_badge,
        level: c.level,
        issued_on: c.issued_on,
        expires_on: c.expires_on,
        status,
    }))
}

/// Records a post change; leaving an enforcement post starts the lapse clock.
pub fn record_post_change(
    conn: &mut DbConn,
    user_id: UserId,
    post: &str,
    enforcement: bool,
    effective_on: NaiveDate,
    by: UserId,
    now: Ts,
) -> AppResult<()> {
    let post = post.trim();
    if post.is_empty() || post.chars().count() > 60 {
        return Err(AppError::invalid_problems(vec![crate::domain::validation::Problem::plain(
            "post",
            "cert.post",
            "name the new post (at most 60 characters)",
        )]));
    }
    org::find(conn, user_id)?.ok_or_else(|| AppError::not_found("no such officer"))?;
    write_tx(conn, |c| {
        cert_db::insert_post_change(c, user_id, post, enforcement, effective_on, Some(by), now)?;
        audit::append(
            c,
            Some(by),
            "officer.post_change",
            &format!("user:{user_id}"),
            &json!({"post": post, "enforcement": enforcement, "effective_on": effective_on}),
            now,
        )?;
        Ok(())
    })
}

/// What the daily sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: usize,
    pub lapsed: usize,
    pub warned: usize,
}

/// Applies expiry and 离岗失效 as of today, and warns holders whose certificate expires soon.
/// Idempotent: run it as often as you like.
pub fn sweep(conn: &mut DbConn, now: Ts) -> AppResult<SweepReport> {
    let today = bureau_date(now);
    let r = rules(conn)?;
    let mut off: std::collections::HashMap<UserId, Vec<cert_db::PostChange>> = Default::default();
    for p in cert_db::all_post_changes(conn)? {
        off.entry(p.user_id).or_default().push(p);
    }
    let mut report = SweepReport::default();
    for c in cert_db::valid_certificates(conn)? {
        let since = off.get(&c.user_id).and_then(|v| off_post_from(v));
        let h = held(&c);
        match rules_mod::status_on(&h, today, since, &r) {
            CertStatus::Valid => {
                if c.warned_at.is_none() && rules_mod::due_for_warning(&h, today, &r) {
                    write_tx(conn, |tx| {
                        if !cert_db::mark_warned(tx, c.id, now)? {
                            return Ok(()); // another app server warned first
                        }
                        crate::services::mail::notify(
                            tx,
                            c.user_id,
                            "certificate_expiring",
                            json!({"number": c.number, "level": format!("level.{}", c.level.as_str()), "expires": c.expires_on.to_string(), "url": "/certification"}),
                            now,
                        )
                    })?;
                    report.warned += 1;
                }
            }
            s => {
                let on = match s {
                    CertStatus::Lapsed => rules_mod::lapse_date(since, &r).unwrap_or(today),
                    _ => c.expires_on,
                };
                let ended = write_tx(conn, |tx| {
                    if !cert_db::end_certificate(tx, c.id, s.as_str(), on)? {
                        return Ok::<bool, AppError>(false);
                    }
                    audit::append(
                        tx,
                        None,
                        &format!("certificate.{}", s.as_str()),
                        &format!("certificate:{}", c.number),
                        &json!({"user": c.user_id, "on": on}),
                        now,
                    )?;
                    // catalogue keys: the mail is written in its recipient's language
                    let what = if s == CertStatus::Lapsed { "mail.certificate_ended.lapsed" } else { "mail.certificate_ended.expired" };
                    crate::services::training::file_certificate_ended(tx, &c, s.as_str(), on, now)?;
                    crate::services::mail::notify(
                        tx,
                        c.user_id,
                        "certificate_ended",
                        json!({"number": c.number, "level": format!("level.{}", c.level.as_str()), "status": what, "url": "/certification"}),
                        now,
                    )?;
                    Ok(true)
                })?;
                if ended {
                    match s {
                        CertStatus::Lapsed => report.lapsed += 1,
                        _ => report.expired += 1,
                    }
                }
            }
        }
    }
    Ok(report)
}

// ---- what the certification pages read ----

/// An officer's own certification page: the rules, their certificates with today's status,
/// each level with whether they may register and whether they have, and their registrations.
pub struct MyCertification {
    pub rules: CertRules,
    pub certs: Vec<(Certificate, CertStatus)>,
    pub levels: Vec<(Level, Result<(), Vec<Ineligible>>, bool)>,
    pub registrations: Vec<cert_db::Registration>,
}

pub fn mine(conn: &mut DbConn, user_id: UserId, today: NaiveDate) -> AppResult<MyCertification> {
    let rules = rules(conn)?;
    let certs = certificates_today(conn, user_id, today)?;
    let mut levels = Vec::new();
    for l in Level::ALL {
        let e = eligibility(conn, user_id, l, today)?;
        let registered = cert_db::open_registration(conn, user_id, l)?.is_some();
        levels.push((l, e, registered));
    }
    let registrations = cert_db::registrations(conn, false)?.into_iter().filter(|(r, ..)| r.user_id == user_id).map(|(r, ..)| r).collect();
    Ok(MyCertification { rules, certs, levels, registrations })
}

/// Every registration with the officer's badge and name.
pub fn registrations(conn: &mut DbConn) -> AppResult<Vec<(cert_db::Registration, String, String)>> {
    Ok(cert_db::registrations(conn, false)?)
}

/// Registers the officer a badge names (by a trainer); 422 for no such officer.
pub fn register_badge(conn: &mut DbConn, badge: &str, level: Level, by: UserId, now: Ts) -> AppResult<RegistrationId> {
    let u = org::find_by_badge(conn, badge)?.ok_or_else(|| {
        AppError::invalid_problems(vec![crate::domain::validation::Problem::with(
            "badge",
            "cert.no_officer",
            vec![("badge", badge.to_string())],
            format!("no officer {badge}"),
        )])
    })?;
    register(conn, u.id, level, by, now)
}

/// An officer's certification record: the account, certificates with today's status, post changes.
pub fn record_of(
    conn: &mut DbConn,
    user_id: UserId,
    today: NaiveDate,
) -> AppResult<(org::User, Vec<(Certificate, CertStatus)>, Vec<cert_db::PostChange>)> {
    let u = org::find(conn, user_id)?.ok_or_else(|| AppError::not_found("no such officer"))?;
    Ok((u, certificates_today(conn, user_id, today)?, cert_db::post_changes_of(conn, user_id)?))
}

/// Officers whose badge, name or unit contains `needle` (all for ""), each with its unit and the
/// levels of its valid certificates.
pub fn officers_with_levels(conn: &mut DbConn, needle: &str) -> AppResult<Vec<(org::User, String, Vec<Level>)>> {
    let mut levels: std::collections::HashMap<UserId, Vec<Level>> = Default::default();
    for held in cert_db::valid_levels(conn)? {
        levels.entry(held.user_id).or_default().push(held.level);
    }
    Ok(org::list_with_units(conn)?
        .into_iter()
        .filter(|(u, unit)| needle.is_empty() || u.badge.contains(needle) || u.name.contains(needle) || unit.contains(needle))
        .map(|(u, unit)| {
            let held = levels.remove(&u.id).unwrap_or_default();
            (u, unit, held)
        })
        .collect())
}

/// A certificate to print, for its holder or anyone who may print all (`any`): the certificate,
/// its holder, the holder's unit and today's status; 404 for anything else.
pub fn for_print(
    conn: &mut DbConn,
    number: &str,
    reader: UserId,
    any: bool,
    today: NaiveDate,
) -> AppResult<(Certificate, org::User, String, Option<CertStatus>)> {
    let c = cert_db::certificate_by_number(conn, number)?
        .filter(|c| c.user_id == reader || any)
        .ok_or_else(|| AppError::not_found("no such certificate"))?;
    let holder = org::find(conn, c.user_id)?.ok_or_else(|| AppError::not_found("no such certificate"))?;
    let unit = crate::services::people::unit_name(conn, holder.unit_id)?;
    let status = certificates_today(conn, holder.id, today)?.into_iter().find(|(x, _)| x.id == c.id).map(|(_, s)| s);
    Ok((c, holder, unit, status))
}
