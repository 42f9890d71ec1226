//! Opening the wrong database, and recovering from damage: the consistency check repairs
//! by rolling back to the last consistent block, refuses what it cannot repair, and bad
//! bytes are errors, never panics.
//!
//! Faults are injected through the raw sled tree with the key layout of
//! `node/src/store/tables.rs` (prefix byte ‖ key).

mod store_common;

use std::path::Path;
use store_common::*;
use tfchain_consensus::testkit::TestChain;
use tfchain_consensus::UtxoView;
use tfchain_node::store::{
    BlockIndexEntry, BlockStatus, Store, StoreError, Totals, SCHEMA_VERSION,
};
use tfchain_types::{codec, Block, BlockId, Currency};

const SCHEMA: u8 = 0x00;
const TIP: u8 = 0x02;
const TOTALS: u8 = 0x03;
const BLOCK_INDEX: u8 = 0x11;
const UNDO: u8 = 0x13;
const COINS: u8 = 0x20;

fn raw_key(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = vec![prefix];
    k.extend_from_slice(rest);
    k
}

/// A store with `n` blocks of payments, its chain and blocks.
fn chain_with(dir: &Path, n: u64) -> (TestChain, Store, Vec<Block>) {
    let mut chain = test_chain();
    let store = open(dir, &chain).expect("open");
    let mut blocks = Vec::new();
    for i in 0..n {
        let txs = block_txs(&chain, i);
        blocks.push(step(&mut chain, &store, txs).0);
    }
    (chain, store, blocks)
}

#[test]
fn another_network_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = test_chain();
    drop(open(dir.path(), &chain).expect("open"));

    let other = TestChain::new(&[7], 1, tft(5));
    match open(dir.path(), &other) {
        Err(e @ StoreError::WrongNetwork { .. }) => {
            let StoreError::WrongNetwork { found, expected } = &e else {
                unreachable!()
            };
            assert_eq!(
                (*found, *expected),
                (chain.genesis.id(), other.genesis.id())
            );
            assert!(e.to_string().contains("--data-dir"), "says what to do: {e}");
        }
        other => panic!("expected WrongNetwork, got {other:?}"),
    }
    let dev = tfchain_genesis::builtin("dev").expect("dev network");
    assert!(matches!(
        Store::open(dir.path(), &dev),
        Err(StoreError::WrongNetwork { .. })
    ));
    // The right network still opens.
    open(dir.path(), &chain).expect("reopen");
}

#[test]
fn a_fresh_dev_store_holds_the_genesis_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dev = tfchain_genesis::builtin("dev").expect("dev network");
    let store = Store::open(dir.path(), &dev).expect("open");
    assert_eq!(store.tip().height, 0);
    assert_eq!(store.tip().id, dev.genesis_id());
    assert_eq!(
        store.totals(),
        Totals {
            coins: dev.total_coins(),
            blockstakes: dev.total_blockstakes(),
            // The dev genesis registers nodes but no reservations: nothing held yet.
            escrow: Currency::ZERO,
            earnings: Currency::ZERO,
        }
    );
    assert_eq!(store.open_report().repaired, None);
    assert!(store.verify_indexes().expect("check").is_empty());
}

#[test]
fn another_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    store
        .raw_tree_for_tests()
        .insert([SCHEMA], codec::encode(&(SCHEMA_VERSION + 1)))
        .expect("raw write");
    drop(store);
    match open(dir.path(), &chain) {
        Err(e @ StoreError::SchemaMismatch { .. }) => {
            assert!(matches!(
                e,
                StoreError::SchemaMismatch { found, expected }
                    if found == SCHEMA_VERSION + 1 && expected == SCHEMA_VERSION
            ));
            assert!(e.to_string().contains("newer"), "says why: {e}");
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
}

#[test]
fn a_second_open_of_the_same_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = test_chain();
    let _store = open(dir.path(), &chain).expect("open");
    match open(dir.path(), &chain) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn wrong_running_totals_are_rewritten_from_a_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, store, _) = chain_with(dir.path(), 10);
    let bogus = Totals {
        coins: tft(1),
        blockstakes: 3,
        escrow: tft(2),
        earnings: Currency::ZERO,
    };
    store
        .raw_tree_for_tests()
        .insert([TOTALS], codec::encode(&bogus))
        .expect("raw write");
    drop(store);
    let store = open(dir.path(), &chain).expect("reopen repairs");
    let report = store.open_report();
    let repaired = report.repaired.as_deref().expect("a repair is reported");
    assert!(repaired.contains("running totals"), "{repaired}");
    assert_eq!(
        report.tip_height, 10,
        "the state itself was fine: no rollback"
    );
    assert_same(&store, &chain.state);
    // A second open finds nothing more to do.
    drop(store);
    let store = open(dir.path(), &chain).expect("reopen");
    assert_eq!(store.open_report().repaired, None);
}

#[test]
fn a_half_written_tip_block_is_rolled_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, blocks) = chain_with(dir.path(), 10);
    let tip = blocks.last().expect("blocks").id();
    let undo = store.undo_record(&tip).expect("read").expect("undo data");
    assert!(
        !undo.diff.coins_spent.is_empty(),
        "block 10 spends something"
    );
    // Tear block 10: one spent output comes back, one created output disappears.
    let (spent_id, spent) = &undo.diff.coins_spent[0];
    let (created_id, _) = &undo.diff.coins_created[0];
    let raw = store.raw_tree_for_tests();
    raw.insert(raw_key(COINS, spent_id.as_bytes()), codec::encode(spent))
        .expect("raw write");
    raw.remove(raw_key(COINS, created_id.as_bytes()))
        .expect("raw write");
    drop(store);

    let store = open(dir.path(), &chain).expect("reopen repairs");
    let report = store.open_report().clone();
    assert_eq!(report.tip_height, 9);
    let repaired = report.repaired.expect("a repair is reported");
    assert!(repaired.contains("rolled back 1 block"), "{repaired}");
    chain.state.undo_tip();
    assert_same(&store, &chain.state);
    assert_indexes_exact(&store);
    let entry = store.index_entry(&tip).expect("read").expect("kept");
    assert_eq!(
        entry.status,
        BlockStatus::Stored,
        "the block can be re-applied"
    );

    // The chain goes on from there.
    for i in 0..3 {
        let txs = block_txs(&chain, 50 + i);
        step(&mut chain, &store, txs);
    }
    assert_same(&store, &chain.state);
    assert_indexes_exact(&store);
}

#[test]
fn damage_below_the_tip_rolls_back_as_far_as_needed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, blocks) = chain_with(dir.path(), 10);
    // Lose the reward of block 9 (unspent: it is immature); block 10 is intact.
    let b9 = blocks[8].id();
    let reward = tfchain_types::OutputId::for_payout(&b9, 0);
    assert!(store.coin(&reward).expect("read").is_some());
    store
        .raw_tree_for_tests()
        .remove(raw_key(COINS, reward.as_bytes()))
        .expect("raw write");
    drop(store);

    let store = open(dir.path(), &chain).expect("reopen repairs");
    let report = store.open_report().clone();
    assert_eq!(report.tip_height, 8);
    let repaired = report.repaired.expect("a repair is reported");
    assert!(repaired.contains("rolled back 2 block"), "{repaired}");
    chain.state.undo_tip();
    chain.state.undo_tip();
    assert_same(&store, &chain.state);
    assert_indexes_exact(&store);
}

#[test]
fn a_tip_pointer_to_an_unapplied_block_is_corrected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, blocks) = chain_with(dir.path(), 10);
    let b10 = blocks.last().expect("blocks").clone();
    store.undo_tip().expect("undo");
    chain.state.undo_tip();
    // A bogus tip: block 10 again, even marked OnMain, though its diff is not applied and
    // its undo data is gone.
    let mut entry = store.index_entry(&b10.id()).expect("read").expect("entry");
    entry.status = BlockStatus::OnMain;
    let raw = store.raw_tree_for_tests();
    raw.insert([TIP], codec::encode(&b10.id()))
        .expect("raw write");
    raw.insert(
        raw_key(BLOCK_INDEX, b10.id().as_bytes()),
        codec::encode(&entry),
    )
    .expect("raw write");
    drop(store);

    let store = open(dir.path(), &chain).expect("reopen repairs");
    let report = store.open_report().clone();
    assert_eq!(report.tip_height, 9);
    assert!(report
        .repaired
        .as_deref()
        .is_some_and(|r| r.contains("tip pointer")));
    assert_same(&store, &chain.state);
    let entry: BlockIndexEntry = store.index_entry(&b10.id()).expect("read").expect("entry");
    assert_eq!(entry.status, BlockStatus::Stored);
    assert_indexes_exact(&store);
    step(&mut chain, &store, vec![]);
    assert_same(&store, &chain.state);
}

#[test]
fn a_lost_tip_pointer_is_recovered_from_the_height_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, store, _) = chain_with(dir.path(), 6);
    store.raw_tree_for_tests().remove([TIP]).expect("raw write");
    // The live store can be checked too; it reloads its in-memory tip.
    let report = store.check_consistency().expect("repairs");
    assert_eq!(report.tip_height, 6);
    assert!(report.repaired.is_some());
    assert_same(&store, &chain.state);
}

#[test]
fn an_applied_tip_without_undo_data_is_unrecoverable_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, store, blocks) = chain_with(dir.path(), 8);
    let tip = blocks.last().expect("blocks").id();
    store
        .raw_tree_for_tests()
        .remove(raw_key(UNDO, tip.as_bytes()))
        .expect("raw write");
    drop(store);
    for _ in 0..2 {
        match open(dir.path(), &chain) {
            Err(e @ StoreError::Unrecoverable(_)) => {
                let msg = e.to_string();
                assert!(msg.contains("cannot be rolled back"), "{msg}");
                assert!(msg.contains("resync"), "says what to do: {msg}");
                assert!(e.is_corruption());
            }
            other => panic!("expected Unrecoverable, got {other:?}"),
        }
    }
}

#[test]
fn garbage_bytes_are_corrupt_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, store, _) = chain_with(dir.path(), 5);
    let (id, _) = chain.state.coins.iter().next().expect("a coin");
    store
        .raw_tree_for_tests()
        .insert(
            raw_key(COINS, id.as_bytes()),
            &b"\xff\xff not a coin entry"[..],
        )
        .expect("raw write");
    match store.coin(id) {
        Err(StoreError::Corrupt { table, .. }) => assert_eq!(table, "Coins"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // The consensus view reports it instead of calling the coin absent.
    let view = store.view();
    assert_eq!(view.coin(id), None);
    assert!(view.failed());
    assert!(matches!(view.finish(), Err(StoreError::Corrupt { .. })));
    // Garbage in a block body and an index entry, too.
    let tip: BlockId = store.tip().id;
    let raw = store.raw_tree_for_tests();
    raw.insert(raw_key(0x10, tip.as_bytes()), &[1u8, 2, 3][..])
        .expect("raw write");
    assert!(matches!(store.block(&tip), Err(StoreError::Corrupt { .. })));
    raw.insert(raw_key(BLOCK_INDEX, tip.as_bytes()), &[0xffu8; 7][..])
        .expect("raw write");
    assert!(matches!(
        store.index_entry(&tip),
        Err(StoreError::Corrupt { .. })
    ));
    drop(store);
    // Opening reports the damage; it does not panic.
    match open(dir.path(), &chain) {
        Err(e) => assert!(e.is_corruption(), "{e}"),
        Ok(_) => panic!("a damaged store opened"),
    }
}
