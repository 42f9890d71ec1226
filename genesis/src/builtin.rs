//! The built-in networks `dev` and `testnet` (PROTOCOL.md §9 table), shipped as the JSON
//! files under `genesis/networks/` and compiled into the binary.
//!
//! Both networks allocate to keys of *publicly known* seeds, derived from a fixed phrase
//! so anyone can check them: whoever reads this file can spend and produce blocks on them.
//! That is the point of `dev` (a one-node chain you can use at once with
//! [`DEV_MNEMONIC`]); a testnet run by real operators would instead be a genesis file
//! listing their own addresses, loaded with [`crate::Genesis::load`].

use crate::genesis::Genesis;
use tfchain_types::{hash::blake2b, Currency, Seed};

/// The well-known wallet of the `dev` network: the 24-word BIP-39 mnemonic of the seed
/// `BLAKE2b-256("tfchain dev network")` (PROTOCOL.md §10). Its key 0 holds every
/// blockstake of `dev` (so a dev node with it produces every block), keys 0–9 each hold
/// [`DEV_COINS_EACH`], key 9 is the fee address, key 1 owns the farm `devfarm` and keys 100
/// and 101 are its two nodes. Never use it for anything of value.
pub const DEV_MNEMONIC: &str = "chair pyramid cube dress slam recycle isolate melt tone holiday \
pupil poet pigeon uncover duty figure copy badge member uphold fade move return pool";

/// The phrase whose BLAKE2b-256 is the dev seed.
pub const DEV_SEED_PHRASE: &[u8] = b"tfchain dev network";

/// Blockstakes of the `dev` validator (key 0 of [`DEV_MNEMONIC`]), in one output.
pub const DEV_VALIDATOR_STAKE: u64 = 1_000;
/// How many keys of [`DEV_MNEMONIC`] (indices `0..DEV_FUNDED_KEYS`) hold genesis coins.
pub const DEV_FUNDED_KEYS: u64 = 10;
/// Genesis coins of each funded dev key.
pub const DEV_COINS_EACH: Currency = Currency::from_tft(1_000_000);
/// The key of [`DEV_MNEMONIC`] that is the `dev` fee address: it receives block fees and
/// the network's share of claimed grid earnings (PROTOCOL.md §5.5, §7.4).
pub const DEV_FEE_KEY: u64 = 9;
/// The key of [`DEV_MNEMONIC`] that owns the dev farm `devfarm` (farm 1) and receives its
/// payouts.
pub const DEV_FARM_OWNER_KEY: u64 = 1;
/// The keys of [`DEV_MNEMONIC`] that are the node keys of the dev farm's nodes 1 and 2.
pub const DEV_NODE_KEYS: [u64; 2] = [100, 101];

/// The demonstration wallet of the built-in `testnet`: the mnemonic of
/// `BLAKE2b-256("tfchain testnet v1")`. Keys 0–2 are its validators with
/// [`TESTNET_VALIDATOR_STAKE`] each (and 1,000 TFT each for fees); key 3 is a faucet
/// holding 100,000,000 TFT. The testnet has no fee address: fees go to block producers
/// and grid earnings wholly to farmers.
pub const TESTNET_MNEMONIC: &str = "world polar valley initial belt deposit manage crouch pause \
shoot twin cook auction captain tackle rotate dog fancy gift theory range quality twin stable";

/// The phrase whose BLAKE2b-256 is the testnet seed.
pub const TESTNET_SEED_PHRASE: &[u8] = b"tfchain testnet v1";

/// Validators of the built-in testnet (keys `0..TESTNET_VALIDATORS` of its seed).
pub const TESTNET_VALIDATORS: u64 = 3;
/// Blockstakes of each testnet validator.
pub const TESTNET_VALIDATOR_STAKE: u64 = 100;

/// Names accepted by [`builtin`].
pub const BUILTIN_NETWORKS: [&str; 2] = ["dev", "testnet"];

const DEV_JSON: &str = include_str!("../networks/dev.json");
const TESTNET_JSON: &str = include_str!("../networks/testnet.json");

/// The genesis file text of a built-in network.
pub fn builtin_json(name: &str) -> Option<&'static str> {
    match name {
        "dev" => Some(DEV_JSON),
        "testnet" => Some(TESTNET_JSON),
        _ => None,
    }
}

/// A built-in network by name (`dev`, `testnet`); `None` for any other name.
pub fn builtin(name: &str) -> Option<Genesis> {
    builtin_json(name).map(|json| {
        Genesis::from_json(json)
            .expect("the built-in genesis files are checked by this crate's tests")
    })
}

/// The seed of [`DEV_MNEMONIC`].
pub fn dev_seed() -> Seed {
    Seed(blake2b(DEV_SEED_PHRASE).0)
}

/// The seed of [`TESTNET_MNEMONIC`].
pub fn testnet_seed() -> Seed {
    Seed(blake2b(TESTNET_SEED_PHRASE).0)
}
