//! Accounts: creating one, and importing officers from CSV (all-or-nothing, with row errors).

use chrono::NaiveDate;
use rand::Rng;
use serde::Deserialize;

use serde_json::json;

/// Accounts and units as the pages read them.
pub use crate::db::models::org::{Unit, User};
use crate::db::models::{org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::ids::{UnitId, UserId};
use crate::domain::org::Role;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::render::say;
use crate::services::credentials::hash_password;

/// An account as entered by an admin (form or CSV row), before validation.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AccountInput {
    pub badge: String,
    pub name: String,
    pub unit: String,
    pub police_type: String,
    #[serde(default)]
    pub post: String,
    #[serde(default)]
    pub enforcement_post: String,
    #[serde(default)]
    pub rank: String,
    pub hire_date: String,
    #[serde(default)]
    pub is_leader: String,
    #[serde(default)]
    pub is_legal_officer: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub roles: String,
    #[serde(default)]
    pub password: String,
}

fn yes(s: &str, lang: &str) -> Result<bool, String> {
    match s.trim() {
        "" | "0" | "no" | "false" | "否" | "N" | "n" => Ok(false),
        "1" | "yes" | "true" | "是" | "Y" | "y" => Ok(true),
        other => Err(say(lang, "people.yes_no", &json!({"v": format!("{other:?}")}))),
    }
}

/// A validated account ready to insert, with the password to hand over if one was generated.
pub struct ValidAccount {
    pub user: org::NewUser,
    pub roles: Vec<Role>,
    pub generated_password: Option<String>,
    /// The password to hash (generated or given); `user.password_hash` is empty until
    /// [`hash_all`] (or [`validate`]) fills it.
    password: String,
}

/// Generates an initial password that is easy to read out.
pub fn initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Checks one account against the units; returns every problem in the row (in English).
pub fn validate(input: &AccountInput, units: &[org::Unit], now: Ts) -> Result<ValidAccount, Vec<String>> {
    validate_in(input, units, "en", now)
}

/// [`validate`], each problem said in `lang` (`field "value": problem`, the field's name first).
pub fn validate_in(input: &AccountInput, units: &[org::Unit], lang: &str, now: Ts) -> Result<ValidAccount, Vec<String>> {
    let mut v = check_in(input, units, lang, now)?;
    v.user.password_hash = hash_password(&v.password);
    Ok(v)
}

/// Checks one account against the units without hashing its password (the costly part, left
/// to [`hash_all`]); every problem in the row, said in `lang`.
pub fn check_in(input: &AccountInput, units: &[org::Unit], lang: &str, now: Ts) -> Result<ValidAccount, Vec<String>> {
    check_fields(input, units, lang, now).map_err(|errs| errs.into_iter().map(|e| e.message).collect())
}

/// [`check_in`] with each problem tied to its form field (`badge`, `hire_date`, ...), so the
/// new-account form shows it beside the field.
fn check_fields(input: &AccountInput, units: &[org::Unit], lang: &str, now: Ts) -> Result<ValidAccount, Vec<FieldError>> {
    let mut errs: Vec<FieldError> = Vec::new();
    let mut push = |field: &str, message: String| errs.push(FieldError::new(field, message));
    let badge = input.badge.trim();
    if badge.is_empty() || badge.len() > 32 || !badge.chars().all(|c| c.is_ascii_alphanumeric()) {
        push("badge", say(lang, "people.badge_format", &json!({"v": format!("{badge:?}")})));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        push("name", say(lang, "people.name_required", &json!({})));
    }
    let unit = units.iter().find(|u| u.name == input.unit.trim());
    if unit.is_none() {
        push("unit", say(lang, "people.unit_unknown", &json!({"v": format!("{:?}", input.unit.trim())})));
    }
    if input.police_type.trim().is_empty() {
        push("police_type", say(lang, "people.police_type_required", &json!({})));
    }
    let hire = NaiveDate::parse_from_str(input.hire_date.trim(), "%Y-%m-%d");
    if hire.is_err() {
        push("hire_date", say(lang, "people.hire_date_format", &json!({"v": format!("{:?}", input.hire_date.trim())})));
    }
    let mut flags = [false; 3];
    for (i, (label, v)) in
        [("enforcement_post", &input.enforcement_post), ("is_leader", &input.is_leader), ("is_legal_officer", &input.is_legal_officer)]
            .iter()
            .enumerate()
    {
        match yes(v, lang) {
            Ok(b) => flags[i] = b,
            Err(e) => push(label, format!("{}{e}", say(lang, &format!("people.col_{label}"), &json!({})))),
        }
    }
    let email = input.email.trim();
    if !email.is_empty() && (!email.contains('@') || email.contains(char::is_whitespace) || email.len() > 200) {
        push("email", say(lang, "people.email_format", &json!({"v": format!("{email:?}")})));
    }
    let mut roles = Vec::new();
    let role_text = if input.roles.trim().is_empty() { "officer" } else { input.roles.trim() };
    for r in role_text.split([',', ';', ' ', '|']).filter(|s| !s.is_empty()) {
        match Role::parse(r) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => push("roles", say(lang, "people.role_unknown", &json!({"v": format!("{r:?}")}))),
        }
    }
    let password = input.password.trim();
    if !password.is_empty() && password.chars().count() < 10 {
        push("password", say(lang, "people.password_short", &json!({})));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let generated = password.is_empty().then(initial_password);
    let plain = generated.clone().unwrap_or_else(|| password.to_string());
    Ok(ValidAccount {
        user: org::NewUser {
            badge: badge.to_string(),
            name: name.to_string(),
            unit_id: unit.expect("checked").id,
            police_type: input.police_type.trim().to_string(),
            post: input.post.trim().to_string(),
            enforcement_post: flags[0],
            rank: input.rank.trim().to_string(),
            hire_date: hire.expect("checked"),
            is_leader: flags[1],
            is_legal_officer: flags[2],
            email: (!email.is_empty()).then(|| email.to_string()),
            password_hash: String::new(),
            active: true,
            created_at: now,
            id_number: None,
        },
        roles,
        generated_password: generated,
        password: plain,
    })
}

/// Creates one account (problems said in English: the command line and tests).
pub fn create_account(conn: &mut DbConn, input: &AccountInput, by: Option<UserId>, now: Ts) -> AppResult<(UserId, Option<String>)> {
    create_account_in(conn, input, "en", by, now)
}

/// Creates one account; each problem is tied to its field and said in `lang` (the new-account
/// form's reader's).
pub fn create_account_in(
    conn: &mut DbConn,
    input: &AccountInput,
    lang: &str,
    by: Option<UserId>,
    now: Ts,
) -> AppResult<(UserId, Option<String>)> {
    let units = org::all_units(conn)?;
    let mut v = check_fields(input, &units, lang, now).map_err(AppError::invalid)?;
    if org::find_by_badge(conn, &v.user.badge)?.is_some() {
        return Err(AppError::new(crate::error::ErrorCode::Duplicate, format!("badge {}: an account with this 警号 exists", v.user.badge))
            .localized("people.badge_exists", json!({"badge": v.user.badge})));
    }
    v.user.password_hash = hash_password(&v.password);
    let id = write_tx(conn, |conn| {
        let id = org::insert_user(conn, &v.user, &v.roles)?;
        audit_created(conn, id, &v, "form", by, now)?;
        Ok::<UserId, AppError>(id)
    })?;
    Ok((id, v.generated_password))
}

/// The CSV columns of an officer import (header row required).
pub const CSV_COLUMNS: &str =
    "badge,name,unit,police_type,post,enforcement_post,rank,hire_date,is_leader,is_legal_officer,email,roles,password";

/// Result of a CSV import: nothing is stored unless `errors` is empty.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    /// (badge, name, generated password if any)
    pub created: Vec<(String, String, Option<String>)>,
    /// "row N: message", N counting the header as row 1
    pub errors: Vec<String>,
}

/// One data row of an officer CSV: its row number (the header is row 1) and the account it
/// holds, or why it cannot be read.
pub type CsvRow = (usize, Result<AccountInput, String>);

/// Reads an officer CSV without the database: the header (Excel's UTF-8 BOM allowed, required
/// columns present), then every data row. `Err` holds the header's problems (`row 1: …`). Split
/// out of [`import_csv`] so the parsing can be fuzzed on its own (`fuzz/`, FUZZING.md).
pub fn read_csv(data: &[u8]) -> Result<Vec<CsvRow>, Vec<String>> {
    read_csv_in(data, "en")
}

/// [`read_csv`] with the header's problems said in `lang`.
pub fn read_csv_in(data: &[u8], lang: &str) -> Result<Vec<CsvRow>, Vec<String>> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data); // Excel's UTF-8 BOM
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(data);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![format!("{}{}", row_label(lang, 1), say(lang, "people.header_unreadable", &json!({"e": e.to_string()})))])
        }
    };
    let missing: Vec<String> = ["badge", "name", "unit", "police_type", "hire_date"]
        .into_iter()
        .filter(|required| !headers.iter().any(|h| h == *required))
        .map(|required| {
            format!(
                "{}{}",
                row_label(lang, 1),
                say(lang, "people.missing_column", &json!({"column": format!("{required:?}"), "columns": CSV_COLUMNS}))
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(reader.deserialize::<AccountInput>().enumerate().map(|(i, rec)| (i + 2, rec.map_err(|e| e.to_string()))).collect())
}

/// "row N: " in `lang` (第 N 行：).
fn row_label(lang: &str, row: usize) -> String {
    say(lang, "people.row", &json!({"row": row}))
}

/// Checks an officer CSV against the database without hashing: every row's problems
/// (`row N: …`, the header is row 1; said in `lang`), repeated badges, badges that already have
/// an account. `Ok` holds every row ready to hash and store; `Err` every problem (nothing may be
/// stored).
pub fn check_csv(conn: &mut DbConn, data: &[u8], lang: &str, now: Ts) -> AppResult<Result<Vec<(usize, ValidAccount)>, Vec<String>>> {
    let units = org::all_units(conn)?;
    let rows = match read_csv_in(data, lang) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (row, rec) in rows {
        match rec {
            Err(e) => errors.push(format!("{}{}", row_label(lang, row), say(lang, "people.row_unreadable", &json!({"e": e})))),
            Ok(input) => {
                if let Some(first) = seen.insert(input.badge.trim().to_string(), row) {
                    errors.push(format!(
                        "{}{}",
                        row_label(lang, row),
                        say(lang, "people.badge_repeats", &json!({"badge": input.badge.trim(), "first": first}))
                    ));
                    continue;
                }
                match check_in(&input, &units, lang, now) {
                    Ok(v) => valid.push((row, v)),
                    Err(errs) => errors.extend(errs.into_iter().map(|e| format!("{}{e}", row_label(lang, row)))),
                }
            }
        }
    }
    let badges: Vec<String> = valid.iter().map(|(_, v)| v.user.badge.clone()).collect();
    for existing in org::badges_in(conn, &badges)? {
        let row = valid.iter().find(|(_, v)| v.user.badge == existing).map(|(r, _)| *r).unwrap_or(0);
        errors.push(format!("{}{}", row_label(lang, row), say(lang, "people.badge_exists", &json!({"badge": existing}))));
    }
    if valid.is_empty() && errors.is_empty() {
        errors.push(say(lang, "people.no_rows", &json!({})));
    }
    Ok(if errors.is_empty() { Ok(valid) } else { Err(errors) })
}

/// Hashes every account's password, spread over the machine's cores but one, left for serving
/// exams ([`hash_threads`]; scoped std threads, one contiguous share each: argon2 is CPU-bound
/// and the shares cost the same), counting each
/// finished row in `done` so a caller on another thread can report progress.
pub fn hash_all(valid: &mut [(usize, ValidAccount)], done: &std::sync::atomic::AtomicUsize) {
    if valid.is_empty() {
        return;
    }
    let threads = hash_threads(valid.len());
    let share = valid.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for chunk in valid.chunks_mut(share) {
            scope.spawn(move || {
                for (_, v) in chunk {
                    v.user.password_hash = hash_password(&v.password);
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
}

/// `LAWCERT_JOB_THREADS` as the server read it at start; 0: not set.
static JOB_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Sets the number of hashing threads (`LAWCERT_JOB_THREADS`; None: the rule's default).
pub fn set_job_threads(threads: Option<usize>) {
    JOB_THREADS.store(threads.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
}

/// The threads [`hash_all`] uses for `rows` rows on this machine: every core but one unless
/// `LAWCERT_JOB_THREADS` says otherwise (`domain::jobs::hash_threads`).
pub fn hash_threads(rows: usize) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let setting = match JOB_THREADS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    };
    crate::domain::jobs::hash_threads(cores, setting, rows)
}

/// Stores checked and hashed accounts in one transaction with an audit entry each, then runs
/// `then` in the same transaction (the job runner marks its job done there); an error from any
/// of it rolls everything back. Returns (badge, name, generated password) per account.
pub fn store_all(
    conn: &mut DbConn,
    valid: Vec<(usize, ValidAccount)>,
    by: Option<UserId>,
    now: Ts,
    then: impl FnOnce(&mut DbConn, &[(String, String, Option<String>)]) -> AppResult<()>,
) -> AppResult<Vec<(String, String, Option<String>)>> {
    debug_assert!(valid.iter().all(|(_, v)| !v.user.password_hash.is_empty()), "hash_all first");
    let created: Vec<(String, String, Option<String>)> =
        valid.iter().map(|(_, v)| (v.user.badge.clone(), v.user.name.clone(), v.generated_password.clone())).collect();
    write_tx(conn, |conn| {
        for (row, v) in &valid {
            let id = org::insert_user(conn, &v.user, &v.roles).map_err(|e| {
                use diesel::result::{DatabaseErrorKind, Error};
                let (code, what) = match e {
                    Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        (ErrorCode::BadgeTaken, "an account with this 警号 exists".to_string())
                    }
                    e => (ErrorCode::Internal, format!("not stored: {e}")),
                };
                AppError::new(code, format!("row {row}: badge {}: {what}", v.user.badge))
            })?;
            audit_created(conn, id, v, "import", by, now)?;
        }
        then(conn, &created)
    })?;
    Ok(created)
}

/// Imports officers from CSV in this call (the command line and tests; the admin page queues
/// a job instead, `services::jobs`). All rows are checked first; any error stores nothing. The
/// errors are said in `lang` (the reader's).
pub fn import_csv(conn: &mut DbConn, data: &[u8], lang: &str, by: Option<UserId>, now: Ts) -> AppResult<ImportOutcome> {
    let mut valid = match check_csv(conn, data, lang, now)? {
        Ok(valid) => valid,
        Err(errors) => return Ok(ImportOutcome { created: Vec::new(), errors }),
    };
    hash_all(&mut valid, &std::sync::atomic::AtomicUsize::new(0));
    let created = store_all(conn, valid, by, now, |_, _| Ok(()))?;
    Ok(ImportOutcome { created, errors: Vec::new() })
}

/// Accounts and the roles they are given are part of the audit trail (who may grade, who may
/// read files): every creation is appended with its roles.
fn audit_created(conn: &mut DbConn, id: UserId, v: &ValidAccount, via: &str, by: Option<UserId>, now: Ts) -> AppResult<()> {
    let roles: Vec<&str> = v.roles.iter().map(|r| r.as_str()).collect();
    crate::db::models::audit::append(
        conn,
        by,
        "user.create",
        &format!("user:{id}"),
        &serde_json::json!({"badge": v.user.badge, "name": v.user.name, "unit_id": v.user.unit_id, "roles": roles, "via": via}),
        now,
    )?;
    Ok(())
}

// ---- reading people and units ----

/// Every unit, in the order they were made.
pub fn units(conn: &mut DbConn) -> AppResult<Vec<org::Unit>> {
    Ok(org::all_units(conn)?)
}

/// A unit's name ("" for none).
pub fn unit_name(conn: &mut DbConn, unit_id: UnitId) -> AppResult<String> {
    Ok(org::all_units(conn)?.into_iter().find(|x| x.id == unit_id).map(|x| x.name).unwrap_or_default())
}

/// An account by id; 404 `no such officer` when there is none.
pub fn officer(conn: &mut DbConn, id: UserId) -> AppResult<org::User> {
    org::find(conn, id)?.ok_or_else(|| AppError::not_found("no such officer"))
}

/// Every account with its unit's name, by badge.
pub fn with_units(conn: &mut DbConn) -> AppResult<Vec<(org::User, String)>> {
    Ok(org::list_with_units(conn)?)
}

/// The unit tree, read once: which units lie under which.
pub struct UnitTree(std::collections::HashMap<UnitId, Option<UnitId>>);

impl UnitTree {
    pub fn load(conn: &mut DbConn) -> AppResult<UnitTree> {
        Ok(UnitTree(org::all_units(conn)?.into_iter().map(|u| (u.id, u.parent_id)).collect()))
    }

    /// Whether `unit` is `ancestor` or lies under it.
    pub fn is_under(&self, unit: UnitId, ancestor: UnitId) -> bool {
        crate::domain::org::unit_path(unit, |u| self.0.get(&u).copied().flatten()).contains(&ancestor)
    }
}

/// The ids of the accounts in `unit` and the units under it (everyone's for `None`).
pub fn members_under(conn: &mut DbConn, unit: Option<UnitId>) -> AppResult<Vec<UserId>> {
    let tree = UnitTree::load(conn)?;
    Ok(org::list_with_units(conn)?
        .into_iter()
        .filter(|(o, _)| unit.is_none_or(|m| tree.is_under(o.unit_id, m)))
        .map(|(o, _)| o.id)
        .collect())
}
