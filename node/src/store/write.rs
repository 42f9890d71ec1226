//! Writes. Each public method stages everything it changes in one [`WriteBatch`] and
//! applies it atomically; the in-memory head is updated only after the batch is applied.

use super::db::{Tables, WriteBatch};
use super::segments::{FileLoc, Kind};
use super::tables::{
    BlockIndex, Blocks, Coins, EquivocationKey, Equivocations, Headers, Heights, RunningTotals,
    Stakes, Tip, Undo,
};
use super::tables::{
    GridEvents, GridState, NodeEventKey, NodeEvents, SideEvents, SideHeights, SideKey,
};
use super::types::{
    BlockIndexEntry, BlockStatus, CommitRecord, EventPosition, StoredEquivocation, StoredEvent,
    Totals, UndoRecord,
};
use super::{Store, StoreError, META_CACHE_BLOCKS};
use tfchain_consensus::equivocation::{is_equivocation, SignedHeader};
use tfchain_consensus::{BlockDiff, BlockMeta, BlockOutcome};
use tfchain_contracts::GridValue;
use tfchain_types::{codec, Block, BlockId, Currency, GridEvent, Height, OutputId};

impl Store {
    /// Commits `block`, a child of the tip, with the `outcome` that `apply_block` returned
    /// for it: the diff, the undo data, the block and its index entry, the height, the new
    /// tip and totals — one atomic batch. (The explorer indexes follow on the indexer's
    /// thread.)
    ///
    /// Durable after the next [`Store::flush`] (or sled's periodic flush). A
    /// [`StoreError::Sled`] from any write is fatal: stop the node and restart it (sled
    /// refuses further writes after an I/O error; the check on open repairs).
    pub fn commit_block(&self, block: &Block, outcome: &BlockOutcome) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        let (tip, before) = {
            let head = self.inner.head.read();
            (head.tip.clone(), head.totals)
        };
        let id = block.id();
        if block.header.parent != tip.id || block.header.height != tip.height + 1 {
            return Err(StoreError::NotTip {
                block: id,
                height: block.header.height,
                parent: block.header.parent,
                tip: tip.id,
                tip_height: tip.height,
            });
        }
        let mut batch = self.inner.tables.batch();
        let totals = stage_commit(
            &self.inner.tables,
            &mut batch,
            block,
            outcome,
            tip.id,
            before,
        )?;
        self.inner.tables.apply(batch)?;
        self.inner
            .since_checkpoint
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);

        let mut head = self.inner.head.write();
        head.tip = outcome.meta.clone();
        head.totals = totals;
        head.recent.push_back(outcome.meta.clone());
        while head.recent.len() > META_CACHE_BLOCKS {
            head.recent.pop_front();
        }
        drop(head);
        self.inner.index.notify();
        Ok(())
    }

    /// Undoes the tip block in one atomic batch: restores what it spent and the grid
    /// records it changed, removes what it created, moves its grid
    /// events to the side-event table (PROTOCOL.md §7.5: reported as reverted to readers
    /// whose cursor names it), marks it [`BlockStatus::Stored`] (the body stays for a
    /// possible re-apply) and makes its parent the tip. Returns the undone block.
    pub fn undo_tip(&self) -> Result<Block, StoreError> {
        let _w = self.inner.writer.lock();
        let t = &self.inner.tables;
        let (tip, totals) = {
            let head = self.inner.head.read();
            (head.tip.clone(), head.totals)
        };
        let mut batch = t.batch();
        let (block, parent, restored) = stage_undo_tip(t, &mut batch, &tip, totals)?;
        // Recorded before it applies: replay after a crash undoes it again.
        t.files.append(Kind::Undo, &codec::encode(&tip.id))?;
        t.apply(batch)?;

        let mut head = self.inner.head.write();
        head.recent.pop_back();
        if head.recent.back().map(|m| m.id) != Some(parent.id) {
            head.recent.clear();
            head.recent.push_back(parent.clone());
        }
        head.tip = parent;
        head.totals = restored;
        drop(head);
        self.inner.index.notify();
        Ok(block)
    }

    /// Undoes `n` blocks (each in its own atomic batch), for `tfchaind rollback N`. Refuses
    /// up front to go below the genesis block. Returns the new tip.
    pub fn rollback(&self, n: u64) -> Result<BlockMeta, StoreError> {
        let tip_height = self.tip().height;
        if n > tip_height {
            return Err(StoreError::RollbackTooDeep {
                requested: n,
                tip_height,
            });
        }
        for _ in 0..n {
            self.undo_tip()?;
        }
        self.checkpoint()?;
        Ok(self.tip())
    }

    /// Stores a block that is not (yet) on the main chain, with its index entry (status
    /// [`BlockStatus::Stored`] or [`BlockStatus::Invalid`]). Refuses a block that is on the
    /// main chain.
    pub fn store_side_block(
        &self,
        block: &Block,
        entry: BlockIndexEntry,
    ) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        let id = block.id();
        if entry.status == BlockStatus::OnMain {
            return Err(StoreError::OutcomeMismatch {
                block: id,
                detail: "a side block cannot have status OnMain: commit_block puts blocks on the \
                         main chain"
                    .into(),
            });
        }
        if entry.meta.id != id || entry.parent != block.header.parent {
            return Err(StoreError::OutcomeMismatch {
                block: id,
                detail: "the index entry's id or parent differs from the block's".into(),
            });
        }
        let t = &self.inner.tables;
        if let Some(old) = t.get::<BlockIndex>(&id)? {
            if old.status == BlockStatus::OnMain {
                return Err(StoreError::OnMainChain(id));
            }
        }
        let loc = match t.get::<Blocks>(&id)? {
            Some(loc) => loc,
            None => t.files.append(Kind::Block, &tfchain_types::encode(block))?,
        };
        let mut batch = t.batch();
        stage_body(&mut batch, block, loc);
        batch.put::<BlockIndex>(&id, &entry);
        batch.put::<SideHeights>(
            &SideKey {
                height: entry.meta.height,
                id,
            },
            &(),
        );
        t.apply(batch)
    }

    /// Removes a side block's body, header, undo locator and index entry (a branch that can no longer be
    /// chosen). Its `SideEvents`, if it was once on the main chain, stay: readers holding a
    /// cursor that names it still learn its events were reverted. Refuses a main-chain
    /// block; a block already gone is not an error.
    pub fn forget_side_block(&self, id: &BlockId) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        let t = &self.inner.tables;
        match t.get::<BlockIndex>(id)? {
            None => Ok(()),
            Some(e) if e.status == BlockStatus::OnMain => Err(StoreError::OnMainChain(*id)),
            Some(e) => {
                let mut batch = t.batch();
                batch.delete::<Blocks>(id);
                batch.delete::<Undo>(id);
                batch.delete::<Headers>(id);
                batch.delete::<BlockIndex>(id);
                batch.delete::<SideHeights>(&SideKey {
                    height: e.meta.height,
                    id: *id,
                });
                t.apply(batch)
            }
        }
    }

    /// The stored blocks off the main chain at heights up to `max_height` (at most
    /// `limit`, lowest first): below `tip - max_reorg_depth` they can never be chosen.
    pub fn side_blocks_up_to(
        &self,
        max_height: Height,
        limit: usize,
    ) -> Result<Vec<BlockId>, StoreError> {
        let upper = std::ops::Bound::Included(super::tables::key::<SideHeights>(&SideKey {
            height: max_height,
            id: BlockId(tfchain_types::Hash([0xff; 32])),
        }));
        self.inner
            .tables
            .range::<SideHeights>(&[], std::ops::Bound::Unbounded, upper)
            .take(limit)
            .map(|r| r.map(|(k, ())| k.id))
            .collect()
    }

    /// Marks a stored block invalid (it failed validation). Refuses a main-chain block.
    pub fn mark_invalid(&self, id: &BlockId) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        let t = &self.inner.tables;
        let mut entry = t
            .get::<BlockIndex>(id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "block",
                id: id.to_string(),
            })?;
        if entry.status == BlockStatus::OnMain {
            return Err(StoreError::OnMainChain(*id));
        }
        entry.status = BlockStatus::Invalid;
        let mut batch = t.batch();
        batch.put::<BlockIndex>(id, &entry);
        t.apply(batch)
    }

    /// Keeps equivocation evidence (PROTOCOL.md §5.8). Returns false when evidence for this
    /// height and stake output is already stored (the first pair is kept). Refuses a pair
    /// that is not an equivocation.
    pub fn put_equivocation(
        &self,
        first: &SignedHeader,
        second: &SignedHeader,
    ) -> Result<bool, StoreError> {
        if !is_equivocation(first, second) {
            return Err(StoreError::OutcomeMismatch {
                block: first.header.id(),
                detail: "the two headers are not an equivocation (same height, stake output and \
                         creator, different headers, both signed)"
                    .into(),
            });
        }
        let _w = self.inner.writer.lock();
        let k = EquivocationKey {
            height: first.header.height,
            stake_output: first.header.stake_output,
        };
        let t = &self.inner.tables;
        if t.contains::<Equivocations>(&k)? {
            return Ok(false);
        }
        let mut batch = t.batch();
        batch.put::<Equivocations>(
            &k,
            &StoredEquivocation {
                first: first.clone(),
                second: second.clone(),
            },
        );
        t.apply(batch)?;
        Ok(true)
    }
}

/// Stages the undo of the main-chain tip `tip`, whose totals are `totals`: restores what it
/// spent and the grid records it changed, removes what it created and its index entries,
/// moves its events to `SideEvents` and makes its parent the tip. Returns the block, its
/// parent and the totals after the undo. Live undo and replay share it.
pub(crate) fn stage_undo_tip(
    t: &Tables,
    batch: &mut WriteBatch,
    tip: &BlockMeta,
    totals: Totals,
) -> Result<(Block, BlockMeta, Totals), StoreError> {
    if tip.height == 0 {
        return Err(StoreError::UndoGenesis);
    }
    let missing = |what: &str| {
        StoreError::unrecoverable(format!(
            "the tip block {} at height {} has no {what}",
            tip.id, tip.height
        ))
    };
    let block = t.block(&tip.id)?.ok_or_else(|| missing("body"))?;
    let entry = t
        .get::<BlockIndex>(&tip.id)?
        .ok_or_else(|| missing("index entry"))?;
    let undo = t.undo(&tip.id)?.ok_or_else(|| missing("undo data"))?;
    let parent = t
        .get::<BlockIndex>(&entry.parent)?
        .ok_or_else(|| missing("parent index entry"))?
        .meta;
    let restored = totals_before(totals, &undo.diff).ok_or_else(|| {
        StoreError::unrecoverable(format!(
            "undoing block {} would make the running totals negative",
            tip.id
        ))
    })?;
    stage_diff_reverse(batch, &undo.diff);
    stage_unindex(batch, &entry, &undo);
    batch.put::<Tip>(&(), &parent.id);
    batch.put::<RunningTotals>(&(), &restored);
    Ok((block, parent, restored))
}

/// Stages the commit of `block` with `outcome` on a parent whose totals are `before`;
/// returns the totals after it. Checks that the diff fits the stored state (what it spends
/// exists, what it creates does not) so a wrong outcome cannot corrupt the store. Appends
/// the block (unless the block files hold it already) and its commit record.
pub(crate) fn stage_commit(
    t: &Tables,
    batch: &mut WriteBatch,
    block: &Block,
    outcome: &BlockOutcome,
    parent: BlockId,
    before: Totals,
) -> Result<Totals, StoreError> {
    stage_commit_at(t, batch, block, outcome, parent, before, None)
}

/// [`stage_commit`], or with `replay`: the locations of the block and of its commit record,
/// already in the block files (a commit replayed after a crash, which appends nothing).
pub(crate) fn stage_commit_at(
    t: &Tables,
    batch: &mut WriteBatch,
    block: &Block,
    outcome: &BlockOutcome,
    parent: BlockId,
    before: Totals,
    replay: Option<(FileLoc, FileLoc)>,
) -> Result<Totals, StoreError> {
    let id = block.id();
    let mismatch = |detail: String| StoreError::OutcomeMismatch { block: id, detail };
    let meta = &outcome.meta;
    if meta.id != id || meta.height != block.header.height {
        return Err(mismatch(format!(
            "the outcome is for block {} at height {}",
            meta.id, meta.height
        )));
    }
    let diff = &outcome.diff;
    check_diff_fits(t, diff).map_err(|e| match e {
        Fit::Store(e) => e,
        Fit::Mismatch(d) => mismatch(d),
    })?;
    let totals = totals_after(before, diff)
        .ok_or_else(|| mismatch("the running totals would overflow or go negative".into()))?;
    let (block_loc, commit_loc) = match replay {
        Some(locs) => locs,
        None => {
            let block_loc = match t.get::<Blocks>(&id)? {
                Some(loc) => loc,
                None => t.files.append(Kind::Block, &tfchain_types::encode(block))?,
            };
            let record = CommitRecord {
                block: block_loc,
                parent,
                meta: meta.clone(),
                fees: outcome.fees,
                undo: UndoRecord {
                    diff: diff.clone(),
                    totals,
                    events: outcome.events.clone(),
                },
            };
            let commit_loc = t.files.append(Kind::Commit, &codec::encode(&record))?;
            (block_loc, commit_loc)
        }
    };
    stage_diff_forward(batch, diff);
    stage_body(batch, block, block_loc);
    batch.put::<BlockIndex>(
        &id,
        &BlockIndexEntry {
            meta: meta.clone(),
            parent,
            status: BlockStatus::OnMain,
        },
    );
    batch.put::<Heights>(&meta.height, &id);
    batch.delete::<SideHeights>(&SideKey {
        height: meta.height,
        id,
    });
    stage_events(batch, id, meta.height, &outcome.events);
    // Back on the main chain (a reorganisation returned to it): its events are live again.
    batch.delete::<SideEvents>(&id);
    batch.put::<Undo>(&id, &commit_loc);
    batch.put::<Tip>(&(), &id);
    batch.put::<RunningTotals>(&(), &totals);
    Ok(totals)
}

/// Where the block body is, and its signed header.
fn stage_body(batch: &mut WriteBatch, block: &Block, loc: FileLoc) {
    let id = block.id();
    batch.put::<Blocks>(&id, &loc);
    batch.put::<Headers>(
        &id,
        &SignedHeader {
            header: block.header.clone(),
            signature: block.signature,
        },
    );
}

enum Fit {
    Store(StoreError),
    Mismatch(String),
}

impl From<StoreError> for Fit {
    fn from(e: StoreError) -> Self {
        Fit::Store(e)
    }
}

/// What the diff spends must be unspent. (What it creates cannot exist already: output IDs
/// hash unique transaction and block IDs, and the tip check excludes committing a block
/// twice; checking would double the reads of a commit.)
fn check_diff_fits(t: &Tables, diff: &BlockDiff) -> Result<(), Fit> {
    for (id, _) in &diff.coins_spent {
        if !t.contains::<Coins>(id)? {
            return Err(Fit::Mismatch(format!(
                "it spends the coin output {id}, which is not unspent"
            )));
        }
    }
    for (id, _) in &diff.stakes_spent {
        if !t.contains::<Stakes>(id)? {
            return Err(Fit::Mismatch(format!(
                "it spends the blockstake output {id}, which is not unspent"
            )));
        }
    }
    Ok(())
}

/// `before + created - spent`, checked; escrow and earnings move by the grid records'
/// `after - before` (PROTOCOL.md §6).
pub(crate) fn totals_after(before: Totals, diff: &BlockDiff) -> Option<Totals> {
    let (c_in, c_out, s_in, s_out) = sums(diff)?;
    let g = grid_sums(diff)?;
    Some(Totals {
        coins: before.coins.checked_add(c_in)?.checked_sub(c_out)?,
        blockstakes: before.blockstakes.checked_add(s_in)?.checked_sub(s_out)?,
        escrow: before
            .escrow
            .checked_add(g.escrow_after)?
            .checked_sub(g.escrow_before)?,
        earnings: before
            .earnings
            .checked_add(g.earnings_after)?
            .checked_sub(g.earnings_before)?,
    })
}

/// `after - created + spent`, checked; escrow and earnings move back by `before - after`.
pub(crate) fn totals_before(after: Totals, diff: &BlockDiff) -> Option<Totals> {
    let (c_in, c_out, s_in, s_out) = sums(diff)?;
    let g = grid_sums(diff)?;
    Some(Totals {
        coins: after.coins.checked_add(c_out)?.checked_sub(c_in)?,
        blockstakes: after.blockstakes.checked_add(s_out)?.checked_sub(s_in)?,
        escrow: after
            .escrow
            .checked_add(g.escrow_before)?
            .checked_sub(g.escrow_after)?,
        earnings: after
            .earnings
            .checked_add(g.earnings_before)?
            .checked_sub(g.earnings_after)?,
    })
}

fn sums(diff: &BlockDiff) -> Option<(Currency, Currency, u64, u64)> {
    let coins = |v: &[(OutputId, tfchain_consensus::CoinEntry)]| {
        Currency::checked_sum(v.iter().map(|(_, e)| e.value))
    };
    let stakes = |v: &[(OutputId, tfchain_consensus::StakeEntry)]| {
        v.iter()
            .try_fold(0u64, |acc, (_, e)| acc.checked_add(e.value))
    };
    Some((
        coins(&diff.coins_created)?,
        coins(&diff.coins_spent)?,
        stakes(&diff.stakes_created)?,
        stakes(&diff.stakes_spent)?,
    ))
}

/// Escrow and earnings of the grid records a diff changes, before and after it.
struct GridSums {
    escrow_before: Currency,
    escrow_after: Currency,
    earnings_before: Currency,
    earnings_after: Currency,
}

fn grid_sums(diff: &BlockDiff) -> Option<GridSums> {
    let mut s = GridSums {
        escrow_before: Currency::ZERO,
        escrow_after: Currency::ZERO,
        earnings_before: Currency::ZERO,
        earnings_after: Currency::ZERO,
    };
    for c in &diff.grid {
        let (e, n) = grid_amounts(c.before.as_ref());
        s.escrow_before = s.escrow_before.checked_add(e)?;
        s.earnings_before = s.earnings_before.checked_add(n)?;
        let (e, n) = grid_amounts(c.after.as_ref());
        s.escrow_after = s.escrow_after.checked_add(e)?;
        s.earnings_after = s.earnings_after.checked_add(n)?;
    }
    Some(s)
}

/// `(escrow, earnings)` a grid record holds: a reservation's escrow, a node's earnings.
pub(crate) fn grid_amounts(v: Option<&GridValue>) -> (Currency, Currency) {
    match v {
        Some(GridValue::Reservation(r)) => (r.escrow, Currency::ZERO),
        Some(GridValue::Node(n)) => (Currency::ZERO, n.earnings),
        _ => (Currency::ZERO, Currency::ZERO),
    }
}

/// The unspent-output and grid-record changes of a diff.
fn stage_diff_forward(batch: &mut WriteBatch, diff: &BlockDiff) {
    for (id, _) in &diff.coins_spent {
        batch.delete::<Coins>(id);
    }
    for (id, _) in &diff.stakes_spent {
        batch.delete::<Stakes>(id);
    }
    for (id, e) in &diff.coins_created {
        batch.put::<Coins>(id, e);
    }
    for (id, e) in &diff.stakes_created {
        batch.put::<Stakes>(id, e);
    }
    for c in &diff.grid {
        match &c.after {
            Some(v) => batch.put::<GridState>(&c.key, v),
            None => batch.delete::<GridState>(&c.key),
        }
    }
}

/// The grid events of the block at `height`, in order, and their node index.
fn stage_events(batch: &mut WriteBatch, block: BlockId, height: Height, events: &[GridEvent]) {
    for (i, event) in events.iter().enumerate() {
        let position = EventPosition {
            height,
            index: i as u32,
        };
        batch.put::<GridEvents>(
            &position,
            &StoredEvent {
                block,
                event: event.clone(),
            },
        );
        if let Some(node) = event.kind.node() {
            batch.put::<NodeEvents>(&NodeEventKey { node, position }, &());
        }
    }
}

/// The exact reverse of [`stage_diff_forward`].
pub(crate) fn stage_diff_reverse(batch: &mut WriteBatch, diff: &BlockDiff) {
    for (id, _) in &diff.coins_created {
        batch.delete::<Coins>(id);
    }
    for (id, _) in &diff.stakes_created {
        batch.delete::<Stakes>(id);
    }
    for (id, e) in &diff.coins_spent {
        batch.put::<Coins>(id, e);
    }
    for (id, e) in &diff.stakes_spent {
        batch.put::<Stakes>(id, e);
    }
    for c in diff.grid.iter().rev() {
        match &c.before {
            Some(v) => batch.put::<GridState>(&c.key, v),
            None => batch.delete::<GridState>(&c.key),
        }
    }
}

/// Takes a main-chain block off the main chain: its height entry and event log entries
/// go, its events move to `SideEvents` (so readers holding a cursor into it learn they were
/// reverted, §7.5), and its status becomes `Stored`. Its undo data stays until the block is
/// forgotten: the explorer indexer undoes its entries from it. The unspent outputs and grid
/// records are the caller's business.
pub(crate) fn stage_unindex(batch: &mut WriteBatch, entry: &BlockIndexEntry, undo: &UndoRecord) {
    let id = entry.meta.id;
    for (i, event) in undo.events.iter().enumerate() {
        let position = EventPosition {
            height: entry.meta.height,
            index: i as u32,
        };
        batch.delete::<GridEvents>(&position);
        if let Some(node) = event.kind.node() {
            batch.delete::<NodeEvents>(&NodeEventKey { node, position });
        }
    }
    if !undo.events.is_empty() {
        batch.put::<SideEvents>(&id, &undo.events);
    }
    batch.delete::<Heights>(&entry.meta.height);
    batch.put::<SideHeights>(
        &SideKey {
            height: entry.meta.height,
            id,
        },
        &(),
    );
    batch.put::<BlockIndex>(
        &id,
        &BlockIndexEntry {
            status: BlockStatus::Stored,
            ..entry.clone()
        },
    );
}
