//! Property tests of pools and paper drawing (`paper.rs`): random banks (plain questions and
//! case groups, listed in any order) and random blueprints, checked against what the module
//! promises: the pool partitions the bank among the rules, first matching rule first; a refusal
//! names exactly the rules that are short; a paper has each rule's count of whole entries, case
//! items together and in order, no question twice, options shuffled as permutations, and is the
//! same for the same seed (also from the pool as stored, in JSON). Fair papers: every paper of
//! a pool carries the same points (case groups of any size split theirs), and a pool frozen with
//! a tolerance keeps every paper's expected score within it, or is refused.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::bank::{Level, QuestionKind, OPTION_LETTERS};
use super::ids::{CaseId, VersionId};
use super::item_stats::{prior_facility, strata};
use super::paper::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

fn statute() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["a", "b", "c"]).prop_map(String::from)
}

fn levels() -> impl Strategy<Value = Vec<Level>> {
    (1u8..8).prop_map(|m| Level::ALL.iter().enumerate().filter(|(i, _)| m & (1 << i) != 0).map(|(_, l)| *l).collect())
}

fn level() -> impl Strategy<Value = Level> {
    proptest::sample::select(Level::ALL.to_vec())
}

/// A question of one of `kinds`, without id or case yet.
fn question(kinds: Vec<QuestionKind>) -> impl Strategy<Value = PoolCandidate> {
    (
        (proptest::sample::select(kinds), statute(), 1i32..=3, levels(), proptest::option::of(0.0f64..=1.0), 0usize..=4),
        proptest::option::of(-4.0f64..=4.0),
        0u32..=300,
    )
        .prop_map(|((kind, statute, difficulty, levels, facility, extra), calibrated, exposure)| PoolCandidate {
            version_id: VersionId(0),
            kind,
            statute,
            difficulty,
            levels,
            option_count: match kind {
                QuestionKind::TrueFalse => 0,
                QuestionKind::Single => 2 + extra,
                QuestionKind::Multiple => 3 + extra.min(3),
            },
            case: None,
            facility,
            calibrated,
            exposure,
        })
}

/// A bank: up to 60 plain questions and up to 5 case groups of 3–5 items, all listed in a random
/// order (case items out of position order, interleaved with the rest). Case ids descend in the
/// order they are made and positions have gaps, so neither listing order nor contiguity can be
/// relied on.
fn bank() -> impl Strategy<Value = Vec<PoolCandidate>> {
    let all = vec![QuestionKind::Single, QuestionKind::Multiple, QuestionKind::TrueFalse];
    let case_kinds = vec![QuestionKind::Single, QuestionKind::Multiple];
    (
        proptest::collection::vec(question(all), 0..60),
        proptest::collection::vec(proptest::collection::vec(question(case_kinds), 3..=5), 0..5),
    )
        .prop_flat_map(|(plain, cases)| {
            let mut bank = plain;
            for (ci, items) in cases.into_iter().enumerate() {
                let case_id = CaseId(1000 - 10 * ci as i64);
                for (pos, mut item) in items.into_iter().enumerate() {
                    item.case = Some((case_id, 2 * pos as i32));
                    bank.push(item);
                }
            }
            for (i, c) in bank.iter_mut().enumerate() {
                c.version_id = VersionId(1 + 3 * i as i64);
            }
            Just(bank).prop_shuffle()
        })
}

fn rule_kind() -> impl Strategy<Value = RuleKind> {
    prop_oneof![Just(RuleKind::Single), Just(RuleKind::Multiple), Just(RuleKind::TrueFalse), Just(RuleKind::Case)]
}

/// A valid blueprint of 1–4 rules, each filter set on about a third of them; statute `d` is in
/// no bank, so some rules cannot be met.
fn blueprint() -> impl Strategy<Value = BlueprintSpec> {
    let statute = prop_oneof![6 => statute(), 1 => Just("d".to_string())];
    let rule = (
        rule_kind(),
        proptest::option::weighted(0.35, statute),
        proptest::option::weighted(0.35, 1i32..=3),
        proptest::option::weighted(0.35, level()),
        1u32..=4,
        MIN_CASE_POINTS_CENTI..=100_000,
    )
        .prop_map(|(kind, statute, difficulty, level, count, points_centi)| BlueprintRule {
            kind,
            statute,
            difficulty,
            level,
            count,
            points_centi,
        });
    (proptest::collection::vec(rule, 1..=4), any::<bool>()).prop_map(|(rules, parallel)| BlueprintSpec {
        rules,
        parallel,
        ..BlueprintSpec::default()
    })
}

/// The blueprint's filters, as `paper.rs` documents them.
fn filters_match(rule: &BlueprintRule, c: &PoolCandidate) -> bool {
    rule.statute.as_ref().is_none_or(|s| *s == c.statute)
        && rule.difficulty.is_none_or(|d| d == c.difficulty)
        && rule.level.is_none_or(|l| c.levels.contains(&l))
}

/// Every case group's items in position order, by case id.
fn case_groups(bank: &[PoolCandidate]) -> HashMap<CaseId, Vec<&PoolCandidate>> {
    let mut groups: HashMap<CaseId, Vec<&PoolCandidate>> = HashMap::new();
    for c in bank.iter().filter(|c| c.case.is_some()) {
        groups.entry(c.case.unwrap().0).or_default().push(c);
    }
    for items in groups.values_mut() {
        items.sort_by_key(|c| c.case.unwrap().1);
    }
    groups
}

fn per_mille(f: f64) -> u16 {
    (f.clamp(0.0, 1.0) * 1000.0).round() as u16
}

/// Checks a pool built for `spec` from `bank`.
fn check_pool(spec: &BlueprintSpec, bank: &[PoolCandidate], pool: &Pool) -> Result<(), TestCaseError> {
    let by_id: HashMap<VersionId, &PoolCandidate> = bank.iter().map(|c| (c.version_id, c)).collect();
    let groups = case_groups(bank);
    prop_assert_eq!(pool.rules.len(), spec.rules.len());
    prop_assert_eq!(pool.format, POOL_FORMAT);
    prop_assert_eq!(pool.fit.is_some(), spec.tolerance_permille.is_some());
    // where each version went: (rule index)
    let mut placed: HashMap<VersionId, usize> = HashMap::new();
    for (r, (rule, pr)) in spec.rules.iter().zip(&pool.rules).enumerate() {
        prop_assert_eq!((pr.count, pr.points_centi, pr.parallel), (rule.count, rule.points_centi, spec.parallel));
        prop_assert!(pr.entries.len() >= rule.count as usize, "rule {} has {} entries for {}", r + 1, pr.entries.len(), rule.count);
        for e in &pr.entries {
            prop_assert_eq!(e.v.len(), e.n.len());
            prop_assert!(!e.v.is_empty());
            for (v, n) in e.v.iter().zip(&e.n) {
                let c = by_id.get(v).ok_or_else(|| TestCaseError::fail(format!("version {v} is not in the bank")))?;
                prop_assert_eq!(usize::from(*n), c.option_count);
                prop_assert!(placed.insert(*v, r).is_none(), "version {} is in the pool twice", v);
            }
            match rule.kind.question_kind() {
                Some(kind) => {
                    prop_assert_eq!(e.v.len(), 1);
                    let c = by_id[&e.v[0]];
                    prop_assert!(c.case.is_none(), "a case item drawn as a plain question");
                    prop_assert_eq!(c.kind, kind);
                    prop_assert!(filters_match(rule, c), "version {} does not match rule {}", c.version_id, r + 1);
                    // calibrated difficulty first, then facility, then the authored prior
                    let share = match c.calibrated {
                        Some(b) => 1.0 / (1.0 + (b - REFERENCE_THETA).exp()),
                        None => c.facility.unwrap_or_else(|| prior_facility(c.difficulty)),
                    };
                    prop_assert_eq!(e.f, Some(per_mille(share)));
                    prop_assert_eq!(e.x, Some(c.exposure));
                }
                None => {
                    let case = by_id[&e.v[0]].case.ok_or_else(|| TestCaseError::fail("a plain question in a case rule"))?.0;
                    let group = &groups[&case];
                    let ids: Vec<VersionId> = group.iter().map(|c| c.version_id).collect();
                    prop_assert_eq!(&e.v, &ids, "case {} must be whole and in position order", case);
                    prop_assert!(group.iter().any(|c| filters_match(rule, c)), "no item of case {} matches rule {}", case, r + 1);
                    prop_assert!(e.f.is_some());
                    prop_assert_eq!(e.x, Some(group.iter().map(|c| c.exposure).max().unwrap_or(0)));
                }
            }
        }
    }
    // first rule wins: whatever a rule matches is in that rule or an earlier one
    for (r, rule) in spec.rules.iter().enumerate() {
        match rule.kind.question_kind() {
            Some(kind) => {
                for c in bank.iter().filter(|c| c.case.is_none() && c.kind == kind && filters_match(rule, c)) {
                    prop_assert!(
                        placed.get(&c.version_id).is_some_and(|&p| p <= r),
                        "version {} matches rule {} but is not in it or before",
                        c.version_id,
                        r + 1
                    );
                }
            }
            None => {
                for (case, group) in &groups {
                    if group.iter().any(|c| filters_match(rule, c)) {
                        prop_assert!(
                            placed.get(&group[0].version_id).is_some_and(|&p| p <= r),
                            "case {} matches rule {} but is not in it or before",
                            case,
                            r + 1
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks a paper drawn from `pool`.
fn check_paper(pool: &Pool, paper: &Paper) -> Result<(), TestCaseError> {
    // version → (rule, entry)
    let mut home: HashMap<VersionId, (usize, usize)> = HashMap::new();
    for (r, rule) in pool.rules.iter().enumerate() {
        for (i, e) in rule.entries.iter().enumerate() {
            for v in &e.v {
                home.insert(*v, (r, i));
            }
        }
    }
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    prop_assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "a question twice on one paper: {:?}", ids);
    let mut at = 0;
    for (r, rule) in pool.rules.iter().enumerate() {
        let mut chosen = Vec::new();
        for _ in 0..rule.count {
            let item = paper.items.get(at).ok_or_else(|| TestCaseError::fail(format!("the paper ends inside rule {}", r + 1)))?;
            let (hr, i) =
                home.get(&item.v).copied().ok_or_else(|| TestCaseError::fail(format!("version {} is not in the pool", item.v)))?;
            prop_assert_eq!(hr, r, "rule {}'s items must come in the rule's place", r + 1);
            let entry = &rule.entries[i];
            // a whole entry (a case group with its items in order), at the rule's points
            let got: Vec<VersionId> = paper.items[at..].iter().take(entry.v.len()).map(|i| i.v).collect();
            prop_assert_eq!(&got, &entry.v, "entry split or reordered");
            // the entry's points, split over its items
            let shares = split_points(rule.points_centi, entry.v.len());
            prop_assert_eq!(paper.items[at..at + entry.v.len()].iter().map(|i| i.p).sum::<i64>(), rule.points_centi);
            for ((item, n), share) in paper.items[at..at + entry.v.len()].iter().zip(&entry.n).zip(shares) {
                prop_assert_eq!(item.p, share);
                let mut order: Vec<char> = item.o.chars().collect();
                order.sort_unstable();
                let letters: Vec<char> = OPTION_LETTERS.chars().take(usize::from(*n)).collect();
                prop_assert_eq!(order, letters, "option order {:?} is not a permutation", item.o);
            }
            at += entry.v.len();
            chosen.push(i);
        }
        if rule.parallel {
            // one entry from each of `count` difficulty strata
            let facilities: Vec<f64> = rule.entries.iter().map(|e| e.f.unwrap_or(500) as f64 / 1000.0).collect();
            let layers = strata(&facilities, rule.count as usize);
            prop_assert_eq!(layers.len(), rule.count as usize);
            for layer in &layers {
                prop_assert_eq!(chosen.iter().filter(|i| layer.contains(i)).count(), 1, "strata {:?}, chosen {:?}", layers, chosen);
            }
        }
    }
    prop_assert_eq!(at, paper.items.len(), "items beyond the blueprint");
    prop_assert_eq!(paper.max_centi(), paper.items.iter().map(|i| i.p).sum::<i64>());
    prop_assert_eq!(paper.max_centi(), pool.max_centi(), "every paper of a pool carries the pool's points");
    Ok(())
}

/// The rules a refusal names (0-based) and the size it says the bank has for each, checking
/// each message says a rule wants its count and has fewer.
fn short_rules(spec: &BlueprintSpec, errs: &[String]) -> Result<HashMap<usize, u32>, TestCaseError> {
    let mut short = HashMap::new();
    for e in errs {
        let (head, tail) = e.split_once(": wants ").ok_or_else(|| TestCaseError::fail(format!("unexpected error {e:?}")))?;
        let r: usize =
            head.strip_prefix("rule ").and_then(|n| n.parse().ok()).ok_or_else(|| TestCaseError::fail(format!("{e:?} names no rule")))?;
        let want: Option<u32> = tail.split(' ').next().and_then(|n| n.parse().ok());
        let have: Option<u32> = tail.rsplit_once("only ").and_then(|(_, n)| n.strip_suffix(" active")).and_then(|n| n.parse().ok());
        let (Some(want), Some(have)) = (want, have) else { return Err(TestCaseError::fail(format!("{e:?} gives no sizes"))) };
        prop_assert!((1..=spec.rules.len()).contains(&r), "{}", e);
        prop_assert_eq!(want, spec.rules[r - 1].count);
        prop_assert!(have < want, "{}", e);
        prop_assert!(short.insert(r - 1, have).is_none(), "rule {} named twice", r);
    }
    Ok(short)
}

/// The blueprint with each short rule asking for what the bank has, and the rules it has
/// nothing for left out (they took nothing, so the other rules' shares stay the same); `None`
/// when no rule is left.
fn relax(spec: &BlueprintSpec, short: &HashMap<usize, u32>) -> Option<BlueprintSpec> {
    let rules: Vec<BlueprintRule> = spec
        .rules
        .iter()
        .enumerate()
        .filter(|(i, _)| short.get(i) != Some(&0))
        .map(|(i, rule)| BlueprintRule { count: short.get(&i).copied().unwrap_or(rule.count), ..rule.clone() })
        .collect();
    (!rules.is_empty()).then_some(BlueprintSpec { rules, parallel: spec.parallel, ..spec.clone() })
}

proptest! {
    #![proptest_config(config())]

    /// A pool is built, or refused naming exactly the rules that are short, with their real
    /// sizes: lowering those rules' counts to what the bank has (dropping rules the bank has
    /// nothing for, which took nothing) then builds, with those rules at exactly that size.
    #[test]
    fn pools_partition_the_bank_or_name_the_short_rules(bank in bank(), spec in blueprint()) {
        prop_assert!(spec.validate().is_empty());
        match build_pool(&spec, &bank) {
            Ok(pool) => check_pool(&spec, &bank, &pool)?,
            Err(errs) => {
                let short = short_rules(&spec, &errs)?;
                let Some(relaxed) = relax(&spec, &short) else { return Ok(()) };
                let pool = build_pool(&relaxed, &bank).map_err(|e| TestCaseError::fail(format!("relaxed blueprint still refused: {e:?}")))?;
                check_pool(&relaxed, &bank, &pool)?;
                let kept: Vec<usize> = (0..spec.rules.len()).filter(|i| short.get(i) != Some(&0)).collect();
                for (pr, i) in pool.rules.iter().zip(kept) {
                    if let Some(&have) = short.get(&i) {
                        prop_assert_eq!(pr.entries.len(), have as usize, "rule {} size", i + 1);
                    }
                }
            }
        }
    }

    /// Every paper follows the blueprint: each rule's `count` whole entries in the rule's place
    /// at its points (case items together and in order), nothing else, no question twice,
    /// option orders that are permutations; parallel rules take one entry per difficulty
    /// stratum. The same seed gives the same paper, also from the pool read back from JSON.
    #[test]
    fn papers_follow_the_blueprint(bank in bank(), spec in blueprint(), seeds in proptest::collection::vec(any::<u64>(), 4)) {
        // a blueprint the bank cannot meet is lowered to what it can
        let pool = match build_pool(&spec, &bank) {
            Ok(pool) => pool,
            Err(errs) => match relax(&spec, &short_rules(&spec, &errs)?) {
                Some(relaxed) => build_pool(&relaxed, &bank).map_err(|e| TestCaseError::fail(format!("{e:?}")))?,
                None => return Ok(()),
            },
        };
        let stored: Pool = serde_json::from_str(&serde_json::to_string(&pool).unwrap()).unwrap();
        prop_assert_eq!(&stored, &pool);
        for seed in seeds {
            let paper = draw(&pool, seed);
            check_paper(&pool, &paper)?;
            prop_assert_eq!(&draw(&pool, seed), &paper, "seed {} drew two papers", seed);
            prop_assert_eq!(&draw(&stored, seed), &paper, "the stored pool drew another paper");
            // the seed is stored as an i64 and read back `as u64`
            prop_assert_eq!(&draw(&pool, seed as i64 as u64), &paper);
        }
    }

    /// Papers drawn from a bank big enough for every rule: the common case, so the paper checks
    /// above do not depend on how often a random blueprint happens to fit a random bank.
    #[test]
    fn papers_from_a_big_enough_bank(bank in bank(), parallel in any::<bool>(), seed in any::<u64>()) {
        // one unfiltered rule per kind the bank has, asking for all of it
        let groups = case_groups(&bank).len() as u32;
        let plain = |k: QuestionKind| bank.iter().filter(|c| c.case.is_none() && c.kind == k).count() as u32;
        let rules: Vec<BlueprintRule> = [
            (RuleKind::Single, plain(QuestionKind::Single)),
            (RuleKind::Multiple, plain(QuestionKind::Multiple)),
            (RuleKind::TrueFalse, plain(QuestionKind::TrueFalse)),
            (RuleKind::Case, groups),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| BlueprintRule { kind, statute: None, difficulty: None, level: None, count: n.div_ceil(2), points_centi: 100 })
        .collect();
        prop_assume!(!rules.is_empty());
        let spec = BlueprintSpec { rules, parallel, ..BlueprintSpec::default() };
        let pool = build_pool(&spec, &bank).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        check_pool(&spec, &bank, &pool)?;
        let paper = draw(&pool, seed);
        check_paper(&pool, &paper)?;
        prop_assert_eq!(draw(&pool, seed), paper);
    }

    /// Every paper drawn from one pool has the same maximum, however many items its case groups
    /// have: 40 seeds, one total.
    #[test]
    fn every_paper_of_a_pool_has_the_same_maximum(bank in bank(), spec in blueprint(), seeds in proptest::collection::vec(any::<u64>(), 40)) {
        let pool = match build_pool(&spec, &bank) {
            Ok(pool) => pool,
            Err(errs) => match relax(&spec, &short_rules(&spec, &errs)?) {
                Some(relaxed) => build_pool(&relaxed, &bank).map_err(|e| TestCaseError::fail(format!("{e:?}")))?,
                None => return Ok(()),
            },
        };
        let totals: HashSet<i64> = seeds.iter().map(|&s| draw(&pool, s).max_centi()).collect();
        prop_assert_eq!(totals.len(), 1, "papers of one pool with different totals: {:?}", totals);
        prop_assert_eq!(totals.into_iter().next(), Some(pool.max_centi()));
    }

    /// A blueprint with a tolerance either freezes a pool whose every paper's expected score is
    /// within it of the target, or is refused for the tolerance alone (without it, the same
    /// blueprint builds).
    #[test]
    fn a_tolerance_is_met_by_every_paper_or_refused(bank in bank(), parallel in any::<bool>(), tolerance in 5u32..=150, seeds in proptest::collection::vec(any::<u64>(), 8)) {
        let plain = |k: QuestionKind| bank.iter().filter(|c| c.case.is_none() && c.kind == k).count() as u32;
        let rules: Vec<BlueprintRule> = [
            (RuleKind::Single, plain(QuestionKind::Single)),
            (RuleKind::TrueFalse, plain(QuestionKind::TrueFalse)),
            (RuleKind::Case, case_groups(&bank).len() as u32),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(kind, n)| BlueprintRule { kind, statute: None, difficulty: None, level: None, count: n / 2, points_centi: 250 })
        .collect();
        prop_assume!(!rules.is_empty());
        let spec = BlueprintSpec { rules, parallel, tolerance_permille: Some(tolerance), ..BlueprintSpec::default() };
        match build_pool(&spec, &bank) {
            Ok(pool) => {
                let fit = pool.fit.ok_or_else(|| TestCaseError::fail("no fit stored"))?;
                prop_assert_eq!(fit.tolerance_centi, (pool.max_centi() * i64::from(tolerance) + 500) / 1000);
                prop_assert!(f64::from(fit.rate_permille) >= MIN_FIT_RATE * 1000.0 - 0.5);
                for seed in seeds {
                    let paper = draw(&pool, seed);
                    check_paper(&pool, &paper)?;
                    // exact: thousandths of a hundredth
                    let e = pool.expected_x(&paper).ok_or_else(|| TestCaseError::fail("no expected score"))?;
                    prop_assert!((e - fit.target_centi * 1000).abs() <= fit.tolerance_centi * 1000,
                        "seed {}: expected {} for target {} ± {}", seed, e, fit.target_centi, fit.tolerance_centi);
                }
            }
            Err(errs) => {
                prop_assert_eq!(errs.len(), 1);
                prop_assert!(errs[0].starts_with("tolerance: only "), "{}", errs[0]);
                let without = BlueprintSpec { tolerance_permille: None, ..spec };
                prop_assert!(build_pool(&without, &bank).is_ok());
            }
        }
    }
}
