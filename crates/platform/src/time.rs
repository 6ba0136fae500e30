//! Instants are stored as RFC 3339 UTC text and shown in Asia/Shanghai
//! (UTC+8 all year: China has no daylight saving, so a fixed offset is exact).

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

pub fn now_rfc3339() -> String {
    to_rfc3339(now())
}

pub fn to_rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// "2026-11-21 22:36" in Beijing time, for display.
pub fn display(s: &str) -> String {
    parse_rfc3339(s)
        .map(|t| {
            t.with_timezone(&shanghai())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| s.to_string())
}

pub fn today() -> NaiveDate {
    now().with_timezone(&shanghai()).date_naive()
}

/// Accepts the date spellings people type and spreadsheets produce:
/// 2024-03-01, 2024/3/1, 2024.3.1, 20240301, 2024年3月1日.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    }
    let norm: String = s
        .replace(['年', '月'], "-")
        .replace('日', "")
        .chars()
        .map(|c| if c == '/' || c == '.' { '-' } else { c })
        .collect();
    let norm = norm.split_whitespace().next().unwrap_or("");
    NaiveDate::parse_from_str(norm, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_date_spellings() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        for s in [
            "2024-03-01",
            "2024/3/1",
            "2024.3.1",
            "20240301",
            "2024年3月1日",
            " 2024-3-1 00:00:00",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("abc"), None);
    }

    #[test]
    fn displays_in_beijing_time() {
        assert_eq!(display("2026-11-21T14:36:00Z"), "2026-11-21 22:36");
    }
}
