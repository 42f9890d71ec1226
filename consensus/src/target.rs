//! Difficulty and chain weight (PROTOCOL.md §5.8): targets, retargeting in exact rational
//! arithmetic, and the work of a block.

use crate::params::ChainParams;
use primitive_types::{U256, U512};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfchain_types::{BlockStakes, Height, Timestamp};

macro_rules! u256_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
        pub struct $name(pub U256);

        impl $name {
            pub fn to_be_bytes(&self) -> [u8; 32] {
                self.0.to_big_endian()
            }
            pub fn from_be_bytes(b: &[u8; 32]) -> Self {
                $name(U256::from_big_endian(b))
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.to_be_bytes()))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.to_be_bytes()))
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                tfchain_types::bytes::serialize::<S, 32>(&self.to_be_bytes(), s)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                tfchain_types::bytes::deserialize::<D, 32>(d).map(|b| $name::from_be_bytes(&b))
            }
        }
    };
}

u256_newtype!(
    /// A lottery target: a kernel divided by the stake must be below it (§5.2).
    /// Higher is easier.
    Target
);
u256_newtype!(
    /// Expected lottery attempts behind a block; chains are compared by summed work.
    Work
);

impl Target {
    pub const MAX: Target = Target(U256::MAX);
}

impl Work {
    pub const ZERO: Work = Work(U256::zero());

    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }
}

/// `child_target(genesis) = (2^256 - 1) / (block_time × total genesis blockstakes)`.
pub fn genesis_target(params: &ChainParams, total_stake: BlockStakes) -> Target {
    let denom = U256::from(params.block_time).saturating_mul(U256::from(total_stake.max(1)));
    Target((U256::MAX / denom.max(U256::one())).max(U256::one()))
}

/// `work(B) = 2^256 / (child_target(B.parent) + 1)`.
pub fn work(parent_child_target: Target) -> Work {
    let t = parent_child_target.0;
    if t == U256::MAX {
        return Work(U256::one());
    }
    // 2^256 / (t + 1) == (2^256 - 1 - t) / (t + 1) + 1, computed without 257-bit numbers.
    Work(((!t) / (t + U256::one())).saturating_add(U256::one()))
}

/// Whether `height` is a retarget height (§5.8).
pub fn is_retarget_height(params: &ChainParams, height: Height) -> bool {
    height > 0 && height.is_multiple_of(params.retarget_interval)
}

/// The height of the ancestor a retarget at `height` measures from.
pub fn retarget_anchor_height(params: &ChainParams, height: Height) -> Height {
    height.saturating_sub(params.retarget_window)
}

/// `child_target(B)` from `child_target(B.parent)`. On a retarget height, `anchor` is the
/// `(height, timestamp)` of B's ancestor at `retarget_anchor_height`.
pub fn child_target(
    params: &ChainParams,
    parent_child_target: Target,
    height: Height,
    timestamp: Timestamp,
    anchor: (Height, Timestamp),
) -> Target {
    if !is_retarget_height(params, height) {
        return parent_child_target;
    }
    let (anchor_height, anchor_ts) = anchor;
    let actual = U256::from(timestamp.saturating_sub(anchor_ts));
    let expected = U256::from(params.block_time)
        .saturating_mul(U256::from(height.saturating_sub(anchor_height).max(1)));
    let n = U256::from(params.max_adjust.num);
    let d = U256::from(params.max_adjust.den);
    // clamp(actual/expected, d/n, n/d), as a fraction (num, den). All factors fit in
    // 128 bits, so the cross products cannot overflow 256 bits.
    let (num, den) = if actual * d > expected * n {
        (n, d)
    } else if actual * n < expected * d {
        (d, n)
    } else {
        (actual, expected)
    };
    let scaled: U512 = parent_child_target.0.full_mul(num) / U512::from(den);
    let t = U256::try_from(scaled).unwrap_or(U256::MAX);
    Target(t.max(U256::one()))
}

/// `kernel / value` as an integer; `None` for a zero value, which never wins.
pub fn kernel_quotient(kernel: &[u8; 32], value: BlockStakes) -> Option<U256> {
    (value != 0).then(|| U256::from_big_endian(kernel) / U256::from(value))
}

/// The lottery inequality of §5.2: `kernel / value < target` (integer division).
pub fn kernel_wins(kernel: &[u8; 32], value: BlockStakes, target: Target) -> bool {
    kernel_quotient(kernel, value).is_some_and(|q| q < target.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_two_pow_256_over_target_plus_one() {
        assert_eq!(work(Target::MAX), Work(U256::one()));
        // target = 2^255 - 1 -> work 2
        let t = Target((U256::one() << 255) - 1);
        assert_eq!(work(t), Work(U256::from(2)));
        assert_eq!(work(Target(U256::zero())), Work(U256::MAX)); // 2^256/1 saturates
        assert!(work(Target(U256::from(10))) > work(Target(U256::from(20))));
    }

    #[test]
    fn kernel_division_is_integer() {
        let mut k = [0u8; 32];
        k[31] = 10;
        assert!(kernel_wins(&k, 3, Target(U256::from(4)))); // 10/3 = 3 < 4
        assert!(!kernel_wins(&k, 3, Target(U256::from(3))));
        assert!(!kernel_wins(&k, 0, Target::MAX));
    }
}
