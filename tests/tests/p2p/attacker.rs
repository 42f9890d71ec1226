//! A scripted peer over real libp2p on loopback: it joins the gossip mesh, answers status
//! requests with whatever status the test sets (a lie, if the test wants one), holds every
//! other request open without answering, and publishes whatever bytes the test gives it.

use anyhow::bail;
use futures::StreamExt;
use libp2p::request_response::ResponseChannel;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identity, request_response, Multiaddr, PeerId, Swarm};
use std::time::Duration;
use tfchain_api::NetApiClient;
use tfchain_node::net::protocol::{Names, Request, Response, Status};
use tfchain_node::net::swarm::{build, Behaviour, BehaviourEvent};
use tfchain_tests::{Net, TestNode};

pub struct Attacker {
    pub swarm: Swarm<Behaviour>,
    pub names: Names,
    pub status: Status,
    /// Requests it never answers (kept open, so the asker waits for its timeout).
    held: Vec<ResponseChannel<Response>>,
    /// Gossip messages received: (topic, payload).
    pub received: Vec<(gossipsub::TopicHash, Vec<u8>)>,
}

impl Attacker {
    pub fn new(net: &Net) -> anyhow::Result<Attacker> {
        let genesis = net.genesis.genesis_id();
        let swarm = build(identity::Keypair::generate_ed25519(), &genesis, 8)?;
        let tip = net.node(0).tip();
        Ok(Attacker {
            swarm,
            names: Names::new(&genesis),
            status: Status {
                genesis,
                height: 0,
                tip: genesis,
                total_work: tip.total_work,
            },
            held: Vec::new(),
            received: Vec::new(),
        })
    }

    pub fn id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Drives the swarm for `d`, answering status requests with `self.status`.
    pub async fn pump(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message { message, .. })) = &ev {
                        self.received.push((message.topic.clone(), message.data.clone()));
                    }
                    if let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { request, channel, .. },
                        ..
                    })) = ev {
                        match request {
                            Request::Status(_) => {
                                let _ = self.swarm.behaviour_mut().sync.send_response(channel, Response::Status(self.status.clone()));
                            }
                            _ => self.held.push(channel),
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    pub async fn connect(&mut self, addr: &Multiaddr) -> anyhow::Result<()> {
        self.swarm.dial(addr.clone())?;
        for _ in 0..100 {
            self.pump(Duration::from_millis(100)).await;
            let subscribed = self
                .swarm
                .behaviour()
                .gossip
                .all_peers()
                .any(|(_, topics)| topics.len() == 2);
            if subscribed {
                return Ok(());
            }
        }
        bail!("the attacker could not join the gossip mesh")
    }

    /// Publishes one payload (waiting until a peer subscribes), then drives the swarm for
    /// a moment.
    pub async fn publish(
        &mut self,
        topic: gossipsub::IdentTopic,
        data: Vec<u8>,
    ) -> anyhow::Result<()> {
        self.publish_all(topic, vec![data]).await
    }

    /// Publishes every payload back to back (the swarm is not driven in between, so none
    /// waits for the node's verdict on the one before), then drives it for a moment.
    pub async fn publish_all(
        &mut self,
        topic: gossipsub::IdentTopic,
        payloads: Vec<Vec<u8>>,
    ) -> anyhow::Result<()> {
        for _ in 0..100 {
            let gossip = &mut self.swarm.behaviour_mut().gossip;
            match gossip.publish(topic.clone(), payloads[0].clone()) {
                Ok(_) => {
                    for data in &payloads[1..] {
                        gossip
                            .publish(topic.clone(), data.clone())
                            .map_err(|e| anyhow::anyhow!("publish: {e}"))?;
                    }
                    self.pump(Duration::from_millis(200)).await;
                    return Ok(());
                }
                Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                    self.pump(Duration::from_millis(100)).await
                }
                Err(e) => bail!("publish: {e}"),
            }
        }
        bail!("could not publish")
    }

    /// `node`'s score of this peer, or `None` when it is not connected there.
    pub async fn score_at(&self, node: &TestNode) -> anyhow::Result<Option<i64>> {
        let me = self.id().to_base58();
        let peers = node.rpc.get_peers().await?;
        Ok(peers.iter().find(|p| p.peer_id == me).map(|p| p.score))
    }

    /// Pumps until `node` reports our score at or below `max`, or drops and bans us.
    pub async fn wait_score(
        &mut self,
        node: &TestNode,
        max: i64,
        banned: bool,
    ) -> anyhow::Result<()> {
        let me = self.id().to_base58();
        for _ in 0..300 {
            self.pump(Duration::from_millis(100)).await;
            let peers = node.rpc.get_peers().await?;
            let mine = peers.iter().find(|p| p.peer_id == me);
            if banned {
                let info = NetApiClient::get_info(&node.rpc).await?;
                if mine.is_none()
                    && info.banned >= 1
                    && !self.swarm.is_connected(
                        &node
                            .running
                            .net
                            .as_ref()
                            .map(|n| n.peer_id())
                            .unwrap_or(PeerId::random()),
                    )
                {
                    return Ok(());
                }
            } else if mine.is_some_and(|p| p.score <= max) {
                return Ok(());
            }
        }
        bail!("the node did not score the attacker as expected")
    }
}
