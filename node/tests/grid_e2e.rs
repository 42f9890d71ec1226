//! End-to-end tests of the capacity market (PROTOCOL.md §7) on in-process nodes: real
//! store, real JSON-RPC over HTTP and WebSocket on ephemeral ports, transactions signed
//! here and submitted with `tx_submit`. Each test runs its own node, so they run in
//! parallel; every wait polls with a timeout.

mod common;
mod grid_common;

use common::*;
use grid_common::*;
use tfchain_api::{EventFilter, GridApiClient, Quote};
use tfchain_genesis::Genesis;
use tfchain_node::store::Store;
use tfchain_types::{
    unsigned_by, Condition, Currency, EndReason, FarmName, GridEventKind as Ev, GridOp, Hash,
    NodeState, Price, ReservationState, Resources, Signature,
};

fn res(cru: u32, mru: u32, sru: u32, ipv4: u16) -> Resources {
    Resources {
        cru,
        mru,
        sru,
        hru: 0,
        ipv4,
    }
}

async fn quote(
    http: &jsonrpsee::http_client::HttpClient,
    node: u32,
    r: Resources,
    blocks: u64,
) -> Quote {
    GridApiClient::quote(http, node, r, blocks)
        .await
        .expect("grid_quote")
}

/// The events of the main-chain block at `height`.
async fn events_at(
    http: &jsonrpsee::http_client::HttpClient,
    height: u64,
) -> Vec<tfchain_api::EventInfo> {
    let page = GridApiClient::get_events(http, None, Some(height), Some(100), None)
        .await
        .expect("grid_getEvents");
    page.events
        .into_iter()
        .filter(|e| e.cursor.height == height)
        .collect()
}

/// Register a farm and a node, then reserve, top up, update and cancel on a dev node: each
/// step's state, events and money to the base unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn farm_node_and_reservation_lifecycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = GridNode::dev(dir.path().join("data")).await;
    let http = &node.http.clone();

    // A farm and its first node in one transaction: the new farm's owner consents to the
    // node (farm_auth) and the node key proves possession (node_sig).
    let farmer = dev_key(3);
    let payout = address_of(&fresh_key(0xf1, 0));
    let node_key = fresh_key(0xf2, 0);
    let capacity = res(4, 8, 100, 1);
    let price = Price {
        cru: Currency(2_000_000),
        mru: Currency(100_000),
        sru: Currency(1_000),
        hru: Currency::ZERO,
        ipv4: Currency(300_000),
    };
    let register = grid_tx(
        http,
        &farmer,
        vec![
            GridOp::RegisterFarm {
                name: FarmName("e2efarm".into()),
                owner: Condition::Address(address_of(&farmer)),
                payout,
            },
            GridOp::RegisterNode {
                farm: 2,
                node_key: node_key.public_key(),
                capacity,
                price,
                farm_auth: unsigned_by(&farmer.public_key()),
                node_sig: Signature::ZERO,
            },
        ],
        std::slice::from_ref(&node_key),
    )
    .await;
    let h_reg = confirm(http, &register).await;
    let farm = GridApiClient::get_farm(http, 2)
        .await
        .expect("grid_getFarm");
    assert_eq!(farm.name.as_str(), "e2efarm");
    assert_eq!(farm.owner, Condition::Address(address_of(&farmer)));
    assert_eq!(farm.payout, payout);
    let n3 = GridApiClient::get_node(http, 3)
        .await
        .expect("grid_getNode");
    assert_eq!(
        (
            n3.node.farm,
            n3.node.node_key,
            n3.node.capacity,
            n3.node.price
        ),
        (2, node_key.public_key(), capacity, price)
    );
    assert_eq!(
        (n3.node.used, n3.free, n3.node.state),
        (Resources::ZERO, capacity, NodeState::Up)
    );
    let ids = |v: Vec<tfchain_api::NodeInfo>| v.into_iter().map(|n| n.node.id).collect::<Vec<_>>();
    let of_farm = GridApiClient::list_nodes(http, Some(2), None, None, None)
        .await
        .expect("list");
    assert_eq!(ids(of_farm), vec![3]);
    let roomy = GridApiClient::list_nodes(http, None, Some(res(10, 0, 0, 0)), None, Some(1))
        .await
        .expect("list");
    assert_eq!(ids(roomy), vec![1], "only dev node 1 has 10 cores free");
    let farms = GridApiClient::list_farms(http, None, None)
        .await
        .expect("list");
    assert_eq!(farms.iter().map(|f| f.id).collect::<Vec<_>>(), vec![1, 2]);
    let evs = events_at(http, h_reg).await;
    assert_eq!(
        evs.iter()
            .map(|e| (e.cursor.index, e.txid, e.event.clone()))
            .collect::<Vec<_>>(),
        vec![
            (0, Some(register.txid()), Ev::FarmRegistered { farm: 2 }),
            (
                1,
                Some(register.txid()),
                Ev::NodeRegistered { node: 3, farm: 2 }
            ),
        ]
    );

    // Reserve on dev node 1 for 50 blocks at the quoted rate (§7.3: Σ price × resources).
    let owner = dev_key(4);
    let want = res(2, 4, 50, 1);
    let q = quote(http, 1, want, 50).await;
    let rate = Currency(2 * 1_000_000 + 4 * 500_000 + 50 * 10_000 + 500_000);
    assert_eq!(
        (q.rate, q.deposit, q.min_deposit),
        (rate, Currency(rate.0 * 50), Currency(rate.0 * 10))
    );
    assert!(q.available);
    let dev_node_1 = GridApiClient::get_node(http, 1).await.expect("node 1");
    // A node daemon finds its node by its key; an unknown key is NOT_FOUND.
    let by_key = GridApiClient::get_node_by_key(http, dev_node_1.node.node_key)
        .await
        .expect("node 1 by key");
    assert_eq!(
        (by_key.node.id, by_key.node.node_key),
        (1, dev_node_1.node.node_key)
    );
    let unknown = GridApiClient::get_node_by_key(http, tfchain_types::PublicKey([7; 32]))
        .await
        .expect_err("no node has this key");
    assert!(
        matches!(&unknown, jsonrpsee::core::client::Error::Call(e) if e.code() == tfchain_api::error::NOT_FOUND),
        "{unknown:?}"
    );
    let h_res = confirm(
        http,
        &grid_tx(
            http,
            &owner,
            vec![reserve_op(&owner, 1, want, q.deposit, q.rate)],
            &[],
        )
        .await,
    )
    .await;
    let r = reservation(http, 1).await;
    assert_eq!(r.reservation.state, ReservationState::Active);
    assert_eq!(
        (
            r.reservation.rate,
            r.reservation.escrow,
            r.reservation.settled_to
        ),
        (rate, q.deposit, h_res)
    );
    assert_eq!(r.owner_address, address_of(&owner));
    assert_eq!(
        r.next_change_at,
        Some(h_res + 50),
        "the deposit lasts 50 blocks"
    );
    let n1 = GridApiClient::get_node(http, 1).await.expect("node 1");
    assert_eq!(n1.node.used, want);
    assert_eq!(Some(n1.free), dev_node_1.free.checked_sub(&want));
    let by_node = GridApiClient::list_reservations(http, Some(1), None, None, None)
        .await
        .expect("list");
    let by_owner =
        GridApiClient::list_reservations(http, None, Some(address_of(&owner)), None, None)
            .await
            .expect("list");
    assert_eq!(by_node, vec![r.clone()]);
    assert_eq!(by_owner, vec![r.clone()]);

    // One core more than node 1 has free is refused: the chain enforces capacity.
    let too_big = res(n1.free.cru + 1, 0, 0, 0);
    let big_rate = Currency(1_000_000 * u128::from(too_big.cru));
    let tx = grid_tx(
        http,
        &dev_key(6),
        vec![reserve_op(
            &dev_key(6),
            1,
            too_big,
            Currency(big_rate.0 * 10),
            big_rate,
        )],
        &[],
    )
    .await;
    let data = expect_invalid(http, &tx, "capacity_exceeded").await;
    assert_eq!(
        data["sender_fault"],
        serde_json::json!(false),
        "capacity may free up"
    );
    // The values, for programs: what is free and what was asked, field by field.
    assert_eq!(data["detail"]["node"], serde_json::json!(1));
    assert_eq!(
        data["detail"]["requested"]["cru"],
        serde_json::json!(too_big.cru)
    );
    assert_eq!(
        data["detail"]["free"]["cru"],
        serde_json::json!(n1.free.cru)
    );

    // Anyone may top up; the escrow is settled to the block first (§7.4).
    let topup = Currency(rate.0 * 20);
    let h_top = confirm(
        http,
        &grid_tx(
            http,
            &dev_key(5),
            vec![GridOp::TopUp {
                reservation: 1,
                amount: topup,
            }],
            &[],
        )
        .await,
    )
    .await;
    let escrow_after_topup = Currency(q.deposit.0 - rate.0 * u128::from(h_top - h_res) + topup.0);
    assert_eq!(
        events_at(http, h_top)
            .await
            .into_iter()
            .map(|e| e.event)
            .collect::<Vec<_>>(),
        vec![Ev::ReservationFunded {
            reservation: 1,
            node: 1,
            amount: topup,
            escrow: escrow_after_topup
        }]
    );

    // The owner points the node at a new deployment.
    let h_upd = confirm(
        http,
        &grid_tx(
            http,
            &owner,
            vec![GridOp::UpdateDeployment {
                reservation: 1,
                deployment_hash: Hash([2; 32]),
                deployment_data: b"v2".to_vec(),
                owner_auth: unsigned_by(&owner.public_key()),
            }],
            &[],
        )
        .await,
    )
    .await;
    let r = reservation(http, 1).await;
    assert_eq!(
        (
            r.reservation.deployment_hash,
            r.reservation.deployment_data.as_slice()
        ),
        (Hash([2; 32]), &b"v2"[..])
    );
    assert!(events_at(http, h_upd).await.iter().any(|e| e.event
        == Ev::DeploymentUpdated {
            reservation: 1,
            node: 1,
            deployment_hash: Hash([2; 32])
        }));

    // Cancel: settled to the block, the rest refunded to the owner to the base unit.
    let h_c = confirm(
        http,
        &grid_tx(
            http,
            &owner,
            vec![GridOp::Cancel {
                reservation: 1,
                owner_auth: unsigned_by(&owner.public_key()),
            }],
            &[],
        )
        .await,
    )
    .await;
    let used_blocks = u128::from(h_c - h_res);
    let refund = Currency(q.deposit.0 + topup.0 - rate.0 * used_blocks);
    assert_eq!(
        events_at(http, h_c)
            .await
            .into_iter()
            .map(|e| e.event)
            .collect::<Vec<_>>(),
        vec![Ev::ReservationEnded {
            reservation: 1,
            node: 1,
            reason: EndReason::Cancelled,
            refund
        }]
    );
    let r = reservation(http, 1).await;
    assert_eq!(
        r.reservation.state,
        ReservationState::Ended {
            at: h_c,
            reason: EndReason::Cancelled
        }
    );
    assert_eq!(
        (r.reservation.escrow, r.next_change_at),
        (Currency::ZERO, None)
    );
    let maturity = node_params(http).await.maturity_delay;
    let paid: Vec<_> = outputs_at(http, address_of(&owner), h_c)
        .await
        .into_iter()
        .filter(|o| o.mature_at > h_c)
        .map(|o| (o.value, o.mature_at))
        .collect();
    assert_eq!(
        paid,
        vec![(refund.0, h_c + maturity)],
        "one refund payout, maturing like rewards"
    );
    let n1 = GridApiClient::get_node(http, 1).await.expect("node 1");
    assert_eq!(n1.node.used, Resources::ZERO, "capacity freed");
    assert_eq!(n1.node.earnings, Currency(rate.0 * used_blocks));
    assert!(
        GridApiClient::list_reservations(http, Some(1), None, None, None)
            .await
            .expect("list")
            .is_empty()
    );
    let s = assert_supply(http).await;
    assert_eq!(
        (s.escrow, s.unclaimed_earnings),
        (Currency::ZERO, n1.node.earnings)
    );
    node.stop().await;
}

/// The dev network with a 5-block minimum deposit and a 4-block grace period, so a
/// reservation runs out and ends within seconds.
fn short_grace_genesis() -> Genesis {
    let mut file = tfchain_genesis::builtin("dev")
        .expect("dev genesis")
        .file()
        .clone();
    file.network = "gridtest".into();
    file.params.min_reservation_blocks = 5;
    file.params.grace_period = 4;
    Genesis::new(file).expect("a valid genesis")
}

/// A minimum deposit runs out into Grace, then Ended(OutOfFunds); the farmer claims the
/// earnings (90/10 to the farm payout and the fee address). A subscriber that reconnects
/// with its last cursor across a node restart sees every event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_funds_claim_and_a_subscriber_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let genesis = short_grace_genesis();
    let mut node = GridNode::start(genesis.clone(), dir.path().join("data")).await;
    let genesis_events = all_events(&node.http, None).await;
    assert_eq!(
        genesis_events
            .iter()
            .map(|e| (e.cursor.height, e.event.clone()))
            .collect::<Vec<_>>(),
        vec![
            (0, Ev::FarmRegistered { farm: 1 }),
            (0, Ev::NodeRegistered { node: 1, farm: 1 }),
            (0, Ev::NodeRegistered { node: 2, farm: 1 }),
        ]
    );
    let c0 = genesis_events.last().map(|e| e.cursor);
    let ws = node.ws().await;
    let mut sub = subscribe(
        &ws,
        EventFilter {
            after: c0,
            ..EventFilter::default()
        },
    )
    .await;
    // Farm 1's events: its nodes' reservations, which name only the node, included.
    let mut of_farm = subscribe(
        &ws,
        EventFilter {
            farm: Some(1),
            after: c0,
            ..EventFilter::default()
        },
    )
    .await;
    let mut seen = Vec::new();

    let owner = dev_key(4);
    let one_core = res(1, 0, 0, 0);
    let q = quote(&node.http, 2, one_core, 5).await;
    assert_eq!(
        (q.rate, q.deposit, q.min_deposit),
        (
            Currency(1_000_000),
            Currency(5_000_000),
            Currency(5_000_000)
        )
    );
    let tx = grid_tx(
        &node.http,
        &owner,
        vec![reserve_op(&owner, 2, one_core, q.min_deposit, q.rate)],
        &[],
    )
    .await;
    let h0 = confirm(&node.http, &tx).await;
    events_until(&mut sub, &mut seen, 8, |e| {
        is(e, |k| {
            matches!(k, Ev::ReservationGrace { reservation: 1, .. })
        })
    })
    .await;
    let grace = seen.last().map(|e| e.cursor.height);
    assert_eq!(
        grace,
        Some(h0 + 5),
        "the minimum deposit lasts min_reservation_blocks"
    );
    let r = reservation(&node.http, 1).await;
    assert_eq!(
        r.reservation.state,
        ReservationState::Grace { since: h0 + 5 }
    );
    assert_eq!(
        (r.reservation.escrow, r.next_change_at),
        (Currency::ZERO, Some(h0 + 9))
    );
    let n2 = GridApiClient::get_node(&node.http, 2)
        .await
        .expect("node 2");
    assert_eq!(
        (n2.node.earnings, n2.node.used),
        (q.deposit, one_core),
        "capacity stays reserved in grace"
    );

    let mut farm_seen = Vec::new();
    events_until(&mut of_farm, &mut farm_seen, 2, |e| {
        is(e, |k| matches!(k, Ev::ReservationGrace { .. }))
    })
    .await;
    assert_eq!(farm_seen, seen, "everything so far concerns farm 1");

    // Restart: the subscriptions end with the connection.
    drop(of_farm);
    drop(sub);
    drop(ws);
    let last = seen.last().map(|e| e.cursor);
    node.restart().await;
    let http = &node.http.clone();
    let r = wait_reservation(http, 1, blocks_timeout(6), |r| !r.reservation.is_live()).await;
    assert_eq!(
        r.reservation.state,
        ReservationState::Ended {
            at: h0 + 9,
            reason: EndReason::OutOfFunds
        }
    );
    let n2 = GridApiClient::get_node(http, 2).await.expect("node 2");
    assert_eq!(
        (n2.node.earnings, n2.node.used),
        (q.deposit, Resources::ZERO)
    );

    // The farm owner (dev key 1) claims; dev key 6 pays the fee.
    let claim = GridOp::Claim {
        node: 2,
        farm_auth: unsigned_by(&dev_key(1).public_key()),
    };
    let h_claim = confirm(
        http,
        &grid_tx(http, &dev_key(6), vec![claim], &[dev_key(1)]).await,
    )
    .await;
    let (farmer, network) = (Currency(4_500_000), Currency(500_000));
    let to_farm: Vec<u128> = outputs_at(http, address_of(&dev_key(1)), h_claim)
        .await
        .iter()
        .map(|o| o.value)
        .collect();
    assert_eq!(to_farm, vec![farmer.0], "90% to the farm's payout address");
    let fee_address = genesis.params().fee_address.expect("a fee address");
    assert_eq!(fee_address, address_of(&dev_key(9)));
    let to_network: Vec<u128> = outputs_at(http, fee_address, h_claim)
        .await
        .iter()
        .map(|o| o.value)
        .collect();
    assert!(
        to_network.contains(&network.0),
        "10% to the fee address: {to_network:?}"
    );
    assert_eq!(
        GridApiClient::get_node(http, 2)
            .await
            .expect("node 2")
            .node
            .earnings,
        Currency::ZERO
    );

    // Back with the last cursor: what happened meanwhile is replayed, then live.
    let ws = node.ws().await;
    let mut sub = subscribe(
        &ws,
        EventFilter {
            after: last,
            ..EventFilter::default()
        },
    )
    .await;
    events_until(&mut sub, &mut seen, 4, |e| {
        is(e, |k| matches!(k, Ev::EarningsClaimed { .. }))
    })
    .await;
    let log = all_events(http, c0).await;
    assert_eq!(seen, log, "every event once, in chain order");
    let kinds: Vec<Ev> = seen.iter().map(|e| e.event.clone()).collect();
    assert!(kinds.contains(&Ev::ReservationEnded {
        reservation: 1,
        node: 2,
        reason: EndReason::OutOfFunds,
        refund: Currency::ZERO
    }));
    assert_eq!(
        kinds.last(),
        Some(&Ev::EarningsClaimed {
            node: 2,
            farm: 1,
            farmer,
            network
        })
    );
    let of_node_2 = GridApiClient::get_events(http, Some(2), Some(1), None, None)
        .await
        .expect("events");
    assert_eq!(
        of_node_2.events,
        log.iter()
            .filter(|e| e.event.node() == Some(2))
            .cloned()
            .collect::<Vec<_>>()
    );
    let s = assert_supply_of(http, &genesis).await;
    assert_eq!(
        (s.escrow, s.unclaimed_earnings),
        (Currency::ZERO, Currency::ZERO)
    );
    node.stop().await;
}

/// A block rolled back (as `tfchaind rollback` does) while a subscriber was away: coming
/// back with a cursor into it, the subscriber hears the revert first, then the new chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_block_is_reported_reverted_to_a_returning_subscriber() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let mut node = GridNode::dev(data_dir.clone()).await;
    let c0 = all_events(&node.http, None).await.last().map(|e| e.cursor);
    let ws = node.ws().await;
    let mut sub = subscribe(
        &ws,
        EventFilter {
            after: c0,
            ..EventFilter::default()
        },
    )
    .await;
    let farmer = dev_key(3);
    let register = GridOp::RegisterFarm {
        name: FarmName("ephemeral".into()),
        owner: Condition::Address(address_of(&farmer)),
        payout: address_of(&farmer),
    };
    let h_f = confirm(
        &node.http,
        &grid_tx(&node.http, &farmer, vec![register.clone()], &[]).await,
    )
    .await;
    let mut seen = Vec::new();
    events_until(&mut sub, &mut seen, 3, |e| {
        is(e, |k| *k == Ev::FarmRegistered { farm: 2 })
    })
    .await;
    let cf = seen.last().map(|e| e.cursor).expect("an event");
    assert_eq!(cf.height, h_f);
    drop(sub);
    drop(ws);

    node.stop().await;
    {
        let store = Store::open(&data_dir, &node.genesis).expect("open the stopped node's store");
        let tip = store.tip().height;
        store.rollback(tip - h_f + 1).expect("rollback");
        assert_eq!(store.tip().height, h_f - 1);
        assert!(!store.side_events(&cf.block).expect("read").is_empty());
    }
    node.restart().await;
    let http = &node.http.clone();
    let gone = call_error(GridApiClient::get_farm(http, 2).await, "farm 2");
    assert_eq!(gone.code(), tfchain_api::error::NOT_FOUND);

    // By page: the revert, then on from the fork.
    let page = GridApiClient::get_events(http, None, None, None, Some(cf))
        .await
        .expect("events");
    let first = page.events.first().expect("the revert");
    assert_eq!(
        (first.cursor, first.reverted, &first.event),
        (cf, true, &Ev::FarmRegistered { farm: 2 })
    );
    if let Some(next) = page.next {
        let more = GridApiClient::get_events(http, None, None, None, Some(next))
            .await
            .expect("events");
        assert!(more.events.iter().all(|e| !e.reverted), "reported once");
    }

    // By subscription: the revert first, then the farm registered again on the new chain.
    let ws = node.ws().await;
    let mut sub = subscribe(
        &ws,
        EventFilter {
            after: Some(cf),
            ..EventFilter::default()
        },
    )
    .await;
    let mut back = Vec::new();
    events_until(&mut sub, &mut back, 2, |e| e.reverted).await;
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].cursor, &back[0].event),
        (cf, &Ev::FarmRegistered { farm: 2 })
    );
    let h_again = confirm(http, &grid_tx(http, &farmer, vec![register], &[]).await).await;
    events_until(&mut sub, &mut back, 3, |e| {
        is(e, |k| *k == Ev::FarmRegistered { farm: 2 })
    })
    .await;
    let again = back.last().expect("an event");
    assert_eq!(again.cursor.height, h_again);
    assert_ne!(again.cursor.block, cf.block);
    assert_supply(http).await;
    node.stop().await;
}

async fn node_params(http: &jsonrpsee::http_client::HttpClient) -> tfchain_consensus::ChainParams {
    tfchain_api::ConsensusApiClient::get_params(http)
        .await
        .expect("consensus_getParams")
}
