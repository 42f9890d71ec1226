//! Request and response types of the API. JSON follows PROTOCOL.md §2: hashes and IDs are
//! 64 lower-case hex characters, coin amounts are decimal strings of base units
//! (1 TFT = 10^9), addresses are their 78-hex string form, heights, timestamps and
//! blockstake counts are JSON numbers. Every field is always present (`null` when absent),
//! so clients see one shape per type.

use serde::{Deserialize, Serialize};
use tfchain_consensus::{Target, Work};
use tfchain_types::{
    BlockHeader, BlockId, BlockStakes, Condition, Currency, Height, OutputId, Signature, Timestamp,
    Transaction, TxId,
};

/// `chain_getInfo`: where the node's chain is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// Network name from the genesis file (`dev`, `testnet`, `mainnet`, …).
    pub network: String,
    /// ID of the genesis block: tells networks apart.
    pub genesis_id: BlockId,
    /// Height of the tip.
    pub height: Height,
    /// ID of the tip.
    pub tip: BlockId,
    /// Timestamp of the tip (Unix seconds).
    pub tip_timestamp: Timestamp,
    /// The target the tip's children must meet (PROTOCOL.md §5.8), 64 hex characters
    /// (big-endian). Higher is easier.
    pub target: Target,
    /// Accumulated work of the chain up to the tip (§5.8), 64 hex characters (big-endian).
    pub total_work: Work,
    /// Whether the node believes it has caught up with its peers.
    pub synced: bool,
    /// Number of connected peers.
    pub peers: u32,
}

/// A transaction with its ID, as listed in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockTx {
    pub txid: TxId,
    pub transaction: Transaction,
}

/// `chain_getBlock`: a block of the current chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    pub id: BlockId,
    pub height: Height,
    pub header: BlockHeader,
    /// The creator's signature over the block ID (§5.1).
    pub signature: Signature,
    /// The transactions in block order, each with its TxId.
    pub transactions: Vec<BlockTx>,
    /// Encoded size of the whole block in bytes (§2).
    pub size: u64,
    /// `tip height - height + 1`: 1 for the tip.
    pub confirmations: u64,
}

/// `chain_getHeader` and `chain_subscribeNewHeads`: a header with its ID and signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderInfo {
    pub id: BlockId,
    pub height: Height,
    pub header: BlockHeader,
    /// The creator's signature over the block ID (§5.1).
    pub signature: Signature,
}

/// `chain_getSupply`: the money supply at the tip, for the invariant of PROTOCOL.md §6:
/// `coins + escrow + unclaimed_earnings == expected_coins`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supply {
    /// Height of the tip these numbers describe.
    pub height: Height,
    /// Sum of all unspent coin outputs, mature or not.
    pub coins: Currency,
    /// Coins held in reservation escrow (§7.2); zero until the capacity market is active.
    pub escrow: Currency,
    /// Farmer earnings settled but not yet claimed (§7.4); zero until the capacity market
    /// is active.
    pub unclaimed_earnings: Currency,
    /// Sum of all unspent blockstake outputs.
    pub blockstakes: BlockStakes,
    /// Genesis coins plus every block reward up to the tip: what the three coin fields
    /// above must add up to.
    pub expected_coins: Currency,
}

/// Where a transaction is, as far as this node knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TxStatus {
    /// Waiting in this node's pool: `{"state": "pool"}`.
    Pool,
    /// In a block of the current chain:
    /// `{"state": "confirmed", "height": 12, "block": "…", "position": 0, "confirmations": 3}`.
    Confirmed {
        height: Height,
        block: BlockId,
        /// Index of the transaction in the block's transaction list.
        position: u32,
        /// `tip height - height + 1`.
        confirmations: u64,
    },
}

/// `tx_get`: a transaction and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    pub txid: TxId,
    pub transaction: Transaction,
    pub status: TxStatus,
}

/// A payout that is not yet spendable (PROTOCOL.md §5.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmatureOutput {
    pub value: Currency,
    /// The first height at which it can be spent.
    pub mature_at: Height,
}

/// `address_getBalance`: what an address holds at the tip, and what the pool would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Height of the tip the balance was computed at.
    pub height: Height,
    /// Spendable now: unspent coin outputs that are mature and not time-locked.
    pub confirmed: Currency,
    /// Payouts (rewards, fees, grid payouts) not yet mature; not part of `confirmed`.
    pub immature: Currency,
    /// The outputs behind `immature`, soonest first.
    pub immature_outputs: Vec<ImmatureOutput>,
    /// Coins in time-locked outputs (§3) whose lock has not passed at the tip; not part of
    /// `confirmed`.
    pub locked: Currency,
    /// Sum of pool transactions' outputs paying this address.
    pub unconfirmed_in: Currency,
    /// Sum of this address's outputs that pool transactions spend.
    pub unconfirmed_out: Currency,
    /// Sum of the address's unspent blockstake outputs.
    pub blockstakes: BlockStakes,
}

/// Whether an output holds coins or blockstakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// `"coin"`: `value` is in base units of TFT.
    Coin,
    /// `"blockstake"`: `value` is in blockstake units.
    Blockstake,
}

impl From<tfchain_types::OutputKind> for OutputKind {
    fn from(k: tfchain_types::OutputKind) -> Self {
        match k {
            tfchain_types::OutputKind::Coin => OutputKind::Coin,
            tfchain_types::OutputKind::BlockStake => OutputKind::Blockstake,
        }
    }
}

/// `address_getOutputs`, `output_get`: an unspent output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputInfo {
    pub id: OutputId,
    pub kind: OutputKind,
    /// Decimal string: base units for a coin output, blockstake units for a blockstake
    /// output.
    #[serde(with = "decimal_string")]
    pub value: u128,
    pub condition: Condition,
    /// Height of the block that created it.
    pub height: Height,
    /// First height at which it may be spent (§5.6): `height` except for payouts. A time
    /// lock in `condition` may delay spending further.
    pub mature_at: Height,
    /// The pool transaction that spends it, if any: a wallet should not spend it again.
    pub pool_spender: Option<TxId>,
}

/// One entry of an address's history: a transaction of the current chain that pays to or
/// spends from the address, or the payouts one block made to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The transaction; `null` for payouts the chain made itself (block rewards, fees,
    /// grid payouts, PROTOCOL.md §4.2), which are summed per block.
    pub txid: Option<TxId>,
    pub block: BlockId,
    pub height: Height,
    /// Index of the transaction in its block; `null` for payouts.
    pub position: Option<u32>,
    /// Timestamp of the block.
    pub timestamp: Timestamp,
    /// Coins paid to the address by this entry.
    pub received: Currency,
    /// Coins of the address spent by this entry (the fee included when the address paid it).
    pub sent: Currency,
}

/// `address_getHistory`: one page of history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Pass this as `cursor` to get the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An exact fee rate: `fee` base units per `size` bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRate {
    pub fee: Currency,
    pub size: u64,
}

/// `pool_getInfo`: the pool's contents and limits. The limits are this node's policy,
/// not consensus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolInfo {
    /// Transactions held.
    pub count: u64,
    /// Encoded bytes of the transactions held.
    pub bytes: u64,
    /// Most bytes the pool holds before it evicts the lowest fee rates.
    pub max_bytes: u64,
    /// Most transactions the pool holds.
    pub max_count: u64,
    /// Most unconfirmed transactions in one transaction's ancestry, itself included.
    pub max_ancestors: u64,
    /// The network's minimum fee per transaction (PROTOCOL.md §9).
    pub min_fee: Currency,
    /// When the pool is full: the package fee rate a new transaction (with its unconfirmed
    /// ancestors) must exceed to get in. `null` when the pool is empty.
    pub eviction_floor: Option<FeeRate>,
}

/// `pool_getTransactions`: a pool transaction in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolTx {
    pub txid: TxId,
    pub fee: Currency,
    /// Encoded size in bytes.
    pub size: u64,
    /// Tip height when the pool admitted it.
    pub added_height: Height,
}

/// Serde for a `u128` as a decimal string (`"1500000000"`), like `Currency`.
pub mod decimal_string {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(D::Error::custom(format!(
                "expected a decimal string of units, got {s:?}"
            )));
        }
        s.parse()
            .map_err(|_| D::Error::custom(format!("{s} is too large")))
    }
}

/// `chain_getEquivocations`: proof that the creator of one blockstake output signed two
/// different blocks at one height (PROTOCOL.md §5.8). Both headers and signatures are
/// included, so anyone can check the evidence without trusting the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquivocationInfo {
    pub height: Height,
    /// The blockstake output both blocks claim.
    pub stake_output: OutputId,
    /// The header the node saw first.
    pub first: HeaderInfo,
    /// The conflicting header.
    pub second: HeaderInfo,
}

/// `chain_getEquivocations`: one page of equivocations, lowest height first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquivocationsPage {
    pub equivocations: Vec<EquivocationInfo>,
    /// Pass this as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Progress of a running sync (PROTOCOL.md §12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// Height of this node's tip.
    pub height: Height,
    /// Height of the best chain a peer announced.
    pub target_height: Height,
    /// Blocks applied per second over the last few seconds.
    pub blocks_per_second: u64,
    /// Headers validated and waiting for their bodies.
    pub queued_headers: u64,
    /// Peers blocks are downloaded from.
    pub download_peers: u32,
}

/// `net_getInfo`: this node on the peer-to-peer network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetInfo {
    /// This node's libp2p peer ID (base58).
    pub peer_id: String,
    /// Addresses the node listens on (multiaddrs, with `/p2p/<peer_id>`).
    pub listen_addrs: Vec<String>,
    /// Connected peers (inbound + outbound).
    pub peers: u32,
    pub inbound: u32,
    pub outbound: u32,
    /// Most connected peers the node accepts.
    pub max_peers: u32,
    /// Peers currently banned for misbehaviour or by an admin.
    pub banned: u32,
    /// Whether the node believes it has caught up with its peers (the producer waits
    /// until it has).
    pub synced: bool,
    /// The running sync, if any.
    pub sync: Option<SyncProgress>,
}

/// `net_getPeers`: one connected peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// libp2p peer ID (base58).
    pub peer_id: String,
    /// The remote address of the connection (multiaddr).
    pub address: String,
    /// `true` when the peer dialled us.
    pub inbound: bool,
    /// The peer's tip as it last reported it (`null` before its first status).
    pub height: Option<Height>,
    pub tip: Option<BlockId>,
    pub total_work: Option<Work>,
    /// This node's opinion of the peer: useful data raises it, invalid data lowers it;
    /// at the ban threshold the peer is disconnected and banned for a while.
    pub score: i64,
    /// The peer's software (`identify` agent version), once known.
    pub agent: Option<String>,
    /// Seconds since the connection was established.
    pub connected_secs: u64,
}
