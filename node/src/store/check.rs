//! The consistency check run on open, and its repair.
//!
//! Commits are atomic batches, so a crash cannot tear a block in half; this check guards
//! against everything else (a bug, a damaged disk, a sled defect). It establishes the
//! **last consistent block**: the highest main-chain block `C` such that
//!
//! 1. `C` is sound: height entry, index entry (status `OnMain`, same height), body and undo
//!    data exist and decode, and its parent is the main-chain block one height below;
//! 2. the state is at `C`: everything `C`'s diff created is unspent with the same entry,
//!    everything it spent is not, every grid record it changed holds its value after `C`,
//!    and a full scan of the coins, blockstakes, reservation escrow and node earnings
//!    equals the totals recorded in `C`'s undo data (PROTOCOL.md §6);
//! 3. the parent links of the `max_reorg_depth` blocks below `C` agree.
//!
//! It walks down from the highest height in the height index. A candidate that fails (2)
//! is rolled back with its undo data; rollback is idempotent (restore what the diff spent,
//! remove what it created), so it also reverses a block that was only partly written. A
//! block without usable undo data can be skipped only if none of the outputs it would
//! create exists (it was never applied); otherwise the store cannot repair itself. The walk
//! goes at most `max_reorg_depth` blocks down.
//!
//! The whole plan is computed in memory first; nothing is written unless a consistent block
//! is found. The repair (outputs, indexes of the rolled-back blocks, tip, totals) is then
//! one atomic batch, followed by a flush and a second check that must find nothing.

use super::db::{Tables, WriteBatch};
use super::error::StoreError;
use super::tables::GridState;
use super::tables::{
    BlockIndex, Coins, Heights, RunningTotals, SideHeights, SideKey, Stakes, Tip, Undo,
};
use super::types::{BlockIndexEntry, BlockStatus, ConsistencyReport, Totals, UndoRecord};
use super::write::{grid_amounts, stage_unindex};
use std::collections::{BTreeMap, BTreeSet};
use tfchain_consensus::{BlockDiff, ChainParams, CoinEntry, StakeEntry};
use tfchain_contracts::{GridKey, GridValue};
use tfchain_types::{Block, BlockId, Currency, Height, OutputId, Transaction};

/// Runs the check and, if it finds problems, the repair.
pub(crate) fn check_and_repair(
    t: &Tables,
    params: &ChainParams,
) -> Result<ConsistencyReport, StoreError> {
    let plan = plan(t, params)?;
    if plan.problems.is_empty() {
        return Ok(plan.report(None));
    }
    for p in &plan.problems {
        tracing::warn!(problem = %p, "chain store inconsistency");
    }
    let summary = plan.summary();
    tracing::error!(
        action = %summary,
        "the chain store was inconsistent (see the warnings above); repairing"
    );
    let report = plan.report(Some(summary.clone()));
    let batch = plan.into_batch(t)?;
    t.apply(batch)?;
    t.flush()?;

    let again = self::plan(t, params)?;
    if !again.problems.is_empty() {
        return Err(StoreError::unrecoverable(format!(
            "the repair ({summary}) left problems: {}",
            again.problems.join("; ")
        )));
    }
    tracing::error!(height = report.tip_height, tip = %report.tip, "chain store repaired: {summary}");
    Ok(report)
}

/// A block the repair takes off the main chain.
struct Undone {
    height: Height,
    id: BlockId,
    entry: Option<BlockIndexEntry>,
    undo: Option<UndoRecord>,
}

struct Plan {
    problems: Vec<String>,
    tip: BlockId,
    tip_height: Height,
    totals: Totals,
    top: Height,
    overlay: Overlay,
    undone: Vec<Undone>,
    /// A block the tip pointer named that is marked `OnMain` but is not on the main chain.
    stray_tip: Option<BlockIndexEntry>,
}

impl Plan {
    fn summary(&self) -> String {
        let mut s = if self.undone.is_empty() {
            format!("kept the tip at height {}", self.tip_height)
        } else {
            format!(
                "rolled back {} block(s) from height {} to height {} ({})",
                self.undone.len(),
                self.top,
                self.tip_height,
                self.tip
            )
        };
        s.push_str(&format!(
            "; rewrote the tip and the running totals; problems: {}",
            self.problems.join("; ")
        ));
        s
    }

    fn report(&self, repaired: Option<String>) -> ConsistencyReport {
        ConsistencyReport {
            tip: self.tip,
            tip_height: self.tip_height,
            repaired,
            coins: self.totals.coins,
            blockstakes: self.totals.blockstakes,
            escrow: self.totals.escrow,
            earnings: self.totals.earnings,
        }
    }

    fn into_batch(self, t: &Tables) -> Result<WriteBatch, StoreError> {
        // The explorer indexes are not touched: a repaired store rebuilds them.
        let mut batch = t.batch();
        for (id, new) in &self.overlay.coins {
            match new {
                Some(e) => batch.put::<Coins>(id, e),
                None => batch.delete::<Coins>(id),
            }
        }
        for (id, new) in &self.overlay.stakes {
            match new {
                Some(e) => batch.put::<Stakes>(id, e),
                None => batch.delete::<Stakes>(id),
            }
        }
        for (k, v) in &self.overlay.grid {
            match v {
                Some(v) => batch.put::<GridState>(k, v),
                None => batch.delete::<GridState>(k),
            }
        }
        for u in &self.undone {
            if let (Some(entry), Some(undo)) = (&u.entry, &u.undo) {
                stage_unindex(&mut batch, entry, undo);
                continue;
            }
            // No usable undo data: the block was never applied (checked by the plan), so
            // only its height entry can exist.
            batch.delete::<Heights>(&u.height);
            batch.delete::<Undo>(&u.id);
            match &u.entry {
                Some(e) => {
                    batch.put::<BlockIndex>(
                        &u.id,
                        &BlockIndexEntry {
                            status: BlockStatus::Stored,
                            ..e.clone()
                        },
                    );
                    batch.put::<SideHeights>(
                        &SideKey {
                            height: e.meta.height,
                            id: u.id,
                        },
                        &(),
                    );
                }
                None => batch.delete::<BlockIndex>(&u.id),
            }
        }
        if let Some(e) = &self.stray_tip {
            batch.put::<BlockIndex>(
                &e.meta.id,
                &BlockIndexEntry {
                    status: BlockStatus::Stored,
                    ..e.clone()
                },
            );
        }
        batch.put::<Tip>(&(), &self.tip);
        batch.put::<RunningTotals>(&(), &self.totals);
        Ok(batch)
    }
}

/// Planned changes to the unspent outputs, on top of the stored ones.
#[derive(Default)]
struct Overlay {
    coins: BTreeMap<OutputId, Option<CoinEntry>>,
    stakes: BTreeMap<OutputId, Option<StakeEntry>>,
    /// Grid records set back to what they were before the rolled-back blocks (§7).
    grid: BTreeMap<GridKey, Option<GridValue>>,
}

impl Overlay {
    fn coin(&self, t: &Tables, id: &OutputId) -> Result<Option<CoinEntry>, StoreError> {
        match self.coins.get(id) {
            Some(v) => Ok(v.clone()),
            None => t.get::<Coins>(id),
        }
    }

    fn stake(&self, t: &Tables, id: &OutputId) -> Result<Option<StakeEntry>, StoreError> {
        match self.stakes.get(id) {
            Some(v) => Ok(v.clone()),
            None => t.get::<Stakes>(id),
        }
    }

    fn grid_value(&self, t: &Tables, k: &GridKey) -> Result<Option<GridValue>, StoreError> {
        match self.grid.get(k) {
            Some(v) => Ok(v.clone()),
            None => t.get::<GridState>(k),
        }
    }

    /// Sets a coin; returns the previous entry.
    fn set_coin(
        &mut self,
        t: &Tables,
        id: OutputId,
        v: Option<CoinEntry>,
    ) -> Result<Option<CoinEntry>, StoreError> {
        let old = self.coin(t, &id)?;
        self.coins.insert(id, v);
        Ok(old)
    }

    fn set_stake(
        &mut self,
        t: &Tables,
        id: OutputId,
        v: Option<StakeEntry>,
    ) -> Result<Option<StakeEntry>, StoreError> {
        let old = self.stake(t, &id)?;
        self.stakes.insert(id, v);
        Ok(old)
    }

    /// How many entries of `diff` disagree with the state (created but not unspent with
    /// the same entry, spent but unspent, a grid record not at its value after the block).
    fn mismatches(&self, t: &Tables, diff: &BlockDiff) -> Result<usize, StoreError> {
        let mut n = 0;
        for (id, e) in &diff.coins_created {
            n += usize::from(self.coin(t, id)?.as_ref() != Some(e));
        }
        for (id, _) in &diff.coins_spent {
            n += usize::from(self.coin(t, id)?.is_some());
        }
        for (id, e) in &diff.stakes_created {
            n += usize::from(self.stake(t, id)?.as_ref() != Some(e));
        }
        for (id, _) in &diff.stakes_spent {
            n += usize::from(self.stake(t, id)?.is_some());
        }
        for c in &diff.grid {
            n += usize::from(self.grid_value(t, &c.key)? != c.after);
        }
        Ok(n)
    }

    /// Rolls `diff` back idempotently, keeping `totals` equal to the state's sums.
    fn undo(
        &mut self,
        t: &Tables,
        diff: &BlockDiff,
        totals: &mut Totals,
    ) -> Result<(), StoreError> {
        let overflow =
            || StoreError::unrecoverable("rolling back makes the unspent totals overflow");
        let mut coins = totals.coins.0;
        let mut stakes = totals.blockstakes;
        for (id, _) in &diff.coins_created {
            if let Some(old) = self.set_coin(t, *id, None)? {
                coins = coins.checked_sub(old.value.0).ok_or_else(overflow)?;
            }
        }
        for (id, _) in &diff.stakes_created {
            if let Some(old) = self.set_stake(t, *id, None)? {
                stakes = stakes.checked_sub(old.value).ok_or_else(overflow)?;
            }
        }
        for (id, e) in &diff.coins_spent {
            if let Some(old) = self.set_coin(t, *id, Some(e.clone()))? {
                coins = coins.checked_sub(old.value.0).ok_or_else(overflow)?;
            }
            coins = coins.checked_add(e.value.0).ok_or_else(overflow)?;
        }
        for (id, e) in &diff.stakes_spent {
            if let Some(old) = self.set_stake(t, *id, Some(e.clone()))? {
                stakes = stakes.checked_sub(old.value).ok_or_else(overflow)?;
            }
            stakes = stakes.checked_add(e.value).ok_or_else(overflow)?;
        }
        // Escrow and earnings follow the grid records: take out what each holds now, put
        // back what it held before the block.
        let (mut escrow, mut earnings) = (totals.escrow.0, totals.earnings.0);
        for c in diff.grid.iter().rev() {
            let (e, n) = grid_amounts(self.grid_value(t, &c.key)?.as_ref());
            escrow = escrow.checked_sub(e.0).ok_or_else(overflow)?;
            earnings = earnings.checked_sub(n.0).ok_or_else(overflow)?;
            let (e, n) = grid_amounts(c.before.as_ref());
            escrow = escrow.checked_add(e.0).ok_or_else(overflow)?;
            earnings = earnings.checked_add(n.0).ok_or_else(overflow)?;
            self.grid.insert(c.key.clone(), c.before.clone());
        }
        *totals = Totals {
            coins: Currency(coins),
            blockstakes: stakes,
            escrow: Currency(escrow),
            earnings: Currency(earnings),
        };
        Ok(())
    }

    /// Whether any output `block` would create (transaction outputs, first payout) exists.
    fn effect_present(&self, t: &Tables, block: &Block) -> Result<bool, StoreError> {
        if self
            .coin(t, &OutputId::for_payout(&block.id(), 0))?
            .is_some()
        {
            return Ok(true);
        }
        for tx in &block.transactions {
            let txid = tx.txid();
            for i in 0..tx.coin_outputs.len() {
                if self
                    .coin(t, &Transaction::coin_output_id(&txid, i))?
                    .is_some()
                {
                    return Ok(true);
                }
            }
            for i in 0..tx.blockstake_outputs.len() {
                if self
                    .stake(t, &Transaction::stake_output_id(&txid, i))?
                    .is_some()
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// A read whose corruption is a finding (recorded in `problems`), not a failure.
fn soft<T>(
    r: Result<Option<T>, StoreError>,
    problems: &mut Vec<String>,
) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(v),
        Err(e @ StoreError::Corrupt { .. }) => {
            problems.push(e.to_string());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Σ of every stored coin and blockstake output, reservation escrow and node earnings
/// (decoding each record).
fn scan_totals(t: &Tables) -> Result<Totals, StoreError> {
    let overflow = || StoreError::unrecoverable("the unspent outputs sum to more than 2^128");
    let mut totals = Totals::default();
    for item in t.scan::<Coins>(&[]) {
        let (_, e) = item?;
        totals.coins = totals.coins.checked_add(e.value).ok_or_else(overflow)?;
    }
    for item in t.scan::<Stakes>(&[]) {
        let (_, e) = item?;
        totals.blockstakes = totals
            .blockstakes
            .checked_add(e.value)
            .ok_or_else(overflow)?;
    }
    for item in t.scan::<GridState>(&[]) {
        let (_, v) = item?;
        let (e, n) = grid_amounts(Some(&v));
        totals.escrow = totals.escrow.checked_add(e).ok_or_else(overflow)?;
        totals.earnings = totals.earnings.checked_add(n).ok_or_else(overflow)?;
    }
    Ok(totals)
}

/// Totals in words, for problem reports.
fn describe(t: &Totals) -> String {
    format!(
        "{} TFT / {} blockstakes / {} TFT escrow / {} TFT earnings",
        t.coins.to_tft_string(),
        t.blockstakes,
        t.escrow.to_tft_string(),
        t.earnings.to_tft_string()
    )
}

/// Heights `k` in `[low, high]` whose block's parent is not the main-chain block at `k-1`
/// (or whose index entry is missing, unreadable or not `OnMain`).
fn broken_links(
    t: &Tables,
    low: Height,
    high: Height,
    problems: &mut Vec<String>,
) -> Result<BTreeSet<Height>, StoreError> {
    let mut broken = BTreeSet::new();
    let mut above: Option<(Height, BlockIndexEntry)> = None;
    for h in (low..=high).rev() {
        let id = soft(t.get::<Heights>(&h), problems)?;
        let entry = match id {
            Some(id) => soft(t.get::<BlockIndex>(&id), problems)?.filter(|e| {
                e.status == BlockStatus::OnMain && e.meta.height == h && e.meta.id == id
            }),
            None => None,
        };
        if let Some((ah, a)) = &above {
            if id != Some(a.parent) {
                broken.insert(*ah);
            }
        }
        match entry {
            Some(e) => above = Some((h, e)),
            None => {
                broken.insert(h);
                above = None;
            }
        }
    }
    Ok(broken)
}

fn plan(t: &Tables, params: &ChainParams) -> Result<Plan, StoreError> {
    let mut problems = Vec::new();
    match t.get::<Heights>(&0)? {
        Some(id) if id == params.genesis_id => {}
        _ => {
            return Err(StoreError::unrecoverable(
                "the main chain of the store does not start with this network's genesis block",
            ))
        }
    }
    let recorded_tip = soft(t.get::<Tip>(&()), &mut problems)?;
    let recorded_totals = soft(t.get::<RunningTotals>(&()), &mut problems)?;
    let top = match t.scan::<Heights>(&[]).next_back() {
        Some(r) => r?.0,
        None => return Err(StoreError::unrecoverable("the store has no main chain")),
    };

    let depth = params.max_reorg_depth;
    let floor = top.saturating_sub(depth);
    let broken = broken_links(t, floor.saturating_sub(depth), top, &mut problems)?;
    let mut totals = scan_totals(t)?;
    let mut overlay = Overlay::default();
    let mut undone: Vec<Undone> = Vec::new();

    let mut h = top;
    let (tip, _entry, _undo): (BlockId, BlockIndexEntry, UndoRecord) = loop {
        let Some(id) = soft(t.get::<Heights>(&h), &mut problems)? else {
            return Err(StoreError::unrecoverable(format!(
                "the main chain has no readable block at height {h}, below its top at {top}"
            )));
        };
        let entry = soft(t.get::<BlockIndex>(&id), &mut problems)?;
        let block = soft(t.block(&id), &mut problems)?;
        let undo = soft(t.undo(&id), &mut problems)?;
        let sound = entry.as_ref().is_some_and(|e| {
            e.status == BlockStatus::OnMain && e.meta.height == h && e.meta.id == id
        });
        let links_ok = broken.range(h.saturating_sub(depth)..=h).next().is_none();

        match (sound, entry, block, undo) {
            (true, Some(entry), Some(_), Some(undo)) => {
                let bad = overlay.mismatches(t, &undo.diff)?;
                if bad == 0 && totals == undo.totals && links_ok {
                    break (id, entry, undo);
                }
                let mut why = Vec::new();
                if bad > 0 {
                    why.push(format!(
                        "{bad} unspent outputs or grid records disagree with its diff"
                    ));
                }
                if totals != undo.totals {
                    why.push(format!(
                        "a full scan finds {}, its undo data records {}",
                        describe(&totals),
                        describe(&undo.totals)
                    ));
                }
                if !links_ok {
                    why.push("a parent link below it is broken".into());
                }
                problems.push(format!(
                    "main-chain block {id} at height {h} is not consistent: {}",
                    why.join(", ")
                ));
                if h == 0 || h <= floor {
                    return Err(StoreError::unrecoverable(format!(
                        "no consistent block within max_reorg_depth ({depth}) of the top at \
                         height {top}: {}",
                        problems.join("; ")
                    )));
                }
                overlay.undo(t, &undo.diff, &mut totals)?;
                undone.push(Undone {
                    height: h,
                    id,
                    entry: Some(entry),
                    undo: Some(undo),
                });
            }
            (_, entry, block, undo) => {
                let what = match (&entry, &block, &undo) {
                    (None, _, _) => "no readable index entry",
                    (_, None, _) => "no readable body",
                    (_, _, None) => "no readable undo data",
                    _ => "an index entry that does not describe it at this height",
                };
                problems.push(format!("main-chain block {id} at height {h} has {what}"));
                let Some(block) = block else {
                    return Err(StoreError::unrecoverable(format!(
                        "main-chain block {id} at height {h} has no readable body, so whether \
                         it was applied cannot be told"
                    )));
                };
                if h == 0 || h <= floor || overlay.effect_present(t, &block)? {
                    return Err(StoreError::unrecoverable(format!(
                        "main-chain block {id} at height {h} is applied but has {what}, so it \
                         cannot be rolled back"
                    )));
                }
                undone.push(Undone {
                    height: h,
                    id,
                    entry,
                    undo,
                });
            }
        }
        h -= 1;
    };

    if recorded_tip != Some(tip) {
        problems.push(format!(
            "the tip pointer names {} but the last consistent block is {tip} at height {h}",
            recorded_tip.map_or("nothing".into(), |b| b.to_string())
        ));
    }
    if recorded_totals != Some(totals) {
        problems.push(format!(
            "the running totals ({}) differ from a full scan ({})",
            recorded_totals.map_or("missing".into(), |r| describe(&r)),
            describe(&totals)
        ));
    }
    // A tip pointer to a block marked OnMain that is not on the main chain.
    let mut stray_tip = None;
    if let Some(rt) = recorded_tip.filter(|rt| *rt != tip && !undone.iter().any(|u| u.id == *rt)) {
        if let Some(e) = soft(t.get::<BlockIndex>(&rt), &mut problems)? {
            let on_main = e.meta.height <= h && t.get::<Heights>(&e.meta.height)? == Some(rt);
            if e.status == BlockStatus::OnMain && !on_main {
                stray_tip = Some(e);
            }
        }
    }

    Ok(Plan {
        problems,
        tip,
        tip_height: h,
        totals,
        top,
        overlay,
        undone,
        stray_tip,
    })
}
