//! Papers prepared before a sitting opens (issue 18): the synchronised start is the peak of an
//! exam day, so each listed candidate's paper is drawn from the frozen pool, with its own fresh
//! seed, before the window opens, and a start only moves it into `attempts`.
//!
//! - **When.** Right after a sitting is scheduled (`exams::schedule`, exam plans, make-ups), for
//!   everyone on its list; and by the dated sweep for every sitting opening within
//!   [`AHEAD_MINUTES`], for candidates added to the list since (a new officer in a listed unit,
//!   a late certification registration). A candidate with no prepared paper still starts: the
//!   paper is drawn at the start as before, from the pool parsed once per sitting
//!   ([`parsed_pool`]).
//! - **Who.** A sitting's list is `plans::candidates_of`: the active officers its eligibility
//!   admits (named officers, units with their sub-units, 警种), for a certification sitting those
//!   registered for its level. A sitting open to whole units is prepared for every eligible
//!   officer of those units. Mock sittings (open practice, most never sat) are not prepared.
//! - **Hidden.** A prepared paper is not an attempt: it lives in its own table, which only the
//!   start reads, for its own candidate. No count, result list, proctor view, report, page or
//!   API reads it, so neither the paper nor which questions it holds is seen before the start.
//! - **Valid.** Each prepared paper carries the hash of the pool it was drawn from, and a start
//!   takes it only while that is the sitting's pool (`sittings.pool_hash`): the paper audit's
//!   re-draw from the pool and the seed then matches it exactly. A pool written again (a
//!   re-freeze, any edit of the pool) drops the prepared papers in the database itself (trigger
//!   `sittings_pool_changed`), and clears the hash if the writer did not set a new one.
//!   Sitting edits that do not touch the pool (window, title, list) leave papers valid; a
//!   candidate taken off the list never starts, and every prepared paper of a closed sitting is
//!   deleted by the sweep.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::models::{exam as exam_db, prepared as prep_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam::SittingKind;
use crate::domain::ids::{SittingId, UserId};
use crate::domain::paper::{self, Pool};
use crate::error::{AppError, AppResult};

/// Minutes before a sitting opens during which the dated sweep prepares papers for candidates
/// added to its list after it was scheduled.
pub const AHEAD_MINUTES: i64 = 30;

/// Papers drawn and stored per transaction (a short hold of the write lock each).
const CHUNK: usize = 500;

/// Parsed pools kept in memory; past this many, the map starts again.
const POOLS_KEPT: usize = 32;

/// The hash a pool's JSON is known by (SHA-256, hex).
pub fn pool_hash(pool_json: &str) -> String {
    hex::encode(Sha256::digest(pool_json.as_bytes()))
}

/// Whether a sitting's candidates get prepared papers: graded sittings do; a mock sitting is
/// open practice that most of its list never sits.
pub fn prepares(kind: SittingKind) -> bool {
    kind != SittingKind::Mock
}

/// A fresh seed (non-negative: stored as BIGINT, re-drawn as u64 by the paper audit).
pub fn fresh_seed() -> i64 {
    rand::rng().random::<i64>() & i64::MAX
}

/// A paper drawn from the pool with a fresh seed: (seed, paper as stored, max points).
pub fn draw_fresh(pool: &Pool) -> (i64, String, i64) {
    let seed = fresh_seed();
    let p = paper::draw(pool, seed as u64);
    (seed, serde_json::to_string(&p).expect("json"), p.max_centi())
}

fn parse(s: &exam_db::Sitting) -> AppResult<Pool> {
    serde_json::from_str(&s.pool).map_err(|e| AppError::internal(format!("sitting {}: stored pool: {e}", s.id)))
}

/// The sitting's pool, parsed once per sitting and pool: kept in memory under the pool's hash,
/// so a re-frozen pool (a new hash) is parsed afresh. A pool whose hash is not known is parsed
/// every time.
pub fn parsed_pool(s: &exam_db::Sitting) -> AppResult<Arc<Pool>> {
    static POOLS: OnceLock<Mutex<HashMap<(SittingId, String), Arc<Pool>>>> = OnceLock::new();
    if s.pool_hash.is_empty() {
        return parse(s).map(Arc::new);
    }
    let pools = POOLS.get_or_init(Default::default);
    let key = (s.id, s.pool_hash.clone());
    if let Some(p) = pools.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(p.clone());
    }
    let parsed = Arc::new(parse(s)?);
    let mut map = pools.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= POOLS_KEPT {
        map.clear();
    }
    map.insert(key, parsed.clone());
    Ok(parsed)
}

/// The sitting's pool hash, recorded now if the pool was frozen before hashes were kept.
fn known_hash(conn: &mut DbConn, s: &exam_db::Sitting) -> AppResult<String> {
    if !s.pool_hash.is_empty() {
        return Ok(s.pool_hash.clone());
    }
    let h = pool_hash(&s.pool);
    write_tx(conn, |c| exam_db::set_unknown_pool_hash(c, s.id, &s.pool, &h))?;
    Ok(h)
}

/// Takes the candidate's prepared paper for the start, inside the start's transaction: the row
/// is removed, and its paper returned as (seed, paper, max points) if it was drawn from the
/// sitting's current pool.
pub fn take(conn: &mut DbConn, s: &exam_db::Sitting, user_id: UserId) -> AppResult<Option<(i64, String, i64)>> {
    let Some(p) = prep_db::find(conn, s.id, user_id)? else { return Ok(None) };
    prep_db::delete(conn, s.id, user_id)?;
    Ok((!s.pool_hash.is_empty() && p.pool_hash == s.pool_hash).then_some((p.seed, p.paper, p.max_centi)))
}

/// Whether the candidate has a usable prepared paper (a read outside the start's transaction,
/// so a candidate without one has theirs drawn before the write lock is taken).
pub fn has_usable(conn: &mut DbConn, s: &exam_db::Sitting, user_id: UserId) -> AppResult<bool> {
    Ok(prep_db::find(conn, s.id, user_id)?.is_some_and(|p| !s.pool_hash.is_empty() && p.pool_hash == s.pool_hash))
}

/// Prepares a paper for every candidate on the sitting's list who has neither started nor got
/// a paper from its current pool; papers from an older pool are dropped. Returns how many were
/// drawn. Several servers may run it at once: a candidate keeps the first paper stored.
pub fn prepare_sitting(conn: &mut DbConn, sitting_id: SittingId, now: Ts) -> AppResult<usize> {
    let Some(s) = exam_db::find_sitting(conn, sitting_id)? else { return Ok(0) };
    if !prepares(s.kind) || s.closes_at <= now {
        return Ok(0);
    }
    let hash = known_hash(conn, &s)?;
    let s = exam_db::Sitting { pool_hash: hash.clone(), ..s };
    let pool = parsed_pool(&s)?;
    let listed = crate::services::plans::candidates_of(conn, &s)?;
    let started: HashSet<UserId> = exam_db::started_users(conn, s.id)?.into_iter().collect();
    let mut have: HashSet<UserId> = HashSet::new();
    let mut stale = false;
    for (user, h) in prep_db::of_sitting(conn, s.id)? {
        if h == hash {
            have.insert(user);
        } else {
            stale = true;
        }
    }
    if stale {
        write_tx(conn, |c| prep_db::delete_stale(c, s.id, &hash))?;
    }
    let todo: Vec<UserId> = listed.iter().map(|u| u.id).filter(|u| !started.contains(u) && !have.contains(u)).collect();
    let mut drawn = 0;
    for chunk in todo.chunks(CHUNK) {
        // drawn before the write lock is taken
        let rows: Vec<prep_db::PreparedPaper> = chunk
            .iter()
            .map(|&user_id| {
                let (seed, paper, max_centi) = draw_fresh(&pool);
                prep_db::PreparedPaper { sitting_id: s.id, user_id, seed, paper, max_centi, pool_hash: hash.clone(), prepared_at: now }
            })
            .collect();
        let stored = write_tx(conn, |c| -> AppResult<Option<usize>> {
            // the pool was frozen again meanwhile: these papers are of no use (a start would not
            // take them anyway, their hash no longer matching)
            match exam_db::find_sitting(c, s.id)? {
                Some(now_s) if now_s.pool_hash == hash => {}
                _ => return Ok(None),
            }
            let n = prep_db::insert_many(c, &rows)?;
            // a candidate who started while these were drawn keeps the paper they started with
            prep_db::delete_started(c, s.id)?;
            Ok(Some(n))
        })?;
        match stored {
            Some(n) => drawn += n,
            None => break,
        }
    }
    Ok(drawn)
}

/// Prepares `user_id`'s paper for the sitting drawn with `seed`, for a history that must come
/// out the same on every fresh database (the demo's past sittings): which papers drew which
/// question then decides what the demo's calibration shows, and its journeys check that.
pub fn prepare_seeded(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId, seed: u64, now: Ts) -> AppResult<()> {
    let s = exam_db::find_sitting(conn, sitting_id)?.ok_or_else(|| AppError::not_found(format!("no sitting {sitting_id}")))?;
    let hash = known_hash(conn, &s)?;
    let s = exam_db::Sitting { pool_hash: hash.clone(), ..s };
    let pool = parsed_pool(&s)?;
    // stored as a non-negative BIGINT and re-drawn as u64 by the paper audit
    let seed = seed & i64::MAX as u64;
    let p = paper::draw(&pool, seed);
    let row = prep_db::PreparedPaper {
        sitting_id,
        user_id,
        seed: seed as i64,
        paper: serde_json::to_string(&p).expect("json"),
        max_centi: p.max_centi(),
        pool_hash: hash,
        prepared_at: now,
    };
    // replaces a paper scheduling may have prepared already
    write_tx(conn, |c| {
        prep_db::delete(c, sitting_id, user_id)?;
        prep_db::insert_many(c, &[row])
    })?;
    Ok(())
}

/// Prepares papers for a sitting just scheduled. A failure is reported and leaves the
/// sitting as it is: its candidates' papers are then drawn at the start (or by the sweep).
pub fn after_scheduling(conn: &mut DbConn, sitting_id: SittingId, now: Ts) -> usize {
    match prepare_sitting(conn, sitting_id, now) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("preparing the papers of sitting {sitting_id}: {}", e.message);
            0
        }
    }
}

/// The dated sweep's part: papers for candidates added to the list of every sitting opening
/// within [`AHEAD_MINUTES`], and the unused papers of closed sittings removed. Returns how many
/// papers were drawn.
pub fn prepare_due(conn: &mut DbConn, now: Ts) -> AppResult<usize> {
    let mut n = 0;
    for id in exam_db::sittings_opening_between(conn, now, now + chrono::Duration::minutes(AHEAD_MINUTES))? {
        n += prepare_sitting(conn, id, now)?;
    }
    write_tx(conn, |c| prep_db::delete_closed(c, now))?;
    Ok(n)
}
