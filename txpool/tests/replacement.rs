//! Conflicts: replace-by-fee success and each failure mode.

mod common;

use common::*;
use tfchain_consensus::testkit::address_of;
use tfchain_txpool::{PoolConfig, PoolError};
use tfchain_types::{Condition, Currency, Fulfillment, KeySignature, Output, Signature};

#[test]
fn a_replacement_paying_enough_displaces_the_conflict_and_its_descendants() {
    let mut net = Net::new(3);
    let a = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let child = net.spend(&a, 0, 1, 2, TFT, MIN_FEE);
    let grandchild = net.spend(&child, 1, 1, 2, TFT, MIN_FEE);
    for tx in [&a, &child, &grandchild] {
        net.admit(tx.clone()).expect("admitted");
    }
    let b = net.pay(0, 2, 10 * TFT, Currency(4 * MIN_FEE.0));
    let adm = net.admit(b.clone()).expect("replacement pays more");
    assert_eq!(
        adm.replaced,
        vec![a.txid(), child.txid(), grandchild.txid()]
    );
    assert_eq!(net.pool.len(), 1);
    assert_eq!(net.pool.spender(&net.coin_of(0).0), Some(b.txid()));
    net.assert_consistent();
    net.mine_template();
    assert!(net.pool.is_empty());
}

#[test]
fn a_replacement_below_the_required_fee_rate_is_refused_and_says_what_to_pay() {
    let mut net = Net::new(2);
    let a = net.pay(0, 1, 10 * TFT, Currency(4 * MIN_FEE.0));
    net.admit(a.clone()).expect("admitted");
    // Same size, fee 1.2x: above the old fee, below 5/4 of its rate.
    let b = net.pay(0, 1, 9 * TFT, Currency(48 * MIN_FEE.0 / 10));
    let e = net.admit(b).expect_err("needs 5/4 of the rate");
    let PoolError::ReplacementFeeRateTooLow {
        conflict, min_fee, ..
    } = e.clone()
    else {
        panic!("wrong error: {e}");
    };
    assert_eq!(conflict, a.txid());
    assert_eq!(min_fee, Currency(5 * MIN_FEE.0), "5/4 of 4x the minimum");
    assert!(!e.is_sender_fault());
    assert!(net.pool.contains(&a.txid()));
    // Paying exactly the advertised fee works.
    let c = net.pay(0, 1, 9 * TFT, min_fee);
    net.admit(c).expect("the advertised fee is enough");
    net.assert_consistent();
}

#[test]
fn a_replacement_with_a_better_rate_but_less_total_fee_is_refused() {
    let mut net = Net::new(3);
    let a = net.pay(0, 1, 10 * TFT, MIN_FEE);
    let child = net.spend(&a, 0, 1, 2, TFT, Currency(10 * MIN_FEE.0));
    net.admit(a.clone()).expect("admitted");
    net.admit(child.clone()).expect("admitted");
    let b = net.pay(0, 1, 10 * TFT, Currency(2 * MIN_FEE.0));
    let e = net.admit(b).expect_err("must out-pay the child too");
    assert_eq!(
        e,
        PoolError::ReplacementFeeTooLow {
            fee: Currency(2 * MIN_FEE.0),
            displaced_fee: Currency(11 * MIN_FEE.0),
            count: 2,
        }
    );
    assert!(!e.is_sender_fault());
    assert_eq!(net.pool.len(), 2);
}

#[test]
fn a_replacement_displacing_too_many_is_refused() {
    let config = PoolConfig {
        max_replacements: 3,
        ..PoolConfig::default()
    };
    let mut net = Net::with_config(2, config);
    let chain = chain_of(&net, 0, 5, MIN_FEE);
    for tx in &chain {
        net.admit(tx.clone()).expect("admitted");
    }
    let b = net.pay(0, 1, TFT, Currency(100 * MIN_FEE.0));
    let e = net.admit(b).expect_err("would displace 5");
    assert_eq!(e, PoolError::TooManyReplacements { count: 5, max: 3 });
    assert!(!e.is_sender_fault());
    assert_eq!(net.pool.len(), 5);
}

#[test]
fn a_replacement_of_two_conflicts_must_beat_both() {
    let mut net = Net::new(3);
    let a = net.pay(0, 2, TFT, MIN_FEE);
    let b = net.pay(1, 2, TFT, Currency(3 * MIN_FEE.0));
    net.admit(a.clone()).expect("a");
    net.admit(b.clone()).expect("b");
    let (x0, v0) = net.coin_of(0);
    let (x1, v1) = net.coin_of(1);
    let genesis = net.params().genesis_id;
    let fee = Currency(45 * MIN_FEE.0 / 10);
    let mut tx = signed(
        &net.key(0),
        &[x0, x1],
        vec![Output {
            value: Currency(v0.0 + v1.0 - fee.0),
            condition: Condition::Address(address_of(&net.key(2))),
        }],
        fee,
        &genesis,
    );
    // Input 1 belongs to key 1: name its key, then both sign the final sighash.
    let keys = [net.key(0), net.key(1)];
    for (input, key) in tx.coin_inputs.iter_mut().zip(&keys) {
        input.fulfillment = Fulfillment::Signature(KeySignature {
            public_key: key.public_key(),
            signature: Signature::ZERO,
        });
    }
    let sighash = tx.sighash(&genesis);
    for (input, key) in tx.coin_inputs.iter_mut().zip(&keys) {
        input.fulfillment = Fulfillment::Signature(KeySignature {
            public_key: key.public_key(),
            signature: key.sign_hash(&sighash),
        });
    }
    // 4.5x the minimum fee over a ~1.3x larger transaction beats 5/4 of a's rate (1x) but
    // not 5/4 of b's (3x); its absolute fee beats both together (4x).
    let e = net.admit(tx).expect_err("b's rate is too high to beat");
    assert!(matches!(
        e,
        PoolError::ReplacementFeeRateTooLow { conflict, .. } if conflict == b.txid()
    ));
    assert_eq!(net.pool.len(), 2);
}
