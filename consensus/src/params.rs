//! Network parameters (PROTOCOL.md §9). Every one comes from the genesis file (§11);
//! nothing here is a hidden constant.

use serde::{Deserialize, Serialize};
use tfchain_types::{Address, AddressKind, BlockId, Currency, Height};

/// A positive fraction `num / den`, used for `max_adjust`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

/// The farmer's and the network's shares of claimed earnings, in percent (§7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridSplit {
    pub farmer_percent: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainParams {
    /// Human name of the network (`dev`, `testnet`, ...).
    pub network: String,
    /// ID of the genesis block; bound into every signature hash (§4.2). Zero only while
    /// the genesis block itself is being built.
    pub genesis_id: BlockId,
    /// Target seconds between blocks.
    pub block_time: u64,
    pub retarget_interval: u64,
    pub retarget_window: u64,
    pub max_adjust: Ratio,
    pub future_threshold: u64,
    /// `D` of the stake modifier (§5.3), in blocks.
    pub stake_modifier_delay: u64,
    /// Seconds a blockstake output waits before it may win (§5.4).
    pub stake_aging: u64,
    /// Blocks before payouts are spendable (§5.6).
    pub maturity_delay: u64,
    pub max_reorg_depth: u64,
    pub block_reward: Currency,
    pub min_fee: Currency,
    pub min_reservation_blocks: u64,
    pub grace_period: u64,
    pub grid_split: GridSplit,
    /// Receives fees (and the network's share of grid earnings) when set (§5.5).
    pub fee_address: Option<Address>,
}

/// A parameter set that would break a rule of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("block_time must be at least 1 second")]
    BlockTimeZero,
    #[error("retarget_interval and retarget_window must be at least 1")]
    RetargetZero,
    #[error("max_adjust must be a fraction greater than 1 (num > den > 0)")]
    MaxAdjustInvalid,
    #[error("stake_modifier_delay must be at least 1 block")]
    ModifierDelayZero,
    #[error("stake_aging ({aging} s) must exceed stake_modifier_delay x block_time ({min} s) (PROTOCOL.md §5.4)")]
    StakeAgingTooShort { aging: u64, min: u64 },
    #[error("max_reorg_depth must be at least 1")]
    ReorgDepthZero,
    #[error("min_fee must be greater than zero (PROTOCOL.md §4.3.5)")]
    MinFeeZero,
    #[error("grid_split farmer share must be at most 100 percent")]
    GridSplitInvalid,
    #[error("fee_address must be a single-key (0x01) address")]
    FeeAddressNotSingleKey,
    #[error("future_threshold must be at least 1 second")]
    FutureThresholdZero,
}

impl ChainParams {
    /// Checks the relations between parameters that the protocol relies on.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.block_time == 0 {
            return Err(ParamsError::BlockTimeZero);
        }
        if self.retarget_interval == 0 || self.retarget_window == 0 {
            return Err(ParamsError::RetargetZero);
        }
        if self.max_adjust.den == 0 || self.max_adjust.num <= self.max_adjust.den {
            return Err(ParamsError::MaxAdjustInvalid);
        }
        if self.stake_modifier_delay == 0 {
            return Err(ParamsError::ModifierDelayZero);
        }
        let min = self.stake_modifier_delay.saturating_mul(self.block_time);
        if self.stake_aging <= min {
            return Err(ParamsError::StakeAgingTooShort {
                aging: self.stake_aging,
                min,
            });
        }
        if self.max_reorg_depth == 0 {
            return Err(ParamsError::ReorgDepthZero);
        }
        if self.min_fee.is_zero() {
            return Err(ParamsError::MinFeeZero);
        }
        if self.grid_split.farmer_percent > 100 {
            return Err(ParamsError::GridSplitInvalid);
        }
        if self.future_threshold == 0 {
            return Err(ParamsError::FutureThresholdZero);
        }
        if let Some(a) = &self.fee_address {
            if a.kind != AddressKind::SingleKey {
                return Err(ParamsError::FeeAddressNotSingleKey);
            }
        }
        Ok(())
    }

    /// The height from which a payout created at `height` is spendable (§5.6).
    pub fn payout_mature_at(&self, height: Height) -> Height {
        height.saturating_add(self.maturity_delay)
    }
}
