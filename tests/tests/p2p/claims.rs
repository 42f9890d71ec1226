//! Issue #12 item 1: a peer that claims a far longer, heavier chain and then shows no
//! headers for it (it holds every request open) cannot stop a validator. Its claim closes
//! the production gate for at most the claim grace; then the claim is dropped and the peer
//! penalised, and the validator produces again.

use super::attacker::Attacker;
use super::MINUTE;
use std::time::{Duration, Instant};
use tfchain_api::NetApiClient;
use tfchain_tests::{init_logs, Net};

/// The claim grace of the node (`CLAIM_GRACE`), plus slack for a slow machine.
const BOUND: Duration = Duration::from_secs(20 + 15);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claimed_tip_without_headers_cannot_stop_a_validator() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(1)?;
    net.start_validators(1).await?;
    net.wait_height(0, 2, MINUTE).await?;
    let node = net.node(0);

    let mut a = Attacker::new(&net)?;
    let tip = node.tip();
    let mut work = tip.total_work;
    for _ in 0..64 {
        work = work.saturating_add(work);
    }
    a.status.height = tip.height + 1_000_000;
    a.status.total_work = work;
    a.connect(&node.p2p).await?;

    // The claim is believed at first: the gate closes.
    let mut closed_at = None;
    for _ in 0..100 {
        a.pump(Duration::from_millis(100)).await;
        if !NetApiClient::get_info(&node.rpc).await?.synced {
            closed_at = Some(Instant::now());
            break;
        }
    }
    let closed_at = closed_at.expect("the node never took the claim into account");
    let stopped_at = node.height();

    // Within the bound it opens again and the validator produces blocks.
    let mut reopened = None;
    while closed_at.elapsed() < BOUND + MINUTE {
        a.pump(Duration::from_millis(200)).await;
        if reopened.is_none() && NetApiClient::get_info(&node.rpc).await?.synced {
            reopened = Some(closed_at.elapsed());
        }
        if node.height() >= stopped_at + 3 {
            break;
        }
    }
    let reopened = reopened.expect("the gate never opened again");
    assert!(
        reopened <= BOUND,
        "the claim held the gate closed for {reopened:?}"
    );
    assert!(
        node.height() >= stopped_at + 3,
        "the validator did not produce after the claim was dropped (height {})",
        node.height()
    );
    // The liar paid for it (or is gone altogether).
    let score = a.score_at(node).await?;
    assert!(
        score.is_none_or(|s| s <= tfchain_node::net::score::LIE),
        "score {score:?}"
    );
    // And it stays open while the peer keeps repeating its claim.
    let h = node.height();
    let deadline = Instant::now() + MINUTE;
    while Instant::now() < deadline && node.height() < h + 2 {
        a.pump(Duration::from_millis(200)).await;
    }
    assert!(node.height() >= h + 2, "production stopped again");
    net.stop().await;
    Ok(())
}
