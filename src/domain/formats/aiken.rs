//! Aiken (plain-text multiple choice), import only.
//!
//! ```text
//! 为了使本人的人身权利免受正在进行的不法侵害而采取的制止行为，属于：
//! A. 正当防卫
//! B) 紧急避险
//! C. 防卫过当
//! ANSWER: A
//! STATUTE: 刑法
//! ARTICLES: 20
//! EXPLANATION: 根据《刑法》第二十条……
//! 解析可以续行，直到空行。
//! ```
//!
//! - Questions are separated by blank lines. The stem is every line before `A.`; options are
//!   `A. text` or `A) text` (also `A．` `A）` `A、`), in order A, B, C…, one line each; then
//!   `ANSWER: B` (also `答案：B`).
//! - Extension (lawcert): `ANSWER: A,C` or `ANSWER: AC` is a multiple-choice question. After the
//!   ANSWER line, optional `ID:`, `STATUTE:`, `EDITION:`, `ARTICLES:`, `DIFFICULTY:`, `LEVELS:`,
//!   `TAGS:`, `EXPLANATION:` lines (Chinese names as in the Excel template work too: `条文：`,
//!   `解析：` …); the explanation continues on the following lines up to the blank line.
//! - Text is sanitised when it looks like HTML.
//! - Aiken has one question type, so nothing is unsupported: a block that is not a question is
//!   an entry with errors. Errors name the line (`line L: …`); the entry's place is its first line.

use super::sanitize::auto_to_plain;
use super::{at_line, decode_text, field_by_name, option_letter, parse_letters, place, Defaults, Draft, Field, Format, Parsed};
use crate::domain::bank::{QuestionKind, StatuteRegistry};
use crate::domain::said::Said;

pub(super) fn parse(bytes: &[u8], defaults: &Defaults, registry: &StatuteRegistry) -> Parsed {
    let mut parsed = Parsed::new(Format::Aiken);
    let text = match decode_text(bytes) {
        Ok(t) => t,
        Err(e) => return Parsed::failed(Format::Aiken, e),
    };
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().chain([""]).enumerate() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                parsed.entries.push(read_block(&block).finish(defaults, registry));
                block.clear();
            }
        } else {
            block.push((i + 1, line.trim()));
        }
    }
    parsed
}

#[derive(PartialEq)]
enum Part {
    Stem,
    Options,
    /// After ANSWER; `true` while an EXPLANATION continues.
    Extensions(bool),
}

fn read_block(block: &[(usize, &str)]) -> Draft {
    let first = block.first().map_or(1, |l| l.0);
    let mut d = Draft::new(place::line(first));
    let (mut stem, mut explanation) = (Vec::new(), Vec::new());
    let mut part = Part::Stem;
    for &(n, line) in block {
        let option = option_line(line);
        let key = key_line(line);
        match (&part, option, key) {
            (Part::Stem, Some(('A', text)), _) if !stem.is_empty() => {
                d.options.push(text.to_string());
                part = Part::Options;
            }
            (Part::Stem, _, Some((Field::Answer, _))) => {
                d.answer_error(at_line(n, Said::plain("bank_file.aiken_answer_first", "ANSWER before any option")));
                part = Part::Extensions(false);
            }
            (Part::Stem, ..) => stem.push(line),
            (Part::Options, _, Some((Field::Answer, value))) => {
                read_answer(&mut d, n, value);
                part = Part::Extensions(false);
            }
            (Part::Options, Some((letter, text)), _) => {
                let expected = option_letter(d.options.len());
                if letter != expected {
                    d.errors.push(at_line(
                        n,
                        Said::new(
                            "bank_file.aiken_option_order",
                            vec![("letter", letter.to_string()), ("expected", expected.to_string())],
                            format!("option {letter} is out of order (expected {expected})"),
                        ),
                    ));
                }
                d.options.push(text.to_string());
            }
            (Part::Options, ..) => {
                let letter = option_letter(d.options.len());
                d.errors.push(at_line(
                    n,
                    Said::new(
                        "bank_file.aiken_not_option",
                        vec![("letter", letter.to_string())],
                        format!("expected an option such as `{letter}. text` or the ANSWER: line"),
                    ),
                ))
            }
            (Part::Extensions(_), _, Some((Field::Answer, _))) => {
                d.answer_error(at_line(n, Said::plain("bank_file.aiken_second_answer", "a second ANSWER line")))
            }
            (Part::Extensions(_), _, Some((Field::Explanation, value))) => {
                explanation = vec![value];
                part = Part::Extensions(true);
            }
            (Part::Extensions(_), _, Some((field, value))) => {
                if let Err(e) = d.set(field, value) {
                    d.errors.push(at_line(n, e));
                }
                part = Part::Extensions(false);
            }
            (Part::Extensions(true), ..) => explanation.push(line),
            (Part::Extensions(false), ..) => d.errors.push(at_line(
                n,
                Said::plain("bank_file.aiken_after_answer", "unexpected text after the ANSWER line (extension lines are KEY: value)"),
            )),
        }
    }
    match part {
        Part::Stem => d.answer_error(at_line(
            first,
            Said::plain("bank_file.aiken_not_question", "not an Aiken question (no options A., B. … and no ANSWER: line)"),
        )),
        Part::Options => {
            d.answer_error(at_line(block.last().map_or(first, |l| l.0), Said::plain("bank_file.aiken_no_answer", "no ANSWER: line")))
        }
        _ => {}
    }
    d.stem = auto_to_plain(&stem.join("\n"));
    d.options = d.options.iter().map(|o| auto_to_plain(o)).collect();
    d.explanation = auto_to_plain(&explanation.join("\n"));
    d
}

fn read_answer(d: &mut Draft, line: usize, value: &str) {
    match parse_letters(value) {
        Ok(letters) => {
            let last = char::from(b'A' + d.options.len().clamp(1, 26) as u8 - 1);
            for l in letters.chars().filter(|l| *l > last) {
                d.answer_error(at_line(
                    line,
                    Said::new(
                        "bank_file.answer_not_option",
                        vec![("letter", l.to_string()), ("last", last.to_string())],
                        format!("answer letter {l} is not an option (A–{last})"),
                    ),
                ));
            }
            d.kind = if letters.len() > 1 { QuestionKind::Multiple } else { QuestionKind::Single };
            d.answer = letters;
        }
        Err(e) => d.answer_error(at_line(line, e)),
    }
}

/// `A. text`, `A) text` (and full-width `．` `）`, or `、`).
fn option_line(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let letter = chars.next().filter(char::is_ascii_uppercase)?;
    let sep = chars.next().filter(|c| matches!(c, '.' | ')' | '．' | '）' | '、'))?;
    Some((letter, line[1 + sep.len_utf8()..].trim()))
}

/// `KEY: value` for ANSWER and the extension keys (ASCII or full-width colon).
fn key_line(line: &str) -> Option<(Field, &str)> {
    let (key, value) = line.split_once([':', '：'])?;
    let field = field_by_name(key)?;
    matches!(
        field,
        Field::Answer
            | Field::Id
            | Field::Statute
            | Field::Edition
            | Field::Articles
            | Field::Difficulty
            | Field::Levels
            | Field::Tags
            | Field::Explanation
    )
    .then(|| (field, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::super::parse as parse_any;
    use super::super::testutil::*;
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_any(Format::Aiken, "q.txt", text.as_bytes(), &defaults(), &registry())
    }

    const SAMPLE: &str = "为了使本人的人身权利免受正在进行的不法侵害
而采取的制止行为，属于：
A. 正当防卫
B) 紧急避险
C．防卫过当
ANSWER: A
ID: XF-A1
STATUTE: 中华人民共和国刑法
EDITION: 2023/12/29
ARTICLES: 第20条、第21条
DIFFICULTY: 易
LEVELS: 基本级 中级
TAGS: 正当防卫
EXPLANATION: 根据《刑法》第二十条，
A 正确。

下列属于特殊防卫对象的有：
A. 行凶
B. 抢劫
C. 一般盗窃
答案：a, b
条文：20
解析：第二十条第三款。
";

    #[test]
    fn reads_questions_with_extensions() {
        let p = parse(SAMPLE);
        assert!(p.is_clean(), "{p:#?}");
        let q = &p.entries[0];
        assert_eq!((q.code.as_str(), q.location.english.as_str()), ("XF-A1", "line 1"));
        assert_eq!(q.content.stem, "为了使本人的人身权利免受正在进行的不法侵害\n而采取的制止行为，属于：");
        assert_eq!(q.content.options, vec!["正当防卫", "紧急避险", "防卫过当"]);
        assert_eq!((q.content.kind, q.content.answer.as_str()), (QuestionKind::Single, "A"));
        assert_eq!(q.content.articles, vec!["20", "21"]);
        assert_eq!(q.content.levels.len(), 2);
        assert_eq!(q.content.explanation, "根据《刑法》第二十条，\nA 正确。");
        let m = &p.entries[1];
        assert_eq!((m.content.kind, m.content.answer.as_str(), m.location.english.as_str()), (QuestionKind::Multiple, "AB", "line 17"));
        assert_eq!(m.content.difficulty, 2, "from the defaults");
    }

    #[test]
    fn malformed_blocks_are_entry_errors_with_lines() {
        let text = "题一\nA. 甲\nC. 乙\nANSWER: E\nARTICLES: 1\nEXPLANATION: x\n\n题二\nA. 甲\nB. 乙\n\n只是一段文字\n\n题三\nA. 甲\nB. 乙\nANSWER: A\nARTICLES: 1\n多余的一行\n";
        let p = parse(text);
        assert_eq!(p.entries.len(), 4);
        let e0 = p.entries[0].errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            e0.contains("line 3: option C is out of order (expected B)") && e0.contains("line 4: answer letter E is not an option (A–B)"),
            "{e0}"
        );
        assert!(!e0.contains("answer key E"), "the generic message is not repeated: {e0}");
        assert!(p.entries[1].errors.iter().any(|e| *e == "line 10: no ANSWER: line"), "{:?}", p.entries[1].errors);
        assert!(p.entries[2].errors.iter().any(|e| e.to_string().contains("line 12: not an Aiken question")), "{:?}", p.entries[2].errors);
        assert!(p.entries[3].errors.iter().any(|e| e.to_string().starts_with("line 19: unexpected text")), "{:?}", p.entries[3].errors);
    }

    /// Fuzzing (bank_aiken, FUZZING.md) found `ID: \u{7f}AMPLE-AIKEN-2` accepted as a clean
    /// id: invisible, and dropped by the Moodle export, so the question came back under another
    /// id. Ids with control characters (NUL included) are refused now, in every format.
    #[test]
    fn regression_ids_with_control_characters_are_refused() {
        for id in ["\u{7f}SAMPLE-1", "SAMPLE\u{0}1", "SAMPLE-1\u{1b}"] {
            let text = format!("题\nA. 甲\nB. 乙\nANSWER: A\nID: {id}\nARTICLES: 20\nEXPLANATION: 因为\n");
            let p = parse(&text);
            assert!(!p.is_clean(), "{id:?} was accepted");
            assert!(
                p.entries[0].errors.iter().any(|e| e.to_string().contains("must have no spaces or control characters")),
                "{:?}",
                p.entries[0].errors
            );
        }
        assert!(parse("题\nA. 甲\nB. 乙\nANSWER: A\nID: SAMPLE-1\nARTICLES: 20\nEXPLANATION: 因为\n").is_clean());
    }

    #[test]
    fn never_panics_on_truncated_input() {
        for (i, _) in SAMPLE.char_indices() {
            parse(&SAMPLE[..i]);
        }
        let tokens = [
            "A. ",
            "B) ",
            "C．",
            "Z.",
            "ANSWER: ",
            "答案：",
            "AC",
            "E",
            "ID: x",
            "EXPLANATION: ",
            "LEVELS: 高级",
            "题",
            " ",
            "\n",
            "\n\n",
            "<p>",
            "：",
            ":",
        ];
        super::super::testutil::fuzz(&tokens, 3000, |s| {
            parse(s);
        });
        for s in ["A.", "A", "ANSWER:", "答案：", "x\nA)\nANSWER:\u{0}", "x\nZ.", "\u{feff}"] {
            parse(s);
        }
        assert!(!parse_any(Format::Aiken, "q.txt", b"\xc4\xe3\xba\xc3", &defaults(), &registry()).is_clean());
    }
}
