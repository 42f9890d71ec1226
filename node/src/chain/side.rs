//! Side-chain bookkeeping (PROTOCOL.md §5.8, §8): how many side blocks and bytes hang off
//! each fork point (bounded, so no peer can fill the disk with a valid-looking branch), the
//! diffs of validated side blocks (so the next block of a branch is validated without
//! replaying the branch), and pruning of branches that fork below `max_reorg_depth` and can
//! therefore never be chosen.

use super::error::ChainError;
use std::collections::BTreeMap;
use tfchain_consensus::BlockDiff;
use tfchain_types::{BlockId, Height};

/// Most side blocks kept per fork point.
pub const MAX_SIDE_BLOCKS_PER_FORK: usize = 1_024;
/// Most encoded side-block bytes kept per fork point (128 MiB).
pub const MAX_SIDE_BYTES_PER_FORK: usize = 128 * 1024 * 1024;
/// Diffs of validated side blocks kept in memory; a missing one is recomputed.
const MAX_CACHED_DIFFS: usize = 2_048;

/// A fork point: its height first, so pruning walks them in order.
type Fork = (Height, BlockId);

#[derive(Debug, Default)]
pub(super) struct SideBlocks {
    /// Fork point → (side blocks, bytes) stored on branches from it in this run.
    per_fork: BTreeMap<Fork, (usize, usize)>,
    /// Fork point → the side blocks stored on branches from it.
    blocks: BTreeMap<Fork, Vec<BlockId>>,
    diffs: BTreeMap<BlockId, BlockDiff>,
}

impl SideBlocks {
    /// Refuses a block of `size` bytes on a branch from `fork` when that fork is full.
    pub(super) fn check_room(&self, fork: Fork, size: usize) -> Result<(), ChainError> {
        let (blocks, bytes) = self.per_fork.get(&fork).copied().unwrap_or((0, 0));
        if blocks >= MAX_SIDE_BLOCKS_PER_FORK
            || bytes.saturating_add(size) > MAX_SIDE_BYTES_PER_FORK
        {
            return Err(ChainError::SideBranchFull {
                fork: fork.1,
                blocks,
                bytes,
            });
        }
        Ok(())
    }

    /// Records a validated side block stored on a branch from `fork`.
    pub(super) fn record(&mut self, fork: Fork, id: BlockId, size: usize, diff: BlockDiff) {
        let e = self.per_fork.entry(fork).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(size);
        self.blocks.entry(fork).or_default().push(id);
        self.cache_diff(id, diff);
    }

    pub(super) fn diff(&self, id: &BlockId) -> Option<&BlockDiff> {
        self.diffs.get(id)
    }

    pub(super) fn cache_diff(&mut self, id: BlockId, diff: BlockDiff) {
        if self.diffs.len() >= MAX_CACHED_DIFFS {
            // Any entry will do: a missing diff is recomputed from the stored block.
            if let Some(k) = self.diffs.keys().next().copied() {
                self.diffs.remove(&k);
            }
        }
        self.diffs.insert(id, diff);
    }

    /// A side block joined the main chain: its diff now lives in the store's undo data.
    pub(super) fn joined_main(&mut self, id: &BlockId) {
        self.diffs.remove(id);
    }

    /// Forgets the branches forking below `floor` and returns their blocks (which the
    /// caller removes from the store unless they are on the main chain now).
    pub(super) fn prune(&mut self, floor: Height) -> Vec<BlockId> {
        let keep = self.per_fork.split_off(&(floor, BlockId::ZERO));
        self.per_fork = keep;
        let keep = self.blocks.split_off(&(floor, BlockId::ZERO));
        let gone: Vec<BlockId> = std::mem::replace(&mut self.blocks, keep)
            .into_values()
            .flatten()
            .collect();
        for id in &gone {
            self.diffs.remove(id);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::Hash;

    fn id(n: u8) -> BlockId {
        BlockId(Hash([n; 32]))
    }

    #[test]
    fn a_fork_point_is_bounded_in_blocks_and_bytes_and_pruned_below_the_floor() {
        let mut s = SideBlocks::default();
        let fork = (10, id(1));
        for i in 0..MAX_SIDE_BLOCKS_PER_FORK {
            s.check_room(fork, 100).expect("room");
            s.record(fork, id((i % 250) as u8 + 2), 100, BlockDiff::default());
        }
        assert!(matches!(
            s.check_room(fork, 100),
            Err(ChainError::SideBranchFull {
                blocks: MAX_SIDE_BLOCKS_PER_FORK,
                ..
            })
        ));
        // Another fork point has its own budget, in bytes too.
        let other = (11, id(9));
        assert!(s.check_room(other, MAX_SIDE_BYTES_PER_FORK).is_ok());
        s.record(
            other,
            id(200),
            MAX_SIDE_BYTES_PER_FORK - 10,
            BlockDiff::default(),
        );
        assert!(s.check_room(other, 11).is_err());
        assert!(s.check_room(other, 10).is_ok());
        // Pruning at 11 forgets the fork at 10 only.
        let gone = s.prune(11);
        assert_eq!(gone.len(), MAX_SIDE_BLOCKS_PER_FORK);
        assert!(s.check_room(fork, 100).is_ok());
        assert!(s.check_room(other, 11).is_err());
    }
}
