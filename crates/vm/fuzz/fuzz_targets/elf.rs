//! Arbitrary bytes as an ELF file: loading must never panic, and whatever
//! loads must run to a defined end (halt, out of gas or trap) within small
//! gas and memory limits, identically on both engines.
#![no_main]

use athena_vm::{CollectingEnvironment, Engine, Exit, Machine, MachineConfig, Program};
use libfuzzer_sys::fuzz_target;

const CONFIG: MachineConfig = MachineConfig { gas_limit: 20_000, memory_limit: 1 << 20 };

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_elf(data) else { return };
    let run = |engine| {
        // An image larger than the memory limit is refused here, not a bug.
        let mut machine = Machine::new(&program, CONFIG).ok()?;
        let mut env = CollectingEnvironment::with_input(b"fuzz".to_vec());
        let outcome = machine.run_with(engine, &mut env);
        Some((outcome, env, machine.registers().to_vec(), machine.pc()))
    };
    let reference = run(Engine::Reference);
    let fast = run(Engine::Fast);
    assert_eq!(reference, fast, "engines disagree");
    if let Some((outcome, ..)) = reference {
        assert!(outcome.gas_used <= CONFIG.gas_limit);
        if outcome.exit == Exit::OutOfGas {
            assert_eq!(outcome.gas_used, CONFIG.gas_limit);
        }
    }
});
