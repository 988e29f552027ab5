//! Trainers' bank files: import (upload → preview with every error → commit all or nothing),
//! export, and the Excel template.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::{ContentType, Header};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Responder};
use serde_json::{json, Value};

use super::pages::{CsrfForm, CsrfUpload, Empty, PageCtx, WithCsrf};
use super::{local, with_db};
use crate::auth::Trainer;
use crate::domain::bank::Level;
use crate::domain::formats::{self, Defaults, Format};
use crate::domain::ids::ImportId;
use crate::domain::item_lint::{self, LintItem, LintLimits};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::bank_import::{self, Preview};

/// Uploads larger than this are refused before they are read.
pub const MAX_BANK_FILE_BYTES: u64 = 5 * 1024 * 1024;

#[derive(Responder)]
pub struct Download(Vec<u8>, ContentType, Header<'static>);

pub fn download(bytes: Vec<u8>, content_type: &str, filename: &str) -> Download {
    let ct = ContentType::parse_flexible(content_type).unwrap_or(ContentType::Binary);
    Download(bytes, ct, Header::new("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
}

async fn form_page(ctx: &PageCtx<'_>, errors: Vec<Problem>) -> AppResult<RawHtml<String>> {
    let errors = super::bank::said(ctx.lang, &errors);
    let names = with_db(ctx.state, |c| crate::services::questions::statute_names(c)).await?;
    ctx.render(
        "bank/import",
        json!({
            "errors": errors, "max_mb": MAX_BANK_FILE_BYTES / 1024 / 1024,
            "statutes": names.list().iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
        }),
    )
}

#[get("/bank/import")]
pub async fn import_page(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    form_page(&ctx, vec![]).await
}

#[derive(FromForm)]
pub struct UploadForm<'r> {
    #[field(name = "_csrf")]
    csrf: String,
    file: TempFile<'r>,
    format: Option<String>,
    statute: Option<String>,
    edition: Option<String>,
    difficulty: Option<String>,
    levels: Vec<String>,
}

impl WithCsrf for UploadForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

#[post("/bank/import", data = "<form>")]
pub async fn upload(
    ctx: PageCtx<'_>,
    t: Trainer<'_>,
    form: CsrfUpload<UploadForm<'_>>,
) -> AppResult<rocket::Either<RawHtml<String>, Redirect>> {
    let f = form.0;
    let mut errors = Vec::new();
    if f.file.len() > MAX_BANK_FILE_BYTES {
        let mb = MAX_BANK_FILE_BYTES / 1024 / 1024;
        errors.push(Problem::with(
            "file",
            "bank_file.upload_too_large",
            vec![("mb", mb.to_string())],
            format!("larger than {mb} MB; split it into several files"),
        ));
    }
    // the name as the trainer's computer sent it: only its last part, for display and the extension
    let raw = f.file.raw_name().map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string()).unwrap_or_default();
    let file_name: String = raw.rsplit(['/', '\\']).next().unwrap_or("").chars().filter(|c| !c.is_control()).take(120).collect();
    let format = match f.format.as_deref().unwrap_or("auto") {
        "" | "auto" => Format::from_filename(&file_name),
        other => Format::parse_name(other),
    };
    let Some(format) = format else {
        errors.push(Problem::with(
            "format",
            "bank_file.upload_format",
            vec![("name", file_name.clone())],
            format!(
                "cannot tell the format of {file_name:?}; use .xlsx, .xml (Moodle), .gift, .txt (Aiken) or .toml, or choose the format"
            ),
        ));
        return form_page(&ctx, errors).await.map(rocket::Either::Left);
    };
    let difficulty = match f.difficulty.as_deref().unwrap_or("").trim() {
        "" => None,
        d => match d.parse::<i32>() {
            Ok(n) if (1..=3).contains(&n) => Some(n),
            _ => {
                errors.push(Problem::plain("difficulty", "bank_file.upload_difficulty", "1, 2 or 3"));
                None
            }
        },
    };
    let levels: Vec<Level> = f.levels.iter().filter_map(|l| Level::parse(l)).collect();
    if !errors.is_empty() {
        return form_page(&ctx, errors).await.map(rocket::Either::Left);
    }
    let Some(path) = f.file.path().map(|p| p.to_path_buf()) else {
        let none = Problem::plain("file", "bank_file.upload_no_file", "choose a file to upload");
        return form_page(&ctx, vec![none]).await.map(rocket::Either::Left);
    };
    let bytes = rocket::tokio::fs::read(&path).await.map_err(|e| {
        AppError::bad_request(format!("cannot read the upload: {e}")).localized("request_refusal.upload_unreadable", json!({}))
    })?;
    if bytes.is_empty() {
        let empty = Problem::plain("file", "bank_file.upload_empty", "the file is empty");
        return form_page(&ctx, vec![empty]).await.map(rocket::Either::Left);
    }
    let defaults = Defaults {
        statute: f.statute.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        edition: f.edition.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        difficulty,
        levels,
    };
    let (by, now) = (t.user.id, ctx.state.clock.now());
    let id = with_db(ctx.state, move |c| bank_import::stage(c, by, &file_name, format, &bytes, &defaults, now)).await?;
    Ok(rocket::Either::Right(Redirect::to(format!("/bank/import/{id}"))))
}

/// A checked file as its preview shows it, each problem and place said in `lang`.
fn preview_json(p: &Preview, file_name: &str, lang: &str) -> Value {
    use crate::render::{say_located, say_said};
    let said = |problems: &[crate::domain::said::Located]| problems.iter().map(|e| say_located(lang, e)).collect::<Vec<_>>();
    let items: Vec<LintItem<'_>> = p
        .parsed
        .entries
        .iter()
        .map(|e| LintItem {
            code: &e.code,
            file: file_name.to_string(),
            statute: e.content.statute.clone(),
            content: &e.content,
            case: e.case.as_ref().map(|c| (c.code.as_str(), c.text.as_str())),
        })
        .collect();
    let lint = item_lint::lint(&items, &LintLimits::report_only());
    let entries: Vec<Value> = p
        .parsed
        .entries
        .iter()
        .zip(&p.changes)
        .map(|(e, change)| {
            json!({
                "location": say_said(lang, &e.location), "code": e.code, "kind": e.content.kind.as_str(), "statute": e.content.statute,
                "edition": e.content.edition, "articles": e.content.articles.join("、"), "stem": e.content.stem.chars().take(60).collect::<String>(),
                "case": e.case.as_ref().map(|c| c.code.clone()), "errors": said(&e.errors), "change": change,
                "incomplete": e.incomplete, "cues": lint.cues.get(&e.code).cloned().unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "entries": entries, "file_errors": said(&p.parsed.file_errors), "counts": p.counts,
        "unsupported": p.parsed.unsupported.iter().map(|u| json!({"location": say_said(lang, &u.location), "kind": u.kind, "title": u.title})).collect::<Vec<_>>(),
        "error_count": p.parsed.error_count(), "committable": p.committable(), "lint": lint_json(&lint),
    })
}

/// The item-writing report of an imported file, as the preview shows it.
fn lint_json(r: &item_lint::LintReport) -> Value {
    let o = &r.overall;
    let rate = |x: &item_lint::Rate| x.percent.map(|p| format!("{}/{} ({p}%)", x.n, x.of));
    json!({
        "questions": o.questions,
        "longest_key": rate(&o.longest_key),
        "absolute_keys": rate(&o.absolute_options_keys), "keys_share": o.keys_among_options.percent,
        "absolute_true": rate(&o.absolute_truefalse_true),
        "all_but_one": rate(&o.all_but_one),
        "truefalse_true": rate(&o.truefalse_true),
        "key_positions": o.key_positions.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join("，"),
        "negative": o.negative_unemphasised.join("、"),
        "cue_only": o.cue_score.cue_only, "chance": o.cue_score.chance, "over_chance": o.cue_score.over_chance,
        "duplicates": r.duplicates,
    })
}

// ranked after /bank/<id>/edit, which it would otherwise collide with ("import" is no id)
#[get("/bank/import/<id>", rank = 2)]
pub async fn preview(ctx: PageCtx<'_>, t: Trainer<'_>, _free: super::guards::OutsideExam<'_>, id: ImportId) -> AppResult<RawHtml<String>> {
    let by = t.user.id;
    let (imp, p, job) = with_db(ctx.state, move |c| {
        let s = bank_import::staged(c, id, by)?;
        let p = bank_import::preview_staged(c, &s)?;
        let job = crate::services::jobs::commit_of_import(c, id)?;
        Ok((s.import, p, job))
    })
    .await?;
    let report: Option<Value> = imp.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
    // a commit queued or running: its page shows the progress; no second commit button
    let job = job.map(|j| super::jobs::job_json(&ctx, &j));
    let committing = job.as_ref().is_some_and(|j| j["queued"] == true || j["running"] == true);
    ctx.render(
        "bank/import_preview",
        json!({
            "id": imp.id, "file_name": imp.file_name, "format": imp.format, "created_at": local(imp.created_at),
            "committed_at": imp.committed_at.map(local), "report": report, "p": preview_json(&p, &imp.file_name, ctx.lang),
            "job": job, "committing": committing,
        }),
    )
}

/// Queues the commit as a background job (a whole bank's file does not fit in one request) and
/// goes to the job's page; a file with errors is refused here, nothing queued.
#[post("/bank/import/<id>/commit", data = "<_form>")]
pub async fn commit(ctx: PageCtx<'_>, t: Trainer<'_>, id: ImportId, _form: CsrfForm<Empty>) -> AppResult<Redirect> {
    let (by, now) = (t.user.id, ctx.state.clock.now());
    match with_db(ctx.state, move |c| crate::services::jobs::queue_question_import(c, id, by, now)).await? {
        Some(job) => Ok(Redirect::to(format!("/jobs/{job}"))),
        None => Ok(Redirect::to(format!("/bank/import/{id}"))),
    }
}

#[get("/bank/import/template.xlsx")]
pub async fn template(_t: Trainer<'_>) -> Download {
    download(formats::xlsx_template(), Format::Xlsx.content_type(), "lawcert-import-template.xlsx")
}

#[get("/bank/export?<format>&<statute>")]
pub async fn export(
    ctx: PageCtx<'_>,
    _t: Trainer<'_>,
    _free: super::guards::OutsideExam<'_>,
    format: Option<&str>,
    statute: Option<&str>,
) -> AppResult<rocket::Either<RawHtml<String>, Download>> {
    let Some(format) = format.and_then(Format::parse_name) else {
        let names = with_db(ctx.state, |c| crate::services::questions::statute_names(c)).await?;
        let page = ctx.render(
            "bank/export",
            json!({ "statutes": names.list().iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>() }),
        )?;
        return Ok(rocket::Either::Left(page));
    };
    if !format.can_export() {
        return Err(AppError::unprocessable(format!("format: {} files can be imported but not exported", format.as_str()))
            .localized("import_refusal.not_exportable", json!({"format": format.as_str()})));
    }
    let statute = statute.filter(|s| !s.is_empty()).map(str::to_string);
    let label = statute.clone().unwrap_or_else(|| "all".into());
    let bytes = with_db(ctx.state, move |c| crate::services::bank_export::export(c, format, statute.as_deref())).await?;
    let date = crate::timefmt::bureau_date(ctx.state.clock.now());
    Ok(rocket::Either::Right(download(bytes, format.content_type(), &format!("lawcert-{label}-{date}.{}", format.extension()))))
}
