//! Multi-node test harness for tfchain (ARCHITECTURE.md §7): in-process nodes
//! (`tfchain_node::node::start`) talking over real loopback sockets, each with its own
//! temporary data dir, driven by small actions: [`Net::start`], [`Net::wait_height`],
//! [`Net::partition`], [`Net::heal`], [`Net::kill`], [`Net::restart`].
//!
//! Every wait polls with a deadline; nothing sleeps to synchronise.

pub mod chain;

use anyhow::{bail, Context};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use libp2p::Multiaddr;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_genesis::Genesis;
use tfchain_node::clock::SystemClock;
use tfchain_node::config::RpcConfig;
use tfchain_node::net::P2pConfig;
use tfchain_node::node::{self, NodeOptions, RunningNode};
use tfchain_types::{BlockId, Height, SecretKey};

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or fails after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One node of a test network.
pub struct TestNode {
    pub running: RunningNode,
    pub data_dir: PathBuf,
    pub key: Option<SecretKey>,
    pub rpc: HttpClient,
    pub p2p: Multiaddr,
}

impl std::fmt::Debug for TestNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNode")
            .field("data_dir", &self.data_dir)
            .field("p2p", &self.p2p)
            .finish()
    }
}

impl TestNode {
    pub fn tip(&self) -> tfchain_consensus::BlockMeta {
        self.running.chain.store.tip()
    }

    pub fn height(&self) -> Height {
        self.tip().height
    }

    pub fn id_at(&self, h: Height) -> Option<BlockId> {
        self.running.chain.store.block_id_at(h).ok().flatten()
    }
}

/// A network of in-process nodes sharing one genesis.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub genesis: Genesis,
    /// Key `i` is validator `i`'s block-signing key.
    pub keys: Vec<SecretKey>,
    pub nodes: Vec<Option<TestNode>>,
    /// Data dirs by node index (kept across kill/restart).
    dirs: Vec<PathBuf>,
    node_keys: Vec<Option<SecretKey>>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").field("nodes", &self.nodes).finish()
    }
}

impl Net {
    /// A new network of `validators` validators (genesis timestamp now).
    pub fn new(validators: usize) -> anyhow::Result<Net> {
        let now = tfchain_node::clock::Clock::now(&SystemClock);
        Self::with_genesis_time(validators, now)
    }

    pub fn with_genesis_time(validators: usize, timestamp: u64) -> anyhow::Result<Net> {
        let (genesis, keys) =
            tfchain_genesis::new_network(validators, "it", timestamp, &mut rand::rngs::OsRng)?;
        Ok(Net {
            dir: tempfile::tempdir()?,
            genesis,
            keys: keys.iter().map(|k| k.key()).collect(),
            nodes: Vec::new(),
            dirs: Vec::new(),
            node_keys: Vec::new(),
        })
    }

    /// A data dir for a node that has not started yet (to fill it before the start).
    pub fn prepare_dir(&mut self, index: usize) -> PathBuf {
        let dir = self.dir.path().join(format!("node-{index}"));
        while self.dirs.len() <= index {
            let i = self.dirs.len();
            self.dirs.push(self.dir.path().join(format!("node-{i}")));
            self.node_keys.push(None);
            self.nodes.push(None);
        }
        dir
    }

    /// Starts node `index` (validator `key` if given) with every running node as a bootnode.
    pub async fn start(&mut self, index: usize, key: Option<usize>) -> anyhow::Result<()> {
        let data_dir = self.prepare_dir(index);
        self.node_keys[index] = key.map(|k| self.keys[k].clone());
        self.launch(index, data_dir).await
    }

    /// Starts nodes `0..n`, node `i` as validator `i`.
    pub async fn start_validators(&mut self, n: usize) -> anyhow::Result<()> {
        for i in 0..n {
            self.start(i, Some(i)).await?;
        }
        Ok(())
    }

    async fn launch(&mut self, index: usize, data_dir: PathBuf) -> anyhow::Result<()> {
        let bootnodes: Vec<Multiaddr> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .filter_map(|(_, n)| n.as_ref().map(|n| n.p2p.clone()))
            .collect();
        let key = self.node_keys[index].clone();
        let rpc = RpcConfig {
            addr: "127.0.0.1:0".parse()?,
            admin: true,
            ..RpcConfig::default()
        };
        let running = node::start(NodeOptions {
            genesis: self.genesis.clone(),
            data_dir: data_dir.clone(),
            validator_key: key.clone(),
            rpc,
            pool: tfchain_txpool::PoolConfig::default(),
            clock: Arc::new(SystemClock),
            p2p: Some(P2pConfig {
                bootnodes,
                startup_grace: Some(Duration::from_secs(3)),
                ..P2pConfig::loopback()
            }),
            store: Default::default(),
        })
        .await
        .with_context(|| format!("starting node {index}"))?;
        let net = running.net.clone().context("the node has no network")?;
        let p2p = net
            .listen_addrs(Duration::from_secs(10))
            .await
            .into_iter()
            .next()
            .context("the node does not listen")?;
        let rpc = HttpClientBuilder::default().build(format!("http://{}", running.rpc_addr))?;
        self.nodes[index] = Some(TestNode {
            running,
            data_dir,
            key,
            rpc,
            p2p,
        });
        Ok(())
    }

    pub fn node(&self, i: usize) -> &TestNode {
        self.nodes[i].as_ref().expect("node is running")
    }

    /// The running nodes with their indexes.
    pub fn running(&self) -> impl Iterator<Item = (usize, &TestNode)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
    }

    /// Stops node `i` (its data dir stays).
    pub async fn kill(&mut self, i: usize) {
        if let Some(n) = self.nodes[i].take() {
            n.running.stop().await;
        }
    }

    /// Starts node `i` again on its data dir.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        let dir = self.dirs[i].clone();
        self.launch(i, dir).await
    }

    /// Waits until node `i` reaches height `h`.
    pub async fn wait_height(&self, i: usize, h: Height, timeout: Duration) -> anyhow::Result<()> {
        let node = self.node(i);
        wait_for(&format!("node {i} at height {h}"), timeout, || async {
            (node.height() >= h).then_some(())
        })
        .await
    }

    /// Waits until every running node reaches height `h`.
    pub async fn wait_all_height(&self, h: Height, timeout: Duration) -> anyhow::Result<()> {
        wait_for(&format!("every node at height {h}"), timeout, || async {
            self.running().all(|(_, n)| n.height() >= h).then_some(())
        })
        .await
    }

    /// Waits until every running node has the same tip; returns it.
    pub async fn wait_same_tip(&self, timeout: Duration) -> anyhow::Result<BlockId> {
        wait_for("every node on the same tip", timeout, || async {
            let tips: Vec<BlockId> = self.running().map(|(_, n)| n.tip().id).collect();
            let first = *tips.first()?;
            tips.iter().all(|t| *t == first).then_some(first)
        })
        .await
    }

    /// Cuts every link between the groups `a` and `b` (both sides ban the other).
    pub async fn partition(&self, a: &[usize], b: &[usize]) -> anyhow::Result<()> {
        use tfchain_api::AdminApiClient;
        for &x in a {
            for &y in b {
                for (from, to) in [(x, y), (y, x)] {
                    let peer = self.node(to).running.net.as_ref().context("net")?.peer_id();
                    self.node(from)
                        .rpc
                        .remove_peer(peer.to_base58(), Some(3_600))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Lifts the bans between `a` and `b` and reconnects them.
    pub async fn heal(&self, a: &[usize], b: &[usize]) -> anyhow::Result<()> {
        use tfchain_api::AdminApiClient;
        for &x in a {
            for &y in b {
                for (from, to) in [(x, y), (y, x)] {
                    let addr = self.node(to).p2p.to_string();
                    self.node(from).rpc.add_peer(addr).await?;
                }
            }
        }
        Ok(())
    }

    /// Stops every node.
    pub async fn stop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i).await;
        }
    }
}
