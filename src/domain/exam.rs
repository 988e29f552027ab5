//! Sittings and attempts: windows, deadlines, who may sit, when results are released.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::domain::ids::UnitId;

/// What a sitting is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SittingKind {
    Mock,
    Bimonthly,
    Certification,
    Remedial,
}

impl SittingKind {
    pub const ALL: [SittingKind; 4] = [SittingKind::Mock, SittingKind::Bimonthly, SittingKind::Certification, SittingKind::Remedial];
    pub fn as_str(self) -> &'static str {
        match self {
            SittingKind::Mock => "mock",
            SittingKind::Bimonthly => "bimonthly",
            SittingKind::Certification => "certification",
            SittingKind::Remedial => "remedial",
        }
    }
    pub fn parse(s: &str) -> Option<SittingKind> {
        SittingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl SittingKind {
    /// Separation of duties: a user who can read the bank's keys (a trainer) may not sit this
    /// kind of sitting without an exception recorded for it. Mock exams are practice.
    pub fn barred_to_key_readers(self) -> bool {
        !matches!(self, SittingKind::Mock)
    }
}

/// Where a sitting is in its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SittingState {
    Scheduled,
    Open,
    Closed,
}

impl SittingState {
    pub fn at(now: NaiveDateTime, opens_at: NaiveDateTime, closes_at: NaiveDateTime) -> SittingState {
        if now < opens_at {
            SittingState::Scheduled
        } else if now < closes_at {
            SittingState::Open
        } else {
            SittingState::Closed
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SittingState::Scheduled => "scheduled",
            SittingState::Open => "open",
            SittingState::Closed => "closed",
        }
    }
}

/// The deadline of an attempt started at `started_at`: its duration, but never past the
/// sitting's close.
pub fn attempt_deadline(started_at: NaiveDateTime, duration_minutes: i32, closes_at: NaiveDateTime) -> NaiveDateTime {
    (started_at + Duration::minutes(duration_minutes as i64)).min(closes_at)
}

/// Until when a candidate may challenge a question (复核): `days` after the sitting closes.
pub fn challenge_deadline(closes_at: NaiveDateTime, days: i32) -> NaiveDateTime {
    closes_at + chrono::Duration::days(days.max(0) as i64)
}

/// A candidate may challenge once they have submitted and can see the keys, until the deadline.
pub fn may_challenge(now: NaiveDateTime, submitted: bool, answers_visible: bool, closes_at: NaiveDateTime, days: i32) -> bool {
    submitted && answers_visible && now < challenge_deadline(closes_at, days)
}

/// Whether answers may still be saved: not submitted and strictly before the deadline.
pub fn accepts_answers(now: NaiveDateTime, deadline: NaiveDateTime, submitted: bool) -> bool {
    !submitted && now < deadline
}

/// How an attempt was handed in: by the candidate, by the server at the deadline, or by the
/// server at the room's limit of focus events. Stored as `attempts.submit_kind`, null while the
/// attempt is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitKind {
    Manual,
    Auto,
    Forced,
}

impl SubmitKind {
    pub const ALL: [SubmitKind; 3] = [SubmitKind::Manual, SubmitKind::Auto, SubmitKind::Forced];
    pub fn as_str(self) -> &'static str {
        match self {
            SubmitKind::Manual => "manual",
            SubmitKind::Auto => "auto",
            SubmitKind::Forced => "forced",
        }
    }
    pub fn parse(s: &str) -> Option<SubmitKind> {
        SubmitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// When candidates see their score, or the answers and explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// As soon as the attempt is submitted.
    OnSubmit,
    /// Once the sitting's window has closed.
    AfterClose,
    /// Never (trainers still see everything).
    Never,
}

impl Release {
    pub const ALL: [Release; 3] = [Release::OnSubmit, Release::AfterClose, Release::Never];
    pub fn as_str(self) -> &'static str {
        match self {
            Release::OnSubmit => "on_submit",
            Release::AfterClose => "after_close",
            Release::Never => "never",
        }
    }
    pub fn parse(s: &str) -> Option<Release> {
        Release::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// Whether a candidate may see it now.
    pub fn allows(self, now: NaiveDateTime, submitted: bool, closes_at: NaiveDateTime) -> bool {
        match self {
            Release::OnSubmit => submitted,
            Release::AfterClose => now >= closes_at,
            Release::Never => false,
        }
    }
}

/// Who may sit a sitting. Empty lists mean "no restriction of that kind"; all empty means every
/// officer. The lists combine: an officer must pass each list that is not empty, or be named in
/// `badges`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Eligibility {
    /// Units (each includes its sub-units).
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub units: Vec<UnitId>,
    /// 警种.
    #[serde(default)]
    pub police_types: Vec<String>,
    /// Named officers (警号), admitted whatever the other lists say.
    #[serde(default)]
    pub badges: Vec<String>,
}

impl Eligibility {
    /// `unit_path` is the officer's unit followed by its ancestors.
    pub fn admits(&self, badge: &str, unit_path: &[UnitId], police_type: &str) -> bool {
        if self.badges.iter().any(|b| b == badge) {
            return true;
        }
        if self.units.is_empty() && self.police_types.is_empty() {
            return self.badges.is_empty();
        }
        let unit_ok = self.units.is_empty() || unit_path.iter().any(|u| self.units.contains(u));
        let type_ok = self.police_types.is_empty() || self.police_types.iter().any(|t| t == police_type);
        unit_ok && type_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_close_some_days_after_the_sitting() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let closes = t("2026-03-01 10:00");
        assert!(may_challenge(t("2026-03-08 09:59"), true, true, closes, 7));
        assert!(!may_challenge(t("2026-03-08 10:00"), true, true, closes, 7), "the window is closed at its end");
        assert!(!may_challenge(t("2026-03-02 10:00"), false, true, closes, 7), "not before submitting");
        assert!(!may_challenge(t("2026-03-02 10:00"), true, false, closes, 7), "not without seeing the key");
    }
    use chrono::NaiveDate;

    fn t(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn deadline_is_duration_capped_by_close() {
        assert_eq!(attempt_deadline(t(9, 0), 30, t(12, 0)), t(9, 30));
        assert_eq!(attempt_deadline(t(11, 50), 30, t(12, 0)), t(12, 0));
    }

    #[test]
    fn answers_accepted_strictly_before_deadline_and_not_after_submit() {
        assert!(accepts_answers(t(9, 29), t(9, 30), false));
        assert!(!accepts_answers(t(9, 30), t(9, 30), false));
        assert!(!accepts_answers(t(9, 0), t(9, 30), true));
    }

    #[test]
    fn sitting_state_follows_window() {
        assert_eq!(SittingState::at(t(8, 59), t(9, 0), t(10, 0)), SittingState::Scheduled);
        assert_eq!(SittingState::at(t(9, 0), t(9, 0), t(10, 0)), SittingState::Open);
        assert_eq!(SittingState::at(t(10, 0), t(9, 0), t(10, 0)), SittingState::Closed);
    }

    #[test]
    fn release_policies() {
        let close = t(12, 0);
        assert!(Release::OnSubmit.allows(t(10, 0), true, close));
        assert!(!Release::OnSubmit.allows(t(10, 0), false, close));
        assert!(!Release::AfterClose.allows(t(10, 0), true, close));
        assert!(Release::AfterClose.allows(t(12, 0), false, close));
        assert!(!Release::Never.allows(t(13, 0), true, close));
    }

    #[test]
    fn eligibility_by_unit_tree_type_and_list() {
        let units = |ids: &[i64]| ids.iter().copied().map(UnitId).collect::<Vec<_>>();
        let everyone = Eligibility::default();
        assert!(everyone.admits("1", &units(&[5, 1]), "刑侦"));
        let e = Eligibility { units: vec![UnitId(2)], police_types: vec!["交警".into()], badges: vec!["9".into()] };
        assert!(e.admits("1", &units(&[7, 2, 1]), "交警"), "sub-unit of 2");
        assert!(!e.admits("1", &units(&[7, 2, 1]), "刑侦"), "wrong 警种");
        assert!(!e.admits("1", &units(&[3, 1]), "交警"), "other branch");
        assert!(e.admits("9", &units(&[3, 1]), "刑侦"), "named");
        let only_list = Eligibility { badges: vec!["9".into()], ..Default::default() };
        assert!(!only_list.admits("1", &units(&[1]), "刑侦"));
    }
}
