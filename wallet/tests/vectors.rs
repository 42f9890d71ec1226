//! Every mnemonic and key vector of `types/tests/vectors/rivine-compat.json` through the real
//! `tfchainc` binary (PROTOCOL.md §3, §10): legacy Rivine/tfchain users typing their old
//! seed must see their old addresses.

mod common;

use common::tfchainc;
use serde_json::Value;
use tfchain_types::{Address, Seed};

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../types/tests/vectors/rivine-compat.json"
    );
    let text =
        std::fs::read_to_string(path).expect("the vectors in types/tests/vectors are readable");
    let v: Value = serde_json::from_str(&text).expect("the vectors are JSON");
    v["vectors"].as_array().cloned().unwrap_or_default()
}

fn of_kind(kind: &str) -> Vec<Value> {
    let v: Vec<Value> = vectors()
        .into_iter()
        .filter(|v| v["kind"] == kind)
        .collect();
    assert!(!v.is_empty(), "no {kind} vectors");
    v
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("vector field {k} missing: {v}"))
        .to_string()
}

fn derive(mnemonic: &str, index: u64) -> Value {
    tfchainc(
        &["key", "derive", "--index", &index.to_string(), "--json"],
        mnemonic,
    )
    .success()
}

#[test]
fn mnemonic_to_address_vectors() {
    for v in of_kind("mnemonic_to_address") {
        let index = v["index"].as_u64().expect("index");
        let mnemonic = s(&v, "mnemonic");
        let seed = Seed::from_mnemonic(&mnemonic).expect("the vector's mnemonic parses");
        assert_eq!(hex::encode(seed.0), s(&v, "seed_hex"));
        assert_eq!(
            hex::encode(seed.key_entropy(index)),
            s(&v, "key_entropy_hex")
        );
        let j = derive(&mnemonic, index);
        assert_eq!(j["address"], v["address"], "{mnemonic} #{index}");
        assert_eq!(j["public_key"], v["public_key_hex"], "{mnemonic} #{index}");
        assert_eq!(j["index"], index);
    }
}

#[test]
fn mnemonic_to_seed_vectors() {
    for v in of_kind("mnemonic_to_seed") {
        let mnemonic = s(&v, "mnemonic");
        let mut seed = [0u8; 32];
        hex::decode_to_slice(s(&v, "seed_hex"), &mut seed).expect("seed hex");
        let expected = Address::from_public_key(&Seed(seed).derive_key(0).public_key());
        // Extra whitespace and capitals are accepted like Rivine's wallet did.
        let typed = format!("  {}\n", mnemonic.to_uppercase().replace(' ', "  "));
        let j = derive(&typed, 0);
        assert_eq!(j["address"].as_str(), Some(expected.to_string().as_str()));
    }
}

#[test]
fn wrong_derivations_are_not_reproduced() {
    for v in of_kind("negative_wrong_derivation") {
        let index = v["index"].as_u64().expect("index");
        let j = derive(&s(&v, "mnemonic"), index);
        assert_eq!(j["address"], v["correct_address"]);
        assert_ne!(j["address"], v["wrong_address"]);
    }
}

#[test]
fn public_key_to_address_vectors() {
    for v in of_kind("pubkey_to_address") {
        for form in [s(&v, "public_key_hex"), s(&v, "public_key_json")] {
            let j = tfchainc(&["key", "address", &form, "--json"], "").success();
            assert_eq!(j["address"], v["address"], "{form}");
        }
    }
}

#[test]
fn multisig_address_vectors() {
    for v in of_kind("multisig_address") {
        let min = v["min_sigs"].as_u64().expect("min").to_string();
        let mut args = vec!["multisig", "address", "--json", "--min", &min];
        let addrs: Vec<String> = v["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .filter_map(|a| a.as_str().map(String::from))
            .collect();
        args.extend(addrs.iter().map(String::as_str));
        let j = tfchainc(&args, "").success();
        assert_eq!(j["address"], v["address"]);
    }
}

#[test]
fn bad_mnemonics_are_refused_with_the_reason() {
    let r = tfchainc(&["key", "derive", "--json"], "abandon abandon abandon");
    let (kind, msg) = r.failure();
    assert_eq!(kind, "mnemonic");
    assert!(msg.contains("24 English BIP-39 words"), "{msg}");
    // A 12-word mnemonic is valid BIP-39 but not a wallet seed.
    let twelve = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                  abandon abandon about";
    let (kind, msg) = tfchainc(&["key", "derive", "--json"], twelve).failure();
    assert_eq!(kind, "mnemonic");
    assert!(msg.contains("24 words"), "{msg}");
}
