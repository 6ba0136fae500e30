//! Money as a whole number of fen (分), the smallest unit of the yuan.
//!
//! Dues, hardship grants and budgets are added up across thousands of orgs,
//! so amounts are integers: no float ever holds money, and nothing rounds
//! silently. Text becomes a [`Fen`] only through [`Fen::parse`] (parse, don't
//! validate), which accepts what clerks actually type into forms and
//! spreadsheets — "1,234.50元", "¥1,234.56", "１２３４．５", "3.2万元" — and
//! refuses anything it would have to guess at, with a bilingual message that
//! says what to fix. Text is made by `numfmt`, the one place figures become
//! text, so a sum prints the same on a form, in a report and in an export.

use std::fmt;

use numfmt::Rounding;
use serde::{Deserialize, Serialize};

/// An amount of money in fen (1 元 = 100 分). Serialised as the bare integer
/// of fen, so JSON and the database never see a float.
///
/// Arithmetic is checked only (no `Add`, no `Sum`): an overflow must be a
/// visible `None`, not a wrapped total in a report.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = i64, example = 123450)]
pub struct Fen(i64);

impl Fen {
    pub const fn from_fen(fen: i64) -> Fen {
        Fen(fen)
    }

    /// Whole yuan, for literals and tests (`Fen::yuan(1350)`).
    ///
    /// # Panics
    /// Beyond ±92 万亿元, which no union ledger reaches; in a `const` that is
    /// a compile error. Amounts from outside come through [`Fen::parse`].
    pub const fn yuan(yuan: i64) -> Fen {
        match yuan.checked_mul(100) {
            Some(fen) => Fen(fen),
            None => panic!("Fen::yuan overflows i64 fen"),
        }
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// The amount times a count (dues × members); `None` on overflow.
    pub fn checked_mul(self, count: i64) -> Option<Fen> {
        self.0.checked_mul(count).map(Fen)
    }

    /// Total of `amounts`; `None` if any partial sum overflows. Deliberately
    /// not `Sum`, whose overflow would panic in debug and wrap in release.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Fen>) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen(0), |total, a| total.checked_add(a))
    }

    /// Yuan with exactly two decimals and no unit, as forms and xlsx cells
    /// expect: "1234.50", "-0.05". [`Fen::parse_signed`] reads it back.
    pub fn yuan_text(self) -> String {
        numfmt::format_fen_table(self.0, false)
    }

    /// Report style, numfmt's usual money rounding ([`Rounding::MONEY`]):
    /// "1350.50元" and "1350元" below 1万元, "58.11万元" and "6.5亿元" above.
    /// Lossy above 1万元; use [`Fen::yuan_text`] where the amount is re-read.
    pub fn display(self) -> String {
        numfmt::format_money_fen(self.0, Rounding::MONEY)
    }

    /// Reads a non-negative amount as typed: digits with optional thousands
    /// commas and up to two decimals of yuan, an optional leading ¥/￥ and an
    /// optional trailing 元, 万 or 万元 (万 takes up to six decimals, which is
    /// still whole fen). Full-width digits and punctuation are accepted;
    /// surrounding spaces are ignored.
    pub fn parse(input: &str) -> Result<Fen, MoneyError> {
        parse(input, false)
    }

    /// Like [`Fen::parse`], also accepting a leading minus (refunds,
    /// corrections, differences).
    pub fn parse_signed(input: &str) -> Result<Fen, MoneyError> {
        parse(input, true)
    }
}

/// Why a text is not an amount, in both languages, each saying what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoneyError {
    pub zh: String,
    pub en: String,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same shape as `i18n::Msg`, so logs read alike.
        write!(f, "{} / {}", self.zh, self.en)
    }
}

impl std::error::Error for MoneyError {}

/// A form or import handler can `?` a parse straight into a 422.
impl From<MoneyError> for crate::error::AppError {
    fn from(e: MoneyError) -> Self {
        crate::error::AppError::invalid(e.zh, e.en)
    }
}

impl MoneyError {
    fn new(zh: String, en: String) -> MoneyError {
        MoneyError { zh, en }
    }
}

/// The input as echoed in a message: a whole pasted paragraph would drown
/// the message, so long inputs are cut.
fn echo(s: &str) -> String {
    const MAX: usize = 24;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// Full-width forms (what a Chinese IME types) to ASCII; other characters
/// unchanged.
fn narrow(c: char) -> char {
    match c {
        '０'..='９' | '．' | '，' | '＋' | '－' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        '￥' => '¥',
        '−' => '-', // U+2212 MINUS SIGN, from Word and web pages
        _ => c,
    }
}

fn strip_sign(s: &str) -> (Option<bool>, &str) {
    if let Some(r) = s.strip_prefix('-') {
        (Some(true), r.trim_start())
    } else if let Some(r) = s.strip_prefix('+') {
        (Some(false), r.trim_start())
    } else {
        (None, s)
    }
}

fn parse(input: &str, allow_negative: bool) -> Result<Fen, MoneyError> {
    let shown = input.trim();
    if shown.is_empty() {
        return Err(MoneyError::new(
            "金额为空,请填写数字,例如 1234.50".into(),
            "The amount is empty; enter a number such as 1234.50".into(),
        ));
    }
    let e = echo(shown);
    let not_a_number = || {
        MoneyError::new(
            format!("金额“{e}”不是有效的数字,请只填写数字,可带“元”或“万元”,例如 1234.50"),
            format!(
                "Amount “{e}” is not a number; enter digits, optionally followed by 元 or 万元, \
                 e.g. 1234.50"
            ),
        )
    };

    let narrowed: String = shown.chars().map(narrow).collect();
    // Sign and currency sign in either order: "-¥5" and "¥-5" are both seen.
    let (mut sign, rest) = strip_sign(&narrowed);
    let rest = rest.strip_prefix('¥').map_or(rest, str::trim_start);
    let rest = if sign.is_none() {
        let (s, r) = strip_sign(rest);
        sign = s;
        r
    } else {
        rest
    };
    let rest = rest.strip_suffix('元').map_or(rest, str::trim_end);
    let (number, wan) = match rest.strip_suffix('万') {
        Some(r) => (r.trim_end(), true),
        None => (rest, false),
    };

    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !is_digits(frac) {
        return Err(not_a_number());
    }
    let int = if int.contains(',') {
        // Only true thousands grouping: "1,23" may be 1.23 written with a
        // decimal comma or a mistyped 123, so it is refused, not guessed.
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or_default();
        let grouped = (1..=3).contains(&first.len())
            && is_digits(first)
            && groups.all(|g| g.len() == 3 && is_digits(g));
        if !grouped {
            return Err(if int.split(',').all(is_digits) {
                MoneyError::new(
                    format!("金额“{e}”的千位分隔逗号位置不对,请去掉逗号或每三位一组"),
                    format!(
                        "Amount “{e}” has misplaced thousands commas; remove them or group \
                         digits in threes"
                    ),
                )
            } else {
                not_a_number()
            });
        }
        int.replace(',', "")
    } else if is_digits(int) {
        int.to_string()
    } else {
        return Err(not_a_number());
    };

    // Yuan carry two decimals to reach fen, 万 six; beyond that only zeros
    // may follow, since anything else would have to be rounded away.
    let places = if wan { 6 } else { 2 };
    if frac.bytes().skip(places).any(|b| b != b'0') {
        return Err(if wan {
            MoneyError::new(
                format!("金额“{e}”以万为单位时最多保留六位小数(到分),请核对后重新填写"),
                format!(
                    "Amount “{e}” has more than six decimals in 万 (fen is the smallest unit); \
                     check it and enter it again"
                ),
            )
        } else {
            MoneyError::new(
                format!("金额“{e}”最多保留两位小数(到分),请核对后重新填写"),
                format!(
                    "Amount “{e}” has more than two decimals (fen is the smallest unit); \
                     check it and enter it again"
                ),
            )
        });
    }

    // The digits, padded to `places` decimals, are the amount in fen. i128
    // catches overflow without a digit-count heuristic.
    let frac = frac.as_bytes();
    let digits = int
        .bytes()
        .chain((0..places).map(|i| frac.get(i).copied().unwrap_or(b'0')));
    let too_large = || {
        MoneyError::new(
            format!("金额“{e}”超出可处理的范围,请核对位数"),
            format!("Amount “{e}” is too large to handle; check the number of digits"),
        )
    };
    let mut magnitude: i128 = 0;
    for d in digits {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(d - b'0')))
            .ok_or_else(too_large)?;
    }

    let negative = sign == Some(true);
    if negative && !allow_negative {
        return Err(MoneyError::new(
            format!("金额“{e}”不能为负数,请填写零或正数"),
            format!("Amount “{e}” cannot be negative; enter zero or a positive amount"),
        ));
    }
    let fen = if negative { -magnitude } else { magnitude };
    i64::try_from(fen).map(Fen).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_inputs() {
        let table: &[(&str, i64)] = &[
            ("1234", 123_400),
            ("0", 0),
            ("007", 700),
            ("1,234.5", 123_450),
            ("1234.50元", 123_450),
            ("¥1,234.56", 123_456),
            ("￥1,234.56", 123_456),
            ("¥ 12", 1200),
            ("１２３４．５", 123_450),
            ("１，２３４．５６元", 123_456),
            ("0.5万元", 500_000),
            ("12万", 12_000_000),
            ("3.2万元", 3_200_000),
            ("5811.27万元", 5_811_270_000),
            ("1.234567万", 1_234_567),
            ("1.2345670万", 1_234_567),
            (" 100 元 ", 10_000),
            ("\u{3000}100元\u{3000}", 10_000),
            ("\u{a0}100\u{a0}", 10_000),
            ("12 万元", 12_000_000),
            ("12.340000", 1234),
            ("12.30", 1230),
            ("0.05", 5),
            (".5", 50),
            ("5.", 500),
            ("+5", 500),
            ("1,234,567.89", 123_456_789),
            ("92233720368547758.07", i64::MAX),
        ];
        for &(input, fen) in table {
            assert_eq!(Fen::parse(input), Ok(Fen::from_fen(fen)), "{input:?}");
            assert_eq!(
                Fen::parse_signed(input),
                Ok(Fen::from_fen(fen)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn signed_inputs() {
        let table: &[(&str, i64)] = &[
            ("-5", -500),
            ("－１２．５", -1250),
            ("−3", -300),
            ("-¥1,234.56", -123_456),
            ("¥-1,234.56", -123_456),
            ("- 100 元", -10_000),
            ("-0.5万元", -500_000),
            ("-0", 0),
            ("-92233720368547758.08", i64::MIN),
        ];
        for &(input, fen) in table {
            assert_eq!(
                Fen::parse_signed(input),
                Ok(Fen::from_fen(fen)),
                "{input:?}"
            );
            let e = Fen::parse(input).unwrap_err();
            assert!(e.zh.contains("不能为负数"), "{input:?}: {e}");
            assert!(e.en.contains("cannot be negative"), "{input:?}: {e}");
        }
    }

    #[test]
    fn refused_inputs() {
        // (input, a piece of the Chinese message, a piece of the English one)
        let table: &[(&str, &str, &str)] = &[
            ("", "金额为空", "empty"),
            ("   ", "金额为空", "empty"),
            ("abc", "不是有效的数字", "not a number"),
            ("元", "不是有效的数字", "not a number"),
            ("万元", "不是有效的数字", "not a number"),
            ("¥", "不是有效的数字", "not a number"),
            (".", "不是有效的数字", "not a number"),
            ("1.2.3", "不是有效的数字", "not a number"),
            ("1e5", "不是有效的数字", "not a number"),
            ("NaN", "不是有效的数字", "not a number"),
            ("12万万", "不是有效的数字", "not a number"),
            ("100元整", "不是有效的数字", "not a number"),
            ("1 234", "不是有效的数字", "not a number"),
            ("--5", "不是有效的数字", "not a number"),
            ("1,234.5,6", "不是有效的数字", "not a number"),
            ("1,2a3", "不是有效的数字", "not a number"),
            ("万12", "不是有效的数字", "not a number"),
            ("1,23", "千位分隔逗号位置不对", "thousands commas"),
            ("1234,567", "千位分隔逗号位置不对", "thousands commas"),
            (",123", "千位分隔逗号位置不对", "thousands commas"),
            ("1,234,56", "千位分隔逗号位置不对", "thousands commas"),
            ("12.345", "最多保留两位小数(到分)", "more than two decimals"),
            ("0.001", "最多保留两位小数(到分)", "more than two decimals"),
            ("1.2345678万", "最多保留六位小数", "more than six decimals"),
            ("92233720368547758.08", "超出可处理的范围", "too large"),
            (
                "99999999999999999999999999999999999999999",
                "超出可处理的范围",
                "too large",
            ),
            ("100000000000000万", "超出可处理的范围", "too large"),
        ];
        for &(input, zh, en) in table {
            for e in [Fen::parse(input), Fen::parse_signed(input)] {
                let e = e.expect_err(input);
                assert!(e.zh.contains(zh), "{input:?}: {}", e.zh);
                assert!(e.en.contains(en), "{input:?}: {}", e.en);
            }
        }
    }

    #[test]
    fn messages_quote_the_input() {
        let e = Fen::parse("12.345").unwrap_err();
        assert_eq!(e.zh, "金额“12.345”最多保留两位小数(到分),请核对后重新填写");
        assert_eq!(
            e.en,
            "Amount “12.345” has more than two decimals (fen is the smallest unit); \
             check it and enter it again"
        );
        assert_eq!(e.to_string(), format!("{} / {}", e.zh, e.en));
        // the original text is echoed (trimmed), not the normalised one
        let e = Fen::parse(" １２．３４５ ").unwrap_err();
        assert!(e.zh.contains("“１２．３４５”"), "{}", e.zh);
        // a pasted paragraph is cut short
        let long = "x".repeat(500);
        let e = Fen::parse(&long).unwrap_err();
        assert!(e.zh.chars().count() < 80, "{}", e.zh);
        assert!(e.zh.contains('…'));
        let app: crate::error::AppError = e.into();
        assert_eq!(app.status(), 422);
    }

    #[test]
    fn constructors_and_arithmetic() {
        assert_eq!(Fen::yuan(1350).fen(), 135_000);
        assert_eq!(Fen::yuan(-2), Fen::from_fen(-200));
        assert_eq!(Fen::default(), Fen::from_fen(0));
        let a = Fen::from_fen(150);
        let b = Fen::from_fen(50);
        assert_eq!(a.checked_add(b), Some(Fen::from_fen(200)));
        assert_eq!(b.checked_sub(a), Some(Fen::from_fen(-100)));
        assert_eq!(a.checked_mul(3), Some(Fen::from_fen(450)));
        assert!(a < Fen::yuan(2));
        let max = Fen::from_fen(i64::MAX);
        let min = Fen::from_fen(i64::MIN);
        assert_eq!(max.checked_add(Fen::from_fen(1)), None);
        assert_eq!(min.checked_sub(Fen::from_fen(1)), None);
        assert_eq!(max.checked_mul(2), None);
        assert_eq!(min.checked_mul(-1), None);
        assert_eq!(Fen::checked_sum([a, b, a]), Some(Fen::from_fen(350)));
        assert_eq!(Fen::checked_sum([]), Some(Fen::from_fen(0)));
        assert_eq!(Fen::checked_sum([max, Fen::from_fen(1)]), None);
        // overflow in a partial sum is reported even if the total would fit
        assert_eq!(Fen::checked_sum([max, max, min, min]), None);
    }

    #[test]
    #[should_panic(expected = "overflows")]
    fn yuan_overflow_panics() {
        let _ = Fen::yuan(i64::MAX / 10);
    }

    #[test]
    fn yuan_text() {
        assert_eq!(Fen::from_fen(123_450).yuan_text(), "1234.50");
        assert_eq!(Fen::from_fen(123_456).yuan_text(), "1234.56");
        assert_eq!(Fen::yuan(58_112_700).yuan_text(), "58112700.00");
        assert_eq!(Fen::from_fen(0).yuan_text(), "0.00");
        assert_eq!(Fen::from_fen(5).yuan_text(), "0.05");
        assert_eq!(Fen::from_fen(-5).yuan_text(), "-0.05");
    }

    #[test]
    fn display_is_numfmt_money() {
        let table: &[(i64, &str)] = &[
            (58_112_700, "58.11万元"),
            (5_811_270_000, "5811.27万元"),
            (135_050, "1350.50元"),
            (135_000, "1350元"),
            (5, "0.05元"),
            (0, "0元"),
            (999_999, "9999.99元"),
            (1_000_000, "1万元"),
            (65_000_000_000, "6.5亿元"),
            (-135_050, "-1350.50元"),
        ];
        for &(fen, text) in table {
            assert_eq!(Fen::from_fen(fen).display(), text, "{fen}");
        }
    }

    #[test]
    fn round_trips() {
        let samples = [
            0,
            1,
            5,
            99,
            100,
            123_450,
            999_999,
            1_000_000,
            58_112_700,
            i64::MAX,
            -1,
            -123_456,
            i64::MIN,
        ];
        for fen in samples {
            let f = Fen::from_fen(fen);
            assert_eq!(Fen::parse_signed(&f.yuan_text()), Ok(f), "{fen}");
            assert_eq!(
                Fen::parse_signed(&numfmt::format_fen_table(fen, true)),
                Ok(f),
                "{fen}"
            );
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, fen.to_string());
            assert_eq!(serde_json::from_str::<Fen>(&json).unwrap(), f);
            // display is exact below 1万元 and re-reads as the same amount
            if fen.unsigned_abs() < 1_000_000 {
                assert_eq!(Fen::parse_signed(&f.display()), Ok(f), "{fen}");
            }
        }
        // above 1万元 display rounds to the 100 元 (two decimals of 万)
        let f = Fen::from_fen(58_112_700);
        assert_eq!(Fen::parse(&f.display()), Ok(Fen::yuan(581_100)));
        assert_eq!(Fen::parse("5811.27万元").unwrap().display(), "5811.27万元");
    }
}
