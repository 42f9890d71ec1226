//! BLAKE2b-256 hashing, domain tags and the hash-based identifiers (PROTOCOL.md §1, §4.2).

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde::Serialize;

type Blake2b256 = Blake2b<U32>;

/// A 32-byte BLAKE2b-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);
crate::hex_newtype_serde!(Hash, 32);

impl Hash {
    pub const ZERO: Hash = Hash([0u8; 32]);

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Domain tags of PROTOCOL.md §1: every hash of an encoded object starts with one.
pub mod tags {
    pub const TXID: &[u8] = b"tfchain/txid/";
    pub const WTXID: &[u8] = b"tfchain/wtxid/";
    pub const SIGHASH: &[u8] = b"tfchain/sighash/";
    pub const OUTPUT: &[u8] = b"tfchain/output/";
    pub const PAYOUT: &[u8] = b"tfchain/payout/";
    pub const BLOCK: &[u8] = b"tfchain/block/";
    pub const KERNEL: &[u8] = b"tfchain/kernel/";
}

/// Incremental BLAKE2b-256; also an `io::Write` so values can be encoded straight into it.
#[derive(Clone, Default)]
pub struct Hasher(Blake2b256);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// A hasher that has already absorbed the domain tag.
    pub fn tagged(tag: &[u8]) -> Self {
        let mut h = Self::new();
        h.update(tag);
        h
    }

    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(bytes);
        self
    }

    /// Absorbs the consensus encoding (§2) of `value`.
    pub fn update_encoded<T: Serialize + ?Sized>(&mut self, value: &T) -> &mut Self {
        crate::codec::encode_into(value, self);
        self
    }

    pub fn finish(self) -> Hash {
        Hash(self.0.finalize().into())
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// BLAKE2b-256 of raw bytes (no tag).
pub fn blake2b(bytes: &[u8]) -> Hash {
    let mut h = Hasher::new();
    h.update(bytes);
    h.finish()
}

/// `H(tag ‖ encode(value))`, the hash of every encoded object (§1).
pub fn tagged_hash<T: Serialize + ?Sized>(tag: &[u8], value: &T) -> Hash {
    let mut h = Hasher::tagged(tag);
    h.update_encoded(value);
    h.finish()
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub Hash);

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Hash::deserialize(d).map($name)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                s.parse().map($name)
            }
        }
        impl $name {
            pub const ZERO: $name = $name(Hash::ZERO);
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0 .0
            }
        }
    };
}

id_type!(
    /// `H("tfchain/block/" ‖ encode(header))` (§5.1).
    BlockId
);
id_type!(
    /// `H("tfchain/txid/" ‖ encode(unsigned(tx)))` (§4.2): fixed before signing.
    TxId
);
id_type!(
    /// Identifies a coin or blockstake output (§4.2).
    OutputId
);

use serde::Deserialize;

/// The kind byte of an `OutputId` (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Coin,
    BlockStake,
}

impl OutputKind {
    pub fn byte(self) -> u8 {
        match self {
            OutputKind::Coin => 0,
            OutputKind::BlockStake => 1,
        }
    }
}

impl OutputId {
    /// `H("tfchain/output/" ‖ TxId ‖ kind ‖ u64le(i))`.
    pub fn for_tx(txid: &TxId, kind: OutputKind, index: u64) -> OutputId {
        let mut h = Hasher::tagged(tags::OUTPUT);
        h.update(txid.as_bytes())
            .update(&[kind.byte()])
            .update(&index.to_le_bytes());
        OutputId(h.finish())
    }

    /// `H("tfchain/payout/" ‖ BlockId ‖ u64le(i))`: outputs the chain creates itself.
    pub fn for_payout(block: &BlockId, index: u64) -> OutputId {
        let mut h = Hasher::tagged(tags::PAYOUT);
        h.update(block.as_bytes()).update(&index.to_le_bytes());
        OutputId(h.finish())
    }
}
