//! The `apply_block` target: blocks applied to one fixed small state (a `TestChain` with a
//! farm, a node, a live reservation and a multisig output), built once per process.
//!
//! Input: the first byte picks the mode (`byte % 4`), the rest is read as:
//! - mode 0: a whole block (`decode_block`), applied at the clock of its own timestamp. A
//!   mutated valid block: the fuzzer starts from the state's real next blocks.
//! - modes 1-3: a [`TxList`] that the real producer puts in the state's next block (the
//!   real lottery winner, a valid header, tx root and signature), so every input reaches
//!   the transaction rules. Mode 1 and 3 first sign every signature slot whose key is one
//!   of the chain's known keys (`sign_with`); modes 2 and 3 skip transaction signature
//!   verification (`Signatures::AlreadyVerified`), as a node does for a cached WTxId.
//!
//! Invariants: nothing panics; in modes 1-3 the block can fail only on its transactions
//! (a header error would mean the producer and the validator disagree); a block that
//! applies keeps §6 (coins + escrow + earnings = genesis + rewards) and §7.5 (a node's
//! `used` = Σ its live reservations, within capacity), and undoing it restores the state
//! exactly; the state's valid next block (a mode-0 seed) always applies.

use crate::TxList;
use std::sync::OnceLock;
use tfchain_consensus::header::Signatures;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{address_of, dev_params, grid_tx, test_key, TestChain};
use tfchain_consensus::{apply_block_with, BlockError, StakeEntry, StateView};
use tfchain_contracts::GridReads;
use tfchain_types::codec;
use tfchain_types::{
    Block, Condition, Currency, FarmName, GridOp, Hash, MultiSigCondition, Output, OutputId, Price,
    Resources, SecretKey, Signature, Timestamp, Transaction,
};

/// The fixed state and what the producer needs to extend it.
#[derive(Debug)]
pub struct Fixture {
    pub chain: TestChain,
    /// Every key the chain knows: validators, funded keys, the node key.
    pub keys: Vec<SecretKey>,
    /// The next block's lottery winner: timestamp, stake output, validator key.
    pub next: (Timestamp, OutputId, SecretKey),
    /// The state's valid next block (empty) and one with a valid payment.
    pub valid: Vec<Block>,
    /// Valid transactions against the state (the seeds of modes 1-3).
    pub txs: Vec<Transaction>,
    pub farmer: SecretKey,
    pub user: SecretKey,
    pub node_key: SecretKey,
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

pub const SMALL: Resources = Resources {
    cru: 2,
    mru: 4,
    sru: 50,
    hru: 0,
    ipv4: 1,
};

/// 2×1M + 4×0.5M + 50×10k + 1×0.5M base units per block.
pub const SMALL_RATE: Currency = Currency(5_000_000);

fn produce(chain: &mut TestChain, txs: Vec<Transaction>) {
    chain.produce(txs).expect("the fixture's blocks apply");
}

fn build() -> Fixture {
    // One thread: the consensus crate spreads signature checks over rayon, which only adds
    // noise (and threads under the sanitizer) to a single-input run.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();

    let mut params = dev_params();
    params.fee_address = Some(address_of(&test_key(4, 0)));
    params.grace_period = 5;
    let mut chain = TestChain::with_params(params, &[100], 4, Currency::from_tft(1_000_000));
    let farmer = chain.funded[0].clone();
    let user = chain.funded[1].clone();
    let other = chain.funded[2].clone();
    let node_key = test_key(3, 0);

    let op = |chain: &TestChain, payer: &SecretKey, ops: Vec<GridOp>, signers: &[SecretKey]| {
        grid_tx(chain, payer, ops, signers).expect("the payer can pay")
    };
    let farm = GridOp::RegisterFarm {
        name: FarmName("farm-one".into()),
        owner: Condition::Address(address_of(&farmer)),
        payout: address_of(&farmer),
    };
    let t = op(&chain, &farmer, vec![farm], &[]);
    produce(&mut chain, vec![t]);
    let node = GridOp::RegisterNode {
        farm: 1,
        node_key: node_key.public_key(),
        capacity: CAPACITY,
        price: price(),
        farm_auth: tfchain_types::unsigned_by(&farmer.public_key()),
        node_sig: Signature::ZERO,
    };
    let t = op(&chain, &farmer, vec![node], std::slice::from_ref(&node_key));
    produce(&mut chain, vec![t]);
    let t = op(&chain, &user, vec![reserve(&user, 20)], &[]);
    produce(&mut chain, vec![t]);
    // A 2-of-2 multisig output of `user` and `other`.
    let multisig = Condition::MultiSig(MultiSigCondition {
        min: 2,
        addresses: vec![address_of(&user), address_of(&other)],
    });
    let coins = chain.spendable(&address_of(&other));
    let (id, entry) = coins.first().expect("other is funded").clone();
    let t = tfchain_consensus::testkit::payment(
        &[(id, entry.value)],
        &other,
        multisig,
        Currency::from_tft(10),
        chain.params.min_fee,
        &chain.params.genesis_id,
    );
    produce(&mut chain, vec![t]);
    // Mature the payouts and age the stake a little.
    for _ in 0..6 {
        produce(&mut chain, vec![]);
    }

    let mut keys = chain.validators.clone();
    keys.extend(chain.funded.iter().cloned());
    keys.push(node_key.clone());
    let next = next_winner(&chain);
    let mut fx = Fixture {
        chain,
        keys,
        next,
        valid: Vec::new(),
        txs: Vec::new(),
        farmer,
        user,
        node_key,
    };
    fx.txs = valid_txs(&fx);
    fx.valid = vec![
        fx.block(vec![]),
        fx.block(fx.txs.first().cloned().into_iter().collect()),
    ];
    for (i, block) in fx.valid.iter().enumerate() {
        let outcome = apply_block_with(
            &fx.chain.state,
            block,
            &fx.chain.params,
            block.header.timestamp,
            Signatures::Verify,
        );
        assert!(
            outcome.is_ok(),
            "valid block {i} does not apply: {outcome:?}"
        );
    }
    for (i, tx) in fx.txs.iter().enumerate() {
        let block = fx.block(vec![tx.clone()]);
        let outcome = apply_block_with(
            &fx.chain.state,
            &block,
            &fx.chain.params,
            block.header.timestamp,
            Signatures::Verify,
        );
        assert!(
            outcome.is_ok(),
            "seed transaction {i} does not apply: {outcome:?}"
        );
    }
    fx
}

fn reserve(owner: &SecretKey, blocks: u128) -> GridOp {
    GridOp::Reserve {
        node: 1,
        resources: SMALL,
        deposit: Currency(SMALL_RATE.0 * blocks),
        max_rate: SMALL_RATE,
        deployment_hash: Hash([7; 32]),
        deployment_data: b"vm: ubuntu".to_vec(),
        owner: Condition::Address(address_of(owner)),
    }
}

fn next_winner(chain: &TestChain) -> (Timestamp, OutputId, SecretKey) {
    let lottery = Lottery::for_child_of(&chain.state, &chain.params);
    let stakes = chain.validator_stakes();
    let entries: Vec<(OutputId, StakeEntry)> =
        stakes.iter().map(|(_, id, e)| (*id, e.clone())).collect();
    let mut t = chain.state.tip().timestamp + 1;
    loop {
        if let Some((id, _)) = lottery.winner(&chain.params, &entries, t) {
            let v = stakes
                .iter()
                .find(|(_, sid, _)| sid == id)
                .map(|(v, _, _)| *v)
                .unwrap_or(0);
            return (t, *id, chain.validators[v].clone());
        }
        t += 1;
    }
}

/// One valid transaction of each kind the state supports.
fn valid_txs(fx: &Fixture) -> Vec<Transaction> {
    let chain = &fx.chain;
    let genesis = chain.params.genesis_id;
    let fee = chain.params.min_fee;
    let mut out = Vec::new();
    let coins = chain.spendable(&address_of(&fx.user));
    if let Some((id, e)) = coins.first() {
        out.push(tfchain_consensus::testkit::payment(
            &[(*id, e.value)],
            &fx.user,
            Condition::Address(address_of(&fx.farmer)),
            Currency::from_tft(3),
            fee,
            &genesis,
        ));
    }
    let grid = |payer: &SecretKey, ops: Vec<GridOp>, signers: &[SecretKey]| {
        grid_tx(chain, payer, ops, signers).expect("the payer can pay")
    };
    let auth = |k: &SecretKey| tfchain_types::unsigned_by(&k.public_key());
    out.push(grid(&fx.user, vec![reserve(&fx.user, 15)], &[]));
    out.push(grid(
        &fx.user,
        vec![GridOp::TopUp {
            reservation: 1,
            amount: Currency(SMALL_RATE.0 * 3),
        }],
        &[],
    ));
    out.push(grid(
        &fx.user,
        vec![GridOp::UpdateDeployment {
            reservation: 1,
            deployment_hash: Hash([8; 32]),
            deployment_data: b"vm: debian".to_vec(),
            owner_auth: auth(&fx.user),
        }],
        &[],
    ));
    out.push(grid(
        &fx.user,
        vec![GridOp::Cancel {
            reservation: 1,
            owner_auth: auth(&fx.user),
        }],
        &[],
    ));
    out.push(grid(
        &fx.farmer,
        vec![GridOp::UpdateNode {
            node: 1,
            capacity: None,
            price: Some(price()),
            state: Some(tfchain_types::Availability::Down),
            farm_auth: auth(&fx.farmer),
        }],
        &[],
    ));
    out.push(grid(
        &fx.farmer,
        vec![GridOp::Claim {
            node: 1,
            farm_auth: auth(&fx.farmer),
        }],
        &[],
    ));
    // Spend the multisig output into a single-key output (both keys sign).
    let ms = chain
        .state
        .coins
        .iter()
        .find(|(_, e)| matches!(e.condition, Condition::MultiSig(_)))
        .map(|(id, e)| (*id, e.clone()));
    if let Some((id, e)) = ms {
        let other = &chain.funded[2];
        let mut tx = Transaction {
            version: tfchain_types::TX_VERSION,
            coin_inputs: vec![tfchain_types::Input {
                parent: id,
                fulfillment: tfchain_types::Fulfillment::MultiSignature(vec![
                    tfchain_types::KeySignature {
                        public_key: fx.user.public_key(),
                        signature: Signature::ZERO,
                    },
                    tfchain_types::KeySignature {
                        public_key: other.public_key(),
                        signature: Signature::ZERO,
                    },
                ]),
            }],
            coin_outputs: vec![Output {
                value: Currency(e.value.0 - fee.0),
                condition: Condition::Address(address_of(other)),
            }],
            blockstake_inputs: vec![],
            blockstake_outputs: vec![],
            fee,
            arbitrary_data: b"multisig".to_vec(),
            grid_ops: vec![],
        };
        tx.sign_with(&genesis, &[fx.user.clone(), other.clone()]);
        out.push(tx);
    }
    // Move the validator's blockstake to itself (a blockstake transaction).
    if let Some((_, id, e)) = chain.validator_stakes().first().cloned() {
        let key = &chain.validators[0];
        let coins = chain.spendable(&address_of(&fx.farmer));
        let fee_input = coins.first().map(|(cid, ce)| (*cid, ce.value));
        if let Some((cid, cv)) = fee_input {
            let mut tx = Transaction {
                version: tfchain_types::TX_VERSION,
                coin_inputs: vec![tfchain_types::Input {
                    parent: cid,
                    fulfillment: auth(&fx.farmer),
                }],
                coin_outputs: vec![Output {
                    value: Currency(cv.0 - fee.0),
                    condition: Condition::Address(address_of(&fx.farmer)),
                }],
                blockstake_inputs: vec![tfchain_types::Input {
                    parent: id,
                    fulfillment: auth(key),
                }],
                blockstake_outputs: vec![tfchain_types::StakeOutput {
                    value: e.value,
                    condition: Condition::Address(address_of(key)),
                }],
                fee,
                arbitrary_data: vec![],
                grid_ops: vec![],
            };
            tx.sign_with(&genesis, &[fx.farmer.clone(), key.clone()]);
            out.push(tx);
        }
    }
    out
}

impl Fixture {
    /// The state's next block carrying `txs`, from the real lottery winner.
    pub fn block(&self, txs: Vec<Transaction>) -> Block {
        let (t, stake, key) = &self.next;
        assemble_block(&self.chain.state, *t, *stake, key, address_of(key), txs)
    }

    pub fn state(&self) -> &MemoryState {
        &self.chain.state
    }
}

/// The fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    static FX: OnceLock<Fixture> = OnceLock::new();
    FX.get_or_init(build)
}

/// §6 and §7.5 on `s`, a state `blocks` blocks after genesis.
fn check_state(fx: &Fixture, s: &MemoryState) {
    let expected =
        fx.chain.genesis_coins.0 + u128::from(s.tip().height) * fx.chain.params.block_reward.0;
    assert_eq!(
        s.total_coins().0 + s.grid_held().0,
        expected,
        "§6: coins + escrow + earnings != genesis + rewards"
    );
    let counters = s.counters();
    for id in 1..=counters.nodes {
        let node = s.node(id).expect("nodes are never deleted");
        let mut used = Resources::ZERO;
        for rid in 1..=counters.reservations {
            let r = s.reservation(rid).expect("reservations are never deleted");
            if r.node == id && r.is_live() {
                used = used.checked_add(&r.resources).expect("no overflow");
            }
        }
        assert_eq!(node.used, used, "§7.5: used != Σ live reservations");
        assert!(node.used.fits_within(&node.capacity), "used > capacity");
    }
}

fn apply_and_check(fx: &Fixture, block: &Block, sigs: Signatures) -> Result<(), BlockError> {
    let state = fx.state();
    let outcome = apply_block_with(state, block, &fx.chain.params, block.header.timestamp, sigs)?;
    let mut after = state.clone();
    after.commit(&outcome);
    assert_eq!(
        after.tip().id,
        block.id(),
        "the applied block is not the tip"
    );
    check_state(fx, &after);
    assert!(after.undo_tip(), "the applied block cannot be undone");
    assert!(&after == state, "undo does not restore the state exactly");
    Ok(())
}

/// What one `apply_block` input did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Empty, or the rest did not decode.
    NotDecoded,
    /// The block applied (and passed every check), in this mode.
    Applied(u8),
    /// The block was refused, in this mode.
    Refused(u8),
}

/// The `apply_block` target (see the module documentation).
pub fn apply_block(data: &[u8]) {
    let _ = apply_block_outcome(data);
}

/// [`apply_block`], saying what happened (for `examples/replay.rs`).
pub fn apply_block_outcome(data: &[u8]) -> Outcome {
    let fx = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return Outcome::NotDecoded;
    };
    let m = mode % 4;
    let result = if m == 0 {
        let Ok(block) = tfchain_types::decode_block(rest) else {
            return Outcome::NotDecoded;
        };
        let result = apply_and_check(fx, &block, Signatures::Verify);
        if fx.valid.contains(&block) {
            assert!(
                result.is_ok(),
                "a valid block no longer applies: {result:?}"
            );
        }
        result
    } else {
        let Ok(list) = codec::decode::<TxList, { tfchain_types::limits::MAX_BLOCK_SIZE }>(rest)
        else {
            return Outcome::NotDecoded;
        };
        let mut txs = list.txs;
        if m != 2 {
            for tx in &mut txs {
                tx.sign_with(&fx.chain.params.genesis_id, &fx.keys);
            }
        }
        let sigs = if m == 1 {
            Signatures::Verify
        } else {
            Signatures::AlreadyVerified
        };
        let empty = txs.is_empty();
        let block = fx.block(txs);
        let result = apply_and_check(fx, &block, sigs);
        match &result {
            Ok(()) => {}
            Err(BlockError::Tx { .. } | BlockError::TooLarge { .. }) if !empty => {}
            Err(e) => panic!("the producer's block fails on its header: {e:?}"),
        }
        result
    };
    match result {
        Ok(()) => Outcome::Applied(m),
        Err(_) => Outcome::Refused(m),
    }
}

/// The seeds of this target: each valid block (mode 0) and each valid transaction alone
/// (modes 1 and 2) and all together (mode 2), as `(name, bytes)`.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let fx = fixture();
    let mut out = Vec::new();
    for (i, b) in fx.valid.iter().enumerate() {
        let mut bytes = vec![0];
        bytes.extend(codec::encode(b));
        out.push((format!("block-{i}"), bytes));
    }
    let list = |txs: Vec<Transaction>, mode: u8| {
        let mut bytes = vec![mode];
        bytes.extend(codec::encode(&TxList { txs }));
        bytes
    };
    for (i, tx) in fx.txs.iter().enumerate() {
        // Mode 1 signs the blanked slots again; mode 2 keeps the signatures as they are.
        out.push((format!("tx-{i}-resign"), list(vec![tx.unsigned()], 1)));
        out.push((format!("tx-{i}-signed"), list(vec![tx.clone()], 2)));
    }
    out.push(("txs-all".into(), list(fx.txs.clone(), 2)));
    out
}
