//! Every table of the store, declared in one place (reth's `tables!`, Zebra's column
//! families). All tables live in ONE sled tree and are told apart by a one-byte key prefix,
//! so a block's whole effect is one batch applied atomically (to the write-back cache, and
//! from there to sled at a checkpoint). Block bodies and undo data are not here: they are
//! records in the block files, which `Blocks` and `Undo` point into.
//!
//! Keys: `prefix ‖ key bytes`, integers big-endian so that byte order is numeric order.
//! Values: the consensus codec ([`tfchain_types::codec`]), decoded with a per-table size
//! limit; bytes that do not decode are reported as [`StoreError::Corrupt`], never a panic.

use super::error::StoreError;
use super::segments::{FileLoc, FilePos};
use super::types::{
    BlockIndexEntry, CommitRecord, EventPosition, HistoryEntry, IndexedTip, StoredEquivocation,
    StoredEvent, Totals, TxSpot,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::{CoinEntry, StakeEntry};
use tfchain_contracts::{GridKey, GridValue};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{
    codec, Address, AddressKind, BlockId, GridEvent, Hash, Height, OutputId, TxId,
};

/// A table: a key prefix, a key type and a value type.
pub(crate) trait Table {
    /// The first byte of every key of this table.
    const PREFIX: u8;
    /// The name used in error messages and logs.
    const NAME: &'static str;
    /// Largest encoded value accepted when decoding (bounds allocation on bad bytes).
    const VALUE_LIMIT: usize;
    type Key: KeyCodec;
    type Value: Serialize + DeserializeOwned;
}

/// How a key type is laid out after the table prefix.
pub(crate) trait KeyCodec: Sized {
    fn write_key(&self, out: &mut Vec<u8>);
    /// Parses the bytes after the prefix; `None` when they have the wrong shape.
    fn read_key(bytes: &[u8]) -> Option<Self>;
}

/// Largest encoded block diff kept as undo data. A diff can be larger than its block (a
/// spent output carries its whole condition, the input only a signature), so this is a
/// generous multiple of the block limit; it only bounds allocation on corrupt bytes.
const UNDO_LIMIT: usize = 32 * MAX_BLOCK_SIZE;
/// Largest coin or blockstake entry (a 32-address multisig condition is ~1.1 KB).
const OUTPUT_LIMIT: usize = 16 * 1024;
/// Small fixed-shape records (metadata, index entries, locations).
const SMALL_LIMIT: usize = 4 * 1024;

macro_rules! tables {
    ($( $(#[$doc:meta])* $name:ident = $prefix:literal, $key:ty => $value:ty, limit $limit:expr; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub(crate) struct $name;
            impl Table for $name {
                const PREFIX: u8 = $prefix;
                const NAME: &'static str = stringify!($name);
                const VALUE_LIMIT: usize = $limit;
                type Key = $key;
                type Value = $value;
            }
        )*
        /// Every table's prefix and name, for the uniqueness test and diagnostics.
        #[allow(dead_code)]
        pub(crate) const ALL_TABLES: &[(u8, &str)] = &[$(($prefix, stringify!($name))),*];
    };
}

tables! {
    /// `()` → schema version (u32). Written once when the store is created.
    SchemaVersion = 0x00, () => u32, limit SMALL_LIMIT;
    /// `()` → the genesis BlockId: which network this data dir belongs to.
    GenesisId = 0x01, () => BlockId, limit SMALL_LIMIT;
    /// `()` → the BlockId of the main-chain tip.
    Tip = 0x02, () => BlockId, limit SMALL_LIMIT;
    /// `()` → running totals at the tip: unspent coins and blockstakes, escrow, earnings.
    RunningTotals = 0x03, () => Totals, limit SMALL_LIMIT;
    /// `()` → whether the store keeps the explorer indexes (`TxIndex`, `AddressHistory`,
    /// `AddressOutputs`). Written when the store is created or the indexes are dropped.
    ExplorerIndex = 0x04, () => bool, limit SMALL_LIMIT;
    /// `()` → how far the block files reached at the last checkpoint: the commit records
    /// after it are replayed on open.
    FlushPoint = 0x05, () => FilePos, limit SMALL_LIMIT;
    /// `()` → the last block the explorer indexer indexed. Written by the indexer only,
    /// with its entries, straight to the database (never through the state cache).
    IndexTip = 0x06, () => IndexedTip, limit SMALL_LIMIT;
    /// BlockId → where the full block is in the block files (main chain and side blocks
    /// alike).
    Blocks = 0x10, BlockId => FileLoc, limit SMALL_LIMIT;
    /// BlockId → its metadata, parent and status.
    BlockIndex = 0x11, BlockId => BlockIndexEntry, limit SMALL_LIMIT;
    /// Height (BE) → BlockId of the main chain.
    Heights = 0x12, Height => BlockId, limit SMALL_LIMIT;
    /// BlockId → where its commit record (with the undo data: the diff and the totals
    /// after the block) is in the block files; main chain only.
    Undo = 0x13, BlockId => FileLoc, limit SMALL_LIMIT;
    /// height BE ‖ BlockId → `()`: the stored blocks that are not on the main chain (side
    /// blocks, blocks a reorganisation undid, invalid ones), by height, so that those
    /// that can never be chosen again are forgotten, also after a restart.
    SideHeights = 0x15, SideKey => (), limit SMALL_LIMIT;
    /// BlockId → its header and signature (for header sync without decoding bodies).
    Headers = 0x14, BlockId => SignedHeader, limit SMALL_LIMIT;
    /// OutputId → unspent coin output.
    Coins = 0x20, OutputId => CoinEntry, limit OUTPUT_LIMIT;
    /// OutputId → unspent blockstake output.
    Stakes = 0x21, OutputId => StakeEntry, limit OUTPUT_LIMIT;
    /// TxId → the height and position of the transaction on the main chain.
    TxIndex = 0x30, TxId => TxSpot, limit SMALL_LIMIT;
    /// address(33) ‖ height BE → what each transaction of that main-chain block (and its
    /// payouts) did to the address, by position: one entry per address and block, so a
    /// busy address costs one write per block, not one per transaction.
    AddressHistory = 0x31, HistoryBlockKey => Vec<(u32, HistoryEntry)>, limit UNDO_LIMIT;
    /// address(33) ‖ kind ‖ height BE → the unspent outputs of that kind the block at that
    /// height created for the address, by ID (one entry per address and block, not one per
    /// output).
    AddressOutputs = 0x32, OutputGroupKey => Vec<OutputId>, limit UNDO_LIMIT;
    /// height BE ‖ stake output → two headers signed for one stake output at one height.
    Equivocations = 0x40, EquivocationKey => StoredEquivocation, limit SMALL_LIMIT;
    /// [`GridKey::storage_key`] → the capacity market's records and indexes (§7): farms,
    /// nodes, reservations, the expiry index. Consensus state, changed by block diffs.
    GridState = 0x50, GridKey => GridValue, limit OUTPUT_LIMIT;
    /// height BE ‖ index BE → a main-chain grid event (§7.5), in order.
    GridEvents = 0x51, EventPosition => StoredEvent, limit OUTPUT_LIMIT;
    /// node BE ‖ height BE ‖ index BE → `()`: the events that name a node.
    NodeEvents = 0x52, NodeEventKey => (), limit SMALL_LIMIT;
    /// BlockId → the grid events of a block that was undone (reorganisation, rollback,
    /// repair), kept so that a reader whose cursor names it learns they were reverted
    /// (§7.5). Written in the undo's batch, removed when the block rejoins the main chain.
    SideEvents = 0x53, BlockId => Vec<GridEvent>, limit UNDO_LIMIT;
}

/// The prefixes of the explorer indexes, which a store may do without; the indexer alone
/// writes them.
pub(crate) const EXPLORER_PREFIXES: [u8; 4] = [
    IndexTip::PREFIX,
    TxIndex::PREFIX,
    AddressHistory::PREFIX,
    AddressOutputs::PREFIX,
];

/// `prefix ‖ key`.
pub(crate) fn key<T: Table>(k: &T::Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 72);
    out.push(T::PREFIX);
    k.write_key(&mut out);
    out
}

/// The encoded value.
pub(crate) fn value<T: Table>(v: &T::Value) -> Vec<u8> {
    codec::encode(v)
}

/// Decodes a value read under `raw_key`, mapping failure to [`StoreError::Corrupt`].
pub(crate) fn decode_value<T: Table>(raw_key: &[u8], bytes: &[u8]) -> Result<T::Value, StoreError> {
    decode_limited::<T::Value>(bytes, T::VALUE_LIMIT).map_err(|detail| StoreError::Corrupt {
        table: T::NAME,
        key: hex::encode(raw_key),
        detail,
    })
}

/// Parses a raw key (prefix included) of table `T`.
pub(crate) fn decode_key<T: Table>(raw_key: &[u8]) -> Result<T::Key, StoreError> {
    raw_key
        .split_first()
        .filter(|(p, _)| **p == T::PREFIX)
        .and_then(|(_, rest)| T::Key::read_key(rest))
        .ok_or_else(|| StoreError::Corrupt {
            table: T::NAME,
            key: hex::encode(raw_key),
            detail: "malformed key".into(),
        })
}

/// Decodes a commit record read from the block files.
pub(crate) fn decode_commit(bytes: &[u8]) -> Result<CommitRecord, String> {
    decode_limited::<CommitRecord>(bytes, UNDO_LIMIT)
}

/// `codec::decode` with a run-time limit (the codec takes it as a const parameter).
fn decode_limited<V: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<V, String> {
    let r = match limit {
        SMALL_LIMIT => codec::decode::<V, SMALL_LIMIT>(bytes),
        OUTPUT_LIMIT => codec::decode::<V, OUTPUT_LIMIT>(bytes),
        MAX_BLOCK_SIZE => codec::decode::<V, MAX_BLOCK_SIZE>(bytes),
        _ => codec::decode::<V, UNDO_LIMIT>(bytes),
    };
    r.map_err(|e| e.to_string())
}

impl KeyCodec for () {
    fn write_key(&self, _: &mut Vec<u8>) {}
    fn read_key(bytes: &[u8]) -> Option<Self> {
        bytes.is_empty().then_some(())
    }
}

impl KeyCodec for u64 {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }
}

fn read_hash(bytes: &[u8]) -> Option<Hash> {
    Some(Hash(bytes.try_into().ok()?))
}

macro_rules! hash_key {
    ($t:ident) => {
        impl KeyCodec for $t {
            fn write_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(self.as_bytes());
            }
            fn read_key(bytes: &[u8]) -> Option<Self> {
                read_hash(bytes).map($t)
            }
        }
    };
}
hash_key!(BlockId);
hash_key!(TxId);
hash_key!(OutputId);

/// The 33 key bytes of an address (`type ‖ hash`).
pub(crate) fn address_bytes(a: &Address) -> [u8; 33] {
    a.to_bytes()
}

fn read_address(bytes: &[u8]) -> Option<Address> {
    let (kind, hash) = bytes.split_first()?;
    Some(Address {
        kind: AddressKind::from_byte(*kind).ok()?,
        hash: read_hash(hash)?,
    })
}

/// One address-history entry's place: the address, the height and the position in the
/// block (the transaction's index, or the transaction count for the payouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HistoryKey {
    pub address: Address,
    pub height: Height,
    pub position: u32,
}

impl HistoryKey {
    /// The [`AddressHistory`] entry it belongs to.
    pub fn block_key(&self) -> HistoryBlockKey {
        HistoryBlockKey {
            address: self.address,
            height: self.height,
        }
    }
}

/// Key of [`AddressHistory`]: an address and a height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HistoryBlockKey {
    pub address: Address,
    pub height: Height,
}

impl KeyCodec for HistoryBlockKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&address_bytes(&self.address));
        out.extend_from_slice(&self.height.to_be_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 33 + 8 {
            return None;
        }
        Some(HistoryBlockKey {
            address: read_address(&bytes[..33])?,
            height: u64::from_be_bytes(bytes[33..41].try_into().ok()?),
        })
    }
}

/// Kind byte of an [`OutputGroupKey`].
pub(crate) const KIND_COIN: u8 = 0;
pub(crate) const KIND_STAKE: u8 = 1;

/// Key of [`AddressOutputs`]: an address, an output kind and the height of the block that
/// created the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OutputGroupKey {
    pub address: Address,
    /// [`KIND_COIN`] or [`KIND_STAKE`].
    pub kind: u8,
    pub height: Height,
}

impl KeyCodec for OutputGroupKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&address_bytes(&self.address));
        out.push(self.kind);
        out.extend_from_slice(&self.height.to_be_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 33 + 1 + 8 {
            return None;
        }
        let kind = bytes[33];
        if kind != KIND_COIN && kind != KIND_STAKE {
            return None;
        }
        Some(OutputGroupKey {
            address: read_address(&bytes[..33])?,
            kind,
            height: u64::from_be_bytes(bytes[34..42].try_into().ok()?),
        })
    }
}

/// Key of [`SideHeights`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SideKey {
    pub height: Height,
    pub id: BlockId,
}

impl KeyCodec for SideKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(self.id.as_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 8 + 32 {
            return None;
        }
        Some(SideKey {
            height: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            id: BlockId(read_hash(&bytes[8..])?),
        })
    }
}

/// Key of [`Equivocations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EquivocationKey {
    pub height: Height,
    pub stake_output: OutputId,
}

impl KeyCodec for EquivocationKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(self.stake_output.as_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 8 + 32 {
            return None;
        }
        Some(EquivocationKey {
            height: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            stake_output: OutputId(read_hash(&bytes[8..])?),
        })
    }
}

impl KeyCodec for GridKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.storage_key());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        GridKey::from_storage_key(bytes)
    }
}

impl KeyCodec for EventPosition {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 12 {
            return None;
        }
        Some(EventPosition {
            height: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            index: u32::from_be_bytes(bytes[8..].try_into().ok()?),
        })
    }
}

/// Key of [`NodeEvents`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeEventKey {
    pub node: u32,
    pub position: EventPosition,
}

impl KeyCodec for NodeEventKey {
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.node.to_be_bytes());
        self.position.write_key(out);
    }
    fn read_key(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 16 {
            return None;
        }
        Some(NodeEventKey {
            node: u32::from_be_bytes(bytes[..4].try_into().ok()?),
            position: EventPosition::read_key(&bytes[4..])?,
        })
    }
}

/// The raw key prefix of every entry of `T` whose key starts with `partial`'s bytes.
pub(crate) fn prefix<T: Table>(partial: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + partial.len());
    out.push(T::PREFIX);
    out.extend_from_slice(partial);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for (p, name) in ALL_TABLES {
            assert!(seen.insert(*p), "prefix 0x{p:02x} of {name} is used twice");
        }
    }

    #[test]
    fn keys_round_trip_and_sort_numerically() {
        let a = Address {
            kind: AddressKind::SingleKey,
            hash: Hash([7; 32]),
        };
        let k1 = HistoryBlockKey {
            address: a,
            height: 255,
        };
        let k2 = HistoryBlockKey {
            address: a,
            height: 256,
        };
        let (b1, b2) = (key::<AddressHistory>(&k1), key::<AddressHistory>(&k2));
        assert!(b1 < b2, "big-endian heights sort numerically");
        assert_eq!(decode_key::<AddressHistory>(&b1).ok(), Some(k1));
        let ok = OutputGroupKey {
            address: a,
            kind: KIND_STAKE,
            height: 9,
        };
        assert_eq!(
            decode_key::<AddressOutputs>(&key::<AddressOutputs>(&ok)).ok(),
            Some(ok)
        );
        assert!(decode_key::<Heights>(&[Heights::PREFIX, 1, 2]).is_err());
    }
}
