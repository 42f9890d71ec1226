//! Why a store operation failed. Every message says what to do about it.

use std::path::PathBuf;
use tfchain_types::{BlockId, Height};

/// What to do when the database cannot be trusted.
const RESYNC: &str = "stop tfchaind, move the data dir aside (or delete it) and resync from peers \
or with `tfchaind import-blocks`";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database I/O error: {0}; check free disk space and the permissions of the data dir, then restart (the store repairs itself on start)")]
    Sled(#[from] sled::Error),

    #[error("{what}: {source}; check free disk space and the permissions of the data dir, then restart (the store repairs itself on start)")]
    Io {
        what: String,
        source: std::io::Error,
    },

    #[error("the database in {} is locked by another process: is another tfchaind running with this --data-dir?", path.display())]
    Locked { path: PathBuf },

    #[error("corrupt {table} entry (key {key}): {detail}; the database is damaged: {RESYNC}")]
    Corrupt {
        table: &'static str,
        key: String,
        detail: String,
    },

    #[error("{}", schema_message(*.found, *.expected))]
    SchemaMismatch { found: u32, expected: u32 },

    #[error("this data dir belongs to the network with genesis {found}, not to the configured network (genesis {expected}): pass the matching --network/--genesis, or use another --data-dir")]
    WrongNetwork { found: BlockId, expected: BlockId },

    #[error("block {block} at height {height} (parent {parent}) does not extend the tip {tip} at height {tip_height}; only a child of the tip can be committed (undo blocks first for a reorg)")]
    NotTip {
        block: BlockId,
        height: Height,
        parent: BlockId,
        tip: BlockId,
        tip_height: Height,
    },

    #[error("the outcome does not belong to block {block}: {detail} (a bug in the caller: commit the outcome apply_block returned for this block)")]
    OutcomeMismatch { block: BlockId, detail: String },

    #[error("the genesis block cannot be undone")]
    UndoGenesis,

    #[error("cannot roll back {requested} blocks: the tip is at height {tip_height} and the genesis block cannot be undone; roll back at most {tip_height}")]
    RollbackTooDeep { requested: u64, tip_height: Height },

    #[error("block {0} is on the main chain: undo it (rollback or reorg) before storing it as a side block or marking it invalid")]
    OnMainChain(BlockId),

    #[error(
        "this node keeps no explorer indexes (explorer_index = false): ask a node that keeps them"
    )]
    NoExplorerIndex,

    #[error("the explorer index is still catching up: at height {} of {tip}", indexed.map_or_else(|| "none".to_string(), |h| h.to_string()))]
    IndexBehind {
        indexed: Option<Height>,
        tip: Height,
    },

    #[error("the explorer indexer stopped: {0}; restart the node")]
    IndexFailed(String),

    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    #[error("the store cannot repair itself: {0}")]
    Unrecoverable(String),
}

fn schema_message(found: u32, expected: u32) -> String {
    if found > expected {
        format!(
            "the database has schema version {found} but this tfchaind understands version \
             {expected}: it was written by a newer tfchaind; run that version, or {RESYNC}"
        )
    } else {
        format!(
            "the database has schema version {found} but this tfchaind needs version {expected} \
             and cannot migrate it: {RESYNC}"
        )
    }
}

impl StoreError {
    /// Whether the error means the data on disk is damaged (as opposed to a caller error or
    /// a transient I/O failure).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            StoreError::Corrupt { .. } | StoreError::Unrecoverable(_)
        )
    }

    /// Whether the error means the store could not read or write its files (disk full,
    /// I/O error): the node cannot go on committing.
    pub fn is_write_failure(&self) -> bool {
        matches!(self, StoreError::Sled(_) | StoreError::Io { .. })
    }

    pub(crate) fn unrecoverable(what: impl std::fmt::Display) -> StoreError {
        StoreError::Unrecoverable(format!("{what}; {RESYNC}"))
    }
}
