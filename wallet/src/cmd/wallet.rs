//! `tfchainc wallet …`: keys, addresses, balance, payments, outputs and history.

use super::pay::{pay, recipient, wallet_funds, Payment};
use super::Ctx;
use crate::cli::{NetworkOpts, NewWalletOpts, TxExtra, WalletCmd};
use crate::error::{parse_address, parse_amount, Result, WalletError};
use crate::keystore::{KdfParams, Keystore, WalletData, WalletNetwork};
use crate::multisig::{condition, Member};
use crate::output::{describe_condition, lines, Report};
use crate::wallet::Wallet;
use serde_json::json;
use tfchain_api::{Balance, OutputKind};
use tfchain_types::{Currency, Output, Seed};

pub(crate) async fn run(ctx: &Ctx<'_>, cmd: &WalletCmd) -> Result<Report> {
    match cmd {
        WalletCmd::Init { new, yes, network } => init(ctx, new, *yes, network).await,
        WalletCmd::Recover {
            new,
            scan,
            gap,
            no_scan,
            network,
        } => recover(ctx, new, *scan, *gap, *no_scan, network).await,
        WalletCmd::Network { set, adopt, force } => network(ctx, set, *adopt, *force).await,
        WalletCmd::Address { new } => address(ctx, *new),
        WalletCmd::Addresses => addresses(ctx),
        WalletCmd::Balance => balance(ctx).await,
        WalletCmd::Send {
            address,
            amount,
            fee,
            extra,
            multisig_min,
            multisig_addresses,
        } => {
            let to = parse_address(address)?;
            let amount = positive(parse_amount(amount)?)?;
            let ms = match multisig_min {
                Some(min) => {
                    let members = multisig_addresses
                        .iter()
                        .map(|m| Member::parse(m))
                        .collect::<Result<Vec<_>>>()?;
                    Some(condition(*min, &members)?)
                }
                None => None,
            };
            let lock = lock(extra)?;
            let cond = recipient(to, ms, lock)?;
            let data = data(extra)?;
            let chain = ctx.chain().await?;
            let fee = chain.fee(fee)?;
            let mut w = ctx.open_wallet()?;
            let sent = pay(
                &chain,
                &mut w,
                Payment {
                    coin_outputs: vec![Output {
                        value: amount,
                        condition: cond,
                    }],
                    fee,
                    data,
                    ..Default::default()
                },
            )
            .await?;
            let out_id = tfchain_types::Transaction::coin_output_id(&sent.txid, 0);
            let text = lines(&[
                ("sent", amount.to_string()),
                ("to", to.to_string()),
                ("fee", sent.tx.fee.to_string()),
                ("transaction", sent.txid.to_string()),
                ("output", out_id.to_string()),
            ]);
            Ok(Report::new(
                json!({"txid": sent.txid, "amount": amount, "to": to, "fee": sent.tx.fee,
                       "output_id": out_id, "change_address": sent.change,
                       "inputs": sent.tx.coin_inputs.len()}),
                text,
            ))
        }
        WalletCmd::SendStake {
            address,
            count,
            fee,
            extra,
        } => {
            let to = parse_address(address)?;
            if *count == 0 {
                return Err(WalletError::ZeroAmount);
            }
            let cond = recipient(to, None, lock(extra)?)?;
            let chain = ctx.chain().await?;
            let fee = chain.fee(fee)?;
            let mut w = ctx.open_wallet()?;
            let sent = pay(
                &chain,
                &mut w,
                Payment {
                    stake: Some((*count, cond)),
                    fee,
                    data: data(extra)?,
                    ..Default::default()
                },
            )
            .await?;
            Ok(Report::new(
                json!({"txid": sent.txid, "blockstakes": count, "to": to, "fee": sent.tx.fee,
                       "change_address": sent.change, "stake_change_address": sent.stake_change}),
                lines(&[
                    ("sent", format!("{count} blockstakes")),
                    ("to", to.to_string()),
                    ("fee", sent.tx.fee.to_string()),
                    ("transaction", sent.txid.to_string()),
                ]),
            ))
        }
        WalletCmd::Outputs => outputs(ctx).await,
        WalletCmd::History { limit } => super::chain::wallet_history(ctx, *limit).await,
    }
}

fn positive(c: Currency) -> Result<Currency> {
    if c.is_zero() {
        Err(WalletError::ZeroAmount)
    } else {
        Ok(c)
    }
}

pub(crate) fn lock(extra: &TxExtra) -> Result<Option<u64>> {
    extra
        .lock_until
        .as_deref()
        .map(crate::args::parse_lock_until)
        .transpose()
}

pub(crate) fn data(extra: &TxExtra) -> Result<Vec<u8>> {
    crate::args::data_bytes(extra.data.as_deref(), extra.data_hex.as_deref())
}

fn kdf(new: &NewWalletOpts) -> KdfParams {
    if new.insecure_fast_kdf {
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::DEFAULT
    }
}

fn refuse_existing(ctx: &Ctx<'_>, new: &NewWalletOpts) -> Result<()> {
    let path = crate::keystore::keystore_path(&ctx.cli.wallet_dir());
    if path.exists() && !new.force {
        return Err(WalletError::WalletExists { path });
    }
    Ok(())
}

fn init_network_rows(net: &WalletNetwork, how: &str) -> Vec<(&'static str, String)> {
    vec![
        ("network", format!("{} ({how})", net.name)),
        ("genesis", net.genesis_id.to_string()),
    ]
}

async fn init(
    ctx: &Ctx<'_>,
    new: &NewWalletOpts,
    yes: bool,
    net_opts: &NetworkOpts,
) -> Result<Report> {
    refuse_existing(ctx, new)?;
    let (net, how) = choose_network(ctx, net_opts, true).await?;
    let pass = ctx.passphrase().get_new()?;
    let mut entropy = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, entropy.as_mut());
    let seed = Seed(*entropy);
    let words = zeroize::Zeroizing::new(seed.to_mnemonic());
    if !yes {
        crate::prompt::confirm_mnemonic(&words)?;
    }
    let ks = Keystore::create(
        &ctx.cli.wallet_dir(),
        WalletData::new(&seed).with_network(net.clone()),
        pass.as_bytes(),
        kdf(new),
        new.force,
    )?;
    let w = Wallet::new(ks)?;
    let k = w.receive_key();
    let mut j = json!({"wallet": w.keystore.path(), "address": k.address,
                       "public_key": k.public_key(),
                       "network": {"name": net.name, "genesis_id": net.genesis_id, "source": how}});
    let mut rows = vec![
        ("wallet", w.keystore.path().display().to_string()),
        ("address", k.address.to_string()),
    ];
    rows.extend(init_network_rows(&net, &how));
    let mut text = lines(&rows);
    if yes {
        // Not confirmed on a terminal: this output is the one time the words are shown.
        j["mnemonic"] = json!(words.as_str());
        text.push_str(&format!(
            "mnemonic:  {}\n\nWrite the mnemonic down and keep it offline: it is the only way to restore the wallet.\n",
            words.as_str()
        ));
    }
    Ok(Report::new(j, text))
}

async fn recover(
    ctx: &Ctx<'_>,
    new: &NewWalletOpts,
    scan: u64,
    gap: u64,
    no_scan: bool,
    net_opts: &NetworkOpts,
) -> Result<Report> {
    refuse_existing(ctx, new)?;
    let (net, how) = choose_network(ctx, net_opts, !no_scan).await?;
    let node = if no_scan { None } else { Some(ctx.node()?) };
    let seed = crate::prompt::read_mnemonic()?;
    let pass = ctx.passphrase().get_new()?;
    let mut data = WalletData::new(&seed).with_network(net.clone());
    let mut used = Vec::new();
    if let Some(node) = &node {
        used = crate::scan::scan_used(node, &seed, scan, gap, !ctx.cli.json).await?;
        if let Some(&last) = used.last() {
            data.indices = used.iter().copied().collect();
            data.next_index = last + 1;
            data.receive_index = data.take_index();
        }
    }
    let ks = Keystore::create(
        &ctx.cli.wallet_dir(),
        data,
        pass.as_bytes(),
        kdf(new),
        new.force,
    )?;
    let w = Wallet::new(ks)?;
    let k = w.receive_key();
    let mut rows = vec![
        ("wallet", w.keystore.path().display().to_string()),
        ("used addresses", used.len().to_string()),
        ("receive address", k.address.to_string()),
    ];
    rows.extend(init_network_rows(&net, &how));
    Ok(Report::new(
        json!({"wallet": w.keystore.path(), "address": k.address, "public_key": k.public_key(),
               "used_indices": used, "scanned": !no_scan,
               "network": {"name": net.name, "genesis_id": net.genesis_id, "source": how}}),
        lines(&rows),
    ))
}

/// The built-in networks (`tfchain-genesis`'s `dev` and `testnet`) by name and genesis ID,
/// so a wallet can be made for them without asking a node. A test checks them against the
/// genesis crate.
pub(crate) const BUILTIN_NETWORKS: [(&str, &str); 2] = [
    (
        "dev",
        "955b5d57bc456c3c471f859d3a1ce3f7f2dc2085449f5178f2991154585d4345",
    ),
    (
        "testnet",
        "cb7576aeddb433f7499cbd9d337de500f6facc60c890d45e557cd8f550944323",
    ),
];

fn builtin_network(name: &str) -> Option<WalletNetwork> {
    BUILTIN_NETWORKS
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(n, id)| {
            Some(WalletNetwork {
                name: (*n).to_string(),
                genesis_id: id.parse().ok()?,
            })
        })
}

/// The network a new wallet is for, and how it was chosen: `--genesis-id` (with
/// `--network`) as given; `--network` alone a built-in network, or the node's when it runs
/// one of that name; neither the node's network (`ask_node`), or `dev` when no node answers.
async fn choose_network(
    ctx: &Ctx<'_>,
    opts: &NetworkOpts,
    ask_node: bool,
) -> Result<(WalletNetwork, String)> {
    if let Some(hex) = &opts.genesis_id {
        let genesis_id = hex
            .trim()
            .parse()
            .map_err(|_| WalletError::bad_arg("--genesis-id", hex, "expected 64 hex characters"))?;
        let name = opts.network.clone().unwrap_or_else(|| "custom".into());
        return Ok((WalletNetwork { name, genesis_id }, "as given".into()));
    }
    if let Some(name) = &opts.network {
        if let Some(net) = builtin_network(name) {
            return Ok((net, "built in".into()));
        }
        let node = ctx.node()?;
        let info = node.info().await?;
        if info.network != *name {
            return Err(WalletError::bad_arg(
                "--network",
                name,
                format!(
                    "not a built-in network ({}) nor the one the node at {} runs ({:?}): pass its --genesis-id too",
                    BUILTIN_NETWORKS.map(|(n, _)| n).join(", "),
                    node.url(),
                    info.network
                ),
            ));
        }
        return Ok((
            WalletNetwork {
                name: info.network,
                genesis_id: info.genesis_id,
            },
            format!("from the node at {}", node.url()),
        ));
    }
    let fallback = |why: String| -> Result<(WalletNetwork, String)> {
        let net = builtin_network("dev").ok_or_else(|| WalletError::NodeProtocol {
            url: String::new(),
            reason: "the built-in dev network is missing".into(),
        })?;
        Ok((net, why))
    };
    if !ask_node {
        return fallback("the default: pass --network or --genesis-id for another".into());
    }
    let node = ctx.node()?;
    match node.info().await {
        Ok(info) => Ok((
            WalletNetwork {
                name: info.network,
                genesis_id: info.genesis_id,
            },
            format!("from the node at {}", node.url()),
        )),
        Err(WalletError::NodeUnreachable { url, .. }) => fallback(format!(
            "the default: no node answered at {url}; pass --network or --genesis-id for another"
        )),
        Err(e) => Err(e),
    }
}

/// `wallet network`: shows the wallet's network and the node's; sets it when asked.
async fn network(ctx: &Ctx<'_>, set: &NetworkOpts, adopt: bool, force: bool) -> Result<Report> {
    let mut w = ctx.open_wallet()?;
    let node = ctx.node()?;
    let node_info = match node.info().await {
        Ok(i) => Some(i),
        Err(WalletError::NodeUnreachable { .. }) if !adopt => None,
        Err(e) => return Err(e),
    };
    let wanted = if adopt {
        let i = node_info
            .as_ref()
            .ok_or_else(|| WalletError::NodeUnreachable {
                url: node.url().to_string(),
                reason: "no answer".into(),
            })?;
        Some(WalletNetwork {
            name: i.network.clone(),
            genesis_id: i.genesis_id,
        })
    } else if set.network.is_some() || set.genesis_id.is_some() {
        Some(choose_network(ctx, set, true).await?.0)
    } else {
        None
    };
    let mut changed = false;
    if let Some(net) = wanted {
        match &w.keystore.data.network {
            Some(old) if *old == net => {}
            Some(old) if !force => {
                return Err(WalletError::bad_arg(
                    "network",
                    net.name.clone(),
                    format!(
                        "the wallet is for network {:?} (genesis {}): pass --force to replace it",
                        old.name, old.genesis_id
                    ),
                ))
            }
            _ => {
                w.keystore.data.network = Some(net);
                w.keystore.save()?;
                changed = true;
            }
        }
    }
    let ours = w.keystore.data.network.clone();
    let matches = match (&ours, &node_info) {
        (Some(o), Some(i)) => Some(o.genesis_id == i.genesis_id),
        _ => None,
    };
    let mut rows = match &ours {
        Some(o) => vec![
            ("network", o.name.clone()),
            ("genesis", o.genesis_id.to_string()),
        ],
        None => vec![(
            "network",
            "unset (made by an older tfchainc: set it with --network/--genesis-id or --adopt)"
                .to_string(),
        )],
    };
    match &node_info {
        Some(i) => rows.push((
            "node",
            format!(
                "{} runs {:?} (genesis {}){}",
                node.url(),
                i.network,
                i.genesis_id,
                match matches {
                    Some(true) => ": the same network",
                    Some(false) => ": ANOTHER network, the wallet will not sign with it",
                    None => "",
                }
            ),
        )),
        None => rows.push(("node", format!("{} did not answer", node.url()))),
    }
    if changed {
        rows.push(("changed", "the wallet's network was set".into()));
    }
    Ok(Report::new(
        json!({
            "network": ours.as_ref().map(|o| o.name.clone()),
            "genesis_id": ours.as_ref().map(|o| o.genesis_id),
            "node": node_info.as_ref().map(|i| json!({"url": node.url(), "network": i.network, "genesis_id": i.genesis_id})),
            "matches_node": matches,
            "changed": changed,
        }),
        lines(&rows),
    ))
}

fn address(ctx: &Ctx<'_>, new: bool) -> Result<Report> {
    let mut w = ctx.open_wallet()?;
    let k = if new {
        w.new_receive_key()?
    } else {
        w.receive_key()
    };
    Ok(Report::new(
        json!({"index": k.index, "address": k.address, "public_key": k.public_key()}),
        format!("{}\npublic key: {}\n", k.address, k.public_key()),
    ))
}

fn addresses(ctx: &Ctx<'_>) -> Result<Report> {
    let w = ctx.open_wallet()?;
    let keys = w.keys();
    let list: Vec<_> = keys
        .iter()
        .map(|k| json!({"index": k.index, "address": k.address, "public_key": k.public_key()}))
        .collect();
    let text: String = keys
        .iter()
        .map(|k| format!("{:>5}  {}\n", k.index, k.address))
        .collect();
    Ok(Report::new(json!({ "addresses": list }), text))
}

async fn balance(ctx: &Ctx<'_>) -> Result<Report> {
    let node = ctx.node()?;
    let w = ctx.open_wallet()?;
    let addrs = w.addresses();
    let balances: Vec<Balance> = node.balances(&addrs).await?;
    let sum = |f: fn(&Balance) -> Currency| -> Result<Currency> {
        Currency::checked_sum(balances.iter().map(f)).ok_or(WalletError::Overflow)
    };
    let confirmed = sum(|b| b.confirmed)?;
    let immature = sum(|b| b.immature)?;
    let locked = sum(|b| b.locked)?;
    let unconfirmed_in = sum(|b| b.unconfirmed_in)?;
    let unconfirmed_out = sum(|b| b.unconfirmed_out)?;
    let blockstakes: u64 = balances.iter().map(|b| b.blockstakes).sum();
    let height = balances.iter().map(|b| b.height).max().unwrap_or(0);
    let mut immature_outputs: Vec<_> = balances
        .iter()
        .flat_map(|b| b.immature_outputs.iter().cloned())
        .collect();
    immature_outputs.sort_by_key(|o| o.mature_at);
    let mut rows = vec![
        ("height", height.to_string()),
        ("confirmed", confirmed.to_string()),
    ];
    if !immature.is_zero() {
        let until = immature_outputs.last().map(|o| o.mature_at).unwrap_or(0);
        rows.push((
            "immature",
            format!("{immature} (all mature at height {until})"),
        ));
    }
    if !locked.is_zero() {
        rows.push(("time-locked", locked.to_string()));
    }
    if !unconfirmed_in.is_zero() || !unconfirmed_out.is_zero() {
        rows.push((
            "unconfirmed",
            format!("+{unconfirmed_in} / -{unconfirmed_out}"),
        ));
    }
    if blockstakes > 0 {
        rows.push(("blockstakes", blockstakes.to_string()));
    }
    let mut text = lines(&rows);
    for o in &immature_outputs {
        text.push_str(&format!(
            "  {} matures at height {}\n",
            o.value, o.mature_at
        ));
    }
    let per_address: Vec<_> = addrs
        .iter()
        .zip(&balances)
        .filter(|(_, b)| {
            !(b.confirmed.is_zero()
                && b.immature.is_zero()
                && b.locked.is_zero()
                && b.unconfirmed_in.is_zero()
                && b.unconfirmed_out.is_zero()
                && b.blockstakes == 0)
        })
        .map(|(a, b)| json!({"address": a, "balance": b}))
        .collect();
    Ok(Report::new(
        json!({"height": height, "confirmed": confirmed, "immature": immature,
               "immature_outputs": immature_outputs, "locked": locked,
               "unconfirmed_in": unconfirmed_in, "unconfirmed_out": unconfirmed_out,
               "blockstakes": blockstakes, "addresses": per_address}),
        text,
    ))
}

async fn outputs(ctx: &Ctx<'_>) -> Result<Report> {
    let chain = ctx.chain().await?;
    let w = ctx.open_wallet()?;
    let funds = wallet_funds(&chain, &w).await?;
    let spendable: std::collections::BTreeSet<_> = funds
        .coins
        .iter()
        .chain(&funds.stakes)
        .map(|s| s.id)
        .collect();
    let all = chain.node.outputs_of(&w.addresses()).await?;
    let mut list = Vec::new();
    let mut text = String::new();
    for o in all.into_iter().flatten() {
        let status = if o.pool_spender.is_some() {
            "spending"
        } else if spendable.contains(&o.id) {
            "spendable"
        } else if o.mature_at > chain.at().height {
            "immature"
        } else {
            "locked"
        };
        let value = match o.kind {
            OutputKind::Coin => Currency(o.value).to_string(),
            OutputKind::Blockstake => format!("{} BS", o.value),
        };
        text.push_str(&format!(
            "{}  {:>22}  {:<9}  {}\n",
            o.id,
            value,
            status,
            describe_condition(&o.condition)
        ));
        list.push(json!({"output": o, "status": status}));
    }
    if list.is_empty() {
        text.push_str("no unspent outputs\n");
    }
    Ok(Report::new(json!({ "outputs": list }), text))
}
