//! Times on the wire: stored as UTC without zone, sent as RFC 3339 with `Z`. Input accepts
//! RFC 3339 with any offset, or a zone-less time taken as UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serializer};

/// The bureau's UTC offset (China Standard Time, no daylight saving).
pub const BUREAU_UTC_OFFSET_HOURS: i64 = 8;

/// The calendar date in the bureau at a stored UTC time: rules that take effect "on a date"
/// (an edition coming into force, an expiry) use it.
pub fn bureau_date(t: NaiveDateTime) -> chrono::NaiveDate {
    (t + chrono::Duration::hours(BUREAU_UTC_OFFSET_HOURS)).date()
}

pub fn to_string(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse(s: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.naive_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok())
        .or_else(|| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok())
}

pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_string(t))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a time (use RFC 3339, e.g. 2026-03-01T01:00:00Z)")))
}

/// The same for optional times.
pub mod option {
    use super::*;
    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&to_string(t)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_converts_offsets_to_utc() {
        let t = parse("2026-03-01T09:00:00+08:00").unwrap();
        assert_eq!(to_string(&t), "2026-03-01T01:00:00.000Z");
        assert_eq!(parse("2026-03-01T01:00:00").unwrap(), t);
        assert!(parse("tomorrow").is_none());
    }
}
