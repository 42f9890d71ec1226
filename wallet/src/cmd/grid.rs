//! `tfchainc farm …` and `node …` (PROTOCOL.md §7.1, §7.3), and what every grid command
//! shares: sending ops from the wallet (fees and change as `wallet send`) and, with
//! `--wait`, reading back the events the transaction caused.

use super::pay::{pay, Payment};
use super::{ChainCtx, Ctx};
use crate::cli::{FarmCmd, NodeCmd, PriceArgs, ResourceArgs, SubmitOpts};
use crate::error::{parse_address, Result, WalletError};
use crate::grid::{
    authorization, describe_event, describe_price, describe_resources, parse_price_field, refine,
    state_name,
};
use crate::output::{describe_condition, lines, Report};
use crate::rpc::Node;
use crate::wallet::Wallet;
use serde_json::{json, Value};
use tfchain_api::{EventInfo, NodeInfo, TxStatus};
use tfchain_types::{
    AddressKind, Availability, Condition, Currency, FarmName, GridEventKind, GridOp, Height, Price,
    Resources, SecretKey, Signature, TxId,
};
use zeroize::Zeroizing;

/// How long `--wait` waits for the block.
const WAIT_SECS: u64 = 120;

/// A sent grid transaction and, with `--wait`, where it landed and what it did.
pub(crate) struct GridSent {
    pub txid: TxId,
    pub fee: Currency,
    pub confirmed: Option<(Height, Vec<EventInfo>)>,
}

impl GridSent {
    /// The first event of the transaction `pick` accepts.
    pub fn find<T>(&self, pick: impl Fn(&GridEventKind) -> Option<T>) -> Option<T> {
        self.confirmed
            .as_ref()
            .and_then(|(_, evs)| evs.iter().find_map(|e| pick(&e.event)))
    }

    /// `txid`, `fee` and, when waited for, `height` and `events`, plus `extra`.
    pub fn json(&self, extra: Value) -> Value {
        let mut j = json!({"txid": self.txid, "fee": self.fee});
        if let Some((h, evs)) = &self.confirmed {
            j["height"] = json!(h);
            j["events"] = json!(evs.iter().map(|e| &e.event).collect::<Vec<_>>());
        }
        if let (Value::Object(m), Value::Object(x)) = (&mut j, extra) {
            m.extend(x);
        }
        j
    }

    /// The transaction lines, then the events when waited for.
    pub fn text(&self, rows: &[(&str, String)]) -> String {
        let mut all: Vec<(&str, String)> = rows.to_vec();
        all.push(("fee", self.fee.to_string()));
        all.push(("transaction", self.txid.to_string()));
        match &self.confirmed {
            Some((h, _)) => all.push(("confirmed", format!("in block {h}"))),
            None => all.push((
                "status",
                "submitted (pass --wait to wait for a block)".into(),
            )),
        }
        let mut text = lines(&all);
        for e in self.confirmed.iter().flat_map(|(_, evs)| evs) {
            text.push_str(&format!("  {}\n", describe_event(&e.event)));
        }
        text
    }
}

/// Signs and sends `ops` from the wallet, paying their deposits and the fee; with `--wait`
/// waits for the block and collects the transaction's events.
pub(crate) async fn submit(
    chain: &ChainCtx,
    w: &mut Wallet,
    ops: Vec<GridOp>,
    extra_keys: Vec<SecretKey>,
    opts: &SubmitOpts,
) -> Result<GridSent> {
    let fee = chain.fee(&opts.fee)?;
    let sent = pay(
        chain,
        w,
        Payment {
            fee,
            grid_ops: ops,
            extra_keys,
            ..Default::default()
        },
    )
    .await
    .map_err(refine)?;
    let confirmed = if opts.wait {
        Some(events_of(&chain.node, sent.txid).await?)
    } else {
        None
    };
    Ok(GridSent {
        txid: sent.txid,
        fee: sent.tx.fee,
        confirmed,
    })
}

/// Waits until `txid` is in a block. The pool checks grid ops against the tip alone, so
/// two pooled transactions can conflict (two reserves that together exceed a node): the
/// block takes one and the pool drops the other, which is then [`WalletError::TxDropped`].
async fn wait_in_block(node: &Node, txid: TxId) -> Result<Height> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(WAIT_SECS);
    // Unknown twice in a row (a submitted transaction is in the pool at once): dropped.
    let mut missing = 0;
    loop {
        match node.tx(txid).await? {
            Some(info) => {
                missing = 0;
                if let TxStatus::Confirmed { height, .. } = info.status {
                    return Ok(height);
                }
            }
            None => {
                missing += 1;
                if missing >= 2 {
                    return Err(WalletError::TxDropped {
                        txid: txid.to_string(),
                    });
                }
            }
        }
        if std::time::Instant::now() >= deadline {
            return Err(WalletError::Timeout {
                txid: txid.to_string(),
                secs: WAIT_SECS,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Waits for `txid`'s block, then reads that block's grid events caused by `txid`.
async fn events_of(node: &Node, txid: TxId) -> Result<(Height, Vec<EventInfo>)> {
    let height = wait_in_block(node, txid).await?;
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let page = node
            .grid_events(None, Some(height), Some(1000), after)
            .await?;
        let past = page.events.iter().any(|e| e.cursor.height > height);
        events.extend(
            page.events
                .into_iter()
                .filter(|e| e.txid == Some(txid) && !e.reverted && e.cursor.height == height),
        );
        match page.next {
            Some(c) if !past => after = Some(c),
            _ => break,
        }
    }
    Ok((height, events))
}

/// The resources given, missing fields 0.
pub(crate) fn resources(a: &ResourceArgs) -> Resources {
    merge_resources(a, &Resources::ZERO)
}

/// The resources given, missing fields from `base`.
fn merge_resources(a: &ResourceArgs, base: &Resources) -> Resources {
    Resources {
        cru: a.cru.unwrap_or(base.cru),
        mru: a.mru.unwrap_or(base.mru),
        sru: a.sru.unwrap_or(base.sru),
        hru: a.hru.unwrap_or(base.hru),
        ipv4: a.ipv4.unwrap_or(base.ipv4),
    }
}

fn any_resource(a: &ResourceArgs) -> bool {
    a.cru.is_some() || a.mru.is_some() || a.sru.is_some() || a.hru.is_some() || a.ipv4.is_some()
}

/// The price given, missing fields from `base`.
fn merge_price(a: &PriceArgs, base: &Price) -> Result<Price> {
    let f = |v: &Option<String>, b: Currency| v.as_deref().map_or(Ok(b), parse_price_field);
    Ok(Price {
        cru: f(&a.price_cru, base.cru)?,
        mru: f(&a.price_mru, base.mru)?,
        sru: f(&a.price_sru, base.sru)?,
        hru: f(&a.price_hru, base.hru)?,
        ipv4: f(&a.price_ipv4, base.ipv4)?,
    })
}

fn any_price(a: &PriceArgs) -> bool {
    [
        &a.price_cru,
        &a.price_mru,
        &a.price_sru,
        &a.price_hru,
        &a.price_ipv4,
    ]
    .iter()
    .any(|p| p.is_some())
}

pub(crate) async fn farm(ctx: &Ctx<'_>, cmd: &FarmCmd) -> Result<Report> {
    match cmd {
        FarmCmd::Register {
            name,
            payout,
            submit: opts,
        } => {
            let name = FarmName(name.clone());
            if !name.is_valid() {
                return Err(WalletError::bad_arg(
                    "--name",
                    name.0,
                    "a farm name is 1 to 64 of a-z, 0-9, '_' and '-'",
                ));
            }
            let payout = payout.as_deref().map(parse_address).transpose()?;
            if let Some(p) = payout.filter(|p| p.kind != AddressKind::SingleKey) {
                return Err(WalletError::bad_arg(
                    "--payout",
                    p.to_string(),
                    "payouts go to a single-key address (01…)",
                ));
            }
            let chain = ctx.chain().await?;
            let mut w = ctx.open_wallet()?;
            let owner = w.receive_key().address;
            let payout = payout.unwrap_or(owner);
            let op = GridOp::RegisterFarm {
                name: name.clone(),
                owner: Condition::Address(owner),
                payout,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            let id = sent.find(|e| match e {
                GridEventKind::FarmRegistered { farm } => Some(*farm),
                _ => None,
            });
            let mut rows = vec![
                ("farm", name.to_string()),
                ("owner", owner.to_string()),
                ("payout", payout.to_string()),
            ];
            if let Some(id) = id {
                rows.insert(0, ("id", id.to_string()));
            }
            Ok(Report::new(
                sent.json(json!({"farm": id, "name": name, "owner": owner, "payout": payout})),
                sent.text(&rows),
            ))
        }
        FarmCmd::Show { id } => {
            let node = ctx.node()?;
            let f = node.farm(*id).await?;
            let nodes = node.grid_nodes(Some(*id), None, None, Some(1000)).await?;
            let ids: Vec<u32> = nodes.iter().map(|n| n.node.id).collect();
            let text = lines(&[
                ("farm", f.id.to_string()),
                ("name", f.name.to_string()),
                ("owner", describe_condition(&f.owner)),
                ("payout", f.payout.to_string()),
                (
                    "nodes",
                    ids.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ]);
            let mut j = json!(f);
            j["nodes"] = json!(ids);
            Ok(Report::new(j, text))
        }
        FarmCmd::List { after, limit } => {
            let farms = ctx.node()?.farms(*after, Some(*limit)).await?;
            let text: String = farms
                .iter()
                .map(|f| format!("{:>5}  {:<24} payout {}\n", f.id, f.name, f.payout))
                .collect();
            Ok(Report::new(
                json!({ "farms": farms }),
                if text.is_empty() {
                    "no farms".into()
                } else {
                    text
                },
            ))
        }
    }
}

/// A node key's secret from `--node-key-index` or `--node-secret-file`.
fn node_secret(
    w: &Wallet,
    index: Option<u64>,
    file: Option<&std::path::Path>,
) -> Result<SecretKey> {
    if let Some(i) = index {
        return Ok(w.derive(i).secret);
    }
    let Some(path) = file else {
        return Err(WalletError::bad_arg(
            "node key",
            "",
            "pass --node-key-index N or --node-secret-file FILE",
        ));
    };
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| WalletError::io("read the node secret file", path, e))?,
    );
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), bytes.as_mut()).map_err(|_| {
        WalletError::bad_arg(
            "--node-secret-file",
            path.display().to_string(),
            "expected the 32-byte ed25519 secret as 64 hex characters",
        )
    })?;
    Ok(SecretKey::from_bytes(&bytes))
}

fn node_text(n: &NodeInfo) -> String {
    let node = &n.node;
    lines(&[
        ("node", node.id.to_string()),
        ("farm", node.farm.to_string()),
        ("state", state_name(node.state).into()),
        ("node key", node.node_key.to_string()),
        ("capacity", describe_resources(&node.capacity)),
        ("used", describe_resources(&node.used)),
        ("free", describe_resources(&n.free)),
        ("price (TFT/block)", describe_price(&node.price)),
        ("unclaimed earnings", node.earnings.to_string()),
    ])
}

/// The farm-owner authorisation for an op on node `id`, and the node.
async fn farm_auth(
    chain: &ChainCtx,
    w: &Wallet,
    id: u32,
) -> Result<(NodeInfo, tfchain_types::Fulfillment)> {
    let n = chain.node.grid_node(id).await?;
    let farm = chain.node.farm(n.node.farm).await?;
    let auth = authorization(w, &farm.owner, &format!("farm {}", farm.id))?;
    Ok((n, auth))
}

pub(crate) async fn node(ctx: &Ctx<'_>, cmd: &NodeCmd) -> Result<Report> {
    match cmd {
        NodeCmd::Register {
            farm,
            node_key,
            node_key_index,
            node_secret_file,
            capacity,
            price,
            submit: opts,
        } => {
            let capacity = resources(capacity);
            if capacity.is_zero() {
                return Err(WalletError::bad_arg(
                    "capacity",
                    "0",
                    "give the node's capacity with --cru, --mru, --sru, --hru, --ipv4",
                ));
            }
            let price = merge_price(price, &Price::default())?;
            let given_key = node_key
                .as_deref()
                .map(crate::multisig::parse_public_key)
                .transpose()?;
            let chain = ctx.chain().await?;
            let mut w = ctx.open_wallet()?;
            let secret = node_secret(&w, *node_key_index, node_secret_file.as_deref())?;
            let key = secret.public_key();
            if let Some(g) = given_key.filter(|g| *g != key) {
                return Err(WalletError::bad_arg(
                    "--node-key",
                    g.to_string(),
                    format!("the node secret given is the key of {key}"),
                ));
            }
            let f = chain.node.farm(*farm).await?;
            let auth = authorization(&w, &f.owner, &format!("farm {farm}"))?;
            let op = GridOp::RegisterNode {
                farm: *farm,
                node_key: key,
                capacity,
                price,
                farm_auth: auth,
                node_sig: Signature::ZERO,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![secret], opts).await?;
            let id = sent.find(|e| match e {
                GridEventKind::NodeRegistered { node, .. } => Some(*node),
                _ => None,
            });
            let mut rows = vec![
                ("farm", farm.to_string()),
                ("node key", key.to_string()),
                ("capacity", describe_resources(&capacity)),
                ("price (TFT/block)", describe_price(&price)),
            ];
            if let Some(id) = id {
                rows.insert(0, ("node", id.to_string()));
            }
            Ok(Report::new(
                sent.json(json!({"node": id, "farm": farm, "node_key": key,
                                 "capacity": capacity, "price": price})),
                sent.text(&rows),
            ))
        }
        NodeCmd::Update {
            id,
            capacity,
            price,
            up,
            down,
            submit: opts,
        } => {
            let state = match (up, down) {
                (true, _) => Some(Availability::Up),
                (_, true) => Some(Availability::Down),
                _ => None,
            };
            if !any_resource(capacity) && !any_price(price) && state.is_none() {
                return Err(WalletError::bad_arg(
                    "update",
                    id.to_string(),
                    "nothing to change: pass --cru etc., --price-cru etc., --up or --down",
                ));
            }
            let chain = ctx.chain().await?;
            let mut w = ctx.open_wallet()?;
            let (n, auth) = farm_auth(&chain, &w, *id).await?;
            let new_capacity =
                any_resource(capacity).then(|| merge_resources(capacity, &n.node.capacity));
            if let Some(c) = new_capacity.filter(|c| !n.node.used.fits_within(c)) {
                return Err(WalletError::bad_arg(
                    "capacity",
                    describe_resources(&c),
                    format!(
                        "node {id}'s live reservations use {}: the capacity cannot go below that",
                        describe_resources(&n.node.used)
                    ),
                ));
            }
            let new_price = if any_price(price) {
                Some(merge_price(price, &n.node.price)?)
            } else {
                None
            };
            let op = GridOp::UpdateNode {
                node: *id,
                capacity: new_capacity,
                price: new_price,
                state,
                farm_auth: auth,
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            let mut rows = vec![("node", id.to_string())];
            if let Some(c) = &new_capacity {
                rows.push(("capacity", describe_resources(c)));
            }
            if let Some(p) = &new_price {
                rows.push(("price (TFT/block)", describe_price(p)));
            }
            if let Some(s) = state {
                rows.push((
                    "state",
                    state_name(tfchain_types::NodeState::from(s)).into(),
                ));
            }
            Ok(Report::new(
                sent.json(
                    json!({"node": id, "capacity": new_capacity, "price": new_price,
                                 "state": state}),
                ),
                sent.text(&rows),
            ))
        }
        NodeCmd::Show { id } => {
            let n = ctx.node()?.grid_node(*id).await?;
            Ok(Report::of(&n, node_text(&n)))
        }
        NodeCmd::List {
            farm,
            free,
            after,
            limit,
        } => {
            let min_free = any_resource(free).then(|| resources(free));
            let nodes = ctx
                .node()?
                .grid_nodes(*farm, min_free, *after, Some(*limit))
                .await?;
            let text: String = nodes
                .iter()
                .map(|n| {
                    format!(
                        "{:>5}  farm {:<5} {:<8} free: {}\n",
                        n.node.id,
                        n.node.farm,
                        state_name(n.node.state),
                        describe_resources(&n.free)
                    )
                })
                .collect();
            Ok(Report::new(
                json!({ "nodes": nodes }),
                if text.is_empty() {
                    "no nodes".into()
                } else {
                    text
                },
            ))
        }
        NodeCmd::Claim { id, submit: opts } | NodeCmd::Remove { id, submit: opts } => {
            let claim = matches!(cmd, NodeCmd::Claim { .. });
            let chain = ctx.chain().await?;
            let mut w = ctx.open_wallet()?;
            let (n, auth) = farm_auth(&chain, &w, *id).await?;
            let op = if claim {
                GridOp::Claim {
                    node: *id,
                    farm_auth: auth,
                }
            } else {
                GridOp::RemoveNode {
                    node: *id,
                    farm_auth: auth,
                }
            };
            let sent = submit(&chain, &mut w, vec![op], vec![], opts).await?;
            let claimed = sent.find(|e| match e {
                GridEventKind::EarningsClaimed {
                    farmer, network, ..
                } => Some((*farmer, *network)),
                _ => None,
            });
            let mut rows = vec![("node", id.to_string())];
            if claim {
                rows.push((
                    "earnings",
                    format!(
                        "{} settled so far (more accrues until the block)",
                        n.node.earnings
                    ),
                ));
            }
            Ok(Report::new(
                sent.json(json!({
                    "node": id,
                    "farmer": claimed.map(|c| c.0),
                    "network": claimed.map(|c| c.1),
                })),
                sent.text(&rows),
            ))
        }
    }
}
