//! Bounded opaque byte strings (`arbitrary_data`): hex in JSON, a length-prefixed byte
//! sequence in the codec, the bound checked before allocation.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        s.serialize_str(&hex::encode(bytes))
    } else {
        bytes.serialize(s)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    deserialize_max::<D, { crate::limits::MAX_ARBITRARY_DATA }>(d)
}

pub fn deserialize_max<'de, D: Deserializer<'de>, const MAX: usize>(
    d: D,
) -> Result<Vec<u8>, D::Error> {
    if d.is_human_readable() {
        let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        let v =
            hex::decode(s.as_bytes()).map_err(|e| D::Error::custom(format!("invalid hex: {e}")))?;
        if v.len() > MAX {
            return Err(D::Error::custom(format!(
                "{} bytes exceeds the maximum of {MAX}",
                v.len()
            )));
        }
        Ok(v)
    } else {
        crate::codec::bounded::<D, u8, MAX>(d)
    }
}
