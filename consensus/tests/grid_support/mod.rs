//! Shared by the grid rule tests: a chain with farm 1 and node 1 registered, op builders,
//! and the §6/§7.5 invariant check.
#![allow(dead_code)]

use tfchain_consensus::testkit::{address_of, dev_params, grid_tx, test_key, TestChain};
use tfchain_consensus::{BlockError, StateView, TxError};
use tfchain_contracts::{GridError, GridReads};
use tfchain_types::{
    Address, Condition, Currency, FarmName, GridEventKind, GridOp, Hash, OutputId, Price,
    Resources, SecretKey, Signature,
};

pub struct Net {
    pub chain: TestChain,
    pub farmer: SecretKey,
    pub user: SecretKey,
    pub other: SecretKey,
    pub fee_key: SecretKey,
}

pub const CAPACITY: Resources = Resources {
    cru: 8,
    mru: 32,
    sru: 500,
    hru: 1000,
    ipv4: 2,
};

pub fn price() -> Price {
    Price {
        cru: Currency(1_000_000),
        mru: Currency(500_000),
        sru: Currency(10_000),
        hru: Currency(1_000),
        ipv4: Currency(500_000),
    }
}

pub fn small() -> Resources {
    Resources {
        cru: 2,
        mru: 4,
        sru: 50,
        hru: 0,
        ipv4: 1,
    }
}

/// 2×1M + 4×0.5M + 50×10k + 1×0.5M = 5,000,000 base units per block.
pub const SMALL_RATE: Currency = Currency(5_000_000);

pub fn node_key(i: u64) -> SecretKey {
    test_key(3, i)
}

/// A chain with farm 1 (owner `farmer`) and node 1 (node key 0) registered.
pub fn net() -> Net {
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

pub fn register_node(owner: &SecretKey, farm: u32, key: u64) -> GridOp {
    GridOp::RegisterNode {
        farm,
        node_key: node_key(key).public_key(),
        capacity: CAPACITY,
        price: price(),
        farm_auth: tfchain_types::unsigned_by(&owner.public_key()),
        node_sig: Signature::ZERO,
    }
}

pub fn reserve(owner: &SecretKey, node: u32, resources: Resources, blocks: u128) -> GridOp {
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
    pub fn ok(
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
    pub fn refused(
        &mut self,
        payer: &SecretKey,
        ops: Vec<GridOp>,
        signers: &[SecretKey],
    ) -> TxError {
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

    pub fn grid_err(
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

    pub fn empty_blocks(&mut self, n: u64) -> Vec<GridEventKind> {
        let mut events = Vec::new();
        for _ in 0..n {
            let (o, _) = self.chain.produce(vec![]).expect("an empty block applies");
            events.extend(o.events.into_iter().map(|e| e.kind));
        }
        events
    }

    pub fn height(&self) -> u64 {
        self.chain.state.height()
    }

    pub fn check_invariants(&self) {
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
    pub fn payouts_to(&self, address: &Address) -> Vec<Currency> {
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
