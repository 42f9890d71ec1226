//! Typed access to the one sled tree: reads through [`Tables`], writes staged in a
//! [`WriteBatch`] and applied atomically.

use super::error::StoreError;
use super::tables::{decode_key, decode_value, key, prefix, value, Table, EXPLORER_PREFIXES};
use std::ops::Bound;

/// The chain tree with typed reads.
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    pub tree: sled::Tree,
    /// Whether this store keeps the explorer indexes ([`is_explorer`]). When it does not,
    /// batches drop every write to them, so commit, undo and repair need no case of their
    /// own.
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
            batch: sled::Batch::default(),
            writes: 0,
            explorer: self.explorer,
        }
    }

    pub fn get<T: Table>(&self, k: &T::Key) -> Result<Option<T::Value>, StoreError> {
        let raw = key::<T>(k);
        match self.tree.get(&raw)? {
            Some(bytes) => decode_value::<T>(&raw, &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub fn contains<T: Table>(&self, k: &T::Key) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(key::<T>(k))?)
    }

    /// Entries of `T` whose key starts with `partial`, in key order (reversible).
    pub fn scan<T: Table>(
        &self,
        partial: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<(T::Key, T::Value), StoreError>> {
        self.tree
            .scan_prefix(prefix::<T>(partial))
            .map(decode_entry::<T>)
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
        self.tree.range((lower, upper)).map(decode_entry::<T>)
    }

    pub fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        Ok(self.tree.apply_batch(batch.batch)?)
    }
}

fn decode_entry<T: Table>(
    r: sled::Result<(sled::IVec, sled::IVec)>,
) -> Result<(T::Key, T::Value), StoreError> {
    let (k, v) = r?;
    Ok((decode_key::<T>(&k)?, decode_value::<T>(&k, &v)?))
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
/// earlier ones. Writes to the explorer indexes are dropped when the store keeps none.
#[derive(Debug)]
pub(crate) struct WriteBatch {
    batch: sled::Batch,
    pub writes: usize,
    explorer: bool,
}

impl WriteBatch {
    pub fn put<T: Table>(&mut self, k: &T::Key, v: &T::Value) {
        if !self.explorer && is_explorer::<T>() {
            return;
        }
        self.batch.insert(key::<T>(k), value::<T>(v));
        self.writes += 1;
    }

    pub fn delete<T: Table>(&mut self, k: &T::Key) {
        if !self.explorer && is_explorer::<T>() {
            return;
        }
        self.batch.remove(key::<T>(k));
        self.writes += 1;
    }

    /// Deletes a raw key (purging a table by prefix).
    pub fn delete_raw(&mut self, raw: sled::IVec) {
        self.batch.remove(raw);
        self.writes += 1;
    }
}
