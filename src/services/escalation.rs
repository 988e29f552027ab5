//! Escalation of remedial plans that reaches someone: a plan overdue or failed past its exam
//! tries goes to the leaders of the officer's unit, else of the nearest unit above with a
//! leader account, else to HR. The one it reaches acknowledges it, extends the plan with a
//! reason, or refers it a level up. Every step is audited.

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::json;

use crate::db::models::{audit, org, training as tr_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::ids::{EscalationId, RemedialPlanId, UnitId, UserId};
use crate::domain::org::Role;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::timefmt::bureau_date;

/// Why a plan was escalated.
pub mod why {
    pub const OVERDUE: &str = "overdue";
    pub const FAILED: &str = "failed";
    pub const REFERRED: &str = "referred";
}

/// What the one it reached did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Extend,
    Refer,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "acknowledge" => Some(Action::Acknowledge),
            "extend" => Some(Action::Extend),
            "refer" => Some(Action::Refer),
            _ => None,
        }
    }
    pub fn done(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledged",
            Action::Extend => "extended",
            Action::Refer => "referred",
        }
    }
}

/// The longest extension a leader may give at once.
pub const MAX_EXTENSION_DAYS: i64 = 180;

/// Who an escalation starting at `from_unit` (the officer's unit, or the one above a referring
/// unit; None: straight to HR) reaches: (the unit whose leaders get it or None for HR, their ids).
fn target(conn: &mut DbConn, from_unit: Option<UnitId>, officer_id: UserId) -> AppResult<(Option<UnitId>, Vec<UserId>)> {
    if let Some(from) = from_unit {
        let units = org::all_units(conn)?;
        let parent = |u: UnitId| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id);
        let people = org::list_with_units(conn)?;
        for unit in crate::domain::org::unit_path(from, parent) {
            let here: Vec<UserId> = people
                .iter()
                .filter(|(u, _)| u.unit_id == unit && u.is_leader && u.active && u.id != officer_id)
                .map(|(u, _)| u.id)
                .collect();
            if !here.is_empty() {
                return Ok((Some(unit), here));
            }
        }
    }
    let hr: Vec<UserId> = org::active_with_role(conn, Role::Hr)?.into_iter().map(|u| u.id).filter(|id| *id != officer_id).collect();
    Ok((None, hr))
}

/// Escalates `plan` (inside the caller's transaction): records who it reaches and tells them.
pub fn escalate(c: &mut DbConn, plan: &tr_db::RemedialPlan, why: &str, from_unit: Option<UnitId>, now: Ts) -> AppResult<EscalationId> {
    let officer = org::find(c, plan.user_id)?.ok_or_else(|| AppError::internal("officer missing"))?;
    let (unit, people) = target(c, from_unit, officer.id)?;
    let id = tr_db::insert_escalation(c, plan.id, unit, why, now)?;
    audit::append(
        c,
        None,
        "remedial.escalate",
        &format!("remedial:{}", plan.id),
        &json!({"escalation": id, "why": why, "unit": unit, "to_hr": unit.is_none(), "notified": people}),
        now,
    )?;
    for p in people {
        crate::services::mail::notify(
            c,
            p,
            "remedial_overdue_leader",
            json!({"officer": format!("{} ({})", officer.name, officer.badge), "deadline": crate::timefmt::local(plan.deadline),
                   "stage": crate::services::remedial::stage_label(plan.stage), "reason": plan.reason,
                   "url": format!("/remedial/{}", plan.id)}),
            now,
        )?;
    }
    Ok(id)
}

/// Whether `user` may act on an escalation that reached `unit` (None: HR): HR on any; a unit
/// leader on one that reached their unit or a unit under it.
pub fn may_act(conn: &mut DbConn, user: &org::User, roles: &[Role], unit: Option<UnitId>) -> AppResult<bool> {
    if roles.contains(&Role::Hr) {
        return Ok(true);
    }
    let Some(unit) = unit else { return Ok(false) };
    if !roles.contains(&Role::Leader) {
        return Ok(false);
    }
    let units = org::all_units(conn)?;
    let parent = |u: UnitId| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id);
    Ok(crate::domain::org::unit_path(unit, parent).contains(&user.unit_id))
}

/// A leader's (or HR's) decision on an escalation, from a form or a call.
#[derive(Clone, Debug, Default)]
pub struct Decision {
    pub action: String,
    pub reason: String,
    /// The new deadline (a bureau date) for `extend`.
    pub deadline: String,
}

fn no_such_escalation() -> AppError {
    AppError::problem(ErrorCode::NotFound, Problem::plain("", "remedial.no_escalation", "no such escalation"))
}

fn dealt_with() -> AppError {
    AppError::problem(
        ErrorCode::AlreadyDecided,
        Problem::plain("", "remedial.escalation_dealt_with", "this escalation has already been dealt with"),
    )
}

/// Acts on escalation `id`. Its problems are keyed (`problem.remedial.escalation_*`), those of
/// the form naming `action`, `reason` and `deadline`.
pub fn act(conn: &mut DbConn, id: EscalationId, actor: &org::User, roles: &[Role], d: &Decision, now: Ts) -> AppResult<RemedialPlanId> {
    let e = tr_db::find_escalation(conn, id)?.ok_or_else(no_such_escalation)?;
    if !may_act(conn, actor, roles, e.unit_id)? {
        // another unit's escalation is not shown to this reader at all
        return Err(no_such_escalation());
    }
    if e.action.is_some() {
        return Err(dealt_with());
    }
    let mut errs = Vec::new();
    let action = Action::parse(d.action.trim());
    if action.is_none() {
        errs.push(Problem::plain("action", "remedial.escalation_action", "choose acknowledge, extend or refer"));
    }
    let reason = d.reason.trim();
    let needs_reason = matches!(action, Some(Action::Extend | Action::Refer));
    if (needs_reason && reason.chars().count() < 5) || reason.chars().count() > 500 {
        errs.push(Problem::plain("reason", "remedial.escalation_reason", "give a reason of 5 to 500 characters"));
    }
    let today = bureau_date(now);
    let mut new_deadline = None;
    if action == Some(Action::Extend) {
        match NaiveDate::parse_from_str(d.deadline.trim(), "%Y-%m-%d") {
            Ok(day) if day > today && day <= today + Duration::days(MAX_EXTENSION_DAYS) => {
                // the end of that bureau day
                new_deadline = Some(crate::timefmt::bureau_day_end(day));
            }
            Ok(_) => errs.push(Problem::with(
                "deadline",
                "remedial.escalation_deadline_range",
                vec![("days", MAX_EXTENSION_DAYS.to_string())],
                format!("a date after today and at most {MAX_EXTENSION_DAYS} days ahead"),
            )),
            Err(_) => errs.push(Problem::plain("deadline", "remedial.escalation_deadline_format", "a date such as 2027-01-15")),
        }
    }
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    let action = action.expect("checked");
    if action == Action::Refer && e.unit_id.is_none() {
        return Err(AppError::problem(
            ErrorCode::NotAllowed,
            Problem::plain("", "remedial.escalation_last_level", "HR is the last level: acknowledge or extend the plan instead"),
        ));
    }
    write_tx(conn, |c| {
        let plan = tr_db::find_plan(c, e.plan_id)?.ok_or_else(|| AppError::internal("plan missing"))?;
        if !tr_db::act_on_escalation(c, e.id, action.done(), actor.id, Some(reason).filter(|r| !r.is_empty()), new_deadline, now)? {
            return Err(dealt_with());
        }
        let mut next = None;
        match action {
            Action::Acknowledge => {}
            Action::Extend => {
                let deadline = new_deadline.expect("checked");
                let reopen = plan.status == crate::domain::remedial::Status::Escalated;
                if plan.status != crate::domain::remedial::Status::Open && !reopen {
                    return Err(AppError::problem(
                        ErrorCode::PlanClosed,
                        Problem::plain("", "remedial.plan_closed", "the remedial plan is closed"),
                    ));
                }
                tr_db::extend_plan(c, plan.id, deadline, reopen)?;
                crate::services::mail::notify(
                    c,
                    plan.user_id,
                    "remedial_extended",
                    json!({"deadline": crate::timefmt::local(deadline), "reason": reason, "url": format!("/remedial/{}", plan.id)}),
                    now,
                )?;
            }
            Action::Refer => {
                let units = org::all_units(c)?;
                let above = e.unit_id.and_then(|u| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id));
                next = Some(escalate(c, &plan, why::REFERRED, above, now)?);
            }
        }
        audit::append(
            c,
            Some(actor.id),
            &format!("remedial.escalation.{}", action.done()),
            &format!("remedial:{}", plan.id),
            &json!({"escalation": e.id, "reason": reason, "deadline": new_deadline.map(crate::timefmt::local), "referred_to": next}),
            now,
        )?;
        Ok(e.plan_id)
    })
}

/// An escalation as pages show it.
#[derive(Clone, Debug, Serialize)]
pub struct EscalationView {
    pub id: EscalationId,
    pub plan_id: RemedialPlanId,
    pub officer: String,
    pub badge: String,
    pub officer_unit: String,
    /// The unit whose leaders it reached, or "" for HR.
    pub reached: String,
    pub to_hr: bool,
    pub why: String,
    pub opened: String,
    pub action: Option<String>,
    pub action_by: Option<String>,
    pub action_at: Option<String>,
    pub action_reason: Option<String>,
    pub new_deadline: Option<String>,
    /// Whether the reader may act on it now.
    pub actionable: bool,
}

fn view(
    c: &mut DbConn,
    e: tr_db::Escalation,
    reader: &org::User,
    roles: &[Role],
    units: &[org::Unit],
    people: &std::collections::HashMap<UserId, org::User>,
) -> AppResult<EscalationView> {
    let plan = tr_db::find_plan(c, e.plan_id)?.ok_or_else(|| AppError::internal("plan missing"))?;
    let officer = people.get(&plan.user_id);
    let unit_name = |id: UnitId| units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_default();
    let actionable = e.action.is_none() && may_act(c, reader, roles, e.unit_id)?;
    Ok(EscalationView {
        id: e.id,
        plan_id: e.plan_id,
        officer: officer.map(|o| o.name.clone()).unwrap_or_default(),
        badge: officer.map(|o| o.badge.clone()).unwrap_or_default(),
        officer_unit: officer.map(|o| unit_name(o.unit_id)).unwrap_or_default(),
        reached: e.unit_id.map(unit_name).unwrap_or_default(),
        to_hr: e.unit_id.is_none(),
        why: e.why,
        opened: crate::timefmt::local(e.opened_at),
        action: e.action,
        action_by: e.action_by.and_then(|id| people.get(&id)).map(|u| format!("{} ({})", u.name, u.badge)),
        action_at: e.action_at.map(crate::timefmt::local),
        action_reason: e.action_reason,
        new_deadline: e.new_deadline.map(crate::timefmt::local),
        actionable,
    })
}

/// The escalations of one plan, oldest first, for a reader of the plan.
pub fn of_plan(c: &mut DbConn, plan_id: RemedialPlanId, reader: &org::User, roles: &[Role]) -> AppResult<Vec<EscalationView>> {
    let units = org::all_units(c)?;
    let people = org::list_with_units(c)?.into_iter().map(|(u, _)| (u.id, u)).collect();
    tr_db::escalations_of(c, plan_id)?.into_iter().map(|e| view(c, e, reader, roles, &units, &people)).collect()
}

/// The escalations a reader may act on or has seen: HR every one, a leader those that reached
/// their unit or a unit under it. Waiting ones first, then the latest handled.
pub fn inbox(c: &mut DbConn, reader: &org::User, roles: &[Role]) -> AppResult<Vec<EscalationView>> {
    let units = org::all_units(c)?;
    let people = org::list_with_units(c)?.into_iter().map(|(u, _)| (u.id, u)).collect();
    let mut out = Vec::new();
    for e in tr_db::all_escalations(c)? {
        if may_act(c, reader, roles, e.unit_id)? {
            out.push(view(c, e, reader, roles, &units, &people)?);
        }
    }
    out.sort_by_key(|v| v.action.is_some());
    Ok(out)
}

/// The plan an escalation is about (`None` for no such escalation).
pub fn plan_of(conn: &mut DbConn, escalation_id: EscalationId) -> AppResult<Option<RemedialPlanId>> {
    Ok(tr_db::find_escalation(conn, escalation_id)?.map(|e| e.plan_id))
}
