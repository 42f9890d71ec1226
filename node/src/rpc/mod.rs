//! The JSON-RPC server: HTTP and WebSocket on one port (default 127.0.0.1:23110), with
//! limits on body sizes, batch length, connections and subscriptions. Read methods read
//! the store and the pool directly; writes go through the chain task. Admin methods are
//! registered always but refuse to run unless the node was started with `--rpc-admin`.

mod address;
mod chain;
mod grid;
mod grid_events;
mod misc;
mod net;
mod tx;

use crate::chain::ChainHandle;
use crate::config::RpcConfig;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::RpcModule;
use std::net::SocketAddr;
use std::sync::Arc;
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

/// Starts the server on `config.addr`.
pub async fn start(
    chain: ChainHandle,
    config: &RpcConfig,
    network: String,
    stop: Arc<watch::Sender<bool>>,
    net: Option<crate::net::NetworkHandle>,
) -> std::io::Result<RpcServer> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch))
        .build();
    let server = Server::builder()
        .set_config(server_config)
        .build(config.addr)
        .await?;
    let local_addr = server.local_addr()?;
    let rpc = Rpc {
        chain,
        network,
        admin: config.admin,
        stop,
        net,
    };
    let handle = server.start(module(rpc));
    Ok(RpcServer { local_addr, handle })
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
        e => internal(e),
    }
}

/// Runs store-heavy work off the async executor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> jsonrpsee::core::RpcResult<T> + Send + 'static,
) -> jsonrpsee::core::RpcResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}
