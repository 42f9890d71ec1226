//! The chain task: the only writer of chain state and of the pool. Everyone else holds a
//! cloneable [`ChainHandle`] that sends it commands over a bounded channel and reads the
//! store and the pool directly (readers never block the writer).

mod error;
mod orphans;
mod reorg;
mod side;
mod verified;
mod writer;

pub use error::ChainError;
pub use orphans::{MAX_HELD_BLOCKS, MAX_HELD_BYTES};
pub use side::{MAX_SIDE_BLOCKS_PER_FORK, MAX_SIDE_BYTES_PER_FORK};
pub use verified::{VerifiedCache, VERIFIED_CACHE_ENTRIES};
pub use writer::{BlockVerdict, ChainWriter, Origin};

use crate::store::Store;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tfchain_consensus::ChainParams;
use tfchain_txpool::{Pool, PoolError};
use tfchain_types::{Block, BlockId, Transaction, TxId};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::error;

/// What the chain did, for subscribers (RPC, gossip, producer).
#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A block joined the main chain.
    Connected(Arc<Block>),
    /// The main chain's tip block was undone (a rollback outside a reorganisation).
    Disconnected(Arc<Block>),
    /// A reorganisation switched the main chain, as one unit: `undone` (newest first) left
    /// it and `applied` (oldest first) joined it. Sent once the switch is durable; never
    /// for a reorganisation that failed and restored the chain it started from.
    Reorganized {
        undone: Vec<Arc<Block>>,
        applied: Vec<Arc<Block>>,
    },
    /// A transaction entered the pool.
    TxAccepted(TxId),
}

enum Command {
    Block {
        block: Box<Block>,
        origin: Origin,
        reply: oneshot::Sender<Result<BlockVerdict, ChainError>>,
    },
    Txs {
        txs: Vec<Transaction>,
        reply: oneshot::Sender<Vec<Result<TxId, PoolError>>>,
    },
    Flush {
        reply: oneshot::Sender<Result<(), ChainError>>,
    },
    Tick,
}

/// How long a caller waits for the chain task before giving up.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// Commands queued before senders wait.
const QUEUE: usize = 1_024;

/// A cloneable handle to the chain task.
#[derive(Clone, Debug)]
pub struct ChainHandle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<ChainEvent>,
    pub store: Store,
    pub pool: Arc<Mutex<Pool>>,
    pub params: Arc<ChainParams>,
    refused_held: Arc<Mutex<Vec<BlockId>>>,
    /// Why the chain task stopped itself, if it did (the store cannot write).
    fatal: Arc<std::sync::OnceLock<String>>,
}

/// A store error that means nothing more can be written (disk full, I/O failure): the
/// chain task stops, and with it the node, rather than refuse every block while it runs.
fn fatal_store_error<T>(r: &Result<T, ChainError>) -> Option<String> {
    match r {
        Err(ChainError::Store(e)) if e.is_write_failure() => Some(format!(
            "the chain store cannot write: {e}. The node stops; nothing committed is lost \
             (the store recovers on the next start)"
        )),
        _ => None,
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Block { .. } => "Block",
            Command::Txs { .. } => "Txs",
            Command::Flush { .. } => "Flush",
            Command::Tick => "Tick",
        })
    }
}

impl ChainHandle {
    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(make(reply)).await.ok()?;
        tokio::time::timeout(COMMAND_TIMEOUT, rx).await.ok()?.ok()
    }

    /// Submits a block; waits for the verdict.
    pub async fn submit_block(
        &self,
        block: Block,
        origin: Origin,
    ) -> Result<BlockVerdict, ChainError> {
        self.call(|reply| Command::Block {
            block: Box::new(block),
            origin,
            reply,
        })
        .await
        .unwrap_or(Err(ChainError::Stopped))
    }

    /// Submits transactions to the pool; one result per transaction, in order.
    pub async fn submit_txs(&self, txs: Vec<Transaction>) -> Option<Vec<Result<TxId, PoolError>>> {
        self.call(|reply| Command::Txs { txs, reply }).await
    }

    /// Flushes the store to disk.
    pub async fn flush(&self) -> Result<(), ChainError> {
        self.call(|reply| Command::Flush { reply })
            .await
            .unwrap_or(Err(ChainError::Stopped))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// Takes the IDs of held blocks (parent unknown, or early) that proved invalid when
    /// they could finally be checked, so the peers that sent them can be penalised.
    pub fn take_refused_held(&self) -> Vec<BlockId> {
        std::mem::take(&mut *self.refused_held.lock())
    }

    /// Whether the chain task is still running.
    /// Why the chain task stopped itself (the store could not write), if it did.
    pub fn fatal_error(&self) -> Option<String> {
        self.fatal.get().cloned()
    }

    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }
}

/// Starts the chain task on its own thread. It stops when every handle is dropped; if it
/// panics, `on_exit` is called so the node can shut down instead of limping on.
pub fn spawn(
    writer: ChainWriter,
    on_exit: impl FnOnce(bool) + Send + 'static,
) -> std::io::Result<ChainHandle> {
    let (tx, mut rx) = mpsc::channel::<Command>(QUEUE);
    let handle = ChainHandle {
        commands: tx.clone(),
        events: writer.events.clone(),
        store: writer.store.clone(),
        pool: writer.pool.clone(),
        params: Arc::new(writer.params.clone()),
        refused_held: Arc::clone(&writer.refused_held),
        fatal: Arc::default(),
    };
    let fatal = Arc::clone(&handle.fatal);
    std::thread::Builder::new()
        .name("chain".into())
        .spawn(move || {
            let mut writer = writer;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                while let Some(cmd) = rx.blocking_recv() {
                    match cmd {
                        Command::Block {
                            block,
                            origin,
                            reply,
                        } => {
                            let r = writer.submit_block(*block, origin);
                            let stop = fatal_store_error(&r);
                            let _ = reply.send(r);
                            if let Some(why) = stop {
                                error!("{why}");
                                let _ = fatal.set(why);
                                break;
                            }
                        }
                        Command::Txs { txs, reply } => {
                            let _ = reply.send(writer.submit_txs(txs));
                        }
                        Command::Flush { reply } => {
                            let r = writer.flush();
                            let stop = fatal_store_error(&r);
                            let _ = reply.send(r);
                            if let Some(why) = stop {
                                error!("{why}");
                                let _ = fatal.set(why);
                                break;
                            }
                        }
                        Command::Tick => writer.retry_held(),
                    }
                }
            }));
            if run.is_err() {
                error!("the chain task panicked: shutting the node down");
            }
            on_exit(run.is_err());
        })?;
    // Once a second: retry held blocks (those that were ahead of the clock).
    let ticker = tx.downgrade();
    drop(tx);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            let Some(sender) = ticker.upgrade() else {
                break;
            };
            // A busy chain task just skips a tick.
            let _ = sender.try_send(Command::Tick);
        }
    });
    Ok(handle)
}
