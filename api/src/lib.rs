//! tfchain's JSON-RPC interface (ARCHITECTURE.md §6): one method trait per namespace
//! (`chain`, `tx`, `address`, `output`, `pool`, `consensus`, `net`, `grid`, `admin`), the
//! request and response types with their JSON form (PROTOCOL.md §2), the application error
//! codes, and the parameter rules every implementation shares (page limits, transaction
//! hex, cursors).
//!
//! Requests enter a node through the `XApiServer` traits generated under the `server`
//! feature (the node implements them and serves `into_rpc()` modules); wallets and tests
//! call the node through the `XApiClient` traits generated under the `client` feature,
//! which extend any jsonrpsee HTTP or WebSocket client. Without either feature the crate
//! holds only the types, the error constructors and the [`METHODS`] list. Method names are
//! `namespace_camelCase`; [`METHODS`] lists them all and [`error::ERROR_CODES`] lists every
//! error code, so the README's RPC reference can be generated and checked from them.

pub mod block_ref;
pub mod deployment;
pub mod error;
pub mod grid;
pub mod params;
#[cfg(any(feature = "server", feature = "client"))]
mod rpc;
pub mod rule_detail;
pub mod types;

#[cfg(test)]
mod json_tests;

pub use block_ref::{BlockRef, BlockRefError};
pub use error::ERROR_CODES;
pub use grid::{EventCursor, EventFilter, EventInfo, EventsPage, NodeInfo, Quote, ReservationInfo};
pub use types::*;

#[cfg(feature = "client")]
pub use rpc::{
    AddressApiClient, AdminApiClient, ChainApiClient, ConsensusApiClient, GridApiClient,
    NetApiClient, OutputApiClient, PoolApiClient, TxApiClient,
};
#[cfg(feature = "server")]
pub use rpc::{
    AddressApiServer, AdminApiServer, ChainApiServer, ConsensusApiServer, GridApiServer,
    NetApiServer, OutputApiServer, PoolApiServer, TxApiServer,
};

/// Re-exports a server implementation needs, so it names the same jsonrpsee items as the
/// generated traits: implement a trait as
/// `#[tfchain_api::server::async_trait] impl ChainApiServer for Node { async fn … }`.
#[cfg(feature = "server")]
pub mod server {
    pub use jsonrpsee::core::{async_trait, to_json_raw_value, RpcResult, SubscriptionResult};
    pub use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
}

/// `(method name, one-line description)` of every method of the API, subscriptions and
/// their unsubscribe methods included. A test checks it against the generated server.
pub const METHODS: &[(&str, &str)] = &[
    (
        "chain_getInfo",
        "network, genesis ID, tip height/ID/timestamp, child target, total work, synced, peers",
    ),
    (
        "chain_getBlock",
        "a block of the current chain by height or ID, with its transactions",
    ),
    (
        "chain_getHeader",
        "a block header of the current chain by height or ID, with its signature",
    ),
    (
        "chain_getSupply",
        "coins, escrow, unclaimed earnings, blockstakes and expected coins at the tip (PROTOCOL.md §6)",
    ),
    (
        "chain_getEquivocations",
        "evidence of blockstake outputs that signed two blocks at one height (PROTOCOL.md §5.8), paged",
    ),
    (
        "chain_subscribeNewHeads",
        "subscription: one HeaderInfo per block joining the current chain",
    ),
    (
        "chain_unsubscribeNewHeads",
        "cancel a chain_subscribeNewHeads subscription",
    ),
    (
        "tx_submit",
        "validate a hex-encoded signed transaction, add it to the pool and relay it",
    ),
    (
        "tx_get",
        "a transaction in the pool or on the current chain, with its status",
    ),
    (
        "address_getBalance",
        "spendable, immature, time-locked and unconfirmed coins and blockstakes of an address",
    ),
    (
        "address_getOutputs",
        "the unspent coin and blockstake outputs of an address",
    ),
    (
        "address_getHistory",
        "an address's transactions and payouts, newest first, paged (limit default 100, max 1000)",
    ),
    (
        "output_get",
        "an unspent output by ID, or null when spent or unknown",
    ),
    (
        "pool_getInfo",
        "pool size, limits, minimum fee and eviction fee rate",
    ),
    (
        "pool_getTransactions",
        "pool transactions in admission order: TxId, fee, size (limit default 100, max 1000)",
    ),
    (
        "consensus_getParams",
        "the network parameters (PROTOCOL.md §9) and genesis ID",
    ),
    (
        "net_getInfo",
        "peer ID, listen addresses, peer counts, synced flag and sync progress",
    ),
    (
        "net_getPeers",
        "connected peers: address, direction, reported tip, score, agent",
    ),
    ("grid_getFarm", "a farm by id: name, owner condition, payout address"),
    (
        "grid_listFarms",
        "farms by id, paged (limit default 100, max 1000)",
    ),
    (
        "grid_getNode",
        "a node by id: capacity, used, free, price, state, unclaimed earnings",
    ),
    (
        "grid_getNodeByKey",
        "a node by its ed25519 node key: how a node daemon learns its node id",
    ),
    (
        "grid_listNodes",
        "nodes by id, filtered by farm and by free capacity, paged",
    ),
    (
        "grid_getReservation",
        "a reservation by id: resources, rate, escrow, state, when it next changes",
    ),
    (
        "grid_listReservations",
        "the live reservations of a node, or all reservations of an owner, paged",
    ),
    (
        "grid_quote",
        "rate, deposit and minimum deposit to reserve resources on a node for N blocks",
    ),
    (
        "grid_getEvents",
        "grid events of the current chain in order, by node, from a height or after a cursor",
    ),
    (
        "grid_subscribeEvents",
        "subscription: grid events matching a filter, replayed from a cursor, reverts included",
    ),
    (
        "grid_unsubscribeEvents",
        "cancel a grid_subscribeEvents subscription",
    ),
    (
        "admin_shutdown",
        "shut the node down cleanly (admin: needs --rpc-admin)",
    ),
    (
        "admin_addPeer",
        "dial a peer by multiaddr, lifting any ban (admin: needs --rpc-admin)",
    ),
    (
        "admin_removePeer",
        "disconnect a peer and ban it for a while (admin: needs --rpc-admin)",
    ),
];

/// The namespaces of the API, in the order of [`METHODS`].
pub const NAMESPACES: &[&str] = &[
    "chain",
    "tx",
    "address",
    "output",
    "pool",
    "consensus",
    "net",
    "grid",
    "admin",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn method_names_are_unique_namespaced_and_camel_case() {
        let names: BTreeSet<&str> = METHODS.iter().map(|m| m.0).collect();
        assert_eq!(names.len(), METHODS.len(), "duplicate method name");
        for (name, description) in METHODS {
            let (ns, method) = name
                .split_once('_')
                .unwrap_or_else(|| panic!("{name} has no namespace"));
            assert!(NAMESPACES.contains(&ns), "{name}: unknown namespace {ns}");
            assert!(
                method.starts_with(|c: char| c.is_ascii_lowercase())
                    && method.chars().all(|c| c.is_ascii_alphanumeric()),
                "{name}: not camelCase"
            );
            assert!(!description.is_empty(), "{name} has no description");
        }
        // Namespaces appear in NAMESPACES order, each in one run.
        let order: Vec<&str> = METHODS
            .iter()
            .filter_map(|m| m.0.split('_').next())
            .collect();
        let mut runs = order.clone();
        runs.dedup();
        assert_eq!(runs, NAMESPACES, "METHODS is not grouped by namespace");
    }
}
