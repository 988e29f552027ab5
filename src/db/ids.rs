//! Storage of the typed ids (`domain::ids`): each is a `BIGINT`, written and read as its
//! integer on SQLite, PostgreSQL and the `DbConn` multi-backend alike. These are by hand what
//! `#[derive(AsExpression, FromSqlRow)]` would generate, because `domain` names no Diesel.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable};

macro_rules! diesel_id {
    ($name:ident) => {
        impl<DB: Backend> ToSql<BigInt, DB> for $crate::domain::ids::$name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <i64 as ToSql<BigInt, DB>>::to_sql(&self.0, out)
            }
        }

        impl<DB: Backend> ToSql<Nullable<BigInt>, DB> for $crate::domain::ids::$name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <i64 as ToSql<BigInt, DB>>::to_sql(&self.0, out)
            }
        }

        impl<DB: Backend> FromSql<BigInt, DB> for $crate::domain::ids::$name
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, DB>>::from_sql(bytes).map(Self)
            }
        }

        impl<DB, ST> diesel::deserialize::Queryable<ST, DB> for $crate::domain::ids::$name
        where
            DB: Backend,
            ST: diesel::sql_types::SingleValue,
            Self: FromSql<ST, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        diesel_id!(@expr $name, BigInt);
        diesel_id!(@expr $name, Nullable<BigInt>);
    };
    (@expr $name:ident, $st:ty) => {
        impl diesel::expression::AsExpression<$st> for $crate::domain::ids::$name {
            type Expression = diesel::internal::derives::as_expression::Bound<$st, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a> diesel::expression::AsExpression<$st> for &'a $crate::domain::ids::$name {
            type Expression = diesel::internal::derives::as_expression::Bound<$st, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a, 'b> diesel::expression::AsExpression<$st> for &'a &'b $crate::domain::ids::$name {
            type Expression = diesel::internal::derives::as_expression::Bound<$st, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }
    };
}

crate::for_each_id!(diesel_id);

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::db::DbConn;
    use crate::domain::ids::{SittingId, UnitId, UserId};

    diesel::table! {
        id_trip (id) {
            id -> BigInt,
            unit_id -> Nullable<BigInt>,
            sitting_id -> BigInt,
        }
    }

    #[derive(Queryable, Selectable, Insertable, Debug, PartialEq)]
    #[diesel(table_name = id_trip)]
    struct Row {
        id: UserId,
        unit_id: Option<UnitId>,
        sitting_id: SittingId,
    }

    /// Writes ids through the DSL (a struct, single values, a list), reads them back as typed
    /// values and as bare integers, on the connection given.
    fn round_trip(conn: &mut DbConn) {
        conn.batch_execute("CREATE TEMPORARY TABLE id_trip (id BIGINT PRIMARY KEY, unit_id BIGINT, sitting_id BIGINT NOT NULL)").unwrap();
        let big = UserId(i64::MAX - 1);
        diesel::insert_into(id_trip::table)
            .values(&Row { id: UserId(7), unit_id: Some(UnitId(3)), sitting_id: SittingId(11) })
            .execute(conn)
            .unwrap();
        diesel::insert_into(id_trip::table)
            .values((id_trip::id.eq(big), id_trip::unit_id.eq(None::<UnitId>), id_trip::sitting_id.eq(SittingId(-2))))
            .execute(conn)
            .unwrap();

        let rows: Vec<Row> = id_trip::table.order(id_trip::id).select(Row::as_select()).load(conn).unwrap();
        assert_eq!(
            rows,
            vec![
                Row { id: UserId(7), unit_id: Some(UnitId(3)), sitting_id: SittingId(11) },
                Row { id: big, unit_id: None, sitting_id: SittingId(-2) },
            ]
        );
        let found: Vec<UserId> = id_trip::table
            .filter(id_trip::id.eq_any([UserId(7), big]))
            .filter(id_trip::unit_id.eq(UnitId(3)))
            .select(id_trip::id)
            .load(conn)
            .unwrap();
        assert_eq!(found, vec![UserId(7)]);
        let raw: (i64, Option<i64>, i64) =
            id_trip::table.filter(id_trip::id.eq(&big)).select((id_trip::id, id_trip::unit_id, id_trip::sitting_id)).first(conn).unwrap();
        assert_eq!(raw, (i64::MAX - 1, None, -2));
        #[derive(QueryableByName)]
        struct ByName {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            sitting_id: SittingId,
        }
        let by_name: ByName = diesel::sql_query("SELECT sitting_id FROM id_trip WHERE id = 7").get_result(conn).unwrap();
        assert_eq!(by_name.sitting_id, SittingId(11));
    }

    /// The same through the backend's own connection type (the impls for `Sqlite` and `Pg`
    /// rather than the multi-backend's), on the table `round_trip` left.
    macro_rules! same_backend {
        ($c:expr) => {{
            diesel::update(id_trip::table.filter(id_trip::id.eq(UserId(7)))).set(id_trip::unit_id.eq(Some(UnitId(4)))).execute($c).unwrap();
            let read: (UserId, Option<UnitId>) =
                id_trip::table.filter(id_trip::sitting_id.eq(&SittingId(11))).select((id_trip::id, id_trip::unit_id)).first($c).unwrap();
            assert_eq!(read, (UserId(7), Some(UnitId(4))));
        }};
    }

    #[test]
    fn ids_round_trip_on_sqlite() {
        let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        round_trip(&mut conn);
        let DbConn::Sqlite(c) = &mut conn else { unreachable!() };
        same_backend!(c);
    }

    /// On the server `LAWCERT_TEST_POSTGRES` names (as the journeys do); a temporary table of
    /// its `postgres` database, gone with the connection. Skipped without the variable.
    #[test]
    fn ids_round_trip_on_postgres() {
        let Some(server) = std::env::var("LAWCERT_TEST_POSTGRES").ok().filter(|s| !s.trim().is_empty()) else {
            eprintln!("LAWCERT_TEST_POSTGRES unset: the PostgreSQL round trip is skipped");
            return;
        };
        let c = diesel::PgConnection::establish(&format!("{}/postgres", server.trim_end_matches('/'))).unwrap();
        let mut conn = DbConn::Pg(c);
        round_trip(&mut conn);
        let DbConn::Pg(c) = &mut conn else { unreachable!() };
        same_backend!(c);
    }
}
