//! The peer-to-peer network (PROTOCOL.md §12, ARCHITECTURE.md §2).
//!
//! One **network actor** task owns the libp2p swarm and runs a single `select!` loop over
//! swarm events, commands from a bounded channel, chain events and timers. The rest of the
//! node holds a cloneable [`NetworkHandle`].
//!
//! - **Gossip** (`gossip`): blocks and transaction batches on two gossipsub topics. Every
//!   message is validated by the chain task or the pool before gossipsub may forward it
//!   (`Accept`); data that can never be valid is `Reject`ed and lowers the sender's score.
//! - **Sync** (`sync`): headers first from the peer with the most work (block locator, so
//!   forks are found), cheap header checks, then bodies in parallel batches from several
//!   peers with bounded memory and timeouts, applied in order by one applier task.
//! - **Peers** (`peers`): scores, bans, discovery from bootnodes and peer exchange.
//! - **Synced** rule (`gate`), fed to the producer: the node is behind when a sync session
//!   holds checked headers more than [`SYNC_LAG`] blocks past its tip, or, for at most
//!   `CLAIM_GRACE`, when a peer claims such a tip before showing its headers; the gate never
//!   stays closed for a minute without the tip advancing. A node with bootnodes but no
//!   peers produces after a startup grace, so a lone dev node and a network whose
//!   validators all start together both make progress.

mod actor;
mod admin;
mod discovery;
mod gate;
mod gossip;
mod peers;
pub mod protocol;
mod serve;
pub mod swarm;
mod sync;

pub use peers::score;
pub use swarm::SwarmError;

use crate::chain::ChainHandle;
use crate::clock::Clock;
use libp2p::{Multiaddr, PeerId};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tfchain_api::types::{NetInfo, PeerInfo};
use tfchain_types::Block;
use tokio::sync::{mpsc, oneshot, watch};

/// Default p2p port.
pub const DEFAULT_P2P_PORT: u16 = 23112;
/// A node is "synced" while no peer is more than this many blocks ahead with more work.
pub const SYNC_LAG: u64 = 2;
/// How long a caller waits for the network actor.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Commands queued before senders wait.
const QUEUE: usize = 256;

/// Peer-to-peer settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct P2pConfig {
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to connect to at start (and again whenever the node has too few peers).
    pub bootnodes: Vec<Multiaddr>,
    /// Most connected peers.
    pub max_peers: u32,
    /// The node identity key; `None`: `<data_dir>/p2p-key`.
    pub key_path: Option<PathBuf>,
    /// How long a node with bootnodes but no peers waits before producing; `None`:
    /// three block times (at least 5 s).
    pub startup_grace: Option<Duration>,
}

impl Default for P2pConfig {
    /// Listen on all interfaces on the default port, no bootnodes, 50 peers.
    fn default() -> Self {
        P2pConfig {
            listen: vec![format!("/ip4/0.0.0.0/tcp/{DEFAULT_P2P_PORT}")
                .parse()
                .expect("the default listen address parses")],
            bootnodes: Vec::new(),
            max_peers: 50,
            key_path: None,
            startup_grace: None,
        }
    }
}

impl P2pConfig {
    /// Loopback only, on an ephemeral port: for tests and `--dev`.
    pub fn loopback() -> Self {
        P2pConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/0"
                .parse()
                .expect("the loopback address parses")],
            ..P2pConfig::default()
        }
    }
}

/// What the actor publishes for cheap reads (RPC `chain_getInfo`, the producer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetState {
    pub peers: u32,
    pub synced: bool,
    /// Listen addresses with `/p2p/<peer id>`, once listening.
    pub listen: Vec<Multiaddr>,
}

enum Command {
    Info(oneshot::Sender<NetInfo>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    AddPeer(Multiaddr, oneshot::Sender<Result<bool, String>>),
    RemovePeer(PeerId, Duration, oneshot::Sender<bool>),
    Broadcast(Box<Block>),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Info(_) => "Info",
            Command::Peers(_) => "Peers",
            Command::AddPeer(..) => "AddPeer",
            Command::RemovePeer(..) => "RemovePeer",
            Command::Broadcast(_) => "Broadcast",
        })
    }
}

/// A cloneable handle to the network actor.
#[derive(Clone, Debug)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<NetState>,
    peer_id: PeerId,
}

impl NetworkHandle {
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Connected peers (from the actor's last update).
    pub fn peer_count(&self) -> u32 {
        self.state.borrow().peers
    }

    /// Whether the node believes it has caught up with its peers.
    pub fn synced(&self) -> bool {
        self.state.borrow().synced
    }

    /// The listen addresses (with `/p2p/<peer id>`), waiting up to `timeout` for the
    /// first one.
    pub async fn listen_addrs(&self, timeout: Duration) -> Vec<Multiaddr> {
        let mut state = self.state.clone();
        let _ = tokio::time::timeout(timeout, state.wait_for(|s| !s.listen.is_empty())).await;
        let addrs = state.borrow().listen.clone();
        addrs
    }

    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        tokio::time::timeout(CALL_TIMEOUT, self.commands.send(make(tx)))
            .await
            .ok()?
            .ok()?;
        tokio::time::timeout(CALL_TIMEOUT, rx).await.ok()?.ok()
    }

    pub async fn info(&self) -> Option<NetInfo> {
        self.call(Command::Info).await
    }

    pub async fn peers(&self) -> Option<Vec<PeerInfo>> {
        self.call(Command::Peers).await
    }

    /// Dials `addr`, lifting a ban on its peer ID. `Err` says why the dial cannot start.
    pub async fn add_peer(&self, addr: Multiaddr) -> Result<bool, String> {
        self.call(|tx| Command::AddPeer(addr, tx))
            .await
            .unwrap_or_else(|| Err("the network is not running".into()))
    }

    /// Disconnects `peer` and bans it for `ban`. Returns whether it was connected.
    pub async fn remove_peer(&self, peer: PeerId, ban: Duration) -> bool {
        self.call(|tx| Command::RemovePeer(peer, ban, tx))
            .await
            .unwrap_or(false)
    }

    /// Publishes a block on the blocks topic (it should be valid: peers score us on it).
    pub async fn broadcast_block(&self, block: Block) {
        let _ = tokio::time::timeout(
            CALL_TIMEOUT,
            self.commands.send(Command::Broadcast(Box::new(block))),
        )
        .await;
    }
}

/// A started network: its handle and the actor task (critical: supervise it).
#[derive(Debug)]
pub struct Started {
    pub handle: NetworkHandle,
    pub task: tokio::task::JoinHandle<()>,
}

/// Builds the swarm, starts listening and dialling, and spawns the network actor.
/// `synced` is fed to the producer; the actor stops when `shutdown` turns true.
pub fn start(
    config: P2pConfig,
    data_dir: &std::path::Path,
    chain: ChainHandle,
    clock: Arc<dyn Clock>,
    synced: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) -> Result<Started, SwarmError> {
    let key_path = config
        .key_path
        .clone()
        .unwrap_or_else(|| data_dir.join("p2p-key"));
    let keypair = swarm::load_or_create_key(&key_path)?;
    let peer_id = keypair.public().to_peer_id();
    let mut swarm = swarm::build(keypair, &chain.params.genesis_id, config.max_peers)?;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| SwarmError::Transport(format!("cannot listen on {addr}: {e}")))?;
    }
    let (commands_tx, commands_rx) = mpsc::channel(QUEUE);
    let (state_tx, state_rx) = watch::channel(NetState::default());
    let actor = actor::Actor::new(
        swarm,
        config,
        chain,
        clock,
        commands_rx,
        state_tx,
        synced,
        shutdown,
    );
    let task = tokio::spawn(actor.run());
    Ok(Started {
        handle: NetworkHandle {
            commands: commands_tx,
            state: state_rx,
            peer_id,
        },
        task,
    })
}
