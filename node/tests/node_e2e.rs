//! End-to-end tests of `tfchaind` (issue #4 §8): the real binary on a temporary data dir
//! with JSON-RPC on an ephemeral port, or a node started in-process; real sled, real
//! sockets, real signatures. Each test starts its own node(s), so they run in parallel.

mod common;

use common::*;
use std::ffi::OsStr;
use tfchain_api::{AddressApiClient, ChainApiClient, TxApiClient, TxStatus};
use tfchain_node::store::Store;
use tfchain_types::Currency;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_node_produces_linked_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::dev(&dir.path().join("data"), &dir.path().join("node.log")).await;
    assert!(
        node.banner
            .iter()
            .any(|l| l.contains("tfchain dev network")),
        "dev banner: {:?}",
        node.banner
    );
    let info = node.wait_height(4, blocks_timeout(4)).await;
    assert_eq!(info.network, "dev");
    let genesis = tfchain_genesis::builtin("dev").expect("dev genesis");
    assert_eq!(info.genesis_id, genesis.genesis_id());

    // Every block names its predecessor, is one higher and strictly later (§5.7).
    // The genesis header as raw JSON: its all-zero reward address (PROTOCOL.md §11) is
    // refused by `Address`'s JSON parser (type 0), so the typed client cannot decode it.
    let g = raw_call(&node.http, "chain_getHeader", vec![serde_json::json!(0)])
        .await
        .expect("genesis header");
    assert_eq!(g["id"], serde_json::json!(genesis.genesis_id().to_string()));
    let mut prev = ChainApiClient::get_header(&node.http, 1.into())
        .await
        .expect("header 1");
    assert_eq!(prev.header.parent, genesis.genesis_id());
    for h in 2..=4 {
        let hdr = ChainApiClient::get_header(&node.http, h.into())
            .await
            .expect("header");
        assert_eq!(hdr.height, h);
        assert_eq!(
            hdr.header.parent,
            prev.id,
            "block {h} links to block {}",
            h - 1
        );
        assert!(hdr.header.timestamp > prev.header.timestamp);
        assert_eq!(
            hdr.header.reward_address,
            address_of(&dev_key(0)),
            "the dev validator produced block {h}"
        );
        prev = hdr;
    }
    let s = assert_supply(&node.http).await;
    assert!(s.height >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_is_confirmed_and_moves_balances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::dev(&dir.path().join("data"), &dir.path().join("node.log")).await;
    let http = &node.http;
    let from = dev_key(1);
    let from_addr = address_of(&from);
    let to = address_of(&fresh_key(0xa1, 0));
    let before = AddressApiClient::get_balance(http, from_addr)
        .await
        .expect("balance");
    assert_eq!(before.confirmed, tfchain_genesis::builtin::DEV_COINS_EACH);
    let empty = AddressApiClient::get_balance(http, to)
        .await
        .expect("balance");
    assert_eq!(empty.confirmed, Currency::ZERO);

    let amount = Currency::parse_tft("1234.5").expect("amount");
    let (tx, input_value) = build_payment(http, &from, to, amount).await;
    assert_eq!(input_value, before.confirmed, "the genesis output is spent");
    let fee = tx.fee;
    let txid = TxApiClient::submit(http, tx_hex(&tx))
        .await
        .expect("tx_submit");
    assert_eq!(txid, tx.txid());
    let (height, block) = wait_confirmed(http, txid, blocks_timeout(3)).await;

    // The block holds it; both balances moved by exactly the amount (and the fee).
    let b = ChainApiClient::get_block(http, block.into())
        .await
        .expect("chain_getBlock");
    assert_eq!(b.height, height);
    assert!(b.transactions.iter().any(|t| t.txid == txid));
    let info = TxApiClient::get(http, txid).await.expect("tx_get");
    assert!(matches!(info.status, TxStatus::Confirmed { height: h, .. } if h == height));
    let after = AddressApiClient::get_balance(http, from_addr)
        .await
        .expect("balance");
    let received = AddressApiClient::get_balance(http, to)
        .await
        .expect("balance");
    assert_eq!(
        after.confirmed,
        Currency(before.confirmed.0 - amount.0 - fee.0),
        "sender pays amount + fee"
    );
    assert_eq!(received.confirmed, amount, "receiver gets the amount");
    assert_eq!(after.unconfirmed_out, Currency::ZERO);

    // Both histories show it, with what each side sent and received.
    let hist = AddressApiClient::get_history(http, to, None, None)
        .await
        .expect("history");
    assert_eq!(hist.entries.len(), 1, "{hist:?}");
    let e = &hist.entries[0];
    assert_eq!(e.txid, Some(txid));
    assert_eq!((e.height, e.block), (height, block));
    assert_eq!((e.received, e.sent), (amount, Currency::ZERO));
    let hist = AddressApiClient::get_history(http, from_addr, None, None)
        .await
        .expect("history");
    let e = hist
        .entries
        .iter()
        .find(|e| e.txid == Some(txid))
        .expect("the sender's history names the payment");
    assert_eq!(e.sent, input_value);
    assert_eq!(e.sent.0 - e.received.0, amount.0 + fee.0);
    assert_supply(http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_height_and_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("node.log");
    let node = NodeProcess::dev(&data, &log).await;
    let from = dev_key(2);
    let to = address_of(&fresh_key(0xa2, 0));
    let (tx, _) = build_payment(&node.http, &from, to, Currency::from_tft(77)).await;
    let txid = TxApiClient::submit(&node.http, tx_hex(&tx))
        .await
        .expect("tx_submit");
    let (tx_height, tx_block) = wait_confirmed(&node.http, txid, blocks_timeout(3)).await;
    let info = node.wait_height(tx_height + 1, blocks_timeout(1)).await;
    let header = ChainApiClient::get_header(&node.http, tx_height.into())
        .await
        .expect("header");
    let bal_from = AddressApiClient::get_balance(&node.http, address_of(&from))
        .await
        .expect("balance");
    let bal_to = AddressApiClient::get_balance(&node.http, to)
        .await
        .expect("balance");
    let status = node.terminate().await;
    assert!(status.success(), "clean shutdown exits 0: {status:?}");

    let node = NodeProcess::dev(&data, &log).await;
    let again = node.info().await;
    // A clean stop flushes: nothing seen before the stop is lost.
    assert!(
        again.height >= info.height,
        "height {} after restart, {} before",
        again.height,
        info.height
    );
    assert_eq!(again.genesis_id, info.genesis_id);
    let same = ChainApiClient::get_header(&node.http, tx_height.into())
        .await
        .expect("header");
    assert_eq!(same, header, "the block at height {tx_height} is unchanged");
    let tx_again = TxApiClient::get(&node.http, txid).await.expect("tx_get");
    assert!(
        matches!(tx_again.status, TxStatus::Confirmed { height, block, .. } if height == tx_height && block == tx_block),
        "{:?}",
        tx_again.status
    );
    let from_again = AddressApiClient::get_balance(&node.http, address_of(&from))
        .await
        .expect("balance");
    let to_again = AddressApiClient::get_balance(&node.http, to)
        .await
        .expect("balance");
    assert_eq!(from_again.confirmed, bal_from.confirmed);
    assert_eq!(to_again.confirmed, bal_to.confirmed);
    assert_eq!(to_again.confirmed, Currency::from_tft(77));
    assert_supply(&node.http).await;
    // And production goes on from the stored tip.
    node.wait_height(again.height + 1, blocks_timeout(1)).await;
    assert_supply(&node.http).await;
}

/// An in-process node (`node::start`), watched over WebSocket: heads arrive in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_subscription_sees_consecutive_heights() {
    use jsonrpsee::ws_client::WsClientBuilder;
    let dir = tempfile::tempdir().expect("tempdir");
    let genesis = tfchain_genesis::builtin("dev").expect("dev genesis");
    let (running, _) = start_in_process(&genesis, &dir.path().join("data")).await;
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", running.rpc_addr))
        .await
        .expect("ws client");
    let mut sub = ChainApiClient::subscribe_new_heads(&ws)
        .await
        .expect("chain_subscribeNewHeads");
    let mut heights = Vec::new();
    let mut parent = None;
    while heights.len() < 3 {
        let head = tokio::time::timeout(blocks_timeout(1), sub.next())
            .await
            .expect("a new head within the timeout")
            .expect("subscription open")
            .expect("a HeaderInfo");
        if let Some(p) = parent {
            assert_eq!(head.header.parent, p, "heads link up");
        }
        parent = Some(head.id);
        heights.push(head.height);
    }
    assert!(
        heights.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive heights: {heights:?}"
    );
    let tip = ChainApiClient::get_info(&ws)
        .await
        .expect("getInfo over ws");
    assert!(tip.height >= heights[2]);
    drop(sub);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_with_a_typo_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("tfchain.toml");
    std::fs::write(&cfg, "network = \"dev\"\n[rpc]\nadress = \"127.0.0.1:0\"\n").expect("write");
    let out = run_cli(&[
        OsStr::new("--dev"),
        OsStr::new("--config"),
        cfg.as_os_str(),
        OsStr::new("--data-dir"),
        dir.path().join("data").as_os_str(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad config must not start a node");
    assert!(stderr.contains("adress"), "names the bad key: {stderr}");
    assert!(
        stderr.contains(&cfg.display().to_string()),
        "names the file: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_generate_writes_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k.json");
    let out = run_cli(&[
        OsStr::new("key"),
        OsStr::new("generate"),
        OsStr::new("--out"),
        key.as_os_str(),
    ])
    .await;
    assert!(out.status.success(), "{out:?}");
    let mode = std::fs::metadata(&key)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let key_back = tfchain_node::keyfile::read(&key).expect("read the key back");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&address_of(&key_back).to_string()),
        "prints the address: {stdout}"
    );
    // Never overwrites a key.
    let again = run_cli(&[
        OsStr::new("key"),
        OsStr::new("generate"),
        OsStr::new("--out"),
        key.as_os_str(),
    ])
    .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_new_network_runs_with_a_validator_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let out = run_cli(&[
        OsStr::new("genesis"),
        OsStr::new("new"),
        OsStr::new("--validators"),
        OsStr::new("3"),
        OsStr::new("--out"),
        net.as_os_str(),
    ])
    .await;
    assert!(out.status.success(), "{out:?}");
    for f in [
        "genesis.json",
        "validator-0.json",
        "validator-1.json",
        "validator-2.json",
    ] {
        assert!(net.join(f).is_file(), "{f} written");
    }
    let genesis = tfchain_genesis::Genesis::load(net.join("genesis.json")).expect("genesis");
    let node = NodeProcess::spawn(
        [
            "run".into(),
            "--network".into(),
            net.join("genesis.json").into_os_string(),
            "--data-dir".into(),
            dir.path().join("data").into_os_string(),
            "--validator-key".into(),
            net.join("validator-0.json").into_os_string(),
            "--rpc-addr".into(),
            "127.0.0.1:0".into(),
            "--p2p-listen".into(),
            "/ip4/127.0.0.1/tcp/0".into(),
        ],
        &dir.path().join("node.log"),
    )
    .await;
    let info = node.info().await;
    assert_eq!(info.network, "localnet");
    assert_eq!(info.genesis_id, genesis.genesis_id());
    // Validator 0 holds a third of the stake; when it wins is up to the lottery, so this
    // test checks that it runs as a validator, not when it produces.
    let start = std::time::Instant::now();
    while !node.log_tail(500).contains("producing blocks as validator") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the node does not run as a validator:\n{}",
            node.log_tail(40)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let key = tfchain_node::keyfile::read(&net.join("validator-0.json")).expect("key file");
    assert!(
        node.log_tail(500).contains(&address_of(&key).to_string()),
        "validates as validator 0"
    );
    let status = node.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import_and_rollback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let file = dir.path().join("blocks.bin");
    let node = NodeProcess::dev(&a, &dir.path().join("node.log")).await;
    // A transaction in the exported chain, so import replays more than rewards.
    let (tx, _) = build_payment(
        &node.http,
        &dev_key(3),
        address_of(&fresh_key(0xa3, 0)),
        Currency::from_tft(5),
    )
    .await;
    let txid = TxApiClient::submit(&node.http, tx_hex(&tx))
        .await
        .expect("tx_submit");
    let (tx_height, _) = wait_confirmed(&node.http, txid, blocks_timeout(3)).await;
    node.wait_height(tx_height.max(4), blocks_timeout(4)).await;
    assert!(node.terminate().await.success());

    let dev = OsStr::new("dev");
    let out = run_cli(&[
        OsStr::new("export-blocks"),
        OsStr::new("--network"),
        dev,
        OsStr::new("--data-dir"),
        a.as_os_str(),
        OsStr::new("--out"),
        file.as_os_str(),
    ])
    .await;
    assert!(out.status.success(), "{out:?}");
    let out = run_cli(&[
        OsStr::new("import-blocks"),
        OsStr::new("--network"),
        dev,
        OsStr::new("--data-dir"),
        b.as_os_str(),
        OsStr::new("--in"),
        file.as_os_str(),
    ])
    .await;
    assert!(out.status.success(), "{out:?}");

    let genesis = tfchain_genesis::builtin("dev").expect("dev genesis");
    let (tip_a, tip_b, totals_a, totals_b) = {
        let sa = Store::open(&a, &genesis).expect("open a");
        let sb = Store::open(&b, &genesis).expect("open b");
        (sa.tip(), sb.tip(), sa.totals(), sb.totals())
    };
    assert!(tip_a.height >= 4);
    assert_eq!(tip_b.id, tip_a.id, "import reproduces the tip");
    assert_eq!(tip_b.height, tip_a.height);
    assert_eq!(totals_b, totals_a);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("tip height {}", tip_a.height)),
        "{stdout}"
    );
    {
        let sb = Store::open(&b, &genesis).expect("open b");
        assert!(
            sb.tx_location(&txid).expect("read").is_some(),
            "the payment was imported"
        );
    }

    let out = run_cli(&[
        OsStr::new("rollback"),
        OsStr::new("--network"),
        dev,
        OsStr::new("--data-dir"),
        b.as_os_str(),
        OsStr::new("2"),
    ])
    .await;
    assert!(out.status.success(), "{out:?}");
    let sb = Store::open(&b, &genesis).expect("open b");
    assert_eq!(
        sb.tip().height,
        tip_a.height - 2,
        "rollback 2 lowers the height by 2"
    );
    assert_eq!(
        sb.block_id_at(tip_a.height - 2).expect("read"),
        Some(sb.tip().id)
    );
    assert_eq!(sb.block_id_at(tip_a.height - 1).expect("read"), None);
}

/// A dev node started with `--explorer-index false` produces blocks (its producer finds its
/// stakes without the address index) and confirms payments; the methods that read an
/// explorer index answer INDEX_DISABLED, the others work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_without_explorer_indexes_produces_and_says_what_it_cannot_answer() {
    use tfchain_api::error::INDEX_DISABLED;
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::spawn(
        [
            "--dev".into(),
            "--explorer-index".into(),
            "false".into(),
            "--data-dir".into(),
            dir.path().join("data").into_os_string(),
            "--rpc-addr".into(),
            "127.0.0.1:0".into(),
        ],
        &dir.path().join("node.log"),
    )
    .await;
    let http = &node.http;
    node.wait_height(1, blocks_timeout(1)).await;

    // Dev key 1's genesis output, found in the genesis block (no address index to ask).
    let genesis = tfchain_genesis::builtin("dev").expect("dev genesis");
    let from = dev_key(1);
    let gtx = &genesis.block().transactions[0];
    let (i, out) = gtx
        .coin_outputs
        .iter()
        .enumerate()
        .find(|(_, o)| o.condition == tfchain_types::Condition::Address(address_of(&from)))
        .expect("dev key 1 is funded at genesis");
    let input = (
        tfchain_types::Transaction::coin_output_id(&gtx.txid(), i),
        out.value,
    );
    let (genesis_id, fee) = genesis_and_fee(http).await;
    let to = address_of(&fresh_key(0xa5, 0));
    let amount = Currency::from_tft(5);
    let tx = tfchain_consensus::testkit::payment(
        &[input],
        &from,
        tfchain_types::Condition::Address(to),
        amount,
        fee,
        &genesis_id,
    );
    let txid = TxApiClient::submit(http, tx_hex(&tx))
        .await
        .expect("tx_submit");
    let start = rpc_info(http).await.height;

    // Once it leaves the pool, tx_get cannot place it: INDEX_DISABLED, not NOT_FOUND.
    let deadline = std::time::Instant::now() + blocks_timeout(3);
    let e = loop {
        match TxApiClient::get(http, txid).await {
            Ok(info) => assert_eq!(info.status, TxStatus::Pool),
            r => break call_error(r, "tx_get of a confirmed transaction"),
        }
        assert!(std::time::Instant::now() < deadline, "never confirmed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(e.code(), INDEX_DISABLED, "{e:?}");
    assert!(e.message().contains("--explorer-index"), "{}", e.message());
    // It is in a block all the same.
    let tip = rpc_info(http).await.height;
    let mut found = false;
    for h in start..=tip {
        let b = ChainApiClient::get_block(http, h.into())
            .await
            .expect("chain_getBlock");
        found |= b.transactions.iter().any(|t| t.txid == txid);
    }
    assert!(found, "the payment is in a block between {start} and {tip}");

    for e in [
        call_error(AddressApiClient::get_balance(http, to).await, "balance"),
        call_error(AddressApiClient::get_outputs(http, to).await, "outputs"),
        call_error(
            AddressApiClient::get_history(http, to, None, None).await,
            "history",
        ),
    ] {
        assert_eq!(e.code(), INDEX_DISABLED, "{e:?}");
    }
    assert_supply(http).await;
    node.wait_height(tip + 1, blocks_timeout(1)).await;
}
