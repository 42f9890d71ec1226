//! The cheap checks of a header chain and the block locator (PROTOCOL.md §12).

use super::super::protocol::MAX_LOCATOR;
use crate::store::Store;
use rayon::prelude::*;
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::ChainParams;
use tfchain_types::{BlockId, Height, Timestamp, BLOCK_VERSION};

/// Our tip and exponentially spaced ancestors down to genesis (at most [`MAX_LOCATOR`]).
pub fn locator(store: &Store) -> Vec<BlockId> {
    let tip = store.tip().height;
    let mut out = Vec::new();
    let mut h = tip;
    let mut step = 1u64;
    loop {
        if let Ok(Some(id)) = store.block_id_at(h) {
            out.push(id);
        }
        if h == 0 || out.len() >= MAX_LOCATOR - 1 {
            break;
        }
        if out.len() >= 10 {
            step = step.saturating_mul(2);
        }
        h = h.saturating_sub(step);
    }
    let genesis = store.genesis_id();
    if out.last() != Some(&genesis) {
        out.push(genesis);
    }
    out
}

/// Why a header chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderFault {
    #[error("header {index} does not link to the previous one")]
    Link { index: usize },
    #[error("header {index} has the wrong version or height")]
    Height { index: usize },
    #[error("header {index} is not later than its parent, or too far in the future")]
    Timestamp { index: usize },
    #[error("header {index} is not signed by its creator")]
    Signature { index: usize },
}

/// The cheap checks of a header chain that follows `prev` (id, height, timestamp).
pub fn check_headers(
    prev: (BlockId, Height, Timestamp),
    headers: &[SignedHeader],
    params: &ChainParams,
    now: Timestamp,
) -> Result<(), HeaderFault> {
    let latest = now.saturating_add(params.future_threshold.saturating_mul(2));
    let (mut id, mut height, mut ts) = prev;
    for (index, h) in headers.iter().enumerate() {
        let hd = &h.header;
        if hd.parent != id {
            return Err(HeaderFault::Link { index });
        }
        if hd.version != BLOCK_VERSION || hd.height != height + 1 {
            return Err(HeaderFault::Height { index });
        }
        if hd.timestamp <= ts || hd.timestamp > latest {
            return Err(HeaderFault::Timestamp { index });
        }
        id = hd.id();
        height = hd.height;
        ts = hd.timestamp;
    }
    match headers.par_iter().position_any(|h| !h.is_signed()) {
        Some(index) => Err(HeaderFault::Signature { index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_consensus::testkit::TestChain;
    use tfchain_types::{Currency, Signature};

    fn chain_of(n: usize) -> (TestChain, Vec<SignedHeader>) {
        let mut chain = TestChain::new(&[10, 10], 0, Currency::ZERO);
        let mut out = Vec::new();
        for _ in 0..n {
            let (block, _) = chain.next_block(vec![]);
            out.push(SignedHeader {
                header: block.header.clone(),
                signature: block.signature,
            });
            chain.produce(vec![]).expect("block applies");
        }
        (chain, out)
    }

    #[test]
    fn a_linked_signed_chain_passes_and_each_fault_is_named() {
        let (chain, headers) = chain_of(4);
        let g = &chain.genesis.header;
        let prev = (chain.genesis.id(), 0, g.timestamp);
        let far_future = u64::MAX / 2;
        check_headers(prev, &headers, &chain.params, far_future).expect("valid chain");

        let mut bad = headers.clone();
        bad[2].header.parent = BlockId::ZERO;
        assert_eq!(
            check_headers(prev, &bad, &chain.params, far_future),
            Err(HeaderFault::Link { index: 2 })
        );
        let mut bad = headers.clone();
        bad[3].signature = Signature::ZERO;
        assert_eq!(
            check_headers(prev, &bad, &chain.params, far_future),
            Err(HeaderFault::Signature { index: 3 })
        );
        // A header far ahead of our clock.
        let now = headers[1].header.timestamp;
        let ahead = check_headers(prev, &headers, &chain.params, now - 100);
        assert!(matches!(ahead, Err(HeaderFault::Timestamp { .. })));
        // Not attached where we said.
        let other = (BlockId::ZERO, 0, g.timestamp);
        assert_eq!(
            check_headers(other, &headers, &chain.params, far_future),
            Err(HeaderFault::Link { index: 0 })
        );
    }
}
