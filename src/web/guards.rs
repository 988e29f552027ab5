//! Request guards beyond the role guards in `auth`.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

/// The signed-in user, who has no graded exam open: pages that can show a key, an explanation
/// or a statute text take this guard (see `services::exam_mode`).
pub struct OutsideExam<'r>(pub &'r CurrentUser);

impl<'r> std::ops::Deref for OutsideExam<'r> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OutsideExam<'r> {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let u = match <&CurrentUser as FromRequest>::from_request(req).await {
            Outcome::Success(u) => u,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let state = req.rocket().state::<AppState>().expect("state");
        let (uid, now) = (u.user.id, state.clock.now());
        let checked = super::with_db(state, move |c| crate::services::exam_mode::ensure_free(c, uid, None, now)).await;
        match checked {
            Ok(()) => Outcome::Success(OutsideExam(u)),
            Err(e) => {
                req.local_cache(|| Some(e.clone()));
                Outcome::Error((Status::Forbidden, e))
            }
        }
    }
}

/// Admission for an answer save, the first thing its route asks: while the save queue is full
/// or the runtime runs late (`services::admission`), a save is refused here with 503
/// `overloaded` and `Retry-After`, before its session, body or question is looked at, so that
/// refusing costs a fraction of saving.
pub struct SaveAdmission {
    /// When the request arrived, and when the door let it in (the save's first two stages).
    pub arrived: std::time::Instant,
    pub admitted: std::time::Instant,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SaveAdmission {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let state = req.rocket().state::<AppState>().expect("state");
        let verdict =
            state.saves.check_room().and_then(
                |()| {
                    if state.load.admit(rand::random::<f64>()) {
                        Ok(())
                    } else {
                        Err(state.saves.refuse())
                    }
                },
            );
        match verdict {
            Ok(()) => Outcome::Success(SaveAdmission { arrived: super::ops::arrived(req), admitted: std::time::Instant::now() }),
            Err(e) => {
                req.local_cache(|| Some(e.clone()));
                Outcome::Error((Status::ServiceUnavailable, e))
            }
        }
    }
}

/// When the request arrived (Rocket had its head), for a route that times its own stages:
/// put it first, so the guards after it count as the route's time.
pub struct Arrived(pub std::time::Instant);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Arrived {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Arrived(super::ops::arrived(req)))
    }
}
