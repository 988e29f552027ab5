//! Command line: `lawcert` serves; the subcommands (`args`) check and import banks, verify the
//! audit log, create the first administrator, back up and restore. Each returns its exit status.

pub mod args;
pub mod calibrate;

use std::path::Path;

use anyhow::Context;
use rocket::figment::Figment;

use crate::config::Config;
use crate::domain::item_lint::{self, LintLimits, LintReport};

/// Rocket's settings plus a secret key: the configured one, or one generated on first start
/// and kept in `config.secret_file` (never a fixed or predictable key).
pub fn figment_with_secret(config: &Config) -> anyhow::Result<Figment> {
    let mut figment = rocket::Config::figment().merge(("limits.data-form", "8MiB")).merge(("limits.file", "5MiB"));
    // Rocket trusts X-Real-IP by default, which lets any client claim an exam-room address:
    // only honour a client-IP header when the operator names one (behind their own proxy).
    if std::env::var_os("ROCKET_IP_HEADER").is_none() {
        figment = figment.merge(("ip_header", false));
    }
    if configured_secret(&figment).is_some() {
        return Ok(figment);
    }
    let key = load_or_create_secret(&config.secret_file)?;
    Ok(figment.merge(("secret_key", key)))
}

/// The secret key an operator configured in `figment` (`ROCKET_SECRET_KEY`, Rocket.toml, or
/// merged in by `figment_with_secret`). Rocket's own defaults carry a placeholder key, which
/// does not count.
pub fn configured_secret(figment: &Figment) -> Option<String> {
    let configured = figment.find_metadata("secret_key").is_some_and(|m| !m.name.to_lowercase().contains("default"));
    configured.then(|| figment.extract_inner::<String>("secret_key").ok()).flatten().filter(|k| !k.trim().is_empty())
}

/// The server's secret key as the server has it: configured, or kept in the secret file. Never
/// generates one here: a new key could not check a checkpoint signed before.
fn existing_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(k) = configured_secret(&rocket::Config::figment()) {
        return Ok(k);
    }
    if config.secret_file.exists() {
        return load_or_create_secret(&config.secret_file);
    }
    anyhow::bail!(
        "no server secret key: set ROCKET_SECRET_KEY as the server has it, or run where the server keeps {}",
        config.secret_file.display()
    )
}

/// The key that signs and checks audit checkpoints, from the server's secret key.
fn checkpoint_key(config: &Config) -> anyhow::Result<[u8; 32]> {
    Ok(crate::domain::audit::checkpoint_key(&existing_secret(config)?))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let k = existing.trim().to_string();
        anyhow::ensure!(
            k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()),
            "secret key file {} is damaged: delete it to make a new one",
            path.display()
        );
        return Ok(k);
    }
    let key = crate::auth::random_token();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, &key).with_context(|| format!("writing the secret key to {}", path.display()))?;
    println!("generated a secret key for cookies and kept it in {}", path.display());
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, data: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &str) -> std::io::Result<()> {
    std::fs::write(path, data)
}

/// `lawcert bank check DIR [--json]`: exit code 0 when every file is valid and the item-writing
/// check passes its limits ([`LintLimits::default`], documented in `questions/README.md`).
pub fn bank_check(dir: &Path, json: bool) -> i32 {
    bank_check_with(dir, json, &LintLimits::default())
}

/// `bank check` with the given limits.
pub fn bank_check_with(dir: &Path, json: bool, limits: &LintLimits) -> i32 {
    match crate::domain::bank::load_dir(dir) {
        Ok(bank) => {
            let summary = bank.summary();
            let lint = item_lint::lint_bank(&bank, limits);
            if json {
                let mut out = serde_json::to_value(&summary).expect("json");
                out["lint"] = serde_json::to_value(&lint).expect("json");
                out["passed"] = lint.passed().into();
                println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            } else {
                println!(
                    "{:<34} {:>5} {:>5}  {:<34} {:<38} {:<14} editions",
                    "statute", "total", "live", "by type", "by level", "by difficulty"
                );
                for s in &summary.statutes {
                    let fmt = |m: &std::collections::BTreeMap<String, usize>| {
                        m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
                    };
                    let mut notes = Vec::new();
                    if s.superseded > 0 {
                        notes.push(format!("{} on a superseded edition", s.superseded));
                    }
                    if s.retired > 0 {
                        notes.push(format!("{} retired", s.retired));
                    }
                    if s.drafts > 0 {
                        notes.push(format!("{} drafts", s.drafts));
                    }
                    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
                    println!(
                        "{:<34} {:>5} {:>5}  {:<34} {:<38} {:<14} {}{notes}",
                        format!("{} ({})", s.name, s.statute),
                        s.questions,
                        s.live,
                        fmt(&s.by_type),
                        fmt(&s.by_level),
                        fmt(&s.by_difficulty),
                        fmt(&s.by_edition)
                    );
                }
                println!(
                    "\n{} questions, {} case groups with {} items: all valid; {} live",
                    summary.questions, summary.case_groups, summary.case_items, summary.live
                );
                print!("{}", lint_text(&lint, "questions in use"));
            }
            i32::from(!lint.passed())
        }
        Err(errs) => {
            if json {
                let out = serde_json::json!({"valid": false, "errors": errs});
                println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            } else {
                for e in &errs {
                    eprintln!("{e}");
                }
                eprintln!("\n{} error(s): the bank would not load", errs.len());
            }
            1
        }
    }
}

/// The item-writing report as text: one line per bank file and overall, then duplicates and
/// the figures past their limits.
pub fn lint_text(r: &LintReport, scope: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let e = &r.excluded;
    let left_out = if *e == item_lint::Excluded::default() {
        String::new()
    } else {
        format!(
            " (left out: {} superseded, {} drafts, {} retired, {} in case groups not whole)",
            e.superseded, e.drafts, e.retired, e.case_held
        )
    };
    let _ = writeln!(out, "\nitem-writing check over the {} {scope}{left_out}", r.overall.questions);
    let rate = |x: &item_lint::Rate| match x.percent {
        Some(p) => format!("{}/{} {p:.0}%", x.n, x.of),
        None => "-".into(),
    };
    let _ = writeln!(
        out,
        "{:<40} {:>4}  {:<13} {:<22} {:<12} {:<12} {:<12} {:>4}  {:<12} cue-only vs chance",
        "bank file", "n", "longest key", "absolute: keys (all)", "abs. T/F", "all-but-one", "T/F true", "neg.", "key letters"
    );
    for g in r.by_file.iter().chain(std::iter::once(&r.overall)) {
        let chance = r_pct(g.keys_among_options.percent);
        let letters: String = g.key_positions.iter().map(|(k, n)| format!("{k}{n}")).collect::<Vec<_>>().join(" ");
        let c = &g.cue_score;
        let _ = writeln!(
            out,
            "{:<40} {:>4}  {:<13} {:<22} {:<12} {:<12} {:<12} {:>4}  {:<12} {:.1}% vs {:.1}% ({:+.1})",
            g.name,
            g.questions,
            rate(&g.longest_key),
            format!("{} ({chance})", rate(&g.absolute_options_keys)),
            rate(&g.absolute_truefalse_true),
            rate(&g.all_but_one),
            rate(&g.truefalse_true),
            g.negative_unemphasised.len(),
            letters,
            c.cue_only,
            c.chance,
            c.over_chance
        );
    }
    let by_type: Vec<String> = r
        .overall
        .cue_score_by_type
        .iter()
        .map(|(k, c)| format!("{k} {:.1}% vs {:.1}% ({:+.1})", c.cue_only, c.chance, c.over_chance))
        .collect();
    let _ = writeln!(out, "cue-only vs chance by type: {}", by_type.join("; "));
    if r.duplicates.is_empty() {
        let _ = writeln!(out, "duplicates: none");
    } else {
        let _ = writeln!(out, "duplicates ({}):", r.duplicates.len());
        for d in &r.duplicates {
            let _ = writeln!(
                out,
                "  {} ({}) ~ {} ({}): {}, similarity {:.2}",
                d.first, d.first_file, d.second, d.second_file, d.kind, d.similarity
            );
        }
    }
    if r.passed() {
        let _ = writeln!(out, "item-writing check: no figure past its limit");
    } else {
        let _ = writeln!(out, "item-writing check FAILED: {} figure(s) past their limits (questions/README.md):", r.violations.len());
        for v in &r.violations {
            let _ = writeln!(out, "  {}: {}: {}", v.scope, v.rule, v.message);
        }
    }
    out
}

fn r_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.0}%")).unwrap_or_else(|| "-".into())
}

/// Opens the configured database (DATABASE_URL or the default SQLite file) as the server
/// would: migrated, with the shipped banks and statutes loaded (no demo accounts).
fn open_database() -> anyhow::Result<crate::db::Pool> {
    let mut config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    config.demo = false;
    config.pool_size = 2;
    crate::prepare(&config, &crate::clock::Clock::default())
}

/// `lawcert audit verify [--against CHECKPOINT|N:HASH]`: checks the whole hash chain and names
/// the first broken entry; against a signed checkpoint file (or a head published as `N:HASH`,
/// e.g. in the digest e-mail or the HR feed) it also finds a deleted or rewritten tail. Exit
/// status 0 intact, 1 broken or not matching (or a forged checkpoint), 2 could not be run.
pub fn audit_verify(against: Option<&str>) -> i32 {
    use crate::domain::audit::{Checkpoint, Head};
    use crate::services::audit::{self, Failure};
    let run = || -> anyhow::Result<i32> {
        let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let published = match against {
            None => None,
            Some(a) => match Head::parse(a) {
                Some(h) => Some((h, format!("the published head {a}"))),
                None => {
                    let text = std::fs::read_to_string(a).with_context(|| format!("reading the checkpoint {a}"))?;
                    let cp = match Checkpoint::parse(&text) {
                        Ok(cp) => cp,
                        Err(e) => {
                            eprintln!("audit verify: {a}: {e}");
                            return Ok(2);
                        }
                    };
                    if let Err(e) = cp.check_signature(&checkpoint_key(&config)?) {
                        eprintln!("audit verify: {a} REFUSED: {e}");
                        return Ok(1);
                    }
                    Some((cp.head(), format!("the checkpoint taken {} (entry {})", cp.taken_at, cp.entry)))
                }
            },
        };
        let pool = open_database()?;
        let mut conn = pool.get()?;
        match audit::verify(&mut conn, published.as_ref().map(|(h, _)| h)).map_err(|e| anyhow::anyhow!(e.message))? {
            Ok(v) => {
                println!("audit log intact: {} entries verified; newest entry {} with hash {}", v.entries, v.head.entry, v.head.hash);
                if let Some((_, what)) = &published {
                    println!("and it still holds {what}");
                }
                Ok(0)
            }
            Err(Failure::Broken { entry, reason }) => {
                eprintln!("audit log BROKEN at entry {entry}: {reason}");
                Ok(1)
            }
            Err(Failure::Published(why)) => {
                let what = published.map(|(_, w)| w).unwrap_or_default();
                eprintln!("audit log does NOT match {what}: {why}");
                Ok(1)
            }
        }
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("audit verify: {e:#}");
            2
        }
    }
}

/// `lawcert audit checkpoint [--out FILE]`: verifies the chain and writes a checkpoint of its
/// head signed with a key derived from the server's secret key (to stdout, or to a new FILE).
pub fn audit_checkpoint(out: Option<&Path>) -> i32 {
    use crate::services::audit;
    let run = || -> anyhow::Result<i32> {
        let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let key = checkpoint_key(&config)?;
        let pool = open_database()?;
        let mut conn = pool.get()?;
        if let Err(f) = audit::verify(&mut conn, None).map_err(|e| anyhow::anyhow!(e.message))? {
            eprintln!("audit checkpoint: the log is {f}; no checkpoint of a broken log is signed");
            return Ok(1);
        }
        let cp = audit::checkpoint(&mut conn, &key, chrono::Utc::now().naive_utc()).map_err(|e| anyhow::anyhow!(e.message))?;
        match out {
            None => print!("{}", cp.to_file()),
            Some(path) => {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .with_context(|| format!("{}: a checkpoint never overwrites a file", path.display()))?;
                f.write_all(cp.to_file().as_bytes())?;
                println!("checkpoint of entry {} (hash {}) written to {}; keep it away from the server", cp.entry, cp.hash, path.display());
            }
        }
        Ok(0)
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("audit checkpoint: {e:#}");
            2
        }
    }
}

/// `lawcert bank import FILE [--dry-run] [--as BADGE] [--statute S] [--edition E]
/// [--difficulty D] [--levels L]`: the same preview and all-or-nothing commit as the import page,
/// with the page's defaults for what the file does not give. Exit status 0 imported (or would
/// import), 1 the file has errors, 2 it could not be run.
pub fn bank_import(file: &Path, dry_run: bool, author_badge: Option<&str>, defaults: &crate::domain::formats::Defaults) -> i32 {
    use crate::domain::formats::Format;
    use crate::services::bank_import;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some(format) = Format::from_filename(&name) else {
        eprintln!("{}: cannot tell the format; use .xlsx, .xml (Moodle), .gift, .txt (Aiken) or .toml", file.display());
        return 2;
    };
    let bytes = match std::fs::metadata(file).and_then(|m| {
        if m.len() > 50 * 1024 * 1024 {
            Err(std::io::Error::other("larger than 50 MB"))
        } else {
            std::fs::read(file)
        }
    }) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return 2;
        }
    };
    let run = || -> anyhow::Result<i32> {
        let pool = open_database()?;
        let mut conn = pool.get()?;
        let author = match author_badge {
            Some(b) => {
                Some(crate::db::models::org::find_by_badge(&mut conn, b)?.ok_or_else(|| anyhow::anyhow!("--as {b}: no such account"))?.id)
            }
            None => None,
        };
        let p = bank_import::preview(&mut conn, format, &name, &bytes, defaults).map_err(|e| anyhow::anyhow!(e.message))?;
        for e in &p.parsed.file_errors {
            println!("{}: {e}", file.display());
        }
        for (e, change) in p.parsed.entries.iter().zip(&p.changes) {
            let what = serde_json::to_value(change).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            println!("{}: {} {} {}", e.location, e.code, e.content.kind, what);
            for err in &e.errors {
                println!("{}: {}: error: {err}", file.display(), e.location);
            }
            if !e.incomplete.is_empty() && e.errors.is_empty() {
                println!(
                    "{}: {}: incomplete: no {} yet (fill in before review)",
                    file.display(),
                    e.location,
                    e.incomplete.join(" and no ")
                );
            }
        }
        for u in &p.parsed.unsupported {
            println!("{}: {}: unsupported question type {} ({}), not imported", file.display(), u.location, u.kind, u.title);
        }
        let c = &p.counts;
        println!(
            "{}: {} new, {} new versions, {} unchanged, {} with errors, {} unsupported, {} incomplete",
            file.display(),
            c.new,
            c.new_versions,
            c.unchanged,
            c.refused,
            c.unsupported,
            c.incomplete
        );
        let items: Vec<crate::domain::item_lint::LintItem<'_>> = p
            .parsed
            .entries
            .iter()
            .map(|e| crate::domain::item_lint::LintItem {
                code: &e.code,
                file: name.clone(),
                statute: e.content.statute.clone(),
                content: &e.content,
                case: e.case.as_ref().map(|c| (c.code.as_str(), c.text.as_str())),
            })
            .collect();
        if !items.is_empty() {
            print!("{}", lint_text(&item_lint::lint(&items, &LintLimits::report_only()), "questions in the file (reported, not judged)"));
        }
        if !p.committable() {
            println!("nothing imported: {} error(s)", p.parsed.error_count());
            return Ok(1);
        }
        if dry_run {
            println!("dry run: nothing imported");
            return Ok(0);
        }
        let now = chrono::Utc::now().naive_utc();
        let counts = crate::db::write_tx(&mut conn, |c| {
            let counts = bank_import::commit_as(c, format, &name, &bytes, defaults, author, now)?;
            Ok::<_, crate::error::AppError>(counts)
        })
        .map_err(|e| anyhow::anyhow!(e.message))?;
        println!("imported: {} new and {} new versions, as drafts awaiting review", counts.new, counts.new_versions);
        if counts.incomplete > 0 {
            println!(
                "{} of them are incomplete drafts: fill in their citation and explanation (题库 → edit) before review",
                counts.incomplete
            );
        }
        Ok(0)
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bank import: {e:#}");
            2
        }
    }
}

/// `lawcert bank template FILE.xlsx`: writes the Excel import template.
pub fn bank_template(out: &Path) -> i32 {
    match std::fs::write(out, crate::domain::formats::xlsx_template()) {
        Ok(()) => {
            println!("wrote {}", out.display());
            0
        }
        Err(e) => {
            eprintln!("{}: {e}", out.display());
            2
        }
    }
}

/// `lawcert backup FILE`: a consistent copy of the running SQLite database, checked.
pub fn backup(dest: &Path) -> i32 {
    let run = || -> anyhow::Result<(i64, i64)> {
        let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let pool = crate::db::connect(&config.database, 1)?;
        crate::db::sqlite_backup(&mut *pool.get()?, dest)?;
        crate::db::sqlite_check_backup(dest)
    };
    match run() {
        Ok((m, a)) => {
            println!("backup written to {} and checked ({m} migrations, {a} audit entries)", dest.display());
            0
        }
        Err(e) => {
            eprintln!("backup: {e:#}");
            2
        }
    }
}

/// `lawcert restore FILE`: replaces the configured SQLite database with a checked backup.
/// Run it with the server stopped; the database it replaces is kept beside it.
pub fn restore(src: &Path) -> i32 {
    let run = || -> anyhow::Result<String> {
        let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if config.database.backend != crate::db::Backend::Sqlite {
            anyhow::bail!("lawcert restore brings back SQLite databases; restore PostgreSQL with pg_restore (see README.md)");
        }
        let (m, a) = crate::db::sqlite_check_backup(src)?;
        let target = Path::new(&config.database.target);
        let staged = target.with_extension("restoring");
        std::fs::copy(src, &staged)?;
        let mut kept = String::new();
        if target.exists() {
            let old = target.with_extension(format!("before-restore-{}", chrono::Utc::now().format("%Y%m%d%H%M%S")));
            // fold the live log into the old file first, so what is kept is whole
            if let Ok(pool) = crate::db::connect(&config.database, 1) {
                let _ = crate::db::restart_log(&mut *pool.get()?, true);
            }
            std::fs::rename(target, &old)?;
            kept = format!("; the database it replaced is kept as {}", old.display());
        }
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
        std::fs::rename(&staged, target)?;
        // migrations a newer lawcert added are applied now
        crate::db::connect(&config.database, 1)?;
        Ok(format!("restored {} ({m} migrations, {a} audit entries) into {}{kept}", src.display(), target.display()))
    };
    match run() {
        Ok(msg) => {
            println!("{msg}");
            0
        }
        Err(e) => {
            eprintln!("restore: {e:#}");
            2
        }
    }
}

fn without_line_end(mut line: String) -> String {
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    line
}

/// Asks a question on the terminal; an empty answer is `default`.
fn ask(question: &str, default: &str) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    if default.is_empty() {
        eprint!("{question}: ");
    } else {
        eprint!("{question} [{default}]: ");
    }
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let answer = without_line_end(line).trim().to_string();
    Ok(if answer.is_empty() { default.to_string() } else { answer })
}

/// Reads a line from the terminal without showing it.
#[cfg(unix)]
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    struct Restore(libc::termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: stdin is a terminal (checked by the caller); restores the saved settings.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.0) };
        }
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    // SAFETY: termios is plain data; tcgetattr fills it for fd 0 or fails.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(0, &mut term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let _restore = Restore(term);
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: sets fd 0's attributes from a valid termios.
    if unsafe { libc::tcsetattr(0, libc::TCSANOW, &term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(without_line_end(line))
}

#[cfg(not(unix))]
fn read_hidden(_prompt: &str) -> std::io::Result<String> {
    Err(std::io::Error::other("cannot hide typing on this system: give the password on the first line of stdin instead"))
}

/// `lawcert admin create BADGE`: creates an administrator, audited. On a terminal it asks for
/// the name, unit and e-mail (with defaults) and the password twice without showing it;
/// otherwise the password is the first line of stdin and the rest come from the options or
/// their defaults. Exit status 0 created, 1 refused (weak password, badge taken, no such
/// unit), 2 could not be run.
pub fn admin_create(flags: &args::AdminArgs) -> i32 {
    use std::io::{BufRead, IsTerminal};

    use crate::services::setup::{self, AdminInput};
    if flags.password.is_some() {
        eprintln!(
            "lawcert admin create never takes a password on the command line (it would stay in the shell history and the process \
             list): type it when asked, or give it on the first line of stdin"
        );
        return 2;
    }
    let Some(badge) = flags.badge.as_deref() else {
        eprintln!("admin create: give the badge: lawcert admin create BADGE [options]");
        return 2;
    };
    if let Err(e) = crate::domain::setup::check_badge(badge) {
        eprintln!("admin create: {e}");
        return 1;
    }
    let run = || -> anyhow::Result<i32> {
        let pool = open_database()?;
        let mut conn = pool.get()?;
        if crate::db::models::org::find_by_badge(&mut conn, badge.trim())?.is_some() {
            eprintln!("admin create: an account with badge {} exists already", badge.trim());
            return Ok(1);
        }
        let mut input = AdminInput {
            badge: badge.trim().to_string(),
            name: flags.name.clone().unwrap_or_default(),
            unit: flags.unit.clone().unwrap_or_default(),
            email: flags.email.clone().unwrap_or_default(),
            password: String::new(),
        };
        if std::io::stdin().is_terminal() {
            let unit =
                setup::default_unit(&mut conn).map_err(|e| anyhow::anyhow!(e.message))?.unwrap_or_else(|| setup::DEFAULT_UNIT.into());
            if flags.name.is_none() {
                input.name = ask("Name (姓名)", setup::DEFAULT_NAME)?;
            }
            if flags.unit.is_none() {
                input.unit = ask("Unit (单位)", &unit)?;
            }
            if flags.email.is_none() {
                input.email = ask("E-mail for the daily audit digest (optional)", "")?;
            }
            let mut tries = 0;
            input.password = loop {
                tries += 1;
                let first =
                    read_hidden(&format!("Password (at least {} characters, not shown): ", crate::domain::accounts::MIN_PASSWORD_CHARS))?;
                if let Err(why) = setup::password_problems(&input.badge, &first) {
                    eprintln!("{why}");
                } else if read_hidden("The same password again: ")? != first {
                    eprintln!("the two passwords differ");
                } else {
                    break first;
                }
                if tries == 3 {
                    eprintln!("admin create: no account created");
                    return Ok(1);
                }
            };
        } else {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            input.password = without_line_end(line);
            if input.password.is_empty() {
                eprintln!("admin create: no password: type it on a terminal, or give it on the first line of stdin");
                return Ok(1);
            }
        }
        let now = chrono::Utc::now().naive_utc();
        match setup::create_admin(&mut conn, &input, now) {
            Ok(a) => {
                let unit_note = if a.unit_created { " (a new top unit)" } else { "" };
                println!(
                    "created administrator {} ({}) in {}{unit_note}; the creation is in the audit log. Sign in with badge {}.",
                    a.badge, a.name, a.unit, a.badge
                );
                Ok(0)
            }
            Err(e) if e.http_status() < 500 => {
                eprintln!("admin create: {}; no account created", e.message);
                Ok(1)
            }
            Err(e) => Err(anyhow::anyhow!(e.message)),
        }
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("admin create: {e:#}");
            2
        }
    }
}

/// Runs what the command line asks for; the exit status.
pub async fn run(cli: args::Cli) -> i32 {
    use args::{AdminCommand, AuditCommand, BankCommand, Command};
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Bank(BankCommand::Check { dir, json }) => bank_check(&dir, json),
        Command::Bank(BankCommand::Import(a)) => {
            let defaults = match crate::domain::formats::Defaults::from_text(
                a.statute.as_deref(),
                a.edition.as_deref(),
                a.difficulty.as_deref(),
                a.levels.as_deref(),
            ) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("bank import: {e}");
                    return 2;
                }
            };
            bank_import(&a.file, a.dry_run, a.author.as_deref(), &defaults)
        }
        Command::Bank(BankCommand::Template { file }) => bank_template(&file),
        Command::Audit(AuditCommand::Verify { against }) => audit_verify(against.as_deref()),
        Command::Audit(AuditCommand::Checkpoint { out }) => audit_checkpoint(out.as_deref()),
        Command::Admin(AdminCommand::Create(a)) => admin_create(&a),
        Command::Backup { file } => backup(&file),
        Command::Restore { file } => restore(&file),
        Command::Calibrate(a) => calibrate::execute(&a),
    }
}

async fn serve() -> i32 {
    crate::telemetry::init_logs();
    let app = match crate::rocket() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("lawcert cannot start: {e:#}");
            return 2;
        }
    };
    if let Err(e) = app.launch().await {
        eprintln!("lawcert stopped: {e}");
        return 1;
    }
    0
}

#[cfg(test)]
mod admin_tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_random_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.secret");
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_secret(&path).unwrap(), first, "kept across restarts");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let other = load_or_create_secret(&dir.path().join("other.secret")).unwrap();
        assert_ne!(first, other, "never a fixed key");
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create_secret(&path).unwrap_err().to_string().contains("damaged"));
    }
}
