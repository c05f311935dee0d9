//! The recompiler (`EngineConfig::use_jit`, on by default: tiered, or
//! compiling on first use with `jit_threshold` 0) and the fast interpreter
//! give identical frames: nested `fib-call` frames, each run by the engine
//! selected, agree on result, gas, exit, instruction count and every call
//! the host saw.

mod common;

use athena_engine::{execute_traced, EngineConfig};
use athena_interface::{Revision, StatusCode};
use common::*;

#[test]
fn fib_call_is_identical_with_jit_and_fast_interpreter() {
    let tiered = EngineConfig::default();
    assert!(tiered.use_jit, "the recompiler is on by default (tiered)");
    let jit = EngineConfig { jit_threshold: 0, ..tiered };
    let fast = EngineConfig { use_jit: false, ..tiered };
    for n in [0u32, 1, 5, 8] {
        let trace = |config: EngineConfig| {
            let mut host = engine_host(config);
            install(&mut host, addr(0xf1), example("fib-call"));
            let message = message(addr(0xf1), &n.to_le_bytes(), 1_000_000_000);
            let trace = execute_traced(&config, &mut host, Revision::LATEST, &message, &example("fib-call"));
            (trace, host.calls.clone())
        };
        let (with_jit, calls_jit) = trace(jit);
        let (with_fast, calls_fast) = trace(fast);
        assert_eq!(trace(tiered), (with_fast.clone(), calls_fast.clone()), "fib({n}) tiered");
        assert_eq!(with_jit.result.status, StatusCode::Success, "fib({n}): {:?}", with_jit.result);
        assert_eq!(with_jit, with_fast, "fib({n})");
        assert_eq!(with_jit.result.gas_left, with_fast.result.gas_left, "fib({n}) gas");
        assert_eq!(calls_jit, calls_fast, "fib({n}) nested calls");
    }
    // Out of gas part-way: still identical.
    for gas in [1_000, 20_000, 100_000] {
        let run = |config: EngineConfig| {
            let mut host = engine_host(config);
            install(&mut host, addr(0xf1), example("fib-call"));
            let message = message(addr(0xf1), &8u32.to_le_bytes(), gas);
            execute_traced(&config, &mut host, Revision::LATEST, &message, &example("fib-call"))
        };
        assert_eq!(run(jit), run(fast), "fib(8) with gas {gas}");
        assert_eq!(run(tiered), run(fast), "fib(8) with gas {gas}, tiered");
    }
}
