//! Harness for the capacity-market end-to-end tests (PROTOCOL.md §7): an in-process node
//! (real store, real JSON-RPC on an ephemeral port) that can be restarted on its data dir,
//! signed grid transactions built from a dev key's coins, and the event log read by page or
//! followed over WebSocket. Every wait polls with a timeout.

#![allow(dead_code)]

use crate::common::*;
use jsonrpsee::core::client::Subscription;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tfchain_api::{
    EventCursor, EventFilter, EventInfo, GridApiClient, OutputInfo, OutputKind, ReservationInfo,
    TxApiClient,
};
use tfchain_genesis::Genesis;
use tfchain_node::node::RunningNode;
use tfchain_types::{
    Address, Condition, Currency, GridEventKind, GridOp, Hash, Height, ReservationId, Resources,
    SecretKey, Transaction,
};

const POLL: Duration = Duration::from_millis(100);

/// An in-process node of `genesis` on `data_dir`, validating with dev key 0.
pub struct GridNode {
    running: Option<RunningNode>,
    pub http: HttpClient,
    pub genesis: Genesis,
    pub data_dir: PathBuf,
}

impl GridNode {
    pub async fn start(genesis: Genesis, data_dir: PathBuf) -> GridNode {
        let (running, http) = start_in_process(&genesis, &data_dir).await;
        GridNode {
            running: Some(running),
            http,
            genesis,
            data_dir,
        }
    }

    /// The dev network.
    pub async fn dev(data_dir: PathBuf) -> GridNode {
        Self::start(
            tfchain_genesis::builtin("dev").expect("dev genesis"),
            data_dir,
        )
        .await
    }

    fn running(&self) -> &RunningNode {
        self.running.as_ref().expect("the node is running")
    }

    pub async fn ws(&self) -> WsClient {
        WsClientBuilder::default()
            .build(format!("ws://{}", self.running().rpc_addr))
            .await
            .expect("ws client")
    }

    /// Stops the node cleanly (its clients' connections close).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Starts it again on the same data dir (a new RPC port).
    pub async fn restart(&mut self) {
        self.stop().await;
        let (running, http) = start_in_process(&self.genesis, &self.data_dir).await;
        self.running = Some(running);
        self.http = http;
    }
}

/// A transaction carrying `ops`, paid by `payer` from its largest spendable output (the
/// fee and the ops' deposits, change back to it), signed by the payer and every key in
/// `signers` (owners' authorisations, node keys).
pub async fn grid_tx(
    http: &HttpClient,
    payer: &SecretKey,
    ops: Vec<GridOp>,
    signers: &[SecretKey],
) -> Transaction {
    let (genesis_id, fee) = genesis_and_fee(http).await;
    let (input, value) = spendable_output(http, &address_of(payer)).await;
    tfchain_consensus::testkit::grid_tx_spending(
        &[input],
        value,
        payer,
        ops,
        signers,
        fee,
        &genesis_id,
    )
    .expect("the payer covers the fee and the deposits")
}

/// Submits `tx` and waits until it is in a block; returns the block's height.
pub async fn confirm(http: &HttpClient, tx: &Transaction) -> Height {
    let txid = TxApiClient::submit(http, tx_hex(tx))
        .await
        .unwrap_or_else(|e| panic!("tx_submit refused {:?}: {e}", tx.grid_ops));
    wait_confirmed(http, txid, blocks_timeout(3)).await.0
}

/// Submits `tx`, which must be refused with `TX_INVALID` naming `rule`; returns `data`.
pub async fn expect_invalid(http: &HttpClient, tx: &Transaction, rule: &str) -> serde_json::Value {
    let e = call_error(TxApiClient::submit(http, tx_hex(tx)).await, rule);
    assert_eq!(
        e.code(),
        tfchain_api::error::TX_INVALID,
        "{rule}: {}",
        e.message()
    );
    let data = error_data(&e);
    assert_eq!(data["rule"], serde_json::json!(rule), "{}", e.message());
    data
}

pub async fn reservation(http: &HttpClient, id: ReservationId) -> ReservationInfo {
    GridApiClient::get_reservation(http, id)
        .await
        .unwrap_or_else(|e| panic!("grid_getReservation({id}): {e}"))
}

/// Polls a reservation until `done` holds for it.
pub async fn wait_reservation(
    http: &HttpClient,
    id: ReservationId,
    timeout: Duration,
    done: impl Fn(&ReservationInfo) -> bool,
) -> ReservationInfo {
    let start = Instant::now();
    loop {
        let r = reservation(http, id).await;
        if done(&r) {
            return r;
        }
        assert!(
            start.elapsed() < timeout,
            "reservation {id} did not reach the expected state within {timeout:?}: {r:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The coin outputs of `address` created at `height`.
pub async fn outputs_at(http: &HttpClient, address: Address, height: Height) -> Vec<OutputInfo> {
    tfchain_api::AddressApiClient::get_outputs(http, address)
        .await
        .expect("address_getOutputs")
        .into_iter()
        .filter(|o| o.kind == OutputKind::Coin && o.height == height)
        .collect()
}

/// Every main-chain event after `after` (`None`: from genesis), paging through
/// `grid_getEvents`.
pub async fn all_events(http: &HttpClient, after: Option<EventCursor>) -> Vec<EventInfo> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        // Small pages, so paging is exercised too.
        let page = GridApiClient::get_events(http, None, None, Some(2), after)
            .await
            .expect("grid_getEvents");
        out.extend(page.events);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

/// Subscribes to grid events.
pub async fn subscribe(ws: &WsClient, filter: EventFilter) -> Subscription<EventInfo> {
    GridApiClient::subscribe_events(ws, Some(filter))
        .await
        .expect("grid_subscribeEvents")
}

/// Reads notifications into `seen` until one satisfies `last` (included); `blocks` bounds
/// how many dev blocks that may take.
pub async fn events_until(
    sub: &mut Subscription<EventInfo>,
    seen: &mut Vec<EventInfo>,
    blocks: u64,
    last: impl Fn(&EventInfo) -> bool,
) {
    let timeout = blocks_timeout(blocks);
    let start = Instant::now();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        let e = tokio::time::timeout(left, sub.next())
            .await
            .unwrap_or_else(|_| panic!("no matching event within {timeout:?}; got {seen:#?}"))
            .expect("the subscription is open")
            .expect("an EventInfo");
        let done = last(&e);
        seen.push(e);
        if done {
            return;
        }
    }
}

/// Whether `e` is a live (not reverted) event of kind `pred`.
pub fn is(e: &EventInfo, pred: impl Fn(&GridEventKind) -> bool) -> bool {
    !e.reverted && pred(&e.event)
}

/// A Reserve op owned by `owner`'s address, with a fixed deployment (`"v1"`).
pub fn reserve_op(
    owner: &SecretKey,
    node: u32,
    resources: Resources,
    deposit: Currency,
    max_rate: Currency,
) -> GridOp {
    GridOp::Reserve {
        node,
        resources,
        deposit,
        max_rate,
        deployment_hash: Hash([1; 32]),
        deployment_data: b"v1".to_vec(),
        owner: Condition::Address(address_of(owner)),
    }
}
