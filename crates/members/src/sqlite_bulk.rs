//! The roster import's writer on SQLite: the same rules as
//! [`store::apply`] (lookups, then [`store::decide`], then the writes), but on
//! a connection of its own through SQLite's API, with prepared single-row
//! statements. The portable writer goes through sqlx's `Any` driver, whose
//! argument conversion and multi-row statements were most of an import's
//! time (BENCHMARKS.md); PostgreSQL keeps it.
//!
//! Two ways to commit (chosen by `import`):
//!
//! - **One transaction** ([`SqliteBulk::begin`] … [`SqliteBulk::finish`]):
//!   an all-or-nothing import. A crash or kill leaves the database as
//!   before. Very large imports into a smaller table drop the search indexes
//!   (phone hash, name, pinyin, initials: random keys, one B-tree descent
//!   per row) inside that transaction and build them again before
//!   committing — a sort instead of a million random inserts. A rollback or
//!   a crash brings the indexes back with everything else. The caller holds
//!   the in-process writer lock for the whole file.
//! - **Chunks** ([`SqliteBulk::open`], then [`SqliteBulk::start`] …
//!   [`SqliteBulk::commit_chunk`] per chunk): the default import. Each chunk
//!   is its own `BEGIN IMMEDIATE` transaction that bumps the data versions
//!   of the orgs it touched and records the job's progress before it
//!   commits; between chunks the SQLite lock and the in-process writer lock
//!   are free, so sign-ins and audited reads get in. A large import drops
//!   the random-key indexes once, in a short transaction that also notes
//!   their CREATE statements in `settings` ([`SqliteBulk::defer_indexes`]),
//!   and rebuilds them at its end — succeeded or failed — one short
//!   transaction each ([`SqliteBulk::rebuild_index`]); if the process dies
//!   first, the next server start rebuilds what the notes name
//!   ([`restore_pending_indexes`]). Keeping them live instead costs 5× the
//!   import time: each chunk rewrites a fresh set of pages of five
//!   random-key B-trees to the WAL (BENCHMARKS.md, "Sign-ins during a large roster import").
//!   Meanwhile, searches by name, pinyin and phone scan the table.

use crate::ids::MembershipId;
use std::{
    collections::{BTreeSet, HashSet},
    path::Path,
};

use rusqlite::{
    params_from_iter,
    types::{ToSql, ToSqlOutput, Value, ValueRef},
    Connection, OpenFlags, OptionalExtension,
};

use super::store::{
    self, event_values, membership_values, new_person_values, person_values, Existing,
    ExistingMembership, Known, Outcome, Plan, Prepared, Unions, EVENT_COLS, MEMBERSHIP_COLS,
    NEW_PERSON_EXTRA_COLS, PERSON_COLS,
};
use platform::{
    dataver,
    error::{AppError, AppResult},
    sqlx_util::V,
    time,
};

/// Indexes whose keys arrive in random order during an import (hashes,
/// names, an org's event dates), by table: a large import builds them once at
/// the end. The unique and the sequential ones (new ids, member numbers) stay.
const DEFERRABLE: [(&str, &[&str]); 3] = [
    (
        "persons",
        &[
            "persons_phone",
            "persons_name",
            "persons_pinyin",
            "persons_initials",
        ],
    ),
    ("memberships", &["memberships_org"]),
    (
        "membership_events",
        &["membership_events_org", "membership_events_org_date"],
    ),
];

/// The `settings` key prefix noting an index a chunked import dropped and
/// has not rebuilt yet (the value is its CREATE statement).
pub const PENDING_INDEX: &str = "import.deferred_index.";

/// The noted indexes: (name, CREATE statement).
fn pending(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut st = conn.prepare("SELECT key, value FROM settings WHERE key LIKE ? ORDER BY key")?;
    let rows = st.query_map([format!("{PENDING_INDEX}%")], |r| {
        let key: String = r.get(0)?;
        Ok((key[PENDING_INDEX.len()..].to_string(), r.get(1)?))
    })?;
    rows.collect()
}

/// `CREATE INDEX x …` as `CREATE INDEX IF NOT EXISTS x …`.
fn if_not_exists(sql: &str) -> String {
    if sql.to_ascii_uppercase().contains("IF NOT EXISTS") {
        sql.to_string()
    } else {
        sql.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    }
}

/// Rebuilds the indexes a chunked import dropped and did not live to
/// rebuild (see [`SqliteBulk::defer_indexes`]), each in a write transaction
/// with its note; at server start. Returns how many. Nothing to do on
/// PostgreSQL (no notes).
pub async fn restore_pending_indexes(db: &platform::db::Db) -> AppResult<u64> {
    let notes: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM settings WHERE key LIKE $1 ORDER BY key")
            .bind(format!("{PENDING_INDEX}%"))
            .fetch_all(db.pool())
            .await?;
    for (key, sql) in &notes {
        let mut tx = db.begin_write().await?;
        sqlx::query(&if_not_exists(sql))
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        tracing::warn!(
            index = key.as_str(),
            "index left dropped by an interrupted import rebuilt"
        );
    }
    Ok(notes.len() as u64)
}

/// Imports of fewer rows keep every index live.
pub const DEFER_MIN_ROWS: u64 = 50_000;

/// A portable statement value as SQLite's own API takes it.
struct Sql(V);

impl Sql {
    fn all(values: impl IntoIterator<Item = V>) -> impl Iterator<Item = Sql> {
        values.into_iter().map(Sql)
    }
}

impl ToSql for Sql {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            V::I(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            V::T(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            V::NullI | V::NullT => ToSqlOutput::Owned(Value::Null),
        })
    }
}

fn db_err(e: rusqlite::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("SQLite bulk import"))
}

/// The first 16 hex digits of a keyed hash as a number (a set member; a
/// collision only costs a real lookup).
fn hash_prefix(hex: &[u8]) -> u64 {
    hex.iter().take(16).fold(0u64, |h, &b| {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => b & 0x0f,
        };
        (h << 4) | u64::from(nibble)
    })
}

fn insert_sql(table: &str, cols: &[&str]) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        cols.join(", "),
        vec!["?"; cols.len()].join(", ")
    )
}

/// One import's connection and its open transaction.
pub struct SqliteBulk {
    conn: Connection,
    /// A transaction is open (between `start`/`begin` and its commit).
    in_tx: bool,
    /// The highest person id covered by `stored`: a chunk that starts after
    /// other writers had their turn adds the ID hashes of persons stored
    /// since.
    stored_upto: i64,
    job: Option<i64>,
    /// (name, CREATE statement) of indexes dropped for this import.
    deferred: Vec<(String, String)>,
    /// Prefixes of the ID hashes stored before a large import: a row whose
    /// prefix is absent is a new person without asking the index.
    stored: Option<HashSet<u64>>,
    /// Orgs whose data version the import bumps, once, before it commits.
    touched: BTreeSet<i64>,
    insert_person: String,
    update_person: String,
    insert_membership: String,
    insert_event: String,
}

impl SqliteBulk {
    /// Opens `file` and starts the import's write transaction. The caller
    /// holds the in-process writer lock (`Db::write_guard`) until [`finish`].
    ///
    /// [`finish`]: SqliteBulk::finish
    pub fn begin(file: &Path, job: Option<i64>) -> AppResult<SqliteBulk> {
        let mut bulk = SqliteBulk::open(file, job)?;
        bulk.start()?;
        Ok(bulk)
    }

    /// Opens `file` for a chunked import, with no transaction open yet.
    pub fn open(file: &Path, job: Option<i64>) -> AppResult<SqliteBulk> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        // The pool's settings, with a page cache of up to 1 GB (allocated
        // only as used): the random-key indexes outgrow 64 MB at a few
        // hundred thousand members and every insert would read from disk.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY; PRAGMA threads = 2",
        )
        .map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(16);
        let mut new_cols = PERSON_COLS.to_vec();
        new_cols.extend(NEW_PERSON_EXTRA_COLS);
        let set: Vec<String> = PERSON_COLS.iter().map(|c| format!("{c} = ?")).collect();
        Ok(SqliteBulk {
            conn,
            in_tx: false,
            stored_upto: 0,
            job,
            deferred: Vec::new(),
            stored: None,
            touched: BTreeSet::new(),
            insert_person: insert_sql("persons", &new_cols),
            update_person: format!("UPDATE persons SET {} WHERE id = ?", set.join(", ")),
            insert_membership: insert_sql("memberships", &MEMBERSHIP_COLS),
            insert_event: insert_sql("membership_events", &EVENT_COLS),
        })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`: it waits, up to the
    /// busy timeout, for a writer of another process). The caller holds the
    /// in-process writer lock until the transaction ends. When the stored
    /// ID-hash prefixes were read, the persons other writers stored since are
    /// added to them first.
    pub fn start(&mut self) -> AppResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        self.in_tx = true;
        if self.stored.is_some() {
            let (more, upto) = self.stored_hashes(self.stored_upto).map_err(db_err)?;
            if let Some(stored) = &mut self.stored {
                stored.extend(more);
            }
            self.stored_upto = self.stored_upto.max(upto);
        }
        Ok(())
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.in_tx
    }

    /// Ends a chunk: bumps the data version of every org the chunk touched,
    /// runs `record` (the job's progress) in the same transaction, and
    /// commits. Nothing of the chunk is visible before, all of it after.
    pub fn commit_chunk(
        &mut self,
        record: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> AppResult<()> {
        for sql in dataver::touch_statements(std::mem::take(&mut self.touched)) {
            self.conn.execute_batch(&sql).map_err(db_err)?;
        }
        record(&self.conn).map_err(db_err)?;
        if self.stored.is_some() {
            // The persons this chunk stored are already in `stored` or
            // deduplicated by the reader: the next chunk looks past them.
            let upto: i64 = self
                .conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM persons", [], |r| r.get(0))
                .map_err(db_err)?;
            self.stored_upto = self.stored_upto.max(upto);
        }
        self.conn.execute_batch("COMMIT").map_err(db_err)?;
        self.in_tx = false;
        Ok(())
    }

    /// Rolls back the open transaction, if any (a chunk that failed).
    pub fn rollback(&mut self) -> AppResult<()> {
        if self.in_tx {
            self.in_tx = false;
            self.touched.clear();
            self.conn.execute_batch("ROLLBACK").map_err(db_err)?;
        }
        Ok(())
    }

    /// For a chunked import of `rows` rows (at least [`DEFER_MIN_ROWS`]):
    /// reads the ID hashes already stored into memory once, so rows of new
    /// people skip the lookup, as [`SqliteBulk::prepare_for`] does; no index
    /// is dropped. Runs in its own read transaction when none is open.
    pub fn prepare_chunked(&mut self, rows: u64) -> AppResult<()> {
        if rows < DEFER_MIN_ROWS || self.stored.is_some() {
            return Ok(());
        }
        let (stored, upto) = self.stored_hashes(0).map_err(db_err)?;
        self.stored = Some(stored);
        self.stored_upto = upto;
        Ok(())
    }

    /// Prepares for an import of `rows` rows. At least [`DEFER_MIN_ROWS`]:
    /// the random-key indexes of each table holding no more rows than the
    /// import brings are dropped until [`finish`](SqliteBulk::finish)
    /// (rebuilding them then costs no more than the import itself), and the
    /// ID hashes already stored are read into memory once, so rows of new
    /// people (nearly all of a large import) skip the lookup. Returns the
    /// indexes deferred.
    pub fn prepare_for(&mut self, rows: u64) -> AppResult<Vec<String>> {
        self.prepare_with(rows, DEFER_MIN_ROWS)
    }

    /// [`SqliteBulk::prepare`] with the deferral threshold given (tests).
    #[doc(hidden)]
    pub fn prepare_with(&mut self, rows: u64, min_rows: u64) -> AppResult<Vec<String>> {
        if rows < min_rows || self.stored.is_some() {
            return Ok(Vec::new());
        }
        let (stored, upto) = self.stored_hashes(0).map_err(db_err)?;
        self.stored = Some(stored);
        self.stored_upto = upto;
        self.drop_deferrable(rows)?;
        Ok(self.deferred.iter().map(|(n, _)| n.clone()).collect())
    }

    /// Drops the deferrable indexes of every table holding no more rows
    /// than `rows`, remembering their CREATE statements.
    fn drop_deferrable(&mut self, rows: u64) -> AppResult<()> {
        for (table, names) in DEFERRABLE {
            let held: i64 = self
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map_err(db_err)?;
            if (rows as i64) < held {
                continue;
            }
            let indexes: Vec<(String, String)> = {
                let mut st = self
                    .conn
                    .prepare(
                        "SELECT name, sql FROM sqlite_master \
                         WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                    )
                    .map_err(db_err)?;
                let found = st
                    .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(db_err)?;
                found.collect::<Result<_, _>>().map_err(db_err)?
            };
            for (name, sql) in indexes {
                if names.contains(&name.as_str()) {
                    self.conn
                        .execute_batch(&format!("DROP INDEX {name}"))
                        .map_err(db_err)?;
                    self.deferred.push((name, sql));
                }
            }
        }
        Ok(())
    }

    /// A chunked import of `rows` rows (at least `min_rows`): drops the
    /// deferrable indexes as [`SqliteBulk::prepare_for`] does, and notes
    /// each one's CREATE statement in `settings`, in the transaction that
    /// drops it (call between [`SqliteBulk::start`] and
    /// [`SqliteBulk::commit_chunk`]). The import rebuilds them at its end,
    /// whether it succeeded or not ([`SqliteBulk::pending_indexes`],
    /// [`SqliteBulk::rebuild_index`]); if the process dies first, the notes
    /// stay and the next server start rebuilds them
    /// ([`restore_pending_indexes`]). Returns the indexes dropped.
    pub fn defer_indexes(&mut self, rows: u64, min_rows: u64) -> AppResult<Vec<String>> {
        if rows < min_rows || !self.deferred.is_empty() {
            return Ok(Vec::new());
        }
        self.drop_deferrable(rows)?;
        for (name, sql) in &self.deferred {
            self.conn
                .execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [format!("{PENDING_INDEX}{name}"), sql.clone()],
                )
                .map_err(db_err)?;
        }
        Ok(self.deferred.iter().map(|(n, _)| n.clone()).collect())
    }

    /// Every index noted as dropped and not yet rebuilt — this import's and
    /// any a dead import left: (name, CREATE statement).
    pub fn pending_indexes(&self) -> AppResult<Vec<(String, String)>> {
        pending(&self.conn).map_err(db_err)
    }

    /// Builds one noted index (if absent) and clears its note, in one
    /// transaction of its own; the caller holds the writer lock for it.
    pub fn rebuild_index(&mut self, name: &str, sql: &str) -> AppResult<()> {
        let t = std::time::Instant::now();
        self.start()?;
        let built = self.conn.execute_batch(&if_not_exists(sql)).and_then(|_| {
            self.conn.execute(
                "DELETE FROM settings WHERE key = ?",
                [format!("{PENDING_INDEX}{name}")],
            )
        });
        if let Err(e) = built {
            self.rollback()?;
            return Err(db_err(e));
        }
        self.conn.execute_batch("COMMIT").map_err(db_err)?;
        self.in_tx = false;
        self.deferred.retain(|(n, _)| n != name);
        tracing::info!(
            index = name,
            ms = t.elapsed().as_millis() as u64,
            "deferred index rebuilt"
        );
        Ok(())
    }

    /// The first 8 bytes of every ID hash (hex) stored under a person id
    /// above `after`, for [`SqliteBulk::lookup`], and the highest id read.
    /// One statement: one snapshot.
    fn stored_hashes(&self, after: i64) -> rusqlite::Result<(HashSet<u64>, i64)> {
        let mut st = self
            .conn
            .prepare("SELECT id, id_hash FROM persons WHERE id > ?")?;
        let mut rows = st.query([after])?;
        let mut out = HashSet::new();
        let mut upto = after;
        while let Some(r) = rows.next()? {
            upto = upto.max(r.get::<_, i64>(0)?);
            if let ValueRef::Text(h) = r.get_ref(1)? {
                out.insert(hash_prefix(h));
            }
        }
        Ok((out, upto))
    }

    /// [`store::apply`] for this transaction.
    pub fn apply(
        &mut self,
        unions: &Unions,
        default_org: Option<&str>,
        rows: &[Prepared],
    ) -> AppResult<Vec<Outcome>> {
        let known = self.lookup(rows).map_err(db_err)?;
        let mut plan = store::decide(unions, default_org, rows, known);
        self.write(rows, &mut plan).map_err(db_err)?;
        self.touched.extend(plan.touched.iter().copied());
        Ok(plan.into_outcomes())
    }

    fn lookup(&self, rows: &[Prepared]) -> rusqlite::Result<Known> {
        let mut known = Known::default();
        let mut person = self
            .conn
            .prepare_cached("SELECT id, row_hash FROM persons WHERE id_hash = ?")?;
        let mut memberships = self.conn.prepare_cached(
            "SELECT id, org_id, status FROM memberships WHERE person_id = ? ORDER BY id",
        )?;
        for p in rows {
            if let Some(stored) = &self.stored {
                if !stored.contains(&hash_prefix(p.sealed.id_hash.as_bytes())) {
                    continue;
                }
            }
            let found = person
                .query_row([p.sealed.id_hash.as_str()], |r| {
                    Ok(Existing {
                        person_id: r.get(0)?,
                        row_hash: r.get(1)?,
                    })
                })
                .optional()?;
            let Some(e) = found else { continue };
            let pid = e.person_id;
            let list = memberships
                .query_map([pid], |r| {
                    Ok(ExistingMembership {
                        id: r.get(0)?,
                        person_id: pid,
                        org_id: r.get(1)?,
                        status: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            if !list.is_empty() {
                known.memberships.insert(pid, list);
            }
            known.persons.insert(p.sealed.id_hash.clone(), e);
        }
        Ok(known)
    }

    fn write(&self, rows: &[Prepared], plan: &mut Plan<'_>) -> rusqlite::Result<()> {
        let now = time::now_rfc3339();
        let c = &self.conn;
        if !plan.new_persons.is_empty() {
            let mut st = c.prepare_cached(&self.insert_person)?;
            for &i in &plan.new_persons {
                st.execute(params_from_iter(Sql::all(new_person_values(
                    &rows[i], &now,
                ))))?;
                plan.person_ids
                    .insert(rows[i].sealed.id_hash.clone(), c.last_insert_rowid());
            }
        }
        if !plan.update_persons.is_empty() {
            let mut st = c.prepare_cached(&self.update_person)?;
            for &(i, pid) in &plan.update_persons {
                let mut v = person_values(&rows[i], &now);
                v.push(V::I(pid));
                st.execute(params_from_iter(Sql::all(v)))?;
            }
        }
        let mut event = c.prepare_cached(&self.insert_event)?;
        if !plan.new_memberships.is_empty() {
            let n = plan.new_memberships.len() as i64;
            let last: String = c.query_row(
                store::RESERVE_SQL,
                rusqlite::params![n, "seq.member_no"],
                |r| r.get(0),
            )?;
            let first = store::first_reserved("seq.member_no", &last, n)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))?;
            let mut st = c.prepare_cached(&self.insert_membership)?;
            for (k, &i) in plan.new_memberships.iter().enumerate() {
                let p = &rows[i];
                let (pid, org) = (plan.person_id(p), plan.org_id(i));
                st.execute(params_from_iter(Sql::all(membership_values(
                    p,
                    pid,
                    org,
                    first + k as i64,
                    &now,
                ))))?;
                let mid = c.last_insert_rowid();
                plan.out[i] = Some(Outcome::New(MembershipId(mid)));
                event.execute(params_from_iter(Sql::all(event_values(
                    mid,
                    pid,
                    org,
                    p.row.change.event(),
                    p,
                    self.job,
                    &now,
                ))))?;
            }
        }
        if !plan.status_changes.is_empty() {
            let mut st = c.prepare_cached(store::STATUS_SQL)?;
            for ch in &plan.status_changes {
                let p = &rows[ch.row];
                st.execute(rusqlite::params![
                    ch.status,
                    store::ended_on(p, ch.status),
                    now,
                    ch.membership
                ])?;
                event.execute(params_from_iter(Sql::all(event_values(
                    ch.membership,
                    plan.person_id(p),
                    plan.org_id(ch.row),
                    ch.event,
                    p,
                    self.job,
                    &now,
                ))))?;
            }
        }
        Ok(())
    }

    /// Rebuilds deferred indexes and commits, or rolls everything back.
    pub fn finish(self, commit: bool) -> AppResult<()> {
        let started = std::time::Instant::now();
        if commit {
            for (name, sql) in &self.deferred {
                let t = std::time::Instant::now();
                self.conn.execute_batch(sql).map_err(db_err)?;
                tracing::info!(
                    index = name.as_str(),
                    ms = t.elapsed().as_millis() as u64,
                    "deferred index rebuilt"
                );
            }
            for sql in dataver::touch_statements(self.touched.iter().copied()) {
                self.conn.execute_batch(&sql).map_err(db_err)?;
            }
            let indexed = started.elapsed();
            self.conn.execute_batch("COMMIT").map_err(db_err)?;
            tracing::info!(
                deferred = self.deferred.len(),
                index_ms = indexed.as_millis() as u64,
                commit_ms = (started.elapsed() - indexed).as_millis() as u64,
                "bulk import committed"
            );
        } else {
            self.conn.execute_batch("ROLLBACK").map_err(db_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_prefixes_read_sixteen_hex_digits() {
        assert_eq!(hash_prefix(b"00000000000000ff"), 0xff);
        assert_eq!(hash_prefix(b"ffffffffffffffff0000"), u64::MAX);
        assert_ne!(
            hash_prefix(b"1000000000000000"),
            hash_prefix(b"0000000000000001")
        );
    }
}
