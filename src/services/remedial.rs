//! Remedial training (后进民警培训): enrolment by trigger or referral, self-review of errors,
//! targeted practice to a mastery level, the remedial exam, reminders and escalation.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use crate::db::models::{bank as bank_db, exam as exam_db, org, training as tr_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::QuestionKind;
use crate::domain::exam::{Eligibility, Release, SittingKind};
use crate::domain::grading::MultiRule;
use crate::domain::ids::{AttemptId, EscalationId, QuestionId, RemedialPlanId, SittingId, UnitId, UserId, VersionId};
use crate::domain::paper::{BlueprintRule, BlueprintSpec, RuleKind};
use crate::domain::remedial::{self as rules_mod, AfterExam, RemedialRules, Stage, Status, Trigger};
use crate::domain::study::{self, Outcome};
use crate::domain::training_file::EntryKind;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::render::say;
use crate::services::training;
use crate::timefmt::bureau_date;

const SETTINGS_KEY: &str = "remedial_rules";

pub fn rules(conn: &mut DbConn) -> AppResult<RemedialRules> {
    crate::services::settings::read(conn, SETTINGS_KEY)
}

pub fn save_rules(conn: &mut DbConn, r: &RemedialRules, by: UserId, now: Ts) -> AppResult<()> {
    crate::services::settings::save(conn, SETTINGS_KEY, r, r.validate(), by, now)
}

/// Per item of a graded attempt: (version id, points earned, points possible).
pub fn item_results(a: &exam_db::Attempt) -> AppResult<Vec<(VersionId, i64, i64)>> {
    let paper = crate::services::exams::paper_of(a)?;
    Ok(paper.items.iter().zip(a.item_scores_vec()).map(|(i, s)| (i.v, s, i.p)).collect())
}

/// What the officer has answered: exams whose answers are released to them (or whose review a
/// remedial plan opened) and practice. Oldest first.
pub fn outcomes_of(conn: &mut DbConn, user_id: UserId, now: Ts) -> AppResult<Vec<Outcome>> {
    let plan_attempts: HashSet<AttemptId> = tr_db::plans_of(conn, user_id)?.into_iter().filter_map(|p| p.source_attempt_id).collect();
    let mut raw: Vec<(VersionId, bool, Ts)> = Vec::new();
    for (a, s) in exam_db::attempts_of_user(conn, user_id)? {
        let Some(at) = a.submitted_at else { continue };
        if !(crate::services::exams::answers_released(&a, &s, now) || plan_attempts.contains(&a.id)) {
            continue;
        }
        for (v, got, max) in item_results(&a)? {
            raw.push((v, got >= max, at));
        }
    }
    for (ans, _) in tr_db::answers_of_user(conn, user_id)? {
        raw.push((ans.question_version_id, ans.correct, ans.answered_at));
    }
    let ids: Vec<VersionId> = raw.iter().map(|r| r.0).collect::<HashSet<_>>().into_iter().collect();
    let versions: HashMap<VersionId, (QuestionId, String)> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (q.id, v.statute_code))).collect();
    let mut out: Vec<Outcome> = raw
        .into_iter()
        .filter_map(|(v, correct, at)| {
            let (q, statute) = versions.get(&v)?.clone();
            Some(Outcome { question_id: q, version_id: v, statute, correct, at })
        })
        .collect();
    out.sort_by_key(|o| o.at);
    Ok(out)
}

/// Runs the triggers after a filed bimonthly result. Call inside `db::write_tx`.
pub fn after_bimonthly(c: &mut DbConn, user_id: UserId, attempt_id: AttemptId, now: Ts) -> AppResult<Option<RemedialPlanId>> {
    let r = rules(c)?;
    let mut history: Vec<(Ts, rules_mod::ExamResult, AttemptId)> = exam_db::attempts_of_user(c, user_id)?
        .into_iter()
        .filter(|(a, s)| s.kind == SittingKind::Bimonthly && a.submitted_at.is_some() && a.passed.is_some())
        .map(|(a, _)| {
            (
                a.submitted_at.expect("filtered"),
                rules_mod::ExamResult {
                    score_centi: a.score_centi.unwrap_or(0),
                    max_centi: a.max_centi,
                    passed: a.passed.unwrap_or(false),
                },
                a.id,
            )
        })
        .collect();
    history.sort_by_key(|h| h.0);
    // judge the history up to this attempt: a later filing order must not change the verdict
    let upto = history.iter().position(|h| h.2 == attempt_id).map(|i| i + 1).unwrap_or(history.len());
    let results: Vec<rules_mod::ExamResult> = history[..upto].iter().map(|h| h.1).collect();
    let Some(trigger) = rules_mod::trigger_after(&r, &results) else { return Ok(None) };
    let a = exam_db::find_attempt(c, attempt_id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
    let s = crate::services::exams::sitting_of(c, a.sitting_id)?;
    // a score the sitting never releases is not stated in the plan, its notice or its e-mail
    let score_shown = s.score_release != crate::domain::exam::Release::Never;
    let reason = match trigger {
        Trigger::FailedExam if score_shown => {
            format!(
                "{}：{} / {} 不合格",
                s.title,
                crate::domain::grading::format_points(a.score_centi.unwrap_or(0)),
                crate::domain::grading::format_points(a.max_centi)
            )
        }
        Trigger::FailedExam => format!("{}：未达到合格要求", s.title),
        _ => format!("连续 {} 次双月考低于 {}%（最近：{}）", r.low_streak, r.low_percent, s.title),
    };
    open_plan(c, user_id, trigger, &reason, Some(attempt_id), None, now)
}

/// Opens a plan unless the officer already has an open one. Call inside `db::write_tx`.
pub fn open_plan(
    c: &mut DbConn,
    user_id: UserId,
    trigger: Trigger,
    reason: &str,
    source_attempt: Option<AttemptId>,
    referred_by: Option<UserId>,
    now: Ts,
) -> AppResult<Option<RemedialPlanId>> {
    if tr_db::open_plan_of(c, user_id)?.is_some() {
        return Ok(None);
    }
    let r = rules(c)?;
    let mut outcomes = outcomes_of(c, user_id, now)?;
    let source = match source_attempt {
        Some(aid) => {
            let a = exam_db::find_attempt(c, aid)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
            Some((item_results(&a)?, a.submitted_at.unwrap_or(now)))
        }
        None => None,
    };
    let mut review: Vec<VersionId> = match &source {
        Some((items, _)) => items.iter().filter(|(_, got, max)| got < max).map(|(v, ..)| *v).collect(),
        None => study::wrong_book(&outcomes).into_iter().take(30).map(|w| w.version_id).collect(),
    };
    review.dedup();
    // the source attempt's answers count towards weak areas even if not yet released to the officer
    if let Some((items, at)) = &source {
        let vs = bank_db::versions_by_ids(c, &items.iter().map(|x| x.0).collect::<Vec<_>>())?;
        let by_id: HashMap<VersionId, (QuestionId, String)> = vs.into_iter().map(|(v, q)| (v.id, (q.id, v.statute_code))).collect();
        for (v, got, max) in items {
            if let Some((q, st)) = by_id.get(v) {
                outcomes.push(Outcome { question_id: *q, version_id: *v, statute: st.clone(), correct: got >= max, at: *at });
            }
        }
    }
    let mut statutes = study::weakest(&outcomes, r.weak_statutes, 1);
    if statutes.is_empty() {
        statutes = bank_db::statute_names(c)?.into_iter().map(|s| s.0).take(r.weak_statutes).collect();
    }
    let id = tr_db::insert_plan(
        c,
        &tr_db::NewRemedialPlan {
            user_id,
            trigger_kind: trigger.as_str().into(),
            reason: reason.to_string(),
            source_attempt_id: source_attempt,
            referred_by,
            statutes: serde_json::to_string(&statutes).expect("json"),
            review_items: serde_json::to_string(&review).expect("json"),
            stage: rules_mod::first_stage(review.len()).as_str().into(),
            status: Status::Open.as_str().into(),
            mastery_percent: r.mastery_percent,
            opened_at: now,
            deadline: rules_mod::deadline(&r, now),
            exam_tries: 0,
        },
    )?;
    let deadline = rules_mod::deadline(&r, now);
    training::append(
        c,
        user_id,
        EntryKind::RemedialOpened,
        bureau_date(now),
        &format!("remedial:{id}"),
        None,
        &json!({"plan_id": id, "trigger": trigger.as_str(), "reason": reason, "deadline": crate::timefmt::local(deadline), "statutes": statutes, "referred_by": referred_by}),
        "",
        referred_by,
        now,
    )?;
    crate::services::mail::notify(
        c,
        user_id,
        "remedial_assigned",
        json!({"reason": reason, "deadline": crate::timefmt::local(deadline), "url": format!("/remedial/{id}")}),
        now,
    )?;
    Ok(Some(id))
}

/// A trainer's referral (e.g. from case-file evaluation), with a reason.
pub fn refer(conn: &mut DbConn, badge: &str, reason: &str, by: UserId, now: Ts) -> AppResult<RemedialPlanId> {
    let reason = reason.trim();
    if reason.chars().count() < 5 || reason.chars().count() > 500 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("reason", "remedial.refer_reason", "say why the officer is referred (5–500 characters)"),
        ));
    }
    let u = org::find_by_badge(conn, badge.trim())?.ok_or_else(|| {
        let badge = badge.trim().to_string();
        AppError::problem(
            ErrorCode::Invalid,
            Problem::with("badge", "remedial.no_officer", vec![("badge", badge.clone())], format!("no officer {badge:?}")),
        )
    })?;
    write_tx(conn, |c| {
        open_plan(c, u.id, Trigger::Referral, reason, None, Some(by), now)?.ok_or_else(|| {
            AppError::problem(
                ErrorCode::PlanOpen,
                Problem::with(
                    "",
                    "remedial.plan_open",
                    vec![("badge", u.badge.clone())],
                    format!("{} already has an open remedial plan", u.badge),
                ),
            )
        })
    })
}

/// Writes the officer's note on one reviewed error; the last note moves the plan on to practice.
pub fn write_review(
    conn: &mut DbConn,
    plan_id: RemedialPlanId,
    user_id: UserId,
    version_id: VersionId,
    note: &str,
    now: Ts,
) -> AppResult<Stage> {
    let note = note.trim();
    if note.chars().count() < rules_mod::MIN_NOTE_CHARS || note.chars().count() > 2000 {
        let min = rules_mod::MIN_NOTE_CHARS;
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::with(
                "note",
                "remedial.review_note",
                vec![("min", min.to_string())],
                format!("write at least {min} characters (at most 2000) on what you got wrong"),
            ),
        ));
    }
    write_tx(conn, |c| {
        let p = own_open_plan(c, plan_id, user_id)?;
        if !p.review_vec().contains(&version_id) {
            return Err(AppError::problem(
                ErrorCode::NotFound,
                Problem::plain("", "remedial.not_in_review", "that question is not in this plan's review"),
            ));
        }
        tr_db::upsert_review(c, p.id, version_id, note, now)?;
        let notes = tr_db::reviews_of(c, p.id)?;
        let texts: Vec<&str> = notes.iter().map(|n| n.1.as_str()).collect();
        if p.stage == Stage::Review && rules_mod::review_done(p.review_vec().len(), &texts) {
            tr_db::set_stage(c, p.id, Stage::Practice.as_str())?;
            return Ok(Stage::Practice);
        }
        Ok(p.stage)
    })
}

fn own_open_plan(c: &mut DbConn, plan_id: RemedialPlanId, user_id: UserId) -> AppResult<tr_db::RemedialPlan> {
    let p = tr_db::find_plan(c, plan_id)?.filter(|p| p.user_id == user_id).ok_or_else(no_such_plan)?;
    if p.status != Status::Open {
        return Err(AppError::problem(ErrorCode::PlanClosed, Problem::plain("", "remedial.plan_closed", "this remedial plan is closed")));
    }
    Ok(p)
}

/// Practice answers counted for a plan, oldest first.
/// After a failed remedial exam, only answers given since it was set count again.
pub fn plan_answers(c: &mut DbConn, p: &tr_db::RemedialPlan) -> AppResult<Vec<bool>> {
    let since = match p.exam_sitting_id {
        Some(sid) => exam_db::find_sitting(c, sid)?.map(|s| s.created_at),
        None => None,
    };
    Ok(tr_db::answers_of_user(c, p.user_id)?
        .into_iter()
        .filter(|(a, plan)| *plan == Some(p.id) && since.is_none_or(|t| a.answered_at > t))
        .map(|(a, _)| a.correct)
        .collect())
}

/// After a practice answer in a plan's session: mastery moves the plan on to the exam.
/// Call inside `db::write_tx`.
pub fn after_practice(c: &mut DbConn, plan_id: RemedialPlanId, now: Ts) -> AppResult<()> {
    let Some(p) = tr_db::find_plan(c, plan_id)? else { return Ok(()) };
    if p.status != Status::Open || p.stage != Stage::Practice {
        return Ok(());
    }
    let r = rules(c)?;
    if rules_mod::mastery(&r, &plan_answers(c, &p)?).reached {
        let sid = create_exam(c, &p, &r, now)?;
        tr_db::set_exam(c, p.id, sid, p.exam_tries + 1)?;
    }
    Ok(())
}

/// Builds the remedial exam: questions from the plan's statutes, kinds spread evenly, one
/// candidate, open at once for `exam_window_days`.
fn create_exam(c: &mut DbConn, p: &tr_db::RemedialPlan, r: &RemedialRules, now: Ts) -> AppResult<SittingId> {
    let u = org::find(c, p.user_id)?.ok_or_else(|| AppError::internal("officer missing"))?;
    let pool = crate::services::exams::pool_candidates(c, now)?;
    let mut statutes = p.statutes_vec();
    let kinds = [
        (RuleKind::Single, crate::domain::bank::QuestionKind::Single),
        (RuleKind::Multiple, crate::domain::bank::QuestionKind::Multiple),
        (RuleKind::TrueFalse, crate::domain::bank::QuestionKind::TrueFalse),
    ];
    let available = |statutes: &[String]| -> Vec<((String, RuleKind), u32)> {
        let mut v = Vec::new();
        for s in statutes {
            for (rk, qk) in kinds {
                let n = pool.iter().filter(|q| &q.statute == s && q.kind == qk && q.case.is_none()).count() as u32;
                if n > 0 {
                    v.push(((s.clone(), rk), n));
                }
            }
        }
        v
    };
    let mut avail = available(&statutes);
    if avail.iter().map(|a| a.1).sum::<u32>() < r.exam_questions as u32 {
        // too few live questions in the weak statutes: widen to the whole bank
        statutes = bank_db::statute_names(c)?.into_iter().map(|s| s.0).collect();
        avail = available(&statutes);
    }
    let mut counts: Vec<u32> = vec![0; avail.len()];
    let mut left = r.exam_questions as u32;
    while left > 0 && avail.iter().zip(&counts).any(|(a, n)| *n < a.1) {
        for (i, a) in avail.iter().enumerate() {
            if left > 0 && counts[i] < a.1 {
                counts[i] += 1;
                left -= 1;
            }
        }
    }
    let total: u32 = counts.iter().sum();
    if total == 0 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("", "remedial.no_questions", "the bank has no live questions for a remedial exam"),
        ));
    }
    let points = 10_000 / i64::from(total);
    let spec = BlueprintSpec {
        rules: avail
            .iter()
            .zip(&counts)
            .filter(|(_, n)| **n > 0)
            .map(|((key, _), n)| BlueprintRule {
                kind: key.1,
                statute: Some(key.0.clone()),
                difficulty: None,
                level: None,
                count: *n,
                points_centi: points,
            })
            .collect(),
        ..BlueprintSpec::default()
    };
    let try_no = p.exam_tries + 1;
    let bp = crate::services::exams::create_blueprint(c, &format!("补考 · 培训计划 #{} · 第{}次", p.id, try_no), &spec, None, now)?;
    let sitting = crate::services::exams::SittingSpec {
        title: format!("后进民警培训补考 #{}（第{}次）", p.id, try_no),
        kind: SittingKind::Remedial,
        blueprint_id: bp,
        opens_at: now,
        closes_at: now + Duration::days(r.exam_window_days),
        duration_minutes: r.exam_minutes,
        pass_percent: r.exam_pass_percent,
        multi_rule: MultiRule::Partial,
        score_release: Release::OnSubmit,
        answer_release: Release::OnSubmit,
        eligibility: Eligibility { badges: vec![u.badge.clone()], ..Default::default() },
        cert_level: None,
        controls: Default::default(),
        plan_id: None,
        makeup_of: None,
    };
    crate::services::exams::create_sitting(c, &sitting, None, now)
}

/// After the remedial exam is graded (inside the submission's transaction).
pub fn after_remedial_submit(c: &mut DbConn, attempt: &exam_db::Attempt, sitting: &exam_db::Sitting, now: Ts) -> AppResult<()> {
    let Some(p) = tr_db::plan_for_exam(c, sitting.id)? else { return Ok(()) };
    if p.status != Status::Open || p.user_id != attempt.user_id {
        return Ok(());
    }
    decide(c, &p, attempt.passed.unwrap_or(false), Some(attempt), now)
}

/// At filing: a remedial exam never sat counts as a failed try.
pub fn remedial_sitting_closed(c: &mut DbConn, s: &exam_db::Sitting, attempt: Option<&exam_db::Attempt>, now: Ts) -> AppResult<()> {
    let Some(p) = tr_db::plan_for_exam(c, s.id)? else { return Ok(()) };
    if attempt.is_none() && p.status == Status::Open && p.stage == Stage::Exam {
        decide(c, &p, false, None, now)?;
    }
    Ok(())
}

fn decide(c: &mut DbConn, p: &tr_db::RemedialPlan, passed: bool, attempt: Option<&exam_db::Attempt>, now: Ts) -> AppResult<()> {
    let r = rules(c)?;
    let score = attempt.map(|a| crate::domain::grading::format_points(a.score_centi.unwrap_or(0)));
    match rules_mod::after_exam(&r, passed, p.exam_tries) {
        AfterExam::Retry => {
            // practice again: mastery counts only answers given after this failed exam
            tr_db::set_stage(c, p.id, Stage::Practice.as_str())?;
        }
        outcome => {
            let status = if outcome == AfterExam::Close { Status::Passed } else { Status::Escalated };
            tr_db::close_plan(c, p.id, status.as_str(), if passed { "passed" } else { "failed" }, now)?;
            let filed = json!({"plan_id": p.id, "status": status.as_str(), "tries": p.exam_tries, "score": score});
            file_and_tell(c, p, EntryKind::RemedialClosed, &filed, "remedial_closed", json!({"passed": passed}), now)?;
            if status == Status::Escalated {
                escalate_from_own_unit(c, p, crate::services::escalation::why::FAILED, now)?;
            }
        }
    }
    Ok(())
}

/// Files `kind` about plan `p` in its officer's training file (`filed`: the entry's data), and
/// tells the officer by mail `mail` (its `params` and a link to the plan).
fn file_and_tell(
    c: &mut DbConn,
    p: &tr_db::RemedialPlan,
    kind: EntryKind,
    filed: &serde_json::Value,
    mail: &str,
    mut params: serde_json::Value,
    now: Ts,
) -> AppResult<()> {
    training::append(c, p.user_id, kind, bureau_date(now), &format!("remedial:{}", p.id), None, filed, "", None, now)?;
    params["url"] = json!(format!("/remedial/{}", p.id));
    crate::services::mail::notify(c, p.user_id, mail, params, now)?;
    Ok(())
}

/// Escalates plan `p` from its officer's own unit (see `escalation::escalate`).
fn escalate_from_own_unit(c: &mut DbConn, p: &tr_db::RemedialPlan, why: &str, now: Ts) -> AppResult<EscalationId> {
    let unit = org::find(c, p.user_id)?.map(|u| u.unit_id);
    crate::services::escalation::escalate(c, p, why, unit, now)
}

pub fn stage_label(stage: Stage) -> &'static str {
    match stage {
        Stage::Review => "错题自查",
        Stage::Practice => "针对性练习",
        Stage::Exam => "补考",
        Stage::Closed => "已结束",
    }
}

/// Reminders and overdue escalation, run by the dated sweeper.
pub fn sweep(conn: &mut DbConn, now: Ts) -> AppResult<(usize, usize)> {
    let r = rules(conn)?;
    let (mut reminded, mut overdue) = (0, 0);
    for p in tr_db::all_plans(conn, true)? {
        if now >= p.deadline && p.overdue_at.is_none() {
            write_tx(conn, |c| {
                if !tr_db::mark_overdue(c, p.id, now)? {
                    return Ok(()); // another app server marked it first
                }
                let deadline = crate::timefmt::local(p.deadline);
                let filed = json!({"plan_id": p.id, "deadline": deadline, "stage": p.stage});
                file_and_tell(c, &p, EntryKind::RemedialOverdue, &filed, "remedial_overdue", json!({"deadline": deadline}), now)?;
                escalate_from_own_unit(c, &p, crate::services::escalation::why::OVERDUE, now)?;
                Ok::<(), AppError>(())
            })?;
            overdue += 1;
        } else if now < p.deadline && rules_mod::reminder_due(&r, p.opened_at, p.reminded_at, now) {
            write_tx(conn, |c| {
                if !tr_db::mark_reminded(c, p.id, p.reminded_at, now)? {
                    return Ok(()); // another app server reminded first
                }
                crate::services::mail::notify(
                    c,
                    p.user_id,
                    "remedial_reminder",
                    json!({"deadline": crate::timefmt::local(p.deadline), "stage": stage_label(p.stage), "url": format!("/remedial/{}", p.id)}),
                    now,
                )
            })?;
            reminded += 1;
        }
    }
    Ok((reminded, overdue))
}

/// Whose remedial plans a reader may list: trainers, HR and admins every plan; a unit leader
/// (without those roles) the plans of officers in their unit and the units under it; others
/// none but their own. The remedial pages and `GET /api/v1/remedial-plans` both ask this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanScope {
    Everyone,
    UnitsUnder(UnitId),
}

pub fn scope_of(user: &org::User, roles: &[crate::domain::org::Role]) -> Option<PlanScope> {
    use crate::domain::org::Role;
    if roles.iter().any(|r| matches!(r, Role::Trainer | Role::Hr | Role::Admin)) {
        Some(PlanScope::Everyone)
    } else if roles.contains(&Role::Leader) {
        Some(PlanScope::UnitsUnder(user.unit_id))
    } else {
        None
    }
}

/// Which plans to list; every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct PlanFilter {
    pub status: Option<Status>,
    /// Officers of this unit and the units under it.
    pub unit: Option<UnitId>,
    pub badge: Option<String>,
    /// Open and past the deadline (true), or not (false).
    pub overdue: Option<bool>,
    /// Opened on or after / on or before these bureau dates.
    pub opened_from: Option<chrono::NaiveDate>,
    pub opened_to: Option<chrono::NaiveDate>,
}

/// A plan as the lists show it, with the officer and progress.
#[derive(Clone, Debug, Serialize)]
pub struct PlanRow {
    pub plan: tr_db::RemedialPlan,
    pub badge: String,
    pub name: String,
    pub unit_id: UnitId,
    pub unit: String,
    pub overdue: bool,
    pub reviewed: usize,
    pub mastery: rules_mod::Mastery,
}

/// The plans `scope` may see that match `filter`, newest first: (how many in all, the rows from
/// `offset`, at most `limit`). Progress is read only for the rows returned.
pub fn list_plans(
    conn: &mut DbConn,
    scope: PlanScope,
    filter: &PlanFilter,
    offset: usize,
    limit: usize,
    now: Ts,
) -> AppResult<(usize, Vec<PlanRow>)> {
    let people: HashMap<UserId, (org::User, String)> = org::list_with_units(conn)?.into_iter().map(|(u, n)| (u.id, (u, n))).collect();
    let units = org::all_units(conn)?;
    let parent = |u: UnitId| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id);
    let under = |officer_unit: UnitId, unit: UnitId| crate::domain::org::unit_path(officer_unit, parent).contains(&unit);
    let badge = filter.badge.as_deref().map(str::trim).filter(|b| !b.is_empty());
    let matching: Vec<tr_db::RemedialPlan> = tr_db::all_plans(conn, filter.status == Some(Status::Open))?
        .into_iter()
        .filter(|p| {
            let Some((who, _)) = people.get(&p.user_id) else { return false };
            let overdue = p.status == Status::Open && now >= p.deadline;
            let opened = bureau_date(p.opened_at);
            (match scope {
                PlanScope::Everyone => true,
                PlanScope::UnitsUnder(u) => under(who.unit_id, u),
            }) && filter.status.is_none_or(|s| p.status == s)
                && filter.unit.is_none_or(|u| under(who.unit_id, u))
                && badge.is_none_or(|b| who.badge == b)
                && filter.overdue.is_none_or(|o| o == overdue)
                && filter.opened_from.is_none_or(|d| opened >= d)
                && filter.opened_to.is_none_or(|d| opened <= d)
        })
        .collect();
    let total = matching.len();
    let r = rules(conn)?;
    let mut rows = Vec::new();
    for p in matching.into_iter().skip(offset).take(limit) {
        let (who, unit) = people.get(&p.user_id).cloned().expect("filtered on people");
        rows.push(PlanRow {
            mastery: rules_mod::mastery(&r, &plan_answers(conn, &p)?),
            reviewed: tr_db::reviews_of(conn, p.id)?.len(),
            overdue: p.status == Status::Open && now >= p.deadline,
            badge: who.badge,
            name: who.name,
            unit_id: who.unit_id,
            unit,
            plan: p,
        });
    }
    Ok((total, rows))
}

/// One plan if `scope` may see it (404 otherwise, as for a plan that does not exist).
pub fn plan_in_scope(conn: &mut DbConn, scope: PlanScope, id: RemedialPlanId, now: Ts) -> AppResult<PlanRow> {
    let p = tr_db::find_plan(conn, id)?.ok_or_else(|| AppError::not_found(format!("no remedial plan {id}")))?;
    let who = org::find(conn, p.user_id)?.ok_or_else(|| AppError::not_found(format!("no remedial plan {id}")))?;
    let units = org::all_units(conn)?;
    if let PlanScope::UnitsUnder(u) = scope {
        let parent = |x: UnitId| units.iter().find(|y| y.id == x).and_then(|y| y.parent_id);
        if !crate::domain::org::unit_path(who.unit_id, parent).contains(&u) {
            return Err(AppError::not_found(format!("no remedial plan {id}")));
        }
    }
    let r = rules(conn)?;
    Ok(PlanRow {
        mastery: rules_mod::mastery(&r, &plan_answers(conn, &p)?),
        reviewed: tr_db::reviews_of(conn, p.id)?.len(),
        overdue: p.status == Status::Open && now >= p.deadline,
        badge: who.badge,
        name: who.name,
        unit: units.iter().find(|x| x.id == who.unit_id).map(|x| x.name.clone()).unwrap_or_default(),
        unit_id: who.unit_id,
        plan: p,
    })
}

/// One error to review, with what the officer needs to understand it.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewItem {
    pub version_id: VersionId,
    pub question_code: String,
    pub kind: QuestionKind,
    pub stem: String,
    pub options: Vec<(String, String)>,
    pub key: String,
    pub explanation: String,
    /// The source exam does not release answers: only the statute and articles are shown.
    pub withheld: bool,
    pub statute: String,
    pub articles: Vec<(String, Option<String>)>,
    pub note: String,
    pub done: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanView {
    pub plan: tr_db::RemedialPlan,
    pub badge: String,
    pub name: String,
    pub stage_label: &'static str,
    pub statutes: Vec<String>,
    pub review: Vec<ReviewItem>,
    pub reviewed: usize,
    pub mastery: rules_mod::Mastery,
    pub overdue: bool,
    pub exam_open: bool,
    pub deadline: String,
    pub opened: String,
}

/// Shared by practice feedback and self-review: the options as (id, text), the key, and each
/// cited article with its text where the edition's text is shipped.
pub fn explain(
    v: &bank_db::Version,
    q: &bank_db::Question,
    texts: &crate::domain::statute_text::StatuteTexts,
) -> (Vec<(String, String)>, Vec<(String, Option<String>)>) {
    let options = if q.kind == QuestionKind::TrueFalse {
        vec![("T".to_string(), "正确".to_string()), ("F".to_string(), "错误".to_string())]
    } else {
        crate::domain::bank::OPTION_LETTERS.chars().zip(v.options_vec()).map(|(l, t)| (l.to_string(), t)).collect()
    };
    let articles = v
        .articles_vec()
        .into_iter()
        .map(|a| {
            let text = texts.article(&v.statute_code, &v.edition_code, &a).map(String::from);
            (a, text)
        })
        .collect();
    (options, articles)
}

/// Whether the plan's source exam lets its answers be shown now (a plan from a referral or a
/// case evaluation has no source exam: its review questions were the officer's practice misses).
pub fn source_answers_released(conn: &mut DbConn, p: &tr_db::RemedialPlan, now: Ts) -> AppResult<bool> {
    let Some(aid) = p.source_attempt_id else { return Ok(true) };
    let Some(a) = exam_db::find_attempt(conn, aid)? else { return Ok(true) };
    let s = crate::services::exams::sitting_of(conn, a.sitting_id)?;
    Ok(crate::services::exams::answers_released(&a, &s, now))
}

/// A plan as `viewer_sees_keys` allows: when the source exam does not release its answers, the
/// self-review covers only what may be shown — the statutes and articles the officer missed —
/// without stems, options, keys or explanations (trainers, who hold the bank, see them).
pub fn plan_view(
    conn: &mut DbConn,
    p: tr_db::RemedialPlan,
    texts: &crate::domain::statute_text::StatuteTexts,
    viewer_sees_keys: bool,
    now: Ts,
) -> AppResult<PlanView> {
    let withheld = !viewer_sees_keys && !source_answers_released(conn, &p, now)?;
    let statute_names = crate::services::questions::statute_names(conn)?;
    let u = org::find(conn, p.user_id)?.ok_or_else(|| AppError::internal("officer missing"))?;
    let notes: HashMap<VersionId, String> = tr_db::reviews_of(conn, p.id)?.into_iter().collect();
    let ids = p.review_vec();
    let keys: HashMap<VersionId, String> = bank_db::keys_by_ids(conn, &ids)?.into_iter().collect();
    let mut by_id: HashMap<VersionId, (bank_db::Version, bank_db::Question)> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (v, q))).collect();
    let review: Vec<ReviewItem> = ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|(v, q)| {
            let (options, articles) = explain(&v, &q, texts);
            let note = notes.get(&v.id).cloned().unwrap_or_default();
            let shown = |text: String| if withheld { String::new() } else { text };
            ReviewItem {
                version_id: v.id,
                question_code: q.code.clone(),
                kind: q.kind,
                stem: shown(v.stem.clone()),
                options: if withheld { Vec::new() } else { options },
                key: shown(keys.get(&v.id).cloned().unwrap_or_default()),
                explanation: shown(v.explanation.clone()),
                withheld,
                statute: statute_names.name(&v.statute_code),
                articles,
                done: note.trim().chars().count() >= rules_mod::MIN_NOTE_CHARS,
                note,
            }
        })
        .collect();
    let r = rules(conn)?;
    let mastery = rules_mod::mastery(&r, &plan_answers(conn, &p)?);
    let exam_open = match p.exam_sitting_id {
        Some(sid) if p.stage == Stage::Exam => exam_db::find_sitting(conn, sid)?.is_some_and(|s| s.opens_at <= now && now < s.closes_at),
        _ => false,
    };
    Ok(PlanView {
        badge: u.badge,
        name: u.name,
        stage_label: stage_label(p.stage),
        statutes: p.statutes_vec().iter().map(|s| statute_names.name(s)).collect(),
        reviewed: review.iter().filter(|r| r.done).count(),
        review,
        mastery,
        overdue: p.status == Status::Open && now >= p.deadline,
        exam_open,
        deadline: crate::timefmt::local(p.deadline),
        opened: crate::timefmt::local(p.opened_at),
        plan: p,
    })
}

/// Case-file evaluation import: `badge,month,case_ref,deduction[,note]` (month YYYY-MM,
/// deduction in points, e.g. 2.5). All or nothing; a row already imported with the same
/// deduction is skipped, with a different one refused. Returns (rows stored, plans opened).
pub fn import_case_evaluations(
    conn: &mut DbConn,
    csv_text: &str,
    lang: &str,
    by: UserId,
    now: Ts,
) -> AppResult<(usize, Vec<RemedialPlanId>)> {
    let rows = parse_case_csv_in(csv_text, lang).map_err(|e| AppError::invalid_lines(&e))?;
    store_case_evaluations(conn, &rows, lang, by, now, |_, _, _| Ok(()))
}

/// Checks parsed case-evaluation rows against the database (each officer exists, no row already
/// imported with another deduction): the rows to store, with their officer's id, or every
/// problem with its line. `after_row(conn, n)` is called after the n-th row (a job's progress).
pub fn check_case_rows<'a>(
    c: &mut DbConn,
    rows: &'a [CaseRow],
    lang: &str,
    mut after_row: impl FnMut(&mut DbConn, usize) -> AppResult<()>,
) -> AppResult<Result<Vec<(UserId, &'a CaseRow)>, Vec<String>>> {
    let mut errs = Vec::new();
    let mut fresh = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        match org::find_by_badge(c, &row.badge)? {
            None => errs.push(format!(
                "{}{}",
                at_line(lang, row.line, None),
                say(lang, "cases.no_officer", &json!({"badge": format!("{:?}", row.badge)}))
            )),
            Some(u) => match tr_db::case_evaluation_exists(c, u.id, &row.month, &row.case_ref)? {
                Some(d) if d == row.deduction_centi => {}
                Some(d) => errs.push(format!(
                    "{}{}",
                    at_line(lang, row.line, None),
                    say(
                        lang,
                        "cases.already",
                        &json!({"case": format!("{:?}", row.case_ref), "badge": row.badge, "month": row.month,
                                "d": crate::domain::grading::format_points(d)})
                    )
                )),
                None => fresh.push((u.id, row)),
            },
        }
        after_row(c, n + 1)?;
    }
    Ok(if errs.is_empty() { Ok(fresh) } else { Err(errs) })
}

/// Checks the rows again and stores them in one transaction with the remedial plans they open
/// and an audit entry, then runs `then(conn, rows stored, plans opened)` in the same
/// transaction (a job marks itself done there); any error rolls all of it back.
pub fn store_case_evaluations(
    conn: &mut DbConn,
    rows: &[CaseRow],
    lang: &str,
    by: UserId,
    now: Ts,
    then: impl FnOnce(&mut DbConn, usize, &[RemedialPlanId]) -> AppResult<()>,
) -> AppResult<(usize, Vec<RemedialPlanId>)> {
    write_tx(conn, |c| {
        let fresh = check_case_rows(c, rows, lang, |_, _| Ok(()))?.map_err(|errs| AppError::invalid_lines(&errs))?;
        for (uid, row) in &fresh {
            tr_db::insert_case_evaluation(c, *uid, &row.month, &row.case_ref, row.deduction_centi, &row.note, by, now)?;
        }
        let months: Vec<String> = fresh.iter().map(|(_, r)| r.month.clone()).collect::<HashSet<_>>().into_iter().collect();
        let r = rules(c)?;
        let mut opened = Vec::new();
        for (uid, month, avg) in rules_mod::case_referrals(&r, &tr_db::case_deductions(c, &months)?) {
            let reason = format!(
                "{month} 案件考评平均扣分 {}（≥ {}）",
                crate::domain::grading::format_points(avg),
                crate::domain::grading::format_points(r.case_deduction_centi)
            );
            if let Some(pid) = open_plan(c, uid, Trigger::CaseEvaluation, &reason, None, Some(by), now)? {
                opened.push(pid);
            }
        }
        crate::db::models::audit::append(
            c,
            Some(by),
            "case_evaluations.import",
            "case_evaluations",
            &json!({"rows": fresh.len(), "plans": opened}),
            now,
        )?;
        then(c, fresh.len(), &opened)?;
        Ok((fresh.len(), opened))
    })
}

#[derive(Debug, PartialEq)]
pub struct CaseRow {
    pub line: usize,
    pub badge: String,
    pub month: String,
    pub case_ref: String,
    pub deduction_centi: i64,
    pub note: String,
}

/// Parses the case-evaluation CSV; every error names its line and column (in English).
pub fn parse_case_csv(text: &str) -> Result<Vec<CaseRow>, Vec<String>> {
    parse_case_csv_in(text, "en")
}

/// "line N: " or, with a column, "line N, month: " in `lang`.
fn at_line(lang: &str, line: usize, field: Option<&str>) -> String {
    match field {
        None => say(lang, "cases.line", &json!({"line": line})),
        Some(f) => say(lang, "cases.line_field", &json!({"line": line, "field": say(lang, &format!("cases.field_{f}"), &json!({}))})),
    }
}

/// [`parse_case_csv`] with every problem said in `lang`.
pub fn parse_case_csv_in(text: &str, lang: &str) -> Result<Vec<CaseRow>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![format!("{}{e}", at_line(lang, 1, None))]),
    };
    let want = ["badge", "month", "case_ref", "deduction"];
    let missing: Vec<&str> = want.iter().copied().filter(|w| !headers.iter().any(|h| h == w)).collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "{}{}",
            at_line(lang, 1, None),
            say(lang, "cases.missing_columns", &json!({"cols": missing.join(", ")}))
        )]);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (cb, cm, cc, cd, cn) = (
        col("badge").expect("checked"),
        col("month").expect("checked"),
        col("case_ref").expect("checked"),
        col("deduction").expect("checked"),
        col("note"),
    );
    let (mut rows, mut errs) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errs.push(format!("{}{e}", at_line(lang, line, None)));
                continue;
            }
        };
        let get = |c: usize| rec.get(c).unwrap_or("").trim().to_string();
        let (badge, month, case_ref, ded) = (get(cb), get(cm), get(cc), get(cd));
        if badge.is_empty() {
            errs.push(format!("{}{}", at_line(lang, line, Some("badge")), say(lang, "cases.empty", &json!({}))));
        }
        let month_ok = month.len() == 7 && chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_ok();
        if !month_ok {
            errs.push(format!(
                "{}{}",
                at_line(lang, line, Some("month")),
                say(lang, "cases.month_format", &json!({"v": format!("{month:?}")}))
            ));
        }
        if case_ref.is_empty() || case_ref.chars().count() > 100 {
            errs.push(format!("{}{}", at_line(lang, line, Some("case_ref")), say(lang, "cases.case_ref_required", &json!({}))));
        }
        let deduction_centi = match ded.parse::<f64>() {
            Ok(d) if (0.0..=100.0).contains(&d) => (d * 100.0).round() as i64,
            _ => {
                errs.push(format!(
                    "{}{}",
                    at_line(lang, line, Some("deduction")),
                    say(lang, "cases.deduction_range", &json!({"v": format!("{ded:?}")}))
                ));
                0
            }
        };
        if !seen.insert((badge.clone(), month.clone(), case_ref.clone())) {
            errs.push(format!(
                "{}{}",
                at_line(lang, line, None),
                say(lang, "cases.twice", &json!({"case": format!("{case_ref:?}"), "badge": badge, "month": month}))
            ));
        }
        let note = cn.map(get).unwrap_or_default();
        rows.push(CaseRow { line, badge, month, case_ref, deduction_centi, note: note.chars().take(500).collect() });
    }
    if rows.is_empty() && errs.is_empty() {
        errs.push(say(lang, "cases.no_rows", &json!({})));
    }
    if errs.is_empty() {
        Ok(rows)
    } else {
        Err(errs)
    }
}

/// 404 for a remedial plan that does not exist or that the reader may not open.
pub fn no_such_plan() -> AppError {
    AppError::problem(ErrorCode::NotFound, Problem::plain("", "remedial.no_plan", "no such remedial plan"))
}

/// A remedial plan as a reader may open it: their own, any for trainers, else one of an officer
/// whose training file they may read; 404 `no such remedial plan` for anything else.
pub fn readable_plan(
    conn: &mut DbConn,
    reader: &org::User,
    roles: &[crate::domain::org::Role],
    plan_id: RemedialPlanId,
) -> AppResult<tr_db::RemedialPlan> {
    let missing = no_such_plan;
    let p = tr_db::find_plan(conn, plan_id)?.ok_or_else(missing)?;
    if p.user_id == reader.id || roles.contains(&crate::domain::org::Role::Trainer) {
        return Ok(p);
    }
    let officer = org::find(conn, p.user_id)?.ok_or_else(missing)?;
    if training::may_read(conn, reader, roles, &officer)? {
        return Ok(p);
    }
    Err(missing())
}

/// The officer's own plan, when it has reached its practice stage (404 for another's plan).
pub fn own_plan_in_practice(conn: &mut DbConn, user_id: UserId, plan_id: RemedialPlanId) -> AppResult<tr_db::RemedialPlan> {
    let p = tr_db::find_plan(conn, plan_id)?.filter(|p| p.user_id == user_id).ok_or_else(no_such_plan)?;
    if p.stage != Stage::Practice {
        return Err(AppError::problem(
            ErrorCode::WrongStage,
            Problem::plain("", "remedial.practice_not_yet", "practice opens after the self-review is complete"),
        ));
    }
    Ok(p)
}

/// The officer's own plans, newest first.
pub fn plans_of(conn: &mut DbConn, user_id: UserId) -> AppResult<Vec<tr_db::RemedialPlan>> {
    Ok(tr_db::plans_of(conn, user_id)?)
}

/// The officer's open plan, if any.
pub fn open_plan_of(conn: &mut DbConn, user_id: UserId) -> AppResult<Option<tr_db::RemedialPlan>> {
    Ok(tr_db::open_plan_of(conn, user_id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_csv_errors_name_line_and_column() {
        let ok = "badge,month,case_ref,deduction,note\n100001,2026-10,A-1,2.5,卷宗不全\n100001,2026-10,A-2,3.5,\n";
        let rows = parse_case_csv(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].deduction_centi, 250);
        let bad = "badge,month,case_ref,deduction\n100001,2026-13,A-1,x\n,2026-10,,1\n100001,2026-13,A-1,1\n";
        let e = parse_case_csv(bad).unwrap_err();
        assert!(e.iter().any(|x| x == "line 2, month: \"2026-13\" is not YYYY-MM"), "{e:?}");
        assert!(e.iter().any(|x| x.starts_with("line 2, deduction")), "{e:?}");
        assert!(e.iter().any(|x| x.starts_with("line 3, badge")) && e.iter().any(|x| x.starts_with("line 3, case_ref")), "{e:?}");
        assert!(e.iter().any(|x| x.starts_with("line 4") && x.contains("twice")), "{e:?}");
        assert!(parse_case_csv("badge,month\n1,2\n").unwrap_err()[0].contains("missing column(s) case_ref, deduction"));
        assert_eq!(parse_case_csv("badge,month,case_ref,deduction\n").unwrap_err(), vec!["the file has no rows".to_string()]);
    }
}
