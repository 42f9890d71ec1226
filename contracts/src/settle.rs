//! Lazy, exact settlement and the expiry index (PROTOCOL.md §7.4). Nothing here loops over
//! all contracts: a block processes only the reservations indexed at its height.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::state::GridKey;
use crate::state::GridView;
use tfchain_types::{
    Currency, EndReason, GridEventKind, Height, Node, Reservation, ReservationState,
};

/// Moves what `r` owes up to `height` from its escrow to `node`'s earnings:
/// `min(escrow, rate × (height − settled_to))`. Only an Active reservation accrues.
pub fn settle(r: &mut Reservation, node: &mut Node, height: Height) -> Result<(), GridError> {
    if r.state != ReservationState::Active || height <= r.settled_to {
        return Ok(());
    }
    let blocks = u128::from(height - r.settled_to);
    let due = r.rate.checked_mul(blocks).unwrap_or(Currency(u128::MAX));
    let moved = due.min(r.escrow);
    r.escrow = Currency(r.escrow.0 - moved.0);
    node.earnings = node
        .earnings
        .checked_add(moved)
        .ok_or(GridError::Overflow)?;
    r.settled_to = height;
    Ok(())
}

/// The height at which `r` is next processed, if it is live: for an Active reservation the
/// block where its escrow runs out, `settled_to + escrow / rate` (at least one block on);
/// in Grace, `since + grace_period` (at least one block on).
pub fn index_height(r: &Reservation, ctx: &GridContext) -> Option<Height> {
    match r.state {
        ReservationState::Active => {
            // rate > 0 is a Reserve rule; a zero rate would never expire.
            let blocks = r.escrow.0.checked_div(r.rate.0)?;
            let blocks = u64::try_from(blocks).unwrap_or(u64::MAX).max(1);
            Some(r.settled_to.saturating_add(blocks))
        }
        ReservationState::Grace { since } => {
            Some(since.saturating_add(ctx.params.grace_period.max(1)))
        }
        ReservationState::Ended { .. } => None,
    }
}

/// Adds `r`'s expiry entry.
pub fn index<V: GridView + ?Sized>(l: &mut Ledger<V>, r: &Reservation, ctx: &GridContext) {
    if let Some(h) = index_height(r, ctx) {
        l.index(GridKey::Expiry(h, r.id));
    }
}

/// Removes `r`'s expiry entry (computed from `r` as it was indexed).
pub fn unindex<V: GridView + ?Sized>(l: &mut Ledger<V>, r: &Reservation, ctx: &GridContext) {
    if let Some(h) = index_height(r, ctx) {
        l.unindex(GridKey::Expiry(h, r.id));
    }
}

/// Ends a live reservation at `ctx.height`: settles it, frees its capacity, and pays the
/// remaining escrow to its owner (`refund`) or, for `OutOfFunds`, to the node's earnings.
/// The caller has already removed its expiry entry and writes `node` back.
pub fn end<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    r: &mut Reservation,
    node: &mut Node,
    reason: EndReason,
    ctx: &GridContext,
) -> Result<(), GridError> {
    settle(r, node, ctx.height)?;
    let rest = r.escrow;
    r.escrow = Currency::ZERO;
    let refund = if reason == EndReason::OutOfFunds {
        node.earnings = node.earnings.checked_add(rest).ok_or(GridError::Overflow)?;
        Currency::ZERO
    } else {
        l.pay(rest, r.owner.clone());
        rest
    };
    node.used = node
        .used
        .checked_sub(&r.resources)
        .ok_or(GridError::Overflow)?;
    node.reservations = node
        .reservations
        .checked_sub(1)
        .ok_or(GridError::Overflow)?;
    r.state = ReservationState::Ended {
        at: ctx.height,
        reason,
    };
    l.unindex(GridKey::NodeReservation(r.node, r.id));
    l.event(GridEventKind::ReservationEnded {
        reservation: r.id,
        node: r.node,
        reason,
        refund,
    });
    Ok(())
}

/// Processes the reservations indexed at `ctx.height` (run before the block's
/// transactions): Active → Grace, Grace past its period → Ended(OutOfFunds).
pub fn process_expiries<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
) -> Result<(), GridError> {
    use crate::state::GridReads;
    for id in l.expiring_at(ctx.height) {
        l.unindex(GridKey::Expiry(ctx.height, id));
        let mut r = l.reservation(id)?;
        let mut node = l.node(r.node)?;
        match r.state {
            ReservationState::Active => {
                settle(&mut r, &mut node, ctx.height)?;
                r.state = ReservationState::Grace { since: ctx.height };
                index(l, &r, ctx);
                l.event(GridEventKind::ReservationGrace {
                    reservation: id,
                    node: r.node,
                });
            }
            ReservationState::Grace { .. } => {
                end(l, &mut r, &mut node, EndReason::OutOfFunds, ctx)?;
            }
            ReservationState::Ended { .. } => continue,
        }
        l.put_node(node);
        l.put_reservation(r);
    }
    Ok(())
}
