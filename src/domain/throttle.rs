//! Sign-in throttling: after repeated wrong passwords for one badge, that badge is locked for a
//! while, so a password cannot be guessed at the rate the server can check them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

#[derive(Clone, Debug)]
pub struct LoginThrottle {
    /// Failures that lock the badge…
    pub max_failures: usize,
    /// …when they fall within this window…
    pub window: Duration,
    /// …for this long.
    pub lockout: Duration,
    failures: HashMap<String, Vec<NaiveDateTime>>,
    locked: HashMap<String, NaiveDateTime>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle { max_failures: 5, window: Duration::minutes(15), lockout: Duration::minutes(15), failures: HashMap::new(), locked: HashMap::new() }
    }
}

fn key(badge: &str) -> String {
    badge.trim().to_lowercase()
}

impl LoginThrottle {
    /// `Err(until)` while the badge is locked.
    pub fn check(&mut self, badge: &str, now: NaiveDateTime) -> Result<(), NaiveDateTime> {
        let k = key(badge);
        match self.locked.get(&k) {
            Some(until) if now < *until => Err(*until),
            Some(_) => {
                self.locked.remove(&k);
                self.failures.remove(&k);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a wrong password; returns the lock's end if this failure locked the badge.
    pub fn failed(&mut self, badge: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if self.failures.len() > 50_000 {
            // bounded memory under a spray of made-up badges: forget stale entries
            let window = self.window;
            self.failures.retain(|_, v| v.last().is_some_and(|t| now - *t < window));
        }
        let k = key(badge);
        let list = self.failures.entry(k.clone()).or_default();
        list.retain(|t| now - *t < self.window);
        list.push(now);
        if list.len() >= self.max_failures {
            let until = now + self.lockout;
            self.locked.insert(k, until);
            Some(until)
        } else {
            None
        }
    }

    /// A correct password clears the badge's failures.
    pub fn succeeded(&mut self, badge: &str) {
        self.failures.remove(&key(badge));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_790_000_000 + m * 60, 0).unwrap().naive_utc()
    }

    #[test]
    fn five_failures_lock_the_badge_for_a_while() {
        let mut th = LoginThrottle::default();
        for i in 0..4 {
            assert!(th.check("100001", t(i)).is_ok());
            assert_eq!(th.failed("100001", t(i)), None);
        }
        assert_eq!(th.failed("100001", t(4)), Some(t(19)));
        assert_eq!(th.check("100001", t(10)), Err(t(19)), "even the right password waits");
        assert!(th.check("100002", t(10)).is_ok(), "other badges are not affected");
        assert!(th.check("100001", t(19)).is_ok(), "unlocked after the lockout");
        assert_eq!(th.failed("100001", t(20)), None, "and the count starts again");
    }

    #[test]
    fn failures_outside_the_window_and_successes_do_not_add_up() {
        let mut th = LoginThrottle::default();
        for i in 0..4 {
            th.failed("T0001", t(i * 10));
        }
        assert_eq!(th.failed("T0001", t(40)), None, "spread over 40 minutes: at most 2 in any 15");
        th.failed("h0001", t(50));
        th.succeeded("H0001");
        for i in 0..4 {
            assert_eq!(th.failed("H0001", t(51 + i)), None, "badges compare case-insensitively; success cleared them");
        }
    }
}
