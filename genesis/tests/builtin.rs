//! The built-in networks: pinned genesis IDs, the well-known keys, the §9 values, and a
//! dev chain that really produces blocks.

use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{dev_params, payment};
use tfchain_consensus::{ChainParams, GridSplit, Ratio, StakeEntry};
use tfchain_genesis::builtin::{
    DEV_COINS_EACH, DEV_FUNDED_KEYS, DEV_VALIDATOR_STAKE, TESTNET_VALIDATORS,
    TESTNET_VALIDATOR_STAKE,
};
use tfchain_genesis::{
    builtin, builtin_json, dev_seed, params_commitment, testnet_seed, Genesis, BUILTIN_NETWORKS,
    DEV_FARM_OWNER_KEY, DEV_FEE_KEY, DEV_MNEMONIC, DEV_NODE_KEYS, TESTNET_MNEMONIC,
};
use tfchain_types::hash::blake2b;
use tfchain_types::{Address, BlockId, Condition, Currency, OutputId, Seed};

/// Pinned so that any change to the genesis format, the encoding or the parameters fails
/// loudly. Changing one of these starts a new network: do it on purpose only.
const DEV_GENESIS_ID: &str = "955b5d57bc456c3c471f859d3a1ce3f7f2dc2085449f5178f2991154585d4345";
const TESTNET_GENESIS_ID: &str = "cb7576aeddb433f7499cbd9d337de500f6facc60c890d45e557cd8f550944323";

fn address(seed: &Seed, index: u64) -> Address {
    Address::from_public_key(&seed.derive_key(index).public_key())
}

fn dev() -> Genesis {
    builtin("dev").expect("dev is built in")
}

fn testnet() -> Genesis {
    builtin("testnet").expect("testnet is built in")
}

#[test]
fn genesis_ids_are_pinned() {
    assert_eq!(dev().genesis_id().to_string(), DEV_GENESIS_ID);
    assert_eq!(testnet().genesis_id().to_string(), TESTNET_GENESIS_ID);
    assert_eq!(dev().params().genesis_id, dev().block().id());
    assert_eq!(testnet().params().genesis_id, testnet().block().id());
}

#[test]
fn every_builtin_name_resolves_and_no_other() {
    for name in BUILTIN_NETWORKS {
        let g = builtin(name).expect("listed networks are built in");
        assert_eq!(g.network(), name);
        assert_eq!(g.params().network, name);
    }
    assert!(builtin("mainnet").is_none());
    assert!(builtin("Dev").is_none());
}

#[test]
fn builtin_files_are_in_canonical_form() {
    for name in BUILTIN_NETWORKS {
        let json = builtin_json(name).expect("listed networks have a file");
        let g = builtin(name).expect("listed networks are built in");
        assert_eq!(
            g.to_json_pretty(),
            json,
            "networks/{name}.json is not canonical"
        );
    }
}

#[test]
fn the_allocation_commits_to_the_parameters() {
    for g in [dev(), testnet()] {
        let block = g.block();
        let [tx] = block.transactions.as_slice() else {
            panic!("the genesis block holds one transaction");
        };
        assert_eq!(tx.arbitrary_data, params_commitment(&g.params()).0.to_vec());
        assert!(tx.coin_inputs.is_empty() && tx.blockstake_inputs.is_empty());
        assert!(tx.fee.is_zero());
        assert_eq!(block.header.parent, BlockId::ZERO);
        assert_eq!(block.header.timestamp, g.timestamp());
    }
}

#[test]
fn dev_mnemonic_is_the_documented_seed() {
    let seed = dev_seed();
    assert_eq!(seed.0, blake2b(b"tfchain dev network").0);
    assert_eq!(seed.to_mnemonic(), DEV_MNEMONIC);
    assert_eq!(Seed::from_mnemonic(DEV_MNEMONIC), Ok(seed));
    let seed = testnet_seed();
    assert_eq!(seed.0, blake2b(b"tfchain testnet v1").0);
    assert_eq!(seed.to_mnemonic(), TESTNET_MNEMONIC);
}

#[test]
fn dev_allocations_are_the_dev_mnemonic_keys() {
    let seed = Seed::from_mnemonic(DEV_MNEMONIC).expect("DEV_MNEMONIC is a valid mnemonic");
    let g = dev();
    let file = g.file();
    assert_eq!(file.blockstake_outputs.len(), 1);
    assert_eq!(file.blockstake_outputs[0].value, DEV_VALIDATOR_STAKE);
    assert_eq!(
        file.blockstake_outputs[0].condition,
        Condition::Address(address(&seed, 0))
    );
    let expected: Vec<(Currency, Condition)> = (0..DEV_FUNDED_KEYS)
        .map(|i| (DEV_COINS_EACH, Condition::Address(address(&seed, i))))
        .collect();
    let actual: Vec<(Currency, Condition)> = file
        .coin_outputs
        .iter()
        .map(|o| (o.value, o.condition.clone()))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(file.fee_address, Some(address(&seed, DEV_FEE_KEY)));
}

/// The dev genesis registers farm 1 (`devfarm`, owned by dev key 1) with nodes 1 and 2
/// (node keys 100 and 101), Up and unused, through the same contract code as any block.
#[test]
fn dev_genesis_registers_the_dev_farm_and_two_nodes() {
    use tfchain_contracts::GridReads;
    use tfchain_types::NodeState;
    let seed = dev_seed();
    let g = dev();
    let state = MemoryState::from_genesis(&g.block(), &g.params()).expect("dev builds");
    let farm = state.farm(1).expect("farm 1 exists");
    assert_eq!(farm.name.as_str(), "devfarm");
    assert_eq!(
        farm.owner,
        Condition::Address(address(&seed, DEV_FARM_OWNER_KEY))
    );
    assert_eq!(farm.payout, address(&seed, DEV_FARM_OWNER_KEY));
    for (i, key) in DEV_NODE_KEYS.iter().enumerate() {
        let node = state.node(i as u32 + 1).expect("dev nodes exist");
        assert_eq!(node.farm, 1);
        assert_eq!(node.node_key, seed.derive_key(*key).public_key());
        assert_eq!(node.state, NodeState::Up);
        assert!(node.used.is_zero() && !node.capacity.is_zero());
        assert!(node
            .price
            .rate(&node.capacity)
            .is_some_and(|r| !r.is_zero()));
    }
    assert!(state.node(3).is_none() && state.farm(2).is_none());
    assert_eq!(
        g.outcome().events.len(),
        3,
        "one farm and two nodes registered"
    );
}

#[test]
fn testnet_allocations_are_the_testnet_seed_keys() {
    let seed = testnet_seed();
    let file = testnet().file().clone();
    let stakes: Vec<(u64, Condition)> = file
        .blockstake_outputs
        .iter()
        .map(|o| (o.value, o.condition.clone()))
        .collect();
    let expected: Vec<(u64, Condition)> = (0..TESTNET_VALIDATORS)
        .map(|i| {
            (
                TESTNET_VALIDATOR_STAKE,
                Condition::Address(address(&seed, i)),
            )
        })
        .collect();
    assert_eq!(stakes, expected);
    let coins: Vec<(Currency, Condition)> = file
        .coin_outputs
        .iter()
        .map(|o| (o.value, o.condition.clone()))
        .collect();
    let mut expected: Vec<(Currency, Condition)> = (0..TESTNET_VALIDATORS)
        .map(|i| {
            (
                Currency::from_tft(1_000),
                Condition::Address(address(&seed, i)),
            )
        })
        .collect();
    expected.push((
        Currency::from_tft(100_000_000),
        Condition::Address(address(&seed, 3)),
    ));
    assert_eq!(coins, expected);
    assert_eq!(file.fee_address, None);
}

#[test]
fn parameters_follow_the_protocol_table() {
    let mut dev_expected = dev_params();
    dev_expected.network = "dev".into();
    dev_expected.genesis_id = dev().genesis_id();
    dev_expected.fee_address = Some(address(&dev_seed(), DEV_FEE_KEY));
    assert_eq!(dev().params(), dev_expected);

    let testnet_expected = ChainParams {
        network: "testnet".into(),
        genesis_id: testnet().genesis_id(),
        block_time: 10,
        retarget_interval: 50,
        retarget_window: 100,
        max_adjust: Ratio { num: 5, den: 2 },
        future_threshold: 10,
        stake_modifier_delay: 60,
        stake_aging: 1_200,
        maturity_delay: 60,
        max_reorg_depth: 360,
        block_reward: Currency::from_tft(1),
        min_fee: Currency(10_000_000),
        min_reservation_blocks: 360,
        grace_period: 8_640,
        grid_split: GridSplit { farmer_percent: 90 },
        fee_address: None,
    };
    assert_eq!(testnet().params(), testnet_expected);
}

#[test]
fn the_genesis_state_holds_exactly_the_allocations() {
    for g in [dev(), testnet()] {
        let outcome = g.outcome();
        assert_eq!(outcome.meta.id, g.genesis_id());
        assert_eq!(outcome.meta.height, 0);
        let state =
            MemoryState::from_genesis(&g.block(), &g.params()).expect("a built-in genesis builds");
        assert_eq!(state.total_coins(), g.total_coins());
        let sum = Currency::checked_sum(g.file().coin_outputs.iter().map(|o| o.value))
            .expect("no overflow");
        assert_eq!(state.total_coins(), sum);
        assert_eq!(state.total_stake(), g.total_blockstakes());
        assert_eq!(state.coins.len(), g.file().coin_outputs.len());
    }
    assert_eq!(
        dev().total_coins(),
        Currency::from_tft(1_000_000 * DEV_FUNDED_KEYS)
    );
}

/// The dev validator (key 0 of DEV_MNEMONIC) wins the real lottery on the dev genesis, and
/// its block, which carries a payment between two dev keys, applies.
#[test]
fn the_dev_validator_extends_the_dev_chain() {
    let g = dev();
    let params = g.params();
    let mut state = MemoryState::from_genesis(&g.block(), &params).expect("the dev genesis builds");
    let seed = dev_seed();
    let validator = seed.derive_key(0);
    let validator_address = address(&seed, 0);
    let stakes: Vec<(OutputId, StakeEntry)> = state
        .stakes
        .iter()
        .filter(|(_, e)| e.condition == Condition::Address(validator_address))
        .map(|(id, e)| (*id, e.clone()))
        .collect();
    assert_eq!(stakes.len(), 1);

    let lottery = Lottery::for_child_of(&state, &params);
    let (t, stake_output) = (g.timestamp() + 1..g.timestamp() + 10_000)
        .find_map(|t| lottery.winner(&params, &stakes, t).map(|(id, _)| (t, *id)))
        .expect("holding every blockstake, the validator wins within seconds");

    let payer = seed.derive_key(1);
    let (coin, entry) = state
        .coins
        .iter()
        .find(|(_, e)| e.condition == Condition::Address(address(&seed, 1)))
        .map(|(id, e)| (*id, e.clone()))
        .expect("dev key 1 has genesis coins");
    let tx = payment(
        &[(coin, entry.value)],
        &payer,
        Condition::Address(address(&seed, 2)),
        Currency::from_tft(10),
        params.min_fee,
        &params.genesis_id,
    );
    let block = assemble_block(
        &state,
        t,
        stake_output,
        &validator,
        validator_address,
        vec![tx],
    );
    let outcome = state
        .apply(&block, &params, t)
        .expect("the dev validator's block is valid");
    assert_eq!(outcome.fees, params.min_fee);
    assert_eq!(state.height(), 1);
    let supply = g
        .total_coins()
        .checked_add(params.block_reward)
        .expect("no overflow");
    assert_eq!(state.total_coins(), supply);
}
