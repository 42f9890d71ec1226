//! The `process` runtime: each workload a child command in its own process group, run as an
//! unprivileged user with its working directory `DATA_DIR/workloads/<id>/` and its output in
//! `DATA_DIR/logs/<id>.log`. What the daemon knows of it (pid, the process's start time,
//! deployment) is in `DATA_DIR/runtime/<id>.json`, outside the directory the workload can
//! write, so a workload cannot point the daemon at another process. A pid is only ever
//! signalled when `/proc` shows the same start time: a reused pid is never mistaken for the
//! workload. Workloads outlive the daemon (their own process group), and a new daemon
//! adopts them from those files.

use super::cgroup::{memory_bytes, Cgroups};
use super::{Observed, RunState, Runtime, RuntimeError, WorkloadSpec};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tfchain_api::deployment::WorkloadKind;
use tfchain_types::{Hash, ReservationId, Resources};

/// How often a workload's directory size is measured against its sru.
const DISK_CHECK_EVERY: Duration = Duration::from_secs(10);
/// The disk quota of a reservation that reserved no SSD.
pub const MIN_DISK_BYTES: u64 = 256 << 20;
/// Most directory entries one disk check walks (a workload with more is over quota).
const DISK_WALK_MAX: usize = 200_000;
/// How long a killed workload may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct ProcessConfig {
    pub data_dir: PathBuf,
    /// Run workloads as this user; `None`: as the daemon's own user.
    pub run_as: Option<String>,
    /// Allow workloads to run as root.
    pub allow_root: bool,
    /// Between SIGTERM and SIGKILL.
    pub stop_grace: Duration,
}

/// `DATA_DIR/runtime/<id>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    reservation: ReservationId,
    pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: with the pid, names the process uniquely.
    start_ticks: u64,
    deployment_hash: Hash,
    started_at: u64,
    limits: Resources,
    /// Why the runtime ended it (limits).
    note: Option<String>,
}

/// Exit codes by (pid, start ticks).
type Exits = BTreeMap<(u32, u64), Option<i32>>;

#[derive(Debug)]
pub struct ProcessRuntime {
    cfg: ProcessConfig,
    user: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
    cgroups: Cgroups,
    /// Exit codes of our own children, by (pid, start ticks).
    exits: Arc<Mutex<Exits>>,
    /// When each workload's disk use was last measured.
    disk_checked: Mutex<BTreeMap<ReservationId, Instant>>,
}

fn unavailable(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Unavailable(e.to_string())
}

/// `(state, start ticks, pgid)` of a live process, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u64, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): field n is f[n - 3].
    let state = f.first()?.chars().next()?;
    let pgid = f.get(2)?.parse().ok()?;
    let start = f.get(19)?.parse().ok()?;
    Some((state, start, pgid))
}

/// Whether `pid` is still the process that was started at `start_ticks` (zombies are dead).
fn alive(pid: u32, start_ticks: u64) -> Option<char> {
    proc_stat(pid)
        .filter(|(s, t, _)| *t == start_ticks && *s != 'Z' && *s != 'X')
        .map(|s| s.0)
}

fn now_s() -> u64 {
    crate::daemon::unix_now()
}

/// Bytes under `dir`, stopping at `limit` entries (then `u64::MAX`).
fn dir_size(dir: &Path, limit: usize) -> u64 {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > limit {
                return u64::MAX;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total = total.saturating_add(m.len()),
                Err(_) => {}
            }
        }
    }
    total
}

impl ProcessRuntime {
    pub fn new(cfg: ProcessConfig) -> Result<ProcessRuntime, RuntimeError> {
        let user = match &cfg.run_as {
            Some(name) => {
                let u = nix::unistd::User::from_name(name)
                    .map_err(unavailable)?
                    .ok_or_else(|| unavailable(format!("--run-as {name}: no such user")))?;
                Some((u.uid, u.gid))
            }
            None => None,
        };
        let uid = user.map_or_else(nix::unistd::geteuid, |u| u.0);
        if uid.is_root() && !cfg.allow_root {
            return Err(unavailable(
                "workloads would run as root: give --run-as USER (an unprivileged user), or --allow-root if you mean it",
            ));
        }
        for d in ["workloads", "runtime", "logs"] {
            std::fs::create_dir_all(cfg.data_dir.join(d))?;
        }
        // The workload's user must reach its own directory (traverse, not list).
        if user.is_some() {
            use std::os::unix::fs::PermissionsExt;
            for d in [cfg.data_dir.clone(), cfg.data_dir.join("workloads")] {
                let mode = std::fs::metadata(&d)?.permissions().mode() & 0o777;
                std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode | 0o711))?;
            }
        }
        // The cgroup scope names this data dir: daemons of two data dirs never share groups.
        let canonical = std::fs::canonicalize(&cfg.data_dir)?;
        let scope = tfchain_types::hash::blake2b(canonical.as_os_str().as_encoded_bytes());
        let cgroups = Cgroups::detect(&hex::encode(&scope.0[..6]));
        tracing::info!(limits = %cgroups.note(), "process runtime");
        Ok(ProcessRuntime {
            cfg,
            user,
            cgroups,
            exits: Arc::default(),
            disk_checked: Mutex::default(),
        })
    }

    fn meta_path(&self, id: ReservationId) -> PathBuf {
        self.cfg.data_dir.join("runtime").join(format!("{id}.json"))
    }

    fn work_dir(&self, id: ReservationId) -> PathBuf {
        self.cfg.data_dir.join("workloads").join(id.to_string())
    }

    fn log_path(&self, id: ReservationId) -> PathBuf {
        self.cfg.data_dir.join("logs").join(format!("{id}.log"))
    }

    fn read_meta(&self, id: ReservationId) -> Option<Meta> {
        let bytes = std::fs::read(self.meta_path(id)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn write_meta(&self, m: &Meta) -> std::io::Result<()> {
        let json = serde_json::to_vec(m).map_err(std::io::Error::other)?;
        crate::atomic::write(&self.meta_path(m.reservation), &json)
    }

    fn observe(&self, mut m: Meta) -> Observed {
        let id = m.reservation;
        // Our own child that exited but is not reaped yet: its exit code is a moment away,
        // so it counts as running until then (a restart policy needs the code).
        let unreaped = proc_stat(m.pid).is_some_and(|(s, t, _)| s == 'Z' && t == m.start_ticks);
        let state = match alive(m.pid, m.start_ticks).or(unreaped.then_some('R')) {
            Some(s) => {
                let frozen = self.cgroups.frozen(id).unwrap_or(false);
                if frozen || s == 'T' {
                    RunState::Paused
                } else if let Some(note) = self.over_disk_quota(&m) {
                    self.kill_now(&m);
                    m.note = Some(note);
                    let _ = self.write_meta(&m);
                    RunState::Exited { code: None }
                } else {
                    RunState::Running
                }
            }
            None => {
                let code = self
                    .exits
                    .lock()
                    .ok()
                    .and_then(|e| e.get(&(m.pid, m.start_ticks)).copied())
                    .flatten();
                if m.note.is_none() && self.cgroups.oom_killed(id) {
                    m.note = Some(format!(
                        "memory limit reached (mru {} GiB: {} MiB)",
                        m.limits.mru,
                        memory_bytes(&m.limits) >> 20
                    ));
                    let _ = self.write_meta(&m);
                }
                RunState::Exited { code }
            }
        };
        Observed {
            reservation: id,
            deployment_hash: m.deployment_hash,
            state,
            pid: Some(m.pid),
            container: None,
            started_at: m.started_at,
            note: m.note,
        }
    }

    /// A note when the workload's directory is over its sru (checked now and then).
    fn over_disk_quota(&self, m: &Meta) -> Option<String> {
        {
            let mut checked = self.disk_checked.lock().ok()?;
            let last = checked.get(&m.reservation);
            if last.is_some_and(|t| t.elapsed() < DISK_CHECK_EVERY) {
                return None;
            }
            checked.insert(m.reservation, Instant::now());
        }
        let quota = (u64::from(m.limits.sru) << 30).max(MIN_DISK_BYTES);
        // Its output counts too: a workload must not fill the disk through its log.
        let log = std::fs::metadata(self.log_path(m.reservation)).map_or(0, |l| l.len());
        let used = dir_size(&self.work_dir(m.reservation), DISK_WALK_MAX).saturating_add(log);
        (used > quota).then(|| {
            format!(
                "disk quota exceeded (sru {} GiB: {} MiB used of {} MiB)",
                m.limits.sru,
                used >> 20,
                quota >> 20
            )
        })
    }

    /// Every process of the workload gets `sig`: its process group (only while the leader
    /// is the process started, or no process has its pid: then only old members of its
    /// group can have that group id) and whatever is in its cgroups.
    fn signal(&self, m: &Meta, sig: Signal) {
        let leader_ours = match proc_stat(m.pid) {
            None => true,
            Some((_, t, _)) => t == m.start_ticks,
        };
        if leader_ours {
            let _ = killpg(Pid::from_raw(m.pid as i32), sig);
        }
        for pid in self.cgroups.pids(m.reservation) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), sig);
        }
    }

    fn group_alive(&self, m: &Meta) -> bool {
        alive(m.pid, m.start_ticks).is_some() || !self.cgroups.pids(m.reservation).is_empty()
    }

    fn kill_now(&self, m: &Meta) {
        let _ = self.cgroups.freeze(m.reservation, false);
        self.signal(m, Signal::SIGKILL);
    }

    /// SIGTERM, then SIGKILL after the grace time; waits until the group is gone.
    async fn stop(&self, m: &Meta) -> Result<(), RuntimeError> {
        if !self.group_alive(m) {
            return Ok(());
        }
        let _ = self.cgroups.freeze(m.reservation, false);
        self.signal(m, Signal::SIGCONT);
        self.signal(m, Signal::SIGTERM);
        let deadline = Instant::now() + self.cfg.stop_grace;
        while Instant::now() < deadline && self.group_alive(m) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let deadline = Instant::now() + KILL_WAIT;
        while self.group_alive(m) {
            self.signal(m, Signal::SIGKILL);
            if Instant::now() > deadline {
                return Err(RuntimeError::Control {
                    action: "stop",
                    reservation: m.reservation,
                    reason: format!("process {} is still alive after SIGKILL", m.pid),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    fn spawn(&self, spec: &WorkloadSpec) -> Result<Meta, RuntimeError> {
        let id = spec.reservation;
        let fail = |reason: String| RuntimeError::Start {
            reservation: id,
            reason,
        };
        let dir = self.work_dir(id);
        std::fs::create_dir_all(&dir)?;
        {
            // Its own: other workloads' users cannot read it.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        if let Some((uid, gid)) = self.user {
            nix::unistd::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| fail(format!("chown {}: {e}", dir.display())))?;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(id))?;
        self.cgroups
            .create(id, &spec.limits)
            .map_err(|e| fail(format!("cannot set its limits: {e}")))?;
        let argv = &spec.manifest.command;
        let (program, args): (String, Vec<String>) = if self.cgroups.enabled() {
            (argv[0].clone(), argv[1..].to_vec())
        } else {
            // No cgroups: the memory limit as an address-space rlimit, set by the shell
            // before it becomes the workload.
            let kib = memory_bytes(&spec.limits) >> 10;
            let mut a = vec![
                "-c".to_string(),
                format!("ulimit -v {kib} && exec \"$@\""),
                "tfchain-workload".to_string(),
            ];
            a.extend(argv.iter().cloned());
            ("/bin/sh".to_string(), a)
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args)
            .current_dir(&dir)
            .env_clear()
            .envs(&spec.manifest.env)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &dir)
            .env("TFCHAIN_RESERVATION", id.to_string())
            .env("TFCHAIN_NODE", spec.node.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(false);
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot run {program:?}: {e}")))?;
        let pid = child.id().ok_or_else(|| fail("exited at once".into()))?;
        if let Err(e) = self.cgroups.add(id, pid) {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            return Err(fail(format!("cannot put it in its cgroup: {e}")));
        }
        let start_ticks = proc_stat(pid).map_or(0, |s| s.1);
        let exits = self.exits.clone();
        tokio::spawn(async move {
            let code = child.wait().await.ok().and_then(|s| s.code());
            if let Ok(mut e) = exits.lock() {
                e.insert((pid, start_ticks), code);
            }
        });
        Ok(Meta {
            reservation: id,
            pid,
            start_ticks,
            deployment_hash: spec.deployment_hash,
            started_at: now_s(),
            limits: spec.limits,
            note: None,
        })
    }
}

#[async_trait::async_trait]
impl Runtime for ProcessRuntime {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Process
    }

    fn limits_note(&self) -> String {
        self.cgroups.note()
    }

    async fn start(&self, spec: &WorkloadSpec) -> Result<Observed, RuntimeError> {
        if spec.manifest.kind != WorkloadKind::Process {
            return Err(RuntimeError::Unsupported(spec.manifest.kind));
        }
        if spec.manifest.command.is_empty() {
            return Err(RuntimeError::Start {
                reservation: spec.reservation,
                reason: "the manifest has no command".into(),
            });
        }
        if let Some(old) = self.read_meta(spec.reservation) {
            self.stop(&old).await?;
        }
        let m = self.spawn(spec)?;
        self.write_meta(&m)?;
        Ok(self.observe(m))
    }

    async fn pause(&self, id: ReservationId) -> Result<(), RuntimeError> {
        let Some(m) = self.read_meta(id) else {
            return Ok(());
        };
        let control = |reason: String| RuntimeError::Control {
            action: "pause",
            reservation: id,
            reason,
        };
        if !self
            .cgroups
            .freeze(id, true)
            .map_err(|e| control(e.to_string()))?
        {
            self.signal(&m, Signal::SIGSTOP);
        }
        Ok(())
    }

    async fn resume(&self, id: ReservationId) -> Result<(), RuntimeError> {
        let Some(m) = self.read_meta(id) else {
            return Ok(());
        };
        let control = |reason: String| RuntimeError::Control {
            action: "resume",
            reservation: id,
            reason,
        };
        self.cgroups
            .freeze(id, false)
            .map_err(|e| control(e.to_string()))?;
        self.signal(&m, Signal::SIGCONT);
        Ok(())
    }

    async fn remove(&self, id: ReservationId) -> Result<(), RuntimeError> {
        if let Some(m) = self.read_meta(id) {
            self.stop(&m).await?;
        }
        self.cgroups.remove(id);
        let dir = self.work_dir(id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        for f in [self.log_path(id), self.meta_path(id)] {
            match std::fs::remove_file(&f) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        if let Ok(mut c) = self.disk_checked.lock() {
            c.remove(&id);
        }
        Ok(())
    }

    async fn inspect(&self, id: ReservationId) -> Result<Option<Observed>, RuntimeError> {
        Ok(self.read_meta(id).map(|m| self.observe(m)))
    }

    async fn list(&self) -> Result<Vec<Observed>, RuntimeError> {
        let mut ids: Vec<ReservationId> = std::fs::read_dir(self.cfg.data_dir.join("runtime"))?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                name.to_str()?.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        Ok(ids
            .into_iter()
            .filter_map(|id| self.read_meta(id))
            .map(|m| self.observe(m))
            .collect())
    }
}
