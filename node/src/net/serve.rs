//! Answering sync requests from peers. Store reads run on the blocking pool, a few at a
//! time; when all slots are taken the peer is told `Busy` and asks someone else.

use super::actor::{Actor, Internal};
use super::protocol::{
    PeerRecord, Request, Response, MAX_BLOCKS, MAX_HEADERS, MAX_PEER_RECORDS,
    MAX_RESPONSE_BLOCK_BYTES,
};
use crate::store::{BlockStatus, Store, StoreError};
use libp2p::request_response::ResponseChannel;
use libp2p::PeerId;
use std::sync::Arc;
use std::time::Duration;
use tfchain_types::BlockId;
use tokio::sync::Semaphore;
use tracing::debug;

/// Requests served at once.
pub(super) const SERVE_SLOTS: usize = 8;

/// Main-chain headers after the first locator entry on our main chain (genesis if none).
pub fn headers(
    store: &Store,
    locator: &[BlockId],
    max: u32,
) -> Result<Vec<tfchain_consensus::equivocation::SignedHeader>, StoreError> {
    let mut start = 1;
    for id in locator {
        if let Some(e) = store.index_entry(id)? {
            if e.status == BlockStatus::OnMain {
                start = e.meta.height + 1;
                break;
            }
        }
    }
    let max = (max as usize).min(MAX_HEADERS) as u64;
    let tip = store.tip().height;
    let mut out = Vec::new();
    let mut h = start;
    while h <= tip && (out.len() as u64) < max {
        match store.header_at(h)? {
            Some(sh) => out.push(sh),
            None => break,
        }
        h += 1;
    }
    Ok(out)
}

/// The stored blocks with these IDs, in order, up to the first missing one or `max_bytes`
/// (at least one block when the first is stored).
pub fn blocks(
    store: &Store,
    ids: &[BlockId],
    max_bytes: u32,
) -> Result<Vec<tfchain_types::Block>, StoreError> {
    let budget = max_bytes.min(MAX_RESPONSE_BLOCK_BYTES) as usize;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for id in ids.iter().take(MAX_BLOCKS) {
        let Some(b) = store.block(id)? else {
            break;
        };
        let size = b.encoded_len();
        if !out.is_empty() && bytes + size > budget {
            break;
        }
        bytes += size;
        out.push(b);
    }
    Ok(out)
}

impl Actor {
    pub(super) fn on_request(
        &mut self,
        peer: PeerId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        let response = match request {
            Request::Status(theirs) => {
                let ours = self.our_status();
                self.on_status(peer, theirs);
                Response::Status(ours)
            }
            Request::Peers => Response::Peers(
                self.peers
                    .shareable(MAX_PEER_RECORDS + 1)
                    .into_iter()
                    .filter(|(id, _)| *id != peer)
                    .take(MAX_PEER_RECORDS)
                    .map(|(id, addrs)| PeerRecord {
                        peer_id: id.to_bytes(),
                        addrs: addrs.iter().map(|a| a.to_vec()).collect(),
                    })
                    .collect(),
            ),
            Request::Headers { locator, max } => {
                return self.serve_blocking(channel, move |store| {
                    headers(store, &locator, max).map(Response::Headers)
                });
            }
            Request::Blocks { ids, max_bytes } => {
                return self.serve_blocking(channel, move |store| {
                    blocks(store, &ids, max_bytes).map(Response::Blocks)
                });
            }
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response);
    }

    fn serve_blocking(
        &mut self,
        channel: ResponseChannel<Response>,
        work: impl FnOnce(&Store) -> Result<Response, StoreError> + Send + 'static,
    ) {
        let Ok(permit) = self.serve_slots().try_acquire_owned() else {
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, Response::Busy);
            return;
        };
        let store = self.chain.store.clone();
        let internal = self.internal_tx.clone();
        tokio::spawn(async move {
            let response = tokio::task::spawn_blocking(move || {
                let r = work(&store);
                drop(permit);
                r
            })
            .await;
            let response = match response {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    debug!(error = %e, "cannot serve a sync request");
                    Response::Busy
                }
                Err(_) => Response::Busy,
            };
            let msg = Internal::Respond { channel, response };
            let _ = tokio::time::timeout(Duration::from_secs(10), internal.send(msg)).await;
        });
    }

    fn serve_slots(&self) -> Arc<Semaphore> {
        self.sync.serve_slots.clone()
    }
}
