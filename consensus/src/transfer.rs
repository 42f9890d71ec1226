//! Transaction validity (PROTOCOL.md §4.3): `check_transaction` checks every rule except the
//! signatures themselves, which it hands back so a block can verify them on all cores.

use crate::error::{Side, TxError};
use crate::fulfillment::{check_fulfillment, check_output_condition, SigCheck, SpendContext};
use crate::grid::{
    apply_grid_ops, bad_grid_signature_at, check_grid_shape, fulfillment_signatures_verify,
    verify_grid_signatures, Authorization, GridTxEffect,
};
use crate::params::ChainParams;
use crate::state::{CoinEntry, StakeEntry, UtxoView};
use std::collections::BTreeSet;
use tfchain_contracts::GridView;
use tfchain_types::limits::{MAX_ARBITRARY_DATA, MAX_INPUTS, MAX_OUTPUTS, MAX_TX_SIZE};
use tfchain_types::transaction::TxHashes;
use tfchain_types::{Currency, Hash, OutputId, Transaction, TX_VERSION};

/// What a valid transaction does to the outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxEffect {
    pub coins_spent: Vec<(OutputId, CoinEntry)>,
    pub coins_created: Vec<(OutputId, CoinEntry)>,
    pub stakes_spent: Vec<(OutputId, StakeEntry)>,
    pub stakes_created: Vec<(OutputId, StakeEntry)>,
    pub fee: Currency,
    /// What the grid ops change (§7).
    pub grid: GridTxEffect,
}

/// Signatures a transaction needs, all over one sighash.
#[derive(Clone, Debug, Default)]
pub struct PendingSigs {
    pub sighash: Hash,
    pub checks: Vec<SigCheck>,
}

impl PendingSigs {
    /// Index of the first signature that fails `verify_strict`, if any.
    pub fn first_invalid(&self) -> Option<usize> {
        self.checks
            .iter()
            .position(|c| !c.public_key.verify(self.sighash.as_bytes(), &c.signature))
    }
}

/// Checks the context-free rules: version, sizes, counts, duplicates, fee, outputs.
pub fn check_shape(tx: &Transaction, params: &ChainParams) -> Result<(), TxError> {
    if tx.version != TX_VERSION {
        return Err(TxError::UnsupportedVersion(tx.version));
    }
    let counts = [
        (tx.coin_inputs.len(), Side::Coin, true),
        (tx.blockstake_inputs.len(), Side::BlockStake, true),
        (tx.coin_outputs.len(), Side::Coin, false),
        (tx.blockstake_outputs.len(), Side::BlockStake, false),
    ];
    for (count, side, is_input) in counts {
        if is_input && count > MAX_INPUTS {
            return Err(TxError::TooManyInputs {
                side,
                count,
                max: MAX_INPUTS,
            });
        }
        if !is_input && count > MAX_OUTPUTS {
            return Err(TxError::TooManyOutputs {
                side,
                count,
                max: MAX_OUTPUTS,
            });
        }
    }
    if tx.arbitrary_data.len() > MAX_ARBITRARY_DATA {
        return Err(TxError::ArbitraryDataTooLarge {
            size: tx.arbitrary_data.len(),
            max: MAX_ARBITRARY_DATA,
        });
    }
    let size = tx.encoded_len();
    if size > MAX_TX_SIZE {
        return Err(TxError::TooLarge {
            size,
            max: MAX_TX_SIZE,
        });
    }
    let mut seen = BTreeSet::new();
    for input in tx.coin_inputs.iter().chain(&tx.blockstake_inputs) {
        if !seen.insert(input.parent) {
            return Err(TxError::DuplicateInput {
                parent: input.parent,
            });
        }
    }
    if tx.fee < params.min_fee {
        return Err(TxError::FeeBelowMinimum {
            fee: tx.fee,
            min: params.min_fee,
        });
    }
    for (index, o) in tx.coin_outputs.iter().enumerate() {
        if o.value.is_zero() {
            return Err(TxError::ZeroValueOutput {
                side: Side::Coin,
                index,
            });
        }
        check_output_condition(&o.condition).map_err(|source| TxError::OutputCondition {
            side: Side::Coin,
            index,
            source,
        })?;
    }
    for (index, o) in tx.blockstake_outputs.iter().enumerate() {
        if o.value == 0 {
            return Err(TxError::ZeroValueOutput {
                side: Side::BlockStake,
                index,
            });
        }
        check_output_condition(&o.condition).map_err(|source| TxError::OutputCondition {
            side: Side::BlockStake,
            index,
            source,
        })?;
    }
    check_grid_shape(tx)
}

/// Checks every rule of §4.3 against `view` except signature verification; returns the
/// effect and the signatures still to verify.
pub fn check_transaction(
    view: &(impl UtxoView + GridView),
    tx: &Transaction,
    hashes: &TxHashes,
    params: &ChainParams,
    ctx: &SpendContext,
) -> Result<(TxEffect, PendingSigs), TxError> {
    check_shape(tx, params)?;
    check_spends(view, tx, hashes, params, ctx)
}

/// The state-dependent rules of §4.3 (inputs, fulfillments, balance, grid ops) for a
/// transaction whose shape [`check_shape`] has already accepted.
pub fn check_spends(
    view: &(impl UtxoView + GridView),
    tx: &Transaction,
    hashes: &TxHashes,
    params: &ChainParams,
    ctx: &SpendContext,
) -> Result<(TxEffect, PendingSigs), TxError> {
    let mut sigs = PendingSigs {
        sighash: hashes.sighash,
        checks: Vec::with_capacity(tx.coin_inputs.len()),
    };
    let mut effect = TxEffect {
        fee: tx.fee,
        ..TxEffect::default()
    };

    let mut coin_in: u128 = 0;
    for (index, input) in tx.coin_inputs.iter().enumerate() {
        let Some(entry) = view.coin(&input.parent) else {
            return Err(missing(view, Side::Coin, index, input.parent));
        };
        if entry.mature_at > ctx.height {
            return Err(TxError::ImmatureInput {
                index,
                parent: input.parent,
                mature_at: entry.mature_at,
            });
        }
        check_fulfillment(&entry.condition, &input.fulfillment, ctx, &mut sigs.checks).map_err(
            |source| TxError::Fulfillment {
                side: Side::Coin,
                index,
                source,
            },
        )?;
        coin_in = coin_in
            .checked_add(entry.value.0)
            .ok_or(TxError::Overflow)?;
        effect.coins_spent.push((input.parent, entry));
    }

    let mut stake_in: u64 = 0;
    for (index, input) in tx.blockstake_inputs.iter().enumerate() {
        let Some(entry) = view.stake(&input.parent) else {
            return Err(missing(view, Side::BlockStake, index, input.parent));
        };
        check_fulfillment(&entry.condition, &input.fulfillment, ctx, &mut sigs.checks).map_err(
            |source| TxError::Fulfillment {
                side: Side::BlockStake,
                index,
                source,
            },
        )?;
        stake_in = stake_in.checked_add(entry.value).ok_or(TxError::Overflow)?;
        effect.stakes_spent.push((input.parent, entry));
    }

    let coin_out = Currency::checked_sum(tx.coin_outputs.iter().map(|o| o.value))
        .and_then(|s| s.checked_add(tx.fee))
        .and_then(|s| s.checked_add(tx.grid_deposits()?))
        .ok_or(TxError::Overflow)?;
    if coin_out.0 != coin_in {
        return Err(TxError::CoinImbalance {
            inputs: Currency(coin_in),
            spent: coin_out,
        });
    }
    let stake_out = tx
        .blockstake_outputs
        .iter()
        .try_fold(0u64, |acc, o| acc.checked_add(o.value))
        .ok_or(TxError::Overflow)?;
    if stake_out != stake_in {
        return Err(TxError::StakeImbalance {
            inputs: stake_in,
            outputs: stake_out,
        });
    }

    for (i, o) in tx.coin_outputs.iter().enumerate() {
        effect.coins_created.push((
            Transaction::coin_output_id(&hashes.txid, i),
            CoinEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: ctx.height,
                mature_at: ctx.height,
            },
        ));
    }
    for (i, o) in tx.blockstake_outputs.iter().enumerate() {
        effect.stakes_created.push((
            Transaction::stake_output_id(&hashes.txid, i),
            StakeEntry {
                value: o.value,
                condition: o.condition.clone(),
                height: ctx.height,
                timestamp: ctx.timestamp,
            },
        ));
    }
    effect.grid = apply_grid_ops(
        view,
        tx,
        ctx,
        params,
        Authorization::Required,
        &mut sigs.checks,
    )?;
    Ok((effect, sigs))
}

fn missing(view: &impl UtxoView, side: Side, index: usize, parent: OutputId) -> TxError {
    let actual = match side {
        Side::Coin if view.stake(&parent).is_some() => Some(Side::BlockStake),
        Side::BlockStake if view.coin(&parent).is_some() => Some(Side::Coin),
        _ => None,
    };
    match actual {
        Some(actual) => TxError::WrongInputKind {
            side,
            index,
            parent,
            actual,
        },
        None => TxError::MissingInput {
            side,
            index,
            parent,
        },
    }
}

/// Full validity of one transaction (§4.3), signatures included: what the pool admits.
pub fn validate_transaction(
    view: &(impl UtxoView + GridView),
    tx: &Transaction,
    params: &ChainParams,
    ctx: &SpendContext,
) -> Result<TxEffect, TxError> {
    let hashes = tx.hashes(&params.genesis_id);
    let (effect, sigs) = check_transaction(view, tx, &hashes, params, ctx)?;
    verify_pending(&sigs, tx)?;
    Ok(effect)
}

/// Verifies a transaction's pending signatures, mapping a failure to its input.
pub fn verify_pending(sigs: &PendingSigs, tx: &Transaction) -> Result<(), TxError> {
    match sigs.first_invalid() {
        None => Ok(()),
        Some(k) => Err(bad_signature_at(tx, k)),
    }
}

/// Verifies every signature carried by the transaction's fulfillments over `sighash`.
/// Needs no state: which keys *may* sign is checked by [`check_spends`], so a block can
/// run this for all its transactions in parallel with hashing.
pub fn verify_signatures(tx: &Transaction, sighash: &Hash) -> Result<(), TxError> {
    let msg = sighash.as_bytes();
    let inputs = tx
        .coin_inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (Side::Coin, i, input))
        .chain(
            tx.blockstake_inputs
                .iter()
                .enumerate()
                .map(|(i, input)| (Side::BlockStake, i, input)),
        );
    for (side, index, input) in inputs {
        if !fulfillment_signatures_verify(&input.fulfillment, msg) {
            return Err(TxError::Fulfillment {
                side,
                index,
                source: crate::error::ConditionError::BadSignature,
            });
        }
    }
    verify_grid_signatures(tx, sighash)
}

/// The input whose fulfillment holds the `k`-th pending signature, as a TxError.
pub fn bad_signature_at(tx: &Transaction, k: usize) -> TxError {
    use tfchain_types::Fulfillment;
    let count = |f: &Fulfillment| match f {
        Fulfillment::MultiSignature(v) => v.len(),
        _ => 1,
    };
    let mut seen = 0;
    let inputs = tx
        .coin_inputs
        .iter()
        .map(|i| (Side::Coin, i))
        .enumerate()
        .chain(
            tx.blockstake_inputs
                .iter()
                .map(|i| (Side::BlockStake, i))
                .enumerate(),
        );
    for (index, (side, input)) in inputs {
        seen += count(&input.fulfillment);
        if k < seen {
            return TxError::Fulfillment {
                side,
                index,
                source: crate::error::ConditionError::BadSignature,
            };
        }
    }
    if let Some(e) = bad_grid_signature_at(tx, k - seen) {
        return e;
    }
    TxError::Fulfillment {
        side: Side::Coin,
        index: 0,
        source: crate::error::ConditionError::BadSignature,
    }
}
