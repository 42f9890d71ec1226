//! `UpdateNode { node, capacity?, price?, state?, farm_auth }` (PROTOCOL.md §7.3): capacity
//! never below what is used; a new price applies to new reservations only; `Down` refuses
//! new reservations while existing ones run on.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::state::GridView;
use tfchain_types::{Availability, GridEventKind, NodeId, NodeState, Price, Resources};

pub fn shape(
    capacity: &Option<Resources>,
    price: &Option<Price>,
    state: &Option<Availability>,
) -> Result<(), GridError> {
    if capacity.is_none() && price.is_none() && state.is_none() {
        return Err(GridError::EmptyUpdate);
    }
    if capacity.is_some_and(|c| c.is_zero()) {
        return Err(GridError::ZeroCapacity);
    }
    Ok(())
}

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    id: NodeId,
    capacity: &Option<Resources>,
    price: &Option<Price>,
    state: &Option<Availability>,
) -> Result<(), GridError> {
    let mut node = l.node(id)?;
    if node.state == NodeState::Removed {
        return Err(GridError::NodeRemoved(id));
    }
    if let Some(capacity) = capacity {
        if !node.used.fits_within(capacity) {
            return Err(GridError::CapacityBelowUsed {
                capacity: *capacity,
                used: node.used,
            });
        }
        node.capacity = *capacity;
    }
    if let Some(price) = price {
        node.price = *price;
    }
    if let Some(state) = state {
        node.state = (*state).into();
    }
    let farm = node.farm;
    l.put_node(node);
    l.event(GridEventKind::NodeUpdated { node: id, farm });
    Ok(())
}
