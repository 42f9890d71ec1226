//! JSON shape tests of the response types: what a client actually receives.

use crate::types::*;
use serde_json::{json, Value};
use tfchain_consensus::{Target, Work};
use tfchain_types::{
    Address, BlockHeader, BlockId, Condition, Currency, Fulfillment, Hash, Input, KeySignature,
    Output, OutputId, PublicKey, Signature, StakeOutput, Transaction, TxId, BLOCK_VERSION,
    TX_VERSION,
};

pub(crate) fn address() -> Address {
    Address::from_public_key(&PublicKey([7; 32]))
}

pub(crate) fn sample_tx() -> Transaction {
    Transaction {
        version: TX_VERSION,
        coin_inputs: vec![Input {
            parent: OutputId(Hash([2; 32])),
            fulfillment: Fulfillment::Signature(KeySignature {
                public_key: PublicKey([7; 32]),
                signature: Signature([9; 64]),
            }),
        }],
        coin_outputs: vec![Output {
            value: Currency(1_500_000_000),
            condition: Condition::Address(address()),
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![StakeOutput {
            value: 10,
            condition: Condition::Address(address()),
        }],
        fee: Currency(100_000_000),
        arbitrary_data: vec![0xca, 0xfe],
        grid_ops: vec![],
    }
}

pub(crate) fn sample_header(height: u64) -> HeaderInfo {
    let header = BlockHeader {
        version: BLOCK_VERSION,
        parent: BlockId(Hash([1; 32])),
        height,
        timestamp: 1_700_000_000,
        stake_output: OutputId(Hash([3; 32])),
        creator: PublicKey([7; 32]),
        reward_address: address(),
        tx_root: Hash([4; 32]),
    };
    HeaderInfo {
        id: header.id(),
        height,
        header,
        signature: Signature([5; 64]),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("serializes: {e}"))
}

fn round_trip<T>(v: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let s = serde_json::to_string(v).unwrap_or_else(|e| panic!("serializes: {e}"));
    let back: T = serde_json::from_str(&s).unwrap_or_else(|e| panic!("parses back: {e}: {s}"));
    assert_eq!(&back, v);
}

fn hex64(b: u8) -> String {
    hex::encode([b; 32])
}

#[test]
fn chain_info_shape() {
    let info = ChainInfo {
        network: "dev".into(),
        genesis_id: BlockId(Hash([1; 32])),
        height: 12,
        tip: BlockId(Hash([2; 32])),
        tip_timestamp: 1_700_000_000,
        target: Target::MAX,
        total_work: Work::ZERO,
        synced: true,
        peers: 3,
    };
    assert_eq!(
        to_json(&info),
        json!({
            "network": "dev",
            "genesis_id": hex64(1),
            "height": 12,
            "tip": hex64(2),
            "tip_timestamp": 1_700_000_000u64,
            "target": "ff".repeat(32),
            "total_work": "00".repeat(32),
            "synced": true,
            "peers": 3,
        })
    );
    round_trip(&info);
}

#[test]
fn block_info_carries_transactions_with_txids() {
    let h = sample_header(4);
    let tx = sample_tx();
    let block = BlockInfo {
        id: h.id,
        height: 4,
        header: h.header.clone(),
        signature: h.signature,
        transactions: vec![BlockTx {
            txid: tx.txid(),
            transaction: tx.clone(),
        }],
        size: 400,
        confirmations: 1,
    };
    let v = to_json(&block);
    assert_eq!(v["id"], json!(h.id.to_string()));
    assert_eq!(v["header"]["reward_address"], json!(address().to_string()));
    assert_eq!(v["header"]["height"], json!(4));
    assert_eq!(v["signature"], json!("05".repeat(64)));
    let t = &v["transactions"][0];
    assert_eq!(t["txid"], json!(tx.txid().to_string()));
    assert_eq!(t["transaction"]["fee"], json!("100000000"));
    assert_eq!(
        t["transaction"]["coin_outputs"][0],
        json!({"value": "1500000000", "condition": {"address": address().to_string()}})
    );
    assert_eq!(
        t["transaction"]["blockstake_outputs"][0]["value"],
        json!(10)
    );
    assert_eq!(t["transaction"]["arbitrary_data"], json!("cafe"));
    round_trip(&block);
    round_trip(&h);
}

#[test]
fn addresses_are_78_hex_characters() {
    let s = address().to_string();
    assert_eq!(s.len(), 78);
    assert!(s.starts_with("01"));
    assert_eq!(to_json(&address()), json!(s));
}

#[test]
fn supply_amounts_are_decimal_strings() {
    let supply = Supply {
        height: 9,
        coins: Currency(u128::MAX),
        escrow: Currency::ZERO,
        unclaimed_earnings: Currency(1),
        blockstakes: 3000,
        expected_coins: Currency(5_000_000_000),
    };
    assert_eq!(
        to_json(&supply),
        json!({
            "height": 9,
            "coins": u128::MAX.to_string(),
            "escrow": "0",
            "unclaimed_earnings": "1",
            "blockstakes": 3000,
            "expected_coins": "5000000000",
        })
    );
    round_trip(&supply);
}

#[test]
fn tx_status_is_tagged_by_state() {
    assert_eq!(to_json(&TxStatus::Pool), json!({"state": "pool"}));
    let confirmed = TxStatus::Confirmed {
        height: 10,
        block: BlockId(Hash([6; 32])),
        position: 2,
        confirmations: 3,
    };
    assert_eq!(
        to_json(&confirmed),
        json!({"state": "confirmed", "height": 10, "block": hex64(6), "position": 2, "confirmations": 3})
    );
    round_trip(&confirmed);
    let info = TxInfo {
        txid: TxId(Hash([8; 32])),
        transaction: sample_tx(),
        status: TxStatus::Pool,
    };
    assert_eq!(to_json(&info)["status"], json!({"state": "pool"}));
    round_trip(&info);
    assert!(serde_json::from_value::<TxStatus>(json!({"state": "lost"})).is_err());
}

#[test]
fn balance_shape() {
    let b = Balance {
        height: 100,
        confirmed: Currency(2_000_000_000),
        immature: Currency(1_000_000_000),
        immature_outputs: vec![ImmatureOutput {
            value: Currency(1_000_000_000),
            mature_at: 105,
        }],
        locked: Currency::ZERO,
        unconfirmed_in: Currency(5),
        unconfirmed_out: Currency(0),
        blockstakes: 7,
    };
    assert_eq!(
        to_json(&b),
        json!({
            "height": 100,
            "confirmed": "2000000000",
            "immature": "1000000000",
            "immature_outputs": [{"value": "1000000000", "mature_at": 105}],
            "locked": "0",
            "unconfirmed_in": "5",
            "unconfirmed_out": "0",
            "blockstakes": 7,
        })
    );
    round_trip(&b);
}

#[test]
fn output_info_shape() {
    let coin = OutputInfo {
        id: OutputId(Hash([3; 32])),
        kind: OutputKind::Coin,
        value: 1_500_000_000,
        condition: Condition::Address(address()),
        height: 5,
        mature_at: 10,
        pool_spender: None,
    };
    assert_eq!(
        to_json(&coin),
        json!({
            "id": hex64(3),
            "kind": "coin",
            "value": "1500000000",
            "condition": {"address": address().to_string()},
            "height": 5,
            "mature_at": 10,
            "pool_spender": null,
        })
    );
    round_trip(&coin);
    let stake = OutputInfo {
        kind: tfchain_types::OutputKind::BlockStake.into(),
        value: 3000,
        pool_spender: Some(TxId(Hash([4; 32]))),
        ..coin
    };
    let v = to_json(&stake);
    assert_eq!(v["kind"], json!("blockstake"));
    assert_eq!(v["value"], json!("3000"));
    assert_eq!(v["pool_spender"], json!(hex64(4)));
    round_trip(&stake);

    let mut bad = to_json(&stake);
    bad["value"] = json!(3000);
    let e = serde_json::from_value::<OutputInfo>(bad)
        .err()
        .map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.contains("string")));
    let mut bad = to_json(&stake);
    bad["value"] = json!("-3");
    assert!(serde_json::from_value::<OutputInfo>(bad).is_err());
}

#[test]
fn history_page_shape() {
    let page = HistoryPage {
        entries: vec![
            HistoryEntry {
                txid: Some(TxId(Hash([1; 32]))),
                block: BlockId(Hash([2; 32])),
                height: 20,
                position: Some(1),
                timestamp: 1_700_000_100,
                received: Currency(10),
                sent: Currency::ZERO,
            },
            HistoryEntry {
                txid: None,
                block: BlockId(Hash([3; 32])),
                height: 19,
                position: None,
                timestamp: 1_700_000_090,
                received: Currency(1_000_000_000),
                sent: Currency::ZERO,
            },
        ],
        next_cursor: Some("19.0".into()),
    };
    let v = to_json(&page);
    assert_eq!(
        v["entries"][0],
        json!({
            "txid": hex64(1),
            "block": hex64(2),
            "height": 20,
            "position": 1,
            "timestamp": 1_700_000_100u64,
            "received": "10",
            "sent": "0",
        })
    );
    assert_eq!(v["entries"][1]["txid"], Value::Null);
    assert_eq!(v["entries"][1]["position"], Value::Null);
    assert_eq!(v["next_cursor"], json!("19.0"));
    round_trip(&page);
}

#[test]
fn pool_shapes() {
    let info = PoolInfo {
        count: 2,
        bytes: 700,
        max_bytes: 64 << 20,
        max_count: 100_000,
        max_ancestors: 25,
        min_fee: Currency(10_000_000),
        eviction_floor: Some(FeeRate {
            fee: Currency(10_000_000),
            size: 350,
        }),
    };
    assert_eq!(
        to_json(&info),
        json!({
            "count": 2,
            "bytes": 700,
            "max_bytes": 67_108_864u64,
            "max_count": 100_000,
            "max_ancestors": 25,
            "min_fee": "10000000",
            "eviction_floor": {"fee": "10000000", "size": 350},
        })
    );
    round_trip(&info);
    let tx = PoolTx {
        txid: TxId(Hash([5; 32])),
        fee: Currency(10_000_000),
        size: 350,
        added_height: 44,
    };
    assert_eq!(
        to_json(&tx),
        json!({"txid": hex64(5), "fee": "10000000", "size": 350, "added_height": 44})
    );
    round_trip(&tx);
}

#[test]
fn chain_params_are_json() {
    let params = tfchain_consensus::ChainParams {
        genesis_id: BlockId(Hash([1; 32])),
        ..tfchain_consensus::testkit::dev_params()
    };
    let v = to_json(&params);
    assert_eq!(v["genesis_id"], json!(hex64(1)));
    assert_eq!(v["block_reward"], json!("1000000000"));
    assert_eq!(v["min_fee"], json!("10000000"));
    round_trip(&params);
}
