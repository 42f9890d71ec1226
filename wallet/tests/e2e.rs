//! End to end against a real dev node: wallets created and recovered with `tfchainc`,
//! payments, a 2-of-3 multisig spend, and atomic swaps claimed and refunded. Every wait
//! polls the node; none sleeps a fixed time.

mod common;
mod devnode;

use devnode::{confirm, confirmed, tft, DevNode};

#[test]
fn payments_between_wallets() {
    let node = DevNode::start();
    // The default recovery scan (2,500 indices plus a gap) finds the dev keys 0..9.
    let (dev, rec) = node.dev_wallet(&[]);
    let used: Vec<u64> = rec["used_indices"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
        .unwrap_or_default();
    for i in 0..10 {
        assert!(
            used.contains(&i),
            "index {i} not found by the scan: {used:?}"
        );
    }

    let alice = node.wallet("alice");
    alice.init();
    let bob = node.wallet("bob");
    bob.init();
    let (alice_addr, _) = alice.address();
    let (bob_addr, _) = bob.address();

    // Receive from the dev account.
    let sent = dev.ok(&["wallet", "send", &alice_addr, "1000"]);
    assert_eq!(
        sent["fee"],
        tft("0.01"),
        "the default fee is the network minimum"
    );
    confirm(&dev, &sent["txid"]);
    assert_eq!(confirmed(&alice), tft("1000"));

    // Alice pays Bob, with data; the change goes to a fresh address of Alice's.
    let pay = alice.ok(&["wallet", "send", &bob_addr, "250.5", "--data", "invoice 42"]);
    let change = pay["change_address"].as_str().expect("change").to_string();
    assert_ne!(change, alice_addr);
    let tx = confirm(&alice, &pay["txid"]);
    assert_eq!(
        tx["transaction"]["arbitrary_data"],
        hex::encode("invoice 42"),
        "{tx}"
    );
    assert_eq!(confirmed(&bob), tft("250.5"));
    assert_eq!(confirmed(&alice), tft("749.49"));
    let addrs = alice.ok(&["wallet", "addresses"]);
    assert!(addrs.to_string().contains(&change));

    // A time-locked payment shows as locked, not spendable.
    let lock = bob.ok(&[
        "wallet",
        "send",
        &alice_addr,
        "10",
        "--lock-until",
        "400000000",
    ]);
    confirm(&bob, &lock["txid"]);
    let bal = alice.ok(&["wallet", "balance"]);
    assert_eq!(bal["locked"], tft("10"));
    assert_eq!(bal["confirmed"], tft("749.49"));

    // History, newest first, a transaction counted once across the wallet's addresses.
    let hist = alice.ok(&["wallet", "history"]);
    let entries = hist["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{hist}");
    assert_eq!(entries[1]["txid"], pay["txid"]);
    assert_eq!(entries[1]["sent"], tft("1000"));
    assert_eq!(entries[1]["received"], tft("749.49"));
    let outs = alice.ok(&["wallet", "outputs"]);
    assert_eq!(outs["outputs"].as_array().map(Vec::len), Some(2), "{outs}");

    // Errors: insufficient funds with the amounts; a wrong passphrase.
    let (kind, msg) = alice
        .run(&["wallet", "send", &bob_addr, "5000"], "")
        .failure();
    assert_eq!(kind, "insufficient_funds");
    assert!(
        msg.contains("need 5000.01 TFT (incl. 0.01 TFT fee), have 749.49 TFT spendable"),
        "{msg}"
    );
    assert!(msg.contains("10 TFT time-locked"), "{msg}");
    std::fs::write(&alice.pass, "wrong\n").expect("write");
    let (kind, msg) = alice.run(&["wallet", "send", &bob_addr, "1"], "").failure();
    assert_eq!(kind, "wrong_passphrase");
    assert_eq!(msg, "wrong passphrase (or the keystore is damaged)");

    // The dev wallet's producer rewards show as immature with their maturity height.
    let bal = dev.ok(&["wallet", "balance"]);
    assert_ne!(bal["immature"], "0", "{bal}");
    assert!(bal["immature_outputs"][0]["mature_at"].as_u64().is_some());
}

#[test]
fn multisig_two_of_three() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let members: Vec<_> = ["x", "y", "z"]
        .iter()
        .map(|n| {
            let w = node.wallet(n);
            w.init();
            let (_, pk) = w.address();
            (w, pk)
        })
        .collect();
    let pks: Vec<&str> = members.iter().map(|(_, pk)| pk.as_str()).collect();
    let csv = pks.join(",");
    let ms = dev.ok(&["multisig", "address", "--min", "2", pks[0], pks[1], pks[2]]);
    let ms_addr = ms["address"].as_str().expect("address").to_string();

    // Without the condition, a multisig address cannot be paid.
    let (kind, _) = dev.run(&["wallet", "send", &ms_addr, "100"], "").failure();
    assert_eq!(kind, "multisig_condition_needed");
    let fund = dev.ok(&[
        "wallet",
        "send",
        &ms_addr,
        "100",
        "--multisig-min",
        "2",
        "--multisig-addresses",
        &csv,
    ]);
    confirm(&dev, &fund["txid"]);

    let carol = node.wallet("carol");
    carol.init();
    let (carol_addr, _) = carol.address();
    let file = node.dir.path().join("spend.json");
    let f = file.to_string_lossy().into_owned();
    let signers = format!("{},{}", pks[0], pks[2]);
    dev.ok(&[
        "multisig",
        "spend",
        &carol_addr,
        "40",
        "--min",
        "2",
        "--members",
        &csv,
        "--signers",
        &signers,
        "--out",
        &f,
    ]);

    let (kind, msg) = dev.run(&["multisig", "submit", &f], "").failure();
    assert_eq!(kind, "not_enough_signatures");
    assert!(msg.contains("0 valid signature(s) of the 2"), "{msg}");
    // Y is a member but not one of the chosen signers.
    let (kind, _) = members[1].0.run(&["multisig", "sign", &f], "").failure();
    assert_eq!(kind, "not_a_signer");
    let s = members[0].0.ok(&["multisig", "sign", &f]);
    assert_eq!(s["complete"], false);
    let (kind, _) = dev.run(&["multisig", "submit", &f], "").failure();
    assert_eq!(kind, "not_enough_signatures");
    let s = members[2].0.ok(&["multisig", "sign", &f]);
    assert_eq!(s["complete"], true);
    let sub = dev.ok(&["multisig", "submit", &f]);
    assert_eq!(sub["txid"], s["txid"], "signing did not change the TxId");
    confirm(&dev, &sub["txid"]);

    assert_eq!(confirmed(&carol), tft("40"));
    let msj = dev.ok(&["explore", "address", &ms_addr]);
    assert_eq!(msj["balance"]["confirmed"], tft("59.99"));
}

#[test]
fn atomic_swaps_claimed_and_refunded() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let alice = node.wallet("alice");
    alice.init();
    let bob = node.wallet("bob");
    bob.init();
    let (alice_addr, _) = alice.address();
    let (bob_addr, _) = bob.address();
    let a = dev.ok(&["wallet", "send", &alice_addr, "100"]);
    let b = dev.ok(&["wallet", "send", &bob_addr, "100"]);
    confirm(&dev, &a["txid"]);
    confirm(&dev, &b["txid"]);

    // Alice initiates; Bob audits and participates with the same hash.
    let init = alice.ok(&["swap", "initiate", &bob_addr, "10"]);
    let secret = init["secret"].as_str().expect("secret").to_string();
    let hashed = init["hashed_secret"].as_str().expect("hash").to_string();
    let out_a = init["output_id"].as_str().expect("output").to_string();
    confirm(&alice, &init["txid"]);
    let audit = bob.ok(&[
        "swap",
        "audit",
        &out_a,
        "--amount",
        "10",
        "--hashed-secret",
        &hashed,
        "--receiver",
        &bob_addr,
        "--min-remaining",
        "40h",
    ]);
    assert_eq!(audit["contract_address"], init["contract_address"]);
    let (kind, _) = bob
        .run(&["swap", "audit", &out_a, "--amount", "11"], "")
        .failure();
    assert_eq!(kind, "swap_mismatch");
    let part = bob.ok(&["swap", "participate", &alice_addr, "5", &hashed]);
    let out_b = part["output_id"].as_str().expect("output").to_string();
    confirm(&bob, &part["txid"]);

    // Too early to refund; a wrong secret is refused before anything is sent.
    let (kind, _) = alice.run(&["swap", "refund", &out_a], "").failure();
    assert_eq!(kind, "swap_not_expired");
    let (kind, _) = alice
        .run(&["swap", "claim", &out_b, &"00".repeat(32)], "")
        .failure();
    assert_eq!(kind, "wrong_secret");

    // Alice claims Bob's contract, revealing the secret; Bob extracts it and claims hers.
    let claim_a = alice.ok(&["swap", "claim", &out_b, &secret]);
    confirm(&alice, &claim_a["txid"]);
    let txid = claim_a["txid"].as_str().expect("txid");
    let found = bob.ok(&["swap", "extract", txid, "--hashed-secret", &hashed]);
    assert_eq!(found["secret"], secret);
    let contract_b = part["contract_address"].as_str().expect("contract");
    assert_eq!(bob.ok(&["swap", "extract", contract_b])["secret"], secret);
    let claim_b = bob.ok(&["swap", "claim", &out_a, &secret]);
    confirm(&bob, &claim_b["txid"]);
    // Bob: 100 - 5 - 0.01 (participate) + 10 - 0.01 (claim).
    assert_eq!(confirmed(&bob), tft("104.98"));
    assert_eq!(confirmed(&alice), tft("94.98"));

    // A second swap times out unclaimed and is refunded.
    let init = alice.ok(&["swap", "initiate", &bob_addr, "7", "--timeout", "6s"]);
    let out = init["output_id"].as_str().expect("output").to_string();
    let secret2 = init["secret"].as_str().expect("secret").to_string();
    let timeout = init["timeout"].as_u64().expect("timeout");
    confirm(&alice, &init["txid"]);
    node.wait_tip_time(timeout, 60);
    let (kind, _) = bob.run(&["swap", "claim", &out, &secret2], "").failure();
    assert_eq!(kind, "swap_expired");
    let refund = alice.ok(&["swap", "refund", &out]);
    confirm(&alice, &refund["txid"]);
    // 94.98 - 7 - 0.01 + 7 - 0.01
    assert_eq!(confirmed(&alice), tft("94.96"));
}
