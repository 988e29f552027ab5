//! Officers' pages: practice (网上学法), remedial plans (后进民警培训) and training files
//! (训练档案), plus the trainers' view of every plan, referrals and case-evaluation imports.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::json;

use super::pages::{CsrfForm, CsrfUpload, PageCtx, WithCsrf};
use super::with_db;
use crate::auth::{CurrentUser, EscalationHandler, FileReader, Officer, Trainer};
use crate::domain::ids::{EntryId, EscalationId, PracticeId, RemedialPlanId, UnitId, UserId, VersionId};
use crate::domain::org::Role;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::{escalation, practice, remedial, training};

// ---- practice ----

#[get("/practice")]
pub async fn practice_home(ctx: PageCtx<'_>, o: Officer<'_>, _free: super::guards::OutsideExam<'_>) -> AppResult<RawHtml<String>> {
    let (uid, now) = (o.id(), ctx.state.clock.now());
    let texts = ctx.state.texts.clone();
    let (statutes, strengths, book, sessions, totals, plan, chapters) = with_db(ctx.state, move |c| {
        let outcomes = remedial::outcomes_of(c, uid, now)?;
        Ok((
            crate::services::questions::statute_names(c)?,
            crate::domain::study::strengths(&outcomes),
            crate::domain::study::wrong_book(&outcomes).len(),
            practice::recent_sets(c, uid, 10)?,
            practice::totals(c, uid)?,
            remedial::open_plan_of(c, uid)?,
            practice::chapters(c, &texts, now)?,
        ))
    })
    .await?;
    ctx.render(
        "practice/index",
        json!({
            "statutes": statutes.list().iter().map(|(code, name)| json!({"code": code, "name": name})).collect::<Vec<_>>(),
            "strengths": strengths.iter().map(|s| json!({"statute": statutes.name(&s.statute), "answered": s.answered, "correct": s.correct, "percent": s.percent})).collect::<Vec<_>>(),
            "wrong_count": book,
            "sessions": sessions.iter().map(|s| json!({"id": s.id, "mode": s.mode, "started": super::local(s.started_at), "items": s.items_vec().len()})).collect::<Vec<_>>(),
            "totals": {"sets": totals.0, "answers": totals.1, "correct": totals.2, "minutes": totals.3 / 60},
            "plan": plan.map(|p| json!({"id": p.id})),
            "chapters": chapters.iter().map(|(name, items)| json!({"statute": name, "items": items.iter().map(|(v, t, n)| json!({"v": v, "title": t, "n": n})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "error": null,
        }),
    )
}

#[derive(FromForm)]
pub struct StartForm {
    mode: String,
    filter: Option<String>,
}

#[post("/practice", data = "<f>")]
pub async fn practice_start(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    _free: super::guards::OutsideExam<'_>,
    f: CsrfForm<StartForm>,
) -> AppResult<Redirect> {
    let mode = practice::Mode::parse(&f.0.mode, f.0.filter.as_deref().unwrap_or("")).ok_or_else(|| {
        practice::refused("mode", "practice.choose_mode", "choose a statute, a level, your weak areas or your wrong-answer book")
    })?;
    let (uid, now) = (o.id(), ctx.state.clock.now());
    let texts = ctx.state.texts.clone();
    let lead = ctx.state.config.pool_lead();
    let id = with_db(ctx.state, move |c| practice::start(c, uid, &mode, &texts, lead, now)).await?;
    Ok(Redirect::to(format!("/practice/{id}")))
}

#[get("/practice/<id>")]
pub async fn practice_set(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    _free: super::guards::OutsideExam<'_>,
    id: PracticeId,
) -> AppResult<RawHtml<String>> {
    let (uid, now, lead) = (o.id(), ctx.state.clock.now(), ctx.state.config.pool_lead());
    let texts = ctx.state.texts.clone();
    let v = with_db(ctx.state, move |c| {
        let s = practice::own_session(c, id, uid)?;
        practice::view(c, s, &texts, lead, now)
    })
    .await?;
    let next = v.items.iter().find(|i| i.feedback.is_none()).map(|i| i.number);
    ctx.render("practice/set", json!({"total": v.items.len(), "next": next, "done": next.is_none(), "minutes": v.seconds / 60, "v": v}))
}

#[derive(FromForm)]
pub struct AnswerForm {
    version_id: VersionId,
    choices: Vec<String>,
}

#[post("/practice/<id>/answer", data = "<f>")]
pub async fn practice_answer(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    _free: super::guards::OutsideExam<'_>,
    id: PracticeId,
    f: CsrfForm<AnswerForm>,
) -> AppResult<Redirect> {
    let (uid, now, lead) = (o.id(), ctx.state.clock.now(), ctx.state.config.pool_lead());
    let f = f.0;
    let vid = f.version_id;
    with_db(ctx.state, move |c| practice::answer(c, uid, id, f.version_id, &f.choices, lead, now)).await?;
    Ok(Redirect::to(format!("/practice/{id}#q{vid}")))
}

// ---- remedial plans ----

/// Officers see their own plans; trainers (and leaders, HR) every open plan with its progress.
#[get("/remedial")]
pub async fn remedial_list(ctx: PageCtx<'_>, u: &CurrentUser) -> AppResult<RawHtml<String>> {
    let uid = u.id();
    // who sees which plans is one rule, shared with GET /api/v1/remedial-plans
    let scope = remedial::scope_of(&u.user, &u.roles);
    let all = scope.is_some();
    let now = ctx.state.clock.now();
    let (mine, others) = with_db(ctx.state, move |c| {
        let mine = remedial::plans_of(c, uid)?;
        let others = match scope {
            Some(scope) => remedial::list_plans(c, scope, &remedial::PlanFilter::default(), 0, usize::MAX, now)?.1,
            None => Vec::new(),
        };
        Ok((mine, others))
    })
    .await?;
    let others: Vec<serde_json::Value> = others
        .iter()
        .map(|r| {
            let p = &r.plan;
            json!({"id": p.id, "badge": r.badge, "name": r.name, "unit": r.unit, "trigger": p.trigger_kind, "reason": p.reason,
                   "stage": p.stage, "status": p.status, "deadline": super::local(p.deadline), "overdue": r.overdue,
                   "reviewed": r.reviewed, "review_total": p.review_vec().len(), "mastery": r.mastery.percent, "answers": r.mastery.counted, "tries": p.exam_tries})
        })
        .collect();
    ctx.render(
        "remedial/list",
        json!({
            "mine": mine.iter().map(|p| json!({"id": p.id, "reason": p.reason, "stage": p.stage, "status": p.status, "deadline": super::local(p.deadline), "opened": super::local(p.opened_at)})).collect::<Vec<_>>(),
            "others": others, "all": all, "trainer": u.has(Role::Trainer), "errors": [], "badge": "", "reason": "",
        }),
    )
}

#[get("/remedial/<id>")]
pub async fn remedial_plan(
    ctx: PageCtx<'_>,
    u: &CurrentUser,
    _free: super::guards::OutsideExam<'_>,
    id: RemedialPlanId,
) -> AppResult<RawHtml<String>> {
    plan_page(&ctx, u, id, vec![], <EscalationForm as Default>::default()).await
}

async fn plan_page(
    ctx: &PageCtx<'_>,
    u: &CurrentUser,
    id: RemedialPlanId,
    errors: Vec<String>,
    f: EscalationForm,
) -> AppResult<RawHtml<String>> {
    let cu = u.clone();
    let texts = ctx.state.texts.clone();
    let now = ctx.state.clock.now();
    let (v, escalations) = with_db(ctx.state, move |c| {
        let p = remedial::readable_plan(c, &cu.user, &cu.roles, id)?;
        let escalations = escalation::of_plan(c, p.id, &cu.user, &cu.roles)?;
        Ok((remedial::plan_view(c, p, &texts, cu.has(Role::Trainer), now)?, escalations))
    })
    .await?;
    let own = v.plan.user_id == u.id();
    let today = crate::timefmt::bureau_date(now);
    // another person's errors are shown without the officer's notes being editable
    ctx.render(
        "remedial/plan",
        json!({"own": own, "open": v.plan.status == crate::domain::remedial::Status::Open, "review_total": v.review.len(), "v": v,
               "escalations": escalations, "errors": errors, "f": {"action": f.action, "reason": f.reason, "deadline": f.deadline},
               "min_date": (today + chrono::Duration::days(1)).to_string(),
               "max_date": (today + chrono::Duration::days(escalation::MAX_EXTENSION_DAYS)).to_string()}),
    )
}

#[derive(FromForm, Default)]
pub struct EscalationForm {
    #[field(default = String::new())]
    action: String,
    #[field(default = String::new())]
    reason: String,
    #[field(default = String::new())]
    deadline: String,
}

/// A leader's (or HR's) decision on an escalated plan: acknowledge, extend with a reason and a
/// new date, or refer a level up. Scope-checked in the service; another unit's is not found.
#[post("/remedial/escalations/<id>/act", data = "<f>")]
pub async fn escalation_act(
    ctx: PageCtx<'_>,
    h: EscalationHandler<'_>,
    id: EscalationId,
    f: CsrfForm<EscalationForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let f = f.0;
    let (cu, now) = (h.0.clone(), ctx.state.clock.now());
    let d = escalation::Decision { action: f.action.clone(), reason: f.reason.clone(), deadline: f.deadline.clone() };
    let plan_id = with_db(ctx.state, move |c| escalation::plan_of(c, id)).await?;
    match with_db(ctx.state, move |c| escalation::act(c, id, &cu.user, &cu.roles, &d, now)).await {
        Ok(plan) => Ok(Either::Right(Redirect::to(format!("/remedial/{plan}#escalations")))),
        Err(e) if (e.is_invalid() || e.is_conflict()) && plan_id.is_some() => {
            plan_page(&ctx, h.0, plan_id.expect("checked"), ctx.form_lines(&e), f).await.map(Either::Left)
        }
        Err(e) => Err(e),
    }
}

/// The escalated plans that reached the reader (a leader: their unit and those under it; HR:
/// all), waiting ones first.
#[get("/remedial/escalations")]
pub async fn escalations_page(ctx: PageCtx<'_>, h: EscalationHandler<'_>) -> AppResult<RawHtml<String>> {
    let cu = h.0.clone();
    let rows = with_db(ctx.state, move |c| escalation::inbox(c, &cu.user, &cu.roles)).await?;
    ctx.render("remedial/escalations", json!({"rows": rows}))
}

/// The training files a reader may open: a leader's officers (their unit and the units under
/// it), HR's and admins' everyone.
#[get("/files")]
pub async fn files_list(ctx: PageCtx<'_>, r: FileReader<'_>) -> AppResult<RawHtml<String>> {
    let cu = r.0.clone();
    let rows = with_db(ctx.state, move |c| training::readable_files(c, &cu.user, &cu.roles)).await?;
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let o = &r.officer;
            json!({"id": o.id, "badge": o.badge, "name": o.name, "unit": r.unit, "police_type": o.police_type, "post": o.post,
                   "remedial": r.remedial})
        })
        .collect();
    ctx.render("file/list", json!({"rows": rows}))
}

#[derive(FromForm)]
pub struct ReviewForm {
    version_id: VersionId,
    note: String,
}

#[post("/remedial/<id>/review", data = "<f>")]
pub async fn remedial_review(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    _free: super::guards::OutsideExam<'_>,
    id: RemedialPlanId,
    f: CsrfForm<ReviewForm>,
) -> AppResult<Redirect> {
    let (uid, now) = (o.id(), ctx.state.clock.now());
    let f = f.0;
    let vid = f.version_id;
    with_db(ctx.state, move |c| remedial::write_review(c, id, uid, f.version_id, &f.note, now)).await?;
    Ok(Redirect::to(format!("/remedial/{id}#r{vid}")))
}

#[post("/remedial/<id>/practice", data = "<_f>")]
pub async fn remedial_practice(
    ctx: PageCtx<'_>,
    o: Officer<'_>,
    _free: super::guards::OutsideExam<'_>,
    id: RemedialPlanId,
    _f: CsrfForm<super::pages::Empty>,
) -> AppResult<Redirect> {
    let (uid, now, lead) = (o.id(), ctx.state.clock.now(), ctx.state.config.pool_lead());
    let texts = ctx.state.texts.clone();
    let sid = with_db(ctx.state, move |c| {
        remedial::own_plan_in_practice(c, uid, id)?;
        practice::start(c, uid, &practice::Mode::Plan(id), &texts, lead, now)
    })
    .await?;
    Ok(Redirect::to(format!("/practice/{sid}")))
}

#[derive(FromForm)]
pub struct ReferForm {
    badge: String,
    reason: String,
}

#[post("/remedial/refer", data = "<f>")]
pub async fn remedial_refer(ctx: PageCtx<'_>, t: Trainer<'_>, f: CsrfForm<ReferForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let (by, now) = (t.id(), ctx.state.clock.now());
    let f = f.0;
    let (badge, reason) = (f.badge.clone(), f.reason.clone());
    match with_db(ctx.state, move |c| remedial::refer(c, &badge, &reason, by, now)).await {
        Ok(id) => Ok(Either::Right(Redirect::to(format!("/remedial/{id}")))),
        Err(e) if e.is_invalid() || e.is_conflict() => ctx
            .render(
                "remedial/list",
                json!({"mine": [], "others": [], "all": true, "trainer": true, "errors": ctx.form_lines(&e), "badge": f.badge, "reason": f.reason}),
            )
            .map(Either::Left),
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
pub struct CaseUpload<'r> {
    _csrf: String,
    file: TempFile<'r>,
}

impl WithCsrf for CaseUpload<'_> {
    fn csrf_token(&self) -> &str {
        &self._csrf
    }
}

async fn case_form(ctx: &PageCtx<'_>, by: UserId, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let recent = with_db(ctx.state, move |c| crate::services::jobs::recent_of(c, crate::domain::jobs::JobKind::CaseImport, by)).await?;
    let jobs: Vec<serde_json::Value> = recent.iter().map(|j| super::jobs::job_json(ctx, j)).collect();
    ctx.render("remedial/cases", json!({"errors": errors, "done": null, "jobs": jobs}))
}

#[get("/remedial/case-evaluations")]
pub async fn case_page(ctx: PageCtx<'_>, t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    case_form(&ctx, t.id(), Vec::new()).await
}

/// Checks the upload at once (every error with its line, in the reader's language; nothing
/// stored or queued), then queues the import as a background job and goes to its page.
#[post("/remedial/case-evaluations", data = "<f>")]
pub async fn case_import(ctx: PageCtx<'_>, t: Trainer<'_>, f: CsrfUpload<CaseUpload<'_>>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let mut f = f.0;
    let (by, now) = (t.id(), ctx.state.clock.now());
    let text = match read_upload(&mut f.file, 2 * 1024 * 1024).await {
        Ok(text) => text,
        Err(e) if e.is_invalid() => return case_form(&ctx, by, ctx.form_lines(&e)).await.map(Either::Left),
        Err(e) => return Err(e),
    };
    let lang = ctx.lang;
    match with_db(ctx.state, move |c| crate::services::jobs::queue_case_import(c, &text, lang, by, now)).await {
        Ok(Ok(id)) => Ok(Either::Right(Redirect::to(format!("/jobs/{id}")))),
        Ok(Err(errors)) => case_form(&ctx, by, errors).await.map(Either::Left),
        Err(e) if e.is_invalid() => case_form(&ctx, by, e.lines()).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

/// Reads a small text upload, refusing anything too big or not UTF-8.
pub async fn read_upload(file: &mut TempFile<'_>, max: u64) -> AppResult<String> {
    if file.len() == 0 {
        return Err(AppError::problem(ErrorCode::Invalid, Problem::plain("file", "remedial.no_file", "choose a file")));
    }
    if file.len() > max {
        let kib = max / 1024;
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::with("file", "remedial.file_too_large", vec![("kib", kib.to_string())], format!("larger than {kib} KiB")),
        ));
    }
    let path = std::env::temp_dir().join(format!("lawcert-upload-{}", crate::auth::random_token()));
    file.copy_to(&path).await.map_err(|e| AppError::internal(format!("upload: {e}")))?;
    let bytes = rocket::tokio::fs::read(&path).await.map_err(|e| AppError::internal(format!("upload: {e}")));
    let _ = rocket::tokio::fs::remove_file(&path).await;
    String::from_utf8(bytes?).map_err(|_| {
        AppError::problem(ErrorCode::Invalid, Problem::plain("file", "remedial.file_not_utf8", "not UTF-8 text (save the CSV as UTF-8)"))
    })
}

// ---- training files ----

#[get("/file")]
pub async fn my_file(u: &CurrentUser) -> Redirect {
    Redirect::to(format!("/files/{}", u.id()))
}

/// Loads a file for a reader allowed to see it (see `training::file_for`).
async fn load_file(ctx: &PageCtx<'_>, u: &CurrentUser, id: UserId) -> AppResult<training::FileData> {
    let cu = u.clone();
    let today = crate::timefmt::bureau_date(ctx.state.clock.now());
    with_db(ctx.state, move |c| training::file_for(c, &cu.user, &cu.roles, id, today)).await
}

#[get("/files/<id>")]
pub async fn file_page(ctx: PageCtx<'_>, u: &CurrentUser, id: UserId) -> AppResult<RawHtml<String>> {
    show_file(&ctx, u, id, Refused::default()).await
}

/// A refused correction or reward: which form, what was typed, and why (lines `field: problem`).
#[derive(Default)]
struct Refused {
    form: &'static str,
    entry_id: Option<EntryId>,
    note: String,
    errors: Vec<String>,
}

/// The file page; a refused form is shown again with what was typed and its problems.
async fn show_file(ctx: &PageCtx<'_>, u: &CurrentUser, id: UserId, refused: Refused) -> AppResult<RawHtml<String>> {
    let training::FileData { officer, unit, entries, certs, totals } = load_file(ctx, u, id).await?;
    let today = crate::timefmt::bureau_date(ctx.state.clock.now());
    let hr = u.has(Role::Hr) || u.has(Role::Admin);
    // the weakness map: what the officer may see of their own answers; readers of their file
    // (leaders, HR) see every graded exam
    let (now, own) = (ctx.state.clock.now(), u.id() == id);
    let (strengths, names) = with_db(ctx.state, move |c| {
        let s = if own {
            crate::domain::study::strengths(&remedial::outcomes_of(c, id, now)?)
        } else {
            crate::services::hr::strengths_of(c, &[id])?
        };
        Ok((s, crate::services::questions::statute_names(c)?))
    })
    .await?;
    let map = (!strengths.is_empty()).then(|| {
        super::charts::strength_bars(&strengths.iter().map(|s| (names.name(&s.statute), s.percent, s.answered)).collect::<Vec<_>>())
    });
    ctx.render(
        "file/show",
        json!({
            "o": {"id": officer.id, "badge": officer.badge, "name": officer.name, "unit": unit, "police_type": officer.police_type, "post": officer.post,
                  "rank": officer.rank, "hire_date": officer.hire_date.to_string(), "id_number": if hr { officer.id_number.clone() } else { None }},
            "entries": entries.iter().rev().map(entry_json).collect::<Vec<_>>(),
            "certs": certs.iter().map(|(c, s)| json!({"number": c.number, "level": c.level.as_str(), "issued_on": c.issued_on.to_string(), "expires_on": c.expires_on.to_string(), "status": s.as_str()})).collect::<Vec<_>>(),
            "study": {"sets": totals.0, "answers": totals.1, "correct": totals.2, "minutes": totals.3 / 60},
            "hr": hr, "today": today.to_string(), "map": map,
            "refused": {"form": refused.form, "entry_id": refused.entry_id, "note": refused.note}, "errors": refused.errors,
        }),
    )
}

/// The file as a PDF, its labels and dates in the reader's language (the entries themselves
/// are records and print as stored).
#[get("/files/<id>/pdf")]
pub async fn file_pdf(ctx: PageCtx<'_>, u: &CurrentUser, id: UserId) -> AppResult<super::bank_files::Download> {
    let training::FileData { officer, unit, entries, certs, totals } = load_file(&ctx, u, id).await?;
    let hr = u.has(Role::Hr) || u.has(Role::Admin);
    let lang = ctx.lang;
    let t = |key: &str, params: serde_json::Value| ctx.state.renderer.text(lang, &format!("pdf.{key}"), &params);
    let date = |d: chrono::NaiveDate| crate::timefmt::date_in(lang, d);
    let title = t("file_title", json!({}));
    let mut d = super::pdf::Doc::new(&format!("{title} · {} ({})", officer.name, officer.badge));
    d.heading(&title);
    d.text(&t("file_facts", json!({"name": officer.name, "badge": officer.badge, "unit": unit, "police_type": officer.police_type})), 10.5);
    d.text(&t("file_facts2", json!({"post": officer.post, "rank": officer.rank, "hired": date(officer.hire_date)})), 10.5);
    if hr {
        d.text(&t("id_number", json!({"v": officer.id_number.as_deref().unwrap_or("—")})), 10.5);
    }
    let printed = crate::timefmt::localize(lang, &super::local(ctx.state.clock.now())).unwrap_or_default();
    d.text(&t("printed", json!({"at": printed})), 9.0);
    d.heading(&t("certs", json!({})));
    let level = |l: &str| ctx.state.renderer.text(lang, &format!("level.{l}"), &json!({}));
    let rows: Vec<Vec<String>> = certs
        .iter()
        .map(|(c, s)| {
            vec![
                c.number.clone(),
                level(c.level.as_str()),
                date(c.issued_on),
                date(c.expires_on),
                t(&format!("cert_{}", s.as_str()), json!({})),
            ]
        })
        .collect();
    if rows.is_empty() {
        d.text(&t("none", json!({})), 10.0);
    } else {
        let heads = ["col_number", "col_level", "col_issued", "col_expires", "col_status"].map(|k| t(k, json!({})));
        d.table(&heads.iter().map(String::as_str).collect::<Vec<_>>(), &[3.0, 1.2, 1.6, 1.6, 1.2], &rows);
    }
    d.heading(&t("entries", json!({})));
    let kind = |k: &str| ctx.state.renderer.text(lang, &format!("file.kind_{k}"), &json!({}));
    let say = |key: &str, params: serde_json::Value| ctx.state.renderer.text(lang, key, &params);
    let rows: Vec<Vec<String>> =
        entries.iter().map(|e| vec![e.id.to_string(), date(e.occurred_on), kind(e.kind.as_str()), entry_text(e, lang, &say)]).collect();
    let heads = ["#".to_string(), t("col_date", json!({})), t("col_kind", json!({})), t("col_detail", json!({}))];
    d.table(&heads.iter().map(String::as_str).collect::<Vec<_>>(), &[0.8, 1.6, 2.0, 7.0], &rows);
    d.gap(8.0);
    d.text(&t("study", json!({"sets": totals.0, "answers": totals.1, "correct": totals.2, "minutes": totals.3 / 60})), 9.5);
    d.text(&t("append_only", json!({})), 8.5);
    Ok(super::bank_files::download(d.finish(), "application/pdf", &format!("training-file-{}.pdf", officer.badge)))
}

/// One entry as a line of printed text, its words in `lang` (what it records as stored).
fn entry_text(e: &training::EntryView, lang: &str, say: &dyn Fn(&str, serde_json::Value) -> String) -> String {
    let g = |k: &str| e.data.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let mut parts: Vec<String> = Vec::new();
    for k in ["title", "number", "reason"] {
        if !g(k).is_empty() {
            parts.push(g(k));
        }
    }
    if let Some(l) = e.data.get("level").and_then(|l| l.as_str()) {
        parts.push(say(&format!("level.{l}"), json!({})));
    }
    if e.withheld {
        parts.push(say("file.withheld", json!({})));
    } else if !g("score").is_empty() {
        parts.push(format!("{} / {}", g("score"), g("max")));
    }
    match e.data.get("passed").and_then(|p| p.as_bool()) {
        Some(true) if !e.withheld => parts.push(say("file.pass", json!({}))),
        Some(false) if !e.withheld => parts.push(say("file.fail", json!({}))),
        _ => {}
    }
    if let Some(c) = e.corrects_id {
        parts.push(say("file.corrects", json!({"id": c})));
    }
    if let Some(c) = e.corrected_by {
        parts.push(say("file.corrected_by", json!({"id": c})));
    }
    if !e.note.is_empty() {
        parts.push(e.note.clone());
    }
    parts.join(if lang == "en" { "; " } else { "；" })
}

/// An entry with every field the template reads present (strict templates refuse missing ones).
fn entry_json(e: &training::EntryView) -> serde_json::Value {
    let g = |k: &str| e.data.get(k).cloned().unwrap_or(serde_json::Value::Null);
    json!({
        "id": e.id, "kind": e.kind, "kind_label": crate::services::file_export::kind_label(e.kind), "on": e.occurred_on.to_string(), "recorded": e.recorded_at,
        "corrects": e.corrects_id, "corrected_by": e.corrected_by, "note": e.note, "withheld": e.withheld,
        "title": g("title"), "score": g("score"), "max": g("max"), "scaled": g("scaled"), "passed": g("passed"), "number": g("number"), "reason": g("reason"),
        "status": g("status"), "deadline": g("deadline"), "plan_id": g("plan_id"),
        "level": e.data.get("level").and_then(|l| l.as_str()),
        "trigger": g("trigger"),
    })
}

#[derive(FromForm)]
pub struct CorrectionForm {
    entry_id: EntryId,
    note: String,
}

/// A correction by hand; a refused one shows the file again with the problem beside its field.
#[post("/files/<id>/correct", data = "<f>")]
pub async fn file_correct(
    ctx: PageCtx<'_>,
    p: crate::auth::Personnel<'_>,
    id: UserId,
    f: CsrfForm<CorrectionForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let (by, now) = (p.id(), ctx.state.clock.now());
    let CorrectionForm { entry_id, note } = f.0;
    let n = note.clone();
    match with_db(ctx.state, move |c| training::correct_by_hand(c, id, entry_id, &n, by, now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to(format!("/files/{id}")))),
        Err(e) if e.is_invalid() => {
            let refused = Refused { form: "correct", entry_id: Some(entry_id), note, errors: ctx.form_lines(&e) };
            show_file(&ctx, p.0, id, refused).await.map(Either::Left)
        }
        Err(e) => Err(e),
    }
}

#[post("/files/<id>/reward", data = "<f>")]
pub async fn file_reward(
    ctx: PageCtx<'_>,
    p: crate::auth::Personnel<'_>,
    id: UserId,
    f: CsrfForm<super::pages::Empty>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let (by, now) = (p.id(), ctx.state.clock.now());
    let note = f.0.note.unwrap_or_default();
    let n = note.clone();
    match with_db(ctx.state, move |c| training::record_reward(c, id, &n, by, now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to(format!("/files/{id}")))),
        Err(e) if e.is_invalid() => {
            let refused = Refused { form: "reward", entry_id: None, note, errors: ctx.form_lines(&e) };
            show_file(&ctx, p.0, id, refused).await.map(Either::Left)
        }
        Err(e) => Err(e),
    }
}

/// CSV or XLSX of files: one officer (`user`), a unit and the units under it (`unit`), or the
/// whole bureau (neither; HR and admins only), which is made by a background job: this goes to
/// the job's page, which offers the file when it is ready. Leaders may export their own units.
#[get("/files/export?<format>&<user>&<unit>")]
pub async fn file_export(
    ctx: PageCtx<'_>,
    u: &CurrentUser,
    format: &str,
    user: Option<UserId>,
    unit: Option<UnitId>,
) -> AppResult<Either<super::bank_files::Download, Redirect>> {
    let cu = u.clone();
    let Some(export_format) = crate::services::file_export::Format::parse(format) else {
        return Err(AppError::problem(ErrorCode::Invalid, Problem::plain("format", "training.export_format", "csv or xlsx")));
    };
    if user.is_none() && unit.is_none() {
        if !(cu.has(Role::Hr) || cu.has(Role::Admin)) {
            return Err(AppError::problem(
                ErrorCode::Forbidden,
                Problem::plain("", "training.export_bureau", "only HR can export the whole bureau"),
            ));
        }
        let (by, now) = (cu.id(), ctx.state.clock.now());
        let id = with_db(ctx.state, move |c| crate::services::jobs::queue_file_export(c, export_format, by, now)).await?;
        return Ok(Either::Right(Redirect::to(format!("/jobs/{id}"))));
    }
    let bytes = with_db(ctx.state, move |c| {
        let records = training::export_records(c, &cu.user, &cu.roles, user, unit)?;
        crate::services::file_export::render(export_format, &records)
    })
    .await?;
    let scope = match (user, unit) {
        (Some(u), _) => format!("officer-{u}"),
        (None, Some(u)) => format!("unit-{u}"),
        _ => "bureau".into(),
    };
    Ok(Either::Left(super::bank_files::download(bytes, export_format.content_type(), &format!("training-files-{scope}.{format}"))))
}
