//! Property tests of grading (`grading.rs`): random keys, answers, point values, adjustments
//! and pass marks, checked against what the module promises rather than against examples.

use proptest::prelude::*;

use super::bank::{QuestionKind, OPTION_LETTERS};
use super::grading::*;

/// 256 cases per property keeps `cargo test --lib` quick on two cores.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

fn letters(n: usize) -> Vec<char> {
    OPTION_LETTERS.chars().take(n).collect()
}

/// The options that are set in `mask`, as a string in option order.
fn subset(options: &[char], mask: u32) -> String {
    options.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect()
}

/// `s` in a random order with some letters repeated: the same set of option ids.
fn scramble(s: &str) -> impl Strategy<Value = String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    (Just(chars).prop_shuffle(), proptest::collection::vec(0..n.max(1), 0..3)).prop_map(move |(mut v, repeats)| {
        if n > 0 {
            for i in repeats {
                let c = v[i];
                v.push(c);
            }
        }
        v.into_iter().collect()
    })
}

/// A multiple-choice item as the bank allows it: 3–6 options, a key of two or more of them.
fn multiple_item() -> impl Strategy<Value = (Vec<char>, String)> {
    (3usize..=6).prop_flat_map(|n| {
        let options = letters(n);
        (1u32..(1 << n))
            .prop_filter("a key of two or more options", |m| m.count_ones() >= 2)
            .prop_map(move |m| (options.clone(), subset(&options, m)))
    })
}

fn kind() -> impl Strategy<Value = QuestionKind> {
    prop_oneof![Just(QuestionKind::Single), Just(QuestionKind::Multiple), Just(QuestionKind::TrueFalse)]
}

fn rule() -> impl Strategy<Value = MultiRule> {
    prop_oneof![Just(MultiRule::AllOrNothing), Just(MultiRule::Partial)]
}

/// Any item of any kind: its key and a random answer over the same options (possibly empty,
/// possibly repeated letters, any order).
fn any_item() -> impl Strategy<Value = (QuestionKind, String, String)> {
    kind().prop_flat_map(|kind| {
        let options = match kind {
            QuestionKind::TrueFalse => vec!['T', 'F'],
            _ => letters(6),
        };
        let key = match kind {
            QuestionKind::TrueFalse => prop_oneof![Just("T".to_string()), Just("F".to_string())].boxed(),
            QuestionKind::Single => proptest::sample::select(letters(6)).prop_map(String::from).boxed(),
            QuestionKind::Multiple => multiple_item().prop_map(|(_, k)| k).boxed(),
        };
        let answer = proptest::collection::vec(proptest::sample::select(options), 0..8).prop_map(|v| v.into_iter().collect::<String>());
        (Just(kind), key, answer)
    })
}

/// An item and its key written in another order, with repeats, as the answer.
fn with_key_scrambled() -> impl Strategy<Value = (QuestionKind, String, String)> {
    any_item().prop_flat_map(|(kind, key, _)| (Just(kind), Just(key.clone()), scramble(&key)))
}

/// An item, then its key and its answer each written in another order, with repeats.
fn with_both_scrambled() -> impl Strategy<Value = ((QuestionKind, String, String), String, String)> {
    any_item().prop_flat_map(|(kind, key, answer)| {
        let (k2, a2) = (scramble(&key), scramble(&answer));
        (Just((kind, key, answer)), k2, a2)
    })
}

/// Points as a blueprint allows them: more than 0, at most 1000 points (in hundredths).
fn points() -> impl Strategy<Value = i64> {
    1i64..=100_000
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the key, answer, rule and points, an item scores between 0 and its points.
    #[test]
    fn score_is_between_zero_and_the_points(kind in kind(), rule in rule(), key in "[A-F]{0,6}", choices in "[A-Z]{0,8}", p in points()) {
        let s = score_item(kind, rule, &key, &choices, p);
        prop_assert!((0..=p).contains(&s), "score {s} for {p}");
    }

    /// The key, in any order and with letters repeated, scores full points under either rule.
    #[test]
    fn the_key_in_any_order_scores_full_points((kind, key, answer) in with_key_scrambled(), rule in rule(), p in points()) {
        prop_assert_eq!(score_item(kind, rule, &key, &answer, p), p, "answer {:?} to key {:?}", answer, key);
    }

    /// An empty answer scores nothing, whatever the key.
    #[test]
    fn an_empty_answer_scores_nothing((kind, key, _) in any_item(), rule in rule(), p in points()) {
        prop_assert_eq!(score_item(kind, rule, &key, "", p), 0);
        prop_assert_eq!(score_adjusted(kind, rule, &key, None, Some(""), p), 0);
        prop_assert_eq!(score_adjusted(kind, rule, &key, None, None, p), 0, "no saved answer");
    }

    /// The answer's (and the key's) letter order and repeats never change the score.
    #[test]
    fn grading_ignores_choice_order_and_repeats(((kind, key, answer), key2, answer2) in with_both_scrambled(), rule in rule(), p in points()) {
        let s = score_item(kind, rule, &key, &answer, p);
        prop_assert_eq!(score_item(kind, rule, &key, &answer2, p), s, "{:?} vs {:?}", answer, answer2);
        prop_assert_eq!(score_item(kind, rule, &key2, &answer, p), s, "key {:?} vs {:?}", key, key2);
    }

    /// 少选得部分分，错选不得分: under the partial rule a multiple-choice answer with any option
    /// outside the key scores 0; a strict non-empty subset of the key scores its share of the
    /// points, rounded down to the hundredth: more than 0 (for any real point value, at least
    /// one hundredth per key option) and less than full.
    #[test]
    fn partial_rule_wrong_option_scores_zero_subset_scores_its_share((options, key) in multiple_item(), mask in 1u32..64, p in points()) {
        let answer = subset(&options, mask & ((1 << options.len()) - 1));
        prop_assume!(!answer.is_empty());
        let s = score_item(QuestionKind::Multiple, MultiRule::Partial, &key, &answer, p);
        let wrong = answer.chars().any(|c| !key.contains(c));
        if wrong {
            prop_assert_eq!(s, 0, "answer {} to key {} has a wrong option", answer, key);
        } else if answer == key {
            prop_assert_eq!(s, p);
        } else {
            let (a, k) = (answer.len() as i64, key.len() as i64);
            prop_assert_eq!(s, p * a / k, "answer {} to key {}", answer, key);
            prop_assert!(s < p, "a strict subset must not score full points");
            if p >= k {
                prop_assert!(s > 0, "answer {} to key {} for {} scored 0", answer, key, p);
            }
        }
    }

    /// Under the partial rule, adding another correct option to a partial answer never lowers
    /// its score.
    #[test]
    fn partial_credit_grows_with_each_correct_option((options, key) in multiple_item(), mask in 1u32..64, p in points()) {
        let in_key = |c: char| key.contains(c);
        let answer: String = subset(&options, mask & ((1 << options.len()) - 1)).chars().filter(|c| in_key(*c)).collect();
        for extra in key.chars().filter(|c| !answer.contains(*c)) {
            let more = format!("{answer}{extra}");
            prop_assert!(
                score_item(QuestionKind::Multiple, MultiRule::Partial, &key, &more, p) >= score_item(QuestionKind::Multiple, MultiRule::Partial, &key, &answer, p),
                "{} then {}", answer, more
            );
        }
    }

    /// All-or-nothing, and every single-choice and true/false item under either rule, scores
    /// only 0 or full points, full exactly when the answer is the key as a set.
    #[test]
    fn all_or_nothing_scores_zero_or_full((kind, key, answer) in any_item(), rule in rule(), p in points()) {
        let s = score_item(kind, rule, &key, &answer, p);
        if rule == MultiRule::AllOrNothing || kind != QuestionKind::Multiple {
            let exact = canonical(&answer) == canonical(&key);
            prop_assert_eq!(s, if exact { p } else { 0 }, "{:?} {:?}: answer {:?} to key {:?}", kind, rule, answer, key);
        }
    }

    /// A voided item (an upheld challenge) gives full points to everyone who had it, whatever
    /// they answered, blank included.
    #[test]
    fn a_voided_item_gives_everyone_full_points((kind, key, answer) in any_item(), rule in rule(), p in points(), blank in any::<bool>(), also in proptest::collection::vec("[A-F]{1,3}", 0..3)) {
        let void = Adjustment { also_accepted: also, voided: true };
        let choices = (!blank).then_some(answer.as_str());
        prop_assert_eq!(score_adjusted(kind, rule, &key, Some(&void), choices, p), p);
    }

    /// Accepting further answers scores the best of the key and each alternative, so an
    /// adjustment never lowers a score, and an accepted answer scores full points.
    #[test]
    fn accepted_alternatives_score_the_best_match((kind, key, answer) in any_item(), rule in rule(), p in points(), also in proptest::collection::vec("[A-F]{1,3}", 0..3)) {
        let adj = Adjustment { also_accepted: also.clone(), voided: false };
        let s = score_adjusted(kind, rule, &key, Some(&adj), Some(&answer), p);
        let best = std::iter::once(&key).chain(&also).map(|k| score_item(kind, rule, k, &answer, p)).max().unwrap();
        prop_assert_eq!(s, best);
        prop_assert!(s >= score_adjusted(kind, rule, &key, None, Some(&answer), p));
        if let Some(alt) = also.first() {
            prop_assert_eq!(score_adjusted(kind, rule, &key, Some(&adj), Some(alt), p), p);
        }
    }

    /// A whole attempt: the score is the sum of item scores, the maximum the sum of points, and
    /// it passes exactly when score × 100 ≥ pass mark × maximum (an empty paper never passes).
    /// Reordering the items changes nothing but the order of the item scores.
    #[test]
    fn grade_sums_items_and_applies_the_pass_mark(
        items in proptest::collection::vec((any_item(), points(), any::<bool>(), any::<bool>()), 0..30),
        rule in rule(),
        pass in 0i32..=100,
        seed in any::<u64>(),
    ) {
        let void = Adjustment { also_accepted: vec![], voided: true };
        let to_grade: Vec<ItemToGrade<'_>> = items
            .iter()
            .map(|((kind, key, answer), p, blank, voided)| ItemToGrade {
                kind: *kind,
                key,
                choices: (!blank).then_some(answer.as_str()),
                points_centi: *p,
                adjustment: voided.then_some(&void),
            })
            .collect();
        let g = grade(&to_grade, rule, pass);
        prop_assert_eq!(g.item_scores.len(), items.len());
        for (s, i) in g.item_scores.iter().zip(&to_grade) {
            prop_assert_eq!(*s, score_adjusted(i.kind, rule, i.key, i.adjustment, i.choices, i.points_centi));
        }
        prop_assert_eq!(g.score_centi, g.item_scores.iter().sum::<i64>());
        prop_assert_eq!(g.max_centi, items.iter().map(|i| i.1).sum::<i64>());
        prop_assert!((0..=g.max_centi).contains(&g.score_centi));
        let expected = g.max_centi > 0 && i128::from(g.score_centi) * 100 >= i128::from(g.max_centi) * i128::from(pass);
        prop_assert_eq!(g.passed, expected, "{}/{} at {}%", g.score_centi, g.max_centi, pass);
        // a lower pass mark never turns a pass into a fail
        if g.passed && pass > 0 {
            prop_assert!(grade(&to_grade, rule, pass - 1).passed);
        }
        // full marks always pass, when there is anything to score
        prop_assert_eq!(passed(g.max_centi, g.max_centi, pass), g.max_centi > 0);

        let mut order: Vec<usize> = (0..to_grade.len()).collect();
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let shuffled: Vec<ItemToGrade<'_>> = order.iter().map(|&i| to_grade[i].clone()).collect();
        let h = grade(&shuffled, rule, pass);
        prop_assert_eq!((h.score_centi, h.max_centi, h.passed), (g.score_centi, g.max_centi, g.passed));
        prop_assert_eq!(h.item_scores, order.iter().map(|&i| g.item_scores[i]).collect::<Vec<_>>());
    }

    /// Points format and read back exactly: whole, tenths or hundredths, never trailing zeros.
    #[test]
    fn points_format_exactly(centi in 0i64..=10_000_000) {
        let s = format_points(centi);
        let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
        prop_assert!(!frac.ends_with('0') && frac.len() <= 2, "{}", s);
        let frac_centi = match frac.len() { 0 => 0, 1 => frac.parse::<i64>().unwrap() * 10, _ => frac.parse::<i64>().unwrap() };
        prop_assert_eq!(whole.parse::<i64>().unwrap() * 100 + frac_centi, centi, "{}", s);
    }
}
