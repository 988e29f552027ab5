//! Recurring exam plans (双月考): a sitting every N months for chosen units and 警种, created by
//! the server itself some days ahead of each occurrence.

use chrono::{Months, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::domain::validation::Problem;

/// When a plan's sittings happen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    /// The first occurrence's date; later ones fall on the same day of the month.
    pub first_date: NaiveDate,
    /// 2 for 双月考.
    pub every_months: u32,
    /// Opening time in the bureau's time zone, HH:MM or HH:MM:SS.
    #[schema(value_type = String, pattern = "^([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "09:00")]
    pub opens_at: NaiveTime,
    /// How long the sitting stays open.
    pub window_minutes: i64,
    /// Sittings are created this many days before they open (candidates are notified then).
    pub lead_days: i64,
}

impl Schedule {
    pub fn validate(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        if !(1..=12).contains(&self.every_months) {
            errs.push(Problem::plain("every_months", "plan.every_months", "1–12"));
        }
        if !(10..=7 * 24 * 60).contains(&self.window_minutes) {
            errs.push(Problem::plain("window_minutes", "plan.window_minutes", "10 minutes to 7 days"));
        }
        if !(0..=60).contains(&self.lead_days) {
            errs.push(Problem::plain("lead_days", "plan.lead_days", "0–60"));
        }
        errs
    }

    /// The `n`-th occurrence (0 = the first).
    pub fn occurrence(&self, n: u32) -> Option<NaiveDate> {
        self.first_date.checked_add_months(Months::new(self.every_months.checked_mul(n)?))
    }

    /// The first occurrence on or after `from`.
    pub fn next_on_or_after(&self, from: NaiveDate) -> Option<NaiveDate> {
        (0..2400).filter_map(|n| self.occurrence(n)).find(|d| *d >= from)
    }

    /// The occurrences whose sittings should exist by `today` and do not yet: every occurrence
    /// after `last_created` (exclusive) that opens within `lead_days` of today, and not in the
    /// past (a plan started late does not back-fill missed months).
    pub fn due(&self, last_created: Option<NaiveDate>, today: NaiveDate) -> Vec<NaiveDate> {
        let horizon = today + chrono::Duration::days(self.lead_days);
        (0..2400)
            .map_while(|n| self.occurrence(n))
            .take_while(|d| *d <= horizon)
            .filter(|d| *d >= today && last_created.is_none_or(|l| *d > l))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn every_two_months() -> Schedule {
        Schedule {
            first_date: d("2026-01-15"),
            every_months: 2,
            opens_at: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            window_minutes: 180,
            lead_days: 14,
        }
    }

    #[test]
    fn occurrences_every_two_months() {
        let s = every_two_months();
        assert_eq!(s.occurrence(0), Some(d("2026-01-15")));
        assert_eq!(s.occurrence(5), Some(d("2026-11-15")));
        assert_eq!(s.next_on_or_after(d("2026-11-16")), Some(d("2027-01-15")));
        let end_of_month = Schedule { first_date: d("2026-01-31"), ..s };
        assert_eq!(end_of_month.occurrence(1), Some(d("2026-03-31")));
        assert_eq!(end_of_month.occurrence(2), Some(d("2026-05-31")));
    }

    #[test]
    fn sittings_are_due_lead_days_ahead_and_only_once() {
        let s = every_two_months();
        assert!(s.due(None, d("2026-12-31")).is_empty(), "2027-01-15 is 15 days away");
        assert_eq!(s.due(None, d("2027-01-01")), vec![d("2027-01-15")]);
        assert!(s.due(Some(d("2027-01-15")), d("2027-01-02")).is_empty(), "already created");
        assert_eq!(s.due(Some(d("2027-01-15")), d("2027-03-01")), vec![d("2027-03-15")]);
        assert!(s.due(None, d("2026-11-16")).is_empty(), "no back-filling of the missed 2026-11-15");
    }

    #[test]
    fn schedules_are_checked() {
        let s = Schedule { every_months: 0, window_minutes: 5, lead_days: 61, ..every_two_months() };
        assert_eq!(s.validate().len(), 3);
    }
}
