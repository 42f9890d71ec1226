//! Runtimes: what starts, pauses, resumes, stops and inspects workloads on this host. One
//! trait, two implementations: `process` (a supervised child command under the data dir)
//! and `docker` (a container through the Docker Engine API). The daemon drives a runtime
//! only through [`Runtime`], so the reconcile loop is the same over both.
//!
//! Every method is idempotent: stopping a stopped workload, pausing a paused one or removing
//! one that is gone succeeds, because the reconciler may repeat an action after a crash.

pub mod cgroup;
pub mod docker;
pub mod process;

use serde::{Deserialize, Serialize};
use tfchain_api::deployment::{Manifest, WorkloadKind};
use tfchain_types::{Hash, NodeId, ReservationId, Resources};

/// What to run for one reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub reservation: ReservationId,
    pub node: NodeId,
    /// The reservation's `deployment_hash`: which version of the deployment this is.
    pub deployment_hash: Hash,
    pub manifest: Manifest,
    /// What the workload may use (the manifest's resources, within the reservation's):
    /// cru as a CPU quota in cores, mru as a memory limit in GiB, sru as a disk quota in
    /// GiB on its directory. Zero means no limit of that kind was reserved (then the
    /// runtime gives the smallest it can: a workload never gets more than reserved).
    pub limits: Resources,
}

/// Where a workload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RunState {
    Running,
    Paused,
    /// It ended by itself (or was killed by a limit): `code` is its exit status, `None`
    /// when a signal ended it.
    Exited {
        code: Option<i32>,
    },
}

/// A workload the runtime manages, as the host shows it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub reservation: ReservationId,
    /// The deployment it was started from.
    pub deployment_hash: Hash,
    pub state: RunState,
    /// The process (group leader) of a process workload.
    pub pid: Option<u32>,
    /// The container of a docker workload.
    pub container: Option<String>,
    /// Unix seconds when the current run started.
    pub started_at: u64,
    /// Why the runtime ended it, when it did (for example "memory limit reached").
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("this host does not run {0} workloads (start the daemon with --runtime {0})")]
    Unsupported(WorkloadKind),
    #[error("cannot start the workload of reservation {reservation}: {reason}")]
    Start {
        reservation: ReservationId,
        reason: String,
    },
    #[error("{action} of the workload of reservation {reservation} failed: {reason}")]
    Control {
        action: &'static str,
        reservation: ReservationId,
        reason: String,
    },
    #[error("the runtime is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A runtime. Workloads are named by reservation id; a runtime knows its own workloads
/// again after the daemon restarts (by pid file and start time, or by container label).
#[async_trait::async_trait]
pub trait Runtime: Send + Sync + std::fmt::Debug {
    /// The manifest kind this runtime runs.
    fn kind(&self) -> WorkloadKind;

    /// How it limits workloads on this host, in words, for the log ("cgroup v2: memory,
    /// cpu" or "rlimits: address space; no CPU quota").
    fn limits_note(&self) -> String;

    /// Starts `spec` (its files are created or kept: starting again after an exit keeps
    /// them). If the workload runs already, it is stopped first.
    async fn start(&self, spec: &WorkloadSpec) -> Result<Observed, RuntimeError>;

    /// Freezes it (cgroup freezer, SIGSTOP, docker pause).
    async fn pause(&self, reservation: ReservationId) -> Result<(), RuntimeError>;

    /// Continues a paused workload.
    async fn resume(&self, reservation: ReservationId) -> Result<(), RuntimeError>;

    /// Stops it (SIGTERM, then SIGKILL after the grace time) and deletes its files.
    async fn remove(&self, reservation: ReservationId) -> Result<(), RuntimeError>;

    /// The workload of `reservation`, if this runtime has one.
    async fn inspect(&self, reservation: ReservationId) -> Result<Option<Observed>, RuntimeError>;

    /// Every workload this runtime manages on this host, including ones started before the
    /// daemon restarted, in reservation order.
    async fn list(&self) -> Result<Vec<Observed>, RuntimeError>;
}
