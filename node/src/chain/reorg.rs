//! Side chains and reorganisations (PROTOCOL.md §5.8): a block whose parent is known but
//! not the tip is validated in full against the state at its parent on its own branch
//! (`BranchView`: the main state rewound to the fork point, then the branch replayed),
//! stored only if valid, and, if its chain is now the heaviest, the main chain is undone to
//! the fork point and the side chain applied block by block. If any block fails, everything
//! is put back.

use super::error::ChainError;
use super::writer::{check_without_parent, BlockVerdict, ChainWriter};
use super::ChainEvent;
use crate::store::{BlockIndexEntry, BlockStatus, StoreError};
use std::sync::Arc;
use tfchain_consensus::fork::{choose, ForkDecision};
use tfchain_consensus::{
    apply_block_cached, BlockError, BlockMeta, BlockOutcome, BranchView, Signatures,
};
use tfchain_types::{Block, BlockId, Timestamp};
use tracing::{debug, error, info, warn};

impl ChainWriter {
    /// A block whose parent `parent` is stored but is not the tip. It is validated in full
    /// (every rule of §5.7, against the state at its parent on its own branch) before it is
    /// stored, weighed for fork choice, relayed or used as equivocation evidence.
    pub(super) fn side_block(
        &mut self,
        block: Block,
        parent: BlockIndexEntry,
    ) -> Result<BlockVerdict, ChainError> {
        let id = block.id();
        let tip = self.store.tip();
        let max = self.params.max_reorg_depth;
        let depth = tip.height.saturating_sub(parent.meta.height);
        if depth > max {
            return Err(ChainError::ReorgTooDeep { depth, max });
        }
        let (fork, branch) = self.branch_to(&parent)?;
        let depth = tip.height.saturating_sub(fork.height);
        if depth > max {
            return Err(ChainError::ReorgTooDeep { depth, max });
        }
        let size = block.encoded_len();
        self.side.check_room((fork.height, fork.id), size)?;

        let now = self.clock.now();
        let outcome = match self.validate_on_branch(&block, &fork, &branch, now)? {
            Ok(outcome) => outcome,
            Err(e @ BlockError::TimestampInFuture { .. }) => {
                check_without_parent(&block)?;
                debug!(block = %id, error = %e, "side block ahead of the clock: holding it");
                self.note_early(now);
                self.held.insert(block);
                return Ok(BlockVerdict::Held);
            }
            Err(e @ BlockError::TimestampTooFarInFuture { .. }) => {
                warn!(block = %id, error = %e, "side block too far ahead of the clock: check this machine's clock if this repeats");
                return Err(e.into());
            }
            Err(e) => {
                // Never stored: nothing of it is kept, and it weighs nothing.
                warn!(block = %id, height = block.header.height, error = %e, "invalid side-chain block");
                return Err(e.into());
            }
        };

        let meta = outcome.meta.clone();
        self.store.store_side_block(
            &block,
            BlockIndexEntry {
                meta: meta.clone(),
                parent: block.header.parent,
                status: BlockStatus::Stored,
            },
        )?;
        self.side
            .record((fork.height, fork.id), id, size, outcome.diff);
        self.note_header(&block);

        match choose(
            &self.params,
            tip.total_work,
            tip.height,
            meta.total_work,
            fork.height,
        ) {
            ForkDecision::Keep => {
                info!(height = meta.height, block = %id, "block on a side chain (not heavier)");
                Ok(BlockVerdict::SideChain)
            }
            ForkDecision::TooDeep { depth } => {
                error!(depth, max, block = %id, "REFUSING a heavier chain that forks deeper than max_reorg_depth: operator attention needed");
                Err(ChainError::ReorgTooDeep { depth, max })
            }
            ForkDecision::Switch => self.reorganize(fork, id),
        }
    }

    /// The last main-chain block below `parent` and the side blocks from there up to and
    /// including `parent`, oldest first.
    fn branch_to(
        &self,
        parent: &BlockIndexEntry,
    ) -> Result<(BlockMeta, Vec<BlockIndexEntry>), ChainError> {
        let mut branch = Vec::new();
        let mut cur = parent.clone();
        loop {
            match cur.status {
                BlockStatus::OnMain => break,
                BlockStatus::Invalid => return Err(ChainError::InvalidAncestor(cur.meta.id)),
                BlockStatus::Stored => {}
            }
            if branch.len() as u64 > self.params.max_reorg_depth {
                return Err(ChainError::ReorgTooDeep {
                    depth: branch.len() as u64,
                    max: self.params.max_reorg_depth,
                });
            }
            let next = self
                .store
                .index_entry(&cur.parent)?
                .ok_or(ChainError::InvalidAncestor(cur.parent))?;
            branch.push(std::mem::replace(&mut cur, next));
        }
        branch.reverse();
        Ok((cur.meta, branch))
    }

    /// `apply_block` of `block` against the state at the end of `branch` (side blocks
    /// above `fork`, oldest first): the main state rewound to the fork with the undo data,
    /// then the branch's diffs. The outer error is a failed store read (not a verdict).
    fn validate_on_branch(
        &mut self,
        block: &Block,
        fork: &BlockMeta,
        branch: &[BlockIndexEntry],
        now: Timestamp,
    ) -> Result<Result<BlockOutcome, BlockError>, ChainError> {
        let store = self.store.clone();
        let base = store.view();
        let mut view = BranchView::new(&base, fork.clone());
        let tip = store.tip();
        for h in (fork.height + 1..=tip.height).rev() {
            let main_id = store
                .block_id_at(h)?
                .ok_or_else(|| StoreError::unrecoverable(format!("no main block at {h}")))?;
            let undo = store.undo_record(&main_id)?.ok_or_else(|| {
                StoreError::unrecoverable(format!("no undo data for main block {main_id}"))
            })?;
            view.undo_main(&undo.diff);
        }
        for entry in branch {
            let sid = entry.meta.id;
            let diff = match self.side.diff(&sid) {
                Some(d) => d.clone(),
                None => {
                    // Validated when it was stored; recomputed after a restart.
                    let b = store.block(&sid)?.ok_or(ChainError::InvalidAncestor(sid))?;
                    let v = &*self.verified;
                    match apply_block_cached(&view, &b, &self.params, now, Signatures::Verify, v) {
                        Ok(o) => {
                            self.side.cache_diff(sid, o.diff.clone());
                            o.diff
                        }
                        Err(
                            e @ (BlockError::TimestampInFuture { .. }
                            | BlockError::TimestampTooFarInFuture { .. }),
                        ) => {
                            // Our clock may be the one that is wrong (it went back since
                            // the block was stored): early, not invalid.
                            drop(view);
                            base.finish()?;
                            return Ok(Err(e));
                        }
                        Err(e) => {
                            warn!(block = %sid, error = %e, "stored side block is invalid");
                            if base.failed() {
                                break;
                            }
                            drop(view);
                            base.finish()?;
                            self.remember_invalid(&sid)?;
                            return Err(ChainError::InvalidAncestor(sid));
                        }
                    }
                }
            };
            view.apply(entry.meta.clone(), &diff);
        }
        let verdict = apply_block_cached(
            &view,
            block,
            &self.params,
            now,
            Signatures::Verify,
            &*self.verified,
        );
        drop(view);
        base.finish()?;
        Ok(verdict)
    }

    /// Forgets side blocks whose branches fork below `max_reorg_depth` (they can never be
    /// chosen): their bodies and index entries leave the store.
    pub(super) fn prune_side_blocks(&mut self) {
        let floor = self
            .store
            .tip()
            .height
            .saturating_sub(self.params.max_reorg_depth);
        let mut gone = self.side.prune(floor);
        // And what the store holds off the main chain at or below the floor: blocks a
        // reorganisation undid, and side blocks stored before a restart (the bookkeeping
        // above is in memory only).
        match self.store.side_blocks_up_to(floor, 1_024) {
            Ok(ids) => gone.extend(ids),
            Err(e) => warn!(error = %e, "could not list the side blocks to forget"),
        }
        for id in gone {
            if let Err(e) = self.store.forget_side_block(&id) {
                warn!(block = %id, error = %e, "could not forget a pruned side block");
            }
        }
    }

    /// Undoes the main chain to `fork` and applies the side chain ending at `new_tip`.
    fn reorganize(
        &mut self,
        fork: BlockMeta,
        new_tip: BlockId,
    ) -> Result<BlockVerdict, ChainError> {
        // The side branch, fork-exclusive, oldest first.
        let mut branch = Vec::new();
        let mut cur = new_tip;
        while cur != fork.id {
            let entry = self
                .store
                .index_entry(&cur)?
                .ok_or(ChainError::InvalidAncestor(cur))?;
            branch.push(cur);
            cur = entry.parent;
        }
        branch.reverse();
        let old_tip = self.store.tip();
        warn!(
            from_height = old_tip.height,
            fork_height = fork.height,
            to_height = fork.height + branch.len() as u64,
            "reorganising to a heavier chain"
        );

        // One unit: the state before it reaches the database first (a checkpoint), the
        // block files mark where it begins and ends, and the checkpoint after it writes
        // all of it in one batch. A crash before the end mark recovers to the old chain.
        self.store.begin_reorg()?;
        let mark = self.pending.len();
        let result = self.switch_branch(&fork, &branch);
        self.store.end_reorg()?;
        // Subscribers hear of it as one event, with what it undid and applied.
        let steps: Vec<ChainEvent> = self.pending.drain(mark..).collect();
        if let Some(ev) = reorganized(steps) {
            self.pending.push(ev);
        }
        result
    }

    /// The body of [`ChainWriter::reorganize`], between its marks.
    fn switch_branch(
        &mut self,
        fork: &BlockMeta,
        branch: &[BlockId],
    ) -> Result<BlockVerdict, ChainError> {
        let mut undone = Vec::new();
        while self.store.tip().height > fork.height {
            let block = self.store.undo_tip()?;
            self.after_disconnect(&block);
            undone.push(block);
        }

        let now = self.clock.now();
        let mut failure = None;
        let mut applied = 0usize;
        for id in branch {
            let Some(block) = self.store.block(id)? else {
                failure = Some((*id, None));
                break;
            };
            match self.validate_on_tip(&block, now, Signatures::Verify)? {
                Ok(outcome) => {
                    self.store.commit_block(&block, &outcome)?;
                    self.after_connect(&block);
                    self.side.joined_main(id);
                    applied += 1;
                }
                Err(e) => {
                    failure = Some((*id, Some((block, e))));
                    break;
                }
            }
        }

        let Some((bad, detail)) = failure else {
            let height = self.store.tip().height;
            info!(
                height,
                undone = undone.len(),
                applied,
                "reorganisation complete"
            );
            return Ok(BlockVerdict::Connected {
                height,
                reorged: true,
            });
        };

        // Put the old main chain back: undo what was applied, re-apply what was undone.
        warn!(block = %bad, "side chain block invalid during reorganisation: restoring the previous chain");
        for _ in 0..applied {
            let block = self.store.undo_tip()?;
            self.after_disconnect(&block);
        }
        for block in undone.into_iter().rev() {
            // These blocks were verified when they first joined the main chain.
            let outcome = self.validate_on_tip(&block, now, Signatures::AlreadyVerified)??;
            self.store.commit_block(&block, &outcome)?;
            self.after_connect(&block);
        }
        match detail {
            Some((block, e)) => {
                if !matches!(
                    e,
                    BlockError::TimestampInFuture { .. }
                        | BlockError::TimestampTooFarInFuture { .. }
                ) {
                    self.store.mark_invalid(&block.id())?;
                }
                Err(e.into())
            }
            None => Err(ChainError::InvalidAncestor(bad)),
        }
    }
}

/// The net effect of a reorganisation's connect and disconnect events, as one
/// [`ChainEvent::Reorganized`]; `None` when it changed nothing (a failed switch that
/// restored the old chain).
fn reorganized(steps: Vec<ChainEvent>) -> Option<ChainEvent> {
    let mut undone: Vec<Arc<Block>> = Vec::new();
    let mut applied: Vec<Arc<Block>> = Vec::new();
    for ev in steps {
        match ev {
            // Undoing a block this reorganisation applied cancels it, and re-applying one
            // it undid cancels that.
            ChainEvent::Disconnected(b) => match applied.iter().position(|a| a.id() == b.id()) {
                Some(i) => {
                    applied.remove(i);
                }
                None => undone.push(b),
            },
            ChainEvent::Connected(b) => match undone.iter().position(|u| u.id() == b.id()) {
                Some(i) => {
                    undone.remove(i);
                }
                None => applied.push(b),
            },
            ChainEvent::Reorganized { .. } | ChainEvent::TxAccepted(_) => {}
        }
    }
    if undone.is_empty() && applied.is_empty() {
        None
    } else {
        Some(ChainEvent::Reorganized { undone, applied })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_consensus::testkit::TestChain;

    /// `n` distinct blocks (the events only name them).
    fn blocks(n: usize) -> Vec<Arc<Block>> {
        let chain = TestChain::new(&[1], 0, tfchain_types::Currency(0));
        let (block, _) = chain.next_block(Vec::new());
        (0..n as u64)
            .map(|i| {
                let mut b = block.clone();
                b.header.timestamp += i;
                Arc::new(b)
            })
            .collect()
    }

    fn ids(v: &[Arc<Block>]) -> Vec<BlockId> {
        v.iter().map(|b| b.id()).collect()
    }

    #[test]
    fn a_switch_is_one_event_with_what_it_undid_and_applied() {
        let b = blocks(5);
        let steps = vec![
            ChainEvent::Disconnected(b[1].clone()),
            ChainEvent::Disconnected(b[0].clone()),
            ChainEvent::Connected(b[2].clone()),
            ChainEvent::Connected(b[3].clone()),
            ChainEvent::Connected(b[4].clone()),
        ];
        let Some(ChainEvent::Reorganized { undone, applied }) = reorganized(steps) else {
            panic!("one reorganisation event");
        };
        assert_eq!(ids(&undone), ids(&[b[1].clone(), b[0].clone()]));
        assert_eq!(ids(&applied), ids(&b[2..]));
    }

    #[test]
    fn a_failed_switch_that_restored_the_chain_is_no_event() {
        let b = blocks(3);
        let steps = vec![
            ChainEvent::Disconnected(b[0].clone()),
            ChainEvent::Connected(b[1].clone()),
            ChainEvent::Connected(b[2].clone()),
            // b[2]'s child failed: back to where it started.
            ChainEvent::Disconnected(b[2].clone()),
            ChainEvent::Disconnected(b[1].clone()),
            ChainEvent::Connected(b[0].clone()),
        ];
        assert!(reorganized(steps).is_none());
    }
}
