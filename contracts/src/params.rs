//! The network parameters the capacity market uses (PROTOCOL.md §9), handed in by the
//! caller so this crate needs no chain types.

use tfchain_types::{Address, Height};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridParams {
    /// A deposit covers at least this many blocks at the reservation's rate.
    pub min_reservation_blocks: u64,
    /// Blocks a reservation stays in Grace before it ends (at least 1 is used).
    pub grace_period: u64,
    /// The farmer's share of claimed earnings, in percent (at most 100).
    pub farmer_percent: u8,
    /// Receives the rest of claimed earnings; `None`: all goes to the farmer.
    pub fee_address: Option<Address>,
}

/// Where an op is applied: the height of the block that includes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridContext {
    pub height: Height,
    pub params: GridParams,
}
