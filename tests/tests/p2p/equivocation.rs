//! A validator that signs two blocks at one height is caught: every node stores the
//! evidence and reports it through `chain_getEquivocations`.

use super::MINUTE;
use tfchain_api::ChainApiClient;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_node::chain::Origin;
use tfchain_node::clock::{Clock, SystemClock};
use tfchain_node::store::OutputRef;
use tfchain_tests::{init_logs, wait_for, Net};
use tfchain_types::{Address, Seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equivocation_is_detected_and_reported() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(4)?;
    // Validators 0..2 run nodes; the test holds validator 3's key and misbehaves with it.
    for i in 0..3 {
        net.start(i, Some(i)).await?;
    }
    net.wait_all_height(1, 2 * MINUTE).await?;
    let key = net.keys[3].clone();
    let addr = Address::from_public_key(&key.public_key());
    let other = Address::from_public_key(&Seed([9; 32]).derive_key(0).public_key());

    // Find a second at which validator 3 wins on node 0's tip, and sign two blocks there.
    let (a, b) = wait_for("a lottery win for validator 3", 2 * MINUTE, || async {
        let store = &net.node(0).running.chain.store;
        let params = &net.node(0).running.chain.params;
        let tip = store.tip();
        let stakes: Vec<_> = store
            .address_outputs(&addr)
            .ok()?
            .into_iter()
            .filter_map(|(id, o)| match o {
                OutputRef::Stake(e) => Some((id, e)),
                OutputRef::Coin(_) => None,
            })
            .collect();
        let lottery = Lottery::for_child_of(store, params);
        let now = SystemClock.now();
        let latest = now + params.future_threshold - 1;
        let t =
            (tip.timestamp + 1..=latest).find(|t| lottery.winner(params, &stakes, *t).is_some())?;
        let (out, _) = lottery.winner(params, &stakes, t)?;
        let a = assemble_block(store, t, *out, &key, addr, vec![]);
        let b = assemble_block(store, t, *out, &key, other, vec![]);
        (a.header.parent == store.tip().id).then_some((a, b))
    })
    .await?;
    assert_ne!(a.id(), b.id());
    let stake_output = a.header.stake_output;

    // Each half goes to a different node, which relays it.
    let n0 = net.node(0);
    let n1 = net.node(1);
    let _ = n0
        .running
        .chain
        .submit_block(a.clone(), Origin::Remote)
        .await;
    let _ = n1
        .running
        .chain
        .submit_block(b.clone(), Origin::Remote)
        .await;
    if let Some(h) = &n0.running.net {
        h.broadcast_block(a.clone()).await;
    }
    if let Some(h) = &n1.running.net {
        h.broadcast_block(b.clone()).await;
    }

    for (i, n) in net.running() {
        let found = wait_for(
            &format!("node {i} to report the equivocation"),
            MINUTE,
            || async {
                let page = n.rpc.get_equivocations(None, None).await.ok()?;
                page.equivocations
                    .into_iter()
                    .find(|e| e.stake_output == stake_output)
            },
        )
        .await?;
        let ids = [found.first.id, found.second.id];
        assert!(
            ids.contains(&a.id()) && ids.contains(&b.id()),
            "node {i}: {ids:?}"
        );
        assert_eq!(found.height, a.header.height);
    }
    // The network goes on.
    let h = net.node(0).height() + 1;
    net.wait_all_height(h, 2 * MINUTE).await?;
    net.stop().await;
    Ok(())
}
