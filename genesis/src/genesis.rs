//! [`Genesis`]: a validated genesis file with its block, parameters and genesis ID
//! (PROTOCOL.md §11).

use crate::error::GenesisError;
use crate::format::GenesisFile;
use std::path::Path;
use tfchain_consensus::{apply_genesis, genesis_block, BlockOutcome, ChainParams};
use tfchain_types::hash::{tagged_hash, Hash};
use tfchain_types::limits::{MAX_GRID_OPS, MAX_OUTPUTS, MAX_TX_SIZE};
use tfchain_types::{Block, BlockId, BlockStakes, Currency, Timestamp, Transaction, TX_VERSION};

/// Domain tag of the parameter commitment carried by the genesis transaction.
pub const PARAMS_TAG: &[u8] = b"tfchain/params/";

/// Longest network name.
pub const MAX_NETWORK_NAME: usize = 64;

/// A genesis that passed every check: its parameters are valid (§9) and its block builds
/// the genesis state through [`apply_genesis`]. Only [`Genesis::new`] (and the parsers that
/// call it) make one, so every accessor here is infallible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    file: GenesisFile,
    /// With `genesis_id` filled in.
    params: ChainParams,
    block: Block,
}

impl Genesis {
    /// Validates a genesis file and builds its block.
    pub fn new(file: GenesisFile) -> Result<Genesis, GenesisError> {
        check_network_name(&file.network)?;
        let mut params = file.params.to_chain_params(&file.network, file.fee_address);
        params.validate()?;
        for (kind, count) in [
            ("coin", file.coin_outputs.len()),
            ("blockstake", file.blockstake_outputs.len()),
        ] {
            if count > MAX_OUTPUTS {
                return Err(GenesisError::TooManyOutputs {
                    kind,
                    count,
                    max: MAX_OUTPUTS,
                });
            }
        }
        let ops = file.grid_ops().len();
        if ops > MAX_GRID_OPS {
            return Err(GenesisError::TooManyGridOps {
                count: ops,
                max: MAX_GRID_OPS,
            });
        }
        let allocation = allocation_transaction(&file, &params);
        let size = allocation.encoded_len();
        if size > MAX_TX_SIZE {
            return Err(GenesisError::TooLarge {
                what: "allocation transaction",
                size,
                max: MAX_TX_SIZE,
            });
        }
        let block = genesis_block(file.timestamp, allocation);
        apply_genesis(&block, &params)?;
        params.genesis_id = block.id();
        Ok(Genesis {
            file,
            params,
            block,
        })
    }

    /// Parses and validates a genesis file's text.
    pub fn from_json(json: &str) -> Result<Genesis, GenesisError> {
        let file: GenesisFile = serde_json::from_str(json).map_err(|e| GenesisError::json(&e))?;
        Genesis::new(file)
    }

    /// Reads, parses and validates a genesis file. This is the crate's only I/O.
    pub fn load(path: impl AsRef<Path>) -> Result<Genesis, GenesisError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| GenesisError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Genesis::from_json(&text).map_err(|e| GenesisError::File {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// The genesis file, pretty-printed, ending in a newline (the form of the built-in
    /// network files).
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.file)
            .expect("a genesis file has only string keys and serializable values");
        s.push('\n');
        s
    }

    /// The file this genesis was built from.
    pub fn file(&self) -> &GenesisFile {
        &self.file
    }

    /// The network's consensus parameters, `genesis_id` filled in.
    pub fn params(&self) -> ChainParams {
        self.params.clone()
    }

    /// The genesis block (height 0).
    pub fn block(&self) -> Block {
        self.block.clone()
    }

    /// The ID of the genesis block: the network's identity, bound into every signature
    /// hash (§4.2) and every gossip topic (§12).
    pub fn genesis_id(&self) -> BlockId {
        self.params.genesis_id
    }

    pub fn network(&self) -> &str {
        &self.file.network
    }

    pub fn timestamp(&self) -> Timestamp {
        self.file.timestamp
    }

    /// The genesis state as a diff, built by the same transition code as every block (§11).
    pub fn outcome(&self) -> BlockOutcome {
        apply_genesis(&self.block, &self.params)
            .expect("Genesis::new applied this block with these parameters")
    }

    /// Σ of the initial coin outputs.
    pub fn total_coins(&self) -> Currency {
        Currency::checked_sum(self.file.coin_outputs.iter().map(|o| o.value))
            .expect("apply_genesis checked the sum for overflow")
    }

    /// Σ of the initial blockstake outputs.
    pub fn total_blockstakes(&self) -> BlockStakes {
        self.file
            .blockstake_outputs
            .iter()
            .fold(0, |acc, o| acc.saturating_add(o.value))
    }
}

/// `H("tfchain/params/" ‖ encode(params with a zero genesis_id))`: the commitment to the
/// network's name and parameters carried as the allocation transaction's `arbitrary_data`.
pub fn params_commitment(params: &ChainParams) -> Hash {
    let mut p = params.clone();
    p.genesis_id = BlockId::ZERO;
    tagged_hash(PARAMS_TAG, &p)
}

/// The genesis transaction: no inputs, no fee, the allocations as outputs and the
/// parameter commitment as arbitrary data.
fn allocation_transaction(file: &GenesisFile, params: &ChainParams) -> Transaction {
    Transaction {
        version: TX_VERSION,
        coin_inputs: vec![],
        coin_outputs: file.coin_outputs.iter().map(Into::into).collect(),
        blockstake_inputs: vec![],
        blockstake_outputs: file.blockstake_outputs.iter().map(Into::into).collect(),
        fee: Currency::ZERO,
        arbitrary_data: params_commitment(params).0.to_vec(),
        grid_ops: file.grid_ops(),
    }
}

fn check_network_name(name: &str) -> Result<(), GenesisError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NETWORK_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(GenesisError::NetworkName {
            name: name.to_string(),
            max: MAX_NETWORK_NAME,
        })
    }
}
