//! The org module's commands: `gonghui import workforce FILE`, registered
//! through the Module contract.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, FromArgMatches};
use platform::{
    module::{BoxFuture, CliCommand},
    web::AppState,
};

use crate::workforce;

/// The largest workforce file accepted (a city's unions fit in far less).
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

#[derive(Args, Debug)]
struct ImportArgs {
    /// .xlsx, .xls or .csv (UTF-8 or GBK): 组织编码, 截至日期, 职工人数, 女职工人数, 农民工人数
    file: PathBuf,
    /// Limit the import to this org's subtree
    #[arg(long)]
    org: Option<String>,
}

pub const COMMANDS: &[CliCommand] = &[CliCommand {
    verb: "import",
    command: || {
        ImportArgs::augment_args(
            clap::Command::new("workforce")
                .about("Import 职工人数 (workforce, women, 农民工) as of dates; all or nothing"),
        )
    },
    run: run_import,
}];

fn run_import<'a>(
    st: &'a AppState,
    m: &'a clap::ArgMatches,
) -> BoxFuture<'a, anyhow::Result<ExitCode>> {
    Box::pin(async move {
        let a = ImportArgs::from_arg_matches(m)?;
        let mut scope = platform::tree::system_scope(&st.db).await?;
        if let Some(code) = &a.org {
            let o = crate::store::get_by_code(&st.db, &scope, code)
                .await
                .map_err(|_| anyhow::anyhow!("找不到组织编码 {code} / no org with code {code}"))?;
            scope = scope.narrow(o.id, &o.path)?;
        }
        // The size is checked before the file is read into memory.
        let len = std::fs::metadata(&a.file)?.len();
        if len > MAX_FILE_BYTES {
            eprintln!(
                "文件过大({len}字节,上限{MAX_FILE_BYTES}字节) / file too large ({len} bytes, limit {MAX_FILE_BYTES})"
            );
            return Ok(ExitCode::FAILURE);
        }
        let bytes = std::fs::read(&a.file)?;
        let name = a
            .file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        let report = match workforce::import(&st.db, &scope, &bytes, &name).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("导入失败 / import failed: {}", e.user_message());
                return Ok(ExitCode::FAILURE);
            }
        };
        for r in report.rejects.iter().take(50) {
            eprintln!(
                "第{}行 / row {}: {} / {}",
                r.line, r.line, r.reason, r.reason_en
            );
        }
        if !report.committed {
            eprintln!(
                "有{}行被拒绝,本次未导入任何数据 / {} rows refused: nothing was imported",
                report.rejects.len(),
                report.rejects.len()
            );
            println!("{report}");
            return Ok(ExitCode::FAILURE);
        }
        println!("{report}");
        Ok(ExitCode::SUCCESS)
    })
}
