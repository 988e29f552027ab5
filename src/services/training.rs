//! Officers' training files (民警训练档案): every result, absence, certificate, lapse, remedial
//! plan and reward, appended as it happens and never rewritten. Corrections are entries that
//! point at what they correct. Each entry is also written to the hash-chained audit log.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::db::models::{audit, cert as cert_db, exam as exam_db, org, training as tr_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam::{Release, SittingKind};
use crate::domain::grading::format_points;
use crate::domain::ids::{AttemptId, EntryId, SittingId, UnitId, UserId};
use crate::domain::training_file::EntryKind;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::timefmt::bureau_date;

/// Appends an entry and its audit record. Call inside `db::write_tx`.
#[allow(clippy::too_many_arguments)]
pub fn append(
    conn: &mut DbConn,
    user_id: UserId,
    kind: EntryKind,
    occurred_on: NaiveDate,
    source: &str,
    corrects: Option<EntryId>,
    data: &serde_json::Value,
    note: &str,
    by: Option<UserId>,
    now: Ts,
) -> AppResult<EntryId> {
    let data_text = data.to_string();
    let id = tr_db::append(
        conn,
        &tr_db::NewEntry {
            user_id,
            kind: kind.as_str(),
            occurred_on,
            source,
            corrects_id: corrects,
            data: &data_text,
            note,
            recorded_by: by,
            recorded_at: now,
        },
    )?;
    audit::append(
        conn,
        by,
        "file.append",
        &format!("file:{user_id}"),
        &json!({"entry": id, "kind": kind, "source": source, "corrects": corrects, "data": data, "note": note}),
        now,
    )?;
    Ok(id)
}

fn sitting_data(
    s: &exam_db::Sitting,
    a: &exam_db::Attempt,
    police_type: &str,
    scaled: Option<&crate::db::models::standards::ScaledScore>,
) -> serde_json::Value {
    json!({
        "sitting_id": s.id, "title": s.title, "sitting_kind": s.kind, "level": s.cert_level,
        "police_type": police_type, "score": a.score_centi.map(format_points), "max": format_points(a.max_centi),
        "passed": a.passed, "attempt_id": a.id, "submitted_at": a.submitted_at.map(crate::timefmt::local),
        // the score on the calibrated scale (logits, two decimals) and the rule pass was decided by
        "scaled": scaled.and_then(|x| x.ability).map(|t| format!("{t:.2}")), "pass_rule": scaled.map(|x| x.rule),
    })
}

/// Files the results of sittings that have closed with every attempt in: one entry per attempt
/// and per absence; each officer is told their result, and bimonthly results run the remedial
/// triggers. Attempts are filed in short transactions (a big sitting must not hold the writer
/// for long while other exams run); each attempt is filed once, so a run cut short resumes.
pub fn file_closed_sittings(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    const CHUNK: usize = 200;
    let mut n = 0;
    for s in tr_db::unfiled_closed_sittings(conn, now)? {
        let attempts = exam_db::attempts_of_sitting(conn, s.id)?;
        if attempts.iter().any(|(a, ..)| a.submitted_at.is_none()) {
            continue; // the deadline sweeper submits these first
        }
        let kind = s.kind;
        // practice runs (mock) are study, not results: they stay out of the file
        if kind != SittingKind::Mock {
            let release = s.score_release;
            for chunk in attempts.chunks(CHUNK) {
                write_tx(conn, |c| {
                    for (a, ..) in chunk {
                        let source = format!("attempt:{}", a.id);
                        if tr_db::latest_from(c, &source, EntryKind::Sitting)?.is_some() {
                            continue;
                        }
                        let u = org::find(c, a.user_id)?.ok_or_else(|| AppError::internal("user missing"))?;
                        let on = bureau_date(a.submitted_at.unwrap_or(s.closes_at));
                        let scaled = crate::services::scale::of_attempt(c, a.id)?;
                        append(
                            c,
                            u.id,
                            EntryKind::Sitting,
                            on,
                            &source,
                            None,
                            &sitting_data(&s, a, &u.police_type, scaled.as_ref()),
                            "",
                            None,
                            now,
                        )?;
                        crate::services::mail::notify(
                            c,
                            u.id,
                            "result",
                            json!({"title": s.title, "released": release != Release::Never, "score": format_points(a.score_centi.unwrap_or(0)),
                                   "max": format_points(a.max_centi), "passed": a.passed.unwrap_or(false), "url": format!("/attempts/{}/result", a.id)}),
                            now,
                        )?;
                        if kind == SittingKind::Bimonthly {
                            crate::services::remedial::after_bimonthly(c, a.user_id, a.id, now)?;
                        }
                        if release != Release::Never {
                            // certificates withheld until the scores were released (once per attempt)
                            crate::services::certification::issue_for_attempt(c, a, &s, now)?;
                        }
                    }
                    Ok::<(), AppError>(())
                })?;
            }
        }
        write_tx(conn, |c| {
            let fresh = crate::services::exams::sitting_of(c, s.id)?;
            if fresh.filed {
                return Ok::<(), AppError>(());
            }
            if kind != SittingKind::Mock {
                for user_id in crate::db::models::room::absentees(c, s.id)? {
                    let source = format!("sitting:{}:absent:{user_id}", s.id);
                    if tr_db::latest_from(c, &source, EntryKind::Absence)?.is_none() {
                        append(
                            c,
                            user_id,
                            EntryKind::Absence,
                            bureau_date(s.closes_at),
                            &source,
                            None,
                            &json!({"sitting_id": s.id, "title": s.title, "sitting_kind": s.kind}),
                            "",
                            None,
                            now,
                        )?;
                    }
                }
            }
            if kind == SittingKind::Remedial {
                crate::services::remedial::remedial_sitting_closed(c, &s, attempts.first().map(|x| &x.0), now)?;
            }
            tr_db::mark_sitting_filed(c, s.id)?;
            Ok(())
        })?;
        n += 1;
    }
    Ok(n)
}

/// Files a certificate when it is issued; a 高级 pass is flagged for the bureau's rewards.
pub fn file_certificate(conn: &mut DbConn, cert: &cert_db::Certificate, now: Ts) -> AppResult<()> {
    let source = format!("certificate:{}", cert.id);
    let data = json!({"number": cert.number, "level": cert.level, "police_type": cert.police_type, "issued_on": cert.issued_on,
                      "expires_on": cert.expires_on, "score": cert.score_centi.map(format_points), "attempt_id": cert.attempt_id});
    append(conn, cert.user_id, EntryKind::Certificate, cert.issued_on, &source, None, &data, "", None, now)?;
    if cert.level == crate::domain::bank::Level::Advanced {
        append(
            conn,
            cert.user_id,
            EntryKind::RewardFlag,
            cert.issued_on,
            &source,
            None,
            &json!({"number": cert.number, "level": cert.level}),
            "",
            None,
            now,
        )?;
    }
    Ok(())
}

pub fn file_certificate_ended(conn: &mut DbConn, cert: &cert_db::Certificate, status: &str, on: NaiveDate, now: Ts) -> AppResult<()> {
    let data = json!({"number": cert.number, "level": cert.level, "status": status});
    append(conn, cert.user_id, EntryKind::CertificateEnded, on, &format!("certificate:{}", cert.id), None, &data, "", None, now)?;
    Ok(())
}

/// After a regrade: the filed result is corrected by a new entry (the old one stays).
pub fn correct_regraded(conn: &mut DbConn, attempt: &exam_db::Attempt, because: &str, now: Ts) -> AppResult<()> {
    let source = format!("attempt:{}", attempt.id);
    let Some(prev) = tr_db::latest_from(conn, &source, EntryKind::Sitting)? else { return Ok(()) };
    let latest = tr_db::latest_from(conn, &source, EntryKind::Correction)?.unwrap_or(prev.clone());
    let mut data: serde_json::Value = serde_json::from_str(&latest.data).unwrap_or_else(|_| json!({}));
    data["score"] = json!(attempt.score_centi.map(format_points));
    data["passed"] = json!(attempt.passed);
    if let Some(x) = crate::services::scale::of_attempt(conn, attempt.id)? {
        data["scaled"] = json!(x.ability.map(|t| format!("{t:.2}")));
        data["pass_rule"] = json!(x.rule);
    }
    data["corrected_field"] = json!("score");
    append(conn, attempt.user_id, EntryKind::Correction, bureau_date(now), &source, Some(latest.id), &data, because, None, now)?;
    Ok(())
}

/// 404 for an officer that does not exist or whose file the reader may not open.
fn no_such_officer() -> AppError {
    AppError::problem(ErrorCode::NotFound, Problem::plain("", "training.no_officer", "no such officer"))
}

/// A correction HR or an admin writes by hand: `note` says what was wrong.
pub fn correct_by_hand(conn: &mut DbConn, user_id: UserId, entry_id: EntryId, note: &str, by: UserId, now: Ts) -> AppResult<EntryId> {
    let note = note.trim();
    if note.chars().count() < 5 || note.chars().count() > 1000 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("note", "training.correction_note", "say what is wrong and what is right (5–1000 characters)"),
        ));
    }
    write_tx(conn, |c| {
        let e = tr_db::find_entry(c, entry_id)?.filter(|e| e.user_id == user_id).ok_or_else(|| {
            AppError::problem(ErrorCode::Invalid, Problem::plain("entry_id", "training.no_entry", "no such entry in this file"))
        })?;
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_else(|_| json!({}));
        append(c, user_id, EntryKind::Correction, bureau_date(now), &e.source, Some(e.id), &data, note, Some(by), now)
    })
}

/// A reward (嘉奖) HR records, e.g. for a flagged 高级 pass.
pub fn record_reward(conn: &mut DbConn, user_id: UserId, note: &str, by: UserId, now: Ts) -> AppResult<EntryId> {
    let note = note.trim();
    if note.chars().count() < 2 || note.chars().count() > 1000 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("note", "training.reward_note", "describe the reward (2–1000 characters)"),
        ));
    }
    org::find(conn, user_id)?.ok_or_else(no_such_officer)?;
    write_tx(conn, |c| {
        append(c, user_id, EntryKind::Reward, bureau_date(now), &format!("user:{user_id}"), None, &json!({}), note, Some(by), now)
    })
}

/// An entry as the file shows it.
#[derive(Clone, Debug, Serialize)]
pub struct EntryView {
    pub id: EntryId,
    pub kind: EntryKind,
    pub occurred_on: NaiveDate,
    pub recorded_at: String,
    pub corrects_id: Option<EntryId>,
    /// A later entry corrects this one.
    pub corrected_by: Option<EntryId>,
    pub data: serde_json::Value,
    pub note: String,
    /// Score withheld from the officer (the sitting does not release scores).
    pub withheld: bool,
}

/// The file of one officer, oldest first. `as_officer`: what the officer may see of it (scores
/// of sittings that never release them are withheld).
pub fn file_of(conn: &mut DbConn, user_id: UserId, as_officer: bool) -> AppResult<Vec<EntryView>> {
    let entries = tr_db::entries_of(conn, user_id)?;
    let withheld_sittings: HashSet<SittingId> = if as_officer {
        exam_db::attempts_of_user(conn, user_id)?
            .into_iter()
            .filter(|(_, s)| s.score_release == Release::Never)
            .map(|(_, s)| s.id)
            .collect()
    } else {
        HashSet::new()
    };
    Ok(views(&entries, &withheld_sittings))
}

pub fn views(entries: &[tr_db::Entry], withheld_sittings: &HashSet<SittingId>) -> Vec<EntryView> {
    let corrected: HashMap<EntryId, EntryId> = entries.iter().filter_map(|e| e.corrects_id.map(|c| (c, e.id))).collect();
    entries
        .iter()
        .map(|e| {
            let mut data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_else(|_| json!({}));
            let withheld = data.get("sitting_id").and_then(|v| v.as_i64()).is_some_and(|s| withheld_sittings.contains(&SittingId(s)))
                && data.get("score").is_some();
            if withheld {
                data["score"] = serde_json::Value::Null;
                data["passed"] = serde_json::Value::Null;
                if data.get("scaled").is_some() {
                    data["scaled"] = serde_json::Value::Null;
                }
            }
            EntryView {
                id: e.id,
                kind: e.kind,
                occurred_on: e.occurred_on,
                recorded_at: crate::timefmt::local(e.recorded_at),
                corrects_id: e.corrects_id,
                corrected_by: corrected.get(&e.id).copied(),
                data,
                note: e.note.clone(),
                withheld,
            }
        })
        .collect()
}

/// One record for the personnel system / export: the entry plus who it is about, with the
/// fields of the 执法资格等级考试情况信息集 where the entry is a certification result.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Record {
    /// Opaque cursor: pass it back as `since` to get what came after.
    pub cursor: String,
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub badge: String,
    pub name: String,
    pub unit: String,
    pub id_number: Option<String>,
    #[schema(value_type = String)]
    pub kind: EntryKind,
    pub occurred_on: NaiveDate,
    pub recorded_at: String,
    /// The entry this one corrects.
    #[schema(value_type = Option<i64>)]
    pub corrects: Option<EntryId>,
    /// 资格类别 / 等级 / 考试时警种 / 考试结果 / 成绩 / 通过日期 / 考核日期 / 等级确认日期 / 记录状态
    pub category: Option<String>,
    pub level: Option<String>,
    pub police_type: Option<String>,
    pub result: Option<String>,
    pub score: Option<String>,
    pub pass_date: Option<NaiveDate>,
    pub assessment_date: Option<NaiveDate>,
    pub confirmation_date: Option<NaiveDate>,
    pub record_status: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub note: String,
}

pub fn cursor_of(id: EntryId) -> String {
    format!("e{id}")
}

pub fn parse_cursor(s: &str) -> Option<EntryId> {
    s.strip_prefix('e').and_then(|n| n.parse::<i64>().ok()).filter(|n| *n >= 0).map(EntryId)
}

/// Builds records for entries (people looked up once).
pub fn records(conn: &mut DbConn, entries: &[tr_db::Entry]) -> AppResult<Vec<Record>> {
    let people: HashMap<UserId, (org::User, String)> = org::list_with_units(conn)?.into_iter().map(|(u, unit)| (u.id, (u, unit))).collect();
    let corrected: HashSet<EntryId> = entries.iter().filter_map(|e| e.corrects_id).collect();
    let certs_by_attempt: HashMap<AttemptId, cert_db::Certificate> = {
        let ids: HashSet<UserId> = entries.iter().map(|e| e.user_id).collect();
        let mut m = HashMap::new();
        for u in ids {
            for c in cert_db::certificates_of(conn, u)? {
                if let Some(a) = c.attempt_id {
                    m.insert(a, c);
                }
            }
        }
        m
    };
    Ok(entries
        .iter()
        .map(|e| {
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_else(|_| json!({}));
            let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(String::from);
            let (u, unit) = people.get(&e.user_id).cloned().unwrap_or_else(|| panic_free_user(e.user_id));
            let is_cert_result = matches!(e.kind, EntryKind::Sitting | EntryKind::Correction) && s("level").is_some();
            let passed = data.get("passed").and_then(|v| v.as_bool());
            let attempt_cert = data.get("attempt_id").and_then(|v| v.as_i64()).and_then(|a| certs_by_attempt.get(&AttemptId(a)));
            let (category, result, pass_date, assessment_date, confirmation_date) = if is_cert_result {
                (
                    Some("执法资格等级考试".to_string()),
                    passed.map(|p| if p { "合格" } else { "不合格" }.to_string()),
                    if passed == Some(true) { Some(e.occurred_on) } else { None },
                    Some(e.occurred_on),
                    attempt_cert.map(|c| c.issued_on),
                )
            } else if e.kind == EntryKind::Certificate {
                (Some("执法资格等级考试".to_string()), Some("合格".to_string()), Some(e.occurred_on), None, Some(e.occurred_on))
            } else {
                (None, passed.map(|p| if p { "合格" } else { "不合格" }.to_string()), None, None, None)
            };
            Record {
                cursor: cursor_of(e.id),
                entry_id: e.id,
                badge: u.badge.clone(),
                name: u.name.clone(),
                unit,
                id_number: u.id_number.clone(),
                kind: e.kind,
                occurred_on: e.occurred_on,
                recorded_at: crate::timefmt::to_string(&e.recorded_at),
                corrects: e.corrects_id,
                category,
                level: s("level").map(|l| level_name(&l).to_string()),
                police_type: s("police_type"),
                result,
                score: s("score"),
                pass_date,
                assessment_date,
                confirmation_date,
                record_status: if corrected.contains(&e.id) { "已更正".into() } else { "有效".into() },
                data,
                note: e.note.clone(),
            }
        })
        .collect())
}

fn panic_free_user(id: UserId) -> (org::User, String) {
    let now = chrono::NaiveDateTime::default();
    (
        org::User {
            id,
            badge: format!("#{id}"),
            lang: crate::render::LANGS[0].to_string(),
            name: String::new(),
            unit_id: UnitId(0),
            police_type: String::new(),
            post: String::new(),
            enforcement_post: false,
            rank: String::new(),
            hire_date: NaiveDate::default(),
            is_leader: false,
            is_legal_officer: false,
            email: None,
            password_hash: String::new(),
            active: false,
            created_at: now,
            id_number: None,
            must_change_password: false,
            password_changed_at: None,
        },
        String::new(),
    )
}

pub fn level_name(code: &str) -> &str {
    match crate::domain::bank::Level::parse(code) {
        Some(level) => level.chinese(),
        None => code,
    }
}

/// The HR feed: records after `since`, in order, and the cursor to pass next time. A record
/// is never skipped or repeated: ids are committed in order (see `models::training::append`).
pub fn feed(conn: &mut DbConn, since: EntryId, limit: i64) -> AppResult<(Vec<Record>, String, bool)> {
    let entries = tr_db::entries_after(conn, since, limit + 1)?;
    let more = entries.len() as i64 > limit;
    let page = &entries[..entries.len().min(limit as usize)];
    let next = page.last().map(|e| e.id).unwrap_or(since);
    Ok((records(conn, page)?, cursor_of(next), more))
}

/// Who may read whose file: officers their own, leaders their unit's (and below), HR and admins
/// everyone's. Loads the unit tree once, so a whole list is checked with it.
pub struct FileAccess {
    reader: UserId,
    everyone: bool,
    /// A leader's unit, with the tree to find the units under it.
    leads: Option<(UnitId, crate::services::people::UnitTree)>,
}

impl FileAccess {
    pub fn of(conn: &mut DbConn, reader: &org::User, reader_roles: &[crate::domain::org::Role]) -> AppResult<FileAccess> {
        use crate::domain::org::Role;
        let everyone = reader_roles.iter().any(|r| matches!(r, Role::Hr | Role::Admin));
        let leads = if !everyone && reader_roles.contains(&Role::Leader) {
            Some((reader.unit_id, crate::services::people::UnitTree::load(conn)?))
        } else {
            None
        };
        Ok(FileAccess { reader: reader.id, everyone, leads })
    }

    pub fn may_read(&self, officer: &org::User) -> bool {
        self.reader == officer.id || self.everyone || self.leads.as_ref().is_some_and(|(unit, tree)| tree.is_under(officer.unit_id, *unit))
    }
}

pub fn may_read(conn: &mut DbConn, reader: &org::User, reader_roles: &[crate::domain::org::Role], officer: &org::User) -> AppResult<bool> {
    Ok(FileAccess::of(conn, reader, reader_roles)?.may_read(officer))
}

/// A row of the list of files a reader may open.
pub struct FileRow {
    pub officer: org::User,
    pub unit: String,
    /// The officer has an open remedial plan.
    pub remedial: bool,
}

/// The active officers whose files the reader may open, the reader's own left out.
pub fn readable_files(conn: &mut DbConn, reader: &org::User, reader_roles: &[crate::domain::org::Role]) -> AppResult<Vec<FileRow>> {
    let access = FileAccess::of(conn, reader, reader_roles)?;
    let open: HashSet<UserId> = tr_db::all_plans(conn, true)?.into_iter().map(|p| p.user_id).collect();
    Ok(org::list_with_units(conn)?
        .into_iter()
        .filter(|(o, _)| o.id != reader.id && o.active && access.may_read(o))
        .map(|(o, unit)| FileRow { remedial: open.contains(&o.id), officer: o, unit })
        .collect())
}

/// An officer's file as a reader allowed to see it reads it (officers see scores of
/// never-released sittings withheld; anyone not allowed gets "not found").
pub struct FileData {
    pub officer: org::User,
    pub unit: String,
    pub entries: Vec<EntryView>,
    pub certs: Vec<(cert_db::Certificate, crate::domain::certification::CertStatus)>,
    pub totals: (usize, usize, usize, i64),
}

pub fn file_for(
    conn: &mut DbConn,
    reader: &org::User,
    reader_roles: &[crate::domain::org::Role],
    id: UserId,
    today: NaiveDate,
) -> AppResult<FileData> {
    use crate::domain::org::Role;
    let officer = org::find(conn, id)?.ok_or_else(no_such_officer)?;
    if !may_read(conn, reader, reader_roles, &officer)? {
        return Err(no_such_officer());
    }
    let unit = crate::services::people::unit_name(conn, officer.unit_id)?;
    let as_officer = reader.id == id && !reader_roles.iter().any(|r| matches!(r, Role::Hr | Role::Admin));
    Ok(FileData {
        entries: file_of(conn, id, as_officer)?,
        certs: crate::services::certification::certificates_today(conn, id, today)?,
        totals: crate::services::practice::totals(conn, id)?,
        officer,
        unit,
    })
}

/// The records of the files a reader exports: one officer's (`user`), a unit's and those under
/// it (`unit`), or everyone's, each only if the reader may read it; 404 when none is left.
pub fn export_records(
    conn: &mut DbConn,
    reader: &org::User,
    reader_roles: &[crate::domain::org::Role],
    user: Option<UserId>,
    unit: Option<UnitId>,
) -> AppResult<Vec<Record>> {
    let access = FileAccess::of(conn, reader, reader_roles)?;
    let tree = crate::services::people::UnitTree::load(conn)?;
    let ids: Vec<UserId> = org::list_with_units(conn)?
        .iter()
        .filter(|(p, _)| {
            let wanted = match (user, unit) {
                (Some(uid), _) => p.id == uid,
                (None, Some(unit)) => tree.is_under(p.unit_id, unit),
                (None, None) => true,
            };
            wanted && access.may_read(p)
        })
        .map(|(p, _)| p.id)
        .collect();
    if ids.is_empty() {
        return Err(AppError::problem(ErrorCode::NotFound, Problem::plain("", "training.nothing_to_export", "no files to export")));
    }
    let entries = tr_db::entries_of_users(conn, &ids)?;
    records(conn, &entries)
}

/// How many training-file entries the attempts filed.
pub fn count_filed(conn: &mut DbConn, attempt_ids: &[AttemptId]) -> AppResult<i64> {
    Ok(tr_db::count_filed(conn, attempt_ids)?)
}
