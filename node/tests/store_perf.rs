//! Store costs on full blocks, for the record (ignored by default; speed goals live in
//! bench/, not in timed tests). Run with
//! `cargo test --release -p tfchain-node --test store_perf -- --ignored --nocapture`.

mod store_common;

use std::time::{Duration, Instant};
use store_common::*;
use tfchain_consensus::testkit::{address_of, payment, sign_all, test_key, TestChain};
use tfchain_consensus::{apply_block, StateView};
use tfchain_types::{
    Condition, Currency, Fulfillment, Input, KeySignature, Output, SecretKey, Signature,
    Transaction, TX_VERSION,
};

const BLOCKS: usize = 5;
const TXS: usize = 1_000;

#[test]
#[ignore = "measurement, not a check: run by hand with --release"]
fn commit_cost_of_full_blocks() {
    let users = BLOCKS * TXS;
    const FAN: usize = 250;
    let mut chain = TestChain::new(&[1_000], users / FAN, Currency::from_tft(1_000_000));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), &chain).expect("open");
    let fee = chain.params.min_fee;
    let genesis_id = chain.params.genesis_id;
    // One block fans the genesis coins out to the users (a genesis holds at most 256
    // outputs, §8).
    let keys: Vec<SecretKey> = (0..users as u64).map(|u| test_key(3, u)).collect();
    let fan_out: Vec<Transaction> = chain
        .funded
        .iter()
        .enumerate()
        .map(|(f, key)| {
            let (id, entry) = chain.spendable(&address_of(key)).remove(0);
            let each = Currency::from_tft(100);
            let mut coin_outputs: Vec<Output> = keys[f * FAN..(f + 1) * FAN]
                .iter()
                .map(|k| Output {
                    value: each,
                    condition: Condition::Address(address_of(k)),
                })
                .collect();
            coin_outputs.push(Output {
                value: Currency(entry.value.0 - each.0 * FAN as u128 - fee.0),
                condition: Condition::Address(address_of(key)),
            });
            let mut tx = Transaction {
                version: TX_VERSION,
                coin_inputs: vec![Input {
                    parent: id,
                    fulfillment: Fulfillment::Signature(KeySignature {
                        public_key: key.public_key(),
                        signature: Signature::ZERO,
                    }),
                }],
                coin_outputs,
                blockstake_inputs: vec![],
                blockstake_outputs: vec![],
                fee,
                arbitrary_data: vec![],
                grid_ops: vec![],
            };
            sign_all(&mut tx, key, &genesis_id);
            tx
        })
        .collect();
    step(&mut chain, &store, fan_out);
    let coins_by_user: Vec<_> = keys
        .iter()
        .map(|k| chain.spendable(&address_of(k)).remove(0))
        .collect();
    let (mut t_apply_mem, mut t_apply_store, mut t_commit, mut t_flush) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for b in 0..BLOCKS {
        let txs: Vec<_> = (0..TXS)
            .map(|i| {
                let u = b * TXS + i;
                let key = &keys[u];
                let (id, entry) = &coins_by_user[u];
                let to = Condition::Address(address_of(&keys[(u + 1) % users]));
                payment(
                    &[(*id, entry.value)],
                    key,
                    to,
                    Currency::from_tft(10),
                    fee,
                    &genesis_id,
                )
            })
            .collect();
        let (block, _) = chain.next_block(txs);
        let now = block.header.timestamp;

        let s = Instant::now();
        let from_mem = apply_block(&chain.state, &block, &chain.params, now).expect("valid");
        t_apply_mem += s.elapsed();

        let s = Instant::now();
        let view = store.view();
        let outcome = apply_block(&view, &block, &chain.params, now).expect("valid");
        view.finish().expect("reads");
        t_apply_store += s.elapsed();
        assert_eq!(outcome, from_mem);

        let s = Instant::now();
        store.commit_block(&block, &outcome).expect("commit");
        t_commit += s.elapsed();
        let s = Instant::now();
        store.flush().expect("flush");
        t_flush += s.elapsed();
        chain.state.commit(&outcome);
    }
    let per = |d: Duration| d / BLOCKS as u32;
    println!(
        "blocks of {TXS} one-input payments, {BLOCKS} blocks, {} UTXOs",
        chain.state.coins.len()
    );
    println!("apply_block on MemoryState:  {:?}/block", per(t_apply_mem));
    println!(
        "apply_block on StoreView:    {:?}/block",
        per(t_apply_store)
    );
    println!("commit_block (one batch):    {:?}/block", per(t_commit));
    println!("flush (fsync):               {:?}/block", per(t_flush));

    // Stake-modifier style reads: 256 metas, cached window vs. disk.
    let s = Instant::now();
    for h in 0..=store.tip().height {
        assert!(StateView::block_at(&store, h).is_some());
    }
    println!(
        "meta_at (cached), per read:  {:?}",
        s.elapsed() / (store.tip().height as u32 + 1)
    );
    let s = Instant::now();
    let n = 10_000u32;
    for i in 0..n {
        let id = store
            .block_id_at(u64::from(i) % 6)
            .expect("read")
            .expect("id");
        store.index_entry(&id).expect("read").expect("entry");
    }
    println!("meta read from disk, per read: {:?}", s.elapsed() / n);
    let ids: Vec<_> = chain.state.coins.keys().copied().take(10_000).collect();
    let s = Instant::now();
    for id in &ids {
        assert!(store.coin(id).expect("read").is_some());
    }
    println!(
        "coin read, per read:         {:?}",
        s.elapsed() / ids.len() as u32
    );

    let s = Instant::now();
    let report = store.check_consistency().expect("check");
    println!(
        "check_consistency ({} UTXOs): {:?}",
        chain.state.coins.len(),
        s.elapsed()
    );
    assert_eq!(report.repaired, None);
    let s = Instant::now();
    store.undo_tip().expect("undo");
    println!("undo_tip:                    {:?}", s.elapsed());
    println!(
        "size on disk:                {} MB",
        store.size_on_disk().expect("size") / 1_000_000
    );
}
