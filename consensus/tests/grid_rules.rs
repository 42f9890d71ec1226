//! The capacity market's rules through `apply_block` (PROTOCOL.md §4.3, §7): each op's
//! effect with exact amounts, settlement, grace and ending, claims with the split, and one
//! test per rule that refuses an op.

use tfchain_consensus::testkit::{address_of, dev_params, grid_tx, test_key, TestChain};
use tfchain_consensus::{BlockError, ConditionError, StateView, TxError};
use tfchain_contracts::{GridError, GridReads};
use tfchain_types::{
    Address, Availability, Condition, Currency, EndReason, FarmName, GridEventKind, GridOp, Hash,
    NodeState, OutputId, Price, ReservationState, Resources, SecretKey, Signature,
};

struct Net {
    chain: TestChain,
    farmer: SecretKey,
    user: SecretKey,
    other: SecretKey,
    fee_key: SecretKey,
}

const CAPACITY: Resources = Resources {
    cru: 8,
    mru: 32,
    sru: 500,
    hru: 1000,
    ipv4: 2,
};

fn price() -> Price {
    Price {
        cru: Currency(1_000_000),
        mru: Currency(500_000),
        sru: Currency(10_000),
        hru: Currency(1_000),
        ipv4: Currency(500_000),
    }
}

fn small() -> Resources {
    Resources {
        cru: 2,
        mru: 4,
        sru: 50,
        hru: 0,
        ipv4: 1,
    }
}

/// 2×1M + 4×0.5M + 50×10k + 1×0.5M = 5,000,000 base units per block.
const SMALL_RATE: Currency = Currency(5_000_000);

fn node_key(i: u64) -> SecretKey {
    test_key(3, i)
}

/// A chain with farm 1 (owner `farmer`) and node 1 (node key 0) registered.
fn net() -> Net {
    let mut params = dev_params();
    let fee_key = test_key(4, 0);
    params.fee_address = Some(address_of(&fee_key));
    params.grace_period = 5;
    let chain = TestChain::with_params(params, &[100], 4, Currency::from_tft(1_000_000));
    let mut n = Net {
        farmer: chain.funded[0].clone(),
        user: chain.funded[1].clone(),
        other: chain.funded[2].clone(),
        chain,
        fee_key,
    };
    let farmer = n.farmer.clone();
    n.ok(
        &farmer,
        vec![GridOp::RegisterFarm {
            name: FarmName("farm-one".into()),
            owner: Condition::Address(address_of(&farmer)),
            payout: address_of(&farmer),
        }],
        &[],
    );
    n.ok(&farmer, vec![register_node(&farmer, 1, 0)], &[node_key(0)]);
    n
}

fn register_node(owner: &SecretKey, farm: u32, key: u64) -> GridOp {
    GridOp::RegisterNode {
        farm,
        node_key: node_key(key).public_key(),
        capacity: CAPACITY,
        price: price(),
        farm_auth: tfchain_types::unsigned_by(&owner.public_key()),
        node_sig: Signature::ZERO,
    }
}

fn reserve(owner: &SecretKey, node: u32, resources: Resources, blocks: u128) -> GridOp {
    GridOp::Reserve {
        node,
        resources,
        deposit: Currency(SMALL_RATE.0 * blocks),
        max_rate: SMALL_RATE,
        deployment_hash: Hash([7; 32]),
        deployment_data: b"vm: ubuntu".to_vec(),
        owner: Condition::Address(address_of(owner)),
    }
}

impl Net {
    /// Produces a block with one transaction carrying `ops` paid by `payer`; panics unless
    /// it applies. Returns the block's events.
    fn ok(
        &mut self,
        payer: &SecretKey,
        ops: Vec<GridOp>,
        signers: &[SecretKey],
    ) -> Vec<GridEventKind> {
        let tx = grid_tx(&self.chain, payer, ops, signers).expect("payer can pay");
        let (outcome, _) = self.chain.produce(vec![tx]).expect("the grid ops apply");
        outcome.events.into_iter().map(|e| e.kind).collect()
    }

    /// The error of a block with one transaction carrying `ops` (the chain is unchanged).
    fn refused(&mut self, payer: &SecretKey, ops: Vec<GridOp>, signers: &[SecretKey]) -> TxError {
        let tx = grid_tx(&self.chain, payer, ops, signers).expect("payer can pay");
        let before = self.chain.state.clone();
        match self.chain.produce(vec![tx]) {
            Err(BlockError::Tx { index: 0, source }) => {
                assert_eq!(self.chain.state, before, "a refused block changes nothing");
                source
            }
            other => panic!("expected a refused transaction, got {other:?}"),
        }
    }

    fn grid_err(
        &mut self,
        payer: &SecretKey,
        ops: Vec<GridOp>,
        signers: &[SecretKey],
    ) -> GridError {
        match self.refused(payer, ops, signers) {
            TxError::Grid { source, .. } | TxError::GridShape { source, .. } => source,
            other => panic!("expected a grid error, got {other:?}"),
        }
    }

    fn empty_blocks(&mut self, n: u64) -> Vec<GridEventKind> {
        let mut events = Vec::new();
        for _ in 0..n {
            let (o, _) = self.chain.produce(vec![]).expect("an empty block applies");
            events.extend(o.events.into_iter().map(|e| e.kind));
        }
        events
    }

    fn height(&self) -> u64 {
        self.chain.state.height()
    }

    fn check_invariants(&self) {
        let s = &self.chain.state;
        assert_eq!(
            s.total_coins().0 + s.grid_held().0,
            self.chain.expected_supply().0,
            "§6: coins + escrow + earnings == genesis + rewards"
        );
        for id in 1..=s.counters().nodes {
            let node = s.node(id).expect("nodes are never deleted");
            let mut used = Resources::ZERO;
            for rid in 1..=s.counters().reservations {
                let r = s.reservation(rid).expect("reservations are never deleted");
                if r.node == id && r.is_live() {
                    used = used.checked_add(&r.resources).expect("no overflow");
                }
            }
            assert_eq!(node.used, used, "§7.5: used == Σ live reservations");
            assert!(node.used.fits_within(&node.capacity), "used <= capacity");
        }
    }

    /// Payout outputs of the tip block to `address`, by value.
    fn payouts_to(&self, address: &Address) -> Vec<Currency> {
        let tip = self.chain.state.tip();
        (0..16)
            .filter_map(|i| {
                self.chain
                    .state
                    .coins
                    .get(&OutputId::for_payout(&tip.id, i))
            })
            .filter(|e| e.condition.address() == *address)
            .map(|e| {
                assert_eq!(e.mature_at, tip.height + self.chain.params.maturity_delay);
                e.value
            })
            .collect()
    }
}

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

    // Two blocks of grace cost nothing; a top-up resumes from the current height.
    n.empty_blocks(1);
    let events = n.ok(
        &user,
        vec![GridOp::TopUp {
            reservation: 1,
            amount: Currency(SMALL_RATE.0 * 2),
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
    assert_eq!(r.escrow, Currency(SMALL_RATE.0 * 2 + 123));
    assert_eq!(
        n.chain.state.node(1).map(|x| x.earnings),
        Some(Currency(SMALL_RATE.0 * 10)),
        "nothing accrued during grace"
    );

    // Runs out at h1 + 2, then ends after grace_period (5) blocks of grace.
    let events = n.empty_blocks(2 + 5);
    assert_eq!(n.height(), h1 + 7);
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
        Some(Currency(SMALL_RATE.0 * 12 + 123)),
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

#[test]
fn a_node_holds_at_most_max_node_reservations() {
    use tfchain_types::grid::MAX_NODE_RESERVATIONS;
    let mut n = net();
    let (user, farmer) = (n.user.clone(), n.farmer.clone());
    let mut op = register_node(&farmer, 1, 1);
    if let GridOp::RegisterNode { capacity, .. } = &mut op {
        capacity.hru = 1_000_000;
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
