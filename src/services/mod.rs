//! Use cases that combine domain rules with several model calls, shared by pages, the API and
//! the command line.

pub mod accounts;
pub mod audit;
pub mod bank_export;
pub mod bank_import;
pub mod bank_review;
pub mod bank_sync;
pub mod calibration;
pub mod certification;
pub mod challenges;
pub mod demo;
pub mod exam_mode;
pub mod exams;
pub mod file_export;
pub mod hr;
pub mod item_analysis;
pub mod mail;
pub mod people;
pub mod plans;
pub mod practice;
pub mod proctor;
pub mod remedial;
pub mod save_writer;
pub mod setup;
pub mod training;
