//! Block templates: transactions chosen by ancestor-package fee rate (a transaction with
//! its not-yet-chosen unconfirmed ancestors, so a child can pay for its parent), parents
//! before children, up to the block size limit. The order is valid for `apply_block`.

use crate::entry::{Entry, Idx, TimeVerdict};
use crate::feerate::{FeeRate, Package};
use crate::pool::{Pool, RateKey};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use tfchain_consensus::SpendContext;
use tfchain_types::{
    Address, Block, BlockHeader, BlockId, Currency, Hash, OutputId, PublicKey, Signature,
    Transaction, TxId, BLOCK_VERSION,
};

/// Transactions for the next block, in block order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockTemplate {
    pub transactions: Vec<Transaction>,
    pub txids: Vec<TxId>,
    /// Σ of their fees.
    pub fees: Currency,
    /// Encoded size of a block holding exactly these transactions.
    pub block_size: usize,
}

/// Encoded size of a block with no transactions: header, signature and the list length.
/// Every header field has a fixed size, so this is exact for every block.
pub fn block_overhead() -> usize {
    Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            parent: BlockId::ZERO,
            height: 0,
            timestamp: 0,
            stake_output: OutputId::ZERO,
            creator: PublicKey::default(),
            reward_address: Address::NIL,
            tx_root: Hash::ZERO,
        },
        signature: Signature::ZERO,
        transactions: Vec::new(),
    }
    .encoded_len()
}

/// Give up on filling the last bytes after this many packages in a row did not fit...
const MAX_CONSECUTIVE_FAILURES: u32 = 1_000;
/// ...once fewer than this many bytes are left.
const NEARLY_FULL: u64 = 4_000;

const FREE: u8 = 0;
const CHOSEN: u8 = 1;
const REJECTED: u8 = 2;

fn score(e: &Entry, package: &Package) -> FeeRate {
    e.own_rate().min(package.rate())
}

impl Pool {
    /// The best transactions for a block at `ctx` (its height and timestamp) whose encoded
    /// size is at most `max_block_size`. Only transactions valid at `ctx` are included
    /// (time locks, swap timeouts, maturity), with all their unconfirmed ancestors before
    /// them. Deterministic for a given pool history.
    pub fn block_template(&self, ctx: SpendContext, max_block_size: usize) -> BlockTemplate {
        let overhead = block_overhead();
        let limit = max_block_size.saturating_sub(overhead) as u64;
        let mut state = vec![FREE; self.slot_count()];
        // Ancestor packages of transactions some of whose ancestors are chosen already.
        let mut modified: HashMap<Idx, Package> = HashMap::new();
        let mut heap: BinaryHeap<RateKey> = BinaryHeap::new();
        let mut main = self.by_score.iter().rev().peekable();
        let mut chosen: Vec<Idx> = Vec::new();
        let mut used = 0u64;
        let mut fees = 0u128;
        let mut failures = 0u32;

        loop {
            while let Some(&&(_, _, i)) = main.peek() {
                if state[i.at()] != FREE || modified.contains_key(&i) {
                    main.next();
                } else {
                    break;
                }
            }
            while let Some(&(k, _, i)) = heap.peek() {
                let current = modified.get(&i).map(|p| score(self.entry(i), p));
                if state[i.at()] != FREE || current != Some(k) {
                    heap.pop();
                } else {
                    break;
                }
            }
            let next = match (main.peek(), heap.peek()) {
                (None, None) => break,
                (Some(_), None) => main.next().copied(),
                (None, Some(_)) => heap.pop(),
                (Some(&&m), Some(&h)) => {
                    if h > m {
                        heap.pop()
                    } else {
                        main.next().copied()
                    }
                }
            };
            let Some((_, _, idx)) = next else { break };
            let e = self.entry(idx);
            let package = modified.get(&idx).copied().unwrap_or(e.ancestors);
            if used.saturating_add(package.size) > limit {
                failures += 1;
                if failures > MAX_CONSECUTIVE_FAILURES && limit - used < NEARLY_FULL {
                    break;
                }
                continue;
            }

            let mut members: Vec<Idx> = self
                .ancestors(idx)
                .into_iter()
                .filter(|a| state[a.at()] != CHOSEN)
                .collect();
            members.push(idx);
            let mut ok = true;
            for m in &members {
                if state[m.at()] == REJECTED {
                    ok = false;
                } else if self.entry(*m).valid_at(&ctx) != TimeVerdict::Valid {
                    state[m.at()] = REJECTED;
                    ok = false;
                }
            }
            if !ok {
                state[idx.at()] = REJECTED;
                continue;
            }
            failures = 0;
            members.sort_by_key(|m| {
                let e = self.entry(*m);
                (e.ancestors.count, e.seq)
            });
            for m in &members {
                let e = self.entry(*m);
                state[m.at()] = CHOSEN;
                used = used.saturating_add(e.size);
                fees = fees.saturating_add(e.fee);
                modified.remove(m);
                chosen.push(*m);
            }
            for m in &members {
                let e = self.entry(*m);
                if e.children.is_empty() {
                    continue;
                }
                let own = e.own();
                for d in self.descendants(*m) {
                    if state[d.at()] != FREE {
                        continue;
                    }
                    let de = self.entry(d);
                    let p = modified.entry(d).or_insert(de.ancestors);
                    p.sub(&own);
                    heap.push((score(de, p), Reverse(de.seq), d));
                }
            }
        }

        let mut t = BlockTemplate {
            transactions: Vec::with_capacity(chosen.len()),
            txids: Vec::with_capacity(chosen.len()),
            fees: Currency(fees),
            block_size: overhead.saturating_add(used as usize),
        };
        for i in chosen {
            let e = self.entry(i);
            t.transactions.push(e.tx.clone());
            t.txids.push(e.txid);
        }
        t
    }
}
