//! proptest strategies for the consensus types, shared by the integration tests.
//!
//! Sizes stay small (a few inputs and outputs) but every bound of PROTOCOL.md §8 that a
//! generated value can reach is respected: at most 32 multisig addresses or signatures,
//! at most 255 bytes of arbitrary data. `Nil` addresses (always the all-zero one, the only
//! nil address the codec reads) are generated only when `nil` is true: they have a codec
//! form but no string form, so JSON tests pass `false`.

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use tfchain_types::limits::{MAX_ARBITRARY_DATA, MAX_MULTISIG_KEYS};
use tfchain_types::{
    Address, AddressKind, AtomicSwapCondition, Block, BlockHeader, BlockId, Condition, Currency,
    Fulfillment, Hash, Input, KeySignature, LockedCondition, MultiSigCondition, Output, OutputId,
    PublicKey, Secret, Signature, StakeOutput, Transaction,
};
use tfchain_types::{Availability, FarmName, GridOp, Price, Resources};

/// Most inputs (or outputs) of one kind in a generated transaction.
pub const MAX_GEN_IO: usize = 3;
/// Most transactions in a generated block.
pub const MAX_GEN_TXS: usize = 3;

pub fn arb_bytes32() -> impl Strategy<Value = [u8; 32]> {
    prop_oneof![
        1 => Just([0u8; 32]),
        1 => Just([0xffu8; 32]),
        8 => any::<[u8; 32]>(),
    ]
}

pub fn arb_hash() -> impl Strategy<Value = Hash> {
    arb_bytes32().prop_map(Hash)
}

pub fn arb_block_id() -> impl Strategy<Value = BlockId> {
    arb_hash().prop_map(BlockId)
}

pub fn arb_output_id() -> impl Strategy<Value = OutputId> {
    arb_hash().prop_map(OutputId)
}

pub fn arb_public_key() -> impl Strategy<Value = PublicKey> {
    arb_bytes32().prop_map(PublicKey)
}

pub fn arb_signature() -> impl Strategy<Value = Signature> {
    (arb_bytes32(), arb_bytes32()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

pub fn arb_secret() -> impl Strategy<Value = Secret> {
    arb_bytes32().prop_map(Secret)
}

pub fn arb_currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        1 => Just(Currency(0)),
        1 => Just(Currency(u128::MAX)),
        8 => any::<u128>().prop_map(Currency),
    ]
}

pub fn arb_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => Just(499_999_999u64),
        1 => Just(500_000_000u64),
        6 => any::<u64>(),
    ]
}

pub fn arb_address_kind(nil: bool) -> BoxedStrategy<AddressKind> {
    let kinds = prop_oneof![
        Just(AddressKind::SingleKey),
        Just(AddressKind::AtomicSwap),
        Just(AddressKind::MultiSig),
    ];
    if nil {
        prop_oneof![1 => Just(AddressKind::Nil), 5 => kinds].boxed()
    } else {
        kinds.boxed()
    }
}

pub fn arb_address(nil: bool) -> impl Strategy<Value = Address> {
    // A nil address has an all-zero hash (§3): the codec refuses any other.
    (arb_address_kind(nil), arb_hash()).prop_map(|(kind, hash)| Address {
        kind,
        hash: if kind == AddressKind::Nil {
            Hash::ZERO
        } else {
            hash
        },
    })
}

/// 0..=32 addresses, mostly few.
pub fn arb_multisig(nil: bool) -> impl Strategy<Value = MultiSigCondition> {
    let addresses = prop_oneof![
        6 => vec(arb_address(nil), 0..=3),
        1 => vec(arb_address(nil), 0..=MAX_MULTISIG_KEYS),
        1 => vec(arb_address(nil), MAX_MULTISIG_KEYS),
    ];
    (arb_u64(), addresses).prop_map(|(min, addresses)| MultiSigCondition { min, addresses })
}

pub fn arb_locked(nil: bool) -> impl Strategy<Value = LockedCondition> {
    prop_oneof![
        arb_address(nil).prop_map(LockedCondition::Address),
        arb_multisig(nil).prop_map(LockedCondition::MultiSig),
    ]
}

pub fn arb_atomic_swap(nil: bool) -> impl Strategy<Value = AtomicSwapCondition> {
    (arb_address(nil), arb_address(nil), arb_hash(), arb_u64()).prop_map(
        |(sender, receiver, hashed_secret, timeout)| AtomicSwapCondition {
            sender,
            receiver,
            hashed_secret,
            timeout,
        },
    )
}

pub fn arb_condition(nil: bool) -> impl Strategy<Value = Condition> {
    prop_oneof![
        arb_address(nil).prop_map(Condition::Address),
        arb_multisig(nil).prop_map(Condition::MultiSig),
        (arb_u64(), arb_locked(nil))
            .prop_map(|(until, inner)| Condition::TimeLock { until, inner }),
        arb_atomic_swap(nil).prop_map(Condition::AtomicSwap),
    ]
}

pub fn arb_key_signature() -> impl Strategy<Value = KeySignature> {
    (arb_public_key(), arb_signature()).prop_map(|(public_key, signature)| KeySignature {
        public_key,
        signature,
    })
}

/// All four variants; a multi-signature holds 0..=32 signatures, mostly few.
pub fn arb_fulfillment() -> impl Strategy<Value = Fulfillment> {
    let sigs = prop_oneof![
        6 => vec(arb_key_signature(), 0..=3),
        1 => vec(arb_key_signature(), 0..=MAX_MULTISIG_KEYS),
    ];
    prop_oneof![
        arb_key_signature().prop_map(Fulfillment::Signature),
        sigs.prop_map(Fulfillment::MultiSignature),
        (arb_public_key(), arb_signature(), arb_secret()).prop_map(
            |(public_key, signature, secret)| Fulfillment::Claim {
                public_key,
                signature,
                secret,
            }
        ),
        (arb_public_key(), arb_signature()).prop_map(|(public_key, signature)| {
            Fulfillment::Refund {
                public_key,
                signature,
            }
        }),
    ]
}

pub fn arb_input() -> impl Strategy<Value = Input> {
    (arb_output_id(), arb_fulfillment()).prop_map(|(parent, fulfillment)| Input {
        parent,
        fulfillment,
    })
}

pub fn arb_output(nil: bool) -> impl Strategy<Value = Output> {
    (arb_currency(), arb_condition(nil)).prop_map(|(value, condition)| Output { value, condition })
}

pub fn arb_stake_output(nil: bool) -> impl Strategy<Value = StakeOutput> {
    (arb_u64(), arb_condition(nil)).prop_map(|(value, condition)| StakeOutput { value, condition })
}

pub fn arb_arbitrary_data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..=16),
        1 => vec(any::<u8>(), 0..=MAX_ARBITRARY_DATA),
        1 => vec(any::<u8>(), MAX_ARBITRARY_DATA),
    ]
}

pub fn arb_resources() -> impl Strategy<Value = Resources> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
    )
        .prop_map(|(cru, mru, sru, hru, ipv4)| Resources {
            cru,
            mru,
            sru,
            hru,
            ipv4,
        })
}

pub fn arb_price() -> impl Strategy<Value = Price> {
    (
        arb_currency(),
        arb_currency(),
        arb_currency(),
        arb_currency(),
        arb_currency(),
    )
        .prop_map(|(cru, mru, sru, hru, ipv4)| Price {
            cru,
            mru,
            sru,
            hru,
            ipv4,
        })
}

pub fn arb_grid_op(nil: bool) -> impl Strategy<Value = GridOp> {
    let name = "[a-z0-9_-]{0,64}".prop_map(FarmName);
    let data = vec(any::<u8>(), 0..=32);
    prop_oneof![
        (name, arb_condition(nil), arb_address(nil)).prop_map(|(name, owner, payout)| {
            GridOp::RegisterFarm {
                name,
                owner,
                payout,
            }
        }),
        (
            any::<u32>(),
            arb_public_key(),
            arb_resources(),
            arb_price(),
            arb_fulfillment(),
            arb_signature()
        )
            .prop_map(|(farm, node_key, capacity, price, farm_auth, node_sig)| {
                GridOp::RegisterNode {
                    farm,
                    node_key,
                    capacity,
                    price,
                    farm_auth,
                    node_sig,
                }
            }),
        (
            any::<u32>(),
            proptest::option::of(arb_resources()),
            proptest::option::of(arb_price()),
            proptest::option::of(prop_oneof![
                Just(Availability::Up),
                Just(Availability::Down)
            ]),
            arb_fulfillment()
        )
            .prop_map(
                |(node, capacity, price, state, farm_auth)| GridOp::UpdateNode {
                    node,
                    capacity,
                    price,
                    state,
                    farm_auth,
                }
            ),
        (
            any::<u32>(),
            arb_resources(),
            arb_currency(),
            arb_currency(),
            arb_hash(),
            data.clone(),
            arb_condition(nil)
        )
            .prop_map(
                |(node, resources, deposit, max_rate, deployment_hash, deployment_data, owner)| {
                    GridOp::Reserve {
                        node,
                        resources,
                        deposit,
                        max_rate,
                        deployment_hash,
                        deployment_data,
                        owner,
                    }
                }
            ),
        (any::<u64>(), arb_currency()).prop_map(|(reservation, amount)| GridOp::TopUp {
            reservation,
            amount
        }),
        (any::<u64>(), arb_hash(), data, arb_fulfillment()).prop_map(
            |(reservation, deployment_hash, deployment_data, owner_auth)| {
                GridOp::UpdateDeployment {
                    reservation,
                    deployment_hash,
                    deployment_data,
                    owner_auth,
                }
            }
        ),
        (any::<u64>(), arb_fulfillment()).prop_map(|(reservation, owner_auth)| GridOp::Cancel {
            reservation,
            owner_auth
        }),
        (any::<u32>(), arb_fulfillment())
            .prop_map(|(node, farm_auth)| GridOp::RemoveNode { node, farm_auth }),
        (any::<u32>(), arb_fulfillment())
            .prop_map(|(node, farm_auth)| GridOp::Claim { node, farm_auth }),
    ]
}

pub fn arb_transaction(nil: bool) -> impl Strategy<Value = Transaction> {
    (
        prop_oneof![4 => Just(1u8), 1 => any::<u8>()],
        vec(arb_input(), 0..=MAX_GEN_IO),
        vec(arb_output(nil), 0..=MAX_GEN_IO),
        vec(arb_input(), 0..=MAX_GEN_IO),
        vec(arb_stake_output(nil), 0..=MAX_GEN_IO),
        arb_currency(),
        arb_arbitrary_data(),
        vec(arb_grid_op(nil), 0..=2),
    )
        .prop_map(
            |(
                version,
                coin_inputs,
                coin_outputs,
                blockstake_inputs,
                blockstake_outputs,
                fee,
                arbitrary_data,
                grid_ops,
            )| Transaction {
                version,
                coin_inputs,
                coin_outputs,
                blockstake_inputs,
                blockstake_outputs,
                fee,
                arbitrary_data,
                grid_ops,
            },
        )
}

pub fn arb_header(nil: bool) -> impl Strategy<Value = BlockHeader> {
    (
        prop_oneof![4 => Just(1u32), 1 => any::<u32>()],
        arb_block_id(),
        arb_u64(),
        arb_u64(),
        arb_output_id(),
        arb_public_key(),
        arb_address(nil),
        arb_hash(),
    )
        .prop_map(
            |(
                version,
                parent,
                height,
                timestamp,
                stake_output,
                creator,
                reward_address,
                tx_root,
            )| {
                BlockHeader {
                    version,
                    parent,
                    height,
                    timestamp,
                    stake_output,
                    creator,
                    reward_address,
                    tx_root,
                }
            },
        )
}

pub fn arb_block(nil: bool) -> impl Strategy<Value = Block> {
    (
        arb_header(nil),
        arb_signature(),
        vec(arb_transaction(nil), 0..=MAX_GEN_TXS),
    )
        .prop_map(|(header, signature, transactions)| Block {
            header,
            signature,
            transactions,
        })
}

/// One corruption of an encoding.
#[derive(Clone, Debug)]
pub enum Mutation {
    Flip { pos: usize, mask: u8 },
    Insert { pos: usize, byte: u8 },
    Delete { pos: usize },
    Set { pos: usize, byte: u8 },
}

pub fn arb_mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(pos, mask)| Mutation::Flip { pos, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(pos, byte)| Mutation::Insert { pos, byte }),
        any::<usize>().prop_map(|pos| Mutation::Delete { pos }),
        (
            any::<usize>(),
            prop_oneof![Just(0u8), Just(1), Just(2), Just(3), Just(4), Just(0xff)]
        )
            .prop_map(|(pos, byte)| Mutation::Set { pos, byte }),
    ];
    vec(one, 1..=4)
}

/// Applies `mutations` in order; positions wrap around the current length.
pub fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in mutations {
        match *m {
            Mutation::Flip { pos, mask } if !out.is_empty() => {
                let i = pos % out.len();
                out[i] ^= mask;
            }
            Mutation::Set { pos, byte } if !out.is_empty() => {
                let i = pos % out.len();
                out[i] = byte;
            }
            Mutation::Delete { pos } if !out.is_empty() => {
                let i = pos % out.len();
                out.remove(i);
            }
            Mutation::Insert { pos, byte } => {
                let i = pos % (out.len() + 1);
                out.insert(i, byte);
            }
            _ => {}
        }
    }
    out
}

/// The same transaction with every signature and secret changed (first byte flipped):
/// the unsigned form is unchanged.
pub fn resign(tx: &Transaction) -> Transaction {
    let flip_sig = |s: &Signature| {
        let mut s = *s;
        s.0[0] ^= 1;
        s
    };
    let flip_ks = |ks: &KeySignature| KeySignature {
        public_key: ks.public_key,
        signature: flip_sig(&ks.signature),
    };
    let flip = |f: &Fulfillment| match f {
        Fulfillment::Signature(ks) => Fulfillment::Signature(flip_ks(ks)),
        Fulfillment::MultiSignature(v) => {
            Fulfillment::MultiSignature(v.iter().map(flip_ks).collect())
        }
        Fulfillment::Claim {
            public_key,
            signature,
            secret,
        } => {
            let mut secret = *secret;
            secret.0[31] ^= 0x80;
            Fulfillment::Claim {
                public_key: *public_key,
                signature: flip_sig(signature),
                secret,
            }
        }
        Fulfillment::Refund {
            public_key,
            signature,
        } => Fulfillment::Refund {
            public_key: *public_key,
            signature: flip_sig(signature),
        },
    };
    let inputs = |v: &[Input]| {
        v.iter()
            .map(|i| Input {
                parent: i.parent,
                fulfillment: flip(&i.fulfillment),
            })
            .collect()
    };
    let grid_ops =
        tx.grid_ops
            .iter()
            .map(|op| {
                let mut op = op.clone();
                match &mut op {
                    GridOp::RegisterNode {
                        farm_auth,
                        node_sig,
                        ..
                    } => {
                        *farm_auth = flip(farm_auth);
                        *node_sig = flip_sig(node_sig);
                    }
                    GridOp::UpdateNode { farm_auth, .. }
                    | GridOp::RemoveNode { farm_auth, .. }
                    | GridOp::Claim { farm_auth, .. } => *farm_auth = flip(farm_auth),
                    GridOp::UpdateDeployment { owner_auth, .. }
                    | GridOp::Cancel { owner_auth, .. } => *owner_auth = flip(owner_auth),
                    _ => {}
                }
                op
            })
            .collect();
    Transaction {
        coin_inputs: inputs(&tx.coin_inputs),
        blockstake_inputs: inputs(&tx.blockstake_inputs),
        grid_ops,
        ..tx.clone()
    }
}

/// Whether `tx` carries any signature or secret at all.
pub fn has_signatures(tx: &Transaction) -> bool {
    let signed = |f: &Fulfillment| !matches!(f, Fulfillment::MultiSignature(v) if v.is_empty());
    tx.coin_inputs
        .iter()
        .chain(&tx.blockstake_inputs)
        .any(|i| signed(&i.fulfillment))
        || tx.grid_ops.iter().any(|op| {
            matches!(op, GridOp::RegisterNode { .. }) || op.authorization().is_some_and(signed)
        })
}
