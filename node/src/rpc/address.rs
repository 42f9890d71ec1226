//! `address_*` methods: balances, outputs and history from the store's address indexes,
//! with what the pool would change.

use super::{blocking, internal, store_error, Rpc};
use crate::store::{HistoryCursor, HistorySource, OutputRef};
use jsonrpsee::core::{async_trait, RpcResult};
use tfchain_api::error;
use tfchain_api::params::{page_limit, HistoryCursor as ApiCursor};
use tfchain_api::types::{
    Balance, HistoryEntry, HistoryPage, ImmatureOutput, OutputInfo, OutputKind,
};
use tfchain_api::AddressApiServer;
use tfchain_consensus::fulfillment::{lock_passed, SpendContext};
use tfchain_types::{Address, Condition, Currency};

impl Rpc {
    fn outputs_of(&self, address: &Address) -> RpcResult<Vec<OutputInfo>> {
        // Bounded work per call: an address with more outputs is refused, not read.
        let (outputs, more) = self
            .chain
            .store
            .address_outputs_limited(address, self.max_address_outputs)
            .map_err(store_error)?;
        if more {
            return Err(error::too_many_outputs(self.max_address_outputs as u64));
        }
        let pool = self.chain.pool.lock();
        let mut out: Vec<OutputInfo> = outputs
            .into_iter()
            .map(|(id, o)| {
                let pool_spender = pool.spender(&id);
                match o {
                    OutputRef::Coin(c) => OutputInfo {
                        id,
                        kind: OutputKind::Coin,
                        value: c.value.0,
                        condition: c.condition,
                        height: c.height,
                        mature_at: c.mature_at,
                        pool_spender,
                    },
                    OutputRef::Stake(s) => OutputInfo {
                        id,
                        kind: OutputKind::Blockstake,
                        value: u128::from(s.value),
                        condition: s.condition,
                        height: s.height,
                        mature_at: s.height,
                        pool_spender,
                    },
                }
            })
            .collect();
        out.sort_by_key(|o| (o.height, o.id));
        Ok(out)
    }
}

fn sum(values: impl IntoIterator<Item = u128>) -> RpcResult<Currency> {
    values
        .into_iter()
        .try_fold(0u128, |a, v| a.checked_add(v))
        .map(Currency)
        .ok_or_else(|| internal("balance overflows"))
}

#[async_trait]
impl AddressApiServer for Rpc {
    async fn get_balance(&self, address: Address) -> RpcResult<Balance> {
        let this = self.clone();
        blocking(move || {
            let tip = this.chain.store.tip();
            // What the next block may spend.
            let ctx = SpendContext {
                height: tip.height + 1,
                timestamp: tip.timestamp + 1,
            };
            let outputs = this.outputs_of(&address)?;
            let mut confirmed = Vec::new();
            let mut immature = Vec::new();
            let mut locked = Vec::new();
            let mut out = Vec::new();
            let mut blockstakes = 0u64;
            for o in &outputs {
                if o.kind == OutputKind::Blockstake {
                    blockstakes = blockstakes.saturating_add(o.value as u64);
                    continue;
                }
                if o.pool_spender.is_some() {
                    out.push(o.value);
                }
                if o.mature_at > ctx.height {
                    immature.push(ImmatureOutput {
                        value: Currency(o.value),
                        mature_at: o.mature_at,
                    });
                } else if matches!(o.condition, Condition::TimeLock { until, .. } if !lock_passed(until, &ctx))
                {
                    locked.push(o.value);
                } else {
                    confirmed.push(o.value);
                }
            }
            immature.sort_by_key(|i| i.mature_at);
            // The pool's address index: no walk over every pooled transaction.
            let incoming = this.chain.pool.lock().incoming(&address);
            let unconfirmed_in = sum(incoming)?;
            Ok(Balance {
                height: tip.height,
                confirmed: sum(confirmed)?,
                immature: sum(immature.iter().map(|i| i.value.0))?,
                immature_outputs: immature,
                locked: sum(locked)?,
                unconfirmed_in,
                unconfirmed_out: sum(out)?,
                blockstakes,
            })
        })
        .await
    }

    async fn get_outputs(&self, address: Address) -> RpcResult<Vec<OutputInfo>> {
        let this = self.clone();
        blocking(move || this.outputs_of(&address)).await
    }

    async fn get_history(
        &self,
        address: Address,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> RpcResult<HistoryPage> {
        let limit = page_limit(limit)?;
        let before = cursor
            .as_deref()
            .map(ApiCursor::parse)
            .transpose()?
            .map(|c| HistoryCursor {
                height: c.height,
                position: c.index,
            });
        let this = self.clone();
        blocking(move || {
            let store = &this.chain.store;
            let (records, next) = store
                .address_history_rev(&address, before, limit)
                .map_err(store_error)?;
            let mut entries = Vec::with_capacity(records.len());
            for r in records {
                let meta = store.meta_at(r.height).map_err(internal)?.ok_or_else(|| {
                    internal(format!("history names height {} past the tip", r.height))
                })?;
                let (txid, position) = match r.entry.source {
                    HistorySource::Transaction(t) => (Some(t), Some(r.position)),
                    HistorySource::Payouts => (None, None),
                };
                entries.push(HistoryEntry {
                    txid,
                    block: meta.id,
                    height: r.height,
                    position,
                    timestamp: meta.timestamp,
                    received: r.entry.received,
                    sent: r.entry.sent,
                });
            }
            Ok(HistoryPage {
                entries,
                next_cursor: next.map(|c| {
                    ApiCursor {
                        height: c.height,
                        index: c.position,
                    }
                    .to_string()
                }),
            })
        })
        .await
    }
}
