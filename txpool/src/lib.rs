//! tfchain's transaction pool: admission with full validation (PROTOCOL.md §4.3) against
//! the chain tip plus the pool, unconfirmed parents (chains up to 25 deep), replacement of
//! conflicting transactions by fee rate, byte and count limits with eviction of the lowest
//! fee-rate packages, expiry, block templates by ancestor-package fee rate, and updates on
//! new tips and reorganisations without re-validating the whole pool.
//!
//! Pure logic, no I/O (ARCHITECTURE.md §1): transactions enter through [`Pool::admit`] and
//! [`Pool::admit_batch`] (signatures verified on all cores), the chain enters as a narrow
//! [`ChainView`] passed into every call, and the caller's clock as a `now` argument; the
//! pool never reads a clock. Transactions leave through [`Pool::block_template`] and the
//! reports of [`Pool::on_block_connected`] / [`Pool::on_block_disconnected`]. Fee rates are
//! exact fractions (fee per encoded byte), never floats; iteration that reaches an output
//! goes through ordered indexes, so results are deterministic.

mod admit;
mod chain;
mod config;
mod entry;
mod error;
mod evict;
mod feerate;
mod pool;
mod reorg;
mod template;
#[cfg(test)]
mod tests;

pub use admit::{admission_context, Admitted};
pub use chain::{ChainAt, ChainView};
pub use config::PoolConfig;
pub use error::{InternalError, PoolError};
pub use feerate::{FeeRate, Package};
pub use pool::{Pool, TxInfo};
pub use reorg::{ConnectReport, ReinjectReport};
pub use template::{block_overhead, BlockTemplate};
