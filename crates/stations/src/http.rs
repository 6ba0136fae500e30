//! 阵地 pages and the JSON API under /api/v1/stations: staff list, record
//! and edit stations and their daily visits, keep the streets/townships and
//! see the service circle; anyone, without signing in, finds the nearest
//! open stations on "附近的驿站" (/stations/near).

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
    geo::{self, LatLng},
    model::{self, StationInput, TownshipInput, FACILITIES, KINDS, STATUSES},
    store::{self, ListFilter, NearStation, Station, StationId, Township},
};
use platform::{
    error::{AppError, AppResult},
    i18n::Tr,
    time,
    web::{
        ctx::{Ctx, Staff},
        html,
        pages::Chrome,
        AppState, Routes,
    },
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/stations", get(list_page).post(create_submit))
        .page("/stations/new", get(new_form))
        .page("/stations/circle", get(circle_page))
        // POST, as every export: no cross-site link sets one off.
        .page("/stations/export.xlsx", post(export))
        .page("/stations/townships", post(township_submit))
        .page("/stations/near", get(near_page))
        .page("/stations/{id}", get(show_page))
        .page("/stations/{id}/edit", get(edit_form).post(edit_submit))
        .page("/stations/{id}/visits", post(visits_submit))
        .page("/assets/stations.js", get(script))
        .api(routes!(api_list, api_create))
        .api(routes!(api_get, api_update))
        .api(routes!(api_visits))
        .api(routes!(api_townships, api_township_create))
        .api(routes!(api_near))
}

/// The public page's script (the CSP allows no inline script): asks the
/// phone for its position and reloads the page with it.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/stations.js"),
    )
        .into_response()
}

fn en(tr: &Tr) -> bool {
    tr.is_en()
}

/// Labels the templates need, by list.
pub struct Labels {
    en: bool,
}

impl Labels {
    pub fn kind(&self, k: &str) -> String {
        model::label(KINDS, k, self.en)
    }
    pub fn facility(&self, k: &str) -> String {
        model::label(FACILITIES, k, self.en)
    }
    pub fn status(&self, k: &str) -> String {
        model::label(STATUSES, k, self.en)
    }
    pub fn facilities(&self, list: &[String]) -> String {
        let sep = if self.en { ", " } else { "、" };
        list.iter()
            .map(|f| self.facility(f))
            .collect::<Vec<_>>()
            .join(sep)
    }
    pub fn datum(&self, d: &str) -> String {
        match geo::Datum::parse(d) {
            Some(d) => {
                let (zh, e) = d.label();
                if self.en { e } else { zh }.to_string()
            }
            None => d.to_string(),
        }
    }
    pub fn distance(&self, m: &i64) -> String {
        if *m < 1000 {
            if self.en {
                format!("{m} m")
            } else {
                format!("{m}米")
            }
        } else if self.en {
            format!("{:.1} km", *m as f64 / 1000.0)
        } else {
            format!("{:.1}公里", *m as f64 / 1000.0)
        }
    }
    pub fn coords(&self, lat: &f64, lng: &f64) -> String {
        format!("{lat:.6}, {lng:.6}")
    }
}

// ------------------------------------------------------------------ staff pages

#[derive(Template)]
#[template(path = "stations/list.html")]
struct ListPage {
    c: Chrome,
    l: Labels,
    rows: Vec<Station>,
    f: ListFilter,
    more: bool,
    can_write: bool,
    kinds: &'static [(&'static str, &'static str, &'static str)],
    statuses: &'static [(&'static str, &'static str, &'static str)],
}

async fn list_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ListFilter>,
) -> AppResult<Response> {
    let mut rows = store::list(&st.db, staff.scope(), &f).await?;
    let more = rows.len() as i64 >= store::LIST_LIMIT;
    rows.truncate(store::LIST_LIMIT as usize);
    let tr = staff.ctx.tr();
    Ok(html(&ListPage {
        l: Labels { en: en(&tr) },
        c: Chrome::new(&staff, "stations"),
        rows,
        f,
        more,
        can_write: staff.scope().can_write(),
        kinds: KINDS,
        statuses: STATUSES,
    }))
}

/// The list as filtered, as an xlsx workbook (no personal data; audited
/// like every export).
async fn export(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ListFilter>,
) -> AppResult<Response> {
    let rows = store::list(&st.db, staff.scope(), &f).await?;
    let en = staff.ctx.tr().is_en();
    let l = Labels { en };
    let h = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
    let sheet = sheet::SheetOut {
        name: h("服务阵地", "Stations"),
        headers: vec![
            h("编号", "No."),
            h("名称", "Name"),
            h("类型", "Kind"),
            h("所属工会", "Union"),
            h("组织代码", "Org code"),
            h("街道(乡镇)", "Street/township"),
            h("地址", "Address"),
            h("纬度(WGS-84)", "Latitude (WGS-84)"),
            h("经度(WGS-84)", "Longitude (WGS-84)"),
            h("面积(平方米)", "Area (㎡)"),
            h("服务设施", "Facilities"),
            h("开放时间", "Opening hours"),
            h("联系电话", "Phone"),
            h("状态", "Status"),
            h("建成日期", "Opened on"),
        ],
        rows: rows
            .iter()
            .map(|s| {
                vec![
                    sheet::CellOut::from(s.id.0),
                    s.name.clone().into(),
                    l.kind(&s.kind).into(),
                    s.org_name.clone().into(),
                    s.org_code.clone().into(),
                    s.township.clone().into(),
                    s.address.clone().into(),
                    s.lat.into(),
                    s.lng.into(),
                    s.area_sqm.into(),
                    l.facilities(&s.facilities).into(),
                    s.hours.clone().into(),
                    s.phone.clone().into(),
                    l.status(&s.status).into(),
                    s.opened_on.clone().into(),
                ]
            })
            .collect(),
        col_widths: None,
    };
    let bytes = sheet::write_xlsx(&[sheet]).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("station.export", "station", "list")
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"rows": rows.len()})),
    )
    .await?;
    Ok(platform::web::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "服务阵地.xlsx",
    ))
}

#[derive(Template)]
#[template(path = "stations/form.html")]
struct FormPage {
    c: Chrome,
    action: String,
    f: StationInput,
    error: Option<String>,
    unions: Vec<(String, String)>,
    townships: Vec<Township>,
    kinds: &'static [(&'static str, &'static str, &'static str)],
    statuses: &'static [(&'static str, &'static str, &'static str)],
    facilities: &'static [(&'static str, &'static str, &'static str)],
    datums: Vec<(&'static str, String)>,
}

impl FormPage {
    fn has_facility(&self, k: &str) -> bool {
        self.f.facilities.split(',').any(|f| f.trim() == k)
    }
}

async fn form_page(
    st: &AppState,
    staff: &Staff,
    action: String,
    f: StationInput,
    error: Option<String>,
) -> AppResult<FormPage> {
    let tr = staff.ctx.tr();
    let e = en(&tr);
    let unions = orgs::store::list_subtree(&st.db, staff.scope())
        .await?
        .into_iter()
        .filter(|o| !o.is_closed())
        .map(|o| (o.code, o.name))
        .collect();
    Ok(FormPage {
        c: Chrome::new(staff, "stations"),
        action,
        f,
        error,
        unions,
        townships: store::all_townships(&st.db).await?,
        kinds: KINDS,
        statuses: STATUSES,
        facilities: FACILITIES,
        datums: geo::Datum::ALL
            .iter()
            .map(|d| {
                let (zh, en_) = d.label();
                (d.as_str(), if e { en_ } else { zh }.to_string())
            })
            .collect(),
    })
}

async fn new_form(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    staff.scope().require_write()?;
    let f = StationInput {
        datum: "gcj02".into(),
        status: "open".into(),
        opened_on: time::today().to_string(),
        ..Default::default()
    };
    Ok(html(
        &form_page(&st, &staff, "/stations".into(), f, None).await?,
    ))
}

/// A form posts facilities as repeated checkboxes.
fn form_input(pairs: Vec<(String, String)>) -> StationInput {
    let mut f = StationInput::default();
    let mut facilities = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "org" => f.org = v,
            "kind" => f.kind = v,
            "name" => f.name = v,
            "address" => f.address = v,
            "township_id" => f.township_id = v,
            "lat" => f.lat = v,
            "lng" => f.lng = v,
            "pair" => f.pair = v,
            "datum" => f.datum = v,
            "area_sqm" => f.area_sqm = v,
            "facility" => facilities.push(v),
            "facilities" => facilities.push(v),
            "hours" => f.hours = v,
            "phone" => f.phone = v,
            "status" => f.status = v,
            "opened_on" => f.opened_on = v,
            "closed_on" => f.closed_on = v,
            _ => {}
        }
    }
    f.facilities = facilities.join(",");
    f
}

async fn refused_form(
    st: &AppState,
    staff: &Staff,
    action: String,
    f: StationInput,
    e: AppError,
) -> AppResult<Response> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let msg = e.user_message().get(staff.ctx.lang).to_string();
            let page = form_page(st, staff, action, f, Some(msg)).await?;
            Ok((status, html(&page)).into_response())
        }
        other => Err(other),
    }
}

async fn create_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let f = form_input(pairs);
    let result = match f.parse() {
        Ok(fields) => store::create(&st.db, staff.scope(), &fields).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!("/stations/{}", s.id)).into_response()),
        Err(e) => refused_form(&st, &staff, "/stations".into(), f, e).await,
    }
}

fn input_of(s: &Station) -> StationInput {
    StationInput {
        org: s.org_code.clone(),
        kind: s.kind.clone(),
        name: s.name.clone(),
        address: s.address.clone(),
        township_id: s.township_id.to_string(),
        lat: format!("{:.6}", s.lat),
        lng: format!("{:.6}", s.lng),
        pair: String::new(),
        datum: "wgs84".into(),
        area_sqm: s.area_sqm.to_string(),
        facilities: s.facilities.join(","),
        hours: s.hours.clone(),
        phone: s.phone.clone(),
        status: s.status.clone(),
        opened_on: s.opened_on.clone(),
        closed_on: s.closed_on.clone().unwrap_or_default(),
    }
}

async fn edit_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let s = store::get(&st.db, staff.scope(), StationId(id)).await?;
    staff.scope().require_write()?;
    Ok(html(
        &form_page(
            &st,
            &staff,
            format!("/stations/{id}/edit"),
            input_of(&s),
            None,
        )
        .await?,
    ))
}

async fn edit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    store::get(&st.db, staff.scope(), StationId(id)).await?;
    staff.scope().require_write()?;
    let f = form_input(pairs);
    let result = match f.parse() {
        Ok(fields) => store::update(&st.db, staff.scope(), StationId(id), &fields).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!("/stations/{}", s.id)).into_response()),
        Err(e) => refused_form(&st, &staff, format!("/stations/{id}/edit"), f, e).await,
    }
}

#[derive(Template)]
#[template(path = "stations/show.html")]
struct ShowPage {
    c: Chrome,
    l: Labels,
    s: Station,
    days: Vec<store::DayVisits>,
    total: i64,
    can_write: bool,
    today: String,
    error: Option<String>,
    amap: String,
    baidu: String,
}

async fn show(st: &AppState, staff: &Staff, id: i64, error: Option<String>) -> AppResult<ShowPage> {
    let s = store::get(&st.db, staff.scope(), StationId(id)).await?;
    let (days, total) = store::recent_visits(&st.db, staff.scope(), s.id, 31).await?;
    let (amap, baidu, _) = store::route_links(s.point(), &s.name);
    let tr = staff.ctx.tr();
    Ok(ShowPage {
        c: Chrome::new(staff, "stations"),
        l: Labels { en: en(&tr) },
        s,
        days,
        total,
        can_write: staff.scope().can_write(),
        today: time::today().to_string(),
        error,
        amap,
        baidu,
    })
}

async fn show_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    Ok(html(&show(&st, &staff, id, None).await?))
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VisitsInput {
    /// The day (YYYY-MM-DD).
    pub on_date: String,
    /// Visits (人次) that day.
    pub visits: String,
}

impl VisitsInput {
    fn parse(&self) -> AppResult<(chrono::NaiveDate, i64)> {
        let on = time::parse_date(&self.on_date).ok_or_else(|| {
            AppError::invalid(
                "日期无效,请按 2024-03-01 格式填写",
                "Invalid date; use 2024-03-01",
            )
        })?;
        let visits = self.visits.trim().parse::<i64>().map_err(|_| {
            AppError::invalid("服务人次请填写整数", "Fill in the visits as a whole number")
        })?;
        Ok((on, visits))
    }
}

async fn visits_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(v): Form<VisitsInput>,
) -> AppResult<Response> {
    store::get(&st.db, staff.scope(), StationId(id)).await?;
    staff.scope().require_write()?;
    let result = match v.parse() {
        Ok((on, n)) => store::record_visits(&st.db, staff.scope(), StationId(id), on, n).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/stations/{id}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let msg = e.user_message().get(staff.ctx.lang).to_string();
            let page = show(&st, &staff, id, Some(msg)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "stations/circle.html")]
struct CirclePage {
    c: Chrome,
    rows: Vec<Township>,
    covered: usize,
    share: String,
    can_write: bool,
    error: Option<String>,
    f: TownshipInput,
}

async fn circle(
    st: &AppState,
    staff: &Staff,
    error: Option<String>,
    f: TownshipInput,
) -> AppResult<CirclePage> {
    let mut rows = store::townships(&st.db, staff.scope()).await?;
    // Those without a station first: they are the work to do.
    rows.sort_by_key(|t| (t.open_stations > 0, t.county_code.clone(), t.name.clone()));
    let covered = rows.iter().filter(|t| t.open_stations > 0).count();
    let share = if rows.is_empty() {
        "—".to_string()
    } else {
        format!("{:.1}%", covered as f64 * 100.0 / rows.len() as f64)
    };
    Ok(CirclePage {
        c: Chrome::new(staff, "stations"),
        rows,
        covered,
        share,
        can_write: staff.scope().can_write(),
        error,
        f,
    })
}

async fn circle_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    Ok(html(
        &circle(&st, &staff, None, TownshipInput::default()).await?,
    ))
}

async fn township_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<TownshipInput>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let result = match f.parse() {
        Ok(fields) => store::create_township(&st.db, staff.scope(), &fields).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/stations/circle").into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let msg = e.user_message().get(staff.ctx.lang).to_string();
            let page = circle(&st, &staff, Some(msg), f).await?;
            Ok((status, html(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

// ------------------------------------------------------------------ the public page

/// Layout data of the public page.
pub struct Public {
    pub tr: Tr,
    pub path: String,
}

impl Public {
    pub fn t(&self, key: &str) -> &'static str {
        self.tr.t(key)
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct NearQuery {
    /// The phone's position, WGS-84 (browser geolocation).
    pub lat: String,
    pub lng: String,
    /// Or a street/township to search from (its id, from the page's list).
    pub township: String,
    /// Only this kind (love, maternal, driver, library, centre).
    pub kind: String,
    /// How many (1–50, 10 by default).
    pub n: String,
}

/// Where to search from, as asked.
async fn near_point(st: &AppState, q: &NearQuery) -> AppResult<Option<LatLng>> {
    if !q.lat.trim().is_empty() || !q.lng.trim().is_empty() {
        let (lat, lng) = model::typed_point(&q.lat, &q.lng, "")?;
        let p = geo::check_position(lat, lng).map_err(|r| {
            let (zh, en) = r.message();
            AppError::invalid(zh, en)
        })?;
        return Ok(Some(p));
    }
    if !q.township.trim().is_empty() {
        let id = q.township.trim().parse::<i64>().map_err(|_| {
            AppError::invalid(
                "请从列表中选择街道(乡镇)",
                "Choose a street/township from the list",
            )
        })?;
        return Ok(Some(store::township_centre(&st.db, id).await.map_err(
            |_| {
                AppError::invalid(
                    "请从列表中选择街道(乡镇)",
                    "Choose a street/township from the list",
                )
            },
        )?));
    }
    Ok(None)
}

fn near_kind(q: &NearQuery) -> AppResult<Option<&'static str>> {
    if q.kind.trim().is_empty() {
        return Ok(None);
    }
    KINDS
        .iter()
        .find(|(k, ..)| *k == q.kind.trim())
        .map(|(k, ..)| Some(*k))
        .ok_or_else(|| AppError::invalid("阵地类型无效", "Unknown kind of station"))
}

fn near_n(q: &NearQuery) -> usize {
    q.n.trim()
        .parse::<usize>()
        .unwrap_or(10)
        .clamp(1, store::NEAR_MAX)
}

#[derive(Template)]
#[template(path = "stations/near.html")]
struct NearPage {
    c: Public,
    l: Labels,
    asked: bool,
    hits: Vec<NearStation>,
    error: Option<String>,
    townships: Vec<Township>,
    township: String,
    kind: String,
    kinds: &'static [(&'static str, &'static str, &'static str)],
}

async fn near_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NearQuery>,
) -> AppResult<Response> {
    crate::limits::of(&st).ip(&ctx.ip)?;
    let tr = ctx.tr();
    let mut error = None;
    let mut hits = Vec::new();
    let mut asked = false;
    let found = match (near_point(&st, &q).await, near_kind(&q)) {
        (Ok(p), Ok(k)) => Ok((p, k)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match found {
        Ok((Some(p), kind)) => {
            asked = true;
            hits = store::nearest_open(&st.db, p, near_n(&q), kind).await?;
        }
        Ok((None, _)) => {}
        Err(e @ AppError::Invalid(_)) => error = Some(e.user_message().get(ctx.lang).to_string()),
        Err(e) => return Err(e),
    }
    let townships = store::all_townships(&st.db)
        .await?
        .into_iter()
        .filter(|t| t.centre_lat.is_some())
        .collect();
    let page = NearPage {
        l: Labels { en: en(&tr) },
        c: Public {
            tr,
            path: ctx.path.clone(),
        },
        asked,
        hits,
        townships,
        township: q.township.trim().to_string(),
        kind: q.kind.trim().to_string(),
        kinds: KINDS,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, html(&page)).into_response())
}

// ------------------------------------------------------------------ JSON API

/// The stations of the caller's subtree (at most 1,000; filter to narrow).
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(ListFilter),
    responses((status = 200, body = [Station])))]
async fn api_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ListFilter>,
) -> AppResult<Json<Vec<Station>>> {
    Ok(Json(store::list(&st.db, staff.scope(), &f).await?))
}

/// Records a station. Coordinates are typed in `datum` (高德/腾讯 gcj02,
/// 百度 bd09, phone/GPS wgs84) and stored in WGS-84.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = StationInput,
    responses((status = 200, body = Station), (status = 422)))]
async fn api_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<StationInput>,
) -> AppResult<Json<Station>> {
    staff.scope().require_write()?;
    Ok(Json(
        store::create(&st.db, staff.scope(), &f.parse()?).await?,
    ))
}

/// One station; 404 outside the caller's subtree (and the attempt is audited).
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)),
    responses((status = 200, body = Station), (status = 404)))]
async fn api_get(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Station>> {
    Ok(Json(
        store::get(&st.db, staff.scope(), StationId(id)).await?,
    ))
}

/// Replaces a station's fields.
#[utoipa::path(patch, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)),
    request_body = StationInput, responses((status = 200, body = Station), (status = 422)))]
async fn api_update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(f): Json<StationInput>,
) -> AppResult<Json<Station>> {
    store::get(&st.db, staff.scope(), StationId(id)).await?;
    staff.scope().require_write()?;
    Ok(Json(
        store::update(&st.db, staff.scope(), StationId(id), &f.parse()?).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub station_id: i64,
    pub on_date: String,
    pub visits: i64,
}

/// Records (or replaces) one day's visits (人次) of a station.
#[utoipa::path(post, path = "/api/v1/stations/{id}/visits", tag = "stations", params(("id" = i64, Path)),
    request_body = VisitsInput, responses((status = 200, body = Recorded), (status = 422)))]
async fn api_visits(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(v): Json<VisitsInput>,
) -> AppResult<Json<Recorded>> {
    store::get(&st.db, staff.scope(), StationId(id)).await?;
    staff.scope().require_write()?;
    let (on, n) = v.parse()?;
    store::record_visits(&st.db, staff.scope(), StationId(id), on, n).await?;
    Ok(Json(Recorded {
        station_id: id,
        on_date: on.to_string(),
        visits: n,
    }))
}

/// The streets/townships of the caller's subtree with their open stations:
/// the service circle (`open_stations = 0`: not yet covered).
#[utoipa::path(get, path = "/api/v1/stations/townships", tag = "stations",
    responses((status = 200, body = [Township])))]
async fn api_townships(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<Township>>> {
    Ok(Json(store::townships(&st.db, staff.scope()).await?))
}

/// Adds a street/township to a county's list.
#[utoipa::path(post, path = "/api/v1/stations/townships", tag = "stations",
    request_body = TownshipInput, responses((status = 200, body = Township), (status = 409), (status = 422)))]
async fn api_township_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<TownshipInput>,
) -> AppResult<Json<Township>> {
    staff.scope().require_write()?;
    Ok(Json(
        store::create_township(&st.db, staff.scope(), &f.parse()?).await?,
    ))
}

/// 附近的驿站: the open stations nearest to a WGS-84 position (or a
/// street/township's centre), nearest first, with route links for 高德
/// (GCJ-02), 百度 (BD-09) and any map app. Public, rate-limited per IP.
#[utoipa::path(get, path = "/api/v1/stations/near", tag = "stations", params(NearQuery), security(()),
    responses((status = 200, body = [NearStation]), (status = 422), (status = 429)))]
async fn api_near(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NearQuery>,
) -> AppResult<Json<Vec<NearStation>>> {
    crate::limits::of(&st).ip(&ctx.ip)?;
    let kind = near_kind(&q)?;
    let p = near_point(&st, &q).await?.ok_or_else(|| {
        AppError::invalid(
            "请提供位置(lat、lng,WGS-84)或街道(乡镇)",
            "Give a position (lat, lng in WGS-84) or a street/township",
        )
    })?;
    Ok(Json(
        store::nearest_open(&st.db, p, near_n(&q), kind).await?,
    ))
}
