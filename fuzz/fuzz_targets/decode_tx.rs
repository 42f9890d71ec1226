#![no_main]
//! `cargo fuzz run decode_tx`: see `tfchain_fuzz::decode_tx` for the input format and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfchain_fuzz::decode_tx(data));
