//! Stations, townships and visit counts: every read of org-level records
//! goes through the caller's subtree (404 + `scope.denied` outside it);
//! every write is one transaction with its audit entry and the owning orgs'
//! data versions.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use crate::{
    geo::{self, Candidate, Datum, LatLng},
    model::{StationFields, TownshipFields},
};
use ::orgs::store as orgs;
use platform::{
    audit::{self, Event},
    dataver,
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    scope::Scope,
    time,
};

platform::id_type!(StationId, TownshipId);

/// A station as shown to staff.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Station {
    #[schema(value_type = i64)]
    pub id: StationId,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub township_id: i64,
    pub township: String,
    /// WGS-84 degrees.
    pub lat: f64,
    pub lng: f64,
    /// The datum the coordinates were typed in.
    pub datum_in: String,
    pub area_sqm: i64,
    pub facilities: Vec<String>,
    pub hours: String,
    pub phone: String,
    pub status: String,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub updated_at: String,
}

impl Station {
    pub fn point(&self) -> LatLng {
        LatLng::new(self.lat, self.lng)
    }
}

const SELECT: &str = "SELECT s.id, s.org_id, o.code AS org_code, o.name AS org_name, o.path AS org_path, \
    s.kind, s.name, s.address, s.township_id, t.name AS township, s.lat_e6, s.lng_e6, s.datum_in, \
    s.area_sqm, s.facilities, s.hours, s.phone, s.status, s.opened_on, s.closed_on, s.updated_at \
    FROM stations s JOIN orgs o ON o.id = s.org_id JOIN station_townships t ON t.id = s.township_id";

fn facilities(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

fn station(r: &AnyRow) -> Result<Station, sqlx::Error> {
    let p = LatLng::from_e6(r.try_get("lat_e6")?, r.try_get("lng_e6")?);
    Ok(Station {
        id: StationId(r.try_get("id")?),
        org_id: OrgId(r.try_get("org_id")?),
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        township_id: r.try_get("township_id")?,
        township: r.try_get("township")?,
        lat: p.lat,
        lng: p.lng,
        datum_in: r.try_get("datum_in")?,
        area_sqm: r.try_get("area_sqm")?,
        facilities: facilities(&r.try_get::<String, _>("facilities")?),
        hours: r.try_get("hours")?,
        phone: r.try_get("phone")?,
        status: r.try_get("status")?,
        opened_on: r.try_get("opened_on")?,
        closed_on: r.try_get("closed_on")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One station, if it is in the caller's subtree (404 and audited otherwise).
pub async fn get(db: &Db, scope: &Scope, id: StationId) -> AppResult<Station> {
    let row = sqlx::query(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let s = station(&row)?;
    scope.admit(db, &s.org_path, "station", s.id).await?;
    Ok(s)
}

/// Filters of the list.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListFilter {
    /// A kind key (love, maternal, driver, library, centre).
    pub kind: String,
    /// open | paused | closed.
    pub status: String,
    /// Name or address contains.
    pub q: String,
}

pub const LIST_LIMIT: i64 = 1000;

/// The stations of the caller's subtree, in org order.
pub async fn list(db: &Db, scope: &Scope, f: &ListFilter) -> AppResult<Vec<Station>> {
    let q: String = f.q.trim().chars().take(40).collect();
    let like = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE o.path LIKE $1 AND ($2 = '' OR s.kind = $2) AND ($3 = '' OR s.status = $3) \
         AND ($4 = '' OR s.name LIKE $5 ESCAPE '\\' OR s.address LIKE $5 ESCAPE '\\') \
         ORDER BY o.code, s.id LIMIT $6"
    ))
    .bind(scope.like())
    .bind(f.kind.trim())
    .bind(f.status.trim())
    .bind(q.as_str())
    .bind(like)
    .bind(LIST_LIMIT)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(station)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

async fn region_root(tx: &mut sqlx::AnyConnection, org: OrgId) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT region_root FROM orgs WHERE id = $1")
            .bind(org.0)
            .fetch_one(&mut *tx)
            .await?,
    )
}

async fn township_exists(db: &Db, id: i64) -> AppResult<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM station_townships WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    if n == 0 {
        return Err(AppError::invalid(
            "所选街道(乡镇)不存在,请从列表中选择;列表中没有的请先在“街道(乡镇)”页添加",
            "No such street/township; choose one from the list, or add it on the streets/townships page first",
        ));
    }
    Ok(())
}

fn fields_json(f: &StationFields) -> serde_json::Value {
    serde_json::json!({
        "org": f.org_code, "kind": f.kind, "name": f.name, "address": f.address,
        "township_id": f.township_id, "lat": f.point.lat, "lng": f.point.lng,
        "datum_in": f.datum_in.as_str(), "area_sqm": f.area_sqm,
        "facilities": f.facilities.join(","), "hours": f.hours, "phone": f.phone,
        "status": f.status, "opened_on": f.opened_on.to_string(),
        "closed_on": f.closed_on.map(|d| d.to_string()),
    })
}

/// The owning union named by the form, in the caller's subtree and not closed.
async fn owner(db: &Db, scope: &Scope, code: &str) -> AppResult<orgs::Org> {
    let org = orgs::get_by_code(db, scope, code).await?;
    if org.is_closed() {
        return Err(AppError::invalid(
            "所属工会已撤销,不能登记阵地",
            "The owning union is closed; it cannot hold a station",
        ));
    }
    Ok(org)
}

/// Records a new station.
pub async fn create(db: &Db, scope: &Scope, f: &StationFields) -> AppResult<Station> {
    scope.require_write()?;
    let org = owner(db, scope, &f.org_code).await?;
    township_exists(db, f.township_id).await?;
    let (lat, lng) = f.point.to_e6();
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    let root = region_root(&mut tx.tx, org.id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO stations (org_id, region_root, kind, name, address, township_id, lat_e6, lng_e6, \
         datum_in, area_sqm, facilities, hours, phone, status, opened_on, closed_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(org.id.0)
    .bind(root)
    .bind(f.kind)
    .bind(&f.name)
    .bind(&f.address)
    .bind(f.township_id)
    .bind(lat)
    .bind(lng)
    .bind(f.datum_in.as_str())
    .bind(f.area_sqm)
    .bind(f.facilities.join(","))
    .bind(&f.hours)
    .bind(&f.phone)
    .bind(f.status)
    .bind(f.opened_on.to_string())
    .bind(f.closed_on.map(|d| d.to_string()))
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await?;
    dataver::touch(&mut tx.tx, [org.id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("station.create", "station", id)
            .org(org.id)
            .detail(serde_json::json!({"after": fields_json(f)})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, StationId(id)).await
}

/// Replaces a station's fields (its owner may move within the caller's subtree).
pub async fn update(
    db: &Db,
    scope: &Scope,
    id: StationId,
    f: &StationFields,
) -> AppResult<Station> {
    scope.require_write()?;
    let before = get(db, scope, id).await?;
    let org = owner(db, scope, &f.org_code).await?;
    township_exists(db, f.township_id).await?;
    let (lat, lng) = f.point.to_e6();
    let mut tx = db.begin_write().await?;
    let root = region_root(&mut tx.tx, org.id).await?;
    let n = sqlx::query(
        "UPDATE stations SET org_id = $1, region_root = $2, kind = $3, name = $4, address = $5, \
         township_id = $6, lat_e6 = $7, lng_e6 = $8, datum_in = $9, area_sqm = $10, facilities = $11, \
         hours = $12, phone = $13, status = $14, opened_on = $15, closed_on = $16, updated_at = $17 \
         WHERE id = $18 AND updated_at = $19",
    )
    .bind(org.id.0)
    .bind(root)
    .bind(f.kind)
    .bind(&f.name)
    .bind(&f.address)
    .bind(f.township_id)
    .bind(lat)
    .bind(lng)
    .bind(f.datum_in.as_str())
    .bind(f.area_sqm)
    .bind(f.facilities.join(","))
    .bind(&f.hours)
    .bind(&f.phone)
    .bind(f.status)
    .bind(f.opened_on.to_string())
    .bind(f.closed_on.map(|d| d.to_string()))
    .bind(time::now_rfc3339())
    .bind(id.0)
    .bind(&before.updated_at)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        tx.tx.rollback().await?;
        return Err(AppError::conflict(
            "该阵地刚被他人修改,请刷新后重试",
            "Someone else has just changed this station; reload and try again",
        ));
    }
    // Visits follow their station to its new owner.
    sqlx::query("UPDATE station_visits SET org_id = $1, region_root = $2 WHERE station_id = $3")
        .bind(org.id.0)
        .bind(root)
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    dataver::touch(&mut tx.tx, [before.org_id.0, org.id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("station.update", "station", id)
            .org(org.id)
            .detail(serde_json::json!({"before_org": before.org_code, "after": fields_json(f)})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, id).await
}

/// Largest count accepted for one station and day.
pub const MAX_VISITS_PER_DAY: i64 = 100_000;

/// Records (or replaces) a day's visits of a station.
pub async fn record_visits(
    db: &Db,
    scope: &Scope,
    id: StationId,
    on: NaiveDate,
    visits: i64,
) -> AppResult<()> {
    scope.require_write()?;
    let s = get(db, scope, id).await?;
    if on > time::today() {
        return Err(AppError::invalid(
            "不能登记今天以后的服务人次",
            "Visits cannot be recorded for a future day",
        ));
    }
    if on.to_string() < s.opened_on {
        return Err(AppError::invalid(
            format!("该阵地{}建成,不能登记更早的服务人次", s.opened_on),
            format!(
                "The station opened on {}; visits before that cannot be recorded",
                s.opened_on
            ),
        ));
    }
    if !(0..=MAX_VISITS_PER_DAY).contains(&visits) {
        return Err(AppError::invalid(
            format!("每日服务人次应在 0 至 {MAX_VISITS_PER_DAY} 之间"),
            format!("Visits per day must be between 0 and {MAX_VISITS_PER_DAY}"),
        ));
    }
    let mut tx = db.begin_write().await?;
    let root = region_root(&mut tx.tx, s.org_id).await?;
    sqlx::query(
        "INSERT INTO station_visits (station_id, org_id, region_root, on_date, visits, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (station_id, on_date) DO UPDATE SET visits = excluded.visits, recorded_at = excluded.recorded_at",
    )
    .bind(id.0)
    .bind(s.org_id.0)
    .bind(root)
    .bind(on.to_string())
    .bind(visits)
    .bind(time::now_rfc3339())
    .execute(&mut *tx.tx)
    .await?;
    dataver::touch(&mut tx.tx, [s.org_id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("station.visits", "station", id)
            .org(s.org_id)
            .detail(serde_json::json!({"on": on.to_string(), "visits": visits})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayVisits {
    pub on_date: String,
    pub visits: i64,
}

/// A station's most recent recorded days.
pub async fn recent_visits(
    db: &Db,
    scope: &Scope,
    id: StationId,
    limit: i64,
) -> AppResult<(Vec<DayVisits>, i64)> {
    get(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT on_date, visits FROM station_visits WHERE station_id = $1 ORDER BY on_date DESC LIMIT $2",
    )
    .bind(id.0)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(visits), 0) AS BIGINT) FROM station_visits WHERE station_id = $1",
    )
    .bind(id.0)
    .fetch_one(db.pool())
    .await?;
    let days = rows
        .iter()
        .map(|r| {
            Ok(DayVisits {
                on_date: r.try_get("on_date")?,
                visits: r.try_get("visits")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((days, total))
}

// ------------------------------------------------------------ townships

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Township {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub county_code: String,
    pub name: String,
    pub centre_lat: Option<f64>,
    pub centre_lng: Option<f64>,
    /// Open stations located in it today.
    pub open_stations: i64,
}

fn township(r: &AnyRow) -> Result<Township, sqlx::Error> {
    let lat: Option<i64> = r.try_get("centre_lat_e6")?;
    let lng: Option<i64> = r.try_get("centre_lng_e6")?;
    let centre = lat.zip(lng).map(|(a, b)| LatLng::from_e6(a, b));
    Ok(Township {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        county_code: r.try_get("county_code")?,
        name: r.try_get("name")?,
        centre_lat: centre.map(|c| c.lat),
        centre_lng: centre.map(|c| c.lng),
        open_stations: r.try_get("open_stations")?,
    })
}

const TOWNSHIPS: &str = "SELECT t.id, o.code AS org_code, o.name AS org_name, t.county_code, t.name, \
    t.centre_lat_e6, t.centre_lng_e6, \
    CAST((SELECT COUNT(*) FROM stations s WHERE s.township_id = t.id AND s.status = 'open') AS BIGINT) AS open_stations \
    FROM station_townships t JOIN orgs o ON o.id = t.org_id";

/// The streets/townships kept by the unions of the caller's subtree, with
/// their open stations: the service circle's list (those with none first
/// when `uncovered_first`).
pub async fn townships(db: &Db, scope: &Scope) -> AppResult<Vec<Township>> {
    let rows = sqlx::query(&format!(
        "{TOWNSHIPS} WHERE o.path LIKE $1 ORDER BY t.county_code, t.name"
    ))
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(township)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// Every street/township: public place names, for the station form's
/// choice and the public page's "search from" list.
pub async fn all_townships(db: &Db) -> AppResult<Vec<Township>> {
    let rows = sqlx::query(&format!("{TOWNSHIPS} ORDER BY t.county_code, t.name"))
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(township)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// Adds a street/township to a county's list.
pub async fn create_township(db: &Db, scope: &Scope, f: &TownshipFields) -> AppResult<Township> {
    scope.require_write()?;
    let org = owner(db, scope, &f.org_code).await?;
    let centre = f.centre.map(|c| c.to_e6());
    let mut tx = db.begin_write().await?;
    let root = region_root(&mut tx.tx, org.id).await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO station_townships (org_id, region_root, county_code, name, centre_lat_e6, centre_lng_e6, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(org.id.0)
    .bind(root)
    .bind(&f.county_code)
    .bind(&f.name)
    .bind(centre.map(|c| c.0))
    .bind(centre.map(|c| c.1))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            tx.tx.rollback().await?;
            return Err(AppError::conflict(
                format!("该县(区)已有“{}”", f.name),
                format!("This county already has “{}”", f.name),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("station.township_create", "station_township", id)
            .org(org.id)
            .detail(serde_json::json!({"county_code": f.county_code, "name": f.name})),
    )
    .await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("{TOWNSHIPS} WHERE t.id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(township(&row)?)
}

// ------------------------------------------------------------ the public page

/// A station as the public page shows it: no person, no member.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NearStation {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub township: String,
    pub union_name: String,
    pub facilities: Vec<String>,
    pub hours: String,
    pub phone: String,
    /// Metres from the asked point.
    pub distance_m: i64,
    /// WGS-84.
    pub lat: f64,
    pub lng: f64,
    /// The route in 高德 (GCJ-02), 百度 (BD-09) and any map app (geo:, WGS-84).
    pub amap_url: String,
    pub baidu_url: String,
    pub geo_url: String,
}

/// How many stations the public page lists at most.
pub const NEAR_MAX: usize = 50;

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Links that open the route to `p` (WGS-84) in the phone's map app.
pub fn route_links(p: LatLng, name: &str) -> (String, String, String) {
    let g = geo::from_wgs(p, Datum::Gcj02);
    let b = geo::from_wgs(p, Datum::Bd09);
    let n = enc(name);
    (
        format!(
            "https://uri.amap.com/navigation?to={:.6},{:.6},{n}&mode=walk&coordinate=gaode&callnative=1",
            g.lng, g.lat
        ),
        format!(
            "https://api.map.baidu.com/marker?location={:.6},{:.6}&title={n}&content={n}&coord_type=bd09ll&output=html&src=gonghui",
            b.lat, b.lng
        ),
        format!("geo:{:.6},{:.6}?q={:.6},{:.6}({n})", p.lat, p.lng, p.lat, p.lng),
    )
}

/// The open stations nearest to `from` (WGS-84), nearest first: an index
/// range of 30 km first; when that holds too few, the nearest few by the
/// database's ranking of every open station.
pub async fn nearest_open(
    db: &Db,
    from: LatLng,
    n: usize,
    kind: Option<&str>,
) -> AppResult<Vec<NearStation>> {
    let n = n.clamp(1, NEAR_MAX);
    let kind = kind.unwrap_or("");
    let read = |r: &AnyRow| -> Result<Candidate, sqlx::Error> {
        Ok(Candidate {
            id: r.try_get("id")?,
            lat_e6: r.try_get("lat_e6")?,
            lng_e6: r.try_get("lng_e6")?,
        })
    };
    // Within 5 km, then 30 km: an index range on latitude, exact ranking in
    // memory (a phone in town has its ten nearest within a few kilometres).
    let mut candidates = Vec::new();
    let mut confirmed = false;
    for radius in [5_000.0, 30_000.0] {
        let (a, b, c, d) = geo::bounding_box_e6(from, radius);
        let rows = sqlx::query(
            "SELECT id, lat_e6, lng_e6 FROM stations WHERE status = 'open' \
             AND lat_e6 BETWEEN $1 AND $2 AND lng_e6 BETWEEN $3 AND $4 AND ($5 = '' OR kind = $5)",
        )
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(d)
        .bind(kind)
        .fetch_all(db.pool())
        .await?;
        candidates = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        // Enough, and the n-th nearest inside the radius (so nothing
        // outside the box can be nearer).
        if candidates.len() >= n {
            let best = geo::nearest(from, &candidates, n);
            if best.last().is_some_and(|(_, m)| *m <= radius) {
                confirmed = true;
                break;
            }
        }
    }
    if !confirmed {
        // Too few that close: the database ranks every open station by the
        // equirectangular distance (integer micro-degrees, longitude scaled
        // by the cosine of the latitude) and hands over the best few, which
        // are ranked exactly below.
        let (lat0, lng0) = from.to_e6();
        let k = from.lat.to_radians().cos();
        let rows = sqlx::query(
            "SELECT id, lat_e6, lng_e6 FROM stations WHERE status = 'open' AND ($1 = '' OR kind = $1) \
             ORDER BY (lat_e6 - $2) * (lat_e6 - $2) + (lng_e6 - $3) * (lng_e6 - $3) * $4, id LIMIT $5",
        )
        .bind(kind)
        .bind(lat0)
        .bind(lng0)
        .bind(k * k)
        .bind((n * 4 + 8) as i64)
        .fetch_all(db.pool())
        .await?;
        candidates = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    }
    let best = geo::nearest(from, &candidates, n);
    if best.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = best.iter().map(|(id, _)| id.to_string()).collect();
    // Ids are integers from the database: safe to inline.
    let rows = sqlx::query(&format!(
        "SELECT s.id, s.kind, s.name, s.address, t.name AS township, o.name AS union_name, \
         s.facilities, s.hours, s.phone, s.lat_e6, s.lng_e6 \
         FROM stations s JOIN orgs o ON o.id = s.org_id JOIN station_townships t ON t.id = s.township_id \
         WHERE s.id IN ({})",
        ids.join(",")
    ))
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(best.len());
    for (id, dist) in best {
        let Some(r) = rows
            .iter()
            .find(|r| r.try_get::<i64, _>("id").ok() == Some(id))
        else {
            continue;
        };
        let p = LatLng::from_e6(r.try_get("lat_e6")?, r.try_get("lng_e6")?);
        let name: String = r.try_get("name")?;
        let (amap_url, baidu_url, geo_url) = route_links(p, &name);
        out.push(NearStation {
            id,
            kind: r.try_get("kind")?,
            name,
            address: r.try_get("address")?,
            township: r.try_get("township")?,
            union_name: r.try_get("union_name")?,
            facilities: facilities(&r.try_get::<String, _>("facilities")?),
            hours: r.try_get("hours")?,
            phone: r.try_get("phone")?,
            distance_m: dist.round() as i64,
            lat: p.lat,
            lng: p.lng,
            amap_url,
            baidu_url,
            geo_url,
        });
    }
    Ok(out)
}

/// The centre of a township offered on the public page.
pub async fn township_centre(db: &Db, id: i64) -> AppResult<LatLng> {
    let row = sqlx::query(
        "SELECT centre_lat_e6, centre_lng_e6 FROM station_townships WHERE id = $1 \
         AND centre_lat_e6 IS NOT NULL AND centre_lng_e6 IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(LatLng::from_e6(
        row.try_get("centre_lat_e6")?,
        row.try_get("centre_lng_e6")?,
    ))
}
