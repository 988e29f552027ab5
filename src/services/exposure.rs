//! Item exposure: on how many papers each question version appeared, per sitting and overall.
//!
//! Counted from the attempts' stored papers, not written when a paper is drawn: a start is the
//! exam day's busiest write (10,000 within a minute), and counting per draw would add one row
//! write per item to each of them, while counting 10,000 stored papers once takes well under a
//! second (BENCHMARKS.md). A closed sitting's counts never change (no paper is drawn after
//! it closes), so the dated sweep records them once ([`record_closed`]); sittings not yet
//! recorded are counted from their papers when asked.
//!
//! Pools freeze these counts when a sitting is created (`domain::paper`, `x` per entry), so the
//! exposure a draw used is the one stored with the pool, not today's.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::models::exposure::{self as ex_db, ExposureRow};
use crate::db::models::Ts;
use crate::db::{write_tx, DbConn};
use crate::domain::ids::{QuestionId, SittingId, VersionId};
use crate::domain::paper::{count_exposure, Paper};
use crate::error::{AppError, AppResult};

/// A version's exposure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Exposure {
    /// Papers it appeared on.
    pub papers: u32,
    /// Sittings it appeared in.
    pub sittings: u32,
}

fn parse(sitting_id: SittingId, papers: &[String]) -> AppResult<Vec<Paper>> {
    papers
        .iter()
        .map(|p| serde_json::from_str(p).map_err(|e| AppError::internal(format!("sitting {sitting_id}: stored paper: {e}"))))
        .collect()
}

/// A sitting's exposure counted from its papers: (papers, per version).
pub fn count_sitting(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<(u32, HashMap<VersionId, u32>)> {
    let papers = parse(sitting_id, &ex_db::papers_of(conn, sitting_id)?)?;
    Ok((papers.len() as u32, count_exposure(&papers)))
}

/// Records the exposure of every sitting that has closed and is not recorded yet, each in its
/// own transaction. Returns how many were recorded.
pub fn record_closed(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let mut done = 0;
    for sid in ex_db::closed_unrecorded(conn, now)? {
        let (papers, counts) = count_sitting(conn, sid)?;
        let mut rows: Vec<ExposureRow> =
            counts.into_iter().map(|(v, n)| ExposureRow { sitting_id: sid, question_version_id: v, papers: n as i32 }).collect();
        rows.sort_by_key(|r| r.question_version_id);
        if write_tx(conn, |c| Ok::<_, AppError>(ex_db::record(c, sid, papers as i32, &rows, now)?))? {
            done += 1;
        }
    }
    Ok(done)
}

/// Exposure of every version that has appeared on a paper: recorded sittings plus the papers of
/// sittings not recorded yet.
pub fn overall(conn: &mut DbConn) -> AppResult<HashMap<VersionId, Exposure>> {
    let mut out: HashMap<VersionId, Exposure> = ex_db::totals(conn)?
        .into_iter()
        .map(|(v, papers, sittings)| (v, Exposure { papers: papers as u32, sittings: sittings as u32 }))
        .collect();
    for sid in ex_db::unrecorded(conn)? {
        for (v, n) in count_sitting(conn, sid)?.1 {
            let e = out.entry(v).or_default();
            e.papers += n;
            e.sittings += 1;
        }
    }
    Ok(out)
}

/// One sitting's exposure per version (recorded, or counted from its papers).
pub fn of_sitting(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<HashMap<VersionId, u32>> {
    if ex_db::recorded(conn, sitting_id)?.is_some() {
        return Ok(ex_db::of_sitting(conn, sitting_id)?.into_iter().map(|r| (r.question_version_id, r.papers as u32)).collect());
    }
    Ok(count_sitting(conn, sitting_id)?.1)
}

/// The exposure of some versions, per sitting (recorded and live): version → [(sitting, papers)].
pub fn by_sitting_of(conn: &mut DbConn, versions: &[VersionId]) -> AppResult<HashMap<VersionId, Vec<(SittingId, u32)>>> {
    let mut out: HashMap<VersionId, Vec<(SittingId, u32)>> = HashMap::new();
    for r in ex_db::of_versions(conn, versions)? {
        out.entry(r.question_version_id).or_default().push((r.sitting_id, r.papers as u32));
    }
    // sittings not recorded yet: counted in SQL, one query per version (a question page asks
    // for a handful), without parsing their papers
    let open = ex_db::unrecorded(conn)?;
    if !open.is_empty() {
        for &v in versions {
            for (sid, n) in ex_db::papers_holding(conn, &open, v)? {
                out.entry(v).or_default().push((sid, n as u32));
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    Ok(out)
}

/// One version's exposure as the API gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExposureItem {
    #[schema(value_type = i64)]
    pub question_version_id: VersionId,
    #[schema(value_type = i64)]
    pub question_id: QuestionId,
    /// Papers the version appeared on (in the sitting asked for, or in every sitting).
    pub papers: u32,
    /// Sittings it appeared in (1 when one sitting was asked for).
    pub sittings: u32,
}

/// Every version that has appeared on a paper, overall or in one sitting, most exposed first.
pub fn list(conn: &mut DbConn, sitting: Option<SittingId>) -> AppResult<Vec<ExposureItem>> {
    let counts: HashMap<VersionId, Exposure> = match sitting {
        Some(sid) => {
            crate::db::models::exam::find_sitting(conn, sid)?.ok_or_else(|| AppError::not_found(format!("no sitting {sid}")))?;
            of_sitting(conn, sid)?.into_iter().map(|(v, papers)| (v, Exposure { papers, sittings: 1 })).collect()
        }
        None => overall(conn)?,
    };
    let ids: Vec<VersionId> = counts.keys().copied().collect();
    let questions: HashMap<VersionId, QuestionId> =
        crate::db::models::bank::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, q.id)).collect();
    let mut out: Vec<ExposureItem> = counts
        .into_iter()
        .filter_map(|(v, e)| {
            questions.get(&v).map(|&q| ExposureItem { question_version_id: v, question_id: q, papers: e.papers, sittings: e.sittings })
        })
        .collect();
    out.sort_by(|a, b| b.papers.cmp(&a.papers).then(a.question_version_id.cmp(&b.question_version_id)));
    Ok(out)
}
