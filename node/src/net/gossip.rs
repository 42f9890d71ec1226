//! Gossip of blocks and transactions (PROTOCOL.md §12). A received message is validated by
//! the chain task (blocks) or the pool (transactions) in a spawned task; only then does
//! gossipsub forward it (`Accept`). Data that can never be valid is `Reject`ed and costs
//! the sender score; anything else (already known, early, pool full) is `Ignore`d.
//!
//! Transactions travel in batches ([`TxGossip`]): the node collects the transactions its
//! pool accepted from RPC (not those that came by gossip, which gossipsub forwards itself)
//! and publishes them every tick. After a reorganisation the transactions of undone
//! blocks that are back in the pool are announced again, so they reach every pool.

use super::actor::{Actor, Internal};
use super::peers::score;
use super::protocol::{decode_tx_gossip, TxGossip, MAX_GOSSIP_TXS, MAX_TX_GOSSIP_BYTES};
use crate::chain::{BlockVerdict, ChainHandle, Origin};
use libp2p::gossipsub::{self, MessageAcceptance, MessageId};
use libp2p::PeerId;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tfchain_types::{Block, BlockId, Hash, TxId};
use tokio::sync::{mpsc, Semaphore};
use tracing::debug;

/// Gossip blocks validated at once; more are ignored (not penalised).
const BLOCK_VALIDATIONS: usize = 32;
/// Gossip transaction batches validated at once.
const TX_VALIDATIONS: usize = 64;
/// Transaction IDs remembered as "came by gossip".
const SEEN_TXS: usize = 200_000;
/// How long a validation task may wait for the chain task.
const VALIDATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Most transactions waiting to be announced.
const MAX_OUTGOING: usize = 100_000;

/// Transactions and blocks that arrived by gossip *and validated* (gossipsub relays those
/// itself, so the node must not publish them again), bounded: the oldest are forgotten
/// first. Filled only after validation, and blocks are keyed by their signed form
/// ([`signed_block_key`]): a junk copy sent first can never suppress the real message.
/// Transactions are keyed by TxId, but only once the pool holds that transaction with
/// verified signatures.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<Hash>,
    order: VecDeque<Hash>,
}

impl Seen {
    fn insert(&mut self, id: Hash) {
        if self.set.insert(id) {
            self.order.push_back(id);
            while self.order.len() > SEEN_TXS {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// Who sent each held block (bounded like the held blocks themselves).
#[derive(Debug, Default)]
pub(super) struct HeldFrom {
    from: BTreeMap<BlockId, PeerId>,
    order: VecDeque<BlockId>,
}

impl HeldFrom {
    fn insert(&mut self, block: BlockId, peer: PeerId) {
        if self.from.insert(block, peer).is_none() {
            self.order.push_back(block);
            while self.order.len() > crate::chain::MAX_HELD_BLOCKS {
                if let Some(old) = self.order.pop_front() {
                    self.from.remove(&old);
                }
            }
        }
    }

    fn take(&mut self, block: &BlockId) -> Option<PeerId> {
        self.from.remove(block)
    }
}

#[derive(Debug)]
pub(super) struct GossipState {
    seen: Arc<Mutex<Seen>>,
    held_from: HeldFrom,
    outgoing: Vec<TxId>,
    block_permits: Arc<Semaphore>,
    tx_permits: Arc<Semaphore>,
}

impl GossipState {
    pub(super) fn new() -> Self {
        GossipState {
            seen: Arc::default(),
            held_from: HeldFrom::default(),
            outgoing: Vec::new(),
            block_permits: Arc::new(Semaphore::new(BLOCK_VALIDATIONS)),
            tx_permits: Arc::new(Semaphore::new(TX_VALIDATIONS)),
        }
    }
}

struct Outcome {
    acceptance: MessageAcceptance,
    delta: i64,
    reason: &'static str,
    behind: bool,
    /// The block was held: its sender answers for it if it later proves invalid.
    held: Option<BlockId>,
}

impl Outcome {
    fn ignore(reason: &'static str) -> Outcome {
        Outcome {
            acceptance: MessageAcceptance::Ignore,
            delta: 0,
            reason,
            behind: false,
            held: None,
        }
    }

    fn reject(delta: i64, reason: &'static str) -> Outcome {
        Outcome {
            acceptance: MessageAcceptance::Reject,
            delta,
            reason,
            behind: false,
            held: None,
        }
    }
}

/// What the seen-set remembers of a block: its ID and its signature together.
pub(super) fn signed_block_key(block: &Block) -> Hash {
    let mut h = tfchain_types::hash::Hasher::tagged(b"tfchain/gossip-seen/");
    h.update(block.id().as_bytes()).update(&block.signature.0);
    h.finish()
}

async fn validate_block(chain: ChainHandle, seen: Arc<Mutex<Seen>>, data: Vec<u8>) -> Outcome {
    let block = match tfchain_types::decode_block(&data) {
        Ok(b) => b,
        Err(_) => return Outcome::reject(score::GARBAGE, "undecodable block"),
    };
    let key = signed_block_key(&block);
    let id = block.id();
    let submitted = tokio::time::timeout(
        VALIDATION_TIMEOUT,
        chain.submit_block(block, Origin::Remote),
    )
    .await;
    if matches!(
        submitted,
        Ok(Ok(BlockVerdict::Connected { .. } | BlockVerdict::SideChain))
    ) {
        seen.lock().insert(key);
    }
    match submitted {
        Err(_) => Outcome::ignore("chain task busy"),
        Ok(Ok(BlockVerdict::Connected { .. })) => Outcome {
            acceptance: MessageAcceptance::Accept,
            delta: score::USEFUL_BLOCK,
            reason: "block connected",
            behind: false,
            held: None,
        },
        Ok(Ok(BlockVerdict::SideChain)) => Outcome {
            acceptance: MessageAcceptance::Accept,
            delta: 0,
            reason: "side-chain block",
            behind: false,
            held: None,
        },
        Ok(Ok(BlockVerdict::Held)) => Outcome {
            behind: true,
            held: Some(id),
            ..Outcome::ignore("block held")
        },
        Ok(Ok(BlockVerdict::AlreadyKnown)) => Outcome::ignore("block already known"),
        Ok(Err(e)) if e.is_peer_fault() => {
            debug!(error = %e, "invalid gossip block");
            Outcome::reject(score::INVALID_BLOCK, "invalid block")
        }
        Ok(Err(_)) => Outcome::ignore("block refused without fault"),
    }
}

async fn validate_txs(chain: ChainHandle, seen: Arc<Mutex<Seen>>, data: Vec<u8>) -> Outcome {
    let batch = match decode_tx_gossip(&data) {
        Ok(b) if !b.txs.is_empty() => b,
        _ => return Outcome::reject(score::GARBAGE, "undecodable transaction batch"),
    };
    let txids: Vec<TxId> = batch.txs.iter().map(|tx| tx.txid()).collect();
    let results = match tokio::time::timeout(VALIDATION_TIMEOUT, chain.submit_txs(batch.txs)).await
    {
        Ok(Some(r)) => r,
        _ => return Outcome::ignore("chain task busy"),
    };
    {
        let mut seen = seen.lock();
        for (txid, r) in txids.iter().zip(&results) {
            if r.is_ok() {
                seen.insert(txid.0);
            }
        }
    }
    let faults = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.is_sender_fault()))
        .count() as i64;
    if faults > 0 {
        // An honest node never relays a batch holding a transaction that can never be
        // valid, so the whole batch is refused and the sender pays for each.
        return Outcome::reject(
            score::INVALID_TX.saturating_mul(faults).max(score::GARBAGE),
            "invalid transaction",
        );
    }
    if results.iter().any(|r| r.is_ok()) {
        Outcome {
            acceptance: MessageAcceptance::Accept,
            delta: 0,
            reason: "transactions pooled",
            behind: false,
            held: None,
        }
    } else {
        Outcome::ignore("no new transaction")
    }
}

fn spawn_validation(
    internal: mpsc::Sender<Internal>,
    id: MessageId,
    source: PeerId,
    permit: tokio::sync::OwnedSemaphorePermit,
    work: impl std::future::Future<Output = Outcome> + Send + 'static,
) {
    tokio::spawn(async move {
        let o = work.await;
        drop(permit);
        let msg = Internal::Validated {
            id,
            source,
            acceptance: o.acceptance,
            delta: o.delta,
            reason: o.reason,
            behind: o.behind,
            held: o.held,
        };
        let _ = tokio::time::timeout(VALIDATION_TIMEOUT, internal.send(msg)).await;
    });
}

impl Actor {
    pub(super) fn on_gossip_event(&mut self, ev: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source: source,
            message_id: id,
            message,
        } = ev
        else {
            return;
        };
        debug!(%source, topic = %message.topic, bytes = message.data.len(), "gossip message");
        let chain = self.chain.clone();
        let internal = self.internal_tx.clone();
        let seen = self.gossip.seen.clone();
        if message.topic == self.names.blocks.hash() {
            match self.gossip.block_permits.clone().try_acquire_owned() {
                Ok(permit) => spawn_validation(
                    internal,
                    id,
                    source,
                    permit,
                    validate_block(chain, seen, message.data),
                ),
                Err(_) => self.report(&id, &source, MessageAcceptance::Ignore),
            }
        } else if message.topic == self.names.txs.hash() {
            match self.gossip.tx_permits.clone().try_acquire_owned() {
                Ok(permit) => spawn_validation(
                    internal,
                    id,
                    source,
                    permit,
                    validate_txs(chain, seen, message.data),
                ),
                Err(_) => self.report(&id, &source, MessageAcceptance::Ignore),
            }
        } else {
            self.report(&id, &source, MessageAcceptance::Reject);
            self.adjust(source, score::GARBAGE, "message on an unknown topic");
        }
    }

    fn report(&mut self, id: &MessageId, source: &PeerId, acceptance: MessageAcceptance) {
        self.swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, source, acceptance);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_validated(
        &mut self,
        id: MessageId,
        source: PeerId,
        acceptance: MessageAcceptance,
        delta: i64,
        reason: &'static str,
        behind: bool,
        held: Option<BlockId>,
    ) {
        self.report(&id, &source, acceptance);
        if let Some(block) = held {
            self.gossip.held_from.insert(block, source);
        }
        if delta != 0 {
            self.adjust(source, delta, reason);
        }
        if behind {
            // The source has blocks we lack: ask where it is; the sync takes it from there.
            if let Some(p) = self.peers.get_mut(&source) {
                p.status_at = None;
            }
        }
    }

    /// Penalises the senders of held blocks that proved invalid once they could be checked.
    pub(super) fn penalise_refused_held(&mut self) {
        for block in self.chain.take_refused_held() {
            if let Some(peer) = self.gossip.held_from.take(&block) {
                self.adjust(peer, score::INVALID_BLOCK, "a block it sent proved invalid");
            }
        }
    }

    /// Publishes a block on the blocks topic (a duplicate of a relayed one is skipped by
    /// gossipsub: the message ID is the payload's hash).
    pub(super) fn publish_block(&mut self, block: &Block) {
        if self
            .gossip
            .seen
            .lock()
            .set
            .contains(&signed_block_key(block))
        {
            return;
        }
        let topic = self.names.blocks.clone();
        let bytes = tfchain_types::encode(block);
        if let Err(e) = self.swarm.behaviour_mut().gossip.publish(topic, bytes) {
            debug!(height = block.header.height, error = %e, "block not published");
        }
    }

    pub(super) fn on_tx_accepted(&mut self, txid: TxId) {
        if self.gossip.seen.lock().set.contains(&txid.0) {
            return;
        }
        if self.gossip.outgoing.len() < MAX_OUTGOING {
            self.gossip.outgoing.push(txid);
        }
    }

    /// Announces again the transactions of an undone block (those still in the pool).
    pub(super) fn reannounce(&mut self, block: &Block) {
        for tx in &block.transactions {
            if self.gossip.outgoing.len() < MAX_OUTGOING {
                self.gossip.outgoing.push(tx.txid());
            }
        }
    }

    /// Publishes the waiting transactions in batches. Kept for the next tick when there
    /// is nobody to publish to yet.
    pub(super) fn flush_txs(&mut self) {
        if self.gossip.outgoing.is_empty() || self.peers.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.gossip.outgoing);
        let txs: Vec<_> = {
            let pool = self.chain.pool.lock();
            ids.iter()
                .filter_map(|id| pool.transaction(id).cloned())
                .collect()
        };
        let mut batch = Vec::new();
        let mut bytes = 16usize;
        let mut batches = Vec::new();
        for tx in txs {
            let size = tx.encoded_len();
            if !batch.is_empty()
                && (bytes + size > MAX_TX_GOSSIP_BYTES || batch.len() == MAX_GOSSIP_TXS)
            {
                batches.push(std::mem::take(&mut batch));
                bytes = 16;
            }
            bytes += size;
            batch.push(tx);
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        let topic = self.names.txs.clone();
        for txs in batches {
            let msg = TxGossip {
                nonce: rand::random(),
                txs,
            };
            let ids: Vec<TxId> = msg.txs.iter().map(|t| t.txid()).collect();
            match self
                .swarm
                .behaviour_mut()
                .gossip
                .publish(topic.clone(), tfchain_types::encode(&msg))
            {
                Ok(_) => {}
                Err(gossipsub::PublishError::NoPeersSubscribedToTopic)
                | Err(gossipsub::PublishError::AllQueuesFull(_)) => {
                    // Nobody to send to yet: try again next tick.
                    self.gossip.outgoing.extend(ids);
                }
                Err(e) => debug!(error = %e, "transactions not published"),
            }
        }
    }
}
