//! Chinese report-style number formatting — the single place where figures
//! become text.
//!
//! Union work reports are read side by side with the dashboard, the exported
//! Word/Excel files and the charts, so one figure must print identically
//! everywhere: "全市共有工会组织3383个,会员386057人" in the narrative, "38.6万人"
//! on a card, "5800余份" when the author deliberately approximates. Keeping
//! every convention here (no thousands separators, 万/亿 magnitudes, 余/多/近
//! only on request, "—" for an undefined ratio) stops each screen inventing its
//! own variant.
//!
//! Amounts of money are integer fen and all rounding is done in integer
//! decimal arithmetic (round half up, i.e. half away from zero on the
//! magnitude). Floating point is only accepted at the edges (chart values) and
//! is first converted through its shortest decimal representation, so that
//! 2.675 rounds to 2.68 as a reader expects and the same input yields the same
//! bytes on every machine.

use std::fmt;

const WAN: i128 = 10_000;
const YI: i128 = 100_000_000;
const WAN_YI: i128 = 1_000_000_000_000;
/// Largest number of decimals honoured; more would only print float-free
/// zeros and risks overflow in the scaled arithmetic.
const MAX_DECIMALS: u32 = 6;
/// Shown where a ratio or change is undefined (denominator zero).
pub const UNDEFINED: &str = "—";
/// Shown for a change when the value did not move.
pub const FLAT: &str = "持平";

/// Counting units that appear in union statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// 个 — generic counter (organisations, stations).
    Ge,
    /// 人 — people.
    Person,
    /// 人次 — person-times (trainings, visits).
    PersonTime,
    /// 户 — households (困难职工家庭).
    Household,
    /// 场次 — sessions/events.
    Session,
    /// 家 — enterprises/institutions.
    Enterprise,
    /// 份 — copies/contracts (集体合同).
    Copy,
    /// 元 — yuan.
    Yuan,
    /// 万元 — ten-thousand yuan.
    WanYuan,
    /// % — percent.
    Percent,
    /// ㎡ — square metres (职工之家 floor space).
    SquareMetre,
    /// 件 — pieces/cases (提案, 来信).
    Piece,
    /// 起 — incidents (劳动争议).
    Incident,
    /// 条 — entries/items (建议).
    Entry,
    /// 项 — projects/items.
    Project,
    /// 张 — cards/sheets (会员卡).
    Card,
    /// 次 — times.
    Times,
    /// 名 — headcount (先进个人).
    Headcount,
    /// 元, counted in fen: money summed from records (an integer number of
    /// fen), written in 元 with its fen digits.
    Fen,
}

impl Unit {
    /// Every unit, in declaration order.
    pub const ALL: [Unit; 19] = [
        Unit::Ge,
        Unit::Person,
        Unit::PersonTime,
        Unit::Household,
        Unit::Session,
        Unit::Enterprise,
        Unit::Copy,
        Unit::Yuan,
        Unit::WanYuan,
        Unit::Percent,
        Unit::SquareMetre,
        Unit::Piece,
        Unit::Incident,
        Unit::Entry,
        Unit::Project,
        Unit::Card,
        Unit::Times,
        Unit::Headcount,
        Unit::Fen,
    ];

    /// The Chinese symbol written after the number.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Ge => "个",
            Unit::Person => "人",
            Unit::PersonTime => "人次",
            Unit::Household => "户",
            Unit::Session => "场次",
            Unit::Enterprise => "家",
            Unit::Copy => "份",
            Unit::Yuan => "元",
            Unit::WanYuan => "万元",
            Unit::Percent => "%",
            Unit::SquareMetre => "㎡",
            Unit::Piece => "件",
            Unit::Incident => "起",
            Unit::Entry => "条",
            Unit::Project => "项",
            Unit::Card => "张",
            Unit::Times => "次",
            Unit::Headcount => "名",
            Unit::Fen => "元",
        }
    }

    /// Parses a symbol as typed in spreadsheets and config files; accepts the
    /// usual variants (full-width ％, 平方米, m², surrounding spaces).
    pub fn from_symbol(s: &str) -> Option<Unit> {
        let s = s.trim();
        let unit = match s {
            // 元 is the yuan count; fen-counted money is declared, not typed.
            "元" => Unit::Yuan,
            "％" | "percent" => Unit::Percent,
            "平方米" | "m²" | "m2" | "平米" => Unit::SquareMetre,
            _ => return Unit::ALL.into_iter().find(|u| u.symbol() == s),
        };
        Some(unit)
    }

    /// English name (plural) for the bilingual UI and API docs.
    pub fn en(self) -> &'static str {
        match self {
            Unit::Ge => "units",
            Unit::Person => "people",
            Unit::PersonTime => "person-times",
            Unit::Household => "households",
            Unit::Session => "sessions",
            Unit::Enterprise => "enterprises",
            Unit::Copy => "copies",
            Unit::Yuan => "yuan",
            Unit::WanYuan => "10k yuan",
            Unit::Percent => "percent",
            Unit::SquareMetre => "square metres",
            Unit::Piece => "pieces",
            Unit::Incident => "incidents",
            Unit::Entry => "entries",
            Unit::Project => "projects",
            Unit::Card => "cards",
            Unit::Times => "times",
            Unit::Headcount => "people",
            Unit::Fen => "yuan",
        }
    }

    /// Whether 万/亿 magnitudes may be applied ("38.6万%" is meaningless).
    pub fn scales(self) -> bool {
        self != Unit::Percent
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// How precisely a figure is written. Approximation words (余, 多, 近) are an
/// editorial choice, so they only appear when a style asks for them and only
/// when the value is not already exactly the round figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Every digit: "386057人", "58112700元", "1350.50元".
    #[default]
    Exact,
    /// 万/亿 magnitudes from 1万 upwards, `decimals` places (half up,
    /// trailing zeros dropped): "38.6万人", "23万人次", "5811.27万元".
    /// Smaller values stay exact.
    Wan {
        /// Decimal places kept in the 万/亿 figure (at most 6).
        decimals: u8,
    },
    /// Floor to `figures` significant figures and write 余 if anything was cut:
    /// "5800余份", "38万余人", "5800余万元".
    Yu {
        /// Significant figures kept (at least 1).
        figures: u8,
    },
    /// Floor to a round figure and write 多: "50多万人", "2万多人", "20多人".
    /// `figures` limits the significant figures of the round part.
    Duo {
        /// Significant figures kept in the round part (at least 1).
        figures: u8,
    },
    /// Round up to `figures` significant figures and write 近: "近百名",
    /// "近6000人", "近6亿元". Only used when the value is within 10% of the
    /// round figure; otherwise falls back to [`Rounding::Yu`] with the same
    /// figures, since "近600人" for 510 people would mislead.
    Jin {
        /// Significant figures of the round target (at least 1).
        figures: u8,
    },
}

impl Rounding {
    /// Card/headline style for counts: one decimal in 万.
    pub const WAN: Rounding = Rounding::Wan { decimals: 1 };
    /// Usual style for money: two decimals in 万元 ("5811.27万元").
    pub const MONEY: Rounding = Rounding::Wan { decimals: 2 };
    /// "5800余份", "38万余人".
    pub const YU: Rounding = Rounding::Yu { figures: 2 };
    /// "50多万人".
    pub const DUO: Rounding = Rounding::Duo { figures: 1 };
    /// "近百名".
    pub const JIN: Rounding = Rounding::Jin { figures: 1 };

    /// True for the styles that may print 余/多/近.
    pub fn is_approximate(self) -> bool {
        matches!(
            self,
            Rounding::Yu { .. } | Rounding::Duo { .. } | Rounding::Jin { .. }
        )
    }
}

// ---------------------------------------------------------------------------
// integer helpers

fn pow10(e: u32) -> i128 {
    10i128.pow(e)
}

/// Division rounding half away from zero; `d` must be positive.
fn round_div(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    if r.abs() * 2 >= d {
        q + n.signum()
    } else {
        q
    }
}

/// Writes `v / 10^decimals` in plain decimal notation, never "-0".
fn fixed(v: i128, decimals: u32, trim: bool) -> String {
    let a = v.unsigned_abs();
    let p = 10u128.pow(decimals);
    let mut s = String::new();
    if v < 0 {
        s.push('-');
    }
    s.push_str(&(a / p).to_string());
    if decimals > 0 {
        let mut frac = format!("{:0width$}", a % p, width = decimals as usize);
        if trim {
            while frac.ends_with('0') {
                frac.pop();
            }
        }
        if !frac.is_empty() {
            s.push('.');
            s.push_str(&frac);
        }
    }
    s
}

fn digits(v: i128) -> u32 {
    let mut v = v.abs();
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn floor_sig(v: i128, figures: u32) -> i128 {
    let d = digits(v);
    if d <= figures {
        return v;
    }
    let m = pow10(d - figures);
    v / m * m
}

fn ceil_sig(v: i128, figures: u32) -> i128 {
    let d = digits(v);
    if d <= figures {
        return v;
    }
    let m = pow10(d - figures);
    (v + m - 1) / m * m
}

/// The magnitude a non-negative whole number is written in.
fn magnitude(v: i128) -> (i128, &'static str) {
    if v >= WAN_YI {
        (WAN_YI, "万亿")
    } else if v >= YI {
        (YI, "亿")
    } else if v >= WAN {
        (WAN, "万")
    } else {
        (1, "")
    }
}

/// `v` (≥ 0) counted in units of `1/sub`, written with 万/亿 and `decimals`
/// places; `None` below 1万 so callers keep their own small-number form.
fn mag_scaled(v: i128, sub: i128, decimals: u32) -> Option<String> {
    if v < WAN * sub {
        return None;
    }
    let p = pow10(decimals);
    for (m, name) in [(WAN, "万"), (YI, "亿")] {
        let r = round_div(v * p, m * sub);
        if r < WAN * p {
            return Some(format!("{}{name}", fixed(r, decimals, true)));
        }
    }
    let r = round_div(v * p, WAN_YI * sub);
    Some(format!("{}万亿", fixed(r, decimals, true)))
}

/// A whole number known to be exactly representable, written with its
/// magnitude and an optional word placed the idiomatic way: after a round
/// multiple of ten the word precedes the magnitude ("5800余万", "50多万"),
/// otherwise it follows it ("38万余", "2万多", "38.6万余").
fn round_with_word(v: i128, word: &str) -> String {
    let (m, name) = magnitude(v);
    if m == 1 {
        return format!("{v}{word}");
    }
    if v % m == 0 {
        let q = v / m;
        if q % 10 == 0 && !word.is_empty() {
            return format!("{q}{word}{name}");
        }
        return format!("{q}{name}{word}");
    }
    let places = digits(m) - 1;
    format!("{}{name}{word}", fixed(v, places, true))
}

fn clamp_decimals(d: u8) -> u32 {
    u32::from(d).min(MAX_DECIMALS)
}

fn clamp_figures(f: u8) -> u32 {
    u32::from(f).clamp(1, 18)
}

/// Approximate rendering of a non-negative whole number. `cut` says a
/// fraction below the whole unit was already dropped (money), so the floor
/// forms must still say 余/多.
fn approx_whole(v: i128, cut: bool, style: Rounding) -> String {
    match style {
        Rounding::Yu { figures } => {
            let base = floor_sig(v, clamp_figures(figures));
            let word = if base < v || (cut && v > 0) {
                "余"
            } else {
                ""
            };
            round_with_word(base, word)
        }
        Rounding::Duo { figures } => {
            let (m, name) = magnitude(v);
            let q = v / m;
            if q >= 10 {
                let figs = clamp_figures(figures).min(digits(q) - 1);
                let base = floor_sig(q, figs);
                if base * m == v && !cut {
                    return round_with_word(v, "");
                }
                format!("{base}多{name}")
            } else if m > 1 && (q * m < v || cut) {
                format!("{q}{name}多")
            } else if m == 1 {
                // "7多人" is not Chinese; small counts stay exact.
                v.to_string()
            } else {
                round_with_word(v, "")
            }
        }
        Rounding::Jin { figures } => {
            let figs = clamp_figures(figures);
            let target = ceil_sig(v, figs);
            if target == v {
                if cut {
                    // Just above a round figure: "100余元", never "近百".
                    return approx_whole(v, cut, Rounding::Yu { figures });
                }
                return round_with_word(v, "");
            }
            if v * 10 < target * 9 {
                return approx_whole(v, cut, Rounding::Yu { figures });
            }
            let named = match target {
                100 => Some("百"),
                1_000 => Some("千"),
                WAN => Some("万"),
                YI => Some("亿"),
                _ => None,
            };
            match named {
                Some(n) => format!("近{n}"),
                None => format!("近{}", round_with_word(target, "")),
            }
        }
        Rounding::Exact | Rounding::Wan { .. } => v.to_string(),
    }
}

fn signed(neg: bool, body: String) -> String {
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

// ---------------------------------------------------------------------------
// counts and money

/// A count with its unit: `format_count(386057, Unit::Person, Rounding::Exact)`
/// → "386057人"; with [`Rounding::WAN`] → "38.6万人"; 230000 人次 → "23万人次".
///
/// [`Unit::WanYuan`] counts are already in 万元 and move to 亿元 when
/// scaled; [`Unit::Percent`] is never scaled or approximated.
pub fn format_count(n: i64, unit: Unit, style: Rounding) -> String {
    if unit == Unit::Fen {
        // Money keeps its fen: exact, or 万元 with two decimals.
        let money = if style == Rounding::Exact {
            Rounding::Exact
        } else {
            Rounding::MONEY
        };
        return format_money_fen(n, money);
    }
    let v = i128::from(n);
    let neg = v < 0;
    let a = v.abs();
    if !unit.scales() || style == Rounding::Exact {
        return format!("{n}{}", unit.symbol());
    }
    if unit == Unit::WanYuan {
        if a == 0 {
            return format!("0{}", unit.symbol());
        }
        // Work in 元 so 12345万元 becomes "1.23亿元" rather than "1.23万万元".
        return signed(neg, format!("{}元", scaled_whole(a * WAN, style)));
    }
    signed(neg, format!("{}{}", scaled_whole(a, style), unit.symbol()))
}

fn scaled_whole(a: i128, style: Rounding) -> String {
    match style {
        Rounding::Exact => a.to_string(),
        Rounding::Wan { decimals } => {
            mag_scaled(a, 1, clamp_decimals(decimals)).unwrap_or_else(|| a.to_string())
        }
        _ => approx_whole(a, false, style),
    }
}

/// Money given in fen. Exact: "58112700元", "1350.50元", "1350元" (whole
/// yuan drop ".00", otherwise both fen digits are kept). [`Rounding::MONEY`]:
/// "5811.27万元", "6.5亿元", below 1万元 as exact. Approximate styles work on
/// whole yuan: "5800余万元", "近6亿元".
pub fn format_money_fen(fen: i64, style: Rounding) -> String {
    let v = i128::from(fen);
    let neg = v < 0;
    let a = v.abs();
    let body = match style {
        Rounding::Exact => yuan_exact(a),
        Rounding::Wan { decimals } => {
            mag_scaled(a, 100, clamp_decimals(decimals)).unwrap_or_else(|| yuan_exact(a))
        }
        _ => approx_whole(a / 100, a % 100 != 0, style),
    };
    signed(neg && a != 0, format!("{body}元"))
}

fn yuan_exact(a: i128) -> String {
    if a % 100 == 0 {
        (a / 100).to_string()
    } else {
        fixed(a, 2, false)
    }
}

/// Yuan with exactly two decimals for tables and exports ("1350.50",
/// "58,112,700.00" when `grouped`); no unit, no magnitude.
pub fn format_fen_table(fen: i64, grouped: bool) -> String {
    let v = i128::from(fen);
    let a = v.abs();
    let int = if grouped {
        group_digits(&(a / 100).to_string())
    } else {
        (a / 100).to_string()
    };
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{int}.{:02}", a % 100)
}

/// Thousands-grouped integer ("386,057") for wide tables only; narrative
/// Chinese text never groups digits.
pub fn format_plain_grouped(n: i64) -> String {
    let s = i128::from(n).abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_digits(&s))
}

fn group_digits(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// floating point at the edges

/// `v × 10^decimals` rounded half up on the shortest decimal representation
/// of `v` (so 2.675 → 268 at two places). `None` for non-finite or huge
/// values.
fn decimal_scaled(v: f64, decimals: u32) -> Option<i128> {
    if !v.is_finite() {
        return None;
    }
    // Display for f64 never uses exponent notation and is the shortest
    // representation that round-trips.
    let s = format!("{}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.len() + decimals as usize > 36 {
        return None;
    }
    let mut acc: i128 = int.parse().ok()?;
    let fb = frac.as_bytes();
    for i in 0..decimals as usize {
        let d = fb.get(i).map_or(0, |b| i128::from(b - b'0'));
        acc = acc * 10 + d;
    }
    if fb.get(decimals as usize).is_some_and(|b| *b >= b'5') {
        acc += 1;
    }
    Some(if v < 0.0 { -acc } else { acc })
}

/// Plain decimal with at most `decimals` places, trailing zeros dropped,
/// half up: 94.25 → "94.3" (1 place), 3.0 → "3". Non-finite → "—".
pub fn format_decimal(v: f64, decimals: u8) -> String {
    let d = clamp_decimals(decimals);
    match decimal_scaled(v, d) {
        Some(s) => fixed(s, d, true),
        None if v.is_finite() => format!("{v:.0}"),
        None => UNDEFINED.to_string(),
    }
}

/// Like [`format_decimal`] but from 1万 upwards in 万/亿 ("38.6万"), for
/// chart labels and axis ticks where width is scarce.
pub fn format_compact(v: f64, decimals: u8) -> String {
    let d = clamp_decimals(decimals);
    let extra = d + 8;
    let Some(s) = decimal_scaled(v, extra) else {
        return format_decimal(v, decimals);
    };
    let neg = s < 0;
    let small = round_div(s, pow10(8));
    let sub = pow10(extra);
    // 9999.96 at one place rounds to 1万, so decide on the rounded value.
    let a = if small.abs() >= WAN * pow10(d) {
        s.abs().max(WAN * sub)
    } else {
        s.abs()
    };
    match mag_scaled(a, sub, d) {
        Some(body) => signed(neg, body),
        None => fixed(small, d, true),
    }
}

// ---------------------------------------------------------------------------
// ratios and changes

/// `numerator / denominator` as a percentage, `None` when the denominator is
/// zero.
pub fn ratio_percent(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 * 100.0 / denominator as f64)
}

fn percent_scaled(numerator: i64, denominator: i64, decimals: u32) -> Option<i128> {
    if denominator == 0 {
        return None;
    }
    let (mut n, mut d) = (i128::from(numerator), i128::from(denominator));
    if d < 0 {
        n = -n;
        d = -d;
    }
    Some(round_div(n * 100 * pow10(decimals), d))
}

/// Coverage-style percentage: (3187, 3383, 1) → "94.2%", (5, 5, 1) → "100%"
/// (trailing zeros dropped); zero denominator → "—".
pub fn format_ratio(numerator: i64, denominator: i64, decimals: u8) -> String {
    let d = clamp_decimals(decimals);
    match percent_scaled(numerator, denominator, d) {
        Some(s) => format!("{}%", fixed(s, d, true)),
        None => UNDEFINED.to_string(),
    }
}

/// Relative change from `previous` to `current` in percent, measured against
/// |previous| so a deficit shrinking reads as growth. `None` when previous is
/// zero.
pub fn change_percent(current: i64, previous: i64) -> Option<f64> {
    (previous != 0).then(|| (current as f64 - previous as f64) * 100.0 / (previous as f64).abs())
}

fn change_scaled(current: i64, previous: i64, decimals: u32) -> Option<i128> {
    if previous == 0 {
        return None;
    }
    let diff = i128::from(current) - i128::from(previous);
    Some(round_div(
        diff * 100 * pow10(decimals),
        i128::from(previous).abs(),
    ))
}

/// Signed relative change with one decimal kept even when zero so columns
/// line up: "+12.5%", "-3.0%"; unchanged → "持平"; from zero → "—".
/// A tiny but real change keeps its sign ("+0.0%") rather than claiming 持平.
pub fn format_change(current: i64, previous: i64) -> String {
    format_change_with(current, previous, 1)
}

/// [`format_change`] with a chosen number of decimals.
pub fn format_change_with(current: i64, previous: i64, decimals: u8) -> String {
    if current == previous {
        return FLAT.to_string();
    }
    let d = clamp_decimals(decimals);
    match change_scaled(current, previous, d) {
        Some(s) => {
            let sign = if current > previous { "+" } else { "-" };
            format!("{sign}{}%", fixed(s.abs(), d, false))
        }
        None => UNDEFINED.to_string(),
    }
}

/// The change as narrative words: "增长12.5%", "下降3.0%", "持平", "—".
pub fn format_change_words(current: i64, previous: i64) -> String {
    if current == previous {
        return FLAT.to_string();
    }
    match change_scaled(current, previous, 1) {
        Some(s) => {
            let word = if current > previous {
                "增长"
            } else {
                "下降"
            };
            format!("{word}{}%", fixed(s.abs(), 1, false))
        }
        None => UNDEFINED.to_string(),
    }
}

/// Signed absolute difference of two counts: "+1200人", "-35人", "+1.2万人",
/// unchanged → "持平".
pub fn format_diff(current: i64, previous: i64, unit: Unit, style: Rounding) -> String {
    let diff = i128::from(current) - i128::from(previous);
    with_plus(diff, |d| format_count(d, unit, style))
}

/// Signed absolute difference of two amounts in fen: "+12.5万元", "-350元".
pub fn format_diff_money_fen(current: i64, previous: i64, style: Rounding) -> String {
    let diff = i128::from(current) - i128::from(previous);
    with_plus(diff, |d| format_money_fen(d, style))
}

fn with_plus(diff: i128, f: impl Fn(i64) -> String) -> String {
    if diff == 0 {
        return FLAT.to_string();
    }
    // Differences of two i64 can exceed i64; saturate rather than wrap.
    let d = i64::try_from(diff).unwrap_or(if diff > 0 { i64::MAX } else { i64::MIN });
    let s = f(d);
    if diff > 0 {
        format!("+{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fen per yuan, to keep money literals readable.
    const Y: i64 = 100;

    #[test]
    fn unit_symbols_round_trip() {
        // Fen-counted money is written in 元 like Unit::Yuan; typed 元 is yuan.
        assert_eq!(Unit::Fen.symbol(), Unit::Yuan.symbol());
        for u in Unit::ALL.into_iter().filter(|u| *u != Unit::Fen) {
            assert_eq!(Unit::from_symbol(u.symbol()), Some(u), "{u:?}");
            assert!(!u.en().is_empty());
            assert_eq!(u.to_string(), u.symbol());
        }
        assert_eq!(Unit::from_symbol(" 人次 "), Some(Unit::PersonTime));
        assert_eq!(Unit::from_symbol("％"), Some(Unit::Percent));
        assert_eq!(Unit::from_symbol("平方米"), Some(Unit::SquareMetre));
        assert_eq!(Unit::from_symbol("斤"), None);
        assert_eq!(Unit::from_symbol(""), None);
        assert_eq!(Unit::WanYuan.en(), "10k yuan");
        let mut syms: Vec<_> = Unit::ALL
            .iter()
            .filter(|u| **u != Unit::Fen)
            .map(|u| u.symbol())
            .collect();
        syms.sort_unstable();
        syms.dedup();
        assert_eq!(syms.len(), Unit::ALL.len() - 1);
    }

    #[test]
    fn money_counted_in_fen() {
        assert_eq!(
            format_count(135_050, Unit::Fen, Rounding::Exact),
            "1350.50元"
        );
        assert_eq!(
            format_count(58_112_700 * Y, Unit::Fen, Rounding::WAN),
            "5811.27万元"
        );
        assert_eq!(format_count(0, Unit::Fen, Rounding::WAN), "0元");
    }

    #[test]
    fn exact_counts() {
        assert_eq!(format_count(3383, Unit::Ge, Rounding::Exact), "3383个");
        assert_eq!(
            format_count(386_057, Unit::Person, Rounding::Exact),
            "386057人"
        );
        assert_eq!(format_count(0, Unit::Household, Rounding::Exact), "0户");
        assert_eq!(format_count(-35, Unit::Person, Rounding::Exact), "-35人");
        assert_eq!(
            format_count(i64::MIN, Unit::Times, Rounding::Exact),
            "-9223372036854775808次"
        );
    }

    #[test]
    fn wan_counts() {
        let w = Rounding::WAN;
        assert_eq!(format_count(386_057, Unit::Person, w), "38.6万人");
        assert_eq!(format_count(230_000, Unit::PersonTime, w), "23万人次");
        assert_eq!(format_count(23_000, Unit::PersonTime, w), "2.3万人次");
        assert_eq!(format_count(9_999, Unit::Person, w), "9999人");
        assert_eq!(format_count(10_000, Unit::Person, w), "1万人");
        // half up at the boundary digit
        assert_eq!(format_count(12_350, Unit::Person, w), "1.2万人");
        assert_eq!(format_count(12_450, Unit::Person, w), "1.2万人");
        assert_eq!(format_count(12_500, Unit::Person, w), "1.3万人");
        assert_eq!(format_count(-386_057, Unit::Person, w), "-38.6万人");
        let w2 = Rounding::Wan { decimals: 2 };
        assert_eq!(format_count(386_057, Unit::Person, w2), "38.61万人");
        let w0 = Rounding::Wan { decimals: 0 };
        assert_eq!(format_count(386_057, Unit::Person, w0), "39万人");
        // promotion to 亿 when rounding reaches 10000万
        assert_eq!(format_count(99_999_999, Unit::Person, w), "1亿人");
        assert_eq!(format_count(99_940_000, Unit::Person, w), "9994万人");
        assert_eq!(format_count(650_000_000, Unit::Person, w), "6.5亿人");
        assert_eq!(
            format_count(1_234_000_000_000, Unit::Person, w),
            "1.2万亿人"
        );
        assert_eq!(format_count(i64::MAX, Unit::Person, w), "9223372万亿人");
        // decimals are clamped instead of overflowing
        let big = Rounding::Wan { decimals: 200 };
        assert_eq!(format_count(386_057, Unit::Person, big), "38.6057万人");
    }

    #[test]
    fn special_units() {
        assert_eq!(format_count(94, Unit::Percent, Rounding::WAN), "94%");
        assert_eq!(format_count(50_000, Unit::Percent, Rounding::YU), "50000%");
        assert_eq!(
            format_count(5811, Unit::WanYuan, Rounding::Exact),
            "5811万元"
        );
        assert_eq!(
            format_count(5811, Unit::WanYuan, Rounding::MONEY),
            "5811万元"
        );
        assert_eq!(
            format_count(65_000, Unit::WanYuan, Rounding::MONEY),
            "6.5亿元"
        );
        assert_eq!(format_count(0, Unit::WanYuan, Rounding::MONEY), "0万元");
        assert_eq!(format_count(125_000, Unit::Yuan, Rounding::WAN), "12.5万元");
        assert_eq!(
            format_count(125_000, Unit::SquareMetre, Rounding::WAN),
            "12.5万㎡"
        );
    }

    #[test]
    fn money() {
        let fen = 58_112_700 * Y;
        assert_eq!(format_money_fen(fen, Rounding::MONEY), "5811.27万元");
        assert_eq!(format_money_fen(fen, Rounding::Exact), "58112700元");
        assert_eq!(format_money_fen(1350 * Y, Rounding::MONEY), "1350元");
        assert_eq!(
            format_money_fen(1350 * Y + 50, Rounding::MONEY),
            "1350.50元"
        );
        assert_eq!(format_money_fen(1350 * Y + 5, Rounding::Exact), "1350.05元");
        assert_eq!(format_money_fen(5, Rounding::Exact), "0.05元");
        assert_eq!(format_money_fen(0, Rounding::MONEY), "0元");
        assert_eq!(
            format_money_fen(-(1350 * Y + 50), Rounding::MONEY),
            "-1350.50元"
        );
        assert_eq!(
            format_money_fen(650_000_000 * Y, Rounding::MONEY),
            "6.5亿元"
        );
        assert_eq!(format_money_fen(10_000 * Y, Rounding::MONEY), "1万元");
        assert_eq!(
            format_money_fen(9_999 * Y + 99, Rounding::MONEY),
            "9999.99元"
        );
        // 9999.995万元 rounds half up to 1亿
        assert_eq!(format_money_fen(99_999_950 * Y, Rounding::MONEY), "1亿元");
        assert_eq!(format_money_fen(12_345 * Y, Rounding::WAN), "1.2万元");
        assert_eq!(
            format_money_fen(i64::MIN, Rounding::MONEY),
            "-92233.72万亿元"
        );
    }

    #[test]
    fn money_approximate() {
        let fen = 58_112_700 * Y;
        assert_eq!(format_money_fen(fen, Rounding::YU), "5800余万元");
        assert_eq!(format_money_fen(fen, Rounding::DUO), "5000多万元");
        assert_eq!(
            format_money_fen(fen, Rounding::Duo { figures: 2 }),
            "5800多万元"
        );
        assert_eq!(format_money_fen(598_000_000 * Y, Rounding::JIN), "近6亿元");
        // a cut-off fraction of a yuan still earns 余
        assert_eq!(format_money_fen(5800 * Y + 50, Rounding::YU), "5800余元");
        assert_eq!(format_money_fen(5800 * Y, Rounding::YU), "5800元");
        assert_eq!(format_money_fen(99 * Y + 99, Rounding::JIN), "近百元");
        assert_eq!(format_money_fen(100 * Y, Rounding::JIN), "100元");
        assert_eq!(format_money_fen(100 * Y + 50, Rounding::JIN), "100余元");
    }

    #[test]
    fn yu() {
        let yu = Rounding::YU;
        assert_eq!(format_count(5823, Unit::Copy, yu), "5800余份");
        assert_eq!(format_count(5800, Unit::Copy, yu), "5800份");
        assert_eq!(format_count(386_057, Unit::Person, yu), "38万余人");
        assert_eq!(
            format_count(386_057, Unit::Person, Rounding::Yu { figures: 3 }),
            "38.6万余人"
        );
        assert_eq!(
            format_count(386_057, Unit::Person, Rounding::Yu { figures: 1 }),
            "30余万人"
        );
        assert_eq!(format_count(23, Unit::Person, yu), "23人");
        assert_eq!(format_count(123, Unit::Person, yu), "120余人");
        assert_eq!(format_count(0, Unit::Person, yu), "0人");
        assert_eq!(format_count(-5823, Unit::Copy, yu), "-5800余份");
        // figures 0 behaves as 1
        assert_eq!(
            format_count(5823, Unit::Copy, Rounding::Yu { figures: 0 }),
            "5000余份"
        );
        assert_eq!(format_count(123_456_789, Unit::Person, yu), "1.2亿余人");
    }

    #[test]
    fn duo() {
        let duo = Rounding::DUO;
        assert_eq!(format_count(567_890, Unit::Person, duo), "50多万人");
        assert_eq!(format_count(386_057, Unit::Person, duo), "30多万人");
        assert_eq!(format_count(23_000, Unit::Person, duo), "2万多人");
        assert_eq!(format_count(20_000, Unit::Person, duo), "2万人");
        assert_eq!(format_count(500_000, Unit::Person, duo), "50万人");
        assert_eq!(format_count(23, Unit::Person, duo), "20多人");
        assert_eq!(format_count(20, Unit::Person, duo), "20人");
        assert_eq!(format_count(7, Unit::Person, duo), "7人");
        assert_eq!(format_count(5823, Unit::Copy, duo), "5000多份");
        assert_eq!(
            format_count(5823, Unit::Copy, Rounding::Duo { figures: 2 }),
            "5800多份"
        );
        assert_eq!(
            format_count(3_856_000, Unit::Person, Rounding::Duo { figures: 2 }),
            "380多万人"
        );
    }

    #[test]
    fn jin() {
        let jin = Rounding::JIN;
        assert_eq!(format_count(97, Unit::Headcount, jin), "近百名");
        assert_eq!(format_count(980, Unit::Person, jin), "近千人");
        assert_eq!(format_count(9_600, Unit::Person, jin), "近万人");
        assert_eq!(format_count(5_960, Unit::Person, jin), "近6000人");
        assert_eq!(format_count(19_500, Unit::Person, jin), "近2万人");
        assert_eq!(format_count(100, Unit::Headcount, jin), "100名");
        assert_eq!(format_count(20_000, Unit::Person, jin), "2万人");
        // too far from the round figure: fall back to 余
        assert_eq!(format_count(510, Unit::Person, jin), "500余人");
        assert_eq!(
            format_count(5_960, Unit::Person, Rounding::Jin { figures: 2 }),
            "近6000人"
        );
        assert_eq!(
            format_count(5_860, Unit::Person, Rounding::Jin { figures: 2 }),
            "近5900人"
        );
    }

    #[test]
    fn approximation_words_only_on_request() {
        for n in [0, 7, 23, 5823, 386_057, 567_890, 99_999_999, 123_456_789] {
            for style in [Rounding::Exact, Rounding::WAN, Rounding::MONEY] {
                let s = format_count(n, Unit::Person, style);
                assert!(!s.contains(['余', '多', '近']), "{s}");
                let m = format_money_fen(n * 37, style);
                assert!(!m.contains(['余', '多', '近']), "{m}");
            }
        }
    }

    #[test]
    fn ratios() {
        assert_eq!(format_ratio(3187, 3383, 1), "94.2%");
        assert_eq!(format_ratio(5, 5, 1), "100%");
        assert_eq!(format_ratio(1, 3, 2), "33.33%");
        assert_eq!(format_ratio(2, 3, 1), "66.7%");
        assert_eq!(format_ratio(1, 8, 1), "12.5%");
        assert_eq!(format_ratio(1, 16, 1), "6.3%");
        assert_eq!(format_ratio(1, 0, 1), "—");
        assert_eq!(format_ratio(0, 0, 1), "—");
        assert_eq!(format_ratio(0, 7, 1), "0%");
        assert_eq!(format_ratio(-1, 8, 1), "-12.5%");
        assert_eq!(format_ratio(1, -8, 1), "-12.5%");
        assert_eq!(format_ratio(-1, 100_000, 1), "0%");
        assert_eq!(format_ratio(i64::MAX, 1, 0), "922337203685477580700%");
        assert_eq!(ratio_percent(1, 0), None);
        assert_eq!(ratio_percent(1, 4), Some(25.0));
    }

    #[test]
    fn changes() {
        assert_eq!(format_change(1125, 1000), "+12.5%");
        assert_eq!(format_change(970, 1000), "-3.0%");
        assert_eq!(format_change(1000, 1000), "持平");
        assert_eq!(format_change(0, 0), "持平");
        assert_eq!(format_change(5, 0), "—");
        assert_eq!(format_change(100_001, 100_000), "+0.0%");
        assert_eq!(format_change(2000, 1000), "+100.0%");
        assert_eq!(format_change(0, 1000), "-100.0%");
        // measured against |previous|: a deficit halving is an improvement
        assert_eq!(format_change(-50, -100), "+50.0%");
        assert_eq!(format_change_with(1125, 1000, 0), "+13%");
        assert_eq!(format_change_with(1, 3, 2), "-66.67%");
        assert_eq!(format_change_words(1125, 1000), "增长12.5%");
        assert_eq!(format_change_words(970, 1000), "下降3.0%");
        assert_eq!(format_change_words(7, 7), "持平");
        assert_eq!(format_change_words(7, 0), "—");
        assert_eq!(change_percent(1125, 1000), Some(12.5));
        assert_eq!(change_percent(1, 0), None);
        assert_eq!(format_change(i64::MAX, i64::MIN), "+200.0%");
    }

    #[test]
    fn diffs() {
        assert_eq!(
            format_diff(386_057, 384_857, Unit::Person, Rounding::Exact),
            "+1200人"
        );
        assert_eq!(format_diff(65, 100, Unit::Person, Rounding::Exact), "-35人");
        assert_eq!(format_diff(7, 7, Unit::Person, Rounding::Exact), "持平");
        assert_eq!(
            format_diff(50_000, 38_000, Unit::Person, Rounding::WAN),
            "+1.2万人"
        );
        assert_eq!(
            format_diff_money_fen(125_000 * Y, 0, Rounding::MONEY),
            "+12.5万元"
        );
        assert_eq!(format_diff_money_fen(0, 350 * Y, Rounding::MONEY), "-350元");
        assert_eq!(
            format_diff(i64::MAX, i64::MIN, Unit::Times, Rounding::Exact),
            "+9223372036854775807次"
        );
    }

    #[test]
    fn grouping_and_tables() {
        assert_eq!(format_plain_grouped(386_057), "386,057");
        assert_eq!(format_plain_grouped(0), "0");
        assert_eq!(format_plain_grouped(999), "999");
        assert_eq!(format_plain_grouped(1000), "1,000");
        assert_eq!(format_plain_grouped(-1_234_567), "-1,234,567");
        assert_eq!(format_plain_grouped(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(format_fen_table(58_112_700 * Y, true), "58,112,700.00");
        assert_eq!(format_fen_table(1350 * Y + 50, false), "1350.50");
        assert_eq!(format_fen_table(-5, false), "-0.05");
        assert_eq!(format_fen_table(0, true), "0.00");
    }

    #[test]
    fn floats_without_noise() {
        assert_eq!(format_decimal(2.675, 2), "2.68");
        assert_eq!(format_decimal(0.1 + 0.2, 2), "0.3");
        assert_eq!(format_decimal(94.25, 1), "94.3");
        assert_eq!(format_decimal(-94.25, 1), "-94.3");
        assert_eq!(format_decimal(-0.04, 1), "0");
        assert_eq!(format_decimal(3.0, 1), "3");
        assert_eq!(format_decimal(1e-7, 2), "0");
        assert_eq!(format_decimal(f64::NAN, 1), "—");
        assert_eq!(format_decimal(f64::INFINITY, 1), "—");
        assert_eq!(format_decimal(1e300, 0).len(), 301);
        assert_eq!(format_compact(386_057.0, 1), "38.6万");
        assert_eq!(format_compact(230_000.0, 1), "23万");
        assert_eq!(format_compact(-15_000.0, 1), "-1.5万");
        assert_eq!(format_compact(9_999.96, 1), "1万");
        assert_eq!(format_compact(-9_999.96, 1), "-1万");
        assert_eq!(format_compact(650_000_000.0, 1), "6.5亿");
        assert_eq!(format_compact(12.345, 2), "12.35");
        assert_eq!(format_compact(f64::NAN, 2), "—");
    }

    #[test]
    fn deterministic() {
        let a: Vec<String> = (0..2000)
            .map(|i| format_count(i * 7919, Unit::Person, Rounding::WAN))
            .collect();
        let b: Vec<String> = (0..2000)
            .map(|i| format_count(i * 7919, Unit::Person, Rounding::WAN))
            .collect();
        assert_eq!(a, b);
    }
}
