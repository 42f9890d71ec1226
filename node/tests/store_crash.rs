//! kill -9 at any moment: a child process commits and undoes blocks as fast as it can and
//! is killed with SIGKILL at varying moments; every reopen must succeed, and the store
//! must equal its own main chain replayed from genesis through the consensus rules.

mod store_common;

use std::process::{Command, Stdio};
use std::time::Duration;
use store_common::*;

const CHILD_DIR: &str = "TFCHAIN_STORE_CRASH_CHILD_DIR";
const CHILD_FLUSH: &str = "TFCHAIN_STORE_CRASH_CHILD_FLUSH";

/// The writer, run as a child process by `kill_9_at_any_moment_recovers` (does nothing when
/// run directly).
#[test]
#[ignore = "a child process of kill_9_at_any_moment_recovers"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let flush = std::env::var(CHILD_FLUSH).is_ok_and(|v| v == "1");
    let mut chain = test_chain();
    let store = open(std::path::Path::new(&dir), &chain).expect("child open");
    chain.state = replay(&store, &chain);
    for n in 0u64.. {
        let seed = chain.state.height() * 7 + n;
        let txs = block_txs(&chain, seed);
        step(&mut chain, &store, txs);
        if n % 5 == 4 {
            // A reorg-like undo now and then.
            store.undo_tip().expect("child undo");
            chain.state.undo_tip();
        }
        if flush {
            store.flush().expect("child flush");
        }
    }
}

#[test]
fn kill_9_at_any_moment_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = test_chain();
    let exe = std::env::current_exe().expect("test binary path");
    let mut max_height = 0;
    for round in 0u64..8 {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_FLUSH, if round % 2 == 0 { "1" } else { "0" })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        // Kill at varying moments, including during the child's open and repair.
        std::thread::sleep(Duration::from_millis(60 + (round * 97) % 350));
        child.kill().expect("SIGKILL"); // SIGKILL on Unix
        child.wait().expect("reap");

        let store = open(dir.path(), &chain).expect("reopen after kill -9");
        let mem = replay(&store, &chain);
        assert_same(&store, &mem);
        assert_indexes_exact(&store);
        max_height = max_height.max(store.tip().height);
    }
    assert!(
        max_height > 5,
        "the child made progress (height {max_height})"
    );
}
