//! The `rpc_params` target: JSON-RPC parameters as the node's server reads them.
//!
//! Input: `<method>\n<params>`: a method name of `tfchain_api::METHODS` and the request's
//! raw `params` value (a JSON array or object). The parameters are decoded the way the
//! server code that jsonrpsee's `rpc` macro generates does it (`Params::sequence` with
//! `next`/`optional_next` for an array; fields by name, snake_case or lowerCamelCase, for
//! an object), into the types the method traits in `api/src/rpc.rs` take, then passed
//! through the shared parameter rules of `tfchain_api::params` (transaction hex, history
//! cursors, page limits).
//!
//! Invariants: nothing panics; every decoded parameter's JSON form reads back as the same
//! value; a `tx_submit` transaction re-encodes to exactly the submitted bytes; a history
//! cursor's string form parses back to it; a page limit is within 1..=MAX_PAGE_LIMIT.

use crate::json_round_trip;
use jsonrpsee::types::Params;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Debug;
use tfchain_api::params::{decode_tx_hex, page_limit, HistoryCursor, MAX_PAGE_LIMIT};
use tfchain_api::{BlockRef, EventCursor, EventFilter};
use tfchain_types::{Address, FarmId, Height, NodeId, OutputId, ReservationId, Resources, TxId};

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| map.get(&camel(name)))
}

/// A required parameter by name: `None` when it is missing or does not decode.
fn req<T: DeserializeOwned>(map: &Map<String, Value>, name: &str) -> Option<T> {
    T::deserialize(field(map, name)?).ok()
}

/// An optional parameter by name: `Some(None)` when it is missing or null.
fn opt<T: DeserializeOwned>(map: &Map<String, Value>, name: &str) -> Option<Option<T>> {
    match field(map, name) {
        None | Some(Value::Null) => Some(None),
        Some(v) => T::deserialize(v).ok().map(Some),
    }
}

/// Decodes the parameters `name: kind Type` (kind `req` or `opt`; an `opt` parameter is an
/// `Option<Type>`) from `raw`, or returns from the caller when they do not decode.
macro_rules! decode {
    ($raw:expr; $($name:ident : $kind:ident $ty:ty),+ $(,)?) => {
        let params = Params::new(Some($raw));
        $(let $name;)+
        if params.is_object() {
            let Ok(map) = params.parse::<Map<String, Value>>() else { return };
            $($name = match decode!(@map $kind $ty, &map, stringify!($name)) {
                Some(v) => v,
                None => return,
            };)+
        } else {
            let mut seq = params.sequence();
            $($name = match decode!(@seq $kind $ty, seq) {
                Ok(v) => v,
                Err(_) => return,
            };)+
        }
        $(round_trip(&$name);)+
    };
    (@map req $ty:ty, $map:expr, $name:expr) => { req::<$ty>($map, $name) };
    (@map opt $ty:ty, $map:expr, $name:expr) => { opt::<$ty>($map, $name) };
    (@seq req $ty:ty, $seq:expr) => { $seq.next::<$ty>() };
    (@seq opt $ty:ty, $seq:expr) => { $seq.optional_next::<$ty>() };
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    json_round_trip(v);
}

fn check_limit(limit: Option<u32>) {
    if let Ok(n) = page_limit(limit) {
        assert!((1..=MAX_PAGE_LIMIT as usize).contains(&n), "page limit {n}");
    }
}

fn check_cursor(cursor: Option<&str>) {
    if let Some(Ok(c)) = cursor.map(HistoryCursor::parse) {
        assert_eq!(
            HistoryCursor::parse(&c.to_string()).ok(),
            Some(c),
            "a cursor's string form does not parse back"
        );
    }
}

fn check_tx_hex(hex_param: &str) {
    if let Ok(tx) = decode_tx_hex(hex_param) {
        let s = hex_param.trim();
        let s = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(s).expect("decode_tx_hex accepted it as hex");
        assert_eq!(
            tfchain_types::encode(&tx),
            bytes,
            "tx_submit accepted a non-canonical encoding"
        );
        json_round_trip(&tx);
    }
}

/// The `rpc_params` target (see the module documentation).
pub fn rpc_params(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (method, raw) = text.split_once('\n').unwrap_or((text, "[]"));
    match method {
        "chain_getBlock" | "chain_getHeader" => {
            decode!(raw; block: req BlockRef);
        }
        "tx_submit" => {
            decode!(raw; hex: req String);
            check_tx_hex(&hex);
        }
        "tx_get" => {
            decode!(raw; txid: req TxId);
        }
        "address_getBalance" | "address_getOutputs" => {
            decode!(raw; address: req Address);
        }
        "address_getHistory" => {
            decode!(raw; address: req Address, cursor: opt String, limit: opt u32);
            check_cursor(cursor.as_deref());
            check_limit(limit);
        }
        "output_get" => {
            decode!(raw; id: req OutputId);
        }
        "pool_getTransactions" => {
            decode!(raw; limit: opt u32);
            check_limit(limit);
        }
        "admin_addPeer" => {
            decode!(raw; address: req String);
        }
        "admin_removePeer" => {
            decode!(raw; peer: req String, ban_seconds: opt u64);
        }
        "grid_getFarm" => {
            decode!(raw; farm: req FarmId);
        }
        "grid_listFarms" => {
            decode!(raw; after: opt FarmId, limit: opt u32);
            check_limit(limit);
        }
        "grid_getNode" => {
            decode!(raw; node: req NodeId);
        }
        "grid_listNodes" => {
            decode!(raw; farm: opt FarmId, min_free: opt Resources, after: opt NodeId, limit: opt u32);
            check_limit(limit);
        }
        "grid_getReservation" => {
            decode!(raw; reservation: req ReservationId);
        }
        "grid_listReservations" => {
            decode!(raw; node: opt NodeId, owner: opt Address, after: opt ReservationId, limit: opt u32);
            check_limit(limit);
        }
        "grid_quote" => {
            decode!(raw; node: req NodeId, resources: req Resources, blocks: req u64);
        }
        "grid_getEvents" => {
            decode!(raw; node: opt NodeId, from_height: opt Height, limit: opt u32, after: opt EventCursor);
            check_limit(limit);
        }
        "grid_subscribeEvents" => {
            decode!(raw; filter: opt EventFilter);
        }
        _ => {}
    }
}

/// `(method, params)` samples for the seeds: every method with parameters, valid values.
pub fn samples() -> Vec<(&'static str, String)> {
    let fx = crate::chain::fixture();
    let block = &fx.valid[1];
    let tx = &block.transactions[0];
    let tx_hex = hex::encode(tfchain_types::encode(tx));
    let id = block.id();
    let addr = tfchain_consensus::testkit::address_of(&fx.user);
    let out = tfchain_types::Transaction::coin_output_id(&tx.txid(), 0);
    let res = r#"{"cru":2,"mru":4,"sru":50,"hru":0,"ipv4":1}"#;
    let cursor = format!(r#"{{"height":3,"index":0,"block":"{id}"}}"#);
    vec![
        ("chain_getBlock", "[5]".into()),
        ("chain_getBlock", format!(r#"["{id}"]"#)),
        ("chain_getHeader", format!(r#"{{"block":"{id}"}}"#)),
        ("tx_submit", format!(r#"["{tx_hex}"]"#)),
        ("tx_submit", format!(r#"{{"hex":"0x{tx_hex}"}}"#)),
        ("tx_get", format!(r#"["{}"]"#, tx.txid())),
        ("address_getBalance", format!(r#"["{addr}"]"#)),
        ("address_getOutputs", format!(r#"{{"address":"{addr}"}}"#)),
        ("address_getHistory", format!(r#"["{addr}","12.3",50]"#)),
        (
            "address_getHistory",
            format!(r#"{{"address":"{addr}","limit":0}}"#),
        ),
        ("output_get", format!(r#"["{out}"]"#)),
        ("pool_getTransactions", "[10]".into()),
        ("pool_getTransactions", "[]".into()),
        ("admin_addPeer", r#"["/ip4/127.0.0.1/tcp/23112"]"#.into()),
        ("admin_removePeer", r#"["12D3KooWabc",600]"#.into()),
        ("grid_getFarm", "[1]".into()),
        ("grid_listFarms", r#"{"after":1,"limit":1000}"#.into()),
        ("grid_getNode", "[1]".into()),
        ("grid_listNodes", format!(r#"[1,{res},null,5]"#)),
        ("grid_getReservation", "[1]".into()),
        (
            "grid_listReservations",
            format!(r#"{{"owner":"{addr}","limit":2}}"#),
        ),
        ("grid_listReservations", "[1,null,0,10]".into()),
        ("grid_quote", format!(r#"[1,{res},100]"#)),
        ("grid_getEvents", format!(r#"[1,0,10,{cursor}]"#)),
        (
            "grid_getEvents",
            format!(r#"{{"fromHeight":2,"after":{cursor}}}"#),
        ),
        (
            "grid_subscribeEvents",
            format!(r#"[{{"node":1,"farm":1,"after":{cursor}}}]"#),
        ),
    ]
}
