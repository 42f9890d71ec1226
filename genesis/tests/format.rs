//! The genesis file format: round trips, strictness and specific errors.

use tfchain_consensus::{GenesisError as BuildError, ParamsError};
use tfchain_genesis::{builtin, builtin_json, Genesis, GenesisError, StakeAllocation};
use tfchain_types::limits::MAX_OUTPUTS;
use tfchain_types::{AddressError, Condition};

fn dev_value() -> serde_json::Value {
    serde_json::from_str(builtin_json("dev").expect("dev is built in")).expect("dev.json is JSON")
}

fn parse(v: &serde_json::Value) -> Result<Genesis, GenesisError> {
    Genesis::from_json(&v.to_string())
}

/// An edit of a genesis file's JSON.
type Edit = fn(&mut serde_json::Value);

fn json_msg(e: &GenesisError) -> &str {
    match e {
        GenesisError::Json { msg, .. } => msg,
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn json_round_trip_keeps_the_genesis_id() {
    for name in ["dev", "testnet"] {
        let g = builtin(name).expect("built in");
        let back = Genesis::from_json(&g.to_json_pretty()).expect("its own output parses");
        assert_eq!(back.genesis_id(), g.genesis_id());
        assert_eq!(back, g);
        let compact = serde_json::to_string(g.file()).expect("serializes");
        let back = Genesis::from_json(&compact).expect("compact form parses");
        assert_eq!(back.genesis_id(), g.genesis_id());
    }
}

#[test]
fn unknown_fields_are_rejected_everywhere() {
    let cases: [(&str, Edit); 5] = [
        ("netwrok", |v| {
            v["netwrok"] = "dev".into();
        }),
        ("stake_agin", |v| {
            v["params"]["stake_agin"] = 30.into();
        }),
        ("nom", |v| {
            v["params"]["max_adjust"]["nom"] = 1.into();
        }),
        ("farmer", |v| {
            v["params"]["grid_split"]["farmer"] = 1.into();
        }),
        ("note", |v| {
            v["coin_outputs"][0]["note"] = "x".into();
        }),
    ];
    for (field, edit) in cases {
        let mut v = dev_value();
        edit(&mut v);
        let err = parse(&v).expect_err("an unknown field is an error");
        let msg = json_msg(&err);
        assert!(
            msg.contains("unknown field") && msg.contains(field),
            "{msg}"
        );
    }
    // Inside farms and nodes too.
    let mut v = dev_value();
    v["farms"][0]["nodes"][0]["colour"] = "blue".into();
    let err = parse(&v).expect_err("an unknown node field is an error");
    let msg = json_msg(&err);
    assert!(
        msg.contains("unknown field") && msg.contains("colour"),
        "{msg}"
    );
}

/// Farms are optional; an invalid farm (a bad name, a node of zero capacity, a node key
/// used twice) is refused by the same rules as a grid op in a block.
#[test]
fn initial_farms_are_optional_and_checked() {
    let dev = builtin("dev").expect("built in");
    let mut v = dev_value();
    v.as_object_mut().expect("an object").remove("farms");
    let bare = parse(&v).expect("farms may be omitted");
    assert_ne!(
        bare.genesis_id(),
        dev.genesis_id(),
        "the farms are in the genesis ID"
    );
    assert!(bare.outcome().events.is_empty());

    let bad: [Edit; 3] = [
        |v| v["farms"][0]["name"] = "Dev Farm".into(),
        |v| {
            v["farms"][0]["nodes"][0]["capacity"] =
                serde_json::json!({"cru": 0, "mru": 0, "sru": 0, "hru": 0, "ipv4": 0})
        },
        |v| v["farms"][0]["nodes"][1]["node_key"] = v["farms"][0]["nodes"][0]["node_key"].clone(),
    ];
    for edit in bad {
        let mut v = dev_value();
        edit(&mut v);
        assert!(
            matches!(parse(&v), Err(GenesisError::Build(_))),
            "{:?}",
            parse(&v)
        );
    }
}

#[test]
fn a_missing_parameter_is_named() {
    let mut v = dev_value();
    v["params"]
        .as_object_mut()
        .expect("params is an object")
        .remove("maturity_delay");
    let err = parse(&v).expect_err("every parameter is required");
    assert!(json_msg(&err).contains("missing field `maturity_delay`"));
}

#[test]
fn json_errors_carry_line_and_column() {
    let text = builtin_json("dev")
        .expect("dev is built in")
        .replace("\"block_time\": 2", "\"block_time\": \"2\"");
    let err = Genesis::from_json(&text).expect_err("a string is not a number");
    match &err {
        GenesisError::Json { line, column, msg } => {
            assert_eq!(*line, 5);
            assert!(*column > 0);
            assert!(msg.contains("invalid type"), "{msg}");
            assert!(
                !msg.contains(" at line "),
                "the position is not repeated: {msg}"
            );
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("genesis JSON, line 5 column "));
}

#[test]
fn bad_addresses_and_amounts_are_rejected() {
    let mut v = dev_value();
    let addr = v["coin_outputs"][0]["condition"]["address"]
        .as_str()
        .expect("an address string")
        .to_string();
    let typo = format!("{}0", &addr[..addr.len() - 1]);
    let typo = if typo == addr {
        format!("{}1", &addr[..addr.len() - 1])
    } else {
        typo
    };
    v["coin_outputs"][0]["condition"]["address"] = typo.into();
    let err = parse(&v).expect_err("a wrong checksum");
    assert!(json_msg(&err).contains(&AddressError::BadChecksum.to_string()));

    let mut v = dev_value();
    v["coin_outputs"][0]["value"] = "1.5".into();
    let err = parse(&v).expect_err("TFT is not base units");
    assert!(json_msg(&err).contains("decimal string of base units"));
}

#[test]
fn invalid_parameters_are_a_params_error() {
    let mut v = dev_value();
    v["params"]["stake_aging"] = 10.into(); // D × block_time = 5 × 2 = 10: must exceed it
    let err = parse(&v).expect_err("stake_aging too short");
    assert!(matches!(
        err,
        GenesisError::Params(ParamsError::StakeAgingTooShort { aging: 10, min: 10 })
    ));
    assert!(err.to_string().contains("§5.4"));

    let mut v = dev_value();
    v["params"]["min_fee"] = "0".into();
    assert!(matches!(
        parse(&v),
        Err(GenesisError::Params(ParamsError::MinFeeZero))
    ));

    let mut v = dev_value();
    v["params"]["max_adjust"] = serde_json::json!({"num": 1, "den": 1});
    assert!(matches!(
        parse(&v),
        Err(GenesisError::Params(ParamsError::MaxAdjustInvalid))
    ));
}

#[test]
fn a_genesis_without_blockstakes_is_rejected() {
    let mut v = dev_value();
    v["blockstake_outputs"] = serde_json::json!([]);
    let err = parse(&v).expect_err("no one could produce a block");
    assert!(matches!(err, GenesisError::Build(BuildError::NoStake)));
}

#[test]
fn zero_value_allocations_are_rejected() {
    let mut v = dev_value();
    v["coin_outputs"][3]["value"] = "0".into();
    assert!(matches!(
        parse(&v),
        Err(GenesisError::Build(BuildError::ZeroOutput(3)))
    ));
}

#[test]
fn network_names_are_checked() {
    for bad in ["", "Dev", "my net", "dev/1", &"x".repeat(65)] {
        let mut v = dev_value();
        v["network"] = bad.into();
        assert!(
            matches!(parse(&v), Err(GenesisError::NetworkName { .. })),
            "{bad:?} accepted"
        );
    }
    let mut v = dev_value();
    v["network"] = "local-net_2".into();
    assert!(parse(&v).is_ok());
}

#[test]
fn too_many_outputs_are_rejected() {
    let g = builtin("dev").expect("built in");
    let mut file = g.file().clone();
    let one = file.blockstake_outputs[0].clone();
    file.blockstake_outputs = vec![
        StakeAllocation {
            value: 1,
            condition: one.condition.clone(),
        };
        MAX_OUTPUTS + 1
    ];
    assert!(matches!(
        Genesis::new(file),
        Err(GenesisError::TooManyOutputs { count: 257, .. })
    ));
}

#[test]
fn fee_address_is_optional_and_changes_the_id() {
    let dev = builtin("dev").expect("built in");
    let mut v = dev_value();
    v.as_object_mut().expect("an object").remove("fee_address");
    let without = parse(&v).expect("fee_address may be omitted");
    assert_eq!(without.params().fee_address, None);
    assert_ne!(without.genesis_id(), dev.genesis_id());
    v["fee_address"] = serde_json::Value::Null;
    assert_eq!(
        parse(&v).expect("null is the same as absent").genesis_id(),
        without.genesis_id()
    );
    let Condition::Address(a) = dev.file().coin_outputs[1].condition.clone() else {
        panic!("dev pays to addresses");
    };
    v["fee_address"] = a.to_string().into();
    let with_fee = parse(&v).expect("a single-key fee address is valid");
    assert_eq!(with_fee.params().fee_address, Some(a));
    assert_ne!(with_fee.genesis_id(), without.genesis_id());
}

/// Two networks that differ only in a parameter, or only in name, get different IDs, so
/// a signature (which binds the genesis ID, §4.2) can never replay between them.
#[test]
fn any_parameter_change_changes_the_genesis_id() {
    let dev = builtin("dev").expect("built in");
    let edits: [Edit; 4] = [
        |v| v["params"]["grace_period"] = 31.into(),
        |v| v["params"]["min_fee"] = "10000001".into(),
        |v| v["params"]["grid_split"]["farmer_percent"] = 80.into(),
        |v| v["network"] = "dev2".into(),
    ];
    for edit in edits {
        let mut v = dev_value();
        edit(&mut v);
        let other = parse(&v).expect("still valid");
        assert_eq!(other.file().coin_outputs, dev.file().coin_outputs);
        assert_ne!(other.genesis_id(), dev.genesis_id());
    }
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let dir = std::env::temp_dir().join(format!("tfchain-genesis-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let good = dir.join("good.json");
    std::fs::write(&good, builtin_json("testnet").expect("built in")).expect("write");
    let g = Genesis::load(&good).expect("a valid file loads");
    assert_eq!(g, builtin("testnet").expect("built in"));

    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"network\": \"x\",\n \"oops\": 1}").expect("write");
    let err = Genesis::load(&bad).expect_err("invalid");
    assert!(matches!(err.root(), GenesisError::Json { line: 2, .. }));
    assert!(err.to_string().contains("bad.json"), "{err}");

    let missing = dir.join("missing.json");
    let err = Genesis::load(&missing).expect_err("no such file");
    assert!(matches!(err, GenesisError::Io { .. }));
    assert!(err.to_string().contains("missing.json"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

proptest::proptest! {
    /// Any valid allocation survives the file format and builds a genesis state whose
    /// coins are exactly the sum of its allocations.
    #[test]
    fn allocations_round_trip_and_sum(
        coins in proptest::collection::vec(1u128..=u128::from(u64::MAX), 0..20),
        stakes in proptest::collection::vec(1u64..=1_000_000, 1..8),
        timestamp in 0u64..=u64::from(u32::MAX),
    ) {
        let dev = builtin("dev").expect("built in");
        let mut file = dev.file().clone();
        let condition = file.blockstake_outputs[0].condition.clone();
        file.timestamp = timestamp;
        file.coin_outputs = coins
            .iter()
            .map(|v| tfchain_genesis::CoinAllocation {
                value: tfchain_types::Currency(*v),
                condition: condition.clone(),
            })
            .collect();
        file.blockstake_outputs = stakes
            .iter()
            .map(|v| StakeAllocation { value: *v, condition: condition.clone() })
            .collect();
        let g = Genesis::new(file).expect("valid allocations");
        let back = Genesis::from_json(&g.to_json_pretty()).expect("round trip");
        proptest::prop_assert_eq!(back.genesis_id(), g.genesis_id());
        let state = tfchain_consensus::memory::MemoryState::from_genesis(&g.block(), &g.params())
            .expect("it builds");
        proptest::prop_assert_eq!(state.total_coins().0, coins.iter().sum::<u128>());
        proptest::prop_assert_eq!(state.total_stake(), stakes.iter().sum::<u64>());
    }
}
