//! What a station is, and the checks of what is typed for one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::geo::{self, Datum, LatLng};
use platform::error::{AppError, AppResult};

/// (key, 中文, English) of the kinds of station.
pub const KINDS: &[(&str, &str, &str)] = &[
    (
        "love",
        "工会爱心驿站(户外劳动者服务站)",
        "Union care station (outdoor workers)",
    ),
    ("maternal", "母婴关爱室", "Mother-and-baby room"),
    ("driver", "司机之家", "Drivers' home"),
    ("library", "职工书屋", "Workers' reading room"),
    ("centre", "职工服务中心", "Workers' service centre"),
];

/// (key, 中文, English) of what a station offers.
pub const FACILITIES: &[(&str, &str, &str)] = &[
    ("water", "饮水", "Drinking water"),
    ("heat", "热饭", "Food heating"),
    ("charge", "充电", "Phone/e-bike charging"),
    ("toilet", "如厕", "Toilet"),
    ("rest", "休息", "Rest"),
    ("firstaid", "急救药箱", "First-aid kit"),
    ("wifi", "无线网络", "Wi-Fi"),
    ("aircon", "空调", "Air conditioning"),
    ("books", "图书阅览", "Books"),
    ("nursing", "哺乳", "Nursing"),
    ("repair", "维修工具", "Repair tools"),
];

/// (key, 中文, English) of a station's status.
pub const STATUSES: &[(&str, &str, &str)] = &[
    ("open", "开放", "Open"),
    ("paused", "暂停开放", "Temporarily closed"),
    ("closed", "已撤销", "Closed down"),
];

pub fn label(list: &[(&'static str, &'static str, &'static str)], key: &str, en: bool) -> String {
    list.iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, zh, e)| if en { *e } else { *zh })
        .unwrap_or(key)
        .to_string()
}

/// Largest area accepted (㎡): a service centre is large, a typo larger.
pub const MAX_AREA: i64 = 100_000;

/// A station as typed (form or JSON): every field text, checked by [`StationInput::parse`].
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StationInput {
    /// Code of the owning union (in the caller's subtree).
    pub org: String,
    /// love | maternal | driver | library | centre (or the Chinese name).
    pub kind: String,
    pub name: String,
    pub address: String,
    /// Id of the street/township (街道/乡镇) the station is in.
    pub township_id: String,
    /// Latitude and longitude in decimal degrees, in `datum`; or `pair`.
    pub lat: String,
    pub lng: String,
    /// A pair pasted from a map ("108.7093,34.3291" as 高德/百度 copy it).
    pub pair: String,
    /// wgs84 | gcj02 | bd09 (高德/腾讯 = gcj02, 百度 = bd09).
    pub datum: String,
    /// Floor area in whole square metres.
    pub area_sqm: String,
    /// Facility keys, comma-separated (water,heat,charge …).
    pub facilities: String,
    /// Opening hours as shown to workers ("每日 7:00–21:00").
    pub hours: String,
    /// A contact phone of the station (a landline or service number, shown publicly).
    pub phone: String,
    /// open | paused | closed.
    pub status: String,
    /// Date opened (YYYY-MM-DD); today when empty.
    pub opened_on: String,
    /// Date closed down, for status closed.
    pub closed_on: String,
}

/// A checked station.
#[derive(Clone, Debug, PartialEq)]
pub struct StationFields {
    pub org_code: String,
    pub kind: &'static str,
    pub name: String,
    pub address: String,
    pub township_id: i64,
    pub point: LatLng,
    pub datum_in: Datum,
    pub area_sqm: i64,
    pub facilities: Vec<&'static str>,
    pub hours: String,
    pub phone: String,
    pub status: &'static str,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

fn find_key(
    list: &[(&'static str, &'static str, &'static str)],
    raw: &str,
) -> Option<&'static str> {
    let t = raw.trim();
    list.iter()
        .find(|(k, zh, en)| {
            *k == t
                || *zh == t
                || en.eq_ignore_ascii_case(t)
                || (t.chars().count() >= 2 && zh.contains(t))
        })
        .map(|(k, ..)| *k)
}

fn text(raw: &str, max: usize, zh: &str, en: &str, required: bool) -> AppResult<String> {
    let t = raw.trim();
    if required && t.is_empty() {
        return Err(AppError::invalid(
            format!("请填写{zh}"),
            format!("Fill in the {en}"),
        ));
    }
    if t.chars().count() > max || t.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            format!("{zh}过长或含有控制字符(最多{max}个字)"),
            format!("The {en} is too long or has control characters (at most {max} characters)"),
        ));
    }
    Ok(t.to_string())
}

fn date(raw: &str, zh: &str, en: &str) -> AppResult<Option<NaiveDate>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    platform::time::parse_date(raw).map(Some).ok_or_else(|| {
        AppError::invalid(
            format!("{zh}无效,请按 2024-03-01 格式填写"),
            format!("Invalid {en}; use 2024-03-01"),
        )
    })
}

fn refusal(r: geo::Refusal) -> AppError {
    let (zh, en) = r.message();
    AppError::invalid(zh, en)
}

/// Reads the place as typed: a pasted pair, or latitude and longitude.
pub fn typed_point(lat: &str, lng: &str, pair: &str) -> AppResult<(f64, f64)> {
    if !pair.trim().is_empty() {
        let p = geo::parse_pair(pair).ok_or_else(|| {
            AppError::invalid(
                "粘贴的坐标应为“经度,纬度”两个数字,例如 108.7093,34.3291",
                "A pasted pair must be two numbers “longitude,latitude”, e.g. 108.7093,34.3291",
            )
        })?;
        return Ok((p.lat, p.lng));
    }
    if lat.trim().is_empty() || lng.trim().is_empty() {
        return Err(AppError::invalid(
            "请填写经纬度(或粘贴地图上复制的坐标)",
            "Fill in the latitude and longitude (or paste the pair copied from a map)",
        ));
    }
    match (geo::parse_degrees(lat), geo::parse_degrees(lng)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(refusal(geo::Refusal::NotANumber)),
    }
}

pub fn parse_datum(raw: &str) -> AppResult<Datum> {
    Datum::parse(raw).ok_or_else(|| {
        AppError::invalid(
            "坐标系无效:请选择 WGS-84(手机定位/GPS)、GCJ-02(高德/腾讯)或 BD-09(百度)",
            "Unknown datum: choose WGS-84 (phone/GPS), GCJ-02 (Amap/Tencent) or BD-09 (Baidu)",
        )
    })
}

impl StationInput {
    pub fn parse(&self) -> AppResult<StationFields> {
        let org_code = text(&self.org, 40, "所属工会", "owning union", true)?.to_uppercase();
        let kind = find_key(KINDS, &self.kind).ok_or_else(|| {
            AppError::invalid(
                "阵地类型无效:爱心驿站、母婴关爱室、司机之家、职工书屋或职工服务中心",
                "Unknown kind: love, maternal, driver, library or centre",
            )
        })?;
        let name = text(&self.name, 60, "阵地名称", "name", true)?;
        let address = text(&self.address, 120, "地址", "address", true)?;
        let township_id = self.township_id.trim().parse::<i64>().map_err(|_| {
            AppError::invalid(
                "请选择所在街道(乡镇)",
                "Choose the street/township the station is in",
            )
        })?;
        let datum_in = parse_datum(&self.datum)?;
        let (lat, lng) = typed_point(&self.lat, &self.lng, &self.pair)?;
        let point = geo::check_point(lat, lng, datum_in).map_err(refusal)?;
        let area_raw = self.area_sqm.trim().trim_end_matches(['㎡', '平']).trim();
        let area_raw = area_raw.trim_end_matches("平方米").trim();
        let area_sqm = area_raw.parse::<i64>().map_err(|_| {
            AppError::invalid(
                "面积请填写整数平方米,例如 30",
                "Fill in the area in whole square metres, e.g. 30",
            )
        })?;
        if !(1..=MAX_AREA).contains(&area_sqm) {
            return Err(AppError::invalid(
                format!("面积应在 1 至 {MAX_AREA} 平方米之间"),
                format!("The area must be between 1 and {MAX_AREA} square metres"),
            ));
        }
        let mut facilities = Vec::new();
        for f in self
            .facilities
            .split([',', ',', '、', ' ', ';'])
            .filter(|s| !s.trim().is_empty())
        {
            let k = find_key(FACILITIES, f).ok_or_else(|| {
                AppError::invalid(
                    format!("未知的服务设施“{}”", f.trim()),
                    format!("Unknown facility “{}”", f.trim()),
                )
            })?;
            if !facilities.contains(&k) {
                facilities.push(k);
            }
        }
        let hours = text(&self.hours, 60, "开放时间", "opening hours", false)?;
        let phone = text(&self.phone, 30, "联系电话", "phone", false)?;
        let status = if self.status.trim().is_empty() {
            "open"
        } else {
            find_key(STATUSES, &self.status).ok_or_else(|| {
                AppError::invalid(
                    "状态无效:开放、暂停开放或已撤销",
                    "Unknown status: open, paused or closed",
                )
            })?
        };
        let opened_on = date(&self.opened_on, "建成日期", "opening date")?
            .unwrap_or_else(platform::time::today);
        let closed_on = date(&self.closed_on, "撤销日期", "closing date")?;
        match (status, closed_on) {
            ("closed", None) => {
                return Err(AppError::invalid(
                    "已撤销的阵地请填写撤销日期",
                    "A closed station needs its closing date",
                ))
            }
            ("closed", Some(c)) if c < opened_on => {
                return Err(AppError::invalid(
                    "撤销日期不能早于建成日期",
                    "The closing date cannot be before the opening date",
                ))
            }
            ("open" | "paused", Some(_)) => {
                return Err(AppError::invalid(
                    "只有已撤销的阵地才填写撤销日期",
                    "Only a closed station has a closing date",
                ))
            }
            _ => {}
        }
        if opened_on > platform::time::today() {
            return Err(AppError::invalid(
                "建成日期不能晚于今天",
                "The opening date cannot be in the future",
            ));
        }
        Ok(StationFields {
            org_code,
            kind,
            name,
            address,
            township_id,
            point,
            datum_in,
            area_sqm,
            facilities,
            hours,
            phone,
            status,
            opened_on,
            closed_on,
        })
    }
}

/// A township as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TownshipInput {
    /// Code of the union that keeps it: the street/township union, or the county's.
    pub org: String,
    /// 6-digit GB/T 2260 code of the county (区/县/县级市).
    pub county_code: String,
    /// The street's or township's name (城关街道, 北塬镇 …).
    pub name: String,
    /// Optional centre, WGS-84 unless `datum` says otherwise.
    pub lat: String,
    pub lng: String,
    pub datum: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TownshipFields {
    pub org_code: String,
    pub county_code: String,
    pub name: String,
    pub centre: Option<LatLng>,
}

impl TownshipInput {
    pub fn parse(&self) -> AppResult<TownshipFields> {
        let org_code = text(&self.org, 40, "所属工会", "owning union", true)?.to_uppercase();
        let county_code = self.county_code.trim().to_string();
        let county_ok = county_code.len() == 6
            && county_code.bytes().all(|b| b.is_ascii_digit())
            && !county_code.ends_with("00");
        if !county_ok {
            return Err(AppError::invalid(
                "县级行政区划代码应为6位数字(GB/T 2260),例如 610402",
                "The county code must be a 6-digit GB/T 2260 county code, e.g. 610402",
            ));
        }
        let name = text(
            &self.name,
            40,
            "街道(乡镇)名称",
            "street/township name",
            true,
        )?;
        let valid_suffix = ["街道", "镇", "乡", "苏木", "办事处", "地区"]
            .iter()
            .any(|s| name.ends_with(s));
        if !valid_suffix {
            return Err(AppError::invalid(
                "街道(乡镇)名称应以“街道”“镇”“乡”或“苏木”结尾,例如 城关街道",
                "A street/township name ends in 街道, 镇, 乡 or 苏木, e.g. 城关街道",
            ));
        }
        let centre = if self.lat.trim().is_empty() && self.lng.trim().is_empty() {
            None
        } else {
            let datum = parse_datum(&self.datum)?;
            let (lat, lng) = typed_point(&self.lat, &self.lng, "")?;
            Some(geo::check_point(lat, lng, datum).map_err(refusal)?)
        };
        Ok(TownshipFields {
            org_code,
            county_code,
            name,
            centre,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_input() -> StationInput {
        StationInput {
            org: "sf-01-s1".into(),
            kind: "爱心驿站".into(),
            name: "城关街道环卫爱心驿站".into(),
            address: "人民路1号".into(),
            township_id: "3".into(),
            lat: "34.3291".into(),
            lng: "108.7093".into(),
            datum: "gcj02".into(),
            area_sqm: "35㎡".into(),
            facilities: "饮水、热饭,charge".into(),
            hours: "每日 7:00–21:00".into(),
            status: String::new(),
            opened_on: "2024-05-01".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_station_is_parsed() {
        let f = ok_input().parse().unwrap();
        assert_eq!(f.kind, "love", "the Chinese name's prefix is enough");
        assert_eq!(f.org_code, "SF-01-S1");
        assert_eq!(f.area_sqm, 35);
        assert_eq!(f.facilities, vec!["water", "heat", "charge"]);
        assert_eq!(f.status, "open");
        assert_eq!(f.datum_in, Datum::Gcj02);
        assert!(f.point.lat != 34.3291, "stored in WGS-84");
    }

    #[test]
    fn bad_stations_are_refused_with_a_reason() {
        let cases: Vec<(StationInput, &str)> = vec![
            (
                StationInput {
                    kind: "加油站".into(),
                    ..ok_input()
                },
                "阵地类型",
            ),
            (
                StationInput {
                    lat: "108.7093".into(),
                    lng: "34.3291".into(),
                    ..ok_input()
                },
                "填反",
            ),
            (
                StationInput {
                    lat: "51.5".into(),
                    lng: "-0.12".into(),
                    ..ok_input()
                },
                "中国境内",
            ),
            (
                StationInput {
                    lat: "95".into(),
                    lng: "108".into(),
                    ..ok_input()
                },
                "超出范围",
            ),
            (
                StationInput {
                    lat: "北纬34".into(),
                    ..ok_input()
                },
                "数字",
            ),
            (
                StationInput {
                    datum: "火星".into(),
                    ..ok_input()
                },
                "坐标系",
            ),
            (
                StationInput {
                    area_sqm: "35.5".into(),
                    ..ok_input()
                },
                "整数",
            ),
            (
                StationInput {
                    area_sqm: "0".into(),
                    ..ok_input()
                },
                "面积应在",
            ),
            (
                StationInput {
                    facilities: "游泳池".into(),
                    ..ok_input()
                },
                "服务设施",
            ),
            (
                StationInput {
                    status: "closed".into(),
                    ..ok_input()
                },
                "撤销日期",
            ),
            (
                StationInput {
                    closed_on: "2024-06-01".into(),
                    ..ok_input()
                },
                "只有已撤销",
            ),
            (
                StationInput {
                    opened_on: "2099-01-01".into(),
                    ..ok_input()
                },
                "晚于今天",
            ),
            (
                StationInput {
                    name: " ".into(),
                    ..ok_input()
                },
                "阵地名称",
            ),
            (
                StationInput {
                    township_id: "x".into(),
                    ..ok_input()
                },
                "街道",
            ),
            (
                StationInput {
                    pair: "108.7".into(),
                    ..ok_input()
                },
                "经度,纬度",
            ),
        ];
        for (input, want) in cases {
            let e = input.parse().unwrap_err();
            let msg = e.user_message();
            assert!(msg.zh.contains(want), "{want}: {}", msg.zh);
            assert!(!msg.en.is_empty());
        }
    }

    #[test]
    fn a_pasted_pair_wins_over_the_fields() {
        let f = StationInput {
            lat: String::new(),
            lng: String::new(),
            pair: "108.7093,34.3291".into(),
            datum: "wgs84".into(),
            ..ok_input()
        }
        .parse()
        .unwrap();
        assert_eq!(f.point, LatLng::new(34.3291, 108.7093));
    }

    #[test]
    fn townships_are_checked() {
        let t = TownshipInput {
            org: "SF-01".into(),
            county_code: "610402".into(),
            name: "渭阳街道".into(),
            ..Default::default()
        };
        assert!(t.clone().parse().unwrap().centre.is_none());
        for (bad, want) in [
            (
                TownshipInput {
                    county_code: "610400".into(),
                    ..t.clone()
                },
                "6位",
            ),
            (
                TownshipInput {
                    name: "渭阳小区".into(),
                    ..t.clone()
                },
                "结尾",
            ),
            (
                TownshipInput {
                    lat: "108.7".into(),
                    lng: "34.3".into(),
                    ..t.clone()
                },
                "填反",
            ),
        ] {
            assert!(
                bad.parse().unwrap_err().user_message().zh.contains(want),
                "{want}"
            );
        }
    }
}
