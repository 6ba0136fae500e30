//! Test environments with the demo federation: the demo is seeded once per
//! test process and backend, then copied for each test (a file copy on
//! SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), so every test starts
//! from the same state in milliseconds.

use std::{path::PathBuf, sync::Arc};

use platform::module::Registry;

use sqlx::{AnyConnection, Connection, Executor};

pub use platform::testing::{
    env, fresh_database_url, open_env, rechain_unkeyed, TestEnv, TestServer,
};

/// Where the once-per-process seeded demo lives.
enum Template {
    /// The SQLite file of a seeded demo.
    Sqlite(PathBuf),
    /// (admin URL, template database name, the seeding's data directory)
    /// on PostgreSQL.
    Postgres(String, String, PathBuf),
}

static DEMO: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
static DEMO_ORGS: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();

async fn demo_template(with_members: bool) -> anyhow::Result<&'static Template> {
    let cell = if with_members { &DEMO } else { &DEMO_ORGS };
    cell.get_or_try_init(|| async {
        let env = env(crate::modules::registry()).await?;
        if with_members {
            crate::demo::seed(&env.state).await?;
        } else {
            crate::demo::seed_orgs_and_accounts(&env.state).await?;
        }
        let t = match &env.database_url {
            None => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(env.state.db.pool())
                    .await?;
                env.state.db.close().await;
                let path = env.dir.path().join("gonghui.db");
                // The template outlives this call: keep its directory.
                let _ = env.dir.keep();
                Template::Sqlite(path)
            }
            Some(url) => {
                env.state.db.close().await;
                let admin = std::env::var("GONGHUI_TEST_DATABASE_URL")?;
                // Its attached files (blobs) are copied with the database.
                let data = env.dir.path().to_path_buf();
                let _ = env.dir.keep();
                let name = url
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                Template::Postgres(admin, name, data)
            }
        };
        Ok(t)
    })
    .await
}

/// A fresh environment with the demo dataset loaded: a copy of a demo
/// seeded once per test process, so each test starts from the same state.
pub async fn demo_env() -> anyhow::Result<TestEnv> {
    clone_demo(true).await
}

/// The demo's org tree and accounts without members, for tests that insert
/// and count their own members.
pub async fn demo_orgs_env() -> anyhow::Result<TestEnv> {
    clone_demo(false).await
}

async fn clone_demo(with_members: bool) -> anyhow::Result<TestEnv> {
    let dir = tempfile::tempdir()?;
    let url = match demo_template(with_members).await? {
        Template::Sqlite(path) => {
            std::fs::copy(path, dir.path().join("gonghui.db"))?;
            if let Some(data) = path.parent() {
                copy_blobs(data, dir.path())?;
            }
            None
        }
        Template::Postgres(admin, template, data) => {
            copy_blobs(data, dir.path())?;
            let fresh = fresh_database_url().await?.expect("postgres configured");
            let name = fresh
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut conn = AnyConnection::connect(admin).await?;
            conn.execute(format!("DROP DATABASE {name}").as_str())
                .await?;
            conn.execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
                .await?;
            conn.close().await?;
            Some(fresh)
        }
    };
    open_env(dir, url, crate::modules::registry()).await
}

/// The demo's attachment blobs (`<data>/attachments`), copied so the
/// copied database's attachment rows find their files.
fn copy_blobs(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            let target = to.join(e.file_name());
            if e.file_type()?.is_dir() {
                copy_dir(&e.path(), &target)?;
            } else {
                std::fs::copy(e.path(), target)?;
            }
        }
        Ok(())
    }
    let blobs = from.join("attachments");
    if blobs.is_dir() {
        copy_dir(&blobs, &to.join("attachments"))?;
    }
    Ok(())
}

/// Closes the environment's database and opens its data again with
/// `registry`, as a restart of the server — or a newer binary — would.
pub async fn reopen(env: TestEnv, registry: Arc<Registry>) -> anyhow::Result<TestEnv> {
    let TestEnv {
        state,
        dir,
        database_url,
    } = env;
    state.db.close().await;
    drop(state);
    open_env(dir, database_url, registry).await
}
