//! Helpers shared by the consensus rule tests and property tests: chains whose genesis holds
//! extra outputs (multisig, time locks, atomic swaps, odd stakes), transaction builders that
//! sign any kind of fulfillment, lottery searches, and block surgery (change a header, then
//! re-sign it so that only the intended rule breaks).

#![allow(dead_code)]

use tfchain_consensus::lottery::wins;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{address_of, TestChain, GENESIS_TIME};
use tfchain_consensus::{
    apply_block, genesis_block, validate_transaction, BlockError, BlockOutcome, SpendContext,
    StateView, TxError,
};
use tfchain_types::limits::MAX_MULTISIG_KEYS;
use tfchain_types::{
    Address, AddressKind, Block, BlockId, Condition, Currency, Fulfillment, Hash, Input,
    KeySignature, MultiSigCondition, Output, OutputId, PublicKey, Secret, SecretKey, Signature,
    StakeOutput, Timestamp, Transaction, TX_VERSION,
};

pub fn tft(n: u64) -> Currency {
    Currency::from_tft(n)
}

/// The single-key condition of `key`.
pub fn key_cond(key: &SecretKey) -> Condition {
    Condition::Address(address_of(key))
}

pub fn out(value: Currency, condition: Condition) -> Output {
    Output { value, condition }
}

pub fn stake_out(value: u64, condition: Condition) -> StakeOutput {
    StakeOutput { value, condition }
}

/// A single-key address that no test key controls.
pub fn stranger(seed: u8) -> Address {
    Address {
        kind: AddressKind::SingleKey,
        hash: Hash([seed; 32]),
    }
}

/// A well-formed `min`-of-n multisig condition over `keys`.
pub fn multisig_of(min: u64, keys: &[&SecretKey]) -> Condition {
    Condition::MultiSig(MultiSigCondition {
        min,
        addresses: keys.iter().map(|k| address_of(k)).collect(),
    })
}

/// A 1-of-32 multisig over made-up addresses: the largest output condition there is
/// (1,076 encoded bytes), used to fill transactions up to a size.
pub fn big_multisig(seed: u8) -> Condition {
    Condition::MultiSig(MultiSigCondition {
        min: 1,
        addresses: (0..MAX_MULTISIG_KEYS as u8)
            .map(|j| Address {
                kind: AddressKind::SingleKey,
                hash: Hash([seed ^ j; 32]),
            })
            .collect(),
    })
}

/// Rebuilds `chain` on a genesis block with the given allocation and timestamp (keys,
/// parameters other than the genesis ID, and the validator list stay).
pub fn regenesis(chain: &TestChain, allocation: Transaction, timestamp: Timestamp) -> TestChain {
    let mut chain = chain.clone();
    let genesis = genesis_block(timestamp, allocation);
    chain.params.genesis_id = genesis.id();
    chain.state =
        MemoryState::from_genesis(&genesis, &chain.params).expect("test genesis is well formed");
    chain.genesis_coins = chain.state.total_coins();
    chain.genesis = genesis;
    chain
}

/// A `TestChain::new(stakes, funded, coins_each)` whose genesis also holds `extra_coins` and
/// `extra_stakes`, placed after the usual outputs (so they are genesis coin output
/// `funded + i` and genesis blockstake output `stakes.len() + i`).
pub fn chain_with(
    stakes: &[u64],
    funded: usize,
    coins_each: Currency,
    extra_coins: Vec<Output>,
    extra_stakes: Vec<StakeOutput>,
) -> TestChain {
    let chain = TestChain::new(stakes, funded, coins_each);
    let mut allocation = chain.genesis.transactions[0].clone();
    allocation.coin_outputs.extend(extra_coins);
    allocation.blockstake_outputs.extend(extra_stakes);
    regenesis(&chain, allocation, GENESIS_TIME)
}

/// Genesis coin output `index` and its value.
pub fn genesis_coin(chain: &TestChain, index: usize) -> (OutputId, Currency) {
    let tx = &chain.genesis.transactions[0];
    (
        Transaction::coin_output_id(&tx.txid(), index),
        tx.coin_outputs[index].value,
    )
}

/// Genesis blockstake output `index` and its value.
pub fn genesis_stake(chain: &TestChain, index: usize) -> (OutputId, u64) {
    let tx = &chain.genesis.transactions[0];
    (
        Transaction::stake_output_id(&tx.txid(), index),
        tx.blockstake_outputs[index].value,
    )
}

fn unsigned_ks(key: &SecretKey) -> KeySignature {
    KeySignature {
        public_key: key.public_key(),
        signature: Signature::ZERO,
    }
}

/// An input with a (not yet signed) single-key fulfillment by `key`.
pub fn sig_input(parent: OutputId, key: &SecretKey) -> Input {
    Input {
        parent,
        fulfillment: Fulfillment::Signature(unsigned_ks(key)),
    }
}

/// An input with a (not yet signed) multisig fulfillment by `keys`, in that order.
pub fn multisig_input(parent: OutputId, keys: &[&SecretKey]) -> Input {
    Input {
        parent,
        fulfillment: Fulfillment::MultiSignature(keys.iter().map(|k| unsigned_ks(k)).collect()),
    }
}

/// An atomic-swap claim input (not yet signed).
pub fn claim_input(parent: OutputId, key: &SecretKey, secret: Secret) -> Input {
    Input {
        parent,
        fulfillment: Fulfillment::Claim {
            public_key: key.public_key(),
            signature: Signature::ZERO,
            secret,
        },
    }
}

/// An atomic-swap refund input (not yet signed).
pub fn refund_input(parent: OutputId, key: &SecretKey) -> Input {
    Input {
        parent,
        fulfillment: Fulfillment::Refund {
            public_key: key.public_key(),
            signature: Signature::ZERO,
        },
    }
}

/// A version-1 transaction with only coin inputs and outputs.
pub fn coin_tx(coin_inputs: Vec<Input>, coin_outputs: Vec<Output>, fee: Currency) -> Transaction {
    Transaction {
        version: TX_VERSION,
        coin_inputs,
        coin_outputs,
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee,
        arbitrary_data: vec![],
        grid_ops: vec![],
    }
}

/// Signs every signature slot (single, multisig, claim, refund; coin and blockstake inputs)
/// whose public key belongs to one of `keys`, over the sighash for `genesis_id`. Slots of
/// other keys keep their signature.
pub fn sign_with(tx: &mut Transaction, keys: &[&SecretKey], genesis_id: &BlockId) {
    let sighash = tx.sighash(genesis_id);
    let sign = |public_key: &PublicKey, signature: &mut Signature| {
        if let Some(k) = keys.iter().find(|k| k.public_key() == *public_key) {
            *signature = k.sign_hash(&sighash);
        }
    };
    for input in tx
        .coin_inputs
        .iter_mut()
        .chain(tx.blockstake_inputs.iter_mut())
    {
        match &mut input.fulfillment {
            Fulfillment::Signature(ks) => sign(&ks.public_key, &mut ks.signature),
            Fulfillment::MultiSignature(list) => {
                for ks in list {
                    sign(&ks.public_key, &mut ks.signature);
                }
            }
            Fulfillment::Claim {
                public_key,
                signature,
                ..
            }
            | Fulfillment::Refund {
                public_key,
                signature,
            } => sign(public_key, signature),
        }
    }
}

/// A valid transaction of exactly `target` encoded bytes spending `coin` (owned by `key`):
/// big multisig outputs, then small outputs, then arbitrary data fill the space. Leaves
/// room for at least one more byte of arbitrary data.
pub fn filler_tx(
    chain: &TestChain,
    coin: (OutputId, Currency),
    key: &SecretKey,
    target: usize,
) -> Transaction {
    let fee = chain.params.min_fee;
    let build = |extra: &[Output], data_len: usize| {
        let spent = Currency(extra.len() as u128)
            .checked_add(fee)
            .expect("small amounts");
        let change = coin
            .1
            .checked_sub(spent)
            .expect("the coin covers the filler");
        let mut outputs = extra.to_vec();
        outputs.push(out(change, key_cond(key)));
        let mut tx = coin_tx(vec![sig_input(coin.0, key)], outputs, fee);
        tx.arbitrary_data = vec![0xab; data_len];
        tx
    };
    let mut extra: Vec<Output> = Vec::new();
    for condition in [big_multisig(0x5a), key_cond(key)] {
        loop {
            let mut more = extra.clone();
            more.push(out(Currency(1), condition.clone()));
            if build(&more, 0).encoded_len() > target {
                break;
            }
            extra = more;
        }
    }
    let gap = target
        .checked_sub(build(&extra, 0).encoded_len())
        .expect("target is at least the size of a one-output transaction");
    let mut tx = build(&extra, gap);
    assert!(
        tx.arbitrary_data.len() < 255,
        "filler leaves room for a byte"
    );
    assert_eq!(tx.encoded_len(), target);
    sign_with(&mut tx, &[key], &chain.params.genesis_id);
    tx
}

/// Applies `block` to the chain's state with the clock at the block's timestamp.
pub fn try_apply(chain: &TestChain, block: &Block) -> Result<BlockOutcome, BlockError> {
    apply_block(&chain.state, block, &chain.params, block.header.timestamp)
}

/// Applies `block` with the clock at `now`.
pub fn try_apply_at(
    chain: &TestChain,
    block: &Block,
    now: Timestamp,
) -> Result<BlockOutcome, BlockError> {
    apply_block(&chain.state, block, &chain.params, now)
}

/// Produces (by the real lottery) and checks the next block carrying `txs`; never commits.
pub fn try_txs(chain: &TestChain, txs: Vec<Transaction>) -> Result<BlockOutcome, BlockError> {
    let (block, _) = chain.next_block(txs);
    try_apply(chain, &block)
}

/// Asserts that the next block carrying `txs` is valid. For a single transaction, the
/// pool's check (`validate_transaction`) must agree.
#[track_caller]
pub fn accept(chain: &TestChain, txs: Vec<Transaction>) -> BlockOutcome {
    let (block, _) = chain.next_block(txs);
    match try_apply(chain, &block) {
        Ok(outcome) => {
            if let [tx] = block.transactions.as_slice() {
                if let Err(e) = pool_check(chain, &block, tx) {
                    panic!("the block accepts the transaction but the pool check says {e:?}");
                }
            }
            outcome
        }
        Err(e) => panic!("expected a valid block, got {e:?}"),
    }
}

/// The error of the next block carrying `txs`, which must be invalid. For a single
/// transaction, the pool's check (`validate_transaction`) must report the same error.
#[track_caller]
pub fn reject(chain: &TestChain, txs: Vec<Transaction>) -> BlockError {
    let (block, _) = chain.next_block(txs);
    let err = match try_apply(chain, &block) {
        Ok(_) => panic!("expected the block to be rejected"),
        Err(e) => e,
    };
    if let ([tx], BlockError::Tx { index: 0, source }) = (block.transactions.as_slice(), &err) {
        assert_eq!(
            pool_check(chain, &block, tx).err().as_ref(),
            Some(source),
            "the pool check and the block check disagree"
        );
    }
    err
}

/// `validate_transaction` of `tx` on the chain's tip, at `block`'s height and time.
pub fn pool_check(chain: &TestChain, block: &Block, tx: &Transaction) -> Result<(), TxError> {
    let ctx = SpendContext {
        height: block.header.height,
        timestamp: block.header.timestamp,
    };
    validate_transaction(&chain.state, tx, &chain.params, &ctx).map(|_| ())
}

/// Produces, applies and returns the next block carrying `txs`, which must be valid.
#[track_caller]
pub fn commit(chain: &mut TestChain, txs: Vec<Transaction>) -> Block {
    let (block, _) = chain.next_block(txs);
    let now = block.header.timestamp;
    if let Err(e) = chain.state.apply(&block, &chain.params, now) {
        panic!("expected a valid block, got {e:?}");
    }
    block
}

/// Commits empty blocks until the tip is at `height`.
pub fn commit_until(chain: &mut TestChain, height: u64) {
    while chain.state.tip().height < height {
        commit(chain, vec![]);
    }
}

/// The validator key that created `block`.
pub fn creator_key(chain: &TestChain, block: &Block) -> SecretKey {
    chain
        .validators
        .iter()
        .find(|k| k.public_key() == block.header.creator)
        .cloned()
        .expect("the block was produced by one of the chain's validators")
}

/// Re-signs the header of `block` with `key`.
pub fn resign(block: &mut Block, key: &SecretKey) {
    block.signature = key.sign_hash(&block.header.id().0);
}

/// `block` with its transactions replaced (and tx_root recomputed), signed by `key`.
pub fn with_txs(block: &Block, key: &SecretKey, transactions: Vec<Transaction>) -> Block {
    let mut b = block.clone();
    b.header.tx_root = tfchain_types::block::tx_root(&transactions);
    b.transactions = transactions;
    resign(&mut b, key);
    b
}

/// A signed block on the chain's tip at `t` for `stake_output`, created by `key`, paying
/// the reward to `key`'s address.
pub fn block_at(
    chain: &TestChain,
    t: Timestamp,
    stake_output: OutputId,
    key: &SecretKey,
    txs: Vec<Transaction>,
) -> Block {
    assemble_block(&chain.state, t, stake_output, key, address_of(key), txs)
}

/// Whether `output` (of `value` blockstakes) wins the lottery for the tip's child at `t`
/// (eligibility not included).
pub fn wins_at(chain: &TestChain, output: &OutputId, value: u64, t: Timestamp) -> bool {
    let lottery = Lottery::for_child_of(&chain.state, &chain.params);
    wins(&lottery.modifier, output, value, t, lottery.target)
}

/// The first timestamp of `range` at which `output` wins for the tip's child.
pub fn first_win(
    chain: &TestChain,
    output: &OutputId,
    value: u64,
    range: impl IntoIterator<Item = Timestamp>,
) -> Option<Timestamp> {
    let lottery = Lottery::for_child_of(&chain.state, &chain.params);
    range
        .into_iter()
        .find(|t| wins(&lottery.modifier, output, value, *t, lottery.target))
}

/// The first timestamp of `range` at which `output` does not win for the tip's child.
pub fn first_loss(
    chain: &TestChain,
    output: &OutputId,
    value: u64,
    range: impl IntoIterator<Item = Timestamp>,
) -> Option<Timestamp> {
    let lottery = Lottery::for_child_of(&chain.state, &chain.params);
    range
        .into_iter()
        .find(|t| !wins(&lottery.modifier, output, value, *t, lottery.target))
}

/// Asserts that `err` (a `BlockError`) is `BlockError::Tx { index, source }` with `source`
/// matching the pattern (and the optional guard; bindings are references).
#[allow(unused_macros)]
macro_rules! assert_tx_err {
    ($err:expr, $index:literal, $source:pat $(if $guard:expr)?) => {{
        let err: &tfchain_consensus::BlockError = &$err;
        assert!(
            matches!(
                err,
                tfchain_consensus::BlockError::Tx { index: $index, source: $source } $(if $guard)?
            ),
            "expected transaction {} to fail with {}, got {err:?}",
            $index,
            stringify!($source)
        );
    }};
}

/// `a - b` for test amounts that cannot underflow.
pub fn minus(a: Currency, b: Currency) -> Currency {
    a.checked_sub(b).expect("test amounts do not underflow")
}
