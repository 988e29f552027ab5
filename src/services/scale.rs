//! Scores on the calibrated scale and the pass decision on it (`domain::measurement::scale`),
//! made at grading and kept with the result.
//!
//! * A certification sitting created while its level has an adopted cut
//!   (`services::standards`) decides pass or fail on the scale with that cut; the cut is fixed
//!   on the sitting when it is created ([`fix_rule_for_sitting`]), so a later adoption never
//!   changes the rule of a sitting already scheduled or graded. Every other sitting passes by
//!   its per-cent mark.
//! * Every graded attempt gets its ability (logits, with SE) from the stored calibration of the
//!   items on its paper, stored with the rule used and the difficulties it was computed from;
//!   a regrade after an upheld challenge reuses those difficulties, so only the key changes the
//!   result.

use std::collections::HashMap;

use crate::db::models::{calibration as cal_db, exam as exam_db, standards as st_db, Ts};
use crate::db::DbConn;
use crate::domain::bank::Level;
use crate::domain::exam::SittingKind;
use crate::domain::grading::Grade;
use crate::domain::ids::{AttemptId, SittingId, VersionId};
use crate::domain::measurement::scale::{self, Decision, ScoredItem};
use crate::domain::paper::Paper;
use crate::error::AppResult;

/// Fixes the level's adopted cut on a newly created certification sitting (no-op for other
/// sittings and levels without an adopted cut). Runs in the creating transaction.
pub fn fix_rule_for_sitting(conn: &mut DbConn, sitting_id: SittingId, kind: SittingKind, level: Option<Level>) -> AppResult<()> {
    let (SittingKind::Certification, Some(level)) = (kind, level) else { return Ok(()) };
    if let Some(study) = st_db::adopted_for_level(conn, level)? {
        if let Some(theta) = study.theta {
            st_db::set_sitting_rule(conn, sitting_id, study.id, theta)?;
        }
    }
    Ok(())
}

/// Decides pass or fail of a graded attempt by its sitting's rule and stores its scaled score;
/// returns whether it passed. Call inside the grading transaction, with `g` the per-cent grade.
pub fn decide_and_store(
    conn: &mut DbConn,
    s: &exam_db::Sitting,
    attempt_id: AttemptId,
    paper: &Paper,
    g: &Grade,
    now: Ts,
) -> AppResult<bool> {
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    let difficulties: HashMap<VersionId, f64> = match st_db::scaled_of(conn, attempt_id)? {
        Some(prev) => serde_json::from_str(&prev.difficulties).unwrap_or_default(),
        None => cal_db::difficulties_of(conn, &ids)?,
    };
    let items: Vec<ScoredItem> = paper
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| ScoredItem {
            difficulty: difficulties.get(&i.v).copied(),
            points: i.p as f64 / 100.0,
            earned: g.item_scores.get(n).copied().unwrap_or(0) as f64 / 100.0,
        })
        .collect();
    let cut = st_db::sitting_rule(conn, s.id)?.map(|(_, theta)| theta);
    let decision = scale::decide(&items, cut, g.passed);
    let ability = scale::ability(&items);
    let used: HashMap<VersionId, f64> = ids.iter().filter_map(|v| difficulties.get(v).map(|d| (*v, *d))).collect();
    let (cut_theta, raw_cut) = match decision {
        Decision::Scale { cut, raw_cut, .. } => (Some(cut), Some(raw_cut)),
        Decision::Percent { .. } => (None, None),
    };
    st_db::store_scaled(
        conn,
        &st_db::ScaledScore {
            attempt_id,
            ability: ability.map(|a| a.theta),
            ability_se: ability.map(|a| a.se),
            calibrated_items: items.iter().filter(|i| i.difficulty.is_some()).count() as i32,
            paper_items: items.len() as i32,
            rule: decision.rule(),
            cut_theta,
            raw_cut,
            difficulties: serde_json::to_string(&used).expect("json"),
            graded_at: now,
        },
    )?;
    Ok(decision.passed())
}

/// A graded attempt's scaled score, if stored.
pub fn of_attempt(conn: &mut DbConn, attempt_id: AttemptId) -> AppResult<Option<st_db::ScaledScore>> {
    Ok(st_db::scaled_of(conn, attempt_id)?)
}

/// Scaled scores of several attempts, by attempt id.
pub fn of_attempts(conn: &mut DbConn, ids: &[AttemptId]) -> AppResult<HashMap<AttemptId, st_db::ScaledScore>> {
    Ok(st_db::scaled_of_many(conn, ids)?)
}

/// The θ shown for a score: two decimals, with its SE.
pub fn format_theta(theta: f64) -> String {
    format!("{theta:+.2}")
}
