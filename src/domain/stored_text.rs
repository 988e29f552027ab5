//! Kinds and states are stored as text (the same words on SQLite and PostgreSQL) and read back
//! as the domain's enums. A stored word the code does not know is an error that names the word
//! and what it should have been, not a silent default.
//!
//! The models read a column as `String` and convert with `TryFrom<String>` (Diesel's
//! `deserialize_as`), so this module needs no Diesel and the domain stays plain Rust.

use std::fmt;

use super::accounts::SessionKind;
use super::bank::{Level, QuestionKind};
use super::certification::{CertStatus, RegistrationStatus};
use super::challenge::ChallengeStatus;
use super::exam::{Release, SittingKind, SubmitKind};
use super::exam_room::EventKind;
use super::grading::MultiRule;
use super::jobs::{JobKind, JobState};
use super::measurement::angoff::StudyStatus;
use super::measurement::flags::Flag;
use super::measurement::scale::PassRule;
use super::org::Role;
use super::training_file::EntryKind;
use super::{lifecycle, remedial};

/// A stored word that is not one of the enum's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownWord {
    /// What the word should have named, e.g. "question kind".
    pub what: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?} in the database", self.what, self.value)
    }
}

impl std::error::Error for UnknownWord {}

macro_rules! stored_as_text {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl TryFrom<String> for $ty {
            type Error = UnknownWord;
            fn try_from(s: String) -> Result<Self, UnknownWord> {
                <$ty>::parse(&s).ok_or(UnknownWord { what: $what, value: s })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

stored_as_text!(
    QuestionKind => "question kind",
    Level => "certification level",
    lifecycle::Status => "question status",
    SittingKind => "sitting kind",
    SubmitKind => "submit kind",
    EventKind => "attempt event kind",
    SessionKind => "session kind",
    Release => "release policy",
    MultiRule => "multiple-choice rule",
    CertStatus => "certificate status",
    RegistrationStatus => "registration status",
    Role => "role",
    remedial::Status => "remedial plan status",
    remedial::Stage => "remedial plan stage",
    remedial::Trigger => "remedial trigger",
    StudyStatus => "standard-setting study status",
    JobKind => "job kind",
    JobState => "job state",
    EntryKind => "training-file entry kind",
    ChallengeStatus => "challenge status",
    PassRule => "pass rule",
    Flag => "calibration flag",
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages and the API see these enums through serde; the database through `as_str`. Both
    /// must write the same word, or a page comparing `kind` with "truefalse" would silently
    /// stop matching.
    fn same_word<T>(values: &[T], as_str: fn(&T) -> &'static str)
    where
        T: serde::Serialize + TryFrom<String, Error = UnknownWord> + PartialEq + fmt::Debug + Clone,
    {
        for v in values {
            let word = as_str(v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(word), "{v:?}");
            assert_eq!(T::try_from(word.to_string()).unwrap(), v.clone());
        }
    }

    #[test]
    fn the_stored_word_is_the_serialised_word_and_reads_back() {
        same_word(&QuestionKind::ALL, |v| v.as_str());
        same_word(&Level::ALL, |v| v.as_str());
        same_word(&lifecycle::Status::ALL, |v| v.as_str());
        same_word(&SittingKind::ALL, |v| v.as_str());
        same_word(&SubmitKind::ALL, |v| v.as_str());
        same_word(&EventKind::ALL, |v| v.as_str());
        same_word(&SessionKind::ALL, |v| v.as_str());
        same_word(&[Release::OnSubmit, Release::AfterClose, Release::Never], |v| v.as_str());
        same_word(&[MultiRule::AllOrNothing, MultiRule::Partial], |v| v.as_str());
        same_word(&[CertStatus::Valid, CertStatus::Expired, CertStatus::Lapsed, CertStatus::Revoked], |v| v.as_str());
        same_word(&Role::ALL, |v| v.as_str());
        same_word(&RegistrationStatus::ALL, |v| v.as_str());
        same_word(&remedial::Trigger::ALL, |v| v.as_str());
        same_word(&StudyStatus::ALL, |v| v.as_str());
        same_word(&EntryKind::ALL, |v| v.as_str());
        same_word(&ChallengeStatus::ALL, |v| v.as_str());
        same_word(&PassRule::ALL, |v| v.as_str());
        same_word(&Flag::ALL, |v| v.as_str());
        same_word(&[remedial::Status::Open, remedial::Status::Passed, remedial::Status::Escalated], |v| v.as_str());
        same_word(&[remedial::Stage::Review, remedial::Stage::Practice, remedial::Stage::Exam, remedial::Stage::Closed], |v| v.as_str());
    }

    #[test]
    fn an_unknown_word_names_itself_and_what_it_should_be() {
        let e = SittingKind::try_from("weekly".to_string()).unwrap_err();
        assert_eq!(e.to_string(), "unknown sitting kind \"weekly\" in the database");
    }
}
