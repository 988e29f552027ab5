//! Statements Diesel would prepare anew on every run, kept prepared.
//!
//! Diesel never caches an UPDATE or an upsert (`ON CONFLICT … DO UPDATE`) in a connection's
//! statement cache, because in general their SET clause varies with the values (a changeset
//! struct leaves out its `None` fields). SQLite then parses and plans the statement on every
//! run, and PostgreSQL gets an unnamed statement to parse and plan: on the answer-save path that
//! was about a sixth of the server's CPU (BENCHMARKS.md, "where the time goes").
//!
//! `Reusable(query)` declares that the query's SQL text is fixed by its Rust type, so the
//! statement cache may keep it. Use it only for statements built from fixed tuples of `.eq()`
//! (never from an `AsChangeset` struct with `Option` fields, whose SQL varies by value).
//! Overriding `is_safe_to_cache_prepared` needs Diesel's feature
//! `i-implement-a-third-party-backend-and-opt-into-breaking-changes`: the method is exempt from
//! semver, so a Diesel upgrade may need this file touched (the compiler will say so).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

/// A statement whose SQL is the same every time it runs: cached like a SELECT.
#[derive(Debug, Clone, Copy)]
pub struct Reusable<Q>(pub Q);

impl<Q: QueryId> QueryId for Reusable<Q> {
    type QueryId = Reusable<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<DB: Backend, Q: QueryFragment<DB>> QueryFragment<DB> for Reusable<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Reusable<Q> {}
