//! Paying from the wallet: gather its outputs, select coins, add change to a fresh
//! address, sign and submit. Shared by `wallet send`, `send-stake` and the swap commands.

use super::ChainCtx;
use crate::builder::{
    classify, plan_coins, plan_stakes, single_key_fulfillment, Funds, Spendable, TxParts,
};
use crate::error::{Result, WalletError};
use crate::sign::sign_all;
use crate::wallet::Wallet;
use tfchain_types::{
    Address, Condition, Currency, GridOp, Input, LockedCondition, MultiSigCondition, Output,
    SecretKey, StakeOutput, Transaction, TxId,
};

/// The wallet's outputs at the node's tip, sorted by what can be spent.
pub(crate) async fn wallet_funds(chain: &ChainCtx, w: &Wallet) -> Result<Funds> {
    let outputs = chain.node.outputs_of(&w.addresses()).await?;
    classify(
        outputs.into_iter().flatten(),
        |c| c.single_key().is_some_and(|(a, _)| w.owns(&a)),
        chain.at(),
    )
}

/// The input spending a wallet output, its signature still zero.
fn input_for(w: &Wallet, s: &Spendable) -> Result<Input> {
    let owner = s
        .condition
        .single_key()
        .map(|(a, _)| a)
        .and_then(|a| w.key_of(&a))
        .ok_or_else(|| WalletError::NodeProtocol {
            url: String::new(),
            reason: format!("output {} is not the wallet's", s.id),
        })?;
    Ok(Input {
        parent: s.id,
        fulfillment: single_key_fulfillment(owner.public_key()),
    })
}

/// The condition paying `address`, optionally time-locked. A multisig address needs its
/// condition (`multisig`); swap addresses are paid through `tfchainc swap`.
pub(crate) fn recipient(
    address: Address,
    multisig: Option<MultiSigCondition>,
    lock: Option<u64>,
) -> Result<Condition> {
    use tfchain_types::AddressKind;
    let base =
        match (address.kind, multisig) {
            (AddressKind::SingleKey, None) => LockedCondition::Address(address),
            (AddressKind::MultiSig, Some(m)) => {
                let computed = m.address();
                if computed != address {
                    return Err(WalletError::MultisigMismatch {
                        min: m.min,
                        n: m.addresses.len(),
                        computed: computed.to_string(),
                        given: address.to_string(),
                    });
                }
                LockedCondition::MultiSig(m)
            }
            (AddressKind::MultiSig, None) => {
                return Err(WalletError::MultisigConditionNeeded {
                    address: address.to_string(),
                })
            }
            (AddressKind::SingleKey, Some(_)) => {
                return Err(WalletError::bad_arg(
                    "--multisig-min",
                    address.to_string(),
                    "the address is a single-key address, not a multisig",
                ))
            }
            (AddressKind::AtomicSwap, _) => return Err(WalletError::UnpayableAddress {
                address: address.to_string(),
                reason:
                    "it is an atomic swap contract: use `tfchainc swap initiate` or `participate`"
                        .into(),
            }),
            (AddressKind::Nil, _) => {
                return Err(WalletError::UnpayableAddress {
                    address: address.to_string(),
                    reason: "the nil address has no owner".into(),
                })
            }
        };
    Ok(match (lock, base) {
        (Some(until), inner) => Condition::TimeLock { until, inner },
        (None, LockedCondition::Address(a)) => Condition::Address(a),
        (None, LockedCondition::MultiSig(m)) => Condition::MultiSig(m),
    })
}

/// What a payment asks for.
#[derive(Debug, Default)]
pub(crate) struct Payment {
    pub coin_outputs: Vec<Output>,
    pub stake: Option<(u64, Condition)>,
    pub fee: Currency,
    pub data: Vec<u8>,
    /// Capacity-market operations; their deposits are paid from the coin inputs too.
    pub grid_ops: Vec<GridOp>,
    /// Keys outside the wallet that must sign (a node key for `RegisterNode`).
    pub extra_keys: Vec<SecretKey>,
}

/// A submitted transaction.
#[derive(Debug)]
pub(crate) struct Sent {
    pub txid: TxId,
    pub tx: Transaction,
    pub change: Option<Address>,
    pub stake_change: Option<Address>,
}

/// Builds, signs and submits `p` from the wallet's funds.
pub(crate) async fn pay(chain: &ChainCtx, w: &mut Wallet, p: Payment) -> Result<Sent> {
    let genesis_id = chain.signing_genesis(w)?;
    let funds = wallet_funds(chain, w).await?;
    let pay_total = Currency::checked_sum(
        p.coin_outputs
            .iter()
            .map(|o| o.value)
            .chain(p.grid_ops.iter().map(GridOp::deposit)),
    )
    .ok_or(WalletError::Overflow)?;
    let plan = plan_coins(&funds, pay_total, p.fee, chain.dust())?;
    let mut parts = TxParts {
        coin_outputs: p.coin_outputs,
        fee: plan.fee,
        data: p.data,
        grid_ops: p.grid_ops,
        ..Default::default()
    };
    for c in &plan.inputs {
        parts.coin_inputs.push(input_for(w, c)?);
    }
    let mut stake_change = None;
    if let Some((count, condition)) = p.stake {
        let (inputs, change) = plan_stakes(&funds, count)?;
        for s in &inputs {
            parts.stake_inputs.push(input_for(w, s)?);
        }
        parts.stake_outputs.push(StakeOutput {
            value: count,
            condition,
        });
        if change > 0 {
            let k = w.fresh_key()?;
            parts.stake_outputs.push(StakeOutput {
                value: change,
                condition: Condition::Address(k.address),
            });
            stake_change = Some(k.address);
        }
    }
    let mut change_address = None;
    if let Some(change) = plan.change {
        let k = w.fresh_key()?;
        parts.coin_outputs.push(Output {
            value: change,
            condition: Condition::Address(k.address),
        });
        change_address = Some(k.address);
    }
    let mut tx = parts.build()?;
    sign_all(&mut tx, &genesis_id, w.signer(), &p.extra_keys);
    let txid = chain.node.submit(&tx).await?;
    Ok(Sent {
        txid,
        tx,
        change: change_address,
        stake_change,
    })
}

/// Waits until `txid` is confirmed, polling the node; `Timeout` after `secs`.
pub(crate) async fn wait_confirmed(
    node: &crate::rpc::Node,
    txid: TxId,
    secs: u64,
) -> Result<tfchain_api::TxInfo> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(info) = node.tx(txid).await? {
            if matches!(info.status, tfchain_api::TxStatus::Confirmed { .. }) {
                return Ok(info);
            }
        }
        if std::time::Instant::now() >= deadline {
            return Err(WalletError::Timeout {
                txid: txid.to_string(),
                secs,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
