//! `RegisterFarm { name, owner, payout }` (PROTOCOL.md §7.3): a new farm with the next id.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::state::{GridKey, GridReads, GridValue, GridView};
use tfchain_types::{Address, AddressKind, Condition, Farm, FarmName, GridEventKind};

pub fn shape(name: &FarmName, owner: &Condition, payout: &Address) -> Result<(), GridError> {
    if !name.is_valid() {
        return Err(GridError::FarmNameInvalid);
    }
    super::check_owner(owner)?;
    if payout.kind != AddressKind::SingleKey {
        return Err(GridError::PayoutNotSingleKey);
    }
    Ok(())
}

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    name: &FarmName,
    owner: &Condition,
    payout: &Address,
) -> Result<(), GridError> {
    if l.farm_by_name(name).is_some() {
        return Err(GridError::FarmNameTaken(name.clone()));
    }
    let mut counters = l.counters();
    counters.farms = counters.farms.checked_add(1).ok_or(GridError::Overflow)?;
    let id = counters.farms;
    l.set_counters(counters);
    l.state
        .put(GridKey::FarmName(name.clone()), GridValue::FarmId(id));
    l.put_farm(Farm {
        id,
        name: name.clone(),
        owner: owner.clone(),
        payout: *payout,
    });
    l.event(GridEventKind::FarmRegistered { farm: id });
    Ok(())
}
