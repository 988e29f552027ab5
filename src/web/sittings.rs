//! Trainers' blueprints and sittings, and the results pages (trainers, leaders, HR).

use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either, Responder};
use serde_json::{json, Value};

use super::pages::{CsrfForm, Empty, PageCtx};
use super::{local, parse_local_datetime, with_db};
use crate::auth::{ResultsReader, Trainer};
use crate::domain::bank::Level;
use crate::domain::exam::{Eligibility, Release, SittingKind, SittingState, SubmitKind};
use crate::domain::exam_room::{OnLimit, RoomControls};
use crate::domain::grading::{format_points, MultiRule};
use crate::domain::ids::{AttemptId, BlueprintId, SittingId, UnitId};
use crate::domain::measurement::scale::PassRule;
use crate::domain::org::Role;
use crate::domain::paper::{BlueprintSpec, BlueprintText, RuleKind, RuleText};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::exams::{self, ResultRow, SittingSpec};
use crate::services::{item_analysis, people, questions};

#[get("/blueprints")]
pub async fn blueprints(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    let (list, names) = with_db(ctx.state, |c| Ok((exams::blueprints(c)?, questions::statute_names(c)?))).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|b| {
            let spec: BlueprintSpec = serde_json::from_str(&b.spec).unwrap_or_default();
            let total: i64 = spec.rules.iter().map(|r| r.count as i64).sum();
            json!({
                "id": b.id, "name": b.name, "created_at": local(b.created_at), "questions": total,
                "tolerance": spec.tolerance_permille.map(|t| format!("{}.{}", t / 10, t % 10)),
                "legacy": spec.case_points_per_item && spec.rules.iter().any(|r| r.kind == RuleKind::Case),
                "rules": spec.rules.iter().map(|r| json!({
                    "kind": r.kind.as_str(), "count": r.count, "points": format_points(r.points_centi),
                    "statute": r.statute.as_ref().map(|s| names.name(s)), "difficulty": r.difficulty,
                    "level": r.level.map(|l| l.as_str()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    ctx.render("sittings/blueprints", json!({ "blueprints": items }))
}

#[derive(FromForm, Default, Clone)]
pub struct RuleForm {
    kind: String,
    statute: String,
    difficulty: String,
    level: String,
    count: String,
    points: String,
}

#[derive(FromForm, Default, Clone)]
pub struct BlueprintForm {
    name: String,
    rules: Vec<RuleForm>,
    parallel: bool,
    /// Expected-score tolerance in per cent of the paper's points (empty: none).
    tolerance: Option<String>,
}

impl BlueprintForm {
    fn spec(&self) -> Result<BlueprintSpec, Vec<Problem>> {
        let rules = self
            .rules
            .iter()
            .map(|r| RuleText {
                kind: r.kind.clone(),
                statute: r.statute.clone(),
                difficulty: r.difficulty.clone(),
                level: r.level.clone(),
                count: r.count.clone(),
                points: r.points.clone(),
            })
            .collect();
        BlueprintText { rules, parallel: self.parallel, tolerance: self.tolerance.clone().unwrap_or_default() }.spec()
    }
}

async fn blueprint_form_page(ctx: &PageCtx<'_>, form: &BlueprintForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let names = with_db(ctx.state, |c| questions::statute_names(c)).await?;
    let mut rows = form.rules.clone();
    rows.resize(8, <RuleForm as Default>::default());
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "i": i, "count": r.count, "points": r.points,
                "kinds": (["single", "multiple", "truefalse", "case"]).iter().map(|k| json!({"v": k, "sel": r.kind == *k})).collect::<Vec<_>>(),
                "statutes": names.list().iter().map(|(c, n)| json!({"v": c, "name": n, "sel": r.statute == *c})).collect::<Vec<_>>(),
                "difficulties": (["1", "2", "3"]).iter().map(|d| json!({"v": d, "sel": r.difficulty == *d})).collect::<Vec<_>>(),
                "levels": (["basic", "intermediate", "advanced"]).iter().map(|l| json!({"v": l, "sel": r.level == *l})).collect::<Vec<_>>(),
            })
        })
        .collect();
    ctx.render(
        "sittings/blueprint_form",
        json!({ "name": form.name, "rows": rows, "parallel": form.parallel, "tolerance": form.tolerance, "errors": errors }),
    )
}

#[get("/blueprints/new")]
pub async fn new_blueprint(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    let mut form = <BlueprintForm as Default>::default();
    for (k, n, p) in [("single", "20", "2"), ("multiple", "10", "3"), ("truefalse", "10", "3")] {
        form.rules.push(RuleForm { kind: k.into(), count: n.into(), points: p.into(), ..<RuleForm as Default>::default() });
    }
    blueprint_form_page(&ctx, &form, vec![]).await
}

#[post("/blueprints/new", data = "<form>")]
pub async fn create_blueprint(
    ctx: PageCtx<'_>,
    t: Trainer<'_>,
    form: CsrfForm<BlueprintForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let spec = match form.spec() {
        Ok(s) => s,
        Err(e) => return blueprint_form_page(&ctx, &form, ctx.problem_lines(&e)).await.map(Either::Left),
    };
    let name = form.name.clone();
    let by = t.user.id;
    let now = ctx.state.clock.now();
    match with_db(ctx.state, move |c| exams::create_blueprint(c, &name, &spec, Some(by), now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to("/blueprints"))),
        Err(e) if e.is_invalid() => blueprint_form_page(&ctx, &form, ctx.form_lines(&e)).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

#[get("/sittings")]
pub async fn list(ctx: PageCtx<'_>, _r: ResultsReader<'_>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let rows = with_db(ctx.state, |c| exams::sittings_with_counts(c)).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(s, n)| {
            json!({"id": s.id, "title": s.title, "kind": s.kind, "opens_at": local(s.opens_at), "closes_at": local(s.closes_at),
                   "duration_minutes": s.duration_minutes, "state": SittingState::at(now, s.opens_at, s.closes_at).as_str(), "attempts": n})
        })
        .collect();
    ctx.render("sittings/list", json!({ "sittings": items }))
}

#[derive(FromForm, Default, Clone)]
pub struct SittingForm {
    title: String,
    kind: String,
    blueprint_id: Option<BlueprintId>,
    opens_at: String,
    closes_at: String,
    duration_minutes: Option<i32>,
    pass_percent: Option<i32>,
    multi_rule: String,
    score_release: String,
    answer_release: String,
    units: Vec<UnitId>,
    police_types: Vec<String>,
    badges: String,
    cert_level: Option<String>,
    access_code: Option<String>,
    allow_cidrs: Option<String>,
    fullscreen: bool,
    max_events: Option<i32>,
    on_limit: Option<String>,
    grace_seconds: Option<i32>,
    generate_code: bool,
}

impl SittingForm {
    fn spec(&self) -> Result<SittingSpec, Vec<Problem>> {
        let mut errs = Vec::new();
        let mut missing = |field: &'static str, english: &str| errs.push(Problem::plain(field, missing_key(field), english));
        let kind = SittingKind::parse(&self.kind).ok_or(()).map_err(|_| missing("kind", "choose a kind")).ok();
        let opens = parse_local_datetime(&self.opens_at).ok_or(()).map_err(|_| missing("opens_at", "give a date and time")).ok();
        let closes = parse_local_datetime(&self.closes_at).ok_or(()).map_err(|_| missing("closes_at", "give a date and time")).ok();
        let multi = MultiRule::parse(&self.multi_rule).ok_or(()).map_err(|_| missing("multi_rule", "choose a rule")).ok();
        let sr = Release::parse(&self.score_release).ok_or(()).map_err(|_| missing("score_release", "choose when scores are shown")).ok();
        let ar =
            Release::parse(&self.answer_release).ok_or(()).map_err(|_| missing("answer_release", "choose when answers are shown")).ok();
        if self.blueprint_id.is_none() {
            missing("blueprint_id", "choose a blueprint");
        }
        if self.duration_minutes.is_none() {
            missing("duration_minutes", "give the time allowed in minutes");
        }
        if self.pass_percent.is_none() {
            missing("pass_percent", "give the pass mark in per cent");
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let spec = SittingSpec {
            title: self.title.clone(),
            kind: kind.expect("checked"),
            blueprint_id: self.blueprint_id.expect("checked"),
            opens_at: opens.expect("checked"),
            closes_at: closes.expect("checked"),
            duration_minutes: self.duration_minutes.expect("checked"),
            pass_percent: self.pass_percent.expect("checked"),
            multi_rule: multi.expect("checked"),
            score_release: sr.expect("checked"),
            answer_release: ar.expect("checked"),
            eligibility: Eligibility {
                units: self.units.clone(),
                police_types: self.police_types.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                badges: self
                    .badges
                    .split([',', '，', ' ', '\n', '\r', ';'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            cert_level: self.cert_level.as_deref().and_then(|l| Level::parse(l.trim())),
            controls: RoomControls {
                access_code: match self.access_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                    Some(c) => Some(c.to_string()),
                    None if self.generate_code => Some(crate::domain::exam_room::AUTO_CODE.to_string()),
                    None => None,
                },
                allow_cidrs: self
                    .allow_cidrs
                    .as_deref()
                    .unwrap_or("")
                    .split([',', '，', ' ', '\n', '\r', ';'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                fullscreen: self.fullscreen,
                max_events: self.max_events.unwrap_or(0),
                on_limit: self.on_limit.as_deref().and_then(OnLimit::parse).unwrap_or_default(),
                grace_seconds: self.grace_seconds.unwrap_or(0),
            },
            plan_id: None,
            makeup_of: None,
        };
        let errs = spec.validate();
        if errs.is_empty() {
            Ok(spec)
        } else {
            Err(errs)
        }
    }
}

/// The catalogue key of a sitting form's field left empty or unread.
fn missing_key(field: &str) -> &'static str {
    match field {
        "kind" => "sitting.choose_kind",
        "opens_at" => "sitting.opens_at_missing",
        "closes_at" => "sitting.closes_at_missing",
        "multi_rule" => "sitting.choose_multi_rule",
        "score_release" => "sitting.choose_score_release",
        "answer_release" => "sitting.choose_answer_release",
        "blueprint_id" => "sitting.choose_blueprint",
        "duration_minutes" => "sitting.duration_missing",
        _ => "sitting.pass_percent_missing",
    }
}

const POLICE_TYPES: [&str; 8] = ["派出所", "刑侦", "治安", "交警", "经侦", "禁毒", "法制", "巡警"];

async fn sitting_form_page(ctx: &PageCtx<'_>, form: &SittingForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let (bps, units) = with_db(ctx.state, |c| Ok((exams::blueprints(c)?, people::units(c)?))).await?;
    let sel = |list: &[&str], v: &str| list.iter().map(|x| json!({"v": x, "sel": *x == v})).collect::<Vec<_>>();
    ctx.render(
        "sittings/form",
        json!({
            "errors": errors,
            "f": { "title": form.title, "opens_at": form.opens_at, "closes_at": form.closes_at, "duration_minutes": form.duration_minutes,
                   "pass_percent": form.pass_percent, "badges": form.badges, "access_code": form.access_code,
                   "allow_cidrs": form.allow_cidrs, "fullscreen": form.fullscreen, "max_events": form.max_events,
                   "grace_seconds": form.grace_seconds, "generate_code": form.generate_code },
            "cert_levels": sel(&["basic", "intermediate", "advanced"], form.cert_level.as_deref().unwrap_or("")),
            "on_limits": sel(&["flag", "submit"], form.on_limit.as_deref().unwrap_or("flag")),
            "kinds": sel(&["bimonthly", "mock", "certification", "remedial"], &form.kind),
            "multi_rules": sel(&["partial", "all_or_nothing"], &form.multi_rule),
            "score_releases": sel(&["on_submit", "after_close", "never"], &form.score_release),
            "answer_releases": sel(&["after_close", "on_submit", "never"], &form.answer_release),
            "blueprints": bps.iter().map(|b| json!({"id": b.id, "name": b.name, "sel": Some(b.id) == form.blueprint_id})).collect::<Vec<_>>(),
            "units": units.iter().map(|u| json!({"id": u.id, "name": u.name, "sel": form.units.contains(&u.id)})).collect::<Vec<_>>(),
            "police_types": POLICE_TYPES.iter().map(|p| json!({"v": p, "sel": form.police_types.iter().any(|x| x == p)})).collect::<Vec<_>>(),
        }),
    )
}

#[get("/sittings/new")]
pub async fn new_sitting(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now() + crate::timefmt::bureau_offset();
    let start = (now + chrono::Duration::days(1)).date().and_hms_opt(9, 0, 0).expect("time");
    let form = SittingForm {
        kind: "bimonthly".into(),
        opens_at: start.format("%Y-%m-%dT%H:%M").to_string(),
        closes_at: (start + chrono::Duration::hours(3)).format("%Y-%m-%dT%H:%M").to_string(),
        duration_minutes: Some(90),
        pass_percent: Some(60),
        multi_rule: "partial".into(),
        score_release: "on_submit".into(),
        answer_release: "after_close".into(),
        ..<SittingForm as Default>::default()
    };
    sitting_form_page(&ctx, &form, vec![]).await
}

#[post("/sittings/new", data = "<form>")]
pub async fn create_sitting(ctx: PageCtx<'_>, t: Trainer<'_>, form: CsrfForm<SittingForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let spec = match form.spec() {
        Ok(s) => s,
        Err(e) => return sitting_form_page(&ctx, &form, ctx.problem_lines(&e)).await.map(Either::Left),
    };
    let by = t.user.id;
    let now = ctx.state.clock.now();
    match with_db(ctx.state, move |c| exams::schedule(c, &spec, Some(by), now)).await {
        Ok(id) => Ok(Either::Right(Redirect::to(format!("/sittings/{id}")))),
        Err(e) if e.is_invalid() => sitting_form_page(&ctx, &form, ctx.form_lines(&e)).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

/// Leaders see their own unit's candidates only; trainers, HR and admins see everyone.
fn unit_scope(r: &ResultsReader<'_>) -> Option<Vec<UnitId>> {
    exams::results_scope(&r.user, &r.roles)
}

fn sort_rows(rows: &mut [ResultRow], sort: Option<&str>) {
    match sort.unwrap_or("badge") {
        "score" => rows.sort_by(|a, b| b.score_centi.cmp(&a.score_centi).then(a.badge.cmp(&b.badge))),
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "unit" => rows.sort_by(|a, b| a.unit.cmp(&b.unit).then(a.badge.cmp(&b.badge))),
        "submitted" => rows.sort_by_key(|a| a.submitted_at),
        _ => rows.sort_by(|a, b| a.badge.cmp(&b.badge)),
    }
}

#[get("/sittings/<id>?<sort>")]
pub async fn show(ctx: PageCtx<'_>, r: ResultsReader<'_>, id: SittingId, sort: Option<&str>) -> AppResult<RawHtml<String>> {
    let scope = unit_scope(&r);
    let now = ctx.state.clock.now();
    // the spread of paper difficulty is for trainers (who schedule and proctor), not leaders or HR
    let trainer = r.has(Role::Trainer);
    let (s, mut rows, bp, spread) = with_db(ctx.state, move |c| {
        let (s, rows) = exams::sitting_results(c, id, scope.as_deref())?;
        let bp = (exams::blueprint(c, s.blueprint_id)?, crate::services::standards::cut_of_sitting(c, id)?);
        let spread = if trainer { crate::services::papers::spread(c, id)? } else { None };
        Ok((s, rows, bp, spread))
    })
    .await?;
    let (bp, cut) = bp;
    sort_rows(&mut rows, sort);
    let graded: Vec<&ResultRow> = rows.iter().filter(|r| r.score_centi.is_some()).collect();
    let passed = graded.iter().filter(|r| r.passed == Some(true)).count();
    let mean = if graded.is_empty() {
        None
    } else {
        Some(format_points(graded.iter().map(|r| r.score_centi.unwrap_or(0)).sum::<i64>() / graded.len() as i64))
    };
    let elig = exams::eligibility_of(&s);
    ctx.render(
        "sittings/show",
        json!({
            "s": { "id": s.id, "title": s.title, "kind": s.kind, "opens_at": local(s.opens_at), "closes_at": local(s.closes_at),
                   "duration_minutes": s.duration_minutes, "pass_percent": s.pass_percent, "multi_rule": s.multi_rule,
                   "score_release": s.score_release, "answer_release": s.answer_release,
                   "state": SittingState::at(now, s.opens_at, s.closes_at).as_str(), "blueprint": bp.map(|b| b.name),
                   "everyone": elig == Eligibility::default(), "police_types": elig.police_types.join("、"), "badges": elig.badges.join(", "),
                   "cut": cut.map(|(_, t)| format!("{t:+.2}")), "cut_study": cut.map(|(study, _)| study) },
            "trainer": trainer,
            "spread": spread,
            "rows": rows.iter().map(|r| json!({
                "attempt_id": r.attempt_id, "badge": r.badge, "name": r.name, "unit": r.unit, "started_at": local(r.started_at), "submitted_at": r.submitted_at.map(local),
                "auto": r.submit_kind == Some(SubmitKind::Auto), "score": r.score, "max_score": r.max_score, "passed": r.passed,
                "scaled": r.scaled.map(|t| format!("{t:+.2}")), "by_scale": r.pass_rule == Some(PassRule::Scale),
            })).collect::<Vec<_>>(),
            "stats": { "attempts": rows.len(), "graded": graded.len(), "passed": passed, "mean": mean },
            "histogram": (!graded.is_empty()).then(|| {
                let percents: Vec<f64> = rows.iter().filter_map(|r| r.score_centi.map(|sc| {
                    let max: f64 = r.max_score.parse().unwrap_or(0.0);
                    if max > 0.0 { sc as f64 / (max * 100.0) * 100.0 } else { 0.0 }
                })).collect();
                super::charts::score_histogram(&percents, s.pass_percent)
            }),
            "sort": sort.unwrap_or("badge"),
        }),
    )
}

/// Audit of one candidate's paper (trainers): re-drawn from the sitting's pool and the
/// attempt's seed and compared, position by position, with what the candidate was shown. Each
/// view is written to the audit log.
#[get("/sittings/<id>/attempts/<attempt>/audit")]
pub async fn paper_audit(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, attempt: AttemptId) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let by = t.user.id;
    let audit = with_db(ctx.state, move |c| {
        exams::check_attempt_in(c, id, attempt)?;
        crate::services::papers::audit_paper(c, attempt, by, now)
    })
    .await?;
    ctx.render("sittings/paper_audit", json!({ "a": audit }))
}

/// Flags of one item's stored analysis, as `{k, option}` for the templates.
pub fn flag_labels(detail: &Value) -> Vec<Value> {
    detail
        .get("flags")
        .and_then(Value::as_array)
        .map(|flags| flags.iter().map(|f| json!({"k": f.get("kind"), "option": f.get("option")})).collect())
        .unwrap_or_default()
}

/// Item analysis of a sitting: summary, reliability and every item, flagged ones first.
#[get("/sittings/<id>/stats")]
pub async fn stats(ctx: PageCtx<'_>, _t: Trainer<'_>, _free: super::guards::OutsideExam<'_>, id: SittingId) -> AppResult<RawHtml<String>> {
    let (s, analysis) = with_db(ctx.state, move |c| Ok((crate::services::exams::sitting(c, id)?, item_analysis::stored(c, id)?))).await?;
    // the flags come from the bank's calibration (pooled over every sitting), not from this
    // sitting's few responses per item; the classical figures stay beside them
    let item_analysis::StoredAnalysis { summary, items: rows, questions: codes, calibrated } = analysis;
    let mut rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let detail: Value = serde_json::from_str(&r.detail).unwrap_or(Value::Null);
            let (qid, code) = codes.get(&r.question_version_id).cloned().unwrap_or_default();
            let cal = calibrated.get(&r.question_version_id);
            let flags = cal.map(|m| m.flags.clone()).unwrap_or_default();
            json!({"question_id": qid, "code": code, "n": r.n, "facility": format!("{:.2}", r.facility),
                   "discrimination": r.discrimination.map(|d| format!("{d:.2}")),
                   "upper_lower": detail.get("upper_lower").and_then(Value::as_f64).map(|d| format!("{d:.2}")),
                   "options": detail.get("options"), "version_id": r.question_version_id,
                   "difficulty": cal.map(|m| format!("{:+.2}", m.difficulty)), "cal_n": cal.map(|m| m.n),
                   "flagged": !flags.is_empty(), "flags": flags})
        })
        .collect();
    rows.sort_by_key(|r| !r["flagged"].as_bool().unwrap_or(false));
    let summary = summary.map(|(d, at)| {
        let v: Value = serde_json::from_str(&d).unwrap_or(Value::Null);
        let f = |k: &str| v.get(k).and_then(Value::as_f64).map(|x| format!("{x:.2}"));
        json!({"candidates": v.get("candidates"), "mean": f("mean"), "sd": f("sd"), "median": f("median"), "min": f("min"), "max": f("max"),
               "mean_percent": f("mean_percent"), "reliability": f("reliability"), "method": v.get("reliability_method"), "computed_at": local(at)})
    });
    let flagged = rows.iter().filter(|r| r["flagged"].as_bool().unwrap_or(false)).count();
    ctx.render("sittings/stats", json!({"s": {"id": s.id, "title": s.title}, "summary": summary, "rows": rows, "flagged": flagged}))
}

/// Recomputes a sitting's item analysis now (it is otherwise computed once the sitting closes).
#[post("/sittings/<id>/stats", data = "<_form>")]
pub async fn recompute_stats(ctx: PageCtx<'_>, _t: Trainer<'_>, id: SittingId, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let now = ctx.state.clock.now();
    let cache = ctx.state.versions.clone();
    with_db(ctx.state, move |c| item_analysis::analyse_sitting(c, &cache, id, now)).await?;
    Ok(Redirect::to(format!("/sittings/{id}/stats")))
}

#[derive(Responder)]
pub struct CsvFile(String, ContentType, Header<'static>);

/// CSV of a sitting's results (UTF-8 with BOM so Excel opens Chinese text correctly).
#[get("/sittings/<id>/results.csv")]
pub async fn results_csv(ctx: PageCtx<'_>, r: ResultsReader<'_>, id: SittingId) -> AppResult<CsvFile> {
    let scope = unit_scope(&r);
    let (s, mut rows) = with_db(ctx.state, move |c| exams::sitting_results(c, id, scope.as_deref())).await?;
    sort_rows(&mut rows, Some("badge"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = ["警号", "姓名", "单位", "开始时间", "交卷时间", "交卷方式", "得分", "满分", "是否通过", "标定分数(logit)", "判定规则"];
    w.write_record(header).map_err(|e| AppError::internal(e.to_string()))?;
    for r in &rows {
        let cells = [
            csv_safe(&r.badge),
            csv_safe(&r.name),
            csv_safe(&r.unit),
            local(r.started_at),
            r.submitted_at.map(local).unwrap_or_default(),
            match r.submit_kind {
                Some(SubmitKind::Auto) => "到时自动交卷".into(),
                Some(SubmitKind::Forced) => "切屏超限强制交卷".into(),
                Some(SubmitKind::Manual) => "本人交卷".into(),
                None => "未交卷".into(),
            },
            r.score.clone().unwrap_or_default(),
            r.max_score.clone(),
            match r.passed {
                Some(true) => "通过".into(),
                Some(false) => "未通过".into(),
                None => String::new(),
            },
            r.scaled.map(|t| format!("{t:.2}")).unwrap_or_default(),
            match r.pass_rule {
                Some(PassRule::Scale) => "标定尺度合格线".into(),
                Some(PassRule::Percent) => "百分比合格线".into(),
                None => String::new(),
            },
        ];
        w.write_record(&cells).map_err(|e| AppError::internal(e.to_string()))?;
    }
    let body = String::from_utf8(w.into_inner().map_err(|e| AppError::internal(e.to_string()))?).expect("utf8");
    let filename = format!("sitting-{}-results.csv", s.id);
    Ok(CsvFile(
        format!("\u{feff}{body}"),
        ContentType::CSV,
        Header::new("Content-Disposition", format!("attachment; filename=\"{filename}\"")),
    ))
}

/// Cells that a spreadsheet would run as a formula are prefixed with an apostrophe.
pub fn csv_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The results list as a PDF for the notice board or the file (the same rows and scope as the
/// page: leaders see their unit).
#[get("/sittings/<id>/results.pdf")]
pub async fn results_pdf(ctx: PageCtx<'_>, r: ResultsReader<'_>, id: SittingId) -> AppResult<super::bank_files::Download> {
    let scope = unit_scope(&r);
    let (s, mut rows) = with_db(ctx.state, move |c| exams::sitting_results(c, id, scope.as_deref())).await?;
    sort_rows(&mut rows, Some("badge"));
    let graded: Vec<&ResultRow> = rows.iter().filter(|r| r.score_centi.is_some()).collect();
    let passed = graded.iter().filter(|r| r.passed == Some(true)).count();
    // labels and dates in the reader's language; names, units and scores as stored
    let lang = ctx.lang;
    let t = |key: &str, params: serde_json::Value| ctx.state.renderer.text(lang, &format!("pdf.{key}"), &params);
    let when = |at| crate::timefmt::localize(lang, &local(at)).unwrap_or_default();
    let mut d = super::pdf::Doc::new(&t("results_doc", json!({"title": s.title})));
    d.heading(&t("results_title", json!({"title": s.title})));
    d.text(
        &t(
            "results_facts",
            json!({"opens": when(s.opens_at), "closes": when(s.closes_at), "pass": s.pass_percent, "sat": graded.len(), "passed": passed}),
        ),
        10.0,
    );
    d.gap(6.0);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.badge.clone(),
                r.name.clone(),
                r.unit.clone(),
                r.score.clone().map(|sc| format!("{sc} / {}", r.max_score)).unwrap_or_else(|| "—".into()),
                t(
                    match r.passed {
                        Some(true) => "passed",
                        Some(false) => "failed",
                        None => "not_submitted",
                    },
                    json!({}),
                ),
            ]
        })
        .collect();
    let heads = ["col_badge", "col_name", "col_unit", "col_score", "col_result"].map(|k| t(k, json!({})));
    d.table(&heads.iter().map(String::as_str).collect::<Vec<_>>(), &[1.2, 1.2, 3.0, 1.4, 1.0], &table);
    Ok(super::bank_files::download(d.finish(), "application/pdf", &format!("results-{id}.pdf")))
}
