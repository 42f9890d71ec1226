//! The recovery scan (PROTOCOL.md §10): legacy wallets handed out index 25 first and
//! scanned indices 0..2499, so a restore looks at every index below `limit` and keeps going
//! until `gap` consecutive indices past the last used one are unused. An address is used
//! when it has any history on the chain. The node is asked in JSON-RPC batches.

use crate::error::Result;
use crate::rpc::{Node, BATCH_SIZE};
use crate::wallet::WalletKey;
use tfchain_types::Seed;

/// Indices whose addresses the chain has seen, in order.
pub async fn scan_used(
    node: &Node,
    seed: &Seed,
    limit: u64,
    gap: u64,
    progress: bool,
) -> Result<Vec<u64>> {
    let progress = progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let step = (BATCH_SIZE * 4) as u64;
    let mut used = Vec::new();
    let mut end = limit.max(gap);
    let mut start = 0u64;
    while start < end {
        let stop = end.min(start.saturating_add(step));
        let keys: Vec<WalletKey> = (start..stop).map(|i| WalletKey::derive(seed, i)).collect();
        let addrs: Vec<_> = keys.iter().map(|k| k.address).collect();
        let pages = node.histories(&addrs, 1).await?;
        for (k, page) in keys.iter().zip(&pages) {
            if !page.entries.is_empty() {
                used.push(k.index);
                end = end.max(k.index.saturating_add(1).saturating_add(gap));
            }
        }
        start = stop;
        if progress {
            eprint!("\rscanned {start} of {end} addresses, {} used", used.len());
        }
    }
    if progress {
        eprintln!();
    }
    Ok(used)
}
