//! The sync session as the network actor drives it: requests, responses, the applier's
//! reports and timers (see the module docs of `sync`).

use super::{
    check_headers, locator, Applied, Batch, Job, Purpose, Session, DISTRUST_COOLDOWN,
    EMPTY_COOLDOWN, FAIL_COOLDOWN, HEADERS_AHEAD, LOG_EVERY, MAX_BUFFERED_BYTES, MAX_INFLIGHT,
    MAX_INFLIGHT_PER_PEER, REQUEST_BYTES, STALL,
};
use crate::net::actor::Actor;
use crate::net::peers::score;
use crate::net::protocol::{Request, Response, MAX_BLOCKS, MAX_HEADERS, MAX_LOCATOR};
use crate::store::BlockStatus;
use libp2p::PeerId;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_types::{Block, BlockId, Height};
use tokio::sync::mpsc;
use tracing::{info, warn};

impl Actor {
    /// Starts a session when a peer has more work, and keeps the current one moving.
    pub(crate) fn sync_step(&mut self) {
        if self.sync.session.is_none() {
            self.maybe_start_session();
        }
        self.sync_drive();
    }

    fn maybe_start_session(&mut self) {
        let tip = self.chain.store.tip();
        let Some((peer, status)) = self.peers.best() else {
            return;
        };
        if status.total_work <= tip.total_work {
            return;
        }
        let id = self.sync.next_id;
        self.sync.next_id += 1;
        info!(%peer, from = tip.height, target = status.height, "sync: starting");
        self.sync.session = Some(Session {
            id,
            header_peer: peer,
            target: status,
            headers_pending: false,
            headers_done: false,
            tail: None,
            to_fetch: VecDeque::new(),
            order: VecDeque::new(),
            ready: HashMap::new(),
            ready_bytes: 0,
            queued_total: 0,
            last_progress: Instant::now(),
        });
    }

    fn abort_session(&mut self, why: &str) {
        if let Some(s) = self.sync.session.take() {
            info!(reason = why, "sync: session ended early; will retry");
            if let Some(p) = self.peers.get_mut(&s.header_peer) {
                p.sync_cooldown = Some(Instant::now() + FAIL_COOLDOWN);
            }
        }
    }

    fn cooldown(&mut self, peer: &PeerId, d: Duration) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.sync_cooldown = Some(Instant::now() + d);
        }
    }

    /// Requests headers and bodies as the budget allows, feeds the applier, ends a
    /// finished session.
    fn sync_drive(&mut self) {
        let Some(s) = self.sync.session.as_mut() else {
            return;
        };
        let header_peer = s.header_peer;
        let session = s.id;
        if !s.headers_done && !s.headers_pending && s.order.len() < HEADERS_AHEAD {
            s.headers_pending = true;
            let mut loc: Vec<BlockId> = s.tail.iter().map(|t| t.0).collect();
            loc.extend(locator(&self.chain.store));
            loc.truncate(MAX_LOCATOR);
            let req = Request::Headers {
                locator: loc,
                max: MAX_HEADERS as u32,
            };
            self.send(header_peer, req, Purpose::Headers { session });
        }
        self.request_bodies();
        self.feed_applier();
        let done = self.sync.session.as_ref().is_some_and(|s| {
            s.headers_done && s.to_fetch.is_empty() && s.order.is_empty() && s.ready.is_empty()
        }) && !self.sync.batches.values().any(|b| b.session == session)
            && self.sync.applying == 0;
        if done {
            if let Some(s) = self.sync.session.take() {
                let tip = self.chain.store.tip();
                info!(
                    height = tip.height,
                    queued = s.queued_total,
                    "sync: session complete"
                );
                if s.queued_total == 0 {
                    // Nothing new: do not ask this peer again right away.
                    self.cooldown(&s.header_peer, DISTRUST_COOLDOWN);
                }
            }
        }
    }

    fn request_bodies(&mut self) {
        let now = Instant::now();
        loop {
            if self.sync.batches.len() >= MAX_INFLIGHT
                || self.sync.buffered() + REQUEST_BYTES as usize > MAX_BUFFERED_BYTES
            {
                return;
            }
            let Some(s) = self.sync.session.as_mut() else {
                return;
            };
            let Some(&(_, first_height)) = s.to_fetch.front() else {
                return;
            };
            let peer = self
                .peers
                .connected
                .iter()
                .filter(|(_, p)| p.usable_for_sync(now) && p.inflight < MAX_INFLIGHT_PER_PEER)
                .filter(|(_, p)| {
                    p.status
                        .as_ref()
                        .is_some_and(|st| st.height >= first_height)
                })
                .min_by_key(|(_, p)| (p.inflight, -p.score))
                .map(|(id, _)| *id);
            let Some(peer) = peer else {
                return;
            };
            let n = s.to_fetch.len().min(MAX_BLOCKS);
            let items: Vec<(BlockId, Height)> = s.to_fetch.drain(..n).collect();
            let ids = items.iter().map(|i| i.0).collect();
            let session = s.id;
            let batch = self.sync.next_id;
            self.sync.next_id += 1;
            self.sync.batches.insert(
                batch,
                Batch {
                    session,
                    peer,
                    items,
                },
            );
            if let Some(p) = self.peers.get_mut(&peer) {
                p.inflight += 1;
            }
            let req = Request::Blocks {
                ids,
                max_bytes: REQUEST_BYTES,
            };
            self.send(peer, req, Purpose::Blocks { batch });
        }
    }

    fn feed_applier(&mut self) {
        let Some(s) = self.sync.session.as_mut() else {
            return;
        };
        while let Some(id) = s.order.front().copied() {
            let Some((block, peer, bytes)) = s.ready.remove(&id) else {
                return;
            };
            let job = Job {
                block,
                peer,
                session: s.id,
                bytes,
            };
            match self.sync.applier.try_send(job) {
                Ok(()) => {
                    s.order.pop_front();
                    s.ready_bytes -= bytes;
                    self.sync.applying += 1;
                    self.sync.applying_bytes += bytes;
                }
                Err(mpsc::error::TrySendError::Full(job))
                | Err(mpsc::error::TrySendError::Closed(job)) => {
                    s.ready.insert(id, (job.block, job.peer, job.bytes));
                    return;
                }
            }
        }
    }

    pub(crate) fn on_sync_response(&mut self, peer: PeerId, purpose: Purpose, response: Response) {
        match (purpose, response) {
            (Purpose::Headers { session }, Response::Headers(h)) => {
                self.on_headers(peer, session, h)
            }
            (Purpose::Blocks { batch }, Response::Blocks(b)) => self.on_blocks(peer, batch, b),
            (purpose, _) => {
                self.adjust(peer, score::GARBAGE, "sync response of the wrong kind");
                self.sync_request_failed(peer, purpose);
            }
        }
    }

    fn on_headers(&mut self, peer: PeerId, session: u64, headers: Vec<SignedHeader>) {
        let Some(s) = self.sync.session.as_mut().filter(|s| s.id == session) else {
            return;
        };
        s.headers_pending = false;
        if headers.is_empty() {
            s.headers_done = true;
            if s.tail.is_none() {
                // It claimed more work than ours but shows nothing after our locator.
                self.adjust(peer, score::LIE, "claimed work it cannot show");
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.status = None;
                }
                self.cooldown(&peer, DISTRUST_COOLDOWN);
                self.abort_session("the best peer had no headers for us");
            }
            return self.sync_step();
        }
        let store = self.chain.store.clone();
        let first_parent = headers[0].header.parent;
        let prev = match s.tail {
            Some(t) if t.0 == first_parent => Some(t),
            Some(_) => None,
            None => store
                .index_entry(&first_parent)
                .ok()
                .flatten()
                .filter(|e| e.status != BlockStatus::Invalid)
                .map(|e| (e.meta.id, e.meta.height, e.meta.timestamp)),
        };
        let Some(prev) = prev else {
            let known = matches!(store.index_entry(&first_parent), Ok(Some(_)));
            if !known {
                self.adjust(peer, score::LIE, "headers that do not attach to our chain");
            }
            return self.abort_session("headers do not continue the session");
        };
        if let Err(e) = check_headers(prev, &headers, &self.chain.params, self.clock.now()) {
            self.adjust(peer, score::INVALID_BLOCK, "invalid header chain");
            warn!(%peer, error = %e, "sync: invalid headers");
            return self.abort_session("invalid headers");
        }
        let Some(s) = self.sync.session.as_mut() else {
            return;
        };
        let full = headers.len() >= MAX_HEADERS;
        for h in &headers {
            let id = h.header.id();
            match store.index_entry(&id) {
                Ok(Some(e)) if e.status == BlockStatus::Invalid => {
                    self.adjust(
                        peer,
                        score::INVALID_BLOCK,
                        "headers of a known-invalid block",
                    );
                    return self.abort_session("peer serves an invalid chain");
                }
                Ok(Some(_)) => {}
                _ => {
                    s.to_fetch.push_back((id, h.header.height));
                    s.order.push_back(id);
                    s.queued_total += 1;
                }
            }
            s.tail = Some((id, h.header.height, h.header.timestamp));
        }
        s.headers_done = !full;
        s.last_progress = Instant::now();
        if let (Some(last), Some(p)) = (headers.last(), self.peers.get_mut(&peer)) {
            p.backed_height = p.backed_height.max(last.header.height);
        }
        self.sync_step();
    }

    fn on_blocks(&mut self, peer: PeerId, batch: u64, blocks: Vec<Block>) {
        let Some(b) = self.sync.batches.remove(&batch) else {
            return;
        };
        if let Some(p) = self.peers.get_mut(&b.peer) {
            p.inflight = p.inflight.saturating_sub(1);
        }
        let current = self
            .sync
            .session
            .as_ref()
            .is_some_and(|s| s.id == b.session);
        if !current {
            return self.sync_step();
        }
        if blocks.is_empty() {
            self.cooldown(&peer, EMPTY_COOLDOWN);
        }
        let mut matched = 0;
        let mut garbage = false;
        if let Some(s) = self.sync.session.as_mut() {
            for (block, (want, _)) in blocks.into_iter().zip(b.items.iter()) {
                if block.id() != *want {
                    garbage = true;
                    break;
                }
                let bytes = block.encoded_len();
                s.ready_bytes += bytes;
                s.ready.insert(*want, (block, peer, bytes));
                matched += 1;
            }
            for item in b.items[matched..].iter().rev() {
                s.to_fetch.push_front(*item);
            }
            if matched > 0 {
                s.last_progress = Instant::now();
            }
        }
        if garbage {
            self.adjust(
                peer,
                score::INVALID_BLOCK,
                "sent a block that was not asked for",
            );
            self.cooldown(&peer, FAIL_COOLDOWN);
        }
        self.sync_step();
    }

    pub(crate) fn sync_request_failed(&mut self, peer: PeerId, purpose: Purpose) {
        match purpose {
            Purpose::Headers { session } => {
                if self.sync.session.as_ref().is_some_and(|s| s.id == session) {
                    self.abort_session("the header peer failed");
                }
            }
            Purpose::Blocks { batch } => {
                if let Some(b) = self.sync.batches.remove(&batch) {
                    if let Some(p) = self.peers.get_mut(&b.peer) {
                        p.inflight = p.inflight.saturating_sub(1);
                    }
                    if let Some(s) = self.sync.session.as_mut().filter(|s| s.id == b.session) {
                        for item in b.items.iter().rev() {
                            s.to_fetch.push_front(*item);
                        }
                    }
                }
                self.cooldown(&peer, FAIL_COOLDOWN);
            }
            Purpose::Status | Purpose::Peers => {}
        }
        self.sync_step();
    }

    pub(crate) fn on_applied(&mut self, a: Applied) {
        self.sync.applying = self.sync.applying.saturating_sub(1);
        self.sync.applying_bytes = self.sync.applying_bytes.saturating_sub(a.bytes);
        let current = self
            .sync
            .session
            .as_ref()
            .is_some_and(|s| s.id == a.session);
        match a.result {
            Ok(()) => {
                if let Some(s) = self.sync.session.as_mut().filter(|_| current) {
                    s.last_progress = Instant::now();
                }
            }
            Err((fault, error)) => {
                warn!(peer = %a.peer, error, "sync: block refused");
                if fault {
                    self.adjust(a.peer, score::INVALID_BLOCK, "synced block invalid");
                }
                if current {
                    self.abort_session("a synced block was refused");
                }
            }
        }
        self.sync_step();
    }

    /// Timers: progress logs, stall detection, and a nudge to the state machine.
    pub(crate) fn sync_tick(&mut self) {
        let tip = self.chain.store.tip();
        let now = Instant::now();
        if self
            .sync
            .rate
            .back()
            .is_none_or(|(t, _)| now - *t >= Duration::from_secs(1))
        {
            self.sync.rate.push_back((now, tip.height));
            while self.sync.rate.len() > 11 {
                self.sync.rate.pop_front();
            }
        }
        let stalled = self
            .sync
            .session
            .as_ref()
            .is_some_and(|s| s.last_progress.elapsed() >= STALL);
        if stalled {
            warn!("sync: no progress for a minute");
            self.abort_session("stalled");
        }
        if let Some(s) = &self.sync.session {
            if self.sync.last_log.elapsed() >= LOG_EVERY {
                self.sync.last_log = now;
                let rate = self.sync.blocks_per_second();
                let left = s.target.height.saturating_sub(tip.height);
                let eta = if rate > 0.0 {
                    format!("{:.0}s", left as f64 / rate)
                } else {
                    "unknown".into()
                };
                info!(
                    height = tip.height,
                    target = s.target.height,
                    blocks_per_s = format!("{rate:.0}"),
                    eta,
                    peers = self.peers.len(),
                    "syncing"
                );
            }
            if let Some(st) = self
                .peers
                .get(&s.header_peer)
                .and_then(|p| p.status.clone())
            {
                if st.total_work > s.target.total_work {
                    if let Some(s) = self.sync.session.as_mut() {
                        s.target = st;
                    }
                }
            }
        }
        self.sync_step();
    }
}
