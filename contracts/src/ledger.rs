//! Typed writes over a [`GridOverlay`] plus what the ops produce besides state: events
//! (§7.5) and payout outputs (§7.4, created by the caller as §4.2 payouts).

use crate::error::GridError;
use crate::overlay::GridOverlay;
use crate::state::{GridCounters, GridKey, GridReads, GridValue, GridView};
use tfchain_types::{
    Condition, Currency, Farm, GridEventKind, Node, NodeId, Reservation, ReservationId,
};

/// Coins an op pays out of escrow or earnings (a refund or a claim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub value: Currency,
    pub condition: Condition,
}

/// A view with pending writes, and the events and payouts so far.
#[derive(Debug)]
pub struct Ledger<'a, V: GridView + ?Sized> {
    pub state: GridOverlay<'a, V>,
    pub events: Vec<GridEventKind>,
    pub payouts: Vec<Payout>,
}

impl<'a, V: GridView + ?Sized> Ledger<'a, V> {
    pub fn new(base: &'a V) -> Self {
        Ledger {
            state: GridOverlay::new(base),
            events: Vec::new(),
            payouts: Vec::new(),
        }
    }

    pub fn event(&mut self, e: GridEventKind) {
        self.events.push(e);
    }

    /// Queues a payout; zero amounts create nothing (§5.5).
    pub fn pay(&mut self, value: Currency, condition: Condition) {
        if !value.is_zero() {
            self.payouts.push(Payout { value, condition });
        }
    }

    pub fn counters(&self) -> GridCounters {
        self.state.counters()
    }

    pub fn set_counters(&mut self, c: GridCounters) {
        self.state.put(GridKey::Counters, GridValue::Counters(c));
    }

    pub fn put_farm(&mut self, farm: Farm) {
        self.state
            .put(GridKey::Farm(farm.id), GridValue::Farm(farm));
    }

    pub fn put_node(&mut self, node: Node) {
        self.state
            .put(GridKey::Node(node.id), GridValue::Node(node));
    }

    pub fn put_reservation(&mut self, r: Reservation) {
        self.state
            .put(GridKey::Reservation(r.id), GridValue::Reservation(r));
    }

    pub fn index(&mut self, key: GridKey) {
        self.state.put(key, GridValue::Unit);
    }

    /// An index entry under a fresh id (absent from the base, see [`GridOverlay::put_fresh`]).
    pub fn index_fresh(&mut self, key: GridKey) {
        self.state.put_fresh(key, GridValue::Unit);
    }

    pub fn unindex(&mut self, key: GridKey) {
        self.state.delete(key);
    }

    pub fn node(&self, id: NodeId) -> Result<Node, GridError> {
        self.state.node(id).ok_or(GridError::UnknownNode(id))
    }

    pub fn reservation(&self, id: ReservationId) -> Result<Reservation, GridError> {
        self.state
            .reservation(id)
            .ok_or(GridError::UnknownReservation(id))
    }
}

impl<V: GridView + ?Sized> GridView for Ledger<'_, V> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.state.grid_get(key)
    }
    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.state.grid_range(from, to)
    }
}
