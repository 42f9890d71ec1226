//! The state at the tip of a side branch (PROTOCOL.md §5.8), seen from the main chain's
//! state: the main chain rewound to the fork point with the undo diffs of its blocks above
//! it, then the branch's own blocks applied with their diffs. A side block is validated
//! against this view exactly as a child of the main tip is validated against the main
//! state, so every rule (§5.7 1–6) holds on every branch.

use crate::state::{BlockDiff, BlockMeta, CoinEntry, StakeEntry, StateView, UtxoView};
use std::collections::{BTreeMap, BTreeSet};
use tfchain_contracts::{GridKey, GridValue, GridView};
use tfchain_types::{Height, OutputId};

/// A [`StateView`] of a side branch over the main chain's state `base`.
///
/// Build it with [`BranchView::new`] at the fork point, [`BranchView::undo_main`] for every
/// main-chain block above the fork (newest first), then [`BranchView::apply`] for every
/// branch block (oldest first). Entries map to `None` where the output or record is absent
/// on the branch although present on the main chain.
#[derive(Debug)]
pub struct BranchView<'a, V: StateView> {
    base: &'a V,
    fork: BlockMeta,
    coins: BTreeMap<OutputId, Option<CoinEntry>>,
    stakes: BTreeMap<OutputId, Option<StakeEntry>>,
    grid: BTreeMap<GridKey, Option<GridValue>>,
    /// The branch's blocks above the fork, oldest first.
    metas: Vec<BlockMeta>,
}

impl<'a, V: StateView> BranchView<'a, V> {
    /// The state at `fork`, a block of `base`'s chain, once every main block above it has
    /// been undone.
    pub fn new(base: &'a V, fork: BlockMeta) -> Self {
        BranchView {
            base,
            fork,
            coins: BTreeMap::new(),
            stakes: BTreeMap::new(),
            grid: BTreeMap::new(),
            metas: Vec::new(),
        }
    }

    /// The fork point.
    pub fn fork(&self) -> &BlockMeta {
        &self.fork
    }

    /// Undoes the diff of one main-chain block above the fork. Call newest first: an
    /// earlier block's undo then overrides a later one's, leaving the state at the fork.
    pub fn undo_main(&mut self, diff: &BlockDiff) {
        for (id, _) in &diff.coins_created {
            self.coins.insert(*id, None);
        }
        for (id, e) in &diff.coins_spent {
            self.coins.insert(*id, Some(e.clone()));
        }
        for (id, _) in &diff.stakes_created {
            self.stakes.insert(*id, None);
        }
        for (id, e) in &diff.stakes_spent {
            self.stakes.insert(*id, Some(e.clone()));
        }
        for c in diff.grid.iter().rev() {
            self.grid.insert(c.key.clone(), c.before.clone());
        }
    }

    /// Applies the diff of the next branch block (oldest first), whose meta is `meta`.
    pub fn apply(&mut self, meta: BlockMeta, diff: &BlockDiff) {
        for (id, _) in &diff.coins_spent {
            self.coins.insert(*id, None);
        }
        for (id, e) in &diff.coins_created {
            self.coins.insert(*id, Some(e.clone()));
        }
        for (id, _) in &diff.stakes_spent {
            self.stakes.insert(*id, None);
        }
        for (id, e) in &diff.stakes_created {
            self.stakes.insert(*id, Some(e.clone()));
        }
        for c in &diff.grid {
            self.grid.insert(c.key.clone(), c.after.clone());
        }
        self.metas.push(meta);
    }
}

impl<V: StateView> UtxoView for BranchView<'_, V> {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        match self.coins.get(id) {
            Some(e) => e.clone(),
            None => self.base.coin(id),
        }
    }
    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        match self.stakes.get(id) {
            Some(e) => e.clone(),
            None => self.base.stake(id),
        }
    }
}

impl<V: StateView> GridView for BranchView<'_, V> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        match self.grid.get(key) {
            Some(v) => v.clone(),
            None => self.base.grid_get(key),
        }
    }
    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        if from >= to {
            return Vec::new();
        }
        let mut keys: BTreeSet<GridKey> = self.base.grid_range(from, to).into_iter().collect();
        for (k, v) in self.grid.range(from.clone()..to.clone()) {
            if v.is_some() {
                keys.insert(k.clone());
            } else {
                keys.remove(k);
            }
        }
        keys.into_iter().collect()
    }
}

impl<V: StateView> StateView for BranchView<'_, V> {
    fn tip(&self) -> BlockMeta {
        self.metas.last().unwrap_or(&self.fork).clone()
    }
    fn block_at(&self, height: Height) -> Option<BlockMeta> {
        if height <= self.fork.height {
            return self.base.block_at(height);
        }
        let i = usize::try_from(height - self.fork.height - 1).ok()?;
        self.metas.get(i).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply_block;
    use crate::testkit::{address_of, payment, TestChain};
    use tfchain_types::{Condition, Currency};

    fn pay_from(chain: &TestChain, who: usize) -> tfchain_types::Transaction {
        let key = &chain.funded[who];
        let coins: Vec<(OutputId, Currency)> = chain
            .spendable(&address_of(key))
            .into_iter()
            .map(|(id, e)| (id, e.value))
            .collect();
        payment(
            &coins,
            key,
            Condition::Address(address_of(&chain.funded[2])),
            Currency(1_000),
            chain.params.min_fee,
            &chain.params.genesis_id,
        )
    }

    /// A branch view rewound over main blocks and replaying a side branch sees exactly the
    /// state of a chain that followed the branch from the start.
    #[test]
    fn rewind_then_replay_equals_the_branch_state() {
        let mut main = TestChain::new(&[1], 3, Currency(1_000_000_000_000));
        main.produce(vec![]).expect("valid");
        let mut side = main.clone();
        let fork = main.state.tip();
        // Main: a payment from funded key 0, then two empty blocks.
        let mut undo = Vec::new();
        let tx = pay_from(&main, 0);
        for txs in [vec![tx], vec![], vec![]] {
            undo.push(main.produce(txs).expect("valid main block").0.diff);
        }
        // Side: a payment from funded key 1, then one empty block.
        let mut branch = Vec::new();
        let tx = pay_from(&side, 1);
        for txs in [vec![tx], vec![]] {
            let o = side.produce(txs).expect("valid side block").0;
            branch.push((o.meta, o.diff));
        }

        let mut view = BranchView::new(&main.state, fork);
        for d in undo.iter().rev() {
            view.undo_main(d);
        }
        for (m, d) in &branch {
            view.apply(m.clone(), d);
        }
        assert_eq!(view.tip(), side.state.tip());
        for h in 0..=side.state.tip().height {
            assert_eq!(view.block_at(h), side.state.block_at(h), "height {h}");
        }
        for (id, e) in &side.state.coins {
            assert_eq!(view.coin(id).as_ref(), Some(e), "side coin {id}");
        }
        for id in main.state.coins.keys() {
            assert_eq!(view.coin(id), side.state.coin(id), "main coin {id}");
        }
        for (id, e) in &side.state.stakes {
            assert_eq!(view.stake(id).as_ref(), Some(e));
        }
        for id in main.state.stakes.keys() {
            assert_eq!(view.stake(id), side.state.stake(id));
        }
        // A block built on the side chain applies on the view exactly as on the side state.
        let (next, _) = side.next_block(vec![]);
        let now = next.header.timestamp;
        let on_view = apply_block(&view, &next, &side.params, now).expect("valid on the view");
        let on_side = apply_block(&side.state, &next, &side.params, now).expect("valid");
        assert_eq!(on_view, on_side);
        // And the main chain's next block does not: its parent is not the branch tip.
        let (main_next, _) = main.next_block(vec![]);
        assert!(apply_block(&view, &main_next, &main.params, now + 10).is_err());
    }
}
