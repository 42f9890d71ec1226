//! `export-blocks`, `import-blocks` and `rollback`: offline operations on a data dir.

use super::{resolve_network, CommandError};
use crate::blockfile::{BlockReader, BlockWriter};
use crate::chain::{BlockVerdict, ChainWriter, Origin};
use crate::cli::{ChainArgs, ExportArgs, ImportArgs, RollbackArgs};
use crate::clock::{Clock, SystemClock};
use crate::store::{Store, StoreError};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tfchain_txpool::{Pool, PoolConfig};
use tfchain_types::Block;
use tokio::sync::broadcast;
use tracing::info;

/// Blocks read and pre-verified ahead of the one being applied.
const PREVERIFY_AHEAD: usize = 4;

fn open(chain: &ChainArgs) -> Result<(Store, tfchain_genesis::Genesis), CommandError> {
    let file = chain.file()?;
    let options = chain.store_options(&file);
    let network = chain
        .network
        .clone()
        .or(file.network)
        .ok_or_else(|| CommandError::Usage("--network is required".into()))?;
    let genesis = resolve_network(&network)?;
    let dir: PathBuf = chain
        .data_dir
        .clone()
        .or(file.data_dir)
        .ok_or(CommandError::NoDataDir)?;
    std::fs::create_dir_all(&dir).map_err(|source| CommandError::Io {
        path: dir.clone(),
        source,
    })?;
    let store = Store::open_with(&dir, &genesis, options)?;
    Ok((store, genesis))
}

pub fn export(args: ExportArgs) -> Result<(), CommandError> {
    let (store, _) = open(&args.chain)?;
    let io = |source| CommandError::Io {
        path: args.out.clone(),
        source,
    };
    let file = std::fs::File::create(&args.out).map_err(io)?;
    let mut w = BlockWriter::new(std::io::BufWriter::new(file))?;
    let tip = store.tip().height;
    for h in 1..=tip {
        let block = store.block_at(h)?.ok_or_else(|| {
            CommandError::Usage(format!("block at height {h} is missing from the store"))
        })?;
        w.write(&block)?;
    }
    w.finish()?;
    println!("exported blocks 1..={tip} to {}", args.out.display());
    Ok(())
}

/// Imports a block file; returns (blocks applied, seconds until the chain and, when the
/// store keeps them, the explorer indexes reached the last block).
pub fn import(args: ImportArgs) -> Result<(u64, f64), CommandError> {
    let (store, genesis) = open(&args.chain)?;
    let io = |source| CommandError::Io {
        path: args.input.clone(),
        source,
    };
    let file = std::fs::File::open(&args.input).map_err(io)?;
    let mut reader = BlockReader::new(std::io::BufReader::new(file))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let pool = Arc::new(Mutex::new(Pool::new(PoolConfig::default())));
    let (events, _) = broadcast::channel(16);
    let mut writer = ChainWriter::new(store, genesis.params(), pool, clock, events);
    let start = Instant::now();
    let mut applied = 0u64;
    let mut skipped = 0u64;
    let mut last_log = Instant::now();
    // A second thread reads ahead and verifies the next blocks' signatures (they need no
    // state) while this one applies and commits: the commit is single-threaded, so the
    // other core would otherwise idle. A small queue bounds the memory read ahead.
    let verified = writer.verified();
    let genesis_id = genesis.genesis_id();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Block, CommandError>>(PREVERIFY_AHEAD);
    let reading = std::thread::spawn(move || loop {
        let next = match reader.next_block() {
            Ok(Some(block)) => {
                verified.preverify(&block, &genesis_id);
                Ok(block)
            }
            Ok(None) => return,
            Err(e) => Err(CommandError::from(e)),
        };
        let stop = next.is_err();
        if tx.send(next).is_err() || stop {
            return;
        }
    });
    let outcome = (|| -> Result<(), CommandError> {
        for block in rx.iter() {
            let block = block?;
            let height = block.header.height;
            match writer.submit_block(block, Origin::Import)? {
                BlockVerdict::Connected { .. } => applied += 1,
                BlockVerdict::AlreadyKnown => skipped += 1,
                other => {
                    return Err(CommandError::Usage(format!(
                        "block at height {height} did not connect ({other:?}): is the file for this network, in height order?"
                    )))
                }
            }
            if last_log.elapsed().as_secs() >= 5 {
                info!(height, applied, "importing");
                last_log = Instant::now();
            }
        }
        Ok(())
    })();
    // Dropping the receiver stops the reader at its next send.
    drop(rx);
    let _ = reading.join();
    outcome?;
    writer.flush()?;
    // The state in the database too: a restart replays nothing.
    writer
        .store()
        .checkpoint()
        .map_err(crate::chain::ChainError::from)?;
    let chain_secs = start.elapsed().as_secs_f64();
    println!(
        "imported {applied} blocks ({skipped} already present) in {chain_secs:.2}s; tip height {}",
        writer.tip_height()
    );
    // The explorer indexes follow on their own thread: done when they reach the tip too.
    let store = writer.store();
    if store.explorer_index() {
        loop {
            match store.wait_indexed(std::time::Duration::from_secs(5)) {
                Ok(()) => break,
                Err(StoreError::IndexBehind { indexed, tip }) => {
                    info!(indexed, tip, "waiting for the explorer index")
                }
                Err(e) => return Err(e.into()),
            }
        }
        println!(
            "explorer index at the tip after {:.2}s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok((applied, start.elapsed().as_secs_f64()))
}

pub fn rollback(args: RollbackArgs) -> Result<(), CommandError> {
    let (store, _) = open(&args.chain)?;
    let before = store.tip().height;
    store.rollback(args.blocks)?;
    store.flush()?;
    println!("rolled back from height {before} to {}", store.tip().height);
    Ok(())
}
