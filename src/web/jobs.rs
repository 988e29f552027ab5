//! A background job's page for the one who started it (question and case-evaluation imports,
//! the bureau's export): progress while it runs, refreshing itself every 2 s without script,
//! then its result, its row-numbered errors (nothing stored), or its file to download (or, once
//! the dated sweep has deleted it, that it has expired: 410 for the file). Officer
//! imports have their own page for admins (`web::admin::job_page`).

use rocket::get;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::Either;
use serde_json::{json, Value};

use super::pages::PageCtx;
use super::with_db;
use crate::auth::CurrentUser;
use crate::domain::ids::JobId;
use crate::domain::jobs::{percent, JobKind, JobState};
use crate::error::AppResult;
use crate::services::jobs::{self, Job};

/// A job as the lists and its page show it.
pub fn job_json(ctx: &PageCtx<'_>, j: &Job) -> Value {
    json!({
        "id": j.id, "kind": j.kind.as_str(), "rows_done": j.rows_done, "rows_total": j.rows_total,
        "percent": percent(j.rows_done.into(), j.rows_total.into()),
        "kind_label": ctx.state.renderer.text(ctx.lang, &format!("jobs.kind_{}", j.kind.as_str()), &json!({})),
        "state": j.state.as_str(), "state_label": ctx.state.renderer.text(ctx.lang, &format!("admin.job_state_{}", j.state.as_str()), &json!({})),
        "created_at": crate::timefmt::local(j.created_at),
        "queued": j.state == JobState::Queued, "running": j.state == JobState::Running,
        "done": j.state == JobState::Done, "failed": j.state == JobState::Failed, "finished": j.state.finished(),
    })
}

#[get("/jobs/<id>")]
pub async fn job_show(ctx: PageCtx<'_>, u: &CurrentUser, id: JobId) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let viewer = u.id();
    let (job, file_kept) = with_db(ctx.state, move |c| {
        let job = jobs::job_for(c, id, viewer)?;
        let kept = job.kind == JobKind::FileExport && job.state == JobState::Done && jobs::file_kept(c, id)?;
        Ok((job, kept))
    })
    .await?;
    if job.kind == JobKind::OfficerImport {
        // the admins' page, which shows the initial passwords once
        return Ok(Either::Right(Redirect::to(format!("/admin/jobs/{id}"))));
    }
    let result: Value = job.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
    let errors: Vec<String> = match jobs::stored_problems(&job) {
        Some(problems) => problems.iter().map(|p| crate::render::say_located(ctx.lang, p)).collect(),
        None => job.errors.as_deref().map(|e| e.lines().map(str::to_string).collect()).unwrap_or_default(),
    };
    let back = match job.kind {
        JobKind::QuestionImport => job.subject_id.map(|s| format!("/bank/import/{s}")).unwrap_or_else(|| "/bank/import".into()),
        JobKind::CaseImport => "/remedial/case-evaluations".into(),
        JobKind::FileExport => "/hr/compliance".into(),
        JobKind::OfficerImport => "/admin/users/import".into(),
    };
    ctx.render(
        "jobs/show",
        json!({
            "job": job_json(&ctx, &job), "result": result, "errors": errors, "back": back,
            "question_import": job.kind == JobKind::QuestionImport, "case_import": job.kind == JobKind::CaseImport,
            "file_export": job.kind == JobKind::FileExport, "file_name": job.file_name, "file_kept": file_kept,
            "refresh_seconds": (!job.state.finished()).then_some(2),
        }),
    )
    .map(Either::Left)
}

/// The file an export job produced, for the one who asked for it only.
#[get("/jobs/<id>/file")]
pub async fn job_file(ctx: PageCtx<'_>, u: &CurrentUser, id: JobId) -> AppResult<super::bank_files::Download> {
    let viewer = u.id();
    let (name, bytes) = with_db(ctx.state, move |c| jobs::job_file(c, id, viewer)).await?;
    let ct = if name.ends_with(".csv") { crate::services::file_export::Format::Csv } else { crate::services::file_export::Format::Xlsx };
    Ok(super::bank_files::download(bytes, ct.content_type(), &name))
}
