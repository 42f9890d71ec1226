//! Reads. All take `&self` and may run on any thread while the chain task writes; each
//! read sees whole commits (see the concurrency notes of the module).

use super::indexer::IndexStatus;
use super::tables::{
    address_bytes, key, AddressHistory, AddressOutputs, BlockIndex, Blocks, Coins, EquivocationKey,
    Equivocations, Headers, Heights, HistoryBlockKey, HistoryKey, Stakes, TxIndex, KIND_STAKE,
};
use super::types::IndexedTip;
use super::types::{
    AddressTx, BlockIndexEntry, Equivocation, HistoryCursor, HistoryEntry, OutputRef, Totals,
    TxLocation, UndoRecord,
};
use super::{verify, Store, StoreError};
use std::ops::Bound;
use std::time::Duration;

/// How long a read of the explorer indexes waits for the indexer to reach the tip before
/// answering [`StoreError::IndexBehind`] (in step with the chain it is milliseconds behind).
pub const INDEX_WAIT: Duration = Duration::from_secs(2);
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::{BlockMeta, CoinEntry, StakeEntry};
use tfchain_types::{Address, Block, BlockId, Height, OutputId, OutputKind, Transaction, TxId};

impl Store {
    /// The main-chain tip (from memory; never fails).
    pub fn tip(&self) -> BlockMeta {
        self.inner.head.read().tip.clone()
    }

    /// Σ unspent coins and blockstakes, escrow and earnings at the tip (from memory).
    pub fn totals(&self) -> Totals {
        self.inner.head.read().totals
    }

    /// The tip and the totals at it, read together (no commit in between).
    pub fn tip_and_totals(&self) -> (BlockMeta, Totals) {
        let head = self.inner.head.read();
        (head.tip.clone(), head.totals)
    }

    /// Metadata of the main-chain block at `height`.
    pub fn meta_at(&self, height: Height) -> Result<Option<BlockMeta>, StoreError> {
        if let Some(m) = self.cached_meta(height) {
            return Ok(Some(m));
        }
        let Some(id) = self.block_id_at(height)? else {
            return Ok(None);
        };
        Ok(self.index_entry(&id)?.map(|e| e.meta))
    }

    pub(crate) fn cached_meta(&self, height: Height) -> Option<BlockMeta> {
        let head = self.inner.head.read();
        let first = head.recent.front()?.height;
        let i = usize::try_from(height.checked_sub(first)?).ok()?;
        head.recent.get(i).cloned()
    }

    /// ID of the main-chain block at `height`.
    pub fn block_id_at(&self, height: Height) -> Result<Option<BlockId>, StoreError> {
        self.inner.tables.get::<Heights>(&height)
    }

    /// A stored block (main chain or not).
    pub fn block(&self, id: &BlockId) -> Result<Option<Block>, StoreError> {
        self.inner.tables.block(id)
    }

    /// A stored block's header and signature (cheap: the body is not read).
    pub fn header(&self, id: &BlockId) -> Result<Option<SignedHeader>, StoreError> {
        self.inner.tables.get::<Headers>(id)
    }

    /// The header and signature of the main-chain block at `height`.
    pub fn header_at(&self, height: Height) -> Result<Option<SignedHeader>, StoreError> {
        match self.block_id_at(height)? {
            Some(id) => self.header(&id),
            None => Ok(None),
        }
    }

    /// Whether a block body is stored.
    pub fn has_block(&self, id: &BlockId) -> Result<bool, StoreError> {
        self.inner.tables.contains::<Blocks>(id)
    }

    /// The main-chain block at `height`.
    pub fn block_at(&self, height: Height) -> Result<Option<Block>, StoreError> {
        match self.block_id_at(height)? {
            Some(id) => self.block(&id),
            None => Ok(None),
        }
    }

    pub fn index_entry(&self, id: &BlockId) -> Result<Option<BlockIndexEntry>, StoreError> {
        self.inner.tables.get::<BlockIndex>(id)
    }

    /// Undo data of a main-chain block.
    pub fn undo_record(&self, id: &BlockId) -> Result<Option<UndoRecord>, StoreError> {
        self.inner.tables.undo(id)
    }

    /// An unspent coin output.
    pub fn coin(&self, id: &OutputId) -> Result<Option<CoinEntry>, StoreError> {
        self.inner.tables.get::<Coins>(id)
    }

    /// An unspent blockstake output.
    pub fn stake(&self, id: &OutputId) -> Result<Option<StakeEntry>, StoreError> {
        self.inner.tables.get::<Stakes>(id)
    }

    /// Where a transaction sits on the main chain.
    /// [`StoreError::NoExplorerIndex`] when the store keeps no explorer indexes;
    /// [`StoreError::IndexBehind`] when it is not indexed and the indexer does not reach
    /// the tip within [`INDEX_WAIT`].
    pub fn tx_location(&self, txid: &TxId) -> Result<Option<TxLocation>, StoreError> {
        Ok(self.transaction(txid)?.map(|(_, loc)| loc))
    }

    /// A main-chain transaction and its location (see [`Store::tx_location`]).
    pub fn transaction(
        &self,
        txid: &TxId,
    ) -> Result<Option<(Transaction, TxLocation)>, StoreError> {
        self.need_explorer()?;
        if let Some(found) = self.indexed_transaction(txid)? {
            return Ok(Some(found));
        }
        // Not indexed (yet?): wait for the indexer to reach the tip, then look again.
        self.wait_indexed(INDEX_WAIT)?;
        self.indexed_transaction(txid)
    }

    /// The transaction the index places at a height and position, if the main chain still
    /// has it there (an entry a reorganisation made stale is not reported).
    fn indexed_transaction(
        &self,
        txid: &TxId,
    ) -> Result<Option<(Transaction, TxLocation)>, StoreError> {
        let t = &self.inner.tables;
        let Some(spot) = t.get::<TxIndex>(txid)? else {
            return Ok(None);
        };
        let Some(block_id) = t.get::<Heights>(&spot.height)? else {
            return Ok(None);
        };
        let Some(block) = t.block(&block_id)? else {
            return Ok(None);
        };
        let tx = usize::try_from(spot.position)
            .ok()
            .and_then(|p| block.transactions.get(p).cloned());
        Ok(tx.filter(|tx| tx.txid() == *txid).map(|tx| {
            let loc = TxLocation {
                height: spot.height,
                block: block_id,
                position: spot.position,
            };
            (tx, loc)
        }))
    }

    /// How far the explorer index has got.
    pub fn index_status(&self) -> IndexStatus {
        self.inner.index.status()
    }

    /// Waits up to `timeout` for the explorer index to reach the tip as it is now;
    /// [`StoreError::IndexBehind`] (or [`StoreError::IndexFailed`]) if it does not.
    pub fn wait_indexed(&self, timeout: Duration) -> Result<(), StoreError> {
        self.need_explorer()?;
        let tip = self.tip();
        // The indexer follows durable blocks only: make the tip durable if the writer has not
        // yet (it does before announcing a block; an import only at checkpoints).
        let files = &self.inner.tables.files;
        if files.synced_end() < files.end() {
            self.flush()?;
        }
        let target = IndexedTip {
            height: tip.height,
            id: tip.id,
        };
        // The index covers the main chain up to the tip: it is at the tip, or past its
        // height on the main chain (a block came meanwhile). An index tip above the height
        // but off the main chain (a block undone) must be undone first.
        let t = &self.inner.tables;
        let reached = |it: &IndexedTip| {
            it.id == target.id
                || (it.height >= target.height
                    && matches!(t.get::<Heights>(&it.height), Ok(Some(id)) if id == it.id))
        };
        let status = self.inner.index.wait_for(reached, timeout);
        if let Some(reason) = status.failed {
            return Err(StoreError::IndexFailed(reason));
        }
        if status.tip.as_ref().is_some_and(reached) {
            Ok(())
        } else {
            Err(StoreError::IndexBehind {
                indexed: status.tip.map(|t| t.height),
                tip: tip.height,
            })
        }
    }

    /// Every unspent output of `address` (coins first, each kind by output ID).
    pub fn address_outputs(
        &self,
        address: &Address,
    ) -> Result<Vec<(OutputId, OutputRef)>, StoreError> {
        self.address_outputs_limited(address, usize::MAX)
            .map(|(v, _)| v)
    }

    /// The unspent outputs of `address` (coins first, each kind by output ID), reading at
    /// most `limit` of them; and whether it has more (then the list is partial).
    pub fn address_outputs_limited(
        &self,
        address: &Address,
        limit: usize,
    ) -> Result<(Vec<(OutputId, OutputRef)>, bool), StoreError> {
        self.wait_indexed(INDEX_WAIT)?;
        let t = &self.inner.tables;
        let limit = limit.max(1);
        let mut out: Vec<(OutputId, OutputRef)> = Vec::new();
        let mut more = false;
        let mut dangling = None;
        'groups: for item in t.scan::<AddressOutputs>(&address_bytes(address)) {
            let (k, ids) = item?;
            for id in ids {
                if out.len() == limit {
                    more = true;
                    break 'groups;
                }
                let entry = if k.kind == KIND_STAKE {
                    t.get::<Stakes>(&id)?.map(OutputRef::Stake)
                } else {
                    t.get::<Coins>(&id)?.map(OutputRef::Coin)
                };
                match entry {
                    Some(e) => out.push((id, e)),
                    // Spent by a block the indexer has not reached, or damage (below).
                    None => dangling = Some((k, id)),
                }
            }
        }
        if let Some((k, id)) = dangling {
            // With the index at the tip, an entry naming a spent output is damage; otherwise
            // a block came meanwhile, and the output is left out.
            if self.index_status().tip.map(|i| i.id) == Some(self.tip().id) {
                return Err(StoreError::Corrupt {
                    table: "AddressOutputs",
                    key: hex::encode(key::<AddressOutputs>(&k)),
                    detail: format!("indexes the output {id}, which is not unspent"),
                });
            }
        }
        // Groups are by creation height; the order promised is by kind, then ID.
        out.sort_by_key(|(id, r)| (r.kind() != OutputKind::Coin, *id));
        Ok((out, more))
    }

    /// At most `limit` entries of `address`'s history, oldest first, after the exclusive
    /// cursor `after`; and the cursor for the next page (`None`: no more entries).
    pub fn address_history(
        &self,
        address: &Address,
        after: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<(Vec<AddressTx>, Option<HistoryCursor>), StoreError> {
        self.wait_indexed(INDEX_WAIT)?;
        // From the cursor's block (inclusive: the rest of that block comes first).
        let lower = match after {
            Some(c) => Bound::Included(history_key(address, c.height)),
            None => Bound::Unbounded,
        };
        let iter = self.inner.tables.range::<AddressHistory>(
            &address_bytes(address),
            lower,
            Bound::Unbounded,
        );
        let entries = flatten(iter, false).filter(|r| {
            r.as_ref()
                .map_or(true, |(k, _)| after.is_none_or(|c| cursor_of(k) > c))
        });
        page(entries, limit)
    }

    /// Like [`Store::address_history`], newest first: entries before the exclusive cursor
    /// `before`.
    pub fn address_history_rev(
        &self,
        address: &Address,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<(Vec<AddressTx>, Option<HistoryCursor>), StoreError> {
        self.wait_indexed(INDEX_WAIT)?;
        // Up to the cursor's block (inclusive: the start of that block comes next).
        let upper = match before {
            Some(c) => Bound::Included(history_key(address, c.height)),
            None => Bound::Unbounded,
        };
        let iter = self.inner.tables.range::<AddressHistory>(
            &address_bytes(address),
            Bound::Unbounded,
            upper,
        );
        let entries = flatten(iter.rev(), true).filter(|r| {
            r.as_ref()
                .map_or(true, |(k, _)| before.is_none_or(|c| cursor_of(k) < c))
        });
        page(entries, limit)
    }

    fn need_explorer(&self) -> Result<(), StoreError> {
        if self.inner.tables.explorer {
            Ok(())
        } else {
            Err(StoreError::NoExplorerIndex)
        }
    }

    /// The unspent blockstake outputs of `address`, by a scan of the blockstake outputs (a
    /// few per validator): the state itself, never the address index, which may lag the tip.
    /// Never touches a coin output: dust sent to a validator costs its producer nothing.
    pub fn stakes_of(&self, address: &Address) -> Result<Vec<(OutputId, StakeEntry)>, StoreError> {
        let mut out = Vec::new();
        for item in self.unspent_stakes() {
            let (id, e) = item?;
            if e.condition.address() == *address {
                out.push((id, e));
            }
        }
        Ok(out)
    }

    /// Every unspent coin output, by ID (a full scan: for tools and tests).
    pub fn unspent_coins(&self) -> impl Iterator<Item = Result<(OutputId, CoinEntry), StoreError>> {
        self.inner.tables.scan::<Coins>(&[])
    }

    /// Every unspent blockstake output, by ID (a full scan).
    pub fn unspent_stakes(
        &self,
    ) -> impl Iterator<Item = Result<(OutputId, StakeEntry), StoreError>> {
        self.inner.tables.scan::<Stakes>(&[])
    }

    /// A deep check of the explorer indexes against the main chain and the unspent
    /// outputs (reads every main-chain block: slow on a long chain). Returns the problems
    /// found; empty when the indexes are exact.
    pub fn verify_indexes(&self) -> Result<Vec<String>, StoreError> {
        if self.inner.tables.explorer {
            self.wait_indexed(Duration::from_secs(120))?;
        }
        let _w = self.inner.writer.lock();
        verify::verify_indexes(&self.inner.tables, &self.tip())
    }

    /// The raw sled tree, for fault-injection tests only: writing to it bypasses every
    /// invariant of the store. Checkpoints first, so the tree holds the whole state (and
    /// the cache nothing that would hide a raw write).
    #[doc(hidden)]
    pub fn raw_tree_for_tests(&self) -> &sled::Tree {
        if let Err(e) = self.checkpoint() {
            panic!("checkpoint before raw access failed: {e}");
        }
        &self.inner.tables.tree
    }

    /// At most `limit` stored equivocations (by height, then stake output) after the
    /// exclusive cursor `after` (height and stake output of the last one of the previous
    /// page), and whether more follow.
    pub fn equivocations_page(
        &self,
        after: Option<(Height, OutputId)>,
        limit: usize,
    ) -> Result<(Vec<Equivocation>, bool), StoreError> {
        let lower = match after {
            Some((height, stake_output)) => {
                Bound::Excluded(key::<Equivocations>(&EquivocationKey {
                    height,
                    stake_output,
                }))
            }
            None => Bound::Unbounded,
        };
        let limit = limit.max(1);
        let mut out = Vec::new();
        for item in self
            .inner
            .tables
            .range::<Equivocations>(&[], lower, Bound::Unbounded)
        {
            let (k, v) = item?;
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(Equivocation {
                height: k.height,
                stake_output: k.stake_output,
                first: v.first,
                second: v.second,
            });
        }
        Ok((out, false))
    }

    /// Every stored equivocation, by height.
    pub fn equivocations(&self) -> Result<Vec<Equivocation>, StoreError> {
        self.inner
            .tables
            .scan::<Equivocations>(&[])
            .map(|r| {
                r.map(|(k, v)| Equivocation {
                    height: k.height,
                    stake_output: k.stake_output,
                    first: v.first,
                    second: v.second,
                })
            })
            .collect()
    }
}

fn history_key(address: &Address, height: Height) -> Vec<u8> {
    key::<AddressHistory>(&HistoryBlockKey {
        address: *address,
        height,
    })
}

fn cursor_of(k: &HistoryKey) -> HistoryCursor {
    HistoryCursor {
        height: k.height,
        position: k.position,
    }
}

/// The entries of per-block history groups, one by one (within a block by position, or
/// backwards with `rev`).
fn flatten(
    groups: impl Iterator<Item = Result<(HistoryBlockKey, Vec<(u32, HistoryEntry)>), StoreError>>,
    rev: bool,
) -> impl Iterator<Item = Result<(HistoryKey, HistoryEntry), StoreError>> {
    groups.flat_map(move |r| {
        let items: Vec<Result<(HistoryKey, HistoryEntry), StoreError>> = match r {
            Ok((k, mut entries)) => {
                if rev {
                    entries.reverse();
                }
                entries
                    .into_iter()
                    .map(|(position, e)| {
                        Ok((
                            HistoryKey {
                                address: k.address,
                                height: k.height,
                                position,
                            },
                            e,
                        ))
                    })
                    .collect()
            }
            Err(e) => vec![Err(e)],
        };
        items
    })
}

fn page(
    iter: impl Iterator<Item = Result<(HistoryKey, HistoryEntry), StoreError>>,
    limit: usize,
) -> Result<(Vec<AddressTx>, Option<HistoryCursor>), StoreError> {
    let limit = limit.max(1);
    let mut out: Vec<AddressTx> = Vec::with_capacity(limit.min(1_024));
    for item in iter {
        let (k, entry) = item?;
        if out.len() == limit {
            let next = out.last().map(AddressTx::cursor);
            return Ok((out, next));
        }
        out.push(AddressTx {
            height: k.height,
            position: k.position,
            entry,
        });
    }
    Ok((out, None))
}
