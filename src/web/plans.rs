//! Trainers' recurring exam plans (双月考): list and create. The server creates each
//! occurrence's sitting itself (see `services::plans::run_due`).

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::with_db;
use crate::auth::Trainer;
use crate::domain::exam::{Eligibility, Release};
use crate::domain::grading::MultiRule;
use crate::domain::ids::{BlueprintId, UnitId};
use crate::domain::plans::Schedule;
use crate::domain::validation::Problem;
use crate::error::AppResult;
use crate::services::plans::{self, PlanSpec};

#[derive(FromForm, Default, Clone)]
pub struct PlanForm {
    name: String,
    blueprint_id: Option<BlueprintId>,
    first_date: String,
    every_months: Option<u32>,
    opens_at: String,
    window_minutes: Option<i64>,
    lead_days: Option<i64>,
    duration_minutes: Option<i32>,
    pass_percent: Option<i32>,
    police_types: Vec<String>,
    units: Vec<UnitId>,
}

async fn page(ctx: &PageCtx<'_>, form: &PlanForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let (list, bps, units) =
        with_db(ctx.state, |c| Ok((plans::list(c)?, crate::services::exams::blueprints(c)?, crate::services::people::units(c)?))).await?;
    let names: std::collections::HashMap<BlueprintId, String> = bps.iter().map(|b| (b.id, b.name.clone())).collect();
    let plans: Vec<Value> = list
        .iter()
        .map(|p| {
            let s: Option<Schedule> = serde_json::from_str(&p.schedule).ok();
            let e: Eligibility = serde_json::from_str(&p.eligibility).unwrap_or_default();
            json!({"id": p.id, "name": p.name, "blueprint": names.get(&p.blueprint_id), "active": p.active,
                   "every": s.as_ref().map(|s| s.every_months), "first": s.as_ref().map(|s| s.first_date.to_string()),
                   "opens": s.as_ref().map(|s| s.opens_at.format("%H:%M").to_string()), "lead": s.as_ref().map(|s| s.lead_days),
                   "next": s.as_ref().and_then(|s| s.next_on_or_after(crate::timefmt::bureau_date(ctx.state.clock.now()))).map(|d| d.to_string()),
                   "last": p.last_created.map(|d| d.to_string()), "who": who(&e, &units)})
        })
        .collect();
    ctx.render(
        "sittings/plans",
        json!({
            "plans": plans, "errors": errors,
            "f": {"name": form.name, "first_date": form.first_date, "every_months": form.every_months.unwrap_or(2), "opens_at": if form.opens_at.is_empty() { "09:00".to_string() } else { form.opens_at.clone() },
                  "window_minutes": form.window_minutes.unwrap_or(180), "lead_days": form.lead_days.unwrap_or(14), "duration_minutes": form.duration_minutes.unwrap_or(60),
                  "pass_percent": form.pass_percent.unwrap_or(60)},
            "blueprints": bps.iter().map(|b| json!({"id": b.id, "name": b.name, "sel": Some(b.id) == form.blueprint_id})).collect::<Vec<_>>(),
            "units": units.iter().map(|u| json!({"id": u.id, "name": u.name, "sel": form.units.contains(&u.id)})).collect::<Vec<_>>(),
            "police_types": (["派出所", "刑侦", "治安", "交警", "经侦", "禁毒", "法制", "巡警"]).iter().map(|p| json!({"v": p, "sel": form.police_types.iter().any(|x| x == p)})).collect::<Vec<_>>(),
        }),
    )
}

#[get("/plans")]
pub async fn list(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    page(&ctx, &<PlanForm as Default>::default(), vec![]).await
}

#[post("/plans", data = "<f>")]
pub async fn create(ctx: PageCtx<'_>, t: Trainer<'_>, f: CsrfForm<PlanForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let f = f.0;
    let mut errs = Vec::new();
    let first = chrono::NaiveDate::parse_from_str(f.first_date.trim(), "%Y-%m-%d")
        .map_err(|_| errs.push(Problem::plain("first_date", "plan.first_date", "the date of the first exam, YYYY-MM-DD")))
        .ok();
    let opens = chrono::NaiveTime::parse_from_str(f.opens_at.trim(), "%H:%M")
        .map_err(|_| errs.push(Problem::plain("opens_at", "plan.opens_at", "the opening time, HH:MM")))
        .ok();
    if f.blueprint_id.is_none() {
        errs.push(Problem::plain("blueprint_id", "sitting.choose_blueprint", "choose a blueprint"));
    }
    if !errs.is_empty() {
        return page(&ctx, &f, ctx.problem_lines(&errs)).await.map(Either::Left);
    }
    let spec = PlanSpec {
        name: f.name.clone(),
        blueprint_id: f.blueprint_id.unwrap_or_default(),
        eligibility: Eligibility { units: f.units.clone(), police_types: f.police_types.clone(), badges: vec![] },
        schedule: Schedule {
            first_date: first.expect("checked"),
            every_months: f.every_months.unwrap_or(2),
            opens_at: opens.expect("checked"),
            window_minutes: f.window_minutes.unwrap_or(180),
            lead_days: f.lead_days.unwrap_or(14),
        },
        duration_minutes: f.duration_minutes.unwrap_or(60),
        pass_percent: f.pass_percent.unwrap_or(60),
        multi_rule: MultiRule::Partial,
        score_release: Release::OnSubmit,
        answer_release: Release::AfterClose,
    };
    let (by, now) = (t.user.id, ctx.state.clock.now());
    match with_db(ctx.state, move |c| plans::create(c, &spec, by, now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to("/plans"))),
        Err(e) if e.is_invalid() => page(&ctx, &f, ctx.form_lines(&e)).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

/// Who a plan's sittings are for, as the list shows it: its units, 警种 and named officers
/// (None: everyone). A plan for one unit only is that unit, not everyone.
fn who(e: &Eligibility, units: &[crate::services::people::Unit]) -> Option<String> {
    let unit_names: Vec<&str> = e.units.iter().filter_map(|id| units.iter().find(|u| u.id == *id).map(|u| u.name.as_str())).collect();
    let parts: Vec<String> =
        [unit_names.join("、"), e.police_types.join("、"), e.badges.join("、")].into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}
