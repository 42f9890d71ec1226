//! `tfchainc` without a node: the keystore on disk, passphrases, and the messages of
//! errors a user makes.

mod common;

use common::{tfchainc, TestWallet};

const LEGACY: &str = "carbon boss inject cover mountain fetch fiber fit tornado cloth wing \
                      dinosaur proof joy intact fabric thumb rebel borrow poet chair network expire else";

#[test]
fn init_writes_a_private_encrypted_keystore_and_a_wrong_passphrase_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let w = TestWallet::new(tmp.path(), "w", "http://127.0.0.1:1");
    let j = w.init();
    let words = j["mnemonic"].as_str().expect("the mnemonic is shown once");
    assert_eq!(words.split(' ').count(), 24);
    let file = w.dir.join("wallet.json");
    let text = std::fs::read_to_string(&file).expect("keystore written");
    let ks: serde_json::Value = serde_json::from_str(&text).expect("keystore is JSON");
    assert_eq!(ks["version"], 1);
    assert_eq!(ks["kdf"]["algorithm"], "argon2id");
    assert_eq!(ks["cipher"]["algorithm"], "xchacha20poly1305");
    let seed = tfchain_types::Seed::from_mnemonic(words).expect("a valid mnemonic");
    assert!(
        !text.contains(&hex::encode(seed.0)),
        "the seed is stored in clear"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The same mnemonic derives the shown address.
    let (address, public_key) = w.address();
    let derived = tfchainc(&["key", "derive", "--json"], words).success();
    assert_eq!(derived["address"].as_str(), Some(address.as_str()));
    assert_eq!(derived["public_key"].as_str(), Some(public_key.as_str()));

    // A second init does not overwrite it.
    let (kind, msg) = w
        .run(&["wallet", "init", "--yes", "--insecure-fast-kdf"], "")
        .failure();
    assert_eq!(kind, "wallet_exists");
    assert!(msg.contains("--force"), "{msg}");

    // Wrong passphrase, from a file and from the environment.
    std::fs::write(&w.pass, "not the passphrase\n").expect("write");
    let (kind, msg) = w.run(&["wallet", "address"], "").failure();
    assert_eq!(kind, "wrong_passphrase");
    assert_eq!(msg, "wrong passphrase (or the keystore is damaged)");
    let dir = w.dir.to_string_lossy().into_owned();
    let env_run = std::process::Command::new(env!("CARGO_BIN_EXE_tfchainc"))
        .args(["wallet", "addresses", "--json", "--wallet-dir", &dir])
        .env("TFCHAIN_PASSPHRASE", "passphrase of w")
        .env_remove("TFCHAIN_PASSPHRASE_FILE")
        .output()
        .expect("runs");
    assert!(env_run.status.success(), "{:?}", env_run);
    let env_bad = std::process::Command::new(env!("CARGO_BIN_EXE_tfchainc"))
        .args(["wallet", "addresses", "--json", "--wallet-dir", &dir])
        .env("TFCHAIN_PASSPHRASE", "nope")
        .env_remove("TFCHAIN_PASSPHRASE_FILE")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&env_bad.stdout).contains("wrong_passphrase"));
}

#[test]
fn recover_without_a_node_restores_legacy_addresses() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let w = TestWallet::new(tmp.path(), "legacy", "http://127.0.0.1:1");
    let j = w
        .run(
            &["wallet", "recover", "--no-scan", "--insecure-fast-kdf"],
            LEGACY,
        )
        .success();
    // rivine-compat.json: key 0 of this mnemonic.
    let expected = "015df22a2e82a3323bc6ffbd1730450ed844feca711c8fe0c15e218c171962fd17b206263220ee";
    assert_eq!(j["address"], expected);
    let list = w.ok(&["wallet", "addresses"]);
    assert_eq!(list["addresses"][0]["address"], expected);
    // A new address is key 1.
    let next = w.ok(&["wallet", "address", "--new"]);
    assert_eq!(
        next["address"],
        "01095d1811ae152aad0a5dd40588d8414e3bc3132ce8bd2405df13df164635646e3afe5e3af280"
    );
    assert_eq!(next["index"], 1);
}

#[test]
fn errors_say_what_is_wrong() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let w = TestWallet::new(tmp.path(), "w", "http://127.0.0.1:1");

    // No wallet yet.
    let (kind, msg) = w.run(&["wallet", "balance"], "").failure();
    assert_eq!(kind, "no_wallet");
    assert!(msg.contains("tfchainc wallet init"), "{msg}");

    // The node is unreachable: the URL tried is named.
    let (kind, msg) = w.run(&["chain", "info"], "").failure();
    assert_eq!(kind, "node_unreachable");
    assert!(msg.contains("http://127.0.0.1:1"), "{msg}");
    assert!(msg.contains("is tfchaind running?"), "{msg}");

    // Malformed addresses, with the reason.
    let (kind, msg) = w.run(&["explore", "address", "01abc"], "").failure();
    assert_eq!(kind, "bad_address");
    assert!(msg.contains("78 hex characters, got 5"), "{msg}");
    let typo = "015df22a2e82a3323bc6ffbd1730450ed844feca711c8fe0c15e218c171962fd17b206263220ef";
    let (_, msg) = w.run(&["explore", "address", typo], "").failure();
    assert!(msg.contains("checksum"), "{msg}");

    w.init();
    let a = "015df22a2e82a3323bc6ffbd1730450ed844feca711c8fe0c15e218c171962fd17b206263220ee";
    let b = "01095d1811ae152aad0a5dd40588d8414e3bc3132ce8bd2405df13df164635646e3afe5e3af280";
    let (kind, msg) = w.run(&["wallet", "send", "01zz", "1"], "").failure();
    assert_eq!(kind, "bad_address");
    assert!(msg.contains("01zz"), "{msg}");
    let (kind, msg) = w.run(&["wallet", "send", a, "1.0000000001"], "").failure();
    assert_eq!(kind, "bad_amount");
    assert!(msg.contains("9 decimals"), "{msg}");
    let (kind, _) = w
        .run(&["wallet", "send", a, "1", "--lock-until", "soon"], "")
        .failure();
    assert_eq!(kind, "bad_argument");

    // A multisig needs sane parameters.
    let (kind, msg) =
        tfchainc(&["multisig", "address", "--json", "--min", "3", a, b], "").failure();
    assert_eq!(kind, "multisig_shape");
    assert!(msg.contains("between 1 and 2"), "{msg}");
}
