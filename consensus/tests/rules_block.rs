//! One negative test per block rule of PROTOCOL.md §5.7 (and the §5.2 lottery, §5.4
//! eligibility), each asserting the rule's own `BlockError` variant. Every test starts from
//! a block the real producer made and that `apply_block` accepts, then changes one thing
//! and re-signs the header with the creator's key, so that the signature is not what fails.

#[macro_use]
mod support;

use support::*;
use tfchain_consensus::header::median_time_past;
use tfchain_consensus::testkit::{address_of, payment, test_key, TestChain, GENESIS_TIME};
use tfchain_consensus::{BlockError, StateView, TxError};
use tfchain_types::hash::Hasher;
use tfchain_types::limits::{MAX_BLOCK_SIZE, MAX_TX_SIZE};
use tfchain_types::{
    AtomicSwapCondition, Block, BlockId, Condition, Hash, LockedCondition, OutputId, Secret,
    SecretKey, StakeOutput, Transaction,
};

fn chain() -> TestChain {
    TestChain::new(&[100, 100], 2, tft(1000))
}

fn pay(chain: &TestChain, from: usize, amount: u64) -> Transaction {
    payment(
        &[genesis_coin(chain, from)],
        &chain.funded[from],
        key_cond(&chain.funded[1 - from]),
        tft(amount),
        chain.params.min_fee,
        &chain.params.genesis_id,
    )
}

/// A chain one block past genesis and its next block (with a payment), which is valid,
/// with the key that created it.
fn setup() -> (TestChain, Block, SecretKey) {
    let mut chain = chain();
    commit(&mut chain, vec![]);
    let (block, v) = chain.next_block(vec![pay(&chain, 0, 10)]);
    if let Err(e) = try_apply(&chain, &block) {
        panic!("the produced block is valid: {e:?}");
    }
    let key = chain.validators[v].clone();
    (chain, block, key)
}

/// Validator `v` moves its genesis stake to `outputs`; funded key `v` pays the fee.
fn move_stake(chain: &TestChain, v: usize, outputs: Vec<StakeOutput>) -> Transaction {
    let coin = genesis_coin(chain, v);
    let (stake, _) = genesis_stake(chain, v);
    let fee = chain.params.min_fee;
    let mut tx = coin_tx(
        vec![sig_input(coin.0, &chain.funded[v])],
        vec![out(minus(coin.1, fee), key_cond(&chain.funded[v]))],
        fee,
    );
    tx.blockstake_inputs = vec![sig_input(stake, &chain.validators[v])];
    tx.blockstake_outputs = outputs;
    sign_with(
        &mut tx,
        &[&chain.funded[v], &chain.validators[v]],
        &chain.params.genesis_id,
    );
    tx
}

fn rejected(chain: &TestChain, block: &Block) -> BlockError {
    try_apply(chain, block).expect_err("the block breaks a rule")
}

fn stake_value(chain: &TestChain, id: &OutputId) -> u64 {
    chain.state.stakes[id].value
}

#[test]
fn a_produced_block_is_valid() {
    let (chain, block, _) = setup();
    let outcome = try_apply(&chain, &block).expect("valid");
    assert_eq!(outcome.meta.id, block.id());
    assert_eq!(outcome.meta.height, 2);
    assert_eq!(outcome.fees, chain.params.min_fee);
}

#[test]
fn version_must_be_1() {
    let (chain, block, key) = setup();
    for version in [0u32, 2, u32::MAX] {
        let mut bad = block.clone();
        bad.header.version = version;
        resign(&mut bad, &key);
        let err = rejected(&chain, &bad);
        assert!(
            matches!(err, BlockError::UnsupportedVersion(v) if v == version),
            "{err:?}"
        );
        assert!(err.is_peer_fault());
    }
}

#[test]
fn the_parent_must_be_the_tip() {
    let (chain, block, key) = setup();
    let tip = chain.state.tip().id;
    let mut bad = block.clone();
    bad.header.parent = BlockId(Hash([9; 32]));
    resign(&mut bad, &key);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::WrongParent { got, tip: t } if got == bad.header.parent && t == tip),
        "{err:?}"
    );
    assert!(!err.is_peer_fault(), "a block on another tip is not malice");

    // A competitor of the tip, valid on the tip's parent, is not a child of the tip.
    let mut genesis_only = self::chain();
    let (competitor, _) = genesis_only.next_block(vec![pay(&genesis_only, 1, 5)]);
    try_apply(&genesis_only, &competitor).expect("valid on its own parent");
    commit(&mut genesis_only, vec![]);
    let err = rejected(&genesis_only, &competitor);
    assert!(
        matches!(err, BlockError::WrongParent { got, .. } if got == genesis_only.genesis.id()),
        "{err:?}"
    );
}

#[test]
fn the_height_must_follow_the_parent() {
    let (chain, block, key) = setup();
    let expected = chain.state.tip().height + 1;
    for height in [expected + 1, expected - 1, 0] {
        let mut bad = block.clone();
        bad.header.height = height;
        resign(&mut bad, &key);
        let err = rejected(&chain, &bad);
        assert!(
            matches!(err, BlockError::WrongHeight { got, expected: e } if got == height && e == expected),
            "{err:?}"
        );
    }
}

#[test]
fn a_block_is_at_most_2_000_000_bytes() {
    let chain = TestChain::new(&[100], 64, tft(1000));
    let (empty, v) = chain.next_block(vec![]);
    let key = chain.validators[v].clone();
    let mut remaining = MAX_BLOCK_SIZE - empty.encoded_len();
    let chunk = MAX_TX_SIZE - 1;
    let mut txs = Vec::new();
    while remaining > 0 {
        // Valid transactions of at most 32,767 bytes, the last at least 1,000 bytes.
        let size = if remaining <= chunk {
            remaining
        } else if remaining - chunk < 1_000 {
            remaining - 1_000
        } else {
            chunk
        };
        let i = txs.len();
        txs.push(filler_tx(
            &chain,
            genesis_coin(&chain, i),
            &chain.funded[i],
            size,
        ));
        remaining -= size;
    }
    let full = with_txs(&empty, &key, txs.clone());
    assert_eq!(full.encoded_len(), MAX_BLOCK_SIZE);
    if let Err(e) = try_apply(&chain, &full) {
        panic!("a block of exactly the limit is valid: {e:?}");
    }

    let last = txs.len() - 1;
    txs[last].arbitrary_data.push(1);
    sign_with(
        &mut txs[last],
        &[&chain.funded[last]],
        &chain.params.genesis_id,
    );
    let bad = with_txs(&empty, &key, txs);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::TooLarge { size, max } if size == MAX_BLOCK_SIZE + 1 && max == MAX_BLOCK_SIZE),
        "{err:?}"
    );
}

#[test]
fn the_timestamp_must_be_after_the_parents() {
    let (chain, block, key) = setup();
    let parent = chain.state.tip().timestamp;

    // Equal to the parent's (the rule is checked before the lottery).
    let mut bad = block.clone();
    bad.header.timestamp = parent;
    resign(&mut bad, &key);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::TimestampNotAfterParent { timestamp, parent: p } if timestamp == parent && p == parent),
        "{err:?}"
    );

    // Earlier than the parent, at a second where the stake does win the lottery.
    let stake = block.header.stake_output;
    let t = first_win(
        &chain,
        &stake,
        stake_value(&chain, &stake),
        (parent - 1_000..parent).rev(),
    )
    .expect("the stake wins at some earlier second");
    let mut bad = block.clone();
    bad.header.timestamp = t;
    resign(&mut bad, &key);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::TimestampNotAfterParent { timestamp, .. } if timestamp == t),
        "{err:?}"
    );
}

/// On a chain built by these rules the median rule can never fire: every timestamp is
/// after its parent's, so the median of the last 11 is at most the tip's, which the block
/// must already exceed. It guards states whose history did not come through rule 2
/// (e.g. imported): here the history is rewritten by hand.
#[test]
fn the_timestamp_must_not_be_before_the_median_of_the_last_11() {
    let mut chain = chain();
    commit_until(&mut chain, 12);
    let (block, _) = chain.next_block(vec![]);
    try_apply(&chain, &block).expect("valid");
    let tip = chain.state.tip();
    assert!(median_time_past(&chain.state) < tip.timestamp);

    let t = block.header.timestamp;
    let later = t + 1;
    for h in tip.height - 10..tip.height {
        chain.state.chain[h as usize].timestamp = later;
    }
    assert_eq!(median_time_past(&chain.state), later);
    assert!(t > tip.timestamp, "still after the parent");
    let err = rejected(&chain, &block);
    assert!(
        matches!(err, BlockError::TimestampBeforeMedian { timestamp, median } if timestamp == t && median == later),
        "{err:?}"
    );
    assert!(err.is_peer_fault());
}

#[test]
fn a_block_ahead_of_the_clock_is_held_then_refused() {
    let (chain, block, _) = setup();
    let t = block.header.timestamp;
    let ft = chain.params.future_threshold;

    // Up to future_threshold ahead: valid.
    try_apply_at(&chain, &block, t - ft).expect("within the threshold");

    // Up to twice the threshold ahead: not yet (retry later), and not the peer's fault.
    for now in [t - ft - 1, t - 2 * ft] {
        let err = try_apply_at(&chain, &block, now).expect_err("ahead of the clock");
        assert!(
            matches!(err, BlockError::TimestampInFuture { timestamp, now: n } if timestamp == t && n == now),
            "{err:?}"
        );
        assert!(!err.is_peer_fault());
    }

    // Further ahead: refused.
    let now = t - 2 * ft - 1;
    let err = try_apply_at(&chain, &block, now).expect_err("too far ahead");
    assert!(
        matches!(err, BlockError::TimestampTooFarInFuture { timestamp, now: n } if timestamp == t && n == now),
        "{err:?}"
    );
    // Not the sender's fault: this node's clock may be the one that is wrong (§5.7).
    assert!(!err.is_peer_fault());
}

#[test]
fn the_stake_output_must_be_an_unspent_blockstake_output() {
    let (chain, block, key) = setup();
    let coin = genesis_coin(&chain, 0).0;
    for id in [OutputId(Hash([3; 32])), coin] {
        let mut bad = block.clone();
        bad.header.stake_output = id;
        resign(&mut bad, &key);
        let err = rejected(&chain, &bad);
        assert!(
            matches!(err, BlockError::StakeOutputNotFound(o) if o == id),
            "{err:?}"
        );
    }

    // A stake output spent by an earlier block.
    let mut chain = self::chain();
    let (old, _) = genesis_stake(&chain, 0);
    let v0 = chain.validators[0].clone();
    let moved = move_stake(&chain, 0, vec![stake_out(100, key_cond(&v0))]);
    commit(&mut chain, vec![moved]);
    assert!(!chain.state.stakes.contains_key(&old));
    let t = chain.state.tip().timestamp + 1;
    let bad = block_at(&chain, t, old, &v0, vec![]);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::StakeOutputNotFound(o) if o == old),
        "{err:?}"
    );
}

#[test]
fn a_moved_stake_output_waits_stake_aging_before_it_can_win() {
    let mut chain = TestChain::new(&[300, 100], 2, tft(1000));
    commit(&mut chain, vec![]);
    let v0 = chain.validators[0].clone();
    let aging = chain.params.stake_aging;
    // Grind the transfer's arbitrary data until the new output wins the lottery both one
    // second before it becomes eligible and at that very second, so that both sides of the
    // boundary are tested with a winning kernel.
    let (after, fresh, created) = (0u8..=255)
        .find_map(|nonce| {
            let mut tx = move_stake(&chain, 0, vec![stake_out(300, key_cond(&v0))]);
            tx.arbitrary_data = vec![nonce];
            sign_with(&mut tx, &[&chain.funded[0], &v0], &chain.params.genesis_id);
            let mut trial = chain.clone();
            let block = commit(&mut trial, vec![tx.clone()]);
            let fresh = Transaction::stake_output_id(&tx.txid(), 0);
            let eligible_at = block.header.timestamp + aging;
            (wins_at(&trial, &fresh, 300, eligible_at - 1)
                && wins_at(&trial, &fresh, 300, eligible_at))
            .then_some((trial, fresh, block.header.timestamp))
        })
        .expect("some transfer wins on both sides of the boundary");
    chain = after;
    assert_eq!(chain.state.stakes[&fresh].timestamp, created);
    let eligible_at = created + aging;

    let bad = block_at(&chain, eligible_at - 1, fresh, &v0, vec![]);
    let err = rejected(&chain, &bad);
    assert!(
        matches!(err, BlockError::StakeOutputNotEligible { output, eligible_at: e } if output == fresh && e == eligible_at),
        "{err:?}"
    );
    let good = block_at(&chain, eligible_at, fresh, &v0, vec![]);
    if let Err(e) = try_apply(&chain, &good) {
        panic!("eligible from created + stake_aging: {e:?}");
    }
}

#[test]
fn the_stake_must_be_held_by_a_single_key() {
    let (x, y) = (test_key(5, 0), test_key(5, 1));
    let multisig = multisig_of(1, &[&x, &y]);
    let Condition::MultiSig(inner) = multisig.clone() else {
        unreachable!("multisig_of builds a multisig")
    };
    let conditions = vec![
        key_cond(&x),
        multisig,
        Condition::TimeLock {
            until: 1,
            inner: LockedCondition::MultiSig(inner),
        },
        Condition::AtomicSwap(AtomicSwapCondition {
            sender: address_of(&x),
            receiver: address_of(&y),
            hashed_secret: Secret([1; 32]).hashed(),
            timeout: GENESIS_TIME + 1_000_000,
        }),
    ];
    let stakes = conditions.into_iter().map(|c| stake_out(100, c)).collect();
    let chain = chain_with(&[100], 1, tft(1000), vec![], stakes);
    let start = chain.state.tip().timestamp + 1;

    let (single, value) = genesis_stake(&chain, 1);
    let t = first_win(&chain, &single, value, start..).expect("wins eventually");
    try_apply(&chain, &block_at(&chain, t, single, &x, vec![])).expect("x's own stake");

    for index in 2..5 {
        let (id, value) = genesis_stake(&chain, index);
        let t = first_win(&chain, &id, value, start..).expect("wins eventually");
        let err = rejected(&chain, &block_at(&chain, t, id, &x, vec![]));
        assert!(
            matches!(err, BlockError::StakeConditionNotSingleKey(o) if o == id),
            "stake {index}: {err:?}"
        );
    }
}

#[test]
fn a_time_locked_stake_wins_only_once_the_lock_passed() {
    let x = test_key(5, 0);
    let lock = |until: u64| Condition::TimeLock {
        until,
        inner: LockedCondition::Address(address_of(&x)),
    };
    let until_time = GENESIS_TIME + 40;
    let stakes = vec![stake_out(100, lock(3)), stake_out(100, lock(until_time))];
    let mut chain = chain_with(&[100], 1, tft(1000), vec![], stakes);
    let (by_height, hv) = genesis_stake(&chain, 1);
    let (by_time, tv) = genesis_stake(&chain, 2);

    let start = chain.state.tip().timestamp + 1;
    let t = first_win(&chain, &by_height, hv, start..).expect("wins eventually");
    let err = rejected(&chain, &block_at(&chain, t, by_height, &x, vec![]));
    assert!(
        matches!(err, BlockError::StakeOutputLocked(o) if o == by_height),
        "{err:?}"
    );
    let t = first_win(&chain, &by_time, tv, start..until_time).expect("wins before the lock");
    let err = rejected(&chain, &block_at(&chain, t, by_time, &x, vec![]));
    assert!(
        matches!(err, BlockError::StakeOutputLocked(o) if o == by_time),
        "{err:?}"
    );

    // At height 3 the height lock has passed.
    commit_until(&mut chain, 2);
    let start = chain.state.tip().timestamp + 1;
    let t = first_win(&chain, &by_height, hv, start..).expect("wins eventually");
    if let Err(e) = try_apply(&chain, &block_at(&chain, t, by_height, &x, vec![])) {
        panic!("the height lock has passed: {e:?}");
    }
    // From `until_time` on the time lock has passed.
    let t = first_win(&chain, &by_time, tv, start.max(until_time)..).expect("wins eventually");
    if let Err(e) = try_apply(&chain, &block_at(&chain, t, by_time, &x, vec![])) {
        panic!("the time lock has passed: {e:?}");
    }
}

#[test]
fn the_creator_must_own_the_stake_output() {
    let (chain, block, key) = setup();
    let other_validator = chain
        .validators
        .iter()
        .find(|k| k.public_key() != key.public_key())
        .cloned()
        .expect("two validators");
    for other in [other_validator, test_key(6, 0)] {
        let mut bad = block.clone();
        bad.header.creator = other.public_key();
        resign(&mut bad, &other);
        let err = rejected(&chain, &bad);
        assert!(matches!(err, BlockError::CreatorMismatch), "{err:?}");
    }
}

#[test]
fn the_stake_output_must_win_the_lottery() {
    let (chain, block, key) = setup();
    let t = block.header.timestamp;
    let stake = block.header.stake_output;
    let tip = chain.state.tip().timestamp;
    let ft = chain.params.future_threshold;
    let losing = first_loss(
        &chain,
        &stake,
        stake_value(&chain, &stake),
        (tip + 1..=t + ft).filter(|s| *s != t),
    )
    .expect("the stake does not win every second");
    let mut bad = block.clone();
    bad.header.timestamp = losing;
    resign(&mut bad, &key);
    let err = try_apply_at(&chain, &bad, t.max(losing)).expect_err("lost the lottery");
    assert!(matches!(err, BlockError::LotteryNotWon), "{err:?}");
}

#[test]
fn the_header_signature_must_verify() {
    let (chain, block, key) = setup();
    let mut flipped = block.clone();
    flipped.signature.0[17] ^= 0x04;
    let mut by_other = block.clone();
    by_other.signature = test_key(6, 0).sign_hash(&block.header.id().0);
    let mut of_parent = block.clone();
    of_parent.signature = key.sign_hash(&block.header.parent.0);
    for bad in [flipped, by_other, of_parent] {
        let err = rejected(&chain, &bad);
        assert!(matches!(err, BlockError::BadSignature), "{err:?}");
    }
}

#[test]
fn tx_root_must_commit_to_the_transactions() {
    let mut chain = chain();
    commit(&mut chain, vec![]);
    let txs = vec![pay(&chain, 0, 10), pay(&chain, 1, 20)];
    let (block, v) = chain.next_block(txs.clone());
    let key = chain.validators[v].clone();
    try_apply(&chain, &block).expect("valid");
    let empty_root = Hasher::new().finish();
    assert_eq!(chain.next_block(vec![]).0.header.tx_root, empty_root);

    // A wrong root, re-signed.
    let mut bad = block.clone();
    bad.header.tx_root = Hash([1; 32]);
    resign(&mut bad, &key);
    let mut bodies = vec![bad];
    // The signed header kept, the body changed: dropped, reordered, added transactions.
    for body in [
        vec![txs[0].clone()],
        vec![txs[1].clone(), txs[0].clone()],
        vec![],
    ] {
        let mut b = block.clone();
        b.transactions = body;
        bodies.push(b);
    }
    // A signature inside a transaction changed (WTxIds cover signatures).
    let mut b = block.clone();
    if let tfchain_types::Fulfillment::Signature(ks) =
        &mut b.transactions[0].coin_inputs[0].fulfillment
    {
        ks.signature.0[0] ^= 1;
    }
    bodies.push(b);
    for bad in bodies {
        let err = rejected(&chain, &bad);
        assert!(matches!(err, BlockError::TxRootMismatch), "{err:?}");
    }
}

#[test]
fn the_reward_address_must_be_a_single_key() {
    let (chain, block, key) = setup();
    // Any single-key address may receive the reward.
    let mut good = block.clone();
    good.header.reward_address = stranger(8);
    resign(&mut good, &key);
    try_apply(&chain, &good).expect("the creator may pay anyone");

    let (a, b) = (&chain.funded[0], &chain.funded[1]);
    let swap = Condition::AtomicSwap(AtomicSwapCondition {
        sender: address_of(a),
        receiver: address_of(b),
        hashed_secret: Secret([2; 32]).hashed(),
        timeout: GENESIS_TIME + 100,
    });
    for address in [
        multisig_of(2, &[a, b]).address(),
        swap.address(),
        tfchain_types::Address::NIL,
    ] {
        let mut bad = block.clone();
        bad.header.reward_address = address;
        resign(&mut bad, &key);
        let err = rejected(&chain, &bad);
        assert!(matches!(err, BlockError::RewardAddressInvalid), "{err:?}");
    }
}

#[test]
fn every_transaction_must_be_valid_in_order() {
    let (chain, block, key) = setup();
    let good = block.transactions[0].clone();
    let mut second = pay(&chain, 1, 20);
    accept(&chain, vec![good.clone(), second.clone()]);

    second.fee = tfchain_types::Currency(chain.params.min_fee.0 - 1);
    second.coin_outputs[1].value = tfchain_types::Currency(second.coin_outputs[1].value.0 + 1);
    sign_with(&mut second, &[&chain.funded[1]], &chain.params.genesis_id);
    let bad = with_txs(&block, &key, vec![good, second]);
    let err = rejected(&chain, &bad);
    assert_tx_err!(err, 1, TxError::FeeBelowMinimum { .. });
    assert!(err.is_peer_fault());
}
