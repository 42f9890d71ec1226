//! `tfchainc swap …`: atomic swap contracts (see [`crate::swap`] for the flow).

use super::pay::{pay, Payment};
use super::{parse_output_id, parse_txid, ChainCtx, Ctx};
use crate::args::{now, parse_duration, parse_hash, parse_secret};
use crate::builder::TxParts;
use crate::cli::{FeeOpts, SwapCmd};
use crate::error::{parse_address, parse_amount, Result, WalletError};
use crate::output::{lines, Report};
use crate::sign::fill_signatures;
use crate::swap::{as_swap, check, new_secret, secrets_in, swap_condition, Audit, Expect};
use crate::wallet::Wallet;
use serde_json::json;
use tfchain_api::OutputInfo;
use tfchain_types::{
    AddressKind, AtomicSwapCondition, Condition, Currency, Fulfillment, Hash, Input, Output,
    OutputId, Secret, Signature, Transaction,
};

pub(crate) async fn run(ctx: &Ctx<'_>, cmd: &SwapCmd) -> Result<Report> {
    match cmd {
        SwapCmd::Initiate {
            participant,
            amount,
            timeout,
            fee,
        } => {
            let secret = new_secret();
            lock_swap(
                ctx,
                participant,
                amount,
                secret.hashed(),
                timeout,
                fee,
                Some(secret),
            )
            .await
        }
        SwapCmd::Participate {
            initiator,
            amount,
            hashed_secret,
            timeout,
            fee,
        } => {
            let hashed = parse_hash("hashed secret", hashed_secret)?;
            lock_swap(ctx, initiator, amount, hashed, timeout, fee, None).await
        }
        SwapCmd::Audit {
            output_id,
            amount,
            hashed_secret,
            receiver,
            sender,
            min_remaining,
        } => {
            let node = ctx.node()?;
            let id = parse_output_id(output_id)?;
            let (o, s) = swap_output(&node, id).await?;
            let expect = Expect {
                amount: amount.as_deref().map(parse_amount).transpose()?,
                hashed_secret: hashed_secret
                    .as_deref()
                    .map(|h| parse_hash("hashed secret", h))
                    .transpose()?,
                receiver: receiver.as_deref().map(parse_address).transpose()?,
                sender: sender.as_deref().map(parse_address).transpose()?,
                min_remaining: min_remaining.as_deref().map(parse_duration).transpose()?,
            };
            let remaining = s.timeout.saturating_sub(now());
            let audit = Audit {
                contract_address: s.address(),
                value: Currency(o.value),
                sender: s.sender,
                receiver: s.receiver,
                hashed_secret: s.hashed_secret,
                timeout: s.timeout,
                remaining,
                expired: remaining == 0,
                being_spent: o.pool_spender.is_some(),
            };
            check(&audit, &expect)?;
            let text = lines(&[
                ("contract", audit.contract_address.to_string()),
                ("output", id.to_string()),
                ("value", audit.value.to_string()),
                ("receiver", audit.receiver.to_string()),
                ("sender (refund)", audit.sender.to_string()),
                ("hashed secret", audit.hashed_secret.to_string()),
                (
                    "timeout",
                    format!(
                        "{} (unix time {}, {} s from now)",
                        crate::args::format_time(audit.timeout),
                        audit.timeout,
                        audit.remaining
                    ),
                ),
                ("being spent", audit.being_spent.to_string()),
            ]);
            Ok(Report::of(&audit, text))
        }
        SwapCmd::Claim {
            output_id,
            secret,
            fee,
        } => {
            let id = parse_output_id(output_id)?;
            let chain = ctx.chain().await?;
            let (o, s) = swap_output(&chain.node, id).await?;
            let mut w = ctx.open_wallet()?;
            let key = w.key_of(&s.receiver).ok_or(WalletError::NotSwapParty {
                role: "receiver",
                address: s.receiver.to_string(),
            })?;
            let secret = match secret {
                Some(x) => parse_secret(x)?,
                None => {
                    let known = w.secret_for(&s.hashed_secret.to_string()).ok_or(
                        WalletError::SecretUnknown {
                            hashed: s.hashed_secret.to_string(),
                        },
                    )?;
                    parse_secret(known)?
                }
            };
            if secret.hashed() != s.hashed_secret {
                return Err(WalletError::WrongSecret {
                    got: secret.hashed().to_string(),
                    expected: s.hashed_secret.to_string(),
                });
            }
            if chain.at().timestamp >= s.timeout {
                return Err(WalletError::SwapExpired { timeout: s.timeout });
            }
            let fulfillment = Fulfillment::Claim {
                public_key: key.public_key(),
                signature: Signature::ZERO,
                secret,
            };
            let fee = chain.fee(fee)?;
            spend_swap(&chain, &mut w, id, &o, fulfillment, fee, "claimed").await
        }
        SwapCmd::Refund { output_id, fee } => {
            let id = parse_output_id(output_id)?;
            let chain = ctx.chain().await?;
            let (o, s) = swap_output(&chain.node, id).await?;
            let mut w = ctx.open_wallet()?;
            let key = w.key_of(&s.sender).ok_or(WalletError::NotSwapParty {
                role: "sender",
                address: s.sender.to_string(),
            })?;
            let at = chain.at().timestamp;
            if at < s.timeout {
                return Err(WalletError::SwapNotExpired {
                    timeout: s.timeout,
                    wait: s.timeout - at,
                });
            }
            let fulfillment = Fulfillment::Refund {
                public_key: key.public_key(),
                signature: Signature::ZERO,
            };
            let fee = chain.fee(fee)?;
            spend_swap(&chain, &mut w, id, &o, fulfillment, fee, "refunded").await
        }
        SwapCmd::Extract {
            txid_or_address,
            hashed_secret,
        } => {
            let node = ctx.node()?;
            let hashed = hashed_secret
                .as_deref()
                .map(|h| parse_hash("hashed secret", h))
                .transpose()?;
            let arg = txid_or_address.trim();
            let txids = if arg.len() == tfchain_types::address::ADDRESS_STRING_LEN {
                let a = parse_address(arg)?;
                let page = node.history(a, None, Some(1000)).await?;
                page.entries.into_iter().filter_map(|e| e.txid).collect()
            } else {
                vec![parse_txid(arg)?]
            };
            let mut found: Vec<Secret> = Vec::new();
            for t in txids {
                if let Some(info) = node.tx(t).await? {
                    found.extend(secrets_in(&info.transaction, hashed.as_ref()));
                }
            }
            let Some(secret) = found.first() else {
                return Err(WalletError::NoSecretFound(arg.to_string()));
            };
            Ok(Report::new(
                json!({"secret": secret, "hashed_secret": secret.hashed()}),
                lines(&[
                    ("secret", hex::encode(secret.0)),
                    ("hashed secret", secret.hashed().to_string()),
                ]),
            ))
        }
    }
}

/// Locks `amount` to `counterparty` under `hashed` until now + `timeout`, from a fresh
/// address of this wallet (the refund key).
async fn lock_swap(
    ctx: &Ctx<'_>,
    counterparty: &str,
    amount: &str,
    hashed: Hash,
    timeout: &str,
    fee: &FeeOpts,
    secret: Option<Secret>,
) -> Result<Report> {
    let receiver = parse_address(counterparty)?;
    if receiver.kind != AddressKind::SingleKey {
        return Err(WalletError::UnpayableAddress {
            address: receiver.to_string(),
            reason: "a swap's receiver must be a single-key (01…) address".into(),
        });
    }
    let amount = parse_amount(amount)?;
    if amount.is_zero() {
        return Err(WalletError::ZeroAmount);
    }
    let timeout = now().saturating_add(parse_duration(timeout)?);
    let chain = ctx.chain().await?;
    let fee = chain.fee(fee)?;
    let mut w = ctx.open_wallet()?;
    // Before a key or a secret is stored for a swap that would not be signed.
    chain.signing_genesis(&w)?;
    let sender = w.fresh_key()?;
    if let Some(s) = &secret {
        w.remember_secret(hashed.to_string(), hex::encode(s.0))?;
    }
    let cond: AtomicSwapCondition = swap_condition(sender.address, receiver, hashed, timeout);
    let contract = cond.address();
    let sent = pay(
        &chain,
        &mut w,
        Payment {
            coin_outputs: vec![Output {
                value: amount,
                condition: Condition::AtomicSwap(cond),
            }],
            fee,
            ..Default::default()
        },
    )
    .await?;
    let output_id = Transaction::coin_output_id(&sent.txid, 0);
    let mut j = json!({"txid": sent.txid, "output_id": output_id, "contract_address": contract,
                       "amount": amount, "sender": sender.address, "receiver": receiver,
                       "hashed_secret": hashed, "timeout": timeout});
    let mut rows = vec![
        ("contract", contract.to_string()),
        ("output", output_id.to_string()),
        ("transaction", sent.txid.to_string()),
        ("amount", amount.to_string()),
        ("receiver", receiver.to_string()),
        ("refund address", sender.address.to_string()),
        (
            "timeout",
            format!(
                "{} (unix time {timeout})",
                crate::args::format_time(timeout)
            ),
        ),
        ("hashed secret", hashed.to_string()),
    ];
    if let Some(s) = secret {
        j["secret"] = json!(s);
        rows.push(("secret", hex::encode(s.0)));
    }
    let mut text = lines(&rows);
    if secret.is_some() {
        text.push_str("Keep the secret private until you claim the other side (it is also kept in the wallet).\n");
    }
    Ok(Report::new(j, text))
}

/// The unspent swap output `id`.
async fn swap_output(
    node: &crate::rpc::Node,
    id: OutputId,
) -> Result<(OutputInfo, AtomicSwapCondition)> {
    let o = node
        .output(id)
        .await?
        .ok_or(WalletError::OutputNotFound { id })?;
    let s = as_swap(&o.condition)
        .cloned()
        .ok_or(WalletError::NotASwap { id })?;
    Ok((o, s))
}

/// Spends a swap output with `fulfillment` to a fresh wallet address.
async fn spend_swap(
    chain: &ChainCtx,
    w: &mut Wallet,
    id: OutputId,
    o: &OutputInfo,
    fulfillment: Fulfillment,
    fee: Currency,
    verb: &str,
) -> Result<Report> {
    let genesis_id = chain.signing_genesis(w)?;
    let value = Currency(o.value);
    let Some(rest) = value.checked_sub(fee).filter(|r| !r.is_zero()) else {
        return Err(WalletError::InsufficientFunds {
            need: fee,
            fee,
            funds: crate::error::FundsSummary {
                spendable: value,
                ..Default::default()
            },
        });
    };
    let dest = w.fresh_key()?;
    let mut tx = TxParts {
        coin_inputs: vec![Input {
            parent: id,
            fulfillment,
        }],
        coin_outputs: vec![Output {
            value: rest,
            condition: Condition::Address(dest.address),
        }],
        fee,
        ..Default::default()
    }
    .build()?;
    fill_signatures(&mut tx, &genesis_id, w.signer());
    let txid = chain.node.submit(&tx).await?;
    Ok(Report::new(
        json!({"txid": txid, "amount": rest, "to": dest.address, "fee": fee}),
        lines(&[
            (verb, rest.to_string()),
            ("to", dest.address.to_string()),
            ("transaction", txid.to_string()),
        ]),
    ))
}
