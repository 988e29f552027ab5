//! Command line: `lawcert` serves; `lawcert bank check DIR [--json]` validates banks.

use std::path::Path;

use anyhow::Context;
use rocket::figment::Figment;

use crate::config::Config;
use crate::domain::item_lint::{self, LintLimits, LintReport};

pub const USAGE: &str = "\
usage:
  lawcert [serve]                     start the web server (settings: see README.md)
  lawcert bank check DIR [--json]     validate the question banks in DIR and summarise them
  lawcert bank import FILE [--dry-run] [--as BADGE] [--statute S] [--edition E]
                         [--difficulty D] [--levels L]
                                      import questions from a .toml, .xlsx, Moodle .xml, .gift or
                                      Aiken .txt file into the database as drafts (all or nothing);
                                      --statute … give what the file does not (as on the import
                                      page); plain Aiken, GIFT and Moodle files without citations or
                                      explanations import as incomplete drafts
  lawcert bank template FILE.xlsx     write the Excel import template
  lawcert audit verify                check the audit log's hash chain; names the first broken entry
  lawcert backup FILE                 consistent copy of the running SQLite database, checked
  lawcert restore FILE                replace the SQLite database with a checked backup (server stopped)
  lawcert help                        this text

The database is DATABASE_URL (default: the SQLite file lawcert.db).";

/// Rocket's settings plus a secret key: the configured one, or one generated on first start
/// and kept in `config.secret_file` (never a fixed or predictable key).
pub fn figment_with_secret(config: &Config) -> anyhow::Result<Figment> {
    let mut figment = rocket::Config::figment().merge(("limits.data-form", "8MiB")).merge(("limits.file", "5MiB"));
    // Rocket trusts X-Real-IP by default, which lets any client claim an exam-room address:
    // only honour a client-IP header when the operator names one (behind their own proxy).
    if std::env::var_os("ROCKET_IP_HEADER").is_none() {
        figment = figment.merge(("ip_header", false));
    }
    // Rocket's own defaults carry a placeholder key; only an operator-provided one counts.
    let configured = figment.find_metadata("secret_key").is_some_and(|m| !m.name.to_lowercase().contains("default"));
    if configured {
        return Ok(figment);
    }
    let key = load_or_create_secret(&config.secret_file)?;
    Ok(figment.merge(("secret_key", key)))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let k = existing.trim().to_string();
        anyhow::ensure!(k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()), "secret key file {} is damaged: delete it to make a new one", path.display());
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
                println!("{:<34} {:>5} {:>5}  {:<34} {:<38} {:<14} editions", "statute", "total", "live", "by type", "by level", "by difficulty");
                for s in &summary.statutes {
                    let fmt = |m: &std::collections::BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
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
                    println!("{:<34} {:>5} {:>5}  {:<34} {:<38} {:<14} {}{notes}", format!("{} ({})", s.name, s.statute), s.questions, s.live, fmt(&s.by_type), fmt(&s.by_level), fmt(&s.by_difficulty), fmt(&s.by_edition));
                }
                println!("\n{} questions, {} case groups with {} items: all valid; {} live", summary.questions, summary.case_groups, summary.case_items, summary.live);
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
        format!(" (left out: {} superseded, {} drafts, {} retired, {} in case groups not whole)", e.superseded, e.drafts, e.retired, e.case_held)
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
    let by_type: Vec<String> = r.overall.cue_score_by_type.iter().map(|(k, c)| format!("{k} {:.1}% vs {:.1}% ({:+.1})", c.cue_only, c.chance, c.over_chance)).collect();
    let _ = writeln!(out, "cue-only vs chance by type: {}", by_type.join("; "));
    if r.duplicates.is_empty() {
        let _ = writeln!(out, "duplicates: none");
    } else {
        let _ = writeln!(out, "duplicates ({}):", r.duplicates.len());
        for d in &r.duplicates {
            let _ = writeln!(out, "  {} ({}) ~ {} ({}): {}, similarity {:.2}", d.first, d.first_file, d.second, d.second_file, d.kind, d.similarity);
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

#[cfg(test)]
mod tests {
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

/// Opens the configured database (DATABASE_URL or the default SQLite file) as the server
/// would: migrated, with the shipped banks and statutes loaded (no demo accounts).
fn open_database() -> anyhow::Result<crate::db::Pool> {
    let mut config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    config.demo = false;
    config.pool_size = 2;
    crate::prepare(&config, &crate::clock::Clock::default())
}

/// `lawcert audit verify`: checks the whole hash chain and names the first broken entry.
pub fn audit_verify() -> i32 {
    let run = || -> anyhow::Result<Result<usize, crate::domain::audit::Break>> {
        let pool = open_database()?;
        let mut conn = pool.get()?;
        let mut verifier = crate::domain::audit::ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = crate::db::models::audit::page(&mut conn, after, 5000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for e in &page {
                if let Err(b) = verifier.push(e) {
                    return Ok(Err(b));
                }
            }
        }
        Ok(Ok(verifier.checked))
    };
    match run() {
        Ok(Ok(n)) => {
            println!("audit log intact: {n} entries verified");
            0
        }
        Ok(Err(b)) => {
            eprintln!("audit log BROKEN at entry {}: {}", b.id, b.reason);
            1
        }
        Err(e) => {
            eprintln!("audit verify: {e:#}");
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
            Some(b) => Some(
                crate::db::models::org::find_by_badge(&mut conn, b)?.ok_or_else(|| anyhow::anyhow!("--as {b}: no such account"))?.id,
            ),
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
                println!("{}: {}: incomplete: no {} yet (fill in before review)", file.display(), e.location, e.incomplete.join(" and no "));
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
            println!("{} of them are incomplete drafts: fill in their citation and explanation (题库 → edit) before review", counts.incomplete);
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
                let _ = crate::db::restart_log(&mut *pool.get()?);
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
