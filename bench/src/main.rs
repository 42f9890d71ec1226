//! tfchain benchmarks. Each prints `name: value` lines, and ratios against a baseline
//! measured in the same run, so figures compare across machines.
//!
//! `cargo run --release -p tfchain-bench -- core` (signature verification, apply_block)
//! `cargo run --release -p tfchain-bench -- pool` (pool admission, block templates)
//! `cargo run --release -p tfchain-bench -- import` (import-blocks into a fresh data dir vs apply_block)
//! `cargo run --release -p tfchain-bench -- sync` (a fresh node syncing from a peer vs import-blocks)
//! `cargo run --release -p tfchain-bench -- localnet` (4 validators under load: confirmed tx/s, latency)
//! `cargo run --release -p tfchain-bench -- grid` (capacity market: apply_block with 1,000 vs
//! 1,000,000 live reservations, and blocks of 1,000 Reserve ops vs payments)
//! `cargo run --release -p tfchain-bench -- provision` (node daemon: reservation inclusion to
//! workload running over real processes, p50/p99 of 50; one reconcile of 1,000 reservations)
//!
//! `grid` builds two in-memory states that differ only in their grid: 1,000 and 1,000,000
//! live reservations on 1,000 nodes, written directly as consistent records (node `used`,
//! node/owner/expiry indexes, counters; checked after building) with expiries spread over
//! the next 100,000 blocks; building takes some seconds and is reported apart. It then times
//! `apply_block` (median of 9) of the same blocks on both: a mixed block (700 payments, 100
//! Reserve, 100 TopUp, 100 Cancel, 10 expiries at its height), whose large/small ratio
//! should stay at most 1.2; 1,000 Reserve ops as 1,000 one-op or 63 sixteen-op
//! transactions; and 1,000 payments as the baseline. `_state_us` figures repeat each with
//! signatures already verified, isolating the state transition; `grid_get_reservation_ns`
//! is a random record read on each state. Needs about 3 GB of memory, runs in ~20 s.

mod core;
mod grid;
mod import;
mod localnet;
mod pool;
mod provision;
mod sync;

fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "core" => core::run(),
        "pool" => pool::run(),
        "import" => import::run(),
        "sync" => sync::run(),
        "localnet" => localnet::run(),
        "grid" => grid::run(),
        "provision" => provision::run(),
        other => anyhow::bail!(
            "unknown benchmark {other:?}: use one of core, pool, import, sync, localnet, grid, provision (e.g. cargo run --release -p tfchain-bench -- core)"
        ),
    }
}
