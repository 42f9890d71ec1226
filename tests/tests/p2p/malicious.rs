//! A malicious peer sends invalid transactions, garbage, an oversized message and an
//! invalid block: it is scored down, disconnected and banned, while the honest nodes keep
//! producing.

use super::{payment, MINUTE};
use anyhow::bail;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identity, request_response, Multiaddr, PeerId, Swarm};
use std::time::Duration;
use tfchain_api::NetApiClient;
use tfchain_node::net::protocol::{Names, Request, Response, Status, TxGossip};
use tfchain_node::net::swarm::{build, Behaviour, BehaviourEvent};
use tfchain_tests::{init_logs, Net, TestNode};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Address, Signature};

struct Attacker {
    swarm: Swarm<Behaviour>,
    names: Names,
    status: Status,
}

impl Attacker {
    fn new(net: &Net) -> anyhow::Result<Attacker> {
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
        })
    }

    fn id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Drives the swarm for `d`, answering status requests like a normal peer.
    async fn pump(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                        message: request_response::Message::Request { request: Request::Status(_), channel, .. },
                        ..
                    })) = ev {
                        let _ = self.swarm.behaviour_mut().sync.send_response(channel, Response::Status(self.status.clone()));
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    async fn connect(&mut self, addr: &Multiaddr) -> anyhow::Result<()> {
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

    async fn publish(&mut self, topic: gossipsub::IdentTopic, data: Vec<u8>) -> anyhow::Result<()> {
        for _ in 0..100 {
            match self
                .swarm
                .behaviour_mut()
                .gossip
                .publish(topic.clone(), data.clone())
            {
                Ok(_) => {
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

    /// Pumps until `node` reports our score at or below `max`, or drops and bans us.
    async fn wait_score(&mut self, node: &TestNode, max: i64, banned: bool) -> anyhow::Result<()> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malicious_peer_is_scored_down_and_banned() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(2)?;
    net.start_validators(2).await?;
    net.wait_all_height(2, 2 * MINUTE).await?;

    // 1. An invalid transaction costs a little score; garbage gets the peer banned.
    let mut a = Attacker::new(&net)?;
    a.connect(&net.node(0).p2p).await?;
    let to = Address::from_public_key(&net.keys[1].public_key());
    let mut bad_tx = payment(net.node(0), &net.keys[0], to);
    if let tfchain_types::Fulfillment::Signature(ks) = &mut bad_tx.coin_inputs[0].fulfillment {
        ks.signature = Signature([7; 64]);
    }
    let batch = TxGossip {
        nonce: 1,
        txs: vec![bad_tx],
    };
    a.publish(a.names.txs.clone(), tfchain_types::encode(&batch))
        .await?;
    a.wait_score(net.node(0), -10, false).await?;
    a.publish(
        a.names.blocks.clone(),
        vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3],
    )
    .await?;
    a.wait_score(net.node(0), 0, true).await?;
    // Banned: it cannot come back.
    let _ = a.swarm.dial(net.node(0).p2p.clone());
    a.pump(Duration::from_secs(2)).await;
    assert!(net
        .node(0)
        .rpc
        .get_peers()
        .await?
        .iter()
        .all(|p| p.peer_id != a.id().to_base58()));

    // 2. An oversized message (over the block size limit) gets another attacker banned.
    let mut b = Attacker::new(&net)?;
    b.connect(&net.node(1).p2p).await?;
    b.publish(b.names.blocks.clone(), vec![0u8; MAX_BLOCK_SIZE + 1_000])
        .await?;
    b.wait_score(net.node(1), 0, true).await?;

    // 3. A block that does not verify (a re-timed copy of the tip) gets a third one banned.
    let mut c = Attacker::new(&net)?;
    c.connect(&net.node(0).p2p).await?;
    let store = &net.node(0).running.chain.store;
    let mut bad = store.block_at(store.tip().height)?.expect("tip block");
    bad.header.timestamp += 1;
    c.publish(c.names.blocks.clone(), tfchain_types::encode(&bad))
        .await?;
    c.wait_score(net.node(0), 0, true).await?;

    // The honest nodes kept producing on one chain.
    let h = net.node(0).height() + 2;
    net.wait_all_height(h, 2 * MINUTE).await?;
    net.wait_same_tip(MINUTE).await?;
    net.stop().await;
    Ok(())
}
