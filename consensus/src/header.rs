//! Header validity (PROTOCOL.md §5.7 rules 1–4): everything that can be checked before the
//! body is downloaded or relayed. The clock rule comes last, so a block held for being early
//! has passed every other header rule.

use crate::error::BlockError;
use crate::fulfillment::{lock_passed, SpendContext};
use crate::lottery::{eligible_from, stake_modifier, wins};
use crate::params::ChainParams;
use crate::state::{StakeEntry, StateView};
use tfchain_types::{Address, AddressKind, BlockHeader, Signature, Timestamp, BLOCK_VERSION};

/// Whether to verify signatures. `AlreadyVerified` is only for blocks this node has
/// verified before (re-applied on a reorg), never a shortcut for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    Verify,
    AlreadyVerified,
}

/// The median of the timestamps of the tip and its ancestors, up to 11 blocks.
pub fn median_time_past(view: &impl StateView) -> Timestamp {
    let tip = view.tip();
    let mut ts: Vec<Timestamp> = (0..11u64)
        .filter_map(|i| tip.height.checked_sub(i))
        .filter_map(|h| view.block_at(h).map(|m| m.timestamp))
        .collect();
    ts.sort_unstable();
    ts.get(ts.len() / 2).copied().unwrap_or(tip.timestamp)
}

/// Checks rules 1–4 of §5.7 for a child of `view`'s tip. Returns the stake output.
pub fn check_header(
    view: &impl StateView,
    header: &BlockHeader,
    signature: &Signature,
    params: &ChainParams,
    now: Timestamp,
    sigs: Signatures,
) -> Result<StakeEntry, BlockError> {
    let tip = view.tip();
    if header.version != BLOCK_VERSION {
        return Err(BlockError::UnsupportedVersion(header.version));
    }
    if header.parent != tip.id {
        return Err(BlockError::WrongParent {
            got: header.parent,
            tip: tip.id,
        });
    }
    let expected = tip.height + 1;
    if header.height != expected {
        return Err(BlockError::WrongHeight {
            got: header.height,
            expected,
        });
    }
    let t = header.timestamp;
    if t <= tip.timestamp {
        return Err(BlockError::TimestampNotAfterParent {
            timestamp: t,
            parent: tip.timestamp,
        });
    }
    let median = median_time_past(view);
    if t < median {
        return Err(BlockError::TimestampBeforeMedian {
            timestamp: t,
            median,
        });
    }
    if header.reward_address.kind != AddressKind::SingleKey {
        return Err(BlockError::RewardAddressInvalid);
    }

    let stake = view
        .stake(&header.stake_output)
        .ok_or(BlockError::StakeOutputNotFound(header.stake_output))?;
    let eligible_at = eligible_from(&stake, params);
    if t < eligible_at {
        return Err(BlockError::StakeOutputNotEligible {
            output: header.stake_output,
            eligible_at,
        });
    }
    let (owner, lock) = stake
        .condition
        .single_key()
        .ok_or(BlockError::StakeConditionNotSingleKey(header.stake_output))?;
    if let Some(until) = lock {
        let ctx = SpendContext {
            height: header.height,
            timestamp: t,
        };
        if !lock_passed(until, &ctx) {
            return Err(BlockError::StakeOutputLocked(header.stake_output));
        }
    }
    if Address::from_public_key(&header.creator) != owner {
        return Err(BlockError::CreatorMismatch);
    }
    let modifier = stake_modifier(view, header.height, params);
    if !wins(
        &modifier,
        &header.stake_output,
        stake.value,
        t,
        tip.child_target,
    ) {
        return Err(BlockError::LotteryNotWon);
    }
    if sigs == Signatures::Verify && !header.creator.verify(header.id().as_bytes(), signature) {
        return Err(BlockError::BadSignature);
    }
    // Last: the only rule that depends on this node's clock. A block refused (or held) for
    // it has passed every other header rule, so what is held is never a forged copy.
    if t > now.saturating_add(params.future_threshold.saturating_mul(2)) {
        return Err(BlockError::TimestampTooFarInFuture { timestamp: t, now });
    }
    if t > now.saturating_add(params.future_threshold) {
        return Err(BlockError::TimestampInFuture { timestamp: t, now });
    }
    Ok(stake)
}
