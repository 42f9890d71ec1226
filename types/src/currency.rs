//! `Currency`: a count of base units, 1 TFT = 10^9 (PROTOCOL.md §1). All arithmetic is
//! checked. JSON carries base units as a decimal string; people read and type TFT.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Base units per TFT.
pub const BASE_UNITS_PER_TFT: u128 = 1_000_000_000;
/// Decimals of a TFT amount.
pub const TFT_DECIMALS: usize = 9;

#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency(pub u128);

/// Why a TFT amount could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("empty amount")]
    Empty,
    #[error("negative amounts are not allowed")]
    Negative,
    #[error("more than 9 decimals: the smallest unit is 0.000000001 TFT")]
    TooManyDecimals,
    #[error("amount too large")]
    Overflow,
    #[error("not a number: {0:?} (expected e.g. 1.5 or 1.5TFT)")]
    Invalid(String),
}

impl Currency {
    pub const ZERO: Currency = Currency(0);

    pub const fn from_base(units: u128) -> Self {
        Currency(units)
    }

    /// Whole TFT. Panics only if `tft * 10^9` overflows u128, impossible for a u64.
    pub const fn from_tft(tft: u64) -> Self {
        Currency(tft as u128 * BASE_UNITS_PER_TFT)
    }

    pub fn checked_add(self, o: Currency) -> Option<Currency> {
        self.0.checked_add(o.0).map(Currency)
    }

    pub fn checked_sub(self, o: Currency) -> Option<Currency> {
        self.0.checked_sub(o.0).map(Currency)
    }

    pub fn checked_mul(self, k: u128) -> Option<Currency> {
        self.0.checked_mul(k).map(Currency)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Sum of an iterator, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Currency>>(it: I) -> Option<Currency> {
        it.into_iter()
            .try_fold(Currency::ZERO, |acc, c| acc.checked_add(c))
    }

    /// TFT with up to 9 decimals and no trailing zeros: `1.5`, `0.000000001`, `12`.
    pub fn to_tft_string(self) -> String {
        let whole = self.0 / BASE_UNITS_PER_TFT;
        let frac = self.0 % BASE_UNITS_PER_TFT;
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// Parses `1.5`, `1.5TFT`, `1.5 tft`, `0.000000001`.
    pub fn parse_tft(input: &str) -> Result<Currency, AmountError> {
        let s = input.trim();
        let s = s
            .strip_suffix("TFT")
            .or_else(|| s.strip_suffix("tft"))
            .unwrap_or(s)
            .trim_end();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if s.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits_only(whole) || !digits_only(frac) {
            return Err(AmountError::Invalid(input.to_string()));
        }
        if frac.len() > TFT_DECIMALS {
            return Err(AmountError::TooManyDecimals);
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::Overflow)?
        };
        let frac_units: u128 = if frac.is_empty() {
            0
        } else {
            let padded = format!("{frac:0<9}");
            padded
                .parse()
                .map_err(|_| AmountError::Invalid(input.to_string()))?
        };
        whole
            .checked_mul(BASE_UNITS_PER_TFT)
            .and_then(|w| w.checked_add(frac_units))
            .map(Currency)
            .ok_or(AmountError::Overflow)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} TFT", self.to_tft_string())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.0)
    }
}

impl FromStr for Currency {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, AmountError> {
        Currency::parse_tft(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.0.to_string())
        } else {
            s.serialize_u128(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(D::Error::custom(format!(
                    "currency must be a decimal string of base units, got {s:?}"
                )));
            }
            s.parse::<u128>()
                .map(Currency)
                .map_err(|_| D::Error::custom("currency amount too large"))
        } else {
            u128::deserialize(d).map(Currency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_tft() {
        assert_eq!(Currency::parse_tft("1.5"), Ok(Currency(1_500_000_000)));
        assert_eq!(Currency::parse_tft("1.5TFT"), Ok(Currency(1_500_000_000)));
        assert_eq!(Currency::parse_tft(" 2 tft"), Ok(Currency(2_000_000_000)));
        assert_eq!(Currency::parse_tft("0.000000001"), Ok(Currency(1)));
        assert_eq!(Currency::parse_tft(".5"), Ok(Currency(500_000_000)));
        assert_eq!(Currency::parse_tft("3."), Ok(Currency(3_000_000_000)));
        assert_eq!(Currency(1_500_000_000).to_tft_string(), "1.5");
        assert_eq!(Currency(1).to_tft_string(), "0.000000001");
        assert_eq!(Currency(12_000_000_000).to_tft_string(), "12");
        assert_eq!(Currency(1_500_000_000).to_string(), "1.5 TFT");
    }

    #[test]
    fn rejects_bad_amounts() {
        assert_eq!(
            Currency::parse_tft("0.0000000001"),
            Err(AmountError::TooManyDecimals)
        );
        assert_eq!(Currency::parse_tft("-1"), Err(AmountError::Negative));
        assert_eq!(Currency::parse_tft(""), Err(AmountError::Empty));
        assert_eq!(Currency::parse_tft("TFT"), Err(AmountError::Empty));
        assert!(matches!(
            Currency::parse_tft("1e9"),
            Err(AmountError::Invalid(_))
        ));
        assert!(matches!(
            Currency::parse_tft("."),
            Err(AmountError::Invalid(_))
        ));
        assert!(matches!(
            Currency::parse_tft("1.2.3"),
            Err(AmountError::Invalid(_))
        ));
        let max_tft = u128::MAX / BASE_UNITS_PER_TFT;
        assert_eq!(
            Currency::parse_tft(&format!("{}", max_tft + 1)),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Currency::parse_tft("999999999999999999999999999999999999999999"),
            Err(AmountError::Overflow)
        );
    }

    #[test]
    fn checked_arithmetic_never_wraps() {
        assert_eq!(Currency(u128::MAX).checked_add(Currency(1)), None);
        assert_eq!(Currency(0).checked_sub(Currency(1)), None);
        assert_eq!(
            Currency::checked_sum([Currency(u128::MAX), Currency(1)]),
            None
        );
        assert_eq!(
            Currency::checked_sum([Currency(2), Currency(3)]),
            Some(Currency(5))
        );
    }

    proptest::proptest! {
        #[test]
        fn tft_string_round_trips(units in proptest::num::u128::ANY) {
            let c = Currency(units);
            proptest::prop_assert_eq!(Currency::parse_tft(&c.to_tft_string()), Ok(c));
        }
    }

    #[test]
    fn json_is_a_decimal_string_of_base_units() {
        let json = serde_json::to_string(&Currency(1_500_000_000)).expect("a currency serializes");
        assert_eq!(json, "\"1500000000\"");
        let back: Currency = serde_json::from_str(&json).expect("and parses back");
        assert_eq!(back, Currency(1_500_000_000));
        assert!(serde_json::from_str::<Currency>("\"1.5\"").is_err());
        assert!(serde_json::from_str::<Currency>("\"-1\"").is_err());
    }
}
