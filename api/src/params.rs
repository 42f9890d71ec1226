//! Parameter handling shared by every server implementation, so that limits and messages
//! are the same whoever implements the traits: page limits, transaction hex, history cursors.

use crate::error;
use jsonrpsee::types::ErrorObjectOwned;
use std::fmt;
use tfchain_types::{limits::MAX_TX_SIZE, Height, OutputId, Transaction};

/// Entries per page when a method's `limit` is omitted.
pub const DEFAULT_PAGE_LIMIT: u32 = 100;
/// Most entries per page: a larger `limit` is lowered to this.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// The page size for an optional `limit` parameter: [`DEFAULT_PAGE_LIMIT`] when omitted,
/// at most [`MAX_PAGE_LIMIT`]; `0` is an `INVALID_PARAMS` error.
pub fn page_limit(limit: Option<u32>) -> Result<usize, ErrorObjectOwned> {
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT as usize),
        Some(0) => Err(error::invalid_params(
            "limit",
            format!("must be at least 1 (omit it for {DEFAULT_PAGE_LIMIT}, the maximum is {MAX_PAGE_LIMIT})"),
        )),
        Some(n) => Ok(n.min(MAX_PAGE_LIMIT) as usize),
    }
}

/// Decodes the `hex` parameter of `tx_submit`: hex of the consensus encoding (§2), size
/// checked before decoding. Errors are `TX_DECODE`.
pub fn decode_tx_hex(hex_str: &str) -> Result<Transaction, ErrorObjectOwned> {
    let hex_str = hex_str.trim();
    let hex_str = hex_str.strip_prefix("0x").unwrap_or(hex_str);
    if hex_str.len() > 2 * MAX_TX_SIZE {
        return Err(error::tx_bad_hex(format_args!(
            "{} hex characters is more than the {MAX_TX_SIZE}-byte transaction limit (PROTOCOL.md §8)",
            hex_str.len()
        )));
    }
    let bytes = hex::decode(hex_str).map_err(error::tx_bad_hex)?;
    tfchain_types::decode_transaction(&bytes).map_err(|e| error::tx_decode(&e))
}

/// The position in an address's history after which the next page starts: the entry at
/// `(height, index)` (index counts the address's entries within the block) and everything
/// newer has been returned. Its string form `"<height>.<index>"` is what `next_cursor`
/// carries; clients treat it as opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HistoryCursor {
    pub height: Height,
    pub index: u32,
}

impl fmt::Display for HistoryCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.height, self.index)
    }
}

impl HistoryCursor {
    /// Parses a `cursor` parameter; a malformed one is `INVALID_PARAMS`.
    pub fn parse(s: &str) -> Result<HistoryCursor, ErrorObjectOwned> {
        let bad = || {
            error::invalid_params(
                "cursor",
                format!("{s:?} is not a cursor: pass the `next_cursor` of the previous page unchanged, or omit it for the newest page"),
            )
        };
        let (h, i) = s.split_once('.').ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(i) {
            return Err(bad());
        }
        Ok(HistoryCursor {
            height: h.parse().map_err(|_| bad())?,
            index: i.parse().map_err(|_| bad())?,
        })
    }
}

/// Where the next page of `chain_getEquivocations` starts: after the equivocation at
/// `height` for `stake_output`. String form `"<height>.<stake output hex>"`, opaque to
/// clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EquivocationCursor {
    pub height: Height,
    pub stake_output: OutputId,
}

impl fmt::Display for EquivocationCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.height, self.stake_output)
    }
}

impl EquivocationCursor {
    /// Parses a `cursor` parameter; a malformed one is `INVALID_PARAMS`.
    pub fn parse(s: &str) -> Result<EquivocationCursor, ErrorObjectOwned> {
        let bad = || {
            error::invalid_params(
                "cursor",
                format!("{s:?} is not a cursor: pass the `next_cursor` of the previous page unchanged, or omit it for the first page"),
            )
        };
        let (h, o) = s.split_once('.').ok_or_else(bad)?;
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(EquivocationCursor {
            height: h.parse().map_err(|_| bad())?,
            stake_output: o.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::{Address, Condition, Currency, Output, PublicKey, TX_VERSION};

    #[test]
    fn equivocation_cursors_round_trip() {
        let c = EquivocationCursor {
            height: 42,
            stake_output: OutputId(tfchain_types::Hash([7; 32])),
        };
        assert_eq!(EquivocationCursor::parse(&c.to_string()).ok(), Some(c));
        for bad in ["", "42", "x.00", "42.zz", ".00"] {
            let e = EquivocationCursor::parse(bad).err().map(|e| e.code());
            assert_eq!(e, Some(error::INVALID_PARAMS), "{bad:?}");
        }
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(None).ok(), Some(100));
        assert_eq!(page_limit(Some(5)).ok(), Some(5));
        assert_eq!(page_limit(Some(1000)).ok(), Some(1000));
        assert_eq!(page_limit(Some(5000)).ok(), Some(1000));
        let e = page_limit(Some(0)).err().map(|e| e.code());
        assert_eq!(e, Some(error::INVALID_PARAMS));
    }

    #[test]
    fn transaction_hex() {
        let tx = Transaction {
            version: TX_VERSION,
            coin_inputs: vec![],
            coin_outputs: vec![Output {
                value: Currency(5),
                condition: Condition::Address(Address::from_public_key(&PublicKey([3; 32]))),
            }],
            blockstake_inputs: vec![],
            blockstake_outputs: vec![],
            fee: Currency(1),
            arbitrary_data: vec![1, 2],
            grid_ops: vec![],
        };
        let hex_str = hex::encode(tfchain_types::encode(&tx));
        assert_eq!(decode_tx_hex(&hex_str).ok(), Some(tx.clone()));
        assert_eq!(decode_tx_hex(&format!("0x{hex_str}")).ok(), Some(tx));

        let code = |s: &str| decode_tx_hex(s).err().map(|e| e.code());
        assert_eq!(code("zz"), Some(error::TX_DECODE));
        assert_eq!(code("abc"), Some(error::TX_DECODE));
        assert_eq!(code(&format!("{hex_str}00")), Some(error::TX_DECODE));
        assert_eq!(code(&"00".repeat(MAX_TX_SIZE + 1)), Some(error::TX_DECODE));
        let e = decode_tx_hex(&format!("{hex_str}00")).err();
        let msg = e
            .as_ref()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains("trailing bytes"), "{msg}");
    }

    #[test]
    fn cursors_round_trip() {
        let c = HistoryCursor {
            height: 1234,
            index: 7,
        };
        assert_eq!(c.to_string(), "1234.7");
        assert_eq!(HistoryCursor::parse("1234.7").ok(), Some(c));
        for bad in [
            "",
            "1234",
            "a.b",
            "1.",
            ".1",
            "-1.2",
            "1.2.3",
            "99999999999999999999999.1",
        ] {
            let code = HistoryCursor::parse(bad).err().map(|e| e.code());
            assert_eq!(code, Some(error::INVALID_PARAMS), "{bad:?}");
        }
    }
}
