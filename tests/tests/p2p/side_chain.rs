//! Issue #12 item 2: forged side branches sent over gossip (a self-chosen creator, a stake
//! output that does not exist, compressed timestamps that do not win the lottery, a longer
//! branch claiming more work) are refused before anything of them is stored, weighed or
//! relayed; the node does not reorganise, and each sender is penalised (banned).

use super::attacker::Attacker;
use super::MINUTE;
use tfchain_consensus::lottery::{stake_modifier, wins};
use tfchain_tests::{init_logs, Net, TestNode};
use tfchain_types::block::tx_root;
use tfchain_types::{
    Address, Block, BlockHeader, BlockId, Hash, OutputId, SecretKey, Timestamp, BLOCK_VERSION,
};

/// An empty block on `parent` (a main-chain block of `node`) at `timestamp`, claiming
/// `stake_output`, signed by `key`.
fn forge(
    parent: BlockId,
    height: u64,
    timestamp: Timestamp,
    stake: OutputId,
    key: &SecretKey,
) -> Block {
    let header = BlockHeader {
        version: BLOCK_VERSION,
        parent,
        height,
        timestamp,
        stake_output: stake,
        creator: key.public_key(),
        reward_address: Address::from_public_key(&key.public_key()),
        tx_root: tx_root(&[]),
    };
    let signature = key.sign_hash(&header.id().0);
    Block {
        header,
        signature,
        transactions: vec![],
    }
}

/// Sends `blocks` from a fresh attacker and waits until `node` bans it.
async fn send_and_expect_ban(net: &Net, node: &TestNode, blocks: &[Block]) -> anyhow::Result<()> {
    let mut a = Attacker::new(net)?;
    a.connect(&node.p2p).await?;
    let payloads = blocks.iter().map(tfchain_types::encode).collect();
    a.publish_all(a.names.blocks.clone(), payloads).await?;
    a.wait_score(node, 0, true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_side_branches_are_refused_unstored_and_penalised() -> anyhow::Result<()> {
    init_logs();
    let mut net = Net::new(1)?;
    net.start_validators(1).await?;
    net.wait_height(0, 4, MINUTE).await?;
    let node = net.node(0);
    let store = &node.running.chain.store;
    let params = node.running.chain.params.clone();
    let validator = net.keys[0].clone();
    let stranger = SecretKey::from_bytes(&[42; 32]);
    let (stake_output, stake) = store
        .stakes_of(&Address::from_public_key(&validator.public_key()))?
        .into_iter()
        .next()
        .expect("the validator's stake");

    // Fork two blocks below the tip, so every forged block is a side block.
    let fork_height = node.height() - 2;
    let fork = store.meta_at(fork_height)?.expect("fork block");
    let main_before: Vec<BlockId> = (0..=fork_height + 2)
        .map(|h| node.id_at(h).expect("main block"))
        .collect();
    let next = fork_height + 1;

    // 1. A self-chosen creator claiming the validator's stake output.
    let creator = forge(fork.id, next, fork.timestamp + 1, stake_output, &stranger);
    // 2. A stake output that does not exist.
    let no_stake = forge(
        fork.id,
        next,
        fork.timestamp + 1,
        OutputId(Hash([9; 32])),
        &stranger,
    );
    // 3. The real validator key and stake, at compressed timestamps that lose the lottery.
    let modifier = stake_modifier(store, next, &params);
    let t = (fork.timestamp + 1..)
        .find(|t| !wins(&modifier, &stake_output, stake.value, *t, fork.child_target))
        .expect("a losing second");
    let compressed = forge(fork.id, next, t, stake_output, &validator);
    // 4. A longer branch (more claimed work) of blocks nobody staked for.
    let mut branch = Vec::new();
    let (mut parent, mut ts) = (fork.id, fork.timestamp);
    for i in 0..4 {
        ts += 1;
        let b = forge(
            parent,
            next + i,
            ts,
            OutputId(Hash([i as u8 + 1; 32])),
            &stranger,
        );
        parent = b.id();
        branch.push(b);
    }

    let cases: [(&str, Vec<Block>); 4] = [
        ("self-chosen creator", vec![creator]),
        ("no stake", vec![no_stake]),
        ("compressed timestamps", vec![compressed]),
        ("heavier branch", branch),
    ];
    for (what, blocks) in &cases {
        send_and_expect_ban(&net, node, blocks)
            .await
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        for b in blocks {
            assert!(
                store.index_entry(&b.id())?.is_none() && store.block(&b.id())?.is_none(),
                "{what}: block {} was stored",
                b.id()
            );
        }
        // No reorganisation: the main chain below the fork and above it is unchanged.
        for (h, id) in main_before.iter().enumerate() {
            assert_eq!(
                node.id_at(h as u64).as_ref(),
                Some(id),
                "{what}: height {h} changed"
            );
        }
    }
    assert!(
        store.equivocations()?.is_empty(),
        "forged blocks used as evidence"
    );

    // The validator kept producing on its own chain.
    let h = node.height() + 2;
    net.wait_height(0, h, MINUTE).await?;
    net.stop().await;
    Ok(())
}
