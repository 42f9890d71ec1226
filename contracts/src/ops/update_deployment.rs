//! `UpdateDeployment { reservation, deployment_hash, deployment_data, owner_auth }`
//! (PROTOCOL.md §7.3): the owner (checked by the caller) changes what the node runs.

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::state::GridView;
use tfchain_types::{GridEventKind, Hash, ReservationId};

pub fn apply<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    id: ReservationId,
    deployment_hash: &Hash,
    deployment_data: &[u8],
) -> Result<(), GridError> {
    let mut r = l.reservation(id)?;
    if !r.is_live() {
        return Err(GridError::ReservationEnded(id));
    }
    r.deployment_hash = *deployment_hash;
    r.deployment_data = deployment_data.to_vec();
    l.event(GridEventKind::DeploymentUpdated {
        reservation: id,
        node: r.node,
        deployment_hash: *deployment_hash,
    });
    l.put_reservation(r);
    Ok(())
}
