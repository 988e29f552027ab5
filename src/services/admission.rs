//! Refusing answer saves at the door when the server cannot keep up.
//!
//! The save queue's bound (`save_writer`) only sees the writer falling behind. When the CPU
//! itself is saturated (more requests than the HTTP layer can parse, or another process on the
//! machine), requests wait in sockets and in the async runtime's run queue before any of our
//! code sees them, and every candidate's save gets slow together. The runtime's own lateness
//! shows that: a timer that should fire every few milliseconds fires late by about as long as a
//! newly arrived request waits to run. While it is late, a share of saves is refused at once
//! (503 `overloaded`, `Retry-After`) before their session, body or question is looked at, so a
//! refusal costs a fraction of a save and the saves that are taken stay fast. The exam page
//! keeps a refused answer and sends it again.
//!
//! The share refused has two parts. A proportional part answers at once: none up to the limit,
//! all at twice it. Alone it settles *above* the limit under a steady overload (it refuses only
//! while the runtime is late, so it needs lateness to refuse), and at 2× the capacity that
//! standing lateness is paid at every await of every accepted save. An integral part removes
//! it: while the *smoothed* lateness (about 50 ms of samples) stays over the limit a standing
//! share rises, and under it the share falls, so under a steady overload the share settles
//! where the lateness is about the limit, and it is back to none about a second after the load
//! is gone. It follows the smoothed lateness, not the held peak, and rises slowly (half of all
//! saves after half a second at twice the limit), so that one late tick — a page fault,
//! another process's burst — does not refuse saves for long after it: refused saves come back
//! as retries a second later, and refusing on every spike would make its own load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How late the runtime runs, as its sampler measured it, and the limit saves are judged by.
pub struct LoadGauge {
    /// Recent lateness in microseconds: the latest sample, or the previous value decayed,
    /// whichever is larger (one late tick is remembered for a few ticks, not forever).
    lag_us: AtomicU64,
    /// The samples' moving average in microseconds (`f64` bits); only the sampler writes it.
    smooth: AtomicU64,
    /// The integral part of the share to refuse (`f64` bits); only the sampler writes it.
    standing: AtomicU64,
    limit: Duration,
}

/// How often the sampler ticks.
pub const TICK: Duration = Duration::from_millis(5);

/// Each tick keeps this share of the previous lateness when the new sample is smaller.
const DECAY: f64 = 0.7;

/// Each sample's weight in the moving average (a time constant of about 10 ticks, 50 ms).
const SMOOTHING: f64 = 0.1;

/// Per tick, the standing share rises by this much times the smoothed lateness's excess over
/// the limit, in limits (capped at one): at twice the limit, half of all saves in 100 ticks
/// (0.5 s).
const RISE: f64 = 0.005;

/// Per tick under the limit, the standing share falls by up to this much (all of it with no
/// lateness at all): from all to none in 200 ticks (1 s) once the load is gone.
const FALL: f64 = 0.005;

impl LoadGauge {
    /// `limit` zero turns lag-based refusal off (the queue bound still applies).
    pub fn new(limit: Duration) -> LoadGauge {
        LoadGauge { lag_us: AtomicU64::new(0), smooth: AtomicU64::new(0f64.to_bits()), standing: AtomicU64::new(0f64.to_bits()), limit }
    }

    /// One sample: how much later than asked the sampler's timer fired.
    pub fn record(&self, late: Duration) {
        let sample = late.as_micros().min(u128::from(u64::MAX)) as u64;
        let prev = self.lag_us.load(Ordering::Relaxed);
        let decayed = (prev as f64 * DECAY) as u64;
        let lag = sample.max(decayed);
        self.lag_us.store(lag, Ordering::Relaxed);
        let prev = f64::from_bits(self.smooth.load(Ordering::Relaxed));
        let smooth = prev + SMOOTHING * (sample as f64 - prev);
        self.smooth.store(smooth.to_bits(), Ordering::Relaxed);
        let standing = next_standing(self.standing(), Duration::from_secs_f64(smooth / 1e6), self.limit);
        self.standing.store(standing.to_bits(), Ordering::Relaxed);
    }

    pub fn lag(&self) -> Duration {
        Duration::from_micros(self.lag_us.load(Ordering::Relaxed))
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    fn standing(&self) -> f64 {
        f64::from_bits(self.standing.load(Ordering::Relaxed))
    }

    /// The share of saves to refuse now: the standing share plus the proportional part (none
    /// up to the limit, rising with the excess to all at twice it).
    pub fn share_to_refuse(&self) -> f64 {
        (self.standing() + refuse_share(self.lag(), self.limit)).min(1.0)
    }

    /// Whether to take this save; `draw` is a uniform number in [0, 1).
    pub fn admit(&self, draw: f64) -> bool {
        draw >= self.share_to_refuse()
    }
}

/// The standing share after one tick at smoothed lateness `lag`.
fn next_standing(standing: f64, lag: Duration, limit: Duration) -> f64 {
    if limit.is_zero() {
        return 0.0;
    }
    let over = (lag.as_secs_f64() - limit.as_secs_f64()) / limit.as_secs_f64();
    // `over` is at least -1 (no lateness at all)
    let step = if over > 0.0 { RISE * over.min(1.0) } else { FALL * over };
    (standing + step).clamp(0.0, 1.0)
}

/// See `LoadGauge::share_to_refuse`.
pub fn refuse_share(lag: Duration, limit: Duration) -> f64 {
    if limit.is_zero() || lag <= limit {
        return 0.0;
    }
    ((lag.as_secs_f64() - limit.as_secs_f64()) / limit.as_secs_f64()).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn nothing_is_refused_up_to_the_limit_then_a_growing_share_and_all_at_twice_it() {
        assert_eq!(refuse_share(MS(0), MS(20)), 0.0);
        assert_eq!(refuse_share(MS(20), MS(20)), 0.0);
        assert!((refuse_share(MS(25), MS(20)) - 0.25).abs() < 1e-9);
        assert!((refuse_share(MS(30), MS(20)) - 0.5).abs() < 1e-9);
        assert_eq!(refuse_share(MS(40), MS(20)), 1.0);
        assert_eq!(refuse_share(MS(400), MS(20)), 1.0);
    }

    #[test]
    fn a_zero_limit_never_refuses() {
        assert_eq!(refuse_share(MS(10_000), Duration::ZERO), 0.0);
        let g = LoadGauge::new(Duration::ZERO);
        g.record(MS(500));
        assert!(g.admit(0.0));
    }

    #[test]
    fn a_late_tick_is_remembered_for_a_few_ticks_and_leaves_almost_no_standing_share() {
        let g = LoadGauge::new(MS(20));
        g.record(MS(100));
        assert_eq!(g.lag(), MS(100));
        assert!(!g.admit(0.999), "at five times the limit every save is refused");
        g.record(MS(1));
        assert_eq!(g.lag(), MS(70), "a smaller sample decays the last lateness");
        for _ in 0..12 {
            g.record(Duration::ZERO);
        }
        assert!(g.lag() < MS(2), "{:?}", g.lag());
        let left = g.share_to_refuse();
        assert!(left < 0.05, "one late tick is not an overload: {left} still refused");
        for _ in 0..20 {
            g.record(Duration::ZERO);
        }
        assert!(g.admit(0.0), "soon nothing is refused: {}", g.share_to_refuse());
    }

    /// A server modelled per tick: it can do `capacity` units of work, a save costs one and a
    /// refusal a fifth; what it cannot do waits, and the wait is the lateness.
    fn run(g: &LoadGauge, offered: f64, ticks: usize, backlog: &mut f64) -> (f64, f64) {
        let capacity = 100.0;
        let (mut lag_sum, mut accepted_sum) = (0.0, 0.0);
        for _ in 0..ticks {
            let share = g.share_to_refuse();
            let accepted = offered * (1.0 - share);
            *backlog = (*backlog + accepted + offered * share * 0.2 - capacity).max(0.0);
            let lag = TICK.mul_f64(*backlog / capacity);
            g.record(lag);
            lag_sum += lag.as_secs_f64();
            accepted_sum += accepted;
        }
        (lag_sum / ticks as f64, accepted_sum / ticks as f64 / capacity)
    }

    #[test]
    fn under_a_steady_overload_the_lateness_settles_near_the_limit_not_above_it() {
        let limit = MS(20);
        let g = LoadGauge::new(limit);
        let mut backlog = 0.0;
        run(&g, 200.0, 2_000, &mut backlog);
        let (lag, accepted) = run(&g, 200.0, 2_000, &mut backlog);
        // the proportional part alone settles at 1.625 × the limit here
        assert!(lag < limit.as_secs_f64() * 1.2, "settled at {lag} s of lateness");
        // 0.75 of the capacity at most: the refused half of the offer costs a fifth each
        assert!(accepted > 0.7, "takes what it can: {accepted} of the capacity");
        // the load gone, within a second nothing is refused
        run(&g, 50.0, 200, &mut backlog);
        assert_eq!(g.share_to_refuse(), 0.0);
    }

    #[test]
    fn a_larger_sample_takes_over_at_once() {
        let g = LoadGauge::new(MS(20));
        g.record(MS(5));
        g.record(MS(30));
        assert_eq!(g.lag(), MS(30));
        assert!(g.admit(0.6) && !g.admit(0.4), "half of the saves are refused at 1.5× the limit");
    }
}
