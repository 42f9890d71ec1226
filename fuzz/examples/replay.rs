//! Replays a corpus through `apply_block` and counts what the inputs did, per mode:
//! `cargo run --example replay -- <dir>...` (from `fuzz/`). Shows whether fuzzing reaches
//! blocks that apply, not only ones that are refused.

use tfchain_fuzz::chain::{apply_block_outcome, Outcome};

fn main() {
    let mut applied = [0usize; 4];
    let mut refused = [0usize; 4];
    let mut undecoded = 0usize;
    for dir in std::env::args().skip(1) {
        for entry in std::fs::read_dir(&dir).expect("lists the corpus") {
            let bytes = std::fs::read(entry.expect("an entry").path()).expect("reads an input");
            match apply_block_outcome(&bytes) {
                Outcome::NotDecoded => undecoded += 1,
                Outcome::Applied(m) => applied[m as usize] += 1,
                Outcome::Refused(m) => refused[m as usize] += 1,
            }
        }
    }
    println!("not decoded: {undecoded}");
    for m in 0..4 {
        println!("mode {m}: {} applied, {} refused", applied[m], refused[m]);
    }
}
