//! Blueprints and paper drawing.
//!
//! A sitting freezes its pool when it is created: for every blueprint rule, the exact question
//! versions (or case groups) that rule may draw from. Each candidate's paper is then a pure
//! function of that pool and the attempt's seed, so it can be re-drawn exactly for audit.
//!
//! # Fair papers (pool format 1)
//! Every paper of a sitting carries the same points: a rule's `points_centi` is the points of
//! one *entry* — one question, or one whole case group — and a case group's points are split
//! over its items by [`split_points`] (near-equal, the first items in case order take the
//! leftover hundredths). Drawing `count` entries therefore always gives `count × points`,
//! whether a case has 3 or 5 items. Splitting was chosen over drawing groups whose sizes sum to
//! a fixed number because it keeps every case group drawable (a 5-item case is not locked out
//! by a rule that needs 12 items from groups of 3 and 4) and keeps `count` meaning what the
//! trainer typed.
//!
//! Each entry carries its expected share of its points (`f`, thousandths) at the reference
//! ability [`REFERENCE_THETA`]: from the version's Rasch difficulty where it is calibrated, its
//! classical facility where it has item statistics, else the prior of its authored difficulty
//! (`item_stats::prior_facility`); a case group takes its items' mean. A paper's expected score
//! is Σ entry points × f. A blueprint may set a tolerance: the pool then carries a target (the
//! average paper's expected score) and drawing is rejection sampling from the seed — up to
//! [`FIT_TRIES`] candidate papers from the one seeded generator, the first within tolerance
//! kept (the closest if none is) — so a paper is still a pure function of pool and seed. A pool
//! whose simulated draws meet the tolerance less often than [`MIN_FIT_RATE`] is refused when it
//! is frozen, so in practice every paper meets it.
//!
//! Each entry also carries how many earlier papers showed it (`x`, frozen with the pool), and
//! drawing weights entries by `((m + 1) / (x + m + 1))²`, `m` the rule's mean exposure: equal
//! exposure draws uniformly, an unseen question is four times as likely as one on an average
//! number of papers. Parallel rules keep one entry per difficulty stratum (by `f`), weighted the
//! same way inside each stratum.
//!
//! Pools frozen before this (format 0: no `format` field) are drawn exactly as they always
//! were — case points per item, uniform choice — so their papers re-draw and grade unchanged.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::bank::{Level, QuestionKind};
use super::ids::{CaseId, VersionId};
use super::validation::Problem;

/// The ability (logits) at which a paper's expected score is computed: the origin of the
/// calibrated scale (the first calibration put the mean item difficulty there), so an item of
/// average difficulty counts half its points.
pub const REFERENCE_THETA: f64 = 0.0;
/// Candidate papers drawn from one seed before the closest is kept.
pub const FIT_TRIES: u32 = 200;
/// Share of single draws that must meet the tolerance for a pool to be frozen: with
/// [`FIT_TRIES`] tries, a paper misses it with probability below (1 − 0.1)^200 ≈ 10⁻⁹.
pub const MIN_FIT_RATE: f64 = 0.1;
/// Draws simulated when a pool with a tolerance is frozen.
pub const FIT_SIMULATIONS: u64 = 2000;
/// Current pool format (see the module documentation).
pub const POOL_FORMAT: u8 = 1;

/// What a blueprint rule draws: a question type, or whole case-analysis groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Single,
    Multiple,
    TrueFalse,
    Case,
}

impl RuleKind {
    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "single" => Some(RuleKind::Single),
            "multiple" => Some(RuleKind::Multiple),
            "truefalse" => Some(RuleKind::TrueFalse),
            "case" => Some(RuleKind::Case),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Single => "single",
            RuleKind::Multiple => "multiple",
            RuleKind::TrueFalse => "truefalse",
            RuleKind::Case => "case",
        }
    }
    pub fn question_kind(self) -> Option<QuestionKind> {
        match self {
            RuleKind::Single => Some(QuestionKind::Single),
            RuleKind::Multiple => Some(QuestionKind::Multiple),
            RuleKind::TrueFalse => Some(QuestionKind::TrueFalse),
            RuleKind::Case => None,
        }
    }
}

/// One line of a blueprint: "`count` questions of `kind` from `statute` at `difficulty`,
/// `points` each". For `case`, `count` is the number of case groups and `points` is per case
/// group, split over its items (see [`split_points`]), so every paper carries the same total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlueprintRule {
    pub kind: RuleKind,
    #[serde(default)]
    pub statute: Option<String>,
    #[serde(default)]
    pub difficulty: Option<i32>,
    #[serde(default)]
    pub level: Option<Level>,
    pub count: u32,
    /// Points per question (per case group for `case`), in hundredths of a point.
    pub points_centi: i64,
}

/// How many questions of which kind, statute and difficulty a paper has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlueprintSpec {
    pub rules: Vec<BlueprintRule>,
    /// Parallel papers: every candidate's paper spans the same range of item difficulty, from
    /// calibrated difficulties or item statistics where a question has them (its authored
    /// difficulty otherwise).
    #[serde(default)]
    pub parallel: bool,
    /// Largest distance, in thousandths of the paper's total points, between a paper's expected
    /// score (at ability 0 logits) and the pool's average paper; e.g. 20 = ±2 %. Absent: no
    /// bound. A pool that cannot keep its papers within it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_permille: Option<u32>,
    /// Set (by migration 2026-12-05-000014) on blueprints saved when a case rule's points were
    /// per item: such a blueprint can no longer freeze a pool (its papers would differ in
    /// total). Never set it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schema(ignore)]
    pub case_points_per_item: bool,
}

impl BlueprintSpec {
    /// Checks the blueprint on its own; returns every problem, in English.
    pub fn validate(&self) -> Vec<String> {
        self.problems().iter().map(Problem::line).collect()
    }

    /// Checks the blueprint on its own; returns every problem.
    pub fn problems(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        if self.rules.is_empty() {
            errs.push(Problem::plain("", "blueprint.no_rules", "a blueprint needs at least one rule"));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let n = i + 1;
            let of_rule = |key, mut params: Vec<(&'static str, String)>, english: String| {
                params.insert(0, ("n", n.to_string()));
                Problem::with("", key, params, format!("rule {n}: {english}"))
            };
            if r.count == 0 || r.count > 500 {
                errs.push(of_rule("blueprint.count", vec![("count", r.count.to_string())], format!("count must be 1–500, is {}", r.count)));
            }
            if r.points_centi <= 0 || r.points_centi > 100_000 {
                errs.push(of_rule("blueprint.points", vec![], "points must be more than 0 and at most 1000".into()));
            }
            if let Some(d) = r.difficulty {
                if !(1..=3).contains(&d) {
                    errs.push(of_rule("blueprint.difficulty", vec![], "difficulty must be 1, 2 or 3".into()));
                }
            }
            if r.kind == RuleKind::Case {
                if self.case_points_per_item {
                    errs.push(of_rule(
                        "blueprint.case_points_per_item",
                        vec![],
                        "this blueprint was saved when case points were per item, which gives papers different totals; save a new blueprint with points per case group".into(),
                    ));
                } else if r.points_centi < MIN_CASE_POINTS_CENTI {
                    errs.push(of_rule(
                        "blueprint.case_points",
                        vec![],
                        "a case group's points are split over its items: give at least 0.10".into(),
                    ));
                }
            }
        }
        if let Some(t) = self.tolerance_permille {
            if !(1..=500).contains(&t) {
                errs.push(Problem::with(
                    "tolerance",
                    "blueprint.tolerance",
                    vec![("t", permille_text(t))],
                    format!("must be more than 0 and at most 50 % of the paper's points, is {}", permille_text(t)),
                ));
            }
        }
        errs
    }
}

/// Least points of a case group (hundredths): each of up to 10 items gets at least 0.01.
pub const MIN_CASE_POINTS_CENTI: i64 = 10;

fn permille_text(t: u32) -> String {
    format!("{}.{} %", t / 10, t % 10)
}

/// Splits a case group's points over its `n` items: each gets `total / n` hundredths and the
/// first `total mod n` items one hundredth more, so the items always sum to `total`.
pub fn split_points(total: i64, n: usize) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let (base, extra) = (total / n as i64, (total % n as i64) as usize);
    (0..n).map(|k| base + i64::from(k < extra)).collect()
}

/// A candidate question version as the pool builder sees it.
#[derive(Clone, Debug)]
pub struct PoolCandidate {
    pub version_id: VersionId,
    pub kind: QuestionKind,
    pub statute: String,
    pub difficulty: i32,
    pub levels: Vec<Level>,
    pub option_count: usize,
    /// The case group (and the item's position in it), if this is a case item.
    pub case: Option<(CaseId, i32)>,
    /// Share of points candidates earned on it in analysed sittings, if any.
    pub facility: Option<f64>,
    /// Rasch difficulty (logits) where the version is calibrated.
    pub calibrated: Option<f64>,
    /// Papers it has appeared on so far (every sitting).
    pub exposure: u32,
}

impl PoolCandidate {
    /// Expected share of its points at [`REFERENCE_THETA`]: calibrated difficulty, else
    /// classical facility, else the prior of the authored difficulty.
    pub fn expected_share(&self) -> f64 {
        match self.calibrated {
            Some(b) if b.is_finite() => super::measurement::rasch::probability(REFERENCE_THETA, b),
            _ => self.facility.unwrap_or_else(|| super::item_stats::prior_facility(self.difficulty)),
        }
    }
}

/// A pool entry: one question, or one case group's items in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolEntry {
    /// Question version ids (one for a plain question, all items for a case group).
    pub v: Vec<VersionId>,
    /// Number of options per version (0 for true/false), for shuffling without a lookup.
    pub n: Vec<u8>,
    /// Expected share of the entry's points in thousandths ([`PoolCandidate::expected_share`];
    /// a case group's mean). Format 0 pools kept it only for parallel rules (from facility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<u16>,
    /// Papers the entry had appeared on when the pool was frozen (format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<u32>,
}

fn per_mille(f: f64) -> u16 {
    (f.clamp(0.0, 1.0) * 1000.0).round() as u16
}

/// The frozen pool of a sitting: one list per blueprint rule, disjoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub rules: Vec<PoolRule>,
    /// 0 (absent): frozen before fair papers, drawn the old way; 1: see the module docs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub format: u8,
    /// The expected-score bound papers are drawn to, if the blueprint set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Fit>,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

/// A pool's expected-score bound, in hundredths of a point at [`REFERENCE_THETA`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fit {
    /// The average paper's expected score: Σ over rules of count × points × mean f.
    pub target_centi: i64,
    /// Largest accepted distance from the target.
    pub tolerance_centi: i64,
    /// Candidate papers drawn per seed before the closest is kept.
    pub tries: u32,
    /// Share (thousandths) of simulated single draws that met the bound when it was frozen.
    pub rate_permille: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRule {
    pub count: u32,
    pub points_centi: i64,
    pub entries: Vec<PoolEntry>,
    /// Draw one entry from each of `count` difficulty strata instead of uniformly.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
}

fn rule_matches(rule: &BlueprintRule, c: &PoolCandidate) -> bool {
    rule.statute.as_ref().is_none_or(|s| *s == c.statute)
        && rule.difficulty.is_none_or(|d| d == c.difficulty)
        && rule.level.is_none_or(|l| c.levels.contains(&l))
}

/// Freezes the pool for a blueprint (format 1). Every question goes to the first rule it
/// matches, so rules never draw the same question twice. Errors name each rule that has too few
/// questions, and a tolerance the pool cannot meet (with the smallest one it can).
pub fn build_pool(spec: &BlueprintSpec, candidates: &[PoolCandidate]) -> Result<Pool, Vec<String>> {
    freeze_pool(spec, candidates).map_err(|e| e.iter().map(Problem::line).collect())
}

/// [`build_pool`], its refusals as [`Problem`]s to be said in the reader's language.
pub fn freeze_pool(spec: &BlueprintSpec, candidates: &[PoolCandidate]) -> Result<Pool, Vec<Problem>> {
    let mut errs = spec.problems();
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut taken = std::collections::HashSet::new();
    let mut rules = Vec::new();
    for (i, rule) in spec.rules.iter().enumerate() {
        let mut entries = Vec::new();
        match rule.kind.question_kind() {
            Some(kind) => {
                for c in candidates.iter().filter(|c| c.case.is_none() && c.kind == kind) {
                    if !taken.contains(&c.version_id) && rule_matches(rule, c) {
                        taken.insert(c.version_id);
                        entries.push(PoolEntry {
                            v: vec![c.version_id],
                            n: vec![c.option_count as u8],
                            f: Some(per_mille(c.expected_share())),
                            x: Some(c.exposure),
                        });
                    }
                }
            }
            None => {
                // group case items by case; a case matches if any item matches the filters
                let mut groups: std::collections::BTreeMap<CaseId, Vec<&PoolCandidate>> = Default::default();
                for c in candidates.iter().filter(|c| c.case.is_some()) {
                    groups.entry(c.case.unwrap().0).or_default().push(c);
                }
                for (_, mut items) in groups {
                    items.sort_by_key(|c| c.case.unwrap().1);
                    if items.iter().any(|c| taken.contains(&c.version_id)) || !items.iter().any(|c| rule_matches(rule, c)) {
                        continue;
                    }
                    for c in &items {
                        taken.insert(c.version_id);
                    }
                    let mean = items.iter().map(|c| c.expected_share()).sum::<f64>() / items.len() as f64;
                    entries.push(PoolEntry {
                        v: items.iter().map(|c| c.version_id).collect(),
                        n: items.iter().map(|c| c.option_count as u8).collect(),
                        f: Some(per_mille(mean)),
                        x: Some(items.iter().map(|c| c.exposure).max().unwrap_or(0)),
                    });
                }
            }
        }
        if (entries.len() as u32) < rule.count {
            let english = format!(
                "rule {}: wants {} {}{}{} but the bank has only {} active",
                i + 1,
                rule.count,
                if rule.kind == RuleKind::Case { "case groups" } else { rule.kind.as_str() },
                rule.statute.as_ref().map(|s| format!(" from {s}")).unwrap_or_default(),
                rule.difficulty.map(|d| format!(" at difficulty {d}")).unwrap_or_default(),
                entries.len()
            );
            let key = match (&rule.statute, rule.difficulty) {
                (None, None) => "blueprint.too_few",
                (Some(_), None) => "blueprint.too_few_statute",
                (None, Some(_)) => "blueprint.too_few_difficulty",
                (Some(_), Some(_)) => "blueprint.too_few_statute_difficulty",
            };
            let params = vec![
                ("n", (i + 1).to_string()),
                ("count", rule.count.to_string()),
                ("kind", format!("@rulekind.{}", rule.kind.as_str())),
                (
                    "unit",
                    if rule.kind == RuleKind::Case { "@problem.blueprint.unit_group" } else { "@problem.blueprint.unit_item" }.to_string(),
                ),
                ("statute", rule.statute.clone().unwrap_or_default()),
                ("difficulty", rule.difficulty.map(|d| format!("@difficulty.{d}")).unwrap_or_default()),
                ("have", entries.len().to_string()),
            ];
            errs.push(Problem::with("", key, params, english));
        }
        rules.push(PoolRule { count: rule.count, points_centi: rule.points_centi, entries, parallel: spec.parallel });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut pool = Pool { rules, format: POOL_FORMAT, fit: None };
    if let Some(t) = spec.tolerance_permille {
        let total = pool.max_centi();
        let tolerance_centi = (total * i64::from(t) + 500) / 1000;
        let target = pool.average_expected_centi();
        // simulate single draws (no rejection) and see how often they land within the bound
        let target_x = (target.round() as i64) * 1000;
        let distances: Vec<i64> = (0..FIT_SIMULATIONS)
            .map(|s| {
                let mut rng = ChaCha8Rng::seed_from_u64(s);
                (pick(&pool, &mut rng).1 - target_x).abs()
            })
            .collect();
        let met = distances.iter().filter(|&&d| d <= tolerance_centi * 1000).count();
        let rate = met as f64 / distances.len() as f64;
        if rate < MIN_FIT_RATE {
            let mut sorted = distances.clone();
            sorted.sort_unstable();
            let needed = sorted[((MIN_FIT_RATE * sorted.len() as f64).ceil() as usize).min(sorted.len() - 1)];
            // the least tolerance (thousandths) whose rounded bound covers that distance
            let needed_centi = (needed + 999) / 1000;
            let needed_permille = (1..=1000u32).find(|&p| (total * i64::from(p) + 500) / 1000 >= needed_centi).unwrap_or(1000);
            let params = vec![
                ("rate", format!("{:.1} %", rate * 100.0)),
                ("t", permille_text(t)),
                ("within", super::grading::format_points(tolerance_centi)),
                ("average", super::grading::format_points(target.round() as i64)),
                ("total", super::grading::format_points(total)),
                ("min", format!("{:.0} %", MIN_FIT_RATE * 100.0)),
                ("needed", permille_text(needed_permille.max(t + 1))),
            ];
            let english = format!(
                "only {} of papers drawn from this pool have an expected score within {} ({} points) of the average paper ({} of {} points); at least {} must. Widen the tolerance to {} or more, turn on parallel papers, or add questions of other difficulties",
                params[0].1, params[1].1, params[2].1, params[3].1, params[4].1, params[5].1, params[6].1,
            );
            return Err(vec![Problem::with("tolerance", "blueprint.tolerance_unmet", params, english)]);
        }
        pool.fit = Some(Fit {
            target_centi: target.round() as i64,
            tolerance_centi,
            tries: FIT_TRIES,
            rate_permille: (rate * 1000.0).round() as u16,
        });
    }
    Ok(pool)
}

impl Pool {
    /// Total points of every paper drawn from a format 1 pool: Σ count × points. (A format 0
    /// pool with case rules has no single total; this is then its papers' total only without
    /// case groups.)
    pub fn max_centi(&self) -> i64 {
        self.rules.iter().map(|r| i64::from(r.count) * r.points_centi).sum()
    }

    /// The expected score of the average paper: Σ count × points × mean f over the rule's
    /// entries (hundredths, unrounded).
    pub fn average_expected_centi(&self) -> f64 {
        self.rules
            .iter()
            .filter(|r| !r.entries.is_empty())
            .map(|r| {
                let mean = r.entries.iter().map(|e| f64::from(e.f.unwrap_or(500))).sum::<f64>() / r.entries.len() as f64;
                f64::from(r.count) * r.points_centi as f64 * mean / 1000.0
            })
            .sum()
    }

    /// The expected score of a paper drawn from this pool, exactly, in thousandths of a
    /// hundredth of a point (at [`REFERENCE_THETA`]): Σ item points × its entry's f. A case
    /// group's split points sum to the group's, so this equals Σ entry points × f, the sum drawing
    /// checks against the tolerance. `None` when an item is not in the pool or its entry has no
    /// f (format 0 pools without parallel rules).
    pub fn expected_x(&self, paper: &Paper) -> Option<i64> {
        let mut f: std::collections::HashMap<VersionId, u16> = Default::default();
        for e in self.rules.iter().flat_map(|r| &r.entries) {
            for v in &e.v {
                f.insert(*v, e.f?);
            }
        }
        paper.items.iter().map(|i| f.get(&i.v).map(|&f| i.p * i64::from(f))).sum()
    }

    /// [`Pool::expected_x`] in hundredths of a point.
    pub fn expected_centi(&self, paper: &Paper) -> Option<f64> {
        self.expected_x(paper).map(|x| x as f64 / 1000.0)
    }

    /// Whether a paper's expected score ([`Pool::expected_x`]) is within the pool's tolerance
    /// (true without one).
    pub fn meets_fit(&self, expected_x: i64) -> bool {
        self.fit.is_none_or(|fit| (expected_x - fit.target_centi * 1000).abs() <= fit.tolerance_centi * 1000)
    }
}

/// Drawing weight of an entry with exposure `x` in a rule of mean exposure `m`.
fn exposure_weight(x: u32, m: f64) -> f64 {
    let r = (m + 1.0) / (f64::from(x) + m + 1.0);
    r * r
}

/// One candidate paper from a format 1 pool: the chosen entries of each rule in display order
/// (rule by rule) and their expected score (as [`Pool::expected_x`]: exact integers).
fn pick<'a>(pool: &'a Pool, rng: &mut ChaCha8Rng) -> (Vec<(&'a PoolRule, &'a PoolEntry)>, i64) {
    let mut out = Vec::new();
    let mut expected = 0i64;
    for rule in &pool.rules {
        let m = if rule.entries.is_empty() {
            0.0
        } else {
            rule.entries.iter().map(|e| f64::from(e.x.unwrap_or(0))).sum::<f64>() / rule.entries.len() as f64
        };
        let weight = |e: &PoolEntry| exposure_weight(e.x.unwrap_or(0), m);
        let mut chosen: Vec<&PoolEntry> = if rule.parallel {
            let facilities: Vec<f64> = rule.entries.iter().map(|e| e.f.unwrap_or(500) as f64 / 1000.0).collect();
            super::item_stats::strata(&facilities, rule.count as usize)
                .iter()
                .filter_map(|stratum| stratum.choose_weighted(rng, |&i| weight(&rule.entries[i])).ok().map(|&i| &rule.entries[i]))
                .collect()
        } else {
            match rule.entries.choose_multiple_weighted(rng, rule.count as usize, weight) {
                Ok(it) => it.collect(),
                // weights are always positive and finite; keep drawing if that ever changes
                Err(_) => rule.entries.choose_multiple(rng, rule.count as usize).collect(),
            }
        };
        chosen.shuffle(rng);
        for e in chosen {
            expected += rule.points_centi * i64::from(e.f.unwrap_or(500));
            out.push((rule, e));
        }
    }
    (out, expected)
}

/// Lays out picked entries as a paper: each entry's items at their share of its points, options
/// shuffled.
fn lay_out(picked: &[(&PoolRule, &PoolEntry)], rng: &mut ChaCha8Rng) -> Paper {
    let mut items = Vec::new();
    for (rule, entry) in picked {
        for ((&v, &n), p) in entry.v.iter().zip(&entry.n).zip(split_points(rule.points_centi, entry.v.len())) {
            let mut order: Vec<char> = super::bank::OPTION_LETTERS.chars().take(n as usize).collect();
            order.shuffle(rng);
            items.push(PaperItem { v, o: order.into_iter().collect(), p });
        }
    }
    Paper { items }
}

/// One question on a candidate's paper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperItem {
    /// Question version id.
    pub v: VersionId,
    /// Display order of option ids (e.g. "CADB"); empty for true/false.
    pub o: String,
    /// Points, in hundredths.
    pub p: i64,
}

/// A candidate's paper: items in display order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub items: Vec<PaperItem>,
}

impl Paper {
    pub fn max_centi(&self) -> i64 {
        self.items.iter().map(|i| i.p).sum()
    }
}

/// Item exposure of some papers: on how many of them each question version appeared.
pub fn count_exposure<'a>(papers: impl IntoIterator<Item = &'a Paper>) -> std::collections::HashMap<VersionId, u32> {
    let mut counts = std::collections::HashMap::new();
    for p in papers {
        for i in &p.items {
            *counts.entry(i.v).or_insert(0) += 1;
        }
    }
    counts
}

/// How one candidate's paper compares with the paper re-drawn from the pool and the seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemCheck {
    pub position: usize,
    /// What the candidate was shown (None: the stored paper is shorter than the re-drawn one).
    pub shown: Option<PaperItem>,
    /// What the re-draw gives (None: the stored paper has more items).
    pub redrawn: Option<PaperItem>,
    pub same_version: bool,
    pub same_options: bool,
    pub same_points: bool,
}

impl ItemCheck {
    pub fn matches(&self) -> bool {
        self.same_version && self.same_options && self.same_points
    }
}

/// Re-draws a paper from its pool and seed and compares it, position by position, with the
/// stored paper: question version, option order and points.
pub fn audit_paper(pool: &Pool, seed: u64, shown: &Paper) -> Vec<ItemCheck> {
    let redrawn = draw(pool, seed);
    let n = shown.items.len().max(redrawn.items.len());
    (0..n)
        .map(|k| {
            let (a, b) = (shown.items.get(k), redrawn.items.get(k));
            ItemCheck {
                position: k + 1,
                shown: a.cloned(),
                redrawn: b.cloned(),
                same_version: a.zip(b).is_some_and(|(a, b)| a.v == b.v),
                same_options: a.zip(b).is_some_and(|(a, b)| a.o == b.o),
                same_points: a.zip(b).is_some_and(|(a, b)| a.p == b.p),
            }
        })
        .collect()
}

/// Draws a paper from a frozen pool. The same pool and seed always give the same paper.
pub fn draw(pool: &Pool, seed: u64) -> Paper {
    if pool.format == 0 {
        return draw_format0(pool, seed);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let Some(fit) = pool.fit else {
        let (picked, _) = pick(pool, &mut rng);
        return lay_out(&picked, &mut rng);
    };
    // rejection sampling from the one seeded generator: the first candidate within the bound,
    // else the closest (the pool was frozen only if that is all but impossible)
    let mut best: Option<(i64, Vec<(&PoolRule, &PoolEntry)>)> = None;
    for _ in 0..fit.tries.max(1) {
        let (picked, expected) = pick(pool, &mut rng);
        let distance = (expected - fit.target_centi * 1000).abs();
        if distance <= fit.tolerance_centi * 1000 {
            return lay_out(&picked, &mut rng);
        }
        if best.as_ref().is_none_or(|(d, _)| distance < *d) {
            best = Some((distance, picked));
        }
    }
    let (_, picked) = best.expect("at least one try");
    lay_out(&picked, &mut rng)
}

/// Format 0 pools (frozen before fair papers): case items at the rule's points each, uniform
/// choice. Kept byte for byte so old attempts re-draw as they were shown.
fn draw_format0(pool: &Pool, seed: u64) -> Paper {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut items = Vec::new();
    for rule in &pool.rules {
        let mut chosen: Vec<&PoolEntry> = if rule.parallel {
            let facilities: Vec<f64> = rule.entries.iter().map(|e| e.f.unwrap_or(500) as f64 / 1000.0).collect();
            super::item_stats::strata(&facilities, rule.count as usize)
                .iter()
                .filter_map(|stratum| stratum.choose(&mut rng).map(|&i| &rule.entries[i]))
                .collect()
        } else {
            rule.entries.choose_multiple(&mut rng, rule.count as usize).collect()
        };
        chosen.shuffle(&mut rng);
        for entry in chosen {
            for (&v, &n) in entry.v.iter().zip(&entry.n) {
                let mut order: Vec<char> = super::bank::OPTION_LETTERS.chars().take(n as usize).collect();
                order.shuffle(&mut rng);
                items.push(PaperItem { v, o: order.into_iter().collect(), p: rule.points_centi });
            }
        }
    }
    Paper { items }
}

/// A blueprint as a trainer types it into the form: every field as text, a row per rule.
#[derive(Clone, Debug, Default)]
pub struct BlueprintText {
    pub rules: Vec<RuleText>,
    pub parallel: bool,
    /// Expected-score tolerance in per cent of the paper's points ("2.5", "2.5%"; empty: none).
    pub tolerance: String,
}

/// One row of [`BlueprintText`]; a row without a count (or with 0) is an unused row.
#[derive(Clone, Debug, Default)]
pub struct RuleText {
    pub kind: String,
    pub statute: String,
    pub difficulty: String,
    pub level: String,
    pub count: String,
    pub points: String,
}

impl BlueprintText {
    /// The blueprint the form describes, or every problem with it (rows numbered from 1).
    pub fn spec(&self) -> Result<BlueprintSpec, Vec<Problem>> {
        let mut errs = Vec::new();
        let tolerance_permille = match self.tolerance.trim() {
            "" => None,
            t => {
                match t.trim_end_matches(['%', '％']).trim().parse::<f64>() {
                    Ok(p) if p.is_finite() && p > 0.0 && p <= 50.0 => Some(((p * 10.0).round() as u32).max(1)),
                    _ => {
                        errs.push(Problem::with(
                        "tolerance",
                        "blueprint.tolerance_typed",
                        vec![("got", format!("{t:?}"))],
                        format!("give a percentage of the paper's points above 0 and at most 50 (such as 2.5), or leave it empty; got {t:?}"),
                    ));
                        None
                    }
                }
            }
        };
        let mut rules = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if r.count.trim().is_empty() || r.count.trim() == "0" {
                continue;
            }
            let n = i + 1;
            let difficulty = match r.difficulty.trim() {
                "" => Ok(None),
                d => d.parse::<i32>().map(Some).map_err(|_| ()),
            };
            let level = match r.level.trim() {
                "" => Ok(None),
                l => Level::parse(l).map(Some).ok_or(()),
            };
            let parsed = (RuleKind::parse(&r.kind), r.count.trim().parse::<u32>().ok(), crate::domain::grading::parse_points(&r.points));
            match (parsed, difficulty, level) {
                ((Some(kind), Some(count), Some(points_centi)), Ok(difficulty), Ok(level)) => rules.push(BlueprintRule {
                    kind,
                    statute: Some(r.statute.trim().to_string()).filter(|s| !s.is_empty()),
                    difficulty,
                    level,
                    count,
                    points_centi,
                }),
                _ => errs.push(Problem::with(
                    "",
                    "blueprint.row",
                    vec![("n", n.to_string())],
                    format!("row {n}: choose a type, and give a whole count and points above 0"),
                )),
            }
        }
        if errs.is_empty() {
            Ok(BlueprintSpec { rules, parallel: self.parallel, tolerance_permille, ..BlueprintSpec::default() })
        } else {
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: i64, kind: QuestionKind, statute: &str, difficulty: i32) -> PoolCandidate {
        PoolCandidate {
            version_id: VersionId(id),
            kind,
            statute: statute.into(),
            difficulty,
            levels: vec![Level::Basic],
            option_count: if kind == QuestionKind::TrueFalse { 0 } else { 4 },
            case: None,
            facility: None,
            calibrated: None,
            exposure: 0,
        }
    }

    fn spec() -> BlueprintSpec {
        BlueprintSpec {
            rules: vec![
                BlueprintRule {
                    kind: RuleKind::Single,
                    statute: Some("a".into()),
                    difficulty: None,
                    level: None,
                    count: 3,
                    points_centi: 100,
                },
                BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 2, points_centi: 150 },
                BlueprintRule { kind: RuleKind::TrueFalse, statute: None, difficulty: Some(1), level: None, count: 2, points_centi: 50 },
                BlueprintRule { kind: RuleKind::Case, statute: None, difficulty: None, level: None, count: 1, points_centi: 200 },
            ],
            ..BlueprintSpec::default()
        }
    }

    fn candidates() -> Vec<PoolCandidate> {
        let mut v: Vec<PoolCandidate> = (1..=5).map(|i| cand(i, QuestionKind::Single, "a", 1)).collect();
        v.extend((6..=9).map(|i| cand(i, QuestionKind::Single, "b", 2)));
        v.extend((10..=13).map(|i| cand(i, QuestionKind::TrueFalse, "b", if i % 2 == 0 { 1 } else { 2 })));
        for (case, base) in [(1, 20), (2, 30)] {
            for pos in 0..3 {
                let mut c = cand(base + pos, QuestionKind::Multiple, "b", 2);
                c.case = Some((CaseId(case), pos as i32));
                v.push(c);
            }
        }
        v
    }

    #[test]
    fn rules_partition_the_pool() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        let r0: Vec<i64> = pool.rules[0].entries.iter().map(|e| e.v[0].0).collect();
        let r1: Vec<i64> = pool.rules[1].entries.iter().map(|e| e.v[0].0).collect();
        assert_eq!(r0, vec![1, 2, 3, 4, 5]);
        assert_eq!(r1, vec![6, 7, 8, 9], "rule 2 must not reuse rule 1's questions");
        let tf: Vec<i64> = pool.rules[2].entries.iter().map(|e| e.v[0].0).collect();
        assert_eq!(tf, vec![10, 12], "difficulty filter");
        assert_eq!(pool.rules[3].entries.len(), 2);
        assert_eq!(pool.rules[3].entries[0].v, vec![VersionId(20), VersionId(21), VersionId(22)]);
    }

    #[test]
    fn too_small_a_bank_is_refused_per_rule() {
        let mut s = spec();
        s.rules[2].count = 3;
        let errs = build_pool(&s, &candidates()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("rule 3: wants 3 truefalse at difficulty 1 but the bank has only 2"), "{}", errs[0]);
    }

    #[test]
    fn same_seed_same_paper_and_seeds_differ() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        let a = draw(&pool, 42);
        assert_eq!(a, draw(&pool, 42));
        assert_eq!(a.items.len(), 3 + 2 + 2 + 3);
        // the case group's 2 points are split over its 3 items: 0.67 + 0.67 + 0.66
        assert_eq!(a.max_centi(), 300 + 300 + 100 + 200);
        assert_eq!(a.items[7..].iter().map(|i| i.p).collect::<Vec<_>>(), vec![67, 67, 66]);
        let distinct: std::collections::HashSet<String> = (0..50).map(|s| format!("{:?}", draw(&pool, s).items)).collect();
        assert!(distinct.len() > 40, "papers should vary with the seed");
    }

    #[test]
    fn papers_have_no_repeats_and_keep_case_items_together() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        for seed in 0..200 {
            let p = draw(&pool, seed);
            let ids: Vec<i64> = p.items.iter().map(|i| i.v.0).collect();
            let set: std::collections::HashSet<i64> = ids.iter().copied().collect();
            assert_eq!(set.len(), ids.len());
            let case = &ids[7..];
            assert!(case == [20, 21, 22] || case == [30, 31, 32], "{case:?}");
            for item in &p.items {
                let mut o: Vec<char> = item.o.chars().collect();
                o.sort();
                let expected: &[char] = if (10..=13).contains(&item.v.0) { &[] } else { &['A', 'B', 'C', 'D'] };
                assert_eq!(o, expected);
            }
        }
    }

    #[test]
    fn parallel_papers_match_difficulty() {
        // 40 single-choice questions with facilities spread from 0.05 to 0.98
        let cands: Vec<PoolCandidate> = (0..40)
            .map(|i| PoolCandidate { facility: Some(0.05 + 0.93 * i as f64 / 39.0), ..cand(i, QuestionKind::Single, "a", 2) })
            .collect();
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 5, points_centi: 100 };
        let mean = |spec: &BlueprintSpec, seed: u64| {
            let pool = build_pool(spec, &cands).unwrap();
            let p = draw(&pool, seed);
            p.items.iter().map(|i| cands[i.v.0 as usize].facility.unwrap()).sum::<f64>() / p.items.len() as f64
        };
        let means = |spec: &BlueprintSpec| (0..300).map(|s| mean(spec, s)).collect::<Vec<f64>>();
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let parallel = BlueprintSpec { rules: vec![rule.clone()], parallel: true, ..BlueprintSpec::default() };
        let uniform = BlueprintSpec { rules: vec![rule], parallel: false, ..BlueprintSpec::default() };
        let (p, u) = (means(&parallel), means(&uniform));
        // one item from each fifth of the difficulty range: two papers' means differ by at
        // most one stratum's width (8 questions spanning 0.93 × 7/39 ≈ 0.17)
        let spread = p.iter().cloned().fold(f64::MIN, f64::max) - p.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread <= 0.17, "parallel papers' mean facility spread {spread}");
        // drawing uniformly spreads paper difficulty several times more (≈0.11 vs ≈0.02)
        assert!(sd(&u) > 3.0 * sd(&p), "sd uniform {} vs parallel {}", sd(&u), sd(&p));
        // and still the same paper for the same seed
        let pool = build_pool(&parallel, &cands).unwrap();
        assert_eq!(draw(&pool, 9), draw(&pool, 9));
    }

    #[test]
    fn options_are_shuffled() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        let orders: std::collections::HashSet<String> = (0..100).map(|s| draw(&pool, s).items[0].o.clone()).collect();
        assert!(orders.len() > 10);
    }

    /// Cases of 3, 4 and 5 items: the trial that gave papers of 70, 74 and 78 points.
    fn uneven_cases() -> (BlueprintSpec, Vec<PoolCandidate>) {
        let mut v: Vec<PoolCandidate> = (1..=30).map(|i| cand(i, QuestionKind::Single, "a", 1 + (i % 3) as i32)).collect();
        let mut id = 100;
        for (case, size) in [(1, 3), (2, 4), (3, 5), (4, 3), (5, 5), (6, 4)] {
            for pos in 0..size {
                let mut c = cand(id, QuestionKind::Single, "b", 2);
                c.case = Some((CaseId(case), pos));
                v.push(c);
                id += 1;
            }
        }
        let spec = BlueprintSpec {
            rules: vec![
                BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 20, points_centi: 200 },
                BlueprintRule { kind: RuleKind::Case, statute: None, difficulty: None, level: None, count: 2, points_centi: 1000 },
            ],
            ..BlueprintSpec::default()
        };
        (spec, v)
    }

    #[test]
    fn every_paper_of_a_pool_carries_the_same_points() {
        let (spec, bank) = uneven_cases();
        let pool = build_pool(&spec, &bank).unwrap();
        let mut sizes = std::collections::HashSet::new();
        for seed in 0..300 {
            let p = draw(&pool, seed);
            sizes.insert(p.items.len());
            assert_eq!(p.max_centi(), 20 * 200 + 2 * 1000, "seed {seed}");
            assert_eq!(p.max_centi(), pool.max_centi());
        }
        // the papers really do hold cases of different sizes (26 to 30 items)
        assert!(sizes.len() >= 3, "{sizes:?}");
    }

    #[test]
    fn split_points_sums_and_is_near_equal() {
        assert_eq!(split_points(1000, 3), vec![334, 333, 333]);
        assert_eq!(split_points(1000, 4), vec![250; 4]);
        assert_eq!(split_points(1001, 5), vec![201, 200, 200, 200, 200]);
        assert_eq!(split_points(7, 1), vec![7]);
        assert!(split_points(5, 0).is_empty());
        for total in 10..400 {
            for n in 1..=10 {
                let s = split_points(total, n);
                assert_eq!(s.iter().sum::<i64>(), total);
                assert!(s.iter().max().unwrap() - s.iter().min().unwrap() <= 1);
            }
        }
    }

    #[test]
    fn a_blueprint_saved_with_case_points_per_item_is_refused() {
        let mut s = spec();
        s.case_points_per_item = true;
        let errs = build_pool(&s, &candidates()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("rule 4: this blueprint was saved when case points were per item"), "{}", errs[0]);
        // the marker is read from stored JSON and never written for a new blueprint
        let stored: BlueprintSpec = serde_json::from_str(r#"{"case_points_per_item":true,"rules":[],"parallel":false}"#).unwrap();
        assert!(stored.case_points_per_item);
        assert!(!serde_json::to_string(&spec()).unwrap().contains("case_points_per_item"));
        // a case group's points must cover a hundredth per item; a tolerance is 0.1–50 %
        let mut s = spec();
        s.rules[3].points_centi = 9;
        s.tolerance_permille = Some(501);
        assert_eq!(
            s.validate(),
            vec![
                "rule 4: a case group's points are split over its items: give at least 0.10".to_string(),
                "tolerance: must be more than 0 and at most 50 % of the paper's points, is 50.1 %".to_string()
            ]
        );
    }

    /// A pool frozen before fair papers (no `format`): drawn exactly as it was, case items at
    /// the rule's points each. The paper below is what this pool and seed gave then.
    #[test]
    fn format0_pools_draw_as_they_always_did() {
        let stored = r#"{"rules":[{"count":2,"points_centi":100,"entries":[{"v":[1],"n":[4]},{"v":[2],"n":[4]},{"v":[3],"n":[0]}]},{"count":1,"points_centi":200,"entries":[{"v":[20,21,22],"n":[4,4,4]},{"v":[30,31,32,33],"n":[3,3,3,3]}]}]}"#;
        let pool: Pool = serde_json::from_str(stored).unwrap();
        assert_eq!(pool.format, 0);
        assert_eq!(serde_json::to_string(&pool).unwrap(), stored, "a format 0 pool is written back unchanged");
        let got = serde_json::to_string(&draw(&pool, 7)).unwrap();
        assert_eq!(got, FORMAT0_SEED7);
        for seed in 0..50 {
            let p = draw(&pool, seed);
            assert!(p.items.iter().skip(2).all(|i| i.p == 200), "format 0: case items carry the rule's points each");
        }
    }
    const FORMAT0_SEED7: &str = r#"{"items":[{"v":3,"o":"","p":100},{"v":1,"o":"ACBD","p":100},{"v":20,"o":"BADC","p":200},{"v":21,"o":"DCAB","p":200},{"v":22,"o":"ADCB","p":200}]}"#;

    /// A pool whose items spread widely in difficulty, for the tolerance tests.
    fn spread_bank() -> Vec<PoolCandidate> {
        (0..60).map(|i| PoolCandidate { calibrated: Some(-3.0 + 6.0 * i as f64 / 59.0), ..cand(i, QuestionKind::Single, "a", 2) }).collect()
    }

    #[test]
    fn papers_are_drawn_within_the_tolerance() {
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 10, points_centi: 100 };
        let bank = spread_bank();
        let free = build_pool(&BlueprintSpec { rules: vec![rule.clone()], ..BlueprintSpec::default() }, &bank).unwrap();
        assert!(free.fit.is_none());
        let spec = BlueprintSpec { rules: vec![rule], tolerance_permille: Some(30), ..BlueprintSpec::default() };
        let pool = build_pool(&spec, &bank).unwrap();
        let fit = pool.fit.unwrap();
        assert_eq!(fit.tolerance_centi, 30, "3 % of 10 points");
        assert_eq!(fit.target_centi, 500, "items symmetric about θ = 0: the average paper expects half");
        let (mut spread_free, mut spread_fit) = (Vec::new(), Vec::new());
        for seed in 0..500 {
            let p = draw(&pool, seed);
            let e = pool.expected_centi(&p).unwrap();
            assert!((e - 500.0).abs() <= 30.0, "seed {seed}: expected {e}");
            assert!(pool.meets_fit(pool.expected_x(&p).unwrap()));
            assert_eq!(draw(&pool, seed), p, "still a function of the seed");
            spread_fit.push(e);
            spread_free.push(free.expected_centi(&draw(&free, seed)).unwrap());
        }
        let range = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min);
        assert!(range(&spread_free) > 100.0, "without a tolerance papers spread: {}", range(&spread_free));
        assert!(range(&spread_fit) <= 60.0);
    }

    #[test]
    fn a_tolerance_the_pool_cannot_meet_is_refused_with_what_it_can() {
        // 3 of 4 items, two very easy and two very hard: no paper is near the average
        let bank: Vec<PoolCandidate> = [-4.0, -4.0, 4.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, &b)| PoolCandidate { calibrated: Some(b), ..cand(i as i64, QuestionKind::Single, "a", 2) })
            .collect();
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 3, points_centi: 100 };
        let spec = BlueprintSpec { rules: vec![rule], tolerance_permille: Some(10), ..BlueprintSpec::default() };
        let errs = build_pool(&spec, &bank).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("tolerance: only 0.0 % of papers"), "{}", errs[0]);
        assert!(errs[0].contains("Widen the tolerance to"), "{}", errs[0]);
        // the widened tolerance it names is met
        let named: f64 = errs[0].split("Widen the tolerance to ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let wider = BlueprintSpec { tolerance_permille: Some((named * 10.0).round() as u32), ..spec };
        assert!(build_pool(&wider, &bank).is_ok(), "{named}");
    }

    #[test]
    fn drawing_prefers_less_exposed_questions() {
        // 20 questions, the even ones on 50 papers each already (so every difficulty stratum of
        // a parallel rule holds both)
        let bank: Vec<PoolCandidate> =
            (0..20).map(|i| PoolCandidate { exposure: if i % 2 == 0 { 50 } else { 0 }, ..cand(i, QuestionKind::Single, "a", 2) }).collect();
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 5, points_centi: 100 };
        for parallel in [false, true] {
            let pool = build_pool(&BlueprintSpec { rules: vec![rule.clone()], parallel, ..BlueprintSpec::default() }, &bank).unwrap();
            assert_eq!(pool.rules[0].entries[0].x, Some(50));
            let (mut worn, mut fresh) = (0, 0);
            for seed in 0..1000 {
                for item in draw(&pool, seed).items {
                    if item.v.0 % 2 == 0 {
                        worn += 1
                    } else {
                        fresh += 1
                    }
                }
            }
            // weights 1 vs (26/76)² ≈ 0.12 without strata
            assert!(fresh > 2 * worn, "parallel {parallel}: fresh {fresh}, worn {worn}");
            assert!(worn > 0, "worn questions still come up");
        }
        // equal exposure: no preference
        let even: Vec<PoolCandidate> = (0..20).map(|i| PoolCandidate { exposure: 7, ..cand(i, QuestionKind::Single, "a", 2) }).collect();
        let pool = build_pool(&BlueprintSpec { rules: vec![rule], ..BlueprintSpec::default() }, &even).unwrap();
        let first_half: usize = (0..1000).map(|s| draw(&pool, s).items.iter().filter(|i| i.v.0 < 10).count()).sum();
        assert!((2250..=2750).contains(&first_half), "{first_half}");
    }

    /// A format 1 pool (split case points, exposure weights, a tolerance) and the paper seed
    /// 12345 gives: stored papers are audited against re-draws, so drawing must never change
    /// for a stored pool. (tests/journeys/fair_papers.rs audits the same paper through the app.)
    pub const FORMAT1_POOL: &str = r#"{"format":1,"fit":{"target_centi":1000,"tolerance_centi":60,"tries":200,"rate_permille":400},"rules":[{"count":3,"points_centi":200,"entries":[{"v":[1],"n":[4],"f":900,"x":0},{"v":[2],"n":[4],"f":200,"x":3},{"v":[3],"n":[4],"f":700,"x":0},{"v":[4],"n":[4],"f":400,"x":9},{"v":[5],"n":[4],"f":800,"x":1},{"v":[6],"n":[4],"f":500,"x":0}]},{"count":1,"points_centi":1000,"entries":[{"v":[7,8,9],"n":[4,4,4],"f":650,"x":2},{"v":[10,11,12,13],"n":[4,4,4,4],"f":550,"x":0}]}]}"#;
    pub const FORMAT1_SEED12345: &str = r#"{"items":[{"v":1,"o":"BDCA","p":200},{"v":3,"o":"DABC","p":200},{"v":6,"o":"CDBA","p":200},{"v":10,"o":"ADBC","p":250},{"v":11,"o":"CABD","p":250},{"v":12,"o":"ABDC","p":250},{"v":13,"o":"DBAC","p":250}]}"#;

    #[test]
    fn format1_pools_keep_drawing_the_same_paper() {
        let pool: Pool = serde_json::from_str(FORMAT1_POOL).unwrap();
        let paper = draw(&pool, 12345);
        assert_eq!(serde_json::to_string(&paper).unwrap(), FORMAT1_SEED12345);
        // 200 × (0.9 + 0.7 + 0.5) + 1000 × 0.55 = 970, within 1000 ± 60
        assert_eq!(pool.expected_centi(&paper), Some(970.0));
        assert!(audit_paper(&pool, 12345, &paper).iter().all(ItemCheck::matches));
        let mut moved = paper.clone();
        moved.items[4].o = "ABCD".into();
        let checks = audit_paper(&pool, 12345, &moved);
        assert_eq!(checks.iter().filter(|c| !c.matches()).map(|c| (c.position, c.same_options)).collect::<Vec<_>>(), vec![(5, false)]);
        let mut short = paper;
        short.items.pop();
        assert!(!audit_paper(&pool, 12345, &short).last().unwrap().matches(), "a missing item is a mismatch");
    }

    /// The cost of counting exposure from stored papers at exam-day size (BENCHMARKS.md):
    /// 10,000 papers of 100 questions from a 3,000-question pool, parsed from their stored JSON
    /// and counted. `cargo test --release --lib exposure_counting_cost -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn exposure_counting_cost() {
        let bank: Vec<PoolCandidate> = (0..3000).map(|i| cand(i, QuestionKind::Single, "a", 1 + (i % 3) as i32)).collect();
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 100, points_centi: 100 };
        let pool = build_pool(&BlueprintSpec { rules: vec![rule], ..BlueprintSpec::default() }, &bank).unwrap();
        let t = std::time::Instant::now();
        let drawn: Vec<Paper> = (0..10_000).map(|s| draw(&pool, s)).collect();
        let drawing = t.elapsed();
        let stored: Vec<String> = drawn.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
        let bytes: usize = stored.iter().map(String::len).sum();
        let t = std::time::Instant::now();
        let papers: Vec<Paper> = stored.iter().map(|p| serde_json::from_str(p).unwrap()).collect();
        let counts = count_exposure(&papers);
        let counting = t.elapsed();
        assert_eq!(counts.values().map(|&n| n as usize).sum::<usize>(), 1_000_000);
        // drawing on the start path: the old uniform draw, and a tolerance of ±2 %
        let old = Pool { format: 0, ..pool.clone() };
        let t = std::time::Instant::now();
        (0..10_000).for_each(|s| drop(draw(&old, s)));
        let uniform = t.elapsed();
        let spread: Vec<PoolCandidate> = (0..3000)
            .map(|i| PoolCandidate { calibrated: Some(-2.0 + 4.0 * (i % 97) as f64 / 96.0), ..bank[i as usize].clone() })
            .collect();
        let rule = BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 100, points_centi: 100 };
        let t = std::time::Instant::now();
        let fitted =
            build_pool(&BlueprintSpec { rules: vec![rule], tolerance_permille: Some(20), ..BlueprintSpec::default() }, &spread).unwrap();
        let freezing = t.elapsed();
        let t = std::time::Instant::now();
        (0..10_000).for_each(|s| drop(draw(&fitted, s)));
        let with_fit = t.elapsed();
        println!(
            "10,000 draws: uniform (format 0) {:.2} s, exposure-weighted {:.2} s, ±2 % tolerance {:.2} s (single draws within it: {} ‰; freezing that pool with its simulation {:.2} s)",
            uniform.as_secs_f64(),
            drawing.as_secs_f64(),
            with_fit.as_secs_f64(),
            fitted.fit.unwrap().rate_permille,
            freezing.as_secs_f64()
        );
        println!(
            "10,000 papers × 100 items ({:.1} MB of JSON): drawn in {:.2} s, parsed and counted in {:.3} s",
            bytes as f64 / 1e6,
            drawing.as_secs_f64(),
            counting.as_secs_f64()
        );
    }

    fn typed(tolerance: &str, rows: &[(&str, &str, &str)]) -> Result<BlueprintSpec, Vec<Problem>> {
        let rules = rows
            .iter()
            .map(|(kind, count, points)| RuleText {
                kind: kind.to_string(),
                count: count.to_string(),
                points: points.to_string(),
                ..RuleText::default()
            })
            .collect();
        BlueprintText { rules, parallel: false, tolerance: tolerance.into() }.spec()
    }

    #[test]
    fn a_typed_blueprint_reads_its_tolerance_and_rows_and_names_each_bad_one() {
        let spec = typed("2.5%", &[("single", "10", "2"), ("truefalse", "", ""), ("multiple", "5", "1.5")]).unwrap();
        assert_eq!(spec.tolerance_permille, Some(25));
        assert_eq!(spec.rules.iter().map(|r| (r.count, r.points_centi)).collect::<Vec<_>>(), vec![(10, 200), (5, 150)]);
        assert_eq!(typed("", &[("single", "1", "1")]).unwrap().tolerance_permille, None);
        assert_eq!(typed("50", &[]).unwrap().tolerance_permille, Some(500));
        assert_eq!(typed("0.01", &[]).unwrap().tolerance_permille, Some(1), "a tolerance above 0 never rounds to none");
        for bad in ["0", "50.1", "abc", "-1", "NaN"] {
            let errs = typed(bad, &[]).unwrap_err();
            assert_eq!((errs.len(), errs[0].field, errs[0].key), (1, "tolerance", "blueprint.tolerance_typed"), "{bad}");
        }
        let errs = typed("", &[("single", "1", "1"), ("nonsense", "2", "1"), ("single", "x", "1"), ("single", "1", "0")]).unwrap_err();
        let rows: Vec<String> = errs.iter().map(|p| p.line()).collect();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(rows[0].contains("row 2") && rows[1].contains("row 3") && rows[2].contains("row 4"), "{rows:?}");
    }
}
