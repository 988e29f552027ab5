//! Promotion rules and API tokens.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::{api_tokens, promotion_rules};
use crate::db::DbConn;
use crate::domain::ids::{RuleId, TokenId, UserId};

/// A promotion rule.
///
/// Also the API's `RuleOut` (its JSON and OpenAPI schema): who last changed it stays out.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = promotion_rules)]
#[schema(as = RuleOut, description = "A promotion rule.")]
pub struct StoredRule {
    #[schema(value_type = i64)]
    pub id: RuleId,
    pub name: String,
    /// The post or grade promoted to.
    pub target: String,
    /// `basic`, `intermediate` or `advanced`; null: no certificate needed.
    pub min_level: Option<String>,
    pub no_open_remedial: bool,
    pub no_failed_bimonthly_months: Option<i32>,
    pub cert_valid_on_date: bool,
    /// In use (offered for checks).
    pub active: bool,
    #[serde(skip)]
    pub updated_by: Option<UserId>,
    #[serde(with = "crate::timefmt")]
    pub updated_at: chrono::NaiveDateTime,
}

impl StoredRule {
    pub fn rule(&self) -> crate::domain::promotion::PromotionRule {
        crate::domain::promotion::PromotionRule {
            name: self.name.clone(),
            target: self.target.clone(),
            min_level: self.min_level.as_deref().and_then(crate::domain::bank::Level::parse),
            no_open_remedial: self.no_open_remedial,
            no_failed_bimonthly_months: self.no_failed_bimonthly_months,
            cert_valid_on_date: self.cert_valid_on_date,
        }
    }
}

pub fn rules(conn: &mut DbConn) -> QueryResult<Vec<StoredRule>> {
    promotion_rules::table.order(promotion_rules::id).select(StoredRule::as_select()).load(conn)
}

pub fn find_rule(conn: &mut DbConn, id: RuleId) -> QueryResult<Option<StoredRule>> {
    promotion_rules::table.find(id).select(StoredRule::as_select()).get_result(conn).optional()
}

/// Inserts (id None) or updates a rule; returns its id.
pub fn save_rule(
    conn: &mut DbConn,
    id: Option<RuleId>,
    r: &crate::domain::promotion::PromotionRule,
    active: bool,
    by: UserId,
    now: Ts,
) -> QueryResult<RuleId> {
    let values = (
        promotion_rules::name.eq(r.name.trim()),
        promotion_rules::target.eq(r.target.trim()),
        promotion_rules::min_level.eq(r.min_level.map(|l| l.as_str())),
        promotion_rules::no_open_remedial.eq(r.no_open_remedial),
        promotion_rules::no_failed_bimonthly_months.eq(r.no_failed_bimonthly_months),
        promotion_rules::cert_valid_on_date.eq(r.cert_valid_on_date),
        promotion_rules::active.eq(active),
        promotion_rules::updated_by.eq(by),
        promotion_rules::updated_at.eq(now),
    );
    match id {
        Some(id) => diesel::update(promotion_rules::table.find(id)).set(values).execute(conn).map(|_| id),
        None => diesel::insert_into(promotion_rules::table).values(values).returning(promotion_rules::id).get_result(conn),
    }
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    pub role: String,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub revoked_at: Option<Ts>,
    pub last_used_at: Option<Ts>,
}

pub fn insert_token(conn: &mut DbConn, name: &str, hash: &str, role: &str, by: UserId, now: Ts, expires: Ts) -> QueryResult<TokenId> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(hash),
            api_tokens::role.eq(role),
            api_tokens::created_by.eq(by),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(expires),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
}

pub fn token_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.filter(api_tokens::token_hash.eq(hash)).select(ApiToken::as_select()).first(conn).optional()
}

pub fn tokens(conn: &mut DbConn) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table.order(api_tokens::id.desc()).select(ApiToken::as_select()).load(conn)
}

pub fn revoke_token(conn: &mut DbConn, id: TokenId, now: Ts) -> QueryResult<bool> {
    diesel::update(api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn touch_token(conn: &mut DbConn, id: TokenId, now: Ts) -> QueryResult<()> {
    diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(now)).execute(conn).map(|_| ())
}
