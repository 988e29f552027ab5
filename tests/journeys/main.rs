//! Integration tests, one module per user journey. Run on SQLite by default and on PostgreSQL
//! when `LAWCERT_TEST_POSTGRES` is set (see common.rs).

mod common;
// reads the text back out of the platform's PDFs (shared with src/web/pdf.rs's tests)
#[path = "../pdf/text.rs"]
mod pdf_text;

mod accounts;
mod api_candidate;
mod api_hr;
mod api_trainer;
mod authz;
mod backup;
mod bank_files;
mod bank_import;
mod bank_review;
mod calibrate;
mod calibration;
// real-browser journeys (headless Chromium); #[ignore]d: run .ci/browser-tests
mod browser;
mod certification;
mod crash;
mod downtime;
mod exam_room;
mod fair_papers;
mod first_start;
mod http_server;
mod integrity;
mod jobs;
mod measurement;
mod migrations;
mod operations;
mod pages;
mod prepared;
mod security;
mod servers;
mod tamper;
mod training;
