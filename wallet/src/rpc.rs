//! The connection to a node: the `api` crate's generated JSON-RPC client over HTTP, with
//! errors turned into messages that name the URL, and batch requests for scanning many
//! addresses at once.

use crate::error::{Result, WalletError};
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::{ArrayParams, BatchRequestBuilder};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tfchain_api::{
    error as api_error, AddressApiClient, Balance, BlockInfo, BlockRef, ChainApiClient, ChainInfo,
    ConsensusApiClient, EventCursor, EventsPage, GridApiClient, HistoryPage, NodeInfo,
    OutputApiClient, OutputInfo, Quote, ReservationInfo, TxApiClient, TxInfo,
};
use tfchain_consensus::ChainParams;
use tfchain_types::{
    Address, Farm, FarmId, Height, NodeId, OutputId, ReservationId, Resources, Transaction, TxId,
};

/// The default node address (`tfchaind`'s default `--rpc-addr`).
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:23110";
/// Calls per batch request: the node's default cap.
pub const BATCH_SIZE: usize = 64;

/// A node's JSON-RPC endpoint.
#[derive(Debug)]
pub struct Node {
    client: HttpClient,
    url: String,
}

impl Node {
    /// A client for `url` (`http://host:port`; a bare `host:port` gets `http://`). Nothing
    /// is sent until the first call.
    pub fn new(url: &str) -> Result<Node> {
        let url = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(60))
            .max_response_size(64 * 1024 * 1024)
            .build(&url)
            .map_err(|e| WalletError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Node { client, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn err(&self, e: ClientError) -> WalletError {
        match e {
            ClientError::Call(obj) => {
                let detail = obj
                    .data()
                    .and_then(|d| serde_json::from_str::<Detail>(d.get()).ok());
                WalletError::NodeRefused {
                    url: self.url.clone(),
                    code: obj.code(),
                    message: match obj.data() {
                        Some(d) if obj.code() == api_error::INVALID_PARAMS => {
                            format!("{} ({})", obj.message(), d.get())
                        }
                        _ => obj.message().to_string(),
                    },
                    reason: detail.as_ref().and_then(|d| d.reason.clone()),
                    rule: detail.as_ref().and_then(|d| d.rule.clone()),
                    detail: detail.and_then(|d| d.detail).map(Box::new),
                }
            }
            ClientError::Transport(t) => WalletError::NodeUnreachable {
                url: self.url.clone(),
                reason: chain_of(&*t),
            },
            ClientError::RequestTimeout => WalletError::NodeUnreachable {
                url: self.url.clone(),
                reason: "no answer within 60 s".into(),
            },
            other => WalletError::NodeProtocol {
                url: self.url.clone(),
                reason: other.to_string(),
            },
        }
    }

    pub async fn info(&self) -> Result<ChainInfo> {
        ChainApiClient::get_info(&self.client)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn params(&self) -> Result<ChainParams> {
        self.client.get_params().await.map_err(|e| self.err(e))
    }

    pub async fn block(&self, at: BlockRef) -> Result<BlockInfo> {
        self.client.get_block(at).await.map_err(|e| self.err(e))
    }

    /// A transaction in the pool or on the chain; `None` when the node knows neither.
    pub async fn tx(&self, txid: TxId) -> Result<Option<TxInfo>> {
        match TxApiClient::get(&self.client, txid).await {
            Ok(t) => Ok(Some(t)),
            Err(ClientError::Call(obj)) if obj.code() == api_error::NOT_FOUND => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    pub async fn submit(&self, tx: &Transaction) -> Result<TxId> {
        let hex = hex::encode(tfchain_types::encode(tx));
        self.client.submit(hex).await.map_err(|e| self.err(e))
    }

    pub async fn output(&self, id: OutputId) -> Result<Option<OutputInfo>> {
        OutputApiClient::get(&self.client, id)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn balance(&self, address: Address) -> Result<Balance> {
        self.client
            .get_balance(address)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn outputs(&self, address: Address) -> Result<Vec<OutputInfo>> {
        self.client
            .get_outputs(address)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn history(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        self.client
            .get_history(address, cursor, limit)
            .await
            .map_err(|e| self.err(e))
    }

    /// Calls `method` once per parameter list, in batches of [`BATCH_SIZE`]; results in order.
    pub async fn batch<R: DeserializeOwned + std::fmt::Debug>(
        &self,
        method: &str,
        calls: Vec<ArrayParams>,
    ) -> Result<Vec<R>> {
        let mut out = Vec::with_capacity(calls.len());
        let mut calls = calls.into_iter().peekable();
        while calls.peek().is_some() {
            let mut batch = BatchRequestBuilder::new();
            for params in calls.by_ref().take(BATCH_SIZE) {
                batch
                    .insert(method, params)
                    .map_err(|e| WalletError::NodeProtocol {
                        url: self.url.clone(),
                        reason: e.to_string(),
                    })?;
            }
            let response = self
                .client
                .batch_request::<R>(batch)
                .await
                .map_err(|e| self.err(e))?;
            for entry in response.into_iter() {
                let value = entry.map_err(|obj| self.err(ClientError::Call(obj.into_owned())))?;
                out.push(value);
            }
        }
        Ok(out)
    }

    /// `address_getBalance` of many addresses.
    pub async fn balances(&self, addresses: &[Address]) -> Result<Vec<Balance>> {
        self.batch("address_getBalance", params_of(addresses, |_| Ok(()))?)
            .await
    }

    /// `address_getOutputs` of many addresses.
    pub async fn outputs_of(&self, addresses: &[Address]) -> Result<Vec<Vec<OutputInfo>>> {
        self.batch("address_getOutputs", params_of(addresses, |_| Ok(()))?)
            .await
    }

    /// The first history page (at most `limit` entries) of many addresses.
    pub async fn histories(&self, addresses: &[Address], limit: u32) -> Result<Vec<HistoryPage>> {
        let params = params_of(addresses, |p| {
            p.insert(Option::<String>::None)?;
            p.insert(limit)
        })?;
        self.batch("address_getHistory", params).await
    }
}

/// What the node's transaction errors carry in their `data`: the rule in words and, for
/// `TX_INVALID`, its stable name.
#[derive(serde::Deserialize)]
struct Detail {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// The `grid` namespace (PROTOCOL.md §7). A lookup of an id the chain does not have is
/// [`WalletError::GridNotFound`].
impl Node {
    fn not_found(&self, e: ClientError, what: &'static str, id: u64) -> WalletError {
        match e {
            ClientError::Call(obj) if obj.code() == api_error::NOT_FOUND => {
                WalletError::GridNotFound { what, id }
            }
            e => self.err(e),
        }
    }

    pub async fn farm(&self, id: FarmId) -> Result<Farm> {
        self.client
            .get_farm(id)
            .await
            .map_err(|e| self.not_found(e, "farm", id.into()))
    }

    pub async fn farms(&self, after: Option<FarmId>, limit: Option<u32>) -> Result<Vec<Farm>> {
        self.client
            .list_farms(after, limit)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn grid_node(&self, id: NodeId) -> Result<NodeInfo> {
        self.client
            .get_node(id)
            .await
            .map_err(|e| self.not_found(e, "node", id.into()))
    }

    pub async fn grid_nodes(
        &self,
        farm: Option<FarmId>,
        min_free: Option<Resources>,
        after: Option<NodeId>,
        limit: Option<u32>,
    ) -> Result<Vec<NodeInfo>> {
        self.client
            .list_nodes(farm, min_free, after, limit)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn reservation(&self, id: ReservationId) -> Result<ReservationInfo> {
        self.client
            .get_reservation(id)
            .await
            .map_err(|e| self.not_found(e, "reservation", id))
    }

    pub async fn reservations(
        &self,
        node: Option<NodeId>,
        owner: Option<Address>,
        after: Option<ReservationId>,
        limit: Option<u32>,
    ) -> Result<Vec<ReservationInfo>> {
        self.client
            .list_reservations(node, owner, after, limit)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn quote(&self, node: NodeId, resources: Resources, blocks: u64) -> Result<Quote> {
        self.client
            .quote(node, resources, blocks)
            .await
            .map_err(|e| self.not_found(e, "node", node.into()))
    }

    pub async fn grid_events(
        &self,
        node: Option<NodeId>,
        from_height: Option<Height>,
        limit: Option<u32>,
        after: Option<EventCursor>,
    ) -> Result<EventsPage> {
        self.client
            .get_events(node, from_height, limit, after)
            .await
            .map_err(|e| self.err(e))
    }
}

fn params_of(
    addresses: &[Address],
    extra: impl Fn(&mut ArrayParams) -> Result<(), serde_json::Error>,
) -> Result<Vec<ArrayParams>> {
    addresses
        .iter()
        .map(|a| {
            let mut p = ArrayParams::new();
            p.insert(a).and_then(|_| extra(&mut p)).map(|_| p)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WalletError::NodeProtocol {
            url: String::new(),
            reason: e.to_string(),
        })
}

/// An error and its sources, `: `-separated (a transport error's cause is in its sources).
fn chain_of(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
