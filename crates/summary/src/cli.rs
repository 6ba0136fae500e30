//! `gonghui report summary --org CODE --year YYYY --out FILE.docx|.md|.html`:
//! generates a draft version of the org's summary (as the page does) and
//! writes it out.

use std::path::PathBuf;

use crate::{
    draft::{self, Draft},
    http::file,
    render::{Lang, Span},
};
use platform::web::AppState;

#[derive(clap::Args, Debug)]
struct SummaryArgs {
    /// Org code of the subtree's root
    #[arg(long)]
    org: String,
    #[arg(long)]
    year: i32,
    /// Output file: .docx, .md or .html
    #[arg(long)]
    out: PathBuf,
    /// en for the English text
    #[arg(long, default_value = "zh")]
    lang: String,
}

fn html_file(d: &Draft, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let w = draft::write(d, lang, false)?;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>{0}</title><h1>{0}</h1>\n",
        esc(&w.title)
    );
    for s in &w.sections {
        out.push_str(&format!("<h2>{}</h2>\n", esc(&s.title)));
        for p in &s.paragraphs {
            out.push_str("<p>");
            for sp in &p.spans {
                match sp {
                    Span::Figure {
                        text, exact, code, ..
                    } => out.push_str(&format!(
                        "<span class=\"figure\" title=\"{} = {}\">{}</span>",
                        esc(code),
                        esc(exact),
                        esc(text)
                    )),
                    Span::Untraceable { text } => {
                        out.push_str(&format!("<mark>{}</mark>", esc(text)))
                    }
                    Span::Text { text } => out.push_str(&esc(text)),
                }
            }
            out.push_str("</p>\n");
        }
    }
    Ok(out.into_bytes())
}

async fn run(st: &AppState, a: SummaryArgs) -> anyhow::Result<()> {
    let system = platform::tree::system_scope(&st.db).await?;
    let org: Option<(i64, String)> = sqlx::query_as("SELECT id, path FROM orgs WHERE code = $1")
        .bind(&a.org)
        .fetch_optional(st.db.pool())
        .await?;
    let (org_id, path) =
        org.ok_or_else(|| anyhow::anyhow!("找不到组织编码 {0} / no org with code {0}", a.org))?;
    let scope = system.narrow(platform::ids::OrgId(org_id), &path)?;
    let lang = if a.lang == "en" { Lang::En } else { Lang::Zh };
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !["docx", "md", "html"].contains(&ext.as_str()) {
        anyhow::bail!(
            "--out 须以 .docx、.md 或 .html 结尾 / --out must end in .docx, .md or .html"
        );
    }
    let id = draft::generate(st, &scope, platform::ids::OrgId(org_id), a.year).await?;
    let d = draft::load(st, &scope, id).await?;
    let bytes = match ext.as_str() {
        "html" => html_file(&d, lang)?,
        other => file(&d, other, lang).await?.0,
    };
    std::fs::write(&a.out, bytes)?;
    eprintln!(
        "已生成第{}版草稿并写入 / draft version {} written: {}",
        d.version,
        d.version,
        a.out.display()
    );
    Ok(())
}

pub const COMMANDS: &[platform::module::CliCommand] =
    &[platform::module::CliCommand {
        verb: "report",
        command: || {
            use clap::Args;
            SummaryArgs::augment_args(clap::Command::new("summary").about(
                "The annual work summary of an org subtree for a year (.docx, .md or .html)",
            ))
        },
        run: |st, m| {
            Box::pin(async move {
                use clap::FromArgMatches;
                run(st, SummaryArgs::from_arg_matches(m)?).await?;
                Ok(std::process::ExitCode::SUCCESS)
            })
        },
    }];
