//! Uploaded bank files between preview and commit.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::bank_imports;
use crate::db::DbConn;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = bank_imports)]
pub struct BankImport {
    pub id: i64,
    pub user_id: i64,
    pub file_name: String,
    pub format: String,
    pub file_hash: String,
    /// JSON `{"defaults": …, "data": hex}`: the upload itself, re-read at commit so the commit
    /// is checked against the bank as it is then, not as it was at preview.
    pub parsed: String,
    pub created_at: Ts,
    pub committed_at: Option<Ts>,
    pub report: Option<String>,
}

pub fn insert(conn: &mut DbConn, user_id: i64, file_name: &str, format: &str, file_hash: &str, stored: &str, now: Ts) -> QueryResult<i64> {
    diesel::insert_into(bank_imports::table)
        .values((
            bank_imports::user_id.eq(user_id),
            bank_imports::file_name.eq(file_name),
            bank_imports::format.eq(format),
            bank_imports::file_hash.eq(file_hash),
            bank_imports::parsed.eq(stored),
            bank_imports::created_at.eq(now),
        ))
        .returning(bank_imports::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<BankImport>> {
    bank_imports::table.find(id).select(BankImport::as_select()).first(conn).optional()
}

/// Marks an import committed, once; false if it already was.
pub fn mark_committed(conn: &mut DbConn, id: i64, report: &str, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(bank_imports::table.find(id).filter(bank_imports::committed_at.is_null()))
        .set((bank_imports::committed_at.eq(Some(now)), bank_imports::report.eq(Some(report))))
        .execute(conn)?;
    Ok(n == 1)
}
