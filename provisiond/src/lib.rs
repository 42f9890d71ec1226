//! tfchain-provisiond: the farmer's node daemon. It follows the chain for one grid node and
//! keeps the workloads on this host equal to what the chain says should run (PROTOCOL.md
//! §7.6), level-triggered: desired state from the chain, actual state from the runtime, and
//! one pure function, [`plan::plan`], that says what to do to make them equal.
//!
//! The pure parts ([`plan`]) know nothing of I/O; the runtimes ([`runtime`]), the chain
//! client ([`chain`]), manifest fetching ([`manifests`]), the daemon's durable state
//! ([`state`]) and the status server ([`http`]) are around them, driven by [`daemon`], as
//! `consensus` is beside `node`.

pub mod atomic;
pub mod board;
pub mod chain;
pub mod cli;
pub mod daemon;
pub mod http;
pub mod manifests;
pub mod node_key;
pub mod plan;
pub mod runtime;
pub mod state;
