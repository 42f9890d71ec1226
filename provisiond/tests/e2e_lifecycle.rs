//! A reservation's life on a real dev chain, followed by a real daemon: its workload runs
//! within 2 blocks of the reservation's inclusion, UpdateDeployment replaces it, cancel
//! stops it within 2 blocks and deletes its directory; a reservation that runs out of funds
//! is paused in grace, resumed by a top-up, and stopped at the end of its grace.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn a_workload_starts_is_replaced_and_stops_with_its_reservation() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    let m = manifest(dir.path(), "heartbeat.json", HEARTBEAT);

    let (id, included) = wallet.reserve(&node, &m, 1, 200);
    let w = daemon.wait(id, "running", blocks(2), |w| w["actual"] == "running");
    assert!(
        node.height() <= included + 2,
        "running only at height {} (included at {included})",
        node.height()
    );
    assert_eq!(w["desired"], "running");
    daemon.wait_beating(id);
    let pid = w["pid"].as_u64().expect("a pid");
    assert!(alive(pid));
    assert_eq!(daemon.processes_of(id), 1);

    // A new deployment replaces the old one: new hash, new process.
    let other_text = HEARTBEAT.replace("sleep 0.2", "sleep 0.3");
    let other = manifest(dir.path(), "other.json", &other_text);
    let o = other.to_string_lossy().into_owned();
    wallet.ok(
        &node,
        &[
            "reservation",
            "update",
            &id.to_string(),
            "--manifest",
            &o,
            "--wait",
        ],
    );
    let new_hash = tfchain_api::deployment::deployment_hash(other_text.as_bytes()).to_string();
    let w = daemon.wait(id, "replaced", blocks(2), |w| {
        w["actual"] == "running" && w["deployment_hash"] == new_hash.as_str() && w["pid"] != pid
    });
    poll("the old process to end", Duration::from_secs(10), || {
        (!alive(pid)).then_some(())
    });
    let pid = w["pid"].as_u64().expect("a pid");
    daemon.wait_beating(id);

    // Cancel: stopped within 2 blocks, directory deleted.
    let r = wallet.ok(&node, &["reservation", "cancel", &id.to_string(), "--wait"]);
    let ended = r["height"].as_u64().unwrap_or_else(|| node.height());
    daemon.wait_gone(id, blocks(2));
    assert!(
        node.height() <= ended + 2,
        "removed only at height {}",
        node.height()
    );
    assert!(!daemon.work_dir(id).exists());
    poll("the process to end", Duration::from_secs(5), || {
        (!alive(pid)).then_some(())
    });
    assert_eq!(daemon.processes_of(id), 0);
}

#[test]
fn grace_pauses_a_top_up_resumes_and_the_end_stops() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    let m = manifest(dir.path(), "heartbeat.json", HEARTBEAT);

    // The least a reservation may pay for: 10 blocks, then 30 blocks of grace (dev).
    let (id, _) = wallet.reserve(&node, &m, 1, 10);
    daemon.wait(id, "running", blocks(2), |w| w["actual"] == "running");
    daemon.wait_beating(id);
    let w = daemon.wait(id, "paused in grace", blocks(14), |w| {
        w["desired"] == "paused" && w["actual"] == "paused"
    });
    let pid = w["pid"].as_u64().expect("a pid");
    let beat = daemon.heartbeat(id).expect("a heartbeat");
    // Frozen: two more blocks and the heartbeat has not moved.
    let h = node.height();
    node.wait_height(h + 2);
    assert_eq!(
        daemon.heartbeat(id),
        Some(beat),
        "a paused workload kept running"
    );
    assert!(alive(pid));

    // A top-up resumes the same process.
    wallet.ok(
        &node,
        &[
            "reservation",
            "topup",
            &id.to_string(),
            "--blocks",
            "10",
            "--wait",
        ],
    );
    daemon.wait(id, "resumed", blocks(2), |w| {
        w["actual"] == "running" && w["pid"] == pid
    });
    daemon.wait_beating(id);

    // Ten blocks later it is in grace again, and at the end of grace it is stopped.
    daemon.wait(id, "paused again", blocks(14), |w| w["actual"] == "paused");
    daemon.wait_gone(id, blocks(34));
    assert!(!daemon.work_dir(id).exists());
    assert!(!alive(pid));
}
