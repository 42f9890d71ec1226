//! A deterministic chain simulation (issue #2 §5): 4 validators with stakes 1:2:3:4 produce
//! 2,100 blocks by the real lottery on an in-memory state with a virtual clock, while users
//! send payments, fund and spend 2-of-3 multisigs, run atomic swaps (claimed and refunded)
//! and lock outputs in time. Checks block timing, stake-proportional production, the supply
//! invariant after every block, and that undoing 100 blocks restores the state exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, sign_all, TestChain};
use tfchain_consensus::StateView;
use tfchain_types::{
    Address, AtomicSwapCondition, Condition, Currency, Fulfillment, Input, KeySignature,
    LockedCondition, MultiSigCondition, Output, OutputId, Secret, SecretKey, Signature,
    Transaction, TX_VERSION,
};

const BLOCKS: u64 = 2_100;
const FEE: Currency = Currency(10_000_000);

/// Something locked earlier that a later block spends.
enum Pending {
    MultiSig {
        output: OutputId,
        value: Currency,
        signers: [usize; 2],
    },
    Swap {
        output: OutputId,
        value: Currency,
        cond: AtomicSwapCondition,
        secret: Secret,
        sender: usize,
        receiver: usize,
        claim: bool,
    },
    TimeLock {
        output: OutputId,
        value: Currency,
        until: u64,
        owner: usize,
    },
}

struct Sim {
    chain: TestChain,
    rng: ChaCha8Rng,
    pending: VecDeque<Pending>,
    spent: usize,
}

fn tx(inputs: Vec<Input>, outputs: Vec<Output>) -> Transaction {
    Transaction {
        version: TX_VERSION,
        coin_inputs: inputs,
        coin_outputs: outputs,
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: FEE,
        arbitrary_data: vec![],
        grid_ops: vec![],
    }
}

fn to(key: &SecretKey, value: Currency) -> Output {
    Output {
        value,
        condition: Condition::Address(address_of(key)),
    }
}

impl Sim {
    fn key(&self, i: usize) -> &SecretKey {
        &self.chain.funded[i]
    }

    /// The largest spendable output of user `i` not used yet in this block.
    fn pick(&self, i: usize, used: &[OutputId]) -> Option<(OutputId, Currency)> {
        self.chain
            .spendable(&address_of(self.key(i)))
            .into_iter()
            .filter(|(id, _)| !used.contains(id))
            .max_by_key(|(_, e)| e.value)
            .map(|(id, e)| (id, e.value))
    }

    /// Builds a payment-like transaction from user `from` paying `outputs` plus change.
    fn spend(
        &self,
        from: usize,
        used: &mut Vec<OutputId>,
        mut outputs: Vec<Output>,
    ) -> Option<Transaction> {
        let (id, value) = self.pick(from, used)?;
        let out_sum: u128 = outputs.iter().map(|o| o.value.0).sum();
        let change = value.0.checked_sub(out_sum + FEE.0)?;
        if change > 0 {
            outputs.push(to(self.key(from), Currency(change)));
        }
        used.push(id);
        let mut t = tx(
            vec![Input {
                parent: id,
                fulfillment: Fulfillment::Signature(KeySignature {
                    public_key: self.key(from).public_key(),
                    signature: Signature::ZERO,
                }),
            }],
            outputs,
        );
        sign_all(&mut t, self.key(from), &self.chain.params.genesis_id);
        Some(t)
    }

    /// New transactions for the next block, and pending locks to create.
    fn transactions(&mut self) -> (Vec<Transaction>, Vec<Pending>) {
        let mut txs = Vec::new();
        let mut new_pending = Vec::new();
        let mut used = Vec::new();
        let users = self.chain.funded.len();
        let genesis = self.chain.params.genesis_id;
        let tip = self.chain.state.tip();
        let next_height = tip.height + 1;

        // Spend what has come due (time locks passed, swaps claimable or refundable).
        let mut keep = VecDeque::new();
        while let Some(p) = self.pending.pop_front() {
            match self.spend_pending(&p, next_height, tip.timestamp + 1, &genesis) {
                Some(t) => {
                    used.extend(t.coin_inputs.iter().map(|i| i.parent));
                    txs.push(t);
                    self.spent += 1;
                }
                None => keep.push_back(p),
            }
        }
        self.pending = keep;

        for _ in 0..self.rng.gen_range(0..4) {
            let from = self.rng.gen_range(0..users);
            let other = (from + self.rng.gen_range(1..users)) % users;
            let third = (1..users)
                .map(|k| (other + k) % users)
                .find(|&u| u != from)
                .unwrap_or(from);
            let amount = Currency::from_tft(self.rng.gen_range(1..50));
            match self.rng.gen_range(0..10) {
                0 => {
                    let cond = MultiSigCondition {
                        min: 2,
                        addresses: vec![
                            address_of(self.key(from)),
                            address_of(self.key(other)),
                            address_of(self.key(third)),
                        ],
                    };
                    let out = Output {
                        value: amount,
                        condition: Condition::MultiSig(cond),
                    };
                    if let Some(t) = self.spend(from, &mut used, vec![out]) {
                        new_pending.push(Pending::MultiSig {
                            output: Transaction::coin_output_id(&t.txid(), 0),
                            value: amount,
                            signers: [other, third],
                        });
                        txs.push(t);
                    }
                }
                1 => {
                    let secret = Secret(self.rng.gen());
                    let claim = self.rng.gen_bool(0.5);
                    // Refunds need the timeout to pass; claims happen well before it.
                    let timeout = tip.timestamp + if claim { 10_000 } else { 30 };
                    let cond = AtomicSwapCondition {
                        sender: address_of(self.key(from)),
                        receiver: address_of(self.key(other)),
                        hashed_secret: secret.hashed(),
                        timeout,
                    };
                    let out = Output {
                        value: amount,
                        condition: Condition::AtomicSwap(cond.clone()),
                    };
                    if let Some(t) = self.spend(from, &mut used, vec![out]) {
                        new_pending.push(Pending::Swap {
                            output: Transaction::coin_output_id(&t.txid(), 0),
                            value: amount,
                            cond,
                            secret,
                            sender: from,
                            receiver: other,
                            claim,
                        });
                        txs.push(t);
                    }
                }
                2 => {
                    let until = if self.rng.gen_bool(0.5) {
                        next_height + self.rng.gen_range(1..8)
                    } else {
                        tip.timestamp + self.rng.gen_range(1..20)
                    };
                    let out = Output {
                        value: amount,
                        condition: Condition::TimeLock {
                            until,
                            inner: LockedCondition::Address(address_of(self.key(other))),
                        },
                    };
                    if let Some(t) = self.spend(from, &mut used, vec![out]) {
                        new_pending.push(Pending::TimeLock {
                            output: Transaction::coin_output_id(&t.txid(), 0),
                            value: amount,
                            until,
                            owner: other,
                        });
                        txs.push(t);
                    }
                }
                _ => {
                    let out = to(self.key(other), amount);
                    if let Some(t) = self.spend(from, &mut used, vec![out]) {
                        txs.push(t);
                    }
                }
            }
        }
        (txs, new_pending)
    }

    fn spend_pending(
        &self,
        p: &Pending,
        height: u64,
        min_timestamp: u64,
        genesis: &tfchain_types::BlockId,
    ) -> Option<Transaction> {
        match p {
            Pending::MultiSig {
                output,
                value,
                signers,
                ..
            } => {
                let recipient = self.key(signers[0]);
                // The unsigned form keeps the keys: list them before computing the sighash.
                let placeholders = signers
                    .iter()
                    .map(|&s| KeySignature {
                        public_key: self.key(s).public_key(),
                        signature: Signature::ZERO,
                    })
                    .collect();
                let mut t = tx(
                    vec![Input {
                        parent: *output,
                        fulfillment: Fulfillment::MultiSignature(placeholders),
                    }],
                    vec![to(recipient, Currency(value.0 - FEE.0))],
                );
                let sighash = t.sighash(genesis);
                let sigs = signers
                    .iter()
                    .map(|&s| KeySignature {
                        public_key: self.key(s).public_key(),
                        signature: self.key(s).sign_hash(&sighash),
                    })
                    .collect();
                t.coin_inputs[0].fulfillment = Fulfillment::MultiSignature(sigs);
                Some(t)
            }
            Pending::Swap {
                output,
                value,
                cond,
                secret,
                sender,
                receiver,
                claim,
            } => {
                let who = if *claim { *receiver } else { *sender };
                // A refund may go in only once every possible next timestamp is past timeout.
                if !*claim && min_timestamp < cond.timeout {
                    return None;
                }
                let key = self.key(who);
                // The unsigned form keeps the fulfillment's variant: sign the final shape.
                let blank = if *claim {
                    Fulfillment::Claim {
                        public_key: key.public_key(),
                        signature: Signature::ZERO,
                        secret: Secret::default(),
                    }
                } else {
                    Fulfillment::Refund {
                        public_key: key.public_key(),
                        signature: Signature::ZERO,
                    }
                };
                let mut t = tx(
                    vec![Input {
                        parent: *output,
                        fulfillment: blank,
                    }],
                    vec![to(key, Currency(value.0 - FEE.0))],
                );
                let signature = key.sign_hash(&t.sighash(genesis));
                t.coin_inputs[0].fulfillment = if *claim {
                    Fulfillment::Claim {
                        public_key: key.public_key(),
                        signature,
                        secret: *secret,
                    }
                } else {
                    Fulfillment::Refund {
                        public_key: key.public_key(),
                        signature,
                    }
                };
                Some(t)
            }
            Pending::TimeLock {
                output,
                value,
                until,
                owner,
            } => {
                let passed = if *until < tfchain_types::LOCK_TIME_THRESHOLD {
                    *until <= height
                } else {
                    *until <= min_timestamp
                };
                if !passed {
                    return None;
                }
                let key = self.key(*owner);
                let mut t = tx(
                    vec![Input {
                        parent: *output,
                        fulfillment: Fulfillment::Signature(KeySignature {
                            public_key: key.public_key(),
                            signature: Signature::ZERO,
                        }),
                    }],
                    vec![to(key, Currency(value.0 - FEE.0))],
                );
                sign_all(&mut t, key, genesis);
                Some(t)
            }
        }
    }
}

#[test]
fn four_validators_two_thousand_blocks() {
    let stakes = [100u64, 200, 300, 400];
    let mut sim = Sim {
        chain: TestChain::new(&stakes, 8, Currency::from_tft(1_000_000)),
        rng: ChaCha8Rng::seed_from_u64(2026),
        pending: VecDeque::new(),
        spent: 0,
    };
    let mut produced = [0u64; 4];
    let mut confirmed_txs = 0usize;
    let mut snapshot: Option<MemoryState> = None;
    let initial_stake = sim.chain.state.total_stake();

    for height in 1..=BLOCKS {
        if height == BLOCKS - 99 {
            snapshot = Some(sim.chain.state.clone());
        }
        let (txs, new_pending) = sim.transactions();
        confirmed_txs += txs.len();
        let (outcome, v) = sim
            .chain
            .produce(txs)
            .unwrap_or_else(|e| panic!("block {height} rejected: {e}"));
        assert_eq!(outcome.meta.height, height);
        produced[v] += 1;
        sim.pending.extend(new_pending);

        // §6: Σ unspent coins == genesis coins + Σ block rewards, after every block.
        assert_eq!(
            sim.chain.state.total_coins(),
            sim.chain.expected_supply(),
            "supply invariant broken at height {height}"
        );
        assert_eq!(sim.chain.state.total_stake(), initial_stake);
    }

    // Timing: after the first retarget windows, the mean interval is within 10 %.
    let from = 200u64;
    let state = &sim.chain.state;
    let t0 = state.block_at(from).map(|m| m.timestamp).unwrap_or(0);
    let t1 = state.tip().timestamp;
    let mean_x1000 = (t1 - t0) * 1000 / (BLOCKS - from);
    let target_x1000 = sim.chain.params.block_time * 1000;
    assert!(
        mean_x1000 * 10 >= target_x1000 * 9 && mean_x1000 * 10 <= target_x1000 * 11,
        "mean block interval {mean_x1000} ms, target {target_x1000} ms"
    );

    // Production follows stake: each share within 3 percentage points.
    let total_stake: u64 = stakes.iter().sum();
    for (i, (&n, &s)) in produced.iter().zip(&stakes).enumerate() {
        let share_bp = n * 10_000 / BLOCKS;
        let stake_bp = s * 10_000 / total_stake;
        assert!(
            share_bp.abs_diff(stake_bp) <= 300,
            "validator {i} produced {share_bp} bp of blocks with {stake_bp} bp of stake ({produced:?})"
        );
    }

    eprintln!(
        "produced {produced:?}, mean interval {mean_x1000} ms, {confirmed_txs} txs, {} locks spent",
        sim.spent
    );
    // The workload really exercised every feature.
    assert!(confirmed_txs > 2_000, "only {confirmed_txs} transactions");
    assert!(
        sim.spent > 200,
        "only {} locked outputs were spent",
        sim.spent
    );

    // Undo the last 100 blocks: the state is exactly what it was.
    for _ in 0..100 {
        assert!(sim.chain.state.undo_tip());
    }
    assert_eq!(Some(&sim.chain.state), snapshot.as_ref());
}

#[test]
fn multisig_and_swap_addresses_are_the_conditions_addresses() {
    let chain = TestChain::new(&[1], 3, Currency::from_tft(1));
    let a: Vec<Address> = chain.funded.iter().map(address_of).collect();
    let cond = Condition::MultiSig(MultiSigCondition {
        min: 2,
        addresses: a.clone(),
    });
    assert_eq!(cond.address(), Address::multisig(2, &a));
    let lock = Condition::TimeLock {
        until: 5,
        inner: LockedCondition::Address(a[0]),
    };
    assert_eq!(lock.address(), a[0]);
}
