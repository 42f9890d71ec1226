//! A real `tfchaind --dev` node, in-process, for end-to-end tests: its own data directory,
//! an ephemeral RPC port, and key 0 of the dev mnemonic producing a block every ~2 s.

#![allow(dead_code)]

use crate::common::{tfchainc, TestWallet};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_node::clock::SystemClock;
use tfchain_node::config::RpcConfig;
use tfchain_node::node::{start, NodeOptions, RunningNode};

/// A running dev node; stopped when dropped.
pub struct DevNode {
    rt: tokio::runtime::Runtime,
    node: Option<RunningNode>,
    pub rpc: String,
    pub dir: tempfile::TempDir,
}

impl DevNode {
    pub fn start() -> DevNode {
        DevNode::start_with(tfchain_genesis::builtin("dev").expect("the dev network is built in"))
    }

    /// A node of `genesis` (the dev network, changed), key 0 of the dev mnemonic producing.
    pub fn start_with(genesis: tfchain_genesis::Genesis) -> DevNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let node = rt
            .block_on(start(NodeOptions {
                genesis,
                data_dir: dir.path().join("node"),
                validator_key: Some(tfchain_genesis::dev_seed().derive_key(0)),
                rpc: RpcConfig {
                    addr: "127.0.0.1:0".parse().expect("an address"),
                    ..Default::default()
                },
                pool: Default::default(),
                clock: Arc::new(SystemClock),
                p2p: None,
                store: Default::default(),
            }))
            .expect("the dev node starts");
        let rpc = format!("http://{}", node.rpc_addr);
        DevNode {
            rt,
            node: Some(node),
            rpc,
            dir,
        }
    }

    /// A new wallet directory (not yet created) against this node.
    pub fn wallet(&self, name: &str) -> TestWallet {
        TestWallet::new(self.dir.path(), name, &self.rpc)
    }

    /// A wallet recovered from the dev mnemonic (keys 0..9 hold 1,000,000 TFT each).
    pub fn dev_wallet(&self, scan: &[&str]) -> (TestWallet, Value) {
        let w = self.wallet("dev");
        let mut args = vec!["wallet", "recover", "--insecure-fast-kdf"];
        args.extend_from_slice(scan);
        let j = w.run(&args, tfchain_genesis::DEV_MNEMONIC).success();
        (w, j)
    }

    /// `chain info` as JSON.
    pub fn info(&self) -> Value {
        tfchainc(&["chain", "info", "--json", "--rpc", &self.rpc], "").success()
    }

    /// Polls until the tip's timestamp reaches `t` (at most `secs` seconds).
    pub fn wait_tip_time(&self, t: u64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let ts = self.info()["info"]["tip_timestamp"].as_u64().unwrap_or(0);
            if ts >= t {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no block with a timestamp of at least {t} within {secs} s (tip at {ts})"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            self.rt.block_on(node.stop());
        }
    }
}

/// Waits (by polling the node through `tfchainc explore tx --wait`) until `txid` is
/// confirmed; returns the transaction report.
pub fn confirm(w: &TestWallet, txid: &Value) -> Value {
    let id = txid
        .as_str()
        .unwrap_or_else(|| panic!("not a txid: {txid}"));
    let j = w.ok(&["explore", "tx", id, "--wait", "60s"]);
    assert_eq!(j["status"]["state"], "confirmed", "{j}");
    j
}

/// A TFT amount in base units, as the JSON shows currency.
pub fn tft(s: &str) -> String {
    tfchain_types::Currency::parse_tft(s)
        .expect("a test amount")
        .0
        .to_string()
}

/// The wallet's confirmed balance in base units.
pub fn confirmed(w: &TestWallet) -> String {
    w.ok(&["wallet", "balance"])["confirmed"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
