//! Block templates: they apply with `apply_block`, choose by ancestor-package fee rate,
//! respect the size limit and the block's time.

mod common;

use common::*;
use tfchain_consensus::testkit::{address_of, payment};
use tfchain_consensus::{SpendContext, StateView};
use tfchain_txpool::{block_overhead, FeeRate};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{
    AtomicSwapCondition, Condition, Currency, Fulfillment, Input, Output, Secret, Signature,
    Transaction, TX_VERSION,
};

fn fee(mult: u128) -> Currency {
    Currency(mult * MIN_FEE.0)
}

#[test]
fn a_template_of_chains_and_payments_applies_and_empties_the_pool() {
    let mut net = Net::new(8);
    let mut all = Vec::new();
    for k in 0..3 {
        all.extend(chain_of(&net, k, 6, fee(1 + k as u128)));
    }
    for k in 3..8 {
        all.push(net.pay(k, 0, TFT, fee(k as u128)));
    }
    for tx in &all {
        net.admit(tx.clone()).expect("admitted");
    }
    let t = net.template();
    assert_eq!(txid_set(&t.transactions), txid_set(&all));
    let pos = |txid| t.txids.iter().position(|t| *t == txid);
    for tx in &all {
        for input in &tx.coin_inputs {
            if let Some(parent) = all.iter().find(|p| {
                (0..p.coin_outputs.len())
                    .any(|i| Transaction::coin_output_id(&p.txid(), i) == input.parent)
            }) {
                assert!(pos(parent.txid()) < pos(tx.txid()), "parents first");
            }
        }
    }
    let (block, report) = net.mine(t.transactions.clone());
    assert_eq!(
        block.encoded_len(),
        t.block_size,
        "size accounting is exact"
    );
    assert_eq!(report.included.len(), all.len());
    assert!(net.pool.is_empty());
    net.assert_consistent();
}

#[test]
fn a_child_pays_for_its_parent() {
    let mut net = Net::new(4);
    let parent = net.pay(0, 1, 10 * TFT, fee(1));
    let child = net.spend(&parent, 0, 1, 2, TFT, fee(100));
    let single = net.pay(2, 3, TFT, fee(10));
    for tx in [&single, &parent, &child] {
        net.admit(tx.clone()).expect("admitted");
    }
    let room = block_overhead() + parent.encoded_len() + child.encoded_len();
    assert!(
        single.encoded_len() > 50,
        "room for the pair leaves none for the single"
    );
    let t = net.pool.block_template(net.next_ctx(), room + 50);
    assert_eq!(t.txids, vec![parent.txid(), child.txid()]);
    assert_eq!(t.fees, fee(101));
    net.mine(t.transactions);
    assert_eq!(net.pool.txids(), vec![single.txid()]);
}

#[test]
fn a_small_template_takes_the_highest_rates_within_the_limit() {
    let mut net = Net::new(21);
    let mults = [
        7, 3, 15, 1, 9, 12, 4, 20, 2, 11, 6, 18, 5, 8, 13, 10, 16, 14, 19, 17,
    ];
    let txs: Vec<Transaction> = mults
        .iter()
        .enumerate()
        .map(|(k, m)| net.pay(k, 20, TFT, fee(*m)))
        .collect();
    for tx in &txs {
        net.admit(tx.clone()).expect("admitted");
    }
    let limit = block_overhead() + 5 * txs[0].encoded_len() + 10;
    let t = net.pool.block_template(net.next_ctx(), limit);
    assert_eq!(t.transactions.len(), 5);
    assert!(t.block_size <= limit);
    let rate = |tx: &Transaction| FeeRate::new(tx.fee, tx.encoded_len() as u64);
    let lowest_in = t.transactions.iter().map(rate).min().expect("non-empty");
    let highest_out = txs
        .iter()
        .filter(|tx| !t.txids.contains(&tx.txid()))
        .map(rate)
        .max()
        .expect("some left out");
    assert!(lowest_in >= highest_out);
    assert_eq!(
        net.pool.block_template(net.next_ctx(), limit),
        t,
        "deterministic"
    );
    net.mine(t.transactions);
    assert_eq!(net.pool.len(), 15);
}

#[test]
fn an_empty_pool_gives_an_empty_template() {
    let net = Net::new(1);
    let t = net.pool.block_template(net.next_ctx(), MAX_BLOCK_SIZE);
    assert!(t.transactions.is_empty());
    assert_eq!(t.block_size, block_overhead());
}

/// Key 0 locks 10 TFT in an atomic swap for key 1 with `timeout`, confirmed in a block.
fn confirmed_swap(
    net: &mut Net,
    secret: &Secret,
    timeout: u64,
) -> (Transaction, AtomicSwapCondition) {
    let swap = AtomicSwapCondition {
        sender: address_of(&net.key(0)),
        receiver: address_of(&net.key(1)),
        hashed_secret: secret.hashed(),
        timeout,
    };
    let (id, value) = net.coin_of(0);
    let lock = payment(
        &[(id, value)],
        &net.key(0),
        Condition::AtomicSwap(swap.clone()),
        Currency(10 * TFT),
        MIN_FEE,
        &net.params().genesis_id,
    );
    net.mine(vec![lock.clone()]);
    (lock, swap)
}

fn claim(net: &Net, lock: &Transaction, secret: &Secret) -> Transaction {
    let key = net.key(1);
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: vec![Input {
            parent: Transaction::coin_output_id(&lock.txid(), 0),
            fulfillment: Fulfillment::Claim {
                public_key: key.public_key(),
                signature: Signature::ZERO,
                secret: *secret,
            },
        }],
        coin_outputs: vec![Output {
            value: Currency(10 * TFT - MIN_FEE.0),
            condition: Condition::Address(address_of(&key)),
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: MIN_FEE,
        arbitrary_data: vec![],
        grid_ops: vec![],
    };
    let sig = key.sign_hash(&tx.sighash(&net.params().genesis_id));
    tx.coin_inputs[0].fulfillment = Fulfillment::Claim {
        public_key: key.public_key(),
        signature: sig,
        secret: *secret,
    };
    tx
}

#[test]
fn a_swap_claim_leaves_templates_at_its_timeout_and_the_pool_after() {
    let mut net = Net::new(2);
    let secret = Secret([7; 32]);
    let timeout = net.chain.state.tip().timestamp + 30;
    let (lock, _) = confirmed_swap(&mut net, &secret, timeout);
    let claim = claim(&net, &lock, &secret);
    let spend = net.spend(&claim, 0, 1, 0, TFT, MIN_FEE);
    net.admit(claim.clone())
        .expect("a claim before the timeout");
    net.admit(spend.clone()).expect("and a child of it");

    let height = net.chain.state.tip().height + 1;
    let before = SpendContext {
        height,
        timestamp: timeout - 1,
    };
    let at = SpendContext {
        height,
        timestamp: timeout,
    };
    assert_eq!(
        net.pool.block_template(before, MAX_BLOCK_SIZE).txids,
        vec![claim.txid(), spend.txid()]
    );
    assert!(net
        .pool
        .block_template(at, MAX_BLOCK_SIZE)
        .transactions
        .is_empty());

    // Once the next block cannot be earlier than the timeout, the claim is dropped.
    let mut dropped = Vec::new();
    while net.pool.contains(&claim.txid()) {
        assert!(
            net.chain.state.tip().timestamp < timeout + 10,
            "dropped by the timeout"
        );
        let (_, r) = net.mine(vec![]);
        dropped.extend(r.timed_out);
    }
    assert!(net.chain.state.tip().timestamp + 1 >= timeout);
    assert_eq!(dropped, vec![claim.txid(), spend.txid()]);
    net.assert_consistent();
}
