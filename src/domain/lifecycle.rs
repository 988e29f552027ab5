//! A question's lifecycle: draft → reviewed (by a trainer other than the author) → active
//! (drawn into new papers) → retired. An edit never changes a version in place: it adds a new
//! version, which must be reviewed again before it replaces the live one.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written, not yet reviewed: never drawn.
    Draft,
    /// Reviewed by a second trainer, waiting to be put into use.
    Reviewed,
    /// Its live version is drawn into new papers.
    Active,
    /// Out of use; kept for the papers that used it.
    Retired,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Draft, Status::Reviewed, Status::Active, Status::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Reviewed => "reviewed",
            Status::Active => "active",
            Status::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Approve the latest version.
    Review,
    /// Put a reviewed question into use.
    Activate,
    Retire,
    /// Bring a retired question back as reviewed (its live version unchanged), to be activated.
    Reinstate,
}

/// What the question looks like to the rule.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub status: Status,
    /// The latest version is not yet reviewed.
    pub latest_unreviewed: bool,
    /// Some version has been reviewed (there is something to put live).
    pub has_reviewed_version: bool,
    /// The actor wrote the latest version.
    pub actor_is_author: bool,
    /// The latest version lacks its citation or explanation (an incomplete draft from a
    /// trainer's plain file): it cannot be reviewed until a trainer fills them in.
    pub latest_incomplete: bool,
}

/// Why an action is refused; the web layer turns these into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    OwnVersion,
    Incomplete,
    NothingToReview,
    Retired,
    NotReviewed,
    AlreadyActive,
    AlreadyRetired,
    NotRetired,
}

impl Refusal {
    /// The catalogue key of the refusal, for pages (`message` is the API's English).
    pub fn key(self) -> &'static str {
        match self {
            Refusal::OwnVersion => "lifecycle_refusal.own_version",
            Refusal::Incomplete => "lifecycle_refusal.incomplete",
            Refusal::NothingToReview => "lifecycle_refusal.nothing_to_review",
            Refusal::Retired => "lifecycle_refusal.retired",
            Refusal::NotReviewed => "lifecycle_refusal.not_reviewed",
            Refusal::AlreadyActive => "lifecycle_refusal.already_active",
            Refusal::AlreadyRetired => "lifecycle_refusal.already_retired",
            Refusal::NotRetired => "lifecycle_refusal.not_retired",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::OwnVersion => "a question must be reviewed by a trainer other than the author of its latest version",
            Refusal::Incomplete => "the question has no citation or no explanation yet: edit it to fill them in, then it can be reviewed",
            Refusal::NothingToReview => "the latest version is already reviewed",
            Refusal::Retired => "a retired question cannot be reviewed; reinstate it first",
            Refusal::NotReviewed => "only a reviewed question can be put into use",
            Refusal::AlreadyActive => "the question is already in use",
            Refusal::AlreadyRetired => "the question is already retired",
            Refusal::NotRetired => "only a retired question can be reinstated",
        }
    }
}

/// The status after `action`, or why it is refused. Reviewing a new version of an active
/// question makes that version live at once: the question itself was already put into use.
pub fn apply(action: Action, f: Facts) -> Result<Status, Refusal> {
    match action {
        Action::Review => {
            if f.status == Status::Retired {
                Err(Refusal::Retired)
            } else if !f.latest_unreviewed {
                Err(Refusal::NothingToReview)
            } else if f.latest_incomplete {
                Err(Refusal::Incomplete)
            } else if f.actor_is_author {
                Err(Refusal::OwnVersion)
            } else if f.status == Status::Active {
                Ok(Status::Active)
            } else {
                Ok(Status::Reviewed)
            }
        }
        Action::Activate => match f.status {
            Status::Reviewed => Ok(Status::Active),
            Status::Active => Err(Refusal::AlreadyActive),
            Status::Retired => Err(Refusal::Retired),
            Status::Draft => Err(Refusal::NotReviewed),
        },
        Action::Retire => match f.status {
            Status::Retired => Err(Refusal::AlreadyRetired),
            _ => Ok(Status::Retired),
        },
        Action::Reinstate => match f.status {
            Status::Retired if f.has_reviewed_version => Ok(Status::Reviewed),
            Status::Retired => Ok(Status::Draft),
            _ => Err(Refusal::NotRetired),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: Status) -> Facts {
        Facts { status, latest_unreviewed: true, has_reviewed_version: false, actor_is_author: false, latest_incomplete: false }
    }

    #[test]
    fn the_happy_path() {
        assert_eq!(apply(Action::Review, facts(Status::Draft)), Ok(Status::Reviewed));
        let reviewed = Facts { latest_unreviewed: false, has_reviewed_version: true, ..facts(Status::Reviewed) };
        assert_eq!(apply(Action::Activate, reviewed), Ok(Status::Active));
        assert_eq!(apply(Action::Retire, Facts { status: Status::Active, ..reviewed }), Ok(Status::Retired));
        assert_eq!(apply(Action::Reinstate, Facts { status: Status::Retired, ..reviewed }), Ok(Status::Reviewed));
    }

    #[test]
    fn authors_do_not_review_their_own_versions() {
        let f = Facts { actor_is_author: true, ..facts(Status::Draft) };
        assert_eq!(apply(Action::Review, f), Err(Refusal::OwnVersion));
    }

    #[test]
    fn an_incomplete_draft_cannot_be_reviewed_nor_so_used() {
        let f = Facts { latest_incomplete: true, ..facts(Status::Draft) };
        assert_eq!(apply(Action::Review, f), Err(Refusal::Incomplete));
        assert_eq!(apply(Action::Activate, f), Err(Refusal::NotReviewed));
        let edit_of_active = Facts { latest_incomplete: true, has_reviewed_version: true, ..facts(Status::Active) };
        assert_eq!(apply(Action::Review, edit_of_active), Err(Refusal::Incomplete));
    }

    #[test]
    fn an_edit_of_an_active_question_goes_live_when_reviewed() {
        let f = Facts { has_reviewed_version: true, ..facts(Status::Active) };
        assert_eq!(apply(Action::Review, f), Ok(Status::Active));
    }

    #[test]
    fn refusals() {
        assert_eq!(apply(Action::Activate, facts(Status::Draft)), Err(Refusal::NotReviewed));
        assert_eq!(apply(Action::Review, Facts { latest_unreviewed: false, ..facts(Status::Active) }), Err(Refusal::NothingToReview));
        assert_eq!(apply(Action::Review, facts(Status::Retired)), Err(Refusal::Retired));
        assert_eq!(apply(Action::Retire, facts(Status::Retired)), Err(Refusal::AlreadyRetired));
        assert_eq!(apply(Action::Reinstate, facts(Status::Active)), Err(Refusal::NotRetired));
        assert_eq!(apply(Action::Activate, facts(Status::Active)), Err(Refusal::AlreadyActive));
    }
}
