//! Pass marks by the modified Angoff method (`domain::measurement::angoff`): a trainer opens a
//! study for a certification level's blueprint, a panel of trainers rates each item of its form
//! in two rounds, the panel's cut is computed with its standard error and placed on the
//! calibrated scale, and an admin adopts it for the level (audited). Certification sittings
//! created afterwards decide pass or fail with that cut (`services::scale`).
//!
//! * The form: for each rule of the blueprint, the `count` calibrated questions (case rules:
//!   whole case groups) the rule could draw that have the most responses behind their
//!   difficulty, fixed with those difficulties when the study opens.
//! * Round 1: each rater rates alone; the panel's spread (mean, SD, range per item, never one
//!   rater's numbers) is shown to a rater only once they have rated every item of round 1.
//! * Round 2 opens when at least [`MIN_PANEL`] raters have rated all of round 1; raters see the
//!   round-1 spread and rate again. The study closes on the round-2 ratings of every rater who
//!   rated all of it (at least [`MIN_PANEL`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::{audit as audit_db, bank as bank_db, calibration as cal_db, exam as exam_db, org, standards as st_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::Level;
use crate::domain::ids::{BlueprintId, CaseId, QuestionId, SittingId, StudyId, UserId, VersionId};
use crate::domain::measurement::angoff::{self, ItemSpread, Rating, RoundResult, StudyStatus};
use crate::domain::measurement::rasch::PaperItem;
use crate::domain::paper::{BlueprintSpec, RuleKind};
use crate::domain::validation::FieldError;
use crate::error::{AppError, AppResult, ErrorCode};

/// Raters a round needs before the study moves on.
pub const MIN_PANEL: usize = 2;

/// One item of a study's form, fixed when the study opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormItem {
    pub v: VersionId,
    pub question_id: QuestionId,
    pub code: String,
    pub points: f64,
    pub difficulty: f64,
    pub n: i32,
}

fn form_of(s: &st_db::Study) -> AppResult<Vec<FormItem>> {
    serde_json::from_str(&s.form).map_err(|e| AppError::internal(format!("study {}: stored form: {e}", s.id)))
}

fn find(conn: &mut DbConn, id: StudyId) -> AppResult<st_db::Study> {
    st_db::find_study(conn, id)?.ok_or_else(|| AppError::not_found(format!("no standard-setting study {id}")))
}

/// Opens a study for `level` on `blueprint_id`'s form. Field errors name `level` or
/// `blueprint_id` (a blueprint whose rules have too few calibrated questions says which).
pub fn open_study(conn: &mut DbConn, level: &str, blueprint_id: Option<BlueprintId>, by: UserId, now: Ts) -> AppResult<StudyId> {
    let mut errs = Vec::new();
    let lvl = Level::parse(level);
    if lvl.is_none() {
        errs.push(FieldError::new("level", "choose 基本级, 中级 or 高级 (basic, intermediate, advanced)"));
    }
    let bp = match blueprint_id {
        None => {
            errs.push(FieldError::new("blueprint_id", "choose the blueprint whose form the panel rates"));
            None
        }
        Some(id) => match exam_db::find_blueprint(conn, id)? {
            None => {
                errs.push(FieldError::new("blueprint_id", format!("no blueprint {id}")));
                None
            }
            Some(b) => Some(b),
        },
    };
    if !errs.is_empty() {
        return Err(AppError::invalid(errs));
    }
    let bp = bp.expect("checked");
    let spec: BlueprintSpec = serde_json::from_str(&bp.spec).map_err(|e| AppError::internal(format!("stored blueprint: {e}")))?;
    let candidates = crate::services::exams::pool_candidates(conn, now)?;
    let ids: Vec<VersionId> = candidates.iter().map(|c| c.version_id).collect();
    let cal = cal_db::rows_of(conn, &ids)?;
    let mut used = std::collections::HashSet::new();
    let mut chosen: Vec<(VersionId, f64)> = Vec::new();
    let mut problems = Vec::new();
    for (n, rule) in spec.rules.iter().enumerate() {
        let matches = |c: &crate::domain::paper::PoolCandidate| {
            rule.statute.as_ref().is_none_or(|s| *s == c.statute)
                && rule.difficulty.is_none_or(|d| d == c.difficulty)
                && rule.level.is_none_or(|l| c.levels.contains(&l))
                && !used.contains(&c.version_id)
        };
        let points = rule.points_centi as f64 / 100.0;
        if rule.kind == RuleKind::Case {
            let mut groups: BTreeMap<CaseId, Vec<(i32, VersionId)>> = BTreeMap::new();
            for c in candidates.iter().filter(|c| matches(c)) {
                if let Some((case, pos)) = c.case {
                    groups.entry(case).or_default().push((pos, c.version_id));
                }
            }
            let mut whole: Vec<(i32, Vec<VersionId>)> = groups
                .into_values()
                .filter(|g| g.iter().all(|(_, v)| cal.contains_key(v)))
                .map(|mut g| {
                    g.sort();
                    (g.iter().map(|(_, v)| cal[v].n).sum::<i32>(), g.into_iter().map(|(_, v)| v).collect())
                })
                .collect();
            whole.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            if whole.len() < rule.count as usize {
                problems.push(format!("rule {}: {} calibrated case groups, the rule needs {}", n + 1, whole.len(), rule.count));
            }
            for (_, g) in whole.into_iter().take(rule.count as usize) {
                for v in g {
                    used.insert(v);
                    chosen.push((v, points));
                }
            }
        } else {
            let kind = rule.kind.question_kind();
            let mut list: Vec<(i32, VersionId)> = candidates
                .iter()
                .filter(|c| c.case.is_none() && Some(c.kind) == kind && matches(c))
                .filter_map(|c| cal.get(&c.version_id).map(|r| (r.n, c.version_id)))
                .collect();
            list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            if list.len() < rule.count as usize {
                problems.push(format!("rule {}: {} calibrated questions, the rule needs {}", n + 1, list.len(), rule.count));
            }
            for (_, v) in list.into_iter().take(rule.count as usize) {
                used.insert(v);
                chosen.push((v, points));
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::invalid(vec![FieldError::new(
            "blueprint_id",
            format!("the form needs calibrated questions: {}; calibration follows graded sittings", problems.join("; ")),
        )]));
    }
    let vids: Vec<VersionId> = chosen.iter().map(|(v, _)| *v).collect();
    let codes: HashMap<VersionId, (QuestionId, String)> =
        bank_db::versions_by_ids(conn, &vids)?.into_iter().map(|(v, q)| (v.id, (q.id, q.code))).collect();
    let form: Vec<FormItem> = chosen
        .iter()
        .map(|&(v, points)| {
            let (question_id, code) = codes.get(&v).cloned().unwrap_or_default();
            FormItem { v, question_id, code, points, difficulty: cal[&v].difficulty, n: cal[&v].n }
        })
        .collect();
    let level = lvl.expect("checked").as_str();
    let form_json = serde_json::to_string(&form).expect("json");
    write_tx(conn, |c| {
        let id = st_db::insert_study(
            c,
            &st_db::NewStudy {
                level,
                blueprint_id: bp.id,
                form: &form_json,
                round: 1,
                status: StudyStatus::Open.as_str(),
                opened_by: by,
                opened_at: now,
            },
        )?;
        audit_db::append(
            c,
            Some(by),
            "standard.open",
            &format!("standard_study:{id}"),
            &json!({"level": level, "blueprint_id": bp.id, "items": form.len()}),
            now,
        )?;
        Ok(id)
    })
}

/// Stores `rater`'s ratings of the study's current round: `percents` maps each item's index to
/// the text typed (a per cent, 0–100). All or nothing; field errors are named `p[INDEX]`.
pub fn rate(conn: &mut DbConn, study_id: StudyId, rater: UserId, percents: &HashMap<String, String>, now: Ts) -> AppResult<()> {
    let s = find(conn, study_id)?;
    if s.status != StudyStatus::Open {
        return Err(AppError::new(ErrorCode::Closed, "this study is closed: its ratings can no longer change"));
    }
    let form = form_of(&s)?;
    let mut errs = Vec::new();
    let mut rows = Vec::with_capacity(form.len());
    for (i, item) in form.iter().enumerate() {
        let name = format!("p[{i}]");
        let text = percents.get(&i.to_string()).map(|t| t.trim()).unwrap_or("");
        match text.parse::<f64>() {
            Ok(x) if (0.0..=100.0).contains(&x) => {
                rows.push(st_db::RatingRow { study_id, round: s.round, rater_id: rater, item: i as i32, p: x / 100.0, rated_at: now })
            }
            Ok(_) => errs.push(FieldError::new(name, format!("{}: a per cent from 0 to 100, not {text}", item.code))),
            Err(_) if text.is_empty() => errs.push(FieldError::new(name, format!("{}: rate every item (0–100 %)", item.code))),
            Err(_) => errs.push(FieldError::new(name, format!("{}: {text:?} is not a number from 0 to 100", item.code))),
        }
    }
    if !errs.is_empty() {
        return Err(AppError::invalid(errs));
    }
    write_tx(conn, |c| {
        // the round may have moved on since the page was read
        let now_round = find(c, study_id)?;
        if now_round.status != StudyStatus::Open || now_round.round != s.round {
            return Err(AppError::new(ErrorCode::Stale, "the study moved to another round while you rated: reload the page"));
        }
        // A complete round-1 sheet unlocks the panel's spread for its rater; changing it after
        // that would make round 1 a second round 2 and the discussion's effect unmeasurable.
        if s.round == 1 && st_db::ratings(c, study_id)?.iter().filter(|r| r.round == 1 && r.rater_id == rater).count() == form.len() {
            return Err(AppError::new(
                ErrorCode::AlreadyRated,
                "your round-1 ratings are in and you have seen the panel's spread: they stay as given; you rate again in round 2",
            ));
        }
        st_db::replace_ratings(c, study_id, s.round, rater, &rows)?;
        Ok(())
    })
}

fn ratings_of_round(rows: &[st_db::RatingRow], round: i32, items: usize) -> (Vec<Rating>, BTreeMap<UserId, usize>) {
    let mut per: BTreeMap<UserId, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.round == round) {
        *per.entry(r.rater_id).or_default() += 1;
    }
    let complete: std::collections::HashSet<UserId> = per.iter().filter(|(_, n)| **n == items).map(|(r, _)| *r).collect();
    let ratings = rows
        .iter()
        .filter(|r| r.round == round && complete.contains(&r.rater_id))
        .map(|r| Rating { round: r.round as u32, rater: r.rater_id.to_string(), item: r.item as usize, p: r.p })
        .collect();
    (ratings, per)
}

fn evaluate_round(form: &[FormItem], rows: &[st_db::RatingRow], round: i32) -> AppResult<Option<RoundResult>> {
    let (ratings, _) = ratings_of_round(rows, round, form.len());
    if ratings.is_empty() {
        return Ok(None);
    }
    let paper: Vec<PaperItem> = form.iter().map(|i| PaperItem { difficulty: i.difficulty, points: i.points }).collect();
    let mut out = angoff::evaluate(&paper, &ratings).map_err(|e| AppError::internal(format!("angoff: {e}")))?;
    Ok(out.pop())
}

/// Moves an open study from round 1 to round 2 (at least [`MIN_PANEL`] raters rated all of
/// round 1).
pub fn start_round_two(conn: &mut DbConn, study_id: StudyId, by: UserId, now: Ts) -> AppResult<()> {
    write_tx(conn, |c| {
        let s = find(c, study_id)?;
        if s.status != StudyStatus::Open || s.round != 1 {
            return Err(AppError::new(ErrorCode::NotAllowed, "round 2 can start only from round 1 of an open study")
                .localized("standard_refusal.round_two", json!({})));
        }
        let form = form_of(&s)?;
        let rows = st_db::ratings(c, study_id)?;
        let (_, per) = ratings_of_round(&rows, 1, form.len());
        let complete = per.values().filter(|n| **n == form.len()).count();
        if complete < MIN_PANEL {
            return Err(AppError::new(
                ErrorCode::Incomplete,
                format!("round 1 has {complete} complete rating sheets; the panel needs at least {MIN_PANEL} before it discusses"),
            )
            .localized("standard_refusal.round_one_short", json!({"n": complete, "min": MIN_PANEL})));
        }
        st_db::set_round(c, study_id, 2)?;
        audit_db::append(c, Some(by), "standard.round2", &format!("standard_study:{study_id}"), &json!({"round1_raters": complete}), now)?;
        Ok(())
    })
}

/// Closes a study on its round-2 ratings: the panel's cut in points with its SE and on the
/// scale.
pub fn close(conn: &mut DbConn, study_id: StudyId, by: UserId, now: Ts) -> AppResult<RoundResult> {
    write_tx(conn, |c| {
        let s = find(c, study_id)?;
        if s.status != StudyStatus::Open || s.round != 2 {
            return Err(AppError::new(ErrorCode::NotAllowed, "a study closes after its second round")
                .localized("standard_refusal.close_round", json!({})));
        }
        let form = form_of(&s)?;
        let rows = st_db::ratings(c, study_id)?;
        let result = evaluate_round(&form, &rows, 2)?;
        let result = match result {
            Some(r) if r.raters.len() >= MIN_PANEL => r,
            other => {
                let n = other.map_or(0, |r| r.raters.len());
                return Err(AppError::new(
                    ErrorCode::Incomplete,
                    format!("round 2 has {n} complete rating sheets; at least {MIN_PANEL} are needed to close"),
                )
                .localized("standard_refusal.round_two_short", json!({"n": n, "min": MIN_PANEL})));
            }
        };
        st_db::close_study(c, study_id, result.cut, result.se, result.theta, result.theta_low, result.theta_high, now)?;
        audit_db::append(
            c,
            Some(by),
            "standard.close",
            &format!("standard_study:{study_id}"),
            &json!({"cut": result.cut, "se": result.se, "theta": result.theta, "raters": result.raters.len(), "max": result.max_score}),
            now,
        )?;
        Ok(result)
    })
}

/// An admin adopts a closed study's cut for its level (audited). Certification sittings of the
/// level created from now on decide pass or fail with it.
pub fn adopt(conn: &mut DbConn, study_id: StudyId, by: UserId, now: Ts) -> AppResult<()> {
    write_tx(conn, |c| {
        let s = find(c, study_id)?;
        if s.theta.is_none() && s.status == StudyStatus::Closed {
            return Err(AppError::new(
                ErrorCode::Refused,
                "this study's cut could not be placed on the calibrated scale (0 or full marks)",
            )
            .localized("standard_refusal.off_scale", json!({})));
        }
        let previous = st_db::adopted_for_level(c, s.level)?;
        if !st_db::adopt_study(c, study_id, by, now)? {
            return Err(AppError::new(ErrorCode::NotAllowed, "only a closed study, not yet adopted, can be adopted")
                .localized("standard_refusal.adopt", json!({})));
        }
        audit_db::append(
            c,
            Some(by),
            "standard.adopt",
            &format!("standard_study:{study_id}"),
            &json!({"level": s.level, "theta": s.theta, "cut": s.cut, "se": s.cut_se,
                    "replaces": previous.map(|p| json!({"study": p.id, "theta": p.theta}))}),
            now,
        )?;
        Ok(())
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct StudySummary {
    pub id: StudyId,
    pub level: Level,
    pub blueprint: String,
    pub round: i32,
    pub status: StudyStatus,
    pub items: usize,
    pub opened_by: String,
    #[serde(with = "crate::timefmt")]
    pub opened_at: Ts,
    pub cut: Option<f64>,
    pub cut_se: Option<f64>,
    pub theta: Option<f64>,
    pub adopted: bool,
}

/// Every study, newest first, and the cut adopted per level (level → study).
pub fn list(conn: &mut DbConn) -> AppResult<(Vec<StudySummary>, Vec<(String, Option<st_db::Study>)>)> {
    let bps: HashMap<BlueprintId, String> = exam_db::list_blueprints(conn)?.into_iter().map(|b| (b.id, b.name)).collect();
    let mut names: HashMap<UserId, String> = HashMap::new();
    let mut out = Vec::new();
    for s in st_db::studies(conn)? {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(s.opened_by) {
            e.insert(org::find(conn, s.opened_by)?.map(|u| u.name).unwrap_or_default());
        }
        out.push(StudySummary {
            id: s.id,
            level: s.level,
            blueprint: bps.get(&s.blueprint_id).cloned().unwrap_or_default(),
            round: s.round,
            items: form_of(&s)?.len(),
            opened_by: names[&s.opened_by].clone(),
            opened_at: s.opened_at,
            cut: s.cut,
            cut_se: s.cut_se,
            theta: s.theta,
            adopted: s.status == StudyStatus::Adopted,
            status: s.status,
        });
    }
    let mut levels = Vec::new();
    for l in Level::ALL {
        levels.push((l.as_str().to_string(), st_db::adopted_for_level(conn, l)?));
    }
    Ok((out, levels))
}

/// What one rater sees of a study.
#[derive(Clone, Debug, Serialize)]
pub struct StudyView {
    pub id: StudyId,
    pub level: Level,
    pub round: i32,
    pub status: StudyStatus,
    pub form: Vec<FormItem>,
    /// The viewer's ratings of the current round (or, in round 2 before rating, of round 1), by
    /// item, as per cents.
    pub mine: Vec<Option<f64>>,
    /// Whether the viewer has rated every item of the current round.
    pub rated_current: bool,
    /// Complete rating sheets per round: [round 1, round 2].
    pub complete: [usize; 2],
    /// The panel's spread per item of round 1 (and of round 2 once closed), by item index;
    /// None while the viewer may not see it yet.
    pub spread_round1: Option<Vec<ItemSpread>>,
    pub result_round1: Option<RoundResult>,
    pub result_round2: Option<RoundResult>,
    pub cut: Option<f64>,
    pub cut_se: Option<f64>,
    pub theta: Option<f64>,
    pub theta_low: Option<f64>,
    pub theta_high: Option<f64>,
}

/// A study as `viewer` (a trainer or an admin) may see it: the panel's round-1 spread only once
/// the viewer has rated all of round 1 (or round 1 is over), never another rater's numbers.
pub fn view(conn: &mut DbConn, study_id: StudyId, viewer: UserId, viewer_rates: bool) -> AppResult<StudyView> {
    let s = find(conn, study_id)?;
    let form = form_of(&s)?;
    let rows = st_db::ratings(conn, study_id)?;
    let mine_of = |round: i32| {
        let mut v = vec![None; form.len()];
        for r in rows.iter().filter(|r| r.round == round && r.rater_id == viewer) {
            if let Some(slot) = v.get_mut(r.item as usize) {
                *slot = Some((r.p * 1000.0).round() / 10.0);
            }
        }
        v
    };
    let current = mine_of(s.round);
    let rated_current = current.iter().all(Option::is_some);
    let rated_round1 = mine_of(1).iter().all(Option::is_some);
    let mine = if s.round == 2 && !rated_current { mine_of(1) } else { current };
    let (_, per1) = ratings_of_round(&rows, 1, form.len());
    let (_, per2) = ratings_of_round(&rows, 2, form.len());
    let complete = [per1.values().filter(|n| **n == form.len()).count(), per2.values().filter(|n| **n == form.len()).count()];
    // a rater sees the panel once they have rated round 1 themselves; everyone once round 1 is over
    let may_see = s.round >= 2 || s.status != StudyStatus::Open || (viewer_rates && rated_round1);
    let result_round1 = if may_see { evaluate_round(&form, &rows, 1)? } else { None };
    let result_round2 = if s.status != StudyStatus::Open { evaluate_round(&form, &rows, 2)? } else { None };
    let spread_round1 = result_round1.as_ref().map(|r| {
        let mut items = r.items.clone();
        items.sort_by_key(|i| i.item);
        items
    });
    Ok(StudyView {
        id: s.id,
        level: s.level,
        round: s.round,
        status: s.status,
        form,
        mine,
        rated_current,
        complete,
        spread_round1,
        result_round1,
        result_round2,
        cut: s.cut,
        cut_se: s.cut_se,
        theta: s.theta,
        theta_low: s.theta_low,
        theta_high: s.theta_high,
    })
}

/// The cut fixed on a sitting, if any: (study id, θ).
pub fn cut_of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<Option<(StudyId, f64)>> {
    Ok(st_db::sitting_rule(conn, sitting_id)?)
}
