//! The process runtime on its own: pause freezes a workload and resume continues it; a
//! second runtime over the same data dir (a restarted daemon) adopts it; a record whose pid
//! now names another process is never signalled; workloads never run as root by default.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tfchain_api::deployment::{Manifest, RestartPolicy, WorkloadKind};
use tfchain_provisiond::runtime::process::{ProcessConfig, ProcessRuntime};
use tfchain_provisiond::runtime::{RunState, Runtime, WorkloadSpec};
use tfchain_types::{Hash, Resources};

fn config(dir: &Path) -> ProcessConfig {
    ProcessConfig {
        data_dir: dir.to_path_buf(),
        run_as: Some("nobody".into()),
        allow_root: false,
        stop_grace: Duration::from_secs(1),
    }
}

fn spec(id: u64, script: &str) -> WorkloadSpec {
    WorkloadSpec {
        reservation: id,
        node: 1,
        deployment_hash: Hash([id as u8; 32]),
        manifest: Manifest {
            version: 1,
            kind: WorkloadKind::Process,
            command: vec!["sh".into(), "-c".into(), script.into()],
            image: None,
            env: BTreeMap::new(),
            restart: RestartPolicy::Always,
            resources: None,
        },
        limits: Resources {
            cru: 1,
            mru: 1,
            sru: 1,
            ..Resources::ZERO
        },
    }
}

fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn beat(dir: &Path, id: u64) -> Option<u128> {
    std::fs::read_to_string(dir.join("workloads").join(id.to_string()).join("beat"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with(['Z', 'X']))
        })
        == Some(false)
}

fn temp() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_adopt_and_remove() {
    let dir = temp();
    let rt = ProcessRuntime::new(config(dir.path())).expect("runtime");
    let s = spec(
        1,
        "while true; do date +%s%N > beat; echo \"$TFCHAIN_RESERVATION $TFCHAIN_NODE\" > env; sleep 0.1; done",
    );
    let o = rt.start(&s).await.expect("start");
    let pid = o.pid.expect("pid");
    let b0 = poll("a heartbeat", || beat(dir.path(), 1));
    poll("the heartbeat to advance", || {
        beat(dir.path(), 1).filter(|b| *b > b0)
    });
    let env = std::fs::read_to_string(dir.path().join("workloads/1/env")).expect("env file");
    assert_eq!(env.trim(), "1 1");

    rt.pause(1).await.expect("pause");
    let o = rt.inspect(1).await.expect("inspect").expect("listed");
    assert_eq!(o.state, RunState::Paused);
    let frozen = beat(dir.path(), 1);
    std::thread::sleep(Duration::from_millis(500)); // a paused workload must not move
    assert_eq!(beat(dir.path(), 1), frozen, "it ran while paused");
    rt.resume(1).await.expect("resume");
    poll("the heartbeat after resume", || {
        beat(dir.path(), 1).filter(|b| Some(*b) > frozen)
    });

    // A new runtime over the same data dir: the same process, still running.
    drop(rt);
    let rt = ProcessRuntime::new(config(dir.path())).expect("runtime again");
    let listed = rt.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].pid, listed[0].state),
        (Some(pid), RunState::Running)
    );
    rt.remove(1).await.expect("remove");
    assert!(!alive(pid), "removed but alive");
    assert!(!dir.path().join("workloads/1").exists());
    assert!(rt.list().await.expect("list").is_empty());
    rt.remove(1).await.expect("removing again is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_are_reported_and_reused_pids_are_never_signalled() {
    let dir = temp();
    let rt = ProcessRuntime::new(config(dir.path())).expect("runtime");
    rt.start(&spec(2, "exit 3")).await.expect("start");
    let code = poll("the exit", || {
        let o = futures::executor::block_on(rt.inspect(2)).ok()??;
        match o.state {
            RunState::Exited { code } => Some(code),
            _ => None,
        }
    });
    assert_eq!(code, Some(3));

    // A record naming a live process of someone else (this test's own pid, another start
    // time): reported exited, and removing it leaves that process alone.
    let me = std::process::id();
    let rec = serde_json::json!({
        "reservation": 3, "pid": me, "start_ticks": 1, "deployment_hash": Hash([3; 32]),
        "started_at": 0, "limits": Resources::ZERO, "note": null
    });
    std::fs::write(dir.path().join("runtime/3.json"), rec.to_string()).expect("write");
    let o = rt.inspect(3).await.expect("inspect").expect("listed");
    assert_eq!(o.state, RunState::Exited { code: None });
    rt.remove(3).await.expect("remove");
    assert!(alive(me));
    rt.remove(2).await.expect("remove");
}

#[test]
fn workloads_never_run_as_root_unless_allowed() {
    let dir = temp();
    let mut c = config(dir.path());
    c.run_as = Some("root".into());
    let e = ProcessRuntime::new(c.clone()).expect_err("root refused");
    assert!(e.to_string().contains("--allow-root"), "{e}");
    c.allow_root = true;
    ProcessRuntime::new(c.clone()).expect("allowed when asked");
    c.run_as = Some("no-such-user-here".into());
    let e = ProcessRuntime::new(c).expect_err("unknown user");
    assert!(e.to_string().contains("no such user"), "{e}");
}
