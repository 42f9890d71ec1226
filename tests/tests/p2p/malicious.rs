//! A malicious peer sends invalid transactions, garbage, an oversized message and an
//! invalid block: it is scored down, disconnected and banned, while the honest nodes keep
//! producing.

use super::attacker::Attacker;
use super::{payment, MINUTE};
use std::time::Duration;
use tfchain_api::NetApiClient;
use tfchain_node::net::protocol::TxGossip;
use tfchain_tests::{init_logs, Net};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Address, Signature};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malicious_peer_is_scored_down_and_banned() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(2)?;
    net.start_validators(2).await?;
    net.wait_all_height(2, 2 * MINUTE).await?;

    // 1. An invalid transaction costs a little score; garbage gets the peer banned.
    let mut a = Attacker::new(&net)?;
    a.connect(&net.node(0).p2p).await?;
    let to = Address::from_public_key(&net.keys[1].public_key());
    let mut bad_tx = payment(net.node(0), &net.keys[0], to);
    if let tfchain_types::Fulfillment::Signature(ks) = &mut bad_tx.coin_inputs[0].fulfillment {
        ks.signature = Signature([7; 64]);
    }
    let batch = TxGossip {
        nonce: 1,
        txs: vec![bad_tx],
    };
    a.publish(a.names.txs.clone(), tfchain_types::encode(&batch))
        .await?;
    a.wait_score(net.node(0), -10, false).await?;
    a.publish(
        a.names.blocks.clone(),
        vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3],
    )
    .await?;
    a.wait_score(net.node(0), 0, true).await?;
    // Banned: it cannot come back.
    let _ = a.swarm.dial(net.node(0).p2p.clone());
    a.pump(Duration::from_secs(2)).await;
    assert!(net
        .node(0)
        .rpc
        .get_peers()
        .await?
        .iter()
        .all(|p| p.peer_id != a.id().to_base58()));

    // 2. An oversized message (over the block size limit) gets another attacker banned.
    let mut b = Attacker::new(&net)?;
    b.connect(&net.node(1).p2p).await?;
    b.publish(b.names.blocks.clone(), vec![0u8; MAX_BLOCK_SIZE + 1_000])
        .await?;
    b.wait_score(net.node(1), 0, true).await?;

    // 3. A block that does not verify (a re-timed copy of the tip) gets a third one banned.
    let mut c = Attacker::new(&net)?;
    c.connect(&net.node(0).p2p).await?;
    let store = &net.node(0).running.chain.store;
    let mut bad = store.block_at(store.tip().height)?.expect("tip block");
    bad.header.timestamp += 1;
    c.publish(c.names.blocks.clone(), tfchain_types::encode(&bad))
        .await?;
    c.wait_score(net.node(0), 0, true).await?;

    // The honest nodes kept producing on one chain.
    let h = net.node(0).height() + 2;
    net.wait_all_height(h, 2 * MINUTE).await?;
    net.wait_same_tip(MINUTE).await?;
    net.stop().await;
    Ok(())
}
