//! The wallet's side of the capacity market (PROTOCOL.md §7): resources and prices as
//! people type and read them, the owner authorisations grid ops carry (built from the
//! wallet's keys, signed later with the rest of the transaction), and the node's refusals
//! turned into errors that say what to do.
//!
//! The chain is the judge (it enforces capacity, prices and owners); the wallet checks the
//! same things first from what the node reports, so the usual mistakes are caught before
//! anything is signed, and maps the node's `TX_INVALID` reason to the same errors when a
//! race (another transaction in the pool) gets there first.

use crate::error::{parse_amount, Result, WalletError};
use crate::wallet::Wallet;
use tfchain_api::ReservationInfo;
use tfchain_types::{
    Condition, Currency, Fulfillment, GridEventKind, KeySignature, NodeState, Price,
    ReservationState, Resources, Signature,
};

/// The five resources with their names, in the protocol's order.
pub fn fields(r: &Resources) -> [(&'static str, u64); 5] {
    [
        ("cru", u64::from(r.cru)),
        ("mru", u64::from(r.mru)),
        ("sru", u64::from(r.sru)),
        ("hru", u64::from(r.hru)),
        ("ipv4", u64::from(r.ipv4)),
    ]
}

/// `2 cru, 4 mru, 50 sru` (zero fields left out; `nothing` when all are zero): the same
/// words the node's refusals use (`Resources`' `Display`).
pub fn describe_resources(r: &Resources) -> String {
    r.to_string()
}

/// What falls short, field by field: `1 cru free, 4 requested; 0 ipv4 free, 1 requested`.
/// Empty when `requested` fits in `free`.
pub fn shortfall(free: &Resources, requested: &Resources) -> String {
    fields(free)
        .iter()
        .zip(fields(requested))
        .filter(|((_, f), (_, r))| r > f)
        .map(|((k, f), (_, r))| format!("{f} {k} free, {r} requested"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A price per block in TFT per unit: `cru 0.001, mru 0.0005, …`.
pub fn describe_price(p: &Price) -> String {
    [
        ("cru", p.cru),
        ("mru", p.mru),
        ("sru", p.sru),
        ("hru", p.hru),
        ("ipv4", p.ipv4),
    ]
    .iter()
    .map(|(k, v)| format!("{k} {}", v.to_tft_string()))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Parses a per-unit price in TFT (`0.001`, `0.001TFT`).
pub fn parse_price_field(s: &str) -> Result<Currency> {
    parse_amount(s)
}

/// `NodeState` in lower case, as people read it.
pub fn state_name(s: NodeState) -> &'static str {
    match s {
        NodeState::Up => "up",
        NodeState::Down => "down",
        NodeState::Removed => "removed",
    }
}

/// A reservation's state in words, with when it next changes.
pub fn describe_state(r: &ReservationInfo) -> String {
    match r.reservation.state {
        ReservationState::Active => match r.next_change_at {
            Some(h) => format!("active (funded until height {h})"),
            None => "active".into(),
        },
        ReservationState::Grace { since } => match r.next_change_at {
            Some(h) => format!(
                "grace: out of funds since height {since}, ends at height {h} unless topped up"
            ),
            None => format!("grace: out of funds since height {since}"),
        },
        ReservationState::Ended { at, reason } => {
            format!("ended at height {at} ({})", end_reason(reason))
        }
    }
}

fn end_reason(r: tfchain_types::EndReason) -> &'static str {
    match r {
        tfchain_types::EndReason::Cancelled => "cancelled",
        tfchain_types::EndReason::OutOfFunds => "out of funds",
        tfchain_types::EndReason::NodeRemoved => "node removed",
    }
}

/// An event in one line (PROTOCOL.md §7.5).
pub fn describe_event(e: &GridEventKind) -> String {
    match e {
        GridEventKind::FarmRegistered { farm } => format!("farm {farm} registered"),
        GridEventKind::NodeRegistered { node, farm } => {
            format!("node {node} registered in farm {farm}")
        }
        GridEventKind::NodeUpdated { node, .. } => format!("node {node} updated"),
        GridEventKind::NodeRemoved { node, .. } => format!("node {node} removed"),
        GridEventKind::ReservationCreated {
            reservation,
            node,
            resources,
            rate,
            ..
        } => format!(
            "reservation {reservation} created on node {node}: {} at {rate} per block",
            describe_resources(resources)
        ),
        GridEventKind::ReservationFunded {
            reservation,
            amount,
            escrow,
            ..
        } => format!("reservation {reservation} funded with {amount}: escrow now {escrow}"),
        GridEventKind::DeploymentUpdated {
            reservation,
            deployment_hash,
            ..
        } => format!("reservation {reservation} now runs deployment {deployment_hash}"),
        GridEventKind::ReservationGrace { reservation, .. } => {
            format!("reservation {reservation} ran out of funds (grace period)")
        }
        GridEventKind::ReservationResumed { reservation, .. } => {
            format!("reservation {reservation} resumed")
        }
        GridEventKind::ReservationEnded {
            reservation,
            reason,
            refund,
            ..
        } => format!(
            "reservation {reservation} ended ({}): {refund} refunded to its owner",
            end_reason(*reason)
        ),
        GridEventKind::EarningsClaimed {
            node,
            farm,
            farmer,
            network,
        } => format!(
            "node {node}'s earnings claimed: {farmer} to farm {farm}'s payout address, \
             {network} to the network"
        ),
    }
}

/// Refuses a change to a reservation that has ended.
pub fn ensure_live(r: &ReservationInfo) -> Result<()> {
    match r.reservation.state {
        ReservationState::Ended { at, reason } => Err(WalletError::ReservationEnded {
            id: r.reservation.id,
            how: format!("at height {at}, {}", end_reason(reason)),
        }),
        _ => Ok(()),
    }
}

/// The fulfilment of `owner` that this wallet can sign: its key for a single-key owner,
/// or `min` of its keys for a multisig owner. `what` names the thing owned, for the error.
pub fn authorization(w: &Wallet, owner: &Condition, what: &str) -> Result<Fulfillment> {
    let not_owner = || WalletError::NotOwner {
        what: what.to_string(),
        owner: crate::output::describe_condition(owner),
    };
    match owner {
        Condition::Address(a) => {
            let k = w.key_of(a).ok_or_else(not_owner)?;
            Ok(tfchain_types::unsigned_by(&k.public_key()))
        }
        Condition::MultiSig(m) => {
            let min = usize::try_from(m.min).map_err(|_| not_owner())?;
            let keys: Vec<KeySignature> = m
                .addresses
                .iter()
                .filter_map(|a| w.key_of(a))
                .take(min)
                .map(|k| KeySignature {
                    public_key: k.public_key(),
                    signature: Signature::ZERO,
                })
                .collect();
            if keys.len() < min || min == 0 {
                return Err(not_owner());
            }
            Ok(Fulfillment::MultiSignature(keys))
        }
        _ => Err(not_owner()),
    }
}

/// Turns the node's refusal of a grid transaction into an error that says what to do; any
/// other error passes through. Reads the rule's stable name and values (`data.rule`,
/// `data.detail`), never the words of the message.
pub fn refine(e: WalletError) -> WalletError {
    match e {
        WalletError::NodeRefused {
            code,
            reason: Some(reason),
            rule,
            detail,
            ..
        } if code == tfchain_api::error::TX_INVALID => {
            from_rule(reason, rule.as_deref(), detail.as_deref())
        }
        e => e,
    }
}

#[derive(serde::Deserialize)]
struct CapacityDetail {
    node: u32,
    free: Resources,
    requested: Resources,
}

#[derive(serde::Deserialize)]
struct NotUpDetail {
    node: u32,
    state: tfchain_types::NodeState,
}

fn from_rule(
    reason: String,
    rule: Option<&str>,
    detail: Option<&serde_json::Value>,
) -> WalletError {
    match rule {
        Some("capacity_exceeded") => {
            if let Some(d) = detail_as::<CapacityDetail>(detail) {
                return WalletError::CapacityExceeded {
                    node: d.node,
                    shortfall: shortfall(&d.free, &d.requested),
                };
            }
        }
        Some("node_not_up") => {
            if let Some(d) = detail_as::<NotUpDetail>(detail) {
                return WalletError::NodeNotUp {
                    node: d.node,
                    state: d.state.to_string(),
                };
            }
        }
        Some("rate_above_max") => return WalletError::RateChanged { reason },
        _ => {}
    }
    WalletError::GridRefused { reason }
}

fn detail_as<T: serde::de::DeserializeOwned>(detail: Option<&serde_json::Value>) -> Option<T> {
    serde_json::from_value(detail?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cru: u32, mru: u32, sru: u32, hru: u32, ipv4: u16) -> Resources {
        Resources {
            cru,
            mru,
            sru,
            hru,
            ipv4,
        }
    }

    /// The node's refusal of a grid op that broke `e`, as the node builds it.
    fn refused(op: u32, e: tfchain_contracts::GridError) -> WalletError {
        let err = tfchain_consensus::TxError::Grid {
            index: op as usize,
            op: "reserve",
            source: e,
        };
        let data = match tfchain_api::error::tx_invalid(&err).data() {
            Some(d) => serde_json::from_str::<tfchain_api::error::TxInvalidData>(d.get())
                .expect("TX_INVALID data"),
            None => panic!("TX_INVALID has data"),
        };
        WalletError::NodeRefused {
            url: "http://x".into(),
            code: tfchain_api::error::TX_INVALID,
            message: String::new(),
            reason: Some(data.reason),
            rule: data.rule,
            detail: data.detail.map(Box::new),
        }
    }

    #[test]
    fn authorisations_use_the_wallet_keys_of_the_owner() {
        use crate::keystore::{KdfParams, Keystore, WalletData};
        use tfchain_types::{Address, MultiSigCondition, PublicKey, Seed};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut data = WalletData::new(&Seed([3; 32]));
        data.take_index();
        data.take_index();
        let ks = Keystore::create(dir.path(), data, b"pw", KdfParams::INSECURE_FAST, false)
            .expect("keystore");
        let w = Wallet::new(ks).expect("wallet");
        let (k0, k1) = (w.derive(0), w.derive(1));
        let stranger = Address::from_public_key(&PublicKey([9; 32]));

        let f = authorization(&w, &Condition::Address(k1.address), "farm 1").expect("owner");
        assert_eq!(f, tfchain_types::unsigned_by(&k1.public_key()));
        let e = authorization(&w, &Condition::Address(stranger), "farm 1").expect_err("stranger");
        assert_eq!(e.kind(), "not_owner");
        assert!(e.to_string().contains("farm 1's owner"), "{e}");

        let ms = |min| {
            Condition::MultiSig(MultiSigCondition {
                min,
                addresses: vec![k0.address, stranger, k1.address],
            })
        };
        let Fulfillment::MultiSignature(list) = authorization(&w, &ms(2), "x").expect("2 of 3")
        else {
            panic!("a multisig owner needs a MultiSignature");
        };
        let keys: Vec<_> = list.iter().map(|ks| ks.public_key).collect();
        assert_eq!(keys, vec![k0.public_key(), k1.public_key()]);
        assert!(
            authorization(&w, &ms(3), "x").is_err(),
            "holds 2 keys of 3 needed"
        );
    }

    #[test]
    fn resources_read_well() {
        assert_eq!(
            describe_resources(&res(2, 4, 50, 0, 0)),
            "2 cru, 4 mru, 50 sru"
        );
        assert_eq!(describe_resources(&Resources::ZERO), "nothing");
        assert_eq!(
            shortfall(&res(1, 32, 500, 0, 1), &res(4, 4, 50, 0, 2)),
            "1 cru free, 4 requested; 1 ipv4 free, 2 requested"
        );
        assert_eq!(shortfall(&res(8, 8, 8, 8, 8), &res(1, 1, 1, 1, 1)), "");
    }

    #[test]
    fn capacity_refusals_name_what_is_short() {
        use tfchain_contracts::GridError;
        let e = refine(refused(
            0,
            GridError::CapacityExceeded {
                node: 2,
                free: res(1, 32, 500, 0, 1),
                requested: res(4, 4, 50, 0, 0),
            },
        ));
        assert_eq!(e.kind(), "capacity_exceeded");
        assert!(
            e.to_string()
                .starts_with("node 2 has 1 cru free, 4 requested: reserve less"),
            "{e}"
        );
        let e = refine(refused(
            1,
            GridError::NodeNotUp {
                node: 7,
                state: tfchain_types::NodeState::Down,
            },
        ));
        assert_eq!(e.kind(), "node_not_up");
        assert!(e.to_string().starts_with("node 7 is down:"), "{e}");
    }

    #[test]
    fn other_refusals_keep_the_rule_in_readable_words() {
        use tfchain_contracts::GridError;
        let e = refine(refused(
            0,
            GridError::CapacityBelowUsed {
                capacity: res(1, 0, 0, 0, 0),
                used: res(2, 4, 0, 0, 0),
            },
        ));
        assert_eq!(e.kind(), "tx_invalid");
        assert_eq!(
            e.to_string(),
            "the node refused the transaction: grid op 0 (reserve): capacity (1 cru) is below \
             what live reservations use (2 cru, 4 mru)"
        );
        let e = refine(refused(
            0,
            GridError::RateAboveMax {
                rate: tfchain_types::Currency::from_tft(2),
                max_rate: tfchain_types::Currency::from_tft(1),
            },
        ));
        assert_eq!(e.kind(), "rate_changed");
        // Not a transaction error: unchanged.
        let other = WalletError::NodeRefused {
            url: "u".into(),
            code: -32601,
            message: "Method not found".into(),
            reason: None,
            rule: None,
            detail: None,
        };
        assert_eq!(refine(other).kind(), "node_refused");
    }
}
