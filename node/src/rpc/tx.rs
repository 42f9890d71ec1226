//! `tx_*` methods.

use super::{blocking, internal, store_error, Rpc};
use jsonrpsee::core::{async_trait, RpcResult};
use tfchain_api::error;
use tfchain_api::params::decode_tx_hex;
use tfchain_api::types::{TxInfo, TxStatus};
use tfchain_api::TxApiServer;
use tfchain_txpool::PoolError;
use tfchain_types::TxId;

#[async_trait]
impl TxApiServer for Rpc {
    async fn submit(&self, hex: String) -> RpcResult<TxId> {
        let tx = decode_tx_hex(&hex)?;
        let txid = tx.txid();
        let results = self
            .chain
            .submit_txs(vec![tx])
            .await
            .ok_or_else(|| error::unavailable("the node is shutting down"))?;
        match results.into_iter().next() {
            Some(Ok(id)) => Ok(id),
            // Resubmitting what the pool holds is harmless.
            Some(Err(PoolError::AlreadyKnown { .. })) => Ok(txid),
            Some(Err(PoolError::Invalid(e))) => Err(error::tx_invalid(&e)),
            Some(Err(e @ PoolError::Internal(_))) => Err(internal(e)),
            Some(Err(e)) => Err(error::tx_rejected_by_pool(e)),
            None => Err(internal("the chain task returned no result")),
        }
    }

    async fn get(&self, txid: TxId) -> RpcResult<TxInfo> {
        if let Some(tx) = self.chain.pool.lock().transaction(&txid).cloned() {
            return Ok(TxInfo {
                txid,
                transaction: tx,
                status: TxStatus::Pool,
            });
        }
        let store = self.chain.store.clone();
        // Off the executor: a transaction not indexed yet waits for the indexer.
        let (tx, loc, store) = blocking(move || match store.transaction(&txid) {
            Ok(Some((tx, loc))) => Ok((tx, loc, store)),
            Ok(None) => Err(error::tx_not_found(&txid)),
            Err(e) => Err(store_error(e)),
        })
        .await?;
        let tip = store.tip().height;
        Ok(TxInfo {
            txid,
            transaction: tx,
            status: TxStatus::Confirmed {
                height: loc.height,
                block: loc.block,
                position: loc.position,
                confirmations: tip.saturating_sub(loc.height) + 1,
            },
        })
    }
}
