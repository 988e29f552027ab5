//! The first start of a bureau's site: whether the demo bureau goes into a database, and what
//! the start message says. (A first administrator's password follows the rules of every
//! account: `domain::accounts::check_new_password`.) No HTTP, no SQL.

/// The password every demo account has; it is published (README, banner), so no real account
/// may use it.
pub const DEMO_PASSWORD: &str = "lawcert-demo";

/// A badge (警号, the sign-in name): 1–32 ASCII letters or digits, as for every account.
pub fn check_badge(badge: &str) -> Result<(), String> {
    let b = badge.trim();
    if b.is_empty() || b.len() > 32 || !b.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("badge {b:?}: 1–32 letters or digits"));
    }
    Ok(())
}

/// Whether this start seeds the demo bureau: only when it is wanted and the database was
/// created by this very start (a new SQLite file, an empty PostgreSQL database). An existing
/// database never receives demo accounts, whatever it holds.
pub fn seeds_demo(wanted: bool, database_created_now: bool) -> bool {
    wanted && database_created_now
}

/// What the start message is built from.
#[derive(Clone, Debug)]
pub struct StartFacts {
    /// e.g. `http://127.0.0.1:8000/`
    pub address: String,
    /// The database holds the demo bureau (its settings row says so).
    pub demo: bool,
    /// Accounts in the database.
    pub accounts: i64,
    /// How this program is invoked (`lawcert`, `target/debug/lawcert`, …).
    pub program: String,
    /// `DATABASE_URL` was set for this start (the command must be run with the same one).
    pub database_from_env: bool,
}

/// The exact command that creates the first administrator.
pub fn admin_command(program: &str) -> String {
    format!("{program} admin create BADGE")
}

/// The message printed when the server is up.
pub fn start_message(f: &StartFacts) -> String {
    let mut out = format!("\nlawcert is running: open {}", f.address);
    if f.demo {
        let rule = "!".repeat(78);
        out.push_str(" and sign in.\n\n");
        out.push_str(&format!("{rule}\n"));
        out.push_str("!!  THIS IS A DEMO DATABASE — 演示数据库\n");
        out.push_str(&format!("!!  Every demo account (admin, T0001, T0002, H0001, L0001, 100001–100030) has the\n!!  PUBLIC password {DEMO_PASSWORD}: anyone can sign in, as an administrator too.\n"));
        out.push_str("!!  Do not enter real officers or real exams. For a real bureau, start on a new\n");
        out.push_str(&format!(
            "!!  database with LAWCERT_DEMO=0 and create its first administrator with\n!!      {}\n",
            admin_command(&f.program)
        ));
        out.push_str(&format!("{rule}\n"));
    } else if f.accounts == 0 {
        out.push_str(".\n\nThere are no accounts yet. Create the first administrator");
        if f.database_from_env {
            out.push_str(" (with the same DATABASE_URL)");
        }
        out.push_str(": the password is asked for, never given on the command line:\n\n");
        out.push_str(&format!("    {}\n\n", admin_command(&f.program)));
        out.push_str("then sign in with that badge.\n");
    } else {
        out.push_str(" and sign in.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_are_letters_and_digits() {
        assert!(check_badge("admin").is_ok());
        assert!(check_badge("A-1").is_err());
        assert!(check_badge("").is_err());
        assert!(check_badge(&"1".repeat(33)).is_err());
    }

    #[test]
    fn the_demo_goes_only_into_a_database_created_now() {
        assert!(seeds_demo(true, true));
        assert!(!seeds_demo(true, false), "never into an existing database");
        assert!(!seeds_demo(false, true));
    }

    fn facts(demo: bool, accounts: i64) -> StartFacts {
        StartFacts { address: "http://127.0.0.1:8000/".into(), demo, accounts, program: "lawcert".into(), database_from_env: false }
    }

    #[test]
    fn the_start_message_says_demo_loudly_or_how_to_make_the_first_admin() {
        let demo = start_message(&facts(true, 35));
        assert!(demo.contains("DEMO DATABASE") && demo.contains("PUBLIC password lawcert-demo"), "{demo}");
        let empty = start_message(&facts(false, 0));
        assert!(empty.contains("lawcert admin create BADGE") && empty.contains("no accounts"), "{empty}");
        assert!(!empty.contains(DEMO_PASSWORD) && !empty.to_lowercase().contains("demo"), "no demo accounts advertised: {empty}");
        let real = start_message(&facts(false, 12));
        assert!(!real.to_lowercase().contains("demo") && !real.contains("admin create"), "{real}");
        let mut f = facts(false, 0);
        f.database_from_env = true;
        assert!(start_message(&f).contains("same DATABASE_URL"));
    }
}
