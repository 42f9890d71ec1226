//! The `tfchaind` command line (clap). Flags override `TFCHAIN_*` environment variables,
//! which override the `--config` file, which overrides the defaults.

use crate::config::{ConfigError, ConfigFile, LogFormat, RpcConfig};
use clap::{Args, Parser, Subcommand};
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
    /// Serve admin RPC methods (they change the node). Off by default.
    #[arg(long, env = "TFCHAIN_RPC_ADMIN")]
    pub rpc_admin: bool,
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
}

impl ChainArgs {
    pub fn file(&self) -> Result<ConfigFile, ConfigError> {
        match &self.config {
            Some(p) => ConfigFile::load(p),
            None => Ok(ConfigFile::default()),
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
        Ok(Resolved {
            network,
            data_dir: self.chain.data_dir.clone().or(file.data_dir.clone()),
            validator_key: self.validator_key.clone().or(file.validator_key.clone()),
            dev: self.dev,
            rpc,
            pool: file.pool,
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
