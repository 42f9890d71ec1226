//! Application error codes of the tfchain JSON-RPC API and the constructors that build them.
//!
//! Every error a method returns is a JSON-RPC error object `{code, message, data?}`. The
//! `message` is written for a person: it says what was wrong and what to do. `data`, when
//! present, is a JSON object for programs (its fields are listed per code below).
//!
//! | code | name | meaning | `data` |
//! |---|---|---|---|
//! | 1001 | `NOT_FOUND` | the block, transaction, farm, node or reservation named in the request is not on the current chain (or in the pool) | `{kind, key}` |
//! | 1002 | `TX_DECODE` | a submitted transaction is not hex, or its bytes do not decode (PROTOCOL.md §2) | `{reason}` |
//! | 1003 | `TX_INVALID` | a submitted transaction breaks a consensus rule (PROTOCOL.md §4.3, §7.3) | `{reason, sender_fault, rule, detail?}` |
//! | 1004 | `TX_REJECTED_BY_POOL` | the transaction is valid but the pool's policy refuses it (pool full, fee rate too low, too many unconfirmed ancestors, replacement rules) | `{reason}` |
//! | 1005 | `ADMIN_DISABLED` | an `admin_*` method was called on a node started without `--rpc-admin` | none |
//! | 1006 | `UNAVAILABLE` | the node cannot answer yet (still syncing, shutting down, index still being built); retry later | `{reason}`; while the explorer index catches up also `{index_height, tip_height}` |
//! | 1007 | `INDEX_DISABLED` | the node keeps no explorer indexes (started with `--explorer-index false`): confirmed transactions by ID and the `address_*` methods need a node that keeps them | none |
//! | 1008 | `WEBSOCKET_REQUIRED` | a subscription method (`*_subscribe*`, `*_unsubscribe*`) was called over plain HTTP: subscriptions need a WebSocket connection to the same address (`ws://…`) | `{method}` |
//! | 1009 | `TOO_MANY_OUTPUTS` | the address has more unspent outputs than the node reads for one call (`max_address_outputs`, default 10000) | `{limit}` |
//! | 1010 | `ADMIN_UNAUTHORIZED` | an `admin_*` method was called without the node's admin token (`Authorization: Bearer <token>`, set with `--rpc-admin-token`) | none |
//! | -32602 | `INVALID_PARAMS` | a parameter is malformed (standard JSON-RPC code); the message names the parameter | `{reason}` when built here |
//! | -32603 | `INTERNAL` | the node failed (e.g. a storage error); the node's log has details | none |
//!
//! `sender_fault` is `true` when the transaction can never become valid (bad signature,
//! imbalance, fee below minimum, …) and `false` when the node's view of the chain or time
//! can change the verdict (an input it has not seen yet, a maturity or time lock not yet
//! passed, grid state that may change). `rule` names the rule that failed for programs, in
//! snake_case, and is never renamed: a grid operation's rule (`unknown_node`,
//! `zero_resources`, `deposit_too_small`, `rate_above_max`, `capacity_exceeded`, … — the
//! `GridError` variants of PROTOCOL.md §7.3), `grid_auth` when an op's owner fulfilment
//! fails, otherwise the transaction rule (`fee_below_minimum`, `coin_imbalance`, …).
//! `detail`, for grid rules that carry values, holds them as JSON ([`crate::rule_detail`]):
//! e.g. `capacity_exceeded` → `{node, free, requested}`.
//!
//! The same table is [`ERROR_CODES`], from which the README's table is generated and checked.
//! Parameters that fail to deserialize (for example a `BlockRef` of `"abc"`) are rejected by
//! the server framework itself with `-32602`, message `Invalid params`, and the decoder's
//! explanation in `data` (a string).

use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;
use std::fmt::Display;
use tfchain_consensus::TxError;
use tfchain_types::{CodecError, Height, TxId};

use crate::BlockRef;

/// The block or transaction named in the request does not exist where the method looks.
pub const NOT_FOUND: i32 = 1001;
/// A submitted transaction is not hex or does not decode.
pub const TX_DECODE: i32 = 1002;
/// A submitted transaction breaks a consensus rule.
pub const TX_INVALID: i32 = 1003;
/// A valid transaction refused by the pool's policy.
pub const TX_REJECTED_BY_POOL: i32 = 1004;
/// An admin method was called but admin methods are disabled.
pub const ADMIN_DISABLED: i32 = 1005;
/// The node cannot answer yet: retry later.
pub const UNAVAILABLE: i32 = 1006;
/// The node keeps no explorer indexes: ask one that does.
pub const INDEX_DISABLED: i32 = 1007;
/// A subscription method was called over HTTP: it needs a WebSocket.
pub const WEBSOCKET_REQUIRED: i32 = 1008;
/// The address has more unspent outputs than one call reads.
pub const TOO_MANY_OUTPUTS: i32 = 1009;
/// An admin method was called without the admin token.
pub const ADMIN_UNAUTHORIZED: i32 = 1010;
/// A malformed parameter (the standard JSON-RPC code).
pub const INVALID_PARAMS: i32 = -32602;
/// The node failed (the standard JSON-RPC code).
pub const INTERNAL: i32 = -32603;

/// `(code, name, meaning)` of every error this API returns: the table of the module docs.
pub const ERROR_CODES: &[(i32, &str, &str)] = &[
    (
        NOT_FOUND,
        "NOT_FOUND",
        "the block, transaction, farm, node or reservation named in the request is not on the current chain (or in the pool)",
    ),
    (
        TX_DECODE,
        "TX_DECODE",
        "a submitted transaction is not hex, or its bytes do not decode (PROTOCOL.md §2)",
    ),
    (
        TX_INVALID,
        "TX_INVALID",
        "a submitted transaction breaks a consensus rule (PROTOCOL.md §4.3, §7.3)",
    ),
    (
        TX_REJECTED_BY_POOL,
        "TX_REJECTED_BY_POOL",
        "the transaction is valid but the pool's policy refuses it (pool full, fee rate too low, too many unconfirmed ancestors, replacement rules)",
    ),
    (
        ADMIN_DISABLED,
        "ADMIN_DISABLED",
        "an admin_* method was called on a node started without --rpc-admin",
    ),
    (
        UNAVAILABLE,
        "UNAVAILABLE",
        "the node cannot answer yet (still syncing, shutting down, index still being built); retry later",
    ),
    (
        INDEX_DISABLED,
        "INDEX_DISABLED",
        "the node keeps no explorer indexes (started with `--explorer-index false`): confirmed transactions by ID and the `address_*` methods need a node that keeps them",
    ),
    (
        WEBSOCKET_REQUIRED,
        "WEBSOCKET_REQUIRED",
        "a subscription method (`*_subscribe*`, `*_unsubscribe*`) was called over plain HTTP: subscriptions need a WebSocket connection to the same address (`ws://…`)",
    ),
    (
        TOO_MANY_OUTPUTS,
        "TOO_MANY_OUTPUTS",
        "the address has more unspent outputs than the node reads for one call (`max_address_outputs`, default 10000)",
    ),
    (
        ADMIN_UNAUTHORIZED,
        "ADMIN_UNAUTHORIZED",
        "an `admin_*` method was called without the node's admin token (`Authorization: Bearer <token>`, set with `--rpc-admin-token`)",
    ),
    (
        INVALID_PARAMS,
        "INVALID_PARAMS",
        "a parameter is malformed (standard JSON-RPC code); the message names the parameter",
    ),
    (
        INTERNAL,
        "INTERNAL",
        "the node failed (e.g. a storage error); the node's log has details",
    ),
];

/// The `data` of a [`NOT_FOUND`] error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NotFoundData {
    /// What was looked up: `"block"`, `"transaction"`, `"farm"`, `"node"` or
    /// `"reservation"`.
    pub kind: String,
    /// The key as given: a height, a block ID, a TxId or a grid id.
    pub key: String,
}

/// The `data` of [`TX_DECODE`], [`TX_REJECTED_BY_POOL`] and [`UNAVAILABLE`] errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReasonData {
    pub reason: String,
}

/// The `data` of a [`TX_INVALID`] error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TxInvalidData {
    /// The consensus rule that failed, in words.
    pub reason: String,
    /// Whether the transaction can never become valid (see the module docs).
    pub sender_fault: bool,
    /// The rule that failed, as a stable snake_case name (see the module docs and
    /// [`tx_rule`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The values behind a refused grid operation, with stable field names (the table in
    /// [`crate::rule_detail`]); absent for rules without values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

fn reason(r: impl Display) -> Option<ReasonData> {
    Some(ReasonData {
        reason: r.to_string(),
    })
}

/// [`NOT_FOUND`] for a block: `block at height 500 not found: the chain tip is at height 321`.
pub fn block_not_found(block: &BlockRef, tip_height: Height) -> ErrorObjectOwned {
    let (message, key) = match block {
        BlockRef::Height(h) => (
            format!("block at height {h} not found: the chain tip is at height {tip_height}"),
            h.to_string(),
        ),
        BlockRef::Id(id) => (
            format!("block {id} not found on the current chain (tip at height {tip_height}): check the ID, or the block may have been reorganised away"),
            id.to_string(),
        ),
    };
    ErrorObjectOwned::owned(
        NOT_FOUND,
        message,
        Some(NotFoundData {
            kind: "block".into(),
            key,
        }),
    )
}

/// [`NOT_FOUND`] for a transaction that is neither in the pool nor in the current chain.
pub fn tx_not_found(txid: &TxId) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        NOT_FOUND,
        format!("transaction {txid} not found in the pool or on the current chain: pool transactions expire and a reorganisation can drop one, so resubmit it if it should exist"),
        Some(NotFoundData {
            kind: "transaction".into(),
            key: txid.to_string(),
        }),
    )
}

/// [`TX_DECODE`]: the submitted string is not hex (or has an odd length).
pub fn tx_bad_hex(detail: impl Display) -> ErrorObjectOwned {
    let r = format!("the transaction is not valid hex: {detail}");
    ErrorObjectOwned::owned(
        TX_DECODE,
        format!("{r}: submit the consensus encoding (PROTOCOL.md §2) as lower-case hex, as `tfchainc` prints it"),
        reason(r),
    )
}

/// [`TX_DECODE`]: the bytes are not a transaction in the consensus encoding.
pub fn tx_decode(err: &CodecError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        TX_DECODE,
        format!("the transaction bytes do not decode: {err} (PROTOCOL.md §2, §8)"),
        reason(err),
    )
}

/// [`TX_INVALID`]: the transaction breaks a consensus rule against the tip plus the pool.
pub fn tx_invalid(err: &TxError) -> ErrorObjectOwned {
    let sender_fault = err.is_sender_fault();
    let hint = if sender_fault {
        "fix the transaction and sign it again"
    } else if matches!(err, TxError::Grid { .. }) {
        "the capacity market may change (a node or reservation appear, capacity free up, a price move): check it with the grid_* methods, then build, sign and submit again"
    } else {
        "it may become valid later (an input not yet seen here, or a maturity or time lock not yet passed): resubmit then"
    };
    ErrorObjectOwned::owned(
        TX_INVALID,
        format!("invalid transaction: {err}: {hint}"),
        Some(TxInvalidData {
            reason: err.to_string(),
            sender_fault,
            rule: Some(tx_rule(err).to_string()),
            detail: crate::rule_detail::tx_detail(err),
        }),
    )
}

/// The stable name of the rule `err` broke: for a grid operation's own rules
/// (`TxError::Grid`, `TxError::GridShape`) the `GridError`'s (`"unknown_node"`,
/// `"deposit_too_small"`, …), otherwise the `TxError` variant's in snake_case
/// (`"grid_auth"`, `"fee_below_minimum"`, …).
pub fn tx_rule(err: &TxError) -> &'static str {
    match err {
        TxError::Grid { source, .. } | TxError::GridShape { source, .. } => source.rule(),
        TxError::GridAuth { .. } => "grid_auth",
        TxError::GridOwnerCondition { .. } => "grid_owner_condition",
        TxError::BadNodeSignature { .. } => "bad_node_signature",
        TxError::TooManyGridOps { .. } => "too_many_grid_ops",
        TxError::UnsupportedVersion(_) => "unsupported_version",
        TxError::TooLarge { .. } => "too_large",
        TxError::TooManyInputs { .. } => "too_many_inputs",
        TxError::TooManyOutputs { .. } => "too_many_outputs",
        TxError::ArbitraryDataTooLarge { .. } => "arbitrary_data_too_large",
        TxError::DuplicateInput { .. } => "duplicate_input",
        TxError::MissingInput { .. } => "missing_input",
        TxError::WrongInputKind { .. } => "wrong_input_kind",
        TxError::ImmatureInput { .. } => "immature_input",
        TxError::Fulfillment { .. } => "fulfillment",
        TxError::ZeroValueOutput { .. } => "zero_value_output",
        TxError::OutputCondition { .. } => "output_condition",
        TxError::CoinImbalance { .. } => "coin_imbalance",
        TxError::StakeImbalance { .. } => "stake_imbalance",
        TxError::FeeBelowMinimum { .. } => "fee_below_minimum",
        TxError::Overflow => "overflow",
    }
}

/// [`NOT_FOUND`] for a grid record or other named thing: `kind` is what was looked up
/// (`"farm"`, `"node"`, `"reservation"`), `key` its id as given, `hint` what to do.
pub fn not_found(kind: &str, key: impl Display, hint: &str) -> ErrorObjectOwned {
    let key = key.to_string();
    ErrorObjectOwned::owned(
        NOT_FOUND,
        format!("{kind} {key} not found on the current chain: {hint}"),
        Some(NotFoundData {
            kind: kind.into(),
            key,
        }),
    )
}

/// [`TX_REJECTED_BY_POOL`]: the pool's policy refuses the transaction. `why` should say what
/// to do (the pool's own errors do: "raise the fee to at least …").
pub fn tx_rejected_by_pool(why: impl Display) -> ErrorObjectOwned {
    let why = why.to_string();
    ErrorObjectOwned::owned(
        TX_REJECTED_BY_POOL,
        format!("transaction refused by this node's pool: {why}"),
        reason(why),
    )
}

/// [`ADMIN_DISABLED`]: an `admin_*` method on a node started without `--rpc-admin`.
pub fn admin_disabled() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        ADMIN_DISABLED,
        "admin methods are disabled: start tfchaind with --rpc-admin (and keep the RPC address private)",
        None::<()>,
    )
}

/// [`UNAVAILABLE`]: the node cannot answer now, e.g. `"still syncing: at height 120 of about 5400"`.
pub fn unavailable(why: impl Display) -> ErrorObjectOwned {
    let why = why.to_string();
    ErrorObjectOwned::owned(
        UNAVAILABLE,
        format!("the node cannot answer yet: {why}; retry later"),
        reason(why),
    )
}

/// [`UNAVAILABLE`] while the node is still catching up with its peers.
pub fn not_synced(height: Height, best_known: Height) -> ErrorObjectOwned {
    unavailable(format!(
        "still syncing, at height {height} of about {best_known}"
    ))
}

/// The `data` of an [`UNAVAILABLE`] error while the explorer index catches up: the reason,
/// and the heights of the index (`None`: not even the genesis block yet) and of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IndexBehindData {
    pub reason: String,
    pub index_height: Option<Height>,
    pub tip_height: Height,
}

/// [`UNAVAILABLE`] while the explorer index is behind the chain (being built, or catching
/// up after a start or a reorganisation).
pub fn index_behind(index_height: Option<Height>, tip_height: Height) -> ErrorObjectOwned {
    let at = index_height.map_or_else(|| "none".to_string(), |h| h.to_string());
    let reason = format!("the explorer index is still catching up: at height {at} of {tip_height}");
    ErrorObjectOwned::owned(
        UNAVAILABLE,
        format!("the node cannot answer yet: {reason}; retry later"),
        Some(IndexBehindData {
            reason,
            index_height,
            tip_height,
        }),
    )
}

/// [`INDEX_DISABLED`]: the method reads an explorer index this node does not keep.
pub fn index_disabled() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        INDEX_DISABLED,
        "this node keeps no explorer indexes (it runs with --explorer-index false): ask a node \
         that keeps them for confirmed transactions by ID, address balances, outputs and history",
        None::<()>,
    )
}

/// The `data` of a [`WEBSOCKET_REQUIRED`] error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MethodData {
    pub method: String,
}

/// The `data` of a [`TOO_MANY_OUTPUTS`] error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LimitData {
    pub limit: u64,
}

/// [`WEBSOCKET_REQUIRED`]: `method` is a subscription method and the call came over HTTP.
pub fn websocket_required(method: &str) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        WEBSOCKET_REQUIRED,
        format!("{method} is a subscription method: it needs a WebSocket connection (ws://, same address and port), not plain HTTP"),
        Some(MethodData {
            method: method.to_string(),
        }),
    )
}

/// [`TOO_MANY_OUTPUTS`]: the address holds more than `limit` unspent outputs.
pub fn too_many_outputs(limit: u64) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        TOO_MANY_OUTPUTS,
        format!("the address has more than {limit} unspent outputs, more than this node reads for one call: consolidate them, or ask a node with a higher max_address_outputs"),
        Some(LimitData { limit }),
    )
}

/// [`ADMIN_UNAUTHORIZED`]: an admin method without the right `Authorization: Bearer` token.
pub fn admin_unauthorized() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        ADMIN_UNAUTHORIZED,
        "admin methods on this node need its admin token: send `Authorization: Bearer <token>` (the value of --rpc-admin-token)",
        None::<()>,
    )
}

/// [`INVALID_PARAMS`] for a parameter that deserialized but makes no sense, e.g.
/// `invalid_params("limit", "must be between 1 and 1000")`.
pub fn invalid_params(param: &str, problem: impl Display) -> ErrorObjectOwned {
    let r = format!("parameter `{param}` {problem}");
    ErrorObjectOwned::owned(INVALID_PARAMS, format!("invalid params: {r}"), reason(r))
}

/// [`INTERNAL`]: the node failed. Log the details; `what` is a short summary for the caller.
pub fn internal(what: impl Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        INTERNAL,
        format!("internal error: {what}; the node's log has details"),
        None::<()>,
    )
}

/// The error code of a failed call made through a generated client, if the server answered
/// with an error object (`None` for transport errors and the like).
#[cfg(feature = "client")]
pub fn client_error_code(err: &jsonrpsee::core::ClientError) -> Option<i32> {
    match err {
        jsonrpsee::core::ClientError::Call(obj) => Some(obj.code()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use tfchain_consensus::{ConditionError, Side};
    use tfchain_types::{BlockId, Currency, Hash, OutputId};

    fn data(e: &ErrorObjectOwned) -> Value {
        e.data()
            .map(|d| serde_json::from_str(d.get()).unwrap_or(Value::Null))
            .unwrap_or(Value::Null)
    }

    #[test]
    fn error_code_table_is_complete_and_unique() {
        let mut codes: Vec<i32> = ERROR_CODES.iter().map(|c| c.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len(), "duplicate code");
        for (code, name, meaning) in ERROR_CODES {
            assert!(!meaning.is_empty());
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            assert!(
                (1000..2000).contains(code) || (-32768..=-32000).contains(code),
                "{code} is neither an application code nor a reserved JSON-RPC code"
            );
        }
        // The module doc's table lists every code.
        let doc = include_str!("error.rs");
        for (code, name, _) in ERROR_CODES {
            assert!(
                doc.contains(&format!("//! | {code} | `{name}` |")),
                "{name} missing from the module docs"
            );
        }
    }

    #[test]
    fn constructors_use_documented_codes() {
        let tip = 321;
        let e = block_not_found(&BlockRef::Height(500), tip);
        assert_eq!(e.code(), NOT_FOUND);
        assert_eq!(
            e.message(),
            "block at height 500 not found: the chain tip is at height 321"
        );
        assert_eq!(data(&e), json!({"kind": "block", "key": "500"}));
        let id = BlockId(Hash([1; 32]));
        let e = block_not_found(&BlockRef::Id(id), tip);
        assert!(e.message().contains(&id.to_string()));
        assert_eq!(tx_not_found(&TxId::ZERO).code(), NOT_FOUND);

        let e = tx_bad_hex("odd number of digits");
        assert_eq!(e.code(), TX_DECODE);
        assert!(e.message().contains("odd number of digits"));
        let e = tx_decode(&CodecError::TrailingBytes { extra: 3 });
        assert_eq!(e.code(), TX_DECODE);
        assert_eq!(
            data(&e),
            json!({"reason": "3 trailing bytes after the encoded object"})
        );

        let e = tx_invalid(&TxError::FeeBelowMinimum {
            fee: Currency(1),
            min: Currency(10_000_000),
        });
        assert_eq!(e.code(), TX_INVALID);
        assert!(e.message().contains("below the minimum"), "{}", e.message());
        assert_eq!(data(&e)["sender_fault"], json!(true));
        let e = tx_invalid(&TxError::MissingInput {
            side: Side::Coin,
            index: 0,
            parent: OutputId::ZERO,
        });
        assert_eq!(data(&e)["sender_fault"], json!(false));
        let e = tx_invalid(&TxError::Fulfillment {
            side: Side::Coin,
            index: 0,
            source: ConditionError::BadSignature,
        });
        assert_eq!(data(&e)["sender_fault"], json!(true));

        let e = tx_invalid(&TxError::Grid {
            index: 0,
            op: "reserve",
            source: tfchain_contracts::GridError::DepositTooSmall {
                deposit: Currency(1),
                min: Currency(10),
            },
        });
        assert_eq!(data(&e)["rule"], json!("deposit_too_small"));
        assert_eq!(data(&e)["sender_fault"], json!(false));
        let e = tx_invalid(&TxError::GridAuth {
            index: 1,
            op: "cancel",
            source: ConditionError::KeyMismatch,
        });
        assert_eq!(data(&e)["rule"], json!("grid_auth"));
        let e = tx_invalid(&TxError::FeeBelowMinimum {
            fee: Currency(1),
            min: Currency(2),
        });
        assert_eq!(data(&e)["rule"], json!("fee_below_minimum"));

        let e = not_found("node", 7, "list nodes with grid_listNodes");
        assert_eq!(e.code(), NOT_FOUND);
        assert_eq!(
            e.message(),
            "node 7 not found on the current chain: list nodes with grid_listNodes"
        );
        assert_eq!(data(&e), json!({"kind": "node", "key": "7"}));

        let e = tx_rejected_by_pool("the pool is full");
        assert_eq!(e.code(), TX_REJECTED_BY_POOL);
        assert_eq!(data(&e), json!({"reason": "the pool is full"}));

        let e = admin_disabled();
        assert_eq!(e.code(), ADMIN_DISABLED);
        assert!(e
            .message()
            .starts_with("admin methods are disabled: start tfchaind with --rpc-admin"));
        assert!(e.data().is_none());

        let e = not_synced(120, 5400);
        assert_eq!(e.code(), UNAVAILABLE);
        assert!(e.message().contains("at height 120 of about 5400"));
        assert_eq!(unavailable("shutting down").code(), UNAVAILABLE);

        let e = index_behind(Some(40), 57);
        assert_eq!(e.code(), UNAVAILABLE);
        assert!(
            e.message().contains("at height 40 of 57"),
            "{}",
            e.message()
        );
        assert_eq!(
            data(&e),
            json!({
                "reason": "the explorer index is still catching up: at height 40 of 57",
                "index_height": 40,
                "tip_height": 57
            })
        );
        assert_eq!(data(&index_behind(None, 3))["index_height"], json!(null));

        let e = invalid_params("limit", "must be between 1 and 1000");
        assert_eq!(e.code(), INVALID_PARAMS);
        assert_eq!(
            e.message(),
            "invalid params: parameter `limit` must be between 1 and 1000"
        );
        assert_eq!(internal("store read failed").code(), INTERNAL);
    }

    #[test]
    fn codes_match_the_table() {
        let named = |name: &str| {
            ERROR_CODES
                .iter()
                .find(|c| c.1 == name)
                .map(|c| c.0)
                .unwrap_or(0)
        };
        assert_eq!(named("NOT_FOUND"), 1001);
        assert_eq!(named("TX_DECODE"), 1002);
        assert_eq!(named("TX_INVALID"), 1003);
        assert_eq!(named("TX_REJECTED_BY_POOL"), 1004);
        assert_eq!(named("ADMIN_DISABLED"), 1005);
        assert_eq!(named("UNAVAILABLE"), 1006);
        assert_eq!(named("WEBSOCKET_REQUIRED"), 1008);
        assert_eq!(named("TOO_MANY_OUTPUTS"), 1009);
        assert_eq!(named("ADMIN_UNAUTHORIZED"), 1010);
        assert_eq!(
            websocket_required("chain_subscribeNewHeads").code(),
            WEBSOCKET_REQUIRED
        );
        assert_eq!(too_many_outputs(5).code(), TOO_MANY_OUTPUTS);
        assert_eq!(admin_unauthorized().code(), ADMIN_UNAUTHORIZED);
        assert_eq!(named("INVALID_PARAMS"), -32602);
        assert_eq!(
            named("INVALID_PARAMS"),
            jsonrpsee::types::error::INVALID_PARAMS_CODE
        );
        assert_eq!(
            named("INTERNAL"),
            jsonrpsee::types::error::INTERNAL_ERROR_CODE
        );
    }
}
