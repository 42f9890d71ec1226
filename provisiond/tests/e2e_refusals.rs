//! Manifests the daemon must refuse, with the reason in `/workloads`, while it keeps
//! serving the good ones; a manifest fetched by URL (hash-checked); and, where cgroups are
//! writable, a workload stopped by its memory limit.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use tfchain_api::deployment::deployment_hash;

/// Reserves with raw `--deployment-hash/--deployment-data` (what a wallet that does not
/// check manifests could send).
fn reserve_raw(wallet: &Wallet, node: &Node, hash: &str, data: &[u8]) -> u64 {
    let data = hex::encode(data);
    let raw = ["--deployment-hash", hash, "--deployment-data", &data];
    wallet.reserve_deployment(node, 1, 200, &raw).0
}

fn refused_with(daemon: &Daemon, id: u64, words: &str) {
    let w = daemon.wait(id, "refused", blocks(2), |w| w["desired"] == "nothing");
    let reason = w["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(words), "reason {reason:?} lacks {words:?}");
    assert_eq!(w["actual"], "absent", "{w}");
    assert!(!daemon.work_dir(id).exists());
}

#[test]
fn bad_manifests_are_refused_in_words_and_good_ones_run() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    let good = manifest(dir.path(), "heartbeat.json", HEARTBEAT);
    let (ok_id, _) = wallet.reserve(&node, &good, 1, 200);

    let wrong_hash = reserve_raw(&wallet, &node, &"ab".repeat(32), HEARTBEAT.as_bytes());
    let unknown = HEARTBEAT.replace("\"restart\"", "\"privileged\":true,\"restart\"");
    let unknown_id = reserve_raw(
        &wallet,
        &node,
        &deployment_hash(unknown.as_bytes()).to_string(),
        unknown.as_bytes(),
    );
    let greedy = HEARTBEAT.replace(
        "\"restart\"",
        "\"resources\":{\"cru\":1,\"mru\":8,\"sru\":1,\"hru\":0,\"ipv4\":0},\"restart\"",
    );
    let greedy_id = reserve_raw(
        &wallet,
        &node,
        &deployment_hash(greedy.as_bytes()).to_string(),
        greedy.as_bytes(),
    );

    refused_with(&daemon, wrong_hash, "does not match");
    refused_with(&daemon, unknown_id, "privileged");
    refused_with(&daemon, greedy_id, "reserved");
    let w = daemon.wait(ok_id, "running", blocks(2), |w| w["actual"] == "running");
    assert_eq!(w["reason"], serde_json::Value::Null);
    daemon.wait_beating(ok_id);
}

/// Reserves with `manifest` fetched from `url`.
fn reserve_by_url(wallet: &Wallet, node: &Node, manifest: &std::path::Path, url: &str) -> u64 {
    let m = manifest.to_string_lossy().into_owned();
    let by_url = ["--manifest", &m, "--manifest-url", url];
    wallet.reserve_deployment(node, 1, 200, &by_url).0
}

/// Serves `body` at any path until the test ends; returns the URL.
fn serve(body: String) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/manifest.json", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    url
}

#[test]
fn a_manifest_by_url_is_fetched_and_checked() {
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    // Over 512 bytes: it must go by URL.
    let big = HEARTBEAT.replacen('{', &format!("{{{}", " ".repeat(600)), 1);
    let file = manifest(dir.path(), "big.json", &big);
    let url = serve(big.clone());
    let id = reserve_by_url(&wallet, &node, &file, &url);
    daemon.wait(id, "running", blocks(2), |w| w["actual"] == "running");
    daemon.wait_beating(id);

    // A URL that serves other bytes than the hash names: refused.
    let other = big.replace("sleep 0.2", "sleep 0.4");
    let file = manifest(dir.path(), "other.json", &other);
    let liar = serve(big.clone());
    let bad = reserve_by_url(&wallet, &node, &file, &liar);
    refused_with(&daemon, bad, "does not match");
}

fn cgroups_writable() -> Option<&'static str> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.contains("memory"));
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
    if !(v2 || v1) {
        return Some("no memory cgroup on this host");
    }
    let probe = if v2 {
        "/sys/fs/cgroup/tfchain-probe"
    } else {
        "/sys/fs/cgroup/memory/tfchain-probe"
    };
    match std::fs::create_dir(probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(probe);
            None
        }
        Err(_) => Some("the memory cgroup is not writable here"),
    }
}

#[test]
fn a_workload_past_its_memory_is_stopped_by_the_limit() {
    if let Some(why) = cgroups_writable() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = temp_dir();
    let node = Node::start(dir.path());
    let wallet = Wallet::dev(dir.path(), &node);
    let daemon = Daemon::start(dir.path(), &node);
    // The shell keeps the whole 1.5 GiB command substitution in memory: past mru 1 GiB.
    let hog = r#"{"version":1,"kind":"process","command":["sh","-c","x=$(head -c 1500m /dev/zero | tr '\\0' a); echo survived"],"restart":"never"}"#;
    let m = manifest(dir.path(), "hog.json", hog);
    let (id, _) = wallet.reserve(&node, &m, 1, 200);
    let w = daemon.wait(id, "killed by its limit", blocks(10), |w| {
        w["actual"] == "exited"
    });
    let err = w["last_error"].as_str().unwrap_or_default();
    assert!(err.contains("memory limit"), "{w}");
}
