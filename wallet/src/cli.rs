//! The command line of `tfchainc` (clap derive).

pub use crate::cli_grid::{
    DeploymentCmd, FarmCmd, NodeCmd, PriceArgs, ReservationCmd, ReserveArgs, ResourceArgs,
    SubmitOpts,
};
use crate::rpc::DEFAULT_RPC_URL;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// tfchainc: the tfchain wallet and chain command line. Keys stay in the wallet: it signs
/// locally and sends only signed transactions to the node.
#[derive(Debug, Parser)]
#[command(name = "tfchainc", version, about, long_about = None)]
pub struct Cli {
    /// The node's JSON-RPC URL.
    #[arg(long, global = true, env = "TFCHAIN_RPC", default_value = DEFAULT_RPC_URL)]
    pub rpc: String,
    /// The wallet directory (holds the encrypted keystore wallet.json).
    /// Default: $HOME/.tfchain/wallet.
    #[arg(long, global = true, env = "TFCHAIN_WALLET_DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Read the wallet passphrase from this file (else TFCHAIN_PASSPHRASE, else a prompt).
    #[arg(long, global = true, env = "TFCHAIN_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or restore a wallet; receive, send and inspect coins and blockstakes.
    #[command(subcommand)]
    Wallet(WalletCmd),
    /// Multisig addresses and spends signed by several wallets.
    #[command(subcommand)]
    Multisig(MultisigCmd),
    /// Atomic swaps (hash time-locked contracts with SHA-256 secrets).
    #[command(subcommand)]
    Swap(SwapCmd),
    /// The node's chain.
    #[command(subcommand)]
    Chain(ChainCmd),
    /// Look up blocks, transactions, addresses and outputs.
    #[command(subcommand)]
    Explore(ExploreCmd),
    /// Key derivation for scripts and compatibility checks (no wallet, no node).
    #[command(subcommand)]
    Key(KeyCmd),
    /// Capacity market: register and show farms.
    #[command(subcommand)]
    Farm(FarmCmd),
    /// Capacity market: register, update, show and claim nodes.
    #[command(subcommand)]
    Node(NodeCmd),
    /// Capacity market: reserve capacity on a node, paying a deposit into escrow.
    Reserve(ReserveArgs),
    /// Capacity market: show, list, top up, update and cancel reservations.
    #[command(subcommand)]
    Reservation(ReservationCmd),
    /// Deployment manifests: what a reserved node runs.
    #[command(subcommand)]
    Deployment(DeploymentCmd),
}

#[derive(Debug, Args)]
pub struct NewWalletOpts {
    /// Replace an existing wallet in the directory.
    #[arg(long)]
    pub force: bool,
    /// Cheap key derivation, for tests only: never use it for real funds.
    #[arg(long, hide = true)]
    pub insecure_fast_kdf: bool,
}

#[derive(Debug, Args)]
pub struct FeeOpts {
    /// The fee in TFT (default: the network's minimum fee).
    #[arg(long)]
    pub fee: Option<String>,
    /// Do not ask for confirmation (scripts): of a network minimum fee the node reports
    /// above 1 TFT, and of what else the command asks about (a reservation's deposit).
    #[arg(long)]
    pub yes: bool,
}

/// The network a new wallet signs for (kept, encrypted, in its keystore).
#[derive(Debug, Args)]
pub struct NetworkOpts {
    /// The network's name: with --genesis-id, any name; alone, a built-in network (`dev`,
    /// `testnet`) or the network the node runs. Default: the node's network, or `dev` when
    /// no node answers.
    #[arg(long)]
    pub network: Option<String>,
    /// The ID of the network's genesis block (64 hex; `tfchainc chain info` shows a node's).
    #[arg(long)]
    pub genesis_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WalletCmd {
    /// Create a wallet with a new 24-word mnemonic (shown once).
    Init {
        #[command(flatten)]
        new: NewWalletOpts,
        /// Do not ask to confirm the mnemonic (scripts): it is printed in the output instead.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        network: NetworkOpts,
    },
    /// Restore a wallet from its 24-word mnemonic (prompted, or read from standard input)
    /// and scan the chain for the addresses it used.
    Recover {
        #[command(flatten)]
        new: NewWalletOpts,
        /// Key indices to scan for use: 0 up to this.
        #[arg(long, default_value_t = 2500)]
        scan: u64,
        /// Unused indices to scan past the last used one.
        #[arg(long, default_value_t = 50)]
        gap: u64,
        /// Do not contact the node (watch index 0 only).
        #[arg(long)]
        no_scan: bool,
        #[command(flatten)]
        network: NetworkOpts,
    },
    /// Show the network the wallet signs for and whether the node runs it; with
    /// --network/--genesis-id or --adopt, set it (needed once for wallets made by an older
    /// tfchainc, which did not record it).
    Network {
        #[command(flatten)]
        set: NetworkOpts,
        /// Take the network the node runs (check it first with `tfchainc chain info`).
        #[arg(long, conflicts_with_all = ["network", "genesis_id"])]
        adopt: bool,
        /// Replace a network the wallet already records.
        #[arg(long)]
        force: bool,
    },
    /// Show the receive address (and its public key).
    Address {
        /// Hand out a new address.
        #[arg(long)]
        new: bool,
    },
    /// List every address the wallet watches.
    Addresses,
    /// Confirmed, immature, time-locked and unconfirmed coins, and blockstakes.
    Balance,
    /// Send coins.
    Send {
        /// The recipient's address.
        address: String,
        /// Amount in TFT, e.g. 1.5 or 1.5TFT.
        amount: String,
        #[command(flatten)]
        fee: FeeOpts,
        #[command(flatten)]
        extra: TxExtra,
        /// For a multisig recipient: how many signatures it needs.
        #[arg(long, requires = "multisig_addresses")]
        multisig_min: Option<u64>,
        /// For a multisig recipient: its members (addresses or public keys), comma-separated.
        #[arg(long, value_delimiter = ',', requires = "multisig_min")]
        multisig_addresses: Vec<String>,
    },
    /// Send blockstakes (the fee is paid in coins).
    SendStake {
        address: String,
        /// Blockstake units.
        count: u64,
        #[command(flatten)]
        fee: FeeOpts,
        #[command(flatten)]
        extra: TxExtra,
    },
    /// List the wallet's unspent outputs.
    Outputs,
    /// The wallet's transactions and payouts, newest first.
    History {
        /// Most entries to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub struct TxExtra {
    /// Arbitrary data (text) to attach, at most 255 bytes.
    #[arg(long, conflicts_with = "data_hex")]
    pub data: Option<String>,
    /// Arbitrary data in hex.
    #[arg(long)]
    pub data_hex: Option<String>,
    /// Lock the output until a block height (< 500000000), a Unix time, or a UTC date
    /// (2030-01-31T12:00:00Z).
    #[arg(long)]
    pub lock_until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MultisigCmd {
    /// The address of an M-of-N multisig (members as addresses or public keys).
    Address {
        #[arg(long)]
        min: u64,
        #[arg(required = true, num_args = 2..)]
        members: Vec<String>,
    },
    /// Build an unsigned spend from a multisig into a file for its signers.
    Spend {
        /// Recipient address.
        address: String,
        /// Amount in TFT.
        amount: String,
        /// Signatures the multisig needs.
        #[arg(long)]
        min: u64,
        /// The multisig's members (addresses or public keys), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        members: Vec<String>,
        /// Public keys of the members who will sign (at least --min; `tfchainc wallet
        /// address` shows a wallet's). Default: the first --min members given as keys.
        #[arg(long, value_delimiter = ',')]
        signers: Vec<String>,
        #[command(flatten)]
        fee: FeeOpts,
        #[command(flatten)]
        extra: TxExtra,
        /// Where to write the spend file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add this wallet's signatures to a spend file. The node is asked for each input: an
    /// input not locked by the file's multisig is refused; grid operations, blockstakes and a
    /// fee above 1 TFT are shown and need confirmation.
    Sign {
        file: PathBuf,
        /// Write the signed spend here instead of updating the file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not ask for confirmation of grid operations, blockstakes or a high fee.
        #[arg(long)]
        yes: bool,
    },
    /// Submit a spend file once every signer has signed.
    Submit { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum SwapCmd {
    /// Start a swap: lock coins to the participant under a new secret's hash.
    Initiate {
        /// The participant's address (who may claim with the secret).
        participant: String,
        amount: String,
        /// Time until the initiator may refund.
        #[arg(long, default_value = "48h")]
        timeout: String,
        #[command(flatten)]
        fee: FeeOpts,
    },
    /// Answer a swap: lock coins to the initiator under the initiator's hash.
    Participate {
        /// The initiator's address.
        initiator: String,
        amount: String,
        /// The SHA-256 hash of the initiator's secret (hex).
        hashed_secret: String,
        /// Time until the participant may refund (shorter than the initiator's).
        #[arg(long, default_value = "24h")]
        timeout: String,
        #[command(flatten)]
        fee: FeeOpts,
    },
    /// Show a swap contract (by output ID) and check it against what was agreed.
    Audit {
        output_id: String,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        hashed_secret: Option<String>,
        #[arg(long)]
        receiver: Option<String>,
        #[arg(long)]
        sender: Option<String>,
        /// Least time that must remain before the timeout, e.g. 12h.
        #[arg(long)]
        min_remaining: Option<String>,
    },
    /// Claim a swap's coins with the secret (as its receiver, before the timeout).
    Claim {
        output_id: String,
        /// The 32-byte secret in hex (default: the one this wallet generated, if any).
        secret: Option<String>,
        #[command(flatten)]
        fee: FeeOpts,
    },
    /// Take back a swap's coins (as its sender, after the timeout).
    Refund {
        output_id: String,
        #[command(flatten)]
        fee: FeeOpts,
    },
    /// Find the secret revealed by a claim: from the claiming transaction's ID or the swap
    /// contract's address.
    Extract {
        txid_or_address: String,
        /// Only the secret with this SHA-256 hash.
        #[arg(long)]
        hashed_secret: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChainCmd {
    /// Network, tip, sync state and the main parameters.
    Info,
}

#[derive(Debug, Subcommand)]
pub enum ExploreCmd {
    /// A block by height or ID.
    Block { block: String },
    /// A transaction by ID, with its status and output IDs.
    Tx {
        txid: String,
        /// Wait up to this long (e.g. 60s) for the transaction to be confirmed.
        #[arg(long)]
        wait: Option<String>,
    },
    /// An address's balance, unspent outputs and recent history.
    Address {
        address: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// An unspent output by ID.
    Output { id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Read a mnemonic from standard input; print key N's address and public key.
    Derive {
        #[arg(long, default_value_t = 0)]
        index: u64,
    },
    /// The address of an ed25519 public key (hex, optionally `ed25519:`-prefixed).
    Address { public_key: String },
}

impl Cli {
    /// The wallet directory to use.
    pub fn wallet_dir(&self) -> PathBuf {
        match &self.wallet_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".tfchain")
                .join("wallet"),
        }
    }
}
