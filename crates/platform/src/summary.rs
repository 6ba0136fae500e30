//! The hook for the annual work summary (工作综述): a module declares the
//! paragraphs that report its work, over its own indicators, the way it
//! declares the indicators themselves. The generator that writes a draft from
//! them (choosing which paragraphs have records, comparing with last year,
//! rounding through numfmt, keeping every figure bound to its indicator) is
//! the summary issue's; this is the contract it reads.

/// The summary's default sections, in the seeds' order and words. A
/// federation may rename, reorder and add its own.
pub const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "ideology",
        "思想政治引领",
        "Political and ideological guidance",
    ),
    ("achievement", "建功立业", "Work achievements"),
    ("rights", "维权服务", "Rights and services"),
    ("assistance", "帮扶救助", "Hardship assistance"),
    (
        "organisation",
        "基层组织建设",
        "Building grassroots organisations",
    ),
    ("digital", "智慧工会", "Digital union"),
    ("self", "自身建设", "The federation's own work"),
];

/// One paragraph of the summary, as its module writes it.
#[derive(Clone, Copy, Debug)]
pub struct Paragraph {
    /// Stable key (module-prefixed): drafts keep their edits under it.
    pub key: &'static str,
    /// One of [`SECTIONS`] (or a federation's own).
    pub section: &'static str,
    /// The indicators its sentences use; the paragraph appears only when
    /// they have records for the org subtree and period.
    pub indicators: &'static [&'static str],
    /// The sentence patterns (see [`parse`]): `{code}` stands for an
    /// indicator's figure, `{code:style}` chooses how it is written, `[…]`
    /// is a clause written only when its figures are non-zero.
    pub zh: &'static str,
    pub en: &'static str,
}

/// Words of the context a pattern may use besides figures: `{@whole}` is
/// the org's whole ("全市", "全区", "全县" by its name; "whole city" …),
/// `{@org}` its name, `{@year}` the year ("2026年").
pub const CONTEXT: &[&str] = &["@whole", "@org", "@year"];

/// How one figure of a pattern is written. `{code}` is exact; `{code:wan}`
/// uses 万/亿; `{code:yu}`, `{code:duo}`, `{code:jin}` round with 余/多/近
/// (the exact value stays bound behind it); `{code:parts}` writes a ratio
/// with its numerator and denominator; `{code:yoy}` is the comparison with
/// last year ("比上年增长12.3%"), written only where last year has data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Exact,
    Wan,
    Yu,
    Duo,
    Jin,
    Parts,
    Yoy,
}

impl Style {
    fn parse(s: &str) -> Option<Style> {
        Some(match s {
            "" => Style::Exact,
            "wan" => Style::Wan,
            "yu" => Style::Yu,
            "duo" => Style::Duo,
            "jin" => Style::Jin,
            "parts" => Style::Parts,
            "yoy" => Style::Yoy,
            _ => return None,
        })
    }
}

/// A parsed sentence pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Figure {
        code: String,
        style: Style,
    },
    /// `[…]`: written only when every figure inside has a non-zero value —
    /// so no sentence says "0个".
    Optional(Vec<Piece>),
}

/// Parse a pattern: text, `{code[:style]}` and one level of `[…]`.
/// Literal brackets and braces are written doubled (`[[`, `}}`).
pub fn parse(pattern: &str) -> Result<Vec<Piece>, String> {
    let mut out: Vec<Piece> = Vec::new();
    let mut inner: Option<Vec<Piece>> = None;
    let mut text = String::new();
    let mut chars = pattern.chars().peekable();
    fn flush(text: &mut String, into: &mut Vec<Piece>) {
        if !text.is_empty() {
            into.push(Piece::Text(std::mem::take(text)));
        }
    }
    while let Some(c) = chars.next() {
        let doubled = matches!(c, '[' | ']' | '{' | '}') && chars.peek() == Some(&c);
        if doubled {
            chars.next();
            text.push(c);
            continue;
        }
        match c {
            '{' => {
                let mut body = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => body.push(ch),
                        None => return Err(format!("unclosed {{ in {pattern:?}")),
                    }
                }
                let (code, style) = body.split_once(':').unwrap_or((body.as_str(), ""));
                let style = Style::parse(style.trim())
                    .ok_or_else(|| format!("unknown style {style:?} in {pattern:?}"))?;
                let code = code.trim();
                let word = code.strip_prefix('@').unwrap_or(code);
                if word.is_empty()
                    || !word
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
                    || (code.starts_with('@') && !CONTEXT.contains(&code))
                {
                    return Err(format!("bad indicator code {code:?} in {pattern:?}"));
                }
                let into = inner.as_mut().unwrap_or(&mut out);
                flush(&mut text, into);
                into.push(Piece::Figure {
                    code: code.to_string(),
                    style,
                });
            }
            '[' => {
                if inner.is_some() {
                    return Err(format!("nested [ in {pattern:?}"));
                }
                flush(&mut text, &mut out);
                inner = Some(Vec::new());
            }
            ']' => {
                let Some(mut pieces) = inner.take() else {
                    return Err(format!("] without [ in {pattern:?}"));
                };
                flush(&mut text, &mut pieces);
                out.push(Piece::Optional(pieces));
            }
            '}' => return Err(format!("}} without {{ in {pattern:?}")),
            c => text.push(c),
        }
    }
    if inner.is_some() {
        return Err(format!("unclosed [ in {pattern:?}"));
    }
    flush(&mut text, &mut out);
    Ok(out)
}

/// Every figure of a parsed pattern, with whether it is inside `[…]`.
pub fn figures(pieces: &[Piece]) -> Vec<(&str, Style, bool)> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Text(_) => {}
            Piece::Figure { code, style } => out.push((code.as_str(), *style, false)),
            Piece::Optional(inner) => {
                for q in inner {
                    if let Piece::Figure { code, style } = q {
                        out.push((code.as_str(), *style, true));
                    }
                }
            }
        }
    }
    out
}

impl Paragraph {
    /// Check the paragraph against the registered indicators: both patterns
    /// parse, name only known indicators, name the same ones, and a figure
    /// outside `[…]` is one of `indicators` (which must be non-zero for the
    /// paragraph to appear), so a written figure is never a zero. `ratio`
    /// says whether a code is a ratio indicator (`:parts` needs one).
    /// The registry calls this when modules register, so a bad pattern
    /// stops the server at start, not a federation at year end.
    pub fn check(
        &self,
        known: impl Fn(&str) -> bool,
        ratio: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let key = self.key;
        if self.indicators.is_empty() {
            return Err(format!("summary paragraph {key}: names no indicator"));
        }
        for code in self.indicators {
            if !known(code) {
                return Err(format!("summary paragraph {key}: no indicator {code}"));
            }
        }
        let mut sets = Vec::new();
        for pattern in [self.zh, self.en] {
            let pieces = parse(pattern).map_err(|e| format!("summary paragraph {key}: {e}"))?;
            let mut codes = Vec::new();
            for (code, style, optional) in figures(&pieces) {
                if code.starts_with('@') {
                    continue;
                }
                if !known(code) {
                    return Err(format!("summary paragraph {key}: no indicator {code}"));
                }
                if !optional && style != Style::Yoy && !self.indicators.contains(&code) {
                    return Err(format!(
                        "summary paragraph {key}: {{{code}}} may be zero; list it in `indicators` or put it inside [...]"
                    ));
                }
                if style == Style::Parts && !ratio(code) {
                    return Err(format!(
                        "summary paragraph {key}: {{{code}:parts}} needs a ratio indicator"
                    ));
                }
                codes.push(code.to_string());
            }
            codes.sort();
            codes.dedup();
            sets.push(codes);
        }
        if sets[0] != sets[1] {
            return Err(format!(
                "summary paragraph {key}: the Chinese and English patterns name different indicators"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_keys_are_unique() {
        let mut keys: Vec<&str> = SECTIONS.iter().map(|s| s.0).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SECTIONS.len());
    }

    #[test]
    fn patterns_parse_into_text_figures_and_optional_clauses() {
        let p = parse("共有工会组织{orgs_total}个[,其中新建{orgs_new}个]{members:yoy}。[[注]]")
            .unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Text("共有工会组织".into()),
                Piece::Figure {
                    code: "orgs_total".into(),
                    style: Style::Exact
                },
                Piece::Text("个".into()),
                Piece::Optional(vec![
                    Piece::Text(",其中新建".into()),
                    Piece::Figure {
                        code: "orgs_new".into(),
                        style: Style::Exact
                    },
                    Piece::Text("个".into()),
                ]),
                Piece::Figure {
                    code: "members".into(),
                    style: Style::Yoy
                },
                Piece::Text("。[注]".into()),
            ]
        );
    }

    #[test]
    fn malformed_patterns_are_refused() {
        assert!(parse("{@whole}{@year}{@org}").is_ok());
        for bad in [
            "{@nope}",
            "{@}",
            "{a",
            "a}",
            "[a",
            "a]",
            "[[a]",
            "[x[{a}]]",
            "{a:round}",
            "{}",
            "{a b}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    fn para(indicators: &'static [&'static str], zh: &'static str, en: &'static str) -> Paragraph {
        Paragraph {
            key: "t.p",
            section: "organisation",
            indicators,
            zh,
            en,
        }
    }

    #[test]
    fn check_refuses_unknown_zeroable_and_mismatched_figures() {
        let known = |c: &str| ["a", "b", "r"].contains(&c);
        let ratio = |c: &str| c == "r";
        assert!(
            para(&["a"], "{a}个[,新增{b}个]{a:yoy}", "{a}[, {b} new]{a:yoy}")
                .check(known, ratio)
                .is_ok()
        );
        assert!(para(&["zz"], "{zz}", "{zz}")
            .check(known, ratio)
            .unwrap_err()
            .contains("no indicator zz"));
        assert!(para(&["a"], "{a}{q}", "{a}{q}")
            .check(known, ratio)
            .unwrap_err()
            .contains("no indicator q"));
        assert!(para(&["a"], "{a}{b}", "{a}{b}")
            .check(known, ratio)
            .unwrap_err()
            .contains("may be zero"));
        assert!(para(&["a"], "{a}", "{a}[{b}]")
            .check(known, ratio)
            .unwrap_err()
            .contains("different"));
        assert!(para(&["a"], "{a:parts}", "{a:parts}")
            .check(known, ratio)
            .unwrap_err()
            .contains("ratio"));
        assert!(para(&["r"], "{r:parts}", "{r:parts}")
            .check(known, ratio)
            .is_ok());
        assert!(para(&[], "x", "x").check(known, ratio).is_err());
    }
}
