//! A block's pending changes on top of the parent state: lookups see earlier transactions
//! of the same block, and the final diff nets out outputs created and spent in the block.
//! Grid records (§7) ride along as writes over the parent's grid state.

use crate::state::{BlockDiff, CoinEntry, StakeEntry, UtxoView};
use crate::transfer::TxEffect;
use std::collections::BTreeMap;
use tfchain_contracts::{GridKey, GridOverlay, GridValue, GridView, GridWrites};
use tfchain_types::OutputId;

#[derive(Debug)]
pub struct Overlay<'a, V: UtxoView + GridView> {
    base: &'a V,
    coins_created: BTreeMap<OutputId, CoinEntry>,
    coins_spent: BTreeMap<OutputId, CoinEntry>,
    stakes_created: BTreeMap<OutputId, StakeEntry>,
    stakes_spent: BTreeMap<OutputId, StakeEntry>,
    grid: GridOverlay<'a, V>,
}

impl<'a, V: UtxoView + GridView> Overlay<'a, V> {
    pub fn new(base: &'a V) -> Self {
        Overlay {
            base,
            coins_created: BTreeMap::new(),
            coins_spent: BTreeMap::new(),
            stakes_created: BTreeMap::new(),
            stakes_spent: BTreeMap::new(),
            grid: GridOverlay::new(base),
        }
    }

    /// Records a checked transaction's effect.
    pub fn apply(&mut self, effect: TxEffect) {
        for (id, e) in effect.coins_spent {
            if self.coins_created.remove(&id).is_none() {
                self.coins_spent.insert(id, e);
            }
        }
        for (id, e) in effect.stakes_spent {
            if self.stakes_created.remove(&id).is_none() {
                self.stakes_spent.insert(id, e);
            }
        }
        self.coins_created.extend(effect.coins_created);
        self.stakes_created.extend(effect.stakes_created);
        self.grid.extend(effect.grid.writes);
    }

    /// Records grid writes made outside a transaction (expiry processing).
    pub fn apply_grid(&mut self, writes: GridWrites) {
        self.grid.extend(writes);
    }

    pub fn create_coin(&mut self, id: OutputId, entry: CoinEntry) {
        self.coins_created.insert(id, entry);
    }

    pub fn into_diff(self) -> BlockDiff {
        BlockDiff {
            coins_created: self.coins_created.into_iter().collect(),
            coins_spent: self.coins_spent.into_iter().collect(),
            stakes_created: self.stakes_created.into_iter().collect(),
            stakes_spent: self.stakes_spent.into_iter().collect(),
            grid: self.grid.into_changes(),
        }
    }
}

impl<V: UtxoView + GridView> UtxoView for Overlay<'_, V> {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        if let Some(e) = self.coins_created.get(id) {
            return Some(e.clone());
        }
        if self.coins_spent.contains_key(id) {
            return None;
        }
        self.base.coin(id)
    }

    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        if let Some(e) = self.stakes_created.get(id) {
            return Some(e.clone());
        }
        if self.stakes_spent.contains_key(id) {
            return None;
        }
        self.base.stake(id)
    }
}

impl<V: UtxoView + GridView> GridView for Overlay<'_, V> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.grid.grid_get(key)
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.grid.grid_range(from, to)
    }
}
