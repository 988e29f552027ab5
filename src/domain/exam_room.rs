//! Exam-room controls for closed-book sittings: the access code the proctor announces, the
//! room's network allow-list, and what repeated focus-loss / leave-full-screen events do.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::validation::Problem;

/// Shortest access code: with `MAX_CODE_FAILURES` tries per candidate, guessing one of 31^6
/// codes is hopeless, where a 4-digit code fell in a few hundred guesses.
pub const MIN_CODE_LEN: usize = 6;
/// Wrong codes after which a candidate's start waits for the proctor.
pub const MAX_CODE_FAILURES: i32 = 5;
/// Asking for this code generates one.
pub const AUTO_CODE: &str = "auto";
/// Letters and digits that cannot be misread when announced or copied from a board
/// (no 0/O, 1/I/L, U/V).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZ23456789";

/// A fresh access code of `MIN_CODE_LEN` characters from `CODE_ALPHABET`.
pub fn generate_code(rng: &mut impl rand::Rng) -> String {
    (0..MIN_CODE_LEN).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// What happens when an attempt reaches the sitting's event limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnLimit {
    /// Marked for the proctor; the candidate goes on.
    #[default]
    Flag,
    /// Submitted at once with what was saved.
    Submit,
}

impl OnLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            OnLimit::Flag => "flag",
            OnLimit::Submit => "submit",
        }
    }
    pub fn parse(s: &str) -> Option<OnLimit> {
        match s {
            "flag" => Some(OnLimit::Flag),
            "submit" => Some(OnLimit::Submit),
            _ => None,
        }
    }
}

/// A sitting's room controls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomControls {
    /// Required to start, when set.
    #[serde(default)]
    pub access_code: Option<String>,
    /// Networks starts and saves may come from (CIDR, e.g. "10.20.30.0/24"); empty = anywhere.
    #[serde(default)]
    pub allow_cidrs: Vec<String>,
    /// The exam page asks for full screen and reports leaving it.
    #[serde(default)]
    pub fullscreen: bool,
    /// Focus-loss / leave-full-screen events allowed before `on_limit` applies; 0 = no limit.
    #[serde(default)]
    pub max_events: i32,
    #[serde(default)]
    pub on_limit: OnLimit,
    /// Seconds an automatic submission waits after the limit is reached, so the proctor can
    /// dismiss a false event first; 0 = at once.
    #[serde(default)]
    pub grace_seconds: i32,
}

impl RoomControls {
    /// Checks the settings; returns every problem.
    pub fn validate(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        if let Some(code) = &self.access_code {
            let n = code.chars().count();
            if !(MIN_CODE_LEN..=32).contains(&n) || code.chars().any(char::is_whitespace) {
                errs.push(Problem::with(
                    "access_code",
                    "sitting.access_code",
                    vec![("min", MIN_CODE_LEN.to_string()), ("auto", AUTO_CODE.to_string())],
                    format!("{MIN_CODE_LEN}–32 characters without spaces (or \"{AUTO_CODE}\" to generate one)"),
                ));
            }
        }
        for c in &self.allow_cidrs {
            if c.parse::<IpNet>().is_err() && c.parse::<IpAddr>().is_err() {
                errs.push(Problem::with(
                    "allow_cidrs",
                    "sitting.allow_cidrs",
                    vec![("v", format!("{c:?}"))],
                    format!("{c:?} is not a network such as 10.20.30.0/24 or an address"),
                ));
            }
        }
        if !(0..=1800).contains(&self.grace_seconds) {
            errs.push(Problem::plain("grace_seconds", "sitting.grace_seconds", "0 (at once) to 1800"));
        }
        if !(0..=100).contains(&self.max_events) {
            errs.push(Problem::plain("max_events", "sitting.max_events", "0 (no limit) to 100"));
        }
        errs
    }

    /// Whether `ip` is in the allow-list (an empty list allows every address).
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        if self.allow_cidrs.is_empty() {
            return true;
        }
        let Some(ip) = ip.map(|ip| match ip {
            // an IPv4 client seen through an IPv6 socket
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        }) else {
            return false;
        };
        self.allow_cidrs.iter().any(|c| match c.parse::<IpNet>() {
            Ok(net) => net.contains(&ip),
            Err(_) => c.parse::<IpAddr>().is_ok_and(|a| a == ip),
        })
    }

    /// Whether `given` is the access code (case-insensitive, in constant time over its bytes).
    pub fn code_ok(&self, given: Option<&str>) -> bool {
        let Some(expected) = &self.access_code else { return true };
        let Some(given) = given else { return false };
        let (a, b) = (expected.trim().to_uppercase(), given.trim().to_uppercase());
        a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// What the `count`-th event does.
    pub fn after_event(&self, count: i64) -> Option<OnLimit> {
        (self.max_events > 0 && count >= self.max_events as i64).then_some(self.on_limit)
    }
}

/// Focus events that count toward the limit: those reported minus those a proctor dismissed.
pub fn counted_events(reported: i64, dismissed: i64) -> i64 {
    (reported - dismissed).max(0)
}

/// What an attempt event records (`attempt_events.kind`, stored as the word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The exam page lost focus (reported by the page).
    FocusLoss,
    /// The candidate left full screen (reported by the page).
    FullscreenExit,
    /// The attempt reached the room's limit and was flagged for the proctor.
    Flagged,
    /// A proctor gave the attempt extra time.
    ExtraTime,
    /// A proctor re-opened a submitted attempt.
    Reopened,
    /// A proctor dismissed a false focus event (the detail names it).
    Dismissed,
    /// An automatic submission waiting out the sitting's grace period.
    #[serde(rename = "auto_submit_pending")]
    SubmitPending,
    /// That automatic submission, called off.
    #[serde(rename = "auto_submit_cancelled")]
    SubmitCancelled,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::FocusLoss,
        EventKind::FullscreenExit,
        EventKind::Flagged,
        EventKind::ExtraTime,
        EventKind::Reopened,
        EventKind::Dismissed,
        EventKind::SubmitPending,
        EventKind::SubmitCancelled,
    ];
    /// The kinds the exam page reports, which count toward the room's limit.
    pub const REPORTED: [EventKind; 2] = [EventKind::FocusLoss, EventKind::FullscreenExit];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FocusLoss => "focus_loss",
            EventKind::FullscreenExit => "fullscreen_exit",
            EventKind::Flagged => "flagged",
            EventKind::ExtraTime => "extra_time",
            EventKind::Reopened => "reopened",
            EventKind::Dismissed => "dismissed",
            EventKind::SubmitPending => "auto_submit_pending",
            EventKind::SubmitCancelled => "auto_submit_cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// A kind the exam page may report (`focus_loss`, `fullscreen_exit`); None for any other word.
    pub fn reported(s: &str) -> Option<EventKind> {
        EventKind::parse(s).filter(|k| EventKind::REPORTED.contains(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_admits_only_the_room() {
        let c = RoomControls { allow_cidrs: vec!["10.20.30.0/24".into(), "192.168.1.7".into()], ..Default::default() };
        assert!(c.allows(Some("10.20.30.99".parse().unwrap())));
        assert!(c.allows(Some("192.168.1.7".parse().unwrap())));
        assert!(c.allows(Some("::ffff:10.20.30.5".parse().unwrap())), "IPv4-mapped");
        assert!(!c.allows(Some("10.20.31.1".parse().unwrap())));
        assert!(!c.allows(None), "unknown address is refused when there is a list");
        assert!(RoomControls::default().allows(None));
    }

    #[test]
    fn the_access_code_is_required_when_set() {
        let c = RoomControls { access_code: Some("K7Q2XM".into()), ..Default::default() };
        assert!(c.code_ok(Some("k7q2xm ")));
        assert!(!c.code_ok(Some("K7Q2X")));
        assert!(!c.code_ok(None));
        assert!(RoomControls::default().code_ok(None));
    }

    #[test]
    fn events_flag_or_submit_at_the_limit() {
        let c = RoomControls { max_events: 3, on_limit: OnLimit::Submit, ..Default::default() };
        assert_eq!(c.after_event(2), None);
        assert_eq!(c.after_event(3), Some(OnLimit::Submit));
        assert_eq!(RoomControls::default().after_event(100), None, "no limit");
    }

    #[test]
    fn generated_codes_are_long_enough_and_unambiguous() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let code = generate_code(&mut rng);
            assert_eq!(code.len(), MIN_CODE_LEN);
            assert!(code.chars().all(|c| !"0O1IL".contains(c)), "{code}");
            let c = RoomControls { access_code: Some(code), ..Default::default() };
            assert!(c.validate().is_empty());
        }
        let short = RoomControls { access_code: Some("4821".into()), ..Default::default() };
        assert!(short.validate()[0].line().contains("access_code"), "a 4-character code is refused");
    }

    #[test]
    fn settings_are_checked() {
        let c = RoomControls {
            access_code: Some("a b".into()),
            allow_cidrs: vec!["10.0.0.0/33".into()],
            max_events: 101,
            ..Default::default()
        };
        assert_eq!(c.validate().len(), 3);
    }
}
