//! Excel (.xlsx) import template, import and export.
//!
//! - Only the first sheet is read. Row 1 is the header; columns are found by their header, in any
//!   order, Chinese or English (case and spaces ignored; a header like `题型 type` or
//!   `题干（必填）` works too):
//!   题号/ID, 题型/type, 法律/statute, 版本/edition, 条文/articles, 难度/difficulty,
//!   适用等级/levels, 题干/stem, 选项A…选项F or A…F, 答案/answer, 解析/explanation, 标签/tags.
//!   Required: 题型, 题干, 答案, 条文, 解析. An unknown or repeated header, or data under an empty
//!   header, is a file error naming the column letter.
//! - 题型: 单选/多选/判断 (also 单选题 …) or single/multiple/truefalse. 答案: option letters in any
//!   case, order and separators; for 判断 对/错, 正确/错误, √/×, true/false, T/F. Options are filled
//!   from A without gaps. Other values as in the module `formats`.
//! - Numbers Excel stores as floats (`20.0`) are read as `20`; date cells as `YYYY-MM-DD`.
//! - Fully blank rows are skipped. Errors name the row by Excel's row number (`row 5`) and the
//!   column (`column F (难度): …`).
//! - Text is sanitised when it looks like HTML.
//! - Before the workbook is read, the archive is checked against zip bombs: at most 500 entries,
//!   no entry over 50 MB unpacked, at most 100 MB in total, and no entry over 1 MB (nor the whole)
//!   compressed more than 200:1. Sizes are measured while unpacking, not taken from the headers.
//!
//! Export writes the template's layout (all cells text, so Excel does not turn `2023-12-29` into
//! a date or `20,21` into a number). Text that would be taken for HTML on import is written as
//! HTML (`&lt;b&gt;`), so it reads back as written. Lists are joined with `、`, so an article or
//! tag that itself contains a list separator comes back split. Case groups are not carried: case
//! items are exported as ordinary rows (without the case text); use the lawcert format for cases.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use rust_xlsxwriter::{Color, DataValidation, DataValidationErrorStyle, Format as CellFormat, Workbook, XlsxError};

use super::sanitize::{auto_to_plain, looks_like_html, to_html};
use super::{field_by_name, parse_letters, parse_true_false, place, Defaults, Draft, ExportItem, Field, Format, Parsed};
use crate::domain::bank::{QuestionKind, StatuteRegistry};
use crate::domain::said::{Located, Said};

const MAX_ENTRIES: usize = 500;
const MAX_ENTRY_BYTES: u64 = 50 << 20;
const MAX_TOTAL_BYTES: u64 = 100 << 20;
const MAX_RATIO: u64 = 200;
/// Small entries (styles, empty sheets) legitimately compress very well.
const RATIO_CHECK_FROM: u64 = 1 << 20;
/// About 10,000 questions; more in one file is a mistake or an attack.
const MAX_CELLS: usize = 200_000;

/// Filled cells by row, then column (0-based).
type Sheet = BTreeMap<u32, BTreeMap<u32, Data>>;

/// The template's columns, in order.
const COLUMNS: [Field; 17] = [
    Field::Id,
    Field::Kind,
    Field::Statute,
    Field::Edition,
    Field::Articles,
    Field::Difficulty,
    Field::Levels,
    Field::Stem,
    Field::Option(0),
    Field::Option(1),
    Field::Option(2),
    Field::Option(3),
    Field::Option(4),
    Field::Option(5),
    Field::Answer,
    Field::Explanation,
    Field::Tags,
];
const REQUIRED: [Field; 5] = [Field::Kind, Field::Stem, Field::Answer, Field::Articles, Field::Explanation];

pub(super) fn parse(bytes: &[u8], defaults: &Defaults, registry: &StatuteRegistry) -> Parsed {
    let fail = |e: Said| Parsed::failed(Format::Xlsx, Located::whole(e));
    if let Err(e) = check_archive(bytes) {
        return fail(e);
    }
    let sheet = match first_sheet(bytes) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let Some((&top, header)) = sheet.first_key_value() else {
        return fail(Said::plain("bank_file.xlsx_empty", "the first sheet is empty"));
    };
    if top != 0 {
        return fail(Said::new(
            "bank_file.xlsx_header_row",
            vec![("row", (top + 1).to_string())],
            format!("row 1 must be the header row (the first filled row is row {})", top + 1),
        ));
    }
    let mut parsed = Parsed::new(Format::Xlsx);
    let mut columns: Vec<(u32, Field, String)> = Vec::new();
    for (&col, cell) in header {
        let name = cell_text(cell).unwrap_or_default().trim().to_string();
        match header_field(&name) {
            None => parsed.file_errors.push(Located::new(
                vec![place::column(&column_letter(col))],
                Said::new(
                    "bank_file.xlsx_unknown_header",
                    vec![("header", name.clone())],
                    format!("unknown header {name:?} (the 说明 sheet of the template lists the columns)"),
                ),
            )),
            Some(f) => match columns.iter().find(|c| c.1 == f) {
                Some(first) => parsed.file_errors.push(Located::new(
                    vec![place::column(&column_letter(col))],
                    Said::new(
                        "bank_file.xlsx_repeated_header",
                        vec![("header", name.clone()), ("first", column_letter(first.0))],
                        format!("{name:?} repeats column {}", column_letter(first.0)),
                    ),
                )),
                None => columns.push((col, f, name)),
            },
        }
    }
    let headerless: BTreeSet<u32> =
        sheet.values().skip(1).flat_map(|row| row.keys().copied()).filter(|c| !header.contains_key(c)).collect();
    for col in headerless {
        let letter = column_letter(col);
        parsed.file_errors.push(Located::whole(Said::new(
            "bank_file.xlsx_headerless",
            vec![("column", letter.clone())],
            format!("column {letter} has data but no header"),
        )));
    }
    let missing: Vec<String> = REQUIRED.iter().filter(|f| !columns.iter().any(|c| c.1 == **f)).map(|f| f.chinese()).collect();
    if !missing.is_empty() {
        parsed.file_errors.push(Located::new(
            vec![place::row(1)],
            Said::new(
                "bank_file.xlsx_missing_columns",
                vec![("columns", missing.join("、"))],
                format!("missing required column(s) {}", missing.join(", ")),
            ),
        ));
        return parsed;
    }
    for (&r, row) in sheet.iter().skip(1) {
        parsed.entries.push(read_row(row, r + 1, &columns).finish(defaults, registry));
    }
    parsed
}

fn read_row(row: &BTreeMap<u32, Data>, number: u32, columns: &[(u32, Field, String)]) -> Draft {
    let mut d = Draft::new(place::row(number as usize));
    let mut options: [(String, Option<u32>); 6] = Default::default();
    let mut answer: Option<(String, Said)> = None;
    let mut kind_known = true;
    for (col, field, header) in columns {
        let place = place::column_named(&column_letter(*col), header);
        let value = match row.get(col).map(cell_text).unwrap_or(Ok(String::new())) {
            Ok(v) => v.replace("\r\n", "\n").replace('\r', "\n"),
            Err(e) => {
                d.errors.push(Located::new(vec![place], e));
                continue;
            }
        };
        match field {
            Field::Kind => match parse_kind(&value) {
                Some(k) => d.kind = k,
                None => {
                    kind_known = false;
                    d.errors.push(Located::new(
                        vec![place],
                        if value.trim().is_empty() {
                            Said::plain("bank_file.xlsx_no_type", "missing type")
                        } else {
                            Said::new(
                                "bank_file.xlsx_unknown_type",
                                vec![("value", value.trim().to_string())],
                                format!("unknown type {:?} (use 单选, 多选 or 判断)", value.trim()),
                            )
                        },
                    ));
                }
            },
            Field::Stem => d.stem = auto_to_plain(&value),
            Field::Option(n) => options[usize::from(*n)] = (auto_to_plain(&value), Some(*col)),
            Field::Answer => answer = Some((value, place)),
            Field::Explanation => d.explanation = auto_to_plain(&value),
            f => {
                if let Err(e) = d.set(*f, &value) {
                    d.errors.push(Located::new(vec![place], e));
                }
            }
        }
    }
    let filled = options.iter().rposition(|o| !o.0.is_empty()).map_or(0, |p| p + 1);
    for (n, (text, col)) in options[..filled].iter().enumerate() {
        if text.is_empty() {
            let letter = char::from(b'A' + n as u8);
            let place = col.map_or_else(
                || {
                    Said::new(
                        "bank_file.at_no_option_column",
                        vec![("letter", letter.to_string())],
                        format!("选项{letter} (no such column)"),
                    )
                },
                |c| place::column_named(&column_letter(c), &format!("选项{letter}")),
            );
            d.errors.push(Located::new(vec![place], Said::plain("bank_file.xlsx_option_gap", "empty, but a later option is filled")));
        }
    }
    d.options = options.into_iter().take(filled).map(|o| o.0).collect();
    if let Some((value, place)) = answer {
        if d.kind == QuestionKind::TrueFalse {
            match parse_true_false(&value) {
                Some(b) => d.answer = if b { "T" } else { "F" }.into(),
                None => d.answer_error(Located::new(
                    vec![place],
                    Said::new(
                        "bank_file.xlsx_truefalse",
                        vec![("value", value.trim().to_string())],
                        format!("{:?} is not 对 or 错 (true/false)", value.trim()),
                    ),
                )),
            }
        } else {
            match parse_letters(&value) {
                Ok(l) => d.answer = l,
                Err(e) if kind_known => d.answer_error(Located::new(vec![place], e)),
                Err(_) => d.reported.answer = true,
            }
        }
    }
    d
}

fn parse_kind(s: &str) -> Option<QuestionKind> {
    match s.trim().to_lowercase().as_str() {
        "单选" | "单选题" | "单项选择题" | "single" => Some(QuestionKind::Single),
        "多选" | "多选题" | "多项选择题" | "multiple" => Some(QuestionKind::Multiple),
        "判断" | "判断题" | "truefalse" | "true/false" | "true-false" => Some(QuestionKind::TrueFalse),
        _ => None,
    }
}

fn kind_chinese(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::Single => "单选",
        QuestionKind::Multiple => "多选",
        QuestionKind::TrueFalse => "判断",
    }
}

/// A header's field: the whole text, or all its recognised words agreeing (`题型 type`).
fn header_field(name: &str) -> Option<Field> {
    field_by_name(name).or_else(|| {
        let mut found =
            name.split(|c: char| c.is_whitespace() || "/|()（）*：:".contains(c)).filter(|w| !w.is_empty()).filter_map(field_by_name);
        let first = found.next()?;
        found.all(|f| f == first).then_some(first)
    })
}

/// A cell as text: floats that are whole numbers without `.0`, dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> Result<String, Said> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => {
            return Err(Said::new(
                "bank_file.xlsx_cell_error",
                vec![("error", e.to_string())],
                format!("the cell shows an Excel error ({e})"),
            ))
        }
    })
}

/// A, B, …, Z, AA, AB, …
fn column_letter(col: u32) -> String {
    let mut i = col as usize;
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.iter().rev().map(|b| char::from(*b)).collect()
}

/// Refuses archives that would unpack to far more than an exam bank can be (see the module
/// documentation). Declared sizes can lie, so entries are unpacked (into nothing) and counted.
fn check_archive(bytes: &[u8]) -> Result<(), Said> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Said::new("bank_file.xlsx_not_zip", vec![("detail", e.to_string())], format!("not an .xlsx file (not a valid zip archive: {e})"))
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(Said::new(
            "bank_file.zip_entries",
            vec![("n", zip.len().to_string()), ("max", MAX_ENTRIES.to_string())],
            format!("refused: the archive has {} entries (an .xlsx file has a few dozen; at most {MAX_ENTRIES})", zip.len()),
        ));
    }
    let (mut total, mut total_packed) = (0u64, 0u64);
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| {
            Said::new(
                "bank_file.zip_entry_unreadable",
                vec![("n", (i + 1).to_string()), ("detail", e.to_string())],
                format!("refused: archive entry {} cannot be read: {e}", i + 1),
            )
        })?;
        let name = entry.name().to_string();
        let packed = entry.compressed_size();
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(Said::new(
                "bank_file.zip_entry_declared",
                vec![("name", name.clone()), ("mb", (entry.size() >> 20).to_string())],
                format!("refused: {name} declares {} MB unpacked (at most 50 MB per entry)", entry.size() >> 20),
            ));
        }
        let budget = MAX_ENTRY_BYTES.min(MAX_TOTAL_BYTES - total) + 1;
        let size = io::copy(&mut entry.take(budget), &mut io::sink()).map_err(|e| {
            Said::new(
                "bank_file.zip_entry_unpack",
                vec![("name", name.clone()), ("detail", e.to_string())],
                format!("refused: {name} cannot be unpacked: {e}"),
            )
        })?;
        if size > MAX_ENTRY_BYTES {
            return Err(Said::new(
                "bank_file.zip_entry_large",
                vec![("name", name.clone())],
                format!("refused: {name} unpacks to more than 50 MB"),
            ));
        }
        total += size;
        total_packed += packed;
        if total > MAX_TOTAL_BYTES {
            return Err(Said::plain("bank_file.zip_large", "refused: the archive unpacks to more than 100 MB"));
        }
        if size > RATIO_CHECK_FROM && size / packed.max(1) > MAX_RATIO {
            let ratio = size / packed.max(1);
            return Err(Said::new(
                "bank_file.zip_entry_ratio",
                vec![("name", name.clone()), ("ratio", ratio.to_string()), ("max", MAX_RATIO.to_string())],
                format!("refused: {name} is compressed {ratio}:1 (at most {MAX_RATIO}:1), a sign of a zip bomb"),
            ));
        }
    }
    if total > RATIO_CHECK_FROM && total / total_packed.max(1) > MAX_RATIO {
        let ratio = total / total_packed.max(1);
        return Err(Said::new(
            "bank_file.zip_ratio",
            vec![("ratio", ratio.to_string()), ("max", MAX_RATIO.to_string())],
            format!("refused: the archive is compressed {ratio}:1 (at most {MAX_RATIO}:1), a sign of a zip bomb"),
        ));
    }
    Ok(())
}

/// The first sheet's filled cells by row, then column (both 0-based). Cells are streamed into a
/// sparse map: a whole-sheet range would allocate rows × columns, which a two-cell file with one
/// cell at XFD1048576 turns into gigabytes.
fn first_sheet(bytes: &[u8]) -> Result<Sheet, Said> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Said::new("bank_file.xlsx_sheet_unreadable", vec![("detail", e.to_string())], format!("the first sheet cannot be read: {e}"))
    };
    let read = || -> Result<Sheet, Said> {
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| {
            Said::new("bank_file.xlsx_book_unreadable", vec![("detail", e.to_string())], format!("the workbook cannot be read: {e}"))
        })?;
        let name =
            book.sheet_names().first().cloned().ok_or_else(|| Said::plain("bank_file.xlsx_no_sheet", "the workbook has no sheet"))?;
        let mut cells = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
        let (mut sheet, mut count) = (Sheet::new(), 0);
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let value = Data::from(cell.get_value().clone());
            if cell_text(&value).is_ok_and(|t| t.trim().is_empty()) {
                continue;
            }
            count += 1;
            if count > MAX_CELLS {
                return Err(Said::new(
                    "bank_file.xlsx_too_many_cells",
                    vec![("max", MAX_CELLS.to_string())],
                    format!("the first sheet has more than {MAX_CELLS} filled cells; split it into smaller files"),
                ));
            }
            let (row, col) = cell.get_position();
            sheet.entry(row).or_default().insert(col, value);
        }
        Ok(sheet)
    };
    // the reader is third-party code fed hostile input: a bug there must not take the request down
    std::panic::catch_unwind(read)
        .unwrap_or_else(|_| Err(Said::plain("bank_file.xlsx_reader_failed", "the workbook cannot be read (the reader failed on it)")))
}

/// The first sheet of any workbook as text, for other importers (e.g. a list of badges): the
/// archive checks and cell limits of the bank import apply. Rows and columns are 0-based; a cell
/// showing an Excel error is `Err` with its reason.
pub(super) fn text_cells(bytes: &[u8]) -> Result<BTreeMap<u32, BTreeMap<u32, Result<String, String>>>, String> {
    check_archive(bytes).map_err(|e| e.english)?;
    let sheet = first_sheet(bytes).map_err(|e| e.english)?;
    Ok(sheet
        .into_iter()
        .map(|(r, row)| (r, row.into_iter().map(|(c, cell)| (c, cell_text(&cell).map_err(|e| e.english))).collect()))
        .collect())
}

/// Excel's name of a 0-based column (A, B, …, AA).
pub(super) fn column_name(col: u32) -> String {
    column_letter(col)
}

pub(super) fn export(items: &[ExportItem]) -> Result<Vec<u8>, String> {
    let rows: Vec<Vec<String>> = items.iter().map(row_of).collect();
    write_book(&rows, false).map_err(|e| format!("cannot write the workbook: {e}"))
}

pub(super) fn template() -> Vec<u8> {
    write_book(&example_rows(), true).expect("the template is fixed content Excel accepts")
}

fn row_of(item: &ExportItem) -> Vec<String> {
    let c = &item.content;
    // text that would be read as HTML goes out as HTML, so it comes back as written
    let text = |s: &str| if looks_like_html(s) { to_html(s) } else { s.to_string() };
    let mut row = vec![
        item.code.clone(),
        kind_chinese(c.kind).into(),
        c.statute.clone(),
        c.edition.clone(),
        c.articles.join("、"),
        c.difficulty.to_string(),
        c.levels.iter().map(|l| l.chinese()).collect::<Vec<_>>().join("、"),
        text(&c.stem),
    ];
    row.extend((0..6).map(|i| c.options.get(i).map(|o| text(o)).unwrap_or_default()));
    row.push(match (c.kind, c.answer.as_str()) {
        (QuestionKind::TrueFalse, "T") => "对".into(),
        (QuestionKind::TrueFalse, "F") => "错".into(),
        (_, a) => a.into(),
    });
    row.push(text(&c.explanation));
    row.push(c.tags.join("、"));
    row
}

fn column_width(f: Field) -> f64 {
    match f {
        Field::Stem | Field::Explanation => 50.0,
        Field::Option(_) => 18.0,
        Field::Statute | Field::Levels | Field::Tags => 14.0,
        Field::Id | Field::Edition | Field::Articles => 12.0,
        Field::Kind | Field::Difficulty | Field::Answer => 8.0,
    }
}

fn write_book(rows: &[Vec<String>], with_help: bool) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = CellFormat::new().set_bold().set_background_color(Color::RGB(0xDDEBF7)).set_num_format("@");
    let text = CellFormat::new().set_num_format("@");
    let long_text = CellFormat::new().set_num_format("@").set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name("题目")?;
    for (col, field) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        let format = if matches!(field, Field::Stem | Field::Explanation) { &long_text } else { &text };
        sheet.set_column_width(col, column_width(*field))?;
        sheet.set_column_format(col, format)?;
        sheet.write_string_with_format(0, col, field.chinese(), &header)?;
        for (r, row) in rows.iter().enumerate() {
            if let Some(value) = row.get(usize::from(col)).filter(|v| !v.is_empty()) {
                sheet.write_string_with_format(r as u32 + 1, col, value, format)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let kinds = DataValidation::new()
        .allow_list_strings(&["单选", "多选", "判断"])?
        .set_error_style(DataValidationErrorStyle::Information)
        .set_input_message("单选、多选或判断")?;
    sheet.add_data_validation(1, 1, 10_000, 1, &kinds)?;
    if with_help {
        let help = book.add_worksheet();
        help.set_name("说明")?;
        help.set_column_width(0, 14)?;
        help.set_column_width(1, 14)?;
        help.set_column_width(2, 90)?;
        let wrap = CellFormat::new().set_text_wrap();
        for (r, cells) in HELP.iter().enumerate() {
            for (c, value) in cells.iter().enumerate() {
                if r == 0 {
                    help.write_string_with_format(0, c as u16, *value, &header)?;
                } else {
                    help.write_string_with_format(r as u32, c as u16, *value, &wrap)?;
                }
            }
        }
    }
    book.save_to_buffer()
}

const HELP: [[&str; 3]; 19] = [
    ["列", "是否必填", "说明"],
    ["题号 ID", "否", "题目的固定编号：字母、数字、- 和 _，不含空格，如 XF-0101。留空则按法律、题干和选项自动生成（IMP-……），同一文件再次导入得到相同编号。"],
    ["题型 type", "是", "单选、多选或判断（也可写 single、multiple、truefalse）。"],
    ["法律 statute", "否 *", "法律的代码、简称或全称，如 criminal-law、刑法、中华人民共和国刑法。留空则用导入页面选择的默认法律。"],
    ["版本 edition", "否", "版本代码（该版本的通过日期），如 2023-12-29。留空时：若法律与导入页面的默认法律相同，用默认版本；否则用该法律的最新版本。"],
    ["条文 articles", "是", "所考条文，如 20、133之一；“第20条”“第二十条”会自动写成 20。多条用 、 或 , 分隔。必须填写，没有默认值。"],
    ["难度 difficulty", "否 *", "1、2、3 或 易、中、难。留空则用导入页面的默认难度。"],
    ["适用等级 levels", "否 *", "基本级、中级、高级（或 basic、intermediate、advanced），多个用 、 或 , 分隔。留空则用导入页面的默认等级。"],
    ["题干 stem", "是", "题目正文，单元格内可换行（Alt+Enter）。"],
    ["选项A–选项F (A–F)", "选择题必填", "单选 2–6 个选项，多选 3–6 个，从选项A起连续填写；判断题不填。"],
    ["答案 answer", "是", "单选填一个字母；多选填两个或以上字母，如 ACD（大小写、顺序、分隔符不限）；判断题填 对 或 错（也可写 正确/错误、√/×、true/false、T/F）。"],
    ["解析 explanation", "是", "说明每个选项为何对或错，并引用所考条文。"],
    ["标签 tags", "否", "多个用 、 或 , 分隔。"],
    ["", "", ""],
    ["* 号", "", "文件和导入页面都没有给出时，该题报错。"],
    ["表头", "", "第 1 行是表头。列的顺序不限，列名可用中文或英文（ID、type、statute、edition、articles、difficulty、levels、stem、A–F、answer、explanation、tags）。不认识的列名会报错。"],
    ["读取范围", "", "只读取第一个工作表；整行空白的行会跳过。错误提示按 Excel 行号（row 5）和列字母指出位置。"],
    ["文字", "", "含 HTML 标记的文字（如从网页复制）会转为纯文本。"],
    ["示例", "", "“题目”表中的三行是示例（刑法第二十条、第二十一条），导入前请删除或改写。"],
];

fn example_rows() -> Vec<Vec<String>> {
    let rows: [[&str; COLUMNS.len()]; 3] = [
        [
            "EX-0001",
            "单选",
            "criminal-law",
            "2023-12-29",
            "20",
            "1",
            "基本级、中级",
            "为了使国家、公共利益、本人或者他人的人身、财产和其他权利免受正在进行的不法侵害，而采取的制止不法侵害的行为，对不法侵害人造成损害的，属于：",
            "正当防卫",
            "紧急避险",
            "防卫过当",
            "假想防卫",
            "",
            "",
            "A",
            "根据《刑法》第二十条第一款，为使国家、公共利益、本人或者他人的人身、财产和其他权利免受正在进行的不法侵害而采取的制止不法侵害的行为，对不法侵害人造成损害的，属于正当防卫，不负刑事责任，故A正确。紧急避险（第二十一条）针对的是正在发生的危险，损害的是第三人的合法权益；防卫过当是超过必要限度造成重大损害；假想防卫不存在真实的不法侵害。",
            "正当防卫",
        ],
        [
            "EX-0002",
            "多选",
            "刑法",
            "",
            "第二十条",
            "2",
            "中级、高级",
            "对正在进行的下列哪些暴力犯罪采取防卫行为，造成不法侵害人伤亡的，不属于防卫过当，不负刑事责任？",
            "行凶",
            "抢劫",
            "绑架",
            "一般盗窃",
            "",
            "",
            "ABC",
            "根据《刑法》第二十条第三款，对正在进行行凶、杀人、抢劫、强奸、绑架以及其他严重危及人身安全的暴力犯罪，采取防卫行为，造成不法侵害人伤亡的，不属于防卫过当，不负刑事责任，故A、B、C正确。一般盗窃不属于严重危及人身安全的暴力犯罪，D错误。",
            "正当防卫、特殊防卫",
        ],
        [
            "EX-0003",
            "判断",
            "criminal-law",
            "2023-12-29",
            "21",
            "易",
            "基本级",
            "紧急避险超过必要限度造成不应有的损害的，应当负刑事责任，但是应当减轻或者免除处罚。",
            "",
            "",
            "",
            "",
            "",
            "",
            "对",
            "该说法正确。根据《刑法》第二十一条第二款，紧急避险超过必要限度造成不应有的损害的，应当负刑事责任，但是应当减轻或者免除处罚。",
            "紧急避险",
        ],
    ];
    rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{export as export_any, parse as parse_any, xlsx_template};
    use super::*;

    fn parse(bytes: &[u8]) -> Parsed {
        parse_any(Format::Xlsx, "q.xlsx", bytes, &defaults(), &registry())
    }

    fn book(rows: &[&[&str]]) -> Vec<u8> {
        xlsx_book(rows)
    }

    #[test]
    fn the_template_imports_cleanly() {
        let p = parse(&xlsx_template());
        assert!(p.is_clean(), "{p:#?}");
        assert_eq!(p.entries.len(), 3);
        let kinds: Vec<QuestionKind> = p.entries.iter().map(|e| e.content.kind).collect();
        assert_eq!(kinds, vec![QuestionKind::Single, QuestionKind::Multiple, QuestionKind::TrueFalse]);
        assert_eq!(p.entries[1].content.edition, "2023-12-29");
        assert_eq!(p.entries[1].content.articles, vec!["20"]);
        assert_eq!(p.entries[2].content.answer, "T");
        assert_eq!(p.entries[2].location, "row 4");
    }

    #[test]
    fn export_round_trips() {
        let items = items();
        let bytes = export_any(Format::Xlsx, &items, &registry()).unwrap();
        let p = parse_any(Format::Xlsx, "x.xlsx", &bytes, &Defaults::default(), &registry());
        assert!(p.is_clean(), "{p:#?}");
        assert_eq!(p.entries.len(), items.len());
        for (e, i) in p.entries.iter().zip(&items) {
            assert_eq!((&e.code, &e.content), (&i.code, &i.content));
        }
    }

    #[test]
    fn english_headers_any_order_numbers_and_blank_rows() {
        let bytes = book(&[
            &["Answer", "stem", "A", "B", "C", "type", "Articles", "explanation", "题号", "难度 difficulty"],
            &["c", "题干", "甲", "乙", "丙", "single", "#20", "解析", "#7", "#3"],
            &[],
            &["", "", "", "", "", "", "", "", "", ""],
            &["true", "判断题干", "", "", "", "truefalse", "第二十一条", "解析", "", ""],
        ]);
        let p = parse(&bytes);
        assert!(p.is_clean(), "{p:#?}");
        assert_eq!(p.entries.len(), 2);
        let e = &p.entries[0];
        assert_eq!((e.code.as_str(), e.content.answer.as_str(), e.content.difficulty), ("7", "C", 3));
        assert_eq!(e.content.articles, vec!["20"]);
        assert_eq!((p.entries[1].location.english.as_str(), p.entries[1].content.answer.as_str()), ("row 5", "T"));
    }

    #[test]
    fn header_problems_are_file_errors_with_columns() {
        let p = parse(&book(&[&["题型", "题干", "备注", "题干"], &["单选", "x", "y", "z"]]));
        assert!(
            p.file_errors.iter().any(|e| *e == "column C: unknown header \"备注\" (the 说明 sheet of the template lists the columns)"),
            "{:?}",
            p.file_errors
        );
        assert!(p.file_errors.iter().any(|e| *e == "column D: \"题干\" repeats column B"), "{:?}", p.file_errors);
        assert!(
            p.file_errors.iter().any(|e| e.to_string().starts_with("row 1: missing required column(s) 答案, 条文, 解析")),
            "{:?}",
            p.file_errors
        );
        assert!(p.entries.is_empty());
        let p = parse(&book(&[&[], &["题型"]]));
        assert_eq!(p.file_errors, vec!["row 1 must be the header row (the first filled row is row 2)"]);
    }

    #[test]
    fn row_errors_name_row_and_column() {
        let bytes = book(&[
            &["题型", "题干", "选项A", "选项B", "选项C", "答案", "条文", "解析", "难度", "适用等级", "法律"],
            &["问答", "x", "a", "b", "", "A", "1", "y", "", "", ""],
            &["单选", "x", "a", "", "c", "E", "1", "y", "很难", "专家级", "民法典"],
            &["判断", "x", "", "", "", "是", "1", "y", "", "", ""],
            &["多选", "x", "a", "b", "c", "A和B", "", "", "", "", ""],
        ]);
        let p = parse(&bytes);
        let errs: Vec<String> = p
            .entries
            .iter()
            .map(|e| format!("{}: {}", e.location, e.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | ")))
            .collect();
        assert!(errs[0].contains("row 2: column A (题型): unknown type \"问答\""), "{errs:?}");
        assert!(errs[1].contains("column D (选项B): empty, but a later option is filled"), "{errs:?}");
        assert!(
            errs[1].contains("column I (难度): difficulty \"很难\"") && errs[1].contains("column J (适用等级): level \"专家级\""),
            "{errs:?}"
        );
        assert!(errs[1].contains("unknown statute \"民法典\"") && errs[1].contains("answer key E"), "{errs:?}");
        assert!(errs[2].contains("column F (答案): \"是\" is not 对 or 错"), "{errs:?}");
        assert!(
            errs[3].contains("column F (答案): answer \"A和B\"")
                && errs[3].contains("missing citation")
                && errs[3].contains("empty explanation"),
            "{errs:?}"
        );
    }

    #[test]
    fn zip_bombs_are_refused_before_reading() {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..20 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
        let p = parse(buf.get_ref());
        assert!(p.file_errors[0].to_string().starts_with("refused: xl/worksheets/sheet1.xml is compressed"), "{:?}", p.file_errors);

        let mut buf = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        for i in 0..501 {
            zip.start_file(format!("f{i}"), zip::write::SimpleFileOptions::default()).unwrap();
        }
        zip.finish().unwrap();
        assert!(parse(buf.get_ref()).file_errors[0].to_string().contains("501 entries"));
        assert!(parse(b"PK\x03\x04 not really").file_errors[0].to_string().starts_with("not an .xlsx file"));
    }

    #[test]
    fn never_panics_on_truncated_or_garbled_input() {
        let good = export_any(Format::Xlsx, &items(), &registry()).unwrap();
        for len in 0..good.len() {
            assert!(!parse(&good[..len]).is_clean());
        }
        let mut next = xorshift(0x2545_f491);
        for _ in 0..300 {
            let mut bad = good.clone();
            for _ in 0..4 {
                let (r, len) = (next(), bad.len());
                bad[r % len] = (r >> 8) as u8;
            }
            parse(&bad);
        }
    }

    #[test]
    fn a_far_away_cell_does_not_allocate_the_whole_sheet() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "题型").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let p = parse(&book.save_to_buffer().unwrap());
        assert!(p.file_errors.iter().any(|e| *e == "column XFD has data but no header"), "{:?}", p.file_errors);
    }

    /// The archive with each entry passed through `edit`.
    fn rezip(original: &[u8], mut edit: impl FnMut(&str, Vec<u8>) -> Vec<u8>) -> Vec<u8> {
        use std::io::Write;
        let mut input = zip::ZipArchive::new(Cursor::new(original)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..input.len() {
            let mut entry = input.by_index(i).unwrap();
            let name = entry.name().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
            out.write_all(&edit(&name, data)).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn never_panics_on_garbled_sheets() {
        let good = export_any(Format::Xlsx, &items()[..3], &registry()).unwrap();
        let mut next = xorshift(0x1234_5678);
        for round in 0..300 {
            let bad = rezip(&good, |name, mut data| {
                if name.ends_with("sheet1.xml") || name.ends_with("sharedStrings.xml") || (round % 7 == 0 && name.ends_with(".xml")) {
                    if round % 3 == 0 {
                        data.truncate(next() % (data.len() + 1));
                    } else {
                        for _ in 0..3 {
                            let i = next() % data.len().max(1);
                            if let Some(b) = data.get_mut(i) {
                                *b = b"<>\"/=&;0A:rtsv \xff"[next() % 15];
                            }
                        }
                    }
                }
                data
            });
            parse(&bad);
        }
        for (from, to) in [("r=\"A1\"", "r=\"A0\""), ("r=\"A1\"", "r=\"XFE1\""), ("r=\"B2\"", "r=\"A99999999999\""), ("<v>", "<v>-1")] {
            let bad = rezip(&good, |name, data| {
                if name.ends_with("sheet1.xml") {
                    String::from_utf8_lossy(&data).replacen(from, to, 1).into_bytes()
                } else {
                    data
                }
            });
            parse(&bad);
        }
    }

    /// Fuzzing (bank_xlsx_sheet, FUZZING.md) found calamine 0.32 overflowing `pow *= 26` on a
    /// cell reference with seven or more column letters (`r="Asingle1"`): a panic wherever
    /// overflow is checked (debug builds, as here), which `first_sheet` must turn into a file
    /// error (release builds do not check overflow, so there the column number wraps instead).
    #[test]
    fn regression_a_long_column_reference_in_calamine_is_contained() {
        let good = export_any(Format::Xlsx, &items()[..1], &registry()).unwrap();
        let bad = rezip(&good, |name, data| {
            if name.ends_with("sheet1.xml") {
                String::from_utf8_lossy(&data).replacen("r=\"A1\"", "r=\"Asingle1\"", 1).into_bytes()
            } else {
                data
            }
        });
        assert_ne!(bad, good);
        let p = parse(&bad);
        assert!(!p.is_clean());
        if cfg!(debug_assertions) {
            assert_eq!(p.file_errors, vec!["the workbook cannot be read (the reader failed on it)"]);
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
