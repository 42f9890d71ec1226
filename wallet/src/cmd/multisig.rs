//! `tfchainc multisig …`: addresses, spend files, signing and submitting.

use super::pay::recipient;
use super::wallet::{data, lock};
use super::{check_network, Ctx};
use crate::builder::{classify, plan_coins, TxParts};
use crate::cli::MultisigCmd;
use crate::error::{parse_address, parse_amount, Result, WalletError};
use crate::multisig::{
    check_signers, condition, locked_by, parse_public_key, review, unsigned_list, Member,
    SpendFile, SpendInput, SPEND_FORMAT,
};
use crate::output::{describe_condition, lines, Report};
use crate::rpc::Node;
use crate::sign::fill_signatures;
use serde_json::json;
use std::path::Path;
use tfchain_types::{Condition, Currency, Input, Output, PublicKey};

pub(crate) async fn run(ctx: &Ctx<'_>, cmd: &MultisigCmd) -> Result<Report> {
    match cmd {
        MultisigCmd::Address { min, members } => {
            let members = parse_members(members)?;
            let c = condition(*min, &members)?;
            let a = c.address();
            Ok(Report::new(
                json!({"address": a, "min": c.min, "members": c.addresses}),
                format!("{a}\n"),
            ))
        }
        MultisigCmd::Spend {
            address,
            amount,
            min,
            members,
            signers,
            fee,
            extra,
            out,
        } => {
            let members = parse_members(members)?;
            let cond = condition(*min, &members)?;
            let signers: Vec<PublicKey> = if signers.is_empty() {
                members
                    .iter()
                    .filter_map(|m| match m {
                        Member::Key(k) => Some(*k),
                        Member::Address(_) => None,
                    })
                    .take(usize::try_from(*min).unwrap_or(usize::MAX))
                    .collect()
            } else {
                signers
                    .iter()
                    .map(|s| parse_public_key(s))
                    .collect::<Result<_>>()?
            };
            check_signers(&cond, &signers)?;
            let to = parse_address(address)?;
            let amount = parse_amount(amount)?;
            if amount.is_zero() {
                return Err(WalletError::ZeroAmount);
            }
            let pay_to = recipient(to, None, lock(extra)?)?;
            let chain = ctx.chain().await?;
            let fee = chain.fee(fee)?;
            let outputs = chain.node.outputs(cond.address()).await?;
            let funds = classify(outputs, |c| locked_by(c, &cond), chain.at())?;
            let plan = plan_coins(&funds, amount, fee, chain.dust())?;
            let mut parts = TxParts {
                coin_outputs: vec![Output {
                    value: amount,
                    condition: pay_to,
                }],
                fee: plan.fee,
                data: data(extra)?,
                ..Default::default()
            };
            let mut inputs = Vec::new();
            for c in &plan.inputs {
                parts.coin_inputs.push(Input {
                    parent: c.id,
                    fulfillment: unsigned_list(&signers),
                });
                inputs.push(SpendInput {
                    id: c.id,
                    value: Currency(c.value),
                });
            }
            if let Some(change) = plan.change {
                parts.coin_outputs.push(Output {
                    value: change,
                    condition: Condition::MultiSig(cond.clone()),
                });
            }
            let file = SpendFile {
                format: SPEND_FORMAT.into(),
                network: chain.params.network.clone(),
                genesis_id: chain.params.genesis_id,
                condition: cond,
                inputs,
                transaction: parts.build()?,
            };
            file.save(out)?;
            let txid = file.transaction.txid();
            Ok(Report::new(
                json!({"file": out, "txid": txid, "amount": amount, "to": to,
                       "fee": file.transaction.fee, "signers": signers}),
                format!(
                    "{}\nWrote {}: each signer runs `tfchainc multisig sign {}`, then anyone runs `tfchainc multisig submit {}`.\n",
                    summary(&file),
                    out.display(),
                    out.display(),
                    out.display()
                ),
            ))
        }
        MultisigCmd::Sign { file, out, yes } => {
            let mut f = SpendFile::load(file)?;
            let chain = ctx.chain().await?;
            let w = ctx.open_wallet()?;
            let signers = f.signers();
            if !signers.iter().any(|pk| w.key_by_public(pk).is_some()) {
                return Err(WalletError::NotASigner {
                    signers: signers
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            // The wallet's own network decides what is signed; the file and the node must
            // both agree with it.
            let ours = w.network()?.clone();
            check_network(
                &ours,
                format!("the spend file {}", file.display()),
                &f.network,
                &f.genesis_id,
            )?;
            chain.signing_genesis(&w)?;
            let reasons = review_on(&chain.node, &f, file).await?;
            crate::prompt::confirm(&summary(&f), &reasons, *yes, ctx.cli.json)?;
            let signed = fill_signatures(&mut f.transaction, &ours.genesis_id, w.signer());
            let target = out.as_deref().unwrap_or(file);
            f.save(target)?;
            status_report(&f, target, Some(signed))
        }
        MultisigCmd::Submit { file } => {
            let f = SpendFile::load(file)?;
            f.check_complete()?;
            let chain = ctx.chain().await?;
            if chain.params.genesis_id != f.genesis_id {
                return Err(WalletError::SpendFile {
                    path: file.clone(),
                    reason: format!(
                        "it was built for network {:?} (genesis {}), the node runs {:?} (genesis {})",
                        f.network, f.genesis_id, chain.params.network, chain.params.genesis_id
                    ),
                });
            }
            let txid = chain.node.submit(&f.transaction).await?;
            Ok(Report::new(
                json!({"txid": txid}),
                format!("submitted transaction {txid}\n"),
            ))
        }
    }
}

fn parse_members(members: &[String]) -> Result<Vec<Member>> {
    members.iter().map(|m| Member::parse(m)).collect()
}

/// Looks every input of the spend up on the node, then [`review`]s what signing it does.
async fn review_on(node: &Node, f: &SpendFile, path: &Path) -> Result<Vec<String>> {
    let mut coins = Vec::with_capacity(f.transaction.coin_inputs.len());
    for i in &f.transaction.coin_inputs {
        coins.push(node.output(i.parent).await?);
    }
    let mut stakes = Vec::with_capacity(f.transaction.blockstake_inputs.len());
    for i in &f.transaction.blockstake_inputs {
        stakes.push(node.output(i.parent).await?);
    }
    review(f, path, &coins, &stakes)
}

/// What the spend does, for a signer to read before signing.
fn summary(f: &SpendFile) -> String {
    let mut rows = vec![
        ("network", f.network.clone()),
        ("transaction", f.transaction.txid().to_string()),
        (
            "from",
            format!(
                "{} ({}-of-{} multisig)",
                f.condition.address(),
                f.condition.min,
                f.condition.addresses.len()
            ),
        ),
        ("fee", f.transaction.fee.to_string()),
    ];
    let tx = &f.transaction;
    for i in &f.inputs {
        rows.push(("spends", format!("{}  {}", i.value, i.id)));
    }
    for i in &tx.blockstake_inputs {
        rows.push(("spends blockstakes", i.parent.to_string()));
    }
    for o in &tx.coin_outputs {
        rows.push((
            "pays",
            format!("{}  {}", o.value, describe_condition(&o.condition)),
        ));
    }
    for o in &tx.blockstake_outputs {
        rows.push((
            "pays",
            format!(
                "{} blockstakes  {}",
                o.value,
                describe_condition(&o.condition)
            ),
        ));
    }
    for op in &tx.grid_ops {
        rows.push((
            "grid operation",
            serde_json::to_string(op).unwrap_or_else(|_| op.name().to_string()),
        ));
    }
    if !tx.arbitrary_data.is_empty() {
        rows.push(("data", hex::encode(&tx.arbitrary_data)));
    }
    lines(&rows)
}

fn status_report(f: &SpendFile, path: &Path, signed: Option<usize>) -> Result<Report> {
    let status = f.signature_status();
    let complete = status.iter().all(|(have, slots)| have == slots);
    let mut text = summary(f);
    if let Some(n) = signed {
        text.push_str(&format!("added {n} signature(s)\n"));
    }
    for (i, (have, slots)) in status.iter().enumerate() {
        text.push_str(&format!("input {i}: {have} of {slots} signatures\n"));
    }
    text.push_str(if complete {
        "complete: submit it with `tfchainc multisig submit`\n"
    } else {
        "waiting for more signatures\n"
    });
    Ok(Report::new(
        json!({"file": path, "txid": f.transaction.txid(), "signed": signed,
               "signatures": status.iter().map(|(h, s)| json!({"have": h, "needed": s})).collect::<Vec<_>>(),
               "complete": complete}),
        text,
    ))
}
