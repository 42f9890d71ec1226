//! ed25519 keys and signatures (PROTOCOL.md §1) and wallet key derivation (§10).
//!
//! A signature is valid exactly when ed25519-dalek 2.x `verify_strict` accepts it; never the
//! batch API (§1 explains why). Keys derive from a BIP-39 mnemonic exactly as Rivine did:
//! seed = the mnemonic's entropy, key `i` = ed25519 key with secret `BLAKE2b-256(seed ‖ u64le(i))`.

use crate::hash::{Hash, Hasher};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PublicKey(pub [u8; 32]);
crate::hex_newtype_serde!(PublicKey, 32);

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature(pub [u8; 64]);
crate::hex_newtype_serde!(Signature, 64);

impl Default for Signature {
    fn default() -> Self {
        Signature([0u8; 64])
    }
}

impl Signature {
    pub const ZERO: Signature = Signature([0u8; 64]);
}

impl PublicKey {
    /// `verify_strict` of `sig` over `msg`. False for a key that is not a valid point.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> bool {
        match VerifyingKey::from_bytes(&self.0) {
            Ok(vk) => vk
                .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0))
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// A signing key. The secret is zeroed when dropped (ed25519-dalek's `zeroize`).
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(public: {})", self.public_key())
    }
}

impl SecretKey {
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(secret))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }

    /// Signs a 32-byte hash (a sighash or a BlockId).
    pub fn sign_hash(&self, h: &Hash) -> Signature {
        self.sign(h.as_bytes())
    }
}

/// Why a mnemonic was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    #[error("invalid mnemonic: {0}")]
    Invalid(String),
    #[error("a wallet mnemonic has 24 words (32 bytes of entropy), this one has {0} bytes")]
    WrongLength(usize),
}

/// A wallet seed (§10): 32 bytes, the entropy of a 24-word English BIP-39 mnemonic.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// Parses a mnemonic; words are separated by any whitespace and case is ignored.
    pub fn from_mnemonic(phrase: &str) -> Result<Seed, MnemonicError> {
        let normalized = phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ");
        let m = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized)
            .map_err(|e| MnemonicError::Invalid(e.to_string()))?;
        let entropy = m.to_entropy();
        let seed: [u8; 32] = entropy
            .as_slice()
            .try_into()
            .map_err(|_| MnemonicError::WrongLength(entropy.len()))?;
        Ok(Seed(seed))
    }

    /// The 24-word mnemonic of this seed.
    pub fn to_mnemonic(&self) -> String {
        bip39::Mnemonic::from_entropy_in(bip39::Language::English, &self.0)
            .expect("32 bytes is a valid BIP-39 entropy length")
            .to_string()
    }

    /// The secret bytes of key `index`: `BLAKE2b-256(seed ‖ u64le(index))`.
    pub fn key_entropy(&self, index: u64) -> [u8; 32] {
        let mut h = Hasher::new();
        h.update(&self.0).update(&index.to_le_bytes());
        h.finish().0
    }

    /// Key `index` of this wallet.
    pub fn derive_key(&self, index: u64) -> SecretKey {
        SecretKey::from_bytes(&self.key_entropy(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_strict() {
        let k = SecretKey::from_bytes(&[7u8; 32]);
        let sig = k.sign(b"hello");
        assert!(k.public_key().verify(b"hello", &sig));
        assert!(!k.public_key().verify(b"hellp", &sig));
        let mut bad = sig;
        bad.0[0] ^= 1;
        assert!(!k.public_key().verify(b"hello", &bad));
    }

    #[test]
    fn small_order_key_is_rejected() {
        // The identity point (a small-order key): verify_strict must refuse it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let pk = PublicKey(identity);
        // R = identity, S = 0 satisfies the cofactorless equation for any message.
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!pk.verify(b"anything", &Signature(sig)));
    }

    #[test]
    fn mnemonic_round_trip() {
        let seed = Seed([42u8; 32]);
        let words = seed.to_mnemonic();
        assert_eq!(words.split(' ').count(), 24);
        assert_eq!(Seed::from_mnemonic(&words.to_uppercase()), Ok(seed));
        assert!(matches!(
            Seed::from_mnemonic("abandon abandon"),
            Err(MnemonicError::Invalid(_))
        ));
    }
}
