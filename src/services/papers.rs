//! Fairness of a sitting's papers, for trainers: the spread of expected scores across its
//! candidates' papers, and the audit of one paper (re-drawn from the pool and the seed).
//! Neither shows a key.

use serde::Serialize;
use serde_json::json;

use crate::db::models::{audit, bank as bank_db, exam as exam_db, exposure as ex_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::grading::format_points;
use crate::domain::ids::{AttemptId, SittingId, UserId, VersionId};
use crate::domain::paper::{self, Paper, Pool};
use crate::error::{AppError, AppResult};

/// Spread of paper difficulty across a sitting: expected scores at the reference ability
/// (`domain::paper::REFERENCE_THETA`), in points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub papers: usize,
    /// Every paper's total (one value for a format 1 pool).
    pub total: String,
    pub min: Option<String>,
    pub median: Option<String>,
    pub max: Option<String>,
    /// Largest minus smallest expected score.
    pub range: Option<String>,
    /// The pool's target and tolerance, if the blueprint set one.
    pub target: Option<String>,
    pub tolerance: Option<String>,
    /// Papers whose expected score is outside the tolerance.
    pub outside: usize,
    /// Distinct totals among the papers (more than one only for pools frozen before fair papers).
    pub totals: Vec<String>,
}

fn pool_of(s: &exam_db::Sitting) -> AppResult<Pool> {
    serde_json::from_str(&s.pool).map_err(|e| AppError::internal(format!("sitting {}: stored pool: {e}", s.id)))
}

/// The spread of a sitting's papers. `None` when its pool carries no expected scores (frozen
/// before fair papers without parallel rules).
pub fn spread(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<Option<Spread>> {
    let s = exam_db::find_sitting(conn, sitting_id)?.ok_or_else(|| AppError::not_found(format!("no sitting {sitting_id}")))?;
    let pool = pool_of(&s)?;
    let papers: Vec<Paper> = ex_db::papers_of(conn, sitting_id)?
        .iter()
        .map(|p| serde_json::from_str(p).map_err(|e| AppError::internal(format!("stored paper: {e}"))))
        .collect::<AppResult<_>>()?;
    let mut exact = Vec::with_capacity(papers.len());
    for p in &papers {
        match pool.expected_x(p) {
            Some(e) => exact.push(e),
            None => return Ok(None),
        }
    }
    let outside = exact.iter().filter(|&&e| !pool.meets_fit(e)).count();
    let mut expected: Vec<f64> = exact.iter().map(|&x| x as f64 / 1000.0).collect();
    if papers.is_empty() && pool.rules.iter().flat_map(|r| &r.entries).any(|e| e.f.is_none()) {
        return Ok(None);
    }
    expected.sort_by(f64::total_cmp);
    let pts = |c: f64| format_points(c.round() as i64);
    let median = (!expected.is_empty()).then(|| {
        let n = expected.len();
        if n % 2 == 1 {
            expected[n / 2]
        } else {
            (expected[n / 2 - 1] + expected[n / 2]) / 2.0
        }
    });
    let mut totals: Vec<i64> = papers.iter().map(Paper::max_centi).collect();
    totals.sort_unstable();
    totals.dedup();
    Ok(Some(Spread {
        papers: papers.len(),
        total: format_points(if pool.format >= 1 { pool.max_centi() } else { totals.first().copied().unwrap_or(0) }),
        min: expected.first().map(|&e| pts(e)),
        median: median.map(pts),
        max: expected.last().map(|&e| pts(e)),
        range: expected.last().zip(expected.first()).map(|(a, b)| pts(a - b)),
        target: pool.fit.map(|f| format_points(f.target_centi)),
        tolerance: pool.fit.map(|f| format_points(f.tolerance_centi)),
        outside,
        totals: totals.into_iter().map(format_points).collect(),
    }))
}

/// One position of an audited paper.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    pub position: usize,
    /// Question code and version shown, and re-drawn.
    pub shown: Option<String>,
    pub redrawn: Option<String>,
    pub shown_options: String,
    pub redrawn_options: String,
    pub shown_points: Option<String>,
    pub redrawn_points: Option<String>,
    pub same_version: bool,
    pub same_options: bool,
    pub same_points: bool,
    pub matches: bool,
}

/// A candidate's paper checked against its re-draw from the sitting's pool and the seed.
#[derive(Clone, Debug, Serialize)]
pub struct PaperAudit {
    pub attempt_id: AttemptId,
    pub sitting_id: SittingId,
    pub sitting_title: String,
    pub badge: String,
    pub name: String,
    pub seed: i64,
    /// Pool format (0: frozen before fair papers).
    pub pool_format: u8,
    pub items: usize,
    pub mismatches: usize,
    pub matches: bool,
    pub total: String,
    pub expected: Option<String>,
    pub rows: Vec<AuditRow>,
}

/// Re-draws an attempt's paper and compares it with what the candidate was shown; the access is
/// written to the audit log (with the verdict).
pub fn audit_paper(conn: &mut DbConn, attempt_id: AttemptId, by: UserId, now: Ts) -> AppResult<PaperAudit> {
    let a = exam_db::find_attempt(conn, attempt_id)?.ok_or_else(|| AppError::not_found(format!("no attempt {attempt_id}")))?;
    let s = crate::services::exams::sitting(conn, a.sitting_id)?;
    let who = org::find(conn, a.user_id)?.ok_or_else(|| AppError::not_found("no such candidate"))?;
    let pool = pool_of(&s)?;
    let shown: Paper = serde_json::from_str(&a.paper).map_err(|e| AppError::internal(format!("stored paper: {e}")))?;
    let checks = paper::audit_paper(&pool, a.seed as u64, &shown);
    let mut ids: Vec<VersionId> =
        checks.iter().flat_map(|c| [c.shown.as_ref().map(|i| i.v), c.redrawn.as_ref().map(|i| i.v)]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    let codes: std::collections::HashMap<VersionId, String> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, format!("{} v{}", q.code, v.version))).collect();
    let label = |v: VersionId| codes.get(&v).cloned().unwrap_or_else(|| format!("#{v}"));
    let rows: Vec<AuditRow> = checks
        .iter()
        .map(|c| AuditRow {
            position: c.position,
            shown: c.shown.as_ref().map(|i| label(i.v)),
            redrawn: c.redrawn.as_ref().map(|i| label(i.v)),
            shown_options: c.shown.as_ref().map(|i| i.o.clone()).unwrap_or_default(),
            redrawn_options: c.redrawn.as_ref().map(|i| i.o.clone()).unwrap_or_default(),
            shown_points: c.shown.as_ref().map(|i| format_points(i.p)),
            redrawn_points: c.redrawn.as_ref().map(|i| format_points(i.p)),
            same_version: c.same_version,
            same_options: c.same_options,
            same_points: c.same_points,
            matches: c.matches(),
        })
        .collect();
    let mismatches = rows.iter().filter(|r| !r.matches).count();
    write_tx(conn, |c| {
        audit::append(
            c,
            Some(by),
            "paper.audit",
            &format!("attempt:{attempt_id}"),
            &json!({"sitting_id": s.id, "seed": a.seed, "items": rows.len(), "mismatches": mismatches}),
            now,
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(PaperAudit {
        attempt_id,
        sitting_id: s.id,
        sitting_title: s.title.clone(),
        badge: who.badge,
        name: who.name,
        seed: a.seed,
        pool_format: pool.format,
        items: shown.items.len(),
        mismatches,
        matches: mismatches == 0,
        total: format_points(shown.max_centi()),
        expected: pool.expected_centi(&shown).map(|e| format_points(e.round() as i64)),
        rows,
    })
}
