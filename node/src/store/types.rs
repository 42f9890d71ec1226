//! The records the store keeps besides consensus types, and what its reads return.

use serde::{Deserialize, Serialize};
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::{BlockDiff, BlockMeta, CoinEntry, StakeEntry};
use tfchain_types::{
    BlockId, BlockStakes, Currency, GridEvent, Height, OutputId, OutputKind, TxId,
};

/// Σ of the unspent coins and blockstakes, and of the coins the capacity market holds
/// (PROTOCOL.md §6: `coins + escrow + earnings == genesis coins + Σ block rewards`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub coins: Currency,
    pub blockstakes: BlockStakes,
    /// Σ escrow of every reservation (§7.2; ended ones hold zero).
    pub escrow: Currency,
    /// Σ unclaimed earnings of every node (§7.4).
    pub earnings: Currency,
}

/// Where a block stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockStatus {
    /// Applied: part of the main chain, with undo data.
    OnMain,
    /// Stored but not applied (a side-chain block, or one undone by a reorg or rollback).
    Stored,
    /// Failed validation; never apply it again.
    Invalid,
}

/// What the store knows about a block besides its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockIndexEntry {
    pub meta: BlockMeta,
    pub parent: BlockId,
    pub status: BlockStatus,
}

/// Undo data of a main-chain block: its diff and the totals after it (the totals let the
/// consistency check tell which block the unspent-output tables are at).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoRecord {
    pub diff: BlockDiff,
    pub totals: Totals,
    /// The block's grid events (PROTOCOL.md §7.5), to remove their index entries on undo
    /// and to report them as reverted.
    pub events: Vec<GridEvent>,
}

/// The record a commit appends to the block files: which block joined the main chain on
/// which parent, with everything needed to replay the commit after a crash (or to undo
/// it). The `Undo` table points at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// Where the block itself is.
    pub block: super::segments::FileLoc,
    pub parent: BlockId,
    pub meta: BlockMeta,
    pub fees: Currency,
    pub undo: UndoRecord,
}

/// A grid event as stored: with the block that yielded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub block: BlockId,
    pub event: GridEvent,
}

/// Where an event sits on the main chain: `(height, index among the block's events)`.
/// Cursors are exclusive: the next page starts after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventPosition {
    pub height: Height,
    pub index: u32,
}

/// One event of the main chain with its position and block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEvent {
    pub position: EventPosition,
    pub block: BlockId,
    pub event: GridEvent,
}

/// Where a transaction sits on the main chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    pub height: Height,
    pub block: BlockId,
    /// Index of the transaction in the block.
    pub position: u32,
}

impl TxLocation {
    /// What the transaction index keeps of it.
    pub fn spot(&self) -> TxSpot {
        TxSpot {
            height: self.height,
            position: self.position,
        }
    }
}

/// What the transaction index keeps per transaction: where it sits, by height. The block
/// is the main chain's at that height (`Heights`); a reader checks the transaction there
/// still has the ID it looked up, so an entry a reorganisation made stale (until the
/// indexer catches up) is never reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxSpot {
    pub height: Height,
    pub position: u32,
}

/// The last block the explorer indexer has indexed: its entries are in the database, those
/// of the blocks after it are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedTip {
    pub height: Height,
    pub id: BlockId,
}

/// What an address-history entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistorySource {
    /// A transaction of the block (its position is the transaction's index).
    Transaction(TxId),
    /// The block's payouts (reward and fees, PROTOCOL.md §5.5); position = number of
    /// transactions of the block, so it sorts after them.
    Payouts,
}

/// What one transaction (or one block's payouts) did to one address: the sums of the coin
/// and blockstake outputs it created for the address and spent from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub source: HistorySource,
    pub received: Currency,
    pub sent: Currency,
    pub blockstakes_received: BlockStakes,
    pub blockstakes_sent: BlockStakes,
}

/// A position in an address's history: `(height, position in block)`. Pagination cursors
/// are exclusive: the next page starts after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HistoryCursor {
    pub height: Height,
    pub position: u32,
}

/// One entry of an address's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressTx {
    pub height: Height,
    pub position: u32,
    pub entry: HistoryEntry,
}

impl AddressTx {
    pub fn cursor(&self) -> HistoryCursor {
        HistoryCursor {
            height: self.height,
            position: self.position,
        }
    }
}

/// An unspent output of an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputRef {
    Coin(CoinEntry),
    Stake(StakeEntry),
}

impl OutputRef {
    pub fn kind(&self) -> OutputKind {
        match self {
            OutputRef::Coin(_) => OutputKind::Coin,
            OutputRef::Stake(_) => OutputKind::BlockStake,
        }
    }
}

/// Two headers signed for one stake output at one height (PROTOCOL.md §5.8), as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEquivocation {
    pub first: SignedHeader,
    pub second: SignedHeader,
}

/// Equivocation evidence with its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equivocation {
    pub height: Height,
    pub stake_output: OutputId,
    pub first: SignedHeader,
    pub second: SignedHeader,
}

/// The result of a consistency check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyReport {
    pub tip: BlockId,
    pub tip_height: Height,
    /// What was repaired, if anything (also logged at `error` level).
    pub repaired: Option<String>,
    /// Σ unspent coins, from a full scan.
    pub coins: Currency,
    /// Σ unspent blockstakes, from a full scan.
    pub blockstakes: BlockStakes,
    /// Σ reservation escrow, from a full scan of the grid records.
    pub escrow: Currency,
    /// Σ unclaimed node earnings, from a full scan of the grid records.
    pub earnings: Currency,
}
