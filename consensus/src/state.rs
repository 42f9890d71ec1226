//! The chain state as the rules see it (PROTOCOL.md §6): unspent outputs with their
//! creation height and time, and the blocks of the current chain. [`BlockDiff`] is what a
//! block changes and undoes exactly.

use crate::target::{Target, Work};
use serde::{Deserialize, Serialize};
use tfchain_contracts::{GridChange, GridView};
use tfchain_types::{
    BlockId, BlockStakes, Condition, Currency, GridEvent, Height, OutputId, Timestamp,
};

/// An unspent coin output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinEntry {
    pub value: Currency,
    pub condition: Condition,
    /// Height of the block that created it.
    pub height: Height,
    /// Spendable from this height (§5.6): `height` for ordinary outputs.
    pub mature_at: Height,
}

/// An unspent blockstake output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeEntry {
    pub value: BlockStakes,
    pub condition: Condition,
    pub height: Height,
    /// Timestamp of the block that created it (eligibility, §5.4).
    pub timestamp: Timestamp,
}

/// What the rules need to know about a block of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    pub id: BlockId,
    pub height: Height,
    pub timestamp: Timestamp,
    /// The target this block's children must meet (§5.8).
    pub child_target: Target,
    /// Sum of the work of the chain up to and including this block.
    pub total_work: Work,
}

/// Read access to unspent outputs: all a transaction's validity needs (§4.3).
pub trait UtxoView {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry>;
    fn stake(&self, id: &OutputId) -> Option<StakeEntry>;
}

/// Read access to the state at the tip a block is applied to: outputs and the grid (§7).
pub trait StateView: UtxoView + GridView {
    /// The tip of the chain.
    fn tip(&self) -> BlockMeta;
    /// The block at `height` on the tip's chain (`height <= tip.height`).
    fn block_at(&self, height: Height) -> Option<BlockMeta>;
}

/// Everything a block changed: applying it again or undoing it needs nothing else.
/// Outputs created and spent inside the same block appear in neither list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDiff {
    pub coins_created: Vec<(OutputId, CoinEntry)>,
    pub coins_spent: Vec<(OutputId, CoinEntry)>,
    pub stakes_created: Vec<(OutputId, StakeEntry)>,
    pub stakes_spent: Vec<(OutputId, StakeEntry)>,
    /// Grid records changed (§7), in key order; undo restores each `before`.
    pub grid: Vec<GridChange>,
}

impl BlockDiff {
    /// Net change of the coin supply (created − spent), for the §6 invariant.
    pub fn coin_delta(&self) -> (Currency, Currency) {
        let sum = |v: &[(OutputId, CoinEntry)]| {
            v.iter()
                .fold(0u128, |acc, (_, e)| acc.saturating_add(e.value.0))
        };
        (
            Currency(sum(&self.coins_created)),
            Currency(sum(&self.coins_spent)),
        )
    }
}

/// The result of applying a valid block: its diff and the new tip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutcome {
    pub diff: BlockDiff,
    pub meta: BlockMeta,
    /// Sum of the fees of its transactions.
    pub fees: Currency,
    /// The grid events of the block, in order (§7.5).
    pub events: Vec<GridEvent>,
}
