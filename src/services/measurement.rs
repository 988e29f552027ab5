//! What the trainers' measurement pages show, from the stored calibration
//! (`services::calibration`) and the graded responses: the item map (abilities and
//! difficulties on one scale), one item's curve against observed proportions by ability group,
//! Mantel–Haenszel DIF across 警种 or units, and the flags a question carries (calibration flags,
//! plus too easy / too hard against its levels' adopted cuts).
//!
//! Abilities are those of each graded attempt on the current calibration
//! (`domain::measurement::scale::ability` over the calibrated items of its paper), so the map,
//! the curves and the DIF strata all use one scale.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::db::models::{bank as bank_db, calibration as cal_db, org, standards as st_db};
use crate::db::DbConn;
use crate::domain::bank::Level;
use crate::domain::ids::{AttemptId, QuestionId, UnitId, VersionId};
use crate::domain::measurement::dif::{self, DifResponse, Group, MantelHaenszel};
use crate::domain::measurement::flags::{self, Flag, FlagRules};
use crate::domain::measurement::rasch::probability;
use crate::domain::measurement::scale::{self, ScoredItem};
use crate::domain::paper::Paper;
use crate::error::{AppError, AppResult};

/// Width of the ability strata that match candidates for DIF (logits).
pub const DIF_STRATUM: f64 = 0.5;
/// Smallest reference and focal group (responses) for which DIF gets an ETS category.
pub const DIF_MIN_GROUP: usize = 10;

/// Graded responses on the current calibration: each attempt's ability and its per-item credit.
pub struct Responses {
    /// attempt → ability (logits); attempts with no calibrated item are left out.
    pub ability: HashMap<AttemptId, f64>,
    /// version → (attempt, credit 0..=1)
    pub by_item: HashMap<VersionId, Vec<(AttemptId, f64)>>,
    pub calibration: HashMap<VersionId, cal_db::CalibrationRow>,
}

pub fn responses(conn: &mut DbConn) -> AppResult<Responses> {
    let calibration: HashMap<VersionId, cal_db::CalibrationRow> =
        cal_db::all(conn)?.into_iter().map(|r| (r.question_version_id, r)).collect();
    let mut ability = HashMap::new();
    let mut by_item: HashMap<VersionId, Vec<(AttemptId, f64)>> = HashMap::new();
    for (attempt, paper, scores) in cal_db::graded_attempts(conn)? {
        let paper: Paper = serde_json::from_str(&paper).map_err(|e| AppError::internal(format!("attempt {attempt}: stored paper: {e}")))?;
        let scores: Vec<i64> = scores.split(',').map(|x| x.trim().parse().unwrap_or(0)).collect();
        let items: Vec<ScoredItem> = paper
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| ScoredItem {
                difficulty: calibration.get(&i.v).map(|r| r.difficulty),
                points: i.p as f64 / 100.0,
                earned: scores.get(n).copied().unwrap_or(0) as f64 / 100.0,
            })
            .collect();
        if let Some(a) = scale::ability(&items) {
            ability.insert(attempt, a.theta);
            for (n, i) in paper.items.iter().enumerate() {
                if i.p > 0 {
                    let credit = (scores.get(n).copied().unwrap_or(0) as f64 / i.p as f64).clamp(0.0, 1.0);
                    by_item.entry(i.v).or_default().push((attempt, credit));
                }
            }
        }
    }
    Ok(Responses { ability, by_item, calibration })
}

#[derive(Clone, Debug, Serialize)]
pub struct MapItem {
    pub version_id: VersionId,
    pub question_id: QuestionId,
    pub code: String,
    pub difficulty: f64,
    pub se: f64,
    pub n: i32,
    pub infit: Option<f64>,
    pub outfit: Option<f64>,
    pub flags: Vec<Flag>,
}

impl MapItem {
    /// One calibrated version as the map and the curve page show it, with the flags for its
    /// levels' adopted cuts and whether it drifted from the question's previous version.
    fn of(row: &cal_db::CalibrationRow, code: String, levels: &[Level], cuts: &HashMap<Level, f64>, drifted: bool) -> AppResult<MapItem> {
        Ok(MapItem {
            version_id: row.question_version_id,
            question_id: row.question_id,
            code,
            difficulty: row.difficulty,
            se: row.se,
            n: row.n,
            infit: row.infit,
            outfit: row.outfit,
            flags: add_drift(flags_of(row, levels, cuts)?, drifted),
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemMap {
    pub items: Vec<MapItem>,
    /// Abilities of the graded attempts (logits).
    pub abilities: Vec<f64>,
    /// Cuts adopted per level: (level, θ).
    pub cuts: Vec<(String, f64)>,
}

/// The adopted cut (θ) of each level that has one.
pub fn level_cuts(conn: &mut DbConn) -> AppResult<HashMap<Level, f64>> {
    let mut out = HashMap::new();
    for l in Level::ALL {
        if let Some(t) = st_db::adopted_for_level(conn, l)?.and_then(|s| s.theta) {
            out.insert(l, t);
        }
    }
    Ok(out)
}

/// Flags of one calibrated version: the stored ones, plus too easy / too hard for any of its
/// levels with an adopted cut.
pub fn flags_of(row: &cal_db::CalibrationRow, levels: &[Level], cuts: &HashMap<Level, f64>) -> AppResult<Vec<Flag>> {
    let mut out = flags::parse_stored(&row.flags)?;
    let rules = FlagRules::default();
    for l in levels {
        if let Some(&target) = cuts.get(l) {
            if let Some(f) = flags::level_flag(row.difficulty, row.se, target, &rules) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
    }
    Ok(out)
}

/// Versions whose difficulty moved from the previous calibrated version of the same question (a
/// question rewritten, e.g. for a new edition of its statute): `flags::drift` between consecutive
/// versions, extreme estimates left out. `rows` holds every calibrated version of the questions
/// concerned.
pub fn edition_drift<'a>(rows: impl IntoIterator<Item = &'a cal_db::CalibrationRow>) -> AppResult<std::collections::HashSet<VersionId>> {
    let mut by_question: BTreeMap<QuestionId, Vec<&cal_db::CalibrationRow>> = BTreeMap::new();
    for r in rows {
        if !flags::parse_stored(&r.flags)?.iter().any(|f| f.extreme()) {
            by_question.entry(r.question_id).or_default().push(r);
        }
    }
    let rules = FlagRules::default();
    let mut out = std::collections::HashSet::new();
    for list in by_question.values_mut() {
        list.sort_by_key(|r| r.question_version_id);
        for pair in list.windows(2) {
            if flags::drift((pair[0].difficulty, pair[0].se), (pair[1].difficulty, pair[1].se), &rules).drifted {
                out.insert(pair[1].question_version_id);
            }
        }
    }
    Ok(out)
}

fn add_drift(mut flags: Vec<Flag>, drifted: bool) -> Vec<Flag> {
    if drifted && !flags.contains(&Flag::Drift) {
        flags.push(Flag::Drift);
    }
    flags
}

/// The item map: every calibrated version and every graded attempt's ability.
pub fn item_map(conn: &mut DbConn) -> AppResult<ItemMap> {
    let r = responses(conn)?;
    let ids: Vec<VersionId> = r.calibration.keys().copied().collect();
    let versions: HashMap<VersionId, (String, Vec<Level>)> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (q.code, v.levels_vec()))).collect();
    let cuts = level_cuts(conn)?;
    let drifted = edition_drift(r.calibration.values())?;
    let mut items: Vec<MapItem> = r
        .calibration
        .values()
        .map(|row| {
            let (code, levels) = versions.get(&row.question_version_id).cloned().unwrap_or_default();
            MapItem::of(row, code, &levels, &cuts, drifted.contains(&row.question_version_id))
        })
        .collect::<AppResult<_>>()?;
    items.sort_by(|a, b| b.difficulty.total_cmp(&a.difficulty).then(a.version_id.cmp(&b.version_id)));
    let mut abilities: Vec<f64> = r.ability.values().copied().collect();
    abilities.sort_by(f64::total_cmp);
    let mut cuts: Vec<(String, f64)> = cuts.into_iter().map(|(l, t)| (l.as_str().to_string(), t)).collect();
    cuts.sort_by(|a, b| a.1.total_cmp(&b.1));
    Ok(ItemMap { items, abilities, cuts })
}

#[derive(Clone, Debug, Serialize)]
pub struct ObservedGroup {
    /// Mean ability of the group (logits).
    pub theta: f64,
    pub n: usize,
    /// Mean credit observed.
    pub observed: f64,
    /// What the model expects at the group's abilities (mean of P over the group).
    pub expected: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemCurve {
    pub item: MapItem,
    pub groups: Vec<ObservedGroup>,
}

/// One version's curve: its calibrated difficulty and the observed proportion right in up to
/// `max_groups` ability groups of (nearly) equal size. None when the version is not calibrated.
pub fn item_curve(conn: &mut DbConn, version_id: VersionId, max_groups: usize) -> AppResult<Option<ItemCurve>> {
    let r = responses(conn)?;
    let Some(row) = r.calibration.get(&version_id) else { return Ok(None) };
    let (code, levels) =
        bank_db::versions_by_ids(conn, &[version_id])?.into_iter().next().map(|(v, q)| (q.code, v.levels_vec())).unwrap_or_default();
    let cuts = level_cuts(conn)?;
    let mut resp: Vec<(f64, f64)> =
        r.by_item.get(&version_id).map(|v| v.iter().filter_map(|(a, c)| r.ability.get(a).map(|t| (*t, *c))).collect()).unwrap_or_default();
    resp.sort_by(|a, b| a.0.total_cmp(&b.0));
    let k = max_groups.max(1).min((resp.len() / 5).max(1));
    let mut groups = Vec::new();
    if !resp.is_empty() {
        for g in 0..k {
            let (from, to) = (g * resp.len() / k, (g + 1) * resp.len() / k);
            let part = &resp[from..to];
            if part.is_empty() {
                continue;
            }
            let n = part.len() as f64;
            groups.push(ObservedGroup {
                theta: part.iter().map(|x| x.0).sum::<f64>() / n,
                n: part.len(),
                observed: part.iter().map(|x| x.1).sum::<f64>() / n,
                expected: part.iter().map(|x| probability(x.0, row.difficulty)).sum::<f64>() / n,
            });
        }
    }
    let siblings = cal_db::rows_of_questions(conn, &[row.question_id])?;
    let drifted = edition_drift(siblings.values().flatten())?.contains(&version_id);
    let item = MapItem::of(row, code, &levels, &cuts, drifted)?;
    Ok(Some(ItemCurve { item, groups }))
}

/// How candidates are grouped for DIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifBy {
    PoliceType,
    Unit,
}

impl DifBy {
    pub fn parse(s: &str) -> Option<DifBy> {
        match s {
            "police_type" => Some(DifBy::PoliceType),
            "unit" => Some(DifBy::Unit),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DifRow {
    pub version_id: VersionId,
    pub question_id: QuestionId,
    pub code: String,
    pub mh: MantelHaenszel,
}

#[derive(Clone, Debug, Serialize)]
pub struct DifTable {
    pub by: DifBy,
    /// Every group with its number of graded attempts, largest first.
    pub groups: Vec<(String, usize)>,
    /// The reference group; None: every group but the focal one.
    pub reference: Option<String>,
    /// The focal group; None: every group but the reference.
    pub focal: Option<String>,
    /// Items with a category first (C, B, A), then by |D-DIF|.
    pub rows: Vec<DifRow>,
}

/// Mantel–Haenszel DIF of every calibrated version between a reference group and a focal
/// group, candidates matched on ability strata. Either group left out means every other group
/// (a focal group alone is compared with everyone else); with neither, the largest group is the
/// reference.
pub fn dif_table(conn: &mut DbConn, by: DifBy, reference: Option<&str>, focal: Option<&str>) -> AppResult<DifTable> {
    let r = responses(conn)?;
    let people = cal_db::graded_attempt_people(conn)?;
    let unit_names: HashMap<UnitId, String> = org::all_units(conn)?.into_iter().map(|u| (u.id, u.name)).collect();
    let group_of: HashMap<AttemptId, String> = people
        .into_iter()
        .map(|(a, _, ptype, unit)| {
            (
                a,
                match by {
                    DifBy::PoliceType => ptype,
                    DifBy::Unit => unit_names.get(&unit).cloned().unwrap_or_default(),
                },
            )
        })
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for a in r.ability.keys() {
        if let Some(g) = group_of.get(a) {
            *counts.entry(g.clone()).or_default() += 1;
        }
    }
    let mut groups: Vec<(String, usize)> = counts.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let known = |g: &str| groups.iter().any(|(n, _)| n == g);
    let field = |name: &str, msg: String| AppError::invalid(vec![crate::domain::validation::FieldError::new(name, msg)]);
    let reference = match reference.filter(|g| !g.is_empty()) {
        Some(g) if known(g) => Some(g.to_string()),
        Some(g) => return Err(field("reference", format!("no graded candidates in {g:?}"))),
        None => None,
    };
    let focal = match focal.filter(|g| !g.is_empty()) {
        Some(g) if reference.as_deref() == Some(g) => {
            return Err(field("focal", "the focal group must differ from the reference group".into()))
        }
        Some(g) if known(g) => Some(g.to_string()),
        Some(g) => return Err(field("focal", format!("no graded candidates in {g:?}"))),
        None => None,
    };
    let reference = if reference.is_none() && focal.is_none() { groups.first().map(|g| g.0.clone()) } else { reference };
    let ids: Vec<VersionId> = r.calibration.keys().copied().collect();
    let codes: HashMap<VersionId, String> = bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, q.code)).collect();
    let mut rows = Vec::new();
    for (v, resp) in &r.by_item {
        let Some(cal) = r.calibration.get(v) else { continue };
        let data: Vec<DifResponse> = resp
            .iter()
            .filter_map(|(a, credit)| {
                let g = group_of.get(a)?;
                let group = match (&reference, &focal) {
                    (Some(r), _) if r == g => Group::Reference,
                    (_, Some(f)) if f == g => Group::Focal,
                    (Some(_), None) => Group::Focal,
                    (None, Some(_)) => Group::Reference,
                    _ => return None,
                };
                Some(DifResponse { stratum: dif::ability_stratum(r.ability[a], DIF_STRATUM), group, right: *credit >= 1.0 })
            })
            .collect();
        let mh = dif::mantel_haenszel(&data, DIF_MIN_GROUP);
        if mh.reference == 0 || mh.focal == 0 {
            continue;
        }
        rows.push(DifRow { version_id: *v, question_id: cal.question_id, code: codes.get(v).cloned().unwrap_or_default(), mh });
    }
    let rank = |m: &MantelHaenszel| match m.category {
        Some(dif::EtsCategory::C) => 0,
        Some(dif::EtsCategory::B) => 1,
        Some(dif::EtsCategory::A) => 2,
        None => 3,
    };
    rows.sort_by(|a, b| {
        rank(&a.mh)
            .cmp(&rank(&b.mh))
            .then(b.mh.d_dif.map(f64::abs).unwrap_or(-1.0).total_cmp(&a.mh.d_dif.map(f64::abs).unwrap_or(-1.0)))
            .then(a.version_id.cmp(&b.version_id))
    });
    Ok(DifTable { by, groups, reference, focal, rows })
}

/// Calibration and flags of the given question versions (those calibrated), by version.
pub fn version_flags(conn: &mut DbConn, version_ids: &[VersionId]) -> AppResult<HashMap<VersionId, MapItem>> {
    let rows = cal_db::rows_of(conn, version_ids)?;
    let ids: Vec<VersionId> = rows.keys().copied().collect();
    let info: HashMap<VersionId, (String, Vec<Level>)> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (q.code, v.levels_vec()))).collect();
    let cuts = level_cuts(conn)?;
    let questions: Vec<QuestionId> = rows.values().map(|r| r.question_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let drifted = edition_drift(cal_db::rows_of_questions(conn, &questions)?.values().flatten())?;
    rows.into_iter()
        .map(|(v, row)| {
            let (code, levels) = info.get(&v).cloned().unwrap_or_default();
            Ok((v, MapItem::of(&row, code, &levels, &cuts, drifted.contains(&v))?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(q: i64, v: i64, d: f64, se: f64, flags: &str) -> cal_db::CalibrationRow {
        cal_db::CalibrationRow {
            question_version_id: VersionId(v),
            question_id: QuestionId(q),
            difficulty: d,
            se,
            n: 50,
            infit: Some(1.0),
            outfit: Some(1.0),
            flags: flags.into(),
            anchored: false,
            calibrated_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn a_rewritten_question_that_moved_is_flagged_on_its_newer_version() {
        let rows = [
            // question 1: the rewrite (version 11) is 1.2 logits harder, clearly
            row(1, 10, -0.5, 0.2, ""),
            row(1, 11, 0.7, 0.2, ""),
            // question 2: moved as much but too uncertain to tell
            row(2, 20, -0.5, 0.8, ""),
            row(2, 21, 0.7, 0.8, ""),
            // question 3: moved little
            row(3, 30, 0.0, 0.1, ""),
            row(3, 31, 0.3, 0.1, ""),
            // question 4: an extreme estimate is no evidence of drift
            row(4, 40, 0.0, 0.2, ""),
            row(4, 41, 4.0, 0.2, "all_wrong"),
        ];
        let drifted = edition_drift(rows.iter()).unwrap();
        assert_eq!(drifted, [VersionId(11)].into_iter().collect());
        assert_eq!(add_drift(vec![Flag::Misfit], true), vec![Flag::Misfit, Flag::Drift]);
        assert_eq!(add_drift(vec![Flag::Drift], true), vec![Flag::Drift]);
    }
}
