//! Use cases that combine domain rules with several model calls, shared by pages, the API and
//! the command line.

pub mod bank_sync;
pub mod demo;
pub mod exams;
pub mod people;
pub mod save_writer;
