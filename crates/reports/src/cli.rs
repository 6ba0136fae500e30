//! `gonghui report indicators --org CODE --year YYYY [--format json|xlsx] [--out FILE]`:
//! the same figures table as the web, for the operator on the server.

use std::path::PathBuf;

use super::{export, figures, period::Period, yearly_return};
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

#[derive(clap::Args, Debug)]
struct ReturnArgs {
    /// Org code of the subtree's root
    #[arg(long)]
    org: String,
    /// Start of the reference period (default: 1 October last year)
    #[arg(long)]
    from: Option<String>,
    /// End of the reference period (default: 30 September this year)
    #[arg(long)]
    to: Option<String>,
    /// The .xlsx to write
    #[arg(long)]
    out: PathBuf,
}

/// `gonghui report return --org SF --from 2025-10-01 --to 2026-09-30 --out FILE.xlsx`:
/// the yearly statistical return, with its 逻辑检查; exit code 0 when every
/// check passes, 2 when some fail (the file is written either way).
pub async fn write_return(
    state: &AppState,
    org_code: &str,
    from: Option<&str>,
    to: Option<&str>,
    out: &std::path::Path,
) -> anyhow::Result<std::process::ExitCode> {
    let period = yearly_return::period_from(from, to)
        .map_err(|e| anyhow::anyhow!("{}", e.user_message()))?;
    let system = platform::tree::system_scope(&state.db).await?;
    let org = orgs::get_by_code(&state.db, &system, org_code)
        .await
        .map_err(|_| anyhow::anyhow!("找不到组织编码 {org_code} / no org with code {org_code}"))?;
    let scope = system.narrow(org.id, &org.path)?;
    let r = yearly_return::build(
        &state.db,
        &scope,
        &state.registry.yearly_return(),
        org.id,
        period,
    )
    .await?;
    std::fs::write(out, yearly_return::xlsx(&r)?)?;
    eprintln!("已写入 / written: {}", out.display());
    if r.failures.is_empty() {
        println!("逻辑检查通过 / all checks passed");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        for f in &r.failures {
            println!("{} {}: {} ({})", f.org_code, f.org_name, f.rule, f.detail);
        }
        println!(
            "逻辑检查{}处不通过 / {} checks failed",
            r.failures.len(),
            r.failures.len()
        );
        Ok(std::process::ExitCode::from(2))
    }
}

/// `gonghui report indicators --org SF-01 --year 2026 [--format json|xlsx] [--out FILE]`,
/// `gonghui report return --org SF [--from …] [--to …] --out FILE.xlsx`
pub const COMMANDS: &[platform::module::CliCommand] = &[
    platform::module::CliCommand {
        verb: "report",
        command: || {
            use clap::Args;
            IndicatorArgs::augment_args(
                clap::Command::new("indicators")
                    .about("Every indicator for an org subtree and a year"),
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
    },
    platform::module::CliCommand {
        verb: "report",
        command: || {
            use clap::Args;
            ReturnArgs::augment_args(clap::Command::new("return").about(
            "The yearly statistical return (统计年报) for an org subtree and reference period, as xlsx",
        ))
        },
        run: |st, m| {
            Box::pin(async move {
                use clap::FromArgMatches;
                let a = ReturnArgs::from_arg_matches(m)?;
                write_return(st, &a.org, a.from.as_deref(), a.to.as_deref(), &a.out).await
            })
        },
    },
];
