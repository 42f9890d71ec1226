//! Building transactions: which outputs can be spent now, coin selection, and assembling
//! the unsigned transaction in its final shape (fulfillments with public keys and zero
//! signatures, so the signature hash is fixed before signing, PROTOCOL.md §4.2).
//!
//! Coin selection takes the fewest inputs that cover the amount plus the fee: one output
//! when one suffices (the smallest such), else the largest outputs, with the last one the
//! smallest that still closes the gap. Outputs a pool transaction already spends are never
//! picked. Change smaller than the dust limit (the network's minimum fee) is not worth an
//! output that would cost more to spend than it holds: it is added to the fee instead.

use crate::error::{FundsSummary, Result, WalletError};
use tfchain_api::{OutputInfo, OutputKind};
use tfchain_types::limits::{MAX_ARBITRARY_DATA, MAX_INPUTS};
use tfchain_types::{
    Condition, Currency, Fulfillment, GridOp, Height, Input, KeySignature, Output, OutputId,
    PublicKey, Signature, StakeOutput, Timestamp, Transaction, LOCK_TIME_THRESHOLD, TX_VERSION,
};

/// A fee above this is not paid without confirmation: not a minimum fee the node reports
/// (`wallet send` and every other command that builds a transaction), nor the fee of a
/// spend file being signed (`multisig sign`). Real networks' minimum fees are far below.
pub const HIGH_FEE: Currency = Currency::from_tft(1);

/// Where a new transaction would be validated: the next block's height, and a time no
/// earlier than the node's pool uses (the later of our clock and one second past the tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendAt {
    pub height: Height,
    pub timestamp: Timestamp,
}

impl SpendAt {
    pub fn next(tip_height: Height, tip_timestamp: Timestamp, now: Timestamp) -> SpendAt {
        SpendAt {
            height: tip_height.saturating_add(1),
            timestamp: now.max(tip_timestamp.saturating_add(1)),
        }
    }

    /// Whether a time lock `until` has passed (PROTOCOL.md §3).
    pub fn lock_passed(&self, until: u64) -> bool {
        if until < LOCK_TIME_THRESHOLD {
            until <= self.height
        } else {
            until <= self.timestamp
        }
    }
}

/// An output this wallet (or multisig) may spend now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spendable {
    pub id: OutputId,
    pub value: u128,
    pub condition: Condition,
}

/// The outputs of some addresses, sorted by what can be done with them.
#[derive(Clone, Debug, Default)]
pub struct Funds {
    pub coins: Vec<Spendable>,
    pub stakes: Vec<Spendable>,
    pub summary: FundsSummary,
    pub stake_total: u64,
}

/// The time lock on a condition, if any.
pub fn lock_of(c: &Condition) -> Option<u64> {
    match c {
        Condition::TimeLock { until, .. } => Some(*until),
        _ => None,
    }
}

/// Sorts `outputs` into spendable coins and blockstakes, and sums what is immature,
/// time-locked or already being spent. `accept` says which conditions the caller can sign.
pub fn classify(
    outputs: impl IntoIterator<Item = OutputInfo>,
    accept: impl Fn(&Condition) -> bool,
    at: SpendAt,
) -> Result<Funds> {
    let mut f = Funds::default();
    let add = |a: &mut Currency, v: u128| -> Result<()> {
        *a = a.checked_add(Currency(v)).ok_or(WalletError::Overflow)?;
        Ok(())
    };
    for o in outputs {
        if !accept(&o.condition) {
            continue;
        }
        let is_coin = o.kind == OutputKind::Coin;
        if o.pool_spender.is_some() {
            if is_coin {
                add(&mut f.summary.pending, o.value)?;
            }
            continue;
        }
        if o.mature_at > at.height {
            if is_coin {
                add(&mut f.summary.immature, o.value)?;
                f.summary.immature_until = f.summary.immature_until.max(Some(o.mature_at));
            }
            continue;
        }
        if let Some(until) = lock_of(&o.condition) {
            if !at.lock_passed(until) {
                if is_coin {
                    add(&mut f.summary.locked, o.value)?;
                }
                continue;
            }
        }
        let s = Spendable {
            id: o.id,
            value: o.value,
            condition: o.condition,
        };
        if is_coin {
            add(&mut f.summary.spendable, s.value)?;
            f.coins.push(s);
        } else {
            let v = u64::try_from(s.value).map_err(|_| WalletError::Overflow)?;
            f.stake_total = f.stake_total.checked_add(v).ok_or(WalletError::Overflow)?;
            f.stakes.push(s);
        }
    }
    Ok(f)
}

/// Indices into `values` of the fewest outputs whose sum is at least `target`; `None` when
/// even all of them fall short. Deterministic: ties go to the lower index.
pub fn select(values: &[u128], target: u128) -> Option<Vec<usize>> {
    if target == 0 {
        return Some(vec![]);
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Largest first; equal values keep index order.
    order.sort_by(|&a, &b| values[b].cmp(&values[a]).then(a.cmp(&b)));
    let mut sum: u128 = 0;
    let mut k = 0;
    while sum < target {
        let &i = order.get(k)?;
        sum = sum.saturating_add(values[i]);
        k += 1;
    }
    // The largest k-1 plus the smallest remaining output that still reaches the target.
    let base: u128 = order[..k - 1]
        .iter()
        .fold(0u128, |a, &i| a.saturating_add(values[i]));
    let gap = target - base.min(target);
    let last = order[k - 1..]
        .iter()
        .copied()
        .filter(|&i| values[i] >= gap)
        .min_by(|&a, &b| values[a].cmp(&values[b]).then(a.cmp(&b)))
        .unwrap_or(order[k - 1]);
    let mut chosen: Vec<usize> = order[..k - 1].to_vec();
    chosen.push(last);
    chosen.sort_unstable();
    Some(chosen)
}

/// What a payment spends: the inputs, the final fee and the change (if worth an output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoinPlan {
    pub inputs: Vec<Spendable>,
    pub fee: Currency,
    pub change: Option<Currency>,
}

/// Chooses coins for `pay` plus `fee`; change below `dust` goes to the fee.
pub fn plan_coins(funds: &Funds, pay: Currency, fee: Currency, dust: Currency) -> Result<CoinPlan> {
    let need = pay.checked_add(fee).ok_or(WalletError::Overflow)?;
    let values: Vec<u128> = funds.coins.iter().map(|c| c.value).collect();
    let Some(chosen) = select(&values, need.0) else {
        return Err(WalletError::InsufficientFunds {
            need,
            fee,
            funds: funds.summary.clone(),
        });
    };
    if chosen.len() > MAX_INPUTS {
        return Err(WalletError::TooManyInputs {
            amount: need,
            max: MAX_INPUTS,
        });
    }
    let inputs: Vec<Spendable> = chosen.iter().map(|&i| funds.coins[i].clone()).collect();
    let total = inputs
        .iter()
        .try_fold(0u128, |a, c| a.checked_add(c.value))
        .ok_or(WalletError::Overflow)?;
    let rest = Currency(total - need.0);
    if rest < dust {
        let fee = fee.checked_add(rest).ok_or(WalletError::Overflow)?;
        return Ok(CoinPlan {
            inputs,
            fee,
            change: None,
        });
    }
    Ok(CoinPlan {
        inputs,
        fee,
        change: (!rest.is_zero()).then_some(rest),
    })
}

/// Blockstake inputs for `count` units and the blockstake change.
pub fn plan_stakes(funds: &Funds, count: u64) -> Result<(Vec<Spendable>, u64)> {
    let values: Vec<u128> = funds.stakes.iter().map(|s| s.value).collect();
    let chosen = select(&values, u128::from(count)).ok_or(WalletError::InsufficientStake {
        need: count,
        have: funds.stake_total,
    })?;
    let inputs: Vec<Spendable> = chosen.iter().map(|&i| funds.stakes[i].clone()).collect();
    let total: u128 = inputs.iter().map(|s| s.value).sum();
    let change = u64::try_from(total - u128::from(count)).map_err(|_| WalletError::Overflow)?;
    Ok((inputs, change))
}

/// The fulfillment shape for an input, signatures still zero.
pub fn single_key_fulfillment(public_key: PublicKey) -> Fulfillment {
    Fulfillment::Signature(KeySignature {
        public_key,
        signature: Signature::ZERO,
    })
}

/// An unsigned transaction: every input's fulfillment already in its final shape.
#[derive(Clone, Debug, Default)]
pub struct TxParts {
    pub coin_inputs: Vec<Input>,
    pub coin_outputs: Vec<Output>,
    pub stake_inputs: Vec<Input>,
    pub stake_outputs: Vec<StakeOutput>,
    pub fee: Currency,
    pub data: Vec<u8>,
    /// Capacity-market operations (PROTOCOL.md §7.3), their authorisations still unsigned.
    pub grid_ops: Vec<GridOp>,
}

impl TxParts {
    pub fn build(self) -> Result<Transaction> {
        if self.data.len() > MAX_ARBITRARY_DATA {
            return Err(WalletError::DataTooLarge {
                size: self.data.len(),
                max: MAX_ARBITRARY_DATA,
            });
        }
        Ok(Transaction {
            version: TX_VERSION,
            coin_inputs: self.coin_inputs,
            coin_outputs: self.coin_outputs,
            blockstake_inputs: self.stake_inputs,
            blockstake_outputs: self.stake_outputs,
            fee: self.fee,
            arbitrary_data: self.data,
            grid_ops: self.grid_ops,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::{Address, Hash, TxId};

    fn addr(b: u8) -> Address {
        Address::from_public_key(&PublicKey([b; 32]))
    }

    fn out(i: u8, value: u128, mature_at: u64, pool: bool) -> OutputInfo {
        OutputInfo {
            id: OutputId(Hash([i; 32])),
            kind: OutputKind::Coin,
            value,
            condition: Condition::Address(addr(1)),
            height: 1,
            mature_at,
            pool_spender: pool.then_some(TxId::ZERO),
        }
    }

    #[test]
    fn selection_prefers_few_inputs_and_small_overshoot() {
        assert_eq!(select(&[5, 50, 20, 30], 25), Some(vec![3]));
        assert_eq!(select(&[5, 50, 20, 30], 50), Some(vec![1]));
        assert_eq!(select(&[5, 50, 20, 30], 60), Some(vec![1, 2]));
        assert_eq!(select(&[5, 50, 20, 30], 75), Some(vec![1, 3]));
        assert_eq!(select(&[5, 50, 20, 30], 101), Some(vec![0, 1, 2, 3]));
        assert_eq!(select(&[5, 50, 20, 30], 106), None);
        assert_eq!(select(&[], 1), None);
        assert_eq!(select(&[3], 0), Some(vec![]));
        assert_eq!(select(&[10, 10, 10], 20), Some(vec![0, 1]));
    }

    #[test]
    fn classification_skips_pool_spent_and_immature() {
        let at = SpendAt::next(10, 1_000, 900);
        let outs = vec![
            out(1, 100, 1, false),
            out(2, 40, 1, true),
            out(3, 7, 15, false),
            out(4, 3, 11, false),
        ];
        let f = classify(outs, |_| true, at).expect("classify");
        assert_eq!(f.coins.len(), 2);
        assert_eq!(f.summary.spendable, Currency(103));
        assert_eq!(f.summary.pending, Currency(40));
        assert_eq!(f.summary.immature, Currency(7));
        assert_eq!(f.summary.immature_until, Some(15));

        let locked = OutputInfo {
            condition: Condition::TimeLock {
                until: 500_002_000,
                inner: tfchain_types::LockedCondition::Address(addr(1)),
            },
            ..out(5, 9, 1, false)
        };
        let at = SpendAt::next(10, 500_001_000, 900);
        let f = classify(vec![locked.clone()], |_| true, at).expect("classify");
        assert_eq!(f.summary.locked, Currency(9));
        let later = SpendAt::next(10, 500_001_999, 900);
        let f = classify(vec![locked], |_| true, later).expect("classify");
        assert_eq!(f.summary.spendable, Currency(9));
    }

    #[test]
    fn dust_change_goes_to_the_fee() {
        let at = SpendAt::next(10, 1_000, 900);
        let f = classify(vec![out(1, 1_000, 1, false)], |_| true, at).expect("classify");
        let p = plan_coins(&f, Currency(900), Currency(10), Currency(10)).expect("plan");
        assert_eq!(p.change, Some(Currency(90)));
        assert_eq!(p.fee, Currency(10));
        let p = plan_coins(&f, Currency(985), Currency(10), Currency(10)).expect("plan");
        assert_eq!(p.change, None);
        assert_eq!(p.fee, Currency(15));
        let p = plan_coins(&f, Currency(990), Currency(10), Currency(10)).expect("plan");
        assert_eq!((p.change, p.fee), (None, Currency(10)));
    }

    #[test]
    fn blockstakes_are_selected_with_change() {
        let at = SpendAt::next(10, 1_000, 900);
        let stake = |i: u8, v: u128| OutputInfo {
            kind: OutputKind::Blockstake,
            ..out(i, v, 1, false)
        };
        let f = classify(vec![stake(1, 100), stake(2, 30)], |_| true, at).expect("classify");
        assert_eq!(f.stake_total, 130);
        assert!(f.coins.is_empty());
        let (inputs, change) = plan_stakes(&f, 20).expect("plan");
        assert_eq!((inputs.len(), inputs[0].value, change), (1, 30, 10));
        let (inputs, change) = plan_stakes(&f, 130).expect("plan");
        assert_eq!((inputs.len(), change), (2, 0));
        assert!(matches!(
            plan_stakes(&f, 131),
            Err(WalletError::InsufficientStake {
                need: 131,
                have: 130
            })
        ));
    }

    #[test]
    fn insufficient_funds_names_the_amounts() {
        let at = SpendAt::next(10, 1_000, 900);
        let f = classify(
            vec![
                out(1, 3_000_000_000, 1, false),
                out(2, 2_000_000_000, 4410, false),
            ],
            |_| true,
            at,
        )
        .expect("classify");
        let e = plan_coins(
            &f,
            Currency(12_400_000_000),
            Currency(100_000_000),
            Currency(1),
        )
        .expect_err("insufficient");
        assert_eq!(
            e.to_string(),
            "insufficient funds: need 12.5 TFT (incl. 0.1 TFT fee), have 3 TFT spendable \
             (2 TFT more immature until height 4410)"
        );
    }
}
