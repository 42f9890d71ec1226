//! The grid node's key: a file holding the 32-byte ed25519 secret in hex, refused when other
//! users can read it (as tfchaind refuses its validator key), or the dev network's node key.

use std::path::{Path, PathBuf};
use tfchain_types::SecretKey;

#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    #[error("cannot read the node key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the node key {path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("the node key {path} is not 64 hex characters (a 32-byte ed25519 secret): {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("--dev-node {0}: the dev farm has nodes 1 and 2")]
    NoDevNode(u32),
}

/// Reads a node key file: 64 hex characters (surrounding whitespace allowed), mode 0600.
pub fn read(path: &Path) -> Result<SecretKey, NodeKeyError> {
    let read = |source| NodeKeyError::Read {
        path: path.into(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(NodeKeyError::Permissions {
                path: path.into(),
                mode,
            });
        }
    }
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(read)?;
    let malformed = |reason: String| NodeKeyError::Malformed {
        path: path.into(),
        reason,
    };
    let bytes = hex::decode(text.trim()).map_err(|e| malformed(e.to_string()))?;
    let secret: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| malformed(format!("{} bytes", b.len())))?;
    Ok(SecretKey::from_bytes(&secret))
}

/// The key of dev node `n` (1 or 2): dev key 100 + n − 1, as the dev genesis registers them.
pub fn dev(n: u32) -> Result<SecretKey, NodeKeyError> {
    let keys = tfchain_genesis::builtin::DEV_NODE_KEYS;
    let i = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| keys.get(i))
        .ok_or(NodeKeyError::NoDevNode(n))?;
    Ok(tfchain_genesis::dev_seed().derive_key(*i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn reads_hex_and_refuses_readable_or_malformed_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("node.key");
        let key = dev(1).expect("dev node 1");
        std::fs::write(&p, format!("{}\n", hex::encode(key.to_bytes()))).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(read(&p), Err(NodeKeyError::Permissions { .. })));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(read(&p).expect("reads").to_bytes(), key.to_bytes());
        std::fs::write(&p, "abcd").expect("write");
        assert!(matches!(read(&p), Err(NodeKeyError::Malformed { .. })));
        assert!(matches!(dev(3), Err(NodeKeyError::NoDevNode(3))));
        assert!(matches!(dev(0), Err(NodeKeyError::NoDevNode(0))));
    }
}
