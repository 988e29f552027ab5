//! Challenges (复核) against a question of a sitting: where one stands and how it was upheld.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::stored_text::UnknownWord;

/// Where a challenge stands (`challenges.status`, stored as the word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeStatus {
    /// Filed, waiting for a trainer.
    Open,
    /// Upheld: another answer also scores, or the question is void.
    Upheld,
    /// Rejected: the key stands.
    Rejected,
}

impl ChallengeStatus {
    pub const ALL: [ChallengeStatus; 3] = [ChallengeStatus::Open, ChallengeStatus::Upheld, ChallengeStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeStatus::Open => "open",
            ChallengeStatus::Upheld => "upheld",
            ChallengeStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<ChallengeStatus> {
        ChallengeStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How an upheld challenge changed the key (`challenges.resolution`, stored as `void` or
/// `accept:<option letters>`; serialised as that same text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The question is void: everyone who had it gets its points.
    Void,
    /// Another answer (these option letters) also scores.
    Accept(String),
}

const ACCEPT: &str = "accept:";

impl Resolution {
    /// The resolution a stored text names; None for any other text.
    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "void" => Some(Resolution::Void),
            _ => s.strip_prefix(ACCEPT).map(|letters| Resolution::Accept(letters.to_string())),
        }
    }
    /// The letters also accepted, if that is the resolution.
    pub fn accepted(&self) -> Option<&str> {
        match self {
            Resolution::Accept(letters) => Some(letters),
            Resolution::Void => None,
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Void => f.write_str("void"),
            Resolution::Accept(letters) => write!(f, "{ACCEPT}{letters}"),
        }
    }
}

impl TryFrom<String> for Resolution {
    type Error = UnknownWord;
    fn try_from(s: String) -> Result<Self, UnknownWord> {
        Resolution::parse(&s).ok_or(UnknownWord { what: "challenge resolution", value: s })
    }
}

impl Serialize for Resolution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolution_is_stored_and_serialised_as_the_same_text_and_reads_back() {
        for (r, text) in [(Resolution::Void, "void"), (Resolution::Accept("AC".into()), "accept:AC")] {
            assert_eq!(r.to_string(), text);
            assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!(text));
            assert_eq!(Resolution::try_from(text.to_string()).unwrap(), r);
        }
        assert_eq!(Resolution::Accept("B".into()).accepted(), Some("B"));
        assert_eq!(Resolution::Void.accepted(), None);
    }

    #[test]
    fn an_unknown_resolution_names_itself() {
        let e = Resolution::try_from("maybe".to_string()).unwrap_err();
        assert_eq!(e.to_string(), "unknown challenge resolution \"maybe\" in the database");
    }
}
