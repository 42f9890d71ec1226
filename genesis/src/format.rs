//! The JSON genesis file (PROTOCOL.md §11), field for field. Every struct refuses unknown
//! fields, so a misspelt parameter is an error instead of a silently used default.
//!
//! Amounts are decimal strings of base units (1 TFT = 10^9), addresses their 78-hex string
//! form, conditions the serde JSON form of [`tfchain_types::Condition`], e.g.
//! `{"address": "01…"}` or `{"time_lock": {"until": 1000, "inner": {"address": "01…"}}}`.

use serde::{Deserialize, Serialize};
use tfchain_consensus::{ChainParams, GridSplit, Ratio};
use tfchain_types::{
    Address, BlockId, BlockStakes, Condition, Currency, FarmName, Fulfillment, GridOp, Output,
    Price, PublicKey, Resources, Signature, StakeOutput, Timestamp,
};

/// A genesis file as written on disk. [`crate::Genesis::new`] validates it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// Human name of the network (`dev`, `testnet`, ...): 1 to 64 of `[a-z0-9_-]`.
    pub network: String,
    /// Timestamp of the genesis block, Unix seconds.
    pub timestamp: Timestamp,
    /// Every parameter of PROTOCOL.md §9 but the fee address.
    pub params: NetworkParams,
    /// Receives block fees and the network's share of grid earnings (§5.5, §7.4); `null`
    /// or absent: fees go to each block's producer and grid earnings wholly to farmers.
    #[serde(default)]
    pub fee_address: Option<Address>,
    /// The initial coin outputs, in order.
    pub coin_outputs: Vec<CoinAllocation>,
    /// The initial blockstake outputs, in order. At least one is needed: without
    /// blockstakes nobody can ever produce a block.
    pub blockstake_outputs: Vec<StakeAllocation>,
    /// Initial farms of the capacity market with their nodes (§7, §11); they get ids
    /// 1, 2, … in this order, and their nodes ids 1, 2, … in order of appearance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub farms: Vec<FarmAllocation>,
}

/// An initial farm. The genesis is trusted like its allocations, so no owner signature
/// is needed (none could exist before the genesis ID).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarmAllocation {
    /// 1 to 64 of `[a-z0-9_-]`.
    pub name: FarmName,
    /// Who may register, update, remove and claim for the farm's nodes.
    pub owner: Condition,
    /// Receives the farmer's share of claimed earnings (a 0x01 address).
    pub payout: Address,
    #[serde(default)]
    pub nodes: Vec<NodeAllocation>,
}

/// An initial node of a farm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAllocation {
    /// The node's own key (hex): what its daemon signs with.
    pub node_key: PublicKey,
    /// `{"cru": .., "mru": .., "sru": .., "hru": .., "ipv4": ..}`.
    pub capacity: Resources,
    /// Base units per block per unit of each resource, as decimal strings.
    pub price: Price,
}

impl GenesisFile {
    /// The grid ops of the genesis transaction: each farm, then its nodes.
    pub fn grid_ops(&self) -> Vec<GridOp> {
        let mut ops = Vec::new();
        for (i, farm) in self.farms.iter().enumerate() {
            ops.push(GridOp::RegisterFarm {
                name: farm.name.clone(),
                owner: farm.owner.clone(),
                payout: farm.payout,
            });
            for node in &farm.nodes {
                ops.push(GridOp::RegisterNode {
                    farm: (i + 1) as u32,
                    node_key: node.node_key,
                    capacity: node.capacity,
                    price: node.price,
                    farm_auth: Fulfillment::MultiSignature(Vec::new()),
                    node_sig: Signature::ZERO,
                });
            }
        }
        ops
    }
}

/// An initial coin output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinAllocation {
    /// Base units, as a decimal string in JSON.
    pub value: Currency,
    pub condition: Condition,
}

/// An initial blockstake output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakeAllocation {
    pub value: BlockStakes,
    pub condition: Condition,
}

/// The network parameters of PROTOCOL.md §9 as the file holds them (the meaning of each is
/// documented on [`ChainParams`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkParams {
    pub block_time: u64,
    pub retarget_interval: u64,
    pub retarget_window: u64,
    /// A fraction `{"num": 5, "den": 4}`.
    #[serde(with = "RatioDef")]
    pub max_adjust: Ratio,
    pub future_threshold: u64,
    pub stake_modifier_delay: u64,
    pub stake_aging: u64,
    pub maturity_delay: u64,
    pub max_reorg_depth: u64,
    pub block_reward: Currency,
    pub min_fee: Currency,
    pub min_reservation_blocks: u64,
    pub grace_period: u64,
    /// `{"farmer_percent": 90}`.
    #[serde(with = "GridSplitDef")]
    pub grid_split: GridSplit,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Ratio", deny_unknown_fields)]
struct RatioDef {
    num: u64,
    den: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "GridSplit", deny_unknown_fields)]
struct GridSplitDef {
    farmer_percent: u8,
}

impl NetworkParams {
    /// The consensus parameters of a network, its genesis ID still zero.
    pub fn to_chain_params(&self, network: &str, fee_address: Option<Address>) -> ChainParams {
        // A struct literal (and the destructuring below): a new ChainParams field fails to
        // compile here until the file format carries it.
        ChainParams {
            network: network.to_string(),
            genesis_id: BlockId::ZERO,
            block_time: self.block_time,
            retarget_interval: self.retarget_interval,
            retarget_window: self.retarget_window,
            max_adjust: self.max_adjust,
            future_threshold: self.future_threshold,
            stake_modifier_delay: self.stake_modifier_delay,
            stake_aging: self.stake_aging,
            maturity_delay: self.maturity_delay,
            max_reorg_depth: self.max_reorg_depth,
            block_reward: self.block_reward,
            min_fee: self.min_fee,
            min_reservation_blocks: self.min_reservation_blocks,
            grace_period: self.grace_period,
            grid_split: self.grid_split,
            fee_address,
        }
    }

    /// The file form of `params` (its network name, genesis ID and fee address are
    /// separate fields of the file).
    pub fn from_chain_params(params: &ChainParams) -> Self {
        let ChainParams {
            network: _,
            genesis_id: _,
            block_time,
            retarget_interval,
            retarget_window,
            max_adjust,
            future_threshold,
            stake_modifier_delay,
            stake_aging,
            maturity_delay,
            max_reorg_depth,
            block_reward,
            min_fee,
            min_reservation_blocks,
            grace_period,
            grid_split,
            fee_address: _,
        } = params.clone();
        NetworkParams {
            block_time,
            retarget_interval,
            retarget_window,
            max_adjust,
            future_threshold,
            stake_modifier_delay,
            stake_aging,
            maturity_delay,
            max_reorg_depth,
            block_reward,
            min_fee,
            min_reservation_blocks,
            grace_period,
            grid_split,
        }
    }
}

impl From<&CoinAllocation> for Output {
    fn from(a: &CoinAllocation) -> Output {
        Output {
            value: a.value,
            condition: a.condition.clone(),
        }
    }
}

impl From<&StakeAllocation> for StakeOutput {
    fn from(a: &StakeAllocation) -> StakeOutput {
        StakeOutput {
            value: a.value,
            condition: a.condition.clone(),
        }
    }
}
