//! The capacity market inside transactions (PROTOCOL.md §4.3.6, §7): the shape of grid ops,
//! their authorisation by the owner's fulfilment over the sighash, and their effect through
//! `tfchain-contracts`. The signatures are collected here and verified with the inputs'.

use crate::error::{ConditionError, TxError};
use crate::fulfillment::{check_fulfillment, check_output_condition, SigCheck, SpendContext};
use crate::params::ChainParams;
use std::collections::BTreeSet;
use tfchain_contracts::GridError;
use tfchain_contracts::{GridContext, GridParams, GridReads, GridView, GridWrites, Ledger, Payout};
use tfchain_types::grid::{MAX_BLOCK_SETTLEMENTS, MAX_GRID_OPS};
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
    let mut claims = BTreeSet::new();
    for (index, op) in tx.grid_ops.iter().enumerate() {
        if let GridOp::Claim { node, .. } = op {
            if !claims.insert(*node) {
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

/// What a block has settled so far (§7.3, §8): at most one `Claim` per node per block, so a
/// block settles each node's reservations at most once whatever it holds; and at most
/// [`MAX_BLOCK_SETTLEMENTS`] live reservations settled by `Claim` and `RemoveNode` together,
/// so a block of claims over many full nodes stays cheap to validate. A transaction
/// claiming one node twice fails its shape ([`check_grid_shape`]); a block whose
/// transactions pass either bound fails at the transaction that would.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockClaims {
    claimed: BTreeSet<NodeId>,
    settled: u64,
}

impl BlockClaims {
    /// Whether `tx`'s claims are all of nodes not yet claimed in the block, and its claims
    /// and node removals fit the block's settlement budget (live reservations read from
    /// `view`, the state before `tx`). Returns what `tx` settles, for [`BlockClaims::record`].
    pub fn check(&self, view: &(impl GridView + ?Sized), tx: &Transaction) -> Result<u64, TxError> {
        let mut settled = self.settled;
        for (index, op) in tx.grid_ops.iter().enumerate() {
            let node = match op {
                GridOp::Claim { node, .. } => {
                    if self.claimed.contains(node) {
                        return Err(already_claimed(index, *node));
                    }
                    *node
                }
                GridOp::RemoveNode { node, .. } => *node,
                _ => continue,
            };
            let more = view.node(node).map_or(0, |n| u64::from(n.reservations));
            if settled.saturating_add(more) > MAX_BLOCK_SETTLEMENTS {
                return Err(TxError::Grid {
                    index,
                    op: op.name(),
                    source: GridError::BlockSettlementsFull {
                        node,
                        settled,
                        more,
                        max: MAX_BLOCK_SETTLEMENTS,
                    },
                });
            }
            settled += more;
        }
        Ok(settled - self.settled)
    }

    /// Records `tx`'s claims and the reservations it settles (as [`BlockClaims::check`]
    /// returned), after it applied.
    pub fn record(&mut self, tx: &Transaction, settled: u64) {
        for op in &tx.grid_ops {
            if let GridOp::Claim { node, .. } = op {
                self.claimed.insert(*node);
            }
        }
        self.settled = self.settled.saturating_add(settled);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::test_key;
    use tfchain_contracts::{GridKey, GridValue, MemoryGrid};
    use tfchain_types::grid::{Node, NodeState, Price, Resources, MAX_NODE_RESERVATIONS};
    use tfchain_types::{Currency, KeySignature, Signature, TX_VERSION};

    fn node(id: NodeId, reservations: u32) -> (GridKey, GridValue) {
        let zero = Currency::ZERO;
        let node = Node {
            id,
            farm: 1,
            node_key: test_key(9, id.into()).public_key(),
            capacity: Resources::ZERO,
            price: Price {
                cru: zero,
                mru: zero,
                sru: zero,
                hru: zero,
                ipv4: zero,
            },
            used: Resources::ZERO,
            reservations,
            state: NodeState::Up,
            earnings: zero,
        };
        (GridKey::Node(id), GridValue::Node(node))
    }

    fn claims(nodes: impl IntoIterator<Item = NodeId>, remove: bool) -> Transaction {
        let auth = Fulfillment::Signature(KeySignature {
            public_key: test_key(9, 0).public_key(),
            signature: Signature::ZERO,
        });
        Transaction {
            version: TX_VERSION,
            coin_inputs: vec![],
            coin_outputs: vec![],
            blockstake_inputs: vec![],
            blockstake_outputs: vec![],
            fee: Currency::ZERO,
            arbitrary_data: vec![],
            grid_ops: nodes
                .into_iter()
                .map(|node| {
                    if remove {
                        GridOp::RemoveNode {
                            node,
                            farm_auth: auth.clone(),
                        }
                    } else {
                        GridOp::Claim {
                            node,
                            farm_auth: auth.clone(),
                        }
                    }
                })
                .collect(),
        }
    }

    /// A block settles at most MAX_BLOCK_SETTLEMENTS live reservations through Claim and
    /// RemoveNode: 64 full nodes fit, the 65th is refused with the numbers (claimed or
    /// removed, in a later transaction or inside the one that passes the budget), a small
    /// node fits while the budget has room, and a node cannot be claimed twice.
    #[test]
    fn a_block_settles_at_most_its_budget_of_reservations() {
        let full = MAX_NODE_RESERVATIONS;
        let mut grid = MemoryGrid::default();
        for id in 1..=70 {
            let (k, v) = node(id, full);
            grid.0.insert(k, v);
        }
        let (k, v) = node(71, 7);
        grid.0.insert(k, v);
        assert_eq!(MAX_BLOCK_SETTLEMENTS, 64 * u64::from(full));

        // A small node and 62 full ones by Claim (16 per transaction), one by RemoveNode.
        let mut block = BlockClaims::default();
        let mut ids: Vec<NodeId> = vec![71];
        ids.extend(1..=62);
        for chunk in ids.chunks(16) {
            let tx = claims(chunk.iter().copied(), false);
            let settled = block.check(&grid, &tx).expect("within the budget");
            block.record(&tx, settled);
        }
        let remove = claims([63], true);
        let settled = block
            .check(&grid, &remove)
            .expect("the 63rd full node fits");
        assert_eq!(settled, u64::from(full));
        block.record(&remove, settled);
        // 7 + 63 × 1,024 settled: one more full node does not fit, claimed or removed.
        let settled_now = 7 + 63 * u64::from(full);
        for tx in [claims([64], false), claims([65], true)] {
            let err = block.check(&grid, &tx).expect_err("over the budget");
            assert!(
                matches!(
                    err,
                    TxError::Grid {
                        source: GridError::BlockSettlementsFull { settled, more, max, .. },
                        ..
                    } if settled == settled_now && more == u64::from(full) && max == MAX_BLOCK_SETTLEMENTS
                ),
                "{err:?}"
            );
        }

        // Inside one transaction: the op that passes the budget is the one named.
        let mut budget = BlockClaims::default();
        let all: Vec<NodeId> = (1..=65).collect();
        let mut refused = Vec::new();
        for chunk in all.chunks(16) {
            let tx = claims(chunk.iter().copied(), false);
            match budget.check(&grid, &tx) {
                Ok(settled) => budget.record(&tx, settled),
                Err(TxError::Grid { index, .. }) => refused.push(chunk[index]),
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(
            refused,
            vec![65],
            "only the 65th full node is over the budget"
        );
        // Claimed twice in a block: refused as such.
        assert!(matches!(
            budget.check(&grid, &claims([1], false)),
            Err(TxError::Grid {
                source: GridError::AlreadyClaimed { node: 1 },
                ..
            })
        ));
    }
}
