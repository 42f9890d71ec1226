//! The capacity market in the store (PROTOCOL.md §7): the grid records as a
//! [`GridView`] for the rules, typed reads for RPC, and the event log (§7.5).

use super::tables::{key, GridEvents, GridState, NodeEventKey, NodeEvents};
use super::types::{ChainEvent, EventPosition};
use super::view::StoreView;
use super::{Store, StoreError};
use std::ops::Bound;
use tfchain_contracts::{GridKey, GridReads, GridValue, GridView};
use tfchain_types::{Address, Farm, FarmId, Node, NodeId, Reservation, ReservationId};

impl Store {
    pub fn grid_value(&self, k: &GridKey) -> Result<Option<GridValue>, StoreError> {
        self.inner.tables.get::<GridState>(k)
    }

    /// Grid keys in `[from, to)`, in order.
    pub fn grid_keys(&self, from: &GridKey, to: &GridKey) -> Result<Vec<GridKey>, StoreError> {
        self.grid_keys_limited(from, to, usize::MAX)
    }

    fn grid_keys_limited(
        &self,
        from: &GridKey,
        to: &GridKey,
        limit: usize,
    ) -> Result<Vec<GridKey>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let lower = Bound::Included(key::<GridState>(from));
        let upper = Bound::Excluded(key::<GridState>(to));
        let mut out = Vec::new();
        for item in self.inner.tables.range::<GridState>(&[], lower, upper) {
            if out.len() >= limit {
                break;
            }
            out.push(item?.0);
        }
        Ok(out)
    }

    /// Farms with ids after `after`, at most `limit`.
    pub fn farms(&self, after: FarmId, limit: usize) -> Result<Vec<Farm>, StoreError> {
        let to = GridKey::FarmName(tfchain_types::FarmName(String::new()));
        let keys = self.grid_keys_limited(&GridKey::Farm(after.saturating_add(1)), &to, limit)?;
        keys.iter()
            .filter_map(|k| match self.grid_value(k) {
                Ok(Some(GridValue::Farm(f))) => Some(Ok(f)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect()
    }

    /// Nodes with ids after `after` (of `farm` if given), at most `limit`.
    pub fn nodes(
        &self,
        farm: Option<FarmId>,
        after: NodeId,
        limit: usize,
    ) -> Result<Vec<Node>, StoreError> {
        let ids: Vec<NodeId> = match farm {
            Some(f) => self
                .grid_keys_limited(
                    &GridKey::FarmNode(f, after.saturating_add(1)),
                    &GridKey::FarmNode(f.saturating_add(1), 0),
                    limit,
                )?
                .into_iter()
                .filter_map(|k| match k {
                    GridKey::FarmNode(_, n) => Some(n),
                    _ => None,
                })
                .collect(),
            None => self
                .grid_keys_limited(
                    &GridKey::Node(after.saturating_add(1)),
                    &GridKey::NodeKey(tfchain_types::PublicKey([0; 32])),
                    limit,
                )?
                .into_iter()
                .filter_map(|k| match k {
                    GridKey::Node(n) => Some(n),
                    _ => None,
                })
                .collect(),
        };
        self.load(ids, |s, id| s.node(id))
    }

    /// Live reservations of `node` with ids after `after`, at most `limit`.
    pub fn node_reservations(
        &self,
        node: NodeId,
        after: ReservationId,
        limit: usize,
    ) -> Result<Vec<Reservation>, StoreError> {
        let ids = self
            .grid_keys_limited(
                &GridKey::NodeReservation(node, after.saturating_add(1)),
                &GridKey::NodeReservation(node.saturating_add(1), 0),
                limit,
            )?
            .into_iter()
            .filter_map(|k| match k {
                GridKey::NodeReservation(_, r) => Some(r),
                _ => None,
            })
            .collect();
        self.load(ids, |s, id| s.reservation(id))
    }

    /// Reservations (ended ones too) owned by `owner` with ids after `after`.
    pub fn owner_reservations(
        &self,
        owner: &Address,
        after: ReservationId,
        limit: usize,
    ) -> Result<Vec<Reservation>, StoreError> {
        let ids = self
            .grid_keys_limited(
                &GridKey::OwnerReservation(*owner, after.saturating_add(1)),
                &GridKey::OwnerReservation(*owner, ReservationId::MAX),
                limit,
            )?
            .into_iter()
            .filter_map(|k| match k {
                GridKey::OwnerReservation(_, r) => Some(r),
                _ => None,
            })
            .collect();
        self.load(ids, |s, id| s.reservation(id))
    }

    fn load<I: Copy, T>(
        &self,
        ids: Vec<I>,
        get: impl Fn(&StoreView<'_>, I) -> Option<T>,
    ) -> Result<Vec<T>, StoreError> {
        let view = self.view();
        let out = ids.into_iter().filter_map(|id| get(&view, id)).collect();
        view.finish()?;
        Ok(out)
    }

    /// Main-chain events after `after` (exclusive; `None`: from genesis), of `node` if
    /// given, at most `limit`.
    pub fn events(
        &self,
        node: Option<NodeId>,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<ChainEvent>, StoreError> {
        let t = &self.inner.tables;
        let mut out = Vec::new();
        match node {
            None => {
                let lower = match after {
                    Some(p) => Bound::Excluded(key::<GridEvents>(&p)),
                    None => Bound::Unbounded,
                };
                for item in t.range::<GridEvents>(&[], lower, Bound::Unbounded) {
                    if out.len() >= limit {
                        break;
                    }
                    let (position, stored) = item?;
                    out.push(ChainEvent {
                        position,
                        block: stored.block,
                        event: stored.event,
                    });
                }
            }
            Some(node) => {
                let lower = match after {
                    Some(position) => {
                        Bound::Excluded(key::<NodeEvents>(&NodeEventKey { node, position }))
                    }
                    None => Bound::Unbounded,
                };
                let partial = node.to_be_bytes();
                for item in t.range::<NodeEvents>(&partial, lower, Bound::Unbounded) {
                    if out.len() >= limit {
                        break;
                    }
                    let (k, ()) = item?;
                    // An index entry whose event is gone was removed in the same batch;
                    // a reader straddling an undo may see one: skip it.
                    if let Some(stored) = t.get::<GridEvents>(&k.position)? {
                        out.push(ChainEvent {
                            position: k.position,
                            block: stored.block,
                            event: stored.event,
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Read errors are recorded (see [`StoreView`]).
impl GridView for StoreView<'_> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.record(self.store().grid_value(key))
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.record(self.store().grid_keys(from, to).map(Some))
            .unwrap_or_default()
    }
}

/// Read errors are logged and read as absent (see the module docs of `view`).
impl GridView for Store {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.grid_value(key).unwrap_or_else(|e| {
            tracing::error!(error = %e, "store read failed; treating the grid record as absent");
            None
        })
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.grid_keys(from, to).unwrap_or_else(|e| {
            tracing::error!(error = %e, "store read failed; treating the grid range as empty");
            Vec::new()
        })
    }
}
