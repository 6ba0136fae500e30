//! Test support shared by unit tests, integration tests and benchmarks:
//! a fresh database per test — SQLite in a temp dir by default, or a new
//! PostgreSQL database when `GONGHUI_TEST_DATABASE_URL` is set — and the
//! real server started on port 0.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use sqlx::{AnyConnection, Connection, Executor};
use tokio::sync::oneshot;

use crate::platform::{
    config::{Config, Secret},
    web::AppState,
};

/// A fresh, migrated platform. Keeps its temp dir alive.
pub struct TestEnv {
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl TestEnv {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Creates an empty database on the configured backend and returns its URL
/// (None for the SQLite default in the data dir).
pub async fn fresh_database_url() -> anyhow::Result<Option<String>> {
    let Ok(admin) = std::env::var("GONGHUI_TEST_DATABASE_URL") else {
        return Ok(None);
    };
    if admin.trim().is_empty() {
        return Ok(None);
    }
    sqlx::any::install_default_drivers();
    let token = crate::platform::crypto::random_token()
        .to_ascii_lowercase()
        .replace(['-', '_'], "");
    let name = format!("gh_test_{}", &token[..16]);
    let mut conn = AnyConnection::connect(&admin).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    conn.close().await?;
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (admin.clone(), String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => base[..i].to_string(),
        _ => base,
    };
    Ok(Some(format!("{base}/{name}{query}")))
}

pub async fn env() -> anyhow::Result<TestEnv> {
    let dir = tempfile::tempdir()?;
    let database_url = fresh_database_url().await?;
    open_env(dir, database_url).await
}

async fn open_env(dir: tempfile::TempDir, database_url: Option<String>) -> anyhow::Result<TestEnv> {
    let cfg = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone().map(Secret::new),
        master_key: Some(Secret::new("42".repeat(32))),
        log: "warn".into(),
        // Tests count cache misses; the background watch would add its own.
        stats_watch_secs: 0,
        ..Config::default()
    };
    let state = crate::platform::open(cfg).await?;
    Ok(TestEnv {
        state,
        dir,
        database_url,
    })
}

/// Where the once-per-process seeded demo lives.
enum Template {
    /// The SQLite file of a seeded demo.
    Sqlite(PathBuf),
    /// (admin URL, template database name) on PostgreSQL.
    Postgres(String, String),
}

static DEMO: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
static DEMO_ORGS: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();

async fn demo_template(with_members: bool) -> anyhow::Result<&'static Template> {
    let cell = if with_members { &DEMO } else { &DEMO_ORGS };
    cell.get_or_try_init(|| async {
        let env = env().await?;
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
                let name = url
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                Template::Postgres(admin, name)
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
            None
        }
        Template::Postgres(admin, template) => {
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
    open_env(dir, url).await
}

/// The real server on an ephemeral port; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub env: TestEnv,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(env: TestEnv) -> anyhow::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let state = env.state.clone();
        tokio::spawn(async move {
            let _ = crate::platform::web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        Ok(TestServer {
            addr,
            env,
            stop: Some(tx),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn state(&self) -> &AppState {
        &self.env.state
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Shared handle type for tests that need the keys directly.
pub type Keys = Arc<crate::platform::crypto::Keys>;
