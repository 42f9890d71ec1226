//! What the pool needs from the chain: unspent outputs (with their maturity) at the tip,
//! the tip itself and the network parameters. Nothing else, so the pool is tested against
//! an in-memory state and never touches a store.

use tfchain_consensus::{BlockMeta, ChainParams, CoinEntry, StakeEntry, StateView, UtxoView};
use tfchain_contracts::{GridKey, GridValue, GridView};
use tfchain_types::{BlockId, Height, OutputId, Timestamp};

/// The chain state at its tip, as the pool sees it: outputs and the grid (§7).
pub trait ChainView: UtxoView + GridView {
    /// The tip block; the pool checks it follows the same tip (see [`crate::Pool`]).
    fn tip_id(&self) -> BlockId;
    fn tip_height(&self) -> Height;
    fn tip_timestamp(&self) -> Timestamp;
    fn params(&self) -> &ChainParams;
}

/// Any consensus [`StateView`] plus its parameters, as a [`ChainView`]: the in-memory
/// state in tests and benchmarks, a store snapshot in the node.
#[derive(Debug)]
pub struct ChainAt<'a, S> {
    state: &'a S,
    params: &'a ChainParams,
    tip: BlockMeta,
}

impl<'a, S: StateView> ChainAt<'a, S> {
    pub fn new(state: &'a S, params: &'a ChainParams) -> Self {
        ChainAt {
            state,
            params,
            tip: state.tip(),
        }
    }
}

impl<S: StateView> UtxoView for ChainAt<'_, S> {
    fn coin(&self, id: &OutputId) -> Option<CoinEntry> {
        self.state.coin(id)
    }

    fn stake(&self, id: &OutputId) -> Option<StakeEntry> {
        self.state.stake(id)
    }
}

impl<S: StateView> GridView for ChainAt<'_, S> {
    fn grid_get(&self, key: &GridKey) -> Option<GridValue> {
        self.state.grid_get(key)
    }

    fn grid_range(&self, from: &GridKey, to: &GridKey) -> Vec<GridKey> {
        self.state.grid_range(from, to)
    }
}

impl<S: StateView> ChainView for ChainAt<'_, S> {
    fn tip_id(&self) -> BlockId {
        self.tip.id
    }

    fn tip_height(&self) -> Height {
        self.tip.height
    }

    fn tip_timestamp(&self) -> Timestamp {
        self.tip.timestamp
    }

    fn params(&self) -> &ChainParams {
        self.params
    }
}
