//! The state transition (PROTOCOL.md §5.5–5.8, §6): `apply_block` validates a block against
//! the state at its parent and returns the diff; it never writes.

use crate::error::{BlockError, TxError};
use crate::fulfillment::SpendContext;
use crate::grid::{apply_grid_ops, check_grid_shape, grid_context, Authorization, BlockClaims};
use crate::header::{check_header, Signatures};
use crate::overlay::Overlay;
use crate::params::ChainParams;
use crate::state::{BlockMeta, BlockOutcome, CoinEntry, StakeEntry, StateView};
use crate::target::{
    child_target, genesis_target, is_retarget_height, retarget_anchor_height, work, Work,
};
use crate::transfer::{check_shape, check_spends, verify_signatures};
use rayon::prelude::*;
use tfchain_contracts::{process_expiries, EmptyGrid, GridOverlay, Ledger};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::transaction::TxHashes;
use tfchain_types::{
    Address, Block, Condition, Currency, GridEvent, Hash, OutputId, Timestamp, Transaction,
};

/// Validates `block` as the child of `state`'s tip and returns what it changes (§5.7, §6).
/// `now` is the node's clock (§5.7.2), the only input not in the chain.
pub fn apply_block(
    state: &impl StateView,
    block: &Block,
    params: &ChainParams,
    now: Timestamp,
) -> Result<BlockOutcome, BlockError> {
    apply_block_with(state, block, params, now, Signatures::Verify)
}

/// [`apply_block`] with control over signature verification (see [`Signatures`]).
pub fn apply_block_with(
    state: &impl StateView,
    block: &Block,
    params: &ChainParams,
    now: Timestamp,
    sigs: Signatures,
) -> Result<BlockOutcome, BlockError> {
    apply_block_cached(state, block, params, now, sigs, &NothingVerified)
}

/// Transactions whose every signature this node has already verified with `verify_strict`
/// (PROTOCOL.md §1), by WTxId. The WTxId commits to the signatures and the sighash binds
/// the network's genesis ID, so "verified" is a permanent fact about a WTxId on one
/// network: a node may remember it (Bitcoin Core's signature cache) and skip verifying a
/// transaction again when a block carries it. Only positive verdicts are remembered.
pub trait VerifiedTxs: Sync {
    fn contains(&self, wtxid: &Hash) -> bool;
}

/// Remembers nothing: every signature is verified.
#[derive(Clone, Copy, Debug, Default)]
pub struct NothingVerified;

impl VerifiedTxs for NothingVerified {
    fn contains(&self, _: &Hash) -> bool {
        false
    }
}

/// [`apply_block_with`] that skips the signature checks of the transactions in
/// `verified` (the block's own signature is always checked under [`Signatures::Verify`]).
pub fn apply_block_cached(
    state: &impl StateView,
    block: &Block,
    params: &ChainParams,
    now: Timestamp,
    sigs: Signatures,
    verified: &impl VerifiedTxs,
) -> Result<BlockOutcome, BlockError> {
    let size = block.encoded_len();
    if size > MAX_BLOCK_SIZE {
        return Err(BlockError::TooLarge {
            size,
            max: MAX_BLOCK_SIZE,
        });
    }
    let header = &block.header;
    check_header(state, header, &block.signature, params, now, sigs)?;

    // Hashing, the context-free rules and signature verification are independent per
    // transaction: spread them over all cores. Errors are reported in transaction order.
    let prepared: Vec<(TxHashes, Hash, Result<(), TxError>)> = block
        .transactions
        .par_iter()
        .with_min_len(8)
        .map(|tx| {
            let hashes = tx.hashes(&params.genesis_id);
            let wtxid = tx.wtxid();
            let checked = check_shape(tx, params).and_then(|()| match sigs {
                Signatures::Verify if !verified.contains(&wtxid) => {
                    verify_signatures(tx, &hashes.sighash)
                }
                Signatures::Verify | Signatures::AlreadyVerified => Ok(()),
            });
            (hashes, wtxid, checked)
        })
        .collect();
    let wtxids: Vec<Hash> = prepared.iter().map(|(_, w, _)| *w).collect();
    if tfchain_types::merkle::merkle_root(&wtxids) != header.tx_root {
        return Err(BlockError::TxRootMismatch);
    }

    let ctx = SpendContext {
        height: header.height,
        timestamp: header.timestamp,
    };
    let mut overlay = Overlay::new(state);
    let mut events = Vec::new();
    let mut grid_payouts = Vec::new();

    // §7.4: the reservations indexed at this height, before the transactions.
    let mut ledger = Ledger::new(state);
    process_expiries(&mut ledger, &grid_context(params, header.height))
        .map_err(BlockError::GridExpiry)?;
    events.extend(
        ledger
            .events
            .drain(..)
            .map(|kind| GridEvent { txid: None, kind }),
    );
    grid_payouts.append(&mut ledger.payouts);
    overlay.apply_grid(ledger.state.into_writes());

    let mut fees = Currency::ZERO;
    let mut claims = BlockClaims::default();
    for (index, (tx, (h, _, checked))) in block.transactions.iter().zip(prepared).enumerate() {
        // The signatures were verified above; check_spends checks who may sign. A node
        // claimed earlier in the block is refused before its reservations are read (§7.3).
        let (settled, (mut effect, _)) = checked
            .and_then(|()| claims.check(&overlay, tx))
            .and_then(|settled| Ok((settled, check_spends(&overlay, tx, &h, params, &ctx)?)))
            .map_err(|source| BlockError::Tx { index, source })?;
        claims.record(tx, settled);
        fees = fees.checked_add(effect.fee).ok_or(BlockError::Overflow)?;
        let txid = Some(h.txid);
        events.extend(
            effect
                .grid
                .events
                .drain(..)
                .map(|kind| GridEvent { txid, kind }),
        );
        grid_payouts.append(&mut effect.grid.payouts);
        overlay.apply(effect);
    }

    // §4.2, §5.5: the reward, the fees, then the grid's refunds and claims, numbered in order.
    let id = header.id();
    let mature_at = params.payout_mature_at(header.height);
    let payouts = block_payouts(params, &header.reward_address, fees)
        .into_iter()
        .map(|(value, address)| (value, Condition::Address(address)))
        .chain(grid_payouts.into_iter().map(|p| (p.value, p.condition)));
    for (i, (value, condition)) in payouts.enumerate() {
        overlay.create_coin(
            OutputId::for_payout(&id, i as u64),
            CoinEntry {
                value,
                condition,
                height: header.height,
                mature_at,
            },
        );
    }

    let tip = state.tip();
    let anchor = if is_retarget_height(params, header.height) {
        let h = retarget_anchor_height(params, header.height);
        // The anchor is an ancestor at or below the tip, which the view always holds.
        let m = state.block_at(h).unwrap_or_else(|| tip.clone());
        (m.height, m.timestamp)
    } else {
        (tip.height, tip.timestamp)
    };
    let meta = BlockMeta {
        id,
        height: header.height,
        timestamp: header.timestamp,
        child_target: child_target(
            params,
            tip.child_target,
            header.height,
            header.timestamp,
            anchor,
        ),
        total_work: tip.total_work.saturating_add(work(tip.child_target)),
    };
    Ok(BlockOutcome {
        diff: overlay.into_diff(),
        meta,
        fees,
        events,
    })
}

/// The payouts a block creates, in order (§5.5): the reward, then the fees. Zero-value
/// payouts are not created.
pub fn block_payouts(
    params: &ChainParams,
    reward_address: &Address,
    fees: Currency,
) -> Vec<(Currency, Address)> {
    let mut out = Vec::with_capacity(2);
    if !params.block_reward.is_zero() {
        out.push((params.block_reward, *reward_address));
    }
    if !fees.is_zero() {
        out.push((fees, params.fee_address.unwrap_or(*reward_address)));
    }
    out
}

/// Why a genesis block was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error(
        "the genesis block has height 0 and exactly one transaction, with no inputs and no fee"
    )]
    Shape,
    #[error("genesis output {0} has value zero")]
    ZeroOutput(usize),
    #[error("genesis has no blockstakes: no one could ever produce a block")]
    NoStake,
    #[error("genesis amounts overflow")]
    Overflow,
    #[error("invalid genesis output condition: {0}")]
    Condition(#[from] crate::error::OutputConditionError),
    #[error("tx_root does not match the genesis transaction")]
    TxRoot,
    #[error("genesis grid operation: {0}")]
    Grid(TxError),
}

/// Builds the genesis state with the same diff machinery as every block (§11).
pub fn apply_genesis(block: &Block, params: &ChainParams) -> Result<BlockOutcome, GenesisError> {
    let h = &block.header;
    let [tx] = block.transactions.as_slice() else {
        return Err(GenesisError::Shape);
    };
    if h.height != 0
        || !tx.coin_inputs.is_empty()
        || !tx.blockstake_inputs.is_empty()
        || !tx.fee.is_zero()
    {
        return Err(GenesisError::Shape);
    }
    if block.compute_tx_root() != h.tx_root {
        return Err(GenesisError::TxRoot);
    }
    let txid = tx.txid();
    let mut diff = crate::state::BlockDiff::default();
    for (i, o) in tx.coin_outputs.iter().enumerate() {
        if o.value.is_zero() {
            return Err(GenesisError::ZeroOutput(i));
        }
        crate::fulfillment::check_output_condition(&o.condition)?;
        diff.coins_created.push((
            Transaction::coin_output_id(&txid, i),
            CoinEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: 0,
                mature_at: 0,
            },
        ));
    }
    let mut total_stake: u64 = 0;
    for (i, o) in tx.blockstake_outputs.iter().enumerate() {
        if o.value == 0 {
            return Err(GenesisError::ZeroOutput(i));
        }
        crate::fulfillment::check_output_condition(&o.condition)?;
        total_stake = total_stake
            .checked_add(o.value)
            .ok_or(GenesisError::Overflow)?;
        diff.stakes_created.push((
            Transaction::stake_output_id(&txid, i),
            StakeEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: 0,
                timestamp: h.timestamp,
            },
        ));
    }
    Currency::checked_sum(tx.coin_outputs.iter().map(|o| o.value)).ok_or(GenesisError::Overflow)?;
    if total_stake == 0 {
        return Err(GenesisError::NoStake);
    }
    // Initial farms and nodes (§11), applied by the same contract code as every block.
    check_grid_shape(tx).map_err(GenesisError::Grid)?;
    let ctx = SpendContext {
        height: 0,
        timestamp: h.timestamp,
    };
    let grid = apply_grid_ops(
        &EmptyGrid,
        tx,
        &ctx,
        params,
        Authorization::Skip,
        &mut Vec::new(),
    )
    .map_err(GenesisError::Grid)?;
    if !grid.payouts.is_empty() || grid.writes.map.values().any(Option::is_none) {
        return Err(GenesisError::Shape);
    }
    let mut grid_state = GridOverlay::new(&EmptyGrid);
    grid_state.extend(grid.writes);
    diff.grid = grid_state.into_changes();
    let events = grid
        .events
        .into_iter()
        .map(|kind| GridEvent {
            txid: Some(txid),
            kind,
        })
        .collect();
    diff.coins_created.sort_by_key(|e| e.0);
    diff.stakes_created.sort_by_key(|e| e.0);
    Ok(BlockOutcome {
        diff,
        meta: BlockMeta {
            id: block.id(),
            height: 0,
            timestamp: h.timestamp,
            child_target: genesis_target(params, total_stake),
            total_work: Work::ZERO,
        },
        fees: Currency::ZERO,
        events,
    })
}

/// The genesis block for an allocation transaction (§11): height 0, all-zero parent,
/// stake output, creator, reward address and signature, the given timestamp.
pub fn genesis_block(timestamp: Timestamp, allocation: Transaction) -> Block {
    let transactions = vec![allocation];
    Block {
        header: tfchain_types::BlockHeader {
            version: tfchain_types::BLOCK_VERSION,
            parent: tfchain_types::BlockId::ZERO,
            height: 0,
            timestamp,
            stake_output: OutputId::ZERO,
            creator: tfchain_types::PublicKey::default(),
            reward_address: Address::NIL,
            tx_root: tfchain_types::block::tx_root(&transactions),
        },
        signature: tfchain_types::Signature::ZERO,
        transactions,
    }
}
