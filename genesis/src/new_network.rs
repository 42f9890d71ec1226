//! Fresh local networks (`tfchaind genesis new --validators N`): random validator seeds,
//! equal stakes, the `dev` parameters under a new name. The caller writes the key files.

use crate::builtin::builtin;
use crate::error::GenesisError;
use crate::format::{CoinAllocation, GenesisFile, StakeAllocation};
use crate::genesis::Genesis;
use rand::{CryptoRng, RngCore};
use tfchain_types::{Address, Condition, Currency, SecretKey, Seed, Timestamp};

/// Blockstakes of each validator of a new network.
pub const NEW_NETWORK_STAKE_EACH: u64 = 100;
/// Genesis coins of each validator of a new network.
pub const NEW_NETWORK_COINS_EACH: Currency = Currency::from_tft(1_000_000);

/// A validator of a new network: its wallet seed and the address of key 0, which holds
/// the validator's blockstakes and coins.
#[derive(Clone, Debug)]
pub struct ValidatorKeys {
    pub seed: Seed,
    pub address: Address,
}

impl ValidatorKeys {
    /// The seed as a 24-word mnemonic (PROTOCOL.md §10).
    pub fn mnemonic(&self) -> String {
        self.seed.to_mnemonic()
    }

    /// Key 0 of the seed: the block-signing key.
    pub fn key(&self) -> SecretKey {
        self.seed.derive_key(0)
    }
}

/// A new network named `name` with `validators` validators, each with a fresh random seed
/// whose key 0 holds [`NEW_NETWORK_STAKE_EACH`] blockstakes and [`NEW_NETWORK_COINS_EACH`].
/// Parameters are those of `dev` (2-second blocks); there is no fee address.
///
/// `validators == 0` is refused (a network without blockstakes cannot produce blocks), as
/// is more than 256 (one genesis transaction holds at most 256 outputs, §8).
pub fn new_network(
    validators: usize,
    name: &str,
    timestamp: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Genesis, Vec<ValidatorKeys>), GenesisError> {
    let dev = builtin("dev").expect("dev is a built-in network");
    let keys: Vec<ValidatorKeys> = (0..validators)
        .map(|_| {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            let seed = Seed(bytes);
            let address = Address::from_public_key(&seed.derive_key(0).public_key());
            ValidatorKeys { seed, address }
        })
        .collect();
    let file = GenesisFile {
        network: name.to_string(),
        timestamp,
        params: dev.file().params.clone(),
        fee_address: None,
        coin_outputs: keys
            .iter()
            .map(|k| CoinAllocation {
                value: NEW_NETWORK_COINS_EACH,
                condition: Condition::Address(k.address),
            })
            .collect(),
        blockstake_outputs: keys
            .iter()
            .map(|k| StakeAllocation {
                value: NEW_NETWORK_STAKE_EACH,
                condition: Condition::Address(k.address),
            })
            .collect(),
        farms: vec![],
    };
    Ok((Genesis::new(file)?, keys))
}
