//! Reading the grid event log (PROTOCOL.md §7.5) from a reader's position, across
//! reorganisations.
//!
//! A reader stands at a [`LogPosition`]: it has seen every event of the chain ending at
//! `block` up to `(height, index)`. While that block is on the main chain, reading goes
//! forward from there. When a reorganisation or rollback has undone it, the events of the
//! undone blocks (kept in `SideEvents`) are reported as reverted, newest first, walking
//! back through the parent links to the fork point, and reading then goes forward from the
//! fork. Reading advances the position past every event it looks at, reported or filtered
//! out, so a call never repeats work and a filter never hides a revert it owes.
//!
//! Reads straddle commits (see the module docs of `store`): a forward read keeps only the
//! events whose block is still the main-chain block at its height when checked after the
//! read, and stops at the first that is not. A block undone after that check leaves the
//! position naming it, so the next read reports its events as reverted.

use super::tables::SideEvents;
use super::types::{BlockStatus, ChainEvent, EventPosition};
use super::{Store, StoreError};
use tfchain_types::{BlockId, GridEvent, GridEventKind, Height, NodeId};

/// A reader's place in the event log: every event of the chain ending at `block` up to
/// `(height, index)` has been seen (`index == u32::MAX`: all of `block`'s events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogPosition {
    pub height: Height,
    pub index: u32,
    pub block: BlockId,
    /// `Some(h)`: the reader started live at height `h` and never received the events at
    /// or below it, so undoing those blocks owes it no revert.
    pub unseen_upto: Option<Height>,
}

/// One event read from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub position: EventPosition,
    pub block: BlockId,
    pub event: GridEvent,
    /// The event's block was undone: the reader should undo what the event made it do.
    pub reverted: bool,
}

impl LogPosition {
    /// The position after every event of `block` at `height`.
    fn after_block(height: Height, block: BlockId, unseen_upto: Option<Height>) -> Self {
        LogPosition {
            height,
            index: u32::MAX,
            block,
            unseen_upto,
        }
    }
}

/// Why a cursor cannot be read from.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("block {0} is unknown to this node (a cursor from another network or a wiped node): start again without a cursor")]
    UnknownBlock(BlockId),
    #[error("block {block} is at height {actual}, not {height}")]
    WrongHeight {
        block: BlockId,
        height: Height,
        actual: Height,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The grid events of a block that was undone, oldest first (empty when it had none or
    /// was never on the main chain).
    pub fn side_events(&self, block: &BlockId) -> Result<Vec<GridEvent>, StoreError> {
        Ok(self
            .inner
            .tables
            .get::<SideEvents>(block)?
            .unwrap_or_default())
    }

    /// The position a cursor names: after the event at `(height, index)` of `block`.
    /// Refuses a block this node does not know, or one at another height.
    pub fn log_position(
        &self,
        height: Height,
        index: u32,
        block: BlockId,
    ) -> Result<LogPosition, CursorError> {
        let entry = self
            .index_entry(&block)?
            .ok_or(CursorError::UnknownBlock(block))?;
        if entry.meta.height != height {
            return Err(CursorError::WrongHeight {
                block,
                height,
                actual: entry.meta.height,
            });
        }
        Ok(LogPosition {
            height,
            index,
            block,
            unseen_upto: None,
        })
    }

    /// The position of a reader that starts now: after every event up to the tip, none of
    /// which it has seen.
    pub fn log_position_at_tip(&self) -> LogPosition {
        let tip = self.tip();
        LogPosition::after_block(tip.height, tip.id, Some(tip.height))
    }

    /// Up to `limit` events after `pos` that `keep` accepts (and that name `node`, if
    /// given): first the reverted events of undone blocks the reader had seen, newest
    /// first, then the main chain's in order. Advances `pos` past everything it read.
    pub fn read_log(
        &self,
        pos: &mut LogPosition,
        node: Option<NodeId>,
        mut keep: impl FnMut(&GridEventKind) -> bool,
        limit: usize,
    ) -> Result<Vec<LogEvent>, StoreError> {
        let mut keep = |k: &GridEventKind| node.is_none_or(|n| k.node() == Some(n)) && keep(k);
        let mut out = Vec::new();
        // Back from an undone block to the main chain, reporting what the reader saw.
        loop {
            let entry = self
                .index_entry(&pos.block)?
                .ok_or_else(|| StoreError::NotFound {
                    what: "block",
                    id: pos.block.to_string(),
                })?;
            if entry.status == BlockStatus::OnMain {
                break;
            }
            let height = entry.meta.height;
            let seen = pos.unseen_upto.is_none_or(|u| height > u);
            let events = if seen {
                self.side_events(&pos.block)?
            } else {
                Vec::new()
            };
            // Events 0..=pos.index were seen; revert them newest first.
            let top = usize::try_from(pos.index)
                .map_or(usize::MAX, |i| i.saturating_add(1))
                .min(events.len());
            for i in (0..top).rev() {
                if out.len() >= limit {
                    // Stop before event i: the reader still owes the revert of 0..=i.
                    pos.height = height;
                    pos.index = i as u32;
                    return Ok(out);
                }
                let event = &events[i];
                if keep(&event.kind) {
                    out.push(LogEvent {
                        position: EventPosition {
                            height,
                            index: i as u32,
                        },
                        block: pos.block,
                        event: event.clone(),
                        reverted: true,
                    });
                }
            }
            let parent_height = height.checked_sub(1).ok_or_else(|| {
                StoreError::unrecoverable(format!(
                    "block {} at height 0 is not on the main chain",
                    pos.block
                ))
            })?;
            *pos = LogPosition::after_block(parent_height, entry.parent, pos.unseen_upto);
            // Everything after the fork comes next, so later reverts above it are owed.
            pos.unseen_upto = pos.unseen_upto.map(|u| u.min(parent_height));
        }
        // Forward along the main chain.
        while out.len() < limit {
            let want = limit - out.len();
            let after = EventPosition {
                height: pos.height,
                index: pos.index,
            };
            let read = self.events(node, Some(after), want)?;
            let scanned = read.len();
            if scanned == 0 {
                break;
            }
            // Checked after the read, so a block undone during it is noticed.
            if self.block_id_at(pos.height)? != Some(pos.block) {
                return Ok(out);
            }
            let (read, complete) = self.on_main_prefix(read)?;
            for ev in read {
                *pos = LogPosition {
                    height: ev.position.height,
                    index: ev.position.index,
                    block: ev.block,
                    unseen_upto: pos.unseen_upto,
                };
                if keep(&ev.event.kind) {
                    out.push(LogEvent {
                        position: ev.position,
                        block: ev.block,
                        event: ev.event,
                        reverted: false,
                    });
                }
            }
            if !complete {
                // A reorganisation is under way: the next read sorts it out.
                return Ok(out);
            }
            if scanned < want {
                break;
            }
        }
        Ok(out)
    }

    /// Up to `limit` main-chain events from height `from` on (of `node`, if given), in
    /// order, with the position after the last one (`None` when there is none).
    pub fn read_log_from(
        &self,
        from: Height,
        node: Option<NodeId>,
        limit: usize,
    ) -> Result<(Vec<LogEvent>, Option<LogPosition>), StoreError> {
        let after = from.checked_sub(1).map(|height| EventPosition {
            height,
            index: u32::MAX,
        });
        let (read, _) = self.on_main_prefix(self.events(node, after, limit)?)?;
        let pos = read.last().map(|e| LogPosition {
            height: e.position.height,
            index: e.position.index,
            block: e.block,
            unseen_upto: None,
        });
        let events = read
            .into_iter()
            .map(|e| LogEvent {
                position: e.position,
                block: e.block,
                event: e.event,
                reverted: false,
            })
            .collect();
        Ok((events, pos))
    }

    /// The events read from the log up to the first whose block is not (any more) the
    /// main-chain block at its height, and whether that kept them all.
    fn on_main_prefix(
        &self,
        mut read: Vec<ChainEvent>,
    ) -> Result<(Vec<ChainEvent>, bool), StoreError> {
        let mut checked: Option<(Height, bool)> = None;
        for (i, ev) in read.iter().enumerate() {
            let on_main = match checked {
                Some((h, ok)) if h == ev.position.height => ok,
                _ => {
                    let ok = self.block_id_at(ev.position.height)? == Some(ev.block);
                    checked = Some((ev.position.height, ok));
                    ok
                }
            };
            if !on_main {
                read.truncate(i);
                return Ok((read, false));
            }
        }
        Ok((read, true))
    }
}
