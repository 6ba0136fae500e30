//! A written summary as Markdown and as .docx (Word, WPS, LibreOffice):
//! headings, the federation's title and date, the prose with its figures,
//! and a chart drawn by our SVG charts and rasterised with resvg.

use docx_rs::{AlignmentType, Docx, Paragraph as DocPara, Pic, Run, RunFonts, Style, StyleType};

use crate::{
    draft::Written,
    render::{Span, Values},
};

/// Markdown: figures as links to their drill-downs where the page has them.
pub fn markdown(w: &Written, date: &str) -> String {
    let mut out = format!("# {}\n\n{date}\n", w.title);
    for s in &w.sections {
        out.push_str(&format!("\n## {}\n", s.title));
        for p in &s.paragraphs {
            out.push('\n');
            for sp in &p.spans {
                match sp {
                    Span::Figure {
                        text,
                        link: Some(l),
                        ..
                    } => out.push_str(&format!("[{text}]({l})")),
                    other => out.push_str(other.plain()),
                }
            }
            out.push('\n');
        }
    }
    if !w.untraceable.is_empty() {
        out.push_str(&format!(
            "\n> 以下数字为手工录入,无记录可追溯 / typed by hand, not traceable: {}\n",
            w.untraceable.join(", ")
        ));
    }
    out
}

/// The composition figures of the roster as a bar chart (PNG), when the
/// draft has them.
pub fn chart_png(figures: &Values) -> Option<Png> {
    let parts = [
        ("members_women", "女性会员"),
        ("members_migrant", "农民工会员"),
        ("members_new_employment", "新就业形态会员"),
        ("members_joined", "新增会员"),
    ];
    let cats: Vec<(String, f64)> = parts
        .iter()
        .filter_map(|(code, label)| {
            figures
                .get(*code)
                .filter(|v| v.value > 0)
                .map(|v| (label.to_string(), v.value as f64))
        })
        .collect();
    if cats.is_empty() {
        return None;
    }
    let opts = charts::ChartOpts {
        width: 640,
        height: 240,
        unit: "人".into(),
        ..Default::default()
    };
    let svg = charts::bar_chart("会员构成", &cats, &opts);
    rasterise(&svg, 2.0)
}

/// A PNG with its size in pixels.
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// SVG → PNG at `scale`, with the system's fonts (CJK included).
pub fn rasterise(svg: &str, scale: f32) -> Option<Png> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    opt.font_family = "Noto Sans CJK SC".into();
    let tree = resvg::usvg::Tree::from_str(svg, &opt).ok()?;
    let size = tree.size().to_int_size().scale_by(scale)?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Some(Png {
        bytes: pixmap.encode_png().ok()?,
        width: pixmap.width(),
        height: pixmap.height(),
    })
}

const CJK: &str = "SimSun";

fn run(text: &str) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia(CJK).ascii("Times New Roman"))
}

/// The .docx: 标题, date, 一级标题 per section, body paragraphs (first-line
/// indent of two characters, as Chinese reports are set), the chart.
pub fn docx(w: &Written, date: &str, chart: Option<&Png>) -> anyhow::Result<Vec<u8>> {
    let mut doc = Docx::new()
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .size(44)
                .bold()
                .align(AlignmentType::Center),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .size(32)
                .bold(),
        )
        .add_paragraph(DocPara::new().style("Title").add_run(run(&w.title)))
        .add_paragraph(
            DocPara::new()
                .align(AlignmentType::Center)
                .add_run(run(date)),
        );
    let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    for (i, s) in w.sections.iter().enumerate() {
        let n = numerals.get(i).copied().unwrap_or("");
        doc = doc.add_paragraph(
            DocPara::new()
                .style("Heading1")
                .add_run(run(&format!("{n}、{}", s.title))),
        );
        for p in &s.paragraphs {
            let mut para = DocPara::new().indent(
                None,
                Some(docx_rs::SpecialIndentType::FirstLine(480)),
                None,
                None,
            );
            for sp in &p.spans {
                para = para.add_run(run(sp.plain()));
            }
            doc = doc.add_paragraph(para);
        }
    }
    if let Some(png) = chart {
        // 15 cm wide; the height follows the picture.
        let pic = Pic::new_with_dimensions(png.bytes.clone(), png.width, png.height);
        let w_emu = 5_400_000u32;
        let h_emu = (u64::from(w_emu) * u64::from(png.height) / u64::from(png.width.max(1))) as u32;
        doc = doc.add_paragraph(
            DocPara::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_image(pic.size(w_emu, h_emu))),
        );
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut buf)?;
    Ok(buf.into_inner())
}
