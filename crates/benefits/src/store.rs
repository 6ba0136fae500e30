//! Merchants, their clerks, offers and voucher campaigns: every read and
//! write through the caller's scope (the owning union's subtree; outside
//! it, "not found" and audited), each write with its audit entry in one
//! transaction.

use platform::{
    audit::{self, Event},
    auth::{self, NewUser, Password, Username},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    money::Fen,
    person::PersonGroup,
    scope::{Role, Scope},
    time, tree,
};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::{
    ids::{CampaignId, MerchantId, OfferId},
    model::{self, Campaign, Eligibility, Merchant, Offer},
};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub credit_code: String,
    pub category: String,
    pub address: String,
    /// Degrees (GCJ-02), when known.
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub contact_name: String,
    pub contact_phone: String,
    pub agreement_from: String,
    pub agreement_to: String,
    /// active | suspended | ended
    pub status: String,
    pub offers: i64,
    pub clerks: i64,
}

const MERCHANT_SELECT: &str = "SELECT m.id, m.org_id, o.name AS org_name, o.path, m.name, m.credit_code, m.category, m.address, \
    m.lng_e6, m.lat_e6, m.contact_name, m.contact_phone, m.agreement_from, m.agreement_to, m.status, \
    (SELECT COUNT(*) FROM offers f WHERE f.merchant_id = m.id AND f.status = 'active') AS offers, \
    (SELECT COUNT(*) FROM merchant_clerks c WHERE c.merchant_id = m.id) AS clerks \
    FROM merchants m JOIN orgs o ON o.id = m.org_id";

fn merchant_row(r: &sqlx::any::AnyRow) -> Result<MerchantRow, sqlx::Error> {
    let deg = |v: Option<i64>| v.map(|v| v as f64 / 1e6);
    Ok(MerchantRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        name: r.try_get("name")?,
        credit_code: r.try_get("credit_code")?,
        category: r.try_get("category")?,
        address: r.try_get("address")?,
        lng: deg(r.try_get("lng_e6")?),
        lat: deg(r.try_get("lat_e6")?),
        contact_name: r.try_get("contact_name")?,
        contact_phone: r.try_get("contact_phone")?,
        agreement_from: r.try_get("agreement_from")?,
        agreement_to: r.try_get("agreement_to")?,
        status: r.try_get("status")?,
        offers: r.try_get("offers")?,
        clerks: r.try_get("clerks")?,
    })
}

/// The merchants of the caller's subtree.
pub async fn list_merchants(db: &Db, scope: &Scope) -> AppResult<Vec<MerchantRow>> {
    let rows = sqlx::query(&format!(
        "{MERCHANT_SELECT} WHERE o.path LIKE $1 ORDER BY o.path, m.name"
    ))
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(merchant_row)
        .collect::<Result<_, sqlx::Error>>()?)
}

/// The merchants a campaign of the caller's may list: its subtree's and
/// its ancestors' (a city-wide merchant serves a county's vouchers too).
pub async fn campaign_merchants_choice(db: &Db, scope: &Scope) -> AppResult<Vec<MerchantRow>> {
    let rows = sqlx::query(&format!(
        "{MERCHANT_SELECT} WHERE m.status = 'active' AND (o.path LIKE $1 OR $2 LIKE o.path || '%') ORDER BY o.path, m.name"
    ))
    .bind(scope.like())
    .bind(scope.path())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(merchant_row)
        .collect::<Result<_, sqlx::Error>>()?)
}

/// One merchant of the caller's subtree (404 + audit outside it).
pub async fn merchant(db: &Db, scope: &Scope, id: MerchantId) -> AppResult<MerchantRow> {
    let r = sqlx::query(&format!("{MERCHANT_SELECT} WHERE m.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let path: String = r.try_get("path")?;
    scope.admit(db, &path, "merchant", id).await?;
    Ok(merchant_row(&r)?)
}

/// The org's region_root (copied onto every row written for it).
pub async fn region_root(conn: &mut AnyConnection, org: i64) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
    )
}

fn taken(code: &str) -> AppError {
    AppError::conflict(
        format!("统一社会信用代码{code}的商户已登记,请勿重复录入"),
        format!("A merchant with credit code {code} is already registered"),
    )
}

/// Registers a merchant for a union of the caller's subtree.
pub async fn create_merchant(db: &Db, scope: &Scope, m: &Merchant) -> AppResult<MerchantId> {
    scope.require_write()?;
    let org = tree::node(db, scope, OrgId(m.org_id)).await?;
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    let rr = region_root(&mut tx.tx, org.id.0).await?;
    let id: i64 = match sqlx::query_scalar(
        "INSERT INTO merchants (org_id, region_root, name, credit_code, category, address, lng_e6, lat_e6, \
         contact_name, contact_phone, agreement_from, agreement_to, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13, $13) RETURNING id",
    )
    .bind(org.id.0)
    .bind(rr)
    .bind(&m.name)
    .bind(&m.credit_code)
    .bind(&m.category)
    .bind(&m.address)
    .bind(m.coords.map(|c| c.0))
    .bind(m.coords.map(|c| c.1))
    .bind(&m.contact_name)
    .bind(&m.contact_phone)
    .bind(m.from.to_string())
    .bind(m.to.to_string())
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await
    {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(taken(&m.credit_code)),
        Err(e) => return Err(e.into()),
    };
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("merchant.create", "merchant", id)
            .org(org.id)
            .detail(serde_json::json!({"name": m.name, "credit_code": m.credit_code})),
    )
    .await?;
    tx.commit().await?;
    Ok(MerchantId(id))
}

/// Sets a merchant's status (合作中 / 暂停 / 已终止).
pub async fn set_merchant_status(
    db: &Db,
    scope: &Scope,
    id: MerchantId,
    status: &str,
) -> AppResult<()> {
    scope.require_write()?;
    if !model::STATUSES.contains(&status) {
        return Err(AppError::invalid(
            "商户状态须为合作中、暂停或已终止",
            "The status is active, suspended or ended",
        ));
    }
    let m = merchant(db, scope, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE merchants SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(time::now_rfc3339())
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("merchant.status", "merchant", id.0)
            .org(OrgId(m.org_id))
            .detail(serde_json::json!({"before": m.status, "after": status})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ClerkRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

pub async fn clerks(db: &Db, scope: &Scope, id: MerchantId) -> AppResult<Vec<ClerkRow>> {
    merchant(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.active FROM merchant_clerks c JOIN users u ON u.id = c.user_id \
         WHERE c.merchant_id = $1 ORDER BY u.username",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(ClerkRow {
                user_id: r.try_get("id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                active: r.try_get::<i64, _>("active")? == 1,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Creates a clerk account (role `merchant`) for one merchant: the account
/// belongs to the merchant's union and reaches only the redemption pages
/// of its merchant. An administrator of the merchant's subtree creates it;
/// the account and its merchant commit together.
pub async fn create_clerk(
    db: &Db,
    scope: &Scope,
    id: MerchantId,
    username: &str,
    display_name: &str,
    password: &str,
) -> AppResult<i64> {
    scope.require_admin()?;
    let m = merchant(db, scope, id).await?;
    if m.status != "active" {
        return Err(AppError::invalid(
            "该商户不在合作中,不能新增店员账号",
            "The merchant is not active: no clerk account can be added",
        ));
    }
    let ready = auth::prepare_user(
        db,
        scope,
        NewUser {
            username: Username::parse(username)?,
            display_name: display_name.to_string(),
            role: Role::Merchant,
            org_id: OrgId(m.org_id),
            perms: String::new(),
            password: Password::parse(password)?,
        },
    )
    .await?;
    let mut tx = db.begin_write().await?;
    let uid = auth::insert_user(&mut tx, scope, &ready).await?;
    sqlx::query(
        "INSERT INTO merchant_clerks (user_id, merchant_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(uid.0)
    .bind(id.0)
    .bind(time::now_rfc3339())
    .execute(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("merchant.clerk_add", "merchant", id.0)
            .org(OrgId(m.org_id))
            .detail(serde_json::json!({"user_id": uid.0, "username": username.trim().to_ascii_lowercase()})),
    )
    .await?;
    tx.commit().await?;
    Ok(uid.0)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OfferRow {
    pub id: i64,
    pub merchant_id: i64,
    pub merchant_name: String,
    pub title: String,
    pub price_rule: String,
    pub valid_from: String,
    pub valid_to: String,
    pub limit_count: i64,
    pub limit_period: String,
    pub eligibility: String,
    pub elig_group: String,
    pub elig_org_name: String,
    /// active | withdrawn
    pub status: String,
    pub redemptions: i64,
}

const OFFER_SELECT: &str = "SELECT f.id, f.merchant_id, m.name AS merchant_name, f.title, f.price_rule, f.valid_from, f.valid_to, \
    f.limit_count, f.limit_period, f.eligibility, f.elig_group, COALESCE(eo.name, '') AS elig_org_name, f.status, \
    (SELECT COUNT(*) FROM redemptions r WHERE r.offer_id = f.id) AS redemptions \
    FROM offers f JOIN merchants m ON m.id = f.merchant_id JOIN orgs o ON o.id = m.org_id \
    LEFT JOIN orgs eo ON eo.id = f.elig_org_id";

fn offer_row(r: &sqlx::any::AnyRow) -> Result<OfferRow, sqlx::Error> {
    Ok(OfferRow {
        id: r.try_get("id")?,
        merchant_id: r.try_get("merchant_id")?,
        merchant_name: r.try_get("merchant_name")?,
        title: r.try_get("title")?,
        price_rule: r.try_get("price_rule")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        limit_count: r.try_get("limit_count")?,
        limit_period: r.try_get("limit_period")?,
        eligibility: r.try_get("eligibility")?,
        elig_group: r.try_get("elig_group")?,
        elig_org_name: r.try_get("elig_org_name")?,
        status: r.try_get("status")?,
        redemptions: r.try_get("redemptions")?,
    })
}

/// The offers of a merchant of the caller's subtree.
pub async fn offers(db: &Db, scope: &Scope, id: MerchantId) -> AppResult<Vec<OfferRow>> {
    merchant(db, scope, id).await?;
    offers_of(db, id.0).await
}

/// The offers of a merchant (no scope: the clerk's own merchant).
pub async fn offers_of(db: &Db, merchant: i64) -> AppResult<Vec<OfferRow>> {
    let rows = sqlx::query(&format!(
        "{OFFER_SELECT} WHERE f.merchant_id = $1 ORDER BY f.status, f.valid_to DESC, f.id"
    ))
    .bind(merchant)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(offer_row)
        .collect::<Result<_, sqlx::Error>>()?)
}

/// The offers of the caller's subtree's merchants.
pub async fn list_offers(db: &Db, scope: &Scope) -> AppResult<Vec<OfferRow>> {
    let rows = sqlx::query(&format!(
        "{OFFER_SELECT} WHERE o.path LIKE $1 ORDER BY o.path, m.name, f.id"
    ))
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(offer_row)
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Adds an offer to a merchant of the caller's subtree. A subtree
/// eligibility names a union of the caller's subtree.
pub async fn create_offer(
    db: &Db,
    scope: &Scope,
    groups: &[PersonGroup],
    id: MerchantId,
    f: &Offer,
) -> AppResult<OfferId> {
    scope.require_write()?;
    if let Eligibility::Group(k) = &f.eligibility {
        model::person_group(groups, k)?;
    }
    let m = merchant(db, scope, id).await?;
    if m.status != "active" {
        return Err(AppError::invalid(
            "该商户不在合作中,不能发布优惠",
            "The merchant is not active: no offer can be added",
        ));
    }
    let (kind, group, elig_org) = f.eligibility.columns();
    let elig_path = match &f.eligibility {
        Eligibility::Subtree(o) => tree::node(db, scope, OrgId(*o)).await?.path,
        _ => String::new(),
    };
    let mut tx = db.begin_write().await?;
    let rr = region_root(&mut tx.tx, m.org_id).await?;
    let oid: i64 = sqlx::query_scalar(
        "INSERT INTO offers (merchant_id, org_id, region_root, title, price_rule, valid_from, valid_to, limit_count, \
         limit_period, eligibility, elig_group, elig_org_id, elig_path, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14) RETURNING id",
    )
    .bind(id.0)
    .bind(m.org_id)
    .bind(rr)
    .bind(&f.title)
    .bind(&f.price_rule)
    .bind(f.from.to_string())
    .bind(f.to.to_string())
    .bind(f.limit_count)
    .bind(&f.limit_period)
    .bind(kind)
    .bind(&group)
    .bind(elig_org)
    .bind(&elig_path)
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("offer.create", "offer", oid)
            .org(OrgId(m.org_id))
            .detail(
                serde_json::json!({"merchant_id": id.0, "title": f.title, "eligibility": kind}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(OfferId(oid))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub value_fen: Fen,
    pub quantity: i64,
    pub issued: i64,
    pub redeemed: i64,
    pub redeemed_fen: Fen,
    pub expires_on: String,
    pub merchants: Vec<String>,
}

/// The campaigns issued by unions of the caller's subtree.
pub async fn campaigns(db: &Db, scope: &Scope) -> AppResult<Vec<CampaignRow>> {
    let rows = sqlx::query(
        "SELECT c.id, c.org_id, o.name AS org_name, c.name, c.value_fen, c.quantity, c.issued, c.expires_on, \
         (SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = c.id AND v.status = 'redeemed') AS redeemed \
         FROM voucher_campaigns c JOIN orgs o ON o.id = c.org_id WHERE o.path LIKE $1 ORDER BY c.id DESC",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let merchants: Vec<String> = sqlx::query_scalar(
            "SELECT m.name FROM campaign_merchants cm JOIN merchants m ON m.id = cm.merchant_id \
             WHERE cm.campaign_id = $1 ORDER BY m.name",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await?;
        let value: i64 = r.try_get("value_fen")?;
        let redeemed: i64 = r.try_get("redeemed")?;
        out.push(CampaignRow {
            id,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            name: r.try_get("name")?,
            value_fen: Fen::from_fen(value),
            quantity: r.try_get("quantity")?,
            issued: r.try_get("issued")?,
            redeemed,
            redeemed_fen: Fen::from_fen(value)
                .checked_mul(redeemed)
                .unwrap_or_default(),
            expires_on: r.try_get("expires_on")?,
            merchants,
        });
    }
    Ok(out)
}

/// The roster selection's condition over `memberships m JOIN persons p
/// JOIN orgs o` (current members, not ended).
fn selection_sql(sel: &Eligibility, groups: &[PersonGroup]) -> AppResult<(String, Option<String>)> {
    let base = "o.path LIKE $1 AND m.status <> 'ended'".to_string();
    Ok(match sel {
        // Only the persons the issuing union's own subtree keeps in the
        // group: another county's files stay unseen.
        Eligibility::Group(k) => (
            format!(
                "{base} AND {}",
                model::person_group(groups, k)?.condition_within("p.id_hash", "$1")
            ),
            None,
        ),
        Eligibility::Migrant => (format!("{base} AND p.migrant = 1"), None),
        Eligibility::NewEmployment(g) if g.is_empty() => {
            (format!("{base} AND p.new_employment_group <> ''"), None)
        }
        Eligibility::NewEmployment(g) => (
            format!("{base} AND p.new_employment_group = $2"),
            Some(g.clone()),
        ),
        _ => (base, None),
    })
}

/// Creates a campaign and issues its vouchers — one per current member of
/// the issuing union's subtree in the selection — in one transaction. A
/// selection larger than the quantity, an empty one, or a merchant the
/// caller cannot list is refused and nothing is written.
pub async fn create_campaign(
    db: &Db,
    scope: &Scope,
    groups: &[PersonGroup],
    c: &Campaign,
) -> AppResult<(CampaignId, i64)> {
    scope.require_write()?;
    let org = tree::node(db, scope, OrgId(c.org_id)).await?;
    let allowed: Vec<i64> = campaign_merchants_choice(db, scope)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    if let Some(bad) = c.merchant_ids.iter().find(|m| !allowed.contains(m)) {
        return Err(AppError::invalid(
            format!("商户(编号{bad})不存在、不在合作中或不在您的管辖范围内,不能列为消费券使用商户"),
            format!("Merchant {bad} does not exist, is not active or is outside your unions: it cannot accept the vouchers"),
        ));
    }
    let (cond, group) = selection_sql(&c.selection, groups)?;
    let from = "memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id";
    let like = format!("{}%", org.path);
    let mut tx = db.begin_write().await?;
    let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {from} WHERE {cond}");
    let mut q = sqlx::query_scalar::<_, i64>(&count_sql).bind(&like);
    if let Some(g) = &group {
        q = q.bind(g);
    }
    let n = q.fetch_one(&mut *tx.tx).await?;
    if n == 0 {
        return Err(AppError::invalid(
            "所选范围内没有符合条件的在籍会员,未发放消费券",
            "No current member of the chosen unions fits the selection: nothing was issued",
        ));
    }
    if n > c.quantity {
        return Err(AppError::invalid(
            format!("所选范围内有{n}名符合条件的会员,超过发行数量{}张;请增加发行数量或缩小范围", c.quantity),
            format!("{n} members fit the selection, more than the {} vouchers to issue: raise the quantity or narrow the selection", c.quantity),
        ));
    }
    let rr = region_root(&mut tx.tx, org.id.0).await?;
    let today = time::today().to_string();
    let sel = serde_json::to_string(&c.selection).map_err(anyhow::Error::from)?;
    let cid: i64 = sqlx::query_scalar(
        "INSERT INTO voucher_campaigns (org_id, region_root, name, value_fen, quantity, issued, expires_on, selection, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org.id.0)
    .bind(rr)
    .bind(&c.name)
    .bind(c.value.fen())
    .bind(c.quantity)
    .bind(n)
    .bind(c.expires_on.to_string())
    .bind(&sel)
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    for m in &c.merchant_ids {
        sqlx::query("INSERT INTO campaign_merchants (campaign_id, merchant_id) VALUES ($1, $2)")
            .bind(cid)
            .bind(m)
            .execute(&mut *tx.tx)
            .await?;
    }
    let (p_campaign, p_value, p_today) = if group.is_some() {
        ("$3", "$4", "$5")
    } else {
        ("$2", "$3", "$4")
    };
    let insert_sql = format!(
        "INSERT INTO vouchers (campaign_id, membership_id, person_id, org_id, region_root, value_fen, status, issued_on) \
         SELECT {p_campaign}, m.id, m.person_id, m.org_id, o.region_root, {p_value}, 'issued', {p_today} FROM {from} WHERE {cond}"
    );
    let mut q = sqlx::query(&insert_sql).bind(&like);
    if let Some(g) = &group {
        q = q.bind(g);
    }
    let written = q
        .bind(cid)
        .bind(c.value.fen())
        .bind(&today)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
    if written != n as u64 {
        return Err(AppError::conflict(
            "发放期间会员名册发生变化,请重试",
            "The roster changed while issuing: try again",
        ));
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("voucher.campaign_issue", "voucher_campaign", cid)
            .org(org.id)
            .detail(serde_json::json!({
                "name": c.name, "value_fen": c.value.fen(), "issued": n,
                "merchants": c.merchant_ids, "selection": c.selection, "expires_on": c.expires_on.to_string()
            })),
    )
    .await?;
    tx.commit().await?;
    Ok((CampaignId(cid), n))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// What the row groups by: the merchant's, offer's, campaign's, union's
    /// name, or the month.
    pub key: String,
    pub redemptions: i64,
    /// Distinct members.
    pub members: i64,
    pub amount_fen: Fen,
}

/// Usage of the caller's subtree's members (by the member's union), for a
/// period, grouped by merchant | offer | campaign | union | month.
pub async fn usage(
    db: &Db,
    scope: &Scope,
    by: &str,
    from: &str,
    to: &str,
) -> AppResult<Vec<UsageRow>> {
    let key = match by {
        "offer" => "COALESCE(f.title, '')",
        "campaign" => "COALESCE(c.name, '')",
        "union" => "o.name",
        "month" => "SUBSTR(r.on_date, 1, 7)",
        _ => "mm.name",
    };
    let rows = sqlx::query(&format!(
        "SELECT {key} AS k, CAST(COUNT(*) AS BIGINT) AS n, CAST(COUNT(DISTINCT r.person_id) AS BIGINT) AS persons, \
         CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) AS amount \
         FROM redemptions r JOIN orgs o ON o.id = r.org_id JOIN merchants mm ON mm.id = r.merchant_id \
         LEFT JOIN offers f ON f.id = r.offer_id LEFT JOIN voucher_campaigns c ON c.id = r.campaign_id \
         WHERE o.path LIKE $1 AND r.on_date >= $2 AND r.on_date <= $3 \
         GROUP BY {key} ORDER BY n DESC, k"
    ))
    .bind(scope.like())
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(UsageRow {
                key: r.try_get("k")?,
                redemptions: r.try_get("n")?,
                members: r.try_get("persons")?,
                amount_fen: Fen::from_fen(r.try_get("amount")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SettlementRow {
    pub merchant: String,
    pub credit_code: String,
    pub campaign: String,
    pub value_fen: Fen,
    pub redeemed: i64,
    pub amount_fen: Fen,
}

/// What the caller's unions owe each merchant for the vouchers of their
/// campaigns redeemed in the period: redeemed × value, per merchant and
/// campaign.
pub async fn settlement(
    db: &Db,
    scope: &Scope,
    from: &str,
    to: &str,
) -> AppResult<Vec<SettlementRow>> {
    let rows = sqlx::query(
        "SELECT mm.name AS merchant, mm.credit_code, c.name AS campaign, c.value_fen, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(r.amount_fen) AS BIGINT) AS amount \
         FROM redemptions r JOIN voucher_campaigns c ON c.id = r.campaign_id JOIN orgs co ON co.id = c.org_id \
         JOIN merchants mm ON mm.id = r.merchant_id \
         WHERE r.kind = 'voucher' AND co.path LIKE $1 AND r.on_date >= $2 AND r.on_date <= $3 \
         GROUP BY mm.name, mm.credit_code, c.name, c.value_fen ORDER BY mm.name, c.name",
    )
    .bind(scope.like())
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(SettlementRow {
                merchant: r.try_get("merchant")?,
                credit_code: r.try_get("credit_code")?,
                campaign: r.try_get("campaign")?,
                value_fen: Fen::from_fen(r.try_get("value_fen")?),
                redeemed: r.try_get("n")?,
                amount_fen: Fen::from_fen(r.try_get("amount")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// The settlement as an xlsx workbook (amounts in 元 with their fen).
/// Usage as the page shows it (grouped by `by`), as xlsx with a total line.
pub fn usage_xlsx(rows: &[UsageRow], by: &str, from: &str, to: &str) -> AppResult<Vec<u8>> {
    use sheet::CellOut;
    let yuan = |f: Fen| CellOut::Num(f.fen() as f64 / 100.0);
    let mut out: Vec<Vec<CellOut>> = rows
        .iter()
        .map(|r| {
            vec![
                CellOut::Text(r.key.clone()),
                CellOut::Int(r.redemptions),
                CellOut::Int(r.members),
                yuan(r.amount_fen),
            ]
        })
        .collect();
    out.push(vec![
        CellOut::Text(format!("合计({from} 至 {to})")),
        CellOut::Int(rows.iter().map(|r| r.redemptions).sum()),
        // Members are distinct per row; a member may be in several rows.
        CellOut::Empty,
        yuan(Fen::checked_sum(rows.iter().map(|r| r.amount_fen)).unwrap_or_default()),
    ]);
    let first = match by {
        "offer" => "优惠",
        "campaign" => "消费券活动",
        "union" => "会员所在工会",
        "month" => "月份",
        _ => "商户",
    };
    sheet::write_xlsx(&[sheet::SheetOut {
        name: "普惠使用情况".into(),
        headers: [first, "核销次数", "会员人数", "金额(元)"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: out,
        col_widths: None,
    }])
    .map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

pub fn settlement_xlsx(rows: &[SettlementRow], from: &str, to: &str) -> AppResult<Vec<u8>> {
    use sheet::CellOut;
    let yuan = |f: Fen| CellOut::Num(f.fen() as f64 / 100.0);
    let mut out: Vec<Vec<CellOut>> = rows
        .iter()
        .map(|r| {
            vec![
                CellOut::Text(r.merchant.clone()),
                CellOut::Text(r.credit_code.clone()),
                CellOut::Text(r.campaign.clone()),
                yuan(r.value_fen),
                CellOut::Int(r.redeemed),
                yuan(r.amount_fen),
            ]
        })
        .collect();
    let total = Fen::checked_sum(rows.iter().map(|r| r.amount_fen)).unwrap_or_default();
    out.push(vec![
        CellOut::Text("合计".into()),
        CellOut::Empty,
        CellOut::Text(format!("{from} 至 {to}")),
        CellOut::Empty,
        CellOut::Int(rows.iter().map(|r| r.redeemed).sum()),
        yuan(total),
    ]);
    sheet::write_xlsx(&[sheet::SheetOut {
        name: "消费券结算".into(),
        headers: [
            "商户",
            "统一社会信用代码",
            "消费券活动",
            "面值(元)",
            "核销张数",
            "结算金额(元)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: out,
        col_widths: None,
    }])
    .map_err(|e| AppError::Internal(anyhow::anyhow!("settlement xlsx: {e}")))
}
