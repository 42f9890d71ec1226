//! `localnet`: a 4-validator network of in-process nodes on loopback under a load
//! generator (issue #5 §7): confirmed transactions per second and confirmation latency
//! (p50, p99), from submission to the node until the block holding the transaction joins
//! node 0's chain. Target: p50 at most 1.5 block times while blocks are full.
//!
//! Before the run, node 0's data dir gets a few funding blocks (built offline) that split
//! validator 0's coins into one output per transaction to send; the other nodes sync them.
//! The load transactions (one input, one output, minimum fee) are signed before the clock
//! starts and submitted in batches every 50 ms to the nodes in turn, through the same
//! chain-task path as `tx_submit`; the nodes gossip them and include them in blocks.
//!
//! `TFCHAIN_BENCH_RATE` (transactions per second, default 1,000),
//! `TFCHAIN_BENCH_SECS` (load duration, default 60) and `TFCHAIN_BENCH_EXPLORER_INDEX`
//! (`true` by default; `false` runs the validators without explorer indexes, as a
//! validator that serves no wallet may).

use super::sync::{env_usize, node_options};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_node::chain::ChainEvent;
use tfchain_node::clock::{Clock, SystemClock};
use tfchain_node::node::{self, RunningNode};
use tfchain_tests::chain::{split_tx, Builder};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Address, Seed, Transaction, TxId};

const NODES: usize = 4;
const BATCH_EVERY: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Record {
    submitted: HashMap<TxId, Instant>,
    latencies: Vec<f64>,
    blocks: Vec<(usize, usize)>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run() -> anyhow::Result<()> {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        tfchain_node::logging::init(tfchain_node::config::LogFormat::Human, &filter);
    }
    let rate = env_usize("TFCHAIN_BENCH_RATE", 1_000)?;
    let secs = env_usize("TFCHAIN_BENCH_SECS", 60)?;
    let count = (rate * secs).clamp(1, 255 * 255);
    let explorer_index = match std::env::var("TFCHAIN_BENCH_EXPLORER_INDEX") {
        Ok(v) => v.parse::<bool>().map_err(|e| {
            anyhow::anyhow!("TFCHAIN_BENCH_EXPLORER_INDEX={v:?} is not true or false: {e}")
        })?,
        Err(_) => true,
    };
    println!("threads: {}", rayon::current_num_threads());
    println!("explorer_index: {explorer_index}");
    let dir = tempfile::Builder::new()
        .prefix("tfchain-bench-localnet-")
        .tempdir()?;
    let now = SystemClock.now();
    let (genesis, keys) =
        tfchain_genesis::new_network(NODES, "bench", now - 600, &mut rand::rngs::OsRng)?;
    let keys: Vec<_> = keys.iter().map(|k| k.key()).collect();
    let block_time = genesis.params().block_time as f64;

    // Funding blocks and the load, signed up front.
    let owners: Vec<_> = (0..64).map(|i| Seed([5; 32]).derive_key(i)).collect();
    let s = Instant::now();
    let mut b = Builder::open(&dir.path().join("node-0"), &genesis, &keys)?;
    let outputs = b.fan_out(&keys[0], &owners, count)?;
    let funded = b.finish()?;
    let fee = genesis.params().min_fee;
    let genesis_id = genesis.genesis_id();
    let load: Vec<Transaction> = {
        use rayon::prelude::*;
        outputs
            .par_iter()
            .map(|(o, id, value)| {
                let k = &owners[*o];
                let to = [Address::from_public_key(&k.public_key())];
                let each = tfchain_types::Currency(value.0 - fee.0);
                split_tx((*id, *value), k, &to, each, fee, &genesis_id)
            })
            .collect()
    };
    println!(
        "setup: {} funding blocks, {} transactions signed in {:.1}s",
        funded.height,
        load.len(),
        s.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut nodes: Vec<RunningNode> = Vec::new();
        let mut addrs = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let mut opts = node_options(
                &genesis,
                dir.path().join(format!("node-{i}")),
                Some(key.clone()),
                addrs.clone(),
            )?;
            opts.store.explorer_index = Some(explorer_index);
            let n = node::start(opts).await?;
            let net = n
                .net
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no network"))?;
            addrs.extend(net.listen_addrs(Duration::from_secs(10)).await);
            nodes.push(n);
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while nodes
            .iter()
            .any(|n| n.chain.store.tip().height < funded.height)
        {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the nodes did not sync the funding"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let record = Arc::new(Mutex::new(Record::default()));
        let mut events = nodes[0].chain.subscribe();
        let rec = record.clone();
        let watcher = tokio::spawn(async move {
            while let Ok(ev) = events.recv().await {
                if let ChainEvent::Connected(block) = ev {
                    let at = Instant::now();
                    let mut r = rec.lock();
                    r.blocks
                        .push((block.transactions.len(), block.encoded_len()));
                    for tx in &block.transactions {
                        if let Some(t) = r.submitted.remove(&tx.txid()) {
                            r.latencies.push((at - t).as_secs_f64());
                        }
                    }
                }
            }
        });

        let per_batch = (rate as f64 * BATCH_EVERY.as_secs_f64()).ceil() as usize;
        let start = Instant::now();
        let mut tick = tokio::time::interval(BATCH_EVERY);
        let mut refused = 0usize;
        for (i, batch) in load.chunks(per_batch.max(1)).enumerate() {
            tick.tick().await;
            let node = &nodes[i % NODES];
            {
                let mut r = record.lock();
                let t = Instant::now();
                for tx in batch {
                    r.submitted.insert(tx.txid(), t);
                }
            }
            let results = node
                .chain
                .submit_txs(batch.to_vec())
                .await
                .unwrap_or_default();
            refused += results.iter().filter(|r| r.is_err()).count();
        }
        let load_secs = start.elapsed().as_secs_f64();
        let drain = Instant::now() + Duration::from_secs(30);
        while !record.lock().submitted.is_empty() && Instant::now() < drain {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let total_secs = start.elapsed().as_secs_f64();
        watcher.abort();
        for n in nodes {
            n.stop().await;
        }

        let r = record.lock();
        let mut lat = r.latencies.clone();
        lat.sort_by(f64::total_cmp);
        let confirmed = lat.len();
        let blocks: Vec<_> = r.blocks.iter().filter(|(n, _)| *n > 0).collect();
        let fill = blocks.iter().map(|(_, b)| *b as f64).sum::<f64>()
            / (blocks.len().max(1) as f64 * MAX_BLOCK_SIZE as f64);
        let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
        println!("offered_tx_per_s: {:.0}", load.len() as f64 / load_secs);
        println!("submitted: {} (refused by the pool: {refused})", load.len());
        println!("confirmed: {confirmed} in {total_secs:.1}s");
        println!("confirmed_tx_per_s: {:.0}", confirmed as f64 / total_secs);
        println!(
            "blocks_with_txs: {} (mean fill {:.1}% of max_block_size)",
            blocks.len(),
            fill * 100.0
        );
        println!(
            "confirmation_p50_s: {p50:.2} ({:.2} block times, target <= 1.5)",
            p50 / block_time
        );
        println!(
            "confirmation_p99_s: {p99:.2} ({:.2} block times)",
            p99 / block_time
        );
        anyhow::Ok(())
    })
}
