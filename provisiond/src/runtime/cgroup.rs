//! Control groups for process workloads, where the host lets the daemon make them: cgroup
//! v2 (`memory.max`, `cpu.max`, `cgroup.freeze`), else cgroup v1 (the `memory`, `cpu` and
//! `freezer` hierarchies), else none (then the process runtime falls back to rlimits). Each
//! daemon gets `tfchain-provisiond-<scope>` (the scope names its data dir, so two daemons on
//! one host never share a group) and each workload `<that>/<reservation>` in every
//! hierarchy used.

use std::path::{Path, PathBuf};
use tfchain_types::{ReservationId, Resources};

const GROUP: &str = "tfchain-provisiond";
const CPU_PERIOD_US: u64 = 100_000;
/// Memory of a reservation that reserved none: workloads never run unlimited.
pub const MIN_MEMORY_BYTES: u64 = 256 << 20;

/// A workload's memory limit: its mru in GiB, at least [`MIN_MEMORY_BYTES`].
pub fn memory_bytes(limits: &Resources) -> u64 {
    (u64::from(limits.mru) << 30).max(MIN_MEMORY_BYTES)
}

/// A workload's CPU quota per period: cru cores, a tenth of one when it reserved none.
pub fn cpu_quota_us(limits: &Resources) -> u64 {
    if limits.cru == 0 {
        CPU_PERIOD_US / 10
    } else {
        u64::from(limits.cru) * CPU_PERIOD_US
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cgroups {
    V2 {
        root: PathBuf,
    },
    V1 {
        memory: PathBuf,
        cpu: Option<PathBuf>,
        freezer: Option<PathBuf>,
    },
    None {
        why: String,
    },
}

/// Whether the daemon may make `dir` (made and removed again: groups are made when a
/// workload needs them, so none is left behind by a daemon that ran nothing).
fn make(dir: &Path) -> bool {
    let existed = dir.exists();
    let ok = std::fs::create_dir_all(dir).is_ok();
    if ok && !existed {
        let _ = std::fs::remove_dir(dir);
    }
    ok
}

impl Cgroups {
    /// What this host allows, making the daemon's own group where it can.
    pub fn detect(scope: &str) -> Cgroups {
        Self::detect_at(Path::new("/sys/fs/cgroup"), &format!("{GROUP}-{scope}"))
    }

    pub fn detect_at(base: &Path, group: &str) -> Cgroups {
        let controllers =
            std::fs::read_to_string(base.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "memory") {
            let root = base.join(group);
            let enabled = std::fs::write(base.join("cgroup.subtree_control"), "+memory +cpu")
                .is_ok()
                || std::fs::read_to_string(base.join("cgroup.subtree_control"))
                    .is_ok_and(|s| s.contains("memory"));
            if enabled && make(&root) {
                return Cgroups::V2 { root };
            }
        }
        let memory = base.join("memory").join(group);
        if base.join("memory/memory.limit_in_bytes").exists() && make(&memory) {
            let cpu = Some(base.join("cpu").join(group))
                .filter(|d| base.join("cpu/cpu.cfs_quota_us").exists() && make(d));
            let freezer = Some(base.join("freezer").join(group))
                .filter(|d| base.join("freezer").is_dir() && make(d));
            return Cgroups::V1 {
                memory,
                cpu,
                freezer,
            };
        }
        Cgroups::None {
            why: format!("no writable memory cgroup under {}", base.display()),
        }
    }

    /// In words, for the log and `/workloads`.
    pub fn note(&self) -> String {
        match self {
            Cgroups::V2 { .. } => "cgroup v2: memory.max, cpu.max, freezer".into(),
            Cgroups::V1 { cpu, freezer, .. } => format!(
                "cgroup v1: memory limit{}{}",
                if cpu.is_some() {
                    ", cpu quota"
                } else {
                    ", no cpu quota"
                },
                if freezer.is_some() {
                    ", freezer"
                } else {
                    ", SIGSTOP to pause"
                }
            ),
            Cgroups::None { why } => format!(
                "rlimits: address space as the memory limit, no cpu quota, SIGSTOP to pause ({why})"
            ),
        }
    }

    pub fn enabled(&self) -> bool {
        !matches!(self, Cgroups::None { .. })
    }

    fn dirs(&self, id: ReservationId) -> Vec<PathBuf> {
        let id = id.to_string();
        match self {
            Cgroups::V2 { root } => vec![root.join(id)],
            Cgroups::V1 {
                memory,
                cpu,
                freezer,
            } => std::iter::once(memory)
                .chain(cpu)
                .chain(freezer)
                .map(|d| d.join(&id))
                .collect(),
            Cgroups::None { .. } => vec![],
        }
    }

    /// Makes the workload's groups with its limits.
    pub fn create(&self, id: ReservationId, limits: &Resources) -> std::io::Result<()> {
        if let Cgroups::V2 { root } = self {
            // The daemon's group may have been removed when it emptied.
            std::fs::create_dir_all(root)?;
            std::fs::write(root.join("cgroup.subtree_control"), "+memory +cpu")?;
        }
        for d in self.dirs(id) {
            std::fs::create_dir_all(&d)?;
        }
        let mem = memory_bytes(limits);
        let quota = cpu_quota_us(limits);
        match self {
            Cgroups::V2 { root } => {
                let d = root.join(id.to_string());
                std::fs::write(d.join("memory.max"), mem.to_string())?;
                // No swap: the memory limit is the limit.
                let _ = std::fs::write(d.join("memory.swap.max"), "0");
                std::fs::write(d.join("cpu.max"), format!("{quota} {CPU_PERIOD_US}"))?;
            }
            Cgroups::V1 { memory, cpu, .. } => {
                let d = memory.join(id.to_string());
                std::fs::write(d.join("memory.limit_in_bytes"), mem.to_string())?;
                let _ = std::fs::write(d.join("memory.memsw.limit_in_bytes"), mem.to_string());
                if let Some(cpu) = cpu {
                    let d = cpu.join(id.to_string());
                    std::fs::write(d.join("cpu.cfs_period_us"), CPU_PERIOD_US.to_string())?;
                    std::fs::write(d.join("cpu.cfs_quota_us"), quota.to_string())?;
                }
            }
            Cgroups::None { .. } => {}
        }
        Ok(())
    }

    /// Moves `pid` into the workload's groups.
    pub fn add(&self, id: ReservationId, pid: u32) -> std::io::Result<()> {
        for d in self.dirs(id) {
            std::fs::write(d.join("cgroup.procs"), pid.to_string())?;
        }
        Ok(())
    }

    /// Every process in the workload's groups.
    pub fn pids(&self, id: ReservationId) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .dirs(id)
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn freezer_dir(&self, id: ReservationId) -> Option<PathBuf> {
        match self {
            Cgroups::V2 { root } => Some(root.join(id.to_string())),
            Cgroups::V1 { freezer, .. } => freezer.as_ref().map(|f| f.join(id.to_string())),
            Cgroups::None { .. } => None,
        }
    }

    /// Freezes or thaws the workload; `Ok(false)` when there is no freezer here.
    pub fn freeze(&self, id: ReservationId, frozen: bool) -> std::io::Result<bool> {
        let Some(d) = self.freezer_dir(id) else {
            return Ok(false);
        };
        match self {
            Cgroups::V2 { .. } => {
                std::fs::write(d.join("cgroup.freeze"), if frozen { "1" } else { "0" })?
            }
            _ => std::fs::write(
                d.join("freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
            )?,
        }
        Ok(true)
    }

    /// Whether the workload is frozen (`None`: no freezer here).
    pub fn frozen(&self, id: ReservationId) -> Option<bool> {
        let d = self.freezer_dir(id)?;
        match self {
            Cgroups::V2 { .. } => std::fs::read_to_string(d.join("cgroup.events"))
                .ok()
                .map(|s| s.lines().any(|l| l.trim() == "frozen 1")),
            _ => std::fs::read_to_string(d.join("freezer.state"))
                .ok()
                .map(|s| s.trim() != "THAWED"),
        }
    }

    /// Whether the kernel killed a process of the workload for its memory limit.
    pub fn oom_killed(&self, id: ReservationId) -> bool {
        let file = match self {
            Cgroups::V2 { root } => root.join(id.to_string()).join("memory.events"),
            Cgroups::V1 { memory, .. } => memory.join(id.to_string()).join("memory.oom_control"),
            Cgroups::None { .. } => return false,
        };
        std::fs::read_to_string(file).is_ok_and(|s| {
            s.lines().any(|l| {
                l.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            })
        })
    }

    /// Deletes the workload's groups (they must be empty), and the daemon's own groups when
    /// no workload is left in them (so no empty group outlives a data dir).
    pub fn remove(&self, id: ReservationId) {
        for d in self.dirs(id) {
            if d.exists() {
                if let Err(e) = std::fs::remove_dir(&d) {
                    tracing::warn!(cgroup = %d.display(), error = %e, "cannot remove the cgroup");
                }
            }
            if let Some(parent) = d.parent() {
                // Fails while other workloads' groups are in it: that is the point.
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_have_floors_and_scale_with_the_reservation() {
        let r = |cru, mru| Resources {
            cru,
            mru,
            ..Resources::ZERO
        };
        assert_eq!(memory_bytes(&r(0, 0)), MIN_MEMORY_BYTES);
        assert_eq!(memory_bytes(&r(0, 2)), 2 << 30);
        assert_eq!(cpu_quota_us(&r(0, 0)), 10_000);
        assert_eq!(cpu_quota_us(&r(3, 0)), 300_000);
    }

    #[test]
    fn a_host_without_cgroups_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = Cgroups::detect_at(dir.path(), "g");
        assert!(!c.enabled());
        assert!(c.note().starts_with("rlimits"));
        assert!(c.dirs(1).is_empty());
        assert!(!c.freeze(1, true).expect("no freezer is not an error"));
    }
}
