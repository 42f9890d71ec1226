//! The libp2p stack (PROTOCOL.md §12): TCP + Noise + Yamux, identify, gossipsub with
//! application validation, the sync request-response protocol, connection limits and a
//! block list; and the node's persistent identity key.

use super::protocol::{Names, SyncCodec};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, identity, noise, request_response,
    tcp, yamux, Swarm, SwarmBuilder,
};
use std::path::Path;
use std::time::Duration;
use tfchain_types::limits::MAX_GOSSIP_MESSAGE;
use tfchain_types::BlockId;

/// How long a sync request may take before it fails (and the peer is rotated out).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Every protocol the node speaks, as one libp2p behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub limits: connection_limits::Behaviour,
    pub bans: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub identify: identify::Behaviour,
    pub gossip: gossipsub::Behaviour,
    pub sync: request_response::Behaviour<SyncCodec>,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Behaviour")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error("gossipsub configuration: {0}")]
    Gossip(String),
    #[error("cannot set up the TCP/Noise transport: {0}")]
    Transport(String),
    #[error("cannot read or write the node key {path}: {source}")]
    Key {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the node key {0} is damaged: delete it to create a new identity")]
    BadKey(std::path::PathBuf),
}

/// The gossipsub message ID: BLAKE2b-256 of the payload (PROTOCOL.md §12), so every node
/// derives the same ID from the same bytes and duplicates are dropped.
pub fn message_id(m: &gossipsub::Message) -> gossipsub::MessageId {
    gossipsub::MessageId::from(tfchain_types::hash::blake2b(&m.data).as_bytes().to_vec())
}

/// Builds the swarm for the network of `genesis` with at most `max_peers` connections.
pub fn build(
    keypair: identity::Keypair,
    genesis: &BlockId,
    max_peers: u32,
) -> Result<Swarm<Behaviour>, SwarmError> {
    let names = Names::new(genesis);
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(MAX_GOSSIP_MESSAGE)
        .heartbeat_interval(Duration::from_millis(700))
        .build()
        .map_err(|e| SwarmError::Gossip(e.to_string()))?;
    let mut gossip =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
            .map_err(|e| SwarmError::Gossip(e.to_string()))?;
    for topic in [&names.blocks, &names.txs] {
        gossip
            .subscribe(topic)
            .map_err(|e| SwarmError::Gossip(e.to_string()))?;
    }
    let identify = identify::Behaviour::new(
        identify::Config::new(names.identify.clone(), keypair.public())
            .with_agent_version(format!("tfchaind/{}", env!("CARGO_PKG_VERSION"))),
    );
    let sync = request_response::Behaviour::with_codec(
        SyncCodec,
        [(names.sync.clone(), request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(256),
    );
    let limits = connection_limits::Behaviour::new(
        connection_limits::ConnectionLimits::default()
            .with_max_established(Some(max_peers))
            .with_max_established_per_peer(Some(2))
            .with_max_pending_incoming(Some(max_peers.max(8))),
    );
    let behaviour = Behaviour {
        limits,
        bans: allow_block_list::Behaviour::default(),
        identify,
        gossip,
        sync,
    };
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| SwarmError::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| SwarmError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    Ok(swarm)
}

/// Loads the node's identity key from `path` (32 secret bytes in hex), creating it with
/// mode 0600 when missing. The peer ID derives from it, so keeping it keeps the identity.
pub fn load_or_create_key(path: &Path) -> Result<identity::Keypair, SwarmError> {
    let io = |source| SwarmError::Key {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut bytes = hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| SwarmError::BadKey(path.to_path_buf()))?;
            identity::Keypair::ed25519_from_bytes(&mut bytes)
                .map_err(|_| SwarmError::BadKey(path.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            write_private(path, &hex::encode(secret)).map_err(io)?;
            identity::Keypair::ed25519_from_bytes(secret)
                .map_err(|_| SwarmError::BadKey(path.to_path_buf()))
        }
        Err(e) => Err(io(e)),
    }
}

/// Writes a temporary file and renames it into place, so a crash (kill -9, power loss) never
/// leaves an empty or partial key behind that would stop every later start.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_key_persists_with_private_permissions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p2p-key");
        let a = load_or_create_key(&path).expect("create");
        let b = load_or_create_key(&path).expect("load");
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "zz").expect("write");
        assert!(matches!(
            load_or_create_key(&path),
            Err(SwarmError::BadKey(_))
        ));
    }
}
