//! One negative test per transaction rule: PROTOCOL.md §3 (fulfillments and output
//! conditions) and §4.3 (validity against a state), each asserting the rule's own error
//! variant. Every test first shows the unbroken transaction is accepted in a block (so the
//! test can fail), then breaks exactly one thing, re-signing where the change touches the
//! signature hash so that only the intended rule is violated. The positive cases (multisig,
//! atomic swap claim and refund, time-locked spends, blockstake transfer) live here too.

#[macro_use]
mod support;

use support::*;
use tfchain_consensus::testkit::{
    address_of, payment, sign_all, test_key, TestChain, GENESIS_TIME,
};
use tfchain_consensus::{
    validate_transaction, BlockError, ConditionError, OutputConditionError, Side, SpendContext,
    StateView, TxError,
};
use tfchain_types::limits::{MAX_ARBITRARY_DATA, MAX_INPUTS, MAX_OUTPUTS, MAX_TX_SIZE};
use tfchain_types::{
    Address, AtomicSwapCondition, Condition, Currency, Hash, LockedCondition, MultiSigCondition,
    OutputId, Secret, SecretKey, StakeOutput, Transaction, LOCK_TIME_THRESHOLD,
};

fn chain() -> TestChain {
    TestChain::new(&[100], 3, tft(1000))
}

/// A signed payment of `amount` from funded key `from`'s genesis coin to `to`.
fn pay(chain: &TestChain, from: usize, to: Condition, amount: Currency) -> Transaction {
    payment(
        &[genesis_coin(chain, from)],
        &chain.funded[from],
        to,
        amount,
        chain.params.min_fee,
        &chain.params.genesis_id,
    )
}

fn resign_tx(chain: &TestChain, tx: &mut Transaction, keys: &[&SecretKey]) {
    sign_with(tx, keys, &chain.params.genesis_id);
}

/// Validator 0 moves its genesis stake to `outputs`; funded key 0 pays the fee.
fn stake_tx(chain: &TestChain, outputs: Vec<StakeOutput>) -> Transaction {
    let coin = genesis_coin(chain, 0);
    let (stake, _) = genesis_stake(chain, 0);
    let fee = chain.params.min_fee;
    let mut tx = coin_tx(
        vec![sig_input(coin.0, &chain.funded[0])],
        vec![out(minus(coin.1, fee), key_cond(&chain.funded[0]))],
        fee,
    );
    tx.blockstake_inputs = vec![sig_input(stake, &chain.validators[0])];
    tx.blockstake_outputs = outputs;
    resign_tx(chain, &mut tx, &[&chain.funded[0], &chain.validators[0]]);
    tx
}

#[test]
fn a_valid_payment_is_accepted() {
    let chain = chain();
    let tx = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    let outcome = accept(&chain, vec![tx.clone()]);
    assert_eq!(outcome.fees, chain.params.min_fee);
    let ctx = SpendContext {
        height: 1,
        timestamp: GENESIS_TIME + 1,
    };
    let effect =
        validate_transaction(&chain.state, &tx, &chain.params, &ctx).expect("valid payment");
    assert_eq!(effect.coins_spent.len(), 1);
    assert_eq!(effect.coins_created.len(), 2);
}

// ---------------------------------------------------------------------------------------
// §4.3 rule 1: version, sizes, counts, duplicates
// ---------------------------------------------------------------------------------------

#[test]
fn version_must_be_1() {
    let chain = chain();
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&chain, vec![good.clone()]);
    for version in [0u8, 2, 255] {
        let mut bad = good.clone();
        bad.version = version;
        resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
        let err = reject(&chain, vec![bad]);
        assert_tx_err!(err, 0, TxError::UnsupportedVersion(v) if *v == version);
        assert!(err.is_peer_fault());
    }
}

#[test]
fn transaction_size_is_at_most_32768_bytes() {
    let chain = chain();
    let good = filler_tx(
        &chain,
        genesis_coin(&chain, 0),
        &chain.funded[0],
        MAX_TX_SIZE,
    );
    assert_eq!(good.encoded_len(), MAX_TX_SIZE);
    accept(&chain, vec![good.clone()]);

    let mut bad = good;
    bad.arbitrary_data.push(0);
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::TooLarge { size, max } if *size == MAX_TX_SIZE + 1 && *max == MAX_TX_SIZE
    );
}

#[test]
fn at_most_256_inputs_of_each_kind() {
    let chain = chain();
    let fee = chain.params.min_fee;
    let (c0, c1) = (genesis_coin(&chain, 0), genesis_coin(&chain, 1));
    let mut good = coin_tx(
        vec![
            sig_input(c0.0, &chain.funded[0]),
            sig_input(c1.0, &chain.funded[1]),
        ],
        vec![out(minus(tft(2000), fee), key_cond(&chain.funded[2]))],
        fee,
    );
    resign_tx(&chain, &mut good, &[&chain.funded[0], &chain.funded[1]]);
    accept(&chain, vec![good.clone()]);

    let mut bad = good.clone();
    while bad.coin_inputs.len() <= MAX_INPUTS {
        bad.coin_inputs.push(bad.coin_inputs[0].clone());
    }
    let err = reject(&chain, vec![bad.clone()]);
    assert_tx_err!(
        err,
        0,
        TxError::TooManyInputs {
            side: Side::Coin,
            count: 257,
            max: 256
        }
    );

    // Exactly 256 inputs pass the count rule (and then, at 132 bytes each, the size rule
    // is what stops them: the count limit can never be reached by a valid transaction).
    bad.coin_inputs.truncate(MAX_INPUTS);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(err, 0, TxError::TooLarge { .. });

    let good = stake_tx(&chain, vec![stake_out(100, key_cond(&chain.validators[0]))]);
    accept(&chain, vec![good.clone()]);
    let mut bad = good;
    while bad.blockstake_inputs.len() <= MAX_INPUTS {
        bad.blockstake_inputs.push(bad.blockstake_inputs[0].clone());
    }
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::TooManyInputs {
            side: Side::BlockStake,
            count: 257,
            max: 256
        }
    );
}

#[test]
fn at_most_256_outputs_of_each_kind() {
    let chain = TestChain::new(&[1000], 3, tft(1000));
    let fee = chain.params.min_fee;
    let coin = genesis_coin(&chain, 0);
    let to = key_cond(&chain.funded[1]);
    let coins_tx = |n: usize| {
        let mut outputs = vec![out(Currency(1), to.clone()); n - 1];
        let spent = Currency((n - 1) as u128 + fee.0);
        outputs.push(out(minus(coin.1, spent), key_cond(&chain.funded[0])));
        let mut tx = coin_tx(vec![sig_input(coin.0, &chain.funded[0])], outputs, fee);
        resign_tx(&chain, &mut tx, &[&chain.funded[0]]);
        tx
    };
    let good = coins_tx(MAX_OUTPUTS);
    assert_eq!(good.coin_outputs.len(), 256);
    accept(&chain, vec![good]);
    let err = reject(&chain, vec![coins_tx(MAX_OUTPUTS + 1)]);
    assert_tx_err!(
        err,
        0,
        TxError::TooManyOutputs {
            side: Side::Coin,
            count: 257,
            max: 256
        }
    );

    let stakes = |n: usize| {
        let mut outputs = vec![stake_out(1, key_cond(&chain.validators[0])); n - 1];
        outputs.push(stake_out(
            1000 - (n as u64 - 1),
            key_cond(&chain.validators[0]),
        ));
        stake_tx(&chain, outputs)
    };
    accept(&chain, vec![stakes(MAX_OUTPUTS)]);
    let err = reject(&chain, vec![stakes(MAX_OUTPUTS + 1)]);
    assert_tx_err!(
        err,
        0,
        TxError::TooManyOutputs {
            side: Side::BlockStake,
            count: 257,
            max: 256
        }
    );
}

#[test]
fn arbitrary_data_is_at_most_255_bytes() {
    let chain = chain();
    let mut good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    good.arbitrary_data = vec![7; MAX_ARBITRARY_DATA];
    resign_tx(&chain, &mut good, &[&chain.funded[0]]);
    accept(&chain, vec![good.clone()]);

    let mut bad = good;
    bad.arbitrary_data.push(7);
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::ArbitraryDataTooLarge {
            size: 256,
            max: 255
        }
    );
}

#[test]
fn a_coin_input_may_not_appear_twice() {
    let chain = chain();
    let fee = chain.params.min_fee;
    let (c0, c1) = (genesis_coin(&chain, 0), genesis_coin(&chain, 1));
    assert_eq!(c0.1, c1.1, "equal values keep the duplicate balanced");
    let mut good = coin_tx(
        vec![
            sig_input(c0.0, &chain.funded[0]),
            sig_input(c1.0, &chain.funded[1]),
        ],
        vec![out(minus(tft(2000), fee), key_cond(&chain.funded[2]))],
        fee,
    );
    resign_tx(&chain, &mut good, &[&chain.funded[0], &chain.funded[1]]);
    accept(&chain, vec![good.clone()]);

    let mut bad = good;
    bad.coin_inputs[1] = bad.coin_inputs[0].clone();
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(err, 0, TxError::DuplicateInput { parent } if *parent == c0.0);
}

#[test]
fn a_parent_may_not_be_spent_as_coin_and_blockstake_at_once() {
    let chain = chain();
    let good = stake_tx(&chain, vec![stake_out(100, key_cond(&chain.validators[0]))]);
    accept(&chain, vec![good.clone()]);

    let coin = genesis_coin(&chain, 0).0;
    let mut bad = good;
    bad.blockstake_inputs[0].parent = coin;
    resign_tx(&chain, &mut bad, &[&chain.funded[0], &chain.validators[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(err, 0, TxError::DuplicateInput { parent } if *parent == coin);
}

// ---------------------------------------------------------------------------------------
// §4.3 rule 2: unspent parent of the right kind, mature
// ---------------------------------------------------------------------------------------

#[test]
fn an_unknown_parent_is_missing() {
    let chain = chain();
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&chain, vec![good.clone()]);
    let unknown = OutputId(Hash([0x77; 32]));

    let mut bad = good;
    bad.coin_inputs[0].parent = unknown;
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::MissingInput { side: Side::Coin, index: 0, parent } if *parent == unknown
    );
    let BlockError::Tx { source, .. } = &err else {
        unreachable!("checked above")
    };
    assert!(
        !source.is_sender_fault(),
        "a parent this node has not seen may still arrive"
    );

    let good = stake_tx(&chain, vec![stake_out(100, key_cond(&chain.validators[0]))]);
    accept(&chain, vec![good.clone()]);
    let mut bad = good;
    bad.blockstake_inputs[0].parent = unknown;
    resign_tx(&chain, &mut bad, &[&chain.funded[0], &chain.validators[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::MissingInput { side: Side::BlockStake, index: 0, parent } if *parent == unknown
    );
}

#[test]
fn a_double_spend_inside_one_block_is_missing_its_parent() {
    let chain = chain();
    let first = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    let second = pay(&chain, 0, key_cond(&chain.funded[2]), tft(20));
    accept(&chain, vec![first.clone()]);
    accept(&chain, vec![second.clone()]);

    let spent = genesis_coin(&chain, 0).0;
    let err = reject(&chain, vec![first, second]);
    assert_tx_err!(
        err,
        1,
        TxError::MissingInput { side: Side::Coin, index: 0, parent } if *parent == spent
    );
}

#[test]
fn an_output_spent_in_an_earlier_block_is_missing() {
    let mut chain = chain();
    let first = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    let second = pay(&chain, 0, key_cond(&chain.funded[2]), tft(20));
    accept(&chain, vec![second.clone()]);
    commit(&mut chain, vec![first]);

    let spent = genesis_coin(&chain, 0).0;
    let err = reject(&chain, vec![second]);
    assert_tx_err!(
        err,
        0,
        TxError::MissingInput { side: Side::Coin, index: 0, parent } if *parent == spent
    );
}

#[test]
fn an_output_created_earlier_in_the_same_block_is_spendable() {
    let chain = chain();
    let fee = chain.params.min_fee;
    let first = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    let created = (Transaction::coin_output_id(&first.txid(), 0), tft(10));
    let second = payment(
        &[created],
        &chain.funded[1],
        key_cond(&chain.funded[2]),
        minus(tft(10), fee),
        fee,
        &chain.params.genesis_id,
    );
    let outcome = accept(&chain, vec![first.clone(), second.clone()]);
    // Created and spent in the block: it appears in neither list of the diff.
    assert!(outcome
        .diff
        .coins_created
        .iter()
        .all(|(id, _)| *id != created.0));
    assert!(outcome
        .diff
        .coins_spent
        .iter()
        .all(|(id, _)| *id != created.0));
    // In the other order the parent does not exist yet.
    let err = reject(&chain, vec![second, first]);
    assert_tx_err!(
        err,
        0,
        TxError::MissingInput { side: Side::Coin, index: 0, parent } if *parent == created.0
    );
}

#[test]
fn an_input_must_spend_an_output_of_its_own_kind() {
    let chain = chain();
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&chain, vec![good.clone()]);
    let (stake, _) = genesis_stake(&chain, 0);
    let mut bad = good;
    bad.coin_inputs[0].parent = stake;
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::WrongInputKind {
            side: Side::Coin,
            index: 0,
            parent,
            actual: Side::BlockStake,
        } if *parent == stake
    );

    let good = stake_tx(&chain, vec![stake_out(100, key_cond(&chain.validators[0]))]);
    accept(&chain, vec![good.clone()]);
    let coin = genesis_coin(&chain, 1).0;
    let mut bad = good;
    bad.blockstake_inputs[0].parent = coin;
    resign_tx(&chain, &mut bad, &[&chain.funded[0], &chain.validators[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::WrongInputKind {
            side: Side::BlockStake,
            index: 0,
            parent,
            actual: Side::Coin,
        } if *parent == coin
    );
}

#[test]
fn block_payouts_mature_exactly_maturity_delay_blocks_later() {
    let mut chain = TestChain::new(&[100], 2, tft(1000));
    let validator = chain.validators[0].clone();
    let fee = chain.params.min_fee;
    let first = pay(&chain, 0, key_cond(&chain.funded[1]), tft(1));
    let b1 = commit(&mut chain, vec![first]);
    let h = b1.header.height;
    let mature_at = h + chain.params.maturity_delay;
    let reward = (OutputId::for_payout(&b1.id(), 0), chain.params.block_reward);
    let fees = (OutputId::for_payout(&b1.id(), 1), fee);
    for (id, value) in [reward, fees] {
        let entry = &chain.state.coins[&id];
        assert_eq!((entry.value, entry.mature_at), (value, mature_at));
        assert_eq!(entry.condition, key_cond(&validator));
    }
    let total = Currency(reward.1 .0 + fees.1 .0);
    let spend = |inputs: &[(OutputId, Currency)], chain: &TestChain| {
        payment(
            inputs,
            &validator,
            key_cond(&chain.funded[0]),
            minus(total, fee),
            fee,
            &chain.params.genesis_id,
        )
    };

    let mut immature_heights = Vec::new();
    while chain.state.tip().height + 1 < mature_at {
        let err = reject(&chain, vec![spend(&[reward, fees], &chain)]);
        assert_tx_err!(
            err,
            0,
            TxError::ImmatureInput { index: 0, parent, mature_at: m }
                if *parent == reward.0 && *m == mature_at
        );
        let BlockError::Tx { source, .. } = &err else {
            unreachable!("checked above")
        };
        assert!(!source.is_sender_fault(), "maturity comes with time");
        let err = reject(&chain, vec![spend(&[fees, reward], &chain)]);
        assert_tx_err!(
            err,
            0,
            TxError::ImmatureInput { index: 0, parent, .. } if *parent == fees.0
        );
        immature_heights.push(chain.state.tip().height + 1);
        commit(&mut chain, vec![]);
    }
    assert_eq!(immature_heights, (h + 1..mature_at).collect::<Vec<_>>());
    assert_eq!(chain.state.tip().height + 1, mature_at);
    accept(&chain, vec![spend(&[reward, fees], &chain)]);
}

// ---------------------------------------------------------------------------------------
// §4.3 rule 3 / §3: fulfillments
// ---------------------------------------------------------------------------------------

const FUNDED: usize = 2;
/// Genesis coin indices of the fixture's condition outputs.
const PLAIN: usize = FUNDED;
const MULTI: usize = FUNDED + 1;
const LOCK_HEIGHT: usize = FUNDED + 2;
const LOCK_TIME: usize = FUNDED + 3;
const SWAP_OPEN: usize = FUNDED + 4;
const SWAP_DUE: usize = FUNDED + 5;
const LOCK_AT_THRESHOLD: usize = FUNDED + 6;
const LOCK_BELOW_THRESHOLD: usize = FUNDED + 7;
const LOCK_MULTI: usize = FUNDED + 8;

const LOCK_HEIGHT_UNTIL: u64 = 3;
const LOCK_TIME_UNTIL: u64 = GENESIS_TIME + 30;
const SWAP_OPEN_TIMEOUT: u64 = GENESIS_TIME + 10_000;
/// Already passed by the first block (its timestamp is at least GENESIS_TIME + 1).
const SWAP_DUE_TIMEOUT: u64 = GENESIS_TIME + 1;

/// A chain whose genesis holds 100 TFT under each kind of condition.
struct Fx {
    chain: TestChain,
    a: SecretKey,
    b: SecretKey,
    c: SecretKey,
    outsider: SecretKey,
    secret: Secret,
}

fn fixture() -> Fx {
    let (a, b, c, outsider) = (
        test_key(3, 0),
        test_key(3, 1),
        test_key(3, 2),
        test_key(3, 3),
    );
    let secret = Secret([42; 32]);
    let multi = MultiSigCondition {
        min: 2,
        addresses: vec![address_of(&a), address_of(&b), address_of(&c)],
    };
    let lock = |until: u64| Condition::TimeLock {
        until,
        inner: LockedCondition::Address(address_of(&a)),
    };
    let swap = |timeout: u64| {
        Condition::AtomicSwap(AtomicSwapCondition {
            sender: address_of(&a),
            receiver: address_of(&b),
            hashed_secret: secret.hashed(),
            timeout,
        })
    };
    let conditions = vec![
        key_cond(&a),
        Condition::MultiSig(multi.clone()),
        lock(LOCK_HEIGHT_UNTIL),
        lock(LOCK_TIME_UNTIL),
        swap(SWAP_OPEN_TIMEOUT),
        swap(SWAP_DUE_TIMEOUT),
        lock(LOCK_TIME_THRESHOLD),
        lock(LOCK_TIME_THRESHOLD - 1),
        Condition::TimeLock {
            until: 2,
            inner: LockedCondition::MultiSig(multi),
        },
    ];
    let coins = conditions.into_iter().map(|c| out(tft(100), c)).collect();
    let chain = chain_with(&[100], FUNDED, tft(1000), coins, vec![]);
    Fx {
        chain,
        a,
        b,
        c,
        outsider,
        secret,
    }
}

impl Fx {
    /// Spends fixture coin `index` with `input` to the outsider, signed by `signers`.
    fn spend(
        &self,
        index: usize,
        input: impl FnOnce(OutputId) -> tfchain_types::Input,
        signers: &[&SecretKey],
    ) -> Transaction {
        let (id, value) = genesis_coin(&self.chain, index);
        let fee = self.chain.params.min_fee;
        let mut tx = coin_tx(
            vec![input(id)],
            vec![out(minus(value, fee), key_cond(&self.outsider))],
            fee,
        );
        sign_with(&mut tx, signers, &self.chain.params.genesis_id);
        tx
    }

    fn validate(&self, tx: &Transaction, height: u64, timestamp: u64) -> Result<(), TxError> {
        let ctx = SpendContext { height, timestamp };
        validate_transaction(&self.chain.state, tx, &self.chain.params, &ctx).map(|_| ())
    }
}

#[test]
fn a_fulfillment_must_have_the_conditions_type() {
    let fx = fixture();
    let chain = &fx.chain;
    accept(
        chain,
        vec![fx.spend(PLAIN, |p| sig_input(p, &fx.a), &[&fx.a])],
    );

    let err = reject(
        chain,
        vec![fx.spend(PLAIN, |p| multisig_input(p, &[&fx.a]), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::WrongFulfillment {
                expected: "signature"
            },
        }
    );
    let err = reject(
        chain,
        vec![fx.spend(PLAIN, |p| claim_input(p, &fx.a, fx.secret), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::WrongFulfillment {
                expected: "signature"
            },
            ..
        }
    );

    accept(
        chain,
        vec![fx.spend(
            MULTI,
            |p| multisig_input(p, &[&fx.a, &fx.b]),
            &[&fx.a, &fx.b],
        )],
    );
    let err = reject(
        chain,
        vec![fx.spend(MULTI, |p| sig_input(p, &fx.a), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::WrongFulfillment {
                expected: "multi_signature"
            },
            ..
        }
    );

    accept(
        chain,
        vec![fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b])],
    );
    let err = reject(
        chain,
        vec![fx.spend(SWAP_OPEN, |p| sig_input(p, &fx.b), &[&fx.b])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::WrongFulfillment {
                expected: "claim or refund"
            },
            ..
        }
    );
}

#[test]
fn the_public_key_must_hash_to_the_conditions_address() {
    let fx = fixture();
    let chain = &fx.chain;
    accept(
        chain,
        vec![fx.spend(PLAIN, |p| sig_input(p, &fx.a), &[&fx.a])],
    );
    let err = reject(
        chain,
        vec![fx.spend(PLAIN, |p| sig_input(p, &fx.b), &[&fx.b])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::KeyMismatch,
        }
    );

    // Only the receiver may claim a swap, only the sender refund it.
    accept(
        chain,
        vec![fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b])],
    );
    let err = reject(
        chain,
        vec![fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.a, fx.secret), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::KeyMismatch,
            ..
        }
    );
    accept(
        chain,
        vec![fx.spend(SWAP_DUE, |p| refund_input(p, &fx.a), &[&fx.a])],
    );
    let err = reject(
        chain,
        vec![fx.spend(SWAP_DUE, |p| refund_input(p, &fx.b), &[&fx.b])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::KeyMismatch,
            ..
        }
    );
}

#[test]
fn a_height_lock_holds_until_its_height() {
    let fx = fixture();
    let mut chain = fx.chain.clone();
    let tx = fx.spend(LOCK_HEIGHT, |p| sig_input(p, &fx.a), &[&fx.a]);
    while chain.state.tip().height + 1 < LOCK_HEIGHT_UNTIL {
        let err = reject(&chain, vec![tx.clone()]);
        assert_tx_err!(
            err,
            0,
            TxError::Fulfillment {
                side: Side::Coin,
                index: 0,
                source: ConditionError::TimeLocked {
                    until: LOCK_HEIGHT_UNTIL,
                    unit: "block height"
                },
            }
        );
        let BlockError::Tx { source, .. } = &err else {
            unreachable!("checked above")
        };
        assert!(!source.is_sender_fault(), "a time lock passes with time");
        commit(&mut chain, vec![]);
    }
    // The block at exactly height `until` may spend it.
    assert_eq!(chain.state.tip().height + 1, LOCK_HEIGHT_UNTIL);
    accept(&chain, vec![tx]);
}

#[test]
fn a_timestamp_lock_holds_until_its_time() {
    let fx = fixture();
    let mut chain = fx.chain.clone();
    let tx = fx.spend(LOCK_TIME, |p| sig_input(p, &fx.a), &[&fx.a]);
    let mut locked_blocks = 0;
    loop {
        let (block, _) = chain.next_block(vec![tx.clone()]);
        if block.header.timestamp >= LOCK_TIME_UNTIL {
            if let Err(e) = try_apply(&chain, &block) {
                panic!("the lock has passed at {}: {e:?}", block.header.timestamp);
            }
            break;
        }
        let err = try_apply(&chain, &block).expect_err("still locked");
        assert_tx_err!(
            err,
            0,
            TxError::Fulfillment {
                source: ConditionError::TimeLocked {
                    until: LOCK_TIME_UNTIL,
                    unit: "unix time"
                },
                ..
            }
        );
        locked_blocks += 1;
        commit(&mut chain, vec![]);
    }
    assert!(locked_blocks > 0, "the lock was tested before it passed");

    // Exactly at the lock time the output is spendable, one second earlier it is not.
    assert!(matches!(
        fx.validate(&tx, 1, LOCK_TIME_UNTIL - 1),
        Err(TxError::Fulfillment {
            source: ConditionError::TimeLocked { .. },
            ..
        })
    ));
    assert_eq!(fx.validate(&tx, 1, LOCK_TIME_UNTIL), Ok(()));
}

#[test]
fn locks_from_500_000_000_are_timestamps_below_are_heights() {
    let fx = fixture();
    // 500,000,000 is a Unix time long past: spendable at height 1.
    accept(
        &fx.chain,
        vec![fx.spend(LOCK_AT_THRESHOLD, |p| sig_input(p, &fx.a), &[&fx.a])],
    );
    // 499,999,999 is a height far in the future.
    let err = reject(
        &fx.chain,
        vec![fx.spend(LOCK_BELOW_THRESHOLD, |p| sig_input(p, &fx.a), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::TimeLocked {
                until: 499_999_999,
                unit: "block height"
            },
            ..
        }
    );
}

#[test]
fn a_time_locked_multisig_needs_the_lock_and_the_signatures() {
    let fx = fixture();
    let tx = fx.spend(
        LOCK_MULTI,
        |p| multisig_input(p, &[&fx.b, &fx.c]),
        &[&fx.b, &fx.c],
    );
    assert!(matches!(
        fx.validate(&tx, 1, GENESIS_TIME + 1),
        Err(TxError::Fulfillment {
            source: ConditionError::TimeLocked { until: 2, .. },
            ..
        })
    ));
    assert_eq!(fx.validate(&tx, 2, GENESIS_TIME + 1), Ok(()));
    let short = fx.spend(LOCK_MULTI, |p| multisig_input(p, &[&fx.b]), &[&fx.b]);
    assert!(matches!(
        fx.validate(&short, 2, GENESIS_TIME + 1),
        Err(TxError::Fulfillment {
            source: ConditionError::MultiSigTooFewSignatures { have: 1, min: 2 },
            ..
        })
    ));
}

#[test]
fn multisig_two_of_three_spends() {
    let fx = fixture();
    for signers in [[&fx.a, &fx.b], [&fx.b, &fx.c], [&fx.c, &fx.a]] {
        let tx = fx.spend(MULTI, |p| multisig_input(p, &signers), &signers);
        accept(&fx.chain, vec![tx]);
    }
    let all = [&fx.a, &fx.b, &fx.c];
    accept(
        &fx.chain,
        vec![fx.spend(MULTI, |p| multisig_input(p, &all), &all)],
    );
}

#[test]
fn multisig_signers_must_be_listed() {
    let fx = fixture();
    accept(
        &fx.chain,
        vec![fx.spend(
            MULTI,
            |p| multisig_input(p, &[&fx.a, &fx.b]),
            &[&fx.a, &fx.b],
        )],
    );
    let signers = [&fx.a, &fx.outsider];
    let err = reject(
        &fx.chain,
        vec![fx.spend(MULTI, |p| multisig_input(p, &signers), &signers)],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::MultiSigKeyNotListed,
        }
    );
}

#[test]
fn multisig_keys_may_not_sign_twice() {
    let fx = fixture();
    accept(
        &fx.chain,
        vec![fx.spend(
            MULTI,
            |p| multisig_input(p, &[&fx.a, &fx.b]),
            &[&fx.a, &fx.b],
        )],
    );
    let err = reject(
        &fx.chain,
        vec![fx.spend(MULTI, |p| multisig_input(p, &[&fx.a, &fx.a]), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::MultiSigDuplicateKey,
            ..
        }
    );
}

#[test]
fn multisig_needs_min_signatures() {
    let fx = fixture();
    accept(
        &fx.chain,
        vec![fx.spend(
            MULTI,
            |p| multisig_input(p, &[&fx.a, &fx.b]),
            &[&fx.a, &fx.b],
        )],
    );
    let err = reject(
        &fx.chain,
        vec![fx.spend(MULTI, |p| multisig_input(p, &[&fx.a]), &[&fx.a])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::MultiSigTooFewSignatures { have: 1, min: 2 },
            ..
        }
    );
    let err = reject(
        &fx.chain,
        vec![fx.spend(MULTI, |p| multisig_input(p, &[]), &[])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::MultiSigTooFewSignatures { have: 0, min: 2 },
            ..
        }
    );
}

#[test]
fn every_multisig_signature_must_verify() {
    let fx = fixture();
    let signers = [&fx.a, &fx.b];
    let good = fx.spend(MULTI, |p| multisig_input(p, &signers), &signers);
    accept(&fx.chain, vec![good.clone()]);
    let mut bad = good;
    if let tfchain_types::Fulfillment::MultiSignature(list) = &mut bad.coin_inputs[0].fulfillment {
        list[1].signature.0[10] ^= 1;
    }
    let err = reject(&fx.chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::BadSignature,
        }
    );
}

#[test]
fn atomic_swap_claim_by_the_receiver_with_the_secret() {
    let fx = fixture();
    let tx = fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b]);
    let outcome = accept(&fx.chain, vec![tx.clone()]);
    assert!(outcome
        .diff
        .coins_spent
        .iter()
        .any(|(id, _)| *id == genesis_coin(&fx.chain, SWAP_OPEN).0));
    // Up to one second before the timeout.
    assert_eq!(fx.validate(&tx, 1, SWAP_OPEN_TIMEOUT - 1), Ok(()));
}

#[test]
fn atomic_swap_claim_after_the_timeout_is_expired() {
    let fx = fixture();
    let open = fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b]);
    accept(&fx.chain, vec![open.clone()]);
    let err = reject(
        &fx.chain,
        vec![fx.spend(SWAP_DUE, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::SwapExpired {
                timeout: SWAP_DUE_TIMEOUT
            },
        }
    );
    // The boundary: at exactly the timeout the claim is over.
    assert_eq!(
        fx.validate(&open, 1, SWAP_OPEN_TIMEOUT),
        Err(TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::SwapExpired {
                timeout: SWAP_OPEN_TIMEOUT
            },
        })
    );
}

#[test]
fn atomic_swap_claim_needs_the_right_secret() {
    let fx = fixture();
    accept(
        &fx.chain,
        vec![fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b])],
    );
    let wrong = Secret([43; 32]);
    let err = reject(
        &fx.chain,
        vec![fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, wrong), &[&fx.b])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::SecretMismatch,
            ..
        }
    );
}

#[test]
fn atomic_swap_refund_by_the_sender_after_the_timeout() {
    let fx = fixture();
    let tx = fx.spend(SWAP_DUE, |p| refund_input(p, &fx.a), &[&fx.a]);
    accept(&fx.chain, vec![tx]);
    let open = fx.spend(SWAP_OPEN, |p| refund_input(p, &fx.a), &[&fx.a]);
    assert_eq!(fx.validate(&open, 1, SWAP_OPEN_TIMEOUT), Ok(()));
}

#[test]
fn atomic_swap_refund_before_the_timeout_is_not_expired() {
    let fx = fixture();
    accept(
        &fx.chain,
        vec![fx.spend(SWAP_DUE, |p| refund_input(p, &fx.a), &[&fx.a])],
    );
    let open = fx.spend(SWAP_OPEN, |p| refund_input(p, &fx.a), &[&fx.a]);
    let err = reject(&fx.chain, vec![open.clone()]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::SwapNotExpired {
                timeout: SWAP_OPEN_TIMEOUT
            },
            ..
        }
    );
    let BlockError::Tx { source, .. } = &err else {
        unreachable!("checked above")
    };
    assert!(!source.is_sender_fault(), "the timeout passes with time");
    assert!(matches!(
        fx.validate(&open, 1, SWAP_OPEN_TIMEOUT - 1),
        Err(TxError::Fulfillment {
            source: ConditionError::SwapNotExpired { .. },
            ..
        })
    ));
}

#[test]
fn a_signature_must_verify_over_the_sighash() {
    let fx = fixture();
    let good = fx.spend(PLAIN, |p| sig_input(p, &fx.a), &[&fx.a]);
    accept(&fx.chain, vec![good.clone()]);
    let bad_sig = ConditionError::BadSignature;

    // A flipped bit.
    let mut bad = good.clone();
    if let tfchain_types::Fulfillment::Signature(ks) = &mut bad.coin_inputs[0].fulfillment {
        ks.signature.0[63] ^= 0x01;
    }
    let err = reject(&fx.chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment { side: Side::Coin, index: 0, source } if *source == bad_sig
    );

    // The right key, but the signature of another transaction.
    let other = fx.spend(MULTI, |p| sig_input(p, &fx.a), &[&fx.a]);
    let mut bad = good.clone();
    bad.coin_inputs[0].fulfillment = other.coin_inputs[0].fulfillment.clone();
    let err = reject(&fx.chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::BadSignature,
            ..
        }
    );

    // The right public key, signed by another key.
    let mut bad = good.clone();
    if let tfchain_types::Fulfillment::Signature(ks) = &mut bad.coin_inputs[0].fulfillment {
        ks.signature = fx.b.sign_hash(&good.sighash(&fx.chain.params.genesis_id));
    }
    let err = reject(&fx.chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            source: ConditionError::BadSignature,
            ..
        }
    );

    // The error names the transaction of the block and the input within it.
    let (c0, c1) = (genesis_coin(&fx.chain, 0), genesis_coin(&fx.chain, 1));
    let fee = fx.chain.params.min_fee;
    let mut two = coin_tx(
        vec![
            sig_input(c0.0, &fx.chain.funded[0]),
            sig_input(c1.0, &fx.chain.funded[1]),
        ],
        vec![out(minus(tft(2000), fee), key_cond(&fx.outsider))],
        fee,
    );
    sign_with(
        &mut two,
        &[&fx.chain.funded[0], &fx.chain.funded[1]],
        &fx.chain.params.genesis_id,
    );
    accept(&fx.chain, vec![good.clone(), two.clone()]);
    if let tfchain_types::Fulfillment::Signature(ks) = &mut two.coin_inputs[1].fulfillment {
        ks.signature.0[0] ^= 0x80;
    }
    let err = reject(&fx.chain, vec![good, two]);
    assert_tx_err!(
        err,
        1,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 1,
            source: ConditionError::BadSignature
        }
    );
}

#[test]
fn atomic_swap_claim_and_refund_signatures_must_verify() {
    let fx = fixture();
    let claim = fx.spend(SWAP_OPEN, |p| claim_input(p, &fx.b, fx.secret), &[&fx.b]);
    let refund = fx.spend(SWAP_DUE, |p| refund_input(p, &fx.a), &[&fx.a]);
    for good in [claim, refund] {
        accept(&fx.chain, vec![good.clone()]);
        let mut bad = good;
        match &mut bad.coin_inputs[0].fulfillment {
            tfchain_types::Fulfillment::Claim { signature, .. }
            | tfchain_types::Fulfillment::Refund { signature, .. } => signature.0[31] ^= 0x20,
            other => unreachable!("a swap spend, not {other:?}"),
        }
        let err = reject(&fx.chain, vec![bad]);
        assert_tx_err!(
            err,
            0,
            TxError::Fulfillment {
                side: Side::Coin,
                index: 0,
                source: ConditionError::BadSignature,
            }
        );
    }
}

#[test]
fn a_blockstake_input_signature_must_verify() {
    let chain = chain();
    let good = stake_tx(&chain, vec![stake_out(100, key_cond(&chain.validators[0]))]);
    accept(&chain, vec![good.clone()]);
    let mut bad = good;
    if let tfchain_types::Fulfillment::Signature(ks) = &mut bad.blockstake_inputs[0].fulfillment {
        ks.signature.0[5] ^= 0x10;
    }
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::BlockStake,
            index: 0,
            source: ConditionError::BadSignature,
        }
    );
}

#[test]
fn a_transaction_signed_for_another_genesis_does_not_replay() {
    // Another network with the same allocation at another genesis time: the same output
    // IDs exist on both, only the genesis ID differs.
    let chain = chain();
    let other = regenesis(
        &chain,
        chain.genesis.transactions[0].clone(),
        GENESIS_TIME + 1,
    );
    assert_ne!(chain.params.genesis_id, other.params.genesis_id);
    assert_eq!(genesis_coin(&chain, 0), genesis_coin(&other, 0));

    let for_other = pay(&other, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&other, vec![for_other.clone()]);
    let err = reject(&chain, vec![for_other.clone()]);
    assert_tx_err!(
        err,
        0,
        TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::BadSignature
        }
    );

    // Re-signed for this chain's genesis it is valid here.
    let mut here = for_other;
    sign_all(&mut here, &chain.funded[0], &chain.params.genesis_id);
    accept(&chain, vec![here]);
}

// ---------------------------------------------------------------------------------------
// Outputs: values > 0 (§4.3 rule 4) and well-formed conditions (§3)
// ---------------------------------------------------------------------------------------

#[test]
fn outputs_must_have_a_value() {
    let chain = chain();
    let fee = chain.params.min_fee;
    let coin = genesis_coin(&chain, 0);
    let split = |first: Currency| {
        let mut tx = coin_tx(
            vec![sig_input(coin.0, &chain.funded[0])],
            vec![
                out(first, key_cond(&chain.funded[1])),
                out(minus(minus(coin.1, fee), first), key_cond(&chain.funded[0])),
            ],
            fee,
        );
        resign_tx(&chain, &mut tx, &[&chain.funded[0]]);
        tx
    };
    accept(&chain, vec![split(tft(10))]);
    let err = reject(&chain, vec![split(Currency::ZERO)]);
    assert_tx_err!(
        err,
        0,
        TxError::ZeroValueOutput {
            side: Side::Coin,
            index: 0
        }
    );

    let stakes = |first: u64| {
        let v0 = key_cond(&chain.validators[0]);
        stake_tx(
            &chain,
            vec![stake_out(first, v0.clone()), stake_out(100 - first, v0)],
        )
    };
    accept(&chain, vec![stakes(50)]);
    let err = reject(&chain, vec![stakes(0)]);
    assert_tx_err!(
        err,
        0,
        TxError::ZeroValueOutput {
            side: Side::BlockStake,
            index: 0
        }
    );
}

#[test]
fn output_conditions_must_be_well_formed() {
    let chain = chain();
    let [k0, k1, k2] = [&chain.funded[0], &chain.funded[1], &chain.funded[2]];
    let (a0, a1) = (address_of(k0), address_of(k1));
    let ms = |min: u64, addresses: Vec<Address>| {
        Condition::MultiSig(MultiSigCondition { min, addresses })
    };
    let multisig_address = ms(2, vec![a0, a1]).address();
    let swap = |sender: Address, receiver: Address| {
        Condition::AtomicSwap(AtomicSwapCondition {
            sender,
            receiver,
            hashed_secret: Secret([1; 32]).hashed(),
            timeout: GENESIS_TIME + 100,
        })
    };
    let swap_address = swap(a0, a1).address();

    // One well-formed output of every kind is accepted.
    let fee = chain.params.min_fee;
    let coin = genesis_coin(&chain, 0);
    let good_conditions = vec![
        key_cond(k1),
        multisig_of(2, &[k0, k1, k2]),
        multisig_of(1, &[k0, k1]),
        Condition::TimeLock {
            until: 10,
            inner: LockedCondition::Address(a1),
        },
        Condition::TimeLock {
            until: GENESIS_TIME + 10,
            inner: LockedCondition::MultiSig(MultiSigCondition {
                min: 2,
                addresses: vec![a0, a1],
            }),
        },
        swap(a0, a1),
    ];
    let mut outputs: Vec<_> = good_conditions
        .into_iter()
        .map(|c| out(tft(1), c))
        .collect();
    outputs.push(out(
        minus(minus(coin.1, fee), tft(outputs.len() as u64)),
        key_cond(k0),
    ));
    let mut good = coin_tx(vec![sig_input(coin.0, k0)], outputs, fee);
    resign_tx(&chain, &mut good, &[k0]);
    accept(&chain, vec![good]);

    let strangers: Vec<Address> = (0..33).map(stranger).collect();
    let cases: Vec<(&str, Condition, OutputConditionError)> = vec![
        (
            "address of a multisig",
            Condition::Address(multisig_address),
            OutputConditionError::AddressNotSingleKey,
        ),
        (
            "address of an atomic swap",
            Condition::Address(swap_address),
            OutputConditionError::AddressNotSingleKey,
        ),
        (
            "the nil address",
            Condition::Address(Address::NIL),
            OutputConditionError::AddressNotSingleKey,
        ),
        (
            "time lock on a multisig address",
            Condition::TimeLock {
                until: 10,
                inner: LockedCondition::Address(multisig_address),
            },
            OutputConditionError::AddressNotSingleKey,
        ),
        (
            "multisig of no address",
            ms(1, vec![]),
            OutputConditionError::MultiSigSize(0),
        ),
        (
            "multisig of one address",
            ms(1, vec![a0]),
            OutputConditionError::MultiSigSize(1),
        ),
        (
            "multisig of 33 addresses",
            ms(1, strangers.clone()),
            OutputConditionError::MultiSigSize(33),
        ),
        (
            "multisig min 0",
            ms(0, vec![a0, a1]),
            OutputConditionError::MultiSigMin,
        ),
        (
            "multisig min above n",
            ms(3, vec![a0, a1]),
            OutputConditionError::MultiSigMin,
        ),
        (
            "multisig with a repeated address",
            ms(1, vec![a0, a0]),
            OutputConditionError::MultiSigAddresses,
        ),
        (
            "multisig listing a multisig address",
            ms(1, vec![a0, multisig_address]),
            OutputConditionError::MultiSigAddresses,
        ),
        (
            "time-locked multisig with min 0",
            Condition::TimeLock {
                until: 10,
                inner: LockedCondition::MultiSig(MultiSigCondition {
                    min: 0,
                    addresses: vec![a0, a1],
                }),
            },
            OutputConditionError::MultiSigMin,
        ),
        (
            "swap from a multisig",
            swap(multisig_address, a1),
            OutputConditionError::SwapParties,
        ),
        (
            "swap to the nil address",
            swap(a0, Address::NIL),
            OutputConditionError::SwapParties,
        ),
    ];
    for (what, condition, expected) in cases {
        let bad = pay(&chain, 0, condition, tft(10));
        let err = reject(&chain, vec![bad]);
        assert!(
            matches!(
                &err,
                BlockError::Tx {
                    index: 0,
                    source: TxError::OutputCondition { side: Side::Coin, index: 0, source },
                } if *source == expected
            ),
            "{what}: expected {expected:?}, got {err:?}"
        );
    }

    // Blockstake outputs follow the same rules.
    let v0 = key_cond(&chain.validators[0]);
    accept(&chain, vec![stake_tx(&chain, vec![stake_out(100, v0)])]);
    let err = reject(
        &chain,
        vec![stake_tx(&chain, vec![stake_out(100, ms(1, vec![a0]))])],
    );
    assert_tx_err!(
        err,
        0,
        TxError::OutputCondition {
            side: Side::BlockStake,
            index: 0,
            source: OutputConditionError::MultiSigSize(1),
        }
    );
}

// ---------------------------------------------------------------------------------------
// §4.3 rules 4 and 5: balance and fee
// ---------------------------------------------------------------------------------------

#[test]
fn coin_inputs_must_equal_outputs_plus_fee() {
    let chain = chain();
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&chain, vec![good.clone()]);
    let inputs = genesis_coin(&chain, 0).1;
    for delta in [1i128, -1] {
        let mut bad = good.clone();
        let v = &mut bad.coin_outputs[0].value;
        *v = Currency(v.0.checked_add_signed(delta).expect("small delta"));
        resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
        let err = reject(&chain, vec![bad]);
        let spent = Currency(inputs.0.checked_add_signed(delta).expect("small delta"));
        assert_tx_err!(
            err,
            0,
            TxError::CoinImbalance { inputs: i, spent: s } if *i == inputs && *s == spent
        );
    }
}

#[test]
fn coin_amounts_may_not_overflow() {
    let chain = chain();
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    accept(&chain, vec![good.clone()]);
    let mut bad = good;
    bad.coin_outputs[0].value = Currency(u128::MAX);
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(err, 0, TxError::Overflow);
}

#[test]
fn blockstake_inputs_must_equal_outputs() {
    let chain = chain();
    let v0 = key_cond(&chain.validators[0]);
    accept(
        &chain,
        vec![stake_tx(&chain, vec![stake_out(100, v0.clone())])],
    );
    for (value, expected) in [(101u64, 101u64), (99, 99)] {
        let err = reject(
            &chain,
            vec![stake_tx(&chain, vec![stake_out(value, v0.clone())])],
        );
        assert_tx_err!(
            err,
            0,
            TxError::StakeImbalance { inputs: 100, outputs } if *outputs == expected
        );
    }
    // Blockstakes cannot be created from nothing either.
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    let mut bad = good;
    bad.blockstake_outputs = vec![stake_out(5, v0)];
    resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
    let err = reject(&chain, vec![bad]);
    assert_tx_err!(
        err,
        0,
        TxError::StakeImbalance {
            inputs: 0,
            outputs: 5
        }
    );
}

#[test]
fn the_fee_must_be_at_least_min_fee() {
    let chain = chain();
    let min = chain.params.min_fee;
    let good = pay(&chain, 0, key_cond(&chain.funded[1]), tft(10));
    assert_eq!(good.fee, min, "exactly the minimum is enough");
    accept(&chain, vec![good.clone()]);
    for fee in [Currency(min.0 - 1), Currency::ZERO] {
        let mut bad = good.clone();
        bad.fee = fee;
        // Keep the balance: the change takes what the fee no longer does.
        bad.coin_outputs[1].value = Currency(bad.coin_outputs[1].value.0 + (min.0 - fee.0));
        resign_tx(&chain, &mut bad, &[&chain.funded[0]]);
        let err = reject(&chain, vec![bad]);
        assert_tx_err!(
            err,
            0,
            TxError::FeeBelowMinimum { fee: f, min: m } if *f == fee && *m == min
        );
    }
}

// ---------------------------------------------------------------------------------------
// Positive: blockstake transfer
// ---------------------------------------------------------------------------------------

#[test]
fn blockstakes_can_be_transferred() {
    let mut chain = TestChain::new(&[100, 100], 2, tft(1000));
    let newcomer = test_key(4, 0);
    let (old, _) = genesis_stake(&chain, 0);
    let tx = stake_tx(
        &chain,
        vec![
            stake_out(60, key_cond(&newcomer)),
            stake_out(40, key_cond(&chain.validators[0])),
        ],
    );
    let total = chain.state.total_stake();
    let block = commit(&mut chain, vec![tx.clone()]);
    assert!(!chain.state.stakes.contains_key(&old));
    let moved = &chain.state.stakes[&Transaction::stake_output_id(&tx.txid(), 0)];
    assert_eq!(moved.value, 60);
    assert_eq!(moved.condition, key_cond(&newcomer));
    assert_eq!(
        (moved.height, moved.timestamp),
        (block.header.height, block.header.timestamp)
    );
    assert_eq!(chain.state.total_stake(), total);
    assert_eq!(chain.state.total_coins(), chain.expected_supply());
}
