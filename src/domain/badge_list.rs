//! Lists of badges (警号) as HR brings them: typed or pasted into a form, or a spreadsheet (.xlsx
//! or .csv) exported from the personnel system. Every error names the row and column.
//!
//! A file's badges are in the column headed 警号 or `badge` (any column, the header in the first
//! filled row); without such a header, in the first column from the first row. Blank rows are
//! skipped; any other row must have a badge there. Problems are [`Problem`]s: a catalogue key
//! (`problem.list_*`, `problem.file_*`) with its values for pages, the English line for the API.

use std::collections::BTreeMap;

use super::validation::Problem;

/// At most this many badges in one check (page, upload or API).
pub const MAX_BADGES: usize = 5000;
/// A badge is 1–32 letters or digits (as accounts are created, `services::people`).
pub const MAX_BADGE_CHARS: usize = 32;

/// Whether `s` (trimmed) can be a badge.
pub fn is_badge(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_BADGE_CHARS && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_header(s: &str) -> bool {
    let s = s.trim().to_lowercase();
    matches!(s.as_str(), "警号" | "badge" | "警号 badge" | "badge number" | "警号(badge)" | "警号（badge）")
}

/// Badges from a form's text: a line with a comma or tab is a CSV row (its first field is the
/// badge); other lines list badges separated by spaces or 、. Header words are skipped.
pub fn from_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.contains([',', '\t', '，']) {
            out.extend(line.split([',', '\t', '，']).next().map(String::from));
        } else {
            out.extend(line.split([' ', '、']).map(String::from));
        }
    }
    out.into_iter().map(|b| b.trim().trim_matches('"').to_string()).filter(|b| !b.is_empty() && !is_header(b)).collect()
}

/// A spreadsheet as text cells: row number as people count them (1 = first row) → column
/// (0-based) → the cell's text, or why it cannot be read.
pub type Grid = BTreeMap<u32, BTreeMap<u32, Result<String, String>>>;

/// A problem of the list as a whole or of one place in it (no form field: the English line names
/// the place).
fn problem(key: &'static str, params: Vec<(&'static str, String)>, english: String) -> Problem {
    Problem::with("", key, params, english)
}

/// The badges of a grid, in order, or every error (row and column named).
pub fn from_grid(grid: &Grid, column_name: impl Fn(u32) -> String) -> Result<Vec<String>, Vec<Problem>> {
    let filled = |row: &BTreeMap<u32, Result<String, String>>| row.values().any(|c| c.as_ref().map_or(true, |t| !t.trim().is_empty()));
    let mut rows = grid.iter().filter(|(_, row)| filled(row)).peekable();
    let header = rows.peek().and_then(|(_, row)| row.iter().find(|(_, c)| c.as_ref().is_ok_and(|t| is_header(t))).map(|(col, _)| *col));
    if header.is_some() {
        rows.next();
    }
    let col = header.unwrap_or(0);
    let (mut badges, mut errors) = (Vec::new(), Vec::new());
    for (n, row) in rows {
        let at = format!("row {n}, column {} (警号)", column_name(col));
        let place = || vec![("row", n.to_string()), ("column", column_name(col))];
        let empty = || problem("list_empty", place(), format!("{at}: empty"));
        match row.get(&col) {
            None => errors.push(empty()),
            Some(Err(e)) => {
                let mut params = place();
                params.push(("e", e.clone()));
                errors.push(problem("list_unreadable", params, format!("{at}: {e}")));
            }
            Some(Ok(t)) => {
                let t = t.trim();
                if t.is_empty() {
                    errors.push(empty());
                } else if !is_badge(t) {
                    let shown: String = t.chars().take(40).collect();
                    let mut params = place();
                    params.extend([("v", format!("{shown:?}")), ("max", MAX_BADGE_CHARS.to_string())]);
                    errors.push(problem(
                        "list_not_badge",
                        params,
                        format!("{at}: {shown:?} is not a 警号 (1–{MAX_BADGE_CHARS} letters or digits)"),
                    ));
                } else {
                    badges.push(t.to_string());
                }
            }
        }
    }
    if badges.is_empty() && errors.is_empty() {
        errors.push(problem("list_no_badges", vec![], "the file lists no 警号".into()));
    }
    if badges.len() > MAX_BADGES {
        errors.push(problem(
            "list_too_many",
            vec![("n", badges.len().to_string()), ("max", MAX_BADGES.to_string())],
            format!("the file lists {} 警号; at most {MAX_BADGES} per check", badges.len()),
        ));
    }
    if errors.is_empty() {
        Ok(badges)
    } else {
        Err(errors)
    }
}

/// The grid of a CSV file (UTF-8, with or without BOM; comma-, semicolon- or tab-separated).
pub fn csv_grid(bytes: &[u8]) -> Result<Grid, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        problem(
            "file_not_utf8",
            vec![("row", line.to_string())],
            format!("row {line}: the file is not UTF-8 text (save it as “CSV UTF-8” or as .xlsx)"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.contains(',') {
        b','
    } else if first.contains('\t') {
        b'\t'
    } else if first.contains(';') {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    // the row as a spreadsheet counts it: the reader's own line count skips blank lines
    // (a record's position may point at the blank lines before it)
    let row_at = |byte: u64| {
        let bytes = text.as_bytes();
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1
    };
    let mut grid = Grid::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| match e.position() {
            Some(p) => {
                let row = row_at(p.byte());
                problem("file_row_unreadable", vec![("row", row.to_string()), ("e", e.to_string())], format!("row {row}: {e}"))
            }
            None => problem("file_unreadable", vec![("e", e.to_string())], e.to_string()),
        })?;
        let line = rec.position().map_or(0, |p| row_at(p.byte()));
        grid.insert(line, rec.iter().enumerate().map(|(i, v)| (i as u32, Ok(v.to_string()))).collect());
    }
    Ok(grid)
}

/// Largest file taken (a list of 5000 badges is well under 1 MB in either format).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The badges of an uploaded .xlsx or .csv file (told apart by content, then by name), or every
/// error.
pub fn from_file(file_name: &str, bytes: &[u8]) -> Result<Vec<String>, Vec<Problem>> {
    if bytes.is_empty() {
        return Err(vec![problem("file_empty", vec![], "file: the file is empty".into())]);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![too_large()]);
    }
    let name = file_name.to_lowercase();
    // a problem of the whole file, its English line beginning `file: `
    let of_file = |p: Problem| Problem { english: format!("file: {}", p.english), ..p };
    let grid = if bytes.starts_with(b"PK") || name.ends_with(".xlsx") {
        let cells =
            super::formats::xlsx_text_cells(bytes).map_err(|e| vec![of_file(problem("file_unreadable", vec![("e", e.clone())], e))])?;
        // the workbook's rows are 0-based; people count from 1
        cells.into_iter().map(|(r, row)| (r + 1, row)).collect()
    } else if name.ends_with(".xls") || bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        return Err(vec![problem("file_xls", vec![], "file: an old Excel (.xls) workbook; save it as .xlsx or CSV".into())]);
    } else {
        csv_grid(bytes).map_err(|e| vec![of_file(e)])?
    };
    from_grid(&grid, super::formats::xlsx_column_name)
}

/// An upload over [`MAX_FILE_BYTES`].
pub fn too_large() -> Problem {
    let mb = MAX_FILE_BYTES / 1024 / 1024;
    problem("file_too_large", vec![("mb", mb.to_string())], format!("file: larger than {mb} MB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(c: u32) -> String {
        char::from(b'A' + c as u8).to_string()
    }

    #[test]
    fn badges_are_read_from_lines_lists_and_csv() {
        assert_eq!(from_text("100001\n100002,王伟\n警号,姓名\n100004\t李\n"), vec!["100001", "100002", "100004"]);
        assert_eq!(from_text(" 100001 100002、100003 "), vec!["100001", "100002", "100003"]);
    }

    #[test]
    fn a_csv_with_a_header_reads_the_badge_column_wherever_it_is() {
        let g = csv_grid("\u{feff}姓名,警号\n王伟,100001\n\n李娜,100002\n".as_bytes()).unwrap();
        assert_eq!(from_grid(&g, letters).unwrap(), vec!["100001", "100002"]);
        let g = csv_grid(b"100001\n100002\n").unwrap();
        assert_eq!(from_grid(&g, letters).unwrap(), vec!["100001", "100002"], "no header: the first column");
        let g = csv_grid(b"name\tbadge\nA\t100003\n").unwrap();
        assert_eq!(from_grid(&g, letters).unwrap(), vec!["100003"], "tab-separated");
    }

    #[test]
    fn every_bad_row_is_named() {
        let g = csv_grid("警号,姓名\n100001,王伟\n,李娜\n\n10 02,张三\n100004\n".as_bytes()).unwrap();
        let e: Vec<String> = from_grid(&g, letters).unwrap_err().iter().map(Problem::line).collect();
        assert_eq!(
            e,
            vec![
                "row 3, column A (警号): empty".to_string(),
                "row 5, column A (警号): \"10 02\" is not a 警号 (1–32 letters or digits)".to_string()
            ],
            "a blank row still counts"
        );
        let lines = |e: Vec<Problem>| e.iter().map(Problem::line).collect::<Vec<_>>();
        assert_eq!(lines(from_grid(&csv_grid(b"badge\n").unwrap(), letters).unwrap_err()), vec!["the file lists no 警号".to_string()]);
        let gbk = [0xbe, 0xaf, 0xba, 0xc5, b'\n']; // 警号 in GBK
        assert!(csv_grid(&gbk).unwrap_err().line().starts_with("row 1: the file is not UTF-8"));
        assert_eq!(csv_grid(&gbk).unwrap_err().params, vec![("row", "1".to_string())]);
        assert_eq!(
            lines(from_file("b.csv", &gbk).unwrap_err()),
            vec!["file: row 1: the file is not UTF-8 text (save it as “CSV UTF-8” or as .xlsx)"]
        );
        let mut g = Grid::new();
        g.insert(7, [(0, Err("the cell shows an Excel error (#N/A)".to_string()))].into_iter().collect());
        assert_eq!(
            lines(from_grid(&g, letters).unwrap_err()),
            vec!["row 7, column A (警号): the cell shows an Excel error (#N/A)".to_string()]
        );
        // each says its catalogue key and where, for pages in the reader's language
        let keys: Vec<(&str, Vec<(&str, String)>)> =
            from_grid(&csv_grid("警号\n,x\n".as_bytes()).unwrap(), letters).unwrap_err().into_iter().map(|p| (p.key, p.params)).collect();
        assert_eq!(keys, vec![("list_empty", vec![("row", "2".to_string()), ("column", "A".to_string())])]);
    }

    #[test]
    fn too_many_badges_are_refused() {
        let text: String = (0..=MAX_BADGES).map(|i| format!("{}\n", 100000 + i)).collect();
        let e: Vec<String> = from_grid(&csv_grid(text.as_bytes()).unwrap(), letters).unwrap_err().iter().map(Problem::line).collect();
        assert_eq!(e, vec![format!("the file lists {} 警号; at most {MAX_BADGES} per check", MAX_BADGES + 1)]);
    }
}
