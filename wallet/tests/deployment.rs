//! `--manifest` on `reserve` and `reservation update`, and `deployment hash`, against a real
//! dev node through the `tfchainc` binary: the manifest is checked and hashed
//! (PROTOCOL.md §7.6), inlined when it fits and pointed to by URL when it does not, and a bad
//! one is refused before anything is signed.

mod common;
mod devnode;

use devnode::DevNode;
use tfchain_api::deployment::deployment_hash;

const HEARTBEAT: &str = r#"{"version":1,"kind":"process","command":["sh","-c","while true; do date +%s > heartbeat; sleep 1; done"],"restart":"always"}"#;

fn write(node: &DevNode, name: &str, text: &str) -> String {
    let p = node.dir.path().join(name);
    std::fs::write(&p, text).expect("write the manifest");
    p.to_string_lossy().into_owned()
}

#[test]
fn manifests_are_checked_hashed_and_carried_inline_or_by_url() {
    let node = DevNode::start();
    let (dev, _) = node.dev_wallet(&["--scan", "12", "--gap", "2"]);
    let good = write(&node, "good.json", HEARTBEAT);
    let hash = deployment_hash(HEARTBEAT.as_bytes()).to_string();

    // Offline: the hash, and a refusal that names the unknown field.
    let h = dev.ok(&["deployment", "hash", &good]);
    assert_eq!(h["hash"], hash.as_str(), "{h}");
    assert_eq!(h["inline"], true);
    let bad = write(
        &node,
        "bad.json",
        &HEARTBEAT.replace("\"restart\"", "\"privileged\":true,\"restart\""),
    );
    let (_, msg) = dev.run(&["deployment", "hash", &bad], "").failure();
    assert!(msg.contains("privileged"), "{msg}");

    // Inline: the chain holds the manifest's hash and its very bytes.
    let reserve = |manifest: &str, extra: &[&str]| {
        let mut args = vec![
            "reserve",
            "1",
            "--cru",
            "1",
            "--mru",
            "1",
            "--blocks",
            "20",
            "--manifest",
            manifest,
            "--yes",
        ];
        args.extend_from_slice(extra);
        dev.run(&args, "")
    };
    let made = reserve(&good, &["--wait"]).success();
    let id = made["reservation"].to_string();
    let shown = dev.ok(&["reservation", "show", &id]);
    assert_eq!(shown["deployment_hash"], hash.as_str(), "{shown}");
    assert_eq!(
        shown["deployment_data"],
        hex::encode(HEARTBEAT.as_bytes()).as_str()
    );

    // Refused before signing: the unknown field, more memory than reserved, too big to
    // inline without a URL.
    let (_, msg) = reserve(&bad, &[]).failure();
    assert!(msg.contains("privileged"), "{msg}");
    let greedy = write(
        &node,
        "greedy.json",
        &HEARTBEAT.replace(
            "\"restart\"",
            "\"resources\":{\"cru\":1,\"mru\":4,\"sru\":0,\"hru\":0,\"ipv4\":0},\"restart\"",
        ),
    );
    let (_, msg) = reserve(&greedy, &[]).failure();
    assert!(msg.contains("reserved"), "{msg}");
    let padding = " ".repeat(600);
    let big_text = HEARTBEAT.replacen('{', &format!("{{{padding}"), 1);
    let big = write(&node, "big.json", &big_text);
    let (_, msg) = reserve(&big, &[]).failure();
    assert!(msg.contains("--manifest-url"), "{msg}");
    let h = dev.ok(&["deployment", "hash", &big]);
    assert_eq!(h["inline"], false);

    // By URL: the data is the pointer, the hash the big manifest's.
    let url = "http://127.0.0.1:1/big.json";
    let made = reserve(&big, &["--manifest-url", url, "--wait"]).success();
    let shown = dev.ok(&["reservation", "show", &made["reservation"].to_string()]);
    assert_eq!(
        shown["deployment_hash"],
        deployment_hash(big_text.as_bytes()).to_string().as_str()
    );
    let pointer = hex::decode(shown["deployment_data"].as_str().expect("hex")).expect("hex");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&pointer).expect("json"),
        serde_json::json!({ "url": url })
    );

    // Update: the first reservation now runs another manifest.
    let other_text = HEARTBEAT.replace("sleep 1", "sleep 2");
    let other = write(&node, "other.json", &other_text);
    dev.ok(&["reservation", "update", &id, "--manifest", &other, "--wait"]);
    let shown = dev.ok(&["reservation", "show", &id]);
    assert_eq!(
        shown["deployment_hash"],
        deployment_hash(other_text.as_bytes()).to_string().as_str()
    );
}
