//! The explorer indexer: builds the transaction index, the address history and the
//! address-output index on a thread of its own, off the chain's critical path (as Bitcoin
//! Core builds `txindex`). It has its own tip ([`IndexTip`]) and follows the main chain:
//! catching up on open, indexing each block the chain commits, and undoing what a
//! reorganisation or rollback took off the main chain.
//!
//! Its entries and its tip go straight to the database in one atomic batch (never through
//! the state cache, whose checkpoints would otherwise order writes with the chain's). It
//! indexes only blocks already synced in the block files (the chain syncs each block before
//! announcing it; an import at each checkpoint), so its tip is never a block a crash could
//! lose; it stays still while a reorganisation is open, whose blocks replay may drop. A tip whose
//! block or undo data is gone (pruned, or a repaired store) makes it start over from the
//! genesis block.

use super::db::Tables;
use super::error::StoreError;
use super::indexes::{address_output_changes, block_indexes, BlockIndexes, OutputChanges};
use super::tables::{
    key, value, AddressHistory, AddressOutputs, BlockIndex, Heights, IndexTip, OutputGroupKey,
    Table, Tip, TxIndex, EXPLORER_PREFIXES,
};
use super::types::IndexedTip;
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_types::OutputId;

/// Writes the indexer puts in one batch while catching up (sled needs several KB of memory
/// per entry of a batch; in step with the chain a batch is one block).
const BATCH_WRITES: usize = 20_000;

/// How far the index has got, as readers see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexStatus {
    /// The last block indexed; `None` before the genesis block is.
    pub tip: Option<IndexedTip>,
    /// Why the indexer stopped, if it did (a database error; the chain goes on).
    pub failed: Option<String>,
}

/// What the store and the indexer thread share.
pub(crate) struct IndexShared {
    work: Mutex<Work>,
    wake: Condvar,
    status: Mutex<IndexStatus>,
    progressed: Condvar,
    /// A reorganisation is open: its blocks may yet be dropped by replay, so the indexer
    /// writes nothing (held while it writes, so one cannot start meanwhile).
    reorg_open: Mutex<bool>,
}

#[derive(Default)]
struct Work {
    generation: u64,
    stop: bool,
}

impl IndexShared {
    pub fn new() -> Self {
        IndexShared {
            work: Mutex::new(Work::default()),
            wake: Condvar::new(),
            status: Mutex::new(IndexStatus::default()),
            progressed: Condvar::new(),
            reorg_open: Mutex::new(false),
        }
    }

    /// The main chain changed: the indexer looks again.
    pub fn notify(&self) {
        let mut w = self.work.lock();
        w.generation += 1;
        self.wake.notify_one();
    }

    /// Marks a reorganisation open (waiting for an index write in flight) or closed.
    pub fn set_reorg_open(&self, open: bool) {
        *self.reorg_open.lock() = open;
        if !open {
            self.notify();
        }
    }

    fn stop(&self) {
        self.work.lock().stop = true;
        self.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.work.lock().stop
    }

    pub fn status(&self) -> IndexStatus {
        self.status.lock().clone()
    }

    fn publish(&self, update: impl FnOnce(&mut IndexStatus)) {
        let mut s = self.status.lock();
        update(&mut s);
        self.progressed.notify_all();
    }

    /// Waits up to `timeout` for `reached` to hold of the index's tip (or the indexer to
    /// fail); the status at the end.
    pub fn wait_for(
        &self,
        reached: impl Fn(&IndexedTip) -> bool,
        timeout: Duration,
    ) -> IndexStatus {
        let deadline = Instant::now() + timeout;
        let mut s = self.status.lock();
        while !s.tip.as_ref().is_some_and(&reached) && s.failed.is_none() {
            if self.progressed.wait_until(&mut s, deadline).timed_out() {
                break;
            }
        }
        s.clone()
    }
}

/// The running indexer: stopped and joined when dropped.
pub(crate) struct Indexer {
    shared: Arc<IndexShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Indexer {
    /// Starts the indexer over `t`; with `rebuild` (or when the database records no index
    /// tip) it first drops whatever the indexes hold and starts from the genesis block.
    pub fn start(t: Tables, shared: Arc<IndexShared>, rebuild: bool) -> Result<Self, StoreError> {
        // A restart after a repair: the indexer before this one was stopped and joined.
        shared.work.lock().stop = false;
        shared.publish(|s| s.failed = None);
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || {
                if let Err(e) = run(&t, &s, rebuild) {
                    tracing::error!(error = %e, "the explorer indexer stopped: tx_get of confirmed transactions and the address_* methods answer UNAVAILABLE until a restart");
                    s.publish(|st| st.failed = Some(e.to_string()));
                }
            })
            .map_err(|e| StoreError::Io {
                what: "starting the indexer thread".into(),
                source: e,
            })?;
        Ok(Indexer {
            shared,
            thread: Some(thread),
        })
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.shared.stop();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the explorer indexer panicked");
            }
        }
    }
}

fn run(t: &Tables, shared: &IndexShared, rebuild: bool) -> Result<(), StoreError> {
    let mut tip = read_tip(t)?;
    if rebuild || tip.is_none() {
        purge(t, shared)?;
        tip = None;
    }
    shared.publish(|s| s.tip = tip);
    let mut seen = u64::MAX;
    let mut logged = Instant::now();
    loop {
        {
            let mut w = shared.work.lock();
            while w.generation == seen && !w.stop {
                // Also looks now and then on its own: a missed wake-up costs a second.
                shared.wake.wait_for(&mut w, Duration::from_secs(1));
                if w.generation == seen {
                    break;
                }
            }
            if w.stop {
                return Ok(());
            }
            seen = w.generation;
        }
        while !*shared.reorg_open.lock() && !shared.stopping() {
            let step = match step(t, shared, tip)? {
                Step::Idle => break,
                Step::Moved(next) => next,
                Step::StartOver(why) => {
                    tracing::warn!(reason = %why, "the explorer index starts over from the genesis block");
                    purge(t, shared)?;
                    None
                }
            };
            tip = step;
            shared.publish(|s| s.tip = tip);
            if logged.elapsed() > Duration::from_secs(10) {
                logged = Instant::now();
                tracing::info!(height = tip.map(|t| t.height), "explorer index catching up");
            }
        }
    }
}

enum Step {
    /// The index is at the chain's tip.
    Idle,
    /// It indexed forward or undid its tip; its new tip.
    Moved(Option<IndexedTip>),
    /// It cannot go on from its tip.
    StartOver(String),
}

/// Undoes the index tip if it left the main chain, else indexes forward (up to
/// [`BATCH_WRITES`]), in one atomic batch.
fn step(t: &Tables, shared: &IndexShared, tip: Option<IndexedTip>) -> Result<Step, StoreError> {
    let Some(chain_tip) = t.get::<Tip>(&())? else {
        return Ok(Step::Idle);
    };
    let Some(chain_height) = t.get::<BlockIndex>(&chain_tip)?.map(|e| e.meta.height) else {
        return Ok(Step::Idle);
    };
    let mut overlay = Overlay::default();
    if let Some(it) = tip {
        if it.id == chain_tip {
            return Ok(Step::Idle);
        }
        if t.get::<Heights>(&it.height)? != Some(it.id) {
            let (Some(block), Some(undo)) = (t.block(&it.id)?, t.undo(&it.id)?) else {
                return Ok(Step::StartOver(format!(
                    "its tip {} at height {} left the main chain and its undo data is gone",
                    it.id, it.height
                )));
            };
            let Some(parent) = it.height.checked_sub(1) else {
                return Ok(Step::StartOver(
                    "the genesis block left the main chain".into(),
                ));
            };
            match block_indexes(&block, it.id, &undo.diff) {
                Ok(ix) => overlay.reverse(t, &ix, &undo.diff)?,
                Err(e) => return Ok(Step::StartOver(format!("block {}: {e}", it.id))),
            }
            let next = IndexedTip {
                height: parent,
                id: block.header.parent,
            };
            return overlay.write(t, shared, tip, next);
        }
    }
    let mut last = tip;
    let mut h = tip.map_or(0, |t| t.height + 1);
    while h <= chain_height && overlay.len() < BATCH_WRITES {
        let Some(id) = t.get::<Heights>(&h)? else {
            break; // a reorganisation moved the tip meanwhile: look again
        };
        // Only blocks durable in the block files: the index tip is never one a crash loses.
        match t.get::<super::tables::Undo>(&id)? {
            Some(loc) if loc.end() <= t.files.synced_end() => {}
            _ => break,
        }
        let (Some(block), Some(undo)) = (t.block(&id)?, t.undo(&id)?) else {
            break;
        };
        if last.is_some_and(|l| l.id != block.header.parent) {
            break;
        }
        match block_indexes(&block, id, &undo.diff) {
            Ok(ix) => overlay.forward(t, &ix, &undo.diff)?,
            Err(e) => {
                return Err(StoreError::Corrupt {
                    table: "Undo",
                    key: id.to_string(),
                    detail: format!("undo data does not match its block: {e}"),
                })
            }
        }
        last = Some(IndexedTip { height: h, id });
        h += 1;
    }
    match last {
        Some(next) if last != tip => overlay.write(t, shared, tip, next),
        _ => Ok(Step::Idle),
    }
}

/// Index writes in key order, the last write to a key winning; and the address-output
/// groups the batch changes, read once and written once (an output created and spent
/// within one batch never reaches the database).
#[derive(Default)]
struct Overlay {
    ops: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    groups: BTreeMap<OutputGroupKey, BTreeSet<OutputId>>,
}

impl Overlay {
    fn put<T: Table>(&mut self, k: &T::Key, v: &T::Value) {
        self.ops.insert(key::<T>(k), Some(value::<T>(v)));
    }

    fn delete<T: Table>(&mut self, k: &T::Key) {
        self.ops.insert(key::<T>(k), None);
    }

    fn forward(
        &mut self,
        t: &Tables,
        ix: &BlockIndexes,
        diff: &tfchain_consensus::BlockDiff,
    ) -> Result<(), StoreError> {
        for (txid, loc) in &ix.txs {
            self.put::<TxIndex>(txid, &loc.spot());
        }
        for (k, entries) in &ix.history_by_address() {
            self.put::<AddressHistory>(k, entries);
        }
        let (gone, added) = address_output_changes(diff);
        self.move_outputs(t, &gone, &added)
    }

    /// Takes `gone` out of their address-output groups and puts `added` in.
    fn move_outputs(
        &mut self,
        t: &Tables,
        gone: &OutputChanges,
        added: &OutputChanges,
    ) -> Result<(), StoreError> {
        for (g, id) in gone {
            self.group(t, g)?.remove(id);
        }
        for (g, id) in added {
            self.group(t, g)?.insert(*id);
        }
        Ok(())
    }

    fn group(
        &mut self,
        t: &Tables,
        g: &OutputGroupKey,
    ) -> Result<&mut BTreeSet<OutputId>, StoreError> {
        if !self.groups.contains_key(g) {
            let stored = t.get::<AddressOutputs>(g)?.unwrap_or_default();
            self.groups.insert(*g, stored.into_iter().collect());
        }
        Ok(self.groups.entry(*g).or_default())
    }

    /// Entries staged so far (to bound a batch).
    fn len(&self) -> usize {
        self.ops.len() + self.groups.len()
    }

    /// The exact reverse of [`Overlay::forward`]: a transaction-index entry goes only while
    /// it still names this block's spot (the same transaction may sit on
    /// the new branch, indexed later).
    fn reverse(
        &mut self,
        t: &Tables,
        ix: &BlockIndexes,
        diff: &tfchain_consensus::BlockDiff,
    ) -> Result<(), StoreError> {
        for (txid, loc) in &ix.txs {
            if t.get::<TxIndex>(txid)? == Some(loc.spot()) {
                self.delete::<TxIndex>(txid);
            }
        }
        for k in ix.history_by_address().keys() {
            self.delete::<AddressHistory>(k);
        }
        let (spent, created) = address_output_changes(diff);
        self.move_outputs(t, &created, &spent)
    }

    /// Writes the entries and the new tip `next` to the database in one atomic batch (the
    /// blocks they index are durable: see [`step`]). Writes nothing (the index stays at
    /// `tip`) when a reorganisation opened meanwhile: what was read may be half of it.
    fn write(
        mut self,
        t: &Tables,
        shared: &IndexShared,
        tip: Option<IndexedTip>,
        next: IndexedTip,
    ) -> Result<Step, StoreError> {
        let reorg_open = shared.reorg_open.lock();
        if *reorg_open {
            return Ok(Step::Moved(tip));
        }
        for (g, ids) in std::mem::take(&mut self.groups) {
            if ids.is_empty() {
                self.delete::<AddressOutputs>(&g);
            } else {
                self.put::<AddressOutputs>(&g, &ids.into_iter().collect());
            }
        }
        let mut batch = sled::Batch::default();
        for (k, v) in self.ops {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch.insert(key::<IndexTip>(&()), value::<IndexTip>(&next));
        t.tree.apply_batch(batch)?;
        Ok(Step::Moved(Some(next)))
    }
}

fn read_tip(t: &Tables) -> Result<Option<IndexedTip>, StoreError> {
    t.get::<IndexTip>(&())
}

/// Deletes whatever the explorer indexes hold (the tip first: a crash part-way leaves an
/// index with no tip, which the next start purges again), in bounded batches.
pub(crate) fn purge(t: &Tables, shared: &IndexShared) -> Result<(), StoreError> {
    const CHUNK: usize = 10_000;
    let mut purged = 0usize;
    for prefix in EXPLORER_PREFIXES {
        loop {
            if shared.stopping() {
                return Ok(());
            }
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in t.tree.scan_prefix([prefix]).keys().take(CHUNK) {
                batch.remove(item?);
                n += 1;
            }
            if n == 0 {
                break;
            }
            purged += n;
            t.tree.apply_batch(batch)?;
        }
    }
    if purged > 0 {
        tracing::info!(entries = purged, "dropped the explorer indexes");
    }
    Ok(())
}

/// Deletes the explorer indexes on the caller's thread (a store that stops keeping them).
pub(crate) fn purge_now(t: &Tables) -> Result<(), StoreError> {
    purge(t, &IndexShared::new())?;
    t.tree.flush()?;
    Ok(())
}
