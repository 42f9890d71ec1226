//! Rivine / tfchain v1 compatibility vectors (PROTOCOL.md §3, §10):
//! `types/tests/vectors/rivine-compat.json`. Every vector of every kind is checked, and an
//! unknown kind fails the test, so the file and this test cannot drift apart silently.

use serde_json::Value;
use std::collections::BTreeMap;
use tfchain_types::hash::blake2b;
use tfchain_types::merkle::merkle_root;
use tfchain_types::{
    Address, AddressError, AddressKind, AtomicSwapCondition, Condition, Hash, LockedCondition,
    MultiSigCondition, PublicKey, Secret, Seed,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/rivine-compat.json"
);

/// Every kind this test knows how to check.
const KINDS: &[&str] = &[
    "mnemonic_to_seed",
    "mnemonic_to_address",
    "pubkey_to_address",
    "multisig_address",
    "atomicswap_address",
    "address_valid",
    "address_invalid",
    "address_checksum_invalid",
    "merkle_root",
    "negative_wrong_derivation",
];

type Check = Result<(), String>;

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("missing field {name:?}"))
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    field(v, name)?
        .as_str()
        .ok_or_else(|| format!("field {name:?} is not a string"))
}

fn u64_field(v: &Value, name: &str) -> Result<u64, String> {
    field(v, name)?
        .as_u64()
        .ok_or_else(|| format!("field {name:?} is not a u64"))
}

fn str_list<'a>(v: &'a Value, name: &str) -> Result<Vec<&'a str>, String> {
    field(v, name)?
        .as_array()
        .ok_or_else(|| format!("field {name:?} is not an array"))?
        .iter()
        .map(|x| {
            x.as_str()
                .ok_or_else(|| format!("field {name:?} holds a non-string"))
        })
        .collect()
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_field(v, name)?).map_err(|e| format!("field {name:?}: bad hex: {e}"))
}

fn hex32(v: &Value, name: &str) -> Result<[u8; 32], String> {
    hex_field(v, name)?
        .try_into()
        .map_err(|b: Vec<u8>| format!("field {name:?}: {} bytes, want 32", b.len()))
}

fn address_field(v: &Value, name: &str) -> Result<Address, String> {
    parse_address(str_field(v, name)?)
}

fn parse_address(s: &str) -> Result<Address, String> {
    s.parse::<Address>()
        .map_err(|e| format!("address {s} does not parse: {e}"))
}

fn ensure<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// The address must print back as `s`, and parse back to itself.
fn check_string_form(addr: &Address, s: &str) -> Check {
    ensure("address string", addr.to_string().as_str(), s)?;
    ensure("parsed address", parse_address(s)?, *addr)
}

fn mnemonic_to_seed(v: &Value) -> Check {
    let phrase = str_field(v, "mnemonic")?;
    let seed = Seed::from_mnemonic(phrase).map_err(|e| e.to_string())?;
    ensure(
        "seed",
        hex::encode(seed.0),
        str_field(v, "seed_hex")?.to_owned(),
    )?;
    ensure("mnemonic round trip", seed.to_mnemonic().as_str(), phrase)?;
    ensure(
        "seed of the printed mnemonic",
        Seed::from_mnemonic(&seed.to_mnemonic()).map_err(|e| e.to_string())?,
        seed,
    )
}

fn mnemonic_to_address(v: &Value) -> Check {
    let phrase = str_field(v, "mnemonic")?;
    let seed = Seed::from_mnemonic(phrase).map_err(|e| e.to_string())?;
    ensure("seed", seed.0, hex32(v, "seed_hex")?)?;
    ensure("mnemonic round trip", seed.to_mnemonic().as_str(), phrase)?;
    let index = u64_field(v, "index")?;
    ensure(
        "key entropy",
        seed.key_entropy(index),
        hex32(v, "key_entropy_hex")?,
    )?;
    let key = seed.derive_key(index);
    ensure("secret key bytes", key.to_bytes(), seed.key_entropy(index))?;
    let pk = key.public_key();
    ensure("public key", pk, PublicKey(hex32(v, "public_key_hex")?))?;
    let addr = Address::from_public_key(&pk);
    ensure("address kind", addr.kind, AddressKind::SingleKey)?;
    ensure(
        "unlock hash",
        addr.to_bytes().to_vec(),
        hex_field(v, "unlock_hash_hex")?,
    )?;
    check_string_form(&addr, str_field(v, "address")?)
}

fn pubkey_to_address(v: &Value) -> Check {
    let pk = PublicKey(hex32(v, "public_key_hex")?);
    let addr = Address::from_public_key(&pk);
    // The documented preimage: u64le(56) ‖ "ed25519" padded to 16 ‖ u64le(32) ‖ key.
    let preimage = hex_field(v, "hash_preimage_hex")?;
    let mut expected_preimage = 56u64.to_le_bytes().to_vec();
    expected_preimage.extend_from_slice(b"ed25519\0\0\0\0\0\0\0\0\0");
    expected_preimage.extend_from_slice(&32u64.to_le_bytes());
    expected_preimage.extend_from_slice(&pk.0);
    ensure("hash preimage", &preimage, &expected_preimage)?;
    ensure("hash of the preimage", blake2b(&preimage), addr.hash)?;
    ensure("address kind", addr.kind, AddressKind::SingleKey)?;
    ensure(
        "unlock hash",
        addr.to_bytes().to_vec(),
        hex_field(v, "unlock_hash_hex")?,
    )?;
    ensure(
        "JSON public key",
        str_field(v, "public_key_json")?.to_owned(),
        format!("ed25519:{pk}"),
    )?;
    check_string_form(&addr, str_field(v, "address")?)
}

fn multisig_address(v: &Value) -> Check {
    let min = u64_field(v, "min_sigs")?;
    let given = str_list(v, "addresses")?
        .into_iter()
        .map(parse_address)
        .collect::<Result<Vec<_>, _>>()?;
    let sorted = str_list(v, "sorted_addresses")?
        .into_iter()
        .map(parse_address)
        .collect::<Result<Vec<_>, _>>()?;
    let want = address_field(v, "address")?;
    ensure("address kind", want.kind, AddressKind::MultiSig)?;
    ensure(
        "multisig of given order",
        Address::multisig(min, &given),
        want,
    )?;
    ensure(
        "multisig of sorted order",
        Address::multisig(min, &sorted),
        want,
    )?;
    let mut reversed = given.clone();
    reversed.reverse();
    ensure(
        "multisig of reversed order",
        Address::multisig(min, &reversed),
        want,
    )?;
    // The sorted list is the given list sorted bytewise.
    let mut resorted = given.clone();
    resorted.sort_by_key(Address::to_bytes);
    ensure("sorted addresses", &resorted, &sorted)?;
    // The documented leaves give the same root.
    let leaves = str_list(v, "merkle_leaves_hex")?
        .into_iter()
        .map(|h| hex::decode(h).map_err(|e| format!("bad leaf hex: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    ensure("merkle root of the leaves", merkle_root(&leaves), want.hash)?;
    let cond = MultiSigCondition {
        min,
        addresses: given,
    };
    ensure("MultiSigCondition::address", cond.address(), want)?;
    ensure(
        "time-locked multisig address",
        Condition::TimeLock {
            until: 1,
            inner: LockedCondition::MultiSig(cond.clone()),
        }
        .address(),
        want,
    )?;
    ensure(
        "Condition::MultiSig address",
        Condition::MultiSig(cond).address(),
        want,
    )?;
    // A different minimum is a different address.
    if Address::multisig(min + 1, &sorted) == want {
        return Err("multisig address ignores min".into());
    }
    check_string_form(&want, str_field(v, "address")?)
}

fn atomicswap_address(v: &Value) -> Check {
    let sender = address_field(v, "sender")?;
    let receiver = address_field(v, "receiver")?;
    let hashed_secret = hex32(v, "hashed_secret")?;
    let timeout = u64_field(v, "timelock")?;
    let want = address_field(v, "address")?;
    ensure("address kind", want.kind, AddressKind::AtomicSwap)?;
    let got = Address::atomic_swap(&sender, &receiver, &hashed_secret, timeout);
    ensure("atomic swap address", got, want)?;
    let preimage = hex_field(v, "hash_preimage_hex")?;
    let mut expected_preimage = 106u64.to_le_bytes().to_vec();
    expected_preimage.extend_from_slice(&sender.to_bytes());
    expected_preimage.extend_from_slice(&receiver.to_bytes());
    expected_preimage.extend_from_slice(&hashed_secret);
    expected_preimage.extend_from_slice(&timeout.to_le_bytes());
    ensure("hash preimage", &preimage, &expected_preimage)?;
    ensure("hash of the preimage", blake2b(&preimage), want.hash)?;
    let cond = AtomicSwapCondition {
        sender,
        receiver,
        hashed_secret: Hash(hashed_secret),
        timeout,
    };
    ensure("AtomicSwapCondition::address", cond.address(), want)?;
    ensure(
        "Condition::AtomicSwap address",
        Condition::AtomicSwap(cond).address(),
        want,
    )?;
    // Sender and receiver are not interchangeable.
    if sender != receiver
        && Address::atomic_swap(&receiver, &sender, &hashed_secret, timeout) == want
    {
        return Err("atomic swap address ignores sender/receiver order".into());
    }
    if v.get("secret").is_some() {
        let secret = Secret(hex32(v, "secret")?);
        let matches = field(v, "sha256_secret_matches")?
            .as_bool()
            .ok_or("sha256_secret_matches is not a bool")?;
        ensure(
            "SHA-256(secret) == hashed_secret",
            secret.hashed() == Hash(hashed_secret),
            matches,
        )?;
    } else if v.get("sha256_secret_matches").is_some() {
        return Err("sha256_secret_matches without a secret".into());
    }
    check_string_form(&want, str_field(v, "address")?)
}

fn address_valid(v: &Value) -> Check {
    let s = str_field(v, "address")?;
    let addr = parse_address(s)?;
    let ty = u64_field(v, "type")?;
    ensure("type byte", u64::from(addr.kind.byte()), ty)?;
    ensure("first byte", u64::from(addr.to_bytes()[0]), ty)?;
    ensure("printed address", addr.to_string().as_str(), s)
}

/// The error a rejected address string must give, when the vector's reason names it.
fn expected_error(kind: &str, reason: &str, s: &str) -> Option<AddressError> {
    let reason = reason.to_lowercase();
    if reason.contains("wrong length") {
        Some(AddressError::WrongLength(s.len()))
    } else if reason.contains("nil type") {
        // Type 0 has no string form (§3): rejected as such before the checksum.
        Some(AddressError::NilType)
    } else if reason.contains("checksum") || kind == "address_checksum_invalid" {
        Some(AddressError::BadChecksum)
    } else {
        None
    }
}

fn address_rejected(kind: &str, v: &Value) -> Check {
    let s = str_field(v, "address")?;
    let reason = str_field(v, "reason")?;
    match (s.parse::<Address>(), expected_error(kind, reason, s)) {
        (Ok(a), _) => Err(format!("invalid address {s} ({reason}) parsed as {a:?}")),
        (Err(e), Some(want)) => ensure(&format!("error for {reason:?}"), e, want),
        (Err(_), None) => Ok(()),
    }
}

fn merkle_root_vector(v: &Value) -> Check {
    let leaves = str_list(v, "leaves_hex")?
        .into_iter()
        .map(|h| hex::decode(h).map_err(|e| format!("bad leaf hex: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    ensure(
        "merkle root",
        merkle_root(&leaves),
        Hash(hex32(v, "root_hex")?),
    )
}

fn negative_wrong_derivation(v: &Value) -> Check {
    let seed = Seed::from_mnemonic(str_field(v, "mnemonic")?).map_err(|e| e.to_string())?;
    let index = u64_field(v, "index")?;
    let addr = Address::from_public_key(&seed.derive_key(index).public_key());
    let correct = str_field(v, "correct_address")?;
    let wrong = str_field(v, "wrong_address")?;
    ensure("derived address", addr.to_string().as_str(), correct)?;
    if addr.to_string() == wrong {
        return Err(format!(
            "derivation makes the mistake {:?}",
            v.get("mistake")
        ));
    }
    // The wrong address is a well-formed address, just not ours.
    if let Ok(parsed) = wrong.parse::<Address>() {
        if parsed == addr {
            return Err("wrong address parses to the derived address".into());
        }
    }
    Ok(())
}

fn check(kind: &str, v: &Value) -> Check {
    match kind {
        "mnemonic_to_seed" => mnemonic_to_seed(v),
        "mnemonic_to_address" => mnemonic_to_address(v),
        "pubkey_to_address" => pubkey_to_address(v),
        "multisig_address" => multisig_address(v),
        "atomicswap_address" => atomicswap_address(v),
        "address_valid" => address_valid(v),
        "address_invalid" | "address_checksum_invalid" => address_rejected(kind, v),
        "merkle_root" => merkle_root_vector(v),
        "negative_wrong_derivation" => negative_wrong_derivation(v),
        other => Err(format!(
            "unknown vector kind {other:?}: teach this test about it"
        )),
    }
}

fn load() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("read {VECTORS}: {e}"));
    let root: Value = serde_json::from_str(&text).expect("the vector file is valid JSON");
    root.get("vectors")
        .and_then(Value::as_array)
        .expect("the vector file has a \"vectors\" array")
        .clone()
}

#[test]
fn every_rivine_vector_holds() {
    let vectors = load();
    let mut in_file: BTreeMap<String, usize> = BTreeMap::new();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let Some(kind) = v.get("kind").and_then(Value::as_str) else {
            failures.push(format!("vector {i}: no \"kind\""));
            continue;
        };
        *in_file.entry(kind.to_owned()).or_default() += 1;
        match check(kind, v) {
            Ok(()) => *checked.entry(kind.to_owned()).or_default() += 1,
            Err(e) => failures.push(format!(
                "vector {i} ({kind}, source {}): {e}",
                v.get("source").and_then(Value::as_str).unwrap_or("?")
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    assert_eq!(checked, in_file, "every vector of every kind is checked");
    assert_eq!(checked.values().sum::<usize>(), vectors.len());
    for kind in KINDS {
        assert!(
            checked.get(*kind).is_some_and(|n| *n > 0),
            "the vector file has no {kind:?} vector: is it the right file?"
        );
    }
    for kind in in_file.keys() {
        assert!(KINDS.contains(&kind.as_str()), "unknown kind {kind:?}");
    }
}

#[test]
fn an_unknown_kind_is_not_silently_accepted() {
    let v: Value = serde_json::json!({ "kind": "brand_new_kind" });
    assert!(check("brand_new_kind", &v).is_err());
}

/// The checks can fail: corrupting the expected value of any vector is caught.
#[test]
fn a_corrupted_vector_is_caught() {
    let vectors = load();
    let first = |kind: &str| {
        vectors
            .iter()
            .find(|v| v.get("kind").and_then(Value::as_str) == Some(kind))
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} vector"))
    };
    let other_address = string_with_valid_checksum(1, [0x42; 32]);
    let corruptions: &[(&str, &str, Value)] = &[
        (
            "mnemonic_to_seed",
            "seed_hex",
            hex::encode([1u8; 32]).into(),
        ),
        ("mnemonic_to_address", "index", 7.into()),
        (
            "mnemonic_to_address",
            "key_entropy_hex",
            hex::encode([1u8; 32]).into(),
        ),
        ("pubkey_to_address", "address", other_address.clone().into()),
        ("multisig_address", "min_sigs", 3.into()),
        ("atomicswap_address", "timelock", 1.into()),
        ("atomicswap_address", "sha256_secret_matches", false.into()),
        ("address_valid", "type", 2.into()),
        ("address_invalid", "address", other_address.clone().into()),
        (
            "address_checksum_invalid",
            "address",
            other_address.clone().into(),
        ),
        ("merkle_root", "leaves_hex", serde_json::json!(["01", "02"])),
        ("negative_wrong_derivation", "index", 1.into()),
    ];
    for (kind, name, value) in corruptions {
        let mut v = first(kind);
        assert!(check(kind, &v).is_ok(), "{kind} vector holds before");
        v[*name] = value.clone();
        assert!(check(kind, &v).is_err(), "{kind} with a wrong {name}");
    }
    // A derivation that made the documented mistake is caught.
    let mut v = first("negative_wrong_derivation");
    v["wrong_address"] = v["correct_address"].clone();
    assert!(check("negative_wrong_derivation", &v).is_err());
}

/// A syntactically valid string for `kind_byte ‖ hash` with the correct checksum.
fn string_with_valid_checksum(kind_byte: u8, hash: [u8; 32]) -> String {
    let mut raw = vec![kind_byte];
    raw.extend_from_slice(&hash);
    let checksum = blake2b(&raw);
    format!("{}{}", hex::encode(&raw), hex::encode(&checksum.0[..6]))
}

#[test]
fn nil_type_is_rejected() {
    let s = string_with_valid_checksum(0, [0u8; 32]);
    assert_eq!(s.len(), 78);
    assert_eq!(s.parse::<Address>(), Err(AddressError::NilType));
    let s = string_with_valid_checksum(0, [9u8; 32]);
    assert_eq!(s.parse::<Address>(), Err(AddressError::NilType));
    // NIL prints, but the printed form does not parse back (§3: no nil address).
    assert_eq!(
        Address::NIL.to_string().parse::<Address>(),
        Err(AddressError::NilType)
    );
}

#[test]
fn unknown_type_is_rejected() {
    for ty in [4u8, 7, 0x80, 0xff] {
        let s = string_with_valid_checksum(ty, [3u8; 32]);
        assert_eq!(s.parse::<Address>(), Err(AddressError::UnknownType(ty)));
    }
}

#[test]
fn known_types_with_valid_checksum_parse() {
    for (ty, kind) in [
        (1u8, AddressKind::SingleKey),
        (2, AddressKind::AtomicSwap),
        (3, AddressKind::MultiSig),
    ] {
        let s = string_with_valid_checksum(ty, [5u8; 32]);
        let a: Address = s.parse().expect("valid address");
        assert_eq!(a.kind, kind);
        assert_eq!(a.hash, Hash([5u8; 32]));
        assert_eq!(a.to_string(), s);
    }
}

#[test]
fn bad_hex_is_rejected() {
    let good = string_with_valid_checksum(1, [1u8; 32]);
    for pos in [0, 1, 2, 40, 77] {
        for bad in ['g', 'z', ' ', '-'] {
            let mut s: Vec<char> = good.chars().collect();
            s[pos] = bad;
            let s: String = s.into_iter().collect();
            assert_eq!(s.len(), 78);
            assert_eq!(s.parse::<Address>(), Err(AddressError::BadHex), "{s}");
        }
    }
    // A 78-byte string that is not ASCII is bad hex, not a panic.
    let s = format!("{}é", &good[..76]);
    assert_eq!(s.len(), 78);
    assert_eq!(s.parse::<Address>(), Err(AddressError::BadHex));
}

#[test]
fn wrong_length_is_rejected() {
    let good = string_with_valid_checksum(1, [1u8; 32]);
    for len in [0, 1, 76, 77] {
        assert_eq!(
            good[..len].parse::<Address>(),
            Err(AddressError::WrongLength(len))
        );
    }
    assert_eq!(
        format!("{good}0").parse::<Address>(),
        Err(AddressError::WrongLength(79))
    );
}

#[test]
fn every_single_character_change_is_caught() {
    let good = string_with_valid_checksum(1, [0x5au8; 32]);
    let hex_digits = "0123456789abcdef";
    for pos in 0..good.len() {
        for c in hex_digits.chars() {
            let mut s: Vec<char> = good.chars().collect();
            if s[pos] == c {
                continue;
            }
            s[pos] = c;
            let s: String = s.into_iter().collect();
            assert!(s.parse::<Address>().is_err(), "{s} parsed");
        }
    }
}
