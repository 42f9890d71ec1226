//! Finding peers: bootnodes, addresses learnt from identify, and peer exchange over the
//! sync protocol. Identify also tells the peer's network: another genesis is dropped.

use super::actor::Actor;
use super::peers::MISBEHAVIOUR_BAN;
use super::protocol::{PeerRecord, Request};
use super::sync::Purpose;
use libp2p::multiaddr::Protocol;
use libp2p::{identify, Multiaddr, PeerId};
use std::time::Instant;
use tracing::{debug, warn};

fn is_loopback(a: &Multiaddr) -> bool {
    a.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

impl Actor {
    pub(super) fn dial_bootnodes(&mut self) {
        for addr in self.config.bootnodes.clone() {
            if let Some(Protocol::P2p(id)) = addr.iter().last() {
                if self.swarm.is_connected(&id) || self.peers.is_banned(&id) {
                    continue;
                }
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                debug!(%addr, error = %e, "cannot dial bootnode");
            }
        }
    }

    pub(super) fn target_peers(&self) -> usize {
        (self.config.max_peers as usize).min(16)
    }

    pub(super) fn discover(&mut self) {
        self.last_discovery = Instant::now();
        if self.peers.len() >= self.target_peers() {
            return;
        }
        self.dial_bootnodes();
        let want = self.target_peers() - self.peers.len();
        let me = *self.swarm.local_peer_id();
        for (peer, addrs) in self.peers.dial_candidates(&me, want) {
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(addrs)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                debug!(%peer, error = %e, "cannot dial peer");
            }
        }
        if let Some(peer) = self.peers.connected.keys().next().copied() {
            self.send(peer, Request::Peers, Purpose::Peers);
        }
    }

    pub(super) fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        if info.protocol_version != self.names.identify {
            warn!(%peer, theirs = %info.protocol_version, "peer is on another network: dropping it");
            self.ban(peer, MISBEHAVIOUR_BAN);
            return;
        }
        // A remote peer's loopback addresses are useless to others: keep them only when
        // the peer itself is on this host.
        let remote_is_local = self
            .peers
            .get(&peer)
            .is_some_and(|p| is_loopback(&p.address));
        let addrs: Vec<Multiaddr> = info
            .listen_addrs
            .into_iter()
            .filter(|a| a.iter().any(|p| matches!(p, Protocol::Tcp(_))))
            .filter(|a| {
                !a.iter().any(|p| match p {
                    Protocol::Ip4(ip) => ip.is_unspecified(),
                    Protocol::Ip6(ip) => ip.is_unspecified(),
                    _ => false,
                })
            })
            .filter(|a| remote_is_local || !is_loopback(a))
            .take(super::protocol::MAX_ADDRS_PER_PEER)
            .collect();
        if let Some(p) = self.peers.get_mut(&peer) {
            p.agent = Some(info.agent_version);
            p.listen_addrs = addrs.clone();
        }
        self.peers.learn(peer, addrs);
    }

    pub(super) fn on_peer_records(&mut self, records: Vec<PeerRecord>) {
        for r in records {
            let Ok(peer) = PeerId::from_bytes(&r.peer_id) else {
                continue;
            };
            let addrs: Vec<Multiaddr> = r
                .addrs
                .into_iter()
                .filter_map(|a| Multiaddr::try_from(a).ok())
                .collect();
            self.peers.learn(peer, addrs);
        }
    }
}
