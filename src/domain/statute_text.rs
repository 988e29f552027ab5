//! Official texts of the statute editions questions cite, so practice can show an officer the
//! article a question tests. One Markdown file per edition in `questions/texts/`, named
//! `<statute-code>@<edition-code>.md` (see its README.md). Editions without a file simply have
//! no text; callers show "条文暂缺 / text not available".

use std::collections::HashMap;
use std::path::Path;

/// Article texts per (statute code, edition code), each keyed "133" or "133之一".
#[derive(Debug, Default)]
pub struct StatuteTexts {
    editions: HashMap<(String, String), HashMap<String, String>>,
    chapters: HashMap<(String, String), Vec<Chapter>>,
}

/// A chapter (章) and the keys of its articles, in order. Under a 编 the title carries it
/// ("分则 第四章 …"), since chapter numbers restart in each 编.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chapter {
    pub title: String,
    pub articles: Vec<String>,
}

impl StatuteTexts {
    /// Reads every `<statute>@<edition>.md` in `dir` (README.md aside). All or nothing: any bad
    /// file fails the load, and every error names its file.
    pub fn load(dir: &Path) -> Result<StatuteTexts, Vec<String>> {
        let entries = std::fs::read_dir(dir).map_err(|e| vec![format!("{}: cannot read folder: {e}", dir.display())])?;
        let mut paths: Vec<_> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "md")).collect();
        paths.sort();
        let (mut texts, mut errs) = (StatuteTexts::default(), Vec::new());
        for path in paths {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if name.eq_ignore_ascii_case("README.md") {
                continue;
            }
            // A misnamed file is an error rather than skipped: otherwise its text would silently
            // show as "not available".
            let Some((statute, edition)) = name
                .strip_suffix(".md")
                .and_then(|s| s.split_once('@'))
                .filter(|(s, e)| !s.is_empty() && !e.is_empty() && !e.contains('@'))
            else {
                errs.push(format!("{}: name is not <statute-code>@<edition-code>.md", path.display()));
                continue;
            };
            let parsed = std::fs::read_to_string(&path).map_err(|e| format!("cannot read: {e}")).and_then(|md| parse_with_chapters(&md));
            match parsed {
                Ok((articles, chapters)) => {
                    texts.editions.insert((statute.to_string(), edition.to_string()), articles);
                    texts.chapters.insert((statute.to_string(), edition.to_string()), chapters);
                }
                Err(e) => errs.push(format!("{}: {e}", path.display())),
            }
        }
        if errs.is_empty() {
            Ok(texts)
        } else {
            Err(errs)
        }
    }

    /// The text of one article ("133", "133之一", " 9 ", "第133条", "第一百三十三条之一").
    pub fn article(&self, statute: &str, edition: &str, article: &str) -> Option<&str> {
        let articles = self.editions.get(&(statute.to_string(), edition.to_string()))?;
        articles.get(&article_key(article)?).map(String::as_str)
    }

    pub fn has_edition(&self, statute: &str, edition: &str) -> bool {
        self.editions.contains_key(&(statute.to_string(), edition.to_string()))
    }

    /// The chapters of an edition (empty when it has none or no text).
    pub fn chapters(&self, statute: &str, edition: &str) -> &[Chapter] {
        self.chapters.get(&(statute.to_string(), edition.to_string())).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Number of statute editions with a text.
    pub fn count(&self) -> usize {
        self.editions.len()
    }
}

/// Normalises a cited article to its key: "第133条" / " 133 " / "第一百三十三条" → "133",
/// "133之一" / "第133条之一" → "133之一". None when it is not an article number.
pub fn article_key(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t.strip_prefix('第').unwrap_or(t);
    let (base, sub) = match t.split_once('之') {
        Some((b, s)) => (b, Some(s.trim())),
        None => (t, None),
    };
    let base = base.trim();
    let base = base.strip_suffix('条').unwrap_or(base).trim();
    let n: u32 = if base.bytes().all(|b| b.is_ascii_digit()) { base.parse().ok()? } else { chinese_number(base)? };
    match sub {
        None if n > 0 => Some(n.to_string()),
        Some(sub) if n > 0 && chinese_number(sub).is_some() => Some(format!("{n}之{sub}")),
        _ => None,
    }
}

/// 一 → 1, 十一 → 11, 一百零一 → 101, 二百八十 → 280, 一千 → 1000. None for anything else.
pub fn chinese_number(s: &str) -> Option<u32> {
    let (mut total, mut digit, mut last_unit) = (0u32, None::<u32>, u32::MAX);
    for c in s.chars() {
        let unit = match c {
            '零' | '〇' => continue, // only marks a skipped place: 一百零一
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => {
                let d = "一二三四五六七八九".chars().position(|x| x == c)? as u32 + 1;
                if digit.replace(d).is_some() {
                    return None; // two digits in a row
                }
                continue;
            }
        };
        if unit >= last_unit {
            return None; // places must go down: 千, 百, 十
        }
        total += digit.take().unwrap_or(1) * unit; // a bare 十 is 一十
        last_unit = unit;
    }
    let n = total + digit.unwrap_or(0);
    (n > 0).then_some(n)
}

/// Parses one statute text into article key → article text. The text keeps the article's label
/// ("第一百三十三条之一 …") and its paragraphs, one per line; headings, the file header (before
/// `<!-- INFO END -->`) and the compilers' footnotes (①…) are left out.
pub fn parse(md: &str) -> Result<HashMap<String, String>, String> {
    parse_with_chapters(md).map(|(a, _)| a)
}

/// `parse`, plus the chapters (章) and which articles each holds.
pub fn parse_with_chapters(md: &str) -> Result<(HashMap<String, String>, Vec<Chapter>), String> {
    let mut articles: HashMap<String, String> = HashMap::new();
    let mut chapters: Vec<Chapter> = Vec::new();
    let mut part: Option<String> = None;
    let mut current: Option<String> = None;
    let mut in_header = md.contains("<!-- INFO END -->");
    for raw in md.lines() {
        // Some files carry zero-width spaces and BOMs; bold markers are layout, not text.
        let cleaned = raw.replace("**", "");
        let line = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}');
        if in_header {
            in_header = line != "<!-- INFO END -->";
            continue;
        }
        if line.is_empty() || line.starts_with("<!--") || line.starts_with(|c| ('①'..='⑳').contains(&c)) {
            continue;
        }
        // Any Markdown heading (章/节/编, 附则, 附件) or a bare 第X章 line ends the article.
        if line.starts_with('#') || division_heading(line) {
            current = None;
            let heading = line.trim_start_matches('#').trim();
            match division_kind(heading) {
                Some('编') => {
                    part = Some(heading.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                        .filter(|p| !p.is_empty())
                        .or(Some(heading.to_string()))
                }
                Some('章') => chapters.push(Chapter {
                    title: match &part {
                        Some(p) => format!("{p} {heading}"),
                        None => heading.to_string(),
                    },
                    articles: vec![],
                }),
                _ => {}
            }
            continue;
        }
        if let Some((key, text)) = article_start(line) {
            if articles.contains_key(&key) {
                return Err(format!("article {key} appears twice"));
            }
            articles.insert(key.clone(), text);
            if let Some(ch) = chapters.last_mut() {
                ch.articles.push(key.clone());
            }
            current = Some(key);
        } else if let Some(text) = current.as_ref().and_then(|k| articles.get_mut(k)) {
            text.push('\n');
            text.push_str(line);
        }
    }
    if articles.is_empty() {
        return Err("no articles found (expected lines starting 第X条)".into());
    }
    chapters.retain(|c| !c.articles.is_empty());
    Ok((articles, chapters))
}

/// '编', '章' or '节' for a division heading ("第二章 犯罪").
fn division_kind(heading: &str) -> Option<char> {
    let rest = heading.strip_prefix('第')?;
    let (num, rest) = numeral_prefix(rest);
    chinese_number(num)?;
    rest.chars().next().filter(|c| matches!(c, '编' | '章' | '节'))
}

/// Splits off a leading run of Chinese numerals (possibly empty).
fn numeral_prefix(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !"一二三四五六七八九十百千零〇".contains(c)).unwrap_or(s.len()))
}

/// "第一百三十三条之一 在道路上…" → ("133之一", same text). The label must be set off by
/// whitespace so that a paragraph opening "第六十五条规定的…" is not taken for an article; the
/// space may sit inside the label, as in the 刑事诉讼法 source's "第一百二十八 条侦查人员…".
fn article_start(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('第')?;
    let (num, after_num) = numeral_prefix(rest.trim_start());
    let n = chinese_number(num)?;
    let spaced_inside = after_num.starts_with(char::is_whitespace);
    let mut rest = after_num.trim_start().strip_prefix('条')?;
    let (mut key, mut label) = (n.to_string(), format!("第{num}条"));
    if let Some(r) = rest.strip_prefix('之') {
        let (sub, r) = numeral_prefix(r);
        chinese_number(sub)?;
        key = format!("{key}之{sub}");
        label = format!("{label}之{sub}");
        rest = r;
    }
    let body = rest.trim_start();
    if body.is_empty() {
        Some((key, label))
    } else if spaced_inside || body.len() < rest.len() {
        Some((key, format!("{label} {body}")))
    } else {
        None
    }
}

/// "第一章 总则", "第二节", "第一编 总则" written without a Markdown `#`.
fn division_heading(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('第') else { return false };
    let (num, rest) = numeral_prefix(rest);
    let mut cs = rest.chars();
    chinese_number(num).is_some() && matches!(cs.next(), Some('编' | '章' | '节')) && cs.next().is_none_or(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn chinese_numerals() {
        let cases = [
            ("一", 1),
            ("九", 9),
            ("十", 10),
            ("十一", 11),
            ("二十", 20),
            ("二十一", 21),
            ("一百", 100),
            ("一百零一", 101),
            ("一百一十", 110),
            ("一百一十九", 119),
            ("二百八十", 280),
            ("三百零八", 308),
            ("四百五十二", 452),
            ("一千", 1000),
            ("一千零一", 1001),
            ("一千二百三十四", 1234),
        ];
        for (s, n) in cases {
            assert_eq!(chinese_number(s), Some(n), "{s}");
        }
        for bad in ["", "零", "人", "十十", "十百", "一二", "一百a", "三人"] {
            assert_eq!(chinese_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn article_keys() {
        let cases = [
            ("133", "133"),
            (" 9 ", "9"),
            ("009", "9"),
            ("第133条", "133"),
            ("第 133 条", "133"),
            ("133之一", "133之一"),
            ("第133条之一", "133之一"),
            ("第一百三十三条之二", "133之二"),
            ("二百八十", "280"),
        ];
        for (s, k) in cases {
            assert_eq!(article_key(s).as_deref(), Some(k), "{s}");
        }
        for bad in ["", "第条", "0", "133之", "133之1", "abc", "第三人"] {
            assert_eq!(article_key(bad), None, "{bad}");
        }
    }

    const SAMPLE: &str = "# 中华人民共和国某法

1997年3月14日 第八届全国人民代表大会第五次会议修订

<!-- INFO END -->

## 第一编 总则

### 第一章 任务

第一条 为了惩罚犯罪，制定本法。

第二条 本法的任务是：

（一）保卫国家安全；

（二）保护财产。

前款规定适用于第一条。

## 第二编 分则

#### 第一节 危害公共安全罪

  **第一百三十三条** 违反交通运输管理法规，处三年以下有期徒刑。
第六十五条规定的期限，不适用本条。

\u{200b}
第一百三十三条之一 在道路上驾驶机动车，追逐竞驶的，处拘役。

第一百三十三条之二 对行驶中的公共交通工具的驾驶人员使用暴力的，处一年以下有期徒刑。

第一百二十八 条侦查人员可以勘验。

第二章 附则（没有 # 的标题）

不属于任何条文的文字。

第二百八十条

伪造公文的，处三年以下有期徒刑。

## 附件一

1．某条例

① 编者注。
";

    #[test]
    fn chapters_collect_their_articles() {
        let md = "## 第一编 总则\n### 第一章 任务\n第一条 甲。\n第二条 乙。\n#### 第一节 小节\n第三条 丙。\n## 第二编 分则\n### 第一章 罪名\n第四条 丁。\n";
        let (_, ch) = parse_with_chapters(md).unwrap();
        assert_eq!(ch.len(), 2);
        assert_eq!((ch[0].title.as_str(), ch[0].articles.clone()), ("总则 第一章 任务", vec!["1".to_string(), "2".into(), "3".into()]));
        assert_eq!((ch[1].title.as_str(), ch[1].articles.clone()), ("分则 第一章 罪名", vec!["4".to_string()]));
    }

    #[test]
    fn parses_articles_across_headings() {
        let a = parse(SAMPLE).unwrap();
        let keys: BTreeSet<&str> = a.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["1", "2", "128", "133", "133之一", "133之二", "280"]));
        assert_eq!(a["1"], "第一条 为了惩罚犯罪，制定本法。");
        assert_eq!(a["2"], "第二条 本法的任务是：\n（一）保卫国家安全；\n（二）保护财产。\n前款规定适用于第一条。");
        // bold and leading spaces dropped; a paragraph opening "第六十五条规定" stays in the article
        assert_eq!(a["133"], "第一百三十三条 违反交通运输管理法规，处三年以下有期徒刑。\n第六十五条规定的期限，不适用本条。");
        assert_eq!(a["133之一"], "第一百三十三条之一 在道路上驾驶机动车，追逐竞驶的，处拘役。");
        assert!(a["133之二"].starts_with("第一百三十三条之二 对行驶中"));
        assert_eq!(a["128"], "第一百二十八条 侦查人员可以勘验。");
        // a chapter heading ends the article; the label alone on its line is followed by its body;
        // the appendix heading ends it and footnotes are dropped
        assert_eq!(a["280"], "第二百八十条\n伪造公文的，处三年以下有期徒刑。");
        assert!(parse("# 某法\n\n没有条文。\n").unwrap_err().contains("no articles"));
        assert!(parse("第一条 甲。\n\n第一条 乙。\n").unwrap_err().contains("article 1 appears twice"));
    }

    #[test]
    fn load_names_bad_files() {
        let dir = std::env::temp_dir().join(format!("lawcert-texts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("README.md"), "# not a statute").unwrap();
        std::fs::write(dir.join("some-law@2020-01-01.md"), SAMPLE).unwrap();
        let texts = StatuteTexts::load(&dir).unwrap();
        assert_eq!(texts.count(), 1);
        assert!(texts.has_edition("some-law", "2020-01-01"));
        assert!(!texts.has_edition("some-law", "2021-01-01"));
        assert!(texts.article("some-law", "2020-01-01", "第133条之一").unwrap().contains("追逐竞驶"));
        assert_eq!(texts.article("some-law", "2020-01-01", "999"), None);
        assert_eq!(texts.article("other-law", "2020-01-01", "1"), None);

        std::fs::write(dir.join("empty@2020-01-01.md"), "# 空\n").unwrap();
        std::fs::write(dir.join("刑法.md"), SAMPLE).unwrap();
        let errs = StatuteTexts::load(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("empty@2020-01-01.md") && e.contains("no articles")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("刑法.md") && e.contains("name is not")), "{errs:?}");
    }

    /// Shipped questions whose cited article is not in their edition's text. Keep empty: a new
    /// entry means a question cites an article that does not exist.
    const KNOWN_MISSING: &[&str] = &[];

    /// The shipped texts parse, cover every registered edition (the 2025 治安管理处罚法 included), number
    /// their articles without gaps, and contain every article the shipped questions cite.
    #[test]
    fn shipped_texts_cover_shipped_questions() {
        let qdir = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions");
        let texts = StatuteTexts::load(&qdir.join("texts")).unwrap_or_else(|e| panic!("{e:#?}"));
        let toml_of = |p: &Path| -> toml::Value { toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
        let s = |v: &toml::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);

        // registered editions vs texts
        let mut without_text = Vec::new();
        let mut registered = BTreeSet::new();
        for st in toml_of(&qdir.join("statutes.toml"))["statute"].as_array().unwrap() {
            for ed in st["edition"].as_array().unwrap() {
                let pair = (s(st, "code").unwrap(), s(ed, "code").unwrap());
                if !texts.has_edition(&pair.0, &pair.1) {
                    without_text.push(format!("{}@{}", pair.0, pair.1));
                }
                registered.insert(pair);
            }
        }
        assert!(without_text.is_empty(), "editions without a text: {without_text:?}");
        let mut total = 0;
        for ((statute, edition), articles) in &texts.editions {
            assert!(registered.contains(&(statute.clone(), edition.clone())), "{statute}@{edition} is not in statutes.toml");
            let max = articles.keys().filter_map(|k| k.parse::<u32>().ok()).max().unwrap();
            let gaps: Vec<u32> = (1..=max).filter(|n| !articles.contains_key(&n.to_string())).collect();
            assert!(gaps.is_empty(), "{statute}@{edition}: articles {gaps:?} not found");
            println!("{statute}@{edition}: {} articles", articles.len());
            total += articles.len();
        }
        println!("{} editions, {total} articles", texts.count());
        let xf = |a| texts.article("criminal-law", "2023-12-29", a).unwrap();
        assert!(xf("133之一").starts_with("第一百三十三条之一 在道路上驾驶机动车"));
        assert!(xf("第一百三十三条之二").starts_with("第一百三十三条之二"));
        // the last article stops before the footnote and the appendices (附件一 lists 暂行条例)
        assert!(xf("452").ends_with("适用本法规定。") && !xf("452").contains("暂行条例"), "{}", xf("452"));
        assert!(texts.article("criminal-procedure-law", "2018-10-26", "128").unwrap().starts_with("第一百二十八条 侦查人员"));

        // every citation of a question whose edition has a text
        let (mut checked, mut no_text, mut missing) = (0, 0, Vec::new());
        let mut files: Vec<_> = std::fs::read_dir(&qdir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "toml") && !f.ends_with("statutes.toml")) {
            let bank = toml_of(f);
            let items = bank
                .get("question")
                .and_then(|q| q.as_array())
                .into_iter()
                .flatten()
                .chain(bank.get("case").and_then(|c| c.as_array()).into_iter().flatten().flat_map(|c| c["item"].as_array().unwrap()));
            for q in items {
                let statute = s(q, "statute").or(s(&bank, "statute")).unwrap();
                let edition = s(q, "edition").or(s(&bank, "edition")).unwrap();
                if !texts.has_edition(&statute, &edition) {
                    no_text += 1;
                    continue;
                }
                checked += 1;
                for a in q["articles"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()) {
                    if texts.article(&statute, &edition, a).is_none() {
                        missing.push(format!("{} {statute}@{edition} {a}", s(q, "id").unwrap()));
                    }
                }
            }
        }
        println!("{checked} questions checked against their text, {no_text} on editions without a text");
        assert!(checked > 0);
        assert_eq!(missing, KNOWN_MISSING);
    }
}
