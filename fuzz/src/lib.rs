//! The fuzz targets' bodies (fuzz/README.md). Each `pub fn` takes the fuzzer's bytes,
//! must never panic on any input, and panics (a finding) when an invariant breaks. The
//! `fuzz_targets/*.rs` binaries are one line each, so the same bodies run in
//! `examples/gen_seeds.rs` (which checks every seed it writes) and in any debugger.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use tfchain_types::codec::{self, bounded, encode, encoded_len};
use tfchain_types::{decode_header, decode_transaction, Block, Transaction};

pub mod chain;
pub mod rpc;

pub use rpc::rpc_params;

/// The JSON form of `value` reads back as `value` (PROTOCOL.md §2: every consensus type has
/// one, and the RPC shows it).
pub fn json_round_trip<T>(value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(value).expect("every decoded value has a JSON form");
    let back: T = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the JSON form does not read back ({e}): {json}"));
    assert_eq!(
        &back, value,
        "the JSON form reads back as another value: {json}"
    );
}

/// `value`, decoded from `bytes`, is canonical: it re-encodes to exactly `bytes` (one
/// encoding per value, so no ID can be malleated), `encoded_len` agrees, and the
/// re-encoding decodes again to the same value.
fn canonical<T, const LIMIT: usize>(value: &T, bytes: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let again = encode(value);
    assert_eq!(again, bytes, "a decoded value re-encodes to other bytes");
    assert_eq!(encoded_len(value), bytes.len(), "encoded_len disagrees");
    let back: T = codec::decode::<T, LIMIT>(&again).expect("a re-encoding decodes");
    assert_eq!(&back, value, "decode(encode(decode(b))) != decode(b)");
}

/// The transaction-level invariants shared by every target that decodes transactions.
fn check_tx(tx: &Transaction) {
    json_round_trip(tx);
    // The identifiers are total: hashing never fails, the unsigned form encodes and decodes,
    // and blanking is idempotent (signing cannot change the TxId).
    let unsigned = tx.unsigned();
    assert_eq!(
        unsigned.unsigned(),
        unsigned,
        "unsigned() is not idempotent"
    );
    assert_eq!(
        unsigned.txid(),
        tx.txid(),
        "the TxId depends on the signatures"
    );
    let genesis = tfchain_types::BlockId::ZERO;
    let hashes = tx.hashes(&genesis);
    assert_eq!(hashes.txid, tx.txid(), "hashes() and txid() disagree");
    assert_eq!(hashes.sighash, tx.sighash(&genesis));
    let _ = tx.wtxid();
    let _ = tx.grid_deposits();
}

/// `decode_tx`: bytes as an external transaction (§2, §8, `decode_transaction`), and as
/// the `tx_submit` hex parameter. What decodes is canonical, has a JSON form that reads
/// back, and has total identifiers.
pub fn decode_tx(data: &[u8]) {
    let decoded = decode_transaction(data);
    // The RPC path reads the same bytes as hex and must agree with the codec.
    let via_rpc = tfchain_api::params::decode_tx_hex(&hex::encode(data));
    assert_eq!(
        decoded.as_ref().ok(),
        via_rpc.as_ref().ok(),
        "tx_submit and decode_transaction disagree"
    );
    if let Ok(tx) = decoded {
        canonical::<Transaction, { tfchain_types::limits::MAX_TX_SIZE }>(&tx, data);
        check_tx(&tx);
    }
}

/// `decode_block`: bytes as an external block (`decode_block`) and as a header
/// (`decode_header`). What decodes is canonical and reads back from JSON; a block's header
/// decodes on its own, and its IDs and tx root are total.
pub fn decode_block(data: &[u8]) {
    if let Ok(header) = decode_header(data) {
        canonical::<_, { tfchain_types::limits::MAX_HEADER_SIZE }>(&header, data);
        json_round_trip(&header);
    }
    if let Ok(block) = tfchain_types::decode_block(data) {
        canonical::<Block, { tfchain_types::limits::MAX_BLOCK_SIZE }>(&block, data);
        json_round_trip(&block);
        let header_bytes = encode(&block.header);
        assert_eq!(
            decode_header(&header_bytes).as_ref(),
            Ok(&block.header),
            "a block's header does not decode on its own"
        );
        assert_eq!(block.id(), block.header.id());
        let _ = block.compute_tx_root();
        for tx in &block.transactions {
            check_tx(tx);
        }
    }
}

/// `p2p_message`: bytes as each message of the peer-to-peer protocol (§12), each with the
/// limit the node reads it with: a sync request, a sync response, a transaction gossip
/// batch and a block gossip message. What decodes is canonical.
pub fn p2p_message(data: &[u8]) {
    use tfchain_node::net::protocol::{
        decode_tx_gossip, Request, Response, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
        MAX_TX_GOSSIP_BYTES,
    };
    if let Ok(req) = codec::decode::<Request, MAX_REQUEST_BYTES>(data) {
        canonical::<_, MAX_REQUEST_BYTES>(&req, data);
    }
    if let Ok(res) = codec::decode::<Response, MAX_RESPONSE_BYTES>(data) {
        canonical::<_, MAX_RESPONSE_BYTES>(&res, data);
        match &res {
            Response::Headers(headers) => {
                for h in headers {
                    json_round_trip(&h.header);
                    let _ = h.is_signed();
                }
            }
            Response::Blocks(blocks) => {
                for b in blocks {
                    json_round_trip(b);
                }
            }
            _ => {}
        }
    }
    if let Ok(batch) = decode_tx_gossip(data) {
        canonical::<_, MAX_TX_GOSSIP_BYTES>(&batch, data);
        for tx in &batch.txs {
            check_tx(tx);
        }
    }
    // Block gossip is a bare block (node/src/net/gossip.rs reads it with decode_block).
    if let Ok(block) = tfchain_types::decode_block(data) {
        canonical::<Block, { tfchain_types::limits::MAX_BLOCK_SIZE }>(&block, data);
    }
}

/// At most this many transactions in an `apply_block` input: the fuzzer's budget goes to
/// their content, not their number.
pub const MAX_FUZZ_TXS: usize = 16;

/// A list of transactions as the `apply_block` target reads it (the consensus codec of a
/// `Vec<Transaction>`, at most [`MAX_FUZZ_TXS`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxList {
    #[serde(deserialize_with = "bounded::<_, _, MAX_FUZZ_TXS>")]
    pub txs: Vec<Transaction>,
}

pub use chain::apply_block;
