//! GIFT (Moodle's plain-text format), import only.
//!
//! - Questions are separated by blank lines. Lines starting with `//` are comments;
//!   `$CATEGORY:` lines are skipped.
//! - lawcert metadata go in a comment line inside the question's block, before the question
//!   (no blank line between):
//!   `// lawcert: statute=criminal-law; edition=2023-12-29; articles=20,21; difficulty=2; levels=basic,intermediate; tags=x,y`
//!   (`id=` is accepted too). Several such lines add up.
//! - `::title::` is the id when it looks like one (`[A-Za-z0-9_-]+`); otherwise the id is
//!   generated (the title is a caption).
//! - `[html]` text goes through the HTML sanitiser; `[plain]` is taken as written; `[markdown]`,
//!   `[moodle]` or no prefix: sanitised when it looks like markup.
//! - Escapes: `\~ \= \# \{ \} \:` and `\\` are the characters, `\n` is a line break.
//! - Answers: `{=right ~wrong ~wrong}` is single choice; `{~%50%a ~%50%b ~%-100%c}` (no `=`;
//!   weights, positive = correct) is multiple choice, as in Moodle; `{T}`, `{F}`, `{TRUE}`,
//!   `{FALSE}` is true/false. Text after the answers makes a missing-word question: the stem is
//!   the text before, `____`, and the text after.
//! - `####text` inside the braces is the explanation. Per-answer feedback (`=right#feedback`) is
//!   appended to it as `A：feedback` lines (`对：`/`错：` for true/false).
//! - Not supported, listed with their title: short answer (only `=` answers), matching (`->`),
//!   numerical (`{#…}`), essay (`{}`), description (no braces).
//! - Places are `line L`, the question's first line.

use super::sanitize::{auto_to_plain, to_plain_text};
use super::{
    append_feedback, at_line, decode_text, field_by_name, looks_like_id, place, Defaults, Draft, Field, Format, Parsed, Unsupported,
};
use crate::domain::bank::{QuestionKind, StatuteRegistry, OPTION_LETTERS};
use crate::domain::said::{Located, Said};

pub(super) fn parse(bytes: &[u8], defaults: &Defaults, registry: &StatuteRegistry) -> Parsed {
    let mut parsed = Parsed::new(Format::Gift);
    let text = match decode_text(bytes) {
        Ok(t) => t,
        Err(e) => return Parsed::failed(Format::Gift, e),
    };
    let mut block = Block::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() {
            block.flush(&mut parsed, defaults, registry);
        } else if let Some(comment) = t.strip_prefix("//") {
            let c = comment.trim_start();
            if c.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("lawcert:")) {
                block.meta.push((n, c[8..].to_string()));
            }
        } else if !t.starts_with("$CATEGORY:") {
            block.first_line.get_or_insert(n);
            block.lines.push(line.to_string());
        }
    }
    block.flush(&mut parsed, defaults, registry);
    parsed
}

#[derive(Default)]
struct Block {
    first_line: Option<usize>,
    lines: Vec<String>,
    /// `// lawcert:` comments: line and text after the prefix.
    meta: Vec<(usize, String)>,
}

impl Block {
    fn flush(&mut self, parsed: &mut Parsed, defaults: &Defaults, registry: &StatuteRegistry) {
        let block = std::mem::take(self);
        let Some(line) = block.first_line else {
            for (n, _) in block.meta {
                parsed.file_errors.push(at_line(
                    n,
                    Said::plain(
                        "bank_file.gift_comment_apart",
                        "a `// lawcert:` comment must be directly above its question (no blank line between)",
                    ),
                ));
            }
            return;
        };
        let location = place::line(line);
        match read_question(&block.lines.join("\n"), location.clone()) {
            Ok(mut d) => {
                for (n, text) in &block.meta {
                    apply_meta(&mut d, *n, text);
                }
                parsed.entries.push(d.finish(defaults, registry));
            }
            Err((kind, title)) => parsed.unsupported.push(Unsupported { location, kind: kind.into(), title }),
        }
    }
}

fn apply_meta(d: &mut Draft, line: usize, text: &str) {
    for pair in text.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            d.errors.push(at_line(
                line,
                Said::new(
                    "bank_file.gift_not_pair",
                    vec![("pair", pair.to_string())],
                    format!("lawcert comment: {pair:?} is not key=value"),
                ),
            ));
            continue;
        };
        match field_by_name(key) {
            Some(f @ (Field::Id | Field::Statute | Field::Edition | Field::Articles | Field::Difficulty | Field::Levels | Field::Tags)) => {
                if let Err(e) = d.set(f, value) {
                    d.errors.push(at_line(line, e));
                }
            }
            _ => d.errors.push(at_line(
                line,
                Said::new(
                    "bank_file.gift_unknown_key",
                    vec![("key", key.trim().to_string())],
                    format!("lawcert comment: unknown key {:?} (statute, edition, articles, difficulty, levels, tags, id)", key.trim()),
                ),
            )),
        }
    }
}

/// A question type lawcert cannot hold: its kind and a title to list it by.
type NotSupported = (&'static str, String);

fn read_question(src: &str, location: Said) -> Result<Draft, NotSupported> {
    let mut d = Draft::new(location);
    let mut rest = src.trim_start();
    let mut title = String::new();
    if let Some(after) = rest.strip_prefix("::") {
        match find_unescaped(after, "::") {
            Some(end) => {
                title = unescape(&after[..end]).trim().to_string();
                rest = after[end + 2..].trim_start();
            }
            None => d.errors.push(Located::whole(Said::plain("bank_file.gift_title_open", "the ::title:: is not closed"))),
        }
    }
    if looks_like_id(&title) {
        d.id = Some(title.clone());
    }
    let mut format = "moodle";
    for f in ["html", "plain", "markdown", "moodle"] {
        if let Some(after) = rest.strip_prefix(&format!("[{f}]")) {
            format = f;
            rest = after;
            break;
        }
    }
    let text = |s: &str| {
        let s = unescape(s);
        match format {
            "html" => to_plain_text(&s),
            "plain" => s.trim().to_string(),
            _ => auto_to_plain(&s),
        }
    };
    let caption = |stem: &str| if title.is_empty() { stem.chars().take(40).collect() } else { title.clone() };
    let Some(open) = find_unescaped(rest, "{") else {
        return Err(("description", caption(&text(rest))));
    };
    let Some(len) = find_unescaped(&rest[open + 1..], "}") else {
        d.stem = text(&rest[..open]);
        d.answer_error(Located::whole(Said::plain("bank_file.gift_block_open", "the answer block { … } is not closed")));
        return Ok(d);
    };
    let (before, body, after) = (&rest[..open], &rest[open + 1..open + 1 + len], &rest[open + 2 + len..]);
    if find_unescaped(after, "{").is_some() {
        d.errors.push(Located::whole(Said::plain("bank_file.gift_two_blocks", "more than one answer block { … } in one question")));
    }
    let (before, after) = (text(before), text(after));
    d.stem = if after.is_empty() { before } else { format!("{before}____{after}") };
    let (answers, general) = match find_unescaped(body, "####") {
        Some(i) => (&body[..i], Some(&body[i + 4..])),
        None => (body, None),
    };
    d.explanation = general.map(&text).unwrap_or_default();
    let answers = answers.trim();
    if answers.is_empty() {
        return Err(("essay", caption(&d.stem)));
    }
    if answers.starts_with('#') {
        return Err(("numerical", caption(&d.stem)));
    }
    let head = &answers[..find_unescaped(answers, "#").unwrap_or(answers.len())];
    if let Some(key) = match head.trim().to_ascii_uppercase().as_str() {
        "T" | "TRUE" => Some(true),
        "F" | "FALSE" => Some(false),
        _ => None,
    } {
        d.kind = QuestionKind::TrueFalse;
        d.answer = if key { "T" } else { "F" }.into();
        // Moodle: the first feedback is shown for a wrong answer, the second for a right one
        let feedback: Vec<String> = split_unescaped(&answers[head.len()..], '#').into_iter().skip(1).map(&text).collect();
        for (fb, right) in feedback.iter().zip([false, true]) {
            append_feedback(&mut d.explanation, if right == key { "对" } else { "错" }, fb);
        }
        return Ok(d);
    }
    let choices = split_answers(answers);
    if !choices.iter().any(|c| c.marker == '~') {
        if choices.iter().any(|c| find_unescaped(c.text, "->").is_some()) {
            return Err(("matching", caption(&d.stem)));
        }
        if choices.iter().any(|c| c.marker == '=') {
            return Err(("short answer", caption(&d.stem)));
        }
        let block: String = answers.chars().take(40).collect();
        d.answer_error(Located::whole(Said::new(
            "bank_file.gift_no_answers",
            vec![("block", block.clone())],
            format!("answer block {{{block}}} has no =right or ~wrong answers"),
        )));
        return Ok(d);
    }
    if let Some(junk) = choices.iter().find(|c| c.marker == ' ') {
        d.answer_error(Located::whole(Said::new(
            "bank_file.gift_text_before",
            vec![("text", junk.text.trim().to_string())],
            format!("text {:?} before the first = or ~ answer", junk.text.trim()),
        )));
    }
    // Moodle's rule: any `=` answer makes it single choice; otherwise weights decide
    d.kind = if choices.iter().any(|c| c.marker == '=') { QuestionKind::Single } else { QuestionKind::Multiple };
    for (i, c) in choices.iter().filter(|c| c.marker != ' ').enumerate() {
        let mut parts = split_unescaped(c.text, '#').into_iter();
        let mut option = parts.next().unwrap_or_default();
        let mut weight = if c.marker == '=' { 100.0 } else { 0.0 };
        if let Some(w) = option.trim_start().strip_prefix('%') {
            match w.split_once('%').and_then(|(n, t)| Some((n.trim().parse::<f64>().ok()?, t))) {
                Some((n, t)) => {
                    weight = n;
                    option = t;
                }
                None => d.answer_error(Located::new(
                    vec![place::answer(i + 1)],
                    Said::new(
                        "bank_file.gift_weight",
                        vec![("option", option.trim().to_string())],
                        format!("the weight in {:?} is not %number%", option.trim()),
                    ),
                )),
            }
        }
        let letter = OPTION_LETTERS.chars().nth(i);
        if weight > 0.0 {
            d.answer.extend(letter);
        }
        let feedback: Vec<String> = parts.map(&text).collect();
        append_feedback(&mut d.explanation, &letter.map_or(String::new(), String::from), &feedback.join(" "));
        d.options.push(text(option));
    }
    Ok(d)
}

struct Choice<'a> {
    /// `=`, `~`, or ' ' for text before the first marker.
    marker: char,
    text: &'a str,
}

fn split_answers(body: &str) -> Vec<Choice<'_>> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut marker, mut i) = (0, ' ', 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            c @ (b'=' | b'~') => {
                if i > start || marker != ' ' {
                    push_choice(&mut out, marker, &body[start..i]);
                }
                marker = c as char;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push_choice(&mut out, marker, &body[start..]);
    out
}

fn push_choice<'a>(out: &mut Vec<Choice<'a>>, marker: char, text: &'a str) {
    if marker != ' ' || !text.trim().is_empty() {
        out.push(Choice { marker, text });
    }
}

/// Byte index of the first `pat` (ASCII) not escaped by a backslash. Works on bytes: an ASCII
/// byte never occurs inside a multi-byte character, so the index is a char boundary.
fn find_unescaped(s: &str, pat: &str) -> Option<usize> {
    let (b, p) = (s.as_bytes(), pat.as_bytes());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i..].starts_with(p) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(i) = find_unescaped(rest, sep.encode_utf8(&mut [0; 4])) {
        parts.push(&rest[..i]);
        rest = &rest[i + 1..];
    }
    parts.push(rest);
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(e @ ('~' | '=' | '#' | '{' | '}' | ':' | '\\')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse as parse_any;
    use super::super::testutil::*;
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_any(Format::Gift, "q.gift", text.as_bytes(), &defaults(), &registry())
    }

    const SAMPLE: &str = r#"$CATEGORY: $course$/刑法

// 第一题：单选
// lawcert: statute=criminal-law; edition=2023-12-29; articles=20,21; difficulty=1; levels=basic,intermediate; tags=正当防卫,总则
::XF-G1::[html]为了使<b>本人</b>的人身权利免受正在进行的不法侵害而采取的制止行为，属于：{
=正当防卫#对，第二十条
~紧急避险
~防卫过当
####根据《刑法》第二十条。
}

// lawcert: articles=第二十条第三款
::特殊防卫::下列属于特殊防卫对象的有：{~%50%行凶 ~%50%抢劫 ~%-100%一般盗窃 ####第二十条第三款。}

// lawcert: articles=20
防卫过当应当负刑事责任，但是应当减轻或者免除处罚。{TRUE####第二十条第二款。}

// lawcert: articles=20
刑法第 {=二十 ~二十一 ~二十二 ####\#解析\n第二行} 条规定了正当防卫\: 见该条\{原文\}。

::Q5::简述正当防卫的条件。{}

::Q6::1+1=? {#2}

::Q7::中国的首都是 {=北京 =北京市}。

::Q8:: 配对 {=甲 -> 1 =乙 -> 2 =丙 -> 3}

只是说明文字，没有答案。
"#;

    #[test]
    fn reads_questions_and_lists_unsupported_ones() {
        let p = parse(SAMPLE);
        assert_eq!(p.entries.len(), 4, "{p:#?}");
        let q = &p.entries[0];
        assert!(q.errors.is_empty(), "{:?}", q.errors);
        assert_eq!((q.code.as_str(), q.location.english.as_str()), ("XF-G1", "line 5"));
        assert_eq!(q.content.stem, "为了使本人的人身权利免受正在进行的不法侵害而采取的制止行为，属于：");
        assert_eq!(q.content.options, vec!["正当防卫", "紧急避险", "防卫过当"]);
        assert_eq!(q.content.answer, "A");
        assert_eq!(q.content.explanation, "根据《刑法》第二十条。\nA：对，第二十条");
        assert_eq!(q.content.articles, vec!["20", "21"]);
        assert_eq!(q.content.tags, vec!["正当防卫", "总则"]);
        assert_eq!(q.content.difficulty, 1);
        let m = &p.entries[1];
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        assert!(m.code.starts_with("IMP-"));
        assert_eq!((m.content.kind, m.content.answer.as_str()), (QuestionKind::Multiple, "AB"));
        assert_eq!(m.content.articles, vec!["第二十条第三款"]);
        let t = &p.entries[2];
        assert_eq!(
            (t.content.kind, t.content.answer.as_str(), t.content.explanation.as_str()),
            (QuestionKind::TrueFalse, "T", "第二十条第二款。")
        );
        let w = &p.entries[3];
        assert!(w.errors.is_empty(), "{:?}", w.errors);
        assert_eq!(w.content.stem, "刑法第____条规定了正当防卫: 见该条{原文}。");
        assert_eq!(w.content.explanation, "#解析\n第二行");
        let kinds: Vec<&str> = p.unsupported.iter().map(|u| u.kind.as_str()).collect();
        assert_eq!(kinds, vec!["essay", "numerical", "short answer", "matching", "description"]);
        assert_eq!(p.unsupported[0].title, "Q5");
        assert_eq!(p.unsupported[4].location, "line 29");
        assert!(p.is_clean(), "{p:#?}");
        let two = parse("// lawcert: articles=1\n题 {=a ~b} 又 {=c ~d}");
        assert!(two.entries[0].errors.iter().any(|e| e.to_string().contains("more than one answer block")));
    }

    #[test]
    fn broken_questions_have_located_errors() {
        let text = "// lawcert: difficulty=9; colour=red\n::A1::题{=a ~b\n\n// lawcert: articles=1\n\n::A2 题 {=a ~b}";
        let p = parse(text);
        assert_eq!(p.entries.len(), 2);
        let errors = p.entries[0].errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            errors.contains("line 1: difficulty \"9\"") && errors.contains("unknown key \"colour\"") && errors.contains("not closed"),
            "{errors}"
        );
        assert!(p.entries[1].errors.iter().any(|e| e.to_string().contains("::title:: is not closed")));
        assert_eq!(p.file_errors, vec!["line 4: a `// lawcert:` comment must be directly above its question (no blank line between)"]);
    }

    #[test]
    fn never_panics_on_truncated_input() {
        for (i, _) in SAMPLE.char_indices() {
            parse(&SAMPLE[..i]);
        }
        let tokens = [
            "{",
            "}",
            "=",
            "~",
            "#",
            "####",
            "%",
            "%50%",
            "%-100%",
            "::",
            "\\",
            "\\n",
            "->",
            "T",
            "FALSE",
            "[html]",
            "<b>",
            "中文",
            " ",
            "\n",
            "\n\n",
            "// lawcert: difficulty=2; articles=1",
            "$CATEGORY: x",
        ];
        super::super::testutil::fuzz(&tokens, 3000, |s| {
            parse(s);
        });
        for s in ["{", "}", "::", "::{", "\\", "{\\", "{~%", "{~%%}", "{=%x%a ~b}", "{T#", "[html]{}", "\u{0}{=\u{0} ~\u{1}}"] {
            parse(s);
        }
    }
}
