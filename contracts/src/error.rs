//! Why a grid operation is invalid: one variant per rule of PROTOCOL.md §7.

use tfchain_types::{Currency, FarmId, FarmName, NodeId, NodeState, ReservationId, Resources};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("farm name must be 1 to 64 characters of a-z, 0-9, '_' and '-'")]
    FarmNameInvalid,
    #[error("farm name {0:?} is already registered")]
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
    #[error("capacity {capacity:?} is below what live reservations use ({used:?})")]
    CapacityBelowUsed {
        capacity: Resources,
        used: Resources,
    },
    #[error("a reservation must reserve some resources")]
    ZeroResources,
    #[error("node {node} is {state:?}: it takes no new reservations")]
    NodeNotUp { node: NodeId, state: NodeState },
    #[error("node {node} has {free:?} free, {requested:?} requested")]
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
    #[error("a top-up must add more than zero")]
    ZeroAmount,
    #[error("reservation {0} has ended")]
    ReservationEnded(ReservationId),
    #[error("amounts overflow")]
    Overflow,
}
