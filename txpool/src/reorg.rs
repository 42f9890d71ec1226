//! New tips and reorganisations. A connected block removes what it confirmed and what it
//! conflicts with; nothing else is re-validated, because every pooled transaction was
//! valid against the old tip plus its pool ancestors and a block only removes outputs the
//! pool did not spend (conflicts aside) or confirms the pool's own. Pooled grid ops are
//! re-run only when they name a grid record the block changed ([`Touched`]), so a block
//! costs the pool in proportion to what it touched, not to the pool's grid transactions.
//! A disconnected block's transactions come back if still valid, before the pool
//! transactions that spend them.

use crate::admit::{admission_context, Candidate, Sigs};
use crate::chain::ChainView;
use crate::entry::{Idx, TimeVerdict};
use crate::error::{InternalError, PoolError};
use crate::pool::Pool;
use rayon::prelude::*;
use std::collections::BTreeSet;
use tfchain_consensus::{block_payouts, SpendContext};
use tfchain_contracts::GridReads;
use tfchain_types::{
    Block, BlockId, Currency, FarmName, GridOp, Height, NodeId, OutputId, PublicKey, ReservationId,
    ReservationState, Timestamp, Transaction, TxId,
};

/// What a connected block did to the pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectReport {
    /// Pool transactions the block confirmed.
    pub included: Vec<TxId>,
    /// Pool transactions spending outputs the block spent, and their descendants.
    pub conflicts: Vec<TxId>,
    /// Transactions that reached `expiry_blocks`, and their descendants.
    pub expired: Vec<TxId>,
    /// Atomic swap claims past their timeout, and their descendants.
    pub timed_out: Vec<TxId>,
    /// Transactions whose grid ops the new grid state refuses, and their descendants.
    pub grid_invalid: Vec<TxId>,
    /// How many pooled grid transactions were re-run against the new grid state: those
    /// naming a record the block changed, the others still apply (PROTOCOL.md §7.3).
    pub grid_rechecked: usize,
}

/// What re-admitting transactions did (a disconnected block, or a resync).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReinjectReport {
    /// Transactions (back) in the pool.
    pub admitted: Vec<TxId>,
    /// Transactions no longer valid (or refused by the limits), with the reason.
    pub dropped: Vec<(TxId, PoolError)>,
    /// Transactions evicted to make room for the re-admitted ones.
    pub evicted: Vec<TxId>,
}

impl Pool {
    /// Updates the pool for a block just connected on top of its tip. `chain` is the state
    /// with the block applied.
    pub fn on_block_connected<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        block: &Block,
    ) -> Result<ConnectReport, InternalError> {
        let id = block.id();
        self.check_step(chain.tip_id(), id, block.header.parent)?;
        let mut report = ConnectReport::default();

        let txids: Vec<TxId> = block
            .transactions
            .par_iter()
            .with_min_len(64)
            .map(Transaction::txid)
            .collect();
        for txid in &txids {
            if let Some(i) = self.idx_of(txid) {
                report.included.push(self.remove_confirmed(i));
            }
        }
        for tx in &block.transactions {
            for input in tx.coin_inputs.iter().chain(&tx.blockstake_inputs) {
                if let Some(i) = self.spender_idx(&input.parent) {
                    let set = self.closure(&[i]);
                    report.conflicts.extend(self.remove_closed(&set));
                }
            }
        }
        self.tip = Some(id);
        report.expired = self.expire(chain.tip_height());
        let next = SpendContext {
            height: chain.tip_height().saturating_add(1),
            timestamp: chain.tip_timestamp().saturating_add(1),
        };
        report.timed_out = self.drop_never_valid(&next);
        let touched = Touched::of(chain, block);
        (report.grid_invalid, report.grid_rechecked) =
            self.drop_grid_invalid(chain, &next, &touched);
        Ok(report)
    }

    /// Updates the pool for its tip block just undone (a reorganisation). `chain` is the
    /// state after the undo; `now` is the caller's clock. The block's transactions are
    /// re-admitted in block order (their signatures were verified when the block was), then
    /// the pool transactions that spent the block's outputs; those no longer valid drop.
    pub fn on_block_disconnected<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        block: &Block,
        now: Timestamp,
    ) -> Result<ReinjectReport, InternalError> {
        let id = block.id();
        self.check_step(chain.tip_id(), block.header.parent, id)?;

        // Outputs that existed only because of the block: its transactions' (they come
        // back through re-admission) and its payouts (gone for good).
        let mut gone: Vec<OutputId> = Vec::new();
        let mut fees = Currency::ZERO;
        for tx in &block.transactions {
            let txid = tx.txid();
            fees = fees.checked_add(tx.fee).unwrap_or(fees);
            gone.extend((0..tx.coin_outputs.len()).map(|i| Transaction::coin_output_id(&txid, i)));
            gone.extend(
                (0..tx.blockstake_outputs.len()).map(|i| Transaction::stake_output_id(&txid, i)),
            );
        }
        let payouts = block_payouts(chain.params(), &block.header.reward_address, fees).len();
        gone.extend((0..payouts as u64).map(|i| OutputId::for_payout(&id, i)));
        let roots: Vec<Idx> = gone.iter().filter_map(|o| self.spender_idx(o)).collect();
        let set = self.closure(&roots);
        let pulled: Vec<Transaction> = self.take_closed(&set).into_iter().map(|e| e.tx).collect();

        self.tip = Some(chain.tip_id());
        let mut txs = block.transactions.clone();
        txs.extend(pulled);
        Ok(self.readmit_trusted(chain, txs, now))
    }

    /// Re-validates the whole pool against `chain` (whatever its tip) without re-checking
    /// signatures: the way back after an [`InternalError::OutOfSync`].
    pub fn resync<C: ChainView + ?Sized>(&mut self, chain: &C, now: Timestamp) -> ReinjectReport {
        let txs = self.drain_all();
        self.tip = Some(chain.tip_id());
        self.readmit_trusted(chain, txs, now)
    }

    fn readmit_trusted<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        txs: Vec<Transaction>,
        now: Timestamp,
    ) -> ReinjectReport {
        let ctx = admission_context(chain, now);
        let genesis_id = chain.params().genesis_id;
        let mut report = ReinjectReport::default();
        for tx in txs {
            let cand = Candidate::new(tx, &genesis_id);
            let txid = cand.hashes.txid;
            match self.commit(chain, &ctx, cand, Sigs::Trusted) {
                Ok(a) => {
                    report.admitted.push(a.txid);
                    report.evicted.extend(a.evicted);
                }
                Err(e) => report.dropped.push((txid, e)),
            }
        }
        // A later re-admission may have evicted an earlier one: list what stayed.
        report.admitted.retain(|t| self.contains(t));
        report
    }

    /// Checks that the pool moves from `from` to `to` with the chain at `to`.
    fn check_step(
        &self,
        chain_tip: BlockId,
        to: BlockId,
        from: BlockId,
    ) -> Result<(), InternalError> {
        if chain_tip != to {
            return Err(InternalError::WrongTip {
                expected: to,
                chain_tip,
            });
        }
        match self.tip {
            Some(t) if t == from => Ok(()),
            _ if self.is_empty() => Ok(()),
            pool_tip => Err(InternalError::OutOfSync {
                pool_tip: pool_tip.unwrap_or(BlockId::ZERO),
                chain_tip,
            }),
        }
    }

    /// Re-checks the grid ops of pooled transactions that name a record the block changed
    /// (`touched`: another transaction may have cancelled the reservation, taken the
    /// capacity or the farm name, or the reservation went into Grace) against the new grid
    /// state and removes those refused, with their descendants. Their owners' signatures
    /// are not checked again. Returns the removed and how many were re-run.
    fn drop_grid_invalid<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        ctx: &SpendContext,
        touched: &Touched,
    ) -> (Vec<TxId>, usize) {
        use tfchain_consensus::grid::{apply_grid_ops, Authorization};
        let mut rechecked = 0;
        let doomed: Vec<(u64, Idx)> = self
            .entries()
            .filter(|e| !e.tx.grid_ops.is_empty() && touched.affects(chain, &e.tx))
            .filter(|e| {
                rechecked += 1;
                apply_grid_ops(
                    chain,
                    &e.tx,
                    ctx,
                    chain.params(),
                    Authorization::Skip,
                    &mut Vec::new(),
                )
                .is_err()
            })
            .filter_map(|e| self.idx_of(&e.txid).map(|i| (e.seq, i)))
            .collect();
        (self.remove_doomed(doomed), rechecked)
    }

    /// Removes `doomed` (admission sequence, slot) and their descendants, oldest first; a
    /// slot already emptied as a descendant of an earlier one is skipped.
    fn remove_doomed(&mut self, mut doomed: Vec<(u64, Idx)>) -> Vec<TxId> {
        doomed.sort_unstable();
        let mut out = Vec::new();
        for (seq, i) in doomed {
            if self.get(i).map(|e| e.seq) == Some(seq) {
                let set = self.closure(&[i]);
                out.extend(self.remove_closed(&set));
            }
        }
        out
    }

    /// Removes transactions that can never be mined on this chain from `ctx` on (a swap
    /// claim at or past its timeout), with their descendants.
    fn drop_never_valid(&mut self, ctx: &SpendContext) -> Vec<TxId> {
        let doomed: Vec<(u64, Idx)> = self
            .entries()
            .filter(|e| !e.timed.is_empty() && e.valid_at(ctx) == TimeVerdict::Never)
            .filter_map(|e| self.idx_of(&e.txid).map(|i| (e.seq, i)))
            .collect();
        self.remove_doomed(doomed)
    }
}

/// The grid records a connected block changed, as far as a pooled grid op's validity can
/// depend on them. A pooled op was valid against the parent's grid; it can fail on the
/// block's only through a record the block wrote:
/// - a farm name or node key a `RegisterFarm` / `RegisterNode` of the block took;
/// - a node an op of the block names (`UpdateNode`, `Reserve`, `RemoveNode`, `Claim`, and the
///   node of a reservation it funds, redeploys or cancels): its state, capacity, price,
///   used capacity and reservation count are what `UpdateNode` and `Reserve` check. The
///   block's expiries change a node only by lowering `used` and the count and by adding
///   earnings, which no op can fail on;
/// - a reservation the block changed: named by an op of the block, or settled, put in
///   Grace or ended at the block's height (expiry processing, a `Claim` or `RemoveNode`
///   of its node), which the reservation's record shows;
/// - the id counters, when the pooled transaction creates a record and then names ids (it
///   can only refer to what it creates by the id it predicted).
///
/// Farms are never changed once registered, and no record is ever deleted.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    height: Height,
    names: BTreeSet<FarmName>,
    keys: BTreeSet<PublicKey>,
    nodes: BTreeSet<NodeId>,
    reservations: BTreeSet<ReservationId>,
    /// The block created a farm, node or reservation (the counters moved).
    creates: bool,
}

fn creates(op: &GridOp) -> bool {
    matches!(
        op,
        GridOp::RegisterFarm { .. } | GridOp::RegisterNode { .. } | GridOp::Reserve { .. }
    )
}

impl Touched {
    /// What `block` (applied: `chain` is at it) changed.
    pub(crate) fn of<C: ChainView + ?Sized>(chain: &C, block: &Block) -> Touched {
        let mut t = Touched {
            height: block.header.height,
            ..Touched::default()
        };
        for op in block.transactions.iter().flat_map(|tx| &tx.grid_ops) {
            t.creates |= creates(op);
            match op {
                GridOp::RegisterFarm { name, .. } => {
                    t.names.insert(name.clone());
                }
                GridOp::RegisterNode { node_key, .. } => {
                    t.keys.insert(*node_key);
                }
                GridOp::UpdateNode { node, .. }
                | GridOp::Reserve { node, .. }
                | GridOp::RemoveNode { node, .. }
                | GridOp::Claim { node, .. } => {
                    t.nodes.insert(*node);
                }
                GridOp::TopUp { reservation, .. }
                | GridOp::UpdateDeployment { reservation, .. }
                | GridOp::Cancel { reservation, .. } => {
                    t.reservations.insert(*reservation);
                    if let Some(r) = chain.reservation(*reservation) {
                        t.nodes.insert(r.node);
                    }
                }
            }
        }
        t
    }

    /// Whether a pooled transaction's grid ops name a record the block changed (so they
    /// must be re-run); `false` means they apply on the new grid as they did on the old.
    pub(crate) fn affects<C: ChainView + ?Sized>(&self, chain: &C, tx: &Transaction) -> bool {
        let mut created = false;
        for op in &tx.grid_ops {
            if created && self.creates {
                return true;
            }
            created |= creates(op);
            let hit = match op {
                GridOp::RegisterFarm { name, .. } => self.names.contains(name),
                GridOp::RegisterNode { node_key, .. } => self.keys.contains(node_key),
                GridOp::UpdateNode { node, .. }
                | GridOp::Reserve { node, .. }
                | GridOp::RemoveNode { node, .. }
                | GridOp::Claim { node, .. } => self.nodes.contains(node),
                GridOp::TopUp { reservation, .. }
                | GridOp::UpdateDeployment { reservation, .. }
                | GridOp::Cancel { reservation, .. } => {
                    self.reservations.contains(reservation)
                        || chain.reservation(*reservation).is_some_and(|r| {
                            self.nodes.contains(&r.node)
                                || r.settled_to == self.height
                                || matches!(
                                    r.state,
                                    ReservationState::Grace { since } if since == self.height
                                )
                                || matches!(
                                    r.state,
                                    ReservationState::Ended { at, .. } if at == self.height
                                )
                        })
                }
            };
            if hit {
                return true;
            }
        }
        false
    }
}
