//! Arbitrary bytes as a sequence of little-endian 32-bit words loaded at
//! 0x10000, in both register sets: decoding and execution must never panic,
//! every run must end in a defined way within its gas, and the reference
//! and fast engines must agree.
#![no_main]

use athena_vm::{CollectingEnvironment, Engine, Exit, Machine, MachineConfig, Program, RegisterSet};
use libfuzzer_sys::fuzz_target;

const BASE: u32 = 0x1_0000;
const CONFIG: MachineConfig = MachineConfig { gas_limit: 20_000, memory_limit: 1 << 20 };

fuzz_target!(|data: &[u8]| {
    let words: Vec<u32> = data.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    for registers in [RegisterSet::Rv32i, RegisterSet::Rv32e] {
        let program = match Program::from_words(BASE, &words, registers) {
            Ok(p) => p,
            // Only an empty program may be refused (no loadable bytes, so
            // the entry is not inside code).
            Err(e) => {
                assert!(words.is_empty(), "{} words refused: {e}", words.len());
                return;
            }
        };
        let run = |engine| {
            let mut machine = Machine::new(&program, CONFIG).expect("a small program fits");
            let mut env = CollectingEnvironment::with_input(b"fuzz".to_vec());
            let outcome = machine.run_with(engine, &mut env);
            (outcome, env, machine.registers().to_vec(), machine.pc())
        };
        let reference = run(Engine::Reference);
        let fast = run(Engine::Fast);
        assert_eq!(reference, fast, "engines disagree");
        let outcome = reference.0;
        assert!(outcome.gas_used <= CONFIG.gas_limit);
        if outcome.exit == Exit::OutOfGas {
            assert_eq!(outcome.gas_used, CONFIG.gas_limit);
        }
    }
});
