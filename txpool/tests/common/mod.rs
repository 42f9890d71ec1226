//! Shared helpers: a small test network (real keys, real signatures, real `apply_block`)
//! and transaction builders.
#![allow(dead_code)]

use tfchain_consensus::memory::MemoryState;
use tfchain_consensus::testkit::{address_of, payment, sign_all, TestChain};
use tfchain_consensus::{apply_block, ChainParams, SpendContext, StateView};
use tfchain_txpool::{BlockTemplate, ChainAt, ConnectReport, Pool, PoolConfig, ReinjectReport};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{
    Block, Condition, Currency, Fulfillment, Input, KeySignature, Output, OutputId, SecretKey,
    Signature, Timestamp, Transaction, TxId, TX_VERSION,
};

/// The dev network's minimum fee (0.01 TFT).
pub const MIN_FEE: Currency = Currency(10_000_000);
pub const TFT: u128 = 1_000_000_000;

pub struct Net {
    pub chain: TestChain,
    pub pool: Pool,
}

impl Net {
    /// Two validators and `funded` keys with 1,000 TFT each.
    pub fn new(funded: usize) -> Net {
        Net::with_config(funded, PoolConfig::default())
    }

    pub fn with_config(funded: usize, config: PoolConfig) -> Net {
        Net {
            chain: TestChain::new(&[1_000, 1_000], funded, Currency::from_tft(1_000)),
            pool: Pool::new(config),
        }
    }

    pub fn view(&self) -> ChainAt<'_, MemoryState> {
        ChainAt::new(&self.chain.state, &self.chain.params)
    }

    pub fn params(&self) -> &ChainParams {
        &self.chain.params
    }

    pub fn key(&self, k: usize) -> SecretKey {
        self.chain.funded[k].clone()
    }

    /// The genesis output of funded key `k` (spent or not).
    pub fn coin_of(&self, k: usize) -> (OutputId, Currency) {
        let allocation = &self.chain.genesis.transactions[0];
        let value = allocation.coin_outputs[k].value;
        (Transaction::coin_output_id(&allocation.txid(), k), value)
    }

    /// A clock reading just after the tip.
    pub fn now(&self) -> Timestamp {
        self.chain.state.tip().timestamp + 1
    }

    pub fn admit(
        &mut self,
        tx: Transaction,
    ) -> Result<tfchain_txpool::Admitted, tfchain_txpool::PoolError> {
        let now = self.now();
        let chain = ChainAt::new(&self.chain.state, &self.chain.params);
        self.pool.admit(&chain, tx, now)
    }

    /// Pays `amount` from key `k`'s genesis output to key `to`, change back to `k`.
    pub fn pay(&self, k: usize, to: usize, amount: u128, fee: Currency) -> Transaction {
        let (id, value) = self.coin_of(k);
        payment(
            &[(id, value)],
            &self.chain.funded[k],
            Condition::Address(address_of(&self.chain.funded[to])),
            Currency(amount),
            fee,
            &self.chain.params.genesis_id,
        )
    }

    /// Spends output `index` of `parent` (owned by key `k`, worth `value`): pays `amount`
    /// to key `to`, change back to `k`.
    pub fn spend(
        &self,
        parent: &Transaction,
        index: usize,
        k: usize,
        to: usize,
        amount: u128,
        fee: Currency,
    ) -> Transaction {
        let out = &parent.coin_outputs[index];
        let id = Transaction::coin_output_id(&parent.txid(), index);
        payment(
            &[(id, out.value)],
            &self.chain.funded[k],
            Condition::Address(address_of(&self.chain.funded[to])),
            Currency(amount),
            fee,
            &self.chain.params.genesis_id,
        )
    }

    /// The block context of the next block, found by the real lottery.
    pub fn next_ctx(&self) -> SpendContext {
        let (b, _) = self.chain.next_block(vec![]);
        SpendContext {
            height: b.header.height,
            timestamp: b.header.timestamp,
        }
    }

    pub fn template(&self) -> BlockTemplate {
        self.pool.block_template(self.next_ctx(), MAX_BLOCK_SIZE)
    }

    /// Builds the next block with `txs`, checks it with `apply_block`, applies it and
    /// tells the pool.
    pub fn mine(&mut self, txs: Vec<Transaction>) -> (Block, ConnectReport) {
        let (block, _) = self.chain.next_block(txs);
        let now = block.header.timestamp;
        apply_block(&self.chain.state, &block, &self.chain.params, now)
            .expect("the block applies cleanly");
        self.chain
            .state
            .apply(&block, &self.chain.params, now)
            .expect("the block applies cleanly");
        let chain = ChainAt::new(&self.chain.state, &self.chain.params);
        let report = self
            .pool
            .on_block_connected(&chain, &block)
            .expect("the pool follows the chain");
        (block, report)
    }

    /// Mines the pool's own template.
    pub fn mine_template(&mut self) -> (Block, ConnectReport) {
        let t = self.template();
        self.mine(t.transactions)
    }

    /// Undoes the tip block and tells the pool.
    pub fn undo(&mut self, block: &Block) -> ReinjectReport {
        assert!(self.chain.state.undo_tip(), "there is a block to undo");
        let now = self.now();
        let chain = ChainAt::new(&self.chain.state, &self.chain.params);
        self.pool
            .on_block_disconnected(&chain, block, now)
            .expect("the pool follows the chain")
    }

    pub fn assert_consistent(&self) {
        if let Err(e) = self.pool.check_consistency() {
            panic!("pool inconsistent: {e}");
        }
    }
}

/// A chain of `n` payments from key `k`: each spends the change (output 1) of the previous.
pub fn chain_of(net: &Net, k: usize, n: usize, fee: Currency) -> Vec<Transaction> {
    let mut out: Vec<Transaction> = Vec::new();
    for _ in 0..n {
        let tx = match out.last() {
            None => net.pay(k, k, TFT, fee),
            Some(prev) => net.spend(prev, 1, k, k, TFT, fee),
        };
        out.push(tx);
    }
    out
}

/// An unsigned transaction spending `inputs` (with fulfillments for `key`), then signed.
pub fn signed(
    key: &SecretKey,
    inputs: &[OutputId],
    outputs: Vec<Output>,
    fee: Currency,
    genesis: &tfchain_types::BlockId,
) -> Transaction {
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: inputs
            .iter()
            .map(|p| Input {
                parent: *p,
                fulfillment: Fulfillment::Signature(KeySignature {
                    public_key: key.public_key(),
                    signature: Signature::ZERO,
                }),
            })
            .collect(),
        coin_outputs: outputs,
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee,
        arbitrary_data: vec![],
        grid_ops: vec![],
    };
    sign_all(&mut tx, key, genesis);
    tx
}

pub fn txid_set(txs: &[Transaction]) -> Vec<TxId> {
    let mut v: Vec<TxId> = txs.iter().map(Transaction::txid).collect();
    v.sort();
    v
}
