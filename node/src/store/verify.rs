//! The deep check of the explorer indexes ([`super::Store::verify_indexes`]).

use super::db::Tables;
use super::error::StoreError;
use super::indexes::block_indexes;
use super::indexes::{coin_group, stake_group};
use super::tables::{AddressHistory, AddressOutputs, Coins, Heights, Stakes, TxIndex};

/// The deep index check behind [`super::Store::verify_indexes`]: every main-chain block's
/// transaction-index and address-history entries exist with the right values and nothing
/// else does; every unspent output has exactly its address-output entry. A store without
/// explorer indexes must hold none. The caller waits for the indexer to reach the tip.
pub(crate) fn verify_indexes(
    t: &Tables,
    tip: &tfchain_consensus::BlockMeta,
) -> Result<Vec<String>, StoreError> {
    const MAX_REPORTED: usize = 20;
    let mut problems = Vec::new();
    let mut note = |p: String| {
        if problems.len() < MAX_REPORTED {
            problems.push(p);
        }
    };
    if !t.explorer {
        for prefix in super::tables::EXPLORER_PREFIXES {
            if t.any_with_prefix(prefix)? {
                note(format!(
                    "the store keeps no explorer indexes, but table prefix {prefix:#04x} holds entries"
                ));
            }
        }
        return Ok(problems);
    }
    let indexed = t.get::<super::tables::IndexTip>(&())?;
    if indexed.map(|i| i.id) != Some(tip.id) {
        note(format!(
            "the index tip is {indexed:?}, the chain's tip {} at height {}",
            tip.id, tip.height
        ));
    }
    let (mut txs, mut history) = (0usize, 0usize);
    for h in 0..=tip.height {
        let Some(id) = t.get::<Heights>(&h)? else {
            note(format!("no main-chain block at height {h}"));
            continue;
        };
        let (Some(block), Some(undo)) = (t.block(&id)?, t.undo(&id)?) else {
            note(format!(
                "block {id} at height {h} lacks its body or undo data"
            ));
            continue;
        };
        let indexes = match block_indexes(&block, id, &undo.diff) {
            Ok(i) => i,
            Err(e) => {
                note(format!("block {id} at height {h}: {e}"));
                continue;
            }
        };
        for (txid, loc) in &indexes.txs {
            if t.get::<TxIndex>(txid)? != Some(loc.spot()) {
                note(format!(
                    "transaction {txid} of height {h} is missing from the tx index"
                ));
            }
        }
        let groups = indexes.history_by_address();
        for (k, entries) in &groups {
            if t.get::<AddressHistory>(k)?.as_ref() != Some(entries) {
                note(format!(
                    "history of {} at height {h} is missing or wrong",
                    k.address
                ));
            }
        }
        txs += indexes.txs.len();
        history += groups.len();
    }
    fn count<T>(
        n: usize,
        it: impl Iterator<Item = Result<T, StoreError>>,
    ) -> Result<(usize, usize), StoreError> {
        let mut c = 0usize;
        for r in it {
            r?;
            c += 1;
        }
        Ok((c, n))
    }
    let (found, want) = count(txs, t.scan::<TxIndex>(&[]))?;
    if found != want {
        note(format!(
            "the tx index has {found} entries, the main chain {want} transactions"
        ));
    }
    let (found, want) = count(history, t.scan::<AddressHistory>(&[]))?;
    if found != want {
        note(format!(
            "the address history has {found} (address, block) entries, the main chain implies {want}"
        ));
    }
    let mut outputs = 0usize;
    for item in t.scan::<Coins>(&[]) {
        let (id, e) = item?;
        outputs += 1;
        if !t
            .get::<AddressOutputs>(&coin_group(&e))?
            .is_some_and(|ids| ids.contains(&id))
        {
            note(format!(
                "coin output {id} is missing from the address index"
            ));
        }
    }
    for item in t.scan::<Stakes>(&[]) {
        let (id, e) = item?;
        outputs += 1;
        if !t
            .get::<AddressOutputs>(&stake_group(&e))?
            .is_some_and(|ids| ids.contains(&id))
        {
            note(format!(
                "blockstake output {id} is missing from the address index"
            ));
        }
    }
    let mut found = 0usize;
    for item in t.scan::<AddressOutputs>(&[]) {
        let (k, ids) = item?;
        if ids.is_empty() {
            note(format!(
                "the address index keeps an empty group for {}",
                k.address
            ));
        }
        found += ids.len();
    }
    if found != outputs {
        note(format!(
            "the address index has {found} entries for {outputs} unspent outputs"
        ));
    }
    Ok(problems)
}
