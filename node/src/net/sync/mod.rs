//! Headers-first sync (PROTOCOL.md §12).
//!
//! A **session** follows the connected peer with the most total work: it asks for headers
//! after a block locator (our tip and exponentially spaced ancestors, so a fork is found),
//! checks them cheaply (parent links, heights, increasing timestamps, not too far ahead,
//! the creator's signature; the lottery needs state and is checked when the block is
//! applied), then downloads the bodies in batches of at most 64 blocks from every peer
//! that has them, at most two requests per peer, within a memory budget. Bodies are
//! handed in chain order to one applier task that submits them to the chain task and
//! flushes the store every 64 blocks.
//!
//! Failures rotate peers: a timeout or an empty answer puts the peer on a short cooldown
//! and its batch back in the queue; headers that do not link, a bad signature, or a body
//! the chain rejects as the peer's fault cost score and end the session; a peer that
//! claims work it cannot show is distrusted. A session that makes no progress for a
//! minute is abandoned and a new one starts with the best peer.

mod headers;
mod session;

use headers::{check_headers, locator};

use super::actor::Internal;
use super::protocol::{Status, MAX_BLOCKS};
use crate::chain::{ChainHandle, Origin};
use libp2p::PeerId;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_api::types::SyncProgress;
use tfchain_consensus::BlockMeta;
use tfchain_types::{Block, BlockId, Height, Timestamp};
use tokio::sync::{mpsc, Semaphore};
use tracing::warn;

/// Body requests in flight at once, in total and per peer.
const MAX_INFLIGHT: usize = 8;
const MAX_INFLIGHT_PER_PEER: usize = 2;
/// The block bytes asked for per request.
const REQUEST_BYTES: u32 = 4 * 1024 * 1024;
/// Memory budget: downloaded-but-unapplied blocks plus what in-flight requests may bring.
const MAX_BUFFERED_BYTES: usize = 96 * 1024 * 1024;
/// Validated headers kept ahead of the applied tip.
const HEADERS_AHEAD: usize = 8_192;
/// Blocks queued for the applier.
const APPLY_QUEUE: usize = 256;
/// Cooldowns of a peer that failed a request, lacked the data, or made no progress.
const FAIL_COOLDOWN: Duration = Duration::from_secs(10);
const EMPTY_COOLDOWN: Duration = Duration::from_secs(5);
const DISTRUST_COOLDOWN: Duration = Duration::from_secs(30);
/// A session without progress for this long is abandoned.
const STALL: Duration = Duration::from_secs(60);
/// Progress is logged this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Why a request was sent (to route its response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Status,
    Peers,
    Headers { session: u64 },
    Blocks { batch: u64 },
}

/// The applier's report on one block.
#[derive(Debug)]
pub(super) struct Applied {
    session: u64,
    peer: PeerId,
    bytes: usize,
    /// `Err((peer_fault, message))`.
    result: Result<(), (bool, String)>,
}

struct Job {
    block: Block,
    peer: PeerId,
    session: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Batch {
    session: u64,
    peer: PeerId,
    items: Vec<(BlockId, Height)>,
}

#[derive(Debug)]
struct Session {
    id: u64,
    header_peer: PeerId,
    target: Status,
    headers_pending: bool,
    headers_done: bool,
    tail: Option<(BlockId, Height, Timestamp)>,
    to_fetch: VecDeque<(BlockId, Height)>,
    order: VecDeque<BlockId>,
    ready: HashMap<BlockId, (Block, PeerId, usize)>,
    ready_bytes: usize,
    queued_total: u64,
    last_progress: Instant,
}

pub(super) struct Sync {
    pub(super) serve_slots: Arc<Semaphore>,
    applier: mpsc::Sender<Job>,
    session: Option<Session>,
    next_id: u64,
    batches: HashMap<u64, Batch>,
    applying: usize,
    applying_bytes: usize,
    rate: VecDeque<(Instant, Height)>,
    last_log: Instant,
}

impl Sync {
    pub(super) fn new(chain: ChainHandle, internal: mpsc::Sender<Internal>) -> Sync {
        let (tx, rx) = mpsc::channel(APPLY_QUEUE);
        tokio::spawn(applier(chain, rx, internal));
        Sync {
            serve_slots: Arc::new(Semaphore::new(super::serve::SERVE_SLOTS)),
            applier: tx,
            session: None,
            next_id: 1,
            batches: HashMap::new(),
            applying: 0,
            applying_bytes: 0,
            rate: VecDeque::new(),
            last_log: Instant::now(),
        }
    }

    pub(super) fn is_active(&self) -> bool {
        self.session.is_some()
    }

    /// The height of the last header the session checked, while the session is making
    /// progress (something arrived within `fresh`): evidence that the node is behind.
    pub(super) fn checked_height(&self, fresh: Duration) -> Option<Height> {
        let s = self.session.as_ref()?;
        if s.last_progress.elapsed() >= fresh {
            return None;
        }
        s.tail.map(|t| t.1)
    }

    fn blocks_per_second(&self) -> f64 {
        match (self.rate.front(), self.rate.back()) {
            (Some((t0, h0)), Some((t1, h1))) if t1 > t0 => {
                h1.saturating_sub(*h0) as f64 / (*t1 - *t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    pub(super) fn progress(&self, tip: &BlockMeta) -> Option<SyncProgress> {
        let s = self.session.as_ref()?;
        let mut peers: Vec<PeerId> = self.batches.values().map(|b| b.peer).collect();
        peers.sort();
        peers.dedup();
        Some(SyncProgress {
            height: tip.height,
            target_height: s.target.height,
            blocks_per_second: self.blocks_per_second().round() as u64,
            queued_headers: s.order.len() as u64,
            download_peers: peers.len() as u32,
        })
    }

    fn buffered(&self) -> usize {
        let ready = self.session.as_ref().map_or(0, |s| s.ready_bytes);
        ready + self.applying_bytes + self.batches.len() * REQUEST_BYTES as usize
    }
}

/// Submits blocks in order; flushes every 64 blocks and whenever the queue runs dry.
async fn applier(
    chain: ChainHandle,
    mut rx: mpsc::Receiver<Job>,
    internal: mpsc::Sender<Internal>,
) {
    let mut unflushed = 0usize;
    while let Some(job) = rx.recv().await {
        let result = match chain.submit_block(job.block, Origin::Import).await {
            Ok(_) => Ok(()),
            Err(e) => Err((e.is_peer_fault(), e.to_string())),
        };
        unflushed += 1;
        if unflushed >= MAX_BLOCKS || rx.is_empty() {
            unflushed = 0;
            if let Err(e) = chain.flush().await {
                warn!(error = %e, "flushing synced blocks failed");
            }
        }
        let report = Internal::Applied(Applied {
            session: job.session,
            peer: job.peer,
            bytes: job.bytes,
            result,
        });
        // No timeout here on purpose: the actor always drains this channel, and a lost
        // report would leave the session waiting forever; if the actor dies the channel
        // closes and the node stops (the actor is supervised).
        if internal.send(report).await.is_err() {
            break;
        }
    }
}
