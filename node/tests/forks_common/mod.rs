//! Helpers for the fork tests (`chain_forks.rs`): a real `ChainWriter` over a real store in
//! a temporary directory, driven by a `ManualClock`, and blocks built off-line by the real
//! lottery and signatures of a `TestChain` (its in-memory state is the reference the store
//! is compared with). Branches are `TestChain` clones taken at the fork point; each branch
//! is produced by one chosen validator, so competing blocks never share a stake output
//! (no equivocation is involved unless a test wants it).

#![allow(dead_code)]

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tempfile::TempDir;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{address_of, payment, TestChain};
use tfchain_consensus::{BlockOutcome, CoinEntry, StakeEntry, StateView};
use tfchain_node::chain::{BlockVerdict, ChainError, ChainEvent, ChainWriter, Origin};
use tfchain_node::clock::{Clock, ManualClock};
use tfchain_node::store::{AddressTx, BlockStatus, OutputRef, Store, Totals, TxLocation};
use tfchain_txpool::{Pool, PoolConfig};
use tfchain_types::{Address, Block, BlockId, Condition, Currency, OutputId, Transaction, TxId};
use tokio::sync::broadcast;

/// Two validators (stakes 100 and 50), eight funded keys with 1,000 TFT each.
pub fn two_validators(params: tfchain_consensus::ChainParams) -> TestChain {
    TestChain::with_params(params, &[100, 50], 8, Currency::from_tft(1_000))
}

/// What the chain task told its subscribers, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Connected(BlockId),
    Disconnected(BlockId),
    Reorganized {
        undone: Vec<BlockId>,
        applied: Vec<BlockId>,
    },
}

/// A chain writer on its own store in a temporary directory.
pub struct Node {
    pub store: Store,
    pub writer: ChainWriter,
    pub clock: ManualClock,
    pub pool: Arc<Mutex<Pool>>,
    events: broadcast::Receiver<ChainEvent>,
    chain: TestChain,
    _dir: TempDir,
}

// `submit` passes on what `ChainWriter::submit_block` returns, large error and all.
#[allow(clippy::result_large_err)]
impl Node {
    /// A fresh store holding only `chain`'s genesis block, and a writer on it. The clock
    /// starts at the genesis timestamp.
    pub fn new(chain: &TestChain) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store_common::open_with(dir.path(), chain, Some(true))
            .expect("open a fresh store");
        let clock = ManualClock::new(store.tip().timestamp);
        let pool = Arc::new(Mutex::new(Pool::new(PoolConfig::default())));
        let (writer, events) = writer_on(&store, chain, &clock, &pool);
        Node {
            store,
            writer,
            clock,
            pool,
            events,
            chain: chain.clone(),
            _dir: dir,
        }
    }

    /// A node that was given exactly `blocks`, in order, each of which must connect.
    pub fn reference(chain: &TestChain, blocks: &[Block]) -> Node {
        let mut node = Node::new(chain);
        for b in blocks {
            let v = node.submit(b).expect("a reference block is valid");
            assert!(
                matches!(v, BlockVerdict::Connected { reorged: false, .. }),
                "reference block {} did not extend the tip: {v:?}",
                b.id()
            );
        }
        node.events();
        node
    }

    /// A new writer over the same store: what a restart keeps (the store) and loses (the
    /// writer's in-memory side-block diffs, held blocks, verified signatures).
    pub fn restart(&mut self) {
        let (writer, events) = writer_on(&self.store, &self.chain, &self.clock, &self.pool);
        self.writer = writer;
        self.events = events;
    }

    /// Submits `block` as received from a peer, with the clock at (at least) its timestamp.
    pub fn submit(&mut self, block: &Block) -> Result<BlockVerdict, ChainError> {
        if self.clock.now() < block.header.timestamp {
            self.clock.set(block.header.timestamp);
        }
        self.writer.submit_block(block.clone(), Origin::Remote)
    }

    /// Submits `block` as received from a peer, leaving the clock where it is.
    pub fn submit_no_clock(&mut self, block: &Block) -> Result<BlockVerdict, ChainError> {
        self.writer.submit_block(block.clone(), Origin::Remote)
    }

    /// Submits each block, expecting each verdict in turn.
    pub fn submit_all(&mut self, blocks: &[Block], want: impl Fn(usize) -> BlockVerdict) {
        for (i, b) in blocks.iter().enumerate() {
            let got = self.submit(b);
            match got {
                Ok(v) if v == want(i) => {}
                other => panic!(
                    "block {i} ({} at height {}): expected {:?}, got {other:?}",
                    b.id(),
                    b.header.height,
                    want(i)
                ),
            }
        }
    }

    /// The chain events since the last call, in order.
    pub fn events(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(ChainEvent::Connected(b)) => out.push(Seen::Connected(b.id())),
                Ok(ChainEvent::Disconnected(b)) => out.push(Seen::Disconnected(b.id())),
                Ok(ChainEvent::Reorganized { undone, applied }) => out.push(Seen::Reorganized {
                    undone: undone.iter().map(|b| b.id()).collect(),
                    applied: applied.iter().map(|b| b.id()).collect(),
                }),
                Ok(ChainEvent::TxAccepted(_)) => {}
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(e) => panic!("event stream: {e}"),
            }
        }
        out
    }

    pub fn status(&self, id: &BlockId) -> Option<BlockStatus> {
        self.store
            .index_entry(id)
            .expect("index read")
            .map(|e| e.status)
    }

    pub fn snapshot(&self, addresses: &[Address], txids: &[TxId]) -> Snapshot {
        Snapshot::of(&self.store, addresses, txids)
    }
}

fn writer_on(
    store: &Store,
    chain: &TestChain,
    clock: &ManualClock,
    pool: &Arc<Mutex<Pool>>,
) -> (ChainWriter, broadcast::Receiver<ChainEvent>) {
    let (tx, rx) = broadcast::channel(1_024);
    let writer = ChainWriter::new(
        store.clone(),
        chain.params.clone(),
        Arc::clone(pool),
        Arc::new(clock.clone()),
        tx,
    );
    (writer, rx)
}

/// Everything a store says about the chain state that a reorganisation must get right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub tip: tfchain_consensus::BlockMeta,
    pub totals: Totals,
    /// Main-chain block IDs, genesis first.
    pub main: Vec<BlockId>,
    pub coins: BTreeMap<OutputId, CoinEntry>,
    pub stakes: BTreeMap<OutputId, StakeEntry>,
    pub outputs: BTreeMap<Address, Vec<(OutputId, OutputRef)>>,
    pub history: BTreeMap<Address, Vec<AddressTx>>,
    pub txs: BTreeMap<TxId, Option<TxLocation>>,
}

impl Snapshot {
    pub fn of(store: &Store, addresses: &[Address], txids: &[TxId]) -> Snapshot {
        let (tip, totals) = store.tip_and_totals();
        let main = (0..=tip.height)
            .map(|h| {
                store
                    .block_id_at(h)
                    .expect("height read")
                    .expect("a main-chain block at every height up to the tip")
            })
            .collect();
        Snapshot {
            tip,
            totals,
            main,
            coins: crate::store_common::store_coins(store),
            stakes: crate::store_common::store_stakes(store),
            outputs: addresses
                .iter()
                .map(|a| (*a, store.address_outputs(a).expect("address outputs")))
                .collect(),
            history: addresses
                .iter()
                .map(|a| {
                    let (h, _) = store
                        .address_history(a, None, usize::MAX)
                        .expect("address history");
                    (*a, h)
                })
                .collect(),
            txs: txids
                .iter()
                .map(|t| (*t, store.tx_location(t).expect("tx index read")))
                .collect(),
        }
    }
}

/// The next block on `chain`'s tip won by validator `v` alone: the earliest second after
/// the tip at which one of its stake outputs wins. Not applied, not validated: `txs` may
/// make it invalid.
pub fn block_by(chain: &TestChain, v: usize, txs: Vec<Transaction>) -> Block {
    let lottery = Lottery::for_child_of(&chain.state, &chain.params);
    let entries: Vec<(OutputId, StakeEntry)> = chain
        .validator_stakes()
        .into_iter()
        .filter(|(i, _, _)| *i == v)
        .map(|(_, id, e)| (id, e))
        .collect();
    assert!(!entries.is_empty(), "validator {v} holds no blockstakes");
    let key = &chain.validators[v];
    let mut t = chain.state.tip().timestamp + 1;
    loop {
        if let Some((id, _)) = lottery.winner(&chain.params, &entries, t) {
            return assemble_block(&chain.state, t, *id, key, address_of(key), txs);
        }
        t += 1;
    }
}

/// [`block_by`], applied to `chain`'s state (it must be valid).
pub fn push(chain: &mut TestChain, v: usize, txs: Vec<Transaction>) -> Block {
    let block = block_by(chain, v, txs);
    chain
        .state
        .apply(&block, &chain.params, block.header.timestamp)
        .expect("a block the test means to be valid is valid");
    block
}

/// `n` empty blocks by validator `v`.
pub fn push_empty(chain: &mut TestChain, v: usize, n: usize) -> Vec<Block> {
    (0..n).map(|_| push(chain, v, vec![])).collect()
}

/// Commits an invalid `block` to `chain`'s memory state as if it were valid, with the
/// outcome of its valid `twin` (same header but the transactions: same height, timestamp,
/// stake output, hence same target and work), so blocks can be built on top of it.
pub fn commit_as_if_valid(chain: &mut TestChain, block: &Block, twin: &Block) -> BlockOutcome {
    assert_eq!(block.header.timestamp, twin.header.timestamp);
    assert_eq!(block.header.stake_output, twin.header.stake_output);
    let mut outcome =
        tfchain_consensus::apply_block(&chain.state, twin, &chain.params, twin.header.timestamp)
            .expect("the twin is valid");
    outcome.meta.id = block.id();
    chain.state.commit(&outcome);
    outcome
}

/// Funded key `k`'s largest spendable coin output.
pub fn coin_of(chain: &TestChain, k: usize) -> (OutputId, CoinEntry) {
    chain
        .spendable(&address_of(&chain.funded[k]))
        .into_iter()
        .max_by_key(|(_, e)| e.value)
        .expect("the funded key has a spendable coin")
}

/// A payment of `amount` from funded key `k` (its largest coin) to `to`.
pub fn pay(chain: &TestChain, k: usize, to: Address, amount: Currency) -> Transaction {
    let (id, entry) = coin_of(chain, k);
    payment(
        &[(id, entry.value)],
        &chain.funded[k],
        Condition::Address(to),
        amount,
        chain.params.min_fee,
        &chain.params.genesis_id,
    )
}

/// A fresh address nobody holds anything at.
pub fn fresh_address(tag: u8) -> Address {
    address_of(&tfchain_types::Seed([tag; 32]).derive_key(0))
}

/// The output IDs a transaction creates.
pub fn outputs_of(tx: &Transaction) -> Vec<OutputId> {
    let txid = tx.txid();
    (0..tx.coin_outputs.len())
        .map(|i| Transaction::coin_output_id(&txid, i))
        .collect()
}
