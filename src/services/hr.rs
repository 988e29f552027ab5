//! HR: promotion rules, eligibility checks, compliance figures, and API tokens for the
//! personnel system.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::json;

/// A promotion rule as stored, and an API token's row, as the pages and the API read them.
pub use crate::db::models::hr::{ApiToken, StoredRule};
use crate::db::models::{audit, cert as cert_db, exam as exam_db, hr as hr_db, org, training as tr_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::Level;
use crate::domain::certification::CertStatus;
use crate::domain::compliance::{self, Figures, OfficerFacts, Targets};
use crate::domain::exam::SittingKind;
use crate::domain::ids::{QuestionId, RuleId, TokenId, UnitId, UserId, VersionId};
use crate::domain::org::{unit_path, Role};
use crate::domain::promotion::{self, CertFact, Facts, PromotionRule, Refusal};
use crate::domain::training_file::EntryKind;
use crate::domain::validation::{FieldError, Problem};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::timefmt::bureau_date;

pub fn save_rule(conn: &mut DbConn, id: Option<RuleId>, rule: &PromotionRule, active: bool, by: UserId, now: Ts) -> AppResult<RuleId> {
    let errs = rule.validate();
    if !errs.is_empty() {
        return Err(AppError::invalid_lines(&errs));
    }
    write_tx(conn, |c| {
        let before = match id {
            Some(id) => Some(hr_db::find_rule(c, id)?.ok_or_else(|| AppError::not_found("no such promotion rule"))?),
            None => None,
        };
        let rid = hr_db::save_rule(c, id, rule, active, by, now)?;
        audit::append(
            c,
            Some(by),
            "promotion_rule.save",
            &format!("promotion_rule:{rid}"),
            &json!({"before": before.map(|b| b.rule()), "after": rule, "active": active}),
            now,
        )?;
        Ok(rid)
    })
}

/// A promotion rule as HR writes it (the rules page or `POST`/`PUT /api/v1/promotion-rules`).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// At most 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The post or grade promoted to (派出所所长, 一级警长 …), at most 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub target: String,
    /// `basic`, `intermediate` or `advanced`; absent or empty: no certificate needed.
    #[serde(default)]
    #[schema(pattern = "^(basic|intermediate|advanced)?$")]
    pub min_level: Option<String>,
    /// No open remedial plan on the day of the check.
    pub no_open_remedial: bool,
    /// No failed bimonthly exam within this many months (1–120) before the promotion date.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 120)]
    pub no_failed_bimonthly_months: Option<i32>,
    /// The qualifying certificate must still be valid on the promotion date (needs `min_level`).
    pub cert_valid_on_date: bool,
    /// In use (offered for checks); default true.
    #[serde(default = "in_use")]
    pub active: bool,
}

fn in_use() -> bool {
    true
}

impl RuleInput {
    /// The rule, or every problem with it, each naming its field.
    pub fn rule(&self) -> Result<PromotionRule, Vec<Problem>> {
        let mut errs = Vec::new();
        let min_level = match self.min_level.as_deref().map(str::trim).unwrap_or("") {
            "" => None,
            l => Level::parse(l).or_else(|| {
                errs.push(Problem::with(
                    "min_level",
                    "unknown_level",
                    vec![("got", format!("{l:?}"))],
                    format!("unknown level {l:?} (basic, intermediate or advanced)"),
                ));
                None
            }),
        };
        let rule = PromotionRule {
            name: self.name.clone(),
            target: self.target.clone(),
            min_level,
            no_open_remedial: self.no_open_remedial,
            no_failed_bimonthly_months: self.no_failed_bimonthly_months,
            cert_valid_on_date: self.cert_valid_on_date,
        };
        // a level we could not read is not also "no minimum level"
        let unread_level = !errs.is_empty();
        errs.extend(rule.problems().into_iter().filter(|p| !(unread_level && matches!(p.key, "needs_min_level" | "rule_no_condition"))));
        if errs.is_empty() {
            Ok(rule)
        } else {
            Err(errs)
        }
    }
}

/// Creates (`id` None) or updates a rule from HR's input, audited; 422 with every field's
/// problem in English (the API), 404 for an unknown id.
pub fn save_rule_input(conn: &mut DbConn, id: Option<RuleId>, input: &RuleInput, by: UserId, now: Ts) -> AppResult<RuleId> {
    let rule = input.rule().map_err(|e| AppError::invalid_lines(&e.iter().map(Problem::line).collect::<Vec<_>>()))?;
    save_rule(conn, id, &rule, input.active, by, now)
}

/// Every promotion rule, in use or not.
pub fn rules(conn: &mut DbConn) -> AppResult<Vec<StoredRule>> {
    Ok(hr_db::rules(conn)?)
}

/// A promotion rule by id; 404 when there is none.
pub fn rule(conn: &mut DbConn, id: RuleId) -> AppResult<StoredRule> {
    hr_db::find_rule(conn, id)?.ok_or_else(|| AppError::not_found(format!("no promotion rule {id}")))
}

/// `save_rule_input`, then the rule as stored. An update of an unknown rule is 404 before its
/// input is looked at.
pub fn save_and_read_rule(conn: &mut DbConn, id: Option<RuleId>, input: &RuleInput, by: UserId, now: Ts) -> AppResult<StoredRule> {
    if let Some(id) = id {
        rule(conn, id)?;
    }
    let id = save_rule_input(conn, id, input, by, now)?;
    hr_db::find_rule(conn, id)?.ok_or_else(|| AppError::internal("rule vanished"))
}

/// Every API token, newest first.
pub fn tokens(conn: &mut DbConn) -> AppResult<Vec<ApiToken>> {
    Ok(hr_db::tokens(conn)?)
}

/// [`save_rule_input`] for the rules page: each problem tied to its field and said in `lang`
/// with the field's label.
pub fn save_rule_input_in(conn: &mut DbConn, id: Option<RuleId>, input: &RuleInput, lang: &str, by: UserId, now: Ts) -> AppResult<RuleId> {
    let rule = input.rule().map_err(|e| {
        AppError::invalid(e.iter().map(|p| FieldError::new(p.field, crate::render::say_problem(lang, p, rule_label(p.field)))).collect())
    })?;
    save_rule(conn, id, &rule, input.active, by, now)
}

/// The rules page's label (catalogue key) of a field a rule's problem names.
fn rule_label(field: &str) -> &'static str {
    match field {
        "name" => "hr.rule_name",
        "target" => "hr.target",
        "min_level" => "hr.min_level",
        "no_failed_bimonthly_months" => "hr.months_field",
        "cert_valid_on_date" => "hr.valid_on_date",
        _ => "hr.rule_name",
    }
}

/// Which rule an eligibility question is asked against.
#[derive(Clone, Debug)]
pub enum RuleRef {
    Id(RuleId),
    /// A rule in use whose target (the post or grade) or name is this.
    Target(String),
}

/// An eligibility question: a rule, the promotion date as typed (YYYY-MM-DD), the badges.
#[derive(Clone, Debug, Default)]
pub struct CheckRequest {
    pub rule: Option<RuleRef>,
    pub date: String,
    pub badges: Vec<String>,
}

/// A badge longer than this is not looked up (422): badges are at most 32 characters.
const MAX_ASKED_BADGE_CHARS: usize = 64;

/// The rule in use that `r` names, or why not (422 naming `field`).
pub fn resolve_rule(conn: &mut DbConn, r: &RuleRef, field: &str) -> AppResult<hr_db::StoredRule> {
    find_rule(conn, r, field)?.map_err(|p| AppError::invalid_lines(&[p.line()]))
}

/// A problem of an eligibility question. Its field may be numbered (`badges[3]`), so the English
/// line names it; the catalogue's `problem.<key>` says it on pages with the field's label.
fn ask_problem(key: &'static str, params: Vec<(&'static str, String)>, english: String) -> Problem {
    Problem::with("", key, params, english)
}

/// [`resolve_rule`], its refusal as a [`Problem`].
fn find_rule(conn: &mut DbConn, r: &RuleRef, field: &str) -> AppResult<Result<hr_db::StoredRule, Problem>> {
    let rules = hr_db::rules(conn)?;
    Ok(match r {
        RuleRef::Id(id) => match rules.into_iter().find(|x| x.id == *id) {
            Some(x) if x.active => Ok(x),
            Some(_) => {
                Err(ask_problem("rule_not_in_use", vec![("id", id.to_string())], format!("{field}: promotion rule {id} is not in use")))
            }
            None => Err(ask_problem("rule_unknown", vec![("id", id.to_string())], format!("{field}: no promotion rule {id}"))),
        },
        RuleRef::Target(t) => {
            let t = t.trim();
            let found: Vec<hr_db::StoredRule> = rules.into_iter().filter(|x| x.active && (x.target == t || x.name == t)).collect();
            match found.len() {
                1 => Ok(found.into_iter().next().expect("one")),
                0 => match t.parse::<RuleId>() {
                    Ok(id) => return find_rule(conn, &RuleRef::Id(id), field),
                    Err(_) => Err(ask_problem(
                        "rule_no_target",
                        vec![("t", format!("{t:?}"))],
                        format!("{field}: no promotion rule in use promotes to {t:?}"),
                    )),
                },
                n => {
                    let ids = found.iter().map(|x| x.id.to_string()).collect::<Vec<_>>().join(", ");
                    Err(ask_problem(
                        "rule_ambiguous",
                        vec![("n", n.to_string()), ("t", format!("{t:?}")), ("ids", ids.clone())],
                        format!("{field}: {n} rules in use promote to {t:?}; give the rule's id ({ids})"),
                    ))
                }
            }
        }
    })
}

/// Answers an eligibility question (the HR page, its upload, the API): every problem with the
/// question at once (422, each naming its field, in English), else the rule, the date and a
/// verdict per distinct badge, unknown badges included.
pub fn check_request(conn: &mut DbConn, req: &CheckRequest, now: Ts) -> AppResult<(hr_db::StoredRule, NaiveDate, Vec<Verdict>)> {
    ask(conn, req, now)?.map_err(|errs| AppError::invalid_lines(&errs.iter().map(Problem::line).collect::<Vec<_>>()))
}

/// [`check_request`] for HR's page: each problem a sentence in `lang`.
pub fn check_request_in(
    conn: &mut DbConn,
    req: &CheckRequest,
    lang: &str,
    now: Ts,
) -> AppResult<(hr_db::StoredRule, NaiveDate, Vec<Verdict>)> {
    ask(conn, req, now)?.map_err(|errs| AppError::invalid(said_in(lang, &errs)))
}

/// Problems without a form field (an eligibility question's, an uploaded list's), each a
/// sentence in `lang` from the catalogue.
pub fn said_in(lang: &str, problems: &[Problem]) -> Vec<FieldError> {
    problems.iter().map(|p| FieldError::new("", crate::render::say_problem(lang, p, ""))).collect()
}

fn ask(conn: &mut DbConn, req: &CheckRequest, now: Ts) -> AppResult<Result<(hr_db::StoredRule, NaiveDate, Vec<Verdict>), Vec<Problem>>> {
    use crate::domain::badge_list::MAX_BADGES;
    let mut errs = Vec::new();
    let typed = req.date.trim();
    let date = NaiveDate::parse_from_str(typed, "%Y-%m-%d")
        .map_err(|_| {
            errs.push(ask_problem(
                "date_not_date",
                vec![("v", format!("{typed:?}"))],
                format!("date: {typed:?} is not a date (YYYY-MM-DD, the promotion date)"),
            ))
        })
        .ok();
    if req.badges.is_empty() {
        errs.push(ask_problem("badges_none", vec![], "badges: list at least one 警号".into()));
    }
    if req.badges.len() > MAX_BADGES {
        let n = req.badges.len();
        errs.push(ask_problem(
            "badges_too_many",
            vec![("n", n.to_string()), ("max", MAX_BADGES.to_string())],
            format!("badges: {n} given; at most {MAX_BADGES} per check"),
        ));
    } else {
        for (i, b) in req.badges.iter().enumerate() {
            let nth = ("nth", (i + 1).to_string());
            if b.trim().is_empty() {
                errs.push(ask_problem("badge_empty", vec![nth], format!("badges[{i}]: empty")));
            } else if b.chars().count() > MAX_ASKED_BADGE_CHARS {
                errs.push(ask_problem(
                    "badge_too_long",
                    vec![nth, ("max", MAX_ASKED_BADGE_CHARS.to_string())],
                    format!("badges[{i}]: longer than {MAX_ASKED_BADGE_CHARS} characters"),
                ));
            }
        }
    }
    let rule = match &req.rule {
        None => {
            errs.push(ask_problem("rule_missing", vec![], "rule_id: choose a promotion rule".into()));
            None
        }
        Some(r) => match find_rule(conn, r, if matches!(r, RuleRef::Id(_)) { "rule_id" } else { "target" })? {
            Ok(rule) => Some(rule),
            Err(p) => {
                errs.push(p);
                None
            }
        },
    };
    let (Some(rule), Some(date), true) = (rule, date, errs.is_empty()) else {
        // errors beyond the first few hundred add nothing
        errs.truncate(200);
        return Ok(Err(errs));
    };
    let verdicts = check(conn, &rule.rule(), &req.badges, date, now)?;
    Ok(Ok((rule, date, verdicts)))
}

/// One reason in the reader's language, with a stable code for machines (`unknown_badge`,
/// `inactive`, `no_certificate`, `level_too_low`, `expires_before`, `lapses_before`,
/// `open_remedial`, `failed_bimonthly`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

/// A verdict's reasons in `lang`, from the pages' catalogue.
pub fn reasons_in(r: &crate::render::Renderer, lang: &str, v: &Verdict) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut push = |key: &str, params: &serde_json::Value| {
        out.push(Reason { code: key.trim_start_matches("refusal.").to_string(), message: r.text(lang, key, params) })
    };
    if v.unknown {
        push("refusal.unknown_badge", &json!({}));
    }
    if v.inactive {
        push("refusal.inactive", &json!({}));
    }
    for refusal in &v.refusals {
        let (key, mut params) = refusal_message(refusal);
        for k in ["needed", "best", "level"] {
            if let Some(code) = params.get(k).and_then(|c| c.as_str()).map(String::from) {
                params[k] = json!(r.text(lang, &format!("level.{code}"), &json!({})));
            }
        }
        push(key, &params);
    }
    out
}

/// The facts the promotion check needs about one officer.
pub fn facts_of(conn: &mut DbConn, user_id: UserId, date: NaiveDate, now: Ts) -> AppResult<Facts> {
    let today = bureau_date(now);
    let rules = crate::services::certification::rules(conn)?;
    let off = crate::services::certification::off_post_since(conn, user_id)?;
    let certs = cert_db::certificates_of(conn, user_id)?
        .into_iter()
        .map(|c| {
            let level = c.level;
            let held = crate::domain::certification::HeldCert { level, issued_on: c.issued_on, expires_on: c.expires_on, status: c.status };
            CertFact {
                number: c.number,
                level,
                status_today: crate::domain::certification::status_on(&held, today, off, &rules),
                status_on_date: crate::domain::certification::status_on(&held, date, off, &rules),
                expires_on: c.expires_on,
            }
        })
        .collect();
    let open_remedial = tr_db::plans_of(conn, user_id)?
        .into_iter()
        .filter(|p| p.status == crate::domain::remedial::Status::Open)
        .map(|p| bureau_date(p.opened_at))
        .collect();
    let failed_bimonthly = exam_db::attempts_of_user(conn, user_id)?
        .into_iter()
        .filter(|(a, s)| s.kind == SittingKind::Bimonthly && a.passed == Some(false))
        .filter_map(|(a, _)| a.submitted_at.map(bureau_date))
        .collect();
    Ok(Facts { certs, open_remedial, failed_bimonthly })
}

/// One candidate's verdict.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub badge: String,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub eligible: bool,
    /// No officer has this badge.
    pub unknown: bool,
    /// The account is disabled.
    pub inactive: bool,
    /// Every reason, as readable sentences (Chinese).
    pub reasons: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub refusals: Vec<Refusal>,
}

/// A refusal as a catalogue key and its parameters (pages show it in the reader's language).
pub fn refusal_message(r: &Refusal) -> (&'static str, serde_json::Value) {
    match r {
        Refusal::LevelMissing { needed, best: None } => ("refusal.no_certificate", json!({"needed": needed.as_str()})),
        Refusal::LevelMissing { needed, best: Some(b) } => {
            ("refusal.level_too_low", json!({"needed": needed.as_str(), "best": b.as_str()}))
        }
        Refusal::NotValidOnDate { number, level, status_on_date, expires_on } => {
            let key = if *status_on_date == CertStatus::Lapsed { "refusal.lapses_before" } else { "refusal.expires_before" };
            (key, json!({"number": number, "level": level.as_str(), "expires": expires_on.to_string()}))
        }
        Refusal::OpenRemedial { opened_on } => ("refusal.open_remedial", json!({"opened": opened_on.to_string()})),
        Refusal::FailedBimonthly { on, months } => ("refusal.failed_bimonthly", json!({"on": on.to_string(), "months": months})),
    }
}

/// The Chinese sentence for a refusal (CSV exports for the personnel office).
pub fn refusal_text(r: &Refusal) -> String {
    let (key, params) = refusal_message(r);
    let mut params = params;
    for k in ["needed", "best", "level"] {
        if let Some(code) = params.get(k).and_then(|v| v.as_str()).map(String::from) {
            params[k] = json!(crate::services::training::level_name(&code));
        }
    }
    let zh: &str = match key {
        "refusal.no_certificate" => "无有效执法资格证书，需{needed}及以上",
        "refusal.level_too_low" => "现有有效资格为{best}，需{needed}及以上",
        "refusal.lapses_before" => "{level}证书 {number} 在晋升日前失效（离岗失效）",
        "refusal.expires_before" => "{level}证书 {number} 在晋升日前失效（{expires} 到期）",
        "refusal.open_remedial" => "有未结束的后进民警培训（{opened} 开始）",
        _ => "近 {months} 个月内双月考不合格（{on}）",
    };
    crate::render::fill(zh, &params)
}

/// Checks a list of badges against a rule on a date. Unknown badges are reported, not dropped.
pub fn check(conn: &mut DbConn, rule: &PromotionRule, badges: &[String], date: NaiveDate, now: Ts) -> AppResult<Vec<Verdict>> {
    let people: HashMap<String, (org::User, String)> =
        org::list_with_units(conn)?.into_iter().map(|(u, unit)| (u.badge.clone(), (u, unit))).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for b in badges.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        if !seen.insert(b.to_string()) {
            continue;
        }
        match people.get(b) {
            None => out.push(Verdict {
                badge: b.into(),
                name: None,
                unit: None,
                eligible: false,
                unknown: true,
                inactive: false,
                reasons: vec!["警号不存在".into()],
                refusals: vec![],
            }),
            Some((u, unit)) => {
                let refusals = promotion::check(rule, &facts_of(conn, u.id, date, now)?, date);
                let mut reasons: Vec<String> = refusals.iter().map(refusal_text).collect();
                if !u.active {
                    reasons.insert(0, "账号已停用".into());
                }
                out.push(Verdict {
                    badge: b.into(),
                    name: Some(u.name.clone()),
                    unit: Some(unit.clone()),
                    eligible: reasons.is_empty(),
                    unknown: false,
                    inactive: !u.active,
                    reasons,
                    refusals,
                });
            }
        }
    }
    Ok(out)
}

const TARGETS_KEY: &str = "compliance_targets";

pub fn targets(conn: &mut DbConn) -> AppResult<Targets> {
    crate::services::settings::read(conn, TARGETS_KEY)
}

pub fn save_targets(conn: &mut DbConn, t: &Targets, by: UserId, now: Ts) -> AppResult<()> {
    crate::services::settings::save(conn, TARGETS_KEY, t, t.validate(), by, now)
}

/// A unit's (or the bureau's) standing against the targets.
#[derive(Clone, Debug, Serialize)]
pub struct UnitRow {
    pub unit_id: Option<UnitId>,
    pub unit: String,
    pub figures: Figures,
    pub bimonthly_sat: usize,
    pub bimonthly_absent: usize,
    pub bimonthly_passed: usize,
    pub participation_percent: i32,
    pub pass_percent: i32,
    pub remedial_open: usize,
    pub remedial_overdue: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Dashboard {
    pub bureau: UnitRow,
    pub units: Vec<UnitRow>,
    pub key_types: Vec<(String, usize)>,
    pub targets: Targets,
    pub rewards: Vec<(String, String, String, NaiveDate)>,
}

/// Compliance figures for every unit with officers and for the whole bureau, over enforcement
/// posts; bimonthly participation over the last 12 months.
pub fn dashboard(conn: &mut DbConn, now: Ts) -> AppResult<Dashboard> {
    let today = bureau_date(now);
    let t = targets(conn)?;
    let rules = crate::services::certification::rules(conn)?;
    let people: Vec<(org::User, String)> =
        org::list_with_units(conn)?.into_iter().filter(|(u, _)| u.active && u.enforcement_post).collect();
    let mut officers = Vec::new();
    for (u, _) in &people {
        if !org::roles_of(conn, u.id)?.contains(&Role::Officer) {
            continue;
        }
        let off = crate::services::certification::off_post_since(conn, u.id)?;
        let best = cert_db::certificates_of(conn, u.id)?
            .into_iter()
            .filter_map(|c| {
                let level = c.level;
                let held =
                    crate::domain::certification::HeldCert { level, issued_on: c.issued_on, expires_on: c.expires_on, status: c.status };
                (crate::domain::certification::status_on(&held, today, off, &rules) == CertStatus::Valid).then_some(level)
            })
            .max();
        officers.push((
            u.clone(),
            OfficerFacts {
                police_type: u.police_type.clone(),
                hire_date: u.hire_date,
                is_leader: u.is_leader,
                is_legal_officer: u.is_legal_officer,
                best_level: best,
            },
        ));
    }
    // bimonthly attendance in the last year, per user
    let since = now - Duration::days(365);
    let mut sat: HashMap<UserId, (usize, usize)> = HashMap::new();
    let mut absent: HashMap<UserId, usize> = HashMap::new();
    for s in
        exam_db::list_sittings(conn)?.into_iter().filter(|s| s.kind == SittingKind::Bimonthly && s.closes_at >= since && s.closes_at <= now)
    {
        for (a, ..) in exam_db::attempts_of_sitting(conn, s.id)? {
            let e = sat.entry(a.user_id).or_default();
            e.0 += 1;
            e.1 += usize::from(a.passed == Some(true));
        }
        for u in crate::db::models::room::absentees(conn, s.id)? {
            *absent.entry(u).or_default() += 1;
        }
    }
    let plans = tr_db::all_plans(conn, true)?;
    let units = org::all_units(conn)?;
    let parent = |u: UnitId| units.iter().find(|x| x.id == u).and_then(|x| x.parent_id);
    let row = |unit_id: Option<UnitId>, name: String, members: &[&(org::User, OfficerFacts)]| {
        let facts: Vec<OfficerFacts> = members.iter().map(|m| m.1.clone()).collect();
        let ids: HashSet<UserId> = members.iter().map(|m| m.0.id).collect();
        let (s, p) = ids.iter().filter_map(|i| sat.get(i)).fold((0, 0), |acc, x| (acc.0 + x.0, acc.1 + x.1));
        let a: usize = ids.iter().filter_map(|i| absent.get(i)).sum();
        let open: Vec<&tr_db::RemedialPlan> = plans.iter().filter(|p| ids.contains(&p.user_id)).collect();
        UnitRow {
            unit_id,
            unit: name,
            figures: compliance::figures(&t, &facts, today),
            bimonthly_sat: s,
            bimonthly_absent: a,
            bimonthly_passed: p,
            participation_percent: (s * 100).checked_div(s + a).map_or(100, |p| p as i32),
            pass_percent: (p * 100).checked_div(s).map_or(100, |x| x as i32),
            remedial_open: open.len(),
            remedial_overdue: open.iter().filter(|p| now >= p.deadline).count(),
        }
    };
    let all: Vec<&(org::User, OfficerFacts)> = officers.iter().collect();
    let bureau_name = units.iter().find(|u| u.parent_id.is_none()).map(|u| u.name.clone()).unwrap_or_default();
    let bureau = row(None, bureau_name, &all);
    let mut rows = Vec::new();
    for u in &units {
        // a unit counts its own officers and those of the units under it
        let members: Vec<&(org::User, OfficerFacts)> =
            officers.iter().filter(|(o, _)| unit_path(o.unit_id, parent).contains(&u.id)).collect();
        if !members.is_empty() && u.parent_id.is_some() {
            rows.push(row(Some(u.id), u.name.clone(), &members));
        }
    }
    let facts: Vec<OfficerFacts> = officers.iter().map(|o| o.1.clone()).collect();
    let rewards = rewards_pending(conn)?;
    Ok(Dashboard { bureau, units: rows, key_types: compliance::key_type_coverage(&t, &facts), targets: t, rewards })
}

/// 高级 passes flagged for the bureau's reward process and not yet followed by a reward entry:
/// (badge, name, certificate number, issued on).
pub fn rewards_pending(conn: &mut DbConn) -> AppResult<Vec<(String, String, String, NaiveDate)>> {
    let people: HashMap<UserId, org::User> = org::list_with_units(conn)?.into_iter().map(|(u, _)| (u.id, u)).collect();
    let mut out = Vec::new();
    for (id, u) in &people {
        let entries = tr_db::entries_of(conn, *id)?;
        let last_reward = entries.iter().filter(|e| e.kind == EntryKind::Reward).map(|e| e.id).max().unwrap_or_default();
        for e in entries.iter().filter(|e| e.kind == EntryKind::RewardFlag && e.id > last_reward) {
            let d: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
            out.push((u.badge.clone(), u.name.clone(), d["number"].as_str().unwrap_or("").to_string(), e.occurred_on));
        }
    }
    out.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
    Ok(out)
}

// ---- API tokens ----

pub fn token_hash(token: &str) -> String {
    crate::services::credentials::token_hash(token)
}

/// Creates a token for a system; the plain token is returned once and only its hash is kept.
pub fn create_token(conn: &mut DbConn, name: &str, role: Role, days: i64, by: UserId, now: Ts) -> AppResult<(TokenId, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("name", "account.token_name", "required, at most 100 characters"),
        ));
    }
    if role != Role::Hr {
        return Err(AppError::problem(
            ErrorCode::Invalid,
            Problem::plain("role", "account.token_role", "only HR tokens (for the personnel system) can be issued"),
        ));
    }
    if !(1..=730).contains(&days) {
        return Err(AppError::problem(ErrorCode::Invalid, Problem::plain("days", "account.token_days", "must be 1–730")));
    }
    let token = format!("lct_{}", crate::services::credentials::random_token());
    let hash = token_hash(&token);
    let id = write_tx(conn, |c| {
        let id = hr_db::insert_token(c, name, &hash, role.as_str(), by, now, now + Duration::days(days))?;
        audit::append(
            c,
            Some(by),
            "api_token.create",
            &format!("api_token:{id}"),
            &json!({"name": name, "role": role.as_str(), "days": days}),
            now,
        )?;
        Ok::<TokenId, AppError>(id)
    })?;
    Ok((id, token))
}

pub fn revoke_token(conn: &mut DbConn, id: TokenId, by: UserId, now: Ts) -> AppResult<()> {
    write_tx(conn, |c| {
        if !hr_db::revoke_token(c, id, now)? {
            return Err(AppError::problem(ErrorCode::NotFound, Problem::plain("", "account.no_active_token", "no such active token")));
        }
        audit::append(c, Some(by), "api_token.revoke", &format!("api_token:{id}"), &json!({}), now)?;
        Ok(())
    })
}

/// The role a presented token grants, if it is known, unrevoked and unexpired.
pub fn token_role(conn: &mut DbConn, token: &str, now: Ts) -> AppResult<Option<Role>> {
    let Some(t) = hr_db::token_by_hash(conn, &token_hash(token))? else { return Ok(None) };
    if t.revoked_at.is_some() || now >= t.expires_at {
        return Ok(None);
    }
    // last use is informational; at most one write a minute per token
    if t.last_used_at.is_none_or(|u| now - u > Duration::minutes(1)) {
        hr_db::touch_token(conn, t.id, now)?;
    }
    Ok(Role::parse(&t.role))
}

/// Share of items answered right per statute, over every graded attempt of the given officers
/// (exam results, which HR and leaders may read whole): weakest first.
pub fn strengths_of(conn: &mut DbConn, users: &[UserId]) -> AppResult<Vec<crate::domain::study::Strength>> {
    let mut raw: Vec<(VersionId, bool)> = Vec::new();
    for u in users {
        for (a, _) in exam_db::attempts_of_user(conn, *u)? {
            if a.score_centi.is_some() {
                raw.extend(crate::services::remedial::item_results(&a)?.into_iter().map(|(v, got, max)| (v, got >= max)));
            }
        }
    }
    let ids: Vec<VersionId> = raw.iter().map(|r| r.0).collect::<HashSet<_>>().into_iter().collect();
    let versions: HashMap<VersionId, (QuestionId, String)> =
        crate::db::models::bank::versions_by_ids(conn, &ids)?.into_iter().map(|(v, _)| (v.id, (v.question_id, v.statute_code))).collect();
    let at = chrono::NaiveDateTime::default();
    let outcomes: Vec<crate::domain::study::Outcome> = raw
        .into_iter()
        .filter_map(|(v, correct)| {
            let (question_id, statute) = versions.get(&v)?.clone();
            Some(crate::domain::study::Outcome { question_id, version_id: v, statute, correct, at })
        })
        .collect();
    Ok(crate::domain::study::strengths(&outcomes))
}
