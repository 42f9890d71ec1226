//! Issue #12 item 4: the gossip seen-set is filled only after a message validates and is
//! keyed by the signed block. A peer that predicts a validator's next block (the lottery
//! is public, an empty block's header is predictable) and gossips a copy with a junk
//! signature first must not stop the real block: the validator still connects its own
//! block and publishes it, and a watching peer receives it through gossip.

use super::attacker::Attacker;
use super::MINUTE;
use anyhow::bail;
use std::time::{Duration, Instant};
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_node::clock::{Clock, SystemClock};
use tfchain_tests::{init_logs, Net};
use tfchain_types::{Address, Signature};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_junk_copy_sent_first_does_not_suppress_the_real_block() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(1)?;
    net.start_validators(1).await?;
    net.wait_height(0, 2, MINUTE).await?;
    let node = net.node(0);
    let store = &node.running.chain.store;
    let params = node.running.chain.params.clone();
    let key = net.keys[0].clone();
    let address = Address::from_public_key(&key.public_key());
    let mut watcher = Attacker::new(&net)?;
    watcher.connect(&node.p2p).await?;

    for _attempt in 0..10 {
        let tip = store.tip();
        let now = SystemClock.now();
        let lottery = Lottery::for_child_of(store, &params);
        let stakes = store.stakes_of(&address)?;
        let (t, stake_output) = (tip.timestamp + 1..)
            .find_map(|t| lottery.winner(&params, &stakes, t).map(|(id, _)| (t, *id)))
            .expect("a winning second");
        if t < now + 1 {
            // Too close to send the copy first: wait for the next block and predict again.
            while store.tip().height == tip.height {
                watcher.pump(Duration::from_millis(100)).await;
            }
            continue;
        }
        let real = assemble_block(store, t, stake_output, &key, address, vec![]);
        let mut junk = real.clone();
        junk.signature = Signature([7; 64]);
        let mut sender = Attacker::new(&net)?;
        sender.connect(&node.p2p).await?;
        sender
            .publish(sender.names.blocks.clone(), tfchain_types::encode(&junk))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while store.tip().height == tip.height && Instant::now() < deadline {
            watcher.pump(Duration::from_millis(100)).await;
        }
        if node.id_at(tip.height + 1) != Some(real.id()) {
            // The prediction missed (a transaction, a slow second): try again.
            continue;
        }
        let bytes = tfchain_types::encode(&real);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if watcher
                .received
                .iter()
                .any(|(topic, data)| *topic == watcher.names.blocks.hash() && *data == bytes)
            {
                net.stop().await;
                return Ok(());
            }
            watcher.pump(Duration::from_millis(100)).await;
        }
        bail!("the real block was connected but never gossiped after the junk copy");
    }
    bail!("the validator never connected the predicted block (a junk copy held it back?)")
}
