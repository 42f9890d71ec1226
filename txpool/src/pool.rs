//! The pool's storage: an entry table with the indexes every operation needs (by TxId, by
//! spent output, by created output, parent/child links, and ordered indexes by eviction
//! key, mining score and age), kept consistent by one insert and two removal primitives.

use crate::config::PoolConfig;
use crate::entry::{Created, Entry, Idx};
use crate::feerate::{FeeRate, Package};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

mod consistency;
use tfchain_types::{Address, BlockId, Currency, Height, OutputId, OutputKind, Transaction, TxId};

/// Ordered index key: a rate, then admission order, then the slot.
pub(crate) type RateKey = (FeeRate, Reverse<u64>, Idx);

/// The transaction pool. Pure logic: the caller passes the chain ([`crate::ChainView`]) and
/// the clock into every call, and reports every tip change
/// ([`Pool::on_block_connected`], [`Pool::on_block_disconnected`]).
pub struct Pool {
    pub(crate) config: PoolConfig,
    slots: Vec<Option<Entry>>,
    free: Vec<Idx>,
    by_txid: HashMap<TxId, Idx>,
    spent: HashMap<OutputId, Idx>,
    created: HashMap<OutputId, Created>,
    /// Coin outputs created by pooled transactions, by the address they pay: what
    /// [`Pool::incoming`] reads, so a balance query does not walk the whole pool.
    pub(crate) paid_to: HashMap<Address, HashMap<OutputId, u128>>,
    /// Ascending: the first is evicted first.
    pub(crate) by_evict: BTreeSet<RateKey>,
    /// Ascending: the last is mined first.
    pub(crate) by_score: BTreeSet<RateKey>,
    pub(crate) by_age: BTreeSet<(Height, u64, Idx)>,
    /// Admission order: what [`Pool::first_txids`] pages through without a sort.
    pub(crate) by_seq: BTreeMap<u64, Idx>,
    bytes: u64,
    next_seq: u64,
    /// The chain tip the pool is valid against; `None` until first used.
    pub(crate) tip: Option<BlockId>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("count", &self.len())
            .field("bytes", &self.bytes)
            .field("tip", &self.tip)
            .finish()
    }
}

/// What the pool knows about one of its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxInfo {
    pub txid: TxId,
    pub fee: Currency,
    pub size: u64,
    pub fee_rate: FeeRate,
    /// The transaction with its unconfirmed ancestors.
    pub ancestors: Package,
    /// The transaction with its unconfirmed descendants.
    pub descendants: Package,
    /// Tip height when it was admitted.
    pub added_height: Height,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Pool {
        Pool {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_txid: HashMap::new(),
            spent: HashMap::new(),
            created: HashMap::new(),
            paid_to: HashMap::new(),
            by_evict: BTreeSet::new(),
            by_score: BTreeSet::new(),
            by_age: BTreeSet::new(),
            by_seq: BTreeMap::new(),
            bytes: 0,
            next_seq: 0,
            tip: None,
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.by_txid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_txid.is_empty()
    }

    /// Encoded bytes of the transactions held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The chain tip the pool is valid against, once it has seen one.
    pub fn tip(&self) -> Option<BlockId> {
        self.tip
    }

    pub fn contains(&self, txid: &TxId) -> bool {
        self.by_txid.contains_key(txid)
    }

    pub fn transaction(&self, txid: &TxId) -> Option<&Transaction> {
        self.idx_of(txid).and_then(|i| self.get(i)).map(|e| &e.tx)
    }

    pub fn info(&self, txid: &TxId) -> Option<TxInfo> {
        let e = self.get(self.idx_of(txid)?)?;
        Some(TxInfo {
            txid: e.txid,
            fee: Currency(e.fee),
            size: e.size,
            fee_rate: e.own_rate(),
            ancestors: e.ancestors,
            descendants: e.descendants,
            added_height: e.added_height,
        })
    }

    /// The pooled transaction spending `output`, if any.
    pub fn spender(&self, output: &OutputId) -> Option<TxId> {
        self.spent
            .get(output)
            .and_then(|i| self.get(*i))
            .map(|e| e.txid)
    }

    /// The values of the coin outputs pooled transactions create for `address` (each
    /// output once); reads an index, not the pool.
    pub fn incoming(&self, address: &Address) -> Vec<u128> {
        self.paid_to
            .get(address)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    /// Every pooled transaction in admission order (parents before children).
    pub fn txids(&self) -> Vec<TxId> {
        self.first_txids(usize::MAX)
    }

    /// The first `limit` pooled transactions in admission order: reads `limit` entries of
    /// an index, not the whole pool.
    pub fn first_txids(&self, limit: usize) -> Vec<TxId> {
        self.by_seq
            .values()
            .take(limit)
            .filter_map(|i| self.get(*i))
            .map(|e| e.txid)
            .collect()
    }

    /// The lowest eviction key in the pool: what a transaction must beat once it is full.
    pub fn eviction_floor(&self) -> Option<FeeRate> {
        self.by_evict.first().map(|k| k.0)
    }

    // ---- internal access ----

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn get(&self, idx: Idx) -> Option<&Entry> {
        self.slots.get(idx.at()).and_then(Option::as_ref)
    }

    /// An entry that an index or link names. Every index is updated with the table, so a
    /// named slot is always occupied; a miss is a pool bug.
    pub(crate) fn entry(&self, idx: Idx) -> &Entry {
        self.get(idx)
            .expect("pool indexes only name occupied slots")
    }

    fn entry_mut(&mut self, idx: Idx) -> &mut Entry {
        self.slots
            .get_mut(idx.at())
            .and_then(Option::as_mut)
            .expect("pool indexes only name occupied slots")
    }

    pub(crate) fn idx_of(&self, txid: &TxId) -> Option<Idx> {
        self.by_txid.get(txid).copied()
    }

    pub(crate) fn created_output(&self, id: &OutputId) -> Option<Created> {
        self.created.get(id).copied()
    }

    pub(crate) fn spender_idx(&self, output: &OutputId) -> Option<Idx> {
        self.spent.get(output).copied()
    }

    #[cfg(test)]
    pub(crate) fn forget_spend_for_test(&mut self, output: &OutputId) {
        self.spent.remove(output);
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    // ---- graph walks ----

    /// The pool ancestors of `idx` (not itself).
    pub(crate) fn ancestors(&self, idx: Idx) -> Vec<Idx> {
        self.ancestors_of_parents(&self.entry(idx).parents, usize::MAX)
            .unwrap_or_default()
    }

    /// `parents` and their ancestors; `None` once there are more than `limit`.
    pub(crate) fn ancestors_of_parents(&self, parents: &[Idx], limit: usize) -> Option<Vec<Idx>> {
        if parents.is_empty() {
            return Some(Vec::new());
        }
        let mut out: Vec<Idx> = Vec::new();
        let mut seen: HashSet<Idx> = HashSet::new();
        let mut stack: Vec<Idx> = parents.to_vec();
        while let Some(i) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            out.push(i);
            if out.len() > limit {
                return None;
            }
            stack.extend_from_slice(&self.entry(i).parents);
        }
        Some(out)
    }

    /// The pool descendants of `idx` (not itself).
    pub(crate) fn descendants(&self, idx: Idx) -> Vec<Idx> {
        let mut out = self.closure(&[idx]);
        out.retain(|i| *i != idx);
        out
    }

    /// `roots` and all their descendants, each once, in admission order.
    pub(crate) fn closure(&self, roots: &[Idx]) -> Vec<Idx> {
        if let [root] = roots {
            if self.entry(*root).children.is_empty() {
                return vec![*root];
            }
        }
        let mut seen: HashSet<Idx> = HashSet::new();
        let mut stack: Vec<Idx> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(i) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            out.push(i);
            stack.extend_from_slice(&self.entry(i).children);
        }
        out.sort_by_key(|i| self.entry(*i).seq);
        out
    }

    // ---- mutation primitives ----

    /// Adds `entry` whose `parents` are set and whose pool ancestors are `ancestors`;
    /// fills in its aggregates and keys and updates its ancestors'.
    pub(crate) fn insert(&mut self, mut entry: Entry, ancestors: &[Idx]) -> Idx {
        let own = entry.own();
        entry.ancestors = own;
        for a in ancestors {
            let a_own = self.entry(*a).own();
            entry.ancestors.add(&a_own);
        }
        entry.descendants = own;
        entry.evict_key = entry.compute_evict_key();
        entry.score_key = entry.compute_score_key();

        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = Idx(u32::try_from(self.slots.len())
                    .expect("a pool holds far fewer than 2^32 transactions"));
                self.slots.push(None);
                i
            }
        };
        self.by_txid.insert(entry.txid, idx);
        let coin_outputs = entry.tx.coin_outputs.len();
        for (n, out) in entry.creates.iter().enumerate() {
            let (kind, index) = if n < coin_outputs {
                (OutputKind::Coin, n)
            } else {
                (OutputKind::BlockStake, n - coin_outputs)
            };
            let index = u32::try_from(index).expect("outputs per transaction are bounded (§8)");
            self.created.insert(*out, Created { idx, kind, index });
            if let Some(o) = entry.tx.coin_outputs.get(n) {
                self.paid_to
                    .entry(o.condition.address())
                    .or_default()
                    .insert(*out, o.value.0);
            }
        }
        for s in &entry.spends {
            self.spent.insert(*s, idx);
        }
        for p in &entry.parents {
            self.entry_mut(*p).children.push(idx);
        }
        self.by_age.insert((entry.added_height, entry.seq, idx));
        self.by_seq.insert(entry.seq, idx);
        self.by_evict
            .insert((entry.evict_key, Reverse(entry.seq), idx));
        self.by_score
            .insert((entry.score_key, Reverse(entry.seq), idx));
        self.bytes = self.bytes.saturating_add(entry.size);
        self.slots[idx.at()] = Some(entry);

        for a in ancestors {
            self.entry_mut(*a).descendants.add(&own);
            self.rekey(*a);
        }
        idx
    }

    /// Recomputes the eviction and mining keys of `idx` after its aggregates changed.
    fn rekey(&mut self, idx: Idx) {
        let e = self.entry(idx);
        let (seq, old_evict, old_score) = (e.seq, e.evict_key, e.score_key);
        let (new_evict, new_score) = (e.compute_evict_key(), e.compute_score_key());
        self.by_evict.remove(&(old_evict, Reverse(seq), idx));
        self.by_evict.insert((new_evict, Reverse(seq), idx));
        self.by_score.remove(&(old_score, Reverse(seq), idx));
        self.by_score.insert((new_score, Reverse(seq), idx));
        let e = self.entry_mut(idx);
        e.evict_key = new_evict;
        e.score_key = new_score;
    }

    /// Removes `set`, which must be closed under descendants (a transaction with all its
    /// descendants); returns their TxIds, parents first.
    pub(crate) fn remove_closed(&mut self, set: &[Idx]) -> Vec<TxId> {
        self.take_closed(set).into_iter().map(|e| e.txid).collect()
    }

    /// [`Pool::remove_closed`], returning the entries.
    pub(crate) fn take_closed(&mut self, set: &[Idx]) -> Vec<Entry> {
        let members: HashSet<Idx> = set.iter().copied().collect();
        let mut touched: BTreeSet<Idx> = BTreeSet::new();
        for r in set {
            let own = self.entry(*r).own();
            for a in self.ancestors(*r) {
                if !members.contains(&a) {
                    self.entry_mut(a).descendants.sub(&own);
                    touched.insert(a);
                }
            }
        }
        for a in touched {
            self.rekey(a);
        }
        let mut order: Vec<Idx> = set.to_vec();
        order.sort_by_key(|i| self.entry(*i).seq);
        order.into_iter().map(|i| self.unlink(i)).collect()
    }

    /// Removes `idx` because a block confirmed it: its descendants stay, with one ancestor
    /// fewer.
    pub(crate) fn remove_confirmed(&mut self, idx: Idx) -> TxId {
        let own = self.entry(idx).own();
        for d in self.descendants(idx) {
            self.entry_mut(d).ancestors.sub(&own);
            self.rekey(d);
        }
        for a in self.ancestors(idx) {
            self.entry_mut(a).descendants.sub(&own);
            self.rekey(a);
        }
        self.unlink(idx).txid
    }

    /// Takes an entry out of the table and every index and link.
    fn unlink(&mut self, idx: Idx) -> Entry {
        let e = self.slots[idx.at()]
            .take()
            .expect("pool indexes only name occupied slots");
        self.by_txid.remove(&e.txid);
        for s in &e.spends {
            if self.spent.get(s) == Some(&idx) {
                self.spent.remove(s);
            }
        }
        for c in &e.creates {
            self.created.remove(c);
        }
        for (o, id) in e.tx.coin_outputs.iter().zip(&e.creates) {
            let address = o.condition.address();
            if let Some(m) = self.paid_to.get_mut(&address) {
                m.remove(id);
                if m.is_empty() {
                    self.paid_to.remove(&address);
                }
            }
        }
        for p in &e.parents {
            self.entry_mut(*p).children.retain(|c| *c != idx);
        }
        for c in &e.children {
            self.entry_mut(*c).parents.retain(|p| *p != idx);
        }
        self.by_age.remove(&(e.added_height, e.seq, idx));
        self.by_seq.remove(&e.seq);
        self.by_evict.remove(&(e.evict_key, Reverse(e.seq), idx));
        self.by_score.remove(&(e.score_key, Reverse(e.seq), idx));
        self.bytes = self.bytes.saturating_sub(e.size);
        self.free.push(idx);
        e
    }

    /// Removes everything; returns the transactions in admission order.
    pub(crate) fn drain_all(&mut self) -> Vec<Transaction> {
        let mut all: Vec<Entry> = self.slots.drain(..).flatten().collect();
        all.sort_by_key(|e| e.seq);
        let config = self.config.clone();
        let tip = self.tip;
        let next_seq = self.next_seq;
        *self = Pool::new(config);
        self.tip = tip;
        self.next_seq = next_seq;
        all.into_iter().map(|e| e.tx).collect()
    }

    /// Removes `txid` and its descendants (e.g. a wallet abandoning a payment); returns the
    /// TxIds removed, empty when it is not in the pool.
    pub fn remove(&mut self, txid: &TxId) -> Vec<TxId> {
        match self.idx_of(txid) {
            Some(i) => {
                let set = self.closure(&[i]);
                self.remove_closed(&set)
            }
            None => Vec::new(),
        }
    }
}
