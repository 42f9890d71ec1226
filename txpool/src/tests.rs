//! Unit tests of the pool's internals: the consistency check the property tests rely on
//! must notice a corrupted index.

use crate::{ChainAt, InternalError, Pool, PoolConfig};
use tfchain_consensus::testkit::{address_of, payment, TestChain};
use tfchain_consensus::StateView;
use tfchain_types::{Condition, Currency};

fn pool_with_one() -> (Pool, tfchain_types::OutputId) {
    let chain = TestChain::new(&[10], 2, Currency::from_tft(100));
    let key = &chain.funded[0];
    let (id, e) = chain.spendable(&address_of(key)).remove(0);
    let tx = payment(
        &[(id, e.value)],
        key,
        Condition::Address(address_of(&chain.funded[1])),
        Currency::from_tft(1),
        chain.params.min_fee,
        &chain.params.genesis_id,
    );
    let mut pool = Pool::new(PoolConfig::default());
    let view = ChainAt::new(&chain.state, &chain.params);
    let now = chain.state.tip().timestamp + 1;
    pool.admit(&view, tx, now).expect("a valid payment");
    (pool, id)
}

#[test]
fn consistency_check_passes_on_a_sound_pool() {
    let (pool, _) = pool_with_one();
    assert_eq!(pool.check_consistency(), Ok(()));
}

#[test]
fn consistency_check_notices_a_lost_spend_index() {
    let (mut pool, id) = pool_with_one();
    pool.forget_spend_for_test(&id);
    assert!(matches!(
        pool.check_consistency(),
        Err(InternalError::Inconsistent { .. })
    ));
}

#[test]
fn consistency_check_notices_a_stale_eviction_index() {
    let (mut pool, _) = pool_with_one();
    pool.by_evict.clear();
    assert!(matches!(
        pool.check_consistency(),
        Err(InternalError::Inconsistent { .. })
    ));
}

#[test]
fn incoming_reads_the_address_index() {
    let chain = TestChain::new(&[10], 2, Currency::from_tft(100));
    let key = &chain.funded[0];
    let to = address_of(&chain.funded[1]);
    let (id, e) = chain.spendable(&address_of(key)).remove(0);
    let tx = payment(
        &[(id, e.value)],
        key,
        Condition::Address(to),
        Currency::from_tft(1),
        chain.params.min_fee,
        &chain.params.genesis_id,
    );
    let txid = tx.txid();
    let mut pool = Pool::new(PoolConfig::default());
    assert!(pool.incoming(&to).is_empty());
    let view = ChainAt::new(&chain.state, &chain.params);
    let now = chain.state.tip().timestamp + 1;
    pool.admit(&view, tx, now).expect("a valid payment");
    assert_eq!(pool.incoming(&to), vec![Currency::from_tft(1).0]);
    // The change goes back to the sender.
    assert_eq!(pool.incoming(&address_of(key)).len(), 1);
    assert_eq!(pool.check_consistency(), Ok(()));
    pool.remove(&txid);
    assert!(pool.incoming(&to).is_empty());
    assert!(pool.incoming(&address_of(key)).is_empty());
    assert_eq!(pool.check_consistency(), Ok(()));
}

#[test]
fn consistency_check_notices_a_lost_address_index() {
    let (mut pool, _) = pool_with_one();
    pool.paid_to.clear();
    assert!(matches!(
        pool.check_consistency(),
        Err(InternalError::Inconsistent { .. })
    ));
}

#[test]
fn first_txids_pages_the_admission_order() {
    let (pool, _) = pool_with_one();
    let all = pool.txids();
    assert_eq!(all.len(), 1);
    assert_eq!(pool.first_txids(1), all);
    assert!(pool.first_txids(0).is_empty());
    assert_eq!(pool.first_txids(10), all);
}

#[test]
fn consistency_check_notices_a_lost_admission_order_index() {
    let (mut pool, _) = pool_with_one();
    pool.by_seq.clear();
    assert!(matches!(
        pool.check_consistency(),
        Err(InternalError::Inconsistent { .. })
    ));
}
