//! Tests of the measurement modules: the estimator against simulated data with known
//! parameters (recovery), its estimating equations, extremes, anchoring and errors; the flags,
//! Mantel–Haenszel and Angoff against hand-worked numbers.

use super::angoff::{self, AngoffError, Rating};
use super::dif::{self, DifResponse, EtsCategory, Group};
use super::flags::{self, Choice, Flag, FlagRules};
use super::rasch::{self, calibrate, probability, Obs, Options, PaperItem, RaschError, Status};
use super::sim::{rmse, simulate};

fn o(person: u32, item: u32, score: f64) -> Obs {
    Obs { person, item, score }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The design: 2,000 persons, a 150-item pool, each paper 60–100 items drawn from it.
#[test]
fn recovers_known_difficulties_and_abilities_from_pool_drawn_papers() {
    let sim = simulate(2000, 150, 60, 100, 20261204);
    let started = std::time::Instant::now();
    let cal = calibrate(2000, 150, &sim.obs, &Options::default()).unwrap();
    let took = started.elapsed();
    let est: Vec<f64> = cal.items.iter().map(|i| i.difficulty).collect();
    let item_rmse = rmse(&est, &sim.difficulties);
    let mean_se = mean(&cal.items.iter().map(|i| i.se).collect::<Vec<_>>());
    let measured: Vec<usize> = (0..2000).filter(|&p| cal.persons[p].status == Status::Measured).collect();
    let theta: Vec<f64> = measured.iter().map(|&p| cal.persons[p].ability).collect();
    let truth: Vec<f64> = measured.iter().map(|&p| sim.abilities[p]).collect();
    let person_rmse = rmse(&theta, &truth);
    let person_se = mean(&measured.iter().map(|&p| cal.persons[p].se).collect::<Vec<_>>());
    println!(
        "recovery 2000×150, papers 60–100: item RMSE {item_rmse:.4} (mean SE {mean_se:.4}), person RMSE {person_rmse:.4} \
         (mean SE {person_se:.4}), {} iterations, bias factor {:.4}, {took:?}",
        cal.iterations, cal.bias_factor
    );
    assert!(item_rmse < 0.1, "item RMSE {item_rmse}");
    // The standard errors are honest: the RMSE is what they promise (within 20%).
    assert!((item_rmse / mean_se - 1.0).abs() < 0.2, "RMSE {item_rmse} vs mean SE {mean_se}");
    assert!((person_rmse / person_se - 1.0).abs() < 0.2, "person RMSE {person_rmse} vs mean SE {person_se}");
    // No systematic stretch of the scale: the slope of estimate on truth is 1 within 3%.
    let slope = est.iter().zip(&sim.difficulties).map(|(e, t)| e * t).sum::<f64>() / sim.difficulties.iter().map(|t| t * t).sum::<f64>();
    assert!((slope - 1.0).abs() < 0.03, "slope {slope}");
    assert!(mean(&est).abs() < 1e-9, "identified by mean difficulty 0");
    // Model data fit the model.
    let infit = mean(&cal.items.iter().map(|i| i.fit.unwrap().infit).collect::<Vec<_>>());
    let outfit = mean(&cal.items.iter().map(|i| i.fit.unwrap().outfit).collect::<Vec<_>>());
    assert!((infit - 1.0).abs() < 0.03 && (outfit - 1.0).abs() < 0.05, "infit {infit}, outfit {outfit}");
    let flagged = cal.items.iter().filter(|i| flags::item_flags(i, &FlagRules::default()).contains(&Flag::Misfit)).count();
    assert!(flagged <= 2, "{flagged} of 150 model-fitting items flagged as misfitting");
}

/// Without the (L-1)/L correction JML stretches short tests; with it the stretch is gone.
#[test]
fn bias_correction_removes_the_stretch_of_short_tests() {
    let sim = simulate(3000, 20, 10, 10, 7);
    let slope = |cal: &rasch::Calibration| {
        let est: Vec<f64> = cal.items.iter().map(|i| i.difficulty).collect();
        est.iter().zip(&sim.difficulties).map(|(e, t)| e * t).sum::<f64>() / sim.difficulties.iter().map(|t| t * t).sum::<f64>()
    };
    let raw = calibrate(3000, 20, &sim.obs, &Options { bias_correction: false, ..Options::default() }).unwrap();
    let fixed = calibrate(3000, 20, &sim.obs, &Options::default()).unwrap();
    assert_eq!(fixed.bias_factor, 0.9);
    assert!(slope(&raw) > 1.06, "uncorrected JML on 10-item papers is stretched: slope {}", slope(&raw));
    assert!((slope(&fixed) - 1.0).abs() < 0.04, "corrected slope {}", slope(&fixed));
}

/// At the solution (without the bias correction) the estimating equations hold: for every
/// measured person and item, the observed score equals the expected score, fractions included.
#[test]
fn estimates_solve_the_estimating_equations_with_fractional_scores() {
    let mut sim = simulate(300, 40, 15, 30, 3);
    for (k, ob) in sim.obs.iter_mut().enumerate() {
        if k % 5 == 0 {
            ob.score = 0.5; // partial credit
        } else if k % 7 == 0 {
            ob.score = 0.25;
        }
    }
    let cal = calibrate(300, 40, &sim.obs, &Options { bias_correction: false, tolerance: 1e-9, ..Options::default() }).unwrap();
    let (mut ix, mut ie) = (vec![0.0; 40], vec![0.0; 40]);
    let (mut px, mut pe) = (vec![0.0; 300], vec![0.0; 300]);
    for ob in &sim.obs {
        let (p, i) = (ob.person as usize, ob.item as usize);
        if cal.persons[p].status != Status::Measured || cal.items[i].status != Status::Measured {
            continue;
        }
        let e = probability(cal.persons[p].ability, cal.items[i].difficulty);
        ix[i] += ob.score;
        ie[i] += e;
        px[p] += ob.score;
        pe[p] += e;
    }
    // each item's equation with its faint prior: expected - observed = prior precision × difficulty
    for i in 0..40 {
        let b = cal.items[i].difficulty;
        assert!((ie[i] - ix[i] - rasch::ITEM_PRIOR * b).abs() < 1e-5, "item {i}: observed {} expected {} at {b}", ix[i], ie[i]);
    }
    for p in 0..300 {
        if cal.persons[p].status == Status::Measured {
            assert!((px[p] - pe[p]).abs() < 1e-5, "person {p}: observed {} expected {}", px[p], pe[p]);
        }
    }
}

/// Two items everyone answers, half the persons right on each in mirror image: the difficulties
/// are equal and opposite, the persons' abilities mirror each other.
#[test]
fn a_small_symmetric_data_set_gives_symmetric_estimates() {
    // persons 0..4: item 0 right more often than item 1, three items so nobody is extreme.
    let rows = [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]];
    let obs: Vec<Obs> =
        rows.iter().enumerate().flat_map(|(p, r)| r.iter().enumerate().map(move |(i, &s)| o(p as u32, i as u32, s))).collect();
    let cal = calibrate(6, 3, &obs, &Options::default()).unwrap();
    let b: Vec<f64> = cal.items.iter().map(|i| i.difficulty).collect();
    // complete data: the raw score is sufficient, so items 1 and 2 (3 right each) are equal
    // and item 0 (4 right) is easier
    assert!(b[0] < b[1] && (b[1] - b[2]).abs() < 1e-6, "{b:?}");
    assert!((b.iter().sum::<f64>()).abs() < 1e-9);
    // persons with the same raw score on the same items have the same ability
    assert!((cal.persons[0].ability - cal.persons[1].ability).abs() < 1e-9);
    assert!(cal.persons[3].ability < cal.persons[0].ability);
}

#[test]
fn extreme_persons_and_items_are_set_aside_and_reported() {
    let mut sim = simulate(200, 12, 12, 12, 11);
    // person 0 all right, person 1 all wrong, item 11 right for everyone
    for ob in &mut sim.obs {
        if ob.person == 0 || ob.item == 11 {
            ob.score = 1.0;
        }
        if ob.person == 1 && ob.item != 11 {
            ob.score = 0.0;
        }
    }
    let cal = calibrate(200, 12, &sim.obs, &Options::default()).unwrap();
    assert_eq!(cal.persons[0].status, Status::AllCorrect);
    assert!(cal.persons[0].fit.is_none());
    assert_eq!(cal.items[11].status, Status::AllCorrect);
    assert!(cal.items[11].fit.is_none());
    assert!(flags::item_flags(&cal.items[11], &FlagRules::default()).contains(&Flag::AllCorrect));
    // person 1 has item 11 right (everyone does) and nothing else: extreme on the measured items
    assert_eq!(cal.persons[1].status, Status::Measured, "over all their items person 1 is not extreme");
    let measured_max = cal.persons.iter().filter(|p| p.status == Status::Measured).map(|p| p.ability).fold(f64::MIN, f64::max);
    assert!(cal.persons[0].ability > measured_max, "the perfect score is above every measured ability");
    let easiest = cal.items[..11].iter().map(|i| i.difficulty).fold(f64::MAX, f64::min);
    assert!(cal.items[11].difficulty < easiest, "the item everyone got right is the easiest");
    assert!(cal.items[11].se.is_finite() && cal.persons[0].se.is_finite());
    // The extreme estimate is the one for score n - 0.3 against the measured abilities.
    // (against the persons not extreme on items 0..11, the ones that measure)
    let mut sums = vec![(0.0, 0.0); 200];
    for ob in sim.obs.iter().filter(|o| o.item != 11) {
        sums[ob.person as usize].0 += ob.score;
        sums[ob.person as usize].1 += 1.0;
    }
    let thetas: Vec<f64> = (0..200).filter(|&p| sums[p].0 > 0.0 && sums[p].0 < sums[p].1).map(|p| cal.persons[p].ability).collect();
    let expected: f64 = thetas.iter().map(|&t| probability(t, cal.items[11].difficulty)).sum();
    assert!((expected - (thetas.len() as f64 - 0.3)).abs() < 1e-6, "{expected} vs {}", thetas.len() as f64 - 0.3);
    // The mean of the measured items is the origin.
    assert!(mean(&cal.items[..11].iter().map(|i| i.difficulty).collect::<Vec<_>>()).abs() < 1e-9);
}

#[test]
fn disconnected_data_is_an_error_naming_the_groups() {
    // persons 0-2 answer items 0,1; persons 3-5 answer items 2,3: no one links the two.
    let mut obs = Vec::new();
    for p in 0..6u32 {
        let items = if p < 3 { [0, 1] } else { [2, 3] };
        for (k, i) in items.into_iter().enumerate() {
            obs.push(o(p, i, ((p as usize + k) % 2) as f64));
        }
    }
    let err = calibrate(6, 4, &obs, &Options::default()).unwrap_err();
    assert_eq!(err, RaschError::Disconnected { groups: vec![vec![0, 1], vec![2, 3]], anchored: false });
    assert!(err.to_string().contains("2 groups"), "{err}");
    // One anchor per group places both groups on the anchors' scale.
    let anchored = Options { anchors: vec![(0, 0.5), (2, -0.5)], ..Options::default() };
    let cal = calibrate(6, 4, &obs, &anchored).unwrap();
    assert_eq!(cal.items[0].difficulty, 0.5);
    assert_eq!(cal.items[2].difficulty, -0.5);
    // One anchor only: the other group cannot be placed.
    let err = calibrate(6, 4, &obs, &Options { anchors: vec![(0, 0.5)], ..Options::default() }).unwrap_err();
    assert_eq!(err, RaschError::Disconnected { groups: vec![vec![2, 3]], anchored: true });
}

#[test]
fn bad_input_is_refused() {
    assert_eq!(calibrate(1, 1, &[], &Options::default()).unwrap_err(), RaschError::Empty);
    assert_eq!(calibrate(1, 1, &[o(0, 0, 1.5)], &Options::default()).unwrap_err(), RaschError::BadScore { index: 0, score: 1.5 });
    assert!(matches!(calibrate(1, 1, &[o(0, 0, f64::NAN)], &Options::default()), Err(RaschError::BadScore { .. })));
    assert_eq!(
        calibrate(1, 2, &[o(0, 0, 1.0), o(0, 0, 0.0), o(0, 1, 0.0)], &Options::default()).unwrap_err(),
        RaschError::Duplicate { person: 0, item: 0 }
    );
    assert_eq!(calibrate(1, 2, &[o(0, 0, 1.0)], &Options::default()).unwrap_err(), RaschError::NoResponses { item: 1 });
    assert_eq!(
        calibrate(2, 2, &[o(0, 0, 1.0), o(0, 1, 0.0)], &Options { anchors: vec![(5, 0.0)], ..Options::default() }).unwrap_err(),
        RaschError::BadAnchor { item: 5 }
    );
    // everybody right on everything
    assert_eq!(
        calibrate(2, 2, &[o(0, 0, 1.0), o(0, 1, 1.0), o(1, 0, 1.0), o(1, 1, 1.0)], &Options::default()).unwrap_err(),
        RaschError::AllExtreme
    );
}

/// A bank grows: a first calibration on items 0..100, then new data on items 50..150 anchored on
/// items 50..100's first-run difficulties. The new items land on the first run's scale.
#[test]
fn anchoring_keeps_a_growing_bank_on_one_scale() {
    let sim = simulate(2000, 150, 50, 50, 99);
    // first run: persons 0..1000 answer items 0..100 only
    let first: Vec<Obs> = sim.obs.iter().filter(|o| o.person < 1000 && o.item < 100).copied().collect();
    let firsts: std::collections::BTreeSet<u32> = first.iter().map(|o| o.item).collect();
    let mut idx = super::rasch::Labels::new();
    let mut pidx = super::rasch::Labels::new();
    let first_obs: Vec<Obs> = first.iter().map(|ob| o(pidx.id(&ob.person), idx.id(&ob.item), ob.score)).collect();
    let cal1 = calibrate(pidx.len(), idx.len(), &first_obs, &Options::default()).unwrap();
    assert_eq!(firsts.len(), idx.len());
    // second run: persons 1000..2000 answer items 50..150, items 50..100 anchored.
    let second: Vec<Obs> =
        sim.obs.iter().filter(|o| o.person >= 1000 && o.item >= 50).map(|ob| o(ob.person - 1000, ob.item - 50, ob.score)).collect();
    let anchors: Vec<(u32, f64)> = (50..100u32).map(|i| (i - 50, cal1.items[idx.get(&i).unwrap() as usize].difficulty)).collect();
    let cal2 = calibrate(1000, 100, &second, &Options { anchors: anchors.clone(), ..Options::default() }).unwrap();
    for &(i, v) in &anchors {
        assert_eq!(cal2.items[i as usize].difficulty, v);
        assert!(cal2.items[i as usize].anchored);
        assert!(cal2.items[i as usize].displacement.unwrap().abs() < 0.6);
    }
    // The new items 100..150 against the truth, on the first run's scale (mean of 0..100 = 0).
    let shift = mean(&(0..100).map(|i| sim.difficulties[i]).collect::<Vec<_>>());
    let new_est: Vec<f64> = (100..150).map(|i| cal2.items[i - 50].difficulty).collect();
    let new_true: Vec<f64> = (100..150).map(|i| sim.difficulties[i] - shift).collect();
    let e = rmse(&new_est, &new_true);
    let bias = mean(&new_est) - mean(&new_true);
    println!("anchored new items: RMSE {e:.4}, mean error {bias:.4}");
    assert!(e < 0.15, "new items RMSE {e}");
    assert!(bias.abs() < 0.06, "new items sit {bias} logits off the anchored scale");
}

#[test]
fn characteristic_curve_and_its_inverse() {
    let paper = [
        PaperItem { difficulty: -1.0, points: 1.0 },
        PaperItem { difficulty: 0.0, points: 2.0 },
        PaperItem { difficulty: 1.5, points: 1.0 },
    ];
    assert_eq!(rasch::max_score(&paper), 4.0);
    assert!((probability(0.3, 0.3) - 0.5).abs() < 1e-15);
    let curve = rasch::characteristic_curve(&paper, -4.0, 4.0, 80);
    assert_eq!(curve.len(), 81);
    assert!(curve.windows(2).all(|w| w[1].1 > w[0].1), "the curve rises");
    for raw in [0.01, 0.5, 1.0, 2.0, 3.3, 3.99] {
        let t = rasch::theta_for_score(raw, &paper).unwrap();
        assert!((rasch::expected_score(t, &paper) - raw).abs() < 1e-9, "raw {raw} → θ {t}");
    }
    assert_eq!(rasch::theta_for_score(0.0, &paper), None);
    assert_eq!(rasch::theta_for_score(4.0, &paper), None);
    assert_eq!(rasch::theta_for_score(1.0, &[]), None);
    // at θ = b every item is a coin flip: expected score = half the points
    let flat = [PaperItem { difficulty: 0.7, points: 1.0 }; 10];
    assert!((rasch::expected_score(0.7, &flat) - 5.0).abs() < 1e-12);
    assert!((rasch::information(0.7, &flat) - 2.5).abs() < 1e-12);
}

#[test]
fn a_miskeyed_item_misfits_and_its_key_is_suspected() {
    let mut sim = simulate(1500, 30, 30, 30, 5);
    // item 7 is scored against the wrong key: the able get it "wrong".
    let mut choices = Vec::new();
    for ob in &mut sim.obs {
        if ob.item == 7 {
            ob.score = 1.0 - ob.score;
            let theta = sim.abilities[ob.person as usize];
            // the real answer is C (what the able choose); the key says A
            choices.push(Choice { option: if ob.score == 1.0 { "A".into() } else { "C".into() }, theta });
        }
    }
    let cal = calibrate(1500, 30, &sim.obs, &Options::default()).unwrap();
    let f = cal.items[7].fit.unwrap();
    assert!(f.infit > 1.3 && f.outfit > 1.3 && f.infit_z > 3.0, "{f:?}");
    assert_eq!(flags::item_flags(&cal.items[7], &FlagRules::default()), vec![Flag::Misfit]);
    let check = flags::key_check("A", &choices, 10);
    assert!(check.suspected());
    assert_eq!(check.suspects, vec!["C".to_string()]);
    // the true key is not suspected
    let check = flags::key_check("c", &choices, 10);
    assert!(!check.suspected());
    assert!(check.options.iter().any(|o| o.is_key && o.option == "C"));
}

#[test]
fn key_check_needs_enough_choosers_and_ignores_blanks() {
    let c = |option: &str, theta: f64| Choice { option: option.into(), theta };
    let choices = vec![c("B", 0.0), c("B", 0.2), c("D", 1.5), c("D", 1.7), c("", 3.0), c("CA", 2.0)];
    assert!(!flags::key_check("B", &choices, 3).suspected());
    assert_eq!(flags::key_check("B", &choices, 2).suspects, vec!["D".to_string()]);
    // multi-answer keys compare as sets of letters
    let k = flags::key_check("AC", &choices, 1);
    assert!(k.options.iter().any(|o| o.option == "AC" && o.is_key));
    assert!(!k.suspected(), "AC has the ablest choosers");
    // nobody chose the key: any distractor with enough choosers is suspect
    assert_eq!(flags::key_check("E", &choices, 2).suspects, vec!["B".to_string(), "D".to_string()]);
}

#[test]
fn level_and_drift_flags() {
    let item = |difficulty: f64, se: f64| rasch::ItemEstimate {
        difficulty,
        se,
        count: 5,
        score: 2.0,
        status: Status::Measured,
        anchored: false,
        displacement: None,
        fit: None,
    };
    let rules = FlagRules { target: Some(0.5), ..FlagRules::default() };
    assert_eq!(flags::item_flags(&item(-2.0, 0.2), &rules), vec![Flag::TooEasy]);
    assert_eq!(flags::item_flags(&item(-2.0, 0.5), &rules), vec![], "the interval reaches the margin");
    assert_eq!(flags::item_flags(&item(3.0, 0.2), &rules), vec![Flag::TooHard]);
    assert_eq!(flags::item_flags(&item(0.5, 0.05), &rules), vec![]);
    assert_eq!(flags::item_flags(&item(-3.0, 0.05), &FlagRules::default()), vec![], "no target, no level flag");
    // misfit needs the responses
    let mut noisy = item(0.0, 0.3);
    noisy.fit = Some(rasch::Fit { infit: 1.6, outfit: 2.0, infit_z: 3.0, outfit_z: 4.0 });
    assert_eq!(flags::item_flags(&noisy, &rules), vec![]);
    noisy.count = 30;
    assert_eq!(flags::item_flags(&noisy, &rules), vec![Flag::Misfit]);
    noisy.fit = Some(rasch::Fit { infit: 0.6, outfit: 0.9, infit_z: -3.0, outfit_z: -1.0 });
    assert_eq!(flags::item_flags(&noisy, &rules), vec![Flag::Overfit]);

    let r = FlagRules::default();
    let d = flags::drift((0.0, 0.1), (0.8, 0.1), &r);
    assert!(d.drifted && (d.difference - 0.8).abs() < 1e-12 && (d.z - 0.8 / 0.02f64.sqrt()).abs() < 1e-9);
    assert!(!flags::drift((0.0, 0.4), (0.8, 0.4), &r).drifted, "large but not significant");
    assert!(!flags::drift((0.0, 0.01), (0.3, 0.01), &r).drifted, "significant but small");
    assert!(flags::drift((0.0, 0.1), (-0.9, 0.1), &r).drifted, "easier counts too");
}

/// Hand-worked 2×2 tables (two strata).
#[test]
fn mantel_haenszel_matches_hand_computation() {
    let mut resp = Vec::new();
    let mut add = |stratum: i64, group: Group, right: bool, n: usize| {
        resp.extend(std::iter::repeat_n(DifResponse { stratum, group, right }, n));
    };
    // stratum 0: A=30 B=20 C=20 D=30 ; stratum 1: A=40 B=10 C=30 D=20
    add(0, Group::Reference, true, 30);
    add(0, Group::Reference, false, 20);
    add(0, Group::Focal, true, 20);
    add(0, Group::Focal, false, 30);
    add(1, Group::Reference, true, 40);
    add(1, Group::Reference, false, 10);
    add(1, Group::Focal, true, 30);
    add(1, Group::Focal, false, 20);
    // a stratum with only one group is left out
    add(2, Group::Reference, true, 5);
    let mh = dif::mantel_haenszel(&resp, 50);
    // α = (30·30/100 + 40·20/100) / (20·20/100 + 10·30/100) = (9 + 8) / (4 + 3)
    let alpha = 17.0 / 7.0;
    assert_eq!(mh.strata, 2);
    assert_eq!((mh.reference, mh.focal), (100, 100));
    assert!((mh.odds_ratio.unwrap() - alpha).abs() < 1e-12);
    assert!((mh.d_dif.unwrap() + 2.35 * alpha.ln()).abs() < 1e-12);
    // RBG variance by hand
    let (r, s) = (17.0f64, 7.0f64);
    let (p0, q0, r0, s0) = (0.6, 0.4, 9.0, 4.0);
    let (p1, q1, r1, s1) = (0.6, 0.4, 8.0, 3.0);
    let var =
        (p0 * r0 + p1 * r1) / (2.0 * r * r) + (p0 * s0 + q0 * r0 + p1 * s1 + q1 * r1) / (2.0 * r * s) + (q0 * s0 + q1 * s1) / (2.0 * s * s);
    assert!((mh.se.unwrap() - 2.35 * var.sqrt()).abs() < 1e-12);
    // χ²: ΣA = 70, ΣE = 50·50/100 + 50·70/100 = 60, ΣVar = 50·50·50·50/(100²·99) + 50·50·70·30/(100²·99)
    let v = 50.0f64.powi(4) / (1e4 * 99.0) + 50.0 * 50.0 * 70.0 * 30.0 / (1e4 * 99.0);
    assert!((mh.chi_square.unwrap() - (10.0f64 - 0.5).powi(2) / v).abs() < 1e-9);
    // D = -2.085, significant, |D| ≥ 1.5 but not significantly above 1 with SE ≈ 0.7 → B
    assert_eq!(mh.category, Some(EtsCategory::B), "{mh:?}");
    assert_eq!(mh.favours, Some(Group::Reference));
    assert!(!mh.flagged());
    // the same tables ten times over: now significantly beyond 1 → C
    let big: Vec<DifResponse> = resp.iter().flat_map(|r| std::iter::repeat_n(*r, 10)).collect();
    let mh = dif::mantel_haenszel(&big, 50);
    assert!((mh.odds_ratio.unwrap() - alpha).abs() < 1e-12);
    assert_eq!(mh.category, Some(EtsCategory::C));
    assert!(mh.flagged());
    // too few in a group: no category
    assert_eq!(dif::mantel_haenszel(&resp, 101).category, None);
}

/// Simulated groups matched on ability: an item that is 1 logit harder for the focal group is
/// category C; the items without DIF are A (or at worst B).
#[test]
fn mantel_haenszel_finds_simulated_dif() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let mut per_item = vec![Vec::new(); 2];
    for n in 0..20000 {
        let group = if n % 2 == 0 { Group::Reference } else { Group::Focal };
        let theta: f64 = rng.random_range(-2.5..2.5) + if group == Group::Focal { -0.3 } else { 0.0 };
        for (item, list) in per_item.iter_mut().enumerate() {
            let b = if item == 1 && group == Group::Focal { 1.0 } else { 0.0 };
            let right = rng.random::<f64>() < probability(theta, b);
            list.push(DifResponse { stratum: dif::ability_stratum(theta, 0.5), group, right });
        }
    }
    let fair = dif::mantel_haenszel(&per_item[0], 200);
    let biased = dif::mantel_haenszel(&per_item[1], 200);
    assert_eq!(fair.category, Some(EtsCategory::A), "{fair:?}");
    assert_eq!(biased.category, Some(EtsCategory::C), "{biased:?}");
    // 1 logit of DIF is 2.35 on the delta scale (the SE here is about 0.09)
    assert!((biased.d_dif.unwrap() + 2.35).abs() < 0.3, "{biased:?}");
    assert!(fair.d_dif.unwrap().abs() < 0.3, "{fair:?}");
    assert_eq!(biased.favours, Some(Group::Reference));
}

#[test]
fn mantel_haenszel_flags_a_focal_group_never_right_as_category_c() {
    // in each of four strata, 15 reference candidates (12 right) and 5 focal candidates (none
    // right): α_MH is infinite, D-DIF has no value, and χ² is far past 3.84
    let mut responses = Vec::new();
    for stratum in 0..4 {
        for k in 0..15 {
            responses.push(DifResponse { stratum, group: Group::Reference, right: k < 12 });
        }
        for _ in 0..5 {
            responses.push(DifResponse { stratum, group: Group::Focal, right: false });
        }
    }
    let m = dif::mantel_haenszel(&responses, 10);
    assert_eq!((m.odds_ratio, m.d_dif, m.se), (None, None, None), "{m:?}");
    assert!(m.chi_square.unwrap() > 3.841, "{m:?}");
    assert_eq!(m.category, Some(EtsCategory::C), "{m:?}");
    assert_eq!(m.favours, Some(Group::Reference), "the item is harder for the focal group");
    // the same shape with two focal candidates per stratum right: an odds ratio, no longer unbounded
    let mut some_right = responses.clone();
    for r in some_right.iter_mut().filter(|r| r.group == Group::Focal).step_by(2) {
        r.right = true;
    }
    assert!(dif::mantel_haenszel(&some_right, 10).d_dif.is_some());
    // too few focal candidates: no category, unbounded or not
    assert_eq!(dif::mantel_haenszel(&responses, 50).category, None);
}

#[test]
fn angoff_cut_its_error_spread_and_scale() {
    let form = [
        PaperItem { difficulty: -1.0, points: 1.0 },
        PaperItem { difficulty: 0.0, points: 1.0 },
        PaperItem { difficulty: 1.0, points: 2.0 },
    ];
    let r = |round: u32, rater: &str, item: usize, p: f64| Rating { round, rater: rater.into(), item, p };
    let ratings = vec![
        r(1, "a", 0, 0.9),
        r(1, "a", 1, 0.6),
        r(1, "a", 2, 0.3),
        r(1, "b", 0, 0.8),
        r(1, "b", 1, 0.4),
        r(1, "b", 2, 0.5),
        r(1, "c", 0, 0.7),
        r(1, "c", 1, 0.8),
        r(1, "c", 2, 0.1),
        r(2, "a", 0, 0.8),
        r(2, "a", 1, 0.6),
        r(2, "a", 2, 0.3),
        r(2, "b", 0, 0.8),
        r(2, "b", 1, 0.6),
        r(2, "b", 2, 0.3),
    ];
    let rounds = angoff::evaluate(&form, &ratings).unwrap();
    assert_eq!(rounds.len(), 2);
    let one = &rounds[0];
    // cuts: a = 0.9 + 0.6 + 0.6 = 2.1; b = 0.8 + 0.4 + 1.0 = 2.2; c = 0.7 + 0.8 + 0.2 = 1.7
    let cuts: Vec<f64> = one.raters.iter().map(|c| c.cut).collect();
    for (c, want) in cuts.iter().zip([2.1, 2.2, 1.7]) {
        assert!((c - want).abs() < 1e-12);
    }
    assert!((one.cut - 2.0).abs() < 1e-12);
    let sd = ((0.01f64 + 0.04 + 0.09) / 2.0).sqrt();
    assert!((one.se - sd / 3f64.sqrt()).abs() < 1e-12);
    assert_eq!(one.max_score, 4.0);
    // item 1 (0.6, 0.4, 0.8) and item 2 (0.3, 0.5, 0.1) both have SD 0.2; item 0 SD 0.1
    assert_eq!(one.items.iter().map(|i| i.item).collect::<Vec<_>>(), vec![1, 2, 0]);
    assert_eq!((one.items[0].min, one.items[0].max), (0.4, 0.8));
    // the cut on the scale: expected score at θ is the cut
    let t = one.theta.unwrap();
    assert!((rasch::expected_score(t, &form) - 2.0).abs() < 1e-9);
    assert!(one.theta_low.unwrap() < t && t < one.theta_high.unwrap());
    assert!((angoff::raw_cut_on_form(t, &form) - 2.0).abs() < 1e-9);
    // round 2: agreement, SE 0
    assert_eq!(rounds[1].se, 0.0);
    assert!((rounds[1].cut - 2.0).abs() < 1e-12);
    // a harder form gets a lower raw cut for the same standard
    let harder: Vec<PaperItem> = form.iter().map(|i| PaperItem { difficulty: i.difficulty + 0.5, ..*i }).collect();
    assert!(angoff::raw_cut_on_form(t, &harder) < 2.0);
}

#[test]
fn angoff_refuses_incomplete_or_bad_ratings() {
    let form = [PaperItem { difficulty: 0.0, points: 1.0 }; 2];
    let r = |rater: &str, item: usize, p: f64| Rating { round: 1, rater: rater.into(), item, p };
    assert_eq!(
        angoff::evaluate(&form, &[r("a", 0, 0.5), r("a", 1, 0.5), r("b", 0, 0.5)]).unwrap_err(),
        AngoffError::Missing { round: 1, rater: "b".into(), item: 1 }
    );
    assert_eq!(
        angoff::evaluate(&form, &[r("a", 0, 1.2)]).unwrap_err(),
        AngoffError::BadRating { round: 1, rater: "a".into(), item: 0, p: 1.2 }
    );
    assert_eq!(
        angoff::evaluate(&form, &[r("a", 0, 0.2), r("a", 0, 0.3)]).unwrap_err(),
        AngoffError::Duplicate { round: 1, rater: "a".into(), item: 0 }
    );
    assert!(matches!(angoff::evaluate(&form, &[r("a", 2, 0.2)]), Err(AngoffError::UnknownItem { item: 2, .. })));
    assert_eq!(angoff::evaluate(&[], &[]).unwrap_err(), AngoffError::EmptyForm);
    let err = angoff::evaluate(&form, &[r("a", 0, 0.5), r("a", 1, 0.5), r("b", 0, 0.5)]).unwrap_err();
    assert!(err.to_string().contains("rater b did not rate item 1"), "{err}");
}

/// Reads a committed fixture CSV (header line, then rows) as string fields.
/// Corrected JML against CML on the fixture (L = 20): measured 0.018 largest and 0.011 RMS.
/// The tolerances are under a fifth of the items' standard errors (0.12–0.17) and fail an
/// uncorrected JML, whose stretch by L/(L-1) puts the outer items 0.1 logits out.
const JML_CML_MAX: f64 = 0.03;
const JML_CML_RMS: f64 = 0.02;
/// Anchored on eRm's difficulties, the abilities and fit are the same computation: they agree
/// to the convergence of eRm's optimiser (measured 4e-6 and 1e-6).
const THETA_TOL: f64 = 1e-4;
const FIT_TOL: f64 = 1e-4;
/// eRm takes person SEs from its optimiser's numerically differentiated Hessian; ours are
/// analytic (1/√Σ P(1-P)). Measured 1.5e-4.
const SE_TOL: f64 = 5e-4;

fn fixture(name: &str) -> Vec<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rasch").join(name);
    let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

/// The reference comparison (tests/fixtures/rasch/README.md): 500 persons answering 20 of 30
/// items each, calibrated by eRm 1.0.2 (conditional ML, difficulties summing to 0; ML person
/// abilities and infit/outfit given those difficulties).
#[test]
fn agrees_with_erm_on_the_reference_fixture() {
    let (mut persons, mut items) = (rasch::Labels::new(), rasch::Labels::new());
    let obs: Vec<Obs> = fixture("responses.csv").iter().map(|r| o(persons.id(&r[0]), items.id(&r[1]), r[2].parse().unwrap())).collect();
    let erm_items: Vec<(u32, f64, f64, f64, f64)> = fixture("erm_items.csv")
        .iter()
        .map(|r| (items.get(&r[0]).unwrap(), r[1].parse().unwrap(), r[2].parse().unwrap(), r[3].parse().unwrap(), r[4].parse().unwrap()))
        .collect();
    let erm_persons: Vec<(u32, f64, f64)> =
        fixture("erm_persons.csv").iter().map(|r| (persons.get(&r[0]).unwrap(), r[1].parse().unwrap(), r[2].parse().unwrap())).collect();
    assert_eq!((persons.len(), items.len(), obs.len(), erm_items.len()), (500, 30, 10_000, 30));

    // 1. Our estimator (JML, corrected) against eRm's CML: the same scale up to the difference
    //    of the two estimators, far inside the items' standard errors (0.12–0.17).
    let cal = calibrate(persons.len(), items.len(), &obs, &Options::default()).unwrap();
    let diffs: Vec<f64> = erm_items.iter().map(|&(i, d, ..)| cal.items[i as usize].difficulty - d).collect();
    let max = diffs.iter().fold(0f64, |m, d| m.max(d.abs()));
    let rms = (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt();
    let se_ratio = mean(&erm_items.iter().map(|&(i, _, se, ..)| cal.items[i as usize].se / se).collect::<Vec<_>>());
    println!("JML vs eRm CML: max |difference| {max:.4}, RMS {rms:.4} logits; mean SE ratio {se_ratio:.3}");
    assert!(max < JML_CML_MAX && rms < JML_CML_RMS, "max {max}, rms {rms}");
    assert!((se_ratio - 1.0).abs() < 0.05, "SE ratio {se_ratio}");
    let raw = calibrate(persons.len(), items.len(), &obs, &Options { bias_correction: false, ..Options::default() }).unwrap();
    let raw_max = erm_items.iter().map(|&(i, d, ..)| (raw.items[i as usize].difficulty - d).abs()).fold(0f64, f64::max);
    assert!(raw_max > 2.0 * JML_CML_MAX, "the tolerance tells corrected from uncorrected JML ({raw_max})");

    // 2. Like with like: anchored on eRm's difficulties, our ML abilities and the items' fit
    //    mean squares are the same computation as eRm's person.parameter and itemfit.
    let anchors: Vec<(u32, f64)> = erm_items.iter().map(|&(i, d, ..)| (i, d)).collect();
    let cal = calibrate(persons.len(), items.len(), &obs, &Options { anchors, tolerance: 1e-9, ..Options::default() }).unwrap();
    let (mut worst_theta, mut worst_se, mut worst_fit) = (0f64, 0f64, 0f64);
    for &(p, theta, se) in &erm_persons {
        let e = &cal.persons[p as usize];
        assert_eq!(e.status, Status::Measured);
        worst_theta = worst_theta.max((e.ability - theta).abs());
        worst_se = worst_se.max((e.se - se).abs());
    }
    for &(i, _, _, infit, outfit) in &erm_items {
        let f = cal.items[i as usize].fit.unwrap();
        worst_fit = worst_fit.max((f.infit - infit).abs()).max((f.outfit - outfit).abs());
    }
    println!(
        "anchored on eRm: abilities within {worst_theta:.2e}, their SEs within {worst_se:.2e}, item infit/outfit within {worst_fit:.2e}"
    );
    assert!(worst_theta < THETA_TOL && worst_se < SE_TOL && worst_fit < FIT_TOL);
}

/// The demo history on which the estimator ran until its iterations were spent: a person right
/// on everything but a partial-credit question that nobody else scored on, and that question,
/// went to infinity together. The prior on difficulties keeps them finite.
#[test]
fn a_near_extreme_pair_from_sparse_partial_credit_data_stays_finite() {
    let text = include_str!("../../../tests/fixtures/rasch/nonconvergent-demo.csv");
    let (mut persons, mut items) = (std::collections::HashMap::new(), std::collections::HashMap::new());
    let mut obs = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let np = persons.len() as u32;
        let person = *persons.entry(f[0].to_string()).or_insert(np);
        let ni = items.len() as u32;
        let item = *items.entry(f[1].to_string()).or_insert(ni);
        obs.push(Obs { person, item, score: f[2].parse().unwrap() });
    }
    let cal = calibrate(persons.len(), items.len(), &obs, &Options::default()).expect("it converges");
    assert!(cal.iterations < Options::default().max_iterations);
    let measured = cal.items.iter().filter(|i| i.status == Status::Measured);
    assert!(measured.clone().all(|i| i.difficulty.abs() < 15.0), "every difficulty finite and sane");
    assert!(cal.persons.iter().filter(|p| p.status == Status::Measured).all(|p| p.ability.abs() < 15.0));
}
