//! A store without the explorer indexes (`--explorer-index false`, as a validator may run):
//! it commits, undoes and reopens exactly like one with them, holds no index entry, says
//! so when asked for one, and finds the producer's stakes without the address index. An
//! indexed store can drop its indexes; one without them refuses to grow them back. A
//! schema-3 store (always indexed) is upgraded in place.

mod store_common;

use store_common::*;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, TestChain};
use tfchain_node::store::{Store, StoreError};
use tfchain_types::codec;

/// Key prefixes of the transaction index, the address history and the address outputs.
const EXPLORER_PREFIXES: [u8; 4] = [0x06, 0x30, 0x31, 0x32];
/// Raw keys of the schema version and the explorer-index flag.
const SCHEMA_KEY: [u8; 1] = [0x00];

fn explorer_entries(store: &Store) -> usize {
    EXPLORER_PREFIXES
        .iter()
        .map(|p| store.raw_tree_for_tests().scan_prefix([*p]).count())
        .sum()
}

/// The state without the address index: outputs, tip, chain, totals; and each validator's
/// stakes as the producer finds them.
fn assert_state(store: &Store, chain: &TestChain) {
    let mem: &MemoryState = &chain.state;
    assert_eq!(store.tip(), tfchain_consensus::StateView::tip(mem), "tip");
    assert_eq!(store_coins(store), mem.coins, "coins");
    assert_eq!(store_stakes(store), mem.stakes, "stakes");
    let totals = store.totals();
    assert_eq!(totals.coins, mem.total_coins(), "coin total");
    assert_eq!(totals.blockstakes, mem.total_stake(), "blockstake total");
    for key in &chain.validators {
        let a = address_of(key);
        let want: Vec<_> = mem
            .stakes
            .iter()
            .filter(|(_, e)| e.condition.address() == a)
            .map(|(id, e)| (*id, e.clone()))
            .collect();
        assert_eq!(
            store.stakes_of(&a).expect("stakes_of"),
            want,
            "stakes of {a}"
        );
    }
}

#[test]
fn without_explorer_indexes_blocks_commit_undo_and_reopen_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open_with(dir.path(), &chain, Some(false)).expect("open");
    assert!(!store.explorer_index());
    let mut blocks = Vec::new();
    for i in 0..30 {
        let txs = block_txs(&chain, i);
        let (block, _) = step(&mut chain, &store, txs);
        assert_state(&store, &chain);
        blocks.push(block);
    }
    assert!(
        blocks.iter().map(|b| b.transactions.len()).sum::<usize>() > 30,
        "the run carried payments"
    );
    assert_eq!(explorer_entries(&store), 0, "no index entry was written");
    assert_eq!(
        store.verify_indexes().expect("verify"),
        Vec::<String>::new()
    );

    // Index reads say why they cannot answer; nothing else changes.
    let tx = &blocks[5].transactions[0];
    assert!(matches!(
        store.tx_location(&tx.txid()),
        Err(StoreError::NoExplorerIndex)
    ));
    let someone = address_of(&chain.funded[0]);
    assert!(matches!(
        store.address_outputs(&someone),
        Err(StoreError::NoExplorerIndex)
    ));
    assert!(matches!(
        store.address_history(&someone, None, 10),
        Err(StoreError::NoExplorerIndex)
    ));

    for _ in 0..10 {
        let undone = store.undo_tip().expect("undo");
        assert_eq!(Some(&undone), blocks.last());
        assert!(chain.state.undo_tip());
        assert_state(&store, &chain);
        blocks.pop();
    }
    for i in 100..105 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
        assert_state(&store, &chain);
    }
    assert_eq!(explorer_entries(&store), 0);
    let tip = store.tip();
    drop(store);

    // Reopened without saying: still without indexes, same state.
    let store = open_with(dir.path(), &chain, None).expect("reopen");
    assert!(!store.explorer_index());
    assert_eq!(store.tip(), tip);
    assert_eq!(store.open_report().repaired, None);
    assert_state(&store, &chain);
}

#[test]
fn an_indexed_store_drops_its_indexes_and_builds_them_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open_with(dir.path(), &chain, None).expect("open");
    assert!(store.explorer_index(), "a new store keeps the indexes");
    let mut txids = Vec::new();
    for i in 0..15 {
        let txs = block_txs(&chain, i);
        let (block, _) = step(&mut chain, &store, txs);
        txids.extend(block.transactions.iter().map(|t| t.txid()));
    }
    assert!(store.tx_location(&txids[0]).expect("read").is_some());
    assert!(explorer_entries(&store) > 0);
    assert_indexes_exact(&store);
    drop(store);

    let store = open_with(dir.path(), &chain, Some(false)).expect("reopen dropping the indexes");
    assert!(!store.explorer_index());
    assert_eq!(explorer_entries(&store), 0, "every index entry is gone");
    assert_eq!(store.open_report().repaired, None);
    assert_state(&store, &chain);
    assert!(matches!(
        store.tx_location(&txids[0]),
        Err(StoreError::NoExplorerIndex)
    ));
    drop(store);

    // Asked for again, the indexes are built from the genesis block in the background,
    // while the chain goes on.
    let store = open_with(dir.path(), &chain, Some(true)).expect("reopen building the indexes");
    assert!(store.explorer_index());
    for i in 20..25 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    assert_state(&store, &chain);
    assert_indexes_exact(&store);
    assert!(store.tx_location(&txids[0]).expect("read").is_some());
    drop(store);

    // And they stay: reopened without saying, still exact.
    let store = open_with(dir.path(), &chain, None).expect("reopen");
    assert!(store.explorer_index());
    assert_indexes_exact(&store);
}

/// Schema 5 kept the explorer indexes in the chain's batches, with full locations in the
/// transaction index; schema 6 has the indexer write them. A schema-5 store is migrated on
/// open: its indexes are dropped (whatever they held) and rebuilt, the state untouched.
#[test]
fn a_schema_5_store_is_migrated_and_its_indexes_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    let mut txids = Vec::new();
    for i in 0..8 {
        let txs = block_txs(&chain, i);
        let (block, _) = step(&mut chain, &store, txs);
        txids.extend(block.transactions.iter().map(|t| t.txid()));
    }
    // The indexer idle at the tip, so nothing writes behind the raw edits.
    store
        .wait_indexed(std::time::Duration::from_secs(30))
        .expect("indexed");
    let tree = store.raw_tree_for_tests();
    tree.insert(SCHEMA_KEY, codec::encode(&5u32))
        .expect("write");
    // A transaction-index entry in a layout schema 6 cannot read, and no index tip.
    tree.insert([0x30u8, 0xaa, 0xbb], vec![0u8; 44])
        .expect("write");
    tree.remove([0x06u8]).expect("write");
    tree.flush().expect("flush");
    drop(store);

    let store = open_with(dir.path(), &chain, None).expect("a schema 5 store opens");
    assert_eq!(store.open_report().repaired, None);
    assert_state(&store, &chain);
    assert_indexes_exact(&store);
    assert!(store.tx_location(&txids[3]).expect("read").is_some());
    drop(store);
    let store = open_with(dir.path(), &chain, None).expect("and again, as schema 6");
    assert_indexes_exact(&store);
}

/// Schemas 3 and 4 kept the blocks inside the database; schema 5 keeps them in block files.
/// Such a data dir is refused with a message that says how to carry the chain over, and is
/// left exactly as it was (never half-migrated).
#[test]
fn an_older_schema_store_is_refused_untouched_with_how_to_carry_it_over() {
    for old in [3u32, 4] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut chain = test_chain();
        let store = open(dir.path(), &chain).expect("open");
        for i in 0..5 {
            let txs = block_txs(&chain, i);
            step(&mut chain, &store, txs);
        }
        let tree = store.raw_tree_for_tests();
        tree.insert(SCHEMA_KEY, codec::encode(&old)).expect("write");
        tree.flush().expect("flush");
        drop(store);
        let files_before = dir_bytes(&dir.path().join("blocks"));

        let err = open_with(dir.path(), &chain, None).expect_err("an old schema is refused");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema version {old}"))
                && msg.contains("export-blocks")
                && msg.contains("import-blocks"),
            "{msg}"
        );
        assert_eq!(dir_bytes(&dir.path().join("blocks")), files_before);
        // Still refused, and still version `old`: nothing was converted half-way.
        let err = open_with(dir.path(), &chain, None).expect_err("refused again");
        assert!(err.to_string().contains(&format!("schema version {old}")));
    }
}

fn dir_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}
