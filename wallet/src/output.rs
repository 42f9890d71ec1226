//! What a command prints: text for people, or one JSON value with `--json` for scripts.

use serde::Serialize;
use serde_json::Value;
use tfchain_types::{Condition, LockedCondition};

/// A command's result in both forms.
#[derive(Clone, Debug)]
pub struct Report {
    pub json: Value,
    pub text: String,
}

impl Report {
    pub fn new(json: Value, text: impl Into<String>) -> Report {
        Report {
            json,
            text: text.into(),
        }
    }

    /// A report whose JSON is `value` serialized.
    pub fn of<T: Serialize>(value: &T, text: impl Into<String>) -> Report {
        Report {
            json: serde_json::to_value(value).unwrap_or(Value::Null),
            text: text.into(),
        }
    }

    /// The form asked for, ready to print.
    pub fn render(&self, json: bool) -> String {
        if json {
            serde_json::to_string_pretty(&self.json).unwrap_or_else(|_| "null".into())
        } else {
            self.text.trim_end().to_string()
        }
    }
}

/// A condition in a few words: `01ab… `, `2-of-3 multisig 03…`, `time-locked until …`.
pub fn describe_condition(c: &Condition) -> String {
    match c {
        Condition::Address(a) => a.to_string(),
        Condition::MultiSig(m) => format!(
            "{} ({}-of-{} multisig)",
            m.address(),
            m.min,
            m.addresses.len()
        ),
        Condition::TimeLock { until, inner } => {
            let inner = match inner {
                LockedCondition::Address(a) => a.to_string(),
                LockedCondition::MultiSig(m) => format!(
                    "{} ({}-of-{} multisig)",
                    m.address(),
                    m.min,
                    m.addresses.len()
                ),
            };
            format!(
                "{inner} (locked until {})",
                crate::args::describe_lock(*until)
            )
        }
        Condition::AtomicSwap(s) => format!(
            "{} (atomic swap to {}, refundable to {} from unix time {})",
            s.address(),
            s.receiver,
            s.sender,
            s.timeout
        ),
    }
}

/// Aligned `key: value` lines.
pub fn lines(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{:<w$}  {v}\n", format!("{k}:"), w = width + 1))
        .collect()
}
