//! Assembles a running node from its parts: store, pool, chain task, the peer-to-peer
//! network (optional), JSON-RPC server and (with a validator key) the block producer; and
//! takes them down cleanly.

use crate::chain::{self, ChainHandle, ChainWriter};
use crate::clock::Clock;
use crate::config::RpcConfig;
use crate::net::{self, NetworkHandle, P2pConfig};
use crate::producer::Producer;
use crate::rpc;
use crate::store::{Store, StoreError, StoreOptions};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tfchain_genesis::Genesis;
use tfchain_txpool::{ChainAt, Pool, PoolConfig};
use tfchain_types::SecretKey;
use tokio::sync::{broadcast, watch};
use tracing::{error, info};

/// Everything a node needs to start.
#[derive(Debug)]
pub struct NodeOptions {
    pub genesis: Genesis,
    pub data_dir: PathBuf,
    pub validator_key: Option<SecretKey>,
    pub rpc: RpcConfig,
    pub pool: PoolConfig,
    pub clock: Arc<dyn Clock>,
    /// The peer-to-peer network; `None` runs a single node that produces at once.
    pub p2p: Option<P2pConfig>,
    /// How to open the store (explorer indexes).
    pub store: StoreOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot start the chain task: {0}")]
    ChainTask(std::io::Error),
    #[error("cannot start the peer-to-peer network: {0} (is another node running? pick another address with --p2p-listen)")]
    Network(#[from] net::SwarmError),
    #[error("cannot start the JSON-RPC server on {addr}: {source} (is another node running? pick another port with --rpc-addr)")]
    Rpc {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running node. Dropping it without [`RunningNode::stop`] still stops the tasks, but
/// `stop` waits for them and flushes the store.
#[derive(Debug)]
pub struct RunningNode {
    pub chain: ChainHandle,
    pub rpc_addr: SocketAddr,
    /// The network handle, when the node runs peer-to-peer.
    pub net: Option<NetworkHandle>,
    rpc: rpc::RpcServer,
    network: Option<tokio::task::JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
    /// Turns true when a critical task died or an admin asked the node to stop.
    stop_requested: watch::Receiver<bool>,
    producer: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a node: opens (or creates) the store, checks and repairs it, starts the chain
/// task, the RPC server and the producer.
pub async fn start(opts: NodeOptions) -> Result<RunningNode, NodeError> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| NodeError::DataDir {
        path: opts.data_dir.clone(),
        source,
    })?;
    let genesis = opts.genesis;
    let data_dir = opts.data_dir.clone();
    let store_options = opts.store;
    let store = tokio::task::spawn_blocking(move || {
        Store::open_with(&data_dir, &genesis, store_options).map(|s| (s, genesis))
    })
    .await
    .map_err(|e| NodeError::ChainTask(std::io::Error::other(e.to_string())))??;
    let (store, genesis) = store;
    let params = genesis.params();
    let tip = tfchain_consensus::StateView::tip(&store);
    info!(
        network = genesis.network(),
        genesis = %genesis.genesis_id(),
        height = tip.height,
        tip = %tip.id,
        data_dir = %opts.data_dir.display(),
        "chain state loaded"
    );

    let pool = Arc::new(Mutex::new(Pool::new(opts.pool.clone())));
    pool.lock()
        .resync(&ChainAt::new(&store, &params), opts.clock.now());
    let (events, _) = broadcast::channel(1_024);
    let (stop_tx, stop_requested) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let writer = ChainWriter::new(store, params, pool, opts.clock.clone(), events);
    let on_exit = {
        let stop_tx = stop_tx.clone();
        move |panicked: bool| {
            if panicked {
                error!("critical task `chain` died: stopping the node");
            }
            let _ = stop_tx.send(true);
        }
    };
    let chain = chain::spawn(writer, on_exit).map_err(NodeError::ChainTask)?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    // Without peers the producer runs at once; with peers it waits until synced.
    let (synced_tx, synced_rx) = watch::channel(opts.p2p.is_none());
    let (net, network) = match opts.p2p {
        Some(config) => {
            let started = net::start(
                config,
                &opts.data_dir,
                chain.clone(),
                opts.clock.clone(),
                synced_tx,
                shutdown_rx.clone(),
            )?;
            let supervisor = supervise_network(started.task, shutdown_rx.clone(), stop_tx.clone());
            (Some(started.handle), Some(supervisor))
        }
        None => {
            drop(synced_tx);
            (None, None)
        }
    };
    let rpc = rpc::start(
        chain.clone(),
        &opts.rpc,
        genesis.network().to_string(),
        stop_tx.clone(),
        net.clone(),
    )
    .await
    .map_err(|source| NodeError::Rpc {
        addr: opts.rpc.addr,
        source,
    })?;
    let rpc_addr = rpc.local_addr;
    info!(addr = %rpc_addr, admin = opts.rpc.admin, "JSON-RPC listening (HTTP and WebSocket)");

    let producer = opts.validator_key.map(|key| {
        let producer = Producer::new(chain.clone(), key, opts.clock.clone(), synced_rx);
        tokio::spawn(producer.run(shutdown_rx.clone()))
    });

    Ok(RunningNode {
        chain,
        rpc_addr,
        net,
        rpc,
        network,
        shutdown,
        stop_requested,
        producer,
    })
}

impl RunningNode {
    /// Resolves when something asked the node to stop (a dead critical task, an admin call).
    pub async fn stop_requested(&mut self) {
        while !*self.stop_requested.borrow() {
            if self.stop_requested.changed().await.is_err() {
                return;
            }
        }
    }

    /// Why the chain task stopped the node, if it did (the store could not write).
    pub fn fatal_error(&self) -> Option<String> {
        self.chain.fatal_error()
    }

    /// Stops the producer and the RPC server, lets the chain task finish and flushes.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Some(p) = self.producer {
            let _ = p.await;
        }
        if let Some(n) = self.network {
            let _ = n.await;
        }
        self.rpc.stop().await;
        if let Err(e) = self.chain.flush().await {
            error!(error = %e, "final flush failed");
        }
        info!("node stopped");
    }
}

/// Watches the network actor: if it ends while the node is not shutting down (a panic or
/// an unexpected exit), the node stops with a clear log line instead of limping on alone.
fn supervise_network(
    task: tokio::task::JoinHandle<()>,
    shutdown: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let result = task.await;
        if !*shutdown.borrow() {
            match result {
                Err(e) if e.is_panic() => {
                    error!("critical task `network` panicked: stopping the node")
                }
                _ => error!("critical task `network` exited: stopping the node"),
            }
            let _ = stop.send(true);
        }
    })
}
