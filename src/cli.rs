//! Command line: `lawcert` serves; `lawcert bank check DIR [--json]` validates banks.

use std::path::Path;

use anyhow::Context;
use rocket::figment::Figment;

use crate::config::Config;

pub const USAGE: &str = "\
usage:
  lawcert [serve]                     start the web server (settings: see README.md)
  lawcert bank check DIR [--json]     validate the question banks in DIR and summarise them
  lawcert help                        this text";

/// Rocket's settings plus a secret key: the configured one, or one generated on first start
/// and kept in `config.secret_file` (never a fixed or predictable key).
pub fn figment_with_secret(config: &Config) -> anyhow::Result<Figment> {
    let figment = rocket::Config::figment().merge(("limits.data-form", "8MiB")).merge(("limits.file", "5MiB"));
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

/// `lawcert bank check DIR [--json]`: exit code 0 when every file is valid.
pub fn bank_check(dir: &Path, json: bool) -> i32 {
    match crate::domain::bank::load_dir(dir) {
        Ok(bank) => {
            let summary = bank.summary();
            if json {
                println!("{}", serde_json::to_string_pretty(&summary).expect("json"));
            } else {
                println!("{:<34} {:>5}  {:<34} {:<38} {:<14} editions", "statute", "total", "by type", "by level", "by difficulty");
                for s in &summary.statutes {
                    let fmt = |m: &std::collections::BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
                    println!("{:<34} {:>5}  {:<34} {:<38} {:<14} {}", format!("{} ({})", s.name, s.statute), s.questions, fmt(&s.by_type), fmt(&s.by_level), fmt(&s.by_difficulty), fmt(&s.by_edition));
                }
                println!("\n{} questions, {} case groups with {} items: all valid", summary.questions, summary.case_groups, summary.case_items);
            }
            0
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
