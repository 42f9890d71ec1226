//! Restarts and rewrites of history: a daemon killed with SIGKILL adopts its running
//! workloads (no duplicate) and removes one cancelled while it was down; a tfchaind restart
//! misses nothing (the daemon keeps what runs while tfchaind is away); a `tfchaind rollback`
//! past the reserving block stops that reservation's workload.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn a_killed_daemon_adopts_its_workloads_and_removes_what_ended_meanwhile() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let mut daemon = Daemon::start(dir.path(), &node);
    let m = manifest(dir.path(), "heartbeat.json", HEARTBEAT);
    let (a, _) = wallet.reserve(&node, &m, 1, 200);
    let (b, _) = wallet.reserve(&node, &m, 1, 200);
    let pid_a = daemon.wait(a, "running", blocks(2), |w| w["actual"] == "running")["pid"]
        .as_u64()
        .expect("pid");
    let pid_b = daemon.wait(b, "running", blocks(2), |w| w["actual"] == "running")["pid"]
        .as_u64()
        .expect("pid");

    daemon.kill9();
    // While the daemon is down: its workloads run on, and one reservation ends.
    assert!(alive(pid_a) && alive(pid_b));
    wallet.ok(&node, &["reservation", "cancel", &b.to_string(), "--wait"]);

    daemon.restart();
    let w = daemon.wait(a, "adopted", blocks(2), |w| w["actual"] == "running");
    assert_eq!(
        w["pid"].as_u64(),
        Some(pid_a),
        "the running workload was not adopted: {w}"
    );
    daemon.wait_gone(b, blocks(2));
    assert!(!daemon.work_dir(b).exists());
    poll("b's process to end", Duration::from_secs(5), || {
        (!alive(pid_b)).then_some(())
    });
    // Some reconciles later there is still exactly one copy of a.
    let h = node.height();
    node.wait_height(h + 2);
    assert_eq!(daemon.processes_of(a), 1);
    assert_eq!(daemon.processes_of(b), 0);
    daemon.wait_beating(a);
}

#[test]
fn tfchaind_restarts_and_rollbacks_are_followed() {
    let dir = temp_dir();
    let mut node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    let m = manifest(dir.path(), "heartbeat.json", HEARTBEAT);
    let (a, _) = wallet.reserve(&node, &m, 1, 400);
    let pid_a = daemon.wait(a, "running", blocks(2), |w| w["actual"] == "running")["pid"]
        .as_u64()
        .expect("pid");

    // tfchaind away: nothing is stopped; back: a reservation made then is run.
    node.stop();
    poll("the daemon to notice", Duration::from_secs(30), || {
        (daemon.workloads()["connected"] == false).then_some(())
    });
    assert!(alive(pid_a));
    assert_eq!(
        daemon.workload(a).expect("still listed")["actual"],
        "running"
    );
    node.restart();
    let before_b = node.height();
    let (b, included_b) = wallet.reserve(&node, &m, 1, 400);
    daemon.wait(b, "running after the restart", blocks(4), |w| {
        w["actual"] == "running"
    });
    assert_eq!(daemon.workload(a).expect("a")["pid"].as_u64(), Some(pid_a));

    // Roll the chain back past b's block: b no longer exists, a does.
    let h = node.height();
    node.rollback(h - before_b);
    node.restart();
    assert!(
        node.height() < included_b,
        "rolled back to {}",
        node.height()
    );
    daemon.wait_gone(b, blocks(4));
    assert!(!daemon.work_dir(b).exists());
    let w = daemon.workload(a).expect("a stays");
    assert_eq!(
        (w["actual"].as_str(), w["pid"].as_u64()),
        (Some("running"), Some(pid_a))
    );
}
