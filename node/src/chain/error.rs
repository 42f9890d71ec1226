//! Why the chain task refused a block or a transaction.

use crate::store::StoreError;
use tfchain_consensus::BlockError;
use tfchain_types::BlockId;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("invalid block: {0}")]
    Invalid(#[from] BlockError),
    #[error("block {0} was already found invalid")]
    KnownInvalid(BlockId),
    #[error("block builds on {0}, which is invalid")]
    InvalidAncestor(BlockId),
    #[error(
        "block forks off {depth} blocks below the tip, deeper than max_reorg_depth {max}: refused"
    )]
    ReorgTooDeep { depth: u64, max: u64 },
    #[error(
        "the side branches from fork point {fork} are full ({blocks} blocks, {bytes} bytes): \
         block not kept"
    )]
    SideBranchFull {
        fork: BlockId,
        blocks: usize,
        bytes: usize,
    },
    #[error("block is too large: {size} bytes, the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    #[error("the chain task has stopped (the node is shutting down)")]
    Stopped,
}

impl ChainError {
    /// Whether the peer that sent the block is at fault.
    pub fn is_peer_fault(&self) -> bool {
        match self {
            ChainError::Invalid(e) => e.is_peer_fault(),
            ChainError::KnownInvalid(_)
            | ChainError::InvalidAncestor(_)
            | ChainError::TooLarge { .. } => true,
            // A full side branch is a local limit: the sender may have checked the block too.
            ChainError::ReorgTooDeep { .. }
            | ChainError::SideBranchFull { .. }
            | ChainError::Store(_)
            | ChainError::Stopped => false,
        }
    }
}
