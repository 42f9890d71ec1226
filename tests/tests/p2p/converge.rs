//! Four validators start together, converge on one chain, and each produces blocks.

use super::MINUTE;
use std::collections::BTreeSet;
use tfchain_api::{ChainApiClient, NetApiClient};
use tfchain_tests::{init_logs, wait_for, Net};
use tfchain_types::Address;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_converge_and_each_produces() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(4)?;
    net.start_validators(4).await?;
    let validators: BTreeSet<String> = net
        .keys
        .iter()
        .map(|k| Address::from_public_key(&k.public_key()).to_string())
        .collect();

    // Wait until every node agrees on a prefix of the chain that holds a block of every
    // validator.
    let agreed = wait_for(
        "a common chain with blocks of every validator",
        4 * MINUTE,
        || async {
            let low = net.running().map(|(_, n)| n.height()).min()?;
            let h = low.checked_sub(2)?;
            let id = net.node(0).id_at(h)?;
            if !net.running().all(|(_, n)| n.id_at(h) == Some(id)) {
                return None;
            }
            let store = &net.node(0).running.chain.store;
            let creators: BTreeSet<String> = (1..=h)
                .filter_map(|x| store.header_at(x).ok().flatten())
                .map(|sh| Address::from_public_key(&sh.header.creator).to_string())
                .collect();
            (creators == validators).then_some(h)
        },
    )
    .await?;
    assert!(agreed >= 4);

    for (i, n) in net.running() {
        let info = ChainApiClient::get_info(&n.rpc).await?;
        assert!(info.synced, "node {i} is not synced");
        assert_eq!(info.peers, 3, "node {i} peers");
        let netinfo = NetApiClient::get_info(&n.rpc).await?;
        assert_eq!(netinfo.peers, 3);
        assert!(netinfo.synced);
        let peers = n.rpc.get_peers().await?;
        assert_eq!(peers.len(), 3);
        assert!(peers.iter().all(|p| p.height.is_some() && p.score >= 0));
    }
    net.stop().await;
    Ok(())
}
