#![no_main]
//! `cargo fuzz run p2p_message`: see `tfchain_fuzz::p2p_message` for the input format and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfchain_fuzz::p2p_message(data));
