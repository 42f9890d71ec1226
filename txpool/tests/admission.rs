//! Admission: every refusal reason asserted by variant, with its sender-fault class.

mod common;

use common::*;
use tfchain_consensus::error::{ConditionError, Side};
use tfchain_consensus::testkit::address_of;
use tfchain_consensus::{StateView, TxError};
use tfchain_txpool::{ChainAt, InternalError, PoolConfig, PoolError};
use tfchain_types::{Condition, Currency, LockedCondition, Output, OutputId, Transaction};

#[test]
fn accepts_a_valid_payment_and_indexes_it() {
    let mut net = Net::new(4);
    let tx = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let txid = tx.txid();
    let a = net.admit(tx.clone()).expect("a valid payment is admitted");
    assert_eq!(a.txid, txid);
    assert!(a.replaced.is_empty() && a.evicted.is_empty());
    assert!(net.pool.contains(&txid));
    assert_eq!(net.pool.len(), 1);
    assert_eq!(net.pool.bytes(), tx.encoded_len() as u64);
    assert_eq!(net.pool.spender(&net.coin_of(0).0), Some(txid));
    let info = net.pool.info(&txid).expect("it is pooled");
    assert_eq!(info.fee, MIN_FEE);
    assert_eq!(info.ancestors.count, 1);
    net.assert_consistent();
}

#[test]
fn rejects_a_duplicate() {
    let mut net = Net::new(2);
    let tx = net.pay(0, 1, TFT, MIN_FEE);
    net.admit(tx.clone()).expect("first time");
    let e = net.admit(tx.clone()).expect_err("second time");
    assert_eq!(e, PoolError::AlreadyKnown { txid: tx.txid() });
    assert!(!e.is_sender_fault() && !e.is_internal());
}

#[test]
fn rejects_a_bad_signature_as_sender_fault() {
    let mut net = Net::new(2);
    let mut tx = net.pay(0, 1, TFT, MIN_FEE);
    if let tfchain_types::Fulfillment::Signature(ks) = &mut tx.coin_inputs[0].fulfillment {
        ks.signature.0[5] ^= 1;
    }
    let e = net.admit(tx).expect_err("bad signature");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::BadSignature
        })
    ));
    assert!(e.is_sender_fault());
    assert!(net.pool.is_empty());
}

#[test]
fn rejects_a_fee_below_the_minimum() {
    let mut net = Net::new(2);
    let tx = net.pay(0, 1, TFT, Currency(MIN_FEE.0 - 1));
    let e = net.admit(tx).expect_err("fee too low");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::FeeBelowMinimum { min, .. }) if min == MIN_FEE
    ));
    assert!(e.is_sender_fault());
}

#[test]
fn rejects_a_missing_input_without_blaming_the_sender() {
    let mut net = Net::new(2);
    let phantom = OutputId(tfchain_types::Hash([9; 32]));
    let tx = tfchain_consensus::testkit::payment(
        &[(phantom, Currency::from_tft(5))],
        &net.key(0),
        Condition::Address(address_of(&net.key(1))),
        Currency(TFT),
        MIN_FEE,
        &net.params().genesis_id,
    );
    let e = net.admit(tx).expect_err("unknown parent");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::MissingInput { .. })
    ));
    assert!(!e.is_sender_fault());
}

#[test]
fn rejects_a_blockstake_output_spent_as_coins() {
    let mut net = Net::new(2);
    let stake = net.chain.validator_stakes()[0].1;
    let key = net.chain.validators[0].clone();
    let genesis = net.params().genesis_id;
    let out = vec![Output {
        value: Currency(TFT),
        condition: Condition::Address(address_of(&key)),
    }];
    let tx = signed(&key, &[stake], out, MIN_FEE, &genesis);
    let e = net.admit(tx).expect_err("wrong kind");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::WrongInputKind { .. })
    ));
    assert!(e.is_sender_fault());
}

#[test]
fn rejects_an_imbalance() {
    let mut net = Net::new(2);
    let (id, value) = net.coin_of(0);
    let out = vec![Output {
        value: Currency(value.0), // no room left for the fee
        condition: Condition::Address(address_of(&net.key(1))),
    }];
    let tx = signed(&net.key(0), &[id], out, MIN_FEE, &net.params().genesis_id);
    let e = net.admit(tx).expect_err("outputs + fee exceed inputs");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::CoinImbalance { .. })
    ));
    assert!(e.is_sender_fault());
}

#[test]
fn rejects_an_oversized_transaction() {
    let mut net = Net::new(2);
    let key = net.key(0);
    let inputs: Vec<OutputId> = (0..=255u8)
        .map(|i| OutputId(tfchain_types::Hash([i; 32])))
        .collect();
    let outputs: Vec<Output> = (0..256)
        .map(|_| Output {
            value: Currency(TFT),
            condition: Condition::Address(address_of(&key)),
        })
        .collect();
    let tx = signed(&key, &inputs, outputs, MIN_FEE, &net.params().genesis_id);
    assert!(tx.encoded_len() > tfchain_types::limits::MAX_TX_SIZE);
    let e = net.admit(tx).expect_err("too large");
    assert!(matches!(e, PoolError::Invalid(TxError::TooLarge { .. })));
    assert!(e.is_sender_fault());
}

#[test]
fn rejects_an_immature_payout_without_blaming_the_sender() {
    let mut net = Net::new(2);
    let (block, _) = net.mine(vec![]);
    let key = net
        .chain
        .validators
        .iter()
        .find(|k| address_of(k) == block.header.reward_address)
        .cloned()
        .expect("a validator made the block");
    let reward = OutputId::for_payout(&block.id(), 0);
    let out = vec![Output {
        value: Currency(TFT - MIN_FEE.0),
        condition: Condition::Address(address_of(&key)),
    }];
    let tx = signed(&key, &[reward], out, MIN_FEE, &net.params().genesis_id);
    let e = net.admit(tx).expect_err("rewards mature after 5 blocks");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::ImmatureInput { .. })
    ));
    assert!(!e.is_sender_fault());
}

#[test]
fn rejects_spending_a_time_locked_pool_output_too_early() {
    let mut net = Net::new(2);
    let (id, value) = net.coin_of(0);
    let key = net.key(0);
    let locked = Condition::TimeLock {
        until: 1_000,
        inner: LockedCondition::Address(address_of(&key)),
    };
    let parent = tfchain_consensus::testkit::payment(
        &[(id, value)],
        &key,
        locked,
        Currency(10 * TFT),
        MIN_FEE,
        &net.params().genesis_id,
    );
    net.admit(parent.clone())
        .expect("paying to a time lock is fine");
    let child = net.spend(&parent, 0, 0, 1, TFT, MIN_FEE);
    let e = net.admit(child).expect_err("locked until height 1000");
    assert!(matches!(
        e,
        PoolError::Invalid(TxError::Fulfillment {
            source: ConditionError::TimeLocked { until: 1_000, .. },
            ..
        })
    ));
    assert!(!e.is_sender_fault());
}

#[test]
fn accepts_a_chain_of_25_and_refuses_the_26th() {
    let mut net = Net::new(2);
    let txs = chain_of(&net, 0, 26, MIN_FEE);
    for (i, tx) in txs.iter().take(25).enumerate() {
        net.admit(tx.clone())
            .unwrap_or_else(|e| panic!("chain link {i} refused: {e}"));
    }
    let last = net.pool.info(&txs[24].txid()).expect("25th pooled");
    assert_eq!(last.ancestors.count, 25);
    let e = net.admit(txs[25].clone()).expect_err("26th");
    assert_eq!(e, PoolError::TooManyAncestors { max: 25 });
    assert!(!e.is_sender_fault());
    assert_eq!(net.pool.len(), 25);
    net.assert_consistent();
}

#[test]
fn batch_admits_a_chain_given_children_first() {
    let mut net = Net::new(3);
    let mut txs = chain_of(&net, 0, 10, MIN_FEE);
    txs.reverse();
    let mut bad = net.pay(1, 2, TFT, MIN_FEE);
    bad.fee = Currency(MIN_FEE.0 + 1); // breaks the balance and the signature
    txs.push(bad);
    let now = net.now();
    let chain = ChainAt::new(&net.chain.state, &net.chain.params);
    let results = net.pool.admit_batch(&chain, txs.clone(), now);
    assert_eq!(results.len(), 11);
    for (r, tx) in results.iter().take(10).zip(&txs) {
        assert_eq!(r.as_ref().map(|a| a.txid), Ok(tx.txid()));
    }
    assert!(matches!(results[10], Err(PoolError::Invalid(_))));
    assert_eq!(net.pool.len(), 10);
    net.assert_consistent();
}

#[test]
fn batch_reports_missing_parents_and_duplicates_in_order() {
    let mut net = Net::new(3);
    let a = net.pay(0, 1, TFT, MIN_FEE);
    let orphan = net.spend(&net.pay(2, 2, TFT, MIN_FEE), 1, 2, 1, TFT, MIN_FEE);
    let now = net.now();
    let chain = ChainAt::new(&net.chain.state, &net.chain.params);
    let r = net
        .pool
        .admit_batch(&chain, vec![a.clone(), orphan, a.clone()], now);
    assert!(r[0].is_ok());
    assert!(matches!(
        r[1],
        Err(PoolError::Invalid(TxError::MissingInput { .. }))
    ));
    assert_eq!(r[2], Err(PoolError::AlreadyKnown { txid: a.txid() }));
}

#[test]
fn refuses_to_work_on_a_chain_it_has_not_followed() {
    let mut net = Net::new(3);
    let a = net.pay(0, 1, TFT, MIN_FEE);
    net.admit(a.clone()).expect("admitted");
    // The chain moves on without telling the pool.
    net.chain.produce(vec![a.clone()]).expect("block applies");
    let b = net.pay(1, 2, TFT, MIN_FEE);
    let e = net.admit(b.clone()).expect_err("pool is behind");
    assert!(matches!(
        e,
        PoolError::Internal(InternalError::OutOfSync { .. })
    ));
    assert!(e.is_internal() && !e.is_sender_fault());

    let chain = ChainAt::new(&net.chain.state, &net.chain.params);
    let report = net.pool.resync(&chain, net.chain.state.tip().timestamp + 1);
    assert!(report.admitted.is_empty());
    assert_eq!(
        report.dropped.len(),
        1,
        "the confirmed payment no longer fits"
    );
    assert!(net.pool.is_empty());
    net.admit(b).expect("in step again");
}

#[test]
fn a_double_spend_that_also_spends_its_victim_is_the_senders_fault() {
    let mut net = Net::new(2);
    let a = net.pay(0, 1, TFT, MIN_FEE);
    net.admit(a.clone()).expect("admitted");
    let (x, xv) = net.coin_of(0);
    let a_change = Transaction::coin_output_id(&a.txid(), 1);
    let total = xv.0 + a.coin_outputs[1].value.0;
    let fee = Currency(100 * MIN_FEE.0);
    let out = vec![Output {
        value: Currency(total - fee.0),
        condition: Condition::Address(address_of(&net.key(0))),
    }];
    let b = signed(
        &net.key(0),
        &[x, a_change],
        out,
        fee,
        &net.params().genesis_id,
    );
    let e = net.admit(b).expect_err("can never be valid");
    assert_eq!(e, PoolError::SpendsReplacedOutput { txid: a.txid() });
    assert!(e.is_sender_fault());
    assert!(net.pool.contains(&a.txid()));
}

#[test]
fn unconfirmed_parent_balance_is_validated_from_the_pool() {
    let mut net = Net::new(2);
    let parent = net.pay(0, 1, 10 * TFT, MIN_FEE);
    net.admit(parent.clone()).expect("parent");
    // Key 1 spends the 10 TFT it was paid, claiming 11: an imbalance.
    let id = Transaction::coin_output_id(&parent.txid(), 0);
    let out = vec![Output {
        value: Currency(11 * TFT),
        condition: Condition::Address(address_of(&net.key(1))),
    }];
    let tx = signed(&net.key(1), &[id], out, MIN_FEE, &net.params().genesis_id);
    assert!(matches!(
        net.admit(tx),
        Err(PoolError::Invalid(TxError::CoinImbalance { .. }))
    ));
    let ok = net.spend(&parent, 0, 1, 0, 5 * TFT, MIN_FEE);
    net.admit(ok)
        .expect("a correct spend of an unconfirmed output");
    let _ = PoolConfig::default();
}
