//! The JSON API under `/api/v1`, and its OpenAPI document at `/api/openapi.json`.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, put, State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::guards::Arrived;
use super::with_db;
use crate::auth::{random_token, token_hash, Officer, ResultsReader, Trainer};
use crate::domain::exam::SubmitKind;
use crate::domain::ids::{AttemptId, SittingId, VersionId};
use crate::domain::paper::BlueprintSpec;
use crate::error::{AppError, AppResult};
use crate::services::exams::{self, AttemptView, Candidate, ResultRow, SittingSpec, SittingSummary, SubmitResult};
use crate::services::save_writer::SaveTrace;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "lawcert API", version = "1", description = "Candidate flow, trainers' scheduling and results, exam plans, remedial plans, promotion rules and eligibility, the bureau's compliance targets and remedial rules. Errors are {\"error\": {\"code\", \"message\"}}."),
    paths(create_token, my_sittings, start_attempt, get_attempt, save_answer, attempt_event, submit_attempt, create_blueprint, create_sitting, sitting_results,
          register_for_certification, register_for_certification_old_path, verify_certificate, crate::web::hr::records,
          crate::web::account::put_password, crate::web::account::list_tokens, crate::web::account::delete_token,
          crate::web::admin_accounts::api_account, crate::web::admin_accounts::api_reset, crate::web::admin_accounts::api_disable,
          crate::web::admin_accounts::api_enable, crate::web::admin_accounts::api_unlock,
          crate::web::api_hr::api_eligibility, crate::web::api_hr::api_promotion_rules, crate::web::api_hr::api_promotion_rule,
          crate::web::api_hr::api_create_promotion_rule, crate::web::api_hr::api_update_promotion_rule, crate::web::api_hr::api_remedial_plans,
          crate::web::api_hr::api_remedial_plan, crate::web::api_hr::api_exam_plans, crate::web::api_hr::api_exam_plan,
          crate::web::api_hr::api_create_exam_plan, items_calibration, items_exposure, crate::web::settings::api_targets, crate::web::settings::api_put_targets,
          crate::web::settings::api_rules, crate::web::settings::api_put_rules),
    components(schemas(TokenRequest, TokenResponse, ErrorBody, ErrorDetail, crate::error::ErrorCode, crate::error::FieldError, SaveRequest, SaveResponse, NewBlueprint, Created, SittingSpec, BlueprintSpec,
        EventRequest, crate::services::proctor::EventOutcome, RegisterRequest, VerifyResponse, crate::web::hr::FeedPage, crate::web::hr::AuditHead, crate::services::training::Record,
        crate::web::account::PasswordChange, crate::web::account::TokenInfo, crate::web::admin_accounts::AccountStatus,
        crate::web::admin_accounts::SignInCount, crate::web::admin_accounts::PasswordReset,
        crate::web::api_hr::EligibilityRequest, crate::web::api_hr::RuleTarget, crate::web::api_hr::EligibilityResponse, crate::web::api_hr::BadgeVerdict,
        crate::services::hr::Reason, crate::web::api_hr::RuleOut, crate::services::hr::RuleInput, crate::web::api_hr::RemedialSummary,
        crate::web::api_hr::RemedialPage, crate::web::api_hr::RemedialStep, crate::domain::remedial::Mastery, crate::web::api_hr::RemedialDetail,
        crate::services::plans::PlanInfo, crate::services::plans::Occurrence, crate::services::plans::PlanSpec, crate::web::api_hr::ExamPlanDetail, crate::services::calibration::CalibrationRow,
        crate::services::exposure::ExposureItem, crate::domain::compliance::Targets, crate::domain::remedial::RemedialRules)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
pub struct ApiDoc;

/// Every call can fail the same few ways, always with `ErrorBody`: a body that is not the
/// documented JSON (400), no or an expired sign-in (401), a role that may not (403), nothing
/// there (404), a path or query value of the wrong type or an invalid request (422), too many
/// sign-in attempts (429). Documenting them on every operation lets API fuzzing check each
/// error's shape against the schema.
struct ErrorResponses;
impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                .build()
        };
        let codes = [
            ("400", "malformed request"),
            ("401", "not signed in"),
            ("403", "not allowed"),
            ("404", "not found"),
            ("422", "invalid request"),
            ("429", "too many attempts"),
        ];
        // the catalogue of codes, each with its status and meaning
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(code))) =
            openapi.components.as_mut().and_then(|c| c.schemas.get_mut("ErrorCode"))
        {
            let list: Vec<String> =
                crate::error::ErrorCode::ALL.iter().map(|c| format!("- `{}` ({}): {}", c.as_str(), c.http_status(), c.meaning())).collect();
            code.description = Some(format!("Error codes, with the HTTP status each is answered with:\n\n{}", list.join("\n")));
            // the values as the body carries them (the derive would list the Rust names)
            code.enum_values = Some(crate::error::ErrorCode::ALL.iter().map(|c| serde_json::Value::from(c.as_str())).collect());
        }
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
                for (code, what) in codes {
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| error(what).into());
                }
            }
        }
    }
}

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[get("/api/openapi.json")]
pub fn openapi() -> (rocket::http::ContentType, String) {
    (rocket::http::ContentType::JSON, ApiDoc::openapi().to_pretty_json().expect("openapi serialises"))
}

/// The error body of every failed call.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, from the catalogue below; clients branch on it.
    pub code: crate::error::ErrorCode,
    /// For people: the particulars, in English.
    pub message: String,
    /// For `invalid`: each field's problem.
    pub fields: Vec<crate::error::FieldError>,
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// 警号
    pub badge: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    #[serde(with = "crate::timefmt")]
    pub expires_at: chrono::NaiveDateTime,
}

pub(crate) fn json_body<T>(body: Result<Json<T>, rocket::serde::json::Error<'_>>) -> AppResult<T> {
    body.map(|j| j.into_inner()).map_err(|e| AppError::bad_request(format!("request body: {e}")))
}

/// Exchanges a badge and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[post("/api/v1/auth/token", data = "<body>")]
pub async fn create_token(
    state: &State<AppState>,
    body: Result<Json<TokenRequest>, rocket::serde::json::Error<'_>>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Json<TokenResponse>> {
    let req = json_body(body)?;
    let badge = req.badge.trim().to_string();
    let user = with_db(state, move |c| crate::services::accounts::account_by_badge(c, &badge)).await?;
    // unknown or disabled accounts cost the same time as a wrong password
    let hash = user.as_ref().filter(|u| u.active).map(|u| u.password_hash.clone());
    let ok = crate::auth::check_sign_in(state, &req.badge, ip, req.password.clone(), hash, user.as_ref().map(|u| u.id))
        .await?
        .map_err(crate::auth::locked_out)?;
    let Some(user) = user.filter(|_| ok) else { return Err(AppError::unauthorized("wrong badge or password")) };
    let token = random_token();
    let hash = token_hash(&token);
    let prefix = crate::domain::accounts::token_prefix(&token);
    let now = state.clock.now();
    let expires_at = now + chrono::Duration::hours(state.config.token_hours);
    let csrf = random_token();
    with_db(state, move |c| crate::services::accounts::issue_api_token(c, &hash, &prefix, user.id, &csrf, now, expires_at)).await?;
    Ok(Json(TokenResponse { token, expires_at }))
}

/// Sittings the caller may sit (not yet closed, or closed with the caller's attempt).
#[utoipa::path(get, path = "/api/v1/me/sittings", security(("bearer" = [])),
    responses((status = 200, body = [SittingSummary]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/v1/me/sittings")]
pub async fn my_sittings(state: &State<AppState>, o: Officer<'_>) -> AppResult<Json<Vec<SittingSummary>>> {
    let u = o.user.clone();
    let now = state.clock.now();
    with_db(state, move |c| {
        exams::sittings_for(c, &Candidate { id: u.id, badge: &u.badge, unit_id: u.unit_id, police_type: &u.police_type }, now)
    })
    .await
    .map(Json)
}

/// Starts (201) or resumes (200) the caller's attempt.
#[utoipa::path(post, path = "/api/v1/sittings/{id}/attempts", security(("bearer" = [])),
    params(("id" = i64, Path), ("access_code" = Option<String>, Query, description = "the code the proctor announces, when the sitting has one")),
    responses((status = 201, body = AttemptView), (status = 200, body = AttemptView), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/v1/sittings/<id>/attempts?<access_code>")]
pub async fn start_attempt(
    arrived: Arrived,
    state: &State<AppState>,
    o: Officer<'_>,
    id: SittingId,
    access_code: Option<&str>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<(Status, Json<AttemptView>)> {
    let mut trace = exams::StartTrace::new(arrived.0);
    let u = o.user.clone();
    let now = state.clock.now();
    let st: &AppState = state;
    let pool = st.pool.clone();
    let versions = &st.versions;
    let (view, created) = {
        let mut conn = rocket::tokio::task::block_in_place(|| pool.get())?;
        trace.connected = Some(std::time::Instant::now());
        rocket::tokio::task::block_in_place(|| -> AppResult<(AttemptView, bool)> {
            let room = exams::RoomEntry { access_code, ip };
            let (a, created) = exams::start_attempt(
                &mut conn,
                &st.attempts,
                id,
                &Candidate { id: u.id, badge: &u.badge, unit_id: u.unit_id, police_type: &u.police_type },
                &room,
                now,
                Some(&mut trace),
            )?;
            let s = crate::services::exams::sitting_of(&mut conn, a.sitting_id)?;
            Ok((exams::attempt_view(&mut conn, versions, &a, &s.title, now)?, created))
        })?
    };
    trace.viewed = Some(std::time::Instant::now());
    state.metrics.observe_start(&trace);
    Ok((if created { Status::Created } else { Status::Ok }, Json(view)))
}

/// The caller's attempt with the answers saved so far.
#[utoipa::path(get, path = "/api/v1/attempts/{id}", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AttemptView), (status = 404, body = ErrorBody)))]
#[get("/api/v1/attempts/<id>")]
pub async fn get_attempt(
    state: &State<AppState>,
    o: Officer<'_>,
    id: AttemptId,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Json<AttemptView>> {
    let uid = o.user.id;
    let now = state.clock.now();
    let st: &AppState = state;
    rocket::tokio::task::block_in_place(|| {
        let mut conn = st.pool.get()?;
        let a = exams::read_own_attempt(&mut conn, &st.versions, &st.attempts, id, uid, ip, now)?;
        let s = crate::services::exams::sitting_of(&mut conn, a.sitting_id)?;
        exams::attempt_view(&mut conn, &st.versions, &a, &s.title, now).map(Json)
    })
}

#[derive(Deserialize, ToSchema)]
pub struct SaveRequest {
    /// Option ids chosen (empty to clear the answer).
    pub choices: Vec<String>,
    /// Marked for review; unchanged when absent.
    #[serde(default)]
    pub flagged: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct SaveResponse {
    #[serde(with = "crate::timefmt")]
    pub saved_at: chrono::NaiveDateTime,
}

/// Saves one answer. 409 once the deadline has passed or the attempt is submitted. 503
/// `overloaded` (with `Retry-After` in seconds) when the server's save queue is full: the
/// answer was not stored; send it again after the wait, with some random extra.
#[utoipa::path(put, path = "/api/v1/attempts/{id}/answers/{version_id}", security(("bearer" = [])),
    params(("id" = i64, Path), ("version_id" = i64, Path, description = "the question version on the paper (the attempt's `questions[].id`)")), request_body = SaveRequest,
    responses((status = 200, body = SaveResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "overloaded: not stored; retry after the Retry-After seconds",
            headers(("Retry-After" = u32, description = "seconds to wait before sending the answer again")))))]
#[put("/api/v1/attempts/<id>/answers/<version_id>", data = "<body>")]
pub async fn save_answer(
    // first: an overloaded server refuses before the session or the body is looked at
    door: super::guards::SaveAdmission,
    state: &State<AppState>,
    o: Officer<'_>,
    id: AttemptId,
    version_id: VersionId,
    body: Result<Json<SaveRequest>, rocket::serde::json::Error<'_>>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Json<SaveResponse>> {
    let mut trace = SaveTrace::new(door.arrived, door.admitted);
    let req = json_body(body)?;
    let uid = o.user.id;
    let now = state.clock.now();
    let answer = exams::AnswerInput { attempt_id: id, user_id: uid, version_id, choices: &req.choices, flagged: req.flagged, ip, now };
    let saved_at = exams::save_answer_grouped(state.save_path(), answer, &mut trace).await;
    state.metrics.observe_save(&trace);
    // the door's second measure of load (`services::admission`)
    if let Some(waited) = trace.wake() {
        state.load.note_wake(waited);
    }
    Ok(Json(SaveResponse { saved_at: saved_at? }))
}

#[derive(Deserialize, ToSchema)]
pub struct EventRequest {
    /// `focus_loss` or `fullscreen_exit`.
    pub kind: String,
}

/// Records a focus-loss or leave-full-screen event; at the sitting's limit the attempt is
/// flagged for the proctor or submitted, as the sitting says.
#[utoipa::path(post, path = "/api/v1/attempts/{id}/events", security(("bearer" = [])), params(("id" = i64, Path)), request_body = EventRequest,
    responses((status = 200, body = crate::services::proctor::EventOutcome), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api/v1/attempts/<id>/events", data = "<body>")]
pub async fn attempt_event(
    state: &State<AppState>,
    o: Officer<'_>,
    id: AttemptId,
    body: Result<Json<EventRequest>, rocket::serde::json::Error<'_>>,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Json<crate::services::proctor::EventOutcome>> {
    let req = json_body(body)?;
    let (uid, now) = (o.user.id, state.clock.now());
    let st: &AppState = state;
    rocket::tokio::task::block_in_place(|| {
        let mut conn = st.pool.get()?;
        exams::own_attempt_in_room(&mut conn, &st.attempts, id, uid, ip)?;
        Ok(Json(crate::services::proctor::record_event(&mut conn, &st.versions, id, uid, &req.kind, now)?))
    })
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// `basic`, `intermediate` or `advanced`.
    pub level: String,
}

/// An officer registers (报名) for a certification level; refused (422 `not_eligible`) with
/// every reason.
#[utoipa::path(post, path = "/api/v1/certification/registrations", security(("bearer" = [])), request_body = RegisterRequest,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api/v1/certification/registrations", data = "<body>")]
pub async fn register_for_certification(
    state: &State<AppState>,
    o: Officer<'_>,
    body: Result<Json<RegisterRequest>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    register(state, &o, body)
}

/// The same as `POST /api/v1/certification/registrations`, under the path integrators first
/// used; kept so their clients keep working.
#[utoipa::path(post, path = "/api/v1/certification/applications", security(("bearer" = [])), request_body = RegisterRequest,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[deprecated = "use POST /api/v1/certification/registrations"]
#[post("/api/v1/certification/applications", data = "<body>")]
pub async fn register_for_certification_old_path(
    state: &State<AppState>,
    o: Officer<'_>,
    body: Result<Json<RegisterRequest>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    register(state, &o, body)
}

fn register(
    state: &AppState,
    o: &Officer<'_>,
    body: Result<Json<RegisterRequest>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    let req = json_body(body)?;
    let level =
        crate::domain::bank::Level::parse(&req.level).ok_or_else(|| AppError::unprocessable("level: basic, intermediate or advanced"))?;
    let (uid, now) = (o.user.id, state.clock.now());
    let id = rocket::tokio::task::block_in_place(|| {
        let mut conn = state.pool.get()?;
        crate::services::certification::register(&mut conn, uid, level, uid, now)
    })?;
    Ok((Status::Created, Json(Created { id: id.0 })))
}

#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    pub number: String,
    /// The holder's name, to compare with the name printed on the certificate.
    pub holder_name: String,
    /// The holder's badge with its tail masked, e.g. `1000**`.
    pub holder_badge: String,
    pub level: String,
    pub issued_on: chrono::NaiveDate,
    pub expires_on: chrono::NaiveDate,
    /// valid, expired, lapsed or revoked.
    pub status: String,
}

/// Public certificate check (no sign-in): by number and the code printed on the certificate.
/// Of the holder it gives only the name and the masked badge. 404 unless both match.
#[utoipa::path(get, path = "/api/v1/certificates/verify", params(("number" = String, Query), ("code" = String, Query)),
    responses((status = 200, body = VerifyResponse), (status = 404, body = ErrorBody)))]
#[get("/api/v1/certificates/verify?<number>&<code>")]
pub async fn verify_certificate(state: &State<AppState>, number: &str, code: &str) -> AppResult<Json<VerifyResponse>> {
    let today = crate::timefmt::bureau_date(state.clock.now());
    let st: &AppState = state;
    let v = rocket::tokio::task::block_in_place(|| {
        let mut conn = st.pool.get()?;
        crate::services::certification::verify(&mut conn, number, code, today)
    })?
    .ok_or_else(|| AppError::not_found("no certificate with that number and code"))?;
    Ok(Json(VerifyResponse {
        number: v.number,
        holder_name: v.holder_name,
        holder_badge: v.holder_badge,
        level: v.level.to_string(),
        issued_on: v.issued_on,
        expires_on: v.expires_on,
        status: v.status.as_str().into(),
    }))
}

/// Submits the attempt and grades it; calling again returns the same result.
#[utoipa::path(post, path = "/api/v1/attempts/{id}/submit", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = SubmitResult), (status = 404, body = ErrorBody)))]
#[post("/api/v1/attempts/<id>/submit")]
pub async fn submit_attempt(
    state: &State<AppState>,
    o: Officer<'_>,
    id: AttemptId,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Json<SubmitResult>> {
    let uid = o.user.id;
    let now = state.clock.now();
    let st: &AppState = state;
    rocket::tokio::task::block_in_place(|| {
        let mut conn = st.pool.get()?;
        let a = exams::own_attempt_in_room(&mut conn, &st.attempts, id, uid, ip)?;
        let a = exams::submit(&mut conn, &st.versions, a.id, SubmitKind::Manual, now)?;
        let s = crate::services::exams::sitting_of(&mut conn, a.sitting_id)?;
        let scaled = crate::services::scale::of_attempt(&mut conn, a.id)?;
        Ok(Json(exams::result_for_candidate(&a, &s, scaled.as_ref(), now)))
    })
}

#[derive(Deserialize, ToSchema)]
pub struct NewBlueprint {
    pub name: String,
    pub spec: BlueprintSpec,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Creates a blueprint (trainers).
#[utoipa::path(post, path = "/api/v1/blueprints", security(("bearer" = [])), request_body = NewBlueprint,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/api/v1/blueprints", data = "<body>")]
pub async fn create_blueprint(
    state: &State<AppState>,
    t: Trainer<'_>,
    body: Result<Json<NewBlueprint>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    let req = json_body(body)?;
    let by = t.user.id;
    let now = state.clock.now();
    let id = with_db(state, move |c| exams::create_blueprint(c, &req.name, &req.spec, Some(by), now)).await?;
    Ok((Status::Created, Json(Created { id: id.0 })))
}

/// Schedules a sitting from a blueprint (trainers). Times are UTC.
#[utoipa::path(post, path = "/api/v1/sittings", security(("bearer" = [])), request_body = SittingSpec,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/api/v1/sittings", data = "<body>")]
pub async fn create_sitting(
    state: &State<AppState>,
    t: Trainer<'_>,
    body: Result<Json<SittingSpec>, rocket::serde::json::Error<'_>>,
) -> AppResult<(Status, Json<Created>)> {
    let spec = json_body(body)?;
    let by = t.user.id;
    let now = state.clock.now();
    let id = with_db(state, move |c| exams::schedule(c, &spec, Some(by), now)).await?;
    Ok((Status::Created, Json(Created { id: id.0 })))
}

/// A sitting's results (trainers, HR, admins; unit leaders see their unit).
#[utoipa::path(get, path = "/api/v1/sittings/{id}/results", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [ResultRow]), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/v1/sittings/<id>/results")]
pub async fn sitting_results(state: &State<AppState>, r: ResultsReader<'_>, id: SittingId) -> AppResult<Json<Vec<ResultRow>>> {
    let scope = exams::results_scope(&r.user, &r.roles);
    with_db(state, move |c| exams::sitting_results(c, id, scope.as_deref())).await.map(|(_, rows)| Json(rows))
}

/// The bank's Rasch calibration (trainers): per question version, the difficulty in logits with
/// its standard error, the graded responses behind it, infit and outfit mean squares, the flags
/// raised and whether it was anchored. Empty until a calibration has run.
#[utoipa::path(get, path = "/api/v1/items/calibration", security(("bearer" = [])),
    responses((status = 200, body = [crate::services::calibration::CalibrationRow]), (status = 403, body = ErrorBody)))]
#[get("/api/v1/items/calibration")]
pub async fn items_calibration(
    state: &State<AppState>,
    _t: Trainer<'_>,
) -> AppResult<Json<Vec<crate::services::calibration::CalibrationRow>>> {
    with_db(state, |c| crate::services::calibration::stored(c)).await.map(Json)
}

/// Item exposure (trainers): on how many papers each question version appeared — in every
/// sitting, or in the one `sitting` names — most exposed first. Drawing prefers less-exposed
/// versions, with the counts frozen in each sitting's pool when it is created.
#[utoipa::path(get, path = "/api/v1/items/exposure", security(("bearer" = [])),
    params(("sitting" = Option<i64>, Query, description = "a sitting id: that sitting's papers only")),
    responses((status = 200, body = [crate::services::exposure::ExposureItem]), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[get("/api/v1/items/exposure?<sitting>")]
pub async fn items_exposure(
    state: &State<AppState>,
    _t: Trainer<'_>,
    sitting: Option<&str>,
) -> AppResult<Json<Vec<crate::services::exposure::ExposureItem>>> {
    let sitting = match sitting.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<SittingId>().map_err(|_| AppError::invalid_lines(&[format!("sitting: {s:?} is not a sitting id")]))?),
    };
    with_db(state, move |c| crate::services::exposure::list(c, sitting)).await.map(Json)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_lists_the_error_codes_as_the_body_carries_them() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap();
        let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
        let codes: Vec<&str> = codes.as_array().expect("an enum").iter().filter_map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), crate::error::ErrorCode::ALL.len());
        for c in ["unauthorized", "outside_exam_room", "overloaded", "invalid"] {
            assert!(codes.contains(&c), "{c} in {codes:?}");
        }
    }
}
