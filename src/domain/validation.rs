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
    }
}
