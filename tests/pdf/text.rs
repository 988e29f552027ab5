//! Test support: the text a PDF reader extracts from the PDFs src/web/pdf.rs writes (glyph ids
//! shown with Tj, decoded through the file's own ToUnicode map, and ActualText spans), so tests
//! can check what a document says. Used by pdf.rs's unit tests and by the journeys
//! (tests/journeys/common.rs); it reads what pdf-writer writes, not any PDF.

use std::collections::BTreeMap;

/// The text a PDF reader extracts: every string shown with Tj, decoded through the file's
/// own ToUnicode map (parsed from its bfchar lines), and every ActualText span; a line each.
pub fn text(pdf: &[u8]) -> String {
    let hex = |s: &str| u32::from_str_radix(s, 16).expect("hex");
    let mut map = BTreeMap::new();
    let inner = |s: &str| s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).filter(|s| s.len() == 4).map(hex);
    for (_, cmap) in streams(pdf).into_iter().filter(|(dict, _)| dict.contains("/Type /CMap")) {
        for line in String::from_utf8_lossy(cmap).lines() {
            if let Some((g, u)) = line.split_once(' ') {
                if let (Some(g), Some(u)) = (inner(g), inner(u)) {
                    map.insert(g as u16, char::from_u32(u).expect("a BMP character"));
                }
            }
        }
    }
    let mut out = String::new();
    for b in content_streams(pdf) {
        let mut i = 0;
        while i < b.len() {
            if b[i..].starts_with(b"/ActualText <FEFF") {
                let (bytes, end) = hexstr(b, i + 13);
                let units: Vec<u16> = bytes[2..].chunks(2).map(|u| u16::from_be_bytes([u[0], u[1]])).collect();
                out.push_str(&String::from_utf16(&units).expect("UTF-16"));
                // the span's own glyphs are replaced by its ActualText
                i = end + b[end..].windows(3).position(|w| w == b"EMC").expect("the end of the span");
            } else if b[i..].starts_with(b"\nET\n") {
                out.push('\n'); // one line of text ends
                i += 4;
            } else if b[i..].starts_with(b"<<") || b[i..].starts_with(b">>") {
                i += 2; // a dictionary's brackets
            } else if b[i] == b'(' || b[i] == b'<' {
                // a string operand: read it and keep it if a Tj follows
                let (bytes, end) = if b[i] == b'(' { literal(b, i + 1) } else { hexstr(b, i + 1) };
                if b[end..].starts_with(b" Tj") {
                    out.extend(bytes.chunks(2).map(|g| *map.get(&u16::from_be_bytes([g[0], g[1]])).unwrap_or(&'\u{FFFD}')));
                }
                i = end;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// Every stream of the file: its dictionary and its data.
pub fn streams(pdf: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = pdf[i..].windows(7).position(|w| w == b"stream\n").map(|p| i + p) {
        if pdf[..p].ends_with(b"end") {
            i = p + 7;
            continue;
        }
        let dict = String::from_utf8_lossy(&pdf[i..p]);
        let dict = dict[dict.rfind(" obj").expect("an object")..].to_string();
        let l = dict.rfind("/Length ").expect("a stream length") + "/Length ".len();
        let len: usize = dict[l..].split(|c: char| !c.is_ascii_digit()).next().expect("digits").parse().expect("a length");
        out.push((dict, &pdf[p + 7..p + 7 + len]));
        i = p + 7 + len;
    }
    out
}

/// The page contents: the streams without a filter that are not a CMap.
fn content_streams(pdf: &[u8]) -> Vec<&[u8]> {
    streams(pdf).into_iter().filter(|(dict, _)| !dict.contains("/Filter") && !dict.contains("/CMap")).map(|(_, data)| data).collect()
}

/// A literal string's bytes (pdf-writer's escapes) and the index after its closing ')'.
fn literal(b: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut depth = 0; // unescaped parentheses inside are balanced
    while b[i] != b')' || depth > 0 {
        if b[i] == b'(' {
            depth += 1;
            out.push(b[i]);
        } else if b[i] == b')' {
            depth -= 1;
            out.push(b[i]);
        } else if b[i] == b'\\' {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'0'..=b'7' => {
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 3 && (b'0'..=b'7').contains(&b[i]) {
                        v = v * 8 + u32::from(b[i] - b'0');
                        i += 1;
                        k += 1;
                    }
                    out.push(v as u8);
                    continue;
                }
                other => out.push(other),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    (out, i + 1)
}

fn hexstr(b: &[u8], i: usize) -> (Vec<u8>, usize) {
    let end = i + b[i..].iter().position(|&c| c == b'>').expect("end of the hex string");
    let digits = std::str::from_utf8(&b[i..end]).expect("hex");
    ((0..digits.len() / 2).map(|k| u8::from_str_radix(&digits[2 * k..2 * k + 2], 16).unwrap_or(0)).collect(), end + 1)
}
