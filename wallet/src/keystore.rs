//! The keystore: the wallet seed and its bookkeeping, encrypted at rest.
//!
//! The file `<wallet-dir>/wallet.json` is JSON:
//!
//! ```json
//! { "version": 1,
//!   "kdf": { "algorithm": "argon2id", "version": 19, "m_cost_kib": 65536, "t_cost": 3,
//!            "p_cost": 1, "salt": "<32 hex>" },
//!   "cipher": { "algorithm": "xchacha20poly1305", "nonce": "<48 hex>" },
//!   "ciphertext": "<hex>" }
//! ```
//!
//! The key is argon2id(passphrase, salt) with the parameters in the file; the ciphertext is
//! XChaCha20-Poly1305 of the JSON [`WalletData`] (seed and address bookkeeping), with the
//! version and KDF parameters as associated data so they cannot be altered unnoticed. A
//! failed decryption is [`WalletError::WrongPassphrase`]. Every write goes to a temporary
//! file of mode 0600 in the same directory, is synced, and renamed over the old file.
//!
//! The data also records the network the wallet is for ([`WalletNetwork`]: its name and
//! genesis ID), chosen at `wallet init` or `recover`. Being inside the ciphertext it is
//! authenticated like the seed: neither an edited file nor a node can change which chain
//! the wallet signs for. Keystores written before the field existed still open; their
//! network is unset, and the wallet refuses to sign until `tfchainc wallet network` sets it.

use crate::error::{Result, WalletError};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tfchain_types::{BlockId, Seed};
use zeroize::{Zeroize, Zeroizing};

pub use crate::fsutil::{create_private_dir, write_private_atomic};

/// Name of the keystore file inside the wallet directory.
pub const KEYSTORE_FILE: &str = "wallet.json";
/// The keystore format version this code writes and reads.
pub const KEYSTORE_VERSION: u32 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over the memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// What new keystores use: 64 MiB, 3 passes, 1 lane (about half a second).
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
    /// Cheap parameters for tests only (`--insecure-fast-kdf`): never for real funds.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        m_cost_kib: 256,
        t_cost: 1,
        p_cost: 1,
    };
    /// Largest parameters accepted from a file, so a damaged file cannot exhaust memory.
    const MAX_M_KIB: u32 = 4 * 1024 * 1024;
    const MAX_T: u32 = 64;
    const MAX_P: u32 = 16;
}

/// The network a wallet signs for: every signature commits to its genesis ID (PROTOCOL.md
/// §4.2), so this, not what a node or a spend file says, decides which chain a signature
/// is valid on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletNetwork {
    /// The network's name (`dev`, `testnet`, …), for people.
    pub name: String,
    /// The ID of the network's genesis block.
    pub genesis_id: BlockId,
}

/// What the keystore protects. Serialized to JSON, then encrypted.
#[derive(Clone, Serialize, Deserialize)]
pub struct WalletData {
    /// The 32-byte seed (PROTOCOL.md §10), hex.
    seed: String,
    /// The next key index never handed out.
    pub next_index: u64,
    /// Indices the wallet watches: handed out (receive and change addresses) or found used
    /// by a recovery scan.
    pub indices: BTreeSet<u64>,
    /// The index `wallet address` shows.
    pub receive_index: u64,
    /// Atomic-swap secrets this wallet generated, by their SHA-256 (hex -> hex).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The network the wallet signs for; `None` in keystores written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<WalletNetwork>,
}

impl std::fmt::Debug for WalletData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletData")
            .field("next_index", &self.next_index)
            .field("indices", &self.indices)
            .field("receive_index", &self.receive_index)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Drop for WalletData {
    fn drop(&mut self) {
        self.seed.zeroize();
        for s in self.secrets.values_mut() {
            s.zeroize();
        }
    }
}

impl WalletData {
    /// A fresh wallet: key 0 is the receive address. Its network is unset until
    /// [`WalletData::with_network`] sets it (`wallet init` and `recover` always do).
    pub fn new(seed: &Seed) -> Self {
        WalletData {
            seed: hex::encode(seed.0),
            next_index: 1,
            indices: BTreeSet::from([0]),
            receive_index: 0,
            secrets: BTreeMap::new(),
            network: None,
        }
    }

    /// The same data, for `network`.
    pub fn with_network(mut self, network: WalletNetwork) -> Self {
        self.network = Some(network);
        self
    }

    pub fn seed(&self) -> Result<Seed> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(&self.seed, bytes.as_mut())
            .map_err(|_| WalletError::WrongPassphrase)?;
        Ok(Seed(*bytes))
    }

    /// Hands out the next unused index and watches it.
    pub fn take_index(&mut self) -> u64 {
        let i = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        self.indices.insert(i);
        i
    }
}

#[derive(Serialize, Deserialize)]
struct KdfSection {
    algorithm: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct CipherSection {
    algorithm: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
struct KeystoreFile {
    version: u32,
    kdf: KdfSection,
    cipher: CipherSection,
    ciphertext: String,
}

/// An opened keystore: the data and the derived key, so saving needs no second KDF run.
pub struct Keystore {
    path: PathBuf,
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    key: Zeroizing<[u8; 32]>,
    pub data: WalletData,
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field("path", &self.path)
            .field("kdf", &self.kdf)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// The keystore path inside a wallet directory.
pub fn keystore_path(dir: &Path) -> PathBuf {
    dir.join(KEYSTORE_FILE)
}

fn derive_key(passphrase: &[u8], salt: &[u8], kdf: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32)).map_err(|e| {
        WalletError::KeystoreFormat {
            path: PathBuf::new(),
            reason: format!("argon2 parameters: {e}"),
        }
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|e| WalletError::KeystoreFormat {
            path: PathBuf::new(),
            reason: format!("argon2: {e}"),
        })?;
    Ok(key)
}

/// The associated data: everything in the header that decryption depends on.
fn aad(kdf: KdfParams, salt: &[u8]) -> Vec<u8> {
    format!(
        "tfchainc-keystore/v{KEYSTORE_VERSION}/argon2id/v19/m={}/t={}/p={}/salt={}/xchacha20poly1305",
        kdf.m_cost_kib,
        kdf.t_cost,
        kdf.p_cost,
        hex::encode(salt)
    )
    .into_bytes()
}

impl Keystore {
    /// Creates a new keystore file; refuses to replace one unless `force`.
    pub fn create(
        dir: &Path,
        data: WalletData,
        passphrase: &[u8],
        kdf: KdfParams,
        force: bool,
    ) -> Result<Keystore> {
        if passphrase.is_empty() {
            return Err(WalletError::EmptyPassphrase);
        }
        let path = keystore_path(dir);
        if path.exists() && !force {
            return Err(WalletError::WalletExists { path });
        }
        create_private_dir(dir)?;
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let key = derive_key(passphrase, &salt, kdf)?;
        let ks = Keystore {
            path,
            kdf,
            salt,
            key,
            data,
        };
        ks.save()?;
        Ok(ks)
    }

    /// Opens and decrypts the keystore of `dir`.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Keystore> {
        let path = keystore_path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WalletError::NoWallet {
                    dir: dir.to_path_buf(),
                })
            }
            Err(e) => return Err(WalletError::io("read", &path, e)),
        };
        let bad = |reason: String| WalletError::KeystoreFormat {
            path: path.clone(),
            reason,
        };
        let file: KeystoreFile =
            serde_json::from_str(&text).map_err(|e| bad(format!("not keystore JSON: {e}")))?;
        if file.version != KEYSTORE_VERSION {
            return Err(bad(format!(
                "version {} is not supported (this tfchainc reads version {KEYSTORE_VERSION})",
                file.version
            )));
        }
        if file.kdf.algorithm != "argon2id" || file.kdf.version != 0x13 {
            return Err(bad(format!(
                "unsupported KDF {} version {}",
                file.kdf.algorithm, file.kdf.version
            )));
        }
        if file.cipher.algorithm != "xchacha20poly1305" {
            return Err(bad(format!("unsupported cipher {}", file.cipher.algorithm)));
        }
        let kdf = KdfParams {
            m_cost_kib: file.kdf.m_cost_kib,
            t_cost: file.kdf.t_cost,
            p_cost: file.kdf.p_cost,
        };
        if kdf.m_cost_kib > KdfParams::MAX_M_KIB
            || kdf.t_cost > KdfParams::MAX_T
            || kdf.p_cost > KdfParams::MAX_P
        {
            return Err(bad(format!("KDF parameters out of range: {kdf:?}")));
        }
        let mut salt = [0u8; SALT_LEN];
        hex::decode_to_slice(&file.kdf.salt, &mut salt)
            .map_err(|_| bad("the salt is not 16 bytes of hex".into()))?;
        let mut nonce = [0u8; NONCE_LEN];
        hex::decode_to_slice(&file.cipher.nonce, &mut nonce)
            .map_err(|_| bad("the nonce is not 24 bytes of hex".into()))?;
        let ciphertext =
            hex::decode(&file.ciphertext).map_err(|_| bad("the ciphertext is not hex".into()))?;
        let key = derive_key(passphrase, &salt, kdf).map_err(|e| match e {
            WalletError::KeystoreFormat { reason, .. } => bad(reason),
            other => other,
        })?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad(kdf, &salt),
                    },
                )
                .map_err(|_| WalletError::WrongPassphrase)?,
        );
        let data: WalletData =
            serde_json::from_slice(&plain).map_err(|_| WalletError::WrongPassphrase)?;
        data.seed()?;
        Ok(Keystore {
            path,
            kdf,
            salt,
            key,
            data,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Encrypts the data under a fresh nonce and replaces the file atomically.
    pub fn save(&self) -> Result<()> {
        let plain = Zeroizing::new(serde_json::to_vec(&self.data).map_err(|e| {
            WalletError::KeystoreFormat {
                path: self.path.clone(),
                reason: format!("cannot serialize: {e}"),
            }
        })?);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()));
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad(self.kdf, &self.salt),
                },
            )
            .map_err(|_| WalletError::KeystoreFormat {
                path: self.path.clone(),
                reason: "encryption failed".into(),
            })?;
        let file = KeystoreFile {
            version: KEYSTORE_VERSION,
            kdf: KdfSection {
                algorithm: "argon2id".into(),
                version: 0x13,
                m_cost_kib: self.kdf.m_cost_kib,
                t_cost: self.kdf.t_cost,
                p_cost: self.kdf.p_cost,
                salt: hex::encode(self.salt),
            },
            cipher: CipherSection {
                algorithm: "xchacha20poly1305".into(),
                nonce: hex::encode(nonce),
            },
            ciphertext: hex::encode(ciphertext),
        };
        let mut json =
            serde_json::to_string_pretty(&file).map_err(|e| WalletError::KeystoreFormat {
                path: self.path.clone(),
                reason: format!("cannot serialize: {e}"),
            })?;
        json.push('\n');
        write_private_atomic(&self.path, json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Seed {
        Seed([9u8; 32])
    }

    #[test]
    fn default_kdf_is_strong() {
        assert_eq!(KdfParams::DEFAULT.m_cost_kib, 65_536);
        assert_eq!(KdfParams::DEFAULT.t_cost, 3);
        assert_eq!(KdfParams::DEFAULT.p_cost, 1);
    }

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ks = Keystore::create(
            dir.path(),
            WalletData::new(&seed()),
            b"correct horse",
            KdfParams::INSECURE_FAST,
            false,
        )
        .expect("create");
        assert_eq!(ks.data.take_index(), 1);
        ks.save().expect("save");

        let opened = Keystore::open(dir.path(), b"correct horse").expect("open");
        assert_eq!(opened.data.seed().ok(), Some(seed()));
        assert_eq!(opened.data.next_index, 2);
        assert_eq!(opened.data.indices, BTreeSet::from([0, 1]));

        let err = Keystore::open(dir.path(), b"wrong horse").expect_err("wrong passphrase");
        assert!(matches!(err, WalletError::WrongPassphrase));
        assert_eq!(
            err.to_string(),
            "wrong passphrase (or the keystore is damaged)"
        );

        let again = Keystore::create(
            dir.path(),
            WalletData::new(&seed()),
            b"x",
            KdfParams::INSECURE_FAST,
            false,
        );
        assert!(matches!(again, Err(WalletError::WalletExists { .. })));
    }

    #[test]
    fn the_network_is_kept_and_old_data_without_it_still_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let net = WalletNetwork {
            name: "dev".into(),
            genesis_id: BlockId(tfchain_types::Hash([4; 32])),
        };
        Keystore::create(
            dir.path(),
            WalletData::new(&seed()).with_network(net.clone()),
            b"pw",
            KdfParams::INSECURE_FAST,
            false,
        )
        .expect("create");
        let opened = Keystore::open(dir.path(), b"pw").expect("open");
        assert_eq!(opened.data.network, Some(net));
        // The data of an older tfchainc: no `network` field.
        let old = serde_json::json!({"seed": hex::encode(seed().0), "next_index": 1,
                                     "indices": [0], "receive_index": 0});
        let data: WalletData = serde_json::from_value(old).expect("old data loads");
        assert_eq!(data.network, None);
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("w");
        let ks = Keystore::create(
            &sub,
            WalletData::new(&seed()),
            b"pw",
            KdfParams::INSECURE_FAST,
            false,
        )
        .expect("create");
        let mode = std::fs::metadata(ks.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(&sub).expect("meta").permissions().mode();
        assert_eq!(dmode & 0o777, 0o700);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&sub)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(KEYSTORE_FILE)]);
    }

    #[test]
    fn tampered_header_is_detected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ks = Keystore::create(
            dir.path(),
            WalletData::new(&seed()),
            b"pw",
            KdfParams::INSECURE_FAST,
            false,
        )
        .expect("create");
        let text = std::fs::read_to_string(ks.path()).expect("read");
        assert!(!text.contains(&hex::encode(seed().0)), "seed in clear");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        v["kdf"]["t_cost"] = serde_json::json!(2);
        std::fs::write(ks.path(), v.to_string()).expect("write");
        assert!(matches!(
            Keystore::open(dir.path(), b"pw"),
            Err(WalletError::WrongPassphrase)
        ));
        std::fs::write(ks.path(), "{}").expect("write");
        assert!(matches!(
            Keystore::open(dir.path(), b"pw"),
            Err(WalletError::KeystoreFormat { .. })
        ));
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            Keystore::open(empty.path(), b"pw"),
            Err(WalletError::NoWallet { .. })
        ));
    }
}
