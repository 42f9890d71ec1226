//! `core`: the cost of verification and of the state transition (issue #2 §8).
//!
//! Prints `verify_strict` signatures/s on one core and on all cores, `apply_block`
//! throughput on blocks of 1,000 one-input payments, and the ratio of the two: the
//! state transition should cost little more than its signature checks.

use rayon::prelude::*;
use std::time::Instant;
use tfchain_consensus::testkit::{address_of, payment, TestChain};
use tfchain_consensus::{apply_block, StateView};
use tfchain_types::{Condition, Currency, SecretKey, Seed, Signature};

const SIGS: usize = 20_000;
const BLOCKS: usize = 10;
const TXS_PER_BLOCK: usize = 1_000;

pub fn run() -> anyhow::Result<()> {
    let cores = rayon::current_num_threads();
    println!("threads: {cores}");

    // Signature verification baseline.
    let keys: Vec<SecretKey> = (0..64).map(|i| Seed([9; 32]).derive_key(i)).collect();
    let items: Vec<([u8; 32], tfchain_types::PublicKey, Signature)> = (0..SIGS)
        .into_par_iter()
        .map(|i| {
            let msg = *tfchain_types::hash::blake2b(&(i as u64).to_le_bytes()).as_bytes();
            let k = &keys[i % keys.len()];
            (msg, k.public_key(), k.sign(&msg))
        })
        .collect();
    let start = Instant::now();
    let ok = items.iter().filter(|(m, pk, s)| pk.verify(m, s)).count();
    let one_core = SIGS as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ok_par = items
        .par_iter()
        .filter(|(m, pk, s)| pk.verify(m, s))
        .count();
    let all_cores = SIGS as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(
        ok == SIGS && ok_par == SIGS,
        "a benchmark signature failed to verify"
    );
    println!("verify_strict_per_s_one_core: {one_core:.0}");
    println!("verify_strict_per_s_all_cores: {all_cores:.0}");

    // apply_block on full blocks of one-input payments.
    let users = BLOCKS * TXS_PER_BLOCK;
    let mut chain = TestChain::new(&[1_000], users, Currency::from_tft(100));
    let fee = chain.params.min_fee;
    let genesis_id = chain.params.genesis_id;
    let mut spent = 0usize;
    let mut applied = std::time::Duration::ZERO;
    for b in 0..BLOCKS {
        let txs: Vec<_> = (0..TXS_PER_BLOCK)
            .into_par_iter()
            .map(|i| {
                let u = b * TXS_PER_BLOCK + i;
                let key = &chain.funded[u];
                let (id, entry) = chain
                    .spendable(&address_of(key))
                    .into_iter()
                    .max_by_key(|(_, e)| e.value)
                    .expect("each user holds a genesis output");
                let to = Condition::Address(address_of(&chain.funded[(u + 1) % users]));
                payment(
                    &[(id, entry.value)],
                    key,
                    to,
                    Currency::from_tft(10),
                    fee,
                    &genesis_id,
                )
            })
            .collect();
        spent += txs.len();
        let (block, _) = chain.next_block(txs);
        let now = block.header.timestamp;
        let start = Instant::now();
        let outcome = apply_block(&chain.state, &block, &chain.params, now)?;
        applied += start.elapsed();
        chain.state.commit(&outcome);
    }
    anyhow::ensure!(
        chain.state.tip().height == BLOCKS as u64,
        "blocks were not applied"
    );
    let apply_tps = spent as f64 / applied.as_secs_f64();
    println!("apply_block_blocks: {BLOCKS}");
    println!("apply_block_txs_per_block: {TXS_PER_BLOCK}");
    println!("apply_block_tx_per_s: {apply_tps:.0}");
    println!("apply_vs_verify_ratio: {:.2}", apply_tps / all_cores);
    Ok(())
}
