//! Why the pool refused a transaction, one variant per rule, each saying what to do.
//!
//! Every refusal is one of three kinds: the transaction is invalid by the consensus rules
//! ([`PoolError::Invalid`], sender at fault unless time or this node's view can change it),
//! it is refused by pool policy (never the sender's fault: another node may take it), or the
//! pool itself is in trouble ([`PoolError::Internal`], a bug in the caller or the pool).

use crate::feerate::FeeRate;
use tfchain_consensus::TxError;
use tfchain_types::{BlockId, Currency, TxId};

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// A rule of PROTOCOL.md §4.3 fails against the tip plus the pool.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TxError),
    #[error("transaction {txid} is already in the pool")]
    AlreadyKnown { txid: TxId },
    #[error("transaction would have more than {max} unconfirmed transactions in its ancestry (itself included): wait until its parents confirm, then resubmit")]
    TooManyAncestors { max: usize },
    #[error("transaction spends an output of {txid}, which it also double-spends: it can never be valid")]
    SpendsReplacedOutput { txid: TxId },
    #[error("replacement would displace {count} transactions (descendants included), the limit is {max}: spend outputs with fewer unconfirmed descendants")]
    TooManyReplacements { count: usize, max: usize },
    #[error("replacement fee rate is below {required} (the required multiple of the rate of {conflict}, which it double-spends): raise the fee to at least {min_fee}")]
    ReplacementFeeRateTooLow {
        conflict: TxId,
        required: FeeRate,
        min_fee: Currency,
    },
    #[error("replacement fee {fee} does not exceed the {displaced_fee} paid by the {count} pool transactions it would displace: raise the fee above {displaced_fee}")]
    ReplacementFeeTooLow {
        fee: Currency,
        displaced_fee: Currency,
        count: usize,
    },
    #[error("the pool is full and keeps the highest fee rates: this transaction (with its unconfirmed ancestors) pays {rate}, not above the {floor} it would have to evict: pay a fee of at least {min_fee}, or wait for blocks to drain the pool")]
    FeeRateBelowEvictionRate {
        rate: FeeRate,
        floor: FeeRate,
        min_fee: Currency,
    },
    #[error("the pool is full and this transaction cannot fit: {reason}")]
    PoolFull { reason: &'static str },
    #[error("internal pool error: {0}")]
    Internal(#[from] InternalError),
}

impl PoolError {
    /// Whether the sender is at fault: the transaction can never become valid, so gossip
    /// may penalise the peer. Policy refusals are never the sender's fault.
    pub fn is_sender_fault(&self) -> bool {
        match self {
            PoolError::Invalid(e) => e.is_sender_fault(),
            PoolError::SpendsReplacedOutput { .. } => true,
            PoolError::AlreadyKnown { .. }
            | PoolError::TooManyAncestors { .. }
            | PoolError::TooManyReplacements { .. }
            | PoolError::ReplacementFeeRateTooLow { .. }
            | PoolError::ReplacementFeeTooLow { .. }
            | PoolError::FeeRateBelowEvictionRate { .. }
            | PoolError::PoolFull { .. }
            | PoolError::Internal(_) => false,
        }
    }

    /// Whether the pool (or its caller), not the transaction, is the problem.
    pub fn is_internal(&self) -> bool {
        matches!(self, PoolError::Internal(_))
    }
}

/// The pool cannot judge transactions: it is out of step with the chain or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InternalError {
    #[error("the pool follows tip {pool_tip} but was handed a chain at {chain_tip}: report every tip change with on_block_connected / on_block_disconnected, or call resync")]
    OutOfSync {
        pool_tip: BlockId,
        chain_tip: BlockId,
    },
    #[error("the chain handed to the pool is at {chain_tip}, expected {expected}: pass the chain state after the block is connected (or after it is undone)")]
    WrongTip {
        expected: BlockId,
        chain_tip: BlockId,
    },
    #[error("pool index inconsistent at transaction {txid}: {what}")]
    Inconsistent { txid: TxId, what: &'static str },
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_stay_small() {
        // Results carry the error by value through every admission: keep it compact.
        assert!(std::mem::size_of::<super::PoolError>() <= 112);
    }
}
