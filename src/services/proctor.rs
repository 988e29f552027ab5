//! The proctor's side of a closed-book sitting: focus-loss and leave-full-screen events from the
//! exam page, flagging or submitting at the sitting's limit, extra time and re-opening (each
//! with a reason, audited), the live view and the per-candidate integrity report.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::db::models::room::{self as room_db, AttemptEvent};
use crate::db::models::{audit, exam as exam_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam_room::{OnLimit, EVENT_KINDS};
use crate::error::{AppError, AppResult};
use crate::services::exams;
use crate::state::VersionCache;

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
pub fn record_event(conn: &mut DbConn, cache: &VersionCache, attempt_id: i64, user_id: i64, kind: &str, now: Ts) -> AppResult<EventOutcome> {
    if !EVENT_KINDS.contains(&kind) {
        return Err(AppError::unprocessable(format!("kind: one of {}", EVENT_KINDS.join(", "))));
    }
    let a = exams::own_attempt(conn, attempt_id, user_id)?;
    let s = exam_db::find_sitting(conn, a.sitting_id)?.ok_or_else(|| AppError::internal("sitting missing"))?;
    if a.submitted_at.is_some() || now >= a.deadline {
        return Err(AppError::conflict("not_open", "this attempt is no longer open"));
    }
    let controls = exams::controls_of(&s);
    let (events, action) = write_tx(conn, |c| {
        room_db::insert_event(c, a.id, kind, "{}", Some(user_id), now)?;
        let n = room_db::count_focus_events(c, a.id)?;
        let action = controls.after_event(n);
        if action.is_some() && !a.flagged {
            room_db::set_flagged(c, a.id)?;
            room_db::insert_event(c, a.id, "flagged", &json!({"events": n}).to_string(), None, now)?;
        }
        Ok::<_, AppError>((n, action))
    })?;
    let submitted = if action == Some(OnLimit::Submit) {
        exams::submit(conn, cache, a.id, "forced", now)?;
        true
    } else {
        false
    };
    Ok(EventOutcome { events, limit: controls.max_events, flagged: action.is_some() || a.flagged, submitted })
}

fn check_reason(reason: &str) -> AppResult<&str> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(AppError::unprocessable("reason: say why (at most 500 characters); it is recorded"));
    }
    Ok(r)
}

/// Gives one candidate extra minutes (the deadline moves; the sitting's close does not bind it).
pub fn grant_extra_time(conn: &mut DbConn, attempt_id: i64, minutes: i64, reason: &str, by: i64, now: Ts) -> AppResult<Ts> {
    let reason = check_reason(reason)?;
    if !(1..=240).contains(&minutes) {
        return Err(AppError::unprocessable("minutes: 1–240"));
    }
    let a = exam_db::find_attempt(conn, attempt_id)?.ok_or_else(|| AppError::not_found("no such attempt"))?;
    if a.submitted_at.is_some() {
        return Err(AppError::conflict("submitted", "the attempt is submitted: re-open it instead"));
    }
    // time already lost counts from now if the deadline has passed but the sweeper has not run
    let deadline = a.deadline.max(now) + chrono::Duration::minutes(minutes);
    write_tx(conn, |c| {
        if !room_db::set_deadline(c, a.id, deadline)? {
            return Err(AppError::conflict("submitted", "the attempt was submitted meanwhile: re-open it instead"));
        }
        let detail = json!({"minutes": minutes, "reason": reason, "from": crate::timefmt::to_string(&a.deadline), "to": crate::timefmt::to_string(&deadline)});
        room_db::insert_event(c, a.id, "extra_time", &detail.to_string(), Some(by), now)?;
        audit::append(c, Some(by), "attempt.extra_time", &format!("attempt:{}", a.id), &detail, now)?;
        Ok(deadline)
    })
}

/// Re-opens a submitted attempt after an incident, for `minutes` from now; its answers stay.
pub fn reopen(conn: &mut DbConn, attempt_id: i64, minutes: i64, reason: &str, by: i64, now: Ts) -> AppResult<Ts> {
    let reason = check_reason(reason)?;
    if !(1..=240).contains(&minutes) {
        return Err(AppError::unprocessable("minutes: 1–240"));
    }
    let a = exam_db::find_attempt(conn, attempt_id)?.ok_or_else(|| AppError::not_found("no such attempt"))?;
    if crate::db::models::cert::certificate_for_attempt(conn, a.id)?.is_some() {
        return Err(AppError::conflict("certified", "a certificate was issued for this attempt; it cannot be re-opened"));
    }
    let deadline = now + chrono::Duration::minutes(minutes);
    write_tx(conn, |c| {
        if !room_db::reopen(c, a.id, deadline)? {
            return Err(AppError::conflict("not_submitted", "the attempt is still open: give extra time instead"));
        }
        let detail = json!({"minutes": minutes, "reason": reason, "score_centi_before": a.score_centi, "until": crate::timefmt::to_string(&deadline)});
        room_db::insert_event(c, a.id, "reopened", &detail.to_string(), Some(by), now)?;
        audit::append(c, Some(by), "attempt.reopen", &format!("attempt:{}", a.id), &detail, now)?;
        Ok(deadline)
    })
}

/// One candidate on the live proctor page.
#[derive(Clone, Debug, Serialize)]
pub struct ProctorRow {
    pub attempt_id: i64,
    pub badge: String,
    pub name: String,
    pub started_at: Ts,
    pub deadline: Ts,
    pub seconds_left: i64,
    pub answered: usize,
    pub questions: usize,
    pub submitted_at: Option<Ts>,
    pub submit_kind: Option<String>,
    pub flagged: bool,
    pub client_ip: Option<String>,
    pub focus_events: usize,
    pub extra_minutes: i64,
    pub events: Vec<AttemptEvent>,
}

pub fn live(conn: &mut DbConn, sitting_id: i64, now: Ts) -> AppResult<Vec<ProctorRow>> {
    let mut events: HashMap<i64, Vec<AttemptEvent>> = HashMap::new();
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
            .filter(|e| e.kind == "extra_time")
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
            submit_kind: a.submit_kind.clone(),
            flagged: a.flagged,
            client_ip: a.client_ip.clone(),
            focus_events: ev.iter().filter(|e| EVENT_KINDS.contains(&e.kind.as_str())).count(),
            extra_minutes,
            events: ev,
        });
    }
    Ok(rows)
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
pub fn compensate_downtime(conn: &mut DbConn, sitting_id: i64, since: Ts, minutes: i64, reason: &str, by: i64, now: Ts) -> AppResult<Compensation> {
    let reason = check_reason(reason)?.to_string();
    if !(1..=240).contains(&minutes) {
        return Err(AppError::unprocessable("minutes: 1–240"));
    }
    if since > now || now - since > chrono::Duration::days(2) {
        return Err(AppError::unprocessable("since: when the outage began (within the last two days, not in the future)"));
    }
    let mut r = Compensation::default();
    for (a, ..) in exam_db::attempts_of_sitting(conn, sitting_id)? {
        match a.submitted_at {
            None => {
                grant_extra_time(conn, a.id, minutes, &format!("停机补偿 downtime: {reason}"), by, now)?;
                r.extended += 1;
            }
            Some(at) if a.submit_kind.as_deref() == Some("auto") && at >= since => match reopen(conn, a.id, minutes, &format!("停机补偿 downtime: {reason}"), by, now) {
                Ok(_) => r.reopened += 1,
                Err(e) if e.status.code == 409 => r.skipped += 1,
                Err(e) => return Err(e),
            },
            Some(_) => {}
        }
    }
    write_tx(conn, |c| {
        audit::append(c, Some(by), "sitting.downtime", &format!("sitting:{sitting_id}"),
            &json!({"since": crate::timefmt::to_string(&since), "minutes": minutes, "reason": reason, "extended": r.extended, "reopened": r.reopened, "skipped": r.skipped}), now)?;
        Ok::<(), AppError>(())
    })?;
    Ok(r)
}
