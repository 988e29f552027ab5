//! The shipped question-bank format (`questions/*.toml`, documented in `questions/README.md`):
//! parsing, validation with file:line errors, and the per-statute summary of `bank check`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::said::{Located, Said};
use super::validation::Problem;

/// Question types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Single,
    Multiple,
    TrueFalse,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 3] = [QuestionKind::Single, QuestionKind::Multiple, QuestionKind::TrueFalse];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::TrueFalse => "truefalse",
        }
    }

    pub fn parse(s: &str) -> Option<QuestionKind> {
        match s {
            "single" => Some(QuestionKind::Single),
            "multiple" => Some(QuestionKind::Multiple),
            "truefalse" => Some(QuestionKind::TrueFalse),
            _ => None,
        }
    }
}

/// Certification levels a question suits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Basic,
    Intermediate,
    Advanced,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Basic, Level::Intermediate, Level::Advanced];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Basic => "basic",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level's Chinese name (基本级, 中级, 高级).
    pub fn chinese(self) -> &'static str {
        match self {
            Level::Basic => "基本级",
            Level::Intermediate => "中级",
            Level::Advanced => "高级",
        }
    }
}

/// Option ids of a true/false question (choice questions use letters A–F).
pub const TRUE_ID: char = 'T';
pub const FALSE_ID: char = 'F';
pub const OPTION_LETTERS: &str = "ABCDEF";

/// The option ids of a question of `kind` with `option_count` authored options, in authored
/// order: T and F for true/false, else a letter per option.
pub fn option_ids(kind: QuestionKind, option_count: usize) -> Vec<char> {
    match kind {
        QuestionKind::TrueFalse => vec![TRUE_ID, FALSE_ID],
        _ => OPTION_LETTERS.chars().take(option_count).collect(),
    }
}

/// The content of one question version: everything that is shown or graded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionContent {
    pub kind: QuestionKind,
    pub statute: String,
    pub edition: String,
    pub articles: Vec<String>,
    pub difficulty: i32,
    pub levels: Vec<Level>,
    pub stem: String,
    /// Choice texts in their authored order (ids A, B, …); empty for true/false.
    pub options: Vec<String>,
    /// Correct option ids, sorted: letters, or `T`/`F` for true/false.
    pub answer: String,
    pub explanation: String,
    pub tags: Vec<String>,
}

impl QuestionContent {
    /// Stable fingerprint of the content: a changed fingerprint means a new version.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_string(self).expect("content serialises");
        hex::encode(Sha256::digest(json.as_bytes()))
    }

    /// Option ids in authored order.
    pub fn option_ids(&self) -> Vec<char> {
        option_ids(self.kind, self.options.len())
    }

    /// What this content still lacks before it can be reviewed (see [`missing_for_review`]).
    pub fn missing_for_review(&self) -> Vec<&'static str> {
        missing_for_review(&self.articles, &self.explanation)
    }

    /// Checks the rules of `questions/README.md`; returns every problem found, each naming the
    /// question form's field (`statute`, `edition`, `articles`, `difficulty`, `levels`, `stem`,
    /// `options`, `answer`, `explanation`) and said by catalogue key `problem.question.*`.
    pub fn validate(&self, statutes: &StatuteRegistry) -> Vec<Problem> {
        let mut errs = Vec::new();
        let q = |field, key, params, english: String| Problem::with(field, key, params, english);
        match statutes.editions.get(&self.statute) {
            None => errs.push(q(
                "statute",
                "question.unknown_statute",
                vec![("statute", self.statute.clone())],
                format!("unknown statute {:?} (not in statutes.toml)", self.statute),
            )),
            Some(eds) if !eds.iter().any(|e| e.code == self.edition) => {
                let known = eds.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(", ");
                errs.push(q(
                    "edition",
                    "question.unknown_edition",
                    vec![("edition", self.edition.clone()), ("statute", self.statute.clone()), ("known", known.clone())],
                    format!("unknown edition {:?} of {} (known: {known})", self.edition, self.statute),
                ))
            }
            Some(_) => {}
        }
        if self.articles.is_empty() || self.articles.iter().any(|a| a.trim().is_empty()) {
            errs.push(Problem::plain("articles", MISSING_CITATION_KEY, MISSING_CITATION));
        }
        if !(1..=3).contains(&self.difficulty) {
            errs.push(q(
                "difficulty",
                "question.difficulty",
                vec![("got", self.difficulty.to_string())],
                format!("difficulty {} must be 1, 2 or 3", self.difficulty),
            ));
        }
        if self.levels.is_empty() {
            errs.push(Problem::plain("levels", "question.no_levels", "`levels` must name at least one of basic, intermediate, advanced"));
        }
        if self.stem.trim().is_empty() {
            errs.push(Problem::plain("stem", "question.empty_stem", "empty stem"));
        }
        if self.explanation.trim().is_empty() {
            errs.push(Problem::plain("explanation", EMPTY_EXPLANATION_KEY, EMPTY_EXPLANATION));
        }
        let ids = self.option_ids();
        let answer: Vec<char> = self.answer.chars().collect();
        let distinct: HashSet<char> = answer.iter().copied().collect();
        if distinct.len() != answer.len() {
            errs.push(q(
                "answer",
                "question.answer_repeats",
                vec![("answer", self.answer.clone())],
                format!("answer {:?} repeats a letter", self.answer),
            ));
        }
        for c in &answer {
            if !ids.contains(c) {
                let letters = ids.iter().collect::<String>();
                errs.push(q(
                    "answer",
                    "question.answer_not_option",
                    vec![("letter", c.to_string()), ("letters", letters.clone())],
                    format!("answer key {c} is not among the options ({letters})"),
                ));
            }
        }
        if self.options.iter().any(|o| o.trim().is_empty()) {
            errs.push(Problem::plain("options", "question.empty_option", "an option is empty"));
        }
        let unique: HashSet<&str> = self.options.iter().map(|o| o.trim()).collect();
        if unique.len() != self.options.len() {
            errs.push(Problem::plain("options", "question.same_options", "two options have the same text"));
        }
        let n = self.options.len();
        match self.kind {
            QuestionKind::Single => {
                if !(2..=6).contains(&n) {
                    errs.push(q(
                        "options",
                        "question.single_options",
                        vec![("n", n.to_string())],
                        format!("single choice needs 2–6 options, has {n}"),
                    ));
                }
                if answer.len() != 1 {
                    errs.push(q(
                        "answer",
                        "question.single_answer",
                        vec![("answer", self.answer.clone())],
                        format!("single choice needs exactly one answer letter, has {:?}", self.answer),
                    ));
                }
            }
            QuestionKind::Multiple => {
                if !(3..=6).contains(&n) {
                    errs.push(q(
                        "options",
                        "question.multiple_options",
                        vec![("n", n.to_string())],
                        format!("multiple choice needs 3–6 options, has {n}"),
                    ));
                }
                if answer.len() < 2 {
                    errs.push(q(
                        "answer",
                        "question.multiple_answer",
                        vec![("answer", self.answer.clone())],
                        format!("multiple choice needs two or more answer letters, has {:?}", self.answer),
                    ));
                }
            }
            QuestionKind::TrueFalse => {
                if !self.options.is_empty() {
                    errs.push(Problem::plain("options", "question.truefalse_options", "true/false questions have no options"));
                }
                if answer.len() != 1 {
                    errs.push(Problem::plain("answer", "question.truefalse_answer", "true/false answer must be true or false"));
                }
            }
        }
        errs
    }
}

/// [`QuestionContent::validate`]'s message for a question without articles.
pub const MISSING_CITATION: &str = "missing citation: `articles` must list at least one article";
/// Its catalogue key.
pub const MISSING_CITATION_KEY: &str = "question.no_articles";
/// [`QuestionContent::validate`]'s message for a question without an explanation.
pub const EMPTY_EXPLANATION: &str = "empty explanation";
/// Its catalogue key.
pub const EMPTY_EXPLANATION_KEY: &str = "question.empty_explanation";

/// What an incomplete draft lacks: `articles` (the citation) and/or `explanation`. A trainer's
/// plain file (Aiken, GIFT, Moodle XML) has neither; its questions are imported as incomplete
/// drafts, which cannot be reviewed, and so not used, until a trainer fills these in.
pub fn missing_for_review(articles: &[String], explanation: &str) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if articles.iter().all(|a| a.trim().is_empty()) {
        missing.push("articles");
    }
    if explanation.trim().is_empty() {
        missing.push("explanation");
    }
    missing
}

/// Normalises an answer given as letters (any order, any case) to the stored form.
pub fn normalise_letters(s: &str) -> String {
    let mut v: Vec<char> = s.trim().chars().filter(|c| !c.is_whitespace() && *c != ',').map(|c| c.to_ascii_uppercase()).collect();
    v.sort_unstable();
    v.into_iter().collect()
}

/// One question as loaded from a bank file.
#[derive(Clone, Debug)]
pub struct BankQuestion {
    pub code: String,
    pub content: QuestionContent,
    /// `status = "draft"`: loaded unreviewed, not used until a trainer reviews it.
    pub draft: bool,
    /// `status = "retired"`: out of use (not drawn, not practised), kept for the papers that
    /// used it.
    pub retired: bool,
    pub file: PathBuf,
    pub line: usize,
}

/// A case-analysis group: shared case text and its items (in order).
#[derive(Clone, Debug)]
pub struct BankCase {
    pub code: String,
    pub title: String,
    pub text: String,
    pub items: Vec<BankQuestion>,
    pub file: PathBuf,
    pub line: usize,
}

impl BankCase {
    pub fn content_hash(&self) -> String {
        case_hash(&self.title, &self.text)
    }
}

/// Fingerprint of a case group's shared text: stored cases are compared by it.
pub fn case_hash(title: &str, text: &str) -> String {
    hex::encode(Sha256::digest(format!("{title}\u{0}{text}").as_bytes()))
}

/// A statute edition as registered in `statutes.toml`.
#[derive(Clone, Debug, Serialize)]
pub struct EditionInfo {
    pub code: String,
    pub title: String,
    pub in_force: chrono::NaiveDate,
    /// The edition this one replaces, if any.
    pub replaces: Option<String>,
    /// Article numbers of the replaced edition that this edition changed, removed or renumbered.
    pub changed_articles: Vec<String>,
    /// The law was rewritten: every article of the replaced edition counts as changed.
    pub changed_all: bool,
}

/// A statute as registered in `statutes.toml`.
#[derive(Clone, Debug, Serialize)]
pub struct StatuteInfo {
    pub code: String,
    pub name: String,
    pub short: String,
    pub editions: Vec<EditionInfo>,
}

/// The statutes and editions questions may cite.
#[derive(Clone, Debug, Default)]
pub struct StatuteRegistry {
    pub statutes: Vec<StatuteInfo>,
    pub editions: HashMap<String, Vec<EditionInfo>>,
}

impl StatuteRegistry {
    pub fn short_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.statutes.iter().find(|s| s.code == code).map(|s| s.short.as_str()).unwrap_or(code)
    }
}

/// Everything in a bank folder.
#[derive(Clone, Debug, Default)]
pub struct Bank {
    pub statutes: StatuteRegistry,
    pub questions: Vec<BankQuestion>,
    pub cases: Vec<BankCase>,
}

/// A problem in a bank file, located by file and line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BankError {
    pub file: String,
    pub line: usize,
    pub message: String,
    /// The message to be said in the reader's language (a question file's problems, which an
    /// import preview shows; not the shipped folder's own).
    #[serde(skip)]
    pub said: Option<Located>,
}

impl BankError {
    /// A problem of a question file at `line`, said as `said` (its English is the message).
    pub fn said(path: &Path, line: usize, said: Located) -> BankError {
        BankError { file: display(path), line, message: said.to_string(), said: Some(said) }
    }
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatutes {
    statute: Vec<toml::Spanned<RawStatute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatute {
    code: String,
    name: String,
    short: String,
    edition: Vec<RawEdition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdition {
    code: String,
    title: String,
    in_force: String,
    #[serde(default)]
    replaces: Option<String>,
    #[serde(default)]
    changed_articles: Vec<String>,
    #[serde(default)]
    changed_all: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBankFile {
    statute: Option<String>,
    edition: Option<String>,
    #[serde(default)]
    question: Vec<toml::Spanned<RawQuestion>>,
    #[serde(default)]
    case: Vec<toml::Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    title: String,
    text: String,
    #[serde(default)]
    item: Vec<toml::Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    statute: Option<String>,
    edition: Option<String>,
    articles: Vec<String>,
    difficulty: i64,
    levels: Vec<String>,
    stem: String,
    options: Option<Vec<String>>,
    answer: toml::Value,
    explanation: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    status: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Parses `statutes.toml`.
pub fn parse_statutes(path: &Path, text: &str) -> Result<StatuteRegistry, Vec<BankError>> {
    let raw: RawStatutes = toml::from_str(text).map_err(|e| vec![toml_error(path, text, &e)])?;
    let mut reg = StatuteRegistry::default();
    let mut errs = Vec::new();
    for s in raw.statute {
        let line = line_of(text, s.span().start);
        let s = s.into_inner();
        if reg.editions.contains_key(&s.code) {
            errs.push(BankError { file: display(path), line, message: format!("statute {} listed twice", s.code), said: None });
            continue;
        }
        let mut editions = Vec::new();
        for e in s.edition {
            match chrono::NaiveDate::parse_from_str(&e.in_force, "%Y-%m-%d") {
                Ok(d) => editions.push(EditionInfo {
                    code: e.code,
                    title: e.title,
                    in_force: d,
                    replaces: e.replaces,
                    changed_articles: e.changed_articles.iter().map(|a| a.trim().to_string()).collect(),
                    changed_all: e.changed_all,
                }),
                Err(_) => errs.push(BankError {
                    file: display(path),
                    line,
                    message: format!("edition {} of {}: in_force {:?} is not a YYYY-MM-DD date", e.code, s.code, e.in_force),
                    said: None,
                }),
            }
        }
        if editions.is_empty() {
            errs.push(BankError { file: display(path), line, message: format!("statute {} has no edition", s.code), said: None });
        }
        for e in &editions {
            let Some(r) = &e.replaces else { continue };
            let problem = match editions.iter().find(|x| &x.code == r) {
                None => Some(format!("edition {} of {} replaces {r:?}, which is not listed", e.code, s.code)),
                Some(old) if old.in_force >= e.in_force => {
                    Some(format!("edition {} of {} must come into force after {r}, which it replaces", e.code, s.code))
                }
                Some(_) => None,
            };
            if let Some(message) = problem {
                errs.push(BankError { file: display(path), line, message, said: None });
            }
        }
        reg.editions.insert(s.code.clone(), editions.clone());
        reg.statutes.push(StatuteInfo { code: s.code, name: s.name, short: s.short, editions });
    }
    if errs.is_empty() {
        Ok(reg)
    } else {
        Err(errs)
    }
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> BankError {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    let message = e.message().to_string();
    BankError::said(path, line, Located::whole(Said::new("bank_file.toml_syntax", vec![("detail", message.clone())], message)))
}

fn convert_question(
    raw: RawQuestion,
    default_statute: Option<&str>,
    default_edition: Option<&str>,
    in_case: bool,
) -> Result<(String, QuestionContent, FileStatus), Vec<Said>> {
    let mut errs = Vec::new();
    let kind = match QuestionKind::parse(&raw.kind) {
        Some(QuestionKind::TrueFalse) if in_case => {
            errs.push(Said::plain("bank_file.case_item_truefalse", "case items are single or multiple choice"));
            QuestionKind::TrueFalse
        }
        Some(k) => k,
        None => {
            errs.push(Said::new(
                "bank_file.toml_type",
                vec![("kind", raw.kind.clone())],
                format!("type {:?} must be single, multiple or truefalse", raw.kind),
            ));
            QuestionKind::Single
        }
    };
    let statute = raw.statute.or(default_statute.map(str::to_string));
    let edition = raw.edition.or(default_edition.map(str::to_string));
    if statute.is_none() {
        errs.push(Said::plain(
            "bank_file.toml_no_statute",
            "missing citation: no `statute` (set it on the question or at the top of the file)",
        ));
    }
    if edition.is_none() {
        errs.push(Said::plain(
            "bank_file.toml_no_edition",
            "missing citation: no `edition` (set it on the question or at the top of the file)",
        ));
    }
    let mut levels = Vec::new();
    for l in &raw.levels {
        match Level::parse(l) {
            Some(l) if !levels.contains(&l) => levels.push(l),
            Some(_) => {}
            None => errs.push(Said::new(
                "bank_file.toml_level",
                vec![("level", l.clone())],
                format!("level {l:?} must be basic, intermediate or advanced"),
            )),
        }
    }
    levels.sort();
    let answer = match (&raw.answer, kind) {
        (toml::Value::Boolean(b), QuestionKind::TrueFalse) => (if *b { TRUE_ID } else { FALSE_ID }).to_string(),
        (toml::Value::String(s), QuestionKind::Single | QuestionKind::Multiple) => normalise_letters(s),
        (_, QuestionKind::TrueFalse) => {
            errs.push(Said::plain("bank_file.toml_truefalse_answer", "true/false answer must be true or false (without quotes)"));
            String::new()
        }
        _ => {
            errs.push(Said::plain("bank_file.toml_answer", "answer must be option letters in quotes, e.g. \"B\" or \"ACD\""));
            String::new()
        }
    };
    let status = match raw.status.as_deref() {
        None | Some("active") => FileStatus::Active,
        Some("draft") => FileStatus::Draft,
        Some("retired") => FileStatus::Retired,
        Some(other) => {
            errs.push(Said::new(
                "bank_file.toml_status",
                vec![("status", other.to_string())],
                format!("status {other:?} must be active, draft or retired"),
            ));
            FileStatus::Active
        }
    };
    if raw.id.trim().is_empty() || raw.id.chars().any(|c| c.is_whitespace()) {
        errs.push(Said::new(
            "bank_file.toml_id",
            vec![("id", raw.id.clone())],
            format!("id {:?} must be non-empty without spaces", raw.id),
        ));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let content = QuestionContent {
        kind,
        statute: statute.unwrap_or_default(),
        edition: edition.unwrap_or_default(),
        articles: raw.articles.iter().map(|a| a.trim().to_string()).collect(),
        difficulty: raw.difficulty.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
        levels,
        stem: raw.stem.trim().to_string(),
        options: raw.options.unwrap_or_default().iter().map(|o| o.trim().to_string()).collect(),
        answer,
        explanation: raw.explanation.trim().to_string(),
        tags: raw.tags,
    };
    Ok((raw.id, content, status))
}

/// A question's `status` in a bank file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileStatus {
    Active,
    Draft,
    Retired,
}

/// Parses one bank file (questions and/or case groups) against the statute registry.
pub fn parse_bank_file(path: &Path, text: &str, statutes: &StatuteRegistry) -> Result<(Vec<BankQuestion>, Vec<BankCase>), Vec<BankError>> {
    let raw: RawBankFile = toml::from_str(text).map_err(|e| vec![toml_error(path, text, &e)])?;
    // the line of each question and case from one index of the file's line breaks (counting
    // them from the start for each was quadratic: 17 s for the whole bank as one file)
    let breaks: Vec<usize> = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
    let line_of = |offset: usize| breaks.partition_point(|nl| *nl < offset.min(text.len())) + 1;
    let mut errs = Vec::new();
    let mut questions = Vec::new();
    let mut cases = Vec::new();
    let one = |raw: toml::Spanned<RawQuestion>, ds: Option<&str>, de: Option<&str>, in_case: bool, errs: &mut Vec<BankError>| {
        let line = line_of(raw.span().start);
        let id = raw.get_ref().id.clone();
        let problems = match convert_question(raw.into_inner(), ds, de, in_case) {
            Ok((code, content, status)) => {
                let problems = content.validate(statutes);
                if problems.is_empty() {
                    let (draft, retired) = (status == FileStatus::Draft, status == FileStatus::Retired);
                    return Some(BankQuestion { code, content, draft, retired, file: path.to_path_buf(), line });
                }
                problems.into_iter().map(Said::from).collect()
            }
            Err(problems) => problems,
        };
        let at = Said::new("bank_file.at_id", vec![("id", id.clone())], id);
        errs.extend(problems.into_iter().map(|m| BankError::said(path, line, Located::new(vec![at.clone()], m))));
        None
    };
    for q in raw.question {
        if let Some(q) = one(q, raw.statute.as_deref(), raw.edition.as_deref(), false, &mut errs) {
            questions.push(q);
        }
    }
    for c in raw.case {
        let line = line_of(c.span().start);
        let c = c.into_inner();
        if !(3..=5).contains(&c.item.len()) {
            errs.push(BankError::said(
                path,
                line,
                Located::whole(Said::new(
                    "bank_file.case_size",
                    vec![("case", c.id.clone()), ("n", c.item.len().to_string())],
                    format!("case {} has {} items; a case has 3 to 5", c.id, c.item.len()),
                )),
            ));
        }
        if c.title.trim().is_empty() || c.text.trim().is_empty() {
            errs.push(BankError::said(
                path,
                line,
                Located::whole(Said::new(
                    "bank_file.case_untitled",
                    vec![("case", c.id.clone())],
                    format!("case {} needs a title and a text", c.id),
                )),
            ));
        }
        let mut items = Vec::new();
        for q in c.item {
            if let Some(q) = one(q, raw.statute.as_deref(), raw.edition.as_deref(), true, &mut errs) {
                items.push(q);
            }
        }
        cases.push(BankCase {
            code: c.id,
            title: c.title.trim().into(),
            text: c.text.trim().into(),
            items,
            file: path.to_path_buf(),
            line,
        });
    }
    if errs.is_empty() {
        Ok((questions, cases))
    } else {
        Err(errs)
    }
}

/// Loads a whole bank folder: `statutes.toml` plus every other `*.toml`. All or nothing: any
/// error anywhere returns every error found and no bank.
pub fn load_dir(dir: &Path) -> Result<Bank, Vec<BankError>> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| vec![BankError { file: display(p), line: 0, message: format!("cannot read: {e}"), said: None }])
    };
    let statutes_path = dir.join("statutes.toml");
    let statutes = parse_statutes(&statutes_path, &read(&statutes_path)?)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| vec![BankError { file: display(dir), line: 0, message: format!("cannot list folder: {e}"), said: None }])?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.file_name().is_some_and(|n| n != "statutes.toml"))
        .collect();
    files.sort();
    let mut bank = Bank { statutes, ..Bank::default() };
    let mut errs = Vec::new();
    for f in &files {
        match read(f).and_then(|text| parse_bank_file(f, &text, &bank.statutes)) {
            Ok((qs, cs)) => {
                bank.questions.extend(qs);
                bank.cases.extend(cs);
            }
            Err(e) => errs.extend(e),
        }
    }
    // ids are unique across every file, cases included
    let mut seen: HashMap<&str, (&Path, usize)> = HashMap::new();
    let all = bank
        .questions
        .iter()
        .map(|q| (q.code.as_str(), q.file.as_path(), q.line))
        .chain(bank.cases.iter().map(|c| (c.code.as_str(), c.file.as_path(), c.line)))
        .chain(bank.cases.iter().flat_map(|c| c.items.iter().map(|q| (q.code.as_str(), q.file.as_path(), q.line))));
    for (code, file, line) in all {
        if let Some((f0, l0)) = seen.insert(code, (file, line)) {
            errs.push(BankError {
                file: display(file),
                line,
                message: format!("duplicate id {code} (first at {}:{l0})", display(f0)),
                said: None,
            });
        }
    }
    if errs.is_empty() {
        Ok(bank)
    } else {
        Err(errs)
    }
}

/// Counts for one statute in `bank check`'s summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatuteSummary {
    pub statute: String,
    pub name: String,
    pub questions: usize,
    pub by_type: BTreeMap<String, usize>,
    pub by_level: BTreeMap<String, usize>,
    pub by_difficulty: BTreeMap<String, usize>,
    pub by_edition: BTreeMap<String, usize>,
    /// Questions citing articles a later registered edition changed (to be rewritten; retired
    /// ones are not counted).
    pub superseded: usize,
    /// `status = "draft"` and `status = "retired"` in the file.
    pub drafts: usize,
    pub retired: usize,
    /// In use: active, not superseded, and (case items) in a case group that is whole.
    pub live: usize,
}

/// The whole summary of `bank check`.
#[derive(Clone, Debug, Serialize)]
pub struct BankSummary {
    pub valid: bool,
    pub questions: usize,
    pub case_groups: usize,
    pub case_items: usize,
    /// Questions and case items in use (see [`StatuteSummary::live`]).
    pub live: usize,
    pub statutes: Vec<StatuteSummary>,
    pub errors: Vec<BankError>,
}

/// Why a loaded question is not in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfUse {
    /// `status = "draft"`.
    Draft,
    /// `status = "retired"`.
    Retired,
    /// It cites articles a later registered edition changed (in force or announced).
    Superseded,
    /// Another item of its case group is out of use, and a case is drawn whole or not at all.
    CaseHeld,
}

/// One question or case item of a bank, and whether it is in use.
#[derive(Clone, Copy, Debug)]
pub struct Usage<'a> {
    pub question: &'a BankQuestion,
    pub case: Option<&'a BankCase>,
    pub out_of_use: Option<OutOfUse>,
}

impl Bank {
    /// Whether a question cites articles that a later registered edition changed, whether or not
    /// that edition is in force yet: either way it needs rewriting.
    pub fn superseded(&self, c: &QuestionContent) -> bool {
        super::editions::suspension(&self.statutes, &c.statute, &c.edition, &c.articles, chrono::NaiveDate::MAX).is_some()
    }

    fn own_state(&self, q: &BankQuestion) -> Option<OutOfUse> {
        if q.retired {
            Some(OutOfUse::Retired)
        } else if q.draft {
            Some(OutOfUse::Draft)
        } else if self.superseded(&q.content) {
            Some(OutOfUse::Superseded)
        } else {
            None
        }
    }

    /// Every question, then every case item, with whether it is in use.
    pub fn usage(&self) -> Vec<Usage<'_>> {
        let mut out: Vec<Usage<'_>> =
            self.questions.iter().map(|q| Usage { question: q, case: None, out_of_use: self.own_state(q) }).collect();
        for c in &self.cases {
            let states: Vec<Option<OutOfUse>> = c.items.iter().map(|q| self.own_state(q)).collect();
            let whole = states.iter().all(Option::is_none);
            for (q, state) in c.items.iter().zip(states) {
                let out_of_use = state.or((!whole).then_some(OutOfUse::CaseHeld));
                out.push(Usage { question: q, case: Some(c), out_of_use });
            }
        }
        out
    }

    pub fn summary(&self) -> BankSummary {
        let mut per: BTreeMap<String, StatuteSummary> = BTreeMap::new();
        let mut live = 0;
        for u in self.usage() {
            let c = &u.question.content;
            let s = per.entry(c.statute.clone()).or_insert_with(|| StatuteSummary {
                statute: c.statute.clone(),
                name: self.statutes.short_name(&c.statute).to_string(),
                ..Default::default()
            });
            s.questions += 1;
            *s.by_type.entry(c.kind.as_str().into()).or_default() += 1;
            for l in &c.levels {
                *s.by_level.entry(l.as_str().into()).or_default() += 1;
            }
            *s.by_difficulty.entry(c.difficulty.to_string()).or_default() += 1;
            *s.by_edition.entry(c.edition.clone()).or_default() += 1;
            if !u.question.retired && self.superseded(c) {
                s.superseded += 1;
            }
            match u.out_of_use {
                Some(OutOfUse::Draft) => s.drafts += 1,
                Some(OutOfUse::Retired) => s.retired += 1,
                Some(_) => {}
                None => {
                    s.live += 1;
                    live += 1;
                }
            }
        }
        BankSummary {
            valid: true,
            questions: self.questions.len(),
            case_groups: self.cases.len(),
            case_items: self.cases.iter().map(|c| c.items.len()).sum(),
            live,
            statutes: per.into_values().collect(),
            errors: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUTES: &str = r#"
[[statute]]
code = "law"
name = "某法"
short = "某法"
  [[statute.edition]]
  code = "2020-01-01"
  title = "t"
  in_force = "2020-06-01"
"#;

    fn reg() -> StatuteRegistry {
        parse_statutes(Path::new("statutes.toml"), STATUTES).unwrap()
    }

    fn parse(text: &str) -> Result<(Vec<BankQuestion>, Vec<BankCase>), Vec<BankError>> {
        parse_bank_file(Path::new("law.toml"), text, &reg())
    }

    const GOOD: &str = r#"statute = "law"
edition = "2020-01-01"

[[question]]
id = "Q-1"
type = "multiple"
articles = ["3"]
difficulty = 2
levels = ["intermediate", "basic"]
stem = "题干"
options = ["甲", "乙", "丙", "丁"]
answer = "ca"
explanation = "解析"

[[question]]
id = "Q-2"
type = "truefalse"
articles = ["4"]
difficulty = 1
levels = ["basic"]
stem = "判断"
answer = false
explanation = "解析"
"#;

    #[test]
    fn parses_questions_and_normalises_answers() {
        let (qs, cases) = parse(GOOD).unwrap();
        assert!(cases.is_empty());
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].content.answer, "AC");
        assert_eq!(qs[0].content.levels, vec![Level::Basic, Level::Intermediate]);
        assert_eq!(qs[0].line, 4);
        assert_eq!(qs[1].content.answer, "F");
        assert_eq!(qs[1].content.option_ids(), vec!['T', 'F']);
        assert_eq!(qs[1].line, 15);
    }

    #[test]
    fn key_not_among_options_is_reported_with_its_line() {
        let bad = GOOD.replace("answer = \"ca\"", "answer = \"AE\"");
        let errs = parse(&bad).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, 4);
        assert!(errs[0].message.contains("Q-1") && errs[0].message.contains("answer key E"), "{}", errs[0]);
    }

    #[test]
    fn unknown_edition_and_missing_citation_are_refused() {
        let bad = GOOD.replace("edition = \"2020-01-01\"", "edition = \"1999-01-01\"").replace("articles = [\"4\"]", "articles = []");
        let errs = parse(&bad).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|e| e.to_string().contains("unknown edition \"1999-01-01\"")), "{text:?}");
        assert!(text.iter().any(|e| e.to_string().starts_with("law.toml:15:") && e.contains("missing citation")), "{text:?}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let bad = GOOD.replace("difficulty = 1", "difficulty = = 1");
        let errs = parse(&bad).unwrap_err();
        assert_eq!(errs[0].line, 19, "{errs:?}");
    }

    #[test]
    fn single_with_two_keys_and_typo_field_are_refused() {
        let bad = GOOD.replace("type = \"multiple\"", "type = \"single\"");
        assert!(parse(&bad).unwrap_err()[0].message.contains("exactly one answer letter"));
        let typo = GOOD.replace("explanation = \"解析\"\n\n[[question]]", "explanaton = \"x\"\nexplanation = \"解析\"\n\n[[question]]");
        assert!(parse(&typo).unwrap_err()[0].message.contains("explanaton"));
    }

    #[test]
    fn case_groups_need_three_to_five_items() {
        let text = r#"
[[case]]
id = "C-1"
title = "案"
text = "案情"
  [[case.item]]
  id = "C-1-1"
  type = "single"
  statute = "law"
  edition = "2020-01-01"
  articles = ["1"]
  difficulty = 1
  levels = ["basic"]
  stem = "问"
  options = ["a", "b"]
  answer = "A"
  explanation = "因为"
"#;
        let errs = parse(text).unwrap_err();
        assert!(errs[0].message.contains("has 1 items"), "{errs:?}");
    }

    #[test]
    fn status_retired_and_draft_are_loaded_and_counted() {
        let text = GOOD.replacen("id = \"Q-1\"\n", "id = \"Q-1\"\nstatus = \"retired\"\n", 1).replacen(
            "id = \"Q-2\"\n",
            "id = \"Q-2\"\nstatus = \"draft\"\n",
            1,
        );
        let (qs, _) = parse(&text).unwrap();
        assert!(qs[0].retired && !qs[0].draft);
        assert!(qs[1].draft && !qs[1].retired);
        let bank = Bank { statutes: reg(), questions: qs, cases: vec![] };
        let s = bank.summary();
        assert_eq!((s.live, s.statutes[0].retired, s.statutes[0].drafts), (0, 1, 1));
        let bad = GOOD.replacen("id = \"Q-1\"\n", "id = \"Q-1\"\nstatus = \"gone\"\n", 1);
        assert!(parse(&bad).unwrap_err()[0].message.contains("must be active, draft or retired"));
    }

    #[test]
    fn a_case_with_an_item_out_of_use_is_held_whole() {
        let item = |id: &str, status: &str| {
            format!(
                "  [[case.item]]\n  id = \"{id}\"\n{status}  type = \"single\"\n  statute = \"law\"\n  edition = \"2020-01-01\"\n  articles = [\"1\"]\n  difficulty = 1\n  levels = [\"basic\"]\n  stem = \"问{id}\"\n  options = [\"a\", \"b\"]\n  answer = \"A\"\n  explanation = \"因为\"\n"
            )
        };
        let text = format!(
            "[[case]]\nid = \"C-1\"\ntitle = \"案\"\ntext = \"案情\"\n{}{}{}",
            item("C-1-1", ""),
            item("C-1-2", "  status = \"retired\"\n"),
            item("C-1-3", "")
        );
        let (_, cases) = parse(&text).unwrap();
        let bank = Bank { statutes: reg(), questions: vec![], cases };
        let states: Vec<Option<OutOfUse>> = bank.usage().iter().map(|u| u.out_of_use).collect();
        assert_eq!(states, vec![Some(OutOfUse::CaseHeld), Some(OutOfUse::Retired), Some(OutOfUse::CaseHeld)]);
        assert_eq!(bank.summary().live, 0);
    }

    #[test]
    fn content_hash_changes_with_content() {
        let (qs, _) = parse(GOOD).unwrap();
        let mut c = qs[0].content.clone();
        let h = c.content_hash();
        assert_eq!(h, qs[0].content.content_hash());
        c.stem.push('？');
        assert_ne!(h, c.content_hash());
    }
}
