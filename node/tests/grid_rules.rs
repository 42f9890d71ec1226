//! The capacity market's rules over RPC (PROTOCOL.md §7.3): each bad grid op submitted to
//! an in-process dev node is refused with `TX_INVALID` and the stable name of the rule it
//! breaks (`data.rule`), and bad `grid_*` parameters with their error codes.

mod common;
mod grid_common;

use common::*;
use grid_common::*;
use tfchain_api::{EventCursor, EventFilter, GridApiClient};
use tfchain_types::{
    unsigned_by, Availability, BlockId, Currency, GridOp, Hash, Resources, SecretKey,
};

fn one_core() -> Resources {
    Resources {
        cru: 1,
        ..Resources::ZERO
    }
}

/// Each bad op is refused with TX_INVALID and its rule's name; bad parameters likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_grid_ops_are_refused_with_their_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut node = GridNode::dev(dir.path().join("data")).await;
    let http = &node.http.clone();
    let payer = dev_key(2);
    let q = GridApiClient::quote(http, 1, one_core(), 10)
        .await
        .expect("grid_quote");
    let cases: Vec<(&str, GridOp, Vec<SecretKey>, bool)> = vec![
        (
            // devfarm belongs to dev key 1; dev key 2 signs for it.
            "grid_auth",
            GridOp::UpdateNode {
                node: 1,
                capacity: None,
                price: None,
                state: Some(Availability::Down),
                farm_auth: unsigned_by(&payer.public_key()),
            },
            vec![],
            true,
        ),
        (
            // The owner's key named, but not signed by it.
            "grid_auth",
            GridOp::RemoveNode {
                node: 2,
                farm_auth: unsigned_by(&dev_key(1).public_key()),
            },
            vec![],
            true,
        ),
        (
            "unknown_node",
            reserve_op(&payer, 99, one_core(), q.min_deposit, q.rate),
            vec![],
            false,
        ),
        (
            "zero_resources",
            reserve_op(&payer, 1, Resources::ZERO, q.min_deposit, q.rate),
            vec![],
            true,
        ),
        (
            "deposit_too_small",
            reserve_op(&payer, 1, one_core(), Currency(q.min_deposit.0 - 1), q.rate),
            vec![],
            false,
        ),
        (
            "rate_above_max",
            reserve_op(&payer, 1, one_core(), q.min_deposit, Currency(q.rate.0 - 1)),
            vec![],
            false,
        ),
        (
            "unknown_reservation",
            GridOp::Cancel {
                reservation: 7,
                owner_auth: unsigned_by(&payer.public_key()),
            },
            vec![],
            false,
        ),
    ];
    for (rule, op, signers, sender_fault) in cases {
        let tx = grid_tx(http, &payer, vec![op], &signers).await;
        let data = expect_invalid(http, &tx, rule).await;
        assert_eq!(
            data["sender_fault"],
            serde_json::json!(sender_fault),
            "{rule}: {data}"
        );
        assert!(
            data["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{data}"
        );
    }

    let nf = call_error(GridApiClient::get_node(http, 99).await, "node 99");
    assert_eq!(
        (nf.code(), error_data(&nf)),
        (
            tfchain_api::error::NOT_FOUND,
            serde_json::json!({"kind": "node", "key": "99"})
        )
    );
    let nf = call_error(
        GridApiClient::get_reservation(http, 1).await,
        "reservation 1",
    );
    assert_eq!(nf.code(), tfchain_api::error::NOT_FOUND);
    let nf = call_error(GridApiClient::get_farm(http, 5).await, "farm 5");
    assert_eq!(nf.code(), tfchain_api::error::NOT_FOUND);
    let bad = call_error(
        GridApiClient::list_reservations(http, None, None, None, None).await,
        "neither",
    );
    assert_eq!(bad.code(), tfchain_api::error::INVALID_PARAMS);
    let bad = call_error(
        GridApiClient::quote(http, 1, Resources::ZERO, 10).await,
        "zero",
    );
    assert_eq!(bad.code(), tfchain_api::error::INVALID_PARAMS);
    let stranger = EventCursor {
        height: 1,
        index: 0,
        block: BlockId(Hash([9; 32])),
    };
    let bad = call_error(
        GridApiClient::get_events(http, None, None, None, Some(stranger)).await,
        "cursor",
    );
    assert_eq!(bad.code(), tfchain_api::error::INVALID_PARAMS);
    let ws = node.ws().await;
    let filter = EventFilter {
        after: Some(stranger),
        ..EventFilter::default()
    };
    assert!(
        GridApiClient::subscribe_events(&ws, Some(filter))
            .await
            .is_err(),
        "an unknown cursor is refused"
    );

    // Nothing of it reached the chain.
    assert!(GridApiClient::get_events(http, None, Some(1), None, None)
        .await
        .expect("events")
        .events
        .is_empty());
    node.stop().await;
}
