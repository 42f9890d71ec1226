//! Issue #12 item 3: the producer's stake lookup reads only blockstake outputs. Dust sent to
//! a validator (100,000 coin outputs at its address here) must not make `stakes_of` walk
//! them: it scans the blockstake outputs alone (never the address index, which may lag).

mod store_common;

use store_common::*;
use tfchain_consensus::testkit::{address_of, spend};
use tfchain_types::{Condition, Currency, Hash, Output};

const DUST_OUTPUTS: usize = 100_000;
const PER_TX: usize = 250;

#[test]
fn stakes_of_reads_only_blockstake_outputs_among_100k_coins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = test_chain();
    let store = open(dir.path(), &chain).expect("open");
    let validator = address_of(&chain.validators[0]);
    let fee = chain.params.min_fee;
    let genesis_id = chain.params.genesis_id;

    // Block 1: two funded keys each split their coin into 200 coins.
    let n_txs = DUST_OUTPUTS / PER_TX;
    let mut splits = Vec::new();
    for k in 0..2 {
        let key = chain.funded[k].clone();
        let (id, e) = chain.spendable(&address_of(&key)).remove(0);
        let each = Currency((e.value.0 - fee.0) / (n_txs as u128 / 2));
        let outputs = (0..n_txs / 2)
            .map(|_| Output {
                value: each,
                condition: Condition::Address(address_of(&key)),
            })
            .collect();
        splits.push(spend(
            &[id],
            outputs,
            &key,
            Currency(e.value.0 - each.0 * (n_txs as u128 / 2)),
            &genesis_id,
        ));
    }
    step(&mut chain, &store, splits);

    // Then 400 transactions of 250 dust outputs each, to the validator.
    let mut txs = Vec::new();
    for k in 0..2 {
        let key = chain.funded[k].clone();
        for (id, e) in chain.spendable(&address_of(&key)) {
            let each = Currency((e.value.0 - fee.0) / PER_TX as u128);
            let outputs = (0..PER_TX)
                .map(|_| Output {
                    value: each,
                    condition: Condition::Address(validator),
                })
                .collect();
            let rest = Currency(e.value.0 - each.0 * PER_TX as u128);
            txs.push(spend(&[id], outputs, &key, rest, &genesis_id));
        }
    }
    assert_eq!(txs.len(), n_txs);
    for chunk in txs.chunks(100) {
        step(&mut chain, &store, chunk.to_vec());
    }

    let all = store.address_outputs(&validator).expect("outputs");
    assert!(all.len() >= DUST_OUTPUTS, "{} outputs", all.len());
    let expected: Vec<_> = store_stakes(&store)
        .into_iter()
        .filter(|(_, e)| e.condition.address() == validator)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(store.stakes_of(&validator).expect("stakes"), expected);

    // Damage among the validator's *coin* index entries (one that names no output) is seen
    // by a coin walk, and never by the stake lookup: it does not read coins at all.
    let mut raw = vec![0x32];
    raw.extend_from_slice(&validator.to_bytes());
    raw.push(0);
    raw.extend_from_slice(Hash([0xab; 32]).as_bytes());
    store
        .raw_tree_for_tests()
        .insert(raw, Vec::<u8>::new())
        .expect("raw insert");
    assert!(store.address_outputs(&validator).is_err());
    assert_eq!(store.stakes_of(&validator).expect("stakes"), expected);
}
