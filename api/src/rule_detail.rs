//! `data.detail` of a [`TX_INVALID`](crate::error::TX_INVALID) error: the values behind a
//! refused grid operation, as JSON with stable field names, so that programs (the wallet,
//! farmer tools) never parse the message. Currency is a decimal string, resources are
//! `{cru, mru, sru, hru, ipv4}` (PROTOCOL.md §2). Rules without values have no detail.
//!
//! | rule | detail |
//! |---|---|
//! | `farm_name_taken` | `{name}` |
//! | `unknown_farm` | `{farm}` |
//! | `unknown_node`, `node_removed` | `{node}` |
//! | `node_key_taken` | `{node}`: the node that holds the key |
//! | `unknown_reservation`, `reservation_ended` | `{reservation}` |
//! | `capacity_below_used` | `{capacity, used}` |
//! | `node_not_up` | `{node, state}` (`"down"` or `"removed"`) |
//! | `capacity_exceeded` | `{node, free, requested}` |
//! | `rate_above_max` | `{rate, max_rate}` |
//! | `deposit_too_small` | `{deposit, min}` |
//! | `node_full` | `{node, max}` |
//! | `rate_below_share` | `{rate, min}` |
//! | `top_up_too_small` | `{escrow, min}` |
//! | `already_claimed` | `{node}` |
//! | `block_settlements_full` | `{node, settled, more, max}` |

use serde_json::{json, Value};
use tfchain_consensus::TxError;
use tfchain_contracts::GridError;

/// The detail of `err` when it is a grid operation's own rule with values.
pub fn tx_detail(err: &TxError) -> Option<Value> {
    match err {
        TxError::Grid { source, .. } | TxError::GridShape { source, .. } => grid_detail(source),
        _ => None,
    }
}

/// The values of a grid rule that carries any.
pub fn grid_detail(e: &GridError) -> Option<Value> {
    use GridError::*;
    Some(match e {
        FarmNameTaken(name) => json!({ "name": name }),
        UnknownFarm(farm) => json!({ "farm": farm }),
        UnknownNode(node) | NodeRemoved(node) | NodeKeyTaken(node) => json!({ "node": node }),
        UnknownReservation(r) | ReservationEnded(r) => json!({ "reservation": r }),
        CapacityBelowUsed { capacity, used } => json!({ "capacity": capacity, "used": used }),
        NodeNotUp { node, state } => json!({ "node": node, "state": state }),
        CapacityExceeded {
            node,
            requested,
            free,
        } => json!({ "node": node, "free": free, "requested": requested }),
        RateAboveMax { rate, max_rate } => json!({ "rate": rate, "max_rate": max_rate }),
        DepositTooSmall { deposit, min } => json!({ "deposit": deposit, "min": min }),
        NodeFull { node, max } => json!({ "node": node, "max": max }),
        RateBelowShare { rate, min } => json!({ "rate": rate, "min": min }),
        TopUpTooSmall { escrow, min } => json!({ "escrow": escrow, "min": min }),
        AlreadyClaimed { node } => json!({ "node": node }),
        BlockSettlementsFull {
            node,
            settled,
            more,
            max,
        } => json!({ "node": node, "settled": settled, "more": more, "max": max }),
        FarmNameInvalid | OwnerNotAccount | PayoutNotSingleKey | ZeroCapacity | EmptyUpdate
        | ZeroResources | RateOverflow | ZeroRate | ZeroAmount | Overflow => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::{Currency, NodeState, Resources};

    #[test]
    fn details_have_stable_field_names_and_json_amounts() {
        let r = |cru| Resources {
            cru,
            ..Resources::ZERO
        };
        assert_eq!(
            grid_detail(&GridError::CapacityExceeded {
                node: 2,
                requested: r(4),
                free: r(1),
            }),
            Some(json!({
                "node": 2,
                "free": {"cru": 1, "mru": 0, "sru": 0, "hru": 0, "ipv4": 0},
                "requested": {"cru": 4, "mru": 0, "sru": 0, "hru": 0, "ipv4": 0},
            }))
        );
        assert_eq!(
            grid_detail(&GridError::DepositTooSmall {
                deposit: Currency(5),
                min: Currency(10),
            }),
            Some(json!({"deposit": "5", "min": "10"})),
            "amounts are decimal strings of the base unit (PROTOCOL.md §2)"
        );
        assert_eq!(
            grid_detail(&GridError::NodeNotUp {
                node: 7,
                state: NodeState::Down,
            }),
            Some(json!({"node": 7, "state": "down"}))
        );
        assert_eq!(grid_detail(&GridError::ZeroResources), None);
        let tx = TxError::Grid {
            index: 0,
            op: "reserve",
            source: GridError::UnknownNode(9),
        };
        assert_eq!(tx_detail(&tx), Some(json!({"node": 9})));
        assert_eq!(tx_detail(&TxError::Overflow), None);
    }
}
