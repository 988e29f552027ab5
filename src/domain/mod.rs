//! Domain rules in plain Rust: no HTTP, no SQL. Everything here is tested directly.

pub mod bank;
pub mod exam;
pub mod grading;
pub mod org;
pub mod paper;
