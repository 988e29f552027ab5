//! The proctor's side of a closed-book sitting: focus-loss and leave-full-screen events from the
//! exam page, flagging or submitting at the sitting's limit, extra time and re-opening (each
//! with a reason, audited), the live view and the per-candidate integrity report.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::db::models::room::{self as room_db, AttemptEvent};
use crate::db::models::{audit, exam as exam_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam::SubmitKind;
use crate::domain::exam_room::{EventKind, OnLimit};
use crate::domain::ids::{AttemptId, EventId, SittingId, UserId};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::cache::VersionCache;
use crate::services::exams;

/// What recording an event did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EventOutcome {
    /// Focus-loss / leave-full-screen events so far.
    pub events: i64,
    /// 0 = no limit.
    pub limit: i32,
    pub flagged: bool,
    pub submitted: bool,
}

/// Records an event the candidate's exam page reports.
pub fn record_event(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempt_id: AttemptId,
    user_id: UserId,
    kind: &str,
    now: Ts,
) -> AppResult<EventOutcome> {
    let Some(kind) = EventKind::reported(kind) else {
        let kinds = EventKind::REPORTED.map(EventKind::as_str).join(", ");
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::with("kind", "proctor.event_kind", vec![("kinds", kinds.clone())], format!("one of {kinds}")),
        ));
    };
    let a = exams::own_attempt(conn, attempt_id, user_id)?;
    let s = crate::services::exams::sitting_of(conn, a.sitting_id)?;
    if a.submitted_at.is_some() || now >= a.deadline {
        return Err(AppError::problem(ErrorCode::NotOpen, Problem::plain("", "proctor.attempt_closed", "this attempt is no longer open")));
    }
    let controls = exams::controls_of(&s);
    let (events, action) = write_tx(conn, |c| {
        room_db::insert_event(c, a.id, kind, "{}", Some(user_id), now)?;
        let n = room_db::count_focus_events(c, a.id)?;
        let action = controls.after_event(n);
        if action.is_some() && !a.flagged {
            room_db::set_flagged(c, a.id)?;
            room_db::insert_event(c, a.id, EventKind::Flagged, &json!({"events": n}).to_string(), None, now)?;
        }
        Ok::<_, AppError>((n, action))
    })?;
    let submitted = match action {
        Some(OnLimit::Submit) if controls.grace_seconds == 0 => {
            exams::submit(conn, cache, a.id, SubmitKind::Forced, now)?;
            true
        }
        Some(OnLimit::Submit) => {
            // the deadline moves up to the end of the grace period, unless a proctor dismisses
            // an event first (`dismiss_event` puts it back); the deadline sweeper submits
            let pending = room_db::events_of_attempt(conn, a.id)?
                .iter()
                .rev()
                .find(|e| e.kind == EventKind::SubmitPending || e.kind == EventKind::SubmitCancelled)
                .is_some_and(|e| e.kind == EventKind::SubmitPending);
            let at = now + chrono::Duration::seconds(i64::from(controls.grace_seconds));
            if !pending && at < a.deadline {
                write_tx(conn, |c| {
                    room_db::set_deadline(c, a.id, at)?;
                    let detail = json!({"from": crate::timefmt::to_string(&a.deadline), "to": crate::timefmt::to_string(&at)});
                    room_db::insert_event(c, a.id, EventKind::SubmitPending, &detail.to_string(), None, now)?;
                    Ok::<(), AppError>(())
                })?;
            }
            false
        }
        _ => false,
    };
    Ok(EventOutcome { events, limit: controls.max_events, flagged: action.is_some() || a.flagged, submitted })
}

/// A proctor dismisses a focus event they judge false (the candidate was not leaving the
/// exam): it stops counting, and an automatic submission still waiting out its grace period is
/// called off when the count falls below the limit. Audited.
pub fn dismiss_event(conn: &mut DbConn, sitting_id: SittingId, event_id: EventId, reason: &str, by: UserId, now: Ts) -> AppResult<()> {
    let reason = check_reason(reason)?;
    let e = room_db::find_event(conn, event_id)?
        .filter(|e| EventKind::REPORTED.contains(&e.kind))
        .ok_or_else(|| no_such_event("no such focus event"))?;
    let a = exam_db::find_attempt(conn, e.attempt_id)?
        .filter(|a| a.sitting_id == sitting_id)
        .ok_or_else(|| no_such_event("no such focus event in this sitting"))?;
    let s = crate::services::exams::sitting(conn, sitting_id)?;
    let controls = exams::controls_of(&s);
    write_tx(conn, |c| {
        let events = room_db::events_of_attempt(c, a.id)?;
        if is_dismissed(&events, e.id) {
            return Err(AppError::problem(
                ErrorCode::Dismissed,
                Problem::plain("", "proctor.dismissed", "this event was already dismissed"),
            ));
        }
        let detail = json!({"event": e.id, "kind": e.kind, "reason": reason});
        room_db::insert_event(c, a.id, EventKind::Dismissed, &detail.to_string(), Some(by), now)?;
        audit::append(c, Some(by), "attempt.event_dismissed", &format!("attempt:{}", a.id), &detail, now)?;
        let pending = events
            .iter()
            .rev()
            .find(|x| x.kind == EventKind::SubmitPending || x.kind == EventKind::SubmitCancelled)
            .filter(|x| x.kind == EventKind::SubmitPending);
        let fresh = exam_db::find_attempt(c, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
        if let Some(p) = pending {
            if fresh.submitted_at.is_none() && controls.after_event(room_db::count_focus_events(c, a.id)?).is_none() {
                let d: serde_json::Value = serde_json::from_str(&p.detail).unwrap_or_default();
                let from = d["from"].as_str().and_then(crate::timefmt::parse).unwrap_or(fresh.deadline);
                room_db::set_deadline(c, a.id, from.max(fresh.deadline))?;
                room_db::insert_event(
                    c,
                    a.id,
                    EventKind::SubmitCancelled,
                    &json!({"deadline": crate::timefmt::to_string(&from.max(fresh.deadline))}).to_string(),
                    Some(by),
                    now,
                )?;
            }
        }
        Ok(())
    })
}

/// The account a proctor's form names by its badge; else `code` with the problem `(field, key)`
/// saying "no `what` BADGE".
fn by_badge(
    conn: &mut DbConn,
    badge: &str,
    code: ErrorCode,
    (field, key, what): (&'static str, &'static str, &str),
) -> AppResult<org::User> {
    let badge = badge.trim();
    org::find_by_badge(conn, badge)?
        .ok_or_else(|| AppError::problem(code, Problem::with(field, key, vec![("badge", badge.to_string())], format!("no {what} {badge}"))))
}

/// Lets a candidate whose start is locked by wrong access codes try again (audited).
pub fn let_in(conn: &mut DbConn, sitting_id: SittingId, badge: &str, by: UserId, now: Ts) -> AppResult<()> {
    let u = by_badge(conn, badge, ErrorCode::NotFound, ("", "proctor.no_officer", "officer"))?;
    write_tx(conn, |c| {
        let n = room_db::clear_code_failures(c, sitting_id, u.id)?;
        if n == 0 {
            return Err(AppError::problem(
                ErrorCode::NotLocked,
                Problem::plain("", "proctor.not_locked", "this candidate has no wrong access codes to clear"),
            ));
        }
        audit::append(c, Some(by), "sitting.let_in", &format!("sitting:{sitting_id}"), &json!({"user": u.id, "badge": u.badge}), now)?;
        Ok(())
    })
}

/// An admin lets a user who can read the bank's keys sit one graded sitting, with a reason
/// (separation of duties, see `exams::check_duties`). Audited.
pub fn grant_exception(conn: &mut DbConn, sitting_id: SittingId, badge: &str, reason: &str, by: UserId, now: Ts) -> AppResult<()> {
    let reason = check_reason(reason)?;
    crate::services::exams::sitting(conn, sitting_id)?;
    let u = by_badge(conn, badge, ErrorCode::Invalid, ("badge", "proctor.no_account", "account"))?;
    write_tx(conn, |c| {
        if !room_db::insert_exception(c, sitting_id, u.id, reason, by, now)? {
            return Err(AppError::problem(
                ErrorCode::Exists,
                Problem::plain("", "proctor.exception_exists", "this account already has an exception for this sitting"),
            ));
        }
        audit::append(
            c,
            Some(by),
            "sitting.exception",
            &format!("sitting:{sitting_id}"),
            &json!({"user": u.id, "badge": u.badge, "reason": reason}),
            now,
        )?;
        Ok(())
    })
}

fn check_reason(reason: &str) -> AppResult<&str> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("reason", "proctor.reason", "say why (at most 500 characters); it is recorded"),
        ));
    }
    Ok(r)
}

/// Gives one candidate extra minutes (the deadline moves; the sitting's close does not bind it).
/// An attempt of this sitting, or 404: a proctor's form names the sitting in its URL and the
/// attempt in its body, and may act only on the room it is looking at.
fn attempt_in_sitting(conn: &mut DbConn, sitting_id: SittingId, attempt_id: AttemptId) -> AppResult<exam_db::Attempt> {
    exam_db::find_attempt(conn, attempt_id)?
        .filter(|a| a.sitting_id == sitting_id)
        .ok_or_else(|| AppError::problem(ErrorCode::NotFound, Problem::plain("", "proctor.no_attempt", "no such attempt in this sitting")))
}

fn no_such_event(english: &str) -> AppError {
    AppError::problem(ErrorCode::NotFound, Problem::plain("", "proctor.no_event", english))
}

/// Minutes a proctor gives: 1–240.
fn check_minutes(minutes: i64) -> AppResult<()> {
    if !(1..=240).contains(&minutes) {
        return Err(AppError::problem(ErrorCode::Invalid, Problem::plain("minutes", "proctor.minutes", "1–240")));
    }
    Ok(())
}

pub fn grant_extra_time(
    conn: &mut DbConn,
    sitting_id: SittingId,
    attempt_id: AttemptId,
    minutes: i64,
    reason: &str,
    by: UserId,
    now: Ts,
) -> AppResult<Ts> {
    let reason = check_reason(reason)?;
    check_minutes(minutes)?;
    let a = attempt_in_sitting(conn, sitting_id, attempt_id)?;
    if a.submitted_at.is_some() {
        return Err(AppError::problem(
            ErrorCode::Submitted,
            Problem::plain("", "proctor.submitted", "the attempt is submitted: re-open it instead"),
        ));
    }
    // time already lost counts from now if the deadline has passed but the sweeper has not run
    let deadline = a.deadline.max(now) + chrono::Duration::minutes(minutes);
    write_tx(conn, |c| {
        if !room_db::set_deadline(c, a.id, deadline)? {
            return Err(AppError::problem(
                ErrorCode::Submitted,
                Problem::plain("", "proctor.submitted_meanwhile", "the attempt was submitted meanwhile: re-open it instead"),
            ));
        }
        let detail = json!({"minutes": minutes, "reason": reason, "from": crate::timefmt::to_string(&a.deadline), "to": crate::timefmt::to_string(&deadline)});
        room_db::insert_event(c, a.id, EventKind::ExtraTime, &detail.to_string(), Some(by), now)?;
        audit::append(c, Some(by), "attempt.extra_time", &format!("attempt:{}", a.id), &detail, now)?;
        Ok(deadline)
    })
}

/// Re-opens a submitted attempt after an incident, for `minutes` from now; its answers stay.
pub fn reopen(
    conn: &mut DbConn,
    sitting_id: SittingId,
    attempt_id: AttemptId,
    minutes: i64,
    reason: &str,
    by: UserId,
    now: Ts,
) -> AppResult<Ts> {
    let reason = check_reason(reason)?;
    check_minutes(minutes)?;
    let a = attempt_in_sitting(conn, sitting_id, attempt_id)?;
    if crate::db::models::cert::certificate_for_attempt(conn, a.id)?.is_some() {
        return Err(AppError::problem(
            ErrorCode::Certified,
            Problem::plain("", "proctor.certified", "a certificate was issued for this attempt; it cannot be re-opened"),
        ));
    }
    let deadline = now + chrono::Duration::minutes(minutes);
    write_tx(conn, |c| {
        if !room_db::reopen(c, a.id, deadline)? {
            return Err(AppError::problem(
                ErrorCode::NotSubmitted,
                Problem::plain("", "proctor.still_open", "the attempt is still open: give extra time instead"),
            ));
        }
        let detail = json!({"minutes": minutes, "reason": reason, "score_centi_before": a.score_centi, "until": crate::timefmt::to_string(&deadline)});
        room_db::insert_event(c, a.id, EventKind::Reopened, &detail.to_string(), Some(by), now)?;
        audit::append(c, Some(by), "attempt.reopen", &format!("attempt:{}", a.id), &detail, now)?;
        Ok(deadline)
    })
}

/// One candidate on the live proctor page.
#[derive(Clone, Debug, Serialize)]
pub struct ProctorRow {
    pub attempt_id: AttemptId,
    pub badge: String,
    pub name: String,
    pub started_at: Ts,
    pub deadline: Ts,
    pub seconds_left: i64,
    pub answered: usize,
    pub questions: usize,
    pub submitted_at: Option<Ts>,
    pub submit_kind: Option<SubmitKind>,
    pub flagged: bool,
    pub client_ip: Option<String>,
    pub focus_events: usize,
    pub extra_minutes: i64,
    pub events: Vec<AttemptEvent>,
}

pub fn live(conn: &mut DbConn, sitting_id: SittingId, now: Ts) -> AppResult<Vec<ProctorRow>> {
    let mut events: HashMap<AttemptId, Vec<AttemptEvent>> = HashMap::new();
    for e in room_db::events_of_sitting(conn, sitting_id)? {
        events.entry(e.attempt_id).or_default().push(e);
    }
    let mut rows = Vec::new();
    for (a, badge, name, _) in exam_db::attempts_of_sitting(conn, sitting_id)? {
        let answered = exam_db::responses_of(conn, a.id)?.iter().filter(|r| !r.choices.is_empty()).count();
        let questions = exams::paper_of(&a)?.items.len();
        let ev = events.remove(&a.id).unwrap_or_default();
        let extra_minutes = ev
            .iter()
            .filter(|e| e.kind == EventKind::ExtraTime)
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).ok()?.get("minutes")?.as_i64())
            .sum();
        rows.push(ProctorRow {
            attempt_id: a.id,
            badge,
            name,
            started_at: a.started_at,
            deadline: a.deadline,
            seconds_left: if a.submitted_at.is_some() { 0 } else { (a.deadline - now).num_seconds().max(0) },
            answered,
            questions,
            submitted_at: a.submitted_at,
            submit_kind: a.submit_kind,
            flagged: a.flagged,
            client_ip: a.client_ip.clone(),
            focus_events: ev.iter().filter(|e| EventKind::REPORTED.contains(&e.kind)).count(),
            extra_minutes,
            events: ev,
        });
    }
    Ok(rows)
}

/// Someone on the sitting's list who has not started, with their wrong access codes.
#[derive(Clone, Debug, Serialize)]
pub struct NotStarted {
    pub badge: String,
    pub name: String,
    pub code_failures: i32,
    /// Locked out by wrong codes until the proctor lets them in.
    pub locked: bool,
}

/// Everyone on the sitting's list (its eligibility, or the registered officers of a
/// certification level) who has no attempt yet.
pub fn not_started(conn: &mut DbConn, s: &exam_db::Sitting) -> AppResult<Vec<NotStarted>> {
    let started: std::collections::HashSet<UserId> =
        exam_db::attempts_of_sitting(conn, s.id)?.into_iter().map(|(a, ..)| a.user_id).collect();
    let failures: HashMap<UserId, i32> = room_db::code_failures_of_sitting(conn, s.id)?.into_iter().collect();
    Ok(crate::services::plans::candidates_of(conn, s)?
        .into_iter()
        .filter(|u| !started.contains(&u.id))
        .map(|u| {
            let n = failures.get(&u.id).copied().unwrap_or(0);
            NotStarted { badge: u.badge, name: u.name, code_failures: n, locked: n >= crate::domain::exam_room::MAX_CODE_FAILURES }
        })
        .collect())
}

/// What a downtime compensation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Compensation {
    /// Open attempts whose deadline moved.
    pub extended: usize,
    /// Attempts the server submitted at a deadline that fell in the outage, re-opened.
    pub reopened: usize,
    /// Attempts that could not be re-opened (a certificate was already issued).
    pub skipped: usize,
}

/// Compensates a whole sitting for an outage that began at `since`: every open attempt gets
/// `minutes` more, and every attempt the server submitted itself at a deadline inside the outage
/// is re-opened for `minutes` with its answers. Each change is an attempt event and an audit
/// entry, and the sitting gets one audit entry with the totals.
pub fn compensate_downtime(
    conn: &mut DbConn,
    sitting_id: SittingId,
    since: Ts,
    minutes: i64,
    reason: &str,
    by: UserId,
    now: Ts,
) -> AppResult<Compensation> {
    let reason = check_reason(reason)?.to_string();
    check_minutes(minutes)?;
    if since > now || now - since > chrono::Duration::days(2) {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("since", "proctor.since", "when the outage began (within the last two days, not in the future)"),
        ));
    }
    let mut r = Compensation::default();
    for (a, ..) in exam_db::attempts_of_sitting(conn, sitting_id)? {
        match a.submitted_at {
            None => {
                grant_extra_time(conn, sitting_id, a.id, minutes, &format!("停机补偿 downtime: {reason}"), by, now)?;
                r.extended += 1;
            }
            Some(at) if a.submit_kind == Some(SubmitKind::Auto) && at >= since => {
                match reopen(conn, sitting_id, a.id, minutes, &format!("停机补偿 downtime: {reason}"), by, now) {
                    Ok(_) => r.reopened += 1,
                    Err(e) if e.is_conflict() => r.skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            Some(_) => {}
        }
    }
    write_tx(conn, |c| {
        audit::append(
            c,
            Some(by),
            "sitting.downtime",
            &format!("sitting:{sitting_id}"),
            &json!({"since": crate::timefmt::to_string(&since), "minutes": minutes, "reason": reason, "extended": r.extended, "reopened": r.reopened, "skipped": r.skipped}),
            now,
        )?;
        Ok::<(), AppError>(())
    })?;
    Ok(r)
}

/// Whether a proctor dismissed the event `event_id` of an attempt (its `events`).
pub fn is_dismissed(events: &[AttemptEvent], event_id: EventId) -> bool {
    events.iter().any(|x| {
        x.kind == EventKind::Dismissed
            && serde_json::from_str::<serde_json::Value>(&x.detail).ok().and_then(|v| v["event"].as_i64()) == Some(event_id.0)
    })
}

/// The proctor's page besides the live rows: who is absent (badge, name), how many exceptions
/// to the separation of duties the sitting has, and how many attempts are filed.
pub struct RoomState {
    pub sitting: exam_db::Sitting,
    pub rows: Vec<ProctorRow>,
    pub waiting: Vec<NotStarted>,
    pub absent: Vec<(String, String)>,
    pub exceptions: usize,
    pub filed: i64,
}

pub fn room_state(conn: &mut DbConn, sitting_id: SittingId, now: Ts) -> AppResult<RoomState> {
    let sitting = exams::sitting(conn, sitting_id)?;
    let rows = live(conn, sitting_id, now)?;
    let waiting = not_started(conn, &sitting)?;
    let exceptions = room_db::exceptions_of_sitting(conn, sitting_id)?.len();
    let ids: Vec<AttemptId> = rows.iter().map(|r| r.attempt_id).collect();
    let filed = crate::services::training::count_filed(conn, &ids)?;
    let mut absent = Vec::new();
    for uid in room_db::absentees(conn, sitting_id)? {
        if let Some(u) = org::find(conn, uid)? {
            absent.push((u.badge, u.name));
        }
    }
    Ok(RoomState { sitting, rows, waiting, absent, exceptions, filed })
}

/// A sitting's exceptions to the separation of duties, each with the account it is for and the
/// admin who granted it (`None` where an account is gone).
pub fn exceptions(
    conn: &mut DbConn,
    sitting_id: SittingId,
) -> AppResult<(exam_db::Sitting, Vec<(room_db::SittingException, Option<org::User>, Option<org::User>)>)> {
    let s = exams::sitting(conn, sitting_id)?;
    let mut list = Vec::new();
    for e in room_db::exceptions_of_sitting(conn, sitting_id)? {
        let who = org::find(conn, e.user_id)?;
        let by = org::find(conn, e.granted_by)?;
        list.push((e, who, by));
    }
    Ok((s, list))
}
