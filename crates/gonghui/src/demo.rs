//! The demo federation (示范市总工会): every module seeds its own demo records
//! (`Module::seed_demo`, in registry order: the org tree and accounts first).
//! Generated from a fixed seed so tests and screenshots can rely on it;
//! re-running refreshes it (nothing duplicated, demo passwords reset).

pub use members::demo::DEMO_MEMBERS;
pub use orgs::demo::{grassroots_codes, seed_orgs_and_accounts, DEMO_PASSWORD, SEED};
use platform::{auth, web::AppState};

/// Seeds (or refreshes) the demo; returns (username, org, role) of its logins.
pub async fn seed(st: &AppState) -> anyhow::Result<Vec<(String, String, String)>> {
    for m in st.registry.modules() {
        if let Some(seed) = m.seed_demo {
            seed(st)
                .await
                .map_err(|e| e.context(format!("demo data of module {}", m.key)))?;
        }
    }
    let scope = platform::tree::system_scope(&st.db).await?;
    Ok(auth::list_users(&st.db, &scope)
        .await?
        .into_iter()
        .map(|u| (u.username, u.org_name, u.role))
        .collect())
}
