//! Grid ops in the pool (PROTOCOL.md §7): each pooled transaction is checked against the
//! tip's grid alone, so two can conflict; the template drops the loser
//! (`drop_grid_conflicts`), and once a block settles the matter the pool drops what the new
//! grid state refuses.

mod common;

use common::Net;
use tfchain_consensus::produce::drop_grid_conflicts;
use tfchain_consensus::testkit::{address_of, grid_tx, test_key};
use tfchain_contracts::GridReads;
use tfchain_txpool::PoolError;
use tfchain_types::{Condition, Currency, FarmName, GridOp, Hash, Price, Resources, Signature};

fn setup() -> Net {
    let mut net = Net::new(4);
    let farmer = net.key(0);
    let node_key = test_key(3, 0);
    let ops = vec![
        GridOp::RegisterFarm {
            name: FarmName("pool-farm".into()),
            owner: Condition::Address(address_of(&farmer)),
            payout: address_of(&farmer),
        },
        GridOp::RegisterNode {
            farm: 1,
            node_key: node_key.public_key(),
            capacity: Resources {
                cru: 4,
                mru: 8,
                sru: 100,
                hru: 0,
                ipv4: 1,
            },
            price: Price {
                cru: Currency(1_000),
                ..Price::default()
            },
            farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
            node_sig: Signature::ZERO,
        },
    ];
    let tx = grid_tx(&net.chain, &farmer, ops, &[node_key]).expect("pays");
    net.mine(vec![tx]);
    net
}

fn reserve_by(net: &Net, owner: usize, cru: u32) -> GridOp {
    GridOp::Reserve {
        node: 1,
        resources: Resources {
            cru,
            ..Resources::default()
        },
        deposit: Currency(1_000 * u128::from(cru) * 100),
        max_rate: Currency(1_000 * u128::from(cru)),
        deployment_hash: Hash([5; 32]),
        deployment_data: vec![],
        owner: Condition::Address(address_of(&net.key(owner))),
    }
}

#[test]
fn conflicting_cancels_both_pool_one_is_mined_the_other_dropped() {
    let mut net = setup();
    let user = net.key(1);
    let tx = grid_tx(&net.chain, &user, vec![reserve_by(&net, 1, 2)], &[]).expect("pays");
    net.mine(vec![tx]);
    assert!(net.chain.state.reservation(1).is_some_and(|r| r.is_live()));

    // Two cancels of reservation 1, paid from different keys, both signed by the owner.
    let cancel = || GridOp::Cancel {
        reservation: 1,
        owner_auth: tfchain_types::unsigned_by(&user.public_key()),
    };
    let a = grid_tx(&net.chain, &user, vec![cancel()], &[]).expect("pays");
    let b = grid_tx(
        &net.chain,
        &net.key(2),
        vec![cancel()],
        std::slice::from_ref(&user),
    )
    .expect("pays");
    net.admit(a.clone()).expect("valid against the tip");
    net.admit(b.clone()).expect("valid against the tip too");
    net.assert_consistent();

    let template = net.template();
    assert_eq!(template.transactions.len(), 2, "the pool sees no conflict");
    let kept = drop_grid_conflicts(
        &net.chain.state,
        &net.chain.params,
        &net.next_ctx(),
        template.transactions,
    );
    assert_eq!(kept.len(), 1, "the template keeps one cancel");
    let mined = kept[0].txid();
    let (_, report) = net.mine(kept);
    let other = if mined == a.txid() {
        b.txid()
    } else {
        a.txid()
    };
    assert!(report.included.contains(&mined));
    assert_eq!(
        report.grid_invalid,
        vec![other],
        "the other cancel is dropped"
    );
    assert!(net.pool.is_empty());
    net.assert_consistent();
    // Resubmitting it now fails on the grid rule.
    let again = if mined == a.txid() { b } else { a };
    assert!(matches!(
        net.admit(again),
        Err(PoolError::Invalid(tfchain_consensus::TxError::Grid { .. }))
    ));
}

#[test]
fn reserves_beyond_capacity_together_are_trimmed_and_the_rest_dropped() {
    let mut net = setup();
    let t1 = grid_tx(&net.chain, &net.key(1), vec![reserve_by(&net, 1, 3)], &[]).expect("pays");
    let t2 = grid_tx(&net.chain, &net.key(2), vec![reserve_by(&net, 2, 3)], &[]).expect("pays");
    let t3 = grid_tx(&net.chain, &net.key(3), vec![reserve_by(&net, 3, 1)], &[]).expect("pays");
    for t in [&t1, &t2, &t3] {
        net.admit(t.clone()).expect("each fits the node alone");
    }
    let template = net.template();
    let kept = drop_grid_conflicts(
        &net.chain.state,
        &net.chain.params,
        &net.next_ctx(),
        template.transactions,
    );
    assert_eq!(
        kept.len(),
        2,
        "3 + 3 cru exceed 4: one of the two big ones goes"
    );
    let (_, report) = net.mine(kept);
    assert_eq!(report.grid_invalid.len(), 1);
    assert!(net.chain.state.node(1).is_some_and(|n| n.used.cru == 4));
    net.assert_consistent();
}
