//! An in-memory chain state: the reference implementation of [`StateView`] used by tests,
//! simulations, benchmarks and the transaction pool's tests. The node keeps its state in
//! its store; this type never backs a running node.

use crate::apply::{apply_block, apply_genesis, GenesisError};
use crate::error::BlockError;
use crate::params::ChainParams;
use crate::state::{
    BlockDiff, BlockMeta, BlockOutcome, CoinEntry, StakeEntry, StateView, UtxoView,
};
use std::collections::BTreeMap;
use tfchain_contracts::{GridKey, GridValue, GridView, MemoryGrid};
use tfchain_types::{Block, Currency, OutputId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryState {
    pub coins: BTreeMap<OutputId, CoinEntry>,
    pub stakes: BTreeMap<OutputId, StakeEntry>,
    /// The chain, genesis first.
    pub chain: Vec<BlockMeta>,
    /// Undo data of every block but genesis (index = height - 1).
    pub diffs: Vec<BlockDiff>,
    /// The capacity market's records (§7).
    pub grid: MemoryGrid,
}

impl MemoryState {
    /// The state after the genesis block.
    pub fn from_genesis(genesis: &Block, params: &ChainParams) -> Result<Self, GenesisError> {
        let outcome = apply_genesis(genesis, params)?;
        let mut s = MemoryState {
            coins: BTreeMap::new(),
            stakes: BTreeMap::new(),
            chain: Vec::new(),
            diffs: Vec::new(),
            grid: MemoryGrid::default(),
        };
        s.apply_diff(&outcome.diff);
        s.chain.push(outcome.meta);
        Ok(s)
    }

    /// Validates and applies a block on top of the tip.
    pub fn apply(
        &mut self,
        block: &Block,
        params: &ChainParams,
        now: Timestamp,
    ) -> Result<BlockOutcome, BlockError> {
        let outcome = apply_block(self, block, params, now)?;
        self.commit(&outcome);
        Ok(outcome)
    }

    /// Commits an outcome computed against this state's tip.
    pub fn commit(&mut self, outcome: &BlockOutcome) {
        self.apply_diff(&outcome.diff);
        self.chain.push(outcome.meta.clone());
        self.diffs.push(outcome.diff.clone());
    }

    /// Undoes the tip block. Returns false at genesis.
    pub fn undo_tip(&mut self) -> bool {
        if self.chain.len() <= 1 {
            return false;
        }
        let Some(diff) = self.diffs.pop() else {
            return false;
        };
        for (id, _) in &diff.coins_created {
            self.coins.remove(id);
        }
        for (id, _) in &diff.stakes_created {
            self.stakes.remove(id);
        }
        for (id, e) in &diff.coins_spent {
            self.coins.insert(*id, e.clone());
        }
        for (id, e) in &diff.stakes_spent {
            self.stakes.insert(*id, e.clone());
        }
        self.grid.undo(&diff.grid);
        self.chain.pop();
        true
    }

    fn apply_diff(&mut self, diff: &BlockDiff) {
        for (id, _) in &diff.coins_spent {
            self.coins.remove(id);
        }
        for (id, _) in &diff.stakes_spent {
            self.stakes.remove(id);
        }
        for (id, e) in &diff.coins_created {
            self.coins.insert(*id, e.clone());
        }
        for (id, e) in &diff.stakes_created {
            self.stakes.insert(*id, e.clone());
        }
        self.grid.apply(&diff.grid);
    }

    /// Σ escrow of all reservations plus Σ unclaimed node earnings: the grid's terms of
    /// the §6 supply invariant.
    pub fn grid_held(&self) -> Currency {
        let held = self.grid.0.values().fold(0u128, |acc, v| match v {
            GridValue::Reservation(r) => acc.saturating_add(r.escrow.0),
            GridValue::Node(n) => acc.saturating_add(n.earnings.0),
            _ => acc,
        });
        Currency(held)
    }

    /// Σ of unspent coins (the left side of the §6 invariant without grid terms, see
    /// [`MemoryState::grid_held`]).
    pub fn total_coins(&self) -> Currency {
        Currency(
            self.coins
                .values()
                .fold(0u128, |acc, e| acc.saturating_add(e.value.0)),
        )
    }

    pub fn total_stake(&self) -> u64 {
        self.stakes
            .values()
            .fold(0u64, |acc, e| acc.saturating_add(e.value))
    }

    pub fn height(&self) -> u64 {
        self.chain.len() as u64 - 1
    }
}

impl UtxoView for MemoryState {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        self.coins.get(id).cloned()
    }
    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        self.stakes.get(id).cloned()
    }
}

impl StateView for MemoryState {
    fn tip(&self) -> BlockMeta {
        self.chain
            .last()
            .cloned()
            .expect("a MemoryState always holds at least its genesis block")
    }
    fn block_at(&self, height: u64) -> Option<BlockMeta> {
        usize::try_from(height)
            .ok()
            .and_then(|h| self.chain.get(h))
            .cloned()
    }
}

impl GridView for MemoryState {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.grid.grid_get(key)
    }
    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.grid.grid_range(from, to)
    }
}
