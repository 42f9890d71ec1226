//! A from-scratch check of every index, link and aggregate: the oracle of the tests.

use super::Pool;
use crate::entry::Idx;
use crate::error::InternalError;
use std::cmp::Reverse;
use tfchain_types::TxId;

impl Pool {
    /// Recomputes every index, link and aggregate from the entries and compares: for tests
    /// and debug assertions. Also checks that no two transactions spend one output.
    pub fn check_consistency(&self) -> Result<(), InternalError> {
        let bad = |txid: TxId, what: &'static str| Err(InternalError::Inconsistent { txid, what });
        let mut bytes = 0u64;
        let mut spends = 0usize;
        let mut creates = 0usize;
        let mut paid = 0usize;
        for (slot, e) in self.slots.iter().enumerate() {
            let Some(e) = e else { continue };
            let idx = Idx(slot as u32);
            bytes += e.size;
            if self.by_txid.get(&e.txid) != Some(&idx) {
                return bad(e.txid, "by_txid does not name its slot");
            }
            for s in &e.spends {
                spends += 1;
                if self.spent.get(s) != Some(&idx) {
                    return bad(
                        e.txid,
                        "an input is not indexed to it (double spend in pool?)",
                    );
                }
            }
            creates += e.creates.len();
            if self.by_seq.get(&e.seq) != Some(&idx) {
                return bad(e.txid, "the admission-order index does not name its slot");
            }
            for (o, id) in e.tx.coin_outputs.iter().zip(&e.creates) {
                paid += 1;
                let indexed = self
                    .paid_to
                    .get(&o.condition.address())
                    .and_then(|m| m.get(id));
                if indexed != Some(&o.value.0) {
                    return bad(e.txid, "a coin output is not indexed by its address");
                }
            }
            for c in &e.creates {
                if self.created.get(c).map(|c| c.idx) != Some(idx) {
                    return bad(e.txid, "an output is not indexed to it");
                }
            }
            let mut parents: Vec<Idx> = e
                .spends
                .iter()
                .filter_map(|s| self.created.get(s).map(|c| c.idx))
                .collect();
            parents.sort_unstable();
            parents.dedup();
            let mut have = e.parents.clone();
            have.sort_unstable();
            if have != parents {
                return bad(e.txid, "parent links differ from the outputs it spends");
            }
            for p in &e.parents {
                if !self.entry(*p).children.contains(&idx) {
                    return bad(e.txid, "a parent does not list it as a child");
                }
            }
            let mut anc = e.own();
            for a in self.ancestors(idx) {
                anc.add(&self.entry(a).own());
            }
            if anc != e.ancestors {
                return bad(e.txid, "ancestor aggregate is stale");
            }
            let mut desc = e.own();
            for d in self.descendants(idx) {
                desc.add(&self.entry(d).own());
            }
            if desc != e.descendants {
                return bad(e.txid, "descendant aggregate is stale");
            }
            let key = (e.evict_key, Reverse(e.seq), idx);
            if e.evict_key != e.compute_evict_key() || !self.by_evict.contains(&key) {
                return bad(e.txid, "eviction index is stale");
            }
            let key = (e.score_key, Reverse(e.seq), idx);
            if e.score_key != e.compute_score_key() || !self.by_score.contains(&key) {
                return bad(e.txid, "mining index is stale");
            }
            if !self.by_age.contains(&(e.added_height, e.seq, idx)) {
                return bad(e.txid, "age index is missing it");
            }
        }
        let n = self.len();
        let sizes_ok = self.by_evict.len() == n
            && self.by_score.len() == n
            && self.by_age.len() == n
            && self.by_seq.len() == n
            && self.spent.len() == spends
            && self.created.len() == creates
            && self.paid_to.values().map(|m| m.len()).sum::<usize>() == paid
            && self.bytes == bytes;
        if !sizes_ok {
            return bad(
                TxId::ZERO,
                "index sizes or byte total differ from the entries",
            );
        }
        Ok(())
    }
}
