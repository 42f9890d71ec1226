//! Why a genesis file was refused. Every variant says what is wrong and where to look.

use std::path::PathBuf;
use tfchain_consensus::{GenesisError as BuildError, ParamsError};

/// Why a genesis could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The text is not valid JSON, or not a genesis file: a missing or unknown field, a
    /// value of the wrong type, a malformed address or amount.
    #[error("genesis JSON, line {line} column {column}: {msg}")]
    Json {
        line: usize,
        column: usize,
        msg: String,
    },
    /// The parameters break a rule of the protocol (PROTOCOL.md §9).
    #[error("invalid network parameters: {0}")]
    Params(#[from] ParamsError),
    /// The allocations do not make a valid genesis block (PROTOCOL.md §11).
    #[error("invalid genesis allocations: {0}")]
    Build(#[from] BuildError),
    #[error(
        "network name {name:?} is invalid: use 1 to {max} characters of a-z, 0-9, '-' and '_'"
    )]
    NetworkName { name: String, max: usize },
    #[error("{count} {kind} allocations exceed the limit of {max} outputs per transaction (PROTOCOL.md §8)")]
    TooManyOutputs {
        kind: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{count} initial farms and nodes exceed the limit of {max} grid operations per transaction (PROTOCOL.md §8)")]
    TooManyGridOps { count: usize, max: usize },
    #[error("the genesis {what} is {size} bytes, the limit is {max} (PROTOCOL.md §8)")]
    TooLarge {
        what: &'static str,
        size: usize,
        max: usize,
    },
    #[error("cannot read genesis file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An error in a genesis file read from disk, with the file's path.
    #[error("genesis file {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: Box<GenesisError>,
    },
}

impl GenesisError {
    /// From a serde_json error, keeping the position apart from the message.
    pub(crate) fn json(e: &serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let full = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let msg = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        GenesisError::Json { line, column, msg }
    }

    /// The error itself, looking through [`GenesisError::File`].
    pub fn root(&self) -> &GenesisError {
        match self {
            GenesisError::File { source, .. } => source.root(),
            other => other,
        }
    }
}
