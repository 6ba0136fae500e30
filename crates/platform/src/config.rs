//! Layered configuration: defaults → optional TOML file → `GONGHUI_*`
//! environment → command-line flags. Secrets are wrapped in [`Secret`] so they
//! never reach a log line or `--help` output.

use std::{net::SocketAddr, path::PathBuf};

use serde::Deserialize;

/// A value that prints as `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(v: T) -> Self {
        Secret(v)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// postgres://user:password@host/db — contains a password, hence secret.
    pub database_url: Option<Secret<String>>,
    /// Hex master key for personal-data encryption; if unset it is generated
    /// once into `<data_dir>/master.key`.
    pub master_key: Option<Secret<String>>,
    /// Whether cookies are marked `Secure` (set when served behind HTTPS).
    pub secure_cookies: bool,
    pub session_hours: i64,
    /// Minutes without a request after which a session is signed out
    /// (等保 idle timeout); `GONGHUI_IDLE_MINUTES`, default 30.
    pub idle_minutes: u64,
    pub log: String,
    /// Seconds between looks for member-record writes made outside this
    /// server (a CLI import), after which the dashboard is warmed again
    /// (`reports::figures::keep_warm`); 0 turns the watch off.
    pub stats_watch_secs: u64,
    /// Attachments: the largest file accepted, in MiB.
    pub attachment_max_mib: u64,
    /// Attachments: the most (undeleted) files one record may hold.
    pub attachment_max_files: i64,
    /// Attachments: the accepted file types by short name (pdf, jpeg, png,
    /// webp, heic, docx, xlsx, doc, xls); the type is sniffed from the content.
    pub attachment_types: Vec<String>,
    /// Hours between runs of the orphan collector in the server; 0 turns it
    /// off (run it from the command line instead).
    pub attachment_gc_hours: u64,
    /// Days an import's rejects file (full ID and phone numbers of the rows
    /// not imported) is kept before the server deletes it.
    pub rejects_keep_days: u64,
    /// Requests a minute one client IP may make to the public pages (join,
    /// status); 0 = no limit.
    pub public_per_minute: u32,
}

/// The keys a TOML file may set; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    database_url: Option<Secret<String>>,
    master_key: Option<Secret<String>>,
    secure_cookies: Option<bool>,
    session_hours: Option<i64>,
    idle_minutes: Option<u64>,
    log: Option<String>,
    stats_watch_secs: Option<u64>,
    attachment_max_mib: Option<u64>,
    attachment_max_files: Option<i64>,
    attachment_types: Option<Vec<String>>,
    attachment_gc_hours: Option<u64>,
    rejects_keep_days: Option<u64>,
    public_per_minute: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./gonghui-data"),
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            database_url: None,
            master_key: None,
            secure_cookies: false,
            session_hours: 12,
            idle_minutes: 30,
            log: "info".into(),
            stats_watch_secs: 30,
            attachment_max_mib: 20,
            attachment_max_files: 20,
            attachment_types: crate::attachments::DEFAULT_TYPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            attachment_gc_hours: 6,
            rejects_keep_days: 7,
            public_per_minute: 30,
        }
    }
}

/// Overrides given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub database_url: Option<String>,
}

impl Config {
    pub fn load(over: &Overrides) -> anyhow::Result<Config> {
        Self::load_from(over, |k| std::env::var(k).ok())
    }

    /// `env` is injectable so tests do not touch the process environment.
    pub fn load_from(
        over: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let mut cfg = Config::default();
        let file = over
            .config_file
            .clone()
            .or_else(|| env("GONGHUI_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!(
                    "无法读取配置文件 {} / cannot read config file: {e}",
                    path.display()
                )
            })?;
            let f: FileConfig = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "配置文件格式错误 {} / invalid config file: {e}",
                    path.display()
                )
            })?;
            if let Some(v) = f.data_dir {
                cfg.data_dir = v;
            }
            if let Some(v) = f.listen {
                cfg.listen = v;
            }
            if f.database_url.is_some() {
                cfg.database_url = f.database_url;
            }
            if f.master_key.is_some() {
                cfg.master_key = f.master_key;
            }
            if let Some(v) = f.secure_cookies {
                cfg.secure_cookies = v;
            }
            if let Some(v) = f.session_hours {
                cfg.session_hours = v;
            }
            if let Some(v) = f.idle_minutes {
                cfg.idle_minutes = v;
            }
            if let Some(v) = f.log {
                cfg.log = v;
            }
            if let Some(v) = f.stats_watch_secs {
                cfg.stats_watch_secs = v;
            }
            if let Some(v) = f.attachment_max_mib {
                cfg.attachment_max_mib = v;
            }
            if let Some(v) = f.attachment_max_files {
                cfg.attachment_max_files = v;
            }
            if let Some(v) = f.attachment_types {
                cfg.attachment_types = v;
            }
            if let Some(v) = f.attachment_gc_hours {
                cfg.attachment_gc_hours = v;
            }
            if let Some(v) = f.rejects_keep_days {
                cfg.rejects_keep_days = v;
            }
            if let Some(v) = f.public_per_minute {
                cfg.public_per_minute = v;
            }
        }
        if let Some(v) = env("GONGHUI_DATA_DIR") {
            cfg.data_dir = v.into();
        }
        if let Some(v) = env("GONGHUI_LISTEN") {
            cfg.listen = v.parse().map_err(|e| {
                anyhow::anyhow!("GONGHUI_LISTEN 不是有效地址 / is not an address: {e}")
            })?;
        }
        if let Some(v) = env("GONGHUI_DATABASE_URL") {
            cfg.database_url = Some(Secret(v));
        }
        if let Some(v) = env("GONGHUI_MASTER_KEY") {
            cfg.master_key = Some(Secret(v));
        }
        if let Some(v) = env("GONGHUI_SECURE_COOKIES") {
            cfg.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("GONGHUI_LOG") {
            cfg.log = v;
        }
        if let Some(v) = env("GONGHUI_STATS_WATCH_SECS") {
            cfg.stats_watch_secs = v.parse().map_err(|e| {
                anyhow::anyhow!(
                    "GONGHUI_STATS_WATCH_SECS 须为秒数(0 表示关闭) / must be a number of seconds (0 = off): {e}"
                )
            })?;
        }
        let number = |key: &str, v: String| {
            v.trim()
                .parse::<u64>()
                .map_err(|e| anyhow::anyhow!("{key} 须为非负整数 / must be a whole number: {e}"))
        };
        if let Some(v) = env("GONGHUI_IDLE_MINUTES") {
            cfg.idle_minutes = number("GONGHUI_IDLE_MINUTES", v)?.max(1);
        }
        if let Some(v) = env("GONGHUI_ATTACHMENT_MAX_MIB") {
            cfg.attachment_max_mib = number("GONGHUI_ATTACHMENT_MAX_MIB", v)?;
        }
        if let Some(v) = env("GONGHUI_ATTACHMENT_MAX_FILES") {
            cfg.attachment_max_files =
                i64::try_from(number("GONGHUI_ATTACHMENT_MAX_FILES", v)?).unwrap_or(i64::MAX);
        }
        if let Some(v) = env("GONGHUI_ATTACHMENT_TYPES") {
            cfg.attachment_types = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = env("GONGHUI_ATTACHMENT_GC_HOURS") {
            cfg.attachment_gc_hours = number("GONGHUI_ATTACHMENT_GC_HOURS", v)?;
        }
        if let Some(v) = env("GONGHUI_REJECTS_KEEP_DAYS") {
            cfg.rejects_keep_days = number("GONGHUI_REJECTS_KEEP_DAYS", v)?;
        }
        if let Some(v) = env("GONGHUI_PUBLIC_PER_MINUTE") {
            cfg.public_per_minute = number("GONGHUI_PUBLIC_PER_MINUTE", v)? as u32;
        }
        if let Some(v) = &over.data_dir {
            cfg.data_dir = v.clone();
        }
        if let Some(v) = over.listen {
            cfg.listen = v;
        }
        if let Some(v) = &over.database_url {
            cfg.database_url = Some(Secret(v.clone()));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://u:hunter2@h/db\"\nsession_hours = 4\n",
        )
        .unwrap();
        let over = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let env = |k: &str| (k == "GONGHUI_LISTEN").then(|| "127.0.0.1:9100".to_string());
        let cfg = Config::load_from(&over, env).unwrap();
        assert_eq!(cfg.listen.port(), 9100, "env beats file");
        assert_eq!(cfg.session_hours, 4, "file beats default");
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("[redacted]"));
        let over2 = Overrides {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            Config::load_from(&over2, env).unwrap().listen.port(),
            1,
            "flag beats env"
        );
    }

    #[test]
    fn attachment_knobs_come_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(
            &file,
            "attachment_max_mib = 5\nattachment_types = [\"pdf\", \"png\"]\nattachment_gc_hours = 0\n",
        )
        .unwrap();
        let over = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let env = |k: &str| match k {
            "GONGHUI_ATTACHMENT_MAX_FILES" => Some("8".to_string()),
            "GONGHUI_ATTACHMENT_TYPES" => Some("pdf, jpeg".to_string()),
            _ => None,
        };
        let cfg = Config::load_from(&over, env).unwrap();
        assert_eq!(cfg.attachment_max_mib, 5);
        assert_eq!(cfg.attachment_max_files, 8);
        assert_eq!(cfg.attachment_types, ["pdf", "jpeg"], "env beats file");
        assert_eq!(cfg.attachment_gc_hours, 0);
        let d = Config::default();
        assert_eq!(d.idle_minutes, 30);
        let idle = |k: &str| (k == "GONGHUI_IDLE_MINUTES").then(|| "5".to_string());
        assert_eq!(
            Config::load_from(&Overrides::default(), idle)
                .unwrap()
                .idle_minutes,
            5
        );
        assert_eq!((d.attachment_max_mib, d.attachment_max_files), (20, 20));
        let bad = |k: &str| (k == "GONGHUI_ATTACHMENT_MAX_MIB").then(|| "lots".to_string());
        assert!(Config::load_from(&Overrides::default(), bad).is_err());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let over = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        assert!(Config::load_from(&over, |_| None).is_err());
    }

    #[test]
    fn rejects_keep_days_defaults_to_a_week_and_can_be_set() {
        let none = |_: &str| None;
        assert_eq!(
            Config::load_from(&Overrides::default(), none)
                .unwrap()
                .rejects_keep_days,
            7
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(&file, "rejects_keep_days = 3\n").unwrap();
        let over = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        assert_eq!(Config::load_from(&over, none).unwrap().rejects_keep_days, 3);
        let env = |k: &str| (k == "GONGHUI_REJECTS_KEEP_DAYS").then(|| "1".to_string());
        assert_eq!(Config::load_from(&over, env).unwrap().rejects_keep_days, 1);
        let bad = |k: &str| (k == "GONGHUI_REJECTS_KEEP_DAYS").then(|| "a week".to_string());
        assert!(Config::load_from(&over, bad).is_err());
    }
}
