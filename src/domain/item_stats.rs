//! Classical test theory (CTT) item analysis of a closed sitting, as pure functions.
//!
//! After a sitting closes, trainers need to know which questions work: how easy each one was
//! (facility), whether it separates strong from weak candidates (discrimination), how its options
//! were used (distractor analysis), and how consistent the paper was as a whole (reliability).
//! Questions that look broken (miskeyed, trivial, impossible, dead options) are flagged for review.
//!
//! Papers are drawn per candidate from a pool, so each item is answered by a subset of the
//! candidates: every per-item statistic uses only the candidates who were shown the item.
//!
//! Formulas (population moments throughout, i.e. divide by N, not N - 1):
//! * facility p = mean credit (Kelley's difficulty index for 0/1 items).
//! * point-biserial = Pearson r between item credit and the *corrected* total (total minus this
//!   item's points), so the item is not correlated with itself; for 0/1 credit this equals
//!   r_pb = (M1 - M0) / s_y · √(p·q).
//! * upper-lower index D = mean credit of the top 27% minus the bottom 27% (Kelley 1939).
//! * KR-20 = k/(k-1) · (1 - Σ p_i·q_i·w_i² / σ²_X) (Kuder & Richardson 1937) for 0/1 items worth
//!   w_i points; Cronbach's alpha = k/(k-1) · (1 - Σ σ²_i / σ²_X) (Cronbach 1951) otherwise.
//!   KR-20 is alpha for 0/1 items. For pool-drawn papers k is the mean paper length and Σ σ²_i
//!   the mean over candidates of the item variances on their own paper; with a fixed paper both
//!   reduce to the textbook formulas.
//!
//! No output ever holds NaN: an undefined statistic is `None`, and an empty mean is 0.

use serde::Serialize;

use crate::domain::ids::VersionId;

/// One candidate's answer to one item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemResponse {
    /// Index into [`SittingInput::totals`]. A response whose candidate has no total is ignored.
    pub candidate: usize,
    /// Option ids chosen, e.g. "AC", "T"; "" = left blank.
    pub chosen: String,
    /// Fraction of the item's points earned, 0.0..=1.0 (clamped; a non-finite value counts as 0).
    pub credit: f64,
}

/// One item (question version) of the sitting with every response it received.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemInput {
    pub version_id: VersionId,
    /// e.g. ['A','B','C','D'] or ['T','F'].
    pub option_ids: Vec<char>,
    /// Correct option ids, e.g. "B" or "ACD".
    pub key: String,
    pub max_points: f64,
    /// At most one per candidate; a repeated candidate's later responses are ignored.
    pub responses: Vec<ItemResponse>,
}

/// Everything [`analyse`] needs about a closed sitting.
#[derive(Clone, Debug, PartialEq)]
pub struct SittingInput {
    /// Each candidate's total score, indexed by candidate; assumed to be the sum of the points
    /// earned on the items below (reliability and the corrected totals rely on it).
    pub totals: Vec<f64>,
    pub max_total: f64,
    pub items: Vec<ItemInput>,
}

/// Why an item looks broken. Serialises as `{"kind": "unused_distractor", "option": "D"}`, or
/// just `{"kind": "too_easy"}` for flags without an option.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "option", rename_all = "snake_case")]
pub enum Flag {
    /// Strong candidates do worse than weak ones: typically a wrong key or an ambiguous stem.
    NegativeDiscrimination,
    /// The item barely separates strong from weak candidates.
    LowDiscrimination,
    /// A wrong option nobody (or almost nobody) chose: it is not doing its job as a distractor.
    UnusedDistractor(char),
    TooEasy,
    TooHard,
    /// A wrong option was chosen more often than the key: a classic sign of a miskeyed item.
    KeyLessPopularThanDistractor(char),
}

/// How often one option was chosen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionCount {
    pub option: char,
    pub count: u32,
    /// Whether the option is part of the key.
    pub correct: bool,
    /// How many of the top 27% chose it.
    pub upper: u32,
    /// How many of the bottom 27% chose it.
    pub lower: u32,
}

/// Statistics of one item over the candidates who were shown it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemStats {
    pub version_id: VersionId,
    /// Responses counted, blanks included.
    pub n: u32,
    pub blank: u32,
    /// Mean credit; 0 when n == 0.
    pub facility: f64,
    /// Corrected item-total correlation; None if undefined (fewer than 2 responses, or no
    /// variance in the credit or in the rest of the total).
    pub point_biserial: Option<f64>,
    /// Mean credit of the top 27% minus the bottom 27% by total; None if the groups have fewer
    /// than 2 candidates each (n < 6).
    pub upper_lower: Option<f64>,
    /// Every option id in `option_ids` order; a multiple-choice response counts toward each
    /// option it includes.
    pub options: Vec<OptionCount>,
    pub flags: Vec<Flag>,
}

/// Statistics of the whole sitting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SittingStats {
    pub candidates: u32,
    /// Mean, population sd, median, min and max of the totals; all 0 with no candidates.
    pub mean: f64,
    pub sd: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// mean / max_total · 100; 0 when max_total is not positive.
    pub mean_percent: f64,
    /// KR-20 when every credit is 0 or 1, else Cronbach's alpha; None with fewer than 2
    /// candidates, fewer than 2 items per paper, or zero total variance.
    pub reliability: Option<f64>,
    /// "kr20" | "alpha".
    pub reliability_method: &'static str,
    pub items: Vec<ItemStats>,
}

/// Thresholds for flagging items.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlagRules {
    /// Below this many responses nothing is flagged.
    pub min_n: u32,
    /// Flag when facility > this.
    pub too_easy: f64,
    /// Flag when facility < this.
    pub too_hard: f64,
    /// Flag when 0 <= point-biserial < this.
    pub low_discrimination: f64,
    /// Flag a wrong option chosen by at most this share of the responses.
    pub unused_distractor_share: f64,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules {
            // With fewer than ~20 responses a correlation's standard error (≈ 1/√n ≥ 0.22) is
            // larger than the effects we flag, so flags would mostly be noise.
            min_n: 20,
            // Almost everyone right: the item adds little information and cannot discriminate.
            too_easy: 0.95,
            // A tenth right is far under chance (0.25 with four options): a wrong key or untaught.
            too_hard: 0.10,
            // Ebel's rule of thumb: discrimination under 0.10–0.20 is poor; 0.10 flags only the
            // clearly useless items rather than every modest one.
            low_discrimination: 0.10,
            // Only an option nobody chose at all is flagged by default: in small sittings a
            // share threshold would flag plausible-but-rare distractors.
            unused_distractor_share: 0.0,
        }
    }
}

/// Option ids of a true/false item (mirrors `bank::TRUE_ID`/`FALSE_ID`; this module stands alone).
const TRUE_ID: char = 'T';
const FALSE_ID: char = 'F';

/// A standard deviation this small relative to the data's magnitude is float noise, not spread:
/// e.g. 3.3 - 1.1 and 2.2 differ in the last bit.
const ZERO_SD_RELATIVE: f64 = 1e-9;

/// [`analyse_with`] the default [`FlagRules`].
pub fn analyse(input: &SittingInput) -> SittingStats {
    analyse_with(input, &FlagRules::default())
}

/// Analyses a closed sitting: descriptive statistics of the totals, reliability, and per-item
/// facility, discrimination, option counts and flags.
pub fn analyse_with(input: &SittingInput, rules: &FlagRules) -> SittingStats {
    let totals: Vec<f64> = input.totals.iter().map(|&t| finite_or_zero(t)).collect();
    let prepared: Vec<Prepared> = input.items.iter().map(|item| prepare(item, totals.len())).collect();

    let items = input.items.iter().zip(&prepared).map(|(item, p)| item_stats(item, p, &totals, rules)).collect();

    let dichotomous = prepared.iter().all(|p| p.responses.iter().all(|r| r.credit == 0.0 || r.credit == 1.0));
    let reliability_method = if dichotomous { "kr20" } else { "alpha" };

    let mut sorted = totals.clone();
    sorted.sort_by(f64::total_cmp);
    let mean = mean(&totals);
    let max_total = finite_or_zero(input.max_total);
    SittingStats {
        candidates: saturating_u32(totals.len()),
        mean,
        sd: population_variance(&totals).sqrt(),
        median: median(&sorted),
        min: sorted.first().copied().unwrap_or(0.0),
        max: sorted.last().copied().unwrap_or(0.0),
        mean_percent: if max_total > 0.0 { mean / max_total * 100.0 } else { 0.0 },
        reliability: reliability(&input.items, &prepared, &totals),
        reliability_method,
        items,
    }
}

/// Parallel papers: splits entries by facility into `count` strata of near-equal size (sizes
/// differ by at most 1, the larger ones first), ascending by facility with ties broken by index,
/// so drawing one entry per stratum gives papers of matched difficulty. Returns the indices of
/// each stratum; within and across strata they run in ascending facility (hardest first).
///
/// `count == 0` gives no strata. `count` should be at most `facilities.len()`; a larger count is
/// cut to `facilities.len()` (one entry per stratum) rather than returning empty strata a drawer
/// cannot pick from, so the caller sees the shortfall in the returned length.
pub fn strata(facilities: &[f64], count: usize) -> Vec<Vec<usize>> {
    let count = count.min(facilities.len());
    if count == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..facilities.len()).collect();
    // total_cmp keeps the order total (and deterministic) even if a NaN slipped in.
    order.sort_by(|&a, &b| facilities[a].total_cmp(&facilities[b]).then(a.cmp(&b)));
    let (base, extra) = (order.len() / count, order.len() % count);
    let mut rest = order.as_slice();
    (0..count)
        .map(|s| {
            let (head, tail) = rest.split_at(base + usize::from(s < extra));
            rest = tail;
            head.to_vec()
        })
        .collect()
}

/// Prior facility for a question with no statistics yet, from its authored difficulty
/// (1 easy → 0.8, 2 medium → 0.6, 3 hard → 0.4). Values outside 1..=3 are clamped to the
/// nearest level, so the prior stays monotone in difficulty.
pub fn prior_facility(difficulty: i32) -> f64 {
    match difficulty {
        i32::MIN..=1 => 0.8,
        2 => 0.6,
        _ => 0.4,
    }
}

/// A response cleaned up for computing: one per candidate, a known total, credit in 0..=1.
struct Clean {
    candidate: usize,
    /// Chosen option ids, deduplicated (so "AA" counts once).
    chosen: Vec<char>,
    credit: f64,
}

struct Prepared {
    responses: Vec<Clean>,
    max_points: f64,
}

fn prepare(item: &ItemInput, candidates: usize) -> Prepared {
    let mut seen = vec![false; candidates];
    let mut responses = Vec::with_capacity(item.responses.len());
    for r in &item.responses {
        if r.candidate >= candidates || seen[r.candidate] {
            continue;
        }
        seen[r.candidate] = true;
        let mut chosen: Vec<char> = r.chosen.chars().filter(|c| !c.is_whitespace()).collect();
        chosen.sort_unstable();
        chosen.dedup();
        responses.push(Clean { candidate: r.candidate, chosen, credit: finite_or_zero(r.credit).clamp(0.0, 1.0) });
    }
    Prepared { responses, max_points: finite_or_zero(item.max_points).max(0.0) }
}

fn item_stats(item: &ItemInput, p: &Prepared, totals: &[f64], rules: &FlagRules) -> ItemStats {
    let rs = &p.responses;
    let n = rs.len();
    let credits: Vec<f64> = rs.iter().map(|r| r.credit).collect();
    // The rest of the paper: the total without this item's own points.
    let rest: Vec<f64> = rs.iter().map(|r| totals[r.candidate] - r.credit * p.max_points).collect();

    // Rank by total, best first, ties by candidate index; the groups are the two ends.
    let mut ranked: Vec<&Clean> = rs.iter().collect();
    ranked.sort_by(|a, b| totals[b.candidate].total_cmp(&totals[a.candidate]).then(a.candidate.cmp(&b.candidate)));
    let g = group_size(n);
    let (upper, lower) = (&ranked[..g], &ranked[n - g..]);
    let group_mean = |grp: &[&Clean]| grp.iter().map(|r| r.credit).sum::<f64>() / grp.len() as f64;
    let upper_lower = (g >= 2).then(|| group_mean(upper) - group_mean(lower));

    let key: Vec<char> = item.key.chars().collect();
    let chose = |grp: &[&Clean], o: char| saturating_u32(grp.iter().filter(|r| r.chosen.contains(&o)).count());
    let options: Vec<OptionCount> = item
        .option_ids
        .iter()
        .map(|&o| OptionCount {
            option: o,
            count: saturating_u32(rs.iter().filter(|r| r.chosen.contains(&o)).count()),
            correct: key.contains(&o),
            upper: chose(upper, o),
            lower: chose(lower, o),
        })
        .collect();

    let mut stats = ItemStats {
        version_id: item.version_id,
        n: saturating_u32(n),
        blank: saturating_u32(rs.iter().filter(|r| r.chosen.is_empty()).count()),
        facility: mean(&credits),
        point_biserial: pearson(&credits, &rest),
        upper_lower,
        options,
        flags: Vec::new(),
    };
    stats.flags = flags(item, &stats, rules);
    stats
}

/// Top/bottom group size: 27% of n rounded half up (in integers, so 13.5 is always 14), at
/// least 1 when anyone answered. 27% maximises the groups' difference while keeping them large
/// enough to be stable (Kelley 1939).
fn group_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n * 27 + 50) / 100).clamp(1, n)
    }
}

fn flags(item: &ItemInput, s: &ItemStats, rules: &FlagRules) -> Vec<Flag> {
    let mut out = Vec::new();
    if s.n == 0 || s.n < rules.min_n {
        return out;
    }
    // The upper-lower index only stands in for the sign: its scale differs from a correlation's.
    match (s.point_biserial, s.upper_lower) {
        (Some(pb), _) if pb < 0.0 => out.push(Flag::NegativeDiscrimination),
        (Some(pb), _) if pb < rules.low_discrimination => out.push(Flag::LowDiscrimination),
        (None, Some(ul)) if ul < 0.0 => out.push(Flag::NegativeDiscrimination),
        _ => {}
    }
    // True/false has one "distractor"; nobody choosing it just means the item was easy.
    let true_false = item.option_ids.len() == 2 && item.option_ids.contains(&TRUE_ID) && item.option_ids.contains(&FALSE_ID);
    if !true_false {
        let limit = rules.unused_distractor_share * f64::from(s.n);
        out.extend(s.options.iter().filter(|o| !o.correct && f64::from(o.count) <= limit).map(|o| Flag::UnusedDistractor(o.option)));
    }
    if s.facility > rules.too_easy {
        out.push(Flag::TooEasy);
    }
    if s.facility < rules.too_hard {
        out.push(Flag::TooHard);
    }
    // Single key only (true/false included): with several keyed options each is chosen by only
    // part of the candidates, so a distractor outdrawing one of them is not suspicious.
    if let [key] = s.options.iter().filter(|o| o.correct).collect::<Vec<_>>()[..] {
        out.extend(s.options.iter().filter(|o| !o.correct && o.count > key.count).map(|o| Flag::KeyLessPopularThanDistractor(o.option)));
    }
    out
}

/// KR-20 / Cronbach's alpha, generalised to pool-drawn papers (see the module docs):
/// k̄/(k̄-1) · (1 - mean over candidates of Σ σ²_i on their paper / σ²_X).
fn reliability(items: &[ItemInput], prepared: &[Prepared], totals: &[f64]) -> Option<f64> {
    let candidates = totals.len();
    if candidates < 2 || items.len() < 2 {
        return None;
    }
    let var_x = population_variance(totals);
    if negligible(var_x.sqrt(), totals) {
        return None;
    }
    let mut paper_len = 0usize;
    let mut error_var = 0.0;
    for p in prepared {
        // Item variance in points: w²·p·q for 0/1 credit (KR-20), the plain variance otherwise.
        let points: Vec<f64> = p.responses.iter().map(|r| r.credit * p.max_points).collect();
        // Each candidate who had the item carries its variance on their paper.
        error_var += population_variance(&points) * points.len() as f64;
        paper_len += points.len();
    }
    let k = paper_len as f64 / candidates as f64;
    if k < 2.0 {
        return None;
    }
    let r = k / (k - 1.0) * (1.0 - error_var / candidates as f64 / var_x);
    r.is_finite().then_some(r)
}

/// Pearson's r; None when undefined (n < 2 or either side has no spread).
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let n = x.len() as f64;
    if negligible((sxx / n).sqrt(), x) || negligible((syy / n).sqrt(), y) {
        return None;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    r.is_finite().then_some(r)
}

fn negligible(sd: f64, values: &[f64]) -> bool {
    let scale = values.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    sd <= ZERO_SD_RELATIVE * scale
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Population variance (divide by N) by the corrected two-pass algorithm (Chan, Golub & LeVeque
/// 1983): Σ(x-m)² less (Σ(x-m))²/N, which cancels the rounding error in the mean m. 0 if empty.
fn population_variance(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = mean(v);
    let (ss, s) = v.iter().fold((0.0, 0.0), |(ss, s), x| (ss + (x - m) * (x - m), s + (x - m)));
    let n = v.len() as f64;
    ((ss - s * s / n) / n).max(0.0)
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    //! Expected values were worked out by hand and checked independently with a short, throwaway
    //! Python 3 script (not kept in the repo) using only the standard library:
    //! `statistics.correlation` for Pearson's r, `statistics.pvariance`/`pstdev`/`median`, and
    //! the KR-20/alpha and 27% group formulas from the module docs written afresh, not ported
    //! from this code. Decimal literals below are the script's output (`repr`).

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[track_caller]
    fn assert_close(actual: Option<f64>, expected: f64) {
        match actual {
            Some(a) => assert!(close(a, expected), "expected {expected}, got {a}"),
            None => panic!("expected {expected}, got None"),
        }
    }

    /// An item scored all-or-nothing against `key`, one response per listed candidate.
    fn exact_item(id: i64, options: &str, key: &str, choices: &[(usize, &str)]) -> ItemInput {
        ItemInput {
            version_id: VersionId(id),
            option_ids: options.chars().collect(),
            key: key.into(),
            max_points: 1.0,
            responses: choices
                .iter()
                .map(|&(c, ch)| ItemResponse { candidate: c, chosen: ch.into(), credit: if ch == key { 1.0 } else { 0.0 } })
                .collect(),
        }
    }

    fn everyone(choices: &[&'static str]) -> Vec<(usize, &'static str)> {
        choices.iter().copied().enumerate().collect()
    }

    fn assert_no_nan(s: &SittingStats) {
        let mut all = vec![s.mean, s.sd, s.median, s.min, s.max, s.mean_percent];
        all.extend(s.reliability);
        for i in &s.items {
            all.push(i.facility);
            all.extend(i.point_biserial);
            all.extend(i.upper_lower);
        }
        assert!(all.iter().all(|x| x.is_finite()), "{s:?}");
    }

    /// 10 candidates × 5 single-choice items, 1 point each. Totals 5,4,4,3,2,2,2,1,1,0, so the
    /// top 27% (3) are candidates 0,1,2 and the bottom 3 are 7,8,9.
    fn dichotomous() -> SittingInput {
        let items = vec![
            exact_item(1, "ABCD", "A", &everyone(&["A", "A", "A", "A", "A", "A", "B", "A", "C", ""])),
            exact_item(2, "ABCD", "B", &everyone(&["B", "B", "B", "B", "A", "B", "B", "C", "", "D"])),
            exact_item(3, "ABCD", "C", &everyone(&["C", "C", "C", "A", "C", "D", "A", "B", "C", "A"])),
            exact_item(4, "ABCD", "D", &everyone(&["D", "D", "A", "D", "B", "C", "D", "", "A", "B"])),
            exact_item(5, "ABCD", "A", &everyone(&["A", "B", "A", "C", "B", "D", "B", "C", "D", "B"])),
        ];
        SittingInput { totals: vec![5.0, 4.0, 4.0, 3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 0.0], max_total: 5.0, items }
    }

    #[test]
    fn dichotomous_sitting_matches_hand_computed_values() {
        let s = analyse(&dichotomous());
        assert_eq!(s.candidates, 10);
        assert!(close(s.mean, 2.4) && close(s.median, 2.0) && s.min == 0.0 && s.max == 5.0);
        assert!(close(s.sd, 1.4966629547095767)); // √2.24
        assert!(close(s.mean_percent, 48.0));
        assert_eq!(s.reliability_method, "kr20");
        // k = 5, Σpq = 1.02, σ²_X = 2.24: 5/4 · (1 - 1.02/2.24) = 0.63616…
        assert_close(s.reliability, 0.6361607142857144);

        let expected = [
            // facility, corrected point-biserial, upper-lower
            (0.7, 0.36115755925730764, 2.0 / 3.0),
            (0.6, 0.5601120336112039, 1.0),
            (0.5, 0.23076923076923078, 2.0 / 3.0),
            (0.4, 0.3227486121839514, 2.0 / 3.0),
            (0.2, 0.5204164998665332, 2.0 / 3.0),
        ];
        for (item, (fac, pb, ul)) in s.items.iter().zip(expected) {
            assert_eq!(item.n, 10);
            assert!(close(item.facility, fac), "{item:?}");
            assert_close(item.point_biserial, pb);
            assert_close(item.upper_lower, ul);
            // fewer than min_n = 20 responses: nothing is flagged
            assert!(item.flags.is_empty());
        }
        assert_eq!([1, 1, 0, 1, 0], s.items.iter().map(|i| i.blank).collect::<Vec<_>>()[..]);

        let item1 = &s.items[0];
        let oc = |option, count, correct, upper, lower| OptionCount { option, count, correct, upper, lower };
        assert_eq!(item1.options, vec![oc('A', 7, true, 3, 1), oc('B', 1, false, 0, 0), oc('C', 1, false, 0, 1), oc('D', 0, false, 0, 0)]);
        assert_eq!(s.items[3].options[3], oc('D', 4, true, 2, 0));
        assert_no_nan(&s);
    }

    #[test]
    fn partial_credit_uses_alpha_and_counts_each_chosen_option() {
        // Item 1 single (key B, 1 pt); item 2 multiple (key AC, 2 pts) and item 3 multiple
        // (key BCD, 3 pts) with a subset scoring in proportion, any wrong option scoring 0.
        let resp = |c: usize, chosen: &str, credit: f64| ItemResponse { candidate: c, chosen: chosen.into(), credit };
        let item = |id, options: &str, key: &str, max_points, responses| ItemInput {
            version_id: VersionId(id),
            option_ids: options.chars().collect(),
            key: key.into(),
            max_points,
            responses,
        };
        let input = SittingInput {
            totals: vec![6.0, 4.0, 3.0, 5.0, 0.0, 0.0],
            max_total: 6.0,
            items: vec![
                item(
                    1,
                    "ABCD",
                    "B",
                    1.0,
                    vec![resp(0, "B", 1.0), resp(1, "B", 1.0), resp(2, "A", 0.0), resp(3, "B", 1.0), resp(4, "C", 0.0), resp(5, "", 0.0)],
                ),
                item(
                    2,
                    "ABCD",
                    "AC",
                    2.0,
                    vec![
                        resp(0, "AC", 1.0),
                        resp(1, "A", 0.5),
                        resp(2, "CA", 1.0),
                        resp(3, "C", 0.5),
                        resp(4, "AB", 0.0),
                        resp(5, "D", 0.0),
                    ],
                ),
                item(
                    3,
                    "ABCD",
                    "BCD",
                    3.0,
                    vec![
                        resp(0, "BCD", 1.0),
                        resp(1, "BC", 2.0 / 3.0),
                        resp(2, "B", 1.0 / 3.0),
                        resp(3, "DCB", 1.0),
                        resp(4, "", 0.0),
                        resp(5, "AD", 0.0),
                    ],
                ),
            ],
        };
        let s = analyse(&input);
        assert_eq!(s.reliability_method, "alpha");
        // Item variances in points 0.25, 0.6666…, 1.9166…; σ²_X = 5.6666…: 3/2 · (1 - 2.8333…/5.6666…) = 0.796875
        assert_close(s.reliability, 0.796875);
        // n = 6 is the smallest n with groups of 2 (6 · 0.27 = 1.62 → 2): top = candidates 0 and 3,
        // bottom = 4 and 5 (tied at 0, both in).
        let expected = [(0.7924058156930615, 1.0), (0.5892556509887896, 0.75), (0.8885233166386386, 1.0)];
        for (item, (pb, ul)) in s.items.iter().zip(expected) {
            assert!(close(item.facility, 0.5));
            assert_close(item.point_biserial, pb);
            assert_close(item.upper_lower, ul);
        }
        let counts: Vec<u32> = s.items[1].options.iter().map(|o| o.count).collect();
        assert_eq!(counts, [4, 1, 3, 1]);
        assert_eq!(s.items[1].options.iter().filter(|o| o.correct).map(|o| o.option).collect::<String>(), "AC");
        assert_no_nan(&s);
    }

    /// 20 candidates with totals 20, 19, …, 1: candidate c ranks c-th.
    fn twenty(items: Vec<ItemInput>) -> SittingInput {
        SittingInput { totals: (0..20).map(|c| 20.0 - c as f64).collect(), max_total: 20.0, items }
    }

    fn choices(runs: &[(&'static str, usize)]) -> Vec<(usize, &'static str)> {
        runs.iter().flat_map(|&(ch, times)| std::iter::repeat_n(ch, times)).enumerate().collect()
    }

    #[test]
    fn miskeyed_item_is_flagged() {
        // The truth is B and the strong candidates choose it, but the key says A.
        let s = analyse(&twenty(vec![exact_item(7, "ABCD", "A", &choices(&[("B", 10), ("C", 1), ("D", 1), ("A", 8)]))]));
        let item = &s.items[0];
        assert!(close(item.facility, 0.4));
        assert_close(item.point_biserial, -0.870874597538754);
        assert_close(item.upper_lower, -1.0); // groups of 5: top all B, bottom all A
        assert_eq!(item.flags, vec![Flag::NegativeDiscrimination, Flag::KeyLessPopularThanDistractor('B')]);
    }

    #[test]
    fn unused_distractor_and_difficulty_flags() {
        let s = analyse(&twenty(vec![
            // D is never chosen; discriminates well (r = 0.715…), facility 0.75.
            exact_item(1, "ABCD", "A", &choices(&[("A", 15), ("B", 3), ("C", 2)])),
            // true/false that everyone gets right: too easy, but F unused is not a distractor flag;
            // no variance in credit, so no point-biserial, and upper-lower 0 is not negative.
            exact_item(2, "TF", "T", &choices(&[("T", 20)])),
            // only the best candidate right: too hard (facility 0.05, r = 0.345)
            exact_item(3, "ABCD", "B", &choices(&[("B", 1), ("A", 6), ("C", 6), ("D", 7)])),
            // a multiple-choice item: unused distractors count, a popular distractor does not
            exact_item(4, "ABCD", "ABC", &choices(&[("ABC", 10), ("AB", 10)])),
        ]));
        let [easy_ok, tf, hard, multi] = &s.items[..] else { panic!() };
        assert_close(easy_ok.point_biserial, 0.7152474728151236);
        assert!(close(easy_ok.facility, 0.75));
        assert_eq!(easy_ok.flags, vec![Flag::UnusedDistractor('D')]);

        assert_eq!((tf.facility, tf.point_biserial, tf.upper_lower), (1.0, None, Some(0.0)));
        assert_eq!(tf.flags, vec![Flag::TooEasy]);

        assert!(close(hard.facility, 0.05));
        assert_close(hard.point_biserial, 0.34488074935770635);
        assert_eq!(
            hard.flags,
            vec![
                Flag::TooHard,
                Flag::KeyLessPopularThanDistractor('A'),
                Flag::KeyLessPopularThanDistractor('C'),
                Flag::KeyLessPopularThanDistractor('D')
            ]
        );

        assert_eq!(multi.options.iter().map(|o| o.count).collect::<Vec<_>>(), [20, 20, 10, 0]);
        assert_eq!(multi.flags, vec![Flag::UnusedDistractor('D')]);

        // One response short of min_n: the same data flags nothing.
        let mut input = twenty(vec![exact_item(1, "ABCD", "A", &choices(&[("A", 15), ("B", 3), ("C", 2)]))]);
        input.items[0].responses.pop();
        assert!(analyse(&input).items[0].flags.is_empty());
        // A share threshold: C (2 of 20 = 10%) counts as unused at 10%.
        let rules = FlagRules { unused_distractor_share: 0.10, ..FlagRules::default() };
        let s = analyse_with(&twenty(vec![exact_item(1, "ABCD", "A", &choices(&[("A", 15), ("B", 3), ("C", 2)]))]), &rules);
        assert_eq!(s.items[0].flags, vec![Flag::UnusedDistractor('C'), Flag::UnusedDistractor('D')]);
    }

    #[test]
    fn low_discrimination_is_flagged() {
        // Right answers spread almost evenly over the ranking: two right, two wrong, ….
        let picks: Vec<(usize, &str)> = (0..20).map(|c| (c, if c % 4 < 2 { "A" } else { "B" })).collect();
        let s = analyse(&twenty(vec![exact_item(1, "AB", "A", &picks)]));
        assert_close(s.items[0].point_biserial, 0.08770580193070292);
        assert_eq!(s.items[0].flags, vec![Flag::LowDiscrimination]);
    }

    #[test]
    fn ties_are_broken_by_candidate_index() {
        // All six tie on total; groups of 2 are candidates 0,1 (top) and 4,5 (bottom) whatever
        // order the responses arrive in.
        let picks = [(5, "C"), (4, "C"), (3, "B"), (2, "B"), (1, "A"), (0, "A")];
        let s = analyse(&SittingInput { totals: vec![1.0; 6], max_total: 1.0, items: vec![exact_item(1, "ABC", "A", &picks)] });
        let groups: Vec<(char, u32, u32)> = s.items[0].options.iter().map(|o| (o.option, o.upper, o.lower)).collect();
        assert_eq!(groups, [('A', 2, 0), ('B', 0, 0), ('C', 0, 2)]);
        assert_close(s.items[0].upper_lower, 1.0);
    }

    #[test]
    fn pool_drawn_papers_use_mean_paper_length() {
        // 3 items in the pool, 2 per candidate. k̄ = 2; item variances 2/9, 2/9, 1/4; each
        // candidate's paper has error variance 4/9 or 17/36, mean 0.4583…; σ²_X = 0.5:
        // 2 · (1 - 0.9166…) = 0.1666….
        let input = SittingInput {
            totals: vec![2.0, 1.0, 1.0, 0.0],
            max_total: 2.0,
            items: vec![
                exact_item(1, "AB", "A", &[(0, "A"), (1, "A"), (3, "B")]),
                exact_item(2, "AB", "A", &[(0, "A"), (2, "B"), (3, "B")]),
                exact_item(3, "AB", "A", &[(1, "B"), (2, "A")]),
            ],
        };
        let s = analyse(&input);
        assert_eq!(s.items.iter().map(|i| i.n).collect::<Vec<_>>(), [3, 3, 2]);
        assert_close(s.reliability, 0.16666666666666674);
    }

    #[test]
    fn degenerate_inputs_give_none_not_nan() {
        // No candidates at all.
        let s = analyse(&SittingInput {
            totals: vec![],
            max_total: 0.0,
            items: vec![exact_item(1, "ABCD", "A", &[]), exact_item(2, "TF", "T", &[])],
        });
        assert_eq!((s.candidates, s.mean, s.sd, s.median, s.mean_percent, s.reliability), (0, 0.0, 0.0, 0.0, 0.0, None));
        assert_eq!((s.items[0].n, s.items[0].facility, s.items[0].point_biserial, s.items[0].upper_lower), (0, 0.0, None, None));
        assert!(s.items[0].options.iter().all(|o| o.count == 0) && s.items[0].flags.is_empty());
        assert_no_nan(&s);

        // One candidate.
        let s = analyse(&SittingInput {
            totals: vec![1.0],
            max_total: 2.0,
            items: vec![exact_item(1, "AB", "A", &[(0, "A")]), exact_item(2, "AB", "A", &[(0, "B")])],
        });
        assert_eq!((s.median, s.sd, s.reliability), (1.0, 0.0, None));
        assert!(s.items.iter().all(|i| i.point_biserial.is_none() && i.upper_lower.is_none()));
        assert_no_nan(&s);

        // Everyone the same score (3.3, though 1.1 + 2.2 is 3.3000000000000003 in floats).
        let resp = |c, credit| ItemResponse { candidate: c, chosen: "A".into(), credit };
        let item = |id, max_points, credits: &[f64]| ItemInput {
            version_id: VersionId(id),
            option_ids: vec!['A', 'B'],
            key: "A".into(),
            max_points,
            responses: credits.iter().enumerate().map(|(c, &x)| resp(c, x)).collect(),
        };
        let totals = (0..30).map(|c| if c % 2 == 0 { 3.3 } else { 1.1 + 2.2 }).collect();
        let s = analyse_with(
            &SittingInput { totals, max_total: 3.3, items: vec![item(1, 1.1, &[1.0; 30]), item(2, 2.2, &[1.0; 30])] },
            &FlagRules { min_n: 0, ..FlagRules::default() },
        );
        assert!(s.sd < 1e-12, "{}", s.sd);
        assert_eq!(s.reliability, None);
        assert!(s.items.iter().all(|i| i.point_biserial.is_none() && i.upper_lower == Some(0.0)));
        assert_no_nan(&s);

        // The rest of the total is the same for everyone, only in exact arithmetic: 3.3 - 1.1 is
        // 2.1999999999999997, not 2.2. That is no variance, not a correlation of ±1.
        let half: Vec<f64> = (0..30).map(|c| (c % 2) as f64).collect();
        let totals = half.iter().map(|x| 2.2 + 1.1 * x).collect();
        let s = analyse(&SittingInput { totals, max_total: 3.3, items: vec![item(1, 1.1, &half), item(2, 2.2, &[1.0; 30])] });
        assert_eq!(s.items[0].point_biserial, None);
        assert_no_nan(&s);

        // An item nobody had, next to one everybody had; junk inputs are tolerated.
        let mut input = dichotomous();
        input.items.push(exact_item(99, "ABCD", "A", &[]));
        input.items[0].responses.push(ItemResponse { candidate: 42, chosen: "A".into(), credit: 1.0 }); // no such candidate
        input.items[0].responses.push(ItemResponse { candidate: 0, chosen: "B".into(), credit: f64::NAN }); // repeat
        let rules = FlagRules { min_n: 0, ..FlagRules::default() };
        let s = analyse_with(&input, &rules);
        let nobody = &s.items[5];
        assert_eq!((nobody.n, nobody.blank, nobody.point_biserial, nobody.upper_lower), (0, 0, None, None));
        assert!(nobody.flags.is_empty()); // not even TooHard for its facility of 0
        assert_eq!(s.items[..5], analyse_with(&dichotomous(), &rules).items[..]);
        assert_close(s.reliability, 0.6361607142857144); // an empty item adds nothing to any paper
        assert_no_nan(&s);
    }

    #[test]
    fn strata_are_balanced_and_ordered() {
        let f = [0.5, 0.2, 0.9, 0.2, 0.7, 0.1, 0.3];
        assert_eq!(strata(&f, 3), vec![vec![5, 1, 3], vec![6, 0], vec![4, 2]]);
        assert_eq!(strata(&f, 0), Vec::<Vec<usize>>::new());
        assert_eq!(strata(&f, 7), [5, 1, 3, 6, 0, 4, 2].map(|i| vec![i]));
        assert_eq!(strata(&f, 9).len(), 7); // more strata than entries: one entry each
        assert!(strata(&[], 3).is_empty());

        let many: Vec<f64> = (0..103).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        for count in 1..=many.len() {
            let s = strata(&many, count);
            assert_eq!(s.len(), count);
            let sizes: Vec<usize> = s.iter().map(Vec::len).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            let flat: Vec<usize> = s.concat();
            let mut seen = flat.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..many.len()).collect::<Vec<_>>());
            // ascending facility, ties by index, across the stratum boundaries too
            assert!(flat.windows(2).all(|w| (many[w[0]], w[0]) < (many[w[1]], w[1])));
        }
    }

    #[test]
    fn prior_facility_by_difficulty() {
        assert_eq!([1, 2, 3].map(prior_facility), [0.8, 0.6, 0.4]);
        assert_eq!([0, 4].map(prior_facility), [0.8, 0.4]);
    }
}
