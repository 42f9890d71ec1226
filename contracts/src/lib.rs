//! The capacity market's state machine (PROTOCOL.md §7): the registry of farms and nodes,
//! reservation contracts with escrow, lazy and exact settlement, the expiry index, claims
//! with the `grid_split`, and the events a block yields.
//!
//! State enters through a read-only [`GridView`]; an op or a block's expiry processing runs
//! on a [`Ledger`] (pending writes over the view) and leaves as writes, events and payouts
//! that the caller (consensus) turns into a diff and payout outputs. Authorisation is the
//! caller's: [`authority`] names the condition an op's fulfilment must satisfy. Nothing here
//! reads a clock, draws randomness, iterates a hash map or uses floats.

#![deny(clippy::float_arithmetic)]

pub mod error;
pub mod ledger;
pub mod ops;
pub mod overlay;
pub mod params;
pub mod settle;
pub mod state;

pub use error::GridError;
pub use ledger::{Ledger, Payout};
pub use ops::{apply_op, authority, check_shape};
pub use overlay::{EmptyGrid, GridOverlay, GridWrites, MemoryGrid};
pub use params::{GridContext, GridParams};
pub use settle::process_expiries;
pub use state::{GridChange, GridCounters, GridKey, GridReads, GridValue, GridView};

/// Capacity a node has free.
pub use ops::free;
/// The least rate of a new reservation on a node (§7.2: a share of its whole capacity).
pub use ops::min_rate;
/// The rate and minimum deposit for reserving `resources` on a node with `price` (§7.3).
pub use ops::quote;
/// `(farmer, network)` shares of claimed earnings (§7.4).
pub use ops::split;
