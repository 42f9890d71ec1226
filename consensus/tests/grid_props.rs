//! Property tests of the capacity market's invariants over random sequences of grid ops
//! and blocks (PROTOCOL.md §6, §7.5): after every block, supply is conserved with escrow
//! and unclaimed earnings counted, every node's `used` is the sum of its live
//! reservations and within capacity; and undoing the blocks one by one walks back through
//! exactly the states that applying them produced.

use proptest::prelude::*;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, dev_params, grid_tx, test_key, TestChain};
use tfchain_contracts::GridReads;
use tfchain_types::{
    Availability, Condition, Currency, FarmName, GridOp, Hash, Price, Resources, SecretKey,
    Signature,
};

#[derive(Clone, Debug)]
enum Step {
    Reserve {
        user: usize,
        node: u32,
        res: (u32, u32, u32, u16),
        blocks: u64,
    },
    TopUp {
        reservation: u64,
        user: usize,
        amount: u128,
    },
    Cancel {
        reservation: u64,
    },
    Redeploy {
        reservation: u64,
    },
    Claim {
        node: u32,
    },
    Capacity {
        node: u32,
        cru: u32,
    },
    Availability {
        node: u32,
        up: bool,
    },
    Remove {
        node: u32,
    },
    Wait {
        blocks: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..3usize, 1..=3u32, (0..4u32, 0..8u32, 0..100u32, 0..2u16), 0..30u64)
            .prop_map(|(user, node, res, blocks)| Step::Reserve { user, node, res, blocks }),
        3 => (1..8u64, 0..3usize, 0..100_000_000u128)
            .prop_map(|(reservation, user, amount)| Step::TopUp { reservation, user, amount }),
        2 => (1..8u64).prop_map(|reservation| Step::Cancel { reservation }),
        1 => (1..8u64).prop_map(|reservation| Step::Redeploy { reservation }),
        2 => (1..=3u32).prop_map(|node| Step::Claim { node }),
        1 => (1..=3u32, 0..10u32).prop_map(|(node, cru)| Step::Capacity { node, cru }),
        1 => (1..=3u32, any::<bool>()).prop_map(|(node, up)| Step::Availability { node, up }),
        1 => (1..=3u32).prop_map(|node| Step::Remove { node }),
        4 => (1..12u64).prop_map(|blocks| Step::Wait { blocks }),
    ]
}

struct World {
    chain: TestChain,
    farmer: SecretKey,
    users: Vec<SecretKey>,
}

fn price() -> Price {
    Price {
        cru: Currency(1_000_000),
        mru: Currency(300_000),
        sru: Currency(7_000),
        hru: Currency(0),
        ipv4: Currency(450_000),
    }
}

fn world() -> World {
    let mut params = dev_params();
    params.fee_address = Some(address_of(&test_key(4, 0)));
    params.grace_period = 4;
    params.min_reservation_blocks = 3;
    let chain = TestChain::with_params(params, &[100], 4, Currency::from_tft(1_000_000));
    let farmer = chain.funded[0].clone();
    let users = chain.funded[1..4].to_vec();
    let mut w = World {
        chain,
        farmer,
        users,
    };
    let farmer = w.farmer.clone();
    let mut ops = vec![GridOp::RegisterFarm {
        name: FarmName("props".into()),
        owner: Condition::Address(address_of(&farmer)),
        payout: address_of(&farmer),
    }];
    for i in 0..3u32 {
        ops.push(GridOp::RegisterNode {
            farm: 1,
            node_key: test_key(3, u64::from(i)).public_key(),
            capacity: Resources {
                cru: 4 + 2 * i,
                mru: 16,
                sru: 300,
                hru: 100,
                ipv4: 2,
            },
            price: price(),
            farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
            node_sig: Signature::ZERO,
        });
    }
    let keys: Vec<SecretKey> = (0..3).map(|i| test_key(3, i)).collect();
    let tx = grid_tx(&w.chain, &farmer, ops, &keys).expect("the farmer pays");
    w.chain.produce(vec![tx]).expect("the registry applies");
    w
}

impl World {
    /// The transaction for `step` (`None` for waiting), signed by whoever must sign.
    fn tx(&self, step: &Step) -> Option<tfchain_types::Transaction> {
        let farm_auth = tfchain_types::unsigned_by(&self.farmer.public_key());
        let owner_of = |id: u64| {
            self.chain
                .state
                .reservation(id)
                .and_then(|r| {
                    self.users
                        .iter()
                        .find(|u| r.owner == Condition::Address(address_of(u)))
                        .cloned()
                })
                .unwrap_or_else(|| self.users[0].clone())
        };
        let (payer, op) = match step.clone() {
            Step::Wait { .. } => return None,
            Step::Reserve {
                user,
                node,
                res: (cru, mru, sru, ipv4),
                blocks,
            } => {
                let resources = Resources {
                    cru,
                    mru,
                    sru,
                    hru: 0,
                    ipv4,
                };
                let rate = price().rate(&resources).unwrap_or(Currency::ZERO);
                let u = self.users[user].clone();
                let op = GridOp::Reserve {
                    node,
                    resources,
                    deposit: Currency(rate.0 * u128::from(blocks)),
                    max_rate: rate,
                    deployment_hash: Hash([1; 32]),
                    deployment_data: vec![],
                    owner: Condition::Address(address_of(&u)),
                };
                (u, op)
            }
            Step::TopUp {
                reservation,
                user,
                amount,
            } => (
                self.users[user].clone(),
                GridOp::TopUp {
                    reservation,
                    amount: Currency(amount),
                },
            ),
            Step::Cancel { reservation } => {
                let owner = owner_of(reservation);
                let owner_auth = tfchain_types::unsigned_by(&owner.public_key());
                (
                    owner,
                    GridOp::Cancel {
                        reservation,
                        owner_auth,
                    },
                )
            }
            Step::Redeploy { reservation } => {
                let owner = owner_of(reservation);
                let owner_auth = tfchain_types::unsigned_by(&owner.public_key());
                (
                    owner,
                    GridOp::UpdateDeployment {
                        reservation,
                        deployment_hash: Hash([2; 32]),
                        deployment_data: vec![1, 2, 3],
                        owner_auth,
                    },
                )
            }
            Step::Claim { node } => (self.farmer.clone(), GridOp::Claim { node, farm_auth }),
            Step::Capacity { node, cru } => (
                self.farmer.clone(),
                GridOp::UpdateNode {
                    node,
                    capacity: Some(Resources {
                        cru,
                        mru: 16,
                        sru: 300,
                        hru: 100,
                        ipv4: 2,
                    }),
                    price: None,
                    state: None,
                    farm_auth,
                },
            ),
            Step::Availability { node, up } => (
                self.farmer.clone(),
                GridOp::UpdateNode {
                    node,
                    capacity: None,
                    price: None,
                    state: Some(if up {
                        Availability::Up
                    } else {
                        Availability::Down
                    }),
                    farm_auth,
                },
            ),
            Step::Remove { node } => (self.farmer.clone(), GridOp::RemoveNode { node, farm_auth }),
        };
        grid_tx(&self.chain, &payer, vec![op], &[])
    }

    fn check(&self) {
        let s = &self.chain.state;
        assert_eq!(
            s.total_coins().0 + s.grid_held().0,
            self.chain.expected_supply().0,
            "§6 supply with escrow and unclaimed earnings"
        );
        let reservations: Vec<_> = (1..=s.counters().reservations)
            .map(|id| s.reservation(id).expect("reservations are kept"))
            .collect();
        for id in 1..=s.counters().nodes {
            let node = s.node(id).expect("nodes are kept");
            let used = reservations
                .iter()
                .filter(|r| r.node == id && r.is_live())
                .try_fold(Resources::ZERO, |acc, r| acc.checked_add(&r.resources))
                .expect("no overflow");
            assert_eq!(node.used, used, "node {id}: used == Σ live reservations");
            assert!(
                node.used.fits_within(&node.capacity),
                "node {id}: used <= capacity"
            );
            let live: Vec<u64> = reservations
                .iter()
                .filter(|r| r.node == id && r.is_live())
                .map(|r| r.id)
                .collect();
            assert_eq!(
                s.node_reservations(id),
                live,
                "the node index lists the live ones"
            );
        }
        // Every live reservation is indexed exactly once, at a height still to come.
        let tip = s.height();
        let indexed: Vec<(u64, u64)> = s
            .grid
            .0
            .keys()
            .filter_map(|k| match k {
                tfchain_contracts::GridKey::Expiry(h, r) => Some((*h, *r)),
                _ => None,
            })
            .collect();
        for r in &reservations {
            let at: Vec<u64> = indexed
                .iter()
                .filter(|(_, id)| *id == r.id)
                .map(|(h, _)| *h)
                .collect();
            if r.is_live() {
                assert_eq!(at.len(), 1, "reservation {} indexed once: {at:?}", r.id);
                assert!(at[0] > tip, "indexed in the future");
            } else {
                assert!(at.is_empty(), "ended reservation {} not indexed", r.id);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn grid_invariants_hold_and_undo_retraces_every_block(steps in prop::collection::vec(step(), 1..30)) {
        let mut w = world();
        w.check();
        let mut history: Vec<MemoryState> = vec![w.chain.state.clone()];
        for s in &steps {
            let blocks = match s {
                Step::Wait { blocks } => *blocks,
                _ => 1,
            };
            for _ in 0..blocks {
                let txs: Vec<_> = w.tx(s).into_iter().collect();
                let before = w.chain.state.clone();
                if w.chain.produce(txs).is_err() {
                    prop_assert_eq!(&w.chain.state, &before, "a refused block changes nothing");
                    w.chain.produce(vec![]).expect("an empty block applies");
                }
                w.check();
                history.push(w.chain.state.clone());
            }
        }
        while history.len() > 1 {
            history.pop();
            prop_assert!(w.chain.state.undo_tip());
            prop_assert_eq!(&w.chain.state, history.last().expect("not empty"));
        }
    }
}
