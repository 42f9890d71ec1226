//! An unlocked wallet: the keystore's seed expanded into the keys of the indices it watches
//! (PROTOCOL.md §10), looked up by address or by public key for signing.

use crate::error::{Result, WalletError};
use crate::keystore::{Keystore, WalletNetwork};
use std::collections::BTreeMap;
use tfchain_types::{Address, PublicKey, SecretKey, Seed};

/// A wallet key with its index and address.
#[derive(Clone, Debug)]
pub struct WalletKey {
    pub index: u64,
    pub address: Address,
    pub secret: SecretKey,
}

impl WalletKey {
    pub fn derive(seed: &Seed, index: u64) -> WalletKey {
        let secret = seed.derive_key(index);
        WalletKey {
            index,
            address: Address::from_public_key(&secret.public_key()),
            secret,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }
}

/// The keystore and the keys of every watched index.
#[derive(Debug)]
pub struct Wallet {
    pub keystore: Keystore,
    seed: Seed,
    by_address: BTreeMap<Address, WalletKey>,
}

impl Wallet {
    pub fn new(keystore: Keystore) -> Result<Wallet> {
        let seed = keystore.data.seed()?;
        let by_address = keystore
            .data
            .indices
            .iter()
            .map(|&i| {
                let k = WalletKey::derive(&seed, i);
                (k.address, k)
            })
            .collect();
        Ok(Wallet {
            keystore,
            seed,
            by_address,
        })
    }

    /// The network the wallet signs for; `NetworkUnset` for a keystore of an older tfchainc.
    pub fn network(&self) -> Result<&WalletNetwork> {
        self.keystore
            .data
            .network
            .as_ref()
            .ok_or(WalletError::NetworkUnset)
    }

    /// Key `index` of the wallet's seed, watched or not (e.g. a node key).
    pub fn derive(&self, index: u64) -> WalletKey {
        WalletKey::derive(&self.seed, index)
    }

    /// Watched keys in index order.
    pub fn keys(&self) -> Vec<&WalletKey> {
        let mut v: Vec<&WalletKey> = self.by_address.values().collect();
        v.sort_by_key(|k| k.index);
        v
    }

    /// Watched addresses in index order.
    pub fn addresses(&self) -> Vec<Address> {
        self.keys().into_iter().map(|k| k.address).collect()
    }

    pub fn owns(&self, address: &Address) -> bool {
        self.by_address.contains_key(address)
    }

    pub fn key_of(&self, address: &Address) -> Option<&WalletKey> {
        self.by_address.get(address)
    }

    pub fn key_by_public(&self, pk: &PublicKey) -> Option<&WalletKey> {
        self.key_of(&Address::from_public_key(pk))
    }

    /// The key `wallet address` shows.
    pub fn receive_key(&self) -> WalletKey {
        WalletKey::derive(&self.seed, self.keystore.data.receive_index)
    }

    /// Hands out a never-used index (for a change output or a swap), watches it and saves
    /// the keystore before the address is used anywhere.
    pub fn fresh_key(&mut self) -> Result<WalletKey> {
        let index = self.keystore.data.take_index();
        self.keystore.save()?;
        let k = WalletKey::derive(&self.seed, index);
        self.by_address.insert(k.address, k.clone());
        Ok(k)
    }

    /// A fresh index that becomes the receive address.
    pub fn new_receive_key(&mut self) -> Result<WalletKey> {
        let index = self.keystore.data.take_index();
        self.keystore.data.receive_index = index;
        self.keystore.save()?;
        let k = WalletKey::derive(&self.seed, index);
        self.by_address.insert(k.address, k.clone());
        Ok(k)
    }

    /// Remembers a swap secret (by its hash) in the encrypted keystore.
    pub fn remember_secret(&mut self, hashed: String, secret: String) -> Result<()> {
        self.keystore.data.secrets.insert(hashed, secret);
        self.keystore.save()
    }

    pub fn secret_for(&self, hashed: &str) -> Option<&String> {
        self.keystore.data.secrets.get(hashed)
    }

    /// A signing-key lookup by public key, for [`crate::sign::fill_signatures`].
    pub fn signer<'a>(&'a self) -> impl Fn(&PublicKey) -> Option<&'a SecretKey> + 'a {
        move |pk| self.key_by_public(pk).map(|k| &k.secret)
    }
}
