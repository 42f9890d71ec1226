//! `Claim { node, farm_auth }` (PROTOCOL.md §7.3, §7.4): settles the node's reservations
//! to the current height, then pays its earnings by the `grid_split`: the farmer's share to
//! the farm's payout address, the rest to `fee_address` (all to the farmer without one).

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::settle;
use crate::state::{GridReads, GridView};
use tfchain_types::{Condition, Currency, GridEventKind, NodeId};

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    ctx: &GridContext,
    id: NodeId,
) -> Result<(), GridError> {
    let mut node = l.node(id)?;
    let farm = l.farm(node.farm).ok_or(GridError::UnknownFarm(node.farm))?;
    for rid in l.node_reservations(id) {
        let mut r = l.reservation(rid)?;
        settle::settle(&mut r, &mut node, ctx.height)?;
        l.put_reservation(r);
    }
    let (farmer, network) = split(node.earnings, ctx)?;
    node.earnings = Currency::ZERO;
    l.pay(farmer, Condition::Address(farm.payout));
    if let Some(fee_address) = ctx.params.fee_address {
        l.pay(network, Condition::Address(fee_address));
    }
    l.put_node(node);
    l.event(GridEventKind::EarningsClaimed {
        node: id,
        farm: farm.id,
        farmer,
        network,
    });
    Ok(())
}

/// `(farmer, network)` shares of `earnings`: the farmer gets `earnings × percent / 100`
/// rounded down, the network the rest; without a fee address the farmer gets it all.
pub fn split(earnings: Currency, ctx: &GridContext) -> Result<(Currency, Currency), GridError> {
    if ctx.params.fee_address.is_none() {
        return Ok((earnings, Currency::ZERO));
    }
    let percent = u128::from(ctx.params.farmer_percent.min(100));
    // earnings × percent may overflow u128 for absurd amounts; split the division instead.
    let farmer = (earnings.0 / 100)
        .checked_mul(percent)
        .and_then(|a| a.checked_add((earnings.0 % 100) * percent / 100))
        .ok_or(GridError::Overflow)?;
    Ok((Currency(farmer), Currency(earnings.0 - farmer)))
}
