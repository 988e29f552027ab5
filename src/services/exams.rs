//! Sittings and attempts: creating a sitting from a blueprint, starting, saving, submitting,
//! grading, and the server's own submission of attempts whose deadline has passed.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::db::models::{bank as bank_db, exam as exam_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::bank::{Level, QuestionKind, FALSE_ID, TRUE_ID};
use crate::domain::editions;
use crate::domain::exam::{attempt_deadline, Eligibility, Release, SittingKind, SittingState, SubmitKind};
use crate::domain::exam_room::RoomControls;
use crate::domain::grading::{self, MultiRule};
use crate::domain::ids::{AttemptId, BlueprintId, CaseId, ExamPlanId, SittingId, UnitId, UserId, VersionId};
use crate::domain::measurement::scale::PassRule;
use crate::domain::org::unit_path;
use crate::domain::paper::{self, BlueprintSpec, Paper, PoolCandidate};
use crate::domain::validation::Problem;
use crate::error::{AppError, AppResult};
use std::sync::Arc;

use crate::services::cache::{AttemptCache, AttemptMeta, VersionCache};
use crate::services::save_writer::{Save, SaveTrace};

/// Everything a trainer decides when scheduling a sitting.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SittingSpec {
    pub title: String,
    pub kind: SittingKind,
    #[schema(value_type = i64)]
    pub blueprint_id: BlueprintId,
    #[serde(with = "crate::timefmt")]
    pub opens_at: NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub closes_at: NaiveDateTime,
    pub duration_minutes: i32,
    /// Pass mark, per cent of the maximum score.
    pub pass_percent: i32,
    pub multi_rule: MultiRule,
    pub score_release: Release,
    pub answer_release: Release,
    #[serde(default)]
    pub eligibility: Eligibility,
    /// A certification sitting: only officers registered for this level and eligible may sit,
    /// and passing issues a certificate.
    #[serde(default)]
    pub cert_level: Option<Level>,
    /// Exam-room controls (access code, network allow-list, full screen, event limit).
    #[serde(default)]
    pub controls: RoomControls,
    /// The recurring plan that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub plan_id: Option<ExamPlanId>,
    /// The sitting this one makes up for (absent candidates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub makeup_of: Option<SittingId>,
}

impl SittingSpec {
    pub fn validate(&self) -> Vec<Problem> {
        let mut errs = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            errs.push(Problem::plain("title", "sitting.title", "required, at most 200 characters"));
        }
        if self.closes_at <= self.opens_at {
            errs.push(Problem::plain("closes_at", "sitting.closes_at", "must be after opens_at"));
        }
        if !(1..=600).contains(&self.duration_minutes) {
            errs.push(Problem::plain("duration_minutes", "sitting.duration_minutes", "must be 1–600"));
        }
        if !(0..=100).contains(&self.pass_percent) {
            errs.push(Problem::plain("pass_percent", "sitting.pass_percent", "must be 0–100"));
        }
        // keys shown to an early finisher would reach colleagues still sitting the same pool
        if matches!(self.kind, SittingKind::Bimonthly | SittingKind::Certification) && self.answer_release == Release::OnSubmit {
            errs.push(Problem::plain(
                "answer_release",
                "sitting.answer_release",
                "a bimonthly or certification exam releases answers after it closes, or never",
            ));
        }
        if self.cert_level.is_some() && self.score_release == Release::Never {
            errs.push(Problem::plain(
                "score_release",
                "sitting.score_release",
                "a certification exam must release scores (a certificate would reveal the result)",
            ));
        }
        errs.extend(self.controls.validate());
        errs
    }
}

/// Builds the pool candidates from every live question version, leaving out questions a newer
/// statute edition has suspended (see `services::bank_review::worklist`), and case groups that
/// are not whole: a case is drawn with all its items or not at all, so one item suspended,
/// retired or not in use keeps the whole group out (`services::bank_review::case_holds`).
pub fn pool_candidates(conn: &mut DbConn, now: Ts) -> diesel::QueryResult<Vec<PoolCandidate>> {
    let reg = bank_db::registry(conn)?;
    let facility = crate::db::models::stats::pooled_facility(conn)?;
    let today = crate::timefmt::bureau_date(now);
    let mut candidates: Vec<PoolCandidate> = bank_db::live_versions(conn)?
        .into_iter()
        .filter(|(_, v)| {
            !editions::suspension(&reg, &v.statute_code, &v.edition_code, &v.articles_vec(), today).is_some_and(|s| s.effective)
        })
        .map(|(q, v)| PoolCandidate {
            version_id: v.id,
            kind: q.kind,
            option_count: v.options_vec().len(),
            levels: v.levels_vec(),
            facility: facility.get(&v.id).copied(),
            calibrated: None,
            exposure: 0,
            statute: v.statute_code,
            difficulty: v.difficulty,
            case: q.case_id.map(|c| (c, q.case_position)),
        })
        .collect();
    let items = bank_db::case_item_counts(conn)?;
    let mut drawable: HashMap<CaseId, i64> = HashMap::new();
    for c in &candidates {
        if let Some((case, _)) = c.case {
            *drawable.entry(case).or_default() += 1;
        }
    }
    candidates.retain(|c| c.case.is_none_or(|(case, _)| drawable.get(&case) == items.get(&case)));
    Ok(candidates)
}

/// [`pool_candidates`] with what drawing weighs: each version's calibrated difficulty (an
/// extreme item's adjusted estimate included; an SE of 99 marks none) and its exposure so far.
pub fn drawable_candidates(conn: &mut DbConn, now: Ts) -> AppResult<Vec<PoolCandidate>> {
    let mut candidates = pool_candidates(conn, now)?;
    let calibrated: HashMap<VersionId, f64> = crate::db::models::calibration::all(conn)?
        .into_iter()
        .filter(|r| r.se < 99.0 && r.difficulty.is_finite())
        .map(|r| (r.question_version_id, r.difficulty))
        .collect();
    let exposure = crate::services::exposure::overall(conn)?;
    for c in &mut candidates {
        c.calibrated = calibrated.get(&c.version_id).copied();
        c.exposure = exposure.get(&c.version_id).map_or(0, |e| e.papers);
    }
    Ok(candidates)
}

/// A blueprint id that names none.
pub fn no_blueprint(id: BlueprintId) -> Problem {
    Problem::with("blueprint_id", "sitting.no_blueprint", vec![("id", id.to_string())], format!("no blueprint {id}"))
}

/// A sitting by id; 404 `no such sitting` when there is none (the one lookup every page and
/// service of a sitting starts from).
pub fn sitting(conn: &mut DbConn, id: SittingId) -> AppResult<exam_db::Sitting> {
    exam_db::find_sitting(conn, id)?.ok_or_else(|| AppError::not_found("no such sitting"))
}

/// The sitting an attempt (or challenge) belongs to: its absence is a broken database, not a
/// user's mistake, so an internal error rather than 404.
pub fn sitting_of(conn: &mut DbConn, sitting_id: SittingId) -> AppResult<exam_db::Sitting> {
    exam_db::find_sitting(conn, sitting_id)?.ok_or_else(|| AppError::internal(format!("sitting {sitting_id} is missing")))
}

/// Creates a sitting, freezing its pool from the blueprint. Errors list every problem.
pub fn create_sitting(conn: &mut DbConn, spec: &SittingSpec, by: Option<UserId>, now: Ts) -> AppResult<SittingId> {
    let mut spec = spec.clone();
    if spec.controls.access_code.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(crate::domain::exam_room::AUTO_CODE)) {
        spec.controls.access_code = Some(crate::domain::exam_room::generate_code(&mut rand::rng()));
    }
    let spec = &spec;
    let mut errs = spec.validate();
    if let Some(pid) = spec.plan_id {
        if crate::db::models::plans::find_plan(conn, pid)?.is_none() {
            errs.push(Problem::with("plan_id", "sitting.no_plan", vec![("id", pid.to_string())], format!("no exam plan {pid}")));
        }
    }
    if let Some(mid) = spec.makeup_of {
        if exam_db::find_sitting(conn, mid)?.is_none() {
            errs.push(Problem::with("makeup_of", "sitting.no_sitting", vec![("id", mid.to_string())], format!("no sitting {mid}")));
        }
    }
    let blueprint = exam_db::find_blueprint(conn, spec.blueprint_id)?;
    let Some(blueprint) = blueprint else {
        errs.push(no_blueprint(spec.blueprint_id));
        return Err(AppError::invalid_problems(errs));
    };
    let bp: BlueprintSpec = serde_json::from_str(&blueprint.spec).map_err(|e| AppError::internal(format!("stored blueprint: {e}")))?;
    let unknown_badges: Vec<String> = {
        let known = org::badges_in(conn, &spec.eligibility.badges)?;
        spec.eligibility.badges.iter().filter(|b| !known.contains(b)).cloned().collect()
    };
    if !unknown_badges.is_empty() {
        errs.push(Problem::with(
            "eligibility.badges",
            "sitting.unknown_badges",
            vec![("badges", unknown_badges.join("、"))],
            format!("unknown 警号 {}", unknown_badges.join(", ")),
        ));
    }
    let mut candidates = drawable_candidates(conn, now)?;
    if spec.kind == SittingKind::Remedial {
        // a remedial exam releases its answers on submit: none of them may be in a pool that
        // other candidates are sitting or will sit
        let withheld = crate::services::exam_mode::withheld_from_practice(conn, now, chrono::Duration::days(3650))?;
        candidates.retain(|c| !withheld.contains(&c.version_id));
    }
    let pool = match paper::freeze_pool(&bp, &candidates) {
        Ok(p) => Some(p),
        Err(e) => {
            errs.extend(e);
            None
        }
    };
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    let pool = serde_json::to_string(&pool.expect("checked")).expect("json");
    let new = exam_db::NewSitting {
        title: spec.title.trim().to_string(),
        kind: spec.kind.as_str().into(),
        blueprint_id: spec.blueprint_id,
        opens_at: spec.opens_at,
        closes_at: spec.closes_at,
        duration_minutes: spec.duration_minutes,
        pass_percent: spec.pass_percent,
        multi_rule: spec.multi_rule.as_str().into(),
        score_release: spec.score_release.as_str().into(),
        answer_release: spec.answer_release.as_str().into(),
        eligibility: serde_json::to_string(&spec.eligibility).expect("json"),
        pool_hash: crate::services::prepared::pool_hash(&pool),
        pool,
        created_by: by,
        created_at: now,
        cert_level: spec.cert_level.map(|l| l.as_str().to_string()),
        controls: serde_json::to_string(&spec.controls).expect("json"),
        plan_id: spec.plan_id,
        makeup_of: spec.makeup_of,
    };
    let id = exam_db::insert_sitting(conn, &new)?;
    crate::services::scale::fix_rule_for_sitting(conn, id, spec.kind, spec.cert_level)?;
    Ok(id)
}

/// Creates a sitting and tells its candidates (bimonthly and certification sittings; a mock
/// exam is open practice and sends nothing), in one transaction; then prepares its candidates'
/// papers (`services::prepared`).
pub fn schedule(conn: &mut DbConn, spec: &SittingSpec, by: Option<UserId>, now: Ts) -> AppResult<SittingId> {
    let id = write_tx(conn, |c| {
        let id = create_sitting(c, spec, by, now)?;
        if matches!(spec.kind, SittingKind::Bimonthly | SittingKind::Certification) {
            crate::services::plans::notify_candidates(c, id, now)?;
        }
        Ok::<SittingId, AppError>(id)
    })?;
    crate::services::prepared::after_scheduling(conn, id, now);
    Ok(id)
}

/// Freezes a sitting's pool again from its blueprint and the bank as it is now (questions
/// suspended or retired since are left out), before the sitting opens and while nobody has
/// started it. The papers prepared from the old pool are dropped (by the database, see
/// `services::prepared`) and prepared again from the new one.
pub fn refreeze_pool(conn: &mut DbConn, sitting_id: SittingId, by: Option<UserId>, now: Ts) -> AppResult<()> {
    let s = sitting(conn, sitting_id)?;
    if SittingState::at(now, s.opens_at, s.closes_at) != SittingState::Scheduled || !exam_db::started_users(conn, s.id)?.is_empty() {
        return Err(AppError::new(
            crate::error::ErrorCode::Closed,
            "the pool of a sitting that has opened or been started cannot be frozen again",
        ));
    }
    let blueprint = exam_db::find_blueprint(conn, s.blueprint_id)?.ok_or_else(|| AppError::internal("blueprint missing"))?;
    let bp: BlueprintSpec = serde_json::from_str(&blueprint.spec).map_err(|e| AppError::internal(format!("stored blueprint: {e}")))?;
    let mut candidates = drawable_candidates(conn, now)?;
    if s.kind == SittingKind::Remedial {
        let withheld = crate::services::exam_mode::withheld_from_practice(conn, now, chrono::Duration::days(3650))?;
        candidates.retain(|c| !withheld.contains(&c.version_id));
    }
    let pool = paper::freeze_pool(&bp, &candidates).map_err(AppError::invalid_problems)?;
    let pool = serde_json::to_string(&pool).expect("json");
    let hash = crate::services::prepared::pool_hash(&pool);
    write_tx(conn, |c| {
        exam_db::set_pool(c, s.id, &pool, &hash)?;
        crate::db::models::audit::append(
            c,
            by,
            "sitting.refreeze",
            &format!("sitting:{}", s.id),
            &serde_json::json!({"pool_hash": hash}),
            now,
        )?;
        Ok::<(), AppError>(())
    })?;
    crate::services::prepared::after_scheduling(conn, s.id, now);
    Ok(())
}

/// Validates and stores a blueprint.
pub fn create_blueprint(conn: &mut DbConn, name: &str, spec: &BlueprintSpec, by: Option<UserId>, now: Ts) -> AppResult<BlueprintId> {
    let mut errs = spec.problems();
    if name.trim().is_empty() {
        errs.push(Problem::plain("name", "blueprint.name", "required"));
    }
    let known: Vec<String> = bank_db::statute_names(conn)?.into_iter().map(|s| s.0).collect();
    for (i, r) in spec.rules.iter().enumerate() {
        if let Some(s) = &r.statute {
            if !known.contains(s) {
                errs.push(Problem::with(
                    "",
                    "blueprint.unknown_statute",
                    vec![("n", (i + 1).to_string()), ("statute", format!("{s:?}"))],
                    format!("rule {}: unknown statute {s:?}", i + 1),
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(AppError::invalid_problems(errs));
    }
    // a blueprint that the current bank cannot fill is refused now, not on exam day
    if let Err(e) = paper::freeze_pool(spec, &drawable_candidates(conn, now)?) {
        return Err(AppError::invalid_problems(e));
    }
    Ok(exam_db::insert_blueprint(conn, name.trim(), &serde_json::to_string(spec).expect("json"), by, now)?)
}

/// The parts of the candidate that decide eligibility.
pub struct Candidate<'a> {
    pub id: UserId,
    pub badge: &'a str,
    pub unit_id: UnitId,
    pub police_type: &'a str,
}

pub(crate) fn parent_map(conn: &mut DbConn) -> diesel::QueryResult<HashMap<UnitId, Option<UnitId>>> {
    Ok(org::all_units(conn)?.into_iter().map(|u| (u.id, u.parent_id)).collect())
}

pub fn eligibility_of(s: &exam_db::Sitting) -> Eligibility {
    serde_json::from_str(&s.eligibility).unwrap_or_default()
}

/// Whether the candidate may sit the sitting.
pub fn may_sit(conn: &mut DbConn, s: &exam_db::Sitting, c: &Candidate<'_>) -> diesel::QueryResult<bool> {
    let parents = parent_map(conn)?;
    let path = unit_path(c.unit_id, |u| parents.get(&u).copied().flatten());
    Ok(eligibility_of(s).admits(c.badge, &path, c.police_type))
}

/// A sitting as a candidate sees it in their list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SittingSummary {
    #[schema(value_type = i64)]
    pub id: SittingId,
    pub title: String,
    pub kind: SittingKind,
    #[serde(with = "crate::timefmt")]
    pub opens_at: NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub closes_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub state: SittingState,
    /// The caller's attempt, if started: its id and whether it is submitted.
    #[schema(value_type = Option<i64>)]
    pub attempt_id: Option<AttemptId>,
    pub submitted: bool,
}

/// Sittings the candidate may sit that have not closed, plus closed ones they attempted.
pub fn sittings_for(conn: &mut DbConn, c: &Candidate<'_>, now: Ts) -> AppResult<Vec<SittingSummary>> {
    let parents = parent_map(conn)?;
    let path = unit_path(c.unit_id, |u| parents.get(&u).copied().flatten());
    let mine: HashMap<SittingId, exam_db::Attempt> =
        exam_db::attempts_of_user(conn, c.id)?.into_iter().map(|(a, _)| (a.sitting_id, a)).collect();
    let mut out = Vec::new();
    for s in exam_db::sittings_closing_after(conn, now - chrono::Duration::days(1))? {
        if !eligibility_of(&s).admits(c.badge, &path, c.police_type) {
            continue;
        }
        let a = mine.get(&s.id);
        // a certification sitting is for those registered for its level: others are not offered it
        if s.kind == SittingKind::Certification && a.is_none() {
            let registered = match s.cert_level {
                Some(level) => crate::db::models::cert::open_registration(conn, c.id, level)?.is_some(),
                None => false,
            };
            if !registered {
                continue;
            }
        }
        out.push(SittingSummary {
            id: s.id,
            kind: s.kind,
            state: SittingState::at(now, s.opens_at, s.closes_at),
            title: s.title,
            opens_at: s.opens_at,
            closes_at: s.closes_at,
            duration_minutes: s.duration_minutes,
            attempt_id: a.map(|a| a.id),
            submitted: a.is_some_and(|a| a.submitted_at.is_some()),
        });
    }
    Ok(out)
}

/// Starts the candidate's attempt, or returns the one they already have (`false` = resumed).
/// What the exam room tells the server at start: the code the candidate typed and the address
/// the request came from.
#[derive(Clone, Debug, Default)]
pub struct RoomEntry<'a> {
    pub access_code: Option<&'a str>,
    pub ip: Option<std::net::IpAddr>,
}

pub fn controls_of(s: &exam_db::Sitting) -> RoomControls {
    serde_json::from_str(&s.controls).unwrap_or_default()
}

/// Separation of duties (`SittingKind::barred_to_key_readers`): a trainer sits a graded
/// sitting only under an admin's exception for it.
pub fn check_duties(conn: &mut DbConn, s: &exam_db::Sitting, user_id: UserId) -> AppResult<()> {
    let kind = s.kind;
    if !kind.barred_to_key_readers() || !org::roles_of(conn, user_id)?.contains(&crate::domain::org::Role::Trainer) {
        return Ok(());
    }
    if crate::db::models::room::find_exception(conn, s.id, user_id)?.is_some() {
        return Ok(());
    }
    Err(AppError::new(
        crate::error::ErrorCode::DutySeparation,
        "your account can read the question bank's keys, so it cannot sit this exam unless an admin records an exception for this sitting",
    ))
}

/// The access code: after `MAX_CODE_FAILURES` wrong codes the candidate waits for the proctor,
/// who lets them in again (`proctor::let_in`). Wrong codes are counted in the database, so
/// every app server sees the same count.
fn check_code(
    conn: &mut DbConn,
    s: &exam_db::Sitting,
    controls: &RoomControls,
    user_id: UserId,
    given: Option<&str>,
    now: Ts,
) -> AppResult<()> {
    use crate::db::models::room;
    use crate::domain::exam_room::MAX_CODE_FAILURES;
    if controls.access_code.is_none() {
        return Ok(());
    }
    let locked = || {
        AppError::new(
            crate::error::ErrorCode::AccessCodeLocked,
            format!("{MAX_CODE_FAILURES} wrong access codes: ask the proctor to let you in"),
        )
        .localized("exam_refusal.access_code_locked", serde_json::json!({"n": MAX_CODE_FAILURES}))
    };
    if room::code_failures(conn, s.id, user_id)? >= MAX_CODE_FAILURES {
        return Err(locked());
    }
    if controls.code_ok(given) {
        return Ok(());
    }
    if given.is_some_and(|g| !g.trim().is_empty()) && room::add_code_failure(conn, s.id, user_id, now)? >= MAX_CODE_FAILURES {
        return Err(locked());
    }
    let wrong = given.is_some_and(|g| !g.trim().is_empty());
    Err(AppError::new(crate::error::ErrorCode::AccessCode, "enter the access code the proctor announces")
        .localized(if wrong { "exam_refusal.access_code_wrong" } else { "exam_refusal.access_code_missing" }, serde_json::json!({})))
}

/// The refusal of a candidate a sitting's list does not name (page and API alike).
pub fn not_on_list() -> AppError {
    AppError::new(crate::error::ErrorCode::NotOnList, "you are not on the list for this sitting")
        .localized("exam_refusal.not_on_list", serde_json::json!({}))
}

/// The room's network allow-list, checked on every call of an attempt (start, read, save,
/// event, submit; page and API) with one message.
pub fn check_room(controls: &RoomControls, ip: Option<std::net::IpAddr>) -> AppResult<()> {
    if controls.allows(ip) {
        return Ok(());
    }
    let address = ip.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
    Err(AppError::new(
        crate::error::ErrorCode::OutsideExamRoom,
        format!("this exam can only be taken from the exam room's network (your address: {address})"),
    )
    .localized("exam_refusal.outside_exam_room", serde_json::json!({"address": address})))
}

/// The caller's own attempt as it is now, read from the exam room: one whose deadline has
/// passed is submitted first with what was saved (the sweeper may not have reached it yet).
pub fn read_own_attempt(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempts: &AttemptCache,
    attempt_id: AttemptId,
    user_id: UserId,
    ip: Option<std::net::IpAddr>,
    now: Ts,
) -> AppResult<exam_db::Attempt> {
    let a = own_attempt_in_room(conn, attempts, attempt_id, user_id, ip)?;
    if a.submitted_at.is_none() && now >= a.deadline {
        return submit(conn, cache, a.id, SubmitKind::Auto, now);
    }
    Ok(a)
}

/// The caller's own attempt, checked against its sitting's room network.
pub fn own_attempt_in_room(
    conn: &mut DbConn,
    attempts: &AttemptCache,
    attempt_id: AttemptId,
    user_id: UserId,
    ip: Option<std::net::IpAddr>,
) -> AppResult<exam_db::Attempt> {
    let a = own_attempt(conn, attempt_id, user_id)?;
    let meta = attempt_meta(conn, attempts, a.id)?.ok_or_else(|| not_yours(attempt_id))?;
    check_room(&meta.room, ip)?;
    Ok(a)
}

/// When a start reached each point of its path, for the operators' `start_stage_seconds`
/// histogram: on exam day a slow start minute shows whether it waited for the session, a
/// connection, the checks, the write lock, its own transaction or the paper's view.
#[derive(Clone, Copy, Debug)]
pub struct StartTrace {
    /// Rocket had the request's head.
    pub arrived: std::time::Instant,
    /// The session was checked: the route's own code begins.
    pub handled: std::time::Instant,
    pub connected: Option<std::time::Instant>,
    /// The sitting, the list, the room, the code and the paper were checked.
    pub checked: Option<std::time::Instant>,
    /// The write transaction began (SQLite: the one write lock was taken).
    pub locked: Option<std::time::Instant>,
    pub committed: Option<std::time::Instant>,
    /// The candidate's view of the paper was built.
    pub viewed: Option<std::time::Instant>,
}

/// The stages of `StartTrace`, in order, as the histogram labels them.
pub const START_STAGES: [&str; 6] = ["session", "connection", "checks", "write_lock", "write", "view"];

impl StartTrace {
    pub fn new(arrived: std::time::Instant) -> StartTrace {
        StartTrace {
            arrived,
            handled: std::time::Instant::now(),
            connected: None,
            checked: None,
            locked: None,
            committed: None,
            viewed: None,
        }
    }

    /// Each stage's time in `START_STAGES` order; None unless the start created an attempt
    /// (a resume takes no write lock) and its view was built.
    pub fn stages(&self) -> Option<[std::time::Duration; 6]> {
        Some(crate::services::save_writer::stage_times([
            self.arrived,
            self.handled,
            self.connected?,
            self.checked?,
            self.locked?,
            self.committed?,
            self.viewed?,
        ]))
    }
}

/// Starts (or resumes) the candidate's attempt. Its unchanging facts go into `attempts` here, so
/// the exam's first saves find them in memory instead of all reading the database at once.
/// `trace`, when given, notes when it passed its checks, took the write lock and committed.
pub fn start_attempt(
    conn: &mut DbConn,
    attempts: &AttemptCache,
    sitting_id: SittingId,
    c: &Candidate<'_>,
    room: &RoomEntry<'_>,
    now: Ts,
    mut trace: Option<&mut StartTrace>,
) -> AppResult<(exam_db::Attempt, bool)> {
    let s = exam_db::find_sitting(conn, sitting_id)?.ok_or_else(|| AppError::not_found(format!("no sitting {sitting_id}")))?;
    if !may_sit(conn, &s, c)? {
        return Err(not_on_list());
    }
    check_duties(conn, &s, c.id)?;
    // the room is checked on every start, resuming included: a paper opens only in the exam room
    let controls = controls_of(&s);
    check_room(&controls, room.ip)?;
    check_code(conn, &s, &controls, c.id, room.access_code, now)?;
    if let Some(a) = exam_db::find_attempt_for(conn, s.id, c.id)? {
        remember(attempts, &a, controls)?;
        return Ok((a, false));
    }
    match SittingState::at(now, s.opens_at, s.closes_at) {
        SittingState::Scheduled => {
            return Err(AppError::new(
                crate::error::ErrorCode::NotOpen,
                format!("this sitting opens at {} (UTC)", s.opens_at.format("%Y-%m-%d %H:%M")),
            ))
        }
        SittingState::Closed => return Err(AppError::new(crate::error::ErrorCode::Closed, "this sitting has closed")),
        SittingState::Open => {}
    }
    if let Some(level) = s.cert_level {
        crate::services::certification::admit(conn, c.id, level, now)?;
    }
    // the paper prepared before the window opened (services::prepared), else one drawn now
    // from the pool (parsed once per sitting), before the write lock is taken
    use crate::services::prepared;
    let drawn = if prepared::has_usable(conn, &s, c.id)? { None } else { Some(prepared::draw_fresh(&*prepared::parsed_pool(&s)?)) };
    let deadline = attempt_deadline(now, s.duration_minutes, s.closes_at);
    if let Some(t) = trace.as_deref_mut() {
        t.checked = Some(std::time::Instant::now());
    }
    let mut locked = None;
    let (a, created) = write_tx(conn, |conn| {
        locked = Some(std::time::Instant::now());
        let (seed, paper, max_centi) = match (prepared::take(conn, &s, c.id)?, drawn) {
            (Some(p), _) => p,
            (None, Some(d)) => d,
            // the prepared paper went (the pool was frozen again) between the two reads
            (None, None) => prepared::draw_fresh(&*prepared::parsed_pool(&s)?),
        };
        let new = exam_db::NewAttempt { sitting_id: s.id, user_id: c.id, seed, max_centi, paper, started_at: now, deadline };
        let (a, created) = exam_db::insert_or_get_attempt(conn, &new)?;
        if created && room.ip.is_some() {
            crate::db::models::room::set_client_ip(conn, a.id, room.ip.map(|i| i.to_string()).as_deref())?;
        }
        Ok::<_, AppError>((a, created))
    })?;
    if let Some(t) = trace {
        (t.locked, t.committed) = (locked, Some(std::time::Instant::now()));
    }
    remember(attempts, &a, controls)?;
    Ok((a, created))
}

/// Puts an attempt's unchanging facts into the cache: at its start, or at its first use since
/// the server started.
fn remember(attempts: &AttemptCache, a: &exam_db::Attempt, room: RoomControls) -> AppResult<Arc<AttemptMeta>> {
    let questions = paper_of(a)?.items.iter().map(|i| i.v).collect();
    Ok(attempts.put(a.id, AttemptMeta { user_id: a.user_id, sitting_id: a.sitting_id, questions, room }))
}

pub fn paper_of(a: &exam_db::Attempt) -> AppResult<Paper> {
    serde_json::from_str(&a.paper).map_err(|e| AppError::internal(format!("stored paper: {e}")))
}

/// One option as shown to a candidate.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OptionView {
    pub id: String,
    pub text: String,
}

/// One question as shown to a candidate: no key, no explanation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionView {
    /// Question version id: what answers are saved against.
    #[schema(value_type = i64)]
    pub id: VersionId,
    pub number: usize,
    pub kind: QuestionKind,
    pub stem: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_text: Option<String>,
    pub points: String,
    pub options: Vec<OptionView>,
    /// Saved answer (option ids), if any.
    pub answer: Option<Vec<String>>,
    pub flagged: bool,
}

/// An attempt as the candidate's exam page and the API see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    #[schema(value_type = i64)]
    pub attempt_id: AttemptId,
    #[schema(value_type = i64)]
    pub sitting_id: SittingId,
    pub title: String,
    #[serde(with = "crate::timefmt")]
    pub deadline: NaiveDateTime,
    #[serde(with = "crate::timefmt")]
    pub server_time: NaiveDateTime,
    pub submitted: bool,
    pub questions: Vec<QuestionView>,
}

fn truefalse_label(id: char) -> &'static str {
    if id == TRUE_ID {
        "正确"
    } else {
        "错误"
    }
}

/// Builds the candidate's view of their attempt.
pub fn attempt_view(conn: &mut DbConn, cache: &VersionCache, a: &exam_db::Attempt, title: &str, now: Ts) -> AppResult<AttemptView> {
    let paper = paper_of(a)?;
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    let versions = cache.get_many(conn, &ids)?;
    let saved: HashMap<VersionId, exam_db::Response> =
        exam_db::responses_of(conn, a.id)?.into_iter().map(|r| (r.question_version_id, r)).collect();
    let mut questions = Vec::with_capacity(paper.items.len());
    for (n, item) in paper.items.iter().enumerate() {
        let v = versions.get(&item.v).ok_or_else(|| AppError::internal(format!("question version {} missing", item.v)))?;
        let options = match v.kind {
            QuestionKind::TrueFalse => {
                [TRUE_ID, FALSE_ID].iter().map(|id| OptionView { id: id.to_string(), text: truefalse_label(*id).into() }).collect()
            }
            _ => item
                .o
                .chars()
                .filter_map(|id| {
                    let idx = crate::domain::bank::OPTION_LETTERS.find(id)?;
                    Some(OptionView { id: id.to_string(), text: v.options.get(idx)?.clone() })
                })
                .collect(),
        };
        let case = match v.case_id {
            Some(cid) => Some(cache.case(conn, cid)?),
            None => None,
        };
        let r = saved.get(&item.v);
        questions.push(QuestionView {
            id: item.v,
            number: n + 1,
            kind: v.kind,
            stem: v.stem.clone(),
            case_title: case.as_ref().map(|c| c.0.clone()),
            case_text: case.as_ref().map(|c| c.1.clone()),
            points: grading::format_points(item.p),
            options,
            answer: r.map(|r| r.choices.chars().map(|c| c.to_string()).collect()),
            flagged: r.is_some_and(|r| r.flagged),
        });
    }
    Ok(AttemptView {
        attempt_id: a.id,
        sitting_id: a.sitting_id,
        title: title.to_string(),
        deadline: a.deadline,
        server_time: now,
        submitted: a.submitted_at.is_some(),
        questions,
    })
}

/// Loads an attempt for its owner; another candidate's attempt is "not found" to them.
pub fn own_attempt(conn: &mut DbConn, attempt_id: AttemptId, user_id: UserId) -> AppResult<exam_db::Attempt> {
    match exam_db::find_attempt(conn, attempt_id)? {
        Some(a) if a.user_id == user_id => Ok(a),
        _ => Err(AppError::not_found(format!("no attempt {attempt_id} of yours"))),
    }
}

/// Checks a submitted answer against the question: known option ids, one for single/true-false.
pub fn normalise_choices(kind: QuestionKind, option_count: usize, choices: &[String]) -> AppResult<String> {
    let allowed = crate::domain::bank::option_ids(kind, option_count);
    let mut out: Vec<char> = Vec::new();
    for c in choices {
        let mut chars = c.chars();
        match (chars.next(), chars.next()) {
            (Some(ch), None) if allowed.contains(&ch) => {
                if !out.contains(&ch) {
                    out.push(ch)
                }
            }
            _ => return Err(AppError::unprocessable(format!("choices: {c:?} is not an option of this question"))),
        }
    }
    if kind != QuestionKind::Multiple && out.len() > 1 {
        return Err(AppError::unprocessable("choices: this question takes one answer"));
    }
    out.sort_unstable();
    Ok(out.into_iter().collect())
}

/// The unchanging facts of an attempt (owner, paper), from memory or loaded once.
pub fn attempt_meta(conn: &mut DbConn, attempts: &AttemptCache, attempt_id: AttemptId) -> AppResult<Option<Arc<AttemptMeta>>> {
    if let Some(m) = attempts.get(attempt_id) {
        return Ok(Some(m));
    }
    let Some(a) = exam_db::find_attempt(conn, attempt_id)? else { return Ok(None) };
    let s = sitting_of(conn, a.sitting_id)?;
    remember(attempts, &a, controls_of(&s)).map(Some)
}

/// One answer as a candidate sends it.
#[derive(Clone, Copy, Debug)]
pub struct AnswerInput<'a> {
    pub attempt_id: AttemptId,
    pub user_id: UserId,
    pub version_id: VersionId,
    /// Option ids as sent; checked and normalised against the question.
    pub choices: &'a [String],
    /// Marked for review; None keeps the mark as it was.
    pub flagged: Option<bool>,
    pub ip: Option<std::net::IpAddr>,
    pub now: Ts,
}

/// Loads what `checked_save` needs into memory (once per attempt and question).
fn cache_for_save(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempts: &AttemptCache,
    attempt_id: AttemptId,
    version_id: VersionId,
) -> AppResult<()> {
    attempt_meta(conn, attempts, attempt_id)?;
    cache.get_many(conn, &[version_id])?;
    Ok(())
}

/// Checks a save against the attempt's owner and paper, the room's network and the question's
/// options, from memory only; `Ok(None)` means something is not cached yet (`cache_for_save`).
fn checked_save(cache: &VersionCache, attempts: &AttemptCache, a: &AnswerInput<'_>) -> AppResult<Option<Save>> {
    let Some(meta) = attempts.get(a.attempt_id) else { return Ok(None) };
    if meta.user_id != a.user_id {
        return Err(not_yours(a.attempt_id));
    }
    check_room(&meta.room, a.ip)?;
    if !meta.questions.contains(&a.version_id) {
        return Err(AppError::not_found(format!("question {} is not on this paper", a.version_id)));
    }
    let Some(v) = cache.get(a.version_id) else { return Ok(None) };
    let choices = normalise_choices(v.kind, v.options.len(), a.choices)?;
    Ok(Some(Save { attempt_id: a.attempt_id, version_id: a.version_id, choices, flagged: a.flagged, at: a.now }))
}

/// The checked save, loading the attempt and question into memory first if this is their first
/// save since the server started (the only time a save reads the database before the writer).
async fn prepare_save(path: &SavePath<'_>, a: &AnswerInput<'_>) -> AppResult<Save> {
    if let Some(save) = checked_save(path.versions, path.attempts, a)? {
        return Ok(save);
    }
    let (versions, attempts, attempt_id, version_id) = (path.versions.clone(), path.attempts.clone(), a.attempt_id, a.version_id);
    crate::services::blocking(path.pool, move |c| cache_for_save(c, &versions, &attempts, attempt_id, version_id)).await?;
    checked_save(path.versions, path.attempts, a)?.ok_or_else(|| not_yours(a.attempt_id))
}

/// What an answer save goes through: the pool (for a first save's cache fill only), the
/// attempt and version caches, and the group-commit writer.
pub struct SavePath<'a> {
    pub pool: &'a crate::db::Pool,
    pub versions: &'a std::sync::Arc<VersionCache>,
    pub attempts: &'a std::sync::Arc<AttemptCache>,
    pub saves: &'a crate::services::save_writer::SaveWriter,
}

/// Saves one answer through the group-commit writer (the API's path): checked from memory,
/// queued, and acknowledged with its time once the writer's transaction has committed. When the
/// queue is full it is refused at once (503 `overloaded`, `Retry-After`) and nothing is stored.
pub async fn save_answer_grouped(path: SavePath<'_>, a: AnswerInput<'_>, trace: &mut SaveTrace) -> AppResult<Ts> {
    // the route's admission already looked at the queue; a first save fills caches, so look again
    path.saves.check_room()?;
    let save = prepare_save(&path, &a).await?;
    path.saves.save(save, trace).await
}

fn not_yours(attempt_id: AttemptId) -> AppError {
    AppError::not_found(format!("no attempt {attempt_id} of yours"))
}

/// Saves one answer right away on this connection (the pages' form fallback; the API goes
/// through the group-commit writer).
pub fn save_answer(conn: &mut DbConn, cache: &VersionCache, attempts: &AttemptCache, a: AnswerInput<'_>) -> AppResult<Ts> {
    cache_for_save(conn, cache, attempts, a.attempt_id, a.version_id)?;
    let save = checked_save(cache, attempts, &a)?.ok_or_else(|| not_yours(a.attempt_id))?;
    let mut results = write_tx(conn, |c| crate::services::save_writer::store(c, std::slice::from_ref(&save)))?;
    results.pop().expect("one result")
}

/// The outcome of a submission.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitResult {
    #[schema(value_type = i64)]
    pub attempt_id: AttemptId,
    #[serde(with = "crate::timefmt")]
    pub submitted_at: NaiveDateTime,
    /// Score and pass are withheld (null) until the sitting's release policy allows them.
    pub score: Option<String>,
    pub max_score: Option<String>,
    pub passed: Option<bool>,
    pub score_released: bool,
    /// The score on the calibrated scale: ability in logits from the calibrated difficulties of
    /// this paper's items (null until released, or when no item on the paper was calibrated).
    pub scaled: Option<f64>,
    /// How pass or fail was decided: "percent" (per cent of the points) or "scale" (the level's
    /// adopted cut on the calibrated scale); null until released.
    #[schema(value_type = Option<String>)]
    pub pass_rule: Option<PassRule>,
}

/// Grades an attempt's paper from its saved responses, with the keys as adjusted by decided
/// challenges: the one way a score is computed, at submission and at regrading.
pub fn grade_as_saved(
    conn: &mut DbConn,
    attempt_id: AttemptId,
    paper: &crate::domain::paper::Paper,
    versions: &HashMap<VersionId, std::sync::Arc<crate::services::cache::CachedVersion>>,
    adjustments: &HashMap<VersionId, grading::Adjustment>,
    rule: MultiRule,
    pass_percent: i32,
) -> AppResult<grading::Grade> {
    let saved: HashMap<VersionId, String> =
        exam_db::responses_of(conn, attempt_id)?.into_iter().map(|r| (r.question_version_id, r.choices)).collect();
    let items: Vec<grading::ItemToGrade<'_>> = paper
        .items
        .iter()
        .map(|i| {
            let v = &versions[&i.v];
            grading::ItemToGrade {
                kind: v.kind,
                key: &v.key,
                choices: saved.get(&i.v).map(String::as_str),
                points_centi: i.p,
                adjustment: adjustments.get(&i.v),
            }
        })
        .collect();
    Ok(grading::grade(&items, rule, pass_percent))
}

/// Submits and grades an attempt exactly once; later calls return the stored result.
/// `kind` says who handed it in (the candidate, or the server at the deadline or event limit).
pub fn submit(conn: &mut DbConn, cache: &VersionCache, attempt_id: AttemptId, kind: SubmitKind, now: Ts) -> AppResult<exam_db::Attempt> {
    let a = exam_db::find_attempt(conn, attempt_id)?.ok_or_else(|| AppError::not_found("no such attempt"))?;
    if a.submitted_at.is_some() {
        return Ok(a);
    }
    let s = sitting_of(conn, a.sitting_id)?;
    let rule = s.multi_rule;
    let paper = paper_of(&a)?;
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    let versions = cache.get_many(conn, &ids)?;
    // the submission time is never later than the deadline: auto-submission records the deadline
    let at = now.min(a.deadline);
    write_tx(conn, |conn| {
        if !exam_db::claim_submission(conn, a.id, at, kind)? {
            return Ok(()); // someone else submitted first; their grade stands
        }
        // grade exactly what was saved, read inside the same transaction as the claim
        let adjustments = crate::db::models::challenge::adjustments_of(conn, s.id)?;
        let g = grade_as_saved(conn, a.id, &paper, &versions, &adjustments, rule, s.pass_percent)?;
        let scores = g.item_scores.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        // the sitting's rule: per cent of the points, or the adopted cut on the calibrated scale
        let passed = crate::services::scale::decide_and_store(conn, &s, a.id, &paper, &g, at)?;
        exam_db::store_grade(conn, a.id, g.score_centi, g.max_centi, passed, &scores)?;
        // a certificate tells the result: it is issued when the score is released (otherwise
        // when the closed sitting is filed, see `training::file_closed_sittings`)
        if s.cert_level.is_some() && s.score_release == Release::OnSubmit {
            let graded = exam_db::find_attempt(conn, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
            crate::services::certification::issue_for_attempt(conn, &graded, &s, now)?;
        }
        if s.kind == SittingKind::Remedial {
            let graded = exam_db::find_attempt(conn, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))?;
            crate::services::remedial::after_remedial_submit(conn, &graded, &s, now)?;
        }
        Ok::<(), AppError>(())
    })?;
    exam_db::find_attempt(conn, a.id)?.ok_or_else(|| AppError::internal("attempt vanished"))
}

/// What the candidate may be told about a submitted attempt.
pub fn result_for_candidate(
    a: &exam_db::Attempt,
    s: &exam_db::Sitting,
    scaled: Option<&crate::db::models::standards::ScaledScore>,
    now: Ts,
) -> SubmitResult {
    let release = s.score_release;
    let shown = a.submitted_at.is_some() && release.allows(now, true, s.closes_at);
    SubmitResult {
        attempt_id: a.id,
        submitted_at: a.submitted_at.unwrap_or(now),
        score: shown.then(|| grading::format_points(a.score_centi.unwrap_or(0))),
        max_score: shown.then(|| grading::format_points(a.max_centi)),
        passed: if shown { a.passed } else { None },
        score_released: shown,
        scaled: scaled.filter(|_| shown).and_then(|x| x.ability),
        pass_rule: scaled.filter(|_| shown).map(|x| x.rule),
    }
}

/// Whether the candidate may review keys and explanations now.
pub fn answers_released(a: &exam_db::Attempt, s: &exam_db::Sitting, now: Ts) -> bool {
    let release = s.answer_release;
    a.submitted_at.is_some() && release.allows(now, true, s.closes_at)
}

/// One question of a released review: the version as the candidate saw it, with its key, what
/// they chose, the points they got and any challenge they filed on it.
pub struct ReviewItem {
    pub version: Arc<crate::services::cache::CachedVersion>,
    /// The statute's name.
    pub statute: String,
    /// The case group's title and text, for a case question.
    pub case: Option<Arc<(String, String)>>,
    /// The option ids the candidate saved ("" when unanswered).
    pub chosen: String,
    pub points_centi: i64,
    pub max_centi: i64,
    pub challenge: Option<crate::db::models::challenge::Challenge>,
}

/// A candidate's result page: the attempt, its sitting, what they may be told, the scaled score
/// when the score is released, and the review of every question when answers are.
pub struct ResultView {
    pub attempt: exam_db::Attempt,
    pub sitting: exam_db::Sitting,
    pub result: SubmitResult,
    pub scaled: Option<crate::db::models::standards::ScaledScore>,
    pub review: Option<Vec<ReviewItem>>,
}

/// The candidate's own attempt as its result page shows it, submitting it first when its time
/// has run out; `None` while it is still open (the page goes back to the exam). Refused in exam
/// mode for another sitting's attempt (keys and explanations stay closed).
pub fn result_view(
    conn: &mut DbConn,
    versions: &VersionCache,
    attempt_id: AttemptId,
    user_id: UserId,
    now: Ts,
) -> AppResult<Option<ResultView>> {
    let a = own_attempt(conn, attempt_id, user_id)?;
    if a.submitted_at.is_none() && now < a.deadline {
        return Ok(None);
    }
    crate::services::exam_mode::ensure_free(conn, user_id, Some(a.id), now)?;
    let a = if a.submitted_at.is_none() { submit(conn, versions, a.id, SubmitKind::Auto, now)? } else { a };
    let s = sitting_of(conn, a.sitting_id)?;
    let scaled = crate::services::scale::of_attempt(conn, a.id)?;
    let result = result_for_candidate(&a, &s, scaled.as_ref(), now);
    let review = if answers_released(&a, &s, now) { Some(review_of(conn, versions, &a)?) } else { None };
    let scaled = if result.score_released { scaled } else { None };
    Ok(Some(ResultView { attempt: a, sitting: s, result, scaled, review }))
}

fn review_of(conn: &mut DbConn, versions: &VersionCache, a: &exam_db::Attempt) -> AppResult<Vec<ReviewItem>> {
    let paper = paper_of(a)?;
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    let versions_map = versions.get_many(conn, &ids)?;
    let saved = saved_choices(conn, a.id)?;
    let names = crate::services::questions::statute_names(conn)?;
    let scores = a.item_scores_vec();
    let filed = crate::services::challenges::filed_on(conn, a.id)?;
    let mut rows = Vec::with_capacity(paper.items.len());
    for (n, item) in paper.items.iter().enumerate() {
        let v = versions_map[&item.v].clone();
        let case = match v.case_id {
            Some(id) => Some(versions.case(conn, id)?),
            None => None,
        };
        rows.push(ReviewItem {
            statute: names.name(&v.statute).to_string(),
            case,
            chosen: saved.get(&item.v).cloned().unwrap_or_default(),
            points_centi: scores.get(n).copied().unwrap_or(0),
            max_centi: item.p,
            challenge: filed.get(&item.v).cloned(),
            version: v,
        });
    }
    Ok(rows)
}

/// Submits every open attempt whose deadline has passed, grading exactly what was saved.
/// Safe to run on several app servers at once: each attempt is claimed by one.
pub fn submit_overdue(conn: &mut DbConn, cache: &VersionCache, now: Ts) -> AppResult<usize> {
    let mut n = 0;
    loop {
        let ids = exam_db::overdue_attempts(conn, now, 200)?;
        if ids.is_empty() {
            return Ok(n);
        }
        for id in &ids {
            submit(conn, cache, *id, SubmitKind::Auto, now)?;
            n += 1;
        }
    }
}

/// One row of a sitting's results.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ResultRow {
    #[schema(value_type = i64)]
    pub attempt_id: AttemptId,
    pub badge: String,
    pub name: String,
    pub unit: String,
    #[serde(with = "crate::timefmt")]
    pub started_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timefmt::option::serialize")]
    pub submitted_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    pub submit_kind: Option<SubmitKind>,
    pub score: Option<String>,
    pub score_centi: Option<i64>,
    pub max_score: String,
    pub passed: Option<bool>,
    /// Ability in logits on the calibrated scale (see `SubmitResult::scaled`).
    pub scaled: Option<f64>,
    /// "percent" or "scale" (see `SubmitResult::pass_rule`).
    #[schema(value_type = Option<String>)]
    pub pass_rule: Option<PassRule>,
}

/// A sitting's results, optionally only for candidates in the given units (and sub-units).
pub fn results(conn: &mut DbConn, sitting_id: SittingId, only_units: Option<&[UnitId]>) -> AppResult<Vec<ResultRow>> {
    let units = org::all_units(conn)?;
    let names: HashMap<UnitId, String> = units.iter().map(|u| (u.id, u.name.clone())).collect();
    let parents: HashMap<UnitId, Option<UnitId>> = units.iter().map(|u| (u.id, u.parent_id)).collect();
    let attempts = exam_db::attempts_of_sitting(conn, sitting_id)?;
    let ids: Vec<AttemptId> = attempts.iter().map(|(a, ..)| a.id).collect();
    let scaled = crate::services::scale::of_attempts(conn, &ids)?;
    Ok(attempts
        .into_iter()
        .filter(|(_, _, _, unit)| {
            only_units.is_none_or(|allowed| unit_path(*unit, |u| parents.get(&u).copied().flatten()).iter().any(|u| allowed.contains(u)))
        })
        .map(|(a, badge, name, unit)| ResultRow {
            attempt_id: a.id,
            badge,
            name,
            unit: names.get(&unit).cloned().unwrap_or_default(),
            started_at: a.started_at,
            submitted_at: a.submitted_at,
            submit_kind: a.submit_kind,
            score: a.score_centi.map(grading::format_points),
            score_centi: a.score_centi,
            max_score: grading::format_points(a.max_centi),
            passed: a.passed,
            scaled: scaled.get(&a.id).and_then(|x| x.ability),
            pass_rule: scaled.get(&a.id).map(|x| x.rule),
        })
        .collect())
}

/// Whose results a reader sees: leaders their own unit's candidates (and the units under it);
/// trainers, HR and admins everyone's (`None`).
pub fn results_scope(reader: &org::User, roles: &[crate::domain::org::Role]) -> Option<Vec<UnitId>> {
    use crate::domain::org::Role;
    let sees_all = roles.iter().any(|r| matches!(r, Role::Trainer | Role::Hr | Role::Admin));
    (!sees_all).then(|| vec![reader.unit_id])
}

/// A sitting (404 when there is none) and its results within `only_units` (see `results`).
pub fn sitting_results(
    conn: &mut DbConn,
    sitting_id: SittingId,
    only_units: Option<&[UnitId]>,
) -> AppResult<(exam_db::Sitting, Vec<ResultRow>)> {
    let s = sitting(conn, sitting_id)?;
    Ok((s, results(conn, sitting_id, only_units)?))
}

/// Every blueprint, newest first.
pub fn blueprints(conn: &mut DbConn) -> AppResult<Vec<exam_db::Blueprint>> {
    Ok(exam_db::list_blueprints(conn)?)
}

/// Every sitting (latest opening first) with how many attempts it has.
pub fn sittings_with_counts(conn: &mut DbConn) -> AppResult<Vec<(exam_db::Sitting, i64)>> {
    let counts = exam_db::attempt_counts(conn)?;
    Ok(exam_db::list_sittings(conn)?
        .into_iter()
        .map(|s| {
            let n = counts.get(&s.id).copied().unwrap_or(0);
            (s, n)
        })
        .collect())
}

/// The officer's attempts with their sittings, and the scaled scores of those graded.
pub fn history_of(
    conn: &mut DbConn,
    user_id: UserId,
) -> AppResult<(Vec<(exam_db::Attempt, exam_db::Sitting)>, HashMap<AttemptId, crate::db::models::standards::ScaledScore>)> {
    let history = exam_db::attempts_of_user(conn, user_id)?;
    let ids: Vec<AttemptId> = history.iter().map(|(a, _)| a.id).collect();
    let scaled = crate::services::scale::of_attempts(conn, &ids)?;
    Ok((history, scaled))
}

/// The officer's attempt in a sitting, if started.
pub fn attempt_in(conn: &mut DbConn, sitting_id: SittingId, user_id: UserId) -> AppResult<Option<exam_db::Attempt>> {
    Ok(exam_db::find_attempt_for(conn, sitting_id, user_id)?)
}

/// Checks that `attempt_id` is an attempt of the sitting (404 naming both when not).
pub fn check_attempt_in(conn: &mut DbConn, sitting_id: SittingId, attempt_id: AttemptId) -> AppResult<()> {
    match exam_db::find_attempt(conn, attempt_id)? {
        Some(a) if a.sitting_id == sitting_id => Ok(()),
        _ => Err(AppError::not_found(format!("no attempt {attempt_id} in sitting {sitting_id}"))),
    }
}

/// The choices an attempt saved, by question version.
pub fn saved_choices(conn: &mut DbConn, attempt_id: AttemptId) -> AppResult<HashMap<VersionId, String>> {
    Ok(exam_db::responses_of(conn, attempt_id)?.into_iter().map(|r| (r.question_version_id, r.choices)).collect())
}

/// A blueprint by id, if there is one.
pub fn blueprint(conn: &mut DbConn, id: BlueprintId) -> AppResult<Option<exam_db::Blueprint>> {
    Ok(exam_db::find_blueprint(conn, id)?)
}
