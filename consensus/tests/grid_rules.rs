//! The capacity market's rules through `apply_block` (PROTOCOL.md §4.3, §7): each op's
//! effect with exact amounts, settlement, grace and ending, claims with the split, and exact
//! undo. The refusals are in `grid_refusals.rs`.

mod grid_support;

use grid_support::*;
use tfchain_consensus::testkit::{address_of, grid_tx};
use tfchain_contracts::{GridError, GridReads};
use tfchain_types::{
    Currency, EndReason, GridEventKind, GridOp, Hash, NodeState, ReservationState,
};

#[test]
fn a_reservation_lives_settles_and_is_cancelled_with_an_exact_refund() {
    let mut n = net();
    let user = n.user.clone();
    let events = n.ok(&user, vec![reserve(&user, 1, small(), 20)], &[]);
    let h0 = n.height();
    assert!(matches!(
        events.as_slice(),
        [GridEventKind::ReservationCreated { reservation: 1, node: 1, rate, .. }] if *rate == SMALL_RATE
    ));
    let r = n.chain.state.reservation(1).expect("created");
    assert_eq!((r.settled_to, r.escrow), (h0, Currency(SMALL_RATE.0 * 20)));
    assert_eq!(n.chain.state.node(1).map(|x| x.used), Some(small()));
    n.check_invariants();

    // A top-up settles what is due first: 3 blocks later, 3 × rate moved to earnings.
    n.empty_blocks(2);
    let events = n.ok(
        &user,
        vec![GridOp::TopUp {
            reservation: 1,
            amount: Currency(SMALL_RATE.0 * 5),
        }],
        &[],
    );
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(r.settled_to, h0 + 3);
    assert_eq!(r.escrow, Currency(SMALL_RATE.0 * (20 - 3 + 5)));
    assert_eq!(
        n.chain.state.node(1).map(|x| x.earnings),
        Some(Currency(SMALL_RATE.0 * 3))
    );
    assert!(matches!(
        events.as_slice(),
        [GridEventKind::ReservationFunded { reservation: 1, .. }]
    ));

    let events = n.ok(
        &user,
        vec![GridOp::UpdateDeployment {
            reservation: 1,
            deployment_hash: Hash([9; 32]),
            deployment_data: b"vm: debian".to_vec(),
            owner_auth: tfchain_types::unsigned_by(&user.public_key()),
        }],
        &[],
    );
    assert!(
        matches!(events.as_slice(), [GridEventKind::DeploymentUpdated { reservation: 1, node: 1, deployment_hash }] if *deployment_hash == Hash([9; 32]))
    );
    assert_eq!(
        n.chain.state.reservation(1).map(|r| r.deployment_data),
        Some(b"vm: debian".to_vec())
    );

    // Cancel at h0 + 6: 6 blocks are owed in all; the rest comes back to the owner.
    n.empty_blocks(1);
    let events = n.ok(
        &user,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: tfchain_types::unsigned_by(&user.public_key()),
        }],
        &[],
    );
    assert_eq!(n.height(), h0 + 6);
    let refund = Currency(SMALL_RATE.0 * (25 - 6));
    assert_eq!(
        events,
        vec![GridEventKind::ReservationEnded {
            reservation: 1,
            node: 1,
            reason: EndReason::Cancelled,
            refund
        }]
    );
    assert_eq!(n.payouts_to(&address_of(&user)), vec![refund]);
    let r = n.chain.state.reservation(1).expect("kept");
    assert_eq!(r.escrow, Currency::ZERO);
    assert_eq!(
        r.state,
        ReservationState::Ended {
            at: h0 + 6,
            reason: EndReason::Cancelled
        }
    );
    assert!(n.chain.state.node(1).is_some_and(|x| x.used.is_zero()));
    assert!(n.chain.state.expiring_at(h0 + 25).is_empty(), "unindexed");
    n.check_invariants();

    // The farmer claims: 6 blocks of rate, 90 % to the payout address, 10 % to the fee
    // address, to the base unit.
    let farmer = n.farmer.clone();
    let events = n.ok(
        &farmer,
        vec![GridOp::Claim {
            node: 1,
            farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
        }],
        &[],
    );
    let earned = SMALL_RATE.0 * 6;
    let farmer_share = Currency(earned * 90 / 100);
    let network_share = Currency(earned - farmer_share.0);
    assert_eq!(
        events,
        vec![GridEventKind::EarningsClaimed {
            node: 1,
            farm: 1,
            farmer: farmer_share,
            network: network_share
        }]
    );
    assert_eq!(n.payouts_to(&address_of(&farmer)), vec![farmer_share]);
    let fee_payouts = n.payouts_to(&address_of(&n.fee_key));
    assert!(
        fee_payouts.contains(&network_share),
        "the network's share goes to the fee address: {fee_payouts:?}"
    );
    assert_eq!(
        n.chain.state.node(1).map(|x| x.earnings),
        Some(Currency::ZERO)
    );
    n.check_invariants();
}

#[test]
fn out_of_funds_goes_to_grace_resumes_on_top_up_then_ends() {
    let mut n = net();
    let user = n.user.clone();
    // Deposit for 10 blocks plus a remainder smaller than one block's rate.
    let mut op = reserve(&user, 1, small(), 10);
    if let GridOp::Reserve { deposit, .. } = &mut op {
        *deposit = Currency(deposit.0 + 123);
    }
    n.ok(&user, vec![op], &[]);
    let h0 = n.height();
    assert_eq!(n.chain.state.expiring_at(h0 + 10), vec![1]);
    let events = n.empty_blocks(10);
    assert_eq!(
        events,
        vec![GridEventKind::ReservationGrace {
            reservation: 1,
            node: 1
        }]
    );
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(r.state, ReservationState::Grace { since: h0 + 10 });
    assert_eq!(r.escrow, Currency(123), "the remainder stays in escrow");
    assert_eq!(
        n.chain.state.node(1).map(|x| x.used),
        Some(small()),
        "capacity stays reserved"
    );
    n.check_invariants();

    // Two blocks of grace cost nothing; a top-up covering min_reservation_blocks (10)
    // resumes from the current height (§7.3).
    n.empty_blocks(1);
    let events = n.ok(
        &user,
        vec![GridOp::TopUp {
            reservation: 1,
            amount: Currency(SMALL_RATE.0 * 10),
        }],
        &[],
    );
    let h1 = n.height();
    assert!(matches!(
        events.as_slice(),
        [
            GridEventKind::ReservationFunded { .. },
            GridEventKind::ReservationResumed {
                reservation: 1,
                node: 1
            }
        ]
    ));
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!((r.state, r.settled_to), (ReservationState::Active, h1));
    assert_eq!(r.escrow, Currency(SMALL_RATE.0 * 10 + 123));
    assert_eq!(
        n.chain.state.node(1).map(|x| x.earnings),
        Some(Currency(SMALL_RATE.0 * 10)),
        "nothing accrued during grace"
    );

    // Runs out at h1 + 10, then ends after grace_period (5) blocks of grace.
    let events = n.empty_blocks(10 + 5);
    assert_eq!(n.height(), h1 + 15);
    assert_eq!(
        events,
        vec![
            GridEventKind::ReservationGrace {
                reservation: 1,
                node: 1
            },
            GridEventKind::ReservationEnded {
                reservation: 1,
                node: 1,
                reason: EndReason::OutOfFunds,
                refund: Currency::ZERO
            },
        ]
    );
    let r = n.chain.state.reservation(1).expect("kept");
    assert_eq!(r.escrow, Currency::ZERO);
    assert!(n.chain.state.node(1).is_some_and(|x| x.used.is_zero()));
    assert_eq!(
        n.chain.state.node(1).map(|x| x.earnings),
        Some(Currency(SMALL_RATE.0 * 20 + 123)),
        "the remainder smaller than a block's rate goes to the node"
    );
    n.check_invariants();
}

#[test]
fn removing_a_node_ends_and_refunds_every_live_reservation() {
    let mut n = net();
    let (user, other, farmer) = (n.user.clone(), n.other.clone(), n.farmer.clone());
    n.ok(&user, vec![reserve(&user, 1, small(), 20)], &[]);
    n.ok(&other, vec![reserve(&other, 1, small(), 30)], &[]);
    let h = n.height();
    let events = n.ok(
        &farmer,
        vec![GridOp::RemoveNode {
            node: 1,
            farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
        }],
        &[],
    );
    // Reservation 1 ran 2 blocks, reservation 2 one block.
    let (r1, r2) = (Currency(SMALL_RATE.0 * 18), Currency(SMALL_RATE.0 * 29));
    assert_eq!(n.height(), h + 1);
    assert_eq!(
        events,
        vec![
            GridEventKind::ReservationEnded {
                reservation: 1,
                node: 1,
                reason: EndReason::NodeRemoved,
                refund: r1
            },
            GridEventKind::ReservationEnded {
                reservation: 2,
                node: 1,
                reason: EndReason::NodeRemoved,
                refund: r2
            },
            GridEventKind::NodeRemoved { node: 1, farm: 1 },
        ]
    );
    assert_eq!(n.payouts_to(&address_of(&user)), vec![r1]);
    assert_eq!(n.payouts_to(&address_of(&other)), vec![r2]);
    assert_eq!(
        n.chain.state.node(1).map(|x| x.state),
        Some(NodeState::Removed)
    );
    n.check_invariants();
    // No new reservations; the key may register again as a new node.
    assert!(matches!(
        n.grid_err(&user, vec![reserve(&user, 1, small(), 20)], &[]),
        GridError::NodeNotUp {
            node: 1,
            state: NodeState::Removed
        }
    ));
    n.ok(&farmer, vec![register_node(&farmer, 1, 0)], &[node_key(0)]);
    assert_eq!(
        n.chain.state.node_by_key(&node_key(0).public_key()),
        Some(2)
    );
}

#[test]
fn undoing_a_block_of_grid_ops_restores_the_state_exactly() {
    let mut n = net();
    let user = n.user.clone();
    n.ok(&user, vec![reserve(&user, 1, small(), 12)], &[]);
    let before = n.chain.state.clone();
    let farmer = n.farmer.clone();
    // A block that settles, refunds, claims and registers.
    let t1 = grid_tx(
        &n.chain,
        &user,
        vec![
            GridOp::TopUp {
                reservation: 1,
                amount: Currency(77),
            },
            GridOp::Cancel {
                reservation: 1,
                owner_auth: tfchain_types::unsigned_by(&user.public_key()),
            },
        ],
        &[],
    )
    .expect("pays");
    let t2 = grid_tx(
        &n.chain,
        &farmer,
        vec![
            GridOp::Claim {
                node: 1,
                farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
            },
            register_node(&farmer, 1, 5),
        ],
        &[node_key(5)],
    )
    .expect("pays");
    let (outcome, _) = n.chain.produce(vec![t1, t2]).expect("applies");
    assert!(!outcome.diff.grid.is_empty());
    assert_ne!(n.chain.state, before);
    assert!(n.chain.state.undo_tip());
    assert_eq!(n.chain.state, before, "undo(apply) == identity");
}
