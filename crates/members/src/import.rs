//! Roster import from .xlsx, .xls and .csv (UTF-8 or GBK).
//!
//! A reader thread parses and validates rows (ID check, encryption, pinyin)
//! and hands batches to the writer. Rejected rows come back with their
//! reason, ready to fix and re-import; re-importing the same file changes
//! nothing (rows are compared by a hash of every field).
//!
//! How the writer commits:
//!
//! - **Default, SQLite: in chunks** ([`Chunking`]: [`CHUNK_ROWS`] rows or
//!   [`CHUNK_MILLIS`] ms, whichever first). Each chunk is one transaction
//!   that writes its rows, bumps the data versions of the orgs it touched
//!   and records the job's counts so far; between chunks the database and
//!   the in-process writer lock are free, so sign-ins (a session row, audit
//!   entries) and audited reads wait at most one chunk instead of the whole
//!   file. A crash or kill mid-way leaves the chunks committed so far — a
//!   consistent roster whose job row says how far it got; the job shows as
//!   partially imported (`partial`), and importing the same file again
//!   finishes it (the rows already applied come out unchanged). A large
//!   import drops the random-key search indexes for its length and rebuilds
//!   them at its end (or the next server start rebuilds them):
//!   `sqlite_bulk`.
//! - **`all_or_nothing`, and PostgreSQL: one transaction.** A crash or kill
//!   leaves the roster exactly as it was, and with `all_or_nothing` the
//!   transaction is rolled back if any row is rejected. On SQLite this holds
//!   the writer for the whole file: sign-ins and every other write wait for
//!   it (about 25 s for 1,000,000 rows). PostgreSQL has no single writer —
//!   the import's row locks are on rows a sign-in never touches — so its
//!   import stays one transaction in every mode.

use std::{
    collections::{BTreeSet, HashMap},
    io::Read,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde::Serialize;
use sqlx::Row;
use tokio::sync::mpsc;

use super::{
    model::{RawMember, COLUMNS},
    sqlite_bulk::{SqliteBulk, DEFER_MIN_ROWS},
    store::{self, Counts, Outcome, Prepared, Unions},
};
use platform::{
    audit::{self, Event},
    crypto::Keys,
    dataver,
    db::{Db, WriteTx},
    error::{AppError, AppResult},
    i18n::Msg,
    jobs::Progress,
    scope::{Perm, Scope},
    time,
    web::AppState,
};
use sheet::{self, CellOut, HeaderMap, SheetError, SheetOut};

/// Rows per write batch.
const BATCH: usize = 2000;
/// Workbooks are read whole; beyond this use CSV.
pub const MAX_WORKBOOK_ROWS: usize = 300_000;
/// CSV is streamed; this bounds a single import.
pub const MAX_CSV_ROWS: usize = 5_000_000;

/// Rows per chunk of a default SQLite import: ten write batches.
pub const CHUNK_ROWS: u64 = 20_000;
/// A chunk also ends once its transaction has been open this long. This is
/// the bound that ends nearly every chunk of a large import (8,000–16,000
/// rows per chunk measured for 1,000,000 rows, the commit adding
/// ~170 ms): a sign-in waits for about one chunk and its commit (p50
/// 0.39 s during a 1,000,000-row import, against the whole import's 32–43 s
/// before), while the per-chunk costs (a cold page cache after other
/// writers, the job row, the data versions, the commit and WAL checkpoint)
/// keep the import at 36.5 s instead of 32 s. Shorter chunks would multiply
/// those costs; longer ones lengthen every wait
/// (BENCHMARKS.md, "Sign-ins during a large roster import").
pub const CHUNK_MILLIS: u64 = 200;

/// How a default (not all-or-nothing) SQLite import commits, per server
/// instance ([`chunking`]). `rows == 0` means one transaction for the whole
/// file (the behaviour before chunks, for comparison). Read from
/// `GONGHUI_IMPORT_CHUNK_ROWS` / `GONGHUI_IMPORT_CHUNK_MS` when set (the
/// benchmark); tests call [`Chunking::set`].
#[derive(Debug)]
pub struct Chunking {
    rows: AtomicU64,
    millis: AtomicU64,
    /// Pause between chunks, without any lock (tests: a slow import).
    pause_millis: AtomicU64,
    /// Large imports drop the random-key indexes for their length
    /// (`sqlite_bulk::SqliteBulk::defer_indexes`); false keeps them live.
    defer: std::sync::atomic::AtomicBool,
    /// From how many rows an import defers them (tests lower it).
    defer_min_rows: AtomicU64,
}

impl Chunking {
    fn from_env() -> Chunking {
        let var = |k: &str, d: u64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(d)
        };
        Chunking {
            rows: AtomicU64::new(var("GONGHUI_IMPORT_CHUNK_ROWS", CHUNK_ROWS)),
            millis: AtomicU64::new(var("GONGHUI_IMPORT_CHUNK_MS", CHUNK_MILLIS)),
            pause_millis: AtomicU64::new(0),
            defer: std::sync::atomic::AtomicBool::new(var("GONGHUI_IMPORT_CHUNK_DEFER", 1) != 0),
            defer_min_rows: AtomicU64::new(DEFER_MIN_ROWS),
        }
    }

    /// Rows and milliseconds per chunk (`rows == 0`: one transaction).
    pub fn set(&self, rows: u64, millis: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        self.millis.store(millis, Ordering::Relaxed);
    }

    /// A pause after each chunk, holding no lock (tests); on PostgreSQL,
    /// after each batch of the one transaction.
    #[doc(hidden)]
    pub fn set_pause(&self, millis: u64) {
        self.pause_millis.store(millis, Ordering::Relaxed);
    }

    /// Whether large chunked imports defer the random-key indexes.
    pub fn set_defer(&self, defer: bool) {
        self.defer.store(defer, Ordering::Relaxed);
    }

    /// The size from which imports defer indexes (tests: small imports).
    #[doc(hidden)]
    pub fn set_defer_min_rows(&self, rows: u64) {
        self.defer_min_rows.store(rows, Ordering::Relaxed);
    }

    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn millis(&self) -> u64 {
        self.millis.load(Ordering::Relaxed)
    }
}

/// The chunking of imports run by this instance.
pub fn chunking(st: &AppState) -> Arc<Chunking> {
    st.instance.get_or_init(Chunking::from_env)
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Union for rows that leave 所属工会编码 empty.
    pub org_code: Option<String>,
    pub all_or_nothing: bool,
    pub file_name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reject {
    pub line: usize,
    pub cells: Vec<String>,
    pub reason: Msg,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub job_id: i64,
    pub counts: Counts,
    pub total: u64,
    /// False when all-or-nothing rolled the import back.
    pub committed: bool,
    pub rejects: Vec<Reject>,
}

fn sheet_err(e: SheetError) -> AppError {
    let (zh, en) = e.message();
    AppError::Invalid(Msg::new(zh, en))
}

fn header_spec() -> Vec<(&'static str, &'static [&'static str], bool)> {
    COLUMNS.to_vec()
}

/// Parsed/validated batches, or rejects, flowing from the reader thread.
enum Item {
    Total(u64),
    Batch(Vec<Prepared>, Vec<Reject>),
}

fn to_raw(map: &HeaderMap, row: &sheet::Row) -> RawMember {
    let mut raw = RawMember::default();
    for (key, _, _) in COLUMNS {
        if map.has(key) {
            raw.set(key, map.get(row, key));
        }
    }
    raw
}

/// Validates rows into batches; runs on a plain thread (CPU-bound).
struct Validator {
    keys: Arc<Keys>,
    rule: crate::vocab::RetirementRule,
    seen: HashMap<String, usize>,
    batch: Vec<Prepared>,
    rejects: Vec<Reject>,
    tx: mpsc::Sender<Item>,
}

impl Validator {
    fn push(&mut self, line: usize, raw: RawMember) -> bool {
        match store::prepare(&self.keys, line, &raw, &self.rule) {
            Ok(p) => match self.seen.get(&p.sealed.id_hash) {
                Some(first) => self.rejects.push(Reject {
                    line,
                    cells: raw.cells(),
                    reason: Msg::new(
                        format!("证件号码与本文件第{first}行重复,请删除重复行"),
                        format!("Same ID number as row {first} of this file; remove the duplicate"),
                    ),
                }),
                None => {
                    self.seen.insert(p.sealed.id_hash.clone(), line);
                    self.batch.push(p);
                }
            },
            Err(reason) => self.rejects.push(Reject {
                line,
                cells: raw.cells(),
                reason,
            }),
        }
        if self.batch.len() >= BATCH {
            return self.flush();
        }
        true
    }
    fn flush(&mut self) -> bool {
        let b = std::mem::take(&mut self.batch);
        let r = std::mem::take(&mut self.rejects);
        if b.is_empty() && r.is_empty() {
            return true;
        }
        self.tx.blocking_send(Item::Batch(b, r)).is_ok()
    }
}

/// Reads the file and feeds validated batches to `tx`. Errors that stop
/// the whole file (not a spreadsheet, missing columns…) are returned.
fn read_file(path: &Path, mut v: Validator) -> AppResult<()> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    // Sniff on a window large enough for the encoding check (a few bytes
    // could end inside a multi-byte character).
    let mut head = Vec::with_capacity(sheet::SNIFF_LEN + 1);
    (&mut f)
        .take(sheet::SNIFF_LEN as u64 + 1)
        .read_to_end(&mut head)
        .map_err(anyhow::Error::from)?;
    if head.is_empty() {
        return Err(sheet_err(SheetError::Empty));
    }
    let format = sheet::detect_format(&head).map_err(sheet_err)?;
    match format {
        sheet::Format::Csv => {
            // Count lines for the progress bar (a cheap pass over the bytes).
            let bytes_total = count_lines(path)?;
            let _ =
                v.tx.blocking_send(Item::Total(bytes_total.saturating_sub(1)));
            let f = std::fs::File::open(path).map_err(anyhow::Error::from)?;
            let mut rows = sheet::CsvRows::new(std::io::BufReader::with_capacity(1 << 20, f))
                .map_err(sheet_err)?;
            let map = HeaderMap::new(rows.headers(), &header_spec()).map_err(sheet_err)?;
            let mut count = 0usize;
            for row in rows.by_ref() {
                let row = row.map_err(sheet_err)?;
                count += 1;
                if count > MAX_CSV_ROWS {
                    return Err(sheet_err(SheetError::TooLarge {
                        limit: MAX_CSV_ROWS,
                    }));
                }
                if !v.push(row.line, to_raw(&map, &row)) {
                    return Ok(());
                }
            }
            if count == 0 {
                return Err(sheet_err(SheetError::Empty));
            }
        }
        sheet::Format::Xlsx | sheet::Format::Xls => {
            let bytes = std::fs::read(path).map_err(anyhow::Error::from)?;
            let table = sheet::read_table(&bytes, MAX_WORKBOOK_ROWS).map_err(sheet_err)?;
            let map = HeaderMap::new(&table.headers, &header_spec()).map_err(sheet_err)?;
            let _ = v.tx.blocking_send(Item::Total(table.rows.len() as u64));
            for row in &table.rows {
                if !v.push(row.line, to_raw(&map, row)) {
                    return Ok(());
                }
            }
        }
    }
    v.flush();
    Ok(())
}

fn count_lines(path: &Path) -> AppResult<u64> {
    let mut f = std::fs::File::open(path).map_err(anyhow::Error::from)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    let mut last = b'\n';
    loop {
        let k = f.read(&mut buf).map_err(anyhow::Error::from)?;
        if k == 0 {
            break;
        }
        n += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[k - 1];
    }
    Ok(if last == b'\n' { n } else { n + 1 })
}

/// Records a new job row (committed at once so the page can find it).
pub async fn create_job(st: &AppState, scope: &Scope, opts: &Options) -> AppResult<i64> {
    scope.require_write()?;
    let mut tx = st.db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO import_jobs (org_id, user_id, actor, file_name, all_or_nothing, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'running', $6) RETURNING id",
    )
    .bind(scope.org_id.0)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&scope.actor.name)
    .bind(&opts.file_name)
    .bind(i64::from(opts.all_or_nothing))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Runs an import of `path` for job `job_id`, updating `progress`.
pub async fn run(
    st: &AppState,
    scope: &Scope,
    job_id: i64,
    path: PathBuf,
    opts: &Options,
    progress: Arc<Progress>,
) -> AppResult<Report> {
    let result = run_inner(st, scope, job_id, path, opts, progress.clone()).await;
    progress.done.store(true, Ordering::Relaxed);
    let mut tx = st.db.begin_write().await?;
    match &result {
        Ok(r) => {
            let rejects_file = if r.rejects.is_empty() {
                None
            } else {
                let dir = st.cfg.data_dir.join("imports");
                std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
                let file = dir.join(format!("job-{job_id}-rejects.xlsx.enc"));
                let sealed = seal_rejects(&st.keys, &rejects_xlsx(&r.rejects)?);
                std::fs::write(&file, sealed).map_err(anyhow::Error::from)?;
                Some(file.display().to_string())
            };
            sqlx::query(
                "UPDATE import_jobs SET status = $1, total = $2, processed = $2, new_count = $3, updated_count = $4, \
                 unchanged_count = $5, rejected_count = $6, rejects_file = $7, finished_at = $8 WHERE id = $9",
            )
            .bind(if r.committed { "done" } else { "rolled_back" })
            .bind(r.total as i64)
            .bind(r.counts.new as i64)
            .bind(r.counts.updated as i64)
            .bind(r.counts.unchanged as i64)
            .bind(r.counts.rejected as i64)
            .bind(rejects_file)
            .bind(time::now_rfc3339())
            .bind(job_id)
            .execute(&mut *tx.tx)
            .await?;
            audit::append(
                &mut tx,
                &scope.actor,
                Event::new("member.import", "import_job", job_id)
                    .org(scope.org_id)
                    .detail(serde_json::json!({
                        "file": opts.file_name, "counts": r.counts, "committed": r.committed,
                        "all_or_nothing": opts.all_or_nothing
                    })),
            )
            .await?;
        }
        Err(e) => {
            // Chunks committed before the failure stay: the job row holds
            // their counts, and the job is partial rather than failed.
            let msg = e.user_message();
            sqlx::query(
                "UPDATE import_jobs SET status = CASE WHEN processed > 0 THEN 'partial' ELSE 'failed' END, \
                 error = $1, finished_at = $2 WHERE id = $3",
            )
            .bind(format!("{} / {}", msg.zh, msg.en))
            .bind(time::now_rfc3339())
            .bind(job_id)
            .execute(&mut *tx.tx)
            .await?;
        }
    }
    tx.commit().await?;
    result
}

async fn run_inner(
    st: &AppState,
    scope: &Scope,
    job_id: i64,
    path: PathBuf,
    opts: &Options,
    progress: Arc<Progress>,
) -> AppResult<Report> {
    scope.require_write()?;
    let unions = Unions::load(&st.db, scope).await?;
    if let Some(code) = &opts.org_code {
        unions.resolve(code, None).map_err(AppError::Invalid)?;
    }
    let rule = store::retirement_rule(&st.db).await?;
    let (tx, rx) = mpsc::channel::<Item>(4);
    let validator = Validator {
        keys: st.keys.clone(),
        rule,
        seen: HashMap::new(),
        batch: Vec::new(),
        rejects: Vec::new(),
        tx,
    };
    let reader = std::thread::spawn(move || read_file(&path, validator));
    let org_code = opts.org_code.clone();
    let (tally, committed) = match st.db.sqlite_file() {
        Some(file) if !opts.all_or_nothing && chunking(st).rows() > 0 => {
            // SQLite, default: the bulk writer on its own connection and
            // thread, taking the in-process writer lock per chunk.
            let c = chunking(st);
            let limits = ChunkLimits {
                rows: c.rows(),
                time: Duration::from_millis(c.millis()),
                pause: Duration::from_millis(c.pause_millis.load(Ordering::Relaxed)),
                defer: c.defer.load(Ordering::Relaxed),
                defer_min_rows: c.defer_min_rows.load(Ordering::Relaxed),
            };
            let file = file.to_path_buf();
            let db = st.db.clone();
            let rt = tokio::runtime::Handle::current();
            let writer = tokio::task::spawn_blocking(move || {
                write_sqlite_chunked(
                    &file,
                    &db,
                    &rt,
                    job_id,
                    rx,
                    &unions,
                    org_code.as_deref(),
                    &progress,
                    limits,
                )
            });
            let (tally, ()) = join_writer(writer.await, reader)?;
            (tally, true)
        }
        Some(file) => {
            // SQLite, all-or-nothing: the bulk writer on its own connection
            // and thread, in one transaction, with the in-process writer
            // lock held until it commits (every other writer waits).
            let _guard = st.db.write_guard().await;
            let file = file.to_path_buf();
            let writer = tokio::task::spawn_blocking(move || {
                write_sqlite(&file, job_id, rx, &unions, org_code.as_deref(), &progress)
            });
            let (tally, bulk) = join_writer(writer.await, reader)?;
            let committed = tally.committed(opts.all_or_nothing);
            tokio::task::spawn_blocking(move || bulk.finish(committed))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("import writer: {e}")))??;
            (tally, committed)
        }
        None => {
            let mut wtx = st.db.begin_write().await?;
            let pause = Duration::from_millis(chunking(st).pause_millis.load(Ordering::Relaxed));
            let written = write_portable(
                &mut wtx,
                job_id,
                rx,
                &unions,
                org_code.as_deref(),
                &progress,
                pause,
            )
            .await;
            let (tally, touched) = join_writer(Ok(written), reader)?;
            let committed = tally.committed(opts.all_or_nothing);
            if committed {
                dataver::touch(&mut wtx, touched).await?;
                wtx.tx.commit().await?;
            } else {
                wtx.tx.rollback().await?;
            }
            (tally, committed)
        }
    };
    let Tally {
        counts,
        mut rejects,
        total,
    } = tally;
    rejects.sort_by_key(|r| r.line);
    let processed = counts.new + counts.updated + counts.unchanged + counts.rejected;
    Ok(Report {
        job_id,
        counts,
        total: total.max(processed),
        committed,
        rejects,
    })
}

/// What the writer made of the batches so far.
#[derive(Default)]
struct Tally {
    counts: Counts,
    rejects: Vec<Reject>,
    total: u64,
}

impl Tally {
    fn add(&mut self, batch: &[Prepared], bad: Vec<Reject>, outcomes: &[Outcome]) {
        self.counts.rejected += bad.len() as u64;
        self.rejects.extend(bad);
        for (p, o) in batch.iter().zip(outcomes) {
            self.counts.add(o);
            if let Outcome::Rejected(m) = o {
                self.rejects.push(Reject {
                    line: p.line,
                    cells: raw_cells(p),
                    reason: m.clone(),
                });
            }
        }
    }

    /// All-or-nothing rolls back when any row was rejected.
    fn committed(&self, all_or_nothing: bool) -> bool {
        !(all_or_nothing && self.counts.rejected > 0)
    }
}

/// The writer's result, once the reader has stopped too: the reader's error
/// (not a spreadsheet, missing columns…) wins over the writer's, which is
/// usually just the closed channel it caused.
fn join_writer<T>(
    writer: Result<AppResult<(Tally, T)>, tokio::task::JoinError>,
    reader: std::thread::JoinHandle<AppResult<()>>,
) -> AppResult<(Tally, T)> {
    let read = reader
        .join()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("import reader thread panicked")))?;
    let written = writer.map_err(|e| AppError::Internal(anyhow::anyhow!("import writer: {e}")))?;
    read?;
    written
}

/// The SQLite writer loop (a blocking thread): batches from the reader into
/// one bulk transaction, left open for the caller to finish.
fn write_sqlite(
    file: &Path,
    job_id: i64,
    mut rx: mpsc::Receiver<Item>,
    unions: &Unions,
    org_code: Option<&str>,
    progress: &Progress,
) -> AppResult<(Tally, SqliteBulk)> {
    let mut bulk = SqliteBulk::begin(file, Some(job_id))?;
    let mut tally = Tally::default();
    // Time spent waiting for validated rows vs writing them: which side of
    // the pipeline bounds the import (logged at the end).
    let (mut waited, mut writing) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    loop {
        let t0 = std::time::Instant::now();
        let Some(item) = rx.blocking_recv() else {
            break;
        };
        let t1 = std::time::Instant::now();
        waited += t1 - t0;
        match item {
            Item::Total(t) => {
                tally.total = t;
                progress.total.store(t, Ordering::Relaxed);
                bulk.prepare_for(t)?;
            }
            Item::Batch(batch, bad) => {
                let n = (batch.len() + bad.len()) as u64;
                let outcomes = bulk.apply(unions, org_code, &batch)?;
                tally.add(&batch, bad, &outcomes);
                progress.processed.fetch_add(n, Ordering::Relaxed);
            }
        }
        writing += t1.elapsed();
    }
    tracing::info!(
        rows = tally.total,
        waited_ms = waited.as_millis() as u64,
        writing_ms = writing.as_millis() as u64,
        "bulk import rows written"
    );
    Ok((tally, bulk))
}

/// When a chunk of a default SQLite import ends.
#[derive(Clone, Copy, Debug)]
struct ChunkLimits {
    rows: u64,
    time: Duration,
    pause: Duration,
    defer: bool,
    defer_min_rows: u64,
}

/// The job row's counts as of the chunk being committed, in its transaction.
fn record_progress(
    conn: &rusqlite::Connection,
    job_id: i64,
    tally: &Tally,
) -> rusqlite::Result<()> {
    let c = &tally.counts;
    let processed = c.new + c.updated + c.unchanged + c.rejected;
    conn.execute(
        "UPDATE import_jobs SET total = ?, processed = ?, new_count = ?, updated_count = ?, \
         unchanged_count = ?, rejected_count = ? WHERE id = ?",
        rusqlite::params![
            tally.total.max(processed) as i64,
            processed as i64,
            c.new as i64,
            c.updated as i64,
            c.unchanged as i64,
            c.rejected as i64,
            job_id
        ],
    )?;
    Ok(())
}

/// The chunked SQLite writer loop (a blocking thread): a chunk's transaction
/// opens, under the in-process writer lock, when a batch is ready, and
/// commits after `limits.rows` rows or `limits.time`, whichever first,
/// releasing both locks; the writer lock is fair, so writers that queued
/// meanwhile go first. A failure rolls back the open chunk only.
#[allow(clippy::too_many_arguments)]
fn write_sqlite_chunked(
    file: &Path,
    db: &Db,
    rt: &tokio::runtime::Handle,
    job_id: i64,
    mut rx: mpsc::Receiver<Item>,
    unions: &Unions,
    org_code: Option<&str>,
    progress: &Progress,
    limits: ChunkLimits,
) -> AppResult<(Tally, ())> {
    let mut bulk = SqliteBulk::open(file, Some(job_id))?;
    let mut tally = Tally::default();
    let (mut chunks, mut writing) = (0u64, Duration::ZERO);
    let mut run = || -> AppResult<()> {
        // (writer lock, chunk start, rows in the chunk)
        let mut open: Option<(_, Instant, u64)> = None;
        while let Some(item) = rx.blocking_recv() {
            match item {
                Item::Total(t) => {
                    tally.total = t;
                    progress.total.store(t, Ordering::Relaxed);
                    // A read, outside any write transaction.
                    bulk.prepare_chunked(t)?;
                    if limits.defer && open.is_none() {
                        // Dropped (and noted) in a short transaction of
                        // their own; rebuilt below, whatever happens.
                        let _guard = rt.block_on(db.write_guard());
                        bulk.start()?;
                        bulk.defer_indexes(t, limits.defer_min_rows)?;
                        bulk.commit_chunk(|_| Ok(()))?;
                    }
                }
                Item::Batch(batch, bad) => {
                    if open.is_none() {
                        let guard = rt.block_on(db.write_guard());
                        bulk.start()?;
                        open = Some((guard, Instant::now(), 0));
                    }
                    let n = (batch.len() + bad.len()) as u64;
                    let outcomes = bulk.apply(unions, org_code, &batch)?;
                    tally.add(&batch, bad, &outcomes);
                    progress.processed.fetch_add(n, Ordering::Relaxed);
                    if let Some((_, started, rows)) = &mut open {
                        *rows += n;
                        if *rows >= limits.rows || started.elapsed() >= limits.time {
                            bulk.commit_chunk(|c| record_progress(c, job_id, &tally))?;
                            writing += started.elapsed();
                            chunks += 1;
                            open = None; // frees the writer lock
                            if !limits.pause.is_zero() {
                                std::thread::sleep(limits.pause);
                            }
                        }
                    }
                }
            }
        }
        if let Some((_, started, _)) = open.take() {
            bulk.commit_chunk(|c| record_progress(c, job_id, &tally))?;
            writing += started.elapsed();
            chunks += 1;
        }
        Ok(())
    };
    let result = run();
    if let Err(e) = &result {
        tracing::warn!(job = job_id, chunks, error = %e, "chunked import stopped");
        bulk.rollback()?;
    }
    // The dropped indexes come back, one short transaction each, whether
    // the rows all went in or not (and any a dead import left).
    let rebuilt = (|| -> AppResult<()> {
        for (name, sql) in bulk.pending_indexes()? {
            let _guard = rt.block_on(db.write_guard());
            bulk.rebuild_index(&name, &sql)?;
        }
        Ok(())
    })();
    result?;
    rebuilt?;
    tracing::info!(
        rows = tally.total,
        chunks,
        writing_ms = writing.as_millis() as u64,
        "bulk import committed in chunks"
    );
    Ok((tally, ()))
}

/// The portable writer loop (PostgreSQL): [`store::apply`]'s rules per batch
/// in `wtx`; returns the orgs whose data version to bump once at the end.
async fn write_portable(
    wtx: &mut WriteTx,
    job_id: i64,
    mut rx: mpsc::Receiver<Item>,
    unions: &Unions,
    org_code: Option<&str>,
    progress: &Progress,
    pause: Duration,
) -> AppResult<(Tally, BTreeSet<i64>)> {
    let mut tally = Tally::default();
    let mut touched = BTreeSet::new();
    while let Some(item) = rx.recv().await {
        match item {
            Item::Total(t) => {
                tally.total = t;
                progress.total.store(t, Ordering::Relaxed);
            }
            Item::Batch(batch, bad) => {
                let n = (batch.len() + bad.len()) as u64;
                let (outcomes, orgs) =
                    store::apply_batch(wtx, unions, org_code, &batch, Some(job_id)).await?;
                touched.extend(orgs);
                tally.add(&batch, bad, &outcomes);
                progress.processed.fetch_add(n, Ordering::Relaxed);
                if !pause.is_zero() {
                    // Tests: a slow import (the chunk pause's counterpart).
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
    Ok((tally, touched))
}

/// The row as the user wrote it is not kept after validation; rebuild the
/// template cells from the parsed row for the rejects file.
fn raw_cells(p: &Prepared) -> Vec<String> {
    let person = &p.row.person;
    vec![
        person.name.clone(),
        person.gender.label_zh().into(),
        person.birth.map(|d| d.to_string()).unwrap_or_default(),
        person.nation.clone(),
        person.id.kind.label_zh().into(),
        person.id.as_str().into(),
        person.education.clone(),
        person.skill_level.clone(),
        person.phone.clone().unwrap_or_default(),
        person.hukou_type.clone(),
        person.hukou_place.clone(),
        person.political.clone(),
        person.workplace.clone(),
        if person.migrant {
            "是".into()
        } else {
            "否".into()
        },
        person.group.clone(),
        super::model::event_label(p.row.change.event()).zh,
        p.row.on.to_string(),
        p.row.org_code.clone(),
    ]
}

/// The template headers (first spelling of each column).
pub fn template_headers() -> Vec<String> {
    COLUMNS
        .iter()
        .map(|(_, names, _)| names[0].to_string())
        .collect()
}

/// The rejected rows as an xlsx: the template columns plus 错误原因.
pub fn rejects_xlsx(rejects: &[Reject]) -> AppResult<Vec<u8>> {
    let mut headers = vec!["原行号".to_string()];
    headers.extend(template_headers());
    headers.push("错误原因".into());
    let rows = rejects
        .iter()
        .map(|r| {
            let mut row = vec![CellOut::Int(r.line as i64)];
            row.extend(r.cells.iter().map(|c| CellOut::Text(c.clone())));
            row.push(CellOut::Text(format!("{} / {}", r.reason.zh, r.reason.en)));
            row
        })
        .collect();
    sheet::write_xlsx(&[SheetOut {
        name: "未导入".into(),
        headers,
        rows,
        col_widths: None,
    }])
    .map_err(sheet_err)
}

/// The downloadable import template, with one example row.
pub fn template_xlsx() -> AppResult<Vec<u8>> {
    let example = [
        "张三",
        "男",
        "1990-05-12",
        "汉族",
        "居民身份证",
        "610402199005120018",
        "大学本科",
        "高级工",
        "13800138000",
        "非农业户口",
        "陕西省示范市",
        "中共党员",
        "示范市华秦纺织有限公司",
        "否",
        "",
        "入会",
        "2024-03-01",
        "SF-01-S1-001",
    ];
    let rows = vec![example
        .iter()
        .map(|s| CellOut::Text(s.to_string()))
        .collect()];
    sheet::write_xlsx(&[SheetOut {
        name: "会员名册".into(),
        headers: template_headers(),
        rows,
        col_widths: None,
    }])
    .map_err(sheet_err)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JobRow {
    pub id: i64,
    pub file_name: String,
    pub status: String,
    pub actor: String,
    pub total: i64,
    pub processed: i64,
    pub new_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub rejected_count: i64,
    pub has_rejects: bool,
    pub error: Option<String>,
    pub created_at: String,
}

/// Jobs of the caller's subtree (most recent first), or one of them.
pub async fn jobs(st: &AppState, scope: &Scope, id: Option<i64>) -> AppResult<Vec<JobRow>> {
    let rows = sqlx::query(
        "SELECT j.* FROM import_jobs j JOIN orgs o ON o.id = j.org_id WHERE o.path LIKE $1 AND ($2 = 0 OR j.id = $2) \
         ORDER BY j.id DESC LIMIT 50",
    )
    .bind(scope.like())
    .bind(id.unwrap_or(0))
    .fetch_all(st.db.pool())
    .await?;
    let mut out: Vec<JobRow> = rows
        .iter()
        .map(|r| {
            Ok(JobRow {
                id: r.try_get("id")?,
                file_name: r.try_get("file_name")?,
                status: r.try_get("status")?,
                actor: r.try_get("actor")?,
                total: r.try_get("total")?,
                processed: r.try_get("processed")?,
                new_count: r.try_get("new_count")?,
                updated_count: r.try_get("updated_count")?,
                unchanged_count: r.try_get("unchanged_count")?,
                rejected_count: r.try_get("rejected_count")?,
                has_rejects: r.try_get::<Option<String>, _>("rejects_file")?.is_some(),
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    for j in out.iter_mut().filter(|j| j.status == "running") {
        if let Some(p) = st.jobs.get(j.id) {
            let (t, done, _) = p.snapshot();
            j.total = t as i64;
            j.processed = done as i64;
        }
    }
    Ok(out)
}

/// The rejects file at rest: the xlsx sealed with the platform keys
/// (AES-256-GCM), since it holds full ID and phone numbers.
fn seal_rejects(keys: &Keys, xlsx: &[u8]) -> Vec<u8> {
    use base64::Engine;
    keys.encrypt(&base64::engine::general_purpose::STANDARD.encode(xlsx))
        .into_bytes()
}

fn open_rejects(keys: &Keys, stored: &[u8]) -> AppResult<Vec<u8>> {
    use base64::Engine;
    // Files written before they were sealed are plain xlsx (a zip).
    if stored.starts_with(b"PK") {
        return Ok(stored.to_vec());
    }
    let text = std::str::from_utf8(stored).map_err(anyhow::Error::from)?;
    let b64 = keys.decrypt(text)?;
    Ok(base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(anyhow::Error::from)?)
}

/// The rejected rows of a job as xlsx. They carry full ID and phone
/// numbers, so this takes the unmask permission (a refusal is audited as
/// such) and every download is audited; a job outside the caller's subtree,
/// without rejects, or whose rejects have expired is not found.
pub async fn rejects_file(st: &AppState, scope: &Scope, id: i64) -> AppResult<Vec<u8>> {
    let job = jobs(st, scope, Some(id)).await?;
    if job.is_empty() {
        return Err(AppError::NotFound);
    }
    let row =
        sqlx::query("SELECT org_id, rejects_file, rejected_count FROM import_jobs WHERE id = $1")
            .bind(id)
            .fetch_one(st.db.pool())
            .await?;
    let path: Option<String> = row.try_get("rejects_file")?;
    let org_id: i64 = row.try_get("org_id")?;
    let path = path.ok_or(AppError::NotFound)?;
    if !scope.has(Perm::Unmask) {
        audit::record_denied(&st.db, scope, "import_rejects", id).await;
        return Err(AppError::forbidden(
            "未导入记录含完整证件号码和手机号码,您没有查看完整号码的权限,请联系管理员下载",
            "The rejected rows hold full ID and phone numbers, which you are not allowed to see; ask an administrator to download them",
        ));
    }
    let stored = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(AppError::NotFound),
        Err(e) => return Err(anyhow::Error::from(e).into()),
    };
    let bytes = open_rejects(&st.keys, &stored)?;
    audit::record(
        &st.db,
        &scope.actor,
        Event::new("member.import_rejects_download", "import_job", id)
            .org(platform::ids::OrgId(org_id))
            .detail(serde_json::json!({
                "file": job[0].file_name,
                "rows": row.try_get::<i64, _>("rejected_count")?,
            })),
    )
    .await?;
    Ok(bytes)
}

/// What [`sweep_rejects`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Rejects files of jobs finished more than `keep_days` ago.
    pub rejects: u64,
    /// Other files in the imports directory (uploads left by a crash)
    /// untouched for as long.
    pub leftovers: u64,
}

/// Deletes the rejects files of jobs finished more than `keep_days` days
/// ago (the job then shows no rejects), and any other file in the imports
/// directory not modified for as long. A file of a running job is never
/// touched: it is younger than any sensible `keep_days`, and running jobs
/// have no rejects file yet.
pub async fn sweep_rejects(st: &AppState, keep_days: u64) -> AppResult<Swept> {
    let keep = chrono::Duration::days(
        i64::try_from(keep_days)
            .unwrap_or(i64::MAX / 86_400_000)
            .min(36_500),
    );
    let cutoff = time::now() - keep;
    let rows = sqlx::query(
        "SELECT id, rejects_file, finished_at FROM import_jobs WHERE rejects_file IS NOT NULL",
    )
    .fetch_all(st.db.pool())
    .await?;
    let mut swept = Swept::default();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let path: String = r.try_get("rejects_file")?;
        let finished: Option<String> = r.try_get("finished_at")?;
        let Some(finished) = finished.as_deref().and_then(time::parse_rfc3339) else {
            continue;
        };
        if finished > cutoff {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(job = id, error = %e, "could not delete an expired rejects file");
                continue;
            }
        }
        let mut tx = st.db.begin_write().await?;
        sqlx::query("UPDATE import_jobs SET rejects_file = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        swept.rejects += 1;
    }
    let dir = st.cfg.data_dir.join("imports");
    // At least a day for these, whatever `keep_days` says: a running
    // import's upload lives here too.
    let keep_files = keep.max(chrono::Duration::days(1));
    let cutoff = std::time::SystemTime::now()
        .checked_sub(keep_files.to_std().unwrap_or_default())
        .unwrap_or(std::time::UNIX_EPOCH);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_file()
                && meta.modified().is_ok_and(|m| m <= cutoff)
                && std::fs::remove_file(e.path()).is_ok()
            {
                swept.leftovers += 1;
            }
        }
    }
    Ok(swept)
}

/// At server start: marks the imports a dead process left "running" as
/// partial or failed ([`recover_interrupted`]), and sweeps expired rejects
/// files ([`spawn_rejects_sweep`]).
pub fn on_start(st: &AppState) {
    let st2 = st.clone();
    // Only jobs that existed before this server started: one started in
    // the meantime is this server's own.
    let started = time::now_rfc3339();
    tokio::spawn(async move {
        match super::sqlite_bulk::restore_pending_indexes(&st2.db).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(indexes = n, "indexes an interrupted import dropped rebuilt"),
            Err(e) => {
                tracing::error!(error = %e, "rebuilding indexes of an interrupted import failed")
            }
        }
        match recover_interrupted_before(&st2, Some(&started)).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "imports interrupted by a restart marked as such"),
            Err(e) => tracing::error!(error = %e, "marking interrupted imports failed"),
        }
    });
    spawn_rejects_sweep(st);
}

/// Runs [`sweep_rejects`] at server start and every hour after.
pub fn spawn_rejects_sweep(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_rejects(&st, st.cfg.rejects_keep_days).await {
                Ok(s) if s != Swept::default() => {
                    tracing::info!(?s, "expired import files deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "sweeping import files failed"),
            }
        }
    });
}

/// Marks jobs left "running" by a process that died as interrupted. A
/// chunked import that had committed chunks is partial (its job row holds
/// their counts; importing the same file again finishes it); one that had
/// not, or a one-transaction import, wrote nothing.
pub async fn recover_interrupted(st: &AppState) -> AppResult<u64> {
    recover_interrupted_before(st, None).await
}

/// [`recover_interrupted`] for the jobs created before `cutoff` (RFC 3339,
/// as `created_at`), or all.
async fn recover_interrupted_before(st: &AppState, cutoff: Option<&str>) -> AppResult<u64> {
    let mut tx = st.db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE import_jobs SET \
         status = CASE WHEN processed > 0 THEN 'partial' ELSE 'failed' END, \
         error = CASE WHEN processed > 0 \
           THEN '导入中断,已写入前面的部分行;重新导入同一文件可补齐 / interrupted after part of the file was written; import the same file again to finish' \
           ELSE '导入中断,未写入任何数据 / interrupted; nothing was written' END \
         WHERE status = 'running' AND ($1 = '' OR created_at < $1)",
    )
    .bind(cutoff.unwrap_or(""))
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}
