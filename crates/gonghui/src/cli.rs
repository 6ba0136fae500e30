//! The `gonghui` command line. Each subcommand opens the platform from the
//! layered config and calls the same service functions as the web.

use std::{io::BufRead, net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

use {
    orgs::store as orgs,
    platform::{
        self, audit,
        auth::{self, NewUser, Password, Username},
        config::{Config, Overrides},
        ids::OrgId,
        scope::{Actor, Role},
        web::AppState,
    },
};

#[derive(Parser, Debug)]
#[command(
    name = "gonghui",
    version,
    about = "智慧工会 Gonghui — trade-union federation platform"
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Args, Debug, Clone)]
struct GlobalOpts {
    /// Data directory (SQLite database, keys, uploads). Default ./gonghui-data
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// postgres://user:pass@host/db to use PostgreSQL instead of SQLite
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// TOML configuration file
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web application
    Serve {
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Create (or refresh) the demo dataset, then serve it
    Demo {
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Only load the data, do not serve
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply database migrations
    Migrate,
    /// Manage staff accounts
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Consistent online copy of the database
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// The audit log
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// The org tree
    Org {
        #[command(subcommand)]
        cmd: OrgCmd,
    },
    /// Import data from a spreadsheet
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Generate test data
    Gen {
        #[command(subcommand)]
        what: GenWhat,
    },
    /// Statistics
    Report {
        #[command(subcommand)]
        cmd: ReportCmd,
    },
}

#[derive(Subcommand, Debug)]
enum ImportWhat {
    /// Import a member roster (.xlsx, .xls, .csv in UTF-8 or GBK)
    Members {
        file: PathBuf,
        /// Union for rows that leave 所属工会编码 empty; also limits the import to that subtree
        #[arg(long)]
        org: Option<String>,
        /// Import nothing if any row is rejected
        #[arg(long)]
        all_or_nothing: bool,
        /// Write rejected rows, with the reason, to this .xlsx
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum GenWhat {
    /// A realistic fictional roster (valid IDs over real region codes)
    Members {
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
    },
}

#[derive(Subcommand, Debug)]
enum ReportCmd {
    /// Every indicator for an org subtree and a year
    Indicators {
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
    },
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Add a staff account; the password is read from GONGHUI_PASSWORD or stdin
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// admin | staff | auditor
        #[arg(long, default_value = "staff")]
        role: String,
        /// Org code the account belongs to
        #[arg(long)]
        org: String,
        /// Allow unmasked ID/phone display
        #[arg(long)]
        unmask: bool,
    },
    /// Set a password (GONGHUI_PASSWORD or stdin); clears a lockout
    Passwd {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Recompute the hash chain; exit 1 and name the entry if tampered
    Verify,
}

#[derive(Subcommand, Debug)]
enum OrgCmd {
    /// List every org (code, name, level, parent)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create the city federation at the root of a new instance
    Init {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.cmd {
        Command::Serve { listen } | Command::Demo { listen, .. } => *listen,
        _ => None,
    };
    let over = Overrides {
        config_file: cli.global.config.clone(),
        data_dir: cli.global.data_dir.clone(),
        listen,
        database_url: cli.global.database_url.clone(),
    };
    let cfg = Config::load(&over)?;
    init_tracing(&cfg);
    tracing::debug!(config = ?cfg, "configuration");
    let state = platform::open(cfg, crate::modules::registry()).await?;
    match cli.cmd {
        Command::Migrate => {
            println!("数据库已是最新 / migrations applied");
        }
        Command::Serve { .. } => serve(state.clone(), None).await?,
        Command::Demo { no_serve, .. } => {
            let logins = crate::demo::seed(&state).await?;
            if !no_serve {
                serve(state.clone(), Some(logins)).await?;
            } else {
                print_logins(&logins);
            }
        }
        Command::Backup { to } => {
            state.db.backup(&to).await?;
            println!("备份完成 / backup written: {}", to.display());
        }
        Command::Audit {
            cmd: AuditCmd::Verify,
        } => {
            let r = audit::verify(&state.db).await?;
            if r.problems.is_empty() {
                println!(
                    "审计链完整 / audit chain intact: {} entries verified",
                    r.checked
                );
            } else {
                for p in &r.problems {
                    println!("{p}");
                }
                println!(
                    "审计链校验失败 / audit chain verification FAILED ({} problems)",
                    r.problems.len()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Org {
            cmd: OrgCmd::List { json },
        } => {
            let scope = platform::tree::system_scope(&state.db).await?;
            let list = orgs::list_subtree(&state.db, &scope).await?;
            if json {
                let out: Vec<_> = list
                    .iter()
                    .map(|o| {
                        serde_json::json!({"code": o.code, "name": o.name, "level": o.level.as_str(),
                            "parent": o.parent, "status": o.status, "id": o.id})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for o in &list {
                    println!(
                        "{}{}\t{}\t{}\t{}",
                        "  ".repeat(o.depth()),
                        o.code,
                        o.name,
                        o.level.as_str(),
                        o.parent.clone().unwrap_or_default()
                    );
                }
            }
        }
        Command::Org {
            cmd: OrgCmd::Init { code, name },
        } => {
            let input = orgs::OrgInput {
                code,
                name,
                level: "city".into(),
                ..Default::default()
            };
            let id = orgs::create_root(&state.db, &Actor::system("cli"), &input.parse()?).await?;
            println!("已创建 / created org id={id}");
        }
        Command::User { cmd } => user_cmd(&state, cmd).await?,
        Command::Import {
            what:
                ImportWhat::Members {
                    file,
                    org,
                    all_or_nothing,
                    rejects,
                },
        } => {
            return import_members(&state, file, org, all_or_nothing, rejects).await;
        }
        Command::Gen {
            what:
                GenWhat::Members {
                    count,
                    out,
                    seed,
                    orgs,
                },
        } => {
            let orgs: Vec<String> = match orgs {
                Some(list) => list
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => crate::demo::grassroots_codes(),
            };
            members::gen::write_file(&out, count, seed, orgs)?;
            println!("已生成 / generated {count} rows: {}", out.display());
        }
        Command::Report {
            cmd:
                ReportCmd::Indicators {
                    org,
                    year,
                    format,
                    out,
                },
        } => reports::cli::indicators(&state, &org, year, &format, out).await?,
    }
    state.db.close().await;
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> anyhow::Result<Password> {
    let raw = match std::env::var("GONGHUI_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprintln!("请输入密码 / enter password:");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    Ok(Password::parse(&raw)?)
}

async fn user_cmd(state: &AppState, cmd: UserCmd) -> anyhow::Result<()> {
    let scope = platform::tree::system_scope(&state.db).await?;
    match cmd {
        UserCmd::Add {
            username,
            name,
            role,
            org,
            unmask,
        } => {
            let role = match Role::parse(&role) {
                Some(r @ (Role::Admin | Role::Staff | Role::Auditor)) => r,
                _ => anyhow::bail!(
                    "角色须为 admin、staff 或 auditor / role must be admin, staff or auditor"
                ),
            };
            let org = orgs::get_by_code(&state.db, &scope, &org)
                .await
                .map_err(|_| anyhow::anyhow!("找不到组织编码 {org} / no org with code {org}"))?;
            let u = NewUser {
                username: Username::parse(&username)?,
                display_name: name,
                role,
                org_id: OrgId(org.id.0),
                perms: if unmask {
                    "unmask".into()
                } else {
                    String::new()
                },
                password: read_password()?,
            };
            let id = auth::create_user(&state.db, &scope, u).await?;
            println!("已创建账号 / account created: {username} (id={id})");
        }
        UserCmd::Passwd { username } => {
            auth::set_password(
                &state.db,
                &scope,
                &Username::parse(&username)?,
                &read_password()?,
            )
            .await?;
            println!("密码已更新 / password updated: {username}");
        }
    }
    Ok(())
}

async fn import_members(
    state: &AppState,
    file: PathBuf,
    org: Option<String>,
    all_or_nothing: bool,
    rejects: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use members::import;
    let mut scope = platform::tree::system_scope(&state.db).await?;
    if let Some(code) = &org {
        let o = orgs::get_by_code(&state.db, &scope, code)
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
    state.db.close().await;
    Ok(ExitCode::SUCCESS)
}

fn print_logins(logins: &[(String, String, String)]) {
    println!(
        "演示账号 / demo logins (password {}):",
        crate::demo::DEMO_PASSWORD
    );
    for (user, org, role) in logins {
        println!("  {user:<18} {role:<8} {org}");
    }
}

async fn serve(
    state: AppState,
    logins: Option<Vec<(String, String, String)>>,
) -> anyhow::Result<()> {
    let addr = state.cfg.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("无法监听 {addr} / cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    println!("智慧工会 Gonghui: http://{local}/");
    if let Some(l) = logins {
        print_logins(&l);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    platform::web::serve(listener, state, shutdown).await
}
