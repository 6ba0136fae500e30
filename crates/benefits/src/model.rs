//! The rules of 普惠, as pure functions of what was typed: merchants,
//! offers (eligibility, limits and their periods), voucher campaigns.

use chrono::{Datelike, NaiveDate};
use ident::credit_code::CreditCode;
use platform::{
    error::{AppError, AppResult},
    i18n::Msg,
    money::Fen,
    person::PersonGroup,
    time,
};
use serde::{Deserialize, Serialize};

/// Merchant categories (商户类别) as the federation lists them.
pub const CATEGORIES: &[&str] = &[
    "餐饮",
    "超市零售",
    "影院文娱",
    "洗车汽修",
    "图书文具",
    "公园景区",
    "医疗健康",
    "生活服务",
    "其他",
];

/// Merchant statuses: 合作中, 暂停, 已终止.
pub const STATUSES: &[&str] = &["active", "suspended", "ended"];

pub fn status_label(s: &str) -> Msg {
    match s {
        "active" => Msg::new("合作中", "Active"),
        "suspended" => Msg::new("暂停", "Suspended"),
        _ => Msg::new("已终止", "Ended"),
    }
}

fn text(raw: &str, max: usize, zh: &str, en: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(AppError::invalid(
            format!("{zh}不能为空,且不超过{max}个字"),
            format!("{en} must not be empty and at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

fn date(raw: &str, zh: &str, en: &str) -> AppResult<NaiveDate> {
    time::parse_date(raw.trim()).ok_or_else(|| {
        AppError::invalid(
            format!(
                "{zh}“{}”不是有效日期,请按 2026-01-31 的格式填写",
                raw.trim()
            ),
            format!(
                "{en} “{}” is not a valid date: write it as 2026-01-31",
                raw.trim()
            ),
        )
    })
}

/// Longitude and latitude as typed in `datum` (empty: GCJ-02, what 高德 and
/// 腾讯 copy), both or neither, checked to be in China the right way round
/// (`geo::check_point`), and stored in WGS-84 micro-degrees like the
/// stations, so one map and one distance serve both.
pub fn coordinates(lng: &str, lat: &str, datum: &str) -> AppResult<Option<(i64, i64)>> {
    if lng.trim().is_empty() && lat.trim().is_empty() {
        return Ok(None);
    }
    let datum = if datum.trim().is_empty() {
        geo::Datum::Gcj02
    } else {
        geo::Datum::parse(datum).ok_or_else(|| {
            AppError::invalid(
                format!("坐标系“{datum}”无效,请选择 GCJ-02(高德/腾讯)、BD-09(百度)或 WGS-84(手机定位)"),
                format!("Unknown datum “{datum}”: choose gcj02 (Amap/Tencent), bd09 (Baidu) or wgs84 (phone)"),
            )
        })?
    };
    let (Some(x), Some(y)) = (geo::parse_degrees(lng), geo::parse_degrees(lat)) else {
        let (zh, en) = geo::Refusal::NotANumber.message();
        return Err(AppError::invalid(
            format!("经纬度须同时填写。{zh}"),
            format!("Give both longitude and latitude. {en}"),
        ));
    };
    let p = geo::check_point(y, x, datum).map_err(|r| {
        let (zh, en) = r.message();
        AppError::invalid(zh, en)
    })?;
    let (lat_e6, lng_e6) = p.to_e6();
    Ok(Some((lng_e6, lat_e6)))
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MerchantInput {
    /// The union that signs the agreement (inside the caller's subtree).
    pub org_id: i64,
    pub name: String,
    /// 统一社会信用代码 (GB 32100).
    pub credit_code: String,
    pub category: String,
    pub address: String,
    /// Decimal degrees, in `datum`.
    pub lng: String,
    pub lat: String,
    /// gcj02 (高德, 腾讯; the default), bd09 (百度) or wgs84 (a phone).
    pub datum: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// 2026-01-01
    pub agreement_from: String,
    pub agreement_to: String,
}

#[derive(Clone, Debug)]
pub struct Merchant {
    pub org_id: i64,
    pub name: String,
    pub credit_code: String,
    pub category: String,
    pub address: String,
    pub coords: Option<(i64, i64)>,
    pub contact_name: String,
    pub contact_phone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl MerchantInput {
    pub fn parse(&self) -> AppResult<Merchant> {
        let name = text(&self.name, 100, "商户名称", "The merchant's name")?;
        let credit_code = CreditCode::parse(&self.credit_code)
            .map_err(|e| AppError::Invalid(Msg::new(e.zh, e.en)))?
            .as_str()
            .to_string();
        let category = self.category.trim();
        if !CATEGORIES.contains(&category) {
            return Err(AppError::invalid(
                format!("商户类别须为:{}", CATEGORIES.join("、")),
                "Choose the merchant's category from the list",
            ));
        }
        let phone = self.contact_phone.trim();
        if !phone.is_empty()
            && (phone.len() > 20 || !phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        {
            return Err(AppError::invalid(
                "联系电话只能包含数字和连字符,如 029-12345678 或 13800000000",
                "The contact phone holds digits and '-' only, e.g. 029-12345678",
            ));
        }
        let from = date(
            &self.agreement_from,
            "协议开始日期",
            "The agreement's start",
        )?;
        let to = date(&self.agreement_to, "协议结束日期", "The agreement's end")?;
        if to < from {
            return Err(AppError::invalid(
                "协议结束日期不能早于开始日期",
                "The agreement cannot end before it starts",
            ));
        }
        Ok(Merchant {
            org_id: self.org_id,
            name,
            credit_code,
            category: category.to_string(),
            address: self.address.trim().chars().take(200).collect(),
            coords: coordinates(&self.lng, &self.lat, &self.datum)?,
            contact_name: self.contact_name.trim().chars().take(50).collect(),
            contact_phone: phone.to_string(),
            from,
            to,
        })
    }
}

/// Who may use an offer or receive a voucher. The roster records 农民工 and
/// the new-employment groups; other groups (困难职工, 劳模 …) are kept by the
/// modules that record them and declared as `platform::person::PersonGroup`s:
/// an offer for a group no module declares is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Eligibility {
    All,
    Migrant,
    /// One group ('' for any of them).
    NewEmployment(String),
    /// Members of this org's subtree.
    Subtree(i64),
    /// Members in a person group another module keeps (its key).
    Group(String),
}

impl Eligibility {
    /// (eligibility, elig_group, elig_org_id) as stored.
    pub fn columns(&self) -> (&'static str, String, Option<i64>) {
        match self {
            Eligibility::All => ("all", String::new(), None),
            Eligibility::Migrant => ("migrant", String::new(), None),
            Eligibility::NewEmployment(g) => ("new_employment", g.clone(), None),
            Eligibility::Subtree(o) => ("subtree", String::new(), Some(*o)),
            Eligibility::Group(k) => ("group", k.clone(), None),
        }
    }

    pub fn parse(kind: &str, group: &str, org: Option<i64>) -> AppResult<Eligibility> {
        Ok(match kind.trim() {
            "" | "all" => Eligibility::All,
            "migrant" => Eligibility::Migrant,
            "new_employment" => {
                let g = group.trim();
                if g.is_empty() {
                    Eligibility::NewEmployment(String::new())
                } else {
                    let canon =
                        members::vocab::normalize_new_employment_group(g).ok_or_else(|| {
                            AppError::invalid(
                                format!(
                                    "新就业形态群体“{g}”不在名册的分类中,请选择:{}",
                                    members::vocab::NEW_EMPLOYMENT_GROUPS.join("、")
                                ),
                                format!("“{g}” is not a new-employment group of the roster"),
                            )
                        })?;
                    Eligibility::NewEmployment(canon.to_string())
                }
            }
            "subtree" => Eligibility::Subtree(org.filter(|o| *o > 0).ok_or_else(|| {
                AppError::invalid(
                    "限定工会范围时请选择工会",
                    "Choose the union whose members may use the offer",
                )
            })?),
            "group" if !group.trim().is_empty() => Eligibility::Group(group.trim().to_string()),
            "group" => {
                return Err(AppError::invalid(
                    "限定群体时请选择群体(如困难职工)",
                    "Choose the group whose members may use the offer (e.g. workers in hardship)",
                ))
            }
            // The form's choice of a group ("group:hardship"); the groups'
            // own keys are accepted as shorthands in the API.
            k if k.starts_with("group:") => {
                Eligibility::Group(k["group:".len()..].trim().to_string())
            }
            "hardship" | "model_worker" => Eligibility::Group(kind.trim().to_string()),
            other => {
                return Err(AppError::invalid(
                    format!("适用对象“{other}”无效"),
                    format!("Unknown eligibility “{other}”"),
                ))
            }
        })
    }

    /// How the offer's public is named; `groups` are the registry's person
    /// groups (`Registry::person_groups`).
    pub fn label(kind: &str, group: &str, org_name: &str, groups: &[PersonGroup]) -> Msg {
        match kind {
            "group" => match groups.iter().find(|g| g.key == group) {
                Some(g) => Msg::new(g.zh, g.en),
                None => Msg::new(group, group),
            },
            "migrant" => Msg::new("农民工会员", "Migrant-worker members"),
            "new_employment" if group.is_empty() => {
                Msg::new("新就业形态劳动者", "New-employment workers")
            }
            "new_employment" => Msg::new(group, group),
            "subtree" => Msg::new(
                format!("{org_name}所属会员"),
                format!("Members of {org_name}"),
            ),
            _ => Msg::new("全体会员", "All members"),
        }
    }
}

/// The declared person group `key`, or the refusal that says no module
/// keeps it (劳模 before the model-worker module exists).
pub fn person_group<'a>(groups: &'a [PersonGroup], key: &str) -> AppResult<&'a PersonGroup> {
    groups.iter().find(|g| g.key == key).ok_or_else(|| {
        let known: Vec<&str> = groups.iter().map(|g| g.zh).collect();
        let (zh, en) = if known.is_empty() {
            (
                "目前没有模块登记任何群体".to_string(),
                "no module keeps any group yet".to_string(),
            )
        } else {
            (
                format!("可选群体:{}", known.join("、")),
                format!(
                    "groups kept: {}",
                    groups.iter().map(|g| g.en).collect::<Vec<_>>().join(", ")
                ),
            )
        };
        AppError::invalid(
            format!("系统尚未记录“{key}”这一群体的人员(没有模块为其建档),不能按此限定;{zh}"),
            format!(
                "No module records the group “{key}”, so an offer cannot be limited to it: {en}"
            ),
        )
    })
}

/// What the member is: the facts an eligibility rule looks at.
#[derive(Clone, Debug)]
pub struct MemberFacts {
    pub migrant: bool,
    pub new_employment_group: String,
    pub org_path: String,
}

/// Whether a member may use an offer (kind, group, path of the subtree).
pub fn eligible(kind: &str, group: &str, elig_path: &str, m: &MemberFacts) -> bool {
    match kind {
        "all" => true,
        "migrant" => m.migrant,
        "new_employment" => {
            !m.new_employment_group.is_empty()
                && (group.is_empty() || group == m.new_employment_group)
        }
        "subtree" => !elig_path.is_empty() && m.org_path.starts_with(elig_path),
        // Answered by the keeping module's query inside the redemption
        // transaction (`PersonGroup::holds`), not from the roster's facts.
        _ => false,
    }
}

pub const PERIODS: &[&str] = &["day", "week", "month", "year", "total"];

pub fn period_label(p: &str) -> Msg {
    match p {
        "day" => Msg::new("每天", "per day"),
        "week" => Msg::new("每周", "per week"),
        "month" => Msg::new("每月", "per month"),
        "year" => Msg::new("每年", "per year"),
        _ => Msg::new("累计", "in total"),
    }
}

/// The limit period a date falls in: '2026-11-30', '2026-W48', '2026-11',
/// '2026' or 'all'.
pub fn period_key(period: &str, on: NaiveDate) -> String {
    match period {
        "day" => on.to_string(),
        "week" => {
            let w = on.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        "month" => format!("{}-{:02}", on.year(), on.month()),
        "year" => on.year().to_string(),
        _ => "all".into(),
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OfferInput {
    pub title: String,
    /// 1元观影, 5元洗车, 半价购书 …
    pub price_rule: String,
    pub valid_from: String,
    pub valid_to: String,
    /// Redemptions allowed per member per period (1–100).
    pub limit_count: i64,
    /// day | week | month | year | total
    pub limit_period: String,
    /// all | migrant | new_employment | subtree | group (a person group a
    /// module keeps: `hardship` 困难职工; its key is also accepted here)
    pub eligibility: String,
    /// For new_employment: the group ('' for any); for group: its key.
    pub elig_group: String,
    /// For subtree: the union.
    pub elig_org_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Offer {
    pub title: String,
    pub price_rule: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub limit_count: i64,
    pub limit_period: String,
    pub eligibility: Eligibility,
}

impl OfferInput {
    pub fn parse(&self) -> AppResult<Offer> {
        let title = text(&self.title, 100, "优惠名称", "The offer's title")?;
        let price_rule = text(&self.price_rule, 200, "优惠规则", "The price rule")?;
        let from = date(&self.valid_from, "优惠开始日期", "The offer's start")?;
        let to = date(&self.valid_to, "优惠结束日期", "The offer's end")?;
        if to < from {
            return Err(AppError::invalid(
                "优惠结束日期不能早于开始日期",
                "The offer cannot end before it starts",
            ));
        }
        if !(1..=100).contains(&self.limit_count) {
            return Err(AppError::invalid(
                "每人限用次数须为1至100",
                "The limit per member is 1–100 uses",
            ));
        }
        let period = self.limit_period.trim();
        if !PERIODS.contains(&period) {
            return Err(AppError::invalid(
                "限用周期须为每天、每周、每月、每年或累计",
                "The limit period is day, week, month, year or total",
            ));
        }
        Ok(Offer {
            title,
            price_rule,
            from,
            to,
            limit_count: self.limit_count,
            limit_period: period.to_string(),
            eligibility: Eligibility::parse(&self.eligibility, &self.elig_group, self.elig_org_id)?,
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
#[schema(as = VoucherCampaignInput)]
pub struct CampaignInput {
    /// The issuing union; vouchers go to active members of its subtree.
    pub org_id: i64,
    pub name: String,
    /// Face value, e.g. "50" or "50元".
    pub value: String,
    /// The most vouchers to issue: a selection with more members is refused.
    pub quantity: i64,
    /// Last day of redemption.
    pub expires_on: String,
    /// Merchants where the vouchers are accepted.
    pub merchant_ids: Vec<i64>,
    /// The roster selection: all | migrant | new_employment (the subtree is
    /// the issuing union's).
    pub group: String,
    /// For new_employment: the group ('' for any).
    pub elig_group: String,
}

#[derive(Clone, Debug)]
pub struct Campaign {
    pub org_id: i64,
    pub name: String,
    pub value: Fen,
    pub quantity: i64,
    pub expires_on: NaiveDate,
    pub merchant_ids: Vec<i64>,
    pub selection: Eligibility,
}

impl CampaignInput {
    pub fn parse(&self, today: NaiveDate) -> AppResult<Campaign> {
        let name = text(&self.name, 100, "消费券活动名称", "The campaign's name")?;
        let value = Fen::parse(&self.value)?;
        if value.fen() <= 0 || value.fen() > 100_000 {
            return Err(AppError::invalid(
                "消费券面值须大于0元且不超过1000元",
                "A voucher's value is more than 0 and at most 1000 yuan",
            ));
        }
        if !(1..=10_000_000).contains(&self.quantity) {
            return Err(AppError::invalid(
                "发行数量须为1至1000万张",
                "Issue between 1 and 10 million vouchers",
            ));
        }
        let expires_on = date(&self.expires_on, "截止日期", "The last day")?;
        if expires_on < today {
            return Err(AppError::invalid(
                "截止日期已过,请填写今天或以后的日期",
                "The last day has passed: choose today or later",
            ));
        }
        let mut merchant_ids = self.merchant_ids.clone();
        merchant_ids.sort_unstable();
        merchant_ids.dedup();
        if merchant_ids.is_empty() {
            return Err(AppError::invalid(
                "请至少选择一家可使用消费券的商户",
                "Choose at least one merchant that accepts the vouchers",
            ));
        }
        let selection = match self.group.trim() {
            "subtree" => Eligibility::All,
            g => Eligibility::parse(g, &self.elig_group, None)?,
        };
        Ok(Campaign {
            org_id: self.org_id,
            name,
            value,
            quantity: self.quantity,
            expires_on,
            merchant_ids,
            selection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_inside_china_not_swapped_and_kept_in_wgs84() {
        // Typed in WGS-84: kept as typed.
        assert_eq!(
            coordinates("109.0329", "34.3416", "wgs84").unwrap(),
            Some((109_032_900, 34_341_600))
        );
        // Typed in GCJ-02 (the default) or BD-09: moved to WGS-84, where
        // the same place typed in each datum lands within a metre.
        let gcj = coordinates("109.0329", "34.3416", "").unwrap().unwrap();
        assert_ne!(gcj, (109_032_900, 34_341_600));
        let g = geo::LatLng::new(34.3416, 109.0329);
        let bd = geo::gcj_to_bd(g);
        let from_bd = coordinates(&bd.lng.to_string(), &bd.lat.to_string(), "百度")
            .unwrap()
            .unwrap();
        assert!((gcj.0 - from_bd.0).abs() <= 10 && (gcj.1 - from_bd.1).abs() <= 10);
        assert_eq!(coordinates("", " ", "").unwrap(), None);
        assert!(coordinates("34.3416", "109.0329", "").is_err(), "swapped");
        assert!(coordinates("-0.12", "51.5", "").is_err(), "London");
        assert!(coordinates("109", "", "").is_err(), "one of two");
        assert!(coordinates("NaN", "inf", "").is_err());
        assert!(coordinates("109.0329", "34.3416", "mars").is_err());
    }

    #[test]
    fn limit_periods() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(period_key("day", d), "2026-11-30");
        assert_eq!(period_key("week", d), "2026-W49");
        assert_eq!(period_key("month", d), "2026-11");
        assert_eq!(period_key("year", d), "2026");
        assert_eq!(period_key("total", d), "all");
        let jan1 = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(period_key("week", jan1), "2026-W53", "ISO week-year");
    }

    #[test]
    fn eligibility_rules() {
        let m = MemberFacts {
            migrant: true,
            new_employment_group: "快递员".into(),
            org_path: "/1/5/23/".into(),
        };
        assert!(eligible("all", "", "", &m));
        assert!(eligible("migrant", "", "", &m));
        assert!(eligible("new_employment", "", "", &m));
        assert!(eligible("new_employment", "快递员", "", &m));
        assert!(!eligible("new_employment", "网约车司机", "", &m));
        assert!(eligible("subtree", "", "/1/5/", &m));
        assert!(!eligible("subtree", "", "/1/55/", &m));
        assert!(!eligible("subtree", "", "", &m));
        assert_eq!(
            Eligibility::parse("hardship", "", None).unwrap(),
            Eligibility::Group("hardship".into())
        );
        assert_eq!(
            Eligibility::parse("group", " model_worker ", None).unwrap(),
            Eligibility::Group("model_worker".into())
        );
        assert!(Eligibility::parse("group", "", None).is_err());
        assert!(Eligibility::parse("subtree", "", None).is_err());
        assert!(Eligibility::parse("new_employment", "火星人", None).is_err());
    }
}
