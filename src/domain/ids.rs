//! Typed ids: one newtype per kind of stored row, so a sitting id cannot be passed where an
//! attempt id is expected. Each is the row's `BIGINT` key, serialised as the bare integer
//! (`#[serde(transparent)]`), shown as the integer. Their storage mapping is `db::ids`, their
//! URL and form mapping `web::ids`; in the OpenAPI document they stay integers
//! (`#[schema(value_type = i64)]` on the fields that hold them).

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

/// Calls `$m!(Type)` once per id type: the one list the storage and web mappings follow.
#[macro_export]
macro_rules! for_each_id {
    ($m:ident) => {
        $m!(UserId);
        $m!(UnitId);
        $m!(SittingId);
        $m!(AttemptId);
        $m!(VersionId);
        $m!(QuestionId);
        $m!(BlueprintId);
        $m!(ExamPlanId);
        $m!(RemedialPlanId);
        $m!(CertificateId);
        $m!(RegistrationId);
        $m!(JobId);
        $m!(ChallengeId);
        $m!(ImportId);
        $m!(StudyId);
        $m!(EscalationId);
        $m!(EntryId);
        $m!(PracticeId);
        $m!(SessionId);
        $m!(TokenId);
        $m!(EventId);
        $m!(ExceptionId);
        $m!(CaseId);
        $m!(StatuteId);
        $m!(EditionId);
        $m!(MailId);
        $m!(NotificationId);
        $m!(RuleId);
        $m!(PostChangeId);
        $m!(AuditId);
    };
}

ids! {
    /// An account (`users.id`).
    UserId;
    /// A unit of the bureau (`units.id`).
    UnitId;
    /// A scheduled exam (`sittings.id`).
    SittingId;
    /// One candidate's paper in one sitting (`attempts.id`).
    AttemptId;
    /// One version of a question (`question_versions.id`): what papers and the API name.
    VersionId;
    /// A question across its versions (`questions.id`; its code, `ZA-0001`, is what people see).
    QuestionId;
    /// A blueprint (`blueprints.id`).
    BlueprintId;
    /// An exam plan, 双月考计划 (`exam_plans.id`).
    ExamPlanId;
    /// A remedial plan, 后进培训计划 (`remedial_plans.id`).
    RemedialPlanId;
    /// A certificate (`certificates.id`).
    CertificateId;
    /// A registration for a certification level (`cert_registrations.id`).
    RegistrationId;
    /// A background job (`jobs.id`).
    JobId;
    /// A challenge of a question's key or wording (`challenges.id`).
    ChallengeId;
    /// A staged bank file (`bank_imports.id`).
    ImportId;
    /// A standard-setting study (`standard_studies.id`).
    StudyId;
    /// An escalation, 督办, of a remedial plan (`remedial_escalations.id`).
    EscalationId;
    /// One entry of an officer's training file, 训练档案记录 (`training_entries.id`); the HR
    /// feed's cursor, so entries are numbered in the order they become visible.
    EntryId;
    /// A practice session (`practice_sessions.id`).
    PracticeId;
    /// A sign-in session or an API token of one's own, both kept as sessions (`sessions.id`).
    SessionId;
    /// An API token issued by an admin for a role (`api_tokens.id`).
    TokenId;
    /// An event of an attempt in the exam room (`attempt_events.id`).
    EventId;
    /// An exception letting a user who can read keys sit one graded sitting (`sitting_exceptions.id`).
    ExceptionId;
    /// A case of a case-analysis group (`cases.id`).
    CaseId;
    /// A statute (`statutes.id`).
    StatuteId;
    /// An edition of a statute (`statute_editions.id`).
    EditionId;
    /// An outgoing message (`mail_outbox.id`).
    MailId;
    /// An in-site notification (`notifications.id`).
    NotificationId;
    /// A promotion rule (`promotion_rules.id`).
    RuleId;
    /// A change of an officer's post (`post_changes.id`).
    PostChangeId;
    /// An entry of the hash-chained audit log (`audit_log.id`): numbered 1, 2, ... in the
    /// order appended, the number the chain hashes and a published head names.
    AuditId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_integer_in_json_and_text() {
        assert_eq!(serde_json::to_string(&SittingId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<AttemptId>("7").unwrap(), AttemptId(7));
        assert!(serde_json::from_str::<AttemptId>("\"7\"").is_err());
        assert_eq!(UserId(-3).to_string(), "-3");
        assert_eq!("15".parse::<VersionId>().unwrap(), VersionId(15));
        assert!("x15".parse::<VersionId>().is_err());
    }
}
