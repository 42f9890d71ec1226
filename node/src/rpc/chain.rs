//! `chain_*` methods.

use super::grid_events::SEND_TIMEOUT;
use super::guard::hold_subscription;
use super::{blocking, internal, Rpc};
use crate::chain::ChainEvent;
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::{Extensions, PendingSubscriptionSink};
use tfchain_api::error;
use tfchain_api::params::{page_limit, EquivocationCursor};
use tfchain_api::types::{BlockInfo, BlockTx, ChainInfo, EquivocationsPage, HeaderInfo, Supply};
use tfchain_api::BlockRef;
use tfchain_api::ChainApiServer;
use tfchain_types::{Block, BlockId, Currency, Height};
use tokio::sync::broadcast::error::RecvError;

impl Rpc {
    /// The main-chain block a reference names, with its height.
    pub(crate) fn resolve_block(&self, r: &BlockRef) -> RpcResult<(Block, Height)> {
        let store = &self.chain.store;
        let tip = store.tip();
        let id: Option<BlockId> = match r {
            BlockRef::Height(h) => store.block_id_at(*h).map_err(internal)?,
            BlockRef::Id(id) => store
                .index_entry(id)
                .map_err(internal)?
                .filter(|e| e.status == crate::store::BlockStatus::OnMain)
                .map(|_| *id),
        };
        let block = match id {
            Some(id) => store.block(&id).map_err(internal)?,
            None => None,
        };
        match block {
            Some(b) => {
                let h = b.header.height;
                Ok((b, h))
            }
            None => Err(error::block_not_found(r, tip.height)),
        }
    }
}

fn header_info(b: &Block) -> HeaderInfo {
    HeaderInfo {
        id: b.id(),
        height: b.header.height,
        header: b.header.clone(),
        signature: b.signature,
    }
}

#[async_trait]
impl ChainApiServer for Rpc {
    async fn get_info(&self) -> RpcResult<ChainInfo> {
        let tip = self.chain.store.tip();
        Ok(ChainInfo {
            network: self.network.clone(),
            genesis_id: self.chain.params.genesis_id,
            height: tip.height,
            tip: tip.id,
            tip_timestamp: tip.timestamp,
            target: tip.child_target,
            total_work: tip.total_work,
            synced: self.net.as_ref().is_none_or(|n| n.synced()),
            peers: self.net.as_ref().map_or(0, |n| n.peer_count()),
        })
    }

    async fn get_block(&self, block: BlockRef) -> RpcResult<BlockInfo> {
        let this = self.clone();
        blocking(move || {
            let (b, height) = this.resolve_block(&block)?;
            let tip = this.chain.store.tip().height;
            let size = b.encoded_len() as u64;
            Ok(BlockInfo {
                id: b.id(),
                height,
                header: b.header.clone(),
                signature: b.signature,
                transactions: b
                    .transactions
                    .iter()
                    .map(|tx| BlockTx {
                        txid: tx.txid(),
                        transaction: tx.clone(),
                    })
                    .collect(),
                size,
                confirmations: tip.saturating_sub(height) + 1,
            })
        })
        .await
    }

    async fn get_header(&self, block: BlockRef) -> RpcResult<HeaderInfo> {
        let (b, _) = self.resolve_block(&block)?;
        Ok(header_info(&b))
    }

    async fn get_supply(&self) -> RpcResult<Supply> {
        let store = &self.chain.store;
        let (tip, totals) = store.tip_and_totals();
        let rewards = self
            .chain
            .params
            .block_reward
            .checked_mul(u128::from(tip.height))
            .ok_or_else(|| internal("reward sum overflows"))?;
        let genesis = store
            .block_at(0)
            .map_err(internal)?
            .ok_or_else(|| internal("genesis block missing from the store"))?;
        let genesis_coins = Currency::checked_sum(
            genesis
                .transactions
                .iter()
                .flat_map(|t| t.coin_outputs.iter().map(|o| o.value)),
        )
        .ok_or_else(|| internal("genesis coins overflow"))?;
        Ok(Supply {
            height: tip.height,
            coins: totals.coins,
            escrow: totals.escrow,
            unclaimed_earnings: totals.earnings,
            blockstakes: totals.blockstakes,
            expected_coins: genesis_coins
                .checked_add(rewards)
                .ok_or_else(|| internal("supply overflows"))?,
        })
    }

    async fn get_equivocations(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> RpcResult<EquivocationsPage> {
        let limit = page_limit(limit)?;
        let after = cursor
            .as_deref()
            .map(EquivocationCursor::parse)
            .transpose()?;
        let this = self.clone();
        blocking(move || this.equivocations(after, limit)).await
    }

    async fn subscribe_new_heads(
        &self,
        pending: PendingSubscriptionSink,
        ext: &Extensions,
    ) -> SubscriptionResult {
        let _live = hold_subscription(ext);
        let mut events = self.chain.subscribe();
        let sink = pending.accept().await?;
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(ChainEvent::Connected(block)) => {
                        let msg = serde_json::value::to_raw_value(&header_info(&block))?;
                        // A client that does not read is dropped rather than waited for.
                        if sink.send_timeout(msg, SEND_TIMEOUT).await.is_err() {
                            break;
                        }
                    }
                    // The new branch's heads, oldest first: a client follows the tip.
                    Ok(ChainEvent::Reorganized { applied, .. }) => {
                        let mut gone = false;
                        for block in &applied {
                            let msg = serde_json::value::to_raw_value(&header_info(block))?;
                            if sink.send_timeout(msg, SEND_TIMEOUT).await.is_err() {
                                gone = true;
                                break;
                            }
                        }
                        if gone {
                            break;
                        }
                    }
                    Ok(_) => {}
                    // Too slow to keep up: drop it; the client resubscribes and fills the gap.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                },
                _ = sink.closed() => break,
            }
        }
        Ok(())
    }
}
