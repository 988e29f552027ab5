//! Telling people: an in-site notification and, where the user has an address, an e-mail.
//! Messages are rendered and queued in the caller's transaction (so a rolled-back change sends
//! nothing) and sent by a background task that retries; a request never waits for a mail server.

use chrono::Duration;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncTransport, Message};

use crate::db::models::{audit, cert as cert_db, mail as mail_db, org, Ts};
use crate::db::DbConn;
use crate::domain::ids::{MailId, UserId};
use crate::error::{AppError, AppResult};
use crate::render::render_mail;

/// The settings row holding the base of links in e-mails: written by each app server at start
/// (`LAWCERT_PUBLIC_URL`, else the address it listens on), read when a message is rendered, so
/// the sweepers and every service that notifies write the same absolute links.
pub const LINK_BASE_SETTING: &str = "mail_link_base";

/// Used only when no server has recorded its address (a command run against a fresh database).
const FALLBACK_BASE: &str = "http://127.0.0.1:8000";

/// Records the base of links in e-mails (see [`LINK_BASE_SETTING`]).
pub fn set_link_base(conn: &mut DbConn, base: &str, now: Ts) -> AppResult<()> {
    cert_db::claim_setting(conn, LINK_BASE_SETTING, base.trim_end_matches('/'), now)?;
    Ok(())
}

/// `path` (`/remedial/1`) as an absolute link for an e-mail; an absolute link is kept.
pub fn absolute_link(conn: &mut DbConn, path: &str) -> AppResult<String> {
    if path.starts_with("http://") || path.starts_with("https://") || path.is_empty() {
        return Ok(path.to_string());
    }
    let base = cert_db::setting(conn, LINK_BASE_SETTING)?.unwrap_or_else(|| FALLBACK_BASE.to_string());
    Ok(format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')))
}

/// Makes `params.url` absolute (every link in a mail is, so a mail client can open it).
pub fn absolute_params(conn: &mut DbConn, params: &mut serde_json::Value) -> AppResult<()> {
    if let Some(url) = params.get("url").and_then(|u| u.as_str()).map(str::to_string) {
        let abs = absolute_link(conn, &url)?;
        params["url"] = serde_json::Value::String(abs);
    }
    Ok(())
}

/// Tells `user_id` about something: `kind` names templates/email/KIND.*.hbs. A `url` in the
/// params is a path on the site; the mail carries it as an absolute link.
pub fn notify(conn: &mut DbConn, user_id: UserId, kind: &str, params: serde_json::Value, now: Ts) -> AppResult<()> {
    let user = org::find(conn, user_id)?.ok_or_else(|| AppError::internal(format!("notify: no user {user_id}")))?;
    let mut params = params;
    if let Some(m) = params.as_object_mut() {
        m.entry("name").or_insert_with(|| serde_json::Value::String(user.name.clone()));
    }
    absolute_params(conn, &mut params)?;
    // in the language the recipient reads (the bureau's until they choose)
    let m = render_mail(kind, crate::render::known_lang(&user.lang), &params).map_err(AppError::internal)?;
    audit::notify(conn, user_id, kind, &m.subject, m.text.trim(), now)?;
    if let Some(to) = user.email.as_deref().filter(|e| !e.trim().is_empty()) {
        mail_db::enqueue(conn, Some(user_id), to, kind, &m.subject, &m.text, &m.html, now)?;
    }
    Ok(())
}

/// Where mail goes (set in `config`).
pub use crate::config::MailTransport as Transport;

/// Delay before try number `tries + 1`; None: give up.
pub fn backoff(tries: i32) -> Option<Duration> {
    [1, 5, 15, 60, 240].get(tries as usize).map(|m| Duration::minutes(*m))
}

fn build(from: &str, m: &mail_db::Mail) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("sender {from:?}: {e}"))?;
    let to: Mailbox = m.to_addr.parse().map_err(|e| format!("recipient {:?}: {e}", m.to_addr))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(&m.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.text_body.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(m.html_body.clone())),
        )
        .map_err(|e| format!("message: {e}"))
}

async fn deliver(transport: &Transport, msg: Message) -> Result<(), String> {
    match transport {
        Transport::Smtp(url) => {
            let t = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
                .map_err(|e| format!("SMTP settings: {e}"))?
                .timeout(Some(std::time::Duration::from_secs(20)))
                .build();
            t.send(msg).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
        }
        Transport::Folder(dir) => {
            tokio_fs_create(dir).await?;
            lettre::AsyncFileTransport::<lettre::Tokio1Executor>::new(dir)
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| format!("writing {}: {e}", dir.display()))
        }
    }
}

async fn tokio_fs_create(dir: &std::path::Path) -> Result<(), String> {
    rocket::tokio::fs::create_dir_all(dir).await.map_err(|e| format!("creating {}: {e}", dir.display()))
}

/// How long a claimed message is this sender's: past it, a message neither sent nor failed
/// (its sender died) is due again. Longer than 50 sends' SMTP timeouts.
const SEND_LEASE: Duration = Duration::minutes(20);

/// Sends what is due; returns (sent, failed tries).
pub async fn send_due(
    pool: &crate::db::Pool,
    clock: &crate::clock::Clock,
    transport: &Transport,
    from: &str,
) -> Result<(usize, usize), String> {
    let p = pool.clone();
    let now = clock.now();
    // claimed, so that of several app servers one sends each message (`mail_db::claim_due`)
    let due = rocket::tokio::task::spawn_blocking(move || -> Result<Vec<mail_db::Mail>, String> {
        let mut c = p.get().map_err(|e| e.to_string())?;
        crate::db::write_tx(&mut c, |c| mail_db::claim_due(c, now, 50, now + SEND_LEASE)).map_err(|e: diesel::result::Error| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let (mut sent, mut failed) = (0, 0);
    for m in due {
        let result = match build(from, &m) {
            Ok(msg) => deliver(transport, msg).await,
            Err(e) => Err(e),
        };
        let p = pool.clone();
        let now = clock.now();
        let ok = result.is_ok();
        rocket::tokio::task::spawn_blocking(move || -> Result<(), String> {
            let mut c = p.get().map_err(|e| e.to_string())?;
            match result {
                Ok(()) => mail_db::mark_sent(&mut c, m.id, now),
                Err(e) => mail_db::mark_failed(&mut c, m.id, &e, backoff(m.tries).map(|d| now + d), now),
            }
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        if ok {
            sent += 1
        } else {
            failed += 1
        }
    }
    Ok((sent, failed))
}

// ---- the admin's view of the outbox ----

/// A message in the outbox, as the admin's page lists it.
pub use crate::db::models::mail::Mail;

/// How many messages are queued, sent and failed, and the latest `limit` of them.
pub fn outbox(conn: &mut DbConn, limit: i64) -> AppResult<((i64, i64, i64), Vec<Mail>)> {
    Ok((mail_db::counts(conn)?, mail_db::recent(conn, limit)?))
}

/// Tries an unsent message again now; 404 for a message sent already or none.
pub fn retry(conn: &mut DbConn, id: MailId, now: crate::db::models::Ts) -> AppResult<()> {
    if !mail_db::retry(conn, id, now)? {
        return Err(AppError::not_found("no such unsent message"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::LANGS;

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(backoff(0), Some(Duration::minutes(1)));
        assert_eq!(backoff(4), Some(Duration::minutes(240)));
        assert_eq!(backoff(5), None);
    }

    /// Labels the server writes into a mail (a level, a verdict, how a certificate ended) are
    /// catalogue keys, said in the recipient's language.
    #[test]
    fn labels_in_a_mail_are_said_in_its_recipient_s_language() {
        let params = serde_json::json!({"name": "王伟", "number": "JZ-2026-B-000001", "level": "level.intermediate",
            "status": "mail.certificate_ended.lapsed", "url": "http://x/certification"});
        let en = render_mail("certificate_ended", "en", &params).unwrap();
        assert!(
            en.text.contains("Intermediate") && en.text.contains("lapsed (off an enforcement post)") && !en.text.contains("level."),
            "{}",
            en.text
        );
        let zh = render_mail("certificate_ended", "zh", &params).unwrap();
        assert!(zh.text.contains("中级") && zh.text.contains("已离岗失效"), "{}", zh.text);
        let decided = serde_json::json!({"name": "王伟", "title": "双月考", "question": "Q1", "decision": "challenge_status.upheld",
            "reason": "理由", "url": "http://x/attempts/1/result"});
        assert!(render_mail("challenge_decided", "en", &decided).unwrap().text.contains("decided: Upheld"));
        assert!(render_mail("challenge_decided", "zh", &decided).unwrap().text.contains("已处理：已采纳"));
    }

    #[test]
    fn every_mail_kind_renders_in_both_languages_and_escapes_html() {
        let params = serde_json::json!({
            "name": "<b>王</b> & 李", "title": "双月考 <script>", "opens": "2026-12-01 09:00", "closes": "2026-12-01 11:00",
            "minutes": 90, "score": "55", "max": "100", "passed": false, "released": true, "number": "JZ-2026-B-000001",
            "level": "level.basic", "issued": "2026-11-25", "expires": "2031-11-25", "status": "mail.certificate_ended.lapsed", "reason": "理由",
            "deadline": "2026-12-25", "stage": "review", "officer": "王伟 (100001)", "url": "http://x/remedial/1",
            "decision": "challenge_status.rejected", "question": "Q1", "old": "50", "new": "60", "date": "2026-11-25", "entry": 1234, "newest": "2026-11-25 08:00",
            "head": "1234:9f3c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
        });
        for kind in KINDS {
            for lang in LANGS {
                let m = render_mail(kind, lang, &params).unwrap_or_else(|e| panic!("{kind}/{lang}: {e}"));
                assert!(!m.subject.is_empty() && !m.text.trim().is_empty(), "{kind}/{lang}");
                assert!(
                    !m.html.contains("<script>") && !m.html.contains("<b>王"),
                    "{kind}/{lang}: markup from data must be escaped: {}",
                    m.html
                );
                assert!(!m.text.contains("&amp;") && !m.text.contains("&lt;"), "{kind}/{lang}: text part is not HTML: {}", m.text);
            }
        }
    }

    pub const KINDS: &[&str] = &[
        "exam_scheduled",
        "exam_reminder",
        "result",
        "certificate_issued",
        "certificate_expiring",
        "certificate_ended",
        "remedial_assigned",
        "remedial_reminder",
        "remedial_overdue",
        "remedial_overdue_leader",
        "remedial_closed",
        "remedial_extended",
        "challenge_decided",
        "regraded",
        "audit_digest",
    ];
}
