//! The demo's summaries: this year's draft for the city, two counties and
//! one grassroots union, so the pages, the review inbox and the API have
//! something true to show.

use chrono::Datelike;
use platform::{ids::OrgId, web::AppState};

pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let system = platform::tree::system_scope(&st.db).await?;
    let year = platform::time::today().year();
    for code in ["SF", "SF-01", "SF-02", "SF-01-S1-001"] {
        let org: Option<(i64, String)> =
            sqlx::query_as("SELECT id, path FROM orgs WHERE code = $1")
                .bind(code)
                .fetch_optional(st.db.pool())
                .await?;
        let Some((id, path)) = org else { continue };
        let scope = system.narrow(OrgId(id), &path)?;
        match crate::draft::generate(st, &scope, OrgId(id), year).await {
            Ok(_) => {}
            // A demo org without records this year has no summary to write.
            Err(platform::error::AppError::Invalid(_)) => {}
            Err(e) => return Err(anyhow::anyhow!("demo summary for {code}: {e:?}")),
        }
    }
    Ok(())
}
