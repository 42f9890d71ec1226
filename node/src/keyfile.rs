//! Validator key files: JSON holding one ed25519 secret key, written with mode 0600 and
//! refused when other users can read them (like ssh does), so a key never sits readable.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use tfchain_types::{Address, PublicKey, SecretKey};

const KIND: &str = "tfchain-validator-key";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kind: String,
    version: u32,
    secret_key: String,
    public_key: PublicKey,
    address: Address,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} already exists: refusing to overwrite a key")]
    Exists { path: PathBuf },
    #[error("key file {path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("key file {path} is not a tfchain validator key: {reason}")]
    Malformed { path: PathBuf, reason: String },
}

/// Writes `key` to a new file at `path` with mode 0600.
pub fn write(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let pk = key.public_key();
    let file = KeyFile {
        kind: KIND.into(),
        version: 1,
        secret_key: hex::encode(key.to_bytes()),
        public_key: pk,
        address: Address::from_public_key(&pk),
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| KeyFileError::Malformed {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists { path: path.into() }
        } else {
            KeyFileError::Write {
                path: path.into(),
                source,
            }
        }
    })?;
    f.write_all(json.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|source| KeyFileError::Write {
            path: path.into(),
            source,
        })
}

/// Reads a key file, refusing one that other users can read.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| KeyFileError::Read {
            path: path.into(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions {
                path: path.into(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.into(),
        source,
    })?;
    let malformed = |reason: String| KeyFileError::Malformed {
        path: path.into(),
        reason,
    };
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    if file.kind != KIND || file.version != 1 {
        return Err(malformed(format!(
            "kind {:?} version {} (expected {KIND:?} version 1)",
            file.kind, file.version
        )));
    }
    let secret = tfchain_types::bytes::parse_hex::<32>(&file.secret_key).map_err(malformed)?;
    let key = SecretKey::from_bytes(&secret);
    if key.public_key() != file.public_key
        || Address::from_public_key(&file.public_key) != file.address
    {
        return Err(malformed(
            "the public key or address does not match the secret key".into(),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v.json");
        let key = SecretKey::from_bytes(&[5; 32]);
        write(&path, &key).expect("write");
        assert_eq!(read(&path).expect("read").to_bytes(), key.to_bytes());
        assert!(matches!(
            write(&path, &key),
            Err(KeyFileError::Exists { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(read(&path), Err(KeyFileError::Permissions { .. })));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        std::fs::write(&path, "{}").expect("overwrite");
        assert!(matches!(read(&path), Err(KeyFileError::Malformed { .. })));
    }
}
