//! `tfchainc reserve …` and `reservation …` (PROTOCOL.md §7.2, §7.3): a reservation is
//! made at a quoted rate with a deposit of rate × blocks, paid from the wallet's coins
//! into escrow; its owner is the wallet's receive address.

use super::grid::{resources, submit};
use super::{ChainCtx, Ctx};
use crate::cli::{ReservationCmd, ReserveArgs};
use crate::error::{parse_amount, Result, WalletError};
use crate::grid::{
    authorization, describe_resources, describe_state, ensure_live, shortfall, state_name,
};
use crate::output::{describe_condition, lines, Report};
use jsonrpsee::core::params::ArrayParams;
use serde_json::json;
use std::collections::BTreeMap;
use tfchain_api::{Quote, ReservationInfo};
use tfchain_types::{Condition, Currency, GridEventKind, GridOp, ReservationId, Resources};

/// Most reservations asked for per call (the node's cap).
const PAGE: u32 = 1000;

pub(crate) async fn reserve(ctx: &Ctx<'_>, a: &ReserveArgs) -> Result<Report> {
    let wanted = resources(&a.resources);
    if wanted.is_zero() {
        return Err(WalletError::bad_arg(
            "resources",
            "0",
            "reserve something: --cru, --mru, --sru, --hru, --ipv4",
        ));
    }
    let dep = super::deployment::resolve(&a.deployment, &wanted)?;
    let (hash, data) = (dep.hash, dep.data);
    let chain = ctx.chain().await?;
    let min = chain.params.min_reservation_blocks;
    if a.blocks < min {
        return Err(WalletError::TooFewBlocks {
            blocks: a.blocks,
            min,
        });
    }
    let fee = chain.fee(&a.submit.fee)?;
    let q = chain.node.quote(a.node, wanted, a.blocks).await?;
    if !q.available {
        return Err(unavailable(&chain, a.node, &wanted, &q).await);
    }
    let summary = lines(&[
        ("node", a.node.to_string()),
        ("resources", describe_resources(&wanted)),
        ("rate", format!("{} per block", q.rate)),
        ("blocks", a.blocks.to_string()),
        ("deposit", q.deposit.to_string()),
        ("fee", fee.to_string()),
        ("deployment", format!("{hash} ({})", dep.how)),
    ]);
    if !a.submit.fee.yes {
        crate::prompt::ask_yes(
            &summary,
            &format!(
                "Reserve for {} blocks, paying {} into escrow (plus the {fee} fee)?",
                a.blocks, q.deposit
            ),
        )?;
    }
    let mut w = ctx.open_wallet()?;
    let owner = w.receive_key().address;
    let op = GridOp::Reserve {
        node: a.node,
        resources: wanted,
        deposit: q.deposit,
        max_rate: q.rate,
        deployment_hash: hash,
        deployment_data: data,
        owner: Condition::Address(owner),
    };
    let sent = match submit(&chain, &mut w, vec![op], vec![], &a.submit).await {
        // Another reservation in the same block took the room: say how much is left.
        Err(WalletError::TxDropped { txid }) => {
            let q = chain.node.quote(a.node, wanted, a.blocks).await?;
            return Err(if q.available {
                WalletError::TxDropped { txid }
            } else {
                unavailable(&chain, a.node, &wanted, &q).await
            });
        }
        r => r?,
    };
    let id = sent.find(|e| match e {
        GridEventKind::ReservationCreated { reservation, .. } => Some(*reservation),
        _ => None,
    });
    let mut rows = vec![
        ("node", a.node.to_string()),
        ("resources", describe_resources(&wanted)),
        ("rate", format!("{} per block", q.rate)),
        ("deposit", format!("{} ({} blocks)", q.deposit, a.blocks)),
        ("owner", owner.to_string()),
        ("deployment", format!("{hash} ({})", dep.how)),
    ];
    if let Some(id) = id {
        rows.insert(0, ("reservation", id.to_string()));
    }
    Ok(Report::new(
        sent.json(
            json!({"reservation": id, "node": a.node, "resources": wanted,
                         "rate": q.rate, "blocks": a.blocks, "deposit": q.deposit,
                         "owner": owner, "deployment_hash": hash,
                         "deployment": dep.how}),
        ),
        sent.text(&rows),
    ))
}

/// Why a quote says `wanted` is not available on `node`: too little free, or not up.
async fn unavailable(chain: &ChainCtx, node: u32, wanted: &Resources, q: &Quote) -> WalletError {
    if !wanted.fits_within(&q.free) {
        return WalletError::CapacityExceeded {
            node,
            shortfall: shortfall(&q.free, wanted),
        };
    }
    match chain.node.grid_node(node).await {
        Ok(n) => WalletError::NodeNotUp {
            node,
            state: state_name(n.node.state).into(),
        },
        Err(e) => e,
    }
}

fn reservation_text(r: &ReservationInfo) -> String {
    let res = &r.reservation;
    let left = if res.rate.is_zero() {
        String::new()
    } else {
        format!(" (about {} blocks)", res.escrow.0 / res.rate.0)
    };
    lines(&[
        ("reservation", res.id.to_string()),
        ("node", res.node.to_string()),
        ("owner", describe_condition(&res.owner)),
        ("resources", describe_resources(&res.resources)),
        ("rate", format!("{} per block", res.rate)),
        ("escrow", format!("{}{left}", res.escrow)),
        ("settled to", format!("height {}", res.settled_to)),
        ("state", describe_state(r)),
        ("deployment", res.deployment_hash.to_string()),
        (
            "deployment data",
            format!("{} bytes", res.deployment_data.len()),
        ),
    ])
}

fn list_text(list: &[ReservationInfo]) -> String {
    if list.is_empty() {
        return "no reservations".into();
    }
    list.iter()
        .map(|r| {
            let res = &r.reservation;
            format!(
                "{:>6}  node {:<5} {:<24} escrow {:<16} {}\n",
                res.id,
                res.node,
                describe_resources(&res.resources),
                res.escrow.to_string(),
                describe_state(r)
            )
        })
        .collect()
}

/// Every reservation of the wallet's addresses, by id.
async fn owned(ctx: &Ctx<'_>) -> Result<Vec<ReservationInfo>> {
    let w = ctx.open_wallet()?;
    let node = ctx.node()?;
    let addresses = w.addresses();
    let params = addresses
        .iter()
        .map(|a| {
            let mut p = ArrayParams::new();
            p.insert(Option::<u32>::None)?;
            p.insert(a)?;
            p.insert(Option::<ReservationId>::None)?;
            p.insert(PAGE)?;
            Ok(p)
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(|e| WalletError::NodeProtocol {
            url: node.url().to_string(),
            reason: e.to_string(),
        })?;
    let pages: Vec<Vec<ReservationInfo>> = node.batch("grid_listReservations", params).await?;
    let mut all = BTreeMap::new();
    for (address, mut page) in addresses.iter().zip(pages) {
        loop {
            let full = page.len() >= PAGE as usize;
            let last = page.last().map(|r| r.reservation.id);
            all.extend(page.into_iter().map(|r| (r.reservation.id, r)));
            match last {
                Some(after) if full => {
                    page = node
                        .reservations(None, Some(*address), Some(after), Some(PAGE))
                        .await?;
                }
                _ => break,
            }
        }
    }
    Ok(all.into_values().collect())
}

/// The live reservations of a node, by id.
async fn of_node(ctx: &Ctx<'_>, id: u32) -> Result<Vec<ReservationInfo>> {
    let node = ctx.node()?;
    node.grid_node(id).await?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = node.reservations(Some(id), None, after, Some(PAGE)).await?;
        let full = page.len() >= PAGE as usize;
        after = page.last().map(|r| r.reservation.id);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

pub(crate) async fn reservation(ctx: &Ctx<'_>, cmd: &ReservationCmd) -> Result<Report> {
    match cmd {
        ReservationCmd::Show { id } => {
            let r = ctx.node()?.reservation(*id).await?;
            Ok(Report::of(&r, reservation_text(&r)))
        }
        ReservationCmd::List { node } => {
            let list = match node {
                Some(n) => of_node(ctx, *n).await?,
                None => owned(ctx).await?,
            };
            Ok(Report::new(
                json!({ "reservations": list }),
                list_text(&list),
            ))
        }
        ReservationCmd::Topup {
            id,
            amount,
            blocks,
            submit: opts,
        } => {
            let given = amount.as_deref().map(parse_amount).transpose()?;
            let chain = ctx.chain().await?;
            let r = chain.node.reservation(*id).await?;
            ensure_live(&r)?;
            let amount = match (given, blocks) {
                (Some(a), _) => a,
                (None, Some(b)) => r
                    .reservation
                    .rate
                    .checked_mul(u128::from(*b))
                    .ok_or(WalletError::Overflow)?,
                (None, None) => Currency::ZERO,
            };
            if amount.is_zero() {
                return Err(WalletError::ZeroAmount);
            }
            let mut w = ctx.open_wallet()?;
            let op = GridOp::TopUp {
                reservation: *id,
                amount,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            let escrow = sent.find(|e| match e {
                GridEventKind::ReservationFunded { escrow, .. } => Some(*escrow),
                _ => None,
            });
            let mut rows = vec![
                ("reservation", id.to_string()),
                ("added", amount.to_string()),
            ];
            if let Some(e) = escrow {
                rows.push(("escrow", e.to_string()));
            }
            Ok(Report::new(
                sent.json(json!({"reservation": id, "amount": amount, "escrow": escrow})),
                sent.text(&rows),
            ))
        }
        ReservationCmd::Update {
            id,
            deployment,
            submit: opts,
        } => {
            let chain = ctx.chain().await?;
            let r = chain.node.reservation(*id).await?;
            ensure_live(&r)?;
            let dep = super::deployment::resolve(deployment, &r.reservation.resources)?;
            let (hash, data) = (dep.hash, dep.data);
            let mut w = ctx.open_wallet()?;
            let auth = authorization(&w, &r.reservation.owner, &format!("reservation {id}"))?;
            let op = GridOp::UpdateDeployment {
                reservation: *id,
                deployment_hash: hash,
                deployment_data: data.clone(),
                owner_auth: auth,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            Ok(Report::new(
                sent.json(json!({"reservation": id, "deployment_hash": hash,
                                 "deployment_data": hex::encode(&data)})),
                sent.text(&[
                    ("reservation", id.to_string()),
                    ("deployment", hash.to_string()),
                    ("deployment data", format!("{} bytes", data.len())),
                ]),
            ))
        }
        ReservationCmd::Cancel { id, submit: opts } => {
            let chain = ctx.chain().await?;
            let r = chain.node.reservation(*id).await?;
            ensure_live(&r)?;
            let mut w = ctx.open_wallet()?;
            let auth = authorization(&w, &r.reservation.owner, &format!("reservation {id}"))?;
            let op = GridOp::Cancel {
                reservation: *id,
                owner_auth: auth,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            let refund = sent.find(|e| match e {
                GridEventKind::ReservationEnded { refund, .. } => Some(*refund),
                _ => None,
            });
            let mut rows = vec![("reservation", id.to_string())];
            match refund {
                Some(v) => rows.push((
                    "refund",
                    format!(
                        "{v} to {} (spendable after {} blocks)",
                        describe_condition(&r.reservation.owner),
                        chain.params.maturity_delay
                    ),
                )),
                None => rows.push((
                    "refund",
                    format!(
                        "the escrow left ({} now) goes back to {}",
                        r.reservation.escrow,
                        describe_condition(&r.reservation.owner)
                    ),
                )),
            }
            Ok(Report::new(
                sent.json(json!({"reservation": id, "refund": refund})),
                sent.text(&rows),
            ))
        }
    }
}
