//! The counter writer: card redemptions on an SQLite file, on a thread and
//! connection of their own, several clerks' redemptions in one commit.
//!
//! A holiday peak is many counters redeeming at once, and SQLite takes one
//! writer at a time. Through the pool a redemption was ~12 statements, each
//! a hand-off between the async task and sqlx's worker thread for that
//! connection, all under the writer lock, then a commit that emptied the
//! other pooled connections' page caches (BENCHMARKS.md, "Under HTTP
//! load"). Here the same rules (`redeem::attempt`, over the same SQL) run
//! on this thread's own connection through SQLite's API:
//!
//! - requests queue on a channel; the thread takes every one waiting (up to
//!   [`MAX_BATCH`]), takes the platform's writer lock once, and runs each in
//!   a SAVEPOINT inside one `BEGIN IMMEDIATE` transaction: a refused or
//!   failed redemption rolls back to its savepoint and leaves the others;
//! - one COMMIT for the batch; only then is any clerk answered, so an
//!   answered redemption is a committed one (a failed commit answers every
//!   clerk of the batch with an error, and nothing of it is kept);
//! - the connection's page cache and prepared statements stay warm.
//!
//! PostgreSQL, and SQLite in memory (no file to open twice), keep the
//! portable path in `redeem::redeem_tx`.

use std::{
    collections::HashMap,
    future::Future,
    sync::{mpsc, Arc},
    task::{Context, Poll, Waker},
};

use platform::{
    audit::{self, Event, Head},
    db::{sqlite_numbered as numbered, Db},
    error::{AppError, AppResult},
    person::PersonGroup,
    scope::Actor,
    web::AppState,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::oneshot;

use crate::redeem::{
    self, CampaignRow, CardRow, Job, NewRedemption, OfferRow, Redeemed, ShopRow, Store,
};

/// At most this many redemptions share a commit: a batch holds the writer
/// lock, and other writers (sign-ins, staff) wait behind it.
const MAX_BATCH: usize = 64;

type Answer = AppResult<Option<Redeemed>>;

struct Pending {
    job: Job,
    reply: oneshot::Sender<Answer>,
}

/// The handle requests are sent through; the thread ends when the last
/// handle (the instance's) is dropped.
pub(crate) struct Counter {
    jobs: mpsc::Sender<Pending>,
}

/// The instance's counter writer, if its database is an SQLite file.
struct Slot(Option<Arc<Counter>>);

/// The counter writer of this instance, started at its first redemption;
/// None where the portable path serves.
pub(crate) fn of(st: &AppState) -> Option<Arc<Counter>> {
    st.instance
        .get_or_init(|| Slot(Counter::start(&st.db, st.registry.person_groups())))
        .0
        .clone()
}

impl Counter {
    fn start(db: &Db, groups: Vec<PersonGroup>) -> Option<Arc<Counter>> {
        let file = db.sqlite_file()?;
        let conn = match open(file) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "counter writer: cannot open the database; redemptions take the pool");
                return None;
            }
        };
        let checkpoints = match open(file)
            .map_err(anyhow::Error::new)
            .and_then(|c| Checkpoints::start(c).map_err(anyhow::Error::new))
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "counter writer: cannot start its checkpoint thread; redemptions take the pool");
                return None;
            }
        };
        let (tx, rx) = mpsc::channel();
        let db = db.clone();
        let spawned = std::thread::Builder::new()
            .name("counter-writer".into())
            .spawn(move || serve(SqliteStore::new(conn, groups), &db, &rx, &checkpoints));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "counter writer: cannot start its thread; redemptions take the pool");
            return None;
        }
        Some(Arc::new(Counter { jobs: tx }))
    }

    /// Runs one try of `job` in the next batch; answers once it is committed.
    pub(crate) async fn redeem(&self, job: Job) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Pending { job, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn gone() -> AppError {
    AppError::Internal(anyhow::anyhow!("the counter writer has stopped"))
}

fn db_err(e: rusqlite::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("counter writer"))
}

/// The writer's WAL size, in frames, past which its own commit checkpoints
/// (SQLite's auto-checkpoint). The checkpoint thread keeps the WAL copied
/// back well before that; this one runs rarely, finds little left to copy,
/// and lets the next batch start the WAL over from its beginning (which a
/// checkpoint racing the writer seldom allows).
const WRITER_CHECKPOINT_FRAMES: u32 = 16_384;
/// Batches between two requests to the checkpoint thread (~20 WAL frames
/// each at the load test's batch size: ~1,000 frames, SQLite's default).
const BATCHES_PER_CHECKPOINT: u32 = 48;

fn open(file: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The pool's settings (`platform::db`), but for the cache: 2 MB holds
    // the inner pages of the tables and indexes a redemption walks. A
    // larger one costs more than it saves: when an insert rebalances
    // b-tree pages, SQLite swaps two of them through the number of the
    // lock page (1 GB into the file), and the next commit, which drops
    // cached pages past the file's end, then visits every page in the
    // cache (a database smaller than 1 GB never reaches that number). In
    // the load test that was a fifth of the commits: with 64 MB ~1/3 ms
    // each, a tenth of this thread; with 8 MB still 8 %; 2 MB is the
    // fastest of 1, 2, 4 and 8 MB (bench/REDEEM_LOAD.md, "Third round").
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -2048; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_FRAMES}"
    ))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// The thread: batch what is waiting, run it, answer.
fn serve(
    mut store: SqliteStore,
    db: &Db,
    jobs: &mpsc::Receiver<Pending>,
    checkpoints: &Checkpoints,
) {
    let mut batches = 0u32;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        // Batch sizes, for the operator (/metrics): the mean is
        // redemptions_total / batches_total.
        metrics::counter!("gonghui_counter_batches_total").increment(1);
        metrics::counter!("gonghui_counter_redemptions_total").increment(batch.len() as u64);
        let guard = db.write_guard_blocking();
        let answers = store.run(&batch);
        drop(guard);
        for (p, a) in batch.into_iter().zip(answers) {
            // A clerk who went away leaves a committed redemption behind,
            // as a dropped connection after COMMIT does on the pool.
            let _ = p.reply.send(a);
        }
        batches = batches.wrapping_add(1);
        if batches.is_multiple_of(BATCHES_PER_CHECKPOINT) {
            checkpoints.ask();
        }
    }
}

/// The thread that copies the WAL back into the database file while the
/// writer goes on (a PASSIVE checkpoint: it never blocks the writer). In
/// the writer's own commit, SQLite's checkpoint and its fsync held every
/// clerk of the batch, and of the batches queued behind it: the p99 of the
/// load test was 8 ms with it there, 3 ms without any.
struct Checkpoints {
    ask: mpsc::SyncSender<()>,
}

impl Checkpoints {
    fn start(conn: Connection) -> std::io::Result<Checkpoints> {
        // One request waiting is enough: requests while it runs are merged.
        let (ask, asked) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("counter-checkpoint".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    });
                    match done {
                        Ok((wal, copied)) => tracing::trace!(wal, copied, "counter checkpoint"),
                        Err(e) => tracing::warn!(error = %e, "counter checkpoint failed"),
                    }
                }
            })?;
        Ok(Checkpoints { ask })
    }

    fn ask(&self) {
        let _ = self.ask.try_send(());
    }
}

/// `attempt` over a store whose every call is synchronous: its future is
/// ready at the first poll.
fn at_once<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the counter writer's store never waits"),
    }
}

/// The claim in two steps, without RETURNING (which SQLite serves
/// through a temporary table per statement: a third of this writer's time
/// once). Safe here and only here: the batch holds the database's write
/// lock from BEGIN IMMEDIATE to COMMIT, so nothing can take the voucher
/// between the two; the pool's path keeps `redeem::CLAIM_SQL`.
const CLAIM_FIND_SQL: &str = "SELECT id, value_fen FROM vouchers \
     WHERE campaign_id = $1 AND person_id = $2 AND status = 'issued'";
const CLAIM_MARK_SQL: &str =
    "UPDATE vouchers SET status = 'redeemed', redeemed_at = $1, merchant_id = $2 WHERE id = $3";

struct Sql {
    clerk_merchant: String,
    card: String,
    shop: String,
    offer: String,
    offer_uses: String,
    campaign: String,
    claim: String,
    voucher_status: String,
    claim_mark: String,
    insert: String,
    audit_head: String,
    audit_insert: String,
    audit_store_head: String,
    /// `PersonGroup::holds_sql` of each declared group, by key.
    groups: HashMap<&'static str, String>,
}

pub(crate) struct SqliteStore {
    conn: Connection,
    groups: Vec<PersonGroup>,
    sql: Sql,
    /// The audit head the next entry of the open batch chains onto: read
    /// once after BEGIN, stored once before COMMIT (the batch holds the
    /// write lock throughout, so no other appender moves it meanwhile).
    head: Option<Head>,
    /// Whether an entry of this batch moved the head.
    head_moved: bool,
    /// What the batch's redemptions share — the clerk's shop, the shop's
    /// agreement, the campaign — read once per batch: no redemption
    /// changes them, and the batch's write lock keeps anyone else from
    /// changing them before it commits.
    shared: SharedReads,
}

#[derive(Default)]
struct SharedReads {
    clerk_merchant: HashMap<i64, Option<i64>>,
    shop: HashMap<i64, ShopRow>,
    campaign: HashMap<(i64, i64), Option<CampaignRow>>,
}

impl SqliteStore {
    fn new(conn: Connection, groups: Vec<PersonGroup>) -> SqliteStore {
        let sql = Sql {
            clerk_merchant: numbered(redeem::CLERK_MERCHANT_SQL),
            card: numbered(redeem::CARD_SQL),
            shop: numbered(redeem::SHOP_SQL),
            offer: numbered(redeem::OFFER_SQL),
            offer_uses: numbered(redeem::OFFER_USES_SQL),
            campaign: numbered(redeem::CAMPAIGN_SQL),
            claim: numbered(CLAIM_FIND_SQL),
            claim_mark: numbered(CLAIM_MARK_SQL),
            voucher_status: numbered(redeem::VOUCHER_STATUS_SQL),
            insert: numbered(redeem::INSERT_SQL),
            audit_head: numbered(audit::NEXT_HEAD_SQL),
            audit_insert: numbered(audit::INSERT_ENTRY_SQL),
            audit_store_head: numbered(audit::STORE_HEAD_SQL),
            groups: groups
                .iter()
                .map(|g| (g.key, numbered(&g.holds_sql())))
                .collect(),
        };
        SqliteStore {
            conn,
            groups,
            sql,
            head: None,
            head_moved: false,
            shared: SharedReads::default(),
        }
    }

    fn read_head(&self) -> rusqlite::Result<Head> {
        self.conn
            .prepare_cached(&self.sql.audit_head)?
            .query_row([], |r| {
                Ok(Head {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                    format: r.get(2)?,
                    key_id: r.get(3)?,
                })
            })
    }

    /// Stores the batch's last audit entry as the chain's head.
    fn store_head(&mut self) -> rusqlite::Result<()> {
        if let (Some(h), true) = (&self.head, self.head_moved) {
            self.conn
                .prepare_cached(&self.sql.audit_store_head)?
                .execute(params![h.seq - 1, h.hash])?;
        }
        Ok(())
    }

    fn exec(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    }

    /// One transaction for the batch. Most redemptions either succeed or
    /// are refused before they write anything (every check of
    /// `redeem::attempt` comes before its first write), so the first pass
    /// runs them one after the other with no savepoint (two statements
    /// and a copy of every page touched, each redemption). A redemption
    /// that wrote and then failed — a voucher claimed whose redemption
    /// row or audit entry could not be written — sends the whole batch
    /// back: it is rolled back and run again with a savepoint each.
    fn run(&mut self, batch: &[Pending]) -> Vec<Answer> {
        match self.run_as(batch, Isolation::Trusting) {
            Some(answers) => answers,
            None => self
                .run_as(batch, Isolation::Savepoints)
                .unwrap_or_else(|| unreachable!("a batch with savepoints always ends")),
        }
    }

    /// None: `Trusting`, and a redemption failed after writing; nothing
    /// of the batch is kept.
    fn run_as(&mut self, batch: &[Pending], isolation: Isolation) -> Option<Vec<Answer>> {
        let failed = |e: &rusqlite::Error| -> Vec<Answer> {
            tracing::error!(error = %e, "counter writer: the batch failed, nothing of it is kept");
            batch
                .iter()
                .map(|_| {
                    Err(AppError::Internal(anyhow::anyhow!(
                        "counter writer: the batch was not committed: {e}"
                    )))
                })
                .collect()
        };
        if let Err(e) = self.exec("BEGIN IMMEDIATE") {
            return Some(failed(&e));
        }
        match self.read_head() {
            Ok(h) => self.head = Some(h),
            Err(e) => {
                let _ = self.exec("ROLLBACK");
                return Some(failed(&e));
            }
        }
        self.head_moved = false;
        self.shared = SharedReads::default();
        let mut answers = Vec::with_capacity(batch.len());
        for p in batch {
            let head_before = (self.head.clone(), self.head_moved);
            let answer = match isolation {
                Isolation::Trusting => {
                    let changes = self.conn.total_changes();
                    let answer = at_once(redeem::attempt(self, &p.job));
                    // SQLite undoes a failed statement by itself (or, on
                    // some I/O errors, the whole transaction).
                    let wrote = self.conn.total_changes() != changes;
                    if !matches!(answer, Ok(Some(_))) && (wrote || self.conn.is_autocommit()) {
                        if !self.conn.is_autocommit() {
                            let _ = self.exec("ROLLBACK");
                        }
                        return None;
                    }
                    answer
                }
                Isolation::Savepoints => {
                    let answer = match self.exec("SAVEPOINT redemption") {
                        Ok(()) => at_once(redeem::attempt(self, &p.job)),
                        Err(e) => Err(db_err(e)),
                    };
                    let undo = if matches!(answer, Ok(Some(_))) {
                        self.exec("RELEASE redemption")
                    } else {
                        self.exec("ROLLBACK TO redemption")
                            .and_then(|()| self.exec("RELEASE redemption"))
                    };
                    if let Err(e) = undo {
                        let _ = self.exec("ROLLBACK");
                        return Some(failed(&e));
                    }
                    answer
                }
            };
            if !matches!(answer, Ok(Some(_))) {
                // Its audit entry, if it wrote one, is undone with it.
                (self.head, self.head_moved) = head_before;
            }
            answers.push(answer);
        }
        if let Err(e) = self.store_head().and_then(|()| self.exec("COMMIT")) {
            let _ = self.exec("ROLLBACK");
            return Some(failed(&e));
        }
        Some(answers)
    }
}

/// How the redemptions of one batch are kept apart (`SqliteStore::run`).
#[derive(Clone, Copy)]
enum Isolation {
    /// One after the other: for redemptions that write only once they
    /// succeed.
    Trusting,
    /// A SAVEPOINT each: a failed one is rolled back alone.
    Savepoints,
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl Store for SqliteStore {
    async fn clerk_merchant(&mut self, clerk_user: i64) -> AppResult<Option<i64>> {
        if let Some(m) = self.shared.clerk_merchant.get(&clerk_user) {
            return Ok(*m);
        }
        let mut st = self
            .conn
            .prepare_cached(&self.sql.clerk_merchant)
            .map_err(db_err)?;
        let m = st
            .query_row(params![clerk_user], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        self.shared.clerk_merchant.insert(clerk_user, m);
        Ok(m)
    }
    async fn card(&mut self, card_no: &str) -> AppResult<Option<CardRow>> {
        let mut st = self.conn.prepare_cached(&self.sql.card).map_err(db_err)?;
        st.query_row(params![card_no], |r| {
            Ok(CardRow {
                status: r.get("status")?,
                membership_id: r.get("membership_id")?,
                person_id: r.get("person_id")?,
                membership_status: r.get("ms")?,
                org_id: r.get("org_id")?,
                path: r.get("path")?,
                region_root: r.get("region_root")?,
                union_name: r.get("union_name")?,
                name: r.get("name")?,
                migrant: r.get("migrant")?,
                new_employment_group: r.get("new_employment_group")?,
                phone_masked: r.get("phone_masked")?,
                id_hash: r.get("id_hash")?,
            })
        })
        .optional()
        .map_err(db_err)
    }
    async fn shop(&mut self, merchant_id: i64) -> AppResult<ShopRow> {
        if let Some(s) = self.shared.shop.get(&merchant_id) {
            return Ok(s.clone());
        }
        let mut st = self.conn.prepare_cached(&self.sql.shop).map_err(db_err)?;
        let shop = st
            .query_row(params![merchant_id], |r| {
                Ok(ShopRow {
                    status: r.get("status")?,
                    agreement_from: r.get("agreement_from")?,
                    agreement_to: r.get("agreement_to")?,
                })
            })
            .map_err(db_err)?;
        self.shared.shop.insert(merchant_id, shop.clone());
        Ok(shop)
    }
    async fn offer(&mut self, offer_id: i64) -> AppResult<Option<OfferRow>> {
        let mut st = self.conn.prepare_cached(&self.sql.offer).map_err(db_err)?;
        st.query_row(params![offer_id], |f| {
            Ok(OfferRow {
                merchant_id: f.get("merchant_id")?,
                title: f.get("title")?,
                price_rule: f.get("price_rule")?,
                valid_from: f.get("valid_from")?,
                valid_to: f.get("valid_to")?,
                limit_count: f.get("limit_count")?,
                limit_period: f.get("limit_period")?,
                eligibility: f.get("eligibility")?,
                elig_group: f.get("elig_group")?,
                elig_path: f.get("elig_path")?,
                status: f.get("status")?,
            })
        })
        .optional()
        .map_err(db_err)
    }
    fn groups(&self) -> &[PersonGroup] {
        &self.groups
    }
    async fn in_group(&mut self, key: &str, id_hash: &str) -> AppResult<bool> {
        let Some(sql) = self.sql.groups.get(key) else {
            return Ok(false);
        };
        let mut st = self.conn.prepare_cached(sql).map_err(db_err)?;
        let n: i64 = st
            .query_row(params![id_hash], |r| r.get(0))
            .map_err(db_err)?;
        Ok(n > 0)
    }
    async fn offer_uses(
        &mut self,
        offer_id: i64,
        person_id: i64,
        period_key: &str,
    ) -> AppResult<i64> {
        let mut st = self
            .conn
            .prepare_cached(&self.sql.offer_uses)
            .map_err(db_err)?;
        st.query_row(params![offer_id, person_id, period_key], |r| r.get(0))
            .map_err(db_err)
    }
    async fn campaign(
        &mut self,
        campaign_id: i64,
        merchant_id: i64,
    ) -> AppResult<Option<CampaignRow>> {
        if let Some(c) = self.shared.campaign.get(&(campaign_id, merchant_id)) {
            return Ok(c.clone());
        }
        let mut st = self
            .conn
            .prepare_cached(&self.sql.campaign)
            .map_err(db_err)?;
        let c = st
            .query_row(params![campaign_id, merchant_id], |c| {
                Ok(CampaignRow {
                    name: c.get("name")?,
                    expires_on: c.get("expires_on")?,
                    here: c.get("here")?,
                })
            })
            .optional()
            .map_err(db_err)?;
        self.shared
            .campaign
            .insert((campaign_id, merchant_id), c.clone());
        Ok(c)
    }
    async fn claim_voucher(
        &mut self,
        now: &str,
        merchant_id: i64,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<(i64, i64)>> {
        let found = self
            .conn
            .prepare_cached(&self.sql.claim)
            .map_err(db_err)?
            .query_row(params![campaign_id, person_id], |v| {
                Ok((v.get::<_, i64>("id")?, v.get::<_, i64>("value_fen")?))
            })
            .optional()
            .map_err(db_err)?;
        if let Some((id, _)) = found {
            self.conn
                .prepare_cached(&self.sql.claim_mark)
                .map_err(db_err)?
                .execute(params![now, merchant_id, id])
                .map_err(db_err)?;
        }
        Ok(found)
    }
    async fn voucher_status(
        &mut self,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<String>> {
        let mut st = self
            .conn
            .prepare_cached(&self.sql.voucher_status)
            .map_err(db_err)?;
        st.query_row(params![campaign_id, person_id], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }
    async fn insert(&mut self, r: &NewRedemption<'_>) -> AppResult<Option<i64>> {
        let mut st = self.conn.prepare_cached(&self.sql.insert).map_err(db_err)?;
        let res = st.execute(params![
            r.kind,
            r.merchant_id,
            r.offer_id,
            r.voucher_id,
            r.campaign_id,
            r.membership_id,
            r.person_id,
            r.org_id,
            r.region_root,
            r.card_no,
            r.clerk_user_id,
            r.amount_fen,
            r.on_date,
            r.period_key,
            r.seq,
            r.redeemed_at
        ]);
        match res {
            Ok(_) => Ok(Some(self.conn.last_insert_rowid())),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(db_err(e)),
        }
    }
    async fn audit(&mut self, actor: &Actor, ev: Event<'_>) -> AppResult<()> {
        let head = self
            .head
            .take()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("counter writer: no batch open")))?;
        let e = audit::seal(head.clone(), actor, ev)?;
        self.conn
            .prepare_cached(&self.sql.audit_insert)
            .map_err(db_err)?
            .execute(params![
                e.seq,
                e.at,
                e.actor_id,
                e.actor,
                e.action,
                e.object_type,
                e.object_id,
                e.org_id,
                e.detail,
                e.ip,
                e.prev_hash,
                e.hash
            ])
            .map_err(db_err)?;
        self.head = Some(head.following(&e));
        self.head_moved = true;
        Ok(())
    }
}
