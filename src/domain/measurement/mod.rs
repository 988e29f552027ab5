//! Measurement on one scale: Rasch calibration of the bank ([`rasch`]), flags read from a
//! calibration ([`flags`]), item bias by Mantel–Haenszel ([`dif`]) and pass marks by the modified
//! Angoff method ([`angoff`]). Plain Rust: no HTTP, no SQL.
//!
//! Difficulties and abilities are in logits on one scale: a person whose ability equals an
//! item's difficulty answers it right half the time.

pub mod angoff;
pub mod dif;
pub mod flags;
pub mod rasch;
pub mod scale;
pub mod sim;

#[cfg(test)]
mod tests;
