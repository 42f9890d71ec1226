//! tfchain's consensus data types: primitives (PROTOCOL.md §1), the codec (§2), addresses,
//! conditions and fulfillments (§3), transactions (§4), blocks (§5.1), the capacity
//! market's records and operations (§7), protocol limits (§8)
//! and wallet key derivation (§10).
//!
//! Data enters as bytes through [`codec::decode`] (bounded, strict) or as JSON through serde
//! (human-readable forms: hex hashes, decimal-string currency, address strings) and leaves
//! the same ways. Nothing here does I/O, reads a clock or draws randomness.

#![deny(clippy::float_arithmetic)]

pub mod address;
pub mod block;
pub mod bytes;
pub mod bytes_vec;
pub mod codec;
pub mod condition;
pub mod currency;
pub mod grid;
pub mod hash;
pub mod keys;
pub mod limits;
pub mod merkle;
pub mod signing;
pub mod transaction;

pub use address::{Address, AddressError, AddressKind};
pub use block::{Block, BlockHeader, BLOCK_VERSION};
pub use codec::{decode, encode, CodecError};
pub use condition::{
    AtomicSwapCondition, Condition, Fulfillment, KeySignature, LockedCondition, MultiSigCondition,
    Secret, LOCK_TIME_THRESHOLD,
};
pub use currency::{AmountError, Currency};
pub use grid::{
    Availability, EndReason, Farm, FarmId, FarmName, GridEvent, GridEventKind, GridOp, Node,
    NodeId, NodeState, Price, Reservation, ReservationId, ReservationState, Resources,
};
pub use hash::{BlockId, Hash, OutputId, OutputKind, TxId};
pub use keys::{PublicKey, SecretKey, Seed, Signature};
pub use signing::unsigned_by;
pub use transaction::{
    BlockStakes, Height, Input, Output, StakeOutput, Timestamp, Transaction, TX_VERSION,
};

/// Decodes a transaction received from outside (§2, §8).
pub fn decode_transaction(bytes: &[u8]) -> Result<Transaction, CodecError> {
    codec::decode::<Transaction, { limits::MAX_TX_SIZE }>(bytes)
}

/// Decodes a block received from outside (§2, §8).
pub fn decode_block(bytes: &[u8]) -> Result<Block, CodecError> {
    codec::decode::<Block, { limits::MAX_BLOCK_SIZE }>(bytes)
}

/// Decodes a block header received from outside.
pub fn decode_header(bytes: &[u8]) -> Result<BlockHeader, CodecError> {
    codec::decode::<BlockHeader, { limits::MAX_HEADER_SIZE }>(bytes)
}
