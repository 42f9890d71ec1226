//! Side chains and reorganisations (PROTOCOL.md §5.8): a block whose parent is known but
//! not the tip is checked as far as possible without its parent's state, stored, and, if
//! its chain is now the heaviest, the main chain is undone to the fork point and the side
//! chain applied block by block. If any side block fails, everything is put back.

use super::error::ChainError;
use super::writer::{BlockVerdict, ChainWriter, Origin};
use crate::store::{BlockIndexEntry, BlockStatus};
use tfchain_consensus::fork::{choose, ForkDecision};
use tfchain_consensus::target::{child_target, is_retarget_height, retarget_anchor_height, work};
use tfchain_consensus::{BlockError, BlockMeta, Signatures};
use tfchain_types::{Block, BlockId, BLOCK_VERSION};
use tracing::{error, info, warn};

impl ChainWriter {
    /// A block whose parent `parent` is stored but is not the tip.
    pub(super) fn side_block(
        &mut self,
        block: Block,
        parent: BlockIndexEntry,
        origin: Origin,
    ) -> Result<BlockVerdict, ChainError> {
        let id = block.id();
        let h = &block.header;
        let tip = self.store.tip();
        let depth = tip.height.saturating_sub(parent.meta.height);
        if depth > self.params.max_reorg_depth {
            return Err(ChainError::ReorgTooDeep {
                depth,
                max: self.params.max_reorg_depth,
            });
        }
        // What can be checked without the parent's state (§5.7 1, 2, 4, 5).
        let expected = parent.meta.height + 1;
        let now = self.clock.now();
        let cheap = if h.version != BLOCK_VERSION {
            Err(BlockError::UnsupportedVersion(h.version))
        } else if h.height != expected {
            Err(BlockError::WrongHeight {
                got: h.height,
                expected,
            })
        } else if h.timestamp <= parent.meta.timestamp {
            Err(BlockError::TimestampNotAfterParent {
                timestamp: h.timestamp,
                parent: parent.meta.timestamp,
            })
        } else if h.timestamp > now.saturating_add(self.params.future_threshold) {
            Err(BlockError::TimestampInFuture {
                timestamp: h.timestamp,
                now,
            })
        } else if !h.creator.verify(id.as_bytes(), &block.signature) {
            Err(BlockError::BadSignature)
        } else if block.compute_tx_root() != h.tx_root {
            Err(BlockError::TxRootMismatch)
        } else {
            Ok(())
        };
        match cheap {
            Ok(()) => {}
            Err(BlockError::TimestampInFuture { .. }) => {
                self.held.insert(block);
                return Ok(BlockVerdict::Held);
            }
            Err(e) => {
                self.remember_invalid(&id)?;
                return Err(e.into());
            }
        }

        let meta = self.side_meta(&block, &parent.meta)?;
        self.store.store_side_block(
            &block,
            BlockIndexEntry {
                meta: meta.clone(),
                parent: h.parent,
                status: BlockStatus::Stored,
            },
        )?;
        self.note_header(&block);

        let fork = self.fork_point(&id)?;
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
                error!(depth, max = self.params.max_reorg_depth, block = %id, "REFUSING a heavier chain that forks deeper than max_reorg_depth: operator attention needed");
                Err(ChainError::ReorgTooDeep {
                    depth,
                    max: self.params.max_reorg_depth,
                })
            }
            ForkDecision::Switch => self.reorganize(fork, id, origin),
        }
    }

    /// The meta of a side block from its parent's, following its own chain for retargets.
    fn side_meta(&self, block: &Block, parent: &BlockMeta) -> Result<BlockMeta, ChainError> {
        let h = &block.header;
        let anchor = if is_retarget_height(&self.params, h.height) {
            let want = retarget_anchor_height(&self.params, h.height);
            let missing = |id: BlockId| ChainError::InvalidAncestor(id);
            let mut cur = self
                .store
                .index_entry(&h.parent)?
                .ok_or(missing(h.parent))?;
            while cur.meta.height > want {
                cur = self
                    .store
                    .index_entry(&cur.parent)?
                    .ok_or(missing(cur.parent))?;
            }
            (cur.meta.height, cur.meta.timestamp)
        } else {
            (parent.height, parent.timestamp)
        };
        Ok(BlockMeta {
            id: block.id(),
            height: h.height,
            timestamp: h.timestamp,
            child_target: child_target(
                &self.params,
                parent.child_target,
                h.height,
                h.timestamp,
                anchor,
            ),
            total_work: parent.total_work.saturating_add(work(parent.child_target)),
        })
    }

    /// The last main-chain block on the chain ending at `id`.
    fn fork_point(&self, id: &BlockId) -> Result<BlockMeta, ChainError> {
        let mut cur = *id;
        loop {
            let entry = self
                .store
                .index_entry(&cur)?
                .ok_or(ChainError::InvalidAncestor(cur))?;
            if entry.status == BlockStatus::OnMain {
                return Ok(entry.meta);
            }
            cur = entry.parent;
        }
    }

    /// Undoes the main chain to `fork` and applies the side chain ending at `new_tip`.
    fn reorganize(
        &mut self,
        fork: BlockMeta,
        new_tip: BlockId,
        origin: Origin,
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

        let mut undone = Vec::new();
        while self.store.tip().height > fork.height {
            let block = self.store.undo_tip()?;
            self.after_disconnect(&block);
            undone.push(block);
        }

        let now = self.clock.now();
        let mut failure = None;
        let mut applied = 0usize;
        for id in &branch {
            let Some(block) = self.store.block(id)? else {
                failure = Some((*id, None));
                break;
            };
            match self.validate_on_tip(&block, now, Signatures::Verify)? {
                Ok(outcome) => {
                    self.store.commit_block(&block, &outcome)?;
                    self.after_connect(&block);
                    applied += 1;
                }
                Err(e) => {
                    failure = Some((*id, Some((block, e))));
                    break;
                }
            }
        }

        let Some((bad, detail)) = failure else {
            if origin != Origin::Import {
                self.store.flush()?;
            }
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
        self.store.flush()?;
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
