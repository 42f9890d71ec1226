//! tfchainc, the tfchain wallet and chain command line, as a library.
//!
//! It owns the wallet side of PROTOCOL.md §3, §4 and §10: BIP-39 mnemonics and Rivine-
//! compatible key derivation, the encrypted keystore ([`keystore`]: argon2id and
//! XChaCha20-Poly1305, written atomically with mode 0600), coin selection and transaction
//! building ([`builder`]), signing ([`sign`]), multisig spend files ([`multisig`]),
//! atomic swaps ([`swap`]), and the capacity market's farms, nodes and reservations
//! ([`grid`], PROTOCOL.md §7). Keys never leave it: it builds and signs transactions locally.
//!
//! It signs only for the network its keystore records (name and genesis ID, set at
//! `wallet init`/`recover`), after checking that the node, and for a multisig spend the
//! file, agree; `multisig sign` refuses inputs the node does not show as the named
//! multisig's ([`multisig::review`]); what is unusual (grid operations or blockstakes in a
//! spend, a fee above [`builder::HIGH_FEE`]) is shown and needs confirmation
//! ([`prompt::confirm`]).
//!
//! Data enters from the user (arguments parsed by [`cli`], passphrases and mnemonics read by
//! [`prompt`]) and from a node's JSON-RPC API through the `tfchain-api` client ([`rpc`]);
//! it leaves as signed transactions submitted with `tx_submit`, as the keystore and spend
//! files it writes, and as [`output::Report`]s printed for people or, with `--json`, for
//! scripts. It never depends on the node crate.

pub mod args;
pub mod builder;
pub mod cli;
pub mod cli_grid;
mod cmd;
pub mod error;
pub mod fsutil;
pub mod grid;
pub mod keystore;
pub mod multisig;
pub mod output;
pub mod prompt;
pub mod rpc;
pub mod scan;
pub mod sign;
pub mod swap;
pub mod wallet;

pub use cmd::run;
pub use error::{Result, WalletError};
