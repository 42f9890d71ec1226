//! What `GET /workloads` shows: each workload with its desired and actual state, pid or
//! container, since when, restarts and the last error; rebuilt after every reconcile.

use serde::{Deserialize, Serialize};
use tfchain_types::{Hash, Height, NodeId, ReservationId};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub node: NodeId,
    /// The tip height the daemon last saw.
    pub height: Height,
    /// Whether the daemon is connected to tfchaind (while it is not, what runs keeps running).
    pub connected: bool,
    /// `process` or `docker`, and how it limits workloads here.
    pub runtime: String,
    pub limits: String,
    /// Unix seconds of the last completed reconcile.
    pub last_reconcile: u64,
    pub workloads: Vec<WorkloadStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadStatus {
    pub reservation: ReservationId,
    /// The deployment the chain wants (or, when nothing is wanted, the one that runs).
    pub deployment_hash: Option<Hash>,
    /// `running`, `paused`, `nothing` (live but nothing may run: see `reason`) or `absent`.
    pub desired: String,
    /// `running`, `paused`, `exited` or `absent`.
    pub actual: String,
    pub pid: Option<u32>,
    pub container: Option<String>,
    /// Unix seconds since the actual state last changed.
    pub since: u64,
    pub restarts: u32,
    /// Why nothing runs (a refused manifest, no deployment), in words.
    pub reason: Option<String>,
    pub last_error: Option<String>,
}
