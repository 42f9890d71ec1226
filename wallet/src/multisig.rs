//! Multisig spends passed between signers as a file (PROTOCOL.md §3, `MultiSig`).
//!
//! Because the signature hash keeps the public keys of a `MultiSignature` fulfillment
//! (§4.2), the keys that will sign are fixed when the spend is built: each input carries a
//! `MultiSignature` list of those keys with zero signatures. Every signer then fills its own
//! slots (`tfchainc multisig sign FILE`) without invalidating the others, and anyone submits
//! the file once every slot holds a valid signature (`tfchainc multisig submit FILE`).
//!
//! The file is JSON:
//!
//! ```json
//! { "format": "tfchainc/multisig-spend/1", "network": "dev", "genesis_id": "<hex>",
//!   "condition": { "min": 2, "addresses": ["01…", "01…", "01…"] },
//!   "inputs": [ { "id": "<output id>", "value": "<base units>" } ],
//!   "transaction": { …the transaction in the node's JSON form… } }
//! ```

use crate::builder::HIGH_FEE;
use crate::error::{Result, WalletError};
use crate::keystore::write_private_atomic;
use crate::output::describe_condition;
use crate::sign::valid_signatures;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use tfchain_api::{OutputInfo, OutputKind};
use tfchain_types::limits::{MAX_MULTISIG_KEYS, MIN_MULTISIG_KEYS};
use tfchain_types::{
    Address, AddressKind, BlockId, Condition, Currency, Fulfillment, KeySignature, LockedCondition,
    MultiSigCondition, OutputId, PublicKey, Signature, Transaction,
};

/// The `format` of a spend file.
pub const SPEND_FORMAT: &str = "tfchainc/multisig-spend/1";

/// A multisig member as typed: an address, or a public key (from which the address follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Address(Address),
    Key(PublicKey),
}

impl Member {
    /// Parses 78 hex characters as an address, 64 (optionally `ed25519:`-prefixed) as a key.
    pub fn parse(s: &str) -> Result<Member> {
        let t = s.trim();
        let hexkey = t.strip_prefix("ed25519:").unwrap_or(t);
        if hexkey.len() == 64 {
            return parse_public_key(hexkey).map(Member::Key);
        }
        crate::error::parse_address(t).map(Member::Address)
    }

    pub fn address(&self) -> Address {
        match self {
            Member::Address(a) => *a,
            Member::Key(k) => Address::from_public_key(k),
        }
    }
}

/// Parses a 64-hex ed25519 public key (`ed25519:` prefix allowed).
pub fn parse_public_key(s: &str) -> Result<PublicKey> {
    let t = s.trim();
    let t = t.strip_prefix("ed25519:").unwrap_or(t);
    let mut k = [0u8; 32];
    hex::decode_to_slice(t, &mut k)
        .map_err(|_| WalletError::bad_arg("public key", s, "expected 64 hex characters"))?;
    Ok(PublicKey(k))
}

/// The multisig condition of `min` of `members`, checked like the chain checks outputs.
pub fn condition(min: u64, members: &[Member]) -> Result<MultiSigCondition> {
    let addresses: Vec<Address> = members.iter().map(Member::address).collect();
    let n = addresses.len();
    if !(MIN_MULTISIG_KEYS..=MAX_MULTISIG_KEYS).contains(&n) {
        return Err(WalletError::MultisigShape(format!(
            "{n} members: a multisig has {MIN_MULTISIG_KEYS} to {MAX_MULTISIG_KEYS}"
        )));
    }
    if min == 0 || min > n as u64 {
        return Err(WalletError::MultisigShape(format!(
            "--min {min} with {n} members: it must be between 1 and {n}"
        )));
    }
    if let Some(a) = addresses.iter().find(|a| a.kind != AddressKind::SingleKey) {
        return Err(WalletError::MultisigShape(format!(
            "{a} is not a single-key (01…) address"
        )));
    }
    if addresses.iter().collect::<BTreeSet<_>>().len() != n {
        return Err(WalletError::MultisigShape(
            "a member is listed twice".into(),
        ));
    }
    Ok(MultiSigCondition { min, addresses })
}

/// One input of a spend file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendInput {
    pub id: OutputId,
    pub value: Currency,
}

/// A multisig spend being signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendFile {
    pub format: String,
    pub network: String,
    pub genesis_id: BlockId,
    pub condition: MultiSigCondition,
    pub inputs: Vec<SpendInput>,
    pub transaction: Transaction,
}

/// The `MultiSignature` list every input carries: `signers` with zero signatures.
pub fn unsigned_list(signers: &[PublicKey]) -> Fulfillment {
    Fulfillment::MultiSignature(
        signers
            .iter()
            .map(|pk| KeySignature {
                public_key: *pk,
                signature: Signature::ZERO,
            })
            .collect(),
    )
}

/// Checks the chosen signers against the condition: listed, distinct, at least `min`.
pub fn check_signers(c: &MultiSigCondition, signers: &[PublicKey]) -> Result<()> {
    let distinct: BTreeSet<_> = signers.iter().collect();
    if distinct.len() != signers.len() {
        return Err(WalletError::MultisigShape(
            "a signer is listed twice".into(),
        ));
    }
    if let Some(pk) = signers
        .iter()
        .find(|pk| !c.addresses.contains(&Address::from_public_key(pk)))
    {
        return Err(WalletError::MultisigShape(format!(
            "signer {pk} is not a member of the multisig"
        )));
    }
    if (signers.len() as u64) < c.min {
        return Err(WalletError::MultisigShape(format!(
            "{} signer key(s) given, the multisig needs {}: pass --signers with {} public keys of members",
            signers.len(),
            c.min,
            c.min
        )));
    }
    Ok(())
}

impl SpendFile {
    pub fn load(path: &Path) -> Result<SpendFile> {
        let text = std::fs::read_to_string(path).map_err(|e| WalletError::io("read", path, e))?;
        let bad = |reason: String| WalletError::SpendFile {
            path: path.to_path_buf(),
            reason,
        };
        let f: SpendFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if f.format != SPEND_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {SPEND_FORMAT:?}",
                f.format
            )));
        }
        if f.transaction.coin_inputs.len() != f.inputs.len() {
            return Err(bad("the inputs do not match the transaction".into()));
        }
        for (i, input) in f.transaction.coin_inputs.iter().enumerate() {
            let Fulfillment::MultiSignature(list) = &input.fulfillment else {
                return Err(bad(format!("input {i} is not a multisig input")));
            };
            let keys: Vec<PublicKey> = list.iter().map(|k| k.public_key).collect();
            check_signers(&f.condition, &keys).map_err(|e| bad(e.to_string()))?;
        }
        Ok(f)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self).map_err(|e| WalletError::SpendFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        json.push('\n');
        write_private_atomic(path, json.as_bytes())
    }

    /// The public keys expected to sign (those of the first input).
    pub fn signers(&self) -> Vec<PublicKey> {
        match self.transaction.coin_inputs.first().map(|i| &i.fulfillment) {
            Some(Fulfillment::MultiSignature(list)) => list.iter().map(|k| k.public_key).collect(),
            _ => vec![],
        }
    }

    /// For each input: (valid signatures, slots).
    pub fn signature_status(&self) -> Vec<(usize, usize)> {
        let sighash = self.transaction.sighash(&self.genesis_id);
        self.transaction
            .coin_inputs
            .iter()
            .map(|i| match &i.fulfillment {
                Fulfillment::MultiSignature(l) => (valid_signatures(l, &sighash), l.len()),
                _ => (0, 0),
            })
            .collect()
    }

    /// Errors unless every signature slot of every input holds a valid signature.
    pub fn check_complete(&self) -> Result<()> {
        for (index, (have, slots)) in self.signature_status().into_iter().enumerate() {
            if have < slots {
                return Err(WalletError::NotEnoughSignatures {
                    index,
                    have,
                    min: slots as u64,
                });
            }
        }
        Ok(())
    }
}

/// Whether `c` is the multisig `m`, possibly behind a time lock.
pub fn locked_by(c: &Condition, m: &MultiSigCondition) -> bool {
    match c {
        Condition::MultiSig(x) => x == m,
        Condition::TimeLock {
            inner: LockedCondition::MultiSig(x),
            ..
        } => x == m,
        _ => false,
    }
}

/// What signing `f` does, before a signer signs it (`tfchainc multisig sign`), given the
/// outputs its coin inputs and blockstake inputs spend as the node reports them (`None`:
/// no such unspent output).
///
/// An input that is not an unspent output of its kind locked by the file's multisig is
/// refused ([`WalletError::ForeignInput`]): signing it would spend coins or blockstakes the
/// file does not show as the multisig's (the signature covers the whole transaction, and a
/// signer may hold keys of other multisigs with the same members). A coin input whose
/// listed value is not the chain's is a [`WalletError::SpendFile`] error. Returned are the
/// things a signer must confirm: blockstake inputs and outputs, grid operations, and a fee
/// above [`HIGH_FEE`].
pub fn review(
    f: &SpendFile,
    path: &Path,
    coin_parents: &[Option<OutputInfo>],
    stake_parents: &[Option<OutputInfo>],
) -> Result<Vec<String>> {
    let tx = &f.transaction;
    let multisig = f.condition.address().to_string();
    let mut reasons = Vec::new();
    let groups = [
        ("coin", OutputKind::Coin, &tx.coin_inputs, coin_parents),
        (
            "blockstake",
            OutputKind::Blockstake,
            &tx.blockstake_inputs,
            stake_parents,
        ),
    ];
    for (kind, want, inputs, parents) in groups {
        for (index, input) in inputs.iter().enumerate() {
            let foreign = |reason: String| WalletError::ForeignInput {
                kind,
                index,
                id: input.parent,
                multisig: multisig.clone(),
                reason,
            };
            let Some(o) = parents
                .get(index)
                .and_then(Option::as_ref)
                .filter(|o| o.id == input.parent)
            else {
                return Err(foreign(
                    "the node has no unspent output with that ID (spent, never created, or still in its pool)"
                        .into(),
                ));
            };
            if o.kind != want {
                return Err(foreign(match o.kind {
                    OutputKind::Coin => "it is a coin output".into(),
                    OutputKind::Blockstake => "it is a blockstake output".into(),
                }));
            }
            if !locked_by(&o.condition, &f.condition) {
                return Err(foreign(format!(
                    "it is locked by {}",
                    describe_condition(&o.condition)
                )));
            }
            if want == OutputKind::Blockstake {
                reasons.push(format!(
                    "blockstake input {index} spends {} blockstakes of the multisig",
                    o.value
                ));
                continue;
            }
            let listed = f.inputs.get(index);
            if listed.map(|l| (l.id, l.value)) != Some((input.parent, Currency(o.value))) {
                return Err(WalletError::SpendFile {
                    path: path.to_path_buf(),
                    reason: format!(
                        "input {index} is listed as {}, the chain has {} of {}",
                        listed
                            .map(|l| format!("{} of {}", l.value, l.id))
                            .unwrap_or_else(|| "nothing".into()),
                        Currency(o.value),
                        input.parent
                    ),
                });
            }
        }
    }
    for o in &tx.blockstake_outputs {
        reasons.push(format!(
            "it pays {} blockstakes to {}",
            o.value,
            describe_condition(&o.condition)
        ));
    }
    for (i, op) in tx.grid_ops.iter().enumerate() {
        let deposit = op.deposit();
        reasons.push(if deposit.is_zero() {
            format!("it carries grid operation {i}: {}", op.name())
        } else {
            format!(
                "it carries grid operation {i}: {}, paying {deposit} into escrow",
                op.name()
            )
        });
    }
    if tx.fee > HIGH_FEE {
        reasons.push(format!("its fee is {}, above {HIGH_FEE}", tx.fee));
    }
    Ok(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::fill_signatures;
    use tfchain_types::{Condition, Hash, Input, Output, SecretKey, TX_VERSION};

    #[test]
    fn members_and_conditions() {
        let k = PublicKey([3; 32]);
        let a = Address::from_public_key(&k);
        assert_eq!(Member::parse(&hex::encode(k.0)).ok(), Some(Member::Key(k)));
        assert_eq!(
            Member::parse(&format!("ed25519:{}", hex::encode(k.0))).ok(),
            Some(Member::Key(k))
        );
        assert_eq!(Member::parse(&a.to_string()).ok(), Some(Member::Address(a)));
        assert!(Member::parse("01abc").is_err());
        let b = Member::Key(PublicKey([4; 32]));
        assert!(condition(2, &[Member::Key(k), b]).is_ok());
        assert!(condition(3, &[Member::Key(k), b]).is_err());
        assert!(condition(0, &[Member::Key(k), b]).is_err());
        assert!(condition(1, &[Member::Key(k)]).is_err());
        assert!(condition(1, &[Member::Key(k), Member::Address(a)]).is_err());
    }

    #[test]
    fn spend_file_round_trip_and_completion() {
        let keys: Vec<SecretKey> = (0..3)
            .map(|i| SecretKey::from_bytes(&[i + 1; 32]))
            .collect();
        let members: Vec<Member> = keys.iter().map(|k| Member::Key(k.public_key())).collect();
        let c = condition(2, &members).expect("condition");
        let signers = vec![keys[0].public_key(), keys[1].public_key()];
        check_signers(&c, &signers).expect("signers");
        assert!(check_signers(&c, &signers[..1]).is_err());
        let file = SpendFile {
            format: SPEND_FORMAT.into(),
            network: "test".into(),
            genesis_id: BlockId(Hash([7; 32])),
            condition: c.clone(),
            inputs: vec![SpendInput {
                id: OutputId(Hash([1; 32])),
                value: Currency(100),
            }],
            transaction: Transaction {
                version: TX_VERSION,
                coin_inputs: vec![Input {
                    parent: OutputId(Hash([1; 32])),
                    fulfillment: unsigned_list(&signers),
                }],
                coin_outputs: vec![Output {
                    value: Currency(90),
                    condition: Condition::MultiSig(c),
                }],
                blockstake_inputs: vec![],
                blockstake_outputs: vec![],
                fee: Currency(10),
                arbitrary_data: vec![],
                grid_ops: vec![],
            },
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spend.json");
        file.save(&path).expect("save");
        let mut loaded = SpendFile::load(&path).expect("load");
        assert_eq!(loaded, file);
        assert!(matches!(
            loaded.check_complete(),
            Err(WalletError::NotEnoughSignatures { have: 0, .. })
        ));
        let gid = loaded.genesis_id;
        fill_signatures(&mut loaded.transaction, &gid, |pk| {
            (*pk == keys[1].public_key()).then_some(&keys[1])
        });
        assert_eq!(loaded.signature_status(), vec![(1, 2)]);
        fill_signatures(&mut loaded.transaction, &gid, |pk| {
            (*pk == keys[0].public_key()).then_some(&keys[0])
        });
        loaded.check_complete().expect("complete");
        // The TxId did not change while signing.
        assert_eq!(loaded.transaction.txid(), file.transaction.txid());
    }
}
