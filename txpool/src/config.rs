//! Pool limits and policy. None of this is consensus: nodes may differ.

use tfchain_consensus::Ratio;
use tfchain_types::Height;

/// Limits and replacement policy of a [`crate::Pool`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most encoded transaction bytes held (default 64 MiB, about 32 full blocks).
    pub max_bytes: u64,
    /// Most transactions held (default 100,000).
    pub max_count: usize,
    /// Most unconfirmed transactions in a transaction's ancestry, itself included
    /// (default 25: a chain of 25 unconfirmed transactions is accepted, a 26th is not).
    pub max_ancestors: usize,
    /// A transaction leaves the pool once the tip is this many blocks above the tip it was
    /// admitted at (default 8,640: a day of 10-second blocks). Wallets rebroadcast.
    pub expiry_blocks: Height,
    /// A replacement's fee rate must be at least this multiple of the fee rate of each
    /// transaction it directly conflicts with (default 5/4).
    pub replacement_rate: Ratio,
    /// Most transactions one replacement may displace, descendants included (default 100).
    pub max_replacements: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_bytes: 64 * 1024 * 1024,
            max_count: 100_000,
            max_ancestors: 25,
            expiry_blocks: 8_640,
            replacement_rate: Ratio { num: 5, den: 4 },
            max_replacements: 100,
        }
    }
}
