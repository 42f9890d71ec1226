//! The method traits, one per namespace. `jsonrpsee`'s `rpc` macro turns each `XApi` trait
//! into `XApiServer` (feature `server`: implement it, then `into_rpc()` gives an
//! `RpcModule`) and `XApiClient` (feature `client`: an extension trait of every jsonrpsee
//! client). The doc comment of each method is its entry in the RPC reference.
//!
//! Parameters are positional (a JSON array) or named (a JSON object with the parameter
//! names below). Optional parameters may be omitted or `null`.

use crate::grid::{
    EventCursor, EventFilter, EventInfo, EventsPage, NodeInfo, Quote, ReservationInfo,
};
use crate::types::{
    Balance, BlockInfo, ChainInfo, EquivocationsPage, HeaderInfo, HistoryPage, NetInfo, OutputInfo,
    PeerInfo, PoolInfo, PoolTx, Supply, TxInfo,
};
use crate::BlockRef;
use jsonrpsee::proc_macros::rpc;
use tfchain_consensus::ChainParams;
use tfchain_types::{
    Address, Farm, FarmId, Height, NodeId, OutputId, PublicKey, ReservationId, Resources, TxId,
};

/// `chain_*`: the node's current chain.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "chain")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "chain")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "chain")
)]
pub trait ChainApi {
    /// Network, genesis ID, tip (height, ID, timestamp), the tip's child target and total
    /// work, whether the node is synced, and its peer count.
    ///
    /// Result: `ChainInfo`.
    #[method(name = "getInfo")]
    async fn get_info(&self) -> jsonrpsee::core::RpcResult<ChainInfo>;

    /// The block at a height, or with an ID, on the current chain: header, signature,
    /// every transaction with its TxId, encoded size and confirmations.
    ///
    /// Params: `block`: a height (JSON number) or a block ID (64 hex characters).
    /// Result: `BlockInfo`. Errors: `NOT_FOUND` (1001) when the current chain has no such
    /// block; `INVALID_PARAMS` (-32602) when `block` is neither a height nor an ID.
    #[method(name = "getBlock")]
    async fn get_block(&self, block: BlockRef) -> jsonrpsee::core::RpcResult<BlockInfo>;

    /// The header of a block of the current chain, with its ID and signature.
    ///
    /// Params: `block`: a height or a block ID, as for `chain_getBlock`.
    /// Result: `HeaderInfo`. Errors: `NOT_FOUND` (1001), `INVALID_PARAMS` (-32602).
    #[method(name = "getHeader")]
    async fn get_header(&self, block: BlockRef) -> jsonrpsee::core::RpcResult<HeaderInfo>;

    /// The money supply at the tip: unspent coins, escrow, unclaimed farmer earnings,
    /// blockstakes, and the coins expected from genesis plus block rewards. PROTOCOL.md §6
    /// requires `coins + escrow + unclaimed_earnings == expected_coins` at every block.
    ///
    /// Result: `Supply`.
    #[method(name = "getSupply")]
    async fn get_supply(&self) -> jsonrpsee::core::RpcResult<Supply>;

    /// The equivocations this node has seen (PROTOCOL.md §5.8), a page at a time: two
    /// different headers at one height signed for the same blockstake output, with both
    /// signatures, ordered by height (then stake output). Evidence is kept even when one of
    /// the blocks left the current chain.
    ///
    /// Params: `cursor` (optional): the `next_cursor` of the previous page, omitted for the
    /// first (lowest) page; `limit` (optional): entries per page, default 100, capped at
    /// 1000, 0 is an error. Result: `EquivocationsPage` (`equivocations` empty when none
    /// was seen; `next_cursor` is `null` on the last page). Errors: `INVALID_PARAMS`
    /// (-32602) for a malformed cursor or limit.
    #[method(name = "getEquivocations")]
    async fn get_equivocations(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> jsonrpsee::core::RpcResult<EquivocationsPage>;

    /// Subscribe to new tips: one `HeaderInfo` notification per block that becomes part of
    /// the current chain, in height order. After a reorganisation the new branch's headers
    /// are sent from the fork point up, so a height can repeat (follow `header.parent`).
    /// A subscriber that falls too far behind is dropped; resubscribe and fill the gap with
    /// `chain_getHeader`. Notifications use the method name `chain_subscribeNewHeads`;
    /// cancel with `chain_unsubscribeNewHeads(subscription_id)`. A subscriber that does not
    /// read its notifications for 10 seconds is dropped too. Over plain HTTP: error
    /// `WEBSOCKET_REQUIRED` (1008).
    #[subscription(
        name = "subscribeNewHeads",
        unsubscribe = "unsubscribeNewHeads",
        item = HeaderInfo,
        with_extensions
    )]
    async fn subscribe_new_heads(&self) -> jsonrpsee::core::SubscriptionResult;
}

/// `tx_*`: submitting and looking up transactions.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "tx")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "tx")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "tx")
)]
pub trait TxApi {
    /// Submit a signed transaction: validated against the tip plus the pool
    /// (PROTOCOL.md §4.3), added to the pool and relayed to peers.
    ///
    /// Params: `hex`: the transaction's consensus encoding (§2) in hex (an optional `0x`
    /// prefix is accepted). Result: its TxId. Submitting a transaction the pool already
    /// holds returns its TxId again (resubmission is harmless).
    /// Errors: `TX_DECODE` (1002) for bad hex or bytes that do not decode;
    /// `TX_INVALID` (1003) when a consensus rule fails (`data.sender_fault` says whether it
    /// can ever become valid); `TX_REJECTED_BY_POOL` (1004) when the pool's policy refuses
    /// it (full, fee rate too low, too many unconfirmed ancestors, replacement rules);
    /// `UNAVAILABLE` (1006) while the node is syncing.
    #[method(name = "submit")]
    async fn submit(&self, hex: String) -> jsonrpsee::core::RpcResult<TxId>;

    /// A transaction in the pool or on the current chain, with its status:
    /// `{"state": "pool"}` or `{"state": "confirmed", "height", "block", "position",
    /// "confirmations"}`.
    ///
    /// Params: `txid`. Result: `TxInfo`. Errors: `NOT_FOUND` (1001) when the transaction is
    /// in neither.
    #[method(name = "get")]
    async fn get(&self, txid: TxId) -> jsonrpsee::core::RpcResult<TxInfo>;
}

/// `address_*`: balances, outputs and history of an address (PROTOCOL.md §3). An output
/// belongs to the address of its condition; a time-locked output to the address of the
/// condition it wraps.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "address")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "address")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "address")
)]
pub trait AddressApi {
    /// The address's balance at the tip: spendable coins, immature payouts (with the height
    /// each matures at), time-locked coins, what pool transactions would add and take, and
    /// its blockstakes.
    ///
    /// Params: `address` (78 hex characters). Result: `Balance`. Errors: `INVALID_PARAMS`
    /// (-32602) for a malformed address (the message says which check failed);
    /// `TOO_MANY_OUTPUTS` (1009) when the address has more unspent outputs than the node
    /// reads for one call (`max_address_outputs`, default 10000).
    #[method(name = "getBalance")]
    async fn get_balance(&self, address: Address) -> jsonrpsee::core::RpcResult<Balance>;

    /// Every unspent coin and blockstake output of the address at the tip, oldest first,
    /// each with the pool transaction that spends it (if any).
    ///
    /// Params: `address`. Result: array of `OutputInfo`. Errors: `INVALID_PARAMS` (-32602);
    /// `TOO_MANY_OUTPUTS` (1009) when the address has more unspent outputs than the node
    /// reads for one call (`max_address_outputs`, default 10000).
    #[method(name = "getOutputs")]
    async fn get_outputs(&self, address: Address) -> jsonrpsee::core::RpcResult<Vec<OutputInfo>>;

    /// The address's history on the current chain, newest first: each transaction that pays
    /// to or spends from it, and per block the payouts (rewards, fees) it received.
    ///
    /// Params: `address`; `cursor` (optional): the `next_cursor` of the previous page,
    /// omitted for the newest page; `limit` (optional): entries per page, default 100,
    /// capped at 1000 (larger values are lowered), 0 is an error.
    /// Result: `HistoryPage`; `next_cursor` is `null` on the last page. A reorganisation
    /// between pages can skip or repeat entries near the tip.
    /// Errors: `INVALID_PARAMS` (-32602) for a malformed address, cursor or limit.
    #[method(name = "getHistory")]
    async fn get_history(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> jsonrpsee::core::RpcResult<HistoryPage>;
}

/// `output_*`: single outputs by ID.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "output")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "output")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "output")
)]
pub trait OutputApi {
    /// An unspent coin or blockstake output of the current chain (PROTOCOL.md §4.2 IDs).
    ///
    /// Params: `id` (64 hex characters). Result: `OutputInfo`, or `null` when no unspent
    /// output has this ID: it was spent, never existed, or is created only by a pool
    /// transaction. A pool transaction spending it shows in `pool_spender`.
    #[method(name = "get")]
    async fn get(&self, id: OutputId) -> jsonrpsee::core::RpcResult<Option<OutputInfo>>;
}

/// `pool_*`: this node's transaction pool (policy, not consensus).
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "pool")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "pool")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "pool")
)]
pub trait PoolApi {
    /// Size and limits of the pool: transactions and bytes held, the maxima, the network's
    /// minimum fee and, when full, the fee rate a newcomer must beat.
    ///
    /// Result: `PoolInfo`.
    #[method(name = "getInfo")]
    async fn get_info(&self) -> jsonrpsee::core::RpcResult<PoolInfo>;

    /// Pool transactions in admission order (parents before children): TxId, fee, size and
    /// the tip height at admission. Fetch a full transaction with `tx_get`.
    ///
    /// Params: `limit` (optional): default 100, capped at 1000, 0 is an error.
    /// Result: array of `PoolTx`. Errors: `INVALID_PARAMS` (-32602).
    #[method(name = "getTransactions")]
    async fn get_transactions(&self, limit: Option<u32>)
        -> jsonrpsee::core::RpcResult<Vec<PoolTx>>;
}

/// `consensus_*`: the rules the node enforces.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "consensus")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "consensus")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "consensus")
)]
pub trait ConsensusApi {
    /// The network parameters of PROTOCOL.md §9 from the genesis file (block time,
    /// retargeting, maturity, reward, minimum fee, …) and the genesis ID.
    ///
    /// Result: `ChainParams`.
    #[method(name = "getParams")]
    async fn get_params(&self) -> jsonrpsee::core::RpcResult<ChainParams>;
}

/// `net_*`: the node on the peer-to-peer network (PROTOCOL.md §12).
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "net")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "net")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "net")
)]
pub trait NetApi {
    /// This node's peer ID and listen addresses, peer counts and limits, whether it is
    /// synced and the progress of a running sync.
    ///
    /// Result: `NetInfo`. Errors: `UNAVAILABLE` (1006) when the node runs without
    /// peer-to-peer networking.
    #[method(name = "getInfo")]
    async fn get_info(&self) -> jsonrpsee::core::RpcResult<NetInfo>;

    /// The connected peers: address, direction, last reported tip, score, agent.
    ///
    /// Result: array of `PeerInfo`. Errors: `UNAVAILABLE` (1006) without networking.
    #[method(name = "getPeers")]
    async fn get_peers(&self) -> jsonrpsee::core::RpcResult<Vec<PeerInfo>>;
}

/// `admin_*`: methods that change the node. The server refuses them with `ADMIN_DISABLED`
/// (1005) unless `tfchaind` was started with `--rpc-admin`.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "admin")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "admin")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "admin")
)]
pub trait AdminApi {
    /// Shut the node down cleanly (as on SIGTERM). Returns `true` once shutdown has begun;
    /// the connection closes soon after.
    ///
    /// Errors: `ADMIN_DISABLED` (1005).
    #[method(name = "shutdown")]
    async fn shutdown(&self) -> jsonrpsee::core::RpcResult<bool>;

    /// Connect to a peer now, lifting any ban on it. Returns `true` once the dial has
    /// started (the connection itself may still fail; see `net_getPeers`).
    ///
    /// Params: `address`: a multiaddr, e.g. `/ip4/10.0.0.5/tcp/23112/p2p/12D3Koo…`.
    /// Errors: `ADMIN_DISABLED` (1005); `INVALID_PARAMS` (-32602) for a malformed address;
    /// `UNAVAILABLE` (1006) without networking.
    #[method(name = "addPeer")]
    async fn add_peer(&self, address: String) -> jsonrpsee::core::RpcResult<bool>;

    /// Disconnect a peer and refuse it for `ban_seconds` (default 600; 0 only
    /// disconnects, and the peer may come back). Returns whether the peer was connected.
    ///
    /// Params: `peer`: a peer ID (base58), or a multiaddr ending in `/p2p/<peer id>`;
    /// `ban_seconds` (optional). Errors: `ADMIN_DISABLED` (1005); `INVALID_PARAMS`
    /// (-32602); `UNAVAILABLE` (1006) without networking.
    #[method(name = "removePeer")]
    async fn remove_peer(
        &self,
        peer: String,
        ban_seconds: Option<u64>,
    ) -> jsonrpsee::core::RpcResult<bool>;
}

/// `grid_*`: the capacity market (PROTOCOL.md §7). Reads of the current chain's grid
/// state, quotes, and the event log a node daemon follows.
#[cfg_attr(
    all(feature = "server", feature = "client"),
    rpc(server, client, namespace = "grid")
)]
#[cfg_attr(
    all(feature = "server", not(feature = "client")),
    rpc(server, namespace = "grid")
)]
#[cfg_attr(
    all(feature = "client", not(feature = "server")),
    rpc(client, namespace = "grid")
)]
pub trait GridApi {
    /// A farm by id.
    ///
    /// Result: `Farm` (`{id, name, owner, payout}`). Errors: `NOT_FOUND` (1001).
    #[method(name = "getFarm")]
    async fn get_farm(&self, farm: FarmId) -> jsonrpsee::core::RpcResult<Farm>;

    /// Farms by id, from `after + 1` (default: the first), at most `limit` (default 100,
    /// max 1000).
    ///
    /// Result: array of `Farm`.
    #[method(name = "listFarms")]
    async fn list_farms(
        &self,
        after: Option<FarmId>,
        limit: Option<u32>,
    ) -> jsonrpsee::core::RpcResult<Vec<Farm>>;

    /// A node by id, with its free capacity and unclaimed earnings.
    ///
    /// Result: `NodeInfo`. Errors: `NOT_FOUND` (1001).
    #[method(name = "getNode")]
    async fn get_node(&self, node: NodeId) -> jsonrpsee::core::RpcResult<NodeInfo>;

    /// The node registered with `node_key` (64 hex characters: the ed25519 public key the
    /// node's daemon holds), with its free capacity and unclaimed earnings. This is how a
    /// node daemon learns its node id from its key.
    ///
    /// Result: `NodeInfo`. Errors: `NOT_FOUND` (1001) when no node has that key.
    #[method(name = "getNodeByKey")]
    async fn get_node_by_key(&self, node_key: PublicKey) -> jsonrpsee::core::RpcResult<NodeInfo>;

    /// Nodes by id, from `after + 1`, at most `limit` (default 100, max 1000). `farm`:
    /// only that farm's nodes. `min_free` (`{cru, mru, sru, hru, ipv4}`): only nodes that
    /// are Up with at least that much free.
    ///
    /// Result: array of `NodeInfo`.
    #[method(name = "listNodes")]
    async fn list_nodes(
        &self,
        farm: Option<FarmId>,
        min_free: Option<Resources>,
        after: Option<NodeId>,
        limit: Option<u32>,
    ) -> jsonrpsee::core::RpcResult<Vec<NodeInfo>>;

    /// A reservation by id (ended ones too).
    ///
    /// Result: `ReservationInfo`. Errors: `NOT_FOUND` (1001).
    #[method(name = "getReservation")]
    async fn get_reservation(
        &self,
        reservation: ReservationId,
    ) -> jsonrpsee::core::RpcResult<ReservationInfo>;

    /// Reservations by id, from `after + 1`, at most `limit` (default 100, max 1000):
    /// either the live ones of `node`, or all of `owner` (an owner condition's address,
    /// ended reservations included). Exactly one of `node` and `owner` is required.
    ///
    /// Result: array of `ReservationInfo`. Errors: `INVALID_PARAMS` (-32602) unless
    /// exactly one of `node`, `owner` is given.
    #[method(name = "listReservations")]
    async fn list_reservations(
        &self,
        node: Option<NodeId>,
        owner: Option<Address>,
        after: Option<ReservationId>,
        limit: Option<u32>,
    ) -> jsonrpsee::core::RpcResult<Vec<ReservationInfo>>;

    /// What reserving `resources` on `node` for `blocks` blocks costs at its current
    /// price: the rate per block, the deposit for `blocks`, the minimum deposit, and
    /// whether it fits now.
    ///
    /// Result: `Quote`. Errors: `NOT_FOUND` (1001) for an unknown node; `INVALID_PARAMS`
    /// (-32602) when `resources` are all zero or the node's price for them is zero.
    #[method(name = "quote")]
    async fn quote(
        &self,
        node: NodeId,
        resources: Resources,
        blocks: u64,
    ) -> jsonrpsee::core::RpcResult<Quote>;

    /// Events of the current chain in order (PROTOCOL.md §7.5), of `node` if given, from
    /// height `from_height` (default 0), at most `limit` (default 100, max 1000). To page
    /// on, pass the last event's cursor as `after` (then `from_height` is ignored); when
    /// `after` names a block that a reorganisation removed, the page starts with that
    /// branch's events marked `reverted`, newest first, down to the fork.
    ///
    /// Result: `EventsPage`.
    #[method(name = "getEvents")]
    async fn get_events(
        &self,
        node: Option<NodeId>,
        from_height: Option<Height>,
        limit: Option<u32>,
        after: Option<EventCursor>,
    ) -> jsonrpsee::core::RpcResult<EventsPage>;

    /// Subscribe to grid events matching `filter` (`{node?, farm?, reservation?, after?}`;
    /// `farm` matches the farm's own events and those of its nodes' reservations), one
    /// `EventInfo` per notification, in chain order. With `after`, every event after
    /// that cursor is replayed first, so a subscriber that reconnects with its last cursor
    /// misses nothing. When a reorganisation removes blocks, their events are sent again
    /// with `reverted: true` (newest first) before the new branch's. A subscriber that falls
    /// too far behind is dropped: resubscribe with the last cursor. Cancel with
    /// `grid_unsubscribeEvents(subscription_id)`. Over plain HTTP: error
    /// `WEBSOCKET_REQUIRED` (1008).
    #[subscription(
        name = "subscribeEvents",
        unsubscribe = "unsubscribeEvents",
        item = EventInfo,
        with_extensions
    )]
    async fn subscribe_events(
        &self,
        filter: Option<EventFilter>,
    ) -> jsonrpsee::core::SubscriptionResult;
}

#[cfg(all(test, feature = "server"))]
#[path = "rpc_tests.rs"]
mod tests;
