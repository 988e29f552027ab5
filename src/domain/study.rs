//! An officer's own record of answers (exams whose answers were released, and practice): where
//! they are weak, and the wrong-answer book (错题本).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::domain::ids::{QuestionId, VersionId};

/// One answered question, from an exam or practice.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub question_id: QuestionId,
    pub version_id: VersionId,
    pub statute: String,
    pub correct: bool,
    pub at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Strength {
    pub statute: String,
    pub answered: usize,
    pub correct: usize,
    pub percent: i32,
}

/// Per statute, weakest first (lowest share correct; among equals, the more answered first).
pub fn strengths(outcomes: &[Outcome]) -> Vec<Strength> {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let e = by.entry(o.statute.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(o.correct);
    }
    let mut v: Vec<Strength> = by
        .into_iter()
        .map(|(s, (n, c))| Strength { statute: s.to_string(), answered: n, correct: c, percent: (c * 100 / n) as i32 })
        .collect();
    v.sort_by(|a, b| a.percent.cmp(&b.percent).then(b.answered.cmp(&a.answered)).then(a.statute.cmp(&b.statute)));
    v
}

/// The `n` weakest statutes among those answered at least `min_answers` times.
pub fn weakest(outcomes: &[Outcome], n: usize, min_answers: usize) -> Vec<String> {
    strengths(outcomes).into_iter().filter(|s| s.answered >= min_answers && s.percent < 100).take(n).map(|s| s.statute).collect()
}

/// A question in the wrong-answer book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WrongEntry {
    pub question_id: QuestionId,
    /// The version last answered wrongly (the one to show).
    pub version_id: VersionId,
    pub statute: String,
    pub times_wrong: usize,
    pub last_wrong: NaiveDateTime,
}

/// Questions answered wrongly and not answered correctly since: answering right clears them.
/// Most recently missed first.
pub fn wrong_book(outcomes: &[Outcome]) -> Vec<WrongEntry> {
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| o.at);
    let mut book: HashMap<QuestionId, WrongEntry> = HashMap::new();
    for o in sorted {
        if o.correct {
            book.remove(&o.question_id);
        } else {
            let e = book.entry(o.question_id).or_insert_with(|| WrongEntry {
                question_id: o.question_id,
                version_id: o.version_id,
                statute: o.statute.clone(),
                times_wrong: 0,
                last_wrong: o.at,
            });
            e.times_wrong += 1;
            e.version_id = o.version_id;
            e.last_wrong = o.at;
        }
    }
    let mut v: Vec<WrongEntry> = book.into_values().collect();
    v.sort_by(|a, b| b.last_wrong.cmp(&a.last_wrong).then(a.question_id.cmp(&b.question_id)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(q: i64, statute: &str, correct: bool, minute: u32) -> Outcome {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(8, minute, 0).unwrap();
        Outcome { question_id: QuestionId(q), version_id: VersionId(q * 10), statute: statute.into(), correct, at }
    }

    #[test]
    fn weakest_statutes_come_first() {
        let outs = vec![o(1, "a", true, 0), o(2, "a", false, 1), o(3, "b", false, 2), o(4, "b", false, 3), o(5, "c", true, 4)];
        let s = strengths(&outs);
        assert_eq!(s.iter().map(|x| (x.statute.as_str(), x.percent)).collect::<Vec<_>>(), vec![("b", 0), ("a", 50), ("c", 100)]);
        assert_eq!(weakest(&outs, 5, 1), vec!["b", "a"], "a statute answered all right is not weak");
        assert_eq!(weakest(&outs, 5, 2), vec!["b", "a"]);
        assert_eq!(weakest(&outs, 1, 1), vec!["b"]);
    }

    #[test]
    fn a_right_answer_clears_the_wrong_book_and_a_new_miss_returns_it() {
        let outs = vec![o(1, "a", false, 0), o(2, "a", false, 1), o(1, "a", true, 2), o(2, "a", false, 3), o(3, "b", true, 4)];
        let book = wrong_book(&outs);
        assert_eq!(book.len(), 1);
        assert_eq!((book[0].question_id, book[0].times_wrong), (QuestionId(2), 2));
        let again = [outs.clone(), vec![o(1, "a", false, 5)]].concat();
        assert_eq!(
            wrong_book(&again).iter().map(|e| e.question_id).collect::<Vec<_>>(),
            vec![QuestionId(1), QuestionId(2)],
            "latest miss first"
        );
    }
}
