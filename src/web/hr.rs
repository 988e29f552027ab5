//! HR pages (promotion rules, eligibility checks, compliance), the admin's API tokens and mail
//! outbox, and the personnel system's change feed `GET /api/v1/hr/records`.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, Either};
use serde_json::json;

use super::pages::{CsrfForm, CsrfUpload, PageCtx, WithCsrf};
use super::with_db;
use crate::auth::{Admin, CurrentUser, Personnel};
use crate::domain::bank::Level;
use crate::domain::ids::{AuditId, EntryId, MailId, RuleId, TokenId, UnitId};
use crate::domain::org::Role;
use crate::error::{AppError, AppResult};
use crate::services::hr;

#[derive(FromForm, Default, Clone)]
pub struct RuleForm {
    id: Option<RuleId>,
    name: String,
    target: String,
    min_level: String,
    no_open_remedial: bool,
    no_failed_bimonthly_months: Option<i32>,
    cert_valid_on_date: bool,
    active: Option<bool>,
}

async fn rules_page(ctx: &PageCtx<'_>, f: &RuleForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let rules = with_db(ctx.state, |c| hr::rules(c)).await?;
    ctx.render(
        "hr/rules",
        json!({
            "rules": rules.iter().map(|r| json!({"id": r.id, "name": r.name, "target": r.target, "level": r.min_level.as_deref().map(|l| crate::render::say(ctx.lang, &format!("level.{l}"), &json!({}))),
                "min_level": r.min_level, "no_open_remedial": r.no_open_remedial, "months": r.no_failed_bimonthly_months, "valid_on_date": r.cert_valid_on_date, "active": r.active,
                "updated": super::local(r.updated_at)})).collect::<Vec<_>>(),
            "f": {"id": f.id, "name": f.name, "target": f.target, "min_level": f.min_level, "no_open_remedial": f.no_open_remedial,
                  "months": f.no_failed_bimonthly_months, "valid_on_date": f.cert_valid_on_date, "active": f.active.unwrap_or(true)},
            "levels": Level::ALL.iter().map(|l| json!({"v": l.as_str(), "name": crate::render::say(ctx.lang, &format!("level.{}", l.as_str()), &json!({})), "sel": f.min_level == l.as_str()})).collect::<Vec<_>>(),
            "errors": errors,
        }),
    )
}

#[get("/hr/rules?<edit>")]
pub async fn rules(ctx: PageCtx<'_>, _p: Personnel<'_>, edit: Option<RuleId>) -> AppResult<RawHtml<String>> {
    let f = match edit {
        Some(id) => {
            let r = with_db(ctx.state, move |c| hr::rule(c, id)).await?;
            RuleForm {
                id: Some(r.id),
                name: r.name,
                target: r.target,
                min_level: r.min_level.unwrap_or_default(),
                no_open_remedial: r.no_open_remedial,
                no_failed_bimonthly_months: r.no_failed_bimonthly_months,
                cert_valid_on_date: r.cert_valid_on_date,
                active: Some(r.active),
            }
        }
        None => RuleForm { no_open_remedial: true, cert_valid_on_date: true, min_level: "basic".into(), ..Default::default() },
    };
    rules_page(&ctx, &f, vec![]).await
}

#[post("/hr/rules", data = "<f>")]
pub async fn save_rule(ctx: PageCtx<'_>, p: Personnel<'_>, f: CsrfForm<RuleForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let f = f.0;
    let input = hr::RuleInput {
        name: f.name.clone(),
        target: f.target.clone(),
        min_level: Some(f.min_level.clone()),
        no_open_remedial: f.no_open_remedial,
        no_failed_bimonthly_months: f.no_failed_bimonthly_months,
        cert_valid_on_date: f.cert_valid_on_date,
        active: f.active.unwrap_or(false),
    };
    let (by, now, id, lang) = (p.id(), ctx.state.clock.now(), f.id, ctx.lang);
    match with_db(ctx.state, move |c| hr::save_rule_input_in(c, id, &input, lang, by, now)).await {
        Ok(_) => Ok(Either::Right(Redirect::to("/hr/rules"))),
        Err(e) if e.is_invalid() => rules_page(&ctx, &f, e.lines()).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

/// The eligibility form: a rule, the date, badges typed or pasted, and optionally a spreadsheet
/// of badges (.xlsx or .csv).
#[derive(FromForm)]
pub struct CheckForm<'r> {
    #[field(name = "_csrf")]
    csrf: String,
    rule_id: Option<RuleId>,
    date: String,
    #[field(default = String::new())]
    badges: String,
    file: Option<TempFile<'r>>,
    format: Option<String>,
}

impl WithCsrf for CheckForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

async fn check_page(
    ctx: &PageCtx<'_>,
    rule_id: Option<RuleId>,
    date: &str,
    badges: &str,
    verdicts: Option<Vec<hr::Verdict>>,
    errors: Vec<String>,
) -> AppResult<RawHtml<String>> {
    let rules = with_db(ctx.state, |c| hr::rules(c)).await?;
    let today = crate::timefmt::bureau_date(ctx.state.clock.now());
    let r = &ctx.state.renderer;
    ctx.render(
        "hr/eligibility",
        json!({
            "rules": rules.iter().filter(|r| r.active).map(|r| json!({"id": r.id, "name": r.name, "target": r.target, "sel": Some(r.id) == rule_id})).collect::<Vec<_>>(),
            "date": if date.is_empty() { today.to_string() } else { date.to_string() },
            "badges": badges,
            "max_badges": crate::domain::badge_list::MAX_BADGES,
            "verdicts": verdicts.as_ref().map(|v| v.iter().map(|x| json!({"badge": x.badge, "name": x.name, "unit": x.unit, "eligible": x.eligible,
                "reasons": hr::reasons_in(r, ctx.lang, x).into_iter().map(|r| r.message).collect::<Vec<_>>()})).collect::<Vec<_>>()),
            "eligible": verdicts.as_ref().map(|v| v.iter().filter(|x| x.eligible).count()),
            "total": verdicts.as_ref().map(|v| v.len()),
            "errors": errors,
        }),
    )
}

#[get("/hr/eligibility")]
pub async fn eligibility(ctx: PageCtx<'_>, _p: Personnel<'_>) -> AppResult<RawHtml<String>> {
    check_page(&ctx, None, "", "", None, vec![]).await
}

/// The badges of an uploaded file, or every error in it (row and column named), said in `lang`.
async fn badges_of_upload(file: &TempFile<'_>, lang: &str) -> Result<Vec<String>, Vec<String>> {
    use crate::domain::badge_list;
    let said = |problems: Vec<crate::domain::validation::Problem>| hr::said_in(lang, &problems).into_iter().map(|e| e.message).collect();
    let name = file.raw_name().map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string()).unwrap_or_default();
    if file.len() as usize > badge_list::MAX_FILE_BYTES {
        return Err(said(vec![badge_list::too_large()]));
    }
    let bytes = match file.path() {
        Some(path) => rocket::tokio::fs::read(path).await.map_err(|e| {
            said(vec![crate::domain::validation::Problem::with(
                "",
                "file_unreadable",
                vec![("e", e.to_string())],
                format!("file: cannot read the upload: {e}"),
            )])
        })?,
        None => match file {
            TempFile::Buffered { content } => content.to_vec(),
            TempFile::File { .. } => Vec::new(),
        },
    };
    badge_list::from_file(&name, &bytes).map_err(said)
}

#[post("/hr/eligibility", data = "<f>")]
pub async fn run_check(
    ctx: PageCtx<'_>,
    _p: Personnel<'_>,
    f: CsrfUpload<CheckForm<'_>>,
) -> AppResult<Either<RawHtml<String>, super::bank_files::Download>> {
    let f = f.0;
    // the typed list and the file's badges together (a badge in both is checked once)
    let mut badges = crate::domain::badge_list::from_text(&f.badges);
    if let Some(file) = f.file.as_ref().filter(|file| file.len() > 0) {
        match badges_of_upload(file, ctx.lang).await {
            Ok(more) => badges.extend(more),
            Err(errs) => return check_page(&ctx, f.rule_id, &f.date, &f.badges, None, errs).await.map(Either::Left),
        }
    }
    // the result page lists what was checked, so "export CSV" works without the file again
    let shown = badges.join("\n");
    let req = hr::CheckRequest { rule: f.rule_id.map(hr::RuleRef::Id), date: f.date.clone(), badges };
    let (now, lang) = (ctx.state.clock.now(), ctx.lang);
    let (rule, date, verdicts) = match with_db(ctx.state, move |c| hr::check_request_in(c, &req, lang, now)).await {
        Ok(x) => x,
        Err(e) if e.is_invalid() => return check_page(&ctx, f.rule_id, &f.date, &f.badges, None, e.lines()).await.map(Either::Left),
        Err(e) => return Err(e),
    };
    if f.format.as_deref() == Some("csv") {
        // the personnel office's interchange format: fixed Chinese headers and sentences
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["警号", "姓名", "单位", "规则", "晋升至", "晋升日期", "是否符合", "原因"]);
        for v in &verdicts {
            let cells = [
                v.badge.clone(),
                v.name.clone().unwrap_or_default(),
                v.unit.clone().unwrap_or_default(),
                rule.name.clone(),
                rule.target.clone(),
                date.to_string(),
                if v.eligible { "符合" } else { "不符合" }.to_string(),
                v.reasons.join("；"),
            ];
            let _ = w.write_record(cells.iter().map(|c| if c.starts_with(['=', '+', '-', '@']) { format!("'{c}") } else { c.clone() }));
        }
        let mut out = "\u{feff}".as_bytes().to_vec();
        out.extend(w.into_inner().map_err(|e| AppError::internal(e.to_string()))?);
        return Ok(Either::Right(super::bank_files::download(out, "text/csv; charset=utf-8", "eligibility.csv")));
    }
    check_page(&ctx, f.rule_id, &f.date, &shown, Some(verdicts), vec![]).await.map(Either::Left)
}

#[get("/hr/compliance?<unit>")]
pub async fn compliance(ctx: PageCtx<'_>, u: &CurrentUser, unit: Option<UnitId>) -> AppResult<RawHtml<String>> {
    if !(u.has(Role::Hr) || u.has(Role::Admin) || u.has(Role::Leader)) {
        return Err(AppError::role_refused());
    }
    let now = ctx.state.clock.now();
    let leader_only = u.has(Role::Leader) && !u.has(Role::Hr) && !u.has(Role::Admin);
    let my_unit = u.user.unit_id;
    // the weakness map: the leader's unit, or the unit HR picked (the whole bureau by default)
    let map_unit = if leader_only { Some(my_unit) } else { unit };
    let (d, map, names) = with_db(ctx.state, move |c| {
        let d = hr::dashboard(c, now)?;
        let members = crate::services::people::members_under(c, map_unit)?;
        let names = crate::services::questions::statute_names(c)?;
        Ok((d, hr::strengths_of(c, &members)?, names))
    })
    .await?;
    let map_svg = (!map.is_empty())
        .then(|| super::charts::strength_bars(&map.iter().map(|s| (names.name(&s.statute), s.percent, s.answered)).collect::<Vec<_>>()));
    let units: Vec<&hr::UnitRow> = d.units.iter().filter(|r| !leader_only || r.unit_id == Some(my_unit)).collect();
    let row = |r: &hr::UnitRow| {
        json!({"unit": r.unit, "unit_id": r.unit_id, "officers": r.figures.officers, "basic": r.figures.with_basic.percent(), "lacking": r.figures.lacking_basic_percent,
               "band": r.figures.band, "new": format!("{}/{}", r.figures.new_with_basic.met, r.figures.new_with_basic.of), "new_pct": r.figures.new_with_basic.percent(),
               "lead": format!("{}/{}", r.figures.leaders_legal_with_intermediate.met, r.figures.leaders_legal_with_intermediate.of), "lead_pct": r.figures.leaders_legal_with_intermediate.percent(),
               "advanced": r.figures.advanced_holders, "participation": r.participation_percent, "pass": r.pass_percent, "sat": r.bimonthly_sat, "absent": r.bimonthly_absent,
               "open": r.remedial_open, "overdue": r.remedial_overdue})
    };
    let chart = super::charts::lacking_basic_bars(
        &units.iter().map(|r| (r.unit.clone(), r.figures.lacking_basic_percent)).collect::<Vec<_>>(),
        d.targets.lacking_basic_warn_percent,
        d.targets.lacking_basic_cap_percent,
    );
    let gauges = [
        ("compliance.g_basic", d.bureau.figures.with_basic.percent()),
        ("compliance.g_new", d.bureau.figures.new_with_basic.percent()),
        ("compliance.g_lead", d.bureau.figures.leaders_legal_with_intermediate.percent()),
        ("compliance.g_participation", d.bureau.participation_percent),
        ("compliance.g_pass", d.bureau.pass_percent),
    ];
    ctx.render(
        "hr/compliance",
        json!({
            "bureau": row(&d.bureau),
            "units": units.iter().map(|r| row(r)).collect::<Vec<_>>(),
            "key_types": d.key_types.iter().map(|(t, n)| json!({"type": t, "n": n, "ok": *n > 0})).collect::<Vec<_>>(),
            "targets": d.targets,
            "chart": chart,
            "gauges": gauges.iter().map(|(k, v)| json!({"key": k, "svg": super::charts::gauge(*v)})).collect::<Vec<_>>(),
            "rewards": d.rewards.iter().map(|(b, n, num, on)| json!({"badge": b, "name": n, "number": num, "on": on.to_string()})).collect::<Vec<_>>(),
            "leader_only": leader_only,
            "map": map_svg,
            "map_unit": map_unit,
            "map_unit_name": map_unit.and_then(|m| d.units.iter().find(|r| r.unit_id == Some(m)).map(|r| r.unit.clone())),
        }),
    )
}

// ---- admin: API tokens and mail ----

#[derive(FromForm)]
pub struct TokenForm {
    name: String,
    days: Option<i64>,
}

async fn tokens_page(ctx: &PageCtx<'_>, new_token: Option<String>, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let list = with_db(ctx.state, |c| hr::tokens(c)).await?;
    let now = ctx.state.clock.now();
    ctx.render(
        "admin/tokens",
        json!({
            "tokens": list.iter().map(|t| json!({"id": t.id, "name": t.name, "role": t.role, "created": super::local(t.created_at), "expires": super::local(t.expires_at),
                "revoked": t.revoked_at.map(super::local), "expired": now >= t.expires_at, "used": t.last_used_at.map(super::local)})).collect::<Vec<_>>(),
            "new_token": new_token, "errors": errors,
        }),
    )
}

#[get("/admin/tokens")]
pub async fn tokens(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    tokens_page(&ctx, None, vec![]).await
}

#[post("/admin/tokens", data = "<f>")]
pub async fn create_token(ctx: PageCtx<'_>, a: Admin<'_>, f: CsrfForm<TokenForm>) -> AppResult<RawHtml<String>> {
    let (by, now) = (a.id(), ctx.state.clock.now());
    let f = f.0;
    match with_db(ctx.state, move |c| hr::create_token(c, &f.name, Role::Hr, f.days.unwrap_or(365), by, now)).await {
        Ok((_, token)) => tokens_page(&ctx, Some(token), vec![]).await,
        Err(e) if e.is_invalid() => tokens_page(&ctx, None, ctx.form_lines(&e)).await,
        Err(e) => Err(e),
    }
}

#[post("/admin/tokens/<id>/revoke", data = "<_f>")]
pub async fn revoke_token(ctx: PageCtx<'_>, a: Admin<'_>, id: TokenId, _f: CsrfForm<super::pages::Empty>) -> AppResult<Redirect> {
    let (by, now) = (a.id(), ctx.state.clock.now());
    with_db(ctx.state, move |c| hr::revoke_token(c, id, by, now)).await?;
    Ok(Redirect::to("/admin/tokens"))
}

#[get("/admin/mail")]
pub async fn mail(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    let (counts, recent) = with_db(ctx.state, |c| crate::services::mail::outbox(c, 100)).await?;
    let transport = match &ctx.state.config.mail_transport {
        crate::config::MailTransport::Smtp(url) => format!("SMTP {}", redact(url)),
        crate::config::MailTransport::Folder(p) => format!("{} (.eml)", p.display()),
    };
    ctx.render(
        "admin/mail",
        json!({
            "queued": counts.0, "sent": counts.1, "failed": counts.2, "transport": transport,
            "recent": recent.iter().map(|m| json!({"id": m.id, "to": m.to_addr, "kind": m.kind, "subject": m.subject, "created": super::local(m.created_at), "tries": m.tries,
                "sent": m.sent_at.map(super::local), "failed": m.failed_at.map(super::local), "error": m.last_error, "next": super::local(m.next_try_at)})).collect::<Vec<_>>(),
        }),
    )
}

/// The SMTP URL without its password, for display.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[post("/admin/mail/<id>/retry", data = "<_f>")]
pub async fn retry_mail(ctx: PageCtx<'_>, _a: Admin<'_>, id: MailId, _f: CsrfForm<super::pages::Empty>) -> AppResult<Redirect> {
    let now = ctx.state.clock.now();
    with_db(ctx.state, move |c| crate::services::mail::retry(c, id, now)).await?;
    Ok(Redirect::to("/admin/mail"))
}

// ---- the personnel system's feed ----

/// An HR reader of the feed: an HR API token (`Authorization: Bearer lct_…`), or a signed-in
/// HR user or admin.
pub struct FeedReader;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FeedReader {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let state = req.rocket().state::<crate::state::AppState>().expect("state");
        if let Some(token) =
            req.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::trim).filter(|t| t.starts_with("lct_"))
        {
            let (token, now) = (token.to_string(), state.clock.now());
            return match with_db(state, move |c| hr::token_role(c, &token, now)).await {
                Ok(Some(Role::Hr)) => Outcome::Success(FeedReader),
                Ok(_) => Outcome::Error((
                    rocket::http::Status::Unauthorized,
                    AppError::unauthorized("the API token is unknown, revoked or expired"),
                )),
                Err(e) => Outcome::Error((e.status(), e)),
            };
        }
        match req.guard::<Personnel<'r>>().await {
            Outcome::Success(_) => Outcome::Success(FeedReader),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(s) => Outcome::Forward(s),
        }
    }
}

/// A page of the change feed.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub records: Vec<crate::services::training::Record>,
    /// Pass as `since` next time (also when `records` is empty).
    pub next_cursor: String,
    pub has_more: bool,
    /// The audit log's head as this page was read. Keep it: `lawcert audit verify --against
    /// ENTRY:HASH` later shows whether the log still holds it (no newest entries deleted).
    pub audit_head: AuditHead,
}

/// The newest entry of the hash-chained audit log (entry 0 with 64 zeros for an empty log).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditHead {
    /// Entry number.
    #[schema(value_type = i64)]
    pub entry: AuditId,
    /// SHA-256 chain hash of that entry, hex.
    pub hash: String,
}

/// Training-file entries after `since`, oldest first. Start with no `since`; keep the
/// `next_cursor` and pass it back: every entry is returned exactly once, in order. Every page
/// also carries the audit log's head (`audit_head`), published where deleting rows cannot reach.
#[utoipa::path(get, path = "/api/v1/hr/records", tag = "hr",
    params(("since" = Option<String>, Query, description = "cursor from the previous page (e.g. e1234)"), ("limit" = Option<i64>, Query, description = "1–1000, default 200")),
    responses((status = 200, body = FeedPage), (status = 400, body = crate::web::api::ErrorBody), (status = 401, body = crate::web::api::ErrorBody), (status = 403, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
#[get("/api/v1/hr/records?<since>&<limit>")]
pub async fn records(
    state: &rocket::State<crate::state::AppState>,
    _r: FeedReader,
    since: Option<&str>,
    limit: Option<i64>,
) -> AppResult<Json<FeedPage>> {
    let since = match since.map(str::trim).filter(|s| !s.is_empty()) {
        None => EntryId(0),
        Some(s) => crate::services::training::parse_cursor(s)
            .ok_or_else(|| AppError::bad_request(format!("since: {s:?} is not a cursor from this feed")))?,
    };
    let limit = limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::bad_request("limit: must be 1–1000"));
    }
    let ((records, next_cursor, has_more), (head, _)) =
        with_db(state, move |c| Ok((crate::services::training::feed(c, since, limit)?, crate::services::audit::head(c)?))).await?;
    Ok(Json(FeedPage { records, next_cursor, has_more, audit_head: AuditHead { entry: head.entry, hash: head.hash } }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn smtp_passwords_are_redacted() {
        assert_eq!(super::redact("smtp://user:secret@mail.example:587"), "smtp://***@mail.example:587");
    }
}
