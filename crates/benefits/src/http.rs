//! 普惠 pages and JSON API: staff manage merchants, offers, clerks and voucher
//! campaigns and read usage and the settlement; clerks redeem on a phone
//! (`/redeem`); members see their vouchers and redemptions with their card's
//! token (`/benefits/mine`). Both faces call the same store functions.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use crate::{
    ids::MerchantId,
    model::{self, CampaignInput, MerchantInput, OfferInput},
    redeem::{self, Clerk, ClerkSession, DayRow, MemberView, RedeemInput, Redeemed},
    store::{self, CampaignRow, ClerkRow, MerchantRow, OfferRow, SettlementRow, UsageRow},
};
use platform::{
    error::{AppError, AppResult},
    i18n::{Msg, Tr},
    money::Fen,
    person::PersonGroup,
    time, tree,
    web::{ctx::Ctx, ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/benefits", get(index).post(merchant_create))
        .page("/benefits/merchants/{id}", get(merchant_page))
        .page("/benefits/merchants/{id}/offers", post(offer_create))
        .page("/benefits/merchants/{id}/clerks", post(clerk_create))
        .page("/benefits/merchants/{id}/status", post(status_set))
        .page(
            "/benefits/campaigns",
            get(campaigns_page).post(campaign_create),
        )
        .page("/benefits/usage", get(usage_page))
        // POST, as every export: no cross-site link sets one off.
        .page("/benefits/settlement.xlsx", post(settlement_xlsx))
        .page("/benefits/usage.xlsx", post(usage_xlsx))
        .page("/benefits/mine", get(mine_page))
        .page("/redeem", get(redeem_page).post(redeem_submit))
        .api(routes!(api_merchants, api_merchant_create))
        .api(routes!(api_merchant))
        .api(routes!(api_offer_create))
        .api(routes!(api_clerk_create))
        .api(routes!(api_offers))
        .api(routes!(api_campaigns, api_campaign_create))
        .api(routes!(api_usage))
        .api(routes!(api_settlement))
        .api(routes!(api_redeem))
        .api(routes!(api_today))
}

fn money(f: &Fen) -> String {
    f.display()
}

// ------------------------------------------------------------------ staff pages

#[derive(Template)]
#[template(path = "benefits/index.html")]
struct IndexPage {
    c: Chrome,
    merchants: Vec<MerchantRow>,
    orgs: Vec<tree::OrgNode>,
    categories: &'static [&'static str],
    can_write: bool,
}

impl IndexPage {
    fn status(&self, s: &str) -> String {
        model::status_label(s).get(self.c.tr.0).to_string()
    }
}

async fn index(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    Ok(html(&IndexPage {
        merchants: store::list_merchants(&st.db, staff.scope()).await?,
        orgs: tree::subtree(&st.db, staff.scope()).await?,
        categories: model::CATEGORIES,
        can_write: staff.scope().can_write(),
        c: Chrome::new(&staff, "benefits"),
    }))
}

async fn merchant_create(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<MerchantInput>,
) -> AppResult<Response> {
    let id = store::create_merchant(&st.db, staff.scope(), &f.parse()?).await?;
    Ok(Redirect::to(&format!("/benefits/merchants/{}", id.0)).into_response())
}

#[derive(Template)]
#[template(path = "benefits/merchant.html")]
struct MerchantPage {
    c: Chrome,
    m: MerchantRow,
    offers: Vec<OfferRow>,
    clerks: Vec<ClerkRow>,
    orgs: Vec<tree::OrgNode>,
    groups: &'static [&'static str],
    /// The person groups other modules keep (困难职工 …).
    person_groups: Vec<PersonGroup>,
    can_write: bool,
    is_admin: bool,
    today: String,
}

impl MerchantPage {
    fn status(&self, s: &str) -> String {
        model::status_label(s).get(self.c.tr.0).to_string()
    }
    fn period(&self, p: &str) -> String {
        model::period_label(p).get(self.c.tr.0).to_string()
    }
    fn who(&self, o: &OfferRow) -> String {
        model::Eligibility::label(
            &o.eligibility,
            &o.elig_group,
            &o.elig_org_name,
            &self.person_groups,
        )
        .get(self.c.tr.0)
        .to_string()
    }
    fn group_name(&self, g: &PersonGroup) -> String {
        Msg::new(g.zh, g.en).get(self.c.tr.0).to_string()
    }
}

async fn merchant_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = staff.scope();
    let m = store::merchant(&st.db, s, MerchantId(id)).await?;
    Ok(html(&MerchantPage {
        offers: store::offers_of(&st.db, m.id).await?,
        clerks: store::clerks(&st.db, s, MerchantId(id)).await?,
        orgs: tree::subtree(&st.db, s).await?,
        groups: members::vocab::NEW_EMPLOYMENT_GROUPS,
        person_groups: st.registry.person_groups(),
        can_write: s.can_write(),
        is_admin: s.role == platform::scope::Role::Admin,
        today: time::today().to_string(),
        m,
        c: Chrome::new(&staff, "benefits"),
    }))
}

async fn offer_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<OfferInput>,
) -> AppResult<Response> {
    store::create_offer(
        &st.db,
        staff.scope(),
        &st.registry.person_groups(),
        MerchantId(id),
        &f.parse()?,
    )
    .await?;
    Ok(Redirect::to(&format!("/benefits/merchants/{id}")).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ClerkForm {
    username: String,
    display_name: String,
    password: String,
}

async fn clerk_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ClerkForm>,
) -> AppResult<Response> {
    store::create_clerk(
        &st.db,
        staff.scope(),
        MerchantId(id),
        &f.username,
        &f.display_name,
        &f.password,
    )
    .await?;
    Ok(Redirect::to(&format!("/benefits/merchants/{id}")).into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn status_set(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    store::set_merchant_status(&st.db, staff.scope(), MerchantId(id), f.status.trim()).await?;
    Ok(Redirect::to(&format!("/benefits/merchants/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "benefits/campaigns.html")]
struct CampaignsPage {
    c: Chrome,
    campaigns: Vec<CampaignRow>,
    merchants: Vec<MerchantRow>,
    orgs: Vec<tree::OrgNode>,
    groups: &'static [&'static str],
    person_groups: Vec<PersonGroup>,
    can_write: bool,
}

impl CampaignsPage {
    fn money(&self, f: &Fen) -> String {
        money(f)
    }
    fn group_name(&self, g: &PersonGroup) -> String {
        Msg::new(g.zh, g.en).get(self.c.tr.0).to_string()
    }
}

async fn campaigns_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let s = staff.scope();
    Ok(html(&CampaignsPage {
        campaigns: store::campaigns(&st.db, s).await?,
        merchants: store::campaign_merchants_choice(&st.db, s).await?,
        orgs: tree::subtree(&st.db, s).await?,
        groups: members::vocab::NEW_EMPLOYMENT_GROUPS,
        person_groups: st.registry.person_groups(),
        can_write: s.can_write(),
        c: Chrome::new(&staff, "benefits"),
    }))
}

/// The campaign form: repeated `merchant_ids` fields (check boxes).
fn campaign_from_pairs(pairs: &[(String, String)]) -> AppResult<CampaignInput> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let num = |k: &str, zh: &str, en: &str| -> AppResult<i64> {
        get(k).trim().parse().map_err(|_| {
            AppError::invalid(
                format!("{zh}须为整数"),
                format!("{en} must be a whole number"),
            )
        })
    };
    Ok(CampaignInput {
        org_id: num("org_id", "发放工会", "The issuing union")?,
        name: get("name"),
        value: get("value"),
        quantity: num("quantity", "发行数量", "The quantity")?,
        expires_on: get("expires_on"),
        merchant_ids: pairs
            .iter()
            .filter(|(n, _)| n == "merchant_ids")
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect(),
        group: get("group"),
        elig_group: get("elig_group"),
    })
}

async fn campaign_create(
    State(st): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = campaign_from_pairs(&pairs)?;
    store::create_campaign(
        &st.db,
        staff.scope(),
        &st.registry.person_groups(),
        &input.parse(time::today())?,
    )
    .await?;
    Ok(Redirect::to("/benefits/campaigns").into_response())
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct UsageQuery {
    /// merchant | offer | campaign | union | month
    by: String,
    /// First day (default: 1 January of this year).
    from: String,
    /// Last day (default: today).
    to: String,
}

impl UsageQuery {
    fn bounds(&self) -> AppResult<(String, String)> {
        let today = time::today();
        let pick = |raw: &str, dflt: String| -> AppResult<String> {
            if raw.trim().is_empty() {
                return Ok(dflt);
            }
            time::parse_date(raw.trim())
                .map(|d| d.to_string())
                .ok_or_else(|| {
                    AppError::invalid(
                        format!("日期“{}”无效,请按 2026-01-31 的格式填写", raw.trim()),
                        format!("“{}” is not a date: write it as 2026-01-31", raw.trim()),
                    )
                })
        };
        let from = pick(&self.from, format!("{}-01-01", &today.to_string()[..4]))?;
        let to = pick(&self.to, today.to_string())?;
        if to < from {
            return Err(AppError::invalid(
                "结束日期不能早于开始日期",
                "The period cannot end before it starts",
            ));
        }
        Ok((from, to))
    }
    fn by(&self) -> &str {
        match self.by.as_str() {
            b @ ("offer" | "campaign" | "union" | "month") => b,
            _ => "merchant",
        }
    }
}

#[derive(Template)]
#[template(path = "benefits/usage.html")]
struct UsagePage {
    c: Chrome,
    by: String,
    from: String,
    to: String,
    rows: Vec<UsageRow>,
    settlement: Vec<SettlementRow>,
}

impl UsagePage {
    fn money(&self, f: &Fen) -> String {
        money(f)
    }
}

async fn usage_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsageQuery>,
) -> AppResult<Response> {
    let (from, to) = q.bounds()?;
    let s = staff.scope();
    Ok(html(&UsagePage {
        rows: store::usage(&st.db, s, q.by(), &from, &to).await?,
        settlement: store::settlement(&st.db, s, &from, &to).await?,
        by: q.by().to_string(),
        from,
        to,
        c: Chrome::new(&staff, "benefits"),
    }))
}

/// The usage table as filtered, as xlsx (POST, audited): counts and sums,
/// no member named.
async fn usage_xlsx(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsageQuery>,
) -> AppResult<Response> {
    let (from, to) = q.bounds()?;
    let rows = store::usage(&st.db, staff.scope(), q.by(), &from, &to).await?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("benefit.usage_export", "org", staff.scope().org_id)
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"by": q.by(), "from": from, "to": to, "rows": rows.len()})),
    )
    .await?;
    let bytes = store::usage_xlsx(&rows, q.by(), &from, &to)?;
    Ok(platform::web::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("usage-{}-{from}-{to}.xlsx", q.by()),
    ))
}

async fn settlement_xlsx(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsageQuery>,
) -> AppResult<Response> {
    let (from, to) = q.bounds()?;
    let rows = store::settlement(&st.db, staff.scope(), &from, &to).await?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("benefit.settlement_export", "org", staff.scope().org_id)
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"from": from, "to": to, "rows": rows.len()})),
    )
    .await?;
    let bytes = store::settlement_xlsx(&rows, &from, &to)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"settlement-{from}-{to}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ------------------------------------------------------------------ phone pages

/// The phone layout's data (clerk and member pages).
pub struct Phone {
    pub tr: Tr,
    pub csrf: String,
    pub path: String,
    pub signed_in: bool,
}

impl Phone {
    fn new(ctx: &Ctx) -> Phone {
        Phone {
            tr: ctx.tr(),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            signed_in: ctx.session.is_some(),
        }
    }
    pub fn t(&self, key: &str) -> &'static str {
        self.tr.t(key)
    }
}

#[derive(Template)]
#[template(path = "benefits/redeem.html")]
struct RedeemPage {
    c: Phone,
    user: String,
    merchant: String,
    choices: Vec<(String, String)>,
    item: String,
    token: String,
    done: Option<Redeemed>,
    error: Option<Msg>,
    day: Vec<DayRow>,
    day_total: Fen,
}

impl RedeemPage {
    fn msg(&self, m: &Msg) -> String {
        m.get(self.c.tr.0).to_string()
    }
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
    fn money(&self, f: &Fen) -> String {
        money(f)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RedeemQuery {
    /// The token, when a phone camera opened a card's QR link here.
    t: String,
    item: String,
}

async fn render_redeem(
    st: &AppState,
    clerk: &Clerk,
    item: String,
    token: String,
    done: Option<Redeemed>,
    error: Option<Msg>,
) -> AppResult<RedeemPage> {
    let day = redeem::my_day(&st.db, clerk.user_id()).await?;
    let day_total = Fen::checked_sum(day.iter().map(|d| d.amount_fen)).unwrap_or_default();
    Ok(RedeemPage {
        c: Phone::new(&clerk.ctx),
        user: clerk.session.display_name.clone(),
        merchant: clerk.merchant_name.clone(),
        choices: redeem::choices(&st.db, clerk.merchant_id).await?,
        item,
        token,
        done,
        error,
        day,
        day_total,
    })
}

async fn redeem_page(
    State(st): State<AppState>,
    clerk: Clerk,
    Query(q): Query<RedeemQuery>,
) -> AppResult<Response> {
    Ok(html(
        &render_redeem(&st, &clerk, q.item, q.t.trim().to_string(), None, None).await?,
    ))
}

/// One step: verify and redeem; the answer (done or refused, and why) is
/// the same page, ready for the next member.
async fn redeem_submit(
    State(st): State<AppState>,
    clerk: Clerk,
    Form(f): Form<RedeemInput>,
) -> AppResult<Response> {
    let item = f.item.clone();
    match redeem::redeem(&st, (&clerk).into(), &f).await {
        Ok(r) => Ok(html(
            &render_redeem(&st, &clerk, item, String::new(), Some(r), None).await?,
        )),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let page = render_redeem(
                &st,
                &clerk,
                item,
                String::new(),
                None,
                Some(e.user_message()),
            )
            .await?;
            Ok((status, html(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "benefits/mine.html")]
struct MinePage {
    c: Phone,
    v: MemberView,
}

impl MinePage {
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
    fn money(&self, f: &Fen) -> String {
        money(f)
    }
}

/// The member's vouchers and redemptions, reached with the card's token
/// (the card page's link): no sign-in, nothing the token does not name.
async fn mine_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RedeemQuery>,
) -> AppResult<Response> {
    let v = redeem::member_view(&st.db, &st.keys, &q.t).await?;
    Ok(html(&MinePage {
        c: Phone::new(&ctx),
        v,
    }))
}

// ------------------------------------------------------------------ API

/// The merchants of the caller's subtree.
#[utoipa::path(get, path = "/api/v1/benefits/merchants", tag = "benefits",
    responses((status = 200, body = [MerchantRow])))]
async fn api_merchants(
    State(st): State<AppState>,
    staff: Staff,
) -> AppResult<Json<Vec<MerchantRow>>> {
    Ok(Json(store::list_merchants(&st.db, staff.scope()).await?))
}

/// Registers a merchant (GB 32100 credit code checked, coordinates inside China).
#[utoipa::path(post, path = "/api/v1/benefits/merchants", tag = "benefits", request_body = MerchantInput,
    responses((status = 200, body = MerchantRow), (status = 409), (status = 422)))]
async fn api_merchant_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<MerchantInput>,
) -> AppResult<Json<MerchantRow>> {
    let id = store::create_merchant(&st.db, staff.scope(), &f.parse()?).await?;
    Ok(Json(store::merchant(&st.db, staff.scope(), id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MerchantDetail {
    merchant: MerchantRow,
    offers: Vec<OfferRow>,
    clerks: Vec<ClerkRow>,
}

/// One merchant with its offers and clerk accounts; 404 outside the subtree.
#[utoipa::path(get, path = "/api/v1/benefits/merchants/{id}", tag = "benefits", params(("id" = i64, Path)),
    responses((status = 200, body = MerchantDetail), (status = 404)))]
async fn api_merchant(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<MerchantDetail>> {
    let s = staff.scope();
    let merchant = store::merchant(&st.db, s, MerchantId(id)).await?;
    Ok(Json(MerchantDetail {
        offers: store::offers_of(&st.db, merchant.id).await?,
        clerks: store::clerks(&st.db, s, MerchantId(id)).await?,
        merchant,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: i64,
}

/// Adds an offer to a merchant.
#[utoipa::path(post, path = "/api/v1/benefits/merchants/{id}/offers", tag = "benefits", params(("id" = i64, Path)),
    request_body = OfferInput, responses((status = 200, body = Created), (status = 422)))]
async fn api_offer_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(f): Json<OfferInput>,
) -> AppResult<Json<Created>> {
    let oid = store::create_offer(
        &st.db,
        staff.scope(),
        &st.registry.person_groups(),
        MerchantId(id),
        &f.parse()?,
    )
    .await?;
    Ok(Json(Created { id: oid.0 }))
}

/// Creates a clerk account of a merchant (administrators).
#[utoipa::path(post, path = "/api/v1/benefits/merchants/{id}/clerks", tag = "benefits", params(("id" = i64, Path)),
    request_body = ClerkForm, responses((status = 200, body = Created), (status = 409), (status = 422)))]
async fn api_clerk_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(f): Json<ClerkForm>,
) -> AppResult<Json<Created>> {
    let uid = store::create_clerk(
        &st.db,
        staff.scope(),
        MerchantId(id),
        &f.username,
        &f.display_name,
        &f.password,
    )
    .await?;
    Ok(Json(Created { id: uid }))
}

/// The offers of the subtree's merchants.
#[utoipa::path(get, path = "/api/v1/benefits/offers", tag = "benefits",
    responses((status = 200, body = [OfferRow])))]
async fn api_offers(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<OfferRow>>> {
    Ok(Json(store::list_offers(&st.db, staff.scope()).await?))
}

/// The voucher campaigns of the subtree's unions.
#[utoipa::path(get, path = "/api/v1/benefits/campaigns", tag = "benefits",
    responses((status = 200, body = [CampaignRow])))]
async fn api_campaigns(
    State(st): State<AppState>,
    staff: Staff,
) -> AppResult<Json<Vec<CampaignRow>>> {
    Ok(Json(store::campaigns(&st.db, staff.scope()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Issued {
    id: i64,
    issued: i64,
}

/// Creates a voucher campaign and issues one voucher per current member of
/// the selection, in one transaction.
#[utoipa::path(post, path = "/api/v1/benefits/campaigns", tag = "benefits", request_body = CampaignInput,
    responses((status = 200, body = Issued), (status = 422)))]
async fn api_campaign_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<CampaignInput>,
) -> AppResult<Json<Issued>> {
    let (id, issued) = store::create_campaign(
        &st.db,
        staff.scope(),
        &st.registry.person_groups(),
        &f.parse(time::today())?,
    )
    .await?;
    Ok(Json(Issued { id: id.0, issued }))
}

/// Usage by the subtree's members, grouped by merchant, offer, campaign, union or month.
#[utoipa::path(get, path = "/api/v1/benefits/usage", tag = "benefits", params(UsageQuery),
    responses((status = 200, body = [UsageRow]), (status = 422)))]
async fn api_usage(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsageQuery>,
) -> AppResult<Json<Vec<UsageRow>>> {
    let (from, to) = q.bounds()?;
    Ok(Json(
        store::usage(&st.db, staff.scope(), q.by(), &from, &to).await?,
    ))
}

/// The settlement with merchants: vouchers of the subtree's campaigns redeemed in the period × value.
#[utoipa::path(get, path = "/api/v1/benefits/settlement", tag = "benefits", params(UsageQuery),
    responses((status = 200, body = [SettlementRow]), (status = 422)))]
async fn api_settlement(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsageQuery>,
) -> AppResult<Json<Vec<SettlementRow>>> {
    let (from, to) = q.bounds()?;
    Ok(Json(
        store::settlement(&st.db, staff.scope(), &from, &to).await?,
    ))
}

/// Verifies a member card and redeems an offer or a voucher at the clerk's
/// shop, in one transaction (clerks only).
#[utoipa::path(post, path = "/api/v1/benefits/redeem", tag = "benefits", request_body = RedeemInput,
    responses((status = 200, body = Redeemed), (status = 403), (status = 409), (status = 422)))]
async fn api_redeem(
    State(st): State<AppState>,
    clerk: ClerkSession,
    Json(f): Json<RedeemInput>,
) -> AppResult<Json<Redeemed>> {
    Ok(Json(redeem::redeem(&st, (&clerk).into(), &f).await?))
}

/// The clerk's own redemptions of today.
#[utoipa::path(get, path = "/api/v1/benefits/redemptions/today", tag = "benefits",
    responses((status = 200, body = [DayRow])))]
async fn api_today(State(st): State<AppState>, clerk: Clerk) -> AppResult<Json<Vec<DayRow>>> {
    Ok(Json(redeem::my_day(&st.db, clerk.user_id()).await?))
}
