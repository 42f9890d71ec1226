//! Crash recovery of the real binary (issue #4 §8): `kill -9` at random moments while the
//! dev node produces blocks (with payments in them), at least 20 times on one data dir.
//! Every restart must succeed with a consistent state: the supply invariant of
//! PROTOCOL.md §6 holds, the blockstakes are unchanged, no block the node had flushed is
//! lost or replaced, and the chain continues.
//!
//! What "flushed" means here: the chain task commits a block (one atomic sled batch, which
//! makes it visible to RPC at once) and then flushes before it takes its next command. A
//! block seen over RPC may therefore still be in sled's buffer when SIGKILL lands, but its
//! parent is on disk for sure. So after a restart the height is at least the last height
//! seen before the kill minus one, and the block seen at that height minus one is the same.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use tfchain_api::TxApiClient;
use tfchain_types::{BlockId, Currency, Height};

/// Kills while producing; `EARLY_KILLS` more land during startup (store open and repair).
const KILLS: u32 = 20;
const EARLY_KILLS: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_production_recovers_every_time() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("node.log");
    let seed = std::env::var("TFCHAIN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7f_c4a5_u64);
    eprintln!("crash test seed {seed} (set TFCHAIN_CRASH_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    // (height, id) of the last block seen before each kill, and of its parent.
    let mut seen: Option<((Height, BlockId), (Height, BlockId))> = None;
    let mut payer = 1u64;
    let mut kills = 0;
    let mut early = 0;
    let mut round = 0u32;
    // Rounds where the block seen last before the kill was not on disk yet.
    let mut lost = 0u32;

    while kills < KILLS || early < EARLY_KILLS {
        round += 1;
        // Now and then, kill during startup (before RPC answers): the next start must cope.
        if early < EARLY_KILLS && round % 6 == 3 {
            early += 1;
            let mut child = tfchaind()
                .args(["--dev", "--rpc-addr", "127.0.0.1:0", "--data-dir"])
                .arg(&data)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("spawn");
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..150))).await;
            child.start_kill().expect("SIGKILL");
            let _ = child.wait().await;
            continue;
        }

        let node = NodeProcess::dev(&data, &log).await;
        let info = node.info().await;
        if let Some(seen) = seen {
            if !check_recovered(&node, info.height, seen, round).await {
                lost += 1;
            }
        }
        assert_supply(&node.http).await;

        // Some payments, so blocks carry transactions when the kill lands.
        for _ in 0..2 {
            let key = dev_key(payer);
            payer = payer % 9 + 1;
            let to = address_of(&fresh_key(0xc0, u64::from(round)));
            let (tx, _) = build_payment(&node.http, &key, to, Currency::from_tft(1)).await;
            TxApiClient::submit(&node.http, tx_hex(&tx))
                .await
                .expect("tx_submit");
        }

        // The chain continues from the recovered tip; then kill at a random moment.
        node.wait_height(info.height + 1, blocks_timeout(1)).await;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..2_000))).await;
        let last = node.info().await;
        let parent = block_id_at(&node.http, last.height - 1)
            .await
            .expect("header");
        seen = Some(((last.height, last.tip), (last.height - 1, parent)));
        node.kill9().await;
        kills += 1;
    }

    // A last start: recovered, consistent, producing.
    let node = NodeProcess::dev(&data, &log).await;
    let info = node.info().await;
    let seen = seen.expect("rounds ran");
    if !check_recovered(&node, info.height, seen, round + 1).await {
        lost += 1;
    }
    assert_supply(&node.http).await;
    node.wait_height(info.height + 1, blocks_timeout(1)).await;
    // Each round adds at least one block and loses at most the one it did not flush.
    assert!(
        info.height + u64::from(lost) >= u64::from(KILLS),
        "the chain grew across restarts: height {}, {lost} unflushed blocks lost",
        info.height
    );
    eprintln!(
        "{kills} kills during production ({lost} took the last block seen before flushing it), {early} during startup, final height {}, {:?}",
        info.height,
        started.elapsed()
    );
}

/// After a restart at `height`: nothing flushed before the kill is lost or replaced. `seen`
/// is ((height, id) of the last block seen before the kill, (height, id) of its parent).
/// Returns false when the last block seen was lost (it had not been flushed yet).
async fn check_recovered(
    node: &NodeProcess,
    height: Height,
    seen: ((Height, BlockId), (Height, BlockId)),
    round: u32,
) -> bool {
    let ((h, id), (ph, pid)) = seen;
    assert!(
        height + 1 >= h,
        "round {round}: restarted at height {height}, but {h} was seen before the kill"
    );
    let at = block_id_at(&node.http, ph)
        .await
        .unwrap_or_else(|e| panic!("round {round}: block {ph} lost: {e}"));
    assert_eq!(at, pid, "round {round}: flushed block {ph} replaced");
    if height < h {
        return false;
    }
    let at = block_id_at(&node.http, h).await.expect("header");
    assert_eq!(at, id, "round {round}: block {h} replaced");
    true
}
