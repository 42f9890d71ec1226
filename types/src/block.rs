//! Blocks and headers (PROTOCOL.md §5.1).

use crate::address::Address;
use crate::codec::bounded;
use crate::hash::{tags, BlockId, Hash, OutputId};
use crate::keys::{PublicKey, Signature};
use crate::limits::MAX_BLOCK_TXS;
use crate::merkle::merkle_root;
use crate::transaction::{Height, Timestamp, Transaction};
use serde::{Deserialize, Serialize};

/// The only block version of protocol 1.
pub const BLOCK_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub version: u32,
    pub parent: BlockId,
    pub height: Height,
    pub timestamp: Timestamp,
    /// The blockstake output that won the lottery (§5.2).
    pub stake_output: OutputId,
    /// Must control `stake_output` (single key); signs the BlockId.
    pub creator: PublicKey,
    /// Receives the block reward (and fees unless the network sets a fee address, §5.5).
    pub reward_address: Address,
    /// Merkle root of the WTxIds (§5.7.5).
    pub tx_root: Hash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    /// The creator's signature over the BlockId.
    pub signature: Signature,
    #[serde(deserialize_with = "bounded::<_, _, MAX_BLOCK_TXS>")]
    pub transactions: Vec<Transaction>,
}

impl BlockHeader {
    /// `H("tfchain/block/" ‖ encode(header))`.
    pub fn id(&self) -> BlockId {
        BlockId(crate::hash::tagged_hash(tags::BLOCK, self))
    }
}

impl Block {
    pub fn id(&self) -> BlockId {
        self.header.id()
    }

    pub fn height(&self) -> Height {
        self.header.height
    }

    /// The merkle root of this block's WTxIds (§5.7.5).
    pub fn compute_tx_root(&self) -> Hash {
        tx_root(&self.transactions)
    }

    pub fn encoded_len(&self) -> usize {
        crate::codec::encoded_len(self)
    }
}

/// The merkle root of the WTxIds of `txs`.
pub fn tx_root(txs: &[Transaction]) -> Hash {
    let leaves: Vec<Hash> = txs.iter().map(Transaction::wtxid).collect();
    merkle_root(&leaves)
}
