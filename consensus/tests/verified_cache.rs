//! `apply_block_cached` (PROTOCOL.md §1): a transaction this node verified before skips
//! its signature checks, and nothing else does: changing any signature changes the WTxId.

use std::collections::BTreeSet;
use tfchain_consensus::testkit::{address_of, payment, TestChain};
use tfchain_consensus::{apply_block_cached, BlockError, Signatures, TxError, VerifiedTxs};
use tfchain_types::{Condition, Currency, Fulfillment, Hash};

struct Remembered(BTreeSet<Hash>);

impl VerifiedTxs for Remembered {
    fn contains(&self, wtxid: &Hash) -> bool {
        self.0.contains(wtxid)
    }
}

#[test]
fn a_remembered_wtxid_skips_verification_and_a_forged_signature_does_not() {
    let chain = TestChain::new(&[100], 2, Currency::from_tft(1_000));
    let (coin, entry) = chain.spendable(&address_of(&chain.funded[0]))[0].clone();
    let tx = payment(
        &[(coin, entry.value)],
        &chain.funded[0],
        Condition::Address(address_of(&chain.funded[1])),
        Currency::from_tft(1),
        chain.params.min_fee,
        &chain.params.genesis_id,
    );
    let mut forged = tx.clone();
    if let Fulfillment::Signature(ks) = &mut forged.coin_inputs[0].fulfillment {
        ks.signature.0[5] ^= 1;
    }
    assert_eq!(forged.txid(), tx.txid(), "same unsigned transaction");
    assert_ne!(
        forged.wtxid(),
        tx.wtxid(),
        "different signatures, different WTxId"
    );

    let cache = Remembered([tx.wtxid()].into_iter().collect());
    let (good, _) = chain.next_block(vec![tx]);
    let now = good.header.timestamp;
    apply_block_cached(
        &chain.state,
        &good,
        &chain.params,
        now,
        Signatures::Verify,
        &cache,
    )
    .expect("the valid block applies");

    // The forged transaction is not in the cache, so its signature is checked.
    let (bad, _) = chain.next_block(vec![forged]);
    let e = apply_block_cached(
        &chain.state,
        &bad,
        &chain.params,
        now,
        Signatures::Verify,
        &cache,
    )
    .expect_err("a forged signature is caught despite the cache");
    assert!(
        matches!(
            e,
            BlockError::Tx {
                index: 0,
                source: TxError::Fulfillment { .. }
            }
        ),
        "{e:?}"
    );
    // With its WTxId remembered (which no honest node would do) the check is skipped: the
    // cache is what decides, so only verified transactions may go in.
    let lying = Remembered(bad.transactions.iter().map(|t| t.wtxid()).collect());
    assert!(apply_block_cached(
        &chain.state,
        &bad,
        &chain.params,
        now,
        Signatures::Verify,
        &lying
    )
    .is_ok());
}
