//! Consensus errors: one variant per rule of PROTOCOL.md §3, §4.3 and §5.7.

use tfchain_contracts::GridError;
use tfchain_types::{BlockId, Currency, Height, OutputId, Timestamp};

/// Which list an input or output belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Coin,
    BlockStake,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Coin => "coin",
            Side::BlockStake => "blockstake",
        })
    }
}

/// A fulfillment that does not satisfy its parent's condition (§3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the fulfillment type does not match the condition (expected {expected})")]
    WrongFulfillment { expected: &'static str },
    #[error("the public key does not hash to the address of the condition")]
    KeyMismatch,
    #[error("the output is time-locked until {until} ({unit})")]
    TimeLocked { until: u64, unit: &'static str },
    #[error("a multisig signature's key is not one of the listed addresses")]
    MultiSigKeyNotListed,
    #[error("a multisig key signed more than once")]
    MultiSigDuplicateKey,
    #[error("multisig needs {min} signatures, has {have}")]
    MultiSigTooFewSignatures { have: u64, min: u64 },
    #[error("the atomic swap timed out at {timeout}: only the sender can refund it now")]
    SwapExpired { timeout: Timestamp },
    #[error("the atomic swap can be refunded only from {timeout}")]
    SwapNotExpired { timeout: Timestamp },
    #[error("the secret does not hash to the swap's hashed secret")]
    SecretMismatch,
    #[error("signature does not verify (ed25519 verify_strict)")]
    BadSignature,
}

/// An output condition nobody could ever spend, or that breaks the §3 shape rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputConditionError {
    #[error("an address condition must name a single-key (0x01) address")]
    AddressNotSingleKey,
    #[error("a multisig lists 2 to 32 addresses, this one {0}")]
    MultiSigSize(usize),
    #[error("multisig min must be between 1 and the number of addresses")]
    MultiSigMin,
    #[error("multisig addresses must be distinct single-key addresses")]
    MultiSigAddresses,
    #[error("atomic swap sender and receiver must be single-key addresses")]
    SwapParties,
}

/// Why a transaction is invalid (§4.3). Each variant is one rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("unsupported transaction version {0} (expected 1)")]
    UnsupportedVersion(u8),
    #[error("transaction is {size} bytes, the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("{side} inputs: {count} exceeds the limit of {max}")]
    TooManyInputs {
        side: Side,
        count: usize,
        max: usize,
    },
    #[error("{side} outputs: {count} exceeds the limit of {max}")]
    TooManyOutputs {
        side: Side,
        count: usize,
        max: usize,
    },
    #[error("arbitrary data is {size} bytes, the limit is {max}")]
    ArbitraryDataTooLarge { size: usize, max: usize },
    #[error("output {parent} is spent twice in this transaction")]
    DuplicateInput { parent: OutputId },
    #[error("{side} input {index} spends {parent}, which is not an unspent {side} output")]
    MissingInput {
        side: Side,
        index: usize,
        parent: OutputId,
    },
    #[error("{side} input {index} spends {parent}, which is a {actual} output")]
    WrongInputKind {
        side: Side,
        index: usize,
        parent: OutputId,
        actual: Side,
    },
    #[error("coin input {index} spends {parent}, which is immature until height {mature_at}")]
    ImmatureInput {
        index: usize,
        parent: OutputId,
        mature_at: Height,
    },
    #[error("{side} input {index}: {source}")]
    Fulfillment {
        side: Side,
        index: usize,
        source: ConditionError,
    },
    #[error("{side} output {index} has value zero")]
    ZeroValueOutput { side: Side, index: usize },
    #[error("{side} output {index}: {source}")]
    OutputCondition {
        side: Side,
        index: usize,
        source: OutputConditionError,
    },
    #[error(
        "coin inputs ({inputs}) do not equal coin outputs plus fee plus grid deposits ({spent})"
    )]
    CoinImbalance { inputs: Currency, spent: Currency },
    #[error("blockstake inputs ({inputs}) do not equal blockstake outputs ({outputs})")]
    StakeImbalance { inputs: u64, outputs: u64 },
    #[error("fee {fee} is below the minimum {min}")]
    FeeBelowMinimum { fee: Currency, min: Currency },
    #[error("{count} grid operations exceed the limit of {max}")]
    TooManyGridOps { count: usize, max: usize },
    #[error("grid op {index} ({op}): {source}")]
    GridShape {
        index: usize,
        op: &'static str,
        source: GridError,
    },
    #[error("grid op {index} ({op}): owner condition: {source}")]
    GridOwnerCondition {
        index: usize,
        op: &'static str,
        source: OutputConditionError,
    },
    #[error("grid op {index} ({op}): not authorised by the owner: {source}")]
    GridAuth {
        index: usize,
        op: &'static str,
        source: ConditionError,
    },
    #[error("grid op {index} (register_node): node_sig does not verify against node_key")]
    BadNodeSignature { index: usize },
    #[error("grid op {index} ({op}): {source}")]
    Grid {
        index: usize,
        op: &'static str,
        source: GridError,
    },
    #[error("amounts overflow")]
    Overflow,
}

/// Why a block is invalid (§5.7), or cannot be judged yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("unsupported block version {0} (expected 1)")]
    UnsupportedVersion(u32),
    #[error("block parent {got} is not the tip {tip} it is being applied to")]
    WrongParent { got: BlockId, tip: BlockId },
    #[error("block height {got}, expected {expected}")]
    WrongHeight { got: Height, expected: Height },
    #[error("block is {size} bytes, the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("timestamp {timestamp} is not after the parent's {parent}")]
    TimestampNotAfterParent {
        timestamp: Timestamp,
        parent: Timestamp,
    },
    #[error("timestamp {timestamp} is before the median {median} of the last 11 blocks")]
    TimestampBeforeMedian {
        timestamp: Timestamp,
        median: Timestamp,
    },
    #[error("timestamp {timestamp} is ahead of the clock ({now}) by more than the threshold: retry later")]
    TimestampInFuture {
        timestamp: Timestamp,
        now: Timestamp,
    },
    #[error("timestamp {timestamp} is too far ahead of the clock ({now})")]
    TimestampTooFarInFuture {
        timestamp: Timestamp,
        now: Timestamp,
    },
    #[error("stake output {0} is not an unspent blockstake output")]
    StakeOutputNotFound(OutputId),
    #[error("stake output {output} may win only from timestamp {eligible_at}")]
    StakeOutputNotEligible {
        output: OutputId,
        eligible_at: Timestamp,
    },
    #[error("stake output {0} is not locked by a single key")]
    StakeConditionNotSingleKey(OutputId),
    #[error("stake output {0} is still time-locked")]
    StakeOutputLocked(OutputId),
    #[error("the block creator's key does not control the stake output")]
    CreatorMismatch,
    #[error("the stake output did not win the lottery at this timestamp")]
    LotteryNotWon,
    #[error("the block signature does not verify against the creator")]
    BadSignature,
    #[error("tx_root does not match the block's transactions")]
    TxRootMismatch,
    #[error("the reward address must be a single-key (0x01) address")]
    RewardAddressInvalid,
    #[error("transaction {index}: {source}")]
    Tx { index: usize, source: TxError },
    #[error("processing the reservations that expire at this height failed: {0}")]
    GridExpiry(GridError),
    #[error("block rewards overflow")]
    Overflow,
}

impl BlockError {
    /// Whether the sender of this block is at fault (gossip penalises only then).
    /// A block too far ahead is not proof of malice: it may be retried later.
    pub fn is_peer_fault(&self) -> bool {
        match self {
            // Too far ahead by *our* clock: the local clock may be the wrong one (§5.7.2).
            BlockError::TimestampInFuture { .. }
            | BlockError::TimestampTooFarInFuture { .. }
            | BlockError::WrongParent { .. } => false,
            BlockError::UnsupportedVersion(_)
            | BlockError::WrongHeight { .. }
            | BlockError::TooLarge { .. }
            | BlockError::TimestampNotAfterParent { .. }
            | BlockError::TimestampBeforeMedian { .. }
            | BlockError::StakeOutputNotFound(_)
            | BlockError::StakeOutputNotEligible { .. }
            | BlockError::StakeConditionNotSingleKey(_)
            | BlockError::StakeOutputLocked(_)
            | BlockError::CreatorMismatch
            | BlockError::LotteryNotWon
            | BlockError::BadSignature
            | BlockError::TxRootMismatch
            | BlockError::RewardAddressInvalid
            | BlockError::Tx { .. }
            | BlockError::GridExpiry(_)
            | BlockError::Overflow => true,
        }
    }
}

impl TxError {
    /// Whether the sender is at fault: the transaction can never become valid. Errors
    /// that depend on this node's view of the chain (a parent it has not seen yet, a
    /// maturity or lock that time will pass) are not the sender's fault.
    pub fn is_sender_fault(&self) -> bool {
        match self {
            // The grid state moves on: a reservation may not exist yet, or capacity may free.
            TxError::MissingInput { .. } | TxError::ImmatureInput { .. } | TxError::Grid { .. } => {
                false
            }
            TxError::Fulfillment { source, .. } | TxError::GridAuth { source, .. } => !matches!(
                source,
                ConditionError::TimeLocked { .. } | ConditionError::SwapNotExpired { .. }
            ),
            TxError::UnsupportedVersion(_)
            | TxError::TooLarge { .. }
            | TxError::TooManyInputs { .. }
            | TxError::TooManyOutputs { .. }
            | TxError::ArbitraryDataTooLarge { .. }
            | TxError::DuplicateInput { .. }
            | TxError::WrongInputKind { .. }
            | TxError::ZeroValueOutput { .. }
            | TxError::OutputCondition { .. }
            | TxError::CoinImbalance { .. }
            | TxError::StakeImbalance { .. }
            | TxError::FeeBelowMinimum { .. }
            | TxError::TooManyGridOps { .. }
            | TxError::GridShape { .. }
            | TxError::GridOwnerCondition { .. }
            | TxError::BadNodeSignature { .. }
            | TxError::Overflow => true,
        }
    }
}
