//! Account rules: what a new password must be, and what an admin may do to an account.

use crate::domain::ids::UserId;
/// What a session is: a browser's sign-in (cookie, CSRF token) or an API token (bearer). A
/// token is accepted only the way its kind is presented. Stored as `sessions.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    pub const ALL: [SessionKind; 2] = [SessionKind::Web, SessionKind::Api];
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
    pub fn parse(s: &str) -> Option<SessionKind> {
        SessionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Shortest password a user may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest (argon2 hashes the whole of it; a megabyte "password" would be a denial of service).
pub const MAX_PASSWORD_CHARS: usize = 200;

/// Why a new password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    /// The published password of the demo accounts.
    DemoPassword,
    /// The badge number, which anyone can read off a duty roster.
    IsBadge,
    /// The password it replaces (a reset's one-time password must be replaced).
    Unchanged,
}

impl PasswordProblem {
    /// Catalogue key of the message (`account.problem_*`).
    pub fn key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "account.problem_short",
            PasswordProblem::TooLong => "account.problem_long",
            PasswordProblem::DemoPassword => "account.problem_demo",
            PasswordProblem::IsBadge => "account.problem_badge",
            PasswordProblem::Unchanged => "account.problem_unchanged",
        }
    }

    /// The message in English (API errors).
    pub fn message(self) -> String {
        match self {
            PasswordProblem::TooShort => format!("the new password must have at least {MIN_PASSWORD_CHARS} characters"),
            PasswordProblem::TooLong => format!("the new password must have at most {MAX_PASSWORD_CHARS} characters"),
            PasswordProblem::DemoPassword => "the new password cannot be the demo accounts' password".into(),
            PasswordProblem::IsBadge => "the new password cannot be your badge number".into(),
            PasswordProblem::Unchanged => "the new password must differ from the current one".into(),
        }
    }
}

/// Every problem with `new` as the password of `badge` (empty when acceptable). Whether it
/// equals the current password is checked against the stored hash by the caller.
pub fn check_new_password(new: &str, badge: &str, demo_password: &str) -> Vec<PasswordProblem> {
    let mut problems = Vec::new();
    let n = new.chars().count();
    if n < MIN_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooShort);
    }
    if n > MAX_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooLong);
    }
    let plain = new.trim().to_lowercase();
    if plain == demo_password.to_lowercase() {
        problems.push(PasswordProblem::DemoPassword);
    }
    if !badge.trim().is_empty() && plain == badge.trim().to_lowercase() {
        problems.push(PasswordProblem::IsBadge);
    }
    problems
}

/// Why an admin may not do something to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminRefusal {
    /// Admins change their own password themselves and do not disable themselves.
    OwnAccount,
    /// Disabling the last active admin would leave nobody to run accounts.
    LastAdmin,
}

impl AdminRefusal {
    pub fn key(self) -> &'static str {
        match self {
            AdminRefusal::OwnAccount => "account.refused_own",
            AdminRefusal::LastAdmin => "account.refused_last_admin",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            AdminRefusal::OwnAccount => "not on your own account: change your password on your account page",
            AdminRefusal::LastAdmin => "this is the last active admin account; enable or create another admin first",
        }
    }
}

/// Whether `actor` may reset `target`'s password.
pub fn may_reset(actor: UserId, target: UserId) -> Result<(), AdminRefusal> {
    if actor == target {
        return Err(AdminRefusal::OwnAccount);
    }
    Ok(())
}

/// Whether `actor` may disable `target`; `target_admin` when the target is an active admin, of
/// whom there are `active_admins`.
pub fn may_disable(actor: UserId, target: UserId, target_admin: bool, active_admins: i64) -> Result<(), AdminRefusal> {
    if actor == target {
        return Err(AdminRefusal::OwnAccount);
    }
    if target_admin && active_admins <= 1 {
        return Err(AdminRefusal::LastAdmin);
    }
    Ok(())
}

/// The part of an API token shown to its owner: its first 8 characters.
pub fn token_prefix(token: &str) -> String {
    token.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = "lawcert-demo";

    #[test]
    fn a_new_password_is_long_enough_and_not_the_demo_password_or_the_badge() {
        assert_eq!(check_new_password("correct horse battery", "100001", DEMO), vec![]);
        assert_eq!(check_new_password("short", "100001", DEMO), vec![PasswordProblem::TooShort]);
        assert_eq!(check_new_password("123456789", "100001", DEMO), vec![PasswordProblem::TooShort], "9 characters");
        assert_eq!(check_new_password("一二三四五六七八九十", "100001", DEMO), vec![], "characters, not bytes");
        assert_eq!(check_new_password("lawcert-demo", "100001", DEMO), vec![PasswordProblem::DemoPassword]);
        assert_eq!(check_new_password(" LAWCERT-DEMO ", "100001", DEMO), vec![PasswordProblem::DemoPassword]);
        assert_eq!(check_new_password("T000000001", "t000000001", DEMO), vec![PasswordProblem::IsBadge]);
        assert_eq!(check_new_password("100001", "100001", DEMO), vec![PasswordProblem::TooShort, PasswordProblem::IsBadge]);
        assert_eq!(check_new_password(&"x".repeat(201), "100001", DEMO), vec![PasswordProblem::TooLong]);
        for p in [
            PasswordProblem::TooShort,
            PasswordProblem::TooLong,
            PasswordProblem::DemoPassword,
            PasswordProblem::IsBadge,
            PasswordProblem::Unchanged,
        ] {
            assert!(p.key().starts_with("account.") && !p.message().is_empty());
        }
    }

    #[test]
    fn admins_do_not_reset_or_disable_themselves_or_the_last_admin() {
        assert_eq!(may_reset(UserId(1), UserId(1)), Err(AdminRefusal::OwnAccount));
        assert_eq!(may_reset(UserId(1), UserId(2)), Ok(()));
        assert_eq!(may_disable(UserId(1), UserId(1), true, 3), Err(AdminRefusal::OwnAccount));
        assert_eq!(may_disable(UserId(1), UserId(2), true, 1), Err(AdminRefusal::LastAdmin));
        assert_eq!(may_disable(UserId(1), UserId(2), true, 2), Ok(()));
        assert_eq!(may_disable(UserId(1), UserId(2), false, 1), Ok(()));
    }

    #[test]
    fn a_token_is_shown_by_its_first_characters_only() {
        assert_eq!(token_prefix("0123456789abcdef"), "01234567");
        assert_eq!(token_prefix("abc"), "abc");
    }
}
