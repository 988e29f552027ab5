//! Leases: work that one app server at a time does (`services::operations::lead`).

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::leases;
use crate::db::DbConn;

/// Takes or renews the lease `name` for `holder` until `until`: true when `holder` holds it now.
/// Of several servers asking at once exactly one gets it (one insert, or one conditional
/// update of the row: the others find it held and not expired).
pub fn acquire(conn: &mut DbConn, name: &str, holder: &str, now: Ts, until: Ts) -> QueryResult<bool> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(leases::table)
        .values((leases::name.eq(name), leases::holder.eq(holder), leases::expires_at.eq(until)))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(true);
    }
    let n = diesel::update(leases::table.find(name).filter(leases::holder.eq(holder).or(leases::expires_at.le(now))))
        .set((leases::holder.eq(holder), leases::expires_at.eq(until)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Who holds the lease and until when.
pub fn holder(conn: &mut DbConn, name: &str) -> QueryResult<Option<(String, Ts)>> {
    leases::table.find(name).select((leases::holder, leases::expires_at)).first(conn).optional()
}
