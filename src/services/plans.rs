//! Recurring exam plans (双月考): the server creates each occurrence's sitting ahead of time and
//! notifies the candidates; after a sitting closes, eligible officers who did not sit it are
//! recorded absent, and a trainer can open a make-up sitting for them.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::plans::{self as plan_db, ExamPlan, NewExamPlan};
use crate::db::models::{audit, exam as exam_db, org, room as room_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam::{Eligibility, Release, SittingKind};
use crate::domain::grading::MultiRule;
use crate::domain::ids::{BlueprintId, ExamPlanId, SittingId, UserId};
use crate::domain::plans::Schedule;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::exams::{self, SittingSpec};
use crate::timefmt::{bureau_date, bureau_offset};

/// What a trainer decides for a plan.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanSpec {
    pub name: String,
    #[schema(value_type = i64)]
    pub blueprint_id: BlueprintId,
    #[serde(default)]
    pub eligibility: Eligibility,
    pub schedule: Schedule,
    pub duration_minutes: i32,
    pub pass_percent: i32,
    pub multi_rule: MultiRule,
    pub score_release: Release,
    pub answer_release: Release,
}

pub fn create(conn: &mut DbConn, spec: &PlanSpec, by: UserId, now: Ts) -> AppResult<ExamPlanId> {
    let mut errs = spec.schedule.validate();
    if spec.name.trim().is_empty() || spec.name.chars().count() > 200 {
        errs.push(Problem::plain("name", "plan.name", "required, at most 200 characters"));
    }
    if !(1..=600).contains(&spec.duration_minutes) {
        errs.push(Problem::plain("duration_minutes", "plan.duration_minutes", "1–600"));
    }
    if spec.duration_minutes as i64 > spec.schedule.window_minutes {
        errs.push(Problem::plain("duration_minutes", "plan.duration_over_window", "longer than the window the sitting is open"));
    }
    if !(0..=100).contains(&spec.pass_percent) {
        errs.push(Problem::plain("pass_percent", "plan.pass_percent", "0–100"));
    }
    if exam_db::find_blueprint(conn, spec.blueprint_id)?.is_none() {
        errs.push(crate::services::exams::no_blueprint(spec.blueprint_id));
    }
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    write_tx(conn, |c| {
        let id = plan_db::insert(
            c,
            &NewExamPlan {
                name: spec.name.trim(),
                blueprint_id: spec.blueprint_id,
                eligibility: &serde_json::to_string(&spec.eligibility).expect("json"),
                schedule: &serde_json::to_string(&spec.schedule).expect("json"),
                duration_minutes: spec.duration_minutes,
                pass_percent: spec.pass_percent,
                multi_rule: spec.multi_rule.as_str(),
                score_release: spec.score_release.as_str(),
                answer_release: spec.answer_release.as_str(),
                active: true,
                created_by: Some(by),
                created_at: now,
            },
        )?;
        audit::append(c, Some(by), "plan.create", &format!("plan:{id}"), &serde_json::to_value(spec).expect("json"), now)?;
        Ok(id)
    })
}

/// An exam plan as trainers and admins read it (the plans page, `GET /api/v1/exam-plans`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PlanInfo {
    #[schema(value_type = i64)]
    pub id: ExamPlanId,
    /// The blueprint's name.
    pub blueprint: Option<String>,
    pub active: bool,
    /// What the plan was created with (the same fields as `POST`'s body).
    #[serde(flatten)]
    pub spec: PlanSpec,
    /// The date of the latest occurrence whose sitting the server has created.
    pub last_created: Option<chrono::NaiveDate>,
    /// The next occurrence on or after today (bureau date).
    pub next_date: Option<chrono::NaiveDate>,
    #[serde(with = "crate::timefmt")]
    pub created_at: chrono::NaiveDateTime,
}

/// One occurrence of a plan: a sitting the server created (with its make-ups), or a date still
/// to come.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Occurrence {
    /// The bureau date the sitting opens.
    pub date: chrono::NaiveDate,
    /// `upcoming` (no sitting yet), `scheduled` (created, not open), `open` or `closed`.
    pub state: String,
    #[schema(value_type = Option<i64>)]
    pub sitting_id: Option<SittingId>,
    pub title: Option<String>,
    #[serde(with = "crate::timefmt")]
    pub opens_at: chrono::NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub closes_at: chrono::NaiveDateTime,
    /// Candidates who started the sitting (created sittings only).
    pub sat: Option<i64>,
    /// Candidates recorded absent once it closed.
    pub absent: Option<usize>,
    /// Make-up sittings opened for those absent.
    #[schema(value_type = Vec<i64>)]
    pub makeups: Vec<SittingId>,
}

/// Every plan, oldest first, with its blueprint's name and next date.
pub fn infos(conn: &mut DbConn, now: Ts) -> AppResult<Vec<PlanInfo>> {
    let names: std::collections::HashMap<BlueprintId, String> =
        exam_db::list_blueprints(conn)?.into_iter().map(|b| (b.id, b.name)).collect();
    plan_db::list(conn)?
        .into_iter()
        .map(|p| {
            let name = names.get(&p.blueprint_id).cloned();
            info_of(p, name, now)
        })
        .collect()
}

fn info_of(p: ExamPlan, blueprint: Option<String>, now: Ts) -> AppResult<PlanInfo> {
    let schedule = schedule_of(&p)?;
    let eligibility: Eligibility =
        serde_json::from_str(&p.eligibility).map_err(|e| AppError::internal(format!("stored eligibility of plan {}: {e}", p.id)))?;
    Ok(PlanInfo {
        next_date: schedule.next_on_or_after(bureau_date(now)),
        id: p.id,
        blueprint,
        active: p.active,
        spec: PlanSpec {
            name: p.name,
            blueprint_id: p.blueprint_id,
            eligibility,
            schedule,
            duration_minutes: p.duration_minutes,
            pass_percent: p.pass_percent,
            multi_rule: p.multi_rule,
            score_release: p.score_release,
            answer_release: p.answer_release,
        },
        last_created: p.last_created,
        created_at: p.created_at,
    })
}

/// One plan with its occurrences: every sitting it created (oldest first, with attendance and
/// make-ups), then the next `upcoming` dates still to come. 404 for an unknown plan.
pub fn plan_with_occurrences(conn: &mut DbConn, id: ExamPlanId, upcoming: usize, now: Ts) -> AppResult<(PlanInfo, Vec<Occurrence>)> {
    let p = plan_db::find_plan(conn, id)?.ok_or_else(|| AppError::not_found(format!("no exam plan {id}")))?;
    let blueprint = exam_db::find_blueprint(conn, p.blueprint_id)?.map(|b| b.name);
    let info = info_of(p, blueprint, now)?;
    let sittings: Vec<exam_db::Sitting> = exam_db::list_sittings(conn)?.into_iter().filter(|s| s.plan_id == Some(id)).collect();
    let mut out = Vec::new();
    let mut originals: Vec<&exam_db::Sitting> = sittings.iter().filter(|s| s.makeup_of.is_none()).collect();
    originals.sort_by_key(|s| (s.opens_at, s.id));
    for s in originals {
        let state = if now < s.opens_at {
            "scheduled"
        } else if now < s.closes_at {
            "open"
        } else {
            "closed"
        };
        out.push(Occurrence {
            date: bureau_date(s.opens_at),
            state: state.into(),
            sitting_id: Some(s.id),
            title: Some(s.title.clone()),
            opens_at: s.opens_at,
            closes_at: s.closes_at,
            sat: Some(exam_db::count_attempts(conn, s.id)?),
            absent: if s.absences_recorded { Some(room_db::absentees(conn, s.id)?.len()) } else { None },
            makeups: sittings.iter().filter(|m| m.makeup_of == Some(s.id)).map(|m| m.id).collect(),
        });
    }
    if info.active {
        let schedule = &info.spec.schedule;
        let from = match info.last_created {
            Some(last) => last.succ_opt().unwrap_or(last),
            None => bureau_date(now),
        }
        .max(bureau_date(now));
        let mut date = schedule.next_on_or_after(from);
        let mut listed = 0;
        while let Some(d) = date.filter(|_| listed < upcoming) {
            // dates at the end of the calendar have no window to show
            let opens = d.and_time(schedule.opens_at).checked_sub_signed(bureau_offset());
            let closes = opens.and_then(|o| o.checked_add_signed(chrono::Duration::minutes(schedule.window_minutes)));
            let (Some(opens_at), Some(closes_at)) = (opens, closes) else { break };
            out.push(Occurrence {
                date: d,
                state: "upcoming".into(),
                sitting_id: None,
                title: None,
                opens_at,
                closes_at,
                sat: None,
                absent: None,
                makeups: Vec::new(),
            });
            listed += 1;
            date = d.succ_opt().and_then(|next| schedule.next_on_or_after(next));
        }
    }
    Ok((info, out))
}

fn schedule_of(p: &ExamPlan) -> AppResult<Schedule> {
    serde_json::from_str(&p.schedule).map_err(|e| AppError::internal(format!("stored schedule: {e}")))
}

/// Creates the sittings that are due for every active plan and notifies their candidates.
/// Safe to run on several servers at once: each occurrence is claimed by one.
pub fn run_due(conn: &mut DbConn, now: Ts) -> AppResult<Vec<SittingId>> {
    let today = bureau_date(now);
    let mut created = Vec::new();
    for p in plan_db::list(conn)?.into_iter().filter(|p| p.active) {
        let schedule = schedule_of(&p)?;
        let mut last = p.last_created;
        for date in schedule.due(last, today) {
            let opens_local: NaiveDateTime = date.and_time(schedule.opens_at);
            let opens = opens_local - bureau_offset();
            let eligibility: Eligibility = serde_json::from_str(&p.eligibility).unwrap_or_default();
            let spec = SittingSpec {
                title: format!("{}（{}）", p.name, date.format("%Y-%m-%d")),
                kind: SittingKind::Bimonthly,
                blueprint_id: p.blueprint_id,
                opens_at: opens,
                closes_at: opens + chrono::Duration::minutes(schedule.window_minutes),
                duration_minutes: p.duration_minutes,
                pass_percent: p.pass_percent,
                multi_rule: p.multi_rule,
                score_release: p.score_release,
                answer_release: p.answer_release,
                eligibility,
                cert_level: None,
                controls: Default::default(),
                plan_id: Some(p.id),
                makeup_of: None,
            };
            let sid = match write_tx(conn, |c| {
                if !plan_db::claim_occurrence(c, p.id, last, date)? {
                    return Ok::<Option<SittingId>, AppError>(None);
                }
                let sid = exams::create_sitting(c, &spec, p.created_by, now)?;
                audit::append(c, None, "plan.sitting", &format!("plan:{}", p.id), &json!({"sitting": sid, "date": date}), now)?;
                notify_candidates(c, sid, now)?;
                Ok(Some(sid))
            }) {
                Ok(sid) => sid,
                // a blueprint the bank can no longer meet (too few questions, a tolerance, or
                // case points saved per item) holds up this plan only, not the other plans and
                // the rest of the dated work; it is tried again on the next sweep
                Err(e) if e.is_invalid() => {
                    eprintln!("exam plan {} ({}): the sitting of {date} cannot be created: {}", p.id, p.name, e.lines().join("; "));
                    break;
                }
                Err(e) => return Err(e),
            };
            last = Some(date);
            if let Some(sid) = sid {
                crate::services::prepared::after_scheduling(conn, sid, now);
                created.push(sid);
            }
        }
    }
    Ok(created)
}

/// The sitting's candidates: active officers it admits (for a certification sitting, those
/// registered for its level). The unit tree is read once, not per officer.
pub fn candidates_of(c: &mut DbConn, s: &exam_db::Sitting) -> AppResult<Vec<org::User>> {
    let officers: std::collections::HashSet<UserId> = org::ids_with_role(c, crate::domain::org::Role::Officer)?.into_iter().collect();
    let parents = exams::parent_map(c)?;
    let eligibility = exams::eligibility_of(s);
    let mut out = Vec::new();
    for (u, _) in org::list_with_units(c)? {
        if !u.active || !officers.contains(&u.id) {
            continue;
        }
        let path = crate::domain::org::unit_path(u.unit_id, |x| parents.get(&x).copied().flatten());
        if eligibility.admits(&u.badge, &path, &u.police_type) {
            out.push(u);
        }
    }
    if let Some(level) = s.cert_level {
        let registered: std::collections::HashSet<UserId> = crate::db::models::cert::registrations(c, true)?
            .into_iter()
            .filter(|(r, ..)| r.level == level)
            .map(|(r, ..)| r.user_id)
            .collect();
        out.retain(|u| registered.contains(&u.id));
    }
    Ok(out)
}

/// Records a message to every candidate of a newly scheduled sitting (the e-mail issue sends it).
pub fn notify_candidates(c: &mut DbConn, sitting_id: SittingId, now: Ts) -> AppResult<usize> {
    let s = crate::services::exams::sitting_of(c, sitting_id)?;
    let people = candidates_of(c, &s)?;
    let params = json!({"title": s.title, "opens": crate::timefmt::local(s.opens_at), "closes": crate::timefmt::local(s.closes_at), "minutes": s.duration_minutes, "url": "/"});
    for u in &people {
        crate::services::mail::notify(c, u.id, "exam_scheduled", params.clone(), now)?;
    }
    Ok(people.len())
}

/// Hours before a sitting opens when its candidates are reminded.
pub const REMINDER_HOURS: i64 = 24;

/// Reminds the candidates of sittings opening within `REMINDER_HOURS` (once per sitting).
pub fn send_reminders(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let mut n = 0;
    for s in exam_db::sittings_closing_after(conn, now)? {
        if s.reminded || s.opens_at <= now || s.opens_at > now + chrono::Duration::hours(REMINDER_HOURS) || s.kind == SittingKind::Remedial
        {
            continue;
        }
        n += write_tx(conn, |c| {
            // claimed first: another app server reminding at the same moment sends nothing
            if !exam_db::claim_reminder(c, s.id)? {
                return Ok::<usize, AppError>(0);
            }
            let people = candidates_of(c, &s)?;
            let params = json!({"title": s.title, "opens": crate::timefmt::local(s.opens_at), "minutes": s.duration_minutes, "url": "/"});
            for u in &people {
                crate::services::mail::notify(c, u.id, "exam_reminder", params.clone(), now)?;
            }
            Ok(people.len())
        })?;
    }
    Ok(n)
}

/// After a sitting closes: its candidates who never started are recorded absent (once).
pub fn record_absences(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let mut n = 0;
    for s in exam_db::list_sittings(conn)? {
        // only recurring exams take attendance: certification has its own registrations
        if s.absences_recorded || s.closes_at > now || s.kind != SittingKind::Bimonthly {
            continue;
        }
        n += write_tx(conn, |c| {
            if !exam_db::claim_absences(c, s.id)? {
                return Ok::<usize, AppError>(0);
            }
            let sat: std::collections::HashSet<UserId> =
                exam_db::attempts_of_sitting(c, s.id)?.into_iter().map(|(a, ..)| a.user_id).collect();
            let mut absent = 0;
            for u in candidates_of(c, &s)? {
                if !sat.contains(&u.id) {
                    room_db::insert_absence(c, s.id, u.id, now)?;
                    absent += 1;
                }
            }
            Ok(absent)
        })?;
    }
    Ok(n)
}

/// Opens a make-up sitting for those absent from `sitting_id`: same blueprint and rules, a new
/// window, only the absentees admitted.
pub fn open_makeup(conn: &mut DbConn, sitting_id: SittingId, opens_at: Ts, closes_at: Ts, by: UserId, now: Ts) -> AppResult<SittingId> {
    let s = crate::services::exams::sitting(conn, sitting_id)?;
    let absent = room_db::absentees(conn, sitting_id)?;
    if absent.is_empty() {
        return Err(AppError::unprocessable("nobody was recorded absent from this sitting")
            .localized("plan_refusal.no_absentees", serde_json::json!({})));
    }
    let mut badges = Vec::new();
    for id in absent {
        if let Some(u) = org::find(conn, id)? {
            badges.push(u.badge);
        }
    }
    let spec = SittingSpec {
        title: format!("{}（补考）", s.title),
        kind: s.kind,
        blueprint_id: s.blueprint_id,
        opens_at,
        closes_at,
        duration_minutes: s.duration_minutes,
        pass_percent: s.pass_percent,
        multi_rule: s.multi_rule,
        score_release: s.score_release,
        answer_release: s.answer_release,
        eligibility: Eligibility { units: vec![], police_types: vec![], badges },
        cert_level: s.cert_level,
        controls: exams::controls_of(&s),
        plan_id: s.plan_id,
        makeup_of: Some(s.id),
    };
    let id = write_tx(conn, |c| {
        let id = exams::create_sitting(c, &spec, Some(by), now)?;
        audit::append(c, Some(by), "sitting.makeup", &format!("sitting:{}", s.id), &json!({"makeup": id}), now)?;
        notify_candidates(c, id, now)?;
        Ok::<SittingId, AppError>(id)
    })?;
    crate::services::prepared::after_scheduling(conn, id, now);
    Ok(id)
}

/// Every exam plan, as stored.
pub fn list(conn: &mut DbConn) -> AppResult<Vec<ExamPlan>> {
    Ok(plan_db::list(conn)?)
}
