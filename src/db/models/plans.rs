//! Recurring exam plans.

use diesel::prelude::*;

use super::Ts;
use crate::db::schema::exam_plans;
use crate::db::DbConn;
use crate::domain::exam::Release;
use crate::domain::grading::MultiRule;
use crate::domain::ids::{BlueprintId, ExamPlanId, UserId};

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = exam_plans)]
pub struct ExamPlan {
    pub id: ExamPlanId,
    pub name: String,
    pub blueprint_id: BlueprintId,
    pub eligibility: String,
    /// `domain::plans::Schedule` as JSON.
    pub schedule: String,
    pub duration_minutes: i32,
    pub pass_percent: i32,
    #[diesel(deserialize_as = String)]
    pub multi_rule: MultiRule,
    #[diesel(deserialize_as = String)]
    pub score_release: Release,
    #[diesel(deserialize_as = String)]
    pub answer_release: Release,
    pub last_created: Option<chrono::NaiveDate>,
    pub active: bool,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = exam_plans)]
pub struct NewExamPlan<'a> {
    pub name: &'a str,
    pub blueprint_id: BlueprintId,
    pub eligibility: &'a str,
    pub schedule: &'a str,
    pub duration_minutes: i32,
    pub pass_percent: i32,
    pub multi_rule: &'a str,
    pub score_release: &'a str,
    pub answer_release: &'a str,
    pub active: bool,
    pub created_by: Option<UserId>,
    pub created_at: Ts,
}

pub fn insert(conn: &mut DbConn, p: &NewExamPlan<'_>) -> QueryResult<ExamPlanId> {
    diesel::insert_into(exam_plans::table).values(p).returning(exam_plans::id).get_result(conn)
}

pub fn find_plan(conn: &mut DbConn, id: ExamPlanId) -> QueryResult<Option<ExamPlan>> {
    exam_plans::table.find(id).select(ExamPlan::as_select()).get_result(conn).optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ExamPlan>> {
    exam_plans::table.order(exam_plans::id).select(ExamPlan::as_select()).load(conn)
}

/// Records that the occurrence on `date` has its sitting; false if another server did it first.
pub fn claim_occurrence(
    conn: &mut DbConn,
    id: ExamPlanId,
    previous: Option<chrono::NaiveDate>,
    date: chrono::NaiveDate,
) -> QueryResult<bool> {
    let q = exam_plans::table.find(id);
    let n = match previous {
        Some(p) => diesel::update(q.filter(exam_plans::last_created.eq(p))).set(exam_plans::last_created.eq(Some(date))).execute(conn)?,
        None => diesel::update(q.filter(exam_plans::last_created.is_null())).set(exam_plans::last_created.eq(Some(date))).execute(conn)?,
    };
    Ok(n == 1)
}

pub fn set_active(conn: &mut DbConn, id: ExamPlanId, active: bool) -> QueryResult<()> {
    diesel::update(exam_plans::table.find(id)).set(exam_plans::active.eq(active)).execute(conn).map(|_| ())
}
