//! `output_*`, `pool_*`, `consensus_*` and `admin_*` methods.

use super::{internal, Rpc};
use jsonrpsee::core::{async_trait, RpcResult};
use tfchain_api::error;
use tfchain_api::params::page_limit;
use tfchain_api::types::{FeeRate, OutputInfo, OutputKind, PoolInfo, PoolTx};
use tfchain_api::{AdminApiServer, ConsensusApiServer, OutputApiServer, PoolApiServer};
use tfchain_consensus::ChainParams;
use tfchain_types::{Currency, OutputId};
use tracing::warn;

impl Rpc {
    /// The unspent output `id` as the API shows it.
    pub(crate) fn output_info(&self, id: &OutputId) -> RpcResult<Option<OutputInfo>> {
        let store = &self.chain.store;
        let spender = self.chain.pool.lock().spender(id);
        if let Some(c) = store.coin(id).map_err(internal)? {
            return Ok(Some(OutputInfo {
                id: *id,
                kind: OutputKind::Coin,
                value: c.value.0,
                condition: c.condition,
                height: c.height,
                mature_at: c.mature_at,
                pool_spender: spender,
            }));
        }
        if let Some(s) = store.stake(id).map_err(internal)? {
            return Ok(Some(OutputInfo {
                id: *id,
                kind: OutputKind::Blockstake,
                value: u128::from(s.value),
                condition: s.condition,
                height: s.height,
                mature_at: s.height,
                pool_spender: spender,
            }));
        }
        Ok(None)
    }
}

#[async_trait]
impl OutputApiServer for Rpc {
    async fn get(&self, id: OutputId) -> RpcResult<Option<OutputInfo>> {
        self.output_info(&id)
    }
}

#[async_trait]
impl PoolApiServer for Rpc {
    async fn get_info(&self) -> RpcResult<PoolInfo> {
        let pool = self.chain.pool.lock();
        let c = pool.config();
        Ok(PoolInfo {
            count: pool.len() as u64,
            bytes: pool.bytes(),
            max_bytes: c.max_bytes,
            max_count: c.max_count as u64,
            max_ancestors: c.max_ancestors as u64,
            min_fee: self.chain.params.min_fee,
            eviction_floor: pool.eviction_floor().map(|r| FeeRate {
                fee: Currency(r.fee),
                size: r.size,
            }),
        })
    }

    async fn get_transactions(&self, limit: Option<u32>) -> RpcResult<Vec<PoolTx>> {
        let limit = page_limit(limit)?;
        let pool = self.chain.pool.lock();
        // The admission-order index: `limit` entries read, not the whole pool sorted.
        Ok(pool
            .first_txids(limit)
            .into_iter()
            .filter_map(|t| pool.info(&t))
            .map(|i| PoolTx {
                txid: i.txid,
                fee: i.fee,
                size: i.size,
                added_height: i.added_height,
            })
            .collect())
    }
}

#[async_trait]
impl ConsensusApiServer for Rpc {
    async fn get_params(&self) -> RpcResult<ChainParams> {
        Ok((*self.chain.params).clone())
    }
}

#[async_trait]
impl AdminApiServer for Rpc {
    async fn shutdown(&self) -> RpcResult<bool> {
        if !self.admin {
            return Err(error::admin_disabled());
        }
        warn!("admin_shutdown called: stopping the node");
        self.stop.send(true).map_err(internal)?;
        Ok(true)
    }

    async fn add_peer(&self, address: String) -> RpcResult<bool> {
        self.admin_add_peer(address).await
    }

    async fn remove_peer(&self, peer: String, ban_seconds: Option<u64>) -> RpcResult<bool> {
        self.admin_remove_peer(peer, ban_seconds).await
    }
}
