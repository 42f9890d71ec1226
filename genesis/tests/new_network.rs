//! `new_network`: fresh validators for local networks.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeSet;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::GenesisError as BuildError;
use tfchain_genesis::new_network::{NEW_NETWORK_COINS_EACH, NEW_NETWORK_STAKE_EACH};
use tfchain_genesis::{builtin, new_network, Genesis, GenesisError};
use tfchain_types::{Address, Condition, Currency, Seed};

const T: u64 = 1_763_500_000;

#[test]
fn four_validators_with_equal_stakes() {
    let mut rng = StdRng::seed_from_u64(7);
    let (g, keys) = new_network(4, "local", T, &mut rng).expect("a valid network");
    assert_eq!(keys.len(), 4);
    let addresses: BTreeSet<Address> = keys.iter().map(|k| k.address).collect();
    assert_eq!(addresses.len(), 4, "validators are distinct");
    for k in &keys {
        assert_eq!(k.address, Address::from_public_key(&k.key().public_key()));
        assert_eq!(Seed::from_mnemonic(&k.mnemonic()), Ok(k.seed.clone()));
    }
    let stakes: Vec<(u64, Condition)> = g
        .file()
        .blockstake_outputs
        .iter()
        .map(|o| (o.value, o.condition.clone()))
        .collect();
    let expected: Vec<(u64, Condition)> = keys
        .iter()
        .map(|k| (NEW_NETWORK_STAKE_EACH, Condition::Address(k.address)))
        .collect();
    assert_eq!(stakes, expected);
    assert_eq!(g.total_blockstakes(), 4 * NEW_NETWORK_STAKE_EACH);

    // The dev parameters under the new name.
    let mut params = g.params();
    let mut dev = builtin("dev").expect("built in").params();
    assert_eq!(params.network, "local");
    params.network = dev.network.clone();
    params.genesis_id = dev.genesis_id;
    dev.fee_address = None;
    assert_eq!(params, dev);

    // The genesis state is valid and holds the allocations.
    let outcome = g.outcome();
    assert_eq!(outcome.meta.id, g.genesis_id());
    assert_eq!(outcome.diff.stakes_created.len(), 4);
    let state = MemoryState::from_genesis(&g.block(), &g.params()).expect("it builds");
    assert_eq!(
        state.total_coins(),
        NEW_NETWORK_COINS_EACH.checked_mul(4).expect("no overflow")
    );
    assert_eq!(state.total_coins(), g.total_coins());
    assert_eq!(g.timestamp(), T);

    // And it survives its own file format.
    let back = Genesis::from_json(&g.to_json_pretty()).expect("round trip");
    assert_eq!(back.genesis_id(), g.genesis_id());
}

#[test]
fn seeds_are_fresh_per_network() {
    let (a, ka) = new_network(2, "local", T, &mut StdRng::seed_from_u64(1)).expect("valid");
    let (b, kb) = new_network(2, "local", T, &mut StdRng::seed_from_u64(2)).expect("valid");
    assert_ne!(a.genesis_id(), b.genesis_id());
    assert_ne!(ka[0].address, kb[0].address);
    // Same randomness, same network.
    let (c, _) = new_network(2, "local", T, &mut StdRng::seed_from_u64(1)).expect("valid");
    assert_eq!(a.genesis_id(), c.genesis_id());
}

#[test]
fn zero_validators_or_a_bad_name_are_refused() {
    let mut rng = StdRng::seed_from_u64(3);
    assert!(matches!(
        new_network(0, "local", T, &mut rng),
        Err(GenesisError::Build(BuildError::NoStake))
    ));
    assert!(matches!(
        new_network(2, "Local Net", T, &mut rng),
        Err(GenesisError::NetworkName { .. })
    ));
    assert!(matches!(
        new_network(257, "local", T, &mut rng),
        Err(GenesisError::TooManyOutputs { .. })
    ));
    let (g, _) = new_network(1, "solo", T, &mut rng).expect("one validator is enough");
    assert_eq!(g.total_coins(), Currency::from_tft(1_000_000));
}
