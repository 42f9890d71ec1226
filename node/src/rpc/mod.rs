//! The JSON-RPC server: HTTP and WebSocket on one port (default 127.0.0.1:23110), with
//! limits on body sizes, batch length, connections and subscriptions. Read methods read
//! the store and the pool directly; writes go through the chain task. Admin methods are
//! registered always but refuse to run unless the node was started with `--rpc-admin`
//! (and, with `--rpc-admin-token`, unless the call carries the token).
//!
//! jsonrpsee serves each connection, but the accept loop is ours, so that every socket
//! passes [`guard`] (Host and Origin checks, CORS, the admin token, idle timeout) and every
//! call passes [`policy`] (subscriptions need a WebSocket; admin methods need the token).

mod address;
mod chain;
mod grid;
mod grid_events;
pub(crate) mod guard;
mod misc;
mod net;
pub(crate) mod policy;
mod tx;

use crate::chain::ChainHandle;
use crate::config::RpcConfig;
use guard::{Activity, Guard, HttpPolicy, IdleIo};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, PingConfig, Server,
    ServerConfig, ServerHandle,
};
use jsonrpsee::{Methods, RpcModule};
use policy::{CallPolicy, PolicyLayer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tfchain_api::{
    AddressApiServer, AdminApiServer, ChainApiServer, ConsensusApiServer, GridApiServer,
    NetApiServer, OutputApiServer, PoolApiServer, TxApiServer,
};
use tokio::sync::watch;

/// Shared by every method implementation.
#[derive(Clone, Debug)]
pub struct Rpc {
    pub chain: ChainHandle,
    pub network: String,
    pub admin: bool,
    /// Set to true to ask the node to stop (`admin_shutdown`).
    pub stop: Arc<watch::Sender<bool>>,
    /// The peer-to-peer network, when the node runs one.
    pub net: Option<crate::net::NetworkHandle>,
    /// Most unspent outputs one `address_*` call reads (`max_address_outputs`).
    pub max_address_outputs: usize,
}

/// A started server.
#[derive(Debug)]
pub struct RpcServer {
    pub local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcServer {
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// Every method of the API, as one module.
pub fn module(rpc: Rpc) -> RpcModule<()> {
    let mut m = RpcModule::new(());
    let parts: [jsonrpsee::Methods; 9] = [
        ChainApiServer::into_rpc(rpc.clone()).into(),
        TxApiServer::into_rpc(rpc.clone()).into(),
        AddressApiServer::into_rpc(rpc.clone()).into(),
        OutputApiServer::into_rpc(rpc.clone()).into(),
        PoolApiServer::into_rpc(rpc.clone()).into(),
        ConsensusApiServer::into_rpc(rpc.clone()).into(),
        NetApiServer::into_rpc(rpc.clone()).into(),
        GridApiServer::into_rpc(rpc.clone()).into(),
        AdminApiServer::into_rpc(rpc).into(),
    ];
    for p in parts {
        m.merge(p)
            .expect("method names are unique across namespaces");
    }
    m
}

/// Starts the server on `config.addr`. Refuses settings [`RpcConfig::validate`] refuses
/// (e.g. admin methods on a public address without a token), and warns when the address is
/// not a loopback one.
pub async fn start(
    chain: ChainHandle,
    config: &RpcConfig,
    network: String,
    stop: Arc<watch::Sender<bool>>,
    net: Option<crate::net::NetworkHandle>,
) -> std::io::Result<RpcServer> {
    config
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    if !config.is_loopback() {
        tracing::warn!(
            addr = %config.addr,
            admin = config.admin,
            allowed_hosts = ?config.allowed_hosts,
            "JSON-RPC is bound to a non-loopback address: anyone who can reach it can read \
             the chain and submit transactions; put it behind a firewall or a proxy, and name \
             the hosts clients use with --rpc-allowed-hosts"
        );
    }
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch));
    let idle =
        (config.idle_timeout_secs > 0).then(|| Duration::from_secs(config.idle_timeout_secs));
    let server_config = match idle {
        Some(idle) => server_config.enable_ws_ping(ping_config(idle)),
        None => server_config.disable_ws_ping(),
    }
    .build();
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let local_addr = listener.local_addr()?;
    let rpc = Rpc {
        chain,
        network,
        admin: config.admin,
        stop,
        net,
        max_address_outputs: usize::try_from(config.max_address_outputs).unwrap_or(usize::MAX),
    };
    let methods: Methods = module(rpc).into();
    let call_policy = Arc::new(CallPolicy::new(&methods, config.admin_token.is_some()));
    let http_policy = Arc::new(HttpPolicy::new(config));
    let builder = Server::builder()
        .set_config(server_config)
        .set_rpc_middleware(RpcServiceBuilder::new().layer(PolicyLayer(call_policy)))
        .to_service_builder();
    let (stop_handle, handle) = stop_channel();
    tokio::spawn(async move {
        loop {
            let socket = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(e) => {
                        // E.g. out of file descriptors: let connections close before retrying.
                        tracing::debug!(error = %e, "RPC: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop_handle.clone().shutdown() => break,
            };
            if let Err(e) = socket.set_nodelay(true) {
                tracing::debug!(error = %e, "RPC: cannot set TCP_NODELAY");
            }
            let activity = Activity::new();
            if let Some(timeout) = idle {
                tokio::spawn(guard::idle_watchdog(Arc::downgrade(&activity), timeout));
            }
            let service = Guard {
                inner: builder.clone().build(methods.clone(), stop_handle.clone()),
                policy: http_policy.clone(),
                activity: activity.clone(),
            };
            let io = IdleIo::new(socket, activity);
            let stopped = stop_handle.clone().shutdown();
            tokio::spawn(async move {
                if let Err(e) = serve_with_graceful_shutdown(io, service, stopped).await {
                    tracing::debug!(error = %e, "RPC: connection ended with an error");
                }
            });
        }
    });
    Ok(RpcServer { local_addr, handle })
}

/// WebSocket pings for an idle timeout of `idle`: every `idle / 2` (1 to 30 s), and a
/// connection whose client has not answered for `max(idle, 2 × interval) + 1 s` is closed.
/// A subscription keeps a connection from being idle, not from being dead: a client that
/// stopped reading (or vanished) answers no ping and is dropped this way.
pub(crate) fn ping_config(idle: Duration) -> PingConfig {
    let interval = (idle / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    PingConfig::new()
        .ping_interval(interval)
        .inactive_limit(idle.max(interval * 2) + Duration::from_secs(1))
        .max_failures(1)
}

/// Maps a store error to the API's INTERNAL error, logging the detail.
pub(crate) fn internal(e: impl std::fmt::Display) -> jsonrpsee::types::ErrorObjectOwned {
    tracing::error!(error = %e, "RPC: internal error");
    tfchain_api::error::internal(e)
}

/// Maps a store error: [`INDEX_DISABLED`](tfchain_api::error::INDEX_DISABLED) when the
/// store keeps no explorer indexes, otherwise [`internal`].
pub(crate) fn store_error(e: crate::store::StoreError) -> jsonrpsee::types::ErrorObjectOwned {
    match e {
        crate::store::StoreError::NoExplorerIndex => tfchain_api::error::index_disabled(),
        crate::store::StoreError::IndexBehind { indexed, tip } => {
            tfchain_api::error::index_behind(indexed, tip)
        }
        e @ crate::store::StoreError::IndexFailed(_) => tfchain_api::error::unavailable(e),
        e => internal(e),
    }
}

/// Runs store-heavy work off the async executor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> jsonrpsee::core::RpcResult<T> + Send + 'static,
) -> jsonrpsee::core::RpcResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}
