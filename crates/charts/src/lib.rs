//! Server-side SVG charts for the dashboard and exported work reports.
//!
//! Charts are rendered on the server as plain SVG strings so the very same
//! bytes can be inlined into a dashboard page, embedded in an exported report
//! and cached, without a JavaScript charting library or a headless browser.
//! That shapes the design:
//!
//! * Output is deterministic (no hash-ordered maps, no randomness, coordinates
//!   rounded to two decimals), so reports can be diffed and cached by content.
//! * Every piece of text goes through [`escape_xml`]: organisation names are
//!   user input and routinely contain `&`, `<`, quotes or stray control
//!   characters pasted from spreadsheets.
//! * The root element has a `viewBox` and `width="100%"` (no fixed height),
//!   so a chart scales down on a phone while keeping its aspect ratio.
//! * Text metrics are estimated (CJK glyphs as one em, Latin as ~0.6 em)
//!   because the server has no font rasteriser; long names are truncated with
//!   "…" and the full name is kept in a `<title>` tooltip.
//! * Numbers are labelled through [`numfmt`], so a chart says "38.6万"
//!   exactly like the narrative text next to it.
//! * Accessibility: `role="img"`, `aria-label` and a leading `<title>`; an
//!   empty data set renders an explicit "暂无数据 / No data" chart rather than
//!   an empty box that looks broken.

use std::f64::consts::PI;
use std::fmt::Write as _;

/// Fixed series palette (union red first); colours repeat after ten series.
pub const PALETTE: [&str; 10] = [
    "#c8102e", "#1f6fb2", "#f2a900", "#2e8b57", "#7b4fa0", "#00838f", "#e4711a", "#6d4c41",
    "#c2185b", "#546e7a",
];

/// Font stack with Chinese fonts first so servers, Windows and phones all
/// find a CJK face.
pub const FONT_FAMILY: &str =
    "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif";

/// Default text of the empty-data state.
pub const EMPTY_TEXT: &str = "暂无数据 / No data";

const TEXT: &str = "#333333";
const MUTED: &str = "#888888";
const GRID: &str = "#e6e6e6";
const AXIS: &str = "#999999";

/// One line of a line chart. `None` (or a non-finite value) is a gap, e.g. a
/// month whose statistics were not reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// One value per x label.
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series without gaps.
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Self {
        Series {
            name: name.into(),
            values: values.into_iter().map(Some).collect(),
        }
    }

    /// A series where `None` marks a missing value.
    pub fn with_gaps(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<f64>>,
    ) -> Self {
        Series {
            name: name.into(),
            values: values.into_iter().collect(),
        }
    }

    fn value(&self, i: usize) -> Option<f64> {
        self.values
            .get(i)
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
    }
}

/// Presentation options shared by all charts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOpts {
    /// viewBox width (the rendered width is always 100% of the container).
    pub width: u32,
    /// viewBox height; bar charts and narrow pies grow beyond it to fit rows.
    pub height: u32,
    /// Unit appended to value labels and shown as "单位:…" on axes.
    pub unit: String,
    /// Decimal places of value labels (trailing zeros are dropped).
    pub decimals: u8,
    /// Write labels ≥ 1万 as "38.6万" rather than "386057".
    pub compact: bool,
    /// Print values next to points, bars and in the pie legend.
    pub show_values: bool,
    /// Start the value axis at zero (honest default for totals); turn off for
    /// slowly moving series such as membership.
    pub zero_based: bool,
    /// Draw a ring instead of a full pie and show the total in the middle.
    pub donut: bool,
    /// Optional longer description, emitted as `<desc>`.
    pub description: Option<String>,
    /// Text of the empty-data state.
    pub empty_text: String,
}

impl Default for ChartOpts {
    fn default() -> Self {
        ChartOpts {
            width: 640,
            height: 360,
            unit: String::new(),
            decimals: 1,
            compact: true,
            show_values: true,
            zero_based: true,
            donut: false,
            description: None,
            empty_text: EMPTY_TEXT.to_string(),
        }
    }
}

impl ChartOpts {
    /// Defaults with a unit, e.g. `ChartOpts::with_unit("人")`.
    pub fn with_unit(unit: impl Into<String>) -> Self {
        ChartOpts {
            unit: unit.into(),
            ..ChartOpts::default()
        }
    }

    fn value_label(&self, v: f64) -> String {
        let n = if self.compact {
            numfmt::format_compact(v, self.decimals)
        } else {
            numfmt::format_decimal(v, self.decimals)
        };
        format!("{n}{}", self.unit)
    }

    fn tick_label(&self, v: f64) -> String {
        // Ticks are clean multiples of 1/2/5×10^n, so six trimmed decimals
        // print them exactly ("1.05万", "0.25").
        if self.compact {
            numfmt::format_compact(v, 6)
        } else {
            numfmt::format_decimal(v, 6)
        }
    }

    fn dims(&self) -> (f64, f64) {
        (
            f64::from(self.width.max(240)),
            f64::from(self.height.max(160)),
        )
    }
}

// ---------------------------------------------------------------------------
// text helpers

/// Escapes text for XML content and attribute values, and drops characters
/// XML 1.0 forbids (control characters other than tab/newline/CR, U+FFFE/F).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

fn char_width(c: char, size: f64) -> f64 {
    if is_wide(c) {
        size
    } else if c.is_ascii_uppercase() || c == 'm' || c == 'w' {
        size * 0.7
    } else {
        size * 0.58
    }
}

/// Estimated rendered width of `s` at font size `size`.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().map(|c| char_width(c, size)).sum()
}

/// Shortens `s` to fit `max` (adding "…"); the flag says it was shortened.
fn fit_text(s: &str, max: f64, size: f64) -> (String, bool) {
    if text_width(s, size) <= max {
        return (s.to_string(), false);
    }
    let budget = max - char_width('…', size);
    let mut used = 0.0;
    let mut out = String::new();
    for c in s.chars() {
        let w = char_width(c, size);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    (out, true)
}

/// Coordinate with at most two decimals, never "-0".
fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let mut s = format!("{:.2}", v);
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

/// `<text>` element; `tooltip` adds a `<title>` child with the full text.
#[allow(clippy::too_many_arguments)]
fn text(
    out: &mut String,
    x: f64,
    y: f64,
    anchor: &str,
    size: f64,
    fill: &str,
    content: &str,
    tooltip: Option<&str>,
) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{}" fill="{fill}">"#,
        n(x),
        n(y),
        n(size)
    );
    if let Some(t) = tooltip {
        let _ = write!(out, "<title>{}</title>", escape_xml(t));
    }
    let _ = write!(out, "{}</text>", escape_xml(content));
}

fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="1"/>"#,
        n(x1),
        n(y1),
        n(x2),
        n(y2)
    );
}

/// Root element, accessibility metadata, background and visible title.
/// Returns the y below the title.
fn open(out: &mut String, w: f64, h: f64, title: &str, opts: &ChartOpts) -> f64 {
    let t = escape_xml(title);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{t}" font-family="{FONT_FAMILY}" font-size="12">"#,
        n(w),
        n(h)
    );
    let _ = write!(out, "<title>{t}</title>");
    if let Some(d) = opts.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = write!(out, "<desc>{}</desc>", escape_xml(d));
    }
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        n(w),
        n(h)
    );
    if title.trim().is_empty() {
        return 12.0;
    }
    let (shown, cut) = fit_text(title, w - 24.0, 16.0);
    let _ = write!(
        out,
        r#"<text x="{}" y="26" text-anchor="middle" font-size="16" font-weight="bold" fill="{TEXT}">"#,
        n(w / 2.0)
    );
    if cut {
        let _ = write!(out, "<title>{t}</title>");
    }
    let _ = write!(out, "{}</text>", escape_xml(&shown));
    40.0
}

fn close(mut out: String) -> String {
    out.push_str("</svg>");
    out
}

fn empty_chart(title: &str, opts: &ChartOpts) -> String {
    let (w, h) = opts.dims();
    let mut out = String::new();
    let top = open(&mut out, w, h, title, opts);
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" font-size="14" fill="{MUTED}">{}</text>"#,
        n(w / 2.0),
        n((top + h) / 2.0),
        escape_xml(&opts.empty_text)
    );
    close(out)
}

// ---------------------------------------------------------------------------
// scales

/// "Nice" axis ticks covering `[min, max]`: evenly spaced multiples of
/// 1, 2 or 5 × 10^n, about `target` of them (at least two). Values are
/// computed from integers so they print without float noise (0.3, not
/// 0.30000000000000004). A degenerate range is widened to include zero (or
/// 0..1 when everything is zero).
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let (mut lo, mut hi) = if min.is_finite() && max.is_finite() {
        (min.min(max), min.max(max))
    } else {
        (0.0, 1.0)
    };
    if lo == hi {
        if lo == 0.0 {
            hi = 1.0;
        } else if lo > 0.0 {
            lo = 0.0;
        } else {
            hi = 0.0;
        }
    }
    let target = target.clamp(2, 20);
    let raw = (hi - lo) / (target - 1) as f64;
    let mut exp = raw.log10().floor() as i32;
    // Guard against log10 landing a hair off for exact powers of ten.
    if raw / pow10f(exp) >= 10.0 {
        exp += 1;
    } else if raw / pow10f(exp) < 1.0 {
        exp -= 1;
    }
    // Pick the 1/2/5 multiple nearest (geometrically) to the raw step, as
    // d3 does, so the tick count stays close to `target`.
    let frac = raw / pow10f(exp);
    let mult = if frac >= 50f64.sqrt() {
        exp += 1;
        1.0
    } else if frac >= 10f64.sqrt() {
        5.0
    } else if frac >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    let step = mult * pow10f(exp);
    let k0 = (lo / step + 1e-9).floor();
    let k1 = (hi / step - 1e-9).ceil();
    let mut ticks = Vec::new();
    let mut k = k0;
    while k <= k1 && ticks.len() <= 64 {
        let units = k * mult;
        let v = if exp >= 0 {
            units * pow10f(exp)
        } else {
            units / pow10f(-exp)
        };
        ticks.push(if v == 0.0 { 0.0 } else { v });
        k += 1.0;
    }
    ticks
}

fn pow10f(e: i32) -> f64 {
    10f64.powi(e)
}

/// Linear map from data to pixels over the tick range.
struct Scale {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn at(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 {
            return self.p0;
        }
        self.p0 + (v - self.d0) / span * (self.p1 - self.p0)
    }
}

fn domain(values: impl Iterator<Item = f64>, zero_based: bool) -> Option<(f64, f64)> {
    let mut range: Option<(f64, f64)> = None;
    for v in values.filter(|v| v.is_finite()) {
        range = Some(match range {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    let (a, b) = range?;
    Some(if zero_based {
        (a.min(0.0), b.max(0.0))
    } else {
        (a, b)
    })
}

fn unit_caption(out: &mut String, x: f64, y: f64, opts: &ChartOpts) {
    if !opts.unit.is_empty() {
        text(
            out,
            x,
            y,
            "start",
            11.0,
            MUTED,
            &format!("单位:{}", opts.unit),
            None,
        );
    }
}

/// Horizontal legend that wraps; returns the height used.
fn legend(out: &mut String, names: &[&str], x0: f64, y0: f64, w: f64) -> f64 {
    let mut x = x0;
    let mut y = y0;
    for (i, name) in names.iter().enumerate() {
        let (shown, cut) = fit_text(name, w * 0.45, 12.0);
        let item = 18.0 + text_width(&shown, 12.0) + 16.0;
        if x > x0 && x + item > x0 + w {
            x = x0;
            y += 18.0;
        }
        let color = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="12" height="4" rx="1" fill="{color}"/>"#,
            n(x),
            n(y - 6.0)
        );
        text(
            out,
            x + 16.0,
            y,
            "start",
            12.0,
            TEXT,
            &shown,
            cut.then_some(*name),
        );
        x += item;
    }
    y - y0 + 18.0
}

// ---------------------------------------------------------------------------
// charts

/// Trend over categories (usually months), one line per series. Lines break
/// at gaps; points carry tooltips; with one short series every point is
/// labelled, otherwise only each series' last value, to stay legible on a
/// phone.
pub fn line_chart(title: &str, series: &[Series], x_labels: &[String], opts: &ChartOpts) -> String {
    let count = series
        .iter()
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0)
        .max(x_labels.len());
    let all = series
        .iter()
        .flat_map(|s| (0..s.values.len()).filter_map(move |i| s.value(i)));
    let Some((dmin, dmax)) = domain(all, opts.zero_based) else {
        return empty_chart(title, opts);
    };
    let (w, h) = opts.dims();
    let mut out = String::new();
    let mut top = open(&mut out, w, h, title, opts);
    if series.len() > 1 {
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        top += legend(&mut out, &names, 16.0, top + 4.0, w - 32.0) + 2.0;
    }
    if !opts.unit.is_empty() {
        unit_caption(&mut out, 8.0, top + 6.0, opts);
        top += 12.0;
    }

    let ticks = nice_ticks(dmin, dmax, ((h - top) / 50.0).clamp(3.0, 8.0) as usize);
    let tick_labels: Vec<String> = ticks.iter().map(|t| opts.tick_label(*t)).collect();
    let label_w = tick_labels
        .iter()
        .map(|l| text_width(l, 11.0))
        .fold(0.0, f64::max);
    let left = (label_w + 14.0).max(32.0);
    let right = w - 16.0;
    let bottom = h - 28.0;
    let plot_top = top + 14.0;
    let y = Scale {
        d0: ticks[0],
        d1: ticks[ticks.len() - 1],
        p0: bottom,
        p1: plot_top,
    };
    let band = (right - left) / count as f64;
    let x_at = |i: usize| left + band * (i as f64 + 0.5);

    out.push_str("<g>");
    for (t, l) in ticks.iter().zip(&tick_labels) {
        let py = y.at(*t);
        line(
            &mut out,
            left,
            py,
            right,
            py,
            if *t == 0.0 { AXIS } else { GRID },
        );
        text(&mut out, left - 6.0, py + 4.0, "end", 11.0, MUTED, l, None);
    }
    let max_xw = x_labels
        .iter()
        .map(|l| text_width(l, 11.0))
        .fold(0.0, f64::max)
        + 8.0;
    let every = (max_xw / band).ceil().max(1.0) as usize;
    for (i, l) in x_labels.iter().enumerate() {
        if i % every == 0 {
            let (shown, cut) = fit_text(l, band * every as f64 - 4.0, 11.0);
            text(
                &mut out,
                x_at(i),
                bottom + 16.0,
                "middle",
                11.0,
                MUTED,
                &shown,
                cut.then_some(l.as_str()),
            );
        }
    }
    out.push_str("</g>");

    let label_all = series.len() == 1 && count <= 16;
    for (si, s) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let mut d = String::new();
        let mut pen_down = false;
        for i in 0..count {
            match s.value(i) {
                Some(v) => {
                    let _ = write!(
                        d,
                        " {} {} {}",
                        if pen_down { "L" } else { "M" },
                        n(x_at(i)),
                        n(y.at(v))
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        out.push_str("<g>");
        if !d.is_empty() {
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#,
                d.trim_start()
            );
        }
        let last = (0..count).rev().find(|i| s.value(*i).is_some());
        for i in 0..count {
            let Some(v) = s.value(i) else { continue };
            let (px, py) = (x_at(i), y.at(v));
            let label = opts.value_label(v);
            let xl = x_labels.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(
                out,
                r##"<circle cx="{}" cy="{}" r="3" fill="#ffffff" stroke="{color}" stroke-width="2"><title>{}</title></circle>"##,
                n(px),
                n(py),
                escape_xml(&format!("{} {xl}: {label}", s.name).replace("  ", " "))
            );
            if opts.show_values && (label_all || Some(i) == last) {
                let half = text_width(&label, 11.0) / 2.0;
                let lx = px.clamp(half + 2.0, w - half - 2.0);
                text(&mut out, lx, py - 8.0, "middle", 11.0, TEXT, &label, None);
            }
        }
        out.push_str("</g>");
    }
    close(out)
}

/// Horizontal bars, one per category, in the given order — suited to long
/// Chinese organisation names, which get a left label column (truncated with
/// a tooltip). The chart grows in height with the number of categories;
/// non-finite values are skipped.
pub fn bar_chart(title: &str, categories: &[(String, f64)], opts: &ChartOpts) -> String {
    let rows: Vec<&(String, f64)> = categories.iter().filter(|(_, v)| v.is_finite()).collect();
    let Some((dmin, dmax)) = domain(rows.iter().map(|(_, v)| *v), true) else {
        return empty_chart(title, opts);
    };
    let (w, _) = opts.dims();
    let row_h = 28.0;
    // Header height is known before drawing: title + optional unit caption.
    let head = if title.trim().is_empty() { 12.0 } else { 40.0 }
        + if opts.unit.is_empty() { 0.0 } else { 14.0 };
    let h = head + 8.0 + rows.len() as f64 * row_h + 30.0;
    let mut out = String::new();
    let top = open(&mut out, w, h, title, opts);
    unit_caption(&mut out, 8.0, top + 6.0, opts);
    let plot_top = head + 8.0;
    let plot_bottom = plot_top + rows.len() as f64 * row_h;

    let names_w = rows
        .iter()
        .map(|(name, _)| text_width(name, 12.0))
        .fold(0.0, f64::max);
    let label_col = (names_w + 12.0).min(w * 0.38);
    let labels: Vec<String> = rows.iter().map(|(_, v)| opts.value_label(*v)).collect();
    let value_w = if opts.show_values {
        labels
            .iter()
            .map(|l| text_width(l, 11.0))
            .fold(0.0, f64::max)
            + 8.0
    } else {
        0.0
    };
    let left = label_col + 4.0;
    let right = w - 12.0 - value_w;
    let target = ((right - left) / 70.0).clamp(2.0, 8.0) as usize;
    let ticks = nice_ticks(dmin, dmax, target);
    let x = Scale {
        d0: ticks[0],
        d1: ticks[ticks.len() - 1],
        p0: left,
        p1: right,
    };

    out.push_str("<g>");
    for t in &ticks {
        let px = x.at(*t);
        line(
            &mut out,
            px,
            plot_top,
            px,
            plot_bottom,
            if *t == 0.0 { AXIS } else { GRID },
        );
        text(
            &mut out,
            px,
            plot_bottom + 16.0,
            "middle",
            11.0,
            MUTED,
            &opts.tick_label(*t),
            None,
        );
    }
    out.push_str("</g>");

    let zero = x.at(0.0);
    let color = PALETTE[0];
    for (i, ((name, v), label)) in rows.iter().zip(&labels).enumerate() {
        let cy = plot_top + row_h * (i as f64 + 0.5);
        let (shown, cut) = fit_text(name, label_col - 12.0, 12.0);
        out.push_str("<g>");
        text(
            &mut out,
            label_col,
            cy + 4.0,
            "end",
            12.0,
            TEXT,
            &shown,
            cut.then_some(name.as_str()),
        );
        let px = x.at(*v);
        let (x0, x1) = if px >= zero { (zero, px) } else { (px, zero) };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="18" rx="2" fill="{color}"><title>{}</title></rect>"#,
            n(x0),
            n(cy - 9.0),
            n(x1 - x0),
            escape_xml(&format!("{name}: {label}"))
        );
        if opts.show_values {
            let (lx, anchor) = if *v >= 0.0 {
                (x1 + 4.0, "start")
            } else {
                (x0 - 4.0, "end")
            };
            text(&mut out, lx, cy + 4.0, anchor, 11.0, TEXT, label, None);
        }
        out.push_str("</g>");
    }
    close(out)
}

/// Share of a whole by category (pie, or ring when `opts.donut`). Slices
/// keep the caller's order, start at twelve o'clock and run clockwise; zero,
/// negative and non-finite slices cannot be drawn as a share and are left
/// out. The legend sits right of the pie, or below it on narrow charts.
pub fn pie_or_donut(title: &str, slices: &[(String, f64)], opts: &ChartOpts) -> String {
    let parts: Vec<&(String, f64)> = slices
        .iter()
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .collect();
    let total: f64 = parts.iter().map(|(_, v)| v).sum();
    if parts.is_empty() || !total.is_finite() || total <= 0.0 {
        return empty_chart(title, opts);
    }
    let (w, h0) = opts.dims();
    let head = if title.trim().is_empty() { 12.0 } else { 40.0 };
    let legend_row = 20.0;
    let legend_h = parts.len() as f64 * legend_row;
    let narrow = w < 480.0;
    let (h, r, cx, cy, lx, ly) = if narrow {
        let r = ((w - 32.0) / 2.0).min(120.0);
        let h = (head + 2.0 * r + 24.0 + legend_h + 8.0).max(h0);
        (h, r, w / 2.0, head + r + 8.0, 16.0, head + 2.0 * r + 32.0)
    } else {
        let h = h0.max(head + legend_h + 24.0);
        let r = ((h0 - head - 24.0) / 2.0).min(w * 0.28);
        let cy = head + 8.0 + r;
        let ly = (head + (h - head) / 2.0 - legend_h / 2.0 + 14.0).max(head + 14.0);
        (h, r, 24.0 + r, cy, 24.0 + 2.0 * r + 32.0, ly)
    };
    let r_in = if opts.donut { r * 0.6 } else { 0.0 };
    let mut out = String::new();
    open(&mut out, w, h, title, opts);

    let pct_label = |v: f64| format!("{}%", numfmt::format_decimal(v / total * 100.0, 1));
    let point = |radius: f64, a: f64| (cx + radius * a.cos(), cy + radius * a.sin());

    out.push_str("<g>");
    let mut a0 = -PI / 2.0;
    for (i, (name, v)) in parts.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let frac = v / total;
        let a1 = a0 + frac * 2.0 * PI;
        let tip = escape_xml(&format!(
            "{name}: {} ({})",
            opts.value_label(*v),
            pct_label(*v)
        ));
        if frac >= 0.999_999 {
            if opts.donut {
                let _ = write!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="{}" fill="none" stroke="{color}" stroke-width="{}"><title>{tip}</title></circle>"#,
                    n(cx),
                    n(cy),
                    n((r + r_in) / 2.0),
                    n(r - r_in)
                );
            } else {
                let _ = write!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="{}" fill="{color}"><title>{tip}</title></circle>"#,
                    n(cx),
                    n(cy),
                    n(r)
                );
            }
        } else {
            let large = if a1 - a0 > PI { 1 } else { 0 };
            let (ox0, oy0) = point(r, a0);
            let (ox1, oy1) = point(r, a1);
            let d = if opts.donut {
                let (ix1, iy1) = point(r_in, a1);
                let (ix0, iy0) = point(r_in, a0);
                format!(
                    "M {} {} A {} {} 0 {large} 1 {} {} L {} {} A {} {} 0 {large} 0 {} {} Z",
                    n(ox0),
                    n(oy0),
                    n(r),
                    n(r),
                    n(ox1),
                    n(oy1),
                    n(ix1),
                    n(iy1),
                    n(r_in),
                    n(r_in),
                    n(ix0),
                    n(iy0)
                )
            } else {
                format!(
                    "M {} {} L {} {} A {} {} 0 {large} 1 {} {} Z",
                    n(cx),
                    n(cy),
                    n(ox0),
                    n(oy0),
                    n(r),
                    n(r),
                    n(ox1),
                    n(oy1)
                )
            };
            let _ = write!(
                out,
                r##"<path d="{d}" fill="{color}" stroke="#ffffff" stroke-width="1"><title>{tip}</title></path>"##
            );
        }
        if opts.show_values && frac >= 0.05 {
            let mid = if frac >= 0.999_999 {
                PI / 2.0
            } else {
                (a0 + a1) / 2.0
            };
            let lr = if opts.donut {
                (r + r_in) / 2.0
            } else {
                r * 0.65
            };
            let (tx, ty) = point(lr, mid);
            text(
                &mut out,
                tx,
                ty + 4.0,
                "middle",
                11.0,
                "#ffffff",
                &pct_label(*v),
                None,
            );
        }
        a0 = a1;
    }
    if opts.donut {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="16" font-weight="bold" fill="{TEXT}">{}</text>"#,
            n(cx),
            n(cy + 2.0),
            escape_xml(&opts.value_label(total))
        );
        text(&mut out, cx, cy + 20.0, "middle", 11.0, MUTED, "合计", None);
    }
    out.push_str("</g>");

    out.push_str("<g>");
    let avail = w - lx - 12.0;
    for (i, (name, v)) in parts.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = ly + i as f64 * legend_row;
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{color}"/>"#,
            n(lx),
            n(y - 10.0)
        );
        let suffix = if opts.show_values {
            format!("{} {}", opts.value_label(*v), pct_label(*v))
        } else {
            pct_label(*v)
        };
        let suffix_w = text_width(&suffix, 12.0);
        let (shown, cut) = fit_text(name, (avail - 18.0 - suffix_w - 12.0).max(36.0), 12.0);
        text(
            &mut out,
            lx + 18.0,
            y,
            "start",
            12.0,
            TEXT,
            &shown,
            cut.then_some(name.as_str()),
        );
        text(&mut out, w - 12.0, y, "end", 12.0, MUTED, &suffix, None);
    }
    out.push_str("</g>");
    close(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimal well-formedness check: balanced, properly nested tags,
    /// quoted attributes, no raw `<` or stray `&` in text, a single root.
    fn check_xml(s: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                check_text(rest)?;
                if !rest.trim().is_empty() && stack.is_empty() {
                    return Err("text outside root".into());
                }
                break;
            };
            check_text(&rest[..lt])?;
            let gt = rest[lt..].find('>').ok_or("unterminated tag")? + lt;
            let tag = &rest[lt + 1..gt];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or(format!("unexpected </{name}>"))?;
                if open != name.trim() {
                    return Err(format!("</{name}> closes <{open}>"));
                }
            } else {
                let self_closing = tag.ends_with('/');
                let body = tag.trim_end_matches('/');
                let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
                let name = &body[..name_end];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("bad tag name {name:?}"));
                }
                check_attrs(&body[name_end..])?;
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name.to_string());
                }
            }
            rest = &rest[gt + 1..];
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(())
    }

    fn check_text(t: &str) -> Result<(), String> {
        if t.contains('>') {
            return Err(format!("raw > in {t:?}"));
        }
        let mut rest = t;
        while let Some(i) = rest.find('&') {
            let after = &rest[i + 1..];
            let ok = ["amp;", "lt;", "gt;", "quot;", "apos;"]
                .iter()
                .any(|e| after.starts_with(e));
            if !ok {
                return Err(format!("stray & in {t:?}"));
            }
            rest = after;
        }
        if t.chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err("control character".into());
        }
        Ok(())
    }

    fn check_attrs(mut a: &str) -> Result<(), String> {
        loop {
            a = a.trim_start();
            if a.is_empty() {
                return Ok(());
            }
            let eq = a.find('=').ok_or(format!("attribute without value: {a}"))?;
            let name = &a[..eq];
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("bad attribute name {name:?}"));
            }
            let v = &a[eq + 1..];
            if !v.starts_with('"') {
                return Err(format!("unquoted attribute {name}"));
            }
            let end = v[1..].find('"').ok_or("unterminated attribute")? + 1;
            let value = &v[1..end];
            if value.contains('<') {
                return Err(format!("< in attribute {name}"));
            }
            check_text(value)?;
            a = &v[end + 1..];
        }
    }

    fn months() -> Vec<String> {
        (1..=12).map(|m| format!("{m}月")).collect()
    }

    fn sample_charts() -> Vec<String> {
        let series = vec![
            Series::new("会员人数", [380_000.0, 381_500.0, 383_000.0, 386_057.0]),
            Series::with_gaps(
                "新入会 & <转入>",
                [Some(1200.0), None, Some(900.0), Some(1500.0)],
            ),
        ];
        let opts = ChartOpts::with_unit("人");
        let bars = vec![
            ("市总工会机关 & 直属单位".to_string(), 3383.0),
            (
                "某某区教育系统工会联合会(含民办学校)<试点>".to_string(),
                1520.5,
            ),
            ("\"引号\" 'apos' 工会".to_string(), -12.0),
        ];
        let donut = ChartOpts {
            donut: true,
            ..ChartOpts::with_unit("万元")
        };
        vec![
            line_chart("2024年会员发展趋势", &series, &months()[..4], &opts),
            bar_chart("各基层工会会员数", &bars, &opts),
            pie_or_donut("救助金构成 <&>", &bars, &donut),
            pie_or_donut("救助金构成", &bars, &ChartOpts::default()),
            pie_or_donut(
                "窄屏",
                &bars,
                &ChartOpts {
                    width: 320,
                    ..ChartOpts::default()
                },
            ),
            empty_chart("空", &ChartOpts::default()),
        ]
    }

    #[test]
    fn checker_rejects_broken_xml() {
        assert!(check_xml("<svg><g></svg>").is_err());
        assert!(check_xml("<svg>a & b</svg>").is_err());
        assert!(check_xml("<svg x=1/>").is_err());
        assert!(check_xml("<svg/><svg/>").is_err());
        assert!(check_xml(r#"<svg a="&lt;"><g/>x &amp; y</svg>"#).is_ok());
    }

    #[test]
    fn charts_are_well_formed() {
        for svg in sample_charts() {
            check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
            assert!(svg.contains(r#"width="100%""#));
            assert!(svg.contains(r#"role="img""#));
            assert!(svg.contains("Noto Sans CJK SC"));
            assert!(svg.contains("Microsoft YaHei"));
            assert!(svg.contains("<title>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
            assert!(!svg.contains("-0 ") && !svg.contains("\"-0\""));
        }
    }

    #[test]
    fn text_is_escaped() {
        let charts = sample_charts();
        let all = charts.join("\n");
        assert!(all.contains("新入会 &amp; &lt;转入&gt;"));
        assert!(all.contains("市总工会机关 &amp; 直属单位"));
        assert!(all.contains("救助金构成 &lt;&amp;&gt;"));
        assert!(all.contains("&quot;引号&quot; &apos;apos&apos;"));
        assert!(!all.contains("<转入>"));
        assert_eq!(escape_xml("a\u{1}b\u{FFFF}\tc"), "ab\tc");
        assert_eq!(escape_xml("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
    }

    #[test]
    fn long_names_are_truncated_with_tooltip() {
        let long = "某某市某某区某某街道某某社区联合工会委员会第一分会".to_string();
        let svg = bar_chart("t", &[(long.clone(), 5.0)], &ChartOpts::default());
        assert!(svg.contains('…'));
        assert!(svg.contains(&format!("<title>{long}</title>")));
        check_xml(&svg).unwrap();
    }

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 386_057.0, 5), [0.0, 1e5, 2e5, 3e5, 4e5]);
        assert_eq!(nice_ticks(0.0, 10.0, 6), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.0, 0.3, 4), [0.0, 0.1, 0.2, 0.3]);
        assert_eq!(nice_ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(-12.0, 3383.0, 5),
            [-1000.0, 0.0, 1000.0, 2000.0, 3000.0, 4000.0]
        );
        assert_eq!(nice_ticks(0.0, 0.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(7.0, 7.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(-7.0, -7.0, 3), [-10.0, -5.0, 0.0]);
        assert_eq!(nice_ticks(f64::NAN, 1.0, 3), [0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(100.0, 0.0, 3), [0.0, 50.0, 100.0]);
        for (lo, hi) in [
            (0.0, 1e-6),
            (3.0, 97.0),
            (-5e9, 5e9),
            (0.0, 123_456.0),
            (380_000.0, 386_057.0),
        ] {
            for target in [2, 5, 8] {
                let t = nice_ticks(lo, hi, target);
                assert!(t.len() >= 2, "{lo}..{hi}");
                assert!(
                    t[0] <= lo && *t.last().unwrap() >= hi,
                    "{t:?} vs {lo}..{hi}"
                );
                let step = t[1] - t[0];
                let exp = step.log10().floor();
                let lead = (step / 10f64.powf(exp)).round();
                assert!([1.0, 2.0, 5.0, 10.0].contains(&lead), "step {step}");
                for tick in &t {
                    // printed without float noise
                    let s = tick.to_string();
                    assert!(s.len() < 16, "{s}");
                }
            }
        }
    }

    #[test]
    fn tick_labels_use_wan() {
        let svg = bar_chart(
            "t",
            &[("a".to_string(), 386_057.0), ("b".to_string(), 15_000.0)],
            &ChartOpts::default(),
        );
        assert!(svg.contains(">10万<"), "{svg}");
        assert!(svg.contains(">38.6万<"));
        assert!(svg.contains(">1.5万<"));
    }

    #[test]
    fn empty_state() {
        let opts = ChartOpts::default();
        let cases = [
            line_chart("趋势", &[], &months(), &opts),
            line_chart(
                "趋势",
                &[Series::with_gaps("a", [None, Some(f64::NAN)])],
                &months(),
                &opts,
            ),
            bar_chart("分布", &[], &opts),
            bar_chart("分布", &[("x".to_string(), f64::INFINITY)], &opts),
            pie_or_donut("构成", &[], &opts),
            pie_or_donut(
                "构成",
                &[("x".to_string(), 0.0), ("y".to_string(), -3.0)],
                &opts,
            ),
        ];
        for svg in cases {
            check_xml(&svg).unwrap();
            assert!(svg.contains(EMPTY_TEXT), "{svg}");
            assert!(!svg.contains("<path") && !svg.contains("<circle"));
        }
        let custom = ChartOpts {
            empty_text: "No <data>".into(),
            ..ChartOpts::default()
        };
        assert!(bar_chart("", &[], &custom).contains("No &lt;data&gt;"));
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(sample_charts(), sample_charts());
    }

    #[test]
    fn line_chart_details() {
        let s = Series::with_gaps("会员", [Some(10.0), None, Some(30.0), Some(40.0)]);
        let svg = line_chart("t", &[s], &months()[..4], &ChartOpts::with_unit("人"));
        // gap splits the path into two sub-paths
        assert_eq!(
            svg.matches(" M ").count() + usize::from(svg.contains("d=\"M ")),
            2
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains(">40人<") && svg.contains(">10人<"));
        assert!(svg.contains("单位:人"));
        // many points: only the last value is labelled
        let many = Series::new("x", (1..=24).map(f64::from));
        let labels: Vec<String> = (1..=24).map(|i| format!("{i}月")).collect();
        let svg = line_chart("t", &[many], &labels, &ChartOpts::default());
        assert!(svg.contains(">24<") && !svg.contains(">23<"));
        check_xml(&svg).unwrap();
    }

    #[test]
    fn pie_details() {
        let slices = vec![("困难帮扶".to_string(), 3.0), ("金秋助学".to_string(), 1.0)];
        let svg = pie_or_donut("t", &slices, &ChartOpts::default());
        assert_eq!(svg.matches("<path").count(), 2);
        assert!(svg.contains(">75%<") && svg.contains(">25%<"));
        let one = pie_or_donut("t", &slices[..1], &ChartOpts::default());
        assert!(one.contains("<circle") && !one.contains("<path"));
        assert!(one.contains(">100%<"));
        let donut = pie_or_donut(
            "t",
            &slices,
            &ChartOpts {
                donut: true,
                ..ChartOpts::default()
            },
        );
        assert!(donut.contains("合计") && donut.contains(">4<"));
    }
}
