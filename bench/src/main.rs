//! tfchain benchmarks. Each prints `name: value` lines, and ratios against a baseline
//! measured in the same run, so figures compare across machines.
//!
//! `cargo run --release -p tfchain-bench -- core` (signature verification, apply_block)
//! `cargo run --release -p tfchain-bench -- pool` (pool admission, block templates)

mod core;
mod pool;

fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "core" => core::run(),
        "pool" => pool::run(),
        other => anyhow::bail!(
            "unknown benchmark {other:?}: use one of core, pool (e.g. cargo run --release -p tfchain-bench -- core)"
        ),
    }
}
