//! How an `AppError` reaches the client: under `/api` the JSON body every API error has, else
//! the error page in the reader's language; both with the status the error's code carries.

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;

use crate::error::{AppError, ErrorCode};

/// The HTTP status of an error code.
pub fn status_of(code: ErrorCode) -> Status {
    Status::from_code(code.http_status()).unwrap_or(Status::InternalServerError)
}

impl AppError {
    pub fn status(&self) -> Status {
        status_of(self.code)
    }
}

/// JSON body of every API error.
pub fn error_json(e: &AppError) -> String {
    serde_json::json!({"error": {"code": e.code, "message": e.message, "fields": e.fields}}).to_string()
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::build();
        res.status(self.status());
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.to_string());
        }
        if req.uri().path().starts_with("/api") {
            let body = error_json(&self);
            return res.header(ContentType::JSON).sized_body(body.len(), Cursor::new(body)).ok();
        }
        let html = super::pages::error_page(req, &self);
        res.header(ContentType::HTML).sized_body(html.len(), Cursor::new(html)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_title_and_an_explanation_in_both_languages() {
        for lang in crate::render::LANGS {
            let catalogue = crate::render::catalogue(lang);
            for code in ErrorCode::ALL {
                for part in ["title", "help"] {
                    let key = format!("error.{}.{part}", code.as_str());
                    assert!(catalogue.get(&key).is_some_and(|t| !t.trim().is_empty()), "{lang}: no {key}");
                }
            }
        }
    }

    #[test]
    fn statuses_follow_the_codes() {
        assert_eq!(AppError::new(ErrorCode::OutsideExamRoom, "x").status(), Status::Forbidden);
        assert_eq!(AppError::new(ErrorCode::Stale, "x").status(), Status::Conflict);
        assert_eq!(AppError::invalid_lines(&["a: b"]).status(), Status::UnprocessableEntity);
        let body: serde_json::Value = serde_json::from_str(&error_json(&AppError::invalid_lines(&["pass_percent: 0–100"]))).unwrap();
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(body["error"]["fields"][0]["field"], "pass_percent");
    }
}
