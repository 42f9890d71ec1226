//! Property and layout tests of the consensus codec (PROTOCOL.md §2), the JSON form, the
//! §8 decoder bounds and the transaction identifiers (§4.2).

mod common;

use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use tfchain_types::codec::{decode, encode, encoded_len};
use tfchain_types::limits::{
    MAX_ARBITRARY_DATA, MAX_BLOCK_SIZE, MAX_BLOCK_TXS, MAX_HEADER_SIZE, MAX_INPUTS,
    MAX_MULTISIG_KEYS, MAX_OUTPUTS, MAX_TX_SIZE,
};
use tfchain_types::{
    decode_block, decode_header, decode_transaction, Address, AddressKind, Block, BlockHeader,
    BlockId, CodecError, Condition, Currency, Fulfillment, Hash, Input, KeySignature,
    LockedCondition, MultiSigCondition, Output, OutputId, PublicKey, Secret, Signature,
    StakeOutput, Transaction,
};

/// The decode limit used for the types that have no limit of their own.
const LIMIT: usize = 100_000;

/// Encoding then decoding gives the value back, `encoded_len` agrees with `encode`, and
/// the encoding is canonical (re-encoding the decoded value gives the same bytes).
fn codec_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = encode(value);
    prop_assert_eq!(encoded_len(value), bytes.len());
    let back: T = decode::<T, LIMIT>(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(encode(&back), bytes);
    Ok(())
}

fn json_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e} in {json}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

/// Runs every external decoder on `bytes`; none may panic, and whatever decodes must
/// re-encode to exactly `bytes` (one encoding per value, so IDs cannot be malleated).
fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(tx) = decode_transaction(bytes) {
        prop_assert_eq!(encode(&tx), bytes);
    }
    if let Ok(block) = decode_block(bytes) {
        prop_assert_eq!(encode(&block), bytes);
    }
    if let Ok(header) = decode_header(bytes) {
        prop_assert_eq!(encode(&header), bytes);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// (a) codec round trips

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn address_round_trips(a in arb_address(true)) {
        codec_round_trip(&a)?;
        let bytes = encode(&a);
        prop_assert_eq!(bytes.len(), 33);
        prop_assert_eq!(&bytes[..], &a.to_bytes()[..]);
    }

    #[test]
    fn condition_round_trips(c in arb_condition(true)) {
        codec_round_trip(&c)?;
    }

    #[test]
    fn locked_condition_round_trips(c in arb_locked(true)) {
        codec_round_trip(&c)?;
    }

    #[test]
    fn fulfillment_round_trips(f in arb_fulfillment()) {
        codec_round_trip(&f)?;
    }

    #[test]
    fn input_round_trips(i in arb_input()) {
        codec_round_trip(&i)?;
    }

    #[test]
    fn output_round_trips(o in arb_output(true)) {
        codec_round_trip(&o)?;
    }

    #[test]
    fn stake_output_round_trips(o in arb_stake_output(true)) {
        codec_round_trip(&o)?;
    }

    #[test]
    fn transaction_round_trips(tx in arb_transaction(true)) {
        let bytes = encode(&tx);
        prop_assert_eq!(tx.encoded_len(), bytes.len());
        if bytes.len() <= MAX_TX_SIZE {
            prop_assert_eq!(decode_transaction(&bytes), Ok(tx.clone()));
        } else {
            prop_assert_eq!(
                decode_transaction(&bytes),
                Err(CodecError::TooLarge { limit: MAX_TX_SIZE })
            );
        }
        codec_round_trip(&tx)?;
    }

    #[test]
    fn header_round_trips(h in arb_header(true)) {
        let bytes = encode(&h);
        prop_assert!(bytes.len() <= MAX_HEADER_SIZE);
        prop_assert_eq!(decode_header(&bytes), Ok(h));
    }

    #[test]
    fn block_round_trips(b in arb_block(true)) {
        let bytes = encode(&b);
        prop_assert_eq!(b.encoded_len(), bytes.len());
        prop_assert!(bytes.len() <= MAX_BLOCK_SIZE);
        let back = decode_block(&bytes);
        prop_assert_eq!(&back, &Ok(b.clone()));
        // A block is its header's encoding followed by the signature and transactions.
        prop_assert_eq!(&bytes[..encode(&b.header).len()], &encode(&b.header)[..]);
        prop_assert_eq!(b.id(), b.header.id());
    }
}

// ---------------------------------------------------------------------------------------
// (b) JSON round trips (no Nil addresses: they have no string form)

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn transaction_json_round_trips(tx in arb_transaction(false)) {
        json_round_trip(&tx)?;
    }

    #[test]
    fn block_json_round_trips(b in arb_block(false)) {
        json_round_trip(&b)?;
        json_round_trip(&b.header)?;
    }

    #[test]
    fn condition_json_round_trips(c in arb_condition(false), f in arb_fulfillment()) {
        json_round_trip(&c)?;
        json_round_trip(&f)?;
    }

    #[test]
    fn address_json_is_its_string_form(a in arb_address(false)) {
        let json = serde_json::to_string(&a).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&json, &format!("\"{a}\""));
        json_round_trip(&a)?;
    }
}

// ---------------------------------------------------------------------------------------
// (c) decoders never panic, on noise and on corrupted valid encodings

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_survive_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2000)) {
        decode_all(&bytes)?;
    }

    #[test]
    fn decoders_survive_plausible_prefixes(
        version in 0u8..3,
        lens in vec(prop_oneof![0u64..5, Just(u64::MAX), any::<u64>()], 1..6),
        rest in vec(any::<u8>(), 0..300),
    ) {
        // A version byte, a few length prefixes, then noise: reaches the sequence bounds.
        let mut bytes = vec![version];
        for l in lens {
            bytes.extend_from_slice(&l.to_le_bytes());
        }
        bytes.extend_from_slice(&rest);
        decode_all(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoders_survive_mutated_transactions(tx in arb_transaction(true), m in arb_mutations()) {
        decode_all(&mutate(&encode(&tx), &m))?;
    }

    #[test]
    fn decoders_survive_mutated_blocks(b in arb_block(true), m in arb_mutations()) {
        decode_all(&mutate(&encode(&b), &m))?;
    }

    #[test]
    fn decoders_survive_mutated_headers(h in arb_header(true), m in arb_mutations()) {
        decode_all(&mutate(&encode(&h), &m))?;
    }
}

// ---------------------------------------------------------------------------------------
// (d) trailing bytes and truncation

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn trailing_bytes_are_rejected(
        tx in arb_transaction(true),
        b in arb_block(true),
        extra in vec(any::<u8>(), 1..16),
    ) {
        let n = extra.len();
        let mut bytes = encode(&b.header);
        bytes.extend_from_slice(&extra);
        prop_assert_eq!(decode_header(&bytes), Err(CodecError::TrailingBytes { extra: n }));

        let mut bytes = encode(&b);
        bytes.extend_from_slice(&extra);
        prop_assert_eq!(decode_block(&bytes), Err(CodecError::TrailingBytes { extra: n }));

        let mut bytes = encode(&tx);
        if bytes.len() + n <= MAX_TX_SIZE {
            bytes.extend_from_slice(&extra);
            prop_assert_eq!(
                decode_transaction(&bytes),
                Err(CodecError::TrailingBytes { extra: n })
            );
        }
    }

    #[test]
    fn truncated_encodings_are_rejected(
        tx in arb_transaction(true),
        b in arb_block(true),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = encode(&tx);
        if bytes.len() <= MAX_TX_SIZE {
            let at = cut.index(bytes.len());
            let res = decode_transaction(&bytes[..at]);
            prop_assert!(matches!(res, Err(CodecError::Truncated(_))), "{:?}", res);
        }
        let bytes = encode(&b);
        let at = cut.index(bytes.len());
        let res = decode_block(&bytes[..at]);
        prop_assert!(matches!(res, Err(CodecError::Truncated(_))), "{:?}", res);
        let bytes = encode(&b.header);
        let at = cut.index(bytes.len());
        let res = decode_header(&bytes[..at]);
        prop_assert!(matches!(res, Err(CodecError::Truncated(_))), "{:?}", res);
    }
}

#[test]
fn every_prefix_of_a_transaction_is_truncated() {
    let tx = sample_tx();
    let bytes = encode(&tx);
    assert_eq!(decode_transaction(&bytes), Ok(tx));
    for at in 0..bytes.len() {
        assert!(
            matches!(
                decode_transaction(&bytes[..at]),
                Err(CodecError::Truncated(_))
            ),
            "prefix of {at} bytes"
        );
    }
}

#[test]
fn oversized_inputs_are_rejected_before_decoding() {
    assert_eq!(
        decode_transaction(&vec![0u8; MAX_TX_SIZE + 1]),
        Err(CodecError::TooLarge { limit: MAX_TX_SIZE })
    );
    assert_eq!(
        decode_header(&vec![0u8; MAX_HEADER_SIZE + 1]),
        Err(CodecError::TooLarge {
            limit: MAX_HEADER_SIZE
        })
    );
    assert_eq!(
        decode_block(&vec![0u8; MAX_BLOCK_SIZE + 1]),
        Err(CodecError::TooLarge {
            limit: MAX_BLOCK_SIZE
        })
    );
    assert_eq!(
        decode::<Condition, 10>(&encode(&Condition::Address(addr(1, 1)))),
        Err(CodecError::TooLarge { limit: 10 })
    );
}

// ---------------------------------------------------------------------------------------
// (e) length prefixes beyond the §8 bounds

fn empty_tx() -> Transaction {
    Transaction {
        version: 1,
        coin_inputs: vec![],
        coin_outputs: vec![],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: Currency(0),
        arbitrary_data: vec![],
        grid_ops: vec![],
    }
}

/// Offsets of the length prefixes in the encoding of [`empty_tx`].
const COIN_INPUTS_AT: usize = 1;
const COIN_OUTPUTS_AT: usize = 9;
const STAKE_INPUTS_AT: usize = 17;
const STAKE_OUTPUTS_AT: usize = 25;
const ARBITRARY_DATA_AT: usize = 49;
const GRID_OPS_AT: usize = 57;

/// The encoding of [`empty_tx`] up to the length prefix at `at`, which is set to `len`,
/// followed by nothing.
fn tx_with_length_prefix(at: usize, len: u64) -> Vec<u8> {
    let mut bytes = encode(&empty_tx());
    bytes.truncate(at);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes
}

#[test]
fn empty_transaction_layout() {
    let bytes = encode(&empty_tx());
    let mut want = vec![1u8];
    want.extend_from_slice(&[0u8; 4 * 8]); // four empty Vec length prefixes
    want.extend_from_slice(&[0u8; 16]); // fee
    want.extend_from_slice(&[0u8; 8]); // empty arbitrary_data
    want.extend_from_slice(&[0u8; 8]); // no grid ops
    assert_eq!(bytes, want);
    assert_eq!(bytes.len(), GRID_OPS_AT + 8);
    assert_eq!(decode_transaction(&bytes), Ok(empty_tx()));
}

#[test]
fn huge_length_prefixes_are_rejected_without_allocating() {
    let bounds = [
        (COIN_INPUTS_AT, MAX_INPUTS),
        (COIN_OUTPUTS_AT, MAX_OUTPUTS),
        (STAKE_INPUTS_AT, MAX_INPUTS),
        (STAKE_OUTPUTS_AT, MAX_OUTPUTS),
        (ARBITRARY_DATA_AT, MAX_ARBITRARY_DATA),
        (GRID_OPS_AT, tfchain_types::limits::MAX_GRID_OPS),
    ];
    for (at, max) in bounds {
        let max = max as u64;
        for len in [max + 1, max + 2, 1 << 32, 1 << 60, (1 << 63) + 1, u64::MAX] {
            let bytes = tx_with_length_prefix(at, len);
            let res = decode_transaction(&bytes);
            assert!(
                matches!(res, Err(CodecError::Malformed(_))),
                "prefix {len} at {at}: {res:?}"
            );
            // The generic decoder with a generous byte limit applies the same bound.
            let res = decode::<Transaction, MAX_BLOCK_SIZE>(&bytes);
            assert!(matches!(res, Err(CodecError::Malformed(_))), "{res:?}");
        }
        // At the bound the length is accepted and the decoder runs out of bytes instead.
        let res = decode_transaction(&tx_with_length_prefix(at, max));
        assert!(
            matches!(res, Err(CodecError::Truncated(_))),
            "prefix {max} at {at}: {res:?}"
        );
    }
}

#[test]
fn huge_block_and_multisig_prefixes_are_rejected() {
    let header = encode(&sample_header());
    let mut bytes = header.clone();
    bytes.extend_from_slice(&[0u8; 64]); // signature
    for len in [MAX_BLOCK_TXS as u64 + 1, 1 << 60, u64::MAX] {
        let mut b = bytes.clone();
        b.extend_from_slice(&len.to_le_bytes());
        let res = decode_block(&b);
        assert!(
            matches!(res, Err(CodecError::Malformed(_))),
            "{len}: {res:?}"
        );
    }
    let mut b = bytes.clone();
    b.extend_from_slice(&(MAX_BLOCK_TXS as u64).to_le_bytes());
    assert!(matches!(decode_block(&b), Err(CodecError::Truncated(_))));
    b.truncate(bytes.len());
    b.extend_from_slice(&0u64.to_le_bytes());
    assert!(decode_block(&b).is_ok());

    // Condition::MultiSig: variant 1, min, then the address count.
    for len in [MAX_MULTISIG_KEYS as u64 + 1, 1 << 60, u64::MAX] {
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        let res = decode::<Condition, LIMIT>(&b);
        assert!(
            matches!(res, Err(CodecError::Malformed(_))),
            "{len}: {res:?}"
        );
    }
    // Fulfillment::MultiSignature: variant 1, then the signature count.
    for len in [MAX_MULTISIG_KEYS as u64 + 1, 1 << 60, u64::MAX] {
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        let res = decode::<Fulfillment, LIMIT>(&b);
        assert!(
            matches!(res, Err(CodecError::Malformed(_))),
            "{len}: {res:?}"
        );
    }
}

#[test]
fn sequences_at_the_bound_decode_and_one_more_does_not() {
    // Multisig addresses: 32 fine, 33 rejected even with every byte present.
    for (n, ok) in [(MAX_MULTISIG_KEYS, true), (MAX_MULTISIG_KEYS + 1, false)] {
        let c = Condition::MultiSig(MultiSigCondition {
            min: 1,
            addresses: (0..n).map(|i| addr(1, i as u8)).collect(),
        });
        assert_eq!(decode::<Condition, LIMIT>(&encode(&c)).is_ok(), ok, "{n}");
        let f = Fulfillment::MultiSignature(vec![key_sig(1); n]);
        assert_eq!(decode::<Fulfillment, LIMIT>(&encode(&f)).is_ok(), ok, "{n}");
    }
    // Arbitrary data: 255 fine, 256 rejected.
    for (n, ok) in [(MAX_ARBITRARY_DATA, true), (MAX_ARBITRARY_DATA + 1, false)] {
        let tx = Transaction {
            arbitrary_data: vec![7; n],
            grid_ops: vec![],
            ..empty_tx()
        };
        assert_eq!(decode_transaction(&encode(&tx)).is_ok(), ok, "{n}");
    }
    // Inputs and outputs: 256 fine, 257 rejected (checked with a large byte limit, since
    // 256 signed inputs do not fit in one transaction).
    let input = Input {
        parent: OutputId(Hash([1; 32])),
        fulfillment: Fulfillment::Signature(key_sig(2)),
    };
    let output = Output {
        value: Currency(5),
        condition: Condition::Address(addr(1, 3)),
    };
    let stake = StakeOutput {
        value: 5,
        condition: Condition::Address(addr(1, 3)),
    };
    for (n, ok) in [(MAX_INPUTS, true), (MAX_INPUTS + 1, false)] {
        let txs = [
            Transaction {
                coin_inputs: vec![input.clone(); n],
                ..empty_tx()
            },
            Transaction {
                coin_outputs: vec![output.clone(); n],
                ..empty_tx()
            },
            Transaction {
                blockstake_inputs: vec![input.clone(); n],
                ..empty_tx()
            },
            Transaction {
                blockstake_outputs: vec![stake.clone(); n],
                ..empty_tx()
            },
        ];
        for tx in txs {
            let res = decode::<Transaction, MAX_BLOCK_SIZE>(&encode(&tx));
            assert_eq!(res.is_ok(), ok, "{n}: {res:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// (f) identifiers

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn txid_ignores_signatures_but_wtxid_does_not(
        tx in arb_transaction(true),
        g in arb_block_id(),
    ) {
        let resigned = resign(&tx);
        prop_assert_eq!(resigned.unsigned(), tx.unsigned());
        prop_assert_eq!(resigned.txid(), tx.txid());
        prop_assert_eq!(resigned.sighash(&g), tx.sighash(&g));
        if has_signatures(&tx) {
            prop_assert_ne!(resigned.wtxid(), tx.wtxid());
        } else {
            prop_assert_eq!(resigned.wtxid(), tx.wtxid());
        }
        // The unsigned form is a fixed point, carries no signature, and has the same ids.
        let unsigned = tx.unsigned();
        prop_assert_eq!(unsigned.unsigned(), unsigned.clone());
        prop_assert_eq!(unsigned.txid(), tx.txid());
        // hashes() computes both from one encoding and agrees with the single functions.
        let h = tx.hashes(&g);
        prop_assert_eq!(h.txid, tx.txid());
        prop_assert_eq!(h.sighash, tx.sighash(&g));
        prop_assert_ne!(h.sighash, h.txid.0);
        prop_assert_ne!(tx.wtxid(), tx.txid().0);
    }

    #[test]
    fn sighash_binds_the_genesis_id(
        tx in arb_transaction(true),
        g1 in arb_block_id(),
        g2 in arb_block_id(),
    ) {
        prop_assume!(g1 != g2);
        prop_assert_ne!(tx.sighash(&g1), tx.sighash(&g2));
        prop_assert_eq!(tx.sighash(&g1), tx.sighash(&g1));
    }

    #[test]
    fn txid_covers_everything_but_signatures(tx in arb_transaction(true)) {
        let txid = tx.txid();
        let mut t = tx.clone();
        t.fee = Currency(t.fee.0 ^ 1);
        prop_assert_ne!(t.txid(), txid);
        let mut t = tx.clone();
        t.version ^= 1;
        prop_assert_ne!(t.txid(), txid);
        let mut t = tx.clone();
        t.arbitrary_data.push(0);
        prop_assert_ne!(t.txid(), txid);
        // Public keys and fulfillment variants stay in the unsigned form.
        if let Some(input) = tx.coin_inputs.first() {
            let mut t = tx.clone();
            t.coin_inputs[0].fulfillment = match &input.fulfillment {
                Fulfillment::Signature(ks) => Fulfillment::Refund {
                    public_key: ks.public_key,
                    signature: ks.signature,
                },
                Fulfillment::Refund { public_key, signature } => {
                    Fulfillment::Signature(KeySignature {
                        public_key: *public_key,
                        signature: *signature,
                    })
                }
                Fulfillment::Claim { public_key, signature, .. } => Fulfillment::Refund {
                    public_key: *public_key,
                    signature: *signature,
                },
                Fulfillment::MultiSignature(v) => {
                    let mut v = v.clone();
                    match v.first_mut() {
                        Some(ks) => ks.public_key.0[0] ^= 1,
                        None => v.push(key_sig(0)),
                    }
                    Fulfillment::MultiSignature(v)
                }
            };
            prop_assert_ne!(t.txid(), txid);
            let mut t = tx.clone();
            t.coin_inputs[0].parent.0 .0[0] ^= 1;
            prop_assert_ne!(t.txid(), txid);
        }
    }

    #[test]
    fn block_id_covers_the_header_only(b in arb_block(true), sig in arb_signature()) {
        let id = b.id();
        let mut other = b.clone();
        other.signature = sig;
        other.transactions.clear();
        prop_assert_eq!(other.id(), id);
        let mut h = b.header.clone();
        h.height = h.height.wrapping_add(1);
        prop_assert_ne!(h.id(), id);
        let mut h = b.header.clone();
        h.tx_root.0[0] ^= 1;
        prop_assert_ne!(h.id(), id);
    }
}

#[test]
fn identifier_formulas() {
    let tx = sample_tx();
    let tagged = |tag: &[u8], parts: &[&[u8]]| {
        let mut h = tfchain_types::hash::Hasher::tagged(tag);
        for p in parts {
            h.update(p);
        }
        h.finish()
    };
    let unsigned = encode(&tx.unsigned());
    assert_eq!(tx.txid().0, tagged(b"tfchain/txid/", &[&unsigned]));
    assert_eq!(tx.wtxid(), tagged(b"tfchain/wtxid/", &[&encode(&tx)]));
    let g = BlockId(Hash([9; 32]));
    assert_eq!(
        tx.sighash(&g),
        tagged(b"tfchain/sighash/", &[&g.0 .0, &unsigned])
    );
    let txid = tx.txid();
    assert_eq!(
        Transaction::coin_output_id(&txid, 3).0,
        tagged(b"tfchain/output/", &[&txid.0 .0, &[0], &3u64.to_le_bytes()])
    );
    assert_eq!(
        Transaction::stake_output_id(&txid, 3).0,
        tagged(b"tfchain/output/", &[&txid.0 .0, &[1], &3u64.to_le_bytes()])
    );
    let header = sample_header();
    assert_eq!(
        header.id().0,
        tagged(b"tfchain/block/", &[&encode(&header)])
    );
    assert_eq!(
        OutputId::for_payout(&header.id(), 2).0,
        tagged(
            b"tfchain/payout/",
            &[&header.id().0 .0, &2u64.to_le_bytes()]
        )
    );
    // Blanking really blanks: signatures and secrets are zero in the unsigned form.
    match &tx.unsigned().coin_inputs[1].fulfillment {
        Fulfillment::Claim {
            public_key,
            signature,
            secret,
        } => {
            assert_eq!(*public_key, PublicKey([4; 32]));
            assert_eq!(*signature, Signature::ZERO);
            assert_eq!(*secret, Secret([0; 32]));
        }
        other => panic!("variant changed: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Exact byte layout (§2: fixed-width little-endian integers, bincode 2.0.1 through serde)

fn addr(kind: u8, fill: u8) -> Address {
    let kind = match kind {
        0 => AddressKind::Nil,
        1 => AddressKind::SingleKey,
        2 => AddressKind::AtomicSwap,
        _ => AddressKind::MultiSig,
    };
    Address {
        kind,
        hash: Hash([fill; 32]),
    }
}

fn key_sig(fill: u8) -> KeySignature {
    KeySignature {
        public_key: PublicKey([fill; 32]),
        signature: Signature([fill.wrapping_add(1); 64]),
    }
}

fn sample_tx() -> Transaction {
    Transaction {
        version: 1,
        coin_inputs: vec![
            Input {
                parent: OutputId(Hash([1; 32])),
                fulfillment: Fulfillment::Signature(key_sig(2)),
            },
            Input {
                parent: OutputId(Hash([3; 32])),
                fulfillment: Fulfillment::Claim {
                    public_key: PublicKey([4; 32]),
                    signature: Signature([5; 64]),
                    secret: Secret([6; 32]),
                },
            },
        ],
        coin_outputs: vec![Output {
            value: Currency(1_000_000_000),
            condition: Condition::TimeLock {
                until: 600_000_000,
                inner: LockedCondition::MultiSig(MultiSigCondition {
                    min: 1,
                    addresses: vec![addr(1, 7), addr(1, 8)],
                }),
            },
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![StakeOutput {
            value: 10,
            condition: Condition::Address(addr(1, 9)),
        }],
        fee: Currency(100_000_000),
        arbitrary_data: b"hello".to_vec(),
        grid_ops: vec![],
    }
}

fn sample_header() -> BlockHeader {
    BlockHeader {
        version: 1,
        parent: BlockId(Hash([1; 32])),
        height: 0x0102_0304_0506_0708,
        timestamp: 1_700_000_000,
        stake_output: OutputId(Hash([2; 32])),
        creator: PublicKey([3; 32]),
        reward_address: addr(1, 4),
        tx_root: Hash([5; 32]),
    }
}

#[test]
fn currency_is_16_bytes_little_endian() {
    let mut want = vec![1u8];
    want.extend_from_slice(&[0u8; 15]);
    assert_eq!(encode(&Currency(1)), want);
    let v = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128;
    assert_eq!(encode(&Currency(v)), v.to_le_bytes().to_vec());
    assert_eq!(encode(&Currency(u128::MAX)), vec![0xff; 16]);
}

#[test]
fn integers_are_fixed_width_little_endian() {
    assert_eq!(encode(&1u8), vec![1]);
    assert_eq!(encode(&1u32), vec![1, 0, 0, 0]);
    assert_eq!(encode(&0x0102u64), vec![2, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(encode(&u64::MAX), vec![0xff; 8]);
}

#[test]
fn address_is_type_byte_then_hash() {
    let a = addr(3, 0xab);
    let bytes = encode(&a);
    assert_eq!(bytes.len(), 33);
    assert_eq!(bytes[0], 3);
    assert_eq!(&bytes[1..], &[0xab; 32]);
    assert_eq!(encode(&Address::NIL), vec![0u8; 33]);
    assert_eq!(decode::<Address, LIMIT>(&[0u8; 33]), Ok(Address::NIL));
    // An unknown type byte does not decode.
    let mut bad = bytes.clone();
    bad[0] = 4;
    assert!(matches!(
        decode::<Address, LIMIT>(&bad),
        Err(CodecError::Malformed(_))
    ));
}

#[test]
fn hashes_keys_and_signatures_are_raw_bytes() {
    let h = Hash([0x11; 32]);
    assert_eq!(encode(&h), vec![0x11; 32]);
    assert_eq!(encode(&BlockId(h)), vec![0x11; 32]);
    assert_eq!(encode(&OutputId(h)), vec![0x11; 32]);
    assert_eq!(encode(&PublicKey([0x22; 32])), vec![0x22; 32]);
    assert_eq!(encode(&Signature([0x33; 64])), vec![0x33; 64]);
    assert_eq!(encode(&Secret([0x44; 32])), vec![0x44; 32]);
}

#[test]
fn enum_variant_index_is_u32_le() {
    // Condition::Address = variant 0.
    let mut want = 0u32.to_le_bytes().to_vec();
    want.extend_from_slice(&addr(1, 7).to_bytes());
    assert_eq!(encode(&Condition::Address(addr(1, 7))), want);

    // Condition::MultiSig = variant 1: min, then a u64 count and the addresses.
    let ms = MultiSigCondition {
        min: 2,
        addresses: vec![addr(1, 1)],
    };
    let mut want = 1u32.to_le_bytes().to_vec();
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(&1u64.to_le_bytes());
    want.extend_from_slice(&addr(1, 1).to_bytes());
    assert_eq!(encode(&Condition::MultiSig(ms)), want);

    // Condition::TimeLock = variant 2: until, then the LockedCondition (its own index).
    let tl = Condition::TimeLock {
        until: 5,
        inner: LockedCondition::Address(addr(1, 2)),
    };
    let mut want = 2u32.to_le_bytes().to_vec();
    want.extend_from_slice(&5u64.to_le_bytes());
    want.extend_from_slice(&0u32.to_le_bytes());
    want.extend_from_slice(&addr(1, 2).to_bytes());
    assert_eq!(encode(&tl), want);

    // Condition::AtomicSwap = variant 3.
    let bytes = encode(&Condition::AtomicSwap(tfchain_types::AtomicSwapCondition {
        sender: addr(1, 1),
        receiver: addr(1, 2),
        hashed_secret: Hash([3; 32]),
        timeout: 4,
    }));
    assert_eq!(&bytes[..4], &3u32.to_le_bytes());
    assert_eq!(bytes.len(), 4 + 33 + 33 + 32 + 8);

    // Fulfillments: Signature 0, MultiSignature 1, Claim 2, Refund 3.
    let f = Fulfillment::Refund {
        public_key: PublicKey([1; 32]),
        signature: Signature([2; 64]),
    };
    let mut want = 3u32.to_le_bytes().to_vec();
    want.extend_from_slice(&[1; 32]);
    want.extend_from_slice(&[2; 64]);
    assert_eq!(encode(&f), want);
    assert_eq!(
        &encode(&Fulfillment::Signature(key_sig(1)))[..4],
        &[0, 0, 0, 0]
    );
    assert_eq!(
        encode(&Fulfillment::MultiSignature(vec![])),
        [1u32.to_le_bytes().as_slice(), &0u64.to_le_bytes()].concat()
    );
    let claim = encode(&Fulfillment::Claim {
        public_key: PublicKey([1; 32]),
        signature: Signature([2; 64]),
        secret: Secret([3; 32]),
    });
    assert_eq!(&claim[..4], &2u32.to_le_bytes());
    assert_eq!(claim.len(), 4 + 32 + 64 + 32);
}

#[test]
fn unknown_variants_do_not_decode() {
    for v in [4u32, 0x100, u32::MAX] {
        let mut b = v.to_le_bytes().to_vec();
        b.extend_from_slice(&[0u8; 200]);
        assert!(decode::<Condition, LIMIT>(&b).is_err(), "condition {v}");
        assert!(decode::<Fulfillment, LIMIT>(&b).is_err(), "fulfillment {v}");
    }
    // A time lock cannot wrap a time lock (LockedCondition has two variants only).
    let mut b = 2u32.to_le_bytes().to_vec();
    b.extend_from_slice(&5u64.to_le_bytes());
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&5u64.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&addr(1, 2).to_bytes());
    assert!(matches!(
        decode::<Condition, LIMIT>(&b),
        Err(CodecError::Malformed(_))
    ));
}

#[test]
fn header_layout() {
    let h = sample_header();
    let bytes = encode(&h);
    let mut want = 1u32.to_le_bytes().to_vec();
    want.extend_from_slice(&[1; 32]);
    want.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    want.extend_from_slice(&1_700_000_000u64.to_le_bytes());
    want.extend_from_slice(&[2; 32]);
    want.extend_from_slice(&[3; 32]);
    want.extend_from_slice(&addr(1, 4).to_bytes());
    want.extend_from_slice(&[5; 32]);
    assert_eq!(bytes, want);
    assert_eq!(bytes.len(), 181);
    assert_eq!(decode_header(&bytes), Ok(h));
}

#[test]
fn transaction_layout() {
    let tx = Transaction {
        version: 1,
        coin_inputs: vec![],
        coin_outputs: vec![Output {
            value: Currency(7),
            condition: Condition::Address(addr(1, 1)),
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: Currency(2),
        arbitrary_data: vec![0xaa, 0xbb],
        grid_ops: vec![tfchain_types::GridOp::TopUp {
            reservation: 5,
            amount: Currency(9),
        }],
    };
    let mut want = vec![1u8];
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(&1u64.to_le_bytes());
    want.extend_from_slice(&7u128.to_le_bytes());
    want.extend_from_slice(&0u32.to_le_bytes());
    want.extend_from_slice(&addr(1, 1).to_bytes());
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(&2u128.to_le_bytes());
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(&[0xaa, 0xbb]);
    want.extend_from_slice(&1u64.to_le_bytes()); // one grid op
    want.extend_from_slice(&4u32.to_le_bytes()); // GridOp::TopUp, the fifth variant
    want.extend_from_slice(&5u64.to_le_bytes());
    want.extend_from_slice(&9u128.to_le_bytes());
    assert_eq!(encode(&tx), want);
    assert_eq!(decode_transaction(&want), Ok(tx));
}

#[test]
fn block_layout() {
    let block = Block {
        header: sample_header(),
        signature: Signature([6; 64]),
        transactions: vec![empty_tx()],
    };
    let mut want = encode(&block.header);
    want.extend_from_slice(&[6; 64]);
    want.extend_from_slice(&1u64.to_le_bytes());
    want.extend_from_slice(&encode(&empty_tx()));
    assert_eq!(encode(&block), want);
    assert_eq!(decode_block(&want), Ok(block));
}

#[test]
fn json_forms_are_human_readable() {
    let tx = sample_tx();
    let json: serde_json::Value = serde_json::to_value(&tx).expect("transactions serialize");
    assert_eq!(json["fee"], "100000000");
    assert_eq!(json["arbitrary_data"], hex::encode(b"hello"));
    assert_eq!(json["coin_inputs"][0]["parent"], hex::encode([1u8; 32]));
    assert_eq!(
        json["blockstake_outputs"][0]["condition"]["address"],
        addr(1, 9).to_string()
    );
    assert_eq!(
        json["coin_inputs"][1]["fulfillment"]["claim"]["secret"],
        hex::encode([6u8; 32])
    );
    let back: Transaction = serde_json::from_value(json).expect("and deserialize");
    assert_eq!(back, tx);
    // Arbitrary data over 255 bytes is rejected in JSON too.
    let mut json = serde_json::to_value(empty_tx()).expect("serializes");
    json["arbitrary_data"] = hex::encode([0u8; MAX_ARBITRARY_DATA + 1]).into();
    assert!(serde_json::from_value::<Transaction>(json).is_err());
}
