//! Writing a paragraph from its pattern and the figures: which paragraphs
//! appear (their indicators have records), which optional clauses stay (no
//! "0个"), how each figure is written (numfmt; 余/多/近 only where the
//! pattern asks; last year only where last year has data), and what each
//! written figure is bound to (its indicator, its exact value, its
//! drill-down). Pure: the figures come in as [`Values`].

use std::collections::BTreeMap;

use numfmt::{Rounding, Unit};
use platform::summary::{parse, Piece, Style};
use serde::{Deserialize, Serialize};

/// One indicator's figure for the org subtree: this period and last year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// A count (or fen), or for a ratio the numerator.
    pub value: i64,
    /// For a ratio, the denominator.
    pub of: Option<i64>,
    /// Last year's, when last year has data.
    pub previous: Option<i64>,
    pub previous_of: Option<i64>,
    /// numfmt's unit by name ("Person", "Ge", "Fen", "Percent").
    pub unit: String,
}

impl Value {
    /// Whether the figure has records: a non-zero count, a ratio with a
    /// non-zero numerator and denominator.
    pub fn present(&self) -> bool {
        match self.of {
            Some(d) => self.value != 0 && d != 0,
            None => self.value != 0,
        }
    }
}

/// The figures a paragraph may use, by indicator code.
pub type Values = BTreeMap<String, Value>;

/// What the context words stand for.
#[derive(Clone, Debug)]
pub struct Context {
    /// "全市", "全区" …
    pub whole_zh: String,
    pub whole_en: String,
    pub org_name: String,
    pub year: i32,
    /// The drill-down link of a figure, `{code}` replaced; None where the
    /// reader may not follow it (or the output has no links).
    pub drill: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

/// A piece of written text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Span {
    Text {
        text: String,
    },
    /// A figure bound to its indicator.
    Figure {
        code: String,
        text: String,
        /// The exact value behind a rounded or rate figure ("386057人").
        exact: String,
        /// Where its records are listed.
        link: Option<String>,
        /// Its value differs from the one the draft last showed.
        changed: bool,
    },
    /// Digits typed into the prose by hand: no record stands behind them.
    Untraceable {
        text: String,
    },
}

impl Span {
    pub fn plain(&self) -> &str {
        match self {
            Span::Text { text } | Span::Untraceable { text } => text,
            Span::Figure { text, .. } => text,
        }
    }
}

/// The written paragraph, as spans.
pub fn plain(spans: &[Span]) -> String {
    spans.iter().map(Span::plain).collect()
}

fn rounding(style: Style) -> Rounding {
    match style {
        Style::Wan => Rounding::Wan { decimals: 2 },
        Style::Yu => Rounding::YU,
        Style::Duo => Rounding::DUO,
        Style::Jin => Rounding::JIN,
        _ => Rounding::Exact,
    }
}

fn unit_of(v: &Value) -> Option<Unit> {
    Unit::ALL.into_iter().find(|u| unit_name(*u) == v.unit)
}

/// How a [`Value`] names its unit.
pub fn unit_name(u: Unit) -> String {
    format!("{u:?}")
}

fn count_text(n: i64, v: &Value, style: Rounding, lang: Lang) -> String {
    match (unit_of(v), lang) {
        (Some(u), Lang::Zh) => numfmt::format_count(n, u, style),
        // English prose names its own nouns: the figure is written in
        // full, grouped ("386,057"; money "¥5,811,270").
        (Some(Unit::Fen), Lang::En) => format!("¥{}", numfmt::format_fen_table(n, true)),
        (Some(Unit::Percent), Lang::En) => format!("{n}%"),
        (_, Lang::En) => numfmt::format_plain_grouped(n),
        (None, Lang::Zh) => format!("{n}{}", v.unit),
    }
}

/// The exact writing of a figure (shown behind a rounded one).
pub fn exact(v: &Value, lang: Lang) -> String {
    match v.of {
        Some(d) => format!(
            "{} ({}/{})",
            numfmt::format_ratio(v.value, d, 1),
            v.value,
            d
        ),
        None => count_text(v.value, v, Rounding::Exact, lang),
    }
}

/// A figure as the style writes it; None when it writes nothing (a
/// comparison with a year that has no data).
pub fn figure_text(v: &Value, style: Style, lang: Lang) -> Option<String> {
    if style == Style::Yoy {
        let (cur, prev) = match (v.of, v.previous_of) {
            // Ratios compare their percentages (in hundredths).
            (Some(d), Some(pd)) if d != 0 && pd != 0 => (
                v.value.saturating_mul(10_000) / d,
                v.previous?.saturating_mul(10_000) / pd,
            ),
            (Some(_), _) => return None,
            (None, _) => (v.value, v.previous?),
        };
        if prev == 0 {
            return None;
        }
        let words = numfmt::format_change_words(cur, prev);
        return Some(match lang {
            // Chinese reads it as a clause after the figure.
            Lang::Zh if cur == prev => ",与上年持平".to_string(),
            Lang::Zh => format!(",比上年{words}"),
            // English reads it as an aside after the figure.
            Lang::En if cur == prev => " (unchanged on last year)".to_string(),
            Lang::En => {
                let pct = words.trim_start_matches("增长").trim_start_matches("下降");
                let dir = if cur > prev { "up" } else { "down" };
                format!(" ({dir} {pct} on last year)")
            }
        });
    }
    Some(match v.of {
        Some(d) => {
            let pct = numfmt::format_ratio(v.value, d, 1);
            if style == Style::Parts {
                match lang {
                    Lang::Zh => format!("{pct}({d}中{})", v.value),
                    Lang::En => format!("{pct} ({} of {d})", v.value),
                }
            } else {
                pct
            }
        }
        None => count_text(v.value, v, rounding(style), lang),
    })
}

/// Whether a paragraph appears: every indicator it names has records.
pub fn appears(indicators: &[&str], values: &Values) -> bool {
    indicators
        .iter()
        .all(|c| values.get(*c).is_some_and(Value::present))
}

/// Writes a pattern (a module's, or a draft's edited text) with the
/// figures. `shown` holds the values the draft showed last time, to mark
/// the figures that changed. An unknown code in an edited text is written
/// as untraceable (the module's own patterns are checked at registration).
pub fn write(
    pattern: &str,
    values: &Values,
    ctx: &Context,
    lang: Lang,
    shown: Option<&Values>,
) -> Result<Vec<Span>, String> {
    let pieces = parse(pattern)?;
    let mut out = Vec::new();
    for piece in &pieces {
        match piece {
            Piece::Optional(inner) => {
                let keep = inner.iter().all(|p| match p {
                    Piece::Figure { code, style } => {
                        code.starts_with('@')
                            || *style == Style::Yoy
                            || values.get(code).is_some_and(Value::present)
                    }
                    _ => true,
                });
                if keep {
                    for p in inner {
                        one(p, values, ctx, lang, shown, &mut out);
                    }
                }
            }
            p => one(p, values, ctx, lang, shown, &mut out),
        }
    }
    Ok(merge_text(out))
}

fn one(
    piece: &Piece,
    values: &Values,
    ctx: &Context,
    lang: Lang,
    shown: Option<&Values>,
    out: &mut Vec<Span>,
) {
    match piece {
        Piece::Text(t) => split_digits(t, out),
        Piece::Optional(_) => unreachable!("one level of [...]"),
        Piece::Figure { code, style } => {
            if let Some(word) = code.strip_prefix('@') {
                let text = match (word, lang) {
                    ("whole", Lang::Zh) => ctx.whole_zh.clone(),
                    ("whole", Lang::En) => ctx.whole_en.clone(),
                    ("org", _) => ctx.org_name.clone(),
                    ("year", Lang::Zh) => format!("{}年", ctx.year),
                    ("year", Lang::En) => ctx.year.to_string(),
                    _ => String::new(),
                };
                out.push(Span::Text { text });
                return;
            }
            let Some(v) = values.get(code) else {
                out.push(Span::Untraceable {
                    text: format!("{{{code}}}"),
                });
                return;
            };
            let Some(text) = figure_text(v, *style, lang) else {
                return;
            };
            let changed = shown
                .and_then(|s| s.get(code))
                .is_some_and(|before| (before.value, before.of) != (v.value, v.of));
            out.push(Span::Figure {
                code: code.clone(),
                text,
                exact: exact(v, lang),
                link: ctx.drill.as_ref().map(|d| d.replace("{code}", code)),
                changed,
            });
        }
    }
}

/// Splits prose into text and the digits typed into it by hand.
fn split_digits(t: &str, out: &mut Vec<Span>) {
    let mut text = String::new();
    let mut digits = String::new();
    let is_digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    for c in t.chars() {
        let continues_number = !digits.is_empty() && (c == '.' || c == ',' || c == '%');
        if is_digit(c) || continues_number {
            if digits.is_empty() && !text.is_empty() {
                out.push(Span::Text {
                    text: std::mem::take(&mut text),
                });
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push(Span::Untraceable {
                    text: std::mem::take(&mut digits),
                });
            }
            text.push(c);
        }
    }
    if !digits.is_empty() {
        out.push(Span::Untraceable { text: digits });
    }
    if !text.is_empty() {
        out.push(Span::Text { text });
    }
}

fn merge_text(spans: Vec<Span>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match (out.last_mut(), s) {
            (Some(Span::Text { text: a }), Span::Text { text: b }) => a.push_str(&b),
            (_, Span::Text { text }) if text.is_empty() => {}
            (_, s) => out.push(s),
        }
    }
    out
}

/// "全市", "全区", "全县" from the org's name, as the seeds say it.
pub fn whole_of(org_name: &str, is_root: bool) -> (String, String) {
    let zh = if is_root && org_name.contains("市") {
        "全市"
    } else if org_name.contains("区") {
        "全区"
    } else if org_name.contains("县") {
        "全县"
    } else if org_name.contains("市") {
        "全市"
    } else {
        "本级及所属"
    };
    let en = match zh {
        "全市" => "Across the city",
        "全区" => "Across the district",
        "全县" => "Across the county",
        _ => "Across the union and its branches",
    };
    (zh.to_string(), en.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: i64, previous: Option<i64>, unit: &str) -> Value {
        Value {
            value,
            of: None,
            previous,
            previous_of: None,
            unit: unit.into(),
        }
    }

    fn ctx() -> Context {
        Context {
            whole_zh: "全市".into(),
            whole_en: "Across the city".into(),
            org_name: "示范市总工会".into(),
            year: 2026,
            drill: Some("/reports/drill?org=1&period=2026&code={code}".into()),
        }
    }

    fn values() -> Values {
        let mut m = Values::new();
        m.insert("orgs".into(), v(3383, Some(3012), "Ge"));
        m.insert("new".into(), v(0, Some(5), "Ge"));
        m.insert("members".into(), v(386_057, None, "Person"));
        m.insert("money".into(), v(581_127_000, Some(500_000_000), "Fen"));
        m.insert(
            "rate".into(),
            Value {
                value: 3240,
                of: Some(3857),
                previous: Some(3000),
                previous_of: Some(3857),
                unit: "Percent".into(),
            },
        );
        m
    }

    fn zh(p: &str) -> String {
        plain(&write(p, &values(), &ctx(), Lang::Zh, None).unwrap())
    }

    #[test]
    fn figures_go_through_numfmt_and_zero_clauses_drop() {
        assert_eq!(
            zh("{@whole}共有工会组织{orgs}[,其中新建{new}]{orgs:yoy}。"),
            "全市共有工会组织3383个,比上年增长12.3%。"
        );
        assert_eq!(zh("会员{members:wan}"), "会员38.61万人");
        assert_eq!(zh("会员{members:yu}"), "会员38万余人");
        assert_eq!(zh("发放{money:wan}"), "发放581.13万元");
        assert_eq!(zh("上网率{rate:parts}"), "上网率84%(3857中3240)");
        assert_eq!(zh("{@year}"), "2026年");
    }

    #[test]
    fn no_comparison_without_last_year() {
        assert_eq!(zh("会员{members}{members:yoy}。"), "会员386057人。");
        let mut vals = values();
        vals.get_mut("orgs").unwrap().previous = Some(3383);
        let s = plain(&write("{orgs:yoy}", &vals, &ctx(), Lang::Zh, None).unwrap());
        assert_eq!(s, ",与上年持平");
    }

    #[test]
    fn rounded_figures_keep_the_exact_value_and_their_drill_down() {
        let spans = write("{members:yu}", &values(), &ctx(), Lang::Zh, None).unwrap();
        match &spans[0] {
            Span::Figure {
                exact, link, text, ..
            } => {
                assert_eq!(text, "38万余人");
                assert_eq!(exact, "386057人");
                assert_eq!(
                    link.as_deref(),
                    Some("/reports/drill?org=1&period=2026&code=members")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hand_typed_numbers_are_untraceable_and_changes_are_marked() {
        let mut before = values();
        before.get_mut("members").unwrap().value = 380_000;
        let spans = write(
            "会员{members},另有12.5%的职工和３百人。",
            &values(),
            &ctx(),
            Lang::Zh,
            Some(&before),
        )
        .unwrap();
        let untraceable: Vec<&str> = spans
            .iter()
            .filter_map(|s| match s {
                Span::Untraceable { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(untraceable, ["12.5%", "３"]);
        assert!(spans
            .iter()
            .any(|s| matches!(s, Span::Figure { changed: true, code, .. } if code == "members")));
    }

    #[test]
    fn english_patterns_read_in_english() {
        let s = plain(
            &write(
                "{@whole}, {orgs} unions{orgs:yoy}; {money:wan}.",
                &values(),
                &ctx(),
                Lang::En,
                None,
            )
            .unwrap(),
        );
        assert_eq!(
            s,
            "Across the city, 3,383 unions (up 12.3% on last year); ¥5,811,270.00."
        );
    }

    #[test]
    fn a_paragraph_appears_only_with_records() {
        assert!(appears(&["orgs", "members"], &values()));
        assert!(!appears(&["orgs", "new"], &values()));
        assert!(!appears(&["nope"], &values()));
    }
}
