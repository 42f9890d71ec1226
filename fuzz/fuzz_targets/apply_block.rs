#![no_main]
//! `cargo fuzz run apply_block`: see `tfchain_fuzz::apply_block` for the input format and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfchain_fuzz::apply_block(data));
