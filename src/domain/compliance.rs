//! The targets the bureau is held to (seed 004, DESIGN.md §3) and the figures that show how far
//! a unit or the bureau is from them.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::bank::Level;
use super::validation::Problem;

/// Rule values the bureau sets (settings key `compliance_targets`; 管理 → 考核设置 or
/// `PUT /api/v1/settings/compliance-targets`). A field left out keeps its default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Targets {
    /// Officers hired within this many months are "new" and must hold 基本级.
    pub new_officer_months: u32,
    /// A unit where more than this per cent lack 基本级 is warned …
    pub lacking_basic_warn_percent: i32,
    /// … and above this its appraisal rating is capped.
    pub lacking_basic_cap_percent: i32,
    /// 警种 that must each have at least one 高级 holder.
    pub key_police_types: Vec<String>,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            new_officer_months: 24,
            lacking_basic_warn_percent: 10,
            lacking_basic_cap_percent: 20,
            key_police_types: ["刑侦", "治安", "交警", "经侦", "禁毒", "法制"].map(String::from).to_vec(),
        }
    }
}

impl Targets {
    pub fn validate(&self) -> Vec<String> {
        self.problems().iter().map(Problem::line).collect()
    }

    /// Every problem of these targets, by field (said in the reader's language on pages).
    pub fn problems(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        if !(1..=120).contains(&self.new_officer_months) {
            errs.push(Problem::range("new_officer_months", 1, 120, None));
        }
        let warn_ok = (0..=100).contains(&self.lacking_basic_warn_percent);
        let cap_ok = (0..=100).contains(&self.lacking_basic_cap_percent);
        if !warn_ok {
            errs.push(Problem::range("lacking_basic_warn_percent", 0, 100, None));
        }
        if !cap_ok {
            errs.push(Problem::range("lacking_basic_cap_percent", 0, 100, None));
        }
        if warn_ok && cap_ok && self.lacking_basic_warn_percent > self.lacking_basic_cap_percent {
            errs.push(Problem::plain("lacking_basic_warn_percent", "warn_above_cap", "must not exceed lacking_basic_cap_percent"));
        }
        if self.key_police_types.iter().any(|t| t.trim().is_empty()) {
            errs.push(Problem::plain("key_police_types", "empty_entry", "empty entry"));
        }
        errs
    }
}

/// An active officer on an enforcement post, as the targets see them.
#[derive(Clone, Debug)]
pub struct OfficerFacts {
    pub police_type: String,
    pub hire_date: NaiveDate,
    pub is_leader: bool,
    pub is_legal_officer: bool,
    /// The highest level held with a valid certificate today.
    pub best_level: Option<Level>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Ok,
    Warn,
    Cap,
}

/// A share against a target: `met` of `of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
pub struct Share {
    pub met: usize,
    pub of: usize,
}

/// `n` of `of` in per cent, rounded to the nearest whole (half up), the one rounding every
/// shown share uses, so a share and its complement add up to 100.
pub fn percent_of(n: usize, of: usize) -> i32 {
    (n * 200 + of).checked_div(2 * of).map_or(0, |p| p as i32)
}

impl Share {
    /// Per cent (`percent_of`); 100 when nobody is concerned (nothing is missing).
    pub fn percent(&self) -> i32 {
        if self.of == 0 {
            100
        } else {
            percent_of(self.met, self.of)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub officers: usize,
    pub with_basic: Share,
    pub lacking_basic_percent: i32,
    pub band: Band,
    pub new_with_basic: Share,
    pub leaders_legal_with_intermediate: Share,
    pub advanced_holders: usize,
}

pub fn figures(t: &Targets, officers: &[OfficerFacts], today: NaiveDate) -> Figures {
    let new_since = today.checked_sub_months(Months::new(t.new_officer_months)).unwrap_or(NaiveDate::MIN);
    let has = |o: &OfficerFacts, l: Level| o.best_level.is_some_and(|b| b >= l);
    let share = |pick: &dyn Fn(&OfficerFacts) -> bool, l: Level| {
        let who: Vec<&OfficerFacts> = officers.iter().filter(|o| pick(o)).collect();
        Share { met: who.iter().filter(|o| has(o, l)).count(), of: who.len() }
    };
    let with_basic = share(&|_| true, Level::Basic);
    // shown rounded like every share; the bands below compare the exact fraction
    let lacking = with_basic.of - with_basic.met;
    let lacking_basic_percent = percent_of(lacking, with_basic.of);
    let over = |limit: i32| with_basic.of > 0 && lacking * 100 > limit as usize * with_basic.of;
    let band = if over(t.lacking_basic_cap_percent) {
        Band::Cap
    } else if over(t.lacking_basic_warn_percent) {
        Band::Warn
    } else {
        Band::Ok
    };
    Figures {
        officers: officers.len(),
        with_basic,
        lacking_basic_percent,
        band,
        new_with_basic: share(&|o| o.hire_date > new_since, Level::Basic),
        leaders_legal_with_intermediate: share(&|o| o.is_leader || o.is_legal_officer, Level::Intermediate),
        advanced_holders: officers.iter().filter(|o| has(o, Level::Advanced)).count(),
    }
}

/// Key 警种 and how many 高级 holders each has (the target: at least one).
pub fn key_type_coverage(t: &Targets, officers: &[OfficerFacts]) -> Vec<(String, usize)> {
    t.key_police_types
        .iter()
        .map(|pt| (pt.clone(), officers.iter().filter(|o| &o.police_type == pt && o.best_level == Some(Level::Advanced)).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(pt: &str, hired: NaiveDate, leader: bool, best: Option<Level>) -> OfficerFacts {
        OfficerFacts { police_type: pt.into(), hire_date: hired, is_leader: leader, is_legal_officer: false, best_level: best }
    }

    #[test]
    fn bands_follow_the_thresholds() {
        let t = Targets::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let old = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let mk =
            |lacking: usize, n: usize| (0..n).map(|i| off("治安", old, false, (i >= lacking).then_some(Level::Basic))).collect::<Vec<_>>();
        assert_eq!(figures(&t, &mk(1, 10), today).band, Band::Ok, "exactly 10 % is not over 10 %");
        assert_eq!(figures(&t, &mk(2, 19), today).band, Band::Warn, "10.5 %");
        assert_eq!(figures(&t, &mk(2, 19), today).lacking_basic_percent, 11);
        // one of three lacking: 33 % lacking and 67 % with, adding up to 100
        let third = figures(&t, &mk(1, 3), today);
        assert_eq!((third.lacking_basic_percent, third.with_basic.percent()), (33, 67));
        assert_eq!(figures(&t, &mk(2, 3), today).lacking_basic_percent, 67);
        assert_eq!(percent_of(1, 8), 13, "12.5 % rounds half up");
        assert_eq!(figures(&t, &mk(2, 10), today).band, Band::Warn, "exactly 20 % is warned, not capped");
        assert_eq!(figures(&t, &mk(3, 10), today).band, Band::Cap);
        assert_eq!(figures(&t, &[], today).band, Band::Ok);
    }

    #[test]
    fn new_officers_leaders_and_key_types() {
        let t = Targets::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let new = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let old = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let people = vec![
            off("刑侦", new, false, None),
            off("刑侦", new, false, Some(Level::Basic)),
            off("刑侦", old, true, Some(Level::Advanced)),
            off("治安", old, true, Some(Level::Basic)),
        ];
        let f = figures(&t, &people, today);
        assert_eq!(f.new_with_basic, Share { met: 1, of: 2 });
        assert_eq!(f.leaders_legal_with_intermediate, Share { met: 1, of: 2 }, "高级 counts as 中级 or higher");
        assert_eq!(f.advanced_holders, 1);
        let cov = key_type_coverage(&t, &people);
        assert_eq!(cov[0], ("刑侦".to_string(), 1));
        assert_eq!(cov[1], ("治安".to_string(), 0));
    }
}
