//! Scores on the calibrated scale and the pass decision on it ("one standard across forms").
//!
//! A candidate's ability is the θ whose expected score on the calibrated items of their own
//! paper equals the points they earned there (the paper's test characteristic curve read
//! backwards, [`super::rasch::theta_for_score`]). Two candidates of the same ability on a
//! hard and an easy paper get different points but the same θ, so a cut on θ treats them
//! alike where a cut in per cent of the points does not.
//!
//! * Items without a calibrated difficulty take no part in the ability (their points still
//!   count in the raw score).
//! * A zero or full score on the calibrated items has no finite θ: it is estimated at
//!   [`EXTREME_ADJUSTMENT`] of a mean item's points in from the end, as the calibration does for
//!   extreme scores.
//! * The standard error is √(Σ w²P(1-P)) / Σ wP(1-P) for items of w points.
//! * The pass decision uses the scale only when the calibrated items carry at least
//!   [`MIN_CALIBRATED_SHARE`] of the paper's points; otherwise the sitting's per-cent rule
//!   decides, and the result says so.

use serde::{Deserialize, Serialize};

use super::rasch::{expected_score, probability, theta_for_score, PaperItem};

/// Fraction of a mean item's points an extreme score is moved in by.
pub const EXTREME_ADJUSTMENT: f64 = 0.3;
/// Share of a paper's points its calibrated items must carry before the scale decides.
pub const MIN_CALIBRATED_SHARE: f64 = 0.5;

/// One item of a graded paper: calibrated difficulty (if any), points it carries, points earned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredItem {
    pub difficulty: Option<f64>,
    pub points: f64,
    pub earned: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ability {
    pub theta: f64,
    pub se: f64,
    /// Points earned on the calibrated items, and their maximum.
    pub raw: f64,
    pub max: f64,
    /// Whether the raw score was zero or full (estimate moved in by [`EXTREME_ADJUSTMENT`]).
    pub extreme: bool,
}

/// The ability behind a graded paper; None when no item on it is calibrated.
pub fn ability(items: &[ScoredItem]) -> Option<Ability> {
    let form: Vec<PaperItem> = items
        .iter()
        .filter_map(|i| i.difficulty.filter(|d| d.is_finite()).map(|d| PaperItem { difficulty: d, points: i.points }))
        .collect();
    let form: Vec<PaperItem> = form.into_iter().filter(|i| i.points > 0.0).collect();
    if form.is_empty() {
        return None;
    }
    let raw: f64 =
        items.iter().filter(|i| i.difficulty.is_some_and(f64::is_finite) && i.points > 0.0).map(|i| i.earned.clamp(0.0, i.points)).sum();
    let max: f64 = form.iter().map(|i| i.points).sum();
    let adj = EXTREME_ADJUSTMENT * max / form.len() as f64;
    let extreme = raw <= 0.0 || raw >= max;
    let target = raw.clamp(adj, max - adj);
    let theta = theta_for_score(target, &form)?;
    let (mut num, mut den) = (0.0, 0.0);
    for i in &form {
        let p = probability(theta, i.difficulty);
        num += i.points * i.points * p * (1.0 - p);
        den += i.points * p * (1.0 - p);
    }
    Some(Ability { theta, se: num.sqrt() / den, raw, max, extreme })
}

/// How a pass decision was reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Decision {
    /// Per cent of the paper's points (the sitting has no cut on the scale, or too little of
    /// the paper is calibrated).
    Percent { passed: bool },
    /// θ at or above the cut; `raw_cut` is the points on this paper's calibrated items a
    /// candidate at the cut is expected to earn.
    Scale { passed: bool, cut: f64, raw_cut: f64 },
}

impl Decision {
    pub fn passed(&self) -> bool {
        match self {
            Decision::Percent { passed } | Decision::Scale { passed, .. } => *passed,
        }
    }
    pub fn rule(&self) -> PassRule {
        match self {
            Decision::Percent { .. } => PassRule::Percent,
            Decision::Scale { .. } => PassRule::Scale,
        }
    }
}

/// The rule a result's pass was decided by (`scaled_scores.rule`, stored as the word; a
/// result's `pass_rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassRule {
    /// Per cent of the paper's points.
    Percent,
    /// The level's adopted cut on the calibrated scale.
    Scale,
}

impl PassRule {
    pub const ALL: [PassRule; 2] = [PassRule::Percent, PassRule::Scale];

    pub fn as_str(self) -> &'static str {
        match self {
            PassRule::Percent => "percent",
            PassRule::Scale => "scale",
        }
    }
    pub fn parse(s: &str) -> Option<PassRule> {
        PassRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Written to the database as its word (`db::models::standards::ScaledScore` is inserted whole).
impl From<PassRule> for String {
    fn from(r: PassRule) -> String {
        r.as_str().to_string()
    }
}

/// The pass decision of a graded paper: on the scale when the sitting has a cut (`cut`, logits)
/// and enough of the paper is calibrated, else the per-cent decision already made.
pub fn decide(items: &[ScoredItem], cut: Option<f64>, percent_passed: bool) -> Decision {
    let total: f64 = items.iter().map(|i| i.points.max(0.0)).sum();
    let calibrated: f64 = items.iter().filter(|i| i.difficulty.is_some_and(f64::is_finite)).map(|i| i.points.max(0.0)).sum();
    match (cut, ability(items)) {
        (Some(cut), Some(a)) if total > 0.0 && calibrated / total >= MIN_CALIBRATED_SHARE => {
            let form: Vec<PaperItem> = items
                .iter()
                .filter_map(|i| {
                    i.difficulty.filter(|d| d.is_finite() && i.points > 0.0).map(|d| PaperItem { difficulty: d, points: i.points })
                })
                .collect();
            Decision::Scale { passed: a.theta >= cut, cut, raw_cut: expected_score(cut, &form) }
        }
        _ => Decision::Percent { passed: percent_passed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(d: f64, n: usize, right: usize) -> Vec<ScoredItem> {
        (0..n).map(|k| ScoredItem { difficulty: Some(d), points: 1.0, earned: if k < right { 1.0 } else { 0.0 } }).collect()
    }

    #[test]
    fn ability_reads_the_characteristic_curve_backwards() {
        // ten items at difficulty -1, seven right: θ = -1 + ln(7/3)
        let a = ability(&paper(-1.0, 10, 7)).unwrap();
        assert!((a.theta - (-1.0 + (7.0f64 / 3.0).ln())).abs() < 1e-9, "{a:?}");
        // SE for unit items: 1/√(Σ PQ) = 1/√(10 × 0.21)
        assert!((a.se - 1.0 / (10.0f64 * 0.21).sqrt()).abs() < 1e-9, "{a:?}");
        assert!(!a.extreme);
        // uncalibrated items take no part
        let mut p = paper(-1.0, 10, 7);
        p.push(ScoredItem { difficulty: None, points: 5.0, earned: 0.0 });
        assert_eq!(ability(&p).unwrap().theta, a.theta);
        assert!(ability(&[ScoredItem { difficulty: None, points: 1.0, earned: 1.0 }]).is_none());
    }

    #[test]
    fn extreme_scores_are_finite_and_ordered() {
        let full = ability(&paper(0.0, 10, 10)).unwrap();
        let nine = ability(&paper(0.0, 10, 9)).unwrap();
        let zero = ability(&paper(0.0, 10, 0)).unwrap();
        assert!(full.extreme && zero.extreme && full.theta.is_finite() && zero.theta.is_finite());
        assert!(full.theta > nine.theta && zero.theta < 0.0);
    }

    #[test]
    fn same_ability_on_a_hard_and_an_easy_paper_gets_the_same_decision() {
        // a candidate at θ = 0.5 expects 8.2 of 10 on the easy paper (b = -1) and 3.8 on the
        // hard one (b = +1): 8 and 4 right.
        let easy = paper(-1.0, 10, 8);
        let hard = paper(1.0, 10, 4);
        let (a, b) = (ability(&easy).unwrap().theta, ability(&hard).unwrap().theta);
        assert!((a - b).abs() < 0.3, "{a} {b}");
        // 60 % of the points: the easy paper passes, the hard one fails
        let pct = |p: &[ScoredItem]| p.iter().map(|i| i.earned).sum::<f64>() >= 6.0;
        assert!(pct(&easy) && !pct(&hard));
        // a cut at θ = 0.3: both pass; at 0.7 both fail
        for (cut, want) in [(0.3, true), (0.7, false)] {
            let (de, dh) = (decide(&easy, Some(cut), pct(&easy)), decide(&hard, Some(cut), pct(&hard)));
            assert_eq!((de.passed(), dh.passed()), (want, want), "{de:?} {dh:?}");
            assert_eq!(de.rule().as_str(), "scale");
            // the raw cut is what a candidate at the cut expects on each paper
            let Decision::Scale { raw_cut, .. } = dh else { panic!() };
            assert!((raw_cut - 10.0 * probability(cut, 1.0)).abs() < 1e-9);
        }
    }

    #[test]
    fn without_a_cut_or_calibration_the_percent_rule_decides() {
        let easy = paper(-1.0, 10, 8);
        assert_eq!(decide(&easy, None, false), Decision::Percent { passed: false });
        // less than half the points calibrated
        let mut p: Vec<ScoredItem> = paper(-1.0, 4, 4);
        p.extend((0..6).map(|_| ScoredItem { difficulty: None, points: 1.0, earned: 0.0 }));
        assert_eq!(decide(&p, Some(-5.0), false), Decision::Percent { passed: false });
    }
}
