//! A program evicted from the process-wide cache while one of its frames
//! is running (its callee's load pushed it out) finishes that frame
//! unharmed, natively compiled or interpreted, with exactly the result and
//! gas of a run with room to spare; the evicted program is reloaded by its
//! next frame.
//!
//! The cache is process-wide, so this file (its own test process) has one
//! test, which owns it. Eviction is made deterministic by bounding the
//! cache to one program: the callee's load must evict the caller.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{
    program_cache_stats, program_stats, set_program_cache_bounds, wait_for_background_compiles, EngineConfig,
};
use athena_interface::mock::MockHost;
use athena_interface::{ExecutionResult, Host, StatusCode};
use common::*;
use std::time::Duration;

/// How long the test waits for the background compiler (these programs
/// compile in well under a second even on a loaded machine).
const COMPILES: Duration = Duration::from_secs(120);

/// Caller script: write slot 1, CALL the callee at `0xbb`, write slot 2,
/// copy the callee's return data: every step after the CALL runs after the
/// callee's load evicted the caller.
fn caller() -> Vec<u8> {
    let mut steps = caller_steps(0, 100_000);
    steps.push(sys(n::RETURNDATA_COPY, &[DATA + 128, 0, 4]));
    script(&steps, &caller_data(addr(0xbb)))
}

/// Callee script: write slot 9 of its own account, return `b"nope"`.
fn callee() -> Vec<u8> {
    script(&[sys(n::STORAGE_WRITE, &[DATA, DATA + 32]), sys(n::RETURN, &[DATA + 64, 4])], &callee_data())
}

/// Runs the caller at `0xaa` (which calls the callee at `0xbb`) on a fresh
/// world; the result and the host afterwards.
fn nested(config: &EngineConfig, caller: &[u8], callee: &[u8]) -> (ExecutionResult, MockHost) {
    let mut host = engine_host(*config);
    install(&mut host, addr(0xaa), caller.to_vec());
    install(&mut host, addr(0xbb), callee.to_vec());
    let result = run(&mut host, config, addr(0xaa), &[], GAS);
    (result, host)
}

/// The frame's effects: the caller's writes before and after the call,
/// the callee's write, nothing left open.
fn assert_effects(host: &MockHost, when: &str) {
    assert_eq!(host.get_storage(&addr(0xaa), &word(1)), word(0x77), "{when}: caller's write before the call");
    assert_eq!(host.get_storage(&addr(0xaa), &word(2)), word(0x77), "{when}: caller's write after the call");
    assert_eq!(host.get_storage(&addr(0xbb), &word(9)), word(0x99), "{when}: callee's write");
    assert_eq!(host.checkpoint_depth(), 0, "{when}");
}

#[test]
fn a_caller_evicted_by_its_callee_mid_frame_finishes_alike_and_is_reloaded_next_time() {
    // Every program is queued for the background compiler at its first
    // frame; once compiled, frames run natively from entry.
    let config = EngineConfig { jit_threshold: 0, ..EngineConfig::default() };
    let native = athena_jit::is_supported();
    let (caller, callee) = (caller(), callee());

    // Reference: room for both, first interpreted, then compiled.
    let (reference, host) = nested(&config, &caller, &callee);
    assert_eq!(reference.status, StatusCode::Success, "{reference:?}");
    assert_effects(&host, "reference");
    let steps = results(&reference.output);
    assert_eq!(steps[1], (StatusCode::Success as u32, 4), "the CALL succeeded with 4 bytes of output");
    assert!(wait_for_background_compiles(COMPILES));
    assert_eq!(program_stats(&caller).expect("cached").compiled, native);
    let (compiled, host) = nested(&config, &caller, &callee);
    assert_eq!(compiled, reference, "compiled, room for both");
    assert_effects(&host, "compiled, room for both");

    // Room for one program, the caller (touched last), compiled: its next
    // frame starts natively, and loading the callee evicts it mid-frame.
    program_stats(&caller).expect("cached");
    set_program_cache_bounds(1, usize::MAX);
    let before = program_cache_stats();
    assert_eq!(before.programs, 1);
    assert_eq!(program_stats(&caller).expect("cached").compiled, native, "the caller kept, still compiled");
    assert_eq!(program_cache_stats().misses, before.misses, "the caller was the one kept");

    let (evicted, host) = nested(&config, &caller, &callee);
    assert_eq!(evicted, reference, "caller evicted during its own frame");
    assert_effects(&host, "caller evicted during its own frame");
    let after = program_cache_stats();
    assert_eq!(after.misses, before.misses + 1, "only the callee was loaded: {after:?}");
    assert_eq!(after.programs, 1);
    assert!(wait_for_background_compiles(COMPILES));

    // The callee is what is cached now; the caller was evicted and its
    // next frame reloads it (interpreted again, as a fresh program).
    let misses = program_cache_stats().misses;
    assert!(program_stats(&callee).is_ok());
    assert_eq!(program_cache_stats().misses, misses, "the callee is the cached one");
    let reloaded = program_stats(&caller).expect("loads");
    assert_eq!(program_cache_stats().misses, misses + 1, "the caller had been evicted");
    assert!(!reloaded.compiled, "a reloaded program starts without native code");

    // From here each load evicts the other program: the first round finds
    // the caller cached and loads the callee, later ones load both.
    for round in 0..3u64 {
        let misses = program_cache_stats().misses;
        let (again, host) = nested(&config, &caller, &callee);
        assert_eq!(again, reference, "round {round}");
        assert_effects(&host, &format!("round {round}"));
        let loads = if round == 0 { 1 } else { 2 };
        assert_eq!(program_cache_stats().misses, misses + loads, "round {round}: programs reloaded");
        assert!(wait_for_background_compiles(COMPILES));
    }
}
