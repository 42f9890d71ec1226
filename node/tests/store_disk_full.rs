//! A disk that fills up: the store is opened on a small tmpfs, a ballast file takes all
//! but a little of the space, and blocks are committed (flushed after each, checkpointed
//! now and then) until a write fails. The failure must be a clear write error, never a
//! panic; after the ballast goes the store must reopen by itself at a consistent state at
//! or above the last block that was flushed, equal to its own chain replayed through the
//! consensus rules, and go on committing. Needs root for `mount` (skipped, with the
//! reason printed, where it is not allowed).

mod store_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use store_common::*;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_tmpfs(at: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(at).expect("mount point");
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Mount(at.to_path_buf()))
}

/// Fills the filesystem of `path` but for about `leave` bytes.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).expect("ballast");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    while f.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let _ = f.sync_all();
    let keep = written.saturating_sub(leave);
    f.set_len(keep).expect("shrink the ballast");
    f.sync_all().expect("sync the ballast");
}

#[test]
fn a_full_disk_stops_writes_with_a_clear_error_and_loses_nothing() {
    let base = tempfile::tempdir().expect("tempdir");
    let mnt = base.path().join("mnt");
    let Some(_mount) = mount_tmpfs(&mnt, "16m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
        return;
    };
    let mut chain = test_chain();
    let data = mnt.join("node");
    let store = open(&data, &chain).expect("open on the tmpfs");
    for i in 0..3 {
        let txs = block_txs(&chain, i);
        step(&mut chain, &store, txs);
    }
    store.checkpoint().expect("checkpoint");
    let ballast = mnt.join("ballast");
    fill(&ballast, 192 * 1024);

    // Commit until the disk refuses a write.
    let mut flushed_height = store.tip().height;
    let mut failure = None;
    for i in 3u64..100_000 {
        let txs = block_txs(&chain, i);
        let (block, _) = chain.next_block(txs);
        let now = block.header.timestamp;
        let view = store.view();
        let outcome = tfchain_consensus::apply_block(&view, &block, &chain.params, now);
        view.finish().expect("reads work");
        let outcome = outcome.expect("valid");
        let r = store
            .commit_block(&block, &outcome)
            .and_then(|_| store.flush())
            .and_then(|_| {
                if i % 8 == 0 {
                    store.checkpoint()
                } else {
                    Ok(())
                }
            });
        match r {
            Ok(()) => {
                chain
                    .state
                    .apply(&block, &chain.params, now)
                    .expect("memory apply");
                flushed_height = store.tip().height;
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let err = failure.expect("the disk filled up");
    let msg = err.to_string();
    assert!(
        err.is_write_failure(),
        "a full disk is a write failure: {msg}"
    );
    assert!(
        msg.contains("No space left") || msg.contains("space"),
        "the error says why: {msg}"
    );
    drop(store);

    // Space again: the store recovers by itself.
    std::fs::remove_file(&ballast).expect("remove the ballast");
    let store = open(&data, &chain).expect("reopen after the disk filled up");
    let tip = store.tip();
    assert!(
        tip.height >= flushed_height,
        "nothing flushed is lost: at {} after {flushed_height} was flushed",
        tip.height
    );
    let mem = replay(&store, &chain);
    assert_same(&store, &mem);
    assert_indexes_exact(&store);
    // And it goes on.
    let mut chain = chain;
    chain.state = mem;
    let txs = block_txs(&chain, 1_000_000);
    step(&mut chain, &store, txs);
    store.flush().expect("flush");
    assert_eq!(store.tip().height, tip.height + 1);
}
