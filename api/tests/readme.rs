//! The README's RPC reference stays in step with the API: every method and every error code
//! of the crate appears in it.

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));

#[test]
fn readme_lists_every_method() {
    let missing: Vec<&str> = tfchain_api::METHODS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !README.contains(&format!("`{name}")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md does not document {missing:?}"
    );
}

#[test]
fn readme_lists_every_error_code() {
    let missing: Vec<String> = tfchain_api::ERROR_CODES
        .iter()
        .filter(|(code, name, _)| !README.contains(&format!("| {code} | `{name}` |")))
        .map(|(code, name, _)| format!("{code} {name}"))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md error table lacks {missing:?}"
    );
}
