//! A block's pending changes on top of the parent state: lookups see earlier transactions
//! of the same block, and the final diff nets out outputs created and spent in the block.

use crate::state::{BlockDiff, CoinEntry, StakeEntry, UtxoView};
use crate::transfer::TxEffect;
use std::collections::BTreeMap;
use tfchain_types::OutputId;

#[derive(Debug)]
pub struct Overlay<'a, V: UtxoView> {
    base: &'a V,
    coins_created: BTreeMap<OutputId, CoinEntry>,
    coins_spent: BTreeMap<OutputId, CoinEntry>,
    stakes_created: BTreeMap<OutputId, StakeEntry>,
    stakes_spent: BTreeMap<OutputId, StakeEntry>,
}

impl<'a, V: UtxoView> Overlay<'a, V> {
    pub fn new(base: &'a V) -> Self {
        Overlay {
            base,
            coins_created: BTreeMap::new(),
            coins_spent: BTreeMap::new(),
            stakes_created: BTreeMap::new(),
            stakes_spent: BTreeMap::new(),
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
        }
    }
}

impl<V: UtxoView> UtxoView for Overlay<'_, V> {
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
