//! Remedial training for low scorers (后进民警培训, seed 002): when an officer is enrolled, what a
//! plan asks of them, and what happens after the remedial exam. Every number is a setting.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::validation::Problem;

use crate::domain::ids::UserId;

/// The rule values an admin edits (settings key `remedial_rules`; 管理 → 考核设置 or
/// `PUT /api/v1/settings/remedial-rules`). A field left out keeps its default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RemedialRules {
    /// A failed bimonthly exam enrols the officer.
    pub enrol_on_fail: bool,
    /// A bimonthly score under this per cent of the maximum counts as low.
    pub low_percent: i32,
    /// This many low bimonthly scores in a row enrol the officer (0: never).
    pub low_streak: usize,
    /// An average case-evaluation deduction of this many points (hundredths) in a month refers
    /// the officer.
    pub case_deduction_centi: i64,
    pub deadline_days: i64,
    /// Targeted practice ends when the latest answers reach this per cent correct …
    pub mastery_percent: i32,
    /// … over at least this many answers.
    pub mastery_answers: usize,
    /// How many of the officer's weakest statutes the practice and the exam draw from.
    pub weak_statutes: usize,
    pub exam_questions: i32,
    pub exam_minutes: i32,
    pub exam_pass_percent: i32,
    /// Days the remedial exam stays open once the officer reaches it.
    pub exam_window_days: i64,
    /// Failed remedial exams before the plan is escalated to the unit leader.
    pub max_exam_tries: i32,
    pub remind_every_days: i64,
}

impl Default for RemedialRules {
    fn default() -> Self {
        RemedialRules {
            enrol_on_fail: true,
            low_percent: 70,
            low_streak: 2,
            case_deduction_centi: 300,
            deadline_days: 30,
            mastery_percent: 80,
            mastery_answers: 20,
            weak_statutes: 3,
            exam_questions: 20,
            exam_minutes: 30,
            exam_pass_percent: 60,
            exam_window_days: 7,
            max_exam_tries: 2,
            remind_every_days: 7,
        }
    }
}

impl RemedialRules {
    pub fn validate(&self) -> Vec<String> {
        self.problems().iter().map(Problem::line).collect()
    }

    /// Every problem of these rules, by field (said in the reader's language on pages).
    pub fn problems(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        let mut range = |name: &'static str, v: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&v) {
                errs.push(Problem::range(name, lo, hi, Some(v)));
            }
        };
        range("low_percent", self.low_percent.into(), 0, 100);
        range("low_streak", self.low_streak as i64, 0, 12);
        range("case_deduction_centi", self.case_deduction_centi, 1, 100_000);
        range("deadline_days", self.deadline_days, 1, 365);
        range("mastery_percent", self.mastery_percent.into(), 1, 100);
        range("mastery_answers", self.mastery_answers as i64, 1, 500);
        range("weak_statutes", self.weak_statutes as i64, 1, 20);
        range("exam_questions", self.exam_questions.into(), 1, 200);
        range("exam_minutes", self.exam_minutes.into(), 1, 600);
        range("exam_pass_percent", self.exam_pass_percent.into(), 0, 100);
        range("exam_window_days", self.exam_window_days, 1, 90);
        range("max_exam_tries", self.max_exam_tries.into(), 1, 10);
        range("remind_every_days", self.remind_every_days, 1, 90);
        errs
    }
}

/// Why an officer was enrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    FailedExam,
    LowStreak,
    Referral,
    CaseEvaluation,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [Trigger::FailedExam, Trigger::LowStreak, Trigger::Referral, Trigger::CaseEvaluation];
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::FailedExam => "failed_exam",
            Trigger::LowStreak => "low_streak",
            Trigger::Referral => "referral",
            Trigger::CaseEvaluation => "case_evaluation",
        }
    }
    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One graded bimonthly result, oldest first in a history.
#[derive(Clone, Copy, Debug)]
pub struct ExamResult {
    pub score_centi: i64,
    pub max_centi: i64,
    pub passed: bool,
}

impl ExamResult {
    fn low(&self, rules: &RemedialRules) -> bool {
        // integer arithmetic: 69.99 % of the maximum is low under a 70 % threshold
        self.max_centi > 0 && self.score_centi * 100 < i64::from(rules.low_percent) * self.max_centi
    }
}

/// Whether the latest result (the last of `history`, oldest first) enrols the officer.
pub fn trigger_after(rules: &RemedialRules, history: &[ExamResult]) -> Option<Trigger> {
    let latest = history.last()?;
    if rules.enrol_on_fail && !latest.passed {
        return Some(Trigger::FailedExam);
    }
    let n = rules.low_streak;
    if n > 0 && history.len() >= n && history[history.len() - n..].iter().all(|r| r.low(rules)) {
        return Some(Trigger::LowStreak);
    }
    None
}

/// Officers whose average deduction in a month reaches the threshold: (user, month, average).
pub fn case_referrals(rules: &RemedialRules, rows: &[(UserId, String, i64)]) -> Vec<(UserId, String, i64)> {
    let mut sums: std::collections::BTreeMap<(UserId, &str), (i64, i64)> = Default::default();
    for (user, month, d) in rows {
        let e = sums.entry((*user, month.as_str())).or_default();
        e.0 += d;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|((u, m), (sum, n))| (u, m.to_string(), sum / n))
        .filter(|(_, _, avg)| *avg >= rules.case_deduction_centi)
        .collect()
}

/// The steps of a plan, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Review,
    Practice,
    Exam,
    Closed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Review => "review",
            Stage::Practice => "practice",
            Stage::Exam => "exam",
            Stage::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        [Stage::Review, Stage::Practice, Stage::Exam, Stage::Closed].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Passed,
    /// Failed the remedial exam too often: handed to the unit leader.
    Escalated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Passed => "passed",
            Status::Escalated => "escalated",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Open, Status::Passed, Status::Escalated].into_iter().find(|x| x.as_str() == s)
    }
}

/// The first stage of a new plan: self-review when there are errors to review.
pub fn first_stage(review_items: usize) -> Stage {
    if review_items > 0 {
        Stage::Review
    } else {
        Stage::Practice
    }
}

/// Self-review is done when every error has a note of at least a few characters.
pub const MIN_NOTE_CHARS: usize = 5;

pub fn review_done(items: usize, notes: &[&str]) -> bool {
    notes.iter().filter(|n| n.trim().chars().count() >= MIN_NOTE_CHARS).count() >= items
}

/// Progress of targeted practice: the latest answers (oldest first) on the plan's statutes.
/// Also the API's view of it (`GET /api/v1/remedial-plans/{id}`, field `practice`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Mastery {
    /// Latest practice answers counted (at most the rules' window).
    pub counted: usize,
    pub correct: usize,
    pub percent: i32,
    /// Answers and share right needed for mastery, which opens the remedial exam.
    pub needed_answers: usize,
    pub needed_percent: i32,
    pub reached: bool,
}

pub fn mastery(rules: &RemedialRules, answers: &[bool]) -> Mastery {
    let window = &answers[answers.len().saturating_sub(rules.mastery_answers)..];
    let correct = window.iter().filter(|c| **c).count();
    let percent = if window.is_empty() { 0 } else { (correct * 100 / window.len()) as i32 };
    Mastery {
        counted: window.len(),
        correct,
        percent,
        needed_answers: rules.mastery_answers,
        needed_percent: rules.mastery_percent,
        reached: window.len() >= rules.mastery_answers && percent >= rules.mastery_percent,
    }
}

/// What follows a graded remedial exam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterExam {
    Close,
    /// Back to practice, then another exam.
    Retry,
    Escalate,
}

pub fn after_exam(rules: &RemedialRules, passed: bool, tries_so_far: i32) -> AfterExam {
    if passed {
        AfterExam::Close
    } else if tries_so_far >= rules.max_exam_tries {
        AfterExam::Escalate
    } else {
        AfterExam::Retry
    }
}

pub fn deadline(rules: &RemedialRules, opened: NaiveDateTime) -> NaiveDateTime {
    opened + Duration::days(rules.deadline_days)
}

/// A reminder is due when the plan is open and none was sent in the last `remind_every_days`.
pub fn reminder_due(rules: &RemedialRules, opened: NaiveDateTime, reminded: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    now - reminded.unwrap_or(opened) >= Duration::days(rules.remind_every_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(score: i64, passed: bool) -> ExamResult {
        ExamResult { score_centi: score * 100, max_centi: 10_000, passed }
    }

    #[test]
    fn a_fail_enrols_and_two_low_scores_in_a_row_do() {
        let rules = RemedialRules::default();
        assert_eq!(trigger_after(&rules, &[r(50, false)]), Some(Trigger::FailedExam));
        assert_eq!(trigger_after(&rules, &[r(65, true)]), None, "one low score is not a streak");
        assert_eq!(trigger_after(&rules, &[r(65, true), r(69, true)]), Some(Trigger::LowStreak));
        assert_eq!(trigger_after(&rules, &[r(65, true), r(70, true)]), None, "70 is not under 70");
        assert_eq!(trigger_after(&rules, &[r(65, true), r(90, true), r(65, true)]), None, "not in a row");
        let off = RemedialRules { enrol_on_fail: false, low_streak: 0, ..rules };
        assert_eq!(trigger_after(&off, &[r(10, false), r(10, false)]), None);
        assert_eq!(trigger_after(&RemedialRules::default(), &[]), None);
    }

    #[test]
    fn case_referrals_average_per_officer_and_month() {
        let rules = RemedialRules::default();
        let rows = vec![
            (UserId(1), "2026-10".to_string(), 200),
            (UserId(1), "2026-10".to_string(), 400), // average 3.00: referred
            (UserId(1), "2026-11".to_string(), 250),
            (UserId(2), "2026-10".to_string(), 299), // 2.99: not referred
        ];
        assert_eq!(case_referrals(&rules, &rows), vec![(UserId(1), "2026-10".to_string(), 300)]);
    }

    #[test]
    fn mastery_counts_only_the_latest_answers() {
        let rules = RemedialRules { mastery_answers: 5, mastery_percent: 80, ..Default::default() };
        assert!(!mastery(&rules, &[true, true, true, true]).reached, "too few answers");
        let m = mastery(&rules, &[false, false, true, true, true, true, false]);
        assert_eq!((m.counted, m.correct, m.percent), (5, 4, 80));
        assert!(m.reached);
        assert!(!mastery(&rules, &[true, true, true, false, false]).reached);
    }

    #[test]
    fn exam_outcome_retries_then_escalates() {
        let rules = RemedialRules { max_exam_tries: 2, ..Default::default() };
        assert_eq!(after_exam(&rules, true, 1), AfterExam::Close);
        assert_eq!(after_exam(&rules, false, 1), AfterExam::Retry);
        assert_eq!(after_exam(&rules, false, 2), AfterExam::Escalate);
    }

    #[test]
    fn review_needs_a_real_note_on_every_error() {
        assert!(!review_done(2, &["理解了罚款幅度", "ok"]));
        assert!(review_done(2, &["理解了罚款幅度", "第九条的期限"]));
        assert_eq!(first_stage(0), Stage::Practice);
        assert_eq!(first_stage(3), Stage::Review);
    }

    #[test]
    fn reminders_are_spaced() {
        let rules = RemedialRules::default();
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert!(!reminder_due(&rules, t0, None, t0 + Duration::days(6)));
        assert!(reminder_due(&rules, t0, None, t0 + Duration::days(7)));
        assert!(!reminder_due(&rules, t0, Some(t0 + Duration::days(7)), t0 + Duration::days(10)));
    }

    #[test]
    fn rules_validate() {
        assert!(RemedialRules::default().validate().is_empty());
        let bad = RemedialRules { low_percent: 120, deadline_days: 0, ..Default::default() };
        let errs = bad.validate();
        assert!(errs.iter().any(|e| e.starts_with("low_percent")) && errs.iter().any(|e| e.starts_with("deadline_days")), "{errs:?}");
    }
}
