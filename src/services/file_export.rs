//! Training-file records as CSV and XLSX, with the fields of the 执法资格等级考试情况信息集.

use crate::db::models::training as tr_db;
use crate::db::DbConn;
use crate::domain::ids::UserId;
use crate::domain::training_file::EntryKind;
use crate::error::{AppError, AppResult};
use crate::services::training::{self, Record};

/// The two forms an export comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Officers' files read this many officers at a time (a bureau-wide export reports progress
/// between shares).
const SHARE: usize = 200;

/// The training-file records of these officers in entry order, read a share of officers at a
/// time; `after(conn, officers_done)` is called after each share.
pub fn records_of(
    conn: &mut DbConn,
    officers: &[UserId],
    mut after: impl FnMut(&mut DbConn, usize) -> AppResult<()>,
) -> AppResult<Vec<Record>> {
    let mut out = Vec::new();
    let mut done = 0;
    for share in officers.chunks(SHARE) {
        let entries = tr_db::entries_of_users(conn, share)?;
        out.extend(training::records(conn, &entries)?);
        done += share.len();
        after(conn, done)?;
    }
    out.sort_by_key(|r| r.entry_id);
    Ok(out)
}

/// Records as the file of `format`.
pub fn render(format: Format, records: &[Record]) -> AppResult<Vec<u8>> {
    match format {
        Format::Csv => csv(records),
        Format::Xlsx => xlsx(records),
    }
}

pub const HEADERS: [&str; 20] = [
    "条目编号",
    "警号",
    "姓名",
    "单位",
    "身份证号",
    "条目类别",
    "发生日期",
    "记录时间",
    "更正条目",
    "资格类别",
    "等级",
    "考试时警种",
    "考试结果",
    "成绩",
    "通过日期",
    "考核日期",
    "等级确认日期",
    "记录状态",
    "考试/证书",
    "说明",
];

fn row(r: &Record) -> [String; 20] {
    let d = |x: &Option<chrono::NaiveDate>| x.map(|v| v.to_string()).unwrap_or_default();
    let what = r.data.get("title").or_else(|| r.data.get("number")).and_then(|v| v.as_str()).unwrap_or("").to_string();
    [
        r.entry_id.to_string(),
        r.badge.clone(),
        r.name.clone(),
        r.unit.clone(),
        r.id_number.clone().unwrap_or_default(),
        kind_label(r.kind).to_string(),
        r.occurred_on.to_string(),
        r.recorded_at.clone(),
        r.corrects.map(|c| c.to_string()).unwrap_or_default(),
        r.category.clone().unwrap_or_default(),
        r.level.clone().unwrap_or_default(),
        r.police_type.clone().unwrap_or_default(),
        r.result.clone().unwrap_or_default(),
        r.score.clone().unwrap_or_default(),
        d(&r.pass_date),
        d(&r.assessment_date),
        d(&r.confirmation_date),
        r.record_status.clone(),
        what,
        r.note.clone(),
    ]
}

/// The export's name of an entry's kind (the personnel system's words).
pub fn kind_label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Sitting => "考试成绩",
        EntryKind::Absence => "缺考",
        EntryKind::Certificate => "取得执法资格",
        EntryKind::CertificateEnded => "资格失效",
        EntryKind::RemedialOpened => "纳入后进民警培训",
        EntryKind::RemedialOverdue => "培训逾期",
        EntryKind::RemedialClosed => "培训结束",
        EntryKind::RewardFlag => "高级资格·待奖励",
        EntryKind::Reward => "奖励",
        EntryKind::Correction => "更正",
    }
}

/// Spreadsheet programs run cell text starting with = + - @ as a formula: such text (names,
/// notes) gets a leading apostrophe so an export can never carry a formula.
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub fn csv(records: &[Record]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADERS).map_err(|e| AppError::internal(e.to_string()))?;
    for r in records {
        w.write_record(row(r).iter().map(|c| defuse(c))).map_err(|e| AppError::internal(e.to_string()))?;
    }
    let mut out = "\u{feff}".as_bytes().to_vec(); // so Excel reads UTF-8
    out.extend(w.into_inner().map_err(|e| AppError::internal(e.to_string()))?);
    Ok(out)
}

pub fn xlsx(records: &[Record]) -> AppResult<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("训练档案").map_err(|e| AppError::internal(e.to_string()))?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| AppError::internal(e.to_string()))?;
    }
    for (i, r) in records.iter().enumerate() {
        for (c, v) in row(r).iter().enumerate() {
            // written as strings: the writer never turns text into a formula
            sheet.write_string(i as u32 + 1, c as u16, v).map_err(|e| AppError::internal(e.to_string()))?;
        }
    }
    book.save_to_buffer().map_err(|e| AppError::internal(e.to_string()))
}
