//! Uploaded bank files between preview and commit.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::bank_imports;
use crate::db::DbConn;
use crate::domain::ids::{ImportId, UserId};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = bank_imports)]
pub struct BankImport {
    pub id: ImportId,
    pub user_id: UserId,
    pub file_name: String,
    pub format: String,
    pub file_hash: String,
    /// The upload itself, re-read at commit so the commit is checked against the bank as it is
    /// then, not as it was at preview.
    pub data: Vec<u8>,
    /// The import form's defaults (`formats::Defaults` as JSON).
    pub defaults: String,
    pub created_at: Ts,
    pub committed_at: Option<Ts>,
    pub report: Option<String>,
}

pub struct NewImport<'a> {
    pub user_id: UserId,
    pub file_name: &'a str,
    pub format: &'a str,
    pub file_hash: &'a str,
    pub data: &'a [u8],
    pub defaults: &'a str,
}

pub fn insert(conn: &mut DbConn, new: &NewImport<'_>, now: Ts) -> QueryResult<ImportId> {
    diesel::insert_into(bank_imports::table)
        .values((
            bank_imports::user_id.eq(new.user_id),
            bank_imports::file_name.eq(new.file_name),
            bank_imports::format.eq(new.format),
            bank_imports::file_hash.eq(new.file_hash),
            bank_imports::data.eq(new.data),
            bank_imports::defaults.eq(new.defaults),
            bank_imports::created_at.eq(now),
        ))
        .returning(bank_imports::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: ImportId) -> QueryResult<Option<BankImport>> {
    bank_imports::table.find(id).select(BankImport::as_select()).get_result(conn).optional()
}

/// Marks an import committed, once: false if it already was. Called first in the commit's
/// transaction, so a second commit of the same import waits for the first and then finds it done.
pub fn claim_for_commit(conn: &mut DbConn, id: ImportId, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(bank_imports::table.find(id).filter(bank_imports::committed_at.is_null()))
        .set(bank_imports::committed_at.eq(Some(now)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_report(conn: &mut DbConn, id: ImportId, report: &str) -> QueryResult<()> {
    diesel::update(bank_imports::table.find(id)).set(bank_imports::report.eq(Some(report))).execute(conn).map(|_| ())
}
