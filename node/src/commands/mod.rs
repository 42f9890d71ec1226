//! The `tfchaind` subcommands. Each returns a [`CommandError`] the binary prints.

pub mod blocks;
pub mod genesis;
pub mod key;
pub mod localnet;
pub mod run;

use crate::keyfile::KeyFileError;
use crate::store::StoreError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("unknown network {0:?}: use `dev`, `testnet`, or the path of a genesis JSON file")]
    UnknownNetwork(String),
    #[error("{0}")]
    Genesis(#[from] tfchain_genesis::GenesisError),
    #[error("{0}")]
    KeyFile(#[from] KeyFileError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Node(#[from] crate::node::NodeError),
    #[error("{0}")]
    BlockFile(#[from] crate::blockfile::BlockFileError),
    #[error("{0}")]
    Chain(Box<crate::chain::ChainError>),
    #[error("--data-dir is required for this command (or data_dir in the --config file)")]
    NoDataDir,
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// The node stopped itself (its store could not write).
    #[error("{0}")]
    Fatal(String),
}

impl From<crate::chain::ChainError> for CommandError {
    fn from(e: crate::chain::ChainError) -> Self {
        CommandError::Chain(Box::new(e))
    }
}

/// `dev`, `testnet`, or a path to a genesis file.
pub fn resolve_network(name: &str) -> Result<tfchain_genesis::Genesis, CommandError> {
    if let Some(g) = tfchain_genesis::builtin(name) {
        return Ok(g);
    }
    let path = std::path::Path::new(name);
    if path.exists() {
        return Ok(tfchain_genesis::Genesis::load(path)?);
    }
    Err(CommandError::UnknownNetwork(name.into()))
}
