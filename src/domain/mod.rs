//! Domain rules in plain Rust: no HTTP, no SQL. Everything here is tested directly.

pub mod accounts;
pub mod audit;
pub mod badge_list;
pub mod bank;
pub mod certification;
pub mod challenge;
pub mod compliance;
pub mod editions;
pub mod exam;
pub mod exam_room;
pub mod formats;
pub mod grading;
pub mod ids;
pub mod item_lint;
pub mod item_stats;
pub mod jobs;
pub mod lifecycle;
pub mod measurement;
pub mod org;
pub mod paper;
pub mod plans;
pub mod promotion;
pub mod remedial;
pub mod said;
pub mod setup;
pub mod statute_text;
pub mod stored_text;
pub mod study;
pub mod throttle;
pub mod training_file;
pub mod validation;

// Property tests (proptest) of grading and paper drawing, beside the modules' example tests.
#[cfg(test)]
mod grading_props;
#[cfg(test)]
mod paper_props;
