//! The capacity market's state as key → value records (PROTOCOL.md §6, §7), so that one
//! diff format carries every change, undoes exactly and maps onto any ordered store.
//!
//! [`GridKey`]'s derived order is the order of its [`GridKey::storage_key`] bytes (variant
//! tag, then big-endian fields), so range scans agree between memory and disk.

use serde::{Deserialize, Serialize};
use tfchain_types::{
    Address, Farm, FarmId, FarmName, Height, Node, NodeId, PublicKey, Reservation, ReservationId,
};

/// How many farms, nodes and reservations were ever created: the next id is `count + 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCounters {
    pub farms: u32,
    pub nodes: u32,
    pub reservations: u64,
}

/// A record's key. Index keys (`FarmNode`, `NodeReservation`, `OwnerReservation`,
/// `Expiry`) map to [`GridValue::Unit`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GridKey {
    Counters,
    Farm(FarmId),
    FarmName(FarmName),
    Node(NodeId),
    NodeKey(PublicKey),
    /// The nodes of a farm (removed ones included).
    FarmNode(FarmId, NodeId),
    Reservation(ReservationId),
    /// The live (not ended) reservations of a node.
    NodeReservation(NodeId, ReservationId),
    /// Every reservation of an owner (by the owner condition's address), ended ones included.
    OwnerReservation(Address, ReservationId),
    /// §7.4: the reservations to process when applying the block at this height.
    Expiry(Height, ReservationId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GridValue {
    Unit,
    Counters(GridCounters),
    Farm(Farm),
    FarmId(FarmId),
    Node(Node),
    NodeId(NodeId),
    Reservation(Reservation),
}

/// One record changed by a block: applying sets `after`, undoing sets `before`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridChange {
    pub key: GridKey,
    pub before: Option<GridValue>,
    pub after: Option<GridValue>,
}

impl GridKey {
    fn tag(&self) -> u8 {
        match self {
            GridKey::Counters => 0,
            GridKey::Farm(_) => 1,
            GridKey::FarmName(_) => 2,
            GridKey::Node(_) => 3,
            GridKey::NodeKey(_) => 4,
            GridKey::FarmNode(..) => 5,
            GridKey::Reservation(_) => 6,
            GridKey::NodeReservation(..) => 7,
            GridKey::OwnerReservation(..) => 8,
            GridKey::Expiry(..) => 9,
        }
    }

    /// Order-preserving bytes: the variant tag, then fixed-width big-endian fields (a farm
    /// name, the only variable field, is last and never range-scanned).
    pub fn storage_key(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(48);
        k.push(self.tag());
        match self {
            GridKey::Counters => {}
            GridKey::Farm(f) => k.extend(f.to_be_bytes()),
            GridKey::FarmName(n) => k.extend(n.as_str().as_bytes()),
            GridKey::Node(n) => k.extend(n.to_be_bytes()),
            GridKey::NodeKey(pk) => k.extend(pk.0),
            GridKey::FarmNode(f, n) => {
                k.extend(f.to_be_bytes());
                k.extend(n.to_be_bytes());
            }
            GridKey::Reservation(r) => k.extend(r.to_be_bytes()),
            GridKey::NodeReservation(n, r) => {
                k.extend(n.to_be_bytes());
                k.extend(r.to_be_bytes());
            }
            GridKey::OwnerReservation(a, r) => {
                k.push(a.kind.byte());
                k.extend(a.hash.as_bytes());
                k.extend(r.to_be_bytes());
            }
            GridKey::Expiry(h, r) => {
                k.extend(h.to_be_bytes());
                k.extend(r.to_be_bytes());
            }
        }
        k
    }
}

impl GridKey {
    /// Parses [`GridKey::storage_key`] bytes; `None` when they have the wrong shape.
    pub fn from_storage_key(bytes: &[u8]) -> Option<GridKey> {
        let (tag, rest) = bytes.split_first()?;
        let u32_at = |b: &[u8], i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
        };
        let u64_at = |b: &[u8], i: usize| -> Option<u64> {
            Some(u64::from_be_bytes(b.get(i..i + 8)?.try_into().ok()?))
        };
        let exact = |n: usize| (rest.len() == n).then_some(());
        Some(match tag {
            0 => {
                exact(0)?;
                GridKey::Counters
            }
            1 => {
                exact(4)?;
                GridKey::Farm(u32_at(rest, 0)?)
            }
            2 => GridKey::FarmName(FarmName(String::from_utf8(rest.to_vec()).ok()?)),
            3 => {
                exact(4)?;
                GridKey::Node(u32_at(rest, 0)?)
            }
            4 => {
                exact(32)?;
                GridKey::NodeKey(PublicKey(rest.try_into().ok()?))
            }
            5 => {
                exact(8)?;
                GridKey::FarmNode(u32_at(rest, 0)?, u32_at(rest, 4)?)
            }
            6 => {
                exact(8)?;
                GridKey::Reservation(u64_at(rest, 0)?)
            }
            7 => {
                exact(12)?;
                GridKey::NodeReservation(u32_at(rest, 0)?, u64_at(rest, 4)?)
            }
            8 => {
                exact(33 + 8)?;
                let kind = tfchain_types::AddressKind::from_byte(rest[0]).ok()?;
                let hash = tfchain_types::Hash(rest[1..33].try_into().ok()?);
                GridKey::OwnerReservation(Address { kind, hash }, u64_at(rest, 33)?)
            }
            9 => {
                exact(16)?;
                GridKey::Expiry(u64_at(rest, 0)?, u64_at(rest, 8)?)
            }
            _ => return None,
        })
    }
}

/// Read access to the grid state. `range` returns the keys in `[from, to)` in order; it
/// backs the index scans ([`GridReads`]).
pub trait GridView {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue>;
    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey>;
}

/// Typed reads over any [`GridView`].
pub trait GridReads: GridView {
    fn counters(&self) -> GridCounters {
        match self.grid_get(&GridKey::Counters) {
            Some(GridValue::Counters(c)) => c,
            _ => GridCounters::default(),
        }
    }

    fn farm(&self, id: FarmId) -> Option<Farm> {
        match self.grid_get(&GridKey::Farm(id))? {
            GridValue::Farm(f) => Some(f),
            _ => None,
        }
    }

    fn farm_by_name(&self, name: &FarmName) -> Option<FarmId> {
        match self.grid_get(&GridKey::FarmName(name.clone()))? {
            GridValue::FarmId(f) => Some(f),
            _ => None,
        }
    }

    fn node(&self, id: NodeId) -> Option<Node> {
        match self.grid_get(&GridKey::Node(id))? {
            GridValue::Node(n) => Some(n),
            _ => None,
        }
    }

    fn node_by_key(&self, key: &PublicKey) -> Option<NodeId> {
        match self.grid_get(&GridKey::NodeKey(*key))? {
            GridValue::NodeId(n) => Some(n),
            _ => None,
        }
    }

    fn reservation(&self, id: ReservationId) -> Option<Reservation> {
        match self.grid_get(&GridKey::Reservation(id))? {
            GridValue::Reservation(r) => Some(r),
            _ => None,
        }
    }

    /// The node's live reservations, by id.
    fn node_reservations(&self, node: NodeId) -> Vec<ReservationId> {
        let from = GridKey::NodeReservation(node, 0);
        let to = match node.checked_add(1) {
            Some(n) => GridKey::NodeReservation(n, 0),
            None => GridKey::OwnerReservation(Address::NIL, 0),
        };
        self.grid_range(&from, &to)
            .into_iter()
            .filter_map(|k| match k {
                GridKey::NodeReservation(_, r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// The reservations indexed to be processed at `height` (§7.4), by id.
    fn expiring_at(&self, height: Height) -> Vec<ReservationId> {
        let from = GridKey::Expiry(height, 0);
        let to = match height.checked_add(1) {
            Some(h) => GridKey::Expiry(h, 0),
            None => GridKey::Expiry(Height::MAX, ReservationId::MAX),
        };
        self.grid_range(&from, &to)
            .into_iter()
            .filter_map(|k| match k {
                GridKey::Expiry(_, r) => Some(r),
                _ => None,
            })
            .collect()
    }
}

impl<V: GridView + ?Sized> GridReads for V {}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::{AddressKind, Hash};

    #[test]
    fn storage_keys_round_trip_and_sort_like_the_keys() {
        let a = Address {
            kind: AddressKind::SingleKey,
            hash: Hash([3; 32]),
        };
        let keys = vec![
            GridKey::Counters,
            GridKey::Farm(1),
            GridKey::Farm(256),
            GridKey::FarmName(FarmName("alpha".into())),
            GridKey::Node(7),
            GridKey::NodeKey(PublicKey([9; 32])),
            GridKey::FarmNode(1, 2),
            GridKey::FarmNode(2, 1),
            GridKey::Reservation(1),
            GridKey::Reservation(1 << 40),
            GridKey::NodeReservation(1, 5),
            GridKey::NodeReservation(1, 300),
            GridKey::NodeReservation(2, 0),
            GridKey::OwnerReservation(a, 4),
            GridKey::Expiry(10, 3),
            GridKey::Expiry(256, 1),
        ];
        for w in keys.windows(2) {
            assert!(w[0] < w[1]);
            assert!(w[0].storage_key() < w[1].storage_key(), "{w:?}");
        }
        for k in &keys {
            assert_eq!(
                GridKey::from_storage_key(&k.storage_key()).as_ref(),
                Some(k)
            );
        }
        assert_eq!(GridKey::from_storage_key(&[1, 0, 0]), None);
        assert_eq!(GridKey::from_storage_key(&[42]), None);
    }
}
