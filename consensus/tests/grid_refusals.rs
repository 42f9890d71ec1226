//! Grid ops the rules refuse (PROTOCOL.md §4.3, §7.3, §8): one error per rule, capacity
//! enforced within a transaction and between pooled ones, the per-node reservation limit.

mod grid_support;

use grid_support::*;
use tfchain_consensus::testkit::{address_of, grid_tx};
use tfchain_consensus::{BlockError, ConditionError, StateView, TxError};
use tfchain_contracts::{GridError, GridReads};
use tfchain_types::{
    Availability, Condition, Currency, FarmName, GridOp, Hash, NodeState, Resources,
};

#[test]
fn the_chain_enforces_capacity() {
    let mut n = net();
    let user = n.user.clone();
    let big = Resources { cru: 6, ..small() };
    let mut op = reserve(&user, 1, big, 20);
    if let GridOp::Reserve {
        max_rate, deposit, ..
    } = &mut op
    {
        *max_rate = Currency(u128::MAX);
        *deposit = Currency(10_000_000 * 20);
    }
    n.ok(&user, vec![op.clone()], &[]);
    match n.grid_err(&user, vec![op.clone()], &[]) {
        GridError::CapacityExceeded {
            node: 1,
            requested,
            free,
        } => {
            assert_eq!(requested, big);
            assert_eq!(free.cru, 2);
        }
        other => panic!("{other:?}"),
    }
    // Two ops of one transaction: the second sees the first's use.
    let half = Resources {
        cru: 1,
        ipv4: 0,
        ..small()
    };
    let mut a = reserve(&user, 1, half, 20);
    if let GridOp::Reserve { max_rate, .. } = &mut a {
        *max_rate = Currency(u128::MAX);
    }
    assert!(matches!(
        n.refused(&user, vec![a.clone(), a.clone(), a.clone()], &[]),
        TxError::Grid {
            index: 2,
            source: GridError::CapacityExceeded { .. },
            ..
        }
    ));
    n.check_invariants();
}

#[test]
fn conflicting_pooled_ops_are_dropped_from_a_template() {
    let mut n = net();
    let (user, other) = (n.user.clone(), n.other.clone());
    let big = Resources { cru: 5, ..small() };
    let mut a = reserve(&user, 1, big, 20);
    if let GridOp::Reserve {
        max_rate, deposit, ..
    } = &mut a
    {
        *max_rate = Currency(u128::MAX);
        *deposit = Currency(8_000_000 * 20);
    }
    let mut b = a.clone();
    if let GridOp::Reserve { owner, .. } = &mut b {
        *owner = Condition::Address(address_of(&other));
    }
    let t1 = grid_tx(&n.chain, &user, vec![a], &[]).expect("pays");
    let t2 = grid_tx(&n.chain, &other, vec![b], &[]).expect("pays");
    // Each alone is valid against the tip; together they exceed the node.
    let next = tfchain_consensus::SpendContext {
        height: n.height() + 1,
        timestamp: n.chain.state.tip().timestamp + 1,
    };
    let kept = tfchain_consensus::produce::drop_grid_conflicts(
        &n.chain.state,
        &n.chain.params,
        &next,
        vec![t1.clone(), t2.clone()],
    );
    assert_eq!(kept, vec![t1.clone()]);
    assert!(matches!(
        n.chain.produce(vec![t1.clone(), t2]),
        Err(BlockError::Tx { index: 1, .. })
    ));
    n.chain.produce(kept).expect("the trimmed template applies");
}

#[test]
fn each_bad_op_gets_its_own_error() {
    let mut n = net();
    let (user, other, farmer) = (n.user.clone(), n.other.clone(), n.farmer.clone());
    n.ok(&user, vec![reserve(&user, 1, small(), 20)], &[]);

    // Wrong owner: another key signs the cancel.
    let e = n.refused(
        &other,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: tfchain_types::unsigned_by(&other.public_key()),
        }],
        &[],
    );
    assert!(
        matches!(
            e,
            TxError::GridAuth {
                index: 0,
                source: ConditionError::KeyMismatch,
                ..
            }
        ),
        "{e:?}"
    );
    // The owner's key named but not signed: a bad signature.
    let e = n.refused(
        &other,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: tfchain_types::unsigned_by(&user.public_key()),
        }],
        &[],
    );
    assert!(
        matches!(
            e,
            TxError::GridAuth {
                source: ConditionError::BadSignature,
                ..
            }
        ),
        "{e:?}"
    );
    // A farm op by someone else.
    let e = n.refused(
        &other,
        vec![GridOp::Claim {
            node: 1,
            farm_auth: tfchain_types::unsigned_by(&other.public_key()),
        }],
        &[],
    );
    assert!(
        matches!(
            e,
            TxError::GridAuth {
                source: ConditionError::KeyMismatch,
                ..
            }
        ),
        "{e:?}"
    );

    assert_eq!(
        n.grid_err(&user, vec![reserve(&user, 9, small(), 20)], &[]),
        GridError::UnknownNode(9)
    );
    assert_eq!(
        n.grid_err(&user, vec![reserve(&user, 1, Resources::ZERO, 20)], &[]),
        GridError::ZeroResources
    );
    assert_eq!(
        n.grid_err(&user, vec![reserve(&user, 1, small(), 9)], &[]),
        GridError::DepositTooSmall {
            deposit: Currency(SMALL_RATE.0 * 9),
            min: Currency(SMALL_RATE.0 * 10)
        }
    );
    let mut op = reserve(&user, 1, small(), 20);
    if let GridOp::Reserve { max_rate, .. } = &mut op {
        *max_rate = Currency(SMALL_RATE.0 - 1);
    }
    assert_eq!(
        n.grid_err(&user, vec![op], &[]),
        GridError::RateAboveMax {
            rate: SMALL_RATE,
            max_rate: Currency(SMALL_RATE.0 - 1)
        }
    );
    assert_eq!(
        n.grid_err(
            &user,
            vec![GridOp::TopUp {
                reservation: 7,
                amount: Currency(1)
            }],
            &[]
        ),
        GridError::UnknownReservation(7)
    );
    assert_eq!(
        n.grid_err(
            &user,
            vec![GridOp::TopUp {
                reservation: 1,
                amount: Currency::ZERO
            }],
            &[]
        ),
        GridError::ZeroAmount
    );
    assert_eq!(
        n.grid_err(
            &user,
            vec![GridOp::RegisterFarm {
                name: FarmName("farm-one".into()),
                owner: Condition::Address(address_of(&user)),
                payout: address_of(&user),
            }],
            &[]
        ),
        GridError::FarmNameTaken(FarmName("farm-one".into()))
    );
    assert_eq!(
        n.grid_err(
            &user,
            vec![GridOp::RegisterFarm {
                name: FarmName("Farm One".into()),
                owner: Condition::Address(address_of(&user)),
                payout: address_of(&user),
            }],
            &[]
        ),
        GridError::FarmNameInvalid
    );
    assert_eq!(
        n.grid_err(&farmer, vec![register_node(&farmer, 1, 0)], &[node_key(0)]),
        GridError::NodeKeyTaken(1)
    );
    assert_eq!(
        n.grid_err(&farmer, vec![register_node(&farmer, 5, 1)], &[node_key(1)]),
        GridError::UnknownFarm(5)
    );
    // The node key did not sign.
    assert!(matches!(
        n.refused(&farmer, vec![register_node(&farmer, 1, 1)], &[]),
        TxError::BadNodeSignature { index: 0 }
    ));
    let update = |capacity: Option<Resources>, state: Option<Availability>| GridOp::UpdateNode {
        node: 1,
        capacity,
        price: None,
        state,
        farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
    };
    assert_eq!(
        n.grid_err(&farmer, vec![update(None, None)], &[]),
        GridError::EmptyUpdate
    );
    assert!(matches!(
        n.grid_err(
            &farmer,
            vec![update(Some(Resources { cru: 1, ..CAPACITY }), None)],
            &[]
        ),
        GridError::CapacityBelowUsed { .. }
    ));
    n.ok(&farmer, vec![update(None, Some(Availability::Down))], &[]);
    assert!(matches!(
        n.grid_err(&user, vec![reserve(&user, 1, small(), 20)], &[]),
        GridError::NodeNotUp {
            state: NodeState::Down,
            ..
        }
    ));
    // A deposit the inputs do not pay for breaks the balance rule.
    let mut tx = grid_tx(&n.chain, &user, vec![], &[]).expect("pays");
    tx.grid_ops.push(GridOp::TopUp {
        reservation: 1,
        amount: Currency(5),
    });
    tx.sign_with(&n.chain.params.genesis_id, std::slice::from_ref(&user));
    assert!(matches!(
        n.chain.produce(vec![tx]),
        Err(BlockError::Tx {
            source: TxError::CoinImbalance { .. },
            ..
        })
    ));
    // Ended reservations take no more ops.
    n.ok(
        &user,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: tfchain_types::unsigned_by(&user.public_key()),
        }],
        &[],
    );
    assert_eq!(
        n.grid_err(
            &user,
            vec![GridOp::TopUp {
                reservation: 1,
                amount: Currency(1)
            }],
            &[]
        ),
        GridError::ReservationEnded(1)
    );
    n.check_invariants();
}

#[test]
fn a_node_holds_at_most_max_node_reservations() {
    use tfchain_types::grid::MAX_NODE_RESERVATIONS;
    let mut n = net();
    let (user, farmer) = (n.user.clone(), n.farmer.clone());
    // 1,024 GiB at 1,000 per GiB: one GiB is exactly a slot's share of the node (§7.2), so
    // the node is full by count and by capacity at once; the count is checked first.
    let mut op = register_node(&farmer, 1, 1);
    if let GridOp::RegisterNode { capacity, .. } = &mut op {
        *capacity = Resources {
            hru: MAX_NODE_RESERVATIONS,
            ..Resources::ZERO
        };
    }
    n.ok(&farmer, vec![op], &[node_key(1)]);
    let one_hru = || {
        let resources = Resources {
            hru: 1,
            ..Resources::ZERO
        };
        GridOp::Reserve {
            node: 2,
            resources,
            deposit: Currency(1_000 * 10_000),
            max_rate: Currency(1_000),
            deployment_hash: Hash([1; 32]),
            deployment_data: vec![],
            owner: Condition::Address(address_of(&user)),
        }
    };
    let per_tx = tfchain_types::grid::MAX_GRID_OPS;
    for _ in 0..(MAX_NODE_RESERVATIONS as usize / per_tx) {
        n.ok(&user, vec![one_hru(); per_tx], &[]);
    }
    assert_eq!(
        n.chain.state.node(2).map(|x| x.reservations),
        Some(MAX_NODE_RESERVATIONS)
    );
    assert_eq!(
        n.grid_err(&user, vec![one_hru()], &[]),
        GridError::NodeFull {
            node: 2,
            max: MAX_NODE_RESERVATIONS
        }
    );
    // Ending one makes room for one.
    n.ok(
        &user,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: tfchain_types::unsigned_by(&user.public_key()),
        }],
        &[],
    );
    n.ok(&user, vec![one_hru()], &[]);
    n.check_invariants();
}
