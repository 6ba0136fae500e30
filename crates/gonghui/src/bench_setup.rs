//! The fixture of the HTTP load test of card redemption
//! (`bench/redeem_load.sh`): `gonghui bench-redeem --vouchers N --tokens FILE`
//! (a hidden command; nothing of it is reachable over HTTP).
//!
//! On an instance with a roster (the demo plus an imported one), it picks N
//! current members spread evenly over the roster who hold no valid card,
//! issues each a card through `members::card::issue_in_tx` (the numbers
//! from the `seq.card_no` counter, as the staff page does), creates one
//! voucher campaign of the city federation with one voucher for each of
//! them, accepted at the given clerk's shop, and writes each card's signed
//! QR token (`members::card::token`, keyed with the instance's master key)
//! to FILE, one a line. One transaction, one audit entry.

use std::{io::Write, path::Path};

use chrono::Datelike;
use members::{card, ids::MembershipId};
use platform::{
    audit::{self, Event},
    ids::OrgId,
    scope::Actor,
    time,
    web::AppState,
};

/// What the fixture made.
pub struct RedeemFixture {
    pub campaign_id: i64,
    pub merchant_id: i64,
    pub vouchers: usize,
}

pub async fn redeem_fixture(
    state: &AppState,
    vouchers: usize,
    clerk: &str,
    tokens: &Path,
) -> anyhow::Result<RedeemFixture> {
    let db = &state.db;
    let merchant_id: i64 = sqlx::query_scalar(
        "SELECT c.merchant_id FROM merchant_clerks c JOIN users u ON u.id = c.user_id WHERE u.username = $1",
    )
    .bind(clerk)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| anyhow::anyhow!("找不到商户店员账号 {clerk} / no merchant clerk {clerk}"))?;
    let (root, root_region): (i64, Option<i64>) = sqlx::query_as(
        "SELECT id, region_root FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(db.pool())
    .await?;
    let candidates: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT m.id, m.person_id FROM memberships m WHERE m.status <> 'ended' \
         AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.membership_id = m.id AND c.status = 'active') \
         ORDER BY m.id",
    )
    .fetch_all(db.pool())
    .await?;
    if vouchers == 0 || candidates.len() < vouchers {
        anyhow::bail!(
            "只有{}名在籍会员没有会员服务卡,少于{vouchers} / only {} current members without a card, fewer than {vouchers}",
            candidates.len(),
            candidates.len()
        );
    }
    let stride = candidates.len() / vouchers;
    let chosen: Vec<(i64, i64)> = candidates
        .iter()
        .step_by(stride)
        .take(vouchers)
        .copied()
        .collect();
    let today = time::today();
    let expires = format!("{}-12-31", today.year() + 1);
    let value_fen: i64 = 5000;
    let mut tx = db.begin_write().await?;
    let mut cards = Vec::with_capacity(chosen.len());
    for (mid, pid) in &chosen {
        let (no, _) = card::issue_in_tx(&mut tx, MembershipId(*mid), *pid).await?;
        cards.push(no);
    }
    let n = chosen.len() as i64;
    let campaign_id: i64 = sqlx::query_scalar(
        "INSERT INTO voucher_campaigns (org_id, region_root, name, value_fen, quantity, issued, expires_on, selection, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, '{}', $7) RETURNING id",
    )
    .bind(root)
    .bind(root_region)
    .bind(format!("压力测试消费券{}", time::now_rfc3339()))
    .bind(value_fen)
    .bind(n)
    .bind(&expires)
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    sqlx::query("INSERT INTO campaign_merchants (campaign_id, merchant_id) VALUES ($1, $2)")
        .bind(campaign_id)
        .bind(merchant_id)
        .execute(&mut *tx.tx)
        .await?;
    for (mid, _) in &chosen {
        sqlx::query(
            "INSERT INTO vouchers (campaign_id, membership_id, person_id, org_id, region_root, value_fen, status, issued_on) \
             SELECT $1, m.id, m.person_id, m.org_id, o.region_root, $2, 'issued', $3 \
             FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.id = $4",
        )
        .bind(campaign_id)
        .bind(value_fen)
        .bind(today.to_string())
        .bind(*mid)
        .execute(&mut *tx.tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &Actor::system("bench-redeem"),
        Event::new("voucher.campaign_issue", "voucher_campaign", campaign_id)
            .org(OrgId(root))
            .detail(serde_json::json!({
                "fixture": "bench/redeem_load.sh", "issued": n, "cards_issued": n,
                "merchants": [merchant_id], "value_fen": value_fen, "expires_on": expires
            })),
    )
    .await?;
    tx.commit().await?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(tokens)?);
    for no in &cards {
        writeln!(out, "{}", card::token(&state.keys, no))?;
    }
    out.flush()?;
    Ok(RedeemFixture {
        campaign_id,
        merchant_id,
        vouchers: cards.len(),
    })
}
