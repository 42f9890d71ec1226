//! The peer table: connected peers with their last reported status and this node's score
//! of them, bans with expiry, and addresses learnt for discovery. Pure bookkeeping: the
//! actor turns its answers into swarm calls.

use super::protocol::Status;
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tfchain_consensus::BlockMeta;
use tfchain_types::Height;

/// Score changes (ARCHITECTURE.md §4: invalid data lowers the sender's score).
pub mod score {
    /// A block that fails validation, or one that does not match what was asked for.
    pub const INVALID_BLOCK: i64 = -100;
    /// Bytes that do not decode, or a message over its size limit.
    pub const GARBAGE: i64 = -100;
    /// A transaction that can never be valid.
    pub const INVALID_TX: i64 = -10;
    /// A status or header chain the peer cannot back up.
    pub const LIE: i64 = -50;
    /// A request that timed out or failed.
    pub const TIMEOUT: i64 = -5;
    /// A block that joined our chain.
    pub const USEFUL_BLOCK: i64 = 1;
    /// At or below this a peer is disconnected and banned.
    pub const BAN_THRESHOLD: i64 = -100;
    /// The best score a peer can build up (good behaviour does not buy much credit).
    pub const MAX: i64 = 100;
}

/// How long a misbehaving peer stays banned.
pub const MISBEHAVIOUR_BAN: Duration = Duration::from_secs(30 * 60);
/// The longest ban (a year); longer requests are cut to it.
pub const MAX_BAN: Duration = Duration::from_secs(365 * 24 * 3600);
/// Most addresses kept for discovery.
const MAX_KNOWN: usize = 1_024;

/// A connected peer.
#[derive(Debug, Clone)]
pub struct Peer {
    pub address: Multiaddr,
    pub inbound: bool,
    pub connected_at: Instant,
    pub status: Option<Status>,
    pub status_at: Option<Instant>,
    pub status_pending: bool,
    pub score: i64,
    pub agent: Option<String>,
    /// Dialable addresses the peer announced (identify).
    pub listen_addrs: Vec<Multiaddr>,
    /// Body requests in flight to this peer.
    pub inflight: usize,
    /// Not asked for sync data before this instant (it failed or lacked data).
    pub sync_cooldown: Option<Instant>,
    /// Since when the peer has claimed a tip ahead of ours (its current claim).
    pub claim_since: Option<Instant>,
    /// The highest header this peer showed that passed the checks.
    pub backed_height: Height,
    /// Its claims do not count toward "behind" until then (it failed to back one).
    pub claims_ignored_until: Option<Instant>,
    /// Its sync requests in service, and the bytes served to it since `served_since`.
    pub serving: usize,
    pub served_bytes: usize,
    pub served_since: Instant,
}

impl Peer {
    fn new(address: Multiaddr, inbound: bool) -> Peer {
        Peer {
            address,
            inbound,
            connected_at: Instant::now(),
            status: None,
            status_at: None,
            status_pending: false,
            score: 0,
            agent: None,
            listen_addrs: Vec::new(),
            inflight: 0,
            sync_cooldown: None,
            claim_since: None,
            backed_height: 0,
            claims_ignored_until: None,
            serving: 0,
            served_bytes: 0,
            served_since: Instant::now(),
        }
    }

    /// Whether its status claims a tip ahead of `tip` by more than `lag` blocks with more work.
    pub fn claims_ahead(&self, tip: &BlockMeta, lag: u64) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| s.total_work > tip.total_work && s.height > tip.height + lag)
    }

    /// Whether its claim still counts toward "behind" without headers (gate module).
    pub fn claim_counts(&self, now: Instant, tip: &BlockMeta, lag: u64) -> bool {
        self.claims_ahead(tip, lag)
            && self.claims_ignored_until.is_none_or(|t| now >= t)
            && self
                .claim_since
                .is_some_and(|t| now.duration_since(t) < super::gate::CLAIM_GRACE)
    }

    /// Whether a sync request of this peer may be served now: fewer than
    /// `SERVE_PER_PEER` in service and under its byte share of the current window.
    pub fn may_serve(&mut self, now: Instant) -> bool {
        use super::serve::{SERVE_BYTES_PER_PEER, SERVE_PER_PEER, SERVE_WINDOW};
        if now.duration_since(self.served_since) >= SERVE_WINDOW {
            self.served_since = now;
            self.served_bytes = 0;
        }
        self.serving < SERVE_PER_PEER && self.served_bytes < SERVE_BYTES_PER_PEER
    }

    pub fn serving_started(&mut self) {
        self.serving += 1;
    }

    /// A served request finished, having sent `bytes`.
    pub fn served(&mut self, bytes: usize) {
        self.serving = self.serving.saturating_sub(1);
        self.served_bytes = self.served_bytes.saturating_add(bytes);
    }

    pub fn usable_for_sync(&self, now: Instant) -> bool {
        self.sync_cooldown.is_none_or(|t| now >= t)
    }
}

/// What the caller must do after a score change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Disconnect and ban the peer.
    Ban,
}

#[derive(Debug, Default)]
pub struct Peers {
    pub connected: HashMap<PeerId, Peer>,
    banned: HashMap<PeerId, Instant>,
    known: HashMap<PeerId, Vec<Multiaddr>>,
    known_order: VecDeque<PeerId>,
}

impl Peers {
    pub fn connected(&mut self, peer: PeerId, address: Multiaddr, inbound: bool) {
        self.connected
            .entry(peer)
            .or_insert_with(|| Peer::new(address, inbound));
    }

    pub fn disconnected(&mut self, peer: &PeerId) -> Option<Peer> {
        self.connected.remove(peer)
    }

    pub fn get_mut(&mut self, peer: &PeerId) -> Option<&mut Peer> {
        self.connected.get_mut(peer)
    }

    pub fn get(&self, peer: &PeerId) -> Option<&Peer> {
        self.connected.get(peer)
    }

    pub fn len(&self) -> usize {
        self.connected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.connected.is_empty()
    }

    /// Adds `delta` to the peer's score; tells whether it must now be banned.
    pub fn adjust(&mut self, peer: &PeerId, delta: i64) -> Verdict {
        let Some(p) = self.connected.get_mut(peer) else {
            return if delta <= score::BAN_THRESHOLD {
                Verdict::Ban
            } else {
                Verdict::Keep
            };
        };
        p.score = p.score.saturating_add(delta).min(score::MAX);
        if p.score <= score::BAN_THRESHOLD {
            Verdict::Ban
        } else {
            Verdict::Keep
        }
    }

    /// Scores drift back toward zero (called once a minute): old faults are forgiven.
    pub fn decay(&mut self) {
        for p in self.connected.values_mut() {
            if p.score < 0 {
                p.score += 1;
            }
        }
    }

    /// Bans `peer` for `duration` (at most [`MAX_BAN`]: any duration is safe to pass).
    pub fn ban(&mut self, peer: PeerId, duration: Duration) {
        let now = Instant::now();
        let until = now
            .checked_add(duration.min(MAX_BAN))
            .unwrap_or(now + MISBEHAVIOUR_BAN);
        self.banned.insert(peer, until);
        self.forget(&peer);
    }

    pub fn unban(&mut self, peer: &PeerId) -> bool {
        self.banned.remove(peer).is_some()
    }

    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.get(peer).is_some_and(|t| Instant::now() < *t)
    }

    pub fn banned_count(&self) -> usize {
        self.banned.len()
    }

    /// Removes expired bans and returns the peers to unblock.
    pub fn expire_bans(&mut self) -> Vec<PeerId> {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, t)| now >= **t)
            .map(|(p, _)| *p)
            .collect();
        for p in &expired {
            self.banned.remove(p);
        }
        expired
    }

    /// Remembers dialable addresses of a peer (bounded; the oldest entries go first).
    pub fn learn(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if addrs.is_empty() || self.is_banned(&peer) {
            return;
        }
        if !self.known.contains_key(&peer) {
            self.known_order.push_back(peer);
            while self.known_order.len() > MAX_KNOWN {
                if let Some(old) = self.known_order.pop_front() {
                    self.known.remove(&old);
                }
            }
        }
        self.known.insert(peer, addrs);
    }

    pub fn forget(&mut self, peer: &PeerId) {
        self.known.remove(peer);
        self.known_order.retain(|p| p != peer);
    }

    /// Known peers that are neither connected nor banned, newest first.
    pub fn dial_candidates(&self, me: &PeerId, n: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.known_order
            .iter()
            .rev()
            .filter(|p| *p != me && !self.connected.contains_key(p) && !self.is_banned(p))
            .filter_map(|p| self.known.get(p).map(|a| (*p, a.clone())))
            .take(n)
            .collect()
    }

    /// Connected peers with their dialable addresses, for peer exchange.
    pub fn shareable(&self, n: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.connected
            .iter()
            .filter(|(_, p)| !p.listen_addrs.is_empty())
            .map(|(id, p)| (*id, p.listen_addrs.clone()))
            .take(n)
            .collect()
    }

    /// The connected peer with the most total work that is usable for sync.
    pub fn best(&self) -> Option<(PeerId, Status)> {
        let now = Instant::now();
        self.connected
            .iter()
            .filter(|(_, p)| p.usable_for_sync(now))
            .filter_map(|(id, p)| p.status.clone().map(|s| (*id, s)))
            .max_by(|a, b| a.1.total_work.cmp(&b.1.total_work))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_lead_to_bans_and_bans_expire() {
        let mut peers = Peers::default();
        let p = PeerId::random();
        peers.connected(p, Multiaddr::empty(), false);
        assert_eq!(peers.adjust(&p, score::INVALID_TX), Verdict::Keep);
        assert_eq!(peers.adjust(&p, score::USEFUL_BLOCK), Verdict::Keep);
        assert_eq!(peers.adjust(&p, score::INVALID_BLOCK), Verdict::Ban);
        peers.ban(p, Duration::ZERO);
        assert!(!peers.is_banned(&p));
        assert_eq!(peers.expire_bans(), vec![p]);
        peers.ban(p, Duration::from_secs(60));
        assert!(peers.is_banned(&p));
        // Any duration an operator passes is safe (admin_removePeer with u64::MAX seconds).
        peers.ban(p, Duration::from_secs(u64::MAX));
        assert!(peers.is_banned(&p));
        peers.ban(p, Duration::MAX);
        assert!(peers.is_banned(&p));
        assert!(peers.expire_bans().is_empty());
        assert!(peers.unban(&p));
    }

    /// One greedy peer cannot take every serving slot or unbounded bandwidth.
    #[test]
    fn serving_is_bounded_per_peer_in_requests_and_bytes() {
        use crate::net::serve::{SERVE_BYTES_PER_PEER, SERVE_PER_PEER, SERVE_WINDOW};
        let mut p = Peer::new(Multiaddr::empty(), true);
        let t0 = p.served_since;
        for _ in 0..SERVE_PER_PEER {
            assert!(p.may_serve(t0));
            p.serving_started();
        }
        assert!(!p.may_serve(t0), "a fifth request in service");
        p.served(1_000);
        assert!(p.may_serve(t0), "a slot came free");
        // The byte share: spent, refused until the window turns.
        p.served(SERVE_BYTES_PER_PEER);
        assert!(!p.may_serve(t0 + SERVE_WINDOW / 2));
        assert!(p.may_serve(t0 + SERVE_WINDOW));
        assert_eq!(p.served_bytes, 0);
    }

    #[test]
    fn discovery_skips_connected_banned_and_self() {
        let mut peers = Peers::default();
        let me = PeerId::random();
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().expect("addr");
        for p in [me, a, b, c] {
            peers.learn(p, vec![addr.clone()]);
        }
        peers.connected(a, addr.clone(), true);
        peers.ban(b, Duration::from_secs(60));
        let got: Vec<PeerId> = peers
            .dial_candidates(&me, 10)
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(got, vec![c]);
    }
}
