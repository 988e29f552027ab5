//! Excel bank files as uploaded: `formats::parse(Format::Xlsx, …)` on arbitrary bytes never
//! panics, hangs or allocates without bound (the zip-bomb checks run first), and a file that
//! imports cleanly round-trips through every export format (common::round_trips). Mutated
//! archives mostly fail their checksums; bank_xlsx_sheet fuzzes the sheet XML inside.
#![no_main]

use lawcert::domain::formats::Format;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::let_calamine_panics_be_caught();
    common::parse_and_check(Format::Xlsx, data);
});
