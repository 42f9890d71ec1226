//! Signing (PROTOCOL.md §4.2): every signature signs
//! `sighash = H("tfchain/sighash/" ‖ genesis_id ‖ encode(unsigned(tx)))`, where `unsigned`
//! blanks signatures and secrets but keeps fulfillment variants and public keys. So the
//! transaction is built in its final shape first (see [`crate::builder`]), the sighash
//! computed once, and then each signature slot whose public key the signer holds is filled.

use tfchain_types::{BlockId, Fulfillment, KeySignature, PublicKey, SecretKey, Transaction};

/// Fills every signature slot of `tx` whose public key `key_for` knows; returns how many
/// were filled. Slots of other keys are left as they are (a multisig co-signer fills them).
pub fn fill_signatures<'k>(
    tx: &mut Transaction,
    genesis_id: &BlockId,
    key_for: impl Fn(&PublicKey) -> Option<&'k SecretKey>,
) -> usize {
    let sighash = tx.sighash(genesis_id);
    let mut filled = 0;
    let mut sign = |pk: &PublicKey, slot: &mut tfchain_types::Signature| {
        if let Some(k) = key_for(pk) {
            *slot = k.sign_hash(&sighash);
            filled += 1;
        }
    };
    for input in tx
        .coin_inputs
        .iter_mut()
        .chain(tx.blockstake_inputs.iter_mut())
    {
        match &mut input.fulfillment {
            Fulfillment::Signature(KeySignature {
                public_key,
                signature,
            })
            | Fulfillment::Claim {
                public_key,
                signature,
                ..
            }
            | Fulfillment::Refund {
                public_key,
                signature,
            } => sign(public_key, signature),
            Fulfillment::MultiSignature(list) => {
                for ks in list.iter_mut() {
                    sign(&ks.public_key, &mut ks.signature);
                }
            }
        }
    }
    filled
}

/// Signs every slot of `tx` (inputs and grid-op authorisations, PROTOCOL.md §7.3) whose
/// public key `key_for` knows or one of `extra` has (a node key for `RegisterNode`'s
/// `node_sig`); returns how many were signed.
pub fn sign_all<'k>(
    tx: &mut Transaction,
    genesis_id: &BlockId,
    key_for: impl Fn(&PublicKey) -> Option<&'k SecretKey>,
    extra: &[SecretKey],
) -> usize {
    let mut wanted: Vec<PublicKey> = Vec::new();
    let mut want_fulfillment = |f: &Fulfillment| match f {
        Fulfillment::Signature(ks) => wanted.push(ks.public_key),
        Fulfillment::MultiSignature(list) => wanted.extend(list.iter().map(|ks| ks.public_key)),
        Fulfillment::Claim { public_key, .. } | Fulfillment::Refund { public_key, .. } => {
            wanted.push(*public_key)
        }
    };
    for input in tx.coin_inputs.iter().chain(tx.blockstake_inputs.iter()) {
        want_fulfillment(&input.fulfillment);
    }
    for op in &tx.grid_ops {
        if let Some(f) = op.authorization() {
            want_fulfillment(f);
        }
    }
    wanted.sort();
    wanted.dedup();
    let mut keys: Vec<SecretKey> = wanted.iter().filter_map(&key_for).cloned().collect();
    keys.extend(extra.iter().cloned());
    tx.sign_with(genesis_id, &keys)
}

/// How many signatures in `list` verify over the sighash of `tx`.
pub fn valid_signatures(list: &[KeySignature], sighash: &tfchain_types::Hash) -> usize {
    list.iter()
        .filter(|ks| ks.public_key.verify(sighash.as_bytes(), &ks.signature))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{classify, plan_coins, single_key_fulfillment, SpendAt, TxParts};
    use crate::wallet::WalletKey;
    use tfchain_api::{OutputInfo, OutputKind};
    use tfchain_consensus::testkit::TestChain;
    use tfchain_consensus::{validate_transaction, SpendContext, StateView};
    use tfchain_types::{
        Address, Condition, Currency, FarmName, GridOp, Input, MultiSigCondition, Output, Price,
        Resources, Seed, Signature,
    };

    /// The test chain's funded keys are keys 0.. of `Seed([2; 32])`.
    fn chain() -> (TestChain, Seed) {
        (
            TestChain::new(&[100], 3, Currency::from_tft(1_000)),
            Seed([2; 32]),
        )
    }

    fn outputs_of(chain: &TestChain, address: &Address) -> Vec<OutputInfo> {
        chain
            .spendable(address)
            .into_iter()
            .map(|(id, e)| OutputInfo {
                id,
                kind: OutputKind::Coin,
                value: e.value.0,
                condition: e.condition,
                height: e.height,
                mature_at: e.mature_at,
                pool_spender: None,
            })
            .collect()
    }

    fn ctx(chain: &TestChain) -> SpendContext {
        let tip = chain.state.tip();
        SpendContext {
            height: tip.height + 1,
            timestamp: tip.timestamp + 1,
        }
    }

    #[test]
    fn a_wallet_payment_is_valid_and_a_tampered_one_is_not() {
        let (mut chain, seed) = chain();
        let k0 = WalletKey::derive(&seed, 0);
        let change = WalletKey::derive(&seed, 7);
        let tip = chain.state.tip();
        let funds = classify(
            outputs_of(&chain, &k0.address),
            |c| c.single_key().map(|(a, _)| a) == Some(k0.address),
            SpendAt::next(tip.height, tip.timestamp, 0),
        )
        .expect("classify");
        let to = Address::from_public_key(&PublicKey([5; 32]));
        let plan = plan_coins(
            &funds,
            Currency::from_tft(10),
            chain.params.min_fee,
            chain.params.min_fee,
        )
        .expect("plan");
        let mut parts = TxParts {
            fee: plan.fee,
            ..Default::default()
        };
        for c in &plan.inputs {
            parts.coin_inputs.push(Input {
                parent: c.id,
                fulfillment: single_key_fulfillment(k0.public_key()),
            });
        }
        parts.coin_outputs.push(Output {
            value: Currency::from_tft(10),
            condition: Condition::Address(to),
        });
        if let Some(v) = plan.change {
            parts.coin_outputs.push(Output {
                value: v,
                condition: Condition::Address(change.address),
            });
        }
        let mut tx = parts.build().expect("build");
        let gid = chain.params.genesis_id;
        assert_eq!(fill_signatures(&mut tx, &gid, |_| None), 0);
        assert_eq!(fill_signatures(&mut tx, &gid, |_| Some(&k0.secret)), 1);
        validate_transaction(&chain.state, &tx, &chain.params, &ctx(&chain)).expect("valid");

        // Signed for another network: refused.
        let mut other = tx.clone();
        fill_signatures(&mut other, &tfchain_types::BlockId::ZERO, |_| {
            Some(&k0.secret)
        });
        assert!(validate_transaction(&chain.state, &other, &chain.params, &ctx(&chain)).is_err());
        // A changed output after signing: refused.
        let mut tampered = tx.clone();
        tampered.coin_outputs[0].value = Currency::from_tft(11);
        tampered.coin_outputs[1].value =
            Currency(tampered.coin_outputs[1].value.0 - Currency::from_tft(1).0);
        assert!(
            validate_transaction(&chain.state, &tampered, &chain.params, &ctx(&chain)).is_err()
        );
        chain
            .produce(vec![tx])
            .expect("the block with the payment applies");
    }

    #[test]
    fn multisig_signatures_from_two_signers_combine() {
        let (mut chain, seed) = chain();
        let gid = chain.params.genesis_id;
        let funder = WalletKey::derive(&seed, 1);
        let members: Vec<WalletKey> = (0..3)
            .map(|i| WalletKey::derive(&Seed([8; 32]), i))
            .collect();
        let ms = MultiSigCondition {
            min: 2,
            addresses: members.iter().map(|k| k.address).collect(),
        };
        let (id, entry) = chain.spendable(&funder.address)[0].clone();
        let fund = tfchain_consensus::testkit::payment(
            &[(id, entry.value)],
            &funder.secret,
            Condition::MultiSig(ms.clone()),
            Currency::from_tft(50),
            chain.params.min_fee,
            &gid,
        );
        let ms_out = Transaction::coin_output_id(&fund.txid(), 0);
        chain.produce(vec![fund]).expect("funding applies");

        let list = vec![
            KeySignature {
                public_key: members[0].public_key(),
                signature: Signature::ZERO,
            },
            KeySignature {
                public_key: members[2].public_key(),
                signature: Signature::ZERO,
            },
        ];
        let mut tx = TxParts {
            coin_inputs: vec![Input {
                parent: ms_out,
                fulfillment: Fulfillment::MultiSignature(list),
            }],
            coin_outputs: vec![Output {
                value: Currency(Currency::from_tft(50).0 - chain.params.min_fee.0),
                condition: Condition::Address(funder.address),
            }],
            fee: chain.params.min_fee,
            ..Default::default()
        }
        .build()
        .expect("build");
        // Signer 0, then signer 2, each in their own wallet.
        let key0 = members[0].secret.clone();
        assert_eq!(
            fill_signatures(&mut tx, &gid, |pk| (*pk == key0.public_key())
                .then_some(&key0)),
            1
        );
        assert!(validate_transaction(&chain.state, &tx, &chain.params, &ctx(&chain)).is_err());
        let key2 = members[2].secret.clone();
        fill_signatures(&mut tx, &gid, |pk| {
            (*pk == key2.public_key()).then_some(&key2)
        });
        validate_transaction(&chain.state, &tx, &chain.params, &ctx(&chain)).expect("2 of 3");
        let sighash = tx.sighash(&gid);
        let Fulfillment::MultiSignature(l) = &tx.coin_inputs[0].fulfillment else {
            panic!("shape changed");
        };
        assert_eq!(valid_signatures(l, &sighash), 2);
    }
    /// A transaction from `key`'s coins carrying `ops` (fee and deposits paid, change back).
    fn grid_tx(chain: &TestChain, key: &WalletKey, ops: Vec<GridOp>) -> Transaction {
        let tip = chain.state.tip();
        let funds = classify(
            outputs_of(chain, &key.address),
            |_| true,
            SpendAt::next(tip.height, tip.timestamp, 0),
        )
        .expect("classify");
        let deposits = Currency::checked_sum(ops.iter().map(GridOp::deposit)).expect("sum");
        let plan =
            plan_coins(&funds, deposits, chain.params.min_fee, chain.params.min_fee).expect("plan");
        let mut parts = TxParts {
            fee: plan.fee,
            grid_ops: ops,
            ..Default::default()
        };
        for c in &plan.inputs {
            parts.coin_inputs.push(Input {
                parent: c.id,
                fulfillment: single_key_fulfillment(key.public_key()),
            });
        }
        if let Some(v) = plan.change {
            parts.coin_outputs.push(Output {
                value: v,
                condition: Condition::Address(key.address),
            });
        }
        parts.build().expect("build")
    }

    #[test]
    fn grid_ops_are_signed_by_the_owner_and_the_node_key() {
        let (mut chain, seed) = chain();
        let gid = chain.params.genesis_id;
        let owner = WalletKey::derive(&seed, 0);
        let node = WalletKey::derive(&seed, 100);
        let mine = |pk: &PublicKey| (*pk == owner.public_key()).then_some(&owner.secret);
        let mut farm = grid_tx(
            &chain,
            &owner,
            vec![GridOp::RegisterFarm {
                name: FarmName("f".into()),
                owner: Condition::Address(owner.address),
                payout: owner.address,
            }],
        );
        assert_eq!(sign_all(&mut farm, &gid, mine, &[]), 1);
        chain.produce(vec![farm]).expect("the farm registers");

        let capacity = Resources {
            cru: 4,
            mru: 8,
            sru: 0,
            hru: 0,
            ipv4: 0,
        };
        let price = Price {
            cru: Currency(1_000_000),
            ..Default::default()
        };
        let register = GridOp::RegisterNode {
            farm: 1,
            node_key: node.public_key(),
            capacity,
            price,
            farm_auth: tfchain_types::unsigned_by(&owner.public_key()),
            node_sig: Signature::ZERO,
        };
        let unsigned = grid_tx(&chain, &owner, vec![register]);
        // Without the node key, node_sig stays blank and the chain refuses it.
        let mut without = unsigned.clone();
        assert_eq!(sign_all(&mut without, &gid, mine, &[]), 2);
        assert!(validate_transaction(&chain.state, &without, &chain.params, &ctx(&chain)).is_err());
        let mut with = unsigned;
        assert_eq!(
            sign_all(&mut with, &gid, mine, std::slice::from_ref(&node.secret)),
            3
        );
        chain.produce(vec![with]).expect("the node registers");

        // The consensus rule's own words, as the node returns them, become the wallet's
        // error with the numbers (the parser and the rule's message must agree).
        let too_big = GridOp::Reserve {
            node: 1,
            resources: Resources { cru: 5, ..capacity },
            deposit: Currency::from_tft(1),
            max_rate: Currency::from_tft(1),
            deployment_hash: tfchain_types::Hash([7; 32]),
            deployment_data: vec![],
            owner: Condition::Address(owner.address),
        };
        let mut tx = grid_tx(&chain, &owner, vec![too_big]);
        sign_all(&mut tx, &gid, mine, &[]);
        let err = validate_transaction(&chain.state, &tx, &chain.params, &ctx(&chain))
            .expect_err("beyond capacity");
        let refused = crate::grid::refine(crate::WalletError::NodeRefused {
            url: String::new(),
            code: tfchain_api::error::TX_INVALID,
            message: String::new(),
            reason: Some(err.to_string()),
            rule: Some("capacity_exceeded".into()),
            detail: tfchain_api::rule_detail::tx_detail(&err).map(Box::new),
        });
        assert_eq!(refused.kind(), "capacity_exceeded", "{refused}");
        assert!(
            refused
                .to_string()
                .starts_with("node 1 has 4 cru free, 5 requested:"),
            "{refused}"
        );

        let rate = price.rate(&capacity).expect("rate");
        let reserve = GridOp::Reserve {
            node: 1,
            resources: capacity,
            deposit: rate.checked_mul(10).expect("deposit"),
            max_rate: rate,
            deployment_hash: tfchain_types::Hash([7; 32]),
            deployment_data: vec![],
            owner: Condition::Address(owner.address),
        };
        let mut tx = grid_tx(&chain, &owner, vec![reserve]);
        sign_all(&mut tx, &gid, mine, &[]);
        chain.produce(vec![tx]).expect("the reservation is made");
        let mut cancel = grid_tx(
            &chain,
            &owner,
            vec![GridOp::Cancel {
                reservation: 1,
                owner_auth: tfchain_types::unsigned_by(&owner.public_key()),
            }],
        );
        // Another wallet's key cannot cancel it.
        let stranger = WalletKey::derive(&seed, 5);
        let mut forged = cancel.clone();
        sign_all(&mut forged, &gid, |_| Some(&stranger.secret), &[]);
        assert!(validate_transaction(&chain.state, &forged, &chain.params, &ctx(&chain)).is_err());
        assert_eq!(sign_all(&mut cancel, &gid, mine, &[]), 2);
        chain.produce(vec![cancel]).expect("the owner cancels");
    }
}
