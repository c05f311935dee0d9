//! `Call` frames through the runtime: value transfers, real guests
//! (`storage-rw`, `fib-call`), nested calls whose failure is reverted while
//! the caller continues, logs, and the sender's template.

mod common;

use athena_engine::abi::number as n;
use athena_engine::EngineConfig;
use athena_interface::{Address, Bytes32, ExecutionResult, StatusCode};
use athena_runtime::Log;
use common::*;

const ALICE: Address = Address::new([0xa1; 24]);
const BOB: Address = Address::new([0xb0; 24]);
const CALLER: Address = Address::new([0xaa; 24]);
const CALLEE: Address = Address::new([0xbb; 24]);

#[test]
fn value_to_an_account_without_code_is_a_plain_transfer() {
    let mut world = World::default();
    world.fund(ALICE, 100);
    let (result, effects) = world.call(ALICE, BOB, b"ignored", 30);
    assert_eq!(result, ExecutionResult::success(GAS, Vec::new()), "no code runs, no gas is used");
    assert_eq!((world.balance(&ALICE), world.balance(&BOB)), (70, 30));
    assert_eq!(effects.changes.accounts.keys().collect::<Vec<_>>(), [&ALICE, &BOB]);

    let (result, effects) = world.call(ALICE, BOB, &[], 71);
    assert_eq!(result, ExecutionResult::not_started(StatusCode::InsufficientBalance, GAS));
    assert!(effects.changes.is_empty());

    // A zero-value call to a missing account creates nothing.
    let (result, effects) = world.call(ALICE, addr(0x77), &[], 0);
    assert!(result.is_success());
    assert!(effects.changes.is_empty() && !world.exists(&addr(0x77)));
}

#[test]
fn templates_are_not_callable() {
    let mut world = World::default();
    let template = world.deploy(&example("storage-rw"));
    world.fund(ALICE, 10);
    let (result, effects) = world.call(ALICE, template, &[], 1);
    assert_eq!(result.status, StatusCode::Failure);
    assert!(effects.changes.is_empty());
    assert_eq!(world.balance(&ALICE), 10);
}

#[test]
fn a_program_runs_its_template_code_with_the_value() {
    let mut world = World::default();
    world.install(CALLEE, &example("storage-rw"), b"");
    world.fund(ALICE, 50);
    let mut input = [0x42u8; 64];
    input[32..].fill(0x43);
    let (result, effects) = world.call(ALICE, CALLEE, &input, 20);
    assert_eq!((result.status, result.output.as_slice()), (StatusCode::Success, &[0x43; 32][..]));
    assert!(result.gas_left < GAS);
    assert_eq!(world.storage(&CALLEE, &word(0x42)), word(0x43));
    assert_eq!((world.balance(&ALICE), world.balance(&CALLEE)), (30, 20));
    assert_eq!(effects.changes.storage.len(), 1);
}

#[test]
fn fib_call_recurses_through_the_runtime() {
    let mut world = World::default();
    world.install(CALLEE, &example("fib-call"), b"");
    for (n, expected) in [(0u32, 0u64), (1, 1), (2, 1), (8, 21)] {
        let (result, effects) = world.call(ALICE, CALLEE, &n.to_le_bytes(), 0);
        assert_eq!(result.status, StatusCode::Success, "fib({n}): {result:?}");
        assert_eq!(result.output, expected.to_le_bytes(), "fib({n})");
        assert!(effects.changes.is_empty(), "fib-call changes no state");
    }
}

#[test]
fn a_failure_deep_in_a_call_chain_reverts_everything_including_the_value() {
    let mut world = World { config: EngineConfig { max_call_depth: 3, ..EngineConfig::default() }, ..World::default() };
    world.install(CALLEE, &example("fib-call"), b"");
    world.fund(ALICE, 9);
    let (result, effects) = world.call(ALICE, CALLEE, &5u32.to_le_bytes(), 9);
    assert_eq!(result.status, StatusCode::Revert);
    assert_eq!(result.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
    assert!(result.gas_left > 0);
    assert!(effects.changes.is_empty(), "{:?}", effects.changes);
    assert_eq!((world.balance(&ALICE), world.balance(&CALLEE)), (9, 0));
}

#[test]
fn the_default_depth_limit_is_reachable() {
    let result = with_big_stack(|| {
        let mut world = World::default();
        world.install(CALLEE, &example("fib-call"), b"");
        world.call(ALICE, CALLEE, &100u32.to_le_bytes(), 0).0
    });
    assert_eq!(result.status, StatusCode::Revert);
    assert_eq!(result.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
}

/// Caller script: write slot 1, CALL `CALLEE` with `value`, write slot 2,
/// RETURNDATA_SIZE. Data: callee at 0, key1 at 32, key2 at 64, value at 96.
fn caller_script(value: u64) -> Vec<u8> {
    script(&caller_steps(value, athena_engine::abi::CALL_GAS_ALL), &caller_data(CALLEE))
}

/// Callee script: emit a log, write slot 9 = 0x99, then `last`.
fn callee_script(last: Op) -> Vec<u8> {
    let steps = [sys(n::EMIT_LOG, &[DATA, 1, DATA + 64, 4]), sys(n::STORAGE_WRITE, &[DATA, DATA + 32]), last];
    script(&steps, &callee_data())
}

/// Runs the caller script against `callee`, with 50 coins and value 20.
fn nested(callee: Vec<u8>) -> (World, Vec<(u32, u32)>, Vec<Log>) {
    let mut world = World::default();
    world.install(CALLER, &caller_script(20), b"");
    world.install(CALLEE, &callee, b"");
    world.fund(CALLER, 50);
    let (result, effects) = world.call(ALICE, CALLER, &[], 0);
    assert_eq!(result.status, StatusCode::Success, "the caller continues: {result:?}");
    assert_eq!(world.storage(&CALLER, &word(1)), word(0x77), "write before the call kept");
    assert_eq!(world.storage(&CALLER, &word(2)), word(0x77), "write after the call kept");
    (world, results(&result.output), effects.logs)
}

#[test]
fn a_succeeding_callee_keeps_its_writes_logs_and_value() {
    let (world, steps, logs) = nested(callee_script(sys(n::RETURN, &[DATA + 64, 4])));
    assert_eq!(steps[1], (StatusCode::Success as u32, 4));
    assert_eq!(world.storage(&CALLEE, &word(9)), word(0x99));
    assert_eq!((world.balance(&CALLER), world.balance(&CALLEE)), (30, 20));
    assert_eq!(logs, [Log { address: CALLEE, topics: vec![word(9)], data: b"nope".to_vec() }]);
}

#[test]
fn a_reverting_or_panicking_callee_is_undone_and_the_caller_continues() {
    for (last, status, len) in [
        (sys(n::REVERT, &[DATA + 64, 4]), StatusCode::Revert, 4),
        (sys(0, &[101]), StatusCode::Failure, 0), // HALT 101: a Rust panic
    ] {
        let (world, steps, logs) = nested(callee_script(last));
        assert_eq!(steps[1], (status as u32, len), "{status}");
        assert_eq!(world.storage(&CALLEE, &word(9)), Bytes32::ZERO, "{status}: callee write undone");
        assert_eq!((world.balance(&CALLER), world.balance(&CALLEE)), (50, 0), "{status}: value returned");
        assert!(logs.is_empty(), "{status}: callee log discarded");
        assert!(!world.exists(&ALICE), "a zero-value top-level call creates no sender account");
    }
}

/// A callee that returns its 88-byte context record; a caller that calls
/// it and returns what it got.
fn context_pair() -> World {
    let mut world = World::default();
    let callee = script(&[sys(n::GET_CONTEXT, &[DATA]), sys(n::RETURN, &[DATA, 88])], &[]);
    let mut data = vec![0u8; 32];
    data[..24].copy_from_slice(CALLEE.as_bytes());
    let caller = script(
        &[
            sys(n::CALL, &[DATA, DATA, 0, 0, 0, athena_engine::abi::CALL_GAS_ALL]),
            sys(n::RETURNDATA_COPY, &[DATA + 0x100, 0, 88]),
            sys(n::RETURN, &[DATA + 0x100, 88]),
        ],
        &data,
    );
    world.install(CALLEE, &callee, b"");
    world.install(CALLER, &caller, b"");
    world
}

#[test]
fn the_runtime_fills_in_the_senders_template() {
    let mut world = context_pair();
    let caller_template = world.template_of(&CALLER).unwrap();
    let (direct, _) = world.call(ALICE, CALLEE, &[], 0);
    let (via, _) = world.call(ALICE, CALLER, &[], 0);
    use athena_engine::abi::context as c;
    assert_eq!(&direct.output[c::CALLER..c::CALLER_TEMPLATE], ALICE.as_bytes());
    assert_eq!(&direct.output[c::CALLER_TEMPLATE..c::VALUE], Address::ZERO.as_bytes(), "ALICE is no program");
    assert_eq!(&via.output[c::CALLER..c::CALLER_TEMPLATE], CALLER.as_bytes());
    assert_eq!(&via.output[c::CALLER_TEMPLATE..c::VALUE], caller_template.as_bytes());
    assert_eq!(via.output[c::DEPTH], 1);
}

#[test]
fn block_hashes_and_tx_context_come_from_the_env() {
    let mut world = World::default();
    world.env.block_hashes.insert(7, word(7));
    world.env.tx.block_height = 8;
    world.env.tx.origin = ALICE;
    let code = script(
        &[
            sys(n::GET_BLOCK_HASH, &[7, 0, DATA]),
            sys(n::GET_BLOCK_HASH, &[8, 0, DATA + 32]),
            sys(n::GET_TX_CONTEXT, &[DATA + 64]),
            sys(n::RETURN, &[DATA, 64 + 88]),
        ],
        &[],
    );
    world.install(CALLEE, &code, b"");
    let (result, _) = world.call(ALICE, CALLEE, &[], 0);
    assert_eq!(&result.output[..32], word(7).as_bytes());
    assert_eq!(&result.output[32..64], Bytes32::ZERO.as_bytes(), "unknown heights read as zero");
    use athena_engine::abi::tx_context as t;
    let tx = &result.output[64..];
    assert_eq!(&tx[t::ORIGIN..t::BLOCK_HEIGHT], ALICE.as_bytes());
    assert_eq!(tx[t::BLOCK_HEIGHT], 8);
}
