//! Member storage and service functions; every query is scoped.

use crate::platform::{db::Db, error::AppResult, ids::OrgId};

/// Active (or retained) memberships held directly in one org; used by the
/// org tree to refuse closing a union that still has members.
pub async fn active_count_in_org(db: &Db, org: OrgId) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND status <> 'ended'",
    )
    .bind(org.0)
    .fetch_one(db.pool())
    .await?)
}
