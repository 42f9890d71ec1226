//! `import`: how fast `tfchaind import-blocks` applies a long chain of payment blocks into a
//! fresh data dir, against the core `apply_block` rate on the same blocks in the same run
//! (issue #4 §9). Target: import >= 0.6 of `apply_block` throughput, i.e. storage (reads
//! through the store, the commit, the indexes) takes at most 40 % of the time.
//!
//! The chain: the built-in `dev` network; block 1 fans the ten genesis outputs out to
//! 2,560 outputs; every later block holds `TXS` one-input, two-output payments (half to
//! another key, the rest back as change), spending the oldest outputs first, so the
//! unspent set grows by `TXS` per block, as on a busy chain. Blocks are produced by the
//! real lottery and validated (`apply_block` on a `MemoryState`, timed: that is the
//! baseline) as they are built, then written with `BlockWriter`.
//!
//! Shape: `TFCHAIN_BENCH_BLOCKS` (default 10,000) and `TFCHAIN_BENCH_TXS` (default 40)
//! payments per block. Signing 10,000 blocks of 1,000 payments (10 M signatures) would
//! take far too long for a benchmark run on 2 cores; `TFCHAIN_BENCH_BLOCKS=200
//! TFCHAIN_BENCH_TXS=1000` gives the full-block shape of the `core` benchmark.
//! The import runs twice: with the explorer indexes (the default) and without them
//! (`--explorer-index false`, as a validator may run); both ratios are printed.
//! `TFCHAIN_BENCH_BREAKDOWN=1` adds a second import into another fresh dir, driven block by
//! block through the store, that splits the time into apply (reads) and commit.
//! `TFCHAIN_BENCH_KEEP=FILE` keeps a copy of the block file, e.g. to profile
//! `perf record -g tfchaind import-blocks --network dev --data-dir D --in FILE`.

use rayon::prelude::*;
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};
use tfchain_consensus::apply_block;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, payment, spend, TestChain};
use tfchain_node::blockfile::{BlockReader, BlockWriter};
use tfchain_node::cli::{ChainArgs, ImportArgs};
use tfchain_node::store::Store;
use tfchain_types::{Block, Condition, Currency, Output, OutputId, SecretKey, Transaction};

/// Outputs of each fan-out transaction (the §8 limit).
const FAN: usize = 256;
/// Keys that own the payment outputs (signing costs the same whatever the key).
const KEYS: usize = 64;

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not a count: {e}")),
        Err(_) => Ok(default),
    }
}

/// An unspent output the builder may spend: (id, value, owner key index).
type Spendable = (OutputId, Currency, usize);

pub fn run() -> anyhow::Result<()> {
    let blocks = env_usize("TFCHAIN_BENCH_BLOCKS", 10_000)?;
    let txs_per_block = env_usize("TFCHAIN_BENCH_TXS", 40)?;
    let breakdown = std::env::var("TFCHAIN_BENCH_BREAKDOWN").is_ok_and(|v| v == "1");
    anyhow::ensure!(blocks >= 2, "TFCHAIN_BENCH_BLOCKS must be at least 2");
    anyhow::ensure!(
        (1..=FAN * 10).contains(&txs_per_block),
        "TFCHAIN_BENCH_TXS must be between 1 and {}",
        FAN * 10
    );
    println!("threads: {}", rayon::current_num_threads());
    let dir = tempfile::Builder::new()
        .prefix("tfchain-bench-import-")
        .tempdir()?;
    let file = dir.path().join("blocks.bin");

    let s = Instant::now();
    let (built, apply_time, txs) = build_chain(&file, blocks, txs_per_block)?;
    let build_secs = s.elapsed().as_secs_f64();
    let file_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
    println!(
        "chain: {built} blocks (1 fan-out block, then {txs_per_block} one-input payments each), {txs} transactions, {file_mb:.1} MB, built in {build_secs:.1}s"
    );
    if let Ok(keep) = std::env::var("TFCHAIN_BENCH_KEEP") {
        std::fs::copy(&file, &keep)?;
        println!("block file kept at {keep}");
    }
    let apply_bps = built as f64 / apply_time.as_secs_f64();
    let apply_tps = txs as f64 / apply_time.as_secs_f64();
    println!("apply_block_secs: {:.2}", apply_time.as_secs_f64());
    println!("apply_block_blocks_per_s: {apply_bps:.0}");
    println!("apply_block_tx_per_s: {apply_tps:.0}");

    // The real command, into a fresh data dir: first as every node runs by default (with
    // the explorer indexes), then as a validator may run (without them).
    for (label, explorer_index) in [("", None), ("no_index_", Some(false))] {
        let data = dir.path().join(format!("import-{label}"));
        let rss_before = reset_peak_rss();
        let s = Instant::now();
        let (applied, secs) = tfchain_node::commands::blocks::import(ImportArgs {
            chain: ChainArgs {
                network: Some("dev".into()),
                data_dir: Some(data.clone()),
                config: None,
                explorer_index,
                db_cache: None,
            },
            input: file.clone(),
        })
        .map_err(|e| anyhow::anyhow!("import-blocks: {e}"))?;
        let total = s.elapsed().as_secs_f64();
        anyhow::ensure!(
            applied == built as u64,
            "import applied {applied} of {built} blocks"
        );
        let import_tps = txs as f64 / secs;
        let ratio = import_tps / apply_tps;
        println!("{label}import_blocks: {applied}");
        println!("{label}import_secs: {secs:.2} (with opening the store: {total:.2})");
        println!("{label}import_blocks_per_s: {:.0}", applied as f64 / secs);
        println!("{label}import_tx_per_s: {import_tps:.0}");
        let target = if explorer_index == Some(false) {
            0.8
        } else {
            0.6
        };
        println!("{label}import_vs_apply_ratio: {ratio:.2} (target >= {target:.2})");
        let peak = peak_rss();
        println!(
            "{label}peak_rss_mb: {:.0} (before the import {:.0}, so the import added {:.0}; db cache {} MiB)",
            peak as f64 / 1e6,
            rss_before as f64 / 1e6,
            peak.saturating_sub(rss_before) as f64 / 1e6,
            tfchain_node::store::DEFAULT_DB_CACHE_MIB
        );
        let genesis = tfchain_genesis::builtin("dev").expect("the dev network is built in");
        let store = Store::open(&data, &genesis)?;
        anyhow::ensure!(
            store.tip().height == built as u64,
            "imported tip at height {}",
            store.tip().height
        );
        anyhow::ensure!(
            store.explorer_index() == explorer_index.unwrap_or(true),
            "the store's explorer index setting"
        );
        let files = store.block_files_size();
        let db = store.database_size()?;
        let state = store.logical_state_bytes()?;
        let mb = |b: u64| b as f64 / 1e6;
        println!(
            "{label}store_size_mb: {:.1} (block files {:.1}, database {:.1})",
            mb(files + db),
            mb(files),
            mb(db)
        );
        println!("{label}live_state_mb: {:.1}", mb(state));
        println!(
            "{label}store_vs_files_plus_state_ratio: {:.2} (target <= 1.50)",
            (files + db) as f64 / (files + state) as f64
        );
    }
    if breakdown {
        import_breakdown(&file, &dir.path().join("breakdown"), txs, apply_tps)?;
    }
    Ok(())
}

/// This process's resident set now, after resetting the kernel's peak-RSS mark to it
/// (`/proc/self/clear_refs` 5), in bytes; 0 where /proc is unavailable.
fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    proc_status_kb("VmRSS:") * 1024
}

/// The peak resident set since the last [`reset_peak_rss`], in bytes.
fn peak_rss() -> u64 {
    proc_status_kb("VmHWM:") * 1024
}

fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Builds the chain into `file`; returns (blocks, time spent in `apply_block`, transactions).
fn build_chain(
    file: &Path,
    blocks: usize,
    txs_per_block: usize,
) -> anyhow::Result<(usize, Duration, usize)> {
    let genesis = tfchain_genesis::builtin("dev").expect("the dev network is built in");
    let params = genesis.params();
    let seed = tfchain_genesis::dev_seed();
    let dev_keys: Vec<SecretKey> = (0..tfchain_genesis::builtin::DEV_FUNDED_KEYS)
        .map(|i| seed.derive_key(i))
        .collect();
    let genesis_block = genesis.block();
    let state = MemoryState::from_genesis(&genesis_block, &params)?;
    let genesis_coins = state.total_coins();
    let mut chain = TestChain {
        params: params.clone(),
        genesis: genesis_block,
        state,
        validators: vec![dev_keys[0].clone()],
        funded: dev_keys.clone(),
        genesis_coins,
    };
    let keys: Vec<SecretKey> = (0..KEYS as u64)
        .map(|i| tfchain_types::Seed([0xbe; 32]).derive_key(i))
        .collect();
    let fee = params.min_fee;
    let genesis_id = params.genesis_id;

    let mut out = BlockWriter::new(std::io::BufWriter::new(std::fs::File::create(file)?))?;
    let mut apply_time = Duration::ZERO;
    let mut total_txs = 0usize;
    let mut apply = |chain: &mut TestChain, block: &Block| -> anyhow::Result<()> {
        let now = block.header.timestamp;
        let s = Instant::now();
        let outcome = apply_block(&chain.state, block, &chain.params, now)?;
        apply_time += s.elapsed();
        chain.state.commit(&outcome);
        // Undo data is never needed here: keep memory flat.
        chain.state.diffs.clear();
        Ok(())
    };

    // Block 1: every genesis coin output fans out to FAN outputs.
    let mut fan_out = Vec::new();
    for key in &dev_keys {
        let a = address_of(key);
        let Some((id, entry)) = chain.spendable(&a).into_iter().next() else {
            continue;
        };
        let each = Currency((entry.value.0 - fee.0) / FAN as u128);
        let mut coin_outputs: Vec<Output> = (0..FAN)
            .map(|i| Output {
                value: each,
                condition: Condition::Address(address_of(&keys[(fan_out.len() * FAN + i) % KEYS])),
            })
            .collect();
        coin_outputs[FAN - 1].value = Currency(entry.value.0 - fee.0 - each.0 * (FAN as u128 - 1));
        fan_out.push(spend(&[id], coin_outputs, key, fee, &genesis_id));
    }
    let mut pool: VecDeque<Spendable> = VecDeque::new();
    for (t, tx) in fan_out.iter().enumerate() {
        let txid = tx.txid();
        for (i, o) in tx.coin_outputs.iter().enumerate() {
            pool.push_back((
                Transaction::coin_output_id(&txid, i),
                o.value,
                (t * FAN + i) % KEYS,
            ));
        }
    }
    total_txs += fan_out.len();
    let (block, _) = chain.next_block(fan_out);
    apply(&mut chain, &block)?;
    out.write(&block)?;

    let mut last_log = Instant::now();
    for b in 2..=blocks {
        anyhow::ensure!(
            pool.len() >= txs_per_block,
            "only {} spendable outputs left",
            pool.len()
        );
        let inputs: Vec<Spendable> = pool.drain(..txs_per_block).collect();
        let txs: Vec<Transaction> = inputs
            .par_iter()
            .map(|(id, value, k)| {
                let amount = Currency(value.0 / 2);
                let to = Condition::Address(address_of(&keys[(k + 1) % KEYS]));
                payment(&[(*id, *value)], &keys[*k], to, amount, fee, &genesis_id)
            })
            .collect();
        for (tx, (_, value, k)) in txs.iter().zip(&inputs) {
            anyhow::ensure!(
                tx.coin_outputs.len() == 2 && value.0 > 4 * fee.0,
                "an output became too small to split: lower TFCHAIN_BENCH_TXS or the block count"
            );
            let txid = tx.txid();
            pool.push_back((
                Transaction::coin_output_id(&txid, 0),
                tx.coin_outputs[0].value,
                (k + 1) % KEYS,
            ));
            pool.push_back((
                Transaction::coin_output_id(&txid, 1),
                tx.coin_outputs[1].value,
                *k,
            ));
        }
        total_txs += txs.len();
        let (block, _) = chain.next_block(txs);
        apply(&mut chain, &block)?;
        out.write(&block)?;
        if last_log.elapsed() > Duration::from_secs(10) {
            eprintln!("built {b} of {blocks} blocks");
            last_log = Instant::now();
        }
    }
    out.finish()?;
    anyhow::ensure!(
        chain.state.total_coins() == chain.expected_supply(),
        "the built chain breaks the supply invariant"
    );
    Ok((blocks, apply_time, total_txs))
}

/// The import path split by hand: `apply_block` on the store's view (the rules plus the
/// store reads) and `commit_block` (one sled batch), with the blocks already decoded.
fn import_breakdown(
    file: &Path,
    data: &Path,
    txs: usize,
    apply_mem_tps: f64,
) -> anyhow::Result<()> {
    let genesis = tfchain_genesis::builtin("dev").expect("the dev network is built in");
    let params = genesis.params();
    let store = Store::open(data, &genesis)?;
    let mut reader = BlockReader::new(std::io::BufReader::new(std::fs::File::open(file)?))?;
    let (mut t_read, mut t_apply, mut t_commit) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    loop {
        let s = Instant::now();
        let Some(block) = reader.next_block()? else {
            break;
        };
        t_read += s.elapsed();
        let s = Instant::now();
        let view = store.view();
        let outcome = apply_block(&view, &block, &params, block.header.timestamp)?;
        view.finish()?;
        t_apply += s.elapsed();
        let s = Instant::now();
        store.commit_block(&block, &outcome)?;
        t_commit += s.elapsed();
    }
    let s = Instant::now();
    store.flush()?;
    let t_flush = s.elapsed();
    let total = (t_read + t_apply + t_commit + t_flush).as_secs_f64();
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / total;
    println!("breakdown_tx_per_s: {:.0}", txs as f64 / total);
    println!(
        "breakdown_read_decode: {:.2}s ({:.0} %)",
        t_read.as_secs_f64(),
        pct(t_read)
    );
    println!(
        "breakdown_apply_on_store: {:.2}s ({:.0} %; {:.0} tx/s, {:.2} of apply_block on memory)",
        t_apply.as_secs_f64(),
        pct(t_apply),
        txs as f64 / t_apply.as_secs_f64(),
        txs as f64 / t_apply.as_secs_f64() / apply_mem_tps
    );
    println!(
        "breakdown_commit: {:.2}s ({:.0} %, {:.1} us/tx)",
        t_commit.as_secs_f64(),
        pct(t_commit),
        1e6 * t_commit.as_secs_f64() / txs as f64
    );
    println!(
        "breakdown_final_flush: {:.2}s ({:.0} %)",
        t_flush.as_secs_f64(),
        pct(t_flush)
    );
    Ok(())
}
