//! Times on the wire: stored as UTC without zone, sent as RFC 3339 with `Z`. Input accepts
//! RFC 3339 with any offset, or a zone-less time taken as UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serializer};

/// The bureau's UTC offset in minutes: China Standard Time (+08:00, no daylight saving) unless
/// `LAWCERT_UTC_OFFSET` says otherwise (set once at start).
static BUREAU_OFFSET_MINUTES: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(8 * 60);

pub fn set_bureau_offset_minutes(m: i32) {
    BUREAU_OFFSET_MINUTES.store(m, std::sync::atomic::Ordering::Relaxed);
}

pub fn bureau_offset() -> chrono::Duration {
    chrono::Duration::minutes(BUREAU_OFFSET_MINUTES.load(std::sync::atomic::Ordering::Relaxed).into())
}

/// Parses "+08:00", "-05:30", "+8" into minutes east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, rest) = match s.chars().next()? {
        '+' => (1, &s[1..]),
        '-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None => (rest.parse::<i32>().ok()?, 0),
    };
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 60 + m))
}

/// The calendar date in the bureau at a stored UTC time: rules that take effect "on a date"
/// (an edition coming into force, an expiry) use it.
pub fn bureau_date(t: NaiveDateTime) -> chrono::NaiveDate {
    (t + bureau_offset()).date()
}

/// The last minute of a bureau calendar day (23:59 bureau time), as a stored UTC time: a
/// deadline given as a date.
pub fn bureau_day_end(day: chrono::NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(23, 59, 0).expect("valid time") - bureau_offset()
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

#[cfg(test)]
mod locale_tests {
    use super::*;

    #[test]
    fn dates_are_written_per_locale() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(date_in("zh", d), "2026年12月3日");
        assert_eq!(date_in("en", d), "3 Dec 2026");
        assert_eq!(localize("en", "2026-12-03 09:05").as_deref(), Some("3 Dec 2026 09:05"));
        assert_eq!(localize("zh", "2026-01-09").as_deref(), Some("2026年1月9日"));
        // stored UTC in RFC 3339 is shown in the bureau's time (+08:00 by default)
        assert_eq!(localize("zh", "2026-12-02T17:30:00.000Z").as_deref(), Some("2026年12月3日 01:30"));
        assert_eq!(localize("en", "第二章"), None);
        assert_eq!(localize("en", "2026-13-40"), None);
    }
}

#[cfg(test)]
mod offset_tests {
    #[test]
    fn offsets_parse_and_refuse_nonsense() {
        assert_eq!(super::parse_offset("+08:00"), Some(480));
        assert_eq!(super::parse_offset("8"), Some(480));
        assert_eq!(super::parse_offset("-05:30"), Some(-330));
        assert_eq!(super::parse_offset("+15:00"), None);
        assert_eq!(super::parse_offset("Asia/Shanghai"), None);
        assert_eq!(super::parse_offset("+08:60"), None);
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A calendar date as a reader of `lang` writes it: 2026年12月3日 / 3 Dec 2026.
pub fn date_in(lang: &str, d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if lang == "en" {
        format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
    } else {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }
}

/// A bureau wall-clock time (already in the bureau's zone) as a reader of `lang` writes it:
/// 2026年12月3日 09:00 / 3 Dec 2026 09:00.
pub fn datetime_in(lang: &str, t: NaiveDateTime) -> String {
    format!("{} {}", date_in(lang, t.date()), t.format("%H:%M"))
}

/// A date or time as the server writes it for display — `2026-12-03`, `2026-12-03 09:00`
/// (bureau time, as [`local`] gives it) or RFC 3339 (stored UTC, shown in the bureau's time) —
/// in the reader's language; None when `s` is none of these (then it is shown as it is).
pub fn localize(lang: &str, s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() == 10 {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| date_in(lang, d));
    }
    if s.len() == 16 && s.as_bytes()[10] == b' ' {
        return NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").ok().map(|t| datetime_in(lang, t));
    }
    if s.len() >= 20 && s.as_bytes()[10] == b'T' {
        return DateTime::parse_from_rfc3339(s).ok().map(|d| datetime_in(lang, d.naive_utc() + bureau_offset()));
    }
    None
}

/// Shows a stored UTC time in the bureau's time, to the minute (pages, e-mails, files).
pub fn local(t: NaiveDateTime) -> String {
    (t + bureau_offset()).format("%Y-%m-%d %H:%M").to_string()
}
