//! Why a grid operation is invalid: one variant per rule of PROTOCOL.md §7.

use tfchain_types::{Currency, FarmId, FarmName, NodeId, NodeState, ReservationId, Resources};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("farm name must be 1 to 64 characters of a-z, 0-9, '_' and '-'")]
    FarmNameInvalid,
    #[error("farm name \"{0}\" is already registered")]
    FarmNameTaken(FarmName),
    #[error("an owner must be a single-key address or a multisig condition")]
    OwnerNotAccount,
    #[error("a farm's payout address must be a single-key (0x01) address")]
    PayoutNotSingleKey,
    #[error("no farm with id {0}")]
    UnknownFarm(FarmId),
    #[error("no node with id {0}")]
    UnknownNode(NodeId),
    #[error("no reservation with id {0}")]
    UnknownReservation(ReservationId),
    #[error("a node's capacity must not be zero")]
    ZeroCapacity,
    #[error("this node key is already registered as node {0}")]
    NodeKeyTaken(NodeId),
    #[error("an update must change at least one of capacity, price or state")]
    EmptyUpdate,
    #[error("node {0} has been removed")]
    NodeRemoved(NodeId),
    #[error("capacity ({capacity}) is below what live reservations use ({used})")]
    CapacityBelowUsed {
        capacity: Resources,
        used: Resources,
    },
    #[error("a reservation must reserve some resources")]
    ZeroResources,
    #[error("node {node} is {state}: it takes no new reservations")]
    NodeNotUp { node: NodeId, state: NodeState },
    #[error("node {node} has {free} free, {requested} requested")]
    CapacityExceeded {
        node: NodeId,
        requested: Resources,
        free: Resources,
    },
    #[error("the rate overflows: price times resources is too large")]
    RateOverflow,
    #[error("the rate is zero: a reservation must cost something (the node's price for these resources is 0)")]
    ZeroRate,
    #[error("the rate {rate} per block is above max_rate {max_rate}: the price changed, ask for a new quote")]
    RateAboveMax { rate: Currency, max_rate: Currency },
    #[error("deposit {deposit} is below the minimum of {min} (rate x min_reservation_blocks)")]
    DepositTooSmall { deposit: Currency, min: Currency },
    #[error(
        "the rate {rate} per block is below {min}, the node's price for its whole capacity / \
         MAX_NODE_RESERVATIONS: a reservation must be worth at least that share of the node \
         (PROTOCOL.md §7.2)"
    )]
    RateBelowShare { rate: Currency, min: Currency },
    #[error(
        "a top-up in Grace must leave at least {min} in escrow (rate x min_reservation_blocks, \
         at least one block) to resume the reservation; it would leave {escrow}"
    )]
    TopUpTooSmall { escrow: Currency, min: Currency },
    #[error(
        "node {node} is already claimed in this block: at most one Claim per node per block \
         (PROTOCOL.md §7.3)"
    )]
    AlreadyClaimed { node: NodeId },
    #[error(
        "this block already settles {settled} reservations through Claim and RemoveNode; node \
         {node}'s {more} would pass the limit of {max} a block (PROTOCOL.md §8)"
    )]
    BlockSettlementsFull {
        node: NodeId,
        settled: u64,
        more: u64,
        max: u64,
    },
    #[error(
        "node {node} already holds {max} live reservations, the most one node may (PROTOCOL.md §8)"
    )]
    NodeFull { node: NodeId, max: u32 },
    #[error("a top-up must add more than zero")]
    ZeroAmount,
    #[error("reservation {0} has ended")]
    ReservationEnded(ReservationId),
    #[error("amounts overflow")]
    Overflow,
}

impl GridError {
    /// The rule's stable name for programs (the variant in snake_case, e.g.
    /// `"deposit_too_small"`): what RPC errors carry as `rule`. Never renamed.
    pub fn rule(&self) -> &'static str {
        match self {
            GridError::FarmNameInvalid => "farm_name_invalid",
            GridError::FarmNameTaken(_) => "farm_name_taken",
            GridError::OwnerNotAccount => "owner_not_account",
            GridError::PayoutNotSingleKey => "payout_not_single_key",
            GridError::UnknownFarm(_) => "unknown_farm",
            GridError::UnknownNode(_) => "unknown_node",
            GridError::UnknownReservation(_) => "unknown_reservation",
            GridError::ZeroCapacity => "zero_capacity",
            GridError::NodeKeyTaken(_) => "node_key_taken",
            GridError::EmptyUpdate => "empty_update",
            GridError::NodeRemoved(_) => "node_removed",
            GridError::CapacityBelowUsed { .. } => "capacity_below_used",
            GridError::ZeroResources => "zero_resources",
            GridError::NodeNotUp { .. } => "node_not_up",
            GridError::CapacityExceeded { .. } => "capacity_exceeded",
            GridError::RateOverflow => "rate_overflow",
            GridError::ZeroRate => "zero_rate",
            GridError::RateAboveMax { .. } => "rate_above_max",
            GridError::DepositTooSmall { .. } => "deposit_too_small",
            GridError::RateBelowShare { .. } => "rate_below_share",
            GridError::TopUpTooSmall { .. } => "top_up_too_small",
            GridError::AlreadyClaimed { .. } => "already_claimed",
            GridError::BlockSettlementsFull { .. } => "block_settlements_full",
            GridError::NodeFull { .. } => "node_full",
            GridError::ZeroAmount => "zero_amount",
            GridError::ReservationEnded(_) => "reservation_ended",
            GridError::Overflow => "overflow",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn rule_names_are_unique_snake_case() {
        let r = Resources::default();
        let c = Currency(1);
        let all = [
            GridError::FarmNameInvalid,
            GridError::FarmNameTaken(FarmName("a".into())),
            GridError::OwnerNotAccount,
            GridError::PayoutNotSingleKey,
            GridError::UnknownFarm(1),
            GridError::UnknownNode(1),
            GridError::UnknownReservation(1),
            GridError::ZeroCapacity,
            GridError::NodeKeyTaken(1),
            GridError::EmptyUpdate,
            GridError::NodeRemoved(1),
            GridError::CapacityBelowUsed {
                capacity: r,
                used: r,
            },
            GridError::ZeroResources,
            GridError::NodeNotUp {
                node: 1,
                state: NodeState::Down,
            },
            GridError::CapacityExceeded {
                node: 1,
                requested: r,
                free: r,
            },
            GridError::RateOverflow,
            GridError::ZeroRate,
            GridError::RateAboveMax {
                rate: c,
                max_rate: c,
            },
            GridError::DepositTooSmall { deposit: c, min: c },
            GridError::RateBelowShare { rate: c, min: c },
            GridError::TopUpTooSmall { escrow: c, min: c },
            GridError::AlreadyClaimed { node: 1 },
            GridError::BlockSettlementsFull {
                node: 1,
                settled: 1,
                more: 1,
                max: 1,
            },
            GridError::NodeFull { node: 1, max: 1 },
            GridError::ZeroAmount,
            GridError::ReservationEnded(1),
            GridError::Overflow,
        ];
        let names: BTreeSet<&str> = all.iter().map(GridError::rule).collect();
        assert_eq!(names.len(), all.len(), "two variants share a rule name");
        for n in names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n} is not snake_case"
            );
        }
        assert_eq!(
            GridError::DepositTooSmall { deposit: c, min: c }.rule(),
            "deposit_too_small"
        );
    }
}
