//! `grid`: the capacity market's cost (PROTOCOL.md §7.4: "cost per block is proportional to
//! the contracts that change, never to the number of contracts").
//!
//! Two states on the same chain differ only in their grid: 1,000 and 1,000,000 live
//! reservations on the same 1,000 nodes. They are built directly as records (farms, nodes
//! with `used` = Σ their reservations, reservations, the node, owner and expiry indexes,
//! counters), not by applying ops, with expiries spread uniformly over the next 100,000
//! blocks as on a real chain; construction is timed apart and checked for consistency.
//!
//! On each state `apply_block` (signatures verified on all cores) of the same blocks, median
//! of several runs:
//! - `mixed`: 700 payments, 100 Reserve, 100 TopUp and 100 Cancel transactions (the last two
//!   on existing reservations), at a height where 10 reservations are indexed to expire
//!   (5 Active → Grace, 5 Grace → Ended): the per-block cost, whose large/small ratio the
//!   issue bounds by 1.2;
//! - `reserve_1x1000`: 1,000 transactions with one Reserve each, and `reserve_16x63`: 63
//!   transactions with up to 16 Reserves each (1,000 ops), against
//! - `payments`: 1,000 one-input payments, the baseline from the same run.
//!
//! The same figures with signatures already verified (`_state_us`: each block was applied
//! with verification first, so this is the re-apply path `AlreadyVerified` exists for) show
//! the state transition alone, which is where a larger state would show; and
//! `grid_get_reservation_ns` is one random record read on each state, which explains it
//! (an ordered map of 4M records no longer fits in cache).
//!
//! Claims cost what they settle (§7.3: at most one `Claim` per node per block), so the
//! worst claim blocks are measured apart, with the time per block, per claim and per
//! reservation settled:
//! - `claims_all`: one claim of every node (1,000 claims, 16 per transaction) on both
//!   states, so the large one settles its 1,000,000 reservations in one block;
//! - `claims_max`: a third state of 64 nodes each holding `MAX_NODE_RESERVATIONS`
//!   reservations, and a block claiming all 64;
//! - `claims_repeat`: 1,000 transactions each claiming the same full node, the pattern the
//!   rule forbids (without it each would settle 1,024 reservations again): the block is
//!   refused at its second transaction; its figure is the time to refuse it;
//! - `claims_per_block_max` is how many claims a block of `max_block_size` can hold, and
//!   `claims_max_block_extrapolated_ms` that many claims of full nodes at the
//!   `claims_max` rate: the worst block the rules allow.

use rayon::prelude::*;
use std::time::Instant;
use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, payment, test_key, TestChain};
use tfchain_consensus::{
    apply_block_with, grid_context, BlockOutcome, ChainParams, Signatures, StateView,
};
use tfchain_contracts::settle::index_height;
use tfchain_contracts::{GridContext, GridCounters, GridKey, GridValue, GridView, MemoryGrid};
use tfchain_types::grid::MAX_NODE_RESERVATIONS;
use tfchain_types::hash::blake2b;
use tfchain_types::{
    unsigned_by, Address, Block, Condition, Currency, EndReason, Farm, FarmName, GridEventKind,
    GridOp, Height, Input, Node, NodeId, NodeState, Output, OutputId, Price, Reservation,
    ReservationId, ReservationState, Resources, SecretKey, Transaction, TX_VERSION,
};

const SMALL: u64 = 1_000;
const LARGE: u64 = 1_000_000;
const FARMS: u32 = 10;
const NODES: u32 = 1_000;
/// The `claims_max` state: this many nodes, each with `MAX_NODE_RESERVATIONS` reservations.
const FULL_NODES: u32 = 64;
// The large state fills each node to 1,000 live reservations; the blocks add at most one.
const _: () = assert!(LARGE.div_ceil(NODES as u64) < MAX_NODE_RESERVATIONS as u64);
/// Expiries are spread uniformly over this many blocks after the benchmark height.
const SPREAD: u64 = 100_000;
/// Funded keys: each block spends one genesis output of key `k` in its `k`-th transaction
/// (blocks are applied to unchanged states, never committed, so they may share inputs).
/// They also own the reservations, round robin.
const KEYS: usize = 1_000;
/// Empty blocks before the benchmark height, so Grace reservations can date from before it.
const EMPTY_BLOCKS: u64 = 40;
const RUNS: usize = 9;
/// Ids `1..=5` run out of escrow at the benchmark height; ids `6..=10` are in Grace and end.
const EXPIRING_ACTIVE: u64 = 5;
const EXPIRING_GRACE: u64 = 5;
/// The mixed block tops up ids `11..=110` and cancels ids `111..=210`.
const TOPUPS: u64 = 100;
const CANCELS: u64 = 100;
const MIX_PAYMENTS: usize = 700;
const MIX_RESERVES: usize = 100;
const RESERVE_OPS: usize = 1_000;
const OPS_PER_TX: usize = tfchain_types::grid::MAX_GRID_OPS;
const DEPLOYMENT_DATA: usize = 64;
/// A new reservation's deposit, in blocks of its rate.
const DEPOSIT_BLOCKS: u128 = 50_000;

/// What every reservation holds: a small VM.
const RES: Resources = Resources {
    cru: 1,
    mru: 2,
    sru: 25,
    hru: 0,
    ipv4: 0,
};
/// Room for `MAX_NODE_RESERVATIONS` reservations of `RES` per node (1,000 in the large
/// state plus a block's new ones), and no more: a reservation's rate must be at least the
/// node's whole price over `MAX_NODE_RESERVATIONS` (§7.2), exactly `RES`'s here.
const CAPACITY: Resources = Resources {
    cru: RES.cru * MAX_NODE_RESERVATIONS,
    mru: RES.mru * MAX_NODE_RESERVATIONS,
    sru: RES.sru * MAX_NODE_RESERVATIONS,
    hru: 0,
    ipv4: 0,
};
const PRICE: Price = Price {
    cru: Currency(1_000),
    mru: Currency(500),
    sru: Currency(20),
    hru: Currency(5),
    ipv4: Currency(10_000),
};

pub fn run() -> anyhow::Result<()> {
    println!("threads: {}", rayon::current_num_threads());
    let rate = PRICE
        .rate(&RES)
        .ok_or_else(|| anyhow::anyhow!("rate overflow"))?;

    // One chain, a few empty blocks on: the benchmark blocks are all at the next height.
    let mut chain = TestChain::new(&[1_000], KEYS, Currency::from_tft(1_000));
    for _ in 0..EMPTY_BLOCKS {
        chain.produce(vec![])?;
    }
    let height = chain.state.tip().height + 1;
    let params = chain.params.clone();
    let ctx = grid_context(&params, height);
    let coins = genesis_coins(&chain)?;
    let owners: Vec<Address> = chain.funded.iter().map(address_of).collect();
    let farm_key = test_key(4, 0);
    let world = World {
        height,
        ctx,
        rate,
        owners: &owners,
        farm_owner: address_of(&farm_key),
        nodes: NODES,
    };
    anyhow::ensure!(
        tfchain_contracts::min_rate(&CAPACITY, &PRICE)? <= rate,
        "a reservation of RES is below a slot's share of the node"
    );
    println!("grid_nodes: {NODES}");
    println!("grid_farms: {FARMS}");
    println!("grid_expiry_spread_blocks: {SPREAD}");
    println!("grid_block_height: {height}");

    let mut states = Vec::new();
    for n in [SMALL, LARGE] {
        let t = Instant::now();
        let grid = world.build(n)?;
        let built = t.elapsed();
        let t = Instant::now();
        let live = check_grid(&grid, &world.ctx, NODES)?;
        anyhow::ensure!(live == n, "built {live} live reservations, wanted {n}");
        let checked = t.elapsed();
        println!("grid_build_s_{}: {:.2}", label(n), built.as_secs_f64());
        println!("grid_check_s_{}: {:.2}", label(n), checked.as_secs_f64());
        println!("grid_records_{}: {}", label(n), grid.0.len());
        println!(
            "grid_expiries_at_height_{}: {}",
            label(n),
            expiring_at(&grid, height)
        );
        println!(
            "grid_get_reservation_ns_{}: {:.0}",
            label(n),
            lookup_ns(&grid, n)?
        );
        let mut state = chain.state.clone();
        state.grid = grid;
        states.push((n, state));
    }

    // The blocks, signed on all cores (not timed).
    let t = Instant::now();
    let gid = params.genesis_id;
    let fee = params.min_fee;
    let key = |k: usize| &chain.funded[k];
    let pay = |k: usize| {
        payment(
            &[coins[k]],
            key(k),
            Condition::Address(owners[(k + 1) % KEYS]),
            Currency::from_tft(10),
            fee,
            &gid,
        )
    };
    let reserve = |seq: usize, k: usize| GridOp::Reserve {
        node: node_of(seq as u64 + 1, NODES),
        resources: RES,
        deposit: Currency(rate.0 * DEPOSIT_BLOCKS),
        max_rate: rate,
        deployment_hash: blake2b(&(seq as u64).to_le_bytes()),
        deployment_data: vec![7; DEPLOYMENT_DATA],
        owner: Condition::Address(owners[k]),
    };

    let payments: Vec<Transaction> = (0..RESERVE_OPS).into_par_iter().map(pay).collect();
    let reserve_1x: Vec<Transaction> = (0..RESERVE_OPS)
        .into_par_iter()
        .map(|k| grid_spend(key(k), coins[k], vec![reserve(k, k)], &[], fee, &gid))
        .collect();
    let reserve_16x: Vec<Transaction> = (0..RESERVE_OPS.div_ceil(OPS_PER_TX))
        .into_par_iter()
        .map(|k| {
            let ops = (k * OPS_PER_TX..((k + 1) * OPS_PER_TX).min(RESERVE_OPS))
                .map(|seq| reserve(seq, k))
                .collect();
            grid_spend(key(k), coins[k], ops, &[], fee, &gid)
        })
        .collect();
    let mixed: Vec<Transaction> = (0..MIX_PAYMENTS + MIX_RESERVES + (TOPUPS + CANCELS) as usize)
        .into_par_iter()
        .map(|k| {
            let first_topup = EXPIRING_ACTIVE + EXPIRING_GRACE + 1;
            let first_cancel = first_topup + TOPUPS;
            if k < MIX_PAYMENTS {
                pay(k)
            } else if k < MIX_PAYMENTS + MIX_RESERVES {
                grid_spend(key(k), coins[k], vec![reserve(k, k)], &[], fee, &gid)
            } else if k < MIX_PAYMENTS + MIX_RESERVES + TOPUPS as usize {
                let id = first_topup + (k - MIX_PAYMENTS - MIX_RESERVES) as u64;
                let op = GridOp::TopUp {
                    reservation: id,
                    amount: Currency(rate.0 * 1_000),
                };
                grid_spend(key(k), coins[k], vec![op], &[], fee, &gid)
            } else {
                let id = first_cancel + (k - MIX_PAYMENTS - MIX_RESERVES) as u64 - TOPUPS;
                let owner = key(owner_of(id));
                let op = GridOp::Cancel {
                    reservation: id,
                    owner_auth: unsigned_by(&owner.public_key()),
                };
                grid_spend(
                    key(k),
                    coins[k],
                    vec![op],
                    std::slice::from_ref(owner),
                    fee,
                    &gid,
                )
            }
        })
        .collect();
    let blocks = [
        ("mixed", chain.next_block(mixed).0),
        ("payments", chain.next_block(payments).0),
        ("reserve_1x1000", chain.next_block(reserve_1x).0),
        ("reserve_16x63", chain.next_block(reserve_16x).0),
    ];
    println!("setup_sign_s: {:.2}", t.elapsed().as_secs_f64());
    println!(
        "mixed_block: {MIX_PAYMENTS} payments, {MIX_RESERVES} reserve, {TOPUPS} top_up, \
         {CANCELS} cancel txs; {} expiries at its height",
        EXPIRING_ACTIVE + EXPIRING_GRACE
    );

    // Each block must apply on both states, with the effects it was built for.
    for (name, block) in &blocks {
        for (n, state) in &states {
            let outcome = apply(state, block, &params, Signatures::Verify)
                .map_err(|e| anyhow::anyhow!("{name} on {} reservations: {e}", label(*n)))?;
            check_outcome(name, &outcome)
                .map_err(|e| anyhow::anyhow!("{name} on {}: {e}", label(*n)))?;
        }
    }

    // Timings: the runs interleave blocks and states, so noise spreads over all of them.
    let mut times = vec![vec![Vec::new(); states.len() * 2]; blocks.len()];
    for _ in 0..RUNS {
        for (b, (_, block)) in blocks.iter().enumerate() {
            for (s, (_, state)) in states.iter().enumerate() {
                for (m, sigs) in [Signatures::Verify, Signatures::AlreadyVerified]
                    .into_iter()
                    .enumerate()
                {
                    let t = Instant::now();
                    let outcome = apply(state, block, &params, sigs)?;
                    times[b][s * 2 + m].push(t.elapsed());
                    drop(outcome);
                }
            }
        }
    }
    let median_us = |b: usize, s: usize, m: usize| {
        let mut v = times[b][s * 2 + m].clone();
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };

    println!("runs: {RUNS} (median)");
    for (b, (name, block)) in blocks.iter().enumerate() {
        let ops: usize = block.transactions.iter().map(|t| t.grid_ops.len()).sum();
        println!("{name}_block_txs: {}", block.transactions.len());
        println!("{name}_block_grid_ops: {ops}");
        println!("{name}_block_bytes: {}", block.encoded_len());
        for (s, (n, _)) in states.iter().enumerate() {
            println!("{name}_block_us_{}: {:.0}", label(*n), median_us(b, s, 0));
        }
        for (s, (n, _)) in states.iter().enumerate() {
            println!(
                "{name}_block_state_us_{}: {:.0}",
                label(*n),
                median_us(b, s, 1)
            );
        }
        println!(
            "{name}_block_large_vs_small_ratio: {:.3}",
            median_us(b, 1, 0) / median_us(b, 0, 0)
        );
        println!(
            "{name}_block_state_large_vs_small_ratio: {:.3}",
            median_us(b, 1, 1) / median_us(b, 0, 1)
        );
    }

    // The 1,000-reservation blocks against the payment baseline, on the large state.
    let large = states.len() - 1;
    let base = median_us(1, large, 0);
    for (b, (name, block)) in blocks.iter().enumerate().skip(2) {
        let us = median_us(b, large, 0);
        let ops: usize = block.transactions.iter().map(|t| t.grid_ops.len()).sum();
        println!("{name}_blocks_per_s_1m: {:.1}", 1e6 / us);
        println!("{name}_ops_per_s_1m: {:.0}", ops as f64 * 1e6 / us);
        println!("{name}_vs_payments_ratio_1m: {:.3}", us / base);
    }
    // The bound, for every block (signatures verified): the large state may cost
    // at most 1.2 times the small one.
    for (b, (name, _)) in blocks.iter().enumerate() {
        let ratio = median_us(b, large, 0) / median_us(b, 0, 0);
        let verdict = if ratio <= 1.2 { "met" } else { "NOT met" };
        println!("{name}_block_limit_1.2: {verdict} ({ratio:.3})");
    }

    let claims = Claims {
        chain: &chain,
        params: &params,
        coins: &coins,
        farm_key: &farm_key,
    };
    claims.run(&states, &world)
}

/// The claim blocks (see the module documentation).
struct Claims<'a> {
    chain: &'a TestChain,
    params: &'a ChainParams,
    coins: &'a [(OutputId, Currency)],
    farm_key: &'a SecretKey,
}

impl Claims<'_> {
    /// Transactions of up to 16 claims each, one per entry of `nodes`, the `k`-th paid by
    /// funded key `k` and co-signed by the farm owner.
    fn txs(&self, nodes: &[NodeId], per_tx: usize) -> Vec<Transaction> {
        let gid = self.params.genesis_id;
        let fee = self.params.min_fee;
        nodes
            .par_chunks(per_tx)
            .enumerate()
            .map(|(k, chunk)| {
                let ops = chunk
                    .iter()
                    .map(|&node| GridOp::Claim {
                        node,
                        farm_auth: unsigned_by(&self.farm_key.public_key()),
                    })
                    .collect();
                grid_spend(
                    &self.chain.funded[k],
                    self.coins[k],
                    ops,
                    std::slice::from_ref(self.farm_key),
                    fee,
                    &gid,
                )
            })
            .collect()
    }

    /// Median time of applying `block` on `state` (signatures verified), in µs.
    fn time(&self, state: &MemoryState, block: &Block) -> anyhow::Result<f64> {
        let mut v = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let outcome = apply(state, block, self.params, Signatures::Verify);
            v.push(t.elapsed());
            drop(outcome);
        }
        v.sort();
        Ok(v[v.len() / 2].as_secs_f64() * 1e6)
    }

    fn run(&self, states: &[(u64, MemoryState)], world: &World) -> anyhow::Result<()> {
        let all: Vec<NodeId> = (1..=NODES).collect();
        let (block, _) = self.chain.next_block(self.txs(&all, OPS_PER_TX));
        println!("claims_all_block_txs: {}", block.transactions.len());
        println!("claims_all_block_claims: {NODES}");
        println!("claims_all_block_bytes: {}", block.encoded_len());
        for (n, state) in states {
            let outcome = apply(state, &block, self.params, Signatures::Verify)?;
            let settled = claimed(&outcome, NODES)?;
            let us = self.time(state, &block)?;
            let l = label(*n);
            println!("claims_all_settled_{l}: {settled}");
            println!("claims_all_block_ms_{l}: {:.1}", us / 1e3);
            println!("claims_all_per_claim_us_{l}: {:.1}", us / f64::from(NODES));
            println!(
                "claims_all_per_settled_reservation_ns_{l}: {:.0}",
                us * 1e3 / settled.max(1) as f64
            );
        }

        // Nodes holding the most reservations a node may.
        let full = World {
            nodes: FULL_NODES,
            ..*world
        };
        let n = u64::from(FULL_NODES) * u64::from(MAX_NODE_RESERVATIONS);
        let grid = full.build(n)?;
        anyhow::ensure!(check_grid(&grid, &full.ctx, FULL_NODES)? == n, "full state");
        let mut state = states[0].1.clone();
        state.grid = grid;
        let nodes: Vec<NodeId> = (1..=FULL_NODES).collect();
        let (block, _) = self.chain.next_block(self.txs(&nodes, OPS_PER_TX));
        let outcome = apply(&state, &block, self.params, Signatures::Verify)?;
        let settled = claimed(&outcome, FULL_NODES)?;
        let us = self.time(&state, &block)?;
        let per_claim = us / f64::from(FULL_NODES);
        println!("claims_max_reservations_per_node: {MAX_NODE_RESERVATIONS}");
        println!("claims_max_block_claims: {FULL_NODES}");
        println!("claims_max_settled: {settled}");
        println!("claims_max_block_ms: {:.2}", us / 1e3);
        println!("claims_max_per_claim_us: {per_claim:.1}");

        // The forbidden pattern: one full node claimed by 1,000 transactions.
        let same = vec![1 as NodeId; RESERVE_OPS];
        let (block, _) = self.chain.next_block(self.txs(&same, 1));
        match apply(&state, &block, self.params, Signatures::Verify) {
            Err(e) if e.to_string().contains("already claimed") => {}
            other => anyhow::bail!("claims_repeat: expected AlreadyClaimed, got {other:?}"),
        }
        let t = Instant::now();
        let _ = apply(&state, &block, self.params, Signatures::Verify);
        println!("claims_repeat_block_txs: {}", block.transactions.len());
        println!(
            "claims_repeat_refused_ms: {:.2}",
            t.elapsed().as_secs_f64() * 1e3
        );

        // The most claims a block holds, at the claims_max rate.
        let tx = &self.txs(&nodes[..OPS_PER_TX], OPS_PER_TX)[0];
        let room = tfchain_types::limits::MAX_BLOCK_SIZE - tfchain_txpool::block_overhead();
        let max_claims = room / tx.encoded_len() * OPS_PER_TX;
        println!("claims_per_block_max: {max_claims}");
        println!(
            "claims_max_block_extrapolated_ms: {:.0}",
            per_claim * max_claims as f64 / 1e3
        );
        Ok(())
    }
}

/// The reservations a claim block settled (its diff's reservation records), after checking
/// it claimed `nodes` nodes.
fn claimed(o: &BlockOutcome, nodes: u32) -> anyhow::Result<usize> {
    let claims = o
        .events
        .iter()
        .filter(|e| matches!(e.kind, GridEventKind::EarningsClaimed { .. }))
        .count();
    anyhow::ensure!(claims == nodes as usize, "{claims} claims, wanted {nodes}");
    Ok(o.diff
        .grid
        .iter()
        .filter(|c| matches!(c.key, GridKey::Reservation(_)) && c.before != c.after)
        .count())
}

fn apply(
    state: &MemoryState,
    block: &Block,
    params: &ChainParams,
    sigs: Signatures,
) -> anyhow::Result<BlockOutcome> {
    Ok(apply_block_with(
        state,
        block,
        params,
        block.header.timestamp,
        sigs,
    )?)
}

/// The events each benchmark block must yield, and the expiry entries it must remove.
fn check_outcome(name: &str, o: &BlockOutcome) -> anyhow::Result<()> {
    let count = |f: &dyn Fn(&GridEventKind) -> bool| o.events.iter().filter(|e| f(&e.kind)).count();
    let created = count(&|k| matches!(k, GridEventKind::ReservationCreated { .. }));
    let funded = count(&|k| matches!(k, GridEventKind::ReservationFunded { .. }));
    let grace = count(&|k| matches!(k, GridEventKind::ReservationGrace { .. }));
    let ended = |r: EndReason| {
        count(&|k| matches!(k, GridEventKind::ReservationEnded { reason, .. } if *reason == r))
    };
    // An expiry entry removed from the state (a removal of a missing key is no change).
    let unindexed = o
        .diff
        .grid
        .iter()
        .filter(|c| matches!(c.key, GridKey::Expiry(..)) && c.before.is_some() && c.after.is_none())
        .count();
    let expiring = (EXPIRING_ACTIVE + EXPIRING_GRACE) as usize;
    let want = match name {
        "mixed" => (
            MIX_RESERVES,
            TOPUPS as usize,
            CANCELS as usize,
            expiring + (TOPUPS + CANCELS) as usize,
        ),
        "payments" => (0, 0, 0, expiring),
        _ => (RESERVE_OPS, 0, 0, expiring),
    };
    let got = (created, funded, ended(EndReason::Cancelled), unindexed);
    anyhow::ensure!(
        got == want,
        "(created, funded, cancelled, expiry entries removed) = {got:?}, wanted {want:?}"
    );
    anyhow::ensure!(
        grace == EXPIRING_ACTIVE as usize
            && ended(EndReason::OutOfFunds) == EXPIRING_GRACE as usize,
        "expected {EXPIRING_ACTIVE} grace and {EXPIRING_GRACE} out-of-funds events"
    );
    Ok(())
}

/// The genesis output of each funded key, in key order.
fn genesis_coins(chain: &TestChain) -> anyhow::Result<Vec<(OutputId, Currency)>> {
    chain
        .funded
        .iter()
        .map(|k| {
            chain
                .spendable(&address_of(k))
                .into_iter()
                .next()
                .map(|(id, e)| (id, e.value))
                .ok_or_else(|| anyhow::anyhow!("a funded key has no coin"))
        })
        .collect()
}

/// A signed transaction spending `coin` (owned by `key`) for the fee and the ops' deposits,
/// change back to the key, signed by `key` and `cosigners` (owners' authorisations).
fn grid_spend(
    key: &SecretKey,
    coin: (OutputId, Currency),
    ops: Vec<GridOp>,
    cosigners: &[SecretKey],
    fee: Currency,
    genesis_id: &tfchain_types::BlockId,
) -> Transaction {
    let deposits: u128 = ops.iter().map(|op| op.deposit().0).sum();
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: vec![Input {
            parent: coin.0,
            fulfillment: unsigned_by(&key.public_key()),
        }],
        coin_outputs: vec![Output {
            value: Currency(coin.1 .0 - fee.0 - deposits),
            condition: Condition::Address(address_of(key)),
        }],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee,
        arbitrary_data: vec![],
        grid_ops: ops,
    };
    let mut keys = vec![key.clone()];
    keys.extend(cosigners.iter().cloned());
    tx.sign_with(genesis_id, &keys);
    tx
}

/// Reservation `id`'s node: round robin, so every node holds `n / NODES` of `n`.
fn node_of(id: ReservationId, nodes: u32) -> NodeId {
    ((id - 1) % u64::from(nodes)) as NodeId + 1
}

/// The funded key owning reservation `id`.
fn owner_of(id: ReservationId) -> usize {
    ((id - 1) % KEYS as u64) as usize
}

fn label(n: u64) -> &'static str {
    if n >= LARGE {
        "1m"
    } else {
        "1k"
    }
}

/// A fixed, well-mixed number per id (splitmix64), to spread the expiries.
fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn scaled(r: &Resources, k: u32) -> Resources {
    Resources {
        cru: r.cru * k,
        mru: r.mru * k,
        sru: r.sru * k,
        hru: r.hru * k,
        ipv4: r.ipv4 * k as u16,
    }
}

/// Mean time of `grid_get` (a clone, as the ops read) of a reservation at a random id.
fn lookup_ns(grid: &MemoryGrid, n: u64) -> anyhow::Result<f64> {
    const LOOKUPS: u64 = 200_000;
    let t = Instant::now();
    let mut found = 0u64;
    for i in 0..LOOKUPS {
        let key = GridKey::Reservation(1 + mix(i ^ 0x5eed) % n);
        found += u64::from(std::hint::black_box(grid.grid_get(&key)).is_some());
    }
    let ns = t.elapsed().as_secs_f64() * 1e9 / LOOKUPS as f64;
    anyhow::ensure!(found == LOOKUPS, "a reservation is missing");
    Ok(ns)
}

fn expiring_at(grid: &MemoryGrid, h: Height) -> usize {
    grid.0
        .range(GridKey::Expiry(h, 0)..GridKey::Expiry(h + 1, 0))
        .count()
}

struct World<'a> {
    /// The benchmark blocks' height.
    height: Height,
    ctx: GridContext,
    rate: Currency,
    owners: &'a [Address],
    farm_owner: Address,
    /// Nodes the reservations are spread over, round robin.
    nodes: u32,
}

impl World<'_> {
    /// A grid of `n` live reservations, as records.
    fn build(&self, n: u64) -> anyhow::Result<MemoryGrid> {
        let mut entries: Vec<(GridKey, GridValue)> = Vec::with_capacity(4 * n as usize + 5_000);
        entries.push((
            GridKey::Counters,
            GridValue::Counters(GridCounters {
                farms: FARMS,
                nodes: self.nodes,
                reservations: n,
            }),
        ));
        for id in 1..=FARMS {
            let name = FarmName(format!("farm-{id}"));
            entries.push((GridKey::FarmName(name.clone()), GridValue::FarmId(id)));
            entries.push((
                GridKey::Farm(id),
                GridValue::Farm(Farm {
                    id,
                    name,
                    owner: Condition::Address(self.farm_owner),
                    payout: self.farm_owner,
                }),
            ));
        }
        for id in 1..=self.nodes {
            let farm = (id - 1) % FARMS + 1;
            let nodes = u64::from(self.nodes);
            let count = n / nodes + u64::from(u64::from(id - 1) < n % nodes);
            let node_key = test_key(5, u64::from(id)).public_key();
            entries.push((GridKey::NodeKey(node_key), GridValue::NodeId(id)));
            entries.push((GridKey::FarmNode(farm, id), GridValue::Unit));
            entries.push((
                GridKey::Node(id),
                GridValue::Node(Node {
                    id,
                    farm,
                    node_key,
                    capacity: CAPACITY,
                    price: PRICE,
                    used: scaled(&RES, u32::try_from(count)?),
                    reservations: u32::try_from(count)?,
                    state: NodeState::Up,
                    earnings: Currency::ZERO,
                }),
            ));
        }
        let reservations: Vec<(GridKey, GridValue)> = (1..=n)
            .into_par_iter()
            .flat_map_iter(|id| {
                let r = self.reservation(id);
                let expiry = index_height(&r, &self.ctx).unwrap_or(Height::MAX);
                let owner = r.owner.address();
                [
                    (GridKey::NodeReservation(r.node, id), GridValue::Unit),
                    (GridKey::OwnerReservation(owner, id), GridValue::Unit),
                    (GridKey::Expiry(expiry, id), GridValue::Unit),
                    (GridKey::Reservation(id), GridValue::Reservation(r)),
                ]
            })
            .collect();
        entries.extend(reservations);
        entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(MemoryGrid(entries.into_iter().collect()))
    }

    /// Reservation `id`: ids `1..=10` are processed at the benchmark height, the others
    /// made in the past (settled to a height before it) with their escrow running out at
    /// a height spread over the next `SPREAD` blocks.
    fn reservation(&self, id: ReservationId) -> Reservation {
        let h = self.height;
        let grace = self.ctx.params.grace_period;
        let rate = self.rate;
        let (state, settled_to, escrow) = if id <= EXPIRING_ACTIVE {
            (ReservationState::Active, h - 20, Currency(rate.0 * 20))
        } else if id <= EXPIRING_ACTIVE + EXPIRING_GRACE {
            // Less than one block's rate left: it goes to the node when the grace ends.
            let since = h - grace;
            (
                ReservationState::Grace { since },
                since,
                Currency(rate.0 / 2),
            )
        } else {
            let made = 1 + id % (h - 1);
            let runs_out = h + 1 + mix(id) % SPREAD;
            (
                ReservationState::Active,
                made,
                Currency(rate.0 * u128::from(runs_out - made)),
            )
        };
        Reservation {
            id,
            owner: Condition::Address(self.owners[owner_of(id)]),
            node: node_of(id, self.nodes),
            resources: RES,
            rate,
            escrow,
            settled_to,
            deployment_hash: blake2b(&id.to_le_bytes()),
            deployment_data: vec![1; DEPLOYMENT_DATA],
            state,
        }
    }
}

/// Checks the §7.5 invariant and the indexes: every live reservation is on its node's and
/// owner's index and in the expiry index at the height its state says, and each node's
/// `used` is the sum of its live reservations. Returns the number of live reservations.
fn check_grid(grid: &MemoryGrid, ctx: &GridContext, nodes: u32) -> anyhow::Result<u64> {
    let mut used = vec![Resources::ZERO; nodes as usize + 1];
    let mut count = vec![0u32; nodes as usize + 1];
    let mut live = 0u64;
    let mut index_keys = 0usize;
    for (k, v) in &grid.0 {
        match (k, v) {
            (GridKey::Reservation(id), GridValue::Reservation(r)) if r.is_live() => {
                live += 1;
                count[r.node as usize] += 1;
                let n = &mut used[r.node as usize];
                *n = n
                    .checked_add(&r.resources)
                    .ok_or_else(|| anyhow::anyhow!("used overflows"))?;
                let h = index_height(r, ctx)
                    .ok_or_else(|| anyhow::anyhow!("live reservation {id} has no expiry"))?;
                for key in [
                    GridKey::NodeReservation(r.node, *id),
                    GridKey::OwnerReservation(r.owner.address(), *id),
                    GridKey::Expiry(h, *id),
                ] {
                    anyhow::ensure!(grid.0.contains_key(&key), "missing {key:?}");
                }
            }
            (
                GridKey::NodeReservation(..) | GridKey::OwnerReservation(..) | GridKey::Expiry(..),
                _,
            ) => index_keys += 1,
            _ => {}
        }
    }
    anyhow::ensure!(
        index_keys as u64 == 3 * live,
        "{index_keys} index entries for {live} live reservations"
    );
    for id in 1..=nodes {
        match grid.0.get(&GridKey::Node(id)) {
            Some(GridValue::Node(node)) => anyhow::ensure!(
                node.used == used[id as usize]
                    && node.used.fits_within(&node.capacity)
                    && node.reservations == count[id as usize]
                    && node.reservations <= MAX_NODE_RESERVATIONS,
                "node {id}: used {:?} by {}, its reservations hold {:?} by {}",
                node.used,
                node.reservations,
                used[id as usize],
                count[id as usize]
            ),
            _ => anyhow::bail!("node {id} missing"),
        }
    }
    Ok(live)
}
