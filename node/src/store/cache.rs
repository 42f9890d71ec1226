//! The write-back cache of the state: every write of a commit lands here, in memory, and
//! reaches sled only when the store checkpoints ([`Tables::flush`](super::db::Tables)), as
//! one atomic batch. Reads look here first, then in sled, so they never see a stale sled
//! value. An entry created and deleted between two checkpoints never reaches sled.

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// A cached write: a value, or a deletion of a value sled holds.
#[derive(Clone, Debug)]
enum Entry {
    /// `in_db`: sled holds a value for the key (so deleting it later must reach sled).
    Put {
        value: Vec<u8>,
        in_db: bool,
    },
    Delete,
}

/// Per-entry bookkeeping counted against the cache size, beyond key and value bytes.
const ENTRY_OVERHEAD: usize = 64;

/// The cache: the `active` layer takes writes; at a checkpoint it becomes the `frozen`
/// layer, which a background flush writes to sled while a new active layer fills. Reads
/// look in active, then frozen, then sled.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    map: RwLock<Map>,
}

#[derive(Debug, Default)]
struct Map {
    entries: BTreeMap<Vec<u8>, Entry>,
    bytes: usize,
    frozen: Option<Arc<Frozen>>,
}

/// A layer being written to sled.
#[derive(Debug)]
pub(crate) struct Frozen {
    entries: BTreeMap<Vec<u8>, Entry>,
    pub bytes: usize,
}

impl Frozen {
    /// The layer as one sled batch, and how many entries it holds.
    pub fn to_batch(&self) -> (sled::Batch, usize) {
        let mut batch = sled::Batch::default();
        for (k, e) in &self.entries {
            match e {
                Entry::Put { value, .. } => batch.insert(k.as_slice(), value.as_slice()),
                Entry::Delete => batch.remove(k.as_slice()),
            }
        }
        (batch, self.entries.len())
    }
}

fn cost(key: &[u8], e: &Entry) -> usize {
    key.len()
        + ENTRY_OVERHEAD
        + match e {
            Entry::Put { value, .. } => value.len(),
            Entry::Delete => 0,
        }
}

/// What a lookup found in the cache.
pub(crate) enum Cached {
    Value(Vec<u8>),
    Deleted,
    Miss,
}

fn lookup(e: &Entry) -> Cached {
    match e {
        Entry::Put { value, .. } => Cached::Value(value.clone()),
        Entry::Delete => Cached::Deleted,
    }
}

impl Map {
    /// Whether sled holds `key` once the frozen layer is written, if the layers know.
    fn known_in_db(&self, key: &[u8]) -> Option<bool> {
        match self.entries.get(key) {
            Some(Entry::Put { in_db, .. }) => Some(*in_db),
            Some(Entry::Delete) => Some(true),
            None => self
                .frozen
                .as_ref()
                .and_then(|f| f.entries.get(key))
                .map(|e| matches!(e, Entry::Put { .. })),
        }
    }
}

impl Cache {
    pub fn get(&self, key: &[u8]) -> Cached {
        let map = self.map.read();
        if let Some(e) = map.entries.get(key) {
            return lookup(e);
        }
        match map.frozen.as_ref().and_then(|f| f.entries.get(key)) {
            Some(e) => lookup(e),
            None => Cached::Miss,
        }
    }

    /// Applies writes in order (`None` deletes). `in_db` answers whether sled holds a key
    /// that the cache has no entry for.
    pub fn apply(
        &self,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        in_db: impl Fn(&[u8]) -> Result<bool, sled::Error>,
    ) -> Result<(), sled::Error> {
        // Settle what sled holds before taking the lock: readers are never held up by sled.
        let known: Vec<Option<bool>> = {
            let map = self.map.read();
            writes.iter().map(|(k, _)| map.known_in_db(k)).collect()
        };
        let mut settled = Vec::with_capacity(writes.len());
        for ((k, _), k_known) in writes.iter().zip(known) {
            settled.push(match k_known {
                Some(b) => b,
                None => in_db(k)?,
            });
        }
        let mut map = self.map.write();
        for ((key, value), sled_has) in writes.into_iter().zip(settled) {
            // Within one batch a key may repeat: the entry written earlier in it wins over
            // what was settled before.
            let sled_has = match map.entries.get(&key) {
                Some(Entry::Put { in_db, .. }) => *in_db,
                Some(Entry::Delete) => true,
                None => sled_has,
            };
            let new = match value {
                Some(value) => Some(Entry::Put {
                    value,
                    in_db: sled_has,
                }),
                None if sled_has => Some(Entry::Delete),
                None => None,
            };
            let added = new.as_ref().map_or(0, |e| cost(&key, e));
            let removed = match new {
                Some(e) => map.entries.insert(key.clone(), e),
                None => map.entries.remove(&key),
            }
            .map_or(0, |old| cost(&key, &old));
            map.bytes = map.bytes + added - removed;
        }
        Ok(())
    }

    /// Bytes the active layer holds (keys, values and per-entry overhead).
    pub fn bytes(&self) -> usize {
        self.map.read().bytes
    }

    /// Bytes of both layers (what the `--db-cache` bound covers).
    pub fn total_bytes(&self) -> usize {
        let map = self.map.read();
        map.bytes + map.frozen.as_ref().map_or(0, |f| f.bytes)
    }

    /// Entries in the active layer.
    pub fn len(&self) -> usize {
        self.map.read().entries.len()
    }

    /// The cached entries in `(lower, upper)` (active over frozen), in key order; `None`
    /// is a deletion.
    pub fn range(
        &self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let map = self.map.read();
        if empty_range(&lower, &upper) {
            return Vec::new();
        }
        let value = |e: &Entry| match e {
            Entry::Put { value, .. } => Some(value.clone()),
            Entry::Delete => None,
        };
        let mut out: BTreeMap<&Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        if let Some(f) = &map.frozen {
            for (k, e) in f.entries.range((lower.clone(), upper.clone())) {
                out.insert(k, value(e));
            }
        }
        for (k, e) in map.entries.range((lower, upper)) {
            out.insert(k, value(e));
        }
        out.into_iter().map(|(k, v)| (k.clone(), v)).collect()
    }

    /// Turns the active layer into the frozen one (to be written to sled) and starts an
    /// empty active layer. The previous frozen layer must be gone ([`Cache::thaw`]).
    pub fn freeze(&self) -> Arc<Frozen> {
        let mut map = self.map.write();
        assert!(
            map.frozen.is_none(),
            "a checkpoint started before the previous one finished"
        );
        let frozen = Arc::new(Frozen {
            entries: std::mem::take(&mut map.entries),
            bytes: std::mem::take(&mut map.bytes),
        });
        map.frozen = Some(Arc::clone(&frozen));
        frozen
    }

    /// The frozen layer, if one is being (or failed to be) written.
    pub fn frozen(&self) -> Option<Arc<Frozen>> {
        self.map.read().frozen.clone()
    }

    /// Forgets the frozen layer (its batch reached sled).
    pub fn thaw(&self) {
        let old = self.map.write().frozen.take();
        drop(old); // outside the lock: freeing a large map takes a while
    }

    /// Discards the active layer (replay going back to the last checkpoint).
    pub fn clear(&self) {
        let old = {
            let mut map = self.map.write();
            map.bytes = 0;
            std::mem::take(&mut map.entries)
        };
        drop(old);
    }
}

/// Whether `(lower, upper)` holds no key (`BTreeMap::range` panics on such a range).
fn empty_range(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

/// Items of a sled range merged with the cache's entries in the same range: the cache wins
/// where both hold a key, and a cached deletion hides sled's value. Double-ended.
pub(crate) struct Merged<I> {
    db: Ends<I, sled::Result<(sled::IVec, sled::IVec)>>,
    cache: Ends<std::vec::IntoIter<CachedItem>, CachedItem>,
}

/// A cached key and its value (`None`: deleted).
type CachedItem = (Vec<u8>, Option<Vec<u8>>);

impl<I> Merged<I>
where
    I: DoubleEndedIterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
{
    pub fn new(db: I, cache: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Self {
        Merged {
            db: Ends::new(db),
            cache: Ends::new(cache.into_iter()),
        }
    }

    fn step(&mut self, forward: bool) -> Option<sled::Result<(sled::IVec, sled::IVec)>> {
        loop {
            if matches!(self.db.peek(forward), Some(Err(_))) {
                return self.db.take(forward);
            }
            let dk = self
                .db
                .peek(forward)
                .and_then(|r| r.as_ref().ok())
                .map(|(k, _)| k.to_vec());
            let ck = self.cache.peek(forward).map(|(k, _)| k.clone());
            let take_cache = match (&dk, &ck) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(d), Some(c)) => {
                    if d == c {
                        self.db.take(forward); // shadowed by the cache
                        true
                    } else {
                        (c < d) == forward
                    }
                }
            };
            if !take_cache {
                return self.db.take(forward);
            }
            match self.cache.take(forward) {
                Some((k, Some(v))) => return Some(Ok((k.into(), v.into()))),
                Some((_, None)) => continue, // deleted
                None => return None,
            }
        }
    }
}

impl<I> Iterator for Merged<I>
where
    I: DoubleEndedIterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
{
    type Item = sled::Result<(sled::IVec, sled::IVec)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.step(true)
    }
}

impl<I> DoubleEndedIterator for Merged<I>
where
    I: DoubleEndedIterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
{
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(false)
    }
}

/// A double-ended iterator with one peeked item at each end. Every item lives in exactly
/// one place: the inner iterator, the front slot or the back slot.
struct Ends<I, T> {
    inner: I,
    front: Option<T>,
    back: Option<T>,
}

impl<I: DoubleEndedIterator<Item = T>, T> Ends<I, T> {
    fn new(inner: I) -> Self {
        Ends {
            inner,
            front: None,
            back: None,
        }
    }

    fn peek(&mut self, forward: bool) -> Option<&T> {
        if forward {
            if self.front.is_none() {
                self.front = self.inner.next().or_else(|| self.back.take());
            }
            self.front.as_ref()
        } else {
            if self.back.is_none() {
                self.back = self.inner.next_back().or_else(|| self.front.take());
            }
            self.back.as_ref()
        }
    }

    fn take(&mut self, forward: bool) -> Option<T> {
        self.peek(forward);
        if forward {
            self.front.take()
        } else {
            self.back.take()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn db_with(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> sled::Tree {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("the call succeeds");
        let t = db.open_tree("t").expect("the call succeeds");
        for (k, v) in entries {
            t.insert(k.as_slice(), v.as_slice())
                .expect("the call succeeds");
        }
        t
    }

    proptest! {
        /// The merged view of sled plus the cache equals a model map with the writes
        /// applied, read forwards, backwards and from both ends at once; after a
        /// checkpoint sled alone equals it too.
        #[test]
        fn merged_reads_equal_the_model(
            base in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 1..3), any::<u8>(), 0..12),
            writes in proptest::collection::vec((proptest::collection::vec(0u8..4, 1..3), proptest::option::of(any::<u8>())), 0..24),
            pattern in proptest::collection::vec(any::<bool>(), 0..40),
            later in proptest::collection::vec((proptest::collection::vec(0u8..4, 1..3), proptest::option::of(any::<u8>())), 0..24),
        ) {
            let base: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().map(|(k, v)| (k, vec![v])).collect();
            let tree = db_with(&base);
            let cache = Cache::default();
            let mut model = base.clone();
            for (k, v) in &writes {
                let v = v.map(|b| vec![b]);
                cache.apply(vec![(k.clone(), v.clone())], |k| tree.contains_key(k)).expect("the call succeeds");
                match v {
                    Some(v) => { model.insert(k.clone(), v); }
                    None => { model.remove(k); }
                }
            }
            let expect: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
            let merged = || Merged::new(tree.iter(), cache.range(Bound::Unbounded, Bound::Unbounded));
            let fwd: Vec<_> = merged().map(|r| { let (k, v) = r.expect("the call succeeds"); (k.to_vec(), v.to_vec()) }).collect();
            prop_assert_eq!(&fwd, &expect);
            let mut back: Vec<_> = merged().rev().map(|r| { let (k, v) = r.expect("the call succeeds"); (k.to_vec(), v.to_vec()) }).collect();
            back.reverse();
            prop_assert_eq!(&back, &expect);
            // Both ends at once.
            let mut m = merged();
            let (mut front, mut tail) = (Vec::new(), Vec::new());
            let mut pat = pattern.into_iter();
            loop {
                let item = if pat.next().unwrap_or(true) { m.next().map(|x| (true, x)) } else { m.next_back().map(|x| (false, x)) };
                match item {
                    Some((true, r)) => { let (k, v) = r.expect("the call succeeds"); front.push((k.to_vec(), v.to_vec())) }
                    Some((false, r)) => { let (k, v) = r.expect("the call succeeds"); tail.push((k.to_vec(), v.to_vec())) }
                    None => break,
                }
            }
            tail.reverse();
            front.extend(tail);
            prop_assert_eq!(&front, &expect);
            for (k, v) in &model {
                match cache.get(k) {
                    Cached::Value(c) => prop_assert_eq!(&c, v),
                    Cached::Deleted => prop_assert!(false, "a live key reads as deleted"),
                    Cached::Miss => prop_assert_eq!(tree.get(k).expect("the call succeeds").map(|x| x.to_vec()), Some(v.clone())),
                }
            }
            // A checkpoint in the background: frozen, more writes land in a new active
            // layer, and reads see both before and after the frozen batch reaches sled.
            let frozen = cache.freeze();
            for (k, v) in &later {
                let v = v.map(|b| vec![b]);
                cache.apply(vec![(k.clone(), v.clone())], |k| tree.contains_key(k)).expect("the call succeeds");
                match v {
                    Some(v) => { model.insert(k.clone(), v); }
                    None => { model.remove(k); }
                }
            }
            let expect: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
            let read_all = || -> Vec<(Vec<u8>, Vec<u8>)> { merged().map(|r| { let (k, v) = r.expect("the call succeeds"); (k.to_vec(), v.to_vec()) }).collect() };
            prop_assert_eq!(&read_all(), &expect);
            let (batch, _) = frozen.to_batch();
            tree.apply_batch(batch).expect("the call succeeds");
            prop_assert_eq!(&read_all(), &expect);
            cache.thaw();
            prop_assert_eq!(&read_all(), &expect);
            let (batch, _) = cache.freeze().to_batch();
            tree.apply_batch(batch).expect("the call succeeds");
            cache.thaw();
            prop_assert_eq!(cache.bytes(), 0);
            let after: Vec<_> = tree.iter().map(|r| { let (k, v) = r.expect("the call succeeds"); (k.to_vec(), v.to_vec()) }).collect();
            prop_assert_eq!(after, expect);
        }
    }

    #[test]
    fn an_entry_created_and_deleted_between_checkpoints_never_reaches_sled() {
        let tree = db_with(&BTreeMap::new());
        let cache = Cache::default();
        cache
            .apply(vec![(b"new".to_vec(), Some(b"v".to_vec()))], |k| {
                tree.contains_key(k)
            })
            .expect("the call succeeds");
        assert!(cache.bytes() > 0);
        cache
            .apply(vec![(b"new".to_vec(), None)], |k| tree.contains_key(k))
            .expect("the call succeeds");
        assert_eq!(cache.len(), 0, "no tombstone for a key sled never had");
        assert_eq!(cache.bytes(), 0);
        let (_, n) = cache.freeze().to_batch();
        assert_eq!(n, 0);
    }
}
