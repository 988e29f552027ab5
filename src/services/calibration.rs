//! Rasch calibration of the bank (`domain::measurement::rasch`) from every graded exam
//! response, per question version and across sittings, stored per version with its flags.
//!
//! * Persons are attempts (an officer's ability at one sitting), items are question versions;
//!   a response's score is the fraction of the item's points the grading rule gave it.
//! * The scale is kept from run to run by anchoring: every version the previous run measured
//!   well (at least [`MIN_ANCHOR_RESPONSES`] responses, not extreme, not misfitting) keeps its
//!   previous difficulty; the others are estimated on that scale. The first run fixes the
//!   origin at the mean difficulty.
//! * Versions that no response links to the rest (a group of items answered only by
//!   candidates who answered nothing else, and no anchor among them) cannot be placed on the
//!   scale: they are left out of this run and counted in [`Summary::left_out`]; the first run
//!   keeps the largest linked group.
//! * Flags: misfit/overfit, all correct/all wrong ([`flags::item_flags`]), drift against the
//!   previous run ([`flags::drift`]; for an anchored version, its displacement), and a key
//!   suspected wrong ([`flags::key_check`], a distractor chosen by at least
//!   [`KEY_CHECK_MIN_CHOOSERS`] abler candidates).
//!
//! Everything is stored in one transaction, replacing the previous run.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::models::calibration as cal_db;
/// A version's stored calibration, as `GET /api/v1/items/calibration` returns it.
pub use crate::db::models::calibration::CalibrationRow;
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn};
use crate::domain::ids::{AttemptId, VersionId};
use crate::domain::measurement::flags::{self, Choice, Flag, FlagRules};
use crate::domain::measurement::rasch::{self, Labels, Obs, Options, RaschError, Status};
use crate::domain::paper::Paper;
use crate::error::{AppError, AppResult};

/// Responses a previous estimate needs before it anchors the next run.
pub const MIN_ANCHOR_RESPONSES: i32 = 30;
/// Candidates a distractor needs before it can make a key suspect.
pub const KEY_CHECK_MIN_CHOOSERS: usize = 5;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Question versions calibrated.
    pub items: usize,
    /// Of which held at the previous run's difficulty.
    pub anchored: usize,
    /// Graded attempts used.
    pub persons: usize,
    pub responses: usize,
    /// Versions with responses that could not be linked to the scale this run.
    pub left_out: usize,
    pub iterations: usize,
    pub flagged: usize,
}

/// Calibrates the bank from every graded attempt and stores the result (replacing the
/// previous run). `None` when nothing has been graded.
pub fn calibrate_bank(conn: &mut DbConn, now: Ts) -> AppResult<Option<Summary>> {
    let graded = cal_db::graded_attempts(conn)?;
    if graded.is_empty() {
        return Ok(None);
    }
    // (attempt id, version id, score)
    let mut all: Vec<(AttemptId, VersionId, f64)> = Vec::new();
    for (attempt, paper, scores) in &graded {
        let paper: Paper = serde_json::from_str(paper).map_err(|e| AppError::internal(format!("attempt {attempt}: stored paper: {e}")))?;
        let scores: Vec<i64> = scores.split(',').map(|x| x.trim().parse().unwrap_or(0)).collect();
        for (n, item) in paper.items.iter().enumerate() {
            if item.p > 0 {
                let got = scores.get(n).copied().unwrap_or(0);
                all.push((*attempt, item.v, (got as f64 / item.p as f64).clamp(0.0, 1.0)));
            }
        }
    }
    let previous: HashMap<VersionId, CalibrationRow> = cal_db::all(conn)?.into_iter().map(|r| (r.question_version_id, r)).collect();
    // a previous estimate anchors when it had enough responses and fitted, and was not extreme
    let mut anchorable: HashMap<VersionId, f64> = HashMap::new();
    for r in previous.values().filter(|r| r.n >= MIN_ANCHOR_RESPONSES) {
        if !flags::parse_stored(&r.flags)?.iter().any(|f| *f == Flag::Misfit || f.extreme()) {
            anchorable.insert(r.question_version_id, r.difficulty);
        }
    }
    let anchor_value = |v: VersionId| anchorable.get(&v).copied();

    // Calibrate; drop the groups the data cannot link to the scale and try again.
    let mut dropped: std::collections::HashSet<VersionId> = Default::default();
    let (persons, items, obs, cal) = loop {
        let (mut persons, mut items) = (Labels::<AttemptId>::new(), Labels::<VersionId>::new());
        let obs: Vec<Obs> = all
            .iter()
            .filter(|(_, v, _)| !dropped.contains(v))
            .map(|&(a, v, s)| Obs { person: persons.id(&a), item: items.id(&v), score: s })
            .collect();
        if obs.is_empty() {
            return Ok(None);
        }
        let anchors: Vec<(u32, f64)> =
            items.keys().iter().enumerate().filter_map(|(i, &v)| anchor_value(v).map(|d| (i as u32, d))).collect();
        match rasch::calibrate(persons.len(), items.len(), &obs, &Options { anchors, ..Options::default() }) {
            Ok(cal) => break (persons, items, obs, cal),
            Err(RaschError::Disconnected { mut groups, anchored }) => {
                if !anchored {
                    // keep the largest group
                    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
                    groups.remove(0);
                }
                dropped.extend(groups.iter().flatten().map(|&i| *items.key(i)));
            }
            Err(RaschError::AllExtreme) => return Ok(None),
            Err(e) => return Err(AppError::internal(format!("calibration: {e}"))),
        }
    };

    // Options chosen, for the key check.
    let versions: Vec<VersionId> = items.keys().to_vec();
    let keys = cal_db::keys_of(conn, &versions)?;
    let mut choices: HashMap<VersionId, Vec<Choice>> = HashMap::new();
    for (attempt, v, chosen) in cal_db::graded_choices(conn)? {
        if let (Some(p), Some(_)) = (persons.get(&attempt), items.get(&v)) {
            choices.entry(v).or_default().push(Choice { option: chosen, theta: cal.persons[p as usize].ability });
        }
    }
    let rules = FlagRules::default();
    let mut rows = Vec::with_capacity(versions.len());
    for (i, e) in cal.items.iter().enumerate() {
        let v = *items.key(i as u32);
        let Some((question_id, key)) = keys.get(&v) else { continue };
        let mut f = flags::item_flags(e, &rules);
        if let Some(prev) = previous.get(&v) {
            let now_value = if e.anchored { e.displacement.map(|d| e.difficulty + d) } else { Some(e.difficulty) };
            if let Some(d) = now_value.filter(|_| e.status == Status::Measured) {
                if flags::drift((prev.difficulty, prev.se), (d, e.se), &rules).drifted {
                    f.push(Flag::Drift);
                }
            }
        }
        if flags::key_check(key, choices.get(&v).map_or(&[][..], |c| &c[..]), KEY_CHECK_MIN_CHOOSERS).suspected() {
            f.push(Flag::KeySuspected);
        }
        rows.push(CalibrationRow {
            question_version_id: v,
            question_id: *question_id,
            difficulty: e.difficulty,
            se: if e.se.is_finite() { e.se } else { 99.0 },
            n: e.count as i32,
            infit: e.fit.map(|x| x.infit),
            outfit: e.fit.map(|x| x.outfit),
            flags: flags::to_stored(&f),
            anchored: e.anchored,
            calibrated_at: now,
        });
    }
    let summary = Summary {
        items: rows.len(),
        anchored: rows.iter().filter(|r| r.anchored).count(),
        persons: persons.len(),
        responses: obs.len(),
        left_out: dropped.len(),
        iterations: cal.iterations,
        flagged: rows.iter().filter(|r| !r.flags.is_empty()).count(),
    };
    write_tx(conn, |c| cal_db::replace_all(c, &rows))?;
    Ok(Some(summary))
}

/// The stored calibration, by question version.
pub fn stored(conn: &mut DbConn) -> AppResult<Vec<CalibrationRow>> {
    Ok(cal_db::all(conn)?)
}

/// Whether a calibration is stored (the sweeper runs the first one without waiting for a new
/// sitting to close).
pub fn has_run(conn: &mut DbConn) -> AppResult<bool> {
    Ok(cal_db::any(conn)?)
}
