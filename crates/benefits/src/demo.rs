//! The demo's 普惠: partner merchants (city-wide, one of 秦川区, one of the
//! grassroots union SF-01-S1-001, one of 渭水区 SF-02), their offers (1元观影,
//! 5元洗车, 半价购书, 免费游园 …), the clerk account `merchant_clerk` (the
//! demo password), member cards for part of the roster, a 送温暖 voucher
//! campaign of 50 元 for 秦川区's members, and redemptions through the same
//! transaction a clerk's phone uses.

use chrono::Datelike;
use orgs::demo::DEMO_PASSWORD;
use platform::{scope::Actor, time, web::AppState};
use sqlx::Row;

use crate::{
    ids::MerchantId,
    model::{CampaignInput, MerchantInput, OfferInput},
    redeem::{self, RedeemInput},
    store,
};

/// The demo clerk's username.
pub const DEMO_CLERK: &str = "merchant_clerk";

/// (owning org code, name, credit code, category, lng, lat, offers: (title, rule, limit, period, eligibility))
type Shop = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, i64, &'static str, &'static str)],
);

const SHOPS: &[Shop] = &[
    (
        "SF",
        "示范市工人文化宫影城",
        "91110000101623741K",
        "影院文娱",
        "109.0329",
        "34.3416",
        &[("职工观影", "1元观影", 2, "month", "all")],
    ),
    (
        "SF",
        "示范市清泉洗车连锁",
        "91110108551385082Q",
        "洗车汽修",
        "109.0501",
        "34.3302",
        &[
            ("职工洗车", "5元洗车", 4, "month", "all"),
            // For the heads of households the hardship module keeps on file.
            ("困难职工免费洗车", "免费洗车", 2, "month", "group:hardship"),
            (
                "骑手车辆保养",
                "电动车保养免工时费",
                1,
                "month",
                "new_employment",
            ),
        ],
    ),
    (
        "SF",
        "示范市新华书店",
        "91350100M000100Y43",
        "图书文具",
        "109.0412",
        "34.3388",
        &[("半价购书", "图书半价", 1, "week", "all")],
    ),
    (
        "SF-01",
        "秦川区秦岭植物园",
        "91610104MA6U1A2B3W",
        "公园景区",
        "109.0102",
        "34.2911",
        &[
            ("免费游园", "凭卡免票入园", 1, "day", "all"),
            ("农民工周末游", "免票并赠导览", 1, "month", "migrant"),
        ],
    ),
    (
        "SF-01-S1-001",
        "示范市职工之家超市",
        "91610104MA6U1A2B40",
        "超市零售",
        "109.0221",
        "34.3005",
        &[("会员购物", "满100减10", 3, "month", "all")],
    ),
    (
        "SF-02",
        "渭水区便民餐厅",
        "91610104MA6U1A2B53",
        "餐饮",
        "108.9801",
        "34.3555",
        &[("爱心午餐", "10元套餐", 1, "day", "all")],
    ),
];

async fn org_id(st: &AppState, code: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT id FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(st.db.pool())
        .await?)
}

/// Seeds the demo's benefits once (a refresh finds them and only resets
/// the clerk's password).
pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let scope = platform::tree::system_scope(&st.db).await?;
    let existing: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM merchants")
        .fetch_one(st.db.pool())
        .await?;
    if existing > 0 {
        let u = platform::auth::Username::parse(DEMO_CLERK)?;
        if platform::auth::find_user_in_scope(&st.db, &scope, &u)
            .await
            .is_ok()
        {
            platform::auth::set_password(
                &st.db,
                &scope,
                &u,
                &platform::auth::Password::parse(DEMO_PASSWORD)?,
            )
            .await?;
        }
        return Ok(());
    }
    let today = time::today();
    let year = today.year();
    let mut merchant_ids = Vec::new();
    for (code, name, credit, category, lng, lat, offers) in SHOPS {
        let m = MerchantInput {
            org_id: org_id(st, code).await?,
            name: name.to_string(),
            credit_code: credit.to_string(),
            category: category.to_string(),
            address: format!("示范市{name}"),
            lng: lng.to_string(),
            lat: lat.to_string(),
            // As copied from 高德.
            datum: "gcj02".into(),
            contact_name: "王经理".into(),
            contact_phone: "029-88886666".into(),
            agreement_from: format!("{}-01-01", year - 1),
            agreement_to: format!("{}-12-31", year + 1),
        }
        .parse()?;
        let id = store::create_merchant(&st.db, &scope, &m).await?;
        for (title, rule, limit, period, elig) in offers.iter() {
            let f = OfferInput {
                title: title.to_string(),
                price_rule: rule.to_string(),
                valid_from: format!("{year}-01-01"),
                valid_to: format!("{year}-12-31"),
                limit_count: *limit,
                limit_period: period.to_string(),
                eligibility: elig.to_string(),
                ..Default::default()
            }
            .parse()?;
            store::create_offer(&st.db, &scope, &st.registry.person_groups(), id, &f).await?;
        }
        merchant_ids.push(id);
    }
    // The clerk of the cinema.
    let clerk = store::create_clerk(
        &st.db,
        &scope,
        merchant_ids[0],
        DEMO_CLERK,
        "影城收银员",
        DEMO_PASSWORD,
    )
    .await?;
    // Member cards for 400 of 秦川区's current members (the latest enrolled).
    let holders = sqlx::query(
        "SELECT m.id, m.person_id FROM memberships m JOIN orgs o ON o.id = m.org_id \
         WHERE o.path LIKE $1 AND m.status <> 'ended' ORDER BY m.id DESC LIMIT 400",
    )
    .bind(format!("{}%", county_path(st).await?))
    .fetch_all(st.db.pool())
    .await?;
    let mut cards = Vec::new();
    {
        let mut tx = st.db.begin_write().await?;
        for h in &holders {
            let mid: i64 = h.try_get("id")?;
            let pid: i64 = h.try_get("person_id")?;
            let (no, _) =
                members::card::issue_in_tx(&mut tx.tx, members::ids::MembershipId(mid), pid)
                    .await?;
            cards.push(no);
        }
        tx.commit().await?;
    }
    // 送温暖: 50 元 for every current member of 秦川区, at the city's shops.
    let county = org_id(st, "SF-01").await?;
    let campaign = CampaignInput {
        org_id: county,
        name: format!("{year}年送温暖消费券"),
        value: "50".into(),
        quantity: 10_000,
        expires_on: format!("{year}-12-31").max(today.to_string()),
        merchant_ids: merchant_ids[..5].iter().map(|m| m.0).collect(),
        group: "all".into(),
        elig_group: String::new(),
    }
    .parse(today)?;
    let (cid, _) =
        store::create_campaign(&st.db, &scope, &st.registry.person_groups(), &campaign).await?;
    // Redemptions through the clerk's transaction: vouchers at the
    // cinema, and its offer.
    let actor = Actor::system(DEMO_CLERK);
    let offer: i64 =
        sqlx::query_scalar("SELECT id FROM offers WHERE merchant_id = $1 ORDER BY id LIMIT 1")
            .bind(merchant_ids[0].0)
            .fetch_one(st.db.pool())
            .await?;
    for (n, no) in cards.iter().enumerate() {
        let token = members::card::token(&st.keys, no);
        let with = |item: String| RedeemInput {
            token: token.clone(),
            item,
            ..Default::default()
        };
        if n % 3 == 0 {
            redeem::redeem_tx(
                st,
                Some(merchant_ids[0].0),
                clerk,
                &actor,
                &with(format!("campaign:{}", cid.0)),
            )
            .await?;
        }
        if n % 4 == 1 {
            redeem::redeem_tx(
                st,
                Some(merchant_ids[0].0),
                clerk,
                &actor,
                &with(format!("offer:{offer}")),
            )
            .await?;
        }
    }
    tracing::info!(
        merchants = merchant_ids.len(),
        cards = cards.len(),
        "demo benefits seeded"
    );
    let _ = MerchantId(0);
    Ok(())
}

async fn county_path(st: &AppState) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT path FROM orgs WHERE code = 'SF-01'")
            .fetch_one(st.db.pool())
            .await?,
    )
}
