//! The docker runtime against a real Docker engine, where one answers (skipped with the
//! reason elsewhere): a container starts labelled, pauses, resumes and is removed.

use std::collections::BTreeMap;
use tfchain_api::deployment::{Manifest, RestartPolicy, WorkloadKind};
use tfchain_provisiond::runtime::docker::DockerRuntime;
use tfchain_provisiond::runtime::{RunState, Runtime, WorkloadSpec};
use tfchain_types::{Hash, Resources};

#[tokio::test]
async fn a_container_runs_pauses_resumes_and_goes() {
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skipped: {e}");
            return;
        }
    };
    let id = 900_000 + u64::from(std::process::id() % 1000);
    let spec = WorkloadSpec {
        reservation: id,
        node: 1,
        deployment_hash: Hash([9; 32]),
        manifest: Manifest {
            version: 1,
            kind: WorkloadKind::Container,
            command: vec!["sleep".into(), "300".into()],
            image: Some("busybox:latest".into()),
            env: BTreeMap::new(),
            restart: RestartPolicy::Never,
            resources: None,
        },
        limits: Resources {
            cru: 1,
            mru: 1,
            ..Resources::ZERO
        },
    };
    let o = rt.start(&spec).await.expect("start");
    assert_eq!(o.state, RunState::Running);
    assert_eq!(o.deployment_hash, spec.deployment_hash);
    rt.pause(id).await.expect("pause");
    assert_eq!(
        rt.inspect(id).await.expect("inspect").map(|o| o.state),
        Some(RunState::Paused)
    );
    rt.resume(id).await.expect("resume");
    assert!(rt
        .list()
        .await
        .expect("list")
        .iter()
        .any(|o| o.reservation == id));
    rt.remove(id).await.expect("remove");
    assert!(rt.inspect(id).await.expect("inspect").is_none());
}
