//! The `tfchaind` command line (clap). Flags override `TFCHAIN_*` environment variables,
//! which override the `--config` file, which overrides the defaults.

use crate::config::{ConfigError, ConfigFile, LogFormat, RpcConfig};
use crate::net::P2pConfig;
use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "tfchaind",
    version,
    about = "tfchain full node: ThreeFold Token payments and capacity reservations",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand, `tfchaind` runs a node (`tfchaind --dev` for a dev network).
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node.
    Run(RunArgs),
    /// Manage validator keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Create genesis files.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// Write the main chain's blocks to a file.
    ExportBlocks(ExportArgs),
    /// Validate and apply the blocks of a file written by export-blocks.
    ImportBlocks(ImportArgs),
    /// Undo the last N blocks of the stored chain.
    Rollback(RollbackArgs),
    /// Create an N-validator network in DIR and run its nodes on 127.0.0.1 until Ctrl-C.
    Localnet(LocalnetArgs),
}

#[derive(Debug, Args)]
pub struct LocalnetArgs {
    /// Number of validator nodes.
    #[arg(long, default_value_t = 4)]
    pub nodes: usize,
    /// Directory for the genesis, keys, data dirs, logs and `localnet.json`. An existing
    /// localnet there is run again.
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ChainArgs {
    /// `dev`, `testnet`, or the path of a genesis JSON file.
    #[arg(long, env = "TFCHAIN_NETWORK")]
    pub network: Option<String>,
    /// Where the node keeps its database.
    #[arg(long, env = "TFCHAIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A TOML config file.
    #[arg(long, env = "TFCHAIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Keep the explorer indexes (transaction ID → block, address → history and unspent
    /// outputs), which `tx_get` of confirmed transactions and the `address_*` RPC methods
    /// read. A validator can run with `false`: it commits blocks about twice as fast and
    /// uses about a quarter of the disk. Default: as the data dir records (a new one keeps
    /// them). `false` drops them from an existing data dir; they cannot be added back
    /// (sync into a fresh data dir instead).
    #[arg(long, env = "TFCHAIN_EXPLORER_INDEX", value_name = "true|false")]
    pub explorer_index: Option<bool>,
    /// The state cache in MiB: blocks apply against memory, and the cache is written to
    /// the database in one batch when it holds this much (or every 2,000 blocks). More
    /// cache, fewer and larger database writes; a crash replays the commits since the
    /// last write from the block files. Default 256.
    #[arg(long, env = "TFCHAIN_DB_CACHE", value_name = "MiB", value_parser = clap::value_parser!(u64).range(4..=1_048_576))]
    pub db_cache: Option<u64>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// Run the built-in dev network as its validator, producing blocks at once, with data in
    /// a fresh temporary directory unless --data-dir is given.
    #[arg(long, env = "TFCHAIN_DEV")]
    pub dev: bool,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// A validator key file (`tfchaind key generate`): produce blocks with it.
    #[arg(long, env = "TFCHAIN_VALIDATOR_KEY")]
    pub validator_key: Option<PathBuf>,
    /// JSON-RPC listen address (HTTP and WebSocket).
    #[arg(long, env = "TFCHAIN_RPC_ADDR")]
    pub rpc_addr: Option<SocketAddr>,
    /// Serve admin RPC methods (they change the node). Off by default. Refused on a
    /// non-loopback --rpc-addr unless --rpc-admin-token (or --rpc-allowed-hosts) is set.
    #[arg(long, env = "TFCHAIN_RPC_ADMIN")]
    pub rpc_admin: bool,
    /// Require `Authorization: Bearer <TOKEN>` for admin RPC methods (16 characters or
    /// more). Prefer the environment variable: a flag shows in the process list.
    #[arg(
        long,
        env = "TFCHAIN_RPC_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub rpc_admin_token: Option<String>,
    /// `Host` names the RPC server answers besides localhost, 127.0.0.1 and [::1]
    /// (comma-separated or repeated): `name`, `name:port`, `*.domain`, or `*` for any.
    /// Protects against DNS rebinding; add the name clients use when binding elsewhere.
    #[arg(long, env = "TFCHAIN_RPC_ALLOWED_HOSTS", value_delimiter = ',')]
    pub rpc_allowed_hosts: Vec<String>,
    /// Browser origins allowed to call the RPC server (CORS; comma-separated or repeated):
    /// `scheme://host[:port]`, or `*` for any. Loopback origins are always allowed; any
    /// other `Origin` is refused, for HTTP and WebSocket alike.
    #[arg(long, env = "TFCHAIN_RPC_CORS", value_delimiter = ',')]
    pub rpc_cors: Vec<String>,
    /// Seconds before an idle RPC connection (no request, no live subscription) is
    /// closed; 0 turns the timeout off. Default 60.
    #[arg(long, env = "TFCHAIN_RPC_IDLE_TIMEOUT", value_name = "SECONDS")]
    pub rpc_idle_timeout: Option<u64>,
    /// Peer-to-peer listen address (multiaddr; repeatable). Default
    /// `/ip4/0.0.0.0/tcp/23112`, or `/ip4/127.0.0.1/tcp/0` with --dev.
    #[arg(long = "p2p-listen", env = "TFCHAIN_P2P_LISTEN", value_delimiter = ',')]
    pub p2p_listen: Vec<Multiaddr>,
    /// A peer to connect to at start, e.g. `/ip4/10.0.0.5/tcp/23112/p2p/12D3Koo…`
    /// (repeatable).
    #[arg(long = "bootnode", env = "TFCHAIN_BOOTNODES", value_delimiter = ',')]
    pub bootnodes: Vec<Multiaddr>,
    /// Most connected peers.
    #[arg(long, env = "TFCHAIN_MAX_PEERS")]
    pub max_peers: Option<u32>,
    /// Run without peer-to-peer networking (a lone node that produces at once).
    #[arg(long, env = "TFCHAIN_NO_P2P")]
    pub no_p2p: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format.
    #[arg(long, global = true, env = "TFCHAIN_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `tfchain_node=debug,info`.
    #[arg(long, global = true, env = "TFCHAIN_LOG")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a new validator key file (mode 0600) and print its address.
    Generate {
        /// Where to write the key.
        #[arg(long, default_value = "validator-key.json")]
        out: PathBuf,
    },
    /// Print the address of a key file.
    Show { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Create a new network for N validators: DIR/genesis.json and one key file each.
    New {
        #[arg(long)]
        validators: usize,
        #[arg(long)]
        out: PathBuf,
        /// Network name ([a-z0-9_-], at most 64).
        #[arg(long, default_value = "localnet")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// A file written by export-blocks.
    #[arg(long = "in")]
    pub input: PathBuf,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// How many blocks to undo.
    pub blocks: u64,
}

/// Settings for a running node, after merging flags, environment and the config file.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub network: String,
    pub data_dir: Option<PathBuf>,
    pub validator_key: Option<PathBuf>,
    pub dev: bool,
    pub rpc: RpcConfig,
    pub pool: crate::config::PoolSection,
    /// `None` with --no-p2p.
    pub p2p: Option<P2pConfig>,
    pub store: crate::store::StoreOptions,
}

impl ChainArgs {
    pub fn file(&self) -> Result<ConfigFile, ConfigError> {
        match &self.config {
            Some(p) => ConfigFile::load(p),
            None => Ok(ConfigFile::default()),
        }
    }

    /// Store options: the flag (or environment) over the config file.
    pub fn store_options(&self, file: &ConfigFile) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            explorer_index: self.explorer_index.or(file.explorer_index),
            db_cache_mib: self.db_cache.or(file.db_cache),
        }
    }
}

impl RunArgs {
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let file = self.chain.file()?;
        let mut rpc = file.rpc.clone();
        if let Some(addr) = self.rpc_addr {
            rpc.addr = addr;
        }
        rpc.admin |= self.rpc_admin;
        if let Some(t) = &self.rpc_admin_token {
            rpc.admin_token = Some(crate::config::AdminToken(t.clone()));
        }
        if !self.rpc_allowed_hosts.is_empty() {
            rpc.allowed_hosts = self.rpc_allowed_hosts.clone();
        }
        if !self.rpc_cors.is_empty() {
            rpc.cors = self.rpc_cors.clone();
        }
        if let Some(s) = self.rpc_idle_timeout {
            rpc.idle_timeout_secs = s;
        }
        rpc.validate().map_err(ConfigError::Rpc)?;
        let network = self
            .chain
            .network
            .clone()
            .or(file.network.clone())
            .unwrap_or_else(|| {
                if self.dev {
                    "dev".into()
                } else {
                    "testnet".into()
                }
            });
        let p2p = if self.no_p2p || file.p2p.disabled {
            None
        } else {
            let mut p2p = if self.dev {
                P2pConfig::loopback()
            } else {
                P2pConfig::default()
            };
            if !self.p2p_listen.is_empty() {
                p2p.listen = self.p2p_listen.clone();
            } else if !file.p2p.listen.is_empty() {
                p2p.listen = file.p2p.listen.clone();
            }
            p2p.bootnodes = if self.bootnodes.is_empty() {
                file.p2p.bootnodes.clone()
            } else {
                self.bootnodes.clone()
            };
            p2p.max_peers = self
                .max_peers
                .or(file.p2p.max_peers)
                .unwrap_or(p2p.max_peers);
            Some(p2p)
        };
        Ok(Resolved {
            network,
            data_dir: self.chain.data_dir.clone().or(file.data_dir.clone()),
            validator_key: self.validator_key.clone().or(file.validator_key.clone()),
            dev: self.dev,
            rpc,
            store: self.chain.store_options(&file),
            pool: file.pool,
            p2p,
        })
    }
}

impl LogArgs {
    /// Flags and environment over the config file.
    pub fn merged(&self, file: &ConfigFile) -> (LogFormat, String) {
        (
            self.log_format.or(file.log_format).unwrap_or_default(),
            self.log_level
                .clone()
                .or(file.log_level.clone())
                .unwrap_or_else(|| "info".into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &[&str]) -> Result<Resolved, ConfigError> {
        let mut argv = vec!["tfchaind"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("the flags parse")
            .run
            .resolve()
    }

    #[test]
    fn rpc_flags_reach_the_config() {
        let r = resolve(&[
            "--dev",
            "--rpc-allowed-hosts",
            "a.example,b.example:8080",
            "--rpc-cors",
            "https://w.example",
            "--rpc-idle-timeout",
            "7",
            "--rpc-admin-token",
            "0123456789abcdef",
        ])
        .expect("valid RPC flags");
        assert_eq!(r.rpc.allowed_hosts, ["a.example", "b.example:8080"]);
        assert_eq!(r.rpc.cors, ["https://w.example"]);
        assert_eq!(r.rpc.idle_timeout_secs, 7);
        assert_eq!(
            r.rpc.admin_token,
            Some(crate::config::AdminToken("0123456789abcdef".into()))
        );
        let r = resolve(&["--dev"]).expect("defaults");
        assert_eq!(r.rpc, RpcConfig::default());
    }

    #[test]
    fn unsafe_rpc_flags_are_refused() {
        let e = resolve(&["--rpc-addr", "0.0.0.0:23110", "--rpc-admin"]);
        assert!(matches!(e, Err(ConfigError::Rpc(m)) if m.contains("--rpc-admin-token")));
        let e = resolve(&["--rpc-admin", "--rpc-admin-token", "short"]);
        assert!(matches!(e, Err(ConfigError::Rpc(m)) if m.contains("at least 16")));
        let ok = resolve(&[
            "--rpc-addr",
            "0.0.0.0:23110",
            "--rpc-admin",
            "--rpc-admin-token",
            "0123456789abcdef",
        ]);
        assert!(ok.is_ok(), "{ok:?}");
    }
}
