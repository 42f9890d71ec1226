//! Block production helpers (pure): search the lottery for the stake outputs a producer
//! controls, and assemble and sign a block. The node's producer and the simulations use
//! these; validation never does.

use crate::lottery::{eligible_from, kernel, stake_modifier};
use crate::params::ChainParams;
use crate::state::{StakeEntry, StateView};
use crate::target::kernel_quotient;
use tfchain_types::block::tx_root;
use tfchain_types::{
    Address, Block, BlockHeader, OutputId, SecretKey, Timestamp, Transaction, BLOCK_VERSION,
};

/// The stake modifier and target for the child of the view's tip: compute once per tip,
/// then test any number of outputs and timestamps.
#[derive(Clone, Debug)]
pub struct Lottery {
    pub modifier: [u8; 32],
    pub target: crate::target::Target,
}

impl Lottery {
    pub fn for_child_of(view: &impl StateView, params: &ChainParams) -> Self {
        let tip = view.tip();
        Lottery {
            modifier: stake_modifier(view, tip.height + 1, params),
            target: tip.child_target,
        }
    }

    /// The eligible output of `stakes` that wins at `t` with the lowest `kernel / value`
    /// (among simultaneous winners that quotient is uniform, so ties split evenly).
    pub fn winner<'a>(
        &self,
        params: &ChainParams,
        stakes: &'a [(OutputId, StakeEntry)],
        t: Timestamp,
    ) -> Option<&'a (OutputId, StakeEntry)> {
        stakes
            .iter()
            .filter(|(_, e)| t >= eligible_from(e, params))
            .filter_map(|s| {
                let q = kernel_quotient(&kernel(&self.modifier, &s.0, t), s.1.value)?;
                (q < self.target.0).then_some((q, s))
            })
            .min_by_key(|(q, _)| *q)
            .map(|(_, s)| s)
    }
}

/// Assembles and signs a block on the view's tip.
pub fn assemble_block(
    view: &impl StateView,
    timestamp: Timestamp,
    stake_output: OutputId,
    key: &SecretKey,
    reward_address: Address,
    transactions: Vec<Transaction>,
) -> Block {
    let tip = view.tip();
    let header = BlockHeader {
        version: BLOCK_VERSION,
        parent: tip.id,
        height: tip.height + 1,
        timestamp,
        stake_output,
        creator: key.public_key(),
        reward_address,
        tx_root: tx_root(&transactions),
    };
    let signature = key.sign_hash(&header.id().0);
    Block {
        header,
        signature,
        transactions,
    }
}
