//! Challenges (复核): a candidate disputes a question after the sitting, citing an article; a
//! trainer upholds (accepting another answer, or voiding the question) or rejects it with a
//! reason. Upholding regrades every attempt of the sitting that had the question, and every
//! changed score is written to the audit log and told to the candidate.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::db::models::challenge::{self as ch_db, Challenge, NewChallenge};
use crate::db::models::{audit, exam as exam_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::QuestionKind;
use crate::domain::challenge::{ChallengeStatus, Resolution};
use crate::domain::exam::may_challenge;
use crate::domain::grading::{self, format_points};
use crate::domain::ids::{AttemptId, ChallengeId, SittingId, UserId, VersionId};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::cache::VersionCache;
use crate::services::exams;

/// Files a challenge against one question of the candidate's own submitted attempt.
pub fn file(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempt_id: AttemptId,
    user_id: UserId,
    version_id: VersionId,
    article: &str,
    reason: &str,
    now: Ts,
) -> AppResult<ChallengeId> {
    let a = exams::own_attempt(conn, attempt_id, user_id)?;
    let s = crate::services::exams::sitting_of(conn, a.sitting_id)?;
    if !may_challenge(now, a.submitted_at.is_some(), exams::answers_released(&a, &s, now), s.closes_at, s.challenge_days) {
        return Err(AppError::problem(
            ErrorCode::ChallengeClosed,
            Problem::plain(
                "",
                "challenge.closed",
                "challenges for this exam are not open (they open when the answers are released and close some days after the exam)",
            ),
        ));
    }
    if !exams::paper_of(&a)?.items.iter().any(|i| i.v == version_id) {
        return Err(AppError::problem(ErrorCode::Invalid, Problem::plain("question", "challenge.not_on_paper", "not on your paper")));
    }
    let article = article.trim();
    let reason = reason.trim();
    let mut errs = Vec::new();
    if article.is_empty() || article.chars().count() > 60 {
        errs.push(Problem::plain("article", "challenge.article", "name the article you rely on (at most 60 characters), e.g. 刑法第20条"));
    }
    if reason.is_empty() || reason.chars().count() > 2000 {
        errs.push(Problem::plain("reason", "challenge.reason", "say why the key is wrong (at most 2000 characters)"));
    }
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    let code = cache.get_many(conn, &[version_id])?.get(&version_id).map(|v| v.question_code.clone()).unwrap_or_default();
    write_tx(conn, |c| {
        let new = NewChallenge { attempt_id, sitting_id: s.id, user_id, question_version_id: version_id, article, reason };
        let id = ch_db::insert(c, &new, now)?.ok_or_else(|| {
            AppError::problem(
                ErrorCode::AlreadyChallenged,
                Problem::plain("", "challenge.already_challenged", "you have already challenged this question"),
            )
        })?;
        audit::append(
            c,
            Some(user_id),
            "challenge.file",
            &format!("challenge:{id}"),
            &json!({"attempt": attempt_id, "question": code, "article": article}),
            now,
        )?;
        Ok(id)
    })
}

fn no_such_challenge() -> AppError {
    AppError::problem(ErrorCode::NotFound, Problem::plain("", "challenge.not_found", "no such challenge"))
}

fn already_decided() -> AppError {
    AppError::problem(ErrorCode::AlreadyDecided, Problem::plain("", "challenge.already_decided", "this challenge has already been decided"))
}

/// A trainer's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Reject,
    /// Another answer (a set of option ids) also scores.
    Accept(String),
    /// The question is void: everyone who had it gets its points.
    Void,
}

/// What deciding did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DecisionReport {
    /// Challenges decided (the one named and every other open one on the same question).
    pub decided: usize,
    pub regraded: usize,
    pub scores_changed: usize,
    pub pass_changed: usize,
}

/// Decides a challenge and every other open challenge on the same question of the same sitting.
pub fn decide(
    conn: &mut DbConn,
    cache: &VersionCache,
    challenge_id: ChallengeId,
    trainer: UserId,
    decision: &Decision,
    reason: &str,
    now: Ts,
) -> AppResult<DecisionReport> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain(
                "reason",
                "challenge.decision_reason",
                "give the reason for the decision (at most 2000 characters); candidates are told it",
            ),
        ));
    }
    let first = ch_db::find(conn, challenge_id)?.ok_or_else(no_such_challenge)?;
    if first.status != ChallengeStatus::Open {
        return Err(already_decided());
    }
    let v = cache
        .get_many(conn, &[first.question_version_id])?
        .remove(&first.question_version_id)
        .ok_or_else(|| AppError::internal("version missing"))?;
    let accepted = match decision {
        Decision::Accept(ans) => {
            let ans = grading::canonical(&ans.to_ascii_uppercase().replace([',', ' '], ""));
            let ids = v.option_ids();
            let valid =
                !ans.is_empty() && ans.chars().all(|c| ids.contains(&c)) && (v.kind == QuestionKind::Multiple || ans.chars().count() == 1);
            if !valid {
                let options = ids.iter().collect::<String>();
                return Err(AppError::problem(
                    ErrorCode::Invalid,
                    Problem::with(
                        "answer",
                        "challenge.answer_impossible",
                        vec![("answer", ans.clone()), ("kind", format!("@qkind.{}", v.kind.as_str())), ("options", options.clone())],
                        format!("{ans:?} is not a possible answer to this {} question (options {options})", v.kind),
                    ),
                ));
            }
            if ans == grading::canonical(&v.key) {
                return Err(AppError::problem(
                    ErrorCode::Invalid,
                    Problem::plain("answer", "challenge.answer_is_key", "that is already the key"),
                ));
            }
            Some(ans)
        }
        _ => None,
    };
    write_tx(conn, |c| {
        let open = ch_db::open_on(c, first.sitting_id, first.question_version_id)?;
        let (new_status, resolution) = match decision {
            Decision::Reject => (ChallengeStatus::Rejected, None),
            Decision::Accept(_) => (ChallengeStatus::Upheld, Some(Resolution::Accept(accepted.clone().unwrap_or_default()))),
            Decision::Void => (ChallengeStatus::Upheld, Some(Resolution::Void)),
        };
        let mut report = DecisionReport::default();
        for ch in &open {
            if ch_db::decide(c, ch.id, new_status, resolution.as_ref(), trainer, reason, now)? {
                report.decided += 1;
                audit::append(
                    c,
                    Some(trainer),
                    "challenge.decide",
                    &format!("challenge:{}", ch.id),
                    &json!({"status": new_status, "resolution": resolution, "reason": reason}),
                    now,
                )?;
                let verdict = if new_status == ChallengeStatus::Upheld { "challenge_status.upheld" } else { "challenge_status.rejected" };
                let title = exam_db::find_sitting(c, ch.sitting_id)?.map(|s| s.title).unwrap_or_default();
                crate::services::mail::notify(
                    c,
                    ch.user_id,
                    "challenge_decided",
                    json!({"title": title, "question": v.question_code, "decision": verdict, "reason": reason, "url": format!("/attempts/{}/result", ch.attempt_id)}),
                    now,
                )?;
            }
        }
        if report.decided == 0 {
            return Err(already_decided());
        }
        if new_status == ChallengeStatus::Upheld {
            let mut adj = ch_db::adjustments_of(c, first.sitting_id)?.remove(&first.question_version_id).unwrap_or_default();
            match &accepted {
                Some(a) if !adj.also_accepted.contains(a) => adj.also_accepted.push(a.clone()),
                _ => {}
            }
            adj.voided |= *decision == Decision::Void;
            ch_db::set_adjustment(c, first.sitting_id, first.question_version_id, &adj, first.id, now)?;
            regrade(
                c,
                cache,
                first.sitting_id,
                Some(first.question_version_id),
                Some(trainer),
                &format!("challenge:{}", first.id),
                now,
                &mut report,
            )?;
        }
        Ok(report)
    })
}

/// Regrades the submitted attempts of a sitting (only those that had `version` when given)
/// under the sitting's current key adjustments. Call inside a write transaction.
#[allow(clippy::too_many_arguments)]
pub fn regrade(
    c: &mut DbConn,
    cache: &VersionCache,
    sitting_id: SittingId,
    version: Option<VersionId>,
    actor: Option<UserId>,
    because: &str,
    now: Ts,
    report: &mut DecisionReport,
) -> AppResult<()> {
    let s = crate::services::exams::sitting_of(c, sitting_id)?;
    let rule = s.multi_rule;
    let adjustments = ch_db::adjustments_of(c, sitting_id)?;
    for (a, _, _, _) in exam_db::attempts_of_sitting(c, sitting_id)? {
        if a.submitted_at.is_none() {
            continue;
        }
        let paper = exams::paper_of(&a)?;
        if version.is_some_and(|v| !paper.items.iter().any(|i| i.v == v)) {
            continue;
        }
        let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
        let versions = cache.get_many(c, &ids)?;
        let mut g = exams::grade_as_saved(c, a.id, &paper, &versions, &adjustments, rule, s.pass_percent)?;
        // the sitting's rule, with the difficulties the attempt was first graded with
        g.passed = crate::services::scale::decide_and_store(c, &s, a.id, &paper, &g, now)?;
        report.regraded += 1;
        let old = a.score_centi.unwrap_or(0);
        if g.score_centi == old && Some(g.passed) == a.passed {
            continue;
        }
        let scores = g.item_scores.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        exam_db::store_grade(c, a.id, g.score_centi, g.max_centi, g.passed, &scores)?;
        report.scores_changed += 1;
        if Some(g.passed) != a.passed {
            report.pass_changed += 1;
            if g.passed {
                // a regrade that turns a fail into a pass earns the certificate the pass would have
                let graded = exam_db::find_attempt(c, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
                crate::services::certification::issue_for_attempt(c, &graded, &s, now)?;
            }
        }
        audit::append(
            c,
            actor,
            "attempt.regrade",
            &format!("attempt:{}", a.id),
            &json!({"sitting": sitting_id, "user": a.user_id, "because": because,
                    "score_centi": {"from": old, "to": g.score_centi}, "passed": {"from": a.passed, "to": g.passed}}),
            now,
        )?;
        let regraded = exam_db::find_attempt(c, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
        crate::services::training::correct_regraded(c, &regraded, because, now)?;
        // the candidate hears of it in the site and by e-mail; the score only where the
        // sitting's release policy shows it to them
        let released = exams::result_for_candidate(&regraded, &s, None, now).score_released;
        crate::services::mail::notify(
            c,
            a.user_id,
            "regraded",
            json!({"title": s.title, "released": released, "old": format_points(old), "new": format_points(g.score_centi),
                   "max": format_points(g.max_centi), "passed": g.passed, "url": format!("/attempts/{}/result", a.id)}),
            now,
        )?;
    }
    Ok(())
}

/// A challenge as the trainers' list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ChallengeView {
    #[serde(flatten)]
    pub challenge: Challenge,
    pub sitting_title: String,
    pub candidate: String,
    pub question_code: String,
}

pub fn list(conn: &mut DbConn, cache: &VersionCache, open_only: bool) -> AppResult<Vec<ChallengeView>> {
    let rows = ch_db::list(conn, open_only)?;
    let ids: Vec<VersionId> = rows.iter().map(|r| r.question_version_id).collect();
    let versions = cache.get_many(conn, &ids)?;
    let mut sittings: HashMap<SittingId, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(e) = sittings.entry(r.sitting_id) {
            e.insert(exam_db::find_sitting(conn, r.sitting_id)?.map(|s| s.title).unwrap_or_default());
        }
        let u = crate::db::models::org::find(conn, r.user_id)?;
        out.push(ChallengeView {
            sitting_title: sittings[&r.sitting_id].clone(),
            candidate: u.map(|u| format!("{} {}", u.badge, u.name)).unwrap_or_default(),
            question_code: versions.get(&r.question_version_id).map(|v| v.question_code.clone()).unwrap_or_default(),
            challenge: r,
        });
    }
    Ok(out)
}

/// The challenges filed on an attempt, by question version.
pub fn filed_on(conn: &mut DbConn, attempt_id: AttemptId) -> AppResult<HashMap<VersionId, Challenge>> {
    Ok(ch_db::of_attempt(conn, attempt_id)?.into_iter().map(|ch| (ch.question_version_id, ch)).collect())
}

/// What a challenge's page shows besides the question: the challenge, its sitting, the choices
/// the candidate saved and how many challenges are open on the same question in the sitting.
pub struct ChallengeDetail {
    pub challenge: Challenge,
    pub sitting: exam_db::Sitting,
    pub chosen: String,
    pub open_on_question: usize,
}

pub fn detail(conn: &mut DbConn, id: ChallengeId) -> AppResult<ChallengeDetail> {
    let challenge = ch_db::find(conn, id)?.ok_or_else(no_such_challenge)?;
    let sitting = exams::sitting_of(conn, challenge.sitting_id)?;
    let chosen = exam_db::find_response(conn, challenge.attempt_id, challenge.question_version_id)?.map(|r| r.choices).unwrap_or_default();
    let open_on_question = ch_db::open_on(conn, challenge.sitting_id, challenge.question_version_id)?.len();
    Ok(ChallengeDetail { challenge, sitting, chosen, open_on_question })
}

/// Whether a challenge is still open.
pub fn is_open(ch: &Challenge) -> bool {
    ch.status == ChallengeStatus::Open
}
