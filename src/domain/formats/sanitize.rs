//! HTML in imported text becomes plain text.
//!
//! Moodle stores question text as HTML, and text pasted from web pages into GIFT, Aiken or Excel
//! often carries markup. lawcert stores and shows plain text only (pages escape it), so markup is
//! removed on import rather than kept and trusted:
//!
//! - `<script>` and `<style>` elements are removed with their content; every other tag is removed
//!   and its text kept (attributes, so `onerror=` and `javascript:` links, go with the tag);
//! - `<br>` is a line break; the end of a block (`p`, `div`, `li`, `tr`, headings, lists,
//!   `blockquote`) starts a new line, and a paragraph is followed by a blank line;
//! - entities are decoded (`&lt;script&gt;` stays visible as the text `<script>`, harmless
//!   because it is escaped wherever it is shown); `&nbsp;` is a space;
//! - whitespace runs within a line become one space (as a browser shows them), lines are trimmed,
//!   runs of blank lines collapse to one, and the text is trimmed.
//!
//! Parsing is html5ever's (through ammonia), so unclosed and misnested tags are read the way a
//! browser reads them.
//!
//! In formats without a format flag (GIFT without `[html]`, Aiken, Excel) text is treated as HTML
//! only when it looks like markup: it contains `<` followed by a letter, `</`, `<!`, or an entity
//! such as `&amp;` or `&#20013;`.

use std::collections::{HashMap, HashSet};

/// Tags that end a line; the sanitiser keeps them (without attributes) so the walk below can see
/// them.
const BLOCK_TAGS: [&str; 14] = ["p", "div", "li", "tr", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table"];

/// Marks a space that must survive collapsing (`&nbsp;`) until the end.
const HARD_SPACE: char = '\u{a0}';

/// html5ever is quadratic on some input (nesting depth, runs of `&`), so text larger or with more
/// tags than any real question skips it and is only stripped by the linear walk below (scripts,
/// styles and comments still go).
const MAX_TAGS: usize = 1000;
const MAX_PARSED_BYTES: usize = 32 << 10;

/// Turns an HTML fragment into plain text (see the module documentation).
pub fn to_plain_text(html: &str) -> String {
    if html.len() > MAX_PARSED_BYTES || html.matches('<').count() > MAX_TAGS {
        return walk(html);
    }
    let cleaned = ammonia::Builder::empty()
        .add_tags(&BLOCK_TAGS)
        .add_tags(&["br"])
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::new())
        .link_rel(None)
        .clean_content_tags(HashSet::from(["script", "style"]))
        .clean(html)
        .to_string();
    walk(&cleaned)
}

/// Text of HTML, with the line breaks its tags imply. Exact on the sanitiser's output (only the
/// tags above, no attributes, every `<` and `&` of the text escaped); a rough but linear
/// stripper on anything else.
fn walk(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    // line breaks owed before the next visible text: 1 after a block, 2 after a paragraph
    let mut pending = 0;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let is_tag = rest.starts_with('<') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if rest.starts_with("<!--") {
            i += lower[i..].find("-->").map_or(rest.len(), |e| e + 3);
        } else if is_tag {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let closing = rest[1..].starts_with('/');
            let name: String = lower[i + 1..i + end].trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
            i += end;
            if !closing && (name == "script" || name == "style") {
                i += lower[i..].find(&format!("</{name}")).unwrap_or(html.len() - i);
            } else if name == "br" {
                flush(&mut out, &mut pending);
                out.push('\n');
            } else if name == "p" {
                pending = pending.max(2);
            } else if BLOCK_TAGS.contains(&name.as_str()) {
                pending = pending.max(1);
            }
        } else if rest.starts_with('&') {
            let (decoded, len) = entity(rest).unwrap_or(('&', 1));
            push_text(&mut out, &mut pending, decoded.encode_utf8(&mut [0; 4]));
            i += len;
        } else {
            // at least one character, so a `<` that starts no tag is text
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let end = rest[first..].find(['<', '&']).map_or(rest.len(), |e| e + first);
            push_text(&mut out, &mut pending, &rest[..end]);
            i += end;
        }
    }
    tidy(&out)
}

/// Plain text as is, or [`to_plain_text`] when it looks like HTML.
pub fn auto_to_plain(s: &str) -> String {
    if looks_like_html(s) {
        to_plain_text(s)
    } else {
        s.trim().to_string()
    }
}

/// Whether text in a format without a format flag should be read as HTML.
pub fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2).any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || s.match_indices('&').any(|(i, _)| entity_len(&s[i..]).is_some())
}

/// Writes plain text as HTML that [`to_plain_text`] reads back unchanged (for exporting text that
/// would otherwise be taken for markup). Line breaks become `<br>`, runs of spaces keep their
/// width with `&nbsp;`.
pub fn to_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut prev_space = false;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            ' ' if prev_space => out.push_str("&nbsp;"),
            c => out.push(c),
        }
        prev_space = c == ' ';
    }
    out
}

fn flush(out: &mut String, pending: &mut usize) {
    if !out.is_empty() {
        out.extend(std::iter::repeat_n('\n', *pending));
    }
    *pending = 0;
}

/// Appends text; source whitespace is layout, not content, so it becomes a collapsible space.
fn push_text(out: &mut String, pending: &mut usize, text: &str) {
    if text.chars().any(|c| !c.is_ascii_whitespace()) {
        flush(out, pending);
    }
    out.extend(text.chars().map(|c| if c.is_ascii_whitespace() { ' ' } else { c }));
}

/// Collapses spaces, trims lines, keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let mut collapsed = String::with_capacity(line.len());
        for c in line.chars() {
            if !(c == ' ' && collapsed.ends_with(' ')) {
                collapsed.push(c);
            }
        }
        let line = collapsed.trim_matches([' ', HARD_SPACE]).replace(HARD_SPACE, " ");
        if !(line.is_empty() && lines.last().is_none_or(|l| l.is_empty())) {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Length of an entity at the start of `s` (`&name;`, `&#123;`, `&#x1F;`).
fn entity_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('&')?;
    // names are short: looking further would make text full of `&` quadratic
    let end = body.bytes().take(40).position(|b| b == b';')?;
    let name = &body[..end];
    let ok = match name.strip_prefix('#') {
        Some(n) => match n.strip_prefix(['x', 'X']) {
            Some(hex) => (1..=6).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => (1..=7).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()),
        },
        None => {
            (2..=31).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        }
    };
    ok.then_some(end + 2)
}

/// Decodes one entity of the sanitiser's output (which uses only a few).
fn entity(s: &str) -> Option<(char, usize)> {
    let len = entity_len(s)?;
    let name = &s[1..len - 1];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => HARD_SPACE,
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_styles_vanish_with_their_content() {
        assert_eq!(to_plain_text("安全<script>alert(1)</script>文本"), "安全文本");
        assert_eq!(to_plain_text("<style>p{color:red}</style><p>题干</p>"), "题干");
        assert_eq!(to_plain_text("<SCRIPT type=text/javascript>evil()</SCRIPT>ok"), "ok");
    }

    #[test]
    fn attributes_and_dangerous_links_are_dropped() {
        assert_eq!(to_plain_text("<img src=x onerror=alert(1)>图片"), "图片");
        assert_eq!(to_plain_text("<a href=\"javascript:alert(1)\">点我</a>"), "点我");
        assert_eq!(to_plain_text("<iframe src=\"https://evil\"></iframe>x"), "x");
        let out = to_plain_text("<svg><script>alert(1)</script></svg><math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>");
        assert!(!out.contains("alert"), "{out}");
    }

    #[test]
    fn escaped_markup_stays_visible_as_text() {
        assert_eq!(to_plain_text("&lt;script&gt;alert(1)&lt;/script&gt;"), "<script>alert(1)</script>");
        assert_eq!(to_plain_text("a &amp;amp; b &#20013;&#x6587;"), "a &amp; b 中文");
    }

    #[test]
    fn nested_and_unclosed_tags_keep_their_text() {
        assert_eq!(to_plain_text("<b><i>粗斜</b>体</i>"), "粗斜体");
        // a block inside an open paragraph ends the paragraph, as in a browser
        assert_eq!(to_plain_text("<p>未关闭<div>块"), "未关闭\n\n块");
        assert_eq!(to_plain_text("<p>a</p><p"), "a");
        assert_eq!(to_plain_text("<<b>>x"), "<>x");
        assert_eq!(to_plain_text("a < b"), "a < b");
    }

    #[test]
    fn breaks_and_whitespace() {
        assert_eq!(to_plain_text("<p>第一段</p>\n<p>第二段</p>"), "第一段\n\n第二段");
        assert_eq!(to_plain_text("<p>第一段</p><p>第二段</p>"), "第一段\n\n第二段");
        assert_eq!(to_plain_text("一<br>二<br/><br>三"), "一\n二\n\n三");
        assert_eq!(to_plain_text("<ul><li>甲</li><li>乙</li></ul>"), "甲\n乙");
        assert_eq!(to_plain_text("<div>a</div><div>b</div>"), "a\nb");
        assert_eq!(to_plain_text("  多个   空格\n  换行 "), "多个 空格 换行");
        assert_eq!(to_plain_text("<p>&nbsp;</p><p>x</p><br><br><br><br>y"), "x\n\ny");
        assert_eq!(to_plain_text(""), "");
    }

    #[test]
    fn heavy_markup_is_stripped_linearly() {
        let deep = format!("<script>alert(1)</script>{}正文<br>第二行<style>x</style>&amp;", "<div><b>".repeat(50_000));
        assert_eq!(to_plain_text(&deep), "正文\n第二行&");
        let flat = format!("{}<!-- c --><p>尾</p>", "<i>x</i>".repeat(600));
        assert_eq!(to_plain_text(&flat), format!("{}\n\n尾", "x".repeat(600)));
    }

    #[test]
    fn never_panics_on_random_markup() {
        let tokens = [
            "<",
            ">",
            "&",
            ";",
            "中",
            "a",
            " ",
            "\n",
            "/",
            "<p>",
            "</p>",
            "<br>",
            "<script>",
            "</script>",
            "<style",
            "&amp;",
            "&#x4e2d;",
            "&#0;",
            "&#xFFFFFF;",
            "<!--",
            "-->",
            "\"",
            "'",
            "=",
            "<li",
            "文字",
        ];
        let heavy = "<b>".repeat(MAX_TAGS + 1);
        super::super::testutil::fuzz(&tokens, 3000, |s| {
            for out in [to_plain_text(s), to_plain_text(&format!("{heavy}{s}"))] {
                assert_eq!(out, out.trim(), "{s:?}");
                assert!(!out.contains("\n\n\n") && !out.contains("  "), "{s:?} → {out:?}");
            }
            looks_like_html(s);
        });
    }

    #[test]
    fn detection() {
        assert!(looks_like_html("<p>x"));
        assert!(looks_like_html("x</p>"));
        assert!(looks_like_html("a &amp; b"));
        assert!(looks_like_html("&#20013;"));
        assert!(!looks_like_html("a < b && c > d; x&y"));
        assert!(!looks_like_html("甲<乙"));
        assert_eq!(auto_to_plain("  a < b  "), "a < b");
    }

    #[test]
    fn to_html_round_trips() {
        for s in ["<b>不是标签</b>\n\n第二段 &amp; 实体", "a  b   c", "x\ny", "&lt;", "a\n\nb"] {
            assert_eq!(to_plain_text(&to_html(s)), s, "{s}");
        }
    }
}
