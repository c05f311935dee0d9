//! Nested calls through the host: recursion (`fib-call`), gas accounting,
//! the depth limit, and revert semantics for failing callees.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{execute_with, EngineConfig, DEFAULT_MAX_CALL_DEPTH};
use athena_interface::mock::MockHost;
use athena_interface::{ExecutionResult, Host, Message, Revision, StatusCode};
use common::*;

const FIB: [u64; 9] = [0, 1, 1, 2, 3, 5, 8, 13, 21];

fn fib_call(n: u32, config: EngineConfig) -> (ExecutionResult, MockHost) {
    let mut host = engine_host(config);
    install(&mut host, addr(0xf1), example("fib-call"));
    let result = run(&mut host, &config, addr(0xf1), &n.to_le_bytes(), 1_000_000_000);
    (result, host)
}

#[test]
fn fib_through_calls_is_correct_and_gas_adds_up() {
    let mut used = Vec::new();
    for (n, expected) in FIB.iter().enumerate() {
        let (result, host) = fib_call(n as u32, EngineConfig::default());
        assert_eq!(result.status, StatusCode::Success, "fib({n}): {result:?}");
        assert_eq!(result.output, expected.to_le_bytes(), "fib({n})");
        // fib(n) makes 2 * (fib(n + 1) - 1) calls for n >= 1.
        let calls = if n == 0 { 0 } else { 2 * (FIB.get(n + 1).copied().unwrap_or(34) - 1) as usize };
        assert_eq!(host.calls.len(), calls, "fib({n}) call count");
        assert!(host.calls.iter().all(|m| m.sender == addr(0xf1) && m.recipient == addr(0xf1)));
        assert_eq!(host.checkpoint_depth(), 0, "every frame resolved its checkpoint");
        used.push(result.gas_used(1_000_000_000));
    }
    // A frame for n >= 2 runs the same code path whatever n is, so its own
    // cost is a constant c and gas(n) = c + gas(n-1) + gas(n-2) exactly when
    // every callee's consumption is charged to its caller.
    let own: Vec<u64> = (2..FIB.len()).map(|n| used[n] - used[n - 1] - used[n - 2]).collect();
    assert!(own.windows(2).all(|w| w[0] == w[1]), "per-frame cost varies: {own:?}");
    assert!(own[0] > athena_engine::gas::CALL * 2);
}

#[test]
fn depth_limit_is_reported_to_the_caller_which_reverts() {
    let config = EngineConfig { max_call_depth: 3, ..EngineConfig::default() };
    // fib(4) reaches depth 3: fine.
    let (result, _) = fib_call(4, config);
    assert_eq!((result.status, result.output.as_slice()), (StatusCode::Success, &3u64.to_le_bytes()[..]));
    // fib(5) needs depth 4: the frame at depth 3 gets CallDepthExceeded
    // from its CALL (the engine refuses without asking the host), reverts
    // with that status, and every frame above propagates it.
    let (result, host) = fib_call(5, config);
    assert_eq!(result.status, StatusCode::Revert);
    assert_eq!(result.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
    assert!(result.gas_left > 0, "a revert returns unused gas");
    assert_eq!(host.calls.len(), 3, "the refused call never reached the host");
    assert_eq!(host.calls.iter().map(|m| m.depth).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(host.checkpoint_depth(), 0);
}

#[test]
fn default_depth_limit_is_reachable_with_large_n() {
    let (result, calls) = with_big_stack(|| {
        let (result, host) = fib_call(100, EngineConfig::default());
        (result, host.calls.len())
    });
    assert_eq!(result.status, StatusCode::Revert);
    assert_eq!(result.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
    assert_eq!(calls, DEFAULT_MAX_CALL_DEPTH as usize);
}

#[test]
fn message_deeper_than_the_limit_is_refused_with_its_gas() {
    let mut host = MockHost::new();
    let msg = Message { depth: DEFAULT_MAX_CALL_DEPTH + 1, ..message(addr(1), &[], 777) };
    let result = athena_engine::execute(&mut host, Revision::LATEST, &msg, &example("fib-call"));
    assert_eq!(result, ExecutionResult::not_started(StatusCode::CallDepthExceeded, 777));
}

/// Caller script: write slot 1, CALL `callee` (with `gas`), write slot 2,
/// then report. Data: callee address at 0, key1 at 32, key2 at 64, value at 96.
fn caller_script(gas: u32, value: u64) -> Vec<u8> {
    let mut steps = caller_steps(value, gas);
    steps.push(sys(n::RETURNDATA_COPY, &[DATA + 128, 0, 32]));
    script(&steps, &caller_data(addr(0xbb)))
}

/// Callee script: write slot 9 of its own account, then `last`.
fn callee_script(last: Op) -> Vec<u8> {
    script(&[sys(n::STORAGE_WRITE, &[DATA, DATA + 32]), last], &callee_data())
}

struct Nested {
    result: ExecutionResult,
    steps: Vec<(u32, u32)>,
    host: MockHost,
}

fn nested(callee: Vec<u8>, gas: u32, value: u64) -> Nested {
    let config = EngineConfig::default();
    let mut host = engine_host(config);
    install(&mut host, addr(0xaa), caller_script(gas, value));
    install(&mut host, addr(0xbb), callee);
    host.set_balance(addr(0xaa), 50);
    let result = run(&mut host, &config, addr(0xaa), &[], GAS);
    let steps = results(&result.output);
    Nested { result, steps, host }
}

fn assert_caller_continued(t: &Nested) {
    assert_eq!(t.result.status, StatusCode::Success, "{:?}", t.result);
    assert_eq!(t.host.get_storage(&addr(0xaa), &word(1)), word(0x77), "write before the call kept");
    assert_eq!(t.host.get_storage(&addr(0xaa), &word(2)), word(0x77), "write after the call kept");
    assert_eq!(t.host.checkpoint_depth(), 0);
}

#[test]
fn callee_success_keeps_its_writes_and_value() {
    let t = nested(callee_script(sys(n::RETURN, &[DATA + 64, 4])), 100_000, 20);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1], (StatusCode::Success as u32, 4));
    assert_eq!(t.steps[3].0, 4, "RETURNDATA_SIZE");
    assert_eq!(t.steps[4].0, 4, "RETURNDATA_COPY copied all of it");
    assert_eq!(t.host.get_storage(&addr(0xbb), &word(9)), word(0x99));
    assert_eq!((t.host.get_balance(&addr(0xaa)), t.host.get_balance(&addr(0xbb))), (30, 20));
    assert_eq!(t.host.calls[0].gas, 100_000, "asked-for gas forwarded when affordable");
    assert_eq!((t.host.calls[0].depth, t.host.calls[0].input.len()), (1, 4));
}

#[test]
fn panicking_callee_is_reverted_and_the_caller_continues() {
    // HALT with the runtime's panic exit code, after a storage write.
    let t = nested(callee_script(sys(0, &[101])), 100_000, 20);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1], (StatusCode::Failure as u32, 0));
    assert!(t.host.get_storage(&addr(0xbb), &word(9)).is_zero(), "callee's write undone");
    assert_eq!(t.host.get_balance(&addr(0xaa)), 50, "value transfer undone");

    // A real Rust panic in a guest behaves the same.
    let t = nested(example("panic"), athena_engine::abi::CALL_GAS_ALL, 0);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1].0, StatusCode::Failure as u32);
}

#[test]
fn out_of_gas_callee_is_reverted_and_costs_exactly_its_gas() {
    let t = nested(callee_script(Op::Loop), 50_000, 0);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1], (StatusCode::OutOfGas as u32, 0));
    assert!(t.host.get_storage(&addr(0xbb), &word(9)).is_zero());
    // Same caller, callee that returns at once: the difference in the
    // caller's consumption is the callee's whole allowance minus what the
    // quick callee used.
    let quick = nested(script(&[], &[]), 50_000, 0);
    let quick_callee = {
        let mut host = MockHost::new();
        let r =
            athena_engine::execute(&mut host, Revision::LATEST, &message(addr(0xbb), &[], 50_000), &script(&[], &[]));
        r.gas_used(50_000)
    };
    assert_eq!(quick.result.gas_used(GAS) - quick_callee + 50_000, t.result.gas_used(GAS));
}

#[test]
fn reverting_callee_returns_its_data_and_unused_gas() {
    let t = nested(callee_script(sys(n::REVERT, &[DATA + 64, 4])), 100_000, 0);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1], (StatusCode::Revert as u32, 4));
    assert!(t.host.get_storage(&addr(0xbb), &word(9)).is_zero());
    let mut host = engine_host(EngineConfig::default());
    install(&mut host, addr(0xbb), callee_script(sys(n::REVERT, &[DATA + 64, 4])));
    let revert = run(&mut host, &EngineConfig::default(), addr(0xbb), &[], 100_000);
    assert_eq!((revert.status, revert.output.as_slice()), (StatusCode::Revert, &b"nope"[..]));
    assert!(revert.gas_left > 0);
}

#[test]
fn insufficient_balance_is_refused_without_calling_the_host() {
    let t = nested(callee_script(sys(n::RETURN, &[DATA + 64, 4])), 100_000, 51);
    assert_caller_continued(&t);
    assert_eq!(t.steps[1], (StatusCode::InsufficientBalance as u32, 0));
    assert_eq!(t.steps[3].0, 0, "no return data");
    assert!(t.host.calls.is_empty());
}

/// Runs the caller script against a canned callee result.
fn canned(result: ExecutionResult, gas: u32) -> (ExecutionResult, Vec<Message>) {
    let mut host = MockHost::new();
    host.set_call_handler(move |_, msg| ExecutionResult { gas_left: result.gas_left.min(msg.gas), ..result.clone() });
    let config = EngineConfig::default();
    let code = caller_script(gas, 0);
    let r = execute_with(&config, &mut host, Revision::LATEST, &message(addr(0xaa), &[], GAS), &code);
    (r, host.calls.clone())
}

#[test]
fn callee_gas_is_charged_to_the_caller_and_forwarding_keeps_one_64th() {
    let (free, calls) = canned(ExecutionResult::success(u64::MAX, vec![]), 200_000);
    assert_eq!(calls[0].gas, 200_000);
    let (costly, _) = canned(ExecutionResult::success(200_000 - 12_345, vec![]), 200_000);
    assert_eq!(costly.gas_used(GAS) - free.gas_used(GAS), 12_345);
    // Failures other than revert consume the whole allowance, whatever
    // gas_left the host claims.
    let (failed, _) = canned(ExecutionResult::new(StatusCode::Failure, 199_000, vec![]), 200_000);
    assert_eq!(failed.gas_used(GAS) - free.gas_used(GAS), 200_000);
    // Asking for everything forwards all but 1/64 of what is left.
    let (all, calls) = canned(ExecutionResult::success(0, vec![]), athena_engine::abi::CALL_GAS_ALL);
    let forwarded = calls[0].gas;
    let approx = (forwarded * 64).div_ceil(63);
    let available = (approx - 2..=approx + 2).find(|a| a - a / 64 == forwarded).expect("forwarded = a - a/64");
    assert!(GAS - available < 20_000, "only the caller's own costs were kept back: {available}");
    assert_eq!(all.status, StatusCode::Success, "the caller kept gas to finish");
    assert!(all.gas_left > 0);
}

#[test]
fn internal_error_from_the_host_stops_the_frame() {
    let (r, _) = canned(ExecutionResult::failure(StatusCode::InternalError), 1_000);
    assert_eq!((r.status, r.gas_left), (StatusCode::InternalError, 0));
}

#[test]
fn nested_failure_reverts_the_whole_subtree() {
    // A calls B; B calls C (which writes and succeeds), then B panics.
    let config = EngineConfig::default();
    let mut host = engine_host(config);
    let mut b_data = vec![0u8; 64];
    b_data[..24].copy_from_slice(addr(0xcc).as_bytes());
    install(&mut host, addr(0xbb), script(&[sys(n::CALL, &[DATA, DATA, 0, 0, 0, 100_000]), sys(0, &[101])], &b_data));
    install(&mut host, addr(0xcc), callee_script(sys(n::RETURN, &[DATA, 0])));
    install(&mut host, addr(0xaa), caller_script(500_000, 0));
    let result = run(&mut host, &config, addr(0xaa), &[], GAS);
    assert_eq!(result.status, StatusCode::Success);
    assert_eq!(results(&result.output)[1].0, StatusCode::Failure as u32);
    assert_eq!(host.calls.len(), 2, "C did run");
    assert!(host.get_storage(&addr(0xcc), &word(9)).is_zero(), "C's committed write undone with B");
    assert_eq!(host.get_storage(&addr(0xaa), &word(2)), word(0x77));
}
