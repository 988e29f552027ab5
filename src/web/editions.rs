//! Trainers' statute editions: register a new edition and mark what it changed; the amendment
//! worklist of questions that edition suspended.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, with_db};
use crate::auth::Trainer;
use crate::domain::editions::{parse_article_list, NewEdition};
use crate::error::AppResult;
use crate::services::bank_review;

#[derive(FromForm, Default, Clone)]
pub struct EditionForm {
    statute: String,
    code: String,
    title: String,
    in_force: String,
    replaces: String,
    changed_articles: String,
    changed_all: bool,
}

async fn page(ctx: &PageCtx<'_>, form: &EditionForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let reg = with_db(ctx.state, |c| crate::services::questions::registry(c)).await?;
    let statutes: Vec<Value> = reg
        .statutes
        .iter()
        .map(|s| {
            json!({
                "code": s.code, "name": s.name, "short": s.short, "sel": s.code == form.statute,
                "editions": s.editions.iter().map(|e| json!({
                    "code": e.code, "title": e.title, "in_force": e.in_force.to_string(), "replaces": e.replaces,
                    "changed": if e.changed_all { None } else { Some(e.changed_articles.join("、")) }, "changed_all": e.changed_all,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    ctx.render(
        "bank/editions",
        json!({
            "statutes": statutes, "errors": errors,
            "form": { "code": form.code, "title": form.title, "in_force": form.in_force, "replaces": form.replaces,
                      "changed_articles": form.changed_articles, "changed_all": form.changed_all },
        }),
    )
}

#[get("/bank/editions")]
pub async fn list(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    page(&ctx, &<EditionForm as Default>::default(), vec![]).await
}

#[post("/bank/editions", data = "<form>")]
pub async fn register(ctx: PageCtx<'_>, t: Trainer<'_>, form: CsrfForm<EditionForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let Ok(in_force) = chrono::NaiveDate::parse_from_str(form.in_force.trim(), "%Y-%m-%d") else {
        return page(&ctx, &form, vec!["in_force: give the date it comes into force, YYYY-MM-DD".into()]).await.map(Either::Left);
    };
    let e = NewEdition {
        code: form.code.trim().to_string(),
        title: form.title.trim().to_string(),
        in_force,
        replaces: Some(form.replaces.trim().to_string()).filter(|s| !s.is_empty()),
        changed_articles: parse_article_list(&form.changed_articles),
        changed_all: form.changed_all,
    };
    let (statute, by, now) = (form.statute.clone(), t.user.id, ctx.state.clock.now());
    match with_db(ctx.state, move |c| bank_review::register_edition(c, &statute, &e, by, now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to("/bank/worklist"))),
        Err(e) if e.is_invalid() => page(&ctx, &form, e.lines()).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

#[get("/bank/worklist")]
pub async fn worklist(ctx: PageCtx<'_>, _t: Trainer<'_>, _free: super::guards::OutsideExam<'_>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let items = with_db(ctx.state, move |c| bank_review::worklist(c, crate::timefmt::bureau_date(now))).await?;
    let effective = items.iter().filter(|i| i.out_of_papers()).count();
    let rows: Vec<Value> = items
        .iter()
        .map(|i| {
            let s = i.suspension.as_ref();
            json!({
                "id": i.question_id, "code": i.code, "status": i.status, "statute": i.statute, "edition": i.edition,
                "articles": i.articles.join("、"), "stem": i.stem, "suspended": s.is_some(), "by": s.map(|s| s.by_title.clone()),
                "in_force": s.map(|s| s.in_force.to_string()), "effective": s.is_some_and(|s| s.effective), "pending": i.rewrite_pending,
                "case": i.case_hold.as_ref().map(|h| json!({"code": h.code, "missing": h.missing.iter().map(|(code, why)| json!({"code": code, "why": why})).collect::<Vec<_>>()})),
            })
        })
        .collect();
    let mut cases: Vec<&bank_review::CaseHold> = items.iter().filter_map(|i| i.case_hold.as_ref()).collect();
    cases.sort_by(|a, b| a.code.cmp(&b.code));
    cases.dedup_by_key(|h| h.case_id);
    let cases: Vec<Value> = cases
        .iter()
        .map(|h| json!({"code": h.code, "title": h.title, "missing": h.missing.iter().map(|(code, why)| json!({"code": code, "why": why})).collect::<Vec<_>>()}))
        .collect();
    ctx.render("bank/worklist", json!({ "rows": rows, "total": rows.len(), "effective": effective, "today": local(now), "cases": cases }))
}
