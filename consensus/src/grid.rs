//! The capacity market inside transactions (PROTOCOL.md §4.3.6, §7): the shape of grid ops,
//! their authorisation by the owner's fulfilment over the sighash, and their effect through
//! `tfchain-contracts`. The signatures are collected here and verified with the inputs'.

use crate::error::{ConditionError, TxError};
use crate::fulfillment::{check_fulfillment, check_output_condition, SigCheck, SpendContext};
use crate::params::ChainParams;
use std::collections::BTreeSet;
use tfchain_contracts::GridError;
use tfchain_contracts::{GridContext, GridParams, GridView, GridWrites, Ledger, Payout};
use tfchain_types::grid::MAX_GRID_OPS;
use tfchain_types::{Fulfillment, GridEventKind, GridOp, Hash, Height, NodeId, Transaction};

/// What a transaction's grid ops change: writes over the state, events, payouts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GridTxEffect {
    pub writes: GridWrites,
    pub events: Vec<GridEventKind>,
    pub payouts: Vec<Payout>,
}

impl GridTxEffect {
    pub fn is_empty(&self) -> bool {
        self.writes.map.is_empty() && self.events.is_empty() && self.payouts.is_empty()
    }
}

/// The grid parameters of a network at `height`.
pub fn grid_context(params: &ChainParams, height: Height) -> GridContext {
    GridContext {
        height,
        params: GridParams {
            min_reservation_blocks: params.min_reservation_blocks,
            grace_period: params.grace_period,
            farmer_percent: params.grid_split.farmer_percent,
            fee_address: params.fee_address,
        },
    }
}

/// The context-free rules of a transaction's grid ops.
pub fn check_grid_shape(tx: &Transaction) -> Result<(), TxError> {
    if tx.grid_ops.len() > MAX_GRID_OPS {
        return Err(TxError::TooManyGridOps {
            count: tx.grid_ops.len(),
            max: MAX_GRID_OPS,
        });
    }
    let mut claims = BlockClaims::default();
    for (index, op) in tx.grid_ops.iter().enumerate() {
        if let GridOp::Claim { node, .. } = op {
            if !claims.0.insert(*node) {
                return Err(already_claimed(index, *node));
            }
        }
        tfchain_contracts::check_shape(op).map_err(|source| TxError::GridShape {
            index,
            op: op.name(),
            source,
        })?;
        if let GridOp::RegisterFarm { owner, .. } | GridOp::Reserve { owner, .. } = op {
            check_output_condition(owner).map_err(|source| TxError::GridOwnerCondition {
                index,
                op: op.name(),
                source,
            })?;
        }
    }
    Ok(())
}

/// The nodes claimed so far in a block (§7.3): at most one `Claim` per node per block, so
/// a block settles each node's reservations at most once whatever it holds. A transaction
/// claiming one node twice fails its shape ([`check_grid_shape`]); a block whose
/// transactions claim one node twice fails at the later one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockClaims(BTreeSet<NodeId>);

impl BlockClaims {
    /// Whether `tx`'s claims are all of nodes not yet claimed in the block.
    pub fn check(&self, tx: &Transaction) -> Result<(), TxError> {
        for (index, op) in tx.grid_ops.iter().enumerate() {
            if let GridOp::Claim { node, .. } = op {
                if self.0.contains(node) {
                    return Err(already_claimed(index, *node));
                }
            }
        }
        Ok(())
    }

    /// Records `tx`'s claims (after it applied).
    pub fn record(&mut self, tx: &Transaction) {
        for op in &tx.grid_ops {
            if let GridOp::Claim { node, .. } = op {
                self.0.insert(*node);
            }
        }
    }
}

fn already_claimed(index: usize, node: NodeId) -> TxError {
    TxError::Grid {
        index,
        op: "claim",
        source: GridError::AlreadyClaimed { node },
    }
}

/// How the owners' consent is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// Every op's fulfilment must satisfy its owner's condition (§7.3).
    Required,
    /// Not checked: for the genesis transaction, whose ops come from the genesis file and
    /// are trusted like its allocations (§11: no sighash exists before the genesis ID),
    /// and for re-checking a pooled transaction already authorised (owners never change).
    Skip,
}

/// Applies the ops in order on top of `view`, pushing the signatures to verify.
pub fn apply_grid_ops(
    view: &(impl GridView + ?Sized),
    tx: &Transaction,
    ctx: &SpendContext,
    params: &ChainParams,
    auth: Authorization,
    sigs: &mut Vec<SigCheck>,
) -> Result<GridTxEffect, TxError> {
    if tx.grid_ops.is_empty() {
        return Ok(GridTxEffect::default());
    }
    let gctx = grid_context(params, ctx.height);
    let mut ledger = Ledger::new(view);
    for (index, op) in tx.grid_ops.iter().enumerate() {
        let grid = |source| TxError::Grid {
            index,
            op: op.name(),
            source,
        };
        if auth == Authorization::Required {
            if let (Some(owner), Some(f)) = (
                tfchain_contracts::authority(&ledger, op).map_err(grid)?,
                op.authorization(),
            ) {
                check_fulfillment(&owner, f, ctx, sigs).map_err(|source| TxError::GridAuth {
                    index,
                    op: op.name(),
                    source,
                })?;
            }
            if let GridOp::RegisterNode {
                node_key, node_sig, ..
            } = op
            {
                sigs.push(SigCheck {
                    public_key: *node_key,
                    signature: *node_sig,
                });
            }
        }
        tfchain_contracts::apply_op(&mut ledger, op, &gctx).map_err(grid)?;
    }
    Ok(GridTxEffect {
        events: ledger.events,
        payouts: ledger.payouts,
        writes: ledger.state.into_writes(),
    })
}

/// Verifies every signature the grid ops carry over `sighash` (state-independent).
pub fn verify_grid_signatures(tx: &Transaction, sighash: &Hash) -> Result<(), TxError> {
    let msg = sighash.as_bytes();
    for (index, op) in tx.grid_ops.iter().enumerate() {
        if let Some(f) = op.authorization() {
            if !fulfillment_signatures_verify(f, msg) {
                return Err(TxError::GridAuth {
                    index,
                    op: op.name(),
                    source: ConditionError::BadSignature,
                });
            }
        }
        if let GridOp::RegisterNode {
            node_key, node_sig, ..
        } = op
        {
            if !node_key.verify(msg, node_sig) {
                return Err(TxError::BadNodeSignature { index });
            }
        }
    }
    Ok(())
}

/// Whether every signature in `f` verifies over `msg`.
pub fn fulfillment_signatures_verify(f: &Fulfillment, msg: &[u8]) -> bool {
    match f {
        Fulfillment::Signature(ks) => ks.public_key.verify(msg, &ks.signature),
        Fulfillment::MultiSignature(list) => list
            .iter()
            .all(|ks| ks.public_key.verify(msg, &ks.signature)),
        Fulfillment::Claim {
            public_key,
            signature,
            ..
        }
        | Fulfillment::Refund {
            public_key,
            signature,
        } => public_key.verify(msg, signature),
    }
}

/// The grid op holding the `k`-th grid signature of [`apply_grid_ops`]'s push order, as
/// the error a failed check means.
pub fn bad_grid_signature_at(tx: &Transaction, mut k: usize) -> Option<TxError> {
    for (index, op) in tx.grid_ops.iter().enumerate() {
        let auth = match op.authorization() {
            Some(Fulfillment::MultiSignature(v)) => v.len(),
            Some(_) => 1,
            None => 0,
        };
        if k < auth {
            return Some(TxError::GridAuth {
                index,
                op: op.name(),
                source: ConditionError::BadSignature,
            });
        }
        k -= auth;
        if matches!(op, GridOp::RegisterNode { .. }) {
            if k == 0 {
                return Some(TxError::BadNodeSignature { index });
            }
            k -= 1;
        }
    }
    None
}
