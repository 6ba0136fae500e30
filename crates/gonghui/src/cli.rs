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
    /// Load-test fixture for bench/redeem_load.sh: cards and one voucher
    /// campaign for N members, their card tokens written to a file
    #[command(hide = true)]
    BenchRedeem {
        #[arg(long, default_value_t = 10_000)]
        vouchers: usize,
        /// The clerk whose shop accepts the vouchers
        #[arg(long, default_value = "merchant_clerk")]
        clerk: String,
        /// Where to write the card tokens, one a line
        #[arg(long)]
        tokens: PathBuf,
    },
}

/// What the usual verbs of module commands mean (`Module::cli`).
const VERBS: &[(&str, &str)] = &[
    ("import", "Import data from a spreadsheet"),
    ("gen", "Generate test data"),
    ("report", "Statistics"),
];

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
    /// Disable an account (no sign-in; its sessions end)
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account again
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Clear an account's failed sign-ins and lock
    Unlock {
        #[arg(long)]
        username: String,
    },
    /// Require a password change at the account's next sign-in
    ForcePasswordChange {
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

/// The command line: the binary's own commands, and every module's under
/// its verb (`gonghui import members …`).
fn command_line() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let modules = crate::modules::registry().cli_commands();
    let mut verbs: Vec<&str> = Vec::new();
    for c in &modules {
        if !verbs.contains(&c.verb) {
            verbs.push(c.verb);
        }
    }
    for verb in verbs {
        let about = VERBS
            .iter()
            .find(|(v, _)| *v == verb)
            .map_or("Module commands", |(_, a)| *a);
        let mut sub = clap::Command::new(verb)
            .about(about)
            .subcommand_required(true)
            .arg_required_else_help(true);
        for c in modules.iter().filter(|c| c.verb == verb) {
            sub = sub.subcommand((c.command)());
        }
        cmd = cmd.subcommand(sub);
    }
    cmd
}

/// A parsed command line: one of the binary's commands or a module's.
enum Parsed {
    Core(Cli),
    Module {
        global: GlobalOpts,
        verb: String,
        name: String,
        matches: clap::ArgMatches,
    },
}

fn parse() -> Parsed {
    use clap::FromArgMatches;
    let matches = command_line().get_matches();
    let modules = crate::modules::registry().cli_commands();
    if let Some((verb, vm)) = matches.subcommand() {
        if modules.iter().any(|c| c.verb == verb) {
            let (name, sm) = vm.subcommand().expect("a subcommand is required");
            return Parsed::Module {
                global: GlobalOpts::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()),
                verb: verb.to_string(),
                name: name.to_string(),
                matches: sm.clone(),
            };
        }
    }
    Parsed::Core(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

pub fn main() -> ExitCode {
    let cli = parse();
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

async fn run(parsed: Parsed) -> anyhow::Result<ExitCode> {
    let (global, listen) = match &parsed {
        Parsed::Core(cli) => match &cli.cmd {
            Command::Serve { listen } | Command::Demo { listen, .. } => (&cli.global, *listen),
            _ => (&cli.global, None),
        },
        Parsed::Module { global, .. } => (global, None),
    };
    let over = Overrides {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        listen,
        database_url: global.database_url.clone(),
    };
    let cfg = Config::load(&over)?;
    init_tracing(&cfg);
    tracing::debug!(config = ?cfg, "configuration");
    let state = platform::open(cfg, crate::modules::registry()).await?;
    let cli = match parsed {
        Parsed::Core(cli) => cli,
        Parsed::Module {
            verb,
            name,
            matches,
            ..
        } => {
            let commands = state.registry.cli_commands();
            let c = commands
                .iter()
                .find(|c| c.verb == verb && (c.command)().get_name() == name)
                .expect("parsed from these commands");
            let code = (c.run)(&state, &matches).await?;
            state.db.close().await;
            return Ok(code);
        }
    };
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
        Command::BenchRedeem {
            vouchers,
            clerk,
            tokens,
        } => {
            let f = crate::bench_setup::redeem_fixture(&state, vouchers, &clerk, &tokens).await?;
            println!(
                "campaign_id={} merchant_id={} vouchers={}",
                f.campaign_id, f.merchant_id, f.vouchers
            );
        }
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
        UserCmd::Disable { username } => {
            account(state, &scope, &username, auth::AccountAction::Disable).await?
        }
        UserCmd::Enable { username } => {
            account(state, &scope, &username, auth::AccountAction::Enable).await?
        }
        UserCmd::Unlock { username } => {
            account(state, &scope, &username, auth::AccountAction::Unlock).await?
        }
        UserCmd::ForcePasswordChange { username } => {
            account(
                state,
                &scope,
                &username,
                auth::AccountAction::ForcePasswordChange,
            )
            .await?
        }
    }
    Ok(())
}

async fn account(
    state: &AppState,
    scope: &platform::scope::Scope,
    username: &str,
    action: auth::AccountAction,
) -> anyhow::Result<()> {
    let user = auth::find_user_in_scope(&state.db, scope, &Username::parse(username)?)
        .await
        .map_err(|_| anyhow::anyhow!("找不到账号 {username} / no account {username}"))?;
    auth::account_action(&state.db, scope, user.id, action).await?;
    println!("已完成 / done: {username} ({})", action.audit_action());
    Ok(())
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
