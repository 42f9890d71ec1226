//! The actor's answers to its handle: admin commands and the views `net_getInfo` and
//! `net_getPeers` return.

use super::actor::Actor;
use super::Command;
use libp2p::multiaddr::Protocol;
use tfchain_api::types::{NetInfo, PeerInfo};
use tracing::info;

impl Actor {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Info(reply) => {
                let _ = reply.send(self.info());
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.peer_infos());
            }
            Command::AddPeer(addr, reply) => {
                if let Some(Protocol::P2p(id)) = addr.iter().last() {
                    self.peers.unban(&id);
                    self.swarm.behaviour_mut().bans.unblock_peer(id);
                }
                let r = self.swarm.dial(addr.clone()).map(|_| true);
                info!(%addr, ok = r.is_ok(), "admin: dialling peer");
                let _ = reply.send(r.map_err(|e| e.to_string()));
            }
            Command::RemovePeer(peer, ban, reply) => {
                let was = self.swarm.is_connected(&peer);
                info!(%peer, ban_secs = ban.as_secs(), "admin: removing peer");
                if ban.is_zero() {
                    let _ = self.swarm.disconnect_peer_id(peer);
                } else {
                    self.ban(peer, ban);
                }
                let _ = reply.send(was);
            }
            Command::Broadcast(block) => self.publish_block(&block),
        }
    }

    fn info(&self) -> NetInfo {
        let me = *self.swarm.local_peer_id();
        let inbound = self.peers.connected.values().filter(|p| p.inbound).count() as u32;
        NetInfo {
            peer_id: me.to_base58(),
            listen_addrs: self
                .swarm
                .listeners()
                .map(|a| a.clone().with(Protocol::P2p(me)).to_string())
                .collect(),
            peers: self.peers.len() as u32,
            inbound,
            outbound: self.peers.len() as u32 - inbound,
            max_peers: self.config.max_peers,
            banned: self.peers.banned_count() as u32,
            synced: self.is_synced(),
            sync: self.sync.progress(&self.chain.store.tip()),
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let mut out: Vec<PeerInfo> = self
            .peers
            .connected
            .iter()
            .map(|(id, p)| PeerInfo {
                peer_id: id.to_base58(),
                address: p.address.to_string(),
                inbound: p.inbound,
                height: p.status.as_ref().map(|s| s.height),
                tip: p.status.as_ref().map(|s| s.tip),
                total_work: p.status.as_ref().map(|s| s.total_work),
                score: p.score,
                agent: p.agent.clone(),
                connected_secs: p.connected_at.elapsed().as_secs(),
            })
            .collect();
        out.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        out
    }
}
