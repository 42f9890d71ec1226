//! Pool benchmark: admission rate for 100,000 signed one-input payments (batch API,
//! signatures on all cores) against the all-core `verify_strict` rate measured in the same
//! run, then the time to build a full 2 MB template from the full pool, checked with
//! `apply_block`.

use rayon::prelude::*;
use std::time::{Duration, Instant};
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{address_of, dev_params, payment, test_key, GENESIS_TIME};
use tfchain_consensus::{apply_block, genesis_block, SpendContext, StateView};
use tfchain_txpool::{ChainAt, Pool, PoolConfig};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{
    Condition, Currency, Fulfillment, Output, OutputId, StakeOutput, Transaction, TX_VERSION,
};

const PAYMENTS: usize = 100_000;
/// The funded outputs belong to a handful of keys: signing is per transaction anyway.
const OWNERS: usize = 8;
/// Transactions per `admit_batch` call, about what a node collects from gossip at once.
const BATCH: usize = 1_000;
const TEMPLATE_RUNS: usize = 5;

pub fn run() -> anyhow::Result<()> {
    let threads = rayon::current_num_threads();
    println!("threads: {threads}");
    let owners: Vec<_> = (0..OWNERS as u64).map(|i| test_key(3, i)).collect();
    let validator = test_key(1, 0);

    // A genesis paying one output to an owner per payment, and all blockstakes to one
    // validator (so the template can be mined and applied below).
    let coin = Currency::from_tft(100);
    let allocation = Transaction {
        version: TX_VERSION,
        coin_inputs: vec![],
        coin_outputs: (0..PAYMENTS)
            .map(|i| Output {
                value: coin,
                condition: Condition::Address(address_of(&owners[i % OWNERS])),
            })
            .collect(),
        blockstake_inputs: vec![],
        blockstake_outputs: vec![StakeOutput {
            value: 1_000,
            condition: Condition::Address(address_of(&validator)),
        }],
        fee: Currency::ZERO,
        arbitrary_data: b"tfchain pool benchmark".to_vec(),
        grid_ops: vec![],
    };
    let alloc_id = allocation.txid();
    let genesis = genesis_block(GENESIS_TIME, allocation);
    let mut params = dev_params();
    params.genesis_id = genesis.id();
    let state = MemoryState::from_genesis(&genesis, &params)?;

    // Sign every payment up front, on all cores (not timed). Fees vary (1..=50 times the
    // minimum) so the template has something to choose.
    let t = Instant::now();
    let txs: Vec<Transaction> = (0..PAYMENTS)
        .into_par_iter()
        .map(|i| {
            let fee = Currency(params.min_fee.0 * (1 + (i as u128 * 7_919) % 50));
            payment(
                &[(Transaction::coin_output_id(&alloc_id, i), coin)],
                &owners[i % OWNERS],
                Condition::Address(address_of(&owners[(i + 1) % OWNERS])),
                Currency::from_tft(1),
                fee,
                &params.genesis_id,
            )
        })
        .collect();
    println!("setup_sign_s: {:.2}", t.elapsed().as_secs_f64());
    let tx_bytes: usize = txs.iter().map(Transaction::encoded_len).sum();
    println!("pool_payment_bytes_avg: {}", tx_bytes / PAYMENTS);

    // Baseline: verify_strict of the same signatures on all cores, sighashes precomputed.
    let sigs: Vec<_> = txs
        .par_iter()
        .filter_map(|tx| match &tx.coin_inputs[0].fulfillment {
            Fulfillment::Signature(ks) => {
                Some((ks.public_key, ks.signature, tx.sighash(&params.genesis_id)))
            }
            _ => None,
        })
        .collect();
    let t = Instant::now();
    let valid = sigs
        .par_iter()
        .filter(|(pk, sig, msg)| pk.verify(msg.as_bytes(), sig))
        .count();
    let verify_rate = rate(sigs.len(), t.elapsed());
    anyhow::ensure!(
        valid == PAYMENTS,
        "only {valid} of {PAYMENTS} signatures verify"
    );
    println!("verify_strict_per_s_all_cores: {verify_rate:.0}");

    // Admission, batch API, into a pool sized by the defaults (64 MiB / 100,000).
    let chain = ChainAt::new(&state, &params);
    let now = GENESIS_TIME + 1;
    let mut pool = Pool::new(PoolConfig::default());
    let mut batches: Vec<Vec<Transaction>> = Vec::new();
    let mut rest = txs.clone();
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(BATCH));
        batches.push(std::mem::replace(&mut rest, tail));
    }
    let t = Instant::now();
    let mut admitted = 0usize;
    for batch in batches {
        admitted += pool
            .admit_batch(&chain, batch, now)
            .iter()
            .filter(|r| r.is_ok())
            .count();
    }
    let elapsed = t.elapsed();
    anyhow::ensure!(admitted == PAYMENTS, "admitted {admitted} of {PAYMENTS}");
    let admission_rate = rate(PAYMENTS, elapsed);
    println!("pool_admission_tx_per_s: {admission_rate:.0}");
    println!("pool_admission_batch_size: {BATCH}");
    println!(
        "admission_vs_verify_ratio: {:.3}",
        admission_rate / verify_rate
    );
    println!("pool_count: {}", pool.len());
    println!("pool_bytes: {}", pool.bytes());

    // Single-transaction admission of a sample, for comparison (sequential signatures).
    let sample = 10_000;
    let mut single = Pool::new(PoolConfig::default());
    let t = Instant::now();
    for tx in txs.iter().take(sample) {
        single
            .admit(&chain, tx.clone(), now)
            .map_err(|e| anyhow::anyhow!("single admission refused: {e}"))?;
    }
    println!(
        "pool_admission_single_tx_per_s: {:.0}",
        rate(sample, t.elapsed())
    );
    drop(single);

    // A full 2 MB template from the full pool, for the next block found by the lottery.
    let tip = state.tip();
    let lottery = Lottery::for_child_of(&state, &params);
    let stakes: Vec<_> = state
        .stakes
        .iter()
        .map(|(id, e)| (*id, e.clone()))
        .collect();
    let (timestamp, stake): (u64, OutputId) = (tip.timestamp + 1..)
        .find_map(|ts| {
            lottery
                .winner(&params, &stakes, ts)
                .map(|(id, _)| (ts, *id))
        })
        .ok_or_else(|| anyhow::anyhow!("no lottery winner"))?;
    let ctx = SpendContext {
        height: tip.height + 1,
        timestamp,
    };
    let mut times = Vec::new();
    let mut template = pool.block_template(ctx, MAX_BLOCK_SIZE);
    for _ in 0..TEMPLATE_RUNS {
        let t = Instant::now();
        template = pool.block_template(ctx, MAX_BLOCK_SIZE);
        times.push(t.elapsed());
    }
    times.sort();
    println!("pool_template_2mb_ms: {:.2}", ms(times[TEMPLATE_RUNS / 2]));
    println!(
        "pool_template_2mb_ms_max: {:.2}",
        ms(times[TEMPLATE_RUNS - 1])
    );
    println!("pool_template_txs: {}", template.transactions.len());
    println!("pool_template_block_bytes: {}", template.block_size);
    println!("pool_template_fees_tft: {}", template.fees.to_tft_string());

    // The template must make a valid block.
    let block = assemble_block(
        &state,
        timestamp,
        stake,
        &validator,
        address_of(&validator),
        template.transactions,
    );
    anyhow::ensure!(
        block.encoded_len() == template.block_size,
        "template size accounting is off"
    );
    let t = Instant::now();
    let outcome = apply_block(&state, &block, &params, timestamp)
        .map_err(|e| anyhow::anyhow!("the template does not apply: {e}"))?;
    println!("template_apply_block_ms: {:.1}", ms(t.elapsed()));

    // And the pool follows the new tip cheaply.
    let mut next = state;
    next.commit(&outcome);
    let chain = ChainAt::new(&next, &params);
    let t = Instant::now();
    let report = pool.on_block_connected(&chain, &block)?;
    println!("pool_on_block_connected_ms: {:.1}", ms(t.elapsed()));
    anyhow::ensure!(
        report.included.len() == block.transactions.len(),
        "the pool did not drop the mined transactions"
    );
    println!("pool_count_after_block: {}", pool.len());
    Ok(())
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
