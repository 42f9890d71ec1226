//! A 3/2 partition: both sides keep producing; after the heal every node ends on the
//! heaviest chain, and the losing side's transaction is back in the pools and confirmed.

use super::{payment, MINUTE};
use tfchain_tests::{init_logs, wait_for, Net};
use tfchain_types::{Address, BlockId, TxId};

fn confirmed_in(net: &Net, node: usize, tx: &TxId) -> Option<BlockId> {
    let loc = net.node(node).running.chain.store.tx_location(tx).ok()??;
    Some(loc.block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partition_heals_onto_the_heaviest_chain() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(5)?;
    net.start_validators(5).await?;
    net.wait_all_height(2, 2 * MINUTE).await?;
    wait_for("a full mesh", MINUTE, || async {
        net.running()
            .all(|(_, n)| n.running.net.as_ref().is_some_and(|h| h.peer_count() == 4))
            .then_some(())
    })
    .await?;

    let (a, b) = ([0, 1, 2], [3, 4]);
    net.partition(&a, &b).await?;
    wait_for("the partition", MINUTE, || async {
        let peers = |i: usize| net.node(i).running.net.as_ref().map(|h| h.peer_count());
        (peers(0) == Some(2) && peers(3) == Some(1)).then_some(())
    })
    .await?;
    let fork = net.running().map(|(_, n)| n.height()).max().unwrap_or(0);

    // One payment on each side.
    let to = Address::from_public_key(&tfchain_types::Seed([3; 32]).derive_key(0).public_key());
    let tx_a = payment(net.node(0), &net.keys[0], to);
    let tx_b = payment(net.node(3), &net.keys[3], to);
    let (id_a, id_b) = (tx_a.txid(), tx_b.txid());
    assert!(net
        .node(0)
        .running
        .chain
        .submit_txs(vec![tx_a])
        .await
        .is_some_and(|r| r[0].is_ok()));
    assert!(net
        .node(3)
        .running
        .chain
        .submit_txs(vec![tx_b])
        .await
        .is_some_and(|r| r[0].is_ok()));

    // Both sides confirm their own transaction and grow apart.
    let (block_a, block_b) = wait_for("both sides to confirm and grow", 3 * MINUTE, || async {
        let ba = confirmed_in(&net, 0, &id_a)?;
        let bb = confirmed_in(&net, 3, &id_b)?;
        let grown = net.node(0).height() >= fork + 3 && net.node(3).height() >= fork + 3;
        grown.then_some((ba, bb))
    })
    .await?;
    assert!(
        confirmed_in(&net, 0, &id_b).is_none(),
        "the partition leaked"
    );
    assert!(
        confirmed_in(&net, 3, &id_a).is_none(),
        "the partition leaked"
    );
    let (work_a, work_b) = (net.node(0).tip().total_work, net.node(3).tip().total_work);

    net.heal(&a, &b).await?;
    let final_tip = wait_for("one chain with both transactions", 3 * MINUTE, || async {
        let tip = net.node(0).tip().id;
        let same = net.running().all(|(_, n)| n.tip().id == tip);
        let both = (0..5).all(|i| {
            confirmed_in(&net, i, &id_a).is_some() && confirmed_in(&net, i, &id_b).is_some()
        });
        (same && both).then_some(tip)
    })
    .await?;
    // The losing side's transaction was re-confirmed in a block of the winning chain.
    if work_a > work_b {
        assert_ne!(confirmed_in(&net, 3, &id_b), Some(block_b));
    } else if work_b > work_a {
        assert_ne!(confirmed_in(&net, 0, &id_a), Some(block_a));
    }
    // And every node reports the same heaviest chain.
    let tip_work = net.node(0).tip().total_work;
    assert!(tip_work >= work_a.max(work_b));
    assert!(net
        .running()
        .all(|(_, n)| n.tip().id == final_tip || n.tip().total_work >= tip_work));
    net.stop().await;
    Ok(())
}
