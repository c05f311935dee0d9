//! The example guests give identical results under the recompiler and the
//! reference interpreter (outcome, registers, pc, output), for both guest
//! targets, at full gas and at gas limits that stop them mid-run.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use athena_guest_builder::{example_elf, GuestTarget};
use athena_jit::JitProgram;
use athena_vm::{CollectingEnvironment, Machine, MachineConfig, Program};
use common::gas_used;

fn observe(
    program: &Program,
    jit: Option<&JitProgram>,
    input: &[u8],
    gas: u64,
) -> (String, Vec<u32>, u32, CollectingEnvironment) {
    let config = MachineConfig { gas_limit: gas, ..MachineConfig::default() };
    let mut machine = Machine::new(program, config).expect("instantiate");
    let mut env = CollectingEnvironment::with_input(input.to_vec());
    let outcome = match jit {
        Some(jit) => jit.run(&mut machine, &mut env),
        None => machine.run(&mut env),
    };
    (format!("{outcome:?}"), machine.registers().to_vec(), machine.pc(), env)
}

fn check(target: GuestTarget, name: &str, input: &[u8], limit: u64) {
    let path = example_elf(target, name).unwrap_or_else(|e| panic!("building example {name}: {e}"));
    let elf = std::fs::read(&path).expect("read elf");
    let program = Program::from_elf(&elf).expect("load");
    let jit = JitProgram::compile(&program).expect("compile");
    let full = observe(&program, None, input, limit);
    assert!(full.0.contains("Halted") || name == "panic" || name == "asm-loop", "{name}: {}", full.0);
    let used = gas_used(&full.0);
    // Full run, plus cut-offs spread over the run (out of gas mid-run).
    for gas in [limit, used, used.saturating_sub(1), used / 2, used / 3 + 7, used / 10 + 1, 100, 0] {
        let reference = if gas == limit { full.clone() } else { observe(&program, None, input, gas) };
        let native = observe(&program, Some(&jit), input, gas);
        assert_eq!(reference.0, native.0, "{name} {target:?} gas {gas}: outcome");
        assert_eq!(reference.1, native.1, "{name} {target:?} gas {gas}: registers");
        assert_eq!(reference.2, native.2, "{name} {target:?} gas {gas}: pc");
        assert_eq!(reference.3, native.3, "{name} {target:?} gas {gas}: output");
    }
}

#[test]
fn example_guests_match_reference() {
    for target in [GuestTarget::Rv32em, GuestTarget::Rv32im] {
        check(target, "fib", &20u32.to_le_bytes(), 1_000_000_000);
        check(target, "sieve", &30_000u32.to_le_bytes(), 1_000_000_000);
        check(target, "sha256", &[], 1_000_000_000);
        check(target, "hello", &[], 1_000_000_000);
        check(target, "panic", &[], 1_000_000_000);
        check(target, "exit-code", &[], 1_000_000_000);
        check(target, "asm-loop", &[], 3_000_000);
        check(target, "asm-hello", &[], 1_000_000_000);
    }
}
