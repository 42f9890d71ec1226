#![no_main]
//! `cargo fuzz run rpc_params`: see `tfchain_fuzz::rpc_params` for the input format and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfchain_fuzz::rpc_params(data));
