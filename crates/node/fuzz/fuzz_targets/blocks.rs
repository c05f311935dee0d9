//! Block sequences against the executor's block rules: the input bytes are
//! decoded (every input is a valid script) into blocks of signed, replayed,
//! duplicated, corrupted and garbage transactions, applied to a chain that
//! keeps every height and one that prunes, with the rules checked after
//! every block (see `athena_node::model`). Any panic is a finding.
//!
//! The templates are the guest ELFs `wallet` and `counter`, read from
//! `$ATHENA_FUZZ_GUESTS` (default: this checkout's
//! `target/guest/riscv32em-unknown-none-elf/release`; build them with
//! `cargo test -p athena-node` or `./scripts/demo-vm.sh`).
#![no_main]

use athena_node::model::{check, Setup};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn guest(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("ATHENA_FUZZ_GUESTS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../target/guest/riscv32em-unknown-none-elf/release")
    });
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set ATHENA_FUZZ_GUESTS)", path.display()))
}

static SETUP: OnceLock<Setup> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let setup = SETUP.get_or_init(|| Setup::new(&guest("wallet"), &guest("counter")));
    check(setup, data);
});
