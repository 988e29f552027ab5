//! The error of every use case: a code from one catalogue, a message, and, for invalid input,
//! the problem with each field. No HTTP here: `web::errors` turns an error into the JSON body
//! (`{"error": {"code", "message", "fields"}}`) or the error page, with the status the code
//! carries.

use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::validation::FieldError;

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $status:literal, $meaning:literal),)*) => {
        /// Every error the platform answers with. The code is stable (clients branch on it);
        /// the message is for people.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] #[doc = $meaning] $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            /// The HTTP status this error is answered with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }
            /// What the code means, for the API documentation.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => $meaning,)* }
            }
        }
    };
}

error_codes! {
    BadRequest => ("bad_request", 400, "the request is malformed: not the documented JSON or form, or text the database cannot hold"),
    Unauthorized => ("unauthorized", 401, "not signed in, or the session or token has expired or been revoked"),
    Forbidden => ("forbidden", 403, "the caller's role may not do this"),
    PasswordChangeRequired => ("password_change_required", 403, "the account's password was reset: change it before anything else"),
    AccessCode => ("access_code", 403, "the sitting needs the access code the proctor announces, and none or a wrong one was given"),
    AccessCodeLocked => ("access_code_locked", 403, "too many wrong access codes: the proctor must let this candidate in"),
    ExamInProgress => ("exam_in_progress", 403, "the caller has an open graded exam: pages that show keys are closed until it is submitted"),
    OutsideExamRoom => ("outside_exam_room", 403, "the sitting may only be sat from the exam room's network"),
    DutySeparation => ("duty_separation", 403, "a trainer who can read the keyed bank may not sit a graded exam without an admin's exception"),
    NotOnList => ("not_on_list", 403, "the sitting is for a list of candidates and the caller is not on it"),
    EligibilityLapsed => ("eligibility_lapsed", 403, "registered for the level but no longer eligible (a required certificate has lapsed)"),
    NotRegistered => ("not_registered", 403, "a certification sitting: register for its level first"),
    NotFound => ("not_found", 404, "nothing with that id or number, or not visible to the caller"),
    Expired => ("expired", 410, "it was kept for a limited time and has been deleted: ask for it again"),
    TooLarge => ("too_large", 413, "the upload or form is larger than allowed"),
    Invalid => ("invalid", 422, "invalid input: `fields` names each field and its problem"),
    NotEligible => ("not_eligible", 422, "the officer does not meet the level's conditions; the message gives every reason"),
    WrongPassword => ("wrong_password", 422, "the current password is wrong"),
    WeakPassword => ("weak_password", 422, "the new password does not meet the password rules"),
    TooManyAttempts => ("too_many_attempts", 429, "too many failed sign-ins from this badge and address: wait and try again"),
    AlreadyChallenged => ("already_challenged", 409, "this question of this attempt is already challenged"),
    AlreadyDecided => ("already_decided", 409, "the challenge or request has already been decided"),
    AlreadyRegistered => ("already_registered", 409, "already registered for this level"),
    AlreadyRated => ("already_rated", 409, "the rater's round-1 ratings are in and the panel's spread has been shown to them: they stay as given; rate again in round 2"),
    BadgeTaken => ("badge_taken", 409, "another account has this badge number"),
    Certified => ("certified", 409, "the officer already holds this certificate"),
    ChallengeClosed => ("challenge_closed", 409, "challenges for this exam are not open"),
    Closed => ("closed", 409, "it is closed and can no longer change"),
    DeadlinePassed => ("deadline_passed", 409, "the attempt's deadline has passed (checked on the server)"),
    Dismissed => ("dismissed", 409, "the event was already dismissed"),
    Duplicate => ("duplicate", 409, "the same thing exists already"),
    Exists => ("exists", 409, "it exists already"),
    Incomplete => ("incomplete", 409, "not complete: finish it first"),
    NotAllowed => ("not_allowed", 409, "not allowed in the current state"),
    NotLocked => ("not_locked", 409, "nothing is locked"),
    NotOpen => ("not_open", 409, "the sitting is not open now"),
    NotSubmitted => ("not_submitted", 409, "the attempt has not been submitted"),
    PlanClosed => ("plan_closed", 409, "the remedial plan is closed"),
    PlanOpen => ("plan_open", 409, "the remedial plan is still open"),
    Refused => ("refused", 409, "refused in the current state"),
    Stale => ("stale", 409, "it changed since it was read: reload and try again"),
    Submitted => ("submitted", 409, "the attempt is already submitted"),
    Withheld => ("withheld", 409, "the question is in an exam that is open or about to open"),
    WrongStage => ("wrong_stage", 409, "the question is not at the review stage this needs"),
    Internal => ("internal", 500, "a fault on the server; it is logged"),
    Unavailable => ("unavailable", 503, "the database is busy or unreachable: try again"),
    Overloaded => ("overloaded", 503, "the server is at capacity and refused at once, doing nothing: try again after `Retry-After` seconds"),
    NoSecretKey => ("no_secret_key", 503, "the server has no secret key configured to sign with"),
}

impl ErrorCode {
    /// Whether the code's own catalogue title and help already say the reason, so a page in
    /// another language than English need not add the English message of an error that carries
    /// no catalogue key. The generic codes (invalid input, a refusal, a role that may not) do
    /// not: their reason is in the particulars, which must then come from the catalogue.
    pub fn says_its_reason(self) -> bool {
        !matches!(self, ErrorCode::BadRequest | ErrorCode::Forbidden | ErrorCode::Invalid | ErrorCode::NotAllowed | ErrorCode::Refused)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} ({code})")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// For `invalid`: each field's problem, in the order found.
    pub fields: Vec<FieldError>,
    /// Seconds the client should wait before trying again (sent as `Retry-After`).
    pub retry_after: Option<u32>,
    /// The message as catalogue keys (`templates/locales`) with their placeholders, one a
    /// sentence, so a page says it in the reader's language; the API keeps `message`.
    pub localized: Vec<(String, serde_json::Value)>,
    /// For `invalid` from a validator that names its problems by catalogue key: each problem,
    /// so a form says it in the reader's language beside its field; `fields` keeps the English.
    pub problems: Vec<crate::domain::validation::Problem>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { code, message: message.into(), fields: Vec::new(), retry_after: None, localized: Vec::new(), problems: Vec::new() }
    }
    /// The same error, said on pages by catalogue key `key` (placeholders from `params`).
    pub fn localized(mut self, key: &str, params: serde_json::Value) -> AppError {
        self.localized.push((key.to_string(), params));
        self
    }
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::BadRequest, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Forbidden, message)
    }
    /// The caller's role may not do this (every role check says it with these words).
    pub fn role_refused() -> AppError {
        AppError::forbidden("your role does not allow this").localized("request_refusal.role", serde_json::json!({}))
    }
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::NotFound, message)
    }
    /// Invalid input that is not tied to one field.
    pub fn unprocessable(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Invalid, message)
    }
    pub fn internal(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Internal, message)
    }
    /// 503 `overloaded`: refused at once, nothing done; try again after `retry_after` seconds.
    pub fn overloaded(retry_after: u32, message: impl Into<String>) -> AppError {
        AppError { retry_after: Some(retry_after), ..AppError::new(ErrorCode::Overloaded, message) }
    }

    /// Invalid input, one entry a field. The message joins them for readers that show one line.
    pub fn invalid(fields: Vec<FieldError>) -> AppError {
        let message = fields.iter().map(FieldError::to_string).collect::<Vec<_>>().join("; ");
        AppError { code: ErrorCode::Invalid, message, fields, retry_after: None, localized: Vec::new(), problems: Vec::new() }
    }

    /// Invalid input from a validator that speaks in lines `field: problem`
    /// (see `FieldError::from_line`).
    pub fn invalid_lines<S: AsRef<str>>(lines: &[S]) -> AppError {
        AppError::invalid(lines.iter().map(|l| FieldError::from_line(l.as_ref())).collect())
    }

    /// [`AppError::invalid_lines`] of the problems' English lines (the API's body), keeping the
    /// problems for pages to say in the reader's language.
    pub fn invalid_problems(problems: Vec<crate::domain::validation::Problem>) -> AppError {
        let lines: Vec<String> = problems.iter().map(crate::domain::validation::Problem::line).collect();
        AppError { problems, ..AppError::invalid_lines(&lines) }
    }

    /// An error of `code` whose message is the problem's English line (what the API says, as
    /// `AppError::new(code, line)` would), said on pages by its catalogue key.
    pub fn problem(code: ErrorCode, p: crate::domain::validation::Problem) -> AppError {
        AppError { problems: vec![p.clone()], ..AppError::new(code, p.line()) }
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// Whether the caller can fix this by changing what they sent (a form shows it again).
    pub fn is_invalid(&self) -> bool {
        self.code.http_status() == 422
    }

    /// Whether the thing is in a state that refuses this (409).
    pub fn is_conflict(&self) -> bool {
        self.code.http_status() == 409
    }

    /// One line a problem, for a form's list of errors.
    pub fn lines(&self) -> Vec<String> {
        if self.fields.is_empty() {
            vec![self.message.clone()]
        } else {
            self.fields.iter().map(FieldError::to_string).collect()
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        match e {
            diesel::result::Error::NotFound => AppError::not_found("not found"),
            // PostgreSQL refuses NUL characters in text: that is bad input, not a server fault
            diesel::result::Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                AppError::bad_request("text may not contain NUL (\\0) characters")
            }
            e => {
                eprintln!("database error: {e}");
                AppError::internal("database error")
            }
        }
    }
}

/// A stored word read outside Diesel (e.g. one of a column's comma-separated words) that the
/// code does not know: a fault of the data, said as Diesel's reading of such a word is.
impl From<crate::domain::stored_text::UnknownWord> for AppError {
    fn from(e: crate::domain::stored_text::UnknownWord) -> AppError {
        eprintln!("database error: {e}");
        AppError::internal("database error")
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        eprintln!("database pool error: {e}");
        AppError::new(ErrorCode::Unavailable, "the database is busy; try again")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_carry_a_client_or_server_status() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert!((400..600).contains(&c.http_status()), "{c}");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn invalid_keeps_each_field_and_joins_them_for_one_line_readers() {
        let e = AppError::invalid_lines(&["name: required", "pass_percent: 0–100", "the window is empty"]);
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.fields[0], FieldError::new("name", "required"));
        assert_eq!(e.fields[1].field, "pass_percent");
        assert_eq!(e.fields[2].field, "");
        assert_eq!(e.message, "name: required; pass_percent: 0–100; the window is empty");
        assert_eq!(e.lines().len(), 3);
        assert!(e.is_invalid() && !e.is_conflict());
    }

    #[test]
    fn a_problem_error_keeps_the_api_s_message_and_fields() {
        use crate::domain::validation::Problem;
        let e = AppError::problem(ErrorCode::Invalid, Problem::plain("reason", "proctor.reason", "say why"));
        let old = AppError::unprocessable("reason: say why");
        assert_eq!((e.message.as_str(), e.fields.is_empty(), e.code), (old.message.as_str(), true, old.code));
        assert_eq!(e.problems[0].key, "proctor.reason");
        let e = AppError::problem(ErrorCode::AlreadyDecided, Problem::plain("", "challenge.already_decided", "decided already"));
        assert_eq!(e.message, "decided already");
        assert!(e.is_conflict());
    }

    /// The refusals of challenges, the proctor, remedial plans, training files and accounts name
    /// catalogue keys (`problem.<area>.*`): each is in both catalogues.
    #[test]
    fn every_refusal_key_of_these_areas_is_in_both_catalogues() {
        let src = [
            include_str!("services/challenges.rs"),
            include_str!("services/proctor.rs"),
            include_str!("services/remedial.rs"),
            include_str!("services/escalation.rs"),
            include_str!("services/training.rs"),
            include_str!("services/accounts.rs"),
            include_str!("services/hr.rs"),
            include_str!("web/challenges.rs"),
            include_str!("web/proctor.rs"),
            include_str!("web/training.rs"),
        ]
        .concat();
        // audit actions, not sentences
        let audit = ["challenge.file", "challenge.decide", "remedial.escalate"];
        let areas = ["challenge.", "proctor.", "remedial.", "training.", "account."];
        let found: std::collections::BTreeSet<&str> = src
            .split('"')
            .filter(|s| {
                areas.iter().any(|a| s.starts_with(a))
                    && !s.ends_with('.')
                    && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            })
            .filter(|k| !audit.contains(k))
            .collect();
        assert!(found.len() > 50, "{}", found.len());
        for lang in crate::render::LANGS {
            let cat = crate::render::catalogue(lang);
            for k in &found {
                assert!(cat.get(&format!("problem.{k}")).is_some_and(|t| !t.trim().is_empty()), "{lang}.toml has no problem.{k}");
            }
        }
    }

    /// Every catalogue key an error is localised with (a literal first argument of `localized`
    /// anywhere in src/, and the question lifecycle's refusals) is in both catalogues: a missing one would
    /// show the key itself to the reader.
    #[test]
    fn every_key_an_error_is_localised_with_is_in_both_catalogues() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut keys: Vec<String> = Vec::new();
        for text in &files {
            for part in text.split(".localized(").skip(1) {
                // the literal keys of the call: the first argument, or both arms of an `if`
                let arg = part.split(", ").next().unwrap_or("");
                keys.extend(arg.split('"').skip(1).step_by(2).filter(|k| k.contains('.') && !k.contains(' ')).map(str::to_string));
            }
        }
        keys.extend(
            [
                crate::domain::lifecycle::Refusal::OwnVersion,
                crate::domain::lifecycle::Refusal::Incomplete,
                crate::domain::lifecycle::Refusal::NothingToReview,
                crate::domain::lifecycle::Refusal::Retired,
                crate::domain::lifecycle::Refusal::NotReviewed,
                crate::domain::lifecycle::Refusal::AlreadyActive,
                crate::domain::lifecycle::Refusal::AlreadyRetired,
                crate::domain::lifecycle::Refusal::NotRetired,
            ]
            .map(|r| r.key().to_string()),
        );
        assert!(keys.len() > 30, "{keys:?}");
        for lang in crate::render::LANGS {
            let cat = crate::render::catalogue(lang);
            for k in &keys {
                assert!(cat.get(k).is_some_and(|t| !t.trim().is_empty()), "{lang}.toml has no {k}");
            }
        }
    }
}
