//! Grid ops in the pool (PROTOCOL.md §7): each pooled transaction is checked against the
//! tip's grid alone, so two can conflict; the template drops the loser
//! (`drop_grid_conflicts`), and once a block settles the matter the pool drops what the new
//! grid state refuses.

mod common;

use common::Net;
use tfchain_consensus::produce::drop_grid_conflicts;
use tfchain_consensus::testkit::{address_of, grid_tx, test_key};
use tfchain_consensus::StateView;
use tfchain_contracts::GridReads;
use tfchain_txpool::PoolError;
use tfchain_types::{Condition, Currency, FarmName, GridOp, Hash, Price, Resources, Signature};

fn setup() -> Net {
    setup_with(4)
}

/// Farm 1 and node 1 (key 0 farms), `funded` funded keys.
fn setup_with(funded: usize) -> Net {
    let mut net = Net::new(funded);
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

/// Node `node`'s second registration: the same capacity and price as node 1.
fn register_second_node(net: &mut Net) {
    let farmer = net.key(0);
    let node_key = test_key(3, 1);
    let op = GridOp::RegisterNode {
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
    };
    let tx = grid_tx(&net.chain, &farmer, vec![op], &[node_key]).expect("pays");
    net.mine(vec![tx]);
}

/// One cru on `node` for `blocks` blocks (1,000 per block), owned by key `owner`.
fn reserve_on(net: &Net, owner: usize, node: u32, blocks: u128) -> GridOp {
    GridOp::Reserve {
        node,
        resources: Resources {
            cru: 1,
            ..Resources::default()
        },
        deposit: Currency(1_000 * blocks),
        max_rate: Currency(1_000),
        deployment_hash: Hash([5; 32]),
        deployment_data: vec![],
        owner: Condition::Address(address_of(&net.key(owner))),
    }
}

fn top_up(reservation: u64, amount: u128) -> GridOp {
    GridOp::TopUp {
        reservation,
        amount: Currency(amount),
    }
}

#[test]
fn a_block_rechecks_only_the_pooled_grid_txs_whose_records_it_changed() {
    let mut net = setup_with(6);
    register_second_node(&mut net);
    let min_blocks = net.chain.params.min_reservation_blocks;
    // Reservation 1 on node 1, 2 and 3 on node 2; 3 has the minimum deposit.
    let txs = vec![
        grid_tx(
            &net.chain,
            &net.key(1),
            vec![reserve_on(&net, 1, 1, 100)],
            &[],
        )
        .expect("pays"),
        grid_tx(
            &net.chain,
            &net.key(2),
            vec![reserve_on(&net, 2, 2, 100)],
            &[],
        )
        .expect("pays"),
        grid_tx(
            &net.chain,
            &net.key(3),
            vec![reserve_on(&net, 3, 2, u128::from(min_blocks))],
            &[],
        )
        .expect("pays"),
    ];
    net.mine(txs);
    let made = net.chain.state.tip().height;

    // Pooled: top-ups of 1 and 2, a reserve on node 2, and a one-block top-up of 3 (fine
    // while 3 is Active, too small once it is in Grace).
    let a = grid_tx(&net.chain, &net.key(4), vec![top_up(1, 5_000)], &[]).expect("pays");
    let b = grid_tx(&net.chain, &net.key(5), vec![top_up(2, 5_000)], &[]).expect("pays");
    let c = grid_tx(
        &net.chain,
        &net.key(1),
        vec![reserve_on(&net, 1, 2, 50)],
        &[],
    )
    .expect("pays");
    let d = grid_tx(&net.chain, &net.key(2), vec![top_up(3, 1_000)], &[]).expect("pays");
    for t in [&a, &b, &c, &d] {
        net.admit(t.clone()).expect("valid against the tip");
    }

    // A claim of node 1 settles reservation 1 only: only its top-up is re-run.
    let farmer = net.key(0);
    let claim = GridOp::Claim {
        node: 1,
        farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
    };
    let tx = grid_tx(&net.chain, &farmer, vec![claim], &[]).expect("pays");
    let (_, report) = net.mine(vec![tx]);
    assert_eq!(report.grid_rechecked, 1, "{report:?}");
    assert!(report.grid_invalid.is_empty());
    assert_eq!(net.pool.len(), 4);

    // Empty blocks change no record the pool names, until reservation 3's deposit runs out
    // and it goes into Grace: then its pooled one-block top-up is re-run and dropped
    // (PROTOCOL.md §7.3: a top-up in Grace must cover min_reservation_blocks).
    while net.chain.state.tip().height + 1 < made + min_blocks {
        let (_, report) = net.mine(vec![]);
        assert_eq!(report.grid_rechecked, 0, "{report:?}");
    }
    let (_, report) = net.mine(vec![]);
    assert!(net
        .chain
        .state
        .reservation(3)
        .is_some_and(|r| matches!(r.state, tfchain_types::ReservationState::Grace { .. })));
    assert_eq!(report.grid_rechecked, 1, "{report:?}");
    assert_eq!(report.grid_invalid, vec![d.txid()]);

    // Cancelling reservation 2 touches it and node 2: its top-up (dropped) and the reserve on
    // node 2 (still fits) are re-run; the top-up of reservation 1 is not.
    let owner = net.key(2);
    let cancel = GridOp::Cancel {
        reservation: 2,
        owner_auth: tfchain_types::unsigned_by(&owner.public_key()),
    };
    let tx = grid_tx(&net.chain, &net.key(3), vec![cancel], &[owner]).expect("pays");
    let (_, report) = net.mine(vec![tx]);
    assert_eq!(report.grid_rechecked, 2, "{report:?}");
    assert_eq!(report.grid_invalid, vec![b.txid()]);
    let mut left = vec![a.txid(), c.txid()];
    left.sort();
    let mut pooled: Vec<_> = [a.txid(), b.txid(), c.txid(), d.txid()]
        .into_iter()
        .filter(|t| net.pool.contains(t))
        .collect();
    pooled.sort();
    assert_eq!(pooled, left);
    net.assert_consistent();
}

#[test]
fn a_second_pooled_claim_of_a_node_is_left_out_of_the_block() {
    let mut net = setup();
    let farmer = net.key(0);
    let claim = || GridOp::Claim {
        node: 1,
        farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
    };
    let a = grid_tx(&net.chain, &farmer, vec![claim()], &[]).expect("pays");
    let b = grid_tx(
        &net.chain,
        &net.key(1),
        vec![claim()],
        std::slice::from_ref(&farmer),
    )
    .expect("pays");
    net.admit(a).expect("valid against the tip");
    net.admit(b).expect("valid against the tip too");
    let kept = drop_grid_conflicts(
        &net.chain.state,
        &net.chain.params,
        &net.next_ctx(),
        net.template().transactions,
    );
    assert_eq!(kept.len(), 1, "one claim of node 1 per block");
    let (_, report) = net.mine(kept);
    assert!(
        report.grid_invalid.is_empty(),
        "the other claims next block"
    );
    assert_eq!(net.pool.len(), 1);
    net.mine_template();
    assert!(net.pool.is_empty());
}
