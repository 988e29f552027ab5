//! Excel bank files from the inside: random bytes rarely get past the zip layer (checksums), so
//! this target keeps a real workbook (the import template) and replaces its first sheet's XML
//! and its shared strings with the fuzz input, in a freshly written archive. The input is
//! `sheet1.xml`, then optionally a line `--lawcert-fuzz-entry--` and `sharedStrings.xml`
//! (corpus/bank_xlsx_sheet/seed-* are the template's own). Same checks as the other bank
//! targets: no panic, and a clean import round-trips.
#![no_main]

use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;

use lawcert::domain::formats::{xlsx_template, Format};
use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

mod common;

const SHEET: &str = "xl/worksheets/sheet1.xml";
const SHARED: &str = "xl/sharedStrings.xml";
const MARKER: &[u8] = b"\n--lawcert-fuzz-entry--\n";

/// The template's entries, unpacked once.
fn template_entries() -> &'static Vec<(String, Vec<u8>)> {
    static ENTRIES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let bytes = xlsx_template();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("the template is a zip");
        (0..zip.len())
            .map(|i| {
                let mut entry = zip.by_index(i).expect("template entry");
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("template entry unpacks");
                (entry.name().to_string(), data)
            })
            .collect()
    })
}

fn split(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.windows(MARKER.len()).position(|w| w == MARKER) {
        Some(i) => (&data[..i], Some(&data[i + MARKER.len()..])),
        None => (data, None),
    }
}

fuzz_target!(|data: &[u8]| {
    common::let_calamine_panics_be_caught();
    let (sheet, shared) = split(data);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // stored, not deflated: writing stays cheap and the parser sees the bytes as given
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, original) in template_entries() {
        let body: &[u8] = match name.as_str() {
            SHEET => sheet,
            SHARED => shared.unwrap_or(original),
            _ => original,
        };
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(body).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    common::parse_and_check(Format::Xlsx, &bytes);
});
