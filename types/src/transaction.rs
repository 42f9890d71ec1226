//! Transactions (PROTOCOL.md §4.1) and their identifiers and signature hash (§4.2).

use crate::codec::{bounded, encode_into};
use crate::condition::{Condition, Fulfillment};
use crate::currency::Currency;
use crate::grid::{GridOp, MAX_GRID_OPS};
use crate::hash::{tags, BlockId, Hash, Hasher, OutputId, OutputKind, TxId};
use crate::limits::{MAX_INPUTS, MAX_OUTPUTS};
use serde::{Deserialize, Serialize};

/// A count of blockstake units.
pub type BlockStakes = u64;
pub type Height = u64;
pub type Timestamp = u64;

/// The only transaction version of protocol 1.
pub const TX_VERSION: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub parent: OutputId,
    pub fulfillment: Fulfillment,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub value: Currency,
    pub condition: Condition,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeOutput {
    pub value: BlockStakes,
    pub condition: Condition,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub version: u8,
    #[serde(deserialize_with = "bounded::<_, _, MAX_INPUTS>")]
    pub coin_inputs: Vec<Input>,
    #[serde(deserialize_with = "bounded::<_, _, MAX_OUTPUTS>")]
    pub coin_outputs: Vec<Output>,
    #[serde(deserialize_with = "bounded::<_, _, MAX_INPUTS>")]
    pub blockstake_inputs: Vec<Input>,
    #[serde(deserialize_with = "bounded::<_, _, MAX_OUTPUTS>")]
    pub blockstake_outputs: Vec<StakeOutput>,
    pub fee: Currency,
    #[serde(with = "crate::bytes_vec")]
    pub arbitrary_data: Vec<u8>,
    /// Capacity-market operations (§7), applied in order after the transfers.
    #[serde(deserialize_with = "bounded::<_, _, MAX_GRID_OPS>")]
    pub grid_ops: Vec<GridOp>,
}

/// The identifiers of a transaction that depend only on its unsigned form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxHashes {
    pub txid: TxId,
    pub sighash: Hash,
}

impl Transaction {
    /// `tx` with every signature and secret blanked (§4.2).
    pub fn unsigned(&self) -> Transaction {
        let blank = |inputs: &[Input]| {
            inputs
                .iter()
                .map(|i| Input {
                    parent: i.parent,
                    fulfillment: i.fulfillment.blanked(),
                })
                .collect()
        };
        Transaction {
            version: self.version,
            coin_inputs: blank(&self.coin_inputs),
            coin_outputs: self.coin_outputs.clone(),
            blockstake_inputs: blank(&self.blockstake_inputs),
            blockstake_outputs: self.blockstake_outputs.clone(),
            fee: self.fee,
            arbitrary_data: self.arbitrary_data.clone(),
            grid_ops: self.grid_ops.iter().map(GridOp::blanked).collect(),
        }
    }

    /// TxId and sighash from one encoding of the unsigned transaction.
    pub fn hashes(&self, genesis_id: &BlockId) -> TxHashes {
        let mut encoded = Vec::with_capacity(512);
        encode_into(&self.unsigned(), &mut encoded);
        let mut txid = Hasher::tagged(tags::TXID);
        txid.update(&encoded);
        let mut sighash = Hasher::tagged(tags::SIGHASH);
        sighash.update(genesis_id.as_bytes()).update(&encoded);
        TxHashes {
            txid: TxId(txid.finish()),
            sighash: sighash.finish(),
        }
    }

    /// `H("tfchain/txid/" ‖ encode(unsigned(tx)))`.
    pub fn txid(&self) -> TxId {
        TxId(crate::hash::tagged_hash(tags::TXID, &self.unsigned()))
    }

    /// `H("tfchain/sighash/" ‖ genesis_id ‖ encode(unsigned(tx)))`: what every signature signs.
    pub fn sighash(&self, genesis_id: &BlockId) -> Hash {
        self.hashes(genesis_id).sighash
    }

    /// `H("tfchain/wtxid/" ‖ encode(tx))`, signatures included: what a block commits to.
    pub fn wtxid(&self) -> Hash {
        crate::hash::tagged_hash(tags::WTXID, self)
    }

    pub fn coin_output_id(txid: &TxId, index: usize) -> OutputId {
        OutputId::for_tx(txid, OutputKind::Coin, index as u64)
    }

    pub fn stake_output_id(txid: &TxId, index: usize) -> OutputId {
        OutputId::for_tx(txid, OutputKind::BlockStake, index as u64)
    }

    /// Σ of the grid ops' deposits (§4.3.4); `None` on overflow.
    pub fn grid_deposits(&self) -> Option<Currency> {
        Currency::checked_sum(self.grid_ops.iter().map(GridOp::deposit))
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        crate::codec::encoded_len(self)
    }
}
