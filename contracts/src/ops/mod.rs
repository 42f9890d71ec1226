//! One file per grid operation (PROTOCOL.md §7.3), each with its context-free check
//! (`shape`), its state checks and its effect (`apply`).

mod cancel;
mod claim;
mod register_farm;
mod register_node;
mod remove_node;
mod reserve;
mod top_up;
mod update_deployment;
mod update_node;

pub use claim::split;
pub use reserve::{free, min_rate, quote};

use crate::error::GridError;
use crate::ledger::Ledger;
use crate::params::GridContext;
use crate::state::{GridReads, GridView};
use tfchain_types::{Condition, GridOp, MultiSigCondition};

/// The context-free rules of `op` (names, zero amounts, owner kinds).
pub fn check_shape(op: &GridOp) -> Result<(), GridError> {
    match op {
        GridOp::RegisterFarm {
            name,
            owner,
            payout,
        } => register_farm::shape(name, owner, payout),
        GridOp::RegisterNode { capacity, .. } => register_node::shape(capacity),
        GridOp::UpdateNode {
            capacity,
            price,
            state,
            ..
        } => update_node::shape(capacity, price, state),
        GridOp::Reserve {
            resources, owner, ..
        } => reserve::shape(resources, owner),
        GridOp::TopUp { amount, .. } => top_up::shape(*amount),
        GridOp::UpdateDeployment { .. }
        | GridOp::Cancel { .. }
        | GridOp::RemoveNode { .. }
        | GridOp::Claim { .. } => Ok(()),
    }
}

/// The condition whose fulfilment `op` must carry (the farm's or the reservation's
/// owner), looked up in `view` as it stands before the op.
pub fn authority(
    view: &(impl GridView + ?Sized),
    op: &GridOp,
) -> Result<Option<Condition>, GridError> {
    let farm_owner = |farm| {
        view.farm(farm)
            .map(|f| f.owner)
            .ok_or(GridError::UnknownFarm(farm))
    };
    let node_farm = |node| {
        view.node(node)
            .map(|n| n.farm)
            .ok_or(GridError::UnknownNode(node))
    };
    let res_owner = |id| {
        view.reservation(id)
            .map(|r| r.owner)
            .ok_or(GridError::UnknownReservation(id))
    };
    Ok(match op {
        GridOp::RegisterFarm { .. } | GridOp::Reserve { .. } | GridOp::TopUp { .. } => None,
        GridOp::RegisterNode { farm, .. } => Some(farm_owner(*farm)?),
        GridOp::UpdateNode { node, .. }
        | GridOp::RemoveNode { node, .. }
        | GridOp::Claim { node, .. } => Some(farm_owner(node_farm(*node)?)?),
        GridOp::UpdateDeployment { reservation, .. } | GridOp::Cancel { reservation, .. } => {
            Some(res_owner(*reservation)?)
        }
    })
}

/// Applies one op whose shape and authorisation the caller has checked.
pub fn apply_op<V: GridView + ?Sized>(
    l: &mut Ledger<V>,
    op: &GridOp,
    ctx: &GridContext,
) -> Result<(), GridError> {
    match op {
        GridOp::RegisterFarm {
            name,
            owner,
            payout,
        } => register_farm::apply(l, name, owner, payout),
        GridOp::RegisterNode {
            farm,
            node_key,
            capacity,
            price,
            ..
        } => register_node::apply(l, *farm, node_key, capacity, price),
        GridOp::UpdateNode {
            node,
            capacity,
            price,
            state,
            ..
        } => update_node::apply(l, *node, capacity, price, state),
        GridOp::Reserve {
            node,
            resources,
            deposit,
            max_rate,
            deployment_hash,
            deployment_data,
            owner,
        } => reserve::apply(
            l,
            ctx,
            reserve::Request {
                node: *node,
                resources,
                deposit: *deposit,
                max_rate: *max_rate,
                deployment_hash,
                deployment_data,
                owner,
            },
        ),
        GridOp::TopUp {
            reservation,
            amount,
        } => top_up::apply(l, ctx, *reservation, *amount),
        GridOp::UpdateDeployment {
            reservation,
            deployment_hash,
            deployment_data,
            ..
        } => update_deployment::apply(l, *reservation, deployment_hash, deployment_data),
        GridOp::Cancel { reservation, .. } => cancel::apply(l, ctx, *reservation),
        GridOp::RemoveNode { node, .. } => remove_node::apply(l, ctx, *node),
        GridOp::Claim { node, .. } => claim::apply(l, ctx, *node),
    }
}

/// An owner is an account that can sign again and again: one key or a multisig.
pub(crate) fn check_owner(owner: &Condition) -> Result<(), GridError> {
    match owner {
        Condition::Address(a) if a.kind == tfchain_types::AddressKind::SingleKey => Ok(()),
        Condition::MultiSig(MultiSigCondition { .. }) => Ok(()),
        _ => Err(GridError::OwnerNotAccount),
    }
}
