//! Admission (PROTOCOL.md §4.3 against the tip plus the pool): full validation, unconfirmed
//! parents, the ancestor limit, replacement of conflicting transactions, and room-making
//! by fee rate. Batches check and verify signatures on all cores, then insert in order.

use crate::chain::ChainView;
use crate::entry::{is_timed, Entry, Idx, PoolView, TimedInput};
use crate::error::{InternalError, PoolError};
use crate::feerate::{FeeRate, Package};
use crate::pool::Pool;
use rayon::prelude::*;
use tfchain_consensus::error::Side;
use tfchain_consensus::transfer::{check_transaction, verify_pending, TxEffect};
use tfchain_consensus::{SpendContext, TxError};
use tfchain_types::transaction::TxHashes;
use tfchain_types::{BlockId, Currency, OutputId, Timestamp, Transaction, TxId};

/// The outputs a checked transaction spends, coins then blockstakes.
fn spent_ids(effect: &TxEffect) -> impl Iterator<Item = OutputId> + '_ {
    effect
        .coins_spent
        .iter()
        .map(|(id, _)| *id)
        .chain(effect.stakes_spent.iter().map(|(id, _)| *id))
}

/// A transaction the pool took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub txid: TxId,
    /// Transactions it replaced: those it double-spends and their descendants.
    pub replaced: Vec<TxId>,
    /// Transactions evicted (lowest fee rates first) to make room for it.
    pub evicted: Vec<TxId>,
}

/// The block context a new transaction is validated at: the next height, and the later of
/// the caller's clock and one second after the tip (a block's earliest timestamp, §5.7.2).
pub fn admission_context(chain: &(impl ChainView + ?Sized), now: Timestamp) -> SpendContext {
    SpendContext {
        height: chain.tip_height().saturating_add(1),
        timestamp: now.max(chain.tip_timestamp().saturating_add(1)),
    }
}

/// How a candidate's signatures stand.
#[derive(Debug)]
pub(crate) enum Sigs {
    /// Verify them (after the state checks pass).
    Verify,
    /// Checked and verified in the parallel phase: its effect, and which of its inputs
    /// pooled transactions created then. Within a batch the chain does not change and
    /// pooled outputs can only disappear, so the check still holds while those are there.
    Checked {
        effect: Box<TxEffect>,
        pool_inputs: Vec<OutputId>,
    },
    /// Verified by this node before: a transaction of a block it disconnected, or one the
    /// pool held. Never used for transactions from outside.
    Trusted,
}

/// A transaction with the hashes and size every step needs.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub tx: Transaction,
    pub hashes: TxHashes,
    pub size: u64,
}

impl Candidate {
    pub fn new(tx: Transaction, genesis_id: &BlockId) -> Candidate {
        let hashes = tx.hashes(genesis_id);
        let size = tx.encoded_len() as u64;
        Candidate { tx, hashes, size }
    }
}

/// The outcome of the parallel phase for one candidate.
enum Prepared {
    Ready(Candidate, TxEffect, Vec<OutputId>),
    /// An input is missing: its parent may come later in the same batch.
    Deferred(Candidate, TxError),
    Done(Result<Admitted, PoolError>),
}

impl Pool {
    /// Validates `tx` against the chain tip plus the pool and admits it. `now` is the
    /// caller's clock (time locks and swap timeouts are judged at
    /// [`admission_context`]). Ok: accepted; `Err(e)`: refused, with
    /// [`PoolError::is_sender_fault`] and [`PoolError::is_internal`] telling why.
    pub fn admit<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        tx: Transaction,
        now: Timestamp,
    ) -> Result<Admitted, PoolError> {
        self.sync_with(chain)?;
        let ctx = admission_context(chain, now);
        let cand = Candidate::new(tx, &chain.params().genesis_id);
        self.commit(chain, &ctx, cand, Sigs::Verify)
    }

    /// Admits many transactions: the checks and signature verification run on all cores,
    /// then the survivors are inserted one by one in the given order (replacement, limits
    /// and eviction exactly as for [`Pool::admit`]). A transaction may spend outputs of a
    /// later one in the batch. Results are in input order.
    pub fn admit_batch<C: ChainView + Sync + ?Sized>(
        &mut self,
        chain: &C,
        txs: Vec<Transaction>,
        now: Timestamp,
    ) -> Vec<Result<Admitted, PoolError>> {
        if let Err(e) = self.sync_with(chain) {
            return txs
                .iter()
                .map(|_| Err(PoolError::Internal(e.clone())))
                .collect();
        }
        let ctx = admission_context(chain, now);
        let genesis_id = chain.params().genesis_id;
        let mut results: Vec<Option<Result<Admitted, PoolError>>> = vec![None; txs.len()];
        let mut pending: Vec<(usize, Result<Candidate, Transaction>)> =
            txs.into_iter().map(Err).enumerate().collect();
        loop {
            let prepared: Vec<(usize, Prepared)> = {
                let this = &*self;
                pending
                    .into_par_iter()
                    .with_min_len(8)
                    .map(|(i, c)| {
                        let cand = c.unwrap_or_else(|tx| Candidate::new(tx, &genesis_id));
                        (i, this.prepare(chain, &ctx, cand))
                    })
                    .collect()
            };
            let mut deferred = Vec::new();
            let mut progress = false;
            for (i, p) in prepared {
                match p {
                    Prepared::Ready(cand, effect, pool_inputs) => {
                        let sigs = Sigs::Checked {
                            effect: Box::new(effect),
                            pool_inputs,
                        };
                        let r = self.commit(chain, &ctx, cand, sigs);
                        progress |= r.is_ok();
                        results[i] = Some(r);
                    }
                    Prepared::Deferred(cand, err) => deferred.push((i, cand, err)),
                    Prepared::Done(r) => results[i] = Some(r),
                }
            }
            if deferred.is_empty() {
                break;
            }
            if !progress {
                for (i, _, err) in deferred {
                    results[i] = Some(Err(PoolError::Invalid(err)));
                }
                break;
            }
            pending = deferred.into_iter().map(|(i, c, _)| (i, Ok(c))).collect();
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or(Err(PoolError::Internal(InternalError::Inconsistent {
                    txid: TxId::ZERO,
                    what: "a batch result was never filled in",
                })))
            })
            .collect()
    }

    /// The pool adopts the chain's tip while empty; otherwise it must already be there.
    pub(crate) fn sync_with<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
    ) -> Result<(), InternalError> {
        let chain_tip = chain.tip_id();
        match self.tip {
            Some(t) if t == chain_tip => Ok(()),
            _ if self.is_empty() => {
                self.tip = Some(chain_tip);
                Ok(())
            }
            pool_tip => Err(InternalError::OutOfSync {
                pool_tip: pool_tip.unwrap_or(BlockId::ZERO),
                chain_tip,
            }),
        }
    }

    pub(crate) fn view<'a, C: ChainView + ?Sized>(
        &'a self,
        chain: &'a C,
        ctx: &SpendContext,
    ) -> PoolView<'a, C> {
        PoolView {
            chain,
            pool: self,
            height: ctx.height,
            timestamp: ctx.timestamp,
        }
    }

    /// The parallel phase: state checks against the pool as it is, then signatures.
    fn prepare<C: ChainView + ?Sized>(
        &self,
        chain: &C,
        ctx: &SpendContext,
        cand: Candidate,
    ) -> Prepared {
        if self.contains(&cand.hashes.txid) {
            return Prepared::Done(Err(PoolError::AlreadyKnown {
                txid: cand.hashes.txid,
            }));
        }
        let view = self.view(chain, ctx);
        match check_transaction(&view, &cand.tx, &cand.hashes, chain.params(), ctx) {
            Err(e @ TxError::MissingInput { .. }) => Prepared::Deferred(cand, e),
            Err(e) => Prepared::Done(Err(PoolError::Invalid(e))),
            Ok((effect, sigs)) => match verify_pending(&sigs, &cand.tx) {
                Ok(()) => {
                    let pool_inputs = spent_ids(&effect)
                        .filter(|id| self.created_output(id).is_some())
                        .collect();
                    Prepared::Ready(cand, effect, pool_inputs)
                }
                Err(e) => Prepared::Done(Err(PoolError::Invalid(e))),
            },
        }
    }

    /// The sequential phase: every state-dependent rule against the pool as it is now,
    /// then the change. On any error the pool is unchanged.
    pub(crate) fn commit<C: ChainView + ?Sized>(
        &mut self,
        chain: &C,
        ctx: &SpendContext,
        cand: Candidate,
        sigs: Sigs,
    ) -> Result<Admitted, PoolError> {
        let Candidate { tx, hashes, size } = cand;
        let txid = hashes.txid;
        if self.contains(&txid) {
            return Err(PoolError::AlreadyKnown { txid });
        }
        let effect = match sigs {
            Sigs::Checked {
                effect,
                pool_inputs,
            } if pool_inputs
                .iter()
                .all(|id| self.created_output(id).is_some()) =>
            {
                *effect
            }
            Sigs::Checked { .. } | Sigs::Verify => {
                let view = self.view(chain, ctx);
                let (effect, pending) =
                    check_transaction(&view, &tx, &hashes, chain.params(), ctx)?;
                verify_pending(&pending, &tx)?;
                effect
            }
            Sigs::Trusted => {
                let view = self.view(chain, ctx);
                check_transaction(&view, &tx, &hashes, chain.params(), ctx)?.0
            }
        };

        let spends: Vec<_> = tx
            .coin_inputs
            .iter()
            .chain(&tx.blockstake_inputs)
            .map(|i| i.parent)
            .collect();
        let mut parents: Vec<Idx> = Vec::new();
        let mut conflicts: Vec<Idx> = Vec::new();
        for s in &spends {
            if let Some(c) = self.created_output(s) {
                parents.push(c.idx);
            }
            if let Some(i) = self.spender_idx(s) {
                conflicts.push(i);
            }
        }
        parents.sort_unstable();
        parents.dedup();
        conflicts.sort_unstable();
        conflicts.dedup();

        let displaced = if conflicts.is_empty() {
            Vec::new()
        } else {
            self.check_replacement(&conflicts, &parents, tx.fee, size)?
        };
        let max = self.config.max_ancestors;
        let ancestors = self
            .ancestors_of_parents(&parents, max.saturating_sub(1))
            .ok_or(PoolError::TooManyAncestors { max })?;
        let victims = self.plan_eviction(size, tx.fee, &ancestors, &displaced)?;

        let mut timed = Vec::new();
        let mut mature_at = 0;
        for (index, (id, e)) in effect.coins_spent.iter().enumerate() {
            if is_timed(&e.condition) {
                timed.push(TimedInput {
                    side: Side::Coin,
                    index,
                    condition: e.condition.clone(),
                });
            }
            if self.created_output(id).is_none() {
                mature_at = mature_at.max(e.mature_at);
            }
        }
        for (index, (_, e)) in effect.stakes_spent.iter().enumerate() {
            if is_timed(&e.condition) {
                timed.push(TimedInput {
                    side: Side::BlockStake,
                    index,
                    condition: e.condition.clone(),
                });
            }
        }
        let mut creates: Vec<_> = effect.coins_created.iter().map(|(id, _)| *id).collect();
        creates.extend(effect.stakes_created.iter().map(|(id, _)| *id));

        let replaced = self.remove_closed(&displaced);
        let evicted = self.remove_closed(&victims);
        let seq = self.next_seq();
        let entry = Entry {
            txid,
            size,
            fee: tx.fee.0,
            seq,
            added_height: ctx.height.saturating_sub(1),
            parents,
            children: Vec::new(),
            ancestors: Package::default(),
            descendants: Package::default(),
            spends,
            creates,
            timed,
            mature_at,
            evict_key: FeeRate::ZERO,
            score_key: FeeRate::ZERO,
            tx,
        };
        self.insert(entry, &ancestors);
        Ok(Admitted {
            txid,
            replaced,
            evicted,
        })
    }

    /// The replacement rules: returns what the candidate would displace (its conflicts and
    /// their descendants) if it may.
    fn check_replacement(
        &self,
        conflicts: &[Idx],
        parents: &[Idx],
        fee: Currency,
        size: u64,
    ) -> Result<Vec<Idx>, PoolError> {
        let displaced = self.closure(conflicts);
        if let Some(p) = parents.iter().find(|p| displaced.contains(p)) {
            return Err(PoolError::SpendsReplacedOutput {
                txid: self.entry(*p).txid,
            });
        }
        let max = self.config.max_replacements;
        if displaced.len() > max {
            return Err(PoolError::TooManyReplacements {
                count: displaced.len(),
                max,
            });
        }
        let rate = FeeRate::new(fee, size);
        let ratio = self.config.replacement_rate;
        for c in conflicts {
            let e = self.entry(*c);
            let required = e.own_rate().scaled(ratio.num, ratio.den);
            if rate < required {
                return Err(PoolError::ReplacementFeeRateTooLow {
                    conflict: e.txid,
                    required,
                    min_fee: required.fee_for(size),
                });
            }
        }
        let displaced_fee = displaced
            .iter()
            .fold(0u128, |acc, i| acc.saturating_add(self.entry(*i).fee));
        if fee.0 <= displaced_fee {
            return Err(PoolError::ReplacementFeeTooLow {
                fee,
                displaced_fee: Currency(displaced_fee),
                count: displaced.len(),
            });
        }
        Ok(displaced)
    }
}
