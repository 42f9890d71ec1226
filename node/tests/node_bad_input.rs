//! Bad input over JSON-RPC (issue #4 §8): every kind gets its own documented error
//! (api/src/error.rs), and the node keeps producing blocks afterwards.

mod common;

use common::*;
use jsonrpsee::types::error::{
    METHOD_NOT_FOUND_CODE, OVERSIZED_REQUEST_CODE, TOO_BIG_BATCH_REQUEST_CODE,
};
use serde_json::{json, Value};
use tfchain_api::error::{INVALID_PARAMS, TX_DECODE, TX_INVALID, TX_REJECTED_BY_POOL};
use tfchain_api::{ChainApiClient, TxApiClient};
use tfchain_types::{Currency, Fulfillment};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_specific_errors_and_the_node_keeps_producing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::dev(&dir.path().join("data"), &dir.path().join("node.log")).await;
    let http = &node.http;
    let start = node.wait_height(1, blocks_timeout(1)).await.height;

    // Malformed hex.
    let e = call_error(TxApiClient::submit(http, "zz12".into()).await, "bad hex");
    assert_eq!(e.code(), TX_DECODE, "{e:?}");
    assert!(e.message().contains("not valid hex"), "{}", e.message());

    // Valid hex, bytes that are no transaction.
    let e = call_error(
        TxApiClient::submit(http, "00ff00".into()).await,
        "undecodable",
    );
    assert_eq!(e.code(), TX_DECODE, "{e:?}");
    assert!(e.message().contains("do not decode"), "{}", e.message());
    assert!(error_data(&e)["reason"].is_string(), "{e:?}");

    // A good payment with one signature byte flipped.
    let to = address_of(&fresh_key(0xb1, 0));
    let (mut bad, _) = build_payment(http, &dev_key(1), to, Currency::from_tft(3)).await;
    match &mut bad.coin_inputs[0].fulfillment {
        Fulfillment::Signature(ks) => ks.signature.0[7] ^= 0x20,
        other => panic!("payment fulfillment {other:?}"),
    }
    let e = call_error(
        TxApiClient::submit(http, tx_hex(&bad)).await,
        "bad signature",
    );
    assert_eq!(e.code(), TX_INVALID, "{e:?}");
    assert!(
        e.message().contains("signature does not verify"),
        "{}",
        e.message()
    );
    assert_eq!(error_data(&e)["sender_fault"], json!(true), "{e:?}");

    // A double spend: two different payments of one output. The pool holds the first; the
    // second is a replacement that does not pay more, refused by policy. If a block lands
    // between the two submissions the second meets a spent output instead: try again on
    // another key then (one block per 2 s makes a retry rare).
    let mut first = None;
    for key in [4, 5, 6] {
        let from = dev_key(key);
        let h0 = node.info().await.height;
        let (a, _) = build_payment(http, &from, to, Currency::from_tft(10)).await;
        let (b, _) = build_payment(http, &from, to, Currency::from_tft(11)).await;
        assert_eq!(a.coin_inputs[0].parent, b.coin_inputs[0].parent);
        assert_ne!(a.txid(), b.txid());
        let ida = TxApiClient::submit(http, tx_hex(&a))
            .await
            .expect("first spend");
        let r = TxApiClient::submit(http, tx_hex(&b)).await;
        if node.info().await.height != h0 && r.is_err() {
            continue;
        }
        let e = call_error(r, "double spend in the pool");
        assert_eq!(e.code(), TX_REJECTED_BY_POOL, "{e:?}");
        assert!(e.message().contains("double-spends"), "{}", e.message());
        assert!(
            e.message().contains(&ida.to_string()),
            "names the conflict: {}",
            e.message()
        );
        first = Some((ida, b));
        break;
    }
    let (ida, b) = first.expect("a double spend met the pool");
    // Once the first is in a block, the second spends a spent output: a consensus error
    // that is not the sender's fault for sure (the node may not have seen the parent yet).
    wait_confirmed(http, ida, blocks_timeout(3)).await;
    let e = call_error(TxApiClient::submit(http, tx_hex(&b)).await, "spent output");
    assert_eq!(e.code(), TX_INVALID, "{e:?}");
    assert!(e.message().contains("not an unspent"), "{}", e.message());
    assert_eq!(error_data(&e)["sender_fault"], json!(false), "{e:?}");

    // Unknown method.
    let e = call_error(
        raw_call(http, "chain_getNothing", vec![]).await,
        "unknown method",
    );
    assert_eq!(e.code(), METHOD_NOT_FOUND_CODE, "{e:?}");

    // Wrong parameter types.
    let e = call_error(
        raw_call(http, "chain_getBlock", vec![json!("abc")]).await,
        "abc",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    let e = call_error(
        raw_call(http, "chain_getBlock", vec![json!(-1)]).await,
        "-1",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    let mut bad_checksum = to.to_string();
    let last = if bad_checksum.ends_with('0') {
        "1"
    } else {
        "0"
    };
    bad_checksum.replace_range(bad_checksum.len() - 1.., last);
    let e = call_error(
        raw_call(http, "address_getBalance", vec![json!(bad_checksum)]).await,
        "bad checksum",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    assert!(
        format!("{e:?}").to_lowercase().contains("checksum"),
        "names the checksum: {e:?}"
    );
    let e = call_error(raw_call(http, "tx_submit", vec![json!(42)]).await, "number");
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    let e = call_error(
        raw_call(
            http,
            "address_getHistory",
            vec![json!(to.to_string()), Value::Null, json!(0)],
        )
        .await,
        "limit 0",
    );
    assert_eq!(e.code(), INVALID_PARAMS, "{e:?}");
    assert!(e.message().contains("limit"), "{}", e.message());

    // Not found is its own code, not a parameter error.
    let e = call_error(
        ChainApiClient::get_block(http, 1_000_000.into()).await,
        "far height",
    );
    assert_eq!(e.code(), tfchain_api::error::NOT_FOUND, "{e:?}");

    let addr = node.rpc_addr;
    // An oversized request: more than the 1 MiB body limit.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["{}"]}}"#,
        "ab".repeat(600 * 1024)
    );
    let (status, body) =
        tokio::task::spawn_blocking(move || http_post_raw(addr, huge.as_bytes(), None))
            .await
            .expect("post");
    assert_eq!(status, 413, "{body}");
    let v: Value = serde_json::from_str(&body).expect("a JSON-RPC error body");
    assert_eq!(v["error"]["code"], json!(OVERSIZED_REQUEST_CODE), "{v}");
    // Refused on the announced length alone, before reading the body.
    let (status, _) =
        tokio::task::spawn_blocking(move || http_post_raw(addr, b"{", Some(64 * 1024 * 1024)))
            .await
            .expect("post");
    assert_eq!(status, 413);

    // A batch longer than the limit (64).
    let batch: Vec<Value> = (0..65)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "chain_getInfo", "params": []}))
        .collect();
    let body = serde_json::to_vec(&batch).expect("json");
    let (status, text) = tokio::task::spawn_blocking(move || http_post_raw(addr, &body, None))
        .await
        .expect("post");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["error"]["code"],
        json!(TOO_BIG_BATCH_REQUEST_CODE),
        "status {status}: {v}"
    );
    // A batch within the limit is answered in full.
    let batch: Vec<Value> = (0..64)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "chain_getInfo", "params": []}))
        .collect();
    let body = serde_json::to_vec(&batch).expect("json");
    let (status, text) = tokio::task::spawn_blocking(move || http_post_raw(addr, &body, None))
        .await
        .expect("post");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(64), "{v}");
    // Not JSON at all.
    let (_, text) = tokio::task::spawn_blocking(move || http_post_raw(addr, b"{nope", None))
        .await
        .expect("post");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["error"]["code"],
        json!(jsonrpsee::types::error::PARSE_ERROR_CODE),
        "{v}"
    );

    // After all that, the node still produces and its state is sound.
    let now = node.info().await.height;
    assert!(now >= start);
    node.wait_height(now + 2, blocks_timeout(2)).await;
    assert_supply(http).await;
}
