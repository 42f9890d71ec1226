//! `Cancel { reservation, owner_auth }` (PROTOCOL.md §7.3): settles to the current height,
//! frees the capacity and refunds the rest of the escrow to the owner.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::settle;
use crate::state::GridView;
use tfchain_types::{EndReason, ReservationId};

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
    id: ReservationId,
) -> Result<(), GridError> {
    let mut r = l.reservation(id)?;
    if !r.is_live() {
        return Err(GridError::ReservationEnded(id));
    }
    let mut node = l.node(r.node)?;
    settle::unindex(l, &r, ctx);
    settle::end(l, &mut r, &mut node, EndReason::Cancelled, ctx)?;
    l.put_node(node);
    l.put_reservation(r);
    Ok(())
}
