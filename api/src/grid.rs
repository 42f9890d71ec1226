//! The `grid` namespace's types (PROTOCOL.md §7): nodes with their free capacity,
//! reservations with when they run out, quotes, and the event log with cursors.

use serde::{Deserialize, Serialize};
use tfchain_types::{
    Address, BlockId, Currency, FarmId, GridEventKind, Height, Node, NodeId, Reservation,
    ReservationId, Resources, TxId,
};

/// A node with what it has free (`capacity − used`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    #[serde(flatten)]
    pub node: Node,
    pub free: Resources,
}

/// A reservation with the address of its owner condition and, while it is live, the
/// height where it is next processed (§7.4): for an Active one the block where its escrow
/// runs out, in Grace the block where it ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationInfo {
    #[serde(flatten)]
    pub reservation: Reservation,
    pub owner_address: Address,
    pub next_change_at: Option<Height>,
}

/// `grid_quote`: what reserving `resources` on `node` for `blocks` costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub node: NodeId,
    pub resources: Resources,
    /// Base units per block: `Σ price.x × resources.x` at the node's current price.
    pub rate: Currency,
    pub blocks: u64,
    /// `rate × blocks`: the deposit that pays for `blocks` blocks.
    pub deposit: Currency,
    /// `rate × min_reservation_blocks`: the smallest deposit the chain accepts.
    pub min_deposit: Currency,
    /// What the node has free now, and whether `resources` fit in it and it is Up.
    pub free: Resources,
    pub available: bool,
}

/// A position in the event log: the event's height, its index among the block's events,
/// and the block (so a cursor from a branch that a reorganisation removed is recognised).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventCursor {
    pub height: Height,
    pub index: u32,
    pub block: BlockId,
}

/// One grid event (§7.5). `reverted: true` reports an event of a block that a
/// reorganisation removed from the chain: undo whatever it made you do. Its cursor names
/// the removed block, so resuming from it reports that one event reverted again: undoing
/// is meant to be idempotent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    pub cursor: EventCursor,
    /// The transaction that caused it; `null` for the block's own expiry processing.
    pub txid: Option<TxId>,
    pub event: GridEventKind,
    pub reverted: bool,
}

/// `grid_getEvents`: events in chain order, then the cursor to continue after: set when the
/// page is full, and when it ends with reverted events (then it names the fork point, which
/// no event's cursor does); `null` when this page reached the tip (poll again later with the
/// last event's cursor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<EventInfo>,
    pub next: Option<EventCursor>,
}

/// What `grid_subscribeEvents` sends. Every field is optional; events must match all
/// given ones. `after`: replay every event after this cursor first (reverted ones
/// included), then follow the chain: a subscriber that reconnects with its last cursor
/// misses nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    #[serde(default)]
    pub node: Option<NodeId>,
    #[serde(default)]
    pub farm: Option<FarmId>,
    #[serde(default)]
    pub reservation: Option<ReservationId>,
    #[serde(default)]
    pub after: Option<EventCursor>,
}

impl EventFilter {
    /// Whether `event` passes the node, farm and reservation filters.
    pub fn matches(&self, event: &GridEventKind) -> bool {
        self.node.is_none_or(|n| event.node() == Some(n))
            && self.farm.is_none_or(|f| event.farm() == Some(f))
            && self
                .reservation
                .is_none_or(|r| event.reservation() == Some(r))
    }
}
