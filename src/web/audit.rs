//! Admins: the audit log's head and a signed checkpoint to download and keep elsewhere.

use rocket::get;
use rocket::http::{ContentType, Header};
use rocket::response::content::RawHtml;
use serde_json::json;

use super::pages::PageCtx;
use super::with_db;
use crate::auth::Admin;
use crate::error::{AppError, AppResult};

#[get("/admin/audit")]
pub async fn audit_page(ctx: PageCtx<'_>, _a: Admin<'_>) -> AppResult<RawHtml<String>> {
    let o = with_db(ctx.state, |c| crate::services::audit::overview(c)).await?;
    ctx.render(
        "admin/audit",
        json!({
            "entry": o.head.entry, "hash": o.head.hash, "head": o.head.to_string(), "newest": o.newest.map(super::local),
            "last_digest": o.last_digest, "recipients": o.digest_recipients, "can_sign": ctx.state.audit_key.is_some(),
        }),
    )
}

#[derive(rocket::Responder)]
pub struct CheckpointFile(String, ContentType, Header<'static>);

/// The signed checkpoint (JSON), as `lawcert audit checkpoint` writes it.
#[get("/admin/audit/checkpoint")]
pub async fn checkpoint(ctx: PageCtx<'_>, a: Admin<'_>) -> AppResult<CheckpointFile> {
    let key = ctx.state.audit_key.ok_or_else(|| {
        AppError::new(crate::error::ErrorCode::NoSecretKey, "the server has no secret key configured to sign checkpoints with")
    })?;
    let (by, now) = (a.id(), ctx.state.clock.now());
    let cp = with_db(ctx.state, move |c| crate::services::audit::export_checkpoint(c, &key, by, now)).await?;
    let filename = format!("lawcert-audit-checkpoint-{}.json", cp.entry);
    Ok(CheckpointFile(cp.to_file(), ContentType::JSON, Header::new("Content-Disposition", format!("attachment; filename=\"{filename}\""))))
}
