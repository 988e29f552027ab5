//! Automatic grading. Scores are integers in hundredths of a point, so sums are exact.

use serde::{Deserialize, Serialize};

use super::bank::QuestionKind;

/// How a multiple-choice item is scored; chosen per sitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultiRule {
    /// Only the exact set of correct options scores.
    AllOrNothing,
    /// 少选得部分分，错选不得分: a subset of the correct options scores in proportion; any
    /// wrong option scores nothing.
    Partial,
}

impl MultiRule {
    pub fn parse(s: &str) -> Option<MultiRule> {
        match s {
            "all_or_nothing" => Some(MultiRule::AllOrNothing),
            "partial" => Some(MultiRule::Partial),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MultiRule::AllOrNothing => "all_or_nothing",
            MultiRule::Partial => "partial",
        }
    }
}

/// Canonical form of a set of option ids: sorted, no repeats.
pub fn canonical(choices: &str) -> String {
    let mut v: Vec<char> = choices.chars().collect();
    v.sort_unstable();
    v.dedup();
    v.into_iter().collect()
}

/// Scores one item. `key` and `choices` are sets of option ids (any order).
pub fn score_item(kind: QuestionKind, rule: MultiRule, key: &str, choices: &str, points_centi: i64) -> i64 {
    let key = canonical(key);
    let chosen = canonical(choices);
    if chosen.is_empty() {
        return 0;
    }
    if chosen == key {
        return points_centi;
    }
    match (kind, rule) {
        // proportional, rounded down to the hundredth
        (QuestionKind::Multiple, MultiRule::Partial) if chosen.chars().all(|c| key.contains(c)) => {
            points_centi * chosen.chars().count() as i64 / key.chars().count() as i64
        }
        _ => 0,
    }
}

/// How an upheld challenge (复核) changed one question's grading in one sitting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Further answers that now score as if they were the key (each a set of option ids).
    pub also_accepted: Vec<String>,
    /// The question is void: every candidate who had it gets its full points (送分), so no one
    /// loses by a flawed question whatever they answered.
    pub voided: bool,
}

/// Scores one item under the sitting's adjustment: the best of the key and every accepted
/// alternative.
pub fn score_adjusted(
    kind: QuestionKind,
    rule: MultiRule,
    key: &str,
    adjustment: Option<&Adjustment>,
    choices: Option<&str>,
    points_centi: i64,
) -> i64 {
    if adjustment.is_some_and(|a| a.voided) {
        return points_centi;
    }
    let Some(choices) = choices else { return 0 };
    let alternatives = adjustment.map(|a| a.also_accepted.as_slice()).unwrap_or_default();
    std::iter::once(key)
        .chain(alternatives.iter().map(String::as_str))
        .map(|k| score_item(kind, rule, k, choices, points_centi))
        .max()
        .unwrap_or(0)
}

/// One graded item of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemToGrade<'a> {
    pub kind: QuestionKind,
    pub key: &'a str,
    /// The saved answer, if any.
    pub choices: Option<&'a str>,
    pub points_centi: i64,
    pub adjustment: Option<&'a Adjustment>,
}

/// The outcome of grading an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grade {
    pub score_centi: i64,
    pub max_centi: i64,
    pub item_scores: Vec<i64>,
    pub passed: bool,
}

/// Grades a whole attempt: exactly the saved answers, nothing else.
pub fn grade(items: &[ItemToGrade<'_>], rule: MultiRule, pass_percent: i32) -> Grade {
    let item_scores: Vec<i64> =
        items.iter().map(|i| score_adjusted(i.kind, rule, i.key, i.adjustment, i.choices, i.points_centi)).collect();
    let score_centi = item_scores.iter().sum();
    let max_centi = items.iter().map(|i| i.points_centi).sum();
    Grade { score_centi, max_centi, item_scores, passed: passed(score_centi, max_centi, pass_percent) }
}

/// Pass when the score reaches `pass_percent` per cent of the maximum.
pub fn passed(score_centi: i64, max_centi: i64, pass_percent: i32) -> bool {
    max_centi > 0 && score_centi * 100 >= max_centi * pass_percent as i64
}

/// Reads points as typed ("3", "2.5") into hundredths; None unless a positive number.
pub fn parse_points(s: &str) -> Option<i64> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v > 0.0 && v < 1e9).then(|| (v * 100.0).round() as i64)
}

/// Formats hundredths of a point for display: 1250 → "12.5", 1200 → "12".
pub fn format_points(centi: i64) -> String {
    let whole = centi / 100;
    let frac = (centi % 100).abs();
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuestionKind::*;

    #[test]
    fn single_and_truefalse_are_right_or_wrong() {
        assert_eq!(score_item(Single, MultiRule::Partial, "B", "B", 100), 100);
        assert_eq!(score_item(Single, MultiRule::Partial, "B", "C", 100), 0);
        assert_eq!(score_item(Single, MultiRule::Partial, "B", "", 100), 0);
        assert_eq!(score_item(TrueFalse, MultiRule::Partial, "F", "F", 50), 50);
        assert_eq!(score_item(TrueFalse, MultiRule::Partial, "F", "T", 50), 0);
        // two choices on a single-choice item are never right
        assert_eq!(score_item(Single, MultiRule::Partial, "B", "AB", 100), 0);
    }

    #[test]
    fn multiple_all_or_nothing() {
        let r = MultiRule::AllOrNothing;
        assert_eq!(score_item(Multiple, r, "ACD", "DCA", 200), 200);
        assert_eq!(score_item(Multiple, r, "ACD", "AC", 200), 0);
        assert_eq!(score_item(Multiple, r, "ACD", "ACDB", 200), 0);
    }

    #[test]
    fn multiple_partial_credit_for_fewer_nothing_for_wrong() {
        let r = MultiRule::Partial;
        assert_eq!(score_item(Multiple, r, "ACD", "ACD", 300), 300);
        assert_eq!(score_item(Multiple, r, "ACD", "AC", 300), 200);
        assert_eq!(score_item(Multiple, r, "ACD", "D", 200), 66, "rounded down to the hundredth");
        assert_eq!(score_item(Multiple, r, "ACD", "AB", 300), 0, "a wrong option scores nothing");
        assert_eq!(score_item(Multiple, r, "ACD", "ABCD", 300), 0);
    }

    #[test]
    fn grade_sums_saved_answers_and_applies_pass_mark() {
        let items = [
            ItemToGrade { kind: Single, key: "A", choices: Some("A"), points_centi: 100, adjustment: None },
            ItemToGrade { kind: Multiple, key: "BC", choices: Some("B"), points_centi: 200, adjustment: None },
            ItemToGrade { kind: TrueFalse, key: "T", choices: None, points_centi: 100, adjustment: None },
        ];
        let g = grade(&items, MultiRule::Partial, 50);
        assert_eq!(g.item_scores, vec![100, 100, 0]);
        assert_eq!((g.score_centi, g.max_centi), (200, 400));
        assert!(g.passed, "exactly 50% passes at 50");
        assert!(!grade(&items, MultiRule::AllOrNothing, 50).passed);
        assert!(!passed(0, 0, 0), "an empty paper never passes");
    }

    #[test]
    fn upheld_challenges_accept_another_answer_or_void_the_item() {
        let accept_c = Adjustment { also_accepted: vec!["C".into()], voided: false };
        let r = MultiRule::Partial;
        assert_eq!(score_adjusted(Single, r, "B", Some(&accept_c), Some("C"), 100), 100);
        assert_eq!(score_adjusted(Single, r, "B", Some(&accept_c), Some("B"), 100), 100, "the old key still scores");
        assert_eq!(score_adjusted(Single, r, "B", Some(&accept_c), Some("A"), 100), 0);
        assert_eq!(score_adjusted(Single, r, "B", None, Some("C"), 100), 0);
        let void = Adjustment { also_accepted: vec![], voided: true };
        assert_eq!(score_adjusted(Single, r, "B", Some(&void), None, 100), 100, "void: full points even when left blank");
        // partial credit is measured against the best-matching accepted key
        let accept_ab = Adjustment { also_accepted: vec!["AB".into()], voided: false };
        assert_eq!(score_adjusted(Multiple, r, "ABC", Some(&accept_ab), Some("AB"), 300), 300);
        assert_eq!(score_adjusted(Multiple, r, "ABC", None, Some("AB"), 300), 200);
    }

    #[test]
    fn formats_points() {
        assert_eq!(format_points(1200), "12");
        assert_eq!(format_points(1250), "12.5");
        assert_eq!(format_points(66), "0.66");
        assert_eq!(format_points(105), "1.05");
    }
}
