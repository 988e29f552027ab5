//! Pass marks by the modified Angoff method.
//!
//! Each rater of a panel states, for every item of a form, the probability that a minimally
//! competent candidate answers it right. A rater's cut is the expected raw score of that
//! candidate: Σ p_i × points_i. The panel's cut is the mean of the raters' cuts, with standard
//! error SD(rater cuts) / √(raters) (sample SD, n - 1). Between rounds the panel sees the spread
//! of each item's ratings and discusses the items it disagrees on most. The adopted raw cut is
//! put on the calibrated scale through the form's test characteristic curve
//! ([`super::rasch::theta_for_score`]), so it can be applied to any other form.

use serde::Serialize;

use super::rasch::{theta_for_score, PaperItem};

/// Where a standard-setting study is: rated (round 1, then 2), closed with a computed cut, or
/// adopted by an admin as its level's cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StudyStatus {
    Open,
    Closed,
    Adopted,
}

impl StudyStatus {
    pub const ALL: [StudyStatus; 3] = [StudyStatus::Open, StudyStatus::Closed, StudyStatus::Adopted];
    pub fn as_str(self) -> &'static str {
        match self {
            StudyStatus::Open => "open",
            StudyStatus::Closed => "closed",
            StudyStatus::Adopted => "adopted",
        }
    }
    pub fn parse(s: &str) -> Option<StudyStatus> {
        StudyStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One rating: in round `round`, rater `rater` says a minimally competent candidate answers
/// item `item` (an index into the form) right with probability `p`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rating {
    pub round: u32,
    pub rater: String,
    pub item: usize,
    pub p: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AngoffError {
    #[error("round {round}: no ratings")]
    NoRatings { round: u32 },
    #[error("round {round}: rater {rater} rated item {item}, which is not on the form ({items} items)")]
    UnknownItem { round: u32, rater: String, item: usize, items: usize },
    #[error("round {round}: rater {rater}'s rating of item {item} is {p}, not a probability in 0..=1")]
    BadRating { round: u32, rater: String, item: usize, p: f64 },
    #[error("round {round}: rater {rater} rated item {item} twice")]
    Duplicate { round: u32, rater: String, item: usize },
    #[error("round {round}: rater {rater} did not rate item {item}; every rater rates every item")]
    Missing { round: u32, rater: String, item: usize },
    #[error("the form has no items")]
    EmptyForm,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaterCut {
    pub rater: String,
    /// Σ p_i × points_i.
    pub cut: f64,
}

/// The ratings of one item in a round, for discussion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemSpread {
    pub item: usize,
    pub mean: f64,
    /// Sample SD over raters (0 with one rater).
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundResult {
    pub round: u32,
    pub raters: Vec<RaterCut>,
    /// Panel cut in raw points on this form: mean of the raters' cuts.
    pub cut: f64,
    /// SD of the rater cuts / √(number of raters); 0 with one rater.
    pub se: f64,
    pub max_score: f64,
    /// Items, widest disagreement (SD) first.
    pub items: Vec<ItemSpread>,
    /// The cut on the calibrated scale (logits) through the form's test characteristic curve;
    /// None when the cut is 0 or full marks, or the form's difficulties are not all known.
    pub theta: Option<f64>,
    /// θ at cut - se and cut + se: the standard error carried onto the scale.
    pub theta_low: Option<f64>,
    pub theta_high: Option<f64>,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    (mean, sd)
}

/// Every round of `ratings` on a form whose items carry `form` points and difficulties; one
/// result per round, in round order. All or nothing: any bad, missing or repeated rating is an
/// error naming the round, rater and item.
pub fn evaluate(form: &[PaperItem], ratings: &[Rating]) -> Result<Vec<RoundResult>, AngoffError> {
    if form.is_empty() {
        return Err(AngoffError::EmptyForm);
    }
    let mut rounds: std::collections::BTreeMap<u32, std::collections::BTreeMap<&str, Vec<Option<f64>>>> = Default::default();
    for r in ratings {
        if r.item >= form.len() {
            return Err(AngoffError::UnknownItem { round: r.round, rater: r.rater.clone(), item: r.item, items: form.len() });
        }
        if !(0.0..=1.0).contains(&r.p) {
            return Err(AngoffError::BadRating { round: r.round, rater: r.rater.clone(), item: r.item, p: r.p });
        }
        let row = rounds.entry(r.round).or_default().entry(r.rater.as_str()).or_insert_with(|| vec![None; form.len()]);
        if row[r.item].replace(r.p).is_some() {
            return Err(AngoffError::Duplicate { round: r.round, rater: r.rater.clone(), item: r.item });
        }
    }
    let max_score = super::rasch::max_score(form);
    let mut out = Vec::new();
    for (round, raters) in rounds {
        let mut cuts = Vec::new();
        for (rater, row) in &raters {
            if let Some(item) = row.iter().position(Option::is_none) {
                return Err(AngoffError::Missing { round, rater: rater.to_string(), item });
            }
            let cut = row.iter().zip(form).map(|(p, i)| p.unwrap_or(0.0) * i.points).sum();
            cuts.push(RaterCut { rater: rater.to_string(), cut });
        }
        if cuts.is_empty() {
            return Err(AngoffError::NoRatings { round });
        }
        let values: Vec<f64> = cuts.iter().map(|c| c.cut).collect();
        let (cut, sd) = mean_sd(&values);
        let se = sd / (values.len() as f64).sqrt();
        let mut items: Vec<ItemSpread> = (0..form.len())
            .map(|item| {
                let ps: Vec<f64> = raters.values().map(|row| row[item].unwrap_or(0.0)).collect();
                let (mean, sd) = mean_sd(&ps);
                ItemSpread {
                    item,
                    mean,
                    sd,
                    min: ps.iter().copied().fold(f64::INFINITY, f64::min),
                    max: ps.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                }
            })
            .collect();
        items.sort_by(|a, b| b.sd.total_cmp(&a.sd).then(a.item.cmp(&b.item)));
        out.push(RoundResult {
            round,
            raters: cuts,
            cut,
            se,
            max_score,
            items,
            theta: theta_for_score(cut, form),
            theta_low: theta_for_score(cut - se, form),
            theta_high: theta_for_score(cut + se, form),
        });
    }
    Ok(out)
}

/// A cut adopted on the scale, applied to another form: the raw score on `form` that a candidate
/// at `theta` is expected to get (the form's test characteristic curve).
pub fn raw_cut_on_form(theta: f64, form: &[PaperItem]) -> f64 {
    super::rasch::expected_score(theta, form)
}
