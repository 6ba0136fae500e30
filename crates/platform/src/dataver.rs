//! Org data versions and the per-org cache of derived values.
//!
//! `org_data_version` holds one counter per org. Every code path that writes
//! an org's member records (memberships, 会籍变化 events, the persons holding
//! a membership there) or moves the org in the tree calls [`touch`] inside
//! its transaction, so the bump commits — or rolls back — with the write.
//! An org without a row is at version 0. On PostgreSQL the upsert keeps the
//! touched version rows locked until the transaction ends; an import bumps
//! its orgs once, in id order, just before it commits, so the lock is short
//! and two imports queue rather than deadlock (on SQLite every writer waits
//! for an import anyway: writes are serialised).
//!
//! [`OrgCache`] keeps values computed per org (the statistics engine's
//! per-org figures) together with the version they were computed at. A
//! reader reads the versions *first*, reuses the orgs whose cached version
//! is the current one, recomputes the others and stores them with the
//! versions it read: a write that commits while it computes leaves the new
//! entry stale (recomputed next time), never wrong.
//!
//! Memory: at most [`DEFAULT_MAX_CELLS`] 8-byte cells (32 MiB) in all,
//! counting the values, each entry's map overhead and each set's key text;
//! when a store goes over, whole column sets (a period and a list of
//! indicator conditions) are dropped, least recently used first. The set
//! just used is kept even when it alone is larger than the bound.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use sqlx::{AnyConnection, Row};

use crate::{db::Db, error::AppResult};

/// Org ids per upsert statement (ids are written as integer literals).
const TOUCH_CHUNK: usize = 1_000;

/// Bumps the data version of every org in `org_ids` (deduplicated) with one
/// upsert per 1,000 orgs. Call it inside the transaction that writes the
/// orgs' member records. The ids are sorted, so concurrent writers on
/// PostgreSQL lock the version rows in the same order.
pub async fn touch(
    conn: &mut AnyConnection,
    org_ids: impl IntoIterator<Item = i64>,
) -> AppResult<()> {
    for sql in touch_statements(org_ids) {
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The statements of [`touch`], for writers on their own connection (the
/// SQLite bulk import runs them in its transaction).
pub fn touch_statements(org_ids: impl IntoIterator<Item = i64>) -> Vec<String> {
    let ids: BTreeSet<i64> = org_ids.into_iter().collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    ids.chunks(TOUCH_CHUNK)
        .map(|chunk| {
            // Integers cannot carry SQL, so they are written inline: no
            // parameter limits and no per-parameter cost.
            let values: Vec<String> = chunk.iter().map(|id| format!("({id}, 1)")).collect();
            format!(
                "INSERT INTO org_data_version (org_id, version) VALUES {} \
                 ON CONFLICT (org_id) DO UPDATE SET version = org_data_version.version + 1",
                values.join(",")
            )
        })
        .collect()
}

/// The sum of every org's data version: it grows with every write of member
/// records anywhere, by this process or another (a CLI import next to the
/// server), so a change means some cached figures went stale.
pub async fn total(db: &Db) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM org_data_version",
        )
        .fetch_one(db.pool())
        .await?,
    )
}

/// Org id → data version (0 when never touched) for every org whose path
/// matches `like`, in one query.
pub async fn versions(db: &Db, like: &str) -> AppResult<HashMap<i64, i64>> {
    let rows = sqlx::query(
        "SELECT o.id, CAST(COALESCE(v.version, 0) AS BIGINT) AS version \
         FROM orgs o LEFT JOIN org_data_version v ON v.org_id = o.id WHERE o.path LIKE $1",
    )
    .bind(like)
    .fetch_all(db.pool())
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        out.insert(r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?);
    }
    Ok(out)
}

/// 4 Mi cells (32 MiB): about 150 whole-city tables of the demo federation
/// (331 orgs), or one table of a 50,000-org province.
pub const DEFAULT_MAX_CELLS: usize = 4 << 20;

/// What an org entry costs against the bound, in 8-byte cells: its values
/// and about 32 bytes of map entry and allocation.
fn entry_cells(ncols: usize) -> usize {
    ncols + 4
}

/// What a column set costs without its entries: its key text (the
/// conditions, a few KB) and its maps.
fn set_cells(key: &str) -> usize {
    key.len() / 8 + 16
}

struct Entry {
    version: i64,
    values: Box<[i64]>,
}

/// The per-org values of one column set (cache key).
struct Set {
    last_used: u64,
    ncols: usize,
    orgs: HashMap<i64, Entry>,
    /// Held while the set's stale orgs are computed, so concurrent requests
    /// for the same columns wait for one computation instead of repeating it.
    flight: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct Inner {
    sets: HashMap<Arc<str>, Set>,
    tick: u64,
    cells: usize,
    hits: u64,
    misses: u64,
}

/// What a lookup found: the values of the orgs cached at their current
/// version, and the orgs to recompute.
pub struct Lookup {
    pub values: HashMap<i64, Vec<i64>>,
    pub stale: Vec<i64>,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Org entries served from the cache.
    pub hits: u64,
    /// Org entries that had to be computed (absent or stale).
    pub misses: u64,
    /// Column sets held.
    pub sets: usize,
    /// Memory held, in 8-byte cells (see [`DEFAULT_MAX_CELLS`]).
    pub cells: usize,
}

/// In-memory, per-process cache of per-org values (one per `Db`, shared by
/// its clones). See the module documentation.
pub struct OrgCache {
    inner: Mutex<Inner>,
    max_cells: usize,
    /// Serialises background warm-ups.
    pub warming: tokio::sync::Mutex<()>,
    warmups: AtomicU64,
    /// Rung after a bulk write (an import) commits, for whoever keeps
    /// derived figures warm (the reports module) — the writer need not know
    /// who that is.
    bulk_written: tokio::sync::Notify,
}

impl Default for OrgCache {
    fn default() -> Self {
        OrgCache::new(DEFAULT_MAX_CELLS)
    }
}

impl OrgCache {
    /// Says a bulk write has committed (many orgs' versions moved at once).
    pub fn announce_bulk_write(&self) {
        self.bulk_written.notify_one();
    }

    /// Waits for the next [`OrgCache::announce_bulk_write`] (one announced
    /// while nobody waited is kept).
    pub async fn bulk_written(&self) {
        self.bulk_written.notified().await;
    }

    pub fn new(max_cells: usize) -> OrgCache {
        OrgCache {
            inner: Mutex::new(Inner::default()),
            max_cells,
            warming: tokio::sync::Mutex::new(()),
            warmups: AtomicU64::new(0),
            bulk_written: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every
        // mutation is a single insert/remove), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set<'a>(inner: &'a mut Inner, key: &str, ncols: usize) -> &'a mut Set {
        inner.tick += 1;
        let tick = inner.tick;
        if !inner.sets.contains_key(key) {
            inner.cells += set_cells(key);
            inner.sets.insert(
                Arc::from(key),
                Set {
                    last_used: tick,
                    ncols,
                    orgs: HashMap::new(),
                    flight: Arc::new(tokio::sync::Mutex::new(())),
                },
            );
        }
        let set = inner.sets.get_mut(key).expect("just ensured");
        set.last_used = tick;
        set
    }

    /// The lock to hold while computing the stale orgs of `key`.
    pub fn flight(&self, key: &str, ncols: usize) -> Arc<tokio::sync::Mutex<()>> {
        let mut inner = self.lock();
        Self::set(&mut inner, key, ncols).flight.clone()
    }

    /// Splits the orgs of `versions` (org id → current version) into those
    /// cached at exactly that version and those to recompute.
    pub fn lookup(&self, key: &str, ncols: usize, versions: &HashMap<i64, i64>) -> Lookup {
        let mut inner = self.lock();
        let set = Self::set(&mut inner, key, ncols);
        let mut values = HashMap::with_capacity(versions.len());
        let mut stale = Vec::new();
        for (&org, &version) in versions {
            match set.orgs.get(&org) {
                Some(e) if e.version == version => {
                    values.insert(org, e.values.to_vec());
                }
                _ => stale.push(org),
            }
        }
        stale.sort_unstable();
        inner.hits += values.len() as u64;
        inner.misses += stale.len() as u64;
        Lookup { values, stale }
    }

    /// Stores freshly computed values: (org, version read before computing,
    /// values). An entry computed at a newer version is not replaced.
    pub fn store(&self, key: &str, ncols: usize, fresh: Vec<(i64, i64, Vec<i64>)>) {
        let mut inner = self.lock();
        let set = Self::set(&mut inner, key, ncols);
        let mut added = 0usize;
        for (org, version, values) in fresh {
            debug_assert_eq!(values.len(), set.ncols);
            match set.orgs.get_mut(&org) {
                Some(e) if e.version > version => {}
                Some(e) => {
                    e.version = version;
                    e.values = values.into_boxed_slice();
                }
                None => {
                    set.orgs.insert(
                        org,
                        Entry {
                            version,
                            values: values.into_boxed_slice(),
                        },
                    );
                    added += entry_cells(set.ncols);
                }
            }
        }
        inner.cells += added;
        // Over the bound: drop whole sets, least recently used first,
        // never the one just stored.
        while inner.cells > self.max_cells {
            let victim = inner
                .sets
                .iter()
                .filter(|(k, _)| &***k != key)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some(s) = inner.sets.remove(&victim) {
                inner.cells -= set_cells(&victim) + s.orgs.len() * entry_cells(s.ncols);
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: inner.hits,
            misses: inner.misses,
            sets: inner.sets.len(),
            cells: inner.cells,
        }
    }

    /// Forgets everything (benchmarks: a cold start without a new process).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.sets.clear();
        inner.cells = 0;
    }

    /// Background warm-ups finished so far (tests wait for them).
    pub fn warmups_done(&self) -> u64 {
        self.warmups.load(Ordering::SeqCst)
    }

    pub fn warmup_finished(&self) {
        self.warmups.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(v: &[(i64, i64)]) -> HashMap<i64, i64> {
        v.iter().copied().collect()
    }

    #[test]
    fn serves_only_entries_at_the_current_version() {
        let c = OrgCache::new(1_000);
        let l = c.lookup("k", 2, &versions(&[(1, 0), (2, 0)]));
        assert!(l.values.is_empty());
        assert_eq!(l.stale, vec![1, 2]);
        c.store("k", 2, vec![(1, 0, vec![5, 6]), (2, 0, vec![0, 0])]);
        let l = c.lookup("k", 2, &versions(&[(1, 0), (2, 0)]));
        assert_eq!(l.values[&1], vec![5, 6]);
        assert_eq!(l.values[&2], vec![0, 0]);
        assert!(l.stale.is_empty());
        // Org 2 was written to: its entry is stale, org 1's still good.
        let l = c.lookup("k", 2, &versions(&[(1, 0), (2, 1)]));
        assert_eq!(l.stale, vec![2]);
        assert!(l.values.contains_key(&1) && !l.values.contains_key(&2));
        // Another key (period or column list) shares nothing.
        let l = c.lookup("other", 2, &versions(&[(1, 0)]));
        assert_eq!(l.stale, vec![1]);
        let s = c.stats();
        assert_eq!((s.hits, s.misses), (3, 4));
    }

    #[test]
    fn an_older_computation_does_not_replace_a_newer_one() {
        let c = OrgCache::new(1_000);
        c.store("k", 1, vec![(1, 3, vec![30])]);
        c.store("k", 1, vec![(1, 2, vec![20])]);
        assert_eq!(c.lookup("k", 1, &versions(&[(1, 3)])).values[&1], vec![30]);
        assert_eq!(c.lookup("k", 1, &versions(&[(1, 2)])).stale, vec![1]);
    }

    #[test]
    fn least_recently_used_sets_go_first_when_over_the_bound() {
        let per_set = set_cells("a") + 2 * entry_cells(2);
        let c = OrgCache::new(2 * per_set + 1);
        c.store("a", 2, vec![(1, 0, vec![1, 1]), (2, 0, vec![1, 1])]);
        c.store("b", 2, vec![(1, 0, vec![2, 2]), (2, 0, vec![2, 2])]);
        assert_eq!(c.stats().cells, 2 * per_set);
        // Use "a" again, so "b" is the least recently used.
        c.lookup("a", 2, &versions(&[(1, 0)]));
        c.store("c", 2, vec![(1, 0, vec![3, 3]), (2, 0, vec![3, 3])]);
        let s = c.stats();
        assert_eq!((s.sets, s.cells), (2, 2 * per_set));
        assert!(c.lookup("b", 2, &versions(&[(1, 0)])).values.is_empty());
        assert_eq!(
            c.lookup("a", 2, &versions(&[(1, 0)])).values[&1],
            vec![1, 1]
        );
        // A set alone over the bound is kept (it is the one in use).
        let big: Vec<_> = (0..20).map(|o| (o, 0, vec![0, 0])).collect();
        c.store("big", 2, big);
        let s = c.stats();
        assert_eq!(s.sets, 1);
        assert_eq!(s.cells, set_cells("big") + 20 * entry_cells(2));
    }
}
