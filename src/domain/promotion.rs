//! Promotion rules HR ties to certification (考试结果与职级待遇挂钩, seeds 003/004), and the check
//! that says, per candidate, eligible or not and every reason why not.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::bank::Level;
use super::certification::CertStatus;
use super::validation::Problem;

/// One rule: promotion to `target` needs all of its conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionRule {
    pub name: String,
    /// The post or grade promoted to (free text: 派出所所长, 一级警长 …).
    pub target: String,
    pub min_level: Option<Level>,
    pub no_open_remedial: bool,
    /// No failed bimonthly exam within this many months before the promotion date.
    pub no_failed_bimonthly_months: Option<i32>,
    /// The qualifying certificate must still be valid on the promotion date.
    pub cert_valid_on_date: bool,
}

impl PromotionRule {
    /// Every problem of this rule in English, `field: problem` (the API and the logs).
    pub fn validate(&self) -> Vec<String> {
        self.problems().iter().map(Problem::line).collect()
    }

    /// Every problem of this rule, by field (said in the reader's language on the rules page);
    /// a problem of the whole rule names no field.
    pub fn problems(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        for (field, v) in [("name", &self.name), ("target", &self.target)] {
            if v.trim().is_empty() || v.chars().count() > 100 {
                errs.push(Problem::with(field, "required_max", vec![("n", "100".into())], "required, at most 100 characters"));
            }
        }
        if let Some(m) = self.no_failed_bimonthly_months {
            if !(1..=120).contains(&m) {
                errs.push(Problem::range("no_failed_bimonthly_months", 1, 120, Some(m.into())));
            }
        }
        if self.min_level.is_none() && self.cert_valid_on_date {
            errs.push(Problem::plain("cert_valid_on_date", "needs_min_level", "needs a minimum level"));
        }
        if self.min_level.is_none() && !self.no_open_remedial && self.no_failed_bimonthly_months.is_none() {
            errs.push(Problem::plain("", "rule_no_condition", "the rule has no condition"));
        }
        errs
    }
}

/// A certificate as the check sees it: its standing today and on the promotion date.
#[derive(Clone, Debug)]
pub struct CertFact {
    pub number: String,
    pub level: Level,
    pub status_today: CertStatus,
    pub status_on_date: CertStatus,
    pub expires_on: NaiveDate,
}

/// What the check needs to know about a candidate.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub certs: Vec<CertFact>,
    /// Opening dates of open remedial plans.
    pub open_remedial: Vec<NaiveDate>,
    /// Dates of failed bimonthly exams.
    pub failed_bimonthly: Vec<NaiveDate>,
}

/// A reason a candidate is not eligible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// No valid certificate of the level (or higher); `best` is the highest valid one held.
    LevelMissing {
        needed: Level,
        best: Option<Level>,
    },
    /// Valid today, but not on the promotion date (expires or lapses before it).
    NotValidOnDate {
        number: String,
        level: Level,
        status_on_date: CertStatus,
        expires_on: NaiveDate,
    },
    OpenRemedial {
        opened_on: NaiveDate,
    },
    FailedBimonthly {
        on: NaiveDate,
        months: i32,
    },
}

/// Every reason the candidate is not eligible under `rule` on `date` (empty: eligible).
pub fn check(rule: &PromotionRule, facts: &Facts, date: NaiveDate) -> Vec<Refusal> {
    let mut out = Vec::new();
    if let Some(needed) = rule.min_level {
        let valid: Vec<&CertFact> = facts.certs.iter().filter(|c| c.status_today == CertStatus::Valid).collect();
        let qualifying: Vec<&&CertFact> = valid.iter().filter(|c| c.level >= needed).collect();
        if qualifying.is_empty() {
            out.push(Refusal::LevelMissing { needed, best: valid.iter().map(|c| c.level).max() });
        } else if rule.cert_valid_on_date && !qualifying.iter().any(|c| c.status_on_date == CertStatus::Valid) {
            let c = qualifying.iter().max_by_key(|c| c.expires_on).expect("non-empty");
            out.push(Refusal::NotValidOnDate {
                number: c.number.clone(),
                level: c.level,
                status_on_date: c.status_on_date,
                expires_on: c.expires_on,
            });
        }
    }
    if rule.no_open_remedial {
        out.extend(facts.open_remedial.iter().map(|d| Refusal::OpenRemedial { opened_on: *d }));
    }
    if let Some(months) = rule.no_failed_bimonthly_months {
        let since = date.checked_sub_months(Months::new(months as u32)).unwrap_or(NaiveDate::MIN);
        let mut fails: Vec<NaiveDate> = facts.failed_bimonthly.iter().copied().filter(|d| *d > since && *d <= date).collect();
        fails.sort();
        out.extend(fails.into_iter().map(|on| Refusal::FailedBimonthly { on, months }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn cert(level: Level, today: CertStatus, on_date: CertStatus) -> CertFact {
        CertFact {
            number: format!("JZ-{}", level.as_str()),
            level,
            status_today: today,
            status_on_date: on_date,
            expires_on: d(2027, 3, 1),
        }
    }
    fn rule() -> PromotionRule {
        PromotionRule {
            name: "所长".into(),
            target: "派出所所长".into(),
            min_level: Some(Level::Intermediate),
            no_open_remedial: true,
            no_failed_bimonthly_months: Some(12),
            cert_valid_on_date: true,
        }
    }

    #[test]
    fn a_higher_level_satisfies_a_lower_requirement() {
        let f = Facts { certs: vec![cert(Level::Advanced, CertStatus::Valid, CertStatus::Valid)], ..Default::default() };
        assert!(check(&rule(), &f, d(2026, 12, 1)).is_empty());
    }

    #[test]
    fn every_reason_is_given() {
        let f = Facts {
            certs: vec![
                cert(Level::Basic, CertStatus::Valid, CertStatus::Valid),
                cert(Level::Intermediate, CertStatus::Expired, CertStatus::Expired),
            ],
            open_remedial: vec![d(2026, 11, 2)],
            failed_bimonthly: vec![d(2025, 11, 1), d(2026, 3, 1), d(2026, 9, 1)],
        };
        let r = check(&rule(), &f, d(2026, 12, 1));
        assert_eq!(
            r,
            vec![
                Refusal::LevelMissing { needed: Level::Intermediate, best: Some(Level::Basic) },
                Refusal::OpenRemedial { opened_on: d(2026, 11, 2) },
                Refusal::FailedBimonthly { on: d(2026, 3, 1), months: 12 },
                Refusal::FailedBimonthly { on: d(2026, 9, 1), months: 12 },
            ],
            "the 2025 failure is outside 12 months"
        );
    }

    #[test]
    fn a_certificate_expiring_before_the_date_is_refused_only_when_the_rule_says_so() {
        let f = Facts { certs: vec![cert(Level::Intermediate, CertStatus::Valid, CertStatus::Expired)], ..Default::default() };
        let r = check(&rule(), &f, d(2027, 6, 1));
        assert!(matches!(r.as_slice(), [Refusal::NotValidOnDate { status_on_date: CertStatus::Expired, .. }]), "{r:?}");
        let lenient = PromotionRule { cert_valid_on_date: false, ..rule() };
        assert!(check(&lenient, &f, d(2027, 6, 1)).is_empty());
    }

    #[test]
    fn validation_names_the_field() {
        assert!(rule().validate().is_empty());
        let bad =
            PromotionRule { name: " ".into(), min_level: None, no_open_remedial: false, no_failed_bimonthly_months: Some(0), ..rule() };
        let e = bad.validate();
        assert_eq!(
            e,
            vec![
                "name: required, at most 100 characters",
                "no_failed_bimonthly_months: must be 1–120, got 0",
                "cert_valid_on_date: needs a minimum level"
            ],
            "{e:?}"
        );
        let keys: Vec<(&str, &str)> = bad.problems().iter().map(|p| (p.field, p.key)).collect();
        assert_eq!(
            keys,
            [("name", "required_max"), ("no_failed_bimonthly_months", "range_got"), ("cert_valid_on_date", "needs_min_level")]
        );
        // a rule without any condition is a problem of the whole rule: no field named
        let empty = PromotionRule {
            min_level: None,
            no_open_remedial: false,
            no_failed_bimonthly_months: None,
            cert_valid_on_date: false,
            ..rule()
        };
        assert_eq!(empty.validate(), vec!["the rule has no condition"]);
        assert_eq!(empty.problems()[0].field, "");
    }
}
