//! Card verification + voucher redemption at the counter — the hot path of
//! a holiday peak — through `benefits::redeem::redeem_tx`, the function the
//! clerk's page and API call: token signature, card, membership, merchant,
//! campaign, the conditional UPDATE of the voucher, the redemption row and
//! the audit entry, in one transaction.
//!
//! On the demo federation (SQLite by default; PostgreSQL when
//! `GONGHUI_TEST_DATABASE_URL` is set), with 80 extra campaigns so every
//! iteration redeems a fresh voucher (400 card holders × 80 = 32,000).
//!
//!   cargo bench -p gonghui --bench redeem

use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use gonghui::{benefits::redeem, members::card, platform::scope::Actor, testing};

const CAMPAIGNS: i64 = 80;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (env, merchant, clerk, pairs) = rt.block_on(async {
        let env = testing::demo_env().await.unwrap();
        let db = env.state.db.clone();
        let (merchant, clerk): (i64, i64) = sqlx::query_as(
            "SELECT m.id, c.user_id FROM merchants m JOIN merchant_clerks c ON c.merchant_id = m.id \
             WHERE m.name = '示范市工人文化宫影城'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        let org: i64 = sqlx::query_scalar("SELECT id FROM orgs WHERE code = 'SF-01'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let cards: Vec<(String, i64)> = sqlx::query_as(
            "SELECT card_no, person_id FROM cards WHERE status = 'active' ORDER BY id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let today = gonghui::platform::time::today();
        let expires = format!("{}-12-31", chrono::Datelike::year(&today) + 1);
        let mut pairs = Vec::new();
        let mut tx = db.begin_write().await.unwrap();
        for k in 0..CAMPAIGNS {
            let cid: i64 = sqlx::query_scalar(
                "INSERT INTO voucher_campaigns (org_id, name, value_fen, quantity, issued, expires_on, created_at) \
                 VALUES ($1, $2, 5000, 1000, 0, $3, $4) RETURNING id",
            )
            .bind(org)
            .bind(format!("基准消费券{k}"))
            .bind(&expires)
            .bind(gonghui::platform::time::now_rfc3339())
            .fetch_one(&mut *tx.tx)
            .await
            .unwrap();
            sqlx::query("INSERT INTO campaign_merchants (campaign_id, merchant_id) VALUES ($1, $2)")
                .bind(cid)
                .bind(merchant)
                .execute(&mut *tx.tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO vouchers (campaign_id, membership_id, person_id, org_id, value_fen, status, issued_on) \
                 SELECT $1, m.id, m.person_id, m.org_id, 5000, 'issued', $2 FROM memberships m \
                 JOIN cards c ON c.membership_id = m.id AND c.status = 'active' WHERE m.status <> 'ended'",
            )
            .bind(cid)
            .bind(today.to_string())
            .execute(&mut *tx.tx)
            .await
            .unwrap();
            for (no, _) in &cards {
                pairs.push((card::token(&env.state.keys, no), cid));
            }
        }
        tx.commit().await.unwrap();
        (env, merchant, clerk, pairs)
    });
    let actor = Actor::system("bench_clerk");
    let next = AtomicUsize::new(0);
    let mut g = c.benchmark_group("redeem");
    g.sample_size(30);
    g.measurement_time(std::time::Duration::from_secs(8));
    g.warm_up_time(std::time::Duration::from_secs(2));
    g.bench_function("voucher_by_scanned_card", |b| {
        b.iter(|| {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (token, cid) = pairs
                .get(i)
                .expect("more iterations than prepared vouchers: raise CAMPAIGNS");
            let input = redeem::RedeemInput {
                token: token.clone(),
                campaign_id: Some(*cid),
                ..Default::default()
            };
            rt.block_on(redeem::redeem_tx(
                &env.state,
                Some(merchant),
                clerk,
                &actor,
                &input,
            ))
            .expect("redeemed")
        })
    });
    g.finish();
    // Counted after the run: one redemption per voucher used, none lost.
    rt.block_on(async {
        let pool = env.state.db.pool();
        let used: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v JOIN voucher_campaigns c ON c.id = v.campaign_id \
             WHERE c.name LIKE '基准消费券%' AND v.status = 'redeemed'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let rows: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions r JOIN voucher_campaigns c ON c.id = r.campaign_id \
             WHERE c.name LIKE '基准消费券%'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let n = next.load(Ordering::Relaxed) as i64;
        eprintln!("redeem bench: {n} redemptions, {used} vouchers used, {rows} rows");
        assert_eq!(used, n);
        assert_eq!(rows, n);
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
