//! Addresses (`UnlockHash`, PROTOCOL.md §3), byte-compatible with Rivine/tfchain v1:
//! `type: u8` + `hash`, shown as 78 hex characters with a 6-byte checksum.

use crate::hash::{blake2b, Hash, Hasher};
use crate::keys::PublicKey;
use crate::merkle::merkle_root;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// 0x00: the all-zero address of the genesis header (§11). It has no string form and
    /// no condition may pay to it.
    Nil,
    /// 0x01: one ed25519 key.
    SingleKey,
    /// 0x02: an atomic swap (HTLC) contract.
    AtomicSwap,
    /// 0x03: a multisig condition.
    MultiSig,
}

impl AddressKind {
    pub fn byte(self) -> u8 {
        match self {
            AddressKind::Nil => 0,
            AddressKind::SingleKey => 1,
            AddressKind::AtomicSwap => 2,
            AddressKind::MultiSig => 3,
        }
    }

    pub fn from_byte(b: u8) -> Result<Self, AddressError> {
        match b {
            0 => Ok(AddressKind::Nil),
            1 => Ok(AddressKind::SingleKey),
            2 => Ok(AddressKind::AtomicSwap),
            3 => Ok(AddressKind::MultiSig),
            other => Err(AddressError::UnknownType(other)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: AddressKind,
    pub hash: Hash,
}

/// Why an address string (or encoded address) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("an address is 78 hex characters, got {0}")]
    WrongLength(usize),
    #[error("address is not valid hex")]
    BadHex,
    #[error("address type 0 (nil) is not a valid address")]
    NilType,
    #[error("address type 0 (nil) must have an all-zero hash")]
    NilWithHash,
    #[error("unknown address type 0x{0:02x}")]
    UnknownType(u8),
    #[error("address checksum does not match: check for a typo")]
    BadChecksum,
}

/// Length of the string form.
pub const ADDRESS_STRING_LEN: usize = 78;

impl Address {
    /// The all-zero address of the genesis header.
    pub const NIL: Address = Address {
        kind: AddressKind::Nil,
        hash: Hash::ZERO,
    };

    /// The 33 bytes `type ‖ hash` that Rivine hashes and sorts.
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.kind.byte();
        out[1..].copy_from_slice(self.hash.as_bytes());
        out
    }

    /// 0x01: `H(u64le(56) ‖ "ed25519" padded to 16 ‖ u64le(32) ‖ key)`.
    pub fn from_public_key(key: &PublicKey) -> Address {
        let mut h = Hasher::new();
        let mut algo = [0u8; 16];
        algo[..7].copy_from_slice(b"ed25519");
        h.update(&56u64.to_le_bytes())
            .update(&algo)
            .update(&32u64.to_le_bytes())
            .update(&key.0);
        Address {
            kind: AddressKind::SingleKey,
            hash: h.finish(),
        }
    }

    /// 0x03: merkle root over `u64le(n)`, the sorted 33-byte addresses, `u64le(min)`.
    pub fn multisig(min: u64, addresses: &[Address]) -> Address {
        let mut sorted: Vec<[u8; 33]> = addresses.iter().map(Address::to_bytes).collect();
        sorted.sort_unstable();
        let mut leaves: Vec<Vec<u8>> = Vec::with_capacity(sorted.len() + 2);
        leaves.push((addresses.len() as u64).to_le_bytes().to_vec());
        leaves.extend(sorted.iter().map(|a| a.to_vec()));
        leaves.push(min.to_le_bytes().to_vec());
        Address {
            kind: AddressKind::MultiSig,
            hash: merkle_root(&leaves),
        }
    }

    /// 0x02: `H(u64le(106) ‖ sender ‖ receiver ‖ hashed_secret ‖ u64le(timeout))`.
    pub fn atomic_swap(
        sender: &Address,
        receiver: &Address,
        hashed_secret: &[u8; 32],
        timeout: u64,
    ) -> Address {
        let mut h = Hasher::new();
        h.update(&106u64.to_le_bytes())
            .update(&sender.to_bytes())
            .update(&receiver.to_bytes())
            .update(hashed_secret)
            .update(&timeout.to_le_bytes());
        Address {
            kind: AddressKind::AtomicSwap,
            hash: h.finish(),
        }
    }

    fn checksum(&self) -> [u8; 6] {
        let full = blake2b(&self.to_bytes());
        let mut out = [0u8; 6];
        out.copy_from_slice(&full.as_bytes()[..6]);
        out
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            hex::encode(self.to_bytes()),
            hex::encode(self.checksum())
        )
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, AddressError> {
        if s.len() != ADDRESS_STRING_LEN {
            return Err(AddressError::WrongLength(s.len()));
        }
        let mut raw = [0u8; 39];
        hex::decode_to_slice(s, &mut raw).map_err(|_| AddressError::BadHex)?;
        let kind = AddressKind::from_byte(raw[0])?;
        if kind == AddressKind::Nil {
            return Err(AddressError::NilType);
        }
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&raw[1..33]);
        let addr = Address {
            kind,
            hash: Hash(hash),
        };
        if addr.checksum()[..] != raw[33..] {
            return Err(AddressError::BadChecksum);
        }
        Ok(addr)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            (self.kind.byte(), self.hash).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
            // The genesis header's all-zero reward address (§11) round-trips through JSON
            // (RPC shows block 0); user input still goes through `FromStr`, which refuses it.
            if s.len() == ADDRESS_STRING_LEN
                && s.starts_with("00")
                && *s == Address::NIL.to_string()
            {
                return Ok(Address::NIL);
            }
            s.parse().map_err(D::Error::custom)
        } else {
            let (kind, hash) = <(u8, Hash)>::deserialize(d)?;
            let kind = AddressKind::from_byte(kind).map_err(D::Error::custom)?;
            // §3: type 0 exists only as the all-zero address of the genesis header; any
            // other hash would be a value with no JSON form (found by fuzzing).
            if kind == AddressKind::Nil && hash != Hash::ZERO {
                return Err(D::Error::custom(AddressError::NilWithHash));
            }
            Ok(Address { kind, hash })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_reads_back_from_json_but_not_from_user_input() {
        let json = serde_json::to_string(&Address::NIL).expect("serializes");
        let back: Address =
            serde_json::from_str(&json).expect("the genesis header's address reads back");
        assert_eq!(back, Address::NIL);
        let text = Address::NIL.to_string();
        assert_eq!(text.parse::<Address>(), Err(AddressError::NilType));
        // A type-0 address with another hash is still refused in JSON.
        let mut other = Address::NIL;
        other.hash.0[0] = 1;
        assert!(serde_json::from_str::<Address>(&format!("\"{other}\"")).is_err());
    }
}
