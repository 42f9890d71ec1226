//! Property: any sequence of commits, undos, rollbacks and reopens leaves the store equal
//! to the in-memory reference state (outputs, tip, chain, totals, indexes).

mod store_common;

use proptest::prelude::*;
use store_common::*;

#[derive(Clone, Debug)]
enum Op {
    /// Produce and commit a block; the number picks its transactions.
    Commit(u64),
    Undo,
    Rollback(u64),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u64>().prop_map(|s| Op::Commit(s % 1_000)),
        2 => Just(Op::Undo),
        1 => (1u64..5).prop_map(Op::Rollback),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_apply_undo_sequences_match_memory(ops in prop::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut chain = test_chain();
        let mut store = open(dir.path(), &chain).expect("open");
        for op in ops {
            match op {
                Op::Commit(seed) => {
                    let txs = block_txs(&chain, seed);
                    step(&mut chain, &store, txs);
                }
                Op::Undo => {
                    let at_genesis = chain.state.height() == 0;
                    let r = store.undo_tip();
                    prop_assert_eq!(r.is_ok(), !at_genesis);
                    chain.state.undo_tip();
                }
                Op::Rollback(n) => {
                    let height = chain.state.height();
                    let r = store.rollback(n);
                    if n > height {
                        prop_assert!(r.is_err());
                    } else {
                        prop_assert_eq!(r.expect("rollback").height, height - n);
                        for _ in 0..n {
                            chain.state.undo_tip();
                        }
                    }
                }
                Op::Reopen => {
                    drop(store);
                    store = open(dir.path(), &chain).expect("reopen");
                    prop_assert_eq!(store.open_report().repaired.clone(), None);
                }
            }
            assert_same(&store, &chain.state);
        }
        assert_indexes_exact(&store);
    }
}
