//! Crash recovery in the middle of a sync, with the real binary (issue #5: "a node
//! restarted in the middle of a sync resumes"). Node A serves a chain of a few thousand
//! blocks built offline (most of them carrying payments); node B, a fresh non-validator
//! with A as its bootnode, syncs it and is killed with SIGKILL at random moments of the
//! sync, several times, and a few more times during its startup. Every restart must come
//! back on A's chain with the supply invariant intact, resume the sync and finish it.
//!
//! How much a kill may take back: the sync applier (net/sync/mod.rs) submits blocks to the
//! chain task with `Origin::Import`: each block is committed in one atomic sled batch
//! (visible over RPC at once) but only flushed every `MAX_BLOCKS` (64) blocks and whenever
//! the applier's queue runs dry; a flush makes every earlier batch durable, and a batch
//! not flushed yet is lost whole. So at most `MAX_BLOCKS` blocks seen over RPC before the
//! kill may be gone after the restart, everything below them is there and unchanged, and
//! the store never needs its repair on open.

mod common;

use common::*;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfchain_api::NetApiClient;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::spend;
use tfchain_consensus::{BlockMeta, StakeEntry};
use tfchain_genesis::Genesis;
use tfchain_node::chain::{BlockVerdict, ChainWriter, Origin};
use tfchain_node::clock::{Clock, ManualClock, SystemClock};
use tfchain_node::net::protocol::MAX_BLOCKS;
use tfchain_node::store::{OutputRef, Store};
use tfchain_txpool::{Pool, PoolConfig};
use tfchain_types::{
    BlockId, Condition, Currency, Height, Output, OutputId, SecretKey, Transaction,
};

/// Blocks of A's chain, built offline before the test starts the nodes.
const BLOCKS: u64 = 4_000;
/// Wallets funded in block 1; every later block carries one self-payment from
/// `PAYMENTS_PER_BLOCK` of them in turn.
const WALLETS: usize = 32;
const PAYMENTS_PER_BLOCK: usize = 4;
/// Kills in the middle of the sync, and kills during B's startup (before its RPC
/// answers, while the store opens and checks itself).
const KILLS: usize = 6;
const EARLY_KILLS_BEFORE: [usize; 3] = [1, 3, 5];
const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_sync_resumes_every_time() {
    let started = Instant::now();
    let seed = std::env::var("TFCHAIN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5_c4a5_u64);
    eprintln!("sync crash test seed {seed} (set TFCHAIN_CRASH_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);

    // A network of one validator whose genesis lies far enough back for BLOCKS blocks
    // (about two seconds each) to end in the past.
    let dir = tempfile::tempdir().expect("tempdir");
    let now = SystemClock.now();
    let (genesis, keys) = tfchain_genesis::new_network(1, "killsync", now - 5 * BLOCKS, &mut rng)
        .expect("new network");
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(&genesis_file, genesis.to_json_pretty()).expect("write genesis.json");
    let key_file = dir.path().join("validator.json");
    tfchain_node::keyfile::write(&key_file, &keys[0].key()).expect("write the key file");

    let a_data = dir.path().join("a");
    let tip = {
        let (dir, genesis, key) = (a_data.clone(), genesis.clone(), keys[0].key());
        tokio::task::spawn_blocking(move || build_chain(&dir, &genesis, &key))
            .await
            .expect("build the chain")
    };
    assert!(tip.timestamp < now, "the built chain must end in the past");
    eprintln!("built {} blocks in {:?}", tip.height, started.elapsed());

    // A: the validator serving the chain (it produces on top of it meanwhile).
    let a = NodeProcess::spawn(
        node_args(
            &genesis_file,
            &a_data,
            &["--validator-key".as_ref(), key_file.as_os_str()],
        ),
        &dir.path().join("a.log"),
    )
    .await;
    let bootnode = p2p_addr(&a).await;

    // B: a fresh non-validator syncing from A, killed again and again.
    let b_data = dir.path().join("b");
    let b_log = dir.path().join("b.log");
    let b_args = node_args(
        &genesis_file,
        &b_data,
        &["--bootnode".as_ref(), bootnode.as_os_str()],
    );
    // (height, id) of the last block B showed before each kill.
    let mut seen: Option<(Height, BlockId)> = None;
    let mut early_before_rpc = 0;
    // How long B's last start took until its RPC answered: early kills land within it.
    let mut startup = Duration::from_millis(100);
    // Blocks seen before a kill and gone after the restart (not flushed yet), in total.
    let mut lost = 0;
    for round in 0..=KILLS {
        if EARLY_KILLS_BEFORE.contains(&round) {
            let delay = Duration::from_millis(rng.gen_range(0..startup.as_millis().max(1) as u64));
            if kill_during_startup(&b_args, &b_log, delay).await {
                early_before_rpc += 1;
            }
        }
        let spawned = Instant::now();
        let b = NodeProcess::spawn(b_args.clone(), &b_log).await;
        startup = spawned.elapsed();
        // The tip B recovered, before its sync went on (the RPC answers after that starts).
        let height = recovered_height(&b_log, round);
        if let Some(seen) = seen {
            check_recovered(&a, &b, height, seen, round).await;
            lost += seen.0.saturating_sub(height);
        }
        assert_supply_of(&b.http, &genesis).await;
        if round == KILLS {
            finish_sync(&a, &b, &genesis, tip.height).await;
            break;
        }

        // Progress past the restart height, at a random point of this round's share of
        // the first 60% of the chain (so even a fast machine is still syncing at the last
        // kill), then a random delay.
        let share = tip.height * 3 / 5 / KILLS as u64;
        let from = share * round as u64 + share / 4;
        let target = rng
            .gen_range(from..share * (round as u64 + 1))
            .max(height + 1);
        b.wait_height(target, MINUTE).await;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..200))).await;
        let info = b.info().await;
        assert!(
            info.height < tip.height,
            "round {round}: B finished the sync ({}) before the kill: the test needs a longer chain",
            info.height
        );
        seen = Some((info.height, info.tip));
        eprintln!(
            "round {round}: restarted at {height}, killed at {} ({:?})",
            info.height,
            started.elapsed()
        );
        b.kill9().await;
    }
    eprintln!(
        "{KILLS} kills during the sync ({lost} unflushed blocks lost in all), {} during \
         startup ({early_before_rpc} before the RPC answered), {} blocks synced in {:?}",
        EARLY_KILLS_BEFORE.len(),
        tip.height,
        started.elapsed()
    );
}

/// The height of the last "chain state loaded" line of a node's log: where the store was
/// when the node opened it. Panics if any start so far found the store inconsistent: a
/// kill loses unflushed batches whole, so the repair on open must never be needed.
fn recovered_height(log: &Path, round: usize) -> Height {
    let text = std::fs::read_to_string(log).expect("read the node log");
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("chain store inconsistency"))
    {
        panic!("round {round}: B's store needed a repair after a kill: {line}");
    }
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("chain state loaded"))
        .expect("the node logs the state it loaded");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("height=")?.parse().ok())
        .unwrap_or_else(|| panic!("no height in {line:?}"))
}

/// `run --network <genesis> --data-dir <data>` on ephemeral loopback ports, plus `extra`.
fn node_args(genesis: &Path, data: &Path, extra: &[&OsStr]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "run".into(),
        "--network".into(),
        genesis.into(),
        "--data-dir".into(),
        data.into(),
        "--rpc-addr".into(),
        "127.0.0.1:0".into(),
        "--p2p-listen".into(),
        "/ip4/127.0.0.1/tcp/0".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_os_string()));
    args
}

/// The node's p2p listen address with its peer ID (`net_getInfo`), once it listens.
async fn p2p_addr(node: &NodeProcess) -> OsString {
    let deadline = Instant::now() + MINUTE;
    loop {
        let info = NetApiClient::get_info(&node.http)
            .await
            .expect("net_getInfo");
        if let Some(addr) = info.listen_addrs.first() {
            return addr.into();
        }
        assert!(Instant::now() < deadline, "the node does not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts B and SIGKILLs it after `delay`, most likely while it opens its store. Returns
/// whether the kill landed before B printed its RPC address.
async fn kill_during_startup(args: &[OsString], log: &Path, delay: Duration) -> bool {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the node log");
    let mut child = tfchaind()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tfchaind");
    tokio::time::sleep(delay).await;
    child.start_kill().expect("SIGKILL");
    let out = child.wait_with_output().await.expect("reap tfchaind");
    !String::from_utf8_lossy(&out.stdout).contains("rpc: ")
}

/// After a restart of B at `height`: no more than `MAX_BLOCKS` of the blocks seen before
/// the kill are gone (module docs), and B's blocks are A's.
async fn check_recovered(
    a: &NodeProcess,
    b: &NodeProcess,
    height: Height,
    (seen, seen_id): (Height, BlockId),
    round: usize,
) {
    let bound = MAX_BLOCKS as u64;
    assert!(
        height + bound >= seen,
        "round {round}: restarted at height {height}, but {seen} was seen before the kill"
    );
    if height >= seen {
        let at = block_id_at(&b.http, seen).await.expect("header");
        assert_eq!(at, seen_id, "round {round}: block {seen} replaced");
    }
    let mut heights = vec![seen.saturating_sub(bound), height.min(seen), height];
    heights.dedup();
    for h in heights {
        let ours = block_id_at(&b.http, h)
            .await
            .unwrap_or_else(|e| panic!("round {round}: B lost block {h}: {e}"));
        let theirs = block_id_at(&a.http, h).await.expect("A's header");
        assert_eq!(ours, theirs, "round {round}: B's block {h} is not A's");
    }
}

/// B catches up with A's tip (A keeps producing), has A's block there and reports synced.
async fn finish_sync(a: &NodeProcess, b: &NodeProcess, genesis: &Genesis, built: Height) {
    let deadline = Instant::now() + 2 * MINUTE;
    let height = loop {
        let (ha, hb) = (a.info().await.height, b.info().await.height);
        if hb >= ha.max(built) {
            break ha;
        }
        assert!(
            Instant::now() < deadline,
            "B stuck at {hb} of {ha}\n{}",
            b.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let theirs = block_id_at(&a.http, height).await.expect("A's header");
    let ours = block_id_at(&b.http, height).await.expect("B's header");
    assert_eq!(ours, theirs, "B's block {height} is not A's");
    let deadline = Instant::now() + MINUTE;
    while !b.info().await.synced {
        assert!(Instant::now() < deadline, "B never reports synced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_supply_of(&b.http, genesis).await;
    assert_supply_of(&a.http, genesis).await;
}

/// Builds `BLOCKS` blocks on `genesis` into `data_dir`, offline: the real lottery, block
/// signatures and chain writer, with a manual clock set to each winning second. Block 1
/// splits the validator's coins into `WALLETS` outputs that pay themselves afterwards.
fn build_chain(data_dir: &Path, genesis: &Genesis, key: &SecretKey) -> BlockMeta {
    std::fs::create_dir_all(data_dir).expect("create the data dir");
    let store = Store::open(data_dir, genesis).expect("open the store");
    let params = genesis.params();
    let clock = ManualClock::new(store.tip().timestamp);
    let pool = Arc::new(Mutex::new(Pool::new(PoolConfig::default())));
    let (events, _) = tokio::sync::broadcast::channel(16);
    let mut writer = ChainWriter::new(
        store.clone(),
        params.clone(),
        pool,
        Arc::new(clock.clone()),
        events,
    );
    let me = address_of(key);
    let mut stakes: Vec<(OutputId, StakeEntry)> = Vec::new();
    let mut coins = None;
    for (id, o) in store.address_outputs(&me).expect("outputs") {
        match o {
            OutputRef::Stake(e) => stakes.push((id, e)),
            OutputRef::Coin(c) => coins = Some((id, c.value)),
        }
    }
    let (coin, value) = coins.expect("the validator holds coins");
    let fee = params.min_fee;
    let gid = params.genesis_id;

    let mut produce = |txs: Vec<Transaction>| {
        let lottery = Lottery::for_child_of(&store, &params);
        let mut t = store.tip().timestamp + 1;
        let out = loop {
            if let Some((out, _)) = lottery.winner(&params, &stakes, t) {
                break *out;
            }
            t += 1;
        };
        clock.set(t);
        let block = assemble_block(&store, t, out, key, me, txs);
        let verdict = writer
            .submit_block(block, Origin::Import)
            .expect("submit a built block");
        assert!(
            matches!(verdict, BlockVerdict::Connected { .. }),
            "{verdict:?}"
        );
    };

    let owners: Vec<SecretKey> = (0..WALLETS as u64).map(|i| fresh_key(0x5c, i)).collect();
    let each = Currency((value.0 - fee.0) / (WALLETS as u128 + 1));
    let mut outputs: Vec<Output> = owners
        .iter()
        .map(|k| Output {
            value: each,
            condition: Condition::Address(address_of(k)),
        })
        .collect();
    outputs.push(Output {
        value: Currency(value.0 - fee.0 - each.0 * WALLETS as u128),
        condition: Condition::Address(me),
    });
    let split = spend(&[coin], outputs, key, fee, &gid);
    let split_id = split.txid();
    produce(vec![split]);
    let mut wallets: Vec<(OutputId, Currency)> = (0..WALLETS)
        .map(|i| (Transaction::coin_output_id(&split_id, i), each))
        .collect();
    for b in 1..BLOCKS as usize {
        let txs = (0..PAYMENTS_PER_BLOCK)
            .map(|j| {
                let i = (b * PAYMENTS_PER_BLOCK + j) % WALLETS;
                let (output, value) = wallets[i];
                let value = Currency(value.0 - fee.0);
                let to = Condition::Address(address_of(&owners[i]));
                let output_to = vec![Output {
                    value,
                    condition: to,
                }];
                let tx = spend(&[output], output_to, &owners[i], fee, &gid);
                wallets[i] = (Transaction::coin_output_id(&tx.txid(), 0), value);
                tx
            })
            .collect();
        produce(txs);
    }
    writer.flush().expect("flush");
    drop(writer);
    store.flush().expect("flush");
    store.tip()
}
