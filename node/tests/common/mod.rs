//! Harness for the end-to-end tests: the real `tfchaind` binary (or a node started
//! in-process) on a temporary data dir, JSON-RPC on an ephemeral 127.0.0.1 port, and small
//! actions over it: `dev`, `wait_height`, `build_payment`, `wait_confirmed`, `kill9`,
//! `terminate`.
//!
//! Synchronisation is always "poll with a timeout", never a fixed sleep. A child process is
//! killed (SIGKILL) when its handle is dropped, so a failing test leaves nothing running, and
//! the tail of its log is printed when the drop happens during a panic.

#![allow(dead_code)]

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::types::ErrorObjectOwned;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tfchain_api::{
    AddressApiClient, ChainApiClient, ChainInfo, ConsensusApiClient, OutputKind, Supply,
    TxApiClient, TxStatus,
};
use tfchain_consensus::testkit::payment;
use tfchain_types::{Address, BlockId, Condition, Currency, Height, SecretKey, Transaction, TxId};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The binary under test.
pub const TFCHAIND: &str = env!("CARGO_BIN_EXE_tfchaind");
/// How long a node may take to print its RPC address.
pub const STARTUP: Duration = Duration::from_secs(30);
/// Between two polls.
const POLL: Duration = Duration::from_millis(100);
/// Total blockstakes of the dev network (PROTOCOL.md §9, genesis/networks/dev.json).
pub const DEV_BLOCKSTAKES: u64 = tfchain_genesis::builtin::DEV_VALIDATOR_STAKE;

/// A deadline generous enough for `blocks` dev blocks (2 s on average) on a busy CI machine.
pub fn blocks_timeout(blocks: u64) -> Duration {
    Duration::from_secs(30 + 5 * blocks)
}

/// Dev key `i` (`tfchaind --dev` prints their addresses; key 0 is the validator).
pub fn dev_key(i: u64) -> SecretKey {
    tfchain_genesis::dev_seed().derive_key(i)
}

pub fn address_of(key: &SecretKey) -> Address {
    Address::from_public_key(&key.public_key())
}

/// A key nobody else uses: a fresh, empty address.
pub fn fresh_key(tag: u8, i: u64) -> SecretKey {
    tfchain_types::Seed([tag; 32]).derive_key(i)
}

/// The hex form `tx_submit` takes.
pub fn tx_hex(tx: &Transaction) -> String {
    hex::encode(tfchain_types::encode(tx))
}

/// The error object of a failed call, or a panic naming what came back instead.
pub fn call_error<T: std::fmt::Debug>(r: Result<T, ClientError>, what: &str) -> ErrorObjectOwned {
    match r {
        Err(ClientError::Call(e)) => e,
        other => panic!("{what}: expected a JSON-RPC error object, got {other:?}"),
    }
}

/// The `data` of an error object as JSON (`Null` without data).
pub fn error_data(e: &ErrorObjectOwned) -> serde_json::Value {
    e.data()
        .and_then(|d| serde_json::from_str(d.get()).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// A `tfchaind` child process with its RPC client.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    pub rpc_addr: SocketAddr,
    pub http: HttpClient,
    /// What the node printed on stdout up to and including the `rpc:` line.
    pub banner: Vec<String>,
    log: PathBuf,
    reaped: bool,
}

impl NodeProcess {
    /// `tfchaind --dev --data-dir <data_dir> --rpc-addr 127.0.0.1:0`, logging to `log`.
    pub async fn dev(data_dir: &Path, log: &Path) -> NodeProcess {
        Self::spawn(
            [
                "--dev".into(),
                "--data-dir".into(),
                data_dir.as_os_str().to_owned(),
                "--rpc-addr".into(),
                "127.0.0.1:0".into(),
            ],
            log,
        )
        .await
    }

    /// Starts `tfchaind <args>` (stderr appended to `log`) and waits for its `rpc: http://…`
    /// line. Panics with the log's tail if the node exits or stays silent.
    pub async fn spawn(args: impl IntoIterator<Item = OsString>, log: &Path) -> NodeProcess {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the node log");
        let mut cmd = tfchaind();
        let mut child = cmd
            .args(args)
            .arg("--log-level")
            .arg("info,tfchain_node=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn tfchaind");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let found = tokio::time::timeout(STARTUP, async {
            while let Ok(Some(line)) = lines.next_line().await {
                banner.push(line.clone());
                if let Some(url) = line.strip_prefix("rpc: http://") {
                    return url.trim().parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await;
        let rpc_addr = match found {
            Ok(Some(addr)) => addr,
            Ok(None) => {
                let status = child.wait().await;
                panic!(
                    "tfchaind exited ({status:?}) before printing its RPC address; stdout: {banner:?}\n{}",
                    log_tail(log, 60)
                );
            }
            Err(_) => panic!(
                "tfchaind printed no RPC address within {STARTUP:?}\n{}",
                log_tail(log, 60)
            ),
        };
        // Keep draining stdout so the node never blocks on (or dies writing to) a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(format!("http://{rpc_addr}"))
            .expect("http client");
        NodeProcess {
            child,
            rpc_addr,
            http,
            banner,
            log: log.to_path_buf(),
            reaped: false,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.rpc_addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the node is running")
    }

    /// The log's last lines, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// `chain_getInfo`.
    pub async fn info(&self) -> ChainInfo {
        rpc_info(&self.http).await
    }

    /// Polls until the tip is at least `height`.
    pub async fn wait_height(&self, height: Height, timeout: Duration) -> ChainInfo {
        match wait_height(&self.http, height, timeout).await {
            Ok(info) => info,
            Err(last) => panic!(
                "height {height} not reached within {timeout:?} (at {last})\n{}",
                self.log_tail(40)
            ),
        }
    }

    /// SIGKILL, then reap.
    pub async fn kill9(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
        self.reaped = true;
    }

    /// SIGTERM (a clean shutdown), then wait for the exit status.
    pub async fn terminate(mut self) -> ExitStatus {
        let pid = self.pid();
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "tfchaind did not stop within 30 s of SIGTERM\n{}",
                    self.log_tail(40)
                )
            })
            .expect("wait for tfchaind");
        self.reaped = true;
        status
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let _ = self.child.start_kill();
        // Reap it so no zombie outlives the test (it dies at once on SIGKILL).
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if std::thread::panicking() {
            eprintln!(
                "--- tfchaind log ({}) ---\n{}",
                self.log.display(),
                log_tail(&self.log, 60)
            );
        }
    }
}

/// A `tfchaind` command that ignores the caller's `TFCHAIN_*` environment (so a developer's
/// settings never leak into a test).
pub fn tfchaind() -> Command {
    let mut c = Command::new(TFCHAIND);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TFCHAIN_") {
            c.env_remove(k);
        }
    }
    c
}

/// The last `n` lines of a log file.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs a `tfchaind` subcommand to completion (60 s at most).
pub async fn run_cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let child = tfchaind()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tfchaind");
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("tfchaind subcommand finished within 60 s")
        .expect("tfchaind output")
}

pub async fn rpc_info(http: &HttpClient) -> ChainInfo {
    ChainApiClient::get_info(http).await.expect("chain_getInfo")
}

/// Polls `chain_getInfo` until the tip is at least `height`; `Err(last height)` on timeout.
pub async fn wait_height(
    http: &HttpClient,
    height: Height,
    timeout: Duration,
) -> Result<ChainInfo, Height> {
    let start = Instant::now();
    let mut last = 0;
    loop {
        if let Ok(info) = ChainApiClient::get_info(http).await {
            if info.height >= height {
                return Ok(info);
            }
            last = info.height;
        }
        if start.elapsed() > timeout {
            return Err(last);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `chain_getSupply`, checked against PROTOCOL.md §6: coins + escrow + unclaimed earnings
/// == genesis coins + rewards, and the blockstakes never change.
pub async fn assert_supply(http: &HttpClient) -> Supply {
    let genesis = tfchain_genesis::builtin("dev").expect("dev genesis");
    assert_supply_of(http, &genesis).await
}

/// [`assert_supply`] for a node of any network.
pub async fn assert_supply_of(http: &HttpClient, genesis: &tfchain_genesis::Genesis) -> Supply {
    let s = ChainApiClient::get_supply(http)
        .await
        .expect("chain_getSupply");
    let total = s
        .coins
        .checked_add(s.escrow)
        .and_then(|c| c.checked_add(s.unclaimed_earnings))
        .expect("supply overflows");
    assert_eq!(
        total, s.expected_coins,
        "supply invariant broken at height {}: {s:?}",
        s.height
    );
    let expected = genesis
        .total_coins()
        .checked_add(Currency(
            genesis.params().block_reward.0 * u128::from(s.height),
        ))
        .expect("expected supply");
    assert_eq!(s.expected_coins, expected, "expected_coins at {}", s.height);
    assert_eq!(
        s.blockstakes,
        genesis.total_blockstakes(),
        "blockstakes changed"
    );
    s
}

/// The largest spendable coin output of `address` at the next block, not spent in the pool.
pub async fn spendable_output(
    http: &HttpClient,
    address: &Address,
) -> (tfchain_types::OutputId, Currency) {
    let height = rpc_info(http).await.height;
    let outputs = AddressApiClient::get_outputs(http, *address)
        .await
        .expect("address_getOutputs");
    outputs
        .into_iter()
        .filter(|o| {
            o.kind == OutputKind::Coin
                && o.mature_at <= height + 1
                && o.pool_spender.is_none()
                && matches!(o.condition, Condition::Address(_))
        })
        .max_by_key(|o| o.value)
        .map(|o| (o.id, Currency(o.value)))
        .unwrap_or_else(|| panic!("{address} has no spendable coin output"))
}

/// The network's genesis ID and minimum fee, from `consensus_getParams`.
pub async fn genesis_and_fee(http: &HttpClient) -> (BlockId, Currency) {
    let p = ConsensusApiClient::get_params(http)
        .await
        .expect("consensus_getParams");
    (p.genesis_id, p.min_fee)
}

/// A signed payment of `amount` from `key`'s largest spendable output to `to`, with the
/// minimum fee and change back to `key`. Returns the transaction and the input's value.
pub async fn build_payment(
    http: &HttpClient,
    key: &SecretKey,
    to: Address,
    amount: Currency,
) -> (Transaction, Currency) {
    let (genesis_id, fee) = genesis_and_fee(http).await;
    let (id, value) = spendable_output(http, &address_of(key)).await;
    let tx = payment(
        &[(id, value)],
        key,
        Condition::Address(to),
        amount,
        fee,
        &genesis_id,
    );
    (tx, value)
}

/// Polls `tx_get` until the transaction is in a block; returns (height, block).
pub async fn wait_confirmed(http: &HttpClient, txid: TxId, timeout: Duration) -> (Height, BlockId) {
    let start = Instant::now();
    loop {
        match TxApiClient::get(http, txid).await {
            Ok(info) => {
                if let TxStatus::Confirmed { height, block, .. } = info.status {
                    return (height, block);
                }
            }
            Err(e) => panic!("tx_get {txid}: {e}"),
        }
        assert!(
            start.elapsed() < timeout,
            "transaction {txid} not confirmed within {timeout:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The ID of the main-chain block at `height` (read as raw JSON, so genesis works too: the
/// typed client cannot decode the genesis header's all-zero reward address).
pub async fn block_id_at(http: &HttpClient, height: Height) -> Result<BlockId, ClientError> {
    let v = raw_call(http, "chain_getHeader", vec![serde_json::json!(height)]).await?;
    let id = v["id"]
        .as_str()
        .and_then(|s| serde_json::from_value(serde_json::json!(s)).ok())
        .unwrap_or_else(|| panic!("chain_getHeader({height}) has no block ID: {v}"));
    Ok(id)
}

/// A raw HTTP/1.1 POST to the node: (status code, body). `declared_len` overrides the
/// Content-Length header (to announce a body larger than the one sent).
pub fn http_post_raw(addr: SocketAddr, body: &[u8], declared_len: Option<usize>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the RPC port");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        declared_len.unwrap_or(body.len())
    );
    s.write_all(head.as_bytes())
        .expect("write the request head");
    // The server may answer (and close) before it reads an oversized body: a failed write
    // is expected then; the answer is what the test checks.
    let _ = s.write_all(body);
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A call with raw JSON parameters, for malformed-parameter tests.
pub async fn raw_call(
    http: &HttpClient,
    method: &str,
    params: Vec<serde_json::Value>,
) -> Result<serde_json::Value, ClientError> {
    let mut p = jsonrpsee::core::params::ArrayParams::new();
    for v in params {
        p.insert(v).expect("serialise a parameter");
    }
    http.request(method, p).await
}

/// An in-process node (`node::start`) of `genesis` on `data_dir`, validating with dev key
/// 0, no p2p, RPC on an ephemeral port; and an HTTP client for it.
pub async fn start_in_process(
    genesis: &tfchain_genesis::Genesis,
    data_dir: &Path,
) -> (tfchain_node::node::RunningNode, HttpClient) {
    let running = tfchain_node::node::start(tfchain_node::node::NodeOptions {
        genesis: genesis.clone(),
        data_dir: data_dir.to_path_buf(),
        validator_key: Some(dev_key(0)),
        rpc: tfchain_node::config::RpcConfig {
            addr: "127.0.0.1:0".parse().expect("addr"),
            ..Default::default()
        },
        pool: tfchain_txpool::PoolConfig::default(),
        clock: std::sync::Arc::new(tfchain_node::clock::SystemClock),
        p2p: None,
        store: Default::default(),
    })
    .await
    .expect("start an in-process node");
    let http = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(format!("http://{}", running.rpc_addr))
        .expect("http client");
    (running, http)
}
