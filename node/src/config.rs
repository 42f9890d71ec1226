//! Node configuration: a TOML file (`--config`), `TFCHAIN_*` environment variables and
//! command-line flags, in increasing precedence, over safe defaults (RPC on 127.0.0.1,
//! admin methods off, limits everywhere).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default JSON-RPC address: loopback only.
pub const DEFAULT_RPC_ADDR: &str = "127.0.0.1:23110";

/// The `[rpc]` section.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Address to listen on (HTTP and WebSocket on one port).
    pub addr: SocketAddr,
    /// Serve admin methods (those that change the node). Off unless asked for.
    pub admin: bool,
    /// Largest request body, in bytes.
    pub max_request_bytes: u32,
    /// Largest response body, in bytes.
    pub max_response_bytes: u32,
    /// Most simultaneous connections.
    pub max_connections: u32,
    /// Most calls in one batch request.
    pub max_batch: u32,
    /// Most subscriptions per WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// `Host` names accepted besides the loopback ones (`localhost`, `127.0.0.1`, `[::1]`,
    /// any port), which are always accepted: `name` (any port), `name:port`, `*.domain`, or
    /// `*` (any host: turns the DNS-rebinding check off).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted besides loopback ones (`http(s)://localhost[:port]`, …):
    /// `scheme://host[:port]` exactly, or `*` (any origin). Requests with another `Origin`
    /// header (cross-site HTTP and WebSocket) are refused with 403.
    pub cors: Vec<String>,
    /// When set, admin methods need `Authorization: Bearer <token>` (at least
    /// [`MIN_ADMIN_TOKEN_LEN`] characters).
    pub admin_token: Option<AdminToken>,
    /// Seconds a connection may stay idle (no request from the client and no live
    /// subscription) before it is closed; 0 disables the timeout.
    pub idle_timeout_secs: u64,
    /// Most unspent outputs `address_getOutputs` and `address_getBalance` read for one
    /// address; an address with more is refused with `TOO_MANY_OUTPUTS`.
    pub max_address_outputs: u32,
}

/// The admin token; its `Debug` form hides it, so it never reaches a log.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct AdminToken(pub String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Shortest admin token accepted.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

impl RpcConfig {
    /// Whether the listen address is a loopback one.
    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }

    /// Refuses settings that are unsafe or malformed: a short admin token, or admin methods
    /// on a non-loopback address without an admin token (a Host allow-list authenticates no one).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(AdminToken(t)) = &self.admin_token {
            if t.chars().count() < MIN_ADMIN_TOKEN_LEN {
                return Err(format!(
                    "the RPC admin token is {} characters long; use at least {MIN_ADMIN_TOKEN_LEN}",
                    t.chars().count()
                ));
            }
        }
        // A Host allow-list authenticates no one (any client can send any Host header):
        // only a token makes admin methods safe to expose beyond this machine.
        if self.admin && !self.is_loopback() && self.admin_token.is_none() {
            return Err(format!(
                "--rpc-admin on the non-loopback address {} would let anyone who reaches it stop or rewire the node: set --rpc-admin-token, or bind to 127.0.0.1",
                self.addr
            ));
        }
        for h in &self.allowed_hosts {
            if h.trim().is_empty() {
                return Err("--rpc-allowed-hosts has an empty entry".into());
            }
        }
        for o in &self.cors {
            if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
                return Err(format!(
                    "--rpc-cors entry {o:?} is not an origin: write scheme://host[:port] or *"
                ));
            }
        }
        Ok(())
    }
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            addr: DEFAULT_RPC_ADDR
                .parse()
                .expect("the default RPC address parses"),
            admin: false,
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            max_connections: 128,
            max_batch: 64,
            max_subscriptions_per_connection: 16,
            allowed_hosts: Vec::new(),
            cors: Vec::new(),
            admin_token: None,
            idle_timeout_secs: 60,
            max_address_outputs: 10_000,
        }
    }
}

/// The `[pool]` section.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSection {
    pub max_bytes: u64,
    pub max_count: usize,
    pub expiry_blocks: u64,
}

impl Default for PoolSection {
    fn default() -> Self {
        let d = tfchain_txpool::PoolConfig::default();
        PoolSection {
            max_bytes: d.max_bytes,
            max_count: d.max_count,
            expiry_blocks: d.expiry_blocks,
        }
    }
}

impl PoolSection {
    pub fn to_pool_config(&self) -> tfchain_txpool::PoolConfig {
        tfchain_txpool::PoolConfig {
            max_bytes: self.max_bytes,
            max_count: self.max_count,
            expiry_blocks: self.expiry_blocks,
            ..tfchain_txpool::PoolConfig::default()
        }
    }
}

/// Log output.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// The config file. Every field is optional; flags and environment override it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `dev`, `testnet`, or the path of a genesis JSON file.
    pub network: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub validator_key: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
    /// Keep the explorer indexes (`--explorer-index`); `None`: as the data dir records.
    pub explorer_index: Option<bool>,
    /// The state cache in MiB (`--db-cache`).
    pub db_cache: Option<u64>,
    #[serde(default)]
    pub rpc: RpcConfig,
    #[serde(default)]
    pub pool: PoolSection,
    #[serde(default)]
    pub p2p: P2pSection,
}

/// The `[p2p]` section (flags override each field).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSection {
    /// Run without peer-to-peer networking.
    pub disabled: bool,
    /// Listen multiaddrs.
    #[serde(deserialize_with = "multiaddrs")]
    pub listen: Vec<libp2p::Multiaddr>,
    /// Peers to connect to at start.
    #[serde(deserialize_with = "multiaddrs")]
    pub bootnodes: Vec<libp2p::Multiaddr>,
    pub max_peers: Option<u32>,
}

fn multiaddrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<libp2p::Multiaddr>, D::Error> {
    let v: Vec<String> = Deserialize::deserialize(d)?;
    v.iter()
        .map(|s| {
            s.parse()
                .map_err(|e| serde::de::Error::custom(format!("{s:?} is not a multiaddr: {e}")))
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid RPC settings: {0}")]
    Rpc(String),
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.into(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        let c: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(mib) = c.db_cache {
            if !(4..=1_048_576).contains(&mib) {
                return Err(format!(
                    "db_cache = {mib}: the state cache must be between 4 and 1048576 MiB"
                ));
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe() {
        let c = ConfigFile::parse("").expect("empty config");
        assert!(c.rpc.addr.ip().is_loopback());
        assert!(!c.rpc.admin);
        assert!(c.rpc.max_batch > 0 && c.rpc.max_connections > 0);
        assert!(c.rpc.allowed_hosts.is_empty() && c.rpc.cors.is_empty());
        assert!(c.rpc.admin_token.is_none());
        assert!(c.rpc.idle_timeout_secs > 0);
        assert_eq!(c.rpc.validate(), Ok(()));
    }

    #[test]
    fn rpc_settings_are_validated() {
        let mut c = RpcConfig {
            admin: true,
            addr: "0.0.0.0:23110".parse().expect("addr"),
            ..RpcConfig::default()
        };
        let err = c.validate().expect_err("admin on 0.0.0.0 without a token");
        assert!(err.contains("--rpc-admin-token"), "{err}");
        c.admin_token = Some(AdminToken("short".into()));
        assert!(c
            .validate()
            .expect_err("short token")
            .contains("at least 16"));
        c.admin_token = Some(AdminToken("0123456789abcdef".into()));
        assert_eq!(c.validate(), Ok(()));
        assert!(
            !format!("{c:?}").contains("0123456789abcdef"),
            "the token leaks into Debug"
        );
        // An allow-list of Host names is no substitute for the token.
        c.admin_token = None;
        c.allowed_hosts = vec!["node.example".into()];
        assert!(c.validate().is_err());
        c.admin = false;
        assert_eq!(c.validate(), Ok(()));
        c.cors = vec!["evil.example".into()];
        assert!(c.validate().is_err());
        let f = ConfigFile::parse(
            "[rpc]\nallowed_hosts = [\"node.example\"]\ncors = [\"https://w.example\"]\nadmin_token = \"0123456789abcdef\"\nidle_timeout_secs = 5\nmax_address_outputs = 7\n",
        )
        .expect("rpc options");
        assert_eq!(f.rpc.allowed_hosts, vec!["node.example".to_string()]);
        assert_eq!(f.rpc.cors, vec!["https://w.example".to_string()]);
        assert_eq!(f.rpc.idle_timeout_secs, 5);
        assert_eq!(f.rpc.max_address_outputs, 7);
    }

    #[test]
    fn parses_sections_and_rejects_typos() {
        let c = ConfigFile::parse(
            "network = \"testnet\"\n[rpc]\naddr = \"0.0.0.0:1234\"\nadmin = true\n[pool]\nmax_count = 5\n",
        )
        .expect("valid config");
        assert_eq!(c.network.as_deref(), Some("testnet"));
        assert_eq!(c.rpc.addr.port(), 1234);
        assert!(c.rpc.admin);
        assert_eq!(c.rpc.max_batch, RpcConfig::default().max_batch);
        assert_eq!(c.pool.max_count, 5);
        let c =
            ConfigFile::parse("[p2p]\nbootnodes = [\"/ip4/10.0.0.1/tcp/23112\"]\nmax_peers = 9\n")
                .expect("p2p section");
        assert_eq!(c.p2p.bootnodes.len(), 1);
        assert_eq!(c.p2p.max_peers, Some(9));
        assert!(ConfigFile::parse("[p2p]\nlisten = [\"nonsense\"]\n").is_err());
        assert_eq!(c.explorer_index, None, "unset: as the data dir records");
        let c = ConfigFile::parse("explorer_index = false\n").expect("explorer_index");
        assert_eq!(c.explorer_index, Some(false));
        assert!(ConfigFile::parse("explorer_index = \"no\"\n").is_err());
        assert_eq!(
            ConfigFile::parse("db_cache = 64\n")
                .expect("db_cache")
                .db_cache,
            Some(64)
        );
        let err = ConfigFile::parse("db_cache = 1\n").expect_err("too small");
        assert!(err.contains("between 4 and"), "{err}");
        let err = ConfigFile::parse("[rpc]\nadress = \"x\"\n").expect_err("typo");
        assert!(err.contains("adress"), "{err}");
        assert!(ConfigFile::parse("network = 5").is_err());
    }
}
