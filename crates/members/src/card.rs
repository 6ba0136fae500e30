//! 会员服务卡: member cards. A card has a number from the `seq.card_no`
//! counter ("GH" + 12 digits) and a QR code carrying a signed token that
//! names the card, never the person: `base64url("gh-card-v1|GH…") "." sig`.
//! Reissuing revokes the old card, so its token stops verifying. Anyone
//! signed in can verify a token (a merchant's clerk arriving from a phone
//! camera is sent on to its redemption page with the token); the answer is
//! valid/invalid, the masked name and the union — never the ID number.

use crate::ids::{MembershipId, OrgId};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Json,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa_axum::routes;

use super::{join::Public, model, store};
use platform::{
    audit::{self, Event},
    crypto::Keys,
    db::Db,
    error::{AppError, AppResult},
    i18n::Msg,
    scope::{Actor, Scope},
    time,
    web::{
        ctx::{Ctx, Staff},
        html,
        pages::Chrome,
        AppState, Routes,
    },
};

// ------------------------------------------------------------------ tokens

const TOKEN_DOMAIN: &str = "gh-card-v1|";

/// "GH" + 12 digits.
pub fn card_no(n: i64) -> String {
    format!("GH{n:012}")
}

/// The signed token a card's QR code carries.
pub fn token(keys: &Keys, card_no: &str) -> String {
    let payload = format!("{TOKEN_DOMAIN}{card_no}");
    format!(
        "{}.{}",
        B64.encode(payload.as_bytes()),
        keys.sign(payload.as_bytes())
    )
}

/// Accepts a bare token or a scanned URL carrying `t=TOKEN`.
fn token_text(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.find("t=") {
        Some(i) if raw.contains("://") || raw.starts_with('/') || raw.starts_with('?') => {
            let rest = &raw[i + 2..];
            rest.split('&').next().unwrap_or(rest)
        }
        _ => raw,
    }
}

/// The card number a token names, if the signature is ours.
pub fn parse_token(keys: &Keys, raw: &str) -> Option<String> {
    let (p, sig) = token_text(raw).split_once('.')?;
    let payload = B64.decode(p).ok()?;
    if !keys.verify(&payload, sig) {
        return None;
    }
    let text = String::from_utf8(payload).ok()?;
    let no = text.strip_prefix(TOKEN_DOMAIN)?;
    (no.len() == 14 && no.starts_with("GH") && no[2..].bytes().all(|b| b.is_ascii_digit()))
        .then(|| no.to_string())
}

/// "张*", "欧阳**": the first character, the rest hidden.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// An inline SVG QR code (no XML prologue, so it can sit inside HTML).
pub fn qr_svg(data: &str, size: u32) -> String {
    match qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(size, size)
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "qr code");
            String::new()
        }
    }
}

/// Scheme and host the client used, for links printed into QR codes.
pub fn base_url(headers: &HeaderMap, st: &AppState) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        Some("http") => "http",
        _ if st.cfg.secure_cookies => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// What a card's QR code encodes: the verification page with its token, so
/// a phone camera opens it directly.
pub fn verify_url(base: &str, token: &str) -> String {
    format!("{base}/cards/verify?t={token}")
}

// ------------------------------------------------------------------ storage

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CardRow {
    pub card_no: String,
    /// active | revoked
    pub status: String,
    pub issued_at: String,
    pub revoked_at: Option<String>,
}

/// A membership with its cards, as the staff card page shows it (masked).
#[derive(Clone, Debug)]
pub struct Holder {
    pub membership_id: MembershipId,
    pub person_id: i64,
    pub org_id: OrgId,
    pub name: String,
    pub id_masked: String,
    pub member_no: String,
    pub union_name: String,
    /// Membership status: active | retained | ended
    pub status: String,
    pub cards: Vec<CardRow>,
}

impl Holder {
    pub fn active_card(&self) -> Option<&CardRow> {
        self.cards.iter().find(|c| c.status == "active")
    }
}

async fn cards_of(db: &Db, mid: i64) -> AppResult<Vec<CardRow>> {
    let rows = sqlx::query(
        "SELECT card_no, status, issued_at, revoked_at FROM cards WHERE membership_id = $1 ORDER BY id DESC",
    )
    .bind(mid)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CardRow {
                card_no: r.try_get("card_no")?,
                status: r.try_get("status")?,
                issued_at: r.try_get("issued_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The membership if it is in scope; outside it: 404 and audited.
async fn holder(db: &Db, scope: &Scope, id: MembershipId) -> AppResult<Holder> {
    let r = sqlx::query(
        "SELECT m.id, m.person_id, m.org_id, m.member_no, m.status, p.name, p.id_masked, o.name AS union_name, o.path \
         FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id WHERE m.id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let path: String = r.try_get("path")?;
    scope.admit(db, &path, "membership", id).await?;
    Ok(Holder {
        membership_id: id,
        person_id: r.try_get("person_id")?,
        org_id: OrgId(r.try_get("org_id")?),
        name: r.try_get("name")?,
        id_masked: r.try_get("id_masked")?,
        member_no: r.try_get("member_no")?,
        union_name: r.try_get("union_name")?,
        status: r.try_get("status")?,
        cards: cards_of(db, id.0).await?,
    })
}

/// A membership's card page data; the read is audited.
pub async fn for_membership(db: &Db, scope: &Scope, id: MembershipId) -> AppResult<Holder> {
    let h = holder(db, scope, id).await?;
    audit::record(
        db,
        &scope.actor,
        Event::new("card.view", "membership", id).org(h.org_id),
    )
    .await?;
    Ok(h)
}

/// Revokes the membership's valid card (if any) and issues a new one,
/// inside the caller's transaction. Returns (new card no, revoked card no).
pub async fn issue_in_tx(
    conn: &mut AnyConnection,
    membership: MembershipId,
    person_id: i64,
) -> AppResult<(String, Option<String>)> {
    let now = time::now_rfc3339();
    let revoked: Option<String> = sqlx::query_scalar(
        "UPDATE cards SET status = 'revoked', revoked_at = $1 WHERE membership_id = $2 AND status = 'active' RETURNING card_no",
    )
    .bind(&now)
    .bind(membership.0)
    .fetch_optional(&mut *conn)
    .await?;
    let n = store::reserve(conn, "seq.card_no", 1).await?;
    let no = card_no(n);
    sqlx::query(
        "INSERT INTO cards (membership_id, person_id, card_no, status, issued_at) VALUES ($1, $2, $3, 'active', $4)",
    )
    .bind(membership.0)
    .bind(person_id)
    .bind(&no)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    Ok((no, revoked))
}

/// Issues (or reissues, revoking the old card) a card for a membership in scope.
pub async fn issue(db: &Db, scope: &Scope, id: MembershipId) -> AppResult<String> {
    scope.require_write()?;
    let h = holder(db, scope, id).await?;
    if h.status == "ended" {
        return Err(AppError::invalid(
            "该会籍已结束,不能发放会员服务卡",
            "This membership has ended; no card can be issued",
        ));
    }
    let mut tx = db.begin_write().await?;
    let (no, revoked) = issue_in_tx(&mut tx, id, h.person_id).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new(
            if revoked.is_some() {
                "card.reissue"
            } else {
                "card.issue"
            },
            "card",
            &no,
        )
        .org(h.org_id)
        .detail(serde_json::json!({
            "membership_id": id.0, "member_no": h.member_no, "card_no": no, "revoked": revoked
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(no)
}

/// The active card number of a membership (no scope: used for the
/// applicant's own status page, which already proved ID + phone).
pub async fn active_card_no(db: &Db, membership: i64) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT card_no FROM cards WHERE membership_id = $1 AND status = 'active'",
    )
    .bind(membership)
    .fetch_optional(db.pool())
    .await?)
}

/// The outcome of verifying a card token.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub valid: bool,
    /// valid | forged | revoked | ended
    pub result: String,
    /// Why, in both languages.
    #[schema(value_type = Object)]
    pub message: Msg,
    pub card_no: Option<String>,
    /// The holder's name with all but the first character hidden (张*).
    pub name_masked: Option<String>,
    pub union_name: Option<String>,
}

struct Found {
    status: String,
    membership_status: String,
    name: String,
    union_name: String,
    org_id: i64,
}

async fn find_card(db: &Db, no: &str) -> AppResult<Option<Found>> {
    let r = sqlx::query(
        "SELECT c.status, m.status AS ms, p.name, o.name AS union_name, o.id AS org_id \
         FROM cards c JOIN memberships m ON m.id = c.membership_id JOIN persons p ON p.id = c.person_id \
         JOIN orgs o ON o.id = m.org_id WHERE c.card_no = $1",
    )
    .bind(no)
    .fetch_optional(db.pool())
    .await?;
    r.map(|r| {
        Ok(Found {
            status: r.try_get("status")?,
            membership_status: r.try_get("ms")?,
            name: r.try_get("name")?,
            union_name: r.try_get("union_name")?,
            org_id: r.try_get("org_id")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

/// Verifies a token (or a scanned URL); every verification is audited.
pub async fn verify(db: &Db, keys: &Keys, actor: &Actor, raw: &str) -> AppResult<Verification> {
    let found = match parse_token(keys, raw) {
        Some(no) => find_card(db, &no).await?.map(|f| (no, f)),
        None => None,
    };
    let v = match &found {
        None => Verification {
            valid: false,
            result: "forged".into(),
            message: Msg::new(
                "无效的会员卡二维码:不是本平台签发的,或内容被改动。请让会员刷新卡面后重新扫码",
                "Invalid member-card code: not issued by this platform, or altered. Ask the member to reopen the card and scan again",
            ),
            card_no: None,
            name_masked: None,
            union_name: None,
        },
        Some((no, f)) => {
            let (valid, result, message) = if f.status != "active" {
                (
                    false,
                    "revoked",
                    Msg::new(
                        "此卡已作废(已补发新卡或已注销),请会员出示最新的会员服务卡",
                        "This card has been revoked (reissued or cancelled); ask for the member's current card",
                    ),
                )
            } else if f.membership_status == "ended" {
                (
                    false,
                    "ended",
                    Msg::new(
                        "持卡人的会籍已结束,此卡不再有效",
                        "The holder's membership has ended; the card is no longer valid",
                    ),
                )
            } else {
                (
                    true,
                    "valid",
                    Msg::new("有效的工会会员服务卡", "A valid union member card"),
                )
            };
            Verification {
                valid,
                result: result.into(),
                message,
                card_no: Some(no.clone()),
                name_masked: Some(mask_name(&f.name)),
                union_name: Some(f.union_name.clone()),
            }
        }
    };
    let mut ev = Event::new(
        "card.verify",
        "card",
        v.card_no.clone().unwrap_or_else(|| "?".into()),
    )
    .detail(serde_json::json!({"result": v.result}));
    if let Some((_, f)) = &found {
        ev = ev.org(OrgId(f.org_id));
    }
    audit::record(db, actor, ev).await?;
    Ok(v)
}

/// What the holder's own card page shows (reached by token from the
/// applicant's status page): nothing the QR code does not already reveal.
pub struct HolderView {
    pub card_no: String,
    pub status: String,
    pub name_masked: String,
    pub union_name: String,
}

pub async fn view_by_token(db: &Db, keys: &Keys, raw: &str) -> AppResult<HolderView> {
    let no = parse_token(keys, raw).ok_or(AppError::NotFound)?;
    let f = find_card(db, &no).await?.ok_or(AppError::NotFound)?;
    let status = if f.status == "active" && f.membership_status == "ended" {
        "ended".to_string()
    } else {
        f.status
    };
    Ok(HolderView {
        card_no: no,
        status,
        name_masked: mask_name(&f.name),
        union_name: f.union_name,
    })
}

// ------------------------------------------------------------------ HTTP

pub fn routes() -> Routes {
    Routes::new()
        .page("/members/{id}/card", get(card_page).post(card_issue))
        .page("/cards/view", get(view_page))
        .page("/cards/verify", get(verify_page))
        .api(routes!(api_verify))
}

fn actor_of(ctx: &Ctx) -> AppResult<Actor> {
    match &ctx.session {
        Some(s) => Ok(s.scope.actor.clone()),
        None => Err(AppError::Unauthenticated),
    }
}

#[derive(Template)]
#[template(path = "members/card.html")]
struct CardPage {
    c: Chrome,
    h: Holder,
    qr: String,
    can_write: bool,
}

impl CardPage {
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
    fn status_label(&self) -> String {
        model::status_label(&self.h.status)
            .get(self.c.tr.0)
            .to_string()
    }
}

async fn card_page(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let h = for_membership(&st.db, staff.scope(), MembershipId(id)).await?;
    let qr = match h.active_card() {
        Some(c) => qr_svg(
            &verify_url(&base_url(&headers, &st), &token(&st.keys, &c.card_no)),
            220,
        ),
        None => String::new(),
    };
    Ok(html(&CardPage {
        c: Chrome::new(&staff, "members"),
        can_write: staff.scope().can_write() && h.status != "ended",
        h,
        qr,
    }))
}

async fn card_issue(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    issue(&st.db, staff.scope(), MembershipId(id)).await?;
    Ok(Redirect::to(&format!("/members/{id}/card")).into_response())
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    #[serde(default)]
    t: String,
}

#[derive(Template)]
#[template(path = "members/card_view.html")]
struct ViewPage {
    c: Public,
    v: HolderView,
    qr: String,
}

/// The holder's card on their phone, reached from the status page.
async fn view_page(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    let v = view_by_token(&st.db, &st.keys, &q.t).await?;
    let qr = if v.status == "active" {
        qr_svg(&verify_url(&base_url(&headers, &st), token_text(&q.t)), 260)
    } else {
        String::new()
    };
    Ok(html(&ViewPage {
        c: Public::new(&ctx),
        v,
        qr,
    }))
}

#[derive(Template)]
#[template(path = "members/card_verify.html")]
struct VerifyPage {
    c: Public,
    t: String,
    v: Option<Verification>,
}

impl VerifyPage {
    fn msg(&self, m: &Msg) -> String {
        m.get(self.c.tr.0).to_string()
    }
}

/// Verification by any signed-in account; a phone camera lands here from
/// the card's QR code (after signing in, if needed).
async fn verify_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    let actor = actor_of(&ctx)?;
    // A merchant's clerk whose phone camera opened the card's code goes on
    // to its own page (the redemption page), the code carried along.
    if let Some(s) = &ctx.session {
        if !s.scope.is_staff() {
            if let Some(home) = st.registry.home_for(s.scope.role) {
                let t = token_text(&q.t);
                // Only a token's characters go into the location.
                let clean = t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.=".contains(&b));
                let to = if t.is_empty() || !clean {
                    home.to_string()
                } else {
                    format!("{home}?t={t}")
                };
                return Ok(Redirect::to(&to).into_response());
            }
        }
    }
    let v = if q.t.trim().is_empty() {
        None
    } else {
        Some(verify(&st.db, &st.keys, &actor, &q.t).await?)
    };
    Ok(html(&VerifyPage {
        c: Public::new(&ctx),
        t: q.t.trim().to_string(),
        v,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct VerifyBody {
    /// The token from the card's QR code (or the whole scanned URL).
    token: String,
}

/// Verifies a member card token: valid or not (forged, revoked, membership
/// ended), with the masked name and union — never the ID number. Audited.
#[utoipa::path(post, path = "/api/v1/cards/verify", tag = "cards", request_body = VerifyBody,
    responses((status = 200, body = Verification), (status = 401)))]
async fn api_verify(
    State(st): State<AppState>,
    ctx: Ctx,
    Json(b): Json<VerifyBody>,
) -> AppResult<Json<Verification>> {
    let actor = actor_of(&ctx)?;
    Ok(Json(verify(&st.db, &st.keys, &actor, &b.token).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let k = Keys::from_master(&[3u8; 32]);
        let t = token(&k, "GH000000000042");
        assert_eq!(parse_token(&k, &t).as_deref(), Some("GH000000000042"));
        assert!(!t.contains("GH0000"), "the card number is not in clear");
        let url = format!("https://x.example/cards/verify?t={t}&x=1");
        assert_eq!(parse_token(&k, &url).as_deref(), Some("GH000000000042"));
        // Another card number with the old signature.
        let (_, sig) = t.split_once('.').unwrap();
        let forged = format!("{}.{sig}", B64.encode(b"gh-card-v1|GH000000000043"));
        assert_eq!(parse_token(&k, &forged), None);
        assert_eq!(parse_token(&Keys::from_master(&[4u8; 32]), &t), None);
        assert_eq!(parse_token(&k, "garbage"), None);
        assert_eq!(parse_token(&k, ""), None);
    }

    #[test]
    fn card_numbers_and_masked_names() {
        assert_eq!(card_no(7), "GH000000000007");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn qr_is_inline_svg() {
        let s = qr_svg("https://example.org/join/SF-01", 200);
        assert!(s.starts_with("<svg"), "{}", &s[..40]);
    }
}
