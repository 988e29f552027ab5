//! The error type of request handlers. Pages under `/api` get
//! `{"error": {"code", "message"}}`; other pages get an HTML error page in the reader's language.

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: Status,
    pub code: &'static str,
    pub message: String,
    /// Seconds the client should wait before trying again (sent as `Retry-After`).
    pub retry_after: Option<u32>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: Status, code: &'static str, message: impl Into<String>) -> AppError {
        AppError { status, code, message: message.into(), retry_after: None }
    }
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(Status::BadRequest, "bad_request", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(Status::Unauthorized, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(Status::Forbidden, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(Status::NotFound, "not_found", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(Status::Conflict, code, message)
    }
    pub fn unprocessable(message: impl Into<String>) -> AppError {
        AppError::new(Status::UnprocessableEntity, "invalid", message)
    }
    pub fn internal(message: impl Into<String>) -> AppError {
        AppError::new(Status::InternalServerError, "internal", message)
    }
    /// 503 `overloaded`: refused at once, nothing done; try again after `retry_after` seconds.
    pub fn overloaded(retry_after: u32, message: impl Into<String>) -> AppError {
        AppError { retry_after: Some(retry_after), ..AppError::new(Status::ServiceUnavailable, "overloaded", message) }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        match e {
            diesel::result::Error::NotFound => AppError::not_found("not found"),
            // PostgreSQL refuses NUL characters in text: that is bad input, not a server fault
            diesel::result::Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                AppError::bad_request("text may not contain NUL (\\0) characters")
            }
            e => {
                eprintln!("database error: {e}");
                AppError::internal("database error")
            }
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        eprintln!("database pool error: {e}");
        AppError::new(Status::ServiceUnavailable, "unavailable", "the database is busy; try again")
    }
}

/// JSON body of every API error.
pub fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message}}).to_string()
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::build();
        res.status(self.status);
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.to_string());
        }
        if req.uri().path().starts_with("/api") {
            let body = error_json(self.code, &self.message);
            return res.header(ContentType::JSON).sized_body(body.len(), Cursor::new(body)).ok();
        }
        let html = crate::web::pages::error_page(req, self.status, self.code, &self.message);
        res.header(ContentType::HTML).sized_body(html.len(), Cursor::new(html)).ok()
    }
}
