//! The differential harness shared by the fast-engine tests: run a program
//! on both engines and compare everything observable.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use athena_vm::memory::{PAGE_SIZE, STACK_TOP};
use athena_vm::{CollectingEnvironment, Engine, Machine, MachineConfig, Program, RegisterSet, Segment};
use rand::rngs::SmallRng;
use rand::Rng;

pub const CODE_BASE: u32 = 0x1_0000;
pub const DATA_BASE: u32 = 0x4_0000;
/// Read-only page right after the two writable data pages.
pub const RODATA: u32 = DATA_BASE + 0x2000;
/// Pages whose numbers equal the data pages' modulo every power of two up
/// to 2^20: they share the translation cache's entries with them.
pub const ALIAS_BASE: u32 = DATA_BASE + 0x10_0000;

/// FNV-1a (over words) digest of the allocated page count and of every allocated page
/// among the ones the test programs can reach: the data areas, the stack
/// top, and a page window around every final register value.
pub fn memory_digest(machine: &Machine<'_>) -> u64 {
    let memory = machine.memory();
    let mut pages: Vec<u32> = (0..8).map(|p| DATA_BASE + p * PAGE_SIZE).collect();
    pages.extend((0..8).map(|p| ALIAS_BASE + p * PAGE_SIZE));
    pages.push(STACK_TOP - PAGE_SIZE);
    for &r in machine.registers() {
        let page = r & !(PAGE_SIZE - 1);
        pages.extend([page.wrapping_sub(PAGE_SIZE), page, page.wrapping_add(PAGE_SIZE)]);
    }
    pages.sort_unstable();
    pages.dedup();
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(memory.allocated_pages());
    let mut bytes = vec![0u8; PAGE_SIZE as usize];
    for p in pages.into_iter().filter(|&p| memory.is_allocated(p)) {
        memory.read_bytes(p, &mut bytes);
        h = (h ^ u64::from(p)).wrapping_mul(0x100_0000_01b3);
        for word in bytes.chunks_exact(8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            h = (h ^ word).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Everything observable after a run.
#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    pub outcome: String,
    pub gas_used: u64,
    pub registers: Vec<u32>,
    pub pc: u32,
    pub output: CollectingEnvironment,
    pub memory: u64,
}

pub fn run(program: &Program, engine: Engine, gas: u64, memory_limit: u32) -> Observed {
    let mut machine = Machine::new(program, MachineConfig { gas_limit: gas, memory_limit }).expect("instantiate");
    let mut env = CollectingEnvironment::with_input(b"differential input bytes".to_vec());
    let outcome = machine.run_with(engine, &mut env);
    Observed {
        outcome: format!("{outcome:?}"),
        gas_used: outcome.gas_used,
        registers: machine.registers().to_vec(),
        pc: machine.pc(),
        output: env,
        memory: memory_digest(&machine),
    }
}

pub fn assert_same(program: &Program, gas: u64, memory_limit: u32, what: &str) {
    let reference = run(program, Engine::Reference, gas, memory_limit);
    let fast = run(program, Engine::Fast, gas, memory_limit);
    assert_eq!(reference.outcome, fast.outcome, "{what}: outcome differs");
    assert_eq!(reference.registers, fast.registers, "{what}: registers differ");
    assert_eq!(reference.output, fast.output, "{what}: output differs");
    // The pc after a halt or trap is part of the observable state too.
    assert_eq!(reference.pc, fast.pc, "{what}: pc differs");
    assert_eq!(reference.memory, fast.memory, "{what}: memory differs");
}

/// `words` at [`CODE_BASE`], next to the two writable data pages at
/// [`DATA_BASE`] and the read-only page at [`RODATA`].
pub fn program_with_data(regs: RegisterSet, words: &[u32]) -> Program {
    let data =
        Segment { vaddr: DATA_BASE, mem_size: 0x2000, data: vec![0x5a; 0x100], executable: false, writable: true };
    let rodata = Segment { vaddr: RODATA, mem_size: 0x100, data: vec![7; 0x100], executable: false, writable: false };
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let text = Segment { vaddr: CODE_BASE, mem_size: code.len() as u32, data: code, executable: true, writable: false };
    Program::from_segments(CODE_BASE, regs, vec![text, data, rodata]).expect("valid")
}

/// Checks both engines agree on [`program_with_data`] under several gas
/// and memory limits.
pub fn check_with_data(rng: &mut SmallRng, regs: RegisterSet, words: &[u32], what: &str) {
    let program = program_with_data(regs, words);
    // Several gas limits per program, so out-of-gas lands everywhere,
    // including inside runs and on page-allocation charges.
    for gas in [rng.gen_range(0..60), rng.gen_range(60..400), rng.gen_range(400..5000), 200_000] {
        let memory_limit = if rng.gen_bool(0.2) { 0x5000 } else { 1 << 20 };
        assert_same(&program, gas, memory_limit, &format!("{what} gas {gas} limit {memory_limit} words {words:08x?}"));
    }
}
