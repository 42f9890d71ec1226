//! Atomic swaps (PROTOCOL.md §3, `AtomicSwap`): hash time-locked contracts with the usual
//! cross-chain flow, as Rivine's atomic swap tool and the Bitcoin-style swap tools do.
//!
//! 1. The initiator draws a random 32-byte secret and locks coins to the participant
//!    under `SHA-256(secret)` with a long timeout (48 h by default).
//! 2. The participant audits that contract and locks coins on the other chain (or here) to
//!    the initiator under the same hash with a shorter timeout (24 h).
//! 3. The initiator claims the participant's coins, revealing the secret on that chain.
//! 4. The participant extracts the secret from that claim and claims the initiator's coins.
//!
//! Either side refunds its own contract once its timeout has passed unclaimed.

use crate::error::{Result, WalletError};
use rand::RngCore;
use serde::Serialize;
use tfchain_types::{
    Address, AtomicSwapCondition, Condition, Currency, Fulfillment, Hash, Secret, Timestamp,
    Transaction,
};

/// A fresh random secret.
pub fn new_secret() -> Secret {
    let mut s = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut s);
    Secret(s)
}

/// The contract's condition.
pub fn swap_condition(
    sender: Address,
    receiver: Address,
    hashed_secret: Hash,
    timeout: Timestamp,
) -> AtomicSwapCondition {
    AtomicSwapCondition {
        sender,
        receiver,
        hashed_secret,
        timeout,
    }
}

/// What `swap audit` checks, each optional.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub amount: Option<Currency>,
    pub hashed_secret: Option<Hash>,
    pub receiver: Option<Address>,
    pub sender: Option<Address>,
    /// Seconds that must remain before the timeout.
    pub min_remaining: Option<u64>,
}

/// A swap contract as `swap audit` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub contract_address: Address,
    pub value: Currency,
    pub sender: Address,
    pub receiver: Address,
    pub hashed_secret: Hash,
    pub timeout: Timestamp,
    /// Seconds left until the timeout (0 once passed).
    pub remaining: u64,
    pub expired: bool,
    /// A pool transaction already spends it (a claim or refund under way).
    pub being_spent: bool,
}

/// The swap condition of an output, or `NotASwap`.
pub fn as_swap(c: &Condition) -> Option<&AtomicSwapCondition> {
    match c {
        Condition::AtomicSwap(s) => Some(s),
        _ => None,
    }
}

/// Checks a contract against the expectations; lists every mismatch.
pub fn check(audit: &Audit, e: &Expect) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(a) = e.amount {
        if audit.value != a {
            problems.push(format!("it holds {}, expected {a}", audit.value));
        }
    }
    if let Some(h) = e.hashed_secret {
        if audit.hashed_secret != h {
            problems.push(format!(
                "its hashed secret is {}, expected {h}",
                audit.hashed_secret
            ));
        }
    }
    if let Some(r) = e.receiver {
        if audit.receiver != r {
            problems.push(format!("it pays {}, expected {r}", audit.receiver));
        }
    }
    if let Some(s) = e.sender {
        if audit.sender != s {
            problems.push(format!("its sender is {}, expected {s}", audit.sender));
        }
    }
    if let Some(m) = e.min_remaining {
        if audit.remaining < m {
            problems.push(format!(
                "it times out in {} s, expected at least {m} s",
                audit.remaining
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WalletError::SwapMismatch(problems.join("; ")))
    }
}

/// The secrets revealed by claims in `tx`, optionally only the one matching `hashed`.
pub fn secrets_in(tx: &Transaction, hashed: Option<&Hash>) -> Vec<Secret> {
    tx.coin_inputs
        .iter()
        .filter_map(|i| match &i.fulfillment {
            Fulfillment::Claim { secret, .. } => Some(*secret),
            _ => None,
        })
        .filter(|s| match hashed {
            Some(h) => s.hashed() == *h,
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::{Input, OutputId, PublicKey, Signature, TX_VERSION};

    #[test]
    fn secrets_hash_with_sha256_and_match_the_rivine_vector() {
        // rivine-compat.json, atomicswap_address: the CLI help example of Rivine.
        let secret = crate::args::parse_secret(
            "6f0e3b2cdd82da7c4ddc20f03be25765fb885fb59af316cb3bbf8649c82d046d",
        )
        .expect("secret");
        let hashed = crate::args::parse_hash(
            "hash",
            "c22267f0f118282b15098e0b5e3a8027af64f0cce7afa19b274abb21b5555626",
        )
        .expect("hash");
        assert_eq!(secret.hashed(), hashed);
        let c = swap_condition(
            crate::error::parse_address(
                "01b49da2ff193f46ee0fc684d7a6121a8b8e324144dffc7327471a4da79f1730960edcb2ce737f",
            )
            .expect("sender"),
            crate::error::parse_address(
                "019e9b6f2d43a44046b62836ce8d75c935ff66cbba1e624b3e9755b98ac176a08dac5267b2c8ee",
            )
            .expect("receiver"),
            hashed,
            1_530_169_858,
        );
        assert_eq!(
            c.address().to_string(),
            "020ce1011596c7bf7aa63e15a6b3d1eb44087358b0670efa50d34d0509625b13d2b82887cd5bbb"
        );
        let a = new_secret();
        assert_ne!(a, new_secret());
    }

    #[test]
    fn audit_lists_every_mismatch_and_extract_finds_the_secret() {
        let me = Address::from_public_key(&PublicKey([1; 32]));
        let them = Address::from_public_key(&PublicKey([2; 32]));
        let secret = new_secret();
        let audit = Audit {
            contract_address: swap_condition(me, them, secret.hashed(), 100).address(),
            value: Currency(5),
            sender: me,
            receiver: them,
            hashed_secret: secret.hashed(),
            timeout: 100,
            remaining: 30,
            expired: false,
            being_spent: false,
        };
        check(&audit, &Expect::default()).expect("no expectations");
        check(
            &audit,
            &Expect {
                amount: Some(Currency(5)),
                hashed_secret: Some(secret.hashed()),
                receiver: Some(them),
                min_remaining: Some(30),
                ..Default::default()
            },
        )
        .expect("all match");
        let e = check(
            &audit,
            &Expect {
                amount: Some(Currency(6)),
                receiver: Some(me),
                min_remaining: Some(60),
                ..Default::default()
            },
        )
        .expect_err("mismatch");
        let msg = e.to_string();
        assert!(msg.contains("expected 0.000000006 TFT"), "{msg}");
        assert!(msg.contains("times out in 30 s"), "{msg}");
        assert_eq!(msg.matches("; ").count(), 2, "{msg}");

        let tx = Transaction {
            version: TX_VERSION,
            coin_inputs: vec![Input {
                parent: OutputId::ZERO,
                fulfillment: Fulfillment::Claim {
                    public_key: PublicKey([2; 32]),
                    signature: Signature::ZERO,
                    secret,
                },
            }],
            coin_outputs: vec![],
            blockstake_inputs: vec![],
            blockstake_outputs: vec![],
            fee: Currency(1),
            arbitrary_data: vec![],
            grid_ops: vec![],
        };
        assert_eq!(secrets_in(&tx, Some(&secret.hashed())), vec![secret]);
        assert!(secrets_in(&tx, Some(&Hash::ZERO)).is_empty());
    }
}
