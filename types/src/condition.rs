//! Conditions lock outputs; fulfillments open them (PROTOCOL.md §3). The rules that decide
//! whether a fulfillment satisfies a condition live in `tfchain-consensus`.

use crate::address::Address;
use crate::codec::bounded;
use crate::hash::Hash;
use crate::keys::{PublicKey, Signature};
use crate::limits::MAX_MULTISIG_KEYS;
use serde::{Deserialize, Serialize};

/// Time locks below this are block heights, from it on Unix timestamps (§3).
pub const LOCK_TIME_THRESHOLD: u64 = 500_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Spendable by the key that hashes to the address (which must be a 0x01 address).
    Address(Address),
    MultiSig(MultiSigCondition),
    /// The inner condition, once the lock has passed. A time lock never wraps another
    /// time lock or a swap, so conditions cannot nest and decoding cannot recurse.
    TimeLock {
        until: u64,
        inner: LockedCondition,
    },
    AtomicSwap(AtomicSwapCondition),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockedCondition {
    Address(Address),
    MultiSig(MultiSigCondition),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiSigCondition {
    pub min: u64,
    #[serde(deserialize_with = "bounded::<_, _, MAX_MULTISIG_KEYS>")]
    pub addresses: Vec<Address>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomicSwapCondition {
    pub sender: Address,
    pub receiver: Address,
    /// SHA-256 of the 32-byte secret.
    pub hashed_secret: Hash,
    pub timeout: u64,
}

/// A 32-byte atomic-swap secret.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Secret(pub [u8; 32]);
crate::hex_newtype_serde!(Secret, 32);

impl Secret {
    /// SHA-256 of the secret, as carried in `AtomicSwapCondition::hashed_secret`.
    pub fn hashed(&self) -> Hash {
        use sha2::Digest;
        Hash(sha2::Sha256::digest(self.0).into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySignature {
    pub public_key: PublicKey,
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfillment {
    Signature(KeySignature),
    MultiSignature(
        #[serde(deserialize_with = "bounded::<_, _, MAX_MULTISIG_KEYS>")] Vec<KeySignature>,
    ),
    Claim {
        public_key: PublicKey,
        signature: Signature,
        secret: Secret,
    },
    Refund {
        public_key: PublicKey,
        signature: Signature,
    },
}

impl MultiSigCondition {
    pub fn address(&self) -> Address {
        Address::multisig(self.min, &self.addresses)
    }
}

impl AtomicSwapCondition {
    pub fn address(&self) -> Address {
        Address::atomic_swap(
            &self.sender,
            &self.receiver,
            self.hashed_secret.as_bytes(),
            self.timeout,
        )
    }
}

impl LockedCondition {
    pub fn address(&self) -> Address {
        match self {
            LockedCondition::Address(a) => *a,
            LockedCondition::MultiSig(m) => m.address(),
        }
    }
}

impl Condition {
    /// The address this condition pays to (a time lock has its inner condition's address).
    pub fn address(&self) -> Address {
        match self {
            Condition::Address(a) => *a,
            Condition::MultiSig(m) => m.address(),
            Condition::TimeLock { inner, .. } => inner.address(),
            Condition::AtomicSwap(s) => s.address(),
        }
    }

    /// The single-key address that controls this condition, if it is one key
    /// (possibly behind a time lock): what a block creator must be (§5.7.3).
    pub fn single_key(&self) -> Option<(Address, Option<u64>)> {
        match self {
            Condition::Address(a) => Some((*a, None)),
            Condition::TimeLock {
                until,
                inner: LockedCondition::Address(a),
            } => Some((*a, Some(*until))),
            _ => None,
        }
    }
}

impl Fulfillment {
    /// The fulfillment with every signature and secret blanked (§4.2 `unsigned`).
    pub fn blanked(&self) -> Fulfillment {
        let blank = |ks: &KeySignature| KeySignature {
            public_key: ks.public_key,
            signature: Signature::ZERO,
        };
        match self {
            Fulfillment::Signature(ks) => Fulfillment::Signature(blank(ks)),
            Fulfillment::MultiSignature(v) => {
                Fulfillment::MultiSignature(v.iter().map(blank).collect())
            }
            Fulfillment::Claim { public_key, .. } => Fulfillment::Claim {
                public_key: *public_key,
                signature: Signature::ZERO,
                secret: Secret::default(),
            },
            Fulfillment::Refund { public_key, .. } => Fulfillment::Refund {
                public_key: *public_key,
                signature: Signature::ZERO,
            },
        }
    }
}
