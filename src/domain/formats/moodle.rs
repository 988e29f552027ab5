//! Moodle XML (`<quiz><question type="…">…</question></quiz>`), import and export.
//!
//! - `multichoice` with `<single>true</single>` (the default) is a single-choice question, with
//!   `<single>false</single>` a multiple-choice one; `multichoiceset` (all-or-nothing plugin) is
//!   multiple choice. The correct options are the `<answer>`s with `fraction` > 0.
//! - `truefalse`: the `<answer>` with fraction > 0 and text `true` or `false` is the key.
//! - `category` questions only group others and are skipped. Every other type (shortanswer,
//!   essay, matching, numerical, cloze/multianswer, description, ddwtos, gapselect, calculated…)
//!   is listed as unsupported with its `<name>`.
//! - Text with `format="html"` (Moodle's default), `moodle_auto_format` or `markdown` goes through
//!   the HTML sanitiser (always for html, when it looks like markup otherwise); `plain_text` is
//!   taken as written. CDATA sections and entities are read as XML defines them.
//! - `<generalfeedback>` is the explanation; per-answer `<feedback>` is appended to it as
//!   `A：…` lines (`对：`/`错：` for true/false).
//! - Metadata are tags `<tags><tag><text>key:value</text></tag></tags>`: `statute:`, `edition:`,
//!   `article:` (repeatable) or `articles:20,21`, `difficulty:`, `level:` (repeatable) or
//!   `levels:`. Any other tag is a lawcert tag; `tag:x` is the lawcert tag `x` (so a tag such as
//!   `statute:x` survives a round trip).
//! - The id is `<idnumber>`; else `<name>` when it looks like an id (`[A-Za-z0-9_-]+`); else
//!   generated.
//! - Places are `question N at line L` (N counts questions, not categories). Malformed XML is a
//!   file error with its line; questions read before it are kept.
//!
//! Export writes one `category` per run of questions of one statute (`$course$/top/lawcert/刑法`),
//! plain-text texts, the id as both `<name>` and `<idnumber>`, and the metadata tags above, so
//! importing the export gives the same questions. Case groups are not carried: case items are
//! exported as ordinary questions (without the case text); use the lawcert format for cases.

use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::sanitize::{auto_to_plain, to_plain_text};
use super::{
    append_feedback, at_line, decode_text, looks_like_id, parse_true_false, place, verbatim, Defaults, Draft, ExportItem, Field, LineIndex,
    Parsed, Unsupported,
};
use super::{Format, Level};
use crate::domain::bank::{QuestionKind, StatuteRegistry, OPTION_LETTERS};
use crate::domain::said::{Located, Said};

/// Moodle files are a few levels deep; a limit keeps hostile nesting from exhausting the stack.
const MAX_DEPTH: usize = 32;

pub(super) fn parse(bytes: &[u8], defaults: &Defaults, registry: &StatuteRegistry) -> Parsed {
    let mut parsed = Parsed::new(Format::MoodleXml);
    let src = match decode_text(bytes) {
        Ok(s) => s,
        Err(e) => return Parsed::failed(Format::MoodleXml, e),
    };
    let (root, error) = read_tree(&src);
    let lines = LineIndex::new(&src);
    if let Some((offset, message)) = error {
        let english = format!("malformed XML: {message}");
        parsed.file_errors.push(at_line(lines.line(offset), Said::plain("bank_file.xml_malformed", english).with_part("detail", message)));
    }
    let Some(root) = root else {
        if parsed.file_errors.is_empty() {
            parsed.file_errors.push(at_line(1, Said::plain("bank_file.xml_no_quiz", "no <quiz> element")));
        }
        return parsed;
    };
    if root.name != "quiz" {
        parsed.file_errors.push(at_line(
            lines.line(root.pos),
            Said::new("bank_file.xml_root", vec![("name", root.name.clone())], format!("the root element is <{}>, not <quiz>", root.name)),
        ));
        return parsed;
    }
    let mut n = 0;
    for q in root.children_named("question") {
        let kind = q.attr("type").unwrap_or_default();
        if kind == "category" {
            continue;
        }
        n += 1;
        let location = place::question(n, lines.line(q.pos));
        let name = q.child("name").map(El::text_child).unwrap_or_default().trim().to_string();
        match kind {
            "multichoice" | "multichoiceset" | "truefalse" => {
                parsed.entries.push(read_question(q, kind, &name, location).finish(defaults, registry))
            }
            "" => parsed.unsupported.push(Unsupported { location, kind: "(no type)".into(), title: name }),
            other => parsed.unsupported.push(Unsupported { location, kind: other.into(), title: name }),
        }
    }
    parsed
}

fn read_question(q: &El, kind: &str, name: &str, location: Said) -> Draft {
    let mut d = Draft::new(location);
    d.stem = rich_text(q.child("questiontext"));
    d.explanation = rich_text(q.child("generalfeedback"));
    let idnumber = q.child("idnumber").map(|e| e.text.trim().to_string()).unwrap_or_default();
    if !idnumber.is_empty() {
        if let Err(e) = d.set(Field::Id, &idnumber) {
            d.errors.push(Located::new(vec![Said::plain("bank_file.at_idnumber", "<idnumber>")], e));
        }
    } else if looks_like_id(name) {
        d.id = Some(name.to_string());
    }
    for tag in q.child("tags").into_iter().flat_map(|t| t.children_named("tag")) {
        let text = tag.text_child();
        if let Err(e) = apply_tag(&mut d, text.trim()) {
            let at = Said::new("bank_file.at_tag", vec![("tag", text.trim().to_string())], format!("tag {:?}", text.trim()));
            d.errors.push(Located::new(vec![at], e));
        }
    }
    let mut answers = Vec::new();
    for (i, a) in q.children_named("answer").enumerate() {
        let raw = a.attr("fraction").unwrap_or("0").trim();
        let fraction = raw.parse::<f64>().ok().filter(|f| f.is_finite()).unwrap_or_else(|| {
            d.answer_error(Located::new(
                vec![place::answer(i + 1)],
                Said::new("bank_file.xml_fraction", vec![("fraction", raw.to_string())], format!("fraction {raw:?} is not a number")),
            ));
            0.0
        });
        let feedback = a.child("feedback").map(|f| rich_text(Some(f))).unwrap_or_default();
        answers.push((rich_text(Some(a)), fraction > 0.0, feedback));
    }
    if kind == "truefalse" {
        d.kind = QuestionKind::TrueFalse;
        let keys: Vec<Option<bool>> = answers.iter().filter(|a| a.1).map(|a| parse_true_false(&a.0)).collect();
        match keys.as_slice() {
            [Some(b)] => d.answer = if *b { "T" } else { "F" }.to_string(),
            _ => d.answer_error(Located::whole(Said::plain(
                "bank_file.xml_truefalse",
                "a true/false question needs exactly one answer `true` or `false` with fraction 100",
            ))),
        }
        for (text, _, feedback) in &answers {
            let label = match parse_true_false(text) {
                Some(true) => "对",
                Some(false) => "错",
                None => text,
            };
            append_feedback(&mut d.explanation, label, feedback);
        }
    } else {
        let single = kind == "multichoice" && q.child("single").is_none_or(|s| matches!(s.text.trim(), "true" | "1"));
        d.kind = if single { QuestionKind::Single } else { QuestionKind::Multiple };
        // letters only exist for the first six; more options fail validation anyway
        d.answer = answers.iter().zip(OPTION_LETTERS.chars()).filter(|(a, _)| a.1).map(|(_, l)| l).collect();
        for ((_, _, feedback), letter) in answers.iter().zip(OPTION_LETTERS.chars()) {
            append_feedback(&mut d.explanation, letter.encode_utf8(&mut [0; 4]), feedback);
        }
        d.options = answers.into_iter().map(|a| a.0).collect();
    }
    d
}

/// Applies one tag: lawcert metadata (`key:value`), `tag:x`, or a plain lawcert tag.
fn apply_tag(d: &mut Draft, text: &str) -> Result<(), Said> {
    if let Some((key, value)) = text.split_once([':', '：']) {
        let key = key.trim().to_lowercase();
        if key == "tag" {
            d.meta.tags.push(value.trim().to_string());
            return Ok(());
        }
        if let Some(field @ (Field::Statute | Field::Edition | Field::Articles | Field::Difficulty | Field::Levels)) =
            super::field_by_name(&key)
        {
            return d.set(field, value);
        }
    }
    if !text.is_empty() {
        d.meta.tags.push(text.to_string());
    }
    Ok(())
}

/// The `<text>` of a Moodle rich-text element, as plain text according to its `format`.
fn rich_text(el: Option<&El>) -> String {
    let Some(el) = el else { return String::new() };
    let text = el.text_child();
    match el.attr("format").unwrap_or("html") {
        "plain_text" => text.trim().to_string(),
        "html" => to_plain_text(&text),
        _ => auto_to_plain(&text),
    }
}

/// A parsed element: just what this format needs.
#[derive(Debug)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    /// Direct text content (text, CDATA and references, in order).
    text: String,
    /// Byte offset of the start tag.
    pos: usize,
}

impl El {
    fn open(e: &BytesStart<'_>, pos: usize, decoder: Decoder) -> Result<El, Said> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(verbatim)?;
            let value = a.decode_and_unescape_value(decoder).map_err(verbatim)?;
            attrs.push((String::from_utf8_lossy(a.key.as_ref()).into_owned(), value.into_owned()));
        }
        Ok(El { name: String::from_utf8_lossy(e.name().as_ref()).into_owned(), attrs, children: Vec::new(), text: String::new(), pos })
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_child(&self) -> String {
        self.child("text").map(|t| t.text.clone()).unwrap_or_default()
    }
}

/// Reads the element tree; on malformed XML returns what was read (the root, if any) and the
/// error with its byte offset.
fn read_tree(src: &str) -> (Option<El>, Option<(usize, Said)>) {
    let mut reader = Reader::from_str(src);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let error = loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => break Some((reader.error_position() as usize, verbatim(e))),
        };
        let end = reader.buffer_position() as usize;
        // start of the tag just read (attribute values cannot hold a raw `<`); only searched
        // for tags, so a long run of text is never scanned again
        let tag_start = || src.get(..end).and_then(|s| s.rfind('<')).unwrap_or(0);
        let mut at = end;
        let result: Result<(), Said> = match event {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                Err(Said::new(
                    "bank_file.xml_deep",
                    vec![("max", MAX_DEPTH.to_string()), ("name", name.clone())],
                    format!("elements nested deeper than {MAX_DEPTH} levels at <{name}>"),
                ))
            }
            Event::Start(e) => {
                at = tag_start();
                El::open(&e, at, reader.decoder()).map(|el| stack.push(el))
            }
            Event::Empty(e) => {
                at = tag_start();
                El::open(&e, at, reader.decoder()).and_then(|el| attach(&mut stack, &mut root, el))
            }
            Event::End(_) => match stack.pop() {
                Some(el) => attach(&mut stack, &mut root, el),
                None => Err(Said::plain("bank_file.xml_stray_close", "closing tag without an opening tag")),
            },
            Event::Text(t) => match t.xml_content() {
                Ok(text) => push_text(&mut stack, &text),
                Err(e) => Err(verbatim(e)),
            },
            Event::CData(t) => match t.xml_content() {
                Ok(text) => push_text(&mut stack, &text),
                Err(e) => Err(verbatim(e)),
            },
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => push_text(&mut stack, c.encode_utf8(&mut [0; 4])),
                    Ok(None) => match quick_xml::escape::resolve_xml_entity(&name) {
                        Some(s) => push_text(&mut stack, s),
                        None => Err(Said::new(
                            "bank_file.xml_entity",
                            vec![("name", name.clone())],
                            format!("unknown entity &{name}; (XML knows only &amp; &lt; &gt; &quot; &apos; and &#…;)"),
                        )),
                    },
                    Err(e) => Err(verbatim(e)),
                }
            }
            Event::Eof => {
                break stack.last().map(|el| {
                    (
                        src.len(),
                        Said::new("bank_file.xml_not_closed", vec![("name", el.name.clone())], format!("<{}> is not closed", el.name)),
                    )
                })
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => Ok(()),
        };
        if let Err(message) = result {
            break Some((at, message));
        }
    };
    (root, error)
}

fn attach(stack: &mut [El], root: &mut Option<El>, el: El) -> Result<(), Said> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => {
            return Err(Said::new(
                "bank_file.xml_second_root",
                vec![("name", el.name.clone())],
                format!("a second root element <{}>", el.name),
            ))
        }
    }
    Ok(())
}

fn push_text(stack: &mut [El], text: &str) -> Result<(), Said> {
    match stack.last_mut() {
        Some(el) => el.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(Said::plain("bank_file.xml_outside_text", "text outside the root element")),
    }
    Ok(())
}

pub(super) fn export(items: &[ExportItem], registry: &StatuteRegistry) -> Vec<u8> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- lawcert question export: metadata are in the tags (statute:, edition:, article:, difficulty:, level:) -->\n<quiz>\n");
    let mut category: Option<&str> = None;
    for item in items {
        let c = &item.content;
        if category != Some(c.statute.as_str()) {
            category = Some(&c.statute);
            out.push_str(&format!(
                "  <question type=\"category\">\n    <category>\n      <text>$course$/top/lawcert/{}</text>\n    </category>\n  </question>\n",
                xml(registry.short_name(&c.statute))
            ));
        }
        let kind = if c.kind == QuestionKind::TrueFalse { "truefalse" } else { "multichoice" };
        out.push_str(&format!("  <question type=\"{kind}\">\n"));
        out.push_str(&format!("    <name>\n      <text>{}</text>\n    </name>\n", xml(&item.code)));
        out.push_str(&format!("    <questiontext format=\"plain_text\">\n      <text>{}</text>\n    </questiontext>\n", xml(&c.stem)));
        out.push_str(&format!(
            "    <generalfeedback format=\"plain_text\">\n      <text>{}</text>\n    </generalfeedback>\n",
            xml(&c.explanation)
        ));
        out.push_str("    <defaultgrade>1</defaultgrade>\n    <penalty>0</penalty>\n    <hidden>0</hidden>\n");
        out.push_str(&format!("    <idnumber>{}</idnumber>\n", xml(&item.code)));
        let answer = |fraction: &str, text: &str| {
            format!("    <answer fraction=\"{fraction}\" format=\"plain_text\">\n      <text>{}</text>\n      <feedback format=\"plain_text\">\n        <text></text>\n      </feedback>\n    </answer>\n", xml(text))
        };
        match c.kind {
            QuestionKind::TrueFalse => {
                let key = c.answer == "T";
                out.push_str(&answer(if key { "100" } else { "0" }, "true"));
                out.push_str(&answer(if key { "0" } else { "100" }, "false"));
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                let single = c.kind == QuestionKind::Single;
                out.push_str(&format!("    <single>{single}</single>\n    <shuffleanswers>true</shuffleanswers>\n    <answernumbering>ABCD</answernumbering>\n"));
                let right = c.answer.len().max(1);
                let wrong = c.options.len().saturating_sub(right).max(1);
                for (option, letter) in c.options.iter().zip(OPTION_LETTERS.chars()) {
                    let fraction = match (c.answer.contains(letter), single) {
                        (true, true) => "100".to_string(),
                        (false, true) => "0".to_string(),
                        // Moodle's grade list has these: 50, 33.33333, 25 … and their negatives
                        (true, false) => grade(100.0 / right as f64),
                        (false, false) => grade(-100.0 / wrong as f64),
                    };
                    out.push_str(&answer(&fraction, option));
                }
            }
        }
        let mut tags = vec![format!("statute:{}", c.statute), format!("edition:{}", c.edition)];
        tags.extend(c.articles.iter().map(|a| format!("article:{a}")));
        tags.push(format!("difficulty:{}", c.difficulty));
        tags.extend(c.levels.iter().map(|l: &Level| format!("level:{}", l.as_str())));
        tags.extend(c.tags.iter().map(|t| if t.contains([':', '：']) { format!("tag:{t}") } else { t.clone() }));
        out.push_str("    <tags>\n");
        for t in tags {
            out.push_str(&format!("      <tag><text>{}</text></tag>\n", xml(&t)));
        }
        out.push_str("    </tags>\n  </question>\n");
    }
    out.push_str("</quiz>\n");
    out.into_bytes()
}

fn grade(f: f64) -> String {
    let s = format!("{f:.5}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Escaped XML text, without characters XML 1.0 cannot hold.
fn xml(s: &str) -> String {
    let kept: String = s.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    quick_xml::escape::escape(kept.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{export as export_any, parse as parse_any};
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_any(Format::MoodleXml, "quiz.xml", text.as_bytes(), &defaults(), &registry())
    }

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category">
    <category><text>$course$/top/Default</text></category>
  </question>
  <question type="multichoice">
    <name><text>Q1 正当防卫</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>为了使本人的人身权利免受<b>正在进行</b>的不法侵害而采取的制止行为，属于：</p><script>alert(1)</script>]]></text>
    </questiontext>
    <generalfeedback format="html"><text>&lt;p&gt;根据刑法第二十条。&lt;/p&gt;</text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text>&lt;p&gt;正当防卫&lt;/p&gt;</text><feedback><text>对</text></feedback></answer>
    <answer fraction="0"><text>紧急避险</text></answer>
    <answer fraction="0"><text>防卫过当</text></answer>
    <tags>
      <tag><text>statute:刑法</text></tag>
      <tag><text>article:第二十条</text></tag>
      <tag><text>difficulty:1</text></tag>
      <tag><text>level:basic</text></tag>
      <tag><text>正当防卫</text></tag>
    </tags>
  </question>
  <question type="multichoice">
    <name><text>XF-M2</text></name>
    <questiontext format="plain_text"><text>下列属于特殊防卫对象的有 &lt;多选&gt;</text></questiontext>
    <generalfeedback format="plain_text"><text>第二十条第三款。</text></generalfeedback>
    <single>false</single>
    <answer fraction="50"><text>行凶</text></answer>
    <answer fraction="50"><text>抢劫</text></answer>
    <answer fraction="-100"><text>盗窃</text></answer>
    <tags><tag><text>articles:20</text></tag></tags>
  </question>
  <question type="truefalse">
    <name><text>TF</text></name>
    <questiontext format="moodle_auto_format"><text>防卫过当应当负刑事责任。</text></questiontext>
    <generalfeedback><text>第二十条第二款。</text></generalfeedback>
    <idnumber>XF-TF1</idnumber>
    <answer fraction="100"><text>true</text></answer>
    <answer fraction="0"><text>false</text></answer>
    <tags><tag><text>article:20</text></tag></tags>
  </question>
  <question type="essay">
    <name><text>论述题</text></name>
    <questiontext><text>论述</text></questiontext>
  </question>
  <question type="shortanswer"><name><text>填空</text></name></question>
</quiz>
"#;

    #[test]
    fn reads_supported_types_and_lists_the_rest() {
        let p = parse(SAMPLE);
        assert!(p.is_clean(), "{:#?}", p);
        assert_eq!(p.entries.len(), 3);
        let q = &p.entries[0];
        assert_eq!(q.location, "question 1 at line 6");
        assert!(q.code.starts_with("IMP-"), "name with a space is not an id");
        assert_eq!(q.content.stem, "为了使本人的人身权利免受正在进行的不法侵害而采取的制止行为，属于：");
        assert_eq!(q.content.options, vec!["正当防卫", "紧急避险", "防卫过当"]);
        assert_eq!(q.content.answer, "A");
        assert_eq!(q.content.explanation, "根据刑法第二十条。\nA：对");
        assert_eq!((q.content.statute.as_str(), q.content.edition.as_str()), ("criminal-law", "2023-12-29"));
        assert_eq!(q.content.articles, vec!["20"]);
        assert_eq!(q.content.difficulty, 1);
        assert_eq!(q.content.tags, vec!["正当防卫"]);
        let m = &p.entries[1];
        assert_eq!((m.code.as_str(), m.content.kind, m.content.answer.as_str()), ("XF-M2", QuestionKind::Multiple, "AB"));
        assert_eq!(m.content.stem, "下列属于特殊防卫对象的有 <多选>");
        assert_eq!(m.content.difficulty, 2, "from the defaults");
        let t = &p.entries[2];
        assert_eq!((t.code.as_str(), t.content.kind, t.content.answer.as_str()), ("XF-TF1", QuestionKind::TrueFalse, "T"));
        assert_eq!(p.unsupported.len(), 2);
        assert_eq!(p.unsupported[0], Unsupported { location: super::place::question(4, 43), kind: "essay".into(), title: "论述题".into() });
    }

    #[test]
    fn entry_errors_are_specific() {
        let text = SAMPLE
            .replace("difficulty:1", "difficulty:5")
            .replace("<answer fraction=\"100\"><text>true", "<answer fraction=\"0\"><text>true");
        let p = parse(&text);
        assert!(
            p.entries[0].errors.iter().any(|e| e.to_string().starts_with("tag \"difficulty:5\": difficulty")),
            "{:?}",
            p.entries[0].errors
        );
        assert!(!p.entries[0].errors.iter().any(|e| e.to_string().starts_with("difficulty 0")));
        assert_eq!(p.entries[2].errors.len(), 1, "{:?}", p.entries[2].errors);
    }

    #[test]
    fn malformed_xml_names_the_line() {
        let p = parse("<quiz>\n<question type=\"truefalse\">\n<name><text>x</name>\n</question></quiz>");
        assert!(p.file_errors[0].to_string().starts_with("line 3: malformed XML"), "{:?}", p.file_errors);
        let p = parse("<quiz>\n<question type=\"truefalse\">\n");
        assert!(p.file_errors[0].to_string().contains("not closed"), "{:?}", p.file_errors);
        let p = parse("<?xml version=\"1.0\"?>\n<html></html>");
        assert_eq!(p.file_errors, vec!["line 2: the root element is <html>, not <quiz>"]);
        let p = parse("<quiz><question type=\"essay\"><name><text>&nbsp;</text></name></question></quiz>");
        assert!(p.file_errors[0].to_string().contains("unknown entity &nbsp;"), "{:?}", p.file_errors);
        let deep = format!("<quiz>{}", "<a>".repeat(10_000));
        assert!(parse(&deep).file_errors[0].to_string().contains("nested deeper"));
    }

    #[test]
    fn billion_laughs_is_not_expanded() {
        let text = r#"<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<quiz><question type="essay"><name><text>&lol2;</text></name></question></quiz>"#;
        let p = parse(text);
        assert!(p.file_errors[0].to_string().contains("unknown entity &lol2;"), "{:?}", p.file_errors);
    }

    #[test]
    fn export_round_trips() {
        let reg = registry();
        let items = items();
        let bytes = export_any(Format::MoodleXml, &items, &reg).unwrap();
        let p = parse_any(Format::MoodleXml, "x.xml", &bytes, &super::super::Defaults::default(), &reg);
        assert!(p.is_clean(), "{:#?}\n{}", p, String::from_utf8_lossy(&bytes));
        assert_eq!(p.entries.len(), items.len());
        for (e, i) in p.entries.iter().zip(&items) {
            assert_eq!(e.code, i.code);
            assert_eq!(e.content, i.content, "{}", i.code);
        }
        assert!(String::from_utf8_lossy(&bytes).contains("<text>$course$/top/lawcert/治安管理处罚法</text>"));
    }

    #[test]
    fn never_panics_on_truncated_or_garbled_input() {
        let text = String::from_utf8(export_any(Format::MoodleXml, &items()[..3], &registry()).unwrap()).unwrap();
        let end = text.rfind("</quiz>").unwrap();
        for (i, _) in text.char_indices().filter(|(i, _)| *i < end) {
            assert!(!parse(&text[..i]).file_errors.is_empty(), "prefix of {i} bytes");
        }
        let tokens = [
            "<quiz>",
            "</quiz>",
            "<question type=\"multichoice\">",
            "<question type=\"truefalse\">",
            "</question>",
            "<text>",
            "</text>",
            "<answer fraction=\"100\">",
            "<answer fraction=\"x\">",
            "</answer>",
            "<single>false</single>",
            "<![CDATA[<p>",
            "]]>",
            "&amp;",
            "&bad;",
            "<tags><tag><text>level:x",
            "</tag></tags>",
            "中",
            " ",
        ];
        super::super::testutil::fuzz(&tokens, 3000, |s| {
            parse(s);
        });
        for (i, c) in SAMPLE.char_indices().step_by(3) {
            let mut garbled = SAMPLE.to_string();
            garbled.replace_range(i..i + c.len_utf8(), "<");
            parse(&garbled);
        }
    }
}
