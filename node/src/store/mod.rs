//! The chain store: block files (`<data_dir>/blocks`, [`segments`]) with the blocks and
//! their commit records, and the state, the indexes and a locator per block in one sled
//! database (`<data_dir>/db`) under a write-back cache ([`cache`]).
//!
//! # Layout and atomicity
//! Every table ([`tables`]) lives in one sled tree under a one-byte key prefix. Each change
//! of the main chain ([`Store::commit_block`], [`Store::undo_tip`], a repair) appends its
//! record to the block files and applies ONE batch to the cache; a checkpoint
//! ([`Store::checkpoint`], or [`Store::maybe_checkpoint`] in the background) moves the cache
//! to sled as one `sled::Batch`, recovered all-or-nothing after a crash, together with the
//! block-file position it covers. [`Store::flush`] syncs the block files: everything
//! committed before it survives a crash, replayed from the records after the last
//! checkpoint ([`replay`]). The consistency check on open ([`Store::check_consistency`]) is
//! the second line of defence against bugs and damaged disks.
//!
//! # Concurrency
//! [`Store`] is a cheap handle (`Arc` inside); clone it into RPC handlers. Writes are
//! serialised by an internal lock (the chain task is meant to be the only writer). Each
//! read sees whole batches, but a sequence of reads may straddle a commit: a reader that
//! needs the tip and something at the tip should tolerate `None` for data an undo removed.
//!
//! # Reads for the rules
//! [`StoreView`] (from [`Store::view`]) implements [`StateView`](tfchain_consensus::StateView)
//! for `apply_block` and remembers any read error, so the caller can tell "invalid block"
//! from "the disk failed". The last 1,024 main-chain [`BlockMeta`]s are cached in memory
//! (the stake modifier reads 256 of them per block).

mod cache;
mod check;
mod db;
mod error;
mod events;
mod grid;
mod indexer;
mod indexes;
mod read;
mod replay;
mod segments;
mod tables;
mod types;
mod verify;
mod view;
mod write;

pub use error::StoreError;
pub use events::{CursorError, LogEvent, LogPosition};
pub use indexer::IndexStatus;
pub use read::INDEX_WAIT;
pub use segments::{FileLoc, FilePos};
pub use types::{
    AddressTx, BlockIndexEntry, BlockStatus, ChainEvent, CommitRecord, ConsistencyReport,
    Equivocation, EventPosition, HistoryCursor, HistoryEntry, HistorySource, OutputRef,
    StoredEvent, Totals, TxLocation, UndoRecord,
};
pub use view::StoreView;

use db::Tables;
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tables::{BlockIndex, ExplorerIndex, Heights, RunningTotals, SchemaVersion, Tip};
use tfchain_consensus::{BlockMeta, BlockOutcome, ChainParams};
use tfchain_genesis::Genesis;
use tfchain_types::{Block, BlockId};

/// Version of the on-disk layout. Bump it with any change to a table's key or value
/// encoding; an older or newer database is refused with [`StoreError::SchemaMismatch`].
/// Version 4 added `ExplorerIndex` (a store may do without the explorer indexes). Version
/// 5 moved block bodies and undo data out of sled into the block files; a version-3 or 4
/// store is refused with a message saying how to carry its chain over
/// (`export-blocks` with the old tfchaind, `import-blocks` with this one). Version 6 moved
/// the explorer indexes to the indexer (with its own tip, `IndexTip`) and made the
/// transaction index name a height and position; a version-5 store is migrated on open by
/// dropping its explorer indexes, which the indexer then rebuilds.
pub const SCHEMA_VERSION: u32 = 6;

/// The write-back cache's default size (`--db-cache`), in MiB.
pub const DEFAULT_DB_CACHE_MIB: u64 = 256;
/// A checkpoint starts when the active layer holds this much, even under a larger
/// `--db-cache`: sled needs several KB of memory per entry of a batch (a 500,000-entry
/// checkpoint took 2.7 GB and 7 s), so smaller, more frequent batches on the background
/// thread keep memory bounded and overlap with block application.
const CHECKPOINT_LAYER_BYTES: usize = 16 << 20;
/// sled's page cache (its default is 1 GiB, which would dwarf `--db-cache`).
const SLED_CACHE_BYTES: u64 = 32 << 20;
/// A checkpoint also happens after this many blocks, whatever the cache holds, so that a
/// restart after a crash replays a bounded number of commits.
pub const CHECKPOINT_BLOCKS: u64 = 2_000;

/// How to open a store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Keep the explorer indexes: transaction ID → block, address → history, address →
    /// unspent outputs (what `tx_get` of a confirmed transaction and the `address_*` RPC
    /// methods read), built by the indexer thread. A validator needs none of them: without
    /// them the node skips the indexer's work and the store takes about half the disk on
    /// full blocks (`bench -- import`).
    ///
    /// `None`: as the store records (a new store keeps them). `Some(false)` on a store that
    /// keeps them drops them. `Some(true)` on a store that does not builds them from the
    /// genesis block, in the background (the indexer; reads answer
    /// [`StoreError::IndexBehind`] until it reaches the tip).
    pub explorer_index: Option<bool>,
    /// The write-back cache's bound in MiB (`--db-cache`); `None`: [`DEFAULT_DB_CACHE_MIB`].
    /// A checkpoint starts when the cache's active layer holds half of it; the layer being
    /// written and the one filling meanwhile stay within the bound together.
    pub db_cache_mib: Option<u64>,
}

/// Main-chain metadata kept in memory, newest last.
const META_CACHE_BLOCKS: usize = 1_024;

/// Name of the sled tree holding every table.
const TREE: &str = "chain";

/// A handle to the chain store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    tables: Tables,
    path: PathBuf,
    params: ChainParams,
    /// Serialises writers (commit, undo, side blocks, repair, checkpoint).
    writer: Mutex<()>,
    /// Blocks committed since the last checkpoint.
    since_checkpoint: AtomicU64,
    cache_limit: usize,
    /// The tip, the totals and recent metadata, updated after each applied batch.
    head: RwLock<Head>,
    opened: ConsistencyReport,
    /// The explorer indexer's progress and wake-ups.
    index: Arc<indexer::IndexShared>,
    /// The explorer indexer (none when the store keeps no explorer indexes).
    indexer: Mutex<Option<indexer::Indexer>>,
}

/// In-memory mirror of the tip: `recent` is the main chain's last blocks, contiguous,
/// ending with `tip`.
#[derive(Clone, Debug)]
struct Head {
    tip: BlockMeta,
    totals: Totals,
    recent: VecDeque<BlockMeta>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = self.inner.head.read();
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("network", &self.inner.params.network)
            .field("tip_height", &head.tip.height)
            .field("tip", &head.tip.id)
            .finish()
    }
}

impl Store {
    /// Opens the store of `genesis`'s network in `data_dir/db`, creating it with the
    /// genesis block committed if it does not exist. Refuses a database of another schema
    /// version or network, then runs [`Store::check_consistency`] (repairing if needed; the
    /// report is [`Store::open_report`]).
    pub fn open(data_dir: &Path, genesis: &Genesis) -> Result<Store, StoreError> {
        Self::open_with(data_dir, genesis, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(
        data_dir: &Path,
        genesis: &Genesis,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        Self::open_with_genesis_block(
            data_dir,
            &genesis.block(),
            &genesis.outcome(),
            &genesis.params(),
            options,
        )
    }

    /// [`Store::open`] for a genesis block built by other means (tests, simulations):
    /// `outcome` must be `apply_genesis(genesis_block, params)` and `params.genesis_id`
    /// the block's ID.
    pub fn open_with_genesis_block(
        data_dir: &Path,
        genesis_block: &Block,
        outcome: &BlockOutcome,
        params: &ChainParams,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let genesis_id = genesis_block.id();
        if outcome.meta.id != genesis_id || params.genesis_id != genesis_id {
            return Err(StoreError::OutcomeMismatch {
                block: genesis_id,
                detail: "the genesis outcome or the parameters' genesis_id belong to another block"
                    .into(),
            });
        }
        let path = data_dir.join("db");
        let db = open_db(&path)?;
        let tree = db.open_tree(TREE)?;
        let blocks_dir = data_dir.join("blocks");
        if tree.is_empty() {
            // A new store: block files left from an interrupted creation are not its own.
            if blocks_dir.exists() {
                std::fs::remove_dir_all(&blocks_dir).map_err(|e| StoreError::Io {
                    what: format!("removing {}", blocks_dir.display()),
                    source: e,
                })?;
            }
        }
        let mut tables = Tables {
            tree,
            cache: Arc::default(),
            files: Arc::new(segments::BlockFiles::open(&blocks_dir)?),
            flusher: Arc::default(),
            explorer: options.explorer_index.unwrap_or(true),
        };

        match tables.get::<SchemaVersion>(&())? {
            None if tables.tree.is_empty() => {
                tables.files.recover(segments::FilePos::default())?;
                let mut batch = tables.batch();
                batch.put::<SchemaVersion>(&(), &SCHEMA_VERSION);
                batch.put::<tables::GenesisId>(&(), &genesis_id);
                batch.put::<ExplorerIndex>(&(), &tables.explorer);
                write::stage_commit(
                    &tables,
                    &mut batch,
                    genesis_block,
                    outcome,
                    BlockId::ZERO,
                    Totals::default(),
                )?;
                tables.apply(batch)?;
                tables.flush()?;
                tracing::info!(path = %path.display(), genesis = %genesis_id,
                    network = %params.network, "created a new chain store");
            }
            None => {
                return Err(StoreError::unrecoverable(format!(
                    "{} holds data but no schema version: it is not a tfchain database, or its \
                     creation was interrupted",
                    path.display()
                )))
            }
            Some(found @ (3 | 4)) => {
                return Err(StoreError::unrecoverable(format!(
                    "{} has schema version {found}, which kept the blocks inside the database; \
                     this tfchaind keeps them in block files (schema {SCHEMA_VERSION}) and does \
                     not convert a database in place. Carry the chain over with `tfchaind \
                     export-blocks` from the old version and `tfchaind import-blocks` into a \
                     fresh --data-dir with this one",
                    path.display()
                )))
            }
            Some(5) => {
                migrate_from_5(&tables)?;
                open_existing(&mut tables, genesis_id, options, &path)?;
            }
            Some(found) if found != SCHEMA_VERSION => {
                return Err(StoreError::SchemaMismatch {
                    found,
                    expected: SCHEMA_VERSION,
                })
            }
            Some(_) => open_existing(&mut tables, genesis_id, options, &path)?,
        }

        let opened = check::check_and_repair(&tables, params)?;
        let head = load_head(&tables)?;
        tracing::info!(height = head.tip.height, tip = %head.tip.id,
            coins = %head.totals.coins.to_tft_string(), explorer_index = tables.explorer,
            "chain store opened");
        // What earlier processes wrote is durable before the indexer may follow it.
        tables.files.sync()?;
        let index = Arc::new(indexer::IndexShared::new());
        let indexer = if tables.explorer {
            // A repaired store's indexes may name what the repair undid: rebuild them.
            let rebuild = opened.repaired.is_some();
            Some(indexer::Indexer::start(
                tables.clone(),
                Arc::clone(&index),
                rebuild,
            )?)
        } else {
            None
        };
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                tables,
                path,
                params: params.clone(),
                writer: Mutex::new(()),
                since_checkpoint: AtomicU64::new(0),
                cache_limit: (options.db_cache_mib.unwrap_or(DEFAULT_DB_CACHE_MIB) as usize)
                    .saturating_mul(1 << 20),
                head: RwLock::new(head),
                opened,
                index,
                indexer: Mutex::new(indexer),
            }),
        })
    }

    /// The consistency report of [`Store::open`].
    pub fn open_report(&self) -> &ConsistencyReport {
        &self.inner.opened
    }

    /// Checks that the tip, the unspent outputs, the running totals and the undo data
    /// agree, repairing by rolling back to the last consistent block if they do not (see
    /// `check.rs`). Scans every unspent output: seconds on a large chain.
    pub fn check_consistency(&self) -> Result<ConsistencyReport, StoreError> {
        let _w = self.inner.writer.lock();
        let report = check::check_and_repair(&self.inner.tables, &self.inner.params)?;
        *self.inner.head.write() = load_head(&self.inner.tables)?;
        if report.repaired.is_some() && self.inner.tables.explorer {
            let mut slot = self.inner.indexer.lock();
            *slot = None; // stopped and joined before the new one starts
            *slot = Some(indexer::Indexer::start(
                self.inner.tables.clone(),
                Arc::clone(&self.inner.index),
                true,
            )?);
        }
        Ok(report)
    }

    /// Makes every commit and undo so far durable: syncs the block files, from whose
    /// records a restart after a crash replays whatever the last checkpoint does not hold.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.tables.files.sync()?;
        // The indexer follows only durable blocks: these now are.
        self.inner.index.notify();
        Ok(())
    }

    /// Starts a reorganisation: checkpoints, then marks the block files. Replay after a
    /// crash treats what lies between this mark and [`Store::end_reorg`]'s as one unit:
    /// without the end mark, it recovers to the state at this one.
    pub fn begin_reorg(&self) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        self.inner.index.set_reorg_open(true);
        self.checkpoint_locked()?;
        self.inner
            .tables
            .files
            .append(segments::Kind::ReorgBegin, &[])?;
        Ok(())
    }

    /// Ends a reorganisation (whichever way it went: switched, or restored): marks the
    /// block files and checkpoints, writing all of it to the database in one batch.
    pub fn end_reorg(&self) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        self.inner
            .tables
            .files
            .append(segments::Kind::ReorgEnd, &[])?;
        self.checkpoint_locked()?;
        self.inner.index.set_reorg_open(false);
        Ok(())
    }

    /// Moves the write-back cache to sled in one atomic batch and fsyncs it (after syncing
    /// the block files). Afterwards a restart replays nothing.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let _w = self.inner.writer.lock();
        self.checkpoint_locked()
    }

    fn checkpoint_locked(&self) -> Result<(), StoreError> {
        let start = std::time::Instant::now();
        let bytes = self.inner.tables.cache.bytes();
        let entries = self.inner.tables.flush()?;
        let blocks = self.inner.since_checkpoint.swap(0, Ordering::AcqRel);
        self.inner.index.notify();
        tracing::debug!(
            entries,
            bytes,
            blocks,
            ms = start.elapsed().as_millis() as u64,
            "checkpointed the state cache to the database"
        );
        Ok(())
    }

    /// Checkpoints when the cache holds more than `--db-cache` or [`CHECKPOINT_BLOCKS`]
    /// blocks were committed since the last checkpoint. Call between blocks, never inside
    /// a reorganisation (a checkpoint there would make its first half durable alone).
    ///
    /// The database is written on a background thread while commits go on (they apply to
    /// a fresh cache layer); the next checkpoint waits for it. An error of that write is
    /// returned by the next checkpoint.
    pub fn maybe_checkpoint(&self) -> Result<bool, StoreError> {
        let layer = (self.inner.cache_limit / 2).min(CHECKPOINT_LAYER_BYTES);
        let due = self.inner.tables.cache.bytes() >= layer
            || self.inner.since_checkpoint.load(Ordering::Acquire) >= CHECKPOINT_BLOCKS;
        if due {
            let _w = self.inner.writer.lock();
            let start = std::time::Instant::now();
            let bytes = self.inner.tables.cache.bytes();
            self.inner.tables.flush_in_background()?;
            self.inner.index.notify();
            let blocks = self.inner.since_checkpoint.swap(0, Ordering::AcqRel);
            tracing::debug!(
                bytes,
                blocks,
                ms = start.elapsed().as_millis() as u64,
                "started a background checkpoint of the state cache"
            );
        }
        Ok(due)
    }

    /// Bytes the write-back cache holds now (the layer filling and the one being written).
    pub fn cache_bytes(&self) -> usize {
        self.inner.tables.cache.total_bytes()
    }

    /// Bytes of the block files.
    pub fn block_files_size(&self) -> u64 {
        self.inner.tables.files.size_on_disk()
    }

    /// Bytes of the database (sled's files).
    pub fn database_size(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// The state's own bytes: Σ key + value over every entry (cache and database), what
    /// the database would hold with no overhead. Scans everything: for benchmarks and
    /// diagnostics.
    pub fn logical_state_bytes(&self) -> Result<u64, StoreError> {
        let t = &self.inner.tables;
        let mut n = 0u64;
        let all = cache::Merged::new(
            t.tree.iter(),
            t.cache
                .range(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded),
        );
        for item in all {
            let (k, v) = item?;
            n += (k.len() + v.len()) as u64;
        }
        Ok(n)
    }

    /// Whether this store keeps the explorer indexes ([`StoreOptions::explorer_index`]).
    pub fn explorer_index(&self) -> bool {
        self.inner.tables.explorer
    }

    /// The network parameters this store was opened with.
    pub fn params(&self) -> &ChainParams {
        &self.inner.params
    }

    pub fn genesis_id(&self) -> BlockId {
        self.inner.params.genesis_id
    }

    /// Size of the store on disk (the database and the block files), in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()? + self.block_files_size())
    }
}

impl Drop for Inner {
    /// The last handle going checkpoints, so a clean stop leaves nothing to replay.
    fn drop(&mut self) {
        // The indexer first: it reads the state this checkpoints.
        self.indexer.lock().take();
        if self.tables.cache.len() > 0 || self.tables.flusher.lock().is_some() {
            if let Err(e) = self.tables.flush() {
                tracing::error!(error = %e, "checkpoint on close failed: the next start replays the block files");
            }
        }
    }
}

/// Reads the tip, totals and recent metadata from disk.
fn load_head(t: &Tables) -> Result<Head, StoreError> {
    let missing = |what: &str| StoreError::unrecoverable(format!("the store has no {what}"));
    let tip_id = t.get::<Tip>(&())?.ok_or_else(|| missing("tip"))?;
    let tip = t
        .get::<BlockIndex>(&tip_id)?
        .ok_or_else(|| missing("index entry for its tip"))?
        .meta;
    let totals = t
        .get::<RunningTotals>(&())?
        .ok_or_else(|| missing("running totals"))?;
    let mut recent = VecDeque::with_capacity(META_CACHE_BLOCKS);
    let first = tip.height.saturating_sub(META_CACHE_BLOCKS as u64 - 1);
    for h in first..tip.height {
        let meta = t
            .get::<Heights>(&h)?
            .map(|id| t.get::<BlockIndex>(&id))
            .transpose()?
            .flatten()
            .ok_or_else(|| missing(&format!("main-chain block at height {h}")))?
            .meta;
        recent.push_back(meta);
    }
    recent.push_back(tip.clone());
    Ok(Head {
        tip,
        totals,
        recent,
    })
}

/// Opens a store of the current schema: checks the network, replays the block files past
/// the last checkpoint and settles the explorer indexes.
fn open_existing(
    tables: &mut Tables,
    genesis_id: BlockId,
    options: StoreOptions,
    path: &Path,
) -> Result<(), StoreError> {
    match tables.get::<tables::GenesisId>(&())? {
        Some(g) if g == genesis_id => {}
        Some(g) => {
            return Err(StoreError::WrongNetwork {
                found: g,
                expected: genesis_id,
            })
        }
        None => {
            return Err(StoreError::unrecoverable(
                "the database records no genesis ID",
            ))
        }
    }
    // Replay first: anything that checkpoints before it (dropping the indexes does) would
    // move the replay point past commits not yet in the database.
    replay::replay(tables)?;
    tables.explorer = explorer_mode(tables, options, path)?;
    Ok(())
}

/// Version 5 → 6: the explorer indexes go (the indexer rebuilds them in the new layout),
/// then the version moves. A crash in between leaves a version-5 store, migrated again.
fn migrate_from_5(tables: &Tables) -> Result<(), StoreError> {
    tracing::warn!(
        "migrating the chain store from schema 5 to {SCHEMA_VERSION}: the explorer indexes \
         are rebuilt in the background"
    );
    indexer::purge_now(tables)?;
    tables.tree.insert(
        tables::key::<SchemaVersion>(&()),
        tables::value::<SchemaVersion>(&SCHEMA_VERSION),
    )?;
    tables.tree.flush()?;
    Ok(())
}

/// Settles whether an existing store keeps the explorer indexes: as recorded, unless
/// `options` says otherwise. Dropping them records it first, then purges, so a crash in
/// between leaves a store without indexes and some garbage the next open purges. Adding
/// them records it; the indexer then builds them from the genesis block.
fn explorer_mode(tables: &Tables, options: StoreOptions, path: &Path) -> Result<bool, StoreError> {
    let recorded = tables.get::<ExplorerIndex>(&())?.ok_or_else(|| {
        StoreError::unrecoverable("the database does not record whether it keeps explorer indexes")
    })?;
    let set = |keep: bool| -> Result<(), StoreError> {
        let mut batch = tables.batch();
        batch.put::<ExplorerIndex>(&(), &keep);
        tables.apply(batch)?;
        tables.flush()?;
        Ok(())
    };
    match (recorded, options.explorer_index) {
        (false, Some(true)) => {
            indexer::purge_now(tables)?;
            set(true)?;
            tracing::info!(path = %path.display(), "building the explorer indexes from the genesis block in the background: tx_get of confirmed transactions and the address_* methods answer UNAVAILABLE until they reach the tip");
            Ok(true)
        }
        (true, Some(false)) => {
            // On disk before any entry goes: a store never says "indexed" with holes.
            set(false)?;
            tracing::warn!(path = %path.display(), "dropping the explorer indexes (explorer_index = false): tx_get of confirmed transactions and the address_* methods will be unavailable");
            indexer::purge_now(tables)?;
            Ok(false)
        }
        (true, _) => Ok(true),
        (false, _) => {
            indexer::purge_now(tables)?;
            Ok(false)
        }
    }
}

/// How long [`open_db`] waits for the database lock: a store of this process that was just
/// dropped releases it only when sled's background writes finish.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let start = std::time::Instant::now();
    loop {
        // sled's own page cache stays small: the state cache above it holds what is hot.
        match sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(e) => match open_error(e, path) {
                StoreError::Locked { .. } if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return Err(other),
            },
        }
    }
}

fn open_error(e: sled::Error, path: &Path) -> StoreError {
    match &e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        _ => StoreError::Sled(e),
    }
}
