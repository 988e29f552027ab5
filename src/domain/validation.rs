//! A problem with one field of what a user sent. Validators name the field as the form and the
//! API name it (`pass_percent`, `rows[3].badge`), so a form can show the problem beside its field.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field as the form and the API name it; empty for a problem of the whole input.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }

    /// A validator's line `field: problem`. The field is what comes before the first ": " when
    /// it is a name (letters, digits, `_`, `.`, `[`, `]`); otherwise the line is a problem of the
    /// whole input.
    pub fn from_line(line: &str) -> FieldError {
        if let Some((field, message)) = line.split_once(": ") {
            let is_name = !field.is_empty()
                && field.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
                && field.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
            if is_name {
                return FieldError::new(field, message);
            }
        }
        FieldError::new("", line)
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// A field's problem as a validator found it, to be said in the reader's language: pages look
/// up `problem.<key>` with `params` and the field's label; the API and the logs take
/// [`Problem::line`], in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub key: &'static str,
    pub params: Vec<(&'static str, String)>,
    /// The problem in English, without the field's name.
    pub english: String,
}

impl Problem {
    /// `v` of `field` is outside `lo..=hi`.
    pub fn range(field: &'static str, lo: i64, hi: i64, v: Option<i64>) -> Problem {
        let mut params = vec![("lo", lo.to_string()), ("hi", hi.to_string())];
        let english = match v {
            Some(v) => {
                params.push(("got", v.to_string()));
                format!("must be {lo}–{hi}, got {v}")
            }
            None => format!("must be {lo}–{hi}"),
        };
        Problem { field, key: if v.is_some() { "range_got" } else { "range" }, params, english }
    }

    /// A problem without values: `key` says it on pages, `english` in the API.
    pub fn plain(field: &'static str, key: &'static str, english: impl Into<String>) -> Problem {
        Problem { field, key, params: Vec::new(), english: english.into() }
    }

    /// A problem with values.
    pub fn with(field: &'static str, key: &'static str, params: Vec<(&'static str, String)>, english: impl Into<String>) -> Problem {
        Problem { field, key, params, english: english.into() }
    }

    /// `field: problem` in English, as the API and [`FieldError::from_line`] read it; a problem
    /// of the whole input (no field) is its sentence alone.
    pub fn line(&self) -> String {
        if self.field.is_empty() {
            self.english.clone()
        } else {
            format!("{}: {}", self.field, self.english)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_its_field_only_when_the_prefix_is_a_name() {
        assert_eq!(FieldError::from_line("rows[2].badge: unknown"), FieldError::new("rows[2].badge", "unknown"));
        assert_eq!(FieldError::from_line("ZA-0001: no key").field, "");
        assert_eq!(FieldError::from_line("2026-01-01: a holiday").field, "");
        assert_eq!(FieldError::from_line("plain sentence").to_string(), "plain sentence");
        assert_eq!(FieldError::new("name", "required").to_string(), "name: required");
        // a problem of the whole input reads as its sentence, not ": sentence"
        assert_eq!(Problem::plain("", "k", "the rule has no condition").line(), "the rule has no condition");
        assert_eq!(FieldError::from_line(&Problem::plain("", "k", "x").line()), FieldError::new("", "x"));
    }
}
