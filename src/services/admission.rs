//! Refusing answer saves at the door when the server cannot keep up.
//!
//! The save queue's bound (`save_writer`) only sees the writer falling behind. When the CPU
//! itself is saturated (more requests than the HTTP layer can parse, or another process on the
//! machine), requests wait in the async runtime's run queues before any of our code sees them,
//! and every candidate's save gets slow together. Two measures show it:
//! - the runtime's own lateness: a timer that should fire every few milliseconds fires late;
//! - how long a committed save waits to be answered: the writer's acknowledgement wakes the
//!   request from outside the runtime, and under saturation it waits behind the new requests
//!   (`save_stage_seconds{stage="wake"}`). The timer does not see this wait: a timer's task is
//!   woken on the runtime's own thread and runs next. Measured at twice the capacity, the timer
//!   read 10–40 ms while committed saves waited 50–340 ms to be answered (BENCHMARKS.md).
//!
//! While the larger of the two is over the limit, a share of saves is refused at once (503
//! `overloaded`, `Retry-After`) before their session, body or question is looked at, so a
//! refusal costs a fraction of a save and the saves that are taken stay fast. The exam page
//! keeps a refused answer and sends it again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How late the runtime runs, as its sampler measured it, and the limit saves are judged by.
pub struct LoadGauge {
    /// Recent lateness in microseconds: the latest sample, or the previous value decayed,
    /// whichever is larger (one late tick is remembered for a few ticks, not forever).
    lag_us: AtomicU64,
    /// Committed saves' waits to be answered since the last tick: their sum (µs) and count.
    wake_us: AtomicU64,
    wakes: AtomicU64,
    limit: Duration,
}

/// How often the sampler ticks.
pub const TICK: Duration = Duration::from_millis(5);

/// Each tick keeps this share of the previous lateness when the new sample is smaller.
const DECAY: f64 = 0.7;

impl LoadGauge {
    /// `limit` zero turns lag-based refusal off (the queue bound still applies).
    pub fn new(limit: Duration) -> LoadGauge {
        LoadGauge { lag_us: AtomicU64::new(0), wake_us: AtomicU64::new(0), wakes: AtomicU64::new(0), limit }
    }

    /// A committed save waited this long to be answered (`SaveTrace::wake`).
    pub fn note_wake(&self, waited: Duration) {
        self.wake_us.fetch_add(waited.as_micros().min(u128::from(u64::MAX / 2)) as u64, Ordering::Relaxed);
        self.wakes.fetch_add(1, Ordering::Relaxed);
    }

    /// One tick: how much later than asked the sampler's timer fired. The sample is that, or
    /// the mean wait of the saves answered since the last tick, whichever is larger.
    pub fn record(&self, late: Duration) {
        let (sum, n) = (self.wake_us.swap(0, Ordering::Relaxed), self.wakes.swap(0, Ordering::Relaxed));
        let waited = sum.checked_div(n).unwrap_or(0);
        let sample = (late.as_micros().min(u128::from(u64::MAX)) as u64).max(waited);
        let prev = self.lag_us.load(Ordering::Relaxed);
        let decayed = (prev as f64 * DECAY) as u64;
        self.lag_us.store(sample.max(decayed), Ordering::Relaxed);
    }

    pub fn lag(&self) -> Duration {
        Duration::from_micros(self.lag_us.load(Ordering::Relaxed))
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// The share of saves to refuse now: none up to the limit, then rising in proportion to
    /// the excess until every save is refused at twice the limit. Proportional rather than
    /// all-or-nothing, so the accepted rate settles instead of swinging between all and none.
    pub fn share_to_refuse(&self) -> f64 {
        refuse_share(self.lag(), self.limit)
    }

    /// Whether to take this save; `draw` is a uniform number in [0, 1).
    pub fn admit(&self, draw: f64) -> bool {
        draw >= self.share_to_refuse()
    }
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
    fn a_late_tick_is_remembered_for_a_few_ticks_then_forgotten() {
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
        assert!(g.admit(0.0));
    }

    #[test]
    fn saves_waiting_to_be_answered_count_as_lateness_even_when_the_timer_is_on_time() {
        let g = LoadGauge::new(MS(20));
        for waited in [20, 40, 60] {
            g.note_wake(MS(waited));
        }
        g.record(MS(1));
        assert_eq!(g.lag(), MS(40), "the mean wait of the saves answered since the last tick");
        assert!(!g.admit(0.999), "at twice the limit every save is refused");
        // the waits were taken by that tick: the next one, with none, decays it
        g.record(MS(1));
        assert_eq!(g.lag(), MS(28));
        g.note_wake(MS(2));
        g.record(MS(30));
        assert_eq!(g.lag(), MS(30), "a late timer still counts when the saves are answered quickly");
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
