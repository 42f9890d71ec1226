//! Typed access to the state: reads through [`Tables`] see the write-back cache over the
//! one sled tree; writes are staged in a [`WriteBatch`] and applied to the cache at once;
//! [`Tables::flush`] moves the cache to sled in one atomic batch (a checkpoint). Block
//! bodies and commit records live in the block files ([`BlockFiles`]).

use super::cache::{Cache, Cached, Frozen, Merged};
use super::error::StoreError;
use super::segments::{BlockFiles, FileLoc, FilePos, Kind};
use super::tables::{
    decode_key, decode_value, key, prefix, value, Blocks, FlushPoint, Table, Undo,
    EXPLORER_PREFIXES,
};
use super::types::{CommitRecord, UndoRecord};
use parking_lot::Mutex;
use std::ops::Bound;
use std::sync::Arc;
use tfchain_types::{Block, BlockId};

/// The state (sled tree under the write-back cache) with typed reads, and the block files.
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    pub tree: sled::Tree,
    pub cache: Arc<Cache>,
    pub files: Arc<BlockFiles>,
    /// The background checkpoint in flight, if any.
    pub flusher: Arc<Mutex<Option<Flusher>>>,
    /// Whether this store keeps the explorer indexes ([`is_explorer`]), which the indexer
    /// writes (straight to sled, never through batches and the cache).
    pub explorer: bool,
}

/// Whether `T` is an explorer index: the transaction index, the address history and the
/// address-output index. They answer explorer and wallet queries; nothing in the rules or
/// the producer needs them.
pub(crate) fn is_explorer<T: Table>() -> bool {
    EXPLORER_PREFIXES.contains(&T::PREFIX)
}

impl Tables {
    /// An empty batch for this store.
    pub fn batch(&self) -> WriteBatch {
        WriteBatch {
            ops: Vec::new(),
            writes: 0,
        }
    }

    pub fn get<T: Table>(&self, k: &T::Key) -> Result<Option<T::Value>, StoreError> {
        let raw = key::<T>(k);
        match self.cache.get(&raw) {
            Cached::Value(bytes) => decode_value::<T>(&raw, &bytes).map(Some),
            Cached::Deleted => Ok(None),
            Cached::Miss => match self.tree.get(&raw)? {
                Some(bytes) => decode_value::<T>(&raw, &bytes).map(Some),
                None => Ok(None),
            },
        }
    }

    pub fn contains<T: Table>(&self, k: &T::Key) -> Result<bool, StoreError> {
        let raw = key::<T>(k);
        match self.cache.get(&raw) {
            Cached::Value(_) => Ok(true),
            Cached::Deleted => Ok(false),
            Cached::Miss => Ok(self.tree.contains_key(raw)?),
        }
    }

    /// Whether any key starts with the one-byte `prefix` (cache and sled).
    pub fn any_with_prefix(&self, prefix: u8) -> Result<bool, StoreError> {
        let upper = if prefix == u8::MAX {
            Bound::Unbounded
        } else {
            Bound::Excluded(vec![prefix + 1])
        };
        let mut m = Merged::new(
            self.tree.scan_prefix([prefix]),
            self.cache.range(Bound::Included(vec![prefix]), upper),
        );
        Ok(m.next().transpose()?.is_some())
    }

    /// The block `id`, read from the block files.
    pub fn block(&self, id: &BlockId) -> Result<Option<Block>, StoreError> {
        let Some(loc) = self.get::<Blocks>(id)? else {
            return Ok(None);
        };
        self.block_at(loc).map(Some)
    }

    /// The block whose record is at `loc`.
    pub fn block_at(&self, loc: FileLoc) -> Result<Block, StoreError> {
        let bytes = self.files.read(loc, Kind::Block)?;
        tfchain_types::decode_block(&bytes).map_err(|e| StoreError::Corrupt {
            table: "block files",
            key: format!("segment {} offset {}", loc.segment, loc.offset),
            detail: format!("the block record does not decode: {e}"),
        })
    }

    /// The commit record at `loc`.
    pub fn commit_at(&self, loc: FileLoc) -> Result<CommitRecord, StoreError> {
        let bytes = self.files.read(loc, Kind::Commit)?;
        super::tables::decode_commit(&bytes).map_err(|detail| StoreError::Corrupt {
            table: "block files",
            key: format!("segment {} offset {}", loc.segment, loc.offset),
            detail: format!("the commit record does not decode: {detail}"),
        })
    }

    /// The undo data of main-chain block `id` (from its commit record).
    pub fn undo(&self, id: &BlockId) -> Result<Option<UndoRecord>, StoreError> {
        let Some(loc) = self.get::<Undo>(id)? else {
            return Ok(None);
        };
        Ok(Some(self.commit_at(loc)?.undo))
    }

    /// Checkpoint: syncs the block files, then moves the whole cache to sled in one atomic
    /// batch that also records how far the block files reached, and fsyncs sled. After a
    /// crash the store reopens at the last checkpoint and replays the commit records after
    /// that point.
    pub fn flush(&self) -> Result<usize, StoreError> {
        self.files.sync()?;
        self.flush_to(self.files.end())
    }

    /// [`Tables::flush`] recording `end` as the point replay starts from (replay itself
    /// checkpoints part-way, where it has replayed to).
    pub fn flush_to(&self, end: FilePos) -> Result<usize, StoreError> {
        self.wait_flush()?;
        if let Some(left) = self.cache.frozen() {
            // A background checkpoint failed part-way: write its layer first.
            write_frozen(&self.tree, &self.cache, &left)?;
        }
        let mut b = self.batch();
        b.put::<FlushPoint>(&(), &end);
        self.apply(b)?;
        let frozen = self.cache.freeze();
        write_frozen(&self.tree, &self.cache, &frozen)
    }

    /// [`Tables::flush`] on a background thread: the block files are synced and the cache
    /// frozen here; sled is written there while commits go on into a new active layer.
    /// Waits first for the previous background checkpoint (its error, if any, is returned
    /// here), so at most two layers exist.
    pub fn flush_in_background(&self) -> Result<(), StoreError> {
        self.wait_flush()?;
        if self.cache.frozen().is_some() {
            return self.flush().map(|_| ());
        }
        self.files.sync()?;
        let mut b = self.batch();
        b.put::<FlushPoint>(&(), &self.files.end());
        self.apply(b)?;
        let frozen = self.cache.freeze();
        let (tree, cache) = (self.tree.clone(), Arc::clone(&self.cache));
        let handle = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || write_frozen(&tree, &cache, &frozen))
            .map_err(|e| StoreError::Io {
                what: "starting the checkpoint thread".into(),
                source: e,
            })?;
        *self.flusher.lock() = Some(handle);
        Ok(())
    }

    /// Waits for the background checkpoint, if one runs.
    pub fn wait_flush(&self) -> Result<(), StoreError> {
        let Some(handle) = self.flusher.lock().take() else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let r = handle
            .join()
            .map_err(|_| StoreError::unrecoverable("the checkpoint thread panicked"))?;
        let waited = started.elapsed();
        if waited > std::time::Duration::from_millis(50) {
            tracing::debug!(
                ms = waited.as_millis() as u64,
                "waited for the background checkpoint"
            );
        }
        r.map(|_| ())
    }

    /// Entries of `T` whose key starts with `partial`, in key order (reversible).
    pub fn scan<T: Table>(
        &self,
        partial: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<(T::Key, T::Value), StoreError>> {
        self.range::<T>(partial, Bound::Unbounded, Bound::Unbounded)
    }

    /// Entries of `T` with keys in `(lower, upper)` that start with `partial`.
    pub fn range<T: Table>(
        &self,
        partial: &[u8],
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> impl DoubleEndedIterator<Item = Result<(T::Key, T::Value), StoreError>> {
        let p = prefix::<T>(partial);
        let lower = match lower {
            Bound::Unbounded => Bound::Included(p.clone()),
            b => b,
        };
        let upper = match upper {
            Bound::Unbounded => match prefix_end(&p) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
            b => b,
        };
        let cached = self.cache.range(lower.clone(), upper.clone());
        Merged::new(self.tree.range((lower, upper)), cached).map(decode_entry::<T>)
    }

    /// Applies the batch to the cache, all at once (readers see all of it or none).
    pub fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let tree = &self.tree;
        Ok(self.cache.apply(batch.ops, |k| tree.contains_key(k))?)
    }
}

fn decode_entry<T: Table>(
    r: sled::Result<(sled::IVec, sled::IVec)>,
) -> Result<(T::Key, T::Value), StoreError> {
    let (k, v) = r?;
    Ok((decode_key::<T>(&k)?, decode_value::<T>(&k, &v)?))
}

/// The thread of a background checkpoint: the entries it wrote, or why it failed.
pub(crate) type Flusher = std::thread::JoinHandle<Result<usize, StoreError>>;

/// Writes a frozen layer to sled in one atomic batch, fsyncs, and forgets the layer.
fn write_frozen(tree: &sled::Tree, cache: &Cache, frozen: &Frozen) -> Result<usize, StoreError> {
    let (batch, n) = frozen.to_batch();
    tree.apply_batch(batch)?;
    tree.flush()?;
    cache.thaw();
    Ok(n)
}

/// The smallest key greater than every key starting with `p`, if any.
fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Writes staged for one atomic commit ([`Tables::batch`]). Later writes to a key replace
/// earlier ones. Never holds an explorer-index write: the indexer writes those.
#[derive(Debug)]
pub(crate) struct WriteBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub writes: usize,
}

impl WriteBatch {
    pub fn put<T: Table>(&mut self, k: &T::Key, v: &T::Value) {
        debug_assert!(
            !is_explorer::<T>(),
            "the indexer writes the explorer indexes"
        );
        self.ops.push((key::<T>(k), Some(value::<T>(v))));
        self.writes += 1;
    }

    pub fn delete<T: Table>(&mut self, k: &T::Key) {
        debug_assert!(
            !is_explorer::<T>(),
            "the indexer writes the explorer indexes"
        );
        self.ops.push((key::<T>(k), None));
        self.writes += 1;
    }
}
