//! `RemoveNode { node, farm_auth }` (PROTOCOL.md §7.3): ends every live reservation on the
//! node (`NodeRemoved`), each settled and refunded; the node takes nothing new. Its key is
//! freed so the machine can be registered again; unclaimed earnings stay claimable.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::settle;
use crate::state::{GridKey, GridReads, GridView};
use tfchain_types::{EndReason, GridEventKind, NodeId, NodeState};

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
    id: NodeId,
) -> Result<(), GridError> {
    let mut node = l.node(id)?;
    if node.state == NodeState::Removed {
        return Err(GridError::NodeRemoved(id));
    }
    for rid in l.node_reservations(id) {
        let mut r = l.reservation(rid)?;
        settle::unindex(l, &r, ctx);
        settle::end(l, &mut r, &mut node, EndReason::NodeRemoved, ctx)?;
        l.put_reservation(r);
    }
    node.state = NodeState::Removed;
    l.unindex(GridKey::NodeKey(node.node_key));
    let farm = node.farm;
    l.put_node(node);
    l.event(GridEventKind::NodeRemoved { node: id, farm });
    Ok(())
}
