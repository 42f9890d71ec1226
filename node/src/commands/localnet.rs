//! `tfchaind localnet --nodes N --dir DIR`: a local N-validator network in one command.
//!
//! Creates (or reuses) `DIR/genesis.json` and `DIR/validator-<i>.json`, picks free
//! loopback ports, starts N `tfchaind run` processes of this same binary (each with its
//! data dir `DIR/node-<i>` and log `DIR/node-<i>/node.log`, every other node as a
//! bootnode), writes `DIR/localnet.json` with each node's RPC URL and p2p address, and on
//! Ctrl-C or SIGTERM stops them all (`admin_shutdown`, then a kill after a timeout).

use super::CommandError;
use crate::cli::LocalnetArgs;
use crate::clock::{Clock, SystemClock};
use crate::keyfile;
use crate::net::swarm::load_or_create_key;
use jsonrpsee::http_client::HttpClientBuilder;
use serde::Serialize;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tfchain_api::AdminApiClient;
use tfchain_types::Address;
use tokio::process::{Child, Command};
use tracing::{info, warn};

/// One node of `localnet.json`.
#[derive(Debug, Serialize)]
pub struct LocalnetNode {
    pub index: usize,
    pub rpc: String,
    pub p2p: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub validator: Address,
    pub pid: Option<u32>,
}

/// `localnet.json`.
#[derive(Debug, Serialize)]
pub struct LocalnetFile {
    pub network: String,
    pub genesis_id: String,
    pub genesis: PathBuf,
    pub nodes: Vec<LocalnetNode>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CommandError + '_ {
    move |source| CommandError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A free loopback TCP port (bound and released: another process could take it in
/// between, which on a developer machine is rare enough).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Creates the genesis and keys unless `dir` already holds them.
fn ensure_network(dir: &Path, nodes: usize) -> Result<tfchain_genesis::Genesis, CommandError> {
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        let g = tfchain_genesis::Genesis::load(&genesis_path)?;
        for i in 0..nodes {
            let key = dir.join(format!("validator-{i}.json"));
            if !key.exists() {
                return Err(CommandError::Usage(format!(
                    "{} exists but {} does not: use --nodes with the size of the existing network, or an empty --dir",
                    genesis_path.display(),
                    key.display()
                )));
            }
        }
        return Ok(g);
    }
    let (genesis, keys) =
        tfchain_genesis::new_network(nodes, "localnet", SystemClock.now(), &mut rand::rngs::OsRng)?;
    for (i, v) in keys.iter().enumerate() {
        keyfile::write(&dir.join(format!("validator-{i}.json")), &v.key())?;
    }
    std::fs::write(&genesis_path, genesis.to_json_pretty()).map_err(io_err(&genesis_path))?;
    Ok(genesis)
}

pub async fn run(args: LocalnetArgs) -> Result<(), CommandError> {
    if args.nodes == 0 {
        return Err(CommandError::Usage("--nodes must be at least 1".into()));
    }
    let dir = std::path::absolute(&args.dir).map_err(io_err(&args.dir))?;
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let genesis = ensure_network(&dir, args.nodes)?;
    let exe = std::env::current_exe().map_err(io_err(Path::new("tfchaind")))?;

    let mut nodes = Vec::new();
    for i in 0..args.nodes {
        let data_dir = dir.join(format!("node-{i}"));
        std::fs::create_dir_all(&data_dir).map_err(io_err(&data_dir))?;
        let peer_id = load_or_create_key(&data_dir.join("p2p-key"))
            .map_err(|e| CommandError::Usage(e.to_string()))?
            .public()
            .to_peer_id();
        let validator = keyfile::read(&dir.join(format!("validator-{i}.json")))?;
        let rpc_port = free_port().map_err(io_err(&dir))?;
        let p2p_port = free_port().map_err(io_err(&dir))?;
        nodes.push(LocalnetNode {
            index: i,
            rpc: format!("http://127.0.0.1:{rpc_port}"),
            p2p: format!("/ip4/127.0.0.1/tcp/{p2p_port}/p2p/{peer_id}"),
            log: data_dir.join("node.log"),
            data_dir,
            validator: Address::from_public_key(&validator.public_key()),
            pid: None,
        });
    }

    let addrs: Vec<String> = nodes.iter().map(|n| n.p2p.clone()).collect();
    let mut children: Vec<Child> = Vec::new();
    for n in &mut nodes {
        let log = std::fs::File::create(&n.log).map_err(io_err(&n.log))?;
        let log2 = log.try_clone().map_err(io_err(&n.log))?;
        let rpc_addr = n.rpc.trim_start_matches("http://").to_string();
        let listen = n.p2p.split("/p2p/").next().unwrap_or_default().to_string();
        let mut cmd = Command::new(&exe);
        cmd.arg("run")
            .arg("--network")
            .arg(dir.join("genesis.json"))
            .arg("--data-dir")
            .arg(&n.data_dir)
            .arg("--validator-key")
            .arg(dir.join(format!("validator-{}.json", n.index)))
            .arg("--rpc-addr")
            .arg(rpc_addr)
            .arg("--rpc-admin")
            .arg("--p2p-listen")
            .arg(listen)
            .env_remove("TFCHAIN_CONFIG")
            .env_remove("TFCHAIN_DATA_DIR")
            .env_remove("TFCHAIN_NETWORK")
            .env_remove("TFCHAIN_VALIDATOR_KEY")
            .env_remove("TFCHAIN_BOOTNODES")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .kill_on_drop(true);
        for (j, other) in addrs.iter().enumerate() {
            if j != n.index {
                cmd.arg("--bootnode").arg(other);
            }
        }
        let child = cmd.spawn().map_err(io_err(&exe))?;
        n.pid = child.id();
        children.push(child);
    }
    let file = LocalnetFile {
        network: genesis.network().to_string(),
        genesis_id: genesis.genesis_id().to_string(),
        genesis: dir.join("genesis.json"),
        nodes,
    };
    let json_path = dir.join("localnet.json");
    let json =
        serde_json::to_string_pretty(&file).map_err(|e| CommandError::Usage(e.to_string()))?;
    std::fs::write(&json_path, json).map_err(io_err(&json_path))?;
    println!(
        "localnet: {} validators, genesis {}",
        file.nodes.len(),
        file.genesis_id
    );
    for n in &file.nodes {
        println!(
            "node {}: rpc {}  p2p {}  log {}",
            n.index,
            n.rpc,
            n.p2p,
            n.log.display()
        );
    }
    println!("wrote {}; Ctrl-C stops every node", json_path.display());

    supervise(&mut children, &file).await;
    stop_all(&mut children, &file).await;
    Ok(())
}

/// Waits for a signal, reporting nodes that exit on their own.
async fn supervise(children: &mut [Child], file: &LocalnetFile) {
    let mut alive = vec![true; children.len()];
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let signal = super::run::shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => {
                info!("signal received: stopping the localnet");
                return;
            }
            _ = check.tick() => {
                for (i, c) in children.iter_mut().enumerate() {
                    if alive[i] {
                        if let Ok(Some(status)) = c.try_wait() {
                            alive[i] = false;
                            warn!(node = i, %status, log = %file.nodes[i].log.display(), "localnet node exited");
                        }
                    }
                }
                if !alive.iter().any(|a| *a) {
                    warn!("every localnet node has exited");
                    return;
                }
            }
        }
    }
}

/// Asks each node to shut down, then kills those still running after 15 s.
async fn stop_all(children: &mut [Child], file: &LocalnetFile) {
    for n in &file.nodes {
        if let Ok(client) = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(3))
            .build(&n.rpc)
        {
            let _ = client.shutdown().await;
        }
    }
    for (i, c) in children.iter_mut().enumerate() {
        match tokio::time::timeout(Duration::from_secs(15), c.wait()).await {
            Ok(_) => info!(node = i, "node stopped"),
            Err(_) => {
                warn!(node = i, "node did not stop in time: killing it");
                let _ = c.start_kill();
                let _ = c.wait().await;
            }
        }
    }
}
