//! Fee rates (fee per encoded byte) and package aggregates. Rates are compared exactly by
//! cross-multiplication in 256-bit integers: never a float, never a rounding tie.

use std::cmp::Ordering;
use std::fmt;
use tfchain_types::Currency;

/// `a × b` as a 256-bit number `(high, low)`, so tuples compare like the product.
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a_hi, a_lo) = (a >> 64, a & MASK);
    let (b_hi, b_lo) = (b >> 64, b & MASK);
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    // Middle column: at most 3 × (2^64 - 1), which fits in u128.
    let mid = (lo_lo >> 64) + (hi_lo & MASK) + (lo_hi & MASK);
    let low = (lo_lo & MASK) | (mid << 64);
    let high = hi_hi + (hi_lo >> 64) + (lo_hi >> 64) + (mid >> 64);
    (high, low)
}

/// A fee rate: `fee` base units over `size` bytes (`size` is never zero).
#[derive(Clone, Copy, Debug)]
pub struct FeeRate {
    pub fee: u128,
    pub size: u64,
}

impl FeeRate {
    pub const ZERO: FeeRate = FeeRate { fee: 0, size: 1 };

    pub fn new(fee: Currency, size: u64) -> FeeRate {
        FeeRate {
            fee: fee.0,
            size: size.max(1),
        }
    }

    /// This rate times `num / den` (saturating), e.g. the 5/4 a replacement must beat.
    pub fn scaled(self, num: u64, den: u64) -> FeeRate {
        FeeRate {
            fee: self.fee.saturating_mul(u128::from(num)),
            size: self.size.saturating_mul(den.max(1)),
        }
    }

    /// The smallest fee for `size` bytes whose rate is at least this one (saturating).
    pub fn fee_for(self, size: u64) -> Currency {
        let num = self.fee.saturating_mul(u128::from(size));
        let den = u128::from(self.size);
        Currency(num.div_ceil(den))
    }

    /// The smallest fee for `size` bytes whose rate is strictly above this one.
    pub fn fee_above(self, size: u64) -> Currency {
        let num = self.fee.saturating_mul(u128::from(size));
        Currency((num / u128::from(self.size)).saturating_add(1))
    }
}

impl PartialEq for FeeRate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FeeRate {}

impl PartialOrd for FeeRate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FeeRate {
    /// `a.fee / a.size` vs `b.fee / b.size` as `a.fee × b.size` vs `b.fee × a.size`.
    fn cmp(&self, other: &Self) -> Ordering {
        mul_wide(self.fee, u128::from(other.size)).cmp(&mul_wide(other.fee, u128::from(self.size)))
    }
}

impl fmt::Display for FeeRate {
    /// Base units per byte with three decimals (truncated), e.g. `40000.512 base units/byte`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = u128::from(self.size);
        let whole = self.fee / size;
        let milli = (self.fee % size).saturating_mul(1000) / size;
        write!(f, "{whole}.{milli:03} base units/byte")
    }
}

/// Count, encoded size and fees of a set of transactions (a tx with its ancestors, or with
/// its descendants). Sums saturate: fees are bounded by the coin supply in practice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub count: u64,
    pub size: u64,
    pub fee: u128,
}

impl Package {
    pub fn single(size: u64, fee: u128) -> Package {
        Package {
            count: 1,
            size,
            fee,
        }
    }

    pub fn add(&mut self, o: &Package) {
        self.count = self.count.saturating_add(o.count);
        self.size = self.size.saturating_add(o.size);
        self.fee = self.fee.saturating_add(o.fee);
    }

    pub fn sub(&mut self, o: &Package) {
        self.count = self.count.saturating_sub(o.count);
        self.size = self.size.saturating_sub(o.size);
        self.fee = self.fee.saturating_sub(o.fee);
    }

    pub fn rate(&self) -> FeeRate {
        FeeRate {
            fee: self.fee,
            size: self.size.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide_reference(a: u128, b: u128) -> (u128, u128) {
        // Schoolbook on 32-bit limbs as an independent reference.
        let limbs = |x: u128| [0, 1, 2, 3].map(|i| (x >> (32 * i)) as u32 as u64);
        let (la, lb) = (limbs(a), limbs(b));
        let mut out = [0u64; 8];
        for i in 0..4 {
            let mut carry = 0u64;
            for j in 0..4 {
                let t = la[i] * lb[j] + out[i + j] + carry;
                out[i + j] = t & 0xffff_ffff;
                carry = t >> 32;
            }
            out[i + 4] += carry;
        }
        let join = |s: &[u64]| {
            s.iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | l as u128)
        };
        (join(&out[4..8]), join(&out[0..4]))
    }

    proptest::proptest! {
        #[test]
        fn mul_wide_matches_reference(a in proptest::num::u128::ANY, b in proptest::num::u128::ANY) {
            proptest::prop_assert_eq!(mul_wide(a, b), wide_reference(a, b));
        }

        #[test]
        fn rate_order_matches_rationals(f1 in 0u64..1_000_000, s1 in 1u64..40_000, f2 in 0u64..1_000_000, s2 in 1u64..40_000) {
            let a = FeeRate { fee: f1 as u128, size: s1 };
            let b = FeeRate { fee: f2 as u128, size: s2 };
            let expected = (f1 as u128 * s2 as u128).cmp(&(f2 as u128 * s1 as u128));
            proptest::prop_assert_eq!(a.cmp(&b), expected);
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let max = FeeRate {
            fee: u128::MAX,
            size: 1,
        };
        let tiny = FeeRate {
            fee: 1,
            size: u64::MAX,
        };
        assert!(max > tiny);
        assert_eq!(max.cmp(&max), Ordering::Equal);
        assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
    }

    #[test]
    fn fees_for_rates() {
        let r = FeeRate { fee: 10, size: 3 };
        assert_eq!(r.fee_for(3), Currency(10));
        assert_eq!(r.fee_for(4), Currency(14)); // 13.33 rounded up
        assert_eq!(r.fee_above(3), Currency(11));
        assert_eq!(r.scaled(5, 4), FeeRate { fee: 50, size: 12 });
        assert_eq!(
            FeeRate { fee: 1, size: 3 }.to_string(),
            "0.333 base units/byte"
        );
    }
}
