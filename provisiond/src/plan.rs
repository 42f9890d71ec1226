//! The reconciler's one pure function: given what the chain wants on this node and what the
//! host runs, the actions that make them equal. No I/O, no clock (time is an argument), no
//! hash-map iteration: the same inputs give the same actions, in reservation order.
//!
//! Level-triggered: `plan` never looks at what changed, only at the two states, so a missed
//! event, a restart or a reorg cannot leave the host wrong for more than one reconcile.

use crate::runtime::{Observed, RunState, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tfchain_api::deployment::{verify_manifest, DeploymentSource, WorkloadKind};
use tfchain_types::{Hash, NodeId, Reservation, ReservationId, ReservationState};

/// What the chain wants for one live reservation of this node. A reservation that is not
/// in the desired map (ended, gone from the chain, on another node) must not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "want")]
pub enum Desired {
    /// Run `spec`; `paused` while the reservation is in Grace.
    Run { spec: WorkloadSpec, paused: bool },
    /// Live, but nothing may run: no deployment, or it was refused (`reason` says why in
    /// words, for `/workloads`).
    Nothing {
        deployment_hash: Hash,
        reason: String,
    },
}

impl Desired {
    pub fn deployment_hash(&self) -> Hash {
        match self {
            Desired::Run { spec, .. } => spec.deployment_hash,
            Desired::Nothing {
                deployment_hash, ..
            } => *deployment_hash,
        }
    }
}

/// What the host runs for one reservation, with the daemon's restart bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    pub observed: Observed,
    /// Unix seconds before which an exited workload is not restarted (capped backoff).
    pub restart_not_before: u64,
}

/// One step toward the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Nothing runs yet: start it.
    Start(WorkloadSpec),
    /// Another deployment of the reservation runs: remove it, then start this one.
    Replace(WorkloadSpec),
    /// It exited and its restart policy says to run it again (files kept).
    Restart(WorkloadSpec),
    Pause(ReservationId),
    Resume(ReservationId),
    /// Stop it and delete its files.
    Remove(ReservationId),
}

impl Action {
    pub fn reservation(&self) -> ReservationId {
        match self {
            Action::Start(s) | Action::Replace(s) | Action::Restart(s) => s.reservation,
            Action::Pause(r) | Action::Resume(r) | Action::Remove(r) => *r,
        }
    }
}

/// The actions that turn `actual` into `desired` at unix time `now`, in reservation order
/// (removals of workloads nobody wants included).
pub fn plan(
    desired: &BTreeMap<ReservationId, Desired>,
    actual: &BTreeMap<ReservationId, Actual>,
    now: u64,
) -> Vec<Action> {
    let mut ids: Vec<ReservationId> = desired.keys().chain(actual.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| step(desired.get(&id), actual.get(&id), now))
        .collect()
}

/// The one action for one reservation, if any.
fn step(desired: Option<&Desired>, actual: Option<&Actual>, now: u64) -> Option<Action> {
    let (spec, paused) = match desired {
        Some(Desired::Run { spec, paused }) => (spec, *paused),
        // Unwanted, or wanted with nothing to run: whatever runs goes.
        None | Some(Desired::Nothing { .. }) => {
            return actual.map(|a| Action::Remove(a.observed.reservation));
        }
    };
    let Some(actual) = actual else {
        // Nothing to pause: a reservation in Grace starts when it is Active again.
        return (!paused).then(|| Action::Start(spec.clone()));
    };
    if actual.observed.deployment_hash != spec.deployment_hash {
        return Some(if paused {
            Action::Remove(spec.reservation)
        } else {
            Action::Replace(spec.clone())
        });
    }
    match (actual.observed.state, paused) {
        (RunState::Running, true) => Some(Action::Pause(spec.reservation)),
        (RunState::Paused, false) => Some(Action::Resume(spec.reservation)),
        (RunState::Exited { code }, false)
            if spec.manifest.restart.restarts(code) && now >= actual.restart_not_before =>
        {
            Some(Action::Restart(spec.clone()))
        }
        _ => None,
    }
}

/// First restart delay, and the cap of the doubling.
pub const RESTART_BACKOFF_MIN_S: u64 = 1;
pub const RESTART_BACKOFF_MAX_S: u64 = 60;

/// Seconds to wait before the restart that follows `restarts` earlier ones: 1, 2, 4, …,
/// capped at a minute.
pub fn restart_backoff(restarts: u32) -> u64 {
    RESTART_BACKOFF_MIN_S
        .checked_shl(restarts.min(16))
        .unwrap_or(u64::MAX)
        .min(RESTART_BACKOFF_MAX_S)
}

/// A reservation's manifest as the daemon found it: parsed and hash-checked, or why not.
pub type ManifestLookup<'a> = &'a dyn Fn(
    &Reservation,
    &DeploymentSource,
) -> Result<tfchain_api::deployment::Manifest, String>;

/// What the chain wants for `r` on `node` with a runtime of `kind`: `None` when it must not
/// run here at all (ended, or another node's). `manifest` fetches (or reads) and checks the
/// manifest the reservation names; it is only called for a live reservation with data.
pub fn desire(
    r: &Reservation,
    node: NodeId,
    kind: WorkloadKind,
    manifest: ManifestLookup<'_>,
) -> Option<Desired> {
    let paused = match r.state {
        _ if r.node != node => return None,
        ReservationState::Ended { .. } => return None,
        ReservationState::Active => false,
        ReservationState::Grace { .. } => true,
    };
    let nothing = |reason: String| Desired::Nothing {
        deployment_hash: r.deployment_hash,
        reason,
    };
    let source = match DeploymentSource::of(&r.deployment_data) {
        Ok(DeploymentSource::None) => {
            return Some(nothing(
                "no deployment: the reservation holds capacity and runs nothing".into(),
            ))
        }
        Ok(s) => s,
        Err(e) => return Some(nothing(format!("refused: {e}"))),
    };
    let m = match manifest(r, &source) {
        Ok(m) => m,
        Err(reason) => return Some(nothing(format!("refused: {reason}"))),
    };
    if m.kind != kind {
        return Some(nothing(format!(
            "refused: this host runs {kind} workloads, the manifest is a {} (start the daemon with --runtime {})",
            m.kind,
            match m.kind {
                WorkloadKind::Process => "process",
                WorkloadKind::Container => "docker",
            }
        )));
    }
    let limits = match m.limits(&r.resources) {
        Ok(l) => l,
        Err(e) => return Some(nothing(format!("refused: {e}"))),
    };
    Some(Desired::Run {
        spec: WorkloadSpec {
            reservation: r.id,
            node,
            deployment_hash: r.deployment_hash,
            manifest: m,
            limits,
        },
        paused,
    })
}

/// The manifest of an inline source, hash-checked (a URL source needs fetching first).
pub fn inline_manifest(
    r: &Reservation,
    source: &DeploymentSource,
) -> Option<Result<tfchain_api::deployment::Manifest, String>> {
    match source {
        DeploymentSource::Inline(bytes) => {
            Some(verify_manifest(bytes, &r.deployment_hash).map_err(|e| e.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
