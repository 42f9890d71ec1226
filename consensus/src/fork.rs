//! Fork choice (PROTOCOL.md §5.8): the heaviest valid chain wins; on equal weight the tip
//! seen first stays; reorganisations deeper than `max_reorg_depth` are refused.

use crate::params::ChainParams;
use crate::target::Work;
use tfchain_types::Height;

/// What to do with a valid competing chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkDecision {
    /// Keep the current tip (the candidate is not heavier).
    Keep,
    /// Switch to the candidate.
    Switch,
    /// The candidate is heavier but would undo more than `max_reorg_depth` blocks.
    TooDeep { depth: u64 },
}

/// Decides between the current tip and a candidate tip whose fork point is at
/// `common_height`.
pub fn choose(
    params: &ChainParams,
    current_work: Work,
    current_height: Height,
    candidate_work: Work,
    common_height: Height,
) -> ForkDecision {
    if candidate_work <= current_work {
        return ForkDecision::Keep;
    }
    let depth = current_height.saturating_sub(common_height);
    if depth > params.max_reorg_depth {
        ForkDecision::TooDeep { depth }
    } else {
        ForkDecision::Switch
    }
}
