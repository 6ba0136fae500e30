//! Statistical periods: a year, a quarter, a month or a custom date range,
//! and the same period one year earlier for comparison.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use platform::{
    error::{AppError, AppResult},
    time,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

fn bad_spec(spec: &str) -> AppError {
    AppError::invalid(
        format!("统计期“{spec}”无法识别;请写作 2026(年)、2026-Q2(季度)、2026-03(月)或 2026-01-01..2026-06-30(自定义)"),
        format!("Period “{spec}” not understood; write 2026 (year), 2026-Q2 (quarter), 2026-03 (month) or 2026-01-01..2026-06-30 (custom range)"),
    )
}

fn bad_date(raw: &str) -> AppError {
    AppError::invalid(
        format!("日期“{raw}”无效,请按 2026-03-01 格式填写"),
        format!("Date “{raw}” is invalid; use the form 2026-03-01"),
    )
}

fn check_year(y: i32) -> AppResult<i32> {
    if (1949..=2100).contains(&y) {
        Ok(y)
    } else {
        Err(AppError::invalid(
            format!("年份{y}超出范围(1949至2100)"),
            format!("Year {y} is out of range (1949–2100)"),
        ))
    }
}

impl Period {
    /// A custom range; refused when it ends before it starts.
    pub fn new(start: NaiveDate, end: NaiveDate) -> AppResult<Period> {
        if end < start {
            return Err(AppError::invalid(
                format!("统计期结束日期({end})早于开始日期({start}),请把结束日期改为不早于开始日期"),
                format!("The period ends ({end}) before it starts ({start}); choose an end date on or after the start"),
            ));
        }
        check_year(start.year())?;
        check_year(end.year())?;
        Ok(Period { start, end })
    }

    pub fn year(y: i32) -> AppResult<Period> {
        let y = check_year(y)?;
        Ok(Period {
            start: NaiveDate::from_ymd_opt(y, 1, 1).expect("valid"),
            end: NaiveDate::from_ymd_opt(y, 12, 31).expect("valid"),
        })
    }

    pub fn month(y: i32, m: u32) -> AppResult<Period> {
        let y = check_year(y)?;
        let start =
            NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(|| bad_spec(&format!("{y}-{m}")))?;
        let end = start + Months::new(1) - chrono::Days::new(1);
        Ok(Period { start, end })
    }

    pub fn quarter(y: i32, q: u32) -> AppResult<Period> {
        if !(1..=4).contains(&q) {
            return Err(bad_spec(&format!("{y}-Q{q}")));
        }
        let first = Period::month(y, (q - 1) * 3 + 1)?;
        let last = Period::month(y, q * 3)?;
        Ok(Period {
            start: first.start,
            end: last.end,
        })
    }

    /// Parses "2026", "2026-Q2" / "2026Q2", "2026-03", "2026-01-01..2026-06-30".
    pub fn parse(spec: &str) -> AppResult<Period> {
        let s = spec.trim();
        if let Some((a, b)) = s.split_once("..") {
            let start = time::parse_date(a).ok_or_else(|| bad_date(a.trim()))?;
            let end = time::parse_date(b).ok_or_else(|| bad_date(b.trim()))?;
            return Period::new(start, end);
        }
        let upper = s.to_ascii_uppercase();
        if let Some((y, q)) = upper.split_once('Q') {
            let y: i32 = y.trim_end_matches('-').parse().map_err(|_| bad_spec(s))?;
            let q: u32 = q.parse().map_err(|_| bad_spec(s))?;
            return Period::quarter(y, q);
        }
        if let Some((y, m)) = s.split_once('-') {
            let y: i32 = y.parse().map_err(|_| bad_spec(s))?;
            let m: u32 = m.parse().map_err(|_| bad_spec(s))?;
            return Period::month(y, m);
        }
        match s.parse::<i32>() {
            Ok(y) => Period::year(y),
            Err(_) => Err(bad_spec(s)),
        }
    }

    /// From request parameters: `period` (any spelling of [`Period::parse`]),
    /// or `from`/`to`, or `year`; the current year when none is given.
    pub fn from_params(
        period: Option<&str>,
        year: Option<i32>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> AppResult<Period> {
        fn nonempty(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(p) = nonempty(period) {
            return Period::parse(p);
        }
        match (nonempty(from), nonempty(to)) {
            (Some(a), Some(b)) => {
                let start = time::parse_date(a).ok_or_else(|| bad_date(a))?;
                let end = time::parse_date(b).ok_or_else(|| bad_date(b))?;
                return Period::new(start, end);
            }
            (Some(x), None) | (None, Some(x)) => {
                return Err(AppError::invalid(
                    format!("自定义统计期须同时填写开始和结束日期(只收到“{x}”)"),
                    format!("A custom period needs both a start and an end date (got only “{x}”)"),
                ))
            }
            (None, None) => {}
        }
        Period::year(year.unwrap_or_else(|| time::today().year()))
    }

    /// The same period one year earlier (29 February becomes 28 February).
    pub fn previous_year(&self) -> Period {
        let back = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
        let end = if self.is_calendar_month_end() {
            // Keep whole months whole: 2024-02-29 → 2023-02-28, 2025-02-28 → 2024-02-29.
            let m = back(self.end);
            Period::month(m.year(), m.month())
                .map(|p| p.end)
                .unwrap_or(m)
        } else {
            back(self.end)
        };
        Period {
            start: back(self.start),
            end,
        }
    }

    fn is_calendar_month_end(&self) -> bool {
        (self.end + chrono::Days::new(1)).day() == 1
    }

    /// The canonical spelling, for URLs and file names.
    pub fn spec(&self) -> String {
        let (s, e) = (self.start, self.end);
        if s.day() == 1
            && s.month() == 1
            && e == NaiveDate::from_ymd_opt(s.year(), 12, 31).expect("valid")
        {
            return s.year().to_string();
        }
        if s.day() == 1 && self.is_calendar_month_end() && s.year() == e.year() {
            if s.month() == e.month() {
                return format!("{}-{:02}", s.year(), s.month());
            }
            if (s.month() - 1) % 3 == 0 && e.month() == s.month() + 2 {
                return format!("{}-Q{}", s.year(), (s.month() - 1) / 3 + 1);
            }
        }
        format!("{s}..{e}")
    }

    pub fn label_zh(&self) -> String {
        let spec = self.spec();
        let y = self.start.year();
        if spec.len() == 4 {
            format!("{y}年")
        } else if let Some(q) = spec.strip_prefix(&format!("{y}-Q")) {
            format!("{y}年第{q}季度")
        } else if spec.len() == 7 {
            format!("{y}年{}月", self.start.month())
        } else {
            format!("{}至{}", self.start, self.end)
        }
    }

    pub fn label_en(&self) -> String {
        let spec = self.spec();
        if spec.contains("..") {
            format!("{} to {}", self.start, self.end)
        } else {
            spec
        }
    }

    /// The first instant after the period (midnight in Beijing) as stored
    /// instants are written: RFC 3339 UTC text.
    pub fn end_instant(&self) -> String {
        let next = self.end + chrono::Days::new(1);
        let local = next
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(time::shanghai())
            .single()
            .expect("fixed offset");
        time::to_rfc3339(local.with_timezone(&chrono::Utc))
    }

    /// Birth-date cut-off for "aged `age` or more at the end of the period":
    /// born on or before this date.
    pub fn born_by_for_age(&self, age: u32) -> NaiveDate {
        self.end
            .checked_sub_months(Months::new(12 * age))
            .unwrap_or(NaiveDate::MIN)
    }

    /// Ends of each calendar month inside the period (for trends).
    pub fn month_ends(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut m =
            NaiveDate::from_ymd_opt(self.start.year(), self.start.month(), 1).expect("valid");
        while m <= self.end {
            let end = (m + Months::new(1) - chrono::Days::new(1)).min(self.end);
            out.push(end);
            m = m + Months::new(1);
        }
        out
    }

    pub fn out(&self) -> PeriodOut {
        PeriodOut {
            start: self.start.to_string(),
            end: self.end.to_string(),
            spec: self.spec(),
            label: self.label_zh(),
            label_en: self.label_en(),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodOut {
    pub start: String,
    pub end: String,
    /// Canonical spelling: 2026, 2026-Q2, 2026-03 or 2026-01-01..2026-06-30.
    pub spec: String,
    pub label: String,
    pub label_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_every_spelling() {
        assert_eq!(
            Period::parse("2026").unwrap(),
            Period {
                start: d("2026-01-01"),
                end: d("2026-12-31")
            }
        );
        assert_eq!(
            Period::parse("2026-Q2").unwrap(),
            Period {
                start: d("2026-04-01"),
                end: d("2026-06-30")
            }
        );
        assert_eq!(Period::parse("2026q4").unwrap().end, d("2026-12-31"));
        assert_eq!(Period::parse("2024-02").unwrap().end, d("2024-02-29"));
        assert_eq!(
            Period::parse("2026-01-15..2026-03-01").unwrap(),
            Period {
                start: d("2026-01-15"),
                end: d("2026-03-01")
            }
        );
        for bad in ["", "abc", "2026-13", "2026-Q5", "1800", "2026-01-01..x"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_period_ending_before_it_starts_is_refused() {
        let e = Period::parse("2026-06-30..2026-01-01").unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(m) if m.zh.contains("早于开始日期")),
            "{e:?}"
        );
        let e =
            Period::from_params(None, None, Some("2026-06-30"), Some("2026-01-01")).unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)));
        assert!(Period::from_params(None, None, Some("2026-06-30"), None).is_err());
    }

    #[test]
    fn specs_labels_and_previous_year() {
        for s in ["2026", "2026-Q3", "2026-02", "2026-01-15..2026-03-01"] {
            assert_eq!(Period::parse(s).unwrap().spec(), s);
        }
        assert_eq!(
            Period::parse("2026-Q3").unwrap().label_zh(),
            "2026年第3季度"
        );
        assert_eq!(Period::parse("2026-02").unwrap().label_zh(), "2026年2月");
        assert_eq!(
            Period::parse("2024-02").unwrap().previous_year().spec(),
            "2023-02"
        );
        assert_eq!(
            Period::parse("2025-02").unwrap().previous_year().spec(),
            "2024-02"
        );
        assert_eq!(
            Period::parse("2026").unwrap().previous_year().spec(),
            "2025"
        );
        assert_eq!(Period::parse("2026").unwrap().month_ends().len(), 12);
        assert_eq!(
            Period::parse("2026").unwrap().end_instant(),
            "2026-12-31T16:00:00.000000Z"
        );
        let p = Period::parse("2026").unwrap();
        assert_eq!(p.born_by_for_age(36), d("1990-12-31"));
    }
}
