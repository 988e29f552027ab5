//! The server's clock: the only source of "now" for deadlines. Tests move it forward instead of
//! sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{NaiveDateTime, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Current UTC time (plus any offset a test has applied).
    pub fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (tests only use this).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
