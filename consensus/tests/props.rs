//! Property tests of the state transition (ARCHITECTURE.md §7):
//! - undo(apply(s, b)) == s over random chains of random payments and stake moves (§6);
//! - the supply invariant of §6 after every block, blockstakes constant;
//! - any single change to a valid signed transaction makes it invalid (§4.2, §4.3);
//! - any single change to a valid signed block makes `apply_block` fail (§5.1, §5.7).

mod support;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{subsequence, Index};
use proptest::test_runner::FileFailurePersistence;
use support::*;
use tfchain_consensus::testkit::{payment, test_key, TestChain, GENESIS_TIME};
use tfchain_consensus::{validate_transaction, SpendContext, StateView};
use tfchain_types::{
    Address, AddressKind, BlockId, Condition, Currency, Fulfillment, Hash, OutputId, SecretKey,
    Transaction,
};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/props.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Splits `total` by `weights` (each >= 1): the parts sum to `total`, none is negative.
fn split(total: u128, weights: &[u16]) -> Vec<u128> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut parts: Vec<u128> = weights
        .iter()
        .map(|w| total * u128::from(*w) / sum)
        .collect();
    let assigned: u128 = parts.iter().sum();
    if let Some(last) = parts.last_mut() {
        *last += total - assigned;
    }
    parts
}

// ---------------------------------------------------------------------------------------
// Random chains
// ---------------------------------------------------------------------------------------

/// One transaction of a random block, interpreted against the state when the block is built.
#[derive(Clone, Debug)]
struct TxPlan {
    /// Spend the newest output created earlier in the same block, if there is one.
    chain_in_block: bool,
    /// Which spendable outputs to spend (1 to 3).
    inputs: Vec<Index>,
    /// Output weights and recipients (1 to 4 outputs).
    outputs: Vec<(u16, Index)>,
    /// Also move one blockstake output, split by these weights, back to its owner.
    stake: Option<(Index, Vec<u16>)>,
}

fn tx_plan() -> impl Strategy<Value = TxPlan> {
    (
        any::<bool>(),
        vec(any::<Index>(), 1..=3),
        vec((1u16..=1000, any::<Index>()), 1..=4),
        prop::option::weighted(0.25, (any::<Index>(), vec(1u16..=1000, 1..=3))),
    )
        .prop_map(|(chain_in_block, inputs, outputs, stake)| TxPlan {
            chain_in_block,
            inputs,
            outputs,
            stake,
        })
}

/// 1 to 12 blocks of 0 to 4 transactions each: long enough for block rewards to mature
/// (`maturity_delay` is 5 on the dev network) and be spent.
fn chain_plan() -> impl Strategy<Value = Vec<Vec<TxPlan>>> {
    vec(vec(tx_plan(), 0..=4), 1..=12)
}

/// Two validators and three funded keys; every output the plans create goes to one of them.
fn random_chain() -> (TestChain, Vec<SecretKey>) {
    let chain = TestChain::new(&[60, 40], 3, tft(1000));
    let keys = chain
        .validators
        .iter()
        .chain(&chain.funded)
        .cloned()
        .collect();
    (chain, keys)
}

/// Builds the signed transactions of one planned block on the chain's tip. Every output
/// the block creates may be spent by a later transaction of the same block.
fn build_block_txs(chain: &TestChain, keys: &[SecretKey], plans: &[TxPlan]) -> Vec<Transaction> {
    let next = chain.state.tip().height + 1;
    let owner = |c: &Condition| keys.iter().position(|k| *c == key_cond(k));
    let mut coins: Vec<(OutputId, u128, usize)> = chain
        .state
        .coins
        .iter()
        .filter(|(_, e)| e.mature_at <= next)
        .filter_map(|(id, e)| owner(&e.condition).map(|o| (*id, e.value.0, o)))
        .collect();
    let mut stakes: Vec<(OutputId, u64, usize)> = chain
        .state
        .stakes
        .iter()
        .filter_map(|(id, e)| owner(&e.condition).map(|o| (*id, e.value, o)))
        .collect();
    let fee = chain.params.min_fee.0;
    let mut fresh: Option<OutputId> = None;
    let mut txs = Vec::new();
    for plan in plans {
        let mut picked = Vec::new();
        if plan.chain_in_block {
            if let Some(pos) = fresh.and_then(|f| coins.iter().position(|c| c.0 == f)) {
                picked.push(coins.swap_remove(pos));
            }
        }
        for ix in &plan.inputs {
            if coins.is_empty() {
                break;
            }
            picked.push(coins.swap_remove(ix.index(coins.len())));
        }
        let total: u128 = picked.iter().map(|p| p.1).sum();
        if total <= fee {
            coins.extend(picked);
            continue;
        }
        let weights: Vec<u16> = plan.outputs.iter().map(|(w, _)| *w).collect();
        let outputs: Vec<(u128, usize)> = split(total - fee, &weights)
            .into_iter()
            .zip(&plan.outputs)
            .filter(|(v, _)| *v > 0)
            .map(|(v, (_, r))| (v, r.index(keys.len())))
            .collect();
        let mut tx = coin_tx(
            picked
                .iter()
                .map(|(id, _, o)| sig_input(*id, &keys[*o]))
                .collect(),
            outputs
                .iter()
                .map(|(v, r)| out(Currency(*v), key_cond(&keys[*r])))
                .collect(),
            Currency(fee),
        );
        let mut signers: Vec<&SecretKey> = picked.iter().map(|(_, _, o)| &keys[*o]).collect();
        let mut stake_outputs = Vec::new();
        if let Some((ix, weights)) = &plan.stake {
            if !stakes.is_empty() {
                let (id, value, o) = stakes.swap_remove(ix.index(stakes.len()));
                stake_outputs = split(u128::from(value), weights)
                    .into_iter()
                    .filter(|v| *v > 0)
                    .map(|v| (u64::try_from(v).expect("a part of a u64"), o))
                    .collect();
                tx.blockstake_inputs = vec![sig_input(id, &keys[o])];
                tx.blockstake_outputs = stake_outputs
                    .iter()
                    .map(|(v, o)| stake_out(*v, key_cond(&keys[*o])))
                    .collect();
                signers.push(&keys[o]);
            }
        }
        sign_with(&mut tx, &signers, &chain.params.genesis_id);
        let txid = tx.txid();
        for (i, (v, r)) in outputs.iter().enumerate() {
            coins.push((Transaction::coin_output_id(&txid, i), *v, *r));
        }
        fresh = Some(Transaction::coin_output_id(&txid, outputs.len() - 1));
        for (i, (v, o)) in stake_outputs.iter().enumerate() {
            stakes.push((Transaction::stake_output_id(&txid, i), *v, *o));
        }
        txs.push(tx);
    }
    txs
}

proptest! {
    #![proptest_config(config(256))]

    /// Applying random blocks and undoing them restores every intermediate state exactly
    /// (coins, stakes, chain, undo data); re-applying the same blocks gives the same state.
    #[test]
    fn undo_restores_the_state_exactly(plan in chain_plan()) {
        let (mut chain, keys) = random_chain();
        let mut snapshots = vec![chain.state.clone()];
        let mut blocks = Vec::new();
        for block_plan in &plan {
            let txs = build_block_txs(&chain, &keys, block_plan);
            let (block, _) = chain.next_block(txs);
            let now = block.header.timestamp;
            if let Err(e) = chain.state.apply(&block, &chain.params, now) {
                return Err(TestCaseError::fail(format!("a planned block is invalid: {e}")));
            }
            snapshots.push(chain.state.clone());
            blocks.push(block);
        }
        let tip_state = chain.state.clone();
        snapshots.pop();
        while let Some(expected) = snapshots.pop() {
            prop_assert!(chain.state.undo_tip());
            prop_assert_eq!(&chain.state, &expected);
        }
        prop_assert!(!chain.state.undo_tip(), "genesis cannot be undone");
        for block in &blocks {
            let outcome = chain.state.apply(block, &chain.params, block.header.timestamp);
            prop_assert!(outcome.is_ok(), "re-applying: {:?}", outcome.err());
        }
        prop_assert_eq!(&chain.state, &tip_state);
    }

    /// §6: after every block the unspent coins are the genesis coins plus the rewards (fees
    /// only move value), and the blockstakes never change.
    #[test]
    fn supply_is_conserved(plan in chain_plan()) {
        let (mut chain, keys) = random_chain();
        let stake = chain.state.total_stake();
        prop_assert_eq!(chain.state.total_coins(), chain.expected_supply());
        for block_plan in &plan {
            let txs = build_block_txs(&chain, &keys, block_plan);
            let (block, _) = chain.next_block(txs);
            let now = block.header.timestamp;
            let outcome = match chain.state.apply(&block, &chain.params, now) {
                Ok(o) => o,
                Err(e) => {
                    return Err(TestCaseError::fail(format!("a planned block is invalid: {e}")))
                }
            };
            prop_assert_eq!(chain.state.total_coins(), chain.expected_supply());
            prop_assert_eq!(chain.state.total_stake(), stake);
            let (created, spent) = outcome.diff.coin_delta();
            prop_assert_eq!(created.0.checked_sub(spent.0), Some(chain.params.block_reward.0));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Transaction malleability: every field is covered by a rule or by the signature
// ---------------------------------------------------------------------------------------

/// A valid signed payment from some of the funded keys' genesis coins.
#[derive(Clone, Debug)]
struct PaymentSpec {
    inputs: Vec<usize>,
    outputs: Vec<(u16, Index)>,
    extra_fee: u64,
    data: Vec<u8>,
}

fn payment_spec() -> impl Strategy<Value = PaymentSpec> {
    (
        subsequence(vec![0usize, 1, 2], 1..=3),
        vec((1u16..=1000, any::<Index>()), 1..=4),
        prop_oneof![Just(0u64), 0u64..1_000_000_000],
        vec(any::<u8>(), 0..=32),
    )
        .prop_map(|(inputs, outputs, extra_fee, data)| PaymentSpec {
            inputs,
            outputs,
            extra_fee,
            data,
        })
}

fn build_payment(chain: &TestChain, spec: &PaymentSpec) -> Transaction {
    let coins: Vec<(OutputId, Currency)> = spec
        .inputs
        .iter()
        .map(|i| genesis_coin(chain, *i))
        .collect();
    let total: u128 = coins.iter().map(|c| c.1 .0).sum();
    let fee = chain.params.min_fee.0 + u128::from(spec.extra_fee);
    let weights: Vec<u16> = spec.outputs.iter().map(|(w, _)| *w).collect();
    let recipients = recipients(chain);
    let outputs = split(total - fee, &weights)
        .into_iter()
        .zip(&spec.outputs)
        .filter(|(v, _)| *v > 0)
        .map(|(v, (_, r))| out(Currency(v), recipients[r.index(recipients.len())].clone()))
        .collect();
    let inputs = spec
        .inputs
        .iter()
        .zip(&coins)
        .map(|(i, c)| sig_input(c.0, &chain.funded[*i]))
        .collect();
    let mut tx = coin_tx(inputs, outputs, Currency(fee));
    tx.arbitrary_data = spec.data.clone();
    let signers: Vec<&SecretKey> = spec.inputs.iter().map(|i| &chain.funded[*i]).collect();
    sign_with(&mut tx, &signers, &chain.params.genesis_id);
    tx
}

fn recipients(chain: &TestChain) -> Vec<Condition> {
    let mut r: Vec<Condition> = chain.funded.iter().map(key_cond).collect();
    r.push(Condition::Address(stranger(0x42)));
    r.push(multisig_of(1, &[&chain.funded[0], &chain.funded[1]]));
    r
}

/// One change to one field of a transaction.
#[derive(Clone, Debug)]
enum TxMutation {
    Version(u8),
    InputParent(Index, [u8; 32]),
    SignatureByte(Index, Index, u8),
    PublicKey(Index, Index),
    OutputValue(Index, i64),
    OutputValueSet(Index, u128),
    OutputAddress(Index, Index, u8),
    Fee(i64),
    DataAppend(u8),
    DataChange(Index, u8),
    AddOutput(u128, Index),
    RemoveInput(Index),
}

fn nonzero_delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        (1i64..=1_000),
        (-1_000i64..=-1),
        (1i64..=i64::MAX),
        (i64::MIN..=-1),
    ]
}

fn tx_mutation() -> impl Strategy<Value = TxMutation> {
    prop_oneof![
        any::<u8>()
            .prop_filter("a change", |v| *v != 1)
            .prop_map(TxMutation::Version),
        (any::<Index>(), any::<[u8; 32]>()).prop_map(|(i, b)| TxMutation::InputParent(i, b)),
        (any::<Index>(), any::<Index>(), 1u8..=255)
            .prop_map(|(i, b, m)| TxMutation::SignatureByte(i, b, m)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, k)| TxMutation::PublicKey(i, k)),
        (any::<Index>(), nonzero_delta()).prop_map(|(i, d)| TxMutation::OutputValue(i, d)),
        (any::<Index>(), any::<u128>()).prop_map(|(i, v)| TxMutation::OutputValueSet(i, v)),
        (any::<Index>(), any::<Index>(), 1u8..=255)
            .prop_map(|(i, b, m)| TxMutation::OutputAddress(i, b, m)),
        nonzero_delta().prop_map(TxMutation::Fee),
        any::<u8>().prop_map(TxMutation::DataAppend),
        (any::<Index>(), 1u8..=255).prop_map(|(i, m)| TxMutation::DataChange(i, m)),
        (
            prop_oneof![Just(0u128), 1u128..1_000_000_000_000, any::<u128>()],
            any::<Index>()
        )
            .prop_map(|(v, r)| TxMutation::AddOutput(v, r)),
        any::<Index>().prop_map(TxMutation::RemoveInput),
    ]
}

fn add_signed(value: u128, delta: i64) -> u128 {
    value
        .checked_add_signed(i128::from(delta))
        .unwrap_or(if delta < 0 { 0 } else { u128::MAX })
}

/// Applies `m` to `tx`. Returns false when the mutation would not change anything.
fn mutate_tx(tx: &mut Transaction, m: &TxMutation, chain: &TestChain) -> bool {
    match m {
        TxMutation::Version(v) => tx.version = *v,
        TxMutation::InputParent(i, bytes) => {
            let n = tx.coin_inputs.len();
            let input = &mut tx.coin_inputs[i.index(n)];
            if input.parent.0 .0 == *bytes {
                return false;
            }
            input.parent = OutputId(Hash(*bytes));
        }
        TxMutation::SignatureByte(i, b, mask) => {
            let n = tx.coin_inputs.len();
            let Fulfillment::Signature(ks) = &mut tx.coin_inputs[i.index(n)].fulfillment else {
                unreachable!("payments are signed by single keys")
            };
            ks.signature.0[b.index(64)] ^= mask;
        }
        TxMutation::PublicKey(i, k) => {
            let n = tx.coin_inputs.len();
            let Fulfillment::Signature(ks) = &mut tx.coin_inputs[i.index(n)].fulfillment else {
                unreachable!("payments are signed by single keys")
            };
            let others: Vec<_> = chain
                .funded
                .iter()
                .chain(&chain.validators)
                .map(SecretKey::public_key)
                .chain([test_key(9, 0).public_key()])
                .filter(|pk| *pk != ks.public_key)
                .collect();
            ks.public_key = others[k.index(others.len())];
        }
        TxMutation::OutputValue(i, delta) => {
            let n = tx.coin_outputs.len();
            let o = &mut tx.coin_outputs[i.index(n)];
            let new = add_signed(o.value.0, *delta);
            if new == o.value.0 {
                return false;
            }
            o.value = Currency(new);
        }
        TxMutation::OutputValueSet(i, v) => {
            let n = tx.coin_outputs.len();
            let o = &mut tx.coin_outputs[i.index(n)];
            if o.value.0 == *v {
                return false;
            }
            o.value = Currency(*v);
        }
        TxMutation::OutputAddress(i, b, mask) => {
            let n = tx.coin_outputs.len();
            match &mut tx.coin_outputs[i.index(n)].condition {
                Condition::Address(a) => a.hash.0[b.index(32)] ^= mask,
                Condition::MultiSig(m) => m.addresses[0].hash.0[b.index(32)] ^= mask,
                other => unreachable!("payments create no {other:?}"),
            }
        }
        TxMutation::Fee(delta) => {
            let new = add_signed(tx.fee.0, *delta);
            if new == tx.fee.0 {
                return false;
            }
            tx.fee = Currency(new);
        }
        TxMutation::DataAppend(b) => tx.arbitrary_data.push(*b),
        TxMutation::DataChange(i, mask) => {
            if tx.arbitrary_data.is_empty() {
                tx.arbitrary_data.push(*mask);
            } else {
                let n = tx.arbitrary_data.len();
                tx.arbitrary_data[i.index(n)] ^= mask;
            }
        }
        TxMutation::AddOutput(v, r) => {
            let recipients = recipients(chain);
            tx.coin_outputs.push(out(
                Currency(*v),
                recipients[r.index(recipients.len())].clone(),
            ));
        }
        TxMutation::RemoveInput(i) => {
            let n = tx.coin_inputs.len();
            tx.coin_inputs.remove(i.index(n));
        }
    }
    true
}

proptest! {
    #![proptest_config(config(1024))]

    /// A valid signed payment becomes invalid when any one of its fields changes.
    #[test]
    fn changing_any_field_of_a_signed_transaction_invalidates_it(
        spec in payment_spec(),
        m in tx_mutation(),
    ) {
        let chain = TestChain::new(&[100], 3, tft(1000));
        let ctx = SpendContext { height: 1, timestamp: GENESIS_TIME + 1 };
        let tx = build_payment(&chain, &spec);
        let valid = validate_transaction(&chain.state, &tx, &chain.params, &ctx);
        prop_assert!(valid.is_ok(), "the generated payment is valid: {:?}", valid.err());

        let mut bad = tx.clone();
        prop_assume!(mutate_tx(&mut bad, &m, &chain));
        prop_assert_ne!(&bad, &tx);
        let result = validate_transaction(&chain.state, &bad, &chain.params, &ctx);
        prop_assert!(result.is_err(), "{:?} left the transaction valid", m);
    }
}

// ---------------------------------------------------------------------------------------
// Block malleability: every header field is covered by a rule or by the signature
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum BlockMutation {
    Version(u32),
    Parent([u8; 32]),
    Height(u64),
    Timestamp(i64),
    StakeOutput([u8; 32]),
    OtherValidatorsStake,
    Creator(Index),
    RewardAddress(u8, [u8; 32]),
    TxRoot([u8; 32]),
    SignatureByte(Index, u8),
    TxFee(i64),
    TxSignatureByte(Index, u8),
    DropTx,
    DuplicateTx,
}

fn block_mutation() -> impl Strategy<Value = BlockMutation> {
    prop_oneof![
        any::<u32>()
            .prop_filter("a change", |v| *v != 1)
            .prop_map(BlockMutation::Version),
        any::<[u8; 32]>().prop_map(BlockMutation::Parent),
        any::<u64>().prop_map(BlockMutation::Height),
        prop_oneof![(-20i64..=20), any::<i64>()]
            .prop_filter("a change", |d| *d != 0)
            .prop_map(BlockMutation::Timestamp),
        any::<[u8; 32]>().prop_map(BlockMutation::StakeOutput),
        Just(BlockMutation::OtherValidatorsStake),
        any::<Index>().prop_map(BlockMutation::Creator),
        (0u8..=3, any::<[u8; 32]>()).prop_map(|(k, h)| BlockMutation::RewardAddress(k, h)),
        any::<[u8; 32]>().prop_map(BlockMutation::TxRoot),
        (any::<Index>(), 1u8..=255).prop_map(|(i, m)| BlockMutation::SignatureByte(i, m)),
        nonzero_delta().prop_map(BlockMutation::TxFee),
        (any::<Index>(), 1u8..=255).prop_map(|(i, m)| BlockMutation::TxSignatureByte(i, m)),
        Just(BlockMutation::DropTx),
        Just(BlockMutation::DuplicateTx),
    ]
}

/// Applies `m` to `block`. With `resign`, re-signs the header afterwards (recomputing the
/// tx root for body changes) when the change must still break a rule of its own; changes
/// that a re-signing producer could legitimately make (a later winning second, another
/// single-key reward address, an empty body) are only tested unsigned. Returns false when
/// the mutation would not change the block.
fn mutate_block(
    block: &mut tfchain_types::Block,
    m: &BlockMutation,
    chain: &TestChain,
    creator: &SecretKey,
    resign_after: bool,
) -> bool {
    let h = &mut block.header;
    let mut signer = Some(creator.clone());
    let mut body_changed = false;
    match m {
        BlockMutation::Version(v) => h.version = *v,
        BlockMutation::Parent(b) => {
            if h.parent.0 .0 == *b {
                return false;
            }
            h.parent = BlockId(Hash(*b));
        }
        BlockMutation::Height(x) => {
            if h.height == *x {
                return false;
            }
            h.height = *x;
        }
        BlockMutation::Timestamp(d) => {
            let new = h.timestamp.checked_add_signed(*d).unwrap_or(0);
            if new == h.timestamp {
                return false;
            }
            h.timestamp = new;
            if *d > 0 {
                signer = None;
            }
        }
        BlockMutation::StakeOutput(b) => {
            if h.stake_output.0 .0 == *b {
                return false;
            }
            h.stake_output = OutputId(Hash(*b));
        }
        BlockMutation::OtherValidatorsStake => {
            let other = chain
                .validator_stakes()
                .into_iter()
                .find(|(_, id, _)| *id != h.stake_output)
                .map(|(_, id, _)| id)
                .expect("two validators");
            h.stake_output = other;
        }
        BlockMutation::Creator(k) => {
            let others: Vec<SecretKey> = chain
                .validators
                .iter()
                .cloned()
                .chain([test_key(9, 0)])
                .filter(|key| key.public_key() != h.creator)
                .collect();
            let key = others[k.index(others.len())].clone();
            h.creator = key.public_key();
            signer = Some(key);
        }
        BlockMutation::RewardAddress(kind, hash) => {
            let kind = match kind {
                0 => AddressKind::Nil,
                1 => AddressKind::SingleKey,
                2 => AddressKind::AtomicSwap,
                _ => AddressKind::MultiSig,
            };
            let a = Address {
                kind,
                hash: Hash(*hash),
            };
            if a == h.reward_address {
                return false;
            }
            if kind == AddressKind::SingleKey {
                signer = None;
            }
            h.reward_address = a;
        }
        BlockMutation::TxRoot(b) => {
            if h.tx_root.0 == *b {
                return false;
            }
            h.tx_root = Hash(*b);
        }
        BlockMutation::SignatureByte(i, mask) => {
            block.signature.0[i.index(64)] ^= mask;
            return true;
        }
        BlockMutation::TxFee(d) => {
            let tx = &mut block.transactions[0];
            let new = add_signed(tx.fee.0, *d);
            if new == tx.fee.0 {
                return false;
            }
            tx.fee = Currency(new);
            body_changed = true;
        }
        BlockMutation::TxSignatureByte(i, mask) => {
            let Fulfillment::Signature(ks) = &mut block.transactions[0].coin_inputs[0].fulfillment
            else {
                unreachable!("payments are signed by single keys")
            };
            ks.signature.0[i.index(64)] ^= mask;
            body_changed = true;
        }
        BlockMutation::DropTx => {
            block.transactions.pop();
            signer = None;
        }
        BlockMutation::DuplicateTx => {
            let tx = block.transactions[0].clone();
            block.transactions.push(tx);
            body_changed = true;
        }
    }
    if resign_after {
        if let Some(key) = signer {
            if body_changed {
                block.header.tx_root = block.compute_tx_root();
            }
            resign(block, &key);
        }
    }
    true
}

proptest! {
    #![proptest_config(config(512))]

    /// A valid signed block fails `apply_block` when any one header field, its signature or
    /// a transaction inside it changes; re-signing does not help where the change breaks a
    /// rule of its own.
    #[test]
    fn changing_any_field_of_a_signed_block_invalidates_it(
        before in 0u64..=2,
        amount in 1u64..=999,
        m in block_mutation(),
        resign_after in any::<bool>(),
    ) {
        let mut chain = TestChain::new(&[60, 40], 2, tft(1000));
        commit_until(&mut chain, before);
        let tx = payment(
            &[genesis_coin(&chain, 0)],
            &chain.funded[0],
            key_cond(&chain.funded[1]),
            tft(amount),
            chain.params.min_fee,
            &chain.params.genesis_id,
        );
        let (block, v) = chain.next_block(vec![tx]);
        let now = block.header.timestamp;
        let valid = try_apply_at(&chain, &block, now);
        prop_assert!(valid.is_ok(), "the produced block is valid: {:?}", valid.err());

        let creator = chain.validators[v].clone();
        let mut bad = block.clone();
        prop_assume!(mutate_block(&mut bad, &m, &chain, &creator, resign_after));
        prop_assert_ne!(&bad, &block);
        let result = try_apply_at(&chain, &bad, now);
        prop_assert!(result.is_err(), "{:?} (re-signed: {}) left the block valid", m, resign_after);
    }
}
