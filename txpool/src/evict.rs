//! Limits: when the pool is full, the lowest fee-rate packages make room (each with its
//! descendants); a newcomer that does not beat them is refused. Old transactions expire.

use crate::entry::Idx;
use crate::error::PoolError;
use crate::feerate::{FeeRate, Package};
use crate::pool::Pool;
use std::collections::HashSet;
use tfchain_types::{Currency, Height, TxId};

impl Pool {
    /// Plans room for a candidate of `size` bytes paying `fee`, whose pool ancestors are
    /// `ancestors` and which replaces `displaced`. Returns the transactions to evict (closed
    /// under descendants), or why it cannot fit. Changes nothing.
    ///
    /// Candidates for eviction are taken by ascending eviction key (the higher of a
    /// transaction's own rate and its descendant package's rate, as removing it removes its
    /// descendants). The newcomer's own key is the lowest of its own rate and the keys its
    /// ancestors would have with it as a descendant: everything evicted must be strictly
    /// below that, so the pool always keeps the higher rates.
    pub(crate) fn plan_eviction(
        &self,
        size: u64,
        fee: Currency,
        ancestors: &[Idx],
        displaced: &[Idx],
    ) -> Result<Vec<Idx>, PoolError> {
        let cfg = &self.config;
        let freed_bytes: u64 = displaced.iter().map(|i| self.entry(*i).size).sum();
        let after_bytes = self
            .bytes()
            .saturating_add(size)
            .saturating_sub(freed_bytes);
        let after_count = (self.len() + 1).saturating_sub(displaced.len());
        let mut excess_bytes = after_bytes.saturating_sub(cfg.max_bytes);
        let mut excess_count = after_count.saturating_sub(cfg.max_count);
        if excess_bytes == 0 && excess_count == 0 {
            return Ok(Vec::new());
        }
        if size > cfg.max_bytes {
            return Err(PoolError::PoolFull {
                reason: "it is larger than the pool's byte limit",
            });
        }

        let own = Package::single(size, fee.0);
        let mut key = own.rate();
        for a in ancestors {
            let e = self.entry(*a);
            let mut with_new = e.descendants;
            with_new.add(&own);
            key = key.min(e.own_rate().max(with_new.rate()));
        }

        let skip: HashSet<Idx> = ancestors.iter().chain(displaced).copied().collect();
        let mut victims: HashSet<Idx> = HashSet::new();
        let mut order: Vec<Idx> = Vec::new();
        for &(floor, _, idx) in &self.by_evict {
            if excess_bytes == 0 && excess_count == 0 {
                break;
            }
            if skip.contains(&idx) || victims.contains(&idx) {
                continue;
            }
            if floor >= key {
                return Err(PoolError::FeeRateBelowEvictionRate {
                    rate: key,
                    floor,
                    min_fee: floor.fee_above(size),
                });
            }
            for m in self.closure(&[idx]) {
                if skip.contains(&m) || !victims.insert(m) {
                    continue;
                }
                order.push(m);
                excess_bytes = excess_bytes.saturating_sub(self.entry(m).size);
                excess_count = excess_count.saturating_sub(1);
            }
        }
        if excess_bytes > 0 || excess_count > 0 {
            return Err(PoolError::PoolFull {
                reason: "only its own unconfirmed ancestors could make room",
            });
        }
        Ok(order)
    }

    /// Removes transactions admitted at a tip `expiry_blocks` or more below `height`, with
    /// their descendants. Called by [`Pool::on_block_connected`]; returns what left.
    pub fn expire(&mut self, height: Height) -> Vec<TxId> {
        let mut out = Vec::new();
        while let Some(&(added, _, idx)) = self.by_age.first() {
            if added.saturating_add(self.config.expiry_blocks) > height {
                break;
            }
            let set = self.closure(&[idx]);
            out.extend(self.remove_closed(&set));
        }
        out
    }

    /// What a transaction of `size` bytes must pay to enter now: `None` while the pool has
    /// room, else the fee just above the lowest eviction key (ignoring how many
    /// transactions it would have to evict).
    pub fn min_fee_to_enter(&self, size: u64) -> Option<Currency> {
        let full = self.bytes().saturating_add(size) > self.config.max_bytes
            || self.len() >= self.config.max_count;
        if !full {
            return None;
        }
        self.eviction_floor()
            .map(|floor: FeeRate| floor.fee_above(size))
    }
}
