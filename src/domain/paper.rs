//! Blueprints and paper drawing.
//!
//! A sitting freezes its pool when it is created: for every blueprint rule, the exact question
//! versions (or case groups) that rule may draw from. Each candidate's paper is then a pure
//! function of that pool and the attempt's seed, so it can be re-drawn exactly for audit.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::bank::{Level, QuestionKind};

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
/// `points` each". For `case`, `count` is the number of case groups and `points` is per item.
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
    /// Points per question, in hundredths of a point.
    pub points_centi: i64,
}

/// How many questions of which kind, statute and difficulty a paper has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlueprintSpec {
    pub rules: Vec<BlueprintRule>,
    /// Parallel papers: every candidate's paper spans the same range of item difficulty, from
    /// item statistics where a question has them (its authored difficulty otherwise).
    #[serde(default)]
    pub parallel: bool,
}

impl BlueprintSpec {
    /// Checks the blueprint on its own; returns every problem.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.rules.is_empty() {
            errs.push("a blueprint needs at least one rule".to_string());
        }
        for (i, r) in self.rules.iter().enumerate() {
            let n = i + 1;
            if r.count == 0 || r.count > 500 {
                errs.push(format!("rule {n}: count must be 1–500, is {}", r.count));
            }
            if r.points_centi <= 0 || r.points_centi > 100_000 {
                errs.push(format!("rule {n}: points must be more than 0 and at most 1000"));
            }
            if let Some(d) = r.difficulty {
                if !(1..=3).contains(&d) {
                    errs.push(format!("rule {n}: difficulty must be 1, 2 or 3"));
                }
            }
        }
        errs
    }
}

/// A candidate question version as the pool builder sees it.
#[derive(Clone, Debug)]
pub struct PoolCandidate {
    pub version_id: i64,
    pub kind: QuestionKind,
    pub statute: String,
    pub difficulty: i32,
    pub levels: Vec<Level>,
    pub option_count: usize,
    /// The case group (and the item's position in it), if this is a case item.
    pub case: Option<(i64, i32)>,
    /// Share of points candidates earned on it in analysed sittings, if any.
    pub facility: Option<f64>,
}

impl PoolCandidate {
    fn facility_or_prior(&self) -> f64 {
        self.facility.unwrap_or_else(|| super::item_stats::prior_facility(self.difficulty))
    }
}

/// A pool entry: one question, or one case group's items in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolEntry {
    /// Question version ids (one for a plain question, all items for a case group).
    pub v: Vec<i64>,
    /// Number of options per version (0 for true/false), for shuffling without a lookup.
    pub n: Vec<u8>,
    /// Facility in thousandths, kept only for parallel-paper rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<u16>,
}

fn per_mille(f: f64) -> u16 {
    (f.clamp(0.0, 1.0) * 1000.0).round() as u16
}

/// The frozen pool of a sitting: one list per blueprint rule, disjoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub rules: Vec<PoolRule>,
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

/// Freezes the pool for a blueprint. Every question goes to the first rule it matches, so rules
/// never draw the same question twice. Errors name each rule that has too few questions.
pub fn build_pool(spec: &BlueprintSpec, candidates: &[PoolCandidate]) -> Result<Pool, Vec<String>> {
    let mut errs = spec.validate();
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
                        let f = spec.parallel.then(|| per_mille(c.facility_or_prior()));
                        entries.push(PoolEntry { v: vec![c.version_id], n: vec![c.option_count as u8], f });
                    }
                }
            }
            None => {
                // group case items by case; a case matches if any item matches the filters
                let mut groups: std::collections::BTreeMap<i64, Vec<&PoolCandidate>> = Default::default();
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
                    let mean = items.iter().map(|c| c.facility_or_prior()).sum::<f64>() / items.len() as f64;
                    entries.push(PoolEntry {
                        v: items.iter().map(|c| c.version_id).collect(),
                        n: items.iter().map(|c| c.option_count as u8).collect(),
                        f: spec.parallel.then(|| per_mille(mean)),
                    });
                }
            }
        }
        if (entries.len() as u32) < rule.count {
            errs.push(format!(
                "rule {}: wants {} {}{}{} but the bank has only {} active",
                i + 1,
                rule.count,
                if rule.kind == RuleKind::Case { "case groups" } else { rule.kind.as_str() },
                rule.statute.as_ref().map(|s| format!(" from {s}")).unwrap_or_default(),
                rule.difficulty.map(|d| format!(" at difficulty {d}")).unwrap_or_default(),
                entries.len()
            ));
        }
        rules.push(PoolRule { count: rule.count, points_centi: rule.points_centi, entries, parallel: spec.parallel });
    }
    if errs.is_empty() {
        Ok(Pool { rules })
    } else {
        Err(errs)
    }
}

/// One question on a candidate's paper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperItem {
    /// Question version id.
    pub v: i64,
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

/// Draws a paper from a frozen pool. The same pool and seed always give the same paper.
pub fn draw(pool: &Pool, seed: u64) -> Paper {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: i64, kind: QuestionKind, statute: &str, difficulty: i32) -> PoolCandidate {
        PoolCandidate {
            version_id: id,
            kind,
            statute: statute.into(),
            difficulty,
            levels: vec![Level::Basic],
            option_count: if kind == QuestionKind::TrueFalse { 0 } else { 4 },
            case: None,
            facility: None,
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
            parallel: false,
        }
    }

    fn candidates() -> Vec<PoolCandidate> {
        let mut v: Vec<PoolCandidate> = (1..=5).map(|i| cand(i, QuestionKind::Single, "a", 1)).collect();
        v.extend((6..=9).map(|i| cand(i, QuestionKind::Single, "b", 2)));
        v.extend((10..=13).map(|i| cand(i, QuestionKind::TrueFalse, "b", if i % 2 == 0 { 1 } else { 2 })));
        for (case, base) in [(1, 20), (2, 30)] {
            for pos in 0..3 {
                let mut c = cand(base + pos, QuestionKind::Multiple, "b", 2);
                c.case = Some((case, pos as i32));
                v.push(c);
            }
        }
        v
    }

    #[test]
    fn rules_partition_the_pool() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        let r0: Vec<i64> = pool.rules[0].entries.iter().map(|e| e.v[0]).collect();
        let r1: Vec<i64> = pool.rules[1].entries.iter().map(|e| e.v[0]).collect();
        assert_eq!(r0, vec![1, 2, 3, 4, 5]);
        assert_eq!(r1, vec![6, 7, 8, 9], "rule 2 must not reuse rule 1's questions");
        let tf: Vec<i64> = pool.rules[2].entries.iter().map(|e| e.v[0]).collect();
        assert_eq!(tf, vec![10, 12], "difficulty filter");
        assert_eq!(pool.rules[3].entries.len(), 2);
        assert_eq!(pool.rules[3].entries[0].v, vec![20, 21, 22]);
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
        assert_eq!(a.max_centi(), 300 + 300 + 100 + 600);
        let distinct: std::collections::HashSet<String> = (0..50).map(|s| format!("{:?}", draw(&pool, s).items)).collect();
        assert!(distinct.len() > 40, "papers should vary with the seed");
    }

    #[test]
    fn papers_have_no_repeats_and_keep_case_items_together() {
        let pool = build_pool(&spec(), &candidates()).unwrap();
        for seed in 0..200 {
            let p = draw(&pool, seed);
            let ids: Vec<i64> = p.items.iter().map(|i| i.v).collect();
            let set: std::collections::HashSet<i64> = ids.iter().copied().collect();
            assert_eq!(set.len(), ids.len());
            let case = &ids[7..];
            assert!(case == [20, 21, 22] || case == [30, 31, 32], "{case:?}");
            for item in &p.items {
                let mut o: Vec<char> = item.o.chars().collect();
                o.sort();
                let expected: &[char] = if (10..=13).contains(&item.v) { &[] } else { &['A', 'B', 'C', 'D'] };
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
            p.items.iter().map(|i| cands[i.v as usize].facility.unwrap()).sum::<f64>() / p.items.len() as f64
        };
        let means = |spec: &BlueprintSpec| (0..300).map(|s| mean(spec, s)).collect::<Vec<f64>>();
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let parallel = BlueprintSpec { rules: vec![rule.clone()], parallel: true };
        let uniform = BlueprintSpec { rules: vec![rule], parallel: false };
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
}
