//! Serde helpers for fixed-size byte arrays: lower-case hex in human-readable formats
//! (JSON), raw bytes with no length prefix in the consensus codec (PROTOCOL.md §2).

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserializer, Serializer};
use std::fmt;

/// Serializes `bytes` as hex (human-readable) or as a fixed-length tuple of bytes.
pub fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        s.serialize_str(&hex::encode(bytes))
    } else {
        let mut t = s.serialize_tuple(N)?;
        for b in bytes {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

/// Inverse of [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    if d.is_human_readable() {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        parse_hex::<N>(&s).map_err(D::Error::custom)
    } else {
        d.deserialize_tuple(N, ArrayVisitor::<N>)
    }
}

/// Parses exactly `N` bytes of hex, upper or lower case.
pub fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    if s.len() != 2 * N {
        return Err(format!(
            "expected {} hex characters, got {}",
            2 * N,
            s.len()
        ));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|e| format!("invalid hex: {e}"))?;
    Ok(out)
}

struct ArrayVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
        let mut out = [0u8; N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(i, &self))?;
        }
        Ok(out)
    }
}

/// Implements `Serialize`/`Deserialize` for a newtype over `[u8; N]` via this module,
/// plus `Display`/`Debug` as hex and `FromStr` from hex.
#[macro_export]
macro_rules! hex_newtype_serde {
    ($name:ident, $n:expr) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::bytes::serialize::<S, $n>(&self.0, s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::bytes::deserialize::<D, $n>(d).map($name)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.0))
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $crate::bytes::parse_hex::<$n>(s).map($name)
            }
        }
    };
}
