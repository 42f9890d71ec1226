//! The `docker` runtime: each workload a container of the local Docker engine (through its
//! API, the `bollard` crate), named `tfchain-<reservation>` and labelled with the
//! reservation, node and deployment, so a restarted daemon finds its containers by label.
//! The reservation's cru and mru become `--cpus` and `--memory`; restarts are the daemon's
//! (no Docker restart policy), so the restart backoff is the same as for processes.

use super::cgroup::memory_bytes;
use super::{Observed, RunState, Runtime, RuntimeError, WorkloadSpec};
use bollard::models::{ContainerCreateBody, ContainerSummaryStateEnum, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, InspectContainerOptions, ListContainersOptions,
    RemoveContainerOptions, StartContainerOptions, StopContainerOptions,
};
use bollard::Docker;
use futures::StreamExt;
use std::collections::HashMap;
use std::str::FromStr;
use tfchain_api::deployment::WorkloadKind;
use tfchain_types::{Hash, ReservationId};

const LABEL_RESERVATION: &str = "tfchain.reservation";
const LABEL_DEPLOYMENT: &str = "tfchain.deployment";
const LABEL_NODE: &str = "tfchain.node";
/// Seconds Docker waits between SIGTERM and SIGKILL on stop.
const STOP_TIMEOUT_S: i32 = 10;

#[derive(Debug)]
pub struct DockerRuntime {
    docker: Docker,
}

fn name(id: ReservationId) -> String {
    format!("tfchain-{id}")
}

fn control(
    action: &'static str,
    id: ReservationId,
) -> impl FnOnce(bollard::errors::Error) -> RuntimeError {
    move |e| RuntimeError::Control {
        action,
        reservation: id,
        reason: e.to_string(),
    }
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl DockerRuntime {
    /// The local Docker engine (`DOCKER_HOST` or the default socket), if it answers.
    pub async fn connect() -> Result<DockerRuntime, RuntimeError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| RuntimeError::Unavailable(format!("no Docker engine: {e}")))?;
        docker.ping().await.map_err(|e| {
            RuntimeError::Unavailable(format!("the Docker engine does not answer: {e}"))
        })?;
        Ok(DockerRuntime { docker })
    }

    async fn pull(&self, image: &str) -> Result<(), String> {
        if self.docker.inspect_image(image).await.is_ok() {
            return Ok(());
        }
        let mut s = self.docker.create_image(
            Some(CreateImageOptions {
                from_image: Some(image.to_string()),
                ..Default::default()
            }),
            None,
            None,
        );
        while let Some(r) = s.next().await {
            r.map_err(|e| format!("cannot pull {image}: {e}"))?;
        }
        Ok(())
    }

    async fn observe(&self, id: ReservationId) -> Result<Option<Observed>, RuntimeError> {
        let c = match self
            .docker
            .inspect_container(&name(id), None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => c,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(control("inspect", id)(e)),
        };
        let labels = c
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        let deployment_hash = labels
            .get(LABEL_DEPLOYMENT)
            .and_then(|h| Hash::from_str(h).ok())
            .unwrap_or_default();
        let st = c.state.unwrap_or_default();
        let state = if st.paused == Some(true) {
            RunState::Paused
        } else if st.running == Some(true) {
            RunState::Running
        } else {
            RunState::Exited {
                code: st.exit_code.and_then(|c| i32::try_from(c).ok()),
            }
        };
        let note = (st.oom_killed == Some(true)).then(|| "memory limit reached".to_string());
        Ok(Some(Observed {
            reservation: id,
            deployment_hash,
            state,
            pid: None,
            container: c.id,
            started_at: st.started_at.as_deref().and_then(unix_seconds).unwrap_or(0),
            note,
        }))
    }
}

/// Unix seconds of an RFC 3339 time as Docker writes it (`2026-12-07T04:33:50.61Z`, UTC).
fn unix_seconds(t: &str) -> Option<u64> {
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

#[async_trait::async_trait]
impl Runtime for DockerRuntime {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Container
    }

    fn limits_note(&self) -> String {
        "docker: --cpus and --memory from the reservation".into()
    }

    async fn start(&self, spec: &WorkloadSpec) -> Result<Observed, RuntimeError> {
        let id = spec.reservation;
        let fail = |reason: String| RuntimeError::Start {
            reservation: id,
            reason,
        };
        let image = spec
            .manifest
            .image
            .clone()
            .ok_or_else(|| fail("the manifest has no image".into()))?;
        // Same deployment, exited: start it again (its files are kept); otherwise anew.
        match self.observe(id).await? {
            Some(o) if o.deployment_hash == spec.deployment_hash => {
                if o.state == RunState::Running {
                    self.remove(id).await?;
                } else {
                    self.docker
                        .start_container(&name(id), None::<StartContainerOptions>)
                        .await
                        .map_err(control("start", id))?;
                    return self
                        .observe(id)
                        .await?
                        .ok_or_else(|| fail("the container vanished".into()));
                }
            }
            Some(_) => self.remove(id).await?,
            None => {}
        }
        self.pull(&image).await.map_err(fail)?;
        let mut env: Vec<String> = spec
            .manifest
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        env.push(format!("TFCHAIN_RESERVATION={id}"));
        env.push(format!("TFCHAIN_NODE={}", spec.node));
        let labels = HashMap::from([
            (LABEL_RESERVATION.to_string(), id.to_string()),
            (
                LABEL_DEPLOYMENT.to_string(),
                spec.deployment_hash.to_string(),
            ),
            (LABEL_NODE.to_string(), spec.node.to_string()),
        ]);
        let mem = i64::try_from(memory_bytes(&spec.limits)).unwrap_or(i64::MAX);
        let body = ContainerCreateBody {
            image: Some(image),
            cmd: (!spec.manifest.command.is_empty()).then(|| spec.manifest.command.clone()),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                memory: Some(mem),
                memory_swap: Some(mem),
                nano_cpus: Some(i64::from(spec.limits.cru.max(1)) * 1_000_000_000),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name(id)),
                    ..Default::default()
                }),
                body,
            )
            .await
            .map_err(|e| fail(e.to_string()))?;
        self.docker
            .start_container(&name(id), None::<StartContainerOptions>)
            .await
            .map_err(|e| fail(e.to_string()))?;
        self.observe(id)
            .await?
            .ok_or_else(|| fail("the container vanished".into()))
    }

    async fn pause(&self, id: ReservationId) -> Result<(), RuntimeError> {
        match self.docker.pause_container(&name(id)).await {
            Err(e) if !not_found(&e) => Err(control("pause", id)(e)),
            _ => Ok(()),
        }
    }

    async fn resume(&self, id: ReservationId) -> Result<(), RuntimeError> {
        match self.docker.unpause_container(&name(id)).await {
            Err(e) if !not_found(&e) => Err(control("resume", id)(e)),
            _ => Ok(()),
        }
    }

    async fn remove(&self, id: ReservationId) -> Result<(), RuntimeError> {
        let _ = self.docker.unpause_container(&name(id)).await;
        let _ = self
            .docker
            .stop_container(
                &name(id),
                Some(StopContainerOptions {
                    t: Some(STOP_TIMEOUT_S),
                    ..Default::default()
                }),
            )
            .await;
        match self
            .docker
            .remove_container(
                &name(id),
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await
        {
            Err(e) if !not_found(&e) => Err(control("remove", id)(e)),
            _ => Ok(()),
        }
    }

    async fn inspect(&self, id: ReservationId) -> Result<Option<Observed>, RuntimeError> {
        self.observe(id).await
    }

    async fn list(&self) -> Result<Vec<Observed>, RuntimeError> {
        let filters = HashMap::from([("label".to_string(), vec![LABEL_RESERVATION.to_string()])]);
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| RuntimeError::Unavailable(e.to_string()))?;
        let mut ids: Vec<ReservationId> = list
            .iter()
            .filter(|c| c.state != Some(ContainerSummaryStateEnum::REMOVING))
            .filter_map(|c| c.labels.as_ref()?.get(LABEL_RESERVATION)?.parse().ok())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(o) = self.observe(id).await? {
                out.push(o);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn docker_times_are_read_as_unix_seconds() {
        assert_eq!(super::unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            super::unix_seconds("2026-12-07T04:33:50.619867Z"),
            Some(1_796_618_030)
        );
        assert_eq!(super::unix_seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(super::unix_seconds("garbage"), None);
    }
}
