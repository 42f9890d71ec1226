//! The daemon's policies end to end: `--confirmations K` waits until the reserving block
//! has K confirmations; an exiting workload is restarted per its policy with backoff (and
//! the restarts are counted), or left exited under `never`; `/health` answers 200.

mod common;

use common::*;

#[test]
fn confirmations_restarts_and_health() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start_with(dir.path(), &node, &["--confirmations", "3"]);
    poll("/health to answer 200", blocks(2), || {
        http(daemon.listen, "GET", "/health", None).filter(|(status, _)| *status == 200)
    });

    // Acted on at 3 confirmations: not before the block two above the reserving one.
    let m = manifest(dir.path(), "heartbeat.json", HEARTBEAT);
    let (id, included) = wallet.reserve(&node, &m, 1, 200);
    let w = daemon.wait(id, "running", blocks(5), |w| w["actual"] == "running");
    let h = node.height();
    assert!(
        h >= included + 2,
        "ran at height {h}, reserved at {included}, 3 confirmations asked"
    );
    assert_eq!(w["restarts"], 0);

    // Exits: on-failure restarts a failing command, counting; never leaves it exited.
    let failing = manifest(
        dir.path(),
        "failing.json",
        r#"{"version":1,"kind":"process","command":["sh","-c","date +%s%N >> runs; exit 3"],"restart":"on-failure"}"#,
    );
    let (f, _) = wallet.reserve(&node, &failing, 1, 200);
    daemon.wait(f, "restarted twice", blocks(10), |w| {
        w["restarts"].as_u64() >= Some(2)
    });
    let runs = std::fs::read_to_string(daemon.work_dir(f).join("runs")).expect("runs file");
    assert!(runs.lines().count() >= 3, "{runs}");
    let once = manifest(
        dir.path(),
        "once.json",
        r#"{"version":1,"kind":"process","command":["sh","-c","exit 0"],"restart":"never"}"#,
    );
    let (o, _) = wallet.reserve(&node, &once, 1, 200);
    daemon.wait(o, "exited", blocks(5), |w| w["actual"] == "exited");
    let h = node.height();
    node.wait_height(h + 2);
    let w = daemon.workload(o).expect("listed");
    assert_eq!(
        (w["actual"].as_str(), w["restarts"].as_u64()),
        (Some("exited"), Some(0)),
        "{w}"
    );
}
