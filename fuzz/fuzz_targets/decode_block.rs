#![no_main]
//! `cargo fuzz run decode_block`: see `tfchain_fuzz::decode_block` for the input format and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfchain_fuzz::decode_block(data));
