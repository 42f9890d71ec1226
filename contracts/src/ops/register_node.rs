//! `RegisterNode { farm, node_key, capacity, price, farm_auth, node_sig }` (PROTOCOL.md
//! §7.3): the farm owner's consent is checked by the caller (see `authority`), and so is
//! `node_sig`, the node key's signature over the sighash.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::state::{GridKey, GridReads, GridValue, GridView};
use tfchain_types::{
    Currency, FarmId, GridEventKind, Node, NodeState, Price, PublicKey, Resources,
};

pub fn shape(capacity: &Resources) -> Result<(), GridError> {
    if capacity.is_zero() {
        return Err(GridError::ZeroCapacity);
    }
    Ok(())
}

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    farm: FarmId,
    node_key: &PublicKey,
    capacity: &Resources,
    price: &Price,
) -> Result<(), GridError> {
    if l.farm(farm).is_none() {
        return Err(GridError::UnknownFarm(farm));
    }
    if let Some(existing) = l.node_by_key(node_key) {
        return Err(GridError::NodeKeyTaken(existing));
    }
    let mut counters = l.counters();
    counters.nodes = counters.nodes.checked_add(1).ok_or(GridError::Overflow)?;
    let id = counters.nodes;
    l.set_counters(counters);
    l.state
        .put(GridKey::NodeKey(*node_key), GridValue::NodeId(id));
    l.index(GridKey::FarmNode(farm, id));
    l.put_node(Node {
        id,
        farm,
        node_key: *node_key,
        capacity: *capacity,
        price: *price,
        used: Resources::ZERO,
        reservations: 0,
        state: NodeState::Up,
        earnings: Currency::ZERO,
    });
    l.event(GridEventKind::NodeRegistered { node: id, farm });
    Ok(())
}
