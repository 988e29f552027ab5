//! Question-bank import and export in the file formats trainers use: lawcert's own TOML bank
//! format, an Excel template, Moodle XML, GIFT and Aiken. Plain domain code: bytes in, checked
//! questions out (and back). The web layer shows a [`Parsed`] as a preview and stores it.
//!
//! # Metadata lawcert needs and foreign formats lack
//!
//! Every lawcert question cites a statute, an edition and articles, and has a difficulty, levels
//! and an explanation. Each format's module says where a file carries them. What the file does
//! not give is taken from the import form's [`Defaults`] (statute, edition, difficulty, levels;
//! never articles, because a citation must be deliberate, and never the explanation). What is
//! still missing is an error on the entry that names the field. Values are read the same way in
//! every foreign format:
//!
//! - statute: its code, short name or full name as in `statutes.toml` (`criminal-law`, `刑法`,
//!   `中华人民共和国刑法`, also inside 《》);
//! - edition: an edition code `2023-12-29` (`2023/12/29`, `2023.12.29`, `2023年12月29日` and
//!   `20231229` are read as that). With a statute but no edition, the statute's latest edition
//!   (by date in force) is used. The form's default edition applies only to questions of the
//!   form's default statute;
//! - articles: `20`, `133之一`; `第20条`, `第二十条`, `第一百三十三条之一` become `20`, `133`,
//!   `133之一`; anything else (`第20条第2款`) is kept as written;
//! - difficulty: `1` `2` `3`, or `易` `中` `难`, or `easy` `medium` `hard`;
//! - levels: `basic` `intermediate` `advanced` or `基本级` `中级` `高级`;
//! - lists (articles, levels, tags) are separated by `,` `，` `、` `;` `；` (levels also by spaces).
//!
//! # Ids
//!
//! A question keeps the id its file gives (each format says where). Otherwise it gets
//! `IMP-` + the first 10 hex digits of SHA-256(statute code, stem, options, joined by NUL), so
//! importing the same file again yields the same ids. Two questions with one id in a file are a
//! file error naming both places.
//!
//! # Text
//!
//! Text that carries HTML (see [`sanitize`]) is turned into plain text. Control characters
//! other than line breaks and tabs are dropped. Files must be UTF-8 (a byte-order mark, or UTF-16
//! with a byte-order mark, is fine).

use std::collections::hash_map::{Entry as MapEntry, HashMap};
use std::collections::HashSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bank::{Level, QuestionContent, QuestionKind, StatuteRegistry, EMPTY_EXPLANATION_KEY, MISSING_CITATION_KEY};
use super::said::{Located, Said};
use super::validation::Problem;

mod aiken;
mod gift;
mod lawcert_toml;
mod moodle;
pub mod sanitize;
mod xlsx;

/// The first sheet of an .xlsx file as text cells by row, then column (0-based), after the
/// same archive checks as a bank import (see the module `xlsx`).
pub fn xlsx_text_cells(
    bytes: &[u8],
) -> Result<std::collections::BTreeMap<u32, std::collections::BTreeMap<u32, Result<String, String>>>, String> {
    xlsx::text_cells(bytes)
}

/// Excel's name of a 0-based column (A, B, …, AA).
pub fn xlsx_column_name(col: u32) -> String {
    xlsx::column_name(col)
}

/// The file formats questions can be imported from (and some exported to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Lawcert,
    Xlsx,
    #[serde(rename = "moodle")]
    MoodleXml,
    Gift,
    Aiken,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Lawcert, Format::Xlsx, Format::MoodleXml, Format::Gift, Format::Aiken];

    /// The format a file name's extension suggests: `.toml`, `.xlsx`, `.xml` (Moodle), `.gift`,
    /// `.txt` (Aiken).
    pub fn from_filename(name: &str) -> Option<Format> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Lawcert),
            "xlsx" => Some(Format::Xlsx),
            "xml" => Some(Format::MoodleXml),
            "gift" => Some(Format::Gift),
            "txt" => Some(Format::Aiken),
            _ => None,
        }
    }

    /// The inverse of [`Format::as_str`] (case-insensitive).
    pub fn parse_name(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Lawcert => "lawcert",
            Format::Xlsx => "xlsx",
            Format::MoodleXml => "moodle",
            Format::Gift => "gift",
            Format::Aiken => "aiken",
        }
    }

    /// Trainers' plain files (Aiken, GIFT, Moodle XML as other tools write them) carry no
    /// citation and often no explanation: their questions import as incomplete drafts (see
    /// [`Entry::incomplete`]). Excel and TOML files have a column or field for both, and a
    /// missing one is an error.
    pub fn allows_incomplete(self) -> bool {
        matches!(self, Format::Aiken | Format::Gift | Format::MoodleXml)
    }

    /// GIFT and Aiken cannot hold lawcert's metadata in a way other tools keep, so they are
    /// import-only.
    pub fn can_export(self) -> bool {
        matches!(self, Format::Lawcert | Format::Xlsx | Format::MoodleXml)
    }

    /// File extension (without the dot) for a file in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Lawcert => "toml",
            Format::Xlsx => "xlsx",
            Format::MoodleXml => "xml",
            Format::Gift => "gift",
            Format::Aiken => "txt",
        }
    }

    /// MIME type for a download in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Lawcert => "application/toml",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::MoodleXml => "application/xml",
            Format::Gift | Format::Aiken => "text/plain; charset=utf-8",
        }
    }
}

/// Values a trainer picks on the import form for fields the file does not carry.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Defaults {
    pub statute: Option<String>,
    pub edition: Option<String>,
    pub difficulty: Option<i32>,
    pub levels: Vec<Level>,
}

impl Defaults {
    /// Defaults as typed on the command line (`--statute`, `--edition`, `--difficulty`,
    /// `--levels`), read as the import form's values are: difficulty `1`–`3` or 易/中/难, levels
    /// as a list of `basic`/基本级 …. The statute is looked up when the file is read.
    pub fn from_text(
        statute: Option<&str>,
        edition: Option<&str>,
        difficulty: Option<&str>,
        levels: Option<&str>,
    ) -> Result<Defaults, String> {
        let nonblank = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let difficulty = match nonblank(difficulty) {
            None => None,
            Some(d) => Some(parse_difficulty(&d).ok_or_else(|| format!("difficulty {d:?} must be 1, 2, 3 or 易, 中, 难"))?),
        };
        let mut parsed = Vec::new();
        for token in levels.unwrap_or("").split(|c: char| is_list_separator(c) || c.is_whitespace()).filter(|t| !t.is_empty()) {
            parsed.push(
                parse_level(token).ok_or_else(|| format!("level {token:?} must be basic, intermediate, advanced or 基本级, 中级, 高级"))?,
            );
        }
        parsed.sort();
        parsed.dedup();
        Ok(Defaults { statute: nonblank(statute), edition: nonblank(edition).map(|e| normalise_edition(&e)), difficulty, levels: parsed })
    }
}

/// The case-analysis group a question belongs to (lawcert TOML only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub code: String,
    pub title: String,
    pub text: String,
    /// 0-based position of the item in its case, as `questions.case_position` stores it.
    pub position: i32,
}

/// One question read from a file, with every problem found in it.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Where in the file: `row 5` (xlsx), `line 12` (TOML, GIFT, Aiken), `question 3 at line 40`
    /// (Moodle); see [`place`].
    pub location: Said,
    /// Stable question id.
    pub code: String,
    pub content: QuestionContent,
    pub case: Option<CaseRef>,
    /// Every problem with this entry: the format's own (`column F (难度): …`, `line 12: …`) and
    /// `QuestionContent::validate`'s, except a validate message that only repeats a more specific
    /// one (`unknown statute ""` after `missing statute: …`). Empty means importable, provided
    /// the file has no file errors (duplicate ids are file errors). Their places are inside the
    /// entry (`line 14` of an Aiken question, `column F (难度)`), not the entry's own.
    pub errors: Vec<Located>,
    /// What the entry lacks to be reviewed (`articles`, `explanation`) in a format whose files
    /// cannot carry it ([`Format::allows_incomplete`]): it is imported as an incomplete draft
    /// instead of being refused.
    pub incomplete: Vec<&'static str>,
}

/// A foreign question type lawcert cannot hold (essay, matching, short answer, numerical,
/// description, …): listed so the trainer sees what was left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    pub location: Said,
    pub kind: String,
    pub title: String,
}

/// Everything read from one file.
#[derive(Clone, Debug, Serialize)]
pub struct Parsed {
    pub format: Format,
    pub entries: Vec<Entry>,
    pub unsupported: Vec<Unsupported>,
    /// Problems not tied to one entry (unreadable file, refused archive, bad header row,
    /// duplicate ids, syntax errors), each naming its place in the file.
    pub file_errors: Vec<Located>,
}

impl Parsed {
    fn new(format: Format) -> Parsed {
        Parsed { format, entries: Vec::new(), unsupported: Vec::new(), file_errors: Vec::new() }
    }

    fn failed(format: Format, error: Located) -> Parsed {
        Parsed { file_errors: vec![error], ..Parsed::new(format) }
    }

    /// Entries that would be imported as incomplete drafts.
    pub fn incomplete_count(&self) -> usize {
        self.entries.iter().filter(|e| !e.incomplete.is_empty()).count()
    }

    pub fn error_count(&self) -> usize {
        self.file_errors.len() + self.entries.iter().map(|e| e.errors.len()).sum::<usize>()
    }

    /// No file errors and no entry errors (unsupported questions are not errors).
    pub fn is_clean(&self) -> bool {
        self.error_count() == 0
    }
}

/// Reads a file in `format`. Never panics; every problem is reported in the result.
pub fn parse(format: Format, file_name: &str, bytes: &[u8], defaults: &Defaults, registry: &StatuteRegistry) -> Parsed {
    let mut parsed = match format {
        Format::Lawcert => lawcert_toml::parse(file_name, bytes, registry),
        Format::Xlsx => xlsx::parse(bytes, defaults, registry),
        Format::MoodleXml => moodle::parse(bytes, defaults, registry),
        Format::Gift => gift::parse(bytes, defaults, registry),
        Format::Aiken => aiken::parse(bytes, defaults, registry),
    };
    let mut first: HashMap<&str, &Said> = HashMap::new();
    let mut duplicates = Vec::new();
    for e in &parsed.entries {
        match first.entry(&e.code) {
            MapEntry::Occupied(o) => duplicates.push(Located::whole(
                Said::new(
                    "bank_file.duplicate_id",
                    vec![("id", e.code.clone())],
                    format!("duplicate id {} at {} (first at {})", e.code, e.location, o.get()),
                )
                .with_part("at", e.location.clone())
                .with_part("first", (*o.get()).clone()),
            )),
            MapEntry::Vacant(v) => {
                v.insert(&e.location);
            }
        }
    }
    parsed.file_errors.extend(duplicates);
    if format.allows_incomplete() {
        for e in &mut parsed.entries {
            e.incomplete = e.content.missing_for_review();
            e.errors.retain(|m| !(m.at.is_empty() && [MISSING_CITATION_KEY, EMPTY_EXPLANATION_KEY].contains(&m.what.key.as_str())));
        }
    }
    if parsed.entries.is_empty() && parsed.unsupported.is_empty() && parsed.file_errors.is_empty() {
        parsed.file_errors.push(Located::whole(Said::new(
            "bank_file.no_questions",
            vec![("format", format.as_str().to_string())],
            format!("no questions found: is this a {} file?", format.as_str()),
        )));
    }
    parsed
}

/// A question to export, as stored.
#[derive(Clone, Debug)]
pub struct ExportItem {
    pub code: String,
    pub content: QuestionContent,
    pub case: Option<CaseRef>,
}

/// Writes `items` as a file in `format` that [`parse`] reads back to the same contents.
pub fn export(format: Format, items: &[ExportItem], registry: &StatuteRegistry) -> Result<Vec<u8>, String> {
    match format {
        Format::Lawcert => lawcert_toml::export(items),
        Format::Xlsx => xlsx::export(items),
        Format::MoodleXml => Ok(moodle::export(items, registry)),
        Format::Gift | Format::Aiken => Err(format!("{} files can be imported but not exported", format.as_str())),
    }
}

/// The Excel import template trainers fill in (example rows and a 说明 sheet).
pub fn xlsx_template() -> Vec<u8> {
    xlsx::template()
}

// ---------------------------------------------------------------------------------------------
// Shared by the foreign formats: field names, value parsers, and the draft → entry step.

/// A question field as named in xlsx headers, Aiken extension lines, GIFT `// lawcert:` comments
/// and Moodle tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Kind,
    Statute,
    Edition,
    Articles,
    Difficulty,
    Levels,
    Stem,
    /// Option A..F as 0..5.
    Option(u8),
    Answer,
    Explanation,
    Tags,
}

impl Field {
    /// The name the xlsx template uses.
    fn chinese(self) -> String {
        match self {
            Field::Id => "题号".into(),
            Field::Kind => "题型".into(),
            Field::Statute => "法律".into(),
            Field::Edition => "版本".into(),
            Field::Articles => "条文".into(),
            Field::Difficulty => "难度".into(),
            Field::Levels => "适用等级".into(),
            Field::Stem => "题干".into(),
            Field::Option(i) => format!("选项{}", option_letter(i as usize)),
            Field::Answer => "答案".into(),
            Field::Explanation => "解析".into(),
            Field::Tags => "标签".into(),
        }
    }
}

/// Looks a field up by its English or Chinese name (case and spaces ignored).
fn field_by_name(name: &str) -> Option<Field> {
    let key: String = name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    let f = match key.as_str() {
        "id" | "题号" | "编号" => Field::Id,
        "type" | "题型" => Field::Kind,
        "statute" | "法律" => Field::Statute,
        "edition" | "版本" => Field::Edition,
        "articles" | "article" | "条文" => Field::Articles,
        "difficulty" | "难度" => Field::Difficulty,
        "levels" | "level" | "适用等级" | "等级" => Field::Levels,
        "stem" | "题干" => Field::Stem,
        "answer" | "答案" => Field::Answer,
        "explanation" | "解析" => Field::Explanation,
        "tags" | "tag" | "标签" => Field::Tags,
        _ => {
            let letter = key.strip_prefix("选项").or_else(|| key.strip_prefix("option")).unwrap_or(&key);
            let mut chars = letter.chars();
            match (chars.next().map(|c| c.to_ascii_uppercase()), chars.next()) {
                (Some(c @ 'A'..='F'), None) => Field::Option(c as u8 - b'A'),
                _ => return None,
            }
        }
    };
    Some(f)
}

fn option_letter(i: usize) -> char {
    char::from(b'A' + (i.min(25) as u8))
}

/// Metadata a foreign question may carry.
#[derive(Debug, Default)]
struct Meta {
    statute: Option<String>,
    edition: Option<String>,
    articles: Vec<String>,
    difficulty: Option<i32>,
    levels: Vec<Level>,
    tags: Vec<String>,
}

/// Fields already reported with a specific message, whose generic `validate` message would only
/// repeat it.
#[derive(Debug, Default)]
struct Reported {
    statute: bool,
    difficulty: bool,
    levels: bool,
    answer: bool,
}

impl Reported {
    fn covers(&self, p: &Problem) -> bool {
        let answer_keys = [
            "question.answer_repeats",
            "question.answer_not_option",
            "question.single_answer",
            "question.multiple_answer",
            "question.truefalse_answer",
        ];
        (self.statute && matches!(p.key, "question.unknown_statute" | "question.unknown_edition"))
            || (self.difficulty && p.key == "question.difficulty")
            || (self.levels && p.key == "question.no_levels")
            || (self.answer && answer_keys.contains(&p.key))
    }
}

/// A question read from a foreign format, before defaults and validation.
#[derive(Debug)]
struct Draft {
    location: Said,
    id: Option<String>,
    kind: QuestionKind,
    stem: String,
    options: Vec<String>,
    /// Stored form: sorted letters, or `T`/`F`.
    answer: String,
    explanation: String,
    meta: Meta,
    errors: Vec<Located>,
    reported: Reported,
}

impl Draft {
    fn new(location: Said) -> Draft {
        Draft {
            location,
            id: None,
            kind: QuestionKind::Single,
            stem: String::new(),
            options: Vec::new(),
            answer: String::new(),
            explanation: String::new(),
            meta: Meta::default(),
            errors: Vec::new(),
            reported: Reported::default(),
        }
    }

    fn answer_error(&mut self, message: Located) {
        self.errors.push(message);
        self.reported.answer = true;
    }

    /// Sets a metadata field (id, statute, edition, articles, difficulty, levels, tags) from its
    /// text; list fields accumulate. Blank values are ignored. `Err` says what is wrong with the
    /// value; the caller adds where it is.
    fn set(&mut self, field: Field, value: &str) -> Result<(), Said> {
        let v = value.trim();
        if v.is_empty() {
            return Ok(());
        }
        match field {
            Field::Id => self.id = Some(check_id(v)?.to_string()),
            Field::Statute => self.meta.statute = Some(v.to_string()),
            Field::Edition => self.meta.edition = Some(normalise_edition(v)),
            Field::Articles => self.meta.articles.extend(split_list(v).map(normalise_article)),
            Field::Difficulty => match parse_difficulty(v) {
                Some(d) => self.meta.difficulty = Some(d),
                None => {
                    self.reported.difficulty = true;
                    return Err(Said::new(
                        "bank_file.difficulty",
                        vec![("value", v.to_string())],
                        format!("difficulty {v:?} must be 1, 2, 3 or 易, 中, 难"),
                    ));
                }
            },
            Field::Levels => {
                for token in v.split(|c: char| is_list_separator(c) || c.is_whitespace()).filter(|t| !t.is_empty()) {
                    match parse_level(token) {
                        Some(l) => self.meta.levels.push(l),
                        None => {
                            self.reported.levels = true;
                            return Err(Said::new(
                                "bank_file.level",
                                vec![("value", token.to_string())],
                                format!("level {token:?} must be basic, intermediate, advanced or 基本级, 中级, 高级"),
                            ));
                        }
                    }
                }
            }
            Field::Tags => self.meta.tags.extend(split_list(v).map(str::to_string)),
            Field::Explanation => self.explanation = v.to_string(),
            // content fields are read by each format itself
            Field::Kind | Field::Stem | Field::Option(_) | Field::Answer => {}
        }
        Ok(())
    }

    /// Applies the defaults, fills in the id, and validates.
    fn finish(self, defaults: &Defaults, registry: &StatuteRegistry) -> Entry {
        let Draft { location, id, kind, stem, options, answer, explanation, meta, mut errors, mut reported } = self;
        let default_statute = defaults.statute.as_deref().and_then(|s| find_statute(registry, s));
        let statute = match meta.statute.as_deref().or(defaults.statute.as_deref()) {
            Some(s) => find_statute(registry, s).unwrap_or_else(|| {
                errors.push(Located::whole(Said::new(
                    "bank_file.unknown_statute",
                    vec![("value", s.to_string())],
                    format!("unknown statute {s:?}: give a code, short name or full name from statutes.toml"),
                )));
                reported.statute = true;
                s.trim().to_string()
            }),
            None => {
                errors.push(Located::whole(Said::plain(
                    "bank_file.missing_statute",
                    "missing statute: the file gives none and no default statute was chosen",
                )));
                reported.statute = true;
                String::new()
            }
        };
        let edition = meta
            .edition
            .or_else(|| defaults.edition.as_deref().filter(|_| default_statute.as_deref() == Some(statute.as_str())).map(normalise_edition))
            .or_else(|| latest_edition(registry, &statute))
            .unwrap_or_default();
        let difficulty = meta.difficulty.or(defaults.difficulty).unwrap_or_else(|| {
            if !reported.difficulty {
                errors.push(Located::whole(Said::plain(
                    "bank_file.missing_difficulty",
                    "missing difficulty: the file gives none and no default difficulty was chosen",
                )));
                reported.difficulty = true;
            }
            0
        });
        let mut levels = if meta.levels.is_empty() { defaults.levels.clone() } else { meta.levels };
        levels.sort();
        levels.dedup();
        if levels.is_empty() && !reported.levels {
            errors.push(Located::whole(Said::plain(
                "bank_file.missing_levels",
                "missing levels: the file gives none and no default levels were chosen",
            )));
            reported.levels = true;
        }
        let stem = plain_chars(&stem);
        let options: Vec<String> = options.iter().map(|o| plain_chars(o)).collect();
        let mut seen = HashSet::new();
        let tags: Vec<String> = meta.tags.iter().map(|t| plain_chars(t)).filter(|t| !t.is_empty() && seen.insert(t.clone())).collect();
        let code = id.unwrap_or_else(|| generated_code(&statute, &stem, &options));
        let content = QuestionContent {
            kind,
            statute,
            edition,
            articles: meta.articles.iter().map(|a| plain_chars(a)).collect(),
            difficulty,
            levels,
            stem,
            options,
            answer,
            explanation: plain_chars(&explanation),
            tags,
        };
        errors.extend(content.validate(registry).into_iter().filter(|m| !reported.covers(m)).map(Located::whole));
        Entry { location, code, content, case: None, errors, incomplete: Vec::new() }
    }
}

/// `IMP-` + 10 hex digits of a hash of what identifies the question.
fn generated_code(statute: &str, stem: &str, options: &[String]) -> String {
    let mut text = format!("{statute}\0{stem}");
    for o in options {
        text.push('\0');
        text.push_str(o);
    }
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    format!("IMP-{}", &hash[..10])
}

/// Ids given in a file follow the bank rule (no spaces), kept short enough to show. Control
/// characters are refused too: texts drop them (`plain_chars`), but an id is kept as written,
/// and one with an invisible character (fuzzing found `\u{7f}` from an Aiken `ID:` line) looks
/// like another id, is written out by the Moodle export without it, and cannot be stored at all
/// in PostgreSQL if it is NUL.
fn check_id(v: &str) -> Result<&str, Said> {
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) || v.chars().count() > 64 {
        Err(Said::new(
            "bank_file.bad_id",
            vec![("id", format!("{v:?}"))],
            format!("id {v:?} must have no spaces or control characters and at most 64 characters"),
        ))
    } else {
        Ok(v)
    }
}

/// Whether a title (Moodle `<name>`, GIFT `::title::`) is meant as an id rather than a caption.
fn looks_like_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The registry code of a statute named by code, short name or full name.
fn find_statute(registry: &StatuteRegistry, name: &str) -> Option<String> {
    let n = name.trim().trim_start_matches('《').trim_end_matches('》').trim();
    registry
        .statutes
        .iter()
        .find(|s| s.code.eq_ignore_ascii_case(n) || s.short == n || s.name == n)
        .map(|s| s.code.clone())
        .or_else(|| registry.editions.keys().find(|c| c.eq_ignore_ascii_case(n)).cloned())
}

/// The edition in force last.
fn latest_edition(registry: &StatuteRegistry, statute: &str) -> Option<String> {
    registry.editions.get(statute)?.iter().max_by_key(|e| e.in_force).map(|e| e.code.clone())
}

fn normalise_edition(s: &str) -> String {
    let s = s.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(s, f).ok())
        .map_or_else(|| s.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

fn is_list_separator(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | ';' | '；' | '\n')
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_list_separator).map(str::trim).filter(|t| !t.is_empty())
}

fn parse_difficulty(s: &str) -> Option<i32> {
    match s.trim().to_lowercase().as_str() {
        "1" | "易" | "简单" | "easy" => Some(1),
        "2" | "中" | "中等" | "medium" => Some(2),
        "3" | "难" | "困难" | "hard" => Some(3),
        _ => None,
    }
}

fn parse_level(s: &str) -> Option<Level> {
    let s = s.trim().to_lowercase();
    Level::ALL.into_iter().find(|l| l.chinese() == s).or_else(|| Level::parse(&s))
}

/// A true/false answer: 对/错, 正确/错误, √/×, true/false, T/F.
fn parse_true_false(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "对" | "正确" | "√" | "✓" | "✔" | "true" | "t" => Some(true),
        "错" | "错误" | "×" | "✗" | "✘" | "false" | "f" => Some(false),
        _ => None,
    }
}

/// Answer letters in any case and order, with or without separators (full-width letters too).
fn parse_letters(s: &str) -> Result<String, Said> {
    let mut letters = String::new();
    for c in s.chars() {
        let c = match c {
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        };
        if c.is_ascii_alphabetic() {
            letters.push(c.to_ascii_uppercase());
        } else if !(c.is_whitespace() || is_list_separator(c) || c == '/') {
            return Err(Said::new(
                "bank_file.answer_letters",
                vec![("value", s.trim().to_string())],
                format!("answer {:?} must be option letters such as B or ACD", s.trim()),
            ));
        }
    }
    if letters.is_empty() {
        return Err(Said::plain("bank_file.no_answer", "missing answer"));
    }
    Ok(super::bank::normalise_letters(&letters))
}

/// `第20条` → `20`, `第一百三十三条之一` → `133之一`; anything else is kept as written.
fn normalise_article(raw: &str) -> String {
    let s = raw.trim();
    let t = s.strip_prefix('第').unwrap_or(s);
    let (number, rest) = t.split_at(t.find(['条', '之']).unwrap_or(t.len()));
    let rest = rest.strip_prefix('条').unwrap_or(rest);
    let suffix_ok =
        rest.is_empty() || rest.strip_prefix('之').is_some_and(|n| !n.is_empty() && n.chars().all(|c| chinese_digit(c).is_some()));
    match article_number(number) {
        Some(n) if suffix_ok => format!("{n}{rest}"),
        _ => s.to_string(),
    }
}

fn article_number(s: &str) -> Option<u32> {
    let digits: String = s
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse().ok().filter(|n| *n > 0);
    }
    chinese_number(s).filter(|n| *n > 0)
}

fn chinese_digit(c: char) -> Option<u32> {
    "零一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32).or(match c {
        '〇' => Some(0),
        '两' => Some(2),
        _ => None,
    })
}

/// 一 … 九千九百九十九 (article numbers).
fn chinese_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let (mut total, mut digit) = (0u32, None::<u32>);
    for c in s.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            c => {
                digit = Some(chinese_digit(c)?);
                continue;
            }
        };
        total += digit.take().unwrap_or(1) * unit;
    }
    Some(total + digit.unwrap_or(0))
}

/// Drops control characters other than line breaks and tabs (PostgreSQL refuses NUL, and none
/// of them can be typed) and trims.
fn plain_chars(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect::<String>().trim().to_string()
}

/// Adds per-answer feedback to an explanation, one `label：feedback` line each.
fn append_feedback(explanation: &mut String, label: &str, feedback: &str) {
    if feedback.is_empty() {
        return;
    }
    if !explanation.is_empty() {
        explanation.push('\n');
    }
    explanation.push_str(&format!("{label}：{feedback}"));
}

/// 1-based line numbers of byte offsets, for a text with many things to locate.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect())
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|nl| *nl < offset) + 1
    }
}

/// The file's text: UTF-8 (byte-order mark allowed) or UTF-16 with a byte-order mark.
fn decode_text(bytes: &[u8]) -> Result<String, Located> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks(2).map(|c| unit([c[0], c.get(1).copied().unwrap_or(0)])).collect();
        String::from_utf16(&units).map_err(|_| Located::whole(Said::plain("bank_file.not_utf16", "the file is not valid UTF-16 text")))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        utf8(bytes)
    }
}

fn utf8(bytes: &[u8]) -> Result<String, Located> {
    std::str::from_utf8(bytes).map(str::to_string).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        Located::new(
            vec![place::line(line)],
            Said::plain("bank_file.not_utf8", "the file is not UTF-8 text; save it with UTF-8 encoding (另存为 → 编码 UTF-8)"),
        )
    })
}

/// A library's own message (an XML or TOML reader's, a zip archive's), which has no catalogue
/// key: said as it is in every language, inside a sentence that is.
fn verbatim(text: impl std::fmt::Display) -> Said {
    let text = text.to_string();
    Said::new("bank_file.text", vec![("text", text.clone())], text)
}

/// `said` at `line n`.
fn at_line(n: usize, said: Said) -> Located {
    Located::new(vec![place::line(n)], said)
}

/// Places in a bank file, said in the reader's language (`problem.bank_file.at_*`).
pub mod place {
    use crate::domain::said::Said;

    /// `line 12` of a text file.
    pub fn line(n: usize) -> Said {
        Said::new("bank_file.at_line", vec![("line", n.to_string())], format!("line {n}"))
    }

    /// `row 5` of a sheet.
    pub fn row(n: usize) -> Said {
        Said::new("bank_file.at_row", vec![("row", n.to_string())], format!("row {n}"))
    }

    /// The n-th question of a Moodle file, at its line.
    pub fn question(n: usize, line: usize) -> Said {
        Said::new("bank_file.at_question", vec![("n", n.to_string()), ("line", line.to_string())], format!("question {n} at line {line}"))
    }

    /// A sheet's column by letter.
    pub fn column(letter: &str) -> Said {
        Said::new("bank_file.at_column", vec![("column", letter.to_string())], format!("column {letter}"))
    }

    /// A sheet's column by letter and header.
    pub fn column_named(letter: &str, header: &str) -> Said {
        Said::new(
            "bank_file.at_column_named",
            vec![("column", letter.to_string()), ("header", header.to_string())],
            format!("column {letter} ({header})"),
        )
    }

    /// A question's id, naming it in its file.
    pub fn id(id: &str) -> Said {
        Said::new("bank_file.at_id", vec![("id", id.to_string())], id)
    }

    /// The n-th answer of a question (GIFT, Moodle).
    pub fn answer(n: usize) -> Said {
        Said::new("bank_file.at_answer", vec![("n", n.to_string())], format!("answer {n}"))
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A small registry and sample questions shared by the format tests.

    use std::path::Path;

    use super::*;
    use crate::domain::bank::parse_statutes;

    pub const STATUTES: &str = r#"
[[statute]]
code = "criminal-law"
name = "中华人民共和国刑法"
short = "刑法"
  [[statute.edition]]
  code = "2020-12-26"
  title = "修正案（十一）"
  in_force = "2021-03-01"
  [[statute.edition]]
  code = "2023-12-29"
  title = "修正案（十二）"
  in_force = "2024-03-01"

[[statute]]
code = "public-security-penalties"
name = "中华人民共和国治安管理处罚法"
short = "治安管理处罚法"
  [[statute.edition]]
  code = "2012-10-26"
  title = "2012年修正"
  in_force = "2013-01-01"
"#;

    pub fn registry() -> StatuteRegistry {
        parse_statutes(Path::new("statutes.toml"), STATUTES).expect("test statutes parse")
    }

    pub fn defaults() -> Defaults {
        Defaults { statute: Some("刑法".into()), edition: None, difficulty: Some(2), levels: vec![Level::Basic] }
    }

    fn content(kind: QuestionKind, stem: &str, options: &[&str], answer: &str) -> QuestionContent {
        QuestionContent {
            kind,
            statute: "criminal-law".into(),
            edition: "2023-12-29".into(),
            articles: vec!["20".into()],
            difficulty: 2,
            levels: vec![Level::Basic, Level::Intermediate],
            stem: stem.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            answer: answer.into(),
            explanation: "根据《刑法》第二十条，……".into(),
            tags: vec![],
        }
    }

    /// A workbook with the given cells on its first sheet.
    pub fn xlsx_book(rows: &[&[&str]]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if let Some(n) = v.strip_prefix('#').and_then(|n| n.parse::<f64>().ok()) {
                    sheet.write_number(r as u32, c as u16, n).unwrap();
                } else if !v.is_empty() {
                    sheet.write_string(r as u32, c as u16, *v).unwrap();
                }
            }
        }
        book.save_to_buffer().unwrap()
    }

    /// A small deterministic random sequence (xorshift) from `seed`, for garbling test input.
    pub fn xorshift(mut seed: u32) -> impl FnMut() -> usize {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        }
    }

    /// Calls `f` with `n` strings of random `tokens` (deterministic).
    pub fn fuzz(tokens: &[&str], n: usize, mut f: impl FnMut(&str)) {
        let mut next = xorshift(0x9e37_79b9);
        for _ in 0..n {
            let len = next() % 60;
            let s: String = (0..len).map(|_| tokens[next() % tokens.len()]).collect();
            f(&s);
        }
    }

    /// Five valid questions of every type, with awkward text, and three items of one case.
    pub fn items() -> Vec<ExportItem> {
        let mut single = content(
            QuestionKind::Single,
            "正当防卫的“限度”是指：\n（多行题干）",
            &["必要限度", "a < b && c > d", "\"引号\" 'single'", "甲&乙"],
            "A",
        );
        single.tags = vec!["正当防卫".into(), "statute:not-meta".into(), "a:b".into()];
        let mut multiple = content(QuestionKind::Multiple, "下列属于特殊防卫对象的有：", &["行凶", "杀人", "抢劫", "一般盗窃"], "ABC");
        multiple.articles = vec!["20".into(), "133之一".into()];
        multiple.levels = vec![Level::Advanced];
        multiple.explanation = "第一段 <b>不是标签</b>\n\n第二段 &amp; 实体".into();
        let mut tf = content(QuestionKind::TrueFalse, "防卫过当应当负刑事责任。", &[], "T");
        tf.difficulty = 1;
        let mut other = content(QuestionKind::Single, "违反治安管理行为的处罚种类不包括：", &["警告", "罚款", "有期徒刑"], "C");
        other.statute = "public-security-penalties".into();
        other.edition = "2012-10-26".into();
        other.articles = vec!["10".into()];
        let mut tf2 = content(QuestionKind::TrueFalse, "紧急避险不负刑事责任。", &[], "F");
        tf2.articles = vec!["21".into()];
        let case = |position: i32| CaseRef {
            code: "CASE-T1".into(),
            title: "夜市斗殴案".into(),
            text: "甲、乙二人\n在夜市 \"斗殴\" <案情>。".into(),
            position,
        };
        let mut items: Vec<ExportItem> = [("T-1", single), ("T-2", multiple), ("T-3", tf), ("T-4", other), ("T-5", tf2)]
            .into_iter()
            .map(|(code, content)| ExportItem { code: code.into(), content, case: None })
            .collect();
        for p in 0..3 {
            let c =
                content(QuestionKind::Single, &format!("案例小题{}：甲的行为属于？", p + 1), &["正当防卫", "防卫过当", "故意伤害"], "B");
            items.push(ExportItem { code: format!("CASE-T1-{}", p + 1), content: c, case: Some(case(p)) });
        }
        items
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn format_names_and_extensions() {
        for f in Format::ALL {
            assert_eq!(Format::parse_name(f.as_str()), Some(f));
            assert_eq!(Format::from_filename(&format!("题库.{}", f.extension().to_uppercase())), Some(f));
        }
        assert_eq!(Format::from_filename("noext"), None);
        assert_eq!(serde_json::to_string(&Format::MoodleXml).unwrap(), "\"moodle\"");
        assert!(Format::Lawcert.can_export() && !Format::Gift.can_export() && !Format::Aiken.can_export());
        assert!(export(Format::Gift, &[], &registry()).is_err());
    }

    #[test]
    fn every_parser_survives_every_other_format() {
        let reg = registry();
        let mut samples: Vec<Vec<u8>> =
            [Format::Lawcert, Format::Xlsx, Format::MoodleXml].iter().map(|f| export(*f, &items(), &reg).unwrap()).collect();
        samples.push(xlsx_template());
        samples.extend(
            [&b""[..], b"\xff\xfe\xfd", b"{", b"<", b"PK\x03\x04", b"\0\0\0\0", "题\nA. x\nANSWER: A".as_bytes()].map(<[u8]>::to_vec),
        );
        let mut seed = 7u32;
        samples.push(
            (0..4096)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect(),
        );
        for f in Format::ALL {
            for bytes in &samples {
                let p = parse(f, "x", bytes, &defaults(), &reg);
                if bytes.is_empty() {
                    assert_eq!(p.file_errors.len(), 1, "{f:?}: {:?}", p.file_errors);
                }
            }
        }
    }

    #[test]
    fn articles_are_normalised() {
        let cases = [
            ("20", "20"),
            ("第20条", "20"),
            ("第二十条", "20"),
            ("第一百三十三条之一", "133之一"),
            ("133之一", "133之一"),
            ("第２０条", "20"),
            ("第十七条之一", "17之一"),
            ("第二百零五条", "205"),
            ("第20条第2款", "第20条第2款"),
            ("附则", "附则"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_article(raw), want, "{raw}");
        }
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_letters("c, a").unwrap(), "AC");
        assert_eq!(parse_letters("ＡＣ").unwrap(), "AC");
        assert!(parse_letters("A和C").is_err());
        assert_eq!(parse_difficulty("难"), Some(3));
        assert_eq!(parse_level("Intermediate"), Some(Level::Intermediate));
        assert_eq!(parse_true_false("√"), Some(true));
        assert_eq!(parse_true_false("错误"), Some(false));
        assert_eq!(normalise_edition("2023年12月29日"), "2023-12-29");
        assert_eq!(field_by_name("选项 C"), Some(Field::Option(2)));
        assert_eq!(field_by_name("Option F"), Some(Field::Option(5)));
        assert_eq!(field_by_name("G"), None);
        assert_eq!(decode_text(b"\xEF\xBB\xBFok").unwrap(), "ok");
        assert_eq!(decode_text(b"\xFF\xFEo\0k\0").unwrap(), "ok");
        assert!(decode_text(b"a\nb\n\xC4\xE3").unwrap_err().to_string().starts_with("line 3:"));
    }

    #[test]
    fn statutes_are_found_by_any_name_and_default_to_the_latest_edition() {
        let reg = registry();
        for name in ["criminal-law", "刑法", "中华人民共和国刑法", "《刑法》"] {
            assert_eq!(find_statute(&reg, name).as_deref(), Some("criminal-law"));
        }
        let mut d = Draft::new(place::line(1));
        d.stem = "题".into();
        d.options = vec!["a".into(), "b".into()];
        d.answer = "A".into();
        d.explanation = "因为".into();
        d.set(Field::Articles, "第20条").unwrap();
        let e = d.finish(&defaults(), &reg);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(e.content.edition, "2023-12-29");
        assert!(e.code.starts_with("IMP-") && e.code.len() == 14);
    }

    #[test]
    fn missing_metadata_is_named_once() {
        let mut d = Draft::new(place::line(1));
        d.stem = "题".into();
        d.options = vec!["a".into(), "b".into()];
        d.answer = "A".into();
        assert!(d.set(Field::Difficulty, "很难").is_err());
        let e = d.finish(&Defaults::default(), &registry());
        let text = e.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(text.contains("missing statute"), "{text}");
        assert!(!text.contains("unknown statute"), "{text}");
        assert!(text.contains("missing levels") && !text.contains("`levels`"), "{text}");
        assert!(!text.contains("difficulty 0"), "{text}");
        assert!(text.contains("missing citation") && text.contains("empty explanation"), "{text}");
    }

    #[test]
    fn plain_files_give_incomplete_drafts_where_excel_and_toml_give_errors() {
        let reg = registry();
        let aiken = "题干\nA. 甲\nB. 乙\nANSWER: A\n";
        let p = parse(Format::Aiken, "x.txt", aiken.as_bytes(), &defaults(), &reg);
        assert!(p.is_clean(), "{:?}", p.entries[0].errors);
        assert_eq!(p.entries[0].incomplete, vec!["articles", "explanation"]);
        assert_eq!(p.incomplete_count(), 1);
        // with a citation but no explanation, only the explanation is missing
        let cited = format!("{aiken}ARTICLES: 20\n");
        assert_eq!(parse(Format::Aiken, "x.txt", cited.as_bytes(), &defaults(), &reg).entries[0].incomplete, vec!["explanation"]);
        // a real error stays an error
        let bad = aiken.replace("ANSWER: A", "ANSWER: C");
        assert!(!parse(Format::Aiken, "x.txt", bad.as_bytes(), &defaults(), &reg).is_clean());
        // so does a statute nobody named
        let p = parse(Format::Aiken, "x.txt", aiken.as_bytes(), &Defaults { statute: None, ..defaults() }, &reg);
        assert!(p.entries[0].errors.iter().any(|e| e.to_string().starts_with("missing statute")), "{:?}", p.entries[0].errors);
        // the lawcert format has fields for both: missing ones are errors there
        let toml = "statute = \"criminal-law\"\nedition = \"2023-12-29\"\n[[question]]\nid = \"Q-1\"\ntype = \"single\"\narticles = []\ndifficulty = 1\nlevels = [\"basic\"]\nstem = \"题\"\noptions = [\"甲\", \"乙\"]\nanswer = \"A\"\nexplanation = \"\"\n";
        let p = parse(Format::Lawcert, "x.toml", toml.as_bytes(), &defaults(), &reg);
        assert!(!p.is_clean() && p.incomplete_count() == 0);
        assert!(Format::MoodleXml.allows_incomplete() && Format::Gift.allows_incomplete() && !Format::Xlsx.allows_incomplete());
    }

    #[test]
    fn command_line_defaults_are_read_like_the_form() {
        let d = Defaults::from_text(Some(" 刑法 "), Some("2023年12月29日"), Some("难"), Some("中级, basic")).unwrap();
        assert_eq!(d.statute.as_deref(), Some("刑法"));
        assert_eq!(d.edition.as_deref(), Some("2023-12-29"));
        assert_eq!(d.difficulty, Some(3));
        assert_eq!(d.levels, vec![Level::Basic, Level::Intermediate]);
        assert!(Defaults::from_text(None, None, Some("9"), None).unwrap_err().contains("difficulty"));
        assert!(Defaults::from_text(None, None, None, Some("expert")).unwrap_err().contains("level"));
        let none = Defaults::from_text(None, Some(""), None, None).unwrap();
        assert!(none.statute.is_none() && none.edition.is_none() && none.levels.is_empty());
    }

    #[test]
    fn default_edition_applies_only_to_the_default_statute() {
        let reg = registry();
        let defaults = Defaults { edition: Some("2020-12-26".into()), ..defaults() };
        let mut d = Draft::new(place::line(1));
        d.set(Field::Statute, "治安管理处罚法").unwrap();
        assert_eq!(d.finish(&defaults, &reg).content.edition, "2012-10-26");
        let d = Draft::new(place::line(1));
        assert_eq!(d.finish(&defaults, &reg).content.edition, "2020-12-26");
    }
}

/// Every problem the parsers and `QuestionContent::validate` find is said in both languages:
/// a corpus of broken files in every format, each problem rendered from the catalogues.
#[cfg(test)]
mod said_in_both_languages {
    use std::collections::BTreeSet;

    use super::testutil::*;
    use super::*;
    use crate::render::{say_located, say_problem};

    /// Broken files: each kind of problem at least once per format.
    fn corpus() -> Vec<(Format, Vec<u8>, Defaults)> {
        let aiken = "题一\nANSWER: A\n\n题二\nA. 甲\nC. 乙\nANSWER: Z\nDIFFICULTY: 很难\nLEVELS: 专家\nID: a b\nANSWER: A\n随便\n\n\
                     题三\nA. 甲\n不是选项\n\n只有题干\n\n题四\nA. 甲\nB. 乙\nANSWER: 和\n\n题五\nA. 甲\nB. 乙\nANSWER: ,\nSTATUTE: 民法典\n\n\
                     题六\nA. 甲\nB. 甲\nANSWER: AB\nID: D-1\n\n题七\nA. 丙\nB. 丁\nANSWER: A\nID: D-1\n";
        let gift = "// lawcert: difficulty=1\n\n// lawcert: colour=red; nonsense; levels=专家\n::T1::题干 {=甲 ~乙\n\n\
                    ::未闭合 题 {=甲 ~乙}\n\n题 {=甲 ~乙} 又 {=丙}\n\n题 {=甲 ~乙\n\n题 {甲乙}\n\n题 {junk =甲 ~%abc%乙}\n";
        let moodle_bad: [&str; 9] = [
            "<quiz><question type=\"multichoice\"><name><text>&nbsp;</text></name></question></quiz>",
            "<quiz><question>",
            "<quiz></question></quiz>",
            "<quiz/><quiz/>",
            "<quiz/>text",
            "<note/>",
            "<?xml version=\"1.0\"?>",
            &"<a>".repeat(40),
            "<quiz><question type=\"multichoice\"><name><text>x</text></name><questiontext><text>题</text></questiontext>\
             <idnumber>a b</idnumber><tags><tag><text>difficulty:9</text></tag></tags>\
             <answer fraction=\"abc\"><text>甲</text></answer><answer fraction=\"100\"><text>甲</text></answer></question>\
             <question type=\"truefalse\"><questiontext><text>题</text></questiontext><answer fraction=\"0\"><text>true</text></answer></question></quiz>",
        ];
        let toml_bad = [
            "statute = \"criminal-law\"\nedition = \"2023-12-29\"\n[[question]]\nid = \"Q 1\"\ntype = \"essay\"\narticles = []\ndifficulty = 7\nlevels = [\"expert\"]\nstem = \"\"\nanswer = 1\nexplanation = \"\"\nstatus = \"gone\"\n",
            "[[question]]\nid = \"Q-2\"\ntype = \"truefalse\"\narticles = [\"20\"]\ndifficulty = 1\nlevels = [\"basic\"]\nstem = \"题\"\nanswer = \"T\"\nexplanation = \"因为\"\n",
            "statute = \"criminal-law\"\nedition = \"1999-01-01\"\n[[question]]\nid = \"Q-3\"\ntype = \"multiple\"\narticles = [\"20\", \"\"]\ndifficulty = 0\nlevels = []\nstem = \"题\"\noptions = [\"甲\", \"甲\", \"\"]\nanswer = \"AAG\"\nexplanation = \"因为\"\n",
            "statute = \"criminal-law\"\nedition = \"2023-12-29\"\n[[case]]\nid = \"C 1\"\ntitle = \"\"\ntext = \"\"\n[[case.item]]\nid = \"C-1-1\"\ntype = \"truefalse\"\narticles = [\"20\"]\ndifficulty = 1\nlevels = [\"basic\"]\nstem = \"题\"\nanswer = true\nexplanation = \"因为\"\n",
            "[[question]\n",
            "statute = \"criminal-law\"\nedition = \"2023-12-29\"\n[[question]]\nid = \"Q-4\"\ntype = \"single\"\narticles = [\"20、21\"]\ndifficulty = 1\nlevels = [\"basic\"]\nstem = \"题\\u0007\"\noptions = [\"甲\", \"乙\"]\nanswer = \"A\"\nexplanation = \"因为\"\n",
        ];
        let xlsx_bad = [
            xlsx_book(&[&[], &["题型", "题干"]]),
            xlsx_book(&[&["题型", "题干", "备注", "题干", "答案"], &["单选", "x", "y", "z", "A", "", "溢出"]]),
            xlsx_book(&[
                &["题型", "题干", "选项A", "选项B", "选项C", "答案", "条文", "解析", "难度", "适用等级", "法律", "题号"],
                &["问答", "x", "a", "b", "", "A", "1", "y", "", "", "", ""],
                &["", "x", "a", "", "c", "E", "1", "y", "很难", "专家级", "民法典", "a b"],
                &["判断", "x", "", "", "", "是", "1", "y", "", "", "", ""],
                &["单选", "x", "a", "b", "", "A和B", "1", "y", "", "", "", ""],
            ]),
            b"PK\x03\x04 not a zip".to_vec(),
        ];
        let none = Defaults::default();
        let mut out: Vec<(Format, Vec<u8>, Defaults)> = vec![
            (Format::Aiken, aiken.as_bytes().to_vec(), none.clone()),
            (Format::Aiken, aiken.as_bytes().to_vec(), defaults()),
            (Format::Aiken, b"a\nb\n\xC4\xE3".to_vec(), defaults()),
            (Format::Aiken, b"\xFF\xFE\x00\xD8".to_vec(), defaults()),
            (Format::Aiken, b"   ".to_vec(), defaults()),
            (Format::Gift, gift.as_bytes().to_vec(), defaults()),
        ];
        out.extend(moodle_bad.iter().map(|m| (Format::MoodleXml, m.as_bytes().to_vec(), defaults())));
        out.extend(toml_bad.iter().map(|t| (Format::Lawcert, t.as_bytes().to_vec(), defaults())));
        out.extend(xlsx_bad.into_iter().map(|x| (Format::Xlsx, x, defaults())));
        out
    }

    /// A rendered message is whole: every `{value}` filled, no key shown instead of text, and the
    /// Chinese one is Chinese.
    fn assert_said(lang: &str, text: &str, english: &str) {
        let unfilled = text.split('{').skip(1).any(|after| {
            after.split_once('}').is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        });
        assert!(!unfilled, "{lang}: unfilled value in {text:?} ({english})");
        assert!(!text.contains("problem."), "{lang}: missing catalogue key in {text:?} ({english})");
        if lang == "zh" {
            assert!(!text.is_ascii(), "zh: English left in {text:?} ({english})");
        }
    }

    #[test]
    fn every_parser_problem_is_said_in_both_languages_with_its_place() {
        let reg = registry();
        let mut keys = BTreeSet::new();
        for (format, bytes, defaults) in corpus() {
            let p = parse(format, "bank.x", &bytes, &defaults, &reg);
            let entry_problems = p.entries.iter().flat_map(|e| e.errors.iter().map(move |err| err.clone().within(e.location.clone())));
            for problem in p.file_errors.iter().cloned().chain(entry_problems) {
                keys.insert(problem.what.key.clone());
                keys.extend(problem.at.iter().map(|a| a.key.clone()));
                for lang in ["zh", "en"] {
                    let text = say_located(lang, &problem);
                    assert_said(lang, &text, &problem.to_string());
                    // the place comes first, in the reader's language
                    if let Some(line) = problem.at.first().and_then(|a| a.param("line").or(a.param("row"))) {
                        let place = if lang == "zh" { format!("第 {line} ") } else { format!(" {line}") };
                        assert!(text.contains(&place), "{lang}: {text:?} lost its place ({problem})");
                    }
                }
            }
        }
        // the corpus reaches what it means to: a sample of every format's and validate's keys
        for key in [
            "bank_file.aiken_option_order",
            "bank_file.aiken_not_question",
            "bank_file.duplicate_id",
            "bank_file.missing_statute",
            "bank_file.not_utf8",
            "bank_file.not_utf16",
            "bank_file.gift_unknown_key",
            "bank_file.gift_weight",
            "bank_file.xml_malformed",
            "bank_file.xml_fraction",
            "bank_file.toml_status",
            "bank_file.toml_syntax",
            "bank_file.case_size",
            "bank_file.article_list",
            "bank_file.xlsx_unknown_header",
            "bank_file.xlsx_option_gap",
            "bank_file.xlsx_not_zip",
            "question.unknown_edition",
            "question.answer_not_option",
            "question.same_options",
        ] {
            assert!(keys.contains(key), "the corpus no longer finds {key}: {keys:?}");
        }
    }

    #[test]
    fn every_question_problem_is_said_in_both_languages() {
        let reg = registry();
        let mut bad = items()[0].content.clone();
        bad.statute = "civil-code".into();
        bad.articles = vec![];
        bad.difficulty = 5;
        bad.levels = vec![];
        bad.stem = " ".into();
        bad.explanation = String::new();
        bad.options = vec!["甲".into(), "甲".into(), "".into(), "a".into(), "b".into(), "c".into(), "d".into()];
        bad.answer = "AAH".into();
        let mut multiple = items()[1].content.clone();
        multiple.options.truncate(2);
        multiple.answer = "A".into();
        let mut tf = items()[2].content.clone();
        tf.options = vec!["甲".into()];
        tf.answer = "TF".into();
        tf.edition = "1999-01-01".into();
        let problems: Vec<_> = [bad, multiple, tf].iter().flat_map(|c| c.validate(&reg)).collect();
        let keys: BTreeSet<&str> = problems.iter().map(|p| p.key).collect();
        assert!(keys.len() >= 14, "{keys:?}");
        for p in &problems {
            assert!(!p.field.is_empty(), "{p:?} names no field of the question form");
            for lang in ["zh", "en"] {
                assert_said(lang, &say_problem(lang, p, ""), &p.english);
            }
        }
    }

    /// Keys written in the code and not reached by the corpus (zip bombs, unreadable sheets) are
    /// in both catalogues too.
    #[test]
    fn every_key_in_the_code_is_in_both_catalogues() {
        let src = [
            include_str!("mod.rs"),
            include_str!("aiken.rs"),
            include_str!("gift.rs"),
            include_str!("lawcert_toml.rs"),
            include_str!("moodle.rs"),
            include_str!("xlsx.rs"),
            include_str!("../bank.rs"),
            include_str!("../../services/bank_import.rs"),
            include_str!("../../web/bank.rs"),
            include_str!("../../web/bank_files.rs"),
        ]
        .concat();
        let audit = ["question.review", "question.activate", "question.retire", "question.reinstate"];
        let found: BTreeSet<&str> = src
            .split('"')
            .filter(|s| {
                (s.starts_with("bank_file.") || s.starts_with("question."))
                    && !s.ends_with('.')
                    && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            })
            .filter(|k| !audit.contains(k))
            .collect();
        assert!(found.len() > 100, "{}", found.len());
        for lang in ["zh", "en"] {
            let cat = crate::render::catalogue(lang);
            for k in &found {
                assert!(cat.contains_key(&format!("problem.{k}")), "{lang}.toml has no problem.{k}");
            }
            for kind in QuestionKind::ALL {
                assert!(cat.contains_key(&format!("problem.bank_file.kind_{}", kind.as_str())), "{lang}: kind {kind:?}");
            }
        }
    }
}
