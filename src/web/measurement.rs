//! Trainers' measurement pages (the item map with each item's flags, one item's curve, the DIF
//! table) and standard setting (modified Angoff studies: open, rate in two rounds, close; an
//! admin adopts the cut).

use std::collections::HashMap;

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::guards::OutsideExam;
use super::pages::{CsrfForm, Empty, PageCtx};
use super::{local, with_db};
use crate::auth::{Admin, StandardsReader, Trainer};
use crate::domain::ids::{BlueprintId, StudyId, VersionId};
use crate::domain::measurement::angoff::StudyStatus;
use crate::domain::measurement::dif::{EtsCategory, Group};
use crate::error::AppResult;
use crate::services::measurement::{self, DifBy};
use crate::services::standards;

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

fn opt2(x: Option<f64>) -> Option<String> {
    x.map(f2)
}

fn item_json(i: &measurement::MapItem) -> Value {
    json!({"version_id": i.version_id, "question_id": i.question_id, "code": i.code, "difficulty": format!("{:+.2}", i.difficulty),
           "se": f2(i.se), "n": i.n, "infit": opt2(i.infit), "outfit": opt2(i.outfit), "flags": i.flags, "flagged": !i.flags.is_empty()})
}

/// The item map: abilities and difficulties on one logit scale, then every calibrated item
/// with its flags, flagged ones first.
#[get("/measurement")]
pub async fn item_map(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    let map = with_db(ctx.state, |c| measurement::item_map(c)).await?;
    let t = |k: &str| ctx.state.renderer.text(ctx.lang, k, &json!({}));
    let difficulties: Vec<f64> = map.items.iter().map(|i| i.difficulty).collect();
    let cuts: Vec<(String, f64)> = map.cuts.iter().map(|(l, c)| (t(&format!("level.{l}")), *c)).collect();
    let svg = (!map.items.is_empty()).then(|| {
        super::charts::item_map(
            &map.abilities,
            &difficulties,
            &cuts,
            (&t("measure.abilities"), &t("measure.difficulties"), &t("measure.logits")),
        )
    });
    let mut items: Vec<Value> = map.items.iter().map(item_json).collect();
    items.sort_by_key(|i| !i["flagged"].as_bool().unwrap_or(false));
    let flagged = map.items.iter().filter(|i| !i.flags.is_empty()).count();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    ctx.render(
        "measurement/map",
        json!({"svg": svg, "items": items, "n_items": map.items.len(), "n_persons": map.abilities.len(), "flagged": flagged,
               "mean_ability": mean(&map.abilities).map(|x| format!("{x:+.2}")), "mean_difficulty": mean(&difficulties).map(|x| format!("{x:+.2}")),
               "cuts": map.cuts.iter().map(|(l, c)| json!({"level": l, "theta": format!("{c:+.2}")})).collect::<Vec<_>>()}),
    )
}

/// One item's Rasch curve against the observed proportion right by ability group.
#[get("/measurement/items/<version_id>")]
pub async fn item_curve(ctx: PageCtx<'_>, _t: Trainer<'_>, version_id: VersionId) -> AppResult<RawHtml<String>> {
    let curve = with_db(ctx.state, move |c| measurement::item_curve(c, version_id, 6)).await?;
    let curve = curve.ok_or_else(|| crate::error::AppError::not_found(format!("question version {version_id} has no calibration yet")))?;
    let t = |k: &str| ctx.state.renderer.text(ctx.lang, k, &json!({}));
    let pts: Vec<(f64, f64, usize)> = curve.groups.iter().map(|g| (g.theta, g.observed, g.n)).collect();
    let svg = super::charts::item_curve(curve.item.difficulty, &pts, (&t("measure.ability"), &t("measure.p_right")));
    ctx.render(
        "measurement/item",
        json!({"item": item_json(&curve.item), "svg": svg,
               "groups": curve.groups.iter().map(|g| json!({"theta": format!("{:+.2}", g.theta), "n": g.n, "observed": f2(g.observed), "expected": f2(g.expected)})).collect::<Vec<_>>()}),
    )
}

/// Mantel–Haenszel DIF of every calibrated item between a reference and a focal group of 警种
/// or units.
#[get("/measurement/dif?<by>&<reference>&<focal>")]
pub async fn dif(
    ctx: PageCtx<'_>,
    _t: Trainer<'_>,
    by: Option<&str>,
    reference: Option<&str>,
    focal: Option<&str>,
) -> AppResult<RawHtml<String>> {
    let by = match by {
        None | Some("") => DifBy::PoliceType,
        Some(b) => DifBy::parse(b).ok_or_else(|| {
            crate::error::AppError::invalid(vec![crate::domain::validation::FieldError::new("by", "police_type or unit")])
        })?,
    };
    let (reference, focal) = (reference.map(str::to_string), focal.map(str::to_string));
    let table = with_db(ctx.state, move |c| measurement::dif_table(c, by, reference.as_deref(), focal.as_deref())).await?;
    let cat = |c: Option<EtsCategory>| c.map(|c| format!("{c:?}"));
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|r| {
            json!({"question_id": r.question_id, "version_id": r.version_id, "code": r.code, "reference": r.mh.reference, "focal": r.mh.focal,
                   "strata": r.mh.strata, "odds_ratio": opt2(r.mh.odds_ratio), "d_dif": r.mh.d_dif.map(|d| format!("{d:+.2}")), "se": opt2(r.mh.se),
                   "chi_square": opt2(r.mh.chi_square), "category": cat(r.mh.category), "review": r.mh.flagged(),
                   "favours": r.mh.favours.map(|g| if g == Group::Reference { "reference" } else { "focal" })})
        })
        .collect();
    let counts = |c: EtsCategory| table.rows.iter().filter(|r| r.mh.category == Some(c)).count();
    ctx.render(
        "measurement/dif",
        json!({"by": if by == DifBy::Unit { "unit" } else { "police_type" }, "by_unit": by == DifBy::Unit,
               "groups": table.groups.iter().map(|(g, n)| json!({"name": g, "n": n, "ref": table.reference.as_deref() == Some(g.as_str()), "focal": table.focal.as_deref() == Some(g.as_str())})).collect::<Vec<_>>(),
               "reference": table.reference, "focal": table.focal, "rows": rows,
               "a": counts(EtsCategory::A), "b": counts(EtsCategory::B), "c": counts(EtsCategory::C),
               "min_group": measurement::DIF_MIN_GROUP, "stratum": measurement::DIF_STRATUM}),
    )
}

#[derive(FromForm, Default)]
pub struct OpenForm {
    pub level: String,
    pub blueprint_id: Option<BlueprintId>,
}

async fn list_page(ctx: &PageCtx<'_>, form: &OpenForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let ((studies, levels), bps) = with_db(ctx.state, |c| Ok((standards::list(c)?, crate::services::exams::blueprints(c)?))).await?;
    let user = ctx.user()?;
    let levels_sel: Vec<Value> = ["basic", "intermediate", "advanced"].iter().map(|l| json!({"v": l, "sel": form.level == *l})).collect();
    ctx.render(
        "measurement/standards",
        json!({
            "errors": errors,
            "may_open": user.has(crate::domain::org::Role::Trainer),
            "studies": studies.iter().map(|s| json!({"id": s.id, "level": s.level, "blueprint": s.blueprint, "round": s.round, "status": s.status, "open": s.status == StudyStatus::Open,
                "items": s.items, "opened_by": s.opened_by, "opened_at": local(s.opened_at), "cut": opt2(s.cut), "cut_se": opt2(s.cut_se),
                "theta": s.theta.map(|t| format!("{t:+.2}"))})).collect::<Vec<_>>(),
            "adopted": levels.iter().map(|(l, s)| json!({"level": l, "study": s.as_ref().map(|s| s.id),
                "theta": s.as_ref().and_then(|s| s.theta).map(|t| format!("{t:+.2}")), "at": s.as_ref().and_then(|s| s.adopted_at).map(local)})).collect::<Vec<_>>(),
            "levels": levels_sel,
            "blueprints": bps.iter().map(|b| json!({"id": b.id, "name": b.name, "sel": Some(b.id) == form.blueprint_id})).collect::<Vec<_>>(),
        }),
    )
}

/// Standard-setting studies and the cut adopted per level; trainers open a study here.
#[get("/standards")]
pub async fn standards_list(ctx: PageCtx<'_>, _r: StandardsReader<'_>) -> AppResult<RawHtml<String>> {
    list_page(&ctx, &<OpenForm as Default>::default(), vec![]).await
}

#[post("/standards", data = "<form>")]
pub async fn open_study(ctx: PageCtx<'_>, t: Trainer<'_>, form: CsrfForm<OpenForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let (level, bp, by, now) = (form.level.clone(), form.blueprint_id, t.id(), ctx.state.clock.now());
    match with_db(ctx.state, move |c| standards::open_study(c, &level, bp, by, now)).await {
        Ok(id) => Ok(Either::Right(Redirect::to(format!("/standards/{id}")))),
        Err(e) if e.is_invalid() => list_page(&ctx, &form, e.lines()).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

async fn study_page(
    ctx: &PageCtx<'_>,
    id: StudyId,
    typed: Option<&HashMap<String, String>>,
    errors: Vec<String>,
) -> AppResult<RawHtml<String>> {
    let user = ctx.user()?;
    let (viewer, rates) = (user.id(), user.has(crate::domain::org::Role::Trainer));
    let (v, stems) = with_db(ctx.state, move |c| {
        let v = standards::view(c, id, viewer, rates)?;
        let ids: Vec<VersionId> = v.form.iter().map(|i| i.v).collect();
        let stems = crate::services::questions::stems(c, &ids)?;
        Ok((v, stems))
    })
    .await?;
    let spread = |i: usize| v.spread_round1.as_ref().and_then(|s| s.iter().find(|x| x.item == i));
    let items: Vec<Value> = v
        .form
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let value = typed
                .and_then(|t| t.get(&i.to_string()).cloned())
                .or_else(|| v.mine.get(i).copied().flatten().map(|p| format!("{p}")))
                .unwrap_or_default();
            json!({"i": i, "name": format!("p[{i}]"), "code": it.code, "question_id": it.question_id, "stem": stems.get(&it.v), "points": it.points,
                   "difficulty": format!("{:+.2}", it.difficulty), "n": it.n, "value": value,
                   "spread": spread(i).map(|s| json!({"mean": format!("{:.0}", s.mean * 100.0), "sd": format!("{:.0}", s.sd * 100.0),
                                                      "min": format!("{:.0}", s.min * 100.0), "max": format!("{:.0}", s.max * 100.0)}))})
        })
        .collect();
    let result = |r: &Option<crate::domain::measurement::angoff::RoundResult>| {
        r.as_ref().map(|r| {
            let mut cuts: Vec<f64> = r.raters.iter().map(|x| x.cut).collect();
            cuts.sort_by(f64::total_cmp);
            json!({"raters": r.raters.len(), "cut": f2(r.cut), "se": f2(r.se), "max": f2(r.max_score),
                   "theta": r.theta.map(|t| format!("{t:+.2}")), "theta_low": r.theta_low.map(|t| format!("{t:+.2}")), "theta_high": r.theta_high.map(|t| format!("{t:+.2}")),
                   "rater_cuts": cuts.iter().map(|c| f2(*c)).collect::<Vec<_>>()})
        })
    };
    ctx.render(
        "measurement/study",
        json!({"errors": errors, "s": {"id": v.id, "level": v.level, "round": v.round, "status": v.status, "open": v.status == StudyStatus::Open,
                   "closed": v.status == StudyStatus::Closed, "adopted": v.status == StudyStatus::Adopted, "round1": v.round == 1},
               "may_rate": rates && v.status == StudyStatus::Open && !(v.round == 1 && v.rated_current),
               "may_act": rates && v.status == StudyStatus::Open,
               "round1_locked": rates && v.status == StudyStatus::Open && v.round == 1 && v.rated_current, "may_adopt": user.has(crate::domain::org::Role::Admin) && v.status == StudyStatus::Closed,
               "rated_current": v.rated_current, "complete1": v.complete[0], "complete2": v.complete[1], "min_panel": standards::MIN_PANEL,
               "items": items, "round1": result(&v.result_round1), "round2": result(&v.result_round2),
               "cut": opt2(v.cut), "cut_se": opt2(v.cut_se), "theta": v.theta.map(|t| format!("{t:+.2}")),
               "theta_low": v.theta_low.map(|t| format!("{t:+.2}")), "theta_high": v.theta_high.map(|t| format!("{t:+.2}"))}),
    )
}

/// A study: the form with the viewer's ratings, the panel's spread once the viewer may see it,
/// the cut once closed.
#[get("/standards/<id>")]
pub async fn study(ctx: PageCtx<'_>, _r: StandardsReader<'_>, _free: OutsideExam<'_>, id: StudyId) -> AppResult<RawHtml<String>> {
    study_page(&ctx, id, None, vec![]).await
}

#[derive(FromForm, Default)]
pub struct RatingForm {
    pub p: HashMap<String, String>,
}

#[post("/standards/<id>/ratings", data = "<form>")]
pub async fn rate(
    ctx: PageCtx<'_>,
    t: Trainer<'_>,
    id: StudyId,
    form: CsrfForm<RatingForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let typed = form.0.p;
    let (by, now, p) = (t.id(), ctx.state.clock.now(), typed.clone());
    match with_db(ctx.state, move |c| standards::rate(c, id, by, &p, now)).await {
        Ok(()) => Ok(Either::Right(Redirect::to(format!("/standards/{id}")))),
        Err(e) if e.is_invalid() => study_page(&ctx, id, Some(&typed), e.lines()).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

#[post("/standards/<id>/round2", data = "<_form>")]
pub async fn round_two(ctx: PageCtx<'_>, t: Trainer<'_>, id: StudyId, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let (by, now) = (t.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| standards::start_round_two(c, id, by, now)).await?;
    Ok(Redirect::to(format!("/standards/{id}")))
}

#[post("/standards/<id>/close", data = "<_form>")]
pub async fn close(ctx: PageCtx<'_>, t: Trainer<'_>, id: StudyId, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let (by, now) = (t.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| standards::close(c, id, by, now)).await?;
    Ok(Redirect::to(format!("/standards/{id}")))
}

#[post("/standards/<id>/adopt", data = "<_form>")]
pub async fn adopt(ctx: PageCtx<'_>, a: Admin<'_>, id: StudyId, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let (by, now) = (a.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| standards::adopt(c, id, by, now)).await?;
    Ok(Redirect::to(format!("/standards/{id}")))
}
