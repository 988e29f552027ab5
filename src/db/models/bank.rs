use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{answer_keys, cases, question_versions, questions, statute_editions, statutes};
use crate::db::DbConn;
use crate::domain::bank::{Level, QuestionContent, QuestionKind, StatuteRegistry};
use crate::domain::ids::{CaseId, EditionId, QuestionId, StatuteId, UserId, VersionId};
use crate::domain::lifecycle::Status as QuestionStatus;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = questions)]
pub struct Question {
    pub id: QuestionId,
    pub code: String,
    pub case_id: Option<CaseId>,
    pub case_position: i32,
    #[diesel(deserialize_as = String)]
    pub kind: QuestionKind,
    #[diesel(deserialize_as = String)]
    pub status: QuestionStatus,
    pub origin: String,
    pub file_hash: Option<String>,
    pub latest_version: i32,
    pub live_version: Option<i32>,
    pub revision: i32,
    pub created_at: Ts,
    pub updated_at: Ts,
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = question_versions)]
pub struct Version {
    pub id: VersionId,
    pub question_id: QuestionId,
    pub version: i32,
    pub statute_code: String,
    pub edition_code: String,
    pub articles: String,
    pub difficulty: i32,
    pub levels: String,
    pub stem: String,
    pub options: String,
    pub explanation: String,
    pub tags: String,
    pub content_hash: String,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<Ts>,
}

impl Version {
    pub fn options_vec(&self) -> Vec<String> {
        serde_json::from_str(&self.options).unwrap_or_default()
    }
    pub fn articles_vec(&self) -> Vec<String> {
        split_list(&self.articles)
    }
    pub fn levels_vec(&self) -> Vec<Level> {
        split_list(&self.levels).iter().filter_map(|l| Level::parse(l)).collect()
    }
    /// What this version lacks to be reviewed (`articles`, `explanation`): an incomplete draft.
    pub fn missing_for_review(&self) -> Vec<&'static str> {
        crate::domain::bank::missing_for_review(&self.articles_vec(), &self.explanation)
    }

    /// Rebuilds the domain content (the key comes from its own table).
    pub fn content(&self, kind: QuestionKind, answer: String) -> QuestionContent {
        QuestionContent {
            kind,
            statute: self.statute_code.clone(),
            edition: self.edition_code.clone(),
            articles: self.articles_vec(),
            difficulty: self.difficulty,
            levels: self.levels_vec(),
            stem: self.stem.clone(),
            options: self.options_vec(),
            answer,
            explanation: self.explanation.clone(),
            tags: split_list(&self.tags),
        }
    }
}

pub fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = cases)]
pub struct Case {
    pub id: CaseId,
    pub code: String,
    pub title: String,
    pub body: String,
    pub content_hash: String,
    pub updated_at: Ts,
}

/// Brings statutes and editions in line with the registry (adds what is missing).
pub fn sync_statutes(conn: &mut DbConn, reg: &StatuteRegistry) -> QueryResult<()> {
    for s in &reg.statutes {
        let existing: Option<StatuteId> = statutes::table.filter(statutes::code.eq(&s.code)).select(statutes::id).first(conn).optional()?;
        let sid = match existing {
            Some(id) => {
                diesel::update(statutes::table.find(id))
                    .set((statutes::name.eq(&s.name), statutes::short_name.eq(&s.short)))
                    .execute(conn)?;
                id
            }
            None => diesel::insert_into(statutes::table)
                .values((statutes::code.eq(&s.code), statutes::name.eq(&s.name), statutes::short_name.eq(&s.short)))
                .returning(statutes::id)
                .get_result(conn)?,
        };
        for e in &s.editions {
            let have: Option<(EditionId, Option<UserId>)> = statute_editions::table
                .filter(statute_editions::statute_id.eq(sid))
                .filter(statute_editions::code.eq(&e.code))
                .select((statute_editions::id, statute_editions::registered_by))
                .first(conn)
                .optional()?;
            let changed = serde_json::to_string(&e.changed_articles).expect("json");
            match have {
                None => {
                    diesel::insert_into(statute_editions::table)
                        .values((
                            statute_editions::statute_id.eq(sid),
                            statute_editions::code.eq(&e.code),
                            statute_editions::title.eq(&e.title),
                            statute_editions::in_force.eq(e.in_force),
                            statute_editions::replaces.eq(&e.replaces),
                            statute_editions::changed_articles.eq(&changed),
                            statute_editions::changed_all.eq(e.changed_all),
                        ))
                        .execute(conn)?;
                }
                // an edition a trainer registered in the site is theirs: the file does not override it
                Some((_, Some(_))) => {}
                Some((id, None)) => {
                    diesel::update(statute_editions::table.find(id))
                        .set((
                            statute_editions::replaces.eq(&e.replaces),
                            statute_editions::changed_articles.eq(&changed),
                            statute_editions::changed_all.eq(e.changed_all),
                        ))
                        .execute(conn)?;
                }
            }
        }
    }
    Ok(())
}

/// Registers a new edition entered by a trainer.
pub fn insert_edition(
    conn: &mut DbConn,
    statute_code: &str,
    e: &crate::domain::editions::NewEdition,
    by: UserId,
    now: Ts,
) -> QueryResult<EditionId> {
    let sid: StatuteId = statutes::table.filter(statutes::code.eq(statute_code)).select(statutes::id).first(conn)?;
    diesel::insert_into(statute_editions::table)
        .values((
            statute_editions::statute_id.eq(sid),
            statute_editions::code.eq(&e.code),
            statute_editions::title.eq(e.title.trim()),
            statute_editions::in_force.eq(e.in_force),
            statute_editions::replaces.eq(&e.replaces),
            statute_editions::changed_articles.eq(serde_json::to_string(&e.changed_articles).expect("json")),
            statute_editions::changed_all.eq(e.changed_all),
            statute_editions::registered_by.eq(Some(by)),
            statute_editions::registered_at.eq(Some(now)),
        ))
        .returning(statute_editions::id)
        .get_result(conn)
}

/// (code, short name) of every statute, in registry order.
pub fn statute_names(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    statutes::table.order(statutes::id).select((statutes::code, statutes::short_name)).load(conn)
}

/// The editions known for a statute code.
pub fn editions_of(conn: &mut DbConn, statute_code: &str) -> QueryResult<Vec<String>> {
    statute_editions::table
        .inner_join(statutes::table)
        .filter(statutes::code.eq(statute_code))
        .order(statute_editions::in_force)
        .select(statute_editions::code)
        .load(conn)
}

pub fn find_case_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Case>> {
    cases::table.filter(cases::code.eq(code)).select(Case::as_select()).first(conn).optional()
}

pub fn find_case(conn: &mut DbConn, id: CaseId) -> QueryResult<Option<Case>> {
    cases::table.find(id).select(Case::as_select()).get_result(conn).optional()
}

pub fn upsert_case(conn: &mut DbConn, code: &str, title: &str, body: &str, hash: &str, now: Ts) -> QueryResult<CaseId> {
    match find_case_by_code(conn, code)? {
        Some(c) if c.content_hash == hash => Ok(c.id),
        Some(c) => {
            diesel::update(cases::table.find(c.id))
                .set((cases::title.eq(title), cases::body.eq(body), cases::content_hash.eq(hash), cases::updated_at.eq(now)))
                .execute(conn)?;
            Ok(c.id)
        }
        None => diesel::insert_into(cases::table)
            .values((
                cases::code.eq(code),
                cases::title.eq(title),
                cases::body.eq(body),
                cases::content_hash.eq(hash),
                cases::updated_at.eq(now),
            ))
            .returning(cases::id)
            .get_result(conn),
    }
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Question>> {
    questions::table.filter(questions::code.eq(code)).select(Question::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: QuestionId) -> QueryResult<Option<Question>> {
    questions::table.find(id).select(Question::as_select()).get_result(conn).optional()
}

/// A new question row with its first version.
pub struct NewQuestion<'a> {
    pub code: &'a str,
    pub case: Option<(CaseId, i32)>,
    pub origin: &'a str,
    pub file_hash: Option<&'a str>,
    pub content: &'a QuestionContent,
    pub author: Option<UserId>,
    /// Approved at creation (shipped bank files are reviewed in the repository).
    pub reviewed: bool,
}

pub fn insert_question(conn: &mut DbConn, q: &NewQuestion<'_>, now: Ts) -> QueryResult<QuestionId> {
    let status = if q.reviewed { QuestionStatus::Active } else { QuestionStatus::Draft }.as_str();
    let id: QuestionId = diesel::insert_into(questions::table)
        .values((
            questions::code.eq(q.code),
            questions::case_id.eq(q.case.map(|c| c.0)),
            questions::case_position.eq(q.case.map(|c| c.1).unwrap_or(0)),
            questions::kind.eq(q.content.kind.as_str()),
            questions::status.eq(status),
            questions::origin.eq(q.origin),
            questions::file_hash.eq(q.file_hash),
            questions::latest_version.eq(1),
            questions::live_version.eq(if q.reviewed { Some(1) } else { None }),
            questions::revision.eq(1),
            questions::created_at.eq(now),
            questions::updated_at.eq(now),
        ))
        .returning(questions::id)
        .get_result(conn)?;
    insert_version(conn, id, 1, q.content, q.author, q.reviewed.then_some(now), now)?;
    Ok(id)
}

/// Appends a version (and its key). Earlier versions are never changed.
pub fn insert_version(
    conn: &mut DbConn,
    question_id: QuestionId,
    version: i32,
    c: &QuestionContent,
    author: Option<UserId>,
    reviewed_at: Option<Ts>,
    now: Ts,
) -> QueryResult<VersionId> {
    let vid: VersionId = diesel::insert_into(question_versions::table)
        .values((
            question_versions::question_id.eq(question_id),
            question_versions::version.eq(version),
            question_versions::statute_code.eq(&c.statute),
            question_versions::edition_code.eq(&c.edition),
            question_versions::articles.eq(c.articles.join(",")),
            question_versions::difficulty.eq(c.difficulty),
            question_versions::levels.eq(c.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(",")),
            question_versions::stem.eq(&c.stem),
            question_versions::options.eq(serde_json::to_string(&c.options).expect("json")),
            question_versions::explanation.eq(&c.explanation),
            question_versions::tags.eq(c.tags.join(",")),
            question_versions::content_hash.eq(c.content_hash()),
            question_versions::created_by.eq(author),
            question_versions::created_at.eq(now),
            question_versions::reviewed_at.eq(reviewed_at),
        ))
        .returning(question_versions::id)
        .get_result(conn)?;
    diesel::insert_into(answer_keys::table)
        .values((answer_keys::question_version_id.eq(vid), answer_keys::answer.eq(&c.answer)))
        .execute(conn)?;
    Ok(vid)
}

pub fn version(conn: &mut DbConn, question_id: QuestionId, version: i32) -> QueryResult<Option<Version>> {
    question_versions::table
        .filter(question_versions::question_id.eq(question_id))
        .filter(question_versions::version.eq(version))
        .select(Version::as_select())
        .first(conn)
        .optional()
}

pub fn versions_of(conn: &mut DbConn, question_id: QuestionId) -> QueryResult<Vec<Version>> {
    question_versions::table
        .filter(question_versions::question_id.eq(question_id))
        .order(question_versions::version.desc())
        .select(Version::as_select())
        .load(conn)
}

pub fn key_of(conn: &mut DbConn, version_id: VersionId) -> QueryResult<String> {
    answer_keys::table.find(version_id).select(answer_keys::answer).get_result(conn)
}

/// Versions (with their question's kind, code and case) by id.
/// Every version (old and new) of the questions that the given versions belong to.
pub fn sibling_versions(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<Vec<VersionId>> {
    let mut questions = Vec::new();
    for chunk in ids.chunks(500) {
        questions.extend(
            question_versions::table
                .filter(question_versions::id.eq_any(chunk))
                .select(question_versions::question_id)
                .load::<QuestionId>(conn)?,
        );
    }
    questions.sort_unstable();
    questions.dedup();
    let mut out = Vec::new();
    for chunk in questions.chunks(500) {
        out.extend(
            question_versions::table
                .filter(question_versions::question_id.eq_any(chunk))
                .select(question_versions::id)
                .load::<VersionId>(conn)?,
        );
    }
    Ok(out)
}

pub fn versions_by_ids(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<Vec<(Version, Question)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            question_versions::table
                .inner_join(questions::table)
                .filter(question_versions::id.eq_any(chunk))
                .select((Version::as_select(), Question::as_select()))
                .load::<(Version, Question)>(conn)?,
        );
    }
    Ok(out)
}

pub fn keys_by_ids(conn: &mut DbConn, ids: &[VersionId]) -> QueryResult<Vec<(VersionId, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            answer_keys::table
                .filter(answer_keys::question_version_id.eq_any(chunk))
                .select((answer_keys::question_version_id, answer_keys::answer))
                .load::<(VersionId, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Filters for the trainers' bank list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub statute: Option<String>,
    pub article: Option<String>,
    pub kind: Option<String>,
    pub difficulty: Option<i32>,
    pub level: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

/// Questions with their latest version, filtered; newest changes first.
pub fn list(conn: &mut DbConn, f: &Filter, limit: i64, offset: i64) -> QueryResult<(Vec<(Question, Version)>, i64)> {
    let mut q = questions::table
        .inner_join(
            question_versions::table
                .on(question_versions::question_id.eq(questions::id).and(question_versions::version.eq(questions::latest_version))),
        )
        .into_boxed();
    let mut count_q = questions::table
        .inner_join(
            question_versions::table
                .on(question_versions::question_id.eq(questions::id).and(question_versions::version.eq(questions::latest_version))),
        )
        .into_boxed();
    macro_rules! both {
        ($e:expr) => {{
            q = q.filter($e);
            count_q = count_q.filter($e);
        }};
    }
    if let Some(s) = &f.statute {
        both!(question_versions::statute_code.eq(s.clone()));
    }
    if let Some(k) = &f.kind {
        both!(questions::kind.eq(k.clone()));
    }
    if let Some(d) = f.difficulty {
        both!(question_versions::difficulty.eq(d));
    }
    if let Some(s) = &f.status {
        both!(questions::status.eq(s.clone()));
    }
    if let Some(a) = &f.article {
        // articles are stored comma-joined: match a whole entry
        let a = a.trim().to_string();
        both!(question_versions::articles
            .eq(a.clone())
            .or(question_versions::articles.like(format!("{a},%")))
            .or(question_versions::articles.like(format!("%,{a}")))
            .or(question_versions::articles.like(format!("%,{a},%"))));
    }
    if let Some(l) = &f.level {
        let l = l.clone();
        both!(question_versions::levels.like(format!("%{l}%")));
    }
    if let Some(s) = &f.search {
        let pat = format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        both!(question_versions::stem
            .like(pat.clone())
            .escape('\\')
            .or(questions::code.like(pat.clone()).escape('\\'))
            .or(question_versions::explanation.like(pat.clone()).escape('\\')));
    }
    let total = count_q.count().get_result(conn)?;
    let rows = q
        .order((questions::updated_at.desc(), questions::id))
        .limit(limit)
        .offset(offset)
        .select((Question::as_select(), Version::as_select()))
        .load(conn)?;
    Ok((rows, total))
}

/// Every question not retired with the version that matters for it: the live version, or the
/// latest when none is live yet.
pub fn current_versions(conn: &mut DbConn) -> QueryResult<Vec<(Question, Version)>> {
    questions::table
        .inner_join(
            question_versions::table.on(question_versions::question_id.eq(questions::id).and(
                questions::live_version
                    .eq(question_versions::version.nullable())
                    .or(questions::live_version.is_null().and(questions::latest_version.eq(question_versions::version))),
            )),
        )
        .filter(questions::status.ne(QuestionStatus::Retired.as_str()))
        .order(questions::id)
        .select((Question::as_select(), Version::as_select()))
        .load(conn)
}

/// Live versions of active questions: what a new sitting's pool is built from.
pub fn live_versions(conn: &mut DbConn) -> QueryResult<Vec<(Question, Version)>> {
    questions::table
        .inner_join(
            question_versions::table.on(question_versions::question_id
                .eq(questions::id)
                .and(questions::live_version.eq(question_versions::version.nullable()))),
        )
        .filter(questions::status.eq(QuestionStatus::Active.as_str()))
        .order(questions::id)
        .select((Question::as_select(), Version::as_select()))
        .load(conn)
}

/// Records a new latest version; `expected_revision` guards against lost updates.
pub fn bump_latest(conn: &mut DbConn, id: QuestionId, new_version: i32, expected_revision: i32, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(questions::table.find(id).filter(questions::revision.eq(expected_revision)))
        .set((questions::latest_version.eq(new_version), questions::revision.eq(expected_revision + 1), questions::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the latest version reviewed, makes it the live version and sets the new status.
pub fn approve_latest(conn: &mut DbConn, q: &Question, reviewer: UserId, new_status: &str, now: Ts) -> QueryResult<bool> {
    diesel::update(
        question_versions::table.filter(question_versions::question_id.eq(q.id)).filter(question_versions::version.eq(q.latest_version)),
    )
    .set((question_versions::reviewed_by.eq(reviewer), question_versions::reviewed_at.eq(now)))
    .execute(conn)?;
    let n = diesel::update(questions::table.find(q.id).filter(questions::revision.eq(q.revision)))
        .set((
            questions::live_version.eq(q.latest_version),
            questions::status.eq(new_status),
            questions::revision.eq(q.revision + 1),
            questions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_status(conn: &mut DbConn, q: &Question, status: QuestionStatus, now: Ts) -> QueryResult<bool> {
    let n = diesel::update(questions::table.find(q.id).filter(questions::revision.eq(q.revision)))
        .set((questions::status.eq(status.as_str()), questions::revision.eq(q.revision + 1), questions::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// After a shipped file changed: a new reviewed version becomes live.
pub fn set_file_version(conn: &mut DbConn, id: QuestionId, version: i32, file_hash: &str, now: Ts) -> QueryResult<()> {
    diesel::update(questions::table.find(id))
        .set((
            questions::latest_version.eq(version),
            questions::live_version.eq(version),
            questions::file_hash.eq(file_hash),
            questions::revision.eq(questions::revision + 1),
            questions::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records what the shipped file said last (see `services::bank_sync`).
pub fn set_file_hash(conn: &mut DbConn, id: QuestionId, file_hash: &str) -> QueryResult<()> {
    diesel::update(questions::table.find(id)).set(questions::file_hash.eq(file_hash)).execute(conn).map(|_| ())
}

pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    questions::table.group_by(questions::status).select((questions::status, count_star())).load(conn)
}

/// Every case item, by case and position, with its live version if it has one.
pub fn case_items_live(conn: &mut DbConn) -> QueryResult<Vec<(Question, Option<Version>)>> {
    questions::table
        .left_join(
            question_versions::table.on(question_versions::question_id
                .eq(questions::id)
                .and(questions::live_version.eq(question_versions::version.nullable()))),
        )
        .filter(questions::case_id.is_not_null())
        .order((questions::case_id, questions::case_position, questions::id))
        .select((Question::as_select(), Option::<Version>::as_select()))
        .load(conn)
}

/// How many items each case group has (whatever their status).
pub fn case_item_counts(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<CaseId, i64>> {
    use diesel::dsl::count_star;
    let rows: Vec<(Option<CaseId>, i64)> = questions::table
        .filter(questions::case_id.is_not_null())
        .group_by(questions::case_id)
        .select((questions::case_id, count_star()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(c, n)| c.map(|c| (c, n))).collect())
}

/// Items of a case, in order, with their latest versions.
pub fn case_items(conn: &mut DbConn, case_id: CaseId) -> QueryResult<Vec<Question>> {
    questions::table.filter(questions::case_id.eq(case_id)).order(questions::case_position).select(Question::as_select()).load(conn)
}

/// The statute registry as stored (what trainers' edits are validated against).
pub fn registry(conn: &mut DbConn) -> QueryResult<StatuteRegistry> {
    use crate::domain::bank::{EditionInfo, StatuteInfo};
    type Row = (String, String, String, String, String, chrono::NaiveDate, Option<String>, String, bool);
    let rows: Vec<Row> = statutes::table
        .inner_join(statute_editions::table)
        .order((statutes::id, statute_editions::in_force))
        .select((
            statutes::code,
            statutes::name,
            statutes::short_name,
            statute_editions::code,
            statute_editions::title,
            statute_editions::in_force,
            statute_editions::replaces,
            statute_editions::changed_articles,
            statute_editions::changed_all,
        ))
        .load(conn)?;
    let mut reg = StatuteRegistry::default();
    for (code, name, short, ecode, etitle, in_force, replaces, changed, changed_all) in rows {
        let e = EditionInfo {
            code: ecode,
            title: etitle,
            in_force,
            replaces,
            changed_articles: serde_json::from_str(&changed).unwrap_or_default(),
            changed_all,
        };
        reg.editions.entry(code.clone()).or_default().push(e.clone());
        match reg.statutes.iter_mut().find(|s| s.code == code) {
            Some(s) => s.editions.push(e),
            None => reg.statutes.push(StatuteInfo { code, name, short, editions: vec![e] }),
        }
    }
    Ok(reg)
}
