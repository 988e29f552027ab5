//! Diesel models, one file per aggregate. Functions take the connection first and return
//! `QueryResult`; multi-row writes are done by callers inside `db::write_tx`.

pub mod audit;
pub mod bank;
pub mod calibration;
pub mod cert;
pub mod challenge;
pub mod exam;
pub mod exposure;
pub mod hr;
pub mod imports;
pub mod jobs;
pub mod leases;
pub mod mail;
pub mod org;
pub mod plans;
pub mod prepared;
pub mod room;
pub mod session;
pub mod standards;
pub mod stats;
pub mod throttle;
pub mod training;

use chrono::NaiveDateTime;

/// Timestamps are stored as UTC without zone.
pub type Ts = NaiveDateTime;

/// A nullable column of stored words, read as `Option` of the domain's enum: Diesel's
/// `deserialize_as` needs a type of its own to convert from, as `Option<String>` cannot be
/// given a conversion into `Option<Enum>` here. `#[diesel(deserialize_as = MaybeWord)]` on an
/// `Option<Enum>` field whose enum reads from `String` (`domain::stored_text`).
pub struct MaybeWord(pub Option<String>);

impl<DB> diesel::deserialize::Queryable<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB> for MaybeWord
where
    DB: diesel::backend::Backend,
    Option<String>: diesel::deserialize::FromSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    type Row = Option<String>;
    fn build(row: Option<String>) -> diesel::deserialize::Result<Self> {
        Ok(MaybeWord(row))
    }
}

impl<T> TryFrom<MaybeWord> for Option<T>
where
    T: TryFrom<String, Error = crate::domain::stored_text::UnknownWord>,
{
    type Error = crate::domain::stored_text::UnknownWord;
    fn try_from(w: MaybeWord) -> Result<Self, Self::Error> {
        w.0.map(T::try_from).transpose()
    }
}
