//! The network actor: owns the swarm, runs one `select!` loop over swarm events, commands,
//! chain events, results of spawned work and timers. Gossip, sync and serving live in
//! their own files as further `impl Actor` blocks.

use super::gate::{Gate, CLAIM_DISTRUST, CLAIM_GRACE};
use super::gossip::GossipState;
use super::peers::{score, Peers, Verdict, MISBEHAVIOUR_BAN};
use super::protocol::{Names, Request, Response, Status};
use super::swarm::{Behaviour, BehaviourEvent};
use super::sync::{Purpose, Sync};
use super::{Command, NetState, P2pConfig, SYNC_LAG};
use crate::chain::{ChainEvent, ChainHandle};
use crate::clock::Clock;
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identify, Multiaddr, PeerId, Swarm};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_types::Block;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{debug, info, warn};

/// Housekeeping period (transaction batches, sync progress).
const TICK: Duration = Duration::from_millis(50);
/// How often each peer is asked for its status.
const STATUS_EVERY: Duration = Duration::from_secs(10);
/// How often discovery runs when the node has too few peers.
const DISCOVERY_EVERY: Duration = Duration::from_secs(10);
/// Results of spawned work queued before the tasks wait.
const INTERNAL_QUEUE: usize = 4_096;

/// Results of work the actor spawned (validation, serving, applying blocks).
#[derive(Debug)]
pub(super) enum Internal {
    Validated {
        id: gossipsub::MessageId,
        source: PeerId,
        acceptance: gossipsub::MessageAcceptance,
        delta: i64,
        reason: &'static str,
        /// The block's parent is unknown: the source has blocks we lack.
        behind: bool,
        /// The block was held (see `gossip`).
        held: Option<tfchain_types::BlockId>,
    },
    Respond {
        peer: PeerId,
        bytes: usize,
        channel: ResponseChannel<Response>,
        response: Response,
    },
    Applied(super::sync::Applied),
}

pub(super) struct Actor {
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) config: P2pConfig,
    pub(super) chain: ChainHandle,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) names: Names,
    pub(super) peers: Peers,
    pub(super) sync: Sync,
    pub(super) gossip: GossipState,
    pub(super) requests: HashMap<OutboundRequestId, (PeerId, Purpose)>,
    pub(super) internal_tx: mpsc::Sender<Internal>,
    internal_rx: mpsc::Receiver<Internal>,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Receiver<ChainEvent>,
    state: watch::Sender<NetState>,
    synced: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
    started: Instant,
    grace: Duration,
    last_status_round: Instant,
    pub(super) last_discovery: Instant,
    last_decay: Instant,
    gate: Gate,
}

impl Actor {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        swarm: Swarm<Behaviour>,
        config: P2pConfig,
        chain: ChainHandle,
        clock: Arc<dyn Clock>,
        commands: mpsc::Receiver<Command>,
        state: watch::Sender<NetState>,
        synced: watch::Sender<bool>,
        shutdown: watch::Receiver<bool>,
    ) -> Actor {
        let (internal_tx, internal_rx) = mpsc::channel(INTERNAL_QUEUE);
        let names = Names::new(&chain.params.genesis_id);
        let grace = config.startup_grace.unwrap_or_else(|| {
            Duration::from_secs(chain.params.block_time.saturating_mul(3).max(5))
        });
        let sync = Sync::new(chain.clone(), internal_tx.clone());
        let events = chain.subscribe();
        let past = Instant::now()
            .checked_sub(DISCOVERY_EVERY)
            .unwrap_or_else(Instant::now);
        Actor {
            swarm,
            config,
            gossip: GossipState::new(),
            chain,
            clock,
            names,
            peers: Peers::default(),
            sync,
            requests: HashMap::new(),
            internal_tx,
            internal_rx,
            commands,
            events,
            state,
            synced,
            shutdown,
            started: Instant::now(),
            grace,
            last_status_round: Instant::now(),
            last_discovery: past,
            last_decay: Instant::now(),
            gate: Gate::default(),
        }
    }

    pub(super) async fn run(mut self) {
        info!(peer_id = %self.swarm.local_peer_id(), "p2p network started");
        self.dial_bootnodes();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                Some(cmd) = self.commands.recv() => self.on_command(cmd),
                Some(msg) = self.internal_rx.recv() => self.on_internal(msg),
                ev = self.events.recv() => match ev {
                    Ok(ev) => self.on_chain_event(ev),
                    Err(RecvError::Lagged(n)) => debug!(missed = n, "network actor lagged behind chain events"),
                    Err(RecvError::Closed) => {
                        warn!("chain events closed: stopping the network");
                        break;
                    }
                },
                _ = tick.tick() => self.on_tick(),
                _ = self.shutdown.changed() => {
                    if *self.shutdown.borrow() {
                        break;
                    }
                }
            }
        }
        info!("p2p network stopped");
    }

    // ---- peers ------------------------------------------------------------------------

    /// Lowers or raises a peer's score; bans it at the threshold.
    pub(super) fn adjust(&mut self, peer: PeerId, delta: i64, reason: &str) {
        if delta < 0 {
            debug!(%peer, delta, reason, "peer penalised");
        }
        if self.peers.adjust(&peer, delta) == Verdict::Ban {
            warn!(%peer, reason, "peer misbehaved: disconnecting and banning it");
            self.ban(peer, MISBEHAVIOUR_BAN);
        }
    }

    pub(super) fn ban(&mut self, peer: PeerId, duration: Duration) {
        self.peers.ban(peer, duration);
        self.swarm.behaviour_mut().bans.block_peer(peer);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    pub(super) fn our_status(&self) -> Status {
        let tip = self.chain.store.tip();
        Status {
            genesis: self.chain.params.genesis_id,
            height: tip.height,
            tip: tip.id,
            total_work: tip.total_work,
        }
    }

    pub(super) fn send(&mut self, peer: PeerId, request: Request, purpose: Purpose) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.requests.insert(id, (peer, purpose));
    }

    fn request_status(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.status_pending {
            return;
        }
        p.status_pending = true;
        let status = self.our_status();
        self.send(peer, Request::Status(status), Purpose::Status);
    }

    /// A peer told us its status: check its network, remember it, maybe start a sync.
    pub(super) fn on_status(&mut self, peer: PeerId, status: Status) {
        if status.genesis != self.chain.params.genesis_id {
            warn!(%peer, genesis = %status.genesis, "peer is on another network: dropping it");
            self.ban(peer, MISBEHAVIOUR_BAN);
            return;
        }
        let tip = self.chain.store.tip();
        if let Some(p) = self.peers.get_mut(&peer) {
            p.status = Some(status);
            p.status_at = Some(Instant::now());
            if !p.claims_ahead(&tip, SYNC_LAG) {
                p.claim_since = None;
            } else if p.claim_since.is_none() {
                p.claim_since = Some(Instant::now());
            }
        }
        self.sync_step();
        self.publish_state();
    }

    // ---- swarm events -----------------------------------------------------------------

    fn on_swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(ev)) => self.on_gossip_event(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(ev)) => self.on_sync_event(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identify(peer_id, info),
            SwarmEvent::Behaviour(_) => {}
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                if self.peers.is_banned(&peer_id) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if num_established.get() == 1 {
                    let inbound = endpoint.is_listener();
                    let address = endpoint.get_remote_address().clone();
                    info!(peer = %peer_id, %address, inbound, "peer connected");
                    self.peers.connected(peer_id, address, inbound);
                    self.request_status(peer_id);
                    if self.peers.len() < self.target_peers() {
                        self.send(peer_id, Request::Peers, Purpose::Peers);
                    }
                    self.publish_state();
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } => {
                if self.peers.disconnected(&peer_id).is_some() {
                    info!(peer = %peer_id, cause = ?cause.map(|c| c.to_string()), "peer disconnected");
                }
                self.publish_state();
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let full = address
                    .clone()
                    .with(Protocol::P2p(*self.swarm.local_peer_id()));
                info!(address = %full, "p2p listening");
                self.publish_state();
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, error = %error, "dial failed");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                debug!(error = %error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_sync_event(&mut self, ev: request_response::Event<Request, Response>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((p, purpose)) = self.requests.remove(&request_id) {
                        self.on_response(p, purpose, response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some((_, purpose)) = self.requests.remove(&request_id) {
                    debug!(%peer, ?purpose, error = %error, "request failed");
                    if matches!(&error, request_response::OutboundFailure::Io(e) if e.kind() == std::io::ErrorKind::InvalidData)
                    {
                        // Bytes that do not decode, or a response over its limit.
                        self.adjust(peer, score::GARBAGE, "malformed response");
                    }
                    self.on_request_failed(peer, purpose);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, error = %error, "inbound request failed");
                if matches!(&error, request_response::InboundFailure::Io(e) if e.kind() == std::io::ErrorKind::InvalidData)
                {
                    self.adjust(peer, score::GARBAGE, "malformed request");
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_response(&mut self, peer: PeerId, purpose: Purpose, response: Response) {
        match (purpose, response) {
            (Purpose::Status, Response::Status(s)) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.status_pending = false;
                }
                self.on_status(peer, s);
            }
            (Purpose::Peers, Response::Peers(records)) => self.on_peer_records(records),
            (purpose @ (Purpose::Headers { .. } | Purpose::Blocks { .. }), response) => {
                self.on_sync_response(peer, purpose, response)
            }
            (purpose, Response::Busy) => self.on_request_failed(peer, purpose),
            (purpose, _) => {
                self.adjust(peer, score::GARBAGE, "response of the wrong kind");
                self.on_request_failed(peer, purpose);
            }
        }
    }

    fn on_request_failed(&mut self, peer: PeerId, purpose: Purpose) {
        match purpose {
            Purpose::Status => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.status_pending = false;
                }
            }
            Purpose::Peers => {}
            Purpose::Headers { .. } | Purpose::Blocks { .. } => {
                self.adjust(peer, score::TIMEOUT, "sync request failed");
                self.sync_request_failed(peer, purpose);
            }
        }
    }

    // ---- commands, internal results, chain events, timers -----------------------------

    fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Validated {
                id,
                source,
                acceptance,
                delta,
                reason,
                behind,
                held,
            } => self.on_validated(id, source, acceptance, delta, reason, behind, held),
            Internal::Respond {
                peer,
                bytes,
                channel,
                response,
            } => self.on_served(peer, bytes, channel, response),
            Internal::Applied(a) => self.on_applied(a),
        }
    }

    fn on_chain_event(&mut self, ev: ChainEvent) {
        match ev {
            ChainEvent::Connected(block) => self.on_connected(&block),
            ChainEvent::Disconnected(block) => self.reannounce(&block),
            ChainEvent::Reorganized { undone, applied } => {
                for block in &undone {
                    self.reannounce(block);
                }
                for block in &applied {
                    self.on_connected(block);
                }
            }
            ChainEvent::TxAccepted(txid) => self.on_tx_accepted(txid),
        }
    }

    /// Relays a block that joined the main chain, if it is recent and this node is not
    /// syncing.
    fn on_connected(&mut self, block: &Block) {
        let now = self.clock.now();
        let fresh = block
            .header
            .timestamp
            .saturating_add(self.chain.params.block_time.saturating_mul(5))
            >= now;
        if fresh && !self.sync.is_active() {
            self.publish_block(block);
        }
    }

    fn on_tick(&mut self) {
        self.flush_txs();
        self.penalise_refused_held();
        self.sync_tick();
        if self.last_status_round.elapsed() >= Duration::from_secs(1) {
            self.last_status_round = Instant::now();
            let stale: Vec<PeerId> = self
                .peers
                .connected
                .iter()
                .filter(|(_, p)| p.status_at.is_none_or(|t| t.elapsed() >= STATUS_EVERY))
                .map(|(id, _)| *id)
                .collect();
            for p in stale {
                self.request_status(p);
            }
            self.expire_claims();
            for p in self.peers.expire_bans() {
                self.swarm.behaviour_mut().bans.unblock_peer(p);
            }
            self.publish_state();
        }
        if self.last_discovery.elapsed() >= DISCOVERY_EVERY {
            self.discover();
        }
        if self.last_decay.elapsed() >= Duration::from_secs(60) {
            self.last_decay = Instant::now();
            self.peers.decay();
        }
    }

    /// The "synced" rule as last evaluated (see the `gate` module).
    pub(super) fn is_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Evaluates the "synced" rule (the `gate` module): behind only on checked headers, or
    /// on a claim younger than `CLAIM_GRACE`; bounded by the gate.
    fn evaluate_synced(&mut self) -> bool {
        let tip = self.chain.store.tip();
        let now = Instant::now();
        let checked = self
            .sync
            .checked_height(CLAIM_GRACE)
            .is_some_and(|h| h > tip.height + SYNC_LAG);
        let claimed = self
            .peers
            .connected
            .values()
            .any(|p| p.claim_counts(now, &tip, SYNC_LAG));
        if checked || claimed {
            return self.gate.synced(now, tip.height, true);
        }
        self.gate.synced(now, tip.height, false);
        // Not behind on the evidence; at start, wait for a peer's status (or the grace).
        self.peers.connected.values().any(|p| p.status.is_some())
            || self.config.bootnodes.is_empty()
            || self.started.elapsed() >= self.grace
    }

    /// Peers whose claimed tip was not backed by checked headers within `CLAIM_GRACE`:
    /// penalised, and their claims disregarded for `CLAIM_DISTRUST`.
    fn expire_claims(&mut self) {
        let tip = self.chain.store.tip();
        let now = Instant::now();
        // While a session shows checked headers past our tip, a real sync is under way:
        // claims simply expire (that evidence holds the gate), nobody is blamed.
        let syncing = self
            .sync
            .checked_height(CLAIM_GRACE)
            .is_some_and(|h| h > tip.height + SYNC_LAG);
        let mut liars = Vec::new();
        for (id, p) in self.peers.connected.iter_mut() {
            let Some(since) = p.claim_since else {
                continue;
            };
            if now.duration_since(since) < CLAIM_GRACE {
                continue;
            }
            p.claim_since = None;
            if syncing || p.backed_height > tip.height + SYNC_LAG || !p.claims_ahead(&tip, SYNC_LAG)
            {
                continue;
            }
            p.claims_ignored_until = Some(now + CLAIM_DISTRUST);
            let claimed = p.status.as_ref().map(|s| s.height).unwrap_or_default();
            liars.push((*id, claimed));
        }
        for (peer, claimed) in liars {
            warn!(%peer, claimed_height = claimed, height = tip.height, grace_s = CLAIM_GRACE.as_secs(), "peer claimed a longer chain but showed no headers for it: claim dropped");
            self.adjust(peer, score::LIE, "claimed a chain it did not show");
        }
    }

    pub(super) fn publish_state(&mut self) {
        let synced = self.evaluate_synced();
        self.synced
            .send_if_modified(|s| std::mem::replace(s, synced) != synced);
        let me = *self.swarm.local_peer_id();
        let listen: Vec<Multiaddr> = self
            .swarm
            .listeners()
            .map(|a| a.clone().with(Protocol::P2p(me)))
            .collect();
        let state = NetState {
            peers: self.peers.len() as u32,
            synced,
            listen,
        };
        self.state.send_if_modified(|s| {
            if *s == state {
                false
            } else {
                *s = state;
                true
            }
        });
    }
}
