//! Exporting the bank to trainers' formats: every question in use or in review (not retired, not
//! an incomplete draft), in the version papers use (the live one, or the latest while none is
//! live). Filtered by
//! statute, a case group is exported whole when any of its items cites that statute.

use std::collections::HashMap;

use crate::db::models::bank as bank_db;
use crate::db::DbConn;
use crate::domain::formats::{self, CaseRef, ExportItem, Format};
use crate::domain::ids::{CaseId, VersionId};
use crate::error::{AppError, AppResult};

pub fn export(conn: &mut DbConn, format: Format, statute: Option<&str>) -> AppResult<Vec<u8>> {
    // an incomplete draft (no citation or explanation yet) is not in review, and would not
    // import back from every format: it stays out until a trainer completes it
    let all: Vec<_> = bank_db::current_versions(conn)?.into_iter().filter(|(_, v)| v.missing_for_review().is_empty()).collect();
    // a case group travels whole: it is exported when any of its items cites the statute
    let cases_hit: std::collections::HashSet<CaseId> = all
        .iter()
        .filter(|(q, v)| q.case_id.is_some() && statute.is_none_or(|s| v.statute_code == s))
        .filter_map(|(q, _)| q.case_id)
        .collect();
    let rows: Vec<_> = all
        .into_iter()
        .filter(|(q, v)| statute.is_none_or(|s| v.statute_code == s) || q.case_id.is_some_and(|c| cases_hit.contains(&c)))
        .collect();
    let ids: Vec<VersionId> = rows.iter().map(|(_, v)| v.id).collect();
    let keys: HashMap<VersionId, String> = bank_db::keys_by_ids(conn, &ids)?.into_iter().collect();
    let mut cases = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for (q, v) in rows {
        let case = match q.case_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(e) = cases.entry(id) {
                    e.insert(bank_db::find_case(conn, id)?);
                }
                cases[&id].as_ref().map(|c| CaseRef {
                    code: c.code.clone(),
                    title: c.title.clone(),
                    text: c.body.clone(),
                    position: q.case_position,
                })
            }
            None => None,
        };
        let kind = q.kind;
        items.push(ExportItem { code: q.code.clone(), content: v.content(kind, keys.get(&v.id).cloned().unwrap_or_default()), case });
    }
    let registry = bank_db::registry(conn)?;
    formats::export(format, &items, &registry).map_err(|e| AppError::internal(format!("export: {e}")))
}
