//! The explorer indexes a main-chain block adds (and its undo removes): the transaction
//! index and the address history. Both are a pure function of the block and its diff, so
//! commit and undo compute the very same keys.

use super::tables::{HistoryBlockKey, HistoryKey, OutputGroupKey, KIND_COIN, KIND_STAKE};
use super::types::{HistoryEntry, HistorySource, TxLocation};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use tfchain_consensus::BlockDiff;
use tfchain_types::{Address, Block, BlockId, BlockStakes, Currency, OutputId, Transaction, TxId};

/// Index entries of one block.
#[derive(Debug, Default)]
pub(crate) struct BlockIndexes {
    pub txs: Vec<(TxId, TxLocation)>,
    pub history: BTreeMap<HistoryKey, HistoryEntry>,
}

impl BlockIndexes {
    /// The history grouped as stored: per address (the block has one height), its entries
    /// by position.
    pub fn history_by_address(&self) -> BTreeMap<HistoryBlockKey, Vec<(u32, HistoryEntry)>> {
        let mut out: BTreeMap<HistoryBlockKey, Vec<(u32, HistoryEntry)>> = BTreeMap::new();
        // Key order is address, height, position: each group comes out sorted by position.
        for (k, e) in &self.history {
            out.entry(k.block_key()).or_default().push((k.position, *e));
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Known {
    Coin(Address, Currency),
    Stake(Address, BlockStakes),
}

/// Computes the index entries of `block` (whose ID is `id`) from the block and its diff.
/// Fails when an input's parent is neither spent by the diff nor created earlier in the
/// block: then the diff does not belong to the block.
pub(crate) fn block_indexes(
    block: &Block,
    id: BlockId,
    diff: &BlockDiff,
) -> Result<BlockIndexes, String> {
    let height = block.header.height;
    let txids: Vec<TxId> = if block.transactions.len() >= 64 {
        block
            .transactions
            .par_iter()
            .map(Transaction::txid)
            .collect()
    } else {
        block.transactions.iter().map(Transaction::txid).collect()
    };

    let mut known: HashMap<OutputId, Known> = HashMap::with_capacity(
        diff.coins_spent.len() + diff.stakes_spent.len() + 2 * block.transactions.len(),
    );
    for (oid, e) in &diff.coins_spent {
        known.insert(*oid, Known::Coin(e.condition.address(), e.value));
    }
    for (oid, e) in &diff.stakes_spent {
        known.insert(*oid, Known::Stake(e.condition.address(), e.value));
    }

    let mut out = BlockIndexes {
        txs: Vec::with_capacity(txids.len()),
        history: BTreeMap::new(),
    };
    let overflow = || "amounts overflow".to_string();
    for (pos, (tx, txid)) in block.transactions.iter().zip(&txids).enumerate() {
        let position = u32::try_from(pos).map_err(|_| "too many transactions".to_string())?;
        out.txs.push((
            *txid,
            TxLocation {
                height,
                block: id,
                position,
            },
        ));
        let source = HistorySource::Transaction(*txid);
        for input in tx.coin_inputs.iter().chain(&tx.blockstake_inputs) {
            let parent = known.get(&input.parent).copied().ok_or_else(|| {
                format!(
                    "transaction {pos} spends {}, which the diff does not spend and no earlier \
                     transaction of the block creates",
                    input.parent
                )
            })?;
            let (address, coins, stakes) = match parent {
                Known::Coin(a, v) => (a, v, 0),
                Known::Stake(a, v) => (a, Currency::ZERO, v),
            };
            let e = entry(&mut out.history, address, height, position, source);
            e.sent = e.sent.checked_add(coins).ok_or_else(overflow)?;
            e.blockstakes_sent = e
                .blockstakes_sent
                .checked_add(stakes)
                .ok_or_else(overflow)?;
        }
        for (i, o) in tx.coin_outputs.iter().enumerate() {
            let address = o.condition.address();
            known.insert(
                Transaction::coin_output_id(txid, i),
                Known::Coin(address, o.value),
            );
            let e = entry(&mut out.history, address, height, position, source);
            e.received = e.received.checked_add(o.value).ok_or_else(overflow)?;
        }
        for (i, o) in tx.blockstake_outputs.iter().enumerate() {
            let address = o.condition.address();
            known.insert(
                Transaction::stake_output_id(txid, i),
                Known::Stake(address, o.value),
            );
            let e = entry(&mut out.history, address, height, position, source);
            e.blockstakes_received = e
                .blockstakes_received
                .checked_add(o.value)
                .ok_or_else(overflow)?;
        }
    }

    // Payouts are numbered from 0 in block order (§4.2) and never spent in their own block
    // (they are immature), so they are exactly the created coins with payout IDs.
    let created: HashMap<&OutputId, &tfchain_consensus::CoinEntry> =
        diff.coins_created.iter().map(|(k, v)| (k, v)).collect();
    let position =
        u32::try_from(block.transactions.len()).map_err(|_| "too many transactions".to_string())?;
    for i in 0u64.. {
        let Some(e) = created.get(&OutputId::for_payout(&id, i)) else {
            break;
        };
        let h = entry(
            &mut out.history,
            e.condition.address(),
            height,
            position,
            HistorySource::Payouts,
        );
        h.received = h.received.checked_add(e.value).ok_or_else(overflow)?;
    }
    Ok(out)
}

fn entry(
    history: &mut BTreeMap<HistoryKey, HistoryEntry>,
    address: Address,
    height: u64,
    position: u32,
    source: HistorySource,
) -> &mut HistoryEntry {
    history
        .entry(HistoryKey {
            address,
            height,
            position,
        })
        .or_insert(HistoryEntry {
            source,
            received: Currency::ZERO,
            sent: Currency::ZERO,
            blockstakes_received: 0,
            blockstakes_sent: 0,
        })
}

/// The address-output index changes of a diff: the outputs it spent and those it created,
/// each with the group it belongs to.
pub(crate) type OutputChanges = Vec<(OutputGroupKey, OutputId)>;

/// The address-output index changes of a diff: (spent, created).
pub(crate) fn address_output_changes(diff: &BlockDiff) -> (OutputChanges, OutputChanges) {
    let gone = (diff.coins_spent.iter().map(|(id, e)| (coin_group(e), *id)))
        .chain(
            diff.stakes_spent
                .iter()
                .map(|(id, e)| (stake_group(e), *id)),
        )
        .collect();
    let added = (diff
        .coins_created
        .iter()
        .map(|(id, e)| (coin_group(e), *id)))
    .chain(
        diff.stakes_created
            .iter()
            .map(|(id, e)| (stake_group(e), *id)),
    )
    .collect();
    (gone, added)
}

/// The address-output group of an unspent coin output.
pub(crate) fn coin_group(e: &tfchain_consensus::CoinEntry) -> OutputGroupKey {
    OutputGroupKey {
        address: e.condition.address(),
        kind: KIND_COIN,
        height: e.height,
    }
}

/// The address-output group of an unspent blockstake output.
pub(crate) fn stake_group(e: &tfchain_consensus::StakeEntry) -> OutputGroupKey {
    OutputGroupKey {
        address: e.condition.address(),
        kind: KIND_STAKE,
        height: e.height,
    }
}
