//! Harness for the end-to-end tests: a real `tfchaind --dev`, a real `tfchain-provisiond`
//! for dev node 1, and the real `tfchainc` with the dev wallet, on ephemeral ports and temp
//! dirs. Every wait polls with a deadline; nothing sleeps as synchronisation. Processes are
//! killed when their handles drop, workloads included (by the pids the daemon recorded).

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROVISIOND: &str = env!("CARGO_BIN_EXE_tfchain-provisiond");
const POLL: Duration = Duration::from_millis(100);

/// The heartbeat workload of the README.
pub const HEARTBEAT: &str = r#"{"version":1,"kind":"process","command":["sh","-c","while true; do date +%s%N > heartbeat; sleep 0.2; done"],"restart":"always"}"#;

/// A deadline generous enough for `blocks` dev blocks (2 s each) on a busy machine.
pub fn blocks(n: u64) -> Duration {
    Duration::from_secs(20 + 3 * n)
}

/// A sibling binary of this package's (same target dir and profile), built if missing so
/// `cargo test -p tfchain-provisiond` works alone.
pub fn sibling(name: &str, package: &str) -> PathBuf {
    let dir = Path::new(PROVISIOND).parent().expect("bin dir");
    let path = dir.join(name);
    if !path.exists() {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", package, "--bin", name]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let ok = cmd.status().expect("run cargo build").success();
        assert!(ok, "cannot build {name}");
    }
    path
}

pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// A port that was free a moment ago (for a node that must come back on the same address).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
}

/// Reads the child's stdout until a line starting with `prefix`; the rest is drained in the
/// background.
fn wait_line(child: &mut Child, prefix: &str, log: &Path) -> String {
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = prefix.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !sent {
                if let Some(rest) = line.strip_prefix(&wanted) {
                    let _ = tx.send(rest.trim().to_string());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(_) => panic!("no `{prefix}` line; log:\n{}", tail(log, 30)),
    }
}

pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log")
}

/// A `tfchaind --dev` on a fixed data dir and port (so it can be restarted in place).
#[derive(Debug)]
pub struct Node {
    pub data_dir: PathBuf,
    pub port: u16,
    pub rpc: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    pub fn start(dir: &Path) -> Node {
        let mut n = Node {
            data_dir: dir.join("node"),
            port: free_port(),
            rpc: String::new(),
            log: dir.join("tfchaind.log"),
            child: None,
        };
        n.spawn();
        n
    }

    fn spawn(&mut self) {
        let mut child = Command::new(sibling("tfchaind", "tfchain-node"))
            .args(["--dev", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--rpc-addr", &format!("127.0.0.1:{}", self.port)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(&self.log))
            .spawn()
            .expect("start tfchaind");
        self.rpc = wait_line(&mut child, "rpc: ", &self.log);
        self.child = Some(child);
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// `tfchaind rollback N` on the stopped node's data dir.
    pub fn rollback(&mut self, n: u64) {
        self.stop();
        let out = Command::new(sibling("tfchaind", "tfchain-node"))
            .args(["rollback", "--network", "dev", "--data-dir"])
            .arg(&self.data_dir)
            .arg(n.to_string())
            .output()
            .expect("run rollback");
        assert!(
            out.status.success(),
            "rollback failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn height(&self) -> u64 {
        let r = rpc(&self.rpc, "chain_getInfo", serde_json::json!([]));
        r["height"].as_u64().expect("height")
    }

    pub fn wait_height(&self, h: u64) {
        poll(
            &format!("height {h}"),
            blocks(h.saturating_sub(self.height())),
            || (self.height() >= h).then_some(()),
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            if std::thread::panicking() {
                eprintln!("--- tfchaind log tail:\n{}", tail(&self.log, 40));
            }
        }
    }
}

/// One JSON-RPC call over HTTP.
pub fn rpc(url: &str, method: &str, params: Value) -> Value {
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("rpc address");
    let body =
        serde_json::json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string();
    let resp = http(addr, "POST", "/", Some(&body)).expect("rpc call");
    let v: Value = serde_json::from_str(&resp.1).expect("json");
    v["result"].clone()
}

/// A plain HTTP/1.1 request: `(status, body)`.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let (head, rest) = out.split_once("\r\n\r\n")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The dev wallet (recovered from the dev mnemonic) driving `tfchainc`.
#[derive(Debug)]
pub struct Wallet {
    dir: PathBuf,
    pass: PathBuf,
}

impl Wallet {
    pub fn dev(dir: &Path, node: &Node) -> Wallet {
        let w = Wallet {
            dir: dir.join("wallet"),
            pass: dir.join("pass"),
        };
        std::fs::write(&w.pass, "test passphrase\n").expect("write the passphrase");
        w.run(
            node,
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
        )
        .expect("recover the dev wallet");
        w
    }

    /// `tfchainc --json ARGS`: the JSON on success, the error text otherwise.
    pub fn run(&self, node: &Node, args: &[&str], stdin: &str) -> Result<Value, String> {
        let mut child = Command::new(sibling("tfchainc", "tfchain-wallet"))
            .args(["--json", "--rpc", &node.rpc, "--wallet-dir"])
            .arg(&self.dir)
            .arg("--passphrase-file")
            .arg(&self.pass)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tfchainc");
        if let Some(mut i) = child.stdin.take() {
            let _ = i.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("tfchainc output");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() {
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
        } else {
            Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    pub fn ok(&self, node: &Node, args: &[&str]) -> Value {
        self.run(node, args, "")
            .unwrap_or_else(|e| panic!("tfchainc {args:?} failed: {e}"))
    }

    /// Reserves on node 1 with a manifest file (`--wait`): `(reservation id, block height)`.
    pub fn reserve(&self, node: &Node, manifest: &Path, mru: u32, blocks: u64) -> (u64, u64) {
        let m = manifest.to_string_lossy().into_owned();
        self.reserve_deployment(node, mru, blocks, &["--manifest", &m])
    }

    /// Reserves 1 cru, `mru`, 1 sru on node 1 for `blocks`, with `deployment` naming what
    /// runs (`--manifest F [--manifest-url U]`, or `--deployment-hash H --deployment-data D`).
    pub fn reserve_deployment(
        &self,
        node: &Node,
        mru: u32,
        blocks: u64,
        deployment: &[&str],
    ) -> (u64, u64) {
        let (mru, blocks) = (mru.to_string(), blocks.to_string());
        let mut args = vec![
            "reserve", "1", "--cru", "1", "--mru", &mru, "--sru", "1", "--blocks", &blocks,
        ];
        args.extend_from_slice(deployment);
        args.extend_from_slice(&["--yes", "--wait"]);
        self.reserve_with(node, &args)
    }

    /// Reserves with these exact arguments (`--wait` among them).
    pub fn reserve_with(&self, node: &Node, args: &[&str]) -> (u64, u64) {
        let r = self.ok(node, args);
        let id = r["reservation"]
            .as_u64()
            .unwrap_or_else(|| panic!("no reservation in {r}"));
        let height = r["height"].as_u64().unwrap_or_else(|| node.height());
        (id, height)
    }
}

/// A `tfchain-provisiond run --dev-node 1` on a fixed data dir.
#[derive(Debug)]
pub struct Daemon {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    log: PathBuf,
    child: Option<Child>,
    rpc: String,
    extra: Vec<String>,
}

impl Daemon {
    pub fn start(dir: &Path, node: &Node) -> Daemon {
        Self::start_with(dir, node, &[])
    }

    /// With extra `run` flags.
    pub fn start_with(dir: &Path, node: &Node, extra: &[&str]) -> Daemon {
        let mut d = Daemon {
            data_dir: dir.join("provisiond"),
            listen: "127.0.0.1:0".parse().expect("addr"),
            log: dir.join("provisiond.log"),
            child: None,
            rpc: node.rpc.clone(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        let mut child = Command::new(PROVISIOND)
            .args(["run", "--dev-node", "1", "--rpc", &self.rpc, "--data-dir"])
            .arg(&self.data_dir)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--run-as",
                "nobody",
                "--stop-grace-secs",
                "2",
            ])
            .args(["--log-level", "info,tfchain_provisiond=debug"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(&self.log))
            .spawn()
            .expect("start tfchain-provisiond");
        let url = wait_line(&mut child, "listen: ", &self.log);
        self.listen = url
            .trim_start_matches("http://")
            .parse()
            .expect("listen address");
        self.child = Some(child);
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn workloads(&self) -> Value {
        let (status, body) = http(self.listen, "GET", "/workloads", None).expect("GET /workloads");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("json")
    }

    /// The status of reservation `id`, if listed.
    pub fn workload(&self, id: u64) -> Option<Value> {
        self.workloads()["workloads"]
            .as_array()?
            .iter()
            .find(|w| w["reservation"] == id)
            .cloned()
    }

    /// Polls until `id`'s status satisfies `pred`.
    pub fn wait(
        &self,
        id: u64,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        poll(&format!("reservation {id}: {what}"), timeout, || {
            self.workload(id).filter(|w| pred(w))
        })
    }

    pub fn wait_gone(&self, id: u64, timeout: Duration) {
        poll(&format!("reservation {id} gone"), timeout, || {
            self.workload(id).is_none().then_some(())
        });
    }

    pub fn work_dir(&self, id: u64) -> PathBuf {
        self.data_dir.join("workloads").join(id.to_string())
    }

    /// The workload's heartbeat (nanoseconds), if it wrote one.
    pub fn heartbeat(&self, id: u64) -> Option<u128> {
        std::fs::read_to_string(self.work_dir(id).join("heartbeat"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Waits until the heartbeat moves past what it is now.
    pub fn wait_beating(&self, id: u64) {
        let first = poll("a heartbeat", blocks(2), || self.heartbeat(id));
        poll("the heartbeat to advance", Duration::from_secs(10), || {
            self.heartbeat(id).filter(|b| *b > first)
        });
    }

    /// Process-group leaders (one per started workload: its children share its group)
    /// working in `id`'s directory: how many copies of the workload run.
    pub fn processes_of(&self, id: u64) -> usize {
        let dir = self.work_dir(id);
        std::fs::read_dir("/proc")
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().to_string_lossy().parse::<u64>().ok())
                    .filter(|pid| alive(*pid) && group_leader(*pid))
                    .filter(|pid| {
                        std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == dir)
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log, 40)
    }

    /// The cgroup name of this daemon's workloads, as the process runtime names it: after
    /// a hash of the data dir.
    fn cgroup_name(&self) -> Option<String> {
        let canonical = std::fs::canonicalize(&self.data_dir).ok()?;
        let scope = tfchain_types::hash::blake2b(canonical.as_os_str().as_encoded_bytes());
        Some(format!("tfchain-provisiond-{}", hex::encode(&scope.0[..6])))
    }

    fn thaw_cgroups(&self) {
        let Some(group) = self.cgroup_name() else {
            return;
        };
        for (h, file, value) in [
            ("", "cgroup.freeze", "0"),
            ("freezer", "freezer.state", "THAWED"),
        ] {
            let g = Path::new("/sys/fs/cgroup").join(h).join(&group);
            for w in std::fs::read_dir(&g).into_iter().flatten().flatten() {
                let _ = std::fs::write(w.path().join(file), value);
            }
        }
    }

    /// Deletes the cgroups of this daemon's workloads (a killed daemon leaves them).
    fn remove_cgroups(&self) {
        let Some(group) = self.cgroup_name() else {
            return;
        };
        for h in ["", "memory", "cpu", "freezer"] {
            let g = Path::new("/sys/fs/cgroup").join(h).join(&group);
            let Ok(rd) = std::fs::read_dir(&g) else {
                continue;
            };
            for w in rd.flatten().filter(|e| e.path().is_dir()) {
                // The killed processes leave their groups a moment after SIGKILL.
                for _ in 0..50 {
                    if std::fs::remove_dir(w.path()).is_ok() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = std::fs::remove_dir(&g);
        }
    }

    /// Every workload pid the daemon recorded.
    fn workload_pids(&self) -> Vec<i32> {
        let Ok(rd) = std::fs::read_dir(self.data_dir.join("runtime")) else {
            return vec![];
        };
        rd.flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .filter_map(|v| v["pid"].as_i64())
            .map(|p| p as i32)
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- provisiond log tail:\n{}", self.log_tail());
        }
        self.kill9();
        // A frozen workload takes its SIGKILL only once thawed.
        self.thaw_cgroups();
        for pid in self.workload_pids() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        self.remove_cgroups();
    }
}

/// Whether `pid` is a live process (not a zombie).
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|c| c != 'Z' && c != 'X')
}

fn group_leader(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            rest.split_whitespace().nth(2)?.parse::<u64>().ok()
        })
        == Some(pid)
}

/// Writes a manifest file.
pub fn manifest(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write the manifest");
    p
}

/// A temp dir whose path other users can traverse (workloads run as `nobody`).
pub fn temp_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    d
}
