//! Protocol limits (PROTOCOL.md §8). These bound the decoder, so they are part of the
//! protocol version rather than per-network parameters (§9).

/// Largest encoded block, in bytes.
pub const MAX_BLOCK_SIZE: usize = 2_000_000;
/// Largest encoded transaction, in bytes.
pub const MAX_TX_SIZE: usize = 32_768;
/// Most inputs of one kind, and most outputs of one kind, in a transaction.
pub const MAX_INPUTS: usize = 256;
pub const MAX_OUTPUTS: usize = 256;
/// Largest `arbitrary_data`.
pub const MAX_ARBITRARY_DATA: usize = 255;
/// Most addresses in a multisig condition (and signatures in its fulfillment).
pub const MAX_MULTISIG_KEYS: usize = 32;
/// Fewest addresses in a multisig condition.
pub const MIN_MULTISIG_KEYS: usize = 2;
/// Decoder bound on the transactions of a block: no valid transaction is smaller than
/// `MAX_BLOCK_SIZE / MAX_BLOCK_TXS` bytes, so this never binds a valid block.
pub const MAX_BLOCK_TXS: usize = 32_768;
/// Largest encoded block header.
pub const MAX_HEADER_SIZE: usize = 1_024;
/// Largest gossip message.
pub const MAX_GOSSIP_MESSAGE: usize = MAX_BLOCK_SIZE + 64 * 1024;
/// Most grid operations in one transaction.
pub const MAX_GRID_OPS: usize = crate::grid::MAX_GRID_OPS;
/// Largest reservation `deployment_data`.
pub const MAX_DEPLOYMENT_DATA: usize = crate::grid::MAX_DEPLOYMENT_DATA;
/// Most live reservations on one node.
pub const MAX_NODE_RESERVATIONS: u32 = crate::grid::MAX_NODE_RESERVATIONS;
/// Most live reservations one block settles through `Claim` and `RemoveNode`.
pub const MAX_BLOCK_SETTLEMENTS: u64 = crate::grid::MAX_BLOCK_SETTLEMENTS;
