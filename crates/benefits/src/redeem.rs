//! Redemption at the counter (核销): the clerk scans the member's card QR
//! code (or types the card number and the last 4 digits of the member's
//! phone) and chooses an offer of the shop or a voucher campaign the shop
//! accepts. One transaction checks the card's signature, that it is not
//! revoked and the membership not ended, the merchant's agreement, the
//! offer's or campaign's validity, eligibility and limits, and writes the
//! redemption with its audit entry.
//!
//! Races are settled by the database, never by a read-then-write: a voucher
//! is claimed by a conditional UPDATE (`… AND status = 'issued'`) backed by a
//! unique index on the redemption's voucher; an offer's n-th use in a period
//! is a unique (offer, person, period, n) row, so of two clerks racing for
//! the last use one gets the unique violation and is refused.

use axum::{extract::FromRequestParts, http::request::Parts};
use platform::{
    audit::{self, Event},
    auth::Session,
    crypto::Keys,
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    i18n::Msg,
    ids::OrgId,
    money::Fen,
    scope::{Actor, Role},
    time,
    web::{ctx::Ctx, AppState},
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::model::{self, MemberFacts};

/// A signed-in merchant clerk and the merchant the account belongs to; the
/// extractor refuses everyone else (staff included: they do not redeem).
#[derive(Clone, Debug)]
pub struct Clerk {
    pub ctx: Ctx,
    pub session: Session,
    pub merchant_id: i64,
    pub merchant_name: String,
}

impl Clerk {
    pub fn actor(&self) -> &Actor {
        &self.session.scope.actor
    }
    pub fn user_id(&self) -> i64 {
        self.session.user_id.0
    }
}

fn clerks_only() -> AppError {
    AppError::forbidden(
        "此页面仅供合作商户的店员使用",
        "This page is for the clerks of partner merchants",
    )
}

impl FromRequestParts<AppState> for Clerk {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let Some(session) = ctx.session.clone() else {
            return Err(AppError::Unauthenticated);
        };
        if session.scope.role != Role::Merchant {
            return Err(clerks_only());
        }
        let row = sqlx::query(
            "SELECT m.id, m.name FROM merchant_clerks c JOIN merchants m ON m.id = c.merchant_id WHERE c.user_id = $1",
        )
        .bind(session.user_id.0)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(clerks_only)?;
        Ok(Clerk {
            merchant_id: row.try_get("id")?,
            merchant_name: row.try_get("name")?,
            ctx,
            session,
        })
    }
}

/// A signed-in merchant clerk whose shop is looked up in the redemption's
/// own transaction (the API's extractor: one read fewer per request on the
/// hottest path; a clerk removed from the shop is refused there, 403 as
/// [`Clerk`] refuses).
#[derive(Clone, Debug)]
pub struct ClerkSession {
    pub session: Session,
}

impl FromRequestParts<AppState> for ClerkSession {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.session {
            Some(session) if session.scope.role == Role::Merchant => Ok(ClerkSession { session }),
            Some(_) => Err(clerks_only()),
            None => Err(AppError::Unauthenticated),
        }
    }
}

/// Who redeems: the clerk's account, and the shop when it is already known.
pub struct Counterside<'a> {
    pub actor: &'a Actor,
    pub clerk_user: i64,
    /// None: the redemption's transaction finds the clerk's shop.
    pub merchant_id: Option<i64>,
}

impl<'a> From<&'a Clerk> for Counterside<'a> {
    fn from(c: &'a Clerk) -> Self {
        Counterside {
            actor: c.actor(),
            clerk_user: c.user_id(),
            merchant_id: Some(c.merchant_id),
        }
    }
}

impl<'a> From<&'a ClerkSession> for Counterside<'a> {
    fn from(c: &'a ClerkSession) -> Self {
        Counterside {
            actor: &c.session.scope.actor,
            clerk_user: c.session.user_id.0,
            merchant_id: None,
        }
    }
}

/// The shop of a clerk's account (None: not a clerk of any shop).
pub(crate) const CLERK_MERCHANT_SQL: &str =
    "SELECT merchant_id FROM merchant_clerks WHERE user_id = $1";

/// What the clerk sends: the card (scanned token, or number + the last 4
/// digits of the member's phone) and what to redeem (an offer of the shop
/// or a voucher campaign the shop accepts).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RedeemInput {
    /// The token from the card's QR code, or the whole scanned URL.
    pub token: String,
    /// Or the card number (GH + 12 digits) …
    pub card_no: String,
    /// … and the last 4 digits of the member's mobile number.
    pub phone_last4: String,
    /// "offer:ID" or "campaign:ID" (the page's one select), or use the two
    /// fields below.
    pub item: String,
    pub offer_id: Option<i64>,
    pub campaign_id: Option<i64>,
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Offer(i64),
    Campaign(i64),
}

impl RedeemInput {
    fn item(&self) -> AppResult<Item> {
        let bad = || {
            AppError::invalid(
                "请选择要核销的优惠或消费券",
                "Choose the offer or voucher to redeem",
            )
        };
        if let Some(o) = self.offer_id {
            return Ok(Item::Offer(o));
        }
        if let Some(c) = self.campaign_id {
            return Ok(Item::Campaign(c));
        }
        let (k, v) = self.item.trim().split_once(':').ok_or_else(bad)?;
        let id: i64 = v.parse().map_err(|_| bad())?;
        match k {
            "offer" => Ok(Item::Offer(id)),
            "campaign" => Ok(Item::Campaign(id)),
            _ => Err(bad()),
        }
    }
}

/// A recorded redemption, as the clerk's phone shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Redeemed {
    pub id: i64,
    /// offer | voucher
    pub kind: String,
    /// The offer's title or the campaign's name.
    pub title: String,
    /// The offer's price rule, or the voucher's value in words.
    pub detail: String,
    pub card_no: String,
    /// 张* — never more of the member.
    pub name_masked: String,
    pub union_name: String,
    /// The voucher's value (0 for an offer).
    pub amount_fen: Fen,
    pub redeemed_at: String,
    /// "第2次(每月限3次)" for an offer.
    #[schema(value_type = Object)]
    pub message: Msg,
}

fn forged() -> AppError {
    AppError::invalid(
        "无效的会员卡二维码:不是本平台签发的,或内容被改动。请让会员刷新卡面后重新扫码,或改为输入卡号和手机号后四位",
        "Invalid member-card code: not issued by this platform, or altered. Ask the member to reopen the card and scan again, or type the card number and the last 4 digits of the phone",
    )
}

fn no_such_card() -> AppError {
    AppError::invalid(
        "卡号或手机号后四位不正确,请核对会员卡上的卡号(GH开头的14位)和会员本人手机号的后四位",
        "The card number or the last 4 digits of the phone are wrong: check the card number (GH + 12 digits) and the member's own phone",
    )
}

/// The card a request names: from the signed token, or from the number
/// with the phone's last 4 digits (checked against the member below).
fn card_of(keys: &Keys, input: &RedeemInput) -> AppResult<(String, Option<String>)> {
    if !input.token.trim().is_empty() {
        let no = members::card::parse_token(keys, &input.token).ok_or_else(forged)?;
        return Ok((no, None));
    }
    let no = input.card_no.trim().to_ascii_uppercase();
    let four = input.phone_last4.trim();
    if no.is_empty() && four.is_empty() {
        return Err(AppError::invalid(
            "请扫描会员卡二维码,或输入卡号和手机号后四位",
            "Scan the member card's QR code, or type the card number and the last 4 digits of the phone",
        ));
    }
    let well_formed = no.len() == 14
        && no.starts_with("GH")
        && no[2..].bytes().all(|b| b.is_ascii_digit())
        && four.len() == 4
        && four.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(no_such_card());
    }
    Ok((no, Some(four.to_string())))
}

/// Verifies the card and records the redemption, in one transaction. Every
/// refusal writes nothing but its audit entry (`benefit.redeem_refused`).
pub async fn redeem(
    st: &AppState,
    who: Counterside<'_>,
    input: &RedeemInput,
) -> AppResult<Redeemed> {
    let db = &st.db;
    // A typed card number is a guess until the phone digits match: counted
    // (`limits`), and refused past the limit before anything is read.
    let typed = input.token.trim().is_empty();
    let typed_no = input.card_no.trim().to_ascii_uppercase();
    let limits = crate::limits::of(st);
    let refused = |e: AppError| async {
        // The shop the refusal is recorded under (looked up here when the
        // transaction did not get that far: refusals are the rare path).
        let shop = match who.merchant_id {
            Some(m) => Some(m),
            None => {
                sqlx::query_scalar::<_, i64>(CLERK_MERCHANT_SQL)
                    .bind(who.clerk_user)
                    .fetch_optional(db.pool())
                    .await?
            }
        };
        if let Some(shop) = shop {
            audit::record(
                db,
                who.actor,
                Event::new("benefit.redeem_refused", "merchant", shop)
                    .detail(serde_json::json!({"reason": e.user_message().en})),
            )
            .await?;
        }
        Err::<Redeemed, _>(e)
    };
    if typed {
        if let Err(e) = limits.begin_typed(&typed_no, who.clerk_user) {
            return refused(e).await;
        }
    }
    match redeem_tx(st, who.merchant_id, who.clerk_user, who.actor, input).await {
        Ok(r) => {
            if typed {
                limits.right_typed(&typed_no, who.clerk_user);
            }
            Ok(r)
        }
        Err(e) => {
            // A wrong card number or wrong digits keeps its counted try.
            if typed && e.user_message().zh != no_such_card().user_message().zh {
                limits.right_typed(&typed_no, who.clerk_user);
            }
            if matches!(
                e,
                AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_)
            ) {
                return refused(e).await;
            }
            Err(e)
        }
    }
}

/// How many times an offer's use is tried again after another clerk took
/// the same place in the member's limit at the same moment.
const RACE_RETRIES: usize = 5;

/// The transaction of [`redeem`] (the benchmark calls it directly). On an
/// SQLite file it runs on the counter writer (`counter`: one connection of
/// its own, several clerks' redemptions in one commit); elsewhere in a
/// write transaction of its own. An offer's use that lost a race for its
/// place in the limit is tried again (counting the winner), so racing uses
/// under the limit all succeed and none beyond it does.
pub async fn redeem_tx(
    st: &AppState,
    merchant_id: Option<i64>,
    clerk_user: i64,
    actor: &Actor,
    input: &RedeemInput,
) -> AppResult<Redeemed> {
    let job = Job::new(st, merchant_id, clerk_user, actor, input)?;
    let counter = crate::counter::of(st);
    for _ in 0..RACE_RETRIES {
        let done = match counter.as_deref() {
            Some(c) => c.redeem(job.clone()).await?,
            None => {
                let mut tx = st.db.begin_write().await?;
                let mut store = SqlxStore {
                    tx: &mut tx,
                    groups: &st.registry.person_groups(),
                };
                match attempt(&mut store, &job).await? {
                    Some(r) => {
                        tx.commit().await?;
                        Some(r)
                    }
                    None => None,
                }
            }
        };
        if let Some(r) = done {
            return Ok(r);
        }
    }
    Err(AppError::conflict(
        "同一会员正在多处同时核销,请稍后重试",
        "The member is being served at several counters at once: try again",
    ))
}

/// One redemption to check and record: who asks, for which card and item,
/// on which day. Made before any store is touched (a malformed request is
/// refused here).
#[derive(Clone, Debug)]
pub(crate) struct Job {
    /// None: found from the clerk's account in the transaction.
    pub merchant_id: Option<i64>,
    pub clerk_user: i64,
    pub actor: Actor,
    item: Item,
    card_no: String,
    /// The typed phone digits; None for a scanned (signed) card.
    phone4: Option<String>,
    now: String,
    today: chrono::NaiveDate,
}

impl Job {
    fn new(
        st: &AppState,
        merchant_id: Option<i64>,
        clerk_user: i64,
        actor: &Actor,
        input: &RedeemInput,
    ) -> AppResult<Job> {
        let item = input.item()?;
        let (card_no, phone4) = card_of(&st.keys, input)?;
        Ok(Job {
            merchant_id,
            clerk_user,
            actor: actor.clone(),
            item,
            card_no,
            phone4,
            now: time::now_rfc3339(),
            today: time::today(),
        })
    }
}

// ─────────────────────── what a redemption reads and writes ───────────────────────
//
// The rules are written once, in `attempt`, over a `Store`: `SqlxStore`
// (PostgreSQL, in-memory SQLite) here, `counter::SqliteStore` on the counter
// writer's own SQLite connection. The SQL text is shared too.

pub(crate) const CARD_SQL: &str = "SELECT c.status, c.membership_id, c.person_id, m.status AS ms, m.org_id, o.path, o.region_root, \
     o.name AS union_name, p.name, p.migrant, p.new_employment_group, p.phone_masked, p.id_hash \
     FROM cards c JOIN memberships m ON m.id = c.membership_id JOIN persons p ON p.id = c.person_id \
     JOIN orgs o ON o.id = m.org_id WHERE c.card_no = $1";
pub(crate) const SHOP_SQL: &str =
    "SELECT status, agreement_from, agreement_to FROM merchants WHERE id = $1";
pub(crate) const OFFER_SQL: &str =
    "SELECT merchant_id, title, price_rule, valid_from, valid_to, limit_count, limit_period, \
     eligibility, elig_group, elig_path, status FROM offers WHERE id = $1";
pub(crate) const OFFER_USES_SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE offer_id = $1 AND person_id = $2 AND period_key = $3";
pub(crate) const CAMPAIGN_SQL: &str = "SELECT c.name, c.expires_on, \
     (SELECT COUNT(*) FROM campaign_merchants cm WHERE cm.campaign_id = c.id AND cm.merchant_id = $2) AS here \
     FROM voucher_campaigns c WHERE c.id = $1";
/// The claim: only an unused voucher of this member turns used.
pub(crate) const CLAIM_SQL: &str =
    "UPDATE vouchers SET status = 'redeemed', redeemed_at = $1, merchant_id = $2 \
     WHERE campaign_id = $3 AND person_id = $4 AND status = 'issued' RETURNING id, value_fen";
pub(crate) const VOUCHER_STATUS_SQL: &str =
    "SELECT status FROM vouchers WHERE campaign_id = $1 AND person_id = $2";
/// Values in the order of [`NewRedemption`]'s fields (the pool's path adds
/// `RETURNING id`; the counter writer asks SQLite for the last rowid).
pub(crate) const INSERT_SQL: &str = "INSERT INTO redemptions (kind, merchant_id, offer_id, voucher_id, campaign_id, membership_id, person_id, \
     org_id, region_root, card_no, clerk_user_id, amount_fen, on_date, period_key, seq, redeemed_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// The card with its membership, person and union ([`CARD_SQL`]).
pub(crate) struct CardRow {
    pub status: String,
    pub membership_id: i64,
    pub person_id: i64,
    pub membership_status: String,
    pub org_id: i64,
    pub path: String,
    pub region_root: Option<i64>,
    pub union_name: String,
    pub name: String,
    pub migrant: i64,
    pub new_employment_group: String,
    pub phone_masked: Option<String>,
    pub id_hash: String,
}

/// [`SHOP_SQL`]
#[derive(Clone)]
pub(crate) struct ShopRow {
    pub status: String,
    pub agreement_from: String,
    pub agreement_to: String,
}

/// [`OFFER_SQL`]
pub(crate) struct OfferRow {
    pub merchant_id: i64,
    pub title: String,
    pub price_rule: String,
    pub valid_from: String,
    pub valid_to: String,
    pub limit_count: i64,
    pub limit_period: String,
    pub eligibility: String,
    pub elig_group: String,
    pub elig_path: String,
    pub status: String,
}

/// [`CAMPAIGN_SQL`]
#[derive(Clone)]
pub(crate) struct CampaignRow {
    pub name: String,
    pub expires_on: String,
    pub here: i64,
}

/// A redemption row to insert ([`INSERT_SQL`]).
pub(crate) struct NewRedemption<'a> {
    pub kind: &'static str,
    pub merchant_id: i64,
    pub offer_id: Option<i64>,
    pub voucher_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub membership_id: i64,
    pub person_id: i64,
    pub org_id: i64,
    pub region_root: Option<i64>,
    pub card_no: &'a str,
    pub clerk_user_id: i64,
    pub amount_fen: i64,
    pub on_date: &'a str,
    pub period_key: &'a str,
    pub seq: i64,
    pub redeemed_at: &'a str,
}

/// The reads and writes of one redemption, inside the caller's write
/// transaction.
pub(crate) trait Store {
    async fn clerk_merchant(&mut self, clerk_user: i64) -> AppResult<Option<i64>>;
    async fn card(&mut self, card_no: &str) -> AppResult<Option<CardRow>>;
    async fn shop(&mut self, merchant_id: i64) -> AppResult<ShopRow>;
    async fn offer(&mut self, offer_id: i64) -> AppResult<Option<OfferRow>>;
    /// Whether the declared person group `key` holds the person now (false
    /// for a group no module declares).
    async fn in_group(&mut self, key: &str, id_hash: &str) -> AppResult<bool>;
    /// The person groups the modules of this build declare (for the
    /// refusal's words).
    fn groups(&self) -> &[platform::person::PersonGroup];
    async fn offer_uses(
        &mut self,
        offer_id: i64,
        person_id: i64,
        period_key: &str,
    ) -> AppResult<i64>;
    async fn campaign(
        &mut self,
        campaign_id: i64,
        merchant_id: i64,
    ) -> AppResult<Option<CampaignRow>>;
    /// (voucher id, value) of the member's voucher, now used; None if the
    /// member holds none unused.
    async fn claim_voucher(
        &mut self,
        now: &str,
        merchant_id: i64,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<(i64, i64)>>;
    async fn voucher_status(
        &mut self,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<String>>;
    /// The new row's id; None when a unique index refused it (a racing
    /// clerk took the voucher or the place in the limit).
    async fn insert(&mut self, r: &NewRedemption<'_>) -> AppResult<Option<i64>>;
    async fn audit(&mut self, actor: &Actor, ev: Event<'_>) -> AppResult<()>;
}

/// The portable store: sqlx in a [`platform::db::WriteTx`].
struct SqlxStore<'a> {
    tx: &'a mut platform::db::WriteTx,
    groups: &'a [platform::person::PersonGroup],
}

impl Store for SqlxStore<'_> {
    async fn clerk_merchant(&mut self, clerk_user: i64) -> AppResult<Option<i64>> {
        Ok(sqlx::query_scalar(CLERK_MERCHANT_SQL)
            .bind(clerk_user)
            .fetch_optional(&mut *self.tx.tx)
            .await?)
    }
    async fn card(&mut self, card_no: &str) -> AppResult<Option<CardRow>> {
        let Some(r) = sqlx::query(CARD_SQL)
            .bind(card_no)
            .fetch_optional(&mut *self.tx.tx)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(CardRow {
            status: r.try_get("status")?,
            membership_id: r.try_get("membership_id")?,
            person_id: r.try_get("person_id")?,
            membership_status: r.try_get("ms")?,
            org_id: r.try_get("org_id")?,
            path: r.try_get("path")?,
            region_root: r.try_get("region_root")?,
            union_name: r.try_get("union_name")?,
            name: r.try_get("name")?,
            migrant: r.try_get("migrant")?,
            new_employment_group: r.try_get("new_employment_group")?,
            phone_masked: r.try_get("phone_masked")?,
            id_hash: r.try_get("id_hash")?,
        }))
    }
    async fn shop(&mut self, merchant_id: i64) -> AppResult<ShopRow> {
        let r = sqlx::query(SHOP_SQL)
            .bind(merchant_id)
            .fetch_one(&mut *self.tx.tx)
            .await?;
        Ok(ShopRow {
            status: r.try_get("status")?,
            agreement_from: r.try_get("agreement_from")?,
            agreement_to: r.try_get("agreement_to")?,
        })
    }
    async fn offer(&mut self, offer_id: i64) -> AppResult<Option<OfferRow>> {
        let Some(f) = sqlx::query(OFFER_SQL)
            .bind(offer_id)
            .fetch_optional(&mut *self.tx.tx)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(OfferRow {
            merchant_id: f.try_get("merchant_id")?,
            title: f.try_get("title")?,
            price_rule: f.try_get("price_rule")?,
            valid_from: f.try_get("valid_from")?,
            valid_to: f.try_get("valid_to")?,
            limit_count: f.try_get("limit_count")?,
            limit_period: f.try_get("limit_period")?,
            eligibility: f.try_get("eligibility")?,
            elig_group: f.try_get("elig_group")?,
            elig_path: f.try_get("elig_path")?,
            status: f.try_get("status")?,
        }))
    }
    fn groups(&self) -> &[platform::person::PersonGroup] {
        self.groups
    }
    async fn in_group(&mut self, key: &str, id_hash: &str) -> AppResult<bool> {
        match self.groups.iter().find(|g| g.key == key) {
            Some(g) => g.holds(&mut self.tx.tx, id_hash).await,
            None => Ok(false),
        }
    }
    async fn offer_uses(
        &mut self,
        offer_id: i64,
        person_id: i64,
        period_key: &str,
    ) -> AppResult<i64> {
        Ok(sqlx::query_scalar(OFFER_USES_SQL)
            .bind(offer_id)
            .bind(person_id)
            .bind(period_key)
            .fetch_one(&mut *self.tx.tx)
            .await?)
    }
    async fn campaign(
        &mut self,
        campaign_id: i64,
        merchant_id: i64,
    ) -> AppResult<Option<CampaignRow>> {
        let Some(c) = sqlx::query(CAMPAIGN_SQL)
            .bind(campaign_id)
            .bind(merchant_id)
            .fetch_optional(&mut *self.tx.tx)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(CampaignRow {
            name: c.try_get("name")?,
            expires_on: c.try_get("expires_on")?,
            here: c.try_get("here")?,
        }))
    }
    async fn claim_voucher(
        &mut self,
        now: &str,
        merchant_id: i64,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<(i64, i64)>> {
        let v = sqlx::query(CLAIM_SQL)
            .bind(now)
            .bind(merchant_id)
            .bind(campaign_id)
            .bind(person_id)
            .fetch_optional(&mut *self.tx.tx)
            .await?;
        Ok(match v {
            Some(v) => Some((v.try_get("id")?, v.try_get("value_fen")?)),
            None => None,
        })
    }
    async fn voucher_status(
        &mut self,
        campaign_id: i64,
        person_id: i64,
    ) -> AppResult<Option<String>> {
        Ok(sqlx::query_scalar(VOUCHER_STATUS_SQL)
            .bind(campaign_id)
            .bind(person_id)
            .fetch_optional(&mut *self.tx.tx)
            .await?)
    }
    async fn insert(&mut self, r: &NewRedemption<'_>) -> AppResult<Option<i64>> {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!("{INSERT_SQL} RETURNING id"));
        let res = sqlx::query_scalar(SQL.as_str())
            .bind(r.kind)
            .bind(r.merchant_id)
            .bind(r.offer_id)
            .bind(r.voucher_id)
            .bind(r.campaign_id)
            .bind(r.membership_id)
            .bind(r.person_id)
            .bind(r.org_id)
            .bind(r.region_root)
            .bind(r.card_no)
            .bind(r.clerk_user_id)
            .bind(r.amount_fen)
            .bind(r.on_date)
            .bind(r.period_key)
            .bind(r.seq)
            .bind(r.redeemed_at)
            .fetch_one(&mut *self.tx.tx)
            .await;
        match res {
            Ok(id) => Ok(Some(id)),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    async fn audit(&mut self, actor: &Actor, ev: Event<'_>) -> AppResult<()> {
        audit::append(self.tx, actor, ev).await
    }
}

/// One try, inside the store's write transaction: `None` when an offer's
/// place in the limit was taken by a racing clerk. A refusal (`Err`) or
/// `None` leaves the transaction for the caller to roll back: nothing of
/// it is kept.
pub(crate) async fn attempt<S: Store>(s: &mut S, job: &Job) -> AppResult<Option<Redeemed>> {
    let merchant_id = match job.merchant_id {
        Some(m) => m,
        None => s
            .clerk_merchant(job.clerk_user)
            .await?
            .ok_or_else(clerks_only)?,
    };
    let card_no = job.card_no.as_str();
    let today_s = job.today.to_string();
    let Some(card) = s.card(card_no).await? else {
        return Err(if job.phone4.is_some() {
            no_such_card()
        } else {
            forged()
        });
    };
    if let Some(four) = &job.phone4 {
        let last = card.phone_masked.as_deref().unwrap_or_default();
        if last.len() < 4 || !last.ends_with(four.as_str()) {
            return Err(no_such_card());
        }
    }
    if card.status != "active" {
        return Err(AppError::invalid(
            "此卡已作废(已补发新卡或已注销),请会员出示最新的会员服务卡",
            "This card has been revoked (reissued or cancelled): ask for the member's current card",
        ));
    }
    if card.membership_status == "ended" {
        return Err(AppError::invalid(
            "持卡人的会籍已结束,不能享受会员优惠",
            "The holder's membership has ended: no member benefit applies",
        ));
    }
    let name_masked = members::card::mask_name(&card.name);
    let shop = s.shop(merchant_id).await?;
    let shop_ok =
        shop.status == "active" && shop.agreement_from <= today_s && shop.agreement_to >= today_s;
    if !shop_ok {
        return Err(AppError::forbidden(
            "本店与工会的合作协议已暂停或不在有效期内,暂不能核销;请联系签约工会",
            "This shop's agreement with the union is suspended or out of date: contact the union",
        ));
    }
    let row = |kind, amount_fen| NewRedemption {
        kind,
        merchant_id,
        offer_id: None,
        voucher_id: None,
        campaign_id: None,
        membership_id: card.membership_id,
        person_id: card.person_id,
        org_id: card.org_id,
        region_root: card.region_root,
        card_no,
        clerk_user_id: job.clerk_user,
        amount_fen,
        on_date: &today_s,
        period_key: "",
        seq: 0,
        redeemed_at: &job.now,
    };
    let out = match job.item {
        Item::Offer(offer_id) => {
            let Some(f) = s
                .offer(offer_id)
                .await?
                .filter(|f| f.merchant_id == merchant_id)
            else {
                return Err(AppError::forbidden(
                    "该优惠不是本店的优惠,不能在本店核销",
                    "This offer is not one of this shop's: it cannot be redeemed here",
                ));
            };
            let title = &f.title;
            let in_date = f.valid_from <= today_s && f.valid_to >= today_s;
            if f.status != "active" || !in_date {
                return Err(AppError::invalid(
                    format!("优惠“{title}”已下架或不在有效期内"),
                    format!("The offer “{title}” is withdrawn or out of its dates"),
                ));
            }
            let ok = if f.eligibility == "group" {
                // A group another module keeps, asked inside this transaction.
                s.in_group(&f.elig_group, &card.id_hash).await?
            } else {
                let facts = MemberFacts {
                    migrant: card.migrant == 1,
                    new_employment_group: card.new_employment_group.clone(),
                    org_path: card.path.clone(),
                };
                model::eligible(&f.eligibility, &f.elig_group, &f.elig_path, &facts)
            };
            if !ok {
                return Err(not_eligible(&f, s.groups()));
            }
            let limit = f.limit_count;
            let key = model::period_key(&f.limit_period, job.today);
            let used = s.offer_uses(offer_id, card.person_id, &key).await?;
            let per = model::period_label(&f.limit_period);
            if used >= limit {
                return Err(AppError::invalid(
                    format!("该会员已用完“{title}”的次数({}限{limit}次)", per.zh),
                    format!("The member has used “{title}” up ({limit} {})", per.en),
                ));
            }
            let seq = used + 1;
            let new = NewRedemption {
                offer_id: Some(offer_id),
                period_key: &key,
                seq,
                ..row("offer", 0)
            };
            // None: another clerk took this place at the same moment.
            let Some(id) = s.insert(&new).await? else {
                return Ok(None);
            };
            Redeemed {
                id,
                kind: "offer".into(),
                title: title.clone(),
                detail: f.price_rule.clone(),
                card_no: card_no.to_string(),
                name_masked,
                union_name: card.union_name.clone(),
                amount_fen: Fen::from_fen(0),
                redeemed_at: job.now.clone(),
                message: Msg::new(
                    format!("核销成功:{title},{}第{seq}次(限{limit}次)", per.zh),
                    format!("Redeemed: {title}, use {seq} of {limit} {}", per.en),
                ),
            }
        }
        Item::Campaign(campaign_id) => {
            let Some(c) = s
                .campaign(campaign_id, merchant_id)
                .await?
                .filter(|c| c.here == 1)
            else {
                return Err(AppError::forbidden(
                    "本店不是该消费券的使用商户,不能核销",
                    "This shop does not accept these vouchers",
                ));
            };
            let (name, expires) = (&c.name, &c.expires_on);
            if *expires < today_s {
                return Err(AppError::invalid(
                    format!("消费券“{name}”已于{expires}过期,不能核销"),
                    format!("The voucher “{name}” expired on {expires}"),
                ));
            }
            let used = || {
                AppError::conflict(
                    format!("该会员的消费券“{name}”已经使用过,不能重复核销"),
                    format!("The member's voucher “{name}” has already been used"),
                )
            };
            let claimed = s
                .claim_voucher(&job.now, merchant_id, campaign_id, card.person_id)
                .await?;
            let Some((voucher_id, value)) = claimed else {
                return Err(match s.voucher_status(campaign_id, card.person_id).await? {
                    Some(_) => used(),
                    None => AppError::invalid(
                        format!("该会员没有领取消费券“{name}”(不在发放范围内)"),
                        format!("The member holds no voucher of “{name}” (not in its selection)"),
                    ),
                });
            };
            let new = NewRedemption {
                voucher_id: Some(voucher_id),
                campaign_id: Some(campaign_id),
                ..row("voucher", value)
            };
            let Some(id) = s.insert(&new).await? else {
                return Err(used());
            };
            let fen = Fen::from_fen(value);
            Redeemed {
                id,
                kind: "voucher".into(),
                title: name.clone(),
                detail: fen.display(),
                card_no: card_no.to_string(),
                name_masked,
                union_name: card.union_name.clone(),
                amount_fen: fen,
                redeemed_at: job.now.clone(),
                message: Msg::new(
                    format!("核销成功:消费券“{name}”{}", fen.display()),
                    format!("Redeemed: voucher “{name}”, {}", fen.display()),
                ),
            }
        }
    };
    s.audit(
        &job.actor,
        Event::new("benefit.redeem", "redemption", out.id)
            .org(OrgId(card.org_id))
            .detail(serde_json::json!({
                "kind": out.kind, "merchant_id": merchant_id, "card_no": out.card_no,
                "title": out.title, "amount_fen": out.amount_fen.fen()
            })),
    )
    .await?;
    Ok(Some(out))
}

fn not_eligible(f: &OfferRow, groups: &[platform::person::PersonGroup]) -> AppError {
    let who = model::Eligibility::label(&f.eligibility, &f.elig_group, "指定工会", groups);
    let title = &f.title;
    AppError::invalid(
        format!("该会员不符合优惠“{title}”的适用对象(限{})", who.zh),
        format!("The member is not eligible for “{title}” (only {})", who.en),
    )
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub card_no: String,
    pub name_masked: String,
    pub amount_fen: Fen,
    pub redeemed_at: String,
}

/// The clerk's own redemptions of today.
pub async fn my_day(db: &Db, clerk_user: i64) -> AppResult<Vec<DayRow>> {
    let rows = sqlx::query(
        "SELECT r.id, r.kind, COALESCE(f.title, c.name, '') AS title, r.card_no, p.name, r.amount_fen, r.redeemed_at \
         FROM redemptions r JOIN persons p ON p.id = r.person_id LEFT JOIN offers f ON f.id = r.offer_id \
         LEFT JOIN voucher_campaigns c ON c.id = r.campaign_id \
         WHERE r.clerk_user_id = $1 AND r.on_date = $2 ORDER BY r.id DESC",
    )
    .bind(clerk_user)
    .bind(time::today().to_string())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(DayRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                card_no: r.try_get("card_no")?,
                name_masked: members::card::mask_name(&r.try_get::<String, _>("name")?),
                amount_fen: Fen::from_fen(r.try_get("amount_fen")?),
                redeemed_at: r.try_get("redeemed_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// What the clerk may redeem: the shop's current offers and the voucher
/// campaigns it accepts that have not expired — ("offer:ID" | "campaign:ID", label).
pub async fn choices(db: &Db, merchant_id: i64) -> AppResult<Vec<(String, String)>> {
    let today = time::today().to_string();
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT id, title, price_rule FROM offers WHERE merchant_id = $1 AND status = 'active' \
         AND valid_from <= $2 AND valid_to >= $2 ORDER BY id",
    )
    .bind(merchant_id)
    .bind(&today)
    .fetch_all(db.pool())
    .await?
    {
        let id: i64 = r.try_get("id")?;
        let t: String = r.try_get("title")?;
        let p: String = r.try_get("price_rule")?;
        out.push((format!("offer:{id}"), format!("{t}({p})")));
    }
    for r in sqlx::query(
        "SELECT c.id, c.name, c.value_fen FROM voucher_campaigns c JOIN campaign_merchants cm ON cm.campaign_id = c.id \
         WHERE cm.merchant_id = $1 AND c.expires_on >= $2 ORDER BY c.id",
    )
    .bind(merchant_id)
    .bind(&today)
    .fetch_all(db.pool())
    .await?
    {
        let id: i64 = r.try_get("id")?;
        let n: String = r.try_get("name")?;
        let v = Fen::from_fen(r.try_get("value_fen")?);
        out.push((format!("campaign:{id}"), format!("{n}(消费券{})", v.display())));
    }
    Ok(out)
}

/// A member's own view, reached with the card's token (as the card page
/// is): their vouchers and redemptions. Nothing the token does not already
/// name: the card's person only.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub card_no: String,
    pub name_masked: String,
    pub vouchers: Vec<VoucherView>,
    pub redemptions: Vec<DayRow>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VoucherView {
    pub campaign: String,
    pub value_fen: Fen,
    pub expires_on: String,
    /// issued | redeemed
    pub status: String,
    pub merchants: String,
}

pub async fn member_view(db: &Db, keys: &Keys, token: &str) -> AppResult<MemberView> {
    let no = members::card::parse_token(keys, token).ok_or(AppError::NotFound)?;
    let r = sqlx::query(
        "SELECT c.person_id, p.name FROM cards c JOIN persons p ON p.id = c.person_id WHERE c.card_no = $1",
    )
    .bind(&no)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let person: i64 = r.try_get("person_id")?;
    let name_masked = members::card::mask_name(&r.try_get::<String, _>("name")?);
    let mut vouchers = Vec::new();
    for v in sqlx::query(
        "SELECT v.campaign_id, c.name, v.value_fen, c.expires_on, v.status FROM vouchers v \
         JOIN voucher_campaigns c ON c.id = v.campaign_id WHERE v.person_id = $1 ORDER BY v.id DESC",
    )
    .bind(person)
    .fetch_all(db.pool())
    .await?
    {
        let cid: i64 = v.try_get("campaign_id")?;
        let shops: Vec<String> = sqlx::query_scalar(
            "SELECT m.name FROM campaign_merchants cm JOIN merchants m ON m.id = cm.merchant_id WHERE cm.campaign_id = $1 ORDER BY m.name",
        )
        .bind(cid)
        .fetch_all(db.pool())
        .await?;
        vouchers.push(VoucherView {
            campaign: v.try_get("name")?,
            value_fen: Fen::from_fen(v.try_get("value_fen")?),
            expires_on: v.try_get("expires_on")?,
            status: v.try_get("status")?,
            merchants: shops.join("、"),
        });
    }
    let rows = sqlx::query(
        "SELECT r.id, r.kind, COALESCE(f.title, c.name, '') AS title, r.card_no, mm.name AS shop, r.amount_fen, r.redeemed_at \
         FROM redemptions r JOIN merchants mm ON mm.id = r.merchant_id LEFT JOIN offers f ON f.id = r.offer_id \
         LEFT JOIN voucher_campaigns c ON c.id = r.campaign_id WHERE r.person_id = $1 ORDER BY r.id DESC LIMIT 200",
    )
    .bind(person)
    .fetch_all(db.pool())
    .await?;
    let redemptions = rows
        .iter()
        .map(|r| {
            Ok(DayRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                card_no: r.try_get("card_no")?,
                // The shop, in the member's own list.
                name_masked: r.try_get("shop")?,
                amount_fen: Fen::from_fen(r.try_get("amount_fen")?),
                redeemed_at: r.try_get("redeemed_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(MemberView {
        card_no: no,
        name_masked,
        vouchers,
        redemptions,
    })
}
