//! `tfchainc chain …`, `explore …`, `key …` and `wallet history`: read-only queries.

use super::{parse_output_id, parse_txid, Ctx};
use crate::cli::{ChainCmd, ExploreCmd, KeyCmd};
use crate::error::{parse_address, Result, WalletError};
use crate::output::{describe_condition, lines, Report};
use serde_json::json;
use std::collections::BTreeMap;
use tfchain_api::{BlockRef, HistoryEntry, TxInfo, TxStatus};
use tfchain_types::{Address, BlockId, Currency, Fulfillment, Transaction, TxId};

pub(crate) async fn chain(ctx: &Ctx<'_>, cmd: &ChainCmd) -> Result<Report> {
    match cmd {
        ChainCmd::Info => {
            let c = ctx.chain().await?;
            let (i, p) = (&c.info, &c.params);
            let age = crate::args::now().saturating_sub(i.tip_timestamp);
            let text = lines(&[
                ("network", i.network.clone()),
                ("genesis", i.genesis_id.to_string()),
                ("height", i.height.to_string()),
                ("tip", i.tip.to_string()),
                (
                    "tip time",
                    format!(
                        "{} ({age} s ago)",
                        crate::args::format_time(i.tip_timestamp)
                    ),
                ),
                ("synced", i.synced.to_string()),
                ("peers", i.peers.to_string()),
                ("block time", format!("{} s", p.block_time)),
                ("maturity", format!("{} blocks", p.maturity_delay)),
                ("minimum fee", p.min_fee.to_string()),
            ]);
            Ok(Report::new(json!({"info": i, "params": p}), text))
        }
    }
}

pub(crate) async fn explore(ctx: &Ctx<'_>, cmd: &ExploreCmd) -> Result<Report> {
    let node = ctx.node()?;
    match cmd {
        ExploreCmd::Block { block } => {
            let at: BlockRef = block.parse().map_err(|e: tfchain_api::BlockRefError| {
                WalletError::bad_arg("block", block, e.to_string())
            })?;
            let b = node.block(at).await?;
            let h = &b.header;
            let mut text = lines(&[
                ("block", b.id.to_string()),
                ("height", b.height.to_string()),
                ("parent", h.parent.to_string()),
                (
                    "timestamp",
                    format!(
                        "{} ({})",
                        h.timestamp,
                        crate::args::format_time(h.timestamp)
                    ),
                ),
                ("creator", h.creator.to_string()),
                ("reward address", h.reward_address.to_string()),
                ("size", format!("{} bytes", b.size)),
                ("confirmations", b.confirmations.to_string()),
                ("transactions", b.transactions.len().to_string()),
            ]);
            for t in &b.transactions {
                text.push_str(&format!(
                    "  {}  {} in, {} out, fee {}\n",
                    t.txid,
                    t.transaction.coin_inputs.len() + t.transaction.blockstake_inputs.len(),
                    t.transaction.coin_outputs.len() + t.transaction.blockstake_outputs.len(),
                    t.transaction.fee
                ));
            }
            Ok(Report::of(&b, text))
        }
        ExploreCmd::Tx { txid, wait } => {
            let id = parse_txid(txid)?;
            let info = match wait {
                Some(w) => {
                    let secs = crate::args::parse_duration(w)?;
                    super::pay::wait_confirmed(&node, id, secs).await?
                }
                None => node.tx(id).await?.ok_or(WalletError::TxNotFound {
                    txid: id.to_string(),
                })?,
            };
            Ok(tx_report(&info))
        }
        ExploreCmd::Address { address, limit } => {
            let a = parse_address(address)?;
            let balance = node.balance(a).await?;
            let outputs = node.outputs(a).await?;
            let history = node.history(a, None, Some(*limit)).await?;
            let mut text = lines(&[
                ("address", a.to_string()),
                ("confirmed", balance.confirmed.to_string()),
                ("immature", balance.immature.to_string()),
                ("time-locked", balance.locked.to_string()),
                (
                    "unconfirmed",
                    format!("+{} / -{}", balance.unconfirmed_in, balance.unconfirmed_out),
                ),
                ("blockstakes", balance.blockstakes.to_string()),
                ("unspent outputs", outputs.len().to_string()),
            ]);
            text.push_str(&history_text(&history.entries));
            Ok(Report::new(
                json!({"address": a, "balance": balance, "outputs": outputs,
                       "history": history}),
                text,
            ))
        }
        ExploreCmd::Output { id } => {
            let id = parse_output_id(id)?;
            let o = node
                .output(id)
                .await?
                .ok_or(WalletError::OutputNotFound { id })?;
            let text = lines(&[
                ("output", o.id.to_string()),
                ("kind", format!("{:?}", o.kind).to_lowercase()),
                (
                    "value",
                    match o.kind {
                        tfchain_api::OutputKind::Coin => Currency(o.value).to_string(),
                        tfchain_api::OutputKind::Blockstake => format!("{} blockstakes", o.value),
                    },
                ),
                ("condition", describe_condition(&o.condition)),
                ("height", o.height.to_string()),
                ("mature at", o.mature_at.to_string()),
                (
                    "spent in pool by",
                    o.pool_spender.map_or("-".into(), |t| t.to_string()),
                ),
            ]);
            Ok(Report::of(&o, text))
        }
    }
}

/// A transaction with its status and output IDs.
pub(crate) fn tx_report(info: &TxInfo) -> Report {
    let tx: &Transaction = &info.transaction;
    let status = match &info.status {
        TxStatus::Pool => "in the pool (unconfirmed)".to_string(),
        TxStatus::Confirmed {
            height,
            confirmations,
            ..
        } => format!("confirmed at height {height} ({confirmations} confirmations)"),
    };
    let mut text = lines(&[
        ("transaction", info.txid.to_string()),
        ("status", status),
        ("fee", tx.fee.to_string()),
    ]);
    let mut outputs = Vec::new();
    for (i, input) in tx.coin_inputs.iter().enumerate() {
        let kind = match &input.fulfillment {
            Fulfillment::Signature(_) => "signature",
            Fulfillment::MultiSignature(_) => "multisig",
            Fulfillment::Claim { .. } => "swap claim",
            Fulfillment::Refund { .. } => "swap refund",
        };
        text.push_str(&format!("  in  {i}: {} ({kind})\n", input.parent));
    }
    for (i, o) in tx.coin_outputs.iter().enumerate() {
        let id = Transaction::coin_output_id(&info.txid, i);
        text.push_str(&format!(
            "  out {i}: {id}  {}  {}\n",
            o.value,
            describe_condition(&o.condition)
        ));
        outputs.push(json!({"id": id, "value": o.value, "address": o.condition.address()}));
    }
    let mut stake_outputs = Vec::new();
    for (i, o) in tx.blockstake_outputs.iter().enumerate() {
        let id = Transaction::stake_output_id(&info.txid, i);
        text.push_str(&format!(
            "  stake out {i}: {id}  {} BS  {}\n",
            o.value,
            describe_condition(&o.condition)
        ));
        stake_outputs.push(json!({"id": id, "value": o.value, "address": o.condition.address()}));
    }
    if !tx.arbitrary_data.is_empty() {
        let shown = match std::str::from_utf8(&tx.arbitrary_data) {
            Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}"),
            _ => hex::encode(&tx.arbitrary_data),
        };
        text.push_str(&format!("  data: {shown}\n"));
    }
    let mut j = serde_json::to_value(info).unwrap_or_default();
    j["coin_outputs"] = json!(outputs);
    j["blockstake_outputs"] = json!(stake_outputs);
    Report::new(j, text)
}

fn history_text(entries: &[HistoryEntry]) -> String {
    let mut text = String::new();
    for e in entries {
        let what = e
            .txid
            .map_or_else(|| "block payout".to_string(), |t| t.to_string());
        let net = if e.received >= e.sent {
            format!("+{}", Currency(e.received.0 - e.sent.0))
        } else {
            format!("-{}", Currency(e.sent.0 - e.received.0))
        };
        text.push_str(&format!(
            "{:>8}  {}  {net:>20}  {what}\n",
            e.height,
            crate::args::format_time(e.timestamp),
        ));
    }
    if entries.is_empty() {
        text.push_str("no history\n");
    }
    text
}

/// `wallet history`: the histories of every wallet address merged, a transaction touching
/// several of them counted once.
pub(crate) async fn wallet_history(ctx: &Ctx<'_>, limit: u32) -> Result<Report> {
    let node = ctx.node()?;
    let w = ctx.open_wallet()?;
    let limit = limit.clamp(1, 1000);
    let pages = node.histories(&w.addresses(), limit).await?;
    // Key: newest first by height, then position (payouts, position None, after txs).
    let mut merged: BTreeMap<(std::cmp::Reverse<u64>, BlockId, Option<TxId>), HistoryEntry> =
        BTreeMap::new();
    for e in pages.into_iter().flat_map(|p| p.entries) {
        let key = (std::cmp::Reverse(e.height), e.block, e.txid);
        match merged.get_mut(&key) {
            Some(m) => {
                m.received = m
                    .received
                    .checked_add(e.received)
                    .ok_or(WalletError::Overflow)?;
                m.sent = m.sent.checked_add(e.sent).ok_or(WalletError::Overflow)?;
            }
            None => {
                merged.insert(key, e);
            }
        }
    }
    let mut entries: Vec<HistoryEntry> = merged.into_values().collect();
    entries.sort_by(|a, b| b.height.cmp(&a.height).then(b.position.cmp(&a.position)));
    entries.truncate(limit as usize);
    Ok(Report::new(
        json!({ "entries": entries }),
        history_text(&entries),
    ))
}

pub(crate) fn key(cmd: &KeyCmd) -> Result<Report> {
    match cmd {
        KeyCmd::Derive { index } => {
            let seed = crate::prompt::read_mnemonic()?;
            let k = crate::wallet::WalletKey::derive(&seed, *index);
            Ok(Report::new(
                json!({"index": index, "address": k.address, "public_key": k.public_key()}),
                format!("{}\npublic key: {}\n", k.address, k.public_key()),
            ))
        }
        KeyCmd::Address { public_key } => {
            let pk = crate::multisig::parse_public_key(public_key)?;
            let a = Address::from_public_key(&pk);
            Ok(Report::new(
                json!({"address": a, "public_key": pk}),
                format!("{a}\n"),
            ))
        }
    }
}
