//! The daemon's own durable state in `<data-dir>/state.json`: the desired state in effect
//! (so a daemon that starts while tfchaind is down keeps what should run) and each
//! workload's bookkeeping (restarts, since, last error). Written atomically (temporary
//! file, fsync, rename, fsync of the directory), so a crash leaves the old or the new file,
//! never half of one.

use crate::plan::Desired;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tfchain_types::{NodeId, ReservationId};

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonState {
    pub version: u32,
    /// The node this data dir serves: a data dir is never reused for another node.
    pub node: Option<NodeId>,
    /// The confirmed desired state the daemon last acted on.
    pub desired: BTreeMap<ReservationId, Desired>,
    pub book: BTreeMap<ReservationId, Book>,
}

/// What the daemon remembers of one workload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Book {
    /// Restarts after exits (per the manifest's restart policy).
    pub restarts: u32,
    /// Unix seconds of the last change of its actual state.
    pub since: u64,
    pub last_error: Option<String>,
    /// The actual state `since` refers to.
    #[serde(default)]
    pub actual: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a provisiond state file ({reason}): move it away to start afresh (running workloads are adopted again)")]
    Malformed { path: PathBuf, reason: String },
}

/// The state file of a data dir.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(data_dir: &Path) -> StateFile {
        StateFile {
            path: data_dir.join("state.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state, or a new one when there is none yet.
    pub fn load(&self) -> Result<DaemonState, StateError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DaemonState {
                    version: STATE_VERSION,
                    ..DaemonState::default()
                })
            }
            Err(source) => {
                return Err(StateError::Io {
                    what: "read",
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let malformed = |reason: String| StateError::Malformed {
            path: self.path.clone(),
            reason,
        };
        let state: DaemonState =
            serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
        if state.version != STATE_VERSION {
            return Err(malformed(format!(
                "version {}, this daemon writes {STATE_VERSION}",
                state.version
            )));
        }
        Ok(state)
    }

    /// Replaces the file with `state`, durably.
    pub fn save(&self, state: &DaemonState) -> Result<(), StateError> {
        let io = |what, source| StateError::Io {
            what,
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(state).map_err(|e| StateError::Malformed {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        crate::atomic::write(&self.path, &json).map_err(|e| io("replace", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = StateFile::new(dir.path());
        let fresh = f.load().expect("no file yet");
        assert_eq!(fresh.version, STATE_VERSION);
        let mut s = fresh.clone();
        s.node = Some(1);
        s.book.insert(
            7,
            Book {
                restarts: 2,
                since: 5,
                last_error: Some("x".into()),
                actual: Some("running".into()),
            },
        );
        s.desired.insert(
            7,
            Desired::Nothing {
                deployment_hash: tfchain_types::Hash::default(),
                reason: "no deployment".into(),
            },
        );
        f.save(&s).expect("save");
        assert_eq!(f.load().expect("load"), s);
        std::fs::write(f.path(), b"{\"version\":1,").expect("write");
        assert!(matches!(f.load(), Err(StateError::Malformed { .. })));
    }
}
