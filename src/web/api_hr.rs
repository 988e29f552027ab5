//! The JSON API beyond the exam, for HR's personnel system, unit leaders and trainers:
//! eligibility for promotion, promotion rules, remedial plans and exam plans (双月考计划) with
//! their occurrences. Same tokens, error body and CSRF rule as the rest of `/api/v1`
//! (`web::api`); the rules themselves live in `services::hr`, `services::remedial` and
//! `services::plans`, shared with the pages.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{get, post, put, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{json_body, Created, ErrorBody};
use super::with_db;
use crate::auth::CurrentUser;
use crate::domain::ids::{ExamPlanId, RemedialPlanId, RuleId, SittingId, UnitId};
use crate::domain::org::Role;
use crate::domain::remedial::Stage;
use crate::error::{AppError, AppResult};
use crate::services::{hr, plans, remedial};
use crate::state::AppState;

// ---- who is asking, in which language ----

/// The caller: a signed-in account (API token or, from our own pages, the session cookie with
/// the CSRF header on writes), or the personnel system with an HR API token (`lct_…`, issued
/// by an admin), which reads as HR and cannot write.
pub enum Caller<'r> {
    System,
    User(&'r CurrentUser),
}

impl Caller<'_> {
    fn has(&self, role: Role) -> bool {
        match self {
            Caller::System => role == Role::Hr,
            Caller::User(u) => u.has(role),
        }
    }

    /// Refuses (403) unless the caller holds one of `roles`.
    fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(AppError::forbidden("your role does not allow this"))
        }
    }

    /// The account that writes (an HR API token only reads).
    fn writer(&self, roles: &[Role]) -> AppResult<&CurrentUser> {
        self.require(roles)?;
        match self {
            Caller::User(u) => Ok(u),
            Caller::System => Err(AppError::forbidden("an HR API token only reads; sign in as an HR user to change rules")),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Caller<'r> {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let state = req.rocket().state::<AppState>().expect("state");
        let bearer = req.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
        if let Some(token) = bearer.filter(|t| t.starts_with("lct_")) {
            let (token, now) = (token.to_string(), state.clock.now());
            return match with_db(state, move |c| hr::token_role(c, &token, now)).await {
                Ok(Some(Role::Hr)) => Outcome::Success(Caller::System),
                Ok(_) => Outcome::Error((Status::Unauthorized, AppError::unauthorized("the API token is unknown, revoked or expired"))),
                Err(e) => Outcome::Error((e.status(), e)),
            };
        }
        match req.guard::<&'r CurrentUser>().await {
            Outcome::Success(u) => Outcome::Success(Caller::User(u)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(s) => Outcome::Forward(s),
        }
    }
}

/// The language answers are written in: the reader's choice on the site (the `lang` cookie),
/// else the best supported language of `Accept-Language`, else Chinese.
pub struct ReaderLang(pub &'static str);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ReaderLang {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ReaderLang(super::pages::lang_of(req)))
    }
}

// ---- eligibility ----

/// The rule asked about: its id, or the post or grade it promotes to (its `target`, or its name)
/// when exactly one rule in use does.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RuleTarget {
    Id(i64),
    Target(String),
}

#[derive(Deserialize, ToSchema)]
pub struct EligibilityRequest {
    /// The candidates' badges (警号), 1–5000; repeats are answered once.
    #[schema(min_items = 1, max_items = 5000)]
    pub badges: Vec<String>,
    pub target: RuleTarget,
    /// The promotion date, YYYY-MM-DD.
    #[schema(format = Date, example = "2027-01-01")]
    pub date: String,
}

/// A promotion rule as the API shows it (the stored rule, without who last changed it).
pub use crate::services::hr::StoredRule as RuleOut;

/// One badge's answer.
#[derive(Serialize, ToSchema)]
pub struct BadgeVerdict {
    pub badge: String,
    /// An account has this badge (if not, `eligible` is false and the reason says so).
    pub found: bool,
    pub name: Option<String>,
    pub unit: Option<String>,
    /// The account is enabled (null when not found).
    pub active: Option<bool>,
    pub eligible: bool,
    /// Every reason why not, in the caller's language (empty when eligible).
    pub reasons: Vec<hr::Reason>,
}

#[derive(Serialize, ToSchema)]
pub struct EligibilityResponse {
    pub rule: RuleOut,
    pub date: chrono::NaiveDate,
    /// The language of the reasons (`zh` or `en`).
    pub lang: String,
    /// Distinct badges answered.
    pub checked: usize,
    pub eligible: usize,
    /// One per distinct badge, in the order asked.
    pub results: Vec<BadgeVerdict>,
}

/// Which of these officers may be promoted under a rule on a date, and every reason why not, in
/// the caller's language (the site's language choice, else `Accept-Language`). Unknown badges are
/// answered per badge. HR and admins (also an HR API token). 422 names each problem: the date,
/// the rule, an empty or overlong badge, more than 5000 badges.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "hr", security(("bearer" = [])), request_body = EligibilityRequest,
    params(("Accept-Language" = Option<String>, Header, description = "e.g. en, zh-CN; the site's language choice (cookie) wins")),
    responses((status = 200, body = EligibilityResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api/v1/eligibility", data = "<body>")]
pub async fn api_eligibility(
    state: &State<AppState>,
    caller: Caller<'_>,
    lang: ReaderLang,
    body: Result<Json<EligibilityRequest>, rocket::serde::json::Error<'_>>,
) -> AppResult<Json<EligibilityResponse>> {
    caller.require(&[Role::Hr, Role::Admin])?;
    let req = json_body(body)?;
    let request = hr::CheckRequest {
        rule: Some(match req.target {
            RuleTarget::Id(id) => hr::RuleRef::Id(RuleId(id)),
            RuleTarget::Target(t) => hr::RuleRef::Target(t),
        }),
        date: req.date,
        badges: req.badges,
    };
    let now = state.clock.now();
    let (rule, date, verdicts) = with_db(state, move |c| hr::check_request(c, &request, now)).await?;
    let results: Vec<BadgeVerdict> = verdicts
        .iter()
        .map(|v| BadgeVerdict {
            badge: v.badge.clone(),
            found: !v.unknown,
            name: v.name.clone(),
            unit: v.unit.clone(),
            active: (!v.unknown).then_some(!v.inactive),
            eligible: v.eligible,
            reasons: hr::reasons_in(&state.renderer, lang.0, v),
        })
        .collect();
    Ok(Json(EligibilityResponse {
        rule,
        date,
        lang: lang.0.into(),
        checked: results.len(),
        eligible: results.iter().filter(|r| r.eligible).count(),
        results,
    }))
}

// ---- promotion rules ----

const RULE_READERS: [Role; 3] = [Role::Hr, Role::Admin, Role::Leader];
const RULE_WRITERS: [Role; 2] = [Role::Hr, Role::Admin];

/// Every promotion rule, in use or not (HR, admins, unit leaders; an HR API token).
#[utoipa::path(get, path = "/api/v1/promotion-rules", tag = "hr", security(("bearer" = [])),
    responses((status = 200, body = [RuleOut]), (status = 403, body = ErrorBody)))]
#[get("/api/v1/promotion-rules")]
pub async fn api_promotion_rules(state: &State<AppState>, caller: Caller<'_>) -> AppResult<Json<Vec<RuleOut>>> {
    caller.require(&RULE_READERS)?;
    let rules = with_db(state, |c| hr::rules(c)).await?;
    Ok(Json(rules))
}

/// One promotion rule (HR, admins, unit leaders; an HR API token).
#[utoipa::path(get, path = "/api/v1/promotion-rules/{id}", tag = "hr", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/promotion-rules/<id>")]
pub async fn api_promotion_rule(state: &State<AppState>, caller: Caller<'_>, id: RuleId) -> AppResult<Json<RuleOut>> {
    caller.require(&RULE_READERS)?;
    let rule = with_db(state, move |c| hr::rule(c, id)).await?;
    Ok(Json(rule))
}

/// Creates a promotion rule (HR and admins signed in; written to the audit log). 422 names
/// every field in error. Rules are never deleted (checks and the audit log refer to them): set
/// `active` false to withdraw one.
#[utoipa::path(post, path = "/api/v1/promotion-rules", tag = "hr", security(("bearer" = [])), request_body = hr::RuleInput,
    responses((status = 201, body = RuleOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api/v1/promotion-rules", data = "<body>")]
pub async fn api_create_promotion_rule(
    state: &State<AppState>,
    caller: Caller<'_>,
    body: Result<Json<hr::RuleInput>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<RuleOut>)> {
    let by = caller.writer(&RULE_WRITERS)?.id();
    let input = json_body(body)?;
    let now = state.clock.now();
    let rule = with_db(state, move |c| hr::save_and_read_rule(c, None, &input, by, now)).await?;
    Ok((Status::Created, Json(rule)))
}

/// Replaces a promotion rule (HR and admins signed in; audited with before and after).
#[utoipa::path(put, path = "/api/v1/promotion-rules/{id}", tag = "hr", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = hr::RuleInput,
    responses((status = 200, body = RuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/api/v1/promotion-rules/<id>", data = "<body>")]
pub async fn api_update_promotion_rule(
    state: &State<AppState>,
    caller: Caller<'_>,
    id: RuleId,
    body: Result<Json<hr::RuleInput>, rocket::serde::json::Error<'_>>,
) -> AppResult<Json<RuleOut>> {
    let by = caller.writer(&RULE_WRITERS)?.id();
    let input = json_body(body)?;
    let now = state.clock.now();
    let rule = with_db(state, move |c| hr::save_and_read_rule(c, Some(id), &input, by, now)).await?;
    Ok(Json(rule))
}

// ---- remedial plans ----

/// A remedial plan (后进民警培训) with its officer and progress.
#[derive(Serialize, ToSchema)]
pub struct RemedialSummary {
    #[schema(value_type = i64)]
    pub id: RemedialPlanId,
    pub badge: String,
    pub name: String,
    #[schema(value_type = i64)]
    pub unit_id: UnitId,
    pub unit: String,
    /// `failed_exam`, `low_streak`, `referral` or `case_evaluation`.
    pub trigger: String,
    /// The trigger in the caller's language.
    pub trigger_label: String,
    /// Why the plan was opened, as recorded.
    pub reason: String,
    /// `review`, `practice`, `exam` or `closed`.
    pub stage: String,
    pub stage_label: String,
    /// `open`, `passed` or `escalated`.
    pub status: String,
    pub status_label: String,
    #[serde(with = "crate::timefmt")]
    pub opened_at: chrono::NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub deadline: chrono::NaiveDateTime,
    /// Open and past its deadline.
    pub overdue: bool,
    #[serde(serialize_with = "crate::timefmt::option::serialize")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<chrono::NaiveDateTime>,
    /// `passed` or `failed` once closed.
    pub outcome: Option<String>,
    pub exam_tries: i32,
    pub reviewed: usize,
    pub review_total: usize,
    /// Share right of the latest practice answers counted for mastery.
    pub mastery_percent: i32,
}

fn label(state: &AppState, lang: &str, key: String) -> String {
    state.renderer.text(lang, &key, &serde_json::json!({}))
}

fn summary(state: &AppState, lang: &str, r: remedial::PlanRow) -> RemedialSummary {
    let p = r.plan;
    RemedialSummary {
        trigger_label: label(state, lang, format!("remedial.trigger_{}", p.trigger_kind)),
        stage_label: label(state, lang, format!("remedial.stage_{}", p.stage)),
        status_label: label(state, lang, format!("remedial.status_{}", p.status)),
        id: p.id,
        badge: r.badge,
        name: r.name,
        unit_id: r.unit_id,
        unit: r.unit,
        review_total: p.review_vec().len(),
        trigger: p.trigger_kind.to_string(),
        reason: p.reason,
        stage: p.stage.to_string(),
        status: p.status.to_string(),
        opened_at: p.opened_at,
        deadline: p.deadline,
        overdue: r.overdue,
        closed_at: p.closed_at,
        outcome: p.outcome,
        exam_tries: p.exam_tries,
        reviewed: r.reviewed,
        mastery_percent: r.mastery.percent,
    }
}

#[derive(Serialize, ToSchema)]
pub struct RemedialPage {
    pub plans: Vec<RemedialSummary>,
    /// Plans matching the filters (all pages).
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

/// Whose plans the caller may read, or 403 (officers).
fn remedial_scope(caller: &Caller<'_>) -> AppResult<remedial::PlanScope> {
    match caller {
        Caller::System => Ok(remedial::PlanScope::Everyone),
        Caller::User(u) => remedial::scope_of(&u.user, &u.roles).ok_or_else(|| AppError::forbidden("your role does not allow this")),
    }
}

fn parse_date(field: &str, v: Option<&str>) -> AppResult<Option<chrono::NaiveDate>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::unprocessable(format!("{field}: {s:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// Remedial plans, newest first, filtered and paged. Trainers, HR and admins (and an HR API
/// token) read every plan; a unit leader the plans of officers in their unit and the units
/// under it, as on the remedial pages. `unit` includes the units under it.
#[utoipa::path(get, path = "/api/v1/remedial-plans", tag = "remedial", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "open, passed or escalated"),
           ("unit" = Option<i64>, Query, description = "unit id: its officers and those of the units under it"),
           ("badge" = Option<String>, Query, description = "one officer's badge"),
           ("overdue" = Option<bool>, Query, description = "true: open and past the deadline; false: the others"),
           ("opened_from" = Option<String>, Query, format = Date, description = "opened on or after (bureau date, YYYY-MM-DD)"),
           ("opened_to" = Option<String>, Query, format = Date, description = "opened on or before (bureau date, YYYY-MM-DD)"),
           ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "from 1 (default 1)"),
           ("per_page" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200 (default 50)"),
           ("Accept-Language" = Option<String>, Header, description = "language of the labels")),
    responses((status = 200, body = RemedialPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[allow(clippy::too_many_arguments)]
#[get("/api/v1/remedial-plans?<status>&<unit>&<badge>&<overdue>&<opened_from>&<opened_to>&<page>&<per_page>")]
pub async fn api_remedial_plans(
    state: &State<AppState>,
    caller: Caller<'_>,
    lang: ReaderLang,
    status: Option<&str>,
    unit: Option<&str>,
    badge: Option<&str>,
    overdue: Option<&str>,
    opened_from: Option<&str>,
    opened_to: Option<&str>,
    page: Option<&str>,
    per_page: Option<&str>,
) -> AppResult<Json<RemedialPage>> {
    let scope = remedial_scope(&caller)?;
    let mut errs = Vec::new();
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => crate::domain::remedial::Status::parse(s).or_else(|| {
            errs.push(format!("status: {s:?} is not open, passed or escalated"));
            None
        }),
    };
    let unit = match unit.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(u) => u.parse::<UnitId>().map_err(|_| errs.push(format!("unit: {u:?} is not a unit id"))).ok(),
    };
    let mut number = |field: &str, v: Option<&str>, range: std::ops::RangeInclusive<i64>| -> Option<i64> {
        let v = v.map(str::trim).filter(|s| !s.is_empty())?;
        match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                errs.push(format!("{field}: {v:?} is not a whole number from {} to {}", range.start(), range.end()));
                None
            }
        }
    };
    let page = number("page", page, 1..=1_000_000).unwrap_or(1) as usize;
    let per_page = number("per_page", per_page, 1..=200).unwrap_or(50) as usize;
    let overdue = match overdue.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(o) => {
            errs.push(format!("overdue: {o:?} is not true or false"));
            None
        }
    };
    let opened_from = parse_date("opened_from", opened_from).map_err(|e| errs.push(e.message)).ok().flatten();
    let opened_to = parse_date("opened_to", opened_to).map_err(|e| errs.push(e.message)).ok().flatten();
    if !errs.is_empty() {
        return Err(AppError::invalid_lines(&errs));
    }
    let filter = remedial::PlanFilter { status, unit, badge: badge.map(str::to_string), overdue, opened_from, opened_to };
    let now = state.clock.now();
    let (total, rows) =
        with_db(state, move |c| remedial::list_plans(c, scope, &filter, (page - 1).saturating_mul(per_page), per_page, now)).await?;
    Ok(Json(RemedialPage { plans: rows.into_iter().map(|r| summary(state, lang.0, r)).collect(), total, page, per_page }))
}

/// One step of a plan: self-review, targeted practice, the remedial exam.
#[derive(Serialize, ToSchema)]
pub struct RemedialStep {
    /// `review`, `practice` or `exam`.
    pub step: String,
    pub label: String,
    /// `done`, `current` or `pending` (a step the plan ended before stays `pending`).
    pub state: String,
}

#[derive(Serialize, ToSchema)]
pub struct RemedialDetail {
    pub plan: RemedialSummary,
    /// The statutes practice and the exam draw from (names).
    pub statutes: Vec<String>,
    /// The three steps, in order.
    pub steps: Vec<RemedialStep>,
    pub practice: crate::domain::remedial::Mastery,
    /// The current remedial exam's sitting, once mastery set one.
    #[schema(value_type = Option<i64>)]
    pub exam_sitting_id: Option<SittingId>,
}

/// One remedial plan with its steps (no question content: stems and keys stay on the pages of
/// those who may see them). Who may read it as for the list; a plan outside a leader's units is
/// 404, as one that does not exist.
#[utoipa::path(get, path = "/api/v1/remedial-plans/{id}", tag = "remedial", security(("bearer" = [])),
    params(("id" = i64, Path), ("Accept-Language" = Option<String>, Header, description = "language of the labels")),
    responses((status = 200, body = RemedialDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/remedial-plans/<id>")]
pub async fn api_remedial_plan(
    state: &State<AppState>,
    caller: Caller<'_>,
    lang: ReaderLang,
    id: RemedialPlanId,
) -> AppResult<Json<RemedialDetail>> {
    let scope = remedial_scope(&caller)?;
    let now = state.clock.now();
    let (row, statutes) = with_db(state, move |c| {
        let row = remedial::plan_in_scope(c, scope, id, now)?;
        let names = crate::services::questions::statute_names(c)?;
        let statutes = row.plan.statutes_vec().iter().map(|s| names.name(s)).collect::<Vec<_>>();
        Ok((row, statutes))
    })
    .await?;
    let order = [Stage::Review, Stage::Practice, Stage::Exam];
    let at = order.iter().position(|s| *s == row.plan.stage);
    let passed = row.plan.status == crate::domain::remedial::Status::Passed;
    let steps = order
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let state_name = match at {
                Some(a) if i < a => "done",
                Some(a) if i == a => "current",
                Some(_) => "pending",
                // closed: a passed plan went through every step; an escalated one ended at the exam
                None if passed => "done",
                None if i < 2 => "done",
                None => "pending",
            };
            RemedialStep {
                step: s.as_str().to_string(),
                label: label(state, lang.0, format!("remedial.stage_{}", s.as_str())),
                state: state_name.into(),
            }
        })
        .collect();
    let m = row.mastery.clone();
    let exam_sitting_id = row.plan.exam_sitting_id;
    Ok(Json(RemedialDetail { plan: summary(state, lang.0, row), statutes, steps, practice: m, exam_sitting_id }))
}

// ---- exam plans ----

const PLAN_READERS: [Role; 2] = [Role::Trainer, Role::Admin];

/// Every exam plan (双月考计划), oldest first (trainers and admins).
#[utoipa::path(get, path = "/api/v1/exam-plans", tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = [plans::PlanInfo]), (status = 403, body = ErrorBody)))]
#[get("/api/v1/exam-plans")]
pub async fn api_exam_plans(state: &State<AppState>, caller: Caller<'_>) -> AppResult<Json<Vec<plans::PlanInfo>>> {
    caller.require(&PLAN_READERS)?;
    let now = state.clock.now();
    with_db(state, move |c| plans::infos(c, now)).await.map(Json)
}

#[derive(Serialize, ToSchema)]
pub struct ExamPlanDetail {
    pub plan: plans::PlanInfo,
    /// Sittings the plan created (oldest first), then the next dates still to come (up to 6).
    pub occurrences: Vec<plans::Occurrence>,
}

/// One exam plan with its occurrences (trainers and admins).
#[utoipa::path(get, path = "/api/v1/exam-plans/{id}", tag = "plans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ExamPlanDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/v1/exam-plans/<id>")]
pub async fn api_exam_plan(state: &State<AppState>, caller: Caller<'_>, id: ExamPlanId) -> AppResult<Json<ExamPlanDetail>> {
    caller.require(&PLAN_READERS)?;
    let now = state.clock.now();
    let (plan, occurrences) = with_db(state, move |c| plans::plan_with_occurrences(c, id, 6, now)).await?;
    Ok(Json(ExamPlanDetail { plan, occurrences }))
}

/// Creates an exam plan (trainers, as on the plans page, with the same checks; 422 names each
/// field). The server creates each occurrence's sitting `lead_days` ahead and notifies its
/// candidates.
#[utoipa::path(post, path = "/api/v1/exam-plans", tag = "plans", security(("bearer" = [])), request_body = plans::PlanSpec,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api/v1/exam-plans", data = "<body>")]
pub async fn api_create_exam_plan(
    state: &State<AppState>,
    caller: Caller<'_>,
    body: Result<Json<plans::PlanSpec>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    let by = caller.writer(&[Role::Trainer])?.id();
    let spec = json_body(body)?;
    let now = state.clock.now();
    let id = with_db(state, move |c| plans::create(c, &spec, by, now)).await?;
    Ok((Status::Created, Json(Created { id: id.0 })))
}
