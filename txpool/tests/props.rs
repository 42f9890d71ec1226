//! Property tests: random admission sequences (payments, chains, double spends, blocks,
//! reorgs) keep the pool consistent, never let two transactions spend one output, always
//! give templates that `apply_block` accepts, bring disconnected transactions back; and
//! eviction keeps the highest fee rates.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use tfchain_consensus::testkit::sign_all;
use tfchain_txpool::{FeeRate, PoolConfig, PoolError};
use tfchain_types::{Block, Currency, Transaction, TxId};

const KEYS: usize = 6;

/// Failing cases are saved where the repository keeps them (run from the crate root).
fn persistence() -> Option<Box<dyn proptest::test_runner::FailurePersistence>> {
    Some(Box::new(
        proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/props.txt"),
    ))
}

#[derive(Clone, Debug)]
enum Op {
    /// Key `key` pays from its genesis output (again: a double spend of the earlier one).
    Pay { key: usize, fee: u128, amount: u128 },
    /// Spend the change of the `pick`-th transaction made so far.
    Child { pick: usize, fee: u128 },
    /// Mine the pool's template.
    Mine,
    /// Undo the last mined block.
    Undo,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS, 1u128..40, 1u128..50).prop_map(|(key, fee, amount)| Op::Pay { key, fee, amount }),
        4 => (any::<usize>(), 1u128..40).prop_map(|(pick, fee)| Op::Child { pick, fee }),
        1 => Just(Op::Mine),
        1 => Just(Op::Undo),
    ]
}

fn assert_no_double_spend(net: &Net) {
    let mut seen = BTreeSet::new();
    for txid in net.pool.txids() {
        let tx = net.pool.transaction(&txid).expect("listed");
        for i in tx.coin_inputs.iter().chain(&tx.blockstake_inputs) {
            assert!(
                seen.insert(i.parent),
                "two pool transactions spend {}",
                i.parent
            );
        }
    }
}

/// Runs `ops` on a fresh network with `config`, checking every invariant after each step.
/// With a roomy pool, every transaction of an undone block must come back; with a capped
/// one, only those not refused or evicted by the limits (or whose parent was).
fn run_ops(ops: Vec<Op>, config: PoolConfig) -> Result<(), TestCaseError> {
    let roomy = config.max_count >= 1_000;
    let cap = config.max_count;
    let mut net = Net::with_config(KEYS, config);
    // (transaction, key owning its change output 1)
    let mut made: Vec<(Transaction, usize)> = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    for op in ops {
        match op {
            Op::Pay { key, fee, amount } => {
                let fee = Currency(fee * MIN_FEE.0);
                let tx = net.pay(key, (key + 1) % KEYS, amount * TFT, fee);
                let _ = net.admit(tx.clone());
                made.push((tx, key));
            }
            Op::Child { pick, fee } => {
                if made.is_empty() {
                    continue;
                }
                let (parent, key) = made[pick % made.len()].clone();
                if parent.coin_outputs.len() < 2 {
                    continue;
                }
                let fee = Currency(fee * MIN_FEE.0);
                let tx = net.spend(&parent, 1, key, (key + 2) % KEYS, TFT / 2, fee);
                let _ = net.admit(tx.clone());
                made.push((tx, key));
            }
            Op::Mine => {
                let before: BTreeSet<TxId> = net.pool.txids().into_iter().collect();
                let (block, report) = net.mine_template();
                let included: BTreeSet<TxId> = report.included.iter().copied().collect();
                let in_block: BTreeSet<TxId> =
                    block.transactions.iter().map(Transaction::txid).collect();
                prop_assert_eq!(&included, &in_block);
                prop_assert!(included.is_subset(&before));
                prop_assert!(
                    report.conflicts.is_empty(),
                    "a template never conflicts with its pool"
                );
                blocks.push(block);
            }
            Op::Undo => {
                let Some(block) = blocks.pop() else { continue };
                let report = net.undo(&block);
                for t in &report.admitted {
                    prop_assert!(net.pool.contains(t));
                }
                for tx in &block.transactions {
                    let refused = report
                        .dropped
                        .iter()
                        .find(|(t, _)| *t == tx.txid())
                        .map(|(_, e)| e.clone());
                    match refused {
                        None => prop_assert!(
                            net.pool.contains(&tx.txid())
                                || (!roomy && report.evicted.contains(&tx.txid())),
                            "disconnected tx {} is back",
                            tx.txid()
                        ),
                        Some(e) => prop_assert!(
                            // Limits may refuse a block transaction, and then its
                            // children in the block lack their parent: never the sender's
                            // fault, and never in a roomy pool.
                            !roomy && !e.is_sender_fault(),
                            "disconnected tx {} refused: {}",
                            tx.txid(),
                            e
                        ),
                    }
                }
            }
        }
        prop_assert!(net.pool.len() <= cap);
        net.assert_consistent();
        assert_no_double_spend(&net);
    }
    // Whatever is left still makes a valid block.
    net.mine_template();
    net.assert_consistent();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: persistence(), ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_invariant(ops in proptest::collection::vec(op(), 1..30)) {
        run_ops(ops, PoolConfig::default())?;
    }

    #[test]
    fn random_sequences_in_a_tiny_pool_keep_every_invariant(
        ops in proptest::collection::vec(op(), 1..30),
        cap in 2usize..6,
    ) {
        run_ops(ops, PoolConfig { max_count: cap, ..PoolConfig::default() })?;
    }
}

/// A payment from key `k` carrying `data` bytes of arbitrary data (to vary the size).
fn sized_payment(net: &Net, k: usize, fee: Currency, data: usize) -> Transaction {
    let mut tx = net.pay(k, 0, TFT, fee);
    tx.arbitrary_data = vec![0xab; data];
    sign_all(&mut tx, &net.key(k), &net.params().genesis_id);
    tx
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: persistence(), ..ProptestConfig::default() })]

    #[test]
    fn eviction_keeps_the_highest_fee_rates(
        txs in proptest::collection::vec((1u128..200, 0usize..255), 8..20),
        cap in 3usize..7,
    ) {
        let config = PoolConfig { max_count: cap, ..PoolConfig::default() };
        let mut net = Net::with_config(txs.len() + 1, config);
        let mut rates: BTreeMap<TxId, FeeRate> = BTreeMap::new();
        let mut evicted: Vec<TxId> = Vec::new();
        let mut refused: Vec<FeeRate> = Vec::new();
        for (k, (mult, data)) in txs.iter().enumerate() {
            let tx = sized_payment(&net, k + 1, Currency(mult * MIN_FEE.0 / 7 + MIN_FEE.0), *data);
            let rate = FeeRate::new(tx.fee, tx.encoded_len() as u64);
            rates.insert(tx.txid(), rate);
            match net.admit(tx) {
                Ok(a) => evicted.extend(a.evicted),
                Err(PoolError::FeeRateBelowEvictionRate { rate: r, floor, .. }) => {
                    prop_assert_eq!(r, rate);
                    prop_assert!(r <= floor);
                    refused.push(r);
                }
                Err(e) => prop_assert!(false, "unexpected refusal: {}", e),
            }
            prop_assert!(net.pool.len() <= cap);
            net.assert_consistent();
        }
        let kept: Vec<FeeRate> = net.pool.txids().iter().map(|t| rates[t]).collect();
        prop_assert_eq!(kept.len(), cap.min(txs.len()));
        let min_kept = kept.iter().min().copied().expect("the pool is not empty");
        for t in &evicted {
            prop_assert!(rates[t] <= min_kept, "evicted {} above kept {}", rates[t], min_kept);
        }
        for r in &refused {
            prop_assert!(*r <= min_kept);
        }
    }
}
