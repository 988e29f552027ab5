//! Gift bank files: `formats::parse(Format::Gift, …)` on arbitrary bytes never panics, and a
//! file that imports cleanly round-trips through every export format (common::round_trips).
#![no_main]

use lawcert::domain::formats::Format;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_check(Format::Gift, data);
});
