//! Building long chains offline and fast: the real lottery, signing and chain task code
//! (`ChainWriter`) on a node's store, driven by a manual clock that jumps to each winning
//! second. Used to give a serving node thousands of blocks before a test (or benchmark)
//! starts a fresh node that must sync them.

use anyhow::Context;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tfchain_consensus::produce::{assemble_block, Lottery};
use tfchain_consensus::testkit::{sign_all, spend};
use tfchain_consensus::{BlockMeta, ChainParams, StakeEntry};
use tfchain_genesis::Genesis;
use tfchain_node::chain::{BlockVerdict, ChainWriter, Origin};
use tfchain_node::clock::ManualClock;
use tfchain_node::store::{OutputRef, Store};
use tfchain_txpool::{Pool, PoolConfig};
use tfchain_types::{
    Address, Block, Condition, Currency, Fulfillment, Input, KeySignature, Output, OutputId,
    SecretKey, Seed, Signature, Transaction, TX_VERSION,
};

/// A funded key that pays itself once per block.
struct Wallet {
    key: SecretKey,
    output: OutputId,
    value: Currency,
}

/// Produces blocks on a store with the validators' keys.
pub struct Builder {
    pub store: Store,
    writer: ChainWriter,
    clock: ManualClock,
    params: ChainParams,
    stakes: Vec<(OutputId, StakeEntry)>,
    owners: HashMap<OutputId, SecretKey>,
    wallets: Vec<Wallet>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("tip", &self.store.tip().height)
            .finish()
    }
}

impl Builder {
    /// Opens (or creates) the store in `data_dir`.
    pub fn open(
        data_dir: &Path,
        genesis: &Genesis,
        validators: &[SecretKey],
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let store = Store::open(data_dir, genesis)?;
        let params = genesis.params();
        let clock = ManualClock::new(store.tip().timestamp);
        let pool = Arc::new(Mutex::new(Pool::new(PoolConfig::default())));
        let (events, _) = tokio::sync::broadcast::channel(16);
        let writer = ChainWriter::new(
            store.clone(),
            params.clone(),
            pool,
            Arc::new(clock.clone()),
            events,
        );
        let mut stakes = Vec::new();
        let mut owners = HashMap::new();
        for key in validators {
            let addr = Address::from_public_key(&key.public_key());
            for (id, o) in store.address_outputs(&addr)? {
                if let OutputRef::Stake(e) = o {
                    stakes.push((id, e));
                    owners.insert(id, key.clone());
                }
            }
        }
        anyhow::ensure!(!stakes.is_empty(), "the validators hold no blockstakes");
        Ok(Builder {
            store,
            writer,
            clock,
            params,
            stakes,
            owners,
            wallets: Vec::new(),
        })
    }

    /// Splits validator `funder`'s first coin output into `n` (<= 255) wallets that pay
    /// themselves in every later block ([`Builder::produce_with_payments`]).
    pub fn fund_wallets(&mut self, funder: &SecretKey, n: usize) -> anyhow::Result<()> {
        let addr = Address::from_public_key(&funder.public_key());
        let (input, value) = self
            .store
            .address_outputs(&addr)?
            .into_iter()
            .find_map(|(id, o)| match o {
                OutputRef::Coin(c) if c.mature_at <= self.store.tip().height + 1 => {
                    Some((id, c.value))
                }
                _ => None,
            })
            .context("the funder has no spendable coins")?;
        let n = n.clamp(1, 255);
        let fee = self.params.min_fee;
        let each = Currency(value.0.saturating_sub(fee.0) / (n as u128 + 1));
        let keys: Vec<SecretKey> = (0..n as u64).map(|i| Seed([7; 32]).derive_key(i)).collect();
        let mut outputs: Vec<Output> = keys
            .iter()
            .map(|k| Output {
                value: each,
                condition: Condition::Address(Address::from_public_key(&k.public_key())),
            })
            .collect();
        let spent = each.0 * n as u128 + fee.0;
        outputs.push(Output {
            value: Currency(value.0 - spent),
            condition: Condition::Address(addr),
        });
        let mut tx = Transaction {
            version: TX_VERSION,
            coin_inputs: vec![Input {
                parent: input,
                fulfillment: Fulfillment::Signature(KeySignature {
                    public_key: funder.public_key(),
                    signature: Signature::ZERO,
                }),
            }],
            coin_outputs: outputs,
            blockstake_inputs: vec![],
            blockstake_outputs: vec![],
            fee,
            arbitrary_data: vec![],
            grid_ops: vec![],
        };
        sign_all(&mut tx, funder, &self.params.genesis_id);
        let txid = tx.txid();
        self.produce(vec![tx])?;
        self.wallets = keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| Wallet {
                key,
                output: Transaction::coin_output_id(&txid, i),
                value: each,
            })
            .collect();
        Ok(())
    }

    /// One self-payment from each of the first `n` wallets (signed on all cores).
    fn payments(&mut self, n: usize) -> Vec<Transaction> {
        use rayon::prelude::*;
        let fee = self.params.min_fee;
        let genesis_id = self.params.genesis_id;
        let n = n.min(self.wallets.len());
        self.wallets[..n]
            .par_iter_mut()
            .map(|w| {
                let value = Currency(w.value.0 - fee.0);
                let mut tx = Transaction {
                    version: TX_VERSION,
                    coin_inputs: vec![Input {
                        parent: w.output,
                        fulfillment: Fulfillment::Signature(KeySignature {
                            public_key: w.key.public_key(),
                            signature: Signature::ZERO,
                        }),
                    }],
                    coin_outputs: vec![Output {
                        value,
                        condition: Condition::Address(Address::from_public_key(
                            &w.key.public_key(),
                        )),
                    }],
                    blockstake_inputs: vec![],
                    blockstake_outputs: vec![],
                    fee,
                    arbitrary_data: vec![],
                    grid_ops: vec![],
                };
                sign_all(&mut tx, &w.key, &genesis_id);
                w.output = Transaction::coin_output_id(&tx.txid(), 0);
                w.value = value;
                tx
            })
            .collect()
    }

    /// Splits `funder`'s first spendable coin output into `n` (at most 255 × 255) outputs
    /// owned by `owners` in turn, in blocks that respect the size limit. Returns each
    /// output with the index of its owner and its value.
    pub fn fan_out(
        &mut self,
        funder: &SecretKey,
        owners: &[SecretKey],
        n: usize,
    ) -> anyhow::Result<Vec<(usize, OutputId, Currency)>> {
        use rayon::prelude::*;
        anyhow::ensure!(!owners.is_empty() && n > 0 && n <= 255 * 255, "bad fan-out");
        let funder_addr = Address::from_public_key(&funder.public_key());
        let height = self.store.tip().height;
        let (input, value) = self
            .store
            .address_outputs(&funder_addr)?
            .into_iter()
            .find_map(|(id, o)| match o {
                OutputRef::Coin(c) if c.mature_at <= height + 1 => Some((id, c.value)),
                _ => None,
            })
            .context("the funder has no spendable coins")?;
        let fee = self.params.min_fee;
        let genesis_id = self.params.genesis_id;
        let middles = n.div_ceil(255);
        let each_middle = Currency((value.0 - fee.0) / middles as u128);
        let first = split_tx(
            (input, value),
            funder,
            &vec![funder_addr; middles],
            each_middle,
            fee,
            &genesis_id,
        );
        let first_id = first.txid();
        self.produce(vec![first])?;
        let each = Currency((each_middle.0 - fee.0) / 255);
        let txs: Vec<Transaction> = (0..middles)
            .into_par_iter()
            .map(|m| {
                let count = (n - m * 255).min(255);
                let to: Vec<Address> = (0..count)
                    .map(|i| {
                        let k = &owners[(m * 255 + i) % owners.len()];
                        Address::from_public_key(&k.public_key())
                    })
                    .collect();
                let parent = Transaction::coin_output_id(&first_id, m);
                split_tx((parent, each_middle), funder, &to, each, fee, &genesis_id)
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for (m, tx) in txs.iter().enumerate() {
            let id = tx.txid();
            for i in 0..(n - m * 255).min(255) {
                let owner = (m * 255 + i) % owners.len();
                out.push((owner, Transaction::coin_output_id(&id, i), each));
            }
        }
        let budget = tfchain_types::limits::MAX_BLOCK_SIZE - 64 * 1024;
        let mut block = Vec::new();
        let mut bytes = 0;
        for tx in txs {
            let size = tx.encoded_len();
            if bytes + size > budget {
                self.produce(std::mem::take(&mut block))?;
                bytes = 0;
            }
            bytes += size;
            block.push(tx);
        }
        if !block.is_empty() {
            self.produce(block)?;
        }
        Ok(out)
    }

    /// Produces one block holding `txs` at the first second after the tip that some
    /// validator wins.
    pub fn produce(&mut self, txs: Vec<Transaction>) -> anyhow::Result<Block> {
        let tip = self.store.tip();
        let lottery = Lottery::for_child_of(&self.store, &self.params);
        let mut t = tip.timestamp + 1;
        let (out, _) = loop {
            if let Some(w) = lottery.winner(&self.params, &self.stakes, t) {
                break w.clone();
            }
            t += 1;
        };
        let key = self.owners.get(&out).context("winner without a key")?;
        self.clock.set(t);
        let block = assemble_block(
            &self.store,
            t,
            out,
            key,
            Address::from_public_key(&key.public_key()),
            txs,
        );
        match self.writer.submit_block(block.clone(), Origin::Import)? {
            BlockVerdict::Connected { .. } => Ok(block),
            other => anyhow::bail!("built block did not connect: {other:?}"),
        }
    }

    /// Produces a block with one payment from each of the first `n` funded wallets.
    pub fn produce_with_payments(&mut self, n: usize) -> anyhow::Result<Block> {
        let txs = self.payments(n);
        self.produce(txs)
    }

    /// Produces `n` empty blocks.
    pub fn produce_empty(&mut self, n: u64) -> anyhow::Result<BlockMeta> {
        for _ in 0..n {
            self.produce(vec![])?;
        }
        Ok(self.store.tip())
    }

    pub fn tip(&self) -> BlockMeta {
        self.store.tip()
    }

    /// Flushes and closes the store.
    pub fn finish(self) -> anyhow::Result<BlockMeta> {
        self.writer.flush()?;
        let tip = self.store.tip();
        drop(self.writer);
        self.store.flush()?;
        Ok(tip)
    }
}

/// A signed transaction spending `input` (owned by `key`) into one output of `each` per
/// address of `to`, the rest (minus `fee`) back to `key` when above zero.
pub fn split_tx(
    input: (OutputId, Currency),
    key: &SecretKey,
    to: &[Address],
    each: Currency,
    fee: Currency,
    genesis_id: &tfchain_types::BlockId,
) -> Transaction {
    let mut coin_outputs: Vec<Output> = to
        .iter()
        .map(|a| Output {
            value: each,
            condition: Condition::Address(*a),
        })
        .collect();
    let spent = each.0 * to.len() as u128 + fee.0;
    let change = input.1 .0.saturating_sub(spent);
    if change > 0 && coin_outputs.len() < 256 {
        coin_outputs.push(Output {
            value: Currency(change),
            condition: Condition::Address(Address::from_public_key(&key.public_key())),
        });
    }
    spend(&[input.0], coin_outputs, key, fee, genesis_id)
}
