//! Settings from the environment (and Rocket.toml for Rocket's own), validated once at start.

use std::path::PathBuf;

use crate::db::{Backend, DbUrl};

/// The application's settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: DbUrl,
    /// Folder of the shipped question banks, loaded at start.
    pub questions_dir: PathBuf,
    /// Seed the demo bureau on an empty database.
    pub demo: bool,
    /// Where a generated secret key is kept when `ROCKET_SECRET_KEY` is not set.
    pub secret_file: PathBuf,
    /// Session (cookie) and API token lifetime.
    pub session_hours: i64,
    pub token_hours: i64,
    /// Mark cookies `Secure` (set when served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Database connections per app server.
    pub pool_size: u32,
    /// How often the server looks for attempts whose deadline has passed.
    pub sweep_seconds: u64,
    /// How often date-driven work runs (plans' sittings, absences, certificate expiry/lapse,
    /// item analysis): it changes by the day, so once a minute is plenty.
    pub dated_sweep_seconds: u64,
    /// How often the SQLite write-ahead log is copied into the database file.
    pub checkpoint_ms: u64,
    /// The bearer token `/metrics` wants (`LAWCERT_METRICS_TOKEN`); unset, metrics are off.
    pub metrics_token: Option<String>,
    /// Bounds of the answer-save queue; beyond them a save is refused with 503 `overloaded`.
    pub save_queue: QueueLimits,
    /// How late the async runtime may run before saves are refused at the door
    /// (`LAWCERT_SAVE_MAX_LAG_MS`, `services::admission`); zero turns this off.
    pub save_max_lag: std::time::Duration,
    /// Where e-mail goes: `LAWCERT_SMTP_URL` (smtp://user:pass@host:587?tls=required,
    /// smtps://host:465, …) or, by default, a folder of .eml files (`LAWCERT_MAIL_DIR`).
    pub mail_transport: MailTransport,
    pub mail_from: String,
    pub mail_poll_ms: u64,
    /// The bureau's time zone as a UTC offset, minutes east (`LAWCERT_UTC_OFFSET`, +08:00).
    pub utc_offset_minutes: i32,
    /// The site's address as people reach it (`LAWCERT_PUBLIC_URL`), printed in certificates'
    /// QR codes and the base of every link in e-mails (required with SMTP); without it the
    /// request's host is used, and e-mails written to the folder link to the listening address.
    pub public_url: Option<String>,
    /// How long before a non-mock sitting opens its frozen pool leaves practice
    /// (`LAWCERT_POOL_LEAD_HOURS`): from then until it closes no one practises its questions.
    pub pool_lead_hours: i64,
    /// Threads a background job hashes passwords on (`LAWCERT_JOB_THREADS`); unset, every core
    /// but one (`domain::jobs::hash_threads`).
    pub job_threads: Option<usize>,
}

impl Config {
    pub fn pool_lead(&self) -> chrono::Duration {
        chrono::Duration::hours(self.pool_lead_hours)
    }

    /// Reads settings from a lookup (the process environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let database = DbUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "lawcert.db".into()))?;
        let flag = |name: &str| -> Result<Option<bool>, String> {
            match get(name).as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
                Some("0" | "false" | "no" | "off") => Ok(Some(false)),
                Some(other) => Err(format!("{name}={other:?}: expected 1 or 0")),
            }
        };
        let number = |name: &str, default: i64, min: i64, max: i64| -> Result<i64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(format!("{name}={v:?}: expected a whole number from {min} to {max}")),
                },
            }
        };
        // SQLite deployments are the demo/single-machine default; PostgreSQL seeds only on request.
        let demo = flag("LAWCERT_DEMO")?.unwrap_or(database.backend == Backend::Sqlite);
        let secret_file = match (get("LAWCERT_SECRET_FILE"), database.backend) {
            (Some(p), _) => PathBuf::from(p),
            (None, Backend::Sqlite) => PathBuf::from(format!("{}.secret", database.target)),
            (None, Backend::Postgres) => PathBuf::from("lawcert.secret"),
        };
        Ok(Config {
            questions_dir: PathBuf::from(get("LAWCERT_QUESTIONS").unwrap_or_else(|| "questions".into())),
            demo,
            secret_file,
            session_hours: number("LAWCERT_SESSION_HOURS", 12, 1, 24 * 30)?,
            token_hours: number("LAWCERT_TOKEN_HOURS", 12, 1, 24 * 30)?,
            secure_cookies: flag("LAWCERT_SECURE_COOKIES")?.unwrap_or(false),
            pool_size: number("LAWCERT_DB_POOL", if database.backend == Backend::Sqlite { 8 } else { 16 }, 1, 512)? as u32,
            sweep_seconds: number("LAWCERT_SWEEP_SECONDS", 5, 1, 3600)? as u64,
            dated_sweep_seconds: number("LAWCERT_DATED_SWEEP_SECONDS", 60, 1, 86_400)? as u64,
            checkpoint_ms: number("LAWCERT_CHECKPOINT_MS", 100, 10, 3_600_000)? as u64,
            metrics_token: match get("LAWCERT_METRICS_TOKEN").map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
                None => None,
                Some(t) if t.len() >= 16 && t.chars().all(|c| c.is_ascii_graphic()) => Some(t),
                Some(_) => return Err("LAWCERT_METRICS_TOKEN: expected at least 16 printable characters without spaces".into()),
            },
            save_queue: QueueLimits {
                max_depth: number("LAWCERT_SAVE_QUEUE_MAX", 4096, 0, 1_000_000)? as usize,
                max_wait: std::time::Duration::from_millis(number("LAWCERT_SAVE_QUEUE_WAIT_MS", 50, 1, 60_000)? as u64),
                retry_after_secs: number("LAWCERT_SAVE_RETRY_AFTER", 1, 1, 300)? as u32,
            },
            save_max_lag: std::time::Duration::from_millis(number("LAWCERT_SAVE_MAX_LAG_MS", 20, 0, 10_000)? as u64),
            mail_transport: match get("LAWCERT_SMTP_URL").filter(|u| !u.trim().is_empty()) {
                Some(url) => {
                    let url = url.trim().to_string();
                    // checked now, so a typo stops the start instead of failing every send
                    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url).map_err(|e| format!("LAWCERT_SMTP_URL: {e}"))?;
                    MailTransport::Smtp(url)
                }
                None => MailTransport::Folder(PathBuf::from(get("LAWCERT_MAIL_DIR").unwrap_or_else(|| match database.backend {
                    Backend::Sqlite => format!("{}.mail", database.target),
                    Backend::Postgres => "lawcert-mail".into(),
                }))),
            },
            mail_from: {
                let from = get("LAWCERT_MAIL_FROM").unwrap_or_else(|| "执法资格考试平台 <noreply@lawcert.invalid>".into());
                from.parse::<lettre::message::Mailbox>().map_err(|e| format!("LAWCERT_MAIL_FROM={from:?}: {e}"))?;
                from
            },
            mail_poll_ms: number("LAWCERT_MAIL_POLL_MS", 2000, 50, 3_600_000)? as u64,
            pool_lead_hours: number("LAWCERT_POOL_LEAD_HOURS", 24, 0, 24 * 90)?,
            job_threads: match get("LAWCERT_JOB_THREADS").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(_) => Some(number("LAWCERT_JOB_THREADS", 1, 1, 256)? as usize),
            },
            public_url: match get("LAWCERT_PUBLIC_URL").filter(|u| !u.trim().is_empty()) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.trim().trim_end_matches('/').to_string()),
                Some(u) => return Err(format!("LAWCERT_PUBLIC_URL={u:?}: expected an http(s):// address")),
                None => None,
            },
            utc_offset_minutes: match get("LAWCERT_UTC_OFFSET") {
                None => 8 * 60,
                Some(v) => crate::timefmt::parse_offset(&v)
                    .ok_or_else(|| format!("LAWCERT_UTC_OFFSET={v:?}: expected an offset such as +08:00"))?,
            },
            database,
        })
        .and_then(|c: Config| {
            // a mail client opens only absolute links, and a mail server means real recipients
            if matches!(c.mail_transport, MailTransport::Smtp(_)) && c.public_url.is_none() {
                return Err("LAWCERT_SMTP_URL is set but LAWCERT_PUBLIC_URL is not: the links in e-mails must be absolute. \
                            Set LAWCERT_PUBLIC_URL to the address people reach the site at, e.g. https://lawcert.bureau.example"
                    .into());
            }
            Ok(c)
        })
    }

    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_to_sqlite_with_demo() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database.backend, Backend::Sqlite);
        assert_eq!(c.database.target, "lawcert.db");
        assert!(c.demo);
        assert_eq!(c.secret_file, PathBuf::from("lawcert.db.secret"));
    }

    #[test]
    fn postgres_seeds_demo_only_when_asked() {
        let c = cfg(&[("DATABASE_URL", "postgres://localhost/x")]).unwrap();
        assert_eq!(c.database.backend, Backend::Postgres);
        assert!(!c.demo);
        assert!(cfg(&[("DATABASE_URL", "postgres://localhost/x"), ("LAWCERT_DEMO", "1")]).unwrap().demo);
        assert_eq!(cfg(&[("DATABASE_URL", "sqlite:///tmp/a.db")]).unwrap().database.target, "/tmp/a.db");
    }

    #[test]
    fn smtp_without_a_public_address_refuses_to_start_naming_the_setting() {
        let e = cfg(&[("LAWCERT_SMTP_URL", "smtp://127.0.0.1:25")]).unwrap_err();
        assert!(e.contains("LAWCERT_PUBLIC_URL") && e.contains("LAWCERT_SMTP_URL"), "{e}");
        let c = cfg(&[("LAWCERT_SMTP_URL", "smtp://127.0.0.1:25"), ("LAWCERT_PUBLIC_URL", "https://lawcert.example/")]).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://lawcert.example"));
        // the embedded .eml folder needs no address
        assert!(cfg(&[]).unwrap().public_url.is_none());
    }

    #[test]
    fn bad_values_name_the_setting() {
        assert!(cfg(&[("LAWCERT_DEMO", "maybe")]).unwrap_err().contains("LAWCERT_DEMO"));
        assert!(cfg(&[("LAWCERT_SESSION_HOURS", "0")]).unwrap_err().contains("LAWCERT_SESSION_HOURS"));
        assert!(cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err().contains("unsupported scheme"));
    }
}

/// Where mail goes.
#[derive(Clone, Debug)]
pub enum MailTransport {
    /// `smtp://user:pass@host:port`, `smtps://…` (TLS from the start) or `smtp://…?tls=required`
    /// (STARTTLS), as lettre reads it.
    Smtp(String),
    /// A folder of .eml files: the embedded default needs no mail server.
    Folder(std::path::PathBuf),
}

/// How much the save queue may hold before saves are refused.
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    /// Saves waiting for the writer (`LAWCERT_SAVE_QUEUE_MAX`); 0 refuses every save, which
    /// only makes sense to rehearse the exam page's retries.
    pub max_depth: usize,
    /// How long the oldest waiting save may have waited (`LAWCERT_SAVE_QUEUE_WAIT_MS`): the
    /// bound that adapts to how fast this machine commits.
    pub max_wait: std::time::Duration,
    /// Seconds a refused client is told to wait (`Retry-After`).
    pub retry_after_secs: u32,
}
