//! New tips and reorganisations: inclusion, conflicts, re-injection of disconnected blocks.

mod common;

use common::*;
use tfchain_consensus::testkit::address_of;
use tfchain_consensus::StateView;
use tfchain_txpool::{ChainAt, InternalError, PoolError};
use tfchain_types::{Condition, Currency, Output, OutputId};

#[test]
fn a_block_removes_what_it_includes_and_keeps_children_of_included_parents() {
    let mut net = Net::new(4);
    let parent = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let child = net.spend(&parent, 0, 1, 2, TFT, MIN_FEE);
    let other = net.pay(2, 3, TFT, MIN_FEE);
    for tx in [&parent, &child, &other] {
        net.admit(tx.clone()).expect("admitted");
    }
    let (_, r) = net.mine(vec![parent.clone(), other.clone()]);
    assert_eq!(r.included, vec![parent.txid(), other.txid()]);
    assert!(r.conflicts.is_empty());
    assert_eq!(net.pool.txids(), vec![child.txid()]);
    let info = net.pool.info(&child.txid()).expect("child stays");
    assert_eq!(info.ancestors.count, 1, "its parent is confirmed now");
    net.assert_consistent();
    net.mine_template();
    assert!(net.pool.is_empty());
}

#[test]
fn a_block_spending_what_the_pool_spends_removes_the_conflicts_and_descendants() {
    let mut net = Net::new(4);
    let a = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let a_child = net.spend(&a, 0, 1, 2, TFT, MIN_FEE);
    let keep = net.pay(2, 3, TFT, MIN_FEE);
    for tx in [&a, &a_child, &keep] {
        net.admit(tx.clone()).expect("admitted");
    }
    let rival = net.pay(0, 3, 20 * TFT, MIN_FEE);
    let (_, r) = net.mine(vec![rival]);
    assert!(r.included.is_empty());
    assert_eq!(r.conflicts, vec![a.txid(), a_child.txid()]);
    assert_eq!(net.pool.txids(), vec![keep.txid()]);
    net.assert_consistent();
}

#[test]
fn a_disconnected_block_brings_its_transactions_back_before_their_pool_children() {
    let mut net = Net::new(4);
    let parent = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let other = net.pay(2, 3, TFT, Currency(3 * MIN_FEE.0));
    let child = net.spend(&parent, 0, 1, 2, TFT, MIN_FEE);
    for tx in [&parent, &other] {
        net.admit(tx.clone()).expect("admitted");
    }
    let (block, _) = net.mine_template();
    assert!(net.pool.is_empty());
    net.admit(child.clone())
        .expect("child of a confirmed parent");
    assert_eq!(
        net.pool.info(&child.txid()).map(|i| i.ancestors.count),
        Some(1)
    );

    let r = net.undo(&block);
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    let mut back = r.admitted.clone();
    back.sort();
    let mut expected = vec![parent.txid(), other.txid(), child.txid()];
    expected.sort();
    assert_eq!(back, expected);
    assert_eq!(
        net.pool.info(&child.txid()).map(|i| i.ancestors.count),
        Some(2),
        "the child's parent is unconfirmed again"
    );
    assert_eq!(net.pool.tip(), Some(net.chain.state.tip().id));
    net.assert_consistent();
    let (_, r) = net.mine_template();
    assert_eq!(r.included.len(), 3);
}

#[test]
fn a_switch_to_a_rival_branch_drops_what_the_branch_double_spends() {
    let mut net = Net::new(4);
    let paid = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let safe = net.pay(2, 3, TFT, MIN_FEE);
    net.admit(paid.clone()).expect("admitted");
    net.admit(safe.clone()).expect("admitted");
    let (block, _) = net.mine_template();
    net.undo(&block);
    assert_eq!(net.pool.len(), 2);
    // The rival block double-spends `paid`'s input.
    let rival = net.pay(0, 3, 20 * TFT, MIN_FEE);
    let (_, r) = net.mine(vec![rival]);
    assert_eq!(r.conflicts, vec![paid.txid()]);
    assert_eq!(net.pool.txids(), vec![safe.txid()]);
    net.assert_consistent();
}

#[test]
fn spending_a_payout_is_held_back_while_immature_and_dropped_with_its_block() {
    let mut net = Net::new(2);
    let mut blocks = Vec::new();
    for _ in 0..5 {
        blocks.push(net.mine(vec![]).0);
    }
    // Block 1's reward matures at height 6, the next block's height.
    let first = &blocks[0];
    let key = net
        .chain
        .validators
        .iter()
        .find(|k| address_of(k) == first.header.reward_address)
        .cloned()
        .expect("a validator made the block");
    let reward = OutputId::for_payout(&first.id(), 0);
    let out = vec![Output {
        value: Currency(TFT - MIN_FEE.0),
        condition: Condition::Address(address_of(&key)),
    }];
    let spend = signed(&key, &[reward], out, MIN_FEE, &net.params().genesis_id);
    net.admit(spend.clone()).expect("mature at the next height");

    // Undo blocks 5..2: the payout is still there but immature for the next block.
    for b in blocks[1..].iter().rev() {
        let r = net.undo(b);
        assert!(r.dropped.is_empty());
        assert!(net.pool.contains(&spend.txid()));
        assert!(
            net.template().transactions.is_empty(),
            "immature: held back"
        );
    }
    let r = net.undo(first);
    assert!(r.admitted.is_empty());
    assert_eq!(r.dropped.len(), 1);
    assert_eq!(r.dropped[0].0, spend.txid());
    assert!(matches!(
        r.dropped[0].1,
        PoolError::Invalid(tfchain_consensus::TxError::MissingInput { .. })
    ));
    assert!(net.pool.is_empty());
    net.assert_consistent();
}

#[test]
fn tip_changes_must_be_reported_in_order() {
    let mut net = Net::new(2);
    net.admit(net.pay(0, 1, TFT, MIN_FEE)).expect("admitted");
    let (b1, _) = net.chain.next_block(vec![]);
    let now = b1.header.timestamp;
    net.chain
        .state
        .apply(&b1, &net.chain.params, now)
        .expect("b1");
    let (b2, _) = net.chain.next_block(vec![]);
    net.chain
        .state
        .apply(&b2, &net.chain.params, now + 10)
        .expect("b2");
    let chain = ChainAt::new(&net.chain.state, &net.chain.params);
    // b2 is the chain's tip but the pool never saw b1.
    assert!(matches!(
        net.pool.on_block_connected(&chain, &b2),
        Err(InternalError::OutOfSync { .. })
    ));
    // The chain handed over is not at b1.
    assert!(matches!(
        net.pool.on_block_connected(&chain, &b1),
        Err(InternalError::WrongTip { .. })
    ));
    assert_eq!(net.pool.len(), 1, "nothing changed");
}
