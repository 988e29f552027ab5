//! Simulated responses from known difficulties and abilities, drawn like our papers: each
//! person gets a random subset of a pool. Used by the recovery tests and the calibration
//! benchmark (`lawcert calibrate --simulate`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rasch::{probability, Obs};

#[derive(Clone, Debug)]
pub struct Simulated {
    /// True difficulties, uniform on [-2, 2] and shifted to mean 0.
    pub difficulties: Vec<f64>,
    /// True abilities, normal with mean 0 and SD 1.
    pub abilities: Vec<f64>,
    pub obs: Vec<Obs>,
}

/// `persons` persons, each answering `paper_min..=paper_max` distinct items drawn uniformly from
/// a pool of `pool` items, right or wrong with the Rasch probability. Same seed, same data.
pub fn simulate(persons: usize, pool: usize, paper_min: usize, paper_max: usize, seed: u64) -> Simulated {
    assert!(paper_min >= 1 && paper_min <= paper_max && paper_max <= pool, "paper length must be within the pool");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut difficulties: Vec<f64> = (0..pool).map(|_| rng.random_range(-2.0..=2.0)).collect();
    let mean = difficulties.iter().sum::<f64>() / pool as f64;
    difficulties.iter_mut().for_each(|d| *d -= mean);
    let abilities: Vec<f64> = (0..persons)
        .map(|_| {
            // Box–Muller
            let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect();
    let mut obs = Vec::with_capacity(persons * (paper_min + paper_max) / 2);
    for (p, &theta) in abilities.iter().enumerate() {
        let len = rng.random_range(paper_min..=paper_max);
        for i in rand::seq::index::sample(&mut rng, pool, len) {
            let right = rng.random::<f64>() < probability(theta, difficulties[i]);
            obs.push(Obs { person: p as u32, item: i as u32, score: if right { 1.0 } else { 0.0 } });
        }
    }
    Simulated { difficulties, abilities, obs }
}

/// Root mean square of the differences.
pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}
