//! Tiered execution (the default): a frame that switches from the fast
//! interpreter to native code mid-call ends exactly like the reference
//! engine — result, gas left, exit, instruction count, output, and the
//! host's world and call record — wherever the switch lands, including
//! right before an out-of-gas and before traps; a program that gets hot
//! is compiled in the background, exactly once, and its frames pick the
//! native code up at entry and mid-call.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{
    execute_switching_after, execute_traced, program_stats, wait_for_background_compiles, EngineConfig, Trace,
    DEFAULT_JIT_THRESHOLD,
};
use athena_interface::mock::{MockHost, MockWrapper};
use athena_interface::{Address, Host};
use athena_interface::{Message, Revision, StatusCode};
use athena_test_elf::{asm, ElfBuilder, PF_R, PF_W};
use athena_vm::syscall::number::HALT;
use athena_vm::Engine;
use common::*;
use std::sync::Barrier;
use std::time::Duration;

/// How long a test waits for the background compiler (a compile takes
/// well under a second even on a loaded machine).
const COMPILES: Duration = Duration::from_secs(120);

fn reference() -> EngineConfig {
    EngineConfig { vm_engine: Engine::Reference, ..EngineConfig::default() }
}

/// Runs `code` at `addr(0xc0)` as the top frame, with a host whose nested
/// frames re-enter the engine with `config`; returns the trace and the
/// host's world (accounts, logs, every nested message).
fn frame(code: &[u8], input: &[u8], gas: u64, switch: Option<u64>) -> (Trace, String) {
    let config = if switch.is_some() { EngineConfig::default() } else { reference() };
    let mut host = engine_host(config);
    install(&mut host, addr(0xc0), code.to_vec());
    let message = message(addr(0xc0), input, gas);
    let trace = match switch {
        Some(slice) => execute_switching_after(slice, &config, &mut host, Revision::LATEST, &message, code),
        None => execute_traced(&config, &mut host, Revision::LATEST, &message, code),
    };
    (trace, format!("{:?}", host.state))
}

/// Compares the reference run at `gas` with runs switching after each of
/// `slices`.
fn assert_switches(name: &str, code: &[u8], input: &[u8], gas: u64, slices: impl IntoIterator<Item = u64>) {
    let expected = frame(code, input, gas, None);
    for slice in slices {
        let switched = frame(code, input, gas, Some(slice));
        assert_eq!(switched, expected, "{name}: gas {gas}, switch after {slice}");
    }
}

/// The least gas the reference run needs to end other than out of gas
/// (a failure reports no gas left, so it is searched for).
fn needed(code: &[u8], input: &[u8]) -> u64 {
    let (mut lo, mut hi) = (0, 1_000_000_000);
    let result = frame(code, input, hi, None).0.result;
    if result.status == StatusCode::Success {
        return hi - result.gas_left;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if frame(code, input, mid, None).0.result.status == StatusCode::OutOfGas {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Switch points over the whole run (every one of the first 100, then 100
/// spread to `end`, then the last 20), and out of gas near them: the gas
/// limit at, just above and just below several switch points.
fn sweep(name: &str, code: &[u8], input: &[u8]) {
    const GAS: u64 = 1_000_000_000;
    let end = needed(code, input);
    let spread = (0..=100).map(|k| end * k / 100);
    let slices: Vec<u64> = (0..100).chain(spread).chain(end.saturating_sub(20)..end + 2).collect();
    assert_switches(name, code, input, GAS, slices);
    for limit in [end - 1, end / 2, end / 3 + 7, 130, 65] {
        let slices = [limit, limit - 1, limit - 2, limit - 3, limit / 2, limit.saturating_sub(64)];
        assert_switches(name, code, input, limit, slices);
    }
    if athena_jit::is_supported() {
        assert!(program_stats(code).is_ok_and(|s| s.compiled), "{name}: never compiled");
    }
}

#[test]
fn switching_mid_call_matches_the_reference_on_examples() {
    let status = |name: &str, input: &[u8]| frame(&example(name), input, 1_000_000_000, None).0.result.status;
    for (name, input) in [
        ("fib", 15u32.to_le_bytes().to_vec()),
        ("sieve", 3000u32.to_le_bytes().to_vec()),
        ("hello", Vec::new()),
        ("panic", Vec::new()),
        ("exit-code", 3u32.to_le_bytes().to_vec()),
        ("exit-code", 0u32.to_le_bytes().to_vec()),
        ("storage-rw", [[7u8; 32], [9u8; 32]].concat()),
        // Nested frames: `CALL` forwards a share of the gas left, which
        // must not see the interpreter's slice.
        ("fib-call", 6u32.to_le_bytes().to_vec()),
    ] {
        sweep(name, &example(name), &input);
    }
    assert_eq!(status("panic", &[]), StatusCode::Failure);
    assert_eq!(status("exit-code", &3u32.to_le_bytes()), StatusCode::Failure);
}

/// sha256 of 64 KiB: 6.8 million instructions, too many to sweep; switch
/// at a few points and run out of gas near the end.
#[test]
fn switching_mid_call_matches_the_reference_on_a_long_call() {
    let code = example("sha256");
    let gas = 1_000_000_000;
    let end = needed(&code, &[]);
    assert_switches("sha256", &code, &[], gas, [0, 1, 1000, end / 3, end - 1, end]);
    assert_switches("sha256", &code, &[], end - 1, [end / 2, end - 2, end - 1]);
}

/// A loop that writes `iterations` words `stride` bytes apart in the data
/// segment (with a stride of 1 KiB, a fresh page, with its charge, every
/// fourth), then `tail`.
fn looping(iterations: u32, stride: i32, tail: &[u32]) -> Vec<u8> {
    const TEXT: u32 = 0x1_0000;
    const DATA: u32 = 0x2_0000;
    let mut text = Vec::new();
    text.extend(asm::li(asm::A0, iterations));
    text.extend(asm::li(asm::A1, DATA));
    text.extend([
        asm::sw(asm::A0, asm::A1, 0),
        asm::addi(asm::A1, asm::A1, stride),
        asm::addi(asm::A0, asm::A0, -1),
        asm::b_type(-12, 0, asm::A0, 1), // bne a0, x0, loop
    ]);
    text.extend(tail);
    ElfBuilder::new(TEXT).text(TEXT, &text).segment(DATA, PF_R | PF_W, vec![1; 4], 0x10_0000).build()
}

/// `RETURN` of the first 64 bytes the loop wrote.
fn returning() -> Vec<u32> {
    [asm::li(asm::A0, 0x2_0000), asm::li(asm::A1, 4096 + 64), asm::li(asm::T0, n::RETURN)]
        .concat()
        .into_iter()
        .chain([asm::ECALL])
        .collect()
}

#[test]
fn switching_before_out_of_gas_and_traps_matches_the_reference() {
    let tails: [(&str, Vec<u32>); 8] = [
        ("return", returning()),
        ("ebreak", vec![asm::EBREAK]),
        ("illegal", vec![asm::UNIMP]),
        ("guard load", vec![asm::lw(asm::A2, 0, 0x10)]),
        ("misaligned load", vec![asm::lw(asm::A2, asm::A1, 2)]),
        ("store to code", [asm::li(asm::A3, 0x1_0000).to_vec(), vec![asm::sw(asm::A0, asm::A3, 0)]].concat()),
        (
            "jump out of code",
            [asm::li(asm::A3, 0x5000_0000).to_vec(), vec![asm::i_type(0, asm::A3, 0, 0, 0x67)]].concat(),
        ),
        ("halt 5", [asm::li(asm::A0, 5), asm::li(asm::T0, HALT)].concat().into_iter().chain([asm::ECALL]).collect()),
    ];
    for (name, tail) in tails {
        let code = looping(24, 1024, &tail);
        let end = needed(&code, &[]);
        // Every switch point of the whole run.
        assert_switches(name, &code, &[], 1_000_000, 0..end + 2);
        // Out of gas everywhere, switching at, just before and well before
        // the gas limit (and a page's price before it).
        for limit in 0..end + 2 {
            let slices = [limit, limit.saturating_sub(1), limit.saturating_sub(2), limit / 2, limit.saturating_sub(66)];
            assert_switches(name, &code, &[], limit, slices);
        }
    }
}

/// Calls `code` once with the default (tiered) policy; checks it against
/// the reference engine.
fn call_tiered(code: &[u8]) -> Trace {
    let (expected, world) = frame(code, &[], 10_000_000, None);
    let mut host = engine_host(EngineConfig::default());
    install(&mut host, addr(0xc0), code.to_vec());
    let message: Message = message(addr(0xc0), &[], 10_000_000);
    let trace = execute_traced(&EngineConfig::default(), &mut host, Revision::LATEST, &message, code);
    assert_eq!((&trace, format!("{:?}", host.state)), (&expected, world));
    trace
}

#[test]
fn a_program_hot_across_calls_compiles_once_in_the_background() {
    // A program no other test runs (the cache and its counts are per
    // process).
    let code = looping(7, 1024, &returning());
    let stats = || program_stats(&code).expect("loads");
    let threshold = stats().slots * u64::from(DEFAULT_JIT_THRESHOLD);
    let mut calls = 0;
    while !(stats().queued || stats().compiled) {
        let before = stats();
        let trace = call_tiered(&code);
        assert_eq!(trace.result.status, StatusCode::Success);
        calls += 1;
        if !athena_jit::is_supported() {
            assert_eq!(stats().interpreted, before.interpreted + trace.instructions);
            assert!(!stats().queued);
            return;
        }
        // Interpreted until the count reaches the threshold, at entry or
        // by the frame's slice (measured in gas, which is more than the
        // instructions); then queued for the background compiler.
        assert!(before.interpreted < threshold);
        assert_eq!(before.compilations, 0);
        assert!(stats().interpreted <= before.interpreted + trace.instructions);
        assert!(calls < 1000, "never queued: {:?}", stats());
    }
    assert!(calls > 2, "queued after {calls} calls: {:?}", stats());
    assert!(wait_for_background_compiles(COMPILES), "background compile did not finish: {:?}", stats());
    let hot = stats();
    assert!(hot.compiled && !hot.queued, "{hot:?}");
    assert_eq!(hot.compilations, 1);
    // Further calls, from several threads at once, run the compiled code
    // from entry: nothing more is interpreted or compiled.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..20 {
                    call_tiered(&code);
                }
            });
        }
    });
    assert_eq!(stats(), hot);
}

#[test]
fn concurrent_calls_of_a_program_getting_hot_compile_it_once() {
    let code = looping(9, 1024, &returning());
    let stats = || program_stats(&code).expect("loads");
    let threshold = stats().slots * u64::from(DEFAULT_JIT_THRESHOLD);
    // Enough calls per thread for each one alone to make it hot, all
    // threads starting together, so several frames find it hot at once.
    let calls = threshold / 30 + 10;
    let start = Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                start.wait();
                for _ in 0..calls {
                    assert_eq!(call_tiered(&code).result.status, StatusCode::Success);
                }
            });
        }
    });
    assert!(wait_for_background_compiles(COMPILES), "background compile did not finish: {:?}", stats());
    let stats = stats();
    assert!(!stats.queued, "{stats:?}");
    if athena_jit::is_supported() {
        assert!(stats.compiled, "{stats:?}");
        assert_eq!(stats.compilations, 1, "{stats:?}");
    } else {
        assert_eq!((stats.compiled, stats.compilations), (false, 0));
    }
}

/// A host whose `GET_BALANCE` waits for the background compiler first (so
/// a frame that queued its program gets the native code at its next slice
/// boundary, whatever the machine's speed).
struct WaitingHost {
    inner: MockHost,
    /// Waits that finished (and calls that waited, ended or not).
    waits: std::cell::Cell<(u32, u32)>,
}

impl MockWrapper for WaitingHost {
    fn mock(&self) -> &MockHost {
        &self.inner
    }
    fn mock_mut(&mut self) -> &mut MockHost {
        &mut self.inner
    }
    fn get_balance(&self, address: &Address) -> u64 {
        let (finished, calls) = self.waits.get();
        self.waits.set((finished + u32::from(wait_for_background_compiles(COMPILES)), calls + 1));
        self.inner.get_balance(address)
    }
}

#[test]
fn a_long_call_switches_to_native_code_mid_call() {
    // 20,000 instructions (more than the threshold) on the interpreter,
    // GET_BALANCE, then a 4-million-instruction loop, then RETURN.
    let mut tail = [asm::li(asm::A0, 0), asm::li(asm::T0, n::GET_BALANCE)].concat();
    tail.push(asm::ECALL);
    tail.extend(asm::li(asm::A2, 2_000_000));
    tail.extend([asm::addi(asm::A2, asm::A2, -1), asm::b_type(-4, 0, asm::A2, 1)]);
    tail.extend(returning());
    let code = looping(5_000, 0, &tail);
    let gas = 100_000_000;
    let (expected, world) = frame(&code, &[], gas, None);
    assert_eq!(expected.result.status, StatusCode::Success);

    let mut host = WaitingHost { inner: engine_host(EngineConfig::default()), waits: Default::default() };
    install(&mut host.inner, addr(0xc0), code.clone());
    let message = message(addr(0xc0), &[], gas);
    let trace = execute_traced(&EngineConfig::default(), &mut host, Revision::LATEST, &message, &code);
    assert_eq!((&trace, format!("{:?}", host.inner.state)), (&expected, world));
    assert_eq!(host.waits.get(), (1, 1), "GET_BALANCE ran once and its wait finished");
    let stats = program_stats(&code).expect("loads");
    if athena_jit::is_supported() {
        // Hot during the first loop (queued), compiled while the host
        // waited, picked up at the next slice boundary of the second loop:
        // most of that loop ran natively.
        assert!(stats.compiled && !stats.queued, "{stats:?}");
        assert_eq!(stats.compilations, 1);
        assert!(stats.interpreted > stats.slots * u64::from(DEFAULT_JIT_THRESHOLD), "{stats:?}");
        assert!(stats.interpreted < trace.instructions / 10, "{stats:?} of {}", trace.instructions);
    } else {
        assert_eq!(stats.interpreted, trace.instructions);
    }
}

#[test]
fn the_recompiler_is_on_by_default_and_can_be_turned_off() {
    let config = EngineConfig::default();
    assert!(config.use_jit);
    assert_eq!(config.jit_threshold, DEFAULT_JIT_THRESHOLD);
    // Off: never compiled, however hot.
    let code = looping(50_000, 0, &returning());
    let off = EngineConfig { use_jit: false, ..config };
    let mut host = MockHost::new();
    let trace = execute_traced(&off, &mut host, Revision::LATEST, &message(addr(0xc0), &[], 10_000_000), &code);
    assert_eq!(trace, frame(&code, &[], 10_000_000, None).0);
    let stats = program_stats(&code).expect("loads");
    assert_eq!((stats.compiled, stats.compilations), (false, 0));
}
