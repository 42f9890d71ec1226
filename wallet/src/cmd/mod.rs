//! The commands: each turns parsed arguments into calls to the node and the wallet, and
//! returns a [`Report`].

mod chain;
mod deployment;
mod grid;
mod multisig;
mod pay;
mod reserve;
mod swap;
mod wallet;

use crate::builder::{SpendAt, HIGH_FEE};
use crate::cli::{Cli, Command, FeeOpts};
use crate::error::{Result, WalletError};
use crate::keystore::{Keystore, WalletNetwork};
use crate::output::{lines, Report};
use crate::prompt::PassphraseSource;
use crate::rpc::Node;
use crate::wallet::Wallet;
use tfchain_api::ChainInfo;
use tfchain_consensus::ChainParams;
use tfchain_types::{BlockId, Currency, TxId};

/// Runs the command `cli` names.
pub async fn run(cli: &Cli) -> Result<Report> {
    let ctx = Ctx { cli };
    match &cli.command {
        Command::Wallet(c) => wallet::run(&ctx, c).await,
        Command::Multisig(c) => multisig::run(&ctx, c).await,
        Command::Swap(c) => swap::run(&ctx, c).await,
        Command::Chain(c) => chain::chain(&ctx, c).await,
        Command::Explore(c) => chain::explore(&ctx, c).await,
        Command::Key(c) => chain::key(c),
        Command::Farm(c) => grid::farm(&ctx, c).await,
        Command::Node(c) => grid::node(&ctx, c).await,
        Command::Reserve(a) => reserve::reserve(&ctx, a).await,
        Command::Reservation(c) => reserve::reservation(&ctx, c).await,
        Command::Deployment(c) => deployment::run(c),
    }
}

/// The global options, and what they open.
pub(crate) struct Ctx<'a> {
    pub cli: &'a Cli,
}

impl Ctx<'_> {
    pub fn node(&self) -> Result<Node> {
        Node::new(&self.cli.rpc)
    }

    pub fn passphrase(&self) -> PassphraseSource {
        PassphraseSource {
            file: self.cli.passphrase_file.clone(),
        }
    }

    /// Opens the wallet: the directory must hold a keystore before a passphrase is asked.
    pub fn open_wallet(&self) -> Result<Wallet> {
        let dir = self.cli.wallet_dir();
        if !crate::keystore::keystore_path(&dir).exists() {
            return Err(WalletError::NoWallet { dir });
        }
        let pass = self.passphrase().get()?;
        Wallet::new(Keystore::open(&dir, pass.as_bytes())?)
    }

    /// The node, its parameters and its tip.
    pub async fn chain(&self) -> Result<ChainCtx> {
        let node = self.node()?;
        let info = node.info().await?;
        let params = node.params().await?;
        if params.genesis_id != info.genesis_id {
            return Err(WalletError::NodeProtocol {
                url: node.url().to_string(),
                reason: "chain_getInfo and consensus_getParams disagree on the genesis ID".into(),
            });
        }
        Ok(ChainCtx {
            node,
            params,
            info,
            json: self.cli.json,
            high_fee_confirmed: std::cell::Cell::new(false),
        })
    }
}

/// Errors unless `their` (a node's or a spend file's network, named by `what`) is the
/// wallet's network `ours`. The genesis ID decides; the names are for the message.
pub(crate) fn check_network(
    ours: &WalletNetwork,
    what: String,
    their_name: &str,
    their_genesis: &BlockId,
) -> Result<()> {
    if *their_genesis == ours.genesis_id {
        return Ok(());
    }
    Err(WalletError::NetworkMismatch {
        what,
        their_network: their_name.to_string(),
        their_genesis: their_genesis.to_string(),
        network: ours.name.clone(),
        genesis: ours.genesis_id.to_string(),
    })
}

/// A node with the parameters and tip a transaction is built against.
pub(crate) struct ChainCtx {
    pub node: Node,
    pub params: ChainParams,
    pub info: ChainInfo,
    /// `--json`: a question that needs a person is an error instead.
    pub json: bool,
    /// A minimum fee above [`HIGH_FEE`] was confirmed once: not asked again.
    high_fee_confirmed: std::cell::Cell<bool>,
}

impl ChainCtx {
    pub fn at(&self) -> SpendAt {
        SpendAt::next(
            self.info.height,
            self.info.tip_timestamp,
            crate::args::now(),
        )
    }

    /// The genesis ID to sign with: the wallet's own, once the node is found to run the
    /// same network (`NetworkUnset` for a wallet that does not record one).
    pub fn signing_genesis(&self, w: &Wallet) -> Result<BlockId> {
        let ours = w.network()?;
        check_network(
            ours,
            format!("the node at {}", self.node.url()),
            &self.params.network,
            &self.params.genesis_id,
        )?;
        Ok(ours.genesis_id)
    }

    /// `--fee`, or the network's minimum fee; never below the minimum. A minimum fee above
    /// [`HIGH_FEE`] is the node's word alone, so it is used only once confirmed.
    pub fn fee(&self, opts: &FeeOpts) -> Result<Currency> {
        match &opts.fee {
            None => {
                let fee = self.params.min_fee;
                if fee > HIGH_FEE && !self.high_fee_confirmed.get() {
                    let summary = lines(&[
                        ("node", self.node.url().to_string()),
                        ("network", self.params.network.clone()),
                        ("minimum fee", fee.to_string()),
                    ]);
                    let reason = format!(
                        "the node at {} reports a minimum fee of {fee}, above {HIGH_FEE}: the transaction would pay it (and change below it)",
                        self.node.url()
                    );
                    crate::prompt::confirm(&summary, &[reason], opts.yes, self.json)?;
                    self.high_fee_confirmed.set(true);
                }
                Ok(fee)
            }
            Some(s) => {
                let fee = crate::error::parse_amount(s)?;
                if fee < self.params.min_fee {
                    return Err(WalletError::bad_arg(
                        "--fee",
                        s,
                        format!(
                            "the network's minimum fee is {} (PROTOCOL.md §4.3)",
                            self.params.min_fee
                        ),
                    ));
                }
                Ok(fee)
            }
        }
    }

    /// Change below this is added to the fee instead of making an output.
    pub fn dust(&self) -> Currency {
        self.params.min_fee
    }
}

/// Parses a TxId argument.
pub(crate) fn parse_txid(s: &str) -> Result<TxId> {
    s.trim()
        .parse()
        .map_err(|_| WalletError::bad_arg("transaction ID", s, "expected 64 hex characters"))
}

/// Parses an output ID argument.
pub(crate) fn parse_output_id(s: &str) -> Result<tfchain_types::OutputId> {
    s.trim()
        .parse()
        .map_err(|_| WalletError::bad_arg("output ID", s, "expected 64 hex characters"))
}
