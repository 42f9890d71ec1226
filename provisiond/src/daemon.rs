//! The reconcile loop. Desired state from the chain (a snapshot of the node's reservations
//! at a known tip, then its events and new heads over WebSocket), actual state from the
//! runtime, [`plan`] between them, actions executed, state saved. Every event makes the
//! daemon read that reservation again, a full snapshot runs every `reconcile_blocks`
//! blocks anyway, and the host side is reconciled every second (exits, restarts), also
//! while tfchaind is unreachable: then nothing is stopped, the daemon retries with backoff
//! and takes a fresh snapshot when it is back.

use crate::board::{Board, WorkloadStatus};
use crate::chain::{Chain, ChainError};
use crate::http::SharedBoard;
use crate::manifests::Manifests;
use crate::plan::{desire, plan, restart_backoff, Action, Actual, Desired};
use crate::runtime::{Observed, RunState, Runtime};
use crate::state::{Book, DaemonState, StateFile};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tfchain_api::EventInfo;
use tfchain_types::{GridEventKind, Height, NodeId, Reservation, ReservationId};

/// Between two host-side reconciles.
pub const TICK: Duration = Duration::from_secs(1);
/// Reconnect backoff: first wait and cap.
pub const RECONNECT_MIN: Duration = Duration::from_secs(1);
pub const RECONNECT_MAX: Duration = Duration::from_secs(30);

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How the daemon follows the chain.
#[derive(Clone, Debug)]
pub struct Follow {
    /// tfchaind's WebSocket URL.
    pub ws_url: String,
    /// Blocks a change needs before it is acted on (1: as soon as it is in a block).
    pub confirmations: u64,
    /// A full snapshot every this many blocks.
    pub reconcile_blocks: u64,
}

/// What the chain says about one reservation, and the height of the last change seen.
#[derive(Clone, Debug)]
struct Seen {
    /// `None`: it no longer exists on this chain (or is not this node's, or ended).
    reservation: Option<Reservation>,
    touched: Height,
    /// Whether it was turned into desired state since it last changed.
    committed: bool,
}

#[derive(Debug)]
pub struct Daemon {
    node: NodeId,
    follow: Follow,
    runtime: Arc<dyn Runtime>,
    state_file: StateFile,
    state: DaemonState,
    manifests: Manifests,
    view: BTreeMap<ReservationId, Seen>,
    tip: Height,
    board: SharedBoard,
    /// Unix seconds before which a failing action of a reservation is not tried again.
    not_before: BTreeMap<ReservationId, (u64, u32)>,
}

impl Daemon {
    pub fn new(
        node: NodeId,
        follow: Follow,
        runtime: Arc<dyn Runtime>,
        state_file: StateFile,
        state: DaemonState,
        manifests: Manifests,
        board: SharedBoard,
    ) -> Daemon {
        Daemon {
            node,
            follow,
            runtime,
            state_file,
            state,
            manifests,
            view: BTreeMap::new(),
            tip: 0,
            board,
            not_before: BTreeMap::new(),
        }
    }

    /// Follows the chain until `stop` resolves; reconnects whenever the connection drops.
    pub async fn run(&mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backoff = RECONNECT_MIN;
        loop {
            let session = self.session();
            tokio::select! {
                () = &mut stop => return,
                r = session => {
                    let e = match r {
                        Ok(()) => "the connection closed".to_string(),
                        Err(e) => e.to_string(),
                    };
                    if self.board_connected() {
                        backoff = RECONNECT_MIN;
                    }
                    self.set_connected(false);
                    tracing::warn!(
                        error = %e,
                        retry_in_s = backoff.as_secs(),
                        "lost tfchaind: workloads keep running as they are; retrying"
                    );
                }
            }
            // Host-side reconciles go on while disconnected (exits, restarts).
            let wait = tokio::time::sleep(backoff);
            tokio::pin!(wait);
            let mut tick = tokio::time::interval(TICK);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    () = &mut wait => break,
                    _ = tick.tick() => self.reconcile().await,
                }
            }
            backoff = (backoff * 2).min(RECONNECT_MAX);
        }
    }

    /// One connection: snapshot, then events, heads and ticks until something fails.
    async fn session(&mut self) -> Result<(), ChainError> {
        let chain = Chain::connect(&self.follow.ws_url).await?;
        let cursor = self.refresh(&chain).await?;
        let mut events = chain.follow_events(self.node, cursor).await?;
        let mut heads = chain.follow_heads().await?;
        self.set_connected(true);
        tracing::info!(
            node = self.node,
            height = self.tip,
            live = self.view.len(),
            "following the chain"
        );
        self.reconcile().await;
        let mut last_full = self.tip;
        // The last head seen (events may have moved `tip` to its height already).
        let mut head = self.tip;
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(ev)) => {
                        self.on_event(&chain, ev).await?;
                        self.reconcile().await;
                    }
                    Some(Err(e)) => return Err(ChainError::Unreachable { url: self.follow.ws_url.clone(), reason: e.to_string() }),
                    None => return Err(ChainError::Unreachable { url: self.follow.ws_url.clone(), reason: "the event subscription ended".into() }),
                },
                h = heads.next() => match h {
                    Some(Ok(h)) => {
                        // A head at or below the last one: the chain was reorganised.
                        let reorg = h.height <= head;
                        head = h.height;
                        self.tip = h.height;
                        if reorg || h.height >= last_full + self.follow.reconcile_blocks.max(1) {
                            self.refresh(&chain).await?;
                            last_full = self.tip;
                        }
                        self.reconcile().await;
                    }
                    Some(Err(e)) => return Err(ChainError::Unreachable { url: self.follow.ws_url.clone(), reason: e.to_string() }),
                    None => return Err(ChainError::Unreachable { url: self.follow.ws_url.clone(), reason: "the head subscription ended".into() }),
                },
                _ = tick.tick() => self.reconcile().await,
            }
        }
    }

    /// A full snapshot of the node's live reservations into the view; returns the cursor
    /// to follow events from.
    async fn refresh(&mut self, chain: &Chain) -> Result<tfchain_api::EventCursor, ChainError> {
        let snap = chain.snapshot(self.node).await?;
        self.tip = snap.height;
        let mut now: BTreeMap<ReservationId, Reservation> = snap
            .reservations
            .iter()
            .filter(|r| r.node == self.node && r.is_live())
            .map(|r| (r.id, r.clone()))
            .collect();
        // Reservations the daemon acts on or sees, that the chain no longer has.
        let known: Vec<ReservationId> = self
            .view
            .keys()
            .chain(self.state.desired.keys())
            .copied()
            .collect();
        for id in known {
            if !now.contains_key(&id) {
                self.see(id, None, snap.height);
            }
        }
        for (id, r) in std::mem::take(&mut now) {
            // A reservation first seen in a snapshot changed when its events say (below);
            // one that changed without an event seen changed by this snapshot.
            let touched = if self.view.contains_key(&id) {
                snap.height
            } else {
                0
            };
            self.see(id, Some(r), touched);
        }
        // Every entry is desired afresh (a manifest fetch that failed is tried again).
        for s in self.view.values_mut() {
            s.committed = false;
        }
        if self.follow.confirmations > 1 {
            let from = snap.height.saturating_sub(self.follow.confirmations - 2);
            for ev in chain.events_since(self.node, from).await? {
                if let Some(id) = ev.event.reservation() {
                    if let Some(s) = self.view.get_mut(&id) {
                        s.touched = s.touched.max(ev.cursor.height);
                    }
                }
            }
        }
        Ok(snap.cursor())
    }

    /// Records what the chain says of `id`; a change marks it touched at `height`.
    fn see(&mut self, id: ReservationId, r: Option<Reservation>, height: Height) {
        let r = r.filter(|r| r.node == self.node && r.is_live());
        match self.view.get_mut(&id) {
            Some(s) if s.reservation == r => {}
            Some(s) => {
                s.reservation = r;
                s.touched = height;
                s.committed = false;
            }
            None => {
                self.view.insert(
                    id,
                    Seen {
                        reservation: r,
                        touched: height,
                        committed: false,
                    },
                );
            }
        }
    }

    async fn on_event(&mut self, chain: &Chain, ev: EventInfo) -> Result<(), ChainError> {
        if !ev.reverted {
            self.tip = self.tip.max(ev.cursor.height);
        }
        tracing::debug!(event = ?ev.event, reverted = ev.reverted, height = ev.cursor.height, "grid event");
        match ev.event.reservation() {
            Some(id) => {
                let r = chain.reservation(id).await?;
                let at = self.tip.max(ev.cursor.height);
                self.see(id, r, at);
            }
            // Earnings claimed change nothing that runs.
            None if matches!(ev.event, GridEventKind::EarningsClaimed { .. }) => {}
            // The node itself changed (updated, removed): read everything again.
            None => {
                self.refresh(chain).await?;
            }
        }
        Ok(())
    }

    /// Turns confirmed view entries into desired state.
    async fn commit_view(&mut self, now: u64) -> bool {
        let k = self.follow.confirmations.max(1);
        let tip = self.tip;
        let ready: Vec<ReservationId> = self
            .view
            .iter()
            .filter(|(_, s)| !s.committed && tip + 1 >= s.touched + k)
            .map(|(id, _)| *id)
            .collect();
        if ready.is_empty() {
            return false;
        }
        let reservations: Vec<Reservation> = ready
            .iter()
            .filter_map(|id| self.view.get(id).and_then(|s| s.reservation.clone()))
            .collect();
        self.manifests.prefetch(reservations.iter(), now).await;
        let kind = self.runtime.kind();
        let mut changed = false;
        for id in ready {
            let Some(seen) = self.view.get_mut(&id) else {
                continue;
            };
            seen.committed = true;
            let lookup = |r: &Reservation, s: &_| self.manifests.lookup(r, s);
            let wanted = seen
                .reservation
                .as_ref()
                .and_then(|r| desire(r, self.node, kind, &lookup));
            let before = self.state.desired.get(&id);
            if before != wanted.as_ref() {
                changed = true;
                match &wanted {
                    Some(Desired::Nothing { reason, .. }) => {
                        tracing::info!(reservation = id, %reason, "nothing runs")
                    }
                    Some(Desired::Run { spec, paused }) => tracing::info!(
                        reservation = id,
                        deployment = %spec.deployment_hash,
                        paused,
                        "wanted"
                    ),
                    None => tracing::info!(reservation = id, "no longer wanted"),
                }
            }
            match wanted {
                Some(d) => {
                    self.state.desired.insert(id, d);
                }
                None => {
                    self.state.desired.remove(&id);
                }
            }
            if seen.reservation.is_none() {
                self.view.remove(&id);
            }
        }
        changed
    }

    /// One reconcile: commit confirmed chain changes, read the host, plan, act, save.
    pub async fn reconcile(&mut self) {
        let now = unix_now();
        let mut changed = self.commit_view(now).await;
        let observed = match self.runtime.list().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the workloads; trying again");
                return;
            }
        };
        let mut actual: BTreeMap<ReservationId, Actual> = observed
            .into_iter()
            .map(|o| {
                let restarts = self
                    .state
                    .book
                    .get(&o.reservation)
                    .map_or(0, |b| b.restarts);
                let a = Actual {
                    restart_not_before: o.started_at.saturating_add(restart_backoff(restarts)),
                    observed: o,
                };
                (a.observed.reservation, a)
            })
            .collect();
        for action in plan(&self.state.desired, &actual, now) {
            let id = action.reservation();
            let blocked = self.not_before.get(&id).is_some_and(|(t, _)| now < *t);
            if blocked && !matches!(action, Action::Remove(_)) {
                continue;
            }
            changed = true;
            match self.act(&action).await {
                Ok(()) => {
                    self.not_before.remove(&id);
                    if let Some(b) = self.state.book.get_mut(&id) {
                        b.last_error = None;
                    }
                }
                Err(e) => {
                    let failures = self.not_before.get(&id).map_or(0, |f| f.1);
                    if failures == 0 {
                        tracing::warn!(reservation = id, error = %e, "action failed; retrying with backoff");
                    }
                    self.not_before
                        .insert(id, (now + restart_backoff(failures), failures + 1));
                    self.state.book.entry(id).or_default().last_error = Some(e);
                }
            }
        }
        // What the host runs after acting.
        if changed {
            if let Ok(o) = self.runtime.list().await {
                actual = o
                    .into_iter()
                    .map(|o| {
                        (
                            o.reservation,
                            Actual {
                                observed: o,
                                restart_not_before: 0,
                            },
                        )
                    })
                    .collect();
            }
        }
        self.update_books(&actual, now);
        if changed {
            if let Err(e) = self.state_file.save(&self.state) {
                tracing::error!(error = %e, "cannot save the daemon state");
            }
        }
        self.publish(&actual, now);
    }

    async fn act(&mut self, action: &Action) -> Result<(), String> {
        let rt = &self.runtime;
        let id = action.reservation();
        let r = match action {
            Action::Start(spec) => {
                tracing::info!(reservation = id, deployment = %spec.deployment_hash, "starting the workload");
                rt.start(spec).await.map(|_| {
                    self.state.book.entry(id).or_default().restarts = 0;
                })
            }
            Action::Replace(spec) => {
                tracing::info!(reservation = id, deployment = %spec.deployment_hash, "replacing the workload with the new deployment");
                match rt.remove(id).await {
                    Ok(()) => rt.start(spec).await.map(|_| {
                        self.state.book.entry(id).or_default().restarts = 0;
                    }),
                    Err(e) => Err(e),
                }
            }
            Action::Restart(spec) => {
                let b = self.state.book.entry(id).or_default();
                b.restarts += 1;
                tracing::info!(
                    reservation = id,
                    restarts = b.restarts,
                    "restarting the workload per its restart policy"
                );
                rt.start(spec).await.map(|_| ())
            }
            Action::Pause(_) => {
                tracing::info!(
                    reservation = id,
                    "pausing the workload: the reservation is in grace"
                );
                rt.pause(id).await
            }
            Action::Resume(_) => {
                tracing::info!(
                    reservation = id,
                    "resuming the workload: the reservation is active again"
                );
                rt.resume(id).await
            }
            Action::Remove(_) => {
                tracing::info!(reservation = id, "stopping and removing the workload");
                rt.remove(id).await
            }
        };
        r.map_err(|e| e.to_string())
    }

    /// Keeps `since` per workload and forgets books of workloads nobody has any more.
    fn update_books(&mut self, actual: &BTreeMap<ReservationId, Actual>, now: u64) {
        let desired = &self.state.desired;
        self.state
            .book
            .retain(|id, _| desired.contains_key(id) || actual.contains_key(id));
        for id in desired.keys().chain(actual.keys()) {
            let state = actual_name(actual.get(id).map(|a| &a.observed));
            let b = self.state.book.entry(*id).or_insert_with(|| Book {
                since: now,
                ..Book::default()
            });
            if b.actual.as_deref() != Some(state) {
                b.actual = Some(state.to_string());
                b.since = now;
            }
        }
    }

    fn publish(&self, actual: &BTreeMap<ReservationId, Actual>, now: u64) {
        let mut ids: Vec<ReservationId> = self
            .state
            .desired
            .keys()
            .chain(actual.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let workloads = ids
            .into_iter()
            .map(|id| {
                let d = self.state.desired.get(&id);
                let o = actual.get(&id).map(|a| &a.observed);
                let b = self.state.book.get(&id).cloned().unwrap_or_default();
                let (desired, reason) = match d {
                    Some(Desired::Run { paused: false, .. }) => ("running", None),
                    Some(Desired::Run { paused: true, .. }) => ("paused", None),
                    Some(Desired::Nothing { reason, .. }) => ("nothing", Some(reason.clone())),
                    None => ("absent", None),
                };
                WorkloadStatus {
                    reservation: id,
                    deployment_hash: d
                        .map(Desired::deployment_hash)
                        .or(o.map(|o| o.deployment_hash)),
                    desired: desired.into(),
                    actual: actual_name(o).into(),
                    pid: o.and_then(|o| o.pid),
                    container: o.and_then(|o| o.container.clone()),
                    since: b.since,
                    restarts: b.restarts,
                    reason,
                    last_error: b.last_error.or(o.and_then(|o| o.note.clone())),
                }
            })
            .collect();
        let mut board = match self.board.write() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        board.height = self.tip;
        board.last_reconcile = now;
        board.workloads = workloads;
    }

    fn set_connected(&self, connected: bool) {
        match self.board.write() {
            Ok(mut b) => b.connected = connected,
            Err(p) => p.into_inner().connected = connected,
        }
    }

    fn board_connected(&self) -> bool {
        self.board.read().map(|b| b.connected).unwrap_or(false)
    }

    /// Stops and removes every workload (for a throw-away dev data dir).
    pub async fn remove_all(&mut self) {
        if let Ok(list) = self.runtime.list().await {
            for o in list {
                if let Err(e) = self.runtime.remove(o.reservation).await {
                    tracing::warn!(reservation = o.reservation, error = %e, "cannot remove");
                }
            }
        }
    }
}

fn actual_name(o: Option<&Observed>) -> &'static str {
    match o.map(|o| o.state) {
        Some(RunState::Running) => "running",
        Some(RunState::Paused) => "paused",
        Some(RunState::Exited { .. }) => "exited",
        None => "absent",
    }
}

/// A fresh board for `node`.
pub fn board(node: NodeId, runtime: &dyn Runtime) -> Board {
    Board {
        node,
        runtime: runtime.kind().to_string(),
        limits: runtime.limits_note(),
        ..Board::default()
    }
}
