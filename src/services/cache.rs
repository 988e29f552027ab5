//! In-memory caches the exam path reads on every save: what never changes about a started
//! attempt, and question versions (a version never changes once written).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::db::models::bank as bank_db;
use crate::db::DbConn;
use crate::domain::bank::QuestionKind;
use crate::domain::ids::{AttemptId, CaseId, SittingId, UserId, VersionId};

/// What never changes about an attempt once started: whose it is and which questions are on
/// its paper. Saves check these from memory; deadline and submission are checked in SQL.
#[derive(Debug)]
pub struct AttemptMeta {
    pub user_id: UserId,
    pub sitting_id: SittingId,
    pub questions: std::collections::HashSet<VersionId>,
    /// The sitting's room controls, so every save checks the network from memory.
    pub room: crate::domain::exam_room::RoomControls,
}

#[derive(Default)]
pub struct AttemptCache {
    map: RwLock<HashMap<AttemptId, Arc<AttemptMeta>>>,
}

impl AttemptCache {
    pub fn get(&self, id: AttemptId) -> Option<Arc<AttemptMeta>> {
        self.map.read().expect("attempt cache").get(&id).cloned()
    }
    pub fn put(&self, id: AttemptId, meta: AttemptMeta) -> Arc<AttemptMeta> {
        let meta = Arc::new(meta);
        let mut map = self.map.write().expect("attempt cache");
        if map.len() > 500_000 {
            map.clear();
        }
        map.insert(id, meta.clone());
        meta
    }
}

/// A question version as a candidate may see it (no key, no explanation) plus what grading
/// needs. Versions never change once written, so entries never go stale.
#[derive(Clone, Debug)]
pub struct CachedVersion {
    pub id: VersionId,
    pub question_code: String,
    pub kind: QuestionKind,
    pub case_id: Option<CaseId>,
    pub stem: String,
    pub options: Vec<String>,
    pub statute: String,
    pub articles: Vec<String>,
    pub explanation: String,
    /// The answer key: used for grading and released reviews only, never in a live paper.
    pub key: String,
}

impl CachedVersion {
    /// Option ids in authored order (see [`crate::domain::bank::option_ids`]).
    pub fn option_ids(&self) -> Vec<char> {
        crate::domain::bank::option_ids(self.kind, self.options.len())
    }
}

#[derive(Default)]
pub struct VersionCache {
    map: RwLock<HashMap<VersionId, Arc<CachedVersion>>>,
    cases: RwLock<HashMap<CaseId, Arc<(String, String)>>>,
}

impl VersionCache {
    /// Returns the versions by id, loading any that are missing.
    pub fn get_many(&self, conn: &mut DbConn, ids: &[VersionId]) -> diesel::QueryResult<HashMap<VersionId, Arc<CachedVersion>>> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let map = self.map.read().expect("cache lock");
            for id in ids {
                match map.get(id) {
                    Some(v) => {
                        out.insert(*id, v.clone());
                    }
                    None => missing.push(*id),
                }
            }
        }
        if !missing.is_empty() {
            let rows = bank_db::versions_by_ids(conn, &missing)?;
            let keys: HashMap<VersionId, String> = bank_db::keys_by_ids(conn, &missing)?.into_iter().collect();
            let mut map = self.map.write().expect("cache lock");
            for (v, q) in rows {
                let cached = Arc::new(CachedVersion {
                    id: v.id,
                    question_code: q.code.clone(),
                    kind: q.kind,
                    case_id: q.case_id,
                    options: v.options_vec(),
                    articles: v.articles_vec(),
                    stem: v.stem,
                    statute: v.statute_code,
                    explanation: v.explanation,
                    key: keys.get(&v.id).cloned().unwrap_or_default(),
                });
                map.insert(v.id, cached.clone());
                out.insert(v.id, cached);
            }
        }
        Ok(out)
    }

    /// One version, if cached.
    pub fn get(&self, id: VersionId) -> Option<Arc<CachedVersion>> {
        self.map.read().expect("cache lock").get(&id).cloned()
    }

    /// Case title and text by case id.
    pub fn case(&self, conn: &mut DbConn, id: CaseId) -> diesel::QueryResult<Arc<(String, String)>> {
        if let Some(c) = self.cases.read().expect("cache lock").get(&id) {
            return Ok(c.clone());
        }
        let c = bank_db::find_case(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        let entry = Arc::new((c.title, c.body));
        self.cases.write().expect("cache lock").insert(id, entry.clone());
        Ok(entry)
    }

    /// Case texts can be edited by a bank reload; forget them then.
    pub fn forget_cases(&self) {
        self.cases.write().expect("cache lock").clear();
    }
}
