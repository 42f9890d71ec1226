//! Proof of blockstake (PROTOCOL.md §5.2–5.4): the stake modifier, the kernel and
//! eligibility of a blockstake output.

use crate::params::ChainParams;
use crate::state::{StakeEntry, StateView};
use crate::target::{kernel_wins, Target};
use tfchain_types::hash::{tags, Hasher};
use tfchain_types::{BlockId, Height, OutputId, Timestamp};

/// `stake_modifier(h)`: bit `i` (bit 0 = least significant bit of the last byte) is bit `i`
/// of the BlockId at height `h - D - i` on this chain; heights below 0 use the genesis ID.
/// `view`'s tip must be at height `h - 1` or above `h - D`.
pub fn stake_modifier(view: &impl StateView, height: Height, params: &ChainParams) -> [u8; 32] {
    let mut cache: Option<(Height, BlockId)> = None;
    let mut out = [0u8; 32];
    for i in 0..256u64 {
        let h = height
            .checked_sub(params.stake_modifier_delay)
            .and_then(|x| x.checked_sub(i))
            .unwrap_or(0);
        let id = match cache {
            Some((ch, id)) if ch == h => id,
            _ => {
                // The view holds every height up to its tip, and h <= tip here.
                let id = view.block_at(h).map(|m| m.id).unwrap_or_default();
                cache = Some((h, id));
                id
            }
        };
        let byte = 31 - (i / 8) as usize;
        let mask = 1u8 << (i % 8);
        out[byte] |= id.as_bytes()[byte] & mask;
    }
    out
}

/// `H("tfchain/kernel/" ‖ modifier ‖ output id ‖ u64le(t))`.
pub fn kernel(modifier: &[u8; 32], output: &OutputId, timestamp: Timestamp) -> [u8; 32] {
    let mut h = Hasher::tagged(tags::KERNEL);
    h.update(modifier)
        .update(output.as_bytes())
        .update(&timestamp.to_le_bytes());
    h.finish().0
}

/// The first timestamp at which `entry` may win (§5.4); genesis outputs at once.
pub fn eligible_from(entry: &StakeEntry, params: &ChainParams) -> Timestamp {
    if entry.height == 0 {
        0
    } else {
        entry.timestamp.saturating_add(params.stake_aging)
    }
}

/// Whether `output` wins the lottery for a child of the view's tip at `timestamp`
/// (eligibility not included).
pub fn wins(
    modifier: &[u8; 32],
    output: &OutputId,
    value: u64,
    timestamp: Timestamp,
    target: Target,
) -> bool {
    kernel_wins(&kernel(modifier, output, timestamp), value, target)
}
