//! `sync`: a fresh node syncing a long chain from one peer over loopback (issue #5 §7),
//! against `import-blocks` of the same chain into a fresh data dir in the same run.
//! Target: sync at least 0.7 of local import speed.
//!
//! The chain: a one-validator network; block 1 funds `TXS` wallets, every later block
//! holds one self-payment per wallet. It is built offline with the real lottery and chain
//! task code (`tfchain_tests::chain::Builder`), written to a block file for the import,
//! and served by an in-process node (no validator key, so the target stays put) to a
//! fresh in-process node that knows it as its only bootnode. Both nodes share this
//! machine's cores, as two nodes on one host would.
//!
//! Shape: `TFCHAIN_BENCH_BLOCKS` (default 10,000) and `TFCHAIN_BENCH_TXS` (default 100).

use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_node::blockfile::BlockWriter;
use tfchain_node::cli::{ChainArgs, ImportArgs};
use tfchain_node::clock::{Clock, SystemClock};
use tfchain_node::config::RpcConfig;
use tfchain_node::net::P2pConfig;
use tfchain_node::node::{self, NodeOptions};
use tfchain_tests::chain::Builder;

pub fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not a count: {e}")),
        Err(_) => Ok(default),
    }
}

/// Options of an in-process benchmark node on loopback.
pub fn node_options(
    genesis: &tfchain_genesis::Genesis,
    data_dir: std::path::PathBuf,
    key: Option<tfchain_types::SecretKey>,
    bootnodes: Vec<libp2p::Multiaddr>,
) -> anyhow::Result<NodeOptions> {
    Ok(NodeOptions {
        genesis: genesis.clone(),
        data_dir,
        validator_key: key,
        rpc: RpcConfig {
            addr: "127.0.0.1:0".parse()?,
            ..RpcConfig::default()
        },
        pool: tfchain_txpool::PoolConfig::default(),
        clock: Arc::new(SystemClock),
        p2p: Some(P2pConfig {
            bootnodes,
            startup_grace: Some(Duration::from_secs(2)),
            ..P2pConfig::loopback()
        }),
        store: Default::default(),
    })
}

pub fn run() -> anyhow::Result<()> {
    let blocks = env_usize("TFCHAIN_BENCH_BLOCKS", 10_000)? as u64;
    let txs = env_usize("TFCHAIN_BENCH_TXS", 100)?;
    anyhow::ensure!(blocks >= 2, "TFCHAIN_BENCH_BLOCKS must be at least 2");
    anyhow::ensure!(
        (1..=255).contains(&txs),
        "TFCHAIN_BENCH_TXS must be 1..=255"
    );
    println!("threads: {}", rayon::current_num_threads());
    let dir = tempfile::Builder::new()
        .prefix("tfchain-bench-sync-")
        .tempdir()?;
    // Blocks come about every two seconds: start far enough back to end in the past.
    let now = SystemClock.now();
    let (genesis, keys) =
        tfchain_genesis::new_network(1, "bench", now - 6 * blocks - 600, &mut rand::rngs::OsRng)?;
    let keys: Vec<_> = keys.iter().map(|k| k.key()).collect();

    // Build the chain into the serving node's data dir.
    let serve_dir = dir.path().join("serve");
    let s = Instant::now();
    let mut b = Builder::open(&serve_dir, &genesis, &keys)?;
    b.fund_wallets(&keys[0], txs)?;
    while b.tip().height < blocks {
        b.produce_with_payments(txs)?;
    }
    let tip = b.finish()?;
    let total_txs = 1 + (blocks - 1) * txs as u64;
    println!(
        "chain: {} blocks, {total_txs} transactions, built in {:.1}s",
        tip.height,
        s.elapsed().as_secs_f64()
    );

    // The same chain through import-blocks.
    let file = dir.path().join("blocks.bin");
    let genesis_path = dir.path().join("genesis.json");
    std::fs::write(&genesis_path, genesis.to_json_pretty())?;
    {
        let store = tfchain_node::store::Store::open(&serve_dir, &genesis)?;
        let mut w = BlockWriter::new(std::io::BufWriter::new(std::fs::File::create(&file)?))?;
        for h in 1..=tip.height {
            let block = store
                .block_at(h)?
                .ok_or_else(|| anyhow::anyhow!("block {h} missing"))?;
            w.write(&block)?;
        }
        w.finish()?;
    }
    let (applied, import_secs) = tfchain_node::commands::blocks::import(ImportArgs {
        chain: ChainArgs {
            network: Some(genesis_path.display().to_string()),
            data_dir: Some(dir.path().join("import")),
            config: None,
            explorer_index: None,
            db_cache: None,
        },
        input: file,
    })
    .map_err(|e| anyhow::anyhow!("import-blocks: {e}"))?;
    anyhow::ensure!(applied == tip.height, "import applied {applied} blocks");
    let import_bps = applied as f64 / import_secs;
    println!("import_secs: {import_secs:.2}");
    println!("import_blocks_per_s: {import_bps:.0}");
    println!("import_tx_per_s: {:.0}", total_txs as f64 / import_secs);

    // A fresh node syncs it from the serving node.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sync_secs = runtime.block_on(async {
        let serving = node::start(node_options(&genesis, serve_dir.clone(), None, vec![])?).await?;
        let addr = serving
            .net
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no network"))?
            .listen_addrs(Duration::from_secs(10))
            .await;
        let start = Instant::now();
        let fresh =
            node::start(node_options(&genesis, dir.path().join("sync"), None, addr)?).await?;
        let deadline = start + Duration::from_secs(3_600);
        let mut last = Instant::now();
        while fresh.chain.store.tip().id != tip.id {
            anyhow::ensure!(Instant::now() < deadline, "sync did not finish in an hour");
            if last.elapsed() >= Duration::from_secs(10) {
                last = Instant::now();
                println!("  syncing: height {}", fresh.chain.store.tip().height);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = start.elapsed().as_secs_f64();
        fresh.stop().await;
        serving.stop().await;
        anyhow::Ok(secs)
    })?;
    let sync_bps = tip.height as f64 / sync_secs;
    println!("sync_secs: {sync_secs:.2} (from starting the fresh node)");
    println!("sync_blocks_per_s: {sync_bps:.0}");
    println!("sync_tx_per_s: {:.0}", total_txs as f64 / sync_secs);
    println!(
        "sync_vs_import_ratio: {:.2} (target >= 0.70)",
        sync_bps / import_bps
    );
    Ok(())
}
