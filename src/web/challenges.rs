//! Challenges (复核): candidates file them from their reviewed result; trainers decide them.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, with_db};
use crate::auth::{Officer, Trainer};
use crate::domain::bank::{QuestionKind, OPTION_LETTERS};
use crate::domain::challenge::Resolution;
use crate::domain::ids::{AttemptId, ChallengeId, VersionId};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::challenges::{self, Decision};

#[derive(FromForm)]
pub struct ChallengeForm {
    v: VersionId,
    article: String,
    reason: String,
}

/// Files a challenge; a refused one shows the result page again with the refusal's status, the
/// question's form open with what was typed and each problem beside its field.
#[post("/attempts/<attempt_id>/challenges", data = "<form>")]
pub async fn file(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    attempt_id: AttemptId,
    form: CsrfForm<ChallengeForm>,
) -> AppResult<rocket::Either<(rocket::http::Status, RawHtml<String>), Redirect>> {
    let ChallengeForm { v, article, reason } = form.0;
    let (uid, now, cache) = (o.user.id, ctx.state.clock.now(), ctx.state.versions.clone());
    let (a, r) = (article.clone(), reason.clone());
    match with_db(ctx.state, move |c| challenges::file(c, &cache, attempt_id, uid, v, &a, &r, now)).await {
        Ok(_) => Ok(rocket::Either::Right(Redirect::to(format!("/attempts/{attempt_id}/result#challenges")))),
        Err(e) if e.is_invalid() || e.is_conflict() => {
            let refused = super::exams::ChallengeRefused { v, article, reason, lines: ctx.form_lines(&e) };
            Ok(match super::exams::result_page(&ctx, uid, attempt_id, Some(refused)).await? {
                rocket::Either::Left(page) => rocket::Either::Left((e.status(), page)),
                rocket::Either::Right(to) => rocket::Either::Right(to),
            })
        }
        Err(e) => Err(e),
    }
}

#[get("/challenges?<all>")]
pub async fn list(
    ctx: PageCtx<'_>,
    _t: Trainer<'_>,
    _free: super::guards::OutsideExam<'_>,
    all: Option<bool>,
) -> AppResult<RawHtml<String>> {
    let all = all.unwrap_or(false);
    let cache = ctx.state.versions.clone();
    let rows = with_db(ctx.state, move |c| challenges::list(c, &cache, !all)).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.challenge.id, "sitting": r.sitting_title, "candidate": r.candidate, "code": r.question_code,
                   "article": r.challenge.article, "status": r.challenge.status, "created_at": local(r.challenge.created_at)})
        })
        .collect();
    ctx.render("challenges/list", json!({ "rows": rows, "all": all }))
}

/// A challenge's page; `typed` is the decision form as sent when it is shown again with its problems.
async fn detail_page(ctx: &PageCtx<'_>, id: ChallengeId, errors: Vec<String>, typed: Option<&DecideForm>) -> AppResult<RawHtml<String>> {
    let cache = ctx.state.versions.clone();
    let (d, v, names) = with_db(ctx.state, move |c| {
        let d = challenges::detail(c, id)?;
        let v = cache
            .get_many(c, &[d.challenge.question_version_id])?
            .remove(&d.challenge.question_version_id)
            .ok_or_else(|| AppError::internal("version missing"))?;
        Ok((d, v, crate::services::questions::statute_names(c)?))
    })
    .await?;
    let challenges::ChallengeDetail { challenge: ch, sitting: s, chosen, open_on_question: others } = d;
    let options: Vec<Value> = if v.kind == QuestionKind::TrueFalse {
        vec![
            json!({"id": "T", "text": crate::render::say(ctx.lang, "tf.T", &json!({})), "correct": v.key == "T"}),
            json!({"id": "F", "text": crate::render::say(ctx.lang, "tf.F", &json!({})), "correct": v.key == "F"}),
        ]
    } else {
        OPTION_LETTERS
            .chars()
            .zip(v.options.iter())
            .map(|(id, t)| json!({"id": id.to_string(), "text": t, "correct": v.key.contains(id)}))
            .collect()
    };
    let statute = names.name(&v.statute);
    ctx.render(
        "challenges/show",
        json!({
            "ch": {"id": ch.id, "article": ch.article, "reason": ch.reason, "status": ch.status, "open": challenges::is_open(&ch),
                   "accepted": ch.resolution.as_ref().and_then(Resolution::accepted), "void": ch.resolution == Some(Resolution::Void),
                   "decision_reason": ch.decision_reason, "decided_at": ch.decided_at.map(local),
                   "created_at": local(ch.created_at), "chosen": chosen},
            "sitting": s.title, "q": {"code": v.question_code, "stem": v.stem, "options": options, "key": v.key,
                   "explanation": v.explanation, "statute": statute, "articles": v.articles.join("、"), "multiple": v.kind == QuestionKind::Multiple},
            "others": others.saturating_sub(1), "errors": errors,
            "typed": {"decision": typed.map_or("reject", |f| f.decision.as_str()), "answer": typed.map(|f| f.answer.as_str()), "reason": typed.map(|f| f.reason.as_str())},
        }),
    )
}

#[get("/challenges/<id>")]
pub async fn show(ctx: PageCtx<'_>, _t: Trainer<'_>, _free: super::guards::OutsideExam<'_>, id: ChallengeId) -> AppResult<RawHtml<String>> {
    detail_page(&ctx, id, vec![], None).await
}

#[derive(FromForm)]
pub struct DecideForm {
    decision: String,
    answer: String,
    reason: String,
}

#[post("/challenges/<id>", data = "<form>")]
pub async fn decide(
    ctx: PageCtx<'_>,
    t: Trainer<'_>,
    id: ChallengeId,
    form: CsrfForm<DecideForm>,
) -> AppResult<rocket::Either<RawHtml<String>, Redirect>> {
    let f = form.0;
    let decision = match f.decision.as_str() {
        "reject" => Decision::Reject,
        "accept" => Decision::Accept(f.answer.clone()),
        "void" => Decision::Void,
        _ => {
            let p = Problem::plain("decision", "challenge.decision", "choose reject, accept another answer, or void");
            return detail_page(&ctx, id, ctx.problem_lines(&[p]), Some(&f)).await.map(rocket::Either::Left);
        }
    };
    let (by, now, cache) = (t.user.id, ctx.state.clock.now(), ctx.state.versions.clone());
    let reason = f.reason.clone();
    match with_db(ctx.state, move |c| challenges::decide(c, &cache, id, by, &decision, &reason, now)).await {
        Ok(_) => Ok(rocket::Either::Right(Redirect::to(format!("/challenges/{id}")))),
        Err(e) if e.is_invalid() => detail_page(&ctx, id, ctx.form_lines(&e), Some(&f)).await.map(rocket::Either::Left),
        Err(e) => Err(e),
    }
}
