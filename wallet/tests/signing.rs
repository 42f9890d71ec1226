//! What the wallet signs (issue #12 item 10): the network comes from the wallet's own
//! keystore and is checked against the node and the spend file; `multisig sign` refuses
//! inputs that are not the named multisig's and asks about grid operations, blockstakes and
//! a high fee; a high minimum fee reported by the node is not paid unconfirmed. Every wait
//! polls the node; none sleeps a fixed time.

mod common;
mod devnode;

use common::TestWallet;
use devnode::{confirm, confirmed, tft, DevNode};
use serde_json::Value;
use std::path::Path;
use tfchain_types::{Condition, Currency, GridOp, Input, StakeOutput};
use tfchain_wallet::keystore::{KdfParams, Keystore, WalletData};
use tfchain_wallet::multisig::{parse_public_key, unsigned_list, SpendFile};

fn dev_genesis() -> String {
    tfchain_genesis::builtin("dev")
        .expect("dev")
        .genesis_id()
        .to_string()
}

/// The `{"error": …}` object of a run that must have failed.
fn error_of(run: &common::Run) -> Value {
    assert!(!run.ok, "tfchainc should have failed:\n{}", run.stdout);
    run.json()["error"].clone()
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

#[test]
fn a_new_wallet_records_its_network_encrypted_in_the_keystore() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // No node answers: the built-in dev network, said so.
    let w = TestWallet::new(tmp.path(), "w", "http://127.0.0.1:1");
    let j = w.init();
    assert_eq!(j["network"]["name"], "dev", "{j}");
    assert_eq!(s(&j["network"]["genesis_id"]), dev_genesis());
    assert!(
        s(&j["network"]["source"]).contains("no node answered"),
        "{j}"
    );
    let shown = w.ok(&["wallet", "network"]);
    assert_eq!(shown["network"], "dev");
    assert_eq!(s(&shown["genesis_id"]), dev_genesis());
    assert_eq!(shown["node"], Value::Null, "{shown}");
    // Inside the ciphertext, so it cannot be edited unnoticed.
    let text = std::fs::read_to_string(w.dir.join("wallet.json")).expect("keystore");
    assert!(
        !text.contains(&dev_genesis()),
        "the network is stored in clear"
    );

    // A built-in network by name, offline.
    let t = TestWallet::new(tmp.path(), "t", "http://127.0.0.1:1");
    let j = t.ok(&[
        "wallet",
        "init",
        "--yes",
        "--insecure-fast-kdf",
        "--network",
        "testnet",
    ]);
    let testnet = tfchain_genesis::builtin("testnet").expect("testnet");
    assert_eq!(
        s(&j["network"]["genesis_id"]),
        testnet.genesis_id().to_string()
    );

    // Any network by its genesis ID; a malformed ID and an unknown name are refused.
    let id = "ab".repeat(32);
    let c = TestWallet::new(tmp.path(), "c", "http://127.0.0.1:1");
    c.ok(&[
        "wallet",
        "init",
        "--yes",
        "--insecure-fast-kdf",
        "--network",
        "mine",
        "--genesis-id",
        &id,
    ]);
    let shown = c.ok(&["wallet", "network"]);
    assert_eq!(shown["network"], "mine");
    assert_eq!(s(&shown["genesis_id"]), id);
    let bad = TestWallet::new(tmp.path(), "bad", "http://127.0.0.1:1");
    let e = error_of(&bad.run(
        &[
            "wallet",
            "init",
            "--yes",
            "--insecure-fast-kdf",
            "--network",
            "x",
            "--genesis-id",
            "12",
        ],
        "",
    ));
    assert_eq!(e["kind"], "bad_argument", "{e}");
    assert!(!bad.dir.join("wallet.json").exists());
    let e = error_of(&bad.run(
        &[
            "wallet",
            "init",
            "--yes",
            "--insecure-fast-kdf",
            "--network",
            "mainnet",
        ],
        "",
    ));
    assert_eq!(e["kind"], "node_unreachable", "{e}");
    assert!(!bad.dir.join("wallet.json").exists());
}

/// Writes a keystore as a tfchainc from before networks were recorded did: no network.
fn legacy_keystore(w: &TestWallet, seed: &tfchain_types::Seed) {
    let pass = std::fs::read_to_string(&w.pass).expect("passphrase");
    Keystore::create(
        &w.dir,
        WalletData::new(seed),
        pass.trim_end().as_bytes(),
        KdfParams::INSECURE_FAST,
        false,
    )
    .expect("keystore");
}

#[test]
fn signing_uses_the_wallets_network_and_checks_the_node_and_the_file() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);

    // A 1-of-2 multisig of x and y, funded, and a spend from it.
    let x = node.wallet("x");
    x.init();
    let y = node.wallet("y");
    y.init();
    let (_, x_pk) = x.address();
    let (y_addr, y_pk) = y.address();
    let members = format!("{x_pk},{y_pk}");
    let ms = dev.ok(&["multisig", "address", "--min", "1", &x_pk, &y_pk]);
    let fund = dev.ok(&[
        "wallet",
        "send",
        &s(&ms["address"]),
        "50",
        "--multisig-min",
        "1",
        "--multisig-addresses",
        &members,
    ]);
    confirm(&dev, &fund["txid"]);
    let file = node.dir.path().join("spend.json");
    let f = file.to_string_lossy().into_owned();
    dev.ok(&[
        "multisig",
        "spend",
        &y_addr,
        "5",
        "--min",
        "1",
        "--members",
        &members,
        "--signers",
        &members,
        "--out",
        &f,
    ]);

    // A spend file claiming another network is refused, not signed for that network.
    let other_id = "11".repeat(32);
    let mut forged = SpendFile::load(&file).expect("load");
    forged.genesis_id = other_id.parse().expect("id");
    forged.network = "elsewhere".into();
    let forged_path = node.dir.path().join("forged.json");
    forged.save(&forged_path).expect("save");
    let fp = forged_path.to_string_lossy().into_owned();
    let e = error_of(&x.run(&["multisig", "sign", &fp], ""));
    assert_eq!(e["kind"], "network_mismatch", "{e}");
    assert!(s(&e["message"]).contains("the spend file"), "{e}");
    assert_eq!(
        SpendFile::load(&forged_path)
            .expect("load")
            .signature_status(),
        vec![(0, 2)],
        "nothing was signed"
    );
    // The genuine file is signed with the wallet's (and the node's) genesis ID.
    let signed = x.ok(&["multisig", "sign", &f]);
    assert_eq!(signed["complete"], false, "{signed}");
    assert_eq!(
        SpendFile::load(&file).expect("load").signature_status(),
        vec![(1, 2)]
    );

    // A keystore of an older tfchainc (no network) still opens but signs nothing until
    // its network is set.
    let legacy = node.wallet("legacy");
    legacy_keystore(&legacy, &tfchain_types::Seed([5; 32]));
    let (legacy_addr, _) = legacy.address();
    let fund = dev.ok(&["wallet", "send", &legacy_addr, "20"]);
    confirm(&dev, &fund["txid"]);
    assert_eq!(confirmed(&legacy), tft("20"));
    let e = error_of(&legacy.run(&["wallet", "send", &y_addr, "1"], ""));
    assert_eq!(e["kind"], "network_unset", "{e}");
    assert!(s(&e["message"]).contains("wallet network"), "{e}");
    assert_eq!(confirmed(&legacy), tft("20"), "nothing was sent");
    let shown = legacy.ok(&["wallet", "network"]);
    assert_eq!(shown["network"], Value::Null, "{shown}");
    let set = legacy.ok(&["wallet", "network", "--adopt"]);
    assert_eq!(set["changed"], true, "{set}");
    assert_eq!(s(&set["genesis_id"]), dev_genesis());
    // Replacing a recorded network takes --force.
    let e = error_of(&legacy.run(
        &[
            "wallet",
            "network",
            "--network",
            "x",
            "--genesis-id",
            &other_id,
        ],
        "",
    ));
    assert_eq!(e["kind"], "bad_argument", "{e}");
    assert!(s(&e["message"]).contains("--force"), "{e}");
    let sent = legacy.ok(&["wallet", "send", &y_addr, "1"]);
    confirm(&legacy, &sent["txid"]);

    // Wallets made against the node record its network.
    let shown = x.ok(&["wallet", "network"]);
    assert_eq!(s(&shown["genesis_id"]), dev_genesis(), "{shown}");
    assert_eq!(shown["matches_node"], true, "{shown}");

    // A wallet for another network refuses to sign anything for this node.
    let other = node.wallet("other");
    other.ok(&[
        "wallet",
        "init",
        "--yes",
        "--insecure-fast-kdf",
        "--network",
        "elsewhere",
        "--genesis-id",
        &other_id,
    ]);
    let (other_addr, _) = other.address();
    let fund = dev.ok(&["wallet", "send", &other_addr, "10"]);
    confirm(&dev, &fund["txid"]);
    let shown = other.ok(&["wallet", "network"]);
    assert_eq!(shown["matches_node"], false, "{shown}");
    let e = error_of(&other.run(&["wallet", "send", &y_addr, "1"], ""));
    assert_eq!(e["kind"], "network_mismatch", "{e}");
    let msg = s(&e["message"]);
    assert!(
        msg.contains(&other_id) && msg.contains(&dev_genesis()),
        "{msg}"
    );
    assert!(msg.contains(&node.rpc), "{msg}");
    assert_eq!(s(&e["wallet"]["genesis_id"]), other_id, "{e}");
    assert_eq!(confirmed(&other), tft("10"), "nothing was sent");
}

/// The public key of `w`'s receive address.
fn pk(w: &TestWallet) -> tfchain_types::PublicKey {
    parse_public_key(&w.address().1).expect("public key")
}

#[test]
fn multisig_sign_refuses_foreign_inputs_and_asks_about_the_unusual() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let names = ["x", "y", "z", "w"];
    let wallets: Vec<TestWallet> = names
        .iter()
        .map(|n| {
            let w = node.wallet(n);
            w.init();
            w
        })
        .collect();
    let keys: Vec<String> = wallets.iter().map(|w| w.address().1).collect();
    // A: 2 of x, y, z (what the forged file names). B: 2 of x, z, w (what it spends).
    let a = dev.ok(&[
        "multisig", "address", "--min", "2", &keys[0], &keys[1], &keys[2],
    ]);
    let b_members = format!("{},{},{}", keys[0], keys[2], keys[3]);
    let b = dev.ok(&[
        "multisig", "address", "--min", "2", &keys[0], &keys[2], &keys[3],
    ]);
    let b_addr = s(&b["address"]);
    let fund = dev.ok(&[
        "wallet",
        "send",
        &b_addr,
        "100",
        "--multisig-min",
        "2",
        "--multisig-addresses",
        &b_members,
    ]);
    confirm(&dev, &fund["txid"]);
    let (carol, _) = wallets[1].address();
    let file = node.dir.path().join("b.json");
    let f = file.to_string_lossy().into_owned();
    let signers = format!("{},{}", keys[0], keys[2]);
    dev.ok(&[
        "multisig",
        "spend",
        &carol,
        "40",
        "--min",
        "2",
        "--members",
        &b_members,
        "--signers",
        &signers,
        "--out",
        &f,
    ]);
    let genuine = SpendFile::load(&file).expect("load");
    let x = &wallets[0];
    let write = |name: &str, sf: &SpendFile| -> String {
        let p = node.dir.path().join(name);
        sf.save(&p).expect("save");
        p.to_string_lossy().into_owned()
    };
    let unsigned = |p: &str| {
        SpendFile::load(Path::new(p))
            .expect("load")
            .signature_status()
            .iter()
            .all(|(have, _)| *have == 0)
    };

    // The file names multisig A, but its input is B's: x (a member of both) refuses.
    let mut named_a = genuine.clone();
    named_a.condition = serde_json::from_value(serde_json::json!({
        "min": 2, "addresses": a["members"].clone()
    }))
    .expect("condition");
    let p = write("named-a.json", &named_a);
    let e = error_of(&x.run(&["multisig", "sign", &p], ""));
    assert_eq!(e["kind"], "foreign_input", "{e}");
    let msg = s(&e["message"]);
    assert!(msg.contains("coin input 0"), "{msg}");
    assert!(msg.contains(&format!("locked by {b_addr}")), "{msg}");
    assert!(msg.contains(&s(&a["address"])), "{msg}");
    assert!(unsigned(&p), "nothing was signed");
    // No confirmation lets it through.
    let e = error_of(&x.run(&["multisig", "sign", &p, "--yes"], ""));
    assert_eq!(e["kind"], "foreign_input", "{e}");
    assert!(unsigned(&p), "nothing was signed");

    // A blockstake input of someone else (the dev validator's stake), added to B's spend:
    // refused, even with --yes.
    let outs = dev.ok(&["wallet", "outputs"]);
    let stake = outs["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .find(|o| o["output"]["kind"] == "blockstake")
        .unwrap_or_else(|| panic!("the dev wallet has blockstakes: {outs}"));
    let mut with_stake = genuine.clone();
    with_stake.transaction.blockstake_inputs.push(Input {
        parent: s(&stake["output"]["id"]).parse().expect("output id"),
        fulfillment: unsigned_list(&[pk(x), pk(&wallets[2])]),
    });
    let p = write("stake.json", &with_stake);
    let e = error_of(&x.run(&["multisig", "sign", &p], ""));
    assert_eq!(e["kind"], "foreign_input", "{e}");
    assert!(s(&e["message"]).contains("blockstake input 0"), "{e}");
    assert!(unsigned(&p), "nothing was signed");
    let e = error_of(&x.run(&["multisig", "sign", &p, "--yes"], ""));
    assert_eq!(e["kind"], "foreign_input", "{e}");
    assert!(unsigned(&p), "nothing was signed");

    // Grid operations, blockstake outputs and a high fee: shown, and not signed without
    // confirmation; --json lists the reasons.
    let mut unusual = genuine.clone();
    unusual.transaction.fee = Currency::from_tft(5);
    unusual.transaction.blockstake_outputs.push(StakeOutput {
        value: 3,
        condition: Condition::Address(carol.parse().expect("address")),
    });
    unusual.transaction.grid_ops.push(GridOp::Cancel {
        reservation: 1,
        owner_auth: tfchain_types::unsigned_by(&pk(x)),
    });
    let p = write("unusual.json", &unusual);
    let e = error_of(&x.run(&["multisig", "sign", &p], ""));
    assert_eq!(e["kind"], "needs_confirmation", "{e}");
    let reasons: Vec<String> = e["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("reasons listed: {e}"))
        .iter()
        .map(s)
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("3 blockstakes") && r.contains(&carol)),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("cancel")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("5 TFT")), "{reasons:?}");
    assert!(unsigned(&p), "nothing was signed");
    let ok = x.ok(&["multisig", "sign", &p, "--yes"]);
    assert_eq!(ok["signed"], 1, "{ok}");

    // The genuine spend needs no confirmation, and goes through.
    let one = x.ok(&["multisig", "sign", &f]);
    assert_eq!(one["signed"], 1, "{one}");
    let two = wallets[2].ok(&["multisig", "sign", &f]);
    assert_eq!(two["complete"], true, "{two}");
    let sub = dev.ok(&["multisig", "submit", &f]);
    confirm(&dev, &sub["txid"]);
    assert_eq!(confirmed(&wallets[1]), tft("40"));
}

#[test]
fn a_high_minimum_fee_from_the_node_is_not_paid_unconfirmed() {
    let mut file = tfchain_genesis::builtin("dev").expect("dev").file().clone();
    file.params.min_fee = Currency::from_tft(2);
    let genesis = tfchain_genesis::Genesis::new(file).expect("a valid genesis");
    let node = DevNode::start_with(genesis);
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let alice = node.wallet("alice");
    alice.init();
    let (alice_addr, alice_pk) = alice.address();

    let e = error_of(&dev.run(&["wallet", "send", &alice_addr, "10"], ""));
    assert_eq!(e["kind"], "needs_confirmation", "{e}");
    let reasons = e["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 1, "{e}");
    assert!(
        s(&reasons[0]).contains("minimum fee of 2 TFT"),
        "{reasons:?}"
    );
    // The same for any transaction the wallet builds: a multisig spend, a swap.
    let e = error_of(&dev.run(
        &[
            "multisig",
            "spend",
            &alice_addr,
            "1",
            "--min",
            "1",
            "--members",
            &format!("{alice_pk},{}", "00".repeat(32)),
            "--out",
            &node.dir.path().join("s.json").to_string_lossy(),
        ],
        "",
    ));
    assert_eq!(e["kind"], "needs_confirmation", "{e}");
    let e = error_of(&dev.run(&["swap", "initiate", &alice_addr, "1"], ""));
    assert_eq!(e["kind"], "needs_confirmation", "{e}");

    // Confirmed with --yes, or chosen with --fee: paid.
    let sent = dev.ok(&["wallet", "send", &alice_addr, "10", "--yes"]);
    assert_eq!(sent["fee"], tft("2"), "{sent}");
    confirm(&dev, &sent["txid"]);
    let sent = dev.ok(&["wallet", "send", &alice_addr, "5", "--fee", "2"]);
    confirm(&dev, &sent["txid"]);
    assert_eq!(confirmed(&alice), tft("15"));
}

#[test]
fn review_sorts_inputs_into_refused_and_to_be_confirmed() {
    use tfchain_api::{OutputInfo, OutputKind};
    use tfchain_types::{
        Hash, MultiSigCondition, Output, OutputId, SecretKey, Transaction, TX_VERSION,
    };
    use tfchain_wallet::multisig::{review, SpendInput, SPEND_FORMAT};
    use tfchain_wallet::WalletError;

    let keys: Vec<SecretKey> = (1..=3).map(|i| SecretKey::from_bytes(&[i; 32])).collect();
    let ms = MultiSigCondition {
        min: 2,
        addresses: keys
            .iter()
            .map(|k| tfchain_types::Address::from_public_key(&k.public_key()))
            .collect(),
    };
    let other = MultiSigCondition {
        min: 1,
        addresses: ms.addresses.clone(),
    };
    let signers = [keys[0].public_key(), keys[1].public_key()];
    let (coin_id, stake_id) = (OutputId(Hash([1; 32])), OutputId(Hash([2; 32])));
    let file = SpendFile {
        format: SPEND_FORMAT.into(),
        network: "dev".into(),
        genesis_id: dev_genesis().parse().expect("id"),
        condition: ms.clone(),
        inputs: vec![SpendInput {
            id: coin_id,
            value: Currency::from_tft(10),
        }],
        transaction: Transaction {
            version: TX_VERSION,
            coin_inputs: vec![Input {
                parent: coin_id,
                fulfillment: unsigned_list(&signers),
            }],
            coin_outputs: vec![Output {
                value: Currency::from_tft(9),
                condition: Condition::MultiSig(ms.clone()),
            }],
            blockstake_inputs: vec![Input {
                parent: stake_id,
                fulfillment: unsigned_list(&signers),
            }],
            blockstake_outputs: vec![StakeOutput {
                value: 7,
                condition: Condition::MultiSig(ms.clone()),
            }],
            fee: Currency::from_tft(1),
            arbitrary_data: vec![],
            grid_ops: vec![],
        },
    };
    let out = |id, kind, value: u128, condition: Condition| {
        Some(OutputInfo {
            id,
            kind,
            value,
            condition,
            height: 1,
            mature_at: 1,
            pool_spender: None,
        })
    };
    let locked = Condition::TimeLock {
        until: 5,
        inner: tfchain_types::LockedCondition::MultiSig(ms.clone()),
    };
    let coin = out(coin_id, OutputKind::Coin, 10_000_000_000, locked);
    let stake = out(
        stake_id,
        OutputKind::Blockstake,
        7,
        Condition::MultiSig(ms.clone()),
    );
    let path = Path::new("spend.json");

    // The multisig's own coins (time-locked too) and blockstakes: the blockstakes, in and
    // out, are to be confirmed; a fee of exactly 1 TFT is not.
    let reasons = review(
        &file,
        path,
        std::slice::from_ref(&coin),
        std::slice::from_ref(&stake),
    )
    .expect("reviewed");
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].contains("blockstake input 0 spends 7 blockstakes"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("pays 7 blockstakes"), "{reasons:?}");

    // Refused: another multisig's blockstakes, a blockstake output as a coin input, an
    // unknown output, a lookup of another ID, a value other than the file lists.
    let foreign_stake = out(
        stake_id,
        OutputKind::Blockstake,
        7,
        Condition::MultiSig(other.clone()),
    );
    let err =
        review(&file, path, std::slice::from_ref(&coin), &[foreign_stake]).expect_err("refused");
    assert!(
        matches!(
            err,
            WalletError::ForeignInput {
                kind: "blockstake",
                index: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(&other.address().to_string()),
        "{err}"
    );
    let as_coin = out(
        coin_id,
        OutputKind::Blockstake,
        10,
        Condition::MultiSig(ms.clone()),
    );
    let err = review(&file, path, &[as_coin], std::slice::from_ref(&stake)).expect_err("refused");
    assert!(
        matches!(err, WalletError::ForeignInput { kind: "coin", .. }),
        "{err}"
    );
    let err = review(&file, path, &[None], std::slice::from_ref(&stake)).expect_err("refused");
    assert_eq!(err.kind(), "foreign_input");
    let elsewhere = out(
        OutputId(Hash([9; 32])),
        OutputKind::Coin,
        10_000_000_000,
        Condition::MultiSig(ms.clone()),
    );
    let err = review(&file, path, &[elsewhere], std::slice::from_ref(&stake)).expect_err("refused");
    assert_eq!(err.kind(), "foreign_input");
    let more = out(
        coin_id,
        OutputKind::Coin,
        99_000_000_000,
        Condition::MultiSig(ms.clone()),
    );
    let err = review(&file, path, &[more], &[stake]).expect_err("refused");
    assert_eq!(err.kind(), "spend_file", "{err}");
}
