//! Helpers for the store tests: a TestChain (real lottery, real signatures) driven in
//! lock-step with a Store, and comparisons against the in-memory reference state.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, payment, sign_all, TestChain};
use tfchain_consensus::{apply_block, apply_genesis, BlockOutcome, StateView};
use tfchain_node::store::{OutputRef, Store, StoreError};
use tfchain_types::{
    Address, Block, Condition, Currency, Fulfillment, Input, KeySignature, Output, Signature,
    StakeOutput, Transaction, TX_VERSION,
};

pub fn tft(n: u64) -> Currency {
    Currency::from_tft(n)
}

/// Two validators, eight funded keys.
pub fn test_chain() -> TestChain {
    TestChain::new(&[100, 50], 8, tft(1_000))
}

pub fn open(dir: &Path, chain: &TestChain) -> Result<Store, StoreError> {
    open_with(dir, chain, None)
}

/// [`open`] saying whether to keep the explorer indexes (`None`: as the store records).
pub fn open_with(
    dir: &Path,
    chain: &TestChain,
    explorer_index: Option<bool>,
) -> Result<Store, StoreError> {
    open_options(
        dir,
        chain,
        tfchain_node::store::StoreOptions {
            explorer_index,
            ..Default::default()
        },
    )
}

/// [`open`] with any options.
#[allow(dead_code)]
pub fn open_options(
    dir: &Path,
    chain: &TestChain,
    options: tfchain_node::store::StoreOptions,
) -> Result<Store, StoreError> {
    let outcome = apply_genesis(&chain.genesis, &chain.params).expect("test genesis applies");
    Store::open_with_genesis_block(dir, &chain.genesis, &outcome, &chain.params, options)
}

/// Up to `n` payments from distinct funded keys (so they never conflict), chosen by `seed`.
pub fn payments(chain: &TestChain, n: usize, seed: u64) -> Vec<Transaction> {
    let keys = &chain.funded;
    let fee = chain.params.min_fee;
    let mut out = Vec::new();
    for k in 0..keys.len().min(n) {
        let i = (seed as usize + k) % keys.len();
        let key = &keys[i];
        let Some((id, entry)) = chain
            .spendable(&address_of(key))
            .into_iter()
            .max_by_key(|(_, e)| e.value)
        else {
            continue;
        };
        let amount = Currency(entry.value.0 / (3 + (seed % 5) as u128));
        if amount.0 <= fee.0 {
            continue;
        }
        let to = &keys[(i + 1 + (seed as usize % 3)) % keys.len()];
        out.push(payment(
            &[(id, entry.value)],
            key,
            Condition::Address(address_of(to)),
            amount,
            fee,
            &chain.params.genesis_id,
        ));
    }
    out
}

/// Moves all blockstakes of validator `from` to two outputs (one back to itself, one to
/// validator `to`), paying the fee from a mature reward of `from`. `None` when `from` has
/// no spendable coin or no stake.
pub fn stake_split(chain: &TestChain, from: usize, to: usize) -> Option<Transaction> {
    let key = &chain.validators[from];
    let me = address_of(key);
    let (coin_id, coin) = chain.spendable(&me).into_iter().next()?;
    let (_, stake_id, stake) = chain
        .validator_stakes()
        .into_iter()
        .find(|(v, _, e)| *v == from && e.value >= 2)?;
    let fee = chain.params.min_fee;
    let give = stake.value / 2;
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: vec![Input {
            parent: coin_id,
            fulfillment: Fulfillment::Signature(KeySignature {
                public_key: key.public_key(),
                signature: Signature::ZERO,
            }),
        }],
        coin_outputs: vec![Output {
            value: coin.value.checked_sub(fee)?,
            condition: Condition::Address(me),
        }],
        blockstake_inputs: vec![Input {
            parent: stake_id,
            fulfillment: Fulfillment::Signature(KeySignature {
                public_key: key.public_key(),
                signature: Signature::ZERO,
            }),
        }],
        blockstake_outputs: vec![
            StakeOutput {
                value: stake.value - give,
                condition: Condition::Address(me),
            },
            StakeOutput {
                value: give,
                condition: Condition::Address(address_of(&chain.validators[to])),
            },
        ],
        fee,
        arbitrary_data: vec![],
        grid_ops: vec![],
    };
    if tx.coin_outputs[0].value.is_zero() {
        return None;
    }
    sign_all(&mut tx, key, &chain.params.genesis_id);
    Some(tx)
}

/// The transactions of block number `i` of a test run: payments, and now and then a
/// blockstake split.
pub fn block_txs(chain: &TestChain, i: u64) -> Vec<Transaction> {
    let mut txs = payments(chain, 1 + (i % 4) as usize, i);
    if i % 7 == 6 {
        if let Some(tx) = stake_split(chain, (i % 2) as usize, ((i + 1) % 2) as usize) {
            txs.push(tx);
        }
    }
    txs
}

/// Produces the next block, validates it against BOTH the store (through its view) and the
/// memory state, checks that they agree, and commits it to both.
pub fn step(chain: &mut TestChain, store: &Store, txs: Vec<Transaction>) -> (Block, BlockOutcome) {
    let (block, _) = chain.next_block(txs);
    let now = block.header.timestamp;
    let view = store.view();
    let from_store = apply_block(&view, &block, &chain.params, now);
    view.finish().expect("no store read fails");
    let from_store = from_store.expect("the block is valid on the store");
    let from_memory = chain
        .state
        .apply(&block, &chain.params, now)
        .expect("the block is valid on the memory state");
    assert_eq!(
        from_store, from_memory,
        "store and memory disagree on the outcome"
    );
    store
        .commit_block(&block, &from_store)
        .expect("commit succeeds");
    (block, from_store)
}

pub fn store_coins(
    store: &Store,
) -> BTreeMap<tfchain_types::OutputId, tfchain_consensus::CoinEntry> {
    store
        .unspent_coins()
        .collect::<Result<_, _>>()
        .expect("coins scan")
}

pub fn store_stakes(
    store: &Store,
) -> BTreeMap<tfchain_types::OutputId, tfchain_consensus::StakeEntry> {
    store
        .unspent_stakes()
        .collect::<Result<_, _>>()
        .expect("stakes scan")
}

/// Asserts the store holds exactly the memory state: outputs, tip, chain, totals, and
/// the address-output index.
pub fn assert_same(store: &Store, mem: &MemoryState) {
    assert_eq!(store.tip(), mem.tip(), "tip");
    assert_eq!(store_coins(store), mem.coins, "coins");
    assert_eq!(store_stakes(store), mem.stakes, "stakes");
    let totals = store.totals();
    assert_eq!(totals.coins, mem.total_coins(), "coin total");
    assert_eq!(totals.blockstakes, mem.total_stake(), "blockstake total");
    for (h, meta) in mem.chain.iter().enumerate() {
        assert_eq!(
            store.meta_at(h as u64).expect("meta read").as_ref(),
            Some(meta),
            "main-chain meta at height {h}"
        );
    }
    assert_eq!(
        store.meta_at(mem.chain.len() as u64).expect("meta read"),
        None,
        "nothing above the tip"
    );
    // The address index: every address's outputs, exactly.
    let mut by_address: BTreeMap<Address, Vec<(tfchain_types::OutputId, OutputRef)>> =
        BTreeMap::new();
    for (id, e) in &mem.coins {
        by_address
            .entry(e.condition.address())
            .or_default()
            .push((*id, OutputRef::Coin(e.clone())));
    }
    for (id, e) in &mem.stakes {
        by_address
            .entry(e.condition.address())
            .or_default()
            .push((*id, OutputRef::Stake(e.clone())));
    }
    for (address, want) in by_address {
        let got = store.address_outputs(&address).expect("address outputs");
        assert_eq!(got, want, "outputs of {address}");
    }
}

/// The deep index check finds nothing.
pub fn assert_indexes_exact(store: &Store) {
    let problems = store.verify_indexes().expect("index check runs");
    assert!(problems.is_empty(), "index problems: {problems:#?}");
}

/// The memory state obtained by validating and applying the store's main chain from
/// genesis (every block re-checked, signatures included).
pub fn replay(store: &Store, chain: &TestChain) -> MemoryState {
    let mut mem =
        MemoryState::from_genesis(&chain.genesis, &chain.params).expect("test genesis applies");
    for h in 1..=store.tip().height {
        let block = store
            .block_at(h)
            .expect("read")
            .expect("main-chain block stored");
        mem.apply(&block, &chain.params, block.header.timestamp)
            .expect("the stored main chain is valid");
    }
    mem
}
