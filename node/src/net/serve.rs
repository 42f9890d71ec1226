//! Answering sync requests from peers. Store reads run on the blocking pool, a few at a
//! time; when all slots are taken the peer is told `Busy` and asks someone else. Serving is
//! fair: each peer has at most [`SERVE_PER_PEER`] requests in service and
//! [`SERVE_BYTES_PER_PEER`] bytes per [`SERVE_WINDOW`]; beyond that it is told `Busy`, so
//! one greedy peer cannot take every slot from the others. Only main-chain blocks are
//! served: never an invalid block, and never a side block as if it were on the main chain.

use super::actor::{Actor, Internal};
use super::protocol::{
    PeerRecord, Request, Response, MAX_BLOCKS, MAX_HEADERS, MAX_PEER_RECORDS,
    MAX_RESPONSE_BLOCK_BYTES,
};
use crate::store::{BlockStatus, Store, StoreError};
use libp2p::request_response::ResponseChannel;
use libp2p::PeerId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_types::BlockId;
use tokio::sync::Semaphore;
use tracing::debug;

/// Requests served at once.
pub(super) const SERVE_SLOTS: usize = 8;
/// Requests of one peer in service at once: a syncing peer keeps a header request and two
/// body requests in flight (`sync`), plus one to spare.
pub(super) const SERVE_PER_PEER: usize = 4;
/// Block and header bytes served to one peer per window (512 MiB a minute: ~8.5 MiB/s).
pub(super) const SERVE_BYTES_PER_PEER: usize = 512 * 1024 * 1024;
pub(super) const SERVE_WINDOW: Duration = Duration::from_secs(60);

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

/// The main-chain blocks with these IDs, in order, up to the first one that is not on the
/// main chain (missing, a side block, invalid) or `max_bytes` (at least one block when the
/// first is on the main chain).
pub fn blocks(
    store: &Store,
    ids: &[BlockId],
    max_bytes: u32,
) -> Result<Vec<tfchain_types::Block>, StoreError> {
    let budget = max_bytes.min(MAX_RESPONSE_BLOCK_BYTES) as usize;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for id in ids.iter().take(MAX_BLOCKS) {
        if !store
            .index_entry(id)?
            .is_some_and(|e| e.status == BlockStatus::OnMain)
        {
            break;
        }
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
                return self.serve_blocking(peer, channel, move |store| {
                    headers(store, &locator, max).map(Response::Headers)
                });
            }
            Request::Blocks { ids, max_bytes } => {
                return self.serve_blocking(peer, channel, move |store| {
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
        peer: PeerId,
        channel: ResponseChannel<Response>,
        work: impl FnOnce(&Store) -> Result<Response, StoreError> + Send + 'static,
    ) {
        let now = Instant::now();
        let fair = self.peers.get_mut(&peer).is_some_and(|p| p.may_serve(now));
        let permit = if fair {
            self.serve_slots().try_acquire_owned().ok()
        } else {
            None
        };
        let Some(permit) = permit else {
            debug!(%peer, fair, "sync request refused: busy");
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, Response::Busy);
            return;
        };
        if let Some(p) = self.peers.get_mut(&peer) {
            p.serving_started();
        }
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
            let bytes = response_bytes(&response);
            let msg = Internal::Respond {
                peer,
                bytes,
                channel,
                response,
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), internal.send(msg)).await;
        });
    }

    fn serve_slots(&self) -> Arc<Semaphore> {
        self.sync.serve_slots.clone()
    }

    /// A served response is ready: send it and count it against the peer's share.
    pub(super) fn on_served(
        &mut self,
        peer: PeerId,
        bytes: usize,
        channel: ResponseChannel<Response>,
        response: Response,
    ) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.served(bytes);
        }
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response);
    }
}

/// What a response costs against a peer's share (block and header bytes).
fn response_bytes(r: &Response) -> usize {
    match r {
        Response::Blocks(b) => b.iter().map(|b| b.encoded_len()).sum(),
        Response::Headers(h) => h.len() * 256,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BlockIndexEntry, StoreOptions};
    use tfchain_consensus::testkit::TestChain;
    use tfchain_consensus::{apply_block, apply_genesis};
    use tfchain_types::Currency;

    /// Side and invalid blocks are stored but never served as if on the main chain.
    #[test]
    fn only_main_chain_blocks_are_served() {
        let dir = tempfile::tempdir().expect("tempdir");
        let chain = TestChain::new(&[1], 0, Currency::ZERO);
        let g = apply_genesis(&chain.genesis, &chain.params).expect("genesis");
        let store = Store::open_with_genesis_block(
            dir.path(),
            &chain.genesis,
            &g,
            &chain.params,
            StoreOptions::default(),
        )
        .expect("open");
        let (main1, _) = chain.next_block(vec![]);
        let o = apply_block(&store, &main1, &chain.params, main1.header.timestamp).expect("valid");
        store.commit_block(&main1, &o).expect("commit");
        // Two other blocks at height 1: one kept as a side block, one marked invalid.
        let key = &chain.validators[0];
        let other = |dt: u64| {
            let mut b = main1.clone();
            b.header.timestamp += dt;
            b.signature = key.sign_hash(&b.header.id().0);
            b
        };
        let (side1, bad) = (other(1), other(2));
        for b in [&side1, &bad] {
            let entry = BlockIndexEntry {
                meta: tfchain_consensus::BlockMeta {
                    id: b.id(),
                    ..o.meta.clone()
                },
                parent: b.header.parent,
                status: BlockStatus::Stored,
            };
            store.store_side_block(b, entry).expect("store side block");
        }
        store.mark_invalid(&bad.id()).expect("mark invalid");

        let served = blocks(&store, &[main1.id()], u32::MAX).expect("serve");
        assert_eq!(served, vec![main1.clone()]);
        for id in [side1.id(), bad.id()] {
            assert!(blocks(&store, &[id], u32::MAX).expect("serve").is_empty());
            // And a request mixing them stops at the first block off the main chain.
            let mixed = blocks(&store, &[main1.id(), id], u32::MAX).expect("serve");
            assert_eq!(mixed, vec![main1.clone()]);
        }
    }
}
