//! The `tfchain-provisiond` command line (clap) and its TOML config file. Flags override
//! `TFCHAIN_PROVISIOND_*` environment variables, which override the `--config` file, which
//! overrides the defaults (status server on loopback, one confirmation).

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default status server address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:23120";
/// Default tfchaind RPC address (tfchaind's own default).
pub const DEFAULT_RPC: &str = "http://127.0.0.1:23110";

#[derive(Debug, Parser)]
#[command(
    name = "tfchain-provisiond",
    version,
    about = "tfchain node daemon: runs on a farmer's node what the chain reserved on it"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Follow the chain for this grid node and run what its reservations want.
    Run(Box<RunArgs>),
    /// Print each workload a running daemon manages.
    Status(StatusArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    /// Workloads are child processes under the data dir.
    Process,
    /// Workloads are containers of the local Docker engine.
    Docker,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// A TOML config file (keys as the flags, with `_`: `node_key = "/etc/…"`).
    #[arg(long, env = "TFCHAIN_PROVISIOND_CONFIG")]
    pub config: Option<PathBuf>,
    /// The grid node's ed25519 secret key: a file of 64 hex characters, mode 0600.
    #[arg(long, env = "TFCHAIN_PROVISIOND_NODE_KEY", conflicts_with = "dev_node")]
    pub node_key: Option<PathBuf>,
    /// Dev network shortcut: act as the dev farm's node N (1 or 2; its key is dev key
    /// 99 + N), with a temporary data dir unless --data-dir is given.
    #[arg(long, env = "TFCHAIN_PROVISIOND_DEV_NODE")]
    pub dev_node: Option<u32>,
    /// tfchaind's RPC address [default: http://127.0.0.1:23110].
    #[arg(long, env = "TFCHAIN_PROVISIOND_RPC")]
    pub rpc: Option<String>,
    /// Where the daemon keeps its state, workloads and logs.
    #[arg(long, env = "TFCHAIN_PROVISIOND_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// What runs workloads [default: process].
    #[arg(long, env = "TFCHAIN_PROVISIOND_RUNTIME")]
    pub runtime: Option<RuntimeKind>,
    /// The status server (`GET /workloads`, `GET /health`) [default: 127.0.0.1:23120].
    #[arg(long, env = "TFCHAIN_PROVISIOND_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Blocks a reservation's change needs before it is acted on [default: 1].
    #[arg(long, env = "TFCHAIN_PROVISIOND_CONFIRMATIONS")]
    pub confirmations: Option<u64>,
    /// A full reconcile against a fresh snapshot every N blocks [default: 10].
    #[arg(long, env = "TFCHAIN_PROVISIOND_RECONCILE_BLOCKS")]
    pub reconcile_blocks: Option<u64>,
    /// Run process workloads as this user (default: the daemon's own user).
    #[arg(long, env = "TFCHAIN_PROVISIOND_RUN_AS")]
    pub run_as: Option<String>,
    /// Allow workloads to run as root (refused otherwise: whoever pays for a reservation
    /// must not get root on the farmer's machine).
    #[arg(long, env = "TFCHAIN_PROVISIOND_ALLOW_ROOT")]
    pub allow_root: bool,
    /// Seconds between SIGTERM and SIGKILL when a workload is stopped [default: 10].
    #[arg(long, env = "TFCHAIN_PROVISIOND_STOP_GRACE")]
    pub stop_grace_secs: Option<u64>,
    /// Log filter (`info`, `debug`, `tfchain_provisiond=debug`, …) [default: info].
    #[arg(long, env = "TFCHAIN_PROVISIOND_LOG_LEVEL")]
    pub log_level: Option<String>,
    #[arg(long, env = "TFCHAIN_PROVISIOND_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The daemon's status server.
    #[arg(long, env = "TFCHAIN_PROVISIOND_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Print the JSON the daemon serves.
    #[arg(long)]
    pub json: bool,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub node_key: Option<PathBuf>,
    pub dev_node: Option<u32>,
    pub rpc: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub runtime: Option<RuntimeKind>,
    pub listen: Option<SocketAddr>,
    pub confirmations: Option<u64>,
    pub reconcile_blocks: Option<u64>,
    pub run_as: Option<String>,
    pub allow_root: Option<bool>,
    pub stop_grace_secs: Option<u64>,
    pub log_level: Option<String>,
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
}

/// Where the node key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Dev(u32),
}

/// The settings a daemon runs with, every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub key: KeySource,
    pub rpc: String,
    /// `None`: a temporary data dir (dev only), removed with its workloads on exit.
    pub data_dir: Option<PathBuf>,
    pub runtime: RuntimeKind,
    pub listen: SocketAddr,
    pub confirmations: u64,
    pub reconcile_blocks: u64,
    pub run_as: Option<String>,
    pub allow_root: bool,
    pub stop_grace_secs: u64,
    pub log_level: String,
    pub log_format: LogFormat,
}

pub fn read_config(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.into(),
        reason: e.to_string(),
    })
}

impl RunArgs {
    /// Flags and environment over the config file over the defaults.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(p) => read_config(p)?,
            None => ConfigFile::default(),
        };
        let key = match (
            self.node_key.clone(),
            self.dev_node,
            file.node_key,
            file.dev_node,
        ) {
            (Some(p), _, _, _) => KeySource::File(p),
            (None, Some(n), _, _) => KeySource::Dev(n),
            (None, None, Some(p), _) => KeySource::File(p),
            (None, None, None, Some(n)) => KeySource::Dev(n),
            (None, None, None, None) => return Err(ConfigError::Invalid(
                "give the grid node's key with --node-key FILE (or --dev-node 1 on a dev network)"
                    .into(),
            )),
        };
        let data_dir = self.data_dir.clone().or(file.data_dir);
        if data_dir.is_none() && matches!(key, KeySource::File(_)) {
            return Err(ConfigError::Invalid(
                "give --data-dir DIR: the daemon keeps its state and workloads there".into(),
            ));
        }
        let confirmations = self.confirmations.or(file.confirmations).unwrap_or(1);
        if confirmations == 0 {
            return Err(ConfigError::Invalid(
                "--confirmations must be at least 1 (1: act on a change as soon as it is in a block)".into(),
            ));
        }
        let listen = match self.listen.or(file.listen) {
            Some(a) => a,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("{e}")))?,
        };
        Ok(Settings {
            key,
            rpc: self
                .rpc
                .clone()
                .or(file.rpc)
                .unwrap_or_else(|| DEFAULT_RPC.into()),
            data_dir,
            runtime: self
                .runtime
                .or(file.runtime)
                .unwrap_or(RuntimeKind::Process),
            listen,
            confirmations,
            reconcile_blocks: self
                .reconcile_blocks
                .or(file.reconcile_blocks)
                .unwrap_or(10)
                .max(1),
            run_as: self.run_as.clone().or(file.run_as),
            allow_root: self.allow_root || file.allow_root.unwrap_or(false),
            stop_grace_secs: self.stop_grace_secs.or(file.stop_grace_secs).unwrap_or(10),
            log_level: self
                .log_level
                .clone()
                .or(file.log_level)
                .unwrap_or_else(|| "info".into()),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("p.toml");
        std::fs::write(
            &p,
            "node_key = \"/k\"\ndata_dir = \"/d\"\nconfirmations = 3\nlisten = \"127.0.0.1:9\"\n",
        )
        .expect("write");
        let args = RunArgs {
            config: Some(p.clone()),
            confirmations: Some(2),
            ..RunArgs::default()
        };
        let s = args.settings().expect("valid");
        assert_eq!(s.key, KeySource::File("/k".into()));
        assert_eq!(s.confirmations, 2);
        assert_eq!(s.listen, "127.0.0.1:9".parse().expect("addr"));
        assert_eq!(s.runtime, RuntimeKind::Process);
        std::fs::write(&p, "node_key = \"/k\"\nbogus = 1\n").expect("write");
        assert!(matches!(args.settings(), Err(ConfigError::Parse { .. })));
        let none = RunArgs::default();
        assert!(matches!(none.settings(), Err(ConfigError::Invalid(_))));
        let no_dir = RunArgs {
            node_key: Some("/k".into()),
            ..RunArgs::default()
        };
        assert!(
            matches!(no_dir.settings(), Err(ConfigError::Invalid(m)) if m.contains("--data-dir"))
        );
        let dev = RunArgs {
            dev_node: Some(1),
            ..RunArgs::default()
        };
        let s = dev.settings().expect("dev needs nothing else");
        assert_eq!(
            (s.key, s.data_dir, s.listen.ip().is_loopback()),
            (KeySource::Dev(1), None, true)
        );
    }
}
