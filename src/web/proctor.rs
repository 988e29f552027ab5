//! The proctor's pages for a sitting: live view (who is in, progress, time left, flags,
//! events), extra time and re-opening with a reason, the integrity report, absences and make-up.

use rocket::form::FromForm;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post};
use serde_json::{json, Value};

use super::pages::{CsrfForm, PageCtx};
use super::{local, parse_local_datetime, with_db};
use crate::auth::Trainer;
use crate::domain::ids::{AttemptId, EventId, SittingId};
use crate::domain::validation::Problem;
use crate::error::AppResult;
use crate::services::{exams, plans, proctor};

fn rows_json(rows: &[proctor::ProctorRow]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            json!({
                "attempt_id": r.attempt_id, "badge": r.badge, "name": r.name, "started_at": local(r.started_at), "deadline": local(r.deadline),
                "minutes_left": (r.seconds_left + 59) / 60, "answered": r.answered, "questions": r.questions,
                "submitted_at": r.submitted_at.map(local), "submit_kind": r.submit_kind, "flagged": r.flagged, "ip": r.client_ip,
                "focus_events": r.focus_events, "extra_minutes": r.extra_minutes, "open": r.submitted_at.is_none(),
                "events": r.events.iter().map(|e| {
                    let d: Value = serde_json::from_str(&e.detail).unwrap_or(Value::Null);
                    let dismissed = proctor::is_dismissed(&r.events, e.id);
                    json!({"id": e.id, "at": local(e.at), "kind": e.kind, "minutes": d.get("minutes"), "reason": d.get("reason"), "dismissed": dismissed,
                           "focus": crate::domain::exam_room::EventKind::REPORTED.contains(&e.kind)})
                }).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// A proctor's form answers with the proctor page again (saying why not) or a redirect.
type Reply = AppResult<rocket::Either<RawHtml<String>, Redirect>>;

/// After a proctor's action: back to the proctor page, or the page again with the reason when
/// the action was refused with one of the `shown` statuses (a wrong value, a conflict).
async fn back_to_proctor<T>(ctx: &PageCtx<'_>, id: SittingId, r: AppResult<T>, shown: &[u16]) -> Reply {
    match r {
        Ok(_) => Ok(rocket::Either::Right(Redirect::to(format!("/sittings/{id}/proctor")))),
        Err(e) if shown.contains(&e.http_status()) => refused(ctx, id, ctx.form_lines(&e)).await,
        Err(e) => Err(e),
    }
}

/// The proctor page again, with why the action was not done.
async fn refused(ctx: &PageCtx<'_>, id: SittingId, why: Vec<String>) -> Reply {
    page(ctx, id, "sittings/proctor", why).await.map(rocket::Either::Left)
}

async fn page(ctx: &PageCtx<'_>, id: SittingId, template: &str, errors: Vec<String>) -> AppResult<RawHtml<String>> {
    let now = ctx.state.clock.now();
    let proctor::RoomState { sitting: s, rows, waiting, absent, exceptions, filed } =
        with_db(ctx.state, move |c| proctor::room_state(c, id, now)).await?;
    let absent: Vec<Value> = absent.iter().map(|(badge, name)| json!({"badge": badge, "name": name})).collect();
    let controls = exams::controls_of(&s);
    ctx.render(
        template,
        json!({
            "s": {"id": s.id, "title": s.title, "opens_at": local(s.opens_at), "closes_at": local(s.closes_at), "access_code": controls.access_code,
                  "allow": controls.allow_cidrs.join(", "), "fullscreen": controls.fullscreen, "max_events": controls.max_events, "on_limit": controls.on_limit.as_str()},
            "rows": rows_json(&rows), "absent": absent, "errors": errors, "now": local(now),
            "started": rows.len(), "submitted": rows.iter().filter(|r| r.submitted_at.is_some()).count(), "flagged": rows.iter().filter(|r| r.flagged).count(),
            "filed": filed, "closed": now >= s.closes_at, "all_filed": s.filed,
            "waiting_n": waiting.len(), "waiting": waiting, "locked": waiting.iter().filter(|w| w.locked).count(), "exceptions": exceptions,
            "open_now": now >= s.opens_at && now < s.closes_at,
        }),
    )
}

#[get("/sittings/<id>/proctor")]
pub async fn live(ctx: PageCtx<'_>, _t: Trainer<'_>, id: SittingId) -> AppResult<RawHtml<String>> {
    page(&ctx, id, "sittings/proctor", vec![]).await
}

#[get("/sittings/<id>/integrity")]
pub async fn integrity(ctx: PageCtx<'_>, _t: Trainer<'_>, id: SittingId) -> AppResult<RawHtml<String>> {
    page(&ctx, id, "sittings/integrity", vec![]).await
}

#[derive(FromForm)]
pub struct TimeForm {
    attempt_id: AttemptId,
    minutes: i64,
    reason: String,
}

#[post("/sittings/<id>/extra-time", data = "<f>")]
pub async fn extra_time(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, f: CsrfForm<TimeForm>) -> Reply {
    let f = f.0;
    let (by, now) = (t.user.id, ctx.state.clock.now());
    let r = with_db(ctx.state, move |c| proctor::grant_extra_time(c, id, f.attempt_id, f.minutes, &f.reason, by, now)).await;
    back_to_proctor(&ctx, id, r, &[409, 422]).await
}

#[post("/sittings/<id>/reopen", data = "<f>")]
pub async fn reopen(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, f: CsrfForm<TimeForm>) -> Reply {
    let f = f.0;
    let (by, now) = (t.user.id, ctx.state.clock.now());
    let r = with_db(ctx.state, move |c| proctor::reopen(c, id, f.attempt_id, f.minutes, &f.reason, by, now)).await;
    back_to_proctor(&ctx, id, r, &[409, 422]).await
}

#[derive(FromForm)]
pub struct MakeupForm {
    opens_at: String,
    closes_at: String,
}

#[post("/sittings/<id>/makeup", data = "<f>")]
pub async fn makeup(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, f: CsrfForm<MakeupForm>) -> Reply {
    let (Some(opens), Some(closes)) = (parse_local_datetime(&f.0.opens_at), parse_local_datetime(&f.0.closes_at)) else {
        let p = Problem::plain("", "proctor.makeup_window", "opens_at, closes_at: give the make-up window");
        return refused(&ctx, id, ctx.problem_lines(&[p])).await;
    };
    let (by, now) = (t.user.id, ctx.state.clock.now());
    match with_db(ctx.state, move |c| plans::open_makeup(c, id, opens, closes, by, now)).await {
        Ok(new_id) => Ok(rocket::Either::Right(Redirect::to(format!("/sittings/{new_id}")))),
        Err(e) if e.is_invalid() => refused(&ctx, id, ctx.form_lines(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(rocket::form::FromForm)]
pub struct DowntimeForm {
    since: String,
    minutes: i64,
    reason: String,
}

/// Compensates every candidate of the sitting for a server outage.
#[post("/sittings/<id>/downtime", data = "<f>")]
pub async fn downtime(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, f: CsrfForm<DowntimeForm>) -> Reply {
    let f = f.0;
    let (by, now) = (t.user.id, ctx.state.clock.now());
    let Some(since) = super::parse_local_datetime(&f.since) else {
        let p = Problem::plain("since", "proctor.since_format", "when the outage began, YYYY-MM-DDTHH:MM");
        return refused(&ctx, id, ctx.problem_lines(&[p])).await;
    };
    let r = with_db(ctx.state, move |c| {
        crate::services::exams::sitting(c, id)?;
        proctor::compensate_downtime(c, id, since, f.minutes, &f.reason, by, now)
    })
    .await;
    back_to_proctor(&ctx, id, r, &[409, 422]).await
}

#[derive(FromForm)]
pub struct DismissForm {
    reason: String,
}

/// Dismisses a focus event the proctor judges false: it stops counting toward the limit.
#[post("/sittings/<id>/events/<event_id>/dismiss", data = "<f>")]
pub async fn dismiss_event(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, event_id: EventId, f: CsrfForm<DismissForm>) -> Reply {
    let (by, now, reason) = (t.user.id, ctx.state.clock.now(), f.0.reason);
    let r = with_db(ctx.state, move |c| proctor::dismiss_event(c, id, event_id, &reason, by, now)).await;
    back_to_proctor(&ctx, id, r, &[409, 422]).await
}

#[derive(FromForm)]
pub struct LetInForm {
    badge: String,
}

/// Lets a candidate locked out by wrong access codes try again.
#[post("/sittings/<id>/let-in", data = "<f>")]
pub async fn let_in(ctx: PageCtx<'_>, t: Trainer<'_>, id: SittingId, f: CsrfForm<LetInForm>) -> Reply {
    let (by, now, badge) = (t.user.id, ctx.state.clock.now(), f.0.badge);
    let r = with_db(ctx.state, move |c| proctor::let_in(c, id, &badge, by, now)).await;
    back_to_proctor(&ctx, id, r, &[404, 409, 422]).await
}

/// The exceptions of a sitting; `typed` is the form as sent when it is shown again with its problems.
async fn exceptions_page(
    ctx: &PageCtx<'_>,
    id: SittingId,
    errors: Vec<String>,
    typed: Option<&ExceptionForm>,
) -> AppResult<RawHtml<String>> {
    let (s, list) = with_db(ctx.state, move |c| proctor::exceptions(c, id)).await?;
    let list: Vec<Value> = list
        .into_iter()
        .map(|(e, who, by)| {
            json!({"badge": who.as_ref().map(|u| u.badge.clone()), "name": who.map(|u| u.name), "reason": e.reason,
                   "by": by.map(|u| u.name), "at": local(e.granted_at)})
        })
        .collect();
    let typed = json!({"badge": typed.map(|f| f.badge.as_str()), "reason": typed.map(|f| f.reason.as_str())});
    ctx.render(
        "sittings/exceptions",
        json!({"s": {"id": s.id, "title": s.title, "kind": s.kind}, "list": list, "errors": errors, "typed": typed}),
    )
}

/// Separation of duties: the exceptions an admin recorded for a sitting.
#[get("/sittings/<id>/exceptions")]
pub async fn exceptions(ctx: PageCtx<'_>, _a: crate::auth::Admin<'_>, id: SittingId) -> AppResult<RawHtml<String>> {
    exceptions_page(&ctx, id, vec![], None).await
}

#[derive(FromForm)]
pub struct ExceptionForm {
    badge: String,
    reason: String,
}

#[post("/sittings/<id>/exceptions", data = "<f>")]
pub async fn grant_exception(ctx: PageCtx<'_>, a: crate::auth::Admin<'_>, id: SittingId, f: CsrfForm<ExceptionForm>) -> Reply {
    let (by, now, f) = (a.user.id, ctx.state.clock.now(), f.0);
    let (badge, reason) = (f.badge.clone(), f.reason.clone());
    match with_db(ctx.state, move |c| proctor::grant_exception(c, id, &badge, &reason, by, now)).await {
        Ok(()) => Ok(rocket::Either::Right(Redirect::to(format!("/sittings/{id}/exceptions")))),
        Err(e) if (e.is_conflict() || e.is_invalid()) => {
            exceptions_page(&ctx, id, ctx.form_lines(&e), Some(&f)).await.map(rocket::Either::Left)
        }
        Err(e) => Err(e),
    }
}
