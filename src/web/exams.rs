//! Officers' pages: their sittings, the exam page, submission and their results.

use std::collections::HashMap;

use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, with_db};
use crate::auth::Officer;
use crate::domain::exam::{SittingState, SubmitKind};
use crate::domain::grading::format_points;
use crate::domain::grading::MultiRule;
use crate::domain::ids::{AttemptId, SittingId, UnitId, UserId, VersionId};
use crate::domain::measurement::scale::PassRule;
use crate::error::AppResult;
use crate::services::exams::{self, Candidate, SittingSummary};

pub fn sitting_json(s: &SittingSummary) -> Value {
    json!({
        "id": s.id, "title": s.title, "kind": s.kind.as_str(), "opens_at": local(s.opens_at), "closes_at": local(s.closes_at),
        "duration_minutes": s.duration_minutes, "state": s.state.as_str(), "open": s.state == SittingState::Open,
        "attempt_id": s.attempt_id, "submitted": s.submitted,
    })
}

fn candidate(o: &Officer<'_>) -> (UserId, String, UnitId, String) {
    (o.user.id, o.user.badge.clone(), o.user.unit_id, o.user.police_type.clone())
}

#[get("/exams")]
pub async fn list(ctx: PageCtx<'_>, officer: Officer<'_>) -> AppResult<RawHtml<String>> {
    let (id, badge, unit, ptype) = candidate(&officer);
    let now = ctx.state.clock.now();
    let (open, history) = with_db(ctx.state, move |c| {
        let open = exams::sittings_for(c, &Candidate { id, badge: &badge, unit_id: unit, police_type: &ptype }, now)?;
        Ok((open, exams::history_of(c, id)?))
    })
    .await?;
    let (history, scaled) = history;
    let history: Vec<Value> = history
        .iter()
        .map(|(a, s)| {
            let r = exams::result_for_candidate(a, s, scaled.get(&a.id), now);
            json!({
                "attempt_id": a.id, "title": s.title, "kind": s.kind, "started_at": local(a.started_at),
                "submitted": a.submitted_at.is_some(), "score": r.score, "max_score": r.max_score, "passed": r.passed,
                "released": r.score_released,
            })
        })
        .collect();
    ctx.render("exams/list", json!({ "sittings": open.iter().map(sitting_json).collect::<Vec<_>>(), "history": history }))
}

#[get("/exams/<sitting_id>")]
pub async fn show(ctx: PageCtx<'_>, officer: Officer<'_>, sitting_id: SittingId) -> AppResult<RawHtml<String>> {
    let (id, badge, unit, ptype) = candidate(&officer);
    let now = ctx.state.clock.now();
    let (s, attempt) = with_db(ctx.state, move |c| {
        let s = crate::services::exams::sitting(c, sitting_id)?;
        if !exams::may_sit(c, &s, &Candidate { id, badge: &badge, unit_id: unit, police_type: &ptype })? {
            return Err(exams::not_on_list());
        }
        let a = exams::attempt_in(c, sitting_id, id)?;
        Ok((s, a))
    })
    .await?;
    let state = SittingState::at(now, s.opens_at, s.closes_at);
    let controls = exams::controls_of(&s);
    ctx.render(
        "exams/show",
        json!({
            "sitting": {
                "id": s.id, "title": s.title, "kind": s.kind, "opens_at": local(s.opens_at), "closes_at": local(s.closes_at),
                "duration_minutes": s.duration_minutes, "pass_percent": s.pass_percent, "state": state.as_str(),
                "open": state == SittingState::Open, "partial": s.multi_rule == MultiRule::Partial,
                "needs_code": controls.access_code.is_some(), "fullscreen": controls.fullscreen,
            },
            "attempt": attempt.map(|a| json!({"id": a.id, "submitted": a.submitted_at.is_some()})),
        }),
    )
}

#[derive(rocket::form::FromForm)]
pub struct StartForm {
    access_code: Option<String>,
}

#[post("/exams/<sitting_id>/start", data = "<f>")]
pub async fn start(
    arrived: super::guards::Arrived,
    ctx: PageCtx<'_>,
    officer: Officer<'_>,
    sitting_id: SittingId,
    f: CsrfForm<StartForm>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Redirect> {
    let mut trace = exams::StartTrace::new(arrived.0);
    let (id, badge, unit, ptype) = candidate(&officer);
    let now = ctx.state.clock.now();
    let code = f.0.access_code;
    let attempts = ctx.state.attempts.clone();
    let (a, mut trace) = with_db(ctx.state, move |c| {
        trace.connected = Some(std::time::Instant::now());
        let room = exams::RoomEntry { access_code: code.as_deref(), ip };
        let candidate = Candidate { id, badge: &badge, unit_id: unit, police_type: &ptype };
        let (a, _) = exams::start_attempt(c, &attempts, sitting_id, &candidate, &room, now, Some(&mut trace))?;
        Ok((a, trace))
    })
    .await?;
    // the page is a redirect to the paper: its view is built by the next request
    trace.viewed = trace.committed;
    ctx.state.metrics.observe_start(&trace);
    Ok(Redirect::to(format!("/attempts/{}", a.id)))
}

#[get("/attempts/<attempt_id>")]
pub async fn attempt_page(
    ctx: PageCtx<'_>,
    officer: Officer<'_>,
    attempt_id: AttemptId,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let uid = officer.user.id;
    let now = ctx.state.clock.now();
    let versions = ctx.state.versions.clone();
    let attempts = ctx.state.attempts.clone();
    let out = with_db(ctx.state, move |c| {
        let a = exams::read_own_attempt(c, &versions, &attempts, attempt_id, uid, ip, now)?;
        if a.submitted_at.is_some() {
            return Ok(None);
        }
        let s = crate::services::exams::sitting_of(c, a.sitting_id)?;
        let controls = exams::controls_of(&s);
        Ok(Some((exams::attempt_view(c, &versions, &a, &s.title, now)?, controls)))
    })
    .await?;
    let Some((view, controls)) = out else { return Ok(Either::Right(Redirect::to(format!("/attempts/{attempt_id}/result")))) };
    let questions: Vec<Value> = view
        .questions
        .iter()
        .map(|q| {
            let chosen = q.answer.clone().unwrap_or_default();
            json!({
                "id": q.id, "number": q.number, "kind": q.kind.as_str(), "multiple": q.kind == crate::domain::bank::QuestionKind::Multiple,
                "stem": q.stem, "case_title": q.case_title, "case_text": q.case_text, "points": q.points, "flagged": q.flagged,
                "answered": !chosen.is_empty(),
                "options": q.options.iter().map(|o| json!({"id": o.id, "text": o.text, "checked": chosen.contains(&o.id)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let epoch_ms = |t: chrono::NaiveDateTime| t.and_utc().timestamp_millis();
    ctx.render(
        "exams/attempt",
        json!({
            "attempt": { "id": view.attempt_id, "title": view.title, "deadline_ms": epoch_ms(view.deadline), "server_ms": epoch_ms(view.server_time),
                         "deadline": local(view.deadline), "fullscreen": controls.fullscreen },
            "questions": questions,
        }),
    )
    .map(Either::Left)
}

/// The exam form: `a[<question id>]` holds the chosen option ids.
#[derive(rocket::form::FromForm)]
pub struct SubmitForm {
    a: Option<HashMap<VersionId, Vec<String>>>,
}

/// Submits the attempt. Answers in the form (the page without JavaScript) are saved first.
#[post("/attempts/<attempt_id>/submit", data = "<form>")]
pub async fn submit(
    ctx: PageCtx<'_>,
    officer: Officer<'_>,
    attempt_id: AttemptId,
    form: CsrfForm<SubmitForm>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Redirect> {
    let uid = officer.user.id;
    let now = ctx.state.clock.now();
    let versions = ctx.state.versions.clone();
    let answers = form.0.a.unwrap_or_default();
    let attempts = ctx.state.attempts.clone();
    with_db(ctx.state, move |c| {
        let a = exams::own_attempt_in_room(c, &attempts, attempt_id, uid, ip)?;
        if a.submitted_at.is_none() && now < a.deadline {
            for (vid, choices) in &answers {
                let answer = exams::AnswerInput { attempt_id: a.id, user_id: uid, version_id: *vid, choices, flagged: None, ip, now };
                exams::save_answer(c, &versions, &attempts, answer)?;
            }
        }
        exams::submit(c, &versions, a.id, SubmitKind::Manual, now)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(format!("/attempts/{attempt_id}/result")))
}

/// One question of the released review on the result page.
fn review_json(number: usize, item: &exams::ReviewItem) -> Value {
    let v = &item.version;
    let chosen = &item.chosen;
    let options: Vec<Value> = if v.kind == crate::domain::bank::QuestionKind::TrueFalse {
        ["T", "F"].iter().map(|id| json!({"id": id, "label": "", "tf": true, "text": if *id == "T" {"正确"} else {"错误"}, "correct": v.key.contains(id), "chosen": chosen.contains(id)})).collect()
    } else {
        // authored order with letters, so an explanation's "选项C" means what it says
        crate::domain::bank::OPTION_LETTERS.chars().zip(v.options.iter()).map(|(id, text)| {
            json!({"id": id.to_string(), "label": format!("{id}. "), "tf": false, "text": text, "correct": v.key.contains(id), "chosen": chosen.contains(id)})
        }).collect()
    };
    let (got, max) = (item.points_centi, item.max_centi);
    json!({
        "number": number, "stem": v.stem, "options": options, "explanation": v.explanation,
        "statute": item.statute, "articles": v.articles.join("、"),
        "case_title": item.case.as_ref().map(|c| c.0.clone()), "case_text": item.case.as_ref().map(|c| c.1.clone()),
        "points": format_points(got), "max": format_points(max), "full": got == max, "unanswered": chosen.is_empty(),
        "v": v.id, "challenge": item.challenge.as_ref().map(|c| json!({"status": c.status, "reason": c.decision_reason})),
        "refused": null,
    })
}

#[get("/attempts/<attempt_id>/result")]
pub async fn result(ctx: PageCtx<'_>, officer: Officer<'_>, attempt_id: AttemptId) -> AppResult<Either<RawHtml<String>, Redirect>> {
    result_page(&ctx, officer.user.id, attempt_id, None).await
}

/// A challenge the candidate filed and was refused: its question, what they typed, and why
/// (lines `field: problem` in the reader's language).
pub struct ChallengeRefused {
    pub v: VersionId,
    pub article: String,
    pub reason: String,
    pub lines: Vec<String>,
}

/// The result page; a refused challenge is shown open under its question with what was typed,
/// each problem beside its field and the others above the review.
pub async fn result_page(
    ctx: &PageCtx<'_>,
    uid: UserId,
    attempt_id: AttemptId,
    refused: Option<ChallengeRefused>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let now = ctx.state.clock.now();
    let versions = ctx.state.versions.clone();
    let out = with_db(ctx.state, move |c| exams::result_view(c, &versions, attempt_id, uid, now)).await?;
    let Some(exams::ResultView { attempt: a, sitting: s, result: r, scaled, review }) = out else {
        return Ok(Either::Right(Redirect::to(format!("/attempts/{attempt_id}"))));
    };
    let mut review: Option<Vec<Value>> = review.map(|items| items.iter().enumerate().map(|(n, item)| review_json(n + 1, item)).collect());
    let review_shown = review.is_some();
    let mut errors = Vec::new();
    if let Some(r) = refused {
        let mut beside = serde_json::Map::new();
        for line in &r.lines {
            let f = crate::domain::validation::FieldError::from_line(line);
            match f.field.as_str() {
                "article" | "reason" => {
                    beside.insert(f.field.clone(), json!(f.message));
                }
                _ => errors.push(f.message),
            }
        }
        if let Some(item) = review.iter_mut().flatten().find(|i| i["v"] == json!(r.v)) {
            item["refused"] = json!({"article": r.article, "reason": r.reason, "errors": beside});
        } else {
            errors.extend(beside.into_iter().filter_map(|(_, m)| m.as_str().map(str::to_string)));
        }
    }
    ctx.render(
        "exams/result",
        json!({
            "title": s.title, "attempt_id": a.id, "submitted_at": a.submitted_at.map(local), "auto": a.submit_kind == Some(SubmitKind::Auto),
            "score": r.score, "max_score": r.max_score, "passed": r.passed, "released": r.score_released, "pass_percent": s.pass_percent,
            "scaled": scaled.as_ref().and_then(|x| x.ability.map(|t| json!({"theta": format!("{t:+.2}"), "se": x.ability_se.map(|s| format!("{s:.2}")),
                "scale_rule": x.rule == PassRule::Scale, "cut": x.cut_theta.map(|c| format!("{c:+.2}"))}))),
            "review": review,
            "may_challenge": crate::domain::exam::may_challenge(now, a.submitted_at.is_some(), review_shown, s.closes_at, s.challenge_days),
            "challenge_days": s.challenge_days, "errors": errors,
        }),
    )
    .map(Either::Left)
}
