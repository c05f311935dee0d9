//! Hostile syscall arguments: every bad pointer, length or range ends the
//! frame with `invalid_syscall_argument` (or another failure status), never
//! panics, and never lets a state-changing callback reach the host.

mod common;

use athena_engine::abi::{self, number as n};
use athena_engine::execute;
use athena_interface::{ExecutionResult, Revision, StatusCode};
use common::*;

/// Where the script's code lives: readable, not writable.
const READ_ONLY: u32 = TEXT;
/// Inside the guard page.
const GUARD: u32 = 0x10;
/// A 32-byte range starting here wraps past 2^32.
const WRAP: u32 = 0xffff_fff0;

fn run_one(op: Op) -> (ExecutionResult, Recorder) {
    let mut data = vec![0u8; 256];
    data[..24].copy_from_slice(addr(0xbb).as_bytes());
    let mut host = Recorder::default();
    install(&mut host.inner, addr(0xbb), script(&[], &[]));
    host.inner.accounts.entry(addr(1)).or_default().state = vec![7; 64];
    let result = execute(&mut host, Revision::LATEST, &message(addr(1), &[], GAS), &script(&[op], &data));
    (result, host)
}

fn assert_invalid(op: Op) {
    let (result, host) = run_one(op);
    assert_eq!(
        (result.status, result.gas_left, result.output.len()),
        (StatusCode::InvalidSyscallArgument, 0, 0),
        "{op:?}"
    );
    assert!(!host.wrote(), "{op:?} reached the host: {:?}", host.log);
}

const OK: u32 = DATA;

#[test]
fn bad_pointers_trap() {
    for bad in [GUARD, WRAP, 0] {
        assert_invalid(sys(n::RETURN, &[bad, 32]));
        assert_invalid(sys(n::REVERT, &[bad, 32]));
        assert_invalid(sys(n::STORAGE_READ, &[bad, OK]));
        assert_invalid(sys(n::STORAGE_READ, &[OK, bad]));
        assert_invalid(sys(n::STORAGE_WRITE, &[bad, OK]));
        assert_invalid(sys(n::STORAGE_WRITE, &[OK, bad]));
        assert_invalid(sys(n::CALL, &[bad, OK, 4, 0, 0, 1000]));
        assert_invalid(sys(n::CALL, &[OK, bad, 32, 0, 0, 1000]));
        assert_invalid(sys(n::SPAWN, &[bad, OK, 4, OK + 64]));
        assert_invalid(sys(n::SPAWN, &[OK, bad, 32, OK + 64]));
        assert_invalid(sys(n::SPAWN, &[OK, OK, 4, bad]));
        assert_invalid(sys(n::DEPLOY, &[bad, 64, OK + 64]));
        assert_invalid(sys(n::DEPLOY, &[OK, 64, bad]));
        assert_invalid(sys(n::GET_CONTEXT, &[bad]));
        assert_invalid(sys(n::GET_TX_CONTEXT, &[bad]));
        assert_invalid(sys(n::GET_BLOCK_HASH, &[1, 0, bad]));
        assert_invalid(sys(n::EMIT_LOG, &[bad, 1, OK, 4]));
        assert_invalid(sys(n::EMIT_LOG, &[OK, 1, bad, 32]));
        assert_invalid(sys(n::STATE_READ, &[bad, 0, 32]));
        assert_invalid(sys(n::SHA256, &[bad, 32, OK]));
        assert_invalid(sys(n::SHA256, &[OK, 4, bad]));
        assert_invalid(sys(n::BLAKE3, &[bad, 32, OK]));
        assert_invalid(sys(n::BLAKE3, &[OK, 4, bad]));
        assert_invalid(sys(n::ED25519_VERIFY, &[bad, 32, OK, OK]));
        assert_invalid(sys(n::ED25519_VERIFY, &[OK, 4, bad, OK]));
        assert_invalid(sys(n::ED25519_VERIFY, &[OK, 4, OK, bad]));
        if bad != 0 {
            assert_invalid(sys(n::GET_BALANCE, &[bad]));
        }
    }
}

#[test]
fn outputs_into_read_only_memory_trap_before_the_host_acts() {
    for op in [
        sys(n::STORAGE_READ, &[OK, READ_ONLY]),
        sys(n::SPAWN, &[OK, OK, 4, READ_ONLY]),
        sys(n::DEPLOY, &[OK, 4, READ_ONLY]),
        sys(n::GET_CONTEXT, &[READ_ONLY]),
        sys(n::GET_TX_CONTEXT, &[READ_ONLY]),
        sys(n::GET_BLOCK_HASH, &[0, 0, READ_ONLY]),
        sys(n::STATE_READ, &[READ_ONLY, 0, 4]),
        sys(n::SHA256, &[OK, 4, READ_ONLY]),
        sys(n::BLAKE3, &[OK, 4, READ_ONLY]),
    ] {
        assert_invalid(op);
    }
}

#[test]
fn lengths_over_their_bounds_trap() {
    assert_invalid(sys(n::RETURN, &[OK, abi::MAX_RETURN_DATA + 1]));
    assert_invalid(sys(n::REVERT, &[OK, abi::MAX_RETURN_DATA + 1]));
    assert_invalid(sys(n::CALL, &[OK, OK, abi::MAX_CALL_INPUT + 1, 0, 0, 1000]));
    assert_invalid(sys(n::SPAWN, &[OK, OK, abi::MAX_SPAWN_STATE + 1, OK]));
    assert_invalid(sys(n::DEPLOY, &[OK, abi::MAX_DEPLOY_CODE + 1, OK]));
    assert_invalid(sys(n::EMIT_LOG, &[OK, abi::MAX_LOG_TOPICS + 1, OK, 0]));
    assert_invalid(sys(n::EMIT_LOG, &[OK, 0, OK, abi::MAX_LOG_DATA + 1]));
    assert_invalid(sys(n::EMIT_LOG, &[OK, u32::MAX, OK, 0]));
    assert_invalid(sys(n::SHA256, &[OK, abi::MAX_PRECOMPILE_INPUT + 1, OK]));
    assert_invalid(sys(n::BLAKE3, &[OK, u32::MAX, OK]));
    assert_invalid(sys(n::ED25519_VERIFY, &[OK, abi::MAX_PRECOMPILE_INPUT + 1, OK, OK]));
    // Exactly at the bound is fine (the bytes are readable zeros).
    let (result, _) = run_one(sys(n::RETURN, &[OK, abi::MAX_RETURN_DATA]));
    assert_eq!((result.status, result.output.len()), (StatusCode::Success, abi::MAX_RETURN_DATA as usize));
    // In-bound lengths whose range wraps trap too.
    assert_invalid(sys(n::RETURN, &[0xffff_0001, abi::MAX_RETURN_DATA]));
    assert_invalid(sys(n::EMIT_LOG, &[OK, 0, 0xffff_f001, abi::MAX_LOG_DATA]));
}

#[test]
fn unknown_host_syscalls_trap() {
    for number in [0x113, 0x1ff, 0x200, u32::MAX] {
        assert_invalid(sys(number, &[OK, OK, OK, OK, OK, OK]));
    }
}

#[test]
fn out_of_gas_inside_a_syscall_never_reaches_the_host() {
    // Enough for the instructions before the ECALL, not for the syscall.
    for op in [
        sys(n::STORAGE_WRITE, &[OK, OK + 32]),
        sys(n::CALL, &[OK, OK, 0, 0, 0, 1000]),
        sys(n::SPAWN, &[OK, OK, 4, OK + 64]),
        sys(n::EMIT_LOG, &[OK, 1, OK, 4]),
        sys(n::STATE_SIZE, &[]),
        sys(n::STATE_READ, &[OK, 0, 4]),
    ] {
        let mut host = Recorder::default();
        let msg = message(addr(1), &[], 150);
        let result = execute(&mut host, Revision::LATEST, &msg, &script(&[op], &[0; 64]));
        assert_eq!((result.status, result.gas_left), (StatusCode::OutOfGas, 0), "{op:?}");
        assert!(host.log.is_empty(), "{op:?}: {:?}", host.log);
        assert_eq!(host.state_fetches.get(), 0, "{op:?}");
    }
}

/// Deterministic pseudo-random syscalls over interesting argument values:
/// whatever happens, the engine returns a status and does not panic.
#[test]
fn random_syscalls_never_panic() {
    let values =
        [0, 1, 4, 24, 32, 0x0fff, GUARD, READ_ONLY, DATA, DATA + 0x1fff0, WRAP, u32::MAX, 0x8000_0000, 0x7fff_fff0];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..400 {
        let number = 0x100 + (next() % 0x14) as u32;
        let args: Vec<u32> = (0..6).map(|_| values[(next() % values.len() as u64) as usize]).collect();
        let (result, _) = run_one(sys(number, &args));
        assert!(!result.status.is_internal(), "{number:#x} {args:?}: {result:?}");
        if !result.status.returns_gas() {
            assert_eq!(result.gas_left, 0);
        }
    }
}
