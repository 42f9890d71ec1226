//! Deterministic building blocks for tests, simulations and benchmarks: a small network
//! with known keys on an in-memory state, a producer that runs the real lottery, and
//! transaction signing. Never used by a running node.

use crate::apply::genesis_block;
use crate::memory::MemoryState;
use crate::params::{ChainParams, GridSplit, Ratio};
use crate::produce::{assemble_block, Lottery};
use crate::state::{BlockOutcome, CoinEntry, StakeEntry, StateView};
use crate::BlockError;
use tfchain_types::{
    Address, Block, BlockId, Condition, Currency, Fulfillment, Input, KeySignature, Output,
    OutputId, SecretKey, Seed, Signature, StakeOutput, Timestamp, Transaction, TX_VERSION,
};

/// The `dev` parameters of PROTOCOL.md §9 (genesis ID still unset).
pub fn dev_params() -> ChainParams {
    ChainParams {
        network: "test".into(),
        genesis_id: BlockId::ZERO,
        block_time: 2,
        retarget_interval: 10,
        retarget_window: 20,
        max_adjust: Ratio { num: 5, den: 4 },
        future_threshold: 4,
        stake_modifier_delay: 5,
        stake_aging: 20,
        maturity_delay: 5,
        max_reorg_depth: 100,
        block_reward: Currency::from_tft(1),
        min_fee: Currency(10_000_000),
        min_reservation_blocks: 10,
        grace_period: 30,
        grid_split: GridSplit { farmer_percent: 90 },
        fee_address: None,
    }
}

/// Key `index` of the test seed `seed`.
pub fn test_key(seed: u8, index: u64) -> SecretKey {
    Seed([seed; 32]).derive_key(index)
}

pub fn address_of(key: &SecretKey) -> Address {
    Address::from_public_key(&key.public_key())
}

/// A test network on an in-memory state.
#[derive(Clone, Debug)]
pub struct TestChain {
    pub params: ChainParams,
    pub genesis: Block,
    pub state: MemoryState,
    /// One key per validator, holding one blockstake output each.
    pub validators: Vec<SecretKey>,
    /// Keys holding one genesis coin output each.
    pub funded: Vec<SecretKey>,
    pub genesis_coins: Currency,
}

pub const GENESIS_TIME: Timestamp = 1_700_000_000;

impl TestChain {
    /// Validators with the given stakes, and `funded` keys with `coins_each` each.
    pub fn new(stakes: &[u64], funded: usize, coins_each: Currency) -> Self {
        Self::with_params(dev_params(), stakes, funded, coins_each)
    }

    pub fn with_params(
        mut params: ChainParams,
        stakes: &[u64],
        funded: usize,
        coins_each: Currency,
    ) -> Self {
        let validators: Vec<SecretKey> = (0..stakes.len() as u64).map(|i| test_key(1, i)).collect();
        let funded: Vec<SecretKey> = (0..funded as u64).map(|i| test_key(2, i)).collect();
        let allocation = Transaction {
            version: TX_VERSION,
            coin_inputs: vec![],
            coin_outputs: funded
                .iter()
                .map(|k| Output {
                    value: coins_each,
                    condition: Condition::Address(address_of(k)),
                })
                .collect(),
            blockstake_inputs: vec![],
            blockstake_outputs: validators
                .iter()
                .zip(stakes)
                .map(|(k, s)| StakeOutput {
                    value: *s,
                    condition: Condition::Address(address_of(k)),
                })
                .collect(),
            fee: Currency::ZERO,
            arbitrary_data: b"tfchain test network".to_vec(),
            grid_ops: vec![],
        };
        let genesis = genesis_block(GENESIS_TIME, allocation);
        params.genesis_id = genesis.id();
        let state =
            MemoryState::from_genesis(&genesis, &params).expect("the test genesis is well formed");
        let genesis_coins = state.total_coins();
        TestChain {
            params,
            genesis,
            state,
            validators,
            funded,
            genesis_coins,
        }
    }

    /// The blockstake outputs each validator controls, in validator order.
    pub fn validator_stakes(&self) -> Vec<(usize, OutputId, StakeEntry)> {
        let mut out = Vec::new();
        for (i, k) in self.validators.iter().enumerate() {
            let a = address_of(k);
            for (id, e) in &self.state.stakes {
                if e.condition.address() == a {
                    out.push((i, *id, e.clone()));
                }
            }
        }
        out
    }

    /// The next block by the real lottery: the earliest second after the tip at which some
    /// validator wins (ties go to the lowest validator index). Returns the block and the
    /// winning validator.
    pub fn next_block(&self, txs: Vec<Transaction>) -> (Block, usize) {
        let lottery = Lottery::for_child_of(&self.state, &self.params);
        let stakes = self.validator_stakes();
        let entries: Vec<(OutputId, StakeEntry)> =
            stakes.iter().map(|(_, id, e)| (*id, e.clone())).collect();
        let tip = self.state.tip();
        let mut t = tip.timestamp + 1;
        loop {
            if let Some((id, _)) = lottery.winner(&self.params, &entries, t) {
                let v = stakes
                    .iter()
                    .find(|(_, sid, _)| sid == id)
                    .map(|(v, _, _)| *v)
                    .unwrap_or(0);
                let key = &self.validators[v];
                let block = assemble_block(&self.state, t, *id, key, address_of(key), txs);
                return (block, v);
            }
            t += 1;
        }
    }

    /// Produces the next block with `txs` and applies it (the clock reads its timestamp).
    pub fn produce(&mut self, txs: Vec<Transaction>) -> Result<(BlockOutcome, usize), BlockError> {
        let (block, v) = self.next_block(txs);
        let now = block.header.timestamp;
        let outcome = self.state.apply(&block, &self.params, now)?;
        Ok((outcome, v))
    }

    /// Unspent, mature coin outputs of `address` at the next height, by id.
    pub fn spendable(&self, address: &Address) -> Vec<(OutputId, CoinEntry)> {
        let next = self.state.tip().height + 1;
        self.state
            .coins
            .iter()
            .filter(|(_, e)| e.mature_at <= next && e.condition == Condition::Address(*address))
            .map(|(id, e)| (*id, e.clone()))
            .collect()
    }

    /// Σ genesis coins + Σ block rewards: what the §6 invariant says the supply must be.
    pub fn expected_supply(&self) -> Currency {
        let blocks = self.state.tip().height as u128;
        Currency(self.genesis_coins.0 + blocks * self.params.block_reward.0)
    }
}

/// Signs every single-key coin and blockstake input of `tx` with `key`.
pub fn sign_all(tx: &mut Transaction, key: &SecretKey, genesis_id: &BlockId) {
    let public_key = key.public_key();
    for input in tx
        .coin_inputs
        .iter_mut()
        .chain(tx.blockstake_inputs.iter_mut())
    {
        input.fulfillment = Fulfillment::Signature(KeySignature {
            public_key,
            signature: Signature::ZERO,
        });
    }
    let sighash = tx.sighash(genesis_id);
    let signature = key.sign_hash(&sighash);
    for input in tx
        .coin_inputs
        .iter_mut()
        .chain(tx.blockstake_inputs.iter_mut())
    {
        input.fulfillment = Fulfillment::Signature(KeySignature {
            public_key,
            signature,
        });
    }
}

/// A signed payment of `amount` to `to` from `inputs` (all owned by `key`), change back to
/// the key's address.
pub fn payment(
    inputs: &[(OutputId, Currency)],
    key: &SecretKey,
    to: Condition,
    amount: Currency,
    fee: Currency,
    genesis_id: &BlockId,
) -> Transaction {
    let total = Currency::checked_sum(inputs.iter().map(|(_, v)| *v)).unwrap_or(Currency::ZERO);
    let mut coin_outputs = vec![Output {
        value: amount,
        condition: to,
    }];
    let change = total.0.saturating_sub(amount.0).saturating_sub(fee.0);
    if change > 0 {
        coin_outputs.push(Output {
            value: Currency(change),
            condition: Condition::Address(address_of(key)),
        });
    }
    let parents: Vec<OutputId> = inputs.iter().map(|(id, _)| *id).collect();
    spend(&parents, coin_outputs, key, fee, genesis_id)
}

/// A signed transaction spending `inputs` (all single-key outputs of `key`) into
/// `coin_outputs` with `fee`: the shape every payment, split and fan-out builds on.
pub fn spend(
    inputs: &[OutputId],
    coin_outputs: Vec<Output>,
    key: &SecretKey,
    fee: Currency,
    genesis_id: &BlockId,
) -> Transaction {
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: inputs
            .iter()
            .map(|id| Input {
                parent: *id,
                fulfillment: Fulfillment::Signature(KeySignature {
                    public_key: key.public_key(),
                    signature: Signature::ZERO,
                }),
            })
            .collect(),
        coin_outputs,
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee,
        arbitrary_data: vec![],
        grid_ops: vec![],
    };
    sign_all(&mut tx, key, genesis_id);
    tx
}

/// A signed transaction carrying `ops`: it spends `payer`'s spendable outputs (largest
/// first) to cover the fee and the ops' deposits, returns the change to the payer, and is
/// signed by the payer and every key in `signers` (owners' authorisations, node keys).
/// `None` when the payer cannot cover it.
pub fn grid_tx(
    chain: &TestChain,
    payer: &SecretKey,
    ops: Vec<tfchain_types::GridOp>,
    signers: &[SecretKey],
) -> Option<Transaction> {
    let fee = chain.params.min_fee;
    let deposits = Currency::checked_sum(ops.iter().map(tfchain_types::GridOp::deposit))?;
    let need = deposits.checked_add(fee)?;
    let mut coins = chain.spendable(&address_of(payer));
    coins.sort_by(|a, b| b.1.value.cmp(&a.1.value).then(a.0.cmp(&b.0)));
    let mut inputs = Vec::new();
    let mut total = Currency::ZERO;
    for (id, e) in coins {
        if total >= need {
            break;
        }
        total = total.checked_add(e.value)?;
        inputs.push(id);
    }
    grid_tx_spending(
        &inputs,
        total,
        payer,
        ops,
        signers,
        fee,
        &chain.params.genesis_id,
    )
}

/// A signed transaction carrying `ops` that spends `inputs` of `payer` (worth `total`):
/// the fee and the ops' deposits paid, the change back to the payer, signed by the payer
/// and every key in `signers`. `None` when `total` does not cover the fee and deposits.
pub fn grid_tx_spending(
    inputs: &[OutputId],
    total: Currency,
    payer: &SecretKey,
    ops: Vec<tfchain_types::GridOp>,
    signers: &[SecretKey],
    fee: Currency,
    genesis_id: &BlockId,
) -> Option<Transaction> {
    let deposits = Currency::checked_sum(ops.iter().map(tfchain_types::GridOp::deposit))?;
    let change = total.checked_sub(deposits.checked_add(fee)?)?;
    let mut tx = Transaction {
        version: TX_VERSION,
        coin_inputs: inputs
            .iter()
            .map(|id| Input {
                parent: *id,
                fulfillment: tfchain_types::unsigned_by(&payer.public_key()),
            })
            .collect(),
        coin_outputs: if change.is_zero() {
            vec![]
        } else {
            vec![Output {
                value: change,
                condition: Condition::Address(address_of(payer)),
            }]
        },
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee,
        arbitrary_data: vec![],
        grid_ops: ops,
    };
    let mut keys = vec![payer.clone()];
    keys.extend(signers.iter().cloned());
    tx.sign_with(genesis_id, &keys);
    Some(tx)
}
