//! The JSON-RPC server against browsers and idle or greedy clients (issue #12 item 7): Host
//! and Origin checks (DNS rebinding, cross-site WebSocket), CORS allow-lists, the admin
//! token, idle-connection timeouts, per-method cost bounds and the subscription-over-HTTP
//! error. Each test starts an in-process dev node on an ephemeral 127.0.0.1 port and talks
//! to it over real sockets: raw HTTP/1.1 where headers matter, jsonrpsee clients elsewhere.

mod common;

use common::*;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HeaderMap, HeaderValue, HttpClientBuilder};
use jsonrpsee::ws_client::WsClientBuilder;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tfchain_api::error::{
    ADMIN_UNAUTHORIZED, INVALID_PARAMS, TOO_MANY_OUTPUTS, WEBSOCKET_REQUIRED,
};
use tfchain_api::{AddressApiClient, AdminApiClient, ChainApiClient};
use tfchain_node::config::{AdminToken, RpcConfig};
use tfchain_node::node::{NodeOptions, RunningNode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "correct-horse-battery-staple";
/// How long a poll for a condition may take.
const WAIT: Duration = Duration::from_secs(15);

fn options(data_dir: &std::path::Path, rpc: RpcConfig) -> NodeOptions {
    NodeOptions {
        genesis: tfchain_genesis::builtin("dev").expect("dev genesis"),
        data_dir: data_dir.to_path_buf(),
        validator_key: Some(dev_key(0)),
        rpc,
        pool: tfchain_txpool::PoolConfig::default(),
        clock: std::sync::Arc::new(tfchain_node::clock::SystemClock),
        p2p: None,
        store: Default::default(),
    }
}

fn loopback(rpc: RpcConfig) -> RpcConfig {
    RpcConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        ..rpc
    }
}

/// An in-process dev node with these RPC settings (on 127.0.0.1:0).
async fn node_with(dir: &tempfile::TempDir, rpc: RpcConfig) -> RunningNode {
    tfchain_node::node::start(options(&dir.path().join("data"), loopback(rpc)))
        .await
        .expect("start an in-process node")
}

/// A response head: status and lower-cased header lines.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` and reads the response head; the stream stays open (for a WebSocket).
async fn send_head(addr: SocketAddr, request: &str) -> (Head, TcpStream) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut chunk).await.expect("read the response");
            assert!(n > 0, "connection closed before a response head: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no response head within {WAIT:?}");
    let text = String::from_utf8_lossy(&buf).to_string();
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (Head { status, headers }, s)
}

/// A `chain_getInfo` POST with `host` and extra header lines.
async fn post(addr: SocketAddr, host: &str, extra: &str) -> Head {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"chain_getInfo","params":[]}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    send_head(addr, &req).await.0
}

/// A WebSocket upgrade request with `host` and extra header lines.
async fn ws_upgrade(addr: SocketAddr, host: &str, extra: &str) -> (Head, TcpStream) {
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    send_head(addr, &req).await
}

/// Whether the server closes `s` within `timeout` (EOF or reset), reading whatever comes.
async fn closed_within(s: &mut TcpStream, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, async {
        let mut buf = [0u8; 256];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_rebinding_host_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(&dir, RpcConfig::default()).await;
    let addr = node.rpc_addr;
    let port = addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "localhost".to_string(),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(post(addr, &host, "").await.status, 200, "Host {host}");
    }
    for host in ["evil.example", "evil.example:23110", "192.0.2.7:23110"] {
        assert_eq!(post(addr, host, "").await.status, 403, "Host {host}");
        assert_eq!(
            ws_upgrade(addr, host, "").await.0.status,
            403,
            "WS Host {host}"
        );
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_origins_are_refused_for_http_and_websocket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(&dir, RpcConfig::default()).await;
    let addr = node.rpc_addr;
    let host = addr.to_string();
    let evil = "Origin: https://evil.example\r\n";
    assert_eq!(post(addr, &host, evil).await.status, 403);
    let (ws, _) = ws_upgrade(addr, &host, evil).await;
    assert_eq!(ws.status, 403, "cross-site WebSocket: {ws:?}");
    assert_eq!(post(addr, &host, "Origin: null\r\n").await.status, 403);

    // Loopback origins (a local web UI) are served, with CORS headers.
    let local = post(addr, &host, "Origin: http://localhost:3000\r\n").await;
    assert_eq!(local.status, 200);
    assert_eq!(
        local.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let (ws, _) = ws_upgrade(addr, &host, "Origin: http://127.0.0.1:8080\r\n").await;
    assert_eq!(ws.status, 101, "loopback-origin WebSocket: {ws:?}");
    // No Origin (curl, wallets): served, without CORS headers.
    let plain = post(addr, &host, "").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("access-control-allow-origin"), None);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_lists_admit_named_hosts_and_origins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            allowed_hosts: vec!["node.example".into()],
            cors: vec!["https://wallet.example".into()],
            ..RpcConfig::default()
        },
    )
    .await;
    let addr = node.rpc_addr;
    let ok = post(
        addr,
        "node.example:23110",
        "Origin: https://wallet.example\r\n",
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://wallet.example")
    );
    assert_eq!(post(addr, "other.example", "").await.status, 403);
    assert_eq!(
        post(addr, "node.example", "Origin: https://evil.example\r\n")
            .await
            .status,
        403
    );
    // The browser's CORS preflight.
    let preflight = "OPTIONS / HTTP/1.1\r\nHost: node.example\r\nOrigin: https://wallet.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n";
    let (pre, _) = send_head(addr, preflight).await;
    assert_eq!(pre.status, 204, "{pre:?}");
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://wallet.example")
    );
    assert!(pre
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("content-type")));
    let (ws, _) = ws_upgrade(addr, "node.example", "Origin: https://wallet.example\r\n").await;
    assert_eq!(ws.status, 101);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_over_http_ask_for_a_websocket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(&dir, RpcConfig::default()).await;
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .expect("http client");
    for method in [
        "chain_subscribeNewHeads",
        "chain_unsubscribeNewHeads",
        "grid_subscribeEvents",
        "grid_unsubscribeEvents",
    ] {
        let e = call_error(raw_call(&http, method, vec![]).await, method);
        assert_eq!(e.code(), WEBSOCKET_REQUIRED, "{method}: {e:?}");
        assert!(e.message().contains("WebSocket"), "{}", e.message());
        assert_eq!(error_data(&e)["method"], method);
    }
    // Inside a batch too.
    let mut batch = jsonrpsee::core::params::BatchRequestBuilder::new();
    batch
        .insert("chain_subscribeNewHeads", jsonrpsee::rpc_params![])
        .expect("batch entry");
    batch
        .insert("chain_getInfo", jsonrpsee::rpc_params![])
        .expect("batch entry");
    let r = http
        .batch_request::<serde_json::Value>(batch)
        .await
        .expect("batch answered");
    let results: Vec<_> = r.into_iter().collect();
    match &results[0] {
        Err(e) => assert_eq!(e.code(), WEBSOCKET_REQUIRED),
        other => panic!("subscription in a batch over HTTP: {other:?}"),
    }
    assert!(results[1].is_ok(), "{:?}", results[1]);
    // Over a WebSocket the subscription works.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.rpc_addr))
        .await
        .expect("ws client");
    let sub = ChainApiClient::subscribe_new_heads(&ws).await;
    assert!(sub.is_ok(), "{sub:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_methods_need_the_token_when_one_is_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            admin: true,
            admin_token: Some(AdminToken(TOKEN.into())),
            ..RpcConfig::default()
        },
    )
    .await;
    let url = format!("http://{}", node.rpc_addr);
    let client = |auth: Option<&str>| {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert(
                "authorization",
                HeaderValue::from_str(a).expect("header value"),
            );
        }
        HttpClientBuilder::default()
            .set_headers(headers)
            .build(&url)
            .expect("http client")
    };
    for auth in [None, Some("Bearer wrong-token-wrong-token"), Some(TOKEN)] {
        let e = call_error(
            AdminApiClient::add_peer(&client(auth), "nonsense".into()).await,
            "admin_addPeer without the token",
        );
        assert_eq!(e.code(), ADMIN_UNAUTHORIZED, "{auth:?}: {e:?}");
        let e = call_error(
            AdminApiClient::shutdown(&client(auth)).await,
            "admin_shutdown without the token",
        );
        assert_eq!(e.code(), ADMIN_UNAUTHORIZED, "{auth:?}: {e:?}");
    }
    // With the token the method runs (and rejects the bad multiaddr itself).
    let bearer = format!("Bearer {TOKEN}");
    let e = call_error(
        AdminApiClient::add_peer(&client(Some(&bearer)), "nonsense".into()).await,
        "admin_addPeer with the token",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    // Read methods need no token.
    assert!(ChainApiClient::get_info(&client(None)).await.is_ok());
    // Over a WebSocket the token travels in the upgrade request.
    let ws_url = format!("ws://{}", node.rpc_addr);
    let ws = WsClientBuilder::default()
        .build(&ws_url)
        .await
        .expect("ws client");
    let e = call_error(
        AdminApiClient::add_peer(&ws, "nonsense".into()).await,
        "admin_addPeer over a WebSocket without the token",
    );
    assert_eq!(e.code(), ADMIN_UNAUTHORIZED, "{e:?}");
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&bearer).expect("header value"),
    );
    let ws = WsClientBuilder::default()
        .set_headers(headers)
        .build(&ws_url)
        .await
        .expect("ws client with the token");
    let e = call_error(
        AdminApiClient::add_peer(&ws, "nonsense".into()).await,
        "admin_addPeer over a WebSocket with the token",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_on_a_public_address_needs_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let public = RpcConfig {
        addr: "0.0.0.0:0".parse().expect("addr"),
        admin: true,
        ..RpcConfig::default()
    };
    let err = tfchain_node::node::start(options(&dir.path().join("a"), public.clone()))
        .await
        .expect_err("admin methods on 0.0.0.0 without a token");
    assert!(err.to_string().contains("--rpc-admin-token"), "{err}");
    let short = RpcConfig {
        admin_token: Some(AdminToken("short".into())),
        ..public.clone()
    };
    let err = tfchain_node::node::start(options(&dir.path().join("b"), short))
        .await
        .expect_err("a short admin token");
    assert!(err.to_string().contains("at least 16"), "{err}");
    let with_token = RpcConfig {
        admin_token: Some(AdminToken(TOKEN.into())),
        ..public
    };
    let node = tfchain_node::node::start(options(&dir.path().join("c"), with_token))
        .await
        .expect("admin on 0.0.0.0 with a token");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_bind_is_logged_as_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("node.log");
    let node = NodeProcess::spawn(
        [
            "--dev".into(),
            "--no-p2p".into(),
            "--data-dir".into(),
            dir.path().join("data").into_os_string(),
            "--rpc-addr".into(),
            "0.0.0.0:0".into(),
        ],
        &log,
    )
    .await;
    let start = Instant::now();
    while !node.log_tail(200).contains("non-loopback") {
        assert!(
            start.elapsed() < WAIT,
            "no non-loopback warning in the log:\n{}",
            node.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(node.log_tail(200).contains("WARN"), "{}", node.log_tail(40));
    node.kill9().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_so_others_get_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            max_connections: 2,
            idle_timeout_secs: 1,
            ..RpcConfig::default()
        },
    )
    .await;
    let addr = node.rpc_addr;
    let host = addr.to_string();
    // Two idle WebSockets take every connection slot...
    let (a, mut sa) = ws_upgrade(addr, &host, "").await;
    let (b, mut sb) = ws_upgrade(addr, &host, "").await;
    assert_eq!((a.status, b.status), (101, 101));
    let (c, _) = ws_upgrade(addr, &host, "").await;
    assert_eq!(
        c.status, 429,
        "a third connection while two are held: {c:?}"
    );
    // ...until the idle timeout closes them.
    assert!(
        closed_within(&mut sa, WAIT).await,
        "idle WebSocket a still open"
    );
    assert!(
        closed_within(&mut sb, WAIT).await,
        "idle WebSocket b still open"
    );
    let start = Instant::now();
    loop {
        let (d, _) = ws_upgrade(addr, &host, "").await;
        if d.status == 101 {
            break;
        }
        assert!(start.elapsed() < WAIT, "still locked out: {d:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A TCP connection that never sends a request is closed too (well before jsonrpsee's
    // own 30 s first-request timeout).
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)).await,
        "a silent TCP connection is still open"
    );
    node.stop().await;
}

/// A client text frame (masked, as RFC 6455 requires, with an all-zero key) of `payload`.
fn ws_text_frame(payload: &str) -> Vec<u8> {
    let len = payload.len();
    assert!(len < 126, "short frames only");
    let mut f = vec![0x81, 0x80 | len as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload.as_bytes());
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_answers_no_ping_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            idle_timeout_secs: 1,
            ..RpcConfig::default()
        },
    )
    .await;
    let addr = node.rpc_addr;
    let (head, mut s) = ws_upgrade(addr, &addr.to_string(), "").await;
    assert_eq!(head.status, 101);
    // A live subscription keeps the connection from being idle...
    let subscribe = r#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeNewHeads","params":[]}"#;
    s.write_all(&ws_text_frame(subscribe))
        .await
        .expect("send the subscription");
    let mut got = Vec::new();
    let subscribed = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 512];
        while !String::from_utf8_lossy(&got).contains(r#""result""#) {
            let n = s
                .read(&mut buf)
                .await
                .expect("read the subscription answer");
            assert!(
                n > 0,
                "closed before the subscription was answered: {got:?}"
            );
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        subscribed.is_ok(),
        "no subscription id within {WAIT:?}: {got:?}"
    );
    // ...but a client that never answers the server's pings (it stopped reading, or is gone)
    // is dropped anyway.
    assert!(
        closed_within(&mut s, WAIT).await,
        "a subscriber that answers no ping is still connected"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_subscription_keeps_its_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            idle_timeout_secs: 1,
            ..RpcConfig::default()
        },
    )
    .await;
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.rpc_addr))
        .await
        .expect("ws client");
    let mut sub = ChainApiClient::subscribe_new_heads(&ws)
        .await
        .expect("chain_subscribeNewHeads");
    // Heads keep coming for longer than the idle timeout: the connection is not idle.
    let start = Instant::now();
    let mut heads = 0;
    while start.elapsed() < Duration::from_secs(3) || heads < 2 {
        let head = tokio::time::timeout(blocks_timeout(1), sub.next())
            .await
            .expect("a head within the block timeout");
        assert!(
            matches!(head, Some(Ok(_))),
            "the subscription ended: {head:?}"
        );
        heads += 1;
    }
    assert!(ws.is_connected());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_reads_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(
        &dir,
        RpcConfig {
            max_address_outputs: 1,
            ..RpcConfig::default()
        },
    )
    .await;
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .expect("http client");
    wait_height(&http, 3, blocks_timeout(3))
        .await
        .expect("height 3");
    // The validator has a reward output per block: more than the cap of 1.
    let validator = address_of(&dev_key(0));
    let e = call_error(
        AddressApiClient::get_outputs(&http, validator).await,
        "address_getOutputs over the cap",
    );
    assert_eq!(e.code(), TOO_MANY_OUTPUTS, "{e:?}");
    assert_eq!(error_data(&e)["limit"], 1);
    let e = call_error(
        AddressApiClient::get_balance(&http, validator).await,
        "address_getBalance over the cap",
    );
    assert_eq!(e.code(), TOO_MANY_OUTPUTS, "{e:?}");
    // An address under the cap is answered.
    let fresh = address_of(&fresh_key(0x77, 0));
    assert!(AddressApiClient::get_outputs(&http, fresh).await.is_ok());
    assert!(AddressApiClient::get_balance(&http, fresh).await.is_ok());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivocations_come_in_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node_with(&dir, RpcConfig::default()).await;
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .expect("http client");
    let page = ChainApiClient::get_equivocations(&http, None, Some(5))
        .await
        .expect("chain_getEquivocations");
    assert!(page.equivocations.is_empty());
    assert_eq!(page.next_cursor, None);
    let e = call_error(
        ChainApiClient::get_equivocations(&http, Some("nonsense".into()), None).await,
        "a malformed cursor",
    );
    assert_eq!(e.code(), INVALID_PARAMS);
    let e = call_error(
        ChainApiClient::get_equivocations(&http, None, Some(0)).await,
        "limit 0",
    );
    assert_eq!(e.code(), INVALID_PARAMS);
    // Raw JSON: the result is a page object.
    let v: serde_json::Value = http
        .request("chain_getEquivocations", jsonrpsee::rpc_params![])
        .await
        .expect("raw call");
    assert!(v["equivocations"].is_array(), "{v}");
    node.stop().await;
}
