//! Limits: eviction by fee rate, refusal below the eviction rate, a full pool, expiry.

mod common;

use common::*;
use tfchain_txpool::{PoolConfig, PoolError};
use tfchain_types::Currency;

fn capped(count: usize) -> PoolConfig {
    PoolConfig {
        max_count: count,
        ..PoolConfig::default()
    }
}

fn fee(mult: u128) -> Currency {
    Currency(mult * MIN_FEE.0)
}

#[test]
fn a_full_pool_evicts_the_lowest_rate_for_a_better_one() {
    let mut net = Net::with_config(6, capped(3));
    let txs: Vec<_> = [2, 3, 4]
        .iter()
        .enumerate()
        .map(|(k, m)| net.pay(k, 5, TFT, fee(*m)))
        .collect();
    for tx in &txs {
        net.admit(tx.clone()).expect("room");
    }
    let better = net.pay(3, 5, TFT, fee(5));
    let a = net.admit(better.clone()).expect("beats the lowest");
    assert_eq!(a.evicted, vec![txs[0].txid()]);
    assert_eq!(net.pool.len(), 3);
    assert!(net.pool.contains(&better.txid()));
    net.assert_consistent();
}

#[test]
fn a_newcomer_below_the_eviction_rate_is_refused_with_the_fee_to_pay() {
    let mut net = Net::with_config(6, capped(3));
    for (k, m) in [2, 3, 4].iter().enumerate() {
        net.admit(net.pay(k, 5, TFT, fee(*m))).expect("room");
    }
    let low = net.pay(3, 5, TFT, fee(2));
    let e = net.admit(low).expect_err("not above the floor");
    let PoolError::FeeRateBelowEvictionRate { min_fee, .. } = e.clone() else {
        panic!("wrong error: {e}");
    };
    assert!(!e.is_sender_fault());
    assert_eq!(
        min_fee,
        Currency(fee(2).0 + 1),
        "just above the lowest rate"
    );
    assert_eq!(net.pool.len(), 3);
    let ok = net.pay(3, 5, TFT, min_fee);
    let a = net.admit(ok).expect("the advertised fee is enough");
    assert_eq!(a.evicted.len(), 1);
}

#[test]
fn eviction_takes_a_low_parent_with_its_descendants() {
    let mut net = Net::with_config(6, capped(4));
    let parent = net.pay(0, 1, 10 * TFT, fee(1));
    // The child's own rate (2x) is above the parent's package rate (1.5x): the parent,
    // the lowest key, goes, and takes its child along.
    let child = net.spend(&parent, 1, 0, 1, TFT, fee(2));
    let others: Vec<_> = (1..3).map(|k| net.pay(k, 5, TFT, fee(6))).collect();
    for tx in [&parent, &child].into_iter().chain(&others) {
        net.admit(tx.clone()).expect("room");
    }
    let a = net
        .admit(net.pay(3, 5, TFT, fee(6)))
        .expect("evicts the low package");
    assert_eq!(a.evicted, vec![parent.txid(), child.txid()]);
    assert_eq!(net.pool.len(), 3);
    net.assert_consistent();
}

#[test]
fn a_child_paying_for_its_parent_protects_it_from_eviction() {
    let mut net = Net::with_config(6, capped(4));
    let parent = net.pay(0, 1, 10 * TFT, fee(1));
    let child = net.spend(&parent, 1, 0, 1, TFT, fee(40));
    let mid = net.pay(1, 5, TFT, fee(3));
    let high = net.pay(2, 5, TFT, fee(10));
    for tx in [&parent, &child, &mid, &high] {
        net.admit(tx.clone()).expect("room");
    }
    let a = net.admit(net.pay(3, 5, TFT, fee(5))).expect("beats mid");
    assert_eq!(
        a.evicted,
        vec![mid.txid()],
        "the parent's package rate is high"
    );
    assert!(net.pool.contains(&parent.txid()));
}

#[test]
fn a_transaction_larger_than_the_pool_cannot_fit() {
    let config = PoolConfig {
        max_bytes: 100,
        ..PoolConfig::default()
    };
    let mut net = Net::with_config(2, config);
    let e = net
        .admit(net.pay(0, 1, TFT, MIN_FEE))
        .expect_err("bigger than the pool");
    assert!(matches!(e, PoolError::PoolFull { .. }));
    assert!(!e.is_sender_fault());
    assert!(net.pool.is_empty());
}

#[test]
fn a_transaction_whose_only_room_is_its_own_ancestry_cannot_fit() {
    let mut net = Net::with_config(2, capped(2));
    let txs = chain_of(&net, 0, 3, fee(1));
    net.admit(txs[0].clone()).expect("room");
    net.admit(txs[1].clone()).expect("room");
    let e = net
        .admit(txs[2].clone())
        .expect_err("would have to evict its parents");
    assert!(matches!(e, PoolError::PoolFull { .. }));
    assert_eq!(net.pool.len(), 2);
    net.assert_consistent();
}

#[test]
fn byte_cap_evicts_by_rate_too() {
    let mut net = Net::new(6);
    let sample = net.pay(0, 5, TFT, fee(1));
    let size = sample.encoded_len() as u64;
    let config = PoolConfig {
        max_bytes: 3 * size,
        ..PoolConfig::default()
    };
    net.pool = tfchain_txpool::Pool::new(config);
    let txs: Vec<_> = [4, 2, 3]
        .iter()
        .enumerate()
        .map(|(k, m)| net.pay(k, 5, TFT, fee(*m)))
        .collect();
    for tx in &txs {
        net.admit(tx.clone()).expect("room");
    }
    let a = net
        .admit(net.pay(3, 5, TFT, fee(5)))
        .expect("evicts the 2x");
    assert_eq!(a.evicted, vec![txs[1].txid()]);
    assert!(net.pool.bytes() <= 3 * size);
}

#[test]
fn transactions_expire_with_their_descendants() {
    let config = PoolConfig {
        expiry_blocks: 2,
        ..PoolConfig::default()
    };
    let mut net = Net::with_config(3, config);
    let old = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let child = net.spend(&old, 1, 0, 1, TFT, MIN_FEE);
    net.admit(old.clone()).expect("admitted at height 0");
    let (_, r) = net.mine(vec![]);
    assert!(r.expired.is_empty());
    net.admit(child.clone()).expect("admitted at height 1");
    let young = net.pay(2, 1, TFT, MIN_FEE);
    net.admit(young.clone()).expect("admitted at height 1");
    let (_, r) = net.mine(vec![]);
    assert_eq!(r.expired, vec![old.txid(), child.txid()]);
    assert!(net.pool.contains(&young.txid()));
    let (_, r) = net.mine(vec![]);
    assert_eq!(r.expired, vec![young.txid()]);
    assert!(net.pool.is_empty());
    net.assert_consistent();
}

#[test]
fn min_fee_to_enter_reports_the_floor_only_when_full() {
    let mut net = Net::with_config(4, capped(2));
    let tx = net.pay(0, 3, TFT, fee(2));
    let size = tx.encoded_len() as u64;
    assert_eq!(net.pool.min_fee_to_enter(size), None);
    net.admit(tx).expect("room");
    net.admit(net.pay(1, 3, TFT, fee(3))).expect("room");
    assert_eq!(
        net.pool.min_fee_to_enter(size),
        Some(Currency(fee(2).0 + 1))
    );
}
