//! Background jobs: long work taken out of the request (issue 17). What a job is and the rules
//! of its life, without a database: its kind, its state, when a running job counts as abandoned.

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Officers from a CSV file (`services::people`): an argon2 hash per row, then one transaction.
    OfficerImport,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::OfficerImport => "officer_import",
        }
    }
    pub fn parse(s: &str) -> Option<JobKind> {
        match s {
            "officer_import" => Some(JobKind::OfficerImport),
            _ => None,
        }
    }
}

/// Where a job is: queued → running → done or failed. A running job whose worker stopped
/// (no heartbeat for [`STALE_AFTER_SECONDS`]) goes back to queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<JobState> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "failed" => Some(JobState::Failed),
            _ => None,
        }
    }
    /// Done or failed: the page stops refreshing itself.
    pub fn finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

/// A running job's worker writes its heartbeat at least every [`HEARTBEAT_SECONDS`]; after this
/// long without one, the server that ran it is taken to have died and the job is queued again.
/// Its write is one transaction, so a job cut off midway stored nothing.
pub const STALE_AFTER_SECONDS: i64 = 60;

/// How often a running job writes its progress and heartbeat.
pub const HEARTBEAT_SECONDS: u64 = 1;

/// Whole percent of `done` of `total`, rounded down (100 only when every row is done).
pub fn percent(done: i64, total: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    (done.clamp(0, total) * 100) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        for s in [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobKind::parse("officer_import"), Some(JobKind::OfficerImport));
        assert_eq!(JobKind::parse("officers"), None);
        assert_eq!(JobState::parse("Done"), None);
        assert!(JobState::Done.finished() && JobState::Failed.finished());
        assert!(!JobState::Running.finished() && !JobState::Queued.finished());
    }

    #[test]
    fn percent_reaches_100_only_at_the_last_row() {
        assert_eq!(percent(0, 300), 0);
        assert_eq!(percent(299, 300), 99);
        assert_eq!(percent(300, 300), 100);
        assert_eq!(percent(5, 0), 0);
    }
}
