//! The single writer of chain state (ARCHITECTURE.md §2): validates blocks with
//! `consensus::apply_block`, commits each in one atomic store write, follows the heaviest
//! chain through reorganisations, holds blocks that arrive early, and keeps the pool in
//! step with the tip. Synchronous: the chain task runs it on its own thread.

use super::error::ChainError;
use super::orphans::Held;
use super::side::SideBlocks;
use super::verified::{VerifiedCache, VERIFIED_CACHE_ENTRIES};
use super::ChainEvent;
use crate::clock::Clock;
use crate::store::{BlockStatus, Store};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tfchain_consensus::equivocation::{is_equivocation, SignedHeader};
use tfchain_consensus::{apply_block_cached, BlockError, BlockOutcome, ChainParams, Signatures};
use tfchain_txpool::{ChainAt, Pool, PoolError};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{
    Block, BlockId, Hash, Height, OutputId, Timestamp, Transaction, TxId, BLOCK_VERSION,
};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

/// Where a block came from: decides flushing and logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Produced by this node.
    Local,
    /// Received from a peer or over RPC.
    Remote,
    /// Read from a file (`import-blocks`): flushed in batches.
    Import,
}

/// What happened to a submitted block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockVerdict {
    /// It extends the main chain (possibly after a reorganisation).
    Connected {
        height: Height,
        reorged: bool,
    },
    /// Valid so far on a side chain that is not heavier than the main chain.
    SideChain,
    /// Its parent is unknown, or it is ahead of the clock: held and retried.
    Held,
    AlreadyKnown,
}

pub struct ChainWriter {
    pub(super) store: Store,
    pub(super) params: ChainParams,
    pub(super) pool: Arc<Mutex<Pool>>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) events: broadcast::Sender<ChainEvent>,
    /// Events of the block being submitted, sent once it is durable ([`ChainWriter::publish`]).
    pub(super) pending: Vec<ChainEvent>,
    pub(super) held: Held,
    /// Validated side blocks per fork point, with their diffs (§5.8).
    pub(super) side: SideBlocks,
    /// Recent headers by (height, stake output), to catch equivocation (§5.8).
    seen: BTreeMap<(Height, OutputId), SignedHeader>,
    /// Transactions whose signatures this node verified (pool admission, pre-verified
    /// blocks): a block carrying them skips those checks.
    pub(super) verified: Arc<VerifiedCache>,
    /// Held blocks that proved invalid, for the network to penalise their senders.
    pub(super) refused_held: Arc<Mutex<Vec<BlockId>>>,
    /// When recent blocks arrived ahead of the clock (for the clock-skew warning).
    early: Vec<Timestamp>,
    skew_warned_at: Timestamp,
}

/// Refused held blocks remembered until the network collects them.
const MAX_REFUSED_HELD: usize = 1_024;
/// Blocks ahead of the clock within a minute that make the node warn about its clock.
const EARLY_BLOCKS_WARN: usize = 3;

/// The rules a block must pass before it is held (its parent unknown, or early): those
/// that need no parent state (PROTOCOL.md §5.7 1, 4, 5). A held block is then never a
/// junk copy of a real one, and cannot hold back the real one with the same ID.
pub(super) fn check_without_parent(block: &Block) -> Result<(), BlockError> {
    let h = &block.header;
    if h.version != BLOCK_VERSION {
        return Err(BlockError::UnsupportedVersion(h.version));
    }
    if !h.creator.verify(block.id().as_bytes(), &block.signature) {
        return Err(BlockError::BadSignature);
    }
    if block.compute_tx_root() != h.tx_root {
        return Err(BlockError::TxRootMismatch);
    }
    Ok(())
}

impl std::fmt::Debug for ChainWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainWriter")
            .field("tip", &self.store.tip().height)
            .field("held", &self.held.len())
            .finish()
    }
}

impl ChainWriter {
    pub fn new(
        store: Store,
        params: ChainParams,
        pool: Arc<Mutex<Pool>>,
        clock: Arc<dyn Clock>,
        events: broadcast::Sender<ChainEvent>,
    ) -> Self {
        ChainWriter {
            store,
            params,
            pool,
            clock,
            events,
            pending: Vec::new(),
            held: Held::default(),
            side: SideBlocks::default(),
            seen: BTreeMap::new(),
            verified: Arc::new(VerifiedCache::new(VERIFIED_CACHE_ENTRIES)),
            refused_held: Arc::default(),
            early: Vec::new(),
            skew_warned_at: 0,
        }
    }

    /// The verified-transactions cache, to pre-verify blocks ahead of submitting them.
    pub fn verified(&self) -> Arc<VerifiedCache> {
        Arc::clone(&self.verified)
    }

    /// Handles one block from anywhere, then connects any held blocks it unblocks.
    pub fn submit_block(
        &mut self,
        block: Block,
        origin: Origin,
    ) -> Result<BlockVerdict, ChainError> {
        let id = block.id();
        let verdict = match self.process(block, origin) {
            Ok(v) => v,
            Err(e) => {
                // What did change (a reorganisation that failed part-way restores the old
                // chain, so usually nothing) is still told, once durable.
                if !self.pending.is_empty() && self.store.flush().is_ok() {
                    self.publish();
                }
                self.pending.clear();
                return Err(e);
            }
        };
        if matches!(
            verdict,
            BlockVerdict::Connected { .. } | BlockVerdict::SideChain
        ) {
            self.connect_held_children(id, origin);
        }
        if matches!(verdict, BlockVerdict::Connected { .. }) {
            self.prune_side_blocks();
            if origin != Origin::Import {
                // Durable (block files synced) before anyone hears of it: relayed,
                // reported over RPC or built upon.
                self.store.flush()?;
            }
            // Between blocks, never inside a reorganisation.
            self.store.maybe_checkpoint()?;
        }
        self.publish();
        Ok(verdict)
    }

    /// Sends the events gathered while a block was submitted (after the flush that made
    /// it durable).
    pub(super) fn publish(&mut self) {
        for ev in self.pending.drain(..) {
            let _ = self.events.send(ev);
        }
    }

    fn connect_held_children(&mut self, parent: BlockId, origin: Origin) {
        let mut queue = vec![parent];
        while let Some(p) = queue.pop() {
            for child in self.held.take_children(&p) {
                let cid = child.id();
                match self.process(child, origin) {
                    Ok(BlockVerdict::Connected { .. } | BlockVerdict::SideChain) => queue.push(cid),
                    Ok(_) => {}
                    Err(e) => {
                        debug!(block = %cid, error = %e, "held block refused");
                        self.held_refused(cid, &e);
                    }
                }
            }
        }
    }

    /// Retries every held block (called once a second: blocks ahead of the clock).
    pub fn retry_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        for block in self.held.take_all() {
            let id = block.id();
            if let Err(e) = self.submit_block(block, Origin::Remote) {
                debug!(block = %id, error = %e, "held block refused on retry");
                self.held_refused(id, &e);
            }
        }
    }

    /// A held block proved invalid once it could be checked: report it, so the network
    /// penalises the peer that sent it (it was not known to be invalid when held).
    fn held_refused(&self, id: BlockId, e: &ChainError) {
        if e.is_peer_fault() {
            let mut r = self.refused_held.lock();
            if r.len() >= MAX_REFUSED_HELD {
                r.remove(0);
            }
            r.push(id);
        }
    }

    fn process(&mut self, block: Block, origin: Origin) -> Result<BlockVerdict, ChainError> {
        let id = block.id();
        if let Some(entry) = self.store.index_entry(&id)? {
            return match entry.status {
                BlockStatus::Invalid => Err(ChainError::KnownInvalid(id)),
                BlockStatus::OnMain | BlockStatus::Stored => Ok(BlockVerdict::AlreadyKnown),
            };
        }
        if self.held.contains(&id) {
            return Ok(BlockVerdict::Held);
        }
        let size = block.encoded_len();
        if size > MAX_BLOCK_SIZE {
            return Err(ChainError::TooLarge {
                size,
                max: MAX_BLOCK_SIZE,
            });
        }
        let tip = self.store.tip();
        if block.header.parent == tip.id {
            return self.connect(block, origin);
        }
        match self.store.index_entry(&block.header.parent)? {
            None => {
                // Only what passes the rules that need no parent is held (§5.7 1, 4, 5).
                check_without_parent(&block)?;
                debug!(block = %id, parent = %block.header.parent, "parent unknown: holding block");
                self.held.insert(block);
                Ok(BlockVerdict::Held)
            }
            Some(p) if p.status == BlockStatus::Invalid => {
                self.remember_invalid(&id)?;
                Err(ChainError::InvalidAncestor(block.header.parent))
            }
            Some(p) => self.side_block(block, p),
        }
    }

    /// `apply_block` of a child of the tip against the store, skipping the signatures this
    /// node has verified before. The outer error is a failed store read, which is not a
    /// verdict: the caller must neither commit nor mark the block invalid.
    pub(super) fn validate_on_tip(
        &self,
        block: &Block,
        now: Timestamp,
        sigs: Signatures,
    ) -> Result<Result<BlockOutcome, BlockError>, ChainError> {
        let view = self.store.view();
        let verdict = apply_block_cached(&view, block, &self.params, now, sigs, &*self.verified);
        view.finish()?;
        Ok(verdict)
    }

    /// Validates and commits a child of the tip.
    pub(super) fn connect(
        &mut self,
        block: Block,
        origin: Origin,
    ) -> Result<BlockVerdict, ChainError> {
        let id = block.id();
        let now = self.clock.now();
        match self.validate_on_tip(&block, now, Signatures::Verify)? {
            Ok(outcome) => {
                self.store.commit_block(&block, &outcome)?;
                self.after_connect(&block);
                let height = outcome.meta.height;
                match origin {
                    Origin::Local => {
                        info!(height, block = %id, txs = block.transactions.len(), "produced block")
                    }
                    Origin::Remote => {
                        info!(height, block = %id, txs = block.transactions.len(), "new block")
                    }
                    Origin::Import => debug!(height, block = %id, "imported block"),
                }
                Ok(BlockVerdict::Connected {
                    height,
                    reorged: false,
                })
            }
            Err(e @ BlockError::TimestampInFuture { .. }) => {
                // Every header rule but the clock's passed; the body must match too.
                check_without_parent(&block)?;
                debug!(block = %id, error = %e, "block ahead of the clock: holding it");
                self.note_early(now);
                self.held.insert(block);
                Ok(BlockVerdict::Held)
            }
            Err(e @ BlockError::TimestampTooFarInFuture { .. }) => {
                // Not remembered as invalid: our own clock may be the one that is wrong.
                warn!(block = %id, error = %e, "block too far ahead of the clock: check this machine's clock if this repeats");
                self.note_early(now);
                Err(e.into())
            }
            Err(e) => {
                warn!(block = %id, error = %e, "invalid block");
                self.remember_invalid(&id)?;
                Err(e.into())
            }
        }
    }

    /// Counts blocks that arrive ahead of this node's clock; when several do within a
    /// minute, the clock is the likelier culprit than the peers, and the operator is told.
    pub(super) fn note_early(&mut self, now: Timestamp) {
        self.early.retain(|t| now.saturating_sub(*t) < 60);
        if self.early.len() >= 64 {
            self.early.remove(0);
        }
        self.early.push(now);
        if self.early.len() >= EARLY_BLOCKS_WARN && now >= self.skew_warned_at.saturating_add(600) {
            self.skew_warned_at = now;
            warn!(
                early_blocks = self.early.len(),
                future_threshold_s = self.params.future_threshold,
                "many blocks arrive ahead of this machine's clock: it is probably behind (check NTP)"
            );
        }
    }

    /// Marks a stored block invalid. A block that was never stored (refused before that)
    /// has nothing to mark: it is simply refused, so the caller still sees the rule it broke.
    pub(super) fn remember_invalid(&self, id: &BlockId) -> Result<(), ChainError> {
        match self.store.mark_invalid(id) {
            Ok(()) | Err(crate::store::StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Bookkeeping after a block joined the main chain: pool, equivocation, subscribers.
    pub(super) fn after_connect(&mut self, block: &Block) {
        let view = ChainAt::new(&self.store, &self.params);
        let result = self.pool.lock().on_block_connected(&view, block);
        if let Err(e) = result {
            warn!(error = %e, "pool out of step with the chain: resyncing it");
            self.pool.lock().resync(&view, self.clock.now());
        }
        self.note_header(block);
        self.pending
            .push(ChainEvent::Connected(Arc::new(block.clone())));
    }

    /// Bookkeeping after the tip block was undone.
    pub(super) fn after_disconnect(&mut self, block: &Block) {
        let view = ChainAt::new(&self.store, &self.params);
        let now = self.clock.now();
        let result = self.pool.lock().on_block_disconnected(&view, block, now);
        if let Err(e) = result {
            warn!(error = %e, "pool out of step with the chain: resyncing it");
            self.pool.lock().resync(&view, now);
        }
        self.pending
            .push(ChainEvent::Disconnected(Arc::new(block.clone())));
    }

    /// Remembers a validly signed header and records equivocation evidence (§5.8).
    pub(super) fn note_header(&mut self, block: &Block) {
        let signed = SignedHeader {
            header: block.header.clone(),
            signature: block.signature,
        };
        let key = (block.header.height, block.header.stake_output);
        match self.seen.get(&key) {
            Some(first) if is_equivocation(first, &signed) => {
                warn!(height = key.0, stake_output = %key.1, "equivocation: one stake output signed two blocks at the same height");
                if let Err(e) = self.store.put_equivocation(first, &signed) {
                    warn!(error = %e, "could not store equivocation evidence");
                }
            }
            Some(_) => {}
            None => {
                self.seen.insert(key, signed);
            }
        }
        let floor = self
            .store
            .tip()
            .height
            .saturating_sub(self.params.max_reorg_depth);
        while let Some((&(h, o), _)) = self.seen.first_key_value() {
            if h >= floor {
                break;
            }
            self.seen.remove(&(h, o));
        }
    }

    /// Admits transactions to the pool against the current tip.
    pub fn submit_txs(&mut self, txs: Vec<Transaction>) -> Vec<Result<TxId, PoolError>> {
        let view = ChainAt::new(&self.store, &self.params);
        let now = self.clock.now();
        let wtxids: Vec<Hash> = txs.iter().map(Transaction::wtxid).collect();
        let results = self.pool.lock().admit_batch(&view, txs, now);
        // Admission verified every signature of what it admitted.
        self.verified.insert_all(
            wtxids
                .iter()
                .zip(&results)
                .filter(|(_, r)| r.is_ok())
                .map(|(w, _)| *w),
        );
        results
            .into_iter()
            .map(|r| {
                r.map(|a| {
                    let _ = self.events.send(ChainEvent::TxAccepted(a.txid));
                    a.txid
                })
            })
            .collect()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Flushes the store (after a batch of imported blocks).
    pub fn flush(&self) -> Result<(), ChainError> {
        self.store.flush().map_err(ChainError::from)
    }

    /// The tip after genesis or restart: makes sure the pool follows it.
    pub fn tip_height(&self) -> Height {
        self.store.tip().height
    }
}
