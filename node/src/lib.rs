//! tfchaind, the tfchain full node. Data enters as blocks and transactions (from the
//! producer, JSON-RPC, block files and peers), goes through the single-writer chain
//! task (`chain`) that validates with `tfchain-consensus` and commits each block atomically
//! to the sled store (`store`), and leaves through JSON-RPC (`rpc`), chain events and the
//! peer-to-peer network (`net`: gossip, headers-first sync).
//! `node` assembles the parts; `commands` are the CLI subcommands.

pub mod blockfile;
pub mod chain;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod keyfile;
pub mod logging;
pub mod net;
pub mod node;
pub mod producer;
pub mod rpc;
pub mod store;
