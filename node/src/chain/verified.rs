//! Transactions whose signatures this node has verified (PROTOCOL.md §1), remembered by
//! WTxId so a block carrying them does not verify them again (Bitcoin Core's signature
//! cache): a pooled transaction when its block arrives, and blocks pre-verified on a
//! second core while the previous block commits (`import-blocks`, sync).
//!
//! A WTxId commits to every signature and the sighash binds this network's genesis ID, so
//! a remembered verdict can never vouch for different signatures. Only transactions whose
//! every signature passed `verify_strict` are inserted. Bounded: the oldest entries go.

use parking_lot::RwLock;
use rayon::prelude::*;
use std::collections::{HashSet, VecDeque};
use tfchain_consensus::transfer::verify_signatures;
use tfchain_consensus::VerifiedTxs;
use tfchain_types::{Block, BlockId, Hash};

/// Entries kept: about 2 full blocks of small transactions per 10 k, ~64 bytes each.
pub const VERIFIED_CACHE_ENTRIES: usize = 200_000;

#[derive(Debug)]
pub struct VerifiedCache {
    inner: RwLock<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    set: HashSet<Hash>,
    order: VecDeque<Hash>,
}

impl VerifiedCache {
    pub fn new(capacity: usize) -> Self {
        VerifiedCache {
            inner: RwLock::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Remembers transactions whose every signature verified.
    pub fn insert_all(&self, wtxids: impl IntoIterator<Item = Hash>) {
        let mut inner = self.inner.write();
        for w in wtxids {
            if inner.set.insert(w) {
                inner.order.push_back(w);
            }
        }
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.inner.read().set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifies the signatures of `block`'s transactions on all cores and remembers those
    /// that pass (a failure is left for `apply_block` to report in its place). Needs no
    /// state, so it can run ahead of the block being applied.
    pub fn preverify(&self, block: &Block, genesis_id: &BlockId) {
        let ok: Vec<Hash> = block
            .transactions
            .par_iter()
            .with_min_len(8)
            .filter_map(|tx| {
                let wtxid = tx.wtxid();
                if self.contains(&wtxid) {
                    return None;
                }
                let sighash = tx.hashes(genesis_id).sighash;
                verify_signatures(tx, &sighash).ok().map(|()| wtxid)
            })
            .collect();
        self.insert_all(ok);
    }
}

impl VerifiedTxs for VerifiedCache {
    fn contains(&self, wtxid: &Hash) -> bool {
        self.inner.read().set.contains(wtxid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_up_to_its_capacity() {
        let c = VerifiedCache::new(3);
        c.insert_all((0..5u8).map(|i| Hash([i; 32])));
        assert_eq!(c.len(), 3);
        assert!(!c.contains(&Hash([0; 32])) && !c.contains(&Hash([1; 32])));
        assert!((2..5u8).all(|i| c.contains(&Hash([i; 32]))));
        c.insert_all([Hash([4; 32])]);
        assert_eq!(c.len(), 3, "a repeat is not a new entry");
    }
}
