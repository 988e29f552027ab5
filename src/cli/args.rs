//! The command line, declared with clap: every subcommand has its own `--help`, and a wrong
//! word or option is answered with what was expected (exit status 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "lawcert",
    version,
    about = "Training and certification exams for a public-security bureau",
    after_help = "The database is DATABASE_URL (default: the SQLite file lawcert.db). Settings: see README.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (what `lawcert` alone does)
    Serve,
    /// Question banks: check the shipped files, import a file, write the Excel template
    #[command(subcommand)]
    Bank(BankCommand),
    /// The audit log's hash chain: verify it, write a signed checkpoint of its head
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Administrator accounts
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Consistent copy of the running SQLite database, checked
    Backup {
        /// where to write the copy
        file: PathBuf,
    },
    /// Replace the SQLite database with a checked backup (server stopped)
    Restore {
        /// the backup to restore
        file: PathBuf,
    },
    /// Rasch calibration (joint ML) of a response file without a database: item difficulties
    /// with SE, counts, fit and flags, person abilities. Or, with --simulate, the calibration
    /// benchmark on simulated pool-drawn papers, with recovery against the truth.
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "simulate"])))]
pub struct CalibrateArgs {
    /// CSV with the header person,item,score (score 0/1 or the fraction of the item's points)
    pub file: Option<PathBuf>,
    /// machine-readable output
    #[arg(long)]
    pub json: bool,
    /// fix these items' difficulties (CSV item,difficulty), to keep an earlier scale
    #[arg(long, value_name = "ANCHORS.csv")]
    pub anchors: Option<PathBuf>,
    /// flag items too easy or too hard for this ability (logits)
    #[arg(long, value_name = "LOGITS", allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// simulate PERSONS candidates, each answering PAPER items drawn from a POOL
    #[arg(long, num_args = 3, value_names = ["PERSONS", "POOL", "PAPER"])]
    pub simulate: Option<Vec<usize>>,
    /// random seed of the simulation
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Validate the question banks in DIR and summarise them, with the item-writing linter;
    /// exit status 1 when a file is invalid or wording cues pass the limits
    Check {
        /// folder of bank files (questions/)
        dir: PathBuf,
        /// machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Import questions from a .toml, .xlsx, Moodle .xml, .gift or Aiken .txt file into the
    /// database as drafts, all or nothing. Plain Aiken, GIFT and Moodle files without citations
    /// or explanations import as incomplete drafts.
    Import(ImportArgs),
    /// Write the Excel import template
    Template {
        /// the .xlsx file to write
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// the file to import
    pub file: PathBuf,
    /// check and report, store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// the trainer the drafts are written by (badge)
    #[arg(long = "as", value_name = "BADGE")]
    pub author: Option<String>,
    /// statute code, for files that do not say (as on the import page)
    #[arg(long)]
    pub statute: Option<String>,
    /// statute edition, for files that do not say
    #[arg(long)]
    pub edition: Option<String>,
    /// difficulty 1–5, for files that do not say
    #[arg(long)]
    pub difficulty: Option<String>,
    /// levels (basic,intermediate,advanced), for files that do not say
    #[arg(long)]
    pub levels: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; names the first broken entry
    Verify {
        /// a signed checkpoint file (or N:HASH, a published head): also finds newest entries
        /// deleted since it was taken
        #[arg(long, value_name = "CHECKPOINT")]
        against: Option<String>,
    },
    /// Write a signed checkpoint of the audit log's head (entry number and hash), to keep away
    /// from the server
    Checkpoint {
        /// write it here instead of to standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator (the first one of a new site). The password is typed when asked
    /// (not shown) or read from the first line of stdin, never taken from the command line.
    Create(AdminArgs),
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// the administrator's badge number (required)
    pub badge: Option<String>,
    /// full name (default: 系统管理员)
    #[arg(long)]
    pub name: Option<String>,
    /// unit the account belongs to (default: the bureau)
    #[arg(long)]
    pub unit: Option<String>,
    /// e-mail address for notices
    #[arg(long)]
    pub email: Option<String>,
    /// refused: a password on the command line stays in the shell history and the process list
    #[arg(long, short = 'p', hide = true, num_args = 0..=1, value_name = "PASSWORD")]
    pub password: Option<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_its_own_help_and_bad_words_are_refused() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let help = Cli::try_parse_from(["lawcert", "bank", "import", "--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("--dry-run"), "{help}");
        let bad = Cli::try_parse_from(["lawcert", "bank", "import", "a.toml", "--colour", "x"]).unwrap_err();
        assert_eq!(bad.exit_code(), 2);
        assert!(Cli::try_parse_from(["lawcert", "bank", "chek", "questions"]).is_err());
    }

    #[test]
    fn calibrate_takes_a_file_or_a_simulation_not_both() {
        let cli = Cli::try_parse_from(["lawcert", "calibrate", "x.csv", "--json", "--target", "-0.5"]).unwrap();
        let Some(Command::Calibrate(a)) = cli.command else { panic!("not calibrate") };
        assert_eq!((a.file, a.json, a.target), (Some(PathBuf::from("x.csv")), true, Some(-0.5)));
        let cli = Cli::try_parse_from(["lawcert", "calibrate", "--simulate", "10", "30", "5", "--seed", "4"]).unwrap();
        let Some(Command::Calibrate(a)) = cli.command else { panic!("not calibrate") };
        assert_eq!((a.simulate, a.seed), (Some(vec![10, 30, 5]), 4));
        assert!(Cli::try_parse_from(["lawcert", "calibrate"]).is_err(), "a file or --simulate is needed");
        assert!(Cli::try_parse_from(["lawcert", "calibrate", "a.csv", "--simulate", "1", "2", "1"]).is_err());
        assert!(Cli::try_parse_from(["lawcert", "calibrate", "a.csv", "b.csv"]).is_err());
        assert!(Cli::try_parse_from(["lawcert", "calibrate", "a.csv", "--target", "x"]).is_err());
    }

    #[test]
    fn import_options_in_any_order() {
        let cli = Cli::try_parse_from(["lawcert", "bank", "import", "--levels", "basic", "f.xlsx", "--dry-run", "--as", "T0001"]).unwrap();
        let Some(Command::Bank(BankCommand::Import(a))) = cli.command else { panic!("not an import") };
        assert_eq!(a.file, PathBuf::from("f.xlsx"));
        assert!(a.dry_run);
        assert_eq!(a.author.as_deref(), Some("T0001"));
        assert_eq!(a.levels.as_deref(), Some("basic"));
    }

    #[test]
    fn admin_options_parse_and_a_password_is_noticed_to_be_refused() {
        let cli = Cli::try_parse_from(["lawcert", "admin", "create", "chief01", "--unit", "市局", "--name", "张三"]).unwrap();
        let Some(Command::Admin(AdminCommand::Create(a))) = cli.command else { panic!("not admin create") };
        assert_eq!((a.badge.as_deref(), a.unit.as_deref(), a.name.as_deref()), (Some("chief01"), Some("市局"), Some("张三")));
        assert!(a.password.is_none());
        for args in [
            &["lawcert", "admin", "create", "c1", "--password", "x"][..],
            &["lawcert", "admin", "create", "--password=x", "c1"],
            &["lawcert", "admin", "create", "c1", "-p"],
        ] {
            let Some(Command::Admin(AdminCommand::Create(a))) = Cli::try_parse_from(args).unwrap().command else { panic!() };
            assert!(a.password.is_some(), "{args:?}");
        }
    }
}
