//! The explorer indexer follows the chain on its own thread (issue #14 item 3): reads of
//! the indexes wait for it, and while it is behind they say how far it has got
//! (`IndexBehind`, which RPC answers as `UNAVAILABLE` with the index height). An open
//! reorganisation holds the indexer still, which makes "behind" reproducible here.

mod store_common;

use std::time::{Duration, Instant};
use store_common::*;
use tfchain_node::store::StoreError;

#[test]
fn reads_wait_for_the_indexer_and_say_how_far_it_is_while_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    for i in 0..5 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    store
        .wait_indexed(Duration::from_secs(30))
        .expect("the index reaches the tip");
    let indexed = store.tip().height;
    assert_eq!(store.index_status().tip.map(|t| t.height), Some(indexed));

    // Held still (as during a reorganisation), the index falls behind a new block.
    store.begin_reorg().expect("begin");
    let txs = block_txs(&chain, 5);
    let (block, _) = step(&mut chain, &store, txs);
    let txid = block.transactions[0].txid();
    let started = Instant::now();
    match store.tx_location(&txid) {
        Err(StoreError::IndexBehind { indexed: i, tip }) => {
            assert_eq!((i, tip), (Some(indexed), indexed + 1));
        }
        other => panic!("a transaction the index has not reached: {other:?}"),
    }
    assert!(
        started.elapsed() >= tfchain_node::store::INDEX_WAIT,
        "it waited for the indexer first"
    );
    let err = store
        .address_history(
            &tfchain_consensus::testkit::address_of(&chain.funded[0]),
            None,
            10,
        )
        .expect_err("history while behind");
    assert!(
        err.to_string()
            .contains(&format!("at height {indexed} of {}", indexed + 1)),
        "{err}"
    );
    // A transaction the index already has is answered at once.
    let old = store.block_at(1).expect("read").expect("block 1");
    if let Some(tx) = old.transactions.first() {
        assert!(store.tx_location(&tx.txid()).expect("read").is_some());
    }

    // Let go, it catches up, and the reads answer.
    store.end_reorg().expect("end");
    let loc = store
        .tx_location(&txid)
        .expect("read")
        .expect("indexed now");
    assert_eq!((loc.height, loc.block), (block.header.height, block.id()));
    assert_indexes_exact(&store);
}
