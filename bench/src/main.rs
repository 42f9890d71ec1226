//! tfchain benchmarks. Each prints `name: value` lines, and ratios against a baseline
//! measured in the same run, so figures compare across machines.
//!
//! `cargo run --release -p tfchain-bench -- core` (signature verification, apply_block)
//! `cargo run --release -p tfchain-bench -- pool` (pool admission, block templates)
//! `cargo run --release -p tfchain-bench -- import` (import-blocks into a fresh data dir vs apply_block)
//! `cargo run --release -p tfchain-bench -- sync` (a fresh node syncing from a peer vs import-blocks)
//! `cargo run --release -p tfchain-bench -- localnet` (4 validators under load: confirmed tx/s, latency)

mod core;
mod import;
mod localnet;
mod pool;
mod sync;

fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "core" => core::run(),
        "pool" => pool::run(),
        "import" => import::run(),
        "sync" => sync::run(),
        "localnet" => localnet::run(),
        other => anyhow::bail!(
            "unknown benchmark {other:?}: use one of core, pool, import, sync, localnet (e.g. cargo run --release -p tfchain-bench -- core)"
        ),
    }
}
