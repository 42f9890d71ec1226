//! `grid_subscribeEvents` (PROTOCOL.md §7.5): replay from the subscriber's cursor, then
//! follow the chain.
//!
//! The chain task's broadcast ([`ChainEvent`]) only wakes the subscription up; what to send
//! is always read from the store's event log from the subscriber's position
//! ([`Store::read_log`](crate::store::Store::read_log)). So a replay, a live block and a
//! reorganisation are one code path: a block that was connected is read forward, a block
//! that was undone (its events kept by the store in the undo's own batch) is reported
//! reverted, newest first, down to the fork. Missing a wake-up (a lagging broadcast
//! receiver) loses nothing: the next read catches up.
//!
//! Buffers are bounded: the store is read a page at a time, and a subscriber that does not
//! take a notification within [`SEND_TIMEOUT`] is dropped (it resubscribes with its last
//! cursor and misses nothing).

use super::grid::{cursor_error, event_info};
use super::{internal, Rpc};
use crate::chain::ChainEvent;
use crate::store::Store;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::PendingSubscriptionSink;
use std::collections::BTreeMap;
use std::time::Duration;
use tfchain_api::EventFilter;
use tfchain_contracts::GridReads;
use tfchain_types::{FarmId, GridEventKind, NodeId};
use tokio::sync::broadcast::error::RecvError;

/// Events read from the store per step (before the subscriber's filter).
const PAGE: usize = 256;
/// How long a notification may wait for room in the subscriber's connection buffer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Rpc {
    /// Runs one `grid_subscribeEvents` subscription until the client leaves, falls behind,
    /// or the node stops.
    pub(super) async fn follow_events(
        &self,
        pending: PendingSubscriptionSink,
        filter: EventFilter,
    ) -> SubscriptionResult {
        // Listen before the first read, so no change after it goes unnoticed.
        let mut changes = self.chain.subscribe();
        let store = self.chain.store.clone();
        let start = match filter.after {
            Some(c) => {
                let store = store.clone();
                tokio::task::spawn_blocking(move || store.log_position(c.height, c.index, c.block))
                    .await
                    .map_err(internal)
                    .and_then(|r| r.map_err(cursor_error))
            }
            None => Ok(store.log_position_at_tip()),
        };
        let mut pos = match start {
            Ok(p) => p,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        let sink = pending.accept().await?;
        let mut farms = BTreeMap::new();
        loop {
            // Catch up with the store, a page at a time. Each step reads at most PAGE
            // events of the log whatever the filter keeps (a filter that matches little
            // must not turn one step into a scan of the whole log), and the client leaving
            // is noticed between steps, not only when a send fails.
            loop {
                if sink.is_closed() {
                    return Ok(());
                }
                let (store, filter) = (store.clone(), filter.clone());
                let mut p = pos;
                let mut farms = std::mem::take(&mut farms);
                let (events, p, farms_back) = tokio::task::spawn_blocking(move || {
                    let read = store.read_log(&mut p, filter.node, |_| true, PAGE)?;
                    let full = read.len() >= PAGE;
                    let events: Vec<_> = read
                        .into_iter()
                        .filter(|e| passes(&store, &filter, &mut farms, &e.event.kind))
                        .collect();
                    Ok::<_, crate::store::StoreError>(((events, full), p, farms))
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| {
                    tracing::error!(error = %e, "grid_subscribeEvents: store read failed");
                    format!("the node could not read its event log: {e}")
                })?;
                pos = p;
                farms = farms_back;
                let (events, full) = events;
                for e in events {
                    let msg = serde_json::value::to_raw_value(&event_info(e))?;
                    if sink.send_timeout(msg, SEND_TIMEOUT).await.is_err() {
                        // Closed, or too slow to keep up: it resubscribes with its cursor.
                        return Ok(());
                    }
                }
                if !full {
                    break;
                }
            }
            // Wait for the chain to change.
            loop {
                tokio::select! {
                    ev = changes.recv() => match ev {
                        Ok(ChainEvent::Connected(_)
                        | ChainEvent::Disconnected(_)
                        | ChainEvent::Reorganized { .. })
                        | Err(RecvError::Lagged(_)) => break,
                        Ok(ChainEvent::TxAccepted(_)) => {}
                        Err(RecvError::Closed) => return Ok(()),
                    },
                    _ = sink.closed() => return Ok(()),
                }
            }
        }
    }
}

/// Whether `k` passes `filter`. `farm` also matches the events of the farm's nodes'
/// reservations (which name only their node): a node never changes farm, so its farm is
/// looked up once per subscription.
fn passes(
    store: &Store,
    filter: &EventFilter,
    farms: &mut BTreeMap<NodeId, Option<FarmId>>,
    k: &GridEventKind,
) -> bool {
    let Some(farm) = filter.farm else {
        return filter.matches(k);
    };
    let unfarmed = EventFilter {
        farm: None,
        ..filter.clone()
    };
    let of = k.farm().or_else(|| {
        let node = k.node()?;
        *farms
            .entry(node)
            .or_insert_with(|| store.node(node).map(|n| n.farm))
    });
    of == Some(farm) && unfarmed.matches(k)
}
