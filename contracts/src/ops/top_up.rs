//! `TopUp { reservation, amount }` (PROTOCOL.md §7.3, §7.4): anyone may fund a live
//! reservation; one in Grace resumes at the current height, with no charge for the grace,
//! only when the top-up leaves at least `rate × max(1, min_reservation_blocks)` in escrow
//! (what a new reservation's deposit must cover); a smaller one is refused.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::settle;
use crate::state::GridView;
use tfchain_types::{Currency, GridEventKind, ReservationId, ReservationState};

pub fn shape(amount: Currency) -> Result<(), GridError> {
    if amount.is_zero() {
        return Err(GridError::ZeroAmount);
    }
    Ok(())
}

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
    id: ReservationId,
    amount: Currency,
) -> Result<(), GridError> {
    let mut r = l.reservation(id)?;
    let mut node = l.node(r.node)?;
    settle::unindex(l, &r, ctx);
    let resumed = match r.state {
        ReservationState::Ended { .. } => return Err(GridError::ReservationEnded(id)),
        ReservationState::Active => {
            settle::settle(&mut r, &mut node, ctx.height)?;
            false
        }
        ReservationState::Grace { .. } => {
            let min = resume_min(&r, ctx);
            let escrow = r.escrow.checked_add(amount).ok_or(GridError::Overflow)?;
            if escrow < min {
                return Err(GridError::TopUpTooSmall { escrow, min });
            }
            r.state = ReservationState::Active;
            r.settled_to = ctx.height;
            true
        }
    };
    r.escrow = r.escrow.checked_add(amount).ok_or(GridError::Overflow)?;
    settle::index(l, &r, ctx);
    l.event(GridEventKind::ReservationFunded {
        reservation: id,
        node: r.node,
        amount,
        escrow: r.escrow,
    });
    if resumed {
        l.event(GridEventKind::ReservationResumed {
            reservation: id,
            node: r.node,
        });
    }
    l.put_node(node);
    l.put_reservation(r);
    Ok(())
}

/// What a reservation in Grace must hold after a top-up to resume (§7.3): its rate for
/// `min_reservation_blocks`, and never less than one block.
pub fn resume_min(r: &tfchain_types::Reservation, ctx: &GridContext) -> Currency {
    r.rate
        .checked_mul(u128::from(ctx.params.min_reservation_blocks.max(1)))
        .unwrap_or(Currency(u128::MAX))
}
