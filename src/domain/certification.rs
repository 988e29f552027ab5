//! Certification levels (执法资格等级: 基本级 / 中级 / 高级): who may sit which level, what a
//! certificate is worth on a given day, and when it expires or lapses. Every number is a rule
//! value an admin can change; the defaults follow the published practice in DESIGN.md §3.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::bank::Level;
use super::validation::Problem;

/// The rule values of one level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRule {
    pub level: Level,
    /// Pass mark of the level's exam, per cent of the maximum.
    pub pass_percent: i32,
    /// Years a certificate stays valid.
    pub validity_years: i32,
    /// The level that must be held (valid) before sitting this one.
    pub prerequisite: Option<Level>,
    /// Years since joining the police (hire date) required to sit.
    pub min_service_years: i32,
    /// Years the prerequisite must have been held.
    pub min_prerequisite_years: i32,
}

/// All certification rule values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRules {
    pub levels: Vec<LevelRule>,
    /// Days away from an enforcement post after which a qualification lapses (离岗失效).
    pub lapse_days_off_post: i64,
    /// Officers are warned this many days before a certificate expires.
    pub warn_days_before_expiry: i64,
}

impl Default for CertRules {
    /// Published practice: a level is valid for 5 years; 中级 needs 基本级 and 高级 needs 中级; a
    /// qualification lapses after one year off an enforcement post. Service-year minimums are
    /// not published nationally (provinces set them), so they start at 0.
    fn default() -> Self {
        let rule = |level, prerequisite| LevelRule {
            level,
            pass_percent: 60,
            validity_years: 5,
            prerequisite,
            min_service_years: 0,
            min_prerequisite_years: 0,
        };
        CertRules {
            levels: vec![
                rule(Level::Basic, None),
                rule(Level::Intermediate, Some(Level::Basic)),
                rule(Level::Advanced, Some(Level::Intermediate)),
            ],
            lapse_days_off_post: 365,
            warn_days_before_expiry: 90,
        }
    }
}

impl CertRules {
    pub fn level(&self, l: Level) -> Option<&LevelRule> {
        self.levels.iter().find(|r| r.level == l)
    }

    /// Checks the values; returns every problem.
    pub fn validate(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        for r in &self.levels {
            let l = r.level.as_str();
            // a level's row is one line of the form: its problems are said above it, naming the level
            let of_level = |key, english: &str| Problem::with("", key, vec![("level", format!("@level.{l}"))], format!("{l}: {english}"));
            if !(1..=100).contains(&r.pass_percent) {
                errs.push(of_level("cert.pass_percent", "pass mark must be 1–100"));
            }
            if !(1..=20).contains(&r.validity_years) {
                errs.push(of_level("cert.validity_years", "validity must be 1–20 years"));
            }
            if !(0..=40).contains(&r.min_service_years) || !(0..=20).contains(&r.min_prerequisite_years) {
                errs.push(of_level("cert.years", "years of service 0–40, years holding the lower level 0–20"));
            }
            if r.prerequisite == Some(r.level) {
                errs.push(of_level("cert.requires_itself", "a level cannot require itself"));
            }
        }
        if !(30..=3650).contains(&self.lapse_days_off_post) {
            errs.push(Problem::plain("lapse_days_off_post", "cert.lapse_days", "lapse after 30–3650 days off an enforcement post"));
        }
        if !(0..=365).contains(&self.warn_days_before_expiry) {
            errs.push(Problem::plain("warn_days_before_expiry", "cert.warn_days", "warn 0–365 days before expiry"));
        }
        errs
    }
}

/// A certificate's standing on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    Valid,
    /// Past its validity.
    Expired,
    /// The holder was away from an enforcement post too long (离岗失效).
    Lapsed,
    Revoked,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Valid => "valid",
            CertStatus::Expired => "expired",
            CertStatus::Lapsed => "lapsed",
            CertStatus::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<CertStatus> {
        [CertStatus::Valid, CertStatus::Expired, CertStatus::Lapsed, CertStatus::Revoked].into_iter().find(|x| x.as_str() == s)
    }
}

/// Where an officer's registration for a level stands: open until a certification sitting of
/// the level is passed (a fail leaves it open for the next sitting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationStatus {
    Registered,
    Passed,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 2] = [RegistrationStatus::Registered, RegistrationStatus::Passed];

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Passed => "passed",
        }
    }
    pub fn parse(s: &str) -> Option<RegistrationStatus> {
        RegistrationStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A certificate as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldCert {
    pub level: Level,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: CertStatus,
}

/// The day a certificate issued on `issued` stops being valid (the same calendar day `years`
/// later; 29 February falls back to 28 February).
pub fn expiry(issued: NaiveDate, years: i32) -> NaiveDate {
    let y = issued.year() + years;
    NaiveDate::from_ymd_opt(y, issued.month(), issued.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, issued.month(), 28))
        .expect("a valid date")
}

/// The day off-post service makes a qualification lapse, if the officer is off post.
pub fn lapse_date(off_post_since: Option<NaiveDate>, rules: &CertRules) -> Option<NaiveDate> {
    off_post_since.map(|d| d + chrono::Duration::days(rules.lapse_days_off_post))
}

/// What a stored certificate becomes on `today`: expiry and lapse apply on their dates; an
/// ended certificate never comes back.
pub fn status_on(cert: &HeldCert, today: NaiveDate, off_post_since: Option<NaiveDate>, rules: &CertRules) -> CertStatus {
    if cert.status != CertStatus::Valid {
        return cert.status;
    }
    if lapse_date(off_post_since, rules).is_some_and(|d| today >= d) {
        return CertStatus::Lapsed;
    }
    if today >= cert.expires_on {
        return CertStatus::Expired;
    }
    CertStatus::Valid
}

/// Whether the holder should be told now that a valid certificate is about to expire.
pub fn due_for_warning(cert: &HeldCert, today: NaiveDate, rules: &CertRules) -> bool {
    cert.status == CertStatus::Valid
        && today < cert.expires_on
        && today + chrono::Duration::days(rules.warn_days_before_expiry) >= cert.expires_on
}

/// Why an officer may not sit a level now. The web layer words these in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Ineligible {
    /// The lower level must be held and valid.
    NeedsPrerequisite {
        level: Level,
    },
    /// The lower level has not been held long enough.
    PrerequisiteTooRecent {
        level: Level,
        since: NaiveDate,
        years: i32,
    },
    ServiceTooShort {
        hired: NaiveDate,
        years: i32,
    },
    /// Already holds this level, valid.
    AlreadyHolds {
        level: Level,
        until: NaiveDate,
    },
    UnknownLevel,
}

impl Ineligible {
    /// The reason in plain English (the API's message; pages use the catalogue).
    /// The catalogue key (`cert_refusal.*`) and placeholders that say this in either language.
    pub fn key(&self) -> (&'static str, serde_json::Value) {
        match self {
            Ineligible::NeedsPrerequisite { level } => ("cert_refusal.needs_prerequisite", serde_json::json!({"level": level.as_str()})),
            Ineligible::PrerequisiteTooRecent { level, since, years } => (
                "cert_refusal.prerequisite_too_recent",
                serde_json::json!({"level": level.as_str(), "since": since.to_string(), "years": years}),
            ),
            Ineligible::ServiceTooShort { hired, years } => {
                ("cert_refusal.service_too_short", serde_json::json!({"hired": hired.to_string(), "years": years}))
            }
            Ineligible::AlreadyHolds { level, until } => {
                ("cert_refusal.already_holds", serde_json::json!({"level": level.as_str(), "until": until.to_string()}))
            }
            Ineligible::UnknownLevel => ("cert_refusal.unknown_level", serde_json::json!({})),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Ineligible::NeedsPrerequisite { level } => format!("this level requires a valid {} certificate first", level.as_str()),
            Ineligible::PrerequisiteTooRecent { level, since, years } => {
                format!("this level requires holding {} for {years} years (held since {since})", level.as_str())
            }
            Ineligible::ServiceTooShort { hired, years } => format!("this level requires {years} years of service (joined {hired})"),
            Ineligible::AlreadyHolds { level, until } => format!("you already hold a valid {} certificate (until {until})", level.as_str()),
            Ineligible::UnknownLevel => "no such certification level".into(),
        }
    }
}

/// Whole years from `from` to `to`.
fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    y
}

/// May an officer hired on `hired`, holding `certs` (statuses as of `today`), sit `level`?
pub fn eligibility(rules: &CertRules, level: Level, hired: NaiveDate, certs: &[HeldCert], today: NaiveDate) -> Result<(), Vec<Ineligible>> {
    let Some(rule) = rules.level(level) else { return Err(vec![Ineligible::UnknownLevel]) };
    let mut why = Vec::new();
    let valid = |l: Level| certs.iter().filter(|c| c.level == l && c.status == CertStatus::Valid).max_by_key(|c| c.expires_on);
    if let Some(c) = valid(level) {
        // re-certification is allowed in the warning window before expiry
        if today + chrono::Duration::days(rules.warn_days_before_expiry) < c.expires_on {
            why.push(Ineligible::AlreadyHolds { level, until: c.expires_on });
        }
    }
    if let Some(p) = rule.prerequisite {
        match valid(p) {
            None => why.push(Ineligible::NeedsPrerequisite { level: p }),
            Some(c) if years_between(c.issued_on, today) < rule.min_prerequisite_years => {
                why.push(Ineligible::PrerequisiteTooRecent { level: p, since: c.issued_on, years: rule.min_prerequisite_years })
            }
            Some(_) => {}
        }
    }
    if years_between(hired, today) < rule.min_service_years {
        why.push(Ineligible::ServiceTooShort { hired, years: rule.min_service_years });
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why)
    }
}

/// Certificate numbers: `JZ` (执法资格), the year, the level letter and a sequence, e.g.
/// `JZ-2026-B-000123`.
pub fn certificate_number(level: Level, year: i32, seq: i64) -> String {
    let letter = match level {
        Level::Basic => 'B',
        Level::Intermediate => 'M',
        Level::Advanced => 'A',
    };
    format!("JZ-{year}-{letter}-{seq:06}")
}

/// A badge as a public check may show it: the last third (at least two characters) masked,
/// e.g. `100001` → `1000**`, so the holder can be told apart without publishing the badge.
pub fn mask_badge(badge: &str) -> String {
    let chars: Vec<char> = badge.trim().chars().collect();
    let hidden = (chars.len().div_ceil(3)).max(2).min(chars.len().max(2));
    let shown = chars.len().saturating_sub(hidden);
    chars[..shown].iter().collect::<String>() + &"*".repeat(hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cert(level: Level, issued: &str) -> HeldCert {
        HeldCert { level, issued_on: d(issued), expires_on: expiry(d(issued), 5), status: CertStatus::Valid }
    }

    #[test]
    fn a_masked_badge_hides_its_tail() {
        assert_eq!(mask_badge("100001"), "1000**");
        assert_eq!(mask_badge("T0001"), "T00**");
        assert_eq!(mask_badge("P2024000123"), "P202400****");
        assert_eq!(mask_badge("ab"), "**");
        assert_eq!(mask_badge("a"), "**", "a short badge is not revealed by the mask's length");
        assert_eq!(mask_badge(""), "**");
    }

    #[test]
    fn intermediate_needs_a_valid_basic_and_says_so() {
        let r = CertRules::default();
        let today = d("2026-11-24");
        let err = eligibility(&r, Level::Intermediate, d("2015-07-01"), &[], today).unwrap_err();
        assert_eq!(err, vec![Ineligible::NeedsPrerequisite { level: Level::Basic }]);
        assert!(err[0].message().contains("requires a valid basic certificate"));
        assert_eq!(eligibility(&r, Level::Intermediate, d("2015-07-01"), &[cert(Level::Basic, "2024-03-01")], today), Ok(()));
        // an expired basic does not count
        let mut old = cert(Level::Basic, "2018-03-01");
        old.status = status_on(&old, today, None, &r);
        assert_eq!(old.status, CertStatus::Expired);
        assert!(eligibility(&r, Level::Intermediate, d("2015-07-01"), &[old], today).is_err());
        assert_eq!(eligibility(&r, Level::Basic, d("2026-07-01"), &[], today), Ok(()), "a new officer may sit basic");
    }

    #[test]
    fn years_of_service_and_of_holding_the_lower_level_are_settings() {
        let mut r = CertRules::default();
        r.levels[1].min_prerequisite_years = 2;
        r.levels[1].min_service_years = 3;
        let today = d("2026-11-24");
        let err = eligibility(&r, Level::Intermediate, d("2024-07-01"), &[cert(Level::Basic, "2025-03-01")], today).unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert!(matches!(err[0], Ineligible::PrerequisiteTooRecent { years: 2, .. }));
        assert!(matches!(err[1], Ineligible::ServiceTooShort { years: 3, .. }));
        assert_eq!(
            eligibility(&r, Level::Intermediate, d("2020-07-01"), &[cert(Level::Basic, "2024-11-24")], today),
            Ok(()),
            "exactly 2 years"
        );
    }

    #[test]
    fn holders_may_recertify_only_near_expiry() {
        let r = CertRules::default();
        let c = cert(Level::Basic, "2022-01-10"); // expires 2027-01-10
        assert!(matches!(
            eligibility(&r, Level::Basic, d("2010-01-01"), std::slice::from_ref(&c), d("2026-06-01")).unwrap_err()[0],
            Ineligible::AlreadyHolds { .. }
        ));
        assert_eq!(eligibility(&r, Level::Basic, d("2010-01-01"), &[c], d("2026-11-01")), Ok(()), "within 90 days of expiry");
    }

    #[test]
    fn expiry_and_lapse_apply_on_their_dates() {
        let r = CertRules::default();
        let c = cert(Level::Basic, "2021-11-24");
        assert_eq!(c.expires_on, d("2026-11-24"));
        assert_eq!(status_on(&c, d("2026-11-23"), None, &r), CertStatus::Valid);
        assert_eq!(status_on(&c, d("2026-11-24"), None, &r), CertStatus::Expired);
        let c = cert(Level::Basic, "2025-01-01");
        assert_eq!(status_on(&c, d("2026-05-31"), Some(d("2025-06-01")), &r), CertStatus::Valid, "364 days off post");
        assert_eq!(status_on(&c, d("2026-06-01"), Some(d("2025-06-01")), &r), CertStatus::Lapsed, "one year off post");
        let mut ended = c.clone();
        ended.status = CertStatus::Lapsed;
        assert_eq!(status_on(&ended, d("2026-07-01"), None, &r), CertStatus::Lapsed, "back on post does not revive it");
        assert_eq!(expiry(d("2024-02-29"), 5), d("2029-02-28"));
    }

    #[test]
    fn warnings_come_in_the_window_before_expiry() {
        let r = CertRules::default();
        let c = cert(Level::Basic, "2022-01-10");
        assert!(!due_for_warning(&c, d("2026-10-11"), &r));
        assert!(due_for_warning(&c, d("2026-10-12"), &r));
        assert!(!due_for_warning(&c, d("2027-01-10"), &r), "expired, not warned");
    }

    #[test]
    fn rules_are_checked_and_numbers_formatted() {
        let mut r = CertRules::default();
        assert!(r.validate().is_empty());
        r.levels[0].pass_percent = 0;
        r.lapse_days_off_post = 5;
        assert_eq!(r.validate().len(), 2);
        assert_eq!(certificate_number(Level::Intermediate, 2026, 42), "JZ-2026-M-000042");
    }
}
