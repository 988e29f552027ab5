//! A bureau's first start: the first administrator (created from the command line) and the
//! demo flag that every app server reads to show the demo banner.

use serde_json::json;

use crate::db::models::{audit, cert as settings_db, org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::accounts::check_new_password;
use crate::domain::ids::UserId;
use crate::domain::org::Role;
use crate::domain::setup::{check_badge, DEMO_PASSWORD};
use crate::error::{AppError, AppResult};
use crate::services::credentials::hash_password;

/// The settings row that marks a database holding the demo bureau (written with the seed).
pub const DEMO_SETTING: &str = "demo_bureau";

/// The unit a first administrator goes into when the database has none and none is named.
pub const DEFAULT_UNIT: &str = "公安局";

/// The name a first administrator gets when none is given.
pub const DEFAULT_NAME: &str = "系统管理员";

/// Whether the database holds the demo bureau, with its public passwords.
pub fn demo_seeded(conn: &mut DbConn) -> AppResult<bool> {
    Ok(settings_db::setting(conn, DEMO_SETTING)?.as_deref() == Some("1"))
}

/// Records, in the seed's transaction, that the database holds the demo bureau.
pub fn mark_demo(conn: &mut DbConn, now: Ts) -> diesel::QueryResult<()> {
    settings_db::put_setting(conn, DEMO_SETTING, "1", None, now)
}

/// The unit offered by default: the first top unit (the bureau), if there is one.
pub fn default_unit(conn: &mut DbConn) -> AppResult<Option<String>> {
    Ok(org::all_units(conn)?.into_iter().find(|u| u.parent_id.is_none()).map(|u| u.name))
}

/// An administrator as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct AdminInput {
    pub badge: String,
    /// Empty: `DEFAULT_NAME`.
    pub name: String,
    /// Empty: the top unit, or a new `DEFAULT_UNIT` in a database without units.
    pub unit: String,
    pub email: String,
    pub password: String,
}

/// What was created.
#[derive(Clone, Debug)]
pub struct CreatedAdmin {
    pub id: UserId,
    pub badge: String,
    pub name: String,
    pub unit: String,
    pub unit_created: bool,
}

/// Whether `password` may be the password of `badge`: the rules of every account (at least
/// ten characters, not the badge, not the demo password); Err says why not.
pub fn password_problems(badge: &str, password: &str) -> Result<(), String> {
    let problems = check_new_password(password, badge, DEMO_PASSWORD);
    if problems.is_empty() {
        return Ok(());
    }
    Err(problems.iter().map(|p| p.message()).collect::<Vec<_>>().join("; "))
}

/// Creates an administrator (the first one of a bureau, or another), audited. The password
/// must pass `domain::accounts::check_new_password`; the badge must be free; a named unit must
/// exist unless the database has no units yet, when it is created as the top unit.
pub fn create_admin(conn: &mut DbConn, input: &AdminInput, now: Ts) -> AppResult<CreatedAdmin> {
    let badge = input.badge.trim().to_string();
    check_badge(&badge).map_err(AppError::unprocessable)?;
    password_problems(&badge, &input.password).map_err(AppError::unprocessable)?;
    let name = match input.name.trim() {
        "" => DEFAULT_NAME.to_string(),
        n if n.chars().count() > 50 => return Err(AppError::unprocessable("name: at most 50 characters")),
        n => n.to_string(),
    };
    let email = input.email.trim();
    if !email.is_empty() && (!email.contains('@') || email.contains(char::is_whitespace) || email.len() > 200) {
        return Err(AppError::unprocessable(format!("e-mail {email:?}: not an e-mail address")));
    }
    let wanted_unit = input.unit.trim().to_string();
    if wanted_unit.chars().count() > 60 {
        return Err(AppError::unprocessable("unit: at most 60 characters"));
    }
    // hashed before the write lock is taken: argon2 takes a while
    let hash = hash_password(&input.password);
    let email = (!email.is_empty()).then(|| email.to_string());
    write_tx(conn, |c| {
        if org::find_by_badge(c, &badge)?.is_some() {
            return Err(AppError::new(crate::error::ErrorCode::BadgeTaken, format!("an account with badge {badge} exists already")));
        }
        let units = org::all_units(c)?;
        let (unit_id, unit, unit_created) = if units.is_empty() {
            let unit = if wanted_unit.is_empty() { DEFAULT_UNIT.to_string() } else { wanted_unit.clone() };
            let id = org::insert_unit(c, &org::NewUnit { parent_id: None, name: &unit, kind: "city", created_at: now })?;
            (id, unit, true)
        } else if wanted_unit.is_empty() {
            let top = units.iter().find(|u| u.parent_id.is_none()).unwrap_or(&units[0]);
            (top.id, top.name.clone(), false)
        } else {
            let u = units.iter().find(|u| u.name == wanted_unit).ok_or_else(|| {
                let tops: Vec<&str> = units.iter().filter(|u| u.parent_id.is_none()).map(|u| u.name.as_str()).collect();
                AppError::unprocessable(format!("unit {wanted_unit:?}: no such unit (the top unit is {})", tops.join(", ")))
            })?;
            (u.id, u.name.clone(), false)
        };
        let user = org::NewUser {
            badge: badge.clone(),
            name: name.clone(),
            unit_id,
            police_type: "综合".into(),
            post: "系统管理员".into(),
            enforcement_post: false,
            rank: String::new(),
            hire_date: crate::timefmt::bureau_date(now),
            is_leader: false,
            is_legal_officer: false,
            email: email.clone(),
            password_hash: hash.clone(),
            active: true,
            created_at: now,
            id_number: None,
        };
        let id = org::insert_user(c, &user, &[Role::Admin])?;
        audit::append(
            c,
            None,
            "account.create_admin",
            &format!("user:{id}"),
            &json!({"badge": badge, "name": name, "unit": unit, "unit_created": unit_created, "via": "command line"}),
            now,
        )?;
        Ok(CreatedAdmin { id, badge: badge.clone(), name: name.clone(), unit, unit_created })
    })
}
