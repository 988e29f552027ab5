//! Statute editions as data: when a new edition changes articles, questions citing those
//! articles of an older edition stop being drawn into new papers until a trainer re-reviews
//! them (rewrites them against the new edition and a second trainer approves).

use chrono::NaiveDate;
use serde::Serialize;

use super::bank::{EditionInfo, StatuteRegistry};

/// Why a question is (or soon will be) kept out of new papers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suspension {
    /// The later edition whose changes touch the question's articles.
    pub by_edition: String,
    pub by_title: String,
    pub in_force: NaiveDate,
    /// The cited articles that edition changed (all of them when the law was rewritten).
    pub articles: Vec<String>,
    /// In force already: the question is not drawn. Otherwise it is drawn until `in_force`.
    pub effective: bool,
}

/// "第20条", "20", " 20 " → "20"; "第一百三十三条之一" is left as written.
pub fn normalise_article(a: &str) -> String {
    let t = a.trim();
    let t = t.strip_prefix('第').unwrap_or(t);
    let t = t.strip_suffix('条').unwrap_or(t);
    t.trim().to_string()
}

/// Whether a question citing `articles` of `edition` is touched by a later edition, and which.
/// The earliest later edition that changed any cited article decides.
pub fn suspension(reg: &StatuteRegistry, statute: &str, edition: &str, articles: &[String], today: NaiveDate) -> Option<Suspension> {
    let editions = reg.editions.get(statute)?;
    let cited = editions.iter().find(|e| e.code == edition)?;
    let mut later: Vec<&EditionInfo> = editions.iter().filter(|e| e.in_force > cited.in_force).collect();
    later.sort_by_key(|e| e.in_force);
    for e in later {
        let touched: Vec<String> = if e.changed_all {
            articles.to_vec()
        } else {
            articles.iter().filter(|a| e.changed_articles.iter().any(|c| normalise_article(c) == normalise_article(a))).cloned().collect()
        };
        if !touched.is_empty() {
            return Some(Suspension {
                by_edition: e.code.clone(),
                by_title: e.title.clone(),
                in_force: e.in_force,
                articles: touched,
                effective: today >= e.in_force,
            });
        }
    }
    None
}

/// A new edition as a trainer registers it.
#[derive(Clone, Debug)]
pub struct NewEdition {
    pub code: String,
    pub title: String,
    pub in_force: NaiveDate,
    pub replaces: Option<String>,
    pub changed_articles: Vec<String>,
    pub changed_all: bool,
}

/// Checks a new edition against the statute's registered ones; returns every problem.
pub fn validate_new(reg: &StatuteRegistry, statute: &str, e: &NewEdition) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(editions) = reg.editions.get(statute) else {
        return vec![format!("unknown statute {statute:?}")];
    };
    let code_ok = e.code.len() == 10 && NaiveDate::parse_from_str(&e.code, "%Y-%m-%d").is_ok();
    if !code_ok {
        errs.push(format!("edition code {:?} must be the adoption date, YYYY-MM-DD", e.code));
    }
    if editions.iter().any(|x| x.code == e.code) {
        errs.push(format!("edition {} is already registered", e.code));
    }
    if e.title.trim().is_empty() {
        errs.push("the edition needs a title (e.g. 2025年修订)".into());
    }
    match &e.replaces {
        Some(r) => match editions.iter().find(|x| &x.code == r) {
            None => errs.push(format!("replaces {r:?}, which is not a registered edition of this statute")),
            Some(old) if old.in_force >= e.in_force => {
                errs.push(format!("it must come into force after the edition it replaces ({} in force {})", old.code, old.in_force))
            }
            Some(_) => {}
        },
        None => {
            if e.changed_all || !e.changed_articles.is_empty() {
                errs.push("changed articles need the edition they changed (replaces)".into());
            }
        }
    }
    if e.replaces.is_some() && !e.changed_all && e.changed_articles.is_empty() {
        errs.push("mark the articles this edition changed, or that it rewrote the whole law".into());
    }
    for a in &e.changed_articles {
        let n = normalise_article(a);
        if n.is_empty() || n.chars().any(char::is_whitespace) {
            errs.push(format!("changed article {a:?} is not an article number"));
        }
    }
    errs
}

/// Splits a trainer's list of article numbers ("20, 21、第133条之一") into normalised numbers.
pub fn parse_article_list(s: &str) -> Vec<String> {
    s.split(|c: char| matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace())
        .map(normalise_article)
        .filter(|a| !a.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bank::StatuteInfo;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ed(code: &str, in_force: &str, replaces: Option<&str>, changed: &[&str], all: bool) -> EditionInfo {
        EditionInfo {
            code: code.into(),
            title: format!("{code} edition"),
            in_force: d(in_force),
            replaces: replaces.map(str::to_string),
            changed_articles: changed.iter().map(|s| s.to_string()).collect(),
            changed_all: all,
        }
    }

    fn reg(editions: Vec<EditionInfo>) -> StatuteRegistry {
        let mut r = StatuteRegistry::default();
        r.editions.insert("law".into(), editions.clone());
        r.statutes.push(StatuteInfo { code: "law".into(), name: "Law".into(), short: "L".into(), editions });
        r
    }

    fn arts(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn changed_articles_suspend_only_questions_citing_them() {
        let r = reg(vec![
            ed("2012-10-26", "2013-01-01", None, &[], false),
            ed("2025-06-27", "2026-01-01", Some("2012-10-26"), &["18", "第43条"], false),
        ]);
        let s = suspension(&r, "law", "2012-10-26", &arts(&["43", "44"]), d("2026-11-24")).unwrap();
        assert_eq!(s.by_edition, "2025-06-27");
        assert_eq!(s.articles, arts(&["43"]));
        assert!(s.effective);
        assert_eq!(suspension(&r, "law", "2012-10-26", &arts(&["44"]), d("2026-11-24")), None);
        // a question already written against the new edition is not touched
        assert_eq!(suspension(&r, "law", "2025-06-27", &arts(&["43"]), d("2026-11-24")), None);
    }

    #[test]
    fn a_rewritten_law_suspends_everything_once_in_force() {
        let r = reg(vec![ed("2012-10-26", "2013-01-01", None, &[], false), ed("2025-06-27", "2026-01-01", Some("2012-10-26"), &[], true)]);
        let before = suspension(&r, "law", "2012-10-26", &arts(&["1"]), d("2025-12-31")).unwrap();
        assert!(!before.effective, "announced but not yet in force: still drawn");
        assert!(suspension(&r, "law", "2012-10-26", &arts(&["1"]), d("2026-01-01")).unwrap().effective);
    }

    #[test]
    fn unknown_statute_or_edition_is_not_suspended() {
        let r = reg(vec![ed("2012-10-26", "2013-01-01", None, &[], false)]);
        assert_eq!(suspension(&r, "other", "2012-10-26", &arts(&["1"]), d("2026-01-01")), None);
        assert_eq!(suspension(&r, "law", "1999-01-01", &arts(&["1"]), d("2026-01-01")), None);
    }

    #[test]
    fn new_editions_are_checked() {
        let r = reg(vec![ed("2012-10-26", "2013-01-01", None, &[], false)]);
        let ok = NewEdition {
            code: "2025-06-27".into(),
            title: "2025年修订".into(),
            in_force: d("2026-01-01"),
            replaces: Some("2012-10-26".into()),
            changed_articles: arts(&["43"]),
            changed_all: false,
        };
        assert!(validate_new(&r, "law", &ok).is_empty());
        let bad = NewEdition { code: "2025".into(), in_force: d("2012-01-01"), changed_articles: vec![], ..ok.clone() };
        let errs = validate_new(&r, "law", &bad);
        assert!(errs.iter().any(|e| e.contains("YYYY-MM-DD")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("into force after")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("mark the articles")), "{errs:?}");
        let dup = NewEdition { code: "2012-10-26".into(), ..ok.clone() };
        assert!(validate_new(&r, "law", &dup).iter().any(|e| e.contains("already registered")));
        let orphan = NewEdition { replaces: Some("2000-01-01".into()), ..ok };
        assert!(validate_new(&r, "law", &orphan).iter().any(|e| e.contains("not a registered edition")));
    }

    #[test]
    fn article_lists_are_normalised() {
        assert_eq!(parse_article_list("20, 21、第43条；133之一"), arts(&["20", "21", "43", "133之一"]));
        assert!(parse_article_list(" ,， ").is_empty());
    }
}
