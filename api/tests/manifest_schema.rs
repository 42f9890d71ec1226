//! The manifest's JSON schema (docs/deployment-manifest.schema.json) and the parser agree:
//! the same fields, the same enums, and examples the schema accepts or refuses are accepted
//! or refused by `Manifest::parse` alike.

use serde_json::Value;
use std::collections::BTreeSet;
use tfchain_api::deployment::Manifest;

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/deployment-manifest.schema.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("read the schema")).expect("json")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn schema_fields_and_enums_are_the_parsers() {
    let s = schema();
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(s["properties"]["resources"]["additionalProperties"], false);
    // Every field a full manifest serialises is in the schema, and no other.
    let full = Manifest::parse(
        br#"{"version":1,"kind":"container","image":"alpine","command":["true"],"env":{"A":"b"},"restart":"never","resources":{"cru":1,"mru":1,"sru":0,"hru":0,"ipv4":0}}"#,
    )
    .expect("a full manifest parses");
    let json = serde_json::to_value(&full).expect("serialise");
    assert_eq!(keys(&json), keys(&s["properties"]));
    assert_eq!(
        keys(&json["resources"]),
        keys(&s["properties"]["resources"]["properties"])
    );
    assert_eq!(
        strings(&s["properties"]["kind"]["enum"]),
        ["container", "process"].map(String::from).into()
    );
    let restarts: BTreeSet<String> = ["always", "on-failure", "never"]
        .iter()
        .map(|r| {
            let m = format!(r#"{{"version":1,"kind":"process","command":["x"],"restart":"{r}"}}"#);
            Manifest::parse(m.as_bytes()).expect("each policy parses");
            r.to_string()
        })
        .collect();
    assert_eq!(strings(&s["properties"]["restart"]["enum"]), restarts);
}

#[test]
fn examples_are_judged_as_the_schema_says() {
    // (manifest, valid by the schema)
    let cases: &[(&str, bool)] = &[
        (
            r#"{"version":1,"kind":"process","command":["sh","-c","sleep 1"]}"#,
            true,
        ),
        (r#"{"version":1,"kind":"container","image":"alpine"}"#, true),
        (
            r#"{"version":1,"kind":"process","command":["x"],"privileged":true}"#,
            false,
        ),
        (r#"{"version":2,"kind":"process","command":["x"]}"#, false),
        (r#"{"version":1,"kind":"container"}"#, false),
        (
            r#"{"version":1,"kind":"process","command":["x"],"image":"alpine"}"#,
            false,
        ),
        (r#"{"version":1,"kind":"process","command":[]}"#, false),
        (
            r#"{"version":1,"kind":"process","command":["x"],"env":{"1A":"x"}}"#,
            false,
        ),
        (
            r#"{"version":1,"kind":"process","command":["x"],"env":{"TFCHAIN_NODE":"x"}}"#,
            false,
        ),
        (
            r#"{"version":1,"kind":"process","command":["x"],"restart":"sometimes"}"#,
            false,
        ),
        (
            r#"{"version":1,"kind":"process","command":["x"],"resources":{"cru":1}}"#,
            false,
        ),
        (r#"{"kind":"process","command":["x"]}"#, false),
    ];
    for (m, valid) in cases {
        assert_eq!(Manifest::parse(m.as_bytes()).is_ok(), *valid, "{m}");
    }
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/heartbeat.json"
    );
    let bytes = std::fs::read(example).expect("read the example");
    Manifest::parse(&bytes).expect("the README's example parses");
}
