//! Officers' training files (训练档案): what one entry records.

use serde::{Deserialize, Serialize};

/// What a training-file entry records (`training_entries.kind`, stored as the word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A result of a sitting (not a mock).
    Sitting,
    /// Listed for a sitting and never started.
    Absence,
    /// A certificate issued.
    Certificate,
    /// A certificate lapsed, expired or revoked.
    CertificateEnded,
    /// A remedial plan opened.
    RemedialOpened,
    /// A remedial plan past its deadline.
    RemedialOverdue,
    /// A remedial plan closed (passed or failed).
    RemedialClosed,
    /// A 高级 pass flagged for the bureau's reward process.
    RewardFlag,
    /// A reward recorded by HR.
    Reward,
    /// A correction of an earlier entry (by regrading or by hand).
    Correction,
}

impl EntryKind {
    pub const ALL: [EntryKind; 10] = [
        EntryKind::Sitting,
        EntryKind::Absence,
        EntryKind::Certificate,
        EntryKind::CertificateEnded,
        EntryKind::RemedialOpened,
        EntryKind::RemedialOverdue,
        EntryKind::RemedialClosed,
        EntryKind::RewardFlag,
        EntryKind::Reward,
        EntryKind::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Sitting => "sitting",
            EntryKind::Absence => "absence",
            EntryKind::Certificate => "certificate",
            EntryKind::CertificateEnded => "certificate_ended",
            EntryKind::RemedialOpened => "remedial_opened",
            EntryKind::RemedialOverdue => "remedial_overdue",
            EntryKind::RemedialClosed => "remedial_closed",
            EntryKind::RewardFlag => "reward_flag",
            EntryKind::Reward => "reward",
            EntryKind::Correction => "correction",
        }
    }
    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
