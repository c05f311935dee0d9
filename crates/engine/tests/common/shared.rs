//! Helpers shared by the engine's and the runtime's integration tests:
//! the engine's `tests/common/mod.rs` declares this module, the runtime's
//! includes this file by path (the runtime depends on the engine, so its
//! tests reuse the engine's, not the other way round). One copy keeps the
//! guests, addresses and nested-call scripts of both suites the same.

use athena_engine::abi::number as n;
use athena_interface::{Address, Bytes32};

/// The script-guest builder and its decoder (each test binary uses a
/// different part of it).
#[allow(unused_imports)]
pub use athena_test_elf::script::*;

/// Gas for tests that do not care.
pub const GAS: u64 = 10_000_000;

/// The ELF bytes of guest example `name` (built once per process).
pub fn example(name: &str) -> Vec<u8> {
    let path = athena_guest_builder::example_elf(athena_guest_builder::GuestTarget::Rv32em, name)
        .unwrap_or_else(|e| panic!("building guest examples: {e}"));
    std::fs::read(path).unwrap()
}

pub fn addr(b: u8) -> Address {
    Address::new([b; 24])
}

pub fn word(b: u8) -> Bytes32 {
    Bytes32::new([b; 32])
}

/// Runs `f` on a thread with a generous stack: nested frames recurse
/// natively (engine → host → engine). Depth 64 fits in 2 MiB today; the
/// margin keeps the test about depth, not about stack frame sizes.
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(64 << 20).spawn(f).unwrap().join().unwrap()
}

/// Data of the nested-call caller scripts: `callee` at 0, key 1 at 32,
/// key 2 at 64, value `0x77` at 96 (return data lands at 128).
pub fn caller_data(callee: Address) -> Vec<u8> {
    let mut data = vec![0u8; 160];
    data[..24].copy_from_slice(callee.as_bytes());
    data[32..64].fill(1);
    data[64..96].fill(2);
    data[96..128].fill(0x77);
    data
}

/// The steps every nested-call caller script starts with (over
/// [`caller_data`]): write slot 1, CALL the callee with `value` and `gas`
/// (input: its first 4 bytes), write slot 2, RETURNDATA_SIZE.
pub fn caller_steps(value: u64, gas: u32) -> Vec<Op> {
    vec![
        sys(n::STORAGE_WRITE, &[DATA + 32, DATA + 96]),
        sys(n::CALL, &[DATA, DATA + 128, 4, value as u32, (value >> 32) as u32, gas]),
        sys(n::STORAGE_WRITE, &[DATA + 64, DATA + 96]),
        sys(n::RETURNDATA_SIZE, &[]),
    ]
}

/// Data of the nested-call callee scripts: key 9 at 0, value `0x99` at
/// 32, `b"nope"` at 64.
pub fn callee_data() -> Vec<u8> {
    let mut data = vec![0u8; 64];
    data[..32].fill(9);
    data[32..].fill(0x99);
    data.extend_from_slice(b"nope");
    data
}
