//! Background jobs: long work taken out of the request (issue 17). What a job is and the rules
//! of its life, without a database: its kind, its state, when a running job counts as abandoned.

use super::org::Role;
use super::validation::Problem;

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Officers from a CSV file (`services::people`): an argon2 hash per row, then one transaction.
    OfficerImport,
    /// A trainer's staged bank file (`services::bank_import`), committed: every entry checked
    /// against the bank, then all written in one transaction. The job's subject is the staged import.
    QuestionImport,
    /// A case-evaluation CSV (`services::remedial`): every row checked, then stored with the
    /// remedial plans it opens in one transaction.
    CaseImport,
    /// The whole bureau's training files as CSV or XLSX (`services::file_export`): the file is
    /// kept with the job for the one who asked for it.
    FileExport,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [JobKind::OfficerImport, JobKind::QuestionImport, JobKind::CaseImport, JobKind::FileExport];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::OfficerImport => "officer_import",
            JobKind::QuestionImport => "question_import",
            JobKind::CaseImport => "case_import",
            JobKind::FileExport => "file_export",
        }
    }
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who may see a job and what it produced: an officer import, any admin (the passwords only
/// its starter, once); any other job, only the one who started it, and only while they still
/// hold the role it needs (a trainer for question and case-evaluation imports, HR or an admin
/// for the bureau's export).
pub fn may_view(kind: JobKind, is_starter: bool, roles: &[Role]) -> bool {
    match kind {
        JobKind::OfficerImport => roles.contains(&Role::Admin),
        JobKind::QuestionImport | JobKind::CaseImport => is_starter && roles.contains(&Role::Trainer),
        JobKind::FileExport => is_starter && roles.iter().any(|r| matches!(r, Role::Hr | Role::Admin)),
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

/// How many threads a job may hash passwords on: the `LAWCERT_JOB_THREADS` setting when given
/// (at least 1), else every core but one, which is left for serving exams while an import runs
/// (so 1 on a one-core machine), and never more threads than there are rows.
pub fn hash_threads(cores: usize, setting: Option<usize>, rows: usize) -> usize {
    let wanted = match setting {
        Some(n) => n.max(1),
        None => cores.saturating_sub(1).max(1),
    };
    wanted.min(rows.max(1))
}

/// Whole percent of `done` of `total`, rounded down (100 only when every row is done).
pub fn percent(done: i64, total: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    (done.clamp(0, total) * 100) / total
}

/// How long a finished export's file is kept before the dated sweep deletes it (an admin's
/// setting on /admin/settings; the job and its result stay, only the file goes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportRetention {
    /// Whole days after the export finished, 1–365.
    pub days: i64,
}

impl Default for ExportRetention {
    fn default() -> ExportRetention {
        ExportRetention { days: 7 }
    }
}

impl ExportRetention {
    /// Every problem of this setting, by field.
    pub fn problems(&self) -> Vec<Problem> {
        if (1..=365).contains(&self.days) {
            Vec::new()
        } else {
            vec![Problem::range("export_retention_days", 1, 365, Some(self.days))]
        }
    }

    /// Exports that finished before this are past their keeping at `now`.
    pub fn finished_before(&self, now: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
        now - chrono::Duration::days(self.days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_kept_its_days_and_the_setting_is_checked() {
        let r = ExportRetention::default();
        assert_eq!(r.days, 7);
        assert!(r.problems().is_empty());
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(r.finished_before(now), chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(12, 0, 0).unwrap());
        for days in [0, -1, 366] {
            let p = ExportRetention { days }.problems();
            assert_eq!((p.len(), p[0].field, p[0].key), (1, "export_retention_days", "range_got"), "{days}");
        }
        assert!(ExportRetention { days: 365 }.problems().is_empty() && ExportRetention { days: 1 }.problems().is_empty());
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        for s in [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::parse("officer_import"), Some(JobKind::OfficerImport));
        assert_eq!(JobKind::parse("officers"), None);
        assert_eq!(JobState::parse("Done"), None);
        assert!(JobState::Done.finished() && JobState::Failed.finished());
        assert!(!JobState::Running.finished() && !JobState::Queued.finished());
    }

    #[test]
    fn only_the_starter_sees_a_job_except_an_officer_import_which_every_admin_sees() {
        use Role::*;
        assert!(may_view(JobKind::OfficerImport, false, &[Admin]));
        assert!(!may_view(JobKind::OfficerImport, true, &[Hr]), "an admin's job, not a former admin's");
        assert!(may_view(JobKind::QuestionImport, true, &[Trainer]));
        assert!(!may_view(JobKind::QuestionImport, false, &[Trainer, Admin]), "another trainer's import");
        assert!(!may_view(JobKind::CaseImport, true, &[Officer]), "no longer a trainer");
        assert!(may_view(JobKind::FileExport, true, &[Hr]) && may_view(JobKind::FileExport, true, &[Admin]));
        assert!(!may_view(JobKind::FileExport, false, &[Hr]), "another reader's export is theirs alone");
        assert!(!may_view(JobKind::FileExport, true, &[Leader, Officer]));
    }

    #[test]
    fn hashing_leaves_a_core_for_exams_unless_told_otherwise() {
        // no setting: every core but one, at least one
        assert_eq!(hash_threads(1, None, 5000), 1);
        assert_eq!(hash_threads(2, None, 5000), 1);
        assert_eq!(hash_threads(8, None, 5000), 7);
        assert_eq!(hash_threads(0, None, 5000), 1);
        // the setting overrides the rule, but never below one
        assert_eq!(hash_threads(2, Some(2), 5000), 2);
        assert_eq!(hash_threads(8, Some(3), 5000), 3);
        assert_eq!(hash_threads(8, Some(0), 5000), 1);
        // never more threads than rows
        assert_eq!(hash_threads(8, None, 3), 3);
        assert_eq!(hash_threads(8, Some(16), 2), 2);
        assert_eq!(hash_threads(8, None, 0), 1);
    }

    #[test]
    fn percent_reaches_100_only_at_the_last_row() {
        assert_eq!(percent(0, 300), 0);
        assert_eq!(percent(299, 300), 99);
        assert_eq!(percent(300, 300), 100);
        assert_eq!(percent(5, 0), 0);
    }
}
