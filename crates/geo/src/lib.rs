//! Coordinates: the datum Gonghui stores (WGS-84, what a phone's
//! geolocation gives), the datums Chinese maps show and copy (GCJ-02: 高德,
//! 腾讯; BD-09: 百度), the transforms between them, distances, and the checks
//! of what is typed. Pure functions, no I/O.
//!
//! - WGS-84 → GCJ-02 is the published closed form (Krasovsky ellipsoid
//!   parameters, the two trigonometric series); GCJ-02 → BD-09 is Baidu's
//!   published closed form. Both forward transforms are exact.
//! - The inverses have no closed form: they are solved by fixed-point
//!   iteration on the forward transform until the forward image of the
//!   answer is within 1e-9° of the input (far below the 1e-6° asked; in
//!   practice 3–6 rounds).
//! - Outside China (the rough box the published transform uses) GCJ-02 and
//!   BD-09's GCJ step apply no offset, as the maps do.

use std::f64::consts::PI;

/// The datum a coordinate pair is given in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// WGS-84: GPS, a phone's geolocation, 天地图 (CGCS2000, within centimetres).
    Wgs84,
    /// GCJ-02 (国测局): 高德, 腾讯 and Apple maps in China.
    Gcj02,
    /// BD-09: 百度地图.
    Bd09,
}

impl Datum {
    pub const ALL: [Datum; 3] = [Datum::Wgs84, Datum::Gcj02, Datum::Bd09];

    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }

    pub fn parse(s: &str) -> Option<Datum> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "wgs84" | "wgs" | "gps" | "" => Some(Datum::Wgs84),
            "gcj02" | "gcj" | "amap" | "gaode" | "高德" | "腾讯" | "qq" | "tencent" => {
                Some(Datum::Gcj02)
            }
            "bd09" | "bd09ll" | "baidu" | "百度" => Some(Datum::Bd09),
            _ => None,
        }
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Datum::Wgs84 => (
                "WGS-84(GPS/手机定位/天地图)",
                "WGS-84 (GPS, phone location)",
            ),
            Datum::Gcj02 => ("GCJ-02(高德/腾讯地图)", "GCJ-02 (Amap, Tencent maps)"),
            Datum::Bd09 => ("BD-09(百度地图)", "BD-09 (Baidu maps)"),
        }
    }
}

/// A point: latitude and longitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

impl LatLng {
    pub const fn new(lat: f64, lng: f64) -> LatLng {
        LatLng { lat, lng }
    }

    /// Stored as integer micro-degrees (BIGINT on both backends; 1e-6° is
    /// about 0.11 m).
    pub fn to_e6(self) -> (i64, i64) {
        (
            (self.lat * 1e6).round() as i64,
            (self.lng * 1e6).round() as i64,
        )
    }

    pub fn from_e6(lat: i64, lng: i64) -> LatLng {
        LatLng::new(lat as f64 / 1e6, lng as f64 / 1e6)
    }
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// The box in which GCJ-02 applies its offset (the published transform's).
pub fn gcj_applies(p: LatLng) -> bool {
    (72.004..=137.8347).contains(&p.lng) && (0.8293..=55.8271).contains(&p.lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02 (exact: the published forward transform).
pub fn wgs_to_gcj(p: LatLng) -> LatLng {
    if !gcj_applies(p) {
        return p;
    }
    let mut d_lat = transform_lat(p.lng - 105.0, p.lat - 35.0);
    let mut d_lng = transform_lng(p.lng - 105.0, p.lat - 35.0);
    let rad = p.lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    d_lng = (d_lng * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    LatLng::new(p.lat + d_lat, p.lng + d_lng)
}

/// GCJ-02 → BD-09 (exact: Baidu's published forward transform).
pub fn gcj_to_bd(p: LatLng) -> LatLng {
    let (x, y) = (p.lng, p.lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * X_PI).cos();
    LatLng::new(z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

/// WGS-84 → BD-09.
pub fn wgs_to_bd(p: LatLng) -> LatLng {
    gcj_to_bd(wgs_to_gcj(p))
}

/// Solves `forward(x) = target` by fixed-point iteration: x ← x − (forward(x) − target).
/// The offsets vary slowly (their derivative is far below 1), so this
/// converges geometrically.
fn invert(target: LatLng, forward: impl Fn(LatLng) -> LatLng) -> LatLng {
    let mut x = target;
    for _ in 0..30 {
        let f = forward(x);
        let (dl, dg) = (f.lat - target.lat, f.lng - target.lng);
        if dl.abs() < 1e-10 && dg.abs() < 1e-10 {
            break;
        }
        x = LatLng::new(x.lat - dl, x.lng - dg);
    }
    x
}

/// GCJ-02 → WGS-84, by iteration (forward image within 1e-10° of the input).
pub fn gcj_to_wgs(p: LatLng) -> LatLng {
    if !gcj_applies(p) {
        return p;
    }
    invert(p, wgs_to_gcj)
}

/// BD-09 → GCJ-02, by iteration.
pub fn bd_to_gcj(p: LatLng) -> LatLng {
    invert(p, gcj_to_bd)
}

/// BD-09 → WGS-84.
pub fn bd_to_wgs(p: LatLng) -> LatLng {
    gcj_to_wgs(bd_to_gcj(p))
}

/// A point given in `datum`, in WGS-84.
pub fn to_wgs(p: LatLng, datum: Datum) -> LatLng {
    match datum {
        Datum::Wgs84 => p,
        Datum::Gcj02 => gcj_to_wgs(p),
        Datum::Bd09 => bd_to_wgs(p),
    }
}

/// A WGS-84 point in `datum`.
pub fn from_wgs(p: LatLng, datum: Datum) -> LatLng {
    match datum {
        Datum::Wgs84 => p,
        Datum::Gcj02 => wgs_to_gcj(p),
        Datum::Bd09 => wgs_to_bd(p),
    }
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: LatLng, b: LatLng) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dla = la2 - la1;
    let dlo = (b.lng - a.lng).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// Mainland China, Hainan and the islands, generously: where a union's
/// station can be. (Latitude 3.8–53.6°N, longitude 73.4–135.1°E.)
pub fn in_china(p: LatLng) -> bool {
    (3.8..=53.6).contains(&p.lat) && (73.4..=135.1).contains(&p.lng)
}

/// Why a typed pair cannot be a place in China.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a number, or not finite.
    NotANumber,
    /// Latitude beyond ±90° or longitude beyond ±180°.
    OutOfRange,
    /// The pair is in China the other way round.
    Swapped,
    /// A real place, but not in China.
    OutsideChina,
}

impl Refusal {
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            Refusal::NotANumber => (
                "经纬度须为数字(十进制度数),例如 纬度 34.3291、经度 108.7093",
                "Latitude and longitude must be decimal degrees, e.g. latitude 34.3291, longitude 108.7093",
            ),
            Refusal::OutOfRange => (
                "经纬度超出范围:纬度应在 -90 至 90 之间,经度应在 -180 至 180 之间",
                "Coordinates out of range: latitude must be within ±90 and longitude within ±180",
            ),
            Refusal::Swapped => (
                "纬度和经度似乎填反了:中国境内纬度约为 4–54,经度约为 73–135,请交换后重填",
                "Latitude and longitude seem swapped: in China latitude is about 4–54 and longitude 73–135; swap them and try again",
            ),
            Refusal::OutsideChina => (
                "坐标不在中国境内,请核对经纬度及坐标系(高德/腾讯为 GCJ-02,百度为 BD-09,手机定位为 WGS-84)",
                "The coordinates are outside China; check them and their datum (Amap/Tencent GCJ-02, Baidu BD-09, phone WGS-84)",
            ),
        }
    }
}

/// Parses one degree value as typed: "34.3291", " 108.70 ", "108.70°".
pub fn parse_degrees(s: &str) -> Option<f64> {
    let t = s.trim().trim_end_matches(['°', '度']).trim();
    if t.is_empty() || t.len() > 32 {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a pasted pair as the maps copy it: 高德/百度 give "lng,lat"
/// (108.7093,34.3291); many other tools "lat,lng". Decides by the ranges in
/// China (latitude and longitude ranges do not overlap there).
pub fn parse_pair(s: &str) -> Option<LatLng> {
    let parts: Vec<&str> = s
        .split([',', ',', ' ', ';', '\t'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.len() != 2 {
        return None;
    }
    let (a, b) = (parse_degrees(parts[0])?, parse_degrees(parts[1])?);
    // "lng,lat" when the first looks like a Chinese longitude.
    if a > 60.0 && b < 60.0 {
        Some(LatLng::new(b, a))
    } else {
        Some(LatLng::new(a, b))
    }
}

/// Checks a place as typed (latitude, longitude in `datum`) and
/// gives it in WGS-84.
pub fn check_point(lat: f64, lng: f64, datum: Datum) -> Result<LatLng, Refusal> {
    if !lat.is_finite() || !lng.is_finite() {
        return Err(Refusal::NotANumber);
    }
    let p = LatLng::new(lat, lng);
    if !in_china(p) {
        if lat.abs() <= 180.0 && lng.abs() <= 90.0 && in_china(LatLng::new(lng, lat)) {
            return Err(Refusal::Swapped);
        }
        if lat.abs() > 90.0 || lng.abs() > 180.0 {
            return Err(Refusal::OutOfRange);
        }
        return Err(Refusal::OutsideChina);
    }
    Ok(to_wgs(p, datum))
}

/// Checks a phone's position (WGS-84): anywhere on Earth is a position, the
/// nearest stations are then simply far.
pub fn check_position(lat: f64, lng: f64) -> Result<LatLng, Refusal> {
    if !lat.is_finite() || !lng.is_finite() {
        return Err(Refusal::NotANumber);
    }
    if lat.abs() > 90.0 || lng.abs() > 180.0 {
        return Err(Refusal::OutOfRange);
    }
    Ok(LatLng::new(lat, lng))
}

/// One candidate for [`nearest`]: an id and its WGS-84 place in micro-degrees.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub id: i64,
    pub lat_e6: i64,
    pub lng_e6: i64,
}

/// The `n` candidates nearest to `from`, nearest first, with their distance
/// in metres (ties by id, so the order is stable). Ranked first by the
/// equirectangular approximation (no trigonometry per candidate: exact to
/// well under 0.1 % within a few hundred kilometres), then the best few
/// re-ranked by the exact great-circle distance.
pub fn nearest(from: LatLng, candidates: &[Candidate], n: usize) -> Vec<(i64, f64)> {
    if n == 0 {
        return Vec::new();
    }
    let k = from.lat.to_radians().cos();
    let (lat0, lng0) = from.to_e6();
    let mut approx: Vec<(f64, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let dy = (c.lat_e6 - lat0) as f64;
            let mut dl = (c.lng_e6 - lng0) as f64;
            // Across the antimeridian the short way round.
            if dl.abs() > 180e6 {
                dl = 360e6 - dl.abs();
            }
            let dx = dl * k;
            (dx * dx + dy * dy, i)
        })
        .collect();
    let keep = (n * 4 + 8).min(approx.len());
    let by = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if approx.len() > keep {
        approx.select_nth_unstable_by(keep - 1, by);
        approx.truncate(keep);
    }
    let mut d: Vec<(i64, f64)> = approx
        .iter()
        .map(|&(_, i)| {
            let c = candidates[i];
            (c.id, distance_m(from, LatLng::from_e6(c.lat_e6, c.lng_e6)))
        })
        .collect();
    d.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    d.truncate(n);
    d
}

/// A box around `p` that holds every point within `metres` (for an index
/// range before the exact distance): (lat_min, lat_max, lng_min, lng_max) in
/// micro-degrees.
pub fn bounding_box_e6(p: LatLng, metres: f64) -> (i64, i64, i64, i64) {
    let dlat = metres / 111_000.0;
    let coslat = p.lat.to_radians().cos().max(0.01);
    let dlng = (metres / (111_000.0 * coslat)).min(360.0);
    let e6 = |v: f64| (v * 1e6).round() as i64;
    (
        e6(p.lat - dlat),
        e6(p.lat + dlat),
        e6(p.lng - dlng),
        e6(p.lng + dlng),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: LatLng, b: LatLng, tol: f64) -> bool {
        (a.lat - b.lat).abs() < tol && (a.lng - b.lng).abs() < tol
    }

    /// Published pairs (the eviltransform project's test data): WGS-84 and
    /// GCJ-02 in Shanghai, Shenzhen and Beijing.
    const WGS_GCJ: &[(f64, f64, f64, f64)] = &[
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
    ];

    /// GCJ-02 → BD-09 of the three GCJ-02 points above, by the same
    /// project's reference implementation of Baidu's forward form.
    const GCJ_BD: &[(f64, f64, f64, f64)] = &[
        (
            31.17530398364597,
            121.531541859215,
            31.181328606874466,
            121.53801568643858,
        ),
        (
            22.540796131694766,
            113.9171764808363,
            22.546667437751108,
            113.92368472926734,
        ),
        (
            39.91334545536069,
            116.38404722455657,
            39.919575550965874,
            116.39045471310828,
        ),
    ];

    #[test]
    fn forward_matches_published_pairs() {
        for &(wl, wg, gl, gg) in WGS_GCJ {
            let got = wgs_to_gcj(LatLng::new(wl, wg));
            assert!(
                close(got, LatLng::new(gl, gg), 1e-6),
                "{got:?} vs {gl},{gg}"
            );
        }
        for &(gl, gg, bl, bg) in GCJ_BD {
            let got = gcj_to_bd(LatLng::new(gl, gg));
            assert!(
                close(got, LatLng::new(bl, bg), 1e-9),
                "{got:?} vs {bl},{bg}"
            );
        }
    }

    #[test]
    fn inverse_matches_published_pairs() {
        for &(wl, wg, gl, gg) in WGS_GCJ {
            let got = gcj_to_wgs(LatLng::new(gl, gg));
            assert!(
                close(got, LatLng::new(wl, wg), 1e-6),
                "{got:?} vs {wl},{wg}"
            );
        }
        for (&(gl, gg, bl, bg), &(wl, wg, ..)) in GCJ_BD.iter().zip(WGS_GCJ) {
            let got = bd_to_gcj(LatLng::new(bl, bg));
            assert!(
                close(got, LatLng::new(gl, gg), 1e-6),
                "{got:?} vs {gl},{gg}"
            );
            let wgs = bd_to_wgs(LatLng::new(bl, bg));
            assert!(
                close(wgs, LatLng::new(wl, wg), 1e-6),
                "{wgs:?} vs {wl},{wg}"
            );
        }
    }

    #[test]
    fn no_offset_outside_china() {
        let london = LatLng::new(51.5074, -0.1278);
        assert_eq!(wgs_to_gcj(london), london);
        assert_eq!(gcj_to_wgs(london), london);
        assert_eq!(to_wgs(london, Datum::Gcj02), london);
    }

    #[test]
    fn typed_points_are_checked() {
        assert_eq!(
            check_point(108.7093, 34.3291, Datum::Wgs84),
            Err(Refusal::Swapped)
        );
        assert_eq!(
            check_point(91.0, 108.0, Datum::Wgs84),
            Err(Refusal::OutOfRange)
        );
        assert_eq!(
            check_point(34.0, 200.0, Datum::Wgs84),
            Err(Refusal::OutOfRange)
        );
        assert_eq!(
            check_point(51.5074, -0.1278, Datum::Wgs84),
            Err(Refusal::OutsideChina)
        );
        assert_eq!(
            check_point(f64::NAN, 108.0, Datum::Wgs84),
            Err(Refusal::NotANumber)
        );
        let p = check_point(34.3291, 108.7093, Datum::Gcj02).unwrap();
        let moved = distance_m(p, LatLng::new(34.3291, 108.7093));
        assert!((100.0..1_000.0).contains(&moved), "GCJ-02 offset {moved} m");
        assert_eq!(
            parse_pair("108.7093,34.3291"),
            Some(LatLng::new(34.3291, 108.7093))
        );
        assert_eq!(
            parse_pair("34.3291, 108.7093"),
            Some(LatLng::new(34.3291, 108.7093))
        );
        assert_eq!(parse_pair("34.3291"), None);
        assert_eq!(parse_degrees("108.7°"), Some(108.7));
        assert_eq!(parse_degrees("abc"), None);
        assert_eq!(parse_degrees("inf"), None);
        assert_eq!(Datum::parse("高德"), Some(Datum::Gcj02));
        assert_eq!(Datum::parse("BD-09"), Some(Datum::Bd09));
        assert_eq!(Datum::parse("mars"), None);
    }

    #[test]
    fn distances_and_nearest() {
        // 咸阳 to 西安 bell tower: about 21 km.
        let d = distance_m(
            LatLng::new(34.3296, 108.7093),
            LatLng::new(34.2610, 108.9423),
        );
        assert!((20_000.0..24_000.0).contains(&d), "{d}");
        let from = LatLng::new(34.33, 108.71);
        let c = |id, lat: f64, lng: f64| Candidate {
            id,
            lat_e6: (lat * 1e6) as i64,
            lng_e6: (lng * 1e6) as i64,
        };
        let all = [
            c(1, 34.40, 108.71),
            c(2, 34.331, 108.71),
            c(3, 34.35, 108.71),
            c(4, 34.331, 108.71),
        ];
        let got: Vec<i64> = nearest(from, &all, 3).iter().map(|x| x.0).collect();
        assert_eq!(got, vec![2, 4, 3]);
        assert!(nearest(from, &all, 0).is_empty());
        assert_eq!(nearest(from, &all, 10).len(), 4);
        let (a, b, cmin, cmax) = bounding_box_e6(from, 1_000.0);
        assert!(a < 34_330_000 && b > 34_330_000 && cmin < 108_710_000 && cmax > 108_710_000);
    }

    proptest! {
        #[test]
        fn gcj_round_trip(lat in 18.0f64..53.0, lng in 74.0f64..134.0) {
            let p = LatLng::new(lat, lng);
            let back = gcj_to_wgs(wgs_to_gcj(p));
            prop_assert!(close(back, p, 1e-6), "{:?} -> {:?}", p, back);
            let g = LatLng::new(lat, lng);
            let fwd = wgs_to_gcj(gcj_to_wgs(g));
            prop_assert!(close(fwd, g, 1e-6));
        }

        #[test]
        fn bd_round_trip(lat in 18.0f64..53.0, lng in 74.0f64..134.0) {
            let p = LatLng::new(lat, lng);
            let back = bd_to_wgs(wgs_to_bd(p));
            prop_assert!(close(back, p, 1e-6), "{:?} -> {:?}", p, back);
        }

        #[test]
        fn offsets_are_small(lat in 18.0f64..53.0, lng in 74.0f64..134.0) {
            let p = LatLng::new(lat, lng);
            // GCJ-02 moves a point by at most about a kilometre.
            prop_assert!(distance_m(p, wgs_to_gcj(p)) < 1_500.0);
            prop_assert!(distance_m(p, wgs_to_bd(p)) < 2_500.0);
        }

        #[test]
        fn any_typed_pair_is_checked_without_panic(lat in proptest::num::f64::ANY, lng in proptest::num::f64::ANY) {
            let _ = check_point(lat, lng, Datum::Bd09);
            let _ = check_position(lat, lng);
        }

        #[test]
        fn nearest_agrees_with_the_exact_distance(
            pts in proptest::collection::vec((30.0f64..40.0, 100.0f64..115.0), 1..300),
            lat in 30.0f64..40.0, lng in 100.0f64..115.0, n in 1usize..12,
        ) {
            let from = LatLng::new(lat, lng);
            let cands: Vec<Candidate> = pts.iter().enumerate().map(|(i, (a, b))| {
                let (lat_e6, lng_e6) = LatLng::new(*a, *b).to_e6();
                Candidate { id: i as i64, lat_e6, lng_e6 }
            }).collect();
            let got = nearest(from, &cands, n);
            let mut exact: Vec<f64> = cands.iter()
                .map(|c| distance_m(from, LatLng::from_e6(c.lat_e6, c.lng_e6)))
                .collect();
            exact.sort_by(f64::total_cmp);
            prop_assert_eq!(got.len(), n.min(cands.len()));
            for (g, e) in got.iter().zip(&exact) {
                // The same distances, to a metre (ties may swap ids).
                prop_assert!((g.1 - e).abs() < 1.0, "{} vs {}", g.1, e);
            }
        }

        #[test]
        fn e6_round_trip(lat in -90.0f64..90.0, lng in -180.0f64..180.0) {
            let (a, b) = LatLng::new(lat, lng).to_e6();
            let p = LatLng::from_e6(a, b);
            prop_assert!(close(p, LatLng::new(lat, lng), 6e-7));
        }
    }
}
