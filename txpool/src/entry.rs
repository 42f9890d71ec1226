//! One pooled transaction with its links and package aggregates, and the layered UTXO view
//! (chain plus outputs created by pooled transactions) admission validates against.

use crate::feerate::{FeeRate, Package};
use crate::pool::Pool;
use tfchain_consensus::error::Side;
use tfchain_consensus::fulfillment::{check_fulfillment, SpendContext};
use tfchain_consensus::{CoinEntry, ConditionError, StakeEntry, UtxoView};
use tfchain_contracts::{GridKey, GridValue, GridView};
use tfchain_types::{Condition, Height, OutputId, OutputKind, Transaction, TxId};

/// A slot in the pool's entry table. Only valid while the entry it names is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Idx(pub u32);

impl Idx {
    pub fn at(self) -> usize {
        self.0 as usize
    }
}

/// An input whose validity depends on the block's height or time (a time lock or an atomic
/// swap), kept so templates and new tips re-check it without a UTXO lookup.
#[derive(Clone, Debug)]
pub(crate) struct TimedInput {
    pub side: Side,
    pub index: usize,
    pub condition: Condition,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub tx: Transaction,
    pub txid: TxId,
    pub size: u64,
    pub fee: u128,
    /// Admission order: unique, and a topological order of the pool.
    pub seq: u64,
    /// Tip height when admitted (expiry).
    pub added_height: Height,
    /// Pool transactions this one spends outputs of (sorted, distinct).
    pub parents: Vec<Idx>,
    /// Pool transactions spending outputs of this one (sorted, distinct).
    pub children: Vec<Idx>,
    /// This transaction and all its pool ancestors.
    pub ancestors: Package,
    /// This transaction and all its pool descendants.
    pub descendants: Package,
    /// Outputs it spends (coin inputs, then blockstake inputs).
    pub spends: Vec<OutputId>,
    /// Outputs it creates (coin outputs, then blockstake outputs).
    pub creates: Vec<OutputId>,
    pub timed: Vec<TimedInput>,
    /// The highest maturity height of the confirmed outputs it spends (§5.6).
    pub mature_at: Height,
    /// Its key in the eviction index: max(own rate, descendant-package rate).
    pub evict_key: FeeRate,
    /// Its key in the mining index: min(own rate, ancestor-package rate).
    pub score_key: FeeRate,
}

impl Entry {
    pub fn own(&self) -> Package {
        Package::single(self.size, self.fee)
    }

    pub fn own_rate(&self) -> FeeRate {
        self.own().rate()
    }

    pub fn compute_evict_key(&self) -> FeeRate {
        self.own_rate().max(self.descendants.rate())
    }

    pub fn compute_score_key(&self) -> FeeRate {
        self.own_rate().min(self.ancestors.rate())
    }

    /// Whether maturity and the time-dependent inputs allow it in a block at `ctx`.
    pub fn valid_at(&self, ctx: &SpendContext) -> TimeVerdict {
        if self.mature_at > ctx.height {
            return TimeVerdict::NotYet;
        }
        let mut scratch = Vec::new();
        for t in &self.timed {
            let input = match t.side {
                Side::Coin => self.tx.coin_inputs.get(t.index),
                Side::BlockStake => self.tx.blockstake_inputs.get(t.index),
            };
            let Some(input) = input else {
                return TimeVerdict::Never;
            };
            match check_fulfillment(&t.condition, &input.fulfillment, ctx, &mut scratch) {
                Ok(()) => {}
                Err(ConditionError::TimeLocked { .. } | ConditionError::SwapNotExpired { .. }) => {
                    return TimeVerdict::NotYet
                }
                Err(_) => return TimeVerdict::Never,
            }
            scratch.clear();
        }
        TimeVerdict::Valid
    }
}

/// Whether a pooled transaction may be mined at a given height and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeVerdict {
    Valid,
    /// A time lock or maturity not yet passed, or a refund before its timeout.
    NotYet,
    /// An atomic swap claim at or after its timeout: never again on this chain.
    Never,
}

/// Whether spending an output locked by `c` depends on the block's height or time.
pub(crate) fn is_timed(c: &Condition) -> bool {
    matches!(c, Condition::TimeLock { .. } | Condition::AtomicSwap(_))
}

/// Where a pooled output comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Created {
    pub idx: Idx,
    pub kind: OutputKind,
    pub index: u32,
}

/// Chain outputs plus outputs created by pooled transactions. Outputs that pooled
/// transactions spend stay visible: conflicts are found separately, so a replacement can
/// be validated like any transaction.
pub(crate) struct PoolView<'a, C: ?Sized> {
    pub chain: &'a C,
    pub pool: &'a Pool,
    /// Pool outputs are created "now": mature at the spend height (§5.6).
    pub height: Height,
    pub timestamp: u64,
}

impl<C: UtxoView + ?Sized> UtxoView for PoolView<'_, C> {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        if let Some(c) = self.pool.created_output(id) {
            if c.kind != OutputKind::Coin {
                return None;
            }
            let o = self
                .pool
                .get(c.idx)?
                .tx
                .coin_outputs
                .get(c.index as usize)?;
            return Some(CoinEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: self.height,
                mature_at: self.height,
            });
        }
        self.chain.coin(id)
    }

    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        if let Some(c) = self.pool.created_output(id) {
            if c.kind != OutputKind::BlockStake {
                return None;
            }
            let o = self
                .pool
                .get(c.idx)?
                .tx
                .blockstake_outputs
                .get(c.index as usize)?;
            return Some(StakeEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: self.height,
                timestamp: self.timestamp,
            });
        }
        self.chain.stake(id)
    }
}

/// Grid ops are checked against the chain's grid only: pooled transactions never see each
/// other's grid effects (a block template drops whichever of two conflicting ops fails).
impl<C: GridView + ?Sized> GridView for PoolView<'_, C> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.chain.grid_get(key)
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.chain.grid_range(from, to)
    }
}
