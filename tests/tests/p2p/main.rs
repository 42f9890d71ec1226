//! Multi-node tests over real loopback sockets (issue #5 §6). Each test builds its own
//! network of in-process nodes with temporary data dirs.

mod attacker;
mod claims;
mod converge;
mod equivocation;
mod gossip_seen;
mod malicious;
mod partition;
mod side_chain;
mod sync;

use std::time::Duration;
use tfchain_node::store::OutputRef;
use tfchain_types::{Address, Currency, OutputId, SecretKey, Transaction};

pub const MINUTE: Duration = Duration::from_secs(60);

/// A signed payment of 1 TFT from `key`'s first spendable coin output on `node`'s chain.
pub fn payment(node: &tfchain_tests::TestNode, key: &SecretKey, to: Address) -> Transaction {
    let store = &node.running.chain.store;
    let height = store.tip().height;
    let from = Address::from_public_key(&key.public_key());
    let inputs: Vec<(OutputId, Currency)> = store
        .address_outputs(&from)
        .expect("outputs")
        .into_iter()
        .filter_map(|(id, o)| match o {
            OutputRef::Coin(c) if c.mature_at <= height + 1 => Some((id, c.value)),
            _ => None,
        })
        .take(1)
        .collect();
    assert!(!inputs.is_empty(), "no spendable coins");
    let params = &node.running.chain.params;
    tfchain_consensus::testkit::payment(
        &inputs,
        key,
        tfchain_types::Condition::Address(to),
        Currency::from_tft(1),
        params.min_fee,
        &params.genesis_id,
    )
}
