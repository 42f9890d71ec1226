//! The chain writer's fork paths (`node/src/chain/{writer,reorg,side}.rs`, PROTOCOL.md §5.8)
//! on a real `ChainWriter` over a real store in a temporary directory, with a manual clock:
//! side chains, reorganisations (compared with a reference store that only ever saw the
//! winning branch, and with the branch's in-memory state), `max_reorg_depth`, invalid
//! branches and blocks already known to be invalid.
//!
//! Blocks are built off-line by the real lottery and real signatures (`TestChain` clones
//! taken at the fork point). The main chain is produced by validator 0 and every competing
//! branch by validator 1, so competing blocks never share a stake output. Below the first
//! retarget height (10) every block carries the same work, so "heavier" means "longer".

mod forks_common;
mod store_common;

use forks_common::*;
use store_common::{assert_indexes_exact, assert_same, tft};
use tfchain_consensus::testkit::{address_of, dev_params, TestChain};
use tfchain_consensus::{BlockError, ChainParams, StateView, TxError};
use tfchain_node::chain::{BlockVerdict, ChainError};
use tfchain_node::clock::Clock;
use tfchain_node::store::{BlockIndexEntry, BlockStatus};
use tfchain_types::{Address, Block, BlockId, TxId};

const MAIN: usize = 0;
const SIDE: usize = 1;

fn connected(height: u64) -> BlockVerdict {
    BlockVerdict::Connected {
        height,
        reorged: false,
    }
}

fn ids(blocks: &[&Block]) -> Vec<BlockId> {
    blocks.iter().map(|b| b.id()).collect()
}

/// The addresses whose outputs and history the comparisons look at: every funded key, both
/// validators and the fresh recipients `tags`.
fn addresses(chain: &TestChain, tags: &[u8]) -> Vec<Address> {
    chain
        .funded
        .iter()
        .chain(&chain.validators)
        .map(address_of)
        .chain(tags.iter().map(|t| fresh_address(*t)))
        .collect()
}

/// A fork off block 1 (which carries a payment both branches share): the main chain
/// m2, m3 (validator 0) and a competing branch b2, b3, b4 (validator 1). `b2` spends funded
/// key 0's coin like `m2` does but pays someone else (the two conflict), and `b3` spends
/// the change `b2` created; `m3` pays from funded key 3, which the branch never touches.
struct Fork {
    genesis: TestChain,
    main: TestChain,
    side: TestChain,
    m1: Block,
    m2: Block,
    m3: Block,
    b2: Block,
    b3: Block,
    b4: Block,
    /// Transactions: in m1 (shared), m2, m3 (main only), b2 (2 of them), b3 (branch only).
    tx_m1: TxId,
    tx_m2: TxId,
    tx_m3: TxId,
    tx_b2: Vec<TxId>,
    tx_b3: TxId,
}

const X: u8 = 0xA1;
const Y: u8 = 0xA2;
const Z: u8 = 0xA3;
const W: u8 = 0xA4;
const V: u8 = 0xA5;

impl Fork {
    fn new(params: ChainParams) -> Fork {
        let genesis = two_validators(params);
        let mut main = genesis.clone();
        let t1 = pay(&main, 2, fresh_address(V), tft(1));
        let m1 = push(&mut main, MAIN, vec![t1.clone()]);
        let mut side = main.clone();

        let t2 = pay(&main, 0, fresh_address(X), tft(5));
        let m2 = push(&mut main, MAIN, vec![t2.clone()]);
        let t3 = pay(&main, 3, fresh_address(X), tft(6));
        let m3 = push(&mut main, MAIN, vec![t3.clone()]);

        // The same coin of funded key 0 that m2 spends, paid to Z instead.
        let b2a = pay(&side, 0, fresh_address(Z), tft(7));
        let b2b = pay(&side, 1, fresh_address(Y), tft(8));
        let b2 = push(&mut side, SIDE, vec![b2a.clone(), b2b.clone()]);
        // Spends the change b2 gave funded key 1.
        let b3t = pay(&side, 1, fresh_address(W), tft(3));
        assert_eq!(
            b3t.coin_inputs[0].parent,
            outputs_of(&b2b)[1],
            "b3 spends the change of b2"
        );
        let b3 = push(&mut side, SIDE, vec![b3t.clone()]);
        let b4 = push(&mut side, SIDE, vec![]);
        assert_eq!(
            side.state.chain[3].total_work, main.state.chain[3].total_work,
            "precondition: b3 weighs what m3 weighs"
        );
        assert!(
            side.state.tip().total_work > main.state.tip().total_work,
            "precondition: b4 makes the branch heavier"
        );
        Fork {
            genesis,
            main,
            side,
            m1,
            m2,
            m3,
            b2,
            b3,
            b4,
            tx_m1: t1.txid(),
            tx_m2: t2.txid(),
            tx_m3: t3.txid(),
            tx_b2: vec![b2a.txid(), b2b.txid()],
            tx_b3: b3t.txid(),
        }
    }

    fn addresses(&self) -> Vec<Address> {
        addresses(&self.genesis, &[X, Y, Z, W, V])
    }

    fn txids(&self) -> Vec<TxId> {
        let mut t = vec![self.tx_m1, self.tx_m2, self.tx_m3, self.tx_b3];
        t.extend(&self.tx_b2);
        t
    }

    /// A node on m1, m2, m3.
    fn node_on_main(&self) -> Node {
        let mut node = Node::new(&self.genesis);
        node.submit_all(&[self.m1.clone(), self.m2.clone(), self.m3.clone()], |i| {
            connected(i as u64 + 1)
        });
        node.events();
        node
    }
}

/// 1. A valid competing block at the tip's height (equal work, not heavier) is a side-chain
///    block: stored aside with its index entry, the tip and the whole state untouched.
#[test]
fn a_competing_block_that_is_not_heavier_is_kept_on_a_side_chain() {
    let f = Fork::new(dev_params());
    let mut node = Node::new(&f.genesis);
    node.submit_all(&[f.m1.clone(), f.m2.clone()], |i| connected(i as u64 + 1));
    node.events();
    let before = node.snapshot(&f.addresses(), &f.txids());
    let mut main2 = f.genesis.clone();
    push_replay(&mut main2, &[&f.m1, &f.m2]);
    assert_same(&node.store, &main2.state);

    assert_eq!(
        f.side.state.chain[2].total_work,
        main2.state.tip().total_work,
        "precondition: b2 weighs what m2 weighs"
    );
    assert_eq!(
        node.submit(&f.b2).expect("b2 is valid"),
        BlockVerdict::SideChain
    );

    // The tip, the totals, the outputs, the indexes: as before.
    assert_eq!(node.snapshot(&f.addresses(), &f.txids()), before);
    assert_same(&node.store, &main2.state);
    assert_indexes_exact(&node.store);
    assert_eq!(node.store.tip().id, f.m2.id());
    assert_eq!(node.store.block_id_at(2).expect("read"), Some(f.m2.id()));
    assert!(node.events().is_empty(), "a side block is not announced");
    // b2's transactions are not confirmed and its outputs do not exist...
    for t in &f.tx_b2 {
        assert_eq!(node.store.tx_location(t).expect("read"), None);
    }
    for o in outputs_of_block(&f.b2) {
        assert_eq!(node.store.coin(&o).expect("read"), None, "side output {o}");
    }
    // ...but the block is stored as a side block, with the meta its branch gives it.
    assert_eq!(
        node.store.index_entry(&f.b2.id()).expect("read"),
        Some(BlockIndexEntry {
            meta: f.side.state.chain[2].clone(),
            parent: f.m1.id(),
            status: BlockStatus::Stored,
        })
    );
    assert_eq!(
        node.store.block(&f.b2.id()).expect("read"),
        Some(f.b2.clone())
    );

    // Seen again: already known, nothing changes.
    assert_eq!(
        node.submit(&f.b2).expect("b2 again"),
        BlockVerdict::AlreadyKnown
    );
    assert_eq!(node.snapshot(&f.addresses(), &f.txids()), before);

    // A shorter competing branch (b2 against m2, m3) is a side chain too.
    let mut node = f.node_on_main();
    let before = node.snapshot(&f.addresses(), &f.txids());
    assert_eq!(
        node.submit(&f.b2).expect("b2 is valid"),
        BlockVerdict::SideChain
    );
    assert_eq!(
        node.submit(&f.b3).expect("b3 is valid"),
        BlockVerdict::SideChain
    );
    assert_eq!(node.snapshot(&f.addresses(), &f.txids()), before);
    assert_eq!(node.status(&f.b3.id()), Some(BlockStatus::Stored));
    assert!(node.events().is_empty());
}

/// Applies already built blocks to a chain's memory state.
fn push_replay(chain: &mut TestChain, blocks: &[&Block]) {
    for b in blocks {
        chain
            .state
            .apply(b, &chain.params, b.header.timestamp)
            .expect("replayed block is valid");
    }
}

fn outputs_of_block(b: &Block) -> Vec<tfchain_types::OutputId> {
    b.transactions.iter().flat_map(outputs_of).collect()
}

/// 2. A heavier branch reorganises the chain: the main blocks above the fork are undone
///    (their transactions unconfirmed, their outputs gone, what they spent restored unless
///    the branch spends it too) and the branch applied; the store then equals a reference
///    store that only ever saw the branch, and the branch's in-memory state.
#[test]
fn a_heavier_branch_reorganises_to_exactly_the_branch_state() {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    let reference = Node::reference(
        &f.genesis,
        &[f.m1.clone(), f.b2.clone(), f.b3.clone(), f.b4.clone()],
    );

    assert_eq!(node.submit(&f.b2).expect("b2"), BlockVerdict::SideChain);
    assert_eq!(node.submit(&f.b3).expect("b3"), BlockVerdict::SideChain);
    assert_eq!(
        node.submit(&f.b4).expect("b4 is valid"),
        BlockVerdict::Connected {
            height: 4,
            reorged: true
        }
    );

    // The tip is the branch tip; the main chain is genesis, m1, b2, b3, b4.
    assert_eq!(node.store.tip(), f.side.state.tip());
    let want_main: Vec<BlockId> = std::iter::once(f.genesis.genesis.id())
        .chain(ids(&[&f.m1, &f.b2, &f.b3, &f.b4]))
        .collect();
    let snap = node.snapshot(&f.addresses(), &f.txids());
    assert_eq!(snap.main, want_main);
    // Everything equals the store that only saw the branch: tip, totals, every unspent
    // output, every address's outputs and history, the transaction index.
    assert_eq!(snap, reference.snapshot(&f.addresses(), &f.txids()));
    assert_same(&node.store, &f.side.state);
    assert_indexes_exact(&node.store);
    assert_eq!(snap.totals.coins, f.side.expected_supply(), "the §6 supply");

    // The undone blocks' transactions are unconfirmed, their outputs gone; the branch's
    // are confirmed and present.
    for t in [f.tx_m2, f.tx_m3] {
        assert_eq!(snap.txs[&t], None, "undone transaction {t} still indexed");
    }
    for o in outputs_of_block(&f.m2)
        .into_iter()
        .chain(outputs_of_block(&f.m3))
    {
        assert_eq!(
            node.store.coin(&o).expect("read"),
            None,
            "undone output {o}"
        );
    }
    assert!(
        node.store
            .address_outputs(&fresh_address(X))
            .expect("read")
            .is_empty(),
        "X was paid only by the undone blocks"
    );
    assert_eq!(
        snap.txs[&f.tx_m1].map(|l| l.block),
        Some(f.m1.id()),
        "the shared block stays"
    );
    for (t, b) in [(f.tx_b2[0], &f.b2), (f.tx_b2[1], &f.b2), (f.tx_b3, &f.b3)] {
        assert_eq!(snap.txs[&t].map(|l| l.block), Some(b.id()), "branch tx {t}");
    }
    // What m3 spent (funded key 3's genesis coin) is unspent again.
    let k3_coin = coin_of(&f.genesis, 3).0;
    assert!(node.store.coin(&k3_coin).expect("read").is_some());

    // Block statuses: the undone blocks stay stored, the branch is on the main chain.
    for b in [&f.m2, &f.m3] {
        assert_eq!(
            node.status(&b.id()),
            Some(BlockStatus::Stored),
            "undone {}",
            b.id()
        );
    }
    for b in [&f.m1, &f.b2, &f.b3, &f.b4] {
        assert_eq!(node.status(&b.id()), Some(BlockStatus::OnMain));
    }

    // Subscribers saw one event: m3 then m2 undone, b2, b3, b4 applied, in that order.
    assert_eq!(
        node.events(),
        vec![Seen::Reorganized {
            undone: vec![f.m3.id(), f.m2.id()],
            applied: vec![f.b2.id(), f.b3.id(), f.b4.id()],
        }]
    );
    // The pool got back m3's payment (still valid on the branch), not m2's (b2 spent its
    // input), and holds nothing the branch confirmed.
    let pool = node.pool.lock();
    assert!(pool.contains(&f.tx_m3), "m3's payment is back in the pool");
    assert!(!pool.contains(&f.tx_m2), "m2's payment conflicts with b2");
    for t in f.tx_b2.iter().chain([&f.tx_b3]) {
        assert!(!pool.contains(t));
    }
}

/// 2b. Reorganising back: the first chain grows heavier again, and the node returns to it
///     through blocks that are now stored side blocks (undone by the first reorganisation,
///     their diffs recomputed from their bodies).
#[test]
fn the_first_chain_growing_heavier_again_reorganises_back() {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    node.submit_all(&[f.b2.clone(), f.b3.clone()], |_| BlockVerdict::SideChain);
    assert!(matches!(
        node.submit(&f.b4),
        Ok(BlockVerdict::Connected { reorged: true, .. })
    ));
    node.events();

    let mut main = f.main.clone();
    let m4 = push(&mut main, MAIN, vec![]);
    let m5 = push(&mut main, MAIN, vec![]);
    assert_eq!(node.submit(&m4).expect("m4"), BlockVerdict::SideChain);
    assert_eq!(
        node.submit(&m5).expect("m5"),
        BlockVerdict::Connected {
            height: 5,
            reorged: true
        }
    );
    let reference = Node::reference(
        &f.genesis,
        &[
            f.m1.clone(),
            f.m2.clone(),
            f.m3.clone(),
            m4.clone(),
            m5.clone(),
        ],
    );
    assert_eq!(
        node.snapshot(&f.addresses(), &f.txids()),
        reference.snapshot(&f.addresses(), &f.txids())
    );
    assert_same(&node.store, &main.state);
    assert_indexes_exact(&node.store);
    assert_eq!(
        node.events(),
        vec![Seen::Reorganized {
            undone: vec![f.b4.id(), f.b3.id(), f.b2.id()],
            applied: vec![f.m2.id(), f.m3.id(), m4.id(), m5.id()],
        }]
    );
    for b in [&f.b2, &f.b3, &f.b4] {
        assert_eq!(node.status(&b.id()), Some(BlockStatus::Stored));
    }
}

/// 2c. A heavier branch delivered children first: b4 and b3 are held for want of a
///     parent; b2 then joins the side chain, its held descendants follow, and the last of
///     them switches the chain, to exactly the state of the reference.
#[test]
fn a_branch_delivered_children_first_reorganises_once_its_first_block_arrives() {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    let reference = Node::reference(
        &f.genesis,
        &[f.m1.clone(), f.b2.clone(), f.b3.clone(), f.b4.clone()],
    );
    node.clock.set(f.b4.header.timestamp);
    assert_eq!(node.submit(&f.b4).expect("b4"), BlockVerdict::Held);
    assert_eq!(node.submit(&f.b3).expect("b3"), BlockVerdict::Held);
    assert_eq!(node.store.tip().id, f.m3.id());
    assert!(node.events().is_empty());
    // b2 itself is a side block (the verdict is b2's); what it unblocks reorganises the
    // chain.
    let v = node.submit(&f.b2);
    assert!(
        matches!(
            v,
            Ok(BlockVerdict::SideChain | BlockVerdict::Connected { .. })
        ),
        "b2: {v:?}"
    );
    assert_eq!(node.store.tip(), f.side.state.tip());
    assert_eq!(
        node.snapshot(&f.addresses(), &f.txids()),
        reference.snapshot(&f.addresses(), &f.txids())
    );
    assert_same(&node.store, &f.side.state);
    assert_indexes_exact(&node.store);
    assert_eq!(
        node.events(),
        vec![Seen::Reorganized {
            undone: vec![f.m3.id(), f.m2.id()],
            applied: vec![f.b2.id(), f.b3.id(), f.b4.id()],
        }]
    );
}

/// 3. `max_reorg_depth`: a branch forking more than `max_reorg_depth` blocks below the tip
///    is refused however heavy it would grow, and the tip stays; one forking exactly
///    `max_reorg_depth` below is still followed.
#[test]
fn a_branch_forking_deeper_than_max_reorg_depth_is_refused() {
    let params = ChainParams {
        max_reorg_depth: 3,
        ..dev_params()
    };
    let genesis = two_validators(params);
    let mut main = genesis.clone();
    let m = push_empty(&mut main, MAIN, 5); // heights 1..=5
    let at = |h: usize| {
        let mut c = genesis.clone();
        push_replay(&mut c, &m[..h].iter().collect::<Vec<_>>());
        c
    };

    let mut node = Node::new(&genesis);
    node.submit_all(&m, |i| connected(i as u64 + 1));
    node.events();
    let addrs = addresses(&genesis, &[]);
    let before = node.snapshot(&addrs, &[]);

    // From block 1: 4 below the tip. Six blocks, heavier than the main chain.
    let mut deep = at(1);
    let a = push_empty(&mut deep, SIDE, 6);
    assert!(deep.state.tip().total_work > main.state.tip().total_work);
    match node.submit(&a[0]) {
        Err(ChainError::ReorgTooDeep { depth: 4, max: 3 }) => {}
        other => panic!("expected ReorgTooDeep {{ depth: 4, max: 3 }}, got {other:?}"),
    }
    assert_eq!(
        node.status(&a[0].id()),
        None,
        "a refused block is not stored"
    );
    // The rest of that branch has no known parent: held, never connected.
    for b in &a[1..] {
        assert_eq!(node.submit(b).expect("held"), BlockVerdict::Held);
    }
    // From genesis: 5 below.
    let mut from_genesis = genesis.clone();
    let g = push_empty(&mut from_genesis, SIDE, 1);
    assert!(matches!(
        node.submit(&g[0]),
        Err(ChainError::ReorgTooDeep { depth: 5, max: 3 })
    ));
    assert_eq!(node.snapshot(&addrs, &[]), before, "nothing changed");
    assert_same(&node.store, &main.state);
    assert!(node.events().is_empty());

    // From block 2: exactly 3 below. Four blocks: followed.
    let mut edge = at(2);
    let b = push_empty(&mut edge, SIDE, 4); // heights 3..=6
    node.submit_all(&b[..3], |_| BlockVerdict::SideChain);
    assert_eq!(
        node.submit(&b[3]).expect("b6"),
        BlockVerdict::Connected {
            height: 6,
            reorged: true
        }
    );
    let mut branch = m[..2].to_vec();
    branch.extend(b.iter().cloned());
    let reference = Node::reference(&genesis, &branch);
    assert_eq!(node.snapshot(&addrs, &[]), reference.snapshot(&addrs, &[]));
    assert_same(&node.store, &edge.state);
}

/// 3b. Side blocks whose fork point falls more than `max_reorg_depth` below the tip can
///     never be chosen: they leave the store, and the branch cannot be resumed.
#[test]
fn side_blocks_that_fall_below_max_reorg_depth_are_forgotten() {
    let params = ChainParams {
        max_reorg_depth: 3,
        ..dev_params()
    };
    let genesis = two_validators(params);
    let mut main = genesis.clone();
    let m1 = push(&mut main, MAIN, vec![]);
    let mut side = main.clone();
    let m = push_empty(&mut main, MAIN, 2); // heights 2, 3
    let s = push_empty(&mut side, SIDE, 2); // heights 2, 3

    let mut node = Node::new(&genesis);
    node.submit_all(&[m1.clone(), m[0].clone(), m[1].clone()], |i| {
        connected(i as u64 + 1)
    });
    assert_eq!(node.submit(&s[0]).expect("s2"), BlockVerdict::SideChain);

    // Tip 4: the fork (height 1) is exactly max_reorg_depth below; s2 stays.
    let m4 = push(&mut main, MAIN, vec![]);
    assert_eq!(node.submit(&m4).expect("m4"), connected(4));
    assert_eq!(node.status(&s[0].id()), Some(BlockStatus::Stored));
    // Tip 5: the fork is 4 below; s2 is forgotten, body and index entry.
    let m5 = push(&mut main, MAIN, vec![]);
    assert_eq!(node.submit(&m5).expect("m5"), connected(5));
    assert_eq!(node.status(&s[0].id()), None);
    assert_eq!(node.store.block(&s[0].id()).expect("read"), None);
    // Its child now has no known parent, and s2 itself is refused as too deep.
    assert_eq!(node.submit(&s[1]).expect("s3"), BlockVerdict::Held);
    assert!(matches!(
        node.submit(&s[0]),
        Err(ChainError::ReorgTooDeep { depth: 4, max: 3 })
    ));
    assert_same(&node.store, &main.state);
}

/// 4. A branch whose next block is invalid (a double spend on the branch of what its first
///    block spent) although it would make the branch heavier. The rule (reorg.rs): a side
///    block is validated in full against its own branch before it is stored or weighed, so
///    the invalid block never starts a switch: the node stays on its chain, the block is
///    refused with the rule it broke and is not stored (so it is not marked invalid either:
///    "never stored: nothing of it is kept, and it weighs nothing"), its children are held
///    for want of a parent, and the valid part of the branch can still win.
#[test]
fn an_invalid_block_that_would_make_a_branch_heavier_never_switches_the_chain() {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    let main_ref = Node::reference(&f.genesis, &[f.m1.clone(), f.m2.clone(), f.m3.clone()]);
    node.submit_all(&[f.b2.clone(), f.b3.clone()], |_| BlockVerdict::SideChain);
    let before = node.snapshot(&f.addresses(), &f.txids());

    // b4', at b4's height and time: spends funded key 1's genesis coin, which b2 spent. The
    // transaction is valid on the main chain (m2, m3 never touch that coin): only the
    // branch's own state shows the double spend.
    let k1_coin = coin_of(&f.genesis, 1).0;
    let mut at_b1 = f.genesis.clone();
    push_replay(&mut at_b1, &[&f.m1]);
    let double = pay(&at_b1, 1, fresh_address(Z), tft(9));
    assert_eq!(double.coin_inputs[0].parent, k1_coin);
    let mut side3 = at_b1.clone();
    push_replay(&mut side3, &[&f.b2, &f.b3]);
    let bad = block_by(&side3, SIDE, vec![double.clone()]);
    assert_eq!(bad.header.height, 4);
    {
        let mut on_main = f.main.clone();
        let (probe, _) = on_main.next_block(vec![double.clone()]);
        on_main
            .state
            .apply(&probe, &on_main.params, probe.header.timestamp)
            .expect("precondition: the double spend is a valid payment on the main chain");
    }

    for attempt in 0..2 {
        match node.submit(&bad) {
            Err(ChainError::Invalid(BlockError::Tx {
                index: 0,
                source: TxError::MissingInput { parent, .. },
            })) if parent == k1_coin => {}
            other => panic!("attempt {attempt}: expected the double spend refused, got {other:?}"),
        }
        // Never switched: no block was undone; the state is the main chain's.
        assert!(node.events().is_empty(), "attempt {attempt}: events");
        let snap = node.snapshot(&f.addresses(), &f.txids());
        assert_eq!(snap, before, "attempt {attempt}");
        assert_eq!(snap, main_ref.snapshot(&f.addresses(), &f.txids()));
        assert_eq!(
            node.status(&bad.id()),
            None,
            "an invalid side block is not stored"
        );
        assert_eq!(node.store.block(&bad.id()).expect("read"), None);
        for b in [&f.b2, &f.b3] {
            assert_eq!(node.status(&b.id()), Some(BlockStatus::Stored));
        }
    }
    assert_same(&node.store, &f.main.state);
    assert_indexes_exact(&node.store);

    // A child of the refused block: its parent is unknown, so it is held, not connected.
    let mut on_bad = side3.clone();
    let twin = block_by(&side3, SIDE, vec![]);
    commit_as_if_valid(&mut on_bad, &bad, &twin);
    let child = block_by(&on_bad, SIDE, vec![]);
    assert_eq!(child.header.parent, bad.id());
    assert_eq!(node.submit(&child).expect("held"), BlockVerdict::Held);
    assert_eq!(node.snapshot(&f.addresses(), &f.txids()), before);

    // The valid b4 still makes the branch win.
    assert_eq!(
        node.submit(&f.b4).expect("b4"),
        BlockVerdict::Connected {
            height: 4,
            reorged: true
        }
    );
    let branch_ref = Node::reference(
        &f.genesis,
        &[f.m1.clone(), f.b2.clone(), f.b3.clone(), f.b4.clone()],
    );
    assert_eq!(
        node.snapshot(&f.addresses(), &f.txids()),
        branch_ref.snapshot(&f.addresses(), &f.txids())
    );
    assert_same(&node.store, &f.side.state);
}

/// A stored side block that is invalid on its branch (what the writer must cope with
/// after a restart: "validated when it was stored; recomputed after a restart"), and a
/// child of it that would make the branch heavier.
struct StoredInvalid {
    f: Fork,
    node: Node,
    main_ref: Node,
    bad: Block,
    child: Block,
    grandchild: Block,
}

/// m1, m2, m3 on the main chain; b2 (valid) on a side chain; b3' stored after it although
/// it double-spends what b2 spent; then a restart (the writer's side-block diffs are
/// gone) and b4' on b3', which would make the branch heavier than the main chain.
fn stored_invalid_branch() -> StoredInvalid {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    let main_ref = Node::reference(&f.genesis, &[f.m1.clone(), f.m2.clone(), f.m3.clone()]);
    assert_eq!(node.submit(&f.b2).expect("b2"), BlockVerdict::SideChain);

    let mut side2 = f.genesis.clone();
    push_replay(&mut side2, &[&f.m1, &f.b2]);
    let mut at_b1 = f.genesis.clone();
    push_replay(&mut at_b1, &[&f.m1]);
    let double = pay(&at_b1, 1, fresh_address(Z), tft(9));
    let bad = block_by(&side2, SIDE, vec![double]);
    let twin = block_by(&side2, SIDE, vec![]);
    let mut on_bad = side2.clone();
    let outcome = commit_as_if_valid(&mut on_bad, &bad, &twin);
    node.store
        .store_side_block(
            &bad,
            BlockIndexEntry {
                meta: outcome.meta.clone(),
                parent: f.b2.id(),
                status: BlockStatus::Stored,
            },
        )
        .expect("store b3'");
    let child = push_unchecked(&mut on_bad, SIDE);
    let grandchild = block_by(&on_bad, SIDE, vec![]);
    assert!(
        on_bad.state.tip().total_work > f.main.state.tip().total_work,
        "precondition: b4' would make the branch heavier"
    );
    node.restart();
    StoredInvalid {
        f,
        node,
        main_ref,
        bad,
        child,
        grandchild,
    }
}

/// The next block by `v` on `chain`, committed to its memory state with its outcome
/// (its parent may be a block committed by [`commit_as_if_valid`]).
fn push_unchecked(chain: &mut TestChain, v: usize) -> Block {
    let b = block_by(chain, v, vec![]);
    let o = tfchain_consensus::apply_block(&chain.state, &b, &chain.params, b.header.timestamp)
        .expect("an empty block on the branch is valid");
    chain.state.commit(&o);
    b
}

/// 4b. A heavier branch whose stored block turns out invalid when the branch is replayed
///     for the block that would switch to it: refused with `InvalidAncestor` before any
///     main block is undone, the stored block marked invalid, the node on its chain.
#[test]
fn a_stored_invalid_block_found_when_a_branch_would_switch_is_marked_invalid() {
    let StoredInvalid {
        f,
        mut node,
        main_ref,
        bad,
        child,
        ..
    } = stored_invalid_branch();
    let before = node.snapshot(&f.addresses(), &f.txids());

    match node.submit(&child) {
        Err(ChainError::InvalidAncestor(id)) if id == bad.id() => {}
        other => panic!("expected InvalidAncestor({}), got {other:?}", bad.id()),
    }
    assert_eq!(node.status(&bad.id()), Some(BlockStatus::Invalid));
    assert_eq!(
        node.status(&f.b2.id()),
        Some(BlockStatus::Stored),
        "b2 is valid"
    );
    assert_eq!(node.status(&child.id()), None, "the child is not stored");
    assert!(node.events().is_empty(), "no main block was undone");
    let snap = node.snapshot(&f.addresses(), &f.txids());
    assert_eq!(snap, before);
    assert_eq!(snap, main_ref.snapshot(&f.addresses(), &f.txids()));
    assert_same(&node.store, &f.main.state);
    assert_indexes_exact(&node.store);
}

/// 5. A block already marked invalid, and a child of one, are refused at once with
///    `KnownInvalid` / `InvalidAncestor`, before any validation: with the clock set far
///    behind (validation would now fail on the clock rule) the answer is the same, and
///    nothing in the store changes — across a restart too.
#[test]
fn a_known_invalid_block_and_its_children_are_refused_without_revalidation() {
    let StoredInvalid {
        f,
        mut node,
        bad,
        child,
        grandchild,
        ..
    } = stored_invalid_branch();
    assert!(matches!(
        node.submit(&child),
        Err(ChainError::InvalidAncestor(_))
    ));
    node.events();
    let entry = node.store.index_entry(&bad.id()).expect("read");
    assert_eq!(entry.as_ref().map(|e| e.status), Some(BlockStatus::Invalid));
    let before = node.snapshot(&f.addresses(), &f.txids());
    let now = node.clock.now();

    for round in 0..3 {
        if round == 1 {
            // Far behind every block: any validation would fail on the clock rule instead.
            node.clock.set(f.genesis.genesis.header.timestamp);
        }
        if round == 2 {
            node.clock.set(now);
            node.restart();
        }
        match node.submit_no_clock(&bad) {
            Err(ChainError::KnownInvalid(id)) if id == bad.id() => {}
            other => panic!("round {round}: expected KnownInvalid, got {other:?}"),
        }
        match node.submit_no_clock(&child) {
            Err(ChainError::InvalidAncestor(id)) if id == bad.id() => {}
            other => panic!("round {round}: expected InvalidAncestor of the child, got {other:?}"),
        }
        assert_eq!(
            node.store.index_entry(&bad.id()).expect("read"),
            entry,
            "round {round}"
        );
        assert_eq!(node.status(&child.id()), None, "round {round}");
        assert_eq!(
            node.snapshot(&f.addresses(), &f.txids()),
            before,
            "round {round}"
        );
        assert!(node.events().is_empty(), "round {round}");
    }
    // The child's own child is not evidence of anything the node knows: its parent was
    // never stored, so it is held, and connects nothing.
    assert_eq!(grandchild.header.parent, child.id());
    assert_eq!(node.submit(&grandchild).expect("held"), BlockVerdict::Held);
    assert_eq!(node.snapshot(&f.addresses(), &f.txids()), before);
    assert_same(&node.store, &f.main.state);
}

/// A valid stored side block must not become "invalid" because this node's clock is
/// behind when the branch is replayed (after a restart the side diffs are recomputed with
/// `now`): the clock rule is the one rule the writer otherwise never remembers as
/// invalidity (`connect`, `reorganize`: "our own clock may be the one that is wrong").
#[test]
fn a_clock_behind_after_a_restart_does_not_make_a_stored_side_block_invalid() {
    let f = Fork::new(dev_params());
    let mut node = f.node_on_main();
    assert_eq!(node.submit(&f.b2).expect("b2"), BlockVerdict::SideChain);
    node.restart();
    // The machine's clock is now well behind b2 (e.g. corrected backwards by NTP).
    node.clock.set(f.b2.header.timestamp - 20);

    let verdict = node.submit_no_clock(&f.b3);
    assert!(
        matches!(
            verdict,
            Ok(BlockVerdict::Held)
                | Err(ChainError::Invalid(
                    BlockError::TimestampTooFarInFuture { .. }
                        | BlockError::TimestampInFuture { .. }
                ))
        ),
        "b3 is merely early for this clock, got {verdict:?}"
    );
    assert_eq!(
        node.status(&f.b2.id()),
        Some(BlockStatus::Stored),
        "b2 is valid: a slow clock must not mark it invalid for good"
    );
    // Once the clock is right, the branch wins as it should.
    node.clock.set(f.b4.header.timestamp);
    for b in [&f.b3, &f.b4] {
        let _ = node.submit(b);
    }
    assert_eq!(node.store.tip().id, f.b4.id());
    assert_same(&node.store, &f.side.state);
}

/// `max_reorg_depth` 3; m1 on the main chain, then m2 on it and b2, b3 on a branch from m1.
fn shallow_fork() -> (TestChain, TestChain, TestChain, Block, Block, Vec<Block>) {
    let params = ChainParams {
        max_reorg_depth: 3,
        ..dev_params()
    };
    let genesis = two_validators(params);
    let mut main = genesis.clone();
    let m1 = push(&mut main, MAIN, vec![]);
    let mut side = main.clone();
    let m2 = push(&mut main, MAIN, vec![]);
    let b = push_empty(&mut side, SIDE, 2);
    (genesis, main, side, m1, m2, b)
}

/// The blocks a reorganisation undid are side blocks of a branch from the fork point
/// ("stored but not applied"); once that fork point is more than `max_reorg_depth` below
/// the tip they can never be chosen again, and side blocks that can never be chosen leave
/// the store (`prune_side_blocks`, side.rs).
#[test]
fn blocks_undone_by_a_reorganisation_are_forgotten_below_max_reorg_depth() {
    let (genesis, _, mut side, m1, m2, b) = shallow_fork();
    let mut node = Node::new(&genesis);
    node.submit_all(&[m1, m2.clone()], |i| connected(i as u64 + 1));
    assert_eq!(node.submit(&b[0]).expect("b2"), BlockVerdict::SideChain);
    assert!(matches!(
        node.submit(&b[1]),
        Ok(BlockVerdict::Connected { reorged: true, .. })
    ));
    assert_eq!(node.status(&m2.id()), Some(BlockStatus::Stored));
    // Tip 5: the fork point (height 1) is 4 below, deeper than max_reorg_depth.
    for blk in push_empty(&mut side, SIDE, 2) {
        assert!(matches!(
            node.submit(&blk),
            Ok(BlockVerdict::Connected { .. })
        ));
    }
    assert_eq!(node.store.tip().height, 5);
    assert_eq!(
        node.status(&m2.id()),
        None,
        "m2 can never be chosen again and should have left the store"
    );
}

/// Side blocks stored before a restart are pruned like those stored after it.
#[test]
fn side_blocks_stored_before_a_restart_are_forgotten_below_max_reorg_depth() {
    let (genesis, mut main, _, m1, m2, b) = shallow_fork();
    let mut node = Node::new(&genesis);
    node.submit_all(&[m1, m2], |i| connected(i as u64 + 1));
    assert_eq!(node.submit(&b[0]).expect("b2"), BlockVerdict::SideChain);
    node.restart();
    for blk in push_empty(&mut main, MAIN, 3) {
        assert!(matches!(
            node.submit(&blk),
            Ok(BlockVerdict::Connected { .. })
        ));
    }
    assert_eq!(node.store.tip().height, 5);
    assert_eq!(
        node.status(&b[0].id()),
        None,
        "b2 forks 4 below the tip: it can never be chosen and should have left the store"
    );
}
