//! Rasch calibration by joint maximum likelihood (JML) with the (L-1)/L bias correction.
//!
//! Model: a person of ability θ answers an item of difficulty b right with probability
//! P = 1 / (1 + e^(b-θ)), both in logits on one scale.
//!
//! # Why joint ML
//! Papers are drawn per candidate from a pool, so the data are sparse (each person sees a subset
//! of the items) and some items are scored in fractions of their points. JML handles both with
//! one pass over the responses per iteration (linear in the number of responses: 10,000
//! candidates × 100 items from a 3,000-item pool calibrate in well under a second, see
//! BENCHMARKS.md). Conditional ML needs each person's elementary symmetric functions over their
//! own paper (O(L²) per person and iteration, more for the derivatives) and has no natural place
//! for fractional scores; marginal ML needs a population distribution and quadrature. JML's
//! known flaw, item estimates spread too wide by about L/(L-1) for tests of length L (Wright &
//! Douglas 1977), is corrected by the usual factor (L-1)/L, with L the mean number of responses
//! per measured person. The recovery test in this module's tests checks the result against known
//! difficulties on a pool-drawn design.
//!
//! # Partial credit
//! A score is the fraction of the item's points earned, in [0, 1]. Fractions are treated as
//! expected-score data: the estimating equations are Σ x = Σ P for every person and item, so a
//! half-credit answer counts as half a right answer. The information used for standard errors
//! is Σ P(1-P), as for right/wrong items.
//!
//! # Extreme scores
//! A person with every response fully right (or every response zero) has no finite ML
//! estimate, nor has an item everyone got right (or wrong). These are set aside before the
//! joint estimation, repeatedly (setting a person aside can make an item extreme and back),
//! until none remains. After the joint estimation each set-aside item and person gets the
//! estimate for the standard fractional adjustment of its score (n - 0.3 or 0.3, configurable)
//! against the measured estimates, with status [`Status::AllCorrect`] or [`Status::AllWrong`]
//! and no fit statistics. Their responses take no part in the other estimates.
//!
//! # Identification
//! Without anchors, the mean difficulty of the measured items is 0. With anchors (items whose
//! difficulties are fixed from an earlier calibration), the anchored items keep their values
//! and every other estimate is on their scale; each connected part of the data needs at least
//! one anchor. Anchored items are never set aside and also report their displacement: the
//! difficulty these data alone would give them, minus the anchor value.
//!
//! # A faint prior on difficulties
//! Each free difficulty carries a N(0, 10²) prior ([`ITEM_PRIOR`]), so the estimate is a MAP
//! estimate: negligible where responses speak, finite where sparse partial-credit data alone
//! would send an item and the one officer who scored on it to infinity, which the extreme-score
//! check cannot see (tests/fixtures/rasch/nonconvergent-demo.csv).
//!
//! # Convergence
//! Alternating Newton steps (all persons, then all items), each step capped at 1 logit. The
//! estimation stops when no estimate moved by more than [`Options::tolerance`] in an iteration;
//! more than [`Options::max_iterations`] iterations is an error.
//!
//! # Fit
//! Over the responses used in the joint estimation, with standardised residual
//! z = (x - P) / √W, W = P(1-P): outfit = mean z², infit = Σ(x-P)² / ΣW, each with its
//! Wilson–Hilferty standardisation (Wright & Masters 1982): t = (MS^⅓ - 1)(3/q) + q/3 where q² is
//! the model variance of the mean square (using the kurtosis term C = W(1 - 3W) of a 0/1
//! response).

use serde::Serialize;

/// One response: person and item are indices (see [`Labels`]); score is the fraction of the
/// item's points earned, 0.0..=1.0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Obs {
    pub person: u32,
    pub item: u32,
    pub score: f64,
}

/// Maps outside keys (badge numbers, version ids, CSV labels) to dense indices and back.
#[derive(Clone, Debug)]
pub struct Labels<K> {
    keys: Vec<K>,
    index: std::collections::HashMap<K, u32>,
}

impl<K: std::hash::Hash + Eq + Clone> Default for Labels<K> {
    fn default() -> Self {
        Labels { keys: Vec::new(), index: std::collections::HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Labels<K> {
    pub fn new() -> Self {
        Self::default()
    }
    /// The index of `key`, given the next free one on first sight.
    pub fn id(&mut self, key: &K) -> u32 {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(key.clone());
        self.index.insert(key.clone(), i);
        i
    }
    pub fn get(&self, key: &K) -> Option<u32> {
        self.index.get(key).copied()
    }
    pub fn key(&self, i: u32) -> &K {
        &self.keys[i as usize]
    }
    pub fn keys(&self) -> &[K] {
        &self.keys
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Precision (1/variance) of the prior on free item difficulties: N(0, 10²).
pub const ITEM_PRIOR: f64 = 0.01;

/// Settings of [`calibrate`]; `Options::default()` is what the product uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// (item index, fixed difficulty) from an earlier calibration.
    pub anchors: Vec<(u32, f64)>,
    /// Largest change of any estimate in an iteration, in logits, at which it stops.
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Apply the (L-1)/L correction of JML's spread.
    pub bias_correction: bool,
    /// Fraction taken off (or added to) an extreme score before estimating it.
    pub extreme_adjustment: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { anchors: Vec::new(), tolerance: 1e-5, max_iterations: 2000, bias_correction: true, extreme_adjustment: 0.3 }
    }
}

/// How an estimate was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Estimated jointly from non-extreme data.
    Measured,
    /// Every response that could inform it was fully right: an item everyone measured got
    /// right, or a person with a perfect score. Estimated from the score n - adjustment.
    AllCorrect,
    /// Every such response was zero. Estimated from the score 0 + adjustment.
    AllWrong,
}

/// Mean-square fit statistics and their standardised forms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Fit {
    pub infit: f64,
    pub outfit: f64,
    pub infit_z: f64,
    pub outfit_z: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemEstimate {
    /// Logits; higher is harder.
    pub difficulty: f64,
    /// Model standard error (1/√information), from the responses behind the estimate.
    pub se: f64,
    /// Every response the item received.
    pub count: usize,
    /// Sum of the scores of those responses.
    pub score: f64,
    pub status: Status,
    pub anchored: bool,
    /// Anchored items: the difficulty these data alone give, minus the anchor value (None when
    /// the data alone are extreme for it).
    pub displacement: Option<f64>,
    /// None for extreme items and items measured only by extreme persons.
    pub fit: Option<Fit>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonEstimate {
    /// Logits; higher is abler.
    pub ability: f64,
    pub se: f64,
    pub count: usize,
    pub score: f64,
    pub status: Status,
    pub fit: Option<Fit>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    pub items: Vec<ItemEstimate>,
    pub persons: Vec<PersonEstimate>,
    pub iterations: usize,
    /// The (L-1)/L factor applied to the free difficulties (1 when not applied).
    pub bias_factor: f64,
    /// L: mean number of responses per measured person.
    pub mean_test_length: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RaschError {
    #[error("no responses to calibrate")]
    Empty,
    #[error("response {index}: score {score} is not a number in 0..=1")]
    BadScore { index: usize, score: f64 },
    #[error("person #{person} has two responses to item #{item}")]
    Duplicate { person: u32, item: u32 },
    #[error("item #{item} has no responses")]
    NoResponses { item: u32 },
    #[error("person #{person} has no responses")]
    NoPersonResponses { person: u32 },
    #[error("anchor for item #{item} is not a finite difficulty or names no item")]
    BadAnchor { item: u32 },
    #[error("every person or every item has an extreme score: nothing can be estimated jointly")]
    AllExtreme,
    #[error(
        "the responses fall into {} groups with no person in common{}: estimates in different groups cannot be put on one scale (calibrate them apart, or anchor an item in each group)",
        groups.len(), if *anchored { " and without an anchored item" } else { "" }
    )]
    Disconnected {
        /// The item indices of each group that cannot be placed (without anchors: every group).
        groups: Vec<Vec<u32>>,
        anchored: bool,
    },
    #[error("no convergence after {iterations} iterations (last change {max_change:.2e} logits); the data may have a part everyone above some level gets right")]
    NotConverged { iterations: usize, max_change: f64 },
}

/// Probability of a right answer (expected score) at ability `theta` on an item of
/// difficulty `b`.
pub fn probability(theta: f64, b: f64) -> f64 {
    1.0 / (1.0 + (b - theta).exp())
}

/// Solves Σ w_j P(t - d_j) = target for t, given (d_j, w_j) with w_j > 0 and
/// 0 < target < Σ w_j. Safeguarded Newton inside the exact bracket
/// [min d + logit(target/W), max d + logit(target/W)].
fn solve(locs: impl Iterator<Item = (f64, f64)> + Clone, target: f64) -> f64 {
    let total: f64 = locs.clone().map(|(_, w)| w).sum();
    let (mut lo, mut hi) = locs.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (d, _)| (lo.min(d), hi.max(d)));
    let l = (target / (total - target)).ln();
    lo += l;
    hi += l;
    let mut t = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (mut f, mut df) = (-target, 0.0);
        for (d, w) in locs.clone() {
            let p = probability(t, d);
            f += w * p;
            df += w * p * (1.0 - p);
        }
        if f > 0.0 {
            hi = t;
        } else {
            lo = t;
        }
        let mut next = t - f / df;
        if !(next > lo && next < hi && next.is_finite()) {
            next = 0.5 * (lo + hi);
        }
        let done = (next - t).abs() < 1e-12 || hi - lo < 1e-12;
        t = next;
        if done {
            break;
        }
    }
    t
}

/// An item on a paper: its difficulty and the points it carries.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PaperItem {
    pub difficulty: f64,
    pub points: f64,
}

/// Expected raw score (points) of a person at `theta` on a paper: the test characteristic curve.
pub fn expected_score(theta: f64, paper: &[PaperItem]) -> f64 {
    paper.iter().map(|i| i.points * probability(theta, i.difficulty)).sum()
}

/// The paper's maximum raw score.
pub fn max_score(paper: &[PaperItem]) -> f64 {
    paper.iter().map(|i| i.points).sum()
}

/// Fisher information of the paper's responses at `theta` (Σ P(1-P)); 1/√ of it is the standard
/// error of a measure there.
pub fn information(theta: f64, paper: &[PaperItem]) -> f64 {
    paper
        .iter()
        .map(|i| {
            let p = probability(theta, i.difficulty);
            p * (1.0 - p)
        })
        .sum()
}

/// The test characteristic curve sampled at `steps` + 1 abilities from `from` to `to`:
/// (θ, expected raw score).
pub fn characteristic_curve(paper: &[PaperItem], from: f64, to: f64, steps: usize) -> Vec<(f64, f64)> {
    let steps = steps.max(1);
    (0..=steps)
        .map(|k| {
            let t = from + (to - from) * k as f64 / steps as f64;
            (t, expected_score(t, paper))
        })
        .collect()
}

/// Inverse of the test characteristic curve: the ability whose expected raw score on `paper` is
/// `raw`. None when `raw` is not strictly between 0 and the paper's maximum (no finite ability
/// has an expected score of 0 or full marks) or the paper is empty.
pub fn theta_for_score(raw: f64, paper: &[PaperItem]) -> Option<f64> {
    let max = max_score(paper);
    if paper.is_empty()
        || !(raw > 0.0 && raw < max)
        || paper.iter().any(|i| i.points.is_nan() || i.points <= 0.0 || !i.difficulty.is_finite())
    {
        return None;
    }
    Some(solve(paper.iter().map(|i| (i.difficulty, i.points)), raw))
}

/// Wilson–Hilferty standardisation of a mean square with model variance q².
fn standardise(ms: f64, q2: f64) -> f64 {
    if q2.is_nan() || q2 <= 0.0 {
        return 0.0;
    }
    let q = q2.sqrt();
    (ms.cbrt() - 1.0) * (3.0 / q) + q / 3.0
}

#[derive(Default, Clone, Copy)]
struct FitSums {
    n: f64,
    sum_w: f64,
    sum_y2: f64,
    sum_z2: f64,
    sum_c_over_w2: f64,
    sum_c_minus_w2: f64,
}

impl FitSums {
    fn add(&mut self, x: f64, p: f64) {
        let w = (p * (1.0 - p)).max(1e-300);
        let y = x - p;
        let c = w * (1.0 - 3.0 * w);
        self.n += 1.0;
        self.sum_w += w;
        self.sum_y2 += y * y;
        self.sum_z2 += y * y / w;
        self.sum_c_over_w2 += c / (w * w);
        self.sum_c_minus_w2 += c - w * w;
    }
    fn fit(&self) -> Option<Fit> {
        if self.n < 1.0 {
            return None;
        }
        let outfit = self.sum_z2 / self.n;
        let infit = self.sum_y2 / self.sum_w;
        let q2_out = self.sum_c_over_w2 / (self.n * self.n) - 1.0 / self.n;
        let q2_in = self.sum_c_minus_w2 / (self.sum_w * self.sum_w);
        Some(Fit { infit, outfit, infit_z: standardise(infit, q2_in), outfit_z: standardise(outfit, q2_out) })
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

/// Calibrates `obs` on `n_persons` persons and `n_items` items (indices below these; each must
/// have at least one response). See the module documentation for the method.
pub fn calibrate(n_persons: usize, n_items: usize, obs: &[Obs], opts: &Options) -> Result<Calibration, RaschError> {
    if obs.is_empty() || n_persons == 0 || n_items == 0 {
        return Err(RaschError::Empty);
    }
    for (index, o) in obs.iter().enumerate() {
        if !(0.0..=1.0).contains(&o.score) {
            return Err(RaschError::BadScore { index, score: o.score });
        }
        assert!((o.person as usize) < n_persons && (o.item as usize) < n_items, "response {index} names a person or item out of range");
    }
    let mut anchor: Vec<Option<f64>> = vec![None; n_items];
    for &(i, v) in &opts.anchors {
        if (i as usize) >= n_items || !v.is_finite() {
            return Err(RaschError::BadAnchor { item: i });
        }
        anchor[i as usize] = Some(v);
    }
    let anchored = anchor.iter().any(Option::is_some);

    // Responses sorted by person (then item), person rows as offsets.
    let mut all: Vec<Obs> = obs.to_vec();
    all.sort_unstable_by_key(|o| (o.person, o.item));
    for w in all.windows(2) {
        if w[0].person == w[1].person && w[0].item == w[1].item {
            return Err(RaschError::Duplicate { person: w[0].person, item: w[0].item });
        }
    }
    let rows = |data: &[Obs]| {
        let mut start = vec![0usize; n_persons + 1];
        for o in data {
            start[o.person as usize + 1] += 1;
        }
        for k in 0..n_persons {
            start[k + 1] += start[k];
        }
        start
    };
    let all_rows = rows(&all);
    let (mut item_n, mut item_s, mut person_s) = (vec![0usize; n_items], vec![0f64; n_items], vec![0f64; n_persons]);
    for o in &all {
        item_n[o.item as usize] += 1;
        item_s[o.item as usize] += o.score;
        person_s[o.person as usize] += o.score;
    }
    if let Some(i) = item_n.iter().position(|&n| n == 0) {
        return Err(RaschError::NoResponses { item: i as u32 });
    }
    if let Some(p) = (0..n_persons).find(|&p| all_rows[p] == all_rows[p + 1]) {
        return Err(RaschError::NoPersonResponses { person: p as u32 });
    }

    // Set extreme persons and items aside until none remains.
    let (mut p_on, mut i_on) = (vec![true; n_persons], vec![true; n_items]);
    let extreme = |s: f64, n: f64| n == 0.0 || s <= 0.0 || s >= n;
    loop {
        let mut changed = false;
        let (mut is, mut in_) = (vec![0f64; n_items], vec![0f64; n_items]);
        for p in 0..n_persons {
            if !p_on[p] {
                continue;
            }
            let (mut s, mut n) = (0.0, 0.0);
            for o in &all[all_rows[p]..all_rows[p + 1]] {
                if i_on[o.item as usize] {
                    s += o.score;
                    n += 1.0;
                }
            }
            if extreme(s, n) {
                p_on[p] = false;
                changed = true;
                continue;
            }
            for o in &all[all_rows[p]..all_rows[p + 1]] {
                is[o.item as usize] += o.score;
                in_[o.item as usize] += 1.0;
            }
        }
        for i in 0..n_items {
            if i_on[i] && anchor[i].is_none() && extreme(is[i], in_[i]) {
                i_on[i] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // The core: responses between measured persons and measured (or anchored) items.
    let core: Vec<Obs> = all.iter().copied().filter(|o| p_on[o.person as usize] && i_on[o.item as usize]).collect();
    let free_on = |i: usize| i_on[i] && anchor[i].is_none();
    if core.is_empty() || !(0..n_items).any(free_on) && !anchored {
        return Err(RaschError::AllExtreme);
    }
    let core_rows = rows(&core);

    // Connectivity: persons and items of the core as one graph.
    {
        let mut parent: Vec<u32> = (0..(n_persons + n_items) as u32).collect();
        for o in &core {
            let (a, b) = (find(&mut parent, o.person), find(&mut parent, n_persons as u32 + o.item));
            if a != b {
                parent[a as usize] = b;
            }
        }
        let mut groups: std::collections::BTreeMap<u32, (Vec<u32>, bool)> = Default::default();
        for o in &core {
            let r = find(&mut parent, n_persons as u32 + o.item);
            let g = groups.entry(r).or_default();
            g.1 |= anchor[o.item as usize].is_some();
            g.0.push(o.item);
        }
        let mut groups: Vec<(Vec<u32>, bool)> = groups.into_values().collect();
        for g in &mut groups {
            g.0.sort_unstable();
            g.0.dedup();
        }
        groups.sort();
        let bad: Vec<Vec<u32>> = if anchored {
            groups.into_iter().filter(|g| !g.1).map(|g| g.0).collect()
        } else if groups.len() > 1 {
            groups.into_iter().map(|g| g.0).collect()
        } else {
            Vec::new()
        };
        if !bad.is_empty() {
            return Err(RaschError::Disconnected { groups: bad, anchored });
        }
    }

    // Start values: log-odds of the scores.
    let logit = |s: f64, n: f64| ((s + 0.5) / (n - s + 0.5)).ln();
    let (mut cs_i, mut cn_i, mut cn_p) = (vec![0f64; n_items], vec![0f64; n_items], vec![0f64; n_persons]);
    let mut cs_p = vec![0f64; n_persons];
    for o in &core {
        cs_i[o.item as usize] += o.score;
        cn_i[o.item as usize] += 1.0;
        cs_p[o.person as usize] += o.score;
        cn_p[o.person as usize] += 1.0;
    }
    let mut b: Vec<f64> = (0..n_items).map(|i| anchor[i].unwrap_or_else(|| -logit(cs_i[i], cn_i[i]))).collect();
    let free: Vec<usize> = (0..n_items).filter(|&i| free_on(i)).collect();
    let centre = |b: &mut [f64], theta: &mut [f64]| {
        if anchored || free.is_empty() {
            return;
        }
        let m = free.iter().map(|&i| b[i]).sum::<f64>() / free.len() as f64;
        for &i in &free {
            b[i] -= m;
        }
        for (t, on) in theta.iter_mut().zip(&p_on) {
            if *on {
                *t -= m;
            }
        }
    };
    let mut theta: Vec<f64> = (0..n_persons).map(|p| if p_on[p] { logit(cs_p[p], cn_p[p]) } else { 0.0 }).collect();
    if !anchored {
        let m = free.iter().map(|&i| b[i]).sum::<f64>() / free.len() as f64;
        for &i in &free {
            b[i] -= m;
        }
    }

    let person_pass = |theta: &mut [f64], b: &[f64]| -> f64 {
        let mut max = 0f64;
        for p in 0..n_persons {
            if !p_on[p] {
                continue;
            }
            let (mut g, mut h) = (cs_p[p], 0.0);
            let t = theta[p];
            for o in &core[core_rows[p]..core_rows[p + 1]] {
                let pr = probability(t, b[o.item as usize]);
                g -= pr;
                h += pr * (1.0 - pr);
            }
            let step = (g / h).clamp(-1.0, 1.0);
            theta[p] = t + step;
            max = max.max(step.abs());
        }
        max
    };
    let mut sp = vec![0f64; n_items];
    let mut sw = vec![0f64; n_items];
    let mut iterations = 0;
    loop {
        iterations += 1;
        let mut max = person_pass(&mut theta, &b);
        sp.iter_mut().for_each(|v| *v = 0.0);
        sw.iter_mut().for_each(|v| *v = 0.0);
        for o in &core {
            let pr = probability(theta[o.person as usize], b[o.item as usize]);
            sp[o.item as usize] += pr;
            sw[o.item as usize] += pr * (1.0 - pr);
        }
        for &i in &free {
            // a faint prior on each free difficulty, N(0, 10² logits): no effect worth the name
            // where responses speak, but a finite estimate where sparse data alone would send
            // an item (and the one officer who scored on it) to infinity
            let step = ((sp[i] - cs_i[i] - ITEM_PRIOR * b[i]) / (sw[i] + ITEM_PRIOR)).clamp(-1.0, 1.0);
            b[i] += step;
            max = max.max(step.abs());
        }
        centre(&mut b, &mut theta);
        if max < opts.tolerance {
            break;
        }
        if iterations >= opts.max_iterations || !max.is_finite() {
            return Err(RaschError::NotConverged { iterations, max_change: max });
        }
    }

    // Bias correction of the free difficulties, then the persons again on the corrected scale.
    let measured_persons = p_on.iter().filter(|&&on| on).count();
    let mean_test_length = core.len() as f64 / measured_persons.max(1) as f64;
    let mut bias_factor = 1.0;
    if opts.bias_correction && mean_test_length > 1.0 && !free.is_empty() {
        bias_factor = (mean_test_length - 1.0) / mean_test_length;
        let on: Vec<usize> = (0..n_items).filter(|&i| i_on[i]).collect();
        let c = if anchored { on.iter().map(|&i| b[i]).sum::<f64>() / on.len() as f64 } else { 0.0 };
        for &i in &free {
            b[i] = c + bias_factor * (b[i] - c);
        }
        for _ in 0..opts.max_iterations {
            if person_pass(&mut theta, &b) < opts.tolerance * 0.1 {
                break;
            }
        }
    }

    let adj = opts.extreme_adjustment.clamp(1e-6, 0.5);
    let adjusted = |s: f64, n: f64| -> (f64, Status) {
        if s <= 0.0 {
            (adj, Status::AllWrong)
        } else if s >= n {
            (n - adj, Status::AllCorrect)
        } else {
            (s, Status::Measured)
        }
    };
    let mut i_status = vec![Status::Measured; n_items];
    let mut i_known: Vec<bool> = i_on.clone();
    let mut p_status = vec![Status::Measured; n_persons];
    let mut p_known: Vec<bool> = p_on.clone();

    // Items by persons: the responses of each item (from any person), for the set-aside ones.
    let aside: Vec<usize> = (0..n_items).filter(|&i| !i_on[i]).collect();
    let mut by_item: std::collections::HashMap<u32, Vec<(u32, f64)>> = aside.iter().map(|&i| (i as u32, Vec::new())).collect();
    if !aside.is_empty() {
        for o in &all {
            if let Some(v) = by_item.get_mut(&o.item) {
                v.push((o.person, o.score));
            }
        }
    }
    // 1. Set-aside items against the measured persons who answered them.
    let estimate_item = |resp: &[(u32, f64)], theta: &[f64], known: &[bool]| -> Option<(f64, Status)> {
        let used: Vec<(u32, f64)> = resp.iter().copied().filter(|&(p, _)| known[p as usize]).collect();
        if used.is_empty() {
            return None;
        }
        let (s, n) = (used.iter().map(|r| r.1).sum::<f64>(), used.len() as f64);
        let (target, status) = adjusted(s, n);
        // Σ P(θ - b) = target  ⇔  Σ P(b - θ) = n - target
        Some((solve(used.iter().map(|&(p, _)| (theta[p as usize], 1.0)), n - target), status))
    };
    for &i in &aside {
        if let Some((v, st)) = estimate_item(&by_item[&(i as u32)], &theta, &p_on) {
            b[i] = v;
            i_status[i] = st;
            i_known[i] = true;
        }
    }
    // 2. Set-aside persons against every item with an estimate.
    for p in 0..n_persons {
        if p_on[p] {
            continue;
        }
        let resp: Vec<&Obs> = all[all_rows[p]..all_rows[p + 1]].iter().filter(|o| i_known[o.item as usize]).collect();
        if resp.is_empty() {
            continue;
        }
        let (s, n) = (resp.iter().map(|o| o.score).sum::<f64>(), resp.len() as f64);
        let (target, st) = adjusted(s, n);
        theta[p] = solve(resp.iter().map(|o| (b[o.item as usize], 1.0)), target);
        p_status[p] = st;
        p_known[p] = true;
    }
    // 3. Items answered only by set-aside persons, then those persons' remaining items.
    for &i in &aside {
        if !i_known[i] {
            if let Some((v, st)) = estimate_item(&by_item[&(i as u32)], &theta, &p_known) {
                b[i] = v;
                i_status[i] = st;
                i_known[i] = true;
            }
        }
    }
    for p in 0..n_persons {
        if !p_known[p] {
            let resp = &all[all_rows[p]..all_rows[p + 1]];
            let (s, n) = (resp.iter().map(|o| o.score).sum::<f64>(), resp.len() as f64);
            let (target, st) = adjusted(s, n);
            theta[p] = solve(resp.iter().map(|o| (b[o.item as usize], 1.0)), target);
            p_status[p] = st;
            p_known[p] = true;
        }
    }

    // Standard errors, fit, displacement.
    let (mut i_info, mut p_info) = (vec![0f64; n_items], vec![0f64; n_persons]);
    let (mut i_fit, mut p_fit) = (vec![FitSums::default(); n_items], vec![FitSums::default(); n_persons]);
    for o in &core {
        let (p, i) = (o.person as usize, o.item as usize);
        let pr = probability(theta[p], b[i]);
        let w = pr * (1.0 - pr);
        i_info[i] += w;
        p_info[p] += w;
        i_fit[i].add(o.score, pr);
        p_fit[p].add(o.score, pr);
    }
    // Set-aside items and persons: information from the responses behind their estimates.
    for &i in &aside {
        let known = if by_item[&(i as u32)].iter().any(|&(p, _)| p_on[p as usize]) { &p_on } else { &p_known };
        i_info[i] = by_item[&(i as u32)]
            .iter()
            .filter(|&&(p, _)| known[p as usize])
            .map(|&(p, _)| {
                let pr = probability(theta[p as usize], b[i]);
                pr * (1.0 - pr)
            })
            .sum();
    }
    for p in 0..n_persons {
        if !p_on[p] {
            p_info[p] = all[all_rows[p]..all_rows[p + 1]]
                .iter()
                .map(|o| {
                    let pr = probability(theta[p], b[o.item as usize]);
                    pr * (1.0 - pr)
                })
                .sum();
        }
    }
    let se = |info: f64| if info > 0.0 { 1.0 / info.sqrt() } else { f64::INFINITY };
    let mut anchored_resp: std::collections::HashMap<u32, Vec<f64>> = Default::default();
    if anchored {
        for o in &core {
            if anchor[o.item as usize].is_some() {
                anchored_resp.entry(o.item).or_default().push(theta[o.person as usize]);
            }
        }
    }
    let items = (0..n_items)
        .map(|i| {
            let displacement = anchor[i].and_then(|a| {
                let thetas = anchored_resp.get(&(i as u32))?;
                let (s, n) = (cs_i[i], thetas.len() as f64);
                (!extreme(s, n)).then(|| solve(thetas.iter().map(|&t| (t, 1.0)), n - s) - a)
            });
            ItemEstimate {
                difficulty: b[i],
                se: se(i_info[i]),
                count: item_n[i],
                score: item_s[i],
                status: i_status[i],
                anchored: anchor[i].is_some(),
                displacement,
                fit: if i_on[i] { i_fit[i].fit() } else { None },
            }
        })
        .collect();
    let persons = (0..n_persons)
        .map(|p| PersonEstimate {
            ability: theta[p],
            se: se(p_info[p]),
            count: all_rows[p + 1] - all_rows[p],
            score: person_s[p],
            status: p_status[p],
            fit: if p_on[p] { p_fit[p].fit() } else { None },
        })
        .collect();
    Ok(Calibration { items, persons, iterations, bias_factor, mean_test_length })
}
