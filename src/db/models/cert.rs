//! Certification: rule settings, certificates, post changes and registrations.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{cert_registrations, certificates, post_changes, settings, users};
use crate::db::DbConn;
use crate::domain::bank::Level;
use crate::domain::certification::{CertStatus, RegistrationStatus};
use crate::domain::ids::{AttemptId, CertificateId, PostChangeId, RegistrationId, SittingId, UserId};

pub fn setting(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table.find(key).select(settings::value).get_result(conn).optional()
}

pub fn put_setting(conn: &mut DbConn, key: &str, value: &str, by: Option<UserId>, now: Ts) -> QueryResult<()> {
    diesel::delete(settings::table.find(key)).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value), settings::updated_by.eq(by), settings::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Sets `key` to `value` unless it holds that value already; true when this call changed it.
/// Of several app servers claiming the same value at once (e.g. today's date for a daily job)
/// exactly one gets true: the row is inserted once, and the update is conditional.
pub fn claim_setting(conn: &mut DbConn, key: &str, value: &str, now: Ts) -> QueryResult<bool> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value), settings::updated_by.eq(None::<i64>), settings::updated_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(true);
    }
    let updated = diesel::update(settings::table.find(key).filter(settings::value.ne(value)))
        .set((settings::value.eq(value), settings::updated_by.eq(None::<i64>), settings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(updated == 1)
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = certificates)]
pub struct Certificate {
    pub id: CertificateId,
    pub number: String,
    #[serde(skip)]
    pub verify_code: String,
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub level: Level,
    pub police_type: String,
    pub issued_on: chrono::NaiveDate,
    pub expires_on: chrono::NaiveDate,
    pub attempt_id: Option<AttemptId>,
    pub score_centi: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub status: CertStatus,
    pub ended_on: Option<chrono::NaiveDate>,
    pub warned_at: Option<Ts>,
    pub created_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = certificates)]
pub struct NewCertificate<'a> {
    pub number: &'a str,
    pub verify_code: &'a str,
    pub user_id: UserId,
    pub level: &'a str,
    pub police_type: &'a str,
    pub issued_on: chrono::NaiveDate,
    pub expires_on: chrono::NaiveDate,
    pub attempt_id: Option<AttemptId>,
    pub score_centi: Option<i64>,
    pub status: &'a str,
    pub created_at: Ts,
}

impl<'a> NewCertificate<'a> {
    /// A valid certificate of `level` for `holder`, with the 警种 they hold it in; not from an
    /// exam (set `attempt_id` and `score_centi` for one an exam pass issues).
    pub fn valid(
        number: &'a str,
        verify_code: &'a str,
        holder: &'a super::org::User,
        level: Level,
        issued_on: chrono::NaiveDate,
        expires_on: chrono::NaiveDate,
        now: Ts,
    ) -> NewCertificate<'a> {
        NewCertificate {
            number,
            verify_code,
            user_id: holder.id,
            level: level.as_str(),
            police_type: &holder.police_type,
            issued_on,
            expires_on,
            attempt_id: None,
            score_centi: None,
            status: CertStatus::Valid.as_str(),
            created_at: now,
        }
    }
}

pub fn insert_certificate(conn: &mut DbConn, c: &NewCertificate<'_>) -> QueryResult<CertificateId> {
    diesel::insert_into(certificates::table).values(c).returning(certificates::id).get_result(conn)
}

/// How many certificates have numbers starting with `prefix` (for the next sequence number).
pub fn count_numbered(conn: &mut DbConn, prefix: &str) -> QueryResult<i64> {
    certificates::table.filter(certificates::number.like(format!("{prefix}%"))).count().get_result(conn)
}

pub fn certificates_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<Certificate>> {
    certificates::table
        .filter(certificates::user_id.eq(user_id))
        .order(certificates::issued_on.desc())
        .select(Certificate::as_select())
        .load(conn)
}

pub fn certificate_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<Certificate>> {
    certificates::table.filter(certificates::number.eq(number)).select(Certificate::as_select()).first(conn).optional()
}

pub fn certificate_for_attempt(conn: &mut DbConn, attempt_id: AttemptId) -> QueryResult<Option<Certificate>> {
    certificates::table.filter(certificates::attempt_id.eq(attempt_id)).select(Certificate::as_select()).first(conn).optional()
}

/// Valid certificates with their holders' hire date, post and current enforcement status.
/// A valid certificate's holder and level.
#[derive(Queryable)]
pub struct HeldLevel {
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub level: Level,
}

/// The levels of every valid certificate, by holder, each holder's newest first: one query for
/// a list of officers (what [`certificates_of`] gives one of them, filtered to valid ones).
pub fn valid_levels(conn: &mut DbConn) -> QueryResult<Vec<HeldLevel>> {
    certificates::table
        .filter(certificates::status.eq(CertStatus::Valid.as_str()))
        .order((certificates::user_id, certificates::issued_on.desc(), certificates::id))
        .select((certificates::user_id, certificates::level))
        .load(conn)
}

pub fn valid_certificates(conn: &mut DbConn) -> QueryResult<Vec<Certificate>> {
    certificates::table.filter(certificates::status.eq(CertStatus::Valid.as_str())).select(Certificate::as_select()).load(conn)
}

pub fn end_certificate(conn: &mut DbConn, id: CertificateId, status: &str, on: chrono::NaiveDate) -> QueryResult<bool> {
    let n = diesel::update(certificates::table.find(id).filter(certificates::status.eq(CertStatus::Valid.as_str())))
        .set((certificates::status.eq(status), certificates::ended_on.eq(Some(on))))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the certificate warned unless it is already: true for the one caller that does.
pub fn mark_warned(conn: &mut DbConn, id: CertificateId, now: Ts) -> QueryResult<bool> {
    diesel::update(certificates::table.find(id).filter(certificates::warned_at.is_null()))
        .set(certificates::warned_at.eq(Some(now)))
        .execute(conn)
        .map(|n| n == 1)
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = post_changes)]
pub struct PostChange {
    pub id: PostChangeId,
    pub user_id: UserId,
    pub post: String,
    pub enforcement_post: bool,
    pub effective_on: chrono::NaiveDate,
    pub recorded_by: Option<UserId>,
    pub recorded_at: Ts,
}

pub fn insert_post_change(
    conn: &mut DbConn,
    user_id: UserId,
    post: &str,
    enforcement: bool,
    on: chrono::NaiveDate,
    by: Option<UserId>,
    now: Ts,
) -> QueryResult<()> {
    diesel::insert_into(post_changes::table)
        .values((
            post_changes::user_id.eq(user_id),
            post_changes::post.eq(post),
            post_changes::enforcement_post.eq(enforcement),
            post_changes::effective_on.eq(on),
            post_changes::recorded_by.eq(by),
            post_changes::recorded_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set((users::post.eq(post), users::enforcement_post.eq(enforcement)))
        .execute(conn)
        .map(|_| ())
}

pub fn post_changes_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<PostChange>> {
    post_changes::table
        .filter(post_changes::user_id.eq(user_id))
        .order((post_changes::effective_on, post_changes::id))
        .select(PostChange::as_select())
        .load(conn)
}

/// Every post change, oldest first, for the lapse sweep.
pub fn all_post_changes(conn: &mut DbConn) -> QueryResult<Vec<PostChange>> {
    post_changes::table
        .order((post_changes::user_id, post_changes::effective_on, post_changes::id))
        .select(PostChange::as_select())
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = cert_registrations)]
pub struct Registration {
    pub id: RegistrationId,
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub level: Level,
    #[diesel(deserialize_as = String)]
    pub status: RegistrationStatus,
    pub registered_by: Option<UserId>,
    pub created_at: Ts,
    pub sitting_id: Option<SittingId>,
}

pub fn insert_registration(conn: &mut DbConn, user_id: UserId, level: Level, by: Option<UserId>, now: Ts) -> QueryResult<RegistrationId> {
    diesel::insert_into(cert_registrations::table)
        .values((
            cert_registrations::user_id.eq(user_id),
            cert_registrations::level.eq(level.as_str()),
            cert_registrations::status.eq(RegistrationStatus::Registered.as_str()),
            cert_registrations::registered_by.eq(by),
            cert_registrations::created_at.eq(now),
        ))
        .returning(cert_registrations::id)
        .get_result(conn)
}

/// The open registration of a user for a level (registered, not yet examined).
pub fn open_registration(conn: &mut DbConn, user_id: UserId, level: Level) -> QueryResult<Option<Registration>> {
    cert_registrations::table
        .filter(cert_registrations::user_id.eq(user_id))
        .filter(cert_registrations::level.eq(level.as_str()))
        .filter(cert_registrations::status.eq(RegistrationStatus::Registered.as_str()))
        .select(Registration::as_select())
        .first(conn)
        .optional()
}

pub fn registrations(conn: &mut DbConn, open_only: bool) -> QueryResult<Vec<(Registration, String, String)>> {
    let mut q = cert_registrations::table
        .inner_join(users::table.on(users::id.eq(cert_registrations::user_id)))
        .select((Registration::as_select(), users::badge, users::name))
        .order(cert_registrations::id.desc())
        .into_boxed();
    if open_only {
        q = q.filter(cert_registrations::status.eq(RegistrationStatus::Registered.as_str()));
    }
    q.load(conn)
}

pub fn close_registration(conn: &mut DbConn, id: RegistrationId, status: RegistrationStatus, sitting_id: SittingId) -> QueryResult<()> {
    diesel::update(cert_registrations::table.find(id))
        .set((cert_registrations::status.eq(status.as_str()), cert_registrations::sitting_id.eq(Some(sitting_id))))
        .execute(conn)
        .map(|_| ())
}
