//! The chain client: one WebSocket connection to tfchaind for the node's reservations at a
//! known height, single reservations, and the two subscriptions the daemon follows (the
//! node's grid events from a cursor, and new heads).

use jsonrpsee::core::client::Subscription;
use jsonrpsee::core::ClientError;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use std::time::Duration;
use tfchain_api::{
    ChainApiClient, ChainInfo, EventCursor, EventFilter, EventInfo, GridApiClient, HeaderInfo,
    NodeInfo,
};
use tfchain_types::{BlockId, Height, NodeId, PublicKey, Reservation, ReservationId};

/// Most reservations per page (the node's cap).
const PAGE: u32 = 1000;
/// Attempts at a snapshot whose tip did not move while it was read.
const SNAPSHOT_TRIES: usize = 8;
/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("tfchaind at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("tfchaind call {call} failed: {source}")]
    Call {
        call: &'static str,
        source: ClientError,
    },
    #[error("the chain kept moving while its reservations were read ({SNAPSHOT_TRIES} tries)")]
    Moving,
    #[error("{0}")]
    BadUrl(String),
}

/// The node's live reservations as of one block.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub height: Height,
    pub tip: BlockId,
    pub reservations: Vec<Reservation>,
}

impl Snapshot {
    /// The event cursor right after everything the snapshot includes: the subscription that
    /// starts from it misses nothing, and if the snapshot's tip is reorganised away its
    /// events come back `reverted`.
    pub fn cursor(&self) -> EventCursor {
        EventCursor {
            height: self.height,
            index: u32::MAX,
            block: self.tip,
        }
    }
}

/// The WebSocket URL of tfchaind's RPC address (`http://h:p` → `ws://h:p`).
pub fn ws_url(rpc: &str) -> Result<String, ChainError> {
    let rpc = rpc.trim_end_matches('/');
    if let Some(rest) = rpc.strip_prefix("http://") {
        Ok(format!("ws://{rest}"))
    } else if let Some(rest) = rpc.strip_prefix("https://") {
        Ok(format!("wss://{rest}"))
    } else if rpc.starts_with("ws://") || rpc.starts_with("wss://") {
        Ok(rpc.to_string())
    } else {
        Err(ChainError::BadUrl(format!(
            "--rpc {rpc:?}: give tfchaind's RPC address as http://HOST:PORT"
        )))
    }
}

fn call(call: &'static str) -> impl FnOnce(ClientError) -> ChainError {
    move |source| ChainError::Call { call, source }
}

/// Whether a call failed because what it asked for does not exist.
fn is_not_found(e: &ClientError) -> bool {
    matches!(e, ClientError::Call(o) if o.code() == tfchain_api::error::NOT_FOUND)
}

#[derive(Debug)]
pub struct Chain {
    ws: WsClient,
}

impl Chain {
    pub async fn connect(url: &str) -> Result<Chain, ChainError> {
        let ws = WsClientBuilder::default()
            .request_timeout(CALL_TIMEOUT)
            .max_buffer_capacity_per_subscription(4096)
            .build(url)
            .await
            .map_err(|e| ChainError::Unreachable {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Chain { ws })
    }

    /// Whether the connection still stands.
    pub fn is_connected(&self) -> bool {
        self.ws.is_connected()
    }

    pub async fn info(&self) -> Result<ChainInfo, ChainError> {
        ChainApiClient::get_info(&self.ws)
            .await
            .map_err(call("chain_getInfo"))
    }

    /// The node registered with `key`, if any.
    pub async fn node_by_key(&self, key: PublicKey) -> Result<Option<NodeInfo>, ChainError> {
        match self.ws.get_node_by_key(key).await {
            Ok(n) => Ok(Some(n)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(call("grid_getNodeByKey")(e)),
        }
    }

    /// A reservation as the chain has it now (`None`: it does not exist on this chain).
    pub async fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, ChainError> {
        match self.ws.get_reservation(id).await {
            Ok(r) => Ok(Some(r.reservation)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(call("grid_getReservation")(e)),
        }
    }

    /// Every live reservation of `node` at one tip: the tip is read before and after the
    /// pages, and the read is repeated while it moved. (A block committed between the
    /// store write and the tip update may show early; its events are then replayed from
    /// the snapshot's cursor, which is harmless because every event only makes the daemon
    /// read that reservation again.)
    pub async fn snapshot(&self, node: NodeId) -> Result<Snapshot, ChainError> {
        for _ in 0..SNAPSHOT_TRIES {
            let before = self.info().await?;
            let mut reservations = Vec::new();
            let mut after = None;
            loop {
                let page = self
                    .ws
                    .list_reservations(Some(node), None, after, Some(PAGE))
                    .await
                    .map_err(call("grid_listReservations"))?;
                let full = page.len() >= PAGE as usize;
                after = page.last().map(|r| r.reservation.id);
                reservations.extend(page.into_iter().map(|r| r.reservation));
                if !full {
                    break;
                }
            }
            let now = self.info().await?;
            if now.tip == before.tip {
                return Ok(Snapshot {
                    height: before.height,
                    tip: before.tip,
                    reservations,
                });
            }
        }
        Err(ChainError::Moving)
    }

    /// The node's events of blocks `from_height..` (for confirmations after a snapshot).
    pub async fn events_since(
        &self,
        node: NodeId,
        from_height: Height,
    ) -> Result<Vec<EventInfo>, ChainError> {
        let mut out = Vec::new();
        let mut page = self
            .ws
            .get_events(Some(node), Some(from_height), Some(PAGE), None)
            .await
            .map_err(call("grid_getEvents"))?;
        loop {
            out.extend(page.events);
            let Some(next) = page.next else {
                return Ok(out);
            };
            page = self
                .ws
                .get_events(Some(node), None, Some(PAGE), Some(next))
                .await
                .map_err(call("grid_getEvents"))?;
        }
    }

    /// The node's events after `cursor`, then as they happen.
    pub async fn follow_events(
        &self,
        node: NodeId,
        cursor: EventCursor,
    ) -> Result<Subscription<EventInfo>, ChainError> {
        let filter = EventFilter {
            node: Some(node),
            after: Some(cursor),
            ..EventFilter::default()
        };
        self.ws
            .subscribe_events(Some(filter))
            .await
            .map_err(call("grid_subscribeEvents"))
    }

    /// New tips as they come.
    pub async fn follow_heads(&self) -> Result<Subscription<HeaderInfo>, ChainError> {
        self.ws
            .subscribe_new_heads()
            .await
            .map_err(call("chain_subscribeNewHeads"))
    }
}
