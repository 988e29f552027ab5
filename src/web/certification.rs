//! Certification pages: officers see their levels, eligibility and certificates and apply;
//! trainers register officers; admins edit the rule values; HR/admins record post changes; anyone
//! can verify a certificate by number and code.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, with_db};
use crate::auth::{Admin, Officer, Personnel, Trainer};
use crate::domain::bank::Level;
use crate::domain::certification::{CertRules, CertStatus, Ineligible};
use crate::domain::ids::UserId;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::certification as cert;
use crate::timefmt::bureau_date;

/// A reason in the catalogue's words: `{key, params}` for the `t` helper (every parameter
/// present, so strict templates can name them all).
fn reason_json(r: &Ineligible) -> Value {
    let lvl = |l: &Level| format!("level.{}", l.as_str());
    let (key, level, since, years, hired, until) = match r {
        Ineligible::NeedsPrerequisite { level } => ("cert.why_prerequisite", lvl(level), String::new(), 0, String::new(), String::new()),
        Ineligible::PrerequisiteTooRecent { level, since, years } => {
            ("cert.why_too_recent", lvl(level), since.to_string(), *years, String::new(), String::new())
        }
        Ineligible::ServiceTooShort { hired, years } => {
            ("cert.why_service", "level.basic".into(), String::new(), *years, hired.to_string(), String::new())
        }
        Ineligible::AlreadyHolds { level, until } => ("cert.why_holds", lvl(level), String::new(), 0, String::new(), until.to_string()),
        Ineligible::UnknownLevel => ("cert.why_unknown", "level.basic".into(), String::new(), 0, String::new(), String::new()),
    };
    json!({"key": key, "level": level, "since": since, "years": years, "hired": hired, "until": until})
}

#[get("/certification")]
pub async fn mine(ctx: PageCtx<'_>, o: Officer<'_>) -> AppResult<RawHtml<String>> {
    let (uid, now) = (o.user.id, ctx.state.clock.now());
    let today = bureau_date(now);
    let cert::MyCertification { rules, certs, levels, registrations: regs } =
        with_db(ctx.state, move |c| cert::mine(c, uid, today)).await?;
    let levels: Vec<Value> = levels
        .iter()
        .map(|(l, e, registered)| {
            let rule = rules.level(*l);
            json!({
                "level": l.as_str(), "eligible": e.is_ok(), "registered": registered,
                "reasons": e.as_ref().err().map(|w| w.iter().map(reason_json).collect::<Vec<_>>()).unwrap_or_default(),
                "pass_percent": rule.map(|r| r.pass_percent), "validity_years": rule.map(|r| r.validity_years),
                "prerequisite": rule.and_then(|r| r.prerequisite).map(|p| p.as_str()),
            })
        })
        .collect();
    let certs: Vec<Value> = certs
        .iter()
        .map(|(c, s)| json!({"number": c.number, "level": c.level, "issued_on": c.issued_on.to_string(), "expires_on": c.expires_on.to_string(), "status": s.as_str(), "code": c.verify_code}))
        .collect();
    let regs: Vec<Value> = regs.iter().map(|r| json!({"level": r.level, "status": r.status, "at": local(r.created_at)})).collect();
    ctx.render("certification/mine", json!({ "levels": levels, "certs": certs, "regs": regs }))
}

#[derive(FromForm)]
pub struct LevelForm {
    level: String,
}

#[post("/certification/register", data = "<f>")]
pub async fn register(ctx: PageCtx<'_>, o: Officer<'_>, f: CsrfForm<LevelForm>) -> AppResult<Redirect> {
    let level = Level::parse(&f.0.level).ok_or_else(|| {
        AppError::unprocessable("level: basic, intermediate or advanced").localized("cert_refusal.unknown_level", json!({}))
    })?;
    let (uid, now) = (o.user.id, ctx.state.clock.now());
    with_db(ctx.state, move |c| cert::register(c, uid, level, uid, now)).await?;
    Ok(Redirect::to("/certification"))
}

async fn manage_page(ctx: &PageCtx<'_>, errors: Vec<String>, done: Option<String>) -> AppResult<RawHtml<String>> {
    let regs = with_db(ctx.state, |c| cert::registrations(c)).await?;
    let rows: Vec<Value> = regs
        .iter()
        .map(|(r, badge, name)| json!({"badge": badge, "name": name, "level": r.level, "status": r.status, "at": local(r.created_at), "sitting": r.sitting_id}))
        .collect();
    ctx.render("certification/manage", json!({ "rows": rows, "errors": errors, "done": done }))
}

#[get("/certification/registrations")]
pub async fn registrations(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    manage_page(&ctx, vec![], None).await
}

#[derive(FromForm)]
pub struct RegisterOfficerForm {
    badge: String,
    level: String,
}

#[post("/certification/registrations", data = "<f>")]
pub async fn register_officer(ctx: PageCtx<'_>, t: Trainer<'_>, f: CsrfForm<RegisterOfficerForm>) -> AppResult<RawHtml<String>> {
    let Some(level) = Level::parse(&f.0.level) else {
        return manage_page(&ctx, ctx.problem_lines(&[Problem::plain("", "cert.choose_level", "level: choose a level")]), None).await;
    };
    let badge = f.0.badge.trim().to_string();
    let (by, now) = (t.user.id, ctx.state.clock.now());
    let b = badge.clone();
    let r = with_db(ctx.state, move |c| cert::register_badge(c, &b, level, by, now)).await;
    match r {
        Ok(_) => manage_page(&ctx, vec![], Some(badge)).await,
        Err(e) if (e.is_conflict() || e.is_invalid()) => manage_page(&ctx, vec![format!("{badge}: {}", ctx.said(&e))], None).await,
        Err(e) => Err(e),
    }
}

async fn rules_page(ctx: &PageCtx<'_>, r: &CertRules, errors: Vec<String>, saved: bool) -> AppResult<RawHtml<String>> {
    ctx.render("certification/rules", json!({ "r": r, "errors": errors, "saved": saved }))
}

#[get("/admin/certification")]
pub async fn rules_form(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    let r = with_db(ctx.state, |c| cert::rules(c)).await?;
    rules_page(&ctx, &r, vec![], false).await
}

#[derive(FromForm)]
pub struct RuleRow {
    pass_percent: i32,
    validity_years: i32,
    prerequisite: String,
    min_service_years: i32,
    min_prerequisite_years: i32,
}

#[derive(FromForm)]
pub struct RulesForm {
    levels: Vec<RuleRow>,
    lapse_days_off_post: i64,
    warn_days_before_expiry: i64,
}

#[post("/admin/certification", data = "<f>")]
pub async fn save_rules(ctx: PageCtx<'_>, a: Admin<'_>, f: CsrfForm<RulesForm>) -> AppResult<RawHtml<String>> {
    let f = f.0;
    if f.levels.len() != 3 {
        return Err(AppError::unprocessable("levels: give the rules of all three levels").localized("cert_refusal.three_levels", json!({})));
    }
    let r = CertRules {
        levels: Level::ALL
            .iter()
            .zip(&f.levels)
            .map(|(l, row)| crate::domain::certification::LevelRule {
                level: *l,
                pass_percent: row.pass_percent,
                validity_years: row.validity_years,
                prerequisite: Level::parse(row.prerequisite.trim()),
                min_service_years: row.min_service_years,
                min_prerequisite_years: row.min_prerequisite_years,
            })
            .collect(),
        lapse_days_off_post: f.lapse_days_off_post,
        warn_days_before_expiry: f.warn_days_before_expiry,
    };
    let (by, now) = (a.user.id, ctx.state.clock.now());
    let r2 = r.clone();
    match with_db(ctx.state, move |c| cert::save_rules(c, &r2, by, now)).await {
        Ok(()) => rules_page(&ctx, &r, vec![], true).await,
        Err(e) if e.is_invalid() => rules_page(&ctx, &r, ctx.form_lines(&e), false).await,
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
pub struct PostForm {
    post: String,
    enforcement_post: bool,
    effective_on: String,
}

/// Records an officer's change of post (HR or admin).
/// A refused change shows the officer's page again with the problems beside the fields.
#[post("/admin/users/<id>/post", data = "<f>")]
pub async fn change_post(
    ctx: PageCtx<'_>,
    p: Personnel<'_>,
    id: UserId,
    f: CsrfForm<PostForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let f = f.0;
    let Ok(on) = chrono::NaiveDate::parse_from_str(f.effective_on.trim(), "%Y-%m-%d") else {
        let p = Problem::plain("effective_on", "cert.effective_on", "the date the change took effect, YYYY-MM-DD");
        return officer_page(&ctx, id, &f, ctx.problem_lines(&[p])).await.map(Either::Left);
    };
    let (by, now) = (p.user.id, ctx.state.clock.now());
    let post = f.post.clone();
    match with_db(ctx.state, move |c| cert::record_post_change(c, id, &post, f.enforcement_post, on, by, now)).await {
        Ok(()) => Ok(Either::Right(Redirect::to(format!("/officers/{id}")))),
        Err(e) if e.is_invalid() => officer_page(&ctx, id, &f, ctx.form_lines(&e)).await.map(Either::Left),
        Err(e) => Err(e),
    }
}

/// An officer's certification record (HR, admins; leaders and the officer see it elsewhere).
#[get("/officers/<id>")]
pub async fn officer(ctx: PageCtx<'_>, _p: Personnel<'_>, id: UserId) -> AppResult<RawHtml<String>> {
    let blank = PostForm { post: String::new(), enforcement_post: true, effective_on: String::new() };
    officer_page(&ctx, id, &blank, vec![]).await
}

/// The officer's record with the post-change form as typed and its problems.
async fn officer_page(ctx: &PageCtx<'_>, id: UserId, typed: &PostForm, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let today = bureau_date(ctx.state.clock.now());
    let (u, certs, posts) = with_db(ctx.state, move |c| cert::record_of(c, id, today)).await?;
    ctx.render(
        "certification/officer",
        json!({
            "u": {"id": u.id, "badge": u.badge, "name": u.name, "post": u.post, "enforcement_post": u.enforcement_post, "police_type": u.police_type, "hire_date": u.hire_date.to_string()},
            "certs": certs.iter().map(|(c, s)| json!({"number": c.number, "level": c.level, "issued_on": c.issued_on.to_string(), "expires_on": c.expires_on.to_string(), "status": s.as_str(), "ended_on": c.ended_on.map(|d| d.to_string())})).collect::<Vec<_>>(),
            "posts": posts.iter().map(|p| json!({"post": p.post, "enforcement": p.enforcement_post, "on": p.effective_on.to_string()})).collect::<Vec<_>>(),
            "today": today.to_string(),
            "typed": {"post": typed.post, "enforcement_post": typed.enforcement_post, "effective_on": typed.effective_on},
            "errors": errors,
        }),
    )
}

/// The public verification page: no sign-in; says whether the certificate is valid and whose
/// it is (name and masked badge only).
#[get("/verify?<number>&<code>")]
pub async fn verify(ctx: PageCtx<'_>, number: Option<&str>, code: Option<&str>) -> AppResult<RawHtml<String>> {
    let today = bureau_date(ctx.state.clock.now());
    let (n, c) = (number.unwrap_or("").trim().to_string(), code.unwrap_or("").trim().to_string());
    let asked = !n.is_empty() || !c.is_empty();
    let (n2, c2) = (n.clone(), c.clone());
    let result = if asked { with_db(ctx.state, move |conn| cert::verify(conn, &n2, &c2, today)).await? } else { None };
    ctx.render(
        "certification/verify",
        json!({
            "number": n, "code": c, "asked": asked,
            "result": result.map(|v| json!({"number": v.number, "holder_name": v.holder_name, "holder_badge": v.holder_badge, "level": v.level, "issued_on": v.issued_on.to_string(), "expires_on": v.expires_on.to_string(), "status": v.status.as_str(), "valid": v.status == crate::domain::certification::CertStatus::Valid})),
        }),
    )
}

/// Officers with their valid certification levels (HR, admins), to open one's record.
#[get("/officers?<q>")]
pub async fn officers(ctx: PageCtx<'_>, _p: Personnel<'_>, q: Option<&str>) -> AppResult<RawHtml<String>> {
    let q = q.unwrap_or("").trim().to_string();
    let needle = q.clone();
    let rows = with_db(ctx.state, move |c| cert::officers_with_levels(c, &needle)).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|(u, unit, levels)| {
            json!({"id": u.id, "badge": u.badge, "name": u.name, "unit": unit, "police_type": u.police_type,
                   "enforcement": u.enforcement_post, "levels": levels})
        })
        .collect();
    ctx.render("certification/officers", json!({ "rows": rows, "q": q }))
}

/// A printable certificate (PDF) with its number, verification code and a QR code to the
/// public verification page. The holder, HR and admins may print it.
#[get("/certificates/<number>/pdf")]
pub async fn certificate_pdf(
    ctx: PageCtx<'_>,
    u: &crate::auth::CurrentUser,
    host: HostHeader<'_>,
    number: &str,
) -> AppResult<super::bank_files::Download> {
    let today = bureau_date(ctx.state.clock.now());
    let n = number.to_string();
    let (uid, hr) = (u.id(), u.has(crate::domain::org::Role::Hr) || u.has(crate::domain::org::Role::Admin));
    let (c, holder, unit, status) = with_db(ctx.state, move |conn| cert::for_print(conn, &n, uid, hr, today)).await?;
    let base = ctx.state.config.public_url.clone().unwrap_or_else(|| format!("http://{}", host.0.unwrap_or("127.0.0.1:8000")));
    let url = format!("{}/verify?number={}&code={}", base.trim_end_matches('/'), c.number, c.verify_code);
    let level = crate::services::training::level_name(c.level.as_str());
    let mut d = super::pdf::Doc::new(&format!("执法资格证书 {}", c.number));
    d.gap(60.0);
    d.centred("执法资格等级证书", 26.0);
    d.gap(30.0);
    d.centred(&format!("{}（警号 {}）", holder.name, holder.badge), 16.0);
    d.centred(&unit, 12.0);
    d.gap(20.0);
    d.centred(&format!("经考试合格，取得{level}执法资格。",), 14.0);
    d.gap(20.0);
    d.centred(&format!("证书编号：{}", c.number), 12.0);
    // a certificate is the bureau's Chinese document: its dates as Chinese writes them
    d.centred(
        &format!("颁发日期：{}　有效期至：{}", crate::timefmt::date_in("zh", c.issued_on), crate::timefmt::date_in("zh", c.expires_on)),
        12.0,
    );
    if let Some(s) = status.filter(|s| *s != CertStatus::Valid) {
        d.centred(
            &format!(
                "（当前状态：{}）",
                match s {
                    CertStatus::Expired => "已过期",
                    CertStatus::Lapsed => "离岗失效",
                    CertStatus::Revoked | CertStatus::Valid => "已撤销",
                }
            ),
            12.0,
        );
    }
    d.gap(30.0);
    d.qr(&url, 150.0);
    d.centred(&format!("验证码：{}", c.verify_code), 11.0);
    d.centred("扫码或登录平台“证书验证”页面核验真伪", 9.0);
    d.centred(&url, 8.0);
    Ok(super::bank_files::download(d.finish(), "application/pdf", &format!("{}.pdf", c.number)))
}

/// The request's Host header (for links printed on certificates when no public URL is set).
pub struct HostHeader<'r>(pub Option<&'r str>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for HostHeader<'r> {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        // only a plausible host name: the value ends up printed on a certificate
        let h =
            req.headers().get_one("Host").filter(|h| h.len() < 100 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)));
        rocket::request::Outcome::Success(HostHeader(h))
    }
}
