//! Pending grid changes on top of a [`GridView`]: reads see the writes, and the writes
//! become a transaction's effect or a block's diff.

use crate::state::{GridChange, GridKey, GridValue, GridView};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// Writes over a base view. `None` deletes.
///
/// Building the diff needs each written record's value in the base. Those are looked up
/// at most once: base reads are remembered, and records created under a fresh id
/// ([`GridOverlay::put_fresh`]) are known to be absent, so a block's cost does not grow
/// with the size of the state beyond one lookup per record it touches.
#[derive(Debug)]
pub struct GridOverlay<'a, V: GridView + ?Sized> {
    base: &'a V,
    writes: BTreeMap<GridKey, Option<GridValue>>,
    /// Keys known to be absent from the base.
    fresh: BTreeSet<GridKey>,
    /// Base values read so far.
    read: RefCell<BTreeMap<GridKey, Option<GridValue>>>,
}

impl<'a, V: GridView + ?Sized> GridOverlay<'a, V> {
    pub fn new(base: &'a V) -> Self {
        GridOverlay {
            base,
            writes: BTreeMap::new(),
            fresh: BTreeSet::new(),
            read: RefCell::new(BTreeMap::new()),
        }
    }

    pub fn put(&mut self, key: GridKey, value: GridValue) {
        self.writes.insert(key, Some(value));
    }

    /// Writes a record the caller knows is absent from the base (a new id, or a key it has
    /// just looked up and not found).
    pub fn put_fresh(&mut self, key: GridKey, value: GridValue) {
        self.fresh.insert(key.clone());
        self.writes.insert(key, Some(value));
    }

    pub fn delete(&mut self, key: GridKey) {
        self.writes.insert(key, None);
    }

    /// Adds writes made on top of this overlay (a transaction's, onto its block's).
    pub fn extend(&mut self, writes: GridWrites) {
        self.writes.extend(writes.map);
        self.fresh.extend(writes.fresh);
    }

    /// The writes, to be layered on the base later.
    pub fn into_writes(self) -> GridWrites {
        GridWrites {
            map: self.writes,
            fresh: self.fresh,
        }
    }

    /// The writes as changes against the base, unchanged records left out.
    pub fn into_changes(self) -> Vec<GridChange> {
        let base = self.base;
        let fresh = self.fresh;
        let mut read = self.read.into_inner();
        self.writes
            .into_iter()
            .filter_map(|(key, after)| {
                let before = if fresh.contains(&key) {
                    None
                } else {
                    match read.remove(&key) {
                        Some(v) => v,
                        None => base.grid_get(&key),
                    }
                };
                (before != after).then_some(GridChange { key, before, after })
            })
            .collect()
    }
}

/// A set of grid writes (`None` deletes), in key order, with the keys known to be absent
/// from the state they were made on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GridWrites {
    pub map: BTreeMap<GridKey, Option<GridValue>>,
    pub fresh: BTreeSet<GridKey>,
}

impl<V: GridView + ?Sized> GridView for GridOverlay<'_, V> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        if let Some(v) = self.writes.get(key) {
            return v.clone();
        }
        if self.fresh.contains(key) {
            return None;
        }
        if let Some(v) = self.read.borrow().get(key) {
            return v.clone();
        }
        let v = self.base.grid_get(key);
        self.read.borrow_mut().insert(key.clone(), v.clone());
        v
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        if from >= to {
            return Vec::new();
        }
        let mut keys: std::collections::BTreeSet<GridKey> =
            self.base.grid_range(from, to).into_iter().collect();
        for (k, v) in self.writes.range(from.clone()..to.clone()) {
            if v.is_some() {
                keys.insert(k.clone());
            } else {
                keys.remove(k);
            }
        }
        keys.into_iter().collect()
    }
}

/// An empty grid: the state before genesis.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyGrid;

impl GridView for EmptyGrid {
    fn grid_get(&self, _: &GridKey) -> Option<GridValue> {
        None
    }
    fn grid_range(&self, _: &GridKey, _: &GridKey) -> Vec<GridKey> {
        Vec::new()
    }
}

/// An in-memory grid state: the reference [`GridView`] for tests, simulations and
/// benchmarks (the node keeps its state in its store).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryGrid(pub BTreeMap<GridKey, GridValue>);

impl MemoryGrid {
    /// Applies a block's changes.
    pub fn apply(&mut self, changes: &[GridChange]) {
        for c in changes {
            set(&mut self.0, &c.key, &c.after);
        }
    }

    /// Undoes a block's changes.
    pub fn undo(&mut self, changes: &[GridChange]) {
        for c in changes.iter().rev() {
            set(&mut self.0, &c.key, &c.before);
        }
    }
}

fn set(map: &mut BTreeMap<GridKey, GridValue>, key: &GridKey, value: &Option<GridValue>) {
    match value {
        Some(v) => {
            map.insert(key.clone(), v.clone());
        }
        None => {
            map.remove(key);
        }
    }
}

impl GridView for MemoryGrid {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.0.get(key).cloned()
    }
    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        if from >= to {
            return Vec::new();
        }
        self.0
            .range(from.clone()..to.clone())
            .map(|(k, _)| k.clone())
            .collect()
    }
}
