//! Storage: one pool over SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! Queries are written once in the portable subset of SQL both backends share
//! (`$1` placeholders work on both, see sqlx PR #789). Backend-specific SQL is
//! confined to this file (the `ID_PK` migration token, the SQLite writer lock)
//! and to measured hot paths in module storage code.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use anyhow::Context;
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, ConnectOptions, Executor, Transaction,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{indicator::Indicator, module::Migration};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The key the platform's own migrations are recorded under.
pub const PLATFORM_KEY: &str = "platform";

/// The platform's migrations: the org tree, accounts, sessions and the audit
/// log; the per-org data versions of the statistics cache; the review chain; attachments; person
/// references; the accounts' forced change and sessions' last activity. Each module brings its own
/// (`Module::migrations`), run after these. The review chain's, attachment and person-reference
/// tables are the platform's because every module shares them.
const PLATFORM_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "platform",
        sql: include_str!("../migrations/0001_platform.sql"),
    },
    Migration {
        version: 2,
        name: "org_data_version",
        sql: include_str!("../migrations/0002_org_data_version.sql"),
    },
    Migration {
        version: 3,
        name: "review",
        sql: include_str!("../migrations/0003_review.sql"),
    },
    Migration {
        version: 4,
        name: "attachments",
        sql: include_str!("../migrations/0004_attachments.sql"),
    },
    Migration {
        version: 5,
        name: "person_refs",
        sql: include_str!("../migrations/0005_person_refs.sql"),
    },
    Migration {
        version: 6,
        name: "accounts",
        sql: include_str!("../migrations/0006_accounts.sql"),
    },
    Migration {
        version: 7,
        name: "audit_format",
        sql: include_str!("../migrations/0007_audit_format.sql"),
    },
];

/// Databases made before migrations were kept per module recorded one
/// global sequence in `schema_migrations`; this says what each number was.
const LEGACY_VERSIONS: &[(i64, &str, i64, &str)] = &[
    (1, PLATFORM_KEY, 1, "platform"),
    (2, "members", 1, "members"),
    (3, "reports", 1, "manual_values"),
    (4, PLATFORM_KEY, 2, "org_data_version"),
];

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; serialising writers in-process avoids
    /// SQLITE_BUSY on deferred transactions that upgrade to writes.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The SQLite database file, for writers that open their own connection
    /// (the bulk import, `members::sqlite_bulk`); None for PostgreSQL and
    /// in-memory databases.
    sqlite_file: Option<PathBuf>,
    /// Per-org statistics values, valid while the org's data version is
    /// unchanged (`platform::dataver`); shared by every clone of this `Db`.
    org_cache: Arc<crate::dataver::OrgCache>,
    /// Point reads on the caller's thread (`InlineReads`), on an SQLite file.
    inline: Option<Arc<InlineReads>>,
    /// Pool connections given back so far: moves after every write through
    /// the pool (and every read). What the session cache
    /// (`auth::SessionCache`) is checked against.
    pool_uses: Arc<AtomicU64>,
    /// Sessions resolved on an SQLite file (see `auth::SessionCache`).
    sessions: Arc<crate::auth::SessionCache>,
    /// The indicators of the modules this database was opened with (set by
    /// `platform::open` from the registry): what the figures engine computes.
    catalogue: Arc<[Indicator]>,
}

/// Point reads that run on the caller's own thread through SQLite's API.
///
/// Through the pool every statement is a hand-off to the connection's sqlx
/// worker thread and back: two wake-ups and thread switches, more than a
/// read by a unique key on a small table costs. The session lookup before
/// every signed-in request is such a read (BENCHMARKS.md, redemption under
/// load), so it runs here, inline, on a connection taken from a small idle
/// list. Only short reads belong here: the caller's async worker waits for
/// them. Each statement sees the latest commit, as on the pool.
pub struct InlineReads {
    file: PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// Idle connections kept; more are opened while more readers are at work.
const INLINE_IDLE: usize = 4;

impl InlineReads {
    fn new(file: PathBuf) -> InlineReads {
        InlineReads {
            file,
            idle: Default::default(),
        }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A small page cache: these reads touch few pages, and a commit
        // elsewhere empties the cache (its cost grows with the cache).
        conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -2048")?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (opening one if none is idle).
    /// Statements are numbered with `?N` (see [`sqlite_numbered`]).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, anyhow::Error> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open().context("inline SQLite reader")?,
        };
        let out = f(&conn).context("inline SQLite read");
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < INLINE_IDLE {
            idle.push(conn);
        }
        out
    }
}

/// Portable SQL (`$N` parameters) for SQLite's own API: `?N` binds the N-th
/// value wherever it stands, where `$N` would be a name numbered by its
/// first use. For our own statements, which have no `$` in literals.
pub fn sqlite_numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A write transaction; on SQLite it also holds the writer lock.
pub struct WriteTx {
    pub tx: Transaction<'static, sqlx::Any>,
    _guard: Option<OwnedMutexGuard<()>>,
    pool_uses: Arc<AtomicU64>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let done = self.tx.commit().await;
        // Counted before the caller goes on: what was read before this
        // commit is stale from here (`Db::pool_uses`); the count when
        // the connection comes back runs on a task of its own, later.
        self.pool_uses.fetch_add(1, Ordering::AcqRel);
        done
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}
impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Db {
    /// Opens (creating if needed) the database: the SQLite file in `data_dir`
    /// unless `url` names a PostgreSQL database. Runs the migrations.
    pub async fn open(
        data_dir: &Path,
        url: Option<&str>,
        modules: &[(&'static str, Migration)],
    ) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend, sqlite_file) = match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (u.to_string(), Backend::Postgres, None)
            }
            Some(u) if u.starts_with("sqlite:") => {
                let file = sqlx::sqlite::SqliteConnectOptions::from_str(u)?
                    .get_filename()
                    .to_path_buf();
                let on_disk = !file.as_os_str().is_empty()
                    && !file.to_string_lossy().starts_with(':')
                    && !file.to_string_lossy().starts_with("file:");
                (u.to_string(), Backend::Sqlite, on_disk.then_some(file))
            }
            Some(_) => anyhow::bail!(
                "数据库地址不受支持: 请使用 postgres://… 或 sqlite:… / unsupported database URL: use postgres://… or sqlite:…"
            ),
            None => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating data dir {}", data_dir.display()))?;
                let file = data_dir.join("gonghui.db");
                (
                    format!("sqlite://{}?mode=rwc", file.display()),
                    Backend::Sqlite,
                    Some(file),
                )
            }
        };
        let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let max = if backend == Backend::Sqlite { 8 } else { 16 };
        let pool_uses = Arc::new(AtomicU64::new(0));
        let (on_connect, on_acquire, on_release) =
            (pool_uses.clone(), pool_uses.clone(), pool_uses.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // A connection is counted as used when it is handed out (new or
            // idle: before any statement on it) and again when it comes
            // back (after its work, a commit included). `WriteTx::commit`
            // counts too, before its caller goes on.
            .before_acquire(move |_, _| {
                on_acquire.fetch_add(1, Ordering::AcqRel);
                Box::pin(std::future::ready(Ok(true)))
            })
            .after_release(move |_, _| {
                on_release.fetch_add(1, Ordering::AcqRel);
                Box::pin(std::future::ready(Ok(true)))
            })
            .after_connect(move |conn, _| {
                on_connect.fetch_add(1, Ordering::AcqRel);
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // A 64 MB page cache (allocated only as used) and
                        // in-memory statement journals: bulk imports spilled
                        // pages and wrote sub-journals to disk otherwise.
                        conn.execute("PRAGMA cache_size = -65536").await?;
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .context("连接数据库失败 / cannot connect to the database")?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let db = Db {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            inline: sqlite_file
                .as_ref()
                .map(|f| Arc::new(InlineReads::new(f.clone()))),
            sqlite_file,
            org_cache: Default::default(),
            pool_uses,
            sessions: Default::default(),
            catalogue: Arc::from(Vec::new()),
        };
        db.migrate(modules).await?;
        Ok(db)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Every indicator of the registered modules, in section order.
    pub fn catalogue(&self) -> &[Indicator] {
        &self.catalogue
    }

    /// One indicator by code, or a refusal saying where the codes are.
    pub fn indicator(&self, code: &str) -> crate::error::AppResult<Indicator> {
        crate::indicator::find(&self.catalogue, code)
    }

    pub(crate) fn set_catalogue(&mut self, catalogue: Vec<Indicator>) {
        self.catalogue = Arc::from(catalogue);
    }

    /// The per-org statistics cache (see `platform::dataver`).
    pub fn org_cache(&self) -> &crate::dataver::OrgCache {
        &self.org_cache
    }

    /// A write transaction. On SQLite it holds the in-process writer lock
    /// and begins IMMEDIATE, taking SQLite's write lock at once: a
    /// transaction dropped on an error path releases the writer lock while
    /// its rollback is still queued on its connection, and a deferred
    /// transaction that had read first could not wait for that (SQLite
    /// refuses to upgrade a read to a write while another connection holds
    /// the write lock: "database is locked" at once, without the busy
    /// timeout); BEGIN IMMEDIATE waits for it under busy_timeout.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let guard = self.write_guard().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _guard: guard,
            pool_uses: self.pool_uses.clone(),
        })
    }

    /// The in-process SQLite writer lock, for a writer on its own connection
    /// (hold it for the whole transaction); None on PostgreSQL.
    pub async fn write_guard(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(l) => Some(l.clone().lock_owned().await),
            None => None,
        }
    }

    /// [`Db::write_guard`] for a writer on a thread of its own (outside the
    /// async runtime, where it may block).
    pub fn write_guard_blocking(&self) -> Option<OwnedMutexGuard<()>> {
        self.write_lock
            .as_ref()
            .map(|l| l.clone().blocking_lock_owned())
    }

    /// Moves whenever a pool connection is handed out or given back and
    /// when a write transaction commits: a value read before a read still
    /// holds afterwards only if no write through the pool began or
    /// committed meanwhile (a plain statement on the pool, outside
    /// `begin_write`, is counted only once its connection is back, on a
    /// task of sqlx's own). Writers on connections of their own (the
    /// counter writer, the bulk import) do not move it.
    pub(crate) fn pool_uses(&self) -> u64 {
        self.pool_uses.load(Ordering::Acquire)
    }

    pub(crate) fn sessions(&self) -> &crate::auth::SessionCache {
        &self.sessions
    }

    /// Point reads on the caller's thread, when the database is an SQLite
    /// file (None: use the pool).
    pub fn inline_reads(&self) -> Option<&InlineReads> {
        self.inline.as_deref()
    }

    /// The SQLite database file, when there is one.
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// Rewrites the portable migration text for this backend.
    ///
    /// `RESEED_ID(table)` (a statement of its own) moves a table's id
    /// sequence past the ids a rebuild copied in: PostgreSQL's identity does
    /// not advance for explicit ids; SQLite takes the next id from the rows.
    fn dialect(&self, sql: &str) -> String {
        let sql = match self.backend {
            Backend::Sqlite => sql
                .replace("ID_PK", "INTEGER PRIMARY KEY")
                .replace(" PATTERN_OPS", ""),
            Backend::Postgres => sql
                .replace(
                    "ID_PK",
                    "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                )
                .replace("PATTERN_OPS", "text_pattern_ops"),
        };
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql.as_str();
        while let Some(i) = rest.find("RESEED_ID(") {
            out.push_str(&rest[..i]);
            let after = &rest[i + "RESEED_ID(".len()..];
            let end = after.find(')').expect("RESEED_ID(table)");
            let table = after[..end].trim();
            match self.backend {
                Backend::Sqlite => out.push_str("SELECT 1"),
                Backend::Postgres => out.push_str(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Applies the platform's migrations, then each module's in registry
    /// order, each in its own transaction, recorded as (module, version).
    pub async fn migrate(&self, modules: &[(&'static str, Migration)]) -> anyhow::Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS module_migrations (module TEXT NOT NULL, version BIGINT NOT NULL, \
             name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))",
        )
        .execute(&self.pool)
        .await?;
        self.adopt_legacy_migrations().await?;
        let all = PLATFORM_MIGRATIONS
            .iter()
            .map(|m| (PLATFORM_KEY, *m))
            .chain(modules.iter().copied());
        for (module, m) in all {
            let mut tx = self.begin_write().await?;
            let done: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM module_migrations WHERE module = $1 AND version = $2",
            )
            .bind(module)
            .bind(m.version)
            .fetch_optional(&mut *tx.tx)
            .await?;
            if done.is_some() {
                continue;
            }
            for stmt in split_statements(&self.dialect(m.sql)) {
                sqlx::query(&stmt)
                    .execute(&mut *tx.tx)
                    .await
                    .with_context(|| {
                        format!("migration {module} {} {}: {stmt}", m.version, m.name)
                    })?;
            }
            sqlx::query(
                "INSERT INTO module_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(module)
            .bind(m.version)
            .bind(m.name)
            .bind(crate::time::now_rfc3339())
            .execute(&mut *tx.tx)
            .await?;
            tx.commit().await?;
            tracing::info!(
                module,
                version = m.version,
                name = m.name,
                "migration applied"
            );
        }
        Ok(())
    }

    /// Runs the keyed migrations not yet recorded (`module::KeyedMigration`),
    /// each with its record in one transaction.
    pub async fn migrate_keyed(
        &self,
        keys: &crate::crypto::Keys,
        list: &[(&'static str, crate::module::KeyedMigration)],
    ) -> anyhow::Result<()> {
        for (module, m) in list {
            let key = format!("{module}+keyed");
            let mut tx = self.begin_write().await?;
            let done: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM module_migrations WHERE module = $1 AND version = $2",
            )
            .bind(&key)
            .bind(m.version)
            .fetch_optional(&mut *tx.tx)
            .await?;
            if done.is_some() {
                continue;
            }
            (m.run)(&mut tx.tx, keys)
                .await
                .with_context(|| format!("keyed migration {key} {} {}", m.version, m.name))?;
            sqlx::query(
                "INSERT INTO module_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&key)
            .bind(m.version)
            .bind(m.name)
            .bind(crate::time::now_rfc3339())
            .execute(&mut *tx.tx)
            .await?;
            tx.commit().await?;
            tracing::info!(
                module = key,
                version = m.version,
                name = m.name,
                "keyed migration applied"
            );
        }
        Ok(())
    }

    /// A database made when migrations were one global sequence: records
    /// what was applied under the module keys, in one transaction, and drops
    /// the old table, so its schema and rows are kept as they are.
    async fn adopt_legacy_migrations(&self) -> anyhow::Result<()> {
        let exists_sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            }
        };
        let n: i64 = sqlx::query_scalar(&format!("SELECT CAST(({exists_sql}) AS BIGINT)"))
            .fetch_one(&self.pool)
            .await?;
        if n == 0 {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, applied_at FROM schema_migrations ORDER BY version")
                .fetch_all(&mut *tx.tx)
                .await?;
        for (old, at) in applied {
            let Some((_, module, version, name)) = LEGACY_VERSIONS.iter().find(|(v, ..)| *v == old)
            else {
                anyhow::bail!(
                    "数据库的迁移版本 {old} 未知,请使用更新版本的程序 / unknown migration version {old}: this database was made by a newer Gonghui"
                );
            };
            sqlx::query(
                "INSERT INTO module_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(*module)
            .bind(*version)
            .bind(*name)
            .bind(at)
            .execute(&mut *tx.tx)
            .await?;
        }
        sqlx::query("DROP TABLE schema_migrations")
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        tracing::info!("migration records moved to module_migrations");
        Ok(())
    }

    /// A consistent online copy of the database into `to`: SQLite's
    /// `VACUUM INTO` on SQLite; for PostgreSQL use pg_dump.
    pub async fn backup(&self, to: &Path) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => {
                if to.exists() {
                    anyhow::bail!(
                        "目标文件已存在: {} / the target file already exists; choose a new name",
                        to.display()
                    );
                }
                let path = to.display().to_string().replace('\'', "''");
                sqlx::query(&format!("VACUUM INTO '{path}'")).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => anyhow::bail!(
                "PostgreSQL 请使用 pg_dump 备份 / for PostgreSQL use pg_dump (it gives a consistent online copy)"
            ),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Db {
    /// The operator for an index-friendly prefix match of a text column:
    /// SQLite only uses an index for GLOB (LIKE is case-insensitive there),
    /// PostgreSQL for LIKE with a text_pattern_ops index.
    pub fn prefix_op(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "GLOB",
            Backend::Postgres => "LIKE",
        }
    }

    /// The pattern matching values that start with `s`, for [`Db::prefix_op`].
    pub fn prefix_pattern(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        for c in s.chars() {
            match (self.backend, c) {
                (Backend::Sqlite, '*' | '?' | '[') => {
                    out.push('[');
                    out.push(c);
                    out.push(']');
                }
                (Backend::Postgres, '%' | '_' | '\\') => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        out.push(if self.backend == Backend::Sqlite {
            '*'
        } else {
            '%'
        });
        out
    }
}

/// Splits a migration file on `;` at line ends, dropping comment-only chunks.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if trimmed.ends_with(';') {
            let s = cur.trim().trim_end_matches(';').to_string();
            if !s.is_empty() {
                out.push(s);
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_keep_their_numbers_wherever_they_stand() {
        assert_eq!(
            sqlite_numbered("SELECT (SELECT $2) AS a FROM t WHERE id = $1 AND x = '$'"),
            "SELECT (SELECT ?2) AS a FROM t WHERE id = ?1 AND x = '$'"
        );
        assert_eq!(sqlite_numbered("$10, $1"), "?10, ?1");
    }

    #[tokio::test]
    async fn reseed_becomes_setval_on_postgres_and_nothing_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None, &[]).await.unwrap();
        assert_eq!(db.dialect("RESEED_ID(t);"), "SELECT 1;");
        let pg = Db {
            backend: Backend::Postgres,
            ..db.clone()
        };
        let s = pg.dialect("RESEED_ID(transfers);");
        assert!(
            s.starts_with("SELECT setval(pg_get_serial_sequence('transfers', 'id')"),
            "{s}"
        );
    }

    /// The load test of redemption (bench/redeem_load.sh) saw 9 of 4,000
    /// racing redemptions answered 500 "database is locked": a transaction
    /// dropped on a refusal released the writer lock while its rollback was
    /// still queued, and the next one, deferred, had read before writing.
    /// Here another connection holds SQLite's write lock for 300 ms; a
    /// write transaction that reads first must wait for it, not fail.
    #[tokio::test]
    async fn a_write_transaction_waits_for_a_write_lock_still_held_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None, &[]).await.unwrap();
        sqlx::query("CREATE TABLE t (n BIGINT NOT NULL)")
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (0)")
            .execute(db.pool())
            .await
            .unwrap();
        let mut other = db.pool().acquire().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *other)
            .await
            .unwrap();
        sqlx::query("UPDATE t SET n = n + 100")
            .execute(&mut *other)
            .await
            .unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            sqlx::query("ROLLBACK").execute(&mut *other).await.unwrap();
        });
        let mut tx = db.begin_write().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT n FROM t")
            .fetch_one(&mut *tx.tx)
            .await
            .unwrap();
        sqlx::query("UPDATE t SET n = $1")
            .bind(n + 1)
            .execute(&mut *tx.tx)
            .await
            .expect("the write waits for the lock instead of failing");
        tx.commit().await.unwrap();
        release.await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT n FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn splits_statements_and_skips_comments() {
        let s = split_statements("-- c\nCREATE TABLE a (x BIGINT);\n\nINSERT INTO a VALUES (1);\n");
        assert_eq!(
            s,
            vec!["CREATE TABLE a (x BIGINT)", "INSERT INTO a VALUES (1)"]
        );
    }
}
