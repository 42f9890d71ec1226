//! Writes the seed corpora: `cargo run --example gen_seeds` (from `fuzz/`) fills
//! `seeds/<target>/` with valid encodings (blocks and transactions of the `apply_block`
//! fixture, every p2p message, sample RPC parameters) and the regression inputs of past
//! findings, runs every target on each seed, and checks that each valid seed decodes.
//! Existing files of the same name are overwritten; other files are left alone.

use std::path::{Path, PathBuf};
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::testkit::address_of;
use tfchain_consensus::Work;
use tfchain_node::net::protocol::{PeerRecord, Request, Response, Status, TxGossip};
use tfchain_types::{
    codec::encode, Address, AddressKind, AtomicSwapCondition, Block, Condition, Currency, FarmName,
    Fulfillment, GridOp, Hash, Input, KeySignature, LockedCondition, Output, OutputId, Secret,
    Signature, Transaction, TX_VERSION,
};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("creates the seed folder");
    std::fs::write(d.join(name), bytes).expect("writes the seed");
}

/// Transactions that the fixture's do not cover: every condition and fulfillment shape
/// and the remaining grid operations. Not valid against any state, but well formed.
fn shapes(fx: &tfchain_fuzz::chain::Fixture) -> Vec<Transaction> {
    let user = address_of(&fx.user);
    let farmer = address_of(&fx.farmer);
    let pk = fx.user.public_key();
    let secret = Secret([9; 32]);
    let swap = AtomicSwapCondition {
        sender: user,
        receiver: farmer,
        hashed_secret: secret.hashed(),
        timeout: 1_700_001_000,
    };
    let base = Transaction {
        version: TX_VERSION,
        coin_inputs: vec![],
        coin_outputs: vec![],
        blockstake_inputs: vec![],
        blockstake_outputs: vec![],
        fee: Currency(10_000_000),
        arbitrary_data: vec![],
        grid_ops: vec![],
    };
    let input = |f: Fulfillment| Input {
        parent: OutputId(Hash([5; 32])),
        fulfillment: f,
    };
    vec![
        Transaction {
            coin_inputs: vec![
                input(Fulfillment::Claim {
                    public_key: pk,
                    signature: Signature::ZERO,
                    secret,
                }),
                input(Fulfillment::Refund {
                    public_key: pk,
                    signature: Signature::ZERO,
                }),
            ],
            coin_outputs: vec![
                Output {
                    value: Currency(1),
                    condition: Condition::AtomicSwap(swap),
                },
                Output {
                    value: Currency(2),
                    condition: Condition::TimeLock {
                        until: 1_000,
                        inner: LockedCondition::Address(user),
                    },
                },
                Output {
                    value: Currency(3),
                    condition: Condition::TimeLock {
                        until: 1_800_000_000,
                        inner: LockedCondition::MultiSig(tfchain_types::MultiSigCondition {
                            min: 1,
                            addresses: vec![user, farmer],
                        }),
                    },
                },
            ],
            arbitrary_data: b"shapes".to_vec(),
            ..base.clone()
        },
        Transaction {
            grid_ops: vec![
                GridOp::RegisterFarm {
                    name: FarmName("farm-two".into()),
                    owner: Condition::Address(farmer),
                    payout: farmer,
                },
                GridOp::RemoveNode {
                    node: 1,
                    farm_auth: Fulfillment::MultiSignature(vec![KeySignature {
                        public_key: pk,
                        signature: Signature::ZERO,
                    }]),
                },
            ],
            ..base.clone()
        },
    ]
}

/// A transaction paying to a type-0 ("nil") address with a nonzero hash: the first
/// finding (fuzz/README.md). The codec must refuse it (PROTOCOL.md §3).
fn nil_address_tx(fx: &tfchain_fuzz::chain::Fixture) -> Vec<u8> {
    let mut tx = fx.txs[0].clone();
    tx.coin_outputs[0].condition = Condition::Address(Address {
        kind: AddressKind::Nil,
        hash: Hash([1; 32]),
    });
    encode(&tx)
}

fn main() {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let fx = tfchain_fuzz::chain::fixture();
    let genesis = &fx.chain.genesis;
    let mut txs: Vec<Transaction> = fx.txs.clone();
    txs.extend(shapes(fx));
    txs.push(genesis.transactions[0].clone());

    // decode_tx
    for (i, tx) in txs.iter().enumerate() {
        let bytes = encode(tx);
        assert!(tfchain_types::decode_transaction(&bytes).is_ok(), "tx {i}");
        write(&dir, "decode_tx", &format!("tx-{i}"), &bytes);
    }
    write(
        &dir,
        "decode_tx",
        "regress-nil-address-hash",
        &nil_address_tx(fx),
    );

    // decode_block
    let mut blocks: Vec<Block> = vec![genesis.clone()];
    blocks.extend(fx.valid.iter().cloned());
    blocks.push(fx.block(txs.clone()));
    for (i, b) in blocks.iter().enumerate() {
        let bytes = encode(b);
        assert!(tfchain_types::decode_block(&bytes).is_ok(), "block {i}");
        write(&dir, "decode_block", &format!("block-{i}"), &bytes);
        write(
            &dir,
            "decode_block",
            &format!("header-{i}"),
            &encode(&b.header),
        );
    }

    // p2p_message: each request, response and gossip message.
    let status = Status {
        genesis: genesis.id(),
        height: fx.state().chain.len() as u64 - 1,
        tip: fx.state().chain.last().map(|m| m.id).unwrap_or_default(),
        total_work: Work::ZERO,
    };
    let signed = |b: &Block| SignedHeader {
        header: b.header.clone(),
        signature: b.signature,
    };
    let peer = PeerRecord {
        peer_id: b"\x00\x24\x08\x01\x12\x20peer-id-bytes".to_vec(),
        addrs: vec![b"\x04\x7f\x00\x00\x01\x06\x5a\x58".to_vec()],
    };
    let requests = vec![
        Request::Status(status.clone()),
        Request::Headers {
            locator: vec![status.tip, genesis.id()],
            max: 512,
        },
        Request::Blocks {
            ids: vec![fx.valid[0].id(), fx.valid[1].id()],
            max_bytes: 1 << 20,
        },
        Request::Peers,
    ];
    let responses = vec![
        Response::Status(status),
        Response::Headers(fx.valid.iter().map(signed).collect()),
        Response::Blocks(fx.valid.clone()),
        Response::Peers(vec![peer]),
        Response::Busy,
    ];
    let mut msgs: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        msgs.push((format!("request-{i}"), encode(r)));
    }
    for (i, r) in responses.iter().enumerate() {
        msgs.push((format!("response-{i}"), encode(r)));
    }
    msgs.push((
        "gossip-txs".into(),
        encode(&TxGossip {
            nonce: 7,
            txs: fx.txs.clone(),
        }),
    ));
    msgs.push(("gossip-block".into(), encode(&fx.valid[1])));
    for (name, bytes) in &msgs {
        write(&dir, "p2p_message", name, bytes);
    }

    // rpc_params
    for (i, (method, params)) in tfchain_fuzz::rpc::samples().iter().enumerate() {
        write(
            &dir,
            "rpc_params",
            &format!("{i:02}-{method}"),
            format!("{method}\n{params}").as_bytes(),
        );
    }

    // apply_block
    for (name, bytes) in tfchain_fuzz::chain::seeds() {
        write(&dir, "apply_block", &name, &bytes);
    }

    // Every target on every seed: the seeds themselves must pass.
    let targets: [(&str, fn(&[u8])); 5] = [
        ("decode_tx", tfchain_fuzz::decode_tx),
        ("decode_block", tfchain_fuzz::decode_block),
        ("p2p_message", tfchain_fuzz::p2p_message),
        ("rpc_params", tfchain_fuzz::rpc_params),
        ("apply_block", tfchain_fuzz::apply_block),
    ];
    for (name, f) in targets {
        let mut n = 0;
        for entry in std::fs::read_dir(dir.join(name)).expect("the seed folder exists") {
            let path = entry.expect("lists the seeds").path();
            f(&std::fs::read(&path).expect("reads the seed"));
            n += 1;
        }
        println!("{name}: {n} seeds pass");
    }
}
