//! `Reserve { node, resources, deposit, max_rate, deployment_hash, deployment_data, owner }`
//! (PROTOCOL.md §7.3): the chain enforces capacity; the rate is fixed from the node's price;
//! the deposit (paid from the transaction's coin inputs, §4.3.4) covers at least
//! `min_reservation_blocks`; the rate is at least the node's whole capacity at its price
//! divided by `MAX_NODE_RESERVATIONS` (§7.2), so a node's slots cost what the node does.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::settle;
use crate::state::{GridKey, GridValue, GridView};
use tfchain_types::grid::MAX_NODE_RESERVATIONS;
use tfchain_types::{
    Condition, Currency, GridEventKind, Hash, NodeId, NodeState, Reservation, ReservationState,
    Resources,
};

pub fn shape(resources: &Resources, owner: &Condition) -> Result<(), GridError> {
    if resources.is_zero() {
        return Err(GridError::ZeroResources);
    }
    super::check_owner(owner)
}

#[derive(Debug)]
pub struct Request<'a> {
    pub node: NodeId,
    pub resources: &'a Resources,
    pub deposit: Currency,
    pub max_rate: Currency,
    pub deployment_hash: &'a Hash,
    pub deployment_data: &'a [u8],
    pub owner: &'a Condition,
}

/// The rate and minimum deposit of reserving `resources` at `price` (what `grid_quote`
/// shows and what `apply` checks).
pub fn quote(
    price: &tfchain_types::Price,
    resources: &Resources,
    min_reservation_blocks: u64,
) -> Result<(Currency, Currency), GridError> {
    let rate = price.rate(resources).ok_or(GridError::RateOverflow)?;
    if rate.is_zero() {
        return Err(GridError::ZeroRate);
    }
    let min = rate
        .checked_mul(u128::from(min_reservation_blocks))
        .ok_or(GridError::RateOverflow)?;
    Ok((rate, min))
}

/// The least rate a new reservation on a node with `capacity` and `price` may have (§7.2):
/// `ceil(price · capacity / MAX_NODE_RESERVATIONS)`. Holding all of a node's reservation
/// slots then costs at least as much per block as reserving the whole node.
pub fn min_rate(capacity: &Resources, price: &tfchain_types::Price) -> Result<Currency, GridError> {
    let whole = price.rate(capacity).ok_or(GridError::RateOverflow)?;
    Ok(Currency(
        whole.0.div_ceil(u128::from(MAX_NODE_RESERVATIONS)),
    ))
}

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
    req: Request,
) -> Result<(), GridError> {
    let mut node = l.node(req.node)?;
    if node.state != NodeState::Up {
        return Err(GridError::NodeNotUp {
            node: node.id,
            state: node.state,
        });
    }
    if node.reservations >= MAX_NODE_RESERVATIONS {
        return Err(GridError::NodeFull {
            node: node.id,
            max: MAX_NODE_RESERVATIONS,
        });
    }
    let used = node
        .used
        .checked_add(req.resources)
        .filter(|u| u.fits_within(&node.capacity))
        .ok_or_else(|| GridError::CapacityExceeded {
            node: node.id,
            requested: *req.resources,
            free: free(&node.capacity, &node.used),
        })?;
    let (rate, min) = quote(
        &node.price,
        req.resources,
        ctx.params.min_reservation_blocks,
    )?;
    let least = min_rate(&node.capacity, &node.price)?;
    if rate < least {
        return Err(GridError::RateBelowShare { rate, min: least });
    }
    if rate > req.max_rate {
        return Err(GridError::RateAboveMax {
            rate,
            max_rate: req.max_rate,
        });
    }
    if req.deposit < min {
        return Err(GridError::DepositTooSmall {
            deposit: req.deposit,
            min,
        });
    }
    let mut counters = l.counters();
    counters.reservations = counters
        .reservations
        .checked_add(1)
        .ok_or(GridError::Overflow)?;
    let id = counters.reservations;
    l.set_counters(counters);
    let r = Reservation {
        id,
        owner: req.owner.clone(),
        node: node.id,
        resources: *req.resources,
        rate,
        escrow: req.deposit,
        settled_to: ctx.height,
        deployment_hash: *req.deployment_hash,
        deployment_data: req.deployment_data.to_vec(),
        state: ReservationState::Active,
    };
    node.used = used;
    node.reservations += 1;
    // Every key naming the new id is fresh.
    if let Some(h) = settle::index_height(&r, ctx) {
        l.index_fresh(GridKey::Expiry(h, id));
    }
    l.index_fresh(GridKey::NodeReservation(node.id, id));
    l.index_fresh(GridKey::OwnerReservation(req.owner.address(), id));
    l.event(GridEventKind::ReservationCreated {
        reservation: id,
        node: node.id,
        resources: *req.resources,
        rate,
        deployment_hash: *req.deployment_hash,
    });
    l.put_node(node);
    l.state
        .put_fresh(GridKey::Reservation(id), GridValue::Reservation(r));
    Ok(())
}

/// Capacity not used, field by field.
pub fn free(capacity: &Resources, used: &Resources) -> Resources {
    Resources {
        cru: capacity.cru.saturating_sub(used.cru),
        mru: capacity.mru.saturating_sub(used.mru),
        sru: capacity.sru.saturating_sub(used.sru),
        hru: capacity.hru.saturating_sub(used.hru),
        ipv4: capacity.ipv4.saturating_sub(used.ipv4),
    }
}
