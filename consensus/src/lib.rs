//! tfchain's consensus rules (PROTOCOL.md §3–6, §9): conditions and fulfillments,
//! transaction validity, proof of blockstake, difficulty, header and block validity, the
//! state transition with exact undo, fork choice and equivocation.
//!
//! Data enters as decoded [`tfchain_types`] values plus a read-only [`StateView`] of the
//! parent state and the caller's clock (`now`); it leaves as a [`BlockOutcome`] (a diff
//! the caller commits) or a specific error. Nothing here writes, reads a clock, draws
//! randomness or iterates a hash map. Signatures are verified on all cores with rayon.

#![deny(clippy::float_arithmetic)]

pub mod apply;
pub mod branch;
pub mod equivocation;
pub mod error;
pub mod fork;
pub mod fulfillment;
pub mod grid;
pub mod header;
pub mod lottery;
pub mod memory;
pub mod overlay;
pub mod params;
pub mod produce;
pub mod state;
pub mod target;
pub mod testkit;
pub mod transfer;

pub use apply::{
    apply_block, apply_block_cached, apply_block_with, apply_genesis, block_payouts, genesis_block,
    GenesisError, NothingVerified, VerifiedTxs,
};
pub use branch::BranchView;
pub use error::{BlockError, ConditionError, OutputConditionError, Side, TxError};
pub use fulfillment::SpendContext;
pub use grid::{grid_context, GridTxEffect};
pub use header::{check_header, Signatures};
pub use params::{ChainParams, GridSplit, ParamsError, Ratio};
pub use state::{BlockDiff, BlockMeta, BlockOutcome, CoinEntry, StakeEntry, StateView, UtxoView};
pub use target::{Target, Work};
pub use transfer::{validate_transaction, TxEffect};
