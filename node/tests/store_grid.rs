//! The capacity market in the store (PROTOCOL.md §6, §7): grid records, escrow and earnings
//! totals and the event log through commit, undo, re-apply and the consistency repair,
//! against the in-memory reference state. Undone blocks' events are reported reverted to
//! readers whose position names them (§7.5).

mod store_common;

use std::collections::BTreeMap;
use store_common::*;
use tfchain_consensus::testkit::{address_of, grid_tx, test_key, TestChain};
use tfchain_contracts::{GridKey, GridValue};
use tfchain_node::store::{LogEvent, Store};
use tfchain_types::{
    codec, unsigned_by, Condition, Currency, FarmName, GridEventKind, GridOp, Hash, Price,
    Resources, SecretKey, Signature,
};

const CAPACITY: Resources = Resources {
    cru: 8,
    mru: 16,
    sru: 100,
    hru: 0,
    ipv4: 1,
};

fn price() -> Price {
    Price {
        cru: Currency(1_000),
        mru: Currency(100),
        sru: Currency(10),
        hru: Currency::ZERO,
        ipv4: Currency(500),
    }
}

/// Every grid record of the store, by key.
fn store_grid(store: &Store) -> BTreeMap<GridKey, GridValue> {
    let keys = store
        .grid_keys(&GridKey::Counters, &GridKey::Expiry(u64::MAX, u64::MAX))
        .expect("grid scan");
    keys.into_iter()
        .map(|k| {
            let v = store.grid_value(&k).expect("read").expect("listed key");
            (k, v)
        })
        .collect()
}

/// The store's grid and totals equal the memory state's.
fn assert_grid_same(store: &Store, chain: &TestChain) {
    assert_same(store, &chain.state);
    assert_eq!(store_grid(store), chain.state.grid.0, "grid records");
    let t = store.totals();
    let held = chain.state.grid_held();
    assert_eq!(
        t.escrow.checked_add(t.earnings),
        Some(held),
        "escrow + earnings"
    );
    assert_eq!(
        t.coins.checked_add(held),
        Some(chain.expected_supply()),
        "PROTOCOL.md §6 at height {}",
        store.tip().height
    );
}

/// Block 1 registers a farm (owner `funded[1]`) with one node; block 2 reserves on it.
fn grid_chain(dir: &std::path::Path) -> (TestChain, Store, SecretKey) {
    let mut chain = test_chain();
    let store = open(dir, &chain).expect("open");
    let owner = chain.funded[1].clone();
    let node_key = test_key(9, 0);
    let register = grid_tx(
        &chain,
        &chain.funded[0],
        vec![
            GridOp::RegisterFarm {
                name: FarmName("storefarm".into()),
                owner: Condition::Address(address_of(&owner)),
                payout: address_of(&owner),
            },
            GridOp::RegisterNode {
                farm: 1,
                node_key: node_key.public_key(),
                capacity: CAPACITY,
                price: price(),
                farm_auth: unsigned_by(&owner.public_key()),
                node_sig: Signature::ZERO,
            },
        ],
        &[owner.clone(), node_key],
    )
    .expect("funded");
    step(&mut chain, &store, vec![register]);
    assert_grid_same(&store, &chain);
    (chain, store, owner)
}

/// A reservation of `cru` cores on node 1 by funded key `payer`, paid for `blocks` blocks.
fn reserve(chain: &TestChain, payer: usize, cru: u32, blocks: u128) -> tfchain_types::Transaction {
    let payer = &chain.funded[payer];
    let resources = Resources {
        cru,
        ..Resources::ZERO
    };
    let rate = price().rate(&resources).expect("rate");
    grid_tx(
        chain,
        payer,
        vec![GridOp::Reserve {
            node: 1,
            resources,
            deposit: Currency(rate.0 * blocks),
            max_rate: rate,
            deployment_hash: Hash([7; 32]),
            deployment_data: b"vm".to_vec(),
            owner: Condition::Address(address_of(payer)),
        }],
        &[],
    )
    .expect("funded")
}

fn kinds(events: &[LogEvent]) -> Vec<(u64, u32, bool)> {
    events
        .iter()
        .map(|e| (e.position.height, e.position.index, e.reverted))
        .collect()
}

#[test]
fn undo_restores_grid_records_and_reports_the_events_reverted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, _) = grid_chain(dir.path());
    let before = store_grid(&store);
    let (b2, out2) = {
        let tx = reserve(&chain, 2, 2, 20);
        step(&mut chain, &store, vec![tx])
    };
    assert_grid_same(&store, &chain);
    assert!(
        store.totals().escrow > Currency::ZERO,
        "the deposit is escrow"
    );
    assert!(matches!(
        out2.events.as_slice(),
        [e] if matches!(e.kind, GridEventKind::ReservationCreated { reservation: 1, node: 1, .. })
    ));

    // A reader that saw block 2's event, and one that started live at block 2.
    let mut seen = store.log_position(2, 0, b2.id()).expect("cursor");
    let mut live = store.log_position_at_tip();
    assert!(store
        .read_log(&mut seen, None, |_| true, 10)
        .expect("read")
        .is_empty());

    assert_eq!(store.undo_tip().expect("undo"), b2);
    assert!(chain.state.undo_tip());
    assert_grid_same(&store, &chain);
    assert_eq!(
        store_grid(&store),
        before,
        "the reservation and its indexes are gone"
    );
    assert_eq!(store.totals().escrow, Currency::ZERO);
    assert!(store
        .events(None, None, 100)
        .expect("read")
        .iter()
        .all(|e| e.position.height < 2));
    assert!(store
        .events(Some(1), None, 100)
        .expect("read")
        .iter()
        .all(|e| e.position.height < 2));
    assert_eq!(store.side_events(&b2.id()).expect("read"), out2.events);

    let reverted = store.read_log(&mut seen, None, |_| true, 10).expect("read");
    assert_eq!(kinds(&reverted), vec![(2, 0, true)]);
    assert_eq!(reverted[0].event, out2.events[0]);
    assert_eq!(reverted[0].block, b2.id());
    assert_eq!((seen.height, seen.block), (1, b1_id(&store)));
    assert!(
        store
            .read_log(&mut live, None, |_| true, 10)
            .expect("read")
            .is_empty(),
        "a reader that never saw block 2's events is owed no revert"
    );

    // Another block 2 (a bigger reservation by someone else): both readers go forward.
    let (b2x, out2x) = {
        let tx = reserve(&chain, 3, 3, 30);
        step(&mut chain, &store, vec![tx])
    };
    assert_ne!(b2x.id(), b2.id());
    assert_grid_same(&store, &chain);
    for pos in [&mut seen, &mut live] {
        let got = store.read_log(pos, None, |_| true, 10).expect("read");
        assert_eq!(kinds(&got), vec![(2, 0, false)]);
        assert_eq!(got[0].event, out2x.events[0]);
    }

    // Back to the first block 2: its side events go, the other's are kept.
    store.undo_tip().expect("undo");
    assert!(chain.state.undo_tip());
    let view = store.view();
    let again = tfchain_consensus::apply_block(&view, &b2, &chain.params, b2.header.timestamp)
        .expect("still valid");
    view.finish().expect("reads");
    store.commit_block(&b2, &again).expect("re-commit");
    chain
        .state
        .apply(&b2, &chain.params, b2.header.timestamp)
        .expect("memory re-apply");
    assert_grid_same(&store, &chain);
    assert!(store.side_events(&b2.id()).expect("read").is_empty());
    assert_eq!(store.side_events(&b2x.id()).expect("read"), out2x.events);
    let report = store.check_consistency().expect("check");
    assert_eq!(report.repaired, None);
    assert_eq!(report.escrow, store.totals().escrow);
    assert_eq!(report.earnings, store.totals().earnings);
}

fn b1_id(store: &Store) -> tfchain_types::BlockId {
    store.block_id_at(1).expect("read").expect("block 1")
}

#[test]
fn a_grid_record_that_disagrees_with_the_tip_is_repaired_by_rolling_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, _) = grid_chain(dir.path());
    let (b2, out2) = {
        let tx = reserve(&chain, 2, 1, 15);
        step(&mut chain, &store, vec![tx])
    };
    // Damage the node record block 2 wrote (as a bug or a bad disk might).
    let Some(GridValue::Node(mut node)) = store.grid_value(&GridKey::Node(1)).expect("read") else {
        panic!("node 1 is stored");
    };
    node.used = Resources::ZERO;
    let mut raw = vec![0x50];
    raw.extend(GridKey::Node(1).storage_key());
    store
        .raw_tree_for_tests()
        .insert(raw, codec::encode(&GridValue::Node(node)))
        .expect("raw write");
    drop(store);

    let store = open(dir.path(), &chain).expect("reopen repairs");
    let repaired = store.open_report().repaired.clone().expect("a repair");
    assert!(repaired.contains("grid records"), "{repaired}");
    assert_eq!(store.tip().height, 1, "block 2 rolled back");
    assert!(chain.state.undo_tip());
    assert_grid_same(&store, &chain);
    assert_eq!(store.side_events(&b2.id()).expect("read"), out2.events);
    let mut pos = store.log_position(2, 0, b2.id()).expect("cursor");
    let got = store
        .read_log(&mut pos, Some(1), |_| true, 10)
        .expect("read");
    assert_eq!(kinds(&got), vec![(2, 0, true)]);
}

#[test]
fn escrow_moves_to_earnings_and_out_as_the_chain_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut chain, store, owner) = grid_chain(dir.path());
    // min_reservation_blocks = 10: this deposit lasts exactly 10 blocks, then 30 of grace.
    {
        let tx = reserve(&chain, 2, 1, 10);
        step(&mut chain, &store, vec![tx])
    };
    for _ in 0..12 {
        step(&mut chain, &store, vec![]);
        assert_grid_same(&store, &chain);
    }
    let t = store.totals();
    assert_eq!(t.escrow, Currency::ZERO, "the deposit ran out");
    assert_eq!(
        t.earnings,
        Currency(1_000 * 10),
        "all of it settled to the node"
    );
    let claim = grid_tx(
        &chain,
        &owner,
        vec![GridOp::Claim {
            node: 1,
            farm_auth: unsigned_by(&owner.public_key()),
        }],
        &[],
    )
    .expect("funded");
    step(&mut chain, &store, vec![claim]);
    assert_grid_same(&store, &chain);
    assert_eq!(store.totals().earnings, Currency::ZERO, "claimed");
    // Undo the claim and the blocks before it: the totals follow exactly.
    for _ in 0..5 {
        store.undo_tip().expect("undo");
        assert!(chain.state.undo_tip());
        assert_grid_same(&store, &chain);
    }
    assert_eq!(store.check_consistency().expect("check").repaired, None);
}
