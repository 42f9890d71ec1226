//! The store as the consensus rules see it ([`StateView`]).
//!
//! `StateView` methods return `Option`s: they have no way to report a disk error. A read
//! error must never be mistaken for "output not found" (that would make a valid block look
//! invalid), so [`StoreView`] records the first error and the caller checks
//! [`StoreView::finish`] before trusting the verdict:
//!
//! ```ignore
//! let view = store.view();
//! let verdict = tfchain_consensus::apply_block(&view, &block, &params, now);
//! view.finish()?;          // a read failed: neither commit nor mark the block invalid
//! let outcome = verdict?;  // now an Err really means the block is invalid
//! store.commit_block(&block, &outcome)?;
//! ```
//!
//! `Store` itself also implements the traits, logging read errors and returning `None`:
//! fine where a wrong "not found" is harmless (e.g. transaction-pool admission), not for
//! deciding a block's validity.

use super::{Store, StoreError};
use parking_lot::Mutex;
use tfchain_consensus::{BlockMeta, CoinEntry, StakeEntry, StateView, UtxoView};
use tfchain_types::{Height, OutputId};

/// A [`StateView`] over a [`Store`] that remembers the first read error.
#[derive(Debug)]
pub struct StoreView<'a> {
    store: &'a Store,
    failure: Mutex<Option<StoreError>>,
}

impl Store {
    /// A view for `apply_block` (see the module docs).
    pub fn view(&self) -> StoreView<'_> {
        StoreView {
            store: self,
            failure: Mutex::new(None),
        }
    }
}

impl StoreView<'_> {
    /// `Err` with the first read error, if any read failed.
    pub fn finish(self) -> Result<(), StoreError> {
        match self.failure.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Whether a read has failed so far.
    pub fn failed(&self) -> bool {
        self.failure.lock().is_some()
    }

    pub(crate) fn store(&self) -> &Store {
        self.store
    }

    pub(crate) fn record<T>(&self, r: Result<Option<T>, StoreError>) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "store read failed while validating a block");
                let mut f = self.failure.lock();
                if f.is_none() {
                    *f = Some(e);
                }
                None
            }
        }
    }
}

impl UtxoView for StoreView<'_> {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        self.record(self.store.coin(id))
    }
    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        self.record(self.store.stake(id))
    }
}

impl StateView for StoreView<'_> {
    fn tip(&self) -> BlockMeta {
        self.store.tip()
    }
    fn block_at(&self, height: Height) -> Option<BlockMeta> {
        self.record(self.store.meta_at(height))
    }
}

fn logged<T>(r: Result<Option<T>, StoreError>) -> Option<T> {
    r.unwrap_or_else(|e| {
        tracing::error!(error = %e, "store read failed; treating the entry as absent");
        None
    })
}

/// Read errors are logged and read as `None` (see the module docs).
impl UtxoView for Store {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        logged(Store::coin(self, id))
    }
    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        logged(Store::stake(self, id))
    }
}

/// Read errors are logged and read as `None` (see the module docs).
impl StateView for Store {
    fn tip(&self) -> BlockMeta {
        Store::tip(self)
    }
    fn block_at(&self, height: Height) -> Option<BlockMeta> {
        logged(Store::meta_at(self, height))
    }
}
