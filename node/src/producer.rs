//! The block producer (PROTOCOL.md §5.2–5.5): with the validator key, tries the lottery
//! each second for every eligible blockstake output the key controls, and when one wins,
//! builds a block from the pool, signs it and submits it through the same path as any
//! block. It never searches past or future seconds: only the current one.

use crate::chain::ChainError;
use crate::chain::{BlockVerdict, ChainHandle, Origin};
use crate::clock::Clock;
use crate::store::StoreError;
use std::sync::Arc;
use std::time::Duration;
use tfchain_consensus::produce::{assemble_block, drop_grid_conflicts, Lottery};
use tfchain_consensus::{SpendContext, StakeEntry};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Address, BlockId, OutputId, SecretKey, Timestamp};
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// How often the producer wakes; finer than a second so no second is missed.
const TICK: Duration = Duration::from_millis(250);

/// A key's blockstake outputs.
type Stakes = Arc<Vec<(OutputId, StakeEntry)>>;

#[derive(Debug)]
pub struct Producer {
    chain: ChainHandle,
    key: SecretKey,
    address: Address,
    clock: Arc<dyn Clock>,
    /// When false the producer waits (e.g. while syncing).
    enabled: watch::Receiver<bool>,
    lottery: Option<(BlockId, Lottery)>,
    /// The key's blockstake outputs at a tip (they change only when the tip does).
    stakes: Option<(BlockId, Stakes)>,
    last_tried: Timestamp,
}

impl Producer {
    pub fn new(
        chain: ChainHandle,
        key: SecretKey,
        clock: Arc<dyn Clock>,
        enabled: watch::Receiver<bool>,
    ) -> Self {
        let address = Address::from_public_key(&key.public_key());
        Producer {
            chain,
            key,
            address,
            clock,
            enabled,
            lottery: None,
            stakes: None,
            last_tried: 0,
        }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        info!(address = %self.address, "block producer started");
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() || !self.chain.is_running() {
                break;
            }
            if !*self.enabled.borrow() {
                continue;
            }
            if let Err(e) = self.try_once().await {
                warn!(error = %e, "block production failed");
            }
        }
        info!("block producer stopped");
    }

    /// Tries the lottery for the current second. Returns whether a block was produced.
    pub async fn try_once(&mut self) -> Result<bool, ProduceError> {
        let now = self.clock.now();
        let store = self.chain.store.clone();
        let tip = store.tip();
        let t = now;
        if t <= tip.timestamp || t <= self.last_tried {
            return Ok(false);
        }
        self.last_tried = t;
        let params = self.chain.params.clone();
        // Store reads run on the blocking pool, once per tip: never on the async executor.
        let lottery = match &self.lottery {
            Some((id, l)) if *id == tip.id => l.clone(),
            _ => {
                let (s, p) = (store.clone(), params.clone());
                let l = tokio::task::spawn_blocking(move || Lottery::for_child_of(&s, &p))
                    .await
                    .map_err(|_| ProduceError::Interrupted)?;
                self.lottery = Some((tip.id, l.clone()));
                l
            }
        };
        let stakes = match &self.stakes {
            Some((id, s)) if *id == tip.id => Arc::clone(s),
            _ => {
                let (s, address) = (store.clone(), self.address);
                let stakes = tokio::task::spawn_blocking(move || s.stakes_of(&address))
                    .await
                    .map_err(|_| ProduceError::Interrupted)??;
                let stakes = Arc::new(stakes);
                self.stakes = Some((tip.id, Arc::clone(&stakes)));
                stakes
            }
        };
        let Some((stake_output, _)) = lottery.winner(&params, stakes.as_slice(), t) else {
            return Ok(false);
        };
        let ctx = SpendContext {
            height: tip.height + 1,
            timestamp: t,
        };
        let template = {
            let pool = self.chain.pool.lock();
            // The chain task commits a block, then updates the pool: build only from a pool
            // that follows the same tip, or the block could repeat confirmed transactions.
            if pool.tip().is_some_and(|p| p != tip.id) {
                self.last_tried = t - 1;
                return Ok(false);
            }
            pool.block_template(ctx, MAX_BLOCK_SIZE)
        };
        let transactions = drop_grid_conflicts(&store, &params, &ctx, template.transactions);
        let block = assemble_block(
            &store,
            t,
            *stake_output,
            &self.key,
            self.address,
            transactions,
        );
        // The tip may have moved while we built: the chain task will tell.
        let id = block.id();
        match self.chain.submit_block(block, Origin::Local).await {
            Ok(BlockVerdict::Connected { .. }) => Ok(true),
            Ok(other) => {
                debug!(block = %id, verdict = ?other, "produced block not connected");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Why producing a block failed.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    #[error("the chain refused our block: {0}")]
    Chain(#[from] ChainError),
    #[error("a store read was interrupted (the node is shutting down)")]
    Interrupted,
}
