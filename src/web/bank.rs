//! Trainers' question bank: browse and filter, search, create and edit with preview, approval
//! by a second trainer, retirement.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, Either};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, with_db};
use crate::auth::Trainer;
use crate::domain::bank::{normalise_letters, Level, QuestionContent, QuestionKind, FALSE_ID, TRUE_ID};
use crate::domain::editions;
use crate::domain::ids::{QuestionId, SittingId};
use crate::domain::lifecycle::Action;
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use crate::services::questions::{self, Filter};
use crate::services::{bank_review, questions::BankPage};

const STALE: &str = "someone else changed this question while you were editing it: reload it, then make your change again";

const PAGE_SIZE: i64 = 50;

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

#[allow(clippy::too_many_arguments)]
#[get("/bank?<statute>&<article>&<kind>&<difficulty>&<level>&<status>&<q>&<page>")]
pub async fn list(
    ctx: PageCtx<'_>,
    _t: Trainer<'_>,
    _free: super::guards::OutsideExam<'_>,
    statute: Option<&str>,
    article: Option<&str>,
    kind: Option<&str>,
    difficulty: Option<i32>,
    level: Option<&str>,
    status: Option<&str>,
    q: Option<&str>,
    page: Option<i64>,
) -> AppResult<RawHtml<String>> {
    let f = Filter {
        statute: non_empty(statute),
        article: non_empty(article),
        kind: non_empty(kind).filter(|k| QuestionKind::parse(k).is_some()),
        difficulty: difficulty.filter(|d| (1..=3).contains(d)),
        level: non_empty(level).filter(|l| Level::parse(l).is_some()),
        status: non_empty(status).filter(|s| crate::domain::lifecycle::Status::parse(s).is_some()),
        search: non_empty(q),
    };
    let page = page.unwrap_or(1).max(1);
    let filter = f.clone();
    let today = crate::timefmt::bureau_date(ctx.state.clock.now());
    let BankPage { rows, total, statutes, counts, registry: reg, flagged, held } =
        with_db(ctx.state, move |c| questions::bank_page(c, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE, today)).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(q, v)| {
            json!({
                "id": q.id, "code": q.code, "kind": q.kind, "status": q.status, "stem": v.stem,
                "statute": statutes.name(&v.statute_code), "edition": v.edition_code,
                "articles": v.articles, "difficulty": v.difficulty, "levels": v.levels_vec().iter().map(|l| l.as_str()).collect::<Vec<_>>(),
                "pending": q.live_version != Some(q.latest_version), "case": q.case_id.is_some(), "incomplete": !v.missing_for_review().is_empty(),
                "suspended": editions::suspension(&reg, &v.statute_code, &v.edition_code, &v.articles_vec(), today).is_some_and(|s| s.effective),
                "flags": flagged.get(&v.id).cloned().unwrap_or_default(), "case_held": q.case_id.is_some_and(|c| held.contains(&c)),
            })
        })
        .collect();
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let query = |p: i64| {
        let mut parts = vec![format!("page={p}")];
        for (k, v) in [
            ("statute", &f.statute),
            ("article", &f.article),
            ("kind", &f.kind),
            ("level", &f.level),
            ("status", &f.status),
            ("q", &f.search),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        if let Some(d) = f.difficulty {
            parts.push(format!("difficulty={d}"));
        }
        format!("/bank?{}", parts.join("&"))
    };
    ctx.render(
        "bank/list",
        json!({
            "items": items, "total": total, "page": page, "pages": pages.max(1),
            "prev": (page > 1).then(|| query(page - 1)), "next": (page < pages).then(|| query(page + 1)),
            "statutes": statutes.list().iter().map(|(c, n)| json!({"code": c, "name": n, "selected": f.statute.as_deref() == Some(c)})).collect::<Vec<_>>(),
            "f": { "article": f.article, "kind": f.kind, "difficulty": f.difficulty, "level": f.level, "status": f.status, "q": f.search },
            "counts": counts.into_iter().map(|(s, n)| json!({"status": s, "n": n})).collect::<Vec<_>>(),
        }),
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The question form as typed by the trainer.
#[derive(FromForm, Default, Clone, Debug)]
pub struct QuestionForm {
    kind: String,
    statute: String,
    edition: String,
    articles: String,
    difficulty: i32,
    levels: Vec<String>,
    stem: String,
    options: String,
    answer: String,
    explanation: String,
    tags: String,
    action: String,
    revision: Option<i32>,
}

impl QuestionForm {
    fn content(&self) -> Result<QuestionContent, Vec<Problem>> {
        let mut errs = Vec::new();
        let kind = QuestionKind::parse(&self.kind).unwrap_or_else(|| {
            errs.push(Problem::plain("kind", "question.form_kind", "choose single, multiple or true/false"));
            QuestionKind::Single
        });
        let options: Vec<String> = if kind == QuestionKind::TrueFalse {
            vec![]
        } else {
            self.options.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
        };
        let answer = if kind == QuestionKind::TrueFalse {
            match self.answer.trim() {
                "T" | "true" | "对" | "正确" => TRUE_ID.to_string(),
                "F" | "false" | "错" | "错误" => FALSE_ID.to_string(),
                other => {
                    errs.push(Problem::with(
                        "answer",
                        "question.form_truefalse",
                        vec![("got", other.to_string())],
                        format!("{other:?}: choose true or false"),
                    ));
                    String::new()
                }
            }
        } else {
            normalise_letters(&self.answer)
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut levels: Vec<Level> = self.levels.iter().filter_map(|l| Level::parse(l)).collect();
        levels.sort();
        levels.dedup();
        Ok(QuestionContent {
            kind,
            statute: self.statute.trim().to_string(),
            edition: self.edition.trim().to_string(),
            articles: self.articles.split([',', '，', ' ', '、']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect(),
            difficulty: self.difficulty,
            levels,
            stem: self.stem.trim().to_string(),
            options,
            answer,
            explanation: self.explanation.trim().to_string(),
            tags: self.tags.split([',', '，']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect(),
        })
    }

    fn from_content(c: &QuestionContent, revision: i32) -> QuestionForm {
        QuestionForm {
            kind: c.kind.as_str().into(),
            statute: c.statute.clone(),
            edition: c.edition.clone(),
            articles: c.articles.join(", "),
            difficulty: c.difficulty,
            levels: c.levels.iter().map(|l| l.as_str().to_string()).collect(),
            stem: c.stem.clone(),
            options: c.options.join("\n"),
            answer: if c.kind == QuestionKind::TrueFalse {
                if c.answer == "T" {
                    "true".into()
                } else {
                    "false".into()
                }
            } else {
                c.answer.clone()
            },
            explanation: c.explanation.clone(),
            tags: c.tags.join(", "),
            action: String::new(),
            revision: Some(revision),
        }
    }

    fn json(&self) -> Value {
        json!({
            "kind": self.kind, "statute": self.statute, "edition": self.edition, "articles": self.articles,
            "difficulty": self.difficulty, "stem": self.stem, "options": self.options, "answer": self.answer,
            "explanation": self.explanation, "tags": self.tags, "revision": self.revision,
            "basic": self.levels.iter().any(|l| l == "basic"), "intermediate": self.levels.iter().any(|l| l == "intermediate"),
            "advanced": self.levels.iter().any(|l| l == "advanced"),
            "single": self.kind == "single", "multiple": self.kind == "multiple", "truefalse": self.kind == "truefalse",
            "d1": self.difficulty == 1, "d2": self.difficulty == 2, "d3": self.difficulty == 3,
        })
    }
}

fn preview_json(c: &QuestionContent) -> Value {
    let letters = crate::domain::bank::OPTION_LETTERS;
    json!({
        "kind": c.kind.as_str(), "stem": c.stem, "explanation": c.explanation, "articles": c.articles.join("、"),
        "options": c.options.iter().enumerate().map(|(i, o)| {
            let id = letters.chars().nth(i).unwrap_or('?');
            json!({"id": id.to_string(), "text": o, "correct": c.answer.contains(id)})
        }).collect::<Vec<_>>(),
        "truefalse": c.kind == QuestionKind::TrueFalse, "answer_true": c.answer == "T",
    })
}

/// The question form's problems as its page shows them: `field: sentence` in the reader's
/// language, so each shows beside its field (`{{field_error}}`) and in the list at the top.
pub(super) fn said(lang: &str, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let sentence = crate::render::say_problem(lang, p, "");
            if p.field.is_empty() {
                sentence
            } else {
                format!("{}: {sentence}", p.field)
            }
        })
        .collect()
}

fn stale() -> Problem {
    Problem::plain("", "question.stale", STALE)
}

async fn form_page(
    ctx: &PageCtx<'_>,
    form: &QuestionForm,
    question: Option<Value>,
    errors: Vec<Problem>,
    preview: Option<Value>,
) -> AppResult<RawHtml<String>> {
    let errors = said(ctx.lang, &errors);
    let reg = with_db(ctx.state, |c| questions::registry(c)).await?;
    let statutes: Vec<Value> = reg
        .statutes
        .iter()
        .map(|s| {
            json!({"code": s.code, "name": s.short, "selected": s.code == form.statute,
            "editions": s.editions.iter().map(|e| e.code.clone()).collect::<Vec<_>>()})
        })
        .collect();
    let editions: Vec<Value> = reg
        .statutes
        .iter()
        .flat_map(|s| s.editions.iter().map(move |e| json!({"code": e.code, "label": format!("{} {}", s.short, e.code), "selected": e.code == form.edition && s.code == form.statute})))
        .collect();
    ctx.render(
        "bank/form",
        json!({ "form": form.json(), "question": question, "errors": errors, "preview": preview, "statutes": statutes, "editions": editions }),
    )
}

#[get("/bank/new")]
pub async fn new_page(ctx: PageCtx<'_>, _t: Trainer<'_>) -> AppResult<RawHtml<String>> {
    let form = QuestionForm { kind: "single".into(), difficulty: 1, levels: vec!["basic".into()], ..<QuestionForm as Default>::default() };
    form_page(&ctx, &form, None, vec![], None).await
}

#[post("/bank/new", data = "<form>")]
pub async fn create(ctx: PageCtx<'_>, t: Trainer<'_>, form: CsrfForm<QuestionForm>) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let reg = with_db(ctx.state, |c| questions::registry(c)).await?;
    let content = match form.content() {
        Ok(c) => c,
        Err(errs) => return form_page(&ctx, &form, None, errs, None).await.map(Either::Left),
    };
    let errs = content.validate(&reg);
    if !errs.is_empty() || form.action == "preview" {
        let preview = errs.is_empty().then(|| preview_json(&content));
        return form_page(&ctx, &form, None, errs, preview).await.map(Either::Left);
    }
    let author = t.user.id;
    let now = ctx.state.clock.now();
    let id = with_db(ctx.state, move |c| questions::create(c, &content, author, now)).await?;
    Ok(Either::Right(Redirect::to(format!("/bank/{id}"))))
}

#[get("/bank/<id>")]
pub async fn show(ctx: PageCtx<'_>, t: Trainer<'_>, _free: super::guards::OutsideExam<'_>, id: QuestionId) -> AppResult<RawHtml<String>> {
    let today = crate::timefmt::bureau_date(ctx.state.clock.now());
    let questions::QuestionPage {
        question: q,
        versions,
        keys,
        case,
        statutes: names,
        suspension,
        stats,
        sitting_titles: titles,
        calibration,
        hold,
        exposure: seen,
    } = with_db(ctx.state, move |c| questions::question_page(c, id, today)).await?;
    let stats: Vec<Value> = stats
        .iter()
        .map(|r| {
            let detail: Value = serde_json::from_str(&r.detail).unwrap_or(Value::Null);
            let version = versions.iter().find(|v| v.id == r.question_version_id).map(|v| v.version);
            json!({"sitting_id": r.sitting_id, "sitting": titles.get(&r.sitting_id), "version": version, "n": r.n,
                   "facility": format!("{:.2}", r.facility), "discrimination": r.discrimination.map(|d| format!("{d:.2}")),
                   "options": detail.get("options")})
        })
        .collect();
    let calibration: Vec<Value> = versions
        .iter()
        .filter_map(|v| {
            calibration.get(&v.id).map(|m| {
                json!({"version": v.version, "version_id": v.id, "difficulty": format!("{:+.2}", m.difficulty), "se": format!("{:.2}", m.se),
                       "n": m.n, "infit": m.infit.map(|x| format!("{x:.2}")), "outfit": m.outfit.map(|x| format!("{x:.2}")), "flags": m.flags})
            })
        })
        .collect();
    let stats = (stats, calibration);
    // item exposure, per sitting and overall (every version of the question)
    let mut rows = Vec::new();
    for v in &versions {
        for (sid, n) in seen.get(&v.id).into_iter().flatten() {
            rows.push(json!({"sitting_id": sid, "sitting": titles.get(sid), "version": v.version, "papers": n}));
        }
    }
    let sittings: std::collections::HashSet<SittingId> = seen.values().flatten().map(|(s, _)| *s).collect();
    let papers: u32 = seen.values().flatten().map(|(_, n)| n).sum();
    let exposure = json!({"papers": papers, "sittings": sittings.len(), "rows": rows});
    let kind = q.kind;
    let latest = versions.first().ok_or_else(|| AppError::internal("question without versions"))?;
    let latest_unreviewed = latest.reviewed_at.is_none();
    let retired = q.status == crate::domain::lifecycle::Status::Retired;
    let incomplete = latest.missing_for_review();
    let can_approve = latest_unreviewed && !retired && latest.created_by != Some(t.user.id) && incomplete.is_empty();
    let versions_json: Vec<Value> = versions
        .iter()
        .map(|v| {
            let content = v.content(kind, keys.get(&v.id).cloned().unwrap_or_default());
            json!({
                "version": v.version, "live": q.live_version == Some(v.version), "latest": q.latest_version == v.version,
                "statute": names.name(&v.statute_code), "edition": v.edition_code,
                "difficulty": v.difficulty, "levels": v.levels, "created_at": local(v.created_at), "created_by": v.created_by,
                "reviewed_at": v.reviewed_at.map(local), "preview": preview_json(&content),
            })
        })
        .collect();
    ctx.render(
        "bank/show",
        json!({
            "q": { "id": q.id, "code": q.code, "kind": q.kind, "status": q.status, "origin": q.origin, "revision": q.revision,
                   "pending": latest_unreviewed, "retired": retired },
            "case": case.map(|c| json!({"code": c.code, "title": c.title, "body": c.body})),
            "can_approve": can_approve, "own_pending": latest_unreviewed && !retired && latest.created_by == Some(t.user.id) && incomplete.is_empty(),
            "incomplete": incomplete,
            "can_activate": q.status == crate::domain::lifecycle::Status::Reviewed, "versions": versions_json,
            "suspension": suspension.map(|s| json!({"edition": s.by_edition, "title": s.by_title, "in_force": s.in_force.to_string(),
                                                    "articles": s.articles.join("、"), "effective": s.effective})),
            "stats": stats.0, "calibration": stats.1,
            "exposure": exposure,
            "case_hold": hold.map(|h| json!({"code": h.code, "missing": h.missing.iter().map(|(code, why)| json!({"code": code, "why": why})).collect::<Vec<_>>()})),
        }),
    )
}

#[get("/bank/<id>/edit")]
pub async fn edit_page(
    ctx: PageCtx<'_>,
    _t: Trainer<'_>,
    _free: super::guards::OutsideExam<'_>,
    id: QuestionId,
) -> AppResult<RawHtml<String>> {
    let (q, v, key) = with_db(ctx.state, move |c| questions::latest_of(c, id)).await?;
    let content = v.content(q.kind, key);
    let form = QuestionForm::from_content(&content, q.revision);
    form_page(&ctx, &form, Some(json!({"id": q.id, "code": q.code, "case": q.case_id.is_some()})), vec![], None).await
}

#[post("/bank/<id>/edit", data = "<form>")]
pub async fn update(
    ctx: PageCtx<'_>,
    t: Trainer<'_>,
    id: QuestionId,
    form: CsrfForm<QuestionForm>,
) -> AppResult<Either<RawHtml<String>, Redirect>> {
    let form = form.0;
    let (q, reg) = with_db(ctx.state, move |c| Ok((questions::question(c, id)?, questions::registry(c)?))).await?;
    let qjson = json!({"id": q.id, "code": q.code, "case": q.case_id.is_some()});
    let mut content = match form.content() {
        Ok(c) => c,
        Err(errs) => return form_page(&ctx, &form, Some(qjson), errs, None).await.map(Either::Left),
    };
    // a question's type is fixed: papers already drawn grade it by that type
    if content.kind != q.kind {
        content.kind = q.kind;
    }
    let mut errs = content.validate(&reg);
    if form.revision != Some(q.revision) {
        errs.push(stale());
    }
    if !errs.is_empty() || form.action == "preview" {
        let preview = errs.is_empty().then(|| preview_json(&content));
        return form_page(&ctx, &form, Some(qjson), errs, preview).await.map(Either::Left);
    }
    let (author, now, revision) = (t.user.id, ctx.state.clock.now(), q.revision);
    let edit = with_db(ctx.state, move |c| questions::save_edit(c, id, revision, &content, author, now)).await?;
    if edit == questions::Edit::Stale {
        return form_page(&ctx, &form, Some(qjson), vec![stale()], None).await.map(Either::Left);
    }
    Ok(Either::Right(Redirect::to(format!("/bank/{id}"))))
}

#[derive(FromForm)]
pub struct RevisionForm {
    revision: i32,
}

/// Runs a lifecycle action from the question page.
async fn lifecycle_action(ctx: &PageCtx<'_>, t: &Trainer<'_>, id: QuestionId, revision: i32, action: Action) -> AppResult<Redirect> {
    let actor = t.user.id;
    let now = ctx.state.clock.now();
    with_db(ctx.state, move |c| bank_review::transition(c, action, id, revision, actor, now)).await?;
    Ok(Redirect::to(format!("/bank/{id}")))
}

#[post("/bank/<id>/approve", data = "<form>")]
pub async fn approve(ctx: PageCtx<'_>, t: Trainer<'_>, id: QuestionId, form: CsrfForm<RevisionForm>) -> AppResult<Redirect> {
    lifecycle_action(&ctx, &t, id, form.0.revision, Action::Review).await
}

#[post("/bank/<id>/activate", data = "<form>")]
pub async fn activate(ctx: PageCtx<'_>, t: Trainer<'_>, id: QuestionId, form: CsrfForm<RevisionForm>) -> AppResult<Redirect> {
    lifecycle_action(&ctx, &t, id, form.0.revision, Action::Activate).await
}

#[post("/bank/<id>/retire", data = "<form>")]
pub async fn retire(ctx: PageCtx<'_>, t: Trainer<'_>, id: QuestionId, form: CsrfForm<RevisionForm>) -> AppResult<Redirect> {
    lifecycle_action(&ctx, &t, id, form.0.revision, Action::Retire).await
}

#[post("/bank/<id>/reinstate", data = "<form>")]
pub async fn reinstate(ctx: PageCtx<'_>, t: Trainer<'_>, id: QuestionId, form: CsrfForm<RevisionForm>) -> AppResult<Redirect> {
    lifecycle_action(&ctx, &t, id, form.0.revision, Action::Reinstate).await
}
