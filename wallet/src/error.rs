//! The wallet's errors. Each says what is wrong and what to do about it (ARCHITECTURE.md §4).

use std::path::PathBuf;
use tfchain_types::{AddressError, AmountError, Currency, Height, OutputId};

/// Spendable, immature and otherwise unusable coins, for an insufficient-funds message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FundsSummary {
    /// Coins that can be spent now.
    pub spendable: Currency,
    /// Payouts that are not mature yet, and the height the last of them matures at.
    pub immature: Currency,
    pub immature_until: Option<Height>,
    /// Coins behind a time lock that has not passed.
    pub locked: Currency,
    /// Coins already being spent by transactions in the node's pool.
    pub pending: Currency,
}

impl std::fmt::Display for FundsSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "have {} spendable", self.spendable)?;
        if !self.immature.is_zero() {
            write!(f, " ({} more immature", self.immature)?;
            if let Some(h) = self.immature_until {
                write!(f, " until height {h}")?;
            }
            write!(f, ")")?;
        }
        if !self.locked.is_zero() {
            write!(f, ", {} time-locked", self.locked)?;
        }
        if !self.pending.is_zero() {
            write!(
                f,
                ", {} in unconfirmed transactions (wait for the next block)",
                self.pending
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("cannot reach the node at {url}: {reason} (is tfchaind running? point to it with --rpc URL)")]
    NodeUnreachable { url: String, reason: String },
    #[error("the node at {url} answered with an error: {message}")]
    NodeRefused {
        url: String,
        code: i32,
        message: String,
        /// The `reason` in the error's data, when the node gives one (transaction errors).
        reason: Option<String>,
        /// The stable name of the rule a `TX_INVALID` transaction broke (`capacity_exceeded`).
        rule: Option<String>,
        /// The values behind the refusal (`data.detail`, see `tfchain_api::rule_detail`).
        detail: Option<Box<serde_json::Value>>,
    },
    #[error("unexpected answer from the node at {url}: {reason}")]
    NodeProtocol { url: String, reason: String },
    #[error("invalid node URL {url:?}: {reason} (expected e.g. http://127.0.0.1:23110)")]
    BadUrl { url: String, reason: String },

    #[error("no wallet in {dir}: create one with `tfchainc wallet init` or restore one with `tfchainc wallet recover` (or pick another --wallet-dir)")]
    NoWallet { dir: PathBuf },
    #[error("a wallet already exists at {path}: pass --force to replace it (its coins are lost unless you have its mnemonic)")]
    WalletExists { path: PathBuf },
    #[error("wrong passphrase (or the keystore is damaged)")]
    WrongPassphrase,
    #[error("the keystore {path} is not valid: {reason}")]
    KeystoreFormat { path: PathBuf, reason: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no passphrase given and no terminal to ask on: set TFCHAIN_PASSPHRASE or pass --passphrase-file FILE")]
    NoPassphrase,
    #[error("cannot read the passphrase: {0}")]
    PassphrasePrompt(std::io::Error),
    #[error("the passphrase is empty: choose one (it encrypts the wallet file)")]
    EmptyPassphrase,
    #[error("the two passphrases differ: try again")]
    PassphraseMismatch,
    #[error("not confirmed: no wallet was written; run the command again and write the words down (pass --yes to skip the check in scripts)")]
    NotConfirmed,

    #[error("invalid mnemonic: {0} (a wallet mnemonic is 24 English BIP-39 words)")]
    Mnemonic(String),
    #[error("invalid address {input:?}: {source}")]
    BadAddress { input: String, source: AddressError },
    #[error("invalid amount {input:?}: {source}")]
    BadAmount { input: String, source: AmountError },
    #[error("invalid {what} {input:?}: {reason}")]
    BadArgument {
        what: &'static str,
        input: String,
        reason: String,
    },

    #[error("insufficient funds: need {need} (incl. {fee} fee), {funds}")]
    InsufficientFunds {
        need: Currency,
        fee: Currency,
        funds: FundsSummary,
    },
    #[error("insufficient blockstakes: need {need}, have {have} spendable")]
    InsufficientStake { need: u64, have: u64 },
    #[error("paying {amount} takes more than {max} inputs: consolidate first by sending a smaller amount to yourself")]
    TooManyInputs { amount: Currency, max: usize },
    #[error("amount too large")]
    Overflow,
    #[error("arbitrary data is {size} bytes, at most {max} are allowed")]
    DataTooLarge { size: usize, max: usize },
    #[error("the amount must be more than zero")]
    ZeroAmount,

    #[error("{address} is a multisig address: pass its condition with --multisig-min and --multisig-addresses so the output can be built")]
    MultisigConditionNeeded { address: String },
    #[error("the multisig condition ({min} of {n}) has address {computed}, not {given}: check --multisig-min and --multisig-addresses")]
    MultisigMismatch {
        min: u64,
        n: usize,
        computed: String,
        given: String,
    },
    #[error("invalid multisig: {0}")]
    MultisigShape(String),
    #[error("{address} cannot be paid to: {reason}")]
    UnpayableAddress { address: String, reason: String },
    #[error("the spend file {path} is not valid: {reason}")]
    SpendFile { path: PathBuf, reason: String },
    #[error("this wallet holds none of the keys this spend waits for ({signers}): nothing signed")]
    NotASigner { signers: String },
    #[error("input {index} has {have} valid signature(s) of the {min} needed: ask the remaining signers to run `tfchainc multisig sign` on the file")]
    NotEnoughSignatures { index: usize, have: usize, min: u64 },

    #[error("output {id} is not an unspent output of the chain: it was spent (if it was a swap that was claimed, `tfchainc swap extract` finds the secret), never existed, or is still in the pool")]
    OutputNotFound { id: OutputId },
    #[error("output {id} is not an atomic swap output")]
    NotASwap { id: OutputId },
    #[error("the swap does not match: {0}")]
    SwapMismatch(String),
    #[error("this wallet does not hold the key of the swap's {role} {address}")]
    NotSwapParty { role: &'static str, address: String },
    #[error("the secret does not match the swap's hashed secret: its SHA-256 is {got}, the swap expects {expected}")]
    WrongSecret { got: String, expected: String },
    #[error("the swap has expired at {timeout} (unix time): it can no longer be claimed; the sender can refund it")]
    SwapExpired { timeout: u64 },
    #[error("the swap can be refunded from {timeout} (unix time), in {wait} s: try again then")]
    SwapNotExpired { timeout: u64, wait: u64 },
    #[error("this wallet did not create the secret hashed as {hashed}: pass the secret (`tfchainc swap extract` finds it in the claim on the other side)")]
    SecretUnknown { hashed: String },
    #[error("no claim with a secret found in {0}")]
    NoSecretFound(String),

    #[error("no {what} {id} on this chain: check the id (`tfchainc {what} list` shows them)")]
    GridNotFound { what: &'static str, id: u64 },
    #[error("this wallet does not hold the key of {what}'s owner {owner}: run the command with the owner's wallet")]
    NotOwner { what: String, owner: String },
    #[error("node {node} has {shortfall}: reserve less, or find a node with room (`tfchainc node list --cru N` lists them)")]
    CapacityExceeded { node: u32, shortfall: String },
    #[error("node {node} is {state}: it takes no new reservations (its farmer can bring it back with `tfchainc node update {node} --up`)")]
    NodeNotUp { node: u32, state: String },
    #[error("the node's price changed since the quote ({reason}): run the command again for a new quote")]
    RateChanged { reason: String },
    #[error("{blocks} blocks is below the network's minimum reservation of {min} blocks: pass --blocks {min} or more")]
    TooFewBlocks { blocks: u64, min: u64 },
    #[error("reservation {id} has ended ({how}): it cannot be changed; make a new one with `tfchainc reserve`")]
    ReservationEnded { id: u64, how: String },
    #[error("the node refused the transaction: {reason}")]
    GridRefused { reason: String },
    #[error("transaction {txid} left the node's pool without reaching a block: a transaction in the block before took what it needed (the capacity, or the reservation it changes); check the node or reservation and send it again")]
    TxDropped { txid: String },
    #[error("not confirmed: nothing was sent (pass --yes to skip the question in scripts)")]
    Declined,
    #[error("this needs your confirmation, nothing was done: {}; run it on a terminal to answer, or pass --yes once you have checked each point", .reasons.join("; "))]
    NeedsConfirmation {
        /// What needs confirming, one sentence each (listed in the `--json` error).
        reasons: Vec<String>,
    },

    #[error("this wallet does not record which network it is for (it was made by an older tfchainc), so it signs nothing: set it with `tfchainc wallet network --network NAME --genesis-id ID` (the ID of your chain's genesis block), or `tfchainc wallet network --adopt` to take the node's after checking it with `tfchainc chain info`")]
    NetworkUnset,
    #[error("{what} is for network {their_network:?} (genesis {their_genesis}), but this wallet is for network {network:?} (genesis {genesis}): nothing signed (use a node and spend files of the wallet's network; `tfchainc wallet network` shows it)")]
    NetworkMismatch {
        /// `the node at URL`, `the spend file PATH`.
        what: String,
        their_network: String,
        their_genesis: String,
        network: String,
        genesis: String,
    },
    #[error("the spend file's {kind} input {index} ({id}) is not locked by the multisig {multisig} it names: {reason}; nothing signed (it would spend coins the file does not show)")]
    ForeignInput {
        kind: &'static str,
        index: usize,
        id: OutputId,
        multisig: String,
        reason: String,
    },

    #[error("transaction {txid} is neither in the node's pool nor on its chain")]
    TxNotFound { txid: String },
    #[error("transaction {txid} was not confirmed within {secs} s")]
    Timeout { txid: String, secs: u64 },
}

impl WalletError {
    /// A stable machine-readable name of the error (`--json` output).
    pub fn kind(&self) -> &'static str {
        match self {
            WalletError::NodeUnreachable { .. } => "node_unreachable",
            WalletError::NodeRefused { .. } => "node_refused",
            WalletError::NodeProtocol { .. } => "node_protocol",
            WalletError::BadUrl { .. } => "bad_url",
            WalletError::NoWallet { .. } => "no_wallet",
            WalletError::WalletExists { .. } => "wallet_exists",
            WalletError::WrongPassphrase => "wrong_passphrase",
            WalletError::KeystoreFormat { .. } => "keystore_format",
            WalletError::Io { .. } => "io",
            WalletError::NoPassphrase => "no_passphrase",
            WalletError::PassphrasePrompt { .. } => "passphrase_prompt",
            WalletError::EmptyPassphrase => "empty_passphrase",
            WalletError::PassphraseMismatch => "passphrase_mismatch",
            WalletError::NotConfirmed => "not_confirmed",
            WalletError::Mnemonic { .. } => "mnemonic",
            WalletError::BadAddress { .. } => "bad_address",
            WalletError::BadAmount { .. } => "bad_amount",
            WalletError::BadArgument { .. } => "bad_argument",
            WalletError::InsufficientFunds { .. } => "insufficient_funds",
            WalletError::InsufficientStake { .. } => "insufficient_stake",
            WalletError::TooManyInputs { .. } => "too_many_inputs",
            WalletError::Overflow => "overflow",
            WalletError::DataTooLarge { .. } => "data_too_large",
            WalletError::ZeroAmount => "zero_amount",
            WalletError::MultisigConditionNeeded { .. } => "multisig_condition_needed",
            WalletError::MultisigMismatch { .. } => "multisig_mismatch",
            WalletError::MultisigShape { .. } => "multisig_shape",
            WalletError::UnpayableAddress { .. } => "unpayable_address",
            WalletError::SpendFile { .. } => "spend_file",
            WalletError::NotASigner { .. } => "not_a_signer",
            WalletError::NotEnoughSignatures { .. } => "not_enough_signatures",
            WalletError::OutputNotFound { .. } => "output_not_found",
            WalletError::NotASwap { .. } => "not_a_swap",
            WalletError::SwapMismatch { .. } => "swap_mismatch",
            WalletError::NotSwapParty { .. } => "not_swap_party",
            WalletError::WrongSecret { .. } => "wrong_secret",
            WalletError::SwapExpired { .. } => "swap_expired",
            WalletError::SwapNotExpired { .. } => "swap_not_expired",
            WalletError::SecretUnknown { .. } => "secret_unknown",
            WalletError::NoSecretFound { .. } => "no_secret_found",
            WalletError::GridNotFound { .. } => "not_found",
            WalletError::NotOwner { .. } => "not_owner",
            WalletError::CapacityExceeded { .. } => "capacity_exceeded",
            WalletError::NodeNotUp { .. } => "node_not_up",
            WalletError::RateChanged { .. } => "rate_changed",
            WalletError::TooFewBlocks { .. } => "too_few_blocks",
            WalletError::ReservationEnded { .. } => "reservation_ended",
            WalletError::GridRefused { .. } => "tx_invalid",
            WalletError::Declined => "declined",
            WalletError::NeedsConfirmation { .. } => "needs_confirmation",
            WalletError::NetworkUnset => "network_unset",
            WalletError::NetworkMismatch { .. } => "network_mismatch",
            WalletError::ForeignInput { .. } => "foreign_input",
            WalletError::TxDropped { .. } => "tx_dropped",
            WalletError::TxNotFound { .. } => "tx_not_found",
            WalletError::Timeout { .. } => "timeout",
        }
    }

    /// Structured details for the `--json` error, beside `kind` and `message`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            WalletError::NeedsConfirmation { reasons } => {
                Some(serde_json::json!({ "reasons": reasons }))
            }
            WalletError::NetworkMismatch {
                their_network,
                their_genesis,
                network,
                genesis,
                ..
            } => Some(serde_json::json!({
                "wallet": {"network": network, "genesis_id": genesis},
                "other": {"network": their_network, "genesis_id": their_genesis},
            })),
            _ => None,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WalletError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn bad_arg(
        what: &'static str,
        input: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        WalletError::BadArgument {
            what,
            input: input.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = WalletError> = std::result::Result<T, E>;

/// Parses an address string, naming the rule it breaks.
pub fn parse_address(s: &str) -> Result<tfchain_types::Address> {
    s.trim().parse().map_err(|source| WalletError::BadAddress {
        input: s.to_string(),
        source,
    })
}

/// Parses a TFT amount (`1.5`, `1.5TFT`).
pub fn parse_amount(s: &str) -> Result<Currency> {
    Currency::parse_tft(s).map_err(|source| WalletError::BadAmount {
        input: s.to_string(),
        source,
    })
}
