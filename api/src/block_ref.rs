//! [`BlockRef`]: names a block of the current chain by height or by ID.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use tfchain_types::{BlockId, Height};

/// A block of the node's current chain, named by its height or by its ID.
///
/// JSON: a non-negative integer is a height (`5`); a 64-character hex string is a block ID
/// (`"9f2c…"`). Anything else (`"abc"`, `-1`, `1.5`, `"5"`) is rejected with a message
/// saying which of the two was expected. On the command line ([`FromStr`]) digits are a
/// height and 64 hex characters an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockRef {
    /// The block at this height on the current chain (genesis is 0).
    Height(Height),
    /// The block with this ID, if it is on the current chain.
    Id(BlockId),
}

impl From<Height> for BlockRef {
    fn from(h: Height) -> Self {
        BlockRef::Height(h)
    }
}

impl From<BlockId> for BlockRef {
    fn from(id: BlockId) -> Self {
        BlockRef::Id(id)
    }
}

impl fmt::Display for BlockRef {
    /// `height 5` or `block 9f2c…` (the full ID): ready to put in a message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRef::Height(h) => write!(f, "height {h}"),
            BlockRef::Id(id) => write!(f, "block {id}"),
        }
    }
}

/// Why a string does not name a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a block height (digits, e.g. 42) or a block ID (64 hex characters), got {0:?}")]
pub struct BlockRefError(pub String);

impl FromStr for BlockRef {
    type Err = BlockRefError;

    /// Digits are a height; 64 hex characters are a block ID.
    fn from_str(s: &str) -> Result<Self, BlockRefError> {
        let s = s.trim();
        if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<Height>()
                .map(BlockRef::Height)
                .map_err(|_| BlockRefError(s.to_string()));
        }
        s.parse::<BlockId>()
            .map(BlockRef::Id)
            .map_err(|_| BlockRefError(s.to_string()))
    }
}

impl Serialize for BlockRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockRef::Height(h) => s.serialize_u64(*h),
            BlockRef::Id(id) => id.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for BlockRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BlockRefVisitor)
    }
}

struct BlockRefVisitor;

const EXPECTING: &str =
    "a block height (a non-negative integer) or a block ID (a string of 64 hex characters)";

impl<'de> Visitor<'de> for BlockRefVisitor {
    type Value = BlockRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<BlockRef, E> {
        Ok(BlockRef::Height(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<BlockRef, E> {
        u64::try_from(v).map(BlockRef::Height).map_err(|_| {
            E::custom(format!(
                "block height {v} is negative: expected {EXPECTING}"
            ))
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<BlockRef, E> {
        u64::try_from(v).map(BlockRef::Height).map_err(|_| {
            E::custom(format!(
                "block height {v} is too large: expected {EXPECTING}"
            ))
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<BlockRef, E> {
        u64::try_from(v).map(BlockRef::Height).map_err(|_| {
            E::custom(format!(
                "block height {v} is out of range: expected {EXPECTING}"
            ))
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<BlockRef, E> {
        Err(E::custom(format!(
            "{v} is not a whole number: expected {EXPECTING}"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<BlockRef, E> {
        match v.parse::<BlockId>() {
            Ok(id) => Ok(BlockRef::Id(id)),
            Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Err(E::custom(
                format!("{v:?} is a string: pass a block height as a JSON number ({v}), or a block ID as 64 hex characters"),
            )),
            Err(why) => Err(E::custom(format!(
                "{v:?} is not a block ID ({why}): expected {EXPECTING}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::Hash;

    fn id() -> BlockId {
        BlockId(Hash([0xab; 32]))
    }

    fn parse_err(json: &str) -> String {
        match serde_json::from_str::<BlockRef>(json) {
            Ok(r) => panic!("{json} parsed as {r:?}, expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_heights_and_ids() {
        assert_eq!(
            serde_json::from_str::<BlockRef>("5").ok(),
            Some(BlockRef::Height(5))
        );
        assert_eq!(
            serde_json::from_str::<BlockRef>("0").ok(),
            Some(BlockRef::Height(0))
        );
        let hex = format!("\"{}\"", "ab".repeat(32));
        assert_eq!(
            serde_json::from_str::<BlockRef>(&hex).ok(),
            Some(BlockRef::Id(id()))
        );
        let upper = format!("\"{}\"", "AB".repeat(32));
        assert_eq!(
            serde_json::from_str::<BlockRef>(&upper).ok(),
            Some(BlockRef::Id(id()))
        );
    }

    #[test]
    fn rejects_other_values_with_a_clear_message() {
        let e = parse_err("\"abc\"");
        assert!(e.contains("\"abc\" is not a block ID"), "{e}");
        assert!(e.contains("block height"), "{e}");
        let e = parse_err("-1");
        assert!(e.contains("block height -1 is negative"), "{e}");
        let e = parse_err("1.5");
        assert!(e.contains("1.5 is not a whole number"), "{e}");
        let e = parse_err("\"5\"");
        assert!(e.contains("as a JSON number (5)"), "{e}");
        let e = parse_err("null");
        assert!(e.contains(EXPECTING), "{e}");
        let e = parse_err("[5]");
        assert!(e.contains(EXPECTING), "{e}");
        let e = parse_err(&format!("\"{}\"", "zz".repeat(32)));
        assert!(e.contains("invalid hex"), "{e}");
    }

    #[test]
    fn serializes_as_number_or_hex() {
        assert_eq!(
            serde_json::to_value(BlockRef::Height(7)).ok(),
            Some(serde_json::json!(7))
        );
        assert_eq!(
            serde_json::to_value(BlockRef::Id(id())).ok(),
            Some(serde_json::json!("ab".repeat(32)))
        );
    }

    #[test]
    fn parses_from_the_command_line() {
        assert_eq!("42".parse::<BlockRef>(), Ok(BlockRef::Height(42)));
        assert_eq!("ab".repeat(32).parse::<BlockRef>(), Ok(BlockRef::Id(id())));
        assert!("abc".parse::<BlockRef>().is_err());
        assert!("-1".parse::<BlockRef>().is_err());
        assert!("99999999999999999999999".parse::<BlockRef>().is_err());
        assert_eq!(BlockRef::Height(3).to_string(), "height 3");
    }
}
