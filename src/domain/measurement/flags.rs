//! Flags read from a calibration: misfit, too easy or too hard for the level, drift between two
//! calibrations of the same question, and a key suspected wrong from the options chosen.
//!
//! Because every item gets a difficulty with its standard error however few responses it has,
//! these flags work on pool-drawn papers where each item is answered by only part of a sitting:
//! the level flags fire when the whole confidence interval is past the margin, the drift flag
//! when the difference is both large and significant. Fit mean squares are noisy on small
//! counts, so misfit needs [`FlagRules::min_fit_responses`].

use serde::Serialize;

use super::rasch::{ItemEstimate, Status};
use crate::domain::stored_text::UnknownWord;

/// Thresholds of the flags; `FlagRules::default()` holds the values the product uses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlagRules {
    /// Infit or outfit mean square below this: too predictable (overfit).
    pub fit_low: f64,
    /// Infit or outfit mean square above this: noisy (misfit).
    pub fit_high: f64,
    /// Responses an item needs before its fit is judged.
    pub min_fit_responses: usize,
    /// Ability of the level the item is meant for (logits); None: no level flags.
    pub target: Option<f64>,
    /// Too easy when the difficulty is this far below the target (2 logits: P ≈ 0.88 at the
    /// target), too hard when this far above (P ≈ 0.12), with the whole interval past it.
    pub level_margin: f64,
    /// Drift between calibrations: smallest difference (logits) that matters.
    pub drift_logits: f64,
    /// Two-sided normal critical value used by the level and drift flags (1.96: 95%).
    pub z: f64,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules { fit_low: 0.7, fit_high: 1.3, min_fit_responses: 30, target: None, level_margin: 2.0, drift_logits: 0.5, z: 1.96 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Infit or outfit above `fit_high` with enough responses.
    Misfit,
    /// Infit or outfit below `fit_low` with enough responses.
    Overfit,
    /// Everyone who measured got it right: no difficulty can be told apart from "very easy".
    AllCorrect,
    /// Everyone who measured got it wrong.
    AllWrong,
    TooEasy,
    TooHard,
    /// Difficulty moved between calibrations (see [`drift`]).
    Drift,
    /// A distractor drew abler candidates than the key (see [`key_check`]).
    KeySuspected,
    /// Mantel–Haenszel category C (see [`super::dif`]).
    Dif,
}

impl Flag {
    pub const ALL: [Flag; 9] = [
        Flag::Misfit,
        Flag::Overfit,
        Flag::AllCorrect,
        Flag::AllWrong,
        Flag::TooEasy,
        Flag::TooHard,
        Flag::Drift,
        Flag::KeySuspected,
        Flag::Dif,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Misfit => "misfit",
            Flag::Overfit => "overfit",
            Flag::AllCorrect => "all_correct",
            Flag::AllWrong => "all_wrong",
            Flag::TooEasy => "too_easy",
            Flag::TooHard => "too_hard",
            Flag::Drift => "drift",
            Flag::KeySuspected => "key_suspected",
            Flag::Dif => "dif",
        }
    }
    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }
    /// Everyone who measured got it right, or everyone wrong: its difficulty is an estimate
    /// past the end of the scale, no evidence of drift and no anchor.
    pub fn extreme(self) -> bool {
        matches!(self, Flag::AllCorrect | Flag::AllWrong)
    }
}

/// The flags a calibration stored (`item_calibrations.flags`: the words joined by commas, empty
/// for none), read once into flags; an unknown word is an error naming it.
pub fn parse_stored(column: &str) -> Result<Vec<Flag>, UnknownWord> {
    column.split(',').filter(|w| !w.is_empty()).map(|w| Flag::try_from(w.to_string())).collect()
}

/// The column's text for `flags` (the inverse of [`parse_stored`]).
pub fn to_stored(flags: &[Flag]) -> String {
    flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

/// The flags one item's estimate raises under `rules`.
pub fn item_flags(e: &ItemEstimate, rules: &FlagRules) -> Vec<Flag> {
    let mut flags = Vec::new();
    match e.status {
        Status::AllCorrect => flags.push(Flag::AllCorrect),
        Status::AllWrong => flags.push(Flag::AllWrong),
        Status::Measured => {}
    }
    if let Some(fit) = e.fit.filter(|_| e.count >= rules.min_fit_responses) {
        if fit.infit > rules.fit_high || fit.outfit > rules.fit_high {
            flags.push(Flag::Misfit);
        } else if fit.infit < rules.fit_low || fit.outfit < rules.fit_low {
            flags.push(Flag::Overfit);
        }
    }
    if let Some(target) = rules.target {
        let half = rules.z * if e.se.is_finite() { e.se } else { f64::INFINITY };
        if e.difficulty + half < target - rules.level_margin || e.status == Status::AllCorrect && e.difficulty < target - rules.level_margin
        {
            flags.push(Flag::TooEasy);
        } else if e.difficulty - half > target + rules.level_margin
            || e.status == Status::AllWrong && e.difficulty > target + rules.level_margin
        {
            flags.push(Flag::TooHard);
        }
    }
    flags
}

/// A question's difficulty in two calibrations (e.g. two editions or two runs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Drift {
    /// Later minus earlier, logits (positive: harder now).
    pub difference: f64,
    /// difference / √(se₁² + se₂²).
    pub z: f64,
    pub drifted: bool,
}

/// Compares (difficulty, se) of the same question in two calibrations on one scale: drifted when
/// the difference is at least `drift_logits` and significant at `z`.
pub fn drift(earlier: (f64, f64), later: (f64, f64), rules: &FlagRules) -> Drift {
    let difference = later.0 - earlier.0;
    let se = (earlier.1.powi(2) + later.1.powi(2)).sqrt();
    let z = if se > 0.0 && se.is_finite() { difference / se } else { 0.0 };
    Drift { difference, z, drifted: difference.abs() >= rules.drift_logits && z.abs() >= rules.z }
}

/// One response at option level: what the candidate chose ("B", or "AC" on a multiple-answer
/// item; "" when left blank) and the candidate's ability from the calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub option: String,
    pub theta: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionStat {
    pub option: String,
    pub count: usize,
    pub mean_theta: f64,
    pub is_key: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyCheck {
    /// Every answer given (blank left out), most chosen first.
    pub options: Vec<OptionStat>,
    /// Distractors chosen by at least `min_count` candidates whose mean ability is above that
    /// of the candidates who chose the key (or chosen by `min_count` when nobody chose the key).
    pub suspects: Vec<String>,
}

impl KeyCheck {
    pub fn suspected(&self) -> bool {
        !self.suspects.is_empty()
    }
}

/// Mean ability of the candidates behind each answer; a key is suspected wrong when a
/// distractor drew at least `min_count` candidates who are on average abler than those who chose
/// the key. The key is compared as written (option letters in any order: "CA" = "AC").
pub fn key_check(key: &str, choices: &[Choice], min_count: usize) -> KeyCheck {
    let norm = |s: &str| {
        let mut c: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        c.sort_unstable();
        c.into_iter().collect::<String>()
    };
    let key = norm(key);
    let mut by: std::collections::BTreeMap<String, (usize, f64)> = Default::default();
    for c in choices {
        let o = norm(&c.option);
        if o.is_empty() || !c.theta.is_finite() {
            continue;
        }
        let e = by.entry(o).or_default();
        e.0 += 1;
        e.1 += c.theta;
    }
    let mut options: Vec<OptionStat> =
        by.into_iter().map(|(option, (n, s))| OptionStat { is_key: option == key, option, count: n, mean_theta: s / n as f64 }).collect();
    options.sort_by(|a, b| b.count.cmp(&a.count).then(a.option.cmp(&b.option)));
    let key_mean = options.iter().find(|o| o.is_key).map(|o| o.mean_theta);
    let suspects = options
        .iter()
        .filter(|o| !o.is_key && o.count >= min_count.max(1) && key_mean.is_none_or(|k| o.mean_theta > k))
        .map(|o| o.option.clone())
        .collect();
    KeyCheck { options, suspects }
}

/// "Too easy" or "too hard" for a level whose target ability is `target` (e.g. the level's
/// adopted cut): the whole confidence interval of the difficulty is more than
/// `rules.level_margin` below or above it.
pub fn level_flag(difficulty: f64, se: f64, target: f64, rules: &FlagRules) -> Option<Flag> {
    let half = rules.z * if se.is_finite() { se } else { f64::INFINITY };
    if difficulty + half < target - rules.level_margin {
        Some(Flag::TooEasy)
    } else if difficulty - half > target + rules.level_margin {
        Some(Flag::TooHard)
    } else {
        None
    }
}
