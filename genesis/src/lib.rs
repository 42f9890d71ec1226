//! tfchain genesis (PROTOCOL.md §11): the JSON genesis file format, the built-in networks
//! `dev` and `testnet`, and new local networks for `tfchaind genesis new`.
//!
//! Data enters as genesis JSON — a file ([`Genesis::load`], this crate's only I/O), a
//! string ([`Genesis::from_json`]), a built-in network ([`builtin()`]) or freshly generated
//! validators ([`new_network()`]) — and leaves as a validated [`Genesis`]: the network's
//! [`ChainParams`](tfchain_consensus::ChainParams) with its genesis ID, the genesis
//! [`Block`](tfchain_types::Block), and the genesis state as a
//! [`BlockOutcome`](tfchain_consensus::BlockOutcome) built by
//! [`tfchain_consensus::apply_genesis`], the same transition code as every other block.
//! Writing files (keys, a new network's genesis) is the caller's job.
//!
//! # The genesis ID commits to the parameters
//!
//! The genesis block (§11) holds one transaction with no inputs and no fee whose outputs
//! are the allocations, and whose grid ops register the initial farms and nodes (§7). Its `arbitrary_data` is the 32-byte
//! `H("tfchain/params/" ‖ encode(ChainParams with genesis_id = 0))` ([`params_commitment`]),
//! which covers the network name, every §9 parameter and the fee address. So the genesis ID
//! — bound into every signature hash (§4.2) and gossip topic (§12) — differs between two
//! networks that differ in anything, even one parameter, and a signature made for one can
//! never be replayed on the other.

pub mod builtin;
pub mod error;
pub mod format;
pub mod genesis;
pub mod new_network;

pub use builtin::{
    builtin, builtin_json, dev_seed, testnet_seed, BUILTIN_NETWORKS, DEV_FARM_OWNER_KEY,
    DEV_FEE_KEY, DEV_MNEMONIC, DEV_NODE_KEYS, TESTNET_MNEMONIC,
};
pub use error::GenesisError;
pub use format::{
    CoinAllocation, FarmAllocation, GenesisFile, NetworkParams, NodeAllocation, StakeAllocation,
};
pub use genesis::{params_commitment, Genesis, PARAMS_TAG};
pub use new_network::{new_network, ValidatorKeys};
