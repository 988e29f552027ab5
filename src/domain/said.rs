//! A sentence found by code and said in the reader's language: pages look up the catalogue's
//! `problem.<key>` with its values; the API, the command line and the logs take its English.
//! Unlike [`Problem`](super::validation::Problem) it is owned and (de)serialisable, so what a
//! background job found can be stored and said later in its reader's language, and its
//! place is a list of places (a bank file's `line 12`, `column F (难度)`, `answer 2`), each said
//! the same way.

use serde::{Deserialize, Serialize};

use super::validation::Problem;

/// One sentence: catalogue key (without `problem.`), its values, and its English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    pub key: String,
    pub params: Vec<(String, String)>,
    /// Values that are sentences themselves (a place named inside a sentence: `first at row 3`),
    /// said in the same language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(String, Said)>,
    pub english: String,
}

impl Said {
    pub fn new(key: &str, params: Vec<(&str, String)>, english: impl Into<String>) -> Said {
        Said {
            key: key.into(),
            params: params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            parts: Vec::new(),
            english: english.into(),
        }
    }

    /// Adds a value that is a sentence itself.
    pub fn with_part(mut self, name: &str, part: Said) -> Said {
        self.parts.push((name.to_string(), part));
        self
    }

    /// A sentence without values.
    pub fn plain(key: &str, english: impl Into<String>) -> Said {
        Said::new(key, Vec::new(), english)
    }

    /// The value of `name`, if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl From<Problem> for Said {
    fn from(p: Problem) -> Said {
        Said::new(p.key, p.params, p.english)
    }
}

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

/// A problem and where it is, outermost place first (none for a problem of the whole input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    pub at: Vec<Said>,
    pub what: Said,
}

impl Located {
    pub fn new(at: Vec<Said>, what: impl Into<Said>) -> Located {
        Located { at, what: what.into() }
    }

    /// A problem of the whole input.
    pub fn whole(what: impl Into<Said>) -> Located {
        Located::new(Vec::new(), what)
    }

    /// The same problem inside `place` (which comes first).
    pub fn within(mut self, place: Said) -> Located {
        self.at.insert(0, place);
        self
    }
}

impl From<Said> for Located {
    fn from(s: Said) -> Located {
        Located::whole(s)
    }
}

/// `place: place: problem`, in English.
impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.at {
            write!(f, "{}: ", p.english)?;
        }
        f.write_str(&self.what.english)
    }
}

/// A sentence is equal to its English (as the command line and the API read it).
impl PartialEq<&str> for Said {
    fn eq(&self, other: &&str) -> bool {
        self.english == *other
    }
}

/// A located problem is equal to its English line (as the command line and the API read it).
impl PartialEq<&str> for Located {
    fn eq(&self, other: &&str) -> bool {
        let line = self.to_string();
        line == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_problem_reads_as_its_places_then_its_sentence() {
        let p = Located::whole(Said::new("k", vec![("v", "9".into())], "difficulty 9 is wrong"))
            .within(Said::new("bank_file.at_column", vec![("column", "F".into())], "column F"))
            .within(Said::new("bank_file.at_row", vec![("row", "3".into())], "row 3"));
        assert_eq!(p.to_string(), "row 3: column F: difficulty 9 is wrong");
        assert_eq!(p.what.param("v"), Some("9"));
        let back: Located = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(Located::whole(Said::plain("k", "empty")).to_string(), "empty");
    }
}
