//! `net_*` methods, the peer admin methods and `chain_getEquivocations`.

use super::{internal, Rpc};
use crate::net::NetworkHandle;
use jsonrpsee::core::{async_trait, RpcResult};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use std::time::Duration;
use tfchain_api::error;
use tfchain_api::params::EquivocationCursor;
use tfchain_api::types::{EquivocationInfo, EquivocationsPage, HeaderInfo, NetInfo, PeerInfo};
use tfchain_api::NetApiServer;
use tfchain_consensus::equivocation::SignedHeader;

/// Default ban of `admin_removePeer`.
const DEFAULT_BAN_SECS: u64 = 600;

fn signed_info(h: SignedHeader) -> HeaderInfo {
    HeaderInfo {
        id: h.header.id(),
        height: h.header.height,
        header: h.header,
        signature: h.signature,
    }
}

impl Rpc {
    fn net(&self) -> RpcResult<&NetworkHandle> {
        self.net
            .as_ref()
            .ok_or_else(|| error::unavailable("peer-to-peer networking is off on this node"))
    }

    /// One page of `chain_getEquivocations`: at most `limit` after `after`.
    pub(crate) fn equivocations(
        &self,
        after: Option<EquivocationCursor>,
        limit: usize,
    ) -> RpcResult<EquivocationsPage> {
        let (found, more) = self
            .chain
            .store
            .equivocations_page(after.map(|c| (c.height, c.stake_output)), limit)
            .map_err(internal)?;
        let next_cursor = if more {
            found.last().map(|e| {
                EquivocationCursor {
                    height: e.height,
                    stake_output: e.stake_output,
                }
                .to_string()
            })
        } else {
            None
        };
        Ok(EquivocationsPage {
            equivocations: found
                .into_iter()
                .map(|e| EquivocationInfo {
                    height: e.height,
                    stake_output: e.stake_output,
                    first: signed_info(e.first),
                    second: signed_info(e.second),
                })
                .collect(),
            next_cursor,
        })
    }

    pub(crate) async fn admin_add_peer(&self, address: String) -> RpcResult<bool> {
        if !self.admin {
            return Err(error::admin_disabled());
        }
        let addr: Multiaddr = address
            .parse()
            .map_err(|e| error::invalid_params("address", format!("is not a multiaddr: {e}")))?;
        self.net()?
            .add_peer(addr)
            .await
            .map_err(|e| error::invalid_params("address", format!("cannot be dialled: {e}")))
    }

    pub(crate) async fn admin_remove_peer(
        &self,
        peer: String,
        ban_seconds: Option<u64>,
    ) -> RpcResult<bool> {
        if !self.admin {
            return Err(error::admin_disabled());
        }
        let id = parse_peer(&peer).ok_or_else(|| {
            error::invalid_params(
                "peer",
                "is neither a peer ID nor a multiaddr ending in /p2p/<id>",
            )
        })?;
        let ban = Duration::from_secs(ban_seconds.unwrap_or(DEFAULT_BAN_SECS));
        Ok(self.net()?.remove_peer(id, ban).await)
    }
}

/// A base58 peer ID, or the `/p2p/<id>` at the end of a multiaddr.
fn parse_peer(s: &str) -> Option<PeerId> {
    if let Ok(id) = s.parse::<PeerId>() {
        return Some(id);
    }
    match s.parse::<Multiaddr>().ok()?.iter().last()? {
        Protocol::P2p(id) => Some(id),
        _ => None,
    }
}

#[async_trait]
impl NetApiServer for Rpc {
    async fn get_info(&self) -> RpcResult<NetInfo> {
        self.net()?
            .info()
            .await
            .ok_or_else(|| error::unavailable("the network is not running"))
    }

    async fn get_peers(&self) -> RpcResult<Vec<PeerInfo>> {
        self.net()?
            .peers()
            .await
            .ok_or_else(|| error::unavailable("the network is not running"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_from_ids_and_multiaddrs() {
        let id = PeerId::random();
        assert_eq!(parse_peer(&id.to_base58()), Some(id));
        let addr = format!("/ip4/127.0.0.1/tcp/5/p2p/{id}");
        assert_eq!(parse_peer(&addr), Some(id));
        assert_eq!(parse_peer("/ip4/127.0.0.1/tcp/5"), None);
        assert_eq!(parse_peer("nonsense"), None);
    }
}
