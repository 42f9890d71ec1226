//! Recovery on open: the state in sled is the last checkpoint; what happened after it is
//! in the block files as commit and undo records. Replay re-applies them in order, each
//! through the same staging as the live commit or undo (so a diff is checked against the
//! state it spends from), as long as each one follows from the tip it reached.
//!
//! A reorganisation is one unit: it checkpoints and writes a begin mark before it starts,
//! and an end mark when it is over. Replay checkpoints at a begin mark and, if the end
//! mark never comes (the crash hit the reorganisation), drops what followed the begin
//! mark: the node recovers to the chain before it, never to a state half-way.

use super::db::Tables;
use super::error::StoreError;
use super::segments::Kind;
use super::tables::{FlushPoint, RunningTotals, Tip};
use super::write::{stage_commit_at, stage_undo_tip};
use tfchain_consensus::BlockOutcome;
use tfchain_types::{codec, BlockId};

/// What replay did (logged).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Replayed {
    pub commits: u64,
    pub undos: u64,
    pub dropped_bytes: u64,
    /// A reorganisation was interrupted: recovered to the chain before it.
    pub reorg_dropped: bool,
}

/// Why replay stopped early (logged; the state is the one reached before it).
fn stop(what: &str, block: &BlockId) {
    tracing::error!(block = %block, "{what}: replay stops before it");
}

pub(crate) fn replay(t: &Tables) -> Result<Replayed, StoreError> {
    let from = t.get::<FlushPoint>(&())?.unwrap_or_default();
    let found = t.files.recover(from)?;
    let mut out = Replayed {
        dropped_bytes: found.dropped_bytes,
        ..Replayed::default()
    };
    if let Some(at) = found.dropped_at {
        tracing::warn!(
            segment = at.segment,
            offset = at.offset,
            bytes = found.dropped_bytes,
            "the block files end in a torn or damaged record (a crash during a write, or a \
             failing disk): dropped it and everything after it"
        );
    }
    let missing = |what: &str| StoreError::unrecoverable(format!("the store has no {what}"));
    let mut in_reorg = false;
    for (kind, loc) in &found.records {
        match kind {
            Kind::Block => {}
            Kind::ReorgBegin => {
                // The state before the reorganisation, durable: dropped back to if the
                // end mark is missing.
                t.flush_to(loc.end())?;
                in_reorg = true;
            }
            Kind::ReorgEnd => in_reorg = false,
            Kind::Undo => {
                let bytes = t.files.read(*loc, Kind::Undo)?;
                let id: BlockId =
                    codec::decode::<BlockId, 64>(&bytes).map_err(|e| StoreError::Corrupt {
                        table: "block files",
                        key: format!("segment {} offset {}", loc.segment, loc.offset),
                        detail: format!("the undo record does not decode: {e}"),
                    })?;
                let tip_id = t.get::<Tip>(&())?.ok_or_else(|| missing("tip"))?;
                if id != tip_id {
                    stop("an undo record names a block that is not the tip", &id);
                    break;
                }
                let tip = t
                    .get::<super::tables::BlockIndex>(&tip_id)?
                    .ok_or_else(|| missing("index entry for its tip"))?
                    .meta;
                let totals = t
                    .get::<RunningTotals>(&())?
                    .ok_or_else(|| missing("running totals"))?;
                let mut batch = t.batch();
                stage_undo_tip(t, &mut batch, &tip, totals)?;
                t.apply(batch)?;
                out.undos += 1;
            }
            Kind::Commit => {
                let rec = t.commit_at(*loc)?;
                let tip = t.get::<Tip>(&())?.ok_or_else(|| missing("tip"))?;
                if rec.parent != tip {
                    stop("a commit record does not extend the tip", &rec.meta.id);
                    break;
                }
                let block = t.block_at(rec.block)?;
                let before = t
                    .get::<RunningTotals>(&())?
                    .ok_or_else(|| missing("running totals"))?;
                let outcome = BlockOutcome {
                    diff: rec.undo.diff.clone(),
                    meta: rec.meta.clone(),
                    fees: rec.fees,
                    events: rec.undo.events.clone(),
                };
                let mut batch = t.batch();
                let replay = Some((rec.block, *loc));
                match stage_commit_at(t, &mut batch, &block, &outcome, tip, before, replay) {
                    Ok(totals) if totals == rec.undo.totals => t.apply(batch)?,
                    Ok(_) => {
                        stop("a commit record's totals do not follow", &rec.meta.id);
                        break;
                    }
                    Err(StoreError::OutcomeMismatch { detail, .. }) => {
                        tracing::error!(%detail, "a commit record does not fit the state");
                        stop("a commit record does not fit the state", &rec.meta.id);
                        break;
                    }
                    Err(e) => return Err(e),
                }
                out.commits += 1;
            }
        }
    }
    if in_reorg {
        // Back to the checkpoint at the begin mark.
        t.cache.clear();
        out.reorg_dropped = true;
        tracing::warn!(
            "a reorganisation was interrupted by the stop: recovered to the chain before it"
        );
    }
    if !found.records.is_empty() || found.dropped_at.is_some() {
        if out.commits + out.undos > 0 {
            tracing::info!(
                commits = out.commits,
                undos = out.undos,
                "replayed what followed the last checkpoint from the block files"
            );
        }
        // Checkpoint, so that records replay skipped are never looked at again (a later
        // commit is appended after them and must not be hidden behind them).
        t.flush()?;
    }
    Ok(out)
}
