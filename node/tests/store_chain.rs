//! The store against the in-memory reference state: commit, undo, re-apply, reopen, and the
//! explorer indexes.

mod store_common;

use store_common::*;
use tfchain_consensus::StateView;
use tfchain_node::store::{BlockStatus, HistoryCursor, HistorySource, StoreError};
use tfchain_types::{Block, Transaction};

#[test]
fn fifty_blocks_match_memory_then_undo_twenty_and_reapply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    assert_eq!(store.open_report().repaired, None);
    assert_same(&store, &chain.state);

    let mut blocks: Vec<Block> = Vec::new();
    let mut stake_moves = 0;
    for i in 0..50 {
        let txs = block_txs(&chain, i);
        stake_moves += txs
            .iter()
            .filter(|t| !t.blockstake_inputs.is_empty())
            .count();
        let (block, _) = step(&mut chain, &store, txs);
        assert_same(&store, &chain.state);
        blocks.push(block);
    }
    assert!(stake_moves > 0, "the run moved blockstakes at least once");
    assert!(
        blocks.iter().map(|b| b.transactions.len()).sum::<usize>() > 50,
        "the run carried payments"
    );
    assert_indexes_exact(&store);

    // Every transaction is indexed where it is.
    for block in &blocks {
        for (pos, tx) in block.transactions.iter().enumerate() {
            let loc = store
                .tx_location(&tx.txid())
                .expect("read")
                .expect("indexed");
            assert_eq!(
                (loc.height, loc.block, loc.position),
                (block.height(), block.id(), pos as u32)
            );
            let (found, _) = store.transaction(&tx.txid()).expect("read").expect("found");
            assert_eq!(&found, tx);
        }
    }

    // Undo 20 blocks, comparing with the memory state after each.
    for _ in 0..20 {
        let undone = store.undo_tip().expect("undo");
        assert_eq!(Some(&undone), blocks.last());
        assert!(chain.state.undo_tip());
        assert_same(&store, &chain.state);
        let entry = store
            .index_entry(&undone.id())
            .expect("read")
            .expect("kept");
        assert_eq!(entry.status, BlockStatus::Stored);
        assert!(store.has_block(&undone.id()).expect("read"), "body kept");
        for tx in &undone.transactions {
            assert_eq!(store.tx_location(&tx.txid()).expect("read"), None);
        }
        blocks.pop();
    }
    assert_eq!(store.tip().height, 30);
    assert_indexes_exact(&store);

    // Re-apply 20 new blocks on top (the view validates against the rolled-back state).
    for i in 100..120 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
        assert_same(&store, &chain.state);
    }
    assert_indexes_exact(&store);
}

#[test]
fn undone_blocks_can_be_committed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    let mut log = Vec::new();
    for i in 0..12 {
        let txs = block_txs(&chain, i);
        log.push(step(&mut chain, &store, txs));
    }
    let before = chain.state.clone();
    for _ in 0..5 {
        store.undo_tip().expect("undo");
        chain.state.undo_tip();
    }
    // Re-apply the very same blocks (as after a reorg back to them).
    for (block, _) in &log[7..] {
        let view = store.view();
        let outcome =
            tfchain_consensus::apply_block(&view, block, &chain.params, block.header.timestamp);
        view.finish().expect("reads");
        let outcome = outcome.expect("still valid");
        store.commit_block(block, &outcome).expect("commit");
        chain.state.commit(&outcome);
    }
    assert_eq!(chain.state, before);
    assert_same(&store, &before);
    assert_indexes_exact(&store);
}

#[test]
fn commit_refuses_blocks_that_do_not_extend_the_tip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    let (b1, o1) = step(&mut chain, &store, vec![]);
    // The same block again: its parent is no longer the tip.
    match store.commit_block(&b1, &o1) {
        Err(StoreError::NotTip { tip_height: 1, .. }) => {}
        other => panic!("expected NotTip, got {other:?}"),
    }
    // A valid child with someone else's outcome.
    let (b2, _) = chain.next_block(vec![]);
    match store.commit_block(&b2, &o1) {
        Err(StoreError::OutcomeMismatch { .. }) => {}
        other => panic!("expected OutcomeMismatch, got {other:?}"),
    }
    assert_same(&store, &chain.state);
    // Undo at genesis and a too-deep rollback are refused without changing anything.
    assert!(matches!(
        store.rollback(2),
        Err(StoreError::RollbackTooDeep {
            requested: 2,
            tip_height: 1
        })
    ));
    assert_eq!(store.rollback(1).expect("rollback").height, 0);
    assert!(matches!(store.undo_tip(), Err(StoreError::UndoGenesis)));
    chain.state.undo_tip();
    assert_same(&store, &chain.state);
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let mut blocks = Vec::new();
    let (history_before, totals, tip) = {
        let store = open(dir.path(), &chain).expect("open");
        for i in 0..25 {
            let txs = block_txs(&chain, i);
            blocks.push(step(&mut chain, &store, txs).0);
        }
        store.flush().expect("flush");
        let a = tfchain_consensus::testkit::address_of(&chain.funded[0]);
        (
            store.address_history(&a, None, 1_000).expect("history").0,
            store.totals(),
            store.tip(),
        )
    };
    let store = open(dir.path(), &chain).expect("reopen");
    let report = store.open_report().clone();
    assert_eq!(report.repaired, None);
    assert_eq!(report.tip_height, 25);
    assert_eq!(
        (report.coins, report.blockstakes),
        (totals.coins, totals.blockstakes)
    );
    assert_eq!(store.tip(), tip);
    assert_eq!(store.totals(), totals);
    assert_same(&store, &chain.state);
    assert_indexes_exact(&store);
    let a = tfchain_consensus::testkit::address_of(&chain.funded[0]);
    assert_eq!(
        store.address_history(&a, None, 1_000).expect("history").0,
        history_before
    );
    for b in &blocks {
        assert_eq!(store.block(&b.id()).expect("read").as_ref(), Some(b));
        assert_eq!(store.block_at(b.height()).expect("read").as_ref(), Some(b));
        let h = store.header_at(b.height()).expect("read").expect("header");
        assert_eq!((&h.header, h.signature), (&b.header, b.signature));
        for tx in &b.transactions {
            assert!(store.tx_location(&tx.txid()).expect("read").is_some());
        }
    }
    // And the chain goes on after a reopen.
    let txs = block_txs(&chain, 99);
    step(&mut chain, &store, txs);
    assert_same(&store, &chain.state);
}

#[test]
fn address_history_pages_return_every_entry_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    for i in 0..30 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    let addresses: Vec<_> = chain
        .funded
        .iter()
        .chain(&chain.validators)
        .map(tfchain_consensus::testkit::address_of)
        .collect();
    for a in &addresses {
        let (all, next) = store.address_history(a, None, usize::MAX).expect("all");
        assert_eq!(next, None);
        assert!(!all.is_empty(), "every test address has history");
        assert!(
            all.windows(2).all(|w| w[0].cursor() < w[1].cursor()),
            "strictly increasing (height, position)"
        );
        for limit in [1, 2, 3, 7] {
            let mut got = Vec::new();
            let mut cursor: Option<HistoryCursor> = None;
            loop {
                let (page, next) = store.address_history(a, cursor, limit).expect("page");
                assert!(page.len() <= limit);
                got.extend(page);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(got, all, "ascending pages, limit {limit}");

            let mut got = Vec::new();
            let mut cursor = None;
            loop {
                let (page, next) = store.address_history_rev(a, cursor, limit).expect("page");
                got.extend(page);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            got.reverse();
            assert_eq!(got, all, "descending pages, limit {limit}");
        }
    }

    // The history sums up to the address's balance.
    for a in &addresses {
        let (all, _) = store.address_history(a, None, usize::MAX).expect("all");
        let received: u128 = all.iter().map(|e| e.entry.received.0).sum();
        let sent: u128 = all.iter().map(|e| e.entry.sent.0).sum();
        let balance: u128 = chain
            .state
            .coins
            .values()
            .filter(|e| e.condition.address() == *a)
            .map(|e| e.value.0)
            .sum();
        assert_eq!(received - sent, balance, "history of {a} adds up");
        let stake_in: u64 = all.iter().map(|e| e.entry.blockstakes_received).sum();
        let stake_out: u64 = all.iter().map(|e| e.entry.blockstakes_sent).sum();
        let staked = stake_in - stake_out;
        let stake_balance: u64 = chain
            .state
            .stakes
            .values()
            .filter(|e| e.condition.address() == *a)
            .map(|e| e.value)
            .sum();
        assert_eq!(staked, stake_balance, "blockstake history of {a} adds up");
    }
    // Validators' rewards appear as payout entries after the block's transactions.
    let v0 = tfchain_consensus::testkit::address_of(&chain.validators[0]);
    let (all, _) = store.address_history(&v0, None, usize::MAX).expect("all");
    let payout = all
        .iter()
        .find(|e| e.entry.source == HistorySource::Payouts)
        .expect("validator 0 produced a block");
    let block = store.block_at(payout.height).expect("read").expect("block");
    assert_eq!(payout.position as usize, block.transactions.len());
    assert!(payout.entry.received >= chain.params.block_reward);
}

#[test]
fn view_reads_the_chain_like_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    for i in 0..15 {
        let txs: Vec<Transaction> = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    let view = store.view();
    assert_eq!(view.tip(), chain.state.tip());
    for h in 0..=16 {
        assert_eq!(view.block_at(h), chain.state.block_at(h));
    }
    view.finish().expect("no read failed");
}

#[test]
fn side_blocks_invalid_marks_and_equivocation_evidence() {
    use tfchain_consensus::equivocation::SignedHeader;
    use tfchain_node::store::BlockIndexEntry;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    for i in 0..3 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    // A competing child of the tip, kept as a side block.
    let (side, v) = chain.next_block(vec![]);
    let meta =
        tfchain_consensus::apply_block(&chain.state, &side, &chain.params, side.header.timestamp)
            .expect("valid")
            .meta;
    let entry = BlockIndexEntry {
        meta: meta.clone(),
        parent: side.header.parent,
        status: BlockStatus::Stored,
    };
    store
        .store_side_block(&side, entry.clone())
        .expect("side block");
    assert_eq!(store.index_entry(&side.id()).expect("read"), Some(entry));
    assert_eq!(store.block(&side.id()).expect("read"), Some(side.clone()));
    assert_eq!(
        store.header(&side.id()).expect("read").map(|h| h.header),
        Some(side.header.clone())
    );
    assert_eq!(store.tip().height, 3, "a side block does not move the tip");
    assert!(matches!(
        store.store_side_block(
            &side,
            BlockIndexEntry {
                meta: meta.clone(),
                parent: side.header.parent,
                status: BlockStatus::OnMain
            }
        ),
        Err(StoreError::OutcomeMismatch { .. })
    ));
    store.mark_invalid(&side.id()).expect("mark invalid");
    assert_eq!(
        store
            .index_entry(&side.id())
            .expect("read")
            .map(|e| e.status),
        Some(BlockStatus::Invalid)
    );
    let main_tip = store.tip().id;
    assert!(matches!(
        store.mark_invalid(&main_tip),
        Err(StoreError::OnMainChain(_))
    ));
    assert!(matches!(
        store.mark_invalid(&tfchain_types::BlockId::ZERO),
        Err(StoreError::NotFound { .. })
    ));

    // The same validator signs a second header at the same height: equivocation.
    let key = &chain.validators[v];
    let mut other = side.header.clone();
    other.timestamp += 1;
    let first = SignedHeader {
        header: side.header.clone(),
        signature: side.signature,
    };
    let second = SignedHeader {
        signature: key.sign_hash(&other.id().0),
        header: other,
    };
    assert!(store.put_equivocation(&first, &second).expect("stored"));
    assert!(!store
        .put_equivocation(&second, &first)
        .expect("kept the first"));
    assert!(
        store.put_equivocation(&first, &first).is_err(),
        "not an equivocation"
    );
    let all = store.equivocations().expect("read");
    assert_eq!(all.len(), 1);
    assert_eq!(
        (
            all[0].height,
            all[0].stake_output,
            &all[0].first,
            &all[0].second
        ),
        (4, side.header.stake_output, &first, &second)
    );
    drop(store);
    let store = open(dir.path(), &chain).expect("reopen");
    assert_eq!(store.equivocations().expect("read").len(), 1);
    assert_eq!(
        store
            .index_entry(&side.id())
            .expect("read")
            .map(|e| e.status),
        Some(BlockStatus::Invalid)
    );
}
