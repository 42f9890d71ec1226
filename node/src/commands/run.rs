//! `tfchaind run` and `tfchaind --dev`: run a node until SIGINT or SIGTERM.

use super::{resolve_network, CommandError};
use crate::cli::RunArgs;
use crate::clock::{Clock, SystemClock};
use crate::keyfile;
use crate::node::{self, NodeOptions};
use std::sync::Arc;
use tfchain_types::{Address, Currency};
use tracing::info;

pub async fn run(args: RunArgs) -> Result<(), CommandError> {
    let resolved = args.resolve()?;
    let genesis = resolve_network(&resolved.network)?;

    // --dev: the dev validator key, and a throwaway data dir unless one is given.
    let mut temp = None;
    let data_dir = match (&resolved.data_dir, resolved.dev) {
        (Some(d), _) => d.clone(),
        (None, true) => {
            let t = tempfile::Builder::new()
                .prefix("tfchain-dev-")
                .tempdir()
                .map_err(|source| CommandError::Io {
                    path: std::env::temp_dir(),
                    source,
                })?;
            let p = t.path().to_path_buf();
            temp = Some(t);
            p
        }
        (None, false) => return Err(CommandError::NoDataDir),
    };
    let validator_key = match (&resolved.validator_key, resolved.dev) {
        (Some(path), _) => Some(keyfile::read(path)?),
        (None, true) if resolved.network == "dev" => {
            Some(tfchain_genesis::dev_seed().derive_key(0))
        }
        _ => None,
    };

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut running = node::start(NodeOptions {
        genesis: genesis.clone(),
        data_dir: data_dir.clone(),
        validator_key: validator_key.clone(),
        rpc: resolved.rpc.clone(),
        pool: resolved.pool.to_pool_config(),
        clock,
        p2p: resolved.p2p.clone(),
        store: resolved.store,
    })
    .await?;

    if resolved.dev {
        print_dev_banner(&genesis, &data_dir, temp.is_some(), running.rpc_addr);
    } else {
        println!("rpc: http://{}", running.rpc_addr);
    }
    if let Some(net) = &running.net {
        for addr in net.listen_addrs(std::time::Duration::from_secs(5)).await {
            println!("p2p: {addr}");
        }
    }
    if let Some(k) = &validator_key {
        info!(address = %Address::from_public_key(&k.public_key()), "producing blocks as validator");
    }

    tokio::select! {
        _ = shutdown_signal() => info!("signal received: shutting down"),
        _ = running.stop_requested() => info!("stop requested: shutting down"),
    }
    let fatal = running.fatal_error();
    running.stop().await;
    if let Some(t) = temp {
        info!(dir = %t.path().display(), "removing the dev data dir");
    }
    match fatal {
        Some(why) => Err(CommandError::Fatal(why)),
        None => Ok(()),
    }
}

fn print_dev_banner(
    genesis: &tfchain_genesis::Genesis,
    data_dir: &std::path::Path,
    temporary: bool,
    rpc: std::net::SocketAddr,
) {
    let seed = tfchain_genesis::dev_seed();
    println!("tfchain dev network (genesis {})", genesis.genesis_id());
    println!("rpc: http://{rpc}");
    println!(
        "data dir: {}{}",
        data_dir.display(),
        if temporary { " (removed on exit)" } else { "" }
    );
    println!("dev mnemonic (well known: never use it for real funds):");
    println!("  {}", tfchain_genesis::DEV_MNEMONIC);
    println!("funded addresses:");
    for i in 0..tfchain_genesis::builtin::DEV_FUNDED_KEYS {
        let a = Address::from_public_key(&seed.derive_key(i).public_key());
        let extra = if i == 0 {
            format!(
                ", {} blockstakes (the validator)",
                tfchain_genesis::builtin::DEV_VALIDATOR_STAKE
            )
        } else {
            String::new()
        };
        let coins: Currency = tfchain_genesis::builtin::DEV_COINS_EACH;
        println!("  key {i}: {a}  {coins}{extra}");
    }
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
