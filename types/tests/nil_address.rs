//! Regression (found by `fuzz/`'s decode_tx target): the codec read a type-0 ("nil")
//! address with a nonzero hash, a value that has no JSON form, so a decoded transaction
//! could not be shown by the RPC. PROTOCOL.md §3: the only nil address is the all-zero one
//! of the genesis header; the codec refuses every other with its own error.

use tfchain_types::codec::{decode, encode};
use tfchain_types::{
    decode_block, decode_header, decode_transaction, Address, AddressError, AddressKind, Block,
    BlockHeader, BlockId, CodecError, Condition, Currency, Hash, Output, OutputId, PublicKey,
    Signature, Transaction, TX_VERSION,
};

fn nil_with(hash: Hash) -> Address {
    Address {
        kind: AddressKind::Nil,
        hash,
    }
}

fn tx_paying(to: Address) -> Transaction {
    Transaction {
        version: TX_VERSION,
        coin_inputs: vec![],
        coin_outputs: vec![Output {
            value: Currency(3_000_000_000),
            condition: Condition::Address(to),
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: Currency(10_000_000),
        arbitrary_data: vec![],
        grid_ops: vec![],
    }
}

fn refused_for_nil_hash<T: std::fmt::Debug>(result: Result<T, CodecError>) {
    match result {
        Err(CodecError::Malformed(msg)) => {
            assert!(
                msg.contains(&AddressError::NilWithHash.to_string()),
                "unexpected message: {msg}"
            );
        }
        other => panic!("expected the nil-with-hash error, got {other:?}"),
    }
}

#[test]
fn a_nil_address_with_a_nonzero_hash_does_not_decode() {
    // The fuzzer's input: a payment whose first output pays to `00 01…01`.
    let bytes = encode(&tx_paying(nil_with(Hash([1; 32]))));
    refused_for_nil_hash(decode_transaction(&bytes));

    // Any one nonzero byte is enough, wherever the address sits.
    for i in 0..32 {
        let mut h = [0u8; 32];
        h[i] = 0x80;
        let a = nil_with(Hash(h));
        refused_for_nil_hash(decode::<Address, 33>(&encode(&a)));
        refused_for_nil_hash(decode_transaction(&encode(&tx_paying(a))));
    }
    let header = BlockHeader {
        version: 1,
        parent: BlockId::ZERO,
        height: 1,
        timestamp: 1_700_000_000,
        stake_output: OutputId::ZERO,
        creator: PublicKey([2; 32]),
        reward_address: nil_with(Hash([7; 32])),
        tx_root: Hash::ZERO,
    };
    refused_for_nil_hash(decode_header(&encode(&header)));
    let block = Block {
        header,
        signature: Signature::ZERO,
        transactions: vec![],
    };
    refused_for_nil_hash(decode_block(&encode(&block)));
}

#[test]
fn the_all_zero_nil_address_still_decodes_and_reads_back_from_json() {
    assert_eq!(
        decode::<Address, 33>(&encode(&Address::NIL)),
        Ok(Address::NIL)
    );
    // The genesis header carries it (§11): it decodes, and its JSON form reads back.
    let header = BlockHeader {
        version: 1,
        parent: BlockId::ZERO,
        height: 0,
        timestamp: 1_700_000_000,
        stake_output: OutputId::ZERO,
        creator: PublicKey([0; 32]),
        reward_address: Address::NIL,
        tx_root: Hash::ZERO,
    };
    let back = decode_header(&encode(&header)).expect("the genesis header decodes");
    assert_eq!(back, header);
    let json = serde_json::to_string(&back).expect("serializes");
    let again: BlockHeader = serde_json::from_str(&json).expect("reads back");
    assert_eq!(again, header);
}

#[test]
fn every_decoded_address_has_a_json_form() {
    // What the fuzz target checks: an address the codec reads can be shown and read back.
    for kind in 0u8..=3 {
        for fill in [0u8, 1, 0xff] {
            let mut bytes = vec![kind];
            bytes.extend([fill; 32]);
            if let Ok(a) = decode::<Address, 33>(&bytes) {
                let json = serde_json::to_string(&a).expect("serializes");
                let back: Address = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("{a:?} has no JSON form: {e}"));
                assert_eq!(back, a);
            }
        }
    }
}
