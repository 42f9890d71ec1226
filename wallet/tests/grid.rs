//! The capacity market end to end against a real dev node, through the `tfchainc` binary:
//! farms and nodes registered, a reservation made, topped up, pointed at a new deployment
//! and cancelled with its refund landing in the wallet, a farmer's claim, and the refusals a
//! person must be able to act on. Every wait polls the node; none sleeps a fixed time.

mod common;
mod devnode;

use common::TestWallet;
use devnode::{confirm, tft, DevNode};
use serde_json::Value;
use std::time::{Duration, Instant};

const HASH_A: &str = "aa00000000000000000000000000000000000000000000000000000000000001";
const HASH_B: &str = "bb00000000000000000000000000000000000000000000000000000000000002";

fn u(v: &Value) -> u128 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a base-unit amount: {v}"))
}

/// A TFT amount in base units.
fn base(tft_amount: &str) -> u128 {
    tft(tft_amount).parse().expect("base units")
}

/// Polls `wallet balance` until `check` accepts it (at most `secs` seconds).
fn wait_balance(w: &TestWallet, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let b = w.ok(&["wallet", "balance"]);
        if check(&b) {
            return b;
        }
        assert!(Instant::now() < deadline, "balance never matched: {b}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn farms_nodes_and_a_reservation_from_start_to_refund() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let alice = node.wallet("alice");
    alice.init();
    let (alice_addr, _) = alice.address();
    let fund = dev.ok(&["wallet", "send", &alice_addr, "1000"]);
    confirm(&dev, &fund["txid"]);

    // Alice registers a farm; the dev farm's owner (dev key 1) adds a node to farm 1 with
    // the node's secret in a file, while Alice's node key is key 7 of her own seed.
    let farm = alice.ok(&["farm", "register", "--name", "alice-farm", "--wait"]);
    assert_eq!(farm["farm"], 2, "the dev genesis has farm 1: {farm}");
    assert_eq!(farm["owner"], alice_addr.as_str());
    let secret = tfchain_types::Seed([9; 32]).derive_key(0);
    let secret_file = node.dir.path().join("node.secret");
    std::fs::write(&secret_file, hex::encode(secret.to_bytes()) + "\n").expect("write");
    let sf = secret_file.to_string_lossy().into_owned();
    let dev_node = dev.ok(&[
        "node",
        "register",
        "--farm",
        "1",
        "--node-secret-file",
        &sf,
        "--cru",
        "2",
        "--mru",
        "2",
        "--price-cru",
        "0.001",
    ]);
    let alice_node = alice.ok(&[
        "node",
        "register",
        "--farm",
        "2",
        "--node-key-index",
        "7",
        "--cru",
        "4",
        "--mru",
        "8",
        "--sru",
        "100",
        "--price-cru",
        "0.001",
        "--price-mru",
        "0.0005",
        "--wait",
    ]);
    confirm(&dev, &dev_node["txid"]);
    assert_eq!(dev_node["node_key"], secret.public_key().to_string());
    let id = alice_node["node"].as_u64().expect("a node id from --wait");
    assert!(id == 3 || id == 4, "{alice_node}");
    let shown = alice.ok(&["node", "show", &id.to_string()]);
    assert_eq!(shown["farm"], 2);
    assert_eq!(shown["free"]["cru"], 4);
    assert_eq!(shown["price"]["mru"], tft("0.0005"));
    let farm2 = alice.ok(&["farm", "show", "2"]);
    assert_eq!(farm2["nodes"], serde_json::json!([id]));
    // Farm 1 belongs to dev key 1: Alice cannot add nodes to it.
    let (kind, msg) = alice
        .run(
            &[
                "node",
                "register",
                "--farm",
                "1",
                "--node-key-index",
                "8",
                "--cru",
                "1",
            ],
            "",
        )
        .failure();
    assert_eq!(kind, "not_owner", "{msg}");
    assert!(msg.contains("farm 1's owner"), "{msg}");

    // Reserve on dev node 1: rate = 2 × 0.001 + 4 × 0.0005 + 50 × 0.00001 = 0.0045 TFT.
    let res = alice.ok(&[
        "reserve",
        "1",
        "--cru",
        "2",
        "--mru",
        "4",
        "--sru",
        "50",
        "--blocks",
        "100",
        "--deployment-hash",
        HASH_A,
        "--yes",
        "--wait",
    ]);
    assert_eq!(res["rate"], tft("0.0045"), "{res}");
    assert_eq!(res["deposit"], tft("0.45"));
    let rid = res["reservation"]
        .as_u64()
        .expect("reservation id from --wait");
    let rids = rid.to_string();
    let shown = alice.ok(&["reservation", "show", &rids]);
    assert_eq!(shown["node"], 1);
    assert_eq!(shown["owner_address"], alice_addr.as_str());
    assert_eq!(shown["deployment_hash"], HASH_A);
    assert_eq!(shown["state"], "active");
    assert_eq!(alice.ok(&["node", "show", "1"])["used"]["cru"], 2);

    // Top up by 50 blocks; point it at a new deployment.
    let top = alice.ok(&["reservation", "topup", &rids, "--blocks", "50", "--wait"]);
    assert_eq!(top["amount"], tft("0.225"));
    assert!(u(&top["escrow"]) > base("0.45"), "{top}");
    let upd = alice.ok(&[
        "reservation",
        "update",
        &rids,
        "--deployment-hash",
        HASH_B,
        "--deployment-data",
        "0a0b",
        "--wait",
    ]);
    confirm(&alice, &upd["txid"]);
    let shown = alice.ok(&["reservation", "show", &rids]);
    assert_eq!(shown["deployment_hash"], HASH_B);
    assert_eq!(shown["deployment_data"], "0a0b");
    let mine = alice.ok(&["reservation", "list"]);
    assert_eq!(mine["reservations"][0]["id"], rid, "{mine}");
    let on_node = alice.ok(&["reservation", "list", "--node", "1"]);
    assert!(on_node.to_string().contains(HASH_B), "{on_node}");

    // Only the owner may cancel; the owner's cancel refunds the escrow left.
    let (kind, _) = dev.run(&["reservation", "cancel", &rids], "").failure();
    assert_eq!(kind, "not_owner");
    let before = u(&alice.ok(&["wallet", "balance"])["confirmed"]);
    let cancel = alice.ok(&["reservation", "cancel", &rids, "--wait"]);
    let refund = u(&cancel["refund"]);
    assert!(refund > 0 && refund < base("0.675"), "{cancel}");
    let fee = u(&cancel["fee"]);
    let want = before - fee + refund;
    // The refund is a payout: immature first, then spendable (maturity_delay 5 blocks).
    wait_balance(&alice, 60, |b| u(&b["confirmed"]) == want);
    let shown = alice.ok(&["reservation", "show", &rids]);
    assert_eq!(shown["state"]["ended"]["reason"], "cancelled", "{shown}");
    let (kind, msg) = alice
        .run(&["reservation", "topup", &rids, "--amount", "1"], "")
        .failure();
    assert_eq!(kind, "reservation_ended", "{msg}");
    assert_eq!(alice.ok(&["node", "show", "1"])["used"]["cru"], 0);

    // The farmer claims what node 1 earned: 90 % to the payout address, 10 % to the network.
    let (kind, _) = alice.run(&["node", "claim", "1"], "").failure();
    assert_eq!(kind, "not_owner");
    let claim = dev.ok(&["node", "claim", "1", "--wait"]);
    let (farmer, network) = (u(&claim["farmer"]), u(&claim["network"]));
    assert!(farmer > 0, "{claim}");
    assert_eq!(farmer + network, base("0.675") - refund, "{claim}");
    assert_eq!(network, (farmer + network) - (farmer + network) * 9 / 10);
    assert_eq!(dev.ok(&["node", "show", "1"])["earnings"], "0");
}

/// `reserve NODE --cru CRU --blocks BLOCKS --deployment-hash HASH --yes` plus `extra`.
fn reserve(w: &TestWallet, node: &str, cru: &str, blocks: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "reserve",
        node,
        "--cru",
        cru,
        "--blocks",
        blocks,
        "--deployment-hash",
        HASH_A,
        "--yes",
    ];
    args.extend_from_slice(extra);
    w.run(&args, "")
}

#[test]
fn reservations_beyond_free_capacity_are_refused_with_the_numbers() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    // Dev node 2 has 8 cores: the quote shows it before anything is signed.
    let (kind, msg) = reserve(&dev, "2", "9", "10", &[]).failure();
    assert_eq!(kind, "capacity_exceeded");
    assert!(
        msg.starts_with("node 2 has 8 cru free, 9 requested"),
        "{msg}"
    );

    // 5 cores reserved (in the pool), then 5 more. The pool checks grid ops against the
    // tip alone, so the second may be admitted too; the block takes the first (its higher
    // fee puts it first) and --wait then reports what is left.
    let first = reserve(&dev, "2", "5", "10", &["--fee", "0.1"]).success();
    let (kind, msg) = reserve(&dev, "2", "5", "10", &["--wait"]).failure();
    assert_eq!(kind, "capacity_exceeded", "{msg}");
    assert!(
        msg.starts_with("node 2 has 3 cru free, 5 requested"),
        "{msg}"
    );
    confirm(&dev, &first["txid"]);

    // Too short a reservation, an unknown node, a node its farmer took down.
    let (kind, msg) = reserve(&dev, "1", "1", "3", &[]).failure();
    assert_eq!(kind, "too_few_blocks");
    assert!(msg.contains("minimum reservation of 10 blocks"), "{msg}");
    let (kind, msg) = reserve(&dev, "99", "1", "10", &[]).failure();
    assert_eq!(kind, "not_found", "{msg}");
    dev.ok(&["node", "update", "1", "--down", "--wait"]);
    let (kind, msg) = reserve(&dev, "1", "1", "10", &[]).failure();
    assert_eq!(kind, "node_not_up");
    assert!(msg.starts_with("node 1 is down"), "{msg}");
}
