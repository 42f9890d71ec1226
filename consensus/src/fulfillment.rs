//! Conditions and fulfillments (PROTOCOL.md §3): the shape rules for output conditions and
//! whether a fulfillment satisfies its parent's condition. Signature checks are returned,
//! not performed, so a block can verify all of them in parallel.

use crate::error::{ConditionError, OutputConditionError};
use std::collections::BTreeSet;
use tfchain_types::limits::{MAX_MULTISIG_KEYS, MIN_MULTISIG_KEYS};
use tfchain_types::{
    Address, AddressKind, AtomicSwapCondition, Condition, Fulfillment, Height, LockedCondition,
    MultiSigCondition, PublicKey, Signature, Timestamp, LOCK_TIME_THRESHOLD,
};

/// One signature to verify over the transaction's sighash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigCheck {
    pub public_key: PublicKey,
    pub signature: Signature,
}

/// Where a spend happens: the height and timestamp of the block that includes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendContext {
    pub height: Height,
    pub timestamp: Timestamp,
}

/// Checks that an output condition is well formed (§3) so value is never locked to a
/// condition no fulfillment can open.
pub fn check_output_condition(c: &Condition) -> Result<(), OutputConditionError> {
    match c {
        Condition::Address(a) => single_key(a),
        Condition::MultiSig(m) => check_multisig_shape(m),
        Condition::TimeLock { inner, .. } => match inner {
            LockedCondition::Address(a) => single_key(a),
            LockedCondition::MultiSig(m) => check_multisig_shape(m),
        },
        Condition::AtomicSwap(s) => {
            if s.sender.kind == AddressKind::SingleKey && s.receiver.kind == AddressKind::SingleKey
            {
                Ok(())
            } else {
                Err(OutputConditionError::SwapParties)
            }
        }
    }
}

fn single_key(a: &Address) -> Result<(), OutputConditionError> {
    if a.kind == AddressKind::SingleKey {
        Ok(())
    } else {
        Err(OutputConditionError::AddressNotSingleKey)
    }
}

fn check_multisig_shape(m: &MultiSigCondition) -> Result<(), OutputConditionError> {
    let n = m.addresses.len();
    if !(MIN_MULTISIG_KEYS..=MAX_MULTISIG_KEYS).contains(&n) {
        return Err(OutputConditionError::MultiSigSize(n));
    }
    if m.min == 0 || m.min > n as u64 {
        return Err(OutputConditionError::MultiSigMin);
    }
    let distinct: BTreeSet<&Address> = m.addresses.iter().collect();
    if distinct.len() != n || m.addresses.iter().any(|a| a.kind != AddressKind::SingleKey) {
        return Err(OutputConditionError::MultiSigAddresses);
    }
    Ok(())
}

/// Whether a time lock has passed at `ctx` (§3).
pub fn lock_passed(until: u64, ctx: &SpendContext) -> bool {
    if until < LOCK_TIME_THRESHOLD {
        until <= ctx.height
    } else {
        until <= ctx.timestamp
    }
}

fn time_locked(until: u64) -> ConditionError {
    ConditionError::TimeLocked {
        until,
        unit: if until < LOCK_TIME_THRESHOLD {
            "block height"
        } else {
            "unix time"
        },
    }
}

/// Checks everything but the signatures themselves; pushes the signatures to verify.
pub fn check_fulfillment(
    condition: &Condition,
    fulfillment: &Fulfillment,
    ctx: &SpendContext,
    sigs: &mut Vec<SigCheck>,
) -> Result<(), ConditionError> {
    match condition {
        Condition::Address(a) => check_single(a, fulfillment, sigs),
        Condition::MultiSig(m) => check_multisig(m, fulfillment, sigs),
        Condition::TimeLock { until, inner } => {
            if !lock_passed(*until, ctx) {
                return Err(time_locked(*until));
            }
            match inner {
                LockedCondition::Address(a) => check_single(a, fulfillment, sigs),
                LockedCondition::MultiSig(m) => check_multisig(m, fulfillment, sigs),
            }
        }
        Condition::AtomicSwap(s) => check_swap(s, fulfillment, ctx, sigs),
    }
}

fn check_single(
    address: &Address,
    fulfillment: &Fulfillment,
    sigs: &mut Vec<SigCheck>,
) -> Result<(), ConditionError> {
    let Fulfillment::Signature(ks) = fulfillment else {
        return Err(ConditionError::WrongFulfillment {
            expected: "signature",
        });
    };
    if Address::from_public_key(&ks.public_key) != *address {
        return Err(ConditionError::KeyMismatch);
    }
    sigs.push(SigCheck {
        public_key: ks.public_key,
        signature: ks.signature,
    });
    Ok(())
}

fn check_multisig(
    m: &MultiSigCondition,
    fulfillment: &Fulfillment,
    sigs: &mut Vec<SigCheck>,
) -> Result<(), ConditionError> {
    let Fulfillment::MultiSignature(list) = fulfillment else {
        return Err(ConditionError::WrongFulfillment {
            expected: "multi_signature",
        });
    };
    let mut seen = BTreeSet::new();
    for ks in list {
        if !seen.insert(ks.public_key) {
            return Err(ConditionError::MultiSigDuplicateKey);
        }
        if !m
            .addresses
            .contains(&Address::from_public_key(&ks.public_key))
        {
            return Err(ConditionError::MultiSigKeyNotListed);
        }
    }
    if (list.len() as u64) < m.min {
        return Err(ConditionError::MultiSigTooFewSignatures {
            have: list.len() as u64,
            min: m.min,
        });
    }
    sigs.extend(list.iter().map(|ks| SigCheck {
        public_key: ks.public_key,
        signature: ks.signature,
    }));
    Ok(())
}

fn check_swap(
    s: &AtomicSwapCondition,
    fulfillment: &Fulfillment,
    ctx: &SpendContext,
    sigs: &mut Vec<SigCheck>,
) -> Result<(), ConditionError> {
    match fulfillment {
        Fulfillment::Claim {
            public_key,
            signature,
            secret,
        } => {
            if ctx.timestamp >= s.timeout {
                return Err(ConditionError::SwapExpired { timeout: s.timeout });
            }
            if Address::from_public_key(public_key) != s.receiver {
                return Err(ConditionError::KeyMismatch);
            }
            if secret.hashed() != s.hashed_secret {
                return Err(ConditionError::SecretMismatch);
            }
            sigs.push(SigCheck {
                public_key: *public_key,
                signature: *signature,
            });
            Ok(())
        }
        Fulfillment::Refund {
            public_key,
            signature,
        } => {
            if ctx.timestamp < s.timeout {
                return Err(ConditionError::SwapNotExpired { timeout: s.timeout });
            }
            if Address::from_public_key(public_key) != s.sender {
                return Err(ConditionError::KeyMismatch);
            }
            sigs.push(SigCheck {
                public_key: *public_key,
                signature: *signature,
            });
            Ok(())
        }
        _ => Err(ConditionError::WrongFulfillment {
            expected: "claim or refund",
        }),
    }
}
