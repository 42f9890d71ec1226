//! A late joiner syncs thousands of blocks; a node restarted in the middle of a sync
//! resumes where it stopped.

use super::MINUTE;
use tfchain_api::ChainApiClient;
use tfchain_consensus::BlockMeta;
use tfchain_tests::chain::Builder;
use tfchain_tests::{init_logs, wait_for, Net};

const BLOCKS: u64 = 2_100;

/// A two-validator network whose node 0 holds `BLOCKS` blocks built offline.
async fn prebuilt() -> anyhow::Result<(Net, BlockMeta)> {
    let now = tfchain_node::clock::Clock::now(&tfchain_node::clock::SystemClock);
    // About two seconds a block: start far enough back that the chain ends in the past.
    let mut net = Net::with_genesis_time(2, now - 5 * BLOCKS)?;
    let dir = net.prepare_dir(0);
    let genesis = net.genesis.clone();
    let keys = net.keys.clone();
    let tip = tokio::task::spawn_blocking(move || {
        let mut b = Builder::open(&dir, &genesis, &keys)?;
        b.produce_empty(BLOCKS)?;
        b.finish()
    })
    .await??;
    assert!(tip.timestamp < now, "the built chain must end in the past");
    Ok((net, tip))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn late_joiner_syncs_thousands_of_blocks() -> anyhow::Result<()> {
    init_logs();
    let (mut net, tip) = prebuilt().await?;
    net.start(0, Some(0)).await?;
    // The joiner is a validator: it must not produce until it has caught up.
    net.start(1, Some(1)).await?;
    let mid = wait_for("the joiner in the middle of its sync", MINUTE, || async {
        let h = net.node(1).height();
        (h > 0).then_some(h)
    })
    .await?;
    if mid + 200 < tip.height {
        let net1 = net.node(1).running.net.as_ref().expect("network");
        assert!(!net1.synced(), "synced at height {mid} of {}", tip.height);
    }
    net.wait_height(1, tip.height, 3 * MINUTE).await?;
    assert_eq!(net.node(1).id_at(tip.height), Some(tip.id));
    assert_eq!(net.node(1).id_at(1), net.node(0).id_at(1));
    wait_for("the joiner to report synced", MINUTE, || async {
        let info = net.node(1).rpc.get_info().await.ok()?;
        (info.synced && info.peers == 1).then_some(())
    })
    .await?;
    // After the sync it follows the live chain and produces on it.
    let me = net.keys[1].public_key();
    wait_for(
        "a block of the joiner on the common chain",
        2 * MINUTE,
        || async {
            let n0 = net.node(0);
            let top = n0.height();
            let store = &n0.running.chain.store;
            let produced = (tip.height + 1..=top)
                .filter_map(|h| store.header_at(h).ok().flatten())
                .any(|sh| sh.header.creator == me);
            (produced && net.node(1).id_at(top) == n0.id_at(top)).then_some(())
        },
    )
    .await?;
    net.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_in_the_middle_of_a_sync_resumes() -> anyhow::Result<()> {
    init_logs();
    let (mut net, tip) = prebuilt().await?;
    net.start(0, Some(0)).await?;
    net.start(1, None).await?;
    net.wait_height(1, 200, MINUTE).await?;
    let stopped_at = net.node(1).height();
    net.kill(1).await;
    assert!(
        stopped_at < tip.height,
        "the sync finished before the restart ({stopped_at})"
    );
    net.restart(1).await?;
    let resumed_at = net.node(1).height();
    assert!(
        resumed_at + 128 >= stopped_at && resumed_at > 0,
        "restarted at {resumed_at}, had {stopped_at}"
    );
    net.wait_height(1, tip.height, 3 * MINUTE).await?;
    assert_eq!(net.node(1).id_at(tip.height), Some(tip.id));
    net.stop().await;
    Ok(())
}
