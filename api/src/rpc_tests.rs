//! The generated server against [`crate::METHODS`], and parameter decoding through a real
//! `RpcModule`: what a caller sees for good and bad parameters.

use super::*;
use crate::error;
use crate::json_tests::{address, sample_header, sample_tx};
use crate::params::{page_limit, HistoryCursor};
use crate::types::{BlockTx, HistoryEntry, PoolTx, TxStatus};
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::core::{async_trait, to_json_raw_value, RpcResult, SubscriptionResult};
use jsonrpsee::{Extensions, PendingSubscriptionSink, RpcModule};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tfchain_consensus::{Target, Work};
use tfchain_types::{BlockId, Currency, Hash};

const TIP: u64 = 10;

/// A node with a fixed chain of heights 0..=10 whose block IDs are unknown to it.
#[derive(Debug, Clone, Copy)]
struct Dummy;

fn unavailable<T>() -> RpcResult<T> {
    Err(error::unavailable("dummy"))
}

#[async_trait]
impl ChainApiServer for Dummy {
    async fn get_info(&self) -> RpcResult<ChainInfo> {
        Ok(ChainInfo {
            network: "dev".into(),
            genesis_id: BlockId(Hash([1; 32])),
            height: TIP,
            tip: BlockId(Hash([2; 32])),
            tip_timestamp: 0,
            target: Target::MAX,
            total_work: Work::ZERO,
            synced: true,
            peers: 0,
        })
    }

    async fn get_block(&self, block: BlockRef) -> RpcResult<BlockInfo> {
        match block {
            BlockRef::Height(h) if h <= TIP => {
                let head = sample_header(h);
                let tx = sample_tx();
                Ok(BlockInfo {
                    id: head.id,
                    height: h,
                    header: head.header,
                    signature: head.signature,
                    transactions: vec![BlockTx {
                        txid: tx.txid(),
                        transaction: tx,
                    }],
                    size: 1,
                    confirmations: TIP - h + 1,
                })
            }
            other => Err(error::block_not_found(&other, TIP)),
        }
    }

    async fn get_header(&self, block: BlockRef) -> RpcResult<HeaderInfo> {
        Err(error::block_not_found(&block, TIP))
    }

    async fn get_supply(&self) -> RpcResult<Supply> {
        unavailable()
    }

    async fn get_equivocations(
        &self,
        _cursor: Option<String>,
        _limit: Option<u32>,
    ) -> RpcResult<EquivocationsPage> {
        Ok(EquivocationsPage {
            equivocations: vec![],
            next_cursor: None,
        })
    }

    async fn subscribe_new_heads(
        &self,
        pending: PendingSubscriptionSink,
        _ext: &Extensions,
    ) -> SubscriptionResult {
        let sink = pending.accept().await?;
        for h in [TIP, TIP + 1] {
            sink.send(to_json_raw_value(&sample_header(h))?).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl TxApiServer for Dummy {
    async fn submit(&self, hex: String) -> RpcResult<TxId> {
        crate::params::decode_tx_hex(&hex).map(|tx| tx.txid())
    }

    async fn get(&self, txid: TxId) -> RpcResult<TxInfo> {
        if txid == sample_tx().txid() {
            Ok(TxInfo {
                txid,
                transaction: sample_tx(),
                status: TxStatus::Pool,
            })
        } else {
            Err(error::tx_not_found(&txid))
        }
    }
}

#[async_trait]
impl AddressApiServer for Dummy {
    async fn get_balance(&self, _address: Address) -> RpcResult<Balance> {
        unavailable()
    }

    async fn get_outputs(&self, _address: Address) -> RpcResult<Vec<OutputInfo>> {
        Ok(vec![])
    }

    /// Echoes its parameters: one entry per requested item, the cursor's height as the
    /// first entry's height.
    async fn get_history(
        &self,
        _address: Address,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> RpcResult<HistoryPage> {
        let limit = page_limit(limit)?;
        let from = match cursor {
            Some(c) => HistoryCursor::parse(&c)?.height,
            None => TIP,
        };
        let entry = HistoryEntry {
            txid: None,
            block: BlockId::ZERO,
            height: from,
            position: None,
            timestamp: 0,
            received: Currency(1),
            sent: Currency::ZERO,
        };
        Ok(HistoryPage {
            entries: vec![entry; limit],
            next_cursor: Some(
                HistoryCursor {
                    height: 0,
                    index: 0,
                }
                .to_string(),
            ),
        })
    }
}

#[async_trait]
impl OutputApiServer for Dummy {
    async fn get(&self, _id: OutputId) -> RpcResult<Option<OutputInfo>> {
        Ok(None)
    }
}

#[async_trait]
impl PoolApiServer for Dummy {
    async fn get_info(&self) -> RpcResult<PoolInfo> {
        unavailable()
    }

    async fn get_transactions(&self, limit: Option<u32>) -> RpcResult<Vec<PoolTx>> {
        let n = page_limit(limit)?.min(2);
        Ok((0..n)
            .map(|i| PoolTx {
                txid: TxId::ZERO,
                fee: Currency(1),
                size: 1,
                added_height: i as u64,
            })
            .collect())
    }
}

#[async_trait]
impl ConsensusApiServer for Dummy {
    async fn get_params(&self) -> RpcResult<ChainParams> {
        unavailable()
    }
}

#[async_trait]
impl NetApiServer for Dummy {
    async fn get_info(&self) -> RpcResult<NetInfo> {
        unavailable()
    }

    async fn get_peers(&self) -> RpcResult<Vec<PeerInfo>> {
        Ok(vec![])
    }
}

#[async_trait]
impl AdminApiServer for Dummy {
    async fn shutdown(&self) -> RpcResult<bool> {
        Err(error::admin_disabled())
    }

    async fn add_peer(&self, _address: String) -> RpcResult<bool> {
        Err(error::admin_disabled())
    }

    async fn remove_peer(&self, _peer: String, _ban_seconds: Option<u64>) -> RpcResult<bool> {
        Err(error::admin_disabled())
    }
}

/// An empty capacity market: every lookup misses, every list is empty.
#[async_trait]
impl GridApiServer for Dummy {
    async fn get_farm(&self, farm: tfchain_types::FarmId) -> RpcResult<Farm> {
        Err(error::not_found(
            "farm",
            farm,
            "list farms with grid_listFarms",
        ))
    }

    async fn list_farms(
        &self,
        _after: Option<tfchain_types::FarmId>,
        limit: Option<u32>,
    ) -> RpcResult<Vec<Farm>> {
        page_limit(limit).map(|_| vec![])
    }

    async fn get_node(&self, node: NodeId) -> RpcResult<NodeInfo> {
        Err(error::not_found(
            "node",
            node,
            "list nodes with grid_listNodes",
        ))
    }

    async fn get_node_by_key(&self, node_key: tfchain_types::PublicKey) -> RpcResult<NodeInfo> {
        Err(error::not_found(
            "node with key",
            hex::encode(node_key.0),
            "list nodes with grid_listNodes",
        ))
    }

    async fn list_nodes(
        &self,
        _farm: Option<tfchain_types::FarmId>,
        _min_free: Option<Resources>,
        _after: Option<NodeId>,
        limit: Option<u32>,
    ) -> RpcResult<Vec<NodeInfo>> {
        page_limit(limit).map(|_| vec![])
    }

    async fn get_reservation(&self, reservation: ReservationId) -> RpcResult<ReservationInfo> {
        Err(error::not_found("reservation", reservation, "check the id"))
    }

    async fn list_reservations(
        &self,
        _node: Option<NodeId>,
        _owner: Option<Address>,
        _after: Option<ReservationId>,
        limit: Option<u32>,
    ) -> RpcResult<Vec<ReservationInfo>> {
        page_limit(limit).map(|_| vec![])
    }

    async fn quote(&self, node: NodeId, _resources: Resources, _blocks: u64) -> RpcResult<Quote> {
        Err(error::not_found(
            "node",
            node,
            "list nodes with grid_listNodes",
        ))
    }

    async fn get_events(
        &self,
        _node: Option<NodeId>,
        _from_height: Option<Height>,
        limit: Option<u32>,
        _after: Option<EventCursor>,
    ) -> RpcResult<EventsPage> {
        page_limit(limit)?;
        Ok(EventsPage {
            events: vec![],
            next: None,
        })
    }

    async fn subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        _ext: &Extensions,
        _filter: Option<EventFilter>,
    ) -> SubscriptionResult {
        pending.accept().await?;
        Ok(())
    }
}

fn module() -> RpcModule<()> {
    let mut m = RpcModule::new(());
    let parts = [
        ChainApiServer::into_rpc(Dummy).remove_context(),
        TxApiServer::into_rpc(Dummy).remove_context(),
        AddressApiServer::into_rpc(Dummy).remove_context(),
        OutputApiServer::into_rpc(Dummy).remove_context(),
        PoolApiServer::into_rpc(Dummy).remove_context(),
        ConsensusApiServer::into_rpc(Dummy).remove_context(),
        NetApiServer::into_rpc(Dummy).remove_context(),
        GridApiServer::into_rpc(Dummy).remove_context(),
        AdminApiServer::into_rpc(Dummy).remove_context(),
    ];
    for part in parts {
        if let Err(e) = m.merge(part) {
            panic!("namespaces overlap: {e}");
        }
    }
    m
}

#[test]
fn methods_list_matches_the_generated_server() {
    let served: BTreeSet<&str> = module().method_names().collect();
    let listed: BTreeSet<&str> = crate::METHODS.iter().map(|m| m.0).collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "served but not in METHODS: {missing:?}; in METHODS but not served: {extra:?}"
    );
}

/// Calls `method` and returns the error object (panics on success).
async fn call_err(m: &RpcModule<()>, method: &str, params: Value) -> (i32, String, Value) {
    let params = params.as_array().cloned().unwrap_or_default();
    let mut rpc_params = jsonrpsee::core::params::ArrayParams::new();
    for p in params {
        if let Err(e) = rpc_params.insert(p) {
            panic!("param: {e}");
        }
    }
    match m.call::<_, Value>(method, rpc_params).await {
        Ok(v) => panic!("{method} succeeded with {v}"),
        Err(MethodsError::JsonRpc(e)) => {
            let data = e
                .data()
                .and_then(|d| serde_json::from_str(d.get()).ok())
                .unwrap_or(Value::Null);
            (e.code(), e.message().to_string(), data)
        }
        Err(other) => panic!("{method}: unexpected {other}"),
    }
}

/// Sends a raw JSON-RPC request and returns the `result` (panics on an error response).
async fn raw_ok(m: &RpcModule<()>, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (resp, _) = match m.raw_json_request(&req, 4).await {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    };
    let v: Value = serde_json::from_str(resp.get()).unwrap_or(Value::Null);
    assert!(v.get("error").is_none(), "{method} failed: {v}");
    v["result"].clone()
}

#[tokio::test]
async fn block_ref_params_decode_through_the_server() {
    let m = module();
    let got = raw_ok(&m, "chain_getBlock", json!([5])).await;
    assert_eq!(got["height"], json!(5));
    assert_eq!(got["confirmations"], json!(6));
    assert_eq!(
        got["transactions"][0]["transaction"]["fee"],
        json!("100000000")
    );
    // Named parameters work too.
    let got = raw_ok(&m, "chain_getBlock", json!({"block": 2})).await;
    assert_eq!(got["height"], json!(2));

    let (code, msg, data) = call_err(&m, "chain_getBlock", json!(["abc"])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    assert_eq!(msg, "Invalid params");
    let data = data.as_str().unwrap_or_default().to_string();
    assert!(data.contains("\"abc\" is not a block ID"), "{data}");
    for bad in [json!([-1]), json!([1.5]), json!(["5"]), json!([])] {
        let (code, _, data) = call_err(&m, "chain_getBlock", bad.clone()).await;
        assert_eq!(code, error::INVALID_PARAMS, "{bad}: {data}");
    }

    let (code, msg, data) = call_err(&m, "chain_getBlock", json!([11])).await;
    assert_eq!(code, error::NOT_FOUND);
    assert_eq!(
        msg,
        "block at height 11 not found: the chain tip is at height 10"
    );
    assert_eq!(data, json!({"kind": "block", "key": "11"}));
    let (code, _, _) = call_err(&m, "chain_getHeader", json!(["ab".repeat(32)])).await;
    assert_eq!(code, error::NOT_FOUND);
}

#[tokio::test]
async fn address_and_paging_params() {
    let m = module();
    let a = address().to_string();
    let page = raw_ok(&m, "address_getHistory", json!([a])).await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(100));
    let page = raw_ok(&m, "address_getHistory", json!([a, null, 5000])).await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(1000));
    let page = raw_ok(
        &m,
        "address_getHistory",
        json!({"address": a, "cursor": "7.0", "limit": 2}),
    )
    .await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["entries"][0]["height"], json!(7));
    assert_eq!(page["next_cursor"], json!("0.0"));

    let (code, msg, _) = call_err(&m, "address_getHistory", json!([a, null, 0])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    assert!(msg.contains("`limit` must be at least 1"), "{msg}");
    let (code, msg, _) = call_err(&m, "address_getHistory", json!([a, "x", 1])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    assert!(msg.contains("`cursor`"), "{msg}");

    let mut typo = a.clone();
    typo.replace_range(10..11, if &a[10..11] == "0" { "1" } else { "0" });
    let (code, _, data) = call_err(&m, "address_getBalance", json!([typo])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    assert!(
        data.as_str().unwrap_or_default().contains("checksum"),
        "{data}"
    );
    let (code, _, data) = call_err(&m, "address_getOutputs", json!(["01"])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    assert!(
        data.as_str()
            .unwrap_or_default()
            .contains("78 hex characters"),
        "{data}"
    );

    assert_eq!(
        raw_ok(&m, "output_get", json!(["00".repeat(32)])).await,
        Value::Null
    );
    let txs = raw_ok(&m, "pool_getTransactions", json!([])).await;
    assert_eq!(txs.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn tx_methods() {
    let m = module();
    let tx = sample_tx();
    let hex_tx = hex::encode(tfchain_types::encode(&tx));
    let txid = raw_ok(&m, "tx_submit", json!([hex_tx])).await;
    assert_eq!(txid, json!(tx.txid().to_string()));
    let (code, _, _) = call_err(&m, "tx_submit", json!(["not hex"])).await;
    assert_eq!(code, error::TX_DECODE);

    let info = raw_ok(&m, "tx_get", json!([tx.txid().to_string()])).await;
    assert_eq!(info["status"], json!({"state": "pool"}));
    let (code, _, data) = call_err(&m, "tx_get", json!(["00".repeat(32)])).await;
    assert_eq!(code, error::NOT_FOUND);
    assert_eq!(data["kind"], json!("transaction"));

    let (code, msg, _) = call_err(&m, "admin_shutdown", json!([])).await;
    assert_eq!(code, error::ADMIN_DISABLED);
    assert!(msg.contains("--rpc-admin"));
}

#[tokio::test]
async fn grid_params_decode_through_the_server() {
    let m = module();
    let (code, msg, data) = call_err(&m, "grid_getNode", json!([7])).await;
    assert_eq!(code, error::NOT_FOUND);
    assert!(msg.starts_with("node 7 not found"), "{msg}");
    assert_eq!(data, json!({"kind": "node", "key": "7"}));
    let (code, _, _) = call_err(&m, "grid_getFarm", json!([-1])).await;
    assert_eq!(code, error::INVALID_PARAMS);

    let free = json!({"cru": 1, "mru": 2, "sru": 0, "hru": 0, "ipv4": 0});
    let nodes = raw_ok(
        &m,
        "grid_listNodes",
        json!({"farm": 1, "min_free": free, "limit": 5}),
    )
    .await;
    assert_eq!(nodes, json!([]));
    let (code, _, _) = call_err(&m, "grid_listNodes", json!([null, {"cpu": 1}])).await;
    assert_eq!(
        code,
        error::INVALID_PARAMS,
        "unknown resource fields are refused"
    );

    let cursor = json!({"height": 3, "index": 0, "block": "ab".repeat(32)});
    let page = raw_ok(&m, "grid_getEvents", json!({"node": 1, "after": cursor})).await;
    assert_eq!(page, json!({"events": [], "next": null}));
    let (code, _, _) = call_err(&m, "grid_getEvents", json!([null, null, 0])).await;
    assert_eq!(code, error::INVALID_PARAMS);
    let (code, _, _) = call_err(
        &m,
        "grid_getEvents",
        json!([null, null, 1, {"height": 3, "index": 0}]),
    )
    .await;
    assert_eq!(code, error::INVALID_PARAMS, "a cursor names its block");
}

#[tokio::test]
async fn new_heads_subscription_sends_header_info() {
    let m = module();
    let mut sub = match m
        .subscribe_unbounded(
            "chain_subscribeNewHeads",
            jsonrpsee::core::EmptyServerParams::new(),
        )
        .await
    {
        Ok(s) => s,
        Err(e) => panic!("subscribe: {e}"),
    };
    for h in [TIP, TIP + 1] {
        match sub.next::<HeaderInfo>().await {
            Some(Ok((head, _id))) => assert_eq!(head, sample_header(h)),
            other => panic!("expected header {h}, got {other:?}"),
        }
    }
}

/// The generated client against the generated server over a real WebSocket on 127.0.0.1:
/// parameters the client encodes are the ones the server decodes.
#[cfg(feature = "client")]
#[tokio::test]
async fn generated_client_round_trips_over_websocket() {
    use crate::error::client_error_code;
    use jsonrpsee::ws_client::WsClientBuilder;

    let server = match jsonrpsee::server::Server::builder()
        .build("127.0.0.1:0")
        .await
    {
        Ok(s) => s,
        Err(e) => panic!("bind 127.0.0.1:0: {e}"),
    };
    let addr = match server.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("local_addr: {e}"),
    };
    let handle = server.start(module());
    let client = match WsClientBuilder::default()
        .build(format!("ws://{addr}"))
        .await
    {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}"),
    };

    let block = ChainApiClient::get_block(&client, BlockRef::Height(3)).await;
    assert_eq!(block.ok().map(|b| b.height), Some(3));
    let missing = ChainApiClient::get_block(&client, BlockRef::Id(BlockId::ZERO)).await;
    assert_eq!(
        missing.err().as_ref().and_then(client_error_code),
        Some(error::NOT_FOUND)
    );
    let page = AddressApiClient::get_history(&client, address(), Some("4.0".into()), Some(3)).await;
    let page = page.unwrap_or_else(|e| panic!("get_history: {e}"));
    assert_eq!(page.entries.len(), 3);
    assert_eq!(page.entries[0].height, 4);
    let default_page = AddressApiClient::get_history(&client, address(), None, None).await;
    assert_eq!(default_page.ok().map(|p| p.entries.len()), Some(100));
    let out = OutputApiClient::get(&client, OutputId::ZERO).await;
    assert_eq!(out.ok(), Some(None));
    let txid = TxApiClient::submit(&client, hex::encode(tfchain_types::encode(&sample_tx()))).await;
    assert_eq!(txid.ok(), Some(sample_tx().txid()));
    let info = TxApiClient::get(&client, sample_tx().txid()).await;
    assert_eq!(info.ok().map(|i| i.status), Some(TxStatus::Pool));
    let shutdown = AdminApiClient::shutdown(&client).await;
    assert_eq!(
        shutdown.err().as_ref().and_then(client_error_code),
        Some(error::ADMIN_DISABLED)
    );

    let mut heads = match ChainApiClient::subscribe_new_heads(&client).await {
        Ok(s) => s,
        Err(e) => panic!("subscribe: {e}"),
    };
    for h in [TIP, TIP + 1] {
        match heads.next().await {
            Some(Ok(head)) => assert_eq!(head, sample_header(h)),
            other => panic!("expected header {h}, got {other:?}"),
        }
    }
    drop(heads);
    drop(client);
    let _ = handle.stop();
    handle.stopped().await;
}
