//! The roster's commands on the command line: `gonghui import members FILE`
//! and `gonghui gen members`, registered through the Module contract.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, FromArgMatches};
use platform::{
    module::{BoxFuture, CliCommand},
    web::AppState,
};

use crate::import;

#[derive(Args, Debug)]
struct ImportArgs {
    file: PathBuf,
    /// Union for rows that leave 所属工会编码 empty; also limits the import to that subtree
    #[arg(long)]
    org: Option<String>,
    /// Import nothing if any row is rejected (one transaction: on SQLite, other writes wait for the whole file)
    #[arg(long)]
    all_or_nothing: bool,
    /// Write rejected rows, with the reason, to this .xlsx
    #[arg(long)]
    rejects: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct GenArgs {
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// .csv or .xlsx
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Comma-separated union codes to spread members over (default: the demo's grassroots unions)
    #[arg(long)]
    orgs: Option<String>,
}

pub const COMMANDS: &[CliCommand] = &[
    CliCommand {
        verb: "import",
        command: || {
            ImportArgs::augment_args(
                clap::Command::new("members")
                    .about("Import a member roster (.xlsx, .xls, .csv in UTF-8 or GBK)"),
            )
        },
        run: run_import,
    },
    CliCommand {
        verb: "gen",
        command: || {
            GenArgs::augment_args(
                clap::Command::new("members")
                    .about("A realistic fictional roster (valid IDs over real region codes)"),
            )
        },
        run: run_gen,
    },
];

fn run_import<'a>(
    st: &'a AppState,
    m: &'a clap::ArgMatches,
) -> BoxFuture<'a, anyhow::Result<ExitCode>> {
    Box::pin(async move { import_members(st, ImportArgs::from_arg_matches(m)?).await })
}

fn run_gen<'a>(
    _st: &'a AppState,
    m: &'a clap::ArgMatches,
) -> BoxFuture<'a, anyhow::Result<ExitCode>> {
    Box::pin(async move {
        let a = GenArgs::from_arg_matches(m)?;
        let orgs: Vec<String> = match a.orgs {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => ::orgs::demo::grassroots_codes(),
        };
        crate::gen::write_file(&a.out, a.count, a.seed, orgs)?;
        println!("已生成 / generated {} rows: {}", a.count, a.out.display());
        Ok(ExitCode::SUCCESS)
    })
}

async fn import_members(state: &AppState, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let ImportArgs {
        file,
        org,
        all_or_nothing,
        rejects,
    } = args;
    let mut scope = platform::tree::system_scope(&state.db).await?;
    if let Some(code) = &org {
        let o = ::orgs::store::get_by_code(&state.db, &scope, code)
            .await
            .map_err(|_| anyhow::anyhow!("找不到组织编码 {code} / no org with code {code}"))?;
        scope = scope.narrow(o.id, &o.path)?;
    }
    let opts = import::Options {
        org_code: org.clone(),
        all_or_nothing,
        file_name: file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
    };
    let job = import::create_job(state, &scope, &opts).await?;
    let progress = state.jobs.start(job);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 行 rows {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let run = import::run(state, &scope, job, file, &opts, progress.clone());
    tokio::pin!(run);
    let report = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {
                let (total, done, _) = progress.snapshot();
                bar.set_length(total);
                bar.set_position(done);
            }
        }
    };
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("导入失败 / import failed: {}", e.user_message());
            println!("new=0 updated=0 unchanged=0 rejected=0");
            return Ok(ExitCode::FAILURE);
        }
    };
    for r in report.rejects.iter().take(20) {
        eprintln!(
            "第{}行 / row {}: {} / {}",
            r.line, r.line, r.reason.zh, r.reason.en
        );
    }
    if report.rejects.len() > 20 {
        eprintln!(
            "…… 另有{}行未导入 / {} more rejected rows",
            report.rejects.len() - 20,
            report.rejects.len() - 20
        );
    }
    if let Some(path) = rejects {
        if !report.rejects.is_empty() {
            std::fs::write(&path, import::rejects_xlsx(&report.rejects)?)?;
            eprintln!(
                "未导入的行已写入 / rejected rows written to {}",
                path.display()
            );
        }
    }
    if !report.committed {
        eprintln!(
            "全部导入模式:有{}行被拒绝,本次未导入任何数据 / all-or-nothing: nothing was imported",
            report.counts.rejected
        );
        println!("{}", report.counts);
        return Ok(ExitCode::FAILURE);
    }
    println!("{}", report.counts);
    Ok(ExitCode::SUCCESS)
}
