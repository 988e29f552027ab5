//! lawcert: training and certification exams for a public-security bureau.
pub mod domain;
