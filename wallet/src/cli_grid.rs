//! The capacity-market commands of `tfchainc` (clap derive): farms, nodes, reservations
//! (PROTOCOL.md §7).

use crate::cli::FeeOpts;
use clap::{ArgGroup, Args, Subcommand};
use std::path::PathBuf;

/// Capacity: cores, GiB of memory, SSD and HDD, public IPv4 addresses. A field not given
/// is 0 (for `node update`: unchanged; for `node list`: not filtered on).
#[derive(Clone, Debug, Default, Args)]
pub struct ResourceArgs {
    /// CPU cores.
    #[arg(long)]
    pub cru: Option<u32>,
    /// Memory, GiB.
    #[arg(long)]
    pub mru: Option<u32>,
    /// SSD storage, GiB.
    #[arg(long)]
    pub sru: Option<u32>,
    /// HDD storage, GiB.
    #[arg(long)]
    pub hru: Option<u32>,
    /// Public IPv4 addresses.
    #[arg(long)]
    pub ipv4: Option<u16>,
}

/// A node's price: TFT per block for one unit of each resource (e.g. 0.001). A field not
/// given is 0 (for `node update`: unchanged).
#[derive(Clone, Debug, Default, Args)]
pub struct PriceArgs {
    /// TFT per block for one core.
    #[arg(long)]
    pub price_cru: Option<String>,
    /// TFT per block for one GiB of memory.
    #[arg(long)]
    pub price_mru: Option<String>,
    /// TFT per block for one GiB of SSD.
    #[arg(long)]
    pub price_sru: Option<String>,
    /// TFT per block for one GiB of HDD.
    #[arg(long)]
    pub price_hru: Option<String>,
    /// TFT per block for one IPv4 address.
    #[arg(long)]
    pub price_ipv4: Option<String>,
}

/// How a grid transaction is sent.
#[derive(Debug, Args)]
pub struct SubmitOpts {
    #[command(flatten)]
    pub fee: FeeOpts,
    /// Wait (up to 2 minutes) until the transaction is in a block, and show what it did
    /// (the new farm, node or reservation id, a refund, a payout).
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum FarmCmd {
    /// Register a farm owned by this wallet's receive address.
    Register {
        /// 1 to 64 of a-z, 0-9, '_' and '-'; unique on the chain.
        #[arg(long)]
        name: String,
        /// Where the farmer's share of claimed earnings goes (a single-key address;
        /// default: the owner's address).
        #[arg(long)]
        payout: Option<String>,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// A farm by id.
    Show { id: u32 },
    /// Farms by id.
    List {
        /// Start after this farm id.
        #[arg(long)]
        after: Option<u32>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// Register a node in a farm this wallet owns. The node proves it holds its key by
    /// signing too: give its secret with --node-key-index (a key of this wallet's seed)
    /// or --node-secret-file (a file holding the 32-byte ed25519 secret in hex).
    #[command(group(ArgGroup::new("node_secret").required(true)
        .args(["node_key_index", "node_secret_file"])))]
    Register {
        /// The farm's id.
        #[arg(long)]
        farm: u32,
        /// The node's public key (hex), checked against the secret when given.
        #[arg(long)]
        node_key: Option<String>,
        /// The node key is key N of this wallet's seed (`tfchainc key derive --index N`
        /// shows its public key).
        #[arg(long)]
        node_key_index: Option<u64>,
        /// A file with the node's 32-byte ed25519 secret in hex (64 characters).
        #[arg(long)]
        node_secret_file: Option<PathBuf>,
        #[command(flatten)]
        capacity: ResourceArgs,
        #[command(flatten)]
        price: PriceArgs,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// Change a node's capacity, price or availability (as its farm's owner). Fields not
    /// given keep their value; a new price applies to new reservations only.
    Update {
        id: u32,
        #[command(flatten)]
        capacity: ResourceArgs,
        #[command(flatten)]
        price: PriceArgs,
        /// Take new reservations again.
        #[arg(long, conflicts_with = "down")]
        up: bool,
        /// Take no new reservations (existing ones run on).
        #[arg(long)]
        down: bool,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// A node by id: capacity, used, free, price, state, unclaimed earnings.
    Show { id: u32 },
    /// Nodes by id; with --cru etc. only nodes that are up with at least that much free.
    List {
        /// Only this farm's nodes.
        #[arg(long)]
        farm: Option<u32>,
        #[command(flatten)]
        free: ResourceArgs,
        /// Start after this node id.
        #[arg(long)]
        after: Option<u32>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Pay the node's earnings to its farm's payout address (as the farm's owner).
    Claim {
        id: u32,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// Remove the node for good: its live reservations end and are refunded.
    Remove {
        id: u32,
        #[command(flatten)]
        submit: SubmitOpts,
    },
}

/// Reserve capacity on a node: asks the node for a quote, shows the rate and the deposit
/// (rate × blocks), and asks before sending unless --yes.
#[derive(Debug, Args)]
pub struct ReserveArgs {
    /// The node's id.
    pub node: u32,
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// Blocks to pay for up front (at least the network's min_reservation_blocks).
    #[arg(long)]
    pub blocks: u64,
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    #[command(flatten)]
    pub submit: SubmitOpts,
}

/// What the node should run: a manifest file (PROTOCOL.md §7.6), or its hash and data.
#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// The deployment manifest (JSON, docs/deployment-manifest.schema.json): checked, hashed,
    /// and inlined in the reservation when it fits in 512 bytes.
    #[arg(long, conflicts_with_all = ["deployment_hash", "deployment_data"])]
    pub manifest: Option<std::path::PathBuf>,
    /// Where the node's daemon fetches the manifest (needed when it is over 512 bytes).
    #[arg(long, requires = "manifest")]
    pub manifest_url: Option<String>,
    /// The low-level way: the deployment's hash (64 hex).
    #[arg(long)]
    pub deployment_hash: Option<String>,
    /// With --deployment-hash: data for the node's daemon, in hex (at most 512 bytes).
    #[arg(long, requires = "deployment_hash")]
    pub deployment_data: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReservationCmd {
    /// A reservation by id.
    Show { id: u64 },
    /// The live reservations of a node, or (default) every reservation owned by one of
    /// this wallet's addresses.
    List {
        #[arg(long)]
        node: Option<u32>,
    },
    /// Add funds to a reservation (anyone may); one in grace resumes.
    #[command(group(ArgGroup::new("how_much").required(true).args(["amount", "blocks"])))]
    Topup {
        id: u64,
        /// TFT to add.
        #[arg(long)]
        amount: Option<String>,
        /// Add the reservation's rate times this many blocks.
        #[arg(long)]
        blocks: Option<u64>,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// Point a reservation at a new deployment (as its owner): --manifest FILE, or
    /// --deployment-hash (replaces both the hash and the data; no --deployment-data: none).
    Update {
        id: u64,
        #[command(flatten)]
        deployment: DeploymentArgs,
        #[command(flatten)]
        submit: SubmitOpts,
    },
    /// End a reservation (as its owner): the node is paid to now and the rest of the
    /// escrow comes back to the owner (spendable after the payout maturity delay).
    Cancel {
        id: u64,
        #[command(flatten)]
        submit: SubmitOpts,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeploymentCmd {
    /// The deployment hash of a manifest file (checked first; no wallet, no node).
    Hash { file: std::path::PathBuf },
}
