//! What a reservation slot and a claim cost (PROTOCOL.md §7.2, §7.3, issue #12 items 5 and
//! 6), through `apply_block`: a Grace reservation resumes only with a deposit-sized top-up,
//! a reservation's rate is at least the node's whole price over `MAX_NODE_RESERVATIONS`,
//! and a block claims each node at most once.

mod grid_support;

use grid_support::*;
use tfchain_consensus::testkit::grid_tx;
use tfchain_consensus::{BlockError, SpendContext, StateView, TxError};
use tfchain_contracts::{GridError, GridReads};
use tfchain_types::grid::MAX_NODE_RESERVATIONS;
use tfchain_types::{Currency, EndReason, GridEventKind, GridOp, ReservationState, Resources};

fn top_up(reservation: u64, amount: u128) -> GridOp {
    GridOp::TopUp {
        reservation,
        amount: Currency(amount),
    }
}

fn claim(n: &Net, node: u32) -> GridOp {
    GridOp::Claim {
        node,
        farm_auth: tfchain_types::unsigned_by(&n.farmer.public_key()),
    }
}

/// Reserves `small()` with the minimum deposit and waits until it is in Grace; returns the
/// height it entered Grace at.
fn reservation_in_grace(n: &mut Net) -> u64 {
    let user = n.user.clone();
    let min_blocks = u128::from(n.chain.params.min_reservation_blocks);
    n.ok(&user, vec![reserve(&user, 1, small(), min_blocks)], &[]);
    let made = n.height();
    let events = n.empty_blocks(n.chain.params.min_reservation_blocks);
    assert!(events.contains(&GridEventKind::ReservationGrace {
        reservation: 1,
        node: 1
    }));
    let r = n.chain.state.reservation(1).expect("live");
    let since = made + n.chain.params.min_reservation_blocks;
    assert_eq!(r.state, ReservationState::Grace { since });
    assert_eq!(r.escrow, Currency::ZERO, "the deposit ran out exactly");
    since
}

#[test]
fn a_top_up_in_grace_must_cover_min_reservation_blocks_to_resume() {
    let mut n = net();
    let since = reservation_in_grace(&mut n);
    let user = n.user.clone();
    let min = Currency(SMALL_RATE.0 * u128::from(n.chain.params.min_reservation_blocks));

    // One block's rate (what today's code takes to resume a reservation for free grace
    // after free grace) and one base unit short of the minimum are both refused.
    for amount in [SMALL_RATE.0, min.0 - 1] {
        let e = n.grid_err(&user, vec![top_up(1, amount)], &[]);
        assert_eq!(
            e,
            GridError::TopUpTooSmall {
                escrow: Currency(amount),
                min
            }
        );
    }
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(r.state, ReservationState::Grace { since }, "still in Grace");
    assert_eq!(r.escrow, Currency::ZERO);

    // Exactly the minimum resumes it, with a full deposit's life ahead.
    let events = n.ok(&user, vec![top_up(1, min.0)], &[]);
    assert!(events.contains(&GridEventKind::ReservationResumed {
        reservation: 1,
        node: 1
    }));
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(r.state, ReservationState::Active);
    assert_eq!((r.settled_to, r.escrow), (n.height(), min));
    assert_eq!(
        n.chain
            .state
            .expiring_at(n.height() + n.chain.params.min_reservation_blocks),
        vec![1]
    );
    n.check_invariants();
}

#[test]
fn a_refused_grace_top_up_leaves_the_reservation_to_end() {
    let mut n = net();
    let since = reservation_in_grace(&mut n);
    let user = n.user.clone();
    n.grid_err(&user, vec![top_up(1, SMALL_RATE.0)], &[]);
    let grace = n.chain.params.grace_period;
    let events = n.empty_blocks(since + grace - n.height());
    assert!(events.contains(&GridEventKind::ReservationEnded {
        reservation: 1,
        node: 1,
        reason: EndReason::OutOfFunds,
        refund: Currency::ZERO,
    }));
    assert_eq!(n.chain.state.node(1).map(|x| x.reservations), Some(0));
    n.check_invariants();
}

#[test]
fn an_active_reservation_takes_any_top_up() {
    let mut n = net();
    let user = n.user.clone();
    n.ok(&user, vec![reserve(&user, 1, small(), 20)], &[]);
    n.ok(&user, vec![top_up(1, 1)], &[]);
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(r.state, ReservationState::Active);
    assert_eq!(r.escrow, Currency(SMALL_RATE.0 * 19 + 1));
}

/// `hru` GiB on node 1 at `per_gib` base units per GiB per block, with a deposit for the
/// minimum blocks.
fn reserve_hru(n: &Net, hru: u32, per_gib: u128) -> GridOp {
    let rate = u128::from(hru) * per_gib;
    let mut op = reserve(
        &n.user,
        1,
        Resources {
            hru,
            ..Resources::ZERO
        },
        0,
    );
    if let GridOp::Reserve {
        deposit, max_rate, ..
    } = &mut op
    {
        *deposit = Currency(rate * u128::from(n.chain.params.min_reservation_blocks));
        *max_rate = Currency(rate);
    }
    op
}

#[test]
fn a_reservation_is_worth_at_least_the_nodes_share_per_slot() {
    let mut n = net();
    // Node 1 is worth 8×1M + 32×0.5M + 500×10k + 1,000×1k + 2×0.5M = 31,000,000 per block;
    // one slot's share is ceil(31,000,000 / 1,024) = 30,274.
    let whole = price().rate(&CAPACITY).expect("no overflow");
    assert_eq!(whole, Currency(31_000_000));
    let share = Currency(30_274);
    assert_eq!(tfchain_contracts::min_rate(&CAPACITY, &price()), Ok(share));
    assert_eq!(MAX_NODE_RESERVATIONS, 1_024);
    let user = n.user.clone();

    // 1 GiB (1,000 per block: the whole node's 1,024 slots for 1,024,000 per block, 3 % of
    // its price) and 30 GiB (30,000) are refused; 31 GiB (31,000) is the least accepted.
    for hru in [1, 30] {
        let e = n.grid_err(&user, vec![reserve_hru(&n, hru, 1_000)], &[]);
        assert_eq!(
            e,
            GridError::RateBelowShare {
                rate: Currency(u128::from(hru) * 1_000),
                min: share
            }
        );
    }
    assert_eq!(n.chain.state.node(1).map(|x| x.reservations), Some(0));
    n.ok(&user, vec![reserve_hru(&n, 31, 1_000)], &[]);
    assert_eq!(n.chain.state.node(1).map(|x| x.reservations), Some(1));

    // The share is fixed at creation: lowering the price later leaves the reservation as it
    // is, and new reservations are measured against the new price: 30,500,000 per block,
    // a share of ceil(30,500,000 / 1,024) = 29,786.
    let farmer = n.farmer.clone();
    let mut half = price();
    half.hru = Currency(500);
    n.ok(
        &farmer,
        vec![GridOp::UpdateNode {
            node: 1,
            capacity: None,
            price: Some(half),
            state: None,
            farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
        }],
        &[],
    );
    let r = n.chain.state.reservation(1).expect("live");
    assert_eq!(
        (r.state, r.rate),
        (ReservationState::Active, Currency(31_000))
    );
    let e = n.grid_err(&user, vec![reserve_hru(&n, 59, 500)], &[]);
    assert_eq!(
        e,
        GridError::RateBelowShare {
            rate: Currency(29_500),
            min: Currency(29_786)
        }
    );
    n.ok(&user, vec![reserve_hru(&n, 60, 500)], &[]);
    assert_eq!(n.chain.state.node(1).map(|x| x.reservations), Some(2));
    n.check_invariants();
}

#[test]
fn a_block_claims_a_node_at_most_once() {
    let mut n = net();
    let (user, other, farmer) = (n.user.clone(), n.other.clone(), n.farmer.clone());
    n.ok(&user, vec![reserve(&user, 1, small(), 20)], &[]);
    n.empty_blocks(2);

    // Two claims of node 1 in one transaction.
    let e = n.grid_err(&farmer, vec![claim(&n, 1), claim(&n, 1)], &[]);
    assert_eq!(e, GridError::AlreadyClaimed { node: 1 });

    // Two claims of node 1 in two transactions of one block: the second is refused, and the
    // block with it.
    let t1 = grid_tx(&n.chain, &farmer, vec![claim(&n, 1)], &[]).expect("pays");
    let t2 = grid_tx(
        &n.chain,
        &other,
        vec![claim(&n, 1)],
        std::slice::from_ref(&farmer),
    )
    .expect("pays");
    let before = n.chain.state.clone();
    match n.chain.produce(vec![t1.clone(), t2.clone()]) {
        Err(BlockError::Tx {
            index: 1,
            source:
                TxError::Grid {
                    index: 0,
                    op: "claim",
                    source: GridError::AlreadyClaimed { node: 1 },
                },
        }) => {}
        other => panic!("expected the second claim refused, got {other:?}"),
    }
    assert_eq!(n.chain.state, before, "a refused block changes nothing");

    // The block producer keeps the first and drops the second.
    let next = SpendContext {
        height: n.height() + 1,
        timestamp: n.chain.state.tip().timestamp + 1,
    };
    let kept = tfchain_consensus::produce::drop_grid_conflicts(
        &n.chain.state,
        &n.chain.params,
        &next,
        vec![t1.clone(), t2.clone()],
    );
    assert_eq!(kept, vec![t1]);
    n.chain.produce(kept).expect("one claim per node applies");

    // The next block may claim node 1 again; the other transaction still applies there.
    let (outcome, _) = n.chain.produce(vec![t2]).expect("a claim a block later");
    assert!(outcome
        .events
        .iter()
        .any(|e| matches!(e.kind, GridEventKind::EarningsClaimed { node: 1, .. })));
    n.check_invariants();
}

#[test]
fn a_block_may_claim_different_nodes() {
    let mut n = net();
    let farmer = n.farmer.clone();
    n.ok(&farmer, vec![register_node(&farmer, 1, 1)], &[node_key(1)]);
    let events = n.ok(&farmer, vec![claim(&n, 1), claim(&n, 2)], &[]);
    let claimed: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            GridEventKind::EarningsClaimed { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(claimed, vec![1, 2]);
}
