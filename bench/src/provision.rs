//! `provision`: the node daemon's two costs.
//!
//! 1. Latency from a reservation's inclusion to its workload running, over real release
//!    processes: `tfchaind --dev`, `tfchain-provisiond run --dev-node 1`, and `tfchainc
//!    reserve --manifest` (50 reservations, one after another). Inclusion is the moment a
//!    poller (every 10 ms) first sees the block's height; running is the moment the
//!    workload's heartbeat file exists. Dev blocks come every 2 s, so this is the daemon's
//!    own delay (event → re-read → plan → spawn → the process's first write), not block time.
//! 2. One full reconcile of 1,000 live reservations: `desire` (manifest hash check and
//!    parse) and `plan` over them, pure, then the process runtime's `list` of 1,000 recorded
//!    workloads (reading `/proc` and each record), against a baseline of `plan` alone.

use anyhow::{bail, Context};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tfchain_provisiond::plan::{desire, inline_manifest, plan, Actual, Desired};
use tfchain_provisiond::runtime::{Observed, RunState, Runtime};
use tfchain_types::{Condition, Currency, Reservation, ReservationState, Resources};

const RESERVATIONS: usize = 50;
const HEARTBEAT: &str = r#"{"version":1,"kind":"process","command":["sh","-c","while true; do date +%s > heartbeat; sleep 1; done"],"restart":"always"}"#;

pub fn run() -> anyhow::Result<()> {
    reconcile_cost()?;
    latency()
}

fn sibling(name: &str, package: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("bench binary dir")?;
    let path = dir.join(name);
    if !path.exists() {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", package, "--bin", name]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        if !cmd.status()?.success() {
            bail!("cannot build {name}");
        }
    }
    Ok(path)
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn line(child: &mut Child, prefix: &str) -> anyhow::Result<String> {
    let out = child.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let p = prefix.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if let (false, Some(rest)) = (sent, l.strip_prefix(&p)) {
                let _ = tx.send(rest.trim().to_string());
                sent = true;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .with_context(|| format!("no `{prefix}` line"))
}

fn http_get(addr: SocketAddr, path: &str, body: Option<&str>) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    let (method, body) = match body {
        Some(b) => ("POST", b),
        None => ("GET", ""),
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out.split_once("\r\n\r\n")?.1.to_string())
}

fn height(rpc: SocketAddr) -> Option<u64> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"chain_getInfo","params":[]}"#;
    let v: Value = serde_json::from_str(&http_get(rpc, "/", Some(body))?).ok()?;
    v["result"]["height"].as_u64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))?;
    }
    let mut node = Command::new(sibling("tfchaind", "tfchain-node")?)
        .args(["--dev", "--data-dir"])
        .arg(dir.path().join("node"))
        .args(["--rpc-addr", "127.0.0.1:0", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let rpc_url = line(&mut node, "rpc: ")?;
    let _node = Kill(node);
    let rpc: SocketAddr = rpc_url.trim_start_matches("http://").parse()?;
    let data = dir.path().join("provisiond");
    let mut daemon = Command::new(sibling("tfchain-provisiond", "tfchain-provisiond")?)
        .args(["run", "--dev-node", "1", "--rpc", &rpc_url, "--data-dir"])
        .arg(&data)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--run-as",
            "nobody",
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    line(&mut daemon, "listen: ")?;
    let _daemon = Kill(daemon);
    let _cleanup = Workloads(data.clone());

    // When each height was first seen.
    let seen: Arc<Mutex<BTreeMap<u64, Instant>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(h) = height(rpc) {
                    if let Ok(mut s) = seen.lock() {
                        s.entry(h).or_insert_with(Instant::now);
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
    }
    let tfchainc = sibling("tfchainc", "tfchain-wallet")?;
    let wallet = dir.path().join("wallet");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "bench\n")?;
    let manifest = dir.path().join("heartbeat.json");
    std::fs::write(&manifest, HEARTBEAT)?;
    let wallet_cmd = |args: &[&str], stdin: &str| -> anyhow::Result<Value> {
        let mut c = Command::new(&tfchainc)
            .args(["--json", "--rpc", &rpc_url, "--wallet-dir"])
            .arg(&wallet)
            .arg("--passphrase-file")
            .arg(&pass)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        c.stdin
            .take()
            .context("stdin")?
            .write_all(stdin.as_bytes())?;
        let out = c.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "tfchainc {args:?}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    wallet_cmd(
        &[
            "wallet",
            "recover",
            "--insecure-fast-kdf",
            "--scan",
            "12",
            "--gap",
            "2",
        ],
        tfchain_genesis::builtin::DEV_MNEMONIC,
    )?;
    let m = manifest.to_string_lossy().into_owned();
    let mut lat = Vec::new();
    for _ in 0..RESERVATIONS {
        let r = wallet_cmd(
            &[
                "reserve",
                "1",
                "--sru",
                "10",
                "--blocks",
                "200",
                "--manifest",
                &m,
                "--yes",
                "--wait",
            ],
            "",
        )?;
        let id = r["reservation"].as_u64().context("reservation id")?;
        let h = r["height"].as_u64().context("height")?;
        let beat = data
            .join("workloads")
            .join(id.to_string())
            .join("heartbeat");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !beat.exists() {
            if Instant::now() > deadline {
                bail!("reservation {id} did not run within 30 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let running = Instant::now();
        let included = seen
            .lock()
            .ok()
            .and_then(|s| s.get(&h).copied())
            .context("the inclusion height was never seen")?;
        lat.push(running.saturating_duration_since(included).as_secs_f64());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    lat.sort_by(f64::total_cmp);
    println!("provision_reservations: {RESERVATIONS}");
    println!("provision_latency_p50_s: {:.3}", percentile(&lat, 0.5));
    println!("provision_latency_p99_s: {:.3}", percentile(&lat, 0.99));
    println!(
        "provision_latency_max_s: {:.3}",
        lat.last().copied().unwrap_or(0.0)
    );
    println!(
        "provision_latency_p50_vs_block_time: {:.3}",
        percentile(&lat, 0.5) / 2.0
    );
    Ok(())
}

/// Kills what the daemon started (it leaves workloads running when it is killed).
struct Workloads(PathBuf);
impl Drop for Workloads {
    fn drop(&mut self) {
        for e in std::fs::read_dir(self.0.join("runtime"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let pid = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["pid"].as_i64());
            if let Some(pid) = pid {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

fn reservation(id: u64, manifest: &[u8]) -> Reservation {
    Reservation {
        id,
        owner: Condition::Address(tfchain_types::Address::from_public_key(
            &tfchain_types::SecretKey::from_bytes(&[7; 32]).public_key(),
        )),
        node: 1,
        resources: Resources {
            cru: 1,
            mru: 1,
            sru: 1,
            ..Resources::ZERO
        },
        rate: Currency::from_base(10),
        escrow: Currency::from_base(10_000),
        settled_to: 0,
        deployment_hash: tfchain_api::deployment::deployment_hash(manifest),
        deployment_data: manifest.to_vec(),
        state: ReservationState::Active,
    }
}

fn median_us(mut f: impl FnMut(), runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn reconcile_cost() -> anyhow::Result<()> {
    const N: u64 = 1_000;
    let rs: Vec<Reservation> = (1..=N)
        .map(|i| {
            reservation(
                i,
                HEARTBEAT
                    .replace("sleep 1", &format!("sleep {i}"))
                    .as_bytes(),
            )
        })
        .collect();
    let lookup = |r: &Reservation, s: &_| inline_manifest(r, s).unwrap_or(Err("url".into()));
    let desired = |rs: &[Reservation]| -> BTreeMap<u64, Desired> {
        rs.iter()
            .filter_map(|r| {
                Some((
                    r.id,
                    desire(
                        r,
                        1,
                        tfchain_api::deployment::WorkloadKind::Process,
                        &lookup,
                    )?,
                ))
            })
            .collect()
    };
    let d = desired(&rs);
    let actual: BTreeMap<u64, Actual> = d
        .iter()
        .map(|(id, w)| {
            (
                *id,
                Actual {
                    observed: Observed {
                        reservation: *id,
                        deployment_hash: w.deployment_hash(),
                        state: RunState::Running,
                        pid: Some(1),
                        container: None,
                        started_at: 0,
                        note: None,
                    },
                    restart_not_before: 0,
                },
            )
        })
        .collect();
    let plan_us = median_us(
        || {
            let p = plan(&d, &actual, 1);
            assert!(p.is_empty());
        },
        21,
    );
    let desire_us = median_us(
        || {
            let _ = desired(&rs);
        },
        9,
    );
    // The runtime's list over 1,000 recorded workloads (their processes long gone).
    let dir = tempfile::tempdir()?;
    let rt = tfchain_provisiond::runtime::process::ProcessRuntime::new(
        tfchain_provisiond::runtime::process::ProcessConfig {
            data_dir: dir.path().to_path_buf(),
            run_as: Some("nobody".into()),
            allow_root: false,
            stop_grace: Duration::from_secs(1),
        },
    )?;
    write_records(dir.path(), &d)?;
    let tokio = tokio::runtime::Runtime::new()?;
    let list_us = median_us(
        || {
            let l = tokio.block_on(rt.list()).expect("list");
            assert_eq!(l.len(), N as usize);
        },
        9,
    );
    println!("reconcile_live_reservations: {N}");
    println!("reconcile_plan_1000_us: {plan_us:.0}");
    println!("reconcile_desire_1000_us: {desire_us:.0}");
    println!("reconcile_runtime_list_1000_us: {list_us:.0}");
    println!("reconcile_1000_us: {:.0}", plan_us + desire_us + list_us);
    println!(
        "reconcile_1000_vs_plan_only: {:.1}",
        (plan_us + desire_us + list_us) / plan_us.max(1.0)
    );
    Ok(())
}

/// Records as the process runtime writes them, for processes that no longer exist.
fn write_records(dir: &Path, d: &BTreeMap<u64, Desired>) -> anyhow::Result<()> {
    for (id, w) in d {
        let rec = serde_json::json!({
            "reservation": id, "pid": 4_000_000 + id, "start_ticks": 1,
            "deployment_hash": w.deployment_hash(), "started_at": 0,
            "limits": {"cru":1,"mru":1,"sru":1,"hru":0,"ipv4":0}, "note": null
        });
        std::fs::write(
            dir.join("runtime").join(format!("{id}.json")),
            rec.to_string(),
        )?;
    }
    Ok(())
}
