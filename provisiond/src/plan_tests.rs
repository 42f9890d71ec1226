use super::*;
use crate::runtime::Observed;
use proptest::prelude::*;
use tfchain_api::deployment::{Manifest, RestartPolicy};
use tfchain_types::{Condition, Currency, EndReason, Resources};

fn manifest(restart: RestartPolicy) -> Manifest {
    Manifest {
        version: 1,
        kind: WorkloadKind::Process,
        command: vec!["sleep".into(), "1000".into()],
        image: None,
        env: Default::default(),
        restart,
        resources: None,
    }
}

fn hash(v: u8) -> Hash {
    Hash([v; 32])
}

fn spec(id: ReservationId, v: u8, restart: RestartPolicy) -> WorkloadSpec {
    WorkloadSpec {
        reservation: id,
        node: 1,
        deployment_hash: hash(v),
        manifest: manifest(restart),
        limits: Resources::ZERO,
    }
}

fn run(id: ReservationId, v: u8, paused: bool) -> Desired {
    Desired::Run {
        spec: spec(id, v, RestartPolicy::Always),
        paused,
    }
}

fn seen(id: ReservationId, v: u8, state: RunState) -> Actual {
    Actual {
        observed: Observed {
            reservation: id,
            deployment_hash: hash(v),
            state,
            pid: Some(100 + id as u32),
            container: None,
            started_at: 10,
            note: None,
        },
        restart_not_before: 20,
    }
}

fn map<T>(items: Vec<(ReservationId, T)>) -> BTreeMap<ReservationId, T> {
    items.into_iter().collect()
}

#[test]
fn each_lifecycle_step_gets_its_one_action() {
    let desired = map(vec![
        (1, run(1, 1, false)), // not running: start
        (2, run(2, 1, true)),  // running, in grace: pause
        (3, run(3, 1, false)), // paused, active again: resume
        (4, run(4, 2, false)), // another deployment runs: replace
        (5, run(5, 1, false)), // running as wanted: nothing
        (6, run(6, 1, true)),  // grace, nothing runs: nothing
        (8, run(8, 1, false)), // exited, backoff over: restart
        (
            9,
            Desired::Nothing {
                deployment_hash: hash(1),
                reason: "refused".into(),
            },
        ),
    ]);
    let actual = map(vec![
        (2, seen(2, 1, RunState::Running)),
        (3, seen(3, 1, RunState::Paused)),
        (4, seen(4, 1, RunState::Running)),
        (5, seen(5, 1, RunState::Running)),
        (7, seen(7, 1, RunState::Running)), // nobody wants it: remove
        (8, seen(8, 1, RunState::Exited { code: Some(1) })),
        (9, seen(9, 1, RunState::Running)), // refused now: remove
    ]);
    let got = plan(&desired, &actual, 30);
    assert_eq!(
        got,
        vec![
            Action::Start(spec(1, 1, RestartPolicy::Always)),
            Action::Pause(2),
            Action::Resume(3),
            Action::Replace(spec(4, 2, RestartPolicy::Always)),
            Action::Remove(7),
            Action::Restart(spec(8, 1, RestartPolicy::Always)),
            Action::Remove(9),
        ]
    );
}

#[test]
fn restarts_wait_for_the_backoff_and_follow_the_policy() {
    let exited = |code| map(vec![(1, seen(1, 1, RunState::Exited { code }))]);
    let with = |p| {
        map(vec![(
            1,
            Desired::Run {
                spec: spec(1, 1, p),
                paused: false,
            },
        )])
    };
    // Backoff not over at 19, over at 20.
    assert!(plan(&with(RestartPolicy::Always), &exited(Some(0)), 19).is_empty());
    assert_eq!(
        plan(&with(RestartPolicy::Always), &exited(Some(0)), 20).len(),
        1
    );
    assert!(plan(&with(RestartPolicy::OnFailure), &exited(Some(0)), 99).is_empty());
    assert_eq!(
        plan(&with(RestartPolicy::OnFailure), &exited(Some(3)), 99).len(),
        1
    );
    assert_eq!(
        plan(&with(RestartPolicy::OnFailure), &exited(None), 99).len(),
        1
    );
    assert!(plan(&with(RestartPolicy::Never), &exited(None), 99).is_empty());
    // A paused reservation's exited workload waits for the reservation.
    let paused = map(vec![(1, run(1, 1, true))]);
    assert!(plan(&paused, &exited(Some(1)), 99).is_empty());
    // A new deployment in grace: the old one goes, the new one starts once active.
    let grace_new = map(vec![(1, run(1, 2, true))]);
    let running = map(vec![(1, seen(1, 1, RunState::Running))]);
    assert_eq!(plan(&grace_new, &running, 0), vec![Action::Remove(1)]);
}

#[test]
fn backoff_doubles_and_is_capped() {
    let b: Vec<u64> = (0..9).map(restart_backoff).collect();
    assert_eq!(b, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(restart_backoff(u32::MAX), RESTART_BACKOFF_MAX_S);
}

fn reservation(state: ReservationState, node: NodeId, data: &[u8]) -> Reservation {
    Reservation {
        id: 5,
        owner: Condition::Address(tfchain_types::Address::from_public_key(
            &tfchain_types::SecretKey::from_bytes(&[1; 32]).public_key(),
        )),
        node,
        resources: Resources {
            cru: 1,
            mru: 1,
            sru: 1,
            ..Resources::ZERO
        },
        rate: Currency::from_base(1),
        escrow: Currency::from_base(10),
        settled_to: 0,
        deployment_hash: tfchain_api::deployment::deployment_hash(data),
        deployment_data: data.to_vec(),
        state,
    }
}

#[test]
fn desire_follows_the_reservation_state_and_refuses_in_words() {
    let m = br#"{"version":1,"kind":"process","command":["true"]}"#;
    let lookup = |r: &Reservation, s: &DeploymentSource| match inline_manifest(r, s) {
        Some(m) => m,
        None => Err("not inline".into()),
    };
    let d = desire(
        &reservation(ReservationState::Active, 1, m),
        1,
        WorkloadKind::Process,
        &lookup,
    );
    assert!(matches!(d, Some(Desired::Run { paused: false, .. })));
    let g = reservation(ReservationState::Grace { since: 3 }, 1, m);
    assert!(matches!(
        desire(&g, 1, WorkloadKind::Process, &lookup),
        Some(Desired::Run { paused: true, .. })
    ));
    let ended = reservation(
        ReservationState::Ended {
            at: 4,
            reason: EndReason::Cancelled,
        },
        1,
        m,
    );
    assert_eq!(desire(&ended, 1, WorkloadKind::Process, &lookup), None);
    assert_eq!(
        desire(
            &reservation(ReservationState::Active, 2, m),
            1,
            WorkloadKind::Process,
            &lookup
        ),
        None
    );
    let reason = |r: &Reservation, kind| match desire(r, 1, kind, &lookup) {
        Some(Desired::Nothing { reason, .. }) => reason,
        other => panic!("expected nothing to run, got {other:?}"),
    };
    assert!(reason(
        &reservation(ReservationState::Active, 1, m),
        WorkloadKind::Container
    )
    .contains("--runtime process"));
    assert!(reason(
        &reservation(ReservationState::Active, 1, b""),
        WorkloadKind::Process
    )
    .contains("no deployment"));
    let mut wrong = reservation(ReservationState::Active, 1, m);
    wrong.deployment_hash = hash(9);
    assert!(reason(&wrong, WorkloadKind::Process).contains("does not match"));
    let unknown = br#"{"version":1,"kind":"process","command":["true"],"privileged":true}"#;
    assert!(reason(
        &reservation(ReservationState::Active, 1, unknown),
        WorkloadKind::Process
    )
    .contains("privileged"));
    let big = br#"{"version":1,"kind":"process","command":["true"],"resources":{"cru":1,"mru":4,"sru":0,"hru":0,"ipv4":0}}"#;
    assert!(reason(
        &reservation(ReservationState::Active, 1, big),
        WorkloadKind::Process
    )
    .contains("reserved"));
}

/// What the runtime does with an action, in the model.
fn apply(actual: &mut BTreeMap<ReservationId, Actual>, a: &Action) {
    match a {
        Action::Start(s) | Action::Replace(s) | Action::Restart(s) => {
            actual.insert(
                s.reservation,
                seen(s.reservation, s.deployment_hash.0[0], RunState::Running),
            );
        }
        Action::Pause(id) => {
            if let Some(x) = actual.get_mut(id) {
                x.observed.state = RunState::Paused;
            }
        }
        Action::Resume(id) => {
            if let Some(x) = actual.get_mut(id) {
                x.observed.state = RunState::Running;
            }
        }
        Action::Remove(id) => {
            actual.remove(id);
        }
    }
}

fn desired_strategy() -> impl Strategy<Value = BTreeMap<ReservationId, Desired>> {
    proptest::collection::btree_map(
        0u64..12,
        prop_oneof![
            (1u8..3, any::<bool>()).prop_map(|(v, p)| (v, Some(p))),
            (1u8..3).prop_map(|v| (v, None)),
        ],
        0..10,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(id, (v, p))| {
                let d = match p {
                    Some(paused) => run(id, v, paused),
                    None => Desired::Nothing {
                        deployment_hash: hash(v),
                        reason: "refused".into(),
                    },
                };
                (id, d)
            })
            .collect()
    })
}

fn actual_strategy() -> impl Strategy<Value = BTreeMap<ReservationId, Actual>> {
    proptest::collection::btree_map(0u64..12, (1u8..3, 0u8..3), 0..10).prop_map(|m| {
        m.into_iter()
            .map(|(id, (v, s))| {
                let state = match s {
                    0 => RunState::Running,
                    1 => RunState::Paused,
                    _ => RunState::Exited { code: Some(1) },
                };
                (id, seen(id, v, state))
            })
            .collect()
    })
}

proptest! {
    /// One reconcile is enough: after the planned actions, nothing is left to do, nothing
    /// runs that the chain does not want, and every wanted, active deployment runs.
    #[test]
    fn one_reconcile_reaches_the_desired_state(desired in desired_strategy(), actual in actual_strategy()) {
        let mut after = actual.clone();
        let actions = plan(&desired, &actual, 1_000);
        let ids: Vec<_> = actions.iter().map(Action::reservation).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(&ids, &sorted, "one action per reservation, in order");
        for a in &actions {
            apply(&mut after, a);
        }
        prop_assert!(plan(&desired, &after, 1_000).is_empty());
        for (id, a) in &after {
            match desired.get(id) {
                Some(Desired::Run { spec, paused }) => {
                    prop_assert_eq!(a.observed.deployment_hash, spec.deployment_hash);
                    if *paused {
                        prop_assert_ne!(a.observed.state, RunState::Running);
                    } else {
                        prop_assert_eq!(a.observed.state, RunState::Running);
                    }
                }
                other => prop_assert!(false, "{} runs but the chain wants {:?}", id, other),
            }
        }
        for (id, d) in &desired {
            if let Desired::Run { paused: false, .. } = d {
                prop_assert!(after.contains_key(id), "{} is wanted and does not run", id);
            }
        }
        // The same inputs give the same plan.
        prop_assert_eq!(plan(&desired, &actual, 1_000), actions);
    }
}
