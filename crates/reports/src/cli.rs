//! `gonghui report indicators --org CODE --year YYYY [--format json|xlsx] [--out FILE]`:
//! the same figures table as the web, for the operator on the server.

use std::path::PathBuf;

use super::{export, figures, period::Period};
use {::orgs::store as orgs, platform::web::AppState};

/// The JSON the CLI prints: one object per indicator.
pub fn json(t: &figures::FigureTable) -> serde_json::Value {
    let list: Vec<serde_json::Value> = t
        .figures()
        .map(|f| {
            serde_json::json!({
                "code": f.code, "name": f.name, "name_en": f.name_en, "unit": f.unit, "kind": f.kind,
                "section": t.sections.iter().find(|s| s.figures.iter().any(|x| x.code == f.code)).map(|s| s.key),
                "value": f.value, "display": f.display, "previous": f.previous, "change": f.change,
                "numerator": f.numerator, "denominator": f.denominator, "manual": f.manual,
                "org": t.org.code, "period": t.period.spec,
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

pub async fn indicators(
    state: &AppState,
    org_code: &str,
    year: i32,
    format: &str,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let system = platform::tree::system_scope(&state.db).await?;
    let org = orgs::get_by_code(&state.db, &system, org_code)
        .await
        .map_err(|_| anyhow::anyhow!("找不到组织编码 {org_code} / no org with code {org_code}"))?;
    let scope = system.narrow(org.id, &org.path)?;
    let t = figures::table(&state.db, &scope, org.id, Period::year(year)?).await?;
    let bytes = match format {
        "json" => {
            let mut s = serde_json::to_string_pretty(&json(&t))?;
            s.push('\n');
            s.into_bytes()
        }
        "xlsx" => export::xlsx(&t)?,
        other => anyhow::bail!(
            "格式须为 json 或 xlsx(收到 {other}) / --format must be json or xlsx (got {other})"
        ),
    };
    match out {
        Some(path) => {
            std::fs::write(&path, &bytes)?;
            eprintln!("已写入 / written: {}", path.display());
        }
        None if format == "xlsx" => {
            anyhow::bail!("xlsx 格式须用 --out 指定输出文件 / --format xlsx needs --out FILE")
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
struct IndicatorArgs {
    /// Org code of the subtree's root
    #[arg(long)]
    org: String,
    #[arg(long)]
    year: i32,
    /// json | xlsx
    #[arg(long, default_value = "json")]
    format: String,
    /// Output file (stdout for JSON if omitted)
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `gonghui report indicators --org SF-01 --year 2026 [--format json|xlsx] [--out FILE]`
pub const COMMANDS: &[platform::module::CliCommand] = &[platform::module::CliCommand {
    verb: "report",
    command: || {
        use clap::Args;
        IndicatorArgs::augment_args(
            clap::Command::new("indicators").about("Every indicator for an org subtree and a year"),
        )
    },
    run: |st, m| {
        Box::pin(async move {
            use clap::FromArgMatches;
            let a = IndicatorArgs::from_arg_matches(m)?;
            indicators(st, &a.org, a.year, &a.format, a.out).await?;
            Ok(std::process::ExitCode::SUCCESS)
        })
    },
}];
