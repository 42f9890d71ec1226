//! The capacity market's data (PROTOCOL.md §7): resources and prices, the operations a
//! transaction carries (`GridOp`, §7.3), the registry and reservation records (§7.1, §7.2)
//! and the events applying a block yields (§7.5). The rules live in `tfchain-contracts`.

use crate::address::Address;
use crate::condition::{Condition, Fulfillment};
use crate::currency::Currency;
use crate::hash::{Hash, TxId};
use crate::keys::{PublicKey, Signature};
use crate::transaction::Height;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub type FarmId = u32;
pub type NodeId = u32;
pub type ReservationId = u64;

/// Longest farm name, in bytes (§7.1).
pub const MAX_FARM_NAME: usize = 64;
/// Largest `deployment_data` (§8).
pub const MAX_DEPLOYMENT_DATA: usize = 512;
/// Most grid operations in one transaction (§8).
pub const MAX_GRID_OPS: usize = 16;
/// Most live reservations one node holds (§8): bounds the work of the ops that touch all
/// of a node's reservations (`Claim`, `RemoveNode`), so no op costs more than a bounded
/// number of settlements however much capacity a node declares.
pub const MAX_NODE_RESERVATIONS: u32 = 1_024;
/// Most live reservations one block may settle through `Claim` and `RemoveNode` together
/// (PROTOCOL.md §8): 64 full nodes. Bounds what a block of claims costs to validate.
pub const MAX_BLOCK_SETTLEMENTS: u64 = 64 * MAX_NODE_RESERVATIONS as u64;

/// An amount of capacity (§7.1): cores, GiB of memory, SSD and HDD, IPv4 addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub cru: u32,
    pub mru: u32,
    pub sru: u32,
    pub hru: u32,
    pub ipv4: u16,
}

impl Resources {
    pub const ZERO: Resources = Resources {
        cru: 0,
        mru: 0,
        sru: 0,
        hru: 0,
        ipv4: 0,
    };

    pub fn is_zero(&self) -> bool {
        *self == Resources::ZERO
    }

    pub fn checked_add(&self, o: &Resources) -> Option<Resources> {
        Some(Resources {
            cru: self.cru.checked_add(o.cru)?,
            mru: self.mru.checked_add(o.mru)?,
            sru: self.sru.checked_add(o.sru)?,
            hru: self.hru.checked_add(o.hru)?,
            ipv4: self.ipv4.checked_add(o.ipv4)?,
        })
    }

    pub fn checked_sub(&self, o: &Resources) -> Option<Resources> {
        Some(Resources {
            cru: self.cru.checked_sub(o.cru)?,
            mru: self.mru.checked_sub(o.mru)?,
            sru: self.sru.checked_sub(o.sru)?,
            hru: self.hru.checked_sub(o.hru)?,
            ipv4: self.ipv4.checked_sub(o.ipv4)?,
        })
    }

    /// Whether every field of `self` is at most the same field of `o`.
    pub fn fits_within(&self, o: &Resources) -> bool {
        self.cru <= o.cru
            && self.mru <= o.mru
            && self.sru <= o.sru
            && self.hru <= o.hru
            && self.ipv4 <= o.ipv4
    }
}

/// Base units per block for one unit of each resource (§7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub cru: Currency,
    pub mru: Currency,
    pub sru: Currency,
    pub hru: Currency,
    pub ipv4: Currency,
}

impl Price {
    /// `Σ price.x × resources.x`, base units per block; `None` on overflow.
    pub fn rate(&self, r: &Resources) -> Option<Currency> {
        let terms = [
            self.cru.checked_mul(u128::from(r.cru))?,
            self.mru.checked_mul(u128::from(r.mru))?,
            self.sru.checked_mul(u128::from(r.sru))?,
            self.hru.checked_mul(u128::from(r.hru))?,
            self.ipv4.checked_mul(u128::from(r.ipv4))?,
        ];
        Currency::checked_sum(terms)
    }
}

/// `2 cru, 4 mru, 50 sru`: the non-zero fields (`nothing` when all are zero).
impl std::fmt::Display for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields = [
            ("cru", u64::from(self.cru)),
            ("mru", u64::from(self.mru)),
            ("sru", u64::from(self.sru)),
            ("hru", u64::from(self.hru)),
            ("ipv4", u64::from(self.ipv4)),
        ];
        let mut first = true;
        for (name, v) in fields.iter().filter(|(_, v)| *v > 0) {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{v} {name}")?;
            first = false;
        }
        if first {
            f.write_str("nothing")?;
        }
        Ok(())
    }
}

/// Whether a node takes new reservations (§7.1). `Removed` is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    Up,
    Down,
    Removed,
}

/// `up`, `down`, `removed` (as in JSON).
impl std::fmt::Display for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NodeState::Up => "up",
            NodeState::Down => "down",
            NodeState::Removed => "removed",
        })
    }
}

/// The states `UpdateNode` may set: removal is its own operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Up,
    Down,
}

impl From<Availability> for NodeState {
    fn from(a: Availability) -> NodeState {
        match a {
            Availability::Up => NodeState::Up,
            Availability::Down => NodeState::Down,
        }
    }
}

/// A farm name: 1 to 64 of `[a-z0-9_-]` (checked by the rules, bounded by the decoder).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FarmName(pub String);

impl FarmName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the name follows §7.1.
    pub fn is_valid(&self) -> bool {
        !self.0.is_empty()
            && self.0.len() <= MAX_FARM_NAME
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }
}

impl std::fmt::Display for FarmName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FarmName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.0)
        } else {
            self.0.as_bytes().serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for FarmName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = if d.is_human_readable() {
            String::deserialize(d)?.into_bytes()
        } else {
            crate::codec::bounded::<D, u8, MAX_FARM_NAME>(d)?
        };
        if bytes.len() > MAX_FARM_NAME {
            return Err(D::Error::custom(format!(
                "farm name is {} bytes, the limit is {MAX_FARM_NAME}",
                bytes.len()
            )));
        }
        String::from_utf8(bytes)
            .map(FarmName)
            .map_err(|_| D::Error::custom("farm name is not UTF-8"))
    }
}

mod deployment_data {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        crate::bytes_vec::serialize(bytes, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        crate::bytes_vec::deserialize_max::<D, { super::MAX_DEPLOYMENT_DATA }>(d)
    }
}

/// A capacity-market operation carried by a transaction (§7.3). `farm_auth` and
/// `owner_auth` fulfil the farm owner's or reservation owner's condition over the
/// transaction's sighash; `node_sig` is the node key's signature over the same sighash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridOp {
    RegisterFarm {
        name: FarmName,
        owner: Condition,
        payout: Address,
    },
    RegisterNode {
        farm: FarmId,
        node_key: PublicKey,
        capacity: Resources,
        price: Price,
        farm_auth: Fulfillment,
        node_sig: Signature,
    },
    UpdateNode {
        node: NodeId,
        capacity: Option<Resources>,
        price: Option<Price>,
        state: Option<Availability>,
        farm_auth: Fulfillment,
    },
    Reserve {
        node: NodeId,
        resources: Resources,
        deposit: Currency,
        max_rate: Currency,
        deployment_hash: Hash,
        #[serde(with = "deployment_data")]
        deployment_data: Vec<u8>,
        owner: Condition,
    },
    TopUp {
        reservation: ReservationId,
        amount: Currency,
    },
    UpdateDeployment {
        reservation: ReservationId,
        deployment_hash: Hash,
        #[serde(with = "deployment_data")]
        deployment_data: Vec<u8>,
        owner_auth: Fulfillment,
    },
    Cancel {
        reservation: ReservationId,
        owner_auth: Fulfillment,
    },
    RemoveNode {
        node: NodeId,
        farm_auth: Fulfillment,
    },
    Claim {
        node: NodeId,
        farm_auth: Fulfillment,
    },
}

impl GridOp {
    /// The coins this op moves from the transaction's inputs into escrow (§4.3.4).
    pub fn deposit(&self) -> Currency {
        match self {
            GridOp::Reserve { deposit, .. } => *deposit,
            GridOp::TopUp { amount, .. } => *amount,
            _ => Currency::ZERO,
        }
    }

    /// The op's name as the events and errors spell it.
    pub fn name(&self) -> &'static str {
        match self {
            GridOp::RegisterFarm { .. } => "register_farm",
            GridOp::RegisterNode { .. } => "register_node",
            GridOp::UpdateNode { .. } => "update_node",
            GridOp::Reserve { .. } => "reserve",
            GridOp::TopUp { .. } => "top_up",
            GridOp::UpdateDeployment { .. } => "update_deployment",
            GridOp::Cancel { .. } => "cancel",
            GridOp::RemoveNode { .. } => "remove_node",
            GridOp::Claim { .. } => "claim",
        }
    }

    /// The op with every signature blanked (§4.2 `unsigned`): its authorisation and a
    /// `RegisterNode`'s `node_sig`.
    pub fn blanked(&self) -> GridOp {
        let mut op = self.clone();
        if let Some(f) = op.authorization_mut() {
            *f = f.blanked();
        }
        if let Some((_, sig)) = op.node_sig_mut() {
            *sig = Signature::ZERO;
        }
        op
    }

    /// The owner's fulfilment this op carries, if it needs one.
    pub fn authorization(&self) -> Option<&Fulfillment> {
        match self {
            GridOp::RegisterNode { farm_auth, .. }
            | GridOp::UpdateNode { farm_auth, .. }
            | GridOp::RemoveNode { farm_auth, .. }
            | GridOp::Claim { farm_auth, .. } => Some(farm_auth),
            GridOp::UpdateDeployment { owner_auth, .. } | GridOp::Cancel { owner_auth, .. } => {
                Some(owner_auth)
            }
            GridOp::RegisterFarm { .. } | GridOp::Reserve { .. } | GridOp::TopUp { .. } => None,
        }
    }

    /// [`GridOp::authorization`], to fill in or blank.
    pub fn authorization_mut(&mut self) -> Option<&mut Fulfillment> {
        match self {
            GridOp::RegisterNode { farm_auth, .. }
            | GridOp::UpdateNode { farm_auth, .. }
            | GridOp::RemoveNode { farm_auth, .. }
            | GridOp::Claim { farm_auth, .. } => Some(farm_auth),
            GridOp::UpdateDeployment { owner_auth, .. } | GridOp::Cancel { owner_auth, .. } => {
                Some(owner_auth)
            }
            GridOp::RegisterFarm { .. } | GridOp::Reserve { .. } | GridOp::TopUp { .. } => None,
        }
    }

    /// A `RegisterNode`'s node key and its signature slot (§7.3 `node_sig`).
    pub fn node_sig_mut(&mut self) -> Option<(&PublicKey, &mut Signature)> {
        match self {
            GridOp::RegisterNode {
                node_key, node_sig, ..
            } => Some((&*node_key, node_sig)),
            _ => None,
        }
    }
}

/// A registered farm (§7.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Farm {
    pub id: FarmId,
    pub name: FarmName,
    pub owner: Condition,
    pub payout: Address,
}

/// A registered node (§7.1) with its unclaimed earnings (§7.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub farm: FarmId,
    pub node_key: PublicKey,
    pub capacity: Resources,
    pub price: Price,
    /// Σ resources of the node's reservations that have not ended.
    pub used: Resources,
    /// How many of its reservations have not ended (at most `MAX_NODE_RESERVATIONS`).
    pub reservations: u32,
    pub state: NodeState,
    /// Settled but not yet claimed.
    pub earnings: Currency,
}

/// Why a reservation ended (§7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Cancelled,
    OutOfFunds,
    NodeRemoved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    Active,
    /// Out of funds since `since`: capacity stays reserved, nothing accrues.
    Grace {
        since: Height,
    },
    Ended {
        at: Height,
        reason: EndReason,
    },
}

/// A reservation contract (§7.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub owner: Condition,
    pub node: NodeId,
    pub resources: Resources,
    /// Base units per block, fixed when the reservation was made.
    pub rate: Currency,
    pub escrow: Currency,
    pub settled_to: Height,
    pub deployment_hash: Hash,
    #[serde(with = "deployment_data")]
    pub deployment_data: Vec<u8>,
    pub state: ReservationState,
}

impl Reservation {
    /// Not ended: holds capacity on its node.
    pub fn is_live(&self) -> bool {
        !matches!(self.state, ReservationState::Ended { .. })
    }
}

/// What happened in the capacity market (§7.5). Every reservation event names its node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridEventKind {
    FarmRegistered {
        farm: FarmId,
    },
    NodeRegistered {
        node: NodeId,
        farm: FarmId,
    },
    NodeUpdated {
        node: NodeId,
        farm: FarmId,
    },
    NodeRemoved {
        node: NodeId,
        farm: FarmId,
    },
    ReservationCreated {
        reservation: ReservationId,
        node: NodeId,
        resources: Resources,
        rate: Currency,
        deployment_hash: Hash,
    },
    ReservationFunded {
        reservation: ReservationId,
        node: NodeId,
        amount: Currency,
        escrow: Currency,
    },
    DeploymentUpdated {
        reservation: ReservationId,
        node: NodeId,
        deployment_hash: Hash,
    },
    ReservationGrace {
        reservation: ReservationId,
        node: NodeId,
    },
    ReservationResumed {
        reservation: ReservationId,
        node: NodeId,
    },
    ReservationEnded {
        reservation: ReservationId,
        node: NodeId,
        reason: EndReason,
        /// Escrow returned to the owner.
        refund: Currency,
    },
    EarningsClaimed {
        node: NodeId,
        farm: FarmId,
        farmer: Currency,
        network: Currency,
    },
}

impl GridEventKind {
    /// The node the event concerns, if any.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            GridEventKind::FarmRegistered { .. } => None,
            GridEventKind::NodeRegistered { node, .. }
            | GridEventKind::NodeUpdated { node, .. }
            | GridEventKind::NodeRemoved { node, .. }
            | GridEventKind::ReservationCreated { node, .. }
            | GridEventKind::ReservationFunded { node, .. }
            | GridEventKind::DeploymentUpdated { node, .. }
            | GridEventKind::ReservationGrace { node, .. }
            | GridEventKind::ReservationResumed { node, .. }
            | GridEventKind::ReservationEnded { node, .. }
            | GridEventKind::EarningsClaimed { node, .. } => Some(*node),
        }
    }

    /// The reservation the event concerns, if any.
    pub fn reservation(&self) -> Option<ReservationId> {
        match self {
            GridEventKind::ReservationCreated { reservation, .. }
            | GridEventKind::ReservationFunded { reservation, .. }
            | GridEventKind::DeploymentUpdated { reservation, .. }
            | GridEventKind::ReservationGrace { reservation, .. }
            | GridEventKind::ReservationResumed { reservation, .. }
            | GridEventKind::ReservationEnded { reservation, .. } => Some(*reservation),
            _ => None,
        }
    }

    /// The farm the event concerns, if it names one.
    pub fn farm(&self) -> Option<FarmId> {
        match self {
            GridEventKind::FarmRegistered { farm }
            | GridEventKind::NodeRegistered { farm, .. }
            | GridEventKind::NodeUpdated { farm, .. }
            | GridEventKind::NodeRemoved { farm, .. }
            | GridEventKind::EarningsClaimed { farm, .. } => Some(*farm),
            _ => None,
        }
    }
}

/// An event with the transaction that caused it (`None`: the block itself, e.g. expiry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridEvent {
    pub txid: Option<TxId>,
    pub kind: GridEventKind,
}
