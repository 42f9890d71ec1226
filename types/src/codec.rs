//! The consensus codec (PROTOCOL.md §2): bincode 2.0.1 through serde, fixed-width
//! little-endian integers, a decode limit per object, trailing bytes rejected, and every
//! `Vec` length checked against its §8 maximum before anything is allocated.

use bincode::config;
use serde::de::{DeserializeOwned, Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// Why bytes could not be decoded. Every variant is the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("encoding is larger than the {limit}-byte limit for this object")]
    TooLarge { limit: usize },
    #[error("encoding ends early: {0}")]
    Truncated(String),
    #[error("{extra} trailing bytes after the encoded object")]
    TrailingBytes { extra: usize },
    #[error("malformed encoding: {0}")]
    Malformed(String),
}

type BaseConfig = config::Configuration<config::LittleEndian, config::Fixint, config::NoLimit>;

fn base() -> BaseConfig {
    config::standard()
        .with_fixed_int_encoding()
        .with_little_endian()
}

/// The consensus encoding of `value`.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode_into(value, &mut out);
    out
}

/// Writes the consensus encoding of `value` into `w` (a hasher, a buffer).
pub fn encode_into<T: Serialize + ?Sized, W: std::io::Write>(value: &T, w: &mut W) {
    // Every consensus type has known sequence lengths and our writers never fail,
    // so encoding cannot fail; a failure would be a programming error in a type.
    bincode::serde::encode_into_std_write(value, w, base()).expect("consensus types always encode");
}

/// The encoded size of `value` in bytes, without allocating.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = Counter(0);
    encode_into(value, &mut counter);
    counter.0
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes a `T` from exactly `bytes`, reading at most `LIMIT` bytes.
pub fn decode<T: DeserializeOwned, const LIMIT: usize>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > LIMIT {
        return Err(CodecError::TooLarge { limit: LIMIT });
    }
    let cfg = base().with_limit::<LIMIT>();
    let (value, read) = bincode::serde::decode_from_slice(bytes, cfg).map_err(|e| match e {
        bincode::error::DecodeError::LimitExceeded => CodecError::TooLarge { limit: LIMIT },
        bincode::error::DecodeError::UnexpectedEnd { additional } => {
            CodecError::Truncated(format!("{additional} more bytes needed"))
        }
        other => CodecError::Malformed(other.to_string()),
    })?;
    if read != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    Ok(value)
}

/// `deserialize_with` for a `Vec<T>` of at most `MAX` elements: the length is checked
/// before any element is read or any memory reserved.
pub fn bounded<'de, D, T, const MAX: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(BoundedVisitor::<T, MAX>(PhantomData))
}

struct BoundedVisitor<T, const MAX: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for BoundedVisitor<T, MAX> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a sequence of at most {MAX} elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let hint = seq.size_hint().unwrap_or(0);
        if hint > MAX {
            return Err(A::Error::custom(format!(
                "sequence of {hint} elements exceeds the maximum of {MAX}"
            )));
        }
        // Reserve little up front: a short message may declare a long sequence, and the
        // elements are what prove the bytes exist.
        let mut out = Vec::with_capacity(hint.min(64));
        while let Some(item) = seq.next_element()? {
            if out.len() == MAX {
                return Err(A::Error::custom(format!(
                    "sequence exceeds the maximum of {MAX} elements"
                )));
            }
            out.push(item);
        }
        Ok(out)
    }
}
