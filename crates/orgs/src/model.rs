//! The org tree's types and rules: levels and what may sit under what,
//! org codes, names, and the unified social credit code (GB 32100-2015).

use serde::{Deserialize, Serialize};

use platform::{error::AppError, i18n::Msg};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgLevel {
    /// 市总工会
    City,
    /// 县(区)总工会
    County,
    /// 产业工会
    Industry,
    /// 乡镇(街道)工会 / 联合工会
    Street,
    /// 基层工会
    Grassroots,
}

impl OrgLevel {
    pub const ALL: [OrgLevel; 5] = [
        OrgLevel::City,
        OrgLevel::County,
        OrgLevel::Industry,
        OrgLevel::Street,
        OrgLevel::Grassroots,
    ];

    pub fn parse(s: &str) -> Result<OrgLevel, AppError> {
        Ok(match s.trim() {
            "city" | "市总工会" => OrgLevel::City,
            "county" | "县(区)总工会" | "县区总工会" => OrgLevel::County,
            "industry" | "产业工会" => OrgLevel::Industry,
            "street" | "乡镇(街道)工会" | "街道工会" | "联合工会" => OrgLevel::Street,
            "grassroots" | "基层工会" => OrgLevel::Grassroots,
            other => {
                return Err(AppError::invalid(
                    format!("未知的组织层级“{other}”,可选:市总工会、县(区)总工会、产业工会、乡镇(街道)工会、基层工会"),
                    format!("Unknown org level “{other}”; use city, county, industry, street or grassroots"),
                ))
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::City => "city",
            OrgLevel::County => "county",
            OrgLevel::Industry => "industry",
            OrgLevel::Street => "street",
            OrgLevel::Grassroots => "grassroots",
        }
    }
    pub fn label(self) -> Msg {
        let (_, zh, en) = LEVEL_LABELS
            .iter()
            .find(|(v, ..)| *v == self.as_str())
            .expect("every level has a label");
        Msg::new(*zh, *en)
    }

    /// Which levels may sit directly under this one. Grassroots unions can
    /// sit anywhere above them (市直/县直基层工会 are common).
    pub fn allows_child(self, child: OrgLevel) -> bool {
        use OrgLevel::*;
        match self {
            City => matches!(child, County | Industry | Grassroots),
            County => matches!(child, Street | Industry | Grassroots),
            Industry => matches!(child, Street | Grassroots),
            Street => matches!(child, Grassroots),
            Grassroots => false,
        }
    }
}

/// Kinds of organisation a union is founded in.
pub const ORG_TYPES: &[(&str, &str)] = &[
    ("企业", "Enterprise"),
    ("事业", "Public institution"),
    ("机关", "Government body"),
    ("联合工会", "Joint union"),
    ("新业态", "New forms of employment"),
    ("社会组织", "Social organisation"),
    ("其他", "Other"),
];

pub fn parse_org_type(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    ORG_TYPES
        .iter()
        .find(|(zh, en)| *zh == s || en.eq_ignore_ascii_case(s))
        .map(|(zh, _)| zh.to_string())
        .ok_or_else(|| {
            AppError::invalid(
                format!(
                    "未知的组织类型“{s}”,可选:企业、事业、机关、联合工会、新业态、社会组织、其他"
                ),
                format!("Unknown org type “{s}”"),
            )
        })
}

/// (stored value, 中文, English) of each level, also the drill-down's labels.
pub const LEVEL_LABELS: &[(&str, &str, &str)] = &[
    ("city", "市总工会", "City federation"),
    ("county", "县(区)总工会", "County/district federation"),
    ("industry", "产业工会", "Industry union"),
    ("street", "乡镇(街道)工会", "Township/street union"),
    ("grassroots", "基层工会", "Grassroots union"),
];

/// (stored value, 中文, English) of each certificate status; "none" first.
pub const CERT_LABELS: &[(&str, &str, &str)] = &[
    ("none", "未取得", "None"),
    ("valid", "有效", "Valid"),
    ("changed", "已变更", "Changed"),
    ("revoked", "已注销", "Revoked"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegalCertStatus {
    None,
    Valid,
    Changed,
    Revoked,
}

impl LegalCertStatus {
    pub fn parse(s: &str) -> Result<Self, AppError> {
        Ok(match s.trim() {
            "" | "none" | "未取得" => Self::None,
            "valid" | "有效" | "已取得" => Self::Valid,
            "changed" | "已变更" => Self::Changed,
            "revoked" | "已注销" => Self::Revoked,
            other => {
                return Err(AppError::invalid(
                    format!("未知的法人资格状态“{other}”,可选:未取得、有效、已变更、已注销"),
                    format!("Unknown legal-person status “{other}”: none, valid, changed, revoked"),
                ))
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Valid => "valid",
            Self::Changed => "changed",
            Self::Revoked => "revoked",
        }
    }
    pub fn label(s: &str) -> Msg {
        let (_, zh, en) = CERT_LABELS
            .iter()
            .find(|(v, ..)| *v == s)
            .unwrap_or(&CERT_LABELS[0]);
        Msg::new(*zh, *en)
    }
}

/// An org code: 1–40 of A–Z, 0–9, '-', '_' (upper-cased).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(raw: &str) -> Result<OrgCode, AppError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty()
            || s.len() > 40
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AppError::invalid(
                format!(
                    "组织编码“{}”无效:须为1至40位字母、数字、连字符或下划线",
                    raw.trim()
                ),
                format!(
                    "Org code “{}” is invalid: use 1–40 letters, digits, '-' or '_'",
                    raw.trim()
                ),
            ));
        }
        Ok(OrgCode(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty name of at most 100 characters.
pub fn parse_name(raw: &str, what_zh: &str, what_en: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(AppError::invalid(
            format!("{what_zh}不能为空"),
            format!("The {what_en} must not be empty"),
        ));
    }
    if s.chars().count() > 100 {
        return Err(AppError::invalid(
            format!("{what_zh}过长(最多100字)"),
            format!("The {what_en} is too long (100 characters at most)"),
        ));
    }
    Ok(s.to_string())
}

/// 统一社会信用代码 (GB 32100), checked by the leaf crate `ident`.
pub use ident::credit_code::CreditCode;

/// A 6-digit administrative region code (GB/T 2260), or empty.
pub fn parse_region_code(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.is_empty() || (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())) {
        Ok(s.to_string())
    } else {
        Err(AppError::invalid(
            format!("行政区划代码“{s}”应为6位数字"),
            format!("Region code “{s}” must be 6 digits"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_rules() {
        assert!(OrgLevel::City.allows_child(OrgLevel::County));
        assert!(OrgLevel::County.allows_child(OrgLevel::Grassroots));
        assert!(!OrgLevel::Grassroots.allows_child(OrgLevel::Grassroots));
        assert!(!OrgLevel::Street.allows_child(OrgLevel::County));
        assert!(!OrgLevel::County.allows_child(OrgLevel::City));
        assert_eq!(OrgLevel::parse("基层工会").unwrap(), OrgLevel::Grassroots);
    }

    #[test]
    fn codes_and_names() {
        assert_eq!(OrgCode::parse(" sf-01 ").unwrap().as_str(), "SF-01");
        assert!(OrgCode::parse("").is_err());
        assert!(OrgCode::parse("A B").is_err());
        assert!(parse_name("  ", "组织名称", "org name").is_err());
        assert_eq!(parse_region_code("610402").unwrap(), "610402");
        assert!(parse_region_code("61040").is_err());
        assert_eq!(parse_org_type("企业").unwrap(), "企业");
        assert!(parse_org_type("外星").is_err());
    }
}
