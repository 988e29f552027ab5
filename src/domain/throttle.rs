//! Sign-in throttling that a stranger cannot turn against an officer.
//!
//! Wrong passwords are counted per (badge, source address), never per badge alone: a stranger's
//! guesses slow the stranger's address down for that badge, and the officer signing in from
//! another address is not affected. After `free_failures` wrong passwords the pair waits, and
//! every further wrong password doubles the wait, up to a cap. A second count per source address
//! across all badges slows one address spraying a password over many badges.
//!
//! The counters are plain values here; the services keep them in the database so that every
//! app server sees the same counts. A correct password clears its pair's counter (not the
//! address's: a sprayer cannot reset it by signing into an account of its own).

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

/// How one kind of counter (per pair, or per address) slows down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Wrong passwords allowed before the first wait; the failure that reaches this number
    /// starts it.
    pub free_failures: u32,
    /// The first wait; each further failure doubles it…
    pub first_wait: Duration,
    /// …up to this.
    pub max_wait: Duration,
    /// A counter is forgotten after this long without failures (counted from the end of its
    /// wait, so waiting a lock out does not also wipe the count).
    pub forget_after: Duration,
}

/// The whole policy: one rule per (badge, address) pair, one per address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub pair: Rule,
    pub source: Rule,
}

impl Default for Policy {
    /// Five wrong passwords for a badge from one address: wait 1 minute, then 2, 4, … at most
    /// an hour; forgotten after a day without failures. More than 20 wrong passwords from one
    /// address across badges without a 15-minute pause: that address waits 1 minute, then 2, 4,
    /// … at most 30 minutes.
    fn default() -> Self {
        Policy {
            pair: Rule {
                free_failures: 5,
                first_wait: Duration::minutes(1),
                max_wait: Duration::hours(1),
                forget_after: Duration::hours(24),
            },
            source: Rule {
                free_failures: 21,
                first_wait: Duration::minutes(1),
                max_wait: Duration::minutes(30),
                forget_after: Duration::minutes(15),
            },
        }
    }
}

/// A stored count of wrong passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub last_failure_at: NaiveDateTime,
    /// No password is checked for this pair (or from this address) before then.
    pub locked_until: Option<NaiveDateTime>,
}

/// Which count refused a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This badge from this address.
    Pair,
    /// This address, whatever the badge.
    Source,
}

/// A refused sign-in: no password is checked before `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub scope: Scope,
    pub until: NaiveDateTime,
}

impl Rule {
    /// The wait after the `failures`-th consecutive failure (none below the free allowance).
    pub fn wait_after(&self, failures: u32) -> Option<Duration> {
        if failures < self.free_failures {
            return None;
        }
        let doublings = (failures - self.free_failures).min(30);
        let wait = self.first_wait.checked_mul(1i32 << doublings).unwrap_or(self.max_wait);
        Some(wait.min(self.max_wait))
    }

    /// When a counter stops mattering (and may be deleted).
    pub fn forget_at(&self, c: &Counter) -> NaiveDateTime {
        c.locked_until.map_or(c.last_failure_at, |u| u.max(c.last_failure_at)) + self.forget_after
    }

    /// The counter as it stands at `now`: `None` once forgotten.
    pub fn live(&self, c: Option<&Counter>, now: NaiveDateTime) -> Option<Counter> {
        c.filter(|c| c.failures > 0 && now < self.forget_at(c)).copied()
    }

    /// Until when the counter refuses sign-ins, if it does at `now`.
    pub fn blocked_until(&self, c: Option<&Counter>, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.live(c, now)?.locked_until.filter(|u| now < *u)
    }

    /// The counter after one more wrong password at `now`.
    pub fn failed(&self, c: Option<&Counter>, now: NaiveDateTime) -> Counter {
        let failures = self.live(c, now).map_or(0, |c| c.failures).saturating_add(1);
        let locked_until = match self.wait_after(failures) {
            Some(wait) => Some(now + wait),
            // below the allowance: a wait still running is kept
            None => self.live(c, now).and_then(|c| c.locked_until).filter(|u| now < *u),
        };
        Counter { failures, last_failure_at: now, locked_until }
    }
}

/// What one wrong password did to the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub pair: Counter,
    pub source: Counter,
    /// The waits this failure started (for the audit log), pair first.
    pub pair_locked: Option<NaiveDateTime>,
    pub source_locked: Option<NaiveDateTime>,
}

impl Failure {
    /// The refusal to give the caller now, if this failure started a wait.
    pub fn blocked(&self) -> Option<Blocked> {
        latest(
            self.pair_locked.map(|until| Blocked { scope: Scope::Pair, until }),
            self.source_locked.map(|until| Blocked { scope: Scope::Source, until }),
        )
    }
}

fn latest(a: Option<Blocked>, b: Option<Blocked>) -> Option<Blocked> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.until > a.until { b } else { a }),
        (a, b) => a.or(b),
    }
}

impl Policy {
    /// Whether a password may be checked now for this pair from this address.
    pub fn check(&self, pair: Option<&Counter>, source: Option<&Counter>, now: NaiveDateTime) -> Result<(), Blocked> {
        let p = self.pair.blocked_until(pair, now).map(|until| Blocked { scope: Scope::Pair, until });
        let s = self.source.blocked_until(source, now).map(|until| Blocked { scope: Scope::Source, until });
        match latest(p, s) {
            Some(b) => Err(b),
            None => Ok(()),
        }
    }

    /// Counts a wrong password against the pair and the address.
    pub fn failed(&self, pair: Option<&Counter>, source: Option<&Counter>, now: NaiveDateTime) -> Failure {
        let p = self.pair.failed(pair, now);
        let s = self.source.failed(source, now);
        let started = |rule: &Rule, c: &Counter| rule.wait_after(c.failures).and(c.locked_until);
        Failure { pair_locked: started(&self.pair, &p), source_locked: started(&self.source, &s), pair: p, source: s }
    }
}

/// Badges compare case-insensitively and without surrounding blanks.
pub fn badge_key(badge: &str) -> String {
    badge.trim().to_lowercase()
}

/// The address a count is kept for: an IPv4 address (also when written as IPv6-mapped), or an
/// IPv6 address's /64 network, which one household or host is usually given whole — counting
/// single IPv6 addresses would let one host step around the limit. `unknown` when the server
/// cannot tell (then every such request shares one count).
pub fn source_key(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_790_000_000 + m * 60, 0).unwrap().naive_utc()
    }

    /// Fails `n` times at minute `at` against the pair and address, returning the counters.
    fn fail_n(p: &Policy, pair: &mut Option<Counter>, source: &mut Option<Counter>, n: u32, at: i64) -> Option<Blocked> {
        let mut last = None;
        for _ in 0..n {
            let f = p.failed(pair.as_ref(), source.as_ref(), t(at));
            *pair = Some(f.pair);
            *source = Some(f.source);
            last = f.blocked();
        }
        last
    }

    #[test]
    fn five_failures_for_a_pair_wait_a_minute_and_each_further_one_doubles_up_to_an_hour() {
        let p = Policy::default();
        let (mut pair, mut source) = (None, None);
        assert_eq!(fail_n(&p, &mut pair, &mut source, 4, 0), None, "four wrong passwords are free");
        assert!(p.check(pair.as_ref(), source.as_ref(), t(0)).is_ok());
        let b = fail_n(&p, &mut pair, &mut source, 1, 0).expect("the fifth starts a wait");
        assert_eq!(b, Blocked { scope: Scope::Pair, until: t(1) });
        assert_eq!(p.check(pair.as_ref(), source.as_ref(), t(0)), Err(b), "even the right password waits");
        assert!(p.check(pair.as_ref(), source.as_ref(), t(1)).is_ok(), "after the wait one more try");
        let mut waits = vec![];
        for i in 0..8 {
            let now = pair.unwrap().locked_until.unwrap();
            let b = fail_n(&p, &mut pair, &mut source, 1, (now - t(0)).num_minutes()).unwrap();
            waits.push((b.until - now).num_minutes());
            assert_eq!(pair.unwrap().failures, 6 + i);
        }
        assert_eq!(waits, vec![2, 4, 8, 16, 32, 60, 60, 60], "doubling, capped at an hour");
    }

    #[test]
    fn a_strangers_failures_do_not_touch_another_address() {
        let p = Policy::default();
        let (mut stranger_pair, mut stranger_source) = (None, None);
        fail_n(&p, &mut stranger_pair, &mut stranger_source, 10, 0);
        assert!(p.check(stranger_pair.as_ref(), stranger_source.as_ref(), t(0)).is_err());
        // the officer's own address has its own (empty) counters for the same badge
        assert!(p.check(None, None, t(0)).is_ok());
    }

    #[test]
    fn counters_are_forgotten_after_a_quiet_day_measured_from_the_end_of_the_wait() {
        let p = Policy::default();
        let (mut pair, mut source) = (None, None);
        fail_n(&p, &mut pair, &mut source, 11, 0); // a 60-minute wait from minute 0
        let c = pair.unwrap();
        assert_eq!(c.locked_until, Some(t(60)));
        assert_eq!(p.pair.forget_at(&c), t(60 + 24 * 60));
        assert!(p.pair.live(Some(&c), t(60 + 24 * 60 - 1)).is_some());
        assert_eq!(p.pair.live(Some(&c), t(60 + 24 * 60)), None);
        // a failure after that starts again from one
        assert_eq!(p.pair.failed(Some(&c), t(60 + 24 * 60)).failures, 1);
        // within the day the count goes on
        assert_eq!(p.pair.failed(Some(&c), t(61)).failures, 12);
    }

    #[test]
    fn an_address_spraying_many_badges_is_slowed_after_twenty_failures() {
        let p = Policy::default();
        let mut source = None;
        for badge in 0..20 {
            let f = p.failed(None, source.as_ref(), t(badge / 2));
            assert_eq!(f.blocked(), None, "badge {badge}");
            source = Some(f.source);
        }
        let f = p.failed(None, source.as_ref(), t(10));
        assert_eq!(f.blocked(), Some(Blocked { scope: Scope::Source, until: t(11) }), "the 21st failure from the address waits");
        source = Some(f.source);
        assert_eq!(p.check(None, source.as_ref(), t(10)).unwrap_err().scope, Scope::Source, "any badge from that address waits");
        let f = p.failed(None, source.as_ref(), t(11));
        assert_eq!(f.source_locked, Some(t(13)), "and doubles");
        // after a 15-minute pause (from the end of the wait) the address starts over
        assert_eq!(p.source.live(Some(&f.source), t(13 + 15)), None);
    }

    #[test]
    fn the_later_of_two_waits_is_reported() {
        let p = Policy::default();
        let pair = Counter { failures: 5, last_failure_at: t(0), locked_until: Some(t(1)) };
        let source = Counter { failures: 22, last_failure_at: t(0), locked_until: Some(t(2)) };
        assert_eq!(p.check(Some(&pair), Some(&source), t(0)), Err(Blocked { scope: Scope::Source, until: t(2) }));
        assert_eq!(p.check(Some(&pair), None, t(0)), Err(Blocked { scope: Scope::Pair, until: t(1) }));
    }

    #[test]
    fn waits_never_overflow() {
        let r = Policy::default().pair;
        assert_eq!(r.wait_after(u32::MAX), Some(Duration::hours(1)));
        assert_eq!(r.wait_after(4), None);
    }

    #[test]
    fn addresses_and_badges_are_normalised() {
        assert_eq!(badge_key(" T0001 "), "t0001");
        assert_eq!(source_key(None), "unknown");
        assert_eq!(source_key(Some("10.1.2.3".parse().unwrap())), "10.1.2.3");
        assert_eq!(source_key(Some("::ffff:10.1.2.3".parse().unwrap())), "10.1.2.3");
        assert_eq!(source_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap())), "2001:db8:1:2::/64");
        assert_eq!(source_key(Some("2001:db8:1:2:bbbb::9".parse().unwrap())), "2001:db8:1:2::/64");
    }
}
