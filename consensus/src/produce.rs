//! Block production helpers (pure): search the lottery for the stake outputs a producer
//! controls, and assemble and sign a block. The node's producer and the simulations use
//! these; validation never does.

use crate::lottery::{eligible_from, kernel, stake_modifier};
use crate::params::ChainParams;
use crate::state::{StakeEntry, StateView};
use crate::target::kernel_quotient;
use tfchain_types::block::tx_root;
use tfchain_types::{
    Address, Block, BlockHeader, OutputId, SecretKey, Timestamp, Transaction, BLOCK_VERSION,
};

/// The stake modifier and target for the child of the view's tip: compute once per tip,
/// then test any number of outputs and timestamps.
#[derive(Clone, Debug)]
pub struct Lottery {
    pub modifier: [u8; 32],
    pub target: crate::target::Target,
}

impl Lottery {
    pub fn for_child_of(view: &impl StateView, params: &ChainParams) -> Self {
        let tip = view.tip();
        Lottery {
            modifier: stake_modifier(view, tip.height + 1, params),
            target: tip.child_target,
        }
    }

    /// The eligible output of `stakes` that wins at `t` with the lowest `kernel / value`
    /// (among simultaneous winners that quotient is uniform, so ties split evenly).
    pub fn winner<'a>(
        &self,
        params: &ChainParams,
        stakes: &'a [(OutputId, StakeEntry)],
        t: Timestamp,
    ) -> Option<&'a (OutputId, StakeEntry)> {
        stakes
            .iter()
            .filter(|(_, e)| t >= eligible_from(e, params))
            .filter_map(|s| {
                let q = kernel_quotient(&kernel(&self.modifier, &s.0, t), s.1.value)?;
                (q < self.target.0).then_some((q, s))
            })
            .min_by_key(|(q, _)| *q)
            .map(|(_, s)| s)
    }
}

/// Assembles and signs a block on the view's tip.
pub fn assemble_block(
    view: &impl StateView,
    timestamp: Timestamp,
    stake_output: OutputId,
    key: &SecretKey,
    reward_address: Address,
    transactions: Vec<Transaction>,
) -> Block {
    let tip = view.tip();
    let header = BlockHeader {
        version: BLOCK_VERSION,
        parent: tip.id,
        height: tip.height + 1,
        timestamp,
        stake_output,
        creator: key.public_key(),
        reward_address,
        tx_root: tx_root(&transactions),
    };
    let signature = key.sign_hash(&header.id().0);
    Block {
        header,
        signature,
        transactions,
    }
}

/// Drops from a block template the transactions whose grid ops fail when applied in
/// order on the view's tip at `ctx` (the pool checks each against the tip alone, so two
/// pooled ops can conflict: two cancels of one reservation, two reserves of the last
/// capacity, two claims of one node, §7.3), and every later transaction that spends an
/// output of a dropped one.
/// Transactions without grid ops cost one lookup each.
pub fn drop_grid_conflicts(
    view: &impl StateView,
    params: &ChainParams,
    ctx: &crate::SpendContext,
    transactions: Vec<Transaction>,
) -> Vec<Transaction> {
    use crate::grid::{apply_grid_ops, grid_context, Authorization, BlockClaims};
    use std::collections::BTreeSet;
    use tfchain_contracts::{process_expiries, Ledger};
    if transactions.iter().all(|tx| tx.grid_ops.is_empty()) {
        return transactions;
    }
    let mut ledger = Ledger::new(view);
    if process_expiries(&mut ledger, &grid_context(params, ctx.height)).is_err() {
        // The block would be invalid whatever it holds; let validation report it.
        return transactions;
    }
    let mut dropped: BTreeSet<OutputId> = BTreeSet::new();
    let mut claims = BlockClaims::default();
    let mut kept = Vec::with_capacity(transactions.len());
    for tx in transactions {
        let orphaned = tx
            .coin_inputs
            .iter()
            .chain(&tx.blockstake_inputs)
            .any(|i| dropped.contains(&i.parent));
        let fits = !orphaned
            && (tx.grid_ops.is_empty()
                || claims.check(&ledger, &tx).is_ok_and(|settled| {
                    match apply_grid_ops(
                        &ledger,
                        &tx,
                        ctx,
                        params,
                        Authorization::Skip,
                        &mut Vec::new(),
                    ) {
                        Ok(effect) => {
                            claims.record(&tx, settled);
                            ledger.state.extend(effect.writes);
                            true
                        }
                        Err(_) => false,
                    }
                }));
        if fits {
            kept.push(tx);
        } else {
            let txid = tx.txid();
            dropped
                .extend((0..tx.coin_outputs.len()).map(|i| Transaction::coin_output_id(&txid, i)));
            dropped.extend(
                (0..tx.blockstake_outputs.len()).map(|i| Transaction::stake_output_id(&txid, i)),
            );
        }
    }
    kept
}
