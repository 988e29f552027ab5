//! The item-writing linter (`lawcert bank check`, the import preview): wording cues that let a
//! test-wise examinee answer without knowing the law (see `ITEM-WRITING.md`), and duplicate
//! questions. Plain domain code over loaded questions; the limits a bank must keep are
//! [`LintLimits`], documented in `questions/README.md`.
//!
//! What is measured, per bank file, per statute and overall, over questions in use only (not
//! drafts, not retired, not on a superseded edition, not in a case group that is not whole):
//!
//! - **longest key**: single-choice questions whose key is the uniquely longest option, counted
//!   in characters without whitespace;
//! - **absolute words** ([`ABSOLUTE_WORDS`]) in options, split between keys and distractors and
//!   compared with the share of keys among all options; in true/false stems, split by answer;
//! - **all but one**: multiple-choice keys that are every option but one;
//! - **key positions**: the authored letter of single-choice keys;
//! - **true/false balance**: the share of true statements;
//! - **negative stems without emphasis**: a choice stem whose question asks for the option that
//!   is not, or may not ([`NEGATIVE_WORDS`]), with the negative word outside “…” quotes;
//! - **duplicates** across every bank file and case item: the same normalised stem (whitespace
//!   and punctuation removed), with the same options in any order or with other options (the
//!   same rule asked twice), and near-duplicates whose stem and options share at least
//!   [`LintLimits::near_duplicate_similarity`] of their character bigrams (Jaccard); items of two
//!   different case groups only when the case texts are alike too;
//! - **cue-only score**: the expected score of an examinee who knows no law and follows
//!   [`cue_only_choice`]'s fixed strategy, against the expected score of random guessing, in
//!   percentage points (multiple choice scored by the partial rule 少选得部分分、错选不得分).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::bank::{Bank, OutOfUse, QuestionContent, QuestionKind, OPTION_LETTERS};

/// Absolute words: 一律、只要、任何、无须、无需、即可、均、完全、绝对、必须、所有、一切、都. They are
/// matched as words, not characters: see [`NOT_ABSOLUTE`].
pub const ABSOLUTE_WORDS: [&str; 13] = ["一律", "只要", "任何", "无须", "无需", "即可", "均", "完全", "绝对", "必须", "所有", "一切", "都"];

/// Occurrences of an absolute word that are part of another word: `(word, preceded by, followed
/// by)`: an occurrence directly preceded by one of the first list or followed by one of the
/// second is not counted (平均、人均、均衡; 首都、成都、都市; 尚未完全丧失、完全刑事责任能力;
/// 机动车所有人、本人所有、所有权; 绝对不起诉).
pub const NOT_ABSOLUTE: &[(&str, &[&str], &[&str])] = &[
    ("均", &["平", "人", "日", "月", "年"], &["衡", "等", "匀", "值", "摊", "分"]),
    ("都", &["首", "成", "京", "国", "古", "故", "建", "迁", "定", "帝", "大"], &["市", "会", "城", "督"]),
    ("完全", &["未", "不"], &["刑事责任能力", "民事行为能力", "责任能力", "行为能力"]),
    ("所有", &["车", "本人", "个人", "他人", "国家", "集体", "归", "物"], &["权", "者", "制"]),
    ("绝对", &[], &["不起诉", "确定"]),
];

/// Words that make a choice stem ask for the option that is not (or may not): 不属于、不正确、
/// 错误的、不符合、不包括、不得、不应、不能、不是、不可、不需、不必、不适用、不构成、不具有、
/// 不享有、不宜、无权. (不予 is left out: 不予处罚、不予受理 are outcomes, not negated questions.)
pub const NEGATIVE_WORDS: [&str; 18] = [
    "不属于",
    "不正确",
    "错误的",
    "不符合",
    "不包括",
    "不得",
    "不应",
    "不能",
    "不是",
    "不可",
    "不需",
    "不必",
    "不适用",
    "不构成",
    "不具有",
    "不享有",
    "不宜",
    "无权",
];

/// Quote pairs that emphasise a negative word: “…”, 「…」, 『…』 and `**…**`.
const EMPHASIS: [(char, char); 3] = [('“', '”'), ('「', '」'), ('『', '』')];

/// The limits a bank passes within. `None` reports a figure without enforcing it. Percentages
/// are 0–100; a rate is checked only where its denominator holds at least `min_sample`
/// questions (options, for absolute words), in each bank file and overall.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LintLimits {
    /// Single choice: at most this share of keys is the uniquely longest option.
    pub longest_key_max: Option<f64>,
    /// The cue-only examinee scores at most this many points above chance.
    pub cue_over_chance_max: Option<f64>,
    /// Multiple choice: at most this share of keys is every option but one.
    pub all_but_one_max: Option<f64>,
    /// True/false: the share of true statements lies in this range.
    pub truefalse_true_range: Option<(f64, f64)>,
    /// Options with an absolute word: the share of keys among them is within this many points
    /// of the share of keys among all options.
    pub absolute_options_tolerance: Option<f64>,
    /// True/false stems with an absolute word: the share of true ones is within this many
    /// points of the share of true statements among all true/false questions.
    pub absolute_truefalse_tolerance: Option<f64>,
    /// At most this many negative stems without emphasis.
    pub negative_unemphasised_max: Option<usize>,
    /// Single choice: no authored key letter holds more than this share of keys beyond its
    /// chance share (1 / number of options), in points.
    pub key_position_excess_max: Option<f64>,
    /// Any duplicate or near-duplicate fails the check.
    pub fail_on_duplicates: bool,
    /// Character-bigram Jaccard similarity from which two questions are near-duplicates.
    pub near_duplicate_similarity: f64,
    /// Rates over fewer questions (options) than this are reported, not checked.
    pub min_sample: usize,
}

impl Default for LintLimits {
    fn default() -> Self {
        LintLimits {
            longest_key_max: Some(30.0),
            cue_over_chance_max: Some(5.0),
            all_but_one_max: Some(40.0),
            truefalse_true_range: Some((40.0, 60.0)),
            absolute_options_tolerance: Some(15.0),
            absolute_truefalse_tolerance: Some(15.0),
            negative_unemphasised_max: Some(0),
            key_position_excess_max: Some(15.0),
            fail_on_duplicates: true,
            near_duplicate_similarity: 0.75,
            min_sample: 20,
        }
    }
}

impl LintLimits {
    /// Every rate reported, nothing enforced (the import preview of a single file).
    pub fn report_only() -> LintLimits {
        LintLimits {
            longest_key_max: None,
            cue_over_chance_max: None,
            all_but_one_max: None,
            truefalse_true_range: None,
            absolute_options_tolerance: None,
            absolute_truefalse_tolerance: None,
            negative_unemphasised_max: None,
            key_position_excess_max: None,
            fail_on_duplicates: false,
            ..LintLimits::default()
        }
    }
}

/// One question the linter looks at.
#[derive(Clone, Debug)]
pub struct LintItem<'a> {
    pub code: &'a str,
    /// The bank file (or imported file) it was read from.
    pub file: String,
    /// The statute, as it should be shown.
    pub statute: String,
    pub content: &'a QuestionContent,
    /// The case group's code and text, for a case item.
    pub case: Option<(&'a str, &'a str)>,
}

/// `n` of `of`, and the share in per cent (none when `of` is 0).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Rate {
    pub n: usize,
    pub of: usize,
    pub percent: Option<f64>,
}

impl Rate {
    fn new(n: usize, of: usize) -> Rate {
        Rate { n, of, percent: (of > 0).then(|| round1(100.0 * n as f64 / of as f64)) }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Expected scores of the cue-only examinee and of random guessing, in per cent.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct CueScore {
    pub questions: usize,
    pub cue_only: f64,
    pub chance: f64,
    /// `cue_only - chance`, in percentage points.
    pub over_chance: f64,
}

/// The figures for one bank file, one statute, or everything.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupReport {
    pub name: String,
    pub questions: usize,
    pub single: usize,
    pub multiple: usize,
    pub truefalse: usize,
    /// Single choice: the key is the uniquely longest option.
    pub longest_key: Rate,
    /// Options (single and multiple choice) carrying an absolute word that are keys.
    pub absolute_options_keys: Rate,
    /// Keys among all options: the share `absolute_options_keys` would have by chance.
    pub keys_among_options: Rate,
    /// True/false stems carrying an absolute word that are true.
    pub absolute_truefalse_true: Rate,
    /// Multiple choice: the key is every option but one.
    pub all_but_one: Rate,
    /// Single choice: how many keys sit at each authored letter.
    pub key_positions: BTreeMap<char, usize>,
    /// Single choice: the largest excess of one letter's share of keys over its chance share,
    /// in points.
    pub key_position_excess: Option<f64>,
    /// True/false statements that are true.
    pub truefalse_true: Rate,
    /// Choice stems asking for what is not, without the negative word in quotes.
    pub negative_unemphasised: Vec<String>,
    pub cue_score: CueScore,
    /// The same per type (`single`, `multiple`, `truefalse`).
    pub cue_score_by_type: BTreeMap<&'static str, CueScore>,
}

/// Two questions (or case groups) that are the same, or nearly.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Duplicate {
    /// `same` (same stem and options, same order), `reordered` (options in another order),
    /// `same_stem` (same stem, other options: the same rule asked twice), `near` (bigram
    /// similarity at or above the limit), `case_text` (two case groups' texts).
    pub kind: &'static str,
    pub first: String,
    pub first_file: String,
    pub second: String,
    pub second_file: String,
    /// Character-bigram Jaccard similarity, 0–1.
    pub similarity: f64,
}

/// A figure past its limit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Violation {
    /// `overall` or a bank file.
    pub scope: String,
    pub rule: &'static str,
    pub message: String,
}

/// Questions left out of the figures, by reason.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Excluded {
    pub drafts: usize,
    pub retired: usize,
    pub superseded: usize,
    /// Items of a case group with another item out of use.
    pub case_held: usize,
}

/// What the linter found.
#[derive(Clone, Debug, Serialize)]
pub struct LintReport {
    pub limits: LintLimits,
    pub excluded: Excluded,
    pub overall: GroupReport,
    pub by_file: Vec<GroupReport>,
    pub by_statute: Vec<GroupReport>,
    pub duplicates: Vec<Duplicate>,
    /// Per question, the cues found in it (for the writers): `longest_key`, `absolute_key`,
    /// `absolute_distractor`, `absolute_true`, `absolute_false`, `all_but_one`,
    /// `negative_unemphasised`.
    pub cues: BTreeMap<String, Vec<&'static str>>,
    pub violations: Vec<Violation>,
}

impl LintReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Lints the questions of a bank that are in use.
pub fn lint_bank(bank: &Bank, limits: &LintLimits) -> LintReport {
    let mut excluded = Excluded::default();
    let mut items = Vec::new();
    for u in bank.usage() {
        match u.out_of_use {
            Some(OutOfUse::Draft) => excluded.drafts += 1,
            Some(OutOfUse::Retired) => excluded.retired += 1,
            Some(OutOfUse::Superseded) => excluded.superseded += 1,
            Some(OutOfUse::CaseHeld) => excluded.case_held += 1,
            None => {
                let q = u.question;
                items.push(LintItem {
                    code: &q.code,
                    file: q.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    statute: bank.statutes.short_name(&q.content.statute).to_string(),
                    content: &q.content,
                    case: u.case.map(|c| (c.code.as_str(), c.text.as_str())),
                });
            }
        }
    }
    let mut report = lint(&items, limits);
    report.excluded = excluded;
    report
}

/// Lints the given questions (all of them: the caller chose what is in use).
pub fn lint(items: &[LintItem<'_>], limits: &LintLimits) -> LintReport {
    let facts: Vec<Facts> = items.iter().map(|i| Facts::of(i.content)).collect();
    let mut cues: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for (i, f) in items.iter().zip(&facts) {
        let list = f.cue_names();
        if !list.is_empty() {
            cues.insert(i.code.to_string(), list);
        }
    }
    let group = |name: String, pick: &dyn Fn(&LintItem<'_>) -> bool| {
        let chosen: Vec<(&LintItem<'_>, &Facts)> = items.iter().zip(&facts).filter(|(i, _)| pick(i)).collect();
        group_report(name, &chosen)
    };
    let overall = group("overall".into(), &|_| true);
    let files: BTreeSet<&str> = items.iter().map(|i| i.file.as_str()).collect();
    let by_file: Vec<GroupReport> = files.iter().map(|f| group(f.to_string(), &|i| i.file == *f)).collect();
    let statutes: BTreeSet<&str> = items.iter().map(|i| i.statute.as_str()).collect();
    let by_statute: Vec<GroupReport> = statutes.iter().map(|s| group(s.to_string(), &|i| i.statute == *s)).collect();
    let duplicates = duplicates(items, limits.near_duplicate_similarity);
    let mut violations = Vec::new();
    for g in std::iter::once(&overall).chain(&by_file) {
        check(g, limits, &mut violations);
    }
    if limits.fail_on_duplicates {
        for d in &duplicates {
            violations.push(Violation {
                scope: if d.first_file == d.second_file { d.first_file.clone() } else { "overall".into() },
                rule: "duplicate",
                message: format!("{} and {} are duplicates ({}, similarity {:.2})", d.first, d.second, d.kind, d.similarity),
            });
        }
    }
    LintReport { limits: limits.clone(), excluded: Excluded::default(), overall, by_file, by_statute, duplicates, cues, violations }
}

/// A share over its limit (`max`), once its sample is large enough: the sentence saying so.
fn over_limit(r: &Rate, max: Option<f64>, l: &LintLimits, what: impl Fn(f64) -> String) -> Option<String> {
    let (max, p) = (max?, r.percent?);
    (r.of >= l.min_sample && p > max).then(|| format!("{} ({} of {}); limit {max}%", what(p), r.n, r.of))
}

/// A share among items with an absolute word (`what`) more than `tol` points from the share
/// among all of them (`base`, of `all`), once its sample is large enough: the sentence saying so.
fn apart(r: &Rate, base: Option<f64>, tol: Option<f64>, l: &LintLimits, what: &str, all: &str) -> Option<String> {
    let (tol, p, base) = (tol?, r.percent?, base?);
    let gap = (p - base).abs();
    (r.of >= l.min_sample && gap > tol)
        .then(|| format!("{p}% of {what} ({} of {}) where {base}% of {all}: {gap:.1} points apart; limit {tol}", r.n, r.of))
}

fn check(g: &GroupReport, l: &LintLimits, out: &mut Vec<Violation>) {
    let mut push = |rule: &'static str, message: String| out.push(Violation { scope: g.name.clone(), rule, message });
    let enough = |r: &Rate| r.of >= l.min_sample;
    if let Some(m) = over_limit(&g.longest_key, l.longest_key_max, l, |p| {
        format!("the key is the uniquely longest option in {p}% of single-choice questions")
    }) {
        push("longest_key", m);
    }
    if let Some(max) = l.cue_over_chance_max {
        let c = &g.cue_score;
        if c.questions >= l.min_sample && c.over_chance > max {
            push(
                "cue_only_score",
                format!(
                    "a cue-only examinee scores {}% where chance is {}%: {} points over; limit {max}",
                    c.cue_only, c.chance, c.over_chance
                ),
            );
        }
    }
    if let Some(m) = over_limit(&g.all_but_one, l.all_but_one_max, l, |p| format!("{p}% of multiple-choice keys are every option but one"))
    {
        push("all_but_one", m);
    }
    if let (Some((lo, hi)), Some(p)) = (l.truefalse_true_range, g.truefalse_true.percent) {
        if enough(&g.truefalse_true) && !(lo..=hi).contains(&p) {
            push(
                "truefalse_balance",
                format!("{p}% of true/false statements are true ({} of {}); limits {lo}–{hi}%", g.truefalse_true.n, g.truefalse_true.of),
            );
        }
    }
    let (options, truefalse) = (&g.absolute_options_keys, &g.absolute_truefalse_true);
    let why = apart(
        options,
        g.keys_among_options.percent,
        l.absolute_options_tolerance,
        l,
        "options with an absolute word are keys",
        "all options are",
    );
    if let Some(m) = why {
        push("absolute_options", m);
    }
    let why = apart(
        truefalse,
        g.truefalse_true.percent,
        l.absolute_truefalse_tolerance,
        l,
        "true/false stems with an absolute word are true",
        "all are",
    );
    if let Some(m) = why {
        push("absolute_truefalse", m);
    }
    if let Some(max) = l.negative_unemphasised_max {
        if g.negative_unemphasised.len() > max {
            push(
                "negative_unemphasised",
                format!(
                    "{} negative stems without the negative word in “…” ({}); limit {max}",
                    g.negative_unemphasised.len(),
                    g.negative_unemphasised.join(", ")
                ),
            );
        }
    }
    if let (Some(max), Some(excess)) = (l.key_position_excess_max, g.key_position_excess) {
        if g.single >= l.min_sample && excess > max {
            let counts: Vec<String> = g.key_positions.iter().map(|(k, n)| format!("{k} {n}")).collect();
            push(
                "key_position",
                format!("one key letter holds {excess} points more than its chance share ({}); limit {max}", counts.join(", ")),
            );
        }
    }
}

/// What the linter reads in one question.
#[derive(Clone, Debug)]
struct Facts {
    kind: QuestionKind,
    /// Option indexes of the key (choice questions).
    key: BTreeSet<usize>,
    /// True/false answer.
    truth: bool,
    option_count: usize,
    /// Authored letter of a single-choice key.
    key_letter: Option<char>,
    longest_key: bool,
    /// Per option: carries an absolute word.
    absolute_options: Vec<bool>,
    absolute_stem: bool,
    all_but_one: bool,
    negative_unemphasised: bool,
    cue_only: f64,
    chance: f64,
}

impl Facts {
    fn of(c: &QuestionContent) -> Facts {
        let n = c.options.len();
        // an imported entry may still have errors (a key letter without an option): ignore those
        let key: BTreeSet<usize> = c.answer.chars().filter_map(|l| OPTION_LETTERS.find(l)).filter(|k| *k < n).collect();
        let lengths: Vec<usize> = c.options.iter().map(|o| visible_len(o)).collect();
        let absolute_options: Vec<bool> = c.options.iter().map(|o| has_absolute_word(o)).collect();
        let truth = c.answer == "T";
        let (cue_only, chance) = match c.kind {
            QuestionKind::TrueFalse => (if has_absolute_word(&c.stem) != truth { 1.0 } else { 0.0 }, 0.5),
            _ => {
                let choice = cue_only_choice(c.kind, &lengths, &absolute_options);
                let cue = choice.iter().map(|(set, p)| p * score(c.kind, &key, set)).sum();
                (cue, chance_score(c.kind, n, &key))
            }
        };
        let single_key = (c.kind == QuestionKind::Single).then(|| key.iter().next().copied()).flatten();
        Facts {
            kind: c.kind,
            truth,
            option_count: n,
            key_letter: single_key.and_then(|k| OPTION_LETTERS.chars().nth(k)),
            longest_key: single_key.is_some_and(|k| lengths.iter().enumerate().all(|(i, l)| i == k || *l < lengths[k])),
            absolute_stem: c.kind == QuestionKind::TrueFalse && has_absolute_word(&c.stem),
            all_but_one: c.kind == QuestionKind::Multiple && n >= 3 && key.len() + 1 == n,
            negative_unemphasised: c.kind != QuestionKind::TrueFalse && negative_unemphasised(&c.stem),
            key,
            absolute_options,
            cue_only,
            chance,
        }
    }

    fn cue_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.longest_key {
            v.push("longest_key");
        }
        if self.absolute_options.iter().enumerate().any(|(i, a)| *a && self.key.contains(&i)) {
            v.push("absolute_key");
        }
        if self.absolute_options.iter().enumerate().any(|(i, a)| *a && !self.key.contains(&i)) {
            v.push("absolute_distractor");
        }
        if self.absolute_stem {
            v.push(if self.truth { "absolute_true" } else { "absolute_false" });
        }
        if self.all_but_one {
            v.push("all_but_one");
        }
        if self.negative_unemphasised {
            v.push("negative_unemphasised");
        }
        v
    }
}

fn group_report(name: String, items: &[(&LintItem<'_>, &Facts)]) -> GroupReport {
    let count = |k: QuestionKind| items.iter().filter(|(_, f)| f.kind == k).count();
    let (single, multiple, truefalse) = (count(QuestionKind::Single), count(QuestionKind::Multiple), count(QuestionKind::TrueFalse));
    let choice = || items.iter().filter(|(_, f)| f.kind != QuestionKind::TrueFalse);
    let (mut abs_keys, mut abs_all, mut keys, mut options) = (0, 0, 0, 0);
    for (_, f) in choice() {
        options += f.option_count;
        keys += f.key.len();
        for (i, a) in f.absolute_options.iter().enumerate() {
            if *a {
                abs_all += 1;
                abs_keys += usize::from(f.key.contains(&i));
            }
        }
    }
    let tf = || items.iter().filter(|(_, f)| f.kind == QuestionKind::TrueFalse);
    let mut key_positions = BTreeMap::new();
    let mut expected: BTreeMap<char, f64> = BTreeMap::new();
    for (_, f) in items.iter().filter(|(_, f)| f.kind == QuestionKind::Single) {
        if let Some(l) = f.key_letter {
            *key_positions.entry(l).or_insert(0) += 1;
        }
        for l in OPTION_LETTERS.chars().take(f.option_count) {
            *expected.entry(l).or_insert(0.0) += 1.0 / f.option_count as f64;
        }
    }
    let key_position_excess = (single > 0).then(|| {
        let worst = expected.iter().map(|(l, e)| (*key_positions.get(l).unwrap_or(&0) as f64 - e) / single as f64).fold(f64::MIN, f64::max);
        round1(100.0 * worst)
    });
    let cue = |pick: &dyn Fn(&Facts) -> bool| {
        let chosen: Vec<&Facts> = items.iter().map(|(_, f)| *f).filter(|f| pick(f)).collect();
        let n = chosen.len();
        let mean = |x: f64| if n == 0 { 0.0 } else { round1(100.0 * x / n as f64) };
        let (c, r) = (mean(chosen.iter().map(|f| f.cue_only).sum()), mean(chosen.iter().map(|f| f.chance).sum()));
        CueScore { questions: n, cue_only: c, chance: r, over_chance: round1(c - r) }
    };
    let mut by_type = BTreeMap::new();
    for k in QuestionKind::ALL {
        if count(k) > 0 {
            by_type.insert(k.as_str(), cue(&|f: &Facts| f.kind == k));
        }
    }
    GroupReport {
        name,
        questions: items.len(),
        single,
        multiple,
        truefalse,
        longest_key: Rate::new(items.iter().filter(|(_, f)| f.longest_key).count(), single),
        absolute_options_keys: Rate::new(abs_keys, abs_all),
        keys_among_options: Rate::new(keys, options),
        absolute_truefalse_true: Rate::new(
            tf().filter(|(_, f)| f.absolute_stem && f.truth).count(),
            tf().filter(|(_, f)| f.absolute_stem).count(),
        ),
        all_but_one: Rate::new(items.iter().filter(|(_, f)| f.all_but_one).count(), multiple),
        key_positions,
        key_position_excess,
        truefalse_true: Rate::new(tf().filter(|(_, f)| f.truth).count(), truefalse),
        negative_unemphasised: items.iter().filter(|(_, f)| f.negative_unemphasised).map(|(i, _)| i.code.to_string()).collect(),
        cue_score: cue(&|_| true),
        cue_score_by_type: by_type,
    }
}

/// Length in characters, whitespace not counted.
fn visible_len(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Whether `text` carries one of [`ABSOLUTE_WORDS`] as a word (see [`NOT_ABSOLUTE`]).
pub fn has_absolute_word(text: &str) -> bool {
    ABSOLUTE_WORDS.iter().any(|w| {
        text.match_indices(w).any(|(at, _)| {
            let (before, after) = (&text[..at], &text[at + w.len()..]);
            !NOT_ABSOLUTE
                .iter()
                .filter(|(word, _, _)| word == w)
                .any(|(_, pre, post)| pre.iter().any(|p| before.ends_with(p)) || post.iter().any(|p| after.starts_with(p)))
        })
    })
}

/// Limits worded with a negative (最长不得超过、不少于): not negated questions.
const NOT_NEGATIVE_AFTER: [&str; 6] = ["超过", "少于", "低于", "高于", "迟于", "早于"];

/// Whether a choice stem asks for what is not (or may not) without putting the negative word in
/// quotes. The question is the stem's last clause (after the last 。！？；，), so a negative in
/// the facts or in a condition (“不属于本单位管辖的案件，……应当如何处理”) does not count, nor
/// does a limit (最长不得超过).
pub fn negative_unemphasised(stem: &str) -> bool {
    const BREAKS: [char; 9] = ['。', '？', '?', '！', '!', '；', ';', '，', ','];
    let trimmed = stem
        .trim_end_matches(|c: char| c.is_whitespace() || BREAKS.contains(&c) || matches!(c, '：' | ':' | '（' | '）' | '(' | ')' | '_'));
    let start = trimmed.rfind(BREAKS).map(|i| i + trimmed[i..].chars().next().map_or(1, char::len_utf8)).unwrap_or(0);
    let question = &trimmed[start..];
    NEGATIVE_WORDS.iter().any(|w| {
        question.match_indices(w).any(|(at, _)| {
            let after = &question[at + w.len()..];
            !NOT_NEGATIVE_AFTER.iter().any(|x| after.starts_with(x)) && !emphasised(stem, start + at)
        })
    })
}

/// Whether byte offset `at` of `text` lies inside a quote pair of [`EMPHASIS`] or `**…**`.
fn emphasised(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let after = &text[at..];
    let inside = EMPHASIS.iter().any(|(open, close)| {
        let last_open = before.rfind(*open);
        let last_close = before.rfind(*close);
        let opened = match (last_open, last_close) {
            (Some(o), Some(c)) => o > c,
            (Some(_), None) => true,
            _ => false,
        };
        opened && after.contains(*close)
    });
    inside || (before.matches("**").count() % 2 == 1 && after.contains("**"))
}

/// The cue-only examinee's answer to a choice question, as answer sets with their probability
/// (ties are broken at random). The strategy uses nothing but the options' wording:
///
/// - single choice: leave out options with an absolute word (unless all have one), then take the
///   longest of the rest (one of them at random if several are equally long);
/// - multiple choice: leave out the options with an absolute word when at least two others
///   remain; otherwise take every option but the shortest (one of the shortest at random).
///
/// True/false (see [`Facts`]): false when the stem has an absolute word, else true.
pub fn cue_only_choice(kind: QuestionKind, lengths: &[usize], absolute: &[bool]) -> Vec<(BTreeSet<usize>, f64)> {
    let n = lengths.len();
    let plain: Vec<usize> = (0..n).filter(|i| !absolute[*i]).collect();
    match kind {
        QuestionKind::Single => {
            let pool = if plain.is_empty() { (0..n).collect() } else { plain };
            let Some(max) = pool.iter().map(|i| lengths[*i]).max() else { return vec![] };
            let longest: Vec<usize> = pool.into_iter().filter(|i| lengths[*i] == max).collect();
            let p = 1.0 / longest.len() as f64;
            longest.into_iter().map(|i| (BTreeSet::from([i]), p)).collect()
        }
        QuestionKind::Multiple => {
            if plain.len() < n && plain.len() >= 2 {
                return vec![(plain.into_iter().collect(), 1.0)];
            }
            let Some(min) = lengths.iter().min() else { return vec![] };
            let shortest: Vec<usize> = (0..n).filter(|i| lengths[*i] == *min).collect();
            let p = 1.0 / shortest.len() as f64;
            shortest.into_iter().map(|s| ((0..n).filter(|i| *i != s).collect(), p)).collect()
        }
        QuestionKind::TrueFalse => vec![],
    }
}

/// Score of an answer set, 0–1: single choice right or wrong; multiple choice by the partial
/// rule (a subset of the key scores in proportion, any wrong option nothing).
fn score(kind: QuestionKind, key: &BTreeSet<usize>, chosen: &BTreeSet<usize>) -> f64 {
    if chosen.is_empty() || !chosen.is_subset(key) {
        0.0
    } else if kind == QuestionKind::Multiple {
        chosen.len() as f64 / key.len().max(1) as f64
    } else {
        1.0
    }
}

/// Expected score of random guessing: one option of `n` for single choice; for multiple choice
/// any set of two or more options, each as likely.
fn chance_score(kind: QuestionKind, n: usize, key: &BTreeSet<usize>) -> f64 {
    match kind {
        QuestionKind::Single => 1.0 / n.max(1) as f64,
        QuestionKind::Multiple => {
            let sets: Vec<BTreeSet<usize>> =
                (0u32..(1 << n)).filter(|m| m.count_ones() >= 2).map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect()).collect();
            if sets.is_empty() {
                return 0.0;
            }
            sets.iter().map(|s| score(kind, key, s)).sum::<f64>() / sets.len() as f64
        }
        QuestionKind::TrueFalse => 0.5,
    }
}

/// Text compared for duplicates: letters and digits only, lower case.
pub fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Sorted distinct character bigrams.
fn bigrams(s: &str) -> Vec<u64> {
    let chars: Vec<char> = s.chars().collect();
    let mut v: Vec<u64> = chars.windows(2).map(|w| (u64::from(w[0] as u32) << 32) | u64::from(w[1] as u32)).collect();
    if chars.len() == 1 {
        v.push(u64::from(chars[0] as u32));
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both as f64 / (a.len() + b.len() - both) as f64
}

struct Shape<'a> {
    item: &'a LintItem<'a>,
    stem: String,
    options: Vec<String>,
    sorted_options: Vec<String>,
    grams: Vec<u64>,
}

/// Duplicate and near-duplicate questions, and case groups with near-identical texts.
fn duplicates(items: &[LintItem<'_>], threshold: f64) -> Vec<Duplicate> {
    let shapes: Vec<Shape<'_>> = items
        .iter()
        .map(|i| {
            let options: Vec<String> = i.content.options.iter().map(|o| normalise(o)).collect();
            let mut sorted_options = options.clone();
            sorted_options.sort();
            let stem = normalise(&i.content.stem);
            let full = std::iter::once(stem.clone()).chain(sorted_options.iter().cloned()).collect::<Vec<_>>().join("|");
            Shape { item: i, grams: bigrams(&full), stem, options, sorted_options }
        })
        .collect();
    let mut case_grams: HashMap<&str, (Vec<u64>, &str)> = HashMap::new();
    for i in items {
        if let Some((code, text)) = i.case {
            case_grams.entry(code).or_insert_with(|| (bigrams(&normalise(text)), i.file.as_str()));
        }
    }
    let mut out = Vec::new();
    let mut cases: Vec<(&&str, &(Vec<u64>, &str))> = case_grams.iter().collect();
    cases.sort_by_key(|(c, _)| **c);
    let case_alike = |a: &str, b: &str| match (case_grams.get(a), case_grams.get(b)) {
        (Some(x), Some(y)) => jaccard(&x.0, &y.0) >= threshold,
        _ => false,
    };
    for (x, (a, (ga, fa))) in cases.iter().enumerate() {
        for (b, (gb, fb)) in &cases[x + 1..] {
            let s = jaccard(ga, gb);
            if s >= threshold {
                out.push(Duplicate {
                    kind: "case_text",
                    first: a.to_string(),
                    first_file: fa.to_string(),
                    second: b.to_string(),
                    second_file: fb.to_string(),
                    similarity: round2(s),
                });
            }
        }
    }
    let mut pairs = Vec::new();
    let mut found = std::collections::HashSet::new();
    let mut push = |a: &Shape<'_>, b: &Shape<'_>, kind: &'static str, pairs: &mut Vec<Duplicate>| {
        let (p, q) = if a.item.code <= b.item.code { (a, b) } else { (b, a) };
        if found.insert((p.item.code.to_string(), q.item.code.to_string())) {
            pairs.push(Duplicate {
                kind,
                first: p.item.code.to_string(),
                first_file: p.item.file.clone(),
                second: q.item.code.to_string(),
                second_file: q.item.file.clone(),
                similarity: round2(jaccard(&a.grams, &b.grams)),
            });
        }
    };
    let comparable = |a: &Shape<'_>, b: &Shape<'_>| match (a.item.case, b.item.case) {
        (Some((ca, _)), Some((cb, _))) => ca == cb || case_alike(ca, cb),
        _ => true,
    };
    // the same stem: the same question, or the same rule asked twice
    let mut by_stem: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in shapes.iter().enumerate() {
        by_stem.entry(s.stem.as_str()).or_default().push(i);
    }
    for group in by_stem.values() {
        for (x, &i) in group.iter().enumerate() {
            for &j in &group[x + 1..] {
                let (a, b) = (&shapes[i], &shapes[j]);
                if !comparable(a, b) {
                    continue;
                }
                let kind = match (a.sorted_options == b.sorted_options, a.options == b.options) {
                    (true, true) => "same",
                    (true, false) => "reordered",
                    _ => "same_stem",
                };
                push(a, b, kind, &mut pairs);
            }
        }
    }
    // then by similarity. Prefix filtering: with every bigram set ordered rarest first, two sets
    // with a Jaccard similarity of at least t share a bigram among the first |x| - ⌈t·|x|⌉ + 1
    // of each, so only pairs sharing such a bigram are compared (exact, and near-linear on
    // real banks rather than quadratic)
    let mut freq: HashMap<u64, u32> = HashMap::new();
    for s in &shapes {
        for g in &s.grams {
            *freq.entry(*g).or_default() += 1;
        }
    }
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut seen = vec![usize::MAX; shapes.len()];
    for (i, a) in shapes.iter().enumerate() {
        let mut ordered = a.grams.clone();
        ordered.sort_by_key(|g| (freq[g], *g));
        let n = ordered.len();
        let prefix = (n + 1).saturating_sub((threshold * n as f64).ceil() as usize).min(n);
        for g in &ordered[..prefix] {
            let bucket = index.entry(*g).or_default();
            for &j in bucket.iter() {
                if seen[j] == i {
                    continue;
                }
                seen[j] = i;
                let b = &shapes[j];
                if comparable(a, b) && jaccard(&a.grams, &b.grams) >= threshold {
                    push(b, a, "near", &mut pairs);
                }
            }
            bucket.push(i);
        }
    }
    pairs.sort_by(|a, b| (&a.first, &a.second).cmp(&(&b.first, &b.second)));
    out.extend(pairs);
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bank::Level;

    fn q(kind: QuestionKind, stem: &str, options: &[&str], answer: &str) -> QuestionContent {
        QuestionContent {
            kind,
            statute: "law".into(),
            edition: "2020-01-01".into(),
            articles: vec!["1".into()],
            difficulty: 1,
            levels: vec![Level::Basic],
            stem: stem.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            answer: answer.into(),
            explanation: "因为".into(),
            tags: vec![],
        }
    }

    fn items<'a>(qs: &'a [(&'a str, QuestionContent)]) -> Vec<LintItem<'a>> {
        qs.iter().map(|(code, c)| LintItem { code, file: "law.toml".into(), statute: "某法".into(), content: c, case: None }).collect()
    }

    #[test]
    fn absolute_words_are_matched_as_words() {
        for yes in [
            "一律处罚",
            "只要报案就立案",
            "任何人",
            "无须批准",
            "无需审批",
            "报告即可",
            "均可申请",
            "完全正确",
            "绝对禁止",
            "必须到场",
            "所有人员",
            "一切证据",
            "都应当",
            "全都可以",
        ] {
            assert!(has_absolute_word(yes), "{yes}");
        }
        for no in [
            "平均每日",
            "人均收入",
            "首都机场",
            "成都市",
            "尚未完全丧失辨认能力",
            "完全刑事责任能力人",
            "机动车所有人",
            "本人所有的工具",
            "所有权",
            "绝对不起诉",
            "应当告知",
        ] {
            assert!(!has_absolute_word(no), "{no}");
        }
        assert!(has_absolute_word("平均分配，都应当"), "a second occurrence counts");
    }

    #[test]
    fn negative_stems_need_the_negative_in_quotes() {
        assert!(negative_unemphasised("下列不属于治安管理处罚种类的是："));
        assert!(negative_unemphasised("甲被传唤。下列做法中错误的是？"));
        assert!(negative_unemphasised("依法不得担任鉴定人的是"));
        assert!(!negative_unemphasised("下列“不属于”治安管理处罚种类的是："));
        assert!(!negative_unemphasised("下列**不属于**处罚种类的是"));
        assert!(!negative_unemphasised("下列属于治安管理处罚种类的是："));
        // a negative in the facts, not in the question
        assert!(!negative_unemphasised("民警甲不得不加班。下列说法正确的是："));
        assert!(!negative_unemphasised("对甲应当不予处罚的情形是"), "不予 is an outcome");
        assert!(!negative_unemphasised("对不属于本单位管辖的案件，下列说法正确的是"), "a condition, not the question");
        assert!(!negative_unemphasised("此次传唤持续的时间最长不得超过："), "a limit");
        assert!(negative_unemphasised("下列情形中，行为人不构成累犯的有："));
    }

    #[test]
    fn longest_key_all_but_one_positions_and_balance() {
        let qs = vec![
            ("S1", q(QuestionKind::Single, "题一", &["甲", "乙", "丙丙丙丙", "丁"], "C")),
            ("S2", q(QuestionKind::Single, "题二", &["甲甲", "乙乙", "丙", "丁"], "A")),
            ("S3", q(QuestionKind::Single, "题三", &["甲", "乙", "丙", "丁丁"], "A")),
            ("M1", q(QuestionKind::Multiple, "题四", &["甲", "乙", "丙", "丁"], "ABC")),
            ("M2", q(QuestionKind::Multiple, "题五", &["甲", "乙", "丙", "丁"], "AB")),
            ("T1", q(QuestionKind::TrueFalse, "所有案件都应当立案", &[], "F")),
            ("T2", q(QuestionKind::TrueFalse, "可以立案", &[], "T")),
            ("T3", q(QuestionKind::TrueFalse, "应当立案", &[], "T")),
        ];
        let r = lint(&items(&qs), &LintLimits::report_only());
        let o = &r.overall;
        assert_eq!((o.single, o.multiple, o.truefalse), (3, 2, 3));
        assert_eq!(o.longest_key, Rate::new(1, 3), "S1 only: S2's key ties with another option");
        assert_eq!(o.all_but_one, Rate::new(1, 2));
        assert_eq!(o.key_positions, BTreeMap::from([('A', 2), ('C', 1)]));
        assert_eq!(o.truefalse_true, Rate::new(2, 3));
        assert_eq!(o.absolute_truefalse_true, Rate::new(0, 1));
        assert_eq!(r.cues["S1"], vec!["longest_key"]);
        assert_eq!(r.cues["T1"], vec!["absolute_false"]);
        assert!(r.violations.is_empty());
    }

    #[test]
    fn absolute_options_split_between_keys_and_distractors() {
        let qs = vec![
            ("S1", q(QuestionKind::Single, "题一", &["一律拘留", "罚款", "警告", "任何情况下都不处罚"], "B")),
            ("S2", q(QuestionKind::Single, "题二", &["必须到场", "可以不到场", "委托他人", "书面陈述"], "A")),
        ];
        let o = lint(&items(&qs), &LintLimits::report_only()).overall;
        assert_eq!(o.absolute_options_keys, Rate::new(1, 3));
        assert_eq!(o.keys_among_options, Rate::new(2, 8));
    }

    #[test]
    fn the_cue_only_examinee_against_chance() {
        // the key is the longest option and the distractors carry absolute words: cues give
        // every answer away
        let cued = vec![
            ("S1", q(QuestionKind::Single, "题一", &["一律拘留", "应当依法给予警告处罚", "罚款", "无须处罚"], "B")),
            ("M1", q(QuestionKind::Multiple, "题二", &["甲甲甲", "乙乙乙", "丙丙丙", "丁"], "ABC")),
            ("T1", q(QuestionKind::TrueFalse, "所有案件都应当立案", &[], "F")),
            ("T2", q(QuestionKind::TrueFalse, "可以立案", &[], "T")),
        ];
        let r = lint(&items(&cued), &LintLimits::report_only());
        let c = r.overall.cue_score;
        assert_eq!(c.cue_only, 100.0);
        // chance: 1/4, partial credit over the 11 sets of two or more options (3/11), 1/2, 1/2
        assert_eq!(c.chance, round1(100.0 * (0.25 + 3.0 / 11.0 + 0.5 + 0.5) / 4.0));
        assert!(c.over_chance > 50.0);
        // no cues: equal lengths, no absolute words, varied keys; the strategy is at chance
        let plain = vec![
            ("S1", q(QuestionKind::Single, "题一", &["甲", "乙", "丙", "丁"], "B")),
            ("T1", q(QuestionKind::TrueFalse, "应当立案", &[], "F")),
            ("T2", q(QuestionKind::TrueFalse, "可以立案", &[], "T")),
        ];
        let c = lint(&items(&plain), &LintLimits::report_only()).overall.cue_score;
        assert_eq!(c.cue_only, c.chance);
        assert_eq!(c.over_chance, 0.0);
    }

    #[test]
    fn multiple_choice_strategy_drops_absolute_or_shortest_options() {
        let abs = [true, false, false, false];
        let got = cue_only_choice(QuestionKind::Multiple, &[3, 3, 3, 3], &abs);
        assert_eq!(got, vec![(BTreeSet::from([1, 2, 3]), 1.0)]);
        let got = cue_only_choice(QuestionKind::Multiple, &[3, 1, 1, 3], &[false; 4]);
        assert_eq!(got, vec![(BTreeSet::from([0, 2, 3]), 0.5), (BTreeSet::from([0, 1, 3]), 0.5)]);
        let got = cue_only_choice(QuestionKind::Single, &[3, 5, 5, 9], &[false, false, false, true]);
        assert_eq!(got, vec![(BTreeSet::from([1]), 0.5), (BTreeSet::from([2]), 0.5)]);
    }

    #[test]
    fn broken_entries_of_an_import_do_not_upset_it() {
        let qs = vec![
            ("S1", q(QuestionKind::Single, "题一", &["甲", "乙"], "C")),
            ("S2", q(QuestionKind::Single, "题二", &[], "A")),
            ("M1", q(QuestionKind::Multiple, "题三", &["甲"], "AB")),
            ("T1", q(QuestionKind::TrueFalse, "", &[], "")),
        ];
        let r = lint(&items(&qs), &LintLimits::default());
        assert_eq!(r.overall.questions, 4);
    }

    #[test]
    fn duplicates_same_reordered_and_near() {
        let qs = vec![
            (
                "A1",
                q(QuestionKind::Single, "对违反治安管理的行为人，公安机关可以处以下列哪种处罚？", &["警告", "罚款", "拘役", "管制"], "A"),
            ),
            ("B1", q(QuestionKind::Single, "对违反治安管理的行为人, 公安机关可以处以下列哪种处罚", &["罚款", "警告", "拘役", "管制"], "B")),
            (
                "C1",
                q(QuestionKind::Single, "对违反治安管理的行为人，公安机关可以处以下列哪种处罚？", &["警告", "罚款", "拘役", "管制"], "A"),
            ),
            ("D1", q(QuestionKind::TrueFalse, "违反治安管理行为在六个月内没有被公安机关发现的，不再处罚。", &[], "T")),
            ("E1", q(QuestionKind::TrueFalse, "违反治安管理行为在六个月内没有被公安机关发现的，不再处罚", &[], "T")),
            ("F1", q(QuestionKind::TrueFalse, "违反治安管理行为在一年内没有被公安机关发现的，不再处罚。", &[], "F")),
            ("G1", q(QuestionKind::Single, "甲的行为构成何种违法行为？", &["盗窃", "诈骗", "抢夺", "敲诈勒索"], "A")),
            ("H1", q(QuestionKind::Multiple, "下列哪些属于人民警察不得有的行为？", &["泄露警务工作秘密", "参加罢工", "制止抢劫"], "AB")),
            (
                "H2",
                q(
                    QuestionKind::Multiple,
                    "下列哪些属于人民警察不得有的行为",
                    &["从事营利性的经营活动", "依法检查", "受雇于个人或者组织"],
                    "AC",
                ),
            ),
        ];
        let r = lint(&items(&qs), &LintLimits::default());
        let found: Vec<(&str, &str, &str)> = r.duplicates.iter().map(|d| (d.first.as_str(), d.second.as_str(), d.kind)).collect();
        assert!(found.contains(&("A1", "B1", "reordered")), "{found:?}");
        assert!(found.contains(&("A1", "C1", "same")), "{found:?}");
        assert!(found.contains(&("D1", "E1", "same")), "{found:?}");
        assert!(found.contains(&("H1", "H2", "same_stem")), "{found:?}");
        assert!(!found.iter().any(|(a, b, _)| *a == "G1" || *b == "G1"), "{found:?}");
        assert!(r.violations.iter().any(|v| v.rule == "duplicate"));
        // a true and a false statement of one rule: one gives the other away
        assert!(found.contains(&("D1", "F1", "near")), "{found:?}");
    }

    #[test]
    fn near_duplicates_are_found_as_a_full_comparison_finds_them() {
        // variations of a few templates, some near each other, some not
        let mut qs = Vec::new();
        let words = ["拘留", "罚款", "警告", "没收", "吊销", "责令", "传唤", "询问"];
        for i in 0..120usize {
            let stem = format!(
                "公安机关对违反治安管理的{}行为人，依法可以{}并{}，期限为{}日，由{}决定",
                words[i % 8],
                words[(i / 8) % 8],
                words[(i * 7) % 8],
                i % 5,
                words[(i * 3) % 8]
            );
            qs.push((format!("Q{i}"), q(QuestionKind::TrueFalse, &stem, &[], "T")));
        }
        let qs: Vec<(&str, QuestionContent)> = qs.iter().map(|(c, q)| (c.as_str(), q.clone())).collect();
        let it = items(&qs);
        for t in [0.6, 0.75, 0.9] {
            let found: BTreeSet<(String, String)> =
                duplicates(&it, t).into_iter().filter(|d| d.kind == "near").map(|d| (d.first, d.second)).collect();
            let mut brute = BTreeSet::new();
            for (x, a) in it.iter().enumerate() {
                for b in &it[x + 1..] {
                    let (ga, gb) = (bigrams(&normalise(&a.content.stem)), bigrams(&normalise(&b.content.stem)));
                    if normalise(&a.content.stem) != normalise(&b.content.stem) && jaccard(&ga, &gb) >= t {
                        let (p, q) = if a.code <= b.code { (a.code, b.code) } else { (b.code, a.code) };
                        brute.insert((p.to_string(), q.to_string()));
                    }
                }
            }
            assert!(!brute.is_empty() || t > 0.8, "the test needs near pairs at {t}");
            assert_eq!(found, brute, "threshold {t}");
        }
    }

    #[test]
    fn items_of_different_cases_compare_only_when_the_cases_are_alike() {
        let a = q(QuestionKind::Single, "甲的行为应当如何定性？", &["盗窃", "诈骗", "抢夺"], "A");
        let qs = vec![("C1-1", a.clone()), ("C2-1", a.clone()), ("C3-1", a)];
        let mut it = items(&qs);
        it[0].case = Some(("C1", "甲在超市趁人不备拿走他人手机后离开。"));
        it[1].case = Some(("C2", "乙在公交车上冒充民警骗取乘客钱财。"));
        it[2].case = Some(("C3", "甲在超市趁人不备拿走他人手机后离开"));
        let r = lint(&it, &LintLimits::default());
        let found: Vec<(&str, &str, &str)> = r.duplicates.iter().map(|d| (d.first.as_str(), d.second.as_str(), d.kind)).collect();
        assert_eq!(found, vec![("C1", "C3", "case_text"), ("C1-1", "C3-1", "same")]);
    }

    #[test]
    fn limits_are_checked_with_a_minimum_sample() {
        let mut qs = Vec::new();
        for i in 0..25 {
            qs.push((format!("S{i}"), q(QuestionKind::Single, &format!("第{i}题"), &["甲", "乙", "丙丙丙", "丁"], "C")));
        }
        let qs: Vec<(&str, QuestionContent)> = qs.iter().map(|(c, q)| (c.as_str(), q.clone())).collect();
        let r = lint(&items(&qs), &LintLimits::default());
        let rules: BTreeSet<&str> = r.violations.iter().map(|v| v.rule).collect();
        assert!(rules.contains("longest_key") && rules.contains("cue_only_score") && rules.contains("key_position"), "{rules:?}");
        assert!(!r.passed());
        let few = &qs[..5];
        assert!(lint(&items(few), &LintLimits::default()).passed(), "five questions are too few to judge a rate");
        assert!(lint(&items(&qs), &LintLimits::report_only()).passed());
    }
}
