//! `grid_*` methods (PROTOCOL.md §7): farms, nodes and reservations from the store's grid
//! records, quotes at a node's current price, and the event log (§7.5) read by page or
//! followed over WebSocket (`grid_events.rs`).

use super::{blocking, internal, Rpc};
use crate::store::{CursorError, LogEvent, LogPosition};
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::PendingSubscriptionSink;
use tfchain_api::error;
use tfchain_api::params::page_limit;
use tfchain_api::{
    EventCursor, EventFilter, EventInfo, EventsPage, GridApiServer, NodeInfo, Quote,
    ReservationInfo,
};
use tfchain_consensus::grid_context;
use tfchain_contracts::settle::index_height;
use tfchain_contracts::{GridKey, GridValue};
use tfchain_types::{
    Address, Farm, FarmId, Height, Node, NodeId, NodeState, PublicKey, Reservation, ReservationId,
    Resources,
};

impl Rpc {
    fn grid_record(&self, key: &GridKey) -> RpcResult<Option<GridValue>> {
        self.chain.store.grid_value(key).map_err(internal)
    }

    fn farm_record(&self, id: FarmId) -> RpcResult<Farm> {
        match self.grid_record(&GridKey::Farm(id))? {
            Some(GridValue::Farm(f)) => Ok(f),
            _ => Err(error::not_found(
                "farm",
                id,
                "list the farms with grid_listFarms",
            )),
        }
    }

    fn node_record(&self, id: NodeId) -> RpcResult<Node> {
        match self.grid_record(&GridKey::Node(id))? {
            Some(GridValue::Node(n)) => Ok(n),
            _ => Err(error::not_found(
                "node",
                id,
                "list the nodes with grid_listNodes",
            )),
        }
    }

    /// A reservation with its owner's address and when it is next processed (§7.4), as
    /// the next block would see it.
    fn reservation_info(&self, reservation: Reservation) -> ReservationInfo {
        let ctx = grid_context(&self.chain.params, self.chain.store.tip().height + 1);
        ReservationInfo {
            owner_address: reservation.owner.address(),
            next_change_at: index_height(&reservation, &ctx),
            reservation,
        }
    }
}

fn node_info(node: Node) -> NodeInfo {
    NodeInfo {
        free: tfchain_contracts::free(&node.capacity, &node.used),
        node,
    }
}

/// An event as the API shows it.
pub(super) fn event_info(e: LogEvent) -> EventInfo {
    EventInfo {
        cursor: EventCursor {
            height: e.position.height,
            index: e.position.index,
            block: e.block,
        },
        txid: e.event.txid,
        event: e.event.kind,
        reverted: e.reverted,
    }
}

/// The cursor to continue after `pos`.
fn cursor_of(pos: &LogPosition) -> EventCursor {
    EventCursor {
        height: pos.height,
        index: pos.index,
        block: pos.block,
    }
}

/// A cursor that names no block this node knows at its height is a bad parameter.
pub(super) fn cursor_error(e: CursorError) -> ErrorObjectOwned {
    match e {
        CursorError::Store(e) => internal(e),
        other => error::invalid_params("after", other),
    }
}

#[async_trait]
impl GridApiServer for Rpc {
    async fn get_farm(&self, farm: FarmId) -> RpcResult<Farm> {
        self.farm_record(farm)
    }

    async fn list_farms(&self, after: Option<FarmId>, limit: Option<u32>) -> RpcResult<Vec<Farm>> {
        let limit = page_limit(limit)?;
        let this = self.clone();
        blocking(move || {
            this.chain
                .store
                .farms(after.unwrap_or(0), limit)
                .map_err(internal)
        })
        .await
    }

    async fn get_node(&self, node: NodeId) -> RpcResult<NodeInfo> {
        self.node_record(node).map(node_info)
    }

    async fn get_node_by_key(&self, node_key: PublicKey) -> RpcResult<NodeInfo> {
        match self.grid_record(&GridKey::NodeKey(node_key))? {
            Some(GridValue::NodeId(id)) => self.node_record(id).map(node_info),
            _ => Err(error::not_found(
                "node with key",
                hex::encode(node_key.0),
                "no node is registered with this key: check the daemon's --node-key, or list the nodes with grid_listNodes",
            )),
        }
    }

    async fn list_nodes(
        &self,
        farm: Option<FarmId>,
        min_free: Option<Resources>,
        after: Option<NodeId>,
        limit: Option<u32>,
    ) -> RpcResult<Vec<NodeInfo>> {
        let limit = page_limit(limit)?;
        let this = self.clone();
        blocking(move || {
            let mut out = Vec::new();
            let mut after = after.unwrap_or(0);
            // A page of `limit` matches: read on while nodes are filtered out.
            loop {
                let nodes = this
                    .chain
                    .store
                    .nodes(farm, after, limit)
                    .map_err(internal)?;
                let read = nodes.len();
                for n in nodes {
                    after = n.id;
                    let info = node_info(n);
                    let fits = min_free.is_none_or(|m| {
                        info.node.state == NodeState::Up && m.fits_within(&info.free)
                    });
                    if fits && out.len() < limit {
                        out.push(info);
                    }
                }
                if read < limit || out.len() >= limit {
                    return Ok(out);
                }
            }
        })
        .await
    }

    async fn get_reservation(&self, reservation: ReservationId) -> RpcResult<ReservationInfo> {
        match self.grid_record(&GridKey::Reservation(reservation))? {
            Some(GridValue::Reservation(r)) => Ok(self.reservation_info(r)),
            _ => Err(error::not_found(
                "reservation",
                reservation,
                "list a node's or an owner's reservations with grid_listReservations",
            )),
        }
    }

    async fn list_reservations(
        &self,
        node: Option<NodeId>,
        owner: Option<Address>,
        after: Option<ReservationId>,
        limit: Option<u32>,
    ) -> RpcResult<Vec<ReservationInfo>> {
        let limit = page_limit(limit)?;
        let after = after.unwrap_or(0);
        let this = self.clone();
        blocking(move || {
            let store = &this.chain.store;
            let list = match (node, owner) {
                (Some(n), None) => store.node_reservations(n, after, limit),
                (None, Some(o)) => store.owner_reservations(&o, after, limit),
                _ => {
                    return Err(error::invalid_params(
                        "node",
                        "or `owner` is required, not both: pass a node id or an owner address",
                    ))
                }
            }
            .map_err(internal)?;
            Ok(list.into_iter().map(|r| this.reservation_info(r)).collect())
        })
        .await
    }

    async fn quote(&self, node: NodeId, resources: Resources, blocks: u64) -> RpcResult<Quote> {
        let n = self.node_record(node)?;
        if resources.is_zero() {
            return Err(error::invalid_params(
                "resources",
                "are all zero: a reservation must reserve something (PROTOCOL.md §7.3)",
            ));
        }
        let (rate, min_deposit) = tfchain_contracts::quote(
            &n.price,
            &resources,
            self.chain.params.min_reservation_blocks,
        )
        .map_err(|e| {
            error::invalid_params("resources", format!("cannot be priced on node {node}: {e}"))
        })?;
        let deposit = rate.checked_mul(u128::from(blocks)).ok_or_else(|| {
            error::invalid_params("blocks", "is too large: the deposit overflows")
        })?;
        let free = tfchain_contracts::free(&n.capacity, &n.used);
        Ok(Quote {
            node,
            resources,
            rate,
            blocks,
            deposit,
            min_deposit,
            available: n.state == NodeState::Up && resources.fits_within(&free),
            free,
        })
    }

    async fn get_events(
        &self,
        node: Option<NodeId>,
        from_height: Option<Height>,
        limit: Option<u32>,
        after: Option<EventCursor>,
    ) -> RpcResult<EventsPage> {
        let limit = page_limit(limit)?;
        let this = self.clone();
        blocking(move || {
            let store = &this.chain.store;
            let (events, pos) = match after {
                Some(c) => {
                    let mut pos = store
                        .log_position(c.height, c.index, c.block)
                        .map_err(cursor_error)?;
                    let events = store
                        .read_log(&mut pos, node, |_| true, limit)
                        .map_err(internal)?;
                    (events, Some(pos))
                }
                None => store
                    .read_log_from(from_height.unwrap_or(0), node, limit)
                    .map_err(internal)?,
            };
            // More may follow a full page; after reverted events, the position to go on
            // from is the fork point, which no event's cursor names.
            let more = events.len() >= limit || events.last().is_some_and(|e| e.reverted);
            Ok(EventsPage {
                next: pos.filter(|_| more).as_ref().map(cursor_of),
                events: events.into_iter().map(event_info).collect(),
            })
        })
        .await
    }

    async fn subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        ext: &jsonrpsee::Extensions,
        filter: Option<EventFilter>,
    ) -> SubscriptionResult {
        let _live = super::guard::hold_subscription(ext);
        self.follow_events(pending, filter.unwrap_or_default())
            .await
    }
}
