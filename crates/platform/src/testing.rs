//! Test support shared by unit tests, integration tests and benchmarks: a
//! fresh database per test — SQLite in a temp dir by default, or a new
//! PostgreSQL database when `GONGHUI_TEST_DATABASE_URL` is set — and the
//! real server started on port 0. The demo-seeded environments are in the
//! binary crate's `testing`, which knows the modules.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use sqlx::{AnyConnection, Connection, Executor};
use tokio::sync::oneshot;

use crate::{
    config::{Config, Secret},
    module::Registry,
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

const TEST_DB_PREFIX: &str = "gh_test_";
/// Databases of earlier test runs are dropped after this long (a test
/// running longer would lose its database; the longest runs about a
/// minute). Kept short: a thousand leftovers made the cluster's crash
/// recovery take over ten minutes.
const KEEP_TEST_DB_SECS: u64 = 20 * 60;
static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Drops the test databases earlier runs left behind (each test gets its
/// own, and a test cannot drop it while its pools live): those created more
/// than [`KEEP_TEST_DB_SECS`] ago, and those named before the creation time
/// was in the name. One still in use is left (DROP without FORCE fails);
/// failures are ignored — the sweep is housekeeping, not the test.
async fn sweep_old_databases(conn: &mut AnyConnection, now: u64) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'gh\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(n) => n,
        Err(_) => return,
    };
    for name in names {
        let rest = &name[TEST_DB_PREFIX.len()..];
        let created = rest
            .split_once('_')
            .and_then(|(t, _)| t.parse::<u64>().ok());
        let old = created.is_none_or(|t| now.saturating_sub(t) > KEEP_TEST_DB_SECS);
        let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if old && plain {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await;
        }
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
    let token = crate::crypto::random_token()
        .to_ascii_lowercase()
        .replace(['-', '_'], "");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // The creation time is in the name, so a later run can tell what is old.
    let name = format!("{TEST_DB_PREFIX}{now}_{}", &token[..12]);
    let mut conn = AnyConnection::connect(&admin).await?;
    if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        sweep_old_databases(&mut conn, now).await;
    }
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

/// A fresh, empty, migrated database with these modules.
pub async fn env(registry: Arc<Registry>) -> anyhow::Result<TestEnv> {
    let dir = tempfile::tempdir()?;
    let database_url = fresh_database_url().await?;
    open_env(dir, database_url, registry).await
}

/// Opens the platform on `dir` (and the PostgreSQL database, if any) as a
/// test would: a fixed master key, no background watch or collector.
pub async fn open_env(
    dir: tempfile::TempDir,
    database_url: Option<String>,
    registry: Arc<Registry>,
) -> anyhow::Result<TestEnv> {
    let cfg = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone().map(Secret::new),
        master_key: Some(Secret::new("42".repeat(32))),
        log: "warn".into(),
        // Tests count cache misses; the background watch would add its own.
        stats_watch_secs: 0,
        // Tests drive the attachment orphan collector themselves.
        attachment_gc_hours: 0,
        ..Config::default()
    };
    let state = crate::open(cfg, registry).await?;
    Ok(TestEnv {
        state,
        dir,
        database_url,
    })
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
            let _ = crate::web::serve(listener, state, async {
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
pub type Keys = Arc<crate::crypto::Keys>;

/// What someone with write access to the database but without the master
/// key can do to the audit chain: recompute every hash from `from_seq` on
/// with plain SHA-256 (the pre-migration-7 scheme). With `mark_legacy` the
/// head also says the chain is in that old format — a database as an older
/// binary left it.
pub async fn rechain_unkeyed(
    db: &crate::db::Db,
    from_seq: i64,
    mark_legacy: bool,
) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    crate::audit::rechain(&mut tx, &crate::audit::Chain::Legacy, from_seq).await?;
    if mark_legacy {
        sqlx::query("UPDATE audit_head SET format = $1 WHERE id = 1")
            .bind(crate::audit::FORMAT_LEGACY)
            .execute(&mut *tx.tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
