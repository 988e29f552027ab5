//! Practice (网上学法): untimed sets by statute, level, weak areas or the wrong-answer book, with
//! the key, explanation and article text shown after each answer. Kept as study, apart from
//! exam results.

use std::collections::{HashMap, HashSet};

use rand::seq::SliceRandom;
use serde::Serialize;

use crate::db::models::{bank as bank_db, training as tr_db, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::{Level, QuestionKind};
use crate::domain::grading::{self, MultiRule};
use crate::domain::ids::{PracticeId, QuestionId, RemedialPlanId, UserId, VersionId};
use crate::domain::statute_text::{Chapter, StatuteTexts};
use crate::domain::study;
use crate::error::{AppError, AppResult};

/// A practice request refused for what was chosen (422), said on pages in the reader's language.
pub fn refused(field: &'static str, key: &'static str, english: &str) -> AppError {
    AppError::invalid_problems(vec![crate::domain::validation::Problem::plain(field, key, english)])
}

/// Questions per practice set.
pub const SET_SIZE: usize = 10;
/// Longer gaps between answers are not counted as study time.
const MAX_SECONDS_PER_ANSWER: i64 = 600;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Statute(String),
    /// A chapter of a statute edition's text: questions citing one of its articles.
    Chapter {
        statute: String,
        edition: String,
        index: usize,
    },
    Level(Level),
    Weak,
    WrongBook,
    Plan(RemedialPlanId),
}

impl Mode {
    pub fn parse(mode: &str, filter: &str) -> Option<Mode> {
        match mode {
            "statute" => Some(Mode::Statute(filter.trim().to_string())).filter(|_| !filter.trim().is_empty()),
            "level" => Level::parse(filter.trim()).map(Mode::Level),
            "chapter" => {
                let (se, idx) = filter.trim().rsplit_once('|')?;
                let (statute, edition) = se.split_once('@')?;
                Some(Mode::Chapter { statute: statute.into(), edition: edition.into(), index: idx.parse().ok()? })
            }
            "weak" => Some(Mode::Weak),
            "wrong" => Some(Mode::WrongBook),
            "plan" => filter.trim().parse().ok().map(Mode::Plan),
            _ => None,
        }
    }
    fn name(&self) -> (&'static str, String) {
        match self {
            Mode::Statute(s) => ("statute", s.clone()),
            Mode::Level(l) => ("level", l.as_str().into()),
            Mode::Chapter { statute, edition, index } => ("chapter", format!("{statute}@{edition}|{index}")),
            Mode::Weak => ("weak", String::new()),
            Mode::WrongBook => ("wrong", String::new()),
            Mode::Plan(id) => ("plan", id.to_string()),
        }
    }
}

/// Starts a set; refuses with a reason when nothing matches. Questions of a graded sitting that
/// opens within `lead` or is open are left out (`exam_mode::withheld_from_practice`).
pub fn start(
    conn: &mut DbConn,
    user_id: UserId,
    mode: &Mode,
    texts: &StatuteTexts,
    lead: chrono::Duration,
    now: Ts,
) -> AppResult<PracticeId> {
    let withheld = crate::services::exam_mode::withheld_from_practice(conn, now, lead)?;
    let pool: Vec<_> = crate::services::exams::pool_candidates(conn, now)?
        .into_iter()
        .filter(|c| c.case.is_none() && !withheld.contains(&c.version_id))
        .collect();
    let live_ids: HashSet<VersionId> = pool.iter().map(|c| c.version_id).collect();
    let mut rng = rand::rng();
    let mut pick = |mut ids: Vec<VersionId>| {
        ids.shuffle(&mut rng);
        ids.truncate(SET_SIZE);
        ids
    };
    let (items, plan_id) = match mode {
        Mode::Statute(s) => (pick(pool.iter().filter(|c| &c.statute == s).map(|c| c.version_id).collect()), None),
        Mode::Level(l) => (pick(pool.iter().filter(|c| c.levels.contains(l)).map(|c| c.version_id).collect()), None),
        Mode::Chapter { statute, edition, index } => {
            let ch =
                texts.chapters(statute, edition).get(*index).ok_or_else(|| refused("mode", "practice.no_chapter", "no such chapter"))?;
            let ids: Vec<VersionId> = pool.iter().filter(|c| &c.statute == statute).map(|c| c.version_id).collect();
            let hits = bank_db::versions_by_ids(conn, &ids)?
                .into_iter()
                .filter(|(v, _)| &v.edition_code == edition && in_chapter(&v.articles_vec(), ch))
                .map(|(v, _)| v.id)
                .collect();
            (pick(hits), None)
        }
        Mode::Weak => {
            let weak = study::weakest(&crate::services::remedial::outcomes_of(conn, user_id, now)?, 3, 3);
            if weak.is_empty() {
                return Err(refused(
                    "mode",
                    "practice.no_weak_areas",
                    "no weak areas yet — answer at least a few questions per statute first",
                ));
            }
            (pick(pool.iter().filter(|c| weak.contains(&c.statute)).map(|c| c.version_id).collect()), None)
        }
        Mode::WrongBook => {
            // practise the live version of each missed question (an old version may teach old law)
            let book = study::wrong_book(&crate::services::remedial::outcomes_of(conn, user_id, now)?);
            let live_by_question: HashMap<QuestionId, VersionId> =
                bank_db::versions_by_ids(conn, &live_ids.iter().copied().collect::<Vec<_>>())?
                    .into_iter()
                    .map(|(v, q)| (q.id, v.id))
                    .collect();
            (book.iter().filter_map(|w| live_by_question.get(&w.question_id).copied()).take(SET_SIZE).collect(), None)
        }
        Mode::Plan(pid) => {
            let p = tr_db::find_plan(conn, *pid)?
                .filter(|p| p.user_id == user_id && p.status == crate::domain::remedial::Status::Open)
                .ok_or_else(|| AppError::not_found("no such open remedial plan"))?;
            let statutes = p.statutes_vec();
            (pick(pool.iter().filter(|c| statutes.contains(&c.statute)).map(|c| c.version_id).collect()), Some(p.id))
        }
    };
    if items.is_empty() {
        return Err(refused("mode", "practice.no_questions", "no live questions match this choice"));
    }
    let (m, f) = mode.name();
    Ok(tr_db::insert_practice(conn, user_id, m, &f, plan_id, &items, now)?)
}

fn in_chapter(articles: &[String], ch: &Chapter) -> bool {
    articles.iter().filter_map(|a| crate::domain::statute_text::article_key(a)).any(|k| ch.articles.contains(&k))
}

/// Chapters with live questions, per statute: (statute name, [(filter value, title, count)]).
pub fn chapters(conn: &mut DbConn, texts: &StatuteTexts, now: Ts) -> AppResult<Vec<(String, Vec<(String, String, usize)>)>> {
    let names = crate::services::questions::statute_names(conn)?;
    let pool: Vec<VersionId> =
        crate::services::exams::pool_candidates(conn, now)?.into_iter().filter(|c| c.case.is_none()).map(|c| c.version_id).collect();
    let mut by_edition: HashMap<(String, String), Vec<Vec<String>>> = HashMap::new();
    for (v, _) in bank_db::versions_by_ids(conn, &pool)? {
        let arts = v.articles_vec();
        by_edition.entry((v.statute_code, v.edition_code)).or_default().push(arts);
    }
    let mut keys: Vec<&(String, String)> = by_edition.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for (statute, edition) in keys {
        let items: Vec<(String, String, usize)> = texts
            .chapters(statute, edition)
            .iter()
            .enumerate()
            .map(|(i, ch)| {
                (
                    format!("{statute}@{edition}|{i}"),
                    ch.title.clone(),
                    by_edition[&(statute.clone(), edition.clone())].iter().filter(|a| in_chapter(a, ch)).count(),
                )
            })
            .filter(|x| x.2 > 0)
            .collect();
        if !items.is_empty() {
            out.push((names.name(statute), items));
        }
    }
    Ok(out)
}

/// What the officer sees after answering.
#[derive(Clone, Debug, Serialize)]
pub struct Feedback {
    pub correct: bool,
    pub chosen: String,
    pub key: String,
    pub explanation: String,
    pub articles: Vec<(String, Option<String>)>,
}

/// A question of a set, with feedback once answered.
#[derive(Clone, Debug, Serialize)]
pub struct SetItem {
    pub number: usize,
    pub version_id: VersionId,
    pub kind: QuestionKind,
    pub stem: String,
    pub statute: String,
    pub options: Vec<(String, String)>,
    pub feedback: Option<Feedback>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SetView {
    pub session: tr_db::PracticeSession,
    pub items: Vec<SetItem>,
    pub answered: usize,
    pub correct: usize,
    pub seconds: i64,
}

pub fn own_session(conn: &mut DbConn, id: PracticeId, user_id: UserId) -> AppResult<tr_db::PracticeSession> {
    tr_db::find_practice(conn, id)?.filter(|s| s.user_id == user_id).ok_or_else(|| AppError::not_found("no such practice set"))
}

/// A set as its owner sees it. Items now in a graded sitting's pool (see `start`) are left out,
/// answered or not, until that sitting closes: their keys are not shown in the meantime.
pub fn view(
    conn: &mut DbConn,
    s: tr_db::PracticeSession,
    texts: &crate::domain::statute_text::StatuteTexts,
    lead: chrono::Duration,
    now: Ts,
) -> AppResult<SetView> {
    let withheld = crate::services::exam_mode::withheld_from_practice(conn, now, lead)?;
    let ids: Vec<VersionId> = s.items_vec().into_iter().filter(|id| !withheld.contains(id)).collect();
    let answers: HashMap<VersionId, tr_db::PracticeAnswer> = tr_db::answers_of_session(conn, s.id)?
        .into_iter()
        .filter(|a| !withheld.contains(&a.question_version_id))
        .map(|a| (a.question_version_id, a))
        .collect();
    let answered_ids: Vec<VersionId> = answers.keys().copied().collect();
    // keys only for answered questions: an unanswered one's key never leaves the server
    let keys: HashMap<VersionId, String> = bank_db::keys_by_ids(conn, &answered_ids)?.into_iter().collect();
    let mut by_id: HashMap<VersionId, (bank_db::Version, bank_db::Question)> =
        bank_db::versions_by_ids(conn, &ids)?.into_iter().map(|(v, q)| (v.id, (v, q))).collect();
    let mut items = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let Some((v, q)) = by_id.remove(id) else { continue };
        let (options, articles) = crate::services::remedial::explain(&v, &q, texts);
        let feedback = answers.get(id).map(|a| Feedback {
            correct: a.correct,
            chosen: a.choices.clone(),
            key: keys.get(id).cloned().unwrap_or_default(),
            explanation: v.explanation.clone(),
            articles,
        });
        items.push(SetItem {
            number: n + 1,
            version_id: v.id,
            kind: q.kind,
            stem: v.stem.clone(),
            statute: v.statute_code.clone(),
            options,
            feedback,
        });
    }
    Ok(SetView {
        answered: answers.len(),
        correct: answers.values().filter(|a| a.correct).count(),
        seconds: answers.values().map(|a| i64::from(a.seconds)).sum(),
        session: s,
        items,
    })
}

/// Records an answer (the first one counts) and returns whether it was right.
pub fn answer(
    conn: &mut DbConn,
    user_id: UserId,
    session_id: PracticeId,
    version_id: VersionId,
    choices: &[String],
    lead: chrono::Duration,
    now: Ts,
) -> AppResult<bool> {
    let s = own_session(conn, session_id, user_id)?;
    if !s.items_vec().contains(&version_id) {
        return Err(AppError::not_found("that question is not in this practice set"));
    }
    if crate::services::exam_mode::withheld_from_practice(conn, now, lead)?.contains(&version_id) {
        return Err(AppError::new(
            crate::error::ErrorCode::Withheld,
            "this question is in an exam that is open or about to open; it returns to practice when that exam closes",
        ));
    }
    let (v, q) = bank_db::versions_by_ids(conn, &[version_id])?.pop().ok_or_else(|| AppError::internal("version missing"))?;
    let kind = q.kind;
    let chosen = crate::services::exams::normalise_choices(kind, v.options_vec().len(), choices)?;
    if chosen.is_empty() {
        return Err(refused("choices", "practice.choose_answer", "choose an answer"));
    }
    let key = bank_db::key_of(conn, version_id)?;
    let correct = grading::score_item(kind, MultiRule::AllOrNothing, &key, &chosen, 100) == 100;
    let seconds = (now - s.last_active_at).num_seconds().clamp(0, MAX_SECONDS_PER_ANSWER) as i32;
    write_tx(conn, |c| {
        let fresh = tr_db::insert_answer(
            c,
            &tr_db::PracticeAnswer {
                session_id,
                question_version_id: version_id,
                choices: chosen.clone(),
                correct,
                seconds,
                answered_at: now,
            },
        )?;
        if fresh {
            if let Some(pid) = s.plan_id {
                crate::services::remedial::after_practice(c, pid, now)?;
            }
        }
        Ok::<(), AppError>(())
    })?;
    Ok(correct)
}

/// Study totals for a training file: (sets, answers, correct, seconds).
pub fn totals(conn: &mut DbConn, user_id: UserId) -> AppResult<(usize, usize, usize, i64)> {
    let sets = tr_db::practice_of(conn, user_id)?.len();
    let answers = tr_db::answers_of_user(conn, user_id)?;
    Ok((sets, answers.len(), answers.iter().filter(|(a, _)| a.correct).count(), answers.iter().map(|(a, _)| i64::from(a.seconds)).sum()))
}

/// The officer's latest practice sets, newest first.
pub fn recent_sets(conn: &mut DbConn, user_id: UserId, n: usize) -> AppResult<Vec<tr_db::PracticeSession>> {
    Ok(tr_db::practice_of(conn, user_id)?.into_iter().take(n).collect())
}
