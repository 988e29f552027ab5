//! Admins: accounts, and importing officers from CSV (as a background job, with its page).

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, CsrfUpload, PageCtx, WithCsrf};
use super::with_db;
use crate::auth::Admin;
use crate::domain::ids::JobId;
use crate::domain::jobs::{percent, JobState};
use crate::error::{AppError, AppResult};
use crate::services::jobs;
use crate::services::people::{self, AccountInput, CSV_COLUMNS};

/// Largest CSV accepted (about 20,000 officers).
const MAX_CSV_BYTES: u64 = 4 * 1024 * 1024;

#[get("/admin/users")]
pub async fn users(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let list = with_db(ctx.state, move |c| crate::services::accounts::account_list(c, now)).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|crate::services::accounts::AccountRow { user: u, unit, roles, locked }| {
            json!({"id": u.id, "badge": u.badge, "name": u.name, "must_change": u.must_change_password,
                   "locked": locked, "unit": unit, "police_type": u.police_type, "post": u.post, "rank": u.rank,
                   "hire_date": u.hire_date.to_string(), "leader": u.is_leader, "legal": u.is_legal_officer, "active": u.active,
                   "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")})
        })
        .collect();
    ctx.render("admin/users", json!({ "users": rows }))
}

async fn new_user_page(ctx: &PageCtx<'_>, input: &AccountInput, errors: Vec<String>, created: Option<Value>) -> AppResult<RawHtml<String>> {
    let units = with_db(ctx.state, |c| people::units(c)).await?;
    ctx.render(
        "admin/user_form",
        json!({
            "errors": errors, "created": created,
            "f": { "badge": input.badge, "name": input.name, "police_type": input.police_type, "post": input.post, "rank": input.rank,
                   "hire_date": input.hire_date, "email": input.email, "enforcement_post": input.enforcement_post == "1",
                   "is_leader": input.is_leader == "1", "is_legal_officer": input.is_legal_officer == "1" },
            "units": units.iter().map(|u| json!({"name": u.name, "sel": u.name == input.unit})).collect::<Vec<_>>(),
            "roles": (["officer", "trainer", "leader", "hr", "admin"]).iter().map(|r| json!({"v": r, "sel": input.roles.split(',').any(|x| x == *r)})).collect::<Vec<_>>(),
        }),
    )
}

#[get("/admin/users/new")]
pub async fn new_user(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    let input = AccountInput { roles: "officer".into(), enforcement_post: "1".into(), ..Default::default() };
    new_user_page(&ctx, &input, vec![], None).await
}

#[derive(FromForm)]
pub struct UserForm {
    badge: String,
    name: String,
    unit: String,
    police_type: String,
    post: String,
    rank: String,
    hire_date: String,
    email: String,
    enforcement_post: bool,
    is_leader: bool,
    is_legal_officer: bool,
    roles: Vec<String>,
    password: String,
}

#[post("/admin/users/new", data = "<form>")]
pub async fn create_user(ctx: PageCtx<'_>, a: Admin<'_>, form: CsrfForm<UserForm>) -> AppResult<RawHtml<String>> {
    let f = form.0;
    let b = |v: bool| if v { "1".to_string() } else { "0".to_string() };
    let input = AccountInput {
        badge: f.badge,
        name: f.name,
        unit: f.unit,
        police_type: f.police_type,
        post: f.post,
        enforcement_post: b(f.enforcement_post),
        rank: f.rank,
        hire_date: f.hire_date,
        is_leader: b(f.is_leader),
        is_legal_officer: b(f.is_legal_officer),
        email: f.email,
        roles: f.roles.join(","),
        password: f.password,
    };
    let (now, by) = (ctx.state.clock.now(), a.id());
    let inp = input.clone();
    let lang = ctx.lang;
    match with_db(ctx.state, move |c| people::create_account_in(c, &inp, lang, Some(by), now)).await {
        Ok((_, generated)) => {
            let created = json!({"badge": input.badge.trim(), "name": input.name.trim(), "password": generated});
            new_user_page(
                &ctx,
                &AccountInput { roles: "officer".into(), enforcement_post: "1".into(), ..Default::default() },
                vec![],
                Some(created),
            )
            .await
        }
        Err(e) if e.is_invalid() => new_user_page(&ctx, &input, e.lines(), None).await,
        Err(e) if e.is_conflict() => new_user_page(&ctx, &input, vec![format!("badge: {}", ctx.said(&e))], None).await,
        Err(e) => Err(e),
    }
}

#[get("/admin/users/import")]
pub async fn import_page(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    import_form(&ctx, Vec::new()).await
}

async fn import_form(ctx: &PageCtx<'_>, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let recent = with_db(ctx.state, |c| jobs::recent_imports(c)).await?;
    let list: Vec<Value> = recent.iter().map(|j| job_json(ctx, j)).collect();
    ctx.render("admin/import", json!({ "columns": CSV_COLUMNS, "errors": errors, "created": Value::Null, "jobs": list }))
}

fn job_json(ctx: &PageCtx<'_>, j: &jobs::Job) -> Value {
    json!({
        "id": j.id, "rows_done": j.rows_done, "rows_total": j.rows_total,
        "percent": percent(j.rows_done.into(), j.rows_total.into()),
        "state": j.state.as_str(), "state_label": ctx.state.renderer.text(ctx.lang, &format!("admin.job_state_{}", j.state.as_str()), &json!({})),
        "created_at": crate::timefmt::local(j.created_at),
    })
}

#[derive(FromForm)]
pub struct ImportForm<'r> {
    #[field(name = "_csrf")]
    csrf: String,
    file: TempFile<'r>,
}

impl WithCsrf for ImportForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

/// Checks the upload at once (row errors shown here, nothing stored or queued), then queues the
/// import as a background job and goes to its page: hashing thousands of passwords does not
/// fit in one request.
#[post("/admin/users/import", data = "<form>")]
pub async fn import(ctx: PageCtx<'_>, a: Admin<'_>, form: CsrfUpload<ImportForm<'_>>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let file = &form.0.file;
    if file.len() > MAX_CSV_BYTES {
        return Err(AppError::new(crate::error::ErrorCode::TooLarge, "the file is larger than 4 MB"));
    }
    let path = file
        .path()
        .ok_or_else(|| AppError::bad_request("choose a CSV file to upload").localized("request_refusal.upload_none", json!({})))?
        .to_path_buf();
    let data = rocket::tokio::fs::read(&path).await.map_err(|e| {
        AppError::bad_request(format!("cannot read the upload: {e}")).localized("request_refusal.upload_unreadable", json!({}))
    })?;
    if data.is_empty() {
        return Err(AppError::bad_request("the file is empty").localized("request_refusal.upload_empty", json!({})));
    }
    let (now, by) = (ctx.state.clock.now(), a.id());
    let lang = ctx.lang;
    match with_db(ctx.state, move |c| jobs::queue_officer_import(c, &data, lang, by, now)).await? {
        Ok(id) => Ok(Either::Right(Redirect::to(format!("/admin/jobs/{id}")))),
        Err(errors) => import_form(&ctx, errors).await.map(Either::Left),
    }
}

/// A background job's page: progress while it runs (refreshing itself every 2 s, no script
/// needed), then its result or why it failed. The admin who started an import sees its initial
/// passwords on the first view after it is done, and never again.
#[get("/admin/jobs/<id>")]
pub async fn job_page(ctx: PageCtx<'_>, a: Admin<'_>, id: JobId) -> AppResult<RawHtml<String>> {
    let (now, viewer) = (ctx.state.clock.now(), a.id());
    let view = with_db(ctx.state, move |c| jobs::view_job(c, id, viewer, now)).await?;
    let state = view.job.state;
    let passwords_shown_at = view.passwords_shown_at.as_deref().map(|t| {
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").map(crate::timefmt::local).unwrap_or_else(|_| t.to_string())
    });
    ctx.render(
        "admin/job",
        json!({
            "job": job_json(&ctx, &view.job),
            "queued": state == JobState::Queued, "running": state == JobState::Running,
            "done": state == JobState::Done, "failed": state == JobState::Failed, "finished": state.finished(),
            "refresh_seconds": (!state.finished()).then_some(2),
            "accounts": view.accounts, "errors": view.errors,
            "passwords_now": view.passwords_now, "passwords_shown_at": passwords_shown_at,
            "passwords_withheld": view.passwords_withheld,
        }),
    )
}
