//! Settings a bureau owns (admins): the compliance targets (the 10 % / 20 % bands of officers
//! lacking 基本级, the new-officer window, the key 警种) and the remedial-training rules. Stored
//! in the settings table, audited, read on every use (no restart); and how many days finished
//! exports' files are kept.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::{get, post, put, State};
use serde_json::json;

use super::pages::{CsrfForm, PageCtx};
use super::with_db;
use crate::auth::Admin;
use crate::domain::compliance::Targets;
use crate::domain::jobs::ExportRetention;
use crate::domain::remedial::RemedialRules;
use crate::domain::validation::Problem;
use crate::error::AppResult;
use crate::services::{hr, jobs, remedial};
use crate::state::AppState;
use crate::web::api::{json_body, ErrorBody};

/// What the page shows in each field: the stored values, or what was typed when it was refused.
fn targets_fields(t: &Targets) -> serde_json::Value {
    json!({"new_officer_months": t.new_officer_months.to_string(), "lacking_basic_warn_percent": t.lacking_basic_warn_percent.to_string(),
           "lacking_basic_cap_percent": t.lacking_basic_cap_percent.to_string(), "key_police_types": t.key_police_types.join("、")})
}

fn rules_fields(r: &RemedialRules) -> serde_json::Value {
    json!({"enrol_on_fail": r.enrol_on_fail, "low_percent": r.low_percent.to_string(), "low_streak": r.low_streak.to_string(),
           "case_deduction": crate::domain::grading::format_points(r.case_deduction_centi), "deadline_days": r.deadline_days.to_string(),
           "mastery_percent": r.mastery_percent.to_string(), "mastery_answers": r.mastery_answers.to_string(),
           "weak_statutes": r.weak_statutes.to_string(), "exam_questions": r.exam_questions.to_string(),
           "exam_minutes": r.exam_minutes.to_string(), "exam_pass_percent": r.exam_pass_percent.to_string(),
           "exam_window_days": r.exam_window_days.to_string(), "max_exam_tries": r.max_exam_tries.to_string(),
           "remind_every_days": r.remind_every_days.to_string()})
}

fn retention_fields(r: &ExportRetention) -> serde_json::Value {
    json!({"export_retention_days": r.days.to_string()})
}

/// What was typed into one of the page's forms when it was refused (the others show what is stored).
enum Typed {
    Targets(serde_json::Value),
    Rules(serde_json::Value),
    Retention(serde_json::Value),
}

async fn page(ctx: &PageCtx<'_>, typed: Option<Typed>, errors: Vec<String>, saved: Option<&str>) -> AppResult<RawHtml<String>> {
    let (t, r, x) = with_db(ctx.state, |c| Ok((hr::targets(c)?, remedial::rules(c)?, jobs::export_retention(c)?))).await?;
    let (mut tg, mut rr, mut ex) = (targets_fields(&t), rules_fields(&r), retention_fields(&x));
    match typed {
        Some(Typed::Targets(v)) => tg = v,
        Some(Typed::Rules(v)) => rr = v,
        Some(Typed::Retention(v)) => ex = v,
        None => {}
    }
    ctx.render(
        "admin/settings",
        json!({"tg": tg, "r": rr, "ex": ex, "errors": errors, "saved": saved, "defaults_t": targets_fields(&Targets::default()),
               "defaults_r": rules_fields(&RemedialRules::default()), "defaults_x": retention_fields(&ExportRetention::default())}),
    )
}

#[get("/admin/settings")]
pub async fn settings_page(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    page(&ctx, None, vec![], None).await
}

/// Every field as typed: numbers are read here so a bad one is named at its field.
#[derive(FromForm)]
pub struct TargetsForm {
    new_officer_months: String,
    lacking_basic_warn_percent: String,
    lacking_basic_cap_percent: String,
    key_police_types: String,
}

/// Reads `v` as a whole number for field `name`, or notes the problem.
fn whole<T: std::str::FromStr + Default>(name: &'static str, v: &str, errs: &mut Vec<Problem>) -> T {
    v.trim().parse().unwrap_or_else(|_| {
        errs.push(Problem::with(
            name,
            "whole_number",
            vec![("got", format!("{:?}", v.trim()))],
            format!("a whole number, got {:?}", v.trim()),
        ));
        T::default()
    })
}

/// The reading problems and the rules' own, every field named once: a field that could not be
/// read is not also judged on the placeholder it was read as.
fn with_rule_errors(mut read: Vec<Problem>, rules: Vec<Problem>) -> Vec<Problem> {
    let unread: Vec<&'static str> = read.iter().map(|p| p.field).collect();
    read.extend(rules.into_iter().filter(|p| !unread.contains(&p.field)));
    read
}

/// Problems as the page shows them: `field: sentence`, the sentence from the catalogue in the
/// reader's language with the field's label (the field's name before it places it beside its
/// field; the list at the top shows the sentence).
fn said(ctx: &PageCtx<'_>, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            // the rule counts the deduction in hundredths; the form, in points
            let p = if p.field == "case_deduction_centi" {
                let params = p
                    .params
                    .iter()
                    .map(|(k, v)| (*k, v.parse::<i64>().map(crate::domain::grading::format_points).unwrap_or_else(|_| v.clone())))
                    .collect();
                Problem { field: "case_deduction", params, ..p.clone() }
            } else {
                p.clone()
            };
            format!("{}: {}", p.field, crate::render::say_problem(ctx.lang, &p, &format!("settings.{}", p.field)))
        })
        .collect()
}

#[post("/admin/settings/compliance", data = "<f>")]
pub async fn save_targets(ctx: PageCtx<'_>, a: Admin<'_>, f: CsrfForm<TargetsForm>) -> AppResult<RawHtml<String>> {
    let f = f.0;
    let mut errs = Vec::new();
    let t = Targets {
        new_officer_months: whole("new_officer_months", &f.new_officer_months, &mut errs),
        lacking_basic_warn_percent: whole("lacking_basic_warn_percent", &f.lacking_basic_warn_percent, &mut errs),
        lacking_basic_cap_percent: whole("lacking_basic_cap_percent", &f.lacking_basic_cap_percent, &mut errs),
        key_police_types: f
            .key_police_types
            .split(['、', ',', '，', ';', '；', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    };
    let typed = json!({"new_officer_months": f.new_officer_months, "lacking_basic_warn_percent": f.lacking_basic_warn_percent,
                       "lacking_basic_cap_percent": f.lacking_basic_cap_percent, "key_police_types": f.key_police_types});
    if t.key_police_types.len() > 30 {
        errs.push(Problem::with("key_police_types", "at_most", vec![("n", "30".into())], "at most 30"));
    }
    let errs = with_rule_errors(errs, t.problems());
    if !errs.is_empty() {
        return page(&ctx, Some(Typed::Targets(typed)), said(&ctx, &errs), None).await;
    }
    let (by, now) = (a.id(), ctx.state.clock.now());
    match with_db(ctx.state, move |c| hr::save_targets(c, &t, by, now)).await {
        Ok(()) => page(&ctx, None, vec![], Some("compliance")).await,
        Err(e) if e.is_invalid() => page(&ctx, Some(Typed::Targets(typed)), e.lines(), None).await,
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
pub struct RulesForm {
    enrol_on_fail: bool,
    low_percent: String,
    low_streak: String,
    case_deduction: String,
    deadline_days: String,
    mastery_percent: String,
    mastery_answers: String,
    weak_statutes: String,
    exam_questions: String,
    exam_minutes: String,
    exam_pass_percent: String,
    exam_window_days: String,
    max_exam_tries: String,
    remind_every_days: String,
}

#[post("/admin/settings/remedial", data = "<f>")]
pub async fn save_rules(ctx: PageCtx<'_>, a: Admin<'_>, f: CsrfForm<RulesForm>) -> AppResult<RawHtml<String>> {
    let f = f.0;
    let mut errs = Vec::new();
    let case_deduction_centi = match crate::domain::grading::parse_points(f.case_deduction.trim()) {
        Some(c) => c,
        None => {
            let got = format!("{:?}", f.case_deduction.trim());
            errs.push(Problem::with("case_deduction", "points", vec![("got", got.clone())], format!("points such as 3 or 2.5, got {got}")));
            0
        }
    };
    let r = RemedialRules {
        enrol_on_fail: f.enrol_on_fail,
        low_percent: whole("low_percent", &f.low_percent, &mut errs),
        low_streak: whole("low_streak", &f.low_streak, &mut errs),
        case_deduction_centi,
        deadline_days: whole("deadline_days", &f.deadline_days, &mut errs),
        mastery_percent: whole("mastery_percent", &f.mastery_percent, &mut errs),
        mastery_answers: whole("mastery_answers", &f.mastery_answers, &mut errs),
        weak_statutes: whole("weak_statutes", &f.weak_statutes, &mut errs),
        exam_questions: whole("exam_questions", &f.exam_questions, &mut errs),
        exam_minutes: whole("exam_minutes", &f.exam_minutes, &mut errs),
        exam_pass_percent: whole("exam_pass_percent", &f.exam_pass_percent, &mut errs),
        exam_window_days: whole("exam_window_days", &f.exam_window_days, &mut errs),
        max_exam_tries: whole("max_exam_tries", &f.max_exam_tries, &mut errs),
        remind_every_days: whole("remind_every_days", &f.remind_every_days, &mut errs),
    };
    let typed = json!({"enrol_on_fail": f.enrol_on_fail, "low_percent": f.low_percent, "low_streak": f.low_streak, "case_deduction": f.case_deduction,
                       "deadline_days": f.deadline_days, "mastery_percent": f.mastery_percent, "mastery_answers": f.mastery_answers,
                       "weak_statutes": f.weak_statutes, "exam_questions": f.exam_questions, "exam_minutes": f.exam_minutes,
                       "exam_pass_percent": f.exam_pass_percent, "exam_window_days": f.exam_window_days, "max_exam_tries": f.max_exam_tries,
                       "remind_every_days": f.remind_every_days});
    let mut errs = with_rule_errors(errs, r.problems());
    if errs.iter().any(|p| p.field == "case_deduction") {
        // not read: not also judged on the placeholder
        errs.retain(|p| p.field != "case_deduction_centi");
    }
    if !errs.is_empty() {
        return page(&ctx, Some(Typed::Rules(typed)), said(&ctx, &errs), None).await;
    }
    let (by, now) = (a.id(), ctx.state.clock.now());
    match with_db(ctx.state, move |c| remedial::save_rules(c, &r, by, now)).await {
        Ok(()) => page(&ctx, None, vec![], Some("remedial")).await,
        Err(e) if e.is_invalid() => page(&ctx, Some(Typed::Rules(typed)), e.lines(), None).await,
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
pub struct RetentionForm {
    export_retention_days: String,
}

/// How many days finished exports' files are kept (the dated sweep deletes them after).
#[post("/admin/settings/exports", data = "<f>")]
pub async fn save_exports(ctx: PageCtx<'_>, a: Admin<'_>, f: CsrfForm<RetentionForm>) -> AppResult<RawHtml<String>> {
    let f = f.0;
    let mut errs = Vec::new();
    let r = ExportRetention { days: whole("export_retention_days", &f.export_retention_days, &mut errs) };
    let typed = json!({"export_retention_days": f.export_retention_days});
    let errs = with_rule_errors(errs, r.problems());
    if !errs.is_empty() {
        return page(&ctx, Some(Typed::Retention(typed)), said(&ctx, &errs), None).await;
    }
    let (by, now) = (a.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| jobs::save_export_retention(c, &r, by, now)).await?;
    page(&ctx, None, vec![], Some("exports")).await
}

// ---- the same settings as JSON (admins) ----

/// The compliance targets in force (admins).
#[utoipa::path(get, path = "/api/v1/settings/compliance-targets", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Targets), (status = 403, body = ErrorBody)))]
#[get("/api/v1/settings/compliance-targets")]
pub async fn api_targets(state: &State<AppState>, _a: Admin<'_>) -> AppResult<Json<Targets>> {
    Ok(Json(with_db(state, |c| hr::targets(c)).await?))
}

/// Sets the compliance targets (admins; audited; in force at once). 422 names each field.
#[utoipa::path(put, path = "/api/v1/settings/compliance-targets", tag = "settings", security(("bearer" = [])), request_body = Targets,
    responses((status = 200, body = Targets), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/api/v1/settings/compliance-targets", data = "<body>")]
pub async fn api_put_targets(
    state: &State<AppState>,
    a: Admin<'_>,
    body: Result<Json<Targets>, rocket::serde::json::Error<'_>>,
) -> AppResult<Json<Targets>> {
    let t = json_body(body)?;
    let (by, now) = (a.id(), state.clock.now());
    Ok(Json(
        with_db(state, move |c| {
            hr::save_targets(c, &t, by, now)?;
            hr::targets(c)
        })
        .await?,
    ))
}

/// The remedial-training rules in force (admins).
#[utoipa::path(get, path = "/api/v1/settings/remedial-rules", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = RemedialRules), (status = 403, body = ErrorBody)))]
#[get("/api/v1/settings/remedial-rules")]
pub async fn api_rules(state: &State<AppState>, _a: Admin<'_>) -> AppResult<Json<RemedialRules>> {
    Ok(Json(with_db(state, |c| remedial::rules(c)).await?))
}

/// Sets the remedial-training rules (admins; audited; in force at once). 422 names each field.
#[utoipa::path(put, path = "/api/v1/settings/remedial-rules", tag = "settings", security(("bearer" = [])), request_body = RemedialRules,
    responses((status = 200, body = RemedialRules), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/api/v1/settings/remedial-rules", data = "<body>")]
pub async fn api_put_rules(
    state: &State<AppState>,
    a: Admin<'_>,
    body: Result<Json<RemedialRules>, rocket::serde::json::Error<'_>>,
) -> AppResult<Json<RemedialRules>> {
    let r = json_body(body)?;
    let (by, now) = (a.id(), state.clock.now());
    Ok(Json(
        with_db(state, move |c| {
            remedial::save_rules(c, &r, by, now)?;
            remedial::rules(c)
        })
        .await?,
    ))
}
