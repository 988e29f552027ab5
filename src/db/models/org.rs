use chrono::NaiveDate;
use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{units, user_roles, users};
use crate::db::DbConn;
use crate::domain::ids::{UnitId, UserId};
use crate::domain::org::Role;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = units)]
pub struct Unit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub name: String,
    pub kind: String,
    pub created_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = units)]
pub struct NewUnit<'a> {
    pub parent_id: Option<UnitId>,
    pub name: &'a str,
    pub kind: &'a str,
    pub created_at: Ts,
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub badge: String,
    pub name: String,
    pub unit_id: UnitId,
    pub police_type: String,
    pub post: String,
    pub enforcement_post: bool,
    pub rank: String,
    pub hire_date: NaiveDate,
    pub is_leader: bool,
    pub is_legal_officer: bool,
    pub email: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub active: bool,
    pub created_at: Ts,
    /// 身份证号, where HR has recorded it.
    pub id_number: Option<String>,
    /// Set by an admin's password reset: every page leads to the change-password page until
    /// the account has chosen a password of its own.
    pub must_change_password: bool,
    pub password_changed_at: Option<Ts>,
    /// The language every mail to them is written in (`render::LANGS`): set when they switch
    /// language while signed in, or on their account page.
    #[serde(skip)]
    pub lang: String,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub badge: String,
    pub name: String,
    pub unit_id: UnitId,
    pub police_type: String,
    pub post: String,
    pub enforcement_post: bool,
    pub rank: String,
    pub hire_date: NaiveDate,
    pub is_leader: bool,
    pub is_legal_officer: bool,
    pub email: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub created_at: Ts,
    pub id_number: Option<String>,
}

pub fn insert_unit(conn: &mut DbConn, unit: &NewUnit<'_>) -> QueryResult<UnitId> {
    diesel::insert_into(units::table).values(unit).returning(units::id).get_result(conn)
}

pub fn all_units(conn: &mut DbConn) -> QueryResult<Vec<Unit>> {
    units::table.order(units::id).select(Unit::as_select()).load(conn)
}

pub fn count_users(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Inserts a user with roles; returns the new id.
pub fn insert_user(conn: &mut DbConn, user: &NewUser, roles: &[Role]) -> QueryResult<UserId> {
    let id = diesel::insert_into(users::table).values(user).returning(users::id).get_result(conn)?;
    set_roles(conn, id, roles)?;
    Ok(id)
}

pub fn set_roles(conn: &mut DbConn, user_id: UserId, roles: &[Role]) -> QueryResult<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    for r in roles {
        diesel::insert_into(user_roles::table).values((user_roles::user_id.eq(user_id), user_roles::role.eq(r.as_str()))).execute(conn)?;
    }
    Ok(())
}

pub fn find_by_badge(conn: &mut DbConn, badge: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::badge.eq(badge)).select(User::as_select()).first(conn).optional()
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The account whose badge, compared case-insensitively, is `key` (lower case).
pub fn find_by_badge_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<User>> {
    users::table.filter(lower(users::badge).eq(key)).order(users::id).select(User::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).get_result(conn).optional()
}

pub fn roles_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<Role>> {
    let names: Vec<String> = user_roles::table.filter(user_roles::user_id.eq(user_id)).select(user_roles::role).load(conn)?;
    let mut roles: Vec<Role> = names.iter().filter_map(|n| Role::parse(n)).collect();
    roles.sort();
    Ok(roles)
}

/// Ids of every user holding `role`.
pub fn ids_with_role(conn: &mut DbConn, role: Role) -> QueryResult<Vec<UserId>> {
    user_roles::table.filter(user_roles::role.eq(role.as_str())).select(user_roles::user_id).load(conn)
}

/// Every user with their unit name, for the admin list.
pub fn list_with_units(conn: &mut DbConn) -> QueryResult<Vec<(User, String)>> {
    users::table.inner_join(units::table).order(users::badge).select((User::as_select(), units::name)).load(conn)
}

pub fn badges_in(conn: &mut DbConn, badges: &[String]) -> QueryResult<Vec<String>> {
    users::table.filter(users::badge.eq_any(badges)).select(users::badge).load(conn)
}

pub fn set_password_hash(conn: &mut DbConn, user_id: UserId, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id)).set(users::password_hash.eq(hash)).execute(conn)
}

/// Stores a new password hash; `must_change` marks a one-time password (an admin's reset).
pub fn set_password(conn: &mut DbConn, user_id: UserId, hash: &str, must_change: bool, now: Ts) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::must_change_password.eq(must_change), users::password_changed_at.eq(now)))
        .execute(conn)
}

/// Disables (false) or re-enables (true) an account.
pub fn set_active(conn: &mut DbConn, user_id: UserId, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id)).set(users::active.eq(active)).execute(conn)
}

/// Active accounts holding a role.
pub fn count_active_with_role(conn: &mut DbConn, role: Role) -> QueryResult<i64> {
    users::table
        .inner_join(user_roles::table)
        .filter(users::active.eq(true))
        .filter(user_roles::role.eq(role.as_str()))
        .count()
        .get_result(conn)
}

/// Active accounts holding `role`, by badge.
pub fn active_with_role(conn: &mut DbConn, role: Role) -> QueryResult<Vec<User>> {
    users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq(role.as_str()))
        .filter(users::active.eq(true))
        .order(users::badge)
        .select(User::as_select())
        .load(conn)
}

/// Records the language a user reads (their mails are written in it).
pub fn set_lang(conn: &mut DbConn, user_id: UserId, lang: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id).filter(users::lang.ne(lang))).set(users::lang.eq(lang)).execute(conn)
}

/// Every user's roles (sorted), by user id: one query for a whole list.
pub fn roles_by_user(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<UserId, Vec<Role>>> {
    let rows: Vec<(UserId, String)> = user_roles::table.select((user_roles::user_id, user_roles::role)).load(conn)?;
    let mut out: std::collections::HashMap<UserId, Vec<Role>> = std::collections::HashMap::new();
    for (user, name) in rows {
        if let Some(r) = Role::parse(&name) {
            out.entry(user).or_default().push(r);
        }
    }
    out.values_mut().for_each(|roles| roles.sort());
    Ok(out)
}
