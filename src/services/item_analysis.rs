//! Item analysis of closed sittings (`domain::item_stats`), stored for the trainers' pages and
//! for drawing parallel papers.

use std::collections::HashMap;

use crate::db::models::{bank as bank_db, exam as exam_db, stats as stats_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::ids::{QuestionId, SittingId, VersionId};
use crate::domain::item_stats::{self, ItemInput, ItemResponse, SittingInput, SittingStats};
use crate::error::AppResult;
use crate::services::cache::VersionCache;
use crate::services::exams;

/// Analyses a sitting's submitted attempts and stores the result (replacing any earlier one).
/// Returns `None` when no attempt has been submitted.
pub fn analyse_sitting(conn: &mut DbConn, cache: &VersionCache, sitting_id: SittingId, now: Ts) -> AppResult<Option<SittingStats>> {
    crate::services::exams::sitting(conn, sitting_id)?;
    let attempts: Vec<exam_db::Attempt> =
        exam_db::attempts_of_sitting(conn, sitting_id)?.into_iter().map(|(a, ..)| a).filter(|a| a.submitted_at.is_some()).collect();
    if attempts.is_empty() {
        return Ok(None);
    }
    let mut totals = Vec::with_capacity(attempts.len());
    let mut items: HashMap<VersionId, ItemInput> = HashMap::new();
    let mut max_total: f64 = 0.0;
    for (idx, a) in attempts.iter().enumerate() {
        let paper = exams::paper_of(a)?;
        let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
        let versions = cache.get_many(conn, &ids)?;
        let saved: HashMap<VersionId, String> =
            exam_db::responses_of(conn, a.id)?.into_iter().map(|r| (r.question_version_id, r.choices)).collect();
        let scores = a.item_scores_vec();
        totals.push(a.score_centi.unwrap_or(0) as f64 / 100.0);
        max_total = max_total.max(a.max_centi as f64 / 100.0);
        for (n, item) in paper.items.iter().enumerate() {
            let v = &versions[&item.v];
            let entry = items.entry(item.v).or_insert_with(|| ItemInput {
                version_id: item.v,
                option_ids: v.option_ids(),
                key: v.key.clone(),
                max_points: item.p as f64 / 100.0,
                responses: Vec::new(),
            });
            let got = scores.get(n).copied().unwrap_or(0);
            entry.responses.push(ItemResponse {
                candidate: idx,
                chosen: saved.get(&item.v).cloned().unwrap_or_default(),
                credit: if item.p > 0 { got as f64 / item.p as f64 } else { 0.0 },
            });
        }
    }
    let mut items: Vec<ItemInput> = items.into_values().collect();
    items.sort_by_key(|i| i.version_id);
    let stats = item_stats::analyse(&SittingInput { totals, max_total, items });
    let ids: Vec<VersionId> = stats.items.iter().map(|i| i.version_id).collect();
    let question_of: HashMap<VersionId, QuestionId> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, q.id)).collect();
    let rows: Vec<stats_db::ItemStatRow> = stats
        .items
        .iter()
        .map(|i| stats_db::ItemStatRow {
            sitting_id,
            question_version_id: i.version_id,
            question_id: question_of.get(&i.version_id).copied().unwrap_or_default(),
            n: i.n as i32,
            facility: i.facility,
            discrimination: i.point_biserial.or(i.upper_lower),
            flagged: !i.flags.is_empty(),
            detail: serde_json::to_string(i).expect("json"),
        })
        .collect();
    let mut summary = serde_json::to_value(&stats).expect("json");
    summary.as_object_mut().expect("object").remove("items");
    write_tx(conn, |c| stats_db::replace(c, sitting_id, &rows, &summary.to_string(), now))?;
    Ok(Some(stats))
}

/// Analyses every sitting that has closed, whose attempts are all submitted and that has no
/// analysis yet (run by the server's sweeper).
pub fn analyse_closed(conn: &mut DbConn, cache: &VersionCache, now: Ts) -> AppResult<usize> {
    let done: std::collections::HashSet<SittingId> = stats_db::analysed_sittings(conn)?.into_iter().collect();
    let mut n = 0;
    for s in exam_db::list_sittings(conn)? {
        if s.closes_at > now || done.contains(&s.id) {
            continue;
        }
        let attempts = exam_db::attempts_of_sitting(conn, s.id)?;
        if attempts.is_empty() || attempts.iter().any(|(a, ..)| a.submitted_at.is_none()) {
            continue;
        }
        if analyse_sitting(conn, cache, s.id, now)?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// A sitting's stored analysis, as its page reads it.
pub struct StoredAnalysis {
    /// The summary's JSON and when it was computed (`None` before the first analysis).
    pub summary: Option<(String, crate::db::models::Ts)>,
    pub items: Vec<stats_db::ItemStatRow>,
    /// Each item's question (id, code), by version.
    pub questions: HashMap<VersionId, (QuestionId, String)>,
    /// The bank's calibration of those versions (pooled over every sitting).
    pub calibrated: HashMap<VersionId, crate::services::measurement::MapItem>,
}

pub fn stored(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<StoredAnalysis> {
    let summary = stats_db::sitting_detail(conn, sitting_id)?;
    let items = stats_db::items_of_sitting(conn, sitting_id)?;
    let ids: Vec<VersionId> = items.iter().map(|r| r.question_version_id).collect();
    let questions = bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (q.id, q.code))).collect();
    let calibrated = crate::services::measurement::version_flags(conn, &ids)?;
    Ok(StoredAnalysis { summary, items, questions, calibrated })
}
